//! Offline reporting: usage reports and events that could not reach the service wait in a
//! bounded queue, in order, and are delivered before the next report, by
//! [`Client::flush`](crate::Client::flush), and by a background task while the client lives.
//!
//! Only what provably never reached the service is queued (the connection could not be
//! made), so a queued report is never a duplicate. The caller is told: the report's `send()`
//! answers [`Delivery::Queued`], never a made-up service response.
//!
//! When a queued report is sent:
//!
//! | answer | the report |
//! |---|---|
//! | success | leaves the queue |
//! | 429, 5xx, or still no connection | stays, in its place, for a later try |
//! | 400, 401, 403, 404 (any other 4xx) | leaves the queue; the reason is logged |
//! | time-out or broken connection, for a `DELTA` | leaves the queue unconfirmed, logged: resending could count it twice |
//! | time-out or broken connection, for `SET` or an event | stays (repeating them is safe) |

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use kelviq_gen::types as wire;

use crate::error::{Error, Result};
use crate::transport::Idempotency;
use crate::types::Behaviour;

/// How offline reporting behaves.
///
/// | setting | default |
/// |---|---|
/// | `enabled` | yes |
/// | `capacity`: reports kept while the service is unreachable | 10 000 |
/// | `retry_interval`: how often the background task tries again | 1 s |
///
/// ```
/// let queue = kelviq::QueueConfig::default().capacity(50_000);
/// let client = kelviq::Kelviq::builder("sk_test").offline_queue(queue).build()?;
/// # Ok::<(), kelviq::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueConfig {
    enabled: bool,
    capacity: usize,
    retry_interval: Duration,
}

impl Default for QueueConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            capacity: 10_000,
            retry_interval: Duration::from_secs(1),
        }
    }
}

impl QueueConfig {
    /// No queue: a report that cannot reach the service is an error.
    pub fn disabled() -> Self {
        Self {
            enabled: false,
            ..Self::default()
        }
    }

    /// How many reports wait at most; one more is [`Error::QueueFull`].
    pub fn capacity(mut self, capacity: usize) -> Self {
        self.capacity = capacity;
        self
    }

    /// How often the background task tries to deliver queued reports.
    pub fn retry_interval(mut self, interval: Duration) -> Self {
        self.retry_interval = interval;
        self
    }
}

/// What became of a report.
///
/// ```
/// # async fn run(client: kelviq::Client) -> kelviq::Result<()> {
/// match client.reporting().report_usage(1, "cust", "api-usage", kelviq::Behaviour::Delta).send().await? {
///     kelviq::Delivery::Sent(report) => println!("counted: {}", report.idempotency_key),
///     kelviq::Delivery::Queued { waiting } => println!("service unreachable; {waiting} reports queued"),
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq)]
#[must_use]
pub enum Delivery<T> {
    /// The service recorded it and answered this.
    Sent(T),
    /// The service could not be reached; the report waits in the offline queue.
    Queued {
        /// How many reports wait, this one included.
        waiting: usize,
    },
}

impl<T> Delivery<T> {
    /// The service's answer, if it was sent.
    pub fn sent(self) -> Option<T> {
        match self {
            Delivery::Sent(answer) => Some(answer),
            Delivery::Queued { .. } => None,
        }
    }

    /// Whether it waits in the queue.
    pub fn is_queued(&self) -> bool {
        matches!(self, Delivery::Queued { .. })
    }
}

/// What a flush did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct FlushReport {
    /// Reports the service recorded.
    pub delivered: usize,
    /// Reports the service refused (4xx); the reasons are logged.
    pub dropped: usize,
    /// `DELTA` reports sent without an answer, taken out of the queue rather than risk
    /// counting them twice; logged.
    pub unconfirmed: usize,
    /// Reports still waiting.
    pub remaining: usize,
}

/// A report waiting for the service, already checked and built.
#[derive(Debug, Clone)]
pub(crate) enum Queued {
    Usage(wire::ReportUsageRequest),
    Event(wire::ReportEventRequest),
}

impl Queued {
    fn idempotency(&self) -> Idempotency {
        match self {
            Queued::Usage(r) if r.behaviour == wire::Behaviour::Delta => Idempotency::Unsafe,
            _ => Idempotency::Safe,
        }
    }

    /// Sends it; on success, a usage report also moves the cached usage.
    pub(crate) async fn send(&self, client: &crate::Client) -> Result<QueuedAnswer> {
        match self {
            Queued::Usage(body) => {
                let report = client
                    .call(
                        "reporting.report_usage",
                        self.idempotency(),
                        client.api().report_usage().body(body.clone()).send(),
                    )
                    .await?;
                if let Some(cache) = client.cache() {
                    let behaviour = match body.behaviour {
                        wire::Behaviour::Set => Behaviour::Set,
                        wire::Behaviour::Delta => Behaviour::Delta,
                    };
                    cache.apply_usage(&body.customer_id, &body.feature_id, behaviour, body.value);
                }
                Ok(QueuedAnswer::Usage(report))
            }
            Queued::Event(body) => {
                let event = client
                    .call(
                        "reporting.report_event",
                        Idempotency::Safe,
                        client.api().report_event().body(body.clone()).send(),
                    )
                    .await?;
                Ok(QueuedAnswer::Event(event))
            }
        }
    }
}

