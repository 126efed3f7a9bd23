//! A customer's entitlements as fetched, the access rule over them, and what entitlement
//! calls answer.

use std::ops::Range;
use std::sync::Arc;
use std::time::Duration;

use kelviq_gen::types as wire;

use super::FromWire;

use crate::types::{Behaviour, FeatureType};

/// Where an entitlement answer came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Freshness {
    /// Fetched from the edge host for this call, or cached and younger than the cache's
    /// `ttl`.
    Fresh,
    /// A cached set older than the cache's `ttl`: answered at once while a background
    /// refresh runs, or because the edge host is failing. `age` is how long ago it was
    /// fetched.
    Stale {
        /// How long ago the set was fetched.
        age: Duration,
    },
    /// Nothing usable was cached and the edge host could not answer: the configured
    /// [`FallbackPolicy`](crate::FallbackPolicy) decided.
    Fallback,
}

/// The answer to an access check, with where it came from; made by
/// the `check` of [`Client::entitlements`](crate::Client::entitlements).
///
/// ```
/// # async fn run(client: kelviq::Client) -> kelviq::Result<()> {
/// let access = client.entitlements().check("cust_123", "premium-reporting").send().await?;
/// if access.is_fallback() {
///     // the edge host is down and nothing was cached: decided by the fallback policy
/// }
/// if access.allowed {
///     // serve it
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Access {
    /// Whether the customer may use the feature.
    pub allowed: bool,
    /// Where the answer came from.
    pub freshness: Freshness,
}

impl Access {
    pub(crate) fn new(allowed: bool, freshness: Freshness) -> Self {
        Self { allowed, freshness }
    }

    /// Whether it was answered from a stale set.
    pub fn is_stale(&self) -> bool {
        matches!(self.freshness, Freshness::Stale { .. })
    }

    /// Whether the fallback policy decided it.
    pub fn is_fallback(&self) -> bool {
        self.freshness == Freshness::Fallback
    }
}

/// A customer's entries as fetched, sorted by feature so that one feature's entries sit
/// together, with an index of the features; shared between the cache and every answer made
/// from it.
#[derive(Debug, PartialEq)]
pub(crate) struct EntitlementSet {
    customer_id: String,
    index: FeatureIndex,
    entries: Box<[Entitlement]>,
}

/// One slot per feature, sorted by a hash of its name, with the access rule already
/// applied: what a cached `has_access` reads. A lookup compares 64-bit hashes and then one
/// name; names of up to 24 bytes sit inline, so it reads this array and nothing else.
pub(crate) type FeatureIndex = Arc<[FeatureSlot]>;

#[derive(Debug, PartialEq)]
pub(crate) struct FeatureSlot {
    hash: u64,
    feature_id: compact_str::CompactString,
    has_access: bool,
}

/// The hash the index is sorted by. Fixed, not random: the index is a sorted array, not a
/// hash table, so colliding names cost a comparison each, never a degenerate table.
#[inline]
fn feature_hash(feature_id: &str) -> u64 {
    use std::hash::BuildHasher;
    foldhash::fast::FixedState::with_seed(0x6b65_6c76_6971).hash_one(feature_id)
}

/// Whether the index grants `feature_id`; `false` when it has no entry. No allocation.
#[inline]
pub(crate) fn index_grants(index: &[FeatureSlot], feature_id: &str) -> bool {
    let hash = feature_hash(feature_id);
    let start = index.partition_point(|slot| slot.hash < hash);
    index[start..]
        .iter()
        .take_while(|slot| slot.hash == hash)
        .find(|slot| slot.feature_id == feature_id)
        .is_some_and(|slot| slot.has_access)
}

impl EntitlementSet {
    /// Sorts the entries and builds the index.
    fn new(customer_id: String, mut entries: Vec<Entitlement>) -> Self {
        entries.sort_by(|a, b| a.feature_id.cmp(&b.feature_id));
        let mut index = Vec::new();
        let mut start = 0;
        while start < entries.len() {
            let feature_id = &entries[start].feature_id;
            let len = entries[start..].partition_point(|e| &e.feature_id == feature_id);
            index.push(FeatureSlot {
                hash: feature_hash(feature_id),
                feature_id: feature_id.as_str().into(),
                has_access: Totals::of(&entries[start..start + len])
                    .is_some_and(|t| t.has_access()),
            });
            start += len;
        }
        index.sort_by_key(|slot| slot.hash);
        Self {
            customer_id,
            index: index.into(),
            entries: entries.into_boxed_slice(),
        }
    }

