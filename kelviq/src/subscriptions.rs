//! Subscriptions: list, read, create, preview a change, move to another plan, cancel.
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
//!
//! // What a change would cost, without changing anything.
//! let preview = client
//!     .subscriptions()
//!     .preview_update("78058918-9746-4280-9b9b-1bd5115eec6e", "premium-plan", ChargePeriod::Monthly)
//!     .send()
//!     .await?;
//! println!("{:?} now, {:?} per period", preview.amount_charged_immediately, preview.recurring_amount);
//!
//! // One customer's subscriptions, a page at a time.
//! let page = client.subscriptions().list().customer_id("cust_789").send().await?;
//! for subscription in &page.results {
//!     println!("{} {:?}", subscription.id, subscription.status);
//! }
//! # Ok(()) }
//! ```
//!
//! A change the service accepted, or one whose outcome is unknown (a time-out, a broken
//! connection, a 5xx), retires every customer's cached entitlements: the answer does not say
//! whose subscription it was. Each set stays as a fallback while the edge host fails.

use kelviq_gen::types as wire;

use crate::core::Core;
use crate::error::{Result, ValidationError};
use crate::model::{
    FromWire, Page, Subscription, SubscriptionCancelled, SubscriptionUpdatePreview,
    SubscriptionUpdated,
};
use crate::paging::list_impls;
use crate::plan::{plan_setters, PlanFields};
use crate::request::{invalid, request_options, send_impls, Async, Ctx, RequestOptions};
use crate::response::Response;
use crate::time::{IntoTime, TimeInput};
use crate::transport::RetryRule;
use crate::types::{
    CancellationFeedback, CancellationType, ChargePeriod, PaymentBehavior, ProrationBehavior,
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
            plan: PlanFields::new(plan_identifier.into(), charge_period),
            proration_behavior: None,
            payment_behavior: None,
            options: RequestOptions::default(),
        }
    }

    /// Says what moving the subscription to `plan_identifier` would cost, without changing
    /// anything. Safe to repeat.
    pub fn preview_update(
        &self,
        subscription_id: impl Into<String>,
        plan_identifier: impl Into<String>,
        charge_period: ChargePeriod,
    ) -> PreviewSubscriptionUpdate<M> {
        PreviewSubscriptionUpdate {
            ctx: self.ctx.clone(),
            subscription_id: subscription_id.into(),
            plan: PlanFields::new(plan_identifier.into(), charge_period),
            proration_behavior: None,
            options: RequestOptions::default(),
        }
    }

    /// Subscribes an existing customer to `plan_identifier` directly, charging their saved
    /// payment method. Not resent once the service may have received it (a second call
    /// subscribes twice); the customer's cached entitlements are retired.
    pub fn create(
        &self,
        customer_id: impl Into<String>,
        plan_identifier: impl Into<String>,
        charge_period: ChargePeriod,
    ) -> CreateSubscription<M> {
        CreateSubscription {
            ctx: self.ctx.clone(),
            customer_id: customer_id.into(),
            plan: PlanFields::new(plan_identifier.into(), charge_period),
            success_url: None,
            options: RequestOptions::default(),
        }
    }

    /// Reads one subscription.
    pub fn retrieve(&self, subscription_id: impl Into<String>) -> RetrieveSubscription<M> {
        RetrieveSubscription {
            ctx: self.ctx.clone(),
            subscription_id: subscription_id.into(),
            options: RequestOptions::default(),
        }
    }

    /// Lists subscriptions a page at a time, optionally one customer's, by status, by start
    /// or modification time: [`send`](ListSubscriptions::send) reads one page,
    /// `into_stream()` (async) or a `for` loop (blocking) walks every one.
    pub fn list(&self) -> ListSubscriptions<M> {
        ListSubscriptions {
            ctx: self.ctx.clone(),
            page: None,
            page_size: None,
            filters: SubscriptionFilters::default(),
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
            feedback: None,
            comment: None,
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
    plan: PlanFields,
    proration_behavior: Option<ProrationBehavior>,
    payment_behavior: Option<PaymentBehavior>,
    options: RequestOptions,
}

plan_setters!(UpdateSubscription: features, ip_address, trial_end, offering_id, pricing_table_id, rule_id);

impl<M> UpdateSubscription<M> {
    /// How the change is charged (default: the organisation's setting).
    pub fn proration_behavior(mut self, proration_behavior: ProrationBehavior) -> Self {
        self.proration_behavior = Some(proration_behavior);
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
        let plan = self.plan.check()?;
        let body = wire::UpdateSubscriptionRequest {
            plan_identifier: validate::identifier("plan_identifier", &plan.plan_identifier)?,
            charge_period: plan.charge_period,
            offering_id: plan.offering_id,
            pricing_table_id: plan.pricing_table_id,
            rule_id: plan.rule_id,
            ip_address: plan.ip_address,
            features: plan.features,
            proration_behavior: self.proration_behavior.map(ProrationBehavior::to_wire),
            trial_end: plan.trial_end,
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

/// Previews a plan change; made by [`Subscriptions::preview_update`].
#[derive(Debug, Clone)]
#[must_use = "a request does nothing until `send` is called"]
pub struct PreviewSubscriptionUpdate<M = Async> {
    ctx: Ctx<M>,
    subscription_id: String,
    plan: PlanFields,
    proration_behavior: Option<ProrationBehavior>,
    options: RequestOptions,
}

plan_setters!(PreviewSubscriptionUpdate: features, ip_address, trial_end);

impl<M> PreviewSubscriptionUpdate<M> {
    /// How the change would be charged (default: the organisation's setting).
    pub fn proration_behavior(mut self, proration_behavior: ProrationBehavior) -> Self {
        self.proration_behavior = Some(proration_behavior);
        self
    }

    async fn execute(self, want_raw: bool) -> Result<Response<SubscriptionUpdatePreview>> {
        const OPERATION: &str = "subscriptions.preview_update";
        let (subscription_id, body) = (|| {
            let subscription_id: wire::PreviewSubscriptionUpdateSubscriptionId =
                validate::path_segment("subscription_id", &self.subscription_id)?;
            let plan = self.plan.check()?;
            Ok::<_, ValidationError>((
                subscription_id,
                wire::PreviewSubscriptionUpdateRequest {
                    plan_identifier: validate::identifier(
                        "plan_identifier",
                        &plan.plan_identifier,
                    )?,
                    charge_period: plan.charge_period,
                    proration_behavior: self.proration_behavior.map(ProrationBehavior::to_wire),
                    features: plan.features,
                    ip_address: plan.ip_address,
                    trial_end: plan.trial_end,
                },
            ))
        })()
        .map_err(invalid(OPERATION))?;
        self.ctx
            .api_call(
                OPERATION,
                RetryRule::IDEMPOTENT,
                &self.options,
                want_raw,
                |api| {
                    api.preview_subscription_update()
                        .subscription_id(subscription_id)
                        .body(body)
                        .send()
                },
            )
            .await
    }
}

request_options!([M] PreviewSubscriptionUpdate<M>);
send_impls!(PreviewSubscriptionUpdate => SubscriptionUpdatePreview);

/// Creates a subscription; made by [`Subscriptions::create`].
#[derive(Debug, Clone)]
#[must_use = "a request does nothing until `send` is called"]
pub struct CreateSubscription<M = Async> {
    ctx: Ctx<M>,
    customer_id: String,
    plan: PlanFields,
    success_url: Option<String>,
    options: RequestOptions,
}

plan_setters!(CreateSubscription: features, ip_address);

impl<M> CreateSubscription<M> {
    /// Where the customer is sent if the payment needs their action (an absolute http(s)
    /// URL).
    pub fn success_url(mut self, url: impl Into<String>) -> Self {
        self.success_url = Some(url.into());
        self
    }

    async fn execute(self, want_raw: bool) -> Result<Response<Subscription>> {
        const OPERATION: &str = "subscriptions.create";
        let body = (|| {
            let plan = self.plan.check()?;
            Ok::<_, ValidationError>(wire::CreateSubscriptionRequest {
                plan_identifier: validate::identifier("plan_identifier", &plan.plan_identifier)?,
                charge_period: plan.charge_period,
                customer_id: validate::identifier("customer_id", &self.customer_id)?,
                success_url: self
                    .success_url
                    .as_deref()
                    .map(|url| validate::http_url("success_url", url))
                    .transpose()?,
                features: plan.features,
                ip_address: plan.ip_address,
            })
        })()
        .map_err(invalid(OPERATION))?;
        self.ctx
            .api_call_changing(
                OPERATION,
                RetryRule::NOT_IDEMPOTENT,
                &self.options,
                want_raw,
                &self.customer_id,
                |api| api.create_subscription().body(body).send(),
            )
            .await
    }
}

request_options!([M] CreateSubscription<M>);
send_impls!(CreateSubscription => Subscription);

/// Reads a subscription; made by [`Subscriptions::retrieve`].
#[derive(Debug, Clone)]
#[must_use = "a request does nothing until `send` is called"]
pub struct RetrieveSubscription<M = Async> {
    ctx: Ctx<M>,
    subscription_id: String,
    options: RequestOptions,
}

impl<M> RetrieveSubscription<M> {
    async fn execute(self, want_raw: bool) -> Result<Response<Subscription>> {
        const OPERATION: &str = "subscriptions.retrieve";
        let subscription_id: wire::RetrieveSubscriptionSubscriptionId =
            validate::path_segment("subscription_id", &self.subscription_id)
                .map_err(invalid(OPERATION))?;
        self.ctx
            .api_call(
                OPERATION,
                RetryRule::IDEMPOTENT,
                &self.options,
                want_raw,
                |api| {
                    api.retrieve_subscription()
                        .subscription_id(subscription_id)
                        .send()
                },
            )
            .await
    }
}

request_options!([M] RetrieveSubscription<M>);
send_impls!(RetrieveSubscription => Subscription);

/// The filters of a subscription list.
#[derive(Debug, Clone, Default)]
struct SubscriptionFilters {
    customer_id: Option<String>,
    status: Vec<String>,
    start_date_after: Option<TimeInput>,
    start_date_before: Option<TimeInput>,
    modified_on_after: Option<TimeInput>,
    modified_on_before: Option<TimeInput>,
}

/// Lists subscriptions; made by [`Subscriptions::list`].
#[derive(Debug, Clone)]
#[must_use = "a request does nothing until `send` is called"]
pub struct ListSubscriptions<M = Async> {
    ctx: Ctx<M>,
    page: Option<u64>,
    page_size: Option<u64>,
    filters: SubscriptionFilters,
    options: RequestOptions,
}

impl<M> ListSubscriptions<M> {
    /// Only this customer's subscriptions.
    pub fn customer_id(mut self, customer_id: impl Into<String>) -> Self {
        self.filters.customer_id = Some(customer_id.into());
        self
    }

    /// Only subscriptions in these statuses (`active`, `trialing`, `canceled`, …).
    pub fn status<S: Into<String>>(mut self, statuses: impl IntoIterator<Item = S>) -> Self {
        self.filters.status = statuses.into_iter().map(Into::into).collect();
        self
    }

    /// Only subscriptions that started on or after this day (a `chrono::NaiveDate` or
    /// `"YYYY-MM-DD"`).
    pub fn start_date_after(mut self, day: impl IntoTime) -> Self {
        self.filters.start_date_after = Some(day.into_time());
        self
    }

    /// Only subscriptions that started on or before this day.
    pub fn start_date_before(mut self, day: impl IntoTime) -> Self {
        self.filters.start_date_before = Some(day.into_time());
        self
    }

    /// Only subscriptions modified at or after this instant.
    pub fn modified_on_after(mut self, at: impl IntoTime) -> Self {
        self.filters.modified_on_after = Some(at.into_time());
        self
    }

    /// Only subscriptions modified at or before this instant.
    pub fn modified_on_before(mut self, at: impl IntoTime) -> Self {
        self.filters.modified_on_before = Some(at.into_time());
        self
    }

    async fn execute(self, want_raw: bool) -> Result<Response<Page<Subscription>>> {
        const OPERATION: &str = "subscriptions.list";
        let filters = &self.filters;
        let request = (|| {
            let (page, page_size) = validate::paging(self.page, self.page_size)?;
            let mut request = self.ctx.core.api().list_subscriptions();
            if let Some(page) = page {
                request = request.page(page);
            }
            if let Some(page_size) = page_size {
                request = request.page_size(page_size);
            }
            if let Some(customer_id) = &filters.customer_id {
                let customer_id: wire::ListSubscriptionsCustomerId =
                    validate::identifier("customer_id", customer_id)?;
                request = request.customer_id(customer_id);
            }
            if !filters.status.is_empty() {
                request = request.status(filters.status.join(","));
            }
            if let Some(day) = &filters.start_date_after {
                request = request.start_date_after(day.as_date("start_date_after")?);
            }
            if let Some(day) = &filters.start_date_before {
                request = request.start_date_before(day.as_date("start_date_before")?);
            }
            if let Some(at) = &filters.modified_on_after {
                request = request.modified_on_after(at.as_instant("modified_on_after")?);
            }
            if let Some(at) = &filters.modified_on_before {
                request = request.modified_on_before(at.as_instant("modified_on_before")?);
            }
            Ok::<_, ValidationError>(request)
        })()
        .map_err(invalid(OPERATION))?;
        self.ctx
            .api_call(
                OPERATION,
                RetryRule::IDEMPOTENT,
                &self.options,
                want_raw,
                |_| request.send(),
            )
            .await
    }
}

request_options!([M] ListSubscriptions<M>);
list_impls!(ListSubscriptions => Subscription);

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
    feedback: Option<CancellationFeedback>,
    comment: Option<String>,
    options: RequestOptions,
}

impl<M> CancelSubscription<M> {
    /// Why the customer cancels.
    pub fn feedback(mut self, feedback: CancellationFeedback) -> Self {
        self.feedback = Some(feedback);
        self
    }

    /// The customer's own words about why they cancel.
    pub fn comment(mut self, comment: impl Into<String>) -> Self {
        self.comment = Some(comment.into());
        self
    }

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
            cancellation_feedback: self.feedback.map(CancellationFeedback::to_wire),
            cancellation_comment: self.comment.clone(),
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
