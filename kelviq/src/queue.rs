//! The offline report queue: usage reports and events that could not be delivered yet, in
//! lanes that keep order where order matters.
//!
//! A data structure, not a sender: it never makes a request. The layer above pushes reports
//! it could not deliver, [`takes`](ReportQueue::take) a batch to send, and
//! [`finishes`](ReportQueue::finish) each one, keeping or removing it.
//!
//! Order: usage reports of one customer and feature share a lane and leave one at a time, in
//! the order they were made, since a `SET` followed by a `DELTA` is not the same as the other
//! way round. Events carry their own idempotency key and timestamp, so each is a lane of its
//! own. Lanes go out side by side, so a backlog drains with as many requests in flight as
//! the sender allows.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use kelviq_gen::types as wire;

use crate::error::{Error, Result};

/// A report waiting for the service, already checked and built.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub(crate) enum Report {
    Usage(wire::ReportUsageRequest),
    Event(wire::ReportEventRequest),
}

impl Report {
    /// Whether sending it twice counts twice: a `DELTA` usage report.
    pub(crate) fn counts_twice(&self) -> bool {
        matches!(self, Report::Usage(r) if r.behaviour == wire::Behaviour::Delta)
    }

    /// Its lane as the shared queue in Redis names it.
    #[cfg(feature = "redis")]
    pub(crate) fn lane_name(&self, id: &str) -> String {
        match self {
            Report::Usage(r) => {
                // Built by hand: `format!` writes each piece through a formatter.
                let (customer, feature) = (&*r.customer_id, &*r.feature_id);
                let mut lane = String::with_capacity(3 + customer.len() + feature.len());
                lane.push_str("u:");
                lane.push_str(customer);
                lane.push('\u{0}');
                lane.push_str(feature);
                lane
            }
            Report::Event(_) => format!("e:{id}"),
        }
    }

    fn lane(&self, id: u64) -> Lane {
        match self {
            Report::Usage(r) => Lane::Usage(r.customer_id.to_string(), r.feature_id.to_string()),
            Report::Event(_) => Lane::Alone(id),
        }
    }
}

/// Reports that must leave in order share a lane.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Lane {
    /// Usage of one customer and feature.
    Usage(String, String),
    /// A report whose order does not matter.
    Alone(u64),
}

/// A report taken out to be sent; hand it back with [`ReportQueue::finish`] or
/// [`ReportQueue::park`]. Dropped without either (its task cancelled, the runtime it ran on
/// shutting down), it hands itself back: kept first in its lane, or, when it is a `DELTA`
/// that may have been on its way, taken out and counted unconfirmed. So a cancelled send
/// never leaves its lane busy.
#[derive(Debug)]
pub(crate) struct Taken {
    lane: Lane,
    /// The queue it goes back to when dropped; `None` once handed back.
    queue: Option<std::sync::Arc<ReportQueue>>,
    /// It may be on its way to the service now.
    sending: std::sync::atomic::AtomicBool,
    /// Its fate is settled (delivered, or refused for good): dropped while its file catches
    /// up, it leaves the queue rather than go again.
    leaving: std::sync::atomic::AtomicBool,
    /// The report's number, which the durable store keys it by.
    #[cfg_attr(not(feature = "durable-queue"), allow(dead_code))]
    pub(crate) id: u64,
    pub(crate) report: Report,
    /// Set when it may also sit in the shared queue in Redis, under this id: a push there
    /// whose outcome is unknown.
    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    pub(crate) shared_id: Option<String>,
}

impl Taken {
    /// Records whether it may be on its way (a `DELTA` being sent), for when it is dropped.
    pub(crate) fn set_sending(&self, sending: bool) {
        self.sending.store(sending, Ordering::Release);
    }

    /// Records that it leaves the queue, whatever happens to the caller from here on.
    pub(crate) fn set_leaving(&self) {
        self.leaving.store(true, Ordering::Release);
    }
}

impl Drop for Taken {
    fn drop(&mut self) {
        let Some(queue) = self.queue.take() else {
            return;
        };
        if self.leaving.load(Ordering::Acquire) {
            queue.hand_back(&self.lane, true);
            queue.settled.notify_waiters();
            return;
        }
        let sending = self.sending.load(Ordering::Acquire);
        if sending {
            tracing::error!(
                report = ?self.report,
                "a queued DELTA usage report was dropped while it was being sent (its task \
                 was cancelled); it may have been counted, so it is taken out rather than \
                 risk counting it twice"
            );
            queue.dropped_unconfirmed.fetch_add(1, Ordering::Relaxed);
        }
        queue.hand_back(&self.lane, sending);
        // A pass may be waiting on this report: it looks again.
        queue.settled.notify_waiters();
    }
}

