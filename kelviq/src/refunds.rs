//! Refunds: refund an order fully or in part, read refunds, list them.
//!
//! ```no_run
//! use kelviq::RefundReason;
//!
//! # async fn run(client: kelviq::Client) -> kelviq::Result<()> {
//! let refund = client
//!     .refunds()
//!     .create("ord_01")
//!     .amount_units(500)
//!     .reason(RefundReason::RequestedByCustomer)
//!     .send()
//!     .await?;
//! let again = client.refunds().retrieve(refund.id.as_str()).send().await?;
//! println!("{} {}", again.id, again.status);
//! # Ok(()) }
//! ```

use kelviq_gen::types as wire;

use crate::error::{Result, ValidationError};
use crate::model::{Page, Refund};
use crate::paging::list_impls;
use crate::request::{invalid, request_options, send_impls, Async, Ctx, RequestOptions};
use crate::response::Response;
use crate::time::TimeInput;
use crate::transport::RetryRule;
use crate::types::{RefundReason, RefundStatus};
use crate::validate;

/// The refund operations, from [`Client::refunds`](crate::Client::refunds).
#[derive(Debug, Clone, Copy)]
pub struct Refunds<'a, M = Async> {
    ctx: &'a Ctx<M>,
}

impl<'a, M: Clone> Refunds<'a, M> {
    pub(crate) fn new(ctx: &'a Ctx<M>) -> Self {
        Self { ctx }
    }

    /// Refunds an order: all that is left to refund, unless an amount is set. A refund
    /// cannot exceed what is left. Not resent once the service may have received it.
    pub fn create(&self, order_id: impl Into<String>) -> CreateRefund<M> {
        CreateRefund {
            ctx: self.ctx.clone(),
            order_id: order_id.into(),
            amount_units: None,
            amount: None,
            reason: None,
            internal_note: None,
            options: RequestOptions::default(),
        }
    }

    /// Reads one refund.
    pub fn retrieve(&self, refund_id: impl Into<String>) -> RetrieveRefund<M> {
        RetrieveRefund {
            ctx: self.ctx.clone(),
            refund_id: refund_id.into(),
            options: RequestOptions::default(),
        }
    }

    /// Lists refunds a page at a time.
    pub fn list(&self) -> ListRefunds<M> {
        ListRefunds {
            ctx: self.ctx.clone(),
            page: None,
            page_size: None,
            filters: DateFilters::default(),
            status: None,
            options: RequestOptions::default(),
        }
    }
}

/// Creates a refund; made by [`Refunds::create`].
#[derive(Debug, Clone)]
#[must_use = "a request does nothing until `send` is called"]
pub struct CreateRefund<M = Async> {
    ctx: Ctx<M>,
    order_id: String,
    amount_units: Option<u64>,
    amount: Option<f64>,
    reason: Option<RefundReason>,
    internal_note: Option<String>,
    options: RequestOptions,
}

impl<M> CreateRefund<M> {
    /// The amount in the currency's smallest unit (at least 1); not with
    /// [`amount`](Self::amount).
    pub fn amount_units(mut self, units: u64) -> Self {
        self.amount_units = Some(units);
        self
    }

    /// The amount as a decimal (above 0); not with [`amount_units`](Self::amount_units).
    pub fn amount(mut self, amount: f64) -> Self {
        self.amount = Some(amount);
        self
    }

    /// Why the order is refunded.
    pub fn reason(mut self, reason: RefundReason) -> Self {
        self.reason = Some(reason);
        self
    }

    /// A note for your team.
    pub fn internal_note(mut self, note: impl Into<String>) -> Self {
        self.internal_note = Some(note.into());
        self
    }

    fn body(&self) -> Result<wire::CreateRefundRequest, ValidationError> {
        if let (Some(units), Some(amount)) = (self.amount_units, self.amount) {
            return Err(ValidationError::new(
                "amount",
                format!("{amount} (with amount_units {units})"),
                "either amount_units or amount, not both",
            ));
        }
        if let Some(amount) = self.amount.filter(|a| !(a.is_finite() && *a > 0.0)) {
            return Err(ValidationError::new(
                "amount",
                amount.to_string(),
                "an amount above 0",
            ));
        }
        let amount_units = self
            .amount_units
            .map(|units| {
                std::num::NonZeroU64::new(units)
                    .ok_or_else(|| ValidationError::new("amount_units", "0", "at least 1 unit"))
            })
            .transpose()?;
        Ok(wire::CreateRefundRequest {
            order_id: validate::identifier("order_id", &self.order_id)?,
            amount_units,
            amount: self.amount,
            reason: self.reason.map(RefundReason::to_wire),
            internal_note: self.internal_note.clone(),
        })
    }

