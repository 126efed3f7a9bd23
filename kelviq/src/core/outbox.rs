//! Where reports that could not reach Kelviq wait, and how one is taken out, sent and
//! settled: the in-memory queue, the file behind it (feature `durable-queue`), and the
//! shared queue in Redis (feature `redis`).
//!
//! | configured | a report kept | survives its process | delivered by |
//! |---|---|---|---|
//! | nothing | in memory | no | this client |
//! | `durable_at(path)` | in the file, then in memory | yes | this client, or the next one on the path |
//! | Redis | in Redis | yes | whichever instance claims it first |
//! | Redis, failing | as without it (in the file when there is one) | as without it | this client |
//!
//! A push to Redis that failed in a way that leaves its outcome unknown (a time-out, a broken
//! connection) may have landed: the local copy remembers its Redis id, and before it is sent
//! the local copy *adopts* it in Redis (recording it as settled there, so that a late copy
//! is refused) unless Redis already has it, in which case Redis's copy is the one delivered.
//! Until Redis answers, such a `DELTA` waits rather than risk being counted twice: it is
//! parked for the pass, so that only its own lane waits behind it.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::Notify;

use super::Outage;
use crate::config::QueueConfig;
#[cfg(feature = "durable-queue")]
use crate::error::Error;
use crate::error::Result;
use crate::model::FlushReport;
use crate::queue::{Report, ReportQueue, Taken};
#[cfg(feature = "redis")]
use crate::shared::{Adopted, Claimed, Failure, SharedQueue};
#[cfg(feature = "durable-queue")]
use crate::store::{ReportStore, Restored};

/// The queues and the state of the sender that drains them.
pub(crate) struct Outbox {
    pub(super) queue: Arc<ReportQueue>,
    /// The file that keeps the queue's reports across restarts.
    #[cfg(feature = "durable-queue")]
    store: Option<ReportStore>,
    /// The queue every instance shares.
    #[cfg(feature = "redis")]
    shared: Option<SharedQueue>,
    pub(super) config: QueueConfig,
    /// Wakes the background sender: a report was queued, or the client is gone.
    pub(super) wake: Arc<Notify>,
    /// A report taken out by some pass was settled.
    pub(super) sender: Mutex<Option<tokio::task::JoinHandle<()>>>,
    /// The API host could not be reached: new reports skip the network until the sender
    /// gets through.
    pub(super) offline: Outage,
    /// What every pass has done, so that a flush can say what left the queue while it ran.
    pub(super) totals: Totals,
    /// Per lane, the reports this instance put in the shared queue that Redis has not yet
    /// settled: while a lane has some, its new reports join them there (or wait behind them
    /// here), so that a lane stays one ordered sequence wherever its reports wait.
    #[cfg(feature = "redis")]
    shared_lanes: Mutex<LanesInRedis>,
    /// The lanes the durable file said an earlier process on it may have left reports of in
    /// Redis; `None` when it cannot say (no record in the file: any lane may have some).
    /// Until Redis has answered which, these lanes wait.
    #[cfg(feature = "redis")]
    inherited_lanes: Option<std::collections::HashSet<String>>,
    /// Lanes restored from the file that Redis has not yet said it holds nothing of: an
    /// earlier process on this file may have left reports of them there, so while Redis
    /// does not answer they wait (other lanes go on from the local queue).
    #[cfg(feature = "redis")]
    unverified_lanes: Mutex<std::collections::HashSet<String>>,
    /// How this instance names the reports it puts in Redis: the durable file's name for
    /// its processes (so that the next process on the file can find them), then a new id.
    #[cfg(feature = "redis")]
    id_prefix: String,
    /// Where this process's report ids start: random, so that no two processes' ids meet;
    /// each report takes the next (a counter, not a system call for fresh randomness on
    /// every report).
    #[cfg(feature = "redis")]
    id_base: u128,
    #[cfg(feature = "redis")]
    id_count: std::sync::atomic::AtomicU64,
    /// Set once Redis has said which reports an earlier process on the durable file left
    /// there (they join [`shared_lanes`](Self::shared_lanes), so that this process's reports
    /// of their lanes wait behind them). Until then, no usage report is sent ahead of the
    /// queue: any lane may have some there.
    #[cfg(feature = "redis")]
    predecessor: tokio::sync::OnceCell<()>,
    /// The file is an earlier SDK's, whose processes gave the reports they put in Redis bare
    /// ids: every bare id found counts as the predecessor's (other instances' of that SDK
    /// too, which only makes their lanes wait longer, once).
    #[cfg(feature = "redis")]
    unnamed_predecessor: bool,
    /// How many reports Redis last said wait there: the count while it does not answer
    /// (none would end a shutdown as if all were delivered).
    #[cfg(feature = "redis")]
    shared_waiting: AtomicUsize,
    /// Reports claimed from Redis whose sends, by any pass of this instance, have not ended:
    /// while there are some, a pass that finds their lanes busy waits for them rather than
    /// call the reports behind them left.
    pub(super) shared_sending: Arc<AtomicUsize>,
}

