//! A webhook invalidation seen by the next evaluation: the emulator signs and sends
//! `checkout.completed` to a local endpoint, which verifies it and applies it to the Kelviq
//! client's cache; the next OpenFeature evaluation asks the service and sees the purchase.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use common::{customer, entitlement_requests, flags, start};
use kelviq::webhooks::{EventKind, Webhook};
use kelviq_openfeature::KelviqProvider;
use open_feature::EvaluationReason;

const SECRET: &str = "kq_whsec_openfeature_0123456789";

#[derive(Clone)]
struct Endpoint {
    client: kelviq::Client,
    webhook: Webhook,
    applied: Arc<Mutex<Vec<EventKind>>>,
}

async fn receive(State(endpoint): State<Endpoint>, headers: HeaderMap, body: Bytes) -> StatusCode {
    match endpoint.webhook.verify(&headers, &body) {
        Ok(event) => {
            endpoint.client.apply_webhook(&event);
            endpoint
                .applied
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(event.kind);
            StatusCode::OK
        }
        Err(_) => StatusCode::BAD_REQUEST,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhook_invalidation_is_seen_by_the_next_evaluation() {
    let (server, client) = start().await;
    let endpoint = Endpoint {
        client: client.clone(),
        webhook: Webhook::new(SECRET),
        applied: Arc::default(),
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/kelviq/webhooks", listener.local_addr().unwrap());
    let app = Router::new()
        .route("/kelviq/webhooks", post(receive))
        .with_state(endpoint.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });
    server.add_webhook(url.as_str(), SECRET);

    let flags = flags(KelviqProvider::new(client.clone())).await;
    let buyer = customer("buyer");
    client.customers().create("buyer").send().await.unwrap();
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
    // Read after the client's own checkout call (which retires the set itself), so that only
    // the webhook can tell the cache about the purchase: cached for 60 s, this "no" would
    // otherwise stand.
    let before = flags
        .get_bool_details("premium-reporting", Some(&buyer), None)
        .await
        .unwrap();
    assert_eq!(
        (before.value, before.reason),
        (false, Some(EvaluationReason::Cached))
    );
    assert_eq!(
        flags
            .get_bool_value("premium-reporting", Some(&buyer), None)
            .await,
        Ok(false)
    );
    let fetched = entitlement_requests(&server);

    server
        .complete_checkout(&session.checkout_session_id)
        .unwrap();
    // The purchase sends checkout.completed and subscription.created; each retires the set.
    let mut delivered = false;
    for _ in 0..300 {
        delivered = {
            let applied = endpoint.applied.lock().unwrap_or_else(|e| e.into_inner());
            applied.contains(&EventKind::CheckoutCompleted)
                && applied.contains(&EventKind::SubscriptionCreated)
        };
        if delivered {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(delivered, "the purchase's webhooks reached the endpoint");
    assert_eq!(
        entitlement_requests(&server),
        fetched,
        "nothing fetched yet"
    );

    let after = flags
        .get_bool_details("premium-reporting", Some(&buyer), None)
        .await
        .unwrap();
    assert_eq!(
        (after.value, after.reason),
        (true, Some(EvaluationReason::Cached)),
        "the webhook retired the cached set: the next evaluation asked the service"
    );
    assert_eq!(
        flags.get_int_value("seats", Some(&buyer), None).await,
        Ok(5)
    );
    assert_eq!(
        entitlement_requests(&server),
        fetched + 1,
        "one fetch after the webhook, then answered from the cache"
    );
}