    async fn execute(self, want_raw: bool) -> Result<Response<Refund>> {
        const OPERATION: &str = "refunds.create";
        let body = self.body().map_err(invalid(OPERATION))?;
        self.ctx
            .api_call(
                OPERATION,
                RetryRule::NOT_IDEMPOTENT,
                &self.options,
                want_raw,
                |api| api.create_refund().body(body).send(),
            )
            .await
    }
}

request_options!([M] CreateRefund<M>);
send_impls!(CreateRefund => Refund);

/// Reads a refund; made by [`Refunds::retrieve`].
#[derive(Debug, Clone)]
#[must_use = "a request does nothing until `send` is called"]
pub struct RetrieveRefund<M = Async> {
    ctx: Ctx<M>,
    refund_id: String,
    options: RequestOptions,
}

impl<M> RetrieveRefund<M> {
    async fn execute(self, want_raw: bool) -> Result<Response<Refund>> {
        const OPERATION: &str = "refunds.retrieve";
        let refund_id: wire::RetrieveRefundRefundId =
            validate::path_segment("refund_id", &self.refund_id).map_err(invalid(OPERATION))?;
        self.ctx
            .api_call(
                OPERATION,
                RetryRule::IDEMPOTENT,
                &self.options,
                want_raw,
                |api| api.retrieve_refund().refund_id(refund_id).send(),
            )
            .await
    }
}

request_options!([M] RetrieveRefund<M>);
send_impls!(RetrieveRefund => Refund);

/// The search and creation-date filters of a money list.
#[derive(Debug, Clone, Default)]
pub(crate) struct DateFilters {
    pub(crate) search: Option<String>,
    pub(crate) start_date: Option<TimeInput>,
    pub(crate) end_date: Option<TimeInput>,
}

/// Writes the search and creation-date setters of a list builder with `filters: DateFilters`.
macro_rules! date_filters {
    ($builder:ident) => {
        impl<M> $builder<M> {
            /// Only items whose text fields contain this.
            pub fn search(mut self, search: impl Into<String>) -> Self {
                self.filters.search = Some(search.into());
                self
            }

            /// Only items created on or after this day (a `chrono::NaiveDate` or
            /// `"YYYY-MM-DD"`).
            pub fn start_date(mut self, day: impl $crate::IntoTime) -> Self {
                self.filters.start_date = Some(day.into_time());
                self
            }

            /// Only items created on or before this day.
            pub fn end_date(mut self, day: impl $crate::IntoTime) -> Self {
                self.filters.end_date = Some(day.into_time());
                self
            }
        }
    };
}
pub(crate) use date_filters;

/// Lists refunds; made by [`Refunds::list`].
#[derive(Debug, Clone)]
#[must_use = "a request does nothing until `send` is called"]
pub struct ListRefunds<M = Async> {
    ctx: Ctx<M>,
    page: Option<u64>,
    page_size: Option<u64>,
    filters: DateFilters,
    status: Option<RefundStatus>,
    options: RequestOptions,
}

date_filters!(ListRefunds);

impl<M> ListRefunds<M> {
    /// Only refunds in this status.
    pub fn status(mut self, status: RefundStatus) -> Self {
        self.status = Some(status);
        self
    }

    async fn execute(self, want_raw: bool) -> Result<Response<Page<Refund>>> {
        const OPERATION: &str = "refunds.list";
        let request = (|| {
            let (page, page_size) = validate::paging(self.page, self.page_size)?;
            let mut request = self.ctx.core.api().list_refunds();
            if let Some(page) = page {
                request = request.page(page);
            }
            if let Some(page_size) = page_size {
                request = request.page_size(page_size);
            }
            if let Some(search) = &self.filters.search {
                request = request.search(search.clone());
            }
            if let Some(day) = &self.filters.start_date {
                request = request.start_date(day.as_date("start_date")?);
            }
            if let Some(day) = &self.filters.end_date {
                request = request.end_date(day.as_date("end_date")?);
            }
            if let Some(status) = self.status {
                request = request.status(status.to_wire());
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

request_options!([M] ListRefunds<M>);
list_impls!(ListRefunds => Refund);
