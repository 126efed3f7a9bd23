//! What subscription changes answer.

use kelviq_gen::types as wire;

use super::FromWire;

/// The answer to a subscription update.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct SubscriptionUpdated {
    /// The subscription, now on its new plan.
    pub subscription_id: String,
}

impl FromWire<wire::SubscriptionUpdated> for SubscriptionUpdated {
    fn from_wire(answer: wire::SubscriptionUpdated) -> Self {
        Self {
            subscription_id: answer.subscription_id.to_string(),
        }
    }
}

/// The answer to a cancellation.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct SubscriptionCancelled {
    /// The service's message.
    pub message: String,
}

impl FromWire<wire::SubscriptionCancelled> for SubscriptionCancelled {
    fn from_wire(answer: wire::SubscriptionCancelled) -> Self {
        Self {
            message: answer.message,
        }
    }
}

/// A subscription, or (with `billing_type` `ONE_TIME`) a one-time charge.
///
/// The open strings (`status`, `billing_type`, `recurrence_type`, the cancellation fields)
/// are kept as the service wrote them: it may add values.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[non_exhaustive]
pub struct Subscription {
    /// Its identifier.
    pub id: String,
    /// The payment provider's identifier.
    pub external_subscription_id: Option<String>,
    /// The customer.
    pub customer_id: Option<String>,
    /// `active`, `trialing`, `canceled`, …
    pub status: Option<String>,
    /// `SUBSCRIPTION` or `ONE_TIME`.
    pub billing_type: String,
    /// The day it started.
    pub start_date: chrono::NaiveDate,
    /// The day it ends, when it does.
    pub end_date: Option<chrono::NaiveDate>,
    /// The current billing period.
    pub billing_period_start_time: Option<chrono::DateTime<chrono::Utc>>,
    /// The end of the current billing period.
    pub billing_period_end_time: Option<chrono::DateTime<chrono::Utc>>,
    /// When the next invoice is due, as the service wrote it.
    pub next_invoice_date: Option<String>,
    /// The recurring amount, as a decimal string (`"49.00"`): exact, unlike a float.
    pub amount: Option<String>,
    /// The currency.
    pub currency: Option<String>,
    /// The billing cycle in words (`1 month`).
    pub recurrence: Option<String>,
    /// The cycle's unit (`MONTH`).
    pub recurrence_type: Option<String>,
    /// How many units make one cycle.
    pub recurrence_unit: Option<i64>,
    /// Days of trial left.
    pub trial_days_remaining: i64,
    /// The plan: `(identifier, name)`, when the service named it.
    pub plan: Option<PlanRef>,
    /// The product, by name or as an object.
    pub product: Option<serde_json::Value>,
    /// The plan's features as the service describes them.
    pub features: Vec<serde_json::Map<String, serde_json::Value>>,
    /// Links the plan grants.
    pub links: Vec<serde_json::Value>,
    /// Files the plan grants.
    pub files: Vec<serde_json::Value>,
    /// License keys the plan issued.
    pub licenses: Vec<serde_json::Value>,
    /// When it was cancelled.
    pub canceled_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Who cancelled it (`CANCELLED_BY_CUSTOMER`, …).
    pub cancellation_reason: Option<String>,
    /// The customer's reason (`TOO_EXPENSIVE`, …).
    pub cancellation_feedback: Option<String>,
    /// The customer's own words.
    pub cancellation_comment: Option<String>,
}

/// A plan as a subscription names it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct PlanRef {
    /// The plan's identifier.
    pub identifier: Option<String>,
    /// The plan's name.
    pub name: Option<String>,
}

fn to_json<T: serde::Serialize>(value: T) -> serde_json::Value {
    serde_json::to_value(value).unwrap_or(serde_json::Value::Null)
}

impl FromWire<wire::Subscription> for Subscription {
    fn from_wire(s: wire::Subscription) -> Self {
        Self {
            id: s.id.to_string(),
            external_subscription_id: s.external_subscription_id,
            customer_id: s.customer_id,
            status: s.status,
            billing_type: s.billing_type,
            start_date: s.start_date,
            end_date: s.end_date,
            billing_period_start_time: s.billing_period_start_time,
            billing_period_end_time: s.billing_period_end_time,
            next_invoice_date: s.next_invoice_date,
            amount: s.amount,
            currency: s.currency,
            recurrence: s.recurrence,
            recurrence_type: s.recurrence_type,
            recurrence_unit: s.recurrence_unit,
            trial_days_remaining: s.trial_days_remaining.unwrap_or(0),
            plan: s.plan.map(|plan| PlanRef {
                identifier: plan.identifier,
                name: plan.name,
            }),
            product: s.product.map(to_json),
            features: s.features,
            links: s.links.into_iter().map(to_json).collect(),
            files: s.files.into_iter().map(to_json).collect(),
            licenses: s.license.into_iter().map(to_json).collect(),
            canceled_at: s.canceled_at,
            cancellation_reason: s.cancellation_reason,
            cancellation_feedback: s.cancellation_feedback,
            cancellation_comment: s.cancellation_comment,
        }
    }
}

/// What a plan change would cost; amounts as decimals and in the currency's smallest unit.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[non_exhaustive]
pub struct SubscriptionUpdatePreview {
    /// The currency.
    pub currency: Option<String>,
    /// The new recurring amount.
    pub recurring_amount: Option<f64>,
    /// The new recurring amount in the smallest unit.
    pub recurring_amount_units: Option<i64>,
    /// What would be charged now.
    pub amount_charged_immediately: Option<f64>,
    /// What would be charged now, in the smallest unit.
    pub amount_charged_immediately_units: Option<i64>,
    /// The next invoice.
    pub next_invoice: Option<PreviewInvoice>,
}

/// The next invoice of a [`SubscriptionUpdatePreview`].
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[non_exhaustive]
pub struct PreviewInvoice {
    /// What it will ask.
    pub amount_due: Option<f64>,
    /// What it will ask, in the smallest unit.
    pub amount_due_units: Option<i64>,
    /// When payment will be attempted.
    pub next_payment_attempt: Option<String>,
    /// Its lines: `(description, amount, amount in the smallest unit)`.
    pub line_items: Vec<(Option<String>, Option<f64>, Option<i64>)>,
}

impl FromWire<wire::SubscriptionUpdatePreview> for SubscriptionUpdatePreview {
    fn from_wire(p: wire::SubscriptionUpdatePreview) -> Self {
        Self {
            currency: p.currency,
            recurring_amount: p.recurring_amount,
            recurring_amount_units: p.recurring_amount_units,
            amount_charged_immediately: p.amount_charged_immediately,
            amount_charged_immediately_units: p.amount_charged_immediately_units,
            next_invoice: p.next_invoice.map(|invoice| PreviewInvoice {
                amount_due: invoice.amount_due,
                amount_due_units: invoice.amount_due_units,
                next_payment_attempt: invoice.next_payment_attempt,
                line_items: invoice
                    .line_items
                    .into_iter()
                    .map(|line| (line.description, line.amount, line.amount_units))
                    .collect(),
            }),
        }
    }
}
