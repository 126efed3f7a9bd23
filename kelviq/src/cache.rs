//! The entitlement cache: each customer's whole entitlement set, kept so that `has_access` on
//! the hot path of a service is answered locally, and kept honest when sets change.
//!
//! A data structure, not a client: it never makes a request. The layer above hands it the
//! fetch to run ([`EntitlementCache::fetch_shared`]) and asks it what to do
//! ([`EntitlementCache::lookup`]); it answers from what it holds and says when a refresh is
//! due.
//!
//! - A fresh hit takes one lock-free map lookup ([`papaya`], chosen by the benchmark in
//!   `bench/`), a coarse clock read, one atomic load and a binary search: no request, no
//!   allocation, no lock a writer can hold.
//! - A set older than `ttl` but younger than `ttl + max_stale` is *stale*: it is answered
//!   from at once, and the caller is told to start one background refresh for the customer,
//!   unless one is running or a failed one is backing off.
//! - Concurrent fetches for one customer share one request.
//! - Every set records the generation it was fetched in. Invalidating a customer, or every
//!   customer, moves the generation on, so that a fetch still in flight cannot put back a
//!   set the invalidation meant to retire: it is stored as invalidated, usable only as a
//!   fallback, and the next call fetches again.
//! - An invalidated set is not dropped: it still stands in, flagged stale, while the edge
//!   host fails.
//! - Usage reports move cached usage atomically (a compare-and-swap loop on the entry), so
//!   concurrent reports lose no update.
//! - The number of customers is bounded: past it, the stalest of a few sampled entries goes.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::OnceCell;

use crate::config::CacheConfig;
use crate::error::Result;
use crate::model::{index_grants, EntitlementSet, FeatureIndex};
use crate::types::Behaviour;

/// A customer's set and what the cache knows about it. The set's feature index sits here
/// too, so that `has_access` reads it without going through the set.
#[derive(Clone)]
struct Cached {
    /// Answered from without a request until then.
    fresh_until: coarsetime::Instant,
    fetched_at: coarsetime::Instant,
    /// The generation of the whole cache the set was fetched in.
    generation: u64,
    /// Retired by an invalidation of this customer: a fallback only.
    invalidated: bool,
    index: FeatureIndex,
    set: Arc<EntitlementSet>,
    refresh: Arc<RefreshGate>,
}

/// At most one background refresh per customer, and a growing pause after failed ones.
#[derive(Debug, Default)]
struct RefreshGate {
    running: AtomicBool,
    failures: AtomicU32,
    /// No refresh before this many milliseconds of the cache's clock.
    not_before_ms: AtomicU64,
}

/// What the cache holds for a customer, as [`EntitlementCache::lookup`] tells it.
#[derive(Debug)]
pub(crate) enum Lookup {
    /// Fresh: answer from it.
    Fresh(Arc<EntitlementSet>),
    /// Stale but usable: answer from it at once. `refresh` is set for the one caller who
    /// should start the background refresh.
    Stale {
        set: Arc<EntitlementSet>,
        age: Duration,
        refresh: Option<RefreshTicket>,
    },
    /// Must be fetched before answering. `fallback` is a set that may stand in if the edge
    /// host fails: invalidated, or older than usable but younger than `ttl + max_stale`.
    Fetch {
        fallback: Option<(Arc<EntitlementSet>, Duration)>,
    },
}

/// The right to run the background refresh of one customer; report how it went with
/// [`EntitlementCache::refresh_failed`] (success needs no report: the new set replaces the
/// gate).
#[derive(Debug)]
pub(crate) struct RefreshTicket(Arc<RefreshGate>);

/// What a fetch brought: a set, how old it is (zero from the edge host; its age there when
/// it comes from the shared tier), whether it was retired there, and the edge host's failure
/// when it only stands in for an answer.
#[derive(Debug)]
pub(crate) struct Fetched {
    pub(crate) set: EntitlementSet,
    pub(crate) age: Duration,
    pub(crate) retired: bool,
    pub(crate) edge_error: Option<crate::Error>,
}

