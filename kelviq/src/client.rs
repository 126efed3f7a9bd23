//! The async client, and what its request builders share with the blocking client's.
//!
//! Every request builder is generic over a mode: [`Async`] (its `send` returns a future) or
//! [`Blocking`](crate::blocking::Blocking) (its `send` waits). The setters and the request
//! logic are written once; only `send` differs, and [`send_impls!`] writes both.

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::HeaderValue;

use crate::cache::EntitlementCache;
use crate::checkout::Checkout;
use crate::config::{base_url, ApiKey, ClientBuilder, Environment};
use crate::customers::Customers;
use crate::entitlements::Entitlements;
use crate::error::{Error, Result};
use crate::queue::{FlushReport, ReportQueue};
use crate::reporting::Reporting;
use crate::subscriptions::Subscriptions;
use crate::transport::{self, Idempotency, Transport};

/// The `User-Agent` every request carries, before any suffix.
pub const USER_AGENT: &str = concat!("kelviq-rust/", env!("CARGO_PKG_VERSION"));

/// The async Kelviq client. Cheap to clone: clones share one connection pool.
///
/// Entitlement calls go to the edge host, everything else to the API host, over the same
/// pool. Made by [`Kelviq::create_async_client`](crate::Kelviq::create_async_client) or
/// [`Kelviq::builder`](crate::Kelviq::builder).
///
/// ```no_run
/// # async fn run() -> kelviq::Result<()> {
/// let client = kelviq::Kelviq::create_async_client("sk_live_…")?;
/// if client.entitlements().has_access("cust_123", "premium-reporting").send().await? {
///     // serve the premium report
/// }
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    cache: Option<EntitlementCache>,
    queue: Option<ReportQueue>,
    api: kelviq_gen::Client,
    edge: kelviq_gen::Client,
    timeout: Duration,
    environment: Environment,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use kelviq_gen::ClientInfo;
        f.debug_struct("Client")
            .field("api_key", &"<redacted>")
            .field("environment", &self.inner.environment)
            .field("api_base_url", &self.inner.api.baseurl())
            .field("edge_base_url", &self.inner.edge.baseurl())
            .field("timeout", &self.inner.timeout)
            .field("cache", &self.inner.cache)
            .field("queue", &self.inner.queue)
            .finish()
    }
}

impl Client {
    pub(crate) fn from_builder(builder: ClientBuilder) -> Result<Self> {
        let api_key = ApiKey::new(&builder.api_key)?;
        let api_url = base_url(
            "api_base_url",
            builder
                .api_base_url
                .as_deref()
                .unwrap_or(builder.environment.api_url()),
        )?;
        let edge_url = base_url(
            "edge_base_url",
            builder
                .edge_base_url
                .as_deref()
                .unwrap_or(builder.environment.edge_url()),
        )?;
        let user_agent = match &builder.user_agent_suffix {
            Some(suffix) => format!("{USER_AGENT} {suffix}"),
            None => USER_AGENT.to_owned(),
        };
        let user_agent = HeaderValue::try_from(user_agent).map_err(|_| {
            Error::Config(format!(
                "invalid user_agent_suffix {:?}: expected visible ASCII",
                builder.user_agent_suffix.as_deref().unwrap_or_default()
            ))
        })?;
        let http = match builder.http_client {
            Some(http) => http,
            None => reqwest::Client::builder()
                .connect_timeout(builder.connect_timeout)
                // Like the official client: a redirect is an answer, not something to follow.
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .map_err(|e| Error::Config(format!("could not build the HTTP client: {e}")))?,
        };
        let transport = kelviq_gen::Transport::new(Arc::new(Transport {
            api_key,
            user_agent,
            timeout: builder.timeout,
            retry: builder.retry,
        }));
        Ok(Self {
            inner: Arc::new(Inner {
                cache: EntitlementCache::new(&builder.cache),
                queue: ReportQueue::new(&builder.queue),
                api: kelviq_gen::Client::new_with_client(&api_url, http.clone(), transport.clone()),
                edge: kelviq_gen::Client::new_with_client(&edge_url, http, transport),
                timeout: builder.timeout,
                environment: builder.environment,
            }),
        })
    }

