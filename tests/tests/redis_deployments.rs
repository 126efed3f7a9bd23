//! The shared tier against Redis as teams deploy it: a `redis-server` that speaks only TLS
//! (its certificates made for the test), and a Redis Cluster of three primaries with a
//! replica each, a primary killed mid-run. The same scenarios run against one plain node,
//! so that the three can be compared. Without `redis-server` these say SKIPPED and pass,
//! unless `KELVIQ_REQUIRE_REDIS` is set (as CI does).

use std::time::{Duration, Instant};

use kelviq::{Behaviour, Client, Delivery, Kelviq, QueueConfig, RedisConfig};
use kelviq_mock::catalogue::FeatureKind;
use kelviq_mock::{Grant, MockServer};
use kelviq_tests::child::API_KEY;
use kelviq_tests::redis_deploy::{RedisCluster, TlsRedis};
use kelviq_tests::redis_server::RedisServer;

const CUSTOMER: &str = "cust-deployed";
const FEATURE: &str = "api-calls";

async fn emulator() -> MockServer {
    let server = MockServer::start().await.unwrap();
    let client = Kelviq::builder(API_KEY)
        .base_url(server.url())
        .build()
        .unwrap();
    client.customers().create(CUSTOMER).send().await.unwrap();
    for feature in [FEATURE, "seats"] {
        server.grant(Grant {
            customer_id: CUSTOMER.into(),
            feature_id: feature.into(),
            feature_type: FeatureKind::Meter,
            usage_limit: None,
            hard_limit: None,
        });
    }
    server.clear_requests();
    server
}

fn client(server: &MockServer, redis: RedisConfig) -> Client {
    client_retrying(server, redis, Duration::from_secs(3600))
}

