//! The entitlement cache: each customer's whole entitlement set, kept for a while so that
//! `has_access` on the hot path of a service is answered locally.
//!
//! - A miss fetches the customer's whole set once; every feature of that customer is then
//!   answered locally, and a feature absent from a fresh set is a definite "no".
//! - A fresh hit takes one lock-free map lookup ([`papaya`], chosen by the benchmark in
//!   `bench/`), a coarse clock read and a binary search: no request, no allocation, no lock a
//!   writer can hold.
//! - Concurrent misses for one customer share one request.
//! - Entries outlive their freshness so that, when the edge host fails (connection failure,
//!   time-out, 429, 5xx), the last known set is served and the failure logged; 400, 401, 403
//!   and 404 are never masked.
//! - A successful usage report updates the cached usage at once; a subscription update or
//!   cancel empties the cache (the service's answer does not say whose subscription it was).
//! - The number of customers is bounded: past it, the stalest of a few sampled entries goes.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::OnceCell;

use crate::entitlements::{index_grants, EntitlementSet, FeatureIndex};
use crate::error::{Error, Result};
use crate::types::Behaviour;

/// How the entitlement cache behaves.
///
/// | setting | default |
/// |---|---|
/// | `enabled` | yes |
/// | `ttl`: how long a fetched set is fresh | 60 s |
/// | `max_customers`: customers kept before eviction | 10 000 |
///
/// ```
/// use std::time::Duration;
///
/// let cache = kelviq::CacheConfig::default().ttl(Duration::from_secs(15)).max_customers(50_000);
/// let client = kelviq::Kelviq::builder("sk_test").entitlement_cache(cache).build()?;
/// let uncached = kelviq::Kelviq::builder("sk_test").entitlement_cache(kelviq::CacheConfig::disabled()).build()?;
/// # Ok::<(), kelviq::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheConfig {
    enabled: bool,
    ttl: Duration,
    max_customers: usize,
}

impl Default for CacheConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            ttl: Duration::from_secs(60),
            max_customers: 10_000,
        }
    }
}

impl CacheConfig {
    /// No cache: every entitlement call is a request.
    pub fn disabled() -> Self {
        Self {
            enabled: false,
            ..Self::default()
        }
    }

    /// How long a fetched set is answered from without a request.
    pub fn ttl(mut self, ttl: Duration) -> Self {
        self.ttl = ttl;
        self
    }

    /// How many customers' sets are kept; past it, the stalest of a sample is evicted.
    pub fn max_customers(mut self, max_customers: usize) -> Self {
        self.max_customers = max_customers.max(1);
        self
    }

    /// Whether the cache is on.
    pub fn is_enabled(&self) -> bool {
        self.enabled
    }
}

/// A customer's set and when it was fetched. The set's feature index sits here too, so
/// that `has_access` reads it without going through the set.
#[derive(Clone)]
struct Cached {
    fetched_at: coarsetime::Instant,
    index: FeatureIndex,
    set: Arc<EntitlementSet>,
}

impl Cached {
    fn new(fetched_at: coarsetime::Instant, set: Arc<EntitlementSet>) -> Self {
        Self {
            fetched_at,
            index: set.index().clone(),
            set,
        }
    }
}

type Flight = Arc<OnceCell<Result<Arc<EntitlementSet>>>>;

/// How many entries eviction looks at to find the stalest.
const EVICTION_SAMPLE: usize = 8;

pub(crate) struct EntitlementCache {
    /// Keys of up to 24 bytes sit inline: one pointer fewer to follow on a lookup.
    map: papaya::HashMap<compact_str::CompactString, Cached, foldhash::fast::RandomState>,
    inflight: Mutex<HashMap<Box<str>, Flight>>,
    ttl: coarsetime::Duration,
    max_customers: usize,
}

