//! Settings, and nothing but settings: environments and hosts, time-outs and deadlines,
//! the retry policy, the entitlement cache, the entitlement fallback, the offline queue, and
//! the API key, which is never printed. The layers below the client read them; none of them
//! lives here.

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use http::HeaderValue;

use crate::error::{Error, Result};

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
            _ => Err(Error::config(format!(
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
/// A request is retried only where sending it again cannot change the outcome, and only
/// within the call's deadline (see [`ClientBuilder`](crate::ClientBuilder)):
///
/// | request | after 429 | after 502, 503, 504, a time-out or a broken connection | when no connection could be made |
/// |---|---|---|---|
/// | entitlements (GET) | retried | retried | retried |
/// | customer update (PATCH) | retried | retried | retried |
/// | usage report with `SET` | retried | retried | queued (see [`QueueConfig`]) |
/// | event report (its idempotency key makes it count once) | retried | retried | queued |
/// | usage report with `DELTA` | queued | **returned to you, unconfirmed** | queued |
/// | customer creation, checkout session | retried | **returned to you, unconfirmed** | retried |
/// | subscription update and cancel | retried | **returned to you, unconfirmed** | retried |
///
/// A 429 comes before the service applies anything, and "no connection could be made"
/// (refused, connect time-out, name not resolved) proves the request never left, so both
/// are safe to repeat for every request. With the offline queue off, reports are retried
/// like the other requests of their row.
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
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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

/// The time limits of a call.
///
/// | setting | default | covers |
/// |---|---|---|
/// | `connect_timeout` | 2 s | opening one connection; running out counts as "never reached" |
/// | `timeout` | 10 s | one attempt, from sending the request to the end of the answer |
/// | `deadline` | 30 s | the whole call: every attempt and every wait between them |
/// | `entitlement_deadline` | 3 s | the whole of an entitlement call that must ask the edge host |
///
/// The client's values are set on [`ClientBuilder`](crate::ClientBuilder); each request
/// builder can override `timeout` and `deadline` for its call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Timeouts {
    pub(crate) connect: Duration,
    pub(crate) attempt: Duration,
    pub(crate) deadline: Duration,
    pub(crate) entitlement_deadline: Duration,
}

/// The time-out of one attempt when none is set.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            connect: Duration::from_secs(2),
            attempt: DEFAULT_TIMEOUT,
            deadline: Duration::from_secs(30),
            entitlement_deadline: Duration::from_secs(3),
        }
    }
}

/// How the entitlement cache behaves.
///
/// | setting | default | what it does |
/// |---|---|---|
/// | `enabled` | yes | [`CacheConfig::disabled`] makes every entitlement call a request |
/// | `ttl` | 60 s | a fetched set is answered from without a request this long |
/// | `max_stale` | 15 min | after `ttl`, how long a set may still be answered from while a refresh is under way or the edge host fails |
/// | `max_customers` | 10 000 | customers kept; past it, the stalest of a sample goes |
/// | `refresh_backoff` | 1 s, doubling up to 60 s | after a failed background refresh, how long before the next |
///
/// A stale set (older than `ttl`, younger than `ttl + max_stale`) is answered from at once,
/// flagged stale ([`Freshness::Stale`](crate::Freshness::Stale)), and one background
/// refresh per customer brings it up to date: no caller waits for the edge host while a
/// usable answer is at hand. Older sets are not used.
///
/// ```
/// use std::time::Duration;
///
/// let cache = kelviq::CacheConfig::default()
///     .ttl(Duration::from_secs(15))
///     .max_stale(Duration::from_secs(300))
///     .max_customers(50_000);
/// let client = kelviq::Kelviq::builder("sk_test").entitlement_cache(cache).build()?;
/// let uncached = kelviq::Kelviq::builder("sk_test")
///     .entitlement_cache(kelviq::CacheConfig::disabled())
///     .build()?;
/// # Ok::<(), kelviq::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheConfig {
    pub(crate) enabled: bool,
    pub(crate) ttl: Duration,
    pub(crate) max_stale: Duration,
    pub(crate) max_customers: usize,
    pub(crate) refresh_backoff: Duration,
    pub(crate) max_refresh_backoff: Duration,
}

impl Default for CacheConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            ttl: Duration::from_secs(60),
            max_stale: Duration::from_secs(15 * 60),
            max_customers: 10_000,
            refresh_backoff: Duration::from_secs(1),
            max_refresh_backoff: Duration::from_secs(60),
        }
    }
}