impl Fetched {
    /// A set the edge host just answered.
    pub(crate) fn from_edge(set: EntitlementSet) -> Self {
        Self {
            set,
            age: Duration::ZERO,
            retired: false,
            edge_error: None,
        }
    }
}

/// A fetched set as every caller sharing the fetch gets it.
#[derive(Debug, Clone)]
pub(crate) struct Got {
    pub(crate) set: Arc<EntitlementSet>,
    pub(crate) age: Duration,
    pub(crate) edge_error: Option<crate::Error>,
}

/// One fetch of a customer's set, shared by everyone who asks while it runs.
struct Flight {
    cell: OnceCell<Result<Got>>,
    generation: u64,
    /// Set by an invalidation while the fetch runs: its result must not count as fresh.
    superseded: AtomicBool,
}

/// How many entries eviction looks at to find the stalest.
const EVICTION_SAMPLE: usize = 8;

pub(crate) struct EntitlementCache {
    /// Keys of up to 24 bytes sit inline: one pointer fewer to follow on a lookup.
    map: papaya::HashMap<compact_str::CompactString, Cached, foldhash::fast::RandomState>,
    /// Fetches in flight. Also the lock under which a fetch's result is stored and an
    /// invalidation applied, so that the two never interleave.
    inflight: Mutex<HashMap<Box<str>, Arc<Flight>>>,
    /// Moved on by [`invalidate_all`](Self::invalidate_all); a set of an older generation
    /// is no longer fresh.
    generation: AtomicU64,
    ttl: coarsetime::Duration,
    max_stale: coarsetime::Duration,
    max_customers: usize,
    refresh_backoff: Duration,
    max_refresh_backoff: Duration,
    /// The clock the refresh pauses are measured on.
    started: coarsetime::Instant,
}

impl fmt::Debug for EntitlementCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EntitlementCache")
            .field("customers", &self.map.len())
            .field("ttl", &self.ttl)
            .field("max_stale", &self.max_stale)
            .field("max_customers", &self.max_customers)
            .finish()
    }
}

impl EntitlementCache {
    pub(crate) fn new(config: &CacheConfig) -> Option<Self> {
        config.enabled.then(|| Self {
            map: papaya::HashMap::builder()
                .hasher(foldhash::fast::RandomState::default())
                .build(),
            inflight: Mutex::default(),
            generation: AtomicU64::new(0),
            ttl: coarsetime::Duration::from(config.ttl),
            max_stale: coarsetime::Duration::from(config.max_stale),
            max_customers: config.max_customers,
            refresh_backoff: config.refresh_backoff,
            max_refresh_backoff: config.max_refresh_backoff,
            started: coarsetime::Instant::now(),
        })
    }

    /// How long a set is fresh.
    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    pub(crate) fn ttl(&self) -> Duration {
        self.ttl.into()
    }

    /// How long past `ttl` a set may stand in while the edge host fails.
    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    pub(crate) fn max_stale(&self) -> Duration {
        self.max_stale.into()
    }

    fn inflight(&self) -> std::sync::MutexGuard<'_, HashMap<Box<str>, Arc<Flight>>> {
        self.inflight.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether the customer's fresh set grants `feature_id`, if there is a fresh set. The
    /// hot path: a lookup, a clock read, an atomic load and a binary search over inline
    /// names.
    #[inline]
    pub(crate) fn fresh_access(&self, customer_id: &str, feature_id: &str) -> Option<bool> {
        let map = self.map.pin();
        let cached = map.get(customer_id)?;
        self.is_fresh(cached)
            .then(|| index_grants(&cached.index, feature_id))
    }