    pub(crate) fn index(&self) -> &FeatureIndex {
        &self.index
    }

    /// Where `feature_id`'s entries are (empty when it has none).
    fn range(&self, feature_id: &str) -> Range<usize> {
        let start = self
            .entries
            .partition_point(|e| e.feature_id.as_str() < feature_id);
        let len = self.entries[start..].partition_point(|e| e.feature_id == feature_id);
        start..start + len
    }

    /// This set after a usage report the service accepted: `SET` replaces each entry's
    /// usage, `DELTA` adds to it, and a hard meter at its limit loses access. `None` when
    /// the customer has no entry with usage for the feature.
    pub(crate) fn with_usage(
        &self,
        feature_id: &str,
        behaviour: Behaviour,
        value: i64,
    ) -> Option<Self> {
        let range = self.range(feature_id);
        if !self.entries[range.clone()]
            .iter()
            .any(|e| e.current_usage.is_some() || e.usage_limit.is_some())
        {
            return None;
        }
        let mut entries = self.entries.to_vec();
        for entry in &mut entries[range] {
            let usage = match behaviour {
                Behaviour::Set => value,
                Behaviour::Delta => entry.current_usage.unwrap_or(0).saturating_add(value),
            };
            entry.current_usage = Some(usage);
            if let Some(limit) = entry.usage_limit {
                let remaining = limit.saturating_sub(usage);
                entry.remaining = Some(remaining);
                if entry.hard_limit == Some(true) {
                    entry.has_access = remaining > 0;
                }
            }
        }
        Some(Self::new(self.customer_id.clone(), entries))
    }
}

impl From<wire::CustomerEntitlements> for EntitlementSet {
    fn from(response: wire::CustomerEntitlements) -> Self {
        let entries = response
            .entitlements
            .into_iter()
            .map(Entitlement::from_wire)
            .collect();
        Self::new(response.customer_id, entries)
    }
}

/// A customer's entitlements, as the service returns them: all of them, or one feature's.
///
/// Cheap to clone (it shares the fetched set, which the cache keeps too). Entries are
/// ordered by feature.
#[derive(Clone)]
pub struct CustomerEntitlements {
    set: Arc<EntitlementSet>,
    range: Range<usize>,
    freshness: Freshness,
}

impl std::fmt::Debug for CustomerEntitlements {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CustomerEntitlements")
            .field("customer_id", &self.customer_id())
            .field("entitlements", &self.entitlements())
            .field("freshness", &self.freshness)
            .finish()
    }
}

impl PartialEq for CustomerEntitlements {
    fn eq(&self, other: &Self) -> bool {
        self.customer_id() == other.customer_id() && self.entitlements() == other.entitlements()
    }
}

impl CustomerEntitlements {
    pub(crate) fn view(
        set: Arc<EntitlementSet>,
        feature_id: Option<&str>,
        freshness: Freshness,
    ) -> Self {
        let range = match feature_id {
            Some(feature_id) => set.range(feature_id),
            None => 0..set.entries.len(),
        };
        Self {
            set,
            range,
            freshness,
        }
    }

    /// Where the answer came from (fresh or stale; never a fallback).
    pub fn freshness(&self) -> Freshness {
        self.freshness
    }

    /// The customer.
    pub fn customer_id(&self) -> &str {
        &self.set.customer_id
    }

    /// The entries, ordered by feature; several may name one feature.
    pub fn entitlements(&self) -> &[Entitlement] {
        &self.set.entries[self.range.clone()]
    }

