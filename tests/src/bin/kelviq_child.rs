//! A client process for the tests that kill one: it queues reports and waits to be killed,
//! or delivers what a durable queue (a file, or Redis) kept and says what became of it.
//!
//! ```text
//! kelviq_child queue   url=U customer=C feature=F reports=N retry_ms=M [max_retry_ms=X] [path=P] [redis=R] [value=V | values=V1,V2,…] [behaviour=SET]
//! kelviq_child deliver url=U within_ms=W [path=P] [redis=R]
//! kelviq_child soak    url=U redis=R path=P slot=S incarnation=I seed=X
//! ```
//!
//! Its Redis lease is one second, so that a test can wait for it to end.
//!
//! `queue` prints `queued N` once every report was answered `Queued`, then runs its
//! background sender until it is killed. `deliver` prints
//! `delivered=D dropped=X unconfirmed=U remaining=R` and exits.
//!
//! `soak` is one instance of the soak test (`tests/tests/soak.rs`): it reports usage until a
//! line `stop` arrives on its standard input (or the input closes), cancelling flushes at
//! random points meanwhile, then shuts its client down and exits. Every report has a value
//! of its own, `S·10⁹ + I·10⁶ + n`, so that the emulator's log of applied reports names it.
//! It prints, one line each, what the test needs to check that log:
//!
//! ```text
//! start slot=S incarnation=I restored=N   once built (N: reports its durable file kept)
//! try LANE S|D VALUE                  before a report is made (LANE: 0‥5, customer×feature)
//! ok VALUE sent                       the client accepted it: sent
//! ok VALUE queued kept_locally=B..A   … or queued (B, A: reports the client had kept locally
//!                                     rather than in Redis before and after: B = A, in Redis)
//! err VALUE unconfirmed|other TEXT    the client returned an error
//! cancel VALUE                        the send was dropped before it answered
//! flush cancelled | flush D X U R     a flush cut short, or what one did
//! totals D X U R                      the client's `queue_totals` (after each flush)
//! log LEVEL TEXT                      the client's warnings and errors (`tracing`)
//! done D X U R                        what the final shutdown did; it then exits
//! ```

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
    if mode == "soak" {
        return soak::run(&options);
    }

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
                // `DELTA`s of 1 unless told otherwise.
                let value = get("value").map_or(1, |v| v.parse::<i64>().expect("a number"));
                let behaviour = match get("behaviour").as_deref() {
                    Some("SET") => Behaviour::Set,
                    _ => Behaviour::Delta,
                };
                // `values=A,B,…` makes one report of each value, in that order.
                let values: Vec<i64> = match get("values") {
                    Some(list) => list
                        .split(',')
                        .map(|v| v.parse().expect("a number"))
                        .collect(),
                    None => vec![value; reports as usize],
                };
                let reports = values.len();
                for value in values {
                    let delivery = client
                        .reporting()
                        .report_usage(value, &customer, &feature, behaviour)
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

/// `redis=URL`, `redis=URL1,URL2,…` for a cluster, either followed by `|CA_FILE` for TLS
/// with a private CA.
fn with_redis(builder: kelviq::ClientBuilder, redis: Option<String>) -> kelviq::ClientBuilder {
    let Some(spec) = redis else {
        return builder;
    };
    let (urls, ca) = match spec.split_once('|') {
        Some((urls, ca)) => (urls.to_owned(), Some(ca.to_owned())),
        None => (spec, None),
    };
    let mut config = if urls.contains(',') {
        kelviq::RedisConfig::cluster(urls.split(','))
    } else {
        kelviq::RedisConfig::new(urls)
    };
    if let Some(ca) = ca {
        config = config.ca_file(ca);
    }
    builder.redis(config.lease(Duration::from_secs(1)))
}

/// The `soak` mode; see the crate docs.
mod soak {
    use std::collections::HashMap;
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
    use std::sync::Arc;
    use std::time::Duration;

    use kelviq::{Behaviour, Client, Delivery, Kelviq, QueueConfig, RedisConfig};

    use kelviq_tests::child::{SOAK_CUSTOMERS as CUSTOMERS, SOAK_FEATURES as FEATURES};

    /// Tasks reporting at once.
    const WORKERS: u64 = 2;

    pub fn run(options: &HashMap<String, String>) {
        let get = |key: &str| {
            options
                .get(key)
                .unwrap_or_else(|| panic!("{key}=… is required"))
                .clone()
        };
        let number = |key: &str| get(key).parse::<u64>().expect("a number");
        let (slot, incarnation, seed) = (number("slot"), number("incarnation"), number("seed"));
        assert!(incarnation < 1000, "values are S·10⁹ + I·10⁶ + n");
        tracing::subscriber::set_global_default(Printer).expect("the only subscriber");

        let runtime = tokio::runtime::Runtime::new().expect("a runtime");
        runtime.block_on(async {
            let client = Kelviq::builder(kelviq_tests::child::API_KEY)
                .base_url(get("url"))
                .timeout(Duration::from_millis(700))
                .connect_timeout(Duration::from_millis(300))
                .deadline(Duration::from_secs(2))
                .offline_queue(
                    QueueConfig::default()
                        .retry_interval(Duration::from_millis(100))
                        .max_retry_interval(Duration::from_secs(1))
                        .durable_at(get("path")),
                )
                .redis(
                    RedisConfig::new(get("redis"))
                        .lease(Duration::from_secs(1))
                        .retry_after(Duration::from_millis(200)),
                )
                .build()
                .expect("the client builds");
            let client = Arc::new(client);
            println!(
                "start slot={slot} incarnation={incarnation} restored={}",
                client.queued_reports()
            );

            let stop = Arc::new(AtomicBool::new(false));
            let stopped = Arc::new(tokio::sync::Notify::new());
            {
                let (stop, stopped) = (stop.clone(), stopped.clone());
                std::thread::spawn(move || {
                    let mut line = String::new();
                    // A line `stop`, or the parent gone.
                    while std::io::stdin().read_line(&mut line).is_ok_and(|n| n > 0) {
                        if line.trim() == "stop" {
                            break;
                        }
                        line.clear();
                    }
                    stop.store(true, Ordering::SeqCst);
                    stopped.notify_waiters();
                });
            }

            let next = Arc::new(AtomicU64::new(0));
            let base = slot as i64 * 1_000_000_000 + incarnation as i64 * 1_000_000;
            let mut tasks = Vec::new();
            for worker in 0..WORKERS {
                let rng = fastrand::Rng::with_seed(
                    seed ^ (slot << 48) ^ (incarnation << 32) ^ (worker << 16),
                );
                tasks.push(tokio::spawn(report(
                    client.clone(),
                    rng,
                    stop.clone(),
                    next.clone(),
                    base,
                )));
            }
            let rng = fastrand::Rng::with_seed(seed ^ (slot << 48) ^ (incarnation << 32) ^ 0xf1);
            tasks.push(tokio::spawn(cancel_flushes(
                client.clone(),
                rng,
                stop.clone(),
                stopped,
            )));
            for task in tasks {
                task.await.expect("a soak task");
            }

            let left = client.shutdown(Duration::from_secs(20)).await;
            print_totals(&client).await;
            println!(
                "done {} {} {} {}",
                left.delivered, left.dropped, left.unconfirmed, left.remaining
            );
        });
    }

    /// Reports until told to stop, printing what it tries and what became of it.
    async fn report(
        client: Arc<Client>,
        mut rng: fastrand::Rng,
        stop: Arc<AtomicBool>,
        next: Arc<AtomicU64>,
        base: i64,
    ) {
        while !stop.load(Ordering::SeqCst) {
            let lane = rng.usize(0..CUSTOMERS.len() * FEATURES.len());
            let (customer, feature) = (
                CUSTOMERS[lane / FEATURES.len()],
                FEATURES[lane % FEATURES.len()],
            );
            let (behaviour, letter) = if rng.bool() {
                (Behaviour::Set, 'S')
            } else {
                (Behaviour::Delta, 'D')
            };
            let value = base + next.fetch_add(1, Ordering::SeqCst) as i64;
            println!("try {lane} {letter} {value}");
            let kept_before = kept_locally(&client);
            let send = client
                .reporting()
                .report_usage(value, customer, feature, behaviour)
                .send();
            // Now and then the caller gives up on the send at a random point.
            let answer = if rng.u32(0..100) < 3 {
                let within = Duration::from_millis(rng.u64(0..300));
                match tokio::time::timeout(within, send).await {
                    Ok(answer) => answer,
                    Err(_) => {
                        println!("cancel {value}");
                        continue;
                    }
                }
            } else {
                send.await
            };
            match answer {
                Ok(Delivery::Sent(_)) => println!("ok {value} sent"),
                // Whether Redis took it: when no report was kept locally meanwhile, it did.
                Ok(Delivery::Queued { .. }) => println!(
                    "ok {value} queued kept_locally={kept_before}..{}",
                    kept_locally(&client)
                ),
                Err(error) if error.is_unconfirmed() => println!("err {value} unconfirmed"),
                Err(error) => println!("err {value} other {}", one_line(&error.to_string())),
            }
            tokio::time::sleep(Duration::from_millis(rng.u64(5..30))).await;
        }
    }

    /// How many reports the client kept locally rather than in Redis.
    fn kept_locally(client: &Client) -> u64 {
        client.redis_stats().map_or(0, |s| s.kept_locally)
    }

    /// Flushes now and then, most flushes cut short at a random point.
    async fn cancel_flushes(
        client: Arc<Client>,
        mut rng: fastrand::Rng,
        stop: Arc<AtomicBool>,
        stopped: Arc<tokio::sync::Notify>,
    ) {
        while !stop.load(Ordering::SeqCst) {
            let pause = Duration::from_millis(rng.u64(100..800));
            let stopping = stopped.notified();
            if tokio::time::timeout(pause, stopping).await.is_ok() || stop.load(Ordering::SeqCst) {
                break;
            }
            let within = Duration::from_millis(rng.u64(0..400));
            match tokio::time::timeout(within, client.flush()).await {
                Err(_) => println!("flush cancelled"),
                Ok(r) => println!(
                    "flush {} {} {} {}",
                    r.delivered, r.dropped, r.unconfirmed, r.remaining
                ),
            }
            print_totals(&client).await;
        }
    }

    /// What became of this client's queued reports since it was built.
    async fn print_totals(client: &Client) {
        let t = client.queue_totals().await;
        println!(
            "totals {} {} {} {}",
            t.delivered, t.dropped, t.unconfirmed, t.remaining
        );
    }

    fn one_line(text: &str) -> String {
        text.replace(['\n', '\r'], " ")
    }

    /// Prints the client's warnings and errors as `log LEVEL message field=value …`.
    struct Printer;

    impl tracing::Subscriber for Printer {
        fn enabled(&self, metadata: &tracing::Metadata<'_>) -> bool {
            *metadata.level() <= tracing::Level::WARN
        }

        fn max_level_hint(&self) -> Option<tracing::level_filters::LevelFilter> {
            Some(tracing::level_filters::LevelFilter::WARN)
        }

        fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
            tracing::span::Id::from_u64(1)
        }

        fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}

        fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}

        fn event(&self, event: &tracing::Event<'_>) {
            let mut text = Text::default();
            event.record(&mut text);
            println!(
                "log {} {}{}",
                event.metadata().level(),
                one_line(&text.message),
                one_line(&text.fields)
            );
        }

        fn enter(&self, _: &tracing::span::Id) {}

        fn exit(&self, _: &tracing::span::Id) {}
    }

    #[derive(Default)]
    struct Text {
        message: String,
        fields: String,
    }

    impl tracing::field::Visit for Text {
        fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
            use std::fmt::Write;
            if field.name() == "message" {
                let _ = write!(self.message, "{value:?}");
            } else {
                let _ = write!(self.fields, " {}={value:?}", field.name());
            }
        }
    }
}