/// Per lane, this instance's reports in Redis. Looked up two or three times on every
/// report kept there: hashed with foldhash (randomly seeded per map), as the entitlement
/// cache is, rather than SipHash.
#[cfg(feature = "redis")]
type LanesInRedis = std::collections::HashMap<String, InRedis, foldhash::fast::RandomState>;

/// One lane's reports in Redis, as this instance knows them.
#[cfg(feature = "redis")]
#[derive(Debug, Default)]
struct InRedis {
    /// The reports of the lane this instance (or its predecessor on the durable file) put
    /// there that Redis has not said are settled.
    ids: Vec<String>,
    /// Pushes of the lane under way: until they end, the lane is not forgotten.
    pushing: usize,
    /// The durable file records the lane (always, without a file).
    noted: bool,
}

/// A push to Redis under way, counted in its lane until it ends. Dropped before it says how
/// the push ended (its caller was cancelled), it counts the report as maybe there.
#[cfg(feature = "redis")]
struct Pushing<'a> {
    outbox: &'a Outbox,
    lane: String,
    id: String,
    ended: bool,
}

#[cfg(feature = "redis")]
impl Pushing<'_> {
    /// The push ended: `landed` says whether Redis may hold the report now.
    fn end(mut self, landed: bool) {
        self.ended = true;
        self.outbox.end_push(&self.lane, &self.id, landed);
    }
}

#[cfg(feature = "redis")]
impl Drop for Pushing<'_> {
    fn drop(&mut self) {
        if !self.ended {
            self.outbox.end_push(&self.lane, &self.id, true);
        }
    }
}

/// Running counts of what left the queue.
#[derive(Debug, Default)]
pub(crate) struct Totals {
    pub(crate) delivered: AtomicUsize,
    pub(crate) dropped: AtomicUsize,
    pub(crate) unconfirmed: AtomicUsize,
}

impl Outbox {
    /// The running counts: delivered, dropped, unconfirmed (those whose send was dropped
    /// midway, as a runtime shutting down does, included).
    pub(crate) fn snapshot(&self) -> [usize; 3] {
        [
            self.totals.delivered.load(Ordering::Relaxed),
            self.totals.dropped.load(Ordering::Relaxed),
            self.totals.unconfirmed.load(Ordering::Relaxed)
                + self.queue.dropped_unconfirmed.load(Ordering::Relaxed),
        ]
    }

    /// What left the queue since `before`, and what `remaining` is left.
    pub(crate) fn since(&self, before: [usize; 3], remaining: usize) -> FlushReport {
        let [delivered, dropped, unconfirmed] = self.snapshot();
        FlushReport {
            delivered: delivered - before[0],
            dropped: dropped - before[1],
            unconfirmed: unconfirmed - before[2],
            remaining,
        }
    }
}

impl std::fmt::Debug for Outbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut debug = f.debug_struct("Outbox");
        debug.field("queue", &self.queue);
        #[cfg(feature = "durable-queue")]
        debug.field("store", &self.store);
        #[cfg(feature = "redis")]
        debug.field("shared", &self.shared.is_some());
        debug.field("offline", &self.offline.is_down()).finish()
    }
}

/// A report out to be sent, and the queue it came from.
#[derive(Debug)]
pub(crate) enum Job {
    Local(Taken),
    #[cfg(feature = "redis")]
    Shared(Claimed),
}

impl Job {
    /// Whether it was claimed from the shared queue in Redis.
    pub(crate) fn is_shared(&self) -> bool {
        match self {
            Job::Local(_) => false,
            #[cfg(feature = "redis")]
            Job::Shared(_) => true,
        }
    }

    /// Records whether a local report may be on its way, for when it is dropped mid-send.
    /// (A shared one is marked as sending in Redis instead.)
    pub(crate) fn set_sending(&self, sending: bool) {
        match self {
            Job::Local(taken) => taken.set_sending(sending),
            #[cfg(feature = "redis")]
            Job::Shared(_) => {}
        }
    }

    pub(crate) fn report(&self) -> &Report {
        match self {
            Job::Local(taken) => &taken.report,
            #[cfg(feature = "redis")]
            Job::Shared(claimed) => &claimed.report,
        }
    }
}

