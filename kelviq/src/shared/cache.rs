//! Entitlement sets in Redis, under the same rules as in memory: a set younger than `ttl`
//! is fresh, one younger than `ttl + max_stale` may stand in while the edge host fails, and
//! an invalidated set is a fallback only.
//!
//! Each customer's entry is a hash: the set as the edge host answered it (`body`), when it
//! was fetched (`fetched`, Unix milliseconds), the generation of the whole tier it was
//! fetched in (`gen`), and an `epoch` that every invalidation of the customer moves on. A
//! fetch remembers the epoch and generation it saw before asking the edge host, and its set
//! is stored only if neither moved meanwhile: an invalidation on any instance during a
//! fetch on another cannot be undone by that fetch. Invalidations are also published, so
//! that every instance retires its in-memory copy at once.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::StreamExt;

use super::script::Script;
use super::{unix_ms, Redis};

/// What a fetch saw in Redis before asking the edge host; its set is stored only if the
/// customer's entry and the tier's generation are still as seen.
#[derive(Debug, Clone)]
pub(crate) struct Seen {
    epoch: String,
    generation: String,
}

/// A set found in Redis.
#[derive(Debug)]
pub(crate) struct SharedEntry {
    /// The edge host's answer, as it sent it.
    pub(crate) body: Vec<u8>,
    pub(crate) age: Duration,
    /// Neither invalidated nor of an older generation: fresh while younger than `ttl`.
    pub(crate) current: bool,
}

/// An invalidation another instance published.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Invalidated {
    Customer(String),
    All,
}

static READ: std::sync::LazyLock<Script> = std::sync::LazyLock::new(|| {
    Script::new(
        r"
        local e = redis.call('HMGET', KEYS[1], 'body', 'fetched', 'gen', 'epoch', 'invalidated')
        local g = redis.call('GET', KEYS[2])
        return {e[1], e[2], e[3], e[4], e[5], g}
        ",
    )
});

static WRITE: std::sync::LazyLock<Script> = std::sync::LazyLock::new(|| {
    Script::new(
        r"
        local epoch = redis.call('HGET', KEYS[1], 'epoch') or '0'
        local gen = redis.call('GET', KEYS[2]) or '0'
        if epoch ~= ARGV[3] or gen ~= ARGV[4] then return 0 end
        redis.call('HSET', KEYS[1], 'body', ARGV[1], 'fetched', ARGV[2], 'gen', gen,
                   'epoch', epoch, 'invalidated', '0')
        redis.call('PEXPIRE', KEYS[1], ARGV[5])
        return 1
        ",
    )
});

static INVALIDATE: std::sync::LazyLock<Script> = std::sync::LazyLock::new(|| {
    Script::new(
        r"
        redis.call('HINCRBY', KEYS[1], 'epoch', 1)
        redis.call('HSET', KEYS[1], 'invalidated', '1')
        redis.call('PEXPIRE', KEYS[1], ARGV[1])
        redis.call('PUBLISH', ARGV[2], ARGV[3])
        return 1
        ",
    )
});

static INVALIDATE_ALL: std::sync::LazyLock<Script> = std::sync::LazyLock::new(|| {
    Script::new(
        r"
        redis.call('INCR', KEYS[1])
        redis.call('PUBLISH', ARGV[1], ARGV[2])
        return 1
        ",
    )
});

/// The shared entitlement sets of one API key and environment.
#[derive(Debug)]
pub(crate) struct SharedCache {
    redis: Arc<Redis>,
    /// How long Redis keeps an entry: `ttl + max_stale` (past which its set is of no use),
    /// and never less than [`OUTLIVES_A_FETCH`].
    keep: Duration,
    /// This instance, so that it skips the invalidations it published itself.
    origin: String,
    generation_key: String,
    channel: String,
    /// Invalidations on their way to Redis, per customer: until they land, Redis may still
    /// hold the set they retire, so this instance does not read it there.
    pending: Mutex<HashMap<String, usize>>,
    pending_all: AtomicUsize,
}

/// The least time Redis keeps an entry, however short `ttl + max_stale`: longer than any
/// fetch lasts (a request's deadline is seconds). The entry carries the customer's epoch;
/// expired while a fetch that began before an invalidation was still out, it would read
/// back as the first epoch and let that fetch store the set the invalidation retired.
/// (Readers go by the set's age, not by the key's life, so a longer life changes no answer.)
const OUTLIVES_A_FETCH: Duration = Duration::from_secs(10 * 60);

