//! Checkout sessions: created with the plan and the page's options, completed when the
//! customer "pays" (visiting the checkout URL, or the control surface), which starts the
//! subscription and sends `checkout.completed`.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};

use kelviq_gen::types as wire;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::payments::{card, ADMIN_PAGE_SIZE};
use super::subscriptions::{check_features, check_plan};
use super::{now, page_of, Tenant};
use crate::catalogue::Catalogue;
use crate::error::ApiError;

#[derive(Debug, Default)]
pub(super) struct Checkouts {
    sessions: HashMap<String, Session>,
}

#[derive(Debug, Clone)]
struct Session {
    customer_id: String,
    plan_identifier: String,
    charge_period: String,
    quantities: HashMap<String, i64>,
    custom_amount_units: Option<i64>,
    metadata: Map<String, Value>,
    subscription_id: Option<String>,
    /// When it was created.
    created: DateTime<Utc>,
    /// When it was completed.
    completed: Option<DateTime<Utc>>,
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

impl Tenant {
    pub(super) fn has_checkout(&self, session_id: &str) -> bool {
        self.checkouts.sessions.contains_key(session_id)
    }

    /// `POST /api/v1/checkout/`. `base_url` is where the emulator is reached, for the
    /// checkout URL.
    pub fn create_checkout(
        &mut self,
        catalogue: &Catalogue,
        request: wire::CreateCheckoutSessionRequest,
        base_url: &str,
    ) -> Result<wire::CheckoutSession, ApiError> {
        let plan_identifier = request.plan_identifier.to_string();
        let charge_period = request.charge_period.to_string();
        check_plan(catalogue, &plan_identifier, &charge_period)?;
        let quantities = check_features(catalogue, &plan_identifier, &request.features)?;
        match (
            request.custom_amount,
            request.tax_behavior,
            &request.currency_code,
        ) {
            (Some(_), None, _) => {
                return Err(ApiError::field(
                    "taxBehavior",
                    "Required when customAmount is provided.",
                ))
            }
            (Some(_), Some(_), None) => {
                return Err(ApiError::field(
                    "currencyCode",
                    "Required when customAmount is provided with a server API key.",
                ))
            }
            (None, Some(_), _) => {
                return Err(ApiError::field(
                    "taxBehavior",
                    "Only allowed with customAmount.",
                ))
            }
            _ => {}
        }
        let customer_id = match request.customer_id {
            Some(id) => id.to_string(),
            None => format!("cus_{}", uuid::Uuid::new_v4().simple()),
        };
        if self.customers.ensure(&customer_id) {
            let object = self.hook_customer_record(&customer_id);
            self.emit("customer.created", object, None);
        }
        let session_id = format!("cs_mock_{}", uuid::Uuid::new_v4().simple());
        self.checkouts.sessions.insert(
            session_id.clone(),
            Session {
                customer_id,
                plan_identifier,
                charge_period,
                quantities,
                custom_amount_units: request.custom_amount.map(|a| (a * 100.0).round() as i64),
                metadata: request.metadata.map(|m| m.0).unwrap_or_default(),
                subscription_id: None,
                created: now(),
                completed: None,
            },
        );
        Ok(wire::CheckoutSession {
            checkout_url: format!("{base_url}/_mock/checkout/{session_id}"),
            checkout_session_id: session_id,
        })
    }

