//! How a client is configured: environment, hosts, time-outs, retries, user agent, and the
//! API key, which is never printed.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use reqwest::header::HeaderValue;

use crate::cache::CacheConfig;
use crate::error::{Error, Result};
use crate::queue::QueueConfig;

/// The variable [`Kelviq::from_env`](crate::Kelviq::from_env) reads the API key from.
pub const API_KEY_VAR: &str = "KELVIQ_API_KEY";
/// The variable [`Kelviq::from_env`](crate::Kelviq::from_env) reads the environment from.
pub const ENV_VAR: &str = "KELVIQ_ENV";

/// A Kelviq environment: which API and edge hosts a client talks to.
///
/// | environment | API host | edge host (entitlements) |
/// |---|---|---|
/// | `Production` | `https://api.kelviq.com` | `https://edge.api.kelviq.com` |
/// | `Sandbox` | `https://sandboxapi.kelviq.com` | `https://edge.sandboxapi.kelviq.com` |
/// | `Staging` | `https://stagingapi.kelviq.com` | `https://edge.stagingapi.kelviq.com` |
///
/// Parsing accepts `production` (or `prod`), `sandbox` and `staging`, in any case, and
/// refuses anything else by name:
///
/// ```
/// use kelviq::Environment;
///
/// assert_eq!(" PROD ".parse::<Environment>().unwrap(), Environment::Production);
/// assert!("qa".parse::<Environment>().unwrap_err().to_string().contains("\"qa\""));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Environment {
    /// Live data. The default of [`Kelviq::create_async_client`](crate::Kelviq::create_async_client).
    #[default]
    Production,
    /// Test data.
    Sandbox,
    /// Kelviq's staging service.
    Staging,
}

impl Environment {
    /// The base URL of the API host.
    pub const fn api_url(self) -> &'static str {
        match self {
            Environment::Production => "https://api.kelviq.com",
            Environment::Sandbox => "https://sandboxapi.kelviq.com",
            Environment::Staging => "https://stagingapi.kelviq.com",
        }
    }

    /// The base URL of the edge host, which answers entitlement calls.
    pub const fn edge_url(self) -> &'static str {
        match self {
            Environment::Production => "https://edge.api.kelviq.com",
            Environment::Sandbox => "https://edge.sandboxapi.kelviq.com",
            Environment::Staging => "https://edge.stagingapi.kelviq.com",
        }
    }

    /// The environment `KELVIQ_ENV` names: unset or empty means sandbox; an unknown name is
    /// an error naming it.
    ///
    /// ```
    /// use kelviq::Environment;
    ///
    /// assert_eq!(Environment::from_env_value(None).unwrap(), Environment::Sandbox);
    /// assert_eq!(Environment::from_env_value(Some("  ")).unwrap(), Environment::Sandbox);
    /// assert_eq!(Environment::from_env_value(Some("Staging")).unwrap(), Environment::Staging);
    /// assert!(Environment::from_env_value(Some("live")).is_err());
    /// ```
    pub fn from_env_value(value: Option<&str>) -> Result<Self> {
        match value.map(str::trim) {
            None | Some("") => Ok(Environment::Sandbox),
            Some(name) => name.parse(),
        }
    }
}

impl FromStr for Environment {
    type Err = Error;

    fn from_str(value: &str) -> Result<Self> {
        match value.trim().to_ascii_lowercase().as_str() {
            "production" | "prod" => Ok(Environment::Production),
            "sandbox" => Ok(Environment::Sandbox),
            "staging" => Ok(Environment::Staging),
            _ => Err(Error::Config(format!(
                "unknown Kelviq environment {value:?}: expected production (or prod), sandbox or staging"
            ))),
        }
    }
}

impl fmt::Display for Environment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Environment::Production => "production",
            Environment::Sandbox => "sandbox",
            Environment::Staging => "staging",
        })
    }
}

