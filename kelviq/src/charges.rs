//! Charges: charge a customer once, with their saved payment method.
//!
//! ```no_run
//! # async fn run(client: kelviq::Client) -> kelviq::Result<()> {
//! let charge = client
//!     .charges()
//!     .create("cust_789", "lifetime-pack")
//!     .ip_address("103.154.35.20")
//!     .send()
//!     .await?;
//! println!("{} {:?}", charge.id, charge.amount);
//! # Ok(()) }
//! ```

use kelviq_gen::types as wire;

use crate::error::{Result, ValidationError};
use crate::model::Subscription;
use crate::plan::{plan_setters, AmountFields, PlanFields};
use crate::request::{invalid, request_options, send_impls, Async, Ctx, RequestOptions};
use crate::response::Response;
use crate::transport::RetryRule;
use crate::types::ChargePeriod;
use crate::validate;

/// The charge operations, from [`Client::charges`](crate::Client::charges).
#[derive(Debug, Clone, Copy)]
pub struct Charges<'a, M = Async> {
    ctx: &'a Ctx<M>,
}

impl<'a, M: Clone> Charges<'a, M> {
    pub(crate) fn new(ctx: &'a Ctx<M>) -> Self {
        Self { ctx }
    }

    /// Charges the customer once for `plan_identifier` (a plan sold `ONE_TIME`). Not resent
    /// once the service may have received it: it would charge twice. The customer's cached
    /// entitlements are retired.
    pub fn create(
        &self,
        customer_id: impl Into<String>,
        plan_identifier: impl Into<String>,
    ) -> CreateCharge<M> {
        CreateCharge {
            ctx: self.ctx.clone(),
            customer_id: customer_id.into(),
            plan: PlanFields::new(plan_identifier.into(), ChargePeriod::OneTime),
            amount: AmountFields::default(),
            options: RequestOptions::default(),
        }
    }
}

/// Creates a charge; made by [`Charges::create`].
#[derive(Debug, Clone)]
#[must_use = "a request does nothing until `send` is called"]
pub struct CreateCharge<M = Async> {
    ctx: Ctx<M>,
    customer_id: String,
    plan: PlanFields,
    amount: AmountFields,
    options: RequestOptions,
}

plan_setters!(CreateCharge: features, ip_address, custom_amount);

impl<M> CreateCharge<M> {
    async fn execute(self, want_raw: bool) -> Result<Response<Subscription>> {
        const OPERATION: &str = "charges.create";
        let body = (|| {
            let plan = self.plan.check()?;
            let amount = self.amount.check()?;
            Ok::<_, ValidationError>(wire::CreateChargeRequest {
                plan_identifier: validate::identifier("plan_identifier", &plan.plan_identifier)?,
                charge_period: wire::OneTimeChargePeriod::OneTime,
                customer_id: validate::identifier("customer_id", &self.customer_id)?,
                features: plan.features,
                currency_code: amount
                    .currency_code
                    .as_deref()
                    .map(|code| validate::currency_code("currency_code", code))
                    .transpose()?,
                custom_amount: amount.custom_amount,
                tax_behavior: amount.tax_behavior.map(|t| t.to_wire()),
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
                |api| api.create_charge().body(body).send(),
            )
            .await
    }
}

request_options!([M] CreateCharge<M>);
send_impls!(CreateCharge => Subscription);
