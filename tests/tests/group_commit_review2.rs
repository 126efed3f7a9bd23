//! Review 7 of the group commit: two calls in flight, a group written by `PUSH_MANY`, ids
//! from a per-process base and a counter. Against a real `redis-server` held with
//! `CLIENT PAUSE`. Without `redis-server` installed these say so and pass, unless
//! `KELVIQ_REQUIRE_REDIS` is set.

use std::time::Duration;

use kelviq_tests::offline_queue::{delivered, emulator, offline, spawn_report};
use kelviq_tests::redis_server::RedisServer;

/// A lane whose tail is already in Redis, then a group (`PUSH_MANY`) holding several reports
/// of that lane and of another lane new to Redis, between reports of other lanes: each
/// lands once, and each lane is delivered in the order its reports were made.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_group_with_many_reports_of_one_lane_keeps_them_once_and_in_order() {
    let Some(redis) = RedisServer::start_or_skip() else {
        return;
    };
    let (a, b, c, d) = ("cust-a", "cust-b", "cust-c", "cust-d");
    let server = emulator(&[a, b, c, d]).await;
    let client = kelviq_tests::offline_queue::client(&server, &redis.url(), Duration::from_secs(5));
    offline(&server).await;
    // Alone (PUSH_ONE): lane `a` has a tail in Redis.
    spawn_report(&client, a, 1).await.unwrap();
    spawn_report(&client, a, 2).await.unwrap();
    let before = redis.scripts_run();
    redis.pause(600);
    tokio::time::sleep(Duration::from_millis(20)).await;
    // The two places in flight.
    let first = spawn_report(&client, c, 100);
    tokio::time::sleep(Duration::from_millis(30)).await;
    let second = spawn_report(&client, d, 200);
    tokio::time::sleep(Duration::from_millis(30)).await;
    // One group, in this order.
    let mut group = Vec::new();
    for (customer, value) in [(a, 3), (b, 10), (a, 4), (b, 11), (a, 5), (b, 12)] {
        group.push(spawn_report(&client, customer, value));
        tokio::time::sleep(Duration::from_millis(15)).await;
    }
    first.await.unwrap();
    second.await.unwrap();
    for task in group {
        task.await.unwrap();
    }
    let calls = redis.scripts_run() - before;
    assert!(
        (3..=4).contains(&calls),
        "two calls alone, then the six in one group (PUSH_MANY, by its text the first \
         time): {calls}"
    );
    assert_eq!(client.redis_stats().unwrap().kept_locally, 0);
    server.go_online().await.unwrap();
    for _ in 0..10 {
        if client.flush().await.remaining == 0 {
            break;
        }
    }
    assert_eq!(delivered(&server, a), [1, 2, 3, 4, 5]);
    assert_eq!(delivered(&server, b), [10, 11, 12]);
    assert_eq!(delivered(&server, c), [100]);
    assert_eq!(delivered(&server, d), [200]);
}

/// The push script of the SDK before this one (a group, report after report): what an
/// instance not yet upgraded runs against the same keys during a rolling deploy.
const OLD_PUSH: &str = r"
    for i = 1, #ARGV, 3 do
        local id, lane = ARGV[i], ARGV[i + 2]
        if not redis.call('ZSCORE', KEYS[4], id)
            and redis.call('HSETNX', KEYS[2], id, ARGV[i + 1]) == 1 then
            local seq = redis.call('INCR', KEYS[5])
            redis.call('ZADD', KEYS[1], seq, id)
            redis.call('HSET', KEYS[3], id, lane)
            local tail = redis.call('HGET', KEYS[8], lane)
            if tail then
                redis.call('HSET', KEYS[9], tail, id)
            else
                redis.call('HSET', KEYS[7], lane, id)
                redis.call('ZADD', KEYS[6], seq, lane)
            end
            redis.call('HSET', KEYS[8], lane, id)
        end
    end
    return redis.call('ZCARD', KEYS[1])
";

/// `redis-cli`, with `last` (which may hold a NUL) as its last argument, read from stdin.
fn cli_with(redis: &RedisServer, args: &[&str], last: Option<&str>) -> String {
    use std::io::Write;
    let url = redis.url();
    let port = url
        .strip_prefix("redis://127.0.0.1:")
        .unwrap()
        .split('/')
        .next()
        .unwrap()
        .to_owned();
    let mut command = std::process::Command::new("redis-cli");
    command.args(["-p", &port]);
    if last.is_some() {
        command.arg("-x");
    }
    let mut child = command
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("redis-cli runs");
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(last.unwrap_or("").as_bytes()).unwrap();
    drop(stdin);
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "{output:?}");
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

