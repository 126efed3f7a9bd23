//! An [OpenFeature](https://openfeature.dev) provider over the Kelviq SDK: entitlements answered
//! where Rust services already ask for flags.
//!
//! [`KelviqProvider`] implements the `FeatureProvider` trait of the `open-feature` crate (the
//! OpenFeature project's Rust SDK, re-exported here as [`open_feature`]) over a
//! [`kelviq::Client`]. The evaluation context's **targeting key is the customer id**, the
//! **flag key is the feature id**:
//!
//! - a **boolean** flag answers [`has_access`](kelviq::entitlements::Entitlements::has_access),
//!   through the same cached path: from a fresh cached set, no request and no allocation
//!   of its own (the one allocation is the future `async_trait` boxes; the OpenFeature
//!   client's evaluation adds a few of its own);
//! - an **integer** flag answers a quantity: what is **left** of a `METER` (its `remaining`:
//!   the limit minus the usage, negative past a soft limit), and the **quantity bought** of a
//!   `CUSTOMIZABLE` feature (its `usage_limit`, such as a number of seats);
//! - a **struct** flag answers the whole entitlement (the customer's entries for the feature
//!   combined, as [`CustomerEntitlements::feature`](kelviq::model::CustomerEntitlements::feature)
//!   combines them), readable as an [`EntitlementValue`].
//!
//! ```
//! use kelviq_openfeature::{EntitlementValue, KelviqProvider};
//! use open_feature::{EvaluationContext, EvaluationReason, OpenFeature};
//!
//! #[tokio::main]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     // The emulator stands in for Kelviq here. Against the service:
//!     // let client = kelviq::Kelviq::create_async_client("__YOUR_API_KEY__")?;
//!     let server = kelviq_mock::MockServer::start().await?;
//!     let client = kelviq::Kelviq::builder("sk_test").base_url(server.url()).build()?;
//!     client.customers().create("cust_123").send().await?;
//!     for (feature, kind, quantity) in [
//!         ("premium-reporting", kelviq_mock::catalogue::FeatureKind::Boolean, None),
//!         ("seats", kelviq_mock::catalogue::FeatureKind::Customizable, Some(5)),
//!     ] {
//!         server.grant(kelviq_mock::Grant {
//!             customer_id: "cust_123".into(),
//!             feature_id: feature.into(),
//!             feature_type: kind,
//!             usage_limit: quantity,
//!             hard_limit: None,
//!         });
//!     }
//!
//!     // Register the provider once, at start-up; it makes no request until a flag is read.
//!     let mut api = OpenFeature::singleton_mut().await;
//!     api.set_provider(KelviqProvider::new(client)).await;
//!     let flags = api.create_client();
//!     drop(api);
//!
//!     // The targeting key is the customer.
//!     let customer = EvaluationContext::default().with_targeting_key("cust_123");
//!     let reporting = flags
//!         .get_bool_value("premium-reporting", Some(&customer), None)
//!         .await
//!         .unwrap_or(false); // the application's default, should Kelviq not answer
//!     assert!(reporting);
//!     let seats = flags.get_int_value("seats", Some(&customer), None).await.unwrap_or(1);
//!     assert_eq!(seats, 5);
//!     let entitlement: EntitlementValue = flags
//!         .get_struct_value("seats", Some(&customer), None)
//!         .await
//!         .map_err(|e| format!("{:?}", e))?;
//!     assert_eq!((entitlement.has_access, entitlement.usage_limit), (true, Some(5)));
//!
//!     // Where an answer came from: the details' reason and metadata.
//!     let details = flags
//!         .get_bool_details("premium-reporting", Some(&customer), None)
//!         .await
//!         .map_err(|e| format!("{:?}", e))?;
//!     assert_eq!(details.reason, Some(EvaluationReason::Cached));
//!
//!     // A feature the customer does not hold: no access, and no number or entitlement.
//!     assert_eq!(flags.get_bool_value("audit-log", Some(&customer), None).await, Ok(false));
//!     let error = flags.get_int_value("api-usage", Some(&customer), None).await.unwrap_err();
//!     assert_eq!(error.code, open_feature::EvaluationErrorCode::FlagNotFound);
//!     Ok(())
//! }
//! ```
//!
//! # What each evaluation answers
//!
//! | situation | boolean flag | integer flag | struct flag |
//! |---|---|---|---|
//! | the customer's set is fresh (cached within the cache's `ttl`, or fetched for this evaluation) | `has_access`; reason `CACHED` | the quantity; `CACHED` | the entitlement; `CACHED` |
//! | only a stale set is at hand (the edge host failing, or a refresh under way) | `has_access` from it; reason `STALE`, metadata `source = "stale"`, `age_ms` | the same | the same |
//! | nothing usable cached and the edge host failing | the client's [`FallbackPolicy`](kelviq::FallbackPolicy): `Allow`/`Deny` answer `true`/`false` with reason `DEFAULT`, metadata `source = "fallback"`; `Error` is an error `GENERAL` | error `GENERAL` | error `GENERAL` |
//! | the customer holds no entry for the feature | `false` (the `has_access` rule); `CACHED` or `STALE` | error `FLAG_NOT_FOUND` | error `FLAG_NOT_FOUND` |
//! | a `BOOLEAN` feature, or a meter whose limit is unknown | `has_access` | error `TYPE_MISMATCH` | the entitlement |
//! | a float or string flag | error `TYPE_MISMATCH` | | |
//! | no targeting key (absent or empty) | error `TARGETING_KEY_MISSING` | the same | the same |
//! | an empty flag key | error `FLAG_NOT_FOUND` | the same | the same |
//! | a targeting key Kelviq knows no customer by (its 404) | error `INVALID_CONTEXT` | the same | the same |
//! | the key refused (401/403), a 400, an answer that is not Kelviq's | error `GENERAL` | the same | the same |
//! | before the provider was initialised | error `PROVIDER_NOT_READY` | the same | the same |
//!
//! An error is the Rust SDK's `Err(EvaluationError)` from `get_*_value` and `get_*_details`,
//! with the code above and a message saying what failed (never the API key): its reason is
//! `ERROR` (what hooks see), and the application's default applies (`unwrap_or(default)`).
//! Kelviq lists only what a customer holds, so an unknown feature id and a feature the
//! customer was not sold look alike: a boolean flag answers `false` for both, as `has_access`
//! does, while an integer or struct flag, which has no value to give, says `FLAG_NOT_FOUND` so
//! that the application's default applies. The fallback policy decides booleans only: an
//! integer or struct flag with nothing usable cached is an error, whose default is the
//! application's.
//!
//! With the client's entitlement cache turned off ([`CacheConfig::disabled`](kelviq::CacheConfig::disabled))
//! every evaluation is a request, and its answer is still reported `CACHED`: the provider
//! cannot see the client's cache settings, and Kelviq calls both answers fresh.
//!
//! `STALE` is the specification's reason for a value from a cache that is no longer fresh; the
//! Rust SDK's [`EvaluationReason`] has no variant for it, so it is
//! `EvaluationReason::Other("STALE")` ([`STALE_REASON`]). A fresh answer carries no metadata
//! (nothing to add to `CACHED`, and none keeps the cached path free of allocation) and no
//! variant; a stale or fallback answer carries the [`metadata`] keys.
//!
//! # Status, initialisation and events
//!
//! Initialisation makes no request and warms nothing: each customer's set is fetched by the
//! first evaluation that needs it, as for any Kelviq check. It sets the status to `READY`;
//! before it, the status is `NOT_READY` and an evaluation is answered `PROVIDER_NOT_READY`
//! (the `OpenFeature` API initialises a provider when it is set). After that the status says
//! what the latest evaluation saw: `READY` after a fresh answer, `STALE` after a stale one,
//! `ERROR` after a fallback, an edge host that could not be reached, a refused key (401/403)
//! or an answer that is not Kelviq's. An evaluation that ends in an error after reading a
//! set (`FLAG_NOT_FOUND`, `TYPE_MISMATCH`) still reports how fresh that set was. The Rust
//! SDK reads no status itself and has no events yet (its README lists eventing as not
//! implemented), so none are emitted; clones of a provider share one status, so keep a clone
//! to read it.
//!
//! Dropping the provider (`OpenFeature::shutdown`) does not shut the Kelviq client down: the
//! client is shared with the application, which calls [`kelviq::Client::shutdown`] before
//! the process exits.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod value;

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;
use std::time::Duration;

