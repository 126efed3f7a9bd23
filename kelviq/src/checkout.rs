//! Checkout: create a session through which a customer buys a plan.
//!
//! ```no_run
//! use kelviq::{ChargePeriod, FeatureQuantity, TaxBehavior};
//!
//! # async fn run(client: kelviq::Client) -> kelviq::Result<()> {
//! let session = client
//!     .checkout()
//!     .create_session("plan-pro-monthly", ChargePeriod::Monthly, "https://kelviq.com/checkout/success")
//!     .customer_id("cust_789")
//!     .features([FeatureQuantity::new("seats", 5)])
//!     .ip_address("103.154.35.20")
//!     .trial_period(14)
//!     .metadata([("orderRef", "A-1042")])
//!     .send()
//!     .await?;
//! println!("Checkout Session URL: {}", session.checkout_url);
//!
//! // A custom amount needs its tax behaviour and currency (checked before sending).
//! let custom = client
//!     .checkout()
//!     .create_session("donation", ChargePeriod::OneTime, "https://kelviq.com/thanks")
//!     .custom_amount(25.0)
//!     .tax_behavior(TaxBehavior::Inclusive)
//!     .currency_code("USD")
//!     .send()
//!     .await?;
//! # Ok(()) }
//! ```

use kelviq_gen::types as wire;
use serde_json::{Map, Value};

use crate::error::{Result, ValidationError};
use crate::model::{CheckoutSession, FromWire};
use crate::plan::{plan_setters, AmountFields, PlanFields};
use crate::request::{invalid, request_options, send_impls, Async, Ctx, RequestOptions};
use crate::response::Response;
use crate::transport::RetryRule;
use crate::types::ChargePeriod;
use crate::validate;

/// The checkout operations, from [`Client::checkout`](crate::Client::checkout).
#[derive(Debug, Clone, Copy)]
pub struct Checkout<'a, M = Async> {
    ctx: &'a Ctx<M>,
}

impl<'a, M: Clone> Checkout<'a, M> {
    pub(crate) fn new(ctx: &'a Ctx<M>) -> Self {
        Self { ctx }
    }

    /// Creates a checkout session for `plan_identifier` billed every `charge_period`; after
    /// paying, the customer lands on `success_url`. Without
    /// [`customer_id`](CreateCheckoutSession::customer_id) a new customer is created. Not
    /// resent once the service may have received it.
    pub fn create_session(
        &self,
        plan_identifier: impl Into<String>,
        charge_period: ChargePeriod,
        success_url: impl Into<String>,
    ) -> CreateCheckoutSession<M> {
        CreateCheckoutSession {
            ctx: self.ctx.clone(),
            plan: PlanFields::new(plan_identifier.into(), charge_period),
            amount: AmountFields::default(),
            success_url: success_url.into(),
            customer_id: None,
            page: CheckoutPage::default(),
            options: RequestOptions::default(),
        }
    }
}

/// How the checkout page looks and behaves.
#[derive(Debug, Clone, Default)]
struct CheckoutPage {
    trial_period: Option<u32>,
    cancel_url: Option<String>,
    plans_enabled: Option<String>,
    discounts_enabled: Option<bool>,
    discount_code: Option<String>,
    lock_email: Option<bool>,
    default_billing_country: Option<String>,
    metadata: Option<Map<String, Value>>,
}

/// Creates a checkout session; made by [`Checkout::create_session`].
#[derive(Debug, Clone)]
#[must_use = "a request does nothing until `send` is called"]
pub struct CreateCheckoutSession<M = Async> {
    ctx: Ctx<M>,
    plan: PlanFields,
    amount: AmountFields,
    success_url: String,
    customer_id: Option<String>,
    page: CheckoutPage,
    options: RequestOptions,
}

plan_setters!(CreateCheckoutSession: features, ip_address, offering_id, pricing_table_id, rule_id, custom_amount);

impl<M> CreateCheckoutSession<M> {
    /// The customer buying (recommended: without it a new customer is created).
    pub fn customer_id(mut self, customer_id: impl Into<String>) -> Self {
        self.customer_id = Some(customer_id.into());
        self
    }

    /// Trial days (at least 1), instead of the plan's trial period.
    pub fn trial_period(mut self, days: u32) -> Self {
        self.page.trial_period = Some(days);
        self
    }

    /// Where the customer is sent when they leave without paying (an absolute http(s) URL).
    pub fn cancel_url(mut self, url: impl Into<String>) -> Self {
        self.page.cancel_url = Some(url.into());
        self
    }

