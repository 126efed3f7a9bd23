//! Review 6 of the group commit of pushes to the shared queue, against the emulator on
//! loopback and a real `redis-server` (behind a proxy that delays its answers, for a Redis
//! that is slow but answers within the time-out). Without `redis-server` installed these
//! say so and pass, unless `KELVIQ_REQUIRE_REDIS` is set (as CI does).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use kelviq::Behaviour;
use kelviq_tests::offline_queue::{
    client, emulator, offline_and_warm, spawn_report, used, FEATURE,
};
use kelviq_tests::proxy::slow_answers;
use kelviq_tests::redis_server::RedisServer;

/// The most reports one script call carries (`shared::group::MOST`).
const MOST: usize = 64;

/// Finding 1. Behind a call in flight the pushes went at most `MOST` a call, one call at a
/// time: behind a Redis that answers each call within the time-out, but slowly, a push
/// waited one round trip for every `MOST` ahead of it (without bound while reports come
/// faster than `MOST` a round trip). Each report here must be queued within two time-outs
/// (the call it waited behind, then its own).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pushes_behind_a_slow_redis_wait_no_longer_than_two_time_outs() {
    let Some(redis) = RedisServer::start_or_skip() else {
        return;
    };
    let delay = Arc::new(AtomicU64::new(0));
    let url = slow_answers(redis.port(), delay.clone()).await;
    let server = emulator::<&str>(&[]).await;
    let timeout = Duration::from_millis(1_000);
    let client = client(&server, &url, timeout);
    offline_and_warm(&server, &client).await;
    let kept_before = client.redis_stats().unwrap().kept_locally;
    let errors_before = client.redis_stats().unwrap().errors;
    // Every answer now takes 400 ms: each call is well within the time-out.
    delay.store(400, Ordering::Relaxed);
    let first = spawn_report(&client, "cust-slow-first", 1);
    tokio::time::sleep(Duration::from_millis(50)).await;
    let rest: Vec<_> = (0..MOST * 6)
        .map(|i| spawn_report(&client, &format!("cust-slow-{i}"), 1))
        .collect();
    let mut longest = first.await.unwrap();
    for task in rest {
        longest = longest.max(task.await.unwrap());
    }
    let stats = client.redis_stats().unwrap();
    assert_eq!(
        stats.errors - errors_before,
        0,
        "every call answered within the time-out"
    );
    assert_eq!(stats.kept_locally - kept_before, 0, "every report in Redis");
    assert!(
        longest < 2 * timeout,
        "a push waited {longest:?} behind a Redis answering every call in 400 ms (time-out \
         {timeout:?})"
    );
    delay.store(0, Ordering::Relaxed);
}

/// Finding 2. A report whose future was polled until it waited behind a call, then kept but
/// no longer polled (a `select!` that moved on and holds it for later), was named leader
/// when that call ended, and held its turn: every push after it waited until it was polled
/// again, without bound. A push still waiting after the Redis time-out now goes in a call
/// of its own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_report_kept_but_not_polled_does_not_hold_the_pushes_after_it() {
    let Some(redis) = RedisServer::start_or_skip() else {
        return;
    };
    let names = ["cust-held-first", "cust-held", "cust-held-after"];
    let server = emulator(&names).await;
    let timeout = Duration::from_millis(1_000);
    let client = client(&server, &redis.url(), timeout);
    offline_and_warm(&server, &client).await;
    redis.pause(600);
    tokio::time::sleep(Duration::from_millis(20)).await;
    let first = spawn_report(&client, names[0], 1);
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut held = Box::pin(
        client
            .reporting()
            .report_usage(2, names[1], FEATURE, Behaviour::Delta)
            .send(),
    );
    assert!(
        tokio::time::timeout(Duration::from_millis(100), &mut held)
            .await
            .is_err(),
        "it waits behind the first"
    );
    // The first's call ends: the held report is named leader, and is not polled.
    first.await.unwrap();
    let after = spawn_report(&client, names[2], 3);
    let took = tokio::time::timeout(Duration::from_secs(5), after)
        .await
        .expect("a push after a report kept but not polled ends")
        .unwrap();
    assert!(took < 2 * timeout, "it took {took:?}");
    // Polled again, the held report goes too.
    assert!(held.await.unwrap().is_queued());
    assert_eq!(client.redis_stats().unwrap().kept_locally, 0);
    server.go_online().await.unwrap();
    let flushed = client.flush().await;
    assert_eq!(
        (flushed.delivered, flushed.remaining),
        (3, 0),
        "{flushed:?}"
    );
    for (name, value) in names.iter().zip([1, 2, 3]) {
        assert_eq!(used(&server, name), value, "{name}: once");
    }
}
