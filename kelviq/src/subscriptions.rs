//! Subscriptions: move a subscription to another plan, or cancel it.
//!
//! ```no_run
//! use kelviq::{CancellationType, ChargePeriod, FeatureQuantity};
//!
//! # async fn run(client: kelviq::Client) -> kelviq::Result<()> {
//! let updated = client
//!     .subscriptions()
//!     .update("78058918-9746-4280-9b9b-1bd5115eec6e", "new_plan_enterprise", ChargePeriod::Yearly)
//!     .features([FeatureQuantity::new("seats", 10)])
//!     .send()
//!     .await?;
//! println!("{}", updated.subscription_id);
//!
//! let cancelled = client
//!     .subscriptions()
//!     .cancel("78058918-9746-4280-9b9b-1bd5115eec6e", CancellationType::SpecificDate)
//!     .cancellation_date(chrono::NaiveDate::from_ymd_opt(2025, 12, 31).unwrap())
//!     .send()
//!     .await?;
//! println!("{}", cancelled.message);
//! # Ok(()) }
//! ```

use chrono::NaiveDate;
use kelviq_gen::types as wire;

use crate::client::{send_impls, Async, Ctx};
use crate::error::{Result, ValidationError};
use crate::transport::Idempotency;
use crate::types::{
    CancellationType, ChargePeriod, FeatureQuantity, PaymentBehavior, ProrationBehavior,
};
use crate::validate;

/// The answer to a cancellation.
pub use kelviq_gen::types::SubscriptionCancelled;
/// The answer to a subscription update.
pub use kelviq_gen::types::SubscriptionUpdated;

/// The subscription operations, from [`Client::subscriptions`](crate::Client::subscriptions).
#[derive(Debug, Clone, Copy)]
pub struct Subscriptions<'a, M = Async> {
    ctx: Ctx<'a, M>,
}

impl<'a, M: Copy> Subscriptions<'a, M> {
    pub(crate) fn new(ctx: Ctx<'a, M>) -> Self {
        Self { ctx }
    }

    /// Moves the subscription to `plan_identifier`, billed every `charge_period`. Not
    /// retried once the service may have received it.
    pub fn update(
        &self,
        subscription_id: impl Into<String>,
        plan_identifier: impl Into<String>,
        charge_period: ChargePeriod,
    ) -> UpdateSubscription<'a, M> {
        UpdateSubscription {
            ctx: self.ctx,
            subscription_id: subscription_id.into(),
            plan_identifier: plan_identifier.into(),
            charge_period,
            offering_id: None,
            pricing_table_id: None,
            rule_id: None,
            ip_address: None,
            features: Vec::new(),
            proration_behavior: None,
            trial_end: None,
            payment_behavior: None,
        }
    }

    /// Cancels the subscription. [`CancellationType::SpecificDate`] needs
    /// [`cancellation_date`](CancelSubscription::cancellation_date); the other types refuse
    /// one. Not retried once the service may have received it.
    pub fn cancel(
        &self,
        subscription_id: impl Into<String>,
        cancellation_type: CancellationType,
    ) -> CancelSubscription<'a, M> {
        CancelSubscription {
            ctx: self.ctx,
            subscription_id: subscription_id.into(),
            cancellation_type,
            cancellation_date: None,
        }
    }
}

/// Moves a subscription to another plan; made by [`Subscriptions::update`].
#[derive(Debug, Clone)]
#[must_use = "a request does nothing until `send` is called"]
pub struct UpdateSubscription<'a, M = Async> {
    ctx: Ctx<'a, M>,
    subscription_id: String,
    plan_identifier: String,
    charge_period: ChargePeriod,
    offering_id: Option<String>,
    pricing_table_id: Option<String>,
    rule_id: Option<String>,
    ip_address: Option<String>,
    features: Vec<FeatureQuantity>,
    proration_behavior: Option<ProrationBehavior>,
    trial_end: Option<String>,
    payment_behavior: Option<PaymentBehavior>,
}