impl CacheConfig {
    /// No cache: every entitlement call is a request.
    pub fn disabled() -> Self {
        Self {
            enabled: false,
            ..Self::default()
        }
    }

    /// How long a fetched set is answered from without a request.
    pub fn ttl(mut self, ttl: Duration) -> Self {
        self.ttl = ttl;
        self
    }

    /// How long after `ttl` a set may still stand in while it is refreshed or while the
    /// edge host fails; `Duration::ZERO` never answers from a stale set.
    pub fn max_stale(mut self, max_stale: Duration) -> Self {
        self.max_stale = max_stale;
        self
    }

    /// How many customers' sets are kept; past it, the stalest of a sample is evicted.
    pub fn max_customers(mut self, max_customers: usize) -> Self {
        self.max_customers = max_customers.max(1);
        self
    }

    /// The wait after a failed background refresh before the next one, doubling with each
    /// failure up to `max`.
    pub fn refresh_backoff(mut self, initial: Duration, max: Duration) -> Self {
        self.refresh_backoff = initial;
        self.max_refresh_backoff = max.max(initial);
        self
    }

    /// Whether the cache is on.
    pub fn is_enabled(&self) -> bool {
        self.enabled
    }
}

/// What `has_access` answers when it cannot ask the edge host and nothing usable is cached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Fallback {
    /// No access (fail closed). The default.
    #[default]
    Deny,
    /// Access (fail open), for features whose outage costs more than their misuse.
    Allow,
    /// The error itself, for callers who decide case by case.
    Error,
}

/// The fallbacks of `has_access` while the edge host is unreachable or failing and no
/// usable set is cached: a default for every feature ([`Fallback::Deny`] unless set), and
/// per-feature exceptions. An answer made this way says so
/// ([`Freshness::Fallback`](crate::Freshness::Fallback)). It never stands in for a 400, 401,
/// 403 or 404, which are returned as errors.
///
/// ```
/// use kelviq::{Fallback, FallbackPolicy};
///
/// let fallback = FallbackPolicy::default() // deny everything…
///     .feature("basic-export", Fallback::Allow) // …but keep the basics working
///     .feature("audit-log", Fallback::Error); // and let this caller decide
/// let client = kelviq::Kelviq::builder("sk_test").entitlement_fallback(fallback).build()?;
/// # Ok::<(), kelviq::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FallbackPolicy {
    default: Fallback,
    features: HashMap<String, Fallback>,
}

impl FallbackPolicy {
    /// The fallback of every feature without its own.
    pub fn otherwise(mut self, fallback: Fallback) -> Self {
        self.default = fallback;
        self
    }

    /// The fallback of one feature.
    pub fn feature(mut self, feature_id: impl Into<String>, fallback: Fallback) -> Self {
        self.features.insert(feature_id.into(), fallback);
        self
    }

    /// The fallback for `feature_id`.
    pub fn for_feature(&self, feature_id: &str) -> Fallback {
        self.features
            .get(feature_id)
            .copied()
            .unwrap_or(self.default)
    }
}

/// How reports that cannot reach the service are kept.
///
/// | setting | default | what it does |
/// |---|---|---|
/// | `enabled` | yes | [`QueueConfig::disabled`] returns the error instead of queueing |
/// | `capacity` | 10 000 | reports kept; one more is [`ErrorKind::QueueFull`](crate::ErrorKind::QueueFull) |
/// | `retry_interval` | 1 s | the first wait before the background sender tries again; it doubles while the service stays down |
/// | `max_retry_interval` | 30 s | the longest such wait |
/// | `concurrency` | 8 | reports the background sender sends at once |
/// | `durable_at` | none (memory only) | a file that keeps queued reports across restarts (feature `durable-queue`) |
///
/// ```
/// use std::time::Duration;
///
/// let queue = kelviq::QueueConfig::default().capacity(50_000).concurrency(16);
/// let client = kelviq::Kelviq::builder("sk_test").offline_queue(queue).build()?;
/// # Ok::<(), kelviq::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueConfig {
    pub(crate) enabled: bool,
    pub(crate) capacity: usize,
    pub(crate) retry_interval: Duration,
    pub(crate) max_retry_interval: Duration,
    pub(crate) concurrency: usize,
    #[cfg(feature = "durable-queue")]
    pub(crate) path: Option<std::path::PathBuf>,
}