    /// Answers `read` from the customer's fresh set, if there is one.
    #[inline]
    pub(crate) fn read_fresh<T>(
        &self,
        customer_id: &str,
        read: impl FnOnce(&Arc<EntitlementSet>) -> T,
    ) -> Option<T> {
        let map = self.map.pin();
        let cached = map.get(customer_id)?;
        self.is_fresh(cached).then(|| read(&cached.set))
    }

    #[inline]
    fn is_fresh(&self, cached: &Cached) -> bool {
        // CLOCK_MONOTONIC_COARSE: a few ns, millisecond resolution, plenty for a TTL. An
        // invalidated set has `fresh_until` in the past.
        coarsetime::Instant::now_without_cache_update() < cached.fresh_until
            && cached.generation == self.generation.load(Ordering::Acquire)
    }

    /// What the cache holds for the customer, and what the caller should do about it.
    pub(crate) fn lookup(&self, customer_id: &str) -> Lookup {
        let map = self.map.pin();
        let Some(cached) = map.get(customer_id) else {
            return Lookup::Fetch { fallback: None };
        };
        if self.is_fresh(cached) {
            return Lookup::Fresh(cached.set.clone());
        }
        let now = coarsetime::Instant::now();
        let age = now.duration_since(cached.fetched_at);
        let usable = age < self.ttl + self.max_stale;
        let retired =
            cached.invalidated || cached.generation != self.generation.load(Ordering::Acquire);
        if !usable {
            return Lookup::Fetch { fallback: None };
        }
        if retired {
            return Lookup::Fetch {
                fallback: Some((cached.set.clone(), age.into())),
            };
        }
        Lookup::Stale {
            set: cached.set.clone(),
            age: age.into(),
            refresh: self.try_refresh(&cached.refresh, now),
        }
    }

    /// The ticket for a background refresh, when none runs and no failed one backs off.
    fn try_refresh(
        &self,
        gate: &Arc<RefreshGate>,
        now: coarsetime::Instant,
    ) -> Option<RefreshTicket> {
        let now_ms = now.duration_since(self.started).as_millis();
        if now_ms < gate.not_before_ms.load(Ordering::Acquire) {
            return None;
        }
        gate.running
            .compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
            .ok()
            .map(|_| RefreshTicket(gate.clone()))
    }

    /// A background refresh failed: the next waits, longer after each failure.
    pub(crate) fn refresh_failed(&self, ticket: RefreshTicket) {
        let gate = ticket.0;
        let failures = gate.failures.fetch_add(1, Ordering::AcqRel).min(16);
        let pause = self
            .refresh_backoff
            .saturating_mul(1 << failures)
            .min(self.max_refresh_backoff);
        let now_ms = coarsetime::Instant::now()
            .duration_since(self.started)
            .as_millis();
        gate.not_before_ms
            .store(now_ms + pause.as_millis() as u64, Ordering::Release);
        gate.running.store(false, Ordering::Release);
    }

    /// The customer's set, fetched by `fetch` for every concurrent caller at once, and
    /// stored unless an invalidation came while it was in flight.
    pub(crate) async fn fetch_shared<F, Fut>(&self, customer_id: &str, fetch: F) -> Result<Got>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Fetched>>,
    {
        let flight = self
            .inflight()
            .entry(customer_id.into())
            .or_insert_with(|| {
                Arc::new(Flight {
                    cell: OnceCell::new(),
                    generation: self.generation.load(Ordering::Acquire),
                    superseded: AtomicBool::new(false),
                })
            })
            .clone();
        let result = flight
            .cell
            .get_or_init(|| async {
                let fetched = fetch().await?;
                let got = Got {
                    set: Arc::new(fetched.set),
                    age: fetched.age,
                    edge_error: fetched.edge_error,
                };
                self.store(customer_id, &got, fetched.retired, &flight);
                Ok(got)
            })
            .await
            .clone();
        let mut inflight = self.inflight();
        if inflight
            .get(customer_id)
            .is_some_and(|f| Arc::ptr_eq(f, &flight))
        {
            inflight.remove(customer_id);
        }
        result
    }

