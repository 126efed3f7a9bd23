//! Money: an order for every purchase, refunds that never exceed what is left on an order,
//! the transactions both make, and the payment method a purchase saves.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use kelviq_gen::types as wire;
use serde_json::{json, Value};

use super::{now, page_of, Tenant};
use crate::error::ApiError;

#[derive(Debug, Default)]
pub(super) struct Payments {
    orders: HashMap<String, Order>,
    refunds: Vec<Refund>,
    methods: Vec<Method>,
    next_method: i64,
}

#[derive(Debug, Clone)]
struct Order {
    id: String,
    /// The identifier of the order's charge among the transactions (a UUID, as the service's
    /// transaction ids are; the order's own id is not).
    transaction_id: String,
    customer_id: String,
    subscription_id: String,
    amount_units: i64,
    refunded_units: i64,
    created: DateTime<Utc>,
    /// When a refund last changed it.
    modified: DateTime<Utc>,
    /// The plan bought, as webhook payloads name it: `{name, version, identifier}`.
    plan: Value,
    /// A one-time purchase, not a subscription.
    one_time: bool,
}

#[derive(Debug, Clone)]
struct Refund {
    id: String,
    order_id: String,
    amount_units: i64,
    reason: Option<String>,
    internal_note: Option<String>,
    created: DateTime<Utc>,
}

#[derive(Debug, Clone)]
struct Method {
    id: i64,
    customer_id: String,
    created: DateTime<Utc>,
}

/// Filters of the money lists.
#[derive(Debug, Default)]
pub struct MoneyFilter {
    /// Text the item must contain.
    pub search: Option<String>,
    /// Its status.
    pub status: Option<String>,
    /// Created on or after.
    pub start_date: Option<NaiveDate>,
    /// Created on or before.
    pub end_date: Option<NaiveDate>,
}

impl MoneyFilter {
    fn keeps(&self, text: &str, status: &str, created: DateTime<Utc>) -> bool {
        self.search
            .as_ref()
            .is_none_or(|s| text.contains(s.as_str()))
            && self.status.as_ref().is_none_or(|s| s == status)
            && self.start_date.is_none_or(|d| created.date_naive() >= d)
            && self.end_date.is_none_or(|d| created.date_naive() <= d)
    }
}

fn units(amount: i64) -> Value {
    json!(amount as f64 / 100.0)
}

impl Tenant {
    /// Records what a purchase charged, and saves the customer's payment method; sends
    /// `payment_method.created` for a card saved now, then `invoice.created`,
    /// `invoice.paid` and `order.created` (the purchase is paid at once). `plan` is the plan
    /// bought as webhook payloads name it.
    pub(super) fn record_order(
        &mut self,
        customer_id: &str,
        subscription_id: &str,
        amount_units: i64,
        plan: Value,
        one_time: bool,
    ) {
        let id = format!("ord_{}", uuid::Uuid::new_v4().simple());
        let at = now();
        let order = Order {
            id: id.clone(),
            transaction_id: super::new_id(),
            customer_id: customer_id.to_owned(),
            subscription_id: subscription_id.to_owned(),
            amount_units,
            refunded_units: 0,
            created: at,
            modified: at,
            plan,
            one_time,
        };
        self.payments.orders.insert(id, order.clone());
        if !self
            .payments
            .methods
            .iter()
            .any(|m| m.customer_id == customer_id)
        {
            self.payments.next_method += 1;
            let method = Method {
                id: self.payments.next_method,
                customer_id: customer_id.to_owned(),
                created: at,
            };
            self.payments.methods.push(method.clone());
            let object = self.hook_payment_method(&method);
            self.emit("payment_method.created", object, None);
        }
        let open = self.hook_invoice(&order, false);
        self.emit("invoice.created", open, None);
        let paid = self.hook_invoice(&order, true);
        self.emit(
            "invoice.paid",
            paid,
            Some(json!({"status": "OPEN", "paid_at": null})),
        );
        let object = self.hook_order(&order);
        self.emit("order.created", object, None);
    }

