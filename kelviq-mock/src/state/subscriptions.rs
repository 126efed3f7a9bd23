//! Subscriptions: started by a completed checkout, a direct create or a charge (one-time);
//! listed, read, previewed, moved to another plan, cancelled. Each grants its plan's
//! entitlements while it runs.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use kelviq_gen::types as wire;
use serde_json::{json, Value};

use super::{new_id, now, page_of, period_end, Tenant};
use crate::catalogue::{Catalogue, FeatureKind};
use crate::error::ApiError;

#[derive(Debug, Default)]
pub(super) struct Subscriptions {
    pub(super) records: HashMap<String, Sub>,
    created: u64,
}

/// One subscription or one-time purchase.
#[derive(Debug, Clone)]
pub(super) struct Sub {
    pub(super) id: String,
    pub(super) customer_id: String,
    pub(super) plan_identifier: String,
    pub(super) charge_period: String,
    pub(super) quantities: HashMap<String, i64>,
    one_time: bool,
    started: DateTime<Utc>,
    modified: DateTime<Utc>,
    /// When set, the subscription grants nothing from this moment on.
    pub(super) ends_at: Option<DateTime<Utc>>,
    canceled_at: Option<DateTime<Utc>>,
    feedback: Option<String>,
    comment: Option<String>,
    created: u64,
}

impl Sub {
    /// Whether it grants its plan at `at`.
    pub(super) fn active(&self, at: DateTime<Utc>) -> bool {
        self.ends_at.is_none_or(|end| end > at)
    }

    fn status(&self, at: DateTime<Utc>) -> &'static str {
        if self.active(at) {
            "active"
        } else {
            "canceled"
        }
    }
}

impl Tenant {
    /// Starts a subscription (or, for `ONE_TIME`, a one-time purchase): it grants the plan
    /// from now, issues the plan's license key, records an order and a payment method.
    pub(super) fn start_subscription(
        &mut self,
        catalogue: &Catalogue,
        customer_id: &str,
        plan_identifier: &str,
        charge_period: &str,
        quantities: HashMap<String, i64>,
        amount_units: Option<i64>,
    ) -> String {
        let at = now();
        let id = new_id();
        self.subscriptions.created += 1;
        let sub = Sub {
            id: id.clone(),
            customer_id: customer_id.to_owned(),
            plan_identifier: plan_identifier.to_owned(),
            charge_period: charge_period.to_owned(),
            quantities,
            one_time: charge_period == "ONE_TIME",
            started: at,
            modified: at,
            ends_at: None,
            canceled_at: None,
            feedback: None,
            comment: None,
            created: self.subscriptions.created,
        };
        self.subscriptions.records.insert(id.clone(), sub);
        let plan = catalogue.plan(plan_identifier);
        if let Some(terms) = plan.and_then(|p| p.license.as_ref()) {
            self.issue_license(customer_id, plan_identifier, &id, terms.activation_limit);
        }
        let amount = amount_units.unwrap_or_else(|| plan.map_or(0, |p| p.price(charge_period)));
        let plan_ref = json!({
            "name": plan.map(|p| p.name.clone()),
            "version": 1,
            "identifier": plan_identifier,
        });
        self.record_order(
            customer_id,
            &id,
            amount,
            plan_ref,
            charge_period == "ONE_TIME",
        );
        let object = self.hook_subscription(catalogue, &id);
        self.emit("subscription.created", object, None);
        id
    }

    /// The subscription as `subscription.*` payloads carry it (the guide's shape):
    /// `end_date` null unless a cancellation is set, the current billing period, the
    /// customer embedded.
    pub(super) fn hook_subscription(&self, catalogue: &Catalogue, id: &str) -> Value {
        use super::payments::{decimal, hook_product, hook_time};
        let Some(sub) = self.subscriptions.records.get(id) else {
            return Value::Null;
        };
        let at = now();
        let plan = catalogue.plan(&sub.plan_identifier);
        let price = plan.map_or(0, |p| p.price(&sub.charge_period));
        let period = |value: Value| if sub.one_time { Value::Null } else { value };
        json!({
            "id": sub.id,
            "object": "subscription",
            "status": sub.status(at),
            "plan": {
                "name": plan.map(|p| p.name.clone()),
                "version": 1,
                "identifier": sub.plan_identifier,
            },
            "product": hook_product(),
            "amount": decimal(price),
            "amount_units": price,
            "currency": "USD",
            "recurrence": if sub.one_time { "one time" } else { "1 month" },
            "start_date": sub.started.date_naive().to_string(),
            "end_date": sub.ends_at.map(|e| e.date_naive().to_string()),
            "billing_period_start_time": period(hook_time(sub.started)),
            "billing_period_end_time": period(hook_time(period_end(at))),
            "trial_start": null,
            "trial_end": null,
            "customer": self.hook_customer(&sub.customer_id),
            "features": null,
            "organization": super::ORG_ID,
            "created_on": hook_time(sub.started),
            "modified_on": hook_time(sub.modified),
        })
    }

