//! Reports in Redis, shared by every instance: kept there when Kelviq cannot be reached,
//! they survive the instance that queued them and are delivered once, by whichever instance
//! gets to them first.
//!
//! Each report has an id (a UUID the queuing instance gives it, after the name of its durable
//! file when it has one, so that the next process on the file finds it) and lives in:
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
//! | `queue:adopted` | sorted set | ids whose local copy was chosen over a push of unknown outcome, for a day |
//! | `queue:head`, `queue:tail` | hash | lane -> its first and last report |
//! | `queue:next` | hash | id -> the report after it in its lane |
//! | `queue:ready` | sorted set | lanes with nothing claimed, by their first report's arrival |
//! | `queue:lost` | hash | id -> a `DELTA` taken out as unconfirmed, until an instance logged it |
//!
//! The protocol, each step one Lua script, atomic in Redis:
//! - **claim** takes the first report of each of the `n` ready lanes that waited longest,
//!   under a lease (time is Redis's `TIME`, never an instance's clock). A claimed lane leaves
//!   the ready set, so one busy lane with many reports never hides the others. Expired leases
//!   are settled first: a report whose claimer vanished goes back to the others, except a
//!   `DELTA` marked *sending*, which may have been counted and is taken out as unconfirmed
//!   instead of sent twice (kept in `queue:lost` until a claimer has logged it).
//! - **sending** marks a claimed `DELTA` before it is sent, and renews the lease; refused if
//!   the lease was lost.
//! - **ack** settles a report the service took (or refused for good); **release** hands it
//!   back after a failure that proves it was not delivered.
//!
//! Every script checks the owner, so an instance that lost its lease cannot settle what
//! another has claimed since.

use std::sync::Arc;
use std::time::Duration;

use super::group::{Entry, Group, Joined};
use super::script::{Invocation, Script};
use super::{Failure, Redis};
use crate::queue::Report;

/// A report claimed from Redis; settle it with [`SharedQueue::ack`] or
/// [`SharedQueue::release`].
#[derive(Debug, Clone)]
pub(crate) struct Claimed {
    pub(crate) id: String,
    pub(crate) report: Report,
    /// When the claim was asked for: its lease ends no later than a lease after this.
    pub(crate) asked_at: std::time::Instant,
}

/// What one claim brought.
#[derive(Debug, Default)]
pub(crate) struct Claim {
    pub(crate) claimed: Vec<Claimed>,
    /// How many `DELTA` reports whose claimer vanished while sending them were taken out
    /// (never resent) and logged.
    pub(crate) unconfirmed: u64,
    /// Reports that could not be read (written by a newer SDK, or damaged): settled as
    /// dropped, and logged, so that their lanes go on.
    pub(crate) dropped: u64,
    /// Whether Redis handed over anything at all.
    pub(crate) picked_any: bool,
}

/// Removes a settled report, hands its lane on to the next report of the lane, and records
/// it as settled. Shared by the scripts that settle (Lua has no includes).
/// KEYS (1-based, the same in every script that uses it): order body lane claims owner
/// sending settled ready head tail next.
const SETTLE_LUA: &str = r"
local function settle(id, now)
    local lane = redis.call('HGET', KEYS[3], id) or id
    if redis.call('HGET', KEYS[9], lane) == id then
        local nxt = redis.call('HGET', KEYS[11], id)
        if nxt then
            redis.call('HSET', KEYS[9], lane, nxt)
            redis.call('ZADD', KEYS[8], redis.call('ZSCORE', KEYS[1], nxt) or now, lane)
        else
            redis.call('HDEL', KEYS[9], lane)
            redis.call('HDEL', KEYS[10], lane)
            redis.call('ZREM', KEYS[8], lane)
        end
    end
    redis.call('HDEL', KEYS[11], id)
    redis.call('ZREM', KEYS[1], id)
    redis.call('HDEL', KEYS[2], id)
    redis.call('HDEL', KEYS[3], id)
    redis.call('ZREM', KEYS[4], id)
    redis.call('HDEL', KEYS[5], id)
    redis.call('SREM', KEYS[6], id)
    redis.call('ZADD', KEYS[7], now, id)
