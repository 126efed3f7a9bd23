//! The entitlement cache against the emulator: what it asks the edge host, and what it
//! answers when the edge host fails.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{fast_retries, API_KEY};
use kelviq::{
    Behaviour, CacheConfig, Client, ErrorKind, Fallback, FallbackPolicy, Freshness, Kelviq,
    RetryPolicy,
};
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
    server
        .inject(Fault::new(
            "getEntitlements",
            1,
            FaultKind::Delay { ms: 300 },
        ))
        .unwrap();
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
async fn a_stale_entry_is_answered_at_once_and_refreshed_in_the_background() {
    let (server, client) = setup(CacheConfig::default().ttl(SHORT), RetryPolicy::none()).await;
    assert!(client
        .entitlements()
        .has_access("cust", "premium-reporting")
        .send()
        .await
        .unwrap());
    tokio::time::sleep(SHORT * 2).await;

    // The edge host fails: the stale set answers, flagged, and the one refresh fails.
    server
        .inject(Fault::new("getEntitlements", 1, FaultKind::status(503)))
        .unwrap();
    let access = client
        .entitlements()
        .check("cust", "premium-reporting")
        .send()
        .await
        .unwrap();
    assert!(access.allowed && access.is_stale(), "{access:?}");
    wait_for_requests(&server, 2).await;

    // Once the edge answers again, the next refresh (after its back-off) brings a fresh set.
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let access = client
        .entitlements()
        .check("cust", "premium-reporting")
        .send()
        .await
        .unwrap();
    assert!(access.allowed && access.is_stale());
    let mut fresh = false;
    for _ in 0..200 {
        let access = client
            .entitlements()
            .check("cust", "premium-reporting")
            .send()
            .await
            .unwrap();
        if access.freshness == Freshness::Fresh {
            fresh = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(fresh, "the background refresh brought a fresh set");
    assert_eq!(
        entitlement_requests(&server).len(),
        3,
        "the first fetch, the failed refresh, the one after its back-off"
    );
}

/// Waits until the emulator has answered `n` entitlement requests.
async fn wait_for_requests(server: &MockServer, n: usize) {
    for _ in 0..200 {
        let answered = entitlement_requests(server)
            .iter()
            .filter(|r| r.response.is_some())
            .count();
        if answered >= n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("{n} entitlement requests were not answered");
}

/// 2,000 checks from 8 tasks on a stale entry; each answer with the time it took.
async fn hammer_a_stale_entry(client: &Client) -> Vec<(kelviq::Access, Duration)> {
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let client = client.clone();
        tasks.push(tokio::spawn(async move {
            let mut answers = Vec::new();
            for _ in 0..250 {
                let started = Instant::now();
                let access = client
                    .entitlements()
                    .check("cust", "premium-reporting")
                    .send()
                    .await
                    .unwrap();
                answers.push((access, started.elapsed()));
            }
            answers
        }));
    }
    let mut answers = Vec::new();
    for task in tasks {
        answers.extend(task.await.unwrap());
    }
    answers
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn while_the_edge_answers_503_slowly_no_check_waits_for_the_refresh() {
    let (server, client) = setup(CacheConfig::default().ttl(SHORT), RetryPolicy::none()).await;
    client
        .entitlements()
        .has_access("cust", "premium-reporting")
        .send()
        .await
        .unwrap();
    tokio::time::sleep(SHORT * 2).await;
    // Every refresh is held back 3 s, then refused.
    server
        .inject(Fault::new(
            "getEntitlements",
            100,
            FaultKind::Status {
                status: 503,
                retry_after: None,
                body: None,
                after_ms: Some(3_000),
            },
        ))
        .unwrap();
    server.clear_requests();

    let answers = hammer_a_stale_entry(&client).await;
    let requests = entitlement_requests(&server);
    assert_eq!(answers.len(), 2_000);
    assert!(answers.iter().all(|(a, _)| a.allowed && a.is_stale()));
    assert!(requests.len() <= 1, "at most one refresh: {requests:#?}");
    assert!(
        requests.iter().all(|r| r.response.is_none()),
        "every check answered while the refresh was still held back"
    );
    let slowest = answers.iter().map(|(_, took)| *took).max().unwrap();
    assert!(
        slowest < Duration::from_secs(1),
        "no check waited: {slowest:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn while_the_edge_is_black_holed_no_check_waits_for_the_refresh() {
    let server = MockServer::start().await.unwrap();
    let client = Kelviq::builder(API_KEY)
        .base_url(server.url())
        .retry_policy(RetryPolicy::none())
        .connect_timeout(Duration::from_secs(3))
        .entitlement_cache(CacheConfig::default().ttl(SHORT))
        .build()
        .unwrap();
    client.customers().create("cust").send().await.unwrap();
    server.grant(kelviq_mock::Grant {
        customer_id: "cust".into(),
        feature_id: "premium-reporting".into(),
        feature_type: kelviq_mock::catalogue::FeatureKind::Boolean,
        usage_limit: None,
        hard_limit: None,
    });
    client
        .entitlements()
        .has_access("cust", "premium-reporting")
        .send()
        .await
        .unwrap();
    tokio::time::sleep(SHORT * 2).await;
    server.go_black_hole().await.unwrap();

    let started = Instant::now();
    let answers = hammer_a_stale_entry(&client).await;
    let all_answered = started.elapsed();
    assert_eq!(answers.len(), 2_000);
    assert!(answers.iter().all(|(a, _)| a.allowed && a.is_stale()));
    assert!(
        all_answered < Duration::from_secs(3),
        "all answered before the refresh's connect time-out: {all_answered:?}"
    );
}

#[tokio::test]
async fn an_invalidation_during_a_slow_fetch_wins() {
    let (server, client) = setup(CacheConfig::default(), RetryPolicy::none()).await;
    // The first fetch reads the set at once and answers late.
    server
        .inject(Fault::new(
            "getEntitlements",
            1,
            FaultKind::DelayAnswer { ms: 500 },
        ))
        .unwrap();
    let slow = {
        let client = client.clone();
        tokio::spawn(async move {
            client
                .entitlements()
                .has_access("cust", "extra-feature")
                .send()
                .await
        })
    };
    tokio::time::sleep(Duration::from_millis(150)).await;
    // Meanwhile the customer buys something and the webhook invalidates.
    server.grant(kelviq_mock::Grant {
        customer_id: "cust".into(),
        feature_id: "extra-feature".into(),
        feature_type: kelviq_mock::catalogue::FeatureKind::Boolean,
        usage_limit: None,
        hard_limit: None,
    });
    client.invalidate_entitlements("cust");
    assert!(
        !slow.await.unwrap().unwrap(),
        "the slow fetch answers what it read before the purchase"
    );
    assert!(
        client
            .entitlements()
            .has_access("cust", "extra-feature")
            .send()
            .await
            .unwrap(),
        "but it did not put the old set back: the next check sees the purchase"
    );
    assert_eq!(entitlement_requests(&server).len(), 2);
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
    // Retired, so that the next check must ask and cannot answer from the old set.
    client.invalidate_entitlements("cust");
    for (status, kind) in [
        (404, ErrorKind::NotFound),
        (401, ErrorKind::Unauthorized),
        (400, ErrorKind::BadRequest),
    ] {
        server
            .inject(Fault::new("getEntitlements", 1, FaultKind::status(status)))
            .unwrap();
        let error = client
            .entitlements()
            .has_access("cust", "seats")
            .send()
            .await
            .unwrap_err();
        assert_eq!(error.kind(), kind, "{status}: {error:?}");
    }
}

#[tokio::test]
async fn an_invalidated_set_still_answers_flagged_stale_while_the_edge_fails() {
    let (server, client) = setup(CacheConfig::default(), RetryPolicy::none()).await;
    assert!(client
        .entitlements()
        .has_access("cust", "seats")
        .send()
        .await
        .unwrap());
    client.invalidate_entitlements("cust");
    server
        .inject(Fault::new("getEntitlements", 1, FaultKind::status(503)))
        .unwrap();
    let access = client
        .entitlements()
        .check("cust", "seats")
        .send()
        .await
        .unwrap();
    assert!(access.allowed && access.is_stale(), "{access:?}");
}

#[tokio::test]
async fn without_a_usable_entry_the_fallback_policy_answers_and_says_so() {
    let server = MockServer::start().await.unwrap();
    let client = Kelviq::builder(API_KEY)
        .base_url(server.url())
        .retry_policy(RetryPolicy::none())
        .entitlement_fallback(
            FallbackPolicy::default()
                .feature("basic-export", Fallback::Allow)
                .feature("audit-log", Fallback::Error),
        )
        .build()
        .unwrap();
    client.customers().create("cust").send().await.unwrap();
    server
        .inject(Fault::new("getEntitlements", 3, FaultKind::status(503)))
        .unwrap();
    let denied = client
        .entitlements()
        .check("cust", "seats")
        .send()
        .await
        .unwrap();
    assert_eq!(
        (denied.allowed, denied.freshness),
        (false, Freshness::Fallback)
    );
    let allowed = client
        .entitlements()
        .check("cust", "basic-export")
        .send()
        .await
        .unwrap();
    assert_eq!(
        (allowed.allowed, allowed.freshness),
        (true, Freshness::Fallback)
    );
    let error = client
        .entitlements()
        .has_access("cust", "audit-log")
        .send()
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Server);
    // Reads of the data itself have no fallback.
    server
        .inject(Fault::new("getEntitlements", 1, FaultKind::status(503)))
        .unwrap();
    let error = client
        .entitlements()
        .get_all_entitlements("cust")
        .send()
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Server);
}

#[tokio::test]
async fn past_max_stale_a_set_is_not_used() {
    let (server, client) = setup(
        CacheConfig::default()
            .ttl(Duration::from_millis(100))
            .max_stale(Duration::from_millis(100)),
        RetryPolicy::none(),
    )
    .await;
    assert!(client
        .entitlements()
        .has_access("cust", "seats")
        .send()
        .await
        .unwrap());
    tokio::time::sleep(Duration::from_millis(400)).await;
    server
        .inject(Fault::new("getEntitlements", 1, FaultKind::status(503)))
        .unwrap();
    let access = client
        .entitlements()
        .check("cust", "seats")
        .send()
        .await
        .unwrap();
    assert_eq!(
        (access.allowed, access.freshness),
        (false, Freshness::Fallback),
        "too old to stand in"
    );
}

#[tokio::test]
async fn sixty_four_tasks_of_a_hundred_deltas_move_the_cached_and_the_services_usage_by_6400() {
    let server = MockServer::start().await.unwrap();
    let client = Kelviq::builder(API_KEY)
        .base_url(server.url())
        .build()
        .unwrap();
    client.customers().create("cust").send().await.unwrap();
    server.grant(kelviq_mock::Grant {
        customer_id: "cust".into(),
        feature_id: "calls".into(),
        feature_type: kelviq_mock::catalogue::FeatureKind::Meter,
        usage_limit: Some(1_000_000),
        hard_limit: Some(true),
    });
    let usage_of =
        |set: &kelviq::model::CustomerEntitlements| set.feature("calls").unwrap().current_usage;
    let before = client
        .entitlements()
        .get_entitlement("cust", "calls")
        .send()
        .await
        .unwrap();
    assert_eq!(usage_of(&before), Some(0));
    server.clear_requests();

    let mut tasks = Vec::new();
    for _ in 0..64 {
        let client = client.clone();
        tasks.push(tokio::spawn(async move {
            for _ in 0..100 {
                client
                    .reporting()
                    .report_usage(1, "cust", "calls", Behaviour::Delta)
                    .send()
                    .await
                    .unwrap()
                    .sent()
                    .expect("delivered");
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let after = client
        .entitlements()
        .get_entitlement("cust", "calls")
        .send()
        .await
        .unwrap();
    assert_eq!(usage_of(&after), Some(6_400), "the cache lost no update");
    assert_eq!(after.freshness(), Freshness::Fresh);
    assert!(
        entitlement_requests(&server).is_empty(),
        "answered from the cache"
    );
    assert_eq!(
        server.usage("cust")["calls"],
        6_400,
        "the service counted each once"
    );
}

#[tokio::test]
async fn a_hard_meter_denies_at_exactly_its_limit_under_concurrent_reports() {
    let server = MockServer::start().await.unwrap();
    let client = Kelviq::builder(API_KEY)
        .base_url(server.url())
        .build()
        .unwrap();
    client.customers().create("cust").send().await.unwrap();
    server.grant(kelviq_mock::Grant {
        customer_id: "cust".into(),
        feature_id: "calls".into(),
        feature_type: kelviq_mock::catalogue::FeatureKind::Meter,
        usage_limit: Some(200),
        hard_limit: Some(true),
    });
    assert!(client
        .entitlements()
        .has_access("cust", "calls")
        .send()
        .await
        .unwrap());
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let client = client.clone();
        tasks.push(tokio::spawn(async move {
            for _ in 0..10 {
                let _ = client
                    .reporting()
                    .report_usage(1, "cust", "calls", Behaviour::Delta)
                    .send()
                    .await
                    .unwrap();
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    assert!(
        !client
            .entitlements()
            .has_access("cust", "calls")
            .send()
            .await
            .unwrap(),
        "200 of 200 used: denied"
    );
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
    server
        .inject(Fault::new("reportUsage", 1, FaultKind::status(400)))
        .unwrap();
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

async fn subscription_of(server: &MockServer, customer: &str) -> String {
    let subscriptions = reqwest::get(format!(
        "{}/_mock/customers/{customer}/subscriptions",
        server.url()
    ))
    .await
    .unwrap()
    .json::<serde_json::Value>()
    .await
    .unwrap();
    subscriptions[0]["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_subscription_change_retires_the_cached_sets_but_keeps_them_as_fallbacks() {
    let (server, client) = setup(CacheConfig::default(), fast_retries()).await;
    client.customers().create("other").send().await.unwrap();
    assert!(client
        .entitlements()
        .has_access("cust", "premium-reporting")
        .send()
        .await
        .unwrap());
    assert!(!client
        .entitlements()
        .has_access("other", "premium-reporting")
        .send()
        .await
        .unwrap());
    let id = subscription_of(&server, "cust").await;
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
    assert_eq!(
        entitlement_requests(&server).len(),
        3,
        "the cancelled customer's set was fetched again"
    );

    // The other customer's set was retired too (whose subscription it was is not known),
    // yet while the edge fails it still answers, flagged stale.
    server
        .inject(Fault::new("getEntitlements", 4, FaultKind::status(503)))
        .unwrap();
    let other = client
        .entitlements()
        .check("other", "premium-reporting")
        .send()
        .await
        .unwrap();
    assert!(!other.allowed && other.is_stale(), "{other:?}");
}

#[tokio::test]
async fn a_subscription_change_whose_outcome_is_unknown_also_retires_the_sets() {
    let (server, client) = setup(CacheConfig::default(), fast_retries()).await;
    assert!(client
        .entitlements()
        .has_access("cust", "premium-reporting")
        .send()
        .await
        .unwrap());
    let id = subscription_of(&server, "cust").await;
    server
        .inject(Fault::new(
            "cancelSubscription",
            1,
            FaultKind::ApplyThenDrop,
        ))
        .unwrap();
    let error = client
        .subscriptions()
        .cancel(id.as_str(), kelviq::CancellationType::Immediate)
        .send()
        .await
        .unwrap_err();
    assert!(error.is_unconfirmed(), "{error:?}");
    assert!(
        !client
            .entitlements()
            .has_access("cust", "premium-reporting")
            .send()
            .await
            .unwrap(),
        "the next check asked the service, which had cancelled"
    );
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
#[cfg(feature = "blocking")]
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

/// A request that cannot even be built (a customer id so long that no URI holds it) is not an
/// outage: the fallback policy must not answer for it, with `Allow` least of all.
#[tokio::test]
async fn a_request_that_cannot_be_built_is_not_answered_by_the_fallback() {
    let server = MockServer::start().await.unwrap();
    let client = Kelviq::builder(API_KEY)
        .base_url(server.url())
        .retry_policy(RetryPolicy::none())
        .entitlement_fallback(FallbackPolicy::default().feature("basic-export", Fallback::Allow))
        .build()
        .unwrap();
    let huge = "c".repeat(70_000);
    let answer = client
        .entitlements()
        .check(huge.as_str(), "basic-export")
        .send()
        .await;
    let error = answer.expect_err("not an outage: no fallback answer");
    assert!(
        !matches!(
            error.kind(),
            kelviq::ErrorKind::Connection | kelviq::ErrorKind::Timeout
        ),
        "{:?}",
        error.kind()
    );
    assert!(server.requests().is_empty(), "nothing reached the server");
}
