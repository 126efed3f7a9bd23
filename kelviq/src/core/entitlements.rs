//! Entitlements through the cache: fresh answers locally, stale answers at once with one
//! background refresh per customer, fetches shared by concurrent callers, and the fallback
//! policy when the edge host fails and nothing usable is cached.

use std::sync::Arc;

use kelviq_gen::types as wire;

use super::{Core, Overrides};
use crate::cache::{Fetched, Got, Lookup, RefreshTicket};
use crate::config::Fallback;
use crate::error::{Error, Result};
use crate::model::{index_grants, Access, EntitlementSet, Freshness};
use crate::response::RawResponse;
use crate::transport::{self, RetryRule};

/// The operation every entitlement fetch is named after.
const OPERATION: &str = "entitlements.get";

/// An identifier as the document asks for one (`minLength: 1`), checked where it arrives
/// and passed on as it came: the generated types would copy it to check the same.
fn non_empty(field: &'static str, value: &str) -> Result<()> {
    if value.is_empty() {
        return Err(Error::from(crate::ValidationError::new(
            field,
            value,
            "a non-empty identifier",
        ))
        .in_operation(OPERATION));
    }
    Ok(())
}

/// A customer's set, where it came from, and the HTTP answer when this call made one.
pub(crate) struct Found {
    pub(crate) set: Arc<EntitlementSet>,
    pub(crate) freshness: Freshness,
    pub(crate) raw: Option<RawResponse>,
}

impl Core {
    /// Whether the customer's fresh cached set grants `feature_id`: the hot path, without a
    /// request, a lock or an allocation. `None` when there is no fresh set.
    #[inline]
    pub(crate) fn fresh_access(&self, customer_id: &str, feature_id: &str) -> Option<bool> {
        self.cache.as_ref()?.fresh_access(customer_id, feature_id)
    }

    /// Whether the customer may use the feature, from the cache, the edge host, or the
    /// fallback policy.
    pub(crate) async fn access(
        self: &Arc<Self>,
        customer_id: &str,
        feature_id: &str,
        overrides: &Overrides,
    ) -> Result<Access> {
        // Checked before the cache answers.
        non_empty("feature_id", feature_id)?;
        match self
            .entitlements(customer_id, Some(feature_id), overrides)
            .await
        {
            Ok(found) => Ok(Access::new(
                index_grants(found.set.index(), feature_id),
                found.freshness,
            )),
            Err(error) if error.is_outage() => match self.fallback.for_feature(feature_id) {
                Fallback::Deny => Ok(Access::new(false, Freshness::Fallback)),
                Fallback::Allow => Ok(Access::new(true, Freshness::Fallback)),
                Fallback::Error => Err(error),
            },
            Err(error) => Err(error),
        }
    }

    /// The customer's set: through the cache, which fetches the whole set, or straight from
    /// the edge host (restricted to `feature_id` when given) when the cache is off.
    pub(crate) async fn entitlements(
        self: &Arc<Self>,
        customer_id: &str,
        feature_id: Option<&str>,
        overrides: &Overrides,
    ) -> Result<Found> {
        non_empty("customer_id", customer_id)?;
        let Some(cache) = self.cache() else {
            let (answer, raw) = self.fetch_wire(customer_id, feature_id, overrides).await?;
            return Ok(Found {
                set: Arc::new(EntitlementSet::from(answer)),
                freshness: Freshness::Fresh,
                raw,
            });
        };
        let fallback = match cache.lookup(customer_id) {
            Lookup::Fresh(set) => {
                return Ok(Found {
                    set,
                    freshness: Freshness::Fresh,
                    raw: None,
                })
            }
            Lookup::Stale { set, age, refresh } => {
                if let Some(ticket) = refresh {
                    self.refresh_in_background(customer_id, ticket);
                }
                return Ok(Found {
                    set,
                    freshness: Freshness::Stale { age },
                    raw: None,
                });
            }
            Lookup::Fetch { fallback } => fallback,
        };
        self.ensure_background();
        let fetched = Box::pin(cache.fetch_shared(customer_id, || {
            self.fetch_through_tiers(customer_id, overrides)
        }))
        .await;
        match fetched {
            Ok(got) => Ok(Found {
                freshness: self.freshness_of(&got),
                set: got.set,
                raw: None,
            }),
            Err(error) if error.is_outage() => {
                self.edge_failed(&error);
                match fallback {
                    Some((set, age)) => Ok(Found {
                        set,
                        freshness: Freshness::Stale { age },
                        raw: None,
                    }),
                    None => Err(error),
                }
            }
            Err(error) => Err(error),
        }
    }

