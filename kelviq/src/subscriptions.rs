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
//!     .cancellation_date("2025-12-31")
//!     .send()
//!     .await?;
//! println!("{}", cancelled.message);
//! # Ok(()) }
//! ```
//!
//! A change the service accepted, or one whose outcome is unknown (a time-out, a broken
//! connection, a 5xx), retires every customer's cached entitlements: the answer does not say
//! whose subscription it was. Each set stays as a fallback while the edge host fails.

use kelviq_gen::types as wire;

use crate::core::Core;
use crate::error::{Result, ValidationError};
use crate::model::FromWire;
use crate::model::{SubscriptionCancelled, SubscriptionUpdated};
use crate::request::{invalid, request_options, send_impls, Async, Ctx, RequestOptions};
use crate::response::Response;
use crate::time::{IntoTime, TimeInput};
use crate::transport::RetryRule;
use crate::types::{
    CancellationType, ChargePeriod, FeatureQuantity, PaymentBehavior, ProrationBehavior,
};
use crate::validate;

/// The subscription operations, from [`Client::subscriptions`](crate::Client::subscriptions).
#[derive(Debug, Clone, Copy)]
pub struct Subscriptions<'a, M = Async> {
    ctx: &'a Ctx<M>,
}

impl<'a, M: Clone> Subscriptions<'a, M> {
    pub(crate) fn new(ctx: &'a Ctx<M>) -> Self {
        Self { ctx }
    }

    /// Moves the subscription to `plan_identifier`, billed every `charge_period`. Not
    /// resent once the service may have received it.
    pub fn update(
        &self,
        subscription_id: impl Into<String>,
        plan_identifier: impl Into<String>,
        charge_period: ChargePeriod,
    ) -> UpdateSubscription<M> {
        UpdateSubscription {
            ctx: self.ctx.clone(),
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
            options: RequestOptions::default(),
        }
    }

    /// Cancels the subscription. [`CancellationType::SpecificDate`] needs
    /// [`cancellation_date`](CancelSubscription::cancellation_date); the other types refuse
    /// one. Not resent once the service may have received it.
    pub fn cancel(
        &self,
        subscription_id: impl Into<String>,
        cancellation_type: CancellationType,
    ) -> CancelSubscription<M> {
        CancelSubscription {
            ctx: self.ctx.clone(),
            subscription_id: subscription_id.into(),
            cancellation_type,
            cancellation_date: None,
            options: RequestOptions::default(),
        }
    }
}

/// Moves a subscription to another plan; made by [`Subscriptions::update`].
#[derive(Debug, Clone)]
#[must_use = "a request does nothing until `send` is called"]
pub struct UpdateSubscription<M = Async> {
    ctx: Ctx<M>,
    subscription_id: String,
    plan_identifier: String,
    charge_period: ChargePeriod,
    offering_id: Option<String>,
    pricing_table_id: Option<String>,
    rule_id: Option<String>,
    ip_address: Option<String>,
    features: Vec<FeatureQuantity>,
    proration_behavior: Option<ProrationBehavior>,
    trial_end: Option<TimeInput>,
    payment_behavior: Option<PaymentBehavior>,
    options: RequestOptions,
}

impl<M> UpdateSubscription<M> {
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

    /// When the trial ends: `"now"`, or a future instant (a `chrono` date-time,
    /// `SystemTime`, or RFC 3339 text; see [`IntoTime`]).
    pub fn trial_end(mut self, trial_end: impl IntoTime) -> Self {
        self.trial_end = Some(trial_end.into_time());
        self
    }

    /// When the change takes effect with respect to payment.
    pub fn payment_behavior(mut self, payment_behavior: PaymentBehavior) -> Self {
        self.payment_behavior = Some(payment_behavior);
        self
    }

    fn body(
        &self,
    ) -> Result<
        (
            wire::UpdateSubscriptionSubscriptionId,
            wire::UpdateSubscriptionRequest,
        ),
        ValidationError,
    > {
        let subscription_id = validate::path_segment("subscription_id", &self.subscription_id)?;
        let body = wire::UpdateSubscriptionRequest {
            plan_identifier: validate::identifier("plan_identifier", &self.plan_identifier)?,
            charge_period: self.charge_period.to_wire(),
            offering_id: self.offering_id.clone(),
            pricing_table_id: self.pricing_table_id.clone(),
            rule_id: self.rule_id.clone(),
            ip_address: self
                .ip_address
                .clone()
                .map(|ip| validate::ip_address("ip_address", ip))
                .transpose()?,
            features: validate::features(&self.features)?,
            proration_behavior: self.proration_behavior.map(ProrationBehavior::to_wire),
            trial_end: self
                .trial_end
                .as_ref()
                .map(validate::trial_end)
                .transpose()?,
            payment_behavior: self.payment_behavior.map(PaymentBehavior::to_wire),
        };
        Ok((subscription_id, body))
    }

