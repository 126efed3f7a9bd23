//! A fresh boolean evaluation allocates nothing in the provider: the one allocation is the
//! boxed future every `async_trait` method returns. Its own test binary, as the counting
//! allocator counts every thread: the runtime is not driven while it counts, so nothing else
//! runs.

mod common;

use std::future::Future;
use std::task::{Context, Poll, Waker};

use common::{customer, grant, API_KEY};
use kelviq_mock::catalogue::FeatureKind;
use kelviq_mock::MockServer;
use kelviq_openfeature::KelviqProvider;
use open_feature::provider::FeatureProvider;
use open_feature::{EvaluationContext, EvaluationReason, OpenFeature};
use stats_alloc::{Region, StatsAlloc, INSTRUMENTED_SYSTEM};

#[global_allocator]
static GLOBAL: &StatsAlloc<std::alloc::System> = &INSTRUMENTED_SYSTEM;

const ROUNDS: usize = 1_000;

/// Polls a future that must be ready at once (a fresh cached answer never waits).
fn ready<F: Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    match future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("a fresh answer waited"),
    }
}

#[test]
fn a_fresh_boolean_evaluation_allocates_only_the_traits_boxed_future() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (_server, client, provider, flags) = runtime.block_on(async {
        let server = MockServer::start().await.unwrap();
        let client = kelviq::Kelviq::builder(API_KEY)
            .base_url(server.url())
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
        let mut provider = KelviqProvider::new(client.clone());
        provider.initialize(&EvaluationContext::default()).await;
        let mut api = OpenFeature::default();
        api.set_provider(provider.clone()).await;
        let flags = api.create_client();
        // Fetch the customer's set once.
        assert!(client
            .entitlements()
            .has_access("cust", "premium-reporting")
            .send()
            .await
            .unwrap());
        (server, client, provider, flags)
    });
    let cust = customer("cust");

    let region = Region::new(GLOBAL);
    for _ in 0..ROUNDS {
        assert!(ready(
            client
                .entitlements()
                .has_access("cust", "premium-reporting")
                .send()
        )
        .unwrap());
    }
    let direct = region.change().allocations;

    let region = Region::new(GLOBAL);
    for _ in 0..ROUNDS {
        let details = ready(provider.resolve_bool_value("premium-reporting", &cust)).unwrap();
        assert!(details.value);
        assert!(details.reason == Some(EvaluationReason::Cached));
    }
    let provider_allocations = region.change().allocations;

    let region = Region::new(GLOBAL);
    for _ in 0..ROUNDS {
        assert!(ready(flags.get_bool_value("premium-reporting", Some(&cust), None)).unwrap());
    }
    let through_openfeature = region.change().allocations;

    println!(
        "allocations per fresh evaluation: has_access {}, the provider {}, the OpenFeature client {}",
        direct as f64 / ROUNDS as f64,
        provider_allocations as f64 / ROUNDS as f64,
        through_openfeature as f64 / ROUNDS as f64,
    );
    assert_eq!(
        direct, 0,
        "has_access answers a fresh set without allocating"
    );
    assert_eq!(
        provider_allocations, ROUNDS,
        "the provider adds nothing to the future async_trait boxes"
    );
}
