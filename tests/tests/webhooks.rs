//! Webhooks end to end: the emulator signs and sends its events to a local axum handler,
//! which verifies them with `kelviq::webhooks`, handles each once however often it is
//! delivered, and applies it to the client's cache, so that the next `has_access` reflects
//! the purchase at once.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use kelviq::webhooks::{Deduplicator, EventKind, Webhook, WebhookEvent};
use kelviq_tests::Emulator;

const SECRET: &str = "kq_whsec_e2e_0123456789";

#[derive(Clone)]
struct Handler {
    client: kelviq::Client,
    webhook: Webhook,
    seen: Arc<Deduplicator>,
    handled: Arc<Mutex<Vec<WebhookEvent>>>,
    refused: Arc<Mutex<Vec<String>>>,
}

async fn receive(State(h): State<Handler>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let event = match h.webhook.verify(&headers, &body) {
        Ok(event) => event,
        Err(error) => {
            h.refused.lock().unwrap().push(error.to_string());
            return StatusCode::BAD_REQUEST;
        }
    };
    if !h.seen.first_delivery(&event.id) {
        return StatusCode::OK;
    }
    h.client.apply_webhook(&event);
    let first = {
        let mut handled = h.handled.lock().unwrap();
        handled.push(event);
        handled.len() == 1
    };
    // The first event is handled and then answered 500, as a handler that crashes after its
    // work would: the emulator sends it again, and the deduplicator keeps it handled once.
    if first {
        StatusCode::INTERNAL_SERVER_ERROR
    } else {
        StatusCode::OK
    }
}

#[test]
fn a_webhook_from_the_emulator_verifies_and_makes_the_next_check_see_the_purchase() {
    let emulator = Emulator::start();
    // A retry 50 ms after a failed delivery, not the service's 60 s.
    emulator
        .server
        .set_webhook_retry_interval(Duration::from_millis(50));
    let client = emulator.builder().build().unwrap();
    let handler = Handler {
        client: client.clone(),
        webhook: Webhook::new(SECRET),
        seen: Arc::new(Deduplicator::new(1_000, Duration::from_secs(3600))),
        handled: Arc::default(),
        refused: Arc::default(),
    };
    let url = emulator.run(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/kelviq/webhooks", listener.local_addr().unwrap());
        let app = Router::new()
            .route("/kelviq/webhooks", post(receive))
            .with_state(handler.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        url
    });
    emulator.server.add_webhook(url.as_str(), SECRET);

    emulator.run(async {
        client.customers().create("buyer").send().await.unwrap();
        // Cached for 60 s: without the webhook this "no" would stand.
        assert!(!client
            .entitlements()
            .has_access("buyer", "premium-reporting")
            .send()
            .await
            .unwrap());
        let session = client
            .checkout()
            .create_session(
                "plan-pro-monthly",
                kelviq::ChargePeriod::Monthly,
                "https://example.com/ok",
            )
            .customer_id("buyer")
            .send()
            .await
            .unwrap();
        // The client's own checkout call retired the set; read it again so that only the
        // webhook can tell the cache about the purchase.
        assert!(!client
            .entitlements()
            .has_access("buyer", "premium-reporting")
            .send()
            .await
            .unwrap());
        emulator
            .server
            .complete_checkout(&session.checkout_session_id)
            .unwrap();

        for _ in 0..200 {
            let done = handler
                .handled
                .lock()
                .unwrap()
                .iter()
                .any(|e| e.kind == EventKind::CheckoutCompleted);
            if done {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert!(
            client
                .entitlements()
                .has_access("buyer", "premium-reporting")
                .send()
                .await
                .unwrap(),
            "the webhook retired the cached set: the next check asked the service"
        );
    });

    let handled = handler.handled.lock().unwrap().clone();
    let kinds: Vec<&EventKind> = handled.iter().map(|e| &e.kind).collect();
    assert!(kinds.contains(&&EventKind::CustomerCreated), "{kinds:?}");
    assert!(
        kinds.contains(&&EventKind::SubscriptionCreated),
        "{kinds:?}"
    );
    let completed = handled
        .iter()
        .find(|e| e.kind == EventKind::CheckoutCompleted)
        .unwrap();
    assert_eq!(completed.customer_id(), Some("buyer"));
    let ids: std::collections::BTreeSet<_> = handled.iter().map(|e| e.id.clone()).collect();
    assert_eq!(ids.len(), handled.len(), "each event handled once");

    // The first event was answered 500 and delivered again; the retry found it handled.
    std::thread::sleep(Duration::from_millis(300));
    let deliveries = emulator.server.webhook_deliveries();
    let first = &handled[0].id;
    let attempts: Vec<_> = deliveries.iter().filter(|d| &d.event_id == first).collect();
    assert!(attempts.len() >= 2, "{attempts:?}");
    assert_eq!(attempts[0].status, Some(500));
    assert_eq!(attempts.last().unwrap().status, Some(200));
    assert!(handler.refused.lock().unwrap().is_empty());
}

#[test]
fn a_webhook_signed_with_another_secret_is_refused() {
    let emulator = Emulator::start();
    let client = emulator.builder().build().unwrap();
    let handler = Handler {
        client: client.clone(),
        webhook: Webhook::new("kq_whsec_not_the_endpoints"),
        seen: Arc::new(Deduplicator::new(1_000, Duration::from_secs(3600))),
        handled: Arc::default(),
        refused: Arc::default(),
    };
    let url = emulator.run(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let app = Router::new()
            .route("/hook", post(receive))
            .with_state(handler.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        url
    });
    emulator.server.add_webhook(url.as_str(), SECRET);
    emulator.run(async {
        client.customers().create("someone").send().await.unwrap();
        for _ in 0..200 {
            if !handler.refused.lock().unwrap().is_empty() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    });
    assert!(handler.handled.lock().unwrap().is_empty());
    let refused = handler.refused.lock().unwrap().clone();
    assert!(refused[0].contains("no signature matches"), "{refused:?}");
}