    /// Completes a checkout as if the customer paid: the subscription starts and grants the
    /// plan's entitlements. Completing it again answers with the same subscription.
    pub fn complete_checkout(
        &mut self,
        catalogue: &Catalogue,
        session_id: &str,
    ) -> Result<CompletedCheckout, ApiError> {
        let session = self
            .checkouts
            .sessions
            .get(session_id)
            .cloned()
            .ok_or_else(|| ApiError::not_found(format!("No checkout session {session_id:?}.")))?;
        let subscription_id = match &session.subscription_id {
            Some(id) => id.clone(),
            None => {
                let id = self.start_subscription(
                    catalogue,
                    &session.customer_id,
                    &session.plan_identifier,
                    &session.charge_period,
                    session.quantities.clone(),
                    session.custom_amount_units,
                );
                if let Some(stored) = self.checkouts.sessions.get_mut(session_id) {
                    stored.subscription_id = Some(id.clone());
                    stored.completed = Some(now());
                }
                let object = self.hook_checkout(catalogue, session_id, &session);
                self.emit("checkout.completed", object, None);
                id
            }
        };
        Ok(CompletedCheckout {
            subscription_id,
            customer_id: session.customer_id,
            plan_identifier: session.plan_identifier,
        })
    }
}

impl Tenant {
    /// A completed session as `checkout.completed` carries it: its `metadata`, the customer
    /// (Kelviq's UUID as `customer_id`, the caller's identifier in `customer`), the plan and
    /// what was paid; no subscription id (`subscription.created` gives it).
    fn hook_checkout(&self, catalogue: &Catalogue, session_id: &str, session: &Session) -> Value {
        use super::payments::{decimal, hook_product, hook_time};
        let plan = catalogue.plan(&session.plan_identifier);
        let amount = session
            .custom_amount_units
            .unwrap_or_else(|| plan.map_or(0, |p| p.price(&session.charge_period)));
        let customer = self.hook_customer(&session.customer_id);
        json!({
            "id": session_id,
            "object": "checkout_session",
            "status": "success",
            "checkout_type": if session.charge_period == "ONE_TIME" { "ONE_TIME" } else { "SUBSCRIPTION" },
            "customer_id": self.customer_uuid(&session.customer_id),
            "organization": super::ORG_ID,
            "amount": decimal(amount),
            "amount_units": amount,
            "currency": "USD",
            "discount_code": "",
            "features": null,
            "plan": {
                "name": plan.map(|p| p.name.clone()),
                "version": 1,
                "identifier": session.plan_identifier,
            },
            "product": hook_product(),
            "billing_address": customer["billing_address"],
            "customer": customer,
            "metadata": session.metadata,
            "data": {
                "name": customer["name"],
                "email": customer["email"],
                "referer": null,
                "cancel_url": null,
                "success_url": null,
                "tax_behavior": null,
                "discounts_enabled": false,
            },
            "created_on": hook_time(session.created),
            "modified_on": hook_time(now()),
        })
    }
}

// ----- the admin family: checkout sessions and their timelines --------------------------

/// Filters of `listCheckoutSessions`.
#[derive(Debug, Default)]
pub struct SessionFilter {
    /// Text the session id, or the customer's name, e-mail or identifier, must contain
    /// (the emulator's sessions have no product name).
    pub search: Option<String>,
    /// Its status, exactly: `open` until completed, then `success`.
    pub status: Option<String>,
    /// Created on or after.
    pub start_date: Option<NaiveDate>,
    /// Created on or before.
    pub end_date: Option<NaiveDate>,
}

impl Session {
    fn status(&self) -> &'static str {
        if self.subscription_id.is_some() {
            "success"
        } else {
            "open"
        }
    }
}

impl Tenant {
    /// A session as the document's `CheckoutSessionRecord`. `product` is left out (the
    /// emulator's plans belong to no catalog product; it is optional in the document), and
    /// `selectedData` holds the plan, period and quantities asked for.
    fn session_record(&self, id: &str, session: &Session) -> Value {
        let (customer, billing_address) = self.order_customer(&session.customer_id);
        json!({
            "id": id,
            "customer": customer,
            "billingAddress": billing_address,
            "discountCode": null,
            "taxId": null,
            "currency": "usd",
            "currencySymbol": "$",
            "status": session.status(),
            "createdOn": session.created.to_rfc3339(),
            "selectedData": {
                "planIdentifier": session.plan_identifier,
                "chargePeriod": session.charge_period,
                "features": session.quantities,
            },
            "offeringData": {},
            "data": {},
            "customFieldsData": {},
            "metadata": session.metadata,
            "customization": {},
            "trialPeriod": 0,
        })
    }

