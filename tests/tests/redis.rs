//! The shared tier against a real `redis-server` on loopback (started by each test on a free
//! port) and real client processes killed with SIGKILL. Without `redis-server` installed these
//! say so and pass, unless `KELVIQ_REQUIRE_REDIS` is set (as CI does).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use kelviq::{Behaviour, Client, Delivery, Kelviq, QueueConfig, RedisConfig};
use kelviq_mock::catalogue::FeatureKind;
use kelviq_mock::{Fault, FaultKind, Grant, MockServer};
use kelviq_tests::child::{deliver, queue, Keep, API_KEY};
use kelviq_tests::redis_server::RedisServer;

const CHILD: &str = env!("CARGO_BIN_EXE_kelviq_child");
const CUSTOMER: &str = "cust-shared";

async fn emulator(features: &[&str]) -> MockServer {
    let server = MockServer::start().await.unwrap();
    let client = Kelviq::builder(API_KEY)
        .base_url(server.url())
        .build()
        .unwrap();
    for customer in [CUSTOMER, "cust-other"] {
        client.customers().create(customer).send().await.unwrap();
        for feature in features {
            server.grant(Grant {
                customer_id: customer.into(),
                feature_id: (*feature).into(),
                feature_type: FeatureKind::Meter,
                usage_limit: None,
                hard_limit: None,
            });
        }
    }
    server.clear_requests();
    server
}

/// A client sharing `redis`; its background sender waits an hour before trying again, so
/// that only what a test asks for is sent.
fn client(server: &MockServer, redis: &RedisServer) -> Client {
    Kelviq::builder(API_KEY)
        .base_url(server.url())
        .redis(RedisConfig::new(redis.url()).lease(Duration::from_secs(1)))
        .offline_queue(QueueConfig::default().retry_interval(Duration::from_secs(3600)))
        .build()
        .unwrap()
}

fn requests(server: &MockServer, operation: &str) -> usize {
    server
        .requests()
        .iter()
        .filter(|r| r.operation.as_deref() == Some(operation))
        .count()
}

/// Takes the emulator offline, then gives the client's connection pool time to see its
/// connections closed: a request on a pooled connection the server has just closed is reset,
/// and a `DELTA` reset after it was written is (rightly) reported unconfirmed, not queued.
async fn offline(server: &MockServer) {
    server.go_offline();
    tokio::time::sleep(Duration::from_millis(100)).await;
}

