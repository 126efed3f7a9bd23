//! The Kelviq SDK for Rust: entitlement checks, usage and event reporting, checkout,
//! customers and subscriptions, with an async and a blocking client.
//!
//! # Quick start (async)
//!
//! ```no_run
//! use kelviq::{Behaviour, Delivery, Kelviq};
//!
//! # async fn run() -> kelviq::Result<()> {
//! let client = Kelviq::create_async_client("__YOUR_API_KEY__")?;
//!
//! if client.entitlements().has_access("cust_123", "premium-reporting").send().await? {
//!     let delivery = client
//!         .reporting()
//!         .report_usage(1, "cust_123", "premium-reporting", Behaviour::Delta)
//!         .send()
//!         .await?;
//!     if let Delivery::Queued { waiting } = delivery {
//!         println!("Kelviq unreachable: {waiting} reports queued");
//!     }
//! }
//! # Ok(()) }
//! ```
//!
//! # Quick start (blocking)
//!
//! With the `blocking` feature (on by default):
//!
//! ```no_run
//! # #[cfg(feature = "blocking")]
//! fn main() -> kelviq::Result<()> {
//!     let client = kelviq::Kelviq::create_sync_client("__YOUR_API_KEY__")?;
//!     let allowed = client.entitlements().has_access("cust_123", "premium-reporting").send()?;
//!     println!("access: {allowed}");
//!     client.shutdown(std::time::Duration::from_secs(5))?;
//!     Ok(())
//! }
//! # #[cfg(not(feature = "blocking"))]
//! # fn main() {}
//! ```
//!
//! Both clients offer the same resource groups, with the official clients' method names:
//!
//! | group | methods | docs and example |
//! |---|---|---|
//! | `customers()` | `create`, `update`, `retrieve`, `list`, `archive` | [`customers`] |
//! | `checkout()` | `create_session` | [`checkout`] |
//! | `entitlements()` | `has_access`, `check`, `get_entitlement`, `get_all_entitlements` | [`entitlements`] |
//! | `reporting()` | `report_usage`, `report_event` | [`reporting`] |
//! | `subscriptions()` | `list`, `retrieve`, `create`, `preview_update`, `update`, `cancel` | [`subscriptions`] |
//! | `portal()` | `create_session` | [`portal`] |
//! | `licenses()` | `activate`, `deactivate`, `validate` | [`licenses`] |
//! | `charges()` | `create` | [`charges`] |
//! | `refunds()` | `list`, `create`, `retrieve` | [`refunds`] |
//! | `transactions()` | `list` | [`transactions`] |
//! | `payment_methods()` | `list` | [`payment_methods`] |
//! | `catalog()` (feature `catalog`) | `features()`, `products()`, `plans()`: list, create, retrieve, update, delete; publish and discard a plan's draft; its prices and entitlements; `promotions()`: `retrieve` (edge host) | `catalog` |
//! | `admin()` (feature `admin`) | `orders()`, `checkout_sessions()`: `list`, `retrieve`, `list_events`; `webhook_logs()`: `list` | `admin` |
//! | `partner(&key)` (feature `partner`) | `organizations()`: `provision`, `list`, `retrieve`, `retrieve_by_external_id` (with the partner's key, not the API key) | `partner` |
//!
//! Lists answer one [`Page`] with `send()`, or every item, fetched a page at a time as it
//! is read, with `into_stream()` (async) or a `for` loop over the builder (blocking).
//! [`webhooks`] verifies what Kelviq sends to your endpoint and, through
//! [`Client::apply_webhook`], keeps the entitlement cache in step with it.
//!
//! Required values are arguments, in the docs' order; optional ones are setters named after
//! the documented parameter in snake_case; `.send()` sends the request, and
//! `.send_with_response()` also returns the HTTP answer ([`Response`]: status, headers, the
//! service's request id). Every builder also takes per-call options: `.timeout()`,
//! `.deadline()`, `.retry_policy()` and `.header()`.
//!
//! The async builders own what they need: their `send()` future is `Send + 'static`, so a
//! report can be fired and forgotten from a request handler:
//!
//! ```no_run
//! # fn handler(client: &kelviq::Client) {
//! tokio::spawn(client.reporting().report_usage(1, "cust_123", "api-calls", kelviq::Behaviour::Delta).send());
//! # }
//! ```
//!
//! Input is checked before anything is sent (empty identifiers, `.` and `..` as
//! identifiers, malformed e-mail, dates and times, quantities below 1, an update with
//! nothing to change), and the error names the operation, the field, the value and what was
//! expected. Identifiers travel as exactly one percent-encoded path segment, whatever they
//! hold. Responses are the SDK's own types ([`model`]), never the generated client's.
//!
//! # Configuration
//!
//! [`Kelviq::builder`] sets the environment ([`Environment`]), the API and edge base URLs,
//! the time limits (connect time-out 2 s, attempt time-out 10 s, a deadline of 30 s for a
//! whole call and 3 s for an entitlement call: see [`ClientBuilder`]), the
//! [`RetryPolicy`], the entitlement cache ([`CacheConfig`]) and its fallback
//! ([`FallbackPolicy`]), the offline queue ([`QueueConfig`]), a user-agent suffix, and an
//! HTTP client of your own. [`Kelviq::from_env`] reads `KELVIQ_API_KEY` and `KELVIQ_ENV`
//! (unset means sandbox).
//!
//! Every request carries `Authorization: Bearer <key>` (marked sensitive), `Accept:
//! application/json`, `User-Agent: kelviq-rust/<version>` and, with a body,
//! `Content-Type: application/json`. The key never appears in `Debug` output, logs or
//! errors. Each call runs in a `kelviq.request` [`tracing`] span recording the operation,
//! method, path, status, attempt and elapsed time.
//!
//! # Cargo features
//!
//! | feature | default | what it adds |
//! |---|---|---|
//! | `rustls` | yes | TLS through rustls with the ring crypto provider |
//! | `rustls-aws-lc` | no | rustls with aws-lc-rs instead (a FIPS mode; a longer build) |
//! | `native-tls` | no | TLS through the platform's library instead |
//! | `blocking` | yes | the blocking client, [`blocking`] |
//! | `durable-queue` | no | `QueueConfig::durable_at(path)`: queued reports kept in a file (redb) across crashes and deploys |
//! | `redis` | no | `ClientBuilder::redis`: entitlement sets and queued reports shared by every instance through Redis |
//! | `catalog` | no | `client.catalog()`: features, products, plans, plan prices and entitlements, promotions (typed); the rest of the family generated in `kelviq-gen` |
//! | `partner` | no | `client.partner(&key)`: partner organisations, authenticated with `X-Kelviq-Partner-Key` |
//! | `admin` | no | `client.admin()`: orders, checkout sessions, their timelines, webhook delivery logs |
//! | `full` | no | all of the above but the TLS alternatives |
//!
//! The entitlement cache and the offline queue are always built in; the two opt-in tiers
//! behind them are `durable-queue` and `redis` (the README says when to use which, with
//! figures). Without a TLS feature only `http://` hosts (an emulator) can be reached.
//!
//! With `rustls` (or `rustls-aws-lc`), kelviq's own HTTP client uses the provider its
//! features name, unless the application installed a process default first, which wins.
//! Since these features turn on reqwest's provider-less rustls for the whole build, other
//! `reqwest::Client`s in the process need a process-wide provider too: building a kelviq
//! client installs kelviq's as the process default when none is installed (so an
//! application that chooses its own installs it before that). With `native-tls` on as well,
//! reqwest's own choice, native-tls, stands for the HTTP client.
//!
//! # On the day the network fails
//!
//! | situation | `has_access` | usage reports and events |
//! |---|---|---|
//! | the service answers | fresh answer, cached | sent; the cached usage moves atomically |
//! | a fresh cached set | answered locally, no request | - |
//! | a stale cached set | answered at once, flagged stale ([`Freshness`]); one background refresh per customer, with back-off | - |
//! | nothing usable cached, edge failing | the [`FallbackPolicy`] (no access unless set), flagged as a fallback | - |
//! | no connection could be made (refused, connect time-out) | as above | queued, `Delivery::Queued`; later reports join the queue without network I/O until the background sender gets through |
//! | sent, then a time-out, a broken connection or a 5xx | retried (reads are safe) | `SET` and events retried, then queued; `DELTA` never resent: an [unconfirmed](Error::is_unconfirmed) error |
//! | the process is about to exit | - | [`Client::shutdown`] delivers within a deadline and says what is left; dropping a client with reports waiting logs how many at error level |
//!
//! One warning is logged when an outage starts and one line when it ends, not one per call.
//!
//! # Errors
//!
//! Every failure is an [`Error`]: [`Error::kind`] says what failed (the table is on
//! [`ErrorKind`]), [`Error::reached`] how far the request got, [`Error::is_retryable`]
//! whether sending it again is safe and may help, and [`Error::is_unconfirmed`] whether a
//! request that counts twice may have been applied.
//!
//! # Retries
//!
//! Failed requests are retried with exponential backoff and jitter, honouring
//! `Retry-After`, within the call's deadline, only where sending again cannot change the
//! outcome; the table is on [`RetryPolicy`].
//!
//! # Where this SDK differs from the official Python client
//!
//! - `has_access` follows the service's own `hasAccess` for meters (a soft-limited meter at
//!   its limit still grants access; a hard one does not), and combines several entries of one
//!   feature; see [`model`].
//! - Identifiers travel as one percent-encoded path segment; `.`, `..` and empty ones are
//!   refused before sending (the Python client pastes them into the path unescaped).
//! - An unknown `KELVIQ_ENV` is an error, never a silent fall-back to production; `staging`
//!   is accepted.
//! - Requests are retried where safe (the Python client never retries), and `DELTA` usage is
//!   never sent twice once it may have been received.
//! - A feature type the service adds later decodes as [`FeatureType::Other`].
//! - The cache fetches a customer's whole set on a miss (the Python client caches each
//!   (customer, feature) separately), answers a stale set at once while it refreshes in the
//!   background, bounds staleness, and never masks a 4xx.
//! - The offline queue tells the caller a report was queued (the Python client invents a
//!   success), keeps a report the service answers with 429, never resends a `DELTA` that may
//!   have been counted, errors on a full queue, and delivers on shutdown.

