//! The emulator's outages over plain HTTP: faults that apply the request and then fail,
//! a black-holed address, a silent server, and refused fault names.

use std::time::{Duration, Instant};

use kelviq_mock::{BlackHole, Fault, FaultKind, MockServer, SilentServer};
use serde_json::{json, Value};

async fn post(
    client: &reqwest::Client,
    url: &str,
    body: Value,
) -> reqwest::Result<reqwest::Response> {
    client
        .post(url)
        .header("authorization", "Bearer sk_test")
        .json(&body)
        .send()
        .await
}

async fn usage_of(server: &MockServer, customer: &str) -> i64 {
    server
        .usage(customer)
        .get("api-usage")
        .copied()
        .unwrap_or(0)
}

#[tokio::test]
async fn apply_then_fail_keeps_the_effect_and_hides_the_answer() {
    let server = MockServer::start().await.unwrap();
    let http = reqwest::Client::new();
    let url = server.url();
    post(
        &http,
        &format!("{url}/api/v1/customers/"),
        json!({"customer_id": "c"}),
    )
    .await
    .unwrap();
    let report =
        json!({"value": 5, "customerId": "c", "featureId": "api-usage", "behaviour": "DELTA"});

    server
        .inject(Fault::new(
            "reportUsage",
            1,
            FaultKind::ApplyThenStatus { status: 502 },
        ))
        .unwrap();
    let answer = post(
        &http,
        &format!("{url}/api/v1/report/usage/"),
        report.clone(),
    )
    .await
    .unwrap();
    assert_eq!(answer.status(), 502);
    assert_eq!(usage_of(&server, "c").await, 5, "applied before the 502");

    server
        .inject(Fault::new("reportUsage", 1, FaultKind::ApplyThenDrop))
        .unwrap();
    let dropped = post(
        &http,
        &format!("{url}/api/v1/report/usage/"),
        report.clone(),
    )
    .await;
    assert!(dropped.is_err(), "no answer: {dropped:?}");
    assert_eq!(usage_of(&server, "c").await, 10, "applied before the drop");

    // A plain status fault is answered before anything is applied.
    server
        .inject(Fault::new("reportUsage", 1, FaultKind::status(503)))
        .unwrap();
    let refused = post(&http, &format!("{url}/api/v1/report/usage/"), report)
        .await
        .unwrap();
    assert_eq!(refused.status(), 503);
    assert_eq!(usage_of(&server, "c").await, 10);
}

#[tokio::test]
async fn a_status_fault_can_come_late() {
    let server = MockServer::start().await.unwrap();
    server
        .inject(Fault::new(
            "getEntitlements",
            1,
            FaultKind::Status {
                status: 503,
                retry_after: None,
                body: None,
                after_ms: Some(300),
            },
        ))
        .unwrap();
    let started = Instant::now();
    let answer = reqwest::Client::new()
        .get(format!(
            "{}/api/v1/entitlements?customer_id=c",
            server.url()
        ))
        .header("authorization", "Bearer sk_test")
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 503);
    assert!(started.elapsed() >= Duration::from_millis(300));
}

#[tokio::test]
async fn a_fault_naming_no_operation_is_refused() {
    let server = MockServer::start().await.unwrap();
    let error = server
        .inject(Fault::new("reportUsages", 1, FaultKind::Drop))
        .unwrap_err();
    assert!(error.to_string().contains("reportUsages"), "{error}");

    let answer = reqwest::Client::new()
        .post(format!("{}/_mock/faults", server.url()))
        .json(&json!({"operation": "getEntitlement", "times": 1, "kind": "drop"}))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 400);
    let body: Value = answer.json().await.unwrap();
    assert!(body["errors"]["operation"][0]
        .as_str()
        .unwrap()
        .contains("getEntitlement"));
}

#[tokio::test]
async fn a_black_hole_never_completes_a_connection() {
    let hole = BlackHole::start().await.unwrap();
    let http = reqwest::Client::builder()
        .connect_timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let started = Instant::now();
    let error = http.get(hole.url()).send().await.unwrap_err();
    assert!(error.is_connect(), "{error:?}");
    assert!(started.elapsed() >= Duration::from_millis(300));
}

#[tokio::test]
async fn the_emulator_can_black_hole_its_address_and_come_back_with_its_state() {
    let server = MockServer::start().await.unwrap();
    let url = server.url();
    post(
        &reqwest::Client::new(),
        &format!("{url}/api/v1/customers/"),
        json!({"customer_id": "kept"}),
    )
    .await
    .unwrap();

    server.go_black_hole().await.unwrap();
    let http = reqwest::Client::builder()
        .connect_timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let error = http
        .get(format!("{url}/_mock/health"))
        .send()
        .await
        .unwrap_err();
    assert!(error.is_connect(), "{error:?}");

    server.go_online().await.unwrap();
    let answer = http
        .get(format!("{url}/api/v1/entitlements?customer_id=kept"))
        .header("authorization", "Bearer sk_test")
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200, "the customer is still there");
}

#[tokio::test]
async fn a_silent_server_takes_the_request_and_never_answers() {
    let silent = SilentServer::start().await.unwrap();
    let started = Instant::now();
    let error = reqwest::Client::new()
        .get(silent.url())
        .timeout(Duration::from_millis(300))
        .send()
        .await
        .unwrap_err();
    assert!(error.is_timeout() && !error.is_connect(), "{error:?}");
    assert!(started.elapsed() >= Duration::from_millis(300));
}
