//! Reports through the offline queue: sent at once while the service answers; queued,
//! without waiting on the network, while it is unreachable or a backlog waits; delivered
//! from the queue by a background sender; and never sent twice where that would count
//! twice.
//!
//! | what happens to a report sent directly | `DELTA` usage | `SET` usage, events |
//! |---|---|---|
//! | the service records it | `Sent` | `Sent` |
//! | no connection could be made | queued | queued |
//! | 429 (nothing applied) | queued | queued |
//! | 5xx, time-out, broken connection (may be applied) | error, [unconfirmed](crate::Error::is_unconfirmed), never resent | retried within the deadline, then queued |
//! | 400, 401, 403, 404 | error | error |
//! | the queue already holds reports, or the service is known down | queued behind them, no network I/O | queued behind them |
//!
//! | what happens to a queued report the sender sends | `DELTA` usage | `SET` usage, events |
//! |---|---|---|
//! | the service records it | delivered | delivered |
//! | no connection, 429 | kept in its place; the sender waits, longer each time | kept |
//! | 5xx, time-out, broken connection | taken out, counted [unconfirmed](crate::FlushReport::unconfirmed), logged at error level | kept |
//! | any other 4xx | taken out, counted dropped, logged at error level | taken out |

use std::sync::atomic::Ordering;
use std::sync::{Arc, Weak};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

use super::outbox::{Go, Job, Outbox};
use super::{Core, Overrides};
use crate::config::{QueueConfig, RetryPolicy};
use crate::error::{Error, ErrorKind, Reached, Result};
use crate::model::{Delivery, EventReport, FlushReport, FromWire, UsageReport};
use crate::queue::Report;
use crate::transport::{self, Answered, CallSpec, RetryRule};
use crate::types::Behaviour;

/// What the service answered to a report.
#[derive(Debug)]
pub(crate) enum ReportAnswer {
    Usage(UsageReport),
    Event(EventReport),
}

/// What one pass over the queue did.
#[derive(Debug, Default)]
struct Pass {
    report: FlushReport,
    /// Stopped because a report had to be kept (unreachable, 429, 5xx).
    halted: bool,
    /// Reports set aside this pass until their copies in Redis are settled.
    parked: usize,
}

/// What became of one queued report.
enum Sent {
    Delivered,
    Unconfirmed(Error),
    Refused(Error),
    Kept {
        unreachable: bool,
    },
    /// A local copy whose twin in the shared queue is the one to deliver.
    HandedOver,
    /// Not sent this pass, for a reason of its own; the pass goes on.
    Parked,
}

impl Sent {
    /// Whether the report leaves its queue.
    fn done(&self) -> bool {
        !matches!(self, Sent::Kept { .. } | Sent::Parked)
    }
}

/// What a failed send of a queued report means for it. A report is delivered only when the
/// answer is the document's success body: anything else may come from a proxy, a captive
/// portal or a load balancer in front of Kelviq, not from Kelviq.
fn classify(report: &Report, error: Error) -> Sent {
    let json_body = matches!(error.body(), Some(crate::error::ErrorBody::Json(_)));
    let status = error.status().map(|s| s.as_u16());
    match (error.kind(), error.reached()) {
        (ErrorKind::Connection, Reached::No) => Sent::Kept { unreachable: true },
        (ErrorKind::RateLimited, _) => Sent::Kept { unreachable: false },
        // A success status with a body that is not Kelviq's answer: the request may have
        // reached Kelviq through whatever answered, or not.
        (ErrorKind::Decode, _) if report.counts_twice() => Sent::Unconfirmed(error),
        (ErrorKind::Decode, _) => Sent::Kept { unreachable: false },
        // The key is refused: every report would be, so the pass stops and keeps them all.
        (ErrorKind::Unauthorized, _) => {
            tracing::error!(%error, "the Kelviq API key was refused; queued reports are kept until it is accepted");
            Sent::Kept { unreachable: false }
        }
        _ if error.is_unconfirmed() => Sent::Unconfirmed(error),
        _ if error.is_outage() => Sent::Kept { unreachable: false },
        // Kelviq's own answer about this report (its JSON error): the report will never be
        // taken, so it leaves the queue.
        _ if json_body && matches!(status, Some(400 | 404 | 409 | 422)) => Sent::Refused(error),
        // A redirect, a 408, an HTML page, any other status: not Kelviq's word on the report.
        _ => {
            tracing::warn!(%error, "a queued report met an answer that is not Kelviq's; kept");
            Sent::Kept { unreachable: false }
        }
    }
}