#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

// Leaves.
mod error;
mod response;
mod time;
mod types;
mod validate;
// Settings.
mod config;
// One call on the wire.
#[cfg(feature = "__rustls")]
mod tls;
mod transport;
// Owned public types, and the data structures over them.
mod cache;
pub mod model;
mod queue;
#[cfg(feature = "redis")]
mod shared;
#[cfg(feature = "durable-queue")]
mod store;
// What every client handle shares.
mod core;
mod paging;
mod plan;
mod request;
// The resource groups.
#[cfg(feature = "admin")]
#[cfg_attr(docsrs, doc(cfg(feature = "admin")))]
pub mod admin;
#[cfg(feature = "catalog")]
#[cfg_attr(docsrs, doc(cfg(feature = "catalog")))]
pub mod catalog;
pub mod charges;
pub mod checkout;
pub mod customers;
pub mod entitlements;
pub mod licenses;
#[cfg(feature = "partner")]
#[cfg_attr(docsrs, doc(cfg(feature = "partner")))]
pub mod partner;
pub mod payment_methods;
pub mod portal;
pub mod refunds;
pub mod reporting;
pub mod subscriptions;
pub mod transactions;
// Needs no client.
pub mod webhooks;
// The entry points.
#[cfg(feature = "blocking")]
pub mod blocking;
mod builder;
mod client;

