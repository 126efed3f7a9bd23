//! Webhooks the emulator sends, signed as Kelviq signs them, to the endpoints registered
//! through the control surface (`POST /_mock/webhooks`) or
//! [`MockServer::add_webhook`](crate::MockServer::add_webhook).
//!
//! # Which events
//!
//! Every type of Kelviq's guide (kelviq/docs `guides/webhooks.mdx`) that the emulator's state
//! can cause, when that state changes:
//!
//! | what changed | events |
//! |---|---|
//! | a customer created (by the API, or first named by a checkout) | `customer.created` |
//! | a customer updated | `customer.updated` (`previous_attributes`: the fields changed) |
//! | a checkout completed | `checkout.completed`, then the purchase's events |
//! | a purchase (a completed checkout, a subscription created, a one-time charge) | `subscription.created`; `payment_method.created` when the customer had no saved card; `invoice.created` (`OPEN`), `invoice.paid` (`PAID`); `order.created` (`COMPLETE`) |
//! | a subscription moved to another plan or period | `subscription.updated`, and `subscription.plan_changed` when the plan changed |
//! | a subscription cancelled now (`IMMEDIATE`) | `subscription.cancelled` |
//! | a cancellation scheduled for later (period end, a date) | `subscription.updated`, `end_date` set, status still `active` (the emulator keeps no clock: no `subscription.cancelled` follows when the date passes) |
//! | a refund | `refund.created` (`PROCESSING`), `refund.updated` (`SUCCEEDED`), `order.refunded` (`PARTIAL_REFUND` or `REFUNDED`) |
//!
//! `data.object` is the object as the guide's examples show it: snake_case fields, an
//! `object` naming the kind (`customer`, `checkout_session`, `subscription`, `order`,
//! `invoice`, `refund`, `payment_method`), the customer embedded as `{id, name, email,
//! customer_id, billing_address}`, and, in checkout, order and invoice objects,
//! `customer_id` holding Kelviq's id for the customer (a UUID) as the guide's examples do,
//! not the caller's identifier (which is `customer.customer_id`). Update events carry the
//! changed fields' old values in `previous_attributes`; `subscription.plan_changed` carries
//! the whole former subscription there. Amounts are in USD; the plan is `{name, version,
//! identifier}` (version 1), the product one made-up product for the whole catalogue.
//!
//! Not sent, because nothing in the emulator causes them: `order.updated` (an order is
//! complete when recorded; only refunds change it, which is `order.refunded`),
//! `invoice.payment_failed` (no payment fails), `payment_method.updated` and
//! `payment_method.deleted` (no operation changes or removes a saved card),
//! `feature.usage_alert` (the catalogue holds no usage-alert thresholds). The guide lists no
//! catalog event types, and the emulator invents none: creating, publishing or archiving
//! products, features and plans sends nothing, and, as the emulator migrates no existing
//! subscription when a plan is published, no `subscription.updated` either.
//!
//! # Delivery and retries
//!
//! Each delivery carries `webhook-id` (the event's id), `webhook-timestamp` (Unix seconds)
//! and `webhook-signature: v1,<hex>`, the HMAC-SHA256 of `{id}.{timestamp}.{body}` keyed with
//! the endpoint's secret as given. A delivery not answered 2xx is retried as the service
//! retries it: [`RETRIES`] times (so [`ATTEMPTS`] attempts in all), [`DEFAULT_RETRY_INTERVAL`]
//! (60 s) apart unless configured otherwise. Tests shorten the pause with
//! [`MockConfig::webhook_retry_interval`](crate::MockConfig::webhook_retry_interval), the
//! binary's `--webhook-retry-interval 200ms`, `PUT /_mock/webhooks/retry-interval` or
//! [`MockServer::set_webhook_retry_interval`](crate::MockServer::set_webhook_retry_interval).
//! A 2xx answer stops the retries, and so does a reset (`POST /_mock/reset`,
//! [`MockServer::reset`](crate::MockServer::reset)) for the events sent before it. Every attempt is recorded
//! ([`MockServer::webhook_deliveries`](crate::MockServer::webhook_deliveries), and
//! `listWebhookEventLogs`).

use std::time::Duration;