/// A client whose background sender and shutdown try again after `retry`.
fn client_retrying(server: &MockServer, redis: RedisConfig, retry: Duration) -> Client {
    Kelviq::builder(API_KEY)
        .base_url(server.url())
        .redis(
            redis
                .lease(Duration::from_secs(1))
                .timeout(Duration::from_secs(1)),
        )
        .offline_queue(
            QueueConfig::default()
                .retry_interval(retry)
                .max_retry_interval(retry * 4),
        )
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

async fn offline(server: &MockServer) {
    server.go_offline();
    tokio::time::sleep(Duration::from_millis(100)).await;
}

async fn queue_deltas(client: &Client, n: usize) {
    for _ in 0..n {
        let delivery = client
            .reporting()
            .report_usage(1, CUSTOMER, FEATURE, Behaviour::Delta)
            .send()
            .await
            .unwrap();
        assert!(matches!(delivery, Delivery::Queued { .. }));
    }
}

/// Two instances on `redis`: a set one fetched answers the other's check; an invalidation
/// on one reaches the other; reports one queued in Redis are delivered by the other, once.
async fn shares_the_cache_and_the_queue(redis: impl Fn() -> RedisConfig) {
    let server = emulator().await;
    let (first, second) = (client(&server, redis()), client(&server, redis()));

    assert!(first
        .entitlements()
        .has_access(CUSTOMER, "seats")
        .send()
        .await
        .unwrap());
    assert!(second
        .entitlements()
        .has_access(CUSTOMER, "seats")
        .send()
        .await
        .unwrap());
    assert_eq!(
        requests(&server, "getEntitlements"),
        1,
        "answered from Redis"
    );
    assert_eq!(second.redis_stats().unwrap().cache_hits, 1);

    server.grant(Grant {
        customer_id: CUSTOMER.into(),
        feature_id: "reports".into(),
        feature_type: FeatureKind::Boolean,
        usage_limit: None,
        hard_limit: None,
    });
    first.invalidate_entitlements(CUSTOMER);
    let started = Instant::now();
    while !second
        .entitlements()
        .has_access(CUSTOMER, "reports")
        .send()
        .await
        .unwrap()
    {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the invalidation never reached the other instance"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    offline(&server).await;
    queue_deltas(&first, 20).await;
    assert_eq!(first.redis_stats().unwrap().kept_locally, 0, "all in Redis");
    server.go_online().await.unwrap();
    let delivered = second.shutdown(Duration::from_secs(10)).await;
    assert_eq!(
        (delivered.delivered, delivered.remaining),
        (20, 0),
        "{delivered:?}"
    );
    assert_eq!(server.usage(CUSTOMER).get(FEATURE), Some(&20));
    assert_eq!(requests(&server, "reportUsage"), 20);
    assert_eq!(first.redis_stats().unwrap().errors, 0);
    assert_eq!(second.redis_stats().unwrap().errors, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_plain_node_shares_the_cache_and_the_queue() {
    let Some(redis) = RedisServer::start_or_skip() else {
        return;
    };
    shares_the_cache_and_the_queue(|| RedisConfig::new(redis.url())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tls_node_shares_the_cache_and_the_queue() {
    let Some(redis) = TlsRedis::start_or_skip() else {
        return;
    };
    shares_the_cache_and_the_queue(|| RedisConfig::new(redis.url()).ca_file(redis.ca_file())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tls_node_whose_certificate_is_not_trusted_is_not_used() {
    let Some(redis) = TlsRedis::start_or_skip() else {
        return;
    };
    let server = emulator().await;
    // No CA file: the platform's roots do not know the test's CA.
    let client = client(&server, RedisConfig::new(redis.url()));
    assert!(client
        .entitlements()
        .has_access(CUSTOMER, "seats")
        .send()
        .await
        .unwrap());
    let stats = client.redis_stats().unwrap();
    assert!(stats.errors > 0, "{stats:?}");
    assert_eq!(stats.cache_hits, 0);
}

#[test]
fn a_missing_ca_file_is_refused_when_the_client_is_built() {
    let error = Kelviq::builder(API_KEY)
        .redis(RedisConfig::new("rediss://127.0.0.1:6380/0").ca_file("/nonexistent/ca.pem"))
        .build()
        .unwrap_err();
    let text = error.to_string();
    assert!(
        text.contains("/nonexistent/ca.pem") && text.contains("PEM"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cluster_shares_the_cache_and_the_queue() {
    let Some(cluster) = RedisCluster::start_or_skip() else {
        return;
    };
    shares_the_cache_and_the_queue(|| RedisConfig::cluster(cluster.urls())).await;
}

/// A primary is killed while reports wait in it and more are being queued; its replica
/// takes over. Every report is delivered once: none lost, no `DELTA` counted twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cluster_primary_killed_mid_run_loses_no_report_and_counts_none_twice() {
    let Some(mut cluster) = RedisCluster::start_or_skip() else {
        return;
    };
    let server = emulator().await;
    // Both try again soon after a failure, as they would in production (every second).
    let retry = Duration::from_millis(200);
    let (first, second) = (
        client_retrying(&server, RedisConfig::cluster(cluster.urls()), retry),
        client_retrying(&server, RedisConfig::cluster(cluster.urls()), retry),
    );
    offline(&server).await;
    queue_deltas(&first, 30).await;
    assert_eq!(first.redis_stats().unwrap().kept_locally, 0, "all in Redis");
    // Replication is asynchronous: give it a moment, as a primary that lives a little
    // longer would.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let primary = cluster
        .primary_holding("kelviq:*")
        .expect("a primary holds the queue");
    let killer = tokio::task::spawn_blocking(move || {
        cluster.kill_and_fail_over(primary);
        cluster
    });
    // Meanwhile reports keep coming: to Redis while it answers, locally while it does not.
    queue_deltas(&first, 30).await;
    let cluster = killer.await.unwrap();
    queue_deltas(&first, 30).await;

    server.go_online().await.unwrap();
    second.shutdown(Duration::from_secs(20)).await;
    first.shutdown(Duration::from_secs(20)).await;
    // Their background senders deliver too: what each did since it was built.
    let (by_first, by_second) = (first.queue_totals().await, second.queue_totals().await);
    assert_eq!(
        (
            by_first.delivered + by_second.delivered,
            by_first.unconfirmed + by_second.unconfirmed,
            by_first.remaining + by_second.remaining
        ),
        (90, 0, 0),
        "{by_first:?} {by_second:?}; applied {:?} of {} requests; Redis {:?} {:?}",
        server.usage(CUSTOMER).get(FEATURE),
        requests(&server, "reportUsage"),
        first.redis_stats(),
        second.redis_stats(),
    );
    assert_eq!(server.usage(CUSTOMER).get(FEATURE), Some(&90), "each once");
    assert_eq!(requests(&server, "reportUsage"), 90);
    drop(cluster);
}

/// Redis as a test names it: how a client configures it, and how a `kelviq_child` process
/// is told of it (`URL`, `URL1,URL2,…` for a cluster, `|CA_FILE` after either).
struct Deployment {
    config: Box<dyn Fn() -> RedisConfig + Send + Sync>,
    child: String,
}

impl Deployment {
    fn node(redis: &RedisServer) -> Self {
        let url = redis.url();
        Self {
            child: url.clone(),
            config: Box::new(move || RedisConfig::new(url.clone())),
        }
    }

    fn tls(redis: &TlsRedis) -> Self {
        let (url, ca) = (redis.url(), redis.ca_file());
        Self {
            child: format!("{url}|{}", ca.display()),
            config: Box::new(move || RedisConfig::new(url.clone()).ca_file(ca.clone())),
        }
    }

    fn cluster(cluster: &RedisCluster) -> Self {
        let urls = cluster.urls();
        Self {
            child: urls.join(","),
            config: Box::new(move || RedisConfig::cluster(urls.clone())),
        }
    }
}

const CHILD: &str = env!("CARGO_BIN_EXE_kelviq_child");

/// The shared-queue scenarios of `redis.rs` that do not depend on one node's faults, one
/// after the other on `deployment`: a killed process's reports delivered by another; a dead
/// claimer's reports taken over after its lease, its `DELTA` in flight not resent; two
/// clients flushing one queue at once; the blocking client reading what the async one shared.
async fn passes_the_shared_queue_scenarios(deployment: Deployment) {
    use kelviq_mock::{Fault, FaultKind};
    use kelviq_tests::child::{deliver, queue, Keep};

    // A killed process's reports, delivered once by another.
    let server = emulator().await;
    server.go_offline();
    let mut child = queue(
        CHILD,
        &server.url(),
        Keep::Redis(&deployment.child),
        (CUSTOMER, FEATURE),
        25,
        3_600_000,
    );
    child.kill();
    server.go_online().await.unwrap();
    let outcome = deliver(CHILD, &server.url(), Keep::Redis(&deployment.child)).await;
    assert_eq!(outcome, "delivered=25 dropped=0 unconfirmed=0 remaining=0");
    assert_eq!(server.usage(CUSTOMER).get(FEATURE), Some(&25));
    assert_eq!(requests(&server, "reportUsage"), 25);

    // A dead claimer: its DELTA in flight is taken out, the rest delivered.
    let server = emulator().await;
    server.go_offline();
    let mut child = queue(
        CHILD,
        &server.url(),
        Keep::Redis(&deployment.child),
        (CUSTOMER, FEATURE),
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
    let started = Instant::now();
    while server.usage(CUSTOMER).get(FEATURE) != Some(&1) {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the child never sent"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    child.kill();
    server.clear_faults();
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    let outcome = deliver(CHILD, &server.url(), Keep::Redis(&deployment.child)).await;
    assert_eq!(outcome, "delivered=4 dropped=0 unconfirmed=1 remaining=0");
    assert_eq!(server.usage(CUSTOMER).get(FEATURE), Some(&5));
    assert_eq!(requests(&server, "reportUsage"), 5);

    // Two clients flushing one shared queue at once.
    let server = emulator().await;
    offline(&server).await;
    let queuer = client(&server, (deployment.config)());
    queue_deltas(&queuer, 60).await;
    assert_eq!(queuer.queued_reports(), 0, "kept in Redis");
    drop(queuer);
    server.go_online().await.unwrap();
    let (first, second) = (
        client(&server, (deployment.config)()),
        client(&server, (deployment.config)()),
    );
    let (a, b) = tokio::join!(first.flush(), second.flush());
    let rest = first.shutdown(Duration::from_secs(10)).await;
    assert_eq!(
        (a.delivered + b.delivered + rest.delivered, rest.remaining),
        (60, 0),
        "{a:?} {b:?} {rest:?}"
    );
    assert_eq!(requests(&server, "reportUsage"), 60, "none sent twice");
    assert_eq!(server.usage(CUSTOMER).get(FEATURE), Some(&60));

    // The blocking client reads what the async client put in Redis.
    let server = emulator().await;
    let config = || (deployment.config)().namespace("blocking");
    let first = client(&server, config());
    assert!(first
        .entitlements()
        .has_access(CUSTOMER, "seats")
        .send()
        .await
        .unwrap());
    let (url, redis) = (server.url(), config());
    let (allowed, hits) = tokio::task::spawn_blocking(move || {
        let blocking = Kelviq::builder(API_KEY)
            .base_url(url)
            .redis(redis)
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
    assert_eq!(requests(&server, "getEntitlements"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_plain_node_passes_the_shared_queue_scenarios() {
    let Some(redis) = RedisServer::start_or_skip() else {
        return;
    };
    passes_the_shared_queue_scenarios(Deployment::node(&redis)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_tls_node_passes_the_shared_queue_scenarios() {
    let Some(redis) = TlsRedis::start_or_skip() else {
        return;
    };
    passes_the_shared_queue_scenarios(Deployment::tls(&redis)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_cluster_passes_the_shared_queue_scenarios() {
    let Some(cluster) = RedisCluster::start_or_skip() else {
        return;
    };
    passes_the_shared_queue_scenarios(Deployment::cluster(&cluster)).await;
}
