//! The organisation's back office (feature `admin`): its orders, checkout sessions, their
//! timelines, and the log of webhook deliveries.
//!
//! [`Client::admin`](crate::Client::admin) has three groups, named after what they read:
//! [`orders()`](Admin::orders), [`checkout_sessions()`](Admin::checkout_sessions) and
//! [`webhook_logs()`](Admin::webhook_logs). Every operation reads; every list is paged
//! (10 a page by default), newest first, and walks every page with `into_stream()` (async)
//! or a `for` loop (blocking).
//!
//! ```no_run
//! use futures_util::TryStreamExt;
//! use kelviq::admin::OrderStatus;
//!
//! # async fn run(client: kelviq::Client) -> kelviq::Result<()> {
//! let admin = client.admin();
//! let refunded: Vec<_> = admin
//!     .orders()
//!     .list()
//!     .status(OrderStatus::Refunded)
//!     .start_date("2026-07-01")
//!     .into_stream()
//!     .try_collect()
//!     .await?;
//! for order in &refunded {
//!     let timeline = admin.orders().list_events(&order.id).send().await?;
//!     println!("{}: {} events", order.id, timeline.count);
//! }
//! # Ok(()) }
//! ```
//!
//! Identifiers (an order's, a checkout session's) travel as one percent-encoded path
//! segment; empty, `.` and `..` are refused before sending. Every call is retried where the
//! client's policy allows: none changes anything.

use std::fmt;
use std::num::NonZeroU64;
use std::str::FromStr;

use kelviq_gen::admin::types as wire;

use crate::error::{Result, ValidationError};
use crate::model::{
    CheckoutSessionDetail, CheckoutSessionEvent, CheckoutSessionRecord, Order, OrderEvent, Page,
    WebhookEventLog,
};
use crate::paging::list_impls;
use crate::refunds::{date_filters, DateFilters};
use crate::request::{invalid, request_options, send_impls, Async, Ctx, RequestOptions};
use crate::response::Response;
use crate::time::TimeInput;
use crate::transport::RetryRule;
use crate::types::api_enum;
use crate::validate;

api_enum! {
    /// The state of an order, to filter [`Orders::list`] by. (An [`Order`]'s own `status`
    /// is kept as the text that came, so that a state added later does not fail a call.)
    OrderStatus as "status" => OrderStatus {
        /// `PENDING`: never listed, so the filter matches nothing.
        Pending = "PENDING",
        /// `COMPLETE`
        Complete = "COMPLETE",
        /// `FAILED`
        Failed = "FAILED",
        /// `REFUNDED`
        Refunded = "REFUNDED",
        /// `PARTIAL_REFUND`
        PartialRefund = "PARTIAL_REFUND",
        /// `CANCELLED`
        Cancelled = "CANCELLED",
        /// `FRAUDULENT`
        Fraudulent = "FRAUDULENT",
    }
}

api_enum! {
    /// One-time orders or subscription orders, to filter [`Orders::list`] by.
    BillingType as "billing_type" => BillingType {
        /// `ONE_TIME`: a single purchase.
        OneTime = "ONE_TIME",
        /// `SUBSCRIPTION`: a recurring one.
        Subscription = "SUBSCRIPTION",
    }
}

/// The admin groups, from [`Client::admin`](crate::Client::admin).
#[derive(Debug, Clone, Copy)]
pub struct Admin<'a, M = Async> {
    ctx: &'a Ctx<M>,
}

impl<'a, M: Clone> Admin<'a, M> {
    pub(crate) fn new(ctx: &'a Ctx<M>) -> Self {
        Self { ctx }
    }

    /// List and read orders, and their timelines.
    pub fn orders(&self) -> Orders<'a, M> {
        Orders { ctx: self.ctx }
    }

    /// List and read checkout sessions, and their timelines.
    pub fn checkout_sessions(&self) -> CheckoutSessions<'a, M> {
        CheckoutSessions { ctx: self.ctx }
    }

    /// List webhook delivery attempts.
    pub fn webhook_logs(&self) -> WebhookLogs<'a, M> {
        WebhookLogs { ctx: self.ctx }
    }
}

