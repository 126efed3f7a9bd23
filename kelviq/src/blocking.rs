//! The blocking client: the same resource groups, methods and builders as the async
//! [`Client`](crate::Client), whose `send()` waits for the answer.
//!
//! It drives the same core as the async client with a small runtime of its own (one worker
//! thread, which drives the connections), and adds no request logic: every builder is the
//! async one in [`Blocking`] mode. It is `Send + Sync` and cheap to clone; clones share the
//! runtime, the connection pool, the cache and the queue, so one client can serve many
//! threads.
//!
//! Where it may be called from:
//!
//! | thread | `send()` |
//! |---|---|
//! | a plain thread (`fn main`, `std::thread::spawn`) | waits |
//! | a `tokio::task::spawn_blocking` thread | waits |
//! | inside an async task (a runtime's worker thread) | refused with [`ErrorKind::Config`](crate::ErrorKind::Config): waiting there would stall every task of that worker; use the async client |
//!
//! ```no_run
//! fn main() -> kelviq::Result<()> {
//!     let client = kelviq::Kelviq::create_sync_client("sk_live_…")?;
//!     let allowed = client.entitlements().has_access("cust_123", "premium-reporting").send()?;
//!     println!("access: {allowed}");
//!     client.shutdown(std::time::Duration::from_secs(5))?;
//!     Ok(())
//! }
//! ```

use std::fmt;
use std::sync::Arc;
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
pub use crate::request::Blocking;
use crate::request::Ctx;
use crate::subscriptions::Subscriptions;
use crate::transactions::Transactions;

/// The blocking Kelviq client. See the [module docs](self).
#[derive(Clone)]
pub struct Client {
    ctx: Ctx<Blocking>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("blocking::Client")
            .field(&self.ctx.core)
            .finish()
    }
}

impl Client {
    pub(crate) fn new(settings: Settings) -> Result<Self> {
        let mode = Blocking::new()?;
        let core = Arc::new(Core::new(settings)?);
        if let Some(runtime) = mode.runtime() {
            core.start_background(runtime);
        }
        Ok(Self {
            ctx: Ctx { core, mode },
        })
    }