    /// Stores a fetched set: fresh for what is left of its `ttl`, unless it was retired
    /// where it came from or an invalidation superseded its flight.
    fn store(&self, customer_id: &str, got: &Got, retired: bool, flight: &Flight) {
        let _serialised = self.inflight();
        let now = coarsetime::Instant::now();
        let invalidated = retired || flight.superseded.load(Ordering::Acquire);
        let fetched_at = now
            .checked_sub(coarsetime::Duration::from(got.age))
            .unwrap_or(now);
        let map = self.map.pin();
        // A set that only stands in for a failed fetch keeps the customer's refresh gate,
        // and so the pause a failed refresh set on it.
        let refresh = match (&got.edge_error, map.get(customer_id)) {
            (Some(_), Some(existing)) => existing.refresh.clone(),
            _ => Arc::default(),
        };
        let cached = Cached {
            fresh_until: if invalidated {
                now
            } else {
                fetched_at + self.ttl
            },
            fetched_at,
            generation: flight.generation,
            invalidated,
            index: got.set.index().clone(),
            set: got.set.clone(),
            refresh,
        };
        if map.len() >= self.max_customers && !map.contains_key(customer_id) {
            let stalest = map
                .iter()
                .take(EVICTION_SAMPLE)
                .min_by_key(|(_, cached)| cached.fetched_at)
                .map(|(key, _)| key.clone());
            if let Some(key) = stalest {
                map.remove(&key);
            }
        }
        map.insert(customer_id.into(), cached);
    }

    /// After a usage report the service accepted: the cached usage moves as the service's
    /// did, atomically, so that concurrent reports all count.
    pub(crate) fn apply_usage(
        &self,
        customer_id: &str,
        feature_id: &str,
        behaviour: Behaviour,
        value: i64,
    ) {
        let map = self.map.pin();
        // Most reports are of customers not cached here: a look-up, not an update.
        if !map.contains_key(customer_id) {
            return;
        }
        // `update` retries the closure if another writer got there first: no lost update.
        // A customer without usage for the feature keeps the same set.
        map.update(customer_id.into(), |cached| {
            match cached.set.with_usage(feature_id, behaviour, value) {
                Some(updated) => {
                    let set = Arc::new(updated);
                    Cached {
                        index: set.index().clone(),
                        set,
                        ..cached.clone()
                    }
                }
                None => cached.clone(),
            }
        });
    }

    /// Retires the customer's set: the next call fetches, and the set stays only as a
    /// fallback. A fetch in flight for the customer can no longer store a fresh set.
    pub(crate) fn invalidate(&self, customer_id: &str) {
        let mut inflight = self.inflight();
        if let Some(flight) = inflight.remove(customer_id) {
            flight.superseded.store(true, Ordering::Release);
        }
        self.map.pin().update(customer_id.into(), |cached| Cached {
            fresh_until: cached.fetched_at,
            invalidated: true,
            ..cached.clone()
        });
    }

    /// Retires every customer's set at once (a change whose customer is not known): the next
    /// call for each fetches, and every set stays as a fallback.
    pub(crate) fn invalidate_all(&self) {
        let mut inflight = self.inflight();
        for (_, flight) in inflight.drain() {
            flight.superseded.store(true, Ordering::Release);
        }
        self.generation.fetch_add(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(customer: &str, json: &str) -> EntitlementSet {
        let wire: kelviq_gen::types::CustomerEntitlements = serde_json::from_str(&format!(
            r#"{{"customerId": "{customer}", "entitlements": [{json}]}}"#
        ))
        .unwrap();
        EntitlementSet::from(wire)
    }

    fn meter(usage: i64) -> String {
        format!(
            r#"{{"featureId": "api", "featureType": "METER", "hasAccess": true, "hardLimit": true,
               "usageLimit": 10, "currentUsage": {usage}}}"#
        )
    }

    fn cache(ttl: Duration) -> EntitlementCache {
        EntitlementCache::new(&CacheConfig::default().ttl(ttl)).unwrap()
    }

