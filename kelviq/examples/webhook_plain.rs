//! A webhook handler without a web framework: the three headers' values and the raw body go
//! to [`Webhook::verify_parts`], whatever server received them.
//!
//! ```text
//! cargo run -p kelviq --example webhook_plain
//! ```
//!
//! It signs two deliveries the way Kelviq does and hands them to the handler: one genuine,
//! one whose body was changed on the way.

use std::time::{SystemTime, UNIX_EPOCH};

use kelviq::webhooks::{Webhook, WebhookError};

/// Answers a delivery with the status to send back: 2xx once handled, 4xx when refused
/// (Kelviq then shows the delivery as failed; a 5xx would make it retry).
fn handle(webhook: &Webhook, id: &str, timestamp: &str, signature: &str, body: &[u8]) -> u16 {
    match webhook.verify_parts(id, timestamp, signature, body) {
        Ok(event) => {
            println!("{} for customer {:?}", event.kind, event.customer_id());
            200
        }
        Err(WebhookError::TimestampOutsideTolerance { skew, .. }) => {
            println!("refused: a delivery {}s old (a replay?)", skew.as_secs());
            400
        }
        Err(error) => {
            println!("refused: {error}");
            400
        }
    }
}

fn main() {
    let webhook = Webhook::new("kq_whsec_plain_example");
    let body = br#"{"id":"evt_42","type":"subscription.plan_changed","created_at":"2025-06-01T10:00:00Z","data":{"object":{"customerId":"cust_42"},"previous_attributes":{"plan":{"identifier":"basic"}}}}"#;
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    let signature = webhook.sign("evt_42", now, body);

    let status = handle(&webhook, "evt_42", &now.to_string(), &signature, body);
    println!("genuine delivery answered {status}");

    let tampered = String::from_utf8_lossy(body).replace("cust_42", "cust_43");
    let status = handle(
        &webhook,
        "evt_42",
        &now.to_string(),
        &signature,
        tampered.as_bytes(),
    );
    println!("tampered delivery answered {status}");
}
