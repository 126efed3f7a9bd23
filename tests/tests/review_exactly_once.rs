//! Adversarial review of issue 14's fix: scenarios the fix's own tests do not name, each
//! against the emulator on loopback and a real `redis-server`. Without `redis-server`
//! installed these say so and pass, unless `KELVIQ_REQUIRE_REDIS` is set.

use std::process::Command;
use std::time::{Duration, Instant};

use kelviq::{Behaviour, Client, Delivery, Kelviq, QueueConfig, RedisConfig};
use kelviq_mock::catalogue::FeatureKind;
use kelviq_mock::{Fault, FaultKind, Grant, MockServer};
use kelviq_tests::child::API_KEY;
use kelviq_tests::proxy::CuttingProxy;
use kelviq_tests::redis_server::RedisServer;

const CUSTOMER: &str = "cust-shared";
const OTHER: &str = "cust-other";
const THIRD: &str = "cust-third";
const FEATURE: &str = "api-calls";

async fn emulator() -> MockServer {
    let server = MockServer::start().await.unwrap();
    let client = Kelviq::builder(API_KEY)
        .base_url(server.url())
        .build()
        .unwrap();
    for customer in [CUSTOMER, OTHER, THIRD] {
        client.customers().create(customer).send().await.unwrap();
        server.grant(Grant {
            customer_id: customer.into(),
            feature_id: FEATURE.into(),
            feature_type: FeatureKind::Meter,
            usage_limit: None,
            hard_limit: None,
        });
    }
    server.clear_requests();
    server
}

fn client_of(server: &MockServer, redis: RedisConfig) -> Client {
    Kelviq::builder(API_KEY)
        .base_url(server.url())
        .connect_timeout(Duration::from_millis(300))
        .redis(redis)
        .offline_queue(QueueConfig::default().retry_interval(Duration::from_secs(3600)))
        .build()
        .unwrap()
}

async fn offline(server: &MockServer) {
    server.go_offline();
    tokio::time::sleep(Duration::from_millis(100)).await;
}

async fn report(client: &Client, customer: &str, value: i64, behaviour: Behaviour) -> Delivery<()> {
    match client
        .reporting()
        .report_usage(value, customer, FEATURE, behaviour)
        .send()
        .await
        .unwrap()
    {
        Delivery::Sent(_) => Delivery::Sent(()),
        Delivery::Queued { waiting } => Delivery::Queued { waiting },
    }
}

fn used(server: &MockServer, customer: &str) -> i64 {
    server.usage(customer).get(FEATURE).copied().unwrap_or(0)
}

fn port(redis: &RedisServer) -> u16 {
    let url = redis.url();
    let rest = url.strip_prefix("redis://127.0.0.1:").unwrap();
    rest.split('/').next().unwrap().parse().unwrap()
}

fn cli(redis: &RedisServer, args: &[&str]) -> String {
    let output = Command::new("redis-cli")
        .arg("-p")
        .arg(port(redis).to_string())
        .args(args)
        .output()
        .expect("redis-cli runs");
    assert!(output.status.success(), "redis-cli {args:?} failed");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// A `SET` whose push to Redis was carried out but its answer lost is kept locally with its
/// Redis id. While Redis does not answer the adoption, the local copy of a `SET` is sent
/// anyway (`outbox.rs`, `may_send`: `None => {}`), so Redis's copy is delivered again
/// later, after the next `SET` of the lane: the counter ends at the older value.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn review_a_set_pushed_with_unknown_outcome_is_not_sent_locally_while_redis_is_unreachable() {
    let Some(redis) = RedisServer::start_or_skip() else {
        return;
    };
    let server = emulator().await;
    let upstream = format!("127.0.0.1:{}", port(&redis)).parse().unwrap();
    let proxy = CuttingProxy::start(upstream).await;
    let client = client_of(
        &server,
        RedisConfig::new(format!("redis://{}/0", proxy.addr()))
            .share_cache(false)
            .lease(Duration::from_secs(1))
            .timeout(Duration::from_secs(3)),
    );
    // Warmed up on another lane: SET 5's lane has nothing of this instance's in Redis.
    offline(&server).await;
    assert!(report(&client, OTHER, 1, Behaviour::Delta)
        .await
        .is_queued());
    server.go_online().await.unwrap();
    assert_eq!(client.flush().await.delivered, 1);
    offline(&server).await;
    // Redis carries the push of SET 5 out; its answer is cut and the proxy now refuses.
    proxy.cut_next_answer();
    assert!(report(&client, CUSTOMER, 5, Behaviour::Set)
        .await
        .is_queued());
    assert_eq!(proxy.answers_cut(), 1);
    assert_eq!(client.redis_stats().unwrap().kept_locally, 1);
    // Kelviq answers again; Redis does not (yet).
    server.go_online().await.unwrap();
    let first = client.flush().await;
    eprintln!("flush while Redis refuses: {first:?}");
    // The next SET of the lane, made after SET 5.
    let seven = report(&client, CUSTOMER, 7, Behaviour::Set).await;
    eprintln!("SET 7: {seven:?}");
    // Redis answers again: its copy of SET 5 is claimed and delivered.
    proxy.resume().await;
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    let second = client.flush().await;
    eprintln!("flush once Redis answers: {second:?}");
    let third = client.flush().await;
    eprintln!("one more: {third:?}");
    assert_eq!(
        used(&server, CUSTOMER),
        7,
        "the last SET made is the last applied (SET 5 went twice: locally, then from Redis)"
    );
}

