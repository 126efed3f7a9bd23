//! What the emulator remembers, and the service's behaviour over it: customers, checkouts,
//! subscriptions, usage and events, kept consistent across calls.
//!
//! Nothing here knows about HTTP: the handlers turn requests into these calls and their
//! results into answers, and the control surface and [`MockServer`](crate::MockServer)
//! call them directly.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Utc};
use kelviq_gen::types as wire;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use crate::catalogue::{Catalogue, FeatureKind};
use crate::error::ApiError;
use crate::faults::Fault;

/// The organisation every record of the emulator belongs to.
pub const ORG_ID: &str = "1";

/// Everything the emulator holds.
#[derive(Debug, Default)]
pub struct Store {
    /// The plans that can be bought.
    pub catalogue: Catalogue,
    customers: HashMap<String, wire::Customer>,
    checkouts: HashMap<String, Checkout>,
    subscriptions: HashMap<String, Subscription>,
    usage: HashMap<(String, String), Usage>,
    events: HashMap<String, wire::EventReport>,
    /// Direct grants by customer.
    grants: HashMap<String, Vec<Grant>>,
    /// Every API request received, oldest first.
    pub log: Vec<LoggedRequest>,
    /// Faults waiting to be injected.
    pub faults: Vec<Fault>,
}

#[derive(Debug, Clone)]
struct Checkout {
    customer_id: String,
    plan_identifier: String,
    charge_period: String,
    quantities: HashMap<String, i64>,
    subscription_id: Option<String>,
}

#[derive(Debug, Clone)]
struct Subscription {
    customer_id: String,
    plan_identifier: String,
    charge_period: String,
    quantities: HashMap<String, i64>,
    /// When set, the subscription grants nothing from this moment on.
    ends_at: Option<DateTime<Utc>>,
}

/// A meter's usage in one calendar month (UTC); a new month starts from zero.
#[derive(Debug, Clone, Copy)]
struct Usage {
    month: (i32, u32),
    value: i64,
}

/// An entitlement granted directly through the control surface, outside any plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Grant {
    /// The customer.
    pub customer_id: String,
    /// The feature.
    pub feature_id: String,
    /// `BOOLEAN`, `METER` or `CUSTOMIZABLE`.
    pub feature_type: FeatureKind,
    /// A meter's limit, or a customizable feature's quantity.
    #[serde(default)]
    pub usage_limit: Option<i64>,
    /// Whether a meter's limit is hard.
    #[serde(default)]
    pub hard_limit: Option<bool>,
}

/// One API request as it arrived.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LoggedRequest {
    /// `GET`, `POST`, …
    pub method: String,
    /// The path exactly as sent, percent-encoding included.
    pub path: String,
    /// The raw query string, if any.
    pub query: Option<String>,
    /// The request's headers, names in lower case.
    pub headers: BTreeMap<String, String>,
    /// The body: JSON when it parsed, a string otherwise, null when empty.
    pub body: Value,
    /// The operation of the document this request is for, when it is one.
    pub operation: Option<String>,
    /// The answer the emulator gave, once given (none for a dropped connection).
    pub response: Option<LoggedResponse>,
}

/// The answer to a logged request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LoggedResponse {
    /// The status.
    pub status: u16,
    /// The body: JSON when it parsed, a string otherwise, null when empty.
    pub body: Value,
}

/// What completing a checkout produced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CompletedCheckout {
    /// The new subscription.
    pub subscription_id: String,
    /// The customer who bought it.
    pub customer_id: String,
    /// The plan bought.
    pub plan_identifier: String,
}

fn now() -> DateTime<Utc> {
    Utc::now()
}

fn month(at: DateTime<Utc>) -> (i32, u32) {
    (at.year(), at.month())
}

/// When meters reset (the end of the period), written as the service writes `resetAt`.
fn next_reset(at: DateTime<Utc>) -> String {
    period_end(at).format("%Y-%m-%d %H:%M:%S").to_string()
}

fn timestamp(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M:%S%.6f").to_string()
}

fn charge_period_text(period: wire::ChargePeriod) -> String {
    period.to_string()
}