use kelviq::model::FeatureEntitlement;
use kelviq::{ErrorKind, FeatureType, Freshness};
use open_feature::provider::{
    FeatureProvider, ProviderMetadata, ProviderStatus, ResolutionDetails,
};
use open_feature::{
    EvaluationContext, EvaluationError, EvaluationErrorCode, EvaluationReason, EvaluationResult,
    FlagMetadata, StructValue,
};

pub use open_feature;
pub use value::{EntitlementValue, InvalidEntitlement};

/// The provider's name in its [`ProviderMetadata`].
pub const PROVIDER_NAME: &str = "kelviq";

/// The reason of an answer from a stale set: the specification's `STALE`, as
/// `EvaluationReason::Other`.
pub const STALE_REASON: &str = "STALE";

/// The flag metadata a stale or fallback answer carries.
pub mod metadata {
    /// Where the answer came from: [`STALE`] or [`FALLBACK`].
    pub const SOURCE: &str = "source";
    /// How long ago a stale set was fetched, in milliseconds (an integer).
    pub const AGE_MS: &str = "age_ms";
    /// [`SOURCE`] of an answer from a stale set.
    pub const STALE: &str = "stale";
    /// [`SOURCE`] of an answer the client's fallback policy decided.
    pub const FALLBACK: &str = "fallback";
}

