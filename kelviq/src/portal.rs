//! The customer billing portal: a session link to hand a customer.
//!
//! ```no_run
//! # async fn run(client: kelviq::Client) -> kelviq::Result<()> {
//! let session = client.portal().create_session("cust_789").send().await?;
//! println!("send the customer to {}", session.signed_url());
//! # Ok(()) }
//! ```

use kelviq_gen::types as wire;

use crate::error::Result;
use crate::model::{FromWire, PortalSession};
use crate::request::{invalid, request_options, send_impls, Async, Ctx, RequestOptions};
use crate::response::Response;
use crate::transport::RetryRule;
use crate::validate;

/// The portal operations, from [`Client::portal`](crate::Client::portal).
#[derive(Debug, Clone, Copy)]
pub struct Portal<'a, M = Async> {
    ctx: &'a Ctx<M>,
}

impl<'a, M: Clone> Portal<'a, M> {
    pub(crate) fn new(ctx: &'a Ctx<M>) -> Self {
        Self { ctx }
    }

    /// Creates a portal session for the customer, who must have an e-mail address.
    pub fn create_session(&self, customer_id: impl Into<String>) -> CreatePortalSession<M> {
        CreatePortalSession {
            ctx: self.ctx.clone(),
            customer_id: customer_id.into(),
            options: RequestOptions::default(),
        }
    }
}

/// Creates a portal session; made by [`Portal::create_session`].
#[derive(Debug, Clone)]
#[must_use = "a request does nothing until `send` is called"]
pub struct CreatePortalSession<M = Async> {
    ctx: Ctx<M>,
    customer_id: String,
    options: RequestOptions,
}

impl<M> CreatePortalSession<M> {
    async fn execute(self, want_raw: bool) -> Result<Response<PortalSession>> {
        const OPERATION: &str = "portal.create_session";
        let body = validate::identifier("customer_id", &self.customer_id)
            .map(|customer_id| wire::CreatePortalSessionRequest { customer_id })
            .map_err(invalid(OPERATION))?;
        let overrides = self
            .options
            .overrides(want_raw)
            .map_err(invalid(OPERATION))?;
        let core = &self.ctx.core;
        // A new session each time: repeating makes another, harmlessly, but say what it is.
        let spec = core.spec(OPERATION, RetryRule::NOT_IDEMPOTENT, &overrides);
        let answered = core
            .call(spec, core.api().create_portal_session().body(body).send())
            .await?;
        Ok(Response::new(
            FromWire::from_wire(answered.value),
            answered.raw,
        ))
    }
}

request_options!([M] CreatePortalSession<M>);
send_impls!(CreatePortalSession => PortalSession);
