//! Reporting: pre-aggregated usage and raw events.
//!
//! ```no_run
//! use kelviq::{Behaviour, Delivery};
//!
//! # async fn run(client: kelviq::Client) -> kelviq::Result<()> {
//! let delivery = client
//!     .reporting()
//!     .report_usage(150, "customer_001", "seats", Behaviour::Set)
//!     .send()
//!     .await?;
//! match delivery {
//!     Delivery::Sent(recorded) => println!("usage recorded: {} ({})", recorded.value, recorded.idempotency_key),
//!     Delivery::Queued { waiting } => println!("service unreachable: queued, {waiting} waiting"),
//! }
//!
//! // The idempotency key and the timestamp are filled in when not given.
//! let event = client
//!     .reporting()
//!     .report_event("customer_002", "api_invoked")
//!     .property("featureId", "api-usage")
//!     .property("value", 2)
//!     .send()
//!     .await?;
//! if let Some(event) = event.sent() {
//!     println!("event {} recorded at {}", event.idempotency_key, event.timestamp);
//! }
//! # Ok(()) }
//! ```
//!
//! Reports that cannot reach the service wait in the offline queue (see [`Delivery`] and
//! [`Client::flush`](crate::Client::flush)); the queue's rules are in
//! [`QueueConfig`](crate::QueueConfig).

use kelviq_gen::types as wire;
use serde_json::{Map, Value};

use crate::client::{send_impls, Async, Ctx};
use crate::error::{Result, ValidationError};
use crate::queue::{deliver, Delivery, Queued, QueuedAnswer};
use crate::types::Behaviour;
use crate::validate;

/// An event as the service recorded it.
pub use kelviq_gen::types::EventReport;
/// A usage report as the service recorded it.
pub use kelviq_gen::types::UsageReport;

/// The reporting operations, from [`Client::reporting`](crate::Client::reporting).
#[derive(Debug, Clone, Copy)]
pub struct Reporting<'a, M = Async> {
    ctx: Ctx<'a, M>,
}

impl<'a, M: Copy> Reporting<'a, M> {
    pub(crate) fn new(ctx: Ctx<'a, M>) -> Self {
        Self { ctx }
    }

    /// Reports the customer's usage of a feature: [`Behaviour::Set`] replaces the recorded
    /// usage with `value`, [`Behaviour::Delta`] adds `value` to it.
    ///
    /// A `DELTA` report is never sent twice once the service may have received it (a
    /// time-out, a broken connection or a 5xx is returned to you, not retried), since a
    /// second copy would count twice.
    pub fn report_usage(
        &self,
        value: i64,
        customer_id: impl Into<String>,
        feature_id: impl Into<String>,
        behaviour: Behaviour,
    ) -> ReportUsage<'a, M> {
        ReportUsage {
            ctx: self.ctx,
            value,
            customer_id: customer_id.into(),
            feature_id: feature_id.into(),
            behaviour,
            resource_id: None,
        }
    }

    /// Reports one raw event for metered billing.
    ///
    /// The idempotency key defaults to a fresh UUID and the timestamp to the current UTC
    /// time; both are fixed once per call, so every retry of the call carries the same key
    /// and the service counts the event at most once.
    pub fn report_event(
        &self,
        customer_id: impl Into<String>,
        event_name: impl Into<String>,
    ) -> ReportEvent<'a, M> {
        ReportEvent {
            ctx: self.ctx,
            customer_id: customer_id.into(),
            event_name: event_name.into(),
            idempotency_key: None,
            timestamp: None,
            properties: None,
            resource_id: None,
        }
    }
}

/// Reports usage; made by [`Reporting::report_usage`].
#[derive(Debug, Clone)]
#[must_use = "a request does nothing until `send` is called"]
pub struct ReportUsage<'a, M = Async> {
    ctx: Ctx<'a, M>,
    value: i64,
    customer_id: String,
    feature_id: String,
    behaviour: Behaviour,
    resource_id: Option<String>,
}

