//! The SDK's speed and memory figures, measured in one run against `kelviq-mock` on
//! loopback, printed as a Markdown table with ratios. Run it with `cargo xtask bench`.
//!
//! Every comparison is a ratio of two figures taken in the same run, so that a shared,
//! noisy machine moves both sides alike. Nothing here asserts: it measures and prints.

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicIsize, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

mod openfeature;
mod tiers;
mod tls;

use kelviq::{Behaviour, CacheConfig, Kelviq, QueueConfig, RetryPolicy};
use kelviq_mock::catalogue::FeatureKind;
use kelviq_mock::{Grant, MockConfig, MockServer};

// ---- allocation counting ----

/// The system allocator, counting allocations and live bytes in per-thread shards: always
/// on and exact, yet no core writes a counter another core writes (a shared counter would
/// slow every allocation of the throughput sections, most for the side that allocates most).
struct Counting;

const SHARDS: usize = 64;

#[repr(align(128))]
struct Shard {
    allocations: AtomicU64,
    live_bytes: AtomicIsize,
}

static SHARD_COUNTERS: [Shard; SHARDS] = [const {
    Shard {
        allocations: AtomicU64::new(0),
        live_bytes: AtomicIsize::new(0),
    }
}; SHARDS];
static NEXT_SHARD: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    // A const-initialised `Cell` needs no allocation and no destructor: safe to use here.
    static SHARD: std::cell::Cell<usize> = const { std::cell::Cell::new(usize::MAX) };
}

fn shard() -> &'static Shard {
    let index = SHARD
        .try_with(|cell| {
            if cell.get() == usize::MAX {
                cell.set(NEXT_SHARD.fetch_add(1, Ordering::Relaxed) % SHARDS);
            }
            cell.get()
        })
        .unwrap_or(0);
    &SHARD_COUNTERS[index]
}

fn allocations() -> u64 {
    SHARD_COUNTERS
        .iter()
        .map(|s| s.allocations.load(Ordering::Relaxed))
        .sum()
}

fn live_bytes() -> isize {
    SHARD_COUNTERS
        .iter()
        .map(|s| s.live_bytes.load(Ordering::Relaxed))
        .sum()
}