    /// The plans the checkout page lets the customer switch between.
    pub fn plans_enabled(mut self, plans: impl Into<String>) -> Self {
        self.page.plans_enabled = Some(plans.into());
        self
    }

    /// Whether discount code entry is shown (the service's default is yes).
    pub fn discounts_enabled(mut self, enabled: bool) -> Self {
        self.page.discounts_enabled = Some(enabled);
        self
    }

    /// A discount code applied to the checkout.
    pub fn discount_code(mut self, code: impl Into<String>) -> Self {
        self.page.discount_code = Some(code.into());
        self
    }

    /// Pre-fill the customer's e-mail and lock it (the service's default is no).
    pub fn lock_email(mut self, lock: bool) -> Self {
        self.page.lock_email = Some(lock);
        self
    }

    /// The billing country pre-filled (ISO 3166-1 alpha-2, such as `IN`).
    pub fn default_billing_country(mut self, country: impl Into<String>) -> Self {
        self.page.default_billing_country = Some(country.into());
        self
    }

    /// Key-value pairs attached to the session and returned in the `checkout.completed`
    /// webhook. Values may be any JSON.
    pub fn metadata<K, V>(mut self, metadata: impl IntoIterator<Item = (K, V)>) -> Self
    where
        K: Into<String>,
        V: Into<Value>,
    {
        self.page.metadata = Some(
            metadata
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        );
        self
    }

    fn body(&self) -> Result<wire::CreateCheckoutSessionRequest, ValidationError> {
        let plan = self.plan.check()?;
        let amount = self.amount.check()?;
        let uuid = |field, value: &Option<String>| {
            value
                .as_deref()
                .map(|v| validate::uuid(field, v))
                .transpose()
        };
        let page = &self.page;
        if let Some(days) = page.trial_period.filter(|days| *days == 0) {
            return Err(ValidationError::new(
                "trial_period",
                days.to_string(),
                "at least 1 day",
            ));
        }
        Ok(wire::CreateCheckoutSessionRequest {
            plan_identifier: validate::identifier("plan_identifier", &plan.plan_identifier)?,
            charge_period: plan.charge_period,
            success_url: validate::http_url("success_url", &self.success_url)?,
            customer_id: self
                .customer_id
                .as_deref()
                .map(|id| validate::path_identifier("customer_id", id))
                .transpose()?,
            offering_id: uuid("offering_id", &plan.offering_id)?,
            pricing_table_id: uuid("pricing_table_id", &plan.pricing_table_id)?,
            rule_id: uuid("rule_id", &plan.rule_id)?,
            features: plan.features,
            ip_address: plan.ip_address,
            trial_period: page
                .trial_period
                .and_then(|days| std::num::NonZeroU64::new(u64::from(days))),
            cancel_url: page
                .cancel_url
                .as_deref()
                .map(|url| validate::http_url("cancel_url", url))
                .transpose()?,
            plans_enabled: page.plans_enabled.clone(),
            currency_code: amount
                .currency_code
                .as_deref()
                .map(|code| validate::currency_code("currency_code", code))
                .transpose()?,
            custom_amount: amount.custom_amount,
            tax_behavior: amount.tax_behavior.map(|t| t.to_wire()),
            discounts_enabled: page.discounts_enabled,
            discount_code: page.discount_code.clone(),
            lock_email: page.lock_email,
            default_billing_country: page
                .default_billing_country
                .as_deref()
                .map(|country| validate::country_code("default_billing_country", country))
                .transpose()?,
            metadata: page.metadata.clone().map(wire::CheckoutMetadata),
        })
    }

    async fn execute(self, want_raw: bool) -> Result<Response<CheckoutSession>> {
        const OPERATION: &str = "checkout.create_session";
        let body = self.body().map_err(invalid(OPERATION))?;
        let overrides = self
            .options
            .overrides(want_raw)
            .map_err(invalid(OPERATION))?;
        let core = &self.ctx.core;
        // The customer is about to buy: the next check asks the service (what they had
        // before stays as a fallback while it cannot answer).
        if let Some(customer) = &body.customer_id {
            core.invalidate_entitlements(customer);
        }
        let spec = core.spec(OPERATION, RetryRule::NOT_IDEMPOTENT, &overrides);
        let answered = core
            .call(spec, core.api().create_checkout_session().body(body).send())
            .await?;
        Ok(Response::new(
            FromWire::from_wire(answered.value),
            answered.raw,
        ))
    }
}

request_options!([M] CreateCheckoutSession<M>);
send_impls!(CreateCheckoutSession => CheckoutSession);
