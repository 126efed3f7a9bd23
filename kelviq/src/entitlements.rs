//! Entitlements: what a customer may use. Answered by the edge host, through the cache.
//!
//! ```no_run
//! # async fn run(client: kelviq::Client) -> kelviq::Result<()> {
//! let allowed = client.entitlements().has_access("cust_123", "premium-reporting").send().await?;
//!
//! // The same check, saying whether the answer was fresh, stale or a fallback.
//! let access = client.entitlements().check("cust_123", "premium-reporting").send().await?;
//! println!("{} ({:?})", access.allowed, access.freshness);
//!
//! let response = client.entitlements().get_entitlement("cust_456", "advanced-analytics").send().await?;
//! if let Some(meter) = response.feature("advanced-analytics") {
//!     println!("{:?} used of {:?}", meter.current_usage, meter.usage_limit);
//! }
//!
//! let all = client.entitlements().get_all_entitlements("cust_456").send().await?;
//! for entry in all.entitlements() {
//!     println!("{}: {}", entry.feature_id, entry.has_access);
//! }
//! # Ok(()) }
//! ```
//!
//! How several entries of one feature combine is in the [`model`](crate::model) docs.
//!
//! # While the edge host fails
//!
//! | what the cache holds | `has_access` / `check` | `get_entitlement` / `get_all_entitlements` |
//! |---|---|---|
//! | a fresh set | answered locally | answered locally |
//! | a stale set (see [`CacheConfig`](crate::CacheConfig)) | answered at once, flagged stale; one background refresh | the same |
//! | an invalidated set, edge failing | answered from it, flagged stale | the same |
//! | nothing usable, edge failing | the [`FallbackPolicy`](crate::FallbackPolicy) (deny unless set), flagged | the error |
//! | anything, edge answers 400/401/403/404 | the error | the error |
//!
//! A call that must ask the edge host takes at most the entitlement deadline (3 s unless
//! set on the builder or the call).

use futures_util::future::Either;
use std::borrow::Cow;
use std::future::Future;
use std::sync::Arc;

use crate::core::{Core, Overrides};
use crate::error::Result;
use crate::model::{Access, CustomerEntitlements, Freshness};
use crate::request::{invalid, Async, Ctx, RequestOptions};
use crate::response::Response;

/// The entitlement operations, from [`Client::entitlements`](crate::Client::entitlements).
///
/// With the entitlement cache on (the default, see [`CacheConfig`](crate::CacheConfig)),
/// every call is answered from the customer's cached set while it is fresh; a miss fetches
/// the customer's whole set with one `GET /api/v1/entitlements?customer_id=…`. With it off,
/// each call is one request, with `feature_id` in the query for one feature.
#[derive(Debug, Clone, Copy)]
pub struct Entitlements<'a, M = Async> {
    ctx: &'a Ctx<M>,
}

impl<'a, M> Entitlements<'a, M> {
    pub(crate) fn new(ctx: &'a Ctx<M>) -> Self {
        Self { ctx }
    }

    /// Whether the customer may use the feature, by the rule in the [`model`](crate::model)
    /// docs. A feature the customer has no entry for is `false`, not an error.
    ///
    /// Answered from a fresh cache entry without a request and without allocating; see the
    /// [module docs](self) for what it answers while the edge host fails.
    pub fn has_access(
        &self,
        customer_id: impl Into<Cow<'a, str>>,
        feature_id: impl Into<Cow<'a, str>>,
    ) -> HasAccess<'a, M> {
        HasAccess(Query::new(
            self.ctx,
            customer_id.into(),
            Some(feature_id.into()),
        ))
    }

    /// [`has_access`](Self::has_access), answered with where the answer came from: fresh,
    /// stale, or the fallback policy.
    pub fn check(
        &self,
        customer_id: impl Into<Cow<'a, str>>,
        feature_id: impl Into<Cow<'a, str>>,
    ) -> Check<'a, M> {
        Check(Query::new(
            self.ctx,
            customer_id.into(),
            Some(feature_id.into()),
        ))
    }

    /// The customer's entries for one feature, as the service returns them.
    pub fn get_entitlement(
        &self,
        customer_id: impl Into<Cow<'a, str>>,
        feature_id: impl Into<Cow<'a, str>>,
    ) -> GetEntitlement<'a, M> {
        GetEntitlement(Query::new(
            self.ctx,
            customer_id.into(),
            Some(feature_id.into()),
        ))
    }

    /// All of the customer's entitlements.
    pub fn get_all_entitlements(
        &self,
        customer_id: impl Into<Cow<'a, str>>,
    ) -> GetAllEntitlements<'a, M> {
        GetAllEntitlements(Query::new(self.ctx, customer_id.into(), None))
    }
}