/// Whether a job may be sent now.
#[derive(Debug, PartialEq, Eq)]
#[cfg_attr(
    not(all(feature = "redis", feature = "durable-queue")),
    allow(dead_code)
)]
pub(crate) enum Go {
    Send,
    /// Not now: it stays where it is.
    Wait,
    /// Not this pass, for a reason of its own: the rest of the queue goes on without it.
    Park,
    /// Its copy in the shared queue is the one to deliver: the local one goes.
    HandedOver,
}

/// What a claim from the shared queue brought.
#[derive(Debug, Default)]
pub(crate) struct Claim {
    pub(crate) jobs: Vec<Job>,
    /// How many `DELTA` reports whose claimer vanished while sending them were taken out
    /// (and logged).
    pub(crate) unconfirmed: u64,
    /// How many unreadable reports were taken out (and logged).
    pub(crate) dropped: u64,
    /// Nothing claimable now (or Redis failed): no more claims this pass.
    pub(crate) exhausted: bool,
}

impl Outbox {
    /// The queues, the local one holding what its file kept, if it has one.
    pub(crate) fn new(
        config: QueueConfig,
        #[cfg(feature = "redis")] shared: Option<SharedQueue>,
    ) -> Result<Self> {
        let totals = Totals::default();
        #[cfg(feature = "durable-queue")]
        let (store, queue) = match &config.path {
            Some(path) => {
                let (store, restored) = ReportStore::open(path)?;
                let (queue, unconfirmed) = restore(&store, restored, config.capacity);
                // Counted from the start: the client's totals say what became of them.
                totals.unconfirmed.store(unconfirmed, Ordering::Relaxed);
                (Some(store), queue)
            }
            None => (None, ReportQueue::new(config.capacity, 0)),
        };
        #[cfg(not(feature = "durable-queue"))]
        let queue = ReportQueue::new(config.capacity, 0);
        // What an earlier process on the file may have left in Redis: the lanes the file
        // recorded, or (a file from before it recorded them) any lane.
        #[cfg(all(feature = "redis", feature = "durable-queue"))]
        let inherited_lanes = store.as_ref().and_then(|s| s.lanes_in_redis().cloned());
        #[cfg(all(feature = "redis", not(feature = "durable-queue")))]
        let inherited_lanes = Some(std::collections::HashSet::new());
        #[cfg(feature = "redis")]
        let unverified = if shared.is_some() {
            let mut lanes = queue.usage_lanes();
            if let Some(inherited) = &inherited_lanes {
                lanes.retain(|lane| inherited.contains(lane));
            }
            lanes
        } else {
            Default::default()
        };
        // With no earlier process on the file (or no file, or no Redis), nothing to find.
        #[cfg(feature = "redis")]
        let (id_prefix, predecessor, unnamed_predecessor) = {
            #[cfg(feature = "durable-queue")]
            let (prefix, inherited, unnamed) =
                store
                    .as_ref()
                    .map_or((String::new(), false, false), |store| {
                        use crate::store::Inherited;
                        let inherited = store.inherited();
                        (
                            format!("{}.", store.instance()),
                            inherited != Inherited::No,
                            inherited == Inherited::Unnamed,
                        )
                    });
            #[cfg(not(feature = "durable-queue"))]
            let (prefix, inherited, unnamed) = (String::new(), false, false);
            let predecessor = if inherited && shared.is_some() {
                tokio::sync::OnceCell::new()
            } else {
                tokio::sync::OnceCell::new_with(Some(()))
            };
            (prefix, predecessor, unnamed)
        };
        Ok(Self {
            queue: Arc::new(queue),
            #[cfg(feature = "durable-queue")]
            store,
            #[cfg(feature = "redis")]
            shared,
            config,
            wake: Arc::default(),
            sender: Mutex::default(),
            offline: Outage::default(),
            totals,
            #[cfg(feature = "redis")]
            shared_lanes: Mutex::default(),
            #[cfg(feature = "redis")]
            inherited_lanes,
            #[cfg(feature = "redis")]
            unverified_lanes: Mutex::new(unverified),
            #[cfg(feature = "redis")]
            id_prefix,
            #[cfg(feature = "redis")]
            id_base: uuid::Uuid::new_v4().as_u128(),
            #[cfg(feature = "redis")]
            id_count: std::sync::atomic::AtomicU64::new(0),
            #[cfg(feature = "redis")]
            predecessor,
            #[cfg(feature = "redis")]
            unnamed_predecessor,
            #[cfg(feature = "redis")]
            shared_waiting: AtomicUsize::new(0),
            shared_sending: Arc::default(),
        })
    }

