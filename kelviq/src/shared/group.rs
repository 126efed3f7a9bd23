//! Group commit for pushes to the shared queue.
//!
//! While [`IN_FLIGHT`] pushes are on their way to Redis, the pushes that arrive wait and then
//! go together, in one script call: Redis runs a script call's overhead (the lookup, the Lua
//! frame, the reply) once for the group instead of once a report, and the script writes the
//! group with one command a key. A push that finds room goes at once, inline, so a lone
//! report pays no hop to another task. Two calls in flight, not one, so that Redis has the
//! next group to run while the answer to the last one travels back.
//!
//! No task is spawned: the push that ends its call hands the waiting group to the first of
//! them still waiting, which sends it and, when its own call ends, hands on in turn. Every
//! step is cancel-safe:
//! - a push dropped while it waits is left out of the group (it was never sent);
//! - a push dropped while it leads, before its call began, puts the others back to wait for
//!   the next leader; once the call began, they are answered `Maybe` (Redis may have run
//!   it), so that each caller keeps its report locally, with its Redis id;
//! - whichever way a leader ends, the next group is handed on, so no push waits on a
//!   leader that is gone.

use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::oneshot;

use super::Failure;

/// The most reports one script call carries: a bound on the call's size and on how long
/// Redis runs it.
pub(crate) const MOST: usize = 64;

/// The most calls on their way at once. Calls go out on one connection, and Redis runs them
/// in the order sent.
pub(crate) const IN_FLIGHT: usize = 2;

/// One report to push: its id, its JSON, its lane.
#[derive(Debug)]
pub(crate) struct Entry {
    pub(crate) id: String,
    pub(crate) body: Vec<u8>,
    pub(crate) lane: String,
}

/// What a waiting push is told.
#[derive(Debug)]
enum Turn {
    /// Its report went with another's call, which ended so.
    Answered(Result<usize, Failure>),
    /// It leads: it sends its own report with these, and hands on after.
    Lead(Led),
}

#[derive(Debug)]
struct Waiting {
    entry: Entry,
    answer: oneshot::Sender<Turn>,
}

#[derive(Debug, Default)]
struct State {
    /// Calls on their way (leaders named that have not yet ended).
    in_flight: usize,
    waiting: Vec<Waiting>,
}

/// The pushes of one shared queue.
#[derive(Debug, Default)]
pub(crate) struct Group {
    state: Mutex<State>,
}

/// How a push goes: at once, leading, or behind the call in flight.
pub(crate) enum Joined {
    /// It leads: send [`Led::entries`] (its own report first), then [`Led::end`].
    Lead(Led),
    /// Another call is in flight: wait for [`Pending::wait`].
    Wait(Pending),
    /// It went with another's call, which ended so.
    Answered(Result<usize, Failure>),
}

/// A push waiting behind another's call.
pub(crate) struct Pending {
    answer: oneshot::Receiver<Turn>,
}

impl Pending {
    /// Its outcome, or the group it now leads.
    pub(crate) async fn wait(self) -> Joined {
        match self.answer.await {
            Ok(Turn::Answered(outcome)) => Joined::Answered(outcome),
            Ok(Turn::Lead(led)) => Joined::Lead(led),
            // Every path that drops a sender answers it first; stay safe if one did not:
            // nothing says it was sent.
            Err(_) => Joined::Answered(Err(Failure::NotSent)),
        }
    }
}

/// A leader's report, the reports of others it carries with its own, and its duty to hand
/// on. Dropped without [`end`](Self::end) (its leader was cancelled): before the call began,
/// the others go back to wait for the next leader; after, they are answered `Maybe`.
#[derive(Debug)]
pub(crate) struct Led {
    group: Arc<Group>,
    own: Entry,
    others: Vec<Waiting>,
    /// Whether the call may have reached Redis.
    begun: bool,
    /// Cleared once answered and handed on.
    armed: bool,
}

impl Group {
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Joins `entry` to the pushes: it leads when there is room in flight, or waits.
    pub(crate) fn join(self: &Arc<Self>, entry: Entry) -> Joined {
        let mut state = self.state();
        if state.in_flight >= IN_FLIGHT {
            let (answer, receiver) = oneshot::channel();
            state.waiting.push(Waiting { entry, answer });
            return Joined::Wait(Pending { answer: receiver });
        }
        state.in_flight += 1;
        drop(state);
        Joined::Lead(self.led(entry, Vec::new()))
    }

