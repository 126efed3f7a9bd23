//! Payment methods: customers' saved payment methods, a page at a time.
//!
//! ```no_run
//! # async fn run(client: kelviq::Client) -> kelviq::Result<()> {
//! let page = client.payment_methods().list().customer_id("cust_789").send().await?;
//! for method in page {
//!     println!("{} {:?} default: {}", method.id, method.method_type, method.is_default);
//! }
//! # Ok(()) }
//! ```

use kelviq_gen::types as wire;

use crate::error::{Result, ValidationError};
use crate::model::{Page, PaymentMethod};
use crate::paging::list_impls;
use crate::request::{invalid, request_options, Async, Ctx, RequestOptions};
use crate::response::Response;
use crate::transport::RetryRule;
use crate::validate;

/// The payment method operations, from
/// [`Client::payment_methods`](crate::Client::payment_methods).
#[derive(Debug, Clone, Copy)]
pub struct PaymentMethods<'a, M = Async> {
    ctx: &'a Ctx<M>,
}

impl<'a, M: Clone> PaymentMethods<'a, M> {
    pub(crate) fn new(ctx: &'a Ctx<M>) -> Self {
        Self { ctx }
    }

    /// Lists saved payment methods a page at a time.
    pub fn list(&self) -> ListPaymentMethods<M> {
        ListPaymentMethods {
            ctx: self.ctx.clone(),
            page: None,
            page_size: None,
            customer_id: None,
            customer_email: None,
            options: RequestOptions::default(),
        }
    }
}

/// Lists payment methods; made by [`PaymentMethods::list`].
#[derive(Debug, Clone)]
#[must_use = "a request does nothing until `send` is called"]
pub struct ListPaymentMethods<M = Async> {
    ctx: Ctx<M>,
    page: Option<u64>,
    page_size: Option<u64>,
    customer_id: Option<String>,
    customer_email: Option<String>,
    options: RequestOptions,
}

impl<M> ListPaymentMethods<M> {
    /// Only this customer's payment methods.
    pub fn customer_id(mut self, customer_id: impl Into<String>) -> Self {
        self.customer_id = Some(customer_id.into());
        self
    }

    /// Only the payment methods of the customer with this e-mail address.
    pub fn customer_email(mut self, email: impl Into<String>) -> Self {
        self.customer_email = Some(email.into());
        self
    }

    async fn execute(self, want_raw: bool) -> Result<Response<Page<PaymentMethod>>> {
        const OPERATION: &str = "payment_methods.list";
        let request = (|| {
            let (page, page_size) = validate::paging(self.page, self.page_size)?;
            let mut request = self.ctx.core.api().list_payment_methods();
            if let Some(page) = page {
                request = request.page(page);
            }
            if let Some(page_size) = page_size {
                request = request.page_size(page_size);
            }
            if let Some(customer_id) = &self.customer_id {
                let customer_id: wire::ListPaymentMethodsCustomerId =
                    validate::identifier("customer_id", customer_id)?;
                request = request.customer_id(customer_id);
            }
            if let Some(email) = &self.customer_email {
                request = request.customer_email(validate::email("customer_email", email)?);
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

request_options!([M] ListPaymentMethods<M>);
list_impls!(ListPaymentMethods => PaymentMethod);
