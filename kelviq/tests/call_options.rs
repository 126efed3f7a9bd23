//! Per-call options and deadlines: a time-out or deadline set on one call is honoured against
//! a server that never answers, extra headers travel, and the raw answer (status, headers,
//! request id) comes back beside the typed one without a second request.

mod common;

use std::time::{Duration, Instant};

use common::{start, API_KEY};
use kelviq::{ErrorKind, Kelviq, Reached, RetryPolicy};
use kelviq_mock::{Fault, FaultKind, SilentServer};

fn around(elapsed: Duration, target: Duration) -> bool {
    elapsed >= target && elapsed < target + Duration::from_millis(900)
}

#[tokio::test]
async fn a_call_with_a_one_second_deadline_returns_in_about_a_second_against_a_silent_server() {
    let silent = SilentServer::start().await.unwrap();
    // The client's own limits are generous; only the call's deadline is short.
    let client = Kelviq::builder(API_KEY)
        .base_url(silent.url())
        .timeout(Duration::from_secs(30))
        .deadline(Duration::from_secs(60))
        .retry_policy(RetryPolicy::default().initial_backoff(Duration::from_millis(50)))
        .build()
        .unwrap();
    let started = Instant::now();
    let error = client
        .customers()
        .update("cust")
        .name("x")
        .deadline(Duration::from_secs(1))
        .send()
        .await
        .unwrap_err();
    let took = started.elapsed();
    assert!(around(took, Duration::from_secs(1)), "took {took:?}");
    assert_eq!(error.kind(), ErrorKind::Timeout, "{error:?}");
    assert_eq!(error.timed_out_after(), Some(Duration::from_secs(1)));
    assert_eq!(error.reached(), Reached::Maybe);
    assert!(
        error
            .to_string()
            .starts_with("customers.update: no answer within 1s"),
        "{error}"
    );
}

#[tokio::test]
async fn an_entitlement_check_on_a_silent_edge_ends_at_the_entitlement_deadline() {
    let silent = SilentServer::start().await.unwrap();
    let client = Kelviq::builder(API_KEY)
        .base_url(silent.url())
        .entitlement_deadline(Duration::from_millis(800))
        .build()
        .unwrap();
    let started = Instant::now();
    let access = client
        .entitlements()
        .check("cust", "seats")
        .send()
        .await
        .unwrap();
    let took = started.elapsed();
    assert!(around(took, Duration::from_millis(800)), "took {took:?}");
    assert!(access.is_fallback() && !access.allowed, "{access:?}");
}

#[tokio::test]
async fn a_per_call_time_out_shorter_than_the_clients_is_honoured() {
    let (server, _) = start().await;
    let client = Kelviq::builder(API_KEY)
        .base_url(server.url())
        .timeout(Duration::from_secs(30))
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap();
    client.customers().create("cust").send().await.unwrap();
    server
        .inject(Fault::new(
            "updateCustomer",
            1,
            FaultKind::Delay { ms: 3_000 },
        ))
        .unwrap();
    let started = Instant::now();
    let error = client
        .customers()
        .update("cust")
        .name("late")
        .timeout(Duration::from_millis(300))
        .send()
        .await
        .unwrap_err();
    let took = started.elapsed();
    assert!(around(took, Duration::from_millis(300)), "took {took:?}");
    assert_eq!(error.kind(), ErrorKind::Timeout);
    assert_eq!(error.timed_out_after(), Some(Duration::from_millis(300)));
}

#[tokio::test]
async fn the_raw_answer_comes_with_the_typed_one() {
    let (server, client) = start().await;
    let answer = client
        .customers()
        .create("cust")
        .send_with_response()
        .await
        .unwrap();
    let raw = answer.raw().expect("a request was made");
    assert!(raw.status().is_success(), "{raw:?}");
    assert_eq!(raw.headers()["content-type"], "application/json");
    let request_id = raw.request_id().expect("the emulator names every answer");
    assert!(request_id.starts_with("req_"), "{request_id}");
    assert_eq!(answer.value().customer_id, "cust");
    assert_eq!(server.requests().len(), 1, "no second request");

    // Entitlements answered from the cache carry no raw answer.
    client
        .entitlements()
        .has_access("cust", "seats")
        .send()
        .await
        .unwrap();
    let cached = client
        .entitlements()
        .has_access("cust", "seats")
        .send_with_response()
        .await
        .unwrap();
    assert!(cached.raw().is_none());
}

#[test]
#[cfg(feature = "blocking")]
fn the_blocking_client_returns_the_raw_answer_too() {
    let h = common::Harness::new();
    let answer = h
        .blocking
        .customers()
        .create("cust")
        .send_with_response()
        .unwrap();
    assert_eq!(answer.raw().unwrap().status(), 201);
    assert!(answer.raw().unwrap().request_id().is_some());
}