impl Store {
    /// A store selling `catalogue`, holding nothing else.
    pub fn new(catalogue: Catalogue) -> Self {
        Self {
            catalogue,
            ..Self::default()
        }
    }

    /// Forgets every customer, checkout, subscription, usage, event, grant, logged request
    /// and fault; keeps the catalogue.
    pub fn reset(&mut self) {
        *self = Self::new(std::mem::take(&mut self.catalogue));
    }

    // ---- customers ----

    /// `POST /api/v1/customers/`
    pub fn create_customer(
        &mut self,
        request: wire::CreateCustomerRequest,
    ) -> Result<wire::Customer, ApiError> {
        let customer_id = request.customer_id.to_string();
        if self.customers.contains_key(&customer_id) {
            return Err(ApiError::field(
                "customer_id",
                "A customer with this customer_id already exists.",
            ));
        }
        if let Some(email) = &request.email {
            check_email(email)?;
        }
        let at = now();
        let customer = wire::Customer {
            id: uuid::Uuid::new_v4(),
            customer_id: customer_id.clone(),
            name: request.name,
            email: request.email,
            details: Map::new(),
            metadata: metadata(request.metadata),
            created_on: at,
            modified_on: at,
        };
        self.customers.insert(customer_id, customer.clone());
        Ok(customer)
    }

    /// `PATCH /api/v1/customers/{customerId}/`
    pub fn update_customer(
        &mut self,
        customer_id: &str,
        request: wire::UpdateCustomerRequest,
    ) -> Result<wire::Customer, ApiError> {
        if request.name.is_none() && request.email.is_none() && request.metadata.is_none() {
            return Err(ApiError::field(
                "body",
                "At least one of name, email or metadata is required.",
            ));
        }
        if let Some(email) = &request.email {
            check_email(email)?;
        }
        let customer = self.customers.get_mut(customer_id).ok_or_else(|| {
            ApiError::not_found(format!("No customer with customer_id {customer_id:?}."))
        })?;
        if let Some(name) = request.name {
            customer.name = Some(name);
        }
        if let Some(email) = request.email {
            customer.email = Some(email);
        }
        if request.metadata.is_some() {
            customer.metadata = metadata(request.metadata);
        }
        customer.modified_on = now().max(customer.modified_on + chrono::Duration::microseconds(1));
        Ok(customer.clone())
    }

    fn ensure_customer(&mut self, customer_id: &str) {
        if !self.customers.contains_key(customer_id) {
            let at = now();
            self.customers.insert(
                customer_id.to_owned(),
                wire::Customer {
                    id: uuid::Uuid::new_v4(),
                    customer_id: customer_id.to_owned(),
                    name: None,
                    email: None,
                    details: Map::new(),
                    metadata: Map::new(),
                    created_on: at,
                    modified_on: at,
                },
            );
        }
    }

    fn require_customer(&self, customer_id: &str) -> Result<(), ApiError> {
        if self.customers.contains_key(customer_id) {
            Ok(())
        } else {
            Err(ApiError::not_found(format!(
                "No customer with customer_id {customer_id:?}."
            )))
        }
    }

    // ---- checkout ----

    /// `POST /api/v1/checkout/`. `base_url` is where the emulator is reached, for the
    /// checkout URL.
    pub fn create_checkout(
        &mut self,
        request: wire::CreateCheckoutSessionRequest,
        base_url: &str,
    ) -> Result<wire::CheckoutSession, ApiError> {
        let plan_identifier = request.plan_identifier.to_string();
        let charge_period = charge_period_text(request.charge_period);
        self.check_plan(
            "planIdentifier",
            "chargePeriod",
            &plan_identifier,
            &charge_period,
        )?;
        let quantities = self.check_features("features", &plan_identifier, &request.features)?;
        let customer_id = match request.customer_id {
            Some(id) => id.to_string(),
            None => format!("cus_{}", uuid::Uuid::new_v4().simple()),
        };
        self.ensure_customer(&customer_id);
        let session_id = format!("cs_mock_{}", uuid::Uuid::new_v4().simple());
        self.checkouts.insert(
            session_id.clone(),
            Checkout {
                customer_id,
                plan_identifier,
                charge_period,
                quantities,
                subscription_id: None,
            },
        );
        Ok(wire::CheckoutSession {
            checkout_url: format!("{base_url}/_mock/checkout/{session_id}"),
            checkout_session_id: session_id,
        })
    }

