//! An outage of the edge host is logged once when it starts, not on every call. Alone in its
//! test binary: it installs the process's global log subscriber, which no other test then
//! races with.

mod common;

use common::Captured;
use kelviq::{Kelviq, RetryPolicy};
use kelviq_mock::{Fault, FaultKind, MockServer};

#[tokio::test]
async fn an_outage_is_warned_about_once_not_per_call() {
    let captured = Captured::default();
    let writer = captured.clone();
    tracing::subscriber::set_global_default(
        tracing_subscriber::fmt()
            .with_max_level(tracing::Level::WARN)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish(),
    )
    .unwrap();
    let server = MockServer::start().await.unwrap();
    let client = Kelviq::builder("sk_test_outage_log")
        .base_url(server.url())
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap();
    for customer in ["a", "b", "c", "d"] {
        client.customers().create(customer).send().await.unwrap();
    }
    server
        .inject(Fault::new("getEntitlements", 20, FaultKind::status(503)))
        .unwrap();
    for _ in 0..5 {
        for customer in ["a", "b", "c", "d"] {
            let access = client
                .entitlements()
                .check(customer, "seats")
                .send()
                .await
                .unwrap();
            assert!(access.is_fallback());
        }
    }
    assert!(client
        .entitlements()
        .has_access("a", "seats")
        .send()
        .await
        .is_ok());
    let log = captured.text();
    assert_eq!(log.matches("edge host is failing").count(), 1, "{log}");
}
