//! The durable local queue across real process deaths: a child process queues reports while
//! the emulator is unreachable and is killed (SIGKILL); a new process on the same file
//! delivers them, each counted once.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use kelviq::Kelviq;
use kelviq_mock::catalogue::FeatureKind;
use kelviq_mock::{Fault, FaultKind, Grant, MockServer};
use kelviq_tests::child::{deliver, queue, Child, Keep, API_KEY};

const CHILD: &str = env!("CARGO_BIN_EXE_kelviq_child");
const CUSTOMER: &str = "cust-durable";
const FEATURE: &str = "api-calls";

async fn emulator() -> MockServer {
    let server = MockServer::start().await.unwrap();
    let client = Kelviq::builder(API_KEY)
        .base_url(server.url())
        .build()
        .unwrap();
    client.customers().create(CUSTOMER).send().await.unwrap();
    server.grant(Grant {
        customer_id: CUSTOMER.into(),
        feature_id: FEATURE.into(),
        feature_type: FeatureKind::Meter,
        usage_limit: None,
        hard_limit: None,
    });
    server
}

fn queue_file() -> (PathBuf, PathBuf) {
    let dir = std::env::temp_dir().join(format!("kelviq-durable-{}", uuid_like()));
    (dir.join("queue.redb"), dir)
}