    /// How fresh a fetched set is, and what it says about the edge host.
    fn freshness_of(&self, got: &Got) -> Freshness {
        match &got.edge_error {
            Some(error) => {
                self.edge_failed(error);
                Freshness::Stale { age: got.age }
            }
            None => {
                if got.age.is_zero() {
                    self.edge_answered();
                }
                Freshness::Fresh
            }
        }
    }

    /// The customer's whole set for the cache: from the shared tier when it holds a fresh
    /// one, else from the edge host.
    async fn fetch_through_tiers(
        &self,
        customer_id: &str,
        overrides: &Overrides,
    ) -> Result<Fetched> {
        #[cfg(feature = "redis")]
        if let Some(shared) = &self.shared_cache {
            // Boxed: Redis's futures would make every entitlement future as large as theirs.
            return Box::pin(self.fetch_through_redis(shared, customer_id, overrides)).await;
        }
        let (answer, _) = self.fetch_wire(customer_id, None, overrides).await?;
        Ok(Fetched::from_edge(EntitlementSet::from(answer)))
    }

    /// Through Redis: a fresh shared set answers without a request; otherwise the edge host
    /// answers and its set is shared; while the edge host fails, a usable shared set stands
    /// in. Redis failing is a miss, never an error.
    #[cfg(feature = "redis")]
    async fn fetch_through_redis(
        &self,
        shared: &crate::shared::SharedCache,
        customer_id: &str,
        overrides: &Overrides,
    ) -> Result<Fetched> {
        let (entry, seen) = match shared.read(customer_id).await {
            Some((entry, seen)) => (entry, Some(seen)),
            None => (None, None),
        };
        let found = entry.and_then(|entry| {
            match serde_json::from_slice::<wire::CustomerEntitlements>(&entry.body) {
                Ok(answer) => Some((EntitlementSet::from(answer), entry)),
                Err(error) => {
                    tracing::warn!(customer_id, %error, "an entitlement set in Redis could not be read; asking the edge host");
                    None
                }
            }
        });
        let (ttl, usable) = self.cache_ages();
        if let Some((set, entry)) = found {
            if entry.current && entry.age < ttl {
                shared
                    .redis()
                    .cache_hits
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                return Ok(Fetched {
                    set,
                    age: entry.age,
                    retired: false,
                    edge_error: None,
                });
            }
            return match self.fetch_wire(customer_id, None, overrides).await {
                Ok((answer, _)) => Ok(self.share(shared, customer_id, answer, seen).await),
                Err(error) if error.is_outage() && entry.age < usable => Ok(Fetched {
                    set,
                    age: entry.age,
                    retired: !entry.current,
                    edge_error: Some(error),
                }),
                Err(error) => Err(error),
            };
        }
        let (answer, _) = self.fetch_wire(customer_id, None, overrides).await?;
        Ok(self.share(shared, customer_id, answer, seen).await)
    }

    /// Puts a set the edge host answered in Redis, unless Redis failed when it was read.
    #[cfg(feature = "redis")]
    async fn share(
        &self,
        shared: &crate::shared::SharedCache,
        customer_id: &str,
        answer: wire::CustomerEntitlements,
        seen: Option<crate::shared::Seen>,
    ) -> Fetched {
        if let Some(seen) = seen {
            match serde_json::to_vec(&answer) {
                Ok(body) => shared.write(customer_id, &body, seen).await,
                Err(error) => {
                    tracing::warn!(%error, "an entitlement set could not be encoded for Redis")
                }
            }
        }
        Fetched::from_edge(EntitlementSet::from(answer))
    }

    /// The cache's `ttl`, and the age past which a set may not stand in.
    #[cfg(feature = "redis")]
    fn cache_ages(&self) -> (std::time::Duration, std::time::Duration) {
        self.cache()
            .map(|cache| (cache.ttl(), cache.ttl() + cache.max_stale()))
            .unwrap_or_default()
    }