    async fn execute(self, want_raw: bool) -> Result<Response<SubscriptionUpdated>> {
        const OPERATION: &str = "subscriptions.update";
        let (subscription_id, body) = self.body().map_err(invalid(OPERATION))?;
        let overrides = self
            .options
            .overrides(want_raw)
            .map_err(invalid(OPERATION))?;
        let core = &self.ctx.core;
        let spec = core.spec(OPERATION, RetryRule::NOT_IDEMPOTENT, &overrides);
        let answer = core
            .call(
                spec,
                core.api()
                    .update_subscription()
                    .subscription_id(subscription_id)
                    .body(body)
                    .send(),
            )
            .await;
        after_change(core, &answer);
        let answered = answer?;
        Ok(Response::new(
            FromWire::from_wire(answered.value),
            answered.raw,
        ))
    }
}

request_options!([M] UpdateSubscription<M>);
send_impls!(UpdateSubscription => SubscriptionUpdated);

/// After a subscription change that was applied, or may have been, retires every cached
/// entitlement set: the answer does not say whose subscription it was.
fn after_change<T>(core: &Core, answer: &Result<T>) {
    let changed = match answer {
        Ok(_) => true,
        Err(error) => error.is_unconfirmed(),
    };
    if changed {
        core.invalidate_all_entitlements();
    }
}

/// Cancels a subscription; made by [`Subscriptions::cancel`].
#[derive(Debug, Clone)]
#[must_use = "a request does nothing until `send` is called"]
pub struct CancelSubscription<M = Async> {
    ctx: Ctx<M>,
    subscription_id: String,
    cancellation_type: CancellationType,
    cancellation_date: Option<TimeInput>,
    options: RequestOptions,
}

impl<M> CancelSubscription<M> {
    /// The day the subscription ends (a `chrono::NaiveDate` or `"YYYY-MM-DD"`; see
    /// [`IntoTime`]); required with [`CancellationType::SpecificDate`] and refused with the
    /// other types.
    pub fn cancellation_date(mut self, date: impl IntoTime) -> Self {
        self.cancellation_date = Some(date.into_time());
        self
    }

    fn body(
        &self,
    ) -> Result<
        (
            wire::CancelSubscriptionSubscriptionId,
            wire::CancelSubscriptionRequest,
        ),
        ValidationError,
    > {
        let subscription_id = validate::path_segment("subscription_id", &self.subscription_id)?;
        let date = self
            .cancellation_date
            .as_ref()
            .map(|date| date.as_date("cancellation_date"))
            .transpose()?;
        match (self.cancellation_type, date) {
            (CancellationType::SpecificDate, None) => {
                return Err(ValidationError::new(
                    "cancellation_date",
                    "none",
                    "a date (YYYY-MM-DD) with cancellation type SPECIFIC_DATE",
                ))
            }
            (other, Some(date)) if other != CancellationType::SpecificDate => {
                return Err(ValidationError::new(
                    "cancellation_date",
                    date.to_string(),
                    format!("no date with cancellation type {other}; only SPECIFIC_DATE takes one"),
                ))
            }
            _ => {}
        }
        let body = wire::CancelSubscriptionRequest {
            cancellation_type: self.cancellation_type.to_wire(),
            cancellation_date: date,
        };
        Ok((subscription_id, body))
    }

    async fn execute(self, want_raw: bool) -> Result<Response<SubscriptionCancelled>> {
        const OPERATION: &str = "subscriptions.cancel";
        let (subscription_id, body) = self.body().map_err(invalid(OPERATION))?;
        let overrides = self
            .options
            .overrides(want_raw)
            .map_err(invalid(OPERATION))?;
        let core = &self.ctx.core;
        let spec = core.spec(OPERATION, RetryRule::NOT_IDEMPOTENT, &overrides);
        let answer = core
            .call(
                spec,
                core.api()
                    .cancel_subscription()
                    .subscription_id(subscription_id)
                    .body(body)
                    .send(),
            )
            .await;
        after_change(core, &answer);
        let answered = answer?;
        Ok(Response::new(
            FromWire::from_wire(answered.value),
            answered.raw,
        ))
    }
}

request_options!([M] CancelSubscription<M>);
send_impls!(CancelSubscription => SubscriptionCancelled);