// SAFETY: defers every call to the system allocator unchanged; it only counts.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let shard = shard();
        shard.allocations.fetch_add(1, Ordering::Relaxed);
        shard
            .live_bytes
            .fetch_add(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: same contract as ours.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        shard()
            .live_bytes
            .fetch_sub(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: same contract as ours.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let shard = shard();
        shard.allocations.fetch_add(1, Ordering::Relaxed);
        shard.live_bytes.fetch_add(
            new_size as isize - layout.size() as isize,
            Ordering::Relaxed,
        );
        // SAFETY: same contract as ours.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

// ---- the data set ----

const CUSTOMERS: usize = 10_000;
const FEATURES_PER_CUSTOMER: usize = 10;
const ENTITLEMENTS: usize = CUSTOMERS * FEATURES_PER_CUSTOMER;
const CALLS: usize = 2_000_000;
/// Repetitions of the cached measurements (best of, or median of, as each says).
const REPETITIONS: usize = 3;
/// Requests the emulator's log keeps: fewer than any section makes before it measures.
const LOG_CAPACITY: usize = 1_000;

fn customer(i: usize) -> String {
    format!("customer-{i:05}")
}

fn feature(j: usize) -> String {
    format!("feature-{j:02}")
}

/// Random (customer, feature) pairs, drawn once so that every candidate sees the same.
fn random_keys(customers: &[String], features: &[String], n: usize) -> Vec<(usize, usize)> {
    let mut rng = fastrand::Rng::with_seed(7);
    (0..n)
        .map(|_| (rng.usize(..customers.len()), rng.usize(..features.len())))
        .collect()
}

fn ns_per_call(started: Instant, calls: usize) -> f64 {
    started.elapsed().as_nanos() as f64 / calls as f64
}

// ---- the table ----

struct Row {
    what: String,
    figure: String,
    note: String,
}

struct Table(Vec<Row>);

impl Table {
    fn add(&mut self, what: impl Into<String>, figure: impl Into<String>, note: impl Into<String>) {
        let row = Row {
            what: what.into(),
            figure: figure.into(),
            note: note.into(),
        };
        eprintln!("  {:<62} {:>16}  {}", row.what, row.figure, row.note);
        self.0.push(row);
    }

    fn print(&self) {
        println!("| measurement | figure | ratio / target |");
        println!("|---|---:|---|");
        for row in &self.0 {
            println!("| {} | {} | {} |", row.what, row.figure, row.note);
        }
    }
}

fn main() {
    // The client's runtime and the emulator's are separate thread pools of one worker each,
    // a core each on these 2-core machines, so that the client's figures are not mixed with
    // the server's work. (Two client workers beside the emulator's oversubscribe the cores:
    // measured, the 64-task report figures then swing by ±30% from run to run.)
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("client")
        .enable_all()
        .build()
        .expect("a runtime");
    let server_runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("kelviq-mock")
        .enable_all()
        .build()
        .expect("the emulator's runtime");
    let mut table = Table(Vec::new());
    let customers: Vec<String> = (0..CUSTOMERS).map(customer).collect();
    let features: Vec<String> = (0..FEATURES_PER_CUSTOMER).map(feature).collect();
    let keys = random_keys(&customers, &features, CALLS);

    // `KELVIQ_BENCH=report` (or `cached`, `maps`, `uncached`, `python`, `outage`, `tls`, `openfeature`, `tiers`, `keep`) runs one section,
    // for profiling; the table then lacks the others.
    let only = std::env::var("KELVIQ_BENCH").ok();
    let run = |section: &str| only.as_deref().is_none_or(|o| o == section);

    if run("maps") {
        eprintln!("map candidates for the entitlement cache ({ENTITLEMENTS} entitlements):");
        map_candidates(&mut table, &customers, &features, &keys);
    }

    eprintln!("\nstarting kelviq-mock with {ENTITLEMENTS} entitlements…");
    // The emulator's request log is kept full and short, so that each request costs it the
    // same: one entry in, one out. Emptied between runs, it made the run after each clear pay
    // for the log's fresh memory, about a third more CPU a report, so that whichever side ran
    // first in a pair looked 1.5x slower (measured: ratios alternating 0.6 and 1.6).
    let server = server_runtime
        .block_on(MockServer::start_with(MockConfig {
            log_capacity: Some(LOG_CAPACITY),
            ..MockConfig::default()
        }))
        .expect("the emulator starts");
    for c in &customers {
        for f in &features {
            server.grant(Grant {
                customer_id: c.clone(),
                feature_id: f.clone(),
                feature_type: FeatureKind::Meter,
                usage_limit: Some(1_000_000_000),
                hard_limit: Some(true),
            });
        }
    }

    // The throughput sections run first, on a heap the 100 000 cached entitlements have not
    // yet fragmented; the cached section fills the cache after them.
    let mut uncached_sdk_us = f64::NAN;
    if run("uncached") || run("python") {
        eprintln!("\nuncached round trips:");
        uncached_sdk_us = uncached_round_trip(&mut table, &runtime, &server);
    }
    if run("report") {
        eprintln!("\nreport_usage throughput:");
        report_throughput(&mut table, &runtime, &server);
    }
    let mut cached = (f64::NAN, f64::NAN);
    if run("cached") || run("python") {
        eprintln!("\ncached has_access:");
        cached = cached_has_access(&mut table, &server, &customers, &features, &keys);
    }
    if run("openfeature") {
        eprintln!("\nOpenFeature:");
        openfeature::section(&mut table, &runtime, &server);
    }
    if run("python") {
        eprintln!("\nthe official Python client:");
        python_client(&mut table, &server, cached, uncached_sdk_us);
    }
    if run("outage") {
        eprintln!("\nwhile the service fails:");
        outage(&mut table, &runtime, &server_runtime, &server);
    }
    if run("tls") {
        eprintln!("\nTLS crypto providers (HTTPS on loopback):");
        tls::section(&mut table, &runtime, &server_runtime);
    }
    if run("tiers") || run("keep") {
        eprintln!("\nthe second tiers (Redis, the durable file):");
        tiers::section(&mut table, &runtime, &server_runtime, &server);
    }

    println!();
    println!("Measured {} on {}.", today(), machine());
    println!();
    table.print();
}

// ---- 1. which concurrent map ----

/// What the cache keeps per customer, in the shape it keeps it: sorted feature names.
type Set = Arc<Vec<String>>;

fn set_has(set: &Set, feature: &str) -> bool {
    set.binary_search_by(|f| f.as_str().cmp(feature)).is_ok()
}

fn map_candidates(
    table: &mut Table,
    customers: &[String],
    features: &[String],
    keys: &[(usize, usize)],
) {
    let set: Set = Arc::new(features.to_vec());
    let hasher = foldhash::fast::RandomState::default();

    let std_map: RwLock<std::collections::HashMap<Box<str>, Set, foldhash::fast::RandomState>> =
        RwLock::new(std::collections::HashMap::with_hasher(hasher.clone()));
    let papaya_map: papaya::HashMap<Box<str>, Set, foldhash::fast::RandomState> =
        papaya::HashMap::builder().hasher(hasher.clone()).build();
    let dash_map: dashmap::DashMap<Box<str>, Set, foldhash::fast::RandomState> =
        dashmap::DashMap::with_hasher(hasher.clone());
    let moka_cache: moka::sync::Cache<Box<str>, Set, foldhash::fast::RandomState> =
        moka::sync::Cache::builder()
            .max_capacity(CUSTOMERS as u64 * 2)
            .build_with_hasher(hasher);
    for c in customers {
        std_map
            .write()
            .unwrap()
            .insert(c.as_str().into(), set.clone());
        papaya_map.pin().insert(c.as_str().into(), set.clone());
        dash_map.insert(c.as_str().into(), set.clone());
        moka_cache.insert(c.as_str().into(), set.clone());
    }

    type Lookup<'m> = Box<dyn Fn(&str, &str) -> bool + Sync + 'm>;
    let candidates: Vec<(&str, Lookup)> = vec![
        (
            "std RwLock<HashMap>",
            Box::new(|c, f| {
                std_map
                    .read()
                    .unwrap()
                    .get(c)
                    .is_some_and(|s| set_has(s, f))
            }),
        ),
        (
            "papaya",
            Box::new(|c, f| papaya_map.pin().get(c).is_some_and(|s| set_has(s, f))),
        ),
        (
            "dashmap",
            Box::new(|c, f| dash_map.get(c).is_some_and(|s| set_has(&s, f))),
        ),
        (
            "moka (cache with bookkeeping)",
            Box::new(|c, f| moka_cache.get(c).is_some_and(|s| set_has(&s, f))),
        ),
    ];
    let (hot_c, hot_f) = (&customers[42], &features[3]);
    let mut baseline = None;
    for (name, lookup) in &candidates {
        let started = Instant::now();
        for _ in 0..CALLS {
            black_box(lookup(black_box(hot_c), black_box(hot_f)));
        }
        let warm = ns_per_call(started, CALLS);
        let started = Instant::now();
        for &(c, f) in keys {
            black_box(lookup(&customers[c], &features[f]));
        }
        let random = ns_per_call(started, keys.len());
        let one = calls_per_second(1, |i| {
            let (c, f) = keys[i % keys.len()];
            lookup(&customers[c], &features[f])
        });
        let two = calls_per_second(2, |i| {
            let (c, f) = keys[i % keys.len()];
            lookup(&customers[c], &features[f])
        });
        let (baseline_name, baseline) = *baseline.get_or_insert((*name, random));
        table.add(
            format!("map `{name}`: warm key / random keys, ns"),
            format!("{warm:.1} / {random:.1}"),
            format!(
                "random keys {:.2}x `{baseline_name}`; 2 threads {:.2}x 1 thread",
                random / baseline,
                two / one
            ),
        );
    }
}

/// Calls per second of `call` from `threads` threads for about half a second.
fn calls_per_second(threads: usize, call: impl Fn(usize) -> bool + Sync) -> f64 {
    let stop = AtomicBool::new(false);
    let total = AtomicU64::new(0);
    let started = Instant::now();
    std::thread::scope(|scope| {
        for t in 0..threads {
            let (stop, total, call) = (&stop, &total, &call);
            scope.spawn(move || {
                let mut i = t * 7_919;
                let mut n = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    for _ in 0..1_000 {
                        black_box(call(i));
                        i += 1;
                    }
                    n += 1_000;
                }
                total.fetch_add(n, Ordering::Relaxed);
            });
        }
        std::thread::sleep(Duration::from_millis(500));
        stop.store(true, Ordering::Relaxed);
    });
    total.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64()
}

// ---- 2. the SDK's cached has_access ----

fn cached_has_access(
    table: &mut Table,
    server: &MockServer,
    customers: &[String],
    features: &[String],
    keys: &[(usize, usize)],
) -> (f64, f64) {
    let client = Kelviq::builder("sk_bench")
        .base_url(server.url())
        .entitlement_cache(
            CacheConfig::default()
                .ttl(Duration::from_secs(3600))
                .max_customers(CUSTOMERS * 2),
        )
        .build_blocking()
        .expect("a client");
    for c in customers {
        client
            .entitlements()
            .get_all_entitlements(c.as_str())
            .send()
            .expect("warm-up");
    }
    server.clear_requests();

    let (hot_c, hot_f) = (customers[42].as_str(), features[3].as_str());
    let allocations_before = allocations();
    // Each figure is the best of three repetitions: on a shared machine the least disturbed
    // run is the closest to what the code costs.
    let mut warm = f64::INFINITY;
    let mut random = f64::INFINITY;
    for _ in 0..REPETITIONS {
        let started = Instant::now();
        for _ in 0..CALLS {
            black_box(
                client
                    .entitlements()
                    .has_access(black_box(hot_c), black_box(hot_f))
                    .send()
                    .unwrap(),
            );
        }
        warm = warm.min(ns_per_call(started, CALLS));
        let started = Instant::now();
        for &(c, f) in keys {
            black_box(
                client
                    .entitlements()
                    .has_access(customers[c].as_str(), features[f].as_str())
                    .send()
                    .unwrap(),
            );
        }
        random = random.min(ns_per_call(started, keys.len()));
    }
    let allocations =
        (allocations() - allocations_before) as f64 / (2 * REPETITIONS * CALLS) as f64;
    let requests = server.requests().len();

    let call = |i: usize| {
        let (c, f) = keys[i % keys.len()];
        client
            .entitlements()
            .has_access(customers[c].as_str(), features[f].as_str())
            .send()
            .unwrap()
    };
    // Scaling: the median of three interleaved pairs of 1- and 2-thread windows.
    let mut pairs: Vec<(f64, f64)> = (0..REPETITIONS)
        .map(|_| (calls_per_second(1, call), calls_per_second(2, call)))
        .collect();
    pairs.sort_by(|a, b| (a.1 / a.0).total_cmp(&(b.1 / b.0)));
    let (one, two) = pairs[pairs.len() / 2];

    table.add(
        "SDK cached `has_access`, 1 thread, warm key (best of 3)",
        format!("{warm:.1} ns"),
        "target ≤ 50 ns",
    );
    table.add(
        format!("SDK cached `has_access`, 1 thread, random keys over {ENTITLEMENTS} entitlements (best of 3)"),
        format!("{random:.1} ns"),
        "target ≤ 150 ns",
    );
    table.add(
        "SDK cached `has_access`, calls/s, 1 thread",
        format!("{:.1} M/s", one / 1e6),
        "",
    );
    table.add(
        "SDK cached `has_access`, calls/s, 2 threads",
        format!("{:.1} M/s", two / 1e6),
        format!(
            "{:.2}x 1 thread, median of 3 interleaved pairs (target ≥ 1.8x)",
            two / one
        ),
    );
    table.add(
        "allocations per cached call",
        format!("{allocations:.4}"),
        "target 0",
    );
    table.add(
        "requests made by the cached calls",
        // The emulator's log keeps the last LOG_CAPACITY: a full log means at least that many.
        if requests >= LOG_CAPACITY {
            format!("≥ {requests}")
        } else {
            requests.to_string()
        },
        "all answered locally",
    );
    // What the cache holds: the bytes freed when the filled client goes, with nothing else
    // running. (Growth during the fill would also count buffers other sections free late.)
    let live_filled = live_bytes();
    drop(client);
    std::thread::sleep(Duration::from_millis(200));
    let per_entitlement = (live_filled - live_bytes()) as f64 / ENTITLEMENTS as f64;
    table.add(
        "memory per cached entitlement",
        format!("{per_entitlement:.0} B"),
        "target ≤ 256 B (bytes freed with the filled client ÷ entitlements)",
    );
    (warm, random)
}

// ---- 3. uncached round trips ----

/// A usage report, as a careful user of raw reqwest would send it.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct BareUsage {
    value: i64,
    customer_id: String,
    feature_id: &'static str,
    behaviour: &'static str,
}

