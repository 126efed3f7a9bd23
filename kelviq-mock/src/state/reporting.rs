//! Usage and events: `SET` replaces a meter's usage, `DELTA` adds to it, per UTC month;
//! events count once per idempotency key, and one naming a metered feature adds to it.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use kelviq_gen::types as wire;
use serde_json::Value;

use super::{month, now, timestamp, Tenant, ORG_ID};
use crate::catalogue::{Catalogue, FeatureKind};
use crate::error::ApiError;

#[derive(Debug, Default)]
pub(super) struct Usage {
    meters: HashMap<(String, String), Meter>,
    events: HashMap<String, wire::EventReport>,
}

/// A meter's usage in one calendar month (UTC); a new month starts from zero.
#[derive(Debug, Clone, Copy)]
struct Meter {
    month: (i32, u32),
    value: i64,
}

impl Usage {
    pub(super) fn value(&self, customer_id: &str, feature_id: &str, at: DateTime<Utc>) -> i64 {
        self.meters
            .get(&(customer_id.to_owned(), feature_id.to_owned()))
            .filter(|u| u.month == month(at))
            .map_or(0, |u| u.value)
    }

    fn add(&mut self, customer_id: &str, feature_id: &str, set: Option<i64>, delta: i64) {
        let at = now();
        let current = self.value(customer_id, feature_id, at);
        let value = set.unwrap_or(current).saturating_add(delta);
        self.meters.insert(
            (customer_id.to_owned(), feature_id.to_owned()),
            Meter {
                month: month(at),
                value,
            },
        );
    }

    pub(super) fn of(&self, customer_id: &str, at: DateTime<Utc>) -> BTreeMap<String, i64> {
        self.meters
            .iter()
            .filter(|((c, _), u)| c == customer_id && u.month == month(at))
            .map(|((_, f), u)| (f.clone(), u.value))
            .collect()
    }
}

impl Tenant {
    /// `POST /api/v1/report/usage/`: `SET` replaces, `DELTA` adds.
    pub fn report_usage(
        &mut self,
        catalogue: &Catalogue,
        request: wire::ReportUsageRequest,
    ) -> Result<wire::UsageReport, ApiError> {
        let customer_id = request.customer_id.to_string();
        let feature_id = request.feature_id.to_string();
        self.customers.require(&customer_id)?;
        if !self.knows_feature(catalogue, &customer_id, &feature_id) {
            return Err(ApiError::not_found(format!("No feature {feature_id:?}.")));
        }
        match request.behaviour {
            wire::Behaviour::Set => {
                self.usage
                    .add(&customer_id, &feature_id, Some(request.value), 0)
            }
            wire::Behaviour::Delta => {
                self.usage
                    .add(&customer_id, &feature_id, None, request.value)
            }
        }
        Ok(wire::UsageReport {
            value: request.value,
            customer_id,
            feature_id,
            behaviour: request.behaviour.to_string(),
            org_id: ORG_ID.into(),
            event_name: "aggregated.usage".into(),
            idempotency_key: uuid::Uuid::new_v4().simple().to_string(),
            timestamp: timestamp(now()),
            resource_id: request.resource_id,
        })
    }

    /// `POST /api/v1/report/event/`: counted once per idempotency key; an event whose
    /// properties name a metered feature (`featureId`) and a number (`value`) adds to its
    /// usage.
    pub fn report_event(
        &mut self,
        catalogue: &Catalogue,
        request: wire::ReportEventRequest,
    ) -> Result<wire::EventReport, ApiError> {
        let customer_id = request.customer_id.to_string();
        self.customers.require(&customer_id)?;
        let key = request.idempotency_key.to_string();
        if let Some(seen) = self.usage.events.get(&key) {
            return Ok(seen.clone());
        }
        let properties = request.properties.map(|p| p.0);
        if let Some(props) = &properties {
            let feature = props.get("featureId").and_then(Value::as_str);
            let value = props.get("value").and_then(Value::as_i64);
            if let (Some(feature), Some(value)) = (feature, value) {
                if catalogue
                    .feature(feature)
                    .is_some_and(|f| f.feature_type == FeatureKind::Meter)
                {
                    self.usage.add(&customer_id, feature, None, value);
                }
            }
        }
        let report = wire::EventReport {
            customer_id,
            event_name: request.event_name.to_string(),
            idempotency_key: key.clone(),
            timestamp: request.timestamp.to_string(),
            properties,
            org_id: ORG_ID.into(),
            resource_id: request.resource_id,
        };
        self.usage.events.insert(key, report.clone());
        Ok(report)
    }
}
