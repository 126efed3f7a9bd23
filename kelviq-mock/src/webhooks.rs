//! Webhooks the emulator sends, signed as Kelviq signs them, to the endpoints registered
//! through the control surface (`POST /_mock/webhooks`) or
//! [`MockServer::add_webhook`](crate::MockServer::add_webhook): checkout completed,
//! subscription created, updated, plan changed, cancelled, customer created and updated.
//!
//! Each delivery carries `webhook-id` (the event's id), `webhook-timestamp` (Unix seconds)
//! and `webhook-signature: v1,<hex>`, the HMAC-SHA256 of `{id}.{timestamp}.{body}` keyed with
//! the endpoint's secret as given. A delivery not answered 2xx is retried, up to
//! [`ATTEMPTS`] times, with a doubling pause; every attempt is recorded
//! ([`MockServer::webhook_deliveries`](crate::MockServer::webhook_deliveries)).

use std::time::Duration;

use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sha2::Sha256;

use crate::App;

/// How many times one event is offered to one endpoint.
pub const ATTEMPTS: u32 = 5;

/// The first pause between attempts; it doubles.
const FIRST_PAUSE: Duration = Duration::from_millis(50);

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
}

impl Event {
    pub(crate) fn new(kind: &str, object: Value, previous: Option<Value>) -> Self {
        let id = format!("evt_{}", uuid::Uuid::new_v4().simple());
        let mut data = json!({ "object": object });
        if let Some(previous) = previous {
            data["previous_attributes"] = previous;
        }
        let body = json!({
            "id": id,
            "type": kind,
            "created_at": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            "data": data,
        });
        Self { body, id }
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
    let pending = app.store().take_events();
    for (endpoints, events) in pending {
        for event in events {
            for endpoint in &endpoints {
                let (app, endpoint, event) = (app.clone(), endpoint.clone(), event.clone());
                app.runtime.clone().spawn(deliver(app, endpoint, event));
            }
        }
    }
}

async fn deliver(app: App, endpoint: Endpoint, event: Event) {
    let body = event.body.to_string();
    let kind = event.body["type"].as_str().unwrap_or_default().to_owned();
    let mut pause = FIRST_PAUSE;
    for attempt in 1..=ATTEMPTS {
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
        app.store().deliveries.push(Delivery {
            event_id: event.id.clone(),
            event_type: kind.clone(),
            url: endpoint.url.clone(),
            attempt,
            status,
            error,
        });
        if status.is_some_and(|s| (200..300).contains(&s)) {
            return;
        }
        tokio::time::sleep(pause).await;
        pause *= 2;
    }
}