    fn led(self: &Arc<Self>, own: Entry, others: Vec<Waiting>) -> Led {
        Led {
            group: self.clone(),
            own,
            others,
            begun: false,
            armed: true,
        }
    }

    /// Names the next leader among the waiting (the ending leader's place in flight passes
    /// to it), or gives the place up.
    fn hand_on(self: &Arc<Self>) {
        loop {
            let mut taken = {
                let mut state = self.state();
                // A cancelled waiter has gone: its report was never sent, and never will be.
                state.waiting.retain(|w| !w.answer.is_closed());
                if state.waiting.is_empty() {
                    state.in_flight -= 1;
                    return;
                }
                let n = state.waiting.len().min(MOST);
                state.waiting.drain(..n).collect::<Vec<_>>().into_iter()
            };
            let Some(first) = taken.next() else { continue };
            let led = self.led(first.entry, taken.collect());
            match first.answer.send(Turn::Lead(led)) {
                Ok(()) => return,
                // Cancelled in between: the others go back, ahead of later arrivals.
                Err(Turn::Lead(mut led)) => {
                    led.armed = false;
                    self.wait_again(std::mem::take(&mut led.others));
                }
                Err(Turn::Answered(_)) => unreachable!("a Lead was sent"),
            }
        }
    }

    /// Puts `others` back at the head of the waiting.
    fn wait_again(&self, mut others: Vec<Waiting>) {
        let mut state = self.state();
        others.append(&mut state.waiting);
        state.waiting = others;
    }
}

impl Led {
    /// The reports to send: the leader's own, then those of the others still waiting.
    pub(crate) fn entries(&self) -> impl Iterator<Item = &Entry> {
        std::iter::once(&self.own).chain(
            self.others
                .iter()
                .filter(|w| !w.answer.is_closed())
                .map(|w| &w.entry),
        )
    }

    /// How many reports the call carries: the leader's and those of the others still
    /// waiting.
    pub(crate) fn len(&self) -> usize {
        self.entries().count()
    }

    /// The call is about to be made: from here on, a cancelled leader's group may be in
    /// Redis.
    pub(crate) fn begin(&mut self) {
        self.begun = true;
    }

    /// The call ended with `outcome`: tells the others, and hands on.
    pub(crate) fn end(mut self, outcome: Result<usize, Failure>) {
        self.answer(outcome);
    }

    fn answer(&mut self, outcome: Result<usize, Failure>) {
        if !self.armed {
            return;
        }
        self.armed = false;
        for waiting in self.others.drain(..) {
            // A receiver gone was cancelled: what it would be told does not matter.
            let _ = waiting.answer.send(Turn::Answered(outcome));
        }
        self.group.hand_on();
    }
}

