//! Each failure the service or network can produce becomes the right `kelviq::Error`, with
//! the status and the service's body as they came, and never the API key.

mod common;

use std::time::Duration;

use common::{start, API_KEY};
use kelviq::{Error, ErrorBody, ErrorKind, Kelviq, QueueConfig, Reached, RetryPolicy, StatusCode};
use kelviq_mock::{Fault, FaultKind, MockConfig, MockServer};

fn no_retries(server: &MockServer) -> kelviq::Client {
    Kelviq::builder(API_KEY)
        .base_url(server.url())
        .retry_policy(RetryPolicy::none())
        .timeout(Duration::from_millis(300))
        // Errors come back to the caller instead of waiting in the queue.
        .offline_queue(QueueConfig::disabled())
        .build()
        .unwrap()
}

#[tokio::test]
async fn a_400_keeps_the_services_body() {
    let (_server, client) = start().await;
    client.customers().create("cust").send().await.unwrap();
    let error = client.customers().create("cust").send().await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::BadRequest, "{error:?}");
    assert_eq!(error.reached(), Reached::Answered);
    let Some(ErrorBody::Json(json)) = error.body() else {
        panic!("{error:?}")
    };
    assert!(json["errors"]["customer_id"][0]
        .as_str()
        .unwrap()
        .contains("already exists"));
    assert_eq!(error.status(), Some(StatusCode::BAD_REQUEST));
    assert!(!error.is_retryable());
    assert!(error.to_string().contains("customer_id"), "{error}");
    assert!(
        error
            .to_string()
            .starts_with("customers.create: bad request (400"),
        "the text names the operation: {error}"
    );
    assert!(
        error.request_id().is_some_and(|id| id.starts_with("req_")),
        "the service's request id is kept: {error:?}"
    );
}

#[tokio::test]
async fn not_found_is_404() {
    let (_server, client) = start().await;
    let error = client
        .customers()
        .update("nobody")
        .name("x")
        .send()
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::NotFound, "{error:?}");
    assert_eq!(error.operation(), Some("customers.update"));
    assert_eq!(
        error
            .body()
            .and_then(ErrorBody::detail)
            .map(|d| d.contains("nobody")),
        Some(true)
    );
}

#[tokio::test]
async fn a_wrong_key_is_unauthorized_and_never_printed() {
    let server = MockServer::start_with(MockConfig {
        api_keys: vec!["the-right-key".into()],
        ..MockConfig::default()
    })
    .await
    .unwrap();
    let client = Kelviq::builder("sk_wrong_secret_key")
        .base_url(server.url())
        .build()
        .unwrap();
    let error = client
        .entitlements()
        .get_all_entitlements("cust")
        .send()
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Unauthorized, "{error:?}");
    assert_eq!(error.status(), Some(StatusCode::UNAUTHORIZED));
    assert!(!format!("{error} {error:?} {client:?}").contains("sk_wrong_secret_key"));

    let right = Kelviq::builder("the-right-key")
        .base_url(server.url())
        .build()
        .unwrap();
    right.customers().create("cust").send().await.unwrap();
}

#[tokio::test]
async fn injected_statuses_map_to_their_variants() {
    let (server, _) = start().await;
    let client = no_retries(&server);
    type Expectation = fn(&Error) -> bool;
    let cases: [(u16, Expectation); 5] = [
        (403, |e| e.kind() == ErrorKind::Unauthorized),
        (429, |e| {
            e.kind() == ErrorKind::RateLimited
                && e.retry_after() == Some(Duration::from_secs(3))
                && e.is_retryable()
        }),
        (500, |e| e.kind() == ErrorKind::Server && !e.is_retryable()),
        (503, |e| e.kind() == ErrorKind::Server && e.is_retryable()),
        (418, |e| e.kind() == ErrorKind::Api && !e.is_retryable()),
    ];
    for (status, expected) in cases {
        server
            .inject(Fault::new(
                "getEntitlements",
                1,
                FaultKind::Status {
                    status,
                    retry_after: Some(3),
                    body: None,
                    after_ms: None,
                },
            ))
            .unwrap();
        let error = client
            .entitlements()
            .get_all_entitlements("cust")
            .send()
            .await
            .unwrap_err();
        assert!(expected(&error), "{status}: {error:?}");
        assert_eq!(error.status().map(|s| s.as_u16()), Some(status));
    }
}

