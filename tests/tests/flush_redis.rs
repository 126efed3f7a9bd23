//! `flush` with the shared queue, against the emulator on loopback and a real
//! `redis-server`: a flush made once the service is back delivers every report waiting in
//! Redis, a lane's later reports too, and leaves nothing behind. Without `redis-server`
//! installed these say so and pass, unless `KELVIQ_REQUIRE_REDIS` is set (as CI does).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use kelviq_mock::{Fault, FaultKind};
use kelviq_tests::offline_queue::{
    delivered, emulator, flush_online, offline_and_warm, spawn_report,
};
use kelviq_tests::proxy::slow_answers;
use kelviq_tests::redis_server::RedisServer;

const TIMEOUT: Duration = Duration::from_secs(2);

/// Three reports of one lane and one of another wait in Redis; one flush delivers all four,
/// each lane in order, and says none remain. (The claim that finds a lane busy with its first
/// report must not end the pass: the lane's next report is claimable once that one is
/// delivered.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flush_delivers_every_report_of_a_lane_waiting_in_redis() {
    let Some(redis) = RedisServer::start_or_skip() else {
        return;
    };
    let (lane, other) = ("cust-flush-lane", "cust-flush-other");
    let server = emulator(&[lane, other]).await;
    let client = kelviq_tests::offline_queue::client(&server, &redis.url(), TIMEOUT);
    offline_and_warm(&server, &client).await;
    for value in [1, 2, 3] {
        spawn_report(&client, lane, value).await.unwrap();
    }
    spawn_report(&client, other, 7).await.unwrap();
    let stats = client.redis_stats().unwrap();
    assert_eq!(stats.kept_locally, 0, "all four were kept in Redis");

    let flushed = flush_online(&server, &client).await;
    assert_eq!(
        (flushed.delivered, flushed.remaining),
        (4, 0),
        "one flush delivers every report waiting in Redis: {flushed:?}"
    );
    assert_eq!(delivered(&server, lane), [1, 2, 3], "in the order made");
    assert_eq!(delivered(&server, other), [7]);
}

/// A flush cancelled while the first report of a lane, claimed from Redis, is on its way:
/// that send goes on by itself. The next flush waits for it to be settled, then claims the
/// lane's second report, rather than find the lane busy and say two remain.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flush_after_a_cancelled_one_delivers_the_rest_of_a_lane_in_redis() {
    let Some(redis) = RedisServer::start_or_skip() else {
        return;
    };
    let lane = "cust-flush-cancelled";
    let server = emulator(&[lane]).await;
    let client = kelviq_tests::offline_queue::client(&server, &redis.url(), TIMEOUT);
    offline_and_warm(&server, &client).await;
    for value in [1, 2] {
        spawn_report(&client, lane, value).await.unwrap();
    }
    server.go_online().await.unwrap();
    server
        .inject(Fault::new("reportUsage", 1, FaultKind::Delay { ms: 1_000 }))
        .unwrap();
    let cancelled = tokio::time::timeout(Duration::from_millis(300), client.flush()).await;
    assert!(cancelled.is_err(), "the first flush is cancelled mid-send");

    let flushed = client.flush().await;
    assert_eq!(
        flushed.remaining, 0,
        "the second flush waits for the first report, then delivers the second: {flushed:?}"
    );
    assert_eq!(delivered(&server, lane), [1, 2], "in the order made");
}

/// A report in Redis that cannot be read (written by a newer SDK, or damaged) is dropped by
/// the claim that finds it; the flush then claims again and delivers the report behind it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flush_delivers_the_report_behind_an_unreadable_one_in_its_lane() {
    let Some(redis) = RedisServer::start_or_skip() else {
        return;
    };
    let lane = "cust-flush-unreadable";
    let server = emulator(&[lane]).await;
    let client = kelviq_tests::offline_queue::client(&server, &redis.url(), TIMEOUT);
    offline_and_warm(&server, &client).await;
    for value in [1, 2] {
        spawn_report(&client, lane, value).await.unwrap();
    }
    let key = |name: &str| redis.cli(&["--scan", "--pattern", &format!("*queue:{name}")]);
    let first = redis.cli(&["ZRANGE", &key("order"), "0", "0"]);
    assert!(!first.is_empty(), "the lane's first report waits in Redis");
    redis.cli(&["HSET", &key("body"), &first, "{\"Future\":{}}"]);

    let flushed = flush_online(&server, &client).await;
    assert_eq!(
        (flushed.dropped, flushed.delivered, flushed.remaining),
        (1, 1, 0),
        "the unreadable one dropped, the next delivered: {flushed:?}"
    );
    assert_eq!(delivered(&server, lane), [2]);
}

/// `shutdown` behind many reports its claims cannot read, with Redis answering each call in
/// 50 ms: the pass makes no claim after the deadline beyond its first, rather than claim
/// and drop batch after batch (here, 40 reports, 8 a claim: about 2.3 s of round trips)
/// while the deadline has long passed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_keeps_its_deadline_behind_reports_it_cannot_read() {
    let Some(redis) = RedisServer::start_or_skip() else {
        return;
    };
    let names: Vec<String> = (0..40).map(|i| format!("cust-unread-{i}")).collect();
    let server = emulator(&names).await;
    let delay = Arc::new(AtomicU64::new(0));
    let url = slow_answers(redis.port(), delay.clone()).await;
    let client = kelviq_tests::offline_queue::client(&server, &url, TIMEOUT);
    offline_and_warm(&server, &client).await;
    for name in &names {
        spawn_report(&client, name, 1).await.unwrap();
    }
    let body = redis.cli(&["--scan", "--pattern", "*queue:body"]);
    redis.cli(&[
        "EVAL",
        "for _, id in ipairs(redis.call('HKEYS', KEYS[1])) do redis.call('HSET', KEYS[1], id, '{\"Future\":{}}') end",
        "1",
        &body,
    ]);
    server.go_online().await.unwrap();
    delay.store(50, Ordering::Relaxed);

    let started = Instant::now();
    client.shutdown(Duration::from_millis(100)).await;
    let took = started.elapsed();
    // One claim and the drops of what it found (about 0.45 s at 50 ms a call), not five.
    assert!(
        took < Duration::from_millis(1_500),
        "shutdown(100 ms) took {took:?}"
    );
}
