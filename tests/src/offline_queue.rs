//! The set-up the shared offline queue's tests share: an emulator whose customers may report
//! usage, clients sharing a real `redis-server`, reports made from tasks of their own, and
//! what the emulator says it was given.

use std::time::{Duration, Instant};

use kelviq::{Behaviour, Client, Kelviq, QueueConfig, RedisConfig};
use kelviq_mock::catalogue::FeatureKind;
use kelviq_mock::{Grant, MockServer};

use crate::child::API_KEY;

/// The feature every report is of.
pub const FEATURE: &str = "api-calls";
/// The customer of the warm-up report: a lane none of the tests' reports share.
pub const WARM: &str = "cust-warm";

/// An emulator on loopback where `customers` (and [`WARM`]) exist and may report
/// [`FEATURE`], its request log empty.
pub async fn emulator<S: AsRef<str>>(customers: &[S]) -> MockServer {
    let server = MockServer::start().await.unwrap();
    let client = Kelviq::builder(API_KEY)
        .base_url(server.url())
        .build()
        .unwrap();
    for customer in customers.iter().map(AsRef::as_ref).chain([WARM]) {
        client.customers().create(customer).send().await.unwrap();
        server.grant(Grant {
            customer_id: customer.into(),
            feature_id: FEATURE.into(),
            feature_type: FeatureKind::Meter,
            usage_limit: None,
            hard_limit: None,
        });
    }
    server.clear_requests();
    server
}

/// A client of `server` sharing the Redis at `redis_url`, whose commands time out after
/// `timeout`; its background sender waits an hour, so that only `flush` sends.
pub fn client(server: &MockServer, redis_url: &str, timeout: Duration) -> Client {
    Kelviq::builder(API_KEY)
        .base_url(server.url())
        .connect_timeout(Duration::from_millis(300))
        .redis(
            RedisConfig::new(redis_url)
                .share_cache(false)
                .timeout(timeout),
        )
        .offline_queue(QueueConfig::default().retry_interval(Duration::from_secs(3600)))
        .build()
        .unwrap()
}

/// Reports `value` of [`FEATURE`] for `customer` from a task of its own, which says how long
/// the report took; the task fails unless the report was queued.
pub fn spawn_report(
    client: &Client,
    customer: &str,
    value: i64,
) -> tokio::task::JoinHandle<Duration> {
    let (client, customer) = (client.clone(), customer.to_owned());
    tokio::spawn(async move {
        let started = Instant::now();
        let delivery = client
            .reporting()
            .report_usage(value, customer, FEATURE, Behaviour::Delta)
            .send()
            .await
            .unwrap();
        assert!(delivery.is_queued(), "queued while the API host is down");
        started.elapsed()
    })
}

/// Takes the emulator down, and lets the client's pooled connections see that they were
/// closed.
pub async fn offline(server: &MockServer) {
    server.go_offline();
    tokio::time::sleep(Duration::from_millis(100)).await;
}

/// Brings the emulator back and flushes the client's queue.
pub async fn flush_online(server: &MockServer, client: &Client) -> kelviq::FlushReport {
    server.go_online().await.unwrap();
    client.flush().await
}

/// Queues one report (of [`WARM`]) through Redis and delivers it, so that the connection is
/// made, Redis knows the scripts and the eviction policy was read; then takes the emulator
/// down: what a test does next is one command.
pub async fn offline_and_warm(server: &MockServer, client: &Client) {
    offline(server).await;
    spawn_report(client, WARM, 1).await.unwrap();
    assert_eq!(flush_online(server, client).await.delivered, 1);
    offline(server).await;
}

/// The usage of [`FEATURE`] the emulator recorded for `customer`.
pub fn used(server: &MockServer, customer: &str) -> i64 {
    server.usage(customer).get(FEATURE).copied().unwrap_or(0)
}

/// How many usage reports reached the emulator.
pub fn report_requests(server: &MockServer) -> usize {
    server
        .requests()
        .iter()
        .filter(|r| r.operation.as_deref() == Some("reportUsage"))
        .count()
}

/// The values delivered for `customer`, in the order they reached the emulator.
pub fn delivered(server: &MockServer, customer: &str) -> Vec<i64> {
    server
        .requests()
        .iter()
        .filter(|r| r.operation.as_deref() == Some("reportUsage"))
        .filter(|r| r.body.to_string().contains(&format!("\"{customer}\"")))
        .filter_map(|r| r.body.get("value").and_then(|v| v.as_i64()))
        .collect()
}