/// The family's generated client on the API host.
fn admin_client<M>(ctx: &Ctx<M>) -> kelviq_gen::admin::Client {
    ctx.family_client(kelviq_gen::admin::Client::new_with_client)
}

/// Sets `page` and `page_size` on a generated list request.
macro_rules! set_paging {
    ($request:ident, $page:expr, $page_size:expr) => {
        if let Some(page) = $page {
            $request = $request.page(page);
        }
        if let Some(page_size) = $page_size {
            $request = $request.page_size(page_size);
        }
    };
}

type Paging = (Option<NonZeroU64>, Option<NonZeroU64>);

// ---------------------------------------------------------------------------------------
// Orders
// ---------------------------------------------------------------------------------------

/// The order operations, from [`Admin::orders`].
#[derive(Debug, Clone, Copy)]
pub struct Orders<'a, M = Async> {
    ctx: &'a Ctx<M>,
}

impl<M: Clone> Orders<'_, M> {
    /// Lists orders a page at a time, most recently paid first. Orders still `PENDING`
    /// and orders without a customer are never listed.
    ///
    /// ```no_run
    /// use kelviq::admin::BillingType;
    /// # async fn run(client: kelviq::Client) -> kelviq::Result<()> {
    /// let page = client
    ///     .admin()
    ///     .orders()
    ///     .list()
    ///     .search("jane@example.com")
    ///     .billing_type(BillingType::Subscription)
    ///     .is_renewal(false)
    ///     .send()
    ///     .await?;
    /// for order in page.results {
    ///     println!("{} {} {:?}", order.id, order.status, order.amount_total);
    /// }
    /// # Ok(()) }
    /// ```
    pub fn list(&self) -> ListOrders<M> {
        ListOrders {
            ctx: self.ctx.clone(),
            page: None,
            page_size: None,
            filters: DateFilters::default(),
            status: None,
            billing_type: None,
            is_renewal: None,
            options: RequestOptions::default(),
        }
    }

    /// Reads one order by its identifier ([`Order::id`]). A `PENDING` order is not found.
    ///
    /// ```no_run
    /// # async fn run(client: kelviq::Client) -> kelviq::Result<()> {
    /// let order = client.admin().orders().retrieve("ORD-20260729103000-AB3K9").send().await?;
    /// let refunded = order.refunded_total_units.unwrap_or(0);
    /// println!("{} refunded of {:?}", refunded, order.amount_total_units);
    /// # Ok(()) }
    /// ```
    pub fn retrieve(&self, order_id: impl Into<String>) -> RetrieveOrder<M> {
        RetrieveOrder {
            ctx: self.ctx.clone(),
            order_id: order_id.into(),
            options: RequestOptions::default(),
        }
    }

    /// Lists the timeline of an order a page at a time, newest first. It covers every order
    /// of the same subscription; each event's [`order`](OrderEvent::order) says which.
    ///
    /// ```no_run
    /// # async fn run(client: kelviq::Client) -> kelviq::Result<()> {
    /// let events = client.admin().orders().list_events("ORD-20260729103000-AB3K9").send().await?;
    /// for event in events.results {
    ///     println!("{} {} {}", event.timestamp, event.order, event.code);
    /// }
    /// # Ok(()) }
    /// ```
    pub fn list_events(&self, order_id: impl Into<String>) -> ListOrderEvents<M> {
        ListOrderEvents {
            ctx: self.ctx.clone(),
            order_id: order_id.into(),
            page: None,
            page_size: None,
            options: RequestOptions::default(),
        }
    }
}