impl<M> UpdateSubscription<'_, M> {
    /// The new offering, if applicable.
    pub fn offering_id(mut self, offering_id: impl Into<String>) -> Self {
        self.offering_id = Some(offering_id.into());
        self
    }

    /// The new pricing table, if applicable.
    pub fn pricing_table_id(mut self, pricing_table_id: impl Into<String>) -> Self {
        self.pricing_table_id = Some(pricing_table_id.into());
        self
    }

    /// The new pricing rule, if applicable.
    pub fn rule_id(mut self, rule_id: impl Into<String>) -> Self {
        self.rule_id = Some(rule_id.into());
        self
    }

    /// The customer's IP address, for location-based pricing.
    pub fn ip_address(mut self, ip_address: impl Into<String>) -> Self {
        self.ip_address = Some(ip_address.into());
        self
    }

    /// New quantities of the plan's customizable features.
    pub fn features<F: Into<FeatureQuantity>>(
        mut self,
        features: impl IntoIterator<Item = F>,
    ) -> Self {
        self.features = features.into_iter().map(Into::into).collect();
        self
    }

    /// How the change is charged (default: the organisation's setting).
    pub fn proration_behavior(mut self, proration_behavior: ProrationBehavior) -> Self {
        self.proration_behavior = Some(proration_behavior);
        self
    }

    /// When the trial ends: `now`, or a future RFC 3339 date-time.
    pub fn trial_end(mut self, trial_end: impl Into<String>) -> Self {
        self.trial_end = Some(trial_end.into());
        self
    }

    /// When the change takes effect with respect to payment.
    pub fn payment_behavior(mut self, payment_behavior: PaymentBehavior) -> Self {
        self.payment_behavior = Some(payment_behavior);
        self
    }

    async fn execute(self) -> Result<SubscriptionUpdated> {
        let subscription_id: wire::UpdateSubscriptionSubscriptionId =
            validate::path_identifier("subscription_id", &self.subscription_id)?;
        let body = wire::UpdateSubscriptionRequest {
            plan_identifier: validate::identifier("plan_identifier", &self.plan_identifier)?,
            charge_period: self.charge_period.into(),
            offering_id: self.offering_id,
            pricing_table_id: self.pricing_table_id,
            rule_id: self.rule_id,
            ip_address: self
                .ip_address
                .map(|ip| validate::ip_address("ip_address", ip))
                .transpose()?,
            features: validate::features(&self.features)?,
            proration_behavior: self.proration_behavior.map(Into::into),
            trial_end: self.trial_end.map(trial_end).transpose()?,
            payment_behavior: self.payment_behavior.map(Into::into),
        };
        let client = self.ctx.client;
        let answer = client
            .call(
                "subscriptions.update",
                Idempotency::Unsafe,
                client
                    .api()
                    .update_subscription()
                    .subscription_id(subscription_id)
                    .body(body)
                    .send(),
            )
            .await;
        after_change(client, answer)
    }
}

send_impls!(UpdateSubscription => SubscriptionUpdated);

/// After a subscription change the service accepted, forgets every cached entitlement set:
/// the answer does not say whose subscription it was.
fn after_change<T>(client: &crate::Client, answer: Result<T>) -> Result<T> {
    if answer.is_ok() {
        if let Some(cache) = client.cache() {
            cache.clear();
        }
    }
    answer
}

fn trial_end(value: String) -> Result<String, ValidationError> {
    if value == "now" {
        return Ok(value);
    }
    match chrono::DateTime::parse_from_rfc3339(&value) {
        Ok(at) if at > chrono::Utc::now() => Ok(value),
        _ => Err(ValidationError::new(
            "trial_end",
            value,
            "\"now\" or a future RFC 3339 date-time such as 2030-01-31T00:00:00Z",
        )),
    }
}

/// Cancels a subscription; made by [`Subscriptions::cancel`].
#[derive(Debug, Clone)]
#[must_use = "a request does nothing until `send` is called"]
pub struct CancelSubscription<'a, M = Async> {
    ctx: Ctx<'a, M>,
    subscription_id: String,
    cancellation_type: CancellationType,
    cancellation_date: Option<NaiveDate>,
}

impl<M> CancelSubscription<'_, M> {
    /// The day the subscription ends; required with [`CancellationType::SpecificDate`] and
    /// refused with the other types.
    pub fn cancellation_date(mut self, date: NaiveDate) -> Self {
        self.cancellation_date = Some(date);
        self
    }

    async fn execute(self) -> Result<SubscriptionCancelled> {
        let subscription_id: wire::CancelSubscriptionSubscriptionId =
            validate::path_identifier("subscription_id", &self.subscription_id)?;
        match (self.cancellation_type, self.cancellation_date) {
            (CancellationType::SpecificDate, None) => {
                return Err(ValidationError::new(
                    "cancellation_date",
                    "none",
                    "a date (YYYY-MM-DD) with cancellation type SPECIFIC_DATE",
                )
                .into())
            }
            (other, Some(date)) if other != CancellationType::SpecificDate => {
                return Err(ValidationError::new(
                    "cancellation_date",
                    date.to_string(),
                    format!("no date with cancellation type {other}; only SPECIFIC_DATE takes one"),
                )
                .into())
            }
            _ => {}
        }
        let body = wire::CancelSubscriptionRequest {
            cancellation_type: self.cancellation_type.into(),
            cancellation_date: self.cancellation_date,
        };
        let client = self.ctx.client;
        let answer = client
            .call(
                "subscriptions.cancel",
                Idempotency::Unsafe,
                client
                    .api()
                    .cancel_subscription()
                    .subscription_id(subscription_id)
                    .body(body)
                    .send(),
            )
            .await;
        after_change(client, answer)
    }
}

send_impls!(CancelSubscription => SubscriptionCancelled);