fn uuid_like() -> String {
    format!(
        "{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    )
}

fn usage_requests(server: &MockServer) -> usize {
    server
        .requests()
        .iter()
        .filter(|r| r.path == "/api/v1/report/usage/")
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reports_queued_by_a_killed_process_are_delivered_once_by_the_next() {
    let server = emulator().await;
    let (path, dir) = queue_file();
    server.go_offline();

    // Nothing is sent while it lives: its sender would first try again in an hour.
    let mut child = queue(
        CHILD,
        &server.url(),
        Keep::File(&path),
        (CUSTOMER, FEATURE),
        25,
        3600000,
    );
    child.kill();

    server.go_online().await.unwrap();
    assert_eq!(usage_requests(&server), 0, "the dead process sent nothing");
    let outcome = deliver(CHILD, &server.url(), Keep::File(&path)).await;
    assert_eq!(outcome, "delivered=25 dropped=0 unconfirmed=0 remaining=0");
    assert_eq!(server.usage(CUSTOMER).get(FEATURE), Some(&25));
    assert_eq!(usage_requests(&server), 25, "each report sent once");

    // The file is empty now: a third process finds nothing to send.
    let again = deliver(CHILD, &server.url(), Keep::File(&path)).await;
    assert_eq!(again, "delivered=0 dropped=0 unconfirmed=0 remaining=0");
    assert_eq!(usage_requests(&server), 25);
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delta_in_flight_when_its_process_died_is_not_sent_again() {
    let server = emulator().await;
    let (path, dir) = queue_file();
    server.go_offline();

    // Its sender tries again every 50 ms, so it sends as soon as the emulator is back.
    let mut child = queue(
        CHILD,
        &server.url(),
        Keep::File(&path),
        (CUSTOMER, FEATURE),
        5,
        50,
    );
    // The first report is counted, and its answer held back: the process dies waiting.
    server
        .inject(Fault::new(
            "reportUsage",
            1,
            FaultKind::DelayAnswer { ms: 60_000 },
        ))
        .unwrap();
    server.go_online().await.unwrap();
    let counted = Instant::now();
    while server.usage(CUSTOMER).get(FEATURE) != Some(&1) {
        assert!(
            counted.elapsed() < Duration::from_secs(30),
            "the child never sent"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    child.kill();
    server.clear_faults();

    let outcome = deliver(CHILD, &server.url(), Keep::File(&path)).await;
    assert_eq!(
        outcome, "delivered=4 dropped=0 unconfirmed=1 remaining=0",
        "the one in flight is taken out when the file is opened (and counted), not sent again"
    );
    assert_eq!(
        server.usage(CUSTOMER).get(FEATURE),
        Some(&5),
        "5 reports, 5 counted"
    );
    assert_eq!(usage_requests(&server), 5);
    std::fs::remove_dir_all(dir).unwrap();
}

/// Issue 14, finding 9: a kill during an outage, while the background sender keeps finding
/// the service unreachable (each `DELTA` marked as being sent in the file, then unmarked
/// when the connection is refused), loses no more than the one report whose mark was on
/// disk at the kill, and that one is counted unconfirmed: never `concurrency` of them,
/// never silently.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kill_during_an_outage_drops_no_never_sent_delta_uncounted() {
    let server = emulator().await;
    let url = server.url();
    const REPORTS: usize = 20;
    let mut delivered_total = 0;
    for (round, wait_ms) in [30_u64, 60, 90, 130, 170, 220, 260, 330, 410, 500]
        .into_iter()
        .enumerate()
    {
        let (path, dir) = queue_file();
        server.go_offline();
        // The sender tries again every 10 ms, never pausing longer: each try marks a DELTA
        // in the file, meets a refused connection and unmarks it.
        let mut child = Child::spawn(
            CHILD,
            &[
                "queue",
                &format!("url={url}"),
                &format!("path={}", path.display()),
                &format!("customer={CUSTOMER}"),
                &format!("feature={FEATURE}"),
                &format!("reports={REPORTS}"),
                "retry_ms=10",
                "max_retry_ms=10",
            ],
        );
        assert_eq!(
            child.line(Duration::from_secs(30)),
            format!("queued {REPORTS}")
        );
        tokio::time::sleep(Duration::from_millis(wait_ms)).await;
        child.kill();
        server.go_online().await.unwrap();
        let line = deliver(CHILD, &url, Keep::File(&path)).await;
        let number = |key: &str| -> usize {
            line.split_whitespace()
                .find_map(|part| part.strip_prefix(&format!("{key}=")))
                .unwrap_or_else(|| panic!("{key} in {line:?}"))
                .parse()
                .unwrap()
        };
        let (delivered, unconfirmed, remaining) = (
            number("delivered"),
            number("unconfirmed"),
            number("remaining"),
        );
        assert_eq!(
            (delivered + unconfirmed, remaining),
            (REPORTS, 0),
            "round {round} (killed after {wait_ms} ms): every report delivered or counted: {line}"
        );
        assert!(
            unconfirmed <= 1,
            "round {round} (killed after {wait_ms} ms): at most the one report on its way is \
             at stake while the service is unreachable: {line}"
        );
        delivered_total += delivered;
        assert_eq!(
            server.usage(CUSTOMER).get(FEATURE).copied().unwrap_or(0) as usize,
            delivered_total,
            "round {round}: each delivered once"
        );
        std::fs::remove_dir_all(dir).unwrap();
    }
}

/// Finding 9: a removal the file could not write. A child keeps `SET 5` then `SET 7` of one
/// lane in its file while Kelviq is down; then its file can no longer be written (its
/// `RLIMIT_FSIZE` set to 0 with `prlimit`: every write fails with `EFBIG`, as on a full
/// disk) and Kelviq comes back. `SET 5` is delivered but its removal is not on disk. Before
/// the fix the lane moved on and `SET 7` was sent; killed then, the next process found both
/// in the file and sent `SET 5` again after `SET 7`. Now the lane waits until the removal
/// is written: whatever the next process sends again, no `SET` lands after a newer one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_removal_the_file_could_not_write_holds_its_lane() {
    if std::process::Command::new("prlimit")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("prlimit (util-linux) is not installed: skipped");
        return;
    }
    let server = emulator().await;
    let url = server.url();
    let (path, dir) = queue_file();
    server.go_offline();
    // The shell ignores SIGXFSZ, and the child inherits that through `exec`: a write past
    // the limit fails with EFBIG instead of killing the process.
    let mut child = Child::spawn(
        "sh",
        &[
            "-c",
            "trap '' XFSZ; exec \"$0\" \"$@\"",
            CHILD,
            "queue",
            &format!("url={url}"),
            &format!("path={}", path.display()),
            &format!("customer={CUSTOMER}"),
            &format!("feature={FEATURE}"),
            "values=5,7",
            "behaviour=SET",
            "retry_ms=100",
            "max_retry_ms=100",
        ],
    );
    assert_eq!(child.line(Duration::from_secs(30)), "queued 2");
    let limited = std::process::Command::new("prlimit")
        .args(["--pid", &child.id().to_string(), "--fsize=0:"])
        .status()
        .unwrap();
    assert!(limited.success(), "prlimit --fsize=0 on the child");
    server.go_online().await.unwrap();
    // Its sender tries every 100 ms: time for SET 5 and, before the fix, SET 7.
    let started = Instant::now();
    while applied(&server).is_empty() && started.elapsed() < Duration::from_secs(10) {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    let before_kill = applied(&server);
    child.kill();
    assert_eq!(
        before_kill,
        [5],
        "SET 7 waits until SET 5 is out of the file"
    );
    let line = deliver(CHILD, &url, Keep::File(&path)).await;
    let _ = std::fs::remove_dir_all(dir);
    let applied = applied(&server);
    eprintln!("next process: {line}; applied: {applied:?}");
    assert!(
        applied.windows(2).all(|pair| pair[0] <= pair[1]),
        "no SET lands after a newer one: {applied:?}"
    );
    assert_eq!(
        applied.last(),
        Some(&7),
        "the last SET made is the last applied"
    );
}

/// The values Kelviq applied for [`CUSTOMER`], in order.
fn applied(server: &MockServer) -> Vec<i64> {
    server
        .applied_usage()
        .iter()
        .filter(|a| a.customer_id == CUSTOMER)
        .map(|a| a.value)
        .collect()
}
