//! Exactly once and in order with the shared queue: each test is named after the failure or
//! the finding of issue 14 it reproduces, against the emulator on loopback and a real
//! `redis-server` (made slow, paused, evicting or gone the way it happens: `CLIENT PAUSE`, a
//! busy script, `CONFIG SET`, a kill, an answer cut by a proxy after Redis carried the
//! command out). Without `redis-server` installed these say so and pass, unless
//! `KELVIQ_REQUIRE_REDIS` is set (as CI does).

use std::process::Command;
use std::time::{Duration, Instant};

use kelviq::{Behaviour, Client, Delivery, Kelviq, QueueConfig, RedisConfig};
use kelviq_mock::catalogue::FeatureKind;
use kelviq_mock::{Fault, FaultKind, Grant, MockServer};
use kelviq_tests::child::API_KEY;
use kelviq_tests::offline_queue::FEATURE;
use kelviq_tests::proxy::CuttingProxy;
use kelviq_tests::redis_server::RedisServer;

const CUSTOMER: &str = "cust-shared";
const OTHER: &str = "cust-other";
const THIRD: &str = "cust-third";

async fn emulator() -> MockServer {
    kelviq_tests::offline_queue::emulator(&[CUSTOMER, OTHER, THIRD]).await
}

/// A client sharing `redis`; its background sender waits an hour before trying again, so
/// that only what a test asks for is sent.
fn client_of(server: &MockServer, redis: RedisConfig) -> Client {
    Kelviq::builder(API_KEY)
        .base_url(server.url())
        .connect_timeout(Duration::from_millis(300))
        .redis(redis)
        .offline_queue(QueueConfig::default().retry_interval(Duration::from_secs(3600)))
        .build()
        .unwrap()
}

/// A client sharing `redis` with leases of one second.
fn client(server: &MockServer, redis: &RedisServer) -> Client {
    client_of(
        server,
        RedisConfig::new(redis.url()).lease(Duration::from_secs(1)),
    )
}

async fn offline(server: &MockServer) {
    server.go_offline();
    // Let the client's pooled connections see that they were closed.
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

/// A 429 asking to come back in an hour: the report is queued (in Redis when it can be).
fn retry_much_later() -> FaultKind {
    FaultKind::Status {
        status: 429,
        retry_after: Some(3600),
        body: None,
        after_ms: None,
    }
}

fn used(server: &MockServer, customer: &str) -> i64 {
    server.usage(customer).get(FEATURE).copied().unwrap_or(0)
}

fn report_requests(server: &MockServer) -> usize {
    server
        .requests()
        .iter()
        .filter(|r| r.operation.as_deref() == Some("reportUsage"))
        .count()
}

/// One `DELTA` queued through Redis and delivered, so that the connection is made and Redis
/// knows the scripts: what a test does next is one command, written at once.
async fn warm_up(server: &MockServer, client: &Client) {
    offline(server).await;
    assert!(report(client, CUSTOMER, 1, Behaviour::Delta)
        .await
        .is_queued());
    server.go_online().await.unwrap();
    assert_eq!(client.flush().await.delivered, 1);
}

fn redis_or_skip() -> Option<RedisServer> {
    RedisServer::start_or_skip()
}

/// Failure 1: a `SET 5` answered 429 is queued in Redis; the next `SET 7` of the lane must
/// wait behind it, not overtake it, or the counter ends at 5.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lane_order_with_redis_a_set_queued_after_a_429_is_not_overtaken() {
    let Some(redis) = redis_or_skip() else { return };
    let server = emulator().await;
    let client = client(&server, &redis);
    server
        .inject(Fault::new("reportUsage", 1, retry_much_later()))
        .unwrap();
    assert!(report(&client, CUSTOMER, 5, Behaviour::Set)
        .await
        .is_queued());
    assert_eq!(
        client.redis_stats().unwrap().kept_locally,
        0,
        "SET 5 is in Redis"
    );
    assert!(
        report(&client, CUSTOMER, 7, Behaviour::Set)
            .await
            .is_queued(),
        "SET 7 waits behind SET 5"
    );
    let flushed = client.flush().await;
    assert_eq!(
        (flushed.delivered, flushed.remaining),
        (2, 0),
        "{flushed:?}"
    );
    assert_eq!(
        used(&server, CUSTOMER),
        7,
        "the last SET made is the last applied"
    );
}

/// Finding 2: one lane in two places. A `SET` the service failed (503s until the deadline)
/// waits in Redis; the next `SET` of its lane, the service answering again, waits behind
/// it. And after an outage, the same once the client knows the service is back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_lane_in_two_places_a_later_report_waits_behind_the_one_in_redis() {
    let Some(redis) = redis_or_skip() else { return };
    let server = emulator().await;
    let client = client(&server, &redis);
    server
        .inject(Fault::new("reportUsage", 20, FaultKind::status(503)))
        .unwrap();
    assert!(report(&client, CUSTOMER, 5, Behaviour::Set)
        .await
        .is_queued());
    server.clear_faults();
    assert_eq!(
        client.redis_stats().unwrap().kept_locally,
        0,
        "SET 5 is in Redis"
    );
    assert!(report(&client, CUSTOMER, 7, Behaviour::Set)
        .await
        .is_queued());
    let flushed = client.flush().await;
    assert_eq!(
        (flushed.delivered, flushed.remaining),
        (2, 0),
        "{flushed:?}"
    );
    assert_eq!(used(&server, CUSTOMER), 7);

    // An outage: the earlier report waits in Redis, and once the service is back the later
    // one still waits behind it.
    offline(&server).await;
    assert!(report(&client, CUSTOMER, 8, Behaviour::Set)
        .await
        .is_queued());
    server.go_online().await.unwrap();
    assert!(report(&client, CUSTOMER, 9, Behaviour::Set)
        .await
        .is_queued());
    let flushed = client.flush().await;
    assert_eq!(
        (flushed.delivered, flushed.remaining),
        (2, 0),
        "{flushed:?}"
    );
    assert_eq!(used(&server, CUSTOMER), 9);
    // Once the lane is empty in Redis, its reports go directly again.
    assert!(!report(&client, OTHER, 3, Behaviour::Set).await.is_queued());
    assert!(!report(&client, CUSTOMER, 10, Behaviour::Set)
        .await
        .is_queued());
    assert_eq!(used(&server, CUSTOMER), 10);
    assert_eq!(used(&server, OTHER), 3);
}