pub use builder::ClientBuilder;
pub use client::Client;
#[cfg(feature = "redis")]
pub use config::RedisConfig;
pub use config::{
    CacheConfig, Environment, Fallback, FallbackPolicy, QueueConfig, RetryPolicy, API_KEY_VAR,
    DEFAULT_TIMEOUT, ENV_VAR,
};
pub use core::USER_AGENT;
pub use error::{Error, ErrorBody, ErrorKind, Reached, Result, ValidationError};
pub use http::StatusCode;
pub use model::{Access, Delivery, FlushReport, Freshness, Page};
#[cfg(feature = "blocking")]
pub use paging::PageIter;
pub use request::Async;
pub use response::{RawResponse, Response};
#[cfg(feature = "redis")]
pub use shared::RedisStats;
pub use time::{IntoTime, TimeInput};
pub use types::{
    Behaviour, CancellationFeedback, CancellationType, ChargePeriod, FeatureQuantity, FeatureType,
    PaymentBehavior, ProrationBehavior, RefundReason, RefundStatus, TaxBehavior, TransactionStatus,
};

/// Where clients come from, named as in the product docs.
///
/// ```
/// use kelviq::{Environment, Kelviq};
///
/// // Production, defaults everywhere:
/// let client = Kelviq::create_async_client("__YOUR_API_KEY__")?;
///
/// // Anything else through the builder:
/// let sandbox = Kelviq::builder("__YOUR_API_KEY__").environment(Environment::Sandbox).build()?;
/// # Ok::<(), kelviq::Error>(())
/// ```
#[derive(Debug)]
pub enum Kelviq {}

impl Kelviq {
    /// An async client for production with default settings.
    pub fn create_async_client(api_key: impl Into<String>) -> Result<Client> {
        Self::builder(api_key).build()
    }

    /// A blocking client for production with default settings. Not for use inside an async
    /// task; see [`blocking`].
    #[cfg(feature = "blocking")]
    pub fn create_sync_client(api_key: impl Into<String>) -> Result<blocking::Client> {
        Self::builder(api_key).build_blocking()
    }

    /// A builder for a client with other settings (environment, hosts, time-outs, retries…).
    pub fn builder(api_key: impl Into<String>) -> ClientBuilder {
        ClientBuilder::new(api_key)
    }

