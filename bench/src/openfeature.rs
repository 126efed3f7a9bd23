//! A cached boolean flag through OpenFeature (`kelviq-openfeature`) against a direct
//! `has_access`, in the same run: what the standard API costs on the hot path.

use std::hint::black_box;
use std::time::{Duration, Instant};

use kelviq::{CacheConfig, Kelviq};
use kelviq_mock::MockServer;
use kelviq_openfeature::open_feature::{EvaluationContext, OpenFeature};
use kelviq_openfeature::KelviqProvider;

use crate::{allocations, median, Table, REPETITIONS};

const EVALUATIONS: usize = 200_000;

pub fn section(table: &mut Table, runtime: &tokio::runtime::Runtime, server: &MockServer) {
    let (customer, feature) = ("customer-00042", "feature-03");
    let client = Kelviq::builder("sk_bench")
        .base_url(server.url())
        .entitlement_cache(CacheConfig::default().ttl(Duration::from_secs(3600)))
        .build()
        .expect("a client");
    let (direct, through, allocs_direct, allocs_through) = runtime.block_on(async {
        let mut api = OpenFeature::default();
        api.set_provider(KelviqProvider::new(client.clone())).await;
        let flags = api.create_client();
        let context = EvaluationContext::default().with_targeting_key(customer);
        // Warm the set: every call below is answered from memory.
        assert!(client
            .entitlements()
            .has_access(customer, feature)
            .send()
            .await
            .expect("warm-up"));
        let (mut direct, mut through) = (Vec::new(), Vec::new());
        let (mut allocs_direct, mut allocs_through) = (0, 0);
        for _ in 0..REPETITIONS {
            let before = allocations();
            let started = Instant::now();
            for _ in 0..EVALUATIONS {
                black_box(
                    client
                        .entitlements()
                        .has_access(black_box(customer), black_box(feature))
                        .send()
                        .await
                        .unwrap_or(false),
                );
            }
            direct.push(started.elapsed().as_nanos() as f64 / EVALUATIONS as f64);
            allocs_direct += allocations() - before;
            let before = allocations();
            let started = Instant::now();
            for _ in 0..EVALUATIONS {
                black_box(
                    flags
                        .get_bool_value(black_box(feature), Some(&context), None)
                        .await
                        .unwrap_or(false),
                );
            }
            through.push(started.elapsed().as_nanos() as f64 / EVALUATIONS as f64);
            allocs_through += allocations() - before;
        }
        (
            median(direct),
            median(through),
            allocs_direct,
            allocs_through,
        )
    });
    let per_call = |total: u64| total as f64 / (REPETITIONS * EVALUATIONS) as f64;
    table.add(
        "cached boolean flag through OpenFeature / direct `has_access` (async, awaited)",
        format!("{through:.0} / {direct:.0} ns"),
        format!(
            "{:.1}x the direct call; allocations per call {:.1} / {:.1} (medians of 3)",
            through / direct,
            per_call(allocs_through),
            per_call(allocs_direct)
        ),
    );
}