#[tokio::test]
async fn a_proxys_html_error_page_keeps_its_status_and_text() {
    let (server, _) = start().await;
    let client = no_retries(&server);
    server
        .inject(Fault::new(
            "reportUsage",
            1,
            FaultKind::Status {
                status: 502,
                retry_after: None,
                body: Some("<html><body>Bad gateway</body></html>".into()),
                after_ms: None,
            },
        ))
        .unwrap();
    let error = client
        .reporting()
        .report_usage(1, "cust", "seats", kelviq::Behaviour::Set)
        .send()
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Server, "{error:?}");
    assert_eq!(error.status(), Some(StatusCode::BAD_GATEWAY));
    assert_eq!(
        error.body(),
        Some(&ErrorBody::Text(
            "<html><body>Bad gateway</body></html>".into()
        ))
    );
}

#[tokio::test]
async fn a_malformed_or_empty_success_body_is_a_decode_error() {
    let (server, _) = start().await;
    let client = no_retries(&server);
    server
        .inject(Fault::new("createCustomer", 1, FaultKind::Malformed))
        .unwrap();
    let error = client.customers().create("cust").send().await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Decode, "{error:?}");
    assert_eq!(error.status(), Some(StatusCode::OK));
    assert!(
        error.to_string().contains("body starts \"{\\\"malformed\""),
        "{error}"
    );
    server
        .inject(Fault::new("getEntitlements", 1, FaultKind::Empty))
        .unwrap();
    let error = client
        .entitlements()
        .has_access("cust", "seats")
        .send()
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Decode, "{error:?}");
    assert!(error.to_string().contains("body starts \"\""), "{error}");
}

#[tokio::test]
async fn a_slow_answer_is_a_timeout_and_a_read_is_retried_after_one() {
    let (server, _) = start().await;
    let client = no_retries(&server);
    server
        .inject(Fault::new(
            "getEntitlements",
            1,
            FaultKind::Delay { ms: 1_500 },
        ))
        .unwrap();
    let error = client
        .entitlements()
        .get_all_entitlements("cust")
        .send()
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Timeout, "{error:?}");
    assert_eq!(error.timed_out_after(), Some(Duration::from_millis(300)));
    assert_eq!(error.reached(), Reached::Maybe);
    assert!(error.is_retryable());

    let retrying = Kelviq::builder(API_KEY)
        .base_url(server.url())
        .retry_policy(common::fast_retries())
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    retrying.customers().create("cust").send().await.unwrap();
    server.clear_requests();
    server
        .inject(Fault::new(
            "getEntitlements",
            1,
            FaultKind::Delay { ms: 1_500 },
        ))
        .unwrap();
    let all = retrying
        .entitlements()
        .get_all_entitlements("cust")
        .send()
        .await
        .unwrap();
    assert_eq!(all.customer_id(), "cust");
    assert_eq!(server.requests().len(), 2, "timed out once, then answered");
}

#[tokio::test]
async fn a_dropped_connection_on_a_read_without_retries_is_a_connection_error() {
    let (server, _) = start().await;
    let client = no_retries(&server);
    server
        .inject(Fault::new("getEntitlements", 1, FaultKind::Drop))
        .unwrap();
    let error = client
        .entitlements()
        .get_all_entitlements("cust")
        .send()
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Connection, "{error:?}");
    assert_eq!(error.reached(), Reached::Maybe, "sent, then dropped");
}

#[tokio::test]
async fn a_caller_supplied_http_client_still_gets_the_key_user_agent_and_time_out() {
    let server = MockServer::start().await.unwrap();
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        "x-team",
        reqwest::header::HeaderValue::from_static("billing"),
    );
    let http = reqwest::Client::builder()
        .default_headers(headers)
        .build()
        .unwrap();
    let client = Kelviq::builder(API_KEY)
        .base_url(server.url())
        .http_client(http)
        .user_agent_suffix("billing-service/1.4")
        .timeout(Duration::from_millis(300))
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap();
    client.customers().create("cust").send().await.unwrap();
    let request = server.requests().pop().unwrap();
    assert_eq!(request.headers["x-team"], "billing");
    assert_eq!(
        request.headers["authorization"],
        format!("Bearer {API_KEY}")
    );
    assert_eq!(
        request.headers["user-agent"],
        format!(
            "kelviq-rust/{} billing-service/1.4",
            env!("CARGO_PKG_VERSION")
        )
    );
    server
        .inject(Fault::new(
            "getEntitlements",
            1,
            FaultKind::Delay { ms: 1_500 },
        ))
        .unwrap();
    let error = client
        .entitlements()
        .get_all_entitlements("cust")
        .send()
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Timeout, "{error:?}");
}