    /// Create and update customers.
    pub fn customers(&self) -> Customers<'_> {
        Customers::new(Ctx::new(self, Async))
    }

    /// Create checkout sessions.
    pub fn checkout(&self) -> Checkout<'_> {
        Checkout::new(Ctx::new(self, Async))
    }

    /// Check and read entitlements (answered by the edge host).
    pub fn entitlements(&self) -> Entitlements<'_> {
        Entitlements::new(Ctx::new(self, Async))
    }

    /// Report usage and events.
    pub fn reporting(&self) -> Reporting<'_> {
        Reporting::new(Ctx::new(self, Async))
    }

    /// Update and cancel subscriptions.
    pub fn subscriptions(&self) -> Subscriptions<'_> {
        Subscriptions::new(Ctx::new(self, Async))
    }

    /// Forgets the cached entitlements of `customer_id`, so that the next check asks the
    /// service. Call it when you learn that they changed outside this client, typically
    /// from your `checkout.completed` webhook handler.
    ///
    /// ```
    /// let client = kelviq::Kelviq::create_async_client("sk_test")?;
    /// client.invalidate_entitlements("cust_123");
    /// # Ok::<(), kelviq::Error>(())
    /// ```
    pub fn invalidate_entitlements(&self, customer_id: &str) {
        if let Some(cache) = &self.inner.cache {
            cache.invalidate(customer_id);
        }
    }

    /// Delivers the reports waiting in the offline queue, in order, and says what became of
    /// them. Reports the service still cannot take stay queued.
    ///
    /// ```no_run
    /// # async fn run(client: kelviq::Client) {
    /// let report = client.flush().await;
    /// println!("{} delivered, {} still waiting", report.delivered, report.remaining);
    /// # }
    /// ```
    pub async fn flush(&self) -> FlushReport {
        match &self.inner.queue {
            Some(queue) => queue.flush(self).await,
            None => FlushReport::default(),
        }
    }

    /// How many reports wait in the offline queue.
    pub fn queued_reports(&self) -> usize {
        self.inner.queue.as_ref().map_or(0, ReportQueue::len)
    }

    pub(crate) fn queue(&self) -> Option<&ReportQueue> {
        self.inner.queue.as_ref()
    }

    /// A handle that does not keep the client alive, for its background task.
    pub(crate) fn downgrade(&self) -> WeakClient {
        WeakClient(Arc::downgrade(&self.inner))
    }

    /// The entitlement cache, when it is on.
    #[inline]
    pub(crate) fn cache(&self) -> Option<&EntitlementCache> {
        self.inner.cache.as_ref()
    }

    /// The generated client of the API host.
    pub(crate) fn api(&self) -> &kelviq_gen::Client {
        &self.inner.api
    }

    /// The generated client of the edge host.
    pub(crate) fn edge(&self) -> &kelviq_gen::Client {
        &self.inner.edge
    }

    /// Runs one generated call under a retry rule; see [`transport::run`].
    pub(crate) fn call<T, E, F>(
        &self,
        operation: &'static str,
        idempotency: Idempotency,
        call: F,
    ) -> transport::Call<F>
    where
        F: Future<Output = Result<kelviq_gen::ResponseValue<T>, kelviq_gen::Error<E>>>,
    {
        transport::run(operation, self.inner.timeout, idempotency, call)
    }
}

/// A [`Client`] that is gone once every clone of it is.
pub(crate) struct WeakClient(std::sync::Weak<Inner>);

impl WeakClient {
    pub(crate) fn upgrade(&self) -> Option<Client> {
        self.0.upgrade().map(|inner| Client { inner })
    }
}

/// The mode of the async client's request builders: `send()` returns a future.
#[derive(Debug, Clone, Copy, Default)]
pub struct Async;

/// What every resource group and request builder holds: the client and the mode.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ctx<'a, M> {
    pub(crate) client: &'a Client,
    pub(crate) mode: M,
}

impl<'a, M> Ctx<'a, M> {
    pub(crate) fn new(client: &'a Client, mode: M) -> Self {
        Self { client, mode }
    }
}

/// Writes `send` for a request builder in both modes, around its one `execute`.
macro_rules! send_impls {
    ($builder:ident => $output:ty) => {
        impl<'a> $builder<'a, $crate::client::Async> {
            /// Sends the request and returns the service's answer.
            pub async fn send(self) -> $crate::Result<$output> {
                self.execute().await
            }
        }

        impl<'a> $builder<'a, $crate::blocking::Blocking<'a>> {
            /// Sends the request and waits for the service's answer.
            pub fn send(self) -> $crate::Result<$output> {
                let mode = self.ctx.mode;
                mode.block_on(self.execute())
            }
        }
    };
    ($builder:ident => $output:ty, cached) => {
        impl<'a> $builder<'a, $crate::client::Async> {
            /// Sends the request and returns the service's answer, or the cache's while it
            /// is fresh.
            pub async fn send(self) -> $crate::Result<$output> {
                self.execute().await
            }
        }

        impl<'a> $builder<'a, $crate::blocking::Blocking<'a>> {
            /// Sends the request and waits for the service's answer, or returns the cache's
            /// while it is fresh (without entering the runtime).
            pub fn send(self) -> $crate::Result<$output> {
                if let Some(answer) = self.cached() {
                    return answer;
                }
                let mode = self.ctx.mode;
                mode.block_on(self.fetch())
            }
        }
    };
}
pub(crate) use send_impls;
