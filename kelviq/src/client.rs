//! The async client: a cheap handle on the shared [`Core`](crate::core), with the five
//! resource groups and the client-wide operations (invalidation, flush, shutdown).

use std::fmt;
use std::time::Duration;

use crate::charges::Charges;
use crate::checkout::Checkout;
use crate::config::Settings;
use crate::core::Core;
use crate::customers::Customers;
use crate::entitlements::Entitlements;
use crate::error::Result;
use crate::licenses::Licenses;
use crate::model::FlushReport;
use crate::payment_methods::PaymentMethods;
use crate::portal::Portal;
use crate::refunds::Refunds;
use crate::reporting::Reporting;
use crate::request::{Async, Ctx};
use crate::subscriptions::Subscriptions;
use crate::transactions::Transactions;

/// The async Kelviq client. Cheap to clone: clones share its connections, one
/// entitlement cache and one offline queue.
///
/// Entitlement calls go to the edge host, everything else to the API host. Entitlement
/// requests have a pool of their own (their shorter time-out is preset on it), unless the
/// builder was given an [`http_client`](crate::ClientBuilder::http_client), which then
/// carries everything. Made by [`Kelviq::create_async_client`](crate::Kelviq::create_async_client) or
/// [`Kelviq::builder`](crate::Kelviq::builder).
///
/// ```no_run
/// # async fn run() -> kelviq::Result<()> {
/// let client = kelviq::Kelviq::create_async_client("sk_live_…")?;
/// if client.entitlements().has_access("cust_123", "premium-reporting").send().await? {
///     // serve the premium report
/// }
/// // Before the process exits: deliver what the offline queue holds.
/// let left = client.shutdown(std::time::Duration::from_secs(5)).await;
/// assert_eq!(left.remaining, 0);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Client {
    ctx: Ctx<Async>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.ctx.core, f)
    }
}

