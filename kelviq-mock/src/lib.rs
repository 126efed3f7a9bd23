//! `kelviq-mock`: a stateful emulator of the Kelviq API on loopback.
//!
//! It serves every operation of `openapi/kelviq.yaml` (API and edge paths on one address),
//! keeps customers, subscriptions, usage and events consistent across calls, and offers a
//! control surface under `/_mock/` (see [`control`]) for tests in any language: reset,
//! the catalogue, direct grants, checkout completion, the request log, usage, and injected
//! faults (see [`faults`]), including the rude ones: a request applied and then answered
//! 5xx, or applied and then dropped.
//!
//! For outages of the network itself: [`MockServer::go_offline`] refuses connections,
//! [`MockServer::go_black_hole`] turns the address into one that never completes a
//! connection, and [`MockServer::go_online`] serves again, state kept. [`BlackHole`] and
//! [`SilentServer`] stand alone: a host that drops packets, and one that takes requests and
//! never answers.
//!
//! In-process, from Rust tests:
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let server = kelviq_mock::MockServer::start().await.unwrap();
//! let url = server.url(); // http://127.0.0.1:<port>
//! assert!(url.starts_with("http://127.0.0.1:"));
//! // point a client at `url` for both the API and the edge host
//! # }
//! ```
//!
//! Each API key is an environment with its own state: customers, subscriptions, usage, the
//! catalog operations' features, products and plans (with their drafts, prices,
//! entitlements and files), and the [`Catalogue`] it sells. Every environment starts from
//! one pricing-as-code file (`kelviq.config.toml`, the one catalogue format; the built-in
//! one is [`catalogue::DEFAULT_CATALOG_TOML`]): it sells the file's plans, and its catalog
//! API serves the file's products, features and plans. A plan published with a price
//! becomes part of the catalogue of the environment that published it, so that checkouts
//! and subscriptions there can name it. Configured with two keys (a sandbox and a
//! production one, see [`MockConfig`]), one emulator serves both sides of `kelviq promote`.
//!
//! As a binary, for any language: `cargo run -p kelviq-mock -- --addr 127.0.0.1:8787`; add
//! `--catalog kelviq.config.toml` to sell the plans of a pricing-as-code file in every
//! environment (see [`MockConfig::with_catalog`]), and `--api-key KEY` once per environment
//! (`--help` says the rest).
//!
//! The emulator answers from the document's point of view, with the generated types of
//! `kelviq-gen`; it never uses the `kelviq` crate's logic, so when the SDK and the
//! emulator agree, both agree with the document.

pub mod catalogue;
pub mod control;
mod error;
pub mod faults;
pub mod log;
mod outage;
mod server;
pub mod state;
pub mod webhooks;

mod api;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use axum::Router;
use tokio::net::TcpListener;

pub use catalogue::Catalogue;
pub use error::ApiError;
pub use faults::{Fault, FaultKind, UnknownOperation};
pub use log::{AppliedUsage, LoggedRequest, LoggedResponse, RequestLog};
pub use outage::{BlackHole, SilentServer};
pub use state::{CompletedCheckout, Grant, Store, Tenant};
pub use webhooks::{Delivery, Endpoint};

/// The emulator's shared state, passed to every handler.
#[derive(Debug, Clone)]
pub(crate) struct App {
    store: Arc<Mutex<Store>>,
    /// The keys accepted, each an environment; any non-empty key when empty.
    api_keys: Arc<[String]>,
    /// Ignore body fields the document does not name, instead of refusing them.
    lenient: bool,
    /// Where webhook deliveries run.
    runtime: tokio::runtime::Handle,
    /// What webhook deliveries are sent with.
    http: reqwest::Client,
    /// The pause between webhook delivery attempts, in microseconds.
    retry_interval: Arc<AtomicU64>,
}

impl App {
    /// The store. No handler holds it across an await.
    pub(crate) fn store(&self) -> MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The pause between webhook delivery attempts.
    pub(crate) fn retry_interval(&self) -> std::time::Duration {
        std::time::Duration::from_micros(self.retry_interval.load(Ordering::Relaxed))
    }

    /// Sets the pause between webhook delivery attempts.
    pub(crate) fn set_retry_interval(&self, interval: std::time::Duration) {
        let micros = u64::try_from(interval.as_micros()).unwrap_or(u64::MAX);
        self.retry_interval.store(micros, Ordering::Relaxed);
    }
}