    async fn fill(cache: &EntitlementCache, customer: &str, usage: i64) {
        let fetched = set(customer, &meter(usage));
        cache
            .fetch_shared(customer, || async { Ok(Fetched::from_edge(fetched)) })
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn an_invalidation_during_a_fetch_wins() {
        let cache = cache(Duration::from_secs(60));
        let (release, wait) = tokio::sync::oneshot::channel::<()>();
        let slow = cache.fetch_shared("c", || async {
            let _ = wait.await;
            Ok(Fetched::from_edge(set("c", &meter(1))))
        });
        let invalidate = async {
            tokio::task::yield_now().await;
            cache.invalidate("c");
            let _ = release.send(());
        };
        let (fetched, ()) = tokio::join!(slow, invalidate);
        assert!(fetched.is_ok(), "the caller still gets its answer");
        assert_eq!(cache.fresh_access("c", "api"), None, "but it is not fresh");
        assert!(matches!(
            cache.lookup("c"),
            Lookup::Fetch { fallback: Some(_) }
        ));
    }

    #[tokio::test]
    async fn invalidating_everyone_keeps_every_set_as_a_fallback() {
        let cache = cache(Duration::from_secs(60));
        fill(&cache, "a", 1).await;
        fill(&cache, "b", 1).await;
        assert_eq!(cache.fresh_access("a", "api"), Some(true));
        cache.invalidate_all();
        for customer in ["a", "b"] {
            assert_eq!(cache.fresh_access(customer, "api"), None);
            assert!(matches!(
                cache.lookup(customer),
                Lookup::Fetch { fallback: Some(_) }
            ));
        }
        fill(&cache, "a", 2).await;
        assert_eq!(
            cache.fresh_access("a", "api"),
            Some(true),
            "a new fetch is fresh again"
        );
    }

    #[tokio::test]
    async fn a_stale_set_hands_out_one_refresh_ticket_and_backs_off_after_a_failure() {
        let cache = EntitlementCache::new(
            &CacheConfig::default()
                .ttl(Duration::ZERO)
                .refresh_backoff(Duration::from_secs(60), Duration::from_secs(60)),
        )
        .unwrap();
        fill(&cache, "c", 1).await;
        let Lookup::Stale {
            refresh: Some(ticket),
            ..
        } = cache.lookup("c")
        else {
            panic!("the first stale lookup gets the ticket");
        };
        assert!(matches!(
            cache.lookup("c"),
            Lookup::Stale { refresh: None, .. }
        ));
        cache.refresh_failed(ticket);
        assert!(
            matches!(cache.lookup("c"), Lookup::Stale { refresh: None, .. }),
            "backing off"
        );
    }

    #[tokio::test]
    async fn concurrent_usage_updates_all_count_and_a_hard_meter_stops_at_its_limit() {
        let cache = Arc::new(cache(Duration::from_secs(60)));
        fill(&cache, "c", 0).await;
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let cache = cache.clone();
                std::thread::spawn(move || {
                    for _ in 0..250 {
                        cache.apply_usage("c", "api", Behaviour::Delta, 1);
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        let usage = cache
            .read_fresh("c", |set| {
                crate::model::CustomerEntitlements::view(
                    set.clone(),
                    None,
                    crate::model::Freshness::Fresh,
                )
                .feature("api")
                .unwrap()
                .current_usage
            })
            .unwrap();
        assert_eq!(usage, Some(1000));
        assert_eq!(cache.fresh_access("c", "api"), Some(false));
        cache.apply_usage("c", "api", Behaviour::Set, 9);
        assert_eq!(cache.fresh_access("c", "api"), Some(true), "one left");
        cache.apply_usage("c", "api", Behaviour::Delta, 1);
        assert_eq!(
            cache.fresh_access("c", "api"),
            Some(false),
            "exactly at the limit"
        );
    }
}
