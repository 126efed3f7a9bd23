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
    let runtime = tokio::runtime::Runtime::new().unwrap();
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
    let rate = runtime.block_on(async {
        let started = Instant::now();
        let mut handles = Vec::new();
        for task in 0..tasks {
            let client = client.clone();
            handles.push(tokio::spawn(async move {
                for i in 0..reports / tasks {
                    let delivery = client
                        .reporting()
                        .report_usage(1, format!("customer-{task}-{i}"), "f", Behaviour::Delta)
                        .send()
                        .await
                        .unwrap();
                    assert!(delivery.is_queued());
                }
            }));
        }
        for handle in handles {
            handle.await.unwrap();
        }
        reports as f64 / started.elapsed().as_secs_f64()
    });
    println!("{rate:.0} reports/s from {tasks} tasks");
}