    /// Completes a checkout as if the customer paid: the subscription starts and grants the
    /// plan's entitlements. Completing it again answers with the same subscription.
    pub fn complete_checkout(&mut self, session_id: &str) -> Result<CompletedCheckout, ApiError> {
        let checkout = self
            .checkouts
            .get_mut(session_id)
            .ok_or_else(|| ApiError::not_found(format!("No checkout session {session_id:?}.")))?;
        let subscription_id = match &checkout.subscription_id {
            Some(id) => id.clone(),
            None => {
                let id = uuid::Uuid::new_v4().to_string();
                checkout.subscription_id = Some(id.clone());
                let subscription = Subscription {
                    customer_id: checkout.customer_id.clone(),
                    plan_identifier: checkout.plan_identifier.clone(),
                    charge_period: checkout.charge_period.clone(),
                    quantities: checkout.quantities.clone(),
                    ends_at: None,
                };
                self.subscriptions.insert(id.clone(), subscription);
                id
            }
        };
        Ok(CompletedCheckout {
            subscription_id,
            customer_id: checkout.customer_id.clone(),
            plan_identifier: checkout.plan_identifier.clone(),
        })
    }

    fn check_plan(
        &self,
        plan_field: &str,
        period_field: &str,
        plan: &str,
        period: &str,
    ) -> Result<(), ApiError> {
        let found = self
            .catalogue
            .plan(plan)
            .ok_or_else(|| ApiError::field(plan_field, format!("No plan {plan:?}.")))?;
        if !found.charge_periods.iter().any(|p| p == period) {
            return Err(ApiError::field(
                period_field,
                format!(
                    "Plan {plan:?} is not sold {period}; it is sold {}.",
                    found.charge_periods.join(", ")
                ),
            ));
        }
        Ok(())
    }

    fn check_features(
        &self,
        field: &str,
        plan: &str,
        features: &[wire::FeatureQuantity],
    ) -> Result<HashMap<String, i64>, ApiError> {
        let plan = self.catalogue.plan(plan).expect("the plan was checked");
        let mut quantities = HashMap::new();
        for feature in features {
            let identifier = feature.identifier.to_string();
            match plan.features.iter().find(|f| f.identifier == identifier) {
                Some(f) if f.feature_type == FeatureKind::Customizable => {
                    quantities.insert(
                        identifier,
                        i64::try_from(feature.quantity.get()).unwrap_or(i64::MAX),
                    );
                }
                Some(_) => {
                    return Err(ApiError::field(
                        field,
                        format!("Feature {identifier:?} has no quantity to choose."),
                    ))
                }
                None => {
                    return Err(ApiError::field(
                        field,
                        format!("Plan {:?} has no feature {identifier:?}.", plan.identifier),
                    ))
                }
            }
        }
        Ok(quantities)
    }

    // ---- entitlements ----