/// A report in its lane.
#[derive(Debug, Clone)]
struct Entry {
    id: u64,
    report: Report,
    shared_id: Option<String>,
}

#[derive(Debug, Default)]
struct LaneState {
    reports: VecDeque<Entry>,
    /// Its first report is out being sent.
    busy: bool,
}

#[derive(Debug, Default)]
struct Lanes {
    lanes: HashMap<Lane, LaneState>,
    /// Lanes with reports and nothing out, oldest first.
    ready: VecDeque<Lane>,
    /// Lanes whose first report cannot go yet for a reason of its own (it waits on Redis to
    /// say whether its twin there is the one to deliver): out of `ready` until the next pass.
    parked: Vec<Lane>,
    len: usize,
    /// Reports out being sent.
    in_flight: usize,
}

/// The queue. Its lock is held for a few pointer moves, never across a request.
pub(crate) struct ReportQueue {
    lanes: Mutex<Lanes>,
    capacity: usize,
    next_id: AtomicU64,
    /// `DELTA` reports taken out because their send was dropped midway.
    pub(crate) dropped_unconfirmed: std::sync::atomic::AtomicUsize,
    /// Woken whenever a report taken out to be sent is settled or handed back: passes
    /// waiting on another's sends look again.
    pub(crate) settled: tokio::sync::Notify,
}

impl std::fmt::Debug for ReportQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReportQueue")
            .field("waiting", &self.len())
            .field("capacity", &self.capacity)
            .finish()
    }
}

impl ReportQueue {
    /// An empty queue whose reports are numbered from `first_id` on.
    pub(crate) fn new(capacity: usize, first_id: u64) -> Self {
        Self {
            lanes: Mutex::default(),
            capacity,
            next_id: AtomicU64::new(first_id),
            dropped_unconfirmed: Default::default(),
            settled: tokio::sync::Notify::new(),
        }
    }

    /// The lanes of the usage reports it holds.
    #[cfg(feature = "redis")]
    pub(crate) fn usage_lanes(&self) -> std::collections::HashSet<String> {
        let lanes = self.lanes();
        lanes
            .lanes
            .values()
            .filter_map(|state| state.reports.front())
            .filter(|entry| matches!(entry.report, Report::Usage(_)))
            .map(|entry| entry.report.lane_name(""))
            .collect()
    }

    /// A number for the next report, never given out before by this queue.
    pub(crate) fn next_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    /// Whether one more report fits.
    pub(crate) fn has_room(&self) -> bool {
        self.len() < self.capacity
    }

    /// The error a full queue answers with.
    pub(crate) fn full(&self) -> Error {
        Error::queue_full(self.capacity)
    }