/// An instance of the previous SDK pushes, with its own script, reports of a lane between
/// this SDK's lone push and its group of that lane (and again after): the lane keeps the
/// order the reports were pushed in, and each lands once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_old_instances_pushes_and_this_ones_groups_share_a_lane_in_order() {
    let Some(redis) = RedisServer::start_or_skip() else {
        return;
    };
    let (a, c, d) = ("cust-a", "cust-c", "cust-d");
    let server = emulator(&[a, c, d]).await;
    let client = kelviq_tests::offline_queue::client(&server, &redis.url(), Duration::from_secs(5));
    offline(&server).await;
    spawn_report(&client, a, 1).await.unwrap();
    let body_key = redis.cli(&["--raw", "KEYS", "*queue:body"]);
    let prefix = body_key.strip_suffix("body").unwrap().to_owned();
    let keys: Vec<String> = [
        "order", "body", "lane", "settled", "seq", "ready", "head", "tail", "next",
    ]
    .iter()
    .map(|name| format!("{prefix}{name}"))
    .collect();
    let first_id = redis.cli(&["--raw", "HKEYS", &body_key]);
    let body = redis.cli(&["--raw", "HGET", &body_key, &first_id]);
    let lane = redis.cli(&["--raw", "HGET", &keys[2], &first_id]);
    assert!(body.contains("\"value\":1"), "{body}");
    let old_push = |id: &str, value: i64| {
        let body = body.replace("\"value\":1", &format!("\"value\":{value}"));
        let mut args = vec!["EVAL", OLD_PUSH, "9"];
        args.extend(keys.iter().map(String::as_str));
        args.extend([id, body.as_str()]);
        cli_with(&redis, &args, Some(&lane));
    };
    old_push("old-2", 2);
    redis.pause(600);
    tokio::time::sleep(Duration::from_millis(20)).await;
    let first = spawn_report(&client, c, 100);
    tokio::time::sleep(Duration::from_millis(30)).await;
    let second = spawn_report(&client, d, 200);
    tokio::time::sleep(Duration::from_millis(30)).await;
    let mut group = Vec::new();
    for value in [3, 4, 5] {
        group.push(spawn_report(&client, a, value));
        tokio::time::sleep(Duration::from_millis(15)).await;
    }
    first.await.unwrap();
    second.await.unwrap();
    for task in group {
        task.await.unwrap();
    }
    old_push("old-6", 6);
    // Pushed again (a retry): kept once.
    old_push("old-2", 2);
    spawn_report(&client, a, 7).await.unwrap();
    assert_eq!(client.redis_stats().unwrap().kept_locally, 0);
    server.go_online().await.unwrap();
    for _ in 0..12 {
        if client.flush().await.remaining == 0 {
            break;
        }
    }
    assert_eq!(delivered(&server, a), [1, 2, 3, 4, 5, 6, 7]);
    assert_eq!(delivered(&server, c), [100]);
    assert_eq!(delivered(&server, d), [200]);
}

/// Two calls in flight and a group behind them when the connection is cut before their
/// answers come back (Redis ran them; the retry is refused): every report is answered
/// `Maybe` and kept locally with its Redis id, and once all is up again each is delivered
/// exactly once, the lane's report pushed alone before them first.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_lost_with_two_calls_in_flight_leave_each_report_delivered_once() {
    let Some(redis) = RedisServer::start_or_skip() else {
        return;
    };
    let upstream: std::net::SocketAddr = redis
        .url()
        .strip_prefix("redis://")
        .unwrap()
        .split('/')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let proxy = kelviq_tests::proxy::CuttingProxy::start(upstream).await;
    let url = format!("redis://{}/0", proxy.addr());
    let (a, b, c, d) = ("cust-a", "cust-b", "cust-c", "cust-d");
    let server = emulator(&[a, b, c, d]).await;
    let client = kelviq_tests::offline_queue::client(&server, &url, Duration::from_secs(5));
    offline(&server).await;
    spawn_report(&client, a, 1).await.unwrap();
    redis.pause(500);
    tokio::time::sleep(Duration::from_millis(20)).await;
    let mut tasks = vec![spawn_report(&client, c, 100)];
    tokio::time::sleep(Duration::from_millis(30)).await;
    tasks.push(spawn_report(&client, d, 200));
    tokio::time::sleep(Duration::from_millis(30)).await;
    for (customer, value) in [(a, 2), (b, 10), (a, 3), (b, 11)] {
        tasks.push(spawn_report(&client, customer, value));
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    proxy.cut_next_answer();
    for task in tasks {
        task.await.unwrap();
    }
    assert!(proxy.answers_cut() >= 1);
    assert!(
        client.redis_stats().unwrap().kept_locally >= 1,
        "{:?}",
        client.redis_stats()
    );
    proxy.resume().await;
    server.go_online().await.unwrap();
    for _ in 0..40 {
        // Redis rests a while after failing: the reports wait until it answers again.
        if client.flush().await.remaining == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let mut got = delivered(&server, a);
    assert_eq!(got.first(), Some(&1), "{got:?}");
    got.sort_unstable();
    assert_eq!(got, [1, 2, 3]);
    let mut got = delivered(&server, b);
    got.sort_unstable();
    assert_eq!(got, [10, 11]);
    assert_eq!(delivered(&server, c), [100]);
    assert_eq!(delivered(&server, d), [200]);
}
