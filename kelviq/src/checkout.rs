//! Checkout: create a session through which a customer buys a plan.
//!
//! ```no_run
//! use kelviq::{ChargePeriod, FeatureQuantity};
//!
//! # async fn run(client: kelviq::Client) -> kelviq::Result<()> {
//! let session = client
//!     .checkout()
//!     .create_session("plan-pro-monthly", ChargePeriod::Monthly, "https://kelviq.com/checkout/success")
//!     .customer_id("cust_789")
//!     .features([FeatureQuantity::new("seats", 5)])
//!     .ip_address("103.154.35.20")
//!     .send()
//!     .await?;
//! println!("Checkout Session URL: {}", session.checkout_url);
//! # Ok(()) }
//! ```

use kelviq_gen::types as wire;

use crate::error::{Result, ValidationError};
use crate::model::CheckoutSession;
use crate::model::FromWire;
use crate::request::{invalid, request_options, send_impls, Async, Ctx, RequestOptions};
use crate::response::Response;
use crate::transport::RetryRule;
use crate::types::{ChargePeriod, FeatureQuantity};
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
            plan_identifier: plan_identifier.into(),
            charge_period,
            success_url: success_url.into(),
            customer_id: None,
            offering_id: None,
            pricing_table_id: None,
            rule_id: None,
            features: Vec::new(),
            ip_address: None,
            options: RequestOptions::default(),
        }
    }
}

/// Creates a checkout session; made by [`Checkout::create_session`].
#[derive(Debug, Clone)]
#[must_use = "a request does nothing until `send` is called"]
pub struct CreateCheckoutSession<M = Async> {
    ctx: Ctx<M>,
    plan_identifier: String,
    charge_period: ChargePeriod,
    success_url: String,
    customer_id: Option<String>,
    offering_id: Option<String>,
    pricing_table_id: Option<String>,
    rule_id: Option<String>,
    features: Vec<FeatureQuantity>,
    ip_address: Option<String>,
    options: RequestOptions,
}

impl<M> CreateCheckoutSession<M> {
    /// The customer buying (recommended: without it a new customer is created).
    pub fn customer_id(mut self, customer_id: impl Into<String>) -> Self {
        self.customer_id = Some(customer_id.into());
        self
    }

    /// The offering (a UUID) the customer is checking out with.
    pub fn offering_id(mut self, offering_id: impl Into<String>) -> Self {
        self.offering_id = Some(offering_id.into());
        self
    }

    /// The pricing table (a UUID); considered only without an offering.
    pub fn pricing_table_id(mut self, pricing_table_id: impl Into<String>) -> Self {
        self.pricing_table_id = Some(pricing_table_id.into());
        self
    }

    /// The pricing rule (a UUID); considered only without an offering.
    pub fn rule_id(mut self, rule_id: impl Into<String>) -> Self {
        self.rule_id = Some(rule_id.into());
        self
    }

    /// Quantities of the plan's customizable features.
    pub fn features<F: Into<FeatureQuantity>>(
        mut self,
        features: impl IntoIterator<Item = F>,
    ) -> Self {
        self.features = features.into_iter().map(Into::into).collect();
        self
    }

    /// The customer's IP address, for location-based pricing.
    pub fn ip_address(mut self, ip_address: impl Into<String>) -> Self {
        self.ip_address = Some(ip_address.into());
        self
    }

    fn body(&self) -> Result<wire::CreateCheckoutSessionRequest, ValidationError> {
        let uuid = |field, value: &Option<String>| {
            value
                .as_deref()
                .map(|v| validate::uuid(field, v))
                .transpose()
        };
        Ok(wire::CreateCheckoutSessionRequest {
            plan_identifier: validate::identifier("plan_identifier", &self.plan_identifier)?,
            charge_period: self.charge_period.to_wire(),
            success_url: validate::http_url("success_url", &self.success_url)?,
            customer_id: self
                .customer_id
                .as_deref()
                .map(|id| validate::path_identifier("customer_id", id))
                .transpose()?,
            offering_id: uuid("offering_id", &self.offering_id)?,
            pricing_table_id: uuid("pricing_table_id", &self.pricing_table_id)?,
            rule_id: uuid("rule_id", &self.rule_id)?,
            features: validate::features(&self.features)?,
            ip_address: self
                .ip_address
                .clone()
                .map(|ip| validate::ip_address("ip_address", ip))
                .transpose()?,
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
