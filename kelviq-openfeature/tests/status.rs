//! The provider's status follows what every evaluation saw, including evaluations that end
//! in an error after the edge host answered (or refused) them.

mod common;

use common::{code_of, customer, flags, grant, API_KEY};
use kelviq::{Kelviq, RetryPolicy};
use kelviq_mock::catalogue::FeatureKind;
use kelviq_mock::{Fault, FaultKind, MockServer};
use kelviq_openfeature::KelviqProvider;
use open_feature::provider::{FeatureProvider, ProviderStatus};
use open_feature::{EvaluationErrorCode, StructValue};

async fn start() -> (MockServer, kelviq::Client) {
    let server = MockServer::start().await.unwrap();
    let client = Kelviq::builder(API_KEY)
        .base_url(server.url())
        .retry_policy(RetryPolicy::none())
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
    (server, client)
}

#[tokio::test]
async fn a_type_mismatch_answered_from_a_fresh_fetch_clears_an_error_status() {
    let (server, client) = start().await;
    let provider = KelviqProvider::new(client);
    let status = provider.clone();
    let flags = flags(provider).await;
    let cust = customer("cust");

    // Nothing cached and the edge host away: the fallback policy answers, status ERROR.
    server.go_offline();
    assert_eq!(
        flags
            .get_bool_value("premium-reporting", Some(&cust), None)
            .await,
        Ok(false)
    );
    assert_eq!(status.status(), ProviderStatus::Error);

    // Back: an integer evaluation fetches the set afresh. The feature is BOOLEAN, so the
    // evaluation is a TYPE_MISMATCH, but the set it read was fresh.
    server.go_online().await.unwrap();
    assert_eq!(
        code_of(
            flags
                .get_int_value("premium-reporting", Some(&cust), None)
                .await
        ),
        EvaluationErrorCode::TypeMismatch
    );
    assert_eq!(
        status.status(),
        ProviderStatus::Ready,
        "the evaluation read a fresh set: the status must not stay ERROR"
    );
}

#[tokio::test]
async fn a_refused_api_key_is_an_error_status_not_ready() {
    let (server, client) = start().await;
    let provider = KelviqProvider::new(client);
    let status = provider.clone();
    let flags = flags(provider).await;
    let cust = customer("cust");

    // The key is refused (401) on every entitlement request: no flag can be resolved.
    server
        .inject(Fault::new("getEntitlements", 10, FaultKind::status(401)))
        .unwrap();
    assert_eq!(
        code_of(
            flags
                .get_bool_value("premium-reporting", Some(&cust), None)
                .await
        ),
        EvaluationErrorCode::General("GENERAL".into())
    );
    assert_eq!(
        code_of(
            flags
                .get_struct_value::<StructValue>("premium-reporting", Some(&cust), None)
                .await
        ),
        EvaluationErrorCode::General("GENERAL".into())
    );
    assert_eq!(
        status.status(),
        ProviderStatus::Error,
        "a provider whose key is refused cannot resolve flags"
    );

    // Once the key is accepted again, a fresh answer makes it READY.
    server.clear_faults();
    assert_eq!(
        flags
            .get_bool_value("premium-reporting", Some(&cust), None)
            .await,
        Ok(true)
    );
    assert_eq!(status.status(), ProviderStatus::Ready);
}

#[tokio::test]
async fn an_answer_that_is_not_kelviqs_is_an_error_status() {
    let (server, client) = start().await;
    let provider = KelviqProvider::new(client);
    let status = provider.clone();
    let flags = flags(provider).await;
    server
        .inject(Fault::new("getEntitlements", 1, FaultKind::Malformed))
        .unwrap();
    assert_eq!(
        code_of(
            flags
                .get_int_value("premium-reporting", Some(&customer("cust")), None)
                .await
        ),
        EvaluationErrorCode::General("GENERAL".into())
    );
    assert_eq!(status.status(), ProviderStatus::Error);
}