/// The answer to a usage report, every field the SDK's typed answer has.
#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
struct BareUsageAnswer {
    behaviour: String,
    customer_id: String,
    event_name: String,
    feature_id: String,
    idempotency_key: String,
    org_id: String,
    resource_id: Option<String>,
    timestamp: String,
    value: i64,
}

/// The entitlement answer, as far as a bare `has_access` needs it: each entry's feature and
/// whether it grants access (the SDK reads every field, and sums usage across entries).
#[derive(serde::Deserialize)]
struct BareEntitlements {
    entitlements: Vec<BareEntitlement>,
}

/// One entitlement entry of [`BareEntitlements`].
#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct BareEntitlement {
    feature_id: String,
    has_access: bool,
}

/// What a careful user of raw reqwest would build: with a time-out, as the SDK (and the
/// official client) has, 10 s, and a user-agent. The time-out costs about 2 µs per request on loopback (a
/// timer in tokio's driver): a cost of the feature, not of the SDK, so both sides pay it.
fn bare_client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(kelviq::DEFAULT_TIMEOUT)
        // The SDK's user-agent, so that the emulator is given the same headers by both.
        .user_agent(kelviq::USER_AGENT)
        .build()
        .expect("a reqwest client")
}

fn uncached_round_trip(
    table: &mut Table,
    runtime: &tokio::runtime::Runtime,
    server: &MockServer,
) -> f64 {
    // As the one-task report rows: per round, 10 pairs of interleaved 30-call blocks, each
    // side going first in turn; the median of 24 rounds' ratios. The calls run in a task of
    // the client's runtime, as a service's request handler does: from `block_on` on another
    // thread, each answer would cost both sides a wake-up of that thread, diluting the SDK's
    // share (measured: 191 µs a call there, against 150 µs in a task).
    const ROUNDS: usize = 24;
    const PAIRS: usize = 10;
    const BLOCK: usize = 30;
    // The SDK as users get it, the cache aside: default retries (none happen here).
    let client = Kelviq::builder("sk_bench")
        .base_url(server.url())
        .entitlement_cache(CacheConfig::disabled())
        .build()
        .expect("a client");
    let bare = bare_client();
    // Parsed once, as the SDK does, the query added per call (a service asks about many
    // customers); the answer typed, as the SDK's is.
    let url = reqwest::Url::parse(&format!("{}/api/v1/entitlements", server.url()))
        .expect("the emulator's URL");
    let (sdk_us, raw_us, ratio) = runtime
        .block_on(runtime.spawn(async move {
            let sdk_calls = || async {
                let started = Instant::now();
                for _ in 0..BLOCK {
                    assert!(client
                        .entitlements()
                        .has_access("customer-00042", "feature-03")
                        .send()
                        .await
                        .unwrap());
                }
                started.elapsed()
            };
            let bare_calls = || async {
                let started = Instant::now();
                for _ in 0..BLOCK {
                    let body: BareEntitlements = bare
                        .get(url.clone())
                        .query(&[
                            ("customer_id", "customer-00042"),
                            ("feature_id", "feature-03"),
                        ])
                        .header("authorization", "Bearer sk_bench")
                        .header("accept", "application/json")
                        .send()
                        .await
                        .unwrap()
                        .json()
                        .await
                        .unwrap();
                    // The customer's entry for the feature, as `has_access` finds it.
                    assert!(body
                        .entitlements
                        .iter()
                        .any(|e| e.feature_id == "feature-03" && e.has_access));
                }
                started.elapsed()
            };
            // Connections warmed up first, and the emulator's request log filled (see `main`).
            for _ in 0..(LOG_CAPACITY / BLOCK / 2 + 1) {
                sdk_calls().await;
                bare_calls().await;
            }
            let (mut sdk_rounds, mut raw_rounds, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
            for round in 0..ROUNDS {
                let (mut sdk, mut raw) = (Duration::ZERO, Duration::ZERO);
                for pair in 0..PAIRS {
                    if (round + pair).is_multiple_of(2) {
                        sdk += sdk_calls().await;
                        raw += bare_calls().await;
                    } else {
                        raw += bare_calls().await;
                        sdk += sdk_calls().await;
                    }
                }
                let per_call = |took: Duration| took.as_secs_f64() * 1e6 / (PAIRS * BLOCK) as f64;
                sdk_rounds.push(per_call(sdk));
                raw_rounds.push(per_call(raw));
                ratios.push(sdk.as_secs_f64() / raw.as_secs_f64());
            }
            (median(sdk_rounds), median(raw_rounds), median(ratios))
        }))
        .expect("the measuring task");
    server.clear_requests();
    table.add(
        "uncached `has_access` round trip, SDK",
        format!("{sdk_us:.1} µs"),
        "",
    );
    table.add(
        "uncached GET of the same URL, bare reqwest with the same 10 s time-out (+ JSON parse)",
        format!("{raw_us:.1} µs"),
        format!(
            "SDK overhead {:+.1}% (median of {ROUNDS} interleaved rounds' ratios; target within 5%)",
            (ratio - 1.0) * 100.0
        ),
    );
    sdk_us
}

// ---- 4. report throughput ----

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    let middle = values.len() / 2;
    if values.len().is_multiple_of(2) {
        (values[middle - 1] + values[middle]) / 2.0
    } else {
        values[middle]
    }
}

