//! Entitlements: what a customer may use. Answered by the edge host.
//!
//! ```no_run
//! # async fn run(client: kelviq::Client) -> kelviq::Result<()> {
//! let allowed = client.entitlements().has_access("cust_123", "premium-reporting").send().await?;
//!
//! let response = client.entitlements().get_entitlement("cust_456", "advanced-analytics").send().await?;
//! if let Some(meter) = response.feature("advanced-analytics") {
//!     println!("{:?} used of {:?}", meter.current_usage, meter.usage_limit);
//! }
//!
//! let all = client.entitlements().get_all_entitlements("cust_456").send().await?;
//! for entry in &all.entitlements {
//!     println!("{}: {}", entry.feature_id, entry.has_access);
//! }
//! # Ok(()) }
//! ```
//!
//! # Access when a customer holds several entries for one feature
//!
//! A customer with several subscriptions can hold several entries for one feature.
//! [`has_access`](Entitlements::has_access) and [`CustomerEntitlements::feature`] combine
//! them by one rule, chosen to agree with the service's own `hasAccess`:
//!
//! - no entry for the feature: no access;
//! - `METER`: limits and usages are summed over the entries that have them (unknown when none
//!   has); `remaining` is limit − usage when both are known; the meter is hard when any entry
//!   is; access when any entry grants it, except that a hard meter with `remaining` ≤ 0 has
//!   none;
//! - `BOOLEAN`, `CUSTOMIZABLE` and types this SDK does not know: access when any entry grants it.
//!
//! The official Python client (2.9) differs: for `METER` it ignores the service's
//! `hasAccess` and grants access exactly when `remaining` is unknown or above 0, so a
//! soft-limited meter at its limit reads as denied there and as granted here (a soft limit
//! is meant to be exceeded). Version 1.0.0 of that client had yet another rule.

use kelviq_gen::types as wire;

use crate::client::{send_impls, Async, Ctx};
use crate::error::Result;
use crate::transport::Idempotency;
use crate::types::FeatureType;
use crate::validate;

/// The entitlement operations, from [`Client::entitlements`](crate::Client::entitlements).
#[derive(Debug, Clone, Copy)]
pub struct Entitlements<'a, M = Async> {
    ctx: Ctx<'a, M>,
}

impl<'a, M: Copy> Entitlements<'a, M> {
    pub(crate) fn new(ctx: Ctx<'a, M>) -> Self {
        Self { ctx }
    }

    /// Whether the customer may use the feature, by the rule in the
    /// [module docs](crate::entitlements#access-when-a-customer-holds-several-entries-for-one-feature).
    /// A feature the customer has no entry for is `false`, not an error.
    pub fn has_access(
        &self,
        customer_id: impl Into<String>,
        feature_id: impl Into<String>,
    ) -> HasAccess<'a, M> {
        HasAccess {
            ctx: self.ctx,
            customer_id: customer_id.into(),
            feature_id: feature_id.into(),
        }
    }

    /// The customer's entries for one feature, as the service returns them.
    pub fn get_entitlement(
        &self,
        customer_id: impl Into<String>,
        feature_id: impl Into<String>,
    ) -> GetEntitlement<'a, M> {
        GetEntitlement {
            ctx: self.ctx,
            customer_id: customer_id.into(),
            feature_id: feature_id.into(),
        }
    }

    /// All of the customer's entitlements.
    pub fn get_all_entitlements(
        &self,
        customer_id: impl Into<String>,
    ) -> GetAllEntitlements<'a, M> {
        GetAllEntitlements {
            ctx: self.ctx,
            customer_id: customer_id.into(),
        }
    }
}

/// Asks whether a customer may use a feature; made by [`Entitlements::has_access`].
#[derive(Debug, Clone)]
#[must_use = "a request does nothing until `send` is called"]
pub struct HasAccess<'a, M = Async> {
    ctx: Ctx<'a, M>,
    customer_id: String,
    feature_id: String,
}

impl<M> HasAccess<'_, M> {
    async fn execute(self) -> Result<bool> {
        let response = fetch(self.ctx.client, &self.customer_id, Some(&self.feature_id)).await?;
        Ok(response.has_access(&self.feature_id))
    }
}

send_impls!(HasAccess => bool);

/// Reads a customer's entries for one feature; made by [`Entitlements::get_entitlement`].
#[derive(Debug, Clone)]
#[must_use = "a request does nothing until `send` is called"]
pub struct GetEntitlement<'a, M = Async> {
    ctx: Ctx<'a, M>,
    customer_id: String,
    feature_id: String,
}

impl<M> GetEntitlement<'_, M> {
    async fn execute(self) -> Result<CustomerEntitlements> {
        fetch(self.ctx.client, &self.customer_id, Some(&self.feature_id)).await
    }
}

send_impls!(GetEntitlement => CustomerEntitlements);

/// Reads all of a customer's entitlements; made by [`Entitlements::get_all_entitlements`].
#[derive(Debug, Clone)]
#[must_use = "a request does nothing until `send` is called"]
pub struct GetAllEntitlements<'a, M = Async> {
    ctx: Ctx<'a, M>,
    customer_id: String,
}

impl<M> GetAllEntitlements<'_, M> {
    async fn execute(self) -> Result<CustomerEntitlements> {
        fetch(self.ctx.client, &self.customer_id, None).await
    }
}

send_impls!(GetAllEntitlements => CustomerEntitlements);