/// Finding 1: a report handed over to nobody. Its push timed out and died with Redis; the
/// first pass adopts the local copy and its send is refused; the next pass must send it,
/// not take the adoption for a delivery by another instance.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_report_adopted_then_refused_is_sent_by_the_next_pass_not_handed_over() {
    let Some(mut redis) = redis_or_skip() else {
        return;
    };
    let server = emulator().await;
    let client = client(&server, &redis);
    warm_up(&server, &client).await;
    offline(&server).await;
    redis.pause(5_000);
    assert!(report(&client, CUSTOMER, 1, Behaviour::Delta)
        .await
        .is_queued());
    assert_eq!(client.redis_stats().unwrap().kept_locally, 1);
    // Redis dies holding the push and comes back empty; Kelviq is still down.
    redis.restart();
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    let first = client.flush().await;
    assert_eq!((first.delivered, first.remaining), (0, 1), "{first:?}");
    server.go_online().await.unwrap();
    let second = client.flush().await;
    assert_eq!(
        (second.delivered, second.unconfirmed, second.remaining),
        (1, 0, 0),
        "{second:?}"
    );
    assert_eq!(
        used(&server, CUSTOMER),
        2,
        "the warm-up and this one, once each"
    );
}

/// Finding 4: a `DELTA` never sent, dropped as unconfirmed. It is claimed and marked as
/// sending, its send is refused while the client rests after a Redis failure; the release
/// must reach Redis, or the lease ends with the mark set and the report is taken out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_release_during_the_rest_after_a_redis_failure_is_not_forgotten() {
    let Some(redis) = redis_or_skip() else { return };
    let server = emulator().await;
    let client = client(&server, &redis);
    warm_up(&server, &client).await;
    offline(&server).await;
    assert!(report(&client, CUSTOMER, 1, Behaviour::Delta)
        .await
        .is_queued());
    assert_eq!(client.redis_stats().unwrap().kept_locally, 0, "in Redis");
    // Connections to Kelviq now never complete: the send fails after the connect time-out
    // (300 ms), a failure that proves the report was never sent.
    server.go_black_hole().await.unwrap();
    let flushing = tokio::spawn({
        let client = client.clone();
        async move { client.flush().await }
    });
    tokio::time::sleep(Duration::from_millis(50)).await;
    // Redis stalls for a moment: a command of this client times out, and it rests (500 ms).
    redis.pause(200);
    let _ = client.entitlements().check(OTHER, FEATURE).send().await;
    let errors = client.redis_stats().unwrap().errors;
    assert!(errors > 0, "the client met the stall");
    let first = flushing.await.unwrap();
    assert_eq!((first.delivered, first.unconfirmed), (0, 0), "{first:?}");
    // Past the lease: had the mark stayed, the report would now count as unconfirmed.
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    server.go_online().await.unwrap();
    let second = client.flush().await;
    assert_eq!(
        (second.delivered, second.unconfirmed, second.remaining),
        (1, 0, 0),
        "{second:?}"
    );
    assert_eq!(used(&server, CUSTOMER), 2);
}

/// Finding 5: a push counted twice after the connection retry. Redis carries the push out,
/// the connection is cut before the answer, and the retry meets a refused connection: the
/// outcome is unknown, so the local copy must know its Redis id and go once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_push_carried_out_then_cut_and_refused_on_retry_is_delivered_once() {
    let Some(redis) = redis_or_skip() else { return };
    let server = emulator().await;
    let upstream = format!("127.0.0.1:{}", redis.port()).parse().unwrap();
    let proxy = CuttingProxy::start(upstream).await;
    let client = client_of(
        &server,
        // A time-out long enough for the retry's refused connection to be what the push
        // meets, rather than the time-out.
        RedisConfig::new(format!("redis://{}/0", proxy.addr()))
            .share_cache(false)
            .timeout(Duration::from_secs(3)),
    );
    warm_up(&server, &client).await;
    offline(&server).await;
    proxy.cut_next_answer();
    assert!(report(&client, CUSTOMER, 1, Behaviour::Delta)
        .await
        .is_queued());
    assert_eq!(proxy.answers_cut(), 1);
    assert_eq!(
        client.redis_stats().unwrap().kept_locally,
        1,
        "kept locally too"
    );
    proxy.resume().await;
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    server.go_online().await.unwrap();
    let flushed = client.flush().await;
    assert_eq!(
        (flushed.delivered, flushed.remaining),
        (1, 0),
        "one of the two copies: {flushed:?}"
    );
    assert_eq!(client.queued_reports(), 0);
    assert_eq!(
        used(&server, CUSTOMER),
        2,
        "the warm-up and this one, once each"
    );
    assert_eq!(report_requests(&server), 2);
}

/// Finding 7: leases. A `SET` whose send outlives its lease keeps the lease (renewed while
/// it is sent): another instance does not send it again meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_set_sent_for_longer_than_its_lease_is_not_sent_again_by_another_instance() {
    let Some(redis) = redis_or_skip() else { return };
    let server = emulator().await;
    let (first, second) = (client(&server, &redis), client(&server, &redis));
    offline(&server).await;
    assert!(report(&first, CUSTOMER, 5, Behaviour::Set)
        .await
        .is_queued());
    server.go_online().await.unwrap();
    server
        .inject(Fault::new(
            "reportUsage",
            1,
            FaultKind::DelayAnswer { ms: 2_500 },
        ))
        .unwrap();
    let slow = tokio::spawn({
        let first = first.clone();
        async move { first.flush().await }
    });
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    let meanwhile = second.flush().await;
    assert_eq!(
        meanwhile.delivered, 0,
        "the other instance holds it: {meanwhile:?}"
    );
    let flushed = slow.await.unwrap();
    assert_eq!(flushed.delivered, 1, "{flushed:?}");
    assert_eq!(report_requests(&server), 1, "sent once");
    assert_eq!(first.redis_stats().unwrap().late_acks, 0);
    assert_eq!(used(&server, CUSTOMER), 5);
}

