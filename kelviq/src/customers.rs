//! Customers: create and update customer records.
//!
//! ```no_run
//! # async fn run(client: kelviq::Client) -> kelviq::Result<()> {
//! let customer = client
//!     .customers()
//!     .create("unique-customer-id-123")
//!     .email("new.customer@example.com")
//!     .name("John Doe")
//!     .metadata([("source", "sdk_import"), ("priority", "high")])
//!     .send()
//!     .await?;
//! println!("Customer created: id = {}, customer id = {}", customer.id, customer.customer_id);
//!
//! let updated = client
//!     .customers()
//!     .update("unique-customer-id-123")
//!     .name("Johnathan Doe")
//!     .send()
//!     .await?;
//! println!("Customer updated: {:?}", updated.name);
//! # Ok(()) }
//! ```

use std::collections::HashMap;

use kelviq_gen::types as wire;

use crate::error::{Result, ValidationError};
use crate::model::Customer;
use crate::model::FromWire;
use crate::request::{invalid, request_options, send_impls, Async, Ctx, RequestOptions};
use crate::response::Response;
use crate::transport::RetryRule;
use crate::validate;

/// The customer operations, from [`Client::customers`](crate::Client::customers).
#[derive(Debug, Clone, Copy)]
pub struct Customers<'a, M = Async> {
    ctx: &'a Ctx<M>,
}

impl<'a, M: Clone> Customers<'a, M> {
    pub(crate) fn new(ctx: &'a Ctx<M>) -> Self {
        Self { ctx }
    }

    /// Creates a customer with the identifier you define (`customer_id`). Not resent once
    /// the service may have received it: a second creation would be refused.
    pub fn create(&self, customer_id: impl Into<String>) -> CreateCustomer<M> {
        CreateCustomer {
            ctx: self.ctx.clone(),
            customer_id: customer_id.into(),
            fields: CustomerFields::default(),
            options: RequestOptions::default(),
        }
    }

    /// Partially updates a customer: only the fields you set change; at least one must be.
    pub fn update(&self, customer_id: impl Into<String>) -> UpdateCustomer<M> {
        UpdateCustomer {
            ctx: self.ctx.clone(),
            customer_id: customer_id.into(),
            fields: CustomerFields::default(),
            options: RequestOptions::default(),
        }
    }
}

/// The optional fields of a customer, shared by creation and update.
#[derive(Debug, Clone, Default)]
struct CustomerFields {
    name: Option<String>,
    email: Option<String>,
    metadata: Option<HashMap<String, String>>,
}

impl CustomerFields {
    fn email(&self) -> Result<Option<String>, ValidationError> {
        self.email
            .as_deref()
            .map(|email| validate::email("email", email))
            .transpose()
    }

    /// An empty map cannot travel (the generated client leaves it out), so it is "not set".
    fn metadata(&self) -> Option<wire::Metadata> {
        self.metadata
            .clone()
            .filter(|m| !m.is_empty())
            .map(wire::Metadata)
    }
}

/// Writes the optional setters shared by both customer builders.
macro_rules! customer_setters {
    ($builder:ident) => {
        impl<M> $builder<M> {
            /// The customer's name.
            pub fn name(mut self, name: impl Into<String>) -> Self {
                self.fields.name = Some(name.into());
                self
            }

            /// The customer's e-mail address; checked before sending.
            pub fn email(mut self, email: impl Into<String>) -> Self {
                self.fields.email = Some(email.into());
                self
            }

            /// Custom key-value pairs stored with the customer.
            pub fn metadata<K, V>(mut self, metadata: impl IntoIterator<Item = (K, V)>) -> Self
            where
                K: Into<String>,
                V: Into<String>,
            {
                self.fields.metadata = Some(
                    metadata
                        .into_iter()
                        .map(|(k, v)| (k.into(), v.into()))
                        .collect(),
                );
                self
            }
        }

        request_options!([M] $builder<M>);
    };
}

/// Creates a customer; made by [`Customers::create`].
#[derive(Debug, Clone)]
#[must_use = "a request does nothing until `send` is called"]
pub struct CreateCustomer<M = Async> {
    ctx: Ctx<M>,
    customer_id: String,
    fields: CustomerFields,
    options: RequestOptions,
}

customer_setters!(CreateCustomer);

impl<M> CreateCustomer<M> {
    async fn execute(self, want_raw: bool) -> Result<Response<Customer>> {
        const OPERATION: &str = "customers.create";
        let body = (|| {
            Ok::<_, ValidationError>(wire::CreateCustomerRequest {
                customer_id: validate::path_identifier("customer_id", &self.customer_id)?,
                email: self.fields.email()?,
                metadata: self.fields.metadata(),
                name: self.fields.name.clone(),
            })
        })()
        .map_err(invalid(OPERATION))?;
        let overrides = self
            .options
            .overrides(want_raw)
            .map_err(invalid(OPERATION))?;
        let core = &self.ctx.core;
        let spec = core.spec(OPERATION, RetryRule::NOT_IDEMPOTENT, &overrides);
        let answered = core
            .call(spec, core.api().create_customer().body(body).send())
            .await?;
        Ok(Response::new(
            FromWire::from_wire(answered.value),
            answered.raw,
        ))
    }
}

send_impls!(CreateCustomer => Customer);

/// Updates a customer; made by [`Customers::update`].
#[derive(Debug, Clone)]
#[must_use = "a request does nothing until `send` is called"]
pub struct UpdateCustomer<M = Async> {
    ctx: Ctx<M>,
    customer_id: String,
    fields: CustomerFields,
    options: RequestOptions,
}

customer_setters!(UpdateCustomer);

impl<M> UpdateCustomer<M> {
    async fn execute(self, want_raw: bool) -> Result<Response<Customer>> {
        const OPERATION: &str = "customers.update";
        let (customer_id, body) = (|| {
            let customer_id: wire::UpdateCustomerCustomerId =
                validate::path_segment("customer_id", &self.customer_id)?;
            let body = wire::UpdateCustomerRequest {
                email: self.fields.email()?,
                metadata: self.fields.metadata(),
                name: self.fields.name.clone(),
            };
            if body.email.is_none() && body.metadata.is_none() && body.name.is_none() {
                return Err(ValidationError::new(
                    "customer update",
                    "no field set",
                    "at least one of name, email or non-empty metadata",
                ));
            }
            Ok((customer_id, body))
        })()
        .map_err(invalid(OPERATION))?;
        let overrides = self
            .options
            .overrides(want_raw)
            .map_err(invalid(OPERATION))?;
        let core = &self.ctx.core;
        let spec = core.spec(OPERATION, RetryRule::IDEMPOTENT, &overrides);
        let answered = core
            .call(
                spec,
                core.api()
                    .update_customer()
                    .customer_id(customer_id)
                    .body(body)
                    .send(),
            )
            .await?;
        Ok(Response::new(
            FromWire::from_wire(answered.value),
            answered.raw,
        ))
    }
}

send_impls!(UpdateCustomer => Customer);
