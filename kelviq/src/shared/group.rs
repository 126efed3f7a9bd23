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
//! them still waiting, which sends it and, when its own call ends, hands on in turn. A group
//! that fills (`MOST` reports) does not wait for the call in flight: it is handed to its
//! first at once, and goes in a call of its own, so that a slow Redis never holds the pushes
//! to one group a round trip (the waiting, and each one's wait, growing without bound while
//! reports come faster). A push still waiting (in no group) after the Redis time-out goes
//! in a call of its own too: the call it waited behind should have ended by then, so its
//! leader is held elsewhere (a future kept but no longer polled), and must not hold every
//! later push with it; one already in the group of a leader so held leaves it, unsent, once
//! the time-out has passed again (a call that began carries it, and is waited for). Every
//! step is cancel-safe:
//! - a push dropped while it waits is left out of the group (it was never sent);
//! - a push dropped while it leads, before its call began, puts the others back to wait for
//!   the next leader; once the call began, they are answered `Maybe` (Redis may have run
//!   it), so that each caller keeps its report locally, with its Redis id;
//! - whichever way a leader ends, the next group is handed on, so no push waits on a
//!   leader that is gone.

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::oneshot;

use super::Failure;

/// The most reports one script call carries: a bound on the call's size and on how long
/// Redis runs it.
pub(crate) const MOST: usize = 64;

/// The calls on their way at once before pushes wait for a group (a full group goes all the
/// same). Calls go out on one connection, and Redis runs them in the order sent.
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
    /// Which push it is, for [`Group::step_up`].
    ticket: u64,
    /// Whether its report goes with its leader's call ([`SENT`], set when the call
    /// begins) or it left first ([`LEFT`]): whichever comes first holds.
    claim: Arc<AtomicU8>,
}

/// A waiting push's [`Waiting::claim`]: in no call yet.
const WAITING: u8 = 0;
/// Its leader's call began with it.
const SENT: u8 = 1;
/// It left, unsent, before its leader's call began.
const LEFT: u8 = 2;

#[derive(Debug, Default)]
struct State {
    /// How many calls are on their way (or have a leader named that has not yet ended).
    in_flight: usize,
    waiting: Vec<Waiting>,
    /// The next waiting push's ticket.
    tickets: u64,
}

/// The pushes of one shared queue.
#[derive(Debug)]
pub(crate) struct Group {
    state: Mutex<State>,
    /// How long a push waits for a group before it goes in a call of its own (`None`:
    /// as long as it takes).
    patience: Option<Duration>,
    /// The calls on their way at once before pushes wait.
    room: usize,
}

/// One call at a time, as patient as need be: the state machine alone, for its tests.
impl Default for Group {
    fn default() -> Self {
        Self {
            state: Mutex::default(),
            patience: None,
            room: 1,
        }
    }
}

/// How a push goes: at once, leading, or behind the call in flight.
pub(crate) enum Joined {
    /// It leads: send [`Led::entries`] (its own report with the others, in the order they
    /// came), then [`Led::end`].
    Lead(Led),
    /// Another call is in flight: wait for [`Pending::wait`].
    Wait(Pending),
    /// It went with another's call, which ended so.
    Answered(Result<usize, Failure>),
}

/// A push waiting behind another's call.
pub(crate) struct Pending {
    answer: oneshot::Receiver<Turn>,
    group: Arc<Group>,
    ticket: u64,
    claim: Arc<AtomicU8>,
}