    /// The subscription as the service answers it.
    pub(super) fn subscription_json(&self, catalogue: &Catalogue, id: &str) -> Value {
        let Some(sub) = self.subscriptions.records.get(id) else {
            return Value::Null;
        };
        let at = now();
        let plan = catalogue.plan(&sub.plan_identifier);
        let price = plan.map_or(0, |p| p.price(&sub.charge_period));
        let features: Vec<Value> = plan
            .map(|p| {
                p.features
                    .iter()
                    .map(|f| {
                        json!({
                            "identifier": f.identifier,
                            "featureType": f.feature_type.as_str(),
                            "value": match f.feature_type {
                                FeatureKind::Meter => f.usage_limit,
                                FeatureKind::Customizable => sub.quantities.get(&f.identifier).copied().or(f.quantity),
                                FeatureKind::Boolean => None,
                            },
                            "hardLimit": f.hard_limit.unwrap_or(false),
                        })
                    })
                    .collect()
            })
            .unwrap_or_default();
        let licenses: Vec<Value> = self
            .licenses_of_subscription(id)
            .into_iter()
            .map(|l| {
                json!({
                    "id": l.id, "licenseKey": l.license_key, "activatedOn": l.activated_on,
                    "expiresOn": l.expires_on, "activationUsage": l.activation_usage,
                    "activationLimit": l.activation_limit, "enabled": l.enabled,
                })
            })
            .collect();
        json!({
            "id": sub.id,
            "externalSubscriptionId": format!("sub_mock_{}", &sub.id[..8]),
            "customerId": sub.customer_id,
            "status": sub.status(at),
            "billingType": if sub.one_time { "ONE_TIME" } else { "SUBSCRIPTION" },
            "startDate": sub.started.date_naive().to_string(),
            "endDate": sub.ends_at.map(|e| e.date_naive().to_string()),
            "billingPeriodStartTime": if sub.one_time { Value::Null } else { json!(sub.started.to_rfc3339()) },
            "billingPeriodEndTime": if sub.one_time { Value::Null } else { json!(period_end(at).to_rfc3339()) },
            "nextInvoiceDate": if sub.one_time || !sub.active(at) { Value::Null } else { json!(period_end(at).to_rfc3339()) },
            "amount": format!("{}.{:02}", price / 100, price % 100),
            "currency": "usd",
            "recurrence": if sub.one_time { "one time" } else { "1 month" },
            "recurrenceType": if sub.one_time { Value::Null } else { json!("MONTH") },
            "recurrenceUnit": if sub.one_time { Value::Null } else { json!(1) },
            "trialDaysRemaining": 0,
            "plan": {"identifier": sub.plan_identifier, "name": plan.map(|p| p.name.clone())},
            "product": {"id": new_id(), "identifier": "kelviq-mock", "name": "Kelviq mock product"},
            "features": features,
            "links": [],
            "files": [],
            "license": licenses,
            "canceledAt": sub.canceled_at.map(|c| c.to_rfc3339()),
            "cancellationReason": sub.canceled_at.map(|_| "CANCELLED_BY_MERCHANT"),
            "cancellationFeedback": sub.feedback,
            "cancellationComment": sub.comment,
        })
    }

    fn subscription_mut(&mut self, subscription_id: &str) -> Result<&mut Sub, ApiError> {
        self.subscriptions
            .records
            .get_mut(subscription_id)
            .ok_or_else(|| ApiError::not_found(format!("No subscription {subscription_id:?}.")))
    }

    /// `POST /api/v1/subscriptions/create/`: the customer must exist; its saved payment
    /// method is charged.
    pub fn create_subscription(
        &mut self,
        catalogue: &Catalogue,
        request: wire::CreateSubscriptionRequest,
    ) -> Result<Value, ApiError> {
        let customer_id = request.customer_id.to_string();
        self.customers.require(&customer_id)?;
        let plan = request.plan_identifier.to_string();
        let period = request.charge_period.to_string();
        check_plan(catalogue, &plan, &period)?;
        let quantities = check_features(catalogue, &plan, &request.features)?;
        let id = self.start_subscription(catalogue, &customer_id, &plan, &period, quantities, None);
        Ok(self.subscription_json(catalogue, &id))
    }

    /// `GET /api/v1/subscriptions/{id}/`
    pub fn retrieve_subscription(
        &self,
        catalogue: &Catalogue,
        subscription_id: &str,
    ) -> Result<Value, ApiError> {
        if !self.subscriptions.records.contains_key(subscription_id) {
            return Err(ApiError::not_found(format!(
                "No subscription {subscription_id:?}."
            )));
        }
        Ok(self.subscription_json(catalogue, subscription_id))
    }

