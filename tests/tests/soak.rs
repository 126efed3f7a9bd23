//! The randomized soak test: three client processes (`kelviq_child soak`) share one real
//! `redis-server` (append-only file, synced on every write) and report usage to the emulator
//! for `KELVIQ_SOAK_SECS` seconds (60 by default), while a chaos loop injects every fault the
//! emulator has into `reportUsage`, takes the emulator offline or turns it into a black hole,
//! pauses, blocks and kills Redis (and starts it again), and kills instances with SIGKILL
//! (each restarts on the same durable file). The children themselves cancel flushes, and now
//! and then a send, at random points. Then the chaos stops, every instance shuts down, and
//! the emulator's log of applied reports (every report has a value of its own) must show:
//!
//! - no `DELTA` applied twice (a `SET` may be applied again: the SDK retries it, as its docs
//!   say, since a second copy changes nothing);
//! - every report the client accepted (`Sent` or `Queued`) applied, except `DELTA`s the SDK
//!   logged as unconfirmed: each lost one named by such a log, or else counted against the
//!   unconfirmed logs that name no report; no accepted `SET` lost;
//! - per instance slot and lane, accepted `SET`s applied in the order they were made (one
//!   answered before the next was tried is never applied after it), while the process that
//!   made them lives and after it was killed (by its slot's next process, whether the earlier
//!   one waited in the durable file or in Redis); shown but not checked: a late copy of an
//!   attempt the client had given up on, served after a newer value;
//! - no value applied that no instance tried, and nothing left in any queue.
//!
//! It prints the figures as a table, pass or fail. The seed (`KELVIQ_SOAK_SEED` replays
//! one) is printed at the start and in every failure, which also keeps each instance's
//! output, the chaos timeline and the applied log in the folder it names. A replay repeats
//! the chaos loop's and the children's choices, not their timing.
//!
//! ```text
//! KELVIQ_REQUIRE_REDIS=1 cargo test -p kelviq-tests --test soak -- --nocapture
//! KELVIQ_SOAK_SEED=1234 KELVIQ_SOAK_SECS=20 cargo test -p kelviq-tests --test soak
//! ```

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use kelviq_mock::catalogue::FeatureKind;
use kelviq_mock::{Fault, FaultKind, Grant, MockConfig, MockServer};
use kelviq_tests::child::{Child, API_KEY, SOAK_CUSTOMERS, SOAK_FEATURES};
use kelviq_tests::redis_server::RedisServer;
use kelviq_tests::Emulator;

const CHILD: &str = env!("CARGO_BIN_EXE_kelviq_child");
const INSTANCES: u64 = 3;
/// Whether the order of a slot's `SET`s is checked also once the process that made them was
/// killed: by its slot's next process (a later `SET`, or one its durable file kept) or another
/// instance, for `SET`s the killed process kept locally (in the durable file the next process
/// restores, which it must send in order before what it makes). While a process lives, its
/// order is always checked.
const ORDER_ACROSS_RESTARTS: bool = true;
/// The same for a `SET` the killed process left in Redis, overtaken by one its slot's next
/// process made: the durable file names the instance, and Redis the reports it put there, so
/// the next process finds them and keeps their lanes behind them. (Seeds 2751622643252711799
/// and 26271151420072 found such an overtaking before that; another instance's reports are
/// not ordered with this one's, and the check is per slot.)
const ORDER_ACROSS_RESTARTS_IN_REDIS: bool = true;
/// Whether a `SET` applied in order must not be applied again after a later one. A `SET`
/// whose attempt timed out is tried again (it is idempotent), and the service may still serve
/// the abandoned attempt later (the `delay` fault), after a newer value: no client can
/// prevent that, so it is shown, not checked.
const LATE_COPIES_IN_ORDER: bool = false;
/// How long a child may take to shut down once told to stop (its `shutdown` is given 20 s).
const SHUTDOWN_WAIT: Duration = Duration::from_secs(40);

/// Written to the stream itself, so that it shows also when the harness captures output.
fn say(text: &str) {
    let _ = writeln!(std::io::stderr(), "{text}");
}