/// When and how often a failed request is sent again.
///
/// A request is retried only where sending it again cannot change the outcome:
///
/// | request | retried after 429, 502, 503, 504, a time-out or a broken connection | retried when the connection could not be made |
/// |---|---|---|
/// | entitlements (GET) | yes | yes |
/// | customer update (PATCH) | yes | yes |
/// | usage report with `SET` | yes | yes |
/// | event report (its idempotency key makes it count once) | yes | yes |
/// | usage report with `DELTA` | **no** | yes |
/// | customer creation, checkout session | **no** | yes |
/// | subscription update and cancel | **no** | yes |
///
/// "The connection could not be made" (refused, name not resolved, TLS failed) proves the
/// request never reached the service, so every request is retried then.
///
/// Waits grow exponentially from `initial_backoff` up to `max_backoff`, and each gets a random
/// extra of up to its own length (jitter), so that clients failing together do not retry together.
/// When the service sends `Retry-After`, the client waits that long instead; if it asks for
/// more than `max_retry_after`, the client gives up at once and returns the error.
///
/// | setting | default |
/// |---|---|
/// | `max_retries` (retries after the first attempt) | 3 |
/// | `initial_backoff` | 100 ms |
/// | `max_backoff` | 5 s |
/// | `max_retry_after` | 30 s |
///
/// ```
/// use std::time::Duration;
///
/// let policy = kelviq::RetryPolicy::default()
///     .max_retries(5)
///     .initial_backoff(Duration::from_millis(50));
/// assert_eq!(policy.get_max_retries(), 5);
/// assert_eq!(kelviq::RetryPolicy::none().get_max_retries(), 0);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    max_retries: u32,
    initial_backoff: Duration,
    max_backoff: Duration,
    max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_retries: 3,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(5),
            max_retry_after: Duration::from_secs(30),
        }
    }
}

impl RetryPolicy {
    /// Never retry.
    pub fn none() -> Self {
        Self::default().max_retries(0)
    }

    /// Retries after the first attempt.
    pub fn max_retries(mut self, max_retries: u32) -> Self {
        self.max_retries = max_retries;
        self
    }

    /// The first wait, before jitter.
    pub fn initial_backoff(mut self, initial_backoff: Duration) -> Self {
        self.initial_backoff = initial_backoff;
        self
    }

    /// The longest wait between attempts, before jitter.
    pub fn max_backoff(mut self, max_backoff: Duration) -> Self {
        self.max_backoff = max_backoff;
        self
    }

    /// The longest `Retry-After` the client waits for; a longer one ends the retries.
    pub fn max_retry_after(mut self, max_retry_after: Duration) -> Self {
        self.max_retry_after = max_retry_after;
        self
    }

    /// Retries after the first attempt.
    pub fn get_max_retries(&self) -> u32 {
        self.max_retries
    }

    /// The longest `Retry-After` the client waits for.
    pub fn get_max_retry_after(&self) -> Duration {
        self.max_retry_after
    }

    /// The waits before each retry, jittered.
    pub(crate) fn backoff(&self) -> impl Iterator<Item = Duration> {
        use backon::BackoffBuilder;
        backon::ExponentialBuilder::default()
            .with_min_delay(self.initial_backoff)
            .with_max_delay(self.max_backoff)
            .with_max_times(self.max_retries as usize)
            .with_jitter()
            .build()
    }
}

/// The server API key. Its `Debug` never shows it, and the header made from it is marked
/// sensitive so that no HTTP log prints it either.
#[derive(Clone)]
pub(crate) struct ApiKey(HeaderValue);

impl ApiKey {
    pub(crate) fn new(key: &str) -> Result<Self> {
        let key = key.trim();
        if key.is_empty() {
            return Err(Error::Config("the API key is empty".into()));
        }
        let mut value = HeaderValue::try_from(format!("Bearer {key}")).map_err(|_| {
            Error::Config("the API key holds characters an HTTP header cannot carry".into())
        })?;
        value.set_sensitive(true);
        Ok(Self(value))
    }

    pub(crate) fn header(&self) -> &HeaderValue {
        &self.0
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey(<redacted>)")
    }
}