/// CPU time this process has used, every thread counted (the emulator's too), in ns: the
/// sum of `/proc/self/task/*/schedstat`. A figure that noise from other processes on the
/// machine hardly moves, unlike a rate. `None` where `/proc` does not say.
fn cpu_ns() -> Option<u64> {
    cpu_ns_of(None)
}

/// As [`cpu_ns`], counting only the threads named `name` (`client`: the client's runtime,
/// its worker and its blocking threads) when a name is given.
fn cpu_ns_of(name: Option<&str>) -> Option<u64> {
    let mut total = 0;
    for task in std::fs::read_dir("/proc/self/task").ok()? {
        let path = task.ok()?.path();
        if let Some(name) = name {
            let comm = std::fs::read_to_string(path.join("comm")).unwrap_or_default();
            if comm.trim_end() != name {
                continue;
            }
        }
        let stat = std::fs::read_to_string(path.join("schedstat")).ok()?;
        total += stat.split_whitespace().next()?.parse::<u64>().ok()?;
    }
    Some(total)
}

fn report_throughput(table: &mut Table, runtime: &tokio::runtime::Runtime, server: &MockServer) {
    // Many short paired rounds, each side's runs in a round interleaved with the other's, so
    // that drift in a shared machine cancels, and the median of the rounds' ratios drops the
    // rounds a neighbour disturbed. One task is a ping-pong with the emulator, at the mercy
    // of where the scheduler puts the two threads: there a round is 20 pairs of blocks of 50
    // reports (7 ms a block), since 9 rounds of one 3 000-report run a side, as before, gave
    // −0.4% and −9.3% in two runs of one binary a minute apart, and per-round ratios from
    // 0.77 to 1.25. With 16 and 64 tasks a round is two pairs of 2 000-report runs (about
    // 50 ms each). An even count of rounds, so that each side goes first as often.
    const ROUNDS: usize = 24;
    let blocks = |tasks: usize| if tasks == 1 { (20, 50) } else { (2, 2_000) };
    // The SDK as users get it: default retries, time-out, cache and offline queue.
    let client = Kelviq::builder("sk_bench")
        .base_url(server.url())
        .build()
        .expect("a client");
    let bare = bare_client();
    // Parsed once, as the SDK does; the body and the answer typed, as the SDK's are.
    let url = reqwest::Url::parse(&format!("{}/api/v1/report/usage/", server.url()))
        .expect("the emulator's URL");
    // Each run: seconds, and CPU ns (client and emulator together; the client thread alone).
    let measured = |run: &dyn Fn()| {
        let (cpu, client_cpu) = (cpu_ns(), cpu_ns_of(Some("client")));
        let started = Instant::now();
        run();
        let took = started.elapsed().as_secs_f64();
        let spent = |before: Option<u64>, after: Option<u64>| match (before, after) {
            (Some(before), Some(after)) => (after - before) as f64,
            _ => f64::NAN,
        };
        [
            took,
            spent(cpu, cpu_ns()),
            spent(client_cpu, cpu_ns_of(Some("client"))),
        ]
    };
    let sdk_run = |tasks: usize, reports: usize| {
        measured(&|| {
            let sdk = client.clone();
            runtime.block_on(run_tasks(tasks, reports, move |i| {
                let client = sdk.clone();
                async move {
                    let customer = customer(i % CUSTOMERS);
                    let delivery = client
                        .reporting()
                        .report_usage(1, customer, "feature-01", Behaviour::Delta)
                        .send()
                        .await
                        .unwrap();
                    assert!(!delivery.is_queued());
                }
            }));
        })
    };
    let bare_run = |tasks: usize, reports: usize| {
        measured(&|| {
            let (raw, target) = (bare.clone(), url.clone());
            runtime.block_on(run_tasks(tasks, reports, move |i| {
                let (bare, url) = (raw.clone(), target.clone());
                async move {
                    let body = BareUsage {
                        value: 1,
                        customer_id: customer(i % CUSTOMERS),
                        feature_id: "feature-01",
                        behaviour: "DELTA",
                    };
                    let response = bare
                        .post(url)
                        .header("authorization", "Bearer sk_bench")
                        .header("accept", "application/json")
                        .json(&body)
                        .send()
                        .await
                        .unwrap();
                    assert!(response.status().is_success());
                    let answer: BareUsageAnswer = response.json().await.unwrap();
                    assert_eq!(answer.value, 1);
                }
            }));
        })
    };
    const WARM_UP: usize = 1_000;
    let before = allocations();
    sdk_run(1, WARM_UP);
    let sdk_allocations = (allocations() - before) as f64 / WARM_UP as f64;
    let before = allocations();
    bare_run(1, WARM_UP);
    let bare_allocations = (allocations() - before) as f64 / WARM_UP as f64;
    // A round: each side's reports per second and CPU ns per report, over its blocks.
    let paired_round = |tasks: usize, round: usize| {
        let (count, size) = blocks(tasks);
        let (mut sdk, mut raw) = ([0.0; 3], [0.0; 3]);
        let add = |sum: &mut [f64; 3], run: [f64; 3]| {
            for (sum, run) in sum.iter_mut().zip(run) {
                *sum += run;
            }
        };
        for block in 0..count {
            // Alternate which side goes first, so that drift in the machine favours neither.
            if (round + block).is_multiple_of(2) {
                add(&mut sdk, sdk_run(tasks, size));
                add(&mut raw, bare_run(tasks, size));
            } else {
                add(&mut raw, bare_run(tasks, size));
                add(&mut sdk, sdk_run(tasks, size));
            }
        }
        let reports = (count * size) as f64;
        let per = |[took, cpu, client]: [f64; 3]| (reports / took, cpu / reports, client / reports);
        (per(sdk), per(raw))
    };
    table.add(
        "allocations per `report_usage`, client and emulator in one process: SDK / bare reqwest",
        format!("{sdk_allocations:.0} / {bare_allocations:.0}"),
        "",
    );
    for tasks in [1usize, 16, 64] {
        let (mut sdk_rates, mut raw_rates, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
        let (mut sdk_cpu, mut raw_cpu) = (Vec::new(), Vec::new());
        let (mut sdk_client, mut raw_client) = (Vec::new(), Vec::new());
        for r in 0..ROUNDS {
            let (sdk, raw) = paired_round(tasks, r);
            eprintln!(
                "  {tasks:>2} tasks, round {r}: SDK {:.0}/s {:.1} µs ({:.1} client), bare {:.0}/s {:.1} µs ({:.1} client), ratio {:.3}",
                sdk.0,
                sdk.1 / 1e3,
                sdk.2 / 1e3,
                raw.0,
                raw.1 / 1e3,
                raw.2 / 1e3,
                sdk.0 / raw.0
            );
            ratios.push(sdk.0 / raw.0);
            sdk_rates.push(sdk.0);
            raw_rates.push(raw.0);
            sdk_cpu.push(sdk.1);
            raw_cpu.push(raw.1);
            sdk_client.push(sdk.2);
            raw_client.push(raw.2);
        }
        let (sdk, raw, ratio) = (median(sdk_rates), median(raw_rates), median(ratios));
        table.add(
            format!("`report_usage` throughput, {tasks} concurrent tasks: SDK / bare reqwest (10 s time-out)"),
            format!("{sdk:.0} / {raw:.0} req/s"),
            format!(
                "SDK {:+.1}% (median of {ROUNDS} paired rounds' ratios; target within 5%)",
                (ratio - 1.0) * 100.0
            ),
        );
        let mut cpu_row = |what: &str, sdk: Vec<f64>, raw: Vec<f64>, note: &str| {
            // Paired as the throughput is: the median of the rounds' ratios.
            let ratio = median(sdk.iter().zip(&raw).map(|(s, r)| s / r).collect());
            let (sdk, raw) = (median(sdk), median(raw));
            table.add(
                format!("CPU per report, {what}, {tasks} concurrent tasks: SDK / bare reqwest"),
                format!("{:.1} / {:.1} µs", sdk / 1e3, raw / 1e3),
                format!(
                    "SDK {:+.1}% (median of {ROUNDS} paired rounds' ratios; {note})",
                    (ratio - 1.0) * 100.0
                ),
            );
        };
        cpu_row(
            "client and emulator",
            sdk_cpu,
            raw_cpu,
            "the emulator's share is the same for both",
        );
        cpu_row(
            "the client's thread alone",
            sdk_client,
            raw_client,
            "the cost of the SDK itself",
        );
    }
}

/// How long one `report_usage` of `feature-02` took, which must have been queued.
pub(crate) async fn queued_report(client: &kelviq::Client, customer: String) -> Duration {
    let started = Instant::now();
    let delivery = client
        .reporting()
        .report_usage(1, customer, "feature-02", Behaviour::Delta)
        .send()
        .await
        .unwrap();
    let took = started.elapsed();
    assert!(delivery.is_queued());
    took
}

/// Runs `total` calls of `call` on `tasks` concurrent tasks.
async fn run_tasks<F, Fut>(tasks: usize, total: usize, call: F)
where
    F: Fn(usize) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let next = Arc::new(AtomicUsize::new(0));
    let mut handles = Vec::new();
    for _ in 0..tasks {
        let (next, call) = (next.clone(), call.clone());
        handles.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= total {
                    break;
                }
                call(i).await;
            }
        }));
    }
    for handle in handles {
        handle.await.unwrap();
    }
}