/// The status codes kept in the shared atomic.
const NOT_READY: u8 = 0;
const READY: u8 = 1;
const STALE: u8 = 2;
const ERROR: u8 = 3;

/// The OpenFeature provider over a [`kelviq::Client`]; see the [crate docs](crate) for what
/// each flag type answers.
///
/// Cheap to clone: clones share the client (its cache and connection pool) and the status.
///
/// ```no_run
/// # async fn run() -> kelviq::Result<()> {
/// let client = kelviq::Kelviq::create_async_client("__YOUR_API_KEY__")?;
/// let provider = kelviq_openfeature::KelviqProvider::new(client.clone());
/// open_feature::OpenFeature::singleton_mut().await.set_provider(provider).await;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct KelviqProvider {
    client: kelviq::Client,
    metadata: ProviderMetadata,
    status: Arc<AtomicU8>,
}

impl KelviqProvider {
    /// A provider answering from `client`, not yet initialised (the `OpenFeature` API
    /// initialises it when it is set).
    pub fn new(client: kelviq::Client) -> Self {
        Self {
            client,
            metadata: ProviderMetadata::new(PROVIDER_NAME),
            status: Arc::new(AtomicU8::new(NOT_READY)),
        }
    }

    /// The Kelviq client it answers from.
    pub fn client(&self) -> &kelviq::Client {
        &self.client
    }

    /// Records what an evaluation saw, writing only on a change so that evaluations on many
    /// threads do not contend for the cache line.
    #[inline]
    fn observe(&self, status: u8) {
        if self.status.load(Ordering::Relaxed) != status {
            self.status.store(status, Ordering::Relaxed);
        }
    }

    /// Refused before initialisation, as the specification asks.
    #[inline]
    fn ready(&self) -> EvaluationResult<()> {
        if self.status.load(Ordering::Relaxed) == NOT_READY {
            return Err(error(
                EvaluationErrorCode::ProviderNotReady,
                "the Kelviq provider has not been initialised: set it on the OpenFeature API first",
            ));
        }
        Ok(())
    }