/// Builds a [`Client`](crate::Client) or a [`blocking::Client`](crate::blocking::Client).
///
/// Made by [`Kelviq::builder`](crate::Kelviq::builder). Everything but the API key has a
/// default: production, a 10 s time-out per attempt, the default [`RetryPolicy`].
///
/// ```
/// use std::time::Duration;
/// use kelviq::{Environment, Kelviq, RetryPolicy};
///
/// let client = Kelviq::builder("sk_test_123")
///     .environment(Environment::Sandbox)
///     .timeout(Duration::from_secs(3))
///     .retry_policy(RetryPolicy::default().max_retries(2))
///     .user_agent_suffix("billing-service/1.4")
///     .build()?;
/// assert!(!format!("{client:?}").contains("sk_test_123"));
/// # Ok::<(), kelviq::Error>(())
/// ```
#[derive(Clone)]
pub struct ClientBuilder {
    pub(crate) api_key: String,
    pub(crate) environment: Environment,
    pub(crate) api_base_url: Option<String>,
    pub(crate) edge_base_url: Option<String>,
    pub(crate) timeout: Duration,
    pub(crate) connect_timeout: Duration,
    pub(crate) retry: RetryPolicy,
    pub(crate) user_agent_suffix: Option<String>,
    pub(crate) http_client: Option<reqwest::Client>,
    pub(crate) cache: CacheConfig,
    pub(crate) queue: QueueConfig,
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("api_key", &"<redacted>")
            .field("environment", &self.environment)
            .field("api_base_url", &self.api_base_url)
            .field("edge_base_url", &self.edge_base_url)
            .field("timeout", &self.timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("retry", &self.retry)
            .field("user_agent_suffix", &self.user_agent_suffix)
            .field("http_client", &self.http_client.is_some())
            .field("cache", &self.cache)
            .field("queue", &self.queue)
            .finish()
    }
}

/// The time-out of one attempt when none is set.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

impl ClientBuilder {
    pub(crate) fn new(api_key: impl Into<String>) -> Self {
        Self {
            api_key: api_key.into(),
            environment: Environment::Production,
            api_base_url: None,
            edge_base_url: None,
            timeout: DEFAULT_TIMEOUT,
            connect_timeout: DEFAULT_TIMEOUT,
            retry: RetryPolicy::default(),
            user_agent_suffix: None,
            http_client: None,
            cache: CacheConfig::default(),
            queue: QueueConfig::default(),
        }
    }

    /// Talk to this environment's hosts (production by default).
    pub fn environment(mut self, environment: Environment) -> Self {
        self.environment = environment;
        self
    }

    /// Use this API host instead of the environment's, for example a `kelviq-mock`
    /// emulator. A trailing `/` is dropped.
    pub fn api_base_url(mut self, url: impl Into<String>) -> Self {
        self.api_base_url = Some(url.into());
        self
    }

    /// Use this edge host, which answers entitlement calls, instead of the environment's.
    /// A trailing `/` is dropped.
    pub fn edge_base_url(mut self, url: impl Into<String>) -> Self {
        self.edge_base_url = Some(url.into());
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
        self.timeout = timeout;
        self
    }

    /// The time-out for opening a connection (10 s by default). Ignored with
    /// [`http_client`](Self::http_client), whose own setting applies.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// When and how often failed requests are retried.
    pub fn retry_policy(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Added after `kelviq-rust/<version>` in the `User-Agent` header, to name your service.
    pub fn user_agent_suffix(mut self, suffix: impl Into<String>) -> Self {
        self.user_agent_suffix = Some(suffix.into());
        self
    }

    /// Send requests through this `reqwest::Client` (its connection pool, proxy and TLS
    /// settings). The API key, user agent and time-out are still set on every request.
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http_client = Some(client);
        self
    }

    /// How entitlements are cached (on by default; [`CacheConfig::disabled`] turns it off).
    pub fn entitlement_cache(mut self, cache: CacheConfig) -> Self {
        self.cache = cache;
        self
    }

    /// How reports that cannot reach the service are queued (on by default;
    /// [`QueueConfig::disabled`] turns it off).
    pub fn offline_queue(mut self, queue: QueueConfig) -> Self {
        self.queue = queue;
        self
    }

    /// Builds the async client.
    pub fn build(self) -> Result<crate::Client> {
        crate::Client::from_builder(self)
    }

    /// Builds the blocking client. It must not be used from inside an async runtime.
    pub fn build_blocking(self) -> Result<crate::blocking::Client> {
        crate::blocking::Client::from_builder(self)
    }
}

/// A base URL as the generated client wants it: checked, without a trailing `/`.
pub(crate) fn base_url(field: &'static str, url: &str) -> Result<String> {
    let trimmed = url.trim().trim_end_matches('/');
    match reqwest::Url::parse(trimmed) {
        Ok(parsed) if matches!(parsed.scheme(), "http" | "https") && parsed.has_host() => {
            Ok(trimmed.to_owned())
        }
        _ => Err(Error::Config(format!(
            "invalid {field} {url:?}: expected an http or https URL such as https://api.kelviq.com"
        ))),
    }
}