    /// A customer's orders, for the control surface: id, amount, refunded.
    pub fn orders_of(&self, customer_id: &str) -> Vec<Value> {
        let mut orders: Vec<&Order> = self
            .payments
            .orders
            .values()
            .filter(|o| o.customer_id == customer_id)
            .collect();
        orders.sort_by_key(|o| o.created);
        orders.into_iter().map(|o| self.order_json(o)).collect()
    }

    fn order_json(&self, order: &Order) -> Value {
        json!({
            "id": order.id,
            "customerId": order.customer_id,
            "subscriptionId": order.subscription_id,
            "amountUnits": order.amount_units,
            "refundedUnits": order.refunded_units,
            "currency": "usd",
        })
    }

    /// `POST /api/v1/charges/`: a one-time purchase with the saved payment method.
    pub fn create_charge(
        &mut self,
        catalogue: &crate::Catalogue,
        request: wire::CreateChargeRequest,
    ) -> Result<Value, ApiError> {
        let customer_id = request.customer_id.to_string();
        self.customers.require(&customer_id)?;
        let plan = request.plan_identifier.to_string();
        super::subscriptions::check_plan(catalogue, &plan, "ONE_TIME").map_err(|e| {
            e.renamed("planIdentifier", "plan_identifier")
                .renamed("chargePeriod", "charge_period")
        })?;
        let quantities = super::subscriptions::check_features(catalogue, &plan, &request.features)?;
        if request.custom_amount.is_some() && request.tax_behavior.is_none() {
            return Err(ApiError::field(
                "tax_behavior",
                "Required when custom_amount is provided.",
            ));
        }
        let amount = request.custom_amount.map(|a| (a * 100.0).round() as i64);
        let id = self.start_subscription(
            catalogue,
            &customer_id,
            &plan,
            "ONE_TIME",
            quantities,
            amount,
        );
        self.retrieve_subscription(catalogue, &id)
    }

    /// `POST /api/v1/refunds/`: all that is left, or part of it; never more.
    pub fn create_refund(&mut self, request: wire::CreateRefundRequest) -> Result<Value, ApiError> {
        let order_id = request.order_id.to_string();
        let order = self
            .payments
            .orders
            .get_mut(&order_id)
            .ok_or_else(|| ApiError::field("order_id", format!("No order {order_id:?}.")))?;
        let left = order.amount_units - order.refunded_units;
        let amount = match (request.amount_units, request.amount) {
            (Some(_), Some(_)) => {
                return Err(ApiError::field(
                    "amount",
                    "Give amount_units or amount, not both.",
                ))
            }
            (Some(units), None) => i64::try_from(units.get()).unwrap_or(i64::MAX),
            (None, Some(amount)) => (amount * 100.0).round() as i64,
            (None, None) => left,
        };
        if amount <= 0 || amount > left {
            return Err(ApiError::field(
                "amount_units",
                format!(
                    "The refund ({amount}) exceeds what is left to refund on the order ({left})."
                ),
            ));
        }
        let status_before = order.status();
        let at = now();
        order.refunded_units += amount;
        order.modified = at;
        let refund = Refund {
            id: super::new_id(),
            order_id: order_id.clone(),
            amount_units: amount,
            reason: request.reason.map(|r| r.to_string()),
            internal_note: request.internal_note,
            created: at,
        };
        self.payments.refunds.push(refund.clone());
        // Processing, then succeeded at once (the emulator's refunds never fail), and the
        // order's new status.
        let processing = self.hook_refund(&refund, "PROCESSING");
        self.emit("refund.created", processing, None);
        let succeeded = self.hook_refund(&refund, "SUCCEEDED");
        self.emit(
            "refund.updated",
            succeeded,
            Some(json!({"status": "PROCESSING"})),
        );
        if let Some(order) = self.payments.orders.get(&order_id) {
            let object = self.hook_order(order);
            self.emit(
                "order.refunded",
                object,
                Some(json!({"status": status_before})),
            );
        }
        Ok(self.refund_json(&refund))
    }