use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sha2::Sha256;

use crate::App;

/// How many times a delivery not answered 2xx is retried, as the service documents.
pub const RETRIES: u32 = 3;

/// How many times one event is offered to one endpoint: the first attempt and the
/// [`RETRIES`].
pub const ATTEMPTS: u32 = 1 + RETRIES;

/// The pause between two attempts unless configured otherwise: the service's 60 seconds.
pub const DEFAULT_RETRY_INTERVAL: Duration = Duration::from_secs(60);

/// Reads a retry interval as the binary's `--webhook-retry-interval` and the control
/// surface take it: a whole number and a unit, `ms`, `s` or `m` (`200ms`, `1s`, `60s`,
/// `2m`).
///
/// ```
/// use std::time::Duration;
/// use kelviq_mock::webhooks::parse_interval;
/// assert_eq!(parse_interval("200ms"), Ok(Duration::from_millis(200)));
/// assert_eq!(parse_interval("2m"), Ok(Duration::from_secs(120)));
/// assert!(parse_interval("200").is_err());
/// ```
pub fn parse_interval(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let digits = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(digits);
    let bad = || format!("{text:?} is not an interval such as 200ms, 1s or 2m");
    let number: u64 = number.parse().map_err(|_| bad())?;
    match unit {
        "ms" => Ok(Duration::from_millis(number)),
        "s" => Ok(Duration::from_secs(number)),
        "m" => Ok(Duration::from_secs(number.checked_mul(60).ok_or_else(bad)?)),
        _ => Err(bad()),
    }
}

/// Where webhooks go.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Endpoint {
    /// The URL deliveries are posted to.
    pub url: String,
    /// The endpoint's signing secret (`kq_whsec_…`), used whole as the HMAC key.
    pub secret: String,
}

/// An event waiting to be sent.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Event {
    body: Value,
    id: String,
    created: chrono::DateTime<chrono::Utc>,
}

impl Event {
    pub(crate) fn new(kind: &str, object: Value, previous: Option<Value>) -> Self {
        let uuid = uuid::Uuid::new_v4();
        let id = format!("evt_{}", uuid.simple());
        let created = chrono::Utc::now();
        let mut data = json!({ "object": object });
        if let Some(previous) = previous {
            data["previous_attributes"] = previous;
        }
        let body = json!({
            "id": id,
            "type": kind,
            "created_at": created.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            "data": data,
        });
        Self { body, id, created }
    }
}

/// One attempt to deliver an event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Delivery {
    /// The event's id.
    pub event_id: String,
    /// The event's type.
    pub event_type: String,
    /// Where it went.
    pub url: String,
    /// Which attempt, from 1.
    pub attempt: u32,
    /// The status the endpoint answered, when it answered.
    pub status: Option<u16>,
    /// What went wrong, when nothing was answered.
    pub error: Option<String>,
}

/// The `webhook-signature` value for a delivery.
pub fn sign(secret: &str, id: &str, timestamp: u64, body: &[u8]) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(format!("{id}.{timestamp}.").as_bytes());
    mac.update(body);
    format!("v1,{}", hex::encode(mac.finalize().into_bytes()))
}

/// Sends every pending event of every tenant, each delivery in a task of its own on the
/// emulator's runtime.
pub(crate) fn dispatch(app: &App) {
    let (pending, epoch) = {
        let mut store = app.store();
        (store.take_events(), store.epoch)
    };
    for (endpoints, events) in pending {
        for event in events {
            for endpoint in &endpoints {
                let (app, endpoint, event) = (app.clone(), endpoint.clone(), event.clone());
                app.runtime
                    .clone()
                    .spawn(deliver(app, endpoint, event, epoch));
            }
        }
    }
}