impl Report {
    fn operation(&self) -> &'static str {
        match self {
            Report::Usage(_) => "reporting.report_usage",
            Report::Event(_) => "reporting.report_event",
        }
    }
}

impl Core {
    /// Sends a report through the queue; see the [module docs](self).
    pub(crate) async fn deliver(
        self: &Arc<Self>,
        report: Report,
        overrides: &Overrides,
    ) -> Result<Delivery<Answered<ReportAnswer>>> {
        let Some(outbox) = &self.outbox else {
            let rule = if report.counts_twice() {
                RetryRule::NOT_IDEMPOTENT
            } else {
                RetryRule::IDEMPOTENT
            };
            let answer = self.send_report(&report, overrides, rule, None).await?;
            self.moved_usage(&report);
            return Ok(Delivery::Sent(answer));
        };
        // The queue's paths are boxed: they hold Redis and file futures far larger than a
        // send, and inline they would make every report's future (moved as it starts) as
        // large as the largest of them.
        if outbox.queue.holds_back(&report)
            || outbox.offline.is_down()
            || (outbox.may_hold_in_redis(&report) && Box::pin(outbox.held_in_redis(&report)).await)
        {
            return Box::pin(self.enqueue(outbox, report)).await;
        }
        let rule = RetryRule {
            idempotent: !report.counts_twice(),
            // The queue takes it instead: one connect time-out, not several.
            retry_unreached: false,
        };
        match self.send_report(&report, overrides, rule, None).await {
            Ok(answer) => {
                self.moved_usage(&report);
                Ok(Delivery::Sent(answer))
            }
            Err(error)
                if error.reached() == Reached::No && error.kind() == ErrorKind::Connection =>
            {
                if outbox.offline.failed() {
                    tracing::warn!(%error, "the Kelviq API host is unreachable: reports are queued until it answers");
                }
                Box::pin(self.enqueue(outbox, report)).await
            }
            Err(error) if error.kind() == ErrorKind::RateLimited => {
                Box::pin(self.enqueue(outbox, report)).await
            }
            Err(error) if error.is_outage() && !report.counts_twice() => {
                tracing::warn!(%error, "a report the service did not take was queued");
                Box::pin(self.enqueue(outbox, report)).await
            }
            Err(error) => Err(error),
        }
    }

    async fn enqueue(
        self: &Arc<Self>,
        outbox: &Outbox,
        report: Report,
    ) -> Result<Delivery<Answered<ReportAnswer>>> {
        let operation = report.operation();
        let waiting = outbox
            .keep(report.clone())
            .await
            .map_err(|e| e.in_operation(operation))?;
        // Counted as the service will count it once delivered, so that limits hold offline.
        self.moved_usage(&report);
        self.ensure_sender(outbox);
        outbox.wake.notify_one();
        tracing::debug!(waiting, "report queued");
        Ok(Delivery::Queued { waiting })
    }

    /// A usage report the service accepted (or will, from the queue) moves the cached usage.
    fn moved_usage(&self, report: &Report) {
        if let (Some(cache), Report::Usage(body)) = (self.cache(), report) {
            let behaviour = match body.behaviour {
                kelviq_gen::types::Behaviour::Set => Behaviour::Set,
                kelviq_gen::types::Behaviour::Delta => Behaviour::Delta,
            };
            cache.apply_usage(&body.customer_id, &body.feature_id, behaviour, body.value);
        }
    }

