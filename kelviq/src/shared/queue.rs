//! Reports in Redis, shared by every instance: kept there when Kelviq cannot be reached,
//! they survive the instance that queued them and are delivered once, by whichever instance
//! gets to them first.
//!
//! Each report has an id (a UUID the queuing instance gives it) and lives in:
//!
//! | key | type | holds |
//! |---|---|---|
//! | `queue:order` | sorted set | every report not yet settled, by arrival |
//! | `queue:body` | hash | id -> the report as JSON |
//! | `queue:lane` | hash | id -> its lane: reports of one customer and feature leave in order |
//! | `queue:claims` | sorted set | claimed ids, by when their lease ends |
//! | `queue:owner` | hash | id -> the instance that claimed it |
//! | `queue:sending` | set | claimed `DELTA` reports that may be on their way |
//! | `queue:settled` | sorted set | ids delivered or given up, for a day, so that a late copy is refused |
//!
//! The protocol, each step one Lua script, atomic in Redis:
//! - **claim** takes up to `n` reports, each the first of its lane with nothing claimed in
//!   it, under a lease. Expired leases are settled first: a report whose claimer vanished goes
//!   back to the others, except a `DELTA` marked *sending*, which may have been counted and is
//!   taken out as unconfirmed instead of sent twice.
//! - **sending** marks a claimed `DELTA` before it is sent, and renews the lease; refused if
//!   the lease was lost.
//! - **ack** settles a report the service took (or refused for good); **release** hands it
//!   back after a failure that proves it was not delivered.
//!
//! Every script checks the owner, so an instance that lost its lease cannot settle what
//! another has claimed since.

use std::sync::Arc;
use std::time::Duration;

use super::{unix_ms, Failure, Redis};
use crate::queue::Report;

/// A report claimed from Redis; settle it with [`SharedQueue::ack`] or
/// [`SharedQueue::release`].
#[derive(Debug, Clone)]
pub(crate) struct Claimed {
    pub(crate) id: String,
    pub(crate) report: Report,
}

/// What one claim brought.
#[derive(Debug, Default)]
pub(crate) struct Claim {
    pub(crate) claimed: Vec<Claimed>,
    /// `DELTA` reports whose claimer vanished while sending them: taken out, never resent.
    pub(crate) unconfirmed: Vec<Report>,
}

static PUSH: std::sync::LazyLock<redis::Script> = std::sync::LazyLock::new(|| {
    redis::Script::new(
        r"
        -- KEYS: order body lane settled seq; ARGV: id report lane
        if redis.call('HEXISTS', KEYS[2], ARGV[1]) == 1 or redis.call('ZSCORE', KEYS[4], ARGV[1]) then
            return redis.call('ZCARD', KEYS[1])
        end
        local seq = redis.call('INCR', KEYS[5])
        redis.call('ZADD', KEYS[1], seq, ARGV[1])
        redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
        redis.call('HSET', KEYS[3], ARGV[1], ARGV[3])
        return redis.call('ZCARD', KEYS[1])
        ",
    )
});

static CLAIM: std::sync::LazyLock<redis::Script> = std::sync::LazyLock::new(|| {
    redis::Script::new(
        r"
        -- KEYS: order body lane claims owner sending settled
        -- ARGV: owner now_ms lease_ms max scan
        local now = tonumber(ARGV[2])
        local lost = {}
        for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[4], '-inf', now, 'LIMIT', 0, 1000)) do
            redis.call('ZREM', KEYS[4], id)
            redis.call('HDEL', KEYS[5], id)
            if redis.call('SREM', KEYS[6], id) == 1 then
                table.insert(lost, redis.call('HGET', KEYS[2], id) or '')
                redis.call('ZREM', KEYS[1], id)
                redis.call('HDEL', KEYS[2], id)
                redis.call('HDEL', KEYS[3], id)
                redis.call('ZADD', KEYS[7], now, id)
            end
        end
        redis.call('ZREMRANGEBYSCORE', KEYS[7], '-inf', now - 86400000)
        local picked = {}
        local seen = {}
        local wanted = tonumber(ARGV[4])
        for _, id in ipairs(redis.call('ZRANGE', KEYS[1], 0, tonumber(ARGV[5]) - 1)) do
            if #picked >= 2 * wanted then break end
            local lane = redis.call('HGET', KEYS[3], id) or id
            if not seen[lane] then
                seen[lane] = true
                if not redis.call('ZSCORE', KEYS[4], id) then
                    redis.call('ZADD', KEYS[4], now + tonumber(ARGV[3]), id)
                    redis.call('HSET', KEYS[5], id, ARGV[1])
                    table.insert(picked, id)
                    table.insert(picked, redis.call('HGET', KEYS[2], id) or '')
                end
            end
        end
        return {picked, lost}
        ",
    )
});

