//! `flush` with the shared queue, against the emulator on loopback and a real
//! `redis-server`: a flush made once the service is back delivers every report waiting in
//! Redis, a lane's later reports too, and leaves nothing behind. Without `redis-server`
//! installed these say so and pass, unless `KELVIQ_REQUIRE_REDIS` is set (as CI does).

use std::time::Duration;

use kelviq_tests::offline_queue::{
    delivered, emulator, flush_online, offline_and_warm, spawn_report,
};
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