impl SharedCache {
    pub(crate) fn new(redis: Arc<Redis>, keep: Duration) -> Self {
        let keep = keep.max(OUTLIVES_A_FETCH);
        Self {
            generation_key: redis.key("entitlements:generation"),
            channel: redis.key("entitlements:invalidations"),
            redis,
            keep,
            origin: uuid::Uuid::new_v4().simple().to_string(),
            pending: Mutex::default(),
            pending_all: AtomicUsize::new(0),
        }
    }

    fn pending(&self) -> std::sync::MutexGuard<'_, HashMap<String, usize>> {
        self.pending.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn is_pending(&self, customer_id: &str) -> bool {
        self.pending_all.load(Ordering::Acquire) > 0 || self.pending().contains_key(customer_id)
    }

    /// Retires `customer_id`'s set (everyone's for `None`) in Redis and on every instance,
    /// without waiting: from now until it lands, this instance does not read the retired set
    /// there. Without a runtime to run on, only this instance's memory was retired (by the
    /// caller) and Redis's copy ages out by its `ttl`.
    pub(crate) fn invalidate_in_background(
        self: &Arc<Self>,
        customer_id: Option<&str>,
        runtime: Option<tokio::runtime::Handle>,
    ) {
        let Some(runtime) = runtime else {
            tracing::debug!("no runtime to invalidate the shared entitlement cache on");
            return;
        };
        match customer_id {
            Some(customer_id) => *self.pending().entry(customer_id.to_owned()).or_default() += 1,
            None => {
                self.pending_all.fetch_add(1, Ordering::AcqRel);
            }
        }
        let weak = Arc::downgrade(self);
        let customer_id = customer_id.map(str::to_owned);
        runtime.spawn(async move {
            // Tried until Redis takes it: until then Redis may hold the retired set, which
            // this instance does not read meanwhile (it stays pending).
            let mut pause = Duration::from_millis(100);
            loop {
                let Some(shared) = weak.upgrade() else { return };
                let landed = match &customer_id {
                    Some(customer_id) => shared.invalidate(customer_id).await,
                    None => shared.invalidate_all().await,
                };
                if landed {
                    break;
                }
                drop(shared);
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_secs(30));
            }
            let Some(shared) = weak.upgrade() else { return };
            match &customer_id {
                Some(customer_id) => {
                    let mut pending = shared.pending();
                    if let Some(count) = pending.get_mut(customer_id) {
                        *count -= 1;
                        if *count == 0 {
                            pending.remove(customer_id);
                        }
                    }
                }
                None => {
                    shared.pending_all.fetch_sub(1, Ordering::AcqRel);
                }
            }
        });
    }

    fn entry_key(&self, customer_id: &str) -> String {
        self.redis.key(&format!("entitlements:{customer_id}"))
    }

    pub(crate) fn redis(&self) -> &Redis {
        &self.redis
    }

    /// The customer's entry, if Redis has one, and what a fetch must remember to store its
    /// set afterwards. `None` when Redis could not be read: the fetch then leaves it alone.
    pub(crate) async fn read(&self, customer_id: &str) -> Option<(Option<SharedEntry>, Seen)> {
        if self.is_pending(customer_id) {
            return None;
        }
        let key = &self.entry_key(customer_id);
        let fields: Vec<Option<Vec<u8>>> = self
            .redis
            .run("read an entitlement set", |mut connection| async move {
                READ.key(key)
                    .key(&self.generation_key)
                    .invoke_async(&mut connection)
                    .await
            })
            .await
            .ok()?;
        let text = |i: usize| {
            fields
                .get(i)
                .and_then(|f| f.as_deref())
                .and_then(|f| std::str::from_utf8(f).ok())
        };
        let seen = Seen {
            epoch: text(3).unwrap_or("0").to_owned(),
            generation: text(5).unwrap_or("0").to_owned(),
        };
        let entry = match (fields.first().cloned().flatten(), text(1)) {
            (Some(body), Some(fetched)) => {
                let fetched: u64 = fetched.parse().unwrap_or(0);
                Some(SharedEntry {
                    body,
                    age: Duration::from_millis(unix_ms().saturating_sub(fetched)),
                    current: text(4) != Some("1") && text(2).unwrap_or("0") == seen.generation,
                })
            }
            _ => None,
        };
        Some((entry, seen))
    }

    /// Stores a set the edge host just answered, unless the entry or the tier moved on since
    /// `seen`.
    pub(crate) async fn write(&self, customer_id: &str, body: &[u8], seen: Seen) {
        let seen = &seen;
        let key = &self.entry_key(customer_id);
        let keep = self.keep.as_millis() as u64;
        let _ = self
            .redis
            .run("store an entitlement set", |mut connection| async move {
                WRITE
                    .key(key)
                    .key(&self.generation_key)
                    .arg(body)
                    .arg(unix_ms())
                    .arg(&seen.epoch)
                    .arg(&seen.generation)
                    .arg(keep)
                    .invoke_async::<i64>(&mut connection)
                    .await
            })
            .await;
    }

    /// Retires the customer's set on every instance. Whether Redis took it.
    pub(crate) async fn invalidate(&self, customer_id: &str) -> bool {
        let key = &self.entry_key(customer_id);
        let keep = self.keep.as_millis() as u64;
        let message = &format!("{}|c:{customer_id}", self.origin);
        self.redis
            .run(
                "invalidate an entitlement set",
                |mut connection| async move {
                    INVALIDATE
                        .key(key)
                        .arg(keep)
                        .arg(&self.channel)
                        .arg(message)
                        .invoke_async::<i64>(&mut connection)
                        .await
                },
            )
            .await
            .is_ok()
    }

    /// Retires every set on every instance. Whether Redis took it.
    pub(crate) async fn invalidate_all(&self) -> bool {
        let message = &format!("{}|*", self.origin);
        self.redis
            .run(
                "invalidate every entitlement set",
                |mut connection| async move {
                    INVALIDATE_ALL
                        .key(&self.generation_key)
                        .arg(&self.channel)
                        .arg(message)
                        .invoke_async::<i64>(&mut connection)
                        .await
                },
            )
            .await
            .is_ok()
    }

    /// What a published message asks, unless this instance sent it.
    fn parse(&self, message: &[u8]) -> Option<Invalidated> {
        let message = std::str::from_utf8(message).ok()?;
        let (origin, what) = message.split_once('|')?;
        if origin == self.origin {
            return None;
        }
        match what {
            "*" => Some(Invalidated::All),
            _ => what
                .strip_prefix("c:")
                .map(|c| Invalidated::Customer(c.to_owned())),
        }
    }

    /// Hands `apply` every invalidation other instances publish, until `closed` ends. After
    /// a lost subscription it reconnects and hands over [`Invalidated::All`]: what was
    /// published meanwhile is unknown.
    pub(crate) async fn listen(
        &self,
        closed: impl std::future::Future<Output = ()>,
        apply: impl Fn(Invalidated),
    ) {
        tokio::pin!(closed);
        let mut pause = self.redis.retry_after;
        // Nothing published while unsubscribed is known: once subscribed (the first time
        // too: sets may have been read before it), retire everything.
        let mut missed = true;
        loop {
            let subscribe = async {
                let mut pubsub = self.redis.subscriber().get_async_pubsub().await?;
                pubsub.subscribe(&self.channel).await?;
                Ok::<_, redis::RedisError>(pubsub)
            };
            let pubsub = tokio::select! {
                () = &mut closed => return,
                subscribed = tokio::time::timeout(self.redis.timeout.max(Duration::from_secs(1)), subscribe) => subscribed,
            };
            match pubsub {
                Ok(Ok(pubsub)) => {
                    if std::mem::take(&mut missed) {
                        apply(Invalidated::All);
                    }
                    pause = self.redis.retry_after;
                    let mut messages = pubsub.into_on_message();
                    loop {
                        tokio::select! {
                            () = &mut closed => return,
                            message = messages.next() => match message {
                                Some(message) => {
                                    if let Some(invalidated) = self.parse(message.get_payload_bytes()) {
                                        apply(invalidated);
                                    }
                                }
                                None => break,
                            },
                        }
                    }
                    tracing::warn!("lost the subscription to entitlement invalidations in Redis; subscribing again");
                    missed = true;
                    continue;
                }
                Ok(Err(error)) => {
                    tracing::debug!(%error, "could not subscribe to entitlement invalidations")
                }
                Err(_) => tracing::debug!("subscribing to entitlement invalidations timed out"),
            }
            missed = true;
            tokio::select! {
                () = &mut closed => return,
                () = tokio::time::sleep(pause) => {}
            }
            pause = (pause * 2).min(Duration::from_secs(30));
        }
    }
}