static SENDING: std::sync::LazyLock<redis::Script> = std::sync::LazyLock::new(|| {
    redis::Script::new(
        r"
        -- KEYS: claims owner sending; ARGV: owner id now_ms lease_ms
        if redis.call('HGET', KEYS[2], ARGV[2]) ~= ARGV[1] then return 0 end
        local lease = redis.call('ZSCORE', KEYS[1], ARGV[2])
        if not lease or tonumber(lease) < tonumber(ARGV[3]) then return 0 end
        redis.call('SADD', KEYS[3], ARGV[2])
        redis.call('ZADD', KEYS[1], tonumber(ARGV[3]) + tonumber(ARGV[4]), ARGV[2])
        return 1
        ",
    )
});

static ACK: std::sync::LazyLock<redis::Script> = std::sync::LazyLock::new(|| {
    redis::Script::new(
        r"
        -- KEYS: order body lane claims owner sending settled; ARGV: owner id now_ms
        if redis.call('HGET', KEYS[5], ARGV[2]) ~= ARGV[1] then return 0 end
        redis.call('ZREM', KEYS[1], ARGV[2])
        redis.call('HDEL', KEYS[2], ARGV[2])
        redis.call('HDEL', KEYS[3], ARGV[2])
        redis.call('ZREM', KEYS[4], ARGV[2])
        redis.call('HDEL', KEYS[5], ARGV[2])
        redis.call('SREM', KEYS[6], ARGV[2])
        redis.call('ZADD', KEYS[7], ARGV[3], ARGV[2])
        return 1
        ",
    )
});

static RELEASE: std::sync::LazyLock<redis::Script> = std::sync::LazyLock::new(|| {
    redis::Script::new(
        r"
        -- KEYS: claims owner sending; ARGV: owner id
        if redis.call('HGET', KEYS[2], ARGV[2]) ~= ARGV[1] then return 0 end
        redis.call('ZREM', KEYS[1], ARGV[2])
        redis.call('HDEL', KEYS[2], ARGV[2])
        redis.call('SREM', KEYS[3], ARGV[2])
        return 1
        ",
    )
});

static ADOPT: std::sync::LazyLock<redis::Script> = std::sync::LazyLock::new(|| {
    redis::Script::new(
        r"
        -- KEYS: body settled; ARGV: id now_ms
        if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then return 0 end
        if redis.call('ZSCORE', KEYS[2], ARGV[1]) then return 0 end
        redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
        return 1
        ",
    )
});

/// The shared queue of one API key and environment.
#[derive(Debug)]
pub(crate) struct SharedQueue {
    redis: Arc<Redis>,
    lease: Duration,
    /// This instance, as claims name it.
    owner: String,
    order: String,
    body: String,
    lane: String,
    claims: String,
    owners: String,
    sending: String,
    settled: String,
    seq: String,
}

impl SharedQueue {
    pub(crate) fn new(redis: Arc<Redis>, lease: Duration) -> Self {
        Self {
            order: redis.key("queue:order"),
            body: redis.key("queue:body"),
            lane: redis.key("queue:lane"),
            claims: redis.key("queue:claims"),
            owners: redis.key("queue:owner"),
            sending: redis.key("queue:sending"),
            settled: redis.key("queue:settled"),
            seq: redis.key("queue:seq"),
            redis,
            lease,
            owner: uuid::Uuid::new_v4().simple().to_string(),
        }
    }

    pub(crate) fn redis(&self) -> &Redis {
        &self.redis
    }

    /// Keeps `report` under `id` and says how many wait. Pushing the same id twice keeps it
    /// once, and an id already settled is not kept again.
    pub(crate) async fn push(&self, id: &str, report: &Report) -> Result<usize, Failure> {
        let body = &serde_json::to_vec(report).expect("a report serialises to JSON");
        let lane = &report.lane_name(id);
        self.redis
            .run("queue a report", |mut connection| async move {
                PUSH.key(&self.order)
                    .key(&self.body)
                    .key(&self.lane)
                    .key(&self.settled)
                    .key(&self.seq)
                    .arg(id)
                    .arg(body)
                    .arg(lane)
                    .invoke_async::<usize>(&mut connection)
                    .await
            })
            .await
    }