    /// One report to the API host, as `rule` and the deadline allow.
    async fn send_report(
        &self,
        report: &Report,
        overrides: &Overrides,
        rule: RetryRule,
        until: Option<Instant>,
    ) -> Result<Answered<ReportAnswer>> {
        let mut spec = self.spec(report.operation(), rule, overrides);
        if let Some(until) = until {
            spec.deadline = spec
                .deadline
                .min(until.saturating_duration_since(Instant::now()));
        }
        // Not through the generated builders: see `transport::json_call`. The body is the
        // generated type, serialised as the generated client would (again for a retry).
        let url = match report {
            Report::Usage(_) => &self.report_urls.0,
            Report::Event(_) => &self.report_urls.1,
        };
        let parts = || {
            match report {
                Report::Usage(body) => serde_json::to_vec(body),
                Report::Event(body) => serde_json::to_vec(body),
            }
            .map(|body| (url.clone(), Some(body)))
            .map_err(|e| {
                Error::config(format!("a report could not be serialised as JSON: {e}"))
                    .in_operation(report.operation())
            })
        };
        match report {
            Report::Usage(_) => {
                let answered: Answered<kelviq_gen::types::UsageReport> =
                    self.post(parts, spec).await?;
                Ok(Answered {
                    value: ReportAnswer::Usage(UsageReport::from_wire(answered.value)),
                    raw: answered.raw,
                })
            }
            Report::Event(_) => {
                let answered: Answered<kelviq_gen::types::EventReport> =
                    self.post(parts, spec).await?;
                Ok(Answered {
                    value: ReportAnswer::Event(EventReport::from_wire(answered.value)),
                    raw: answered.raw,
                })
            }
        }
    }

