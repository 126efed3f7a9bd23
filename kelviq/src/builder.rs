//! Building a client: everything but the API key has a default.

use std::fmt;
use std::time::Duration;

use crate::config::{CacheConfig, Environment, FallbackPolicy, QueueConfig, RetryPolicy, Settings};
use crate::error::Result;

/// Builds a [`Client`](crate::Client) or a [`blocking::Client`](crate::blocking::Client).
///
/// Made by [`Kelviq::builder`](crate::Kelviq::builder). Everything but the API key has a
/// default: production, and these time limits:
///
/// | setting | default | covers |
/// |---|---|---|
/// | [`connect_timeout`](Self::connect_timeout) | 2 s | opening one connection; running out counts as "never reached" (a report is queued) |
/// | [`timeout`](Self::timeout) | 10 s | one attempt, from sending the request to the end of the answer |
/// | [`deadline`](Self::deadline) | 30 s | a whole call: every attempt and every wait between them |
/// | [`entitlement_deadline`](Self::entitlement_deadline) | 3 s | a whole entitlement call that must ask the edge host |
///
/// Each request builder can override `timeout` and `deadline` for one call.
///
/// ```
/// use std::time::Duration;
/// use kelviq::{Environment, Kelviq, RetryPolicy};
///
/// let client = Kelviq::builder("sk_test_123")
///     .environment(Environment::Sandbox)
///     .timeout(Duration::from_secs(3))
///     .deadline(Duration::from_secs(8))
///     .retry_policy(RetryPolicy::default().max_retries(2))
///     .user_agent_suffix("billing-service/1.4")
///     .build()?;
/// assert!(!format!("{client:?}").contains("sk_test_123"));
/// # Ok::<(), kelviq::Error>(())
/// ```
#[derive(Clone)]
pub struct ClientBuilder {
    pub(crate) settings: Settings,
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ClientBuilder")
            .field(&self.settings)
            .finish()
    }
}

impl ClientBuilder {
    pub(crate) fn new(api_key: impl Into<String>) -> Self {
        Self {
            settings: Settings::new(api_key.into()),
        }
    }

    /// Talk to this environment's hosts (production by default).
    pub fn environment(mut self, environment: Environment) -> Self {
        self.settings.environment = environment;
        self
    }

    /// Use this API host instead of the environment's, for example a `kelviq-mock`
    /// emulator. A trailing `/` is dropped.
    pub fn api_base_url(mut self, url: impl Into<String>) -> Self {
        self.settings.api_base_url = Some(url.into());
        self
    }

    /// Use this edge host, which answers entitlement calls, instead of the environment's.
    /// A trailing `/` is dropped.
    pub fn edge_base_url(mut self, url: impl Into<String>) -> Self {
        self.settings.edge_base_url = Some(url.into());
        self
    }

    /// Use one host for both the API and the edge: what `kelviq-mock` serves.
    pub fn base_url(self, url: impl Into<String>) -> Self {
        let url = url.into();
        self.api_base_url(url.clone()).edge_base_url(url)
    }

    /// The time-out of one attempt, from sending the request to the end of the answer's
    /// body (10 s by default).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.settings.timeouts.attempt = timeout;
        self
    }

    /// The time-out for opening a connection (2 s by default). Running out of it proves the
    /// request never left, so a report is queued rather than lost or doubled. Ignored with
    /// [`http_client`](Self::http_client), whose own setting applies.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.settings.timeouts.connect = timeout;
        self
    }

    /// The time a whole call may take, every attempt and every wait between them included
    /// (30 s by default).
    pub fn deadline(mut self, deadline: Duration) -> Self {
        self.settings.timeouts.deadline = deadline;
        self
    }

    /// The time a whole entitlement call may take when it must ask the edge host (3 s by
    /// default), so that a request handler behind `has_access` never stalls for long.
    pub fn entitlement_deadline(mut self, deadline: Duration) -> Self {
        self.settings.timeouts.entitlement_deadline = deadline;
        self
    }

    /// When and how often failed requests are retried.
    pub fn retry_policy(mut self, retry: RetryPolicy) -> Self {
        self.settings.retry = retry;
        self
    }

    /// Added after `kelviq-rust/<version>` in the `User-Agent` header, to name your service.
    pub fn user_agent_suffix(mut self, suffix: impl Into<String>) -> Self {
        self.settings.user_agent_suffix = Some(suffix.into());
        self
    }

    /// Send requests through this `reqwest::Client` (its connection pool, proxy and TLS
    /// settings). The API key, user agent and time-outs are still set on every request.
    ///
    /// With kelviq's `rustls` (or `rustls-aws-lc`) feature, reqwest is built with rustls but
    /// without a crypto provider of its own (unless your own reqwest dependency turns on its
    /// `rustls` feature, which brings aws-lc-rs), so a client built before any provider is
    /// installed panics in reqwest. Install one first, for example
    /// `rustls::crypto::ring::default_provider().install_default()`, or build a kelviq client
    /// first: it installs its own provider when none is.
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.settings.http_client = Some(client);
        self
    }

    /// How entitlements are cached (on by default; [`CacheConfig::disabled`] turns it off).
    pub fn entitlement_cache(mut self, cache: CacheConfig) -> Self {
        self.settings.cache = cache;
        self
    }

    /// What `has_access` answers when the edge host fails and nothing usable is cached
    /// (no access, unless set).
    pub fn entitlement_fallback(mut self, fallback: FallbackPolicy) -> Self {
        self.settings.fallback = fallback;
        self
    }

    /// How reports that cannot reach the service are queued (on by default;
    /// [`QueueConfig::disabled`] turns it off).
    pub fn offline_queue(mut self, queue: QueueConfig) -> Self {
        self.settings.queue = queue;
        self
    }

    /// Shares the entitlement cache and the offline queue with every instance that uses the
    /// same Redis, namespace, API key and environment; see [`RedisConfig`](crate::RedisConfig).
    #[cfg(feature = "redis")]
    #[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
    pub fn redis(mut self, redis: crate::RedisConfig) -> Self {
        self.settings.redis = Some(redis);
        self
    }

    /// Builds the async client.
    pub fn build(self) -> Result<crate::Client> {
        crate::Client::new(self.settings)
    }

    /// Builds the blocking client. See [`blocking`](crate::blocking) for where it may be
    /// called from.
    #[cfg(feature = "blocking")]
    pub fn build_blocking(self) -> Result<crate::blocking::Client> {
        crate::blocking::Client::new(self.settings)
    }
}