/// One instance slot: its durable file, its running process, what it printed.
struct Slot {
    /// The `kelviq_child` to run.
    program: PathBuf,
    index: u64,
    path: PathBuf,
    incarnation: u64,
    child: Option<Child>,
    restart_at: Option<Instant>,
    /// Every line it printed, every incarnation, in order, with when the test read it (ms
    /// since the start).
    lines: Vec<(u128, String)>,
    started: Instant,
    /// Incarnation → how many reports the emulator had applied when it was killed.
    applied_when_killed: HashMap<u64, usize>,
}

impl Slot {
    fn spawn(&mut self, url: &str, redis: &str, seed: u64) {
        self.incarnation += 1;
        let incarnation = format!("# incarnation {}", self.incarnation);
        self.keep(vec![incarnation]);
        self.child = Some(Child::spawn_listening(
            &self.program.display().to_string(),
            &[
                "soak",
                &format!("url={url}"),
                &format!("redis={redis}"),
                &format!("path={}", self.path.display()),
                &format!("slot={}", self.index),
                &format!("incarnation={}", self.incarnation),
                &format!("seed={seed}"),
            ],
        ));
        self.restart_at = None;
    }

    fn keep(&mut self, lines: Vec<String>) {
        let at = self.started.elapsed().as_millis();
        self.lines.extend(lines.into_iter().map(|line| (at, line)));
    }

    fn collect(&mut self) {
        if let Some(child) = &mut self.child {
            let lines = child.printed();
            self.keep(lines);
        }
    }

    /// Kills its process; `applied` is how many reports the emulator has applied by then.
    fn kill(&mut self, applied: usize) {
        if let Some(mut child) = self.child.take() {
            child.kill();
            self.applied_when_killed.insert(self.incarnation, applied);
            let lines = child.printed_to_the_end(Duration::from_secs(2));
            self.keep(lines);
        }
    }
}

/// What the chaos loop did.
#[derive(Default)]
struct Chaos {
    faults: BTreeMap<&'static str, u64>,
    offline: u64,
    black_holes: u64,
    redis_pauses: u64,
    redis_busy: u64,
    redis_kills: u64,
    kills: u64,
    /// Children that exited without being told to.
    crashes: Vec<String>,
    /// What was done when (ms since the start).
    timeline: Vec<(u128, String)>,
    started: Option<Instant>,
}

impl Chaos {
    fn note(&mut self, what: String) {
        let at = self.started.map_or(0, |s| s.elapsed().as_millis());
        self.timeline.push((at, what));
    }
}

/// A fault for the next few `reportUsage` requests, and its name in the table.
fn random_fault(rng: &mut fastrand::Rng) -> (&'static str, FaultKind) {
    match rng.u32(0..13) {
        0 => ("status 500", FaultKind::status(500)),
        1 => ("status 503", FaultKind::status(503)),
        2 => (
            "status 429 Retry-After",
            FaultKind::Status {
                status: 429,
                retry_after: Some(1),
                body: None,
                after_ms: None,
            },
        ),
        3 => (
            "status 502 HTML (proxy)",
            FaultKind::Status {
                status: 502,
                retry_after: None,
                body: Some("<html><body>Bad gateway</body></html>".into()),
                after_ms: None,
            },
        ),
        4 => (
            "status 408 HTML (proxy)",
            FaultKind::Status {
                status: 408,
                retry_after: None,
                body: Some("<html><body>Request timeout</body></html>".into()),
                after_ms: None,
            },
        ),
        5 => (
            "status 503 slow",
            FaultKind::Status {
                status: 503,
                retry_after: None,
                body: None,
                after_ms: Some(rng.u64(100..1000)),
            },
        ),
        6 => (
            "delay",
            FaultKind::Delay {
                ms: rng.u64(100..1500),
            },
        ),
        7 => (
            "delayAnswer",
            FaultKind::DelayAnswer {
                ms: rng.u64(100..1500),
            },
        ),
        8 => ("drop", FaultKind::Drop),
        9 => (
            "applyThenStatus",
            FaultKind::ApplyThenStatus {
                status: [500, 502, 503][rng.usize(0..3)],
            },
        ),
        10 => ("applyThenDrop", FaultKind::ApplyThenDrop),
        11 => ("malformed", FaultKind::Malformed),
        _ => ("empty", FaultKind::Empty),
    }
}