/// Finding 8: expiry and eviction. Under an `allkeys-*` policy Redis may evict a queued
/// report, so the report is kept locally instead (and delivered from there).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_evicting_redis_is_not_given_the_queue() {
    let Some(redis) = redis_or_skip() else { return };
    redis.cli(&["CONFIG", "SET", "maxmemory-policy", "allkeys-lru"]);
    let server = emulator().await;
    let client = client(&server, &redis);
    offline(&server).await;
    assert!(report(&client, CUSTOMER, 1, Behaviour::Delta)
        .await
        .is_queued());
    assert_eq!(client.redis_stats().unwrap().kept_locally, 1);
    assert_eq!(client.queued_reports(), 1);
    assert_eq!(
        redis.cli(&["--scan", "--pattern", "*queue:body*"]).trim(),
        "",
        "nothing of the queue in Redis"
    );
    server.go_online().await.unwrap();
    let flushed = client.flush().await;
    assert_eq!(
        (flushed.delivered, flushed.remaining),
        (1, 0),
        "{flushed:?}"
    );
    assert_eq!(used(&server, CUSTOMER), 1);
}

/// Finding 11: `shutdown` spins. Redis holds only a report another instance has claimed (and
/// is sending slowly): the shutdown pauses between looks and returns at its deadline.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_with_only_others_claims_in_redis_pauses_and_keeps_its_deadline() {
    let Some(redis) = redis_or_skip() else { return };
    let server = emulator().await;
    let (first, second) = (client(&server, &redis), client(&server, &redis));
    offline(&server).await;
    assert!(report(&first, CUSTOMER, 5, Behaviour::Set)
        .await
        .is_queued());
    server.go_online().await.unwrap();
    server
        .inject(Fault::new(
            "reportUsage",
            1,
            FaultKind::DelayAnswer { ms: 3_000 },
        ))
        .unwrap();
    let slow = tokio::spawn({
        let first = first.clone();
        async move { first.flush().await }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let before = redis.scripts_run();
    let started = Instant::now();
    let left = second.shutdown(Duration::from_secs(1)).await;
    let took = started.elapsed();
    let scripts = redis.scripts_run() - before;
    assert!(took < Duration::from_secs(3), "shutdown took {took:?}");
    assert!(
        scripts < 100,
        "{scripts} Redis scripts in a one-second shutdown: it spun"
    );
    assert_eq!(left.delivered, 0, "{left:?}");
    assert_eq!(slow.await.unwrap().delivered, 1);
    assert_eq!(report_requests(&server), 1);
}

/// Finding 12: starvation. One lane with many reports, its first claimed by an instance
/// that sends it slowly, does not keep another instance from the other lanes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_busy_lane_with_many_reports_does_not_starve_the_others() {
    let Some(redis) = redis_or_skip() else { return };
    let server = emulator().await;
    let (first, second) = (client(&server, &redis), client(&server, &redis));
    offline(&server).await;
    for _ in 0..200 {
        assert!(report(&first, CUSTOMER, 1, Behaviour::Delta)
            .await
            .is_queued());
    }
    assert_eq!(first.redis_stats().unwrap().kept_locally, 0, "all in Redis");
    server.go_online().await.unwrap();
    server
        .inject(Fault::new(
            "reportUsage",
            1,
            FaultKind::DelayAnswer { ms: 3_000 },
        ))
        .unwrap();
    // The first instance claims the busy lane's first report and sends it slowly.
    let slow = tokio::spawn({
        let first = first.clone();
        async move { first.shutdown(Duration::from_secs(20)).await }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    // Another lane's report, queued behind the 200 (a 429 sends it to Redis).
    server
        .inject(Fault::new("reportUsage", 1, retry_much_later()))
        .unwrap();
    let queued = report(&second, OTHER, 1, Behaviour::Delta).await;
    assert!(
        queued.is_queued(),
        "{queued:?}: {:#?}",
        server
            .requests()
            .iter()
            .filter(|r| r.operation.as_deref() == Some("reportUsage"))
            .map(|r| (r.body.clone(), r.response.as_ref().map(|a| a.status)))
            .collect::<Vec<_>>()
    );
    let other = second.flush().await;
    assert!(
        other.delivered >= 1 && used(&server, OTHER) == 1,
        "the other lane was delivered while the busy one was held: {other:?}"
    );
    let rest = slow.await.unwrap();
    assert_eq!(rest.remaining, 0, "{rest:?}");
    assert_eq!(used(&server, CUSTOMER), 200);
}

/// Finding 6: an invalidation lost while Redis fails. The client rests after a Redis
/// failure when it invalidates a customer's set; the invalidation is carried out once Redis
/// answers, so no instance goes on reading the retired set as fresh.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invalidation_made_while_redis_fails_lands_once_it_answers() {
    let Some(redis) = redis_or_skip() else { return };
    let server = emulator().await;
    let (first, second) = (client(&server, &redis), client(&server, &redis));
    let access = |client: &Client| {
        let client = client.clone();
        async move {
            client
                .entitlements()
                .has_access(CUSTOMER, "seats")
                .send()
                .await
                .unwrap()
        }
    };
    // Not granted yet: the set without it is in both memories and in Redis.
    assert!(!access(&first).await);
    assert!(!access(&second).await);
    server.grant(Grant {
        customer_id: CUSTOMER.into(),
        feature_id: "seats".into(),
        feature_type: FeatureKind::Boolean,
        usage_limit: None,
        hard_limit: None,
    });
    // A stall makes the second client's next Redis command time out: it rests.
    redis.pause(200);
    let _ = second.entitlements().check(OTHER, FEATURE).send().await;
    assert!(second.redis_stats().unwrap().errors > 0);
    // The grant is known to have changed: invalidated while the client rests.
    second.invalidate_entitlements(CUSTOMER);
    assert!(
        access(&second).await,
        "this instance does not read the retired set, from memory or from Redis"
    );
    tokio::time::sleep(Duration::from_millis(2_000)).await;
    assert!(
        access(&first).await,
        "the other instance heard of the invalidation once Redis took it"
    );
}

/// Finding 12: a lost claim answer. A process is killed while sending a `DELTA` it claimed;
/// once its lease ends, the next claim takes the report out as unconfirmed. That claim's
/// answer is cut on its way back: the next claim still reports it (logged and counted),
/// rather than the report vanishing unlogged.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_claim_answer_does_not_lose_the_unconfirmed_reports_it_carried() {
    let Some(redis) = redis_or_skip() else { return };
    let server = emulator().await;
    let upstream = format!("127.0.0.1:{}", redis.port()).parse().unwrap();
    let proxy = CuttingProxy::start(upstream).await;
    let client = client_of(
        &server,
        RedisConfig::new(format!("redis://{}/0", proxy.addr())).share_cache(false),
    );
    // The client has claimed once (nothing there): Redis knows the script.
    assert_eq!(client.flush().await.delivered, 0);

    // A process queues a DELTA in Redis, claims it and is killed while its connection to
    // Kelviq (a black hole) is still being made.
    server.go_black_hole().await.unwrap();
    let mut child = kelviq_tests::child::queue(
        env!("CARGO_BIN_EXE_kelviq_child"),
        &server.url(),
        kelviq_tests::child::Keep::Redis(&redis.url()),
        (CUSTOMER, FEATURE),
        1,
        50,
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    child.kill();
    // Its lease (one second) ends.
    tokio::time::sleep(Duration::from_millis(1_200)).await;

    proxy.cut_next_answer();
    let cut = client.flush().await;
    assert_eq!(proxy.answers_cut(), 1, "the claim's answer was cut");
    assert_eq!(cut.unconfirmed, 0, "{cut:?}");
    proxy.resume().await;
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    let next = client.flush().await;
    assert_eq!(
        (next.unconfirmed, next.delivered, next.remaining),
        (1, 0, 0),
        "the next claim reports what the lost answer carried: {next:?}"
    );
    assert_eq!(
        client.flush().await.unconfirmed,
        0,
        "reported once it was logged"
    );
    assert_eq!(
        used(&server, CUSTOMER),
        0,
        "never sent twice (nor, here, once)"
    );
}

/// Finding 7: fencing. An instance's settlement reaches Redis only after its lease ended
/// (Redis stalled while it was sending): Redis refuses it, the instance counts and logs it,
/// and the report goes to whoever claims it next rather than vanish.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_late_ack_from_an_expired_claimer_is_refused_and_counted() {
    let Some(redis) = redis_or_skip() else { return };
    let server = emulator().await;
    let client = client(&server, &redis);
    offline(&server).await;
    assert!(report(&client, CUSTOMER, 5, Behaviour::Set)
        .await
        .is_queued());
    server.go_online().await.unwrap();
    server
        .inject(Fault::new(
            "reportUsage",
            1,
            FaultKind::DelayAnswer { ms: 600 },
        ))
        .unwrap();
    let flushing = tokio::spawn({
        let client = client.clone();
        async move { client.flush().await }
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    // Redis stalls past the lease: the renewals and the settlement wait.
    redis.pause(1_800);
    let first = flushing.await.unwrap();
    assert_eq!(first.delivered, 1, "{first:?}");
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    let second = client.flush().await;
    let stats = client.redis_stats().unwrap();
    assert_eq!(stats.late_acks, 1, "{stats:?}");
    assert_eq!(second.remaining, 0, "{second:?}");
    assert_eq!(used(&server, CUSTOMER), 5);
}

/// Found by the soak test: looking up one lane in Redis forgot what this instance knew of
/// its other lanes there, so the next `SET` of another lane went directly, ahead of the
/// earlier `SET` of its lane waiting in Redis.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn looking_up_one_lane_in_redis_does_not_forget_the_others() {
    let Some(redis) = redis_or_skip() else { return };
    let server = emulator().await;
    // A Redis time-out that a loaded machine does not reach: this is about bookkeeping.
    let client = client_of(
        &server,
        RedisConfig::new(redis.url()).timeout(Duration::from_secs(2)),
    );
    let later = retry_much_later();
    server
        .inject(Fault::new("reportUsage", 1, later.clone()))
        .unwrap();
    assert!(report(&client, CUSTOMER, 1, Behaviour::Set)
        .await
        .is_queued());
    server.inject(Fault::new("reportUsage", 1, later)).unwrap();
    assert!(report(&client, OTHER, 1, Behaviour::Set).await.is_queued());
    // The other lane is looked up (it waits in Redis)...
    assert!(report(&client, OTHER, 2, Behaviour::Set).await.is_queued());
    // ...and the first lane's next SET still waits behind its first.
    assert!(report(&client, CUSTOMER, 2, Behaviour::Set)
        .await
        .is_queued());
    let flushed = client.flush().await;
    assert_eq!(flushed.remaining, 0, "{flushed:?}");
    assert_eq!(
        (used(&server, CUSTOMER), used(&server, OTHER)),
        (2, 2),
        "each lane's last SET is applied last"
    );
}

// Found by an adversarial review of the fix: scenarios its own tests did not name.

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
    let upstream = format!("127.0.0.1:{}", redis.port()).parse().unwrap();
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
    let body_key = redis
        .cli(&["--scan", "--pattern", "*queue:body"])
        .trim()
        .to_owned();
    assert!(!body_key.is_empty(), "the queue's body hash");
    let id = redis.cli(&["HKEYS", &body_key]).trim().to_owned();
    // As a later version's report might read to this one.
    redis.cli(&["HSET", &body_key, &id, "{\"Future\":{}}"]);
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
        .inject(Fault::new("reportUsage", 3, retry_much_later()))
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
    let upstream = format!("127.0.0.1:{}", redis.port()).parse().unwrap();
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

/// A process on a durable file put `SET 5` in Redis (Kelviq unreachable) and was killed
/// (SIGKILL). The next process on the file reports `SET 7` of the lane: it must go behind
/// `SET 5`, not straight to Kelviq, although which reports wait in Redis was only known in
/// the memory of the process that died (the soak test found this, seed 26271151420072). The
/// file names its processes, and Redis the reports they put there, so the next one finds them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_process_sends_its_set_after_the_one_its_predecessor_left_in_redis() {
    restarted_process_keeps_the_lane_order(false).await;
}