/// Offers `event` to `endpoint` until it answers 2xx or every attempt is made; stops as
/// soon as the emulator was reset after the event (`epoch` is the store's when it was made).
async fn deliver(app: App, endpoint: Endpoint, event: Event, epoch: u64) {
    let body = event.body.to_string();
    let kind = event.body["type"].as_str().unwrap_or_default().to_owned();
    for attempt in 1..=ATTEMPTS {
        if app.store().epoch != epoch {
            return;
        }
        let timestamp = chrono::Utc::now().timestamp().max(0) as u64;
        let signature = sign(&endpoint.secret, &event.id, timestamp, body.as_bytes());
        let sent = app
            .http
            .post(&endpoint.url)
            .header("content-type", "application/json")
            .header("webhook-id", &event.id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(body.clone())
            .send()
            .await;
        let (status, error) = match &sent {
            Ok(answer) => (Some(answer.status().as_u16()), None),
            Err(error) => (None, Some(error.to_string())),
        };
        {
            let mut store = app.store();
            if store.epoch != epoch {
                return;
            }
            store.deliveries.push(Delivery {
                event_id: event.id.clone(),
                event_type: kind.clone(),
                url: endpoint.url.clone(),
                attempt,
                status,
                error,
            });
            store.webhook_attempts.push(Attempt {
                id: uuid::Uuid::new_v4(),
                event: event.clone(),
                endpoint: endpoint.clone(),
                attempt,
                status,
                at: chrono::Utc::now(),
            });
        }
        if status.is_some_and(|s| (200..300).contains(&s)) || attempt == ATTEMPTS {
            return;
        }
        // Read before each pause: a change applies to the next pause of every delivery.
        tokio::time::sleep(app.retry_interval()).await;
    }
}

/// One delivery attempt, as `listWebhookEventLogs` shows it.
#[derive(Debug, Clone)]
pub(crate) struct Attempt {
    id: uuid::Uuid,
    event: Event,
    endpoint: Endpoint,
    attempt: u32,
    status: Option<u16>,
    at: chrono::DateTime<chrono::Utc>,
}

/// The endpoint's identifier: the service gives each endpoint a UUID; the emulator's
/// endpoints are a URL and a secret, so it is made from them (the same endpoint, the same
/// UUID).
fn endpoint_id(endpoint: &Endpoint) -> uuid::Uuid {
    use sha2::Digest;
    let digest = Sha256::digest(format!("{}\n{}", endpoint.url, endpoint.secret).as_bytes());
    let mut bytes = [0; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_random_bytes(bytes).into_uuid()
}

/// How far back `listWebhookEventLogs` ever looks, in days.
const LOG_DAYS: i64 = 30;

/// `GET /api/v1/webhook/logs/`: the attempts made to `endpoints` (one tenant's), newest
/// first, within the last 30 days counted from the current UTC day, narrowed by `start` and
/// `end` (days of the attempt).
pub(crate) fn event_logs(
    attempts: &[Attempt],
    endpoints: &[Endpoint],
    start: Option<chrono::NaiveDate>,
    end: Option<chrono::NaiveDate>,
    page: Option<u64>,
    page_size: Option<u64>,
    base: &str,
) -> Result<Value, crate::ApiError> {
    let earliest = chrono::Utc::now().date_naive() - chrono::Days::new(LOG_DAYS as u64);
    let start = start.map_or(earliest, |s| s.max(earliest));
    let mut items: Vec<&Attempt> = attempts
        .iter()
        .filter(|a| endpoints.contains(&a.endpoint))
        .filter(|a| a.at.date_naive() >= start && end.is_none_or(|e| a.at.date_naive() <= e))
        .collect();
    items.sort_by(|a, b| b.at.cmp(&a.at).then(b.attempt.cmp(&a.attempt)));
    let items = items
        .into_iter()
        .map(|a| {
            // The event's id is `evt_` and a UUID's 32 hex digits: the document's `eventId`
            // is that UUID.
            let event_id =
                uuid::Uuid::parse_str(a.event.id.trim_start_matches("evt_")).unwrap_or_default();
            json!({
                "id": a.id,
                "eventId": event_id,
                "endpoint": endpoint_id(&a.endpoint),
                "eventType": a.event.body["type"],
                "statusCode": a.status,
                "isSuccess": a.status.is_some_and(|s| (200..300).contains(&s)),
                "retryCount": a.attempt - 1,
                "lastAttempt": a.at.to_rfc3339(),
                "createdOn": a.event.created.to_rfc3339(),
                "payload": a.event.body,
            })
        })
        .collect();
    crate::state::page_of(items, page, page_size.or(Some(10)), base)
}