    /// The customer's entries for `feature_id` combined into one view, or `None` when the
    /// customer has no entry for it.
    ///
    /// ```
    /// use kelviq::model::CustomerEntitlements;
    ///
    /// let response = CustomerEntitlements::from_json(r#"{
    ///     "customerId": "cust_456",
    ///     "entitlements": [
    ///         {"featureId": "api-usage", "featureType": "METER", "hasAccess": true,
    ///          "hardLimit": true, "usageLimit": 100, "currentUsage": 60},
    ///         {"featureId": "api-usage", "featureType": "METER", "hasAccess": true,
    ///          "hardLimit": false, "usageLimit": 50, "currentUsage": 90}
    ///     ]
    /// }"#).unwrap();
    /// let meter = response.feature("api-usage").unwrap();
    /// assert_eq!((meter.usage_limit, meter.current_usage, meter.remaining), (Some(150), Some(150), Some(0)));
    /// assert!(meter.hard_limit && !meter.has_access);
    /// assert!(response.feature("seats").is_none());
    /// ```
    pub fn feature(&self, feature_id: &str) -> Option<FeatureEntitlement> {
        let entries = self.feature_entries(feature_id);
        let totals = Totals::of(entries)?;
        Some(FeatureEntitlement {
            feature_id: feature_id.to_owned(),
            feature_type: entries.iter().find_map(|e| e.feature_type.clone()),
            has_access: totals.has_access(),
            hard_limit: totals.hard,
            usage_limit: totals.usage_limit,
            current_usage: totals.current_usage,
            remaining: totals.remaining(),
            reset_at: entries.iter().filter_map(|e| e.reset_at.clone()).min(),
            entries: entries.len(),
        })
    }

    /// Whether the customer may use `feature_id`; `false` when it has no entry.
    pub fn has_access(&self, feature_id: &str) -> bool {
        Totals::of(self.feature_entries(feature_id)).is_some_and(|t| t.has_access())
    }

    fn feature_entries(&self, feature_id: &str) -> &[Entitlement] {
        let all = self.set.range(feature_id);
        let start = all.start.max(self.range.start);
        let end = all.end.min(self.range.end);
        &self.set.entries[start..end.max(start)]
    }
}

impl CustomerEntitlements {
    /// Reads an entitlements answer as the edge host sends it (`{"customerId": …,
    /// "entitlements": […]}`), for example from a fixture or a log.
    pub fn from_json(json: &str) -> Result<Self, serde_json::Error> {
        let response: wire::CustomerEntitlements = serde_json::from_str(json)?;
        Ok(Self::view(
            Arc::new(EntitlementSet::from(response)),
            None,
            Freshness::Fresh,
        ))
    }
}

/// One entitlement entry.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Entitlement {
    /// The feature.
    pub feature_id: String,
    /// Whether this entry grants access.
    pub has_access: bool,
    /// The feature's type; a type this SDK does not know is kept as
    /// [`FeatureType::Other`].
    pub feature_type: Option<FeatureType>,
    /// When a meter's usage resets, as the service writes it (`2025-05-22 08:27:45`).
    pub reset_at: Option<String>,
    /// Whether a meter's limit is hard.
    pub hard_limit: Option<bool>,
    /// A meter's usage limit.
    pub usage_limit: Option<i64>,
    /// A meter's usage in the current period.
    pub current_usage: Option<i64>,
    /// The usage left before the limit.
    pub remaining: Option<i64>,
}

/// One feature's entries combined by the access rule of the
/// [model docs](crate::model#access-when-a-customer-holds-several-entries-for-one-feature).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct FeatureEntitlement {
    /// The feature.
    pub feature_id: String,
    /// The type of the first entry that names one.
    pub feature_type: Option<FeatureType>,
    /// Whether the customer may use the feature.
    pub has_access: bool,
    /// Whether any entry's limit is hard.
    pub hard_limit: bool,
    /// The summed usage limits, when any entry has one.
    pub usage_limit: Option<i64>,
    /// The summed usages, when any entry has one.
    pub current_usage: Option<i64>,
    /// Limit − usage when both are known; otherwise the summed `remaining` of the entries
    /// that have one.
    pub remaining: Option<i64>,
    /// The earliest reset time of the entries.
    pub reset_at: Option<String>,
    /// How many entries were combined.
    pub entries: usize,
}

/// The access rule over one feature's entries, computed in one pass without allocating.
#[derive(Debug, Clone, Copy)]
struct Totals {
    meter: bool,
    any_access: bool,
    hard: bool,
    usage_limit: Option<i64>,
    current_usage: Option<i64>,
    remaining_sum: Option<i64>,
}

