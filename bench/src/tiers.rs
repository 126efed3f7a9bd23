//! The second tiers: `has_access` answered from Redis against the same call answered by the
//! edge host, and what keeping a report costs in each queue (memory, the durable file,
//! Redis) while the API host is unreachable.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use kelviq::{Kelviq, QueueConfig, RedisConfig};
use kelviq_mock::MockServer;

use crate::{customer, median, percentiles, queued_report, Table};

/// Customers whose sets each measurement fetches once: every call is a miss in memory.
const MISSES: usize = 2_000;
const ROUNDS: usize = 3;
const REPORTS: usize = 2_000;

/// A `redis-server` on a free loopback port, killed on drop.
struct Redis(Child, u16);

impl Redis {
    fn start() -> Option<Self> {
        let port = TcpListener::bind("127.0.0.1:0")
            .ok()?
            .local_addr()
            .ok()?
            .port();
        let child = Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if started.elapsed() > Duration::from_secs(10) {
                return None;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        Some(Self(child, port))
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.1)
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The latency of one `has_access` per customer `from..from + MISSES`, each a miss in the
/// client's memory.
fn misses(
    runtime: &tokio::runtime::Runtime,
    client: &kelviq::Client,
    from: usize,
) -> Vec<Duration> {
    runtime.block_on(async {
        let mut took = Vec::with_capacity(MISSES);
        for i in from..from + MISSES {
            let started = Instant::now();
            let allowed = client
                .entitlements()
                .has_access(customer(i), "feature-01")
                .send()
                .await
                .unwrap();
            took.push(started.elapsed());
            assert!(allowed);
        }
        took
    })
}

pub(crate) fn section(
    table: &mut Table,
    runtime: &tokio::runtime::Runtime,
    server_runtime: &tokio::runtime::Runtime,
    server: &MockServer,
) {
    let Some(redis) = Redis::start() else {
        table.add(
            "`has_access` from the Redis tier",
            "skipped",
            "redis-server is not installed (apt-get install redis-server)",
        );
        return;
    };
    let client = |redis: Option<RedisConfig>, namespace: &str| {
        let builder = Kelviq::builder("sk_bench").base_url(server.url());
        let builder = match redis {
            Some(redis) => builder.redis(redis.namespace(namespace)),
            None => builder,
        };
        runtime.block_on(async { builder.build().expect("a client") })
    };
    let node = || Some(RedisConfig::new(redis.url()));
    // `KELVIQ_BENCH=keep`: only the "kept in Redis" row, five times, for profiling.
    if std::env::var("KELVIQ_BENCH").as_deref() == Ok("keep") {
        server.go_offline();
        for _ in 0..5 {
            let ((p50, p99, _), _) = keep_reports(runtime, server, node(), 1);
            let (_, rate) = keep_reports(runtime, server, node(), 64);
            eprintln!("kept in Redis: p50 {p50:.1} µs, p99 {p99:.1} µs; {rate:.0} reports/s from 64 tasks");
        }
        server_runtime
            .block_on(server.go_online())
            .expect("back online");
        return;
    }
    // A Redis Cluster (three primaries, a replica each), when it can be started.
    let cluster = kelviq_tests::redis_deploy::RedisCluster::start_or_skip();
    let on_cluster = || {
        cluster
            .as_ref()
            .map(|cluster| RedisConfig::cluster(cluster.urls()))
    };

    // Each round: a client without Redis asks the edge host for 2,000 customers; a client
    // with Redis fills it with the same; a third, its memory empty, reads them from Redis.
    let (mut edge, mut shared, mut through) = (Vec::new(), Vec::new(), Vec::new());
    let mut clustered = Vec::new();
    for round in 0..ROUNDS {
        let namespace = format!("bench-{round}");
        let from = round * MISSES;
        edge.push(percentiles(misses(
            runtime,
            &client(None, &namespace),
            from,
        )));
        let filler = client(node(), &namespace);
        through.push(percentiles(misses(runtime, &filler, from)));
        let reader = client(node(), &namespace);
        shared.push(percentiles(misses(runtime, &reader, from)));
        let stats = reader.redis_stats().expect("a Redis tier");
        assert_eq!(
            stats.cache_hits as usize, MISSES,
            "every call answered from Redis"
        );
        if on_cluster().is_some() {
            let filler = client(on_cluster(), &namespace);
            let _ = misses(runtime, &filler, from);
            let reader = client(on_cluster(), &namespace);
            clustered.push(percentiles(misses(runtime, &reader, from)));
            let stats = reader.redis_stats().expect("a Redis tier");
            assert_eq!(
                stats.cache_hits as usize, MISSES,
                "every call answered from the cluster"
            );
        }
    }
    let p = |rows: &[(f64, f64, f64)], i: usize| {
        median(
            rows.iter()
                .map(|r| if i == 0 { r.0 } else { r.1 })
                .collect(),
        )
    };
    let (edge50, edge99) = (p(&edge, 0), p(&edge, 1));
    let (shared50, shared99) = (p(&shared, 0), p(&shared, 1));
    table.add(
        "`has_access`, a miss in memory answered by the edge host (no Redis): p50 / p99",
        format!("{edge50:.1} / {edge99:.1} µs"),
        format!("{MISSES} customers, median of {ROUNDS} rounds"),
    );
    table.add(
        "`has_access`, a miss in memory answered from the Redis tier: p50 / p99",
        format!("{shared50:.1} / {shared99:.1} µs"),
        format!(
            "{:.2}x / {:.2}x the edge host's, in the same run (an edge host across a network costs more; this one is on loopback)",
            shared50 / edge50,
            shared99 / edge99
        ),
    );
    if !clustered.is_empty() {
        let (c50, c99) = (p(&clustered, 0), p(&clustered, 1));
        table.add(
            "`has_access`, a miss in memory answered from a Redis Cluster (3 primaries): p50 / p99",
            format!("{c50:.1} / {c99:.1} µs"),
            format!(
                "{:.2}x / {:.2}x one node's, in the same run",
                c50 / shared50,
                c99 / shared99
            ),
        );
    }
    table.add(
        "`has_access`, a miss in memory and in Redis: edge host, then the set written to Redis: p50 / p99",
        format!("{:.1} / {:.1} µs", p(&through, 0), p(&through, 1)),
        "what the first instance pays to fill the tier",
    );

    // Keeping a report while the API host refuses connections, in each queue.
    server.go_offline();
    let dir = std::env::temp_dir().join(format!("kelviq-bench-{}", std::process::id()));
    let keep = |queue: QueueConfig, redis: Option<RedisConfig>, tasks: usize| {
        keep_in(runtime, server, queue, redis, tasks)
    };
    let mut queues = vec![
        "in memory",
        "in the durable file (redb, synced)",
        "in Redis",
    ];
    if cluster.is_some() {
        queues.push("in a Redis Cluster (3 primaries)");
    }
    for queue in queues {
        let measure = |tasks: usize| match queue {
            "in memory" => keep(QueueConfig::default(), None, tasks),
            "in Redis" => keep(QueueConfig::default(), node(), tasks),
            "in a Redis Cluster (3 primaries)" => keep(QueueConfig::default(), on_cluster(), tasks),
            _ => {
                let path = dir.join(format!("queue-{tasks}.redb"));
                keep(QueueConfig::default().durable_at(path), None, tasks)
            }
        };
        let ((p50, p99, _), _) = measure(1);
        let (_, rate) = measure(64);
        table.add(
            format!("`report_usage` while the API host is unreachable, kept {queue}: p50 / p99, one task"),
            format!("{p50:.1} / {p99:.1} µs"),
            format!("{rate:.0} reports/s from 64 tasks ({REPORTS} reports)"),
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
    server_runtime
        .block_on(server.go_online())
        .expect("back online");
    server.clear_requests();
}

/// Reports kept while the API host refuses connections: their latencies' percentiles and
/// the rate from `tasks` tasks.
fn keep_in(
    runtime: &tokio::runtime::Runtime,
    server: &MockServer,
    queue: QueueConfig,
    redis: Option<RedisConfig>,
    tasks: usize,
) -> ((f64, f64, f64), f64) {
    let builder = Kelviq::builder("sk_bench")
        .base_url(server.url())
        .offline_queue(
            queue
                .capacity(REPORTS * 2)
                .retry_interval(Duration::from_secs(3600)),
        );
    let builder = match redis {
        Some(redis) => builder.redis(redis.namespace("bench-queue")),
        None => builder,
    };
    runtime.block_on(async {
        let client = builder.build().expect("a client");
        let started = Instant::now();
        let mut handles = Vec::new();
        for task in 0..tasks {
            let client = client.clone();
            handles.push(tokio::spawn(async move {
                let mut took = Vec::with_capacity(REPORTS / tasks);
                for i in 0..REPORTS / tasks {
                    took.push(queued_report(&client, customer(task * 1000 + i)).await);
                }
                took
            }));
        }
        let mut took = Vec::new();
        for handle in handles {
            took.extend(handle.await.unwrap());
        }
        let rate = REPORTS as f64 / started.elapsed().as_secs_f64();
        (percentiles(took), rate)
    })
}

fn keep_reports(
    runtime: &tokio::runtime::Runtime,
    server: &MockServer,
    redis: Option<RedisConfig>,
    tasks: usize,
) -> ((f64, f64, f64), f64) {
    keep_in(runtime, server, QueueConfig::default(), redis, tasks)
}