    /// `GET /api/v1/subscriptions/`: newest first, filtered, paged.
    #[allow(clippy::too_many_arguments)]
    pub fn list_subscriptions(
        &self,
        catalogue: &Catalogue,
        filter: &SubscriptionFilter,
        page: Option<u64>,
        page_size: Option<u64>,
        base: &str,
    ) -> Result<Value, ApiError> {
        let at = now();
        let mut subs: Vec<&Sub> = self
            .subscriptions
            .records
            .values()
            .filter(|s| {
                filter
                    .customer_id
                    .as_ref()
                    .is_none_or(|c| &s.customer_id == c)
            })
            .filter(|s| {
                filter
                    .statuses
                    .as_ref()
                    .is_none_or(|statuses| statuses.iter().any(|st| st == s.status(at)))
            })
            .filter(|s| {
                filter
                    .start_date_after
                    .is_none_or(|d| s.started.date_naive() >= d)
            })
            .filter(|s| {
                filter
                    .start_date_before
                    .is_none_or(|d| s.started.date_naive() <= d)
            })
            .filter(|s| filter.modified_on_after.is_none_or(|t| s.modified >= t))
            .filter(|s| filter.modified_on_before.is_none_or(|t| s.modified <= t))
            .collect();
        subs.sort_by_key(|s| std::cmp::Reverse(s.created));
        let items = subs
            .into_iter()
            .map(|s| self.subscription_json(catalogue, &s.id))
            .collect();
        page_of(items, page, page_size, base)
    }

    /// `POST /api/v1/subscriptions/{id}/update/`: moves the subscription to the new plan,
    /// and so the customer to its entitlements.
    pub fn update_subscription(
        &mut self,
        catalogue: &Catalogue,
        subscription_id: &str,
        request: wire::UpdateSubscriptionRequest,
    ) -> Result<wire::SubscriptionUpdated, ApiError> {
        let plan = request.plan_identifier.to_string();
        let period = request.charge_period.to_string();
        if !self.subscription_mut(subscription_id)?.active(now()) {
            return Err(ApiError::field(
                "subscriptionId",
                "The subscription has ended.",
            ));
        }
        check_plan(catalogue, &plan, &period)
            .map_err(|e| e.renamed("planIdentifier", "plan_identifier"))?;
        let quantities = check_features(catalogue, &plan, &request.features)?;
        let before = self.hook_subscription(catalogue, subscription_id);
        let sub = self.subscription_mut(subscription_id)?;
        let plan_changed = sub.plan_identifier != plan;
        sub.plan_identifier = plan;
        sub.charge_period = period;
        sub.quantities = quantities;
        sub.modified = now();
        let after = self.hook_subscription(catalogue, subscription_id);
        let previous = super::payments::changed(&before, &after);
        self.emit("subscription.updated", after.clone(), Some(previous));
        if plan_changed {
            // The whole subscription as it was, as the guide's example shows.
            self.emit("subscription.plan_changed", after, Some(before));
        }
        Ok(wire::SubscriptionUpdated {
            subscription_id: subscription_id
                .parse()
                .map_err(|_| ApiError::not_found("No such subscription."))?,
        })
    }

    /// `POST /api/v1/subscriptions/{id}/update/preview/`: what the change would cost.
    pub fn preview_subscription_update(
        &self,
        catalogue: &Catalogue,
        subscription_id: &str,
        request: wire::PreviewSubscriptionUpdateRequest,
    ) -> Result<Value, ApiError> {
        let sub = self
            .subscriptions
            .records
            .get(subscription_id)
            .ok_or_else(|| ApiError::not_found(format!("No subscription {subscription_id:?}.")))?;
        let plan = request.plan_identifier.to_string();
        let period = request.charge_period.to_string();
        check_plan(catalogue, &plan, &period)
            .map_err(|e| e.renamed("planIdentifier", "plan_identifier"))?;
        check_features(catalogue, &plan, &request.features)?;
        let old = catalogue
            .plan(&sub.plan_identifier)
            .map_or(0, |p| p.price(&sub.charge_period));
        let new = catalogue.plan(&plan).map_or(0, |p| p.price(&period));
        let now_units = match request.proration_behavior {
            Some(wire::ProrationBehavior::NoProration) => 0,
            _ => (new - old).max(0),
        };
        let units = |u: i64| json!(u as f64 / 100.0);
        Ok(json!({
            "currency": "usd",
            "recurringAmount": units(new),
            "recurringAmountUnits": new,
            "amountChargedImmediately": units(now_units),
            "amountChargedImmediatelyUnits": now_units,
            "nextInvoice": {
                "amountDue": units(new),
                "amountDueUnits": new,
                "nextPaymentAttempt": period_end(now()).to_rfc3339(),
                "lineItems": [
                    {"description": format!("{plan} ({period})"), "amount": units(new), "amountUnits": new}
                ]
            }
        }))
    }