    /// Claims up to `max` reports for this instance.
    pub(crate) async fn claim(&self, max: usize) -> Result<Claim, Failure> {
        let lease = self.lease.as_millis() as u64;
        let scan = (max * 16).clamp(64, 2048);
        let (picked, lost): (Vec<Vec<u8>>, Vec<Vec<u8>>) = self
            .redis
            .run("claim queued reports", |mut connection| async move {
                CLAIM
                    .key(&self.order)
                    .key(&self.body)
                    .key(&self.lane)
                    .key(&self.claims)
                    .key(&self.owners)
                    .key(&self.sending)
                    .key(&self.settled)
                    .arg(&self.owner)
                    .arg(unix_ms())
                    .arg(lease)
                    .arg(max)
                    .arg(scan)
                    .invoke_async(&mut connection)
                    .await
            })
            .await?;
        let mut claim = Claim::default();
        for pair in picked.chunks(2) {
            let [id, body] = pair else { continue };
            let id = String::from_utf8_lossy(id).into_owned();
            match serde_json::from_slice(body) {
                Ok(report) => claim.claimed.push(Claimed { id, report }),
                Err(error) => {
                    tracing::error!(id, %error, "a report in the shared queue could not be read; left there");
                    self.release(&id).await;
                }
            }
        }
        claim.unconfirmed = lost
            .iter()
            .filter_map(|body| serde_json::from_slice(body).ok())
            .collect();
        Ok(claim)
    }

    /// Marks a claimed report as on its way; false if it may not be sent (the lease was
    /// lost, or Redis did not answer).
    pub(crate) async fn mark_sending(&self, id: &str) -> bool {
        let lease = self.lease.as_millis() as u64;
        self.redis
            .run("mark a report as sending", |mut connection| async move {
                SENDING
                    .key(&self.claims)
                    .key(&self.owners)
                    .key(&self.sending)
                    .arg(&self.owner)
                    .arg(id)
                    .arg(unix_ms())
                    .arg(lease)
                    .invoke_async::<i64>(&mut connection)
                    .await
            })
            .await
            == Ok(1)
    }

    /// Settles a report: delivered, or given up on.
    pub(crate) async fn ack(&self, id: &str) {
        let acked = self
            .redis
            .run("settle a queued report", |mut connection| async move {
                ACK.key(&self.order)
                    .key(&self.body)
                    .key(&self.lane)
                    .key(&self.claims)
                    .key(&self.owners)
                    .key(&self.sending)
                    .key(&self.settled)
                    .arg(&self.owner)
                    .arg(id)
                    .arg(unix_ms())
                    .invoke_async::<i64>(&mut connection)
                    .await
            })
            .await;
        if acked == Ok(0) {
            tracing::warn!(
                id,
                "a report delivered from the shared queue had lost its lease; another instance \
                 may deliver it again (never a DELTA: those are marked before sending)"
            );
        }
    }

    /// Hands a claimed report back, for this instance or another to send later. Unanswered,
    /// the lease hands it back when it ends.
    pub(crate) async fn release(&self, id: &str) {
        let _ = self
            .redis
            .run("release a queued report", |mut connection| async move {
                RELEASE
                    .key(&self.claims)
                    .key(&self.owners)
                    .key(&self.sending)
                    .arg(&self.owner)
                    .arg(id)
                    .invoke_async::<i64>(&mut connection)
                    .await
            })
            .await;
    }

    /// For a local copy of a report whose push here had an unknown outcome: true when Redis
    /// holds no copy and will now refuse a late one (the local copy is to be sent), false
    /// when Redis has it or settled it (its copy is the one).
    pub(crate) async fn adopt(&self, id: &str) -> Result<bool, Failure> {
        self.redis
            .run("adopt a report", |mut connection| async move {
                ADOPT
                    .key(&self.body)
                    .key(&self.settled)
                    .arg(id)
                    .arg(unix_ms())
                    .invoke_async::<i64>(&mut connection)
                    .await
            })
            .await
            .map(|adopted| adopted == 1)
    }

    /// How many reports wait in Redis, claimed ones included.
    pub(crate) async fn len(&self) -> Result<usize, Failure> {
        self.redis
            .run("count queued reports", |mut connection| async move {
                redis::cmd("ZCARD")
                    .arg(&self.order)
                    .query_async::<usize>(&mut connection)
                    .await
            })
            .await
    }
}