end
local function unclaim(id)
    redis.call('ZREM', KEYS[4], id)
    redis.call('HDEL', KEYS[5], id)
    redis.call('SREM', KEYS[6], id)
    local lane = redis.call('HGET', KEYS[3], id) or id
    if redis.call('HGET', KEYS[9], lane) == id then
        redis.call('ZADD', KEYS[8], redis.call('ZSCORE', KEYS[1], id) or 0, lane)
    end
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
";

/// A script that may settle or unclaim reports.
fn settling(body: &str) -> Script {
    Script::new(&format!("{SETTLE_LUA}\n{body}"))
}

/// On every report queued while Kelviq is unreachable, alone: kept to the few commands it
/// needs (no clock, none of the settling functions).
static PUSH_ONE: std::sync::LazyLock<Script> = std::sync::LazyLock::new(|| {
    Script::new(
        r"
        -- KEYS: order body lane settled seq ready head tail next; ARGV: id report lane
        -- Kept once (a retried push names the same id), and never after it was settled.
        if redis.call('ZSCORE', KEYS[4], ARGV[1])
            or redis.call('HSETNX', KEYS[2], ARGV[1], ARGV[2]) == 0 then
            return redis.call('ZCARD', KEYS[1])
        end
        local seq = redis.call('INCR', KEYS[5])
        redis.call('ZADD', KEYS[1], seq, ARGV[1])
        redis.call('HSET', KEYS[3], ARGV[1], ARGV[3])
        local tail = redis.call('HGET', KEYS[8], ARGV[3])
        if tail then
            redis.call('HSET', KEYS[9], tail, ARGV[1])
        else
            redis.call('HSET', KEYS[7], ARGV[3], ARGV[1])
            redis.call('ZADD', KEYS[6], seq, ARGV[3])
        end
        redis.call('HSET', KEYS[8], ARGV[3], ARGV[1])
        return redis.call('ZCARD', KEYS[1])
        ",
    )
});

