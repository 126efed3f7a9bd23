//! A webhook endpoint in axum that keeps entitlements in step with Kelviq.
//!
//! ```text
//! cargo run -p kelviq --example webhook_axum
//! ```
//!
//! It starts the `kelviq-mock` emulator and an endpoint on loopback, registers the endpoint
//! with the emulator (in production: in the Kelviq dashboard), makes a purchase, and shows
//! the signed `checkout.completed` event verified, handled once, and applied to the
//! client's cache: the next `has_access` sees the purchase at once instead of after the
//! cache's 60 s.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use kelviq::webhooks::{Deduplicator, EventKind, Webhook};
use kelviq::{ChargePeriod, Kelviq};
use kelviq_mock::MockServer;
use tokio::sync::mpsc;

/// What the handler needs: the verifier, the deduplicator, the client whose cache it
/// keeps in step, and (for this example) a way to say what it did.
#[derive(Clone)]
struct Endpoint {
    webhook: Webhook,
    seen: Arc<Deduplicator>,
    client: kelviq::Client,
    handled: mpsc::UnboundedSender<EventKind>,
}

/// The handler: the raw body (not parsed JSON) and the headers go to `verify`.
async fn kelviq_webhook(
    State(endpoint): State<Endpoint>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let event = match endpoint.webhook.verify(&headers, &body) {
        Ok(event) => event,
        Err(error) => {
            eprintln!("refused a delivery: {error}");
            return StatusCode::BAD_REQUEST;
        }
    };
    // Deliveries are retried: handle each event once.
    if endpoint.seen.first_delivery(&event.id) {
        endpoint.client.apply_webhook(&event);
        let _ = endpoint.handled.send(event.kind.clone());
    }
    StatusCode::OK
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let server = MockServer::start().await?;
    let client = Kelviq::builder("sk_test_webhooks")
        .base_url(server.url())
        .build()?;

    let (handled, mut events) = mpsc::unbounded_channel();
    let secret = "kq_whsec_example_secret";
    let endpoint = Endpoint {
        webhook: Webhook::new(secret),
        seen: Arc::new(Deduplicator::new(10_000, Duration::from_secs(24 * 3600))),
        client: client.clone(),
        handled,
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/kelviq/webhooks", listener.local_addr()?);
    let app = Router::new()
        .route("/kelviq/webhooks", post(kelviq_webhook))
        .with_state(endpoint);
    tokio::spawn(async move { axum::serve(listener, app).await });
    server.add_webhook(url.as_str(), secret);
    println!("webhook endpoint at {url}");

    client.customers().create("cust_webhook").send().await?;
    let before = client
        .entitlements()
        .has_access("cust_webhook", "premium-reporting")
        .send()
        .await?;
    println!("before the purchase: premium-reporting {before}");
    let session = client
        .checkout()
        .create_session(
            "plan-pro-monthly",
            ChargePeriod::Monthly,
            "https://example.com/ok",
        )
        .customer_id("cust_webhook")
        .send()
        .await?;
    // Cached again: without the webhook, this "no" would be answered for 60 s.
    client
        .entitlements()
        .has_access("cust_webhook", "premium-reporting")
        .send()
        .await?;
    server.complete_checkout(&session.checkout_session_id)?;

    while let Some(kind) = tokio::time::timeout(Duration::from_secs(5), events.recv()).await? {
        println!("verified and applied: {kind}");
        if kind == EventKind::CheckoutCompleted {
            break;
        }
    }
    let after = client
        .entitlements()
        .has_access("cust_webhook", "premium-reporting")
        .send()
        .await?;
    println!("after the checkout.completed webhook: premium-reporting {after}");
    Ok(())
}