impl<M> ReportUsage<'_, M> {
    /// The resource the usage belongs to, when usage is tracked per resource.
    pub fn resource_id(mut self, resource_id: impl Into<String>) -> Self {
        self.resource_id = Some(resource_id.into());
        self
    }

    async fn execute(self) -> Result<Delivery<UsageReport>> {
        let body = wire::ReportUsageRequest {
            value: self.value,
            customer_id: validate::identifier("customer_id", &self.customer_id)?,
            feature_id: validate::identifier("feature_id", &self.feature_id)?,
            behaviour: self.behaviour.into(),
            resource_id: self.resource_id,
        };
        Ok(match deliver(self.ctx.client, Queued::Usage(body)).await? {
            Delivery::Sent(QueuedAnswer::Usage(report)) => Delivery::Sent(report),
            Delivery::Sent(QueuedAnswer::Event(_)) => {
                unreachable!("a usage report answers with usage")
            }
            Delivery::Queued { waiting } => Delivery::Queued { waiting },
        })
    }
}

send_impls!(ReportUsage => Delivery<UsageReport>);

/// Reports an event; made by [`Reporting::report_event`].
#[derive(Debug, Clone)]
#[must_use = "a request does nothing until `send` is called"]
pub struct ReportEvent<'a, M = Async> {
    ctx: Ctx<'a, M>,
    customer_id: String,
    event_name: String,
    idempotency_key: Option<String>,
    timestamp: Option<String>,
    properties: Option<Map<String, Value>>,
    resource_id: Option<String>,
}

impl<M> ReportEvent<'_, M> {
    /// A key you generate so that the event counts at most once (default: a fresh UUID).
    pub fn idempotency_key(mut self, key: impl Into<String>) -> Self {
        self.idempotency_key = Some(key.into());
        self
    }

    /// When the event happened, UTC, as `YYYY-MM-DD HH:MM:SS.ffffff` (default: now).
    pub fn timestamp(mut self, timestamp: impl Into<String>) -> Self {
        self.timestamp = Some(timestamp.into());
        self
    }

    /// When the event happened (default: now).
    pub fn timestamp_at(mut self, at: chrono::DateTime<chrono::Utc>) -> Self {
        self.timestamp = Some(at.format(validate::TIMESTAMP_FORMAT).to_string());
        self
    }

    /// All the event's custom properties at once, replacing any set before. Values must be
    /// strings, numbers or booleans.
    pub fn properties(mut self, properties: Map<String, Value>) -> Self {
        self.properties = Some(properties);
        self
    }

    /// One custom property. Values must be strings, numbers or booleans.
    pub fn property(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.properties
            .get_or_insert_with(Map::new)
            .insert(key.into(), value.into());
        self
    }

    /// The resource the event belongs to.
    pub fn resource_id(mut self, resource_id: impl Into<String>) -> Self {
        self.resource_id = Some(resource_id.into());
        self
    }

    async fn execute(self) -> Result<Delivery<EventReport>> {
        let idempotency_key = self
            .idempotency_key
            .unwrap_or_else(|| uuid::Uuid::new_v4().simple().to_string());
        let timestamp = self.timestamp.unwrap_or_else(|| {
            chrono::Utc::now()
                .format(validate::TIMESTAMP_FORMAT)
                .to_string()
        });
        if let Some(properties) = &self.properties {
            for (key, value) in properties {
                if !(value.is_string() || value.is_number() || value.is_boolean()) {
                    return Err(ValidationError::new(
                        "properties",
                        format!("{key}: {value}"),
                        "string, number or boolean values",
                    )
                    .into());
                }
            }
        }
        let body = wire::ReportEventRequest {
            customer_id: validate::identifier("customer_id", &self.customer_id)?,
            event_name: validate::identifier("event_name", &self.event_name)?,
            idempotency_key: validate::identifier("idempotency_key", &idempotency_key)?,
            timestamp: validate::timestamp(&timestamp)?,
            properties: self.properties.map(wire::EventProperties),
            resource_id: self.resource_id,
        };
        Ok(match deliver(self.ctx.client, Queued::Event(body)).await? {
            Delivery::Sent(QueuedAnswer::Event(event)) => Delivery::Sent(event),
            Delivery::Sent(QueuedAnswer::Usage(_)) => {
                unreachable!("an event answers with an event")
            }
            Delivery::Queued { waiting } => Delivery::Queued { waiting },
        })
    }
}

send_impls!(ReportEvent => Delivery<EventReport>);