/// The reports of one group commit (see [`super::group`]), with the effect of [`PUSH_ONE`]
/// on each in turn and a fraction of its commands: one write a key for the group. Not for
/// a report alone, where building the group's tables costs more than it saves.
static PUSH_MANY: std::sync::LazyLock<Script> = std::sync::LazyLock::new(|| {
    Script::new(
        r"
        -- KEYS: order body lane settled seq ready head tail next; ARGV: (id report lane)...
        -- Kept once (a retried push names the same id), and never after it was settled.
        local fresh = {}
        for i = 1, #ARGV, 3 do
            if not redis.call('ZSCORE', KEYS[4], ARGV[i])
                and redis.call('HSETNX', KEYS[2], ARGV[i], ARGV[i + 1]) == 1 then
                fresh[#fresh + 1] = i
            end
        end
        if #fresh > 0 then
            -- The group's writes, one command a key: the same as pushing the reports one
            -- after another, at a fraction of the commands.
            local seq = redis.call('INCRBY', KEYS[5], #fresh) - #fresh
            local order, lanes, nexts, heads, ready, tails, last = {}, {}, {}, {}, {}, {}, {}
            for _, i in ipairs(fresh) do
                seq = seq + 1
                local id, lane = ARGV[i], ARGV[i + 2]
                order[#order + 1] = seq
                order[#order + 1] = id
                lanes[#lanes + 1] = id
                lanes[#lanes + 1] = lane
                local tail = last[lane]
                if tail == nil then
                    tail = redis.call('HGET', KEYS[8], lane)
                    tails[#tails + 1] = lane
                end
                if tail then
                    nexts[#nexts + 1] = tail
                    nexts[#nexts + 1] = id
                else
                    heads[#heads + 1] = lane
                    heads[#heads + 1] = id
                    ready[#ready + 1] = seq
                    ready[#ready + 1] = lane
                end
                last[lane] = id
            end
            redis.call('ZADD', KEYS[1], unpack(order))
            redis.call('HSET', KEYS[3], unpack(lanes))
            if #nexts > 0 then redis.call('HSET', KEYS[9], unpack(nexts)) end
            if #heads > 0 then
                redis.call('HSET', KEYS[7], unpack(heads))
                redis.call('ZADD', KEYS[6], unpack(ready))
            end
            local newtails = {}
            for _, lane in ipairs(tails) do
                newtails[#newtails + 1] = lane
                newtails[#newtails + 1] = last[lane]
            end
            redis.call('HSET', KEYS[8], unpack(newtails))
        end
        return redis.call('ZCARD', KEYS[1])
        ",
    )
});

static CLAIM: std::sync::LazyLock<Script> = std::sync::LazyLock::new(|| {
    settling(
        r"
        -- KEYS[12]: adopted, KEYS[13]: lost. ARGV: owner lease_ms max
        for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[4], '-inf', now, 'LIMIT', 0, 1000)) do
            if redis.call('SISMEMBER', KEYS[6], id) == 1 then
                -- A DELTA whose claimer vanished while sending it: kept among the lost
                -- until an instance has logged it.
                redis.call('HSET', KEYS[13], id, redis.call('HGET', KEYS[2], id) or '')
                settle(id, now)
            else
                unclaim(id)
            end
        end
        redis.call('ZREMRANGEBYSCORE', KEYS[7], '-inf', now - 86400000)
        redis.call('ZREMRANGEBYSCORE', KEYS[12], '-inf', now - 86400000)
        -- One report from each of the lanes waited on longest: the lanes with a report
        -- claimed are not among the ready ones, so no lane waits behind another.
        local picked = {}
        for _, lane in ipairs(redis.call('ZRANGE', KEYS[8], 0, tonumber(ARGV[3]) - 1)) do
            redis.call('ZREM', KEYS[8], lane)
            local id = redis.call('HGET', KEYS[9], lane)
            if id then
                redis.call('ZADD', KEYS[4], now + tonumber(ARGV[2]), id)
                redis.call('HSET', KEYS[5], id, ARGV[1])
                table.insert(picked, id)
                table.insert(picked, redis.call('HGET', KEYS[2], id) or '')
            end
        end
        return {picked, redis.call('HGETALL', KEYS[13])}
        ",
    )
});

static SENDING: std::sync::LazyLock<Script> = std::sync::LazyLock::new(|| {
    Script::new(
        r"
        -- KEYS: claims owner sending; ARGV: owner id lease_ms mark
        local t = redis.call('TIME') local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
        if redis.call('HGET', KEYS[2], ARGV[2]) ~= ARGV[1] then return 0 end
        local lease = redis.call('ZSCORE', KEYS[1], ARGV[2])
        if not lease or tonumber(lease) < now then return 0 end
        if ARGV[4] == '1' then redis.call('SADD', KEYS[3], ARGV[2]) end
        redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[2])
        return 1
        ",
    )
});

static ACK: std::sync::LazyLock<Script> = std::sync::LazyLock::new(|| {
    settling(
        r"
        -- ARGV: owner id. 2: settled already (an earlier attempt whose answer was lost)
        if redis.call('HGET', KEYS[5], ARGV[2]) ~= ARGV[1] then
            if redis.call('ZSCORE', KEYS[7], ARGV[2]) and redis.call('HEXISTS', KEYS[2], ARGV[2]) == 0 then return 2 end
            return 0
        end
        local lease = redis.call('ZSCORE', KEYS[4], ARGV[2])
        if not lease or tonumber(lease) < now then return 0 end
        settle(ARGV[2], now)
        return 1
        ",
    )
});

static RELEASE: std::sync::LazyLock<Script> = std::sync::LazyLock::new(|| {
    settling(
        r"
        -- ARGV: owner id
        if redis.call('HGET', KEYS[5], ARGV[2]) ~= ARGV[1] then return 0 end
        unclaim(ARGV[2])
        return 1
        ",
    )
});

static FORGET_LOST: std::sync::LazyLock<Script> = std::sync::LazyLock::new(|| {
    Script::new(
        r"
        -- KEYS: lost; ARGV: ids an instance has logged
        for _, id in ipairs(ARGV) do redis.call('HDEL', KEYS[1], id) end
        return 1
        ",
    )
});

static ADOPT: std::sync::LazyLock<Script> = std::sync::LazyLock::new(|| {
    Script::new(
        r"
        -- KEYS: body settled adopted; ARGV: id
        -- 1: adopted (now or before): the local copy is the one; 0: Redis has its copy;
        -- 2: Redis settled its copy (delivered by a claimer)
        if redis.call('ZSCORE', KEYS[3], ARGV[1]) then return 1 end
        if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then return 0 end
        if redis.call('ZSCORE', KEYS[2], ARGV[1]) then return 2 end
        local t = redis.call('TIME') local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
        redis.call('ZADD', KEYS[2], now, ARGV[1])
        redis.call('ZADD', KEYS[3], now, ARGV[1])
        return 1
        ",
    )
});

static UNSETTLED: std::sync::LazyLock<Script> = std::sync::LazyLock::new(|| {
    Script::new(
        r"
        -- KEYS: body; ARGV: ids. Those still waiting.
        local waiting = {}
        for _, id in ipairs(ARGV) do
            if redis.call('HEXISTS', KEYS[1], id) == 1 then table.insert(waiting, id) end
        end
        return waiting
        ",
    )
});

/// What became of a report pushed with an unknown outcome, as [`SharedQueue::adopt`] finds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Adopted {
    /// Redis has no copy and now refuses a late one (or this copy was adopted before): the
    /// local copy is the one to send.
    Here,
    /// Redis has its copy, waiting: it is the one to deliver.
    InRedis,
    /// Redis's copy was delivered (or given up on) by a claimer.
    Settled,
}

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
    adopted: String,
    ready: String,
    head: String,
    tail: String,
    next: String,
    lost: String,
    /// The push scripts' keys, encoded once.
    push_keys: Vec<Vec<u8>>,
    /// The pushes waiting for the one in flight.
    pushes: Arc<Group>,
    /// Settlements Redis did not take, carried out before the next claim.
    unsettled_here: std::sync::Mutex<Vec<(String, Settle)>>,
    /// When the eviction policy was last read, and whether it keeps the queue's keys.
    policy: std::sync::Mutex<Option<(std::time::Instant, bool)>>,
}

/// A settlement to carry out again.
#[derive(Debug, Clone, Copy)]
enum Settle {
    Ack,
    Release,
}

impl SharedQueue {
    pub(crate) fn new(redis: Arc<Redis>, lease: Duration) -> Self {
        let push_keys = [
            "order", "body", "lane", "settled", "seq", "ready", "head", "tail", "next",
        ]
        .iter()
        .map(|name| redis.key(&format!("queue:{name}")).into_bytes())
        .collect();
        Self {
            push_keys,
            pushes: Arc::new(Group::new(redis.timeout)),
            order: redis.key("queue:order"),
            body: redis.key("queue:body"),
            lane: redis.key("queue:lane"),
            claims: redis.key("queue:claims"),
            owners: redis.key("queue:owner"),
            sending: redis.key("queue:sending"),
            settled: redis.key("queue:settled"),
            adopted: redis.key("queue:adopted"),
            ready: redis.key("queue:ready"),
            head: redis.key("queue:head"),
            tail: redis.key("queue:tail"),
            next: redis.key("queue:next"),
            lost: redis.key("queue:lost"),
            redis,
            lease,
            unsettled_here: std::sync::Mutex::default(),
            policy: std::sync::Mutex::default(),
            owner: uuid::Uuid::new_v4().simple().to_string(),
        }
    }

    pub(crate) fn redis(&self) -> &Redis {
        &self.redis
    }

    /// `script` with the keys every settling script names, in [`SETTLE_LUA`]'s order.
    fn settling_keys<'a>(&self, script: &'a Script) -> Invocation<'a> {
        let mut invocation = script.prepare_invoke();
        for key in [
            &self.order,
            &self.body,
            &self.lane,
            &self.claims,
            &self.owners,
            &self.sending,
            &self.settled,
            &self.ready,
            &self.head,
            &self.tail,
            &self.next,
        ] {
            invocation.key(key);
        }
        invocation
    }

    /// Whether Redis keeps what the queue writes: under an `allkeys-*` eviction policy it
    /// may drop a queued report or the mark of a `DELTA` being sent, so no report is put
    /// there (an error is logged). The queue's keys never expire, so `noeviction` and the
    /// `volatile-*` policies keep them. Looked up again every 30 seconds; a Redis that does
    /// not say (`CONFIG` and `INFO` both refused) is trusted, with a warning.
    async fn keeps_what_it_is_given(&self) -> bool {
        {
            let checked = self.policy.lock().unwrap_or_else(|e| e.into_inner());
            if let Some((at, safe)) = *checked {
                if at.elapsed() < Duration::from_secs(30) {
                    return safe;
                }
            }
        }
        let policy = self
            .redis
            .run("read the eviction policy", |mut connection| async move {
                let config: redis::RedisResult<Vec<String>> = redis::cmd("CONFIG")
                    .arg("GET")
                    .arg("maxmemory-policy")
                    .query_async(&mut connection)
                    .await;
                if let Ok(pair) = config {
                    if let Some(policy) = pair.get(1) {
                        return Ok(Some(policy.clone()));
                    }
                }
                let info: String = redis::cmd("INFO")
                    .arg("memory")
                    .query_async(&mut connection)
                    .await?;
                Ok(info.lines().find_map(|line| {
                    line.strip_prefix("maxmemory_policy:")
                        .map(|p| p.trim().to_owned())
                }))
            })
            .await;
        let safe = match &policy {
            Ok(Some(policy)) => !policy.starts_with("allkeys"),
            Ok(None) => {
                tracing::warn!("Redis does not say its maxmemory-policy; the shared queue needs noeviction (or a volatile-* policy)");
                true
            }
            // Not known now: the push itself will meet the same failure.
            Err(_) => return true,
        };
        let mut checked = self.policy.lock().unwrap_or_else(|e| e.into_inner());
        if !safe && checked.is_none_or(|(_, was)| was) {
            tracing::error!(
                policy = policy.ok().flatten().unwrap_or_default(),
                "Redis may evict what the shared queue keeps (maxmemory-policy allkeys-*): reports \
                 are kept locally instead; set maxmemory-policy noeviction to share them"
            );
        }
        *checked = Some((std::time::Instant::now(), safe));
        safe
    }

    /// Keeps `report` under `id`, in `lane` (its [`Report::lane_name`]), and says how many
    /// wait. Pushing the same id twice keeps it once, and an id already settled is not kept
    /// again.
    pub(crate) async fn push(
        &self,
        id: &str,
        report: &Report,
        lane: String,
    ) -> Result<usize, Failure> {
        if !self.keeps_what_it_is_given().await {
            return Err(Failure::NotSent);
        }
        let entry = Entry {
            id: id.to_owned(),
            body: serde_json::to_vec(report).expect("a report serialises to JSON"),
            lane,
        };
        // Group commit: behind a push in flight, this one waits and goes with the next call.
        let mut led = match self.pushes.join(entry) {
            Joined::Lead(led) => led,
            Joined::Wait(pending) => match pending.wait().await {
                Joined::Lead(led) => led,
                Joined::Answered(outcome) => return outcome,
                Joined::Wait(_) => unreachable!("a pending push is answered or leads"),
            },
            Joined::Answered(outcome) => return outcome,
        };
        led.begin();
        let outcome = {
            let led = &led;
            self.redis
                .run("queue a report", |mut connection| async move {
                    // How many arguments, and their size, in one pass over the group.
                    let (count, bytes) = led.entries().fold((0, 0), |(n, bytes), entry| {
                        let size = entry.id.len() + entry.body.len() + entry.lane.len();
                        (n + 3, bytes + size)
                    });
                    let script = if count == 3 { &PUSH_ONE } else { &PUSH_MANY };
                    let mut invocation = script.with_keys(&self.push_keys, count, bytes);
                    for entry in led.entries() {
                        invocation.arg(&entry.id).arg(&entry.body).arg(&entry.lane);
                    }
                    invocation.invoke_async::<usize>(&mut connection).await
                })
                .await
        };
        led.end(outcome);
        outcome
    }

    /// Claims up to `max` reports for this instance: the first of each of the `max` lanes
    /// that have waited longest with nothing claimed. `DELTA` reports whose claimer vanished
    /// while sending them are logged here, then forgotten in Redis: an answer lost on the
    /// way leaves them there to be logged by the next claim.
    pub(crate) async fn claim(&self, max: usize) -> Result<Claim, Failure> {
        let lease = self.lease.as_millis() as u64;
        let asked_at = std::time::Instant::now();
        let (picked, lost): (Vec<Vec<u8>>, Vec<Vec<u8>>) = self
            .redis
            .run("claim queued reports", |mut connection| async move {
                self.settling_keys(&CLAIM)
                    .key(&self.adopted)
                    .key(&self.lost)
                    .arg(&self.owner)
                    .arg(lease)
                    .arg(max)
                    .invoke_async(&mut connection)
                    .await
            })
            .await?;
        let mut claim = Claim {
            picked_any: !picked.is_empty(),
            ..Claim::default()
        };
        for pair in picked.chunks(2) {
            let [id, body] = pair else { continue };
            let id = String::from_utf8_lossy(id).into_owned();
            match serde_json::from_slice(body) {
                Ok(report) => claim.claimed.push(Claimed {
                    id,
                    report,
                    asked_at,
                }),
                Err(error) => {
                    // Left there, it would head its lane for ever, and every claim would
                    // bring it back.
                    tracing::error!(
                        id,
                        %error,
                        body = %String::from_utf8_lossy(body),
                        "a report in the shared queue could not be read (written by a newer \
                         SDK, or damaged); dropped so that the reports behind it go on"
                    );
                    self.ack(&id).await;
                    claim.dropped += 1;
                }
            }
        }
        let mut logged = Vec::new();
        for pair in lost.chunks(2) {
            let [id, body] = pair else { continue };
            let id = String::from_utf8_lossy(id).into_owned();
            let report = serde_json::from_slice::<Report>(body).ok();
            tracing::error!(
                id,
                ?report,
                "a DELTA usage report in the shared queue was being sent by an instance that \
                 vanished; it may have been counted, so it is taken out rather than risk \
                 counting it twice"
            );
            claim.unconfirmed += 1;
            logged.push(id);
        }
        if !logged.is_empty() {
            // Unanswered, they are logged again by a later claim: twice rather than never.
            let _ = self
                .redis
                .run("forget logged reports", |mut connection| {
                    let logged = &logged;
                    async move {
                        FORGET_LOST
                            .key(&self.lost)
                            .arg(logged)
                            .invoke_async::<i64>(&mut connection)
                            .await
                    }
                })
                .await;
        }
        Ok(claim)
    }

    /// Marks a claimed report as on its way; false if it may not be sent (the lease was
    /// lost, or Redis did not answer).
    pub(crate) async fn mark_sending(&self, id: &str) -> Result<bool, Failure> {
        self.renew_lease(id, true).await
    }

    /// Renews the lease on a claimed report (and marks it as on its way when `mark`): true
    /// while this instance still holds it.
    pub(crate) async fn renew_lease(&self, id: &str, mark: bool) -> Result<bool, Failure> {
        let lease = self.lease.as_millis() as u64;
        self.redis
            .run("renew the lease of a report", |mut connection| async move {
                SENDING
                    .key(&self.claims)
                    .key(&self.owners)
                    .key(&self.sending)
                    .arg(&self.owner)
                    .arg(id)
                    .arg(lease)
                    .arg(if mark { "1" } else { "0" })
                    .invoke_async::<i64>(&mut connection)
                    .await
            })
            .await
            .map(|held| held == 1)
    }

    /// The lease of a claimed report.
    pub(crate) fn lease(&self) -> Duration {
        self.lease
    }

    /// Which of `ids` still wait in Redis (neither delivered nor given up on).
    pub(crate) async fn unsettled(&self, ids: &[String]) -> Result<Vec<String>, Failure> {
        self.redis
            .run("look up queued reports", |mut connection| async move {
                UNSETTLED
                    .key(&self.body)
                    .arg(ids)
                    .invoke_async::<Vec<String>>(&mut connection)
                    .await
            })
            .await
    }

    /// Settles a report: delivered, or given up on. Unanswered, it is tried again before
    /// the next claim.
    pub(crate) async fn ack(&self, id: &str) {
        if !self.ack_once(id).await {
            self.retry_later(id, Settle::Ack);
        }
    }

    /// One attempt at [`ack`](Self::ack); whether Redis answered.
    async fn ack_once(&self, id: &str) -> bool {
        let acked = self
            .redis
            .run_settling("settle a queued report", |mut connection| async move {
                self.settling_keys(&ACK)
                    .arg(&self.owner)
                    .arg(id)
                    .invoke_async::<i64>(&mut connection)
                    .await
            })
            .await;
        if acked == Ok(0) {
            self.redis
                .late_acks
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            tracing::error!(
                id,
                "a report delivered from the shared queue had lost its lease, so its settlement \
                 was refused; another instance may deliver it again (never a DELTA: a DELTA \
                 marked as sending is taken out as unconfirmed when its lease ends)"
            );
        }
        acked.is_ok()
    }

    /// Hands a claimed report back, for this instance or another to send later. Unanswered,
    /// it is tried again before the next claim (and the lease hands it back when it ends).
    pub(crate) async fn release(&self, id: &str) {
        if !self.release_once(id).await {
            self.retry_later(id, Settle::Release);
        }
    }

    /// One attempt at [`release`](Self::release); whether Redis answered.
    async fn release_once(&self, id: &str) -> bool {
        self.redis
            .run_settling("release a queued report", |mut connection| async move {
                self.settling_keys(&RELEASE)
                    .arg(&self.owner)
                    .arg(id)
                    .invoke_async::<i64>(&mut connection)
                    .await
            })
            .await
            .is_ok()
    }

    /// Remembers a settlement Redis did not take, to be carried out before the next claim:
    /// a release skipped while Redis rested would otherwise leave a `DELTA` marked as
    /// sending, taken out as unconfirmed when its lease ends although it was never sent.
    fn retry_later(&self, id: &str, settle: Settle) {
        let mut pending = self
            .unsettled_here
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if !pending.iter().any(|(pending, _)| pending == id) {
            pending.push((id.to_owned(), settle));
        }
    }

    /// Carries out the settlements Redis did not take earlier, all at once (so one time-out
    /// bounds them); those it still does not take wait for the next pass. Cancel-safe: a
    /// settlement leaves the list only once Redis has answered it (each is safe to repeat).
    pub(crate) async fn settle_pending(&self) {
        let pending = self
            .unsettled_here
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        if pending.is_empty() {
            return;
        }
        let attempts = pending.iter().map(|(id, settle)| async move {
            let answered = match settle {
                Settle::Ack => self.ack_once(id).await,
                Settle::Release => self.release_once(id).await,
            };
            answered.then_some(id)
        });
        let answered: Vec<&String> = futures_util::future::join_all(attempts)
            .await
            .into_iter()
            .flatten()
            .collect();
        self.unsettled_here
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|(id, _)| !answered.contains(&id));
    }

    /// The reports waiting in Redis whose ids start with `prefix` (those an earlier process
    /// on the same durable file put there), each with its lane. Read page by page, each page
    /// bounded by the command time-out; any page unanswered fails the whole look-up.
    pub(crate) async fn waiting_with_prefix(
        &self,
        prefix: &str,
    ) -> Result<Vec<(String, String)>, Failure> {
        let pattern = format!("{prefix}*");
        let mut found = Vec::new();
        let mut cursor = 0u64;
        loop {
            let (next, page): (u64, Vec<(String, String)>) = self
                .redis
                .run(
                    "find the reports an earlier process left",
                    |mut connection| {
                        let pattern = &pattern;
                        async move {
                            redis::cmd("HSCAN")
                                .arg(&self.lane)
                                .arg(cursor)
                                .arg("MATCH")
                                .arg(pattern)
                                .arg("COUNT")
                                .arg(1000)
                                .query_async(&mut connection)
                                .await
                        }
                    },
                )
                .await?;
            found.extend(page);
            if next == 0 {
                return Ok(found);
            }
            cursor = next;
        }
    }

    /// Whether reports of `lane` wait in Redis, whoever put them there.
    pub(crate) async fn lane_waiting(&self, lane: &str) -> Result<bool, Failure> {
        self.redis
            .run("look up a lane", |mut connection| async move {
                redis::cmd("HEXISTS")
                    .arg(&self.head)
                    .arg(lane)
                    .query_async::<bool>(&mut connection)
                    .await
            })
            .await
    }

    /// For a local copy of a report whose push here had an unknown outcome: true when Redis
    /// holds no copy and will now refuse a late one (the local copy is to be sent), false
    /// when Redis has it or settled it (its copy is the one).
    pub(crate) async fn adopt(&self, id: &str) -> Result<Adopted, Failure> {
        self.redis
            .run("adopt a report", |mut connection| async move {
                ADOPT
                    .key(&self.body)
                    .key(&self.settled)
                    .key(&self.adopted)
                    .arg(id)
                    .invoke_async::<i64>(&mut connection)
                    .await
            })
            .await
            .map(|adopted| match adopted {
                1 => Adopted::Here,
                0 => Adopted::InRedis,
                _ => Adopted::Settled,
            })
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
