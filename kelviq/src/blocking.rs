//! The blocking client: the same resource groups, methods and builders as the async
//! [`Client`](crate::Client), whose `send()` waits for the answer.
//!
//! It holds an async client and a small runtime of its own (one worker thread, which drives
//! the connections), and adds no request logic: every builder is the async one in
//! [`Blocking`] mode. It is `Send + Sync` and cheap to clone; clones share the runtime and
//! the connection pool, so one client can serve many threads.
//!
//! It must not be used from inside an async runtime (a `#[tokio::main]` function, a task):
//! there, `send()` returns [`Error::Config`] instead of blocking the runtime's thread. Use
//! the async client there.
//!
//! ```no_run
//! fn main() -> kelviq::Result<()> {
//!     let client = kelviq::Kelviq::create_sync_client("sk_live_…")?;
//!     let allowed = client.entitlements().has_access("cust_123", "premium-reporting").send()?;
//!     println!("access: {allowed}");
//!     Ok(())
//! }
//! ```

use std::fmt;
use std::future::Future;
use std::sync::Arc;

use crate::checkout::Checkout;
use crate::client::Ctx;
use crate::config::ClientBuilder;
use crate::customers::Customers;
use crate::entitlements::Entitlements;
use crate::error::{Error, Result};
use crate::reporting::Reporting;
use crate::subscriptions::Subscriptions;

/// The blocking Kelviq client. See the [module docs](self).
#[derive(Clone)]
pub struct Client {
    inner: crate::Client,
    runtime: Arc<Runtime>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("blocking::Client")
            .field(&self.inner)
            .finish()
    }
}

impl Client {
    pub(crate) fn from_builder(builder: ClientBuilder) -> Result<Self> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("kelviq-blocking")
            .enable_all()
            .build()
            .map_err(|e| {
                Error::Config(format!(
                    "could not start the blocking client's runtime: {e}"
                ))
            })?;
        Ok(Self {
            inner: crate::Client::from_builder(builder)?,
            runtime: Arc::new(Runtime(Some(runtime))),
        })
    }

    /// Create and update customers.
    pub fn customers(&self) -> Customers<'_, Blocking<'_>> {
        Customers::new(self.ctx())
    }

    /// Create checkout sessions.
    pub fn checkout(&self) -> Checkout<'_, Blocking<'_>> {
        Checkout::new(self.ctx())
    }

    /// Check and read entitlements (answered by the edge host).
    pub fn entitlements(&self) -> Entitlements<'_, Blocking<'_>> {
        Entitlements::new(self.ctx())
    }

    /// Report usage and events.
    pub fn reporting(&self) -> Reporting<'_, Blocking<'_>> {
        Reporting::new(self.ctx())
    }

    /// Update and cancel subscriptions.
    pub fn subscriptions(&self) -> Subscriptions<'_, Blocking<'_>> {
        Subscriptions::new(self.ctx())
    }

    /// Forgets the cached entitlements of `customer_id`; see
    /// [`Client::invalidate_entitlements`](crate::Client::invalidate_entitlements).
    pub fn invalidate_entitlements(&self, customer_id: &str) {
        self.inner.invalidate_entitlements(customer_id);
    }

    /// Delivers the reports waiting in the offline queue; see
    /// [`Client::flush`](crate::Client::flush).
    pub fn flush(&self) -> Result<crate::FlushReport> {
        Blocking(&self.runtime).block_on(async { Ok(self.inner.flush().await) })
    }

    /// How many reports wait in the offline queue.
    pub fn queued_reports(&self) -> usize {
        self.inner.queued_reports()
    }

    /// The async client this one drives, sharing its connection pool.
    pub fn as_async(&self) -> &crate::Client {
        &self.inner
    }

    fn ctx(&self) -> Ctx<'_, Blocking<'_>> {
        Ctx::new(&self.inner, Blocking(&self.runtime))
    }
}

/// The runtime, shut down without waiting when the last clone goes, so that dropping a
/// blocking client never blocks or panics, even inside an async context.
struct Runtime(Option<tokio::runtime::Runtime>);

impl Drop for Runtime {
    fn drop(&mut self) {
        if let Some(runtime) = self.0.take() {
            runtime.shutdown_background();
        }
    }
}

/// The mode of the blocking client's request builders: `send()` waits for the answer.
#[derive(Clone, Copy)]
pub struct Blocking<'a>(&'a Runtime);

impl fmt::Debug for Blocking<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Blocking")
    }
}

impl Blocking<'_> {
    pub(crate) fn block_on<T>(self, call: impl Future<Output = Result<T>>) -> Result<T> {
        if tokio::runtime::Handle::try_current().is_ok() {
            return Err(Error::Config(
                "the blocking client was called inside an async runtime, where it would block \
                 the runtime's thread: use the async kelviq::Client there"
                    .into(),
            ));
        }
        match &self.0 .0 {
            Some(runtime) => runtime.block_on(call),
            None => Err(Error::Config(
                "the blocking client's runtime has shut down".into(),
            )),
        }
    }
}
