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
//!
//! // Fire and forget from a request handler: the future owns what it needs.
//! tokio::spawn(client.reporting().report_usage(1, "customer_001", "api-calls", Behaviour::Delta).send());
//! # Ok(()) }
//! ```
//!
//! Reports that cannot reach the service wait in the offline queue (see [`Delivery`] and
//! [`Client::flush`](crate::Client::flush)); which report is queued, retried, or returned
//! to you is in [`QueueConfig`](crate::QueueConfig)'s docs and the table on
//! [`RetryPolicy`](crate::RetryPolicy).

use kelviq_gen::types as wire;
use serde_json::{Map, Value};

use crate::core::ReportAnswer;
use crate::error::{Result, ValidationError};
use crate::model::{Delivery, EventReport, UsageReport};
use crate::queue::Report;
use crate::request::{invalid, request_options, send_impls, Async, Ctx, RequestOptions};
use crate::response::Response;
use crate::time::{service_timestamp, IntoTime, TimeInput};
use crate::types::Behaviour;
use crate::validate;

/// The reporting operations, from [`Client::reporting`](crate::Client::reporting).
#[derive(Debug, Clone, Copy)]
pub struct Reporting<'a, M = Async> {
    ctx: &'a Ctx<M>,
}

impl<'a, M: Clone> Reporting<'a, M> {
    pub(crate) fn new(ctx: &'a Ctx<M>) -> Self {
        Self { ctx }
    }

    /// Reports the customer's usage of a feature: [`Behaviour::Set`] replaces the recorded
    /// usage with `value`, [`Behaviour::Delta`] adds `value` to it.
    ///
    /// A `DELTA` report is never sent twice once the service may have received it: a
    /// time-out, a broken connection or a 5xx comes back as an
    /// [unconfirmed](crate::Error::is_unconfirmed) error, since a second copy would count
    /// twice.
    pub fn report_usage(
        &self,
        value: i64,
        customer_id: impl Into<String>,
        feature_id: impl Into<String>,
        behaviour: Behaviour,
    ) -> ReportUsage<M> {
        ReportUsage {
            ctx: self.ctx.clone(),
            value,
            customer_id: customer_id.into(),
            feature_id: feature_id.into(),
            behaviour,
            resource_id: None,
            options: RequestOptions::default(),
        }
    }

    /// Reports one raw event for metered billing.
    ///
    /// The idempotency key defaults to a fresh UUID and the timestamp to the current UTC
    /// time; both are fixed once per call, so every retry and every delivery from the queue
    /// carries the same key and the service counts the event at most once.
    pub fn report_event(
        &self,
        customer_id: impl Into<String>,
        event_name: impl Into<String>,
    ) -> ReportEvent<M> {
        ReportEvent {
            ctx: self.ctx.clone(),
            customer_id: customer_id.into(),
            event_name: event_name.into(),
            idempotency_key: None,
            timestamp: None,
            properties: None,
            resource_id: None,
            options: RequestOptions::default(),
        }
    }
}

/// Reports usage; made by [`Reporting::report_usage`].
#[derive(Debug, Clone)]
#[must_use = "a request does nothing until `send` is called"]
pub struct ReportUsage<M = Async> {
    ctx: Ctx<M>,
    value: i64,
    customer_id: String,
    feature_id: String,
    behaviour: Behaviour,
    resource_id: Option<String>,
    options: RequestOptions,
}

impl<M> ReportUsage<M> {
    /// The resource the usage belongs to, when usage is tracked per resource.
    pub fn resource_id(mut self, resource_id: impl Into<String>) -> Self {
        self.resource_id = Some(resource_id.into());
        self
    }

    async fn execute(self, want_raw: bool) -> Result<Response<Delivery<UsageReport>>> {
        const OPERATION: &str = "reporting.report_usage";
        let body = (|| {
            Ok::<_, ValidationError>(wire::ReportUsageRequest {
                value: self.value,
                customer_id: validate::identifier("customer_id", &self.customer_id)?,
                feature_id: validate::identifier("feature_id", &self.feature_id)?,
                behaviour: self.behaviour.to_wire(),
                resource_id: self.resource_id.clone(),
            })
        })()
        .map_err(invalid(OPERATION))?;
        let overrides = self
            .options
            .overrides(want_raw)
            .map_err(invalid(OPERATION))?;
        let delivery = self
            .ctx
            .core
            .deliver(Report::Usage(body), &overrides)
            .await?;
        into_response(OPERATION, delivery, |answer| match answer {
            ReportAnswer::Usage(report) => Some(report),
            ReportAnswer::Event(_) => None,
        })
    }
}

