//! The core every client handle shares: the two generated clients (API host and edge host)
//! over one connection pool (and a second for entitlement requests), the settings, the entitlement cache with its background
//! refreshes, and the offline report queue with its background sender.
//!
//! The resource groups above turn caller input into calls here; the cache, the queue and
//! the transport below know nothing of clients or groups.

mod entitlements;
mod outbox;
mod reports;

use std::fmt;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use http::header::{HeaderName, HeaderValue};

use crate::cache::EntitlementCache;
use crate::config::{
    base_url, ApiKey, Environment, FallbackPolicy, RetryPolicy, Settings, Timeouts,
};
use crate::error::{Error, Result};
use crate::transport::{self, CallSpec, RetryRule, Transport};

#[cfg(feature = "redis")]
use crate::shared::{Redis, SharedCache, SharedQueue};
use outbox::Outbox;
pub(crate) use reports::ReportAnswer;

/// The `User-Agent` every request carries, before any suffix.
pub const USER_AGENT: &str = concat!("kelviq-rust/", env!("CARGO_PKG_VERSION"));

/// What a caller may change for one call.
#[derive(Debug, Clone, Default)]
pub(crate) struct Overrides {
    pub(crate) attempt_timeout: Option<Duration>,
    pub(crate) deadline: Option<Duration>,
    pub(crate) retry: Option<RetryPolicy>,
    pub(crate) headers: Vec<(HeaderName, HeaderValue)>,
    pub(crate) want_raw: bool,
}

pub(crate) struct Core {
    api: kelviq_gen::Client,
    edge: kelviq_gen::Client,
    /// The catalog family's generated client: the API host, the same pool and transport.
    #[cfg(feature = "catalog")]
    catalog: kelviq_gen::catalog::Client,
    /// What every request carries (the key, the user agent), for the calls made without
    /// the generated client.
    transport: Arc<Transport>,
    /// Where reports go, parsed once: usage, events.
    report_urls: (reqwest::Url, reqwest::Url),
    /// Where entitlements are asked for, parsed once (the query is added per call).
    entitlements_url: reqwest::Url,
    /// The HTTP client entitlement requests go through, and the time-out it applies by
    /// itself: see [`Core::new`].
    entitlements_http: (reqwest::Client, Option<Duration>),
    timeouts: Timeouts,
    retry: RetryPolicy,
    environment: Environment,
    cache: Option<EntitlementCache>,
    fallback: FallbackPolicy,
    outbox: Option<Outbox>,
    /// The edge host is failing: warned once, not per call.
    edge_outage: Outage,
    /// The runtime the background work runs on, once started.
    background: OnceLock<tokio::runtime::Handle>,
    #[cfg(feature = "redis")]
    redis: Option<Arc<Redis>>,
    #[cfg(feature = "redis")]
    shared_cache: Option<Arc<SharedCache>>,
    /// Dropped with the core, which ends the background work that watches it.
    #[cfg(feature = "redis")]
    closed: tokio::sync::watch::Sender<()>,
}

impl fmt::Debug for Core {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use kelviq_gen::ClientInfo;
        f.debug_struct("Client")
            .field("api_key", &"<redacted>")
            .field("environment", &self.environment)
            .field("api_base_url", &self.api.baseurl())
            .field("edge_base_url", &self.edge.baseurl())
            .field("timeouts", &self.timeouts)
            .field("cache", &self.cache)
            .field("queue", &self.outbox)
            .finish()
    }
}