/// How to start an emulator.
///
/// Each API key is an environment with state of its own (customers, subscriptions, usage,
/// the catalog API's products, features and plans, and the plans it sells): a sandbox key
/// and a production key served by one emulator are two environments, as they are two at
/// Kelviq, so that `kelviq promote` can be tried from one emulator.
///
/// What an environment holds and sells when it starts: the catalogue of its key in
/// [`catalogs`](Self::catalogs) when there is one, otherwise [`catalog`](Self::catalog)
/// (so a `--catalog` file is served by every environment: production sells what the file
/// declares, and a sandbox starts as a copy of it). A plan published later through the
/// catalog API is sold by the environment that published it only.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let catalog = kelviq_config::parse_toml(kelviq_config::STARTER_TOML, "kelviq.config.toml").unwrap();
/// let server = kelviq_mock::MockServer::builder()
///     .api_key("sk_test_sandbox")
///     .api_key("sk_live_production")
///     .with_catalog(&catalog)
///     .unwrap()
///     .start()
///     .await
///     .unwrap();
/// // Both keys are accepted, each with its own customers; any other key is answered 401.
/// server.with_tenant(Some("sk_live_production"), |catalogue, _| {
///     assert!(catalogue.plan("pro").is_some());
/// });
/// # }
/// ```
#[derive(Debug, Clone, Default)]
pub struct MockConfig {
    /// The keys accepted as `Authorization: Bearer <key>`, each an environment; any
    /// non-empty bearer token (each one an environment too) when empty. The first is the
    /// environment the control surface and the Rust shorthands ([`MockServer::grant`],
    /// [`MockServer::usage`], …) act for when no key is named.
    pub api_keys: Vec<String>,
    /// The pricing-as-code catalogue every environment starts with (what it sells, and its
    /// catalog API's products, features and plans); the built-in one
    /// ([`catalogue::DEFAULT_CATALOG_TOML`]) when `None`. Set it with
    /// [`with_catalog`](Self::with_catalog), which checks it.
    pub catalog: Option<kelviq_config::Catalog>,
    /// The catalogue particular environments start with, by API key, in place of
    /// [`catalog`](Self::catalog).
    pub catalogs: BTreeMap<String, kelviq_config::Catalog>,
    /// Where to listen; `127.0.0.1:0` (a free port) when `None`.
    pub addr: Option<SocketAddr>,
    /// Ignore body fields the document does not name (as the service likely does) instead
    /// of refusing them with a 400 naming the field (`--lenient`).
    pub lenient: bool,
    /// How many requests the log keeps ([`log::DEFAULT_LOG_CAPACITY`] when `None`).
    pub log_capacity: Option<usize>,
    /// The pause between two attempts to deliver a webhook not answered 2xx; the service's
    /// 60 seconds ([`webhooks::DEFAULT_RETRY_INTERVAL`]) when `None`. Each event is offered
    /// [`webhooks::ATTEMPTS`] times at most: the first attempt and 3 retries
    /// (`--webhook-retry-interval`; [`MockServer::set_webhook_retry_interval`] changes it
    /// later).
    pub webhook_retry_interval: Option<std::time::Duration>,
}