    fn refund_json(&self, refund: &Refund) -> Value {
        let order = self
            .payments
            .orders
            .get(&refund.order_id)
            .map(|o| self.order_json(o))
            .unwrap_or(Value::Null);
        json!({
            "id": refund.id,
            "reason": refund.reason,
            "amountUnits": refund.amount_units,
            "amount": units(refund.amount_units),
            "internalNote": refund.internal_note,
            "failureReason": null,
            "status": "SUCCEEDED",
            "order": order,
        })
    }

    /// `GET /api/v1/refunds/{refundId}/`
    pub fn retrieve_refund(&self, refund_id: &str) -> Result<Value, ApiError> {
        self.payments
            .refunds
            .iter()
            .find(|r| r.id == refund_id)
            .map(|r| self.refund_json(r))
            .ok_or_else(|| ApiError::not_found(format!("No refund {refund_id:?}.")))
    }

    /// `GET /api/v1/refunds/`: newest first.
    pub fn list_refunds(
        &self,
        filter: &MoneyFilter,
        page: Option<u64>,
        page_size: Option<u64>,
        base: &str,
    ) -> Result<Value, ApiError> {
        let items = self
            .payments
            .refunds
            .iter()
            .rev()
            .filter(|r| filter.keeps(&format!("{} {}", r.id, r.order_id), "SUCCEEDED", r.created))
            .map(|r| self.refund_json(r))
            .collect();
        page_of(items, page, page_size, base)
    }

    /// `GET /api/v1/transaction/`: a charge per order, a refund per refund, newest first.
    pub fn list_transactions(
        &self,
        filter: &MoneyFilter,
        page: Option<u64>,
        page_size: Option<u64>,
        base: &str,
    ) -> Result<Value, ApiError> {
        let mut rows: Vec<(DateTime<Utc>, Value)> = Vec::new();
        for order in self.payments.orders.values() {
            rows.push((
                order.created,
                self.transaction(&order.transaction_id, "CHARGE", order.amount_units, order),
            ));
        }
        for refund in &self.payments.refunds {
            if let Some(order) = self.payments.orders.get(&refund.order_id) {
                rows.push((
                    refund.created,
                    self.transaction(&refund.id, "REFUND", -refund.amount_units, order),
                ));
            }
        }
        rows.sort_by_key(|row| std::cmp::Reverse(row.0));
        let items = rows
            .into_iter()
            .filter(|(at, row)| {
                let text = format!(
                    "{} {}",
                    row["id"].as_str().unwrap_or_default(),
                    row["order"]["id"].as_str().unwrap_or_default()
                );
                filter.keeps(&text, "success", *at)
            })
            .map(|(_, row)| row)
            .collect();
        page_of(items, page, page_size, base)
    }

    fn transaction(&self, id: &str, kind: &str, amount: i64, order: &Order) -> Value {
        let fee = amount.abs() * 5 / 100;
        json!({
            "id": id,
            "order": self.order_json(order),
            "createdOn": order.created.to_rfc3339(),
            "currency": "usd",
            "currencySymbol": "$",
            "amountTotal": units(amount),
            "morFee": units(fee),
            "morFeeBreakdown": [{"name": "base_fee", "percentage": "5", "valueUnits": fee, "currency": "usd"}],
            "collectedTax": 0.0,
            "netPayout": units(amount - fee),
            "status": "success",
            "transactionType": kind,
            "paymentMethodType": "card",
            "availableOn": null,
            "isSettled": false,
            "paymentMethodName": "Visa",
            "last4": "4242",
        })
    }

    /// `GET /api/v1/payment-methods/`
    pub fn list_payment_methods(
        &self,
        customer_id: Option<&str>,
        customer_email: Option<&str>,
        page: Option<u64>,
        page_size: Option<u64>,
        base: &str,
    ) -> Result<Value, ApiError> {
        let items = self
            .payments
            .methods
            .iter()
            .filter_map(|m| Some((m, self.customers.get(&m.customer_id)?)))
            .filter(|(m, _)| customer_id.is_none_or(|c| c == m.customer_id))
            .filter(|(_, c)| customer_email.is_none_or(|e| c.email.as_deref() == Some(e)))
            .map(|(m, c)| {
                json!({
                    "id": m.id,
                    "customer": {
                        "customerId": c.customer_id,
                        "name": c.name,
                        "email": c.email,
                        "billingAddress": c.billing_address,
                    },
                    "methodType": "card",
                    "methodData": {"brand": "visa", "last4": "4242", "expMonth": 12, "expYear": 2030},
                    "isDefault": true,
                    "status": "succeeded",
                    "createdOn": m.created.to_rfc3339(),
                    "modifiedOn": m.created.to_rfc3339(),
                })
            })
            .collect();
        page_of(items, page, page_size, base)
    }
}