    /// POSTs a report's JSON (made by `parts`, with its URL) the answer decoded as `T`:
    /// through `transport::json_call`, boxed, since its future would otherwise make every
    /// report's as large.
    fn post<'a, T, P>(
        &'a self,
        parts: P,
        spec: CallSpec,
    ) -> std::pin::Pin<Box<impl std::future::Future<Output = Result<Answered<T>>> + 'a>>
    where
        T: serde::de::DeserializeOwned + 'static,
        P: Fn() -> Result<(reqwest::Url, Option<Vec<u8>>)> + Send + Sync + 'a,
    {
        Box::pin(transport::json_call(
            &self.transport,
            kelviq_gen::ClientInfo::client(self.api()),
            self.transport.preset_timeout,
            http::Method::POST,
            parts,
            spec,
        ))
    }

    /// Sends one queued report once, and says what became of it.
    async fn send_queued(&self, outbox: &Outbox, job: &Job, until: Option<Instant>) -> Sent {
        let report = job.report();
        // A time-out cannot tell a connection still being made from a request sent and
        // unanswered, and a `DELTA` that timed out is taken out as unconfirmed. So a `DELTA`
        // goes out only with time for its connection to succeed or fail on its own: a
        // refused or silent host then proves it never arrived, and it stays queued.
        if report.counts_twice()
            && until.is_some_and(|until| {
                until.saturating_duration_since(Instant::now()) < self.timeouts.connect
            })
        {
            return Sent::Kept { unreachable: false };
        }
        match outbox.may_send(job).await {
            Go::Send => {}
            Go::Wait => return Sent::Kept { unreachable: false },
            Go::Park => return Sent::Parked,
            Go::HandedOver => return Sent::HandedOver,
        }
        let rule = RetryRule {
            idempotent: !report.counts_twice(),
            retry_unreached: false,
        };
        // The sender does its own waiting between passes.
        let overrides = Overrides {
            retry: Some(RetryPolicy::none()),
            ..Overrides::default()
        };
        // From here on a `DELTA` may reach the service: dropped mid-send (its runtime
        // shutting down), it is unconfirmed, not kept.
        job.set_sending(report.counts_twice());
        let send = self.send_report(report, &overrides, rule, until);
        let sent = match outbox.while_leased(job, send).await {
            Some(Ok(_)) => Sent::Delivered,
            Some(Err(error)) => classify(report, error),
            // The lease was lost mid-send: a `DELTA` marked as sending is taken out as
            // unconfirmed by whoever claims it next; anything else may go again from there.
            None if report.counts_twice() => Sent::Unconfirmed(
                Error::connection(
                    Reached::Maybe,
                    "the lease on it in Redis was lost while it was being sent",
                )
                .in_operation(report.operation())
                .not_idempotent(),
            ),
            None => Sent::Kept { unreachable: false },
        };
        job.set_sending(false);
        sent
    }

    /// One pass over the queues: sends what it can, `concurrency` at a time, until they are
    /// empty or a report has to be kept. Local reports go first; the shared queue is claimed
    /// from while there is room.
    async fn drain(self: &Arc<Self>, until: Option<Instant>) -> Pass {
        let mut pass = Pass::default();
        let Some(outbox) = &self.outbox else {
            return pass;
        };
        outbox.queue.unpark();
        outbox.refresh_shared(until).await;
        // Each send runs as a task of its own, detached: a pass that is dropped (a cancelled
        // flush, a `select!`) leaves its sends to finish and settle their reports.
        let mut sending = futures_util::stream::FuturesUnordered::new();
        let mut shared_exhausted = !outbox.is_shared();
        // A claim that found nothing while this pass had reports out may have found their
        // lanes busy: once one of those claimed from Redis is settled, the next report of its
        // lane may be claimed, and the pass claims again rather than leave it behind.
        let mut exhausted_while_busy = false;
        let mut claimed = false;
        let mut rechecked = false;
        loop {
            if !pass.halted {
                // While the service is known unreachable, one report goes first to find out:
                // a `DELTA` marked as sending in a file that a crash then finds is counted
                // unconfirmed, so no more of them are at stake than needed.
                let concurrency = if outbox.offline.is_down() {
                    1
                } else {
                    outbox.config.concurrency
                };
                let room = concurrency.saturating_sub(sending.len());
                let mut jobs = outbox.take_local(room);
                // A claim is a round trip to Redis: made for a batch, not for every report.
                let in_flight = sending.len() + jobs.len();
                // Counted as a send of this instance from before the claim until its reports'
                // sends are counted, so that another pass waiting for the lanes this one holds
                // in Redis does not look in between and see none.
                let mut claiming = None;
                // After the deadline, no claim beyond the pass's first: each is a round trip.
                let may_claim = !claimed || until.is_none_or(|until| Instant::now() < until);
                if !shared_exhausted
                    && may_claim
                    && jobs.len() < room
                    && in_flight <= concurrency / 2
                {
                    claimed = true;
                    claiming = Some(SharedSend::new(outbox));
                    let claim = outbox.claim_shared(room - jobs.len()).await;
                    shared_exhausted = claim.exhausted;
                    exhausted_while_busy = claim.exhausted && in_flight > 0;
                    // Logged by the claim, one by one.
                    let (lost, unreadable) = (claim.unconfirmed as usize, claim.dropped as usize);
                    pass.report.unconfirmed += lost;
                    outbox.totals.unconfirmed.fetch_add(lost, Ordering::Relaxed);
                    pass.report.dropped += unreadable;
                    outbox
                        .totals
                        .dropped
                        .fetch_add(unreadable, Ordering::Relaxed);
                    jobs.extend(claim.jobs);
                }
                for job in jobs {
                    let core = self.clone();
                    let shared = job.is_shared();
                    let counted = shared.then(|| SharedSend::new(outbox));
                    sending.push(tokio::spawn(async move {
                        let _counted = counted;
                        let Some(outbox) = &core.outbox else {
                            return (Sent::Kept { unreachable: false }, shared);
                        };
                        let sent = core.send_queued(outbox, &job, until).await;
                        match sent {
                            Sent::Parked => outbox.park(job),
                            _ => outbox.finish(job, sent.done()).await,
                        }
                        core.record(outbox, &sent);
                        (sent, shared)
                    }));
                }
                drop(claiming);
            }
            if sending.is_empty() {
                // A claim that picked only reports it could not read dropped them and gave
                // nothing to send: the reports behind them may be claimed now. (Each such
                // claim takes at least one report out, so this ends.)
                if !pass.halted
                    && !shared_exhausted
                    && until.is_none_or(|until| Instant::now() < until)
                {
                    continue;
                }
                // A report parked because its copy in Redis was claimed, often by this very
                // pass: once the pass's sends are done, one more look finds it settled.
                if !rechecked && !pass.halted && pass.parked > 0 {
                    rechecked = true;
                    outbox.queue.unpark();
                    continue;
                }
                let others_sending = || {
                    outbox.queue.in_flight() > 0 || outbox.shared_sending.load(Ordering::SeqCst) > 0
                };
                if pass.halted || !others_sending() {
                    break;
                }
                // Another pass (the background sender, a flush, or a cancelled flush's
                // sends) is sending the rest: wait for it to settle one, then look again, so
                // that this pass's count is true. A lane it held in Redis may then have a
                // next report to claim.
                let settled = outbox.queue.settled.notified();
                tokio::pin!(settled);
                settled.as_mut().enable();
                if outbox.shared_sending.load(Ordering::SeqCst) > 0 {
                    shared_exhausted = false;
                }
                if others_sending() {
                    match until {
                        Some(until) => {
                            if tokio::time::timeout_at(until, settled).await.is_err() {
                                break;
                            }
                        }
                        None => settled.await,
                    }
                }
                continue;
            }
            let Some(joined) = futures_util::StreamExt::next(&mut sending).await else {
                continue;
            };
            let Ok((sent, shared)) = joined else {
                // A send panicked or was cancelled: its report stays in the queue's lane,
                // which stays busy; stop this pass rather than spin.
                pass.halted = true;
                continue;
            };
            if shared && exhausted_while_busy {
                shared_exhausted = false;
                exhausted_while_busy = false;
            }
            Self::tally(&sent, &mut pass);
        }
        pass.report.remaining = outbox.waiting().await;
        pass
    }

    /// Counts and logs what became of a report, and wakes passes waiting on it. Done by the
    /// send's own task, so that it holds also when the pass that started it was dropped.
    fn record(&self, outbox: &Outbox, sent: &Sent) {
        match sent {
            Sent::Delivered => {
                if outbox.offline.recovered() {
                    tracing::info!("the Kelviq API host answers again: delivering queued reports");
                }
                outbox.totals.delivered.fetch_add(1, Ordering::Relaxed);
            }
            Sent::Unconfirmed(error) => {
                tracing::error!(
                    %error,
                    "a queued DELTA usage report may have been counted without an answer; \
                     taken out of the queue rather than risk counting it twice"
                );
                outbox.totals.unconfirmed.fetch_add(1, Ordering::Relaxed);
            }
            Sent::Refused(error) => {
                tracing::error!(%error, "the Kelviq service refused a queued report; dropped");
                outbox.totals.dropped.fetch_add(1, Ordering::Relaxed);
            }
            Sent::Kept { unreachable: true } => {
                outbox.offline.failed();
            }
            Sent::Kept { .. } | Sent::HandedOver | Sent::Parked => {}
        }
        outbox.queue.settled.notify_waiters();
    }

    /// Adds what became of a report this pass sent to the pass's own count.
    fn tally(sent: &Sent, pass: &mut Pass) {
        match sent {
            Sent::Delivered => pass.report.delivered += 1,
            Sent::Unconfirmed(_) => pass.report.unconfirmed += 1,
            Sent::Refused(_) => pass.report.dropped += 1,
            Sent::Kept { .. } => pass.halted = true,
            Sent::Parked => pass.parked += 1,
            Sent::HandedOver => {}
        }
    }

    /// Delivers what the queue holds, once over; see [`Client::flush`](crate::Client::flush).
    /// The report counts what left the queue while it ran, whichever pass sent it (the
    /// background sender may be sending beside it).
    pub(crate) async fn flush(self: &Arc<Self>) -> FlushReport {
        let Some(outbox) = &self.outbox else {
            return FlushReport::default();
        };
        let before = outbox.snapshot();
        let pass = self.drain(None).await;
        outbox.since(before, pass.report.remaining)
    }

    /// Delivers what it can until the queue is empty or `within` has passed, trying again
    /// while the service is unreachable; says what is left.
    pub(crate) async fn shutdown(self: &Arc<Self>, within: Duration) -> FlushReport {
        let Some(outbox) = &self.outbox else {
            return FlushReport::default();
        };
        let until = Instant::now() + within;
        let before = outbox.snapshot();
        let mut pause = outbox.config.retry_interval;
        let remaining = loop {
            let pass = self.drain(Some(until)).await;
            let left = until.saturating_duration_since(Instant::now());
            if pass.report.remaining == 0 || left.is_zero() {
                break pass.report.remaining;
            }
            let progressed =
                pass.report.delivered + pass.report.dropped + pass.report.unconfirmed > 0;
            // Halted, or nothing this instance could take (reports other instances hold in
            // the shared queue): pause rather than spin.
            if pass.halted || !progressed {
                tokio::time::sleep(pause.min(left)).await;
                pause = (pause * 2).min(outbox.config.max_retry_interval);
            }
        };
        let total = outbox.since(before, remaining);
        if total.remaining > 0 {
            tracing::error!(
                remaining = total.remaining,
                "shutting down with reports the Kelviq service could not take"
            );
        }
        total
    }

    /// What left the queue since the client was built, and what waits now.
    pub(crate) async fn queue_totals(&self) -> FlushReport {
        let Some(outbox) = &self.outbox else {
            return FlushReport::default();
        };
        let remaining = outbox.waiting().await;
        outbox.since([0; 3], remaining)
    }

    /// How many reports wait.
    pub(crate) fn queued_reports(&self) -> usize {
        self.outbox.as_ref().map_or(0, |o| o.queue.len())
    }

    /// Starts the background sender on the current runtime unless it runs already, also
    /// after the runtime it ran on went away. Without a runtime at hand, `flush`, `shutdown`
    /// or the next report on a runtime deliver the queue.
    fn ensure_sender(self: &Arc<Self>, outbox: &Outbox) {
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            self.ensure_sender_on(outbox, &runtime);
        }
    }

    /// Starts the background sender on `runtime` when reports wait (such as those a durable
    /// queue kept from an earlier process) or may arrive from other instances (a shared
    /// queue).
    pub(super) fn resume_queue(self: &Arc<Self>, runtime: &tokio::runtime::Handle) {
        if let Some(outbox) = &self.outbox {
            if !outbox.queue.is_empty() || outbox.is_shared() {
                self.ensure_sender_on(outbox, runtime);
                outbox.wake.notify_one();
            }
        }
    }

    fn ensure_sender_on(self: &Arc<Self>, outbox: &Outbox, runtime: &tokio::runtime::Handle) {
        let mut sender = outbox.sender.lock().unwrap_or_else(|e| e.into_inner());
        if sender.as_ref().is_some_and(|task| !task.is_finished()) {
            return;
        }
        *sender = Some(runtime.spawn(send_in_background(
            Arc::downgrade(self),
            outbox.wake.clone(),
            outbox.config.clone(),
        )));
    }
}