impl Default for QueueConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            capacity: 10_000,
            retry_interval: Duration::from_secs(1),
            max_retry_interval: Duration::from_secs(30),
            concurrency: 8,
            #[cfg(feature = "durable-queue")]
            path: None,
        }
    }
}

impl QueueConfig {
    /// No queue: a report that cannot reach the service is an error.
    pub fn disabled() -> Self {
        Self {
            enabled: false,
            ..Self::default()
        }
    }

    /// How many reports wait at most; one more is an error, never a silent drop.
    pub fn capacity(mut self, capacity: usize) -> Self {
        self.capacity = capacity;
        self
    }

    /// The first wait before the background sender tries the service again.
    pub fn retry_interval(mut self, interval: Duration) -> Self {
        self.retry_interval = interval;
        self.max_retry_interval = self.max_retry_interval.max(interval);
        self
    }

    /// The longest wait between the background sender's tries while the service is down.
    pub fn max_retry_interval(mut self, interval: Duration) -> Self {
        self.max_retry_interval = interval.max(self.retry_interval);
        self
    }

    /// How many queued reports are sent at once (reports of one customer and feature still
    /// go one after another, in order).
    pub fn concurrency(mut self, concurrency: usize) -> Self {
        self.concurrency = concurrency.max(1);
        self
    }

    /// Keeps queued reports in the file at `path` (created with its folder if missing), so
    /// that reports answered [`Queued`](crate::Delivery::Queued) survive the process: a
    /// report is written there before `Queued` is answered, and the next client that opens
    /// the same path delivers what it finds. One client at a time may hold a path; a
    /// second one is refused when it is built.
    ///
    /// ```no_run
    /// let queue = kelviq::QueueConfig::default().durable_at("/var/lib/my-service/kelviq-queue.redb");
    /// let client = kelviq::Kelviq::builder("sk_test").offline_queue(queue).build()?;
    /// # Ok::<(), kelviq::Error>(())
    /// ```
    #[cfg(feature = "durable-queue")]
    #[cfg_attr(docsrs, doc(cfg(feature = "durable-queue")))]
    pub fn durable_at(mut self, path: impl Into<std::path::PathBuf>) -> Self {
        self.path = Some(path.into());
        self
    }

    /// The file that keeps queued reports, if any.
    #[cfg(feature = "durable-queue")]
    #[cfg_attr(docsrs, doc(cfg(feature = "durable-queue")))]
    pub fn get_durable_path(&self) -> Option<&std::path::Path> {
        self.path.as_deref()
    }

    /// Whether the queue is on.
    pub fn is_enabled(&self) -> bool {
        self.enabled
    }

    /// How many queued reports are sent at once.
    pub fn get_concurrency(&self) -> usize {
        self.concurrency
    }
}

/// Everything a client is made from; [`ClientBuilder`](crate::ClientBuilder) fills it.
#[derive(Clone)]
pub(crate) struct Settings {
    pub(crate) api_key: String,
    pub(crate) environment: Environment,
    pub(crate) api_base_url: Option<String>,
    pub(crate) edge_base_url: Option<String>,
    pub(crate) timeouts: Timeouts,
    pub(crate) retry: RetryPolicy,
    pub(crate) user_agent_suffix: Option<String>,
    pub(crate) http_client: Option<reqwest::Client>,
    pub(crate) cache: CacheConfig,
    pub(crate) fallback: FallbackPolicy,
    pub(crate) queue: QueueConfig,
    #[cfg(feature = "redis")]
    pub(crate) redis: Option<RedisConfig>,
}