    /// One `GET /api/v1/entitlements`, the answer as the edge host sent it.
    async fn fetch_wire(
        &self,
        customer_id: &str,
        feature_id: Option<&str>,
        overrides: &Overrides,
    ) -> Result<(wire::CustomerEntitlements, Option<RawResponse>)> {
        // The identifiers were checked as the document asks (non-empty) by the callers,
        // without the generated types' copies.
        // The query as the generated client writes it: the same form encoding (reqwest's
        // `query` serialises into `query_pairs_mut`), in the same order. Made again for a
        // retry.
        let parts = || {
            let mut url = self.entitlements_url.clone();
            {
                let mut query = url.query_pairs_mut();
                query.append_pair("customer_id", customer_id);
                if let Some(feature_id) = feature_id {
                    query.append_pair("feature_id", feature_id);
                }
            }
            Ok((url, None))
        };
        let spec = self.spec_within(
            OPERATION,
            RetryRule::IDEMPOTENT,
            overrides,
            self.timeouts.entitlement_deadline,
        );
        // Not through the generated builder: see `transport::json_call`. Boxed: the call's
        // future is the largest part of every entitlement future above it, which each
        // caller moves once or more (measured: 7.3 KB a `has_access` future unboxed).
        let (client, preset) = self.entitlements_http();
        let answered = Box::pin(transport::json_call(
            &self.transport,
            client,
            preset,
            http::Method::GET,
            parts,
            spec,
        ))
        .await?;
        Ok((answered.value, answered.raw))
    }

    /// Brings a stale set up to date without anyone waiting for it. Without a runtime to
    /// run on, the next call that finds the set stale tries again.
    fn refresh_in_background(self: &Arc<Self>, customer_id: &str, ticket: RefreshTicket) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            if let Some(cache) = self.cache() {
                cache.refresh_failed(ticket);
            }
            return;
        };
        let core = self.clone();
        let customer_id = customer_id.to_owned();
        runtime.spawn(async move {
            let Some(cache) = core.cache() else { return };
            let overrides = Overrides::default();
            let fetched = cache
                .fetch_shared(&customer_id, || {
                    core.fetch_through_tiers(&customer_id, &overrides)
                })
                .await;
            match fetched {
                Ok(got) => {
                    if let Some(error) = &got.edge_error {
                        core.edge_failed(error);
                        cache.refresh_failed(ticket);
                    } else if got.age.is_zero() {
                        core.edge_answered();
                    }
                }
                Err(error) => {
                    if error.is_outage() {
                        core.edge_failed(&error);
                    } else {
                        tracing::warn!(customer_id, %error, "refreshing cached entitlements failed");
                    }
                    cache.refresh_failed(ticket);
                }
            }
        });
    }

    fn edge_failed(&self, error: &Error) {
        if self.edge_outage.failed() {
            tracing::warn!(
                %error,
                "the Kelviq edge host is failing: entitlement checks answer from stale sets \
                 or the fallback policy until it recovers"
            );
        }
    }

    fn edge_answered(&self) {
        if self.edge_outage.recovered() {
            tracing::info!("the Kelviq edge host answers again");
        }
    }

    /// Retires the customer's cached set: the next check asks the edge host.
    pub(crate) fn invalidate_entitlements(&self, customer_id: &str) {
        if let Some(cache) = self.cache() {
            cache.invalidate(customer_id);
        }
        #[cfg(feature = "redis")]
        if let Some(shared) = &self.shared_cache {
            shared.invalidate_in_background(Some(customer_id), self.runtime());
        }
    }

    /// Retires every cached set (a change whose customer is not known); each stays as a
    /// fallback while the edge host fails.
    pub(crate) fn invalidate_all_entitlements(&self) {
        if let Some(cache) = self.cache() {
            cache.invalidate_all();
        }
        #[cfg(feature = "redis")]
        if let Some(shared) = &self.shared_cache {
            shared.invalidate_in_background(None, self.runtime());
        }
    }
}

impl Core {
    /// Retires the cached sets a webhook event changes; see
    /// [`Client::apply_webhook`](crate::Client::apply_webhook).
    pub(crate) fn apply_webhook(&self, event: &crate::webhooks::WebhookEvent) -> bool {
        if !event.kind.changes_entitlements() || self.cache().is_none() {
            return false;
        }
        match event.customer_id() {
            Some(customer_id) => self.invalidate_entitlements(customer_id),
            None => self.invalidate_all_entitlements(),
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `non_empty` stands for the generated types' checks of the same parameters: were the
    /// document to constrain them further, this fails until the check follows.
    #[test]
    fn identifiers_are_checked_as_the_generated_types_check_them() {
        let long = "x".repeat(10_000);
        for value in ["", "a", " ", "cust 456&x", "ü", "%2F", long.as_str()] {
            let generated_customer = value.parse::<wire::GetEntitlementsCustomerId>().is_ok();
            let generated_feature = value.parse::<wire::GetEntitlementsFeatureId>().is_ok();
            let ours = non_empty("customer_id", value).is_ok();
            assert_eq!(ours, generated_customer, "customer_id {value:?}");
            assert_eq!(ours, generated_feature, "feature_id {value:?}");
        }
    }
}
