//! The offline queue against the answers that are easy to get wrong: a flush cancelled
//! while it sends, a 200 that came from a captive portal rather than from Kelviq, a proxy's
//! redirect or error page, an unauthorized key, a bad request about one report, and a
//! shutdown while another pass is stuck sending. Nothing lost, nothing counted twice,
//! nothing wedged.

mod common;

use std::time::{Duration, Instant};

use common::API_KEY;
use kelviq::{Behaviour, Client, Delivery, Kelviq, QueueConfig, RetryPolicy};
use kelviq_mock::{Fault, FaultKind, MockServer};

const PATIENT: Duration = Duration::from_secs(3600);
const PORTAL: &str = "<html><body>captive portal: please sign in</body></html>";

async fn setup() -> (MockServer, Client) {
    let server = MockServer::start().await.unwrap();
    let client = Kelviq::builder(API_KEY)
        .base_url(server.url())
        .retry_policy(RetryPolicy::none())
        .connect_timeout(Duration::from_millis(300))
        .offline_queue(QueueConfig::default().retry_interval(PATIENT))
        .build()
        .unwrap();
    client.customers().create("cust").send().await.unwrap();
    (server, client)
}

/// Creates more customers, each its own lane of the queue.
async fn customers(client: &Client, ids: &[&str]) {
    for id in ids {
        client.customers().create(*id).send().await.unwrap();
    }
}

async fn offline(server: &MockServer) {
    server.go_offline();
    // Let the client's pooled connection see that it was closed.
    tokio::time::sleep(Duration::from_millis(200)).await;
}

fn reports(server: &MockServer) -> Vec<serde_json::Value> {
    server
        .requests()
        .into_iter()
        .filter(|r| matches!(r.operation.as_deref(), Some("reportUsage" | "reportEvent")))
        .map(|r| r.body)
        .collect()
}

/// The emulator's usage of "api-usage" for `customer` (0 when nothing was recorded).
fn used(server: &MockServer, customer: &str) -> i64 {
    server
        .usage(customer)
        .get("api-usage")
        .copied()
        .unwrap_or(0)
}

async fn report(
    client: &Client,
    customer: &str,
    value: i64,
    behaviour: Behaviour,
) -> Delivery<kelviq::model::UsageReport> {
    client
        .reporting()
        .report_usage(value, customer, "api-usage", behaviour)
        .send()
        .await
        .unwrap()
}