request_options!([M] ReportUsage<M>);
send_impls!(ReportUsage => Delivery<UsageReport>);

/// Reports an event; made by [`Reporting::report_event`].
#[derive(Debug, Clone)]
#[must_use = "a request does nothing until `send` is called"]
pub struct ReportEvent<M = Async> {
    ctx: Ctx<M>,
    customer_id: String,
    event_name: String,
    idempotency_key: Option<String>,
    timestamp: Option<TimeInput>,
    properties: Option<Map<String, Value>>,
    resource_id: Option<String>,
    options: RequestOptions,
}

impl<M> ReportEvent<M> {
    /// A key you generate so that the event counts at most once (default: a fresh UUID).
    pub fn idempotency_key(mut self, key: impl Into<String>) -> Self {
        self.idempotency_key = Some(key.into());
        self
    }

    /// When the event happened (default: now): a `chrono` date-time, `SystemTime`, RFC 3339
    /// text, or the service's own format, UTC (`2025-05-23 10:30:00.123456`); see
    /// [`IntoTime`]. It travels in the service's format.
    pub fn timestamp(mut self, timestamp: impl IntoTime) -> Self {
        self.timestamp = Some(timestamp.into_time());
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

    fn body(&self) -> Result<wire::ReportEventRequest, ValidationError> {
        let idempotency_key = self
            .idempotency_key
            .clone()
            .unwrap_or_else(|| uuid::Uuid::new_v4().simple().to_string());
        let timestamp = match &self.timestamp {
            Some(given) => given.as_instant("timestamp")?,
            None => chrono::Utc::now(),
        };
        if let Some(properties) = &self.properties {
            for (key, value) in properties {
                if !(value.is_string() || value.is_number() || value.is_boolean()) {
                    return Err(ValidationError::new(
                        "properties",
                        format!("{key}: {value}"),
                        "string, number or boolean values",
                    ));
                }
            }
        }
        // The document's pattern wants a four-digit year, which chrono writes only for
        // 0000..=9999 (a sign and five digits beyond); the generated client checks no pattern.
        if !(0..=9999).contains(&chrono::Datelike::year(&timestamp)) {
            return Err(ValidationError::new(
                "timestamp",
                service_timestamp(timestamp),
                "a UTC time between the years 0000 and 9999",
            ));
        }
        let timestamp = service_timestamp(timestamp);
        Ok(wire::ReportEventRequest {
            customer_id: validate::identifier("customer_id", &self.customer_id)?,
            event_name: validate::identifier("event_name", &self.event_name)?,
            idempotency_key: validate::identifier("idempotency_key", &idempotency_key)?,
            timestamp,
            properties: self.properties.clone().map(wire::EventProperties),
            resource_id: self.resource_id.clone(),
        })
    }

    async fn execute(self, want_raw: bool) -> Result<Response<Delivery<EventReport>>> {
        const OPERATION: &str = "reporting.report_event";
        let body = self.body().map_err(invalid(OPERATION))?;
        let overrides = self
            .options
            .overrides(want_raw)
            .map_err(invalid(OPERATION))?;
        let delivery = self
            .ctx
            .core
            .deliver(Report::Event(body), &overrides)
            .await?;
        into_response(OPERATION, delivery, |answer| match answer {
            ReportAnswer::Event(report) => Some(report),
            ReportAnswer::Usage(_) => None,
        })
    }
}

request_options!([M] ReportEvent<M>);
send_impls!(ReportEvent => Delivery<EventReport>);

/// The delivery as the caller sees it: the typed answer of a sent report, with its HTTP
/// answer when one was exchanged.
fn into_response<T>(
    operation: &'static str,
    delivery: Delivery<crate::transport::Answered<ReportAnswer>>,
    pick: impl FnOnce(ReportAnswer) -> Option<T>,
) -> Result<Response<Delivery<T>>> {
    match delivery {
        Delivery::Sent(answered) => match pick(answered.value) {
            Some(value) => Ok(Response::new(Delivery::Sent(value), answered.raw)),
            None => Err(
                crate::Error::config("a report was answered as another kind of report")
                    .in_operation(operation),
            ),
        },
        Delivery::Queued { waiting } => Ok(Response::new(Delivery::Queued { waiting }, None)),
    }
}