/// Lists orders; made by [`Orders::list`]. `search` matches the order's identifier and the
/// customer's name, e-mail and identifier; the dates bound the day the order was paid.
#[derive(Debug, Clone)]
#[must_use = "a request does nothing until `send` is called"]
pub struct ListOrders<M = Async> {
    ctx: Ctx<M>,
    page: Option<u64>,
    page_size: Option<u64>,
    filters: DateFilters,
    status: Option<OrderStatus>,
    billing_type: Option<BillingType>,
    is_renewal: Option<bool>,
    options: RequestOptions,
}

date_filters!(ListOrders);

impl<M> ListOrders<M> {
    /// Only orders in this status.
    pub fn status(mut self, status: OrderStatus) -> Self {
        self.status = Some(status);
        self
    }

    /// Only one-time orders, or only subscription orders.
    pub fn billing_type(mut self, billing_type: BillingType) -> Self {
        self.billing_type = Some(billing_type);
        self
    }

    /// `true`: only the renewal charges of subscriptions; `false`: only first purchases.
    pub fn is_renewal(mut self, is_renewal: bool) -> Self {
        self.is_renewal = Some(is_renewal);
        self
    }

    async fn execute(self, want_raw: bool) -> Result<Response<Page<Order>>> {
        const OPERATION: &str = "admin.orders.list";
        let (page, page_size): Paging =
            validate::paging(self.page, self.page_size).map_err(invalid(OPERATION))?;
        let (start, end) = dates(&self.filters).map_err(invalid(OPERATION))?;
        let api = admin_client(&self.ctx);
        let mut request = api.list_orders();
        set_paging!(request, page, page_size);
        if let Some(search) = self.filters.search.clone() {
            request = request.search(search);
        }
        if let Some(day) = start {
            request = request.start_date(day);
        }
        if let Some(day) = end {
            request = request.end_date(day);
        }
        if let Some(status) = self.status {
            request = request.status(status.to_wire());
        }
        if let Some(billing_type) = self.billing_type {
            request = request.billing_type(billing_type.to_wire());
        }
        if let Some(is_renewal) = self.is_renewal {
            request = request.is_renewal(is_renewal);
        }
        self.ctx
            .family_call(
                OPERATION,
                RetryRule::IDEMPOTENT,
                &self.options,
                want_raw,
                None,
                request.send(),
            )
            .await
    }
}

request_options!([M] ListOrders<M>);
list_impls!(ListOrders => Order);

/// The days of a filter, checked.
fn dates(
    filters: &DateFilters,
) -> Result<(Option<chrono::NaiveDate>, Option<chrono::NaiveDate>), ValidationError> {
    Ok((
        filters
            .start_date
            .as_ref()
            .map(|d| d.as_date("start_date"))
            .transpose()?,
        filters
            .end_date
            .as_ref()
            .map(|d| d.as_date("end_date"))
            .transpose()?,
    ))
}

/// Reads one order; made by [`Orders::retrieve`].
#[derive(Debug, Clone)]
#[must_use = "a request does nothing until `send` is called"]
pub struct RetrieveOrder<M = Async> {
    ctx: Ctx<M>,
    order_id: String,
    options: RequestOptions,
}

impl<M> RetrieveOrder<M> {
    async fn execute(self, want_raw: bool) -> Result<Response<Order>> {
        const OPERATION: &str = "admin.orders.retrieve";
        let id: wire::RetrieveOrderId =
            validate::path_segment("order_id", &self.order_id).map_err(invalid(OPERATION))?;
        let api = admin_client(&self.ctx);
        self.ctx
            .family_call(
                OPERATION,
                RetryRule::IDEMPOTENT,
                &self.options,
                want_raw,
                None,
                api.retrieve_order().id(id).send(),
            )
            .await
    }
}

request_options!([M] RetrieveOrder<M>);
send_impls!(RetrieveOrder => Order);

/// Lists an order's timeline; made by [`Orders::list_events`].
#[derive(Debug, Clone)]
#[must_use = "a request does nothing until `send` is called"]
pub struct ListOrderEvents<M = Async> {
    ctx: Ctx<M>,
    order_id: String,
    page: Option<u64>,
    page_size: Option<u64>,
    options: RequestOptions,
}