impl fmt::Debug for EntitlementCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EntitlementCache")
            .field("customers", &self.map.len())
            .field("ttl", &self.ttl)
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
            ttl: coarsetime::Duration::from(config.ttl),
            max_customers: config.max_customers,
        })
    }

    /// Whether the customer's fresh set grants `feature_id`, if there is a fresh set. The
    /// hot path: a lookup, a clock read and a binary search over inline names.
    #[inline]
    pub(crate) fn fresh_access(&self, customer_id: &str, feature_id: &str) -> Option<bool> {
        let map = self.map.pin();
        let cached = map.get(customer_id)?;
        if coarsetime::Instant::now_without_cache_update().duration_since(cached.fetched_at)
            < self.ttl
        {
            Some(index_grants(&cached.index, feature_id))
        } else {
            None
        }
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
        // CLOCK_MONOTONIC_COARSE: a few ns, millisecond resolution, plenty for a TTL.
        if coarsetime::Instant::now_without_cache_update().duration_since(cached.fetched_at)
            < self.ttl
        {
            Some(read(&cached.set))
        } else {
            None
        }
    }

    /// The customer's set, fresh or stale, if any.
    fn any(&self, customer_id: &str) -> Option<Arc<EntitlementSet>> {
        self.map.pin().get(customer_id).map(|c| c.set.clone())
    }

    /// The customer's set: fresh from the cache, or fetched by `fetch` (one request for all
    /// concurrent callers), or, when the fetch fails for a passing reason, the stale one.
    pub(crate) async fn get_or_fetch<F, Fut>(
        &self,
        customer_id: &str,
        fetch: F,
    ) -> Result<Arc<EntitlementSet>>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<EntitlementSet>>,
    {
        if let Some(set) = self.read_fresh(customer_id, Arc::clone) {
            return Ok(set);
        }
        let flight = {
            let mut inflight = self.inflight.lock().unwrap_or_else(|e| e.into_inner());
            inflight.entry(customer_id.into()).or_default().clone()
        };
        let result = flight
            .get_or_init(|| async {
                let result = fetch().await.map(Arc::new);
                if let Ok(set) = &result {
                    self.insert(customer_id, set.clone());
                }
                result
            })
            .await
            .clone();
        {
            let mut inflight = self.inflight.lock().unwrap_or_else(|e| e.into_inner());
            if inflight
                .get(customer_id)
                .is_some_and(|f| Arc::ptr_eq(f, &flight))
            {
                inflight.remove(customer_id);
            }
        }
        match result {
            Err(error) if masks_with_stale(&error) => match self.any(customer_id) {
                Some(stale) => {
                    tracing::warn!(customer_id, %error, "edge host failed; answering from the stale entitlement cache");
                    Ok(stale)
                }
                None => Err(error),
            },
            other => other,
        }
    }

    fn insert(&self, customer_id: &str, set: Arc<EntitlementSet>) {
        let map = self.map.pin();
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
        map.insert(
            customer_id.into(),
            Cached::new(coarsetime::Instant::now(), set),
        );
    }

    /// After a successful usage report: the cached usage moves as the service's did.
    pub(crate) fn apply_usage(
        &self,
        customer_id: &str,
        feature_id: &str,
        behaviour: Behaviour,
        value: i64,
    ) {
        let map = self.map.pin();
        // A concurrent fetch may replace the entry meanwhile; that set is newer anyway.
        if let Some(cached) = map.get(customer_id) {
            if let Some(updated) = cached.set.with_usage(feature_id, behaviour, value) {
                map.insert(
                    customer_id.into(),
                    Cached::new(cached.fetched_at, Arc::new(updated)),
                );
            }
        }
    }

    pub(crate) fn invalidate(&self, customer_id: &str) {
        self.map.pin().remove(customer_id);
    }

    pub(crate) fn clear(&self) {
        self.map.pin().clear();
    }
}

/// The failures a stale answer may stand in for: the edge host is unreachable or failing.
/// Never a 400, 401, 403 or 404: those say the question itself is wrong.
fn masks_with_stale(error: &Error) -> bool {
    matches!(
        error,
        Error::Connection { .. }
            | Error::Timeout { .. }
            | Error::Server { .. }
            | Error::RateLimited { .. }
    )
}
