//! Each request runs in a `kelviq.request` span with its operation, method, path, status,
//! attempt and elapsed time, and nothing logged holds the API key.

mod common;

use common::{start, Captured, API_KEY};
use kelviq_mock::{Fault, FaultKind};
use tracing_subscriber::fmt::format::FmtSpan;

#[tokio::test]
async fn spans_record_the_request_and_never_the_key() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_span_events(FmtSpan::CLOSE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let (server, client) = start().await;
    client.customers().create("cust").send().await.unwrap();
    server
        .inject(Fault::new("getEntitlements", 1, FaultKind::status(503)))
        .unwrap();
    client
        .entitlements()
        .has_access("cust", "seats")
        .send()
        .await
        .unwrap();

    let log = captured.text();
    let closed: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("kelviq.request") && l.contains("close"))
        .collect();
    assert_eq!(closed.len(), 2, "{log}");
    let entitlements = closed[1];
    for field in [
        "operation=\"entitlements.get\"",
        "method=GET",
        "path=/api/v1/entitlements",
        "status=200",
        "attempt=2",
        "elapsed_ms=",
    ] {
        assert!(
            entitlements.contains(field),
            "{field} missing in {entitlements}"
        );
    }
    assert!(log.contains("retrying"), "{log}");
    assert!(!log.contains(API_KEY), "the key leaked into the log");
}