impl MockConfig {
    /// Accepts `key` too: one more environment (see [`api_keys`](Self::api_keys)). A key
    /// given twice is one environment.
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        let key = key.into();
        if !self.api_keys.contains(&key) {
            self.api_keys.push(key);
        }
        self
    }

    /// Pauses `interval` between two attempts to deliver a webhook, instead of the service's
    /// 60 seconds: for tests that watch retries.
    pub fn webhook_retry_interval(mut self, interval: std::time::Duration) -> Self {
        self.webhook_retry_interval = Some(interval);
        self
    }

    /// Starts every environment from a pricing-as-code file (`kelviq.config.toml`, read
    /// with [`kelviq_config::load`]) instead of the built-in catalogue: it sells the file's
    /// plans (see [`Catalogue::from_config`] for how the file's entries become what the
    /// emulator sells, and what it refuses), and its catalog API serves the file's
    /// products, features and plans, published, so that `kelviq pull` reads the file back.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let catalog = kelviq_config::parse_toml(kelviq_config::STARTER_TOML, "kelviq.config.toml").unwrap();
    /// let config = kelviq_mock::MockConfig::default().with_catalog(&catalog).unwrap();
    /// let server = kelviq_mock::MockServer::start_with(config).await.unwrap();
    /// # drop(server);
    /// # }
    /// ```
    pub fn with_catalog(mut self, catalog: &kelviq_config::Catalog) -> Result<Self, String> {
        state::Start::new(catalog.clone())?;
        self.catalog = Some(catalog.clone());
        Ok(self)
    }

    /// Accepts `key` (as [`api_key`](Self::api_key)) and starts its environment from
    /// `catalog` only, whatever [`with_catalog`](Self::with_catalog) says for the others.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let catalog = kelviq_config::parse_toml(kelviq_config::STARTER_TOML, "kelviq.config.toml").unwrap();
    /// let server = kelviq_mock::MockServer::builder()
    ///     .api_key("sk_test_sandbox") // sells the default catalogue
    ///     .with_catalog_for("sk_live_production", &catalog)
    ///     .unwrap()
    ///     .start()
    ///     .await
    ///     .unwrap();
    /// let sells = |key| server.with_tenant(Some(key), |catalogue, _| catalogue.plan("pro").is_some());
    /// assert!(sells("sk_live_production"));
    /// assert!(!sells("sk_test_sandbox"));
    /// # }
    /// ```
    pub fn with_catalog_for(
        mut self,
        key: impl Into<String>,
        catalog: &kelviq_config::Catalog,
    ) -> Result<Self, String> {
        state::Start::new(catalog.clone())?;
        let key = key.into();
        self.catalogs.insert(key.clone(), catalog.clone());
        Ok(self.api_key(key))
    }

    /// Starts an emulator as this configuration says ([`MockServer::start_with`]).
    pub async fn start(self) -> std::io::Result<MockServer> {
        MockServer::start_with(self).await
    }
}

/// The whole application: the API routes and the control surface.
fn router(app: App) -> Router {
    api::router(app.clone()).merge(control::router(app))
}

/// A running emulator. Dropping it stops it and closes its connections.
///
/// It runs on the runtime it was started on (its accept loop and connections are tasks
/// there), also when later methods are called from elsewhere.
#[derive(Debug)]
pub struct MockServer {
    addr: SocketAddr,
    app: App,
    runtime: tokio::runtime::Handle,
    listening: Mutex<Listening>,
}

/// What the emulator's address does now.
#[derive(Debug)]
enum Listening {
    /// Serving the API.
    Serving(tokio::task::JoinHandle<()>),
    /// Refusing connections (nothing listens).
    Offline,
    /// Never completing a connection (held, so that the port stays a black hole).
    BlackHoled { _hole: BlackHole },
}

impl Listening {
    /// Stops what the address does now, and returns the serving task to wait for.
    fn stop(&mut self) -> Option<tokio::task::JoinHandle<()>> {
        match std::mem::replace(self, Listening::Offline) {
            Listening::Serving(task) => {
                task.abort();
                Some(task)
            }
            Listening::Offline | Listening::BlackHoled { .. } => None,
        }
    }
}

impl MockServer {
    /// Starts an emulator with the default catalogue on a free port of 127.0.0.1,
    /// accepting any non-empty key.
    pub async fn start() -> std::io::Result<Self> {
        Self::start_with(MockConfig::default()).await
    }

    /// A configuration to start an emulator from: `MockServer::builder().api_key(…)…
    /// .start().await` (see [`MockConfig`]).
    pub fn builder() -> MockConfig {
        MockConfig::default()
    }