/// A report in Redis that this version cannot read (written by a later version, or its
/// body lost) is released at once and, being the oldest, is the first claimed again. While
/// the client thinks the service down it sends one report at a time, so each pass claims
/// one report, gets only the unreadable one, and ends: every other lane in Redis waits
/// forever, and the client never learns the service is back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn review_an_unreadable_report_in_redis_does_not_wedge_every_other_lane() {
    let Some(redis) = RedisServer::start_or_skip() else {
        return;
    };
    let server = emulator().await;
    let client = client_of(
        &server,
        RedisConfig::new(redis.url())
            .share_cache(false)
            .lease(Duration::from_secs(1)),
    );
    offline(&server).await;
    assert!(report(&client, OTHER, 3, Behaviour::Set).await.is_queued());
    assert_eq!(client.redis_stats().unwrap().kept_locally, 0, "in Redis");
    let body_key = cli(&redis, &["--scan", "--pattern", "*queue:body"])
        .trim()
        .to_owned();
    assert!(!body_key.is_empty(), "the queue's body hash");
    let id = cli(&redis, &["HKEYS", &body_key]).trim().to_owned();
    // As a later version's report might read to this one.
    cli(&redis, &["HSET", &body_key, &id, "{\"Future\":{}}"]);
    assert!(report(&client, CUSTOMER, 1, Behaviour::Delta)
        .await
        .is_queued());
    server.go_online().await.unwrap();
    let mut delivered = 0;
    for _ in 0..3 {
        let flushed = client.flush().await;
        eprintln!("{flushed:?}");
        delivered += flushed.delivered;
    }
    let shutdown = client.shutdown(Duration::from_secs(2)).await;
    eprintln!("shutdown: {shutdown:?}");
    delivered += shutdown.delivered;
    assert_eq!(
        (delivered, used(&server, CUSTOMER)),
        (1, 1),
        "the readable DELTA of another lane is delivered"
    );
}

/// Settlements Redis did not take are carried out at the start of the next pass, one after
/// the other, each under the Redis time-out and even while Redis rests: with Redis stalled,
/// `shutdown(500 ms)` spends one time-out per pending settlement before it looks at its
/// deadline.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn review_shutdown_keeps_its_deadline_with_settlements_pending_and_redis_stalled() {
    let Some(redis) = RedisServer::start_or_skip() else {
        return;
    };
    let server = emulator().await;
    let client = client_of(
        &server,
        RedisConfig::new(redis.url())
            .share_cache(false)
            .lease(Duration::from_secs(60))
            .timeout(Duration::from_secs(1)),
    );
    // Queued after a 429, so that the client does not take the service for down (and sends
    // the three side by side).
    server
        .inject(Fault::new(
            "reportUsage",
            3,
            FaultKind::Status {
                status: 429,
                retry_after: Some(3600),
                body: None,
                after_ms: None,
            },
        ))
        .unwrap();
    for customer in [CUSTOMER, OTHER, THIRD] {
        assert!(report(&client, customer, 4, Behaviour::Set)
            .await
            .is_queued());
    }
    assert_eq!(client.redis_stats().unwrap().kept_locally, 0, "in Redis");
    server
        .inject(Fault::new(
            "reportUsage",
            3,
            FaultKind::DelayAnswer { ms: 1_000 },
        ))
        .unwrap();
    let flushing = tokio::spawn({
        let client = client.clone();
        async move { client.flush().await }
    });
    tokio::time::sleep(Duration::from_millis(400)).await;
    // Redis stalls while the three are on their way: their acks time out.
    redis.pause(20_000);
    let first = flushing.await.unwrap();
    eprintln!("first flush: {first:?}");
    let started = Instant::now();
    let left = client.shutdown(Duration::from_millis(500)).await;
    let took = started.elapsed();
    eprintln!("shutdown: {left:?} in {took:?}");
    assert!(
        took < Duration::from_millis(1_500),
        "shutdown(500 ms) took {took:?}"
    );
}