    /// `GET /api/v1/checkout/sessions/`: newest first.
    pub fn list_checkout_sessions(
        &self,
        filter: &SessionFilter,
        page: Option<u64>,
        page_size: Option<u64>,
        base: &str,
    ) -> Result<Value, ApiError> {
        let mut sessions: Vec<(&String, &Session)> = self.checkouts.sessions.iter().collect();
        sessions.sort_by(|a, b| b.1.created.cmp(&a.1.created).then(b.0.cmp(a.0)));
        let items = sessions
            .into_iter()
            .map(|(id, s)| (s, self.session_record(id, s)))
            .filter(|(s, record)| {
                let customer = &record["customer"];
                let text = [
                    record["id"].as_str(),
                    customer["name"].as_str(),
                    customer["email"].as_str(),
                    Some(s.customer_id.as_str()),
                ];
                filter
                    .search
                    .as_ref()
                    .is_none_or(|q| text.iter().flatten().any(|t| t.contains(q.as_str())))
                    && filter.status.as_ref().is_none_or(|q| q == s.status())
                    && filter
                        .start_date
                        .is_none_or(|d| s.created.date_naive() >= d)
                    && filter.end_date.is_none_or(|d| s.created.date_naive() <= d)
            })
            .map(|(_, record)| record)
            .collect();
        page_of(items, page, page_size.or(Some(ADMIN_PAGE_SIZE)), base)
    }

    /// `GET /api/v1/checkout/sessions/{session_id}/`: the record with the order,
    /// subscription and payment method completing it made (null while it is open).
    pub fn retrieve_checkout_session(
        &self,
        catalogue: &Catalogue,
        session_id: &str,
    ) -> Result<Value, ApiError> {
        let session = self
            .checkouts
            .sessions
            .get(session_id)
            .ok_or_else(|| ApiError::not_found("Not found."))?;
        let mut detail = self.session_record(session_id, session);
        let (order, subscription, method) = match &session.subscription_id {
            Some(id) => {
                let full = self.subscription_json(catalogue, id);
                let brief: Map<String, Value> = [
                    "id",
                    "recurrence",
                    "billingPeriodStartTime",
                    "billingPeriodEndTime",
                    "startDate",
                    "endDate",
                    "status",
                    "amount",
                    "currency",
                    "trialDaysRemaining",
                    "billingType",
                    "recurrenceUnit",
                    "recurrenceType",
                ]
                .into_iter()
                .filter_map(|k| full.get(k).map(|v| (k.to_owned(), v.clone())))
                .collect();
                (
                    self.session_order(catalogue, id),
                    Value::Object(brief),
                    card(),
                )
            }
            None => (Value::Null, Value::Null, Value::Null),
        };
        detail["order"] = order;
        detail["subscription"] = subscription;
        detail["paymentMethod"] = method;
        Ok(detail)
    }

    /// `GET /api/v1/checkout/sessions/{session_id}/events/`: newest first; created, then
    /// payment done and completed once the customer paid.
    pub fn list_checkout_session_events(
        &self,
        session_id: &str,
        page: Option<u64>,
        page_size: Option<u64>,
        base: &str,
    ) -> Result<Value, ApiError> {
        let session = self
            .checkouts
            .sessions
            .get(session_id)
            .ok_or_else(|| ApiError::not_found("Not found."))?;
        let mut events = vec![(
            session.created,
            "Checkout session created",
            "checkout_session.created",
            json!({}),
        )];
        if let Some(at) = session.completed {
            events.push((
                at,
                "Payment succeeded",
                "checkout_session.payment_succeeded",
                json!({"paymentMethod": card()}),
            ));
            events.push((
                at,
                "Checkout session completed",
                "checkout_session.completed",
                json!({}),
            ));
        }
        let mut items: Vec<Value> = events
            .into_iter()
            .enumerate()
            .map(|(n, (at, title, code, metadata))| {
                json!({
                    "id": n + 1,
                    "title": title,
                    "code": code,
                    "status": "success",
                    "timestamp": at.to_rfc3339(),
                    "metadata": metadata,
                })
            })
            .collect();
        items.reverse();
        page_of(items, page, page_size.or(Some(ADMIN_PAGE_SIZE)), base)
    }
}