// ---- 5. the official Python client ----

/// `rust_cached_ns`: the SDK's cached `has_access` for a warm key and for random keys.
fn python_client(
    table: &mut Table,
    server: &MockServer,
    rust_cached_ns: (f64, f64),
    rust_uncached_us: f64,
) {
    let venv = concat!(env!("CARGO_MANIFEST_DIR"), "/../target/bench-venv");
    let python = format!("{venv}/bin/python");
    let ready = std::path::Path::new(&python).exists()
        || (Command::new("python3")
            .args(["-m", "venv", venv])
            .status()
            .is_ok_and(|s| s.success())
            && Command::new(format!("{venv}/bin/pip"))
                .args([
                    "install",
                    "--quiet",
                    "--disable-pip-version-check",
                    "kelviq-sdk==2.9.0",
                ])
                .status()
                .is_ok_and(|s| s.success()));
    if !ready {
        table.add(
            "official Python client",
            "not measured",
            "python3 or the kelviq-sdk install failed",
        );
        return;
    }
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/python/official_client_bench.py"
    );
    let output = Command::new(&python)
        .args([script, &server.url(), "customer-00042", "feature-03"])
        .output();
    let figures: Option<serde_json::Value> = output
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| serde_json::from_slice(&o.stdout).ok());
    let Some(figures) = figures else {
        table.add("official Python client", "not measured", "its run failed");
        return;
    };
    let py_cached = figures["cached_ns"].as_f64().unwrap_or(f64::NAN);
    let py_uncached = figures["uncached_us"].as_f64().unwrap_or(f64::NAN);
    table.add(
        "official Python client 2.9.0, cached `has_access`, warm key (best of 3, as the SDK's)",
        format!("{py_cached:.0} ns"),
        format!(
            "Rust SDK {:.0}x faster on the same warm key (target ≥ 100x); {:.0}x with random keys",
            py_cached / rust_cached_ns.0,
            py_cached / rust_cached_ns.1
        ),
    );
    table.add(
        "official Python client 2.9.0, uncached `has_access` (mean of 10 rounds; the SDK's is the median of its rounds)",
        format!("{py_uncached:.1} µs"),
        format!("Rust SDK {:.1}x faster", py_uncached / rust_uncached_us),
    );
}