/// A process put `SET 5` in Redis, then (Redis resting after a failure) kept `SET 6` in its
/// durable file, and stopped. The next process on that file sends `SET 6` at once: which of
/// its lane's reports wait in Redis was only known in the memory of the process that died,
/// so `SET 5` is delivered after it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn review_a_report_restored_from_the_file_waits_behind_its_lane_in_redis() {
    let Some(redis) = RedisServer::start_or_skip() else {
        return;
    };
    let server = emulator().await;
    let dir = std::env::temp_dir().join(format!("kelviq-review-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let path = dir.join("queue.redb");
    let build = || {
        Kelviq::builder(API_KEY)
            .base_url(server.url())
            .connect_timeout(Duration::from_millis(300))
            .redis(
                RedisConfig::new(redis.url())
                    .lease(Duration::from_secs(1))
                    .share_cache(false),
            )
            .offline_queue(
                QueueConfig::default()
                    .retry_interval(Duration::from_secs(3600))
                    .durable_at(&path),
            )
            .build()
            .unwrap()
    };
    let first = build();
    offline(&server).await;
    assert!(report(&first, CUSTOMER, 5, Behaviour::Set)
        .await
        .is_queued());
    assert_eq!(
        first.redis_stats().unwrap().kept_locally,
        0,
        "SET 5 in Redis"
    );
    // A stalled command makes the client rest: SET 6 goes to the file.
    redis.pause(300);
    assert!(report(&first, OTHER, 1, Behaviour::Set).await.is_queued());
    assert!(report(&first, CUSTOMER, 6, Behaviour::Set)
        .await
        .is_queued());
    assert!(
        first.redis_stats().unwrap().kept_locally >= 1,
        "SET 6 in the file"
    );
    tokio::time::sleep(Duration::from_millis(400)).await;
    drop(first);
    tokio::time::sleep(Duration::from_millis(200)).await;

    server.go_online().await.unwrap();
    let second = build();
    // Its first pass finds Redis stalled for a moment (its claim times out).
    redis.pause(300);
    let one = second.flush().await;
    eprintln!("first pass: {one:?}");
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    let two = second.flush().await;
    eprintln!("second pass: {two:?}");
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(
        used(&server, CUSTOMER),
        6,
        "the last SET made is the last applied"
    );
}

/// A `SET` claimed from Redis by an instance whose Redis then stops answering: its lease is
/// not renewed, but the send is not abandoned (only a renewal *refused* abandons it). The
/// lease ends, another instance sends the same `SET` and then the next `SET` of the lane;
/// the first instance's slow send lands last.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn review_a_send_that_outlives_its_lease_with_redis_unreachable_lands_after_the_next_report()
{
    let Some(redis) = RedisServer::start_or_skip() else {
        return;
    };
    let server = emulator().await;
    let upstream = format!("127.0.0.1:{}", port(&redis)).parse().unwrap();
    let proxy = CuttingProxy::start(upstream).await;
    let first = client_of(
        &server,
        RedisConfig::new(format!("redis://{}/0", proxy.addr()))
            .share_cache(false)
            .lease(Duration::from_secs(1)),
    );
    let second = client_of(
        &server,
        RedisConfig::new(redis.url())
            .share_cache(false)
            .lease(Duration::from_secs(1)),
    );
    offline(&server).await;
    assert!(report(&first, CUSTOMER, 5, Behaviour::Set)
        .await
        .is_queued());
    assert!(report(&first, CUSTOMER, 7, Behaviour::Set)
        .await
        .is_queued());
    assert_eq!(
        first.redis_stats().unwrap().kept_locally,
        0,
        "both in Redis"
    );
    server.go_online().await.unwrap();
    server
        .inject(Fault::new("reportUsage", 1, FaultKind::Delay { ms: 2_500 }))
        .unwrap();
    let slow = tokio::spawn({
        let first = first.clone();
        async move { first.flush().await }
    });
    tokio::time::sleep(Duration::from_millis(150)).await;
    // The first instance's next Redis answer (its lease renewal) is lost; Redis is then
    // unreachable from it.
    proxy.cut_next_answer();
    tokio::time::sleep(Duration::from_millis(1_200)).await;
    let meanwhile = second.flush().await;
    eprintln!("the other instance: {meanwhile:?}");
    let flushed = slow.await.unwrap();
    eprintln!("the first: {flushed:?}");
    assert_eq!(
        used(&server, CUSTOMER),
        7,
        "the last SET made is the last applied"
    );
}
