//! Entitlements: one entry per running subscription granting a feature, plus direct grants,
//! with the meter rule the service applies.

use chrono::{DateTime, Utc};
use kelviq_gen::types as wire;

use super::{next_reset, now, Tenant};
use crate::catalogue::{Catalogue, FeatureKind};
use crate::error::ApiError;

impl Tenant {
    /// `GET /api/v1/entitlements`
    pub fn entitlements(
        &self,
        catalogue: &Catalogue,
        customer_id: &str,
        feature_id: Option<&str>,
    ) -> Result<wire::CustomerEntitlements, ApiError> {
        self.customers.require(customer_id)?;
        let at = now();
        let mut entries = Vec::new();
        for subscription in self.running(customer_id, at) {
            let Some(plan) = catalogue.plan(&subscription.plan_identifier) else {
                continue;
            };
            for feature in &plan.features {
                let limit = match feature.feature_type {
                    FeatureKind::Meter => feature.usage_limit,
                    FeatureKind::Customizable => subscription
                        .quantities
                        .get(&feature.identifier)
                        .copied()
                        .or(feature.quantity),
                    FeatureKind::Boolean => None,
                };
                entries.push(self.entry(
                    customer_id,
                    &feature.identifier,
                    feature.feature_type,
                    limit,
                    feature.hard_limit,
                    at,
                ));
            }
        }
        for grant in self.grants.get(customer_id).into_iter().flatten() {
            entries.push(self.entry(
                customer_id,
                &grant.feature_id,
                grant.feature_type,
                grant.usage_limit,
                grant.hard_limit,
                at,
            ));
        }
        if let Some(feature_id) = feature_id {
            entries.retain(|e| e.feature_id == feature_id);
        }
        Ok(wire::CustomerEntitlements {
            customer_id: customer_id.to_owned(),
            entitlements: entries,
        })
    }

    fn entry(
        &self,
        customer_id: &str,
        feature_id: &str,
        kind: FeatureKind,
        limit: Option<i64>,
        hard_limit: Option<bool>,
        at: DateTime<Utc>,
    ) -> wire::Entitlement {
        let usage = self.usage.value(customer_id, feature_id, at);
        let mut entry = wire::Entitlement {
            feature_id: feature_id.to_owned(),
            feature_type: Some(kind.as_str().to_owned()),
            has_access: true,
            reset_at: None,
            hard_limit: None,
            usage_limit: None,
            current_usage: None,
            remaining: None,
        };
        match kind {
            FeatureKind::Boolean => {}
            FeatureKind::Meter => {
                let hard = hard_limit.unwrap_or(false);
                let remaining = limit.map(|l| l - usage);
                entry.reset_at = Some(next_reset(at));
                entry.hard_limit = Some(hard);
                entry.usage_limit = limit;
                entry.current_usage = Some(usage);
                entry.remaining = remaining;
                // A hard meter at or over its limit grants nothing; a soft one still does.
                entry.has_access = !(hard && remaining.is_some_and(|r| r <= 0));
            }
            FeatureKind::Customizable => {
                entry.usage_limit = limit;
                entry.current_usage = Some(usage);
                entry.remaining = limit.map(|l| l - usage);
                entry.has_access = limit.is_none_or(|l| l > 0);
            }
        }
        entry
    }

    /// Whether the customer holds `feature_id` by a plan of `catalogue` or a grant.
    pub(super) fn knows_feature(
        &self,
        catalogue: &Catalogue,
        customer_id: &str,
        feature_id: &str,
    ) -> bool {
        catalogue.feature(feature_id).is_some()
            || self
                .grants
                .get(customer_id)
                .is_some_and(|grants| grants.iter().any(|g| g.feature_id == feature_id))
    }
}