    /// Create, read, list, update and archive customers.
    pub fn customers(&self) -> Customers<'_, Blocking> {
        Customers::new(&self.ctx)
    }

    /// Create checkout sessions.
    pub fn checkout(&self) -> Checkout<'_, Blocking> {
        Checkout::new(&self.ctx)
    }

    /// Check and read entitlements (answered by the edge host, through the cache).
    pub fn entitlements(&self) -> Entitlements<'_, Blocking> {
        Entitlements::new(&self.ctx)
    }

    /// Report usage and events.
    pub fn reporting(&self) -> Reporting<'_, Blocking> {
        Reporting::new(&self.ctx)
    }

    /// List, read, create, preview, change and cancel subscriptions.
    pub fn subscriptions(&self) -> Subscriptions<'_, Blocking> {
        Subscriptions::new(&self.ctx)
    }

    /// Sessions of the customer billing portal.
    pub fn portal(&self) -> Portal<'_, Blocking> {
        Portal::new(&self.ctx)
    }

    /// Activate, deactivate and validate license keys.
    pub fn licenses(&self) -> Licenses<'_, Blocking> {
        Licenses::new(&self.ctx)
    }

    /// One-time charges of a customer's saved payment method.
    pub fn charges(&self) -> Charges<'_, Blocking> {
        Charges::new(&self.ctx)
    }

    /// Refund orders, and read and list refunds.
    pub fn refunds(&self) -> Refunds<'_, Blocking> {
        Refunds::new(&self.ctx)
    }

    /// List the organisation's transactions.
    pub fn transactions(&self) -> Transactions<'_, Blocking> {
        Transactions::new(&self.ctx)
    }

    /// List customers' saved payment methods.
    pub fn payment_methods(&self) -> PaymentMethods<'_, Blocking> {
        PaymentMethods::new(&self.ctx)
    }

    /// Manage the catalog: features, products, plans, their prices and entitlements.
    #[cfg(feature = "catalog")]
    #[cfg_attr(docsrs, doc(cfg(feature = "catalog")))]
    pub fn catalog(&self) -> crate::catalog::Catalog<'_, Blocking> {
        crate::catalog::Catalog::new(&self.ctx)
    }

    /// Read the organisation's orders, checkout sessions, their timelines and webhook
    /// delivery logs.
    ///
    /// ```no_run
    /// # fn run(client: kelviq::blocking::Client) -> kelviq::Result<()> {
    /// for attempt in client.admin().webhook_logs().list().page_size(100) {
    ///     let attempt = attempt?;
    ///     println!("{} {:?}", attempt.event_type, attempt.status_code);
    /// }
    /// # Ok(()) }
    /// ```
    #[cfg(feature = "admin")]
    #[cfg_attr(docsrs, doc(cfg(feature = "admin")))]
    pub fn admin(&self) -> crate::admin::Admin<'_, Blocking> {
        crate::admin::Admin::new(&self.ctx)
    }

    /// Provision and read the organisations of a partner, authenticated with the
    /// partner's `key` instead of this client's API key.
    ///
    /// ```no_run
    /// # fn run(client: kelviq::blocking::Client) -> kelviq::Result<()> {
    /// let key = kelviq::partner::PartnerKey::new("kvqp_…")?;
    /// let acme = client.partner(&key).organizations().retrieve_by_external_id("acme-corp").send()?;
    /// println!("{}", acme.organization_id);
    /// # Ok(()) }
    /// ```
    #[cfg(feature = "partner")]
    #[cfg_attr(docsrs, doc(cfg(feature = "partner")))]
    pub fn partner(
        &self,
        key: &crate::partner::PartnerKey,
    ) -> crate::partner::Partner<'_, Blocking> {
        crate::partner::Partner::new(&self.ctx, key)
    }

    /// Retires the cached entitlements of `customer_id`; see
    /// [`Client::invalidate_entitlements`](crate::Client::invalidate_entitlements).
    pub fn invalidate_entitlements(&self, customer_id: &str) {
        self.ctx.core.invalidate_entitlements(customer_id);
    }

    /// Keeps the cached entitlements in step with a verified webhook event; see
    /// [`Client::apply_webhook`](crate::Client::apply_webhook).
    pub fn apply_webhook(&self, event: &crate::webhooks::WebhookEvent) -> bool {
        self.ctx.core.apply_webhook(event)
    }

    /// Sends the reports waiting in the offline queue, once over; see
    /// [`Client::flush`](crate::Client::flush).
    pub fn flush(&self) -> Result<FlushReport> {
        let core = self.ctx.core.clone();
        self.ctx
            .mode
            .block_on(async move { Ok(core.flush().await) })
    }

    /// Delivers what the offline queue holds before the process exits, within `within`; see
    /// [`Client::shutdown`](crate::Client::shutdown).
    pub fn shutdown(&self, within: Duration) -> Result<FlushReport> {
        let core = self.ctx.core.clone();
        self.ctx
            .mode
            .block_on(async move { Ok(core.shutdown(within).await) })
    }

    /// What the shared tier in Redis has done since the client was built; `None` without
    /// one. See [`crate::Client::redis_stats`].
    #[cfg(feature = "redis")]
    #[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
    pub fn redis_stats(&self) -> Option<crate::RedisStats> {
        self.ctx.core.redis_stats()
    }

    /// What became of queued reports since the client was built; see
    /// [`Client::queue_totals`](crate::Client::queue_totals).
    ///
    /// ```no_run
    /// # fn run(client: kelviq::blocking::Client) -> kelviq::Result<()> {
    /// println!("{} reports unconfirmed", client.queue_totals()?.unconfirmed);
    /// # Ok(())
    /// # }
    /// ```
    pub fn queue_totals(&self) -> Result<FlushReport> {
        let core = self.ctx.core.clone();
        self.ctx
            .mode
            .block_on(async move { Ok(core.queue_totals().await) })
    }

    /// How many reports wait in this client's offline queue (in memory, or in its file).
    pub fn queued_reports(&self) -> usize {
        self.ctx.core.queued_reports()
    }

    /// An async client on the same core: the same pool, cache and queue.
    pub fn as_async(&self) -> crate::Client {
        crate::Client::from_core(self.ctx.core.clone())
    }
}