    /// Whether reports wait in a shared queue that other instances fill too.
    pub(crate) fn is_shared(&self) -> bool {
        #[cfg(feature = "redis")]
        if self.shared.is_some() {
            return true;
        }
        false
    }

    /// Keeps a report for later and says how many wait: in Redis when it takes it, else
    /// locally (in the file first when there is one).
    pub(crate) async fn keep(&self, report: Report) -> Result<usize> {
        // A lane with reports waiting here keeps the new one here too, behind them.
        if self.queue.has_lane(&report) {
            #[cfg(feature = "redis")]
            if let Some(shared) = &self.shared {
                shared
                    .redis()
                    .kept_locally
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
            return self.keep_locally(report, None).await;
        }
        #[cfg(feature = "redis")]
        if let Some(shared) = &self.shared {
            let n = self.id_count.fetch_add(1, Ordering::Relaxed);
            // 32 hex digits, as a UUID's simple form: ids stay the shape they always were.
            let id = format!(
                "{}{:032x}",
                self.id_prefix,
                self.id_base.wrapping_add(n.into())
            );
            let lane = report.lane_name(&id);
            // A usage report's lane is counted (and, with a file, recorded in it) before the
            // push: a restart, or a report sent directly meanwhile, then knows to wait.
            let pushing = match &report {
                Report::Usage(_) => match self.begin_push(lane.clone(), &id).await {
                    Some(pushing) => Some(pushing),
                    None => {
                        shared
                            .redis()
                            .kept_locally
                            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        return self.keep_locally(report, None).await;
                    }
                },
                Report::Event(_) => None,
            };
            let pushed = shared.push(&id, &report, lane).await;
            if let Some(pushing) = pushing {
                pushing.end(!matches!(pushed, Err(Failure::NotSent)));
            }
            let unknown = match pushed {
                Ok(waiting) => {
                    self.shared_waiting.store(waiting, Ordering::Relaxed);
                    return Ok(waiting + self.queue.len());
                }
                Err(failure) => failure == Failure::Maybe,
            };
            shared
                .redis()
                .kept_locally
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            return self.keep_locally(report, unknown.then_some(id)).await;
        }
        self.keep_locally(report, None).await
    }

    async fn keep_locally(&self, report: Report, shared_id: Option<String>) -> Result<usize> {
        let id = self.queue.next_id();
        #[cfg(feature = "durable-queue")]
        if let Some(store) = &self.store {
            if !self.queue.has_room() {
                return Err(self.queue.full());
            }
            let (done, wait) = tokio::sync::oneshot::channel();
            let queue = self.queue.clone();
            let kept = report.clone();
            let kept_id = shared_id.clone();
            // The writer puts it in the queue in the step that reports the commit, so that a
            // caller who stops waiting cannot leave it on disk and out of the queue.
            store.append(
                id,
                &report,
                shared_id.as_deref(),
                Box::new(move |written| {
                    let _ = done.send(written.map(|()| queue.push_kept(id, kept, kept_id)));
                }),
            );
            return wait
                .await
                .unwrap_or_else(|_| Err(Error::storage("the store's writer stopped")));
        }
        self.queue.push(id, report, shared_id)
    }

    #[cfg(feature = "redis")]
    fn unverified(&self) -> std::sync::MutexGuard<'_, std::collections::HashSet<String>> {
        self.unverified_lanes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }

    #[cfg(feature = "redis")]
    fn lanes_in_redis(&self) -> std::sync::MutexGuard<'_, LanesInRedis> {
        self.shared_lanes.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether the durable file recorded `lane` when it was opened.
    #[cfg(feature = "redis")]
    fn inherited(&self, lane: &str) -> bool {
        self.inherited_lanes
            .as_ref()
            .is_none_or(|lanes| lanes.contains(lane))
    }

