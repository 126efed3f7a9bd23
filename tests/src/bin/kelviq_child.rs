//! A client process for the tests that kill one: it queues reports and waits to be killed,
//! or delivers what a durable queue (a file, or Redis) kept and says what became of it.
//!
//! ```text
//! kelviq_child queue   url=U customer=C feature=F reports=N retry_ms=M [max_retry_ms=X] [path=P] [redis=R]
//! kelviq_child deliver url=U within_ms=W [path=P] [redis=R]
//! ```
//!
//! Its Redis lease is one second, so that a test can wait for it to end.
//!
//! `queue` prints `queued N` once every report was answered `Queued`, then runs its
//! background sender until it is killed. `deliver` prints
//! `delivered=D dropped=X unconfirmed=U remaining=R` and exits.

use std::collections::HashMap;
use std::io::Write;
use std::time::Duration;

use kelviq::{Behaviour, Delivery, Kelviq, QueueConfig};

fn main() {
    let mut args = std::env::args().skip(1);
    let mode = args.next().expect("a mode: queue or deliver");
    let options: HashMap<String, String> = args
        .map(|arg| {
            let (key, value) = arg.split_once('=').expect("key=value");
            (key.to_owned(), value.to_owned())
        })
        .collect();
    let get = |key: &str| options.get(key).cloned();
    let number = |key: &str| get(key).map_or(0, |v| v.parse::<u64>().expect("a number"));

    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    runtime.block_on(async {
        let mut queue =
            QueueConfig::default().retry_interval(Duration::from_millis(number("retry_ms").max(1)));
        if get("max_retry_ms").is_some() {
            queue = queue.max_retry_interval(Duration::from_millis(number("max_retry_ms").max(1)));
        }
        if let Some(path) = get("path") {
            queue = queue.durable_at(path);
        }
        let builder = Kelviq::builder(kelviq_tests::child::API_KEY)
            .base_url(get("url").expect("url=…"))
            .offline_queue(queue);
        let builder = with_redis(builder, get("redis"));
        let client = builder.build().expect("the client builds");
        match mode.as_str() {
            "queue" => {
                let customer = get("customer").expect("customer=…");
                let feature = get("feature").expect("feature=…");
                let reports = number("reports");
                for _ in 0..reports {
                    let delivery = client
                        .reporting()
                        .report_usage(1, &customer, &feature, Behaviour::Delta)
                        .send()
                        .await
                        .expect("the report is taken");
                    assert!(
                        matches!(delivery, Delivery::Queued { .. }),
                        "the service was meant to be unreachable"
                    );
                }
                println!("queued {reports}");
                std::io::stdout().flush().unwrap();
                std::future::pending::<()>().await;
            }
            "deliver" => {
                client
                    .shutdown(Duration::from_millis(number("within_ms")))
                    .await;
                // What became of the queue in this process, the `DELTA`s its file found on
                // their way at the start included.
                let left = client.queue_totals().await;
                println!(
                    "delivered={} dropped={} unconfirmed={} remaining={}",
                    left.delivered, left.dropped, left.unconfirmed, left.remaining
                );
            }
            other => panic!("unknown mode {other}"),
        }
    });
}

fn with_redis(builder: kelviq::ClientBuilder, redis: Option<String>) -> kelviq::ClientBuilder {
    match redis {
        Some(url) => builder.redis(kelviq::RedisConfig::new(url).lease(Duration::from_secs(1))),
        None => builder,
    }
}