    /// `GET /api/v1/entitlements`: one entry per active subscription granting a feature,
    /// plus direct grants.
    pub fn entitlements(
        &self,
        customer_id: &str,
        feature_id: Option<&str>,
    ) -> Result<wire::CustomerEntitlements, ApiError> {
        self.require_customer(customer_id)?;
        let at = now();
        let mut entries = Vec::new();
        let mut subscriptions: Vec<_> = self
            .subscriptions
            .iter()
            .filter(|(_, s)| s.customer_id == customer_id && s.ends_at.is_none_or(|end| end > at))
            .collect();
        subscriptions.sort_by(|a, b| a.0.cmp(b.0));
        for (_, subscription) in subscriptions {
            let Some(plan) = self.catalogue.plan(&subscription.plan_identifier) else {
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
        let usage = self.usage_value(customer_id, feature_id, at);
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

    /// Grants `grant` directly, outside any plan.
    pub fn grant(&mut self, grant: Grant) {
        self.ensure_customer(&grant.customer_id);
        self.grants
            .entry(grant.customer_id.clone())
            .or_default()
            .push(grant);
    }

    // ---- usage and events ----

    fn usage_value(&self, customer_id: &str, feature_id: &str, at: DateTime<Utc>) -> i64 {
        self.usage
            .get(&(customer_id.to_owned(), feature_id.to_owned()))
            .filter(|u| u.month == month(at))
            .map_or(0, |u| u.value)
    }

    fn add_usage(&mut self, customer_id: &str, feature_id: &str, set: Option<i64>, delta: i64) {
        let at = now();
        let current = self.usage_value(customer_id, feature_id, at);
        let value = set.unwrap_or(current).saturating_add(delta);
        self.usage.insert(
            (customer_id.to_owned(), feature_id.to_owned()),
            Usage {
                month: month(at),
                value,
            },
        );
    }

    /// Each feature's usage this month for `customer_id`.
    pub fn usage_of(&self, customer_id: &str) -> BTreeMap<String, i64> {
        let at = now();
        self.usage
            .iter()
            .filter(|((c, _), u)| c == customer_id && u.month == month(at))
            .map(|((_, f), u)| (f.clone(), u.value))
            .collect()
    }

    /// `POST /api/v1/report/usage/`: `SET` replaces, `DELTA` adds.
    pub fn report_usage(
        &mut self,
        request: wire::ReportUsageRequest,
    ) -> Result<wire::UsageReport, ApiError> {
        let customer_id = request.customer_id.to_string();
        let feature_id = request.feature_id.to_string();
        self.require_customer(&customer_id)?;
        let granted = self
            .grants
            .get(&customer_id)
            .is_some_and(|grants| grants.iter().any(|g| g.feature_id == feature_id));
        if self.catalogue.feature(&feature_id).is_none() && !granted {
            return Err(ApiError::not_found(format!("No feature {feature_id:?}.")));
        }
        match request.behaviour {
            wire::Behaviour::Set => {
                self.add_usage(&customer_id, &feature_id, Some(request.value), 0)
            }
            wire::Behaviour::Delta => {
                self.add_usage(&customer_id, &feature_id, None, request.value)
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
        request: wire::ReportEventRequest,
    ) -> Result<wire::EventReport, ApiError> {
        let customer_id = request.customer_id.to_string();
        self.require_customer(&customer_id)?;
        let key = request.idempotency_key.to_string();
        if let Some(seen) = self.events.get(&key) {
            return Ok(seen.clone());
        }
        let properties = request.properties.map(|p| p.0);
        if let Some(props) = &properties {
            let feature = props.get("featureId").and_then(Value::as_str);
            let value = props.get("value").and_then(Value::as_i64);
            if let (Some(feature), Some(value)) = (feature, value) {
                if self
                    .catalogue
                    .feature(feature)
                    .is_some_and(|f| f.feature_type == FeatureKind::Meter)
                {
                    self.add_usage(&customer_id, feature, None, value);
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
        self.events.insert(key, report.clone());
        Ok(report)
    }

    // ---- subscriptions ----

    fn subscription_mut(&mut self, subscription_id: &str) -> Result<&mut Subscription, ApiError> {
        self.subscriptions
            .get_mut(subscription_id)
            .ok_or_else(|| ApiError::not_found(format!("No subscription {subscription_id:?}.")))
    }

    /// `POST /api/v1/subscriptions/{id}/update/`: moves the subscription to the new plan,
    /// and so the customer to its entitlements.
    pub fn update_subscription(
        &mut self,
        subscription_id: &str,
        request: wire::UpdateSubscriptionRequest,
    ) -> Result<wire::SubscriptionUpdated, ApiError> {
        let plan = request.plan_identifier.to_string();
        let period = charge_period_text(request.charge_period);
        let subscription = self.subscription_mut(subscription_id)?;
        if subscription.ends_at.is_some_and(|end| end <= now()) {
            return Err(ApiError::field(
                "subscriptionId",
                "The subscription has ended.",
            ));
        }
        self.check_plan("plan_identifier", "charge_period", &plan, &period)?;
        let quantities = self.check_features("features", &plan, &request.features)?;
        let subscription = self.subscription_mut(subscription_id)?;
        subscription.plan_identifier = plan;
        subscription.charge_period = period;
        subscription.quantities = quantities;
        Ok(wire::SubscriptionUpdated {
            subscription_id: subscription_id
                .parse()
                .map_err(|_| ApiError::not_found("No such subscription."))?,
        })
    }

    /// `POST /api/v1/subscriptions/{id}/cancel/`: `IMMEDIATE` ends it now;
    /// `CURRENT_PERIOD_ENDS` at the end of the period; `SPECIFIC_DATE` on the date.
    pub fn cancel_subscription(
        &mut self,
        subscription_id: &str,
        request: wire::CancelSubscriptionRequest,
    ) -> Result<wire::SubscriptionCancelled, ApiError> {
        let at = now();
        let ends_at = match (request.cancellation_type, request.cancellation_date) {
            (wire::CancellationType::SpecificDate, None) => {
                return Err(ApiError::field(
                    "cancellation_date",
                    "Required with SPECIFIC_DATE.",
                ))
            }
            (wire::CancellationType::SpecificDate, Some(date)) => {
                if date <= at.date_naive() {
                    return Err(ApiError::field(
                        "cancellation_date",
                        "Must be a future date.",
                    ));
                }
                start_of(date)
            }
            (_, Some(_)) => {
                return Err(ApiError::field(
                    "cancellation_date",
                    "Only allowed with SPECIFIC_DATE.",
                ))
            }
            (wire::CancellationType::Immediate, None) => at,
            (wire::CancellationType::CurrentPeriodEnds, None) => period_end(at),
        };
        let subscription = self.subscription_mut(subscription_id)?;
        if subscription.ends_at.is_some_and(|end| end <= at) {
            return Err(ApiError::field(
                "subscriptionId",
                "The subscription is already cancelled.",
            ));
        }
        subscription.ends_at = Some(ends_at);
        let message = match request.cancellation_type {
            wire::CancellationType::Immediate => {
                "Subscription cancellation processed successfully.".to_owned()
            }
            _ => format!(
                "Subscription cancellation scheduled for {}.",
                ends_at.format("%Y-%m-%d")
            ),
        };
        Ok(wire::SubscriptionCancelled { message })
    }

    /// Subscription ids of a customer, for the control surface.
    pub fn subscriptions_of(&self, customer_id: &str) -> Vec<Value> {
        let mut found: Vec<Value> = self
            .subscriptions
            .iter()
            .filter(|(_, s)| s.customer_id == customer_id)
            .map(|(id, s)| {
                json!({
                    "id": id,
                    "planIdentifier": s.plan_identifier,
                    "chargePeriod": s.charge_period,
                    "endsAt": s.ends_at.map(|e| e.to_rfc3339()),
                })
            })
            .collect();
        found.sort_by(|a, b| a["id"].as_str().cmp(&b["id"].as_str()));
        found
    }
}

fn start_of(date: NaiveDate) -> DateTime<Utc> {
    Utc.from_utc_datetime(&date.and_hms_opt(0, 0, 0).expect("midnight exists"))
}

/// The end of the current billing period: the emulator's periods are calendar months (UTC).
fn period_end(at: DateTime<Utc>) -> DateTime<Utc> {
    let (year, month) = if at.month() == 12 {
        (at.year() + 1, 1)
    } else {
        (at.year(), at.month() + 1)
    };
    Utc.with_ymd_and_hms(year, month, 1, 0, 0, 0)
        .single()
        .unwrap_or(at)
}

fn metadata(metadata: Option<wire::Metadata>) -> Map<String, Value> {
    metadata
        .map(|m| {
            m.0.into_iter()
                .map(|(k, v)| (k, Value::String(v)))
                .collect()
        })
        .unwrap_or_default()
}

fn check_email(email: &str) -> Result<(), ApiError> {
    let valid = match email.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !email.chars().any(char::is_whitespace)
                && !domain.contains('@')
        }
        None => false,
    };
    if valid {
        Ok(())
    } else {
        Err(ApiError::field("email", "Enter a valid email address."))
    }
}
