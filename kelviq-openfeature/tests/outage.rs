//! An edge outage through the OpenFeature client API: answered from the stale set while it
//! may stand in, then by the client's fallback policy, with reasons, metadata and the
//! provider's status saying so.

mod common;

use std::time::{Duration, Instant};

use common::{code_of, customer, flags, grant, API_KEY};
use kelviq::{CacheConfig, Fallback, FallbackPolicy, Kelviq, RetryPolicy};
use kelviq_mock::catalogue::FeatureKind;
use kelviq_mock::{Fault, FaultKind, MockServer};
use kelviq_openfeature::{metadata, KelviqProvider, STALE_REASON};
use open_feature::provider::{FeatureProvider, ProviderStatus};
use open_feature::{EvaluationErrorCode, EvaluationReason, FlagMetadataValue};

/// How long a fetched set is fresh.
const TTL: Duration = Duration::from_millis(500);
/// How long after that it may stand in: wide enough that the stale evaluations below fall
/// inside it on a loaded machine.
const MAX_STALE: Duration = Duration::from_secs(2);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edge_outage_is_answered_stale_then_by_the_fallback_policy() {
    let server = MockServer::start().await.unwrap();
    let client = Kelviq::builder(API_KEY)
        .base_url(server.url())
        .retry_policy(RetryPolicy::none())
        .entitlement_cache(CacheConfig::default().ttl(TTL).max_stale(MAX_STALE))
        .entitlement_fallback(
            FallbackPolicy::default() // deny…
                .feature("basic-export", Fallback::Allow) // …but keep the basics working
                .feature("audit-log", Fallback::Error), // and let this one be an error
        )
        .build()
        .unwrap();
    client.customers().create("cust").send().await.unwrap();
    grant(
        &server,
        "cust",
        "premium-reporting",
        FeatureKind::Boolean,
        None,
        None,
    );
    grant(
        &server,
        "cust",
        "seats",
        FeatureKind::Customizable,
        Some(5),
        None,
    );
    let provider = KelviqProvider::new(client);
    let status = provider.clone();
    let flags = flags(provider).await;
    let cust = customer("cust");

    // Fresh. The first fetch's answer is held back a little, as on a loaded machine: the
    // cache stamps the set when the answer arrives, so the waits below must count from then.
    server
        .inject(Fault::new(
            "getEntitlements",
            1,
            FaultKind::Delay { ms: 150 },
        ))
        .unwrap();
    let fetched = Instant::now();
    let fresh = flags
        .get_bool_details("premium-reporting", Some(&cust), None)
        .await
        .unwrap();
    // The set was stamped between `fetched` and now.
    let answered = Instant::now();
    assert_eq!(
        (fresh.value, fresh.reason),
        (true, Some(EvaluationReason::Cached))
    );
    assert_eq!(flags.get_int_value("seats", Some(&cust), None).await, Ok(5));
    assert_eq!(status.status(), ProviderStatus::Ready);

    // The edge host goes away; once the set is past its ttl, it is answered stale.
    server.go_offline();
    tokio::time::sleep(TTL + Duration::from_millis(100)).await;
    let stale = flags
        .get_bool_details("premium-reporting", Some(&cust), None)
        .await
        .unwrap();
    let elapsed = fetched.elapsed();
    assert!(stale.value, "the stale set's answer");
    assert_eq!(
        stale.reason,
        Some(EvaluationReason::Other(STALE_REASON.into()))
    );
    assert_eq!(
        stale.flag_metadata.values.get(metadata::SOURCE),
        Some(&FlagMetadataValue::String(metadata::STALE.into()))
    );
    let Some(FlagMetadataValue::Int(age_ms)) = stale.flag_metadata.values.get(metadata::AGE_MS)
    else {
        panic!("a stale answer says its age: {:?}", stale.flag_metadata);
    };
    // The cache's clock is coarse (a few milliseconds), and it stamped the set before the
    // fetch returned.
    assert!(
        *age_ms >= TTL.as_millis() as i64 && *age_ms <= elapsed.as_millis() as i64 + 50,
        "age {age_ms} ms, {elapsed:?} since the fetch"
    );
    assert_eq!(status.status(), ProviderStatus::STALE);
    let seats = flags
        .get_int_details("seats", Some(&cust), None)
        .await
        .unwrap();
    assert_eq!(
        (seats.value, seats.reason),
        (5, Some(EvaluationReason::Other(STALE_REASON.into())))
    );

    // Past max_stale the set may no longer stand in: the fallback policy answers booleans.
    let too_old = TTL + MAX_STALE + Duration::from_millis(100);
    tokio::time::sleep(too_old.saturating_sub(answered.elapsed())).await;
    let denied = flags
        .get_bool_details("premium-reporting", Some(&cust), None)
        .await
        .unwrap();
    assert_eq!(
        (denied.value, denied.reason),
        (false, Some(EvaluationReason::Default))
    );
    assert_eq!(
        denied.flag_metadata.values.get(metadata::SOURCE),
        Some(&FlagMetadataValue::String(metadata::FALLBACK.into()))
    );
    assert_eq!(status.status(), ProviderStatus::Error);
    let allowed = flags
        .get_bool_details("basic-export", Some(&cust), None)
        .await
        .unwrap();
    assert_eq!(
        (allowed.value, allowed.reason),
        (true, Some(EvaluationReason::Default))
    );
    let error = flags
        .get_bool_value("audit-log", Some(&cust), None)
        .await
        .unwrap_err();
    assert_eq!(error.code, EvaluationErrorCode::General("GENERAL".into()));
    assert!(error.message.is_some(), "{error:?}");
    // A quantity has no fallback: an error, whose default is the application's.
    assert_eq!(
        code_of(flags.get_int_value("seats", Some(&cust), None).await),
        EvaluationErrorCode::General("GENERAL".into())
    );
    assert_eq!(
        flags
            .get_int_value("seats", Some(&cust), None)
            .await
            .unwrap_or(1),
        1
    );

    // Back online: the next evaluation fetches, fresh again.
    server.go_online().await.unwrap();
    let back = flags
        .get_bool_details("premium-reporting", Some(&cust), None)
        .await
        .unwrap();
    assert_eq!(
        (back.value, back.reason),
        (true, Some(EvaluationReason::Cached))
    );
    assert_eq!(status.status(), ProviderStatus::Ready);
}