/// The background sender. Idle while the queue is empty; once something is queued, it waits
/// `retry_interval` (the service just failed: trying again at once is pointless), drains
/// the queue, and while reports remain tries again after a pause that doubles up to
/// `max_retry_interval`. New reports meanwhile wait without network I/O. With a shared
/// queue it also looks every `max_retry_interval` for reports other instances left there.
/// It holds the core only while draining, so it ends with the client.
async fn send_in_background(core: Weak<Core>, wake: Arc<Notify>, config: QueueConfig) {
    loop {
        loop {
            let shared = match core.upgrade() {
                None => return,
                Some(core) if core.queued_reports() > 0 => break,
                Some(core) => core.outbox.as_ref().is_some_and(|o| o.is_shared()),
            };
            if shared {
                // Woken by a report queued here, or time to look for reports left by others.
                let _ = tokio::time::timeout(config.max_retry_interval, wake.notified()).await;
                break;
            }
            wake.notified().await;
        }
        let mut pause = config.retry_interval;
        loop {
            tokio::time::sleep(pause).await;
            let Some(core) = core.upgrade() else { return };
            let pass = core.drain(None).await;
            let report = pass.report;
            if report.remaining == 0 {
                break;
            }
            let progressed = report.delivered + report.dropped + report.unconfirmed > 0;
            pause = if pass.halted || !progressed {
                (pause * 2).min(config.max_retry_interval)
            } else {
                Duration::ZERO
            };
        }
    }
}