impl Client {
    pub(crate) fn new(settings: Settings) -> Result<Self> {
        let core = std::sync::Arc::new(Core::new(settings)?);
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            core.start_background(&runtime);
        }
        Ok(Self::from_core(core))
    }

    pub(crate) fn from_core(core: std::sync::Arc<Core>) -> Self {
        Self {
            ctx: Ctx { core, mode: Async },
        }
    }

    /// Create, read, list, update and archive customers.
    pub fn customers(&self) -> Customers<'_> {
        Customers::new(&self.ctx)
    }

    /// Create checkout sessions.
    pub fn checkout(&self) -> Checkout<'_> {
        Checkout::new(&self.ctx)
    }

    /// Check and read entitlements (answered by the edge host, through the cache).
    pub fn entitlements(&self) -> Entitlements<'_> {
        Entitlements::new(&self.ctx)
    }

    /// Report usage and events.
    pub fn reporting(&self) -> Reporting<'_> {
        Reporting::new(&self.ctx)
    }

    /// List, read, create, preview, change and cancel subscriptions.
    pub fn subscriptions(&self) -> Subscriptions<'_> {
        Subscriptions::new(&self.ctx)
    }

    /// Sessions of the customer billing portal.
    pub fn portal(&self) -> Portal<'_> {
        Portal::new(&self.ctx)
    }

    /// Activate, deactivate and validate license keys.
    pub fn licenses(&self) -> Licenses<'_> {
        Licenses::new(&self.ctx)
    }

    /// One-time charges of a customer's saved payment method.
    pub fn charges(&self) -> Charges<'_> {
        Charges::new(&self.ctx)
    }

    /// Refund orders, and read and list refunds.
    pub fn refunds(&self) -> Refunds<'_> {
        Refunds::new(&self.ctx)
    }

    /// List the organisation's transactions.
    pub fn transactions(&self) -> Transactions<'_> {
        Transactions::new(&self.ctx)
    }

    /// List customers' saved payment methods.
    pub fn payment_methods(&self) -> PaymentMethods<'_> {
        PaymentMethods::new(&self.ctx)
    }

    /// Manage the catalog: features, products, plans, their prices and entitlements.
    #[cfg(feature = "catalog")]
    #[cfg_attr(docsrs, doc(cfg(feature = "catalog")))]
    pub fn catalog(&self) -> crate::catalog::Catalog<'_> {
        crate::catalog::Catalog::new(&self.ctx)
    }

    /// Read the organisation's orders, checkout sessions, their timelines and webhook
    /// delivery logs.
    ///
    /// ```no_run
    /// # async fn run(client: kelviq::Client) -> kelviq::Result<()> {
    /// let order = client.admin().orders().retrieve("ORD-20260729103000-AB3K9").send().await?;
    /// println!("{} {}", order.status, order.amount_total.unwrap_or_default());
    /// # Ok(()) }
    /// ```
    #[cfg(feature = "admin")]
    #[cfg_attr(docsrs, doc(cfg(feature = "admin")))]
    pub fn admin(&self) -> crate::admin::Admin<'_> {
        crate::admin::Admin::new(&self.ctx)
    }

    /// Provision and read the organisations of a partner, authenticated with the
    /// partner's `key` instead of this client's API key.
    ///
    /// ```no_run
    /// # async fn run(client: kelviq::Client) -> kelviq::Result<()> {
    /// let key = kelviq::partner::PartnerKey::new("kvqp_…")?;
    /// let all = client.partner(&key).organizations().list().send().await?;
    /// println!("{} organisations", all.count);
    /// # Ok(()) }
    /// ```
    #[cfg(feature = "partner")]
    #[cfg_attr(docsrs, doc(cfg(feature = "partner")))]
    pub fn partner(&self, key: &crate::partner::PartnerKey) -> crate::partner::Partner<'_> {
        crate::partner::Partner::new(&self.ctx, key)
    }

    /// Retires the cached entitlements of `customer_id`, so that the next check asks the
    /// service; a fetch already in flight cannot bring the old set back. Call it when you
    /// learn that they changed outside this client, typically from your
    /// `checkout.completed` webhook handler. While the edge host fails, the retired set
    /// still answers, flagged stale.
    ///
    /// ```
    /// let client = kelviq::Kelviq::create_async_client("sk_test")?;
    /// client.invalidate_entitlements("cust_123");
    /// # Ok::<(), kelviq::Error>(())
    /// ```
    pub fn invalidate_entitlements(&self, customer_id: &str) {
        self.ctx.core.invalidate_entitlements(customer_id);
    }

    /// Keeps the cached entitlements in step with a verified webhook event: a purchase, a
    /// subscription created, changed, moved to another plan or cancelled retires that
    /// customer's cached set (every customer's, when the event names none), so that the
    /// next `has_access` asks the service. Returns whether it retired anything.
    ///
    /// ```
    /// # fn handle(client: &kelviq::Client, event: &kelviq::webhooks::WebhookEvent) {
    /// client.apply_webhook(event);
    /// # }
    /// ```
    pub fn apply_webhook(&self, event: &crate::webhooks::WebhookEvent) -> bool {
        self.ctx.core.apply_webhook(event)
    }

    /// Sends the reports waiting in the offline queue, once over, and says what became of
    /// them. Reports the service still cannot take stay queued.
    ///
    /// ```no_run
    /// # async fn run(client: kelviq::Client) {
    /// let report = client.flush().await;
    /// println!("{} delivered, {} still waiting", report.delivered, report.remaining);
    /// # }
    /// ```
    pub async fn flush(&self) -> FlushReport {
        self.ctx.core.flush().await
    }

    /// Delivers what the offline queue holds before the process exits: tries until the
    /// queue is empty or `within` has passed, and says what is left (also logged at error
    /// level). The client stays usable.
    pub async fn shutdown(&self, within: Duration) -> FlushReport {
        self.ctx.core.shutdown(within).await
    }

    /// What the shared tier in Redis has done since the client was built; `None` without
    /// one.
    ///
    /// ```no_run
    /// # async fn run(client: kelviq::Client) {
    /// if let Some(stats) = client.redis_stats() {
    ///     println!("{} Redis failures, {} checks answered from Redis", stats.errors, stats.cache_hits);
    /// }
    /// # }
    /// ```
    #[cfg(feature = "redis")]
    #[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
    pub fn redis_stats(&self) -> Option<crate::RedisStats> {
        self.ctx.core.redis_stats()
    }

    /// What became of queued reports since the client was built: delivered, dropped,
    /// taken out as unconfirmed (counting `DELTA`s its durable file found on their way when
    /// an earlier process stopped), and how many wait now, in Redis too.
    ///
    /// ```no_run
    /// # async fn run(client: kelviq::Client) {
    /// let totals = client.queue_totals().await;
    /// if totals.unconfirmed > 0 {
    ///     eprintln!("{} usage reports may or may not have been counted", totals.unconfirmed);
    /// }
    /// # }
    /// ```
    pub async fn queue_totals(&self) -> FlushReport {
        self.ctx.core.queue_totals().await
    }

    /// How many reports wait in this client's offline queue (in memory, or in its file);
    /// reports in a shared queue in Redis are not counted here, see [`FlushReport`].
    pub fn queued_reports(&self) -> usize {
        self.ctx.core.queued_reports()
    }
}
