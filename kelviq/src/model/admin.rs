//! What the admin operations answer (feature `admin`): orders, checkout sessions, their
//! timelines, and webhook delivery attempts.
//!
//! Statuses, billing types and event codes are open strings in the document, kept as they
//! came; amounts come as the service writes them, decimal strings (`"261.00"`) and integers
//! in the currency's smallest unit. An order's `product` and `plan` are the catalog's
//! product and plan, kept as JSON so that this feature needs no other.

use chrono::{DateTime, NaiveDate, Utc};
use kelviq_gen::admin::types as wire;
use serde_json::{Map, Value};

use super::{BillingAddress, FromWire, Page};

/// Any generated value as JSON (what the SDK keeps of nested objects it does not model).
fn to_json<T: serde::Serialize>(value: T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

/// The family's own copy of the billing address, as the SDK's.
fn address(a: wire::BillingAddress) -> BillingAddress {
    BillingAddress {
        country: a.country,
        line1: a.line1,
        line2: a.line2,
        postal_code: a.postal_code,
        city: a.city,
        state: a.state,
    }
}

/// The customer of an order or a checkout session.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[non_exhaustive]
pub struct OrderCustomer {
    /// The identifier you gave the customer.
    pub customer_id: Option<String>,
    /// The customer's name.
    pub name: Option<String>,
    /// The customer's e-mail address.
    pub email: Option<String>,
}

impl FromWire<wire::OrderCustomer> for OrderCustomer {
    fn from_wire(c: wire::OrderCustomer) -> Self {
        Self {
            customer_id: c.customer_id,
            name: c.name,
            email: c.email,
        }
    }
}

/// The payment method of an order's first successful payment.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[non_exhaustive]
pub struct OrderPaymentMethod {
    /// The kind of method, such as `card`.
    pub payment_method_type: Option<String>,
    /// Its brand or name, such as `visa`.
    pub payment_method_name: Option<String>,
    /// The last four digits of a card.
    pub last4: Option<String>,
}

impl FromWire<wire::OrderPaymentMethod> for OrderPaymentMethod {
    fn from_wire(m: wire::OrderPaymentMethod) -> Self {
        Self {
            payment_method_type: m.payment_method_type,
            payment_method_name: m.payment_method_name,
            last4: m.last4,
        }
    }
}

/// The subscription an order belongs to, in brief.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[non_exhaustive]
pub struct OrderSubscription {
    /// The subscription's UUID, as text.
    pub id: Option<String>,
    /// `active`, `trialing`, `canceled`, … (open).
    pub status: Option<String>,
    /// The recurring amount, as a decimal string (`"261.00"`).
    pub amount: Option<String>,
    /// Its currency.
    pub currency: Option<String>,
    /// The billing interval, such as `month`.
    pub interval: Option<String>,
    /// The currency's symbol.
    pub currency_symbol: Option<String>,
    /// When the next invoice is due.
    pub next_invoice_date: Option<DateTime<Utc>>,
}

/// An order: one payment (or attempt) of a checkout, a subscription renewal or a charge.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[non_exhaustive]
pub struct Order {
    /// Its identifier: what [`orders().retrieve`](crate::admin::Orders::retrieve) takes.
    pub id: String,
    /// `COMPLETE`, `FAILED`, `REFUNDED`, `PARTIAL_REFUND`, `CANCELLED`, `FRAUDULENT`, or a
    /// status this SDK does not know (see [`OrderStatus`](crate::admin::OrderStatus)).
    pub status: String,
    /// Its customer.
    pub customer: Option<OrderCustomer>,
    /// When it was paid.
    pub paid_at: Option<DateTime<Utc>>,
    /// The amount before discount and tax, as a decimal string.
    pub amount_subtotal: Option<String>,
    /// The discount, as a decimal string.
    pub amount_discount: Option<String>,
    /// The tax, as a decimal string.
    pub amount_tax: Option<String>,
    /// The amount paid, as a decimal string.
    pub amount_total: Option<String>,
    /// The amount before discount and tax, in the currency's smallest unit.
    pub amount_subtotal_units: Option<i64>,
    /// The discount, in the currency's smallest unit.
    pub amount_discount_units: Option<i64>,
    /// The tax, in the currency's smallest unit.
    pub amount_tax_units: Option<i64>,
    /// The amount paid, in the currency's smallest unit.
    pub amount_total_units: Option<i64>,
    /// How much was refunded, in the currency's smallest unit.
    pub refunded_total_units: Option<i64>,
    /// The currency of the sale, such as `USD`.
    pub sale_currency: Option<String>,
    /// Its symbol.
    pub sale_currency_symbol: Option<String>,
    /// The billing address given with the order.
    pub billing_address: Option<BillingAddress>,
    /// `ONE_TIME` or `SUBSCRIPTION` (open).
    pub billing_type: Option<String>,
    /// The licenses issued for the order's subscription, as the service gives them.
    pub licenses: Vec<Value>,
    /// Whether it is a trial's.
    pub is_trial: Option<bool>,
    /// Its subscription; `None` when it has none.
    pub subscription: Option<OrderSubscription>,
    /// Its invoice.
    pub invoice_id: Option<String>,
    /// The customer's answers to the checkout's custom fields.
    pub custom_fields_data: Map<String, Value>,
    /// The payment method of the first successful payment.
    pub payment_method: Option<OrderPaymentMethod>,
    /// The catalog product bought, as JSON.
    pub product: Option<Value>,
    /// The catalog plan bought, as JSON.
    pub plan: Option<Value>,
}

impl FromWire<wire::Order> for Order {
    fn from_wire(o: wire::Order) -> Self {
        // `{}` when the order has no subscription.
        let subscription = o
            .subscription
            .filter(|s| s.id.is_some() || s.status.is_some());
        Self {
            id: o.id,
            status: o.status,
            customer: o.customer.map(OrderCustomer::from_wire),
            paid_at: o.paid_at,
            amount_subtotal: o.amount_subtotal,
            amount_discount: o.amount_discount,
            amount_tax: o.amount_tax,
            amount_total: o.amount_total,
            amount_subtotal_units: o.amount_subtotal_units,
            amount_discount_units: o.amount_discount_units,
            amount_tax_units: o.amount_tax_units,
            amount_total_units: o.amount_total_units,
            refunded_total_units: o.refunded_total_units,
            sale_currency: o.sale_currency,
            sale_currency_symbol: o.sale_currency_symbol,
            billing_address: o.billing_address.map(address),
            billing_type: o.billing_type,
            licenses: o.license.into_iter().map(to_json).collect(),
            is_trial: o.is_trial,
            subscription: subscription.map(|s| OrderSubscription {
                id: s.id.map(|id| id.to_string()),
                status: s.status,
                amount: s.amount,
                currency: s.currency,
                interval: s.interval,
                currency_symbol: s.currency_symbol,
                next_invoice_date: s.next_invoice_date,
            }),
            invoice_id: o.invoice_id,
            custom_fields_data: o.custom_fields_data,
            payment_method: o.payment_method.map(OrderPaymentMethod::from_wire),
            product: o.product.map(to_json),
            plan: o.plan.map(to_json),
        }
    }
}

/// One entry of an order's timeline.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[non_exhaustive]
pub struct OrderEvent {
    /// Its number.
    pub id: i64,
    /// The order it belongs to (the timeline covers every order of one subscription).
    pub order: String,
    /// The event, in words.
    pub title: String,
    /// The event as a code, such as `order.completed` (open).
    pub code: String,
    /// `pending`, `success` or `failed` (open).
    pub status: String,
    /// When it happened.
    pub timestamp: DateTime<Utc>,
    /// More about it; its keys depend on `code`.
    pub metadata: Map<String, Value>,
}

impl FromWire<wire::OrderEvent> for OrderEvent {
    fn from_wire(e: wire::OrderEvent) -> Self {
        Self {
            id: e.id,
            order: e.order,
            title: e.title,
            code: e.code,
            status: e.status,
            timestamp: e.timestamp,
            metadata: e.metadata,
        }
    }
}

/// A checkout session, as the list of sessions shows it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[non_exhaustive]
pub struct CheckoutSessionRecord {
    /// Its identifier: what
    /// [`checkout_sessions().retrieve`](crate::admin::CheckoutSessions::retrieve) takes.
    pub id: String,
    /// `open`, `processing`, `success`, `expired`, … (open).
    pub status: String,
    /// When it was created.
    pub created_on: DateTime<Utc>,
    /// Its customer.
    pub customer: Option<OrderCustomer>,
    /// The catalog product it sold, as JSON.
    pub product: Option<Value>,
    /// The billing address given.
    pub billing_address: Option<BillingAddress>,
    /// The discount code given.
    pub discount_code: Option<String>,
    /// The tax identifier given.
    pub tax_id: Option<String>,
    /// Its currency.
    pub currency: Option<String>,
    /// The currency's symbol.
    pub currency_symbol: Option<String>,
    /// The plan and add-ons selected.
    pub selected_data: Map<String, Value>,
    /// The offering shown.
    pub offering_data: Map<String, Value>,
    /// Further data, as the service gives it.
    pub data: Map<String, Value>,
    /// The customer's answers to the checkout's custom fields.
    pub custom_fields_data: Map<String, Value>,
    /// The `metadata` given when it was created.
    pub metadata: Map<String, Value>,
    /// The page customisation given when it was created.
    pub customization: Map<String, Value>,
    /// Trial days.
    pub trial_period: Option<i64>,
}

impl FromWire<wire::CheckoutSessionRecord> for CheckoutSessionRecord {
    fn from_wire(s: wire::CheckoutSessionRecord) -> Self {
        Self {
            id: s.id,
            status: s.status,
            created_on: s.created_on,
            customer: s.customer.map(OrderCustomer::from_wire),
            product: s.product.map(to_json),
            billing_address: s.billing_address.map(address),
            discount_code: s.discount_code,
            tax_id: s.tax_id,
            currency: s.currency,
            currency_symbol: s.currency_symbol,
            selected_data: s.selected_data,
            offering_data: s.offering_data,
            data: s.data,
            custom_fields_data: s.custom_fields_data,
            metadata: s.metadata,
            customization: s.customization,
            trial_period: s.trial_period,
        }
    }
}

/// The first order of a checkout session, in brief.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[non_exhaustive]
pub struct CheckoutSessionOrder {
    /// The order's identifier.
    pub id: Option<String>,
    /// Its status (open, see [`Order::status`]).
    pub status: Option<String>,
    /// When it was paid.
    pub paid_at: Option<DateTime<Utc>>,
    /// When it was created.
    pub created_on: Option<DateTime<Utc>>,
    /// `ONE_TIME` or `SUBSCRIPTION` (open).
    pub billing_type: Option<String>,
    /// Whether it is a trial's.
    pub is_trial: Option<bool>,
    /// A decimal string.
    pub amount_subtotal: Option<String>,
    /// A decimal string.
    pub amount_discount: Option<String>,
    /// A decimal string.
    pub amount_tax: Option<String>,
    /// A decimal string.
    pub amount_total: Option<String>,
    /// The currency of the sale.
    pub sale_currency: Option<String>,
    /// Its symbol.
    pub sale_currency_symbol: Option<String>,
    /// Its invoice.
    pub invoice_id: Option<String>,
}

/// The subscription a checkout session's order started, in brief.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[non_exhaustive]
pub struct CheckoutSessionSubscription {
    /// Its UUID, as text.
    pub id: Option<String>,
    /// Its status (open).
    pub status: Option<String>,
    /// `ONE_TIME` or `SUBSCRIPTION` (open).
    pub billing_type: Option<String>,
    /// The recurring amount, as a decimal string.
    pub amount: Option<String>,
    /// Its currency.
    pub currency: Option<String>,
    /// How it recurs, in words.
    pub recurrence: Option<String>,
    /// The unit of the recurrence, such as `MONTH`.
    pub recurrence_type: Option<String>,
    /// How many units a period lasts.
    pub recurrence_unit: Option<i64>,
    /// When the current period started.
    pub billing_period_start_time: Option<DateTime<Utc>>,
    /// When the current period ends.
    pub billing_period_end_time: Option<DateTime<Utc>>,
    /// The day it started.
    pub start_date: Option<NaiveDate>,
    /// The day it ends.
    pub end_date: Option<NaiveDate>,
    /// Trial days left.
    pub trial_days_remaining: Option<i64>,
}

/// A checkout session with what it produced: its first order, that order's subscription
/// and payment method (each `None` while there is none).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[non_exhaustive]
pub struct CheckoutSessionDetail {
    /// The session.
    pub session: CheckoutSessionRecord,
    /// Its first order.
    pub order: Option<CheckoutSessionOrder>,
    /// The subscription of that order.
    pub subscription: Option<CheckoutSessionSubscription>,
    /// The payment method of that order's first successful payment.
    pub payment_method: Option<OrderPaymentMethod>,
}

impl FromWire<wire::CheckoutSessionDetail> for CheckoutSessionDetail {
    fn from_wire(d: wire::CheckoutSessionDetail) -> Self {
        let order = d.order.map(|o| CheckoutSessionOrder {
            id: o.id,
            status: o.status,
            paid_at: o.paid_at,
            created_on: o.created_on,
            billing_type: o.billing_type,
            is_trial: o.is_trial,
            amount_subtotal: o.amount_subtotal,
            amount_discount: o.amount_discount,
            amount_tax: o.amount_tax,
            amount_total: o.amount_total,
            sale_currency: o.sale_currency,
            sale_currency_symbol: o.sale_currency_symbol,
            invoice_id: o.invoice_id,
        });
        let subscription = d.subscription.map(|s| CheckoutSessionSubscription {
            id: s.id.map(|id| id.to_string()),
            status: s.status,
            billing_type: s.billing_type,
            amount: s.amount,
            currency: s.currency,
            recurrence: s.recurrence,
            recurrence_type: s.recurrence_type,
            recurrence_unit: s.recurrence_unit,
            billing_period_start_time: s.billing_period_start_time,
            billing_period_end_time: s.billing_period_end_time,
            start_date: s.start_date,
            end_date: s.end_date,
            trial_days_remaining: s.trial_days_remaining,
        });
        Self {
            session: CheckoutSessionRecord {
                id: d.id,
                status: d.status,
                created_on: d.created_on,
                customer: d.customer.map(OrderCustomer::from_wire),
                product: d.product.map(to_json),
                billing_address: d.billing_address.map(address),
                discount_code: d.discount_code,
                tax_id: d.tax_id,
                currency: d.currency,
                currency_symbol: d.currency_symbol,
                selected_data: d.selected_data,
                offering_data: d.offering_data,
                data: d.data,
                custom_fields_data: d.custom_fields_data,
                metadata: d.metadata,
                customization: d.customization,
                trial_period: d.trial_period,
            },
            order,
            subscription,
            payment_method: d.payment_method.map(OrderPaymentMethod::from_wire),
        }
    }
}

/// One entry of a checkout session's timeline.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[non_exhaustive]
pub struct CheckoutSessionEvent {
    /// Its number.
    pub id: i64,
    /// The event, in words.
    pub title: String,
    /// The event as a code, such as `checkout_session.created` (open).
    pub code: String,
    /// `pending`, `success` or `failed` (open).
    pub status: String,
    /// When it happened.
    pub timestamp: DateTime<Utc>,
    /// More about it; its keys depend on `code`.
    pub metadata: Map<String, Value>,
}

impl FromWire<wire::CheckoutSessionEvent> for CheckoutSessionEvent {
    fn from_wire(e: wire::CheckoutSessionEvent) -> Self {
        Self {
            id: e.id,
            title: e.title,
            code: e.code,
            status: e.status,
            timestamp: e.timestamp,
            metadata: e.metadata,
        }
    }
}

/// One delivery attempt of a webhook event; each retry is an attempt of its own.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[non_exhaustive]
pub struct WebhookEventLog {
    /// The attempt's UUID, as text.
    pub id: String,
    /// The event's UUID, the same for every attempt of one event.
    pub event_id: String,
    /// The UUID of the endpoint it was sent to.
    pub endpoint: String,
    /// The event's type, such as `order.created` (open).
    pub event_type: String,
    /// The HTTP status the endpoint answered; `None` when it did not answer.
    pub status_code: Option<u16>,
    /// Whether the endpoint accepted it.
    pub is_success: bool,
    /// How many attempts came before this one (0 for the first).
    pub retry_count: u64,
    /// When this attempt was made.
    pub last_attempt: DateTime<Utc>,
    /// When the event was created (not this attempt).
    pub created_on: DateTime<Utc>,
    /// The event body as sent.
    pub payload: Map<String, Value>,
}

impl FromWire<wire::WebhookEventLog> for WebhookEventLog {
    fn from_wire(l: wire::WebhookEventLog) -> Self {
        Self {
            id: l.id.to_string(),
            event_id: l.event_id.to_string(),
            endpoint: l.endpoint.to_string(),
            event_type: l.event_type,
            status_code: l.status_code.and_then(|s| u16::try_from(s).ok()),
            is_success: l.is_success,
            retry_count: u64::try_from(l.retry_count).unwrap_or_default(),
            last_attempt: l.last_attempt,
            created_on: l.created_on,
            payload: l.payload,
        }
    }
}

/// The admin family's lists become pages of the SDK's own items.
macro_rules! admin_pages {
    ($($list:ident => $item:ty),* $(,)?) => {$(
        impl FromWire<wire::$list> for Page<$item> {
            fn from_wire(list: wire::$list) -> Self {
                Page::new(
                    list.count,
                    list.next,
                    list.previous,
                    list.results.into_iter().map(FromWire::from_wire).collect(),
                )
            }
        }
    )*};
}

admin_pages!(
    OrderList => Order,
    OrderEventList => OrderEvent,
    CheckoutSessionList => CheckoutSessionRecord,
    CheckoutSessionEventList => CheckoutSessionEvent,
    WebhookEventLogList => WebhookEventLog,
);