    /// The customer (the targeting key), checked along with the flag key.
    #[inline]
    fn customer<'c>(
        &self,
        flag_key: &str,
        context: &'c EvaluationContext,
    ) -> EvaluationResult<&'c str> {
        self.ready()?;
        let Some(customer) = context.targeting_key.as_deref().filter(|k| !k.is_empty()) else {
            return Err(error(
                EvaluationErrorCode::TargetingKeyMissing,
                "the evaluation context has no targeting key: Kelviq reads the customer id there",
            ));
        };
        if flag_key.is_empty() {
            return Err(error(
                EvaluationErrorCode::FlagNotFound,
                "an empty flag key names no Kelviq feature",
            ));
        }
        Ok(customer)
    }

    /// Records where an answer came from in the status.
    #[inline]
    fn seen(&self, freshness: Freshness) {
        match freshness {
            Freshness::Fresh => self.observe(READY),
            Freshness::Stale { .. } => self.observe(STALE),
            Freshness::Fallback => self.observe(ERROR),
            _ => {}
        }
    }

    /// The resolution of `value`, saying where it came from.
    #[inline]
    fn resolved<T>(&self, value: T, freshness: Freshness) -> ResolutionDetails<T> {
        self.seen(freshness);
        let (reason, flag_metadata) = match freshness {
            Freshness::Fresh => (EvaluationReason::Cached, None),
            Freshness::Stale { age } => (
                EvaluationReason::Other(STALE_REASON.to_owned()),
                Some(
                    FlagMetadata::default()
                        .with_value(metadata::SOURCE, metadata::STALE)
                        .with_value(metadata::AGE_MS, millis(age)),
                ),
            ),
            Freshness::Fallback => (
                EvaluationReason::Default,
                Some(FlagMetadata::default().with_value(metadata::SOURCE, metadata::FALLBACK)),
            ),
            // A kind of answer this version does not know.
            _ => (EvaluationReason::Unknown, None),
        };
        ResolutionDetails {
            value,
            variant: None,
            reason: Some(reason),
            flag_metadata,
        }
    }

    /// A Kelviq error as OpenFeature's, by the table in the crate docs.
    fn failed(&self, failure: kelviq::Error, customer: &str) -> EvaluationError {
        let code = match failure.kind() {
            ErrorKind::Validation => match failure.validation().map(|v| v.field()) {
                Some("feature_id") => EvaluationErrorCode::FlagNotFound,
                Some("customer_id") => EvaluationErrorCode::InvalidContext,
                _ => general(),
            },
            ErrorKind::NotFound => {
                return error(
                    EvaluationErrorCode::InvalidContext,
                    format!("Kelviq knows no customer {customer:?} (the targeting key): {failure}"),
                )
            }
            // The edge host failing, or refusing the key or answering what is not Kelviq's:
            // no flag can be resolved reliably until that changes.
            ErrorKind::Connection
            | ErrorKind::Timeout
            | ErrorKind::Server
            | ErrorKind::RateLimited
            | ErrorKind::Unauthorized
            | ErrorKind::Decode => {
                self.observe(ERROR);
                general()
            }
            _ => general(),
        };
        error(code, failure.to_string())
    }

    /// The customer's combined entitlement to the feature `flag_key` names.
    async fn feature(
        &self,
        flag_key: &str,
        context: &EvaluationContext,
    ) -> EvaluationResult<(FeatureEntitlement, Freshness)> {
        let customer = self.customer(flag_key, context)?;
        let found = self
            .client
            .entitlements()
            .get_entitlement(customer, flag_key)
            .send()
            .await
            .map_err(|e| self.failed(e, customer))?;
        // The set answered, even if the evaluation ends in an error (no entry for the
        // feature, or no quantity for an integer flag): the status says what it read.
        self.seen(found.freshness());
        match found.feature(flag_key) {
            Some(feature) => Ok((feature, found.freshness())),
            None => Err(error(
                EvaluationErrorCode::FlagNotFound,
                format!("customer {customer:?} holds no entitlement to {flag_key:?}"),
            )),
        }
    }
}

impl From<kelviq::Client> for KelviqProvider {
    fn from(client: kelviq::Client) -> Self {
        Self::new(client)
    }
}

#[open_feature::async_trait]
impl FeatureProvider for KelviqProvider {
    /// Marks the provider ready; makes no request (each customer's set is fetched by the
    /// first evaluation that needs it).
    async fn initialize(&mut self, _context: &EvaluationContext) {
        self.status.store(READY, Ordering::Relaxed);
    }

