//! The entitlement cache against the emulator: what it asks the edge host, and what it
//! answers when the edge host fails.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{fast_retries, API_KEY};
use kelviq::{Behaviour, CacheConfig, Client, Error, Kelviq, RetryPolicy};
use kelviq_mock::{Fault, FaultKind, MockServer};

async fn setup(cache: CacheConfig, retry: RetryPolicy) -> (MockServer, Client) {
    let server = MockServer::start().await.unwrap();
    let client = Kelviq::builder(API_KEY)
        .base_url(server.url())
        .retry_policy(retry)
        .entitlement_cache(cache)
        .build()
        .unwrap();
    client.customers().create("cust").send().await.unwrap();
    let session = client
        .checkout()
        .create_session(
            "plan-pro-monthly",
            kelviq::ChargePeriod::Monthly,
            "https://example.com/ok",
        )
        .customer_id("cust")
        .send()
        .await
        .unwrap();
    server
        .complete_checkout(&session.checkout_session_id)
        .unwrap();
    server.clear_requests();
    (server, client)
}

fn entitlement_requests(server: &MockServer) -> Vec<kelviq_mock::LoggedRequest> {
    server
        .requests()
        .into_iter()
        .filter(|r| r.operation.as_deref() == Some("getEntitlements"))
        .collect()
}

// Long enough that two consecutive calls on a loaded machine fall inside one freshness window.
const SHORT: Duration = Duration::from_millis(500);

#[tokio::test]
async fn checks_of_ten_features_of_one_customer_take_one_request() {
    let (server, client) = setup(CacheConfig::default(), fast_retries()).await;
    let features = [
        "premium-reporting",
        "advanced-analytics",
        "api-usage",
        "seats",
        "projects",
        "api-calls-tier1",
        "not-in-any-plan",
        "premium-reporting",
        "seats",
        "also-missing",
    ];
    let mut answers = Vec::new();
    for feature in features {
        answers.push(
            client
                .entitlements()
                .has_access("cust", feature)
                .send()
                .await
                .unwrap(),
        );
    }
    assert_eq!(
        answers,
        [true, true, true, true, true, false, false, true, true, false]
    );
    let requests = entitlement_requests(&server);
    assert_eq!(requests.len(), 1, "{requests:#?}");
    assert_eq!(
        requests[0].query.as_deref(),
        Some("customer_id=cust"),
        "the whole set is fetched"
    );

    // get_entitlement and get_all_entitlements answer from the same set.
    let one = client
        .entitlements()
        .get_entitlement("cust", "api-usage")
        .send()
        .await
        .unwrap();
    assert_eq!(one.entitlements().len(), 1);
    let all = client
        .entitlements()
        .get_all_entitlements("cust")
        .send()
        .await
        .unwrap();
    assert_eq!(all.entitlements().len(), 5);
    assert_eq!(entitlement_requests(&server).len(), 1);
}

#[tokio::test]
async fn fifty_concurrent_misses_on_one_customer_make_one_request() {
    let (server, client) = setup(CacheConfig::default(), fast_retries()).await;
    // Hold the first answer back so that every check arrives while it is in flight.
    server.inject(Fault::new(
        "getEntitlements",
        1,
        FaultKind::Delay { ms: 300 },
    ));
    let client = Arc::new(client);
    let mut tasks = Vec::new();
    for i in 0..50 {
        let client = client.clone();
        tasks.push(tokio::spawn(async move {
            let feature = if i % 2 == 0 {
                "premium-reporting"
            } else {
                "api-usage"
            };
            client
                .entitlements()
                .has_access("cust", feature)
                .send()
                .await
        }));
    }
    for task in tasks {
        assert!(task.await.unwrap().unwrap());
    }
    assert_eq!(entitlement_requests(&server).len(), 1);
}

#[tokio::test]
async fn a_stale_entry_is_served_while_the_edge_answers_503_or_drops_connections() {
    let (server, client) = setup(CacheConfig::default().ttl(SHORT), RetryPolicy::none()).await;
    assert!(client
        .entitlements()
        .has_access("cust", "premium-reporting")
        .send()
        .await
        .unwrap());
    tokio::time::sleep(SHORT * 2).await;

    server.inject(Fault::new("getEntitlements", 1, FaultKind::status(503)));
    assert!(client
        .entitlements()
        .has_access("cust", "premium-reporting")
        .send()
        .await
        .unwrap());
    server.inject(Fault::new("getEntitlements", 1, FaultKind::Drop));
    assert!(client
        .entitlements()
        .has_access("cust", "premium-reporting")
        .send()
        .await
        .unwrap());
    assert_eq!(
        entitlement_requests(&server).len(),
        3,
        "each stale answer followed a real try"
    );

    // Once the edge answers again, the fresh set replaces the stale one.
    assert!(client
        .entitlements()
        .has_access("cust", "premium-reporting")
        .send()
        .await
        .unwrap());
    assert!(client
        .entitlements()
        .has_access("cust", "premium-reporting")
        .send()
        .await
        .unwrap());
    assert_eq!(entitlement_requests(&server).len(), 4);
}

