//! What the provider's tests share: an emulator on loopback, a Kelviq client pointed at it,
//! and an OpenFeature client over the provider. Each test makes its own `OpenFeature` API
//! instance rather than the process-wide singleton, so that tests running at once in one
//! binary never see each other's provider.
#![allow(dead_code)]

use std::time::Duration;

use kelviq::{Kelviq, RetryPolicy};
use kelviq_mock::catalogue::FeatureKind;
use kelviq_mock::{Grant, MockServer};
use kelviq_openfeature::KelviqProvider;
use open_feature::{EvaluationContext, EvaluationErrorCode, OpenFeature};

pub const API_KEY: &str = "sk_test_openfeature_0123456789";

/// Fast retries, so that a failing edge host costs milliseconds.
pub fn fast_retries() -> RetryPolicy {
    RetryPolicy::default()
        .initial_backoff(Duration::from_millis(5))
        .max_backoff(Duration::from_millis(20))
}

/// An emulator and a client of it with default settings but fast retries.
pub async fn start() -> (MockServer, kelviq::Client) {
    let server = MockServer::start().await.expect("the emulator starts");
    let client = Kelviq::builder(API_KEY)
        .base_url(server.url())
        .retry_policy(fast_retries())
        .build()
        .expect("a client");
    (server, client)
}

/// An OpenFeature client whose provider answers from `provider`, on an API instance of its
/// own.
pub async fn flags(provider: KelviqProvider) -> open_feature::Client {
    let mut api = OpenFeature::default();
    api.set_provider(provider).await;
    api.create_client()
}

/// The evaluation context of one customer.
pub fn customer(id: &str) -> EvaluationContext {
    EvaluationContext::default().with_targeting_key(id)
}

/// Grants `feature_id` to `customer_id` directly, outside any plan.
pub fn grant(
    server: &MockServer,
    customer_id: &str,
    feature_id: &str,
    feature_type: FeatureKind,
    usage_limit: Option<i64>,
    hard_limit: Option<bool>,
) {
    server.grant(Grant {
        customer_id: customer_id.into(),
        feature_id: feature_id.into(),
        feature_type,
        usage_limit,
        hard_limit,
    });
}

/// Creates a customer and completes a checkout of `plan` for it.
pub async fn subscribe(
    server: &MockServer,
    client: &kelviq::Client,
    customer_id: &str,
    plan: &str,
) {
    client
        .customers()
        .create(customer_id)
        .send()
        .await
        .expect("customer created");
    let session = client
        .checkout()
        .create_session(
            plan,
            kelviq::ChargePeriod::Monthly,
            "https://example.com/ok",
        )
        .customer_id(customer_id)
        .send()
        .await
        .expect("checkout created");
    server
        .complete_checkout(&session.checkout_session_id)
        .expect("checkout completed");
}

/// How many entitlement requests the emulator has received.
pub fn entitlement_requests(server: &MockServer) -> usize {
    server
        .requests()
        .iter()
        .filter(|r| r.operation.as_deref() == Some("getEntitlements"))
        .count()
}

/// The error code of an evaluation that must have failed.
pub fn code_of<T: std::fmt::Debug>(
    result: open_feature::EvaluationResult<T>,
) -> EvaluationErrorCode {
    match result {
        Ok(value) => panic!("expected an error, got {value:?}"),
        Err(error) => error.code,
    }
}