impl Settings {
    pub(crate) fn new(api_key: String) -> Self {
        Self {
            api_key,
            environment: Environment::Production,
            api_base_url: None,
            edge_base_url: None,
            timeouts: Timeouts::default(),
            retry: RetryPolicy::default(),
            user_agent_suffix: None,
            http_client: None,
            cache: CacheConfig::default(),
            fallback: FallbackPolicy::default(),
            queue: QueueConfig::default(),
            #[cfg(feature = "redis")]
            redis: None,
        }
    }
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field("api_key", &"<redacted>")
            .field("environment", &self.environment)
            .field("api_base_url", &self.api_base_url)
            .field("edge_base_url", &self.edge_base_url)
            .field("timeouts", &self.timeouts)
            .field("retry", &self.retry)
            .field("user_agent_suffix", &self.user_agent_suffix)
            .field("http_client", &self.http_client.is_some())
            .field("cache", &self.cache)
            .field("fallback", &self.fallback)
            .field("queue", &self.queue)
            .finish()
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
            return Err(Error::config("the API key is empty"));
        }
        let mut value = HeaderValue::try_from(format!("Bearer {key}")).map_err(|_| {
            Error::config("the API key holds characters an HTTP header cannot carry")
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

/// A base URL as the generated client wants it: checked, without a trailing `/`.
pub(crate) fn base_url(field: &'static str, url: &str) -> Result<String> {
    let trimmed = url.trim().trim_end_matches('/');
    match reqwest::Url::parse(trimmed) {
        Ok(parsed) if matches!(parsed.scheme(), "http" | "https") && parsed.has_host() => {
            Ok(trimmed.to_owned())
        }
        _ => Err(Error::config(format!(
            "invalid {field} {url:?}: expected an http or https URL such as https://api.kelviq.com"
        ))),
    }
}

/// A second tier in Redis shared by every instance of a service (feature `redis`): the
/// entitlement cache and the offline report queue.
///
/// | setting | default | what it does |
/// |---|---|---|
/// | `url` | required | `redis://[user:password@]host:port[/db]`, or `rediss://…` for TLS (through the `rustls` or `native-tls` feature, whichever the HTTP client uses); [`cluster`](Self::cluster) takes the seed nodes of a Redis Cluster |
/// | `ca_file` | the platform's roots | a PEM file of the certificate authorities a `rediss://` server's certificate is checked against, for a private CA |
/// | `namespace` | `kelviq` | prefix of every key; each API key and environment gets its own keys under it |
/// | `timeout` | 100 ms | the longest a command may take before Redis counts as failing for that call |
/// | `lease` | 60 s | how long a claimed report is reserved for the instance that claimed it; a crashed instance's reports are taken over after it |
/// | `retry_after` | 500 ms | after a failure, Redis is left alone this long (doubling to 30 s while it keeps failing) |
/// | `share_cache` | yes | entitlement sets shared through Redis, invalidations broadcast |
/// | `share_queue` | yes | reports that cannot reach Kelviq kept in Redis, delivered once by whichever instance gets there first |
///
/// Redis failing never fails a call: checks go to memory and the edge host, reports to the
/// local queue (durable when [`QueueConfig::durable_at`] is set). Failures are logged once
/// per outage and counted ([`Client::redis_stats`](crate::Client::redis_stats)).
///
/// ```
/// let redis = kelviq::RedisConfig::new("redis://127.0.0.1:6379/0").namespace("billing");
/// let client = kelviq::Kelviq::builder("sk_test").redis(redis).build()?;
/// # Ok::<(), kelviq::Error>(())
/// ```
///
/// A managed service over TLS, with an ACL user, and a Redis Cluster:
///
/// ```no_run
/// let managed = kelviq::RedisConfig::new("rediss://app:secret@my-cache.example.com:6380/0");
/// let cluster = kelviq::RedisConfig::cluster([
///     "rediss://app:secret@10.0.0.5:6379",
///     "rediss://app:secret@10.0.0.6:6379",
/// ])
/// .ca_file("/etc/ssl/private-ca.pem");
/// # let _ = (managed, cluster);
/// ```
#[cfg(feature = "redis")]
#[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
#[derive(Clone, PartialEq, Eq)]
pub struct RedisConfig {
    /// One URL, or a cluster's seed nodes.
    pub(crate) urls: Vec<String>,
    pub(crate) cluster: bool,
    pub(crate) ca_file: Option<std::path::PathBuf>,
    pub(crate) namespace: String,
    pub(crate) timeout: Duration,
    pub(crate) lease: Duration,
    pub(crate) retry_after: Duration,
    pub(crate) share_cache: bool,
    pub(crate) share_queue: bool,
}

#[cfg(feature = "redis")]
impl fmt::Debug for RedisConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let urls: Vec<String> = self.urls.iter().map(|url| redact_url(url)).collect();
        f.debug_struct("RedisConfig")
            .field("urls", &urls)
            .field("cluster", &self.cluster)
            .field("ca_file", &self.ca_file)
            .field("namespace", &self.namespace)
            .field("timeout", &self.timeout)
            .field("lease", &self.lease)
            .field("retry_after", &self.retry_after)
            .field("share_cache", &self.share_cache)
            .field("share_queue", &self.share_queue)
            .finish()
    }
}