/// What a child said became of a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    /// Tried, never answered (the process was killed, or shut down mid-send).
    Unanswered,
    Sent,
    Queued,
    Unconfirmed,
    Error,
    Cancelled,
}

#[derive(Debug, Clone)]
struct Tried {
    slot: u64,
    lane: usize,
    set: bool,
    /// Its `try` line's number in its slot's output.
    tried_at: usize,
    /// Its answer's line number.
    answered_at: Option<usize>,
    outcome: Outcome,
    /// Queued, and known to have gone to Redis (no report was kept locally meanwhile).
    in_redis: bool,
}

impl Tried {
    fn accepted(&self) -> bool {
        matches!(self.outcome, Outcome::Sent | Outcome::Queued)
    }
}

/// Everything the children printed, read.
#[derive(Default)]
struct Printed {
    tried: HashMap<i64, Tried>,
    /// Error-level logs saying a report "may have been counted": the SDK's unconfirmed.
    unconfirmed_logged: u64,
    /// The values the unconfirmed logs name (those that carry the report), and how many
    /// such logs there were.
    unconfirmed_named: std::collections::HashSet<i64>,
    unconfirmed_named_logs: u64,
    /// The unconfirmed count of each process's last `queue_totals`, summed.
    unconfirmed_counted: u64,
    /// Every warning and error logged, by its message's start.
    logs: BTreeMap<String, u64>,
    flushes_cancelled: u64,
    flushes: u64,
    /// What the final shutdowns left.
    remaining: u64,
    dropped: u64,
    done: u64,
    malformed: Vec<String>,
}

fn read(slots: &[Slot]) -> Printed {
    let mut printed = Printed::default();
    for slot in slots {
        let mut last_totals = 0;
        for (at, (_, line)) in slot.lines.iter().enumerate() {
            let words: Vec<&str> = line.split(' ').collect();
            let value = |i: usize| words.get(i).and_then(|w| w.parse::<i64>().ok());
            match words.first().copied() {
                Some("try") => {
                    let (Some(lane), Some(value)) = (value(1), value(3)) else {
                        printed.malformed.push(line.clone());
                        continue;
                    };
                    printed.tried.insert(
                        value,
                        Tried {
                            slot: slot.index,
                            lane: lane as usize,
                            set: words.get(2) == Some(&"S"),
                            tried_at: at,
                            answered_at: None,
                            outcome: Outcome::Unanswered,
                            in_redis: false,
                        },
                    );
                }
                Some(word @ ("ok" | "err" | "cancel")) => {
                    let Some(tried) = value(1).and_then(|v| printed.tried.get_mut(&v)) else {
                        printed.malformed.push(line.clone());
                        continue;
                    };
                    tried.answered_at = Some(at);
                    // `kept_locally=B..A`: no report kept locally while it was queued.
                    tried.in_redis = words
                        .get(3)
                        .and_then(|w| w.strip_prefix("kept_locally="))
                        .and_then(|w| w.split_once(".."))
                        .is_some_and(|(before, after)| before == after);
                    tried.outcome = match (word, words.get(2).copied()) {
                        ("ok", Some("sent")) => Outcome::Sent,
                        ("ok", _) => Outcome::Queued,
                        ("err", Some("unconfirmed")) => Outcome::Unconfirmed,
                        ("err", _) => Outcome::Error,
                        _ => Outcome::Cancelled,
                    };
                }
                Some("log") => {
                    let level = words.get(1).copied().unwrap_or_default();
                    if level == "ERROR" && line.contains("may have been counted") {
                        printed.unconfirmed_logged += 1;
                        let named = line
                            .split_once(" value: ")
                            .and_then(|(_, rest)| rest.split(|c: char| !c.is_ascii_digit()).next())
                            .and_then(|digits| digits.parse::<i64>().ok());
                        if let Some(value) = named {
                            printed.unconfirmed_named.insert(value);
                            printed.unconfirmed_named_logs += 1;
                        }
                    }
                    let text: String = words[2.min(words.len())..].join(" ");
                    let head: String = text.chars().take(90).collect();
                    *printed.logs.entry(format!("{level} {head}")).or_default() += 1;
                }
                Some("flush") if words.get(1) == Some(&"cancelled") => {
                    printed.flushes_cancelled += 1;
                }
                Some("flush") => printed.flushes += 1,
                Some("totals") => last_totals = value(3).unwrap_or(0) as u64,
                Some("#") => {
                    printed.unconfirmed_counted += last_totals;
                    last_totals = 0;
                }
                Some("done") => {
                    printed.done += 1;
                    printed.dropped += value(2).unwrap_or(0) as u64;
                    printed.remaining += value(4).unwrap_or(0) as u64;
                }
                _ => {}
            }
        }
        printed.unconfirmed_counted += last_totals;
    }
    printed
}