// ----- webhook payloads: the objects `data.object` carries, as the guide shows them ------

/// The product webhook payloads name for every plan of the emulator's catalogue (its plans
/// belong to no catalog product).
pub(super) const HOOK_PRODUCT_ID: &str = "00000000-0000-4000-8000-00000000c0de";

/// A time as webhook payloads write it: `2026-04-01T17:36:41Z`.
pub(super) fn hook_time(at: DateTime<Utc>) -> Value {
    json!(at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
}

/// The product webhook payloads embed: `{id, name}`.
pub(super) fn hook_product() -> Value {
    json!({"id": HOOK_PRODUCT_ID, "name": "Kelviq mock product"})
}

/// A billing address as webhook payloads write it (snake_case), `{}` when there is none.
fn hook_address(address: Option<&wire::BillingAddress>) -> Value {
    address.map_or(json!({}), |a| {
        json!({
            "line1": a.line1, "line2": a.line2, "city": a.city, "state": a.state,
            "postal_code": a.postal_code, "country": a.country,
        })
    })
}

/// The top-level fields of `after` whose value differs in `before`, with their old values
/// (`modified_on` aside): an update event's `previous_attributes`.
pub(super) fn changed(before: &Value, after: &Value) -> Value {
    let changed: serde_json::Map<String, Value> = before
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(key, value)| {
            key.as_str() != "modified_on" && after.get(key.as_str()) != Some(value)
        })
        .map(|(key, value)| (key.clone(), value.clone()))
        .collect();
    Value::Object(changed)
}

impl Tenant {
    /// A customer as `customer.*` payloads carry it: `{id, object, customer_id, name, email,
    /// details, metadata, billing_address, subscriptions (how many run), organization,
    /// created_on, modified_on}`.
    pub(super) fn hook_customer_record(&self, customer_id: &str) -> Value {
        let Some(c) = self.customers.get(customer_id) else {
            return Value::Null;
        };
        let at = now();
        let running = self
            .subscriptions
            .records
            .values()
            .filter(|s| s.customer_id == customer_id && s.active(at))
            .count();
        json!({
            "id": c.id,
            "object": "customer",
            "customer_id": c.customer_id,
            "name": c.name,
            "email": c.email,
            "details": c.details,
            "metadata": c.metadata.clone().unwrap_or_default(),
            "billing_address": hook_address(c.billing_address.as_ref()),
            "subscriptions": running,
            "organization": super::ORG_ID,
            "created_on": hook_time(c.created_on),
            "modified_on": hook_time(c.modified_on),
        })
    }

    /// The customer's Kelviq id (a UUID), which order and invoice payloads give as
    /// `customer_id`; the caller's own identifier is the embedded customer's `customer_id`.
    pub(super) fn customer_uuid(&self, customer_id: &str) -> Value {
        self.customers
            .get(customer_id)
            .map_or(Value::Null, |c| json!(c.id))
    }

    /// The customer embedded in a webhook payload: `{id, name, email, customer_id,
    /// billing_address}`.
    pub(super) fn hook_customer(&self, customer_id: &str) -> Value {
        let customer = self.customers.get(customer_id);
        let address = hook_address(customer.and_then(|c| c.billing_address.as_ref()));
        json!({
            "id": customer.map(|c| c.id),
            "name": customer.and_then(|c| c.name.clone()),
            "email": customer.and_then(|c| c.email.clone()),
            "customer_id": customer_id,
            "billing_address": address,
        })
    }