async fn fetch(
    client: &crate::Client,
    customer_id: &str,
    feature_id: Option<&str>,
) -> Result<CustomerEntitlements> {
    let customer_id: wire::GetEntitlementsCustomerId =
        validate::identifier("customer_id", customer_id)?;
    let feature_id: Option<wire::GetEntitlementsFeatureId> = feature_id
        .map(|id| validate::identifier("feature_id", id))
        .transpose()?;
    let mut request = client.edge().get_entitlements().customer_id(customer_id);
    if let Some(feature_id) = feature_id {
        request = request.feature_id(feature_id);
    }
    let response = client
        .call("entitlements.get", Idempotency::Safe, request.send())
        .await?;
    Ok(CustomerEntitlements::from(response))
}

/// A customer's entitlements, as the service returns them.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct CustomerEntitlements {
    /// The customer.
    pub customer_id: String,
    /// The entries; several may name one feature.
    pub entitlements: Vec<Entitlement>,
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
/// [module docs](crate::entitlements#access-when-a-customer-holds-several-entries-for-one-feature).
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

impl CustomerEntitlements {
    /// The customer's entries for `feature_id` combined into one view, or `None` when the
    /// customer has no entry for it.
    ///
    /// ```
    /// use kelviq::entitlements::{CustomerEntitlements, Entitlement};
    ///
    /// let response: CustomerEntitlements = serde_json::from_str::<kelviq_gen::types::CustomerEntitlements>(r#"{
    ///     "customerId": "cust_456",
    ///     "entitlements": [
    ///         {"featureId": "api-usage", "featureType": "METER", "hasAccess": true,
    ///          "hardLimit": true, "usageLimit": 100, "currentUsage": 60},
    ///         {"featureId": "api-usage", "featureType": "METER", "hasAccess": true,
    ///          "hardLimit": false, "usageLimit": 50, "currentUsage": 90}
    ///     ]
    /// }"#).unwrap().into();
    /// let meter = response.feature("api-usage").unwrap();
    /// assert_eq!((meter.usage_limit, meter.current_usage, meter.remaining), (Some(150), Some(150), Some(0)));
    /// assert!(meter.hard_limit && !meter.has_access);
    /// assert!(response.feature("seats").is_none());
    /// ```
    pub fn feature(&self, feature_id: &str) -> Option<FeatureEntitlement> {
        aggregate(
            feature_id,
            self.entitlements
                .iter()
                .filter(|e| e.feature_id == feature_id),
        )
    }

    /// Whether the customer may use `feature_id`; `false` when it has no entry.
    pub fn has_access(&self, feature_id: &str) -> bool {
        self.feature(feature_id).is_some_and(|f| f.has_access)
    }
}

fn aggregate<'e>(
    feature_id: &str,
    entries: impl Iterator<Item = &'e Entitlement>,
) -> Option<FeatureEntitlement> {
    fn add(total: Option<i64>, value: Option<i64>) -> Option<i64> {
        match (total, value) {
            (Some(t), Some(v)) => Some(t.saturating_add(v)),
            (t, v) => t.or(v),
        }
    }
    let mut combined: Option<FeatureEntitlement> = None;
    let mut any_access = false;
    for entry in entries {
        let view = combined.get_or_insert_with(|| FeatureEntitlement {
            feature_id: feature_id.to_owned(),
            feature_type: None,
            has_access: false,
            hard_limit: false,
            usage_limit: None,
            current_usage: None,
            remaining: None,
            reset_at: None,
            entries: 0,
        });
        view.entries += 1;
        any_access |= entry.has_access;
        if view.feature_type.is_none() {
            view.feature_type = entry.feature_type.clone();
        }
        view.hard_limit |= entry.hard_limit.unwrap_or(false);
        view.usage_limit = add(view.usage_limit, entry.usage_limit);
        view.current_usage = add(view.current_usage, entry.current_usage);
        view.remaining = add(view.remaining, entry.remaining);
        view.reset_at = match (view.reset_at.take(), &entry.reset_at) {
            (Some(a), Some(b)) => Some(a.min(b.clone())),
            (a, b) => a.or_else(|| b.clone()),
        };
    }
    let mut view = combined?;
    if let (Some(limit), Some(usage)) = (view.usage_limit, view.current_usage) {
        view.remaining = Some(limit.saturating_sub(usage));
    }
    let exhausted = view.feature_type == Some(FeatureType::Meter)
        && view.hard_limit
        && view.remaining.is_some_and(|r| r <= 0);
    view.has_access = any_access && !exhausted;
    Some(view)
}

impl From<wire::Entitlement> for Entitlement {
    fn from(entry: wire::Entitlement) -> Self {
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

impl From<wire::CustomerEntitlements> for CustomerEntitlements {
    fn from(response: wire::CustomerEntitlements) -> Self {
        Self {
            customer_id: response.customer_id,
            entitlements: response
                .entitlements
                .into_iter()
                .map(Entitlement::from)
                .collect(),
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

    fn access(entries: Vec<Entitlement>) -> bool {
        CustomerEntitlements {
            customer_id: "c".into(),
            entitlements: entries,
        }
        .has_access("f")
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
        let view = aggregate(
            "f",
            [entry(true, "METER", Some(true), None, Some(3))].iter(),
        )
        .unwrap();
        assert_eq!(view.remaining, None);
        assert!(view.has_access);
    }
}