// ---- 6. while the service fails ----

/// Percentiles of latencies, in µs: (p50, p99, max).
fn percentiles(mut took: Vec<Duration>) -> (f64, f64, f64) {
    took.sort();
    let at = |q: f64| took[((took.len() - 1) as f64 * q) as usize].as_secs_f64() * 1e6;
    (at(0.5), at(0.99), at(1.0))
}

/// 8 tasks × 250 `has_access` calls on one stale entry; the latency of each.
async fn stale_checks(client: &kelviq::Client) -> Vec<Duration> {
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let client = client.clone();
        tasks.push(tokio::spawn(async move {
            let mut took = Vec::with_capacity(250);
            for _ in 0..250 {
                let started = Instant::now();
                let access = client
                    .entitlements()
                    .check("customer-00007", "feature-01")
                    .send()
                    .await
                    .unwrap();
                took.push(started.elapsed());
                assert!(access.allowed && access.is_stale());
            }
            took
        }));
    }
    let mut took = Vec::new();
    for task in tasks {
        took.extend(task.await.unwrap());
    }
    took
}

fn outage(
    table: &mut Table,
    runtime: &tokio::runtime::Runtime,
    server_runtime: &tokio::runtime::Runtime,
    server: &MockServer,
) {
    use kelviq_mock::{Fault, FaultKind};
    const TTL: Duration = Duration::from_millis(50);
    let stale_client = || {
        let client = Kelviq::builder("sk_bench")
            .base_url(server.url())
            .retry_policy(RetryPolicy::none())
            .entitlement_cache(CacheConfig::default().ttl(TTL))
            .build()
            .expect("a client");
        runtime.block_on(async {
            client
                .entitlements()
                .has_access("customer-00007", "feature-01")
                .send()
                .await
                .unwrap();
            tokio::time::sleep(TTL * 2).await;
        });
        client
    };

    // The edge answers 503 to every refresh.
    let client = stale_client();
    server
        .inject(Fault::new(
            "getEntitlements",
            1_000_000,
            FaultKind::status(503),
        ))
        .expect("a known operation");
    let (p50, p99, max) = percentiles(runtime.block_on(stale_checks(&client)));
    server.clear_faults();
    table.add(
        "`has_access` on a stale entry while the edge answers 503: p50 / p99 / max (2,000 calls, 8 tasks)",
        format!("{p50:.1} / {p99:.1} / {max:.0} µs"),
        "answered at once, one background refresh (target p99 < 1 ms)",
    );

    // The edge never completes a connection.
    let client = stale_client();
    server_runtime
        .block_on(server.go_black_hole())
        .expect("a black hole");
    let (p50, p99, max) = percentiles(runtime.block_on(stale_checks(&client)));
    table.add(
        "`has_access` on a stale entry while the edge is black-holed: p50 / p99 / max (2,000 calls, 8 tasks)",
        format!("{p50:.1} / {p99:.1} / {max:.0} µs"),
        "answered at once while the refresh waits on its connect time-out (target p99 < 1 ms)",
    );
    server_runtime
        .block_on(server.go_online())
        .expect("back online");

    // The API host refuses connections: reports are queued.
    const BACKLOG: usize = 10_000;
    let client = Kelviq::builder("sk_bench")
        .base_url(server.url())
        .offline_queue(
            QueueConfig::default()
                .capacity(BACKLOG)
                .retry_interval(Duration::from_secs(3600)),
        )
        .build()
        .expect("a client");
    server.go_offline();
    let took = runtime.block_on(async {
        let mut took = Vec::with_capacity(BACKLOG);
        for i in 0..BACKLOG {
            took.push(queued_report(&client, customer(i % CUSTOMERS)).await);
        }
        took
    });
    let (p50, p99, _) = percentiles(took);
    table.add(
        "`report_usage` while the API host refuses connections: p50 / p99 (10,000 reports)",
        format!("{p50:.1} / {p99:.1} µs"),
        "queued; after the first, no network I/O",
    );

    server_runtime
        .block_on(server.go_online())
        .expect("back online");
    let started = Instant::now();
    let flushed = runtime.block_on(client.flush());
    let drained = started.elapsed();
    assert_eq!((flushed.delivered, flushed.remaining), (BACKLOG, 0));
    table.add(
        "a backlog of 10,000 queued reports, delivered once the service is back",
        format!("{:.0} reports/s", BACKLOG as f64 / drained.as_secs_f64()),
        format!(
            "{:.2} s, {} at a time (the queue's default concurrency)",
            drained.as_secs_f64(),
            QueueConfig::default().get_concurrency()
        ),
    );
    server.clear_requests();
}

// ---- where it ran ----

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_owned())
        })
        .unwrap_or_else(|| "an unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    format!("{cores} cores of {cpu}")
}

fn today() -> String {
    Command::new("date")
        .arg("+%Y-%m-%d")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|d| d.trim().to_owned())
        .unwrap_or_default()
}