/// A status answered with an HTML page, as a proxy or captive portal would.
fn html(status: u16) -> FaultKind {
    FaultKind::Status {
        status,
        retry_after: None,
        body: Some(PORTAL.to_owned()),
        after_ms: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_flush_does_not_wedge_the_queue() {
    let (server, client) = setup().await;
    offline(&server).await;
    assert_eq!(
        report(&client, "cust", 1, Behaviour::Set).await,
        Delivery::Queued { waiting: 1 }
    );
    assert_eq!(
        report(&client, "cust", 2, Behaviour::Set).await,
        Delivery::Queued { waiting: 2 }
    );
    server.go_online().await.unwrap();
    server
        .inject(Fault::new("reportUsage", 2, FaultKind::Delay { ms: 2000 }))
        .unwrap();

    // Dropping the flush leaves its send to finish (2 s on): it settles its report and
    // frees the lane, so the shutdown delivers the rest.
    let cancelled = tokio::time::timeout(Duration::from_millis(200), client.flush()).await;
    assert!(
        cancelled.is_err(),
        "the flush was stuck on the delayed send and was cancelled: {cancelled:?}"
    );

    server.clear_faults();
    let started = Instant::now();
    let report = tokio::time::timeout(
        Duration::from_secs(12),
        client.shutdown(Duration::from_secs(8)),
    )
    .await
    .unwrap_or_else(|_| {
        panic!(
            "shutdown did not return within 12 s after a cancelled flush ({:?})",
            started.elapsed()
        )
    });
    assert_eq!(
        (report.dropped, report.remaining),
        (0, 0),
        "everything delivered after the cancelled flush: {report:?}"
    );
    assert_eq!(client.queued_reports(), 0);
    assert_eq!(used(&server, "cust"), 2, "the last SET wins");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_200_that_is_not_kelviqs_answer_is_not_delivered() {
    let (server, client) = setup().await;
    offline(&server).await;
    assert!(report(&client, "cust", 9, Behaviour::Set).await.is_queued());
    server.go_online().await.unwrap();

    server
        .inject(Fault::new("reportUsage", 1, html(200)))
        .unwrap();
    let flushed = client.flush().await;
    assert_eq!(
        (flushed.delivered, flushed.dropped, flushed.remaining),
        (0, 0, 1),
        "a captive portal's 200 is no delivery; the SET is kept: {flushed:?}"
    );
    assert_eq!(client.queued_reports(), 1);
    assert_eq!(used(&server, "cust"), 0, "the portal did not record it");

    let flushed = client.flush().await;
    assert_eq!(
        (flushed.delivered, flushed.dropped, flushed.remaining),
        (1, 0, 0),
        "{flushed:?}"
    );
    assert_eq!(used(&server, "cust"), 9);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_queued_delta_answered_by_a_proxy_page_is_unconfirmed_not_delivered() {
    let (server, client) = setup().await;
    offline(&server).await;
    assert!(report(&client, "cust", 4, Behaviour::Delta)
        .await
        .is_queued());
    server.go_online().await.unwrap();

    server
        .inject(Fault::new("reportUsage", 1, html(200)))
        .unwrap();
    let flushed = client.flush().await;
    assert_eq!(
        (
            flushed.delivered,
            flushed.dropped,
            flushed.unconfirmed,
            flushed.remaining
        ),
        (0, 0, 1, 0),
        "it may have reached Kelviq through the proxy: unconfirmed, not delivered, not resent: {flushed:?}"
    );
    let again = client.flush().await;
    assert_eq!(again.delivered + again.unconfirmed, 0, "nothing is resent");
    assert_eq!(reports(&server).len(), 1, "sent once");
    // The fault replaced the answer without serving the request; the SDK cannot know that.
    assert_eq!(used(&server, "cust"), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_proxy_redirect_or_not_found_keeps_the_queue() {
    for status in [302, 404, 408] {
        let (server, client) = setup().await;
        customers(&client, &["cust2"]).await;
        offline(&server).await;
        assert!(report(&client, "cust", 5, Behaviour::Set).await.is_queued());
        assert!(report(&client, "cust2", 6, Behaviour::Set)
            .await
            .is_queued());
        server.go_online().await.unwrap();

        server
            .inject(Fault::new("reportUsage", 1, html(status)))
            .unwrap();
        let flushed = client.flush().await;
        assert_eq!(
            flushed.dropped, 0,
            "a {status} page from a proxy drops nothing: {flushed:?}"
        );
        assert!(
            flushed.remaining >= 1,
            "the report answered {status} is kept: {flushed:?}"
        );

        let flushed = client.flush().await;
        assert_eq!(
            (flushed.dropped, flushed.remaining),
            (0, 0),
            "after the {status}, the next flush delivers everything: {flushed:?}"
        );
        assert_eq!(used(&server, "cust"), 5, "after a {status}");
        assert_eq!(used(&server, "cust2"), 6, "after a {status}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unauthorized_answer_stops_the_pass_and_keeps_every_report() {
    let (server, client) = setup().await;
    customers(&client, &["cust2", "cust3"]).await;
    offline(&server).await;
    for (value, customer) in ["cust", "cust2", "cust3"].into_iter().enumerate() {
        assert!(report(&client, customer, value as i64 + 1, Behaviour::Set)
            .await
            .is_queued());
    }
    server.go_online().await.unwrap();

    server
        .inject(Fault::new("reportUsage", 10, FaultKind::status(401)))
        .unwrap();
    let flushed = client.flush().await;
    assert_eq!(
        (flushed.delivered, flushed.dropped, flushed.remaining),
        (0, 0, 3),
        "a 401 is about the key, not the reports: every one is kept: {flushed:?}"
    );
    assert_eq!(client.queued_reports(), 3);

    server.clear_faults();
    let flushed = client.flush().await;
    assert_eq!(
        (flushed.delivered, flushed.dropped, flushed.remaining),
        (3, 0, 0),
        "{flushed:?}"
    );
    for (value, customer) in ["cust", "cust2", "cust3"].into_iter().enumerate() {
        assert_eq!(used(&server, customer), value as i64 + 1, "{customer}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_request_about_one_report_drops_only_that_report() {
    let (server, client) = setup().await;
    customers(&client, &["cust2"]).await;
    offline(&server).await;
    assert!(report(&client, "cust", 5, Behaviour::Set).await.is_queued());
    assert!(report(&client, "cust2", 6, Behaviour::Set)
        .await
        .is_queued());
    server.go_online().await.unwrap();

    server
        .inject(Fault::new("reportUsage", 1, FaultKind::status(400)))
        .unwrap();
    let flushed = client.flush().await;
    assert_eq!(
        (flushed.delivered, flushed.dropped, flushed.remaining),
        (1, 1, 0),
        "{flushed:?}"
    );
    // The 400 answered whichever report came first; the other was recorded.
    let recorded = (used(&server, "cust"), used(&server, "cust2"));
    assert!(
        recorded == (5, 0) || recorded == (0, 6),
        "exactly one of the two SETs recorded: {recorded:?}"
    );
    assert_eq!(reports(&server).len(), 2, "each sent once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_returns_within_its_deadline_while_another_pass_is_sending() {
    let (server, client) = setup().await;
    offline(&server).await;
    assert!(report(&client, "cust", 3, Behaviour::Set).await.is_queued());
    server.go_online().await.unwrap();
    server
        .inject(Fault::new("reportUsage", 1, FaultKind::Delay { ms: 5000 }))
        .unwrap();

    let stuck = {
        let client = client.clone();
        tokio::spawn(async move { client.flush().await })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(!stuck.is_finished(), "the first pass is held by the delay");

    let started = Instant::now();
    let report = tokio::time::timeout(
        Duration::from_secs(3),
        client.shutdown(Duration::from_millis(500)),
    )
    .await;
    assert!(
        report.is_ok(),
        "shutdown(500 ms) did not return within 3 s while another pass was sending ({:?})",
        started.elapsed()
    );
    stuck.abort();
}

/// A report made with `behaviour` on a client whose background sender runs on a runtime of
/// its own, sent by that sender to an emulator that answers as `fault`; once the send is
/// under way that runtime shuts down. Returns the runtime left, the emulator and the client.
fn sent_when_its_runtime_shuts_down(
    behaviour: Behaviour,
    fault: FaultKind,
) -> (tokio::runtime::Runtime, MockServer, Client) {
    let applies_first = matches!(fault, FaultKind::DelayAnswer { .. });
    let main = tokio::runtime::Runtime::new().unwrap();
    let server = main.block_on(MockServer::start()).unwrap();
    let doomed = tokio::runtime::Runtime::new().unwrap();
    let client = doomed.block_on(async {
        // Connections the dead runtime drove fail on first use: the next pass comes soon.
        let client = Kelviq::builder(API_KEY)
            .base_url(server.url())
            .retry_policy(RetryPolicy::none())
            .connect_timeout(Duration::from_millis(300))
            .offline_queue(QueueConfig::default().retry_interval(Duration::from_millis(100)))
            .build()
            .unwrap();
        client.customers().create("cust").send().await.unwrap();
        offline(&server).await;
        // Queued: the background sender starts on this runtime.
        assert!(report(&client, "cust", 4, behaviour).await.is_queued());
        server.inject(Fault::new("reportUsage", 1, fault)).unwrap();
        server.go_online().await.unwrap();
        client
    });
    // A fault that applies the report before holding its answer: the runtime goes only once
    // the report is applied (a request logged may still be cut off before it is, on a busy
    // machine, and then nothing was counted).
    let started = Instant::now();
    while reports(&server).is_empty() || (applies_first && server.applied_usage().is_empty()) {
        assert!(started.elapsed() < Duration::from_secs(10), "never sent");
        std::thread::sleep(Duration::from_millis(10));
    }
    doomed.shutdown_timeout(Duration::ZERO);
    (main, server, client)
}

/// Issue 14, finding 3: the runtime the background sender runs on shuts down while it
/// sends. The report it was sending is handed back (a `SET`, which may go again), not left
/// in a lane marked busy for ever: a shutdown on another runtime delivers it.
#[test]
fn a_runtime_shut_down_mid_send_leaves_the_queue_usable() {
    let (main, server, client) =
        sent_when_its_runtime_shuts_down(Behaviour::Set, FaultKind::Delay { ms: 3_000 });
    let report = main.block_on(client.shutdown(Duration::from_secs(5)));
    assert_eq!(
        (report.delivered, report.remaining),
        (1, 0),
        "delivered after the runtime went away: {report:?}"
    );
    assert_eq!(used(&server, "cust"), 4);
}

/// The same with a `DELTA`: it may have been counted, so it is taken out, counted as
/// unconfirmed in the client's totals, and never sent again.
#[test]
fn a_delta_whose_runtime_shut_down_mid_send_is_counted_unconfirmed_not_resent() {
    let (main, server, client) =
        sent_when_its_runtime_shuts_down(Behaviour::Delta, FaultKind::DelayAnswer { ms: 3_000 });
    let report = main.block_on(client.shutdown(Duration::from_secs(2)));
    assert_eq!(report.remaining, 0, "{report:?}");
    let totals = main.block_on(client.queue_totals());
    assert_eq!(
        (totals.delivered, totals.unconfirmed, totals.remaining),
        (0, 1, 0),
        "{totals:?}"
    );
    assert_eq!(reports(&server).len(), 1, "never sent again");
    assert_eq!(used(&server, "cust"), 4, "applied once, as it arrived");
}