#[tokio::test]
async fn extra_headers_travel_and_the_api_key_cannot_be_replaced() {
    let (server, client) = start().await;
    client
        .customers()
        .create("cust")
        .header("x-correlation-id", "order-42")
        .send()
        .await
        .unwrap();
    let request = server.requests().pop().unwrap();
    assert_eq!(request.headers["x-correlation-id"], "order-42");

    server.clear_requests();
    let error = client
        .customers()
        .update("cust")
        .name("x")
        .header("Authorization", "Bearer someone-else")
        .send()
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Validation);
    assert_eq!(error.validation().unwrap().field(), "header");
    let error = client
        .customers()
        .update("cust")
        .name("x")
        .header("x-token", "line\nbreak-secret")
        .send()
        .await
        .unwrap_err();
    assert!(
        !error.to_string().contains("secret"),
        "header values are never echoed: {error}"
    );
    assert!(server.requests().is_empty(), "nothing was sent");
}

#[tokio::test]
async fn an_invalid_header_on_an_entitlement_call_is_refused_before_anything_is_sent() {
    let (server, _) = start().await;
    let client = Kelviq::builder(API_KEY)
        .base_url(server.url())
        .entitlement_cache(kelviq::CacheConfig::disabled())
        .build()
        .unwrap();
    let entitlements = client.entitlements();
    for (name, value) in [
        ("Authorization", "Bearer someone-else"),
        ("x-token", "line\nbreak-secret"),
    ] {
        let errors = [
            entitlements
                .has_access("cust", "seats")
                .header(name, value)
                .send()
                .await
                .unwrap_err(),
            entitlements
                .check("cust", "seats")
                .header(name, value)
                .send()
                .await
                .unwrap_err(),
            entitlements
                .get_entitlement("cust", "seats")
                .header(name, value)
                .send()
                .await
                .unwrap_err(),
            entitlements
                .get_all_entitlements("cust")
                .header(name, value)
                .send()
                .await
                .unwrap_err(),
        ];
        for error in errors {
            assert_eq!(error.kind(), ErrorKind::Validation, "{error:?}");
            assert_eq!(error.validation().unwrap().field(), "header");
            let text = error.to_string();
            assert!(text.starts_with("entitlements.get: "), "{text}");
            assert!(
                !text.contains("secret") && !text.contains("someone-else"),
                "header values are never echoed: {text}"
            );
        }
    }
    assert!(server.requests().is_empty(), "nothing was sent");
}

#[tokio::test]
async fn a_per_call_retry_policy_replaces_the_clients() {
    let (server, client) = start().await;
    client.customers().create("cust").send().await.unwrap();
    server
        .inject(Fault::new("updateCustomer", 1, FaultKind::status(503)))
        .unwrap();
    let error = client
        .customers()
        .update("cust")
        .name("x")
        .retry_policy(RetryPolicy::none())
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        error.status(),
        Some(kelviq::StatusCode::SERVICE_UNAVAILABLE)
    );
    let updated = client
        .customers()
        .update("cust")
        .name("y")
        .send()
        .await
        .unwrap();
    assert_eq!(updated.name.as_deref(), Some("y"));
}

#[tokio::test]
async fn a_call_timeout_longer_than_the_clients_outlasts_the_clients() {
    // The client's own HTTP client applies the client's attempt time-out by itself; a
    // longer one given to a call must still stand.
    let (server, _) = start().await;
    let client = Kelviq::builder(API_KEY)
        .base_url(server.url())
        .timeout(Duration::from_millis(300))
        // One attempt: a retry would hide a first attempt cut at 300 ms.
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap();
    client.customers().create("cust").send().await.unwrap();
    server
        .inject(Fault::new(
            "updateCustomer",
            1,
            FaultKind::Delay { ms: 1_000 },
        ))
        .unwrap();
    let updated = client
        .customers()
        .update("cust")
        .name("patient")
        .timeout(Duration::from_secs(3))
        .send()
        .await;
    assert!(updated.is_ok(), "{updated:?}");
}

#[tokio::test]
async fn a_body_that_stalls_is_a_timeout_named_after_the_deadline_that_ended_it() {
    use tokio::io::AsyncWriteExt;
    // An edge host that answers 200 and then stops in the middle of the body.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let stall = tokio::spawn(async move {
        let mut held = Vec::new();
        loop {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut request = [0u8; 4096];
            let _ = tokio::io::AsyncReadExt::read(&mut socket, &mut request).await;
            let _ = socket
                .write_all(
                    b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{",
                )
                .await;
            held.push(socket);
        }
    });
    let client = Kelviq::builder(API_KEY)
        .base_url(&url)
        .entitlement_deadline(Duration::from_millis(500))
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap();
    let error = client
        .entitlements()
        .get_all_entitlements("cust")
        .send()
        .await
        .unwrap_err();
    stall.abort();
    assert_eq!(error.kind(), ErrorKind::Timeout, "{error:?}");
    assert_eq!(
        error.timed_out_after(),
        Some(Duration::from_millis(500)),
        "{error}"
    );
}