impl Core {
    pub(crate) fn new(settings: Settings) -> Result<Self> {
        let api_key = ApiKey::new(&settings.api_key)?;
        let api_url = base_url(
            "api_base_url",
            settings
                .api_base_url
                .as_deref()
                .unwrap_or(settings.environment.api_url()),
        )?;
        let edge_url = base_url(
            "edge_base_url",
            settings
                .edge_base_url
                .as_deref()
                .unwrap_or(settings.environment.edge_url()),
        )?;
        let user_agent = match &settings.user_agent_suffix {
            Some(suffix) => format!("{USER_AGENT} {suffix}"),
            None => USER_AGENT.to_owned(),
        };
        let user_agent = HeaderValue::try_from(user_agent).map_err(|_| {
            Error::config(format!(
                "invalid user_agent_suffix {:?}: expected visible ASCII",
                settings.user_agent_suffix.as_deref().unwrap_or_default()
            ))
        })?;
        // The attempt time-out the client applies by itself, so that an attempt with that
        // limit need not carry its own (which costs reqwest an extension map on the request,
        // and its copy on every clone kept for a retry). Unknown for a caller's client.
        let preset_timeout = settings
            .http_client
            .is_none()
            .then_some(settings.timeouts.attempt);
        // Entitlement requests have a shorter limit of their own (the entitlement deadline,
        // 3 s unless set): with the SDK's own client, a second one with that time-out
        // preset carries them, so that they too go without a time-out of their own on the
        // request (measured: an extension map allocated, filled and freed per request,
        // about 1 000 instructions of a `has_access` the cache cannot answer). It shares
        // the TLS configuration, not the connection pool: the edge host is a host of its own.
        let entitlement_limit = settings
            .timeouts
            .attempt
            .min(settings.timeouts.entitlement_deadline);
        let (http, entitlements_http) = match settings.http_client {
            Some(http) => (http.clone(), (http, None)),
            None => {
                #[cfg(all(feature = "__rustls", not(feature = "native-tls")))]
                crate::tls::ensure_process_default();
                #[cfg(all(feature = "__rustls", not(feature = "native-tls")))]
                let tls = crate::tls::http_config().map_err(|e| {
                    Error::config(format!("could not set up TLS for the HTTP client: {e}"))
                })?;
                let build = |timeout: Duration| {
                    let builder = reqwest::Client::builder()
                        .connect_timeout(settings.timeouts.connect)
                        .timeout(timeout)
                        // Like the official client: a redirect is an answer, not something
                        // to follow.
                        .redirect(reqwest::redirect::Policy::none());
                    // With native-tls on too, reqwest's own choice (native-tls) stands.
                    #[cfg(all(feature = "__rustls", not(feature = "native-tls")))]
                    let builder = builder.tls_backend_preconfigured(tls.clone());
                    builder
                        .build()
                        .map_err(|e| Error::config(format!("could not build the HTTP client: {e}")))
                };
                let http = build(settings.timeouts.attempt)?;
                let entitlements_http = if entitlement_limit == settings.timeouts.attempt {
                    http.clone()
                } else {
                    build(entitlement_limit)?
                };
                (http, (entitlements_http, Some(entitlement_limit)))
            }
        };
        #[cfg(feature = "redis")]
        let (redis, shared_cache, shared_queue) = match &settings.redis {
            Some(config) => {
                if config.lease <= settings.timeouts.attempt {
                    tracing::warn!(
                        lease = ?config.lease,
                        attempt_timeout = ?settings.timeouts.attempt,
                        "the Redis lease is not longer than a send may take: another instance \
                         may take over a report still being sent (never resending a DELTA)"
                    );
                }
                let redis = Arc::new(Redis::new(config, &settings.api_key, settings.environment)?);
                let cache = (config.share_cache && settings.cache.enabled).then(|| {
                    Arc::new(SharedCache::new(
                        redis.clone(),
                        settings.cache.ttl + settings.cache.max_stale,
                    ))
                });
                let queue = (config.share_queue && settings.queue.enabled)
                    .then(|| SharedQueue::new(redis.clone(), config.lease));
                (Some(redis), cache, queue)
            }
            None => (None, None, None),
        };
        let parsed_url = |field: &str, base: &str, path: &str| {
            let mut url = reqwest::Url::parse(&format!("{base}{path}")).map_err(|e| {
                Error::config(format!(
                    "invalid {field}: {e}; expected an http or https URL"
                ))
            })?;
            // As reqwest's request builder does for the generated calls: credentials in the
            // base URL never travel in a request line or show in an error. (Every request
            // carries the API key in their place.)
            let _ = url.set_username("");
            let _ = url.set_password(None);
            Ok::<_, Error>(url)
        };
        let report_urls = (
            parsed_url("api_base_url", &api_url, "/api/v1/report/usage/")?,
            parsed_url("api_base_url", &api_url, "/api/v1/report/event/")?,
        );
        let entitlements_url = parsed_url("edge_base_url", &edge_url, "/api/v1/entitlements")?;
        let own_transport = Arc::new(Transport {
            api_key,
            user_agent,
            preset_timeout,
        });
        let transport = kelviq_gen::Transport::new(own_transport.clone());
        Ok(Self {
            transport: own_transport,
            report_urls,
            entitlements_url,
            entitlements_http,
            #[cfg(feature = "catalog")]
            catalog: kelviq_gen::catalog::Client::new_with_client(
                &api_url,
                http.clone(),
                transport.clone(),
            ),
            api: kelviq_gen::Client::new_with_client(&api_url, http.clone(), transport.clone()),
            edge: kelviq_gen::Client::new_with_client(&edge_url, http, transport),
            timeouts: settings.timeouts,
            retry: settings.retry,
            environment: settings.environment,
            cache: EntitlementCache::new(&settings.cache),
            fallback: settings.fallback,
            outbox: match settings.queue.enabled {
                true => Some(Outbox::new(
                    settings.queue,
                    #[cfg(feature = "redis")]
                    shared_queue,
                )?),
                false => None,
            },
            edge_outage: Outage::default(),
            background: OnceLock::new(),
            #[cfg(feature = "redis")]
            redis,
            #[cfg(feature = "redis")]
            shared_cache,
            #[cfg(feature = "redis")]
            closed: tokio::sync::watch::channel(()).0,
        })
    }