#[tokio::test]
async fn a_404_or_401_is_never_masked_by_a_stale_entry() {
    let (server, client) = setup(CacheConfig::default().ttl(SHORT), RetryPolicy::none()).await;
    client
        .entitlements()
        .has_access("cust", "seats")
        .send()
        .await
        .unwrap();
    tokio::time::sleep(SHORT * 2).await;
    for (status, check) in [
        (
            404,
            (|e: &Error| matches!(e, Error::NotFound { .. })) as fn(&Error) -> bool,
        ),
        (401, |e: &Error| matches!(e, Error::Unauthorized { .. })),
        (400, |e: &Error| matches!(e, Error::BadRequest { .. })),
    ] {
        server.inject(Fault::new("getEntitlements", 1, FaultKind::status(status)));
        let error = client
            .entitlements()
            .has_access("cust", "seats")
            .send()
            .await
            .unwrap_err();
        assert!(check(&error), "{status}: {error:?}");
    }
}

#[tokio::test]
async fn without_a_stale_entry_the_failure_is_returned() {
    let (server, client) = setup(CacheConfig::default(), RetryPolicy::none()).await;
    server.inject(Fault::new("getEntitlements", 1, FaultKind::status(503)));
    let error = client
        .entitlements()
        .has_access("cust", "seats")
        .send()
        .await
        .unwrap_err();
    assert!(matches!(error, Error::Server { .. }), "{error:?}");
}

#[tokio::test]
async fn usage_is_visible_to_has_access_right_after_a_report() {
    let (server, client) = setup(CacheConfig::default(), fast_retries()).await;
    assert!(client
        .entitlements()
        .has_access("cust", "api-usage")
        .send()
        .await
        .unwrap());
    client
        .reporting()
        .report_usage(99, "cust", "api-usage", Behaviour::Set)
        .send()
        .await
        .unwrap()
        .sent()
        .expect("delivered");
    assert!(client
        .entitlements()
        .has_access("cust", "api-usage")
        .send()
        .await
        .unwrap());
    client
        .reporting()
        .report_usage(1, "cust", "api-usage", Behaviour::Delta)
        .send()
        .await
        .unwrap()
        .sent()
        .expect("delivered");
    assert!(
        !client
            .entitlements()
            .has_access("cust", "api-usage")
            .send()
            .await
            .unwrap(),
        "hard limit reached"
    );
    let meter = client
        .entitlements()
        .get_entitlement("cust", "api-usage")
        .send()
        .await
        .unwrap();
    assert_eq!(meter.feature("api-usage").unwrap().current_usage, Some(100));
    assert_eq!(
        entitlement_requests(&server).len(),
        1,
        "all answered from the cache"
    );

    // A report the service refused leaves the cache as it was.
    server.inject(Fault::new("reportUsage", 1, FaultKind::status(400)));
    client
        .reporting()
        .report_usage(0, "cust", "api-usage", Behaviour::Set)
        .send()
        .await
        .unwrap_err();
    assert!(!client
        .entitlements()
        .has_access("cust", "api-usage")
        .send()
        .await
        .unwrap());
}

#[tokio::test]
async fn a_subscription_change_drops_the_cached_sets() {
    let (server, client) = setup(CacheConfig::default(), fast_retries()).await;
    client.customers().create("other").send().await.unwrap();
    assert!(client
        .entitlements()
        .has_access("cust", "premium-reporting")
        .send()
        .await
        .unwrap());
    let subscriptions = reqwest::get(format!(
        "{}/_mock/customers/cust/subscriptions",
        server.url()
    ))
    .await
    .unwrap()
    .json::<serde_json::Value>()
    .await
    .unwrap();
    let id = subscriptions[0]["id"].as_str().unwrap().to_owned();
    client
        .subscriptions()
        .cancel(id.as_str(), kelviq::CancellationType::Immediate)
        .send()
        .await
        .unwrap();
    assert!(!client
        .entitlements()
        .has_access("cust", "premium-reporting")
        .send()
        .await
        .unwrap());
    assert_eq!(entitlement_requests(&server).len(), 2);
}

#[tokio::test]
async fn the_cache_can_be_turned_off() {
    let (server, client) = setup(CacheConfig::disabled(), fast_retries()).await;
    for _ in 0..3 {
        client
            .entitlements()
            .has_access("cust", "seats")
            .send()
            .await
            .unwrap();
    }
    let requests = entitlement_requests(&server);
    assert_eq!(requests.len(), 3);
    assert_eq!(
        requests[0].query.as_deref(),
        Some("customer_id=cust&feature_id=seats")
    );
}

#[tokio::test]
async fn past_its_bound_the_cache_evicts() {
    let (server, client) = setup(CacheConfig::default().max_customers(2), fast_retries()).await;
    for customer in ["a", "b", "c"] {
        client.customers().create(customer).send().await.unwrap();
        client
            .entitlements()
            .has_access(customer, "seats")
            .send()
            .await
            .unwrap();
    }
    server.clear_requests();
    for customer in ["a", "b", "c"] {
        client
            .entitlements()
            .has_access(customer, "seats")
            .send()
            .await
            .unwrap();
    }
    assert!(
        !entitlement_requests(&server).is_empty(),
        "one of three customers was evicted"
    );
}

#[test]
fn the_blocking_client_answers_cached_checks_without_its_runtime() {
    let h = common::Harness::new();
    h.subscribe("cust", "plan-pro-monthly");
    assert!(h
        .blocking
        .entitlements()
        .has_access("cust", "seats")
        .send()
        .unwrap());
    h.server.clear_requests();
    for _ in 0..100 {
        assert!(h
            .blocking
            .entitlements()
            .has_access("cust", "seats")
            .send()
            .unwrap());
    }
    assert!(h.server.requests().is_empty());
}
