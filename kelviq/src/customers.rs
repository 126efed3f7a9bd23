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

use crate::client::{send_impls, Async, Ctx};
use crate::error::{Result, ValidationError};
use crate::transport::Idempotency;
use crate::validate;

/// A customer record, as the service returns it.
pub use kelviq_gen::types::Customer;

/// The customer operations, from [`Client::customers`](crate::Client::customers).
#[derive(Debug, Clone, Copy)]
pub struct Customers<'a, M = Async> {
    ctx: Ctx<'a, M>,
}

impl<'a, M: Copy> Customers<'a, M> {
    pub(crate) fn new(ctx: Ctx<'a, M>) -> Self {
        Self { ctx }
    }

    /// Creates a customer with the identifier you define (`customer_id`). Not retried once
    /// the service may have received it: a second creation would be refused.
    pub fn create(&self, customer_id: impl Into<String>) -> CreateCustomer<'a, M> {
        CreateCustomer {
            ctx: self.ctx,
            customer_id: customer_id.into(),
            fields: CustomerFields::default(),
        }
    }

    /// Partially updates a customer: only the fields you set change; at least one must be.
    pub fn update(&self, customer_id: impl Into<String>) -> UpdateCustomer<'a, M> {
        UpdateCustomer {
            ctx: self.ctx,
            customer_id: customer_id.into(),
            fields: CustomerFields::default(),
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
        impl<'a, M> $builder<'a, M> {
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
    };
}

/// Creates a customer; made by [`Customers::create`].
#[derive(Debug, Clone)]
#[must_use = "a request does nothing until `send` is called"]
pub struct CreateCustomer<'a, M = Async> {
    ctx: Ctx<'a, M>,
    customer_id: String,
    fields: CustomerFields,
}

customer_setters!(CreateCustomer);

impl<M> CreateCustomer<'_, M> {
    async fn execute(self) -> Result<Customer> {
        let body = wire::CreateCustomerRequest {
            customer_id: validate::path_identifier("customer_id", &self.customer_id)?,
            email: self.fields.email()?,
            metadata: self.fields.metadata(),
            name: self.fields.name,
        };
        let client = self.ctx.client;
        client
            .call(
                "customers.create",
                Idempotency::Unsafe,
                client.api().create_customer().body(body).send(),
            )
            .await
    }
}

send_impls!(CreateCustomer => Customer);

/// Updates a customer; made by [`Customers::update`].
#[derive(Debug, Clone)]
#[must_use = "a request does nothing until `send` is called"]
pub struct UpdateCustomer<'a, M = Async> {
    ctx: Ctx<'a, M>,
    customer_id: String,
    fields: CustomerFields,
}

customer_setters!(UpdateCustomer);

impl<M> UpdateCustomer<'_, M> {
    async fn execute(self) -> Result<Customer> {
        let customer_id: wire::UpdateCustomerCustomerId =
            validate::path_identifier("customer_id", &self.customer_id)?;
        let body = wire::UpdateCustomerRequest {
            email: self.fields.email()?,
            metadata: self.fields.metadata(),
            name: self.fields.name,
        };
        if body.email.is_none() && body.metadata.is_none() && body.name.is_none() {
            return Err(ValidationError::new(
                "customer update",
                "no field set",
                "at least one of name, email or non-empty metadata",
            )
            .into());
        }
        let client = self.ctx.client;
        client
            .call(
                "customers.update",
                Idempotency::Safe,
                client
                    .api()
                    .update_customer()
                    .customer_id(customer_id)
                    .body(body)
                    .send(),
            )
            .await
    }
}

send_impls!(UpdateCustomer => Customer);
