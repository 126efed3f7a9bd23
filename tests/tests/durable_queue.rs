//! The durable local queue across real process deaths: a child process queues reports while
//! the emulator is unreachable and is killed (SIGKILL); a new process on the same file
//! delivers them, each counted once.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use kelviq::Kelviq;
use kelviq_mock::catalogue::FeatureKind;
use kelviq_mock::{Fault, FaultKind, Grant, MockServer};
use kelviq_tests::child::{deliver, queue, Keep, API_KEY};

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
        outcome, "delivered=4 dropped=0 unconfirmed=0 remaining=0",
        "the one in flight is taken out when the file is opened, not sent again"
    );
    assert_eq!(
        server.usage(CUSTOMER).get(FEATURE),
        Some(&5),
        "5 reports, 5 counted"
    );
    assert_eq!(usage_requests(&server), 5);
    std::fs::remove_dir_all(dir).unwrap();
}
