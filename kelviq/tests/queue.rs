//! Offline reporting against an emulator that goes away and comes back with its state, a
//! black-holed address, and faults that apply a report and then fail: nothing lost, nothing
//! counted twice, nothing stalled.

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::API_KEY;
use kelviq::{Behaviour, Client, Delivery, ErrorKind, Kelviq, QueueConfig, Reached, RetryPolicy};
use kelviq_mock::{Fault, FaultKind, MockServer};

const PATIENT: Duration = Duration::from_secs(3600);

async fn setup(queue: QueueConfig) -> (MockServer, Client) {
    let server = MockServer::start().await.unwrap();
    let client = Kelviq::builder(API_KEY)
        .base_url(server.url())
        .retry_policy(RetryPolicy::none())
        .connect_timeout(Duration::from_millis(300))
        .offline_queue(queue)
        .build()
        .unwrap();
    client.customers().create("cust").send().await.unwrap();
    (server, client)
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

async fn usage(
    client: &Client,
    value: i64,
    behaviour: Behaviour,
) -> Delivery<kelviq::model::UsageReport> {
    client
        .reporting()
        .report_usage(value, "cust", "api-usage", behaviour)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn reports_queued_while_unreachable_are_delivered_in_order_and_counted_once() {
    let (server, client) = setup(QueueConfig::default().retry_interval(PATIENT)).await;
    offline(&server).await;

    let mut queued = Vec::new();
    for value in 1..=5 {
        queued.push(usage(&client, value, Behaviour::Delta).await);
    }
    let event = client
        .reporting()
        .report_event("cust", "api_invoked")
        .property("featureId", "api-usage")
        .property("value", 100)
        .send()
        .await
        .unwrap();
    assert_eq!(
        queued,
        (1..=5)
            .map(|waiting| Delivery::Queued { waiting })
            .collect::<Vec<_>>(),
        "each caller is told its report was queued"
    );
    assert_eq!(event, Delivery::Queued { waiting: 6 });
    assert_eq!(client.queued_reports(), 6);

    server.go_online().await.unwrap();
    let flushed = client.flush().await;
    assert_eq!(
        (flushed.delivered, flushed.dropped, flushed.remaining),
        (6, 0, 0)
    );
    let bodies = reports(&server);
    let deltas: Vec<_> = bodies
        .iter()
        .filter_map(|b| b.get("value").and_then(|v| v.as_i64()))
        .collect();
    assert_eq!(
        deltas,
        [1, 2, 3, 4, 5],
        "one lane, in the order they were made"
    );
    assert_eq!(bodies.len(), 6, "each once");
    assert_eq!(server.usage("cust")["api-usage"], 115);
}

#[tokio::test]
async fn a_new_report_waits_behind_the_backlog_without_touching_the_network() {
    let (server, client) = setup(QueueConfig::default().retry_interval(PATIENT)).await;
    offline(&server).await;
    assert!(usage(&client, 7, Behaviour::Set).await.is_queued());
    server.go_online().await.unwrap();
    server.clear_requests();

    // The service is back, but the backlog has not been delivered yet: the next report
    // joins it rather than overtaking it.
    let second = usage(&client, 3, Behaviour::Delta).await;
    assert_eq!(second, Delivery::Queued { waiting: 2 });
    assert!(reports(&server).is_empty(), "no request was made for it");

    let flushed = client.flush().await;
    assert_eq!((flushed.delivered, flushed.remaining), (2, 0));
    let values: Vec<_> = reports(&server)
        .iter()
        .map(|b| b["value"].as_i64().unwrap())
        .collect();
    assert_eq!(values, [7, 3], "SET then DELTA, as made");
    assert_eq!(server.usage("cust")["api-usage"], 10);
}

#[tokio::test]
async fn the_background_sender_delivers_while_the_client_lives() {
    let (server, client) =
        setup(QueueConfig::default().retry_interval(Duration::from_millis(50))).await;
    offline(&server).await;
    assert!(usage(&client, 4, Behaviour::Delta).await.is_queued());
    server.go_online().await.unwrap();
    for _ in 0..200 {
        if client.queued_reports() == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(client.queued_reports(), 0);
    assert_eq!(server.usage("cust")["api-usage"], 4);
}

#[tokio::test]
async fn a_queued_delta_applied_and_then_answered_5xx_is_counted_once() {
    let (server, client) = setup(QueueConfig::default().retry_interval(PATIENT)).await;
    offline(&server).await;
    assert!(usage(&client, 9, Behaviour::Delta).await.is_queued());
    assert!(usage(&client, 1, Behaviour::Delta).await.is_queued());
    server.go_online().await.unwrap();

    server
        .inject(Fault::new(
            "reportUsage",
            1,
            FaultKind::ApplyThenStatus { status: 502 },
        ))
        .unwrap();
    let flushed = client.flush().await;
    assert_eq!(
        (flushed.delivered, flushed.unconfirmed, flushed.remaining),
        (1, 1, 0),
        "the unanswered DELTA left the queue unconfirmed"
    );
    let again = client.flush().await;
    assert_eq!(again.delivered + again.unconfirmed, 0, "nothing is resent");
    assert_eq!(reports(&server).len(), 2);
    assert_eq!(
        server.usage("cust")["api-usage"],
        10,
        "9 counted once, then 1"
    );
}

#[tokio::test]
async fn a_queued_set_answered_503_is_kept_and_delivered_later() {
    let (server, client) = setup(QueueConfig::default().retry_interval(PATIENT)).await;
    offline(&server).await;
    assert!(usage(&client, 9, Behaviour::Set).await.is_queued());
    server.go_online().await.unwrap();

    server
        .inject(Fault::new("reportUsage", 1, FaultKind::status(503)))
        .unwrap();
    let flushed = client.flush().await;
    assert_eq!(
        (flushed.delivered, flushed.remaining),
        (0, 1),
        "kept after the 503"
    );
    let flushed = client.flush().await;
    assert_eq!((flushed.delivered, flushed.remaining), (1, 0));
    assert_eq!(server.usage("cust")["api-usage"], 9);
}

#[tokio::test]
async fn a_queued_report_the_service_refuses_is_dropped_with_a_reason() {
    let (server, client) = setup(QueueConfig::default().retry_interval(PATIENT)).await;
    offline(&server).await;
    let refused = client
        .reporting()
        .report_usage(1, "nobody", "api-usage", Behaviour::Delta)
        .send()
        .await
        .unwrap();
    let kept = usage(&client, 2, Behaviour::Delta).await;
    assert!(refused.is_queued() && kept.is_queued());
    server.go_online().await.unwrap();
    let flushed = client.flush().await;
    assert_eq!(
        (flushed.delivered, flushed.dropped, flushed.remaining),
        (1, 1, 0)
    );
    assert_eq!(server.usage("cust")["api-usage"], 2);
}

#[tokio::test]
async fn a_full_queue_is_an_error() {
    let (server, client) = setup(QueueConfig::default().capacity(2).retry_interval(PATIENT)).await;
    offline(&server).await;
    for _ in 0..2 {
        let delivery = client
            .reporting()
            .report_event("cust", "login")
            .send()
            .await
            .unwrap();
        assert!(delivery.is_queued());
    }
    let error = client
        .reporting()
        .report_event("cust", "login")
        .send()
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::QueueFull, "{error:?}");
    assert_eq!(error.reached(), Reached::No);
    assert!(error.to_string().contains("not queued"), "{error}");
    assert!(
        error.to_string().starts_with("reporting.report_event: "),
        "{error}"
    );
    assert_eq!(client.queued_reports(), 2);
}

#[tokio::test]
async fn a_delta_whose_delivery_is_unknown_is_an_error_not_a_queue_entry() {
    let (server, client) = setup(QueueConfig::default()).await;
    server
        .inject(Fault::new("reportUsage", 1, FaultKind::Drop))
        .unwrap();
    let error = client
        .reporting()
        .report_usage(5, "cust", "api-usage", Behaviour::Delta)
        .send()
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Connection, "{error:?}");
    assert!(error.is_unconfirmed());
    assert_eq!(client.queued_reports(), 0);
}

#[tokio::test]
async fn set_and_events_against_a_black_holed_api_are_queued_within_the_connect_time_out() {
    let (server, client) = setup(QueueConfig::default().retry_interval(PATIENT)).await;
    server.go_black_hole().await.unwrap();

    let started = Instant::now();
    let set = usage(&client, 5, Behaviour::Set).await;
    let first = started.elapsed();
    assert_eq!(set, Delivery::Queued { waiting: 1 });
    assert!(
        first >= Duration::from_millis(300) && first < Duration::from_millis(1500),
        "one connect time-out (300 ms), not several: {first:?}"
    );

    // Known down now: the next reports queue without waiting on the network at all.
    let started = Instant::now();
    let event = client
        .reporting()
        .report_event("cust", "login")
        .send()
        .await
        .unwrap();
    let delta = usage(&client, 1, Behaviour::Delta).await;
    assert!(event.is_queued() && delta.is_queued());
    assert!(
        started.elapsed() < Duration::from_millis(300),
        "no connect attempt: {:?}",
        started.elapsed()
    );

    server.go_online().await.unwrap();
    let report = client.shutdown(Duration::from_secs(10)).await;
    assert_eq!((report.delivered, report.remaining), (3, 0));
    assert_eq!(server.usage("cust")["api-usage"], 6, "SET 5, then DELTA 1");
}

#[tokio::test]
async fn shutdown_delivers_every_queued_report_once_the_service_is_back() {
    let (server, client) =
        setup(QueueConfig::default().retry_interval(Duration::from_millis(50))).await;
    offline(&server).await;
    for _ in 0..50 {
        assert!(usage(&client, 1, Behaviour::Delta).await.is_queued());
    }
    // The service comes back while shutdown is already trying.
    let back = {
        let server = &server;
        async move {
            tokio::time::sleep(Duration::from_millis(300)).await;
            server.go_online().await.unwrap();
        }
    };
    let (report, ()) = tokio::join!(client.shutdown(Duration::from_secs(10)), back);
    assert_eq!((report.delivered, report.remaining), (50, 0), "{report:?}");
    assert_eq!(server.usage("cust")["api-usage"], 50);
    assert_eq!(reports(&server).len(), 50, "each once");
}

#[tokio::test]
async fn shutdown_says_what_is_left_when_the_service_stays_away() {
    let (server, client) =
        setup(QueueConfig::default().retry_interval(Duration::from_millis(50))).await;
    offline(&server).await;
    for _ in 0..3 {
        assert!(usage(&client, 1, Behaviour::Delta).await.is_queued());
    }
    let started = Instant::now();
    let report = client.shutdown(Duration::from_millis(500)).await;
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert_eq!((report.delivered, report.remaining), (0, 3));
}

#[tokio::test]
async fn a_backlog_drains_side_by_side_and_keeps_each_lane_in_order() {
    let (server, client) = setup(
        QueueConfig::default()
            .retry_interval(PATIENT)
            .concurrency(8),
    )
    .await;
    for customer in ["a", "b", "c"] {
        client.customers().create(customer).send().await.unwrap();
    }
    offline(&server).await;
    for round in 1..=10 {
        for customer in ["a", "b", "c"] {
            let delivery = client
                .reporting()
                .report_usage(round, customer, "api-usage", Behaviour::Set)
                .send()
                .await
                .unwrap();
            assert!(delivery.is_queued());
        }
    }
    server.go_online().await.unwrap();
    let flushed = client.flush().await;
    assert_eq!((flushed.delivered, flushed.remaining), (30, 0));
    for customer in ["a", "b", "c"] {
        let sets: Vec<i64> = reports(&server)
            .iter()
            .filter(|b| b["customerId"] == customer)
            .map(|b| b["value"].as_i64().unwrap())
            .collect();
        assert_eq!(sets, (1..=10).collect::<Vec<_>>(), "customer {customer}");
        assert_eq!(server.usage(customer)["api-usage"], 10, "the last SET wins");
    }
}

#[test]
fn the_sender_starts_again_on_a_new_runtime_when_its_own_went_away() {
    // The emulator on a runtime of its own, which lives through the test.
    let emulator = tokio::runtime::Runtime::new().unwrap();
    let server = emulator.block_on(MockServer::start()).unwrap();
    let client = Kelviq::builder(API_KEY)
        .base_url(server.url())
        .retry_policy(RetryPolicy::none())
        .offline_queue(QueueConfig::default().retry_interval(Duration::from_millis(50)))
        .build()
        .unwrap();

    // The first runtime queues a report, starts the sender, and goes away with it.
    let first = tokio::runtime::Runtime::new().unwrap();
    first.block_on(async {
        client.customers().create("cust").send().await.unwrap();
        offline(&server).await;
        assert!(usage(&client, 2, Behaviour::Delta).await.is_queued());
    });
    drop(first);
    assert_eq!(client.queued_reports(), 1);

    // On a second runtime, the next report restarts the sender, which delivers both.
    let second = tokio::runtime::Runtime::new().unwrap();
    second.block_on(async {
        server.go_online().await.unwrap();
        assert!(usage(&client, 3, Behaviour::Delta).await.is_queued());
        for _ in 0..200 {
            if client.queued_reports() == 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    });
    assert_eq!(client.queued_reports(), 0);
    assert_eq!(server.usage("cust")["api-usage"], 5);
}

#[test]
fn dropping_a_client_with_reports_waiting_logs_how_many_at_error_level() {
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);
    impl std::io::Write for Captured {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::ERROR)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    // One thread: the subscriber above is this thread's, and on a worker thread the
    // background sender, between two looks at the queue, may hold the last reference to the
    // client's core when it is dropped, and log there (seen once in CI).
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let (server, client) = setup(QueueConfig::default().retry_interval(PATIENT)).await;
        offline(&server).await;
        for _ in 0..3 {
            assert!(usage(&client, 1, Behaviour::Delta).await.is_queued());
        }
        drop(client);
    });
    let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(log.contains("ERROR"), "{log}");
    assert!(log.contains("waiting=3"), "{log}");
    assert!(log.contains("shutdown()"), "{log}");
}

#[test]
#[cfg(feature = "blocking")]
fn the_blocking_client_queues_and_shuts_down_the_same_way() {
    let h = common::Harness::new();
    h.blocking.customers().create("cust").send().unwrap();
    h.server.go_offline();
    std::thread::sleep(Duration::from_millis(200));
    let queued = h
        .blocking
        .reporting()
        .report_usage(6, "cust", "api-usage", Behaviour::Delta)
        .send()
        .unwrap();
    assert_eq!(queued, Delivery::Queued { waiting: 1 });
    h.run(h.server.go_online()).unwrap();
    let report = h.blocking.shutdown(Duration::from_secs(5)).unwrap();
    assert_eq!((report.delivered, report.remaining), (1, 0));
    assert_eq!(h.server.usage("cust")["api-usage"], 6);
}
