//! Retries happen exactly where repeating a request cannot change the outcome, with the
//! emulator's fault injection standing in for a failing service and network, including the
//! rude failures: a 5xx or a dropped connection after the service applied the request.

mod common;

use std::time::{Duration, Instant};

use common::{fast_retries, start, API_KEY};
use kelviq::{Behaviour, ErrorKind, Kelviq, QueueConfig, Reached, RetryPolicy};
use kelviq_mock::{Fault, FaultKind, MockServer};

fn status(status: u16, retry_after: Option<u64>) -> FaultKind {
    FaultKind::Status {
        status,
        retry_after,
        body: None,
        after_ms: None,
    }
}

async fn subscribed(server: &MockServer, client: &kelviq::Client, customer: &str) {
    client.customers().create(customer).send().await.unwrap();
    let session = client
        .checkout()
        .create_session(
            "plan-pro-monthly",
            kelviq::ChargePeriod::Monthly,
            "https://example.com/ok",
        )
        .customer_id(customer)
        .send()
        .await
        .unwrap();
    server
        .complete_checkout(&session.checkout_session_id)
        .unwrap();
    server.clear_requests();
}

/// The requests of `operation` the emulator logged, in order.
fn sent(server: &MockServer, operation: &str) -> Vec<kelviq_mock::LoggedRequest> {
    server
        .requests()
        .into_iter()
        .filter(|r| r.operation.as_deref() == Some(operation))
        .collect()
}

fn count(server: &MockServer, operation: &str) -> usize {
    sent(server, operation).len()
}

#[tokio::test]
async fn a_read_answered_503_is_retried_and_then_answered() {
    let (server, client) = start().await;
    subscribed(&server, &client, "cust").await;
    server
        .inject(Fault::new("getEntitlements", 2, status(503, None)))
        .unwrap();
    assert!(client
        .entitlements()
        .has_access("cust", "premium-reporting")
        .send()
        .await
        .unwrap());
    assert_eq!(count(&server, "getEntitlements"), 3);
}

#[tokio::test]
async fn retry_after_is_honoured() {
    let (server, client) = start().await;
    subscribed(&server, &client, "cust").await;
    server
        .inject(Fault::new("getEntitlements", 1, status(429, Some(1))))
        .unwrap();
    let started = Instant::now();
    client
        .entitlements()
        .get_all_entitlements("cust")
        .send()
        .await
        .unwrap();
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_secs(1),
        "waited {waited:?}, Retry-After said 1 s"
    );
    assert_eq!(count(&server, "getEntitlements"), 2);
}

#[tokio::test]
async fn a_retry_after_beyond_the_limit_ends_the_retries_at_once() {
    let (server, _) = start().await;
    let client = Kelviq::builder(API_KEY)
        .base_url(server.url())
        .retry_policy(fast_retries().max_retry_after(Duration::from_secs(2)))
        .build()
        .unwrap();
    server
        .inject(Fault::new("getEntitlements", 1, status(503, Some(120))))
        .unwrap();
    let started = Instant::now();
    let error = client
        .entitlements()
        .get_all_entitlements("cust")
        .send()
        .await
        .unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(error.kind(), ErrorKind::Server, "{error:?}");
    assert_eq!(
        error.status(),
        Some(kelviq::StatusCode::SERVICE_UNAVAILABLE)
    );
    assert_eq!(error.retry_after(), Some(Duration::from_secs(120)));
    assert_eq!(count(&server, "getEntitlements"), 1);
}

#[tokio::test]
async fn a_retry_that_would_end_past_the_deadline_is_not_made() {
    let (server, _) = start().await;
    let client = Kelviq::builder(API_KEY)
        .base_url(server.url())
        .retry_policy(fast_retries())
        .build()
        .unwrap();
    // Retry-After 2 s against a 1 s deadline: one attempt, then the error.
    server
        .inject(Fault::new("getEntitlements", 1, status(503, Some(2))))
        .unwrap();
    let started = Instant::now();
    let error = client
        .entitlements()
        .get_all_entitlements("cust")
        .deadline(Duration::from_secs(1))
        .send()
        .await
        .unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(1));
    assert_eq!(
        error.status(),
        Some(kelviq::StatusCode::SERVICE_UNAVAILABLE)
    );
    assert_eq!(count(&server, "getEntitlements"), 1);
}

