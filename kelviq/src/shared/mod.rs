//! The shared tier in Redis: what every instance of a service shares, the entitlement sets
//! ([`SharedCache`]) and the reports that could not reach Kelviq yet ([`SharedQueue`]).
//!
//! Like the cache and the queue below the core, these are data structures: they know the
//! model and Redis, never the client. A Redis that fails must never fail a call, so every
//! command here runs under a short time-out, and after a failure Redis is left alone for a
//! while (doubling while it keeps failing): the callers above fall back to memory, the edge
//! host and the local queue, and the outage is logged once when it starts and once when it
//! ends, and counted ([`RedisStats`]).
//!
//! Keys live under `<namespace>:{<tenant>}:`, where the tenant is a hash of the API key and
//! the environment: two services with different keys never read each other's entries, and
//! the key never appears in Redis. The braces are a Redis Cluster hash tag, so that every
//! key a script touches sits in one slot.

mod cache;
mod connection;
mod group;
mod queue;
mod script;

use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::time::Duration;

use sha2::Digest;

use connection::{Connection, Target};

pub(crate) use cache::{Invalidated, Seen, SharedCache};
pub(crate) use queue::{Adopted, Claimed, SharedQueue};

use crate::config::{Environment, RedisConfig};
use crate::error::Result;

/// Milliseconds since the Unix epoch: the clock every instance shares, for ages and leases.
fn unix_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// What the shared tier has done since the client was built.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RedisStats {
    /// Commands that failed or timed out, and calls that skipped Redis while it was failing.
    pub errors: u64,
    /// Entitlement checks answered from a set another instance (or this one) put in Redis,
    /// without a request to the edge host.
    pub cache_hits: u64,
    /// Reports kept in the local queue instead of Redis: Redis could not take them, or
    /// reports of the same customer and feature already waited locally (kept behind them,
    /// in order).
    pub kept_locally: u64,
    /// Reports this instance delivered from the shared queue after its lease on them had
    /// ended: Redis refused to settle them (another instance may deliver them again).
    pub late_acks: u64,
}

/// How a Redis command failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Failure {
    /// Not sent: Redis is known to be failing, or refused the connection.
    NotSent,
    /// It may have been applied: a time-out, a connection that broke, an error reply.
    Maybe,
}

/// Whether Redis refused `error`'s command before running any of it: out of memory, read
/// only, loading, busy with a script, not the owner of the slot.
fn refused_before_running(error: &redis::RedisError) -> bool {
    matches!(
        error.code(),
        Some(
            "OOM"
                | "READONLY"
                | "LOADING"
                | "BUSY"
                | "MASTERDOWN"
                | "NOREPLICAS"
                | "MOVED"
                | "ASK"
                | "TRYAGAIN"
                | "CLUSTERDOWN"
                | "NOPERM"
                | "NOAUTH"
        )
    )
}

/// The connection and the rules every command follows.
pub(crate) struct Redis {
    target: Target,
    manager: tokio::sync::OnceCell<Connection>,
    url: String,
    timeout: Duration,
    retry_after: Duration,
    prefix: String,
    /// Left alone until this many milliseconds of `started`.
    down_until_ms: AtomicU64,
    failures: AtomicU32,
    down: AtomicBool,
    started: std::time::Instant,
    errors: AtomicU64,
    pub(crate) cache_hits: AtomicU64,
    pub(crate) kept_locally: AtomicU64,
    pub(crate) late_acks: AtomicU64,
}

impl std::fmt::Debug for Redis {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Redis")
            .field("url", &self.url)
            .field("prefix", &self.prefix)
            .field("down", &self.down.load(Ordering::Relaxed))
            .finish()
    }
}

impl Redis {
    pub(crate) fn new(
        config: &RedisConfig,
        api_key: &str,
        environment: Environment,
    ) -> Result<Self> {
        let target = Target::new(config)?;
        let url = target.shown.clone();
        let mut tenant = sha2::Sha256::new();
        tenant.update(environment.to_string().as_bytes());
        tenant.update([0]);
        tenant.update(api_key.as_bytes());
        let tenant = hex::encode(&tenant.finalize()[..8]);
        Ok(Self {
            target,
            manager: tokio::sync::OnceCell::new(),
            url,
            timeout: config.timeout,
            retry_after: config.retry_after,
            prefix: format!("{}:{{{tenant}}}:", config.namespace),
            down_until_ms: AtomicU64::new(0),
            failures: AtomicU32::new(0),
            down: AtomicBool::new(false),
            started: std::time::Instant::now(),
            errors: AtomicU64::new(0),
            cache_hits: AtomicU64::new(0),
            kept_locally: AtomicU64::new(0),
            late_acks: AtomicU64::new(0),
        })
    }

    /// The full name of key `name`.
    pub(crate) fn key(&self, name: &str) -> String {
        format!("{}{name}", self.prefix)
    }

    /// The node to subscribe to invalidations on next (on a cluster, each node in turn).
    pub(crate) fn subscriber(&self) -> &redis::Client {
        self.target.subscriber()
    }

