//! Money: refunds, transactions, saved payment methods.

use chrono::{DateTime, NaiveDate, Utc};
use kelviq_gen::types as wire;
use serde_json::{Map, Value};

use super::{BillingAddress, FromWire};

/// A refund of an order.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[non_exhaustive]
pub struct Refund {
    /// Its identifier.
    pub id: String,
    /// Why (an open string: `DASHBOARD_INITIATED` is one the service adds).
    pub reason: Option<String>,
    /// The amount in the currency's smallest unit.
    pub amount_units: i64,
    /// The amount as a decimal.
    pub amount: f64,
    /// Your note.
    pub internal_note: Option<String>,
    /// Why it failed, when it did.
    pub failure_reason: Option<String>,
    /// `PENDING`, `PROCESSING`, `SUCCEEDED`, `FAILED`, `CANCELED` (open).
    pub status: String,
    /// The order refunded, as the service describes it.
    pub order: Map<String, Value>,
}

impl FromWire<wire::Refund> for Refund {
    fn from_wire(r: wire::Refund) -> Self {
        Self {
            id: r.id.to_string(),
            reason: r.reason,
            amount_units: r.amount_units,
            amount: r.amount,
            internal_note: r.internal_note,
            failure_reason: r.failure_reason,
            status: r.status,
            order: r.order,
        }
    }
}

/// One money movement of the organisation.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[non_exhaustive]
pub struct Transaction {
    /// Its identifier.
    pub id: String,
    /// `CHARGE`, `REFUND`, `CHARGEBACK`, … (open).
    pub transaction_type: Option<String>,
    /// `success`, `failure`, `pending` (open).
    pub status: Option<String>,
    /// When it happened.
    pub created_on: Option<DateTime<Utc>>,
    /// The currency.
    pub currency: Option<String>,
    /// The total amount.
    pub amount_total: Option<f64>,
    /// The merchant-of-record fee.
    pub mor_fee: Option<f64>,
    /// The tax collected.
    pub collected_tax: Option<f64>,
    /// What is paid out.
    pub net_payout: Option<f64>,
    /// Whether it is settled.
    pub is_settled: Option<bool>,
    /// The day its money is available, when the service says.
    pub available_on: Option<NaiveDate>,
    /// The order, as the service describes it.
    pub order: Option<Map<String, Value>>,
    /// Everything else the service said, kept as it came.
    pub details: Map<String, Value>,
}

impl FromWire<wire::Transaction> for Transaction {
    fn from_wire(t: wire::Transaction) -> Self {
        let mut details = Map::new();
        let mut keep = |key: &str, value: Option<Value>| {
            if let Some(value) = value {
                details.insert(key.to_owned(), value);
            }
        };
        keep("currencySymbol", t.currency_symbol.map(Value::from));
        keep("paymentMethodType", t.payment_method_type.map(Value::from));
        keep("paymentMethodName", t.payment_method_name.map(Value::from));
        keep("last4", t.last4.map(Value::from));
        keep(
            "morFeeBreakdown",
            Some(Value::Array(
                t.mor_fee_breakdown.into_iter().map(Value::Object).collect(),
            )),
        );
        Self {
            id: t.id.to_string(),
            transaction_type: t.transaction_type,
            status: t.status,
            created_on: t.created_on,
            currency: t.currency,
            amount_total: t.amount_total,
            mor_fee: t.mor_fee,
            collected_tax: t.collected_tax,
            net_payout: t.net_payout,
            is_settled: t.is_settled,
            available_on: t.available_on,
            order: t.order,
            details,
        }
    }
}

/// A customer's saved payment method.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[non_exhaustive]
pub struct PaymentMethod {
    /// Its identifier (an integer, as the service numbers them).
    pub id: i64,
    /// The customer's identifier.
    pub customer_id: Option<String>,
    /// The customer's e-mail address.
    pub customer_email: Option<String>,
    /// The customer's billing address.
    pub billing_address: Option<BillingAddress>,
    /// `card`, …
    pub method_type: Option<String>,
    /// What the provider says about it (brand, last digits, …).
    pub method_data: Map<String, Value>,
    /// Whether it is the customer's default.
    pub is_default: bool,
    /// `succeeded` or `requires_action` (open).
    pub status: Option<String>,
    /// When it was saved.
    pub created_on: Option<String>,
}

impl FromWire<wire::PaymentMethod> for PaymentMethod {
    fn from_wire(p: wire::PaymentMethod) -> Self {
        let customer = p.customer;
        Self {
            id: p.id,
            customer_id: customer.as_ref().and_then(|c| c.customer_id.clone()),
            customer_email: customer.as_ref().and_then(|c| c.email.clone()),
            billing_address: customer
                .and_then(|c| c.billing_address)
                .map(BillingAddress::from_wire),
            method_type: p.method_type,
            method_data: p.method_data,
            is_default: p.is_default.unwrap_or(false),
            status: p.status,
            created_on: p.created_on,
        }
    }
}
