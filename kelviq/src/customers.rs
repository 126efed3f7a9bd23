//! Customers: create, read, list, update and archive customer records.
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
//!
//! // Every customer, a page of 100 at a time, fetched as the stream is read.
//! use futures_util::TryStreamExt;
//! let mut customers = std::pin::pin!(client.customers().list().page_size(100).into_stream());
//! while let Some(customer) = customers.try_next().await? {
//!     println!("{}", customer.customer_id);
//! }
//!
//! let archived = client.customers().archive("unique-customer-id-123").send().await?;
//! println!("{}", archived.message);
//! # Ok(()) }
//! ```

use std::collections::HashMap;

use kelviq_gen::types as wire;

use crate::error::{Error, ErrorKind, Result, ValidationError};
use crate::model::FromWire;
use crate::model::{BillingAddress, Customer, CustomerArchived, Page};
use crate::paging::list_impls;
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

    /// Reads one customer by the identifier you gave it.
    pub fn retrieve(&self, customer_id: impl Into<String>) -> RetrieveCustomer<M> {
        RetrieveCustomer {
            ctx: self.ctx.clone(),
            customer_id: customer_id.into(),
            options: RequestOptions::default(),
        }
    }

    /// Archives (soft-deletes) a customer: it leaves the list and can no longer be read. Not
    /// resent once the service may have received it. Its cached entitlements are retired.
    pub fn archive(&self, customer_id: impl Into<String>) -> ArchiveCustomer<M> {
        ArchiveCustomer {
            ctx: self.ctx.clone(),
            customer_id: customer_id.into(),
            options: RequestOptions::default(),
        }
    }

    /// Lists customers a page at a time: [`send`](ListCustomers::send) reads one page,
    /// `into_stream()` (async) or a `for` loop (blocking) walks every customer.
    pub fn list(&self) -> ListCustomers<M> {
        ListCustomers {
            ctx: self.ctx.clone(),
            page: None,
            page_size: None,
            search: None,
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
    billing_address: Option<BillingAddress>,
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

    fn billing_address(&self) -> Result<Option<wire::BillingAddress>, ValidationError> {
        self.billing_address
            .as_ref()
            .map(BillingAddress::to_wire)
            .transpose()
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

            /// The customer's billing address.
            pub fn billing_address(mut self, address: BillingAddress) -> Self {
                self.fields.billing_address = Some(address);
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
                billing_address: self.fields.billing_address()?,
            })
        })()
        .map_err(invalid(OPERATION))?;
        self.ctx
            .api_call(
                OPERATION,
                RetryRule::NOT_IDEMPOTENT,
                &self.options,
                want_raw,
                |api| api.create_customer().body(body).send(),
            )
            .await
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
                billing_address: self.fields.billing_address()?,
            };
            if body.email.is_none()
                && body.metadata.is_none()
                && body.name.is_none()
                && body.billing_address.is_none()
            {
                return Err(ValidationError::new(
                    "customer update",
                    "no field set",
                    "at least one of name, email, non-empty metadata or billing_address",
                ));
            }
            Ok((customer_id, body))
        })()
        .map_err(invalid(OPERATION))?;
        self.ctx
            .api_call(
                OPERATION,
                RetryRule::IDEMPOTENT,
                &self.options,
                want_raw,
                |api| {
                    api.update_customer()
                        .customer_id(customer_id)
                        .body(body)
                        .send()
                },
            )
            .await
    }
}

send_impls!(UpdateCustomer => Customer);

/// Reads a customer; made by [`Customers::retrieve`].
#[derive(Debug, Clone)]
#[must_use = "a request does nothing until `send` is called"]
pub struct RetrieveCustomer<M = Async> {
    ctx: Ctx<M>,
    customer_id: String,
    options: RequestOptions,
}

impl<M> RetrieveCustomer<M> {
    async fn execute(self, want_raw: bool) -> Result<Response<Customer>> {
        const OPERATION: &str = "customers.retrieve";
        let customer_id: wire::RetrieveCustomerCustomerId =
            validate::path_segment("customer_id", &self.customer_id).map_err(invalid(OPERATION))?;
        self.ctx
            .api_call(
                OPERATION,
                RetryRule::IDEMPOTENT,
                &self.options,
                want_raw,
                |api| api.retrieve_customer().customer_id(customer_id).send(),
            )
            .await
    }
}

request_options!([M] RetrieveCustomer<M>);
send_impls!(RetrieveCustomer => Customer);

/// Archives a customer; made by [`Customers::archive`].
#[derive(Debug, Clone)]
#[must_use = "a request does nothing until `send` is called"]
pub struct ArchiveCustomer<M = Async> {
    ctx: Ctx<M>,
    customer_id: String,
    options: RequestOptions,
}

impl<M> ArchiveCustomer<M> {
    async fn execute(self, want_raw: bool) -> Result<Response<CustomerArchived>> {
        const OPERATION: &str = "customers.archive";
        let customer_id: wire::ArchiveCustomerCustomerId =
            validate::path_segment("customer_id", &self.customer_id).map_err(invalid(OPERATION))?;
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
                    .archive_customer()
                    .customer_id(customer_id)
                    .send(),
            )
            .await;
        if answer.is_ok() || answer.as_ref().is_err_and(Error::is_unconfirmed) {
            core.invalidate_entitlements(&self.customer_id);
        }
        match answer {
            Ok(answered) => Ok(Response::new(
                FromWire::from_wire(answered.value),
                answered.raw,
            )),
            // Some deployments answer 204 without a body: the same success.
            Err(error)
                if error.kind() == ErrorKind::Decode
                    && error.status() == Some(http::StatusCode::NO_CONTENT) =>
            {
                Ok(Response::new(
                    CustomerArchived::archived_without_a_body(),
                    None,
                ))
            }
            Err(error) => Err(error),
        }
    }
}

request_options!([M] ArchiveCustomer<M>);
send_impls!(ArchiveCustomer => CustomerArchived);

/// Lists customers; made by [`Customers::list`].
#[derive(Debug, Clone)]
#[must_use = "a request does nothing until `send` is called"]
pub struct ListCustomers<M = Async> {
    ctx: Ctx<M>,
    page: Option<u64>,
    page_size: Option<u64>,
    search: Option<String>,
    options: RequestOptions,
}

impl<M> ListCustomers<M> {
    /// Only customers whose identifier, name or e-mail contains this.
    pub fn search(mut self, search: impl Into<String>) -> Self {
        self.search = Some(search.into());
        self
    }

    async fn execute(self, want_raw: bool) -> Result<Response<Page<Customer>>> {
        const OPERATION: &str = "customers.list";
        let (page, page_size) =
            validate::paging(self.page, self.page_size).map_err(invalid(OPERATION))?;
        let mut request = self.ctx.core.api().list_customers();
        if let Some(page) = page {
            request = request.page(page);
        }
        if let Some(page_size) = page_size {
            request = request.page_size(page_size);
        }
        if let Some(search) = self.search {
            request = request.search(search);
        }
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

request_options!([M] ListCustomers<M>);
list_impls!(ListCustomers => Customer);