pub(crate) enum QueuedAnswer {
    Usage(wire::UsageReport),
    Event(wire::EventReport),
}

/// Sends a report, through the queue: reports already waiting go first; if they still
/// cannot, or this one cannot reach the service, it joins them.
pub(crate) async fn deliver(
    client: &crate::Client,
    report: Queued,
) -> Result<Delivery<QueuedAnswer>> {
    let Some(queue) = client.queue() else {
        return report.send(client).await.map(Delivery::Sent);
    };
    if queue.len() > 0 {
        queue.flush(client).await;
        if queue.len() > 0 {
            let waiting = queue.push(report, client)?;
            return Ok(Delivery::Queued { waiting });
        }
    }
    match report.send(client).await {
        Ok(answer) => Ok(Delivery::Sent(answer)),
        Err(error) if never_reached(&error) => {
            let waiting = queue.push(report, client)?;
            Ok(Delivery::Queued { waiting })
        }
        Err(error) => Err(error),
    }
}

/// Whether a failed send proves the request never reached the service.
pub(crate) fn never_reached(error: &Error) -> bool {
    matches!(
        error,
        Error::Connection {
            may_have_reached_server: false,
            ..
        }
    )
}

pub(crate) struct ReportQueue {
    items: Mutex<VecDeque<Queued>>,
    /// One flush at a time, so that reports leave in order.
    flushing: tokio::sync::Mutex<()>,
    background: AtomicBool,
    config: QueueConfig,
}

impl std::fmt::Debug for ReportQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReportQueue")
            .field("waiting", &self.len())
            .field("capacity", &self.config.capacity)
            .finish()
    }
}

impl ReportQueue {
    pub(crate) fn new(config: &QueueConfig) -> Option<Self> {
        config.enabled.then(|| Self {
            items: Mutex::default(),
            flushing: tokio::sync::Mutex::new(()),
            background: AtomicBool::new(false),
            config: config.clone(),
        })
    }

    fn items(&self) -> std::sync::MutexGuard<'_, VecDeque<Queued>> {
        self.items.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn len(&self) -> usize {
        self.items().len()
    }

    /// Puts a report at the back; a full queue is an error, never a silent drop.
    pub(crate) fn push(&self, report: Queued, client: &crate::Client) -> Result<usize> {
        let waiting = {
            let mut items = self.items();
            if items.len() >= self.config.capacity {
                return Err(Error::QueueFull {
                    capacity: self.config.capacity,
                });
            }
            items.push_back(report);
            items.len()
        };
        tracing::warn!(waiting, "the Kelviq service is unreachable; report queued");
        self.start_background(client);
        Ok(waiting)
    }

    /// Sends queued reports in order until the queue is empty or the service fails again.
    pub(crate) async fn flush(&self, client: &crate::Client) -> FlushReport {
        let _turn = self.flushing.lock().await;
        let mut report = FlushReport::default();
        loop {
            let Some(next) = self.items().front().cloned() else {
                break;
            };
            match next.send(client).await {
                Ok(_) => report.delivered += 1,
                Err(error) => match error.status().map(|s| s.as_u16()) {
                    Some(429) | Some(500..=599) => break,
                    Some(_) => {
                        tracing::error!(%error, "the Kelviq service refused a queued report; dropped");
                        report.dropped += 1;
                    }
                    None if never_reached(&error) => break,
                    None if next.idempotency() == Idempotency::Unsafe => {
                        tracing::error!(
                            %error,
                            "a queued DELTA usage report was sent but not answered; not resent, \
                             since it may have been counted"
                        );
                        report.unconfirmed += 1;
                    }
                    None => break,
                },
            }
            self.items().pop_front();
        }
        report.remaining = self.len();
        report
    }

    /// Starts the background task that retries queued reports, unless it runs already or
    /// no runtime is at hand (then the next report or `flush` delivers them).
    fn start_background(&self, client: &crate::Client) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        if self.background.swap(true, Ordering::AcqRel) {
            return;
        }
        let weak = client.downgrade();
        let interval = self.config.retry_interval;
        runtime.spawn(async move {
            loop {
                tokio::time::sleep(interval).await;
                // The task lives only as long as the client.
                let Some(client) = weak.upgrade() else {
                    return;
                };
                let Some(queue) = client.queue() else { return };
                let report = queue.flush(&client).await;
                if report.remaining == 0 {
                    queue.background.store(false, Ordering::Release);
                    // A report queued meanwhile may have seen the flag still set.
                    if queue.len() == 0 || queue.background.swap(true, Ordering::AcqRel) {
                        return;
                    }
                }
            }
        });
    }
}