/// What every entitlement builder holds: borrowed until a request is needed, so that a
/// fresh answer costs no allocation and no reference count.
#[derive(Debug, Clone)]
struct Query<'a, M> {
    ctx: &'a Ctx<M>,
    customer_id: Cow<'a, str>,
    feature_id: Option<Cow<'a, str>>,
    options: RequestOptions,
}

/// A query that owns what it needs, for a future that outlives the builder: the call's
/// options already made its overrides (or the error they are), so that the future holds
/// one of the two, not both.
struct Owned {
    core: Arc<Core>,
    customer_id: String,
    feature_id: Option<String>,
    overrides: std::result::Result<Overrides, crate::ValidationError>,
}

impl<'a, M> Query<'a, M> {
    fn new(ctx: &'a Ctx<M>, customer_id: Cow<'a, str>, feature_id: Option<Cow<'a, str>>) -> Self {
        Self {
            ctx,
            customer_id,
            feature_id,
            options: RequestOptions::default(),
        }
    }

    fn owned(self, want_raw: bool) -> Owned {
        Owned {
            core: self.ctx.core.clone(),
            customer_id: self.customer_id.into_owned(),
            feature_id: self.feature_id.map(Cow::into_owned),
            overrides: self.options.overrides(want_raw),
        }
    }

    /// A view of the customer's fresh cached set.
    fn fresh_view(&self) -> Option<CustomerEntitlements> {
        let cache = self.ctx.core.cache()?;
        cache.read_fresh(&self.customer_id, |set| {
            CustomerEntitlements::view(set.clone(), self.feature_id.as_deref(), Freshness::Fresh)
        })
    }
}

impl Owned {
    const OPERATION: &'static str = "entitlements.get";

    /// The access answer, as `answer` makes it (the whole [`Access`], or whether it is
    /// allowed). Not an `async fn`: that would hold its argument twice (as the argument
    /// and as the fields taken from it), and the overrides twice (as the result and as
    /// the value taken from it): 776 bytes, where this is about 470, copied on every move.
    fn access<T>(self, answer: fn(Access) -> T) -> impl Future<Output = Result<Response<T>>> {
        let Owned {
            core,
            customer_id,
            feature_id,
            overrides,
        } = self;
        async move {
            let overrides = overrides
                .as_ref()
                .map_err(|e| invalid(Self::OPERATION)(e.clone()))?;
            let feature_id = feature_id.as_deref().unwrap_or_default();
            let access = core.access(&customer_id, feature_id, overrides).await?;
            Ok(Response::new(answer(access), None))
        }
    }

    async fn entitlements(self) -> Result<Response<CustomerEntitlements>> {
        let overrides = self.overrides.map_err(invalid(Self::OPERATION))?;
        if self.feature_id.as_deref() == Some("") {
            return Err(invalid(Self::OPERATION)(crate::ValidationError::new(
                "feature_id",
                "",
                "a non-empty identifier",
            )));
        }
        let found = self
            .core
            .entitlements(&self.customer_id, self.feature_id.as_deref(), &overrides)
            .await?;
        Ok(Response::new(
            CustomerEntitlements::view(found.set, self.feature_id.as_deref(), found.freshness),
            found.raw,
        ))
    }
}