impl Totals {
    fn of(entries: &[Entitlement]) -> Option<Self> {
        fn add(total: Option<i64>, value: Option<i64>) -> Option<i64> {
            match (total, value) {
                (Some(t), Some(v)) => Some(t.saturating_add(v)),
                (t, v) => t.or(v),
            }
        }
        if entries.is_empty() {
            return None;
        }
        let mut totals = Totals {
            meter: entries.iter().find_map(|e| e.feature_type.as_ref())
                == Some(&FeatureType::Meter),
            any_access: false,
            hard: false,
            usage_limit: None,
            current_usage: None,
            remaining_sum: None,
        };
        for entry in entries {
            totals.any_access |= entry.has_access;
            totals.hard |= entry.hard_limit.unwrap_or(false);
            totals.usage_limit = add(totals.usage_limit, entry.usage_limit);
            totals.current_usage = add(totals.current_usage, entry.current_usage);
            totals.remaining_sum = add(totals.remaining_sum, entry.remaining);
        }
        Some(totals)
    }

    fn remaining(&self) -> Option<i64> {
        match (self.usage_limit, self.current_usage) {
            (Some(limit), Some(usage)) => Some(limit.saturating_sub(usage)),
            _ => self.remaining_sum,
        }
    }

    fn has_access(&self) -> bool {
        let exhausted = self.meter && self.hard && self.remaining().is_some_and(|r| r <= 0);
        self.any_access && !exhausted
    }
}

impl FromWire<wire::Entitlement> for Entitlement {
    fn from_wire(entry: wire::Entitlement) -> Self {
        Self {
            feature_id: entry.feature_id,
            has_access: entry.has_access,
            feature_type: entry.feature_type.as_deref().map(FeatureType::from),
            reset_at: entry.reset_at,
            hard_limit: entry.hard_limit,
            usage_limit: entry.usage_limit,
            current_usage: entry.current_usage,
            remaining: entry.remaining,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(
        has_access: bool,
        kind: &str,
        hard: Option<bool>,
        limit: Option<i64>,
        usage: Option<i64>,
    ) -> Entitlement {
        Entitlement {
            feature_id: "f".into(),
            has_access,
            feature_type: Some(FeatureType::from(kind)),
            reset_at: None,
            hard_limit: hard,
            usage_limit: limit,
            current_usage: usage,
            remaining: None,
        }
    }

    fn set(entries: Vec<Entitlement>) -> CustomerEntitlements {
        CustomerEntitlements::view(
            Arc::new(EntitlementSet::new("c".into(), entries)),
            None,
            Freshness::Fresh,
        )
    }

    fn access(entries: Vec<Entitlement>) -> bool {
        let set = set(entries);
        let answer = set.has_access("f");
        assert_eq!(answer, set.feature("f").is_some_and(|f| f.has_access));
        assert_eq!(answer, index_grants(set.set.index(), "f"));
        answer
    }

    #[test]
    fn no_entry_means_no_access() {
        assert!(!access(vec![]));
    }

    #[test]
    fn a_hard_meter_at_its_limit_denies_even_when_the_service_says_yes() {
        assert!(!access(vec![entry(
            true,
            "METER",
            Some(true),
            Some(3),
            Some(3)
        )]));
        assert!(access(vec![entry(
            true,
            "METER",
            Some(true),
            Some(3),
            Some(2)
        )]));
    }

    #[test]
    fn a_soft_meter_over_its_limit_keeps_the_services_answer() {
        assert!(access(vec![entry(
            true,
            "METER",
            Some(false),
            Some(3),
            Some(5)
        )]));
        assert!(!access(vec![entry(
            false,
            "METER",
            Some(false),
            Some(3),
            Some(1)
        )]));
    }

    #[test]
    fn several_meter_entries_are_summed() {
        let entries = vec![
            entry(true, "METER", Some(true), Some(10), Some(10)),
            entry(false, "METER", Some(false), Some(5), Some(2)),
        ];
        // 15 − 12 = 3 left, and one entry grants access.
        assert!(access(entries));
    }

    #[test]
    fn boolean_and_unknown_types_grant_when_any_entry_does() {
        assert!(access(vec![
            entry(false, "BOOLEAN", None, None, None),
            entry(true, "BOOLEAN", None, None, None)
        ]));
        assert!(!access(vec![entry(
            false,
            "CUSTOMIZABLE",
            None,
            None,
            None
        )]));
        assert!(access(vec![entry(
            true,
            "TIERED",
            Some(true),
            Some(1),
            Some(1)
        )]));
    }

    #[test]
    fn unknown_limits_leave_remaining_unknown() {
        let view = set(vec![entry(true, "METER", Some(true), None, Some(3))])
            .feature("f")
            .unwrap();
        assert_eq!(view.remaining, None);
        assert!(view.has_access);
    }
}
