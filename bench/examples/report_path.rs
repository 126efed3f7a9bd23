//! One side of the report throughput row at a time, against an emulator started elsewhere,
//! so that a profiler or `strace -c` sees the client alone:
//! `report_path sdk|bare TASKS REPORTS URL`.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use kelviq::{Behaviour, Kelviq};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [side, tasks, reports, url] = args.as_slice() else {
        eprintln!("usage: report_path sdk|bare TASKS REPORTS URL");
        std::process::exit(2);
    };
    let (tasks, reports): (usize, usize) = (tasks.parse().unwrap(), reports.parse().unwrap());
    // As the benchmark runs the client: one worker thread.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("client")
        .enable_all()
        .build()
        .unwrap();
    // The SDK's first client installs the TLS crypto provider reqwest's client needs.
    drop(Kelviq::builder("sk_bench").base_url(url).build().unwrap());
    let bare = reqwest::Client::builder()
        .timeout(kelviq::DEFAULT_TIMEOUT)
        .user_agent(kelviq::USER_AGENT)
        .build()
        .unwrap();
    // `sdk-on-bare`: the SDK over the bare side's reqwest client.
    let sdk = match side.as_str() {
        "sdk-on-bare" => Kelviq::builder("sk_bench")
            .base_url(url)
            .http_client(bare.clone()),
        _ => Kelviq::builder("sk_bench").base_url(url),
    }
    .build()
    .unwrap();
    let target = format!("{url}/api/v1/report/usage/");
    let future = sdk
        .reporting()
        .report_usage(1, "c", "f", Behaviour::Delta)
        .send();
    eprintln!(
        "the SDK's report future: {} bytes",
        std::mem::size_of_val(&future)
    );
    drop(future);
    runtime.block_on(async {
        for i in 0..100 {
            bare.post(format!("{url}/api/v1/customers/"))
                .header("authorization", "Bearer sk_bench")
                .json(&serde_json::json!({ "customer_id": format!("customer-{i:03}") }))
                .send()
                .await
                .unwrap();
        }
    });
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    runtime.block_on(async {
        let mut handles = Vec::new();
        for _ in 0..tasks {
            let (next, sdk, bare, target, side) =
                (next.clone(), sdk.clone(), bare.clone(), target.clone(), side.clone());
            handles.push(tokio::spawn(async move {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= reports {
                        break;
                    }
                    let customer = format!("customer-{:03}", i % 100);
                    if side.starts_with("sdk") {
                        let delivery = sdk
                            .reporting()
                            .report_usage(1, customer, "api-usage", Behaviour::Delta)
                            .send()
                            .await
                            .unwrap();
                        assert!(!delivery.is_queued());
                    } else {
                        let body = serde_json::json!({
                            "value": 1, "customerId": customer, "featureId": "api-usage", "behaviour": "DELTA"
                        });
                        let response = bare
                            .post(&target)
                            .header("authorization", "Bearer sk_bench")
                            .header("accept", "application/json")
                            .json(&body)
                            .send()
                            .await
                            .unwrap();
                        assert!(response.status().is_success());
                        let _: serde_json::Value = response.json().await.unwrap();
                    }
                }
            }));
        }
        for handle in handles {
            handle.await.unwrap();
        }
    });
    let took = started.elapsed();
    println!(
        "{side} {tasks} tasks: {:.0} reports/s, {:.1} µs each",
        reports as f64 / took.as_secs_f64(),
        took.as_secs_f64() * 1e6 / reports as f64
    );
}