/// The URL without its user and password.
#[cfg(feature = "redis")]
pub(crate) fn redact_url(url: &str) -> String {
    match (url.split_once("://"), url.rfind('@')) {
        (Some((scheme, _)), Some(at)) => format!("{scheme}://<redacted>@{}", &url[at + 1..]),
        _ => url.to_owned(),
    }
}

#[cfg(feature = "redis")]
impl RedisConfig {
    /// Redis at `url` (`redis://` or `rediss://`), everything else by default.
    pub fn new(url: impl Into<String>) -> Self {
        Self::with_urls(vec![url.into()], false)
    }

    /// A Redis Cluster, found through `nodes` (some of its nodes' URLs, all with the same
    /// scheme, user and password). Commands follow the cluster's `MOVED` and `ASK`
    /// redirections and its failovers; every key of one API key and environment shares one
    /// hash slot, so each script runs on one node.
    pub fn cluster<I, S>(nodes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self::with_urls(nodes.into_iter().map(Into::into).collect(), true)
    }

    /// A PEM file of the certificate authorities to check a `rediss://` server's
    /// certificate against (a private CA), instead of the platform's roots. Read when the
    /// client is built.
    pub fn ca_file(mut self, path: impl Into<std::path::PathBuf>) -> Self {
        self.ca_file = Some(path.into());
        self
    }

    fn with_urls(urls: Vec<String>, cluster: bool) -> Self {
        Self {
            urls,
            cluster,
            ca_file: None,
            namespace: "kelviq".into(),
            timeout: Duration::from_millis(100),
            lease: Duration::from_secs(60),
            retry_after: Duration::from_millis(500),
            share_cache: true,
            share_queue: true,
        }
    }

    /// The prefix of every key.
    pub fn namespace(mut self, namespace: impl Into<String>) -> Self {
        self.namespace = namespace.into();
        self
    }

    /// The longest a Redis command may take.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// How long a claimed report stays reserved for its claimer. It must outlast a send (the
    /// attempt time-out); it is how long a crashed instance's reports wait to be taken over.
    pub fn lease(mut self, lease: Duration) -> Self {
        self.lease = lease;
        self
    }

    /// How long Redis is left alone after a failure, at first.
    pub fn retry_after(mut self, pause: Duration) -> Self {
        self.retry_after = pause;
        self
    }

    /// Whether entitlement sets are shared through Redis.
    pub fn share_cache(mut self, share: bool) -> Self {
        self.share_cache = share;
        self
    }

    /// Whether queued reports are kept in Redis.
    pub fn share_queue(mut self, share: bool) -> Self {
        self.share_queue = share;
        self
    }
}

#[cfg(all(test, feature = "redis"))]
mod tests {
    use super::*;

    #[test]
    fn a_redis_password_never_shows_in_debug_output() {
        let config = RedisConfig::new("redis://app:s3cret-pass@10.0.0.5:6379/2");
        let shown = format!("{config:?}");
        assert!(
            !shown.contains("s3cret-pass") && !shown.contains("app:"),
            "{shown}"
        );
        assert!(
            shown.contains("redis://<redacted>@10.0.0.5:6379/2"),
            "{shown}"
        );
        let cluster = format!(
            "{:?}",
            RedisConfig::cluster([
                "rediss://app:s3cret-pass@a:6379",
                "rediss://app:s3cret-pass@b:6379"
            ])
        );
        assert!(!cluster.contains("s3cret-pass"), "{cluster}");
        assert_eq!(redact_url("redis://10.0.0.5:6379"), "redis://10.0.0.5:6379");
    }

    #[test]
    fn a_bad_redis_url_is_refused_when_the_client_is_built_without_echoing_the_password() {
        let error = crate::Kelviq::builder("sk_test")
            .redis(RedisConfig::new("http://user:hunter2@host:6379"))
            .build()
            .unwrap_err();
        assert_eq!(error.kind(), crate::ErrorKind::Config);
        let text = error.to_string();
        assert!(
            text.contains("invalid Redis URL") && !text.contains("hunter2"),
            "{text}"
        );
    }
}