    pub(crate) fn stats(&self) -> RedisStats {
        RedisStats {
            errors: self.errors.load(Ordering::Relaxed),
            cache_hits: self.cache_hits.load(Ordering::Relaxed),
            kept_locally: self.kept_locally.load(Ordering::Relaxed),
            late_acks: self.late_acks.load(Ordering::Relaxed),
        }
    }

    fn now_ms(&self) -> u64 {
        self.started.elapsed().as_millis() as u64
    }

    /// Whether Redis is being left alone after failing.
    pub(crate) fn resting(&self) -> bool {
        self.now_ms() < self.down_until_ms.load(Ordering::Acquire)
    }

    /// The connection, made on first use on the runtime of that use. It reconnects on its own
    /// after a failure; each attempt is bounded by the time-out.
    async fn connection(&self) -> Connection {
        self.manager
            .get_or_init(|| async { self.target.connect(self.timeout) })
            .await
            .clone()
    }

    /// Runs one command (or script) under the time-out, unless Redis is resting; records the
    /// outcome. A command that met a dropped connection is sent once more, on the connection
    /// the manager makes in its place: every command here is safe to repeat (pushes and
    /// adoptions name their report, settling checks the owner, and a claim whose answer was
    /// lost only delays its reports by a lease).
    pub(crate) async fn run<T, F, Fut>(
        &self,
        what: &'static str,
        command: F,
    ) -> std::result::Result<T, Failure>
    where
        F: Fn(Connection) -> Fut,
        Fut: Future<Output = redis::RedisResult<T>>,
    {
        self.run_unless(what, command, true).await
    }

    /// Like [`run`](Self::run), but tried even while Redis rests: for settling a claimed
    /// report, where a command skipped leaves a `DELTA` that was never sent marked as
    /// sending, and so taken out as unconfirmed when its lease ends.
    pub(crate) async fn run_settling<T, F, Fut>(
        &self,
        what: &'static str,
        command: F,
    ) -> std::result::Result<T, Failure>
    where
        F: Fn(Connection) -> Fut,
        Fut: Future<Output = redis::RedisResult<T>>,
    {
        self.run_unless(what, command, false).await
    }

    async fn run_unless<T, F, Fut>(
        &self,
        what: &'static str,
        command: F,
        skip_while_resting: bool,
    ) -> std::result::Result<T, Failure>
    where
        F: Fn(Connection) -> Fut,
        Fut: Future<Output = redis::RedisResult<T>>,
    {
        if skip_while_resting && self.resting() {
            self.errors.fetch_add(1, Ordering::Relaxed);
            return Err(Failure::NotSent);
        }
        let connection = self.connection().await;
        // Whether an attempt that failed may have been carried out: once one may have, the
        // command's outcome is unknown, whatever the attempts after it met.
        let mut maybe = false;
        let attempts = async {
            match command(connection.clone()).await {
                Err(error) if error.is_connection_dropped() || error.is_io_error() => {
                    maybe = !error.is_connection_refusal();
                    command(connection).await
                }
                answered => answered,
            }
        };
        let outcome = tokio::time::timeout(self.timeout, attempts).await;
        match outcome {
            Ok(Ok(value)) => {
                self.answered();
                Ok(value)
            }
            Ok(Err(error)) => {
                // A cluster connection retries inside the command (following MOVED, after a
                // broken connection): an earlier attempt may have run whatever the last one
                // met, so nothing it reports proves the command was not carried out.
                let failure = if !maybe
                    && !self.target.is_cluster()
                    && (error.is_connection_refusal() || refused_before_running(&error))
                {
                    Failure::NotSent
                } else {
                    Failure::Maybe
                };
                self.failed(what, &error.to_string());
                Err(failure)
            }
            Err(_) => {
                self.failed(what, &format!("no answer within {:?}", self.timeout));
                Err(Failure::Maybe)
            }
        }
    }

    pub(crate) fn failed(&self, what: &str, error: &str) {
        self.errors.fetch_add(1, Ordering::Relaxed);
        let failures = self.failures.fetch_add(1, Ordering::AcqRel).min(6);
        let pause = (self.retry_after * (1 << failures)).min(Duration::from_secs(30));
        self.down_until_ms
            .store(self.now_ms() + pause.as_millis() as u64, Ordering::Release);
        tracing::debug!(what, error, ?pause, "a Redis command failed");
        if !self.down.swap(true, Ordering::AcqRel) {
            tracing::warn!(
                redis = %self.url,
                what,
                error,
                "Redis is failing: entitlement checks use memory and the edge host, and reports \
                 the local queue, until it answers"
            );
        }
    }

    fn answered(&self) {
        self.failures.store(0, Ordering::Release);
        if self.down.load(Ordering::Acquire) && self.down.swap(false, Ordering::AcqRel) {
            tracing::info!(redis = %self.url, "Redis answers again");
        }
    }
}
