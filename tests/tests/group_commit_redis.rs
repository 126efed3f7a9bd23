//! Group commit of pushes to the shared queue, against the emulator on loopback and a real
//! `redis-server` held with `CLIENT PAUSE`: pushes that arrive while one is in flight go
//! together in one script call, each report lands once, and a push cancelled at any point
//! (waiting, leading before its call, leading during it) leaves every other report kept
//! exactly once. Without `redis-server` installed these say so and pass, unless
//! `KELVIQ_REQUIRE_REDIS` is set (as CI does).

use std::time::Duration;

use kelviq_tests::offline_queue::{
    emulator, flush_online, offline_and_warm, report_requests, spawn_report, used,
};
use kelviq_tests::redis_server::RedisServer;

/// Long enough to outlast the pauses below.
const TIMEOUT: Duration = Duration::from_secs(5);

fn customers(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("cust-group-{i}")).collect()
}

async fn pause(redis: &RedisServer, ms: u64) {
    redis.pause(ms);
    // Let the pause take hold before anything is sent.
    tokio::time::sleep(Duration::from_millis(20)).await;
}

/// Forty reports made while the first pushes are held in Redis: the thirty-eight behind the
/// two calls in flight go in one script call (not thirty-eight), and every report is
/// delivered once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pushes_made_while_one_is_in_flight_go_in_one_call_and_each_lands_once() {
    let Some(redis) = RedisServer::start_or_skip() else {
        return;
    };
    let names = customers(40);
    let server = emulator(&names).await;
    let client = kelviq_tests::offline_queue::client(&server, &redis.url(), TIMEOUT);
    offline_and_warm(&server, &client).await;
    let before = redis.scripts_run();
    pause(&redis, 600).await;
    let first = spawn_report(&client, &names[0], 10);
    tokio::time::sleep(Duration::from_millis(100)).await;
    let rest: Vec<_> = names[1..]
        .iter()
        .enumerate()
        .map(|(i, name)| spawn_report(&client, name, 100 + i as i64))
        .collect();
    first.await.unwrap();
    for task in rest {
        task.await.unwrap();
    }
    let calls = redis.scripts_run() - before;
    assert!(
        (2..=4).contains(&calls),
        "40 pushes, the first held: {calls} script calls (two alone, then the group)"
    );
    assert_eq!(client.redis_stats().unwrap().kept_locally, 0);
    let flushed = flush_online(&server, &client).await;
    assert_eq!(
        (flushed.delivered, flushed.remaining),
        (40, 0),
        "{flushed:?}"
    );
    assert_eq!(used(&server, &names[0]), 10);
    for (i, name) in names[1..].iter().enumerate() {
        assert_eq!(used(&server, name), 100 + i as i64, "{name}: once");
    }
    assert_eq!(report_requests(&server), 41, "the warm-up's and these");
}

/// A push cancelled while it waits behind another's call is never sent; the pushes behind
/// it still go, and the queue is not left waiting on it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_push_cancelled_while_it_waits_is_not_sent_and_does_not_wedge_the_others() {
    let Some(redis) = RedisServer::start_or_skip() else {
        return;
    };
    let names = customers(6);
    let server = emulator(&names).await;
    let client = kelviq_tests::offline_queue::client(&server, &redis.url(), TIMEOUT);
    offline_and_warm(&server, &client).await;
    pause(&redis, 600).await;
    let first = spawn_report(&client, &names[0], 10);
    // Two calls go at once: the second place in flight is taken too.
    let second = spawn_report(&client, &names[5], 20);
    tokio::time::sleep(Duration::from_millis(100)).await;
    // The first waiter: the one the group would be handed to.
    let cancelled = spawn_report(&client, &names[1], 1_000);
    tokio::time::sleep(Duration::from_millis(50)).await;
    let behind = spawn_report(&client, &names[2], 7);
    tokio::time::sleep(Duration::from_millis(50)).await;
    // And one among the others the group's leader would carry.
    let carried = spawn_report(&client, &names[4], 1_000);
    tokio::time::sleep(Duration::from_millis(100)).await;
    for task in [cancelled, carried] {
        task.abort();
        assert!(task.await.unwrap_err().is_cancelled());
    }
    first.await.unwrap();
    second.await.unwrap();
    tokio::time::timeout(Duration::from_secs(5), behind)
        .await
        .expect("the push behind the cancelled one ends")
        .unwrap();
    // And the next push after them goes at once.
    tokio::time::timeout(Duration::from_secs(5), spawn_report(&client, &names[3], 1))
        .await
        .expect("a push after them ends")
        .unwrap();
    let flushed = flush_online(&server, &client).await;
    assert_eq!(
        (flushed.delivered, flushed.remaining),
        (4, 0),
        "{flushed:?}"
    );
    assert_eq!(used(&server, &names[0]), 10);
    assert_eq!(
        used(&server, &names[1]),
        0,
        "the cancelled report was not sent"
    );
    assert_eq!(used(&server, &names[2]), 7);
    assert_eq!(used(&server, &names[3]), 1);
    assert_eq!(used(&server, &names[5]), 20);
    assert_eq!(
        used(&server, &names[4]),
        0,
        "the cancelled report was not sent"
    );
}

/// The leaders of two calls cancelled while their calls are held in Redis: the reports
/// that went with the second call are answered as maybe in Redis, kept locally with their
/// Redis ids, and each is delivered exactly once (the Redis copy, not the local one too).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leaders_cancelled_during_their_calls_leave_each_report_of_the_group_delivered_once() {
    let Some(redis) = RedisServer::start_or_skip() else {
        return;
    };
    let names = customers(12);
    let server = emulator(&names).await;
    let client = kelviq_tests::offline_queue::client(&server, &redis.url(), TIMEOUT);
    offline_and_warm(&server, &client).await;
    let kept_before = client.redis_stats().unwrap().kept_locally;
    pause(&redis, 1_500).await;
    let first = spawn_report(&client, &names[0], 1_000);
    // Two calls go at once: the second place in flight is taken too.
    let also = spawn_report(&client, &names[11], 5);
    tokio::time::sleep(Duration::from_millis(100)).await;
    let second = spawn_report(&client, &names[1], 100);
    tokio::time::sleep(Duration::from_millis(100)).await;
    let group: Vec<_> = names[2..11]
        .iter()
        .map(|name| spawn_report(&client, name, 1))
        .collect();
    tokio::time::sleep(Duration::from_millis(100)).await;
    // The first leader goes mid-call: the group is handed to `second`, whose call (with the
    // nine others) is then held by the pause too.
    first.abort();
    tokio::time::sleep(Duration::from_millis(200)).await;
    second.abort();
    for task in group {
        task.await.unwrap();
    }
    also.await.unwrap();
    assert_eq!(
        client.redis_stats().unwrap().kept_locally - kept_before,
        9,
        "the nine of the cancelled call are kept locally too"
    );
    // Let Redis run the held calls.
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    let flushed = flush_online(&server, &client).await;
    assert_eq!(flushed.remaining, 0, "{flushed:?}");
    assert_eq!(client.queued_reports(), 0);
    assert_eq!(used(&server, &names[11]), 5);
    for name in &names[2..11] {
        assert_eq!(used(&server, name), 1, "{name}: once, not twice");
    }
    // The cancelled leaders' own reports may have landed (their calls were sent); never twice.
    assert!(matches!(used(&server, &names[0]), 0 | 1_000));
    assert!(matches!(used(&server, &names[1]), 0 | 100));
}