#[test]
fn soak_three_instances_under_chaos_apply_each_report_once_and_in_order() {
    let seed = std::env::var("KELVIQ_SOAK_SEED")
        .ok()
        .map(|s| s.parse::<u64>().expect("KELVIQ_SOAK_SEED is a number"))
        .unwrap_or_else(|| fastrand::u64(..));
    let secs = std::env::var("KELVIQ_SOAK_SECS").ok().map_or(60, |s| {
        s.parse::<u64>().expect("KELVIQ_SOAK_SECS is a number")
    });
    say(&format!(
        "soak: seed {seed}, {secs} s (replay with KELVIQ_SOAK_SEED={seed})"
    ));
    let dir = std::env::temp_dir().join(format!("kelviq-soak-{}-{seed}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let Some(mut redis) = RedisServer::start_persistent_or_skip(&dir.join("redis")) else {
        return;
    };

    // Logs long enough for any run (the default keeps the last 100 000 entries).
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    let server = runtime
        .block_on(MockServer::start_with(MockConfig {
            log_capacity: Some(10_000_000),
            ..MockConfig::default()
        }))
        .expect("the emulator starts");
    let emulator = Emulator { runtime, server };
    let server = &emulator.server;
    for customer in SOAK_CUSTOMERS {
        for feature in SOAK_FEATURES {
            server.with_tenant(Some(API_KEY), |_, tenant| {
                tenant.grant(Grant {
                    customer_id: customer.into(),
                    feature_id: feature.into(),
                    feature_type: FeatureKind::Meter,
                    usage_limit: None,
                    hard_limit: None,
                })
            });
        }
    }
    let (url, redis_url) = (server.url(), redis.url());

    // A copy of the child, so that a build meanwhile (another `cargo` sharing the target
    // folder) cannot swap the program restarted instances run.
    let program = dir.join("kelviq_child");
    std::fs::copy(CHILD, &program).expect("kelviq_child can be copied");
    let started = Instant::now();
    let mut slots: Vec<Slot> = (1..=INSTANCES)
        .map(|index| Slot {
            program: program.clone(),
            index,
            path: dir.join(format!("instance-{index}.redb")),
            incarnation: 0,
            child: None,
            restart_at: None,
            lines: Vec::new(),
            started,
            applied_when_killed: HashMap::new(),
        })
        .collect();
    for slot in &mut slots {
        slot.spawn(&url, &redis_url, seed);
    }

    // The chaos loop.
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut chaos = Chaos {
        started: Some(started),
        ..Chaos::default()
    };
    let end = started + Duration::from_secs(secs);
    let mut outage_until: Option<Instant> = None;
    let mut redis_down_until: Option<Instant> = None;
    let mut redis_up_since = Instant::now();
    let mut busy = Vec::new();
    let mut next_action = Instant::now() + Duration::from_millis(500);
    while Instant::now() < end {
        std::thread::sleep(Duration::from_millis(25));
        let now = Instant::now();
        if outage_until.is_some_and(|t| t <= now) {
            emulator
                .run(server.go_online())
                .expect("the emulator listens again");
            outage_until = None;
            chaos.note("emulator online".into());
        }
        if redis_down_until.is_some_and(|t| t <= now) {
            chaos.note("Redis starts again".into());
            redis.start_again();
            redis_down_until = None;
            redis_up_since = Instant::now();
        }
        for slot in &mut slots {
            slot.collect();
            if slot.restart_at.is_some_and(|t| t <= now) {
                slot.spawn(&url, &redis_url, seed);
                chaos.note(format!(
                    "instance {} restarted (incarnation {})",
                    slot.index, slot.incarnation
                ));
            }
            if slot.child.as_mut().is_some_and(Child::has_exited) {
                chaos.crashes.push(format!(
                    "instance {} (incarnation {}) exited on its own",
                    slot.index, slot.incarnation
                ));
                slot.kill(server.applied_usage().len());
                slot.restart_at = Some(now + Duration::from_millis(200));
            }
        }
        if now < next_action {
            continue;
        }
        next_action = now + Duration::from_millis(rng.u64(200..1200));
        let redis_usable = redis.is_running() && redis_up_since.elapsed() > Duration::from_secs(1);
        match rng.u32(0..100) {
            0..45 => {
                let (name, kind) = random_fault(&mut rng);
                let times = rng.u32(1..=4);
                server
                    .inject(Fault::new("reportUsage", times, kind.clone()))
                    .expect("reportUsage is an operation");
                *chaos.faults.entry(name).or_default() += u64::from(times);
                chaos.note(format!("fault {name} ×{times}: {kind:?}"));
            }
            45..51 if outage_until.is_none() => {
                server.go_offline();
                chaos.offline += 1;
                outage_until = Some(now + Duration::from_millis(rng.u64(300..3000)));
                chaos.note("emulator offline".into());
            }
            51..55 if outage_until.is_none() => {
                emulator
                    .run(server.go_black_hole())
                    .expect("the emulator's address becomes a black hole");
                chaos.black_holes += 1;
                outage_until = Some(now + Duration::from_millis(rng.u64(300..2000)));
                chaos.note("emulator black hole".into());
            }
            55..65 if redis_usable => {
                let ms = rng.u64(100..1500);
                redis.pause(ms);
                chaos.redis_pauses += 1;
                chaos.note(format!("Redis paused {ms} ms"));
            }
            65..71 if redis_usable => {
                let ms = rng.u64(200..1200);
                chaos.note(format!("Redis busy {ms} ms"));
                busy.push(redis.busy(ms));
                chaos.redis_busy += 1;
            }
            71..80 if redis.is_running() => {
                redis.kill();
                chaos.redis_kills += 1;
                chaos.note("Redis killed".into());
                redis_down_until = Some(now + Duration::from_millis(rng.u64(0..2000)));
            }
            80.. => {
                let index = rng.usize(0..slots.len());
                let slot = &mut slots[index];
                if slot.child.is_some() {
                    slot.kill(server.applied_usage().len());
                    chaos.kills += 1;
                    let killed = format!(
                        "instance {} killed (incarnation {})",
                        slot.index, slot.incarnation
                    );
                    chaos.note(killed);
                    slot.restart_at = Some(now + Duration::from_millis(rng.u64(50..1500)));
                }
            }
            _ => {}
        }
    }

    // Calm: every fault cleared, everything up, every instance running; then each is told to
    // stop and shut down.
    chaos.note("calm: faults cleared, everything up, instances told to stop".into());
    server.clear_faults();
    if outage_until.is_some() {
        emulator
            .run(server.go_online())
            .expect("the emulator listens again");
    }
    redis.start_again();
    for handle in busy {
        let _ = handle.join();
    }
    for slot in &mut slots {
        if slot.child.is_none() {
            slot.spawn(&url, &redis_url, seed);
        }
        let told = slot.child.as_mut().is_some_and(|c| c.say("stop"));
        assert!(
            told,
            "seed {seed}: instance {} could not be told to stop",
            slot.index
        );
    }
    let mut stuck = Vec::new();
    for slot in &mut slots {
        let mut child = slot.child.take().expect("running");
        match child.wait_within(SHUTDOWN_WAIT) {
            Some(true) => {}
            Some(false) => chaos.crashes.push(format!(
                "instance {} failed while shutting down",
                slot.index
            )),
            None => {
                stuck.push(slot.index);
                child.kill();
            }
        }
        let lines = child.printed_to_the_end(Duration::from_secs(5));
        slot.keep(lines);
    }
    let chaos_secs = started.elapsed().as_secs_f64();

    // The proof.
    let printed = read(&slots);
    let applied = server.applied_usage();
    let mut applications: HashMap<i64, Vec<usize>> = HashMap::new();
    for (at, report) in applied.iter().enumerate() {
        applications.entry(report.value).or_default().push(at);
    }
    let unknown: Vec<i64> = applications
        .keys()
        .filter(|v| !printed.tried.contains_key(v))
        .copied()
        .collect();
    let mut twice: Vec<i64> = applications
        .iter()
        .filter(|(v, at)| at.len() > 1 && printed.tried.get(v).is_some_and(|t| !t.set))
        .map(|(v, _)| *v)
        .collect();
    twice.sort_unstable();
    let sets_again = applications
        .iter()
        .filter(|(v, at)| at.len() > 1 && printed.tried.get(v).is_some_and(|t| t.set))
        .count();
    let lost = |set: bool| {
        let mut lost: Vec<i64> = printed
            .tried
            .iter()
            .filter(|(v, t)| t.set == set && t.accepted() && !applications.contains_key(v))
            .map(|(v, _)| *v)
            .collect();
        lost.sort_unstable();
        lost
    };
    let (lost_deltas, lost_sets) = (lost(false), lost(true));

    // Order: per slot and lane, an accepted SET answered before another was tried is never
    // applied after it.
    let mut by_lane: BTreeMap<(u64, usize), Vec<(i64, &Tried)>> = BTreeMap::new();
    for (value, tried) in &printed.tried {
        if tried.set && tried.accepted() {
            by_lane
                .entry((tried.slot, tried.lane))
                .or_default()
                .push((*value, tried));
        }
    }
    // Each SET overtaken is filed under the first of these that fits: applied again late, by
    // an attempt the client had given up on that the service served after the later one; by
    // a later SET of the same process, applied while that process lived; after that process
    // was killed (by its slot's next process, or another instance), the earlier one kept
    // locally (or not known to be in Redis), or both in Redis (where the lane keeps its
    // order); or the earlier one in Redis, the later one not.
    let mut overtaken: [Vec<String>; 4] = Default::default();
    // When each value's requests arrived (their places in the emulator's request log).
    let mut arrivals: HashMap<i64, Vec<usize>> = HashMap::new();
    for (at, request) in server.requests().iter().enumerate() {
        if request.operation.as_deref() == Some("reportUsage") {
            if let Some(value) = request.body.get("value").and_then(|v| v.as_i64()) {
                arrivals.entry(value).or_default().push(at);
            }
        }
    }
    let incarnation = |value: i64| value / 1_000_000 % 1000;
    let how = |value: &i64, tried: &Tried| {
        let at: Vec<String> = applications
            .get(value)
            .map(|a| a.iter().map(|i| format!("#{i}")).collect())
            .unwrap_or_default();
        let redis = if tried.in_redis { ", in Redis" } else { "" };
        format!(
            "SET {value} ({:?}{redis} by incarnation {}, applied at {})",
            tried.outcome,
            incarnation(*value),
            at.join(" ")
        )
    };
    for ((slot, lane), sets) in &mut by_lane {
        sets.sort_by_key(|(_, t)| t.tried_at);
        for (i, (earlier, first)) in sets.iter().enumerate() {
            let Some(applied_at) = applications.get(earlier) else {
                continue;
            };
            let (first_applied, last_applied) = (applied_at[0], applied_at[applied_at.len() - 1]);
            let answered = first.answered_at.expect("accepted, so answered");
            // Every application of the earlier SET answers a request that arrived before
            // the later one's first: a copy the service served late, not one sent again.
            let late_copy = |later: &i64| {
                let (Some(mine), Some(theirs)) = (arrivals.get(earlier), arrivals.get(later))
                else {
                    return false;
                };
                applications[later][0] > first_applied
                    && mine.iter().filter(|&&at| at < theirs[0]).count() >= applied_at.len()
            };
            // Applied while the process that made both was alive: its own order.
            let same_process = |later: &i64| {
                incarnation(*later) == incarnation(*earlier)
                    && slots[*slot as usize - 1]
                        .applied_when_killed
                        .get(&(incarnation(*later) as u64))
                        .is_none_or(|&killed| applications[later][0] < killed)
            };
            let category = |later: &i64| {
                if late_copy(later) {
                    3
                } else if same_process(later) {
                    0
                } else if first.in_redis && !printed.tried[later].in_redis {
                    2
                } else {
                    1
                }
            };
            let found = sets[i + 1..]
                .iter()
                .filter(|(later, second)| {
                    second.tried_at > answered
                        && applications
                            .get(later)
                            .is_some_and(|at| at[0] < last_applied)
                })
                .min_by_key(|(later, _)| (category(later), applications[later][0]));
            if let Some((later, second)) = found {
                overtaken[category(later)].push(format!(
                    "instance {slot} lane {lane}: {} applied after {}, made after it",
                    how(earlier, first),
                    how(later, second)
                ));
            }
        }
    }

    // The figures.
    let count = |outcome: Outcome| {
        printed
            .tried
            .values()
            .filter(|t| t.outcome == outcome)
            .count()
    };
    let mut table = String::new();
    let mut row = |name: &str, value: String| {
        let _ = writeln!(table, "| {name:<50} | {value:>20} |");
    };
    row("seed", seed.to_string());
    row("seconds (chaos + shutdown)", format!("{chaos_secs:.1}"));
    row("reports tried", printed.tried.len().to_string());
    row("  accepted: sent", count(Outcome::Sent).to_string());
    row("  accepted: queued", count(Outcome::Queued).to_string());
    row(
        "  error: unconfirmed DELTA",
        count(Outcome::Unconfirmed).to_string(),
    );
    row("  error: other", count(Outcome::Error).to_string());
    row(
        "  send cancelled by the caller",
        count(Outcome::Cancelled).to_string(),
    );
    row(
        "  unanswered (instance killed)",
        count(Outcome::Unanswered).to_string(),
    );
    row("reports applied (distinct)", applications.len().to_string());
    row("applications", applied.len().to_string());
    row("SETs applied again (retried)", sets_again.to_string());
    let injected: u64 = chaos.faults.values().sum();
    row("faults injected (requests)", injected.to_string());
    for (name, times) in &chaos.faults {
        row(&format!("  {name}"), times.to_string());
    }
    row("emulator offline", chaos.offline.to_string());
    row("emulator black hole", chaos.black_holes.to_string());
    row(
        "Redis paused (CLIENT PAUSE)",
        chaos.redis_pauses.to_string(),
    );
    row("Redis busy (script)", chaos.redis_busy.to_string());
    row("Redis killed and restarted", chaos.redis_kills.to_string());
    row(
        "instances killed (SIGKILL) and restarted",
        chaos.kills.to_string(),
    );
    row("flushes cancelled", printed.flushes_cancelled.to_string());
    row("flushes completed", printed.flushes.to_string());
    row(
        "unconfirmed (logged by the SDK)",
        printed.unconfirmed_logged.to_string(),
    );
    row(
        "unconfirmed (queue_totals, last seen per process)",
        printed.unconfirmed_counted.to_string(),
    );
    row(
        "dropped (refused by the service)",
        printed.dropped.to_string(),
    );
    row(
        "lost DELTAs (accepted, never applied)",
        lost_deltas.len().to_string(),
    );
    row(
        "lost SETs (accepted, never applied)",
        lost_sets.len().to_string(),
    );
    row("DELTAs applied twice", twice.len().to_string());
    for (list, name) in overtaken.iter().zip([
        "SETs overtaken: by a later one, same process",
        "  … after their process was killed, kept locally",
        "  … after it was killed, only the 1st in Redis",
        "  … by a late copy of an abandoned attempt",
    ]) {
        row(name, list.len().to_string());
    }
    row("left in queues at the end", printed.remaining.to_string());
    say(&format!(
        "| {:<50} | {:>20} |\n|{}|{}|\n{table}",
        "figure",
        "value",
        "-".repeat(52),
        "-".repeat(22)
    ));
    say("warnings and errors the instances logged:");
    for (log, times) in &printed.logs {
        say(&format!("  {times:>6} × {log}"));
    }

    let few = |values: &[i64]| {
        let shown: Vec<String> = values.iter().take(20).map(i64::to_string).collect();
        format!("{} ({})", values.len(), shown.join(", "))
    };
    let mut failures = Vec::new();
    if !twice.is_empty() {
        failures.push(format!("DELTAs applied twice: {}", few(&twice)));
    }
    // A lost DELTA is accounted for by a log naming it, or else by one of the logs that name
    // no report.
    let unnamed: Vec<i64> = lost_deltas
        .iter()
        .filter(|v| !printed.unconfirmed_named.contains(v))
        .copied()
        .collect();
    let unnamed_logs = printed.unconfirmed_logged - printed.unconfirmed_named_logs;
    if unnamed.len() as u64 > unnamed_logs {
        failures.push(format!(
            "{} accepted DELTAs never applied, {} of them named by no log, but only {} \
             unconfirmed logs name no report: {}",
            lost_deltas.len(),
            unnamed.len(),
            unnamed_logs,
            few(&unnamed)
        ));
    }
    if !lost_sets.is_empty() {
        failures.push(format!("accepted SETs never applied: {}", few(&lost_sets)));
    }
    for (list, (how, checked)) in overtaken.iter().zip([
        (
            "by a later SET of the same process, applied while it lived",
            true,
        ),
        (
            "by a later SET applied after their process was killed, the earlier one kept \
             locally or both in Redis",
            ORDER_ACROSS_RESTARTS,
        ),
        (
            "by a later SET applied after their process was killed, only the earlier one in \
             Redis",
            ORDER_ACROSS_RESTARTS_IN_REDIS,
        ),
        (
            "again, by a late copy of an attempt the client had given up on",
            LATE_COPIES_IN_ORDER,
        ),
    ]) {
        if checked && !list.is_empty() {
            let shown: Vec<&String> = list.iter().take(10).collect();
            failures.push(format!(
                "{} SETs applied after one made after them, {how}: {shown:#?}",
                list.len()
            ));
        }
    }
    if !unknown.is_empty() {
        failures.push(format!(
            "values applied that no instance tried: {}",
            few(&unknown)
        ));
    }
    if printed.remaining > 0 {
        failures.push(format!(
            "{} reports left in the queues after every shutdown",
            printed.remaining
        ));
    }
    if !stuck.is_empty() {
        failures.push(format!(
            "instances {stuck:?} did not finish shutdown(20 s) within {SHUTDOWN_WAIT:?}"
        ));
    }
    if printed.done != INSTANCES {
        failures.push(format!(
            "{} of {INSTANCES} instances reported their shutdown",
            printed.done
        ));
    }
    if !chaos.crashes.is_empty() {
        failures.push(format!("instances crashed: {:?}", chaos.crashes));
    }
    if !printed.malformed.is_empty() {
        failures.push(format!("unreadable lines: {:?}", printed.malformed));
    }
    if failures.is_empty() {
        let _ = std::fs::remove_dir_all(&dir);
    } else {
        // What happened, for the post-mortem: each instance's output and the chaos, timed.
        for slot in &slots {
            let text: String = slot
                .lines
                .iter()
                .map(|(at, line)| format!("{at:>7} {line}\n"))
                .collect();
            let _ = std::fs::write(dir.join(format!("instance-{}.log", slot.index)), text);
        }
        let text: String = chaos
            .timeline
            .iter()
            .map(|(at, what)| format!("{at:>7} {what}\n"))
            .collect();
        let _ = std::fs::write(dir.join("chaos.log"), text);
        let text: String = applied
            .iter()
            .enumerate()
            .map(|(at, a)| {
                format!(
                    "#{at} {} {} {} {}\n",
                    a.customer_id, a.feature_id, a.behaviour, a.value
                )
            })
            .collect();
        let _ = std::fs::write(dir.join("applied.log"), text);
        failures.push(format!("logs kept in {}", dir.display()));
    }
    assert!(
        failures.is_empty(),
        "soak failed with seed {seed} (replay: KELVIQ_SOAK_SEED={seed}):\n- {}",
        failures.join("\n- ")
    );
}