    /// Starts the background work on `runtime`, once: the sender of queued reports when some
    /// wait or other instances may leave some (a shared queue), and the listener of shared
    /// invalidations.
    pub(crate) fn start_background(self: &Arc<Self>, runtime: &tokio::runtime::Handle) {
        if self.background.set(runtime.clone()).is_err() {
            return;
        }
        self.resume_queue(runtime);
        #[cfg(feature = "redis")]
        if let Some(shared) = &self.shared_cache {
            let shared = shared.clone();
            let core = Arc::downgrade(self);
            let mut closed = self.closed.subscribe();
            runtime.spawn(async move {
                let closed = async move { while closed.changed().await.is_ok() {} };
                shared
                    .listen(closed, |invalidated| {
                        let Some(core) = core.upgrade() else { return };
                        let Some(cache) = core.cache() else { return };
                        match invalidated {
                            crate::shared::Invalidated::Customer(customer) => {
                                cache.invalidate(&customer)
                            }
                            crate::shared::Invalidated::All => cache.invalidate_all(),
                        }
                    })
                    .await;
            });
        }
    }

    /// Starts the background work on the current runtime, if it has not started and there
    /// is one.
    pub(crate) fn ensure_background(self: &Arc<Self>) {
        if self.background.get().is_none() {
            if let Ok(runtime) = tokio::runtime::Handle::try_current() {
                self.start_background(&runtime);
            }
        }
    }

    /// The runtime for work nobody waits for: the current one, else the background one.
    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    pub(crate) fn runtime(&self) -> Option<tokio::runtime::Handle> {
        tokio::runtime::Handle::try_current()
            .ok()
            .or_else(|| self.background.get().cloned())
    }

    /// What the shared tier in Redis has done, when there is one.
    #[cfg(feature = "redis")]
    pub(crate) fn redis_stats(&self) -> Option<crate::shared::RedisStats> {
        self.redis.as_ref().map(|redis| redis.stats())
    }

    /// The generated client of the API host.
    pub(crate) fn api(&self) -> &kelviq_gen::Client {
        &self.api
    }

    /// The catalog family's generated client, on the API host.
    #[cfg(feature = "catalog")]
    pub(crate) fn catalog(&self) -> &kelviq_gen::catalog::Client {
        &self.catalog
    }

    /// The generated client of the edge host.
    #[cfg(feature = "catalog")]
    pub(crate) fn edge(&self) -> &kelviq_gen::Client {
        &self.edge
    }

    /// The HTTP client entitlement requests go through, and the time-out it applies by
    /// itself when known.
    pub(crate) fn entitlements_http(&self) -> (&reqwest::Client, Option<Duration>) {
        (&self.entitlements_http.0, self.entitlements_http.1)
    }

    /// The entitlement cache, when it is on.
    #[inline]
    pub(crate) fn cache(&self) -> Option<&EntitlementCache> {
        self.cache.as_ref()
    }

    /// How one call of `operation` is made, with the caller's overrides.
    pub(crate) fn spec(
        &self,
        operation: &'static str,
        rule: RetryRule,
        overrides: &Overrides,
    ) -> CallSpec {
        self.spec_within(operation, rule, overrides, self.timeouts.deadline)
    }

    /// Like [`spec`](Self::spec), with a default deadline of its own.
    pub(crate) fn spec_within(
        &self,
        operation: &'static str,
        rule: RetryRule,
        overrides: &Overrides,
        deadline: Duration,
    ) -> CallSpec {
        CallSpec {
            operation,
            rule,
            retry: overrides.retry.unwrap_or(self.retry),
            attempt_timeout: overrides.attempt_timeout.unwrap_or(self.timeouts.attempt),
            deadline: overrides.deadline.unwrap_or(deadline),
            headers: overrides.headers.clone(),
            want_raw: overrides.want_raw,
        }
    }

    /// Runs one generated call as `spec` says; see [`transport::run`].
    pub(crate) fn call<T, E, F>(&self, spec: CallSpec, call: F) -> transport::Call<F>
    where
        F: Future<Output = std::result::Result<kelviq_gen::ResponseValue<T>, kelviq_gen::Error<E>>>,
    {
        transport::run(spec, call)
    }
}

/// A host that is failing, so that an outage is logged once when it starts and once when
/// it ends, not on every call in between.
#[derive(Debug, Default)]
pub(crate) struct Outage {
    down: AtomicBool,
}

impl Outage {
    /// Whether the host is known to be failing.
    pub(crate) fn is_down(&self) -> bool {
        self.down.load(Ordering::Acquire)
    }

    /// Records a failure; true when it starts an outage.
    pub(crate) fn failed(&self) -> bool {
        !self.down.swap(true, Ordering::AcqRel)
    }

    /// Records a success; true when it ends an outage.
    pub(crate) fn recovered(&self) -> bool {
        self.is_down() && self.down.swap(false, Ordering::AcqRel)
    }
}