impl<M> ListOrderEvents<M> {
    async fn execute(self, want_raw: bool) -> Result<Response<Page<OrderEvent>>> {
        const OPERATION: &str = "admin.orders.list_events";
        let (id, (page, page_size)) = (|| {
            Ok::<_, ValidationError>((
                validate::path_segment::<wire::ListOrderEventsId>("order_id", &self.order_id)?,
                validate::paging(self.page, self.page_size)?,
            ))
        })()
        .map_err(invalid(OPERATION))?;
        let api = admin_client(&self.ctx);
        let mut request = api.list_order_events().id(id);
        set_paging!(request, page, page_size);
        self.ctx
            .family_call(
                OPERATION,
                RetryRule::IDEMPOTENT,
                &self.options,
                want_raw,
                None,
                request.send(),
            )
            .await
    }
}

request_options!([M] ListOrderEvents<M>);
list_impls!(ListOrderEvents => OrderEvent);

// ---------------------------------------------------------------------------------------
// Checkout sessions
// ---------------------------------------------------------------------------------------

/// The checkout session operations, from [`Admin::checkout_sessions`]. (Sessions are
/// created with [`Client::checkout`](crate::Client::checkout).)
#[derive(Debug, Clone, Copy)]
pub struct CheckoutSessions<'a, M = Async> {
    ctx: &'a Ctx<M>,
}

impl<M: Clone> CheckoutSessions<'_, M> {
    /// Lists checkout sessions a page at a time, newest first.
    ///
    /// ```no_run
    /// # async fn run(client: kelviq::Client) -> kelviq::Result<()> {
    /// let open = client.admin().checkout_sessions().list().status("open").send().await?;
    /// println!("{} sessions still open", open.count);
    /// # Ok(()) }
    /// ```
    pub fn list(&self) -> ListCheckoutSessions<M> {
        ListCheckoutSessions {
            ctx: self.ctx.clone(),
            page: None,
            page_size: None,
            filters: DateFilters::default(),
            status: None,
            options: RequestOptions::default(),
        }
    }

    /// Reads one checkout session (`checkout_session_id` when it was created) with the
    /// order, subscription and payment method it produced.
    ///
    /// ```no_run
    /// # async fn run(client: kelviq::Client) -> kelviq::Result<()> {
    /// let detail = client.admin().checkout_sessions().retrieve("cs_a1B2c3").send().await?;
    /// match detail.order {
    ///     Some(order) => println!("paid: {:?}", order.amount_total),
    ///     None => println!("{} and not paid yet", detail.session.status),
    /// }
    /// # Ok(()) }
    /// ```
    pub fn retrieve(&self, session_id: impl Into<String>) -> RetrieveCheckoutSession<M> {
        RetrieveCheckoutSession {
            ctx: self.ctx.clone(),
            session_id: session_id.into(),
            options: RequestOptions::default(),
        }
    }

    /// Lists the timeline of one checkout session a page at a time, newest first.
    ///
    /// ```no_run
    /// # fn run(client: kelviq::blocking::Client) -> kelviq::Result<()> {
    /// for event in client.admin().checkout_sessions().list_events("cs_a1B2c3") {
    ///     let event = event?;
    ///     println!("{} {}", event.timestamp, event.title);
    /// }
    /// # Ok(()) }
    /// ```
    pub fn list_events(&self, session_id: impl Into<String>) -> ListCheckoutSessionEvents<M> {
        ListCheckoutSessionEvents {
            ctx: self.ctx.clone(),
            session_id: session_id.into(),
            page: None,
            page_size: None,
            options: RequestOptions::default(),
        }
    }
}