async fn eventually(what: &str, mut done: impl FnMut() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(started.elapsed() < Duration::from_secs(10), "{what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Asks `client` for `reports` until it is allowed (an invalidation reached it), failing with
/// `what` after ten seconds.
async fn until_allowed(client: &Client, what: &str) {
    let started = Instant::now();
    while !client
        .entitlements()
        .has_access(CUSTOMER, "reports")
        .send()
        .await
        .unwrap()
    {
        assert!(started.elapsed() < Duration::from_secs(10), "{what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_clients_share_a_cache_entry_and_the_second_asks_no_edge() {
    let Some(redis) = RedisServer::start_or_skip() else {
        return;
    };
    let server = emulator(&["seats"]).await;
    let (first, second) = (client(&server, &redis), client(&server, &redis));

    assert!(first
        .entitlements()
        .has_access(CUSTOMER, "seats")
        .send()
        .await
        .unwrap());
    assert_eq!(requests(&server, "getEntitlements"), 1);
    let access = second
        .entitlements()
        .check(CUSTOMER, "seats")
        .send()
        .await
        .unwrap();
    assert!(access.allowed && access.freshness == kelviq::Freshness::Fresh);
    assert_eq!(
        requests(&server, "getEntitlements"),
        1,
        "the second client answered from Redis"
    );
    assert_eq!(second.redis_stats().unwrap().cache_hits, 1);
    assert_eq!(second.redis_stats().unwrap().errors, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invalidation_on_one_client_is_seen_by_the_other() {
    let Some(redis) = RedisServer::start_or_skip() else {
        return;
    };
    let server = emulator(&["seats"]).await;
    let (first, second) = (client(&server, &redis), client(&server, &redis));
    for client in [&first, &second] {
        assert!(!client
            .entitlements()
            .has_access(CUSTOMER, "reports")
            .send()
            .await
            .unwrap());
    }
    server.grant(Grant {
        customer_id: CUSTOMER.into(),
        feature_id: "reports".into(),
        feature_type: FeatureKind::Boolean,
        usage_limit: None,
        hard_limit: None,
    });
    // Both still answer from their fresh sets (sixty seconds of `ttl`).
    assert!(!second
        .entitlements()
        .has_access(CUSTOMER, "reports")
        .send()
        .await
        .unwrap());

    first.invalidate_entitlements(CUSTOMER);
    until_allowed(&second, "the second client never saw the invalidation").await;
    // And the first, whose memory was retired at once, does not read the old set back
    // from Redis.
    assert!(first
        .entitlements()
        .has_access(CUSTOMER, "reports")
        .send()
        .await
        .unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reports_a_killed_process_left_in_redis_are_delivered_once_by_another() {
    let Some(redis) = RedisServer::start_or_skip() else {
        return;
    };
    let server = emulator(&["api-calls"]).await;
    server.go_offline();
    let mut child = queue(
        CHILD,
        &server.url(),
        Keep::Redis(&redis.url()),
        (CUSTOMER, "api-calls"),
        25,
        3600000,
    );
    child.kill();
    server.go_online().await.unwrap();

    let outcome = deliver(CHILD, &server.url(), Keep::Redis(&redis.url())).await;
    assert_eq!(outcome, "delivered=25 dropped=0 unconfirmed=0 remaining=0");
    assert_eq!(server.usage(CUSTOMER).get("api-calls"), Some(&25));
    assert_eq!(requests(&server, "reportUsage"), 25, "each sent once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_claimers_reports_are_taken_over_after_its_lease_and_its_delta_in_flight_is_not_resent(
) {
    let Some(redis) = RedisServer::start_or_skip() else {
        return;
    };
    let server = emulator(&["api-calls"]).await;
    server.go_offline();
    // It tries again every 50 ms: it claims and sends as soon as the emulator is back.
    let mut child = queue(
        CHILD,
        &server.url(),
        Keep::Redis(&redis.url()),
        (CUSTOMER, "api-calls"),
        5,
        50,
    );
    server
        .inject(Fault::new(
            "reportUsage",
            1,
            FaultKind::DelayAnswer { ms: 60_000 },
        ))
        .unwrap();
    server.go_online().await.unwrap();
    eventually("the child never sent", || {
        server.usage(CUSTOMER).get("api-calls") == Some(&1)
    })
    .await;
    child.kill();
    server.clear_faults();
    // Its lease (one second) ends.
    tokio::time::sleep(Duration::from_millis(1500)).await;

    let outcome = deliver(CHILD, &server.url(), Keep::Redis(&redis.url())).await;
    assert_eq!(
        outcome, "delivered=4 dropped=0 unconfirmed=1 remaining=0",
        "the DELTA the dead claimer was sending is taken out, the rest delivered"
    );
    assert_eq!(server.usage(CUSTOMER).get("api-calls"), Some(&5));
    assert_eq!(requests(&server, "reportUsage"), 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_clients_flushing_one_shared_queue_at_once_deliver_each_report_once() {
    let Some(redis) = RedisServer::start_or_skip() else {
        return;
    };
    let features: Vec<String> = (0..10).map(|i| format!("meter-{i}")).collect();
    let names: Vec<&str> = features.iter().map(String::as_str).collect();
    let server = emulator(&names).await;
    server.go_offline();
    let queuer = client(&server, &redis);
    for round in 0..20 {
        for feature in &features {
            let delivery = queuer
                .reporting()
                .report_usage(1, CUSTOMER, feature, Behaviour::Delta)
                .send()
                .await
                .unwrap();
            assert!(matches!(delivery, Delivery::Queued { .. }), "round {round}");
        }
    }
    assert_eq!(queuer.queued_reports(), 0, "kept in Redis, not in memory");
    drop(queuer);
    server.go_online().await.unwrap();

    let (first, second) = (client(&server, &redis), client(&server, &redis));
    let (a, b) = tokio::join!(first.flush(), second.flush());
    assert!(
        a.delivered > 0 && b.delivered > 0,
        "both delivered: {a:?} {b:?}"
    );
    // On a loaded machine a Redis command can pass its 100 ms time-out: its report waits for
    // its lease (one second here) and a later pass. Never sent twice, never lost.
    let rest = first.shutdown(Duration::from_secs(10)).await;
    assert_eq!(
        a.delivered + b.delivered + rest.delivered,
        200,
        "{a:?} {b:?} {rest:?}"
    );
    assert_eq!(a.unconfirmed + b.unconfirmed + a.dropped + b.dropped, 0);
    assert_eq!(requests(&server, "reportUsage"), 200, "none sent twice");
    let usage = server.usage(CUSTOMER);
    for feature in &features {
        assert_eq!(usage.get(feature), Some(&20), "{feature}");
    }
    assert_eq!(rest.remaining, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_stopped_mid_run_degrades_to_memory_and_the_local_durable_queue() {
    let Some(mut redis) = RedisServer::start_or_skip() else {
        return;
    };
    let server = emulator(&["api-calls"]).await;
    let dir = std::env::temp_dir().join(format!("kelviq-redis-down-{}", std::process::id()));
    let path: PathBuf = dir.join("queue.redb");
    let client = Kelviq::builder(API_KEY)
        .base_url(server.url())
        .redis(RedisConfig::new(redis.url()))
        .offline_queue(
            QueueConfig::default()
                .retry_interval(Duration::from_secs(3600))
                .durable_at(&path),
        )
        .build()
        .unwrap();
    assert!(client
        .entitlements()
        .has_access(CUSTOMER, "api-calls")
        .send()
        .await
        .unwrap());

    redis.kill();
    // Checks: from memory, and from the edge host for a customer memory does not hold.
    for customer in [CUSTOMER, "cust-other"] {
        let access = client
            .entitlements()
            .check(customer, "api-calls")
            .send()
            .await
            .unwrap();
        assert!(
            access.allowed && access.freshness == kelviq::Freshness::Fresh,
            "{customer}"
        );
    }
    // Reports while Kelviq is unreachable too: queued locally, in the file.
    offline(&server).await;
    for _ in 0..10 {
        let delivery = client
            .reporting()
            .report_usage(1, CUSTOMER, "api-calls", Behaviour::Delta)
            .send()
            .await
            .unwrap();
        assert!(matches!(delivery, Delivery::Queued { .. }));
    }
    let stats = client.redis_stats().unwrap();
    assert!(stats.errors > 0, "{stats:?}");
    assert_eq!(stats.kept_locally, 10, "{stats:?}");
    assert_eq!(client.queued_reports(), 10);

    // Kelviq and Redis come back (Redis empty): every report is delivered, once.
    server.go_online().await.unwrap();
    redis.restart();
    tokio::time::sleep(Duration::from_millis(600)).await;
    let left = client.shutdown(Duration::from_secs(10)).await;
    assert_eq!(
        (left.delivered, left.remaining, left.unconfirmed),
        (10, 0, 0),
        "{left:?}"
    );
    assert_eq!(server.usage(CUSTOMER).get("api-calls"), Some(&10));
    assert_eq!(requests(&server, "reportUsage"), 10);
    drop(client);
    std::fs::remove_dir_all(dir).unwrap();
}

/// Queues a `DELTA` through Redis and delivers it, then queues a second while Redis stalls as
/// `stall` makes it, so that its push times out on the client; then delivers with Kelviq back,
/// and says what the last flush reported.
async fn push_while_redis_stalls(
    stall: impl FnOnce(&RedisServer),
    after_push: impl FnOnce(&mut RedisServer),
) -> (MockServer, kelviq::FlushReport) {
    let mut redis = RedisServer::start_or_skip().expect("checked by the caller");
    let server = emulator(&["api-calls"]).await;
    let client = client(&server, &redis);
    // One report queued in Redis and delivered first, so that the connection is made and
    // Redis knows the scripts: the push below is then one command, written at once.
    server.go_offline();
    let first = client
        .reporting()
        .report_usage(1, CUSTOMER, "api-calls", Behaviour::Delta)
        .send()
        .await
        .unwrap();
    assert!(matches!(first, Delivery::Queued { .. }));
    server.go_online().await.unwrap();
    assert_eq!(client.flush().await.delivered, 1);
    offline(&server).await;
    stall(&redis);
    let delivery = client
        .reporting()
        .report_usage(1, CUSTOMER, "api-calls", Behaviour::Delta)
        .send()
        .await
        .unwrap();
    assert!(matches!(delivery, Delivery::Queued { .. }));
    after_push(&mut redis);
    let stats = client.redis_stats().unwrap();
    assert_eq!(stats.kept_locally, 1, "kept locally too: {stats:?}");
    assert_eq!(client.queued_reports(), 1);

    // Redis answers again (and the client's pause after the failure has passed).
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    server.go_online().await.unwrap();
    let flushed = client.flush().await;
    assert_eq!(client.queued_reports(), 0);
    (server, flushed)
}

fn redis_installed() -> bool {
    RedisServer::start_or_skip().is_some()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_report_whose_push_timed_out_and_landed_is_delivered_once_from_redis() {
    if !redis_installed() {
        return;
    }
    // A busy Redis runs the push after the client gave up on it: two copies, one delivery.
    let (server, flushed) = push_while_redis_stalls(
        |redis| {
            redis.busy(1_200);
        },
        |_| {},
    )
    .await;
    assert_eq!(
        (flushed.delivered, flushed.remaining),
        (1, 0),
        "{flushed:?}"
    );
    assert_eq!(server.usage(CUSTOMER).get("api-calls"), Some(&2));
    assert_eq!(requests(&server, "reportUsage"), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_report_whose_push_timed_out_and_died_with_redis_is_delivered_once_from_memory() {
    if !redis_installed() {
        return;
    }
    // Redis holds the push, then dies before running it and comes back empty.
    let (server, flushed) =
        push_while_redis_stalls(|redis| redis.pause(5_000), RedisServer::restart).await;
    assert_eq!(
        (flushed.delivered, flushed.remaining),
        (1, 0),
        "{flushed:?}"
    );
    assert_eq!(server.usage(CUSTOMER).get("api-calls"), Some(&2));
    assert_eq!(requests(&server, "reportUsage"), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_blocking_client_reads_what_the_async_client_shared() {
    let Some(redis) = RedisServer::start_or_skip() else {
        return;
    };
    let server = emulator(&["seats"]).await;
    let first = client(&server, &redis);
    assert!(first
        .entitlements()
        .has_access(CUSTOMER, "seats")
        .send()
        .await
        .unwrap());
    let (url, redis_url) = (server.url(), redis.url());
    let (allowed, hits) = tokio::task::spawn_blocking(move || {
        let blocking = Kelviq::builder(API_KEY)
            .base_url(url)
            .redis(RedisConfig::new(redis_url))
            .build_blocking()
            .unwrap();
        let allowed = blocking
            .entitlements()
            .has_access(CUSTOMER, "seats")
            .send()
            .unwrap();
        (allowed, blocking.redis_stats().unwrap().cache_hits)
    })
    .await
    .unwrap();
    assert!(allowed);
    assert_eq!(hits, 1);
    assert_eq!(
        requests(&server, "getEntitlements"),
        1,
        "one edge request for both"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delta_waiting_on_a_dead_redis_holds_back_its_lane_only() {
    if !redis_installed() {
        return;
    }
    let mut redis = RedisServer::start();
    let features: Vec<String> = (0..20).map(|i| format!("meter-{i}")).collect();
    let mut names: Vec<&str> = features.iter().map(String::as_str).collect();
    names.push("api-calls");
    let server = emulator(&names).await;
    let client = client(&server, &redis);
    // A first report through Redis and delivered, so that the connection is made and the
    // scripts are known.
    offline(&server).await;
    let first = client
        .reporting()
        .report_usage(1, CUSTOMER, "api-calls", Behaviour::Delta)
        .send()
        .await
        .unwrap();
    assert!(first.is_queued());
    server.go_online().await.unwrap();
    assert_eq!(client.flush().await.delivered, 1);

    // A push Redis holds and then dies with: whether it landed cannot be known until Redis
    // answers again, so this DELTA waits.
    offline(&server).await;
    redis.pause(5_000);
    let unknown = client
        .reporting()
        .report_usage(1, CUSTOMER, "api-calls", Behaviour::Delta)
        .send()
        .await
        .unwrap();
    assert!(unknown.is_queued());
    redis.kill();
    // Twenty more reports, each in a lane of its own, queued locally (Redis is down).
    for feature in &features {
        let queued = client
            .reporting()
            .report_usage(1, "cust-other", feature, Behaviour::Delta)
            .send()
            .await
            .unwrap();
        assert!(queued.is_queued());
    }

    // Kelviq is back: one pass delivers the twenty around the one that waits.
    server.go_online().await.unwrap();
    let flushed = client.flush().await;
    assert_eq!(
        (flushed.delivered, flushed.remaining),
        (20, 1),
        "the waiting DELTA holds back nothing but itself: {flushed:?}"
    );
    // Now a report in another lane goes straight to Kelviq; one in its lane queues behind it.
    let other = client
        .reporting()
        .report_usage(1, "cust-other", "api-calls", Behaviour::Delta)
        .send()
        .await
        .unwrap();
    assert!(!other.is_queued(), "another lane is not held back");
    let same = client
        .reporting()
        .report_usage(1, CUSTOMER, "api-calls", Behaviour::Delta)
        .send()
        .await
        .unwrap();
    assert!(same.is_queued(), "its lane keeps its order");

    // Redis comes back (empty): the waiting report is sent from memory, then the one behind.
    redis.restart();
    let started = Instant::now();
    let mut delivered = 0;
    while delivered < 2 {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "never delivered"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
        delivered += client.flush().await.delivered;
    }
    assert_eq!(server.usage(CUSTOMER).get("api-calls"), Some(&3));
    let other = server.usage("cust-other");
    assert_eq!(other.values().sum::<i64>(), 21, "{other:?}");
    assert_eq!(requests(&server, "reportUsage"), 24);
}

/// Finding 12c: what was published before an instance's first subscription is unknown to it,
/// so the first subscription retires its memory, even when nothing failed. Here Redis is slow
/// to accept the instance's connections (a proxy holds each new one 600 ms): the instance
/// reads a set from the edge (its Redis read times out) while its subscription is still on
/// its way, and another instance, connected directly, invalidates that customer before the
/// subscription lands. Without the retirement, the first instance answers its old set for the
/// whole `ttl`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invalidation_published_before_the_first_subscription_is_not_missed() {
    let Some(redis) = RedisServer::start_or_skip() else {
        return;
    };
    let server = emulator(&["seats"]).await;
    // `redis://127.0.0.1:<port>/0`
    let upstream: std::net::SocketAddr = redis.url()["redis://".len()..]
        .split('/')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let proxy = kelviq_tests::proxy::CuttingProxy::start(upstream).await;
    proxy.delay_new_connections(Duration::from_millis(600));
    let first = Kelviq::builder(API_KEY)
        .base_url(server.url())
        .redis(RedisConfig::new(format!("redis://{}", proxy.addr())))
        .build()
        .unwrap();
    assert!(!first
        .entitlements()
        .has_access(CUSTOMER, "reports")
        .send()
        .await
        .unwrap());
    server.grant(Grant {
        customer_id: CUSTOMER.into(),
        feature_id: "reports".into(),
        feature_type: FeatureKind::Boolean,
        usage_limit: None,
        hard_limit: None,
    });
    let second = client(&server, &redis);
    second.invalidate_entitlements(CUSTOMER);
    until_allowed(
        &first,
        "the first instance kept the set it read before it subscribed",
    )
    .await;
}

/// Finding 8: the epoch lives as long as its key. A fetch remembers the customer's epoch in
/// Redis before asking the edge host; an invalidation moves it on. With `ttl + max_stale`
/// shorter than a slow fetch, the invalidated entry expired before the fetch ended, the
/// epoch read back as the initial one, and the fetch stored the set from before the
/// invalidation as current: another instance then answered from it. An entry now outlives
/// any fetch.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invalidation_outlives_a_fetch_slower_than_the_entrys_lifetime() {
    let Some(redis) = RedisServer::start_or_skip() else {
        return;
    };
    let server = emulator(&["seats"]).await;
    let short = || {
        Kelviq::builder(API_KEY)
            .base_url(server.url())
            .redis(RedisConfig::new(redis.url()).share_queue(false))
            .entitlement_cache(
                kelviq::CacheConfig::default()
                    .ttl(Duration::from_millis(400))
                    .max_stale(Duration::ZERO),
            )
            .build()
            .unwrap()
    };
    let (slow, other) = (short(), short());
    // The edge host reads the state as the request arrives (no access yet) and answers
    // 1.5 s later.
    server
        .inject(Fault::new(
            "getEntitlements",
            1,
            FaultKind::DelayAnswer { ms: 1_500 },
        ))
        .unwrap();
    let fetch = tokio::spawn(async move {
        slow.entitlements()
            .has_access(CUSTOMER, "reports")
            .send()
            .await
            .unwrap()
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    server.grant(Grant {
        customer_id: CUSTOMER.into(),
        feature_id: "reports".into(),
        feature_type: FeatureKind::Boolean,
        usage_limit: None,
        hard_limit: None,
    });
    other.invalidate_entitlements(CUSTOMER);
    assert!(!fetch.await.unwrap(), "the slow fetch saw the state before");
    // A third instance, within `ttl` of the slow fetch's answer.
    let third = short();
    assert!(
        third
            .entitlements()
            .has_access(CUSTOMER, "reports")
            .send()
            .await
            .unwrap(),
        "the set from before the invalidation was stored in Redis as current"
    );
}
