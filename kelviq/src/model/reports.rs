//! Usage reports and events, as the service recorded them.

use kelviq_gen::types as wire;

use super::FromWire;
use serde_json::{Map, Value};

/// A usage report as the service recorded it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct UsageReport {
    /// The value reported.
    pub value: i64,
    /// The customer.
    pub customer_id: String,
    /// The feature.
    pub feature_id: String,
    /// `SET` or `DELTA` as the service spelled it (kept as text: the service may add
    /// behaviours).
    pub behaviour: String,
    /// The organisation the report belongs to.
    pub org_id: String,
    /// The event name the service recorded the report under.
    pub event_name: String,
    /// The key the service counted the report under.
    pub idempotency_key: String,
    /// When the service recorded it, in its own format.
    pub timestamp: String,
    /// The resource the usage belongs to, when given.
    pub resource_id: Option<String>,
}

impl FromWire<wire::UsageReport> for UsageReport {
    fn from_wire(report: wire::UsageReport) -> Self {
        Self {
            value: report.value,
            customer_id: report.customer_id,
            feature_id: report.feature_id,
            behaviour: report.behaviour,
            org_id: report.org_id,
            event_name: report.event_name,
            idempotency_key: report.idempotency_key,
            timestamp: report.timestamp,
            resource_id: report.resource_id,
        }
    }
}

/// An event as the service recorded it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[non_exhaustive]
pub struct EventReport {
    /// The customer.
    pub customer_id: String,
    /// The event's name.
    pub event_name: String,
    /// The key the event counts once under.
    pub idempotency_key: String,
    /// When the event happened, in the service's format (`2025-05-23 10:30:00.123456`).
    pub timestamp: String,
    /// The organisation the event belongs to.
    pub org_id: String,
    /// The event's custom properties.
    pub properties: Map<String, Value>,
    /// The resource the event belongs to, when given.
    pub resource_id: Option<String>,
}

impl FromWire<wire::EventReport> for EventReport {
    fn from_wire(report: wire::EventReport) -> Self {
        Self {
            customer_id: report.customer_id,
            event_name: report.event_name,
            idempotency_key: report.idempotency_key,
            timestamp: report.timestamp,
            org_id: report.org_id,
            properties: report.properties.unwrap_or_default(),
            resource_id: report.resource_id,
        }
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
    /// The service could not take it now; the report waits in the offline queue and will be
    /// delivered by the background sender, [`Client::flush`](crate::Client::flush) or
    /// [`Client::shutdown`](crate::Client::shutdown).
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

/// What left the queue while a flush or a shutdown ran (whichever of the client's senders
/// sent it: the background sender may be sending beside it), and what is left.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct FlushReport {
    /// Reports the service recorded.
    pub delivered: usize,
    /// Reports the service refused (4xx); the reasons are logged.
    pub dropped: usize,
    /// `DELTA` reports sent without a usable answer (5xx, time-out, broken connection), or
    /// found on their way when the process sending them died, taken out of the queue rather
    /// than risk counting them twice; logged at error level.
    pub unconfirmed: usize,
    /// Reports still waiting: in this client's queue, and in the shared queue in Redis when
    /// there is one (where any instance may deliver them).
    pub remaining: usize,
}