#[tokio::test]
async fn a_delta_applied_and_then_answered_5xx_is_counted_once_and_unconfirmed() {
    let (server, client) = start().await;
    subscribed(&server, &client, "cust").await;
    server
        .inject(Fault::new(
            "reportUsage",
            1,
            FaultKind::ApplyThenStatus { status: 503 },
        ))
        .unwrap();
    let error = client
        .reporting()
        .report_usage(5, "cust", "api-usage", Behaviour::Delta)
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        error.status(),
        Some(kelviq::StatusCode::SERVICE_UNAVAILABLE)
    );
    assert!(error.is_unconfirmed(), "{error:?}");
    assert!(
        !error.is_retryable(),
        "sending it again could count it twice"
    );
    assert!(error.to_string().contains("unconfirmed"), "{error}");
    assert_eq!(count(&server, "reportUsage"), 1, "not resent");
    assert_eq!(client.queued_reports(), 0, "not queued either");
    assert_eq!(server.usage("cust")["api-usage"], 5, "counted once");
}

#[tokio::test]
async fn a_delta_applied_and_then_dropped_is_counted_once_and_unconfirmed() {
    let (server, client) = start().await;
    subscribed(&server, &client, "cust").await;
    server
        .inject(Fault::new("reportUsage", 1, FaultKind::ApplyThenDrop))
        .unwrap();
    let error = client
        .reporting()
        .report_usage(5, "cust", "api-usage", Behaviour::Delta)
        .send()
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Connection, "{error:?}");
    assert_eq!(error.reached(), Reached::Maybe);
    assert!(error.is_unconfirmed() && !error.is_retryable());
    assert_eq!(count(&server, "reportUsage"), 1);
    assert_eq!(server.usage("cust")["api-usage"], 5, "counted once");
}

#[tokio::test]
async fn a_set_report_answered_503_is_retried() {
    let (server, client) = start().await;
    subscribed(&server, &client, "cust").await;
    server
        .inject(Fault::new("reportUsage", 1, status(503, None)))
        .unwrap();
    client
        .reporting()
        .report_usage(40, "cust", "api-usage", Behaviour::Set)
        .send()
        .await
        .unwrap()
        .sent()
        .expect("delivered");
    assert_eq!(count(&server, "reportUsage"), 2);
    assert_eq!(server.usage("cust")["api-usage"], 40);
}

#[tokio::test]
async fn customer_creation_and_checkout_are_not_retried_after_a_5xx() {
    let (server, client) = start().await;
    server
        .inject(Fault::new("createCustomer", 1, status(502, None)))
        .unwrap();
    let error = client.customers().create("cust").send().await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Server);
    assert!(error.is_unconfirmed() && !error.is_retryable());
    server
        .inject(Fault::new("createCheckoutSession", 1, status(504, None)))
        .unwrap();
    let error = client
        .checkout()
        .create_session(
            "plan-pro-monthly",
            kelviq::ChargePeriod::Monthly,
            "https://example.com/ok",
        )
        .send()
        .await
        .unwrap_err();
    assert_eq!(error.status(), Some(kelviq::StatusCode::GATEWAY_TIMEOUT));
    assert_eq!(count(&server, "createCustomer"), 1);
    assert_eq!(count(&server, "createCheckoutSession"), 1);
}

#[tokio::test]
async fn a_429_is_retried_even_for_a_request_that_counts_twice() {
    let (server, client) = start().await;
    server
        .inject(Fault::new("createCustomer", 1, status(429, None)))
        .unwrap();
    client.customers().create("cust").send().await.unwrap();
    assert_eq!(
        count(&server, "createCustomer"),
        2,
        "nothing was applied the first time"
    );
}

#[tokio::test]
async fn an_event_retried_after_a_dropped_connection_keeps_its_idempotency_key() {
    let (server, client) = start().await;
    subscribed(&server, &client, "cust").await;
    server
        .inject(Fault::new("reportEvent", 2, FaultKind::Drop))
        .unwrap();
    let event = client
        .reporting()
        .report_event("cust", "api_invoked")
        .property("featureId", "api-usage")
        .property("value", 3)
        .send()
        .await
        .unwrap()
        .sent()
        .expect("delivered, not queued");
    let sent: Vec<_> = server
        .requests()
        .into_iter()
        .filter(|r| r.operation.as_deref() == Some("reportEvent"))
        .map(|r| {
            (
                r.body["idempotencyKey"].clone(),
                r.body["timestamp"].clone(),
            )
        })
        .collect();
    assert_eq!(sent.len(), 3, "two drops, then the answer");
    assert!(
        sent.iter().all(|s| *s == sent[0]),
        "same key and timestamp each time: {sent:?}"
    );
    assert_eq!(sent[0].0, event.idempotency_key.as_str());
    assert_eq!(server.usage("cust")["api-usage"], 3, "counted once");
}