    /// An order as `order.*` payloads carry it.
    fn hook_order(&self, order: &Order) -> Value {
        json!({
            "id": order.id,
            "object": "order",
            "status": order.status(),
            "billing_type": if order.one_time { "ONE_TIME" } else { "SUBSCRIPTION" },
            "customer_id": self.customer_uuid(&order.customer_id),
            "customer": self.hook_customer(&order.customer_id),
            "organization": super::ORG_ID,
            "is_renewal": false,
            "paid_at": hook_time(order.created),
            "amount_total": decimal(order.amount_units),
            "amount_total_units": order.amount_units,
            "currency": "USD",
            "subscription_id": order.subscription_id,
            "product": hook_product(),
            "plan": order.plan,
            "features": null,
            "created_on": hook_time(order.created),
            "modified_on": hook_time(order.modified),
        })
    }

    /// The invoice of an order as `invoice.*` payloads carry it: `OPEN`, or `PAID`.
    fn hook_invoice(&self, order: &Order, paid: bool) -> Value {
        json!({
            "id": order.invoice_id(),
            "object": "invoice",
            "status": if paid { "PAID" } else { "OPEN" },
            "paid_at": if paid { hook_time(order.created) } else { Value::Null },
            "amount_total": decimal(order.amount_units),
            "amount_total_units": order.amount_units,
            "currency": "USD",
            "due_date": null,
            "order_id": order.id,
            "customer_id": self.customer_uuid(&order.customer_id),
            "customer": self.hook_customer(&order.customer_id),
            "subscription_id": order.subscription_id,
            "organization": super::ORG_ID,
            "product": hook_product(),
            "created_on": hook_time(order.created),
            "modified_on": hook_time(order.created),
        })
    }

    /// A refund as `refund.*` payloads carry it, in `status`.
    fn hook_refund(&self, refund: &Refund, status: &str) -> Value {
        let order = self.payments.orders.get(&refund.order_id);
        let customer_id = order.map_or("", |o| o.customer_id.as_str());
        json!({
            "id": refund.id,
            "object": "refund",
            "status": status,
            "amount": decimal(refund.amount_units),
            "amount_units": refund.amount_units,
            "currency": "USD",
            "reason": refund.reason,
            "order_id": refund.order_id,
            "customer": self.hook_customer(customer_id),
            "subscription_id": order.map(|o| o.subscription_id.clone()),
            "organization": super::ORG_ID,
            "created_on": hook_time(refund.created),
            "modified_on": hook_time(refund.created),
        })
    }

    /// A saved payment method as `payment_method.*` payloads carry it (the customer's own
    /// identifier as `customer_id`, as the guide shows).
    fn hook_payment_method(&self, method: &Method) -> Value {
        json!({
            "id": method.id,
            "object": "payment_method",
            "organization": super::ORG_ID,
            "customer_id": method.customer_id,
            "customer": self.hook_customer(&method.customer_id),
            "method_type": "card",
            "method_data": {
                "brand": "visa", "last4": "4242", "exp_month": 12, "exp_year": 2030,
                "funding": "credit", "country": "US",
            },
            "is_default": true,
            "status": "succeeded",
        })
    }
}

// ----- the admin family: orders and their timelines -------------------------------------

/// Filters of `listOrders`.
#[derive(Debug, Default)]
pub struct OrderFilter {
    /// Text the order id, or the customer's name, e-mail or identifier, must contain.
    pub search: Option<String>,
    /// Its status (`COMPLETE`, `REFUNDED`, `PARTIAL_REFUND`; the emulator has no other).
    pub status: Option<String>,
    /// `ONE_TIME` or `SUBSCRIPTION`.
    pub billing_type: Option<String>,
    /// Renewals only (`true`), or first purchases only (`false`). Every order of the
    /// emulator is a first purchase: it renews nothing.
    pub is_renewal: Option<bool>,
    /// Paid on or after.
    pub start_date: Option<NaiveDate>,
    /// Paid on or before.
    pub end_date: Option<NaiveDate>,
}

/// A decimal string of an amount in cents: `"261.00"`.
pub(super) fn decimal(units: i64) -> String {
    let sign = if units < 0 { "-" } else { "" };
    format!("{sign}{}.{:02}", units.abs() / 100, units.abs() % 100)
}

/// The card every purchase of the emulator is paid with.
pub(super) fn card() -> Value {
    json!({"paymentMethodType": "card", "paymentMethodName": "visa", "last4": "4242"})
}