/// The same, with Redis not answering when the next process reports `SET 7` and first tries
/// to deliver: not knowing what its predecessor left there, it keeps `SET 7` waiting (any
/// lane may have reports in Redis) until Redis answers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_process_with_redis_silent_keeps_its_set_until_redis_answers() {
    restarted_process_keeps_the_lane_order(true).await;
}

async fn restarted_process_keeps_the_lane_order(redis_silent: bool) {
    let Some(redis) = redis_or_skip() else {
        return;
    };
    let server = emulator().await;
    let dir = std::env::temp_dir().join(format!(
        "kelviq-predecessor-{}-{redis_silent}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    let path = dir.join("queue.redb");
    offline(&server).await;
    predecessor_leaves_set_5_in_redis(&server, &redis, &path);

    server.go_online().await.unwrap();
    let second = restarted(&server, &redis, &path);
    if redis_silent {
        // Longer than the report and the first pass below take.
        redis.pause(1_500);
    }
    let seven = report(&second, CUSTOMER, 7, Behaviour::Set).await;
    let one = second.flush().await;
    eprintln!("SET 7: {seven:?}; first pass: {one:?}");
    if redis_silent {
        assert_eq!(
            used(&server, CUSTOMER),
            0,
            "SET 7 waits while Redis cannot say what waits there"
        );
        tokio::time::sleep(Duration::from_millis(1_700)).await;
    }
    let mut passes = Vec::new();
    for _ in 0..20 {
        let pass = second.flush().await;
        passes.push(pass);
        if pass.remaining == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    eprintln!("then: {passes:?}");
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(
        used(&server, CUSTOMER),
        7,
        "the last SET made is the last applied"
    );
    let values: Vec<i64> = server
        .applied_usage()
        .iter()
        .filter(|a| a.customer_id == CUSTOMER)
        .map(|a| a.value)
        .collect();
    assert_eq!(values, [5, 7], "each applied once, in order");
}

/// Review (h-review): the upgrade restart. A process of the SDK before 9ec4ee1 put `SET 5`
/// in Redis and died; its file has no `meta` table (simulated here by deleting the table the
/// first child wrote). The next process, on the new SDK, takes the file for a new one
/// (`inherited` false), looks nothing up, and sends `SET 7` straight to Kelviq, ahead of
/// `SET 5`, which a claim then applies after it: Kelviq is left at 5.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn review_a_file_from_before_the_meta_table_keeps_the_lane_order() {
    let Some(redis) = redis_or_skip() else {
        return;
    };
    let server = emulator().await;
    let dir = std::env::temp_dir().join(format!("kelviq-legacy-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let path = dir.join("queue.redb");
    offline(&server).await;
    predecessor_leaves_set_5_in_redis(&server, &redis, &path);
    // The file as an SDK before the meta table left it.
    {
        let database = redb::Database::create(&path).unwrap();
        let write = database.begin_write().unwrap();
        let meta: redb::TableDefinition<&str, &str> = redb::TableDefinition::new("meta");
        write.delete_table(meta).unwrap();
        write.commit().unwrap();
    }
    server.go_online().await.unwrap();
    let second = restarted(&server, &redis, &path);
    let seven = report(&second, CUSTOMER, 7, Behaviour::Set).await;
    let mut passes = Vec::new();
    for _ in 0..20 {
        let pass = second.flush().await;
        passes.push(pass);
        if pass.remaining == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    eprintln!("SET 7: {seven:?}; then: {passes:?}");
    let _ = std::fs::remove_dir_all(&dir);
    let values: Vec<i64> = server
        .applied_usage()
        .iter()
        .filter(|a| a.customer_id == CUSTOMER)
        .map(|a| a.value)
        .collect();
    assert_eq!(values, [5, 7], "each applied once, in order");
}

/// The predecessor's `SET 5` waits in Redis; the process restarted on its file finds Redis
/// silent. The file recorded the lane it pushed to Redis, so only that lane waits: a report
/// of another lane goes straight to Kelviq (before, every usage lane waited until Redis
/// answered), and the recorded lane still ends 5 then 7. (Review h-review 71cab7c.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_with_redis_silent_holds_only_the_lanes_its_predecessor_put_in_redis() {
    let Some(redis) = redis_or_skip() else {
        return;
    };
    let server = emulator().await;
    let dir = std::env::temp_dir().join(format!("kelviq-lanes-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let path = dir.join("queue.redb");
    offline(&server).await;
    predecessor_leaves_set_5_in_redis(&server, &redis, &path);
    server.go_online().await.unwrap();
    let second = restarted(&server, &redis, &path);
    redis.pause(1_500);
    let other = report(&second, OTHER, 9, Behaviour::Set).await;
    let seven = report(&second, CUSTOMER, 7, Behaviour::Set).await;
    assert!(
        matches!(other, Delivery::Sent(())),
        "a lane the predecessor put nothing of in Redis goes on: {other:?}"
    );
    assert_eq!(used(&server, OTHER), 9);
    assert!(
        matches!(seven, Delivery::Queued { .. }),
        "the lane the file recorded waits until Redis answers: {seven:?}"
    );
    assert_eq!(used(&server, CUSTOMER), 0);
    tokio::time::sleep(Duration::from_millis(1_700)).await;
    drain(&second).await;
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(
        applied(&server, CUSTOMER),
        [5, 7],
        "each applied once, in order"
    );
}

/// Once Redis has settled what the predecessor left, the file forgets the lane: the next
/// restart with Redis silent holds nothing back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lane_redis_has_settled_is_forgotten_by_the_file() {
    let Some(redis) = redis_or_skip() else {
        return;
    };
    let server = emulator().await;
    let dir = std::env::temp_dir().join(format!("kelviq-forget-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let path = dir.join("queue.redb");
    offline(&server).await;
    predecessor_leaves_set_5_in_redis(&server, &redis, &path);
    server.go_online().await.unwrap();
    {
        let second = restarted(&server, &redis, &path);
        drain(&second).await;
        assert_eq!(applied(&server, CUSTOMER), [5]);
        // One more pass: it learns that Redis settled SET 5, and the file forgets the lane.
        second.flush().await;
        second.shutdown(Duration::from_secs(2)).await;
    }
    let third = restarted(&server, &redis, &path);
    redis.pause(1_500);
    let eight = report(&third, CUSTOMER, 8, Behaviour::Set).await;
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        matches!(eight, Delivery::Sent(())),
        "nothing of the lane is left in Redis, so nothing waits: {eight:?}"
    );
    assert_eq!(applied(&server, CUSTOMER), [5, 8]);
}

/// A child process on `path` puts `SET 5` of [`CUSTOMER`] in Redis (Kelviq is offline) and
/// is killed.
fn predecessor_leaves_set_5_in_redis(
    server: &MockServer,
    redis: &RedisServer,
    path: &std::path::Path,
) {
    let mut first = kelviq_tests::child::Child::spawn(
        env!("CARGO_BIN_EXE_kelviq_child"),
        &[
            "queue",
            &format!("url={}", server.url()),
            &format!("path={}", path.display()),
            &format!("redis={}", redis.url()),
            &format!("customer={CUSTOMER}"),
            &format!("feature={FEATURE}"),
            "reports=1",
            "value=5",
            "behaviour=SET",
            "retry_ms=3600000",
        ],
    );
    assert_eq!(first.line(Duration::from_secs(30)), "queued 1");
    first.kill();
    assert_eq!(
        redis.cli(&["HLEN", &lane_key(redis)]).trim(),
        "1",
        "SET 5 waits in Redis"
    );
}

/// The key of the shared queue's lane index.
fn lane_key(redis: &RedisServer) -> String {
    redis.cli(&["KEYS", "*queue:lane"]).trim().to_owned()
}

/// A process restarted on the durable file at `path`.
fn restarted(server: &MockServer, redis: &RedisServer, path: &std::path::Path) -> Client {
    Kelviq::builder(API_KEY)
        .base_url(server.url())
        .connect_timeout(Duration::from_millis(300))
        .redis(
            RedisConfig::new(redis.url())
                .lease(Duration::from_secs(1))
                .share_cache(false)
                .timeout(Duration::from_millis(200)),
        )
        .offline_queue(
            QueueConfig::default()
                .retry_interval(Duration::from_secs(3600))
                .durable_at(path),
        )
        .build()
        .unwrap()
}

/// Flushes until nothing waits (at most 20 passes).
async fn drain(client: &Client) {
    for _ in 0..20 {
        if client.flush().await.remaining == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

/// The values Kelviq applied for `customer`, in order.
fn applied(server: &MockServer, customer: &str) -> Vec<i64> {
    server
        .applied_usage()
        .iter()
        .filter(|a| a.customer_id == customer)
        .map(|a| a.value)
        .collect()
}

/// Review 2: the upgrade. A file from before files recorded their lanes in Redis (no
/// `lanes` marker, no `lanes_in_redis` table) gets the marker written at open
/// (store.rs read_all), but the lanes its earlier process left in Redis are only recorded
/// once Redis answers (outbox.rs predecessor_known). A process that opens it while Redis is
/// silent and ends before Redis answers leaves a file that says "recorded, no lane": the
/// next restart with Redis silent holds nothing and sends SET 7 ahead of SET 5.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn review2_upgrade_marker_written_before_the_lanes_are_known() {
    let Some(redis) = redis_or_skip() else {
        return;
    };
    let server = emulator().await;
    let dir = std::env::temp_dir().join(format!("kelviq-rev2-up-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let path = dir.join("queue.redb");
    offline(&server).await;
    predecessor_leaves_set_5_in_redis(&server, &redis, &path);
    // The file as an SDK before 888bf61 left it.
    {
        let database = redb::Database::create(&path).unwrap();
        let write = database.begin_write().unwrap();
        let lanes: redb::TableDefinition<&str, ()> = redb::TableDefinition::new("lanes_in_redis");
        let _ = write.delete_table(lanes);
        {
            let meta: redb::TableDefinition<&str, &str> = redb::TableDefinition::new("meta");
            let mut meta = write.open_table(meta).unwrap();
            meta.remove("lanes").unwrap();
        }
        write.commit().unwrap();
    }
    server.go_online().await.unwrap();
    // The first process on the new SDK: Redis silent its whole life.
    redis.pause(5_000);
    {
        let second = restarted(&server, &redis, &path);
        tokio::time::sleep(Duration::from_millis(200)).await;
        second.shutdown(Duration::from_secs(1)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    // The next one, Redis still silent.
    let third = restarted(&server, &redis, &path);
    let seven = report(&third, CUSTOMER, 7, Behaviour::Set).await;
    eprintln!("SET 7: {seven:?}");
    tokio::time::sleep(Duration::from_millis(5_000)).await;
    drain(&third).await;
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(
        applied(&server, CUSTOMER),
        [5, 7],
        "each applied once, in order"
    );
}

// Review 3 (h-rev3) of 2cf28bd: a push no longer links its report into its lane; the next
// claim does.

/// The key prefix of the shared queue (`<namespace>:{<tenant>}:`).
fn queue_prefix(redis: &RedisServer) -> String {
    lane_key(redis)
        .strip_suffix("queue:lane")
        .expect("the lane index is named queue:lane")
        .to_owned()
}

/// Reports `n` `DELTA 1`s of `customer` through `client`, `tasks` at a time, each of them
/// queued (in Redis: the caller checks `kept_locally`).
async fn queue_many(client: &Client, customer: &'static str, n: usize, tasks: usize) {
    let mut set = tokio::task::JoinSet::new();
    for task in 0..tasks {
        let client = client.clone();
        let share = n / tasks + usize::from(task < n % tasks);
        set.spawn(async move {
            for _ in 0..share {
                assert!(report(&client, customer, 1, Behaviour::Delta)
                    .await
                    .is_queued());
            }
        });
    }
    while let Some(done) = set.join_next().await {
        done.unwrap();
    }
}

/// `outbox.rs` `may_send` asks Redis whether a local report's lane has reports waiting there
/// with `lane_waiting`, which reads `queue:head`. Since 2cf28bd a pushed report is in
/// `queue:head` only once a claim has linked it, so a report pushed and not yet claimed is
/// invisible to it: `SET 7`, kept locally by another instance (Redis refused it there: an
/// evicting policy at that moment), is sent ahead of `SET 5`, which waits unlinked in Redis
/// (the sender sends one report at a time after an outage, so no claim links it first).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn review3_a_local_set_waits_behind_a_set_in_redis_that_no_claim_has_linked_yet() {
    let Some(redis) = redis_or_skip() else { return };
    let server = emulator().await;
    let (first, second) = (client(&server, &redis), client(&server, &redis));
    offline(&server).await;
    assert!(report(&first, CUSTOMER, 5, Behaviour::Set)
        .await
        .is_queued());
    assert_eq!(
        first.redis_stats().unwrap().kept_locally,
        0,
        "SET 5 is in Redis"
    );
    // The second instance finds Redis evicting when it first pushes: it keeps SET 7 locally.
    redis.cli(&["CONFIG", "SET", "maxmemory-policy", "allkeys-lru"]);
    assert!(report(&second, CUSTOMER, 7, Behaviour::Set)
        .await
        .is_queued());
    assert_eq!(
        second.redis_stats().unwrap().kept_locally,
        1,
        "SET 7 is kept locally"
    );
    redis.cli(&["CONFIG", "SET", "maxmemory-policy", "noeviction"]);
    server.go_online().await.unwrap();
    drain(&second).await;
    drain(&first).await;
    assert_eq!(
        applied(&server, CUSTOMER),
        [5, 7],
        "each applied once, in the order made"
    );
}

/// A rolling deploy: an instance of the release before 2cf28bd links its report into the
/// lane as it pushes it (its PUSH, run here verbatim), behind the lane's tail; the report an
/// instance of this release pushed before it is not linked yet, so the lane's tail is empty
/// and the older release's `SET 7` becomes the lane's first. The next claim links `SET 5`
/// behind it: Kelviq applies 7, then 5.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn review3_a_set_pushed_by_the_previous_release_does_not_overtake_one_pushed_before_it() {
    let Some(redis) = redis_or_skip() else { return };
    let server = emulator().await;
    let client = client(&server, &redis);
    offline(&server).await;
    assert!(report(&client, CUSTOMER, 5, Behaviour::Set)
        .await
        .is_queued());
    assert_eq!(
        client.redis_stats().unwrap().kept_locally,
        0,
        "SET 5 is in Redis"
    );
    let prefix = queue_prefix(&redis);
    let key = |name: &str| format!("{prefix}queue:{name}");
    let id = redis
        .cli(&["ZRANGE", &key("order"), "0", "0"])
        .trim()
        .to_owned();
    let body = redis.cli(&["HGET", &key("body"), &id]).trim().to_owned();
    let seven = body.replacen("\"value\":5", "\"value\":7", 1);
    assert_ne!(seven, body, "the report's value is where expected: {body}");
    // The previous release's PUSH, as it was at 2cf28bd^.
    let old_push = r"
        if redis.call('ZSCORE', KEYS[4], ARGV[1])
            or redis.call('HSETNX', KEYS[2], ARGV[1], ARGV[2]) == 0 then
            return redis.call('ZCARD', KEYS[1])
        end
        local seq = redis.call('INCR', KEYS[5])
        redis.call('ZADD', KEYS[1], seq, ARGV[1])
        redis.call('HSET', KEYS[3], ARGV[1], ARGV[3])
        local tail = redis.call('HGET', KEYS[8], ARGV[3])
        if tail then
            redis.call('HSET', KEYS[9], tail, ARGV[1])
        else
            redis.call('HSET', KEYS[7], ARGV[3], ARGV[1])
            redis.call('ZADD', KEYS[6], seq, ARGV[3])
        end
        redis.call('HSET', KEYS[8], ARGV[3], ARGV[1])
        return redis.call('ZCARD', KEYS[1])
    ";
    // The lane name holds a NUL byte: given on standard input (`redis-cli -x`).
    let lane = {
        let output = Command::new("redis-cli")
            .args(["-p", &redis.port().to_string(), "HGET", &key("lane"), &id])
            .output()
            .unwrap();
        let mut lane = output.stdout;
        assert_eq!(lane.pop(), Some(b'\n'));
        lane
    };
    let mut push = Command::new("redis-cli")
        .args(["-p", &redis.port().to_string(), "-x", "EVAL", old_push, "9"])
        .args(
            [
                "order", "body", "lane", "settled", "seq", "ready", "head", "tail", "next",
            ]
            .map(key),
        )
        .args(["an-older-instance-report", &seven])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        push.stdin.take().unwrap().write_all(&lane).unwrap();
    }
    let pushed = push.wait_with_output().unwrap();
    assert_eq!(String::from_utf8_lossy(&pushed.stdout).trim(), "2");
    server.go_online().await.unwrap();
    drain(&client).await;
    assert_eq!(
        applied(&server, CUSTOMER),
        [5, 7],
        "each applied once, in the order pushed"
    );
}

/// Finding 12 again with more than ten thousand reports in the busy lane (a claim links at
/// most ten thousand): the other lane's report, pushed behind them, is not linked by the
/// other instance's first claim, which picks nothing; the pass then ends (`drain` stops once
/// nothing is in flight, whatever `exhausted` says) with the report undelivered, and the
/// background sender waits longer after each such pass.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn review3_a_busy_lane_with_more_reports_than_a_claim_links_does_not_starve_the_others() {
    let Some(redis) = redis_or_skip() else { return };
    let server = emulator().await;
    // A Redis time-out long enough for a claim that links ten thousand reports.
    let config = || {
        RedisConfig::new(redis.url())
            .lease(Duration::from_secs(1))
            .timeout(Duration::from_secs(2))
    };
    let (first, second) = (client_of(&server, config()), client_of(&server, config()));
    offline(&server).await;
    queue_many(&first, CUSTOMER, 21_000, 8).await;
    assert_eq!(first.redis_stats().unwrap().kept_locally, 0, "all in Redis");
    server.go_online().await.unwrap();
    server
        .inject(Fault::new(
            "reportUsage",
            1,
            FaultKind::DelayAnswer { ms: 5_000 },
        ))
        .unwrap();
    // The first instance claims the busy lane's first report and sends it slowly.
    let slow = tokio::spawn({
        let first = first.clone();
        async move { first.flush().await }
    });
    let started = Instant::now();
    while report_requests(&server) == 0 {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the first send"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    server
        .inject(Fault::new("reportUsage", 1, retry_much_later()))
        .unwrap();
    let queued = report(&second, OTHER, 1, Behaviour::Delta).await;
    assert!(queued.is_queued(), "{queued:?}");
    assert_eq!(second.redis_stats().unwrap().kept_locally, 0, "in Redis");
    let other = second.flush().await;
    assert!(
        used(&server, OTHER) == 1,
        "the other lane was delivered while the busy one was held: {other:?}"
    );
    slow.abort();
}

/// A claim after a long outage links up to ten thousand reports in one script, and Redis
/// runs nothing else meanwhile (2cf28bd's comment: "each batch a few milliseconds"). Here one
/// lane holds 10,500: the first claim holds Redis for longer than the commands of every
/// instance can wait (the default time-out is 100 ms; measured about 100 to 150 ms on a
/// loaded two-core machine), so it times out on its own client, which rests, and its picked
/// report stays leased to nobody until the lease ends. Redis's slow log must show no script
/// of the queue running as long as that time-out (100 ms: the failure itself, not a speed
/// target, so that a loaded machine does not make it fail).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn review3_a_claim_after_a_long_outage_holds_redis_only_briefly() {
    let Some(redis) = redis_or_skip() else { return };
    let server = emulator().await;
    let client = client_of(&server, RedisConfig::new(redis.url()));
    offline(&server).await;
    queue_many(&client, CUSTOMER, 10_500, 8).await;
    assert_eq!(
        client.redis_stats().unwrap().kept_locally,
        0,
        "all in Redis"
    );
    redis.cli(&["CONFIG", "SET", "slowlog-log-slower-than", "100000"]);
    redis.cli(&["SLOWLOG", "RESET"]);
    server.go_online().await.unwrap();
    let errors = client.redis_stats().unwrap().errors;
    let flushed = client.shutdown(Duration::from_secs(3)).await;
    let slow = redis.cli(&["SLOWLOG", "GET", "100"]);
    let scripts = slow
        .lines()
        .filter(|line| line.eq_ignore_ascii_case("evalsha") || line.eq_ignore_ascii_case("eval"))
        .count();
    let errors = client.redis_stats().unwrap().errors - errors;
    assert_eq!(
        scripts, 0,
        "scripts that held Redis for 100 ms or more (the client met {errors} Redis errors; \
         {flushed:?}):\n{slow}"
    );
}

/// `Outbox::waiting` counts the reports in Redis as none when Redis does not answer (the
/// `ZCARD` fails, or is skipped while the client rests after a failure), and `shutdown`
/// takes "none remaining" for done: a report waits in Redis, Redis stalls for a moment as
/// the shutdown begins, and the shutdown returns at once saying nothing remains, with most
/// of its deadline left and the report undelivered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn review3_a_shutdown_that_meets_redis_stalled_does_not_say_nothing_remains() {
    let Some(redis) = redis_or_skip() else { return };
    let server = emulator().await;
    let client = Kelviq::builder(API_KEY)
        .base_url(server.url())
        .connect_timeout(Duration::from_millis(300))
        .redis(RedisConfig::new(redis.url()).lease(Duration::from_secs(1)))
        .offline_queue(QueueConfig::default().retry_interval(Duration::from_millis(200)))
        .build()
        .unwrap();
    offline(&server).await;
    assert!(report(&client, CUSTOMER, 1, Behaviour::Delta)
        .await
        .is_queued());
    assert_eq!(client.redis_stats().unwrap().kept_locally, 0, "in Redis");
    server.go_online().await.unwrap();
    redis.pause(400);
    let left = client.shutdown(Duration::from_secs(5)).await;
    assert!(
        left.remaining > 0 || used(&server, CUSTOMER) == 1,
        "the shutdown says nothing remains, and the report waits in Redis: {left:?}, \
         {} in Redis",
        redis
            .cli(&["ZCARD", &format!("{}queue:order", queue_prefix(&redis))])
            .trim()
    );
    assert_eq!(
        (left.delivered, left.remaining),
        (1, 0),
        "Redis answered again within the deadline: {left:?}"
    );
}