#[tokio::test]
async fn a_request_that_never_reached_the_server_is_retried_even_when_unsafe() {
    // Bind a port, then free it: nothing listens there.
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let client = Kelviq::builder(API_KEY)
        .base_url(format!("http://127.0.0.1:{port}"))
        // The queue would take it; here the retries are what is tested.
        .offline_queue(QueueConfig::disabled())
        .retry_policy(
            RetryPolicy::default()
                .max_retries(2)
                .initial_backoff(Duration::from_millis(200)),
        )
        .build()
        .unwrap();
    let started = Instant::now();
    let error = client
        .reporting()
        .report_usage(1, "cust", "api-usage", Behaviour::Delta)
        .send()
        .await
        .unwrap_err();
    // Two retries with jittered waits of 200 ms and more: the DELTA was retried.
    assert!(
        started.elapsed() >= Duration::from_millis(150),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(error.kind(), ErrorKind::Connection, "{error:?}");
    assert_eq!(error.reached(), Reached::No);
    assert!(error.is_retryable() && !error.is_unconfirmed());
    assert_eq!(error.status(), None);
}

#[tokio::test]
async fn no_retry_policy_means_one_attempt() {
    let (server, _) = start().await;
    let client = Kelviq::builder(API_KEY)
        .base_url(server.url())
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap();
    server
        .inject(Fault::new("getEntitlements", 1, status(503, None)))
        .unwrap();
    let error = client
        .entitlements()
        .get_all_entitlements("cust")
        .send()
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Server, "{error:?}");
    assert_eq!(count(&server, "getEntitlements"), 1);
}

#[tokio::test]
async fn a_rebuilt_retry_is_the_first_request_again() {
    let (server, client) = start().await;
    subscribed(&server, &client, "cust").await;
    // A report: its body made again for the retry, every byte the same (the idempotency
    // key and timestamp included), with the same headers, the caller's own among them.
    server
        .inject(Fault::new("reportUsage", 1, status(503, None)))
        .unwrap();
    client
        .reporting()
        .report_usage(5, "cust", "api-usage", Behaviour::Set)
        .header("x-trace", "t1")
        .send()
        .await
        .unwrap()
        .sent()
        .expect("delivered on the retry");
    let reports = sent(&server, "reportUsage");
    assert_eq!(reports.len(), 2, "{reports:?}");
    let [first, retry] = [&reports[0], &reports[1]];
    assert_eq!(first.path, retry.path);
    assert_eq!(first.body, retry.body);
    assert_eq!(first.body["value"], 5);
    for header in [
        "authorization",
        "user-agent",
        "content-type",
        "accept",
        "x-trace",
    ] {
        assert!(first.headers.contains_key(header), "{header} in {first:?}");
        assert_eq!(
            first.headers.get(header),
            retry.headers.get(header),
            "{header}"
        );
    }
    assert_eq!(server.usage("cust")["api-usage"], 5);

    // An entitlement request: the same query again, identifiers form-encoded once.
    let uncached = Kelviq::builder(API_KEY)
        .base_url(server.url())
        .retry_policy(fast_retries())
        .entitlement_cache(kelviq::CacheConfig::disabled())
        .build()
        .unwrap();
    server
        .inject(Fault::new("getEntitlements", 1, status(503, None)))
        .unwrap();
    let allowed = uncached
        .entitlements()
        .has_access("cust", "f e&x")
        .header("x-trace", "t2")
        .send()
        .await
        .unwrap();
    assert!(!allowed, "no such feature");
    let asked = sent(&server, "getEntitlements");
    assert_eq!(asked.len(), 2, "{asked:?}");
    for request in &asked {
        assert_eq!(
            request.query.as_deref(),
            Some("customer_id=cust&feature_id=f+e%26x")
        );
        assert_eq!(
            request.headers.get("x-trace").map(String::as_str),
            Some("t2")
        );
        assert_eq!(
            request.headers.get("authorization"),
            asked[0].headers.get("authorization")
        );
    }
}