    fn lanes(&self) -> std::sync::MutexGuard<'_, Lanes> {
        self.lanes.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// How many reports wait, those out being sent included.
    pub(crate) fn len(&self) -> usize {
        self.lanes().len
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many reports are out being sent.
    pub(crate) fn in_flight(&self) -> usize {
        self.lanes().in_flight
    }

    /// Puts report `id` at the back of its lane and says how many wait; a full queue is an
    /// error, never a silent drop.
    pub(crate) fn push(&self, id: u64, report: Report, shared_id: Option<String>) -> Result<usize> {
        if !self.has_room() {
            return Err(self.full());
        }
        Ok(self.push_kept(id, report, shared_id))
    }

    /// Puts a report already kept elsewhere (in the durable store) at the back of its lane,
    /// room or not: refusing it now would not unkeep it.
    pub(crate) fn push_kept(&self, id: u64, report: Report, shared_id: Option<String>) -> usize {
        let mut lanes = self.lanes();
        let lane = report.lane(id);
        let state = lanes.lanes.entry(lane.clone()).or_default();
        state.reports.push_back(Entry {
            id,
            report,
            shared_id,
        });
        if state.reports.len() == 1 && !state.busy {
            lanes.ready.push_back(lane);
        }
        lanes.len += 1;
        lanes.len
    }

    /// Takes up to `max` reports to send, each the first of a lane that has nothing out.
    pub(crate) fn take(self: &std::sync::Arc<Self>, max: usize) -> Vec<Taken> {
        let mut lanes = self.lanes();
        let mut taken = Vec::new();
        while taken.len() < max {
            let Some(lane) = lanes.ready.pop_front() else {
                break;
            };
            let Some(state) = lanes.lanes.get_mut(&lane) else {
                continue;
            };
            let Some(entry) = state.reports.front().cloned() else {
                continue;
            };
            state.busy = true;
            taken.push(Taken {
                lane,
                queue: Some(self.clone()),
                sending: Default::default(),
                leaving: Default::default(),
                id: entry.id,
                report: entry.report,
                shared_id: entry.shared_id,
            });
        }
        lanes.in_flight += taken.len();
        taken
    }

    /// Hands a taken report back that cannot go yet for a reason of its own: it stays first
    /// in its lane, and the lane is left out of [`take`](Self::take) until
    /// [`unpark`](Self::unpark), so that the rest of the queue goes on without it.
    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    pub(crate) fn park(&self, mut taken: Taken) {
        taken.queue = None;
        let mut lanes = self.lanes();
        let lanes = &mut *lanes;
        if let Some(state) = lanes.lanes.get_mut(&taken.lane) {
            state.busy = false;
            lanes.in_flight -= 1;
            lanes.parked.push(taken.lane.clone());
        }
    }

    /// Whether reports of `report`'s lane wait here: a new one of that lane must join them.
    pub(crate) fn has_lane(&self, report: &Report) -> bool {
        match report {
            Report::Usage(_) => {
                let lanes = self.lanes();
                // Nothing waits here (as in an outage with Redis keeping the queue): no lane
                // key to build.
                !lanes.lanes.is_empty() && lanes.lanes.contains_key(&report.lane(0))
            }
            Report::Event(_) => false,
        }
    }

    /// Puts the parked lanes back in turn, first: a new pass tries them again.
    pub(crate) fn unpark(&self) {
        let mut lanes = self.lanes();
        let lanes = &mut *lanes;
        for lane in lanes.parked.drain(..).rev() {
            lanes.ready.push_front(lane);
        }
    }

    /// Whether a new report must wait behind the queue rather than be sent at once: the
    /// queue holds a report that is not parked, or one in the new report's lane.
    pub(crate) fn holds_back(&self, report: &Report) -> bool {
        let lanes = self.lanes();
        if lanes.len == 0 {
            return false;
        }
        let parked: usize = lanes
            .parked
            .iter()
            .filter_map(|lane| lanes.lanes.get(lane))
            .map(|state| state.reports.len())
            .sum();
        if parked < lanes.len {
            return true;
        }
        match report {
            Report::Usage(_) => lanes.parked.contains(&report.lane(0)),
            Report::Event(_) => false,
        }
    }

    /// Hands a taken report back: `done` removes it (delivered, refused, or given up on);
    /// otherwise it stays first in its lane for a later try.
    pub(crate) fn finish(&self, mut taken: Taken, done: bool) {
        taken.queue = None;
        self.hand_back(&taken.lane, done);
    }

    fn hand_back(&self, lane: &Lane, done: bool) {
        let mut lanes = self.lanes();
        let lanes = &mut *lanes;
        let Some(state) = lanes.lanes.get_mut(lane) else {
            return;
        };
        state.busy = false;
        lanes.in_flight -= 1;
        if done {
            state.reports.pop_front();
            lanes.len -= 1;
        }
        if state.reports.is_empty() {
            lanes.lanes.remove(lane);
        } else if done {
            lanes.ready.push_back(lane.clone());
        } else {
            // Kept: its lane goes first next time, so that a retry does not lose its turn.
            lanes.ready.push_front(lane.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usage(customer: &str, feature: &str, value: i64, behaviour: wire::Behaviour) -> Report {
        Report::Usage(wire::ReportUsageRequest {
            value,
            customer_id: customer.parse().unwrap(),
            feature_id: feature.parse().unwrap(),
            behaviour,
            resource_id: None,
        })
    }

    /// The lane name is part of the Redis layout that instances of other versions share:
    /// built by hand, it is byte for byte what `format!` made.
    #[cfg(feature = "redis")]
    #[test]
    fn a_usage_lane_is_named_as_before() {
        for (customer, feature) in [
            ("a", "f"),
            ("cust 1/é", "api.calls"),
            ("x\u{0}y", "%2F"),
            ("🙂", "f\u{0}"),
        ] {
            assert_eq!(
                usage(customer, feature, 1, wire::Behaviour::Set).lane_name("id"),
                format!("u:{customer}\u{0}{feature}")
            );
        }
    }

    fn value(taken: &Taken) -> i64 {
        match &taken.report {
            Report::Usage(r) => r.value,
            Report::Event(_) => -1,
        }
    }

    #[test]
    fn one_customer_and_feature_leaves_in_order_others_side_by_side() {
        let queue = std::sync::Arc::new(ReportQueue::new(100, 0));
        queue
            .push(
                queue.next_id(),
                usage("a", "f", 1, wire::Behaviour::Set),
                None,
            )
            .unwrap();
        queue
            .push(
                queue.next_id(),
                usage("a", "f", 2, wire::Behaviour::Delta),
                None,
            )
            .unwrap();
        queue
            .push(
                queue.next_id(),
                usage("b", "f", 3, wire::Behaviour::Delta),
                None,
            )
            .unwrap();
        assert_eq!(queue.len(), 3);

        let first: Vec<_> = queue.take(10);
        assert_eq!(
            first.iter().map(value).collect::<Vec<_>>(),
            [1, 3],
            "one per lane"
        );
        assert!(queue.take(10).is_empty(), "both lanes are busy");
        let mut first = first.into_iter();
        queue.finish(first.next().unwrap(), true);
        let second = queue.take(10);
        assert_eq!(second.iter().map(value).collect::<Vec<_>>(), [2]);
        queue.finish(first.next().unwrap(), true);
        queue.finish(second.into_iter().next().unwrap(), true);
        assert!(queue.is_empty());
    }

    #[test]
    fn a_kept_report_stays_first_in_its_lane() {
        let queue = std::sync::Arc::new(ReportQueue::new(100, 0));
        queue
            .push(
                queue.next_id(),
                usage("a", "f", 1, wire::Behaviour::Set),
                None,
            )
            .unwrap();
        queue
            .push(
                queue.next_id(),
                usage("a", "f", 2, wire::Behaviour::Set),
                None,
            )
            .unwrap();
        let taken = queue.take(1).pop().unwrap();
        queue.finish(taken, false);
        let again = queue.take(1).pop().unwrap();
        assert_eq!(value(&again), 1);
        assert_eq!(queue.len(), 2);
    }

    #[test]
    fn a_parked_lane_sits_out_until_unparked_and_holds_back_only_itself() {
        let queue = std::sync::Arc::new(ReportQueue::new(100, 0));
        for (customer, value) in [("a", 1), ("a", 2), ("b", 3)] {
            queue
                .push(
                    queue.next_id(),
                    usage(customer, "f", value, wire::Behaviour::Delta),
                    None,
                )
                .unwrap();
        }
        let mut taken = queue.take(10).into_iter();
        queue.park(taken.next().unwrap());
        assert!(queue.take(10).is_empty(), "a's lane is parked, b's is out");
        assert!(
            queue.holds_back(&usage("c", "f", 1, wire::Behaviour::Delta)),
            "b waits"
        );
        queue.finish(taken.next().unwrap(), true);
        assert!(!queue.holds_back(&usage("c", "f", 1, wire::Behaviour::Delta)));
        assert!(queue.holds_back(&usage("a", "f", 1, wire::Behaviour::Delta)));
        assert!(queue.take(10).is_empty(), "still parked in this pass");
        queue.unpark();
        let again = queue.take(10);
        assert_eq!(again.iter().map(value).collect::<Vec<_>>(), [1]);
    }

    #[test]
    fn a_full_queue_refuses() {
        let queue = std::sync::Arc::new(ReportQueue::new(1, 0));
        queue
            .push(
                queue.next_id(),
                usage("a", "f", 1, wire::Behaviour::Set),
                None,
            )
            .unwrap();
        let error = queue
            .push(
                queue.next_id(),
                usage("a", "f", 2, wire::Behaviour::Set),
                None,
            )
            .unwrap_err();
        assert_eq!(error.kind(), crate::ErrorKind::QueueFull);
        assert_eq!(queue.len(), 1);
    }
}