impl Drop for Core {
    fn drop(&mut self) {
        let Some(outbox) = &self.outbox else { return };
        outbox.wake.notify_one();
        let waiting = outbox.queue.len();
        #[cfg(feature = "durable-queue")]
        if let (Some(store), true) = (outbox.store(), waiting > 0) {
            tracing::warn!(
                waiting,
                store = ?store,
                "the Kelviq client was dropped with reports queued; they stay in the durable \
                 queue for the next client that opens it"
            );
            return;
        }
        if waiting > 0 {
            tracing::error!(
                waiting,
                "the Kelviq client was dropped with reports its service never received; \
                 call shutdown() before exiting to deliver them"
            );
        }
    }
}

/// A report claimed from Redis counted as on its way (in [`Outbox::shared_sending`]) for as
/// long as its send's task lives, however that task ends: answered, failed, or dropped.
struct SharedSend {
    count: Arc<std::sync::atomic::AtomicUsize>,
    queue: Arc<crate::queue::ReportQueue>,
}

impl SharedSend {
    fn new(outbox: &Outbox) -> Self {
        outbox.shared_sending.fetch_add(1, Ordering::SeqCst);
        Self {
            count: outbox.shared_sending.clone(),
            queue: outbox.queue.clone(),
        }
    }
}

impl Drop for SharedSend {
    fn drop(&mut self) {
        self.count.fetch_sub(1, Ordering::SeqCst);
        // After the count, so that a pass that saw it above zero is woken.
        self.queue.settled.notify_waiters();
    }
}