impl Pending {
    /// Its outcome, or the group it now leads. Still not in a group after the group's
    /// patience (the call in flight, or the leader named, is held: a leader's future that
    /// is kept but no longer polled holds its turn for as long), it goes in a call of its
    /// own, with those waiting around it. In a group whose call has not begun after the
    /// patience once more (its leader is held so), it leaves the group, unsent.
    pub(crate) async fn wait(mut self) -> Joined {
        let turn = match self.group.patience {
            Some(patience) => match tokio::time::timeout(patience, &mut self.answer).await {
                Ok(turn) => turn,
                Err(_) => {
                    if let Some(led) = self.group.step_up(self.ticket) {
                        return Joined::Lead(led);
                    }
                    // In a group already: its leader begins the call at once, unless it is
                    // held, and the call ends within the time-out.
                    match tokio::time::timeout(patience, &mut self.answer).await {
                        Ok(turn) => turn,
                        Err(_) => {
                            let left = self
                                .claim
                                .compare_exchange(
                                    WAITING,
                                    LEFT,
                                    Ordering::AcqRel,
                                    Ordering::Acquire,
                                )
                                .is_ok();
                            if left {
                                return Joined::Answered(Err(Failure::NotSent));
                            }
                            (&mut self.answer).await
                        }
                    }
                }
            },
            None => (&mut self.answer).await,
        };
        match turn {
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
    /// How many of `others` arrived before `own` (and go before it).
    own_at: usize,
    /// Whether the call may have reached Redis.
    begun: bool,
    /// Cleared once answered and handed on.
    armed: bool,
}

impl Group {
    /// The pushes of a queue whose calls end within `patience` (the Redis time-out).
    pub(crate) fn new(patience: Duration) -> Self {
        Self {
            state: Mutex::default(),
            patience: Some(patience),
            room: IN_FLIGHT,
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Joins `entry` to the pushes: it leads when there is room in flight, or waits.
    pub(crate) fn join(self: &Arc<Self>, entry: Entry) -> Joined {
        let mut state = self.state();
        if state.in_flight < self.room {
            state.in_flight += 1;
            drop(state);
            return Joined::Lead(self.led(entry, Vec::new()));
        }
        let (answer, receiver) = oneshot::channel();
        let ticket = state.tickets;
        state.tickets += 1;
        let claim = Arc::new(AtomicU8::new(WAITING));
        state.waiting.push(Waiting {
            entry,
            answer,
            ticket,
            claim: claim.clone(),
        });
        // A full group does not wait for the call in flight: it goes at once, in a call of
        // its own. Otherwise the pushes would go at most `MOST` a round trip, and behind a
        // slow Redis the waiting (and each one's wait) would grow without bound.
        let full = state.waiting.len() >= MOST;
        if full {
            state.in_flight += 1;
        }
        drop(state);
        if full {
            self.hand_on();
        }
        Joined::Wait(Pending {
            answer: receiver,
            group: self.clone(),
            ticket,
            claim,
        })
    }

    /// A push that has waited past the patience, if it is still waiting (in no group): it
    /// leads a call of its own (one more in flight), carrying those around it, up to
    /// [`MOST`], in their order.
    fn step_up(self: &Arc<Self>, ticket: u64) -> Option<Led> {
        let mut state = self.state();
        // A cancelled waiter has gone: its report was never sent, and never will be.
        state.waiting.retain(|w| !w.answer.is_closed());
        let at = state.waiting.iter().position(|w| w.ticket == ticket)?;
        let start = at.saturating_sub(MOST - 1);
        let end = state.waiting.len().min(start + MOST);
        let mut others: Vec<Waiting> = state.waiting.drain(start..end).collect();
        state.in_flight += 1;
        drop(state);
        let own = others.remove(at - start);
        let mut led = self.led(own.entry, others);
        led.own_at = at - start;
        Some(led)
    }

    fn led(self: &Arc<Self>, own: Entry, others: Vec<Waiting>) -> Led {
        Led {
            group: self.clone(),
            own,
            others,
            own_at: 0,
            begun: false,
            armed: true,
        }
    }

    /// Passes on one call's turn (counted in `in_flight` by the caller): names the next
    /// leader among the waiting, or frees the turn; then gives any full group still waiting
    /// a call of its own.
    fn hand_on(self: &Arc<Self>) {
        // Whether this holds a turn to pass on.
        let mut turn = true;
        loop {
            let mut taken = {
                let mut state = self.state();
                // A cancelled waiter has gone: its report was never sent, and never will be.
                state.waiting.retain(|w| !w.answer.is_closed());
                if !turn {
                    if state.waiting.len() < MOST {
                        return;
                    }
                    state.in_flight += 1;
                    turn = true;
                }
                if state.waiting.is_empty() {
                    // Every turn handed on was counted: a count going below nothing is a
                    // turn given back twice (tests catch it; release builds stay safe).
                    debug_assert!(state.in_flight > 0, "a turn given back twice");
                    state.in_flight = state.in_flight.saturating_sub(1);
                    return;
                }
                let n = state.waiting.len().min(MOST);
                state.waiting.drain(..n).collect::<Vec<_>>().into_iter()
            };
            let Some(first) = taken.next() else { continue };
            let led = self.led(first.entry, taken.collect());
            match first.answer.send(Turn::Lead(led)) {
                // The turn went with the group.
                Ok(()) => turn = false,
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
    /// The reports to send: the leader's own and those of the others still waiting, in the
    /// order they came.
    pub(crate) fn entries(&self) -> impl Iterator<Item = &Entry> {
        fn live(waiting: &[Waiting]) -> impl Iterator<Item = &Entry> {
            waiting
                .iter()
                .filter(|w| !w.answer.is_closed() && w.claim.load(Ordering::Acquire) != LEFT)
                .map(|w| &w.entry)
        }
        let (before, after) = self.others.split_at(self.own_at.min(self.others.len()));
        live(before)
            .chain(std::iter::once(&self.own))
            .chain(live(after))
    }

    /// The call is about to be made: from here on, a cancelled leader's group may be in
    /// Redis.
    pub(crate) fn begin(&mut self) {
        self.begun = true;
        // Those that left have gone (unsent); the others can no longer leave.
        for waiting in &self.others {
            let _ =
                waiting
                    .claim
                    .compare_exchange(WAITING, SENT, Ordering::AcqRel, Ordering::Acquire);
        }
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
    use std::time::Duration;

    use super::*;

    /// One call at a time, with `patience`.
    fn patient(patience: Duration) -> Group {
        Group {
            room: 1,
            ..Group::new(patience)
        }
    }

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

    #[tokio::test]
    async fn the_waiting_go_together_behind_the_call_in_flight_in_arrival_order() {
        let group = Arc::new(Group::default());
        let mut a = lead(group.join(entry("a")));
        assert_eq!(ids(&a), ["a"]);
        let b = pending(group.join(entry("b")));
        let c = pending(group.join(entry("c")));
        a.begin();
        a.end(Ok(1));
        let mut b = lead(b.wait().await);
        assert_eq!(ids(&b), ["b", "c"]);
        b.begin();
        b.end(Ok(3));
        assert!(matches!(c.wait().await, Joined::Answered(Ok(3))));
        // Nothing in flight any more: the next push leads at once.
        lead(group.join(entry("d")));
    }

    #[tokio::test]
    async fn a_leader_dropped_before_its_call_hands_the_others_on_unsent() {
        let group = Arc::new(Group::default());
        let a = lead(group.join(entry("a")));
        let b = pending(group.join(entry("b")));
        let c = pending(group.join(entry("c")));
        a.end(Ok(1));
        // `b` is named leader, then cancelled before its call began.
        drop(lead(b.wait().await));
        let c = lead(c.wait().await);
        assert_eq!(ids(&c), ["c"], "c goes, alone, and b's report does not");
    }

    #[tokio::test]
    async fn a_leader_dropped_during_its_call_answers_its_group_maybe() {
        let group = Arc::new(Group::default());
        let a = lead(group.join(entry("a")));
        let b = pending(group.join(entry("b")));
        let c = pending(group.join(entry("c")));
        a.end(Ok(1));
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
        let a = lead(group.join(entry("a")));
        drop(pending(group.join(entry("gone"))));
        let b = pending(group.join(entry("b")));
        a.end(Ok(1));
        assert_eq!(ids(&lead(b.wait().await)), ["b"]);
    }

    #[tokio::test]
    async fn a_waiter_cancelled_after_its_group_formed_is_not_sent() {
        let group = Arc::new(Group::default());
        let a = lead(group.join(entry("a")));
        let b = pending(group.join(entry("b")));
        let c = pending(group.join(entry("c")));
        a.end(Ok(1));
        // The group [b, c] is formed and handed to b; c goes before b's call is made.
        drop(c);
        assert_eq!(ids(&lead(b.wait().await)), ["b"]);
    }

    #[tokio::test]
    async fn a_call_carries_at_most_most_reports() {
        let group = Arc::new(Group::default());
        let a = lead(group.join(entry("a")));
        let waiting: Vec<_> = (0..MOST + 3)
            .map(|i| pending(group.join(entry(&i.to_string()))))
            .collect();
        a.end(Ok(1));
        let mut waiting = waiting.into_iter();
        let first = lead(waiting.next().unwrap().wait().await);
        assert_eq!(first.entries().count(), MOST);
        first.end(Ok(2));
        let rest: Vec<_> = waiting.collect();
        let mut leaders = 0;
        for p in rest {
            match p.wait().await {
                Joined::Lead(led) => {
                    leaders += 1;
                    assert_eq!(led.entries().count(), 3);
                    led.end(Ok(3));
                }
                Joined::Answered(outcome) => assert!(outcome.is_ok()),
                Joined::Wait(_) => unreachable!(),
            }
        }
        assert_eq!(
            leaders, 1,
            "the three past the first call's 64: one more call"
        );
    }

    /// Review 6: behind a call in flight, the pushes went at most `MOST` a call, one call at
    /// a time, so that behind a slow Redis a push waited a round trip for every `MOST` ahead
    /// of it (without bound while reports came faster than that).
    #[tokio::test]
    async fn a_full_group_goes_at_once_without_waiting_for_the_call_in_flight() {
        let group = Arc::new(Group::default());
        let a = lead(group.join(entry("a")));
        let mut waiting: Vec<_> = (0..=MOST)
            .map(|i| pending(group.join(entry(&i.to_string()))))
            .collect();
        let last = waiting.pop().unwrap();
        let mut waiting = waiting.into_iter();
        // `a`'s call has not ended; still, the first `MOST` go, in a call of their own.
        let first = tokio::time::timeout(Duration::from_secs(1), waiting.next().unwrap().wait())
            .await
            .expect("a full group does not wait for the call in flight");
        let first = lead(first);
        assert_eq!(first.entries().count(), MOST);
        assert_eq!(first.entries().next().unwrap().id, "0", "in arrival order");
        // The one past them waits for a call to end, and then goes.
        a.end(Ok(1));
        let last = lead(last.wait().await);
        assert_eq!(ids(&last), [MOST.to_string()]);
        first.end(Ok(2));
        for p in waiting {
            assert!(matches!(p.wait().await, Joined::Answered(Ok(2))));
        }
        last.end(Ok(3));
        // Nothing in flight any more: the next push leads at once.
        lead(group.join(entry("z")));
    }

    /// A full group whose first was cancelled before it was handed the group: the next of
    /// them leads it, and the count of calls in flight comes back to none.
    #[tokio::test]
    async fn a_full_group_whose_first_is_gone_is_led_by_the_next() {
        let group = Arc::new(Group::default());
        let a = lead(group.join(entry("a")));
        drop(pending(group.join(entry("gone"))));
        let mut waiting: Vec<_> = (0..MOST)
            .map(|i| pending(group.join(entry(&i.to_string()))))
            .collect();
        let first = waiting.remove(0);
        let first = tokio::time::timeout(Duration::from_secs(1), first.wait())
            .await
            .expect("a full group does not wait for the call in flight");
        let first = lead(first);
        assert_eq!(first.entries().count(), MOST - 1);
        // The one that joined after the group filled waits for a call to end.
        a.end(Ok(1));
        let straggler = lead(waiting.pop().unwrap().wait().await);
        assert_eq!(ids(&straggler), [(MOST - 1).to_string()]);
        straggler.end(Ok(3));
        first.end(Ok(2));
        for p in waiting {
            assert!(matches!(p.wait().await, Joined::Answered(Ok(2))));
        }
        lead(group.join(entry("z")));
    }

    /// Review 6: a push named leader whose future is kept but no longer polled (a `select!`
    /// that moved on and holds it for later) held its turn, and every push after it waited
    /// for as long. Past the patience, a waiting push goes in a call of its own.
    #[tokio::test]
    async fn with_room_for_two_calls_the_second_push_goes_at_once_and_the_third_waits() {
        let group = Arc::new(Group {
            room: 2,
            ..Group::default()
        });
        let a = lead(group.join(entry("a")));
        let b = lead(group.join(entry("b")));
        let c = pending(group.join(entry("c")));
        let d = pending(group.join(entry("d")));
        b.end(Ok(2));
        let c = lead(c.wait().await);
        assert_eq!(ids(&c), ["c", "d"]);
        c.end(Ok(4));
        assert!(matches!(d.wait().await, Joined::Answered(Ok(4))));
        a.end(Ok(1));
        // Both places free again.
        let _first = lead(group.join(entry("e")));
        let _second = lead(group.join(entry("f")));
        assert!(matches!(group.join(entry("g")), Joined::Wait(_)));
    }

    #[tokio::test(start_paused = true)]
    async fn a_leader_not_polled_holds_later_pushes_no_longer_than_the_patience() {
        let group = Arc::new(patient(Duration::from_secs(1)));
        let a = lead(group.join(entry("a")));
        let stalled = pending(group.join(entry("stalled")));
        a.end(Ok(1));
        // `stalled` is named leader; its future is neither polled again nor dropped.
        let b = pending(group.join(entry("b")));
        let c = pending(group.join(entry("c")));
        let b = tokio::time::timeout(Duration::from_secs(5), b.wait())
            .await
            .expect("a push is not held by a leader that is not polled");
        let b = lead(b);
        assert_eq!(ids(&b), ["b", "c"]);
        b.end(Ok(3));
        assert!(matches!(c.wait().await, Joined::Answered(Ok(3))));
        // Dropped at last, before its call began: its turn is passed on, nothing waits.
        drop(stalled);
        lead(group.join(entry("z")));
    }

    /// A push that steps up carries those still waiting ahead of it, in their order.
    #[tokio::test(start_paused = true)]
    async fn a_push_that_steps_up_carries_those_ahead_of_it_in_their_order() {
        let group = Arc::new(patient(Duration::from_secs(1)));
        let a = lead(group.join(entry("a")));
        // `b` is not polled while `c` waits.
        let b = pending(group.join(entry("b")));
        let c = pending(group.join(entry("c")));
        let c = lead(c.wait().await);
        assert_eq!(ids(&c), ["b", "c"]);
        c.end(Ok(2));
        assert!(matches!(b.wait().await, Joined::Answered(Ok(2))));
        a.end(Ok(1));
        lead(group.join(entry("z")));
    }

    /// Review 6: a push in the group of a leader named but not polled (nor dropped) waited
    /// as long as that leader was held. Once its patience has run out twice, it leaves the
    /// group unsent (the call has not begun, and now never carries it).
    #[tokio::test(start_paused = true)]
    async fn a_push_in_the_group_of_a_leader_not_polled_leaves_it_unsent() {
        let group = Arc::new(patient(Duration::from_secs(1)));
        let a = lead(group.join(entry("a")));
        let stalled = pending(group.join(entry("stalled")));
        let b = pending(group.join(entry("b")));
        // `stalled` is named leader of [stalled, b]; its future is not polled.
        a.end(Ok(1));
        let waited = tokio::time::timeout(Duration::from_secs(5), b.wait())
            .await
            .expect("a push is not held by the leader of its group that is not polled");
        assert!(matches!(waited, Joined::Answered(Err(Failure::NotSent))));
        // Polled at last, the leader sends its own report, not the one that left.
        let mut stalled = lead(stalled.wait().await);
        stalled.begin();
        assert_eq!(ids(&stalled), ["stalled"]);
        stalled.end(Ok(1));
        lead(group.join(entry("z")));
    }

    /// Once its leader's call has begun, a push never leaves the group, however long the
    /// call takes: it may be in Redis, and is answered with the call's outcome.
    #[tokio::test(start_paused = true)]
    async fn a_push_whose_call_has_begun_waits_for_its_outcome() {
        let group = Arc::new(patient(Duration::from_secs(1)));
        let a = lead(group.join(entry("a")));
        let l = pending(group.join(entry("l")));
        let b = pending(group.join(entry("b")));
        a.end(Ok(1));
        let mut l = lead(l.wait().await);
        l.begin();
        assert_eq!(ids(&l), ["l", "b"]);
        let (waited, ()) = tokio::join!(b.wait(), async move {
            tokio::time::sleep(Duration::from_secs(3)).await;
            l.end(Ok(2));
        });
        assert!(matches!(waited, Joined::Answered(Ok(2))));
        lead(group.join(entry("z")));
    }
}

#[cfg(test)]
mod room_for_two {
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

    /// Two calls in flight, every way a turn ends (answered, dropped before and after its
    /// call began, handed to a waiter cancelled meanwhile): the count comes back to nothing,
    /// neither leaking (pushes waiting for ever) nor going below.
    #[tokio::test]
    async fn every_turn_of_two_in_flight_is_given_back() {
        let group = Arc::new(Group {
            room: 2,
            ..Group::new(Duration::from_secs(60))
        });
        let mut a = lead(group.join(entry("a")));
        let b = lead(group.join(entry("b")));
        let c = pending(group.join(entry("c")));
        let d = pending(group.join(entry("d")));
        assert_eq!(group.state().in_flight, 2);
        // `b` dropped before its call: `c` leads, with `d`.
        drop(b);
        let mut c = lead(c.wait().await);
        assert_eq!(c.entries().count(), 2);
        assert_eq!(group.state().in_flight, 2);
        let e = pending(group.join(entry("e")));
        // `e` cancelled while it waits; `a` ends: nothing to hand on.
        drop(e);
        a.begin();
        a.end(Ok(1));
        assert_eq!(group.state().in_flight, 1);
        c.begin();
        drop(c);
        assert!(matches!(
            d.wait().await,
            Joined::Answered(Err(Failure::Maybe))
        ));
        assert_eq!(group.state().in_flight, 0);
        let f = lead(group.join(entry("f")));
        let g = lead(group.join(entry("g")));
        let h = pending(group.join(entry("h")));
        f.end(Ok(1));
        // `h` named leader, then cancelled before it took its turn.
        drop(h);
        g.end(Ok(2));
        assert_eq!(group.state().in_flight, 0);
        let _i = lead(group.join(entry("i")));
        let _j = lead(group.join(entry("j")));
        assert_eq!(group.state().in_flight, 2);
    }
}
