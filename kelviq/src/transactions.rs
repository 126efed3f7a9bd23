//! Transactions: the organisation's money movements, a page at a time.
//!
//! ```no_run
//! use kelviq::TransactionStatus;
//!
//! # async fn run(client: kelviq::Client) -> kelviq::Result<()> {
//! let page = client.transactions().list().status(TransactionStatus::Success).send().await?;
//! for transaction in page {
//!     println!("{} {:?} {:?}", transaction.id, transaction.transaction_type, transaction.amount_total);
//! }
//! # Ok(()) }
//! ```

use crate::error::{Result, ValidationError};
use crate::model::{Page, Transaction};
use crate::paging::list_impls;
use crate::refunds::{date_filters, DateFilters};
use crate::request::{invalid, request_options, Async, Ctx, RequestOptions};
use crate::response::Response;
use crate::transport::RetryRule;
use crate::types::TransactionStatus;
use crate::validate;

/// The transaction operations, from [`Client::transactions`](crate::Client::transactions).
#[derive(Debug, Clone, Copy)]
pub struct Transactions<'a, M = Async> {
    ctx: &'a Ctx<M>,
}

impl<'a, M: Clone> Transactions<'a, M> {
    pub(crate) fn new(ctx: &'a Ctx<M>) -> Self {
        Self { ctx }
    }

    /// Lists transactions a page at a time, newest first.
    pub fn list(&self) -> ListTransactions<M> {
        ListTransactions {
            ctx: self.ctx.clone(),
            page: None,
            page_size: None,
            filters: DateFilters::default(),
            status: None,
            options: RequestOptions::default(),
        }
    }
}

/// Lists transactions; made by [`Transactions::list`].
#[derive(Debug, Clone)]
#[must_use = "a request does nothing until `send` is called"]
pub struct ListTransactions<M = Async> {
    ctx: Ctx<M>,
    page: Option<u64>,
    page_size: Option<u64>,
    filters: DateFilters,
    status: Option<TransactionStatus>,
    options: RequestOptions,
}

date_filters!(ListTransactions);

impl<M> ListTransactions<M> {
    /// Only transactions in this status.
    pub fn status(mut self, status: TransactionStatus) -> Self {
        self.status = Some(status);
        self
    }

    async fn execute(self, want_raw: bool) -> Result<Response<Page<Transaction>>> {
        const OPERATION: &str = "transactions.list";
        let request = (|| {
            let (page, page_size) = validate::paging(self.page, self.page_size)?;
            let mut request = self.ctx.core.api().list_transactions();
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

request_options!([M] ListTransactions<M>);
list_impls!(ListTransactions => Transaction);
