//! The "kept in Redis" row alone, so that a profiler sees the client and Redis alone:
//! `redis_keep TASKS REPORTS REDIS_URL` (the API host is a closed loopback port).

use std::time::Instant;

use kelviq::{Behaviour, Kelviq, QueueConfig, RedisConfig};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [tasks, reports, redis] = args.as_slice() else {
        eprintln!("usage: redis_keep TASKS REPORTS REDIS_URL");
        std::process::exit(2);
    };
    let (tasks, reports): (usize, usize) = (tasks.parse().unwrap(), reports.parse().unwrap());
    // One worker, as the benchmark's client runtime has.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    // A port nothing listens on: every report is kept.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let namespace = format!("keep-{}", std::process::id());
    let client = runtime.block_on(async {
        Kelviq::builder("sk_bench")
            .base_url(url)
            .redis(RedisConfig::new(redis).namespace(namespace))
            .offline_queue(
                QueueConfig::default()
                    .capacity(reports * 2)
                    .retry_interval(std::time::Duration::from_secs(3600)),
            )
            .build()
            .unwrap()
    });
    let (rate, mut took) = runtime.block_on(async {
        let started = Instant::now();
        let mut handles = Vec::new();
        for task in 0..tasks {
            let client = client.clone();
            handles.push(tokio::spawn(async move {
                let mut took = Vec::with_capacity(reports / tasks);
                for i in 0..reports / tasks {
                    let started = Instant::now();
                    let delivery = client
                        .reporting()
                        .report_usage(1, format!("customer-{task}-{i}"), "f", Behaviour::Delta)
                        .send()
                        .await
                        .unwrap();
                    took.push(started.elapsed());
                    assert!(delivery.is_queued());
                }
                took
            }));
        }
        let mut took = Vec::new();
        for handle in handles {
            took.extend(handle.await.unwrap());
        }
        (reports as f64 / started.elapsed().as_secs_f64(), took)
    });
    took.sort();
    let at =
        |q: f64| took[((took.len() as f64 * q) as usize).min(took.len() - 1)].as_secs_f64() * 1e6;
    println!(
        "{rate:.0} reports/s from {tasks} tasks; each report p50 {:.1} µs, p99 {:.1} µs, max {:.1} µs",
        at(0.5),
        at(0.99),
        at(1.0)
    );
}
