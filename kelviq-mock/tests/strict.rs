//! What the emulator refuses, as the document forbids it: unknown body fields (ignored with
//! `lenient`), `null` where a field is not nullable, a field given in both spellings; and
//! what it keeps apart: the state of each API key. Over plain HTTP, as any language sees it.

use kelviq_mock::{MockConfig, MockServer};
use serde_json::{json, Value};

async fn send(
    server: &MockServer,
    key: &str,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let client = reqwest::Client::new();
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut request = client
        .request(method, format!("{}{path}", server.url()))
        .header("authorization", format!("Bearer {key}"));
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

fn field_at_fault(body: &Value) -> Vec<String> {
    body["errors"]
        .as_object()
        .map(|errors| errors.keys().cloned().collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn null_for_a_field_that_is_not_nullable_is_refused_by_name() {
    let server = MockServer::start().await.unwrap();
    send(
        &server,
        "k",
        "POST",
        "/api/v1/customers/",
        Some(json!({"customer_id": "c"})),
    )
    .await;
    let (status, body) = send(
        &server,
        "k",
        "PATCH",
        "/api/v1/customers/c/",
        Some(json!({"metadata": null})),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(field_at_fault(&body), ["metadata"]);
    // A nullable field may be null.
    let (status, body) = send(
        &server,
        "k",
        "PATCH",
        "/api/v1/customers/c/",
        Some(json!({"billingAddress": {"line1": "1 Main St", "line2": null}})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn an_unknown_field_is_refused_by_name_unless_lenient() {
    let strict = MockServer::start().await.unwrap();
    let misspelt = json!({"customer_id": "c", "emial": "a@example.com"});
    let (status, body) = send(
        &strict,
        "k",
        "POST",
        "/api/v1/customers/",
        Some(misspelt.clone()),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(field_at_fault(&body), ["emial"]);
    let (status, body) = send(
        &strict,
        "k",
        "POST",
        "/api/v1/customers/",
        Some(json!({"customer_id": "c", "billingAddress": {"zip": "1"}})),
    )
    .await;
    assert_eq!(
        (status, field_at_fault(&body)),
        (400, vec!["billingAddress.zip".to_owned()])
    );

    let lenient = MockServer::start_with(MockConfig {
        lenient: true,
        ..MockConfig::default()
    })
    .await
    .unwrap();
    let (status, body) = send(&lenient, "k", "POST", "/api/v1/customers/", Some(misspelt)).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(
        body["email"],
        Value::Null,
        "ignored, as the service likely does"
    );
}

#[tokio::test]
async fn either_spelling_is_taken_but_not_both() {
    let server = MockServer::start().await.unwrap();
    let (status, body) = send(
        &server,
        "k",
        "POST",
        "/api/v1/customers/",
        Some(json!({"customerId": "camel"})),
    )
    .await;
    assert_eq!(status, 201, "the reference's camelCase: {body}");
    assert_eq!(body["customerId"], "camel");
    let (status, body) = send(
        &server,
        "k",
        "POST",
        "/api/v1/customers/",
        Some(json!({"customerId": "a", "customer_id": "b"})),
    )
    .await;
    assert_eq!(
        (status, field_at_fault(&body)),
        (400, vec!["customer_id".to_owned()])
    );
    let (status, _) = send(
        &server,
        "k",
        "POST",
        "/api/v1/report/usage/",
        Some(json!({"value": 1, "customer_id": "camel", "feature_id": "api-usage", "behaviour": "DELTA"})),
    )
    .await;
    assert_eq!(
        status, 200,
        "snake_case where the document writes camelCase"
    );
}

#[tokio::test]
async fn two_api_keys_see_separate_customers() {
    let server = MockServer::start().await.unwrap();
    send(
        &server,
        "sk_tenant_a",
        "POST",
        "/api/v1/customers/",
        Some(json!({"customer_id": "shared-id", "name": "A"})),
    )
    .await;
    send(
        &server,
        "sk_tenant_b",
        "POST",
        "/api/v1/customers/",
        Some(json!({"customer_id": "shared-id", "name": "B"})),
    )
    .await;
    send(
        &server,
        "sk_tenant_b",
        "POST",
        "/api/v1/customers/",
        Some(json!({"customer_id": "only-b"})),
    )
    .await;

    let (_, a) = send(&server, "sk_tenant_a", "GET", "/api/v1/customers/", None).await;
    let (_, b) = send(&server, "sk_tenant_b", "GET", "/api/v1/customers/", None).await;
    assert_eq!(
        (a["count"].as_u64(), b["count"].as_u64()),
        (Some(1), Some(2))
    );
    let (_, read) = send(
        &server,
        "sk_tenant_a",
        "GET",
        "/api/v1/customers/shared-id/",
        None,
    )
    .await;
    assert_eq!(read["name"], "A");
    let (status, _) = send(
        &server,
        "sk_tenant_a",
        "GET",
        "/api/v1/customers/only-b/",
        None,
    )
    .await;
    assert_eq!(status, 404, "B's customer is not A's");
    let (status, _) = send(
        &server,
        "sk_tenant_c",
        "GET",
        "/api/v1/entitlements?customer_id=shared-id",
        None,
    )
    .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn the_request_log_is_bounded() {
    let server = MockServer::start_with(MockConfig {
        log_capacity: Some(5),
        ..MockConfig::default()
    })
    .await
    .unwrap();
    for i in 0..8 {
        send(
            &server,
            "k",
            "POST",
            "/api/v1/customers/",
            Some(json!({"customer_id": format!("c{i}")})),
        )
        .await;
    }
    let log = server.requests();
    assert_eq!(log.len(), 5);
    assert_eq!(log[0].body["customer_id"], "c3", "the oldest went first");
}

#[tokio::test]
async fn lists_page_and_archived_customers_leave_them() {
    let server = MockServer::start().await.unwrap();
    for i in 0..5 {
        send(
            &server,
            "k",
            "POST",
            "/api/v1/customers/",
            Some(json!({"customer_id": format!("c{i}")})),
        )
        .await;
    }
    send(&server, "k", "DELETE", "/api/v1/customers/c4/", None).await;
    let (_, page) = send(
        &server,
        "k",
        "GET",
        "/api/v1/customers/?page=1&page_size=3",
        None,
    )
    .await;
    assert_eq!(page["count"], 4);
    assert_eq!(
        page["results"][0]["customerId"], "c3",
        "newest first, the archived one gone"
    );
    assert!(page["next"]
        .as_str()
        .unwrap()
        .ends_with("/api/v1/customers/?page=2&page_size=3"));
    assert_eq!(page["previous"], Value::Null);
    let (status, body) = send(&server, "k", "GET", "/api/v1/customers/?page_size=0", None).await;
    assert_eq!(
        (status, field_at_fault(&body)),
        (400, vec!["page_size".to_owned()])
    );
}