/// Lists checkout sessions; made by [`CheckoutSessions::list`]. `search` matches the
/// session's identifier, the customer's name, e-mail and identifier, and the product's
/// name; the dates bound the day the session was created.
#[derive(Debug, Clone)]
#[must_use = "a request does nothing until `send` is called"]
pub struct ListCheckoutSessions<M = Async> {
    ctx: Ctx<M>,
    page: Option<u64>,
    page_size: Option<u64>,
    filters: DateFilters,
    status: Option<String>,
    options: RequestOptions,
}

date_filters!(ListCheckoutSessions);

impl<M> ListCheckoutSessions<M> {
    /// Only sessions in this status: `open`, `processing`, `success`, `expired`, … (an
    /// open set, matched exactly).
    pub fn status(mut self, status: impl Into<String>) -> Self {
        self.status = Some(status.into());
        self
    }

    async fn execute(self, want_raw: bool) -> Result<Response<Page<CheckoutSessionRecord>>> {
        const OPERATION: &str = "admin.checkout_sessions.list";
        let (page, page_size): Paging =
            validate::paging(self.page, self.page_size).map_err(invalid(OPERATION))?;
        let (start, end) = dates(&self.filters).map_err(invalid(OPERATION))?;
        let api = admin_client(&self.ctx);
        let mut request = api.list_checkout_sessions();
        set_paging!(request, page, page_size);
        if let Some(search) = self.filters.search.clone() {
            request = request.search(search);
        }
        if let Some(day) = start {
            request = request.start_date(day);
        }
        if let Some(day) = end {
            request = request.end_date(day);
        }
        if let Some(status) = self.status.clone() {
            request = request.status(status);
        }
        self.ctx
            .family_call(
                OPERATION,
                RetryRule::IDEMPOTENT,
                &self.options,
                want_raw,
                None,
                request.send(),
            )
            .await
    }
}

request_options!([M] ListCheckoutSessions<M>);
list_impls!(ListCheckoutSessions => CheckoutSessionRecord);

/// Reads one checkout session; made by [`CheckoutSessions::retrieve`].
#[derive(Debug, Clone)]
#[must_use = "a request does nothing until `send` is called"]
pub struct RetrieveCheckoutSession<M = Async> {
    ctx: Ctx<M>,
    session_id: String,
    options: RequestOptions,
}

impl<M> RetrieveCheckoutSession<M> {
    async fn execute(self, want_raw: bool) -> Result<Response<CheckoutSessionDetail>> {
        const OPERATION: &str = "admin.checkout_sessions.retrieve";
        let id: wire::RetrieveCheckoutSessionSessionId =
            validate::path_segment("session_id", &self.session_id).map_err(invalid(OPERATION))?;
        let api = admin_client(&self.ctx);
        self.ctx
            .family_call(
                OPERATION,
                RetryRule::IDEMPOTENT,
                &self.options,
                want_raw,
                None,
                api.retrieve_checkout_session().session_id(id).send(),
            )
            .await
    }
}

request_options!([M] RetrieveCheckoutSession<M>);
send_impls!(RetrieveCheckoutSession => CheckoutSessionDetail);

/// Lists a checkout session's timeline; made by [`CheckoutSessions::list_events`].
#[derive(Debug, Clone)]
#[must_use = "a request does nothing until `send` is called"]
pub struct ListCheckoutSessionEvents<M = Async> {
    ctx: Ctx<M>,
    session_id: String,
    page: Option<u64>,
    page_size: Option<u64>,
    options: RequestOptions,
}

impl<M> ListCheckoutSessionEvents<M> {
    async fn execute(self, want_raw: bool) -> Result<Response<Page<CheckoutSessionEvent>>> {
        const OPERATION: &str = "admin.checkout_sessions.list_events";
        let (id, (page, page_size)) = (|| {
            Ok::<_, ValidationError>((
                validate::path_segment::<wire::ListCheckoutSessionEventsSessionId>(
                    "session_id",
                    &self.session_id,
                )?,
                validate::paging(self.page, self.page_size)?,
            ))
        })()
        .map_err(invalid(OPERATION))?;
        let api = admin_client(&self.ctx);
        let mut request = api.list_checkout_session_events().session_id(id);
        set_paging!(request, page, page_size);
        self.ctx
            .family_call(
                OPERATION,
                RetryRule::IDEMPOTENT,
                &self.options,
                want_raw,
                None,
                request.send(),
            )
            .await
    }
}