    /// Counts a push of `lane` as under way, first recording the lane in the durable file
    /// when it is not yet (one synced write per lane, until Redis has settled its reports).
    /// `None` when the file could not record it: the report is then kept locally instead.
    #[cfg(feature = "redis")]
    async fn begin_push(&self, lane: String, id: &str) -> Option<Pushing<'_>> {
        let noted = {
            let mut lanes = self.lanes_in_redis();
            // (A lane the file recorded when opened may have been forgotten there since:
            // it is recorded again.)
            let entry = lanes.entry(lane.clone()).or_insert_with(|| InRedis {
                noted: !self.durable(),
                ..InRedis::default()
            });
            entry.pushing += 1;
            entry.noted
        };
        let pushing = Pushing {
            outbox: self,
            lane,
            id: id.to_owned(),
            ended: false,
        };
        if !noted {
            #[cfg(feature = "durable-queue")]
            if let Some(store) = &self.store {
                if let Err(error) = store.note_lanes(vec![pushing.lane.clone()], false).await {
                    tracing::error!(%error, "a report is kept locally rather than in Redis: the durable file could not record its lane");
                    pushing.end(false);
                    return None;
                }
            }
            if let Some(entry) = self.lanes_in_redis().get_mut(&pushing.lane) {
                entry.noted = true;
            }
        }
        Some(pushing)
    }

    /// Whether the file recorded `lane` when it was opened (so noting it again is needless).
    #[cfg(all(feature = "redis", feature = "durable-queue"))]
    fn inherited_lanes_recorded(&self, lane: &str) -> bool {
        self.inherited_lanes
            .as_ref()
            .is_some_and(|lanes| lanes.contains(lane))
    }

    /// Whether a durable file keeps the queue (and records the lanes in Redis).
    #[cfg(feature = "redis")]
    fn durable(&self) -> bool {
        #[cfg(feature = "durable-queue")]
        if self.store.is_some() {
            return true;
        }
        false
    }

    /// A push of `lane` ended; `landed`: Redis may hold report `id` now.
    #[cfg(feature = "redis")]
    fn end_push(&self, lane: &str, id: &str, landed: bool) {
        let mut lanes = self.lanes_in_redis();
        if let Some(entry) = lanes.get_mut(lane) {
            entry.pushing = entry.pushing.saturating_sub(1);
            if landed {
                entry.ids.push(id.to_owned());
            }
        }
        let known = self.predecessor.initialized();
        self.forget_settled(&mut lanes, Some(lane), known);
    }

    /// Drops the lanes (all, or `only` that one) with nothing in Redis and no push under
    /// way, and the file's record of them: not, until Redis has said what an earlier process
    /// on the file left, of the lanes the file recorded (some of its reports may be there).
    /// Called under the lock, so that a push that records its lane again comes after, in the
    /// file too.
    #[cfg(feature = "redis")]
    fn forget_settled(
        &self,
        lanes: &mut LanesInRedis,
        only: Option<&str>,
        predecessor_known: bool,
    ) {
        let mut forgotten = Vec::new();
        let mut settled = |lane: &String, entry: &InRedis| {
            let settled = entry.ids.is_empty() && entry.pushing == 0;
            if settled && entry.noted && (predecessor_known || !self.inherited(lane)) {
                forgotten.push(lane.clone());
            }
            settled
        };
        match only {
            Some(lane) => {
                if lanes
                    .get_key_value(lane)
                    .is_some_and(|(l, e)| settled(l, e))
                {
                    lanes.remove(lane);
                }
            }
            None => lanes.retain(|lane, entry| !settled(lane, entry)),
        }
        #[cfg(feature = "durable-queue")]
        if let Some(store) = &self.store {
            store.forget_lanes(forgotten);
        }
        #[cfg(not(feature = "durable-queue"))]
        let _ = forgotten;
    }

    /// Whether [`held_in_redis`](Self::held_in_redis) can say yes at all: only a usage report
    /// with a shared queue. Checked first, so that the common case costs no future.
    pub(crate) fn may_hold_in_redis(&self, report: &Report) -> bool {
        #[cfg(feature = "redis")]
        if self.shared.is_some() {
            return matches!(report, Report::Usage(_));
        }
        let _ = report;
        false
    }

    /// Whether `report`'s lane has reports of this instance waiting in Redis: it must not
    /// be sent before them.
    pub(crate) async fn held_in_redis(&self, report: &Report) -> bool {
        #[cfg(feature = "redis")]
        if let (Some(_), Report::Usage(_)) = (&self.shared, report) {
            let lane = report.lane_name("");
            // Not known yet what an earlier process on the file left: a lane the file
            // recorded waits rather than this caller on the look-up (which every pass of the
            // sender makes until Redis answers it).
            if !self.predecessor.initialized() && self.inherited(&lane) {
                return true;
            }
            match self.lanes_in_redis().get(&lane) {
                None => return false,
                // A push of the lane is under way: it may land before this report would.
                Some(entry) if entry.pushing > 0 => return true,
                Some(_) => {}
            }
            // Only for a lane this instance put reports of in Redis: are they settled yet?
            return self.refresh_lanes_in_redis(Some(&lane)).await;
        }
        let _ = report;
        false
    }

    /// Whether Redis has said which reports an earlier process on the durable file left
    /// there (asked now when it has not yet; one look-up at a time, and a dropped one is
    /// asked again by the next caller). Those it names count as this instance's own, and
    /// their lanes are recorded in the file before they do; the lanes the file recorded
    /// that Redis holds nothing of are forgotten.
    #[cfg(feature = "redis")]
    async fn predecessor_known(&self) {
        if self.predecessor.initialized() {
            return;
        }
        let Some(shared) = &self.shared else {
            return;
        };
        let _ = self
            .predecessor
            .get_or_try_init(|| async {
                let left = if self.unnamed_predecessor {
                    let mut all = shared.waiting_with_prefix("").await?;
                    all.retain(|(id, _)| !id.contains('.'));
                    all
                } else {
                    shared.waiting_with_prefix(&self.id_prefix).await?
                };
                let left: Vec<(String, String)> = left
                    .into_iter()
                    .filter(|(_, lane)| lane.starts_with("u:"))
                    .collect();
                if !left.is_empty() {
                    tracing::info!(
                        reports = left.len(),
                        "an earlier process on this durable queue left reports in Redis: \
                         reports of their lanes wait behind them"
                    );
                }
                // The file records them before this process counts on them (a file from
                // before it recorded lanes does not have them yet).
                #[cfg(feature = "durable-queue")]
                if let Some(store) = &self.store {
                    let new: std::collections::BTreeSet<String> = left
                        .iter()
                        .map(|(_, lane)| lane.clone())
                        .filter(|lane| !self.inherited_lanes_recorded(lane))
                        .collect();
                    // A file from before it recorded lanes says that it does from now on.
                    let complete = self.inherited_lanes.is_none();
                    if !new.is_empty() || complete {
                        store
                            .note_lanes(new.into_iter().collect(), complete)
                            .await
                            .map_err(|_| Failure::NotSent)?;
                    }
                }
                let mut lanes = self.lanes_in_redis();
                for (id, lane) in left {
                    let entry = lanes.entry(lane).or_default();
                    entry.noted = true;
                    entry.ids.push(id);
                }
                // What the file recorded and Redis no longer holds.
                if let Some(inherited) = &self.inherited_lanes {
                    for lane in inherited {
                        lanes.entry(lane.clone()).or_insert_with(|| InRedis {
                            noted: true,
                            ..InRedis::default()
                        });
                    }
                }
                self.forget_settled(&mut lanes, None, true);
                Ok::<(), crate::shared::Failure>(())
            })
            .await;
    }

    /// Forgets the reports of this instance that Redis has settled since, and says whether
    /// `lane` (when given) still has some there. Unanswered, everything is assumed to wait.
    /// Asked in chunks, so that a large backlog never makes one long command.
    #[cfg(feature = "redis")]
    async fn refresh_lanes_in_redis(&self, lane: Option<&str>) -> bool {
        const CHUNK: usize = 512;
        let Some(shared) = &self.shared else {
            return false;
        };
        let ids: Vec<String> = {
            let lanes = self.lanes_in_redis();
            match lane {
                Some(lane) => lanes
                    .get(lane)
                    .map(|entry| entry.ids.clone())
                    .unwrap_or_default(),
                None => lanes
                    .values()
                    .flat_map(|entry| entry.ids.iter().cloned())
                    .collect(),
            }
        };
        if ids.is_empty() {
            return lane.is_some_and(|lane| self.lanes_in_redis().contains_key(lane));
        }
        for asked in ids.chunks(CHUNK) {
            let Ok(waiting) = shared.unsettled(asked).await else {
                return true;
            };
            let waiting: std::collections::HashSet<String> = waiting.into_iter().collect();
            let asked: std::collections::HashSet<&String> = asked.iter().collect();
            let mut lanes = self.lanes_in_redis();
            // Only what was asked about is forgotten: other lanes, and ids pushed while the
            // question was out, stay known.
            for entry in lanes.values_mut() {
                entry
                    .ids
                    .retain(|id| !asked.contains(id) || waiting.contains(id));
            }
            let known = self.predecessor.initialized();
            self.forget_settled(&mut lanes, None, known);
        }
        lane.is_some_and(|lane| self.lanes_in_redis().contains_key(lane))
    }

    /// At the start of a pass: carries out the settlements Redis did not take before, and
    /// forgets what Redis settled since the last pass; no later than `until`.
    pub(crate) async fn refresh_shared(&self, until: Option<tokio::time::Instant>) {
        #[cfg(feature = "redis")]
        if let Some(shared) = &self.shared {
            let refresh = async {
                shared.settle_pending().await;
                self.predecessor_known().await;
                self.refresh_lanes_in_redis(None).await;
            };
            match until {
                // Both are cancel-safe: what they did not finish waits for the next pass.
                Some(until) => {
                    let _ = tokio::time::timeout_at(until, refresh).await;
                }
                None => refresh.await,
            }
        }
        let _ = until;
    }

    /// Sends `send` for `job`, renewing its lease in Redis while it runs when it was claimed
    /// there. Should the lease be lost (another instance may now take the report), the send
    /// is abandoned rather than let it land after that instance's.
    pub(crate) async fn while_leased<T>(
        &self,
        job: &Job,
        send: impl std::future::Future<Output = T>,
    ) -> Option<T> {
        #[cfg(feature = "redis")]
        if let (Job::Shared(claimed), Some(shared)) = (job, &self.shared) {
            // Held until the lease last granted ends (counted from before the command that
            // granted it), less a margin: past that, another instance may have claimed the
            // report, so the send is abandoned, whether Redis refused the renewal or did not
            // answer it.
            let renew = async {
                let lease = shared.lease();
                let margin = lease / 10;
                let mut held_until = claimed.asked_at + lease;
                loop {
                    let deadline = held_until.checked_sub(margin).unwrap_or(held_until);
                    let next = (tokio::time::Instant::now() + lease / 3).min(deadline.into());
                    tokio::time::sleep_until(next).await;
                    if std::time::Instant::now() >= deadline {
                        tracing::error!(id = claimed.id, "the lease on a report being sent from the shared queue ran out without Redis renewing it; the send is abandoned");
                        return;
                    }
                    let asked = std::time::Instant::now();
                    match shared.renew_lease(&claimed.id, false).await {
                        Ok(true) => held_until = asked + lease,
                        Ok(false) => {
                            tracing::error!(id = claimed.id, "the lease on a report being sent from the shared queue was lost; the send is abandoned");
                            return;
                        }
                        Err(_) => {}
                    }
                }
            };
            tokio::pin!(send);
            return tokio::select! {
                sent = &mut send => Some(sent),
                () = renew => None,
            };
        }
        let _ = job;
        Some(send.await)
    }

    /// Up to `max` reports of the local queue, each the first of its lane.
    pub(crate) fn take_local(&self, max: usize) -> Vec<Job> {
        self.queue.take(max).into_iter().map(Job::Local).collect()
    }

    /// Up to `max` reports claimed from the shared queue; nothing without one, or while
    /// Redis fails.
    pub(crate) async fn claim_shared(&self, max: usize) -> Claim {
        #[cfg(feature = "redis")]
        if let Some(shared) = &self.shared {
            if max == 0 {
                return Claim::default();
            }
            return match shared.claim(max).await {
                Ok(claim) => Claim {
                    exhausted: !claim.picked_any,
                    jobs: claim.claimed.into_iter().map(Job::Shared).collect(),
                    unconfirmed: claim.unconfirmed,
                    dropped: claim.dropped,
                },
                Err(_) => Claim {
                    exhausted: true,
                    ..Claim::default()
                },
            };
        }
        let _ = max;
        Claim {
            exhausted: true,
            ..Claim::default()
        }
    }

    /// Whether a job may be sent now. A report that counts twice is first recorded as on its
    /// way (in the file, or in Redis), so that a process that dies while sending it is known
    /// to have maybe sent it.
    pub(crate) async fn may_send(&self, job: &Job) -> Go {
        match job {
            Job::Local(taken) => {
                #[cfg(feature = "redis")]
                if let Some(shared_id) = &taken.shared_id {
                    match self.adopt(shared_id).await {
                        Some(Adopted::Here) => {}
                        // Its twin waits in Redis: the lane waits until it is delivered.
                        Some(Adopted::InRedis) => return Go::Park,
                        Some(Adopted::Settled) => return Go::HandedOver,
                        // Redis must answer first, however long that takes (its copy may be
                        // delivered from there); meanwhile the other lanes go on.
                        None => return Go::Park,
                    }
                }
                // Reports of its lane waiting in Redis go first, whoever put them there (this
                // process before a restart, too). Unanswered, what this process knows it put
                // there decides: Redis failing must not stop the local queue.
                #[cfg(feature = "redis")]
                if let (Report::Usage(_), Some(shared)) = (&taken.report, &self.shared) {
                    let lane = taken.report.lane_name("");
                    let held = match shared.lane_waiting(&lane).await {
                        Ok(waiting) => {
                            self.unverified().remove(&lane);
                            waiting
                        }
                        Err(_) => {
                            self.unverified().contains(&lane)
                                || self.held_in_redis(&taken.report).await
                        }
                    };
                    if held {
                        return Go::Park;
                    }
                }
                #[cfg(feature = "durable-queue")]
                if let (Some(store), true) = (&self.store, taken.report.counts_twice()) {
                    if let Err(error) = store.mark_sending(taken.id).await {
                        tracing::error!(%error, "a queued DELTA report stays queued: its file could not record that it is being sent");
                        return Go::Wait;
                    }
                }
                let _ = taken;
                Go::Send
            }
            #[cfg(feature = "redis")]
            Job::Shared(claimed) => {
                let Some(shared) = &self.shared else {
                    return Go::Wait;
                };
                // Unanswered, the mark may have landed: the release that follows takes it off,
                // and is carried out later if Redis does not take it now.
                if claimed.report.counts_twice()
                    && shared.mark_sending(&claimed.id).await != Ok(true)
                {
                    return Go::Wait;
                }
                Go::Send
            }
        }
    }

    /// Whether this instance should send a local report pushed to Redis with an unknown
    /// outcome: `Some(true)` when Redis has no copy (and now refuses a late one), `Some(false)`
    /// when its copy is there or already settled, `None` while Redis does not answer.
    #[cfg(feature = "redis")]
    async fn adopt(&self, shared_id: &str) -> Option<Adopted> {
        self.shared.as_ref()?.adopt(shared_id).await.ok()
    }

    /// Settles a job: `done` takes it out (delivered, refused, handed over, or given up on);
    /// otherwise it goes back for a later try.
    pub(crate) async fn finish(&self, job: Job, done: bool) {
        match job {
            Job::Local(taken) => {
                // The file changes before the lane moves on: the next report of the lane is
                // not sent while the file could still send this one again after a crash.
                if done {
                    // The removal below is handed to the file's writer at once: cancelled
                    // while it waits for the commit, the report must not go again.
                    taken.set_leaving();
                }
                #[cfg(feature = "durable-queue")]
                if let Some(store) = &self.store {
                    if done {
                        store.remove(taken.id).await;
                    } else if taken.report.counts_twice() {
                        store.unmark_sending(taken.id).await;
                    }
                }
                self.queue.finish(taken, done);
            }
            #[cfg(feature = "redis")]
            Job::Shared(claimed) => {
                if let Some(shared) = &self.shared {
                    if done {
                        shared.ack(&claimed.id).await;
                    } else {
                        shared.release(&claimed.id).await;
                    }
                }
            }
        }
    }

    /// Hands back a job that [`Go::Park`]ed until the next pass.
    pub(crate) fn park(&self, job: Job) {
        match job {
            Job::Local(taken) => self.queue.park(taken),
            #[cfg(feature = "redis")]
            Job::Shared(_) => {}
        }
    }

    /// How many reports wait, locally and in the shared queue (while Redis does not answer,
    /// as many there as it last said).
    pub(crate) async fn waiting(&self) -> usize {
        #[cfg(feature = "redis")]
        if let Some(shared) = &self.shared {
            let in_redis = match shared.len().await {
                Ok(in_redis) => {
                    self.shared_waiting.store(in_redis, Ordering::Relaxed);
                    in_redis
                }
                Err(_) => self.shared_waiting.load(Ordering::Relaxed),
            };
            return self.queue.len() + in_redis;
        }
        self.queue.len()
    }

    /// The file, when there is one.
    #[cfg(feature = "durable-queue")]
    pub(crate) fn store(&self) -> Option<&ReportStore> {
        self.store.as_ref()
    }
}

/// The in-memory queue, holding what the file kept. A `DELTA` the file says was on its way
/// when its process stopped may have been counted: it is taken out, never sent again.
#[cfg(feature = "durable-queue")]
fn restore(store: &ReportStore, restored: Vec<Restored>, capacity: usize) -> (ReportQueue, usize) {
    let first_id = restored.iter().map(|r| r.id + 1).max().unwrap_or(0);
    let queue = ReportQueue::new(capacity, first_id);
    let mut unconfirmed = 0;
    for kept in restored {
        if kept.sending && kept.report.counts_twice() {
            tracing::error!(
                report = ?kept.report,
                "a queued DELTA usage report was being sent when its process stopped; it may \
                 have been counted, so it is taken out rather than risk counting it twice"
            );
            store.forget(kept.id);
            unconfirmed += 1;
            continue;
        }
        queue.push_kept(kept.id, kept.report, kept.shared_id);
    }
    if !queue.is_empty() || unconfirmed > 0 {
        tracing::info!(
            waiting = queue.len(),
            unconfirmed,
            "reports restored from the durable queue"
        );
    }
    (queue, unconfirmed)
}