    /// Starts an emulator as `config` says.
    pub async fn start_with(config: MockConfig) -> std::io::Result<Self> {
        let addr = config
            .addr
            .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 0)));
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let runtime = tokio::runtime::Handle::current();
        let invalid = |key: Option<&str>, e: String| {
            let whose = key.map_or_else(String::new, |k| format!(" of key {k:?}"));
            std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("the catalog{whose} cannot be served: {e}"),
            )
        };
        let start = match config.catalog {
            Some(catalog) => state::Start::new(catalog).map_err(|e| invalid(None, e))?,
            None => state::Start::builtin(),
        };
        let mut starts = std::collections::HashMap::new();
        for (key, catalog) in config.catalogs {
            let start = state::Start::new(catalog).map_err(|e| invalid(Some(&key), e))?;
            starts.insert(key, start);
        }
        let store = Store::new(
            start,
            config.log_capacity.unwrap_or(log::DEFAULT_LOG_CAPACITY),
        )
        .with_starts(starts)
        .with_default_key(config.api_keys.first().cloned());
        let app = App {
            store: Arc::new(Mutex::new(store)),
            api_keys: config.api_keys.into(),
            lenient: config.lenient,
            runtime: runtime.clone(),
            http: {
                ensure_crypto_provider();
                reqwest::Client::builder()
                    .timeout(std::time::Duration::from_secs(5))
                    .build()
                    .map_err(std::io::Error::other)?
            },
            retry_interval: Arc::default(),
        };
        app.set_retry_interval(
            config
                .webhook_retry_interval
                .unwrap_or(webhooks::DEFAULT_RETRY_INTERVAL),
        );
        let task = runtime.spawn(server::serve(listener, router(app.clone())));
        Ok(Self {
            addr,
            app,
            runtime,
            listening: Mutex::new(Listening::Serving(task)),
        })
    }

    fn listening(&self) -> std::sync::MutexGuard<'_, Listening> {
        self.listening.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The base URL, for both the API and the edge host: `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Serves until the emulator is dropped: never returns by itself. For a binary's
    /// `main` to await beside a shutdown signal.
    pub async fn wait(&self) {
        std::future::pending::<()>().await
    }

    /// Stops listening and closes every connection, keeping all state: clients now get
    /// "connection refused", as when the service is unreachable.
    pub fn go_offline(&self) {
        let stopped = self.listening().stop();
        // Returns once the listener and its connections are closed (the serving task owns
        // them), so that nothing sent after this call is served. Not on a current-thread
        // runtime: the task may need this very thread to finish, and the caller's next
        // await lets it.
        let may_wait = tokio::runtime::Handle::try_current().map_or(true, |h| {
            h.runtime_flavor() != tokio::runtime::RuntimeFlavor::CurrentThread
        });
        if let (Some(task), true) = (stopped, may_wait) {
            let started = std::time::Instant::now();
            while !task.is_finished() && started.elapsed() < std::time::Duration::from_secs(1) {
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
        }
    }

    /// Closes every connection and turns the address into a [`BlackHole`], keeping all
    /// state: new connections now never complete, as when packets to the service are
    /// dropped. [`go_online`](Self::go_online) serves again.
    pub async fn go_black_hole(&self) -> std::io::Result<()> {
        let stopped = self.listening().stop();
        if let Some(task) = stopped {
            // The listener must be closed before its port can be taken again.
            let _ = task.await;
        }
        let hole = self.on_own_runtime(BlackHole::bind(self.addr)).await?;
        *self.listening() = Listening::BlackHoled { _hole: hole };
        Ok(())
    }

    /// Listens again on the same address, with the state it had.
    pub async fn go_online(&self) -> std::io::Result<()> {
        let stopped = self.listening().stop();
        if let Some(task) = stopped {
            let _ = task.await;
        }
        let listener = self.on_own_runtime(bind_again(self.addr)).await?;
        let task = self
            .runtime
            .spawn(server::serve(listener, router(self.app.clone())));
        *self.listening() = Listening::Serving(task);
        Ok(())
    }

    /// Runs socket setup on the emulator's runtime, whose reactor must own its sockets
    /// whichever runtime the caller is on.
    async fn on_own_runtime<T: Send + 'static>(
        &self,
        setup: impl std::future::Future<Output = std::io::Result<T>> + Send + 'static,
    ) -> std::io::Result<T> {
        self.runtime
            .spawn(setup)
            .await
            .map_err(std::io::Error::other)?
    }

    /// Forgets all state, the request log and faults; every environment sells its starting
    /// catalogue again.
    pub fn reset(&self) {
        self.app.store().reset();
    }

    /// Replaces every environment's catalogue, now and when it starts, with a
    /// pricing-as-code file's (what it sells and its catalog API's products, features and
    /// plans; customers and subscriptions are kept), as [`MockConfig::with_catalog`] does
    /// at start; `PUT /_mock/catalog` over HTTP.
    pub fn load_catalog(&self, catalog: &kelviq_config::Catalog) -> Result<(), String> {
        let start = state::Start::new(catalog.clone())?;
        self.app.store().replace_catalog(start);
        Ok(())
    }

    /// Runs `f` on the environment of `api_key` with the plans it sells (the default one
    /// for `None`: the first configured key, or else the first key that made a request),
    /// then sends the webhooks for what it changed.
    pub fn with_tenant<T>(
        &self,
        api_key: Option<&str>,
        f: impl FnOnce(&Catalogue, &mut Tenant) -> T,
    ) -> T {
        let result = {
            let mut store = self.app.store();
            let (catalogue, tenant) = store.tenant(api_key);
            f(catalogue, tenant)
        };
        webhooks::dispatch(&self.app);
        result
    }

    /// Grants an entitlement directly, outside any plan (default tenant).
    pub fn grant(&self, grant: Grant) {
        self.with_tenant(None, |_, tenant| tenant.grant(grant));
    }

    /// Completes a checkout as if the customer paid, whichever tenant made it.
    pub fn complete_checkout(&self, session_id: &str) -> Result<CompletedCheckout, ApiError> {
        let completed = self.app.store().complete_checkout(session_id);
        webhooks::dispatch(&self.app);
        completed
    }

    /// Every API request received so far, oldest first (the last
    /// [`MockConfig::log_capacity`] of them).
    pub fn requests(&self) -> Vec<LoggedRequest> {
        self.app.store().log.to_vec()
    }

    /// Every usage report applied so far, in the order applied (the last
    /// [`MockConfig::log_capacity`] of them): see [`AppliedUsage`].
    pub fn applied_usage(&self) -> Vec<AppliedUsage> {
        self.app.store().applied_usage.to_vec()
    }

    /// Empties the request log.
    pub fn clear_requests(&self) {
        self.app.store().log.clear();
    }

    /// Forgets every fault not yet used up.
    pub fn clear_faults(&self) {
        self.app.store().faults.clear();
    }

    /// The customer's usage per feature this month (default tenant).
    pub fn usage(&self, customer_id: &str) -> BTreeMap<String, i64> {
        self.with_tenant(None, |_, tenant| tenant.usage_of(customer_id))
    }

    /// Injects a fault into the next requests of an operation. A fault naming no operation
    /// of the document is refused.
    pub fn inject(&self, fault: Fault) -> Result<(), UnknownOperation> {
        self.app.store().faults.push(fault.checked()?);
        Ok(())
    }

    /// Sends the default tenant's webhooks (see [`webhooks`] for which events) to `url`,
    /// signed with `secret`.
    pub fn add_webhook(&self, url: impl Into<String>, secret: impl Into<String>) {
        let endpoint = Endpoint {
            url: url.into(),
            secret: secret.into(),
        };
        self.with_tenant(None, |_, tenant| tenant.endpoints.push(endpoint));
    }

    /// Makes `getPromotion` answer promotion `promotion_id` with a discount of `percentage`
    /// per cent and the coupon `code`, under a default banner (the document's example),
    /// with every location check `false`. Set again, it is replaced.
    pub fn set_promotion(&self, promotion_id: &str, percentage: f64, code: &str) {
        let promotion = crate::state::promotion(percentage, code);
        self.app
            .store()
            .promotions
            .insert(promotion_id.to_owned(), promotion);
    }

    /// Pauses `interval` between two attempts to deliver a webhook from the next pause on
    /// (see [`MockConfig::webhook_retry_interval`]).
    pub fn set_webhook_retry_interval(&self, interval: std::time::Duration) {
        self.app.set_retry_interval(interval);
    }

    /// The pause between two attempts to deliver a webhook.
    pub fn webhook_retry_interval(&self) -> std::time::Duration {
        self.app.retry_interval()
    }

    /// Every webhook delivery attempt so far, oldest first.
    pub fn webhook_deliveries(&self) -> Vec<Delivery> {
        self.app.store().deliveries.to_vec()
    }
}

impl Drop for MockServer {
    fn drop(&mut self) {
        self.listening().stop();
    }
}

/// Binds `addr` again, waiting briefly while the previous listener's socket is released.
async fn bind_again(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let mut attempts = 0;
    loop {
        match TcpListener::bind(addr).await {
            Err(error) if error.kind() == std::io::ErrorKind::AddrInUse && attempts < 50 => {
                attempts += 1;
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            }
            other => return other,
        }
    }
}

/// Installs ring as the process's rustls provider when none is installed.
///
/// The emulator's own HTTP client (webhook deliveries) speaks plain HTTP, but in a build where
/// another crate turned on reqwest's provider-less rustls (kelviq's default `rustls` feature
/// does), reqwest refuses to build a client without a process provider. Installing one only
/// when none is keeps an application's own choice.
pub fn ensure_crypto_provider() {
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        // Losing a race to another installer is fine: then there is one.
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
}