request_options!([M] ListCheckoutSessionEvents<M>);
list_impls!(ListCheckoutSessionEvents => CheckoutSessionEvent);

// ---------------------------------------------------------------------------------------
// Webhook logs
// ---------------------------------------------------------------------------------------

/// The webhook log operations, from [`Admin::webhook_logs`].
#[derive(Debug, Clone, Copy)]
pub struct WebhookLogs<'a, M = Async> {
    ctx: &'a Ctx<M>,
}

impl<M: Clone> WebhookLogs<'_, M> {
    /// Lists webhook delivery attempts, retries included, a page at a time, newest first.
    /// Only the last 30 days are ever listed.
    ///
    /// ```no_run
    /// use futures_util::TryStreamExt;
    /// # async fn run(client: kelviq::Client) -> kelviq::Result<()> {
    /// let failed: Vec<_> = client
    ///     .admin()
    ///     .webhook_logs()
    ///     .list()
    ///     .start_date("2026-07-01")
    ///     .into_stream()
    ///     .try_filter(|attempt| std::future::ready(!attempt.is_success))
    ///     .try_collect()
    ///     .await?;
    /// println!("{} failed attempts", failed.len());
    /// # Ok(()) }
    /// ```
    pub fn list(&self) -> ListWebhookLogs<M> {
        ListWebhookLogs {
            ctx: self.ctx.clone(),
            page: None,
            page_size: None,
            start_date: None,
            end_date: None,
            options: RequestOptions::default(),
        }
    }
}

/// Lists webhook delivery attempts; made by [`WebhookLogs::list`]. The dates bound the day
/// of the attempt ([`WebhookEventLog::last_attempt`]), within the last 30 days: an earlier
/// start counts as 30 days ago.
#[derive(Debug, Clone)]
#[must_use = "a request does nothing until `send` is called"]
pub struct ListWebhookLogs<M = Async> {
    ctx: Ctx<M>,
    page: Option<u64>,
    page_size: Option<u64>,
    start_date: Option<TimeInput>,
    end_date: Option<TimeInput>,
    options: RequestOptions,
}

impl<M> ListWebhookLogs<M> {
    /// Only attempts made on or after this day (a `chrono::NaiveDate` or `"YYYY-MM-DD"`).
    pub fn start_date(mut self, day: impl crate::IntoTime) -> Self {
        self.start_date = Some(day.into_time());
        self
    }

    /// Only attempts made on or before this day.
    pub fn end_date(mut self, day: impl crate::IntoTime) -> Self {
        self.end_date = Some(day.into_time());
        self
    }

    async fn execute(self, want_raw: bool) -> Result<Response<Page<WebhookEventLog>>> {
        const OPERATION: &str = "admin.webhook_logs.list";
        let (page, page_size): Paging =
            validate::paging(self.page, self.page_size).map_err(invalid(OPERATION))?;
        let filters = DateFilters {
            search: None,
            start_date: self.start_date.clone(),
            end_date: self.end_date.clone(),
        };
        let (start, end) = dates(&filters).map_err(invalid(OPERATION))?;
        let api = admin_client(&self.ctx);
        let mut request = api.list_webhook_event_logs();
        set_paging!(request, page, page_size);
        if let Some(day) = start {
            request = request.start_date(day);
        }
        if let Some(day) = end {
            request = request.end_date(day);
        }
        self.ctx
            .family_call(
                OPERATION,
                RetryRule::IDEMPOTENT,
                &self.options,
                want_raw,
                None,
                request.send(),
            )
            .await
    }
}

request_options!([M] ListWebhookLogs<M>);
list_impls!(ListWebhookLogs => WebhookEventLog);
