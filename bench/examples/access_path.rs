//! One side of the uncached round-trip row at a time, against an emulator started elsewhere
//! (`kelviq-mock --addr 127.0.0.1:PORT`), so that a profiler sees the client alone:
//! `access_path sdk|bare CALLS URL`.

use std::time::Instant;

use kelviq::{CacheConfig, Kelviq};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [side, calls, url] = args.as_slice() else {
        eprintln!("usage: access_path sdk|bare CALLS URL");
        std::process::exit(2);
    };
    let calls: usize = calls.parse().unwrap();
    // As the benchmark runs the client: one worker thread.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("client")
        .enable_all()
        .build()
        .unwrap();
    let sdk = Kelviq::builder("sk_bench")
        .base_url(url)
        .entitlement_cache(CacheConfig::disabled())
        .build()
        .unwrap();
    let bare = reqwest::Client::builder()
        .timeout(kelviq::DEFAULT_TIMEOUT)
        .user_agent(kelviq::USER_AGENT)
        .build()
        .unwrap();
    let target = reqwest::Url::parse(&format!("{url}/api/v1/entitlements")).unwrap();
    runtime.block_on(async {
        bare.post(format!("{url}/api/v1/customers/"))
            .header("authorization", "Bearer sk_bench")
            .json(&serde_json::json!({ "customer_id": "customer-042" }))
            .send()
            .await
            .unwrap();
    });
    let future = sdk.entitlements().has_access("c", "f").send();
    eprintln!(
        "the SDK's has_access future: {} bytes",
        std::mem::size_of_val(&future)
    );
    drop(future);
    let started = Instant::now();
    // `ACCESS_PATH_SPAWN=1`: the calls run in a task of the runtime, not in `block_on`.
    let spawn = std::env::var("ACCESS_PATH_SPAWN").is_ok();
    let calls_of = |side: String,
                    sdk: kelviq::Client,
                    bare: reqwest::Client,
                    target: reqwest::Url| async move {
        for _ in 0..calls {
            if side == "sdk" {
                let access = sdk
                    .entitlements()
                    .has_access("customer-042", "f")
                    .send()
                    .await
                    .unwrap();
                std::hint::black_box(access);
            } else {
                let body: Bare = bare
                    .get(target.clone())
                    .query(&[("customer_id", "customer-042"), ("feature_id", "f")])
                    .header("authorization", "Bearer sk_bench")
                    .header("accept", "application/json")
                    .send()
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap();
                std::hint::black_box(
                    body.entitlements
                        .iter()
                        .any(|e| e.feature_id == "f" && e.has_access),
                );
            }
        }
    };
    let work = calls_of(side.clone(), sdk.clone(), bare.clone(), target.clone());
    if spawn {
        runtime.block_on(async { tokio::spawn(work).await.unwrap() });
    } else {
        runtime.block_on(work);
    }
    let took = started.elapsed();
    println!(
        "{side}: {:.1} µs a call",
        took.as_secs_f64() * 1e6 / calls as f64
    );
}

/// The answer, as far as a bare `has_access` needs it (as the benchmark's bare side).
#[derive(serde::Deserialize)]
struct Bare {
    entitlements: Vec<BareEntry>,
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct BareEntry {
    feature_id: String,
    has_access: bool,
}
