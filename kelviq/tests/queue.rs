//! Offline reporting against an emulator that goes away and comes back with its state.

mod common;

use std::time::Duration;

use common::API_KEY;
use kelviq::{Behaviour, Client, Delivery, Error, Kelviq, QueueConfig, RetryPolicy};
use kelviq_mock::{Fault, FaultKind, MockServer};

async fn setup(queue: QueueConfig) -> (MockServer, Client) {
    let server = MockServer::start().await.unwrap();
    let client = Kelviq::builder(API_KEY)
        .base_url(server.url())
        .retry_policy(RetryPolicy::none())
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

#[tokio::test]
async fn reports_queued_while_unreachable_are_delivered_in_order_and_counted_once() {
    let (server, client) =
        setup(QueueConfig::default().retry_interval(Duration::from_secs(3600))).await;
    offline(&server).await;

    let mut queued = Vec::new();
    for value in 1..=5 {
        queued.push(
            client
                .reporting()
                .report_usage(value, "cust", "api-usage", Behaviour::Delta)
                .send()
                .await
                .unwrap(),
        );
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
    let values: Vec<_> = bodies
        .iter()
        .map(|b| {
            b.get("value")
                .unwrap_or(&b["properties"]["value"])
                .as_i64()
                .unwrap()
        })
        .collect();
    assert_eq!(
        values,
        [1, 2, 3, 4, 5, 100],
        "in the order they were made, each once"
    );
    assert_eq!(server.usage("cust")["api-usage"], 115);
}

#[tokio::test]
async fn queued_reports_go_before_the_next_report() {
    let (server, client) =
        setup(QueueConfig::default().retry_interval(Duration::from_secs(3600))).await;
    offline(&server).await;
    let first = client
        .reporting()
        .report_usage(7, "cust", "api-usage", Behaviour::Set)
        .send()
        .await
        .unwrap();
    assert!(first.is_queued());
    server.go_online().await.unwrap();

    let second = client
        .reporting()
        .report_usage(3, "cust", "api-usage", Behaviour::Delta)
        .send()
        .await
        .unwrap();
    let second = second.sent().expect("the service is back");
    assert_eq!(second.value, 3);
    let values: Vec<_> = reports(&server)
        .iter()
        .map(|b| b["value"].as_i64().unwrap())
        .collect();
    assert_eq!(values, [7, 3]);
    assert_eq!(server.usage("cust")["api-usage"], 10);
}

#[tokio::test]
async fn the_background_task_delivers_while_the_client_lives() {
    let (server, client) =
        setup(QueueConfig::default().retry_interval(Duration::from_millis(50))).await;
    offline(&server).await;
    let queued = client
        .reporting()
        .report_usage(4, "cust", "api-usage", Behaviour::Delta)
        .send()
        .await
        .unwrap();
    assert!(queued.is_queued());
    server.go_online().await.unwrap();
    for _ in 0..100 {
        if client.queued_reports() == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(client.queued_reports(), 0);
    assert_eq!(server.usage("cust")["api-usage"], 4);
}

#[tokio::test]
async fn a_queued_report_answered_503_is_kept_and_delivered_later() {
    let (server, client) =
        setup(QueueConfig::default().retry_interval(Duration::from_secs(3600))).await;
    offline(&server).await;
    let queued = client
        .reporting()
        .report_usage(9, "cust", "api-usage", Behaviour::Delta)
        .send()
        .await
        .unwrap();
    assert!(queued.is_queued());
    server.go_online().await.unwrap();

    server.inject(Fault::new("reportUsage", 1, FaultKind::status(503)));
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
    let (server, client) =
        setup(QueueConfig::default().retry_interval(Duration::from_secs(3600))).await;
    offline(&server).await;
    let refused = client
        .reporting()
        .report_usage(1, "nobody", "api-usage", Behaviour::Delta)
        .send()
        .await
        .unwrap();
    let kept = client
        .reporting()
        .report_usage(2, "cust", "api-usage", Behaviour::Delta)
        .send()
        .await
        .unwrap();
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
    let (server, client) = setup(
        QueueConfig::default()
            .capacity(2)
            .retry_interval(Duration::from_secs(3600)),
    )
    .await;
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
    assert!(
        matches!(error, Error::QueueFull { capacity: 2 }),
        "{error:?}"
    );
    assert!(error.to_string().contains("not queued"));
    assert_eq!(client.queued_reports(), 2);
}

#[tokio::test]
async fn a_delta_whose_delivery_is_unknown_is_an_error_not_a_queue_entry() {
    let (server, client) = setup(QueueConfig::default()).await;
    server.inject(Fault::new("reportUsage", 1, FaultKind::Drop));
    let error = client
        .reporting()
        .report_usage(5, "cust", "api-usage", Behaviour::Delta)
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            Error::Connection {
                may_have_reached_server: true,
                ..
            }
        ),
        "{error:?}"
    );
    assert!(error.to_string().contains("may have received"), "{error}");
    assert_eq!(client.queued_reports(), 0);
}

#[test]
fn the_blocking_client_queues_and_flushes_the_same_way() {
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
    let flushed = h.blocking.flush().unwrap();
    assert_eq!((flushed.delivered, flushed.remaining), (1, 0));
    assert_eq!(h.server.usage("cust")["api-usage"], 6);
}