impl Order {
    /// `COMPLETE`, or `REFUNDED` / `PARTIAL_REFUND` once refunds were made.
    fn status(&self) -> &'static str {
        match self.refunded_units {
            0 => "COMPLETE",
            r if r >= self.amount_units => "REFUNDED",
            _ => "PARTIAL_REFUND",
        }
    }

    /// The invoice of the order: named after it.
    fn invoice_id(&self) -> String {
        format!("INV-{}", self.id.trim_start_matches("ord_").to_uppercase())
    }
}

impl Tenant {
    /// The customer of an order or a session, as the document's `OrderCustomer`, and the
    /// customer's billing address (null when none).
    pub(super) fn order_customer(&self, customer_id: &str) -> (Value, Value) {
        let customer = self.customers.get(customer_id);
        (
            json!({
                "customerId": customer_id,
                "name": customer.and_then(|c| c.name.clone()),
                "email": customer.and_then(|c| c.email.clone()),
            }),
            customer
                .and_then(|c| c.billing_address.as_ref())
                .map_or(Value::Null, |a| json!(a)),
        )
    }

    /// An order as the document's `Order`. `product` and `plan` are left out: the emulator
    /// keeps no catalog product and plan for the plans of its catalogue file (both are
    /// optional in the document).
    fn admin_order_json(&self, catalogue: &crate::Catalogue, order: &Order) -> Value {
        let subscription = self.subscription_json(catalogue, &order.subscription_id);
        let (customer, billing_address) = self.order_customer(&order.customer_id);
        let one_time = subscription["billingType"] == "ONE_TIME";
        let summary = if one_time || subscription.is_null() {
            json!({})
        } else {
            json!({
                "id": subscription["id"],
                "status": subscription["status"],
                "amount": subscription["amount"],
                "currency": subscription["currency"],
                "interval": "month",
                "currencySymbol": "$",
                "nextInvoiceDate": subscription["nextInvoiceDate"],
            })
        };
        json!({
            "id": order.id,
            "customer": customer,
            "status": order.status(),
            "paidAt": order.created.to_rfc3339(),
            "amountSubtotal": decimal(order.amount_units),
            "amountDiscount": "0.00",
            "amountTax": "0.00",
            "amountTotal": decimal(order.amount_units),
            "saleCurrency": "USD",
            "amountSubtotalUnits": order.amount_units,
            "amountDiscountUnits": 0,
            "amountTaxUnits": 0,
            "amountTotalUnits": order.amount_units,
            "refundedTotalUnits": order.refunded_units,
            "saleCurrencySymbol": "$",
            "billingAddress": billing_address,
            "billingType": subscription.get("billingType").cloned().unwrap_or(json!("ONE_TIME")),
            "license": subscription.get("license").cloned().unwrap_or(json!([])),
            "isTrial": false,
            "subscription": summary,
            "invoiceId": order.invoice_id(),
            "customFieldsData": {},
            "paymentMethod": card(),
        })
    }

    /// The first order of a subscription, as the document's `CheckoutSessionOrder`.
    pub(super) fn session_order(
        &self,
        catalogue: &crate::Catalogue,
        subscription_id: &str,
    ) -> Value {
        let Some(order) = self
            .payments
            .orders
            .values()
            .filter(|o| o.subscription_id == subscription_id)
            .min_by_key(|o| o.created)
        else {
            return Value::Null;
        };
        let full = self.admin_order_json(catalogue, order);
        json!({
            "id": order.id,
            "status": order.status(),
            "paidAt": full["paidAt"],
            "createdOn": full["paidAt"],
            "billingType": full["billingType"],
            "isTrial": false,
            "amountSubtotal": full["amountSubtotal"],
            "amountDiscount": "0.00",
            "amountTax": "0.00",
            "amountTotal": full["amountTotal"],
            "saleCurrency": "USD",
            "saleCurrencySymbol": "$",
            "invoiceId": full["invoiceId"],
        })
    }