/// Writes, for an entitlement builder, the per-call options, `send` and
/// `send_with_response` in both modes: first the fresh cache answer, then (owned) the
/// request.
macro_rules! entitlement_builder {
    ($(#[$meta:meta])* $builder:ident => $output:ty, fresh: $fresh:expr, fetch: $fetch:expr) => {
        $(#[$meta])*
        #[derive(Debug, Clone)]
        #[must_use = "a request does nothing until `send` is called"]
        pub struct $builder<'a, M = Async>(Query<'a, M>);

        impl<'a, M> $builder<'a, M> {
            /// The answer from a fresh cache entry, when there is one. The hot path.
            #[inline]
            fn fresh(&self) -> Option<$output> {
                #[allow(clippy::redundant_closure_call)]
                ($fresh)(&self.0)
            }

            fn fetch(self, want_raw: bool) -> impl Future<Output = Result<Response<$output>>> + Send + 'static {
                #[allow(clippy::redundant_closure_call)]
                ($fetch)(self.0.owned(want_raw))
            }

            /// The time-out of each attempt of this call, instead of the client's.
            pub fn timeout(mut self, timeout: std::time::Duration) -> Self {
                self.0.options.timeout(timeout);
                self
            }

            /// The time this whole call may take when it must ask the edge host, instead of
            /// the client's entitlement deadline.
            pub fn deadline(mut self, deadline: std::time::Duration) -> Self {
                self.0.options.deadline(deadline);
                self
            }

            /// When and how often this call is retried, instead of the client's policy.
            pub fn retry_policy(mut self, retry: crate::RetryPolicy) -> Self {
                self.0.options.retry_policy(retry);
                self
            }

            /// An extra header on this call's request (not `Authorization`).
            pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
                self.0.options.header(name.into(), value.into());
                self
            }
        }

        impl<'a> $builder<'a, Async> {
            /// The answer: from a fresh cache entry at once, otherwise from the edge host.
            /// The future owns what it needs (`Send + 'static`).
            pub fn send(self) -> impl Future<Output = Result<$output>> + Send + 'static {
                // One future or the other, not an `async` block holding the request until
                // it is moved out to be awaited: that would carry the request's future twice.
                use futures_util::FutureExt as _;
                match self.fresh() {
                    Some(answer) => Either::Left(futures_util::future::ready(Ok(answer))),
                    None => Either::Right(
                        self.fetch(false)
                            .map(|result: Result<Response<$output>>| result.map(Response::into_value)),
                    ),
                }
            }

            /// Like [`send`](Self::send), with the HTTP answer when this call made one alone
            /// (`None` when the cache answered or shared its fetch).
            pub fn send_with_response(
                self,
            ) -> impl Future<Output = Result<Response<$output>>> + Send + 'static {
                match self.fresh() {
                    Some(answer) => {
                        Either::Left(futures_util::future::ready(Ok(Response::new(answer, None))))
                    }
                    None => Either::Right(self.fetch(true)),
                }
            }
        }

        #[cfg(feature = "blocking")]
        impl<'a> $builder<'a, crate::request::Blocking> {
            /// The answer: from a fresh cache entry at once (without entering the runtime),
            /// otherwise from the edge host.
            pub fn send(self) -> Result<$output> {
                if let Some(answer) = self.fresh() {
                    return Ok(answer);
                }
                let mode = self.0.ctx.mode.clone();
                let fetch = self.fetch(false);
                mode.block_on(async move { fetch.await.map(Response::into_value) })
            }

            /// Like [`send`](Self::send), with the HTTP answer when this call made one alone.
            pub fn send_with_response(self) -> Result<Response<$output>> {
                if let Some(answer) = self.fresh() {
                    return Ok(Response::new(answer, None));
                }
                let mode = self.0.ctx.mode.clone();
                mode.block_on(self.fetch(true))
            }
        }
    };
}

entitlement_builder! {
    /// Asks whether a customer may use a feature; made by [`Entitlements::has_access`].
    HasAccess => bool,
    fresh: |query: &Query<'_, _>| query.ctx.core.fresh_access(&query.customer_id, query.feature_id.as_deref().unwrap_or_default()),
    fetch: |owned: Owned| owned.access(|access| access.allowed)
}

entitlement_builder! {
    /// Asks whether a customer may use a feature and where the answer came from; made by
    /// [`Entitlements::check`].
    Check => Access,
    fresh: |query: &Query<'_, _>| query.ctx.core.fresh_access(&query.customer_id, query.feature_id.as_deref().unwrap_or_default()).map(|allowed| Access::new(allowed, Freshness::Fresh)),
    fetch: |owned: Owned| owned.access(std::convert::identity)
}

entitlement_builder! {
    /// Reads a customer's entries for one feature; made by [`Entitlements::get_entitlement`].
    GetEntitlement => CustomerEntitlements,
    fresh: Query::fresh_view,
    fetch: |owned: Owned| owned.entitlements()
}

entitlement_builder! {
    /// Reads all of a customer's entitlements; made by [`Entitlements::get_all_entitlements`].
    GetAllEntitlements => CustomerEntitlements,
    fresh: Query::fresh_view,
    fetch: |owned: Owned| owned.entitlements()
}