    /// `POST /api/v1/subscriptions/{id}/cancel/`: `IMMEDIATE` ends it now;
    /// `CURRENT_PERIOD_ENDS` at the end of the period; `SPECIFIC_DATE` on the date.
    pub fn cancel_subscription(
        &mut self,
        catalogue: &Catalogue,
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
        if !self.subscription_mut(subscription_id)?.active(at) {
            return Err(ApiError::field(
                "subscriptionId",
                "The subscription is already cancelled.",
            ));
        }
        let before = self.hook_subscription(catalogue, subscription_id);
        let sub = self.subscription_mut(subscription_id)?;
        sub.ends_at = Some(ends_at);
        sub.canceled_at = Some(at);
        sub.feedback = request.cancellation_feedback.map(|f| f.to_string());
        sub.comment = request.cancellation_comment;
        sub.modified = at;
        // As the guide says: a cancellation that takes effect now sends
        // `subscription.cancelled`; one scheduled for later sends `subscription.updated` with
        // `end_date` set (the status stays active). The emulator keeps no clock, so no
        // `subscription.cancelled` follows when a scheduled end passes.
        let after = self.hook_subscription(catalogue, subscription_id);
        let previous = super::payments::changed(&before, &after);
        let kind = if ends_at > at {
            "subscription.updated"
        } else {
            "subscription.cancelled"
        };
        self.emit(kind, after, Some(previous));
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

    /// A customer's subscriptions, for the control surface.
    pub fn subscriptions_of(&self, customer_id: &str) -> Vec<Value> {
        let mut found: Vec<Value> = self
            .subscriptions
            .records
            .values()
            .filter(|s| s.customer_id == customer_id)
            .map(|s| {
                json!({
                    "id": s.id,
                    "planIdentifier": s.plan_identifier,
                    "chargePeriod": s.charge_period,
                    "endsAt": s.ends_at.map(|e| e.to_rfc3339()),
                })
            })
            .collect();
        found.sort_by(|a, b| a["id"].as_str().cmp(&b["id"].as_str()));
        found
    }

    /// The subscriptions granting at `at`, in a stable order.
    pub(super) fn running(&self, customer_id: &str, at: DateTime<Utc>) -> Vec<&Sub> {
        let mut subs: Vec<&Sub> = self
            .subscriptions
            .records
            .values()
            .filter(|s| s.customer_id == customer_id && s.active(at))
            .collect();
        subs.sort_by(|a, b| a.id.cmp(&b.id));
        subs
    }
}

/// The filters of a subscription list.
#[derive(Debug, Default)]
pub struct SubscriptionFilter {
    /// Only this customer's.
    pub customer_id: Option<String>,
    /// Only in these statuses.
    pub statuses: Option<Vec<String>>,
    /// Started on or after.
    pub start_date_after: Option<NaiveDate>,
    /// Started on or before.
    pub start_date_before: Option<NaiveDate>,
    /// Modified at or after.
    pub modified_on_after: Option<DateTime<Utc>>,
    /// Modified at or before.
    pub modified_on_before: Option<DateTime<Utc>>,
}

fn start_of(date: NaiveDate) -> DateTime<Utc> {
    Utc.from_utc_datetime(&date.and_hms_opt(0, 0, 0).expect("midnight exists"))
}

/// The plan exists and is sold at `period`; errors name the camelCase fields of checkout,
/// renamed by callers whose bodies spell them otherwise.
pub(super) fn check_plan(catalogue: &Catalogue, plan: &str, period: &str) -> Result<(), ApiError> {
    let found = catalogue
        .plan(plan)
        .ok_or_else(|| ApiError::field("planIdentifier", format!("No plan {plan:?}.")))?;
    if !found.charge_periods.iter().any(|p| p == period) {
        return Err(ApiError::field(
            "chargePeriod",
            format!(
                "Plan {plan:?} is not sold {period}; it is sold {}.",
                found.charge_periods.join(", ")
            ),
        ));
    }
    Ok(())
}

/// Customizable quantities of the plan's features.
pub(super) fn check_features(
    catalogue: &Catalogue,
    plan: &str,
    features: &[wire::FeatureQuantity],
) -> Result<HashMap<String, i64>, ApiError> {
    let Some(plan) = catalogue.plan(plan) else {
        return Ok(HashMap::new());
    };
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
                    "features",
                    format!("Feature {identifier:?} has no quantity to choose."),
                ))
            }
            None => {
                return Err(ApiError::field(
                    "features",
                    format!("Plan {:?} has no feature {identifier:?}.", plan.identifier),
                ))
            }
        }
    }
    Ok(quantities)
}
