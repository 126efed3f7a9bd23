//! Each failure the service or network can produce becomes the right `kelviq::Error`, with
//! the status and the service's body as they came, and never the API key.

mod common;

use std::time::Duration;

use common::{start, API_KEY};
use kelviq::{Error, ErrorBody, Kelviq, RetryPolicy, StatusCode};
use kelviq_mock::{Fault, FaultKind, MockConfig, MockServer};

fn no_retries(server: &MockServer) -> kelviq::Client {
    Kelviq::builder(API_KEY)
        .base_url(server.url())
        .retry_policy(RetryPolicy::none())
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap()
}

#[tokio::test]
async fn a_400_keeps_the_services_body() {
    let (_server, client) = start().await;
    client.customers().create("cust").send().await.unwrap();
    let error = client.customers().create("cust").send().await.unwrap_err();
    let Error::BadRequest { body } = &error else {
        panic!("{error:?}")
    };
    let ErrorBody::Json(json) = body else {
        panic!("{body:?}")
    };
    assert!(json["errors"]["customer_id"][0]
        .as_str()
        .unwrap()
        .contains("already exists"));
    assert_eq!(error.status(), Some(StatusCode::BAD_REQUEST));
    assert!(!error.is_retryable());
    assert!(error.to_string().contains("customer_id"), "{error}");
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
    assert!(matches!(error, Error::NotFound { .. }), "{error:?}");
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
        api_key: Some("the-right-key".into()),
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
    assert!(
        matches!(error, Error::Unauthorized { status, .. } if status == 401),
        "{error:?}"
    );
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
        (
            403,
            |e| matches!(e, Error::Unauthorized { status, .. } if *status == 403),
        ),
        (
            429,
            |e| matches!(e, Error::RateLimited { retry_after: Some(d), .. } if *d == Duration::from_secs(3)),
        ),
        (500, |e| {
            matches!(e, Error::Server { status, .. } if *status == 500) && !e.is_retryable()
        }),
        (503, |e| {
            matches!(e, Error::Server { status, .. } if *status == 503) && e.is_retryable()
        }),
        (
            418,
            |e| matches!(e, Error::Api { status, .. } if *status == 418),
        ),
    ];
    for (status, expected) in cases {
        server.inject(Fault::new(
            "getEntitlements",
            1,
            FaultKind::Status {
                status,
                retry_after: Some(3),
                body: None,
            },
        ));
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
    server.inject(Fault::new(
        "reportUsage",
        1,
        FaultKind::Status {
            status: 502,
            retry_after: None,
            body: Some("<html><body>Bad gateway</body></html>".into()),
        },
    ));
    let error = client
        .reporting()
        .report_usage(1, "cust", "seats", kelviq::Behaviour::Set)
        .send()
        .await
        .unwrap_err();
    match &error {
        Error::Server { status, body, .. } => {
            assert_eq!(*status, 502);
            assert_eq!(
                body,
                &ErrorBody::Text("<html><body>Bad gateway</body></html>".into())
            );
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_malformed_or_empty_success_body_is_a_decode_error() {
    let (server, _) = start().await;
    let client = no_retries(&server);
    server.inject(Fault::new("createCustomer", 1, FaultKind::Malformed));
    let error = client.customers().create("cust").send().await.unwrap_err();
    match &error {
        Error::Decode {
            status, excerpt, ..
        } => {
            assert_eq!(*status, 200);
            assert_eq!(excerpt, "{\"malformed");
        }
        other => panic!("{other:?}"),
    }
    server.inject(Fault::new("getEntitlements", 1, FaultKind::Empty));
    let error = client
        .entitlements()
        .has_access("cust", "seats")
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(&error, Error::Decode { status, excerpt, .. } if *status == 200 && excerpt.is_empty()),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_slow_answer_is_a_timeout_and_a_read_is_retried_after_one() {
    let (server, _) = start().await;
    let client = no_retries(&server);
    server.inject(Fault::new(
        "getEntitlements",
        1,
        FaultKind::Delay { ms: 1_500 },
    ));
    let error = client
        .entitlements()
        .get_all_entitlements("cust")
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(error, Error::Timeout { after, .. } if after == Duration::from_millis(300)),
        "{error:?}"
    );
    assert!(error.is_retryable());

    let retrying = Kelviq::builder(API_KEY)
        .base_url(server.url())
        .retry_policy(common::fast_retries())
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    retrying.customers().create("cust").send().await.unwrap();
    server.clear_requests();
    server.inject(Fault::new(
        "getEntitlements",
        1,
        FaultKind::Delay { ms: 1_500 },
    ));
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
    server.inject(Fault::new("getEntitlements", 1, FaultKind::Drop));
    let error = client
        .entitlements()
        .get_all_entitlements("cust")
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
    server.inject(Fault::new(
        "getEntitlements",
        1,
        FaultKind::Delay { ms: 1_500 },
    ));
    let error = client
        .entitlements()
        .get_all_entitlements("cust")
        .send()
        .await
        .unwrap_err();
    assert!(matches!(error, Error::Timeout { .. }), "{error:?}");
}