    /// A builder configured from the environment: the key from `KELVIQ_API_KEY`, the
    /// environment from `KELVIQ_ENV` (unset or empty means sandbox; `production`/`prod`,
    /// `sandbox` or `staging`, any case; anything else is an error naming the value).
    ///
    /// ```no_run
    /// let client = kelviq::Kelviq::from_env()?.build()?;
    /// # Ok::<(), kelviq::Error>(())
    /// ```
    pub fn from_env() -> Result<ClientBuilder> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// [`from_env`](Self::from_env) over any source of variables.
    pub(crate) fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<ClientBuilder> {
        let environment = Environment::from_env_value(lookup(ENV_VAR).as_deref())
            .map_err(|e| Error::config(format!("{ENV_VAR}: {e}")))?;
        let api_key = lookup(API_KEY_VAR)
            .filter(|key| !key.trim().is_empty())
            .ok_or_else(|| Error::config(format!("{API_KEY_VAR} is not set")))?;
        Ok(Self::builder(api_key).environment(environment))
    }
}

/// The crate README's Rust examples, compiled as doctests so that they stay true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn from_env_follows_the_wire_rule() {
        let builder = Kelviq::from_lookup(vars(&[("KELVIQ_API_KEY", "k")])).unwrap();
        assert_eq!(builder.settings.environment, Environment::Sandbox);
        let builder =
            Kelviq::from_lookup(vars(&[("KELVIQ_API_KEY", "k"), ("KELVIQ_ENV", " Prod ")]))
                .unwrap();
        assert_eq!(builder.settings.environment, Environment::Production);
        let builder =
            Kelviq::from_lookup(vars(&[("KELVIQ_API_KEY", "k"), ("KELVIQ_ENV", "STAGING")]))
                .unwrap();
        assert_eq!(builder.settings.environment, Environment::Staging);

        let error = Kelviq::from_lookup(vars(&[("KELVIQ_API_KEY", "k"), ("KELVIQ_ENV", "live")]))
            .unwrap_err();
        assert!(
            error.to_string().contains("KELVIQ_ENV") && error.to_string().contains("\"live\""),
            "{error}"
        );
        let error = Kelviq::from_lookup(vars(&[("KELVIQ_ENV", "sandbox")])).unwrap_err();
        assert!(error.to_string().contains("KELVIQ_API_KEY"), "{error}");
    }

    #[test]
    fn each_environment_has_its_api_and_edge_hosts() {
        let production = format!("{:?}", Kelviq::create_async_client("k").unwrap());
        assert!(
            production.contains("\"https://api.kelviq.com\"")
                && production.contains("\"https://edge.api.kelviq.com\"")
        );
        let staging = format!(
            "{:?}",
            Kelviq::builder("k")
                .environment(Environment::Staging)
                .build()
                .unwrap()
        );
        assert!(
            staging.contains("https://stagingapi.kelviq.com")
                && staging.contains("https://edge.stagingapi.kelviq.com")
        );
        let sandbox = format!(
            "{:?}",
            Kelviq::builder("k")
                .environment(Environment::Sandbox)
                .build()
                .unwrap()
        );
        assert!(
            sandbox.contains("https://sandboxapi.kelviq.com")
                && sandbox.contains("https://edge.sandboxapi.kelviq.com")
        );
        // A trailing slash on a configured base URL is dropped.
        let custom = format!(
            "{:?}",
            Kelviq::builder("k")
                .base_url("http://127.0.0.1:9/")
                .build()
                .unwrap()
        );
        assert!(custom.contains("\"http://127.0.0.1:9\""), "{custom}");
    }

    #[test]
    fn the_api_key_never_shows_in_debug() {
        let builder = Kelviq::builder("sk_secret_value");
        assert!(!format!("{builder:?}").contains("sk_secret_value"));
        let client = builder.clone().build().unwrap();
        assert!(!format!("{client:?}").contains("sk_secret_value"));
        #[cfg(feature = "blocking")]
        {
            let blocking = builder.build_blocking().unwrap();
            assert!(!format!("{blocking:?}").contains("sk_secret_value"));
        }
    }

    #[test]
    fn bad_configuration_is_an_error_not_a_panic() {
        assert_eq!(
            Kelviq::builder("  ").build().unwrap_err().kind(),
            ErrorKind::Config
        );
        assert!(
            Kelviq::builder("k\n").build().is_ok(),
            "surrounding whitespace is trimmed"
        );
        assert_eq!(
            Kelviq::builder("k\u{7}x").build().unwrap_err().kind(),
            ErrorKind::Config
        );
        let error = Kelviq::builder("k")
            .api_base_url("ftp://x")
            .build()
            .unwrap_err();
        assert!(error.to_string().contains("api_base_url"), "{error}");
    }

    #[test]
    fn clients_are_send_sync_and_cheap_to_clone() {
        fn assert_send_sync<T: Send + Sync + Clone>() {}
        assert_send_sync::<Client>();
        #[cfg(feature = "blocking")]
        assert_send_sync::<blocking::Client>();
    }
}