    /// `GET /api/v1/orders/`: most recently paid first.
    pub fn list_orders(
        &self,
        catalogue: &crate::Catalogue,
        filter: &OrderFilter,
        page: Option<u64>,
        page_size: Option<u64>,
        base: &str,
    ) -> Result<Value, ApiError> {
        let mut orders: Vec<&Order> = self.payments.orders.values().collect();
        orders.sort_by(|a, b| b.created.cmp(&a.created).then(b.id.cmp(&a.id)));
        let items = orders
            .into_iter()
            .map(|o| (o, self.admin_order_json(catalogue, o)))
            .filter(|(o, json)| {
                let customer = &json["customer"];
                let text = [
                    Some(o.id.as_str()),
                    customer["name"].as_str(),
                    customer["email"].as_str(),
                    Some(o.customer_id.as_str()),
                ];
                filter
                    .search
                    .as_ref()
                    .is_none_or(|s| text.iter().flatten().any(|t| t.contains(s.as_str())))
                    && filter.status.as_ref().is_none_or(|s| s == o.status())
                    && filter
                        .billing_type
                        .as_ref()
                        .is_none_or(|b| json["billingType"] == b.as_str())
                    && filter.is_renewal != Some(true)
                    && filter
                        .start_date
                        .is_none_or(|d| o.created.date_naive() >= d)
                    && filter.end_date.is_none_or(|d| o.created.date_naive() <= d)
            })
            .map(|(_, json)| json)
            .collect();
        page_of(items, page, page_size.or(Some(ADMIN_PAGE_SIZE)), base)
    }

    /// `GET /api/v1/orders/{id}/`.
    pub fn retrieve_order(
        &self,
        catalogue: &crate::Catalogue,
        id: &str,
    ) -> Result<Value, ApiError> {
        self.payments
            .orders
            .get(id)
            .map(|o| self.admin_order_json(catalogue, o))
            .ok_or_else(|| ApiError::not_found("Not found."))
    }

    /// `GET /api/v1/orders/{id}/events/`: the timeline of every order of the order's
    /// subscription, newest first. Each order was created and completed at once; each
    /// refund adds `order.refunded`. Event ids number the timeline from its oldest event, so
    /// that they stay the same as it grows.
    pub fn list_order_events(
        &self,
        id: &str,
        page: Option<u64>,
        page_size: Option<u64>,
        base: &str,
    ) -> Result<Value, ApiError> {
        let order = self
            .payments
            .orders
            .get(id)
            .ok_or_else(|| ApiError::not_found("Not found."))?;
        let mut events: Vec<(DateTime<Utc>, u8, &str, Value)> = Vec::new();
        for o in self
            .payments
            .orders
            .values()
            .filter(|o| o.subscription_id == order.subscription_id)
        {
            let paid = json!({"primary": format!("+{}", decimal(o.amount_units)), "secondary": "card ending 4242"});
            events.push((
                o.created,
                0,
                &o.id,
                json!({"title": "Order created", "code": "order.created", "metadata": {}}),
            ));
            events.push((
                o.created,
                1,
                &o.id,
                json!({"title": "Order completed", "code": "order.completed", "metadata": paid}),
            ));
            for refund in self.payments.refunds.iter().filter(|r| r.order_id == o.id) {
                events.push((refund.created, 2, &o.id, json!({
                    "title": "Order refunded",
                    "code": "order.refunded",
                    "metadata": {"primary": format!("-{}", decimal(refund.amount_units)), "secondary": refund.reason},
                })));
            }
        }
        events.sort_by(|a, b| (a.0, a.1, a.2).cmp(&(b.0, b.1, b.2)));
        let mut items: Vec<Value> = events
            .into_iter()
            .enumerate()
            .map(|(n, (at, _, order_id, event))| {
                json!({
                    "id": n + 1,
                    "order": order_id,
                    "title": event["title"],
                    "code": event["code"],
                    "status": "success",
                    "timestamp": at.to_rfc3339(),
                    "metadata": event["metadata"],
                })
            })
            .collect();
        items.reverse();
        page_of(items, page, page_size.or(Some(ADMIN_PAGE_SIZE)), base)
    }
}

/// What the admin lists hold a page when the request does not say (the document says 10).
pub(super) const ADMIN_PAGE_SIZE: u64 = 10;