    /// `NOT_READY` before initialisation; then what the latest evaluation saw.
    fn status(&self) -> ProviderStatus {
        match self.status.load(Ordering::Relaxed) {
            NOT_READY => ProviderStatus::NotReady,
            STALE => ProviderStatus::STALE,
            ERROR => ProviderStatus::Error,
            _ => ProviderStatus::Ready,
        }
    }

    fn metadata(&self) -> &ProviderMetadata {
        &self.metadata
    }

    /// `has_access`: from a fresh cached set without a request or an allocation beyond the
    /// boxed future.
    async fn resolve_bool_value(
        &self,
        flag_key: &str,
        evaluation_context: &EvaluationContext,
    ) -> EvaluationResult<ResolutionDetails<bool>> {
        let customer = self.customer(flag_key, evaluation_context)?;
        match self
            .client
            .entitlements()
            .check(customer, flag_key)
            .send()
            .await
        {
            Ok(access) => Ok(self.resolved(access.allowed, access.freshness)),
            Err(failure) => Err(self.failed(failure, customer)),
        }
    }

    /// What is left of a meter; the quantity bought of a customizable feature.
    async fn resolve_int_value(
        &self,
        flag_key: &str,
        evaluation_context: &EvaluationContext,
    ) -> EvaluationResult<ResolutionDetails<i64>> {
        let (feature, freshness) = self.feature(flag_key, evaluation_context).await?;
        let quantity = match &feature.feature_type {
            Some(FeatureType::Boolean) => {
                return Err(error(
                    EvaluationErrorCode::TypeMismatch,
                    format!("{flag_key:?} is a BOOLEAN feature: it has no quantity, read it as a boolean flag"),
                ))
            }
            Some(FeatureType::Customizable) => feature.usage_limit,
            _ => feature.remaining,
        };
        match quantity {
            Some(quantity) => Ok(self.resolved(quantity, freshness)),
            None => Err(error(
                EvaluationErrorCode::TypeMismatch,
                format!("{flag_key:?} has no known limit, so no quantity: read it as a boolean or struct flag"),
            )),
        }
    }

    /// Kelviq has no fractional values: always `TYPE_MISMATCH`.
    async fn resolve_float_value(
        &self,
        flag_key: &str,
        _evaluation_context: &EvaluationContext,
    ) -> EvaluationResult<ResolutionDetails<f64>> {
        self.ready()?;
        Err(unsupported(flag_key, "float"))
    }

    /// Kelviq has no string values: always `TYPE_MISMATCH`.
    async fn resolve_string_value(
        &self,
        flag_key: &str,
        _evaluation_context: &EvaluationContext,
    ) -> EvaluationResult<ResolutionDetails<String>> {
        self.ready()?;
        Err(unsupported(flag_key, "string"))
    }

    /// The whole entitlement; see [`EntitlementValue`] for its fields.
    async fn resolve_struct_value(
        &self,
        flag_key: &str,
        evaluation_context: &EvaluationContext,
    ) -> EvaluationResult<ResolutionDetails<StructValue>> {
        let (feature, freshness) = self.feature(flag_key, evaluation_context).await?;
        Ok(self.resolved(value::to_struct(&feature), freshness))
    }
}

fn error(code: EvaluationErrorCode, message: impl Into<String>) -> EvaluationError {
    EvaluationError {
        code,
        message: Some(message.into()),
    }
}

/// The specification's `GENERAL` code.
fn general() -> EvaluationErrorCode {
    EvaluationErrorCode::General("GENERAL".to_owned())
}

fn unsupported(flag_key: &str, kind: &str) -> EvaluationError {
    error(
        EvaluationErrorCode::TypeMismatch,
        format!(
            "{flag_key:?} read as a {kind} flag: Kelviq answers a feature as a boolean (access), \
             an integer (a quantity) or a struct (the entitlement)"
        ),
    )
}

fn millis(age: Duration) -> i64 {
    i64::try_from(age.as_millis()).unwrap_or(i64::MAX)
}

/// The crate README's Rust example, compiled as a doctest so that it stays true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