impl Drop for Led {
    fn drop(&mut self) {
        if self.armed && !self.begun {
            // Nothing was sent: the others wait for the next leader instead.
            self.group.wait_again(std::mem::take(&mut self.others));
        }
        self.answer(Err(Failure::Maybe));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(id: &str) -> Entry {
        Entry {
            id: id.into(),
            body: Vec::new(),
            lane: id.into(),
        }
    }

    fn lead(joined: Joined) -> Led {
        match joined {
            Joined::Lead(led) => led,
            _ => panic!("expected to lead"),
        }
    }

    fn pending(joined: Joined) -> Pending {
        match joined {
            Joined::Wait(pending) => pending,
            _ => panic!("expected to wait"),
        }
    }

    fn ids(led: &Led) -> Vec<&str> {
        led.entries().map(|e| e.id.as_str()).collect()
    }

    /// Fills every place in flight; the leaders.
    fn fill(group: &Arc<Group>) -> Vec<Led> {
        (0..IN_FLIGHT)
            .map(|i| lead(group.join(entry(&format!("lead{i}")))))
            .collect()
    }

    #[tokio::test]
    async fn the_waiting_go_together_behind_the_calls_in_flight_in_arrival_order() {
        let group = Arc::new(Group::default());
        let mut leaders = fill(&group);
        assert_eq!(ids(&leaders[0]), ["lead0"]);
        let b = pending(group.join(entry("b")));
        let c = pending(group.join(entry("c")));
        let a = leaders.remove(0);
        a.end(Ok(1));
        let mut b = lead(b.wait().await);
        assert_eq!(ids(&b), ["b", "c"]);
        b.begin();
        b.end(Ok(3));
        assert!(matches!(c.wait().await, Joined::Answered(Ok(3))));
        // A place is free again: the next push leads at once.
        lead(group.join(entry("d")));
    }

    #[tokio::test]
    async fn places_in_flight_are_given_back_when_nobody_waits() {
        let group = Arc::new(Group::default());
        for _ in 0..3 {
            let leaders = fill(&group);
            assert!(matches!(group.join(entry("x")), Joined::Wait(_)));
            for led in leaders {
                led.end(Ok(0));
            }
            // The waiter was dropped (cancelled) at once: nobody waits, both places free.
        }
        fill(&group);
    }

    #[tokio::test]
    async fn a_leader_dropped_before_its_call_hands_the_others_on_unsent() {
        let group = Arc::new(Group::default());
        let mut leaders = fill(&group);
        let b = pending(group.join(entry("b")));
        let c = pending(group.join(entry("c")));
        leaders.remove(0).end(Ok(1));
        // `b` is named leader, then cancelled before its call began.
        drop(lead(b.wait().await));
        let c = lead(c.wait().await);
        assert_eq!(ids(&c), ["c"], "c goes, alone, and b's report does not");
    }

    #[tokio::test]
    async fn a_leader_dropped_during_its_call_answers_its_group_maybe() {
        let group = Arc::new(Group::default());
        let mut leaders = fill(&group);
        let b = pending(group.join(entry("b")));
        let c = pending(group.join(entry("c")));
        leaders.remove(0).end(Ok(1));
        let mut b = lead(b.wait().await);
        let late = pending(group.join(entry("late")));
        b.begin();
        drop(b);
        assert!(matches!(
            c.wait().await,
            Joined::Answered(Err(Failure::Maybe))
        ));
        // A push that arrived after the group was formed is handed on, not stranded.
        assert_eq!(ids(&lead(late.wait().await)), ["late"]);
    }

    #[tokio::test]
    async fn a_cancelled_waiter_is_left_out_and_never_named_leader() {
        let group = Arc::new(Group::default());
        let mut leaders = fill(&group);
        drop(pending(group.join(entry("gone"))));
        let b = pending(group.join(entry("b")));
        leaders.remove(0).end(Ok(1));
        assert_eq!(ids(&lead(b.wait().await)), ["b"]);
    }

    #[tokio::test]
    async fn a_waiter_cancelled_after_its_group_formed_is_not_sent() {
        let group = Arc::new(Group::default());
        let mut leaders = fill(&group);
        let b = pending(group.join(entry("b")));
        let c = pending(group.join(entry("c")));
        leaders.remove(0).end(Ok(1));
        // The group [b, c] is formed and handed to b; c goes before b's call is made.
        drop(c);
        assert_eq!(ids(&lead(b.wait().await)), ["b"]);
    }

    #[tokio::test]
    async fn a_call_carries_at_most_most_reports() {
        let group = Arc::new(Group::default());
        let mut leaders = fill(&group);
        let waiting: Vec<_> = (0..MOST + 3)
            .map(|i| pending(group.join(entry(&i.to_string()))))
            .collect();
        leaders.remove(0).end(Ok(1));
        let mut waiting = waiting.into_iter();
        let first = lead(waiting.next().unwrap().wait().await);
        assert_eq!(first.entries().count(), MOST);
        first.end(Ok(2));
        let rest: Vec<_> = waiting.collect();
        let mut named = 0;
        for p in rest {
            match p.wait().await {
                Joined::Lead(led) => {
                    named += 1;
                    assert_eq!(led.entries().count(), 3);
                    led.end(Ok(3));
                }
                Joined::Answered(outcome) => assert!(outcome.is_ok()),
                Joined::Wait(_) => unreachable!(),
            }
        }
        assert_eq!(
            named, 1,
            "the three past the first call's 64: one more call"
        );
    }
}
