//! The emulator's orders' events and its retry schedule, received by a real HTTP endpoint on
//! loopback: each delivery is verified with `kelviq::webhooks`, read as a typed
//! [`EventKind`], and compared with the state change that caused it; a failing endpoint gets
//! the first attempt and 3 retries at the configured interval, and a success stops them.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use kelviq::webhooks::{EventKind, Webhook, WebhookEvent};
use kelviq_mock::MockServer;
use kelviq_tests::Emulator;
use serde_json::{json, Value};

const SECRET: &str = "kq_whsec_orders_0123456789";

/// One request the endpoint received.
#[derive(Debug, Clone)]
struct Arrival {
    at: Instant,
    /// The event, verified with the endpoint's secret, or why it was refused.
    event: Result<WebhookEvent, String>,
}

/// A webhook endpoint on loopback: answers the n-th request with `script[n]` (200 past its
/// end) and keeps every arrival.
#[derive(Clone)]
struct Endpoint {
    webhook: Webhook,
    script: Arc<Vec<u16>>,
    arrivals: Arc<Mutex<Vec<Arrival>>>,
}

async fn receive(State(e): State<Endpoint>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let at = Instant::now();
    let event = e.webhook.verify(&headers, &body).map_err(|x| x.to_string());
    let mut arrivals = e.arrivals.lock().unwrap();
    let status = e.script.get(arrivals.len()).copied().unwrap_or(200);
    arrivals.push(Arrival { at, event });
    StatusCode::from_u16(status).unwrap()
}

impl Endpoint {
    /// Listens on a free port of 127.0.0.1 (on the current runtime); answers as `script`.
    async fn start(script: Vec<u16>) -> (Self, String) {
        let endpoint = Endpoint {
            webhook: Webhook::new(SECRET),
            script: Arc::new(script),
            arrivals: Arc::default(),
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/kelviq/webhooks", listener.local_addr().unwrap());
        let app = Router::new()
            .route("/kelviq/webhooks", post(receive))
            .with_state(endpoint.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        (endpoint, url)
    }

    fn arrivals(&self) -> Vec<Arrival> {
        self.arrivals.lock().unwrap().clone()
    }

    /// Every event received, each verified (none refused).
    fn events(&self) -> Vec<WebhookEvent> {
        self.arrivals()
            .into_iter()
            .map(|a| {
                a.event
                    .expect("every delivery verifies with the endpoint's secret")
            })
            .collect()
    }

    /// Waits (up to 10 s) until `n` events of `kind` arrived; answers them in arrival order.
    async fn wait_for(&self, kind: EventKind, n: usize) -> Vec<WebhookEvent> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let found: Vec<WebhookEvent> = self
                .events()
                .into_iter()
                .filter(|e| e.kind == kind)
                .collect();
            if found.len() >= n {
                return found;
            }
            let kinds: Vec<String> = self.events().iter().map(|e| e.kind.to_string()).collect();
            assert!(Instant::now() < deadline, "no {n} × {kind}: {kinds:?}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// The one event of `kind` received.
async fn one(endpoint: &Endpoint, kind: EventKind) -> WebhookEvent {
    endpoint.wait_for(kind, 1).await.remove(0)
}

#[test]
fn a_purchase_and_its_refunds_send_the_orders_invoices_payment_method_and_refunds_events() {
    let emulator = Emulator::start();
    let client = emulator.builder().build().unwrap();
    let (endpoint, url) = emulator.run(Endpoint::start(Vec::new()));
    emulator.server.add_webhook(url.as_str(), SECRET);
    let http = reqwest::Client::new();
    let control = |path: String| {
        let request = http.get(format!("{}{path}", emulator.server.url()));
        async move { request.send().await.unwrap().json::<Value>().await.unwrap() }
    };

    emulator.run(async {
        client
            .customers()
            .create("buyer")
            .name("Jane Buyer")
            .email("jane@example.com")
            .send()
            .await
            .unwrap();
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
        let completed = emulator
            .server
            .complete_checkout(&session.checkout_session_id)
            .unwrap();
        let orders = control("/_mock/customers/buyer/orders".into()).await;
        let order = &orders[0];
        let order_id = order["id"].as_str().unwrap();
        assert_eq!(order["amountUnits"], 4_900, "the plan's monthly price");

        // order.created: the order the purchase recorded, paid, for the new subscription.
        let created = one(&endpoint, EventKind::OrderCreated).await;
        let object = &created.object;
        assert_eq!(object["object"], "order");
        assert_eq!(object["id"], order_id);
        assert_eq!(object["status"], "COMPLETE");
        assert_eq!(object["billing_type"], "SUBSCRIPTION");
        assert_eq!(object["amount_total_units"], 4_900);
        assert_eq!(object["amount_total"], "49.00");
        assert_eq!(
            object["subscription_id"],
            completed.subscription_id.as_str()
        );
        assert_eq!(object["plan"]["identifier"], "plan-pro-monthly");
        assert_eq!(object["customer"]["email"], "jane@example.com");
        assert_eq!(
            created.customer_id(),
            Some("buyer"),
            "the application's identifier, not the UUID beside it: {object}"
        );
        assert!(created.kind.changes_entitlements());

        // invoice.created, then invoice.paid: the order's invoice, open, then paid.
        let open = one(&endpoint, EventKind::InvoiceCreated).await;
        let paid = one(&endpoint, EventKind::InvoicePaid).await;
        for invoice in [&open, &paid] {
            assert_eq!(invoice.object["object"], "invoice");
            assert_eq!(invoice.object["id"], open.object["id"]);
            assert_eq!(invoice.object["order_id"], order_id);
            assert_eq!(invoice.object["amount_total_units"], 4_900);
            assert_eq!(
                invoice.object["subscription_id"],
                completed.subscription_id.as_str()
            );
            assert_eq!(invoice.customer_id(), Some("buyer"));
        }
        assert_eq!(
            (&open.object["status"], &open.object["paid_at"]),
            (&json!("OPEN"), &Value::Null)
        );
        assert_eq!(paid.object["status"], "PAID");
        assert!(paid.object["paid_at"].is_string(), "{}", paid.object);
        assert_eq!(
            paid.previous_attributes,
            Some(json!({"status": "OPEN", "paid_at": null}))
        );

        // payment_method.created: the card the purchase saved, as the API lists it.
        let method = one(&endpoint, EventKind::PaymentMethodCreated).await;
        let saved = client
            .payment_methods()
            .list()
            .customer_id("buyer")
            .send()
            .await
            .unwrap();
        assert_eq!(saved.results.len(), 1);
        assert_eq!(method.object["object"], "payment_method");
        assert_eq!(method.object["id"], saved.results[0].id);
        assert_eq!(method.object["method_type"], "card");
        assert_eq!(method.customer_id(), Some("buyer"));

        // A partial refund: refund.created (processing), refund.updated (succeeded), and
        // order.refunded with the order now partly refunded.
        let refund = client
            .refunds()
            .create(order_id)
            .amount_units(1_000)
            .reason(kelviq::RefundReason::RequestedByCustomer)
            .send()
            .await
            .unwrap();
        let started = one(&endpoint, EventKind::RefundCreated).await;
        let done = one(&endpoint, EventKind::RefundUpdated).await;
        for event in [&started, &done] {
            assert_eq!(event.object["object"], "refund");
            assert_eq!(event.object["id"], refund.id.as_str());
            assert_eq!(event.object["order_id"], order_id);
            assert_eq!(event.object["amount_units"], 1_000);
            assert_eq!(event.object["reason"], "REQUESTED_BY_CUSTOMER");
            assert_eq!(event.customer_id(), Some("buyer"));
        }
        assert_eq!(started.object["status"], "PROCESSING");
        assert_eq!(done.object["status"], "SUCCEEDED");
        assert_eq!(
            done.previous_attributes,
            Some(json!({"status": "PROCESSING"}))
        );
        let partly = one(&endpoint, EventKind::OrderRefunded).await;
        assert_eq!(partly.object["id"], order_id);
        assert_eq!(partly.object["status"], "PARTIAL_REFUND");
        assert_eq!(
            partly.previous_attributes,
            Some(json!({"status": "COMPLETE"}))
        );
        assert_eq!(partly.customer_id(), Some("buyer"));

        // The rest: the order is refunded in full.
        client.refunds().create(order_id).send().await.unwrap();
        let refunded = endpoint.wait_for(EventKind::OrderRefunded, 2).await;
        let fully = &refunded[1];
        assert_eq!(fully.object["status"], "REFUNDED");
        assert_eq!(
            fully.previous_attributes,
            Some(json!({"status": "PARTIAL_REFUND"}))
        );
        let updates = endpoint.wait_for(EventKind::RefundUpdated, 2).await;
        assert_eq!(updates[1].object["amount_units"], 3_900, "what was left");

        // A one-time charge with the saved card: a one-time order, and no second card.
        client
            .charges()
            .create("buyer", "lifetime-pack")
            .send()
            .await
            .unwrap();
        let orders = endpoint.wait_for(EventKind::OrderCreated, 2).await;
        assert_eq!(orders[1].object["billing_type"], "ONE_TIME");
        assert_eq!(orders[1].object["plan"]["identifier"], "lifetime-pack");
        endpoint.wait_for(EventKind::InvoicePaid, 2).await;
    });

    let events = endpoint.events();
    let methods = events
        .iter()
        .filter(|e| e.kind == EventKind::PaymentMethodCreated)
        .count();
    assert_eq!(methods, 1, "the card is saved once");
    let ids: std::collections::BTreeSet<&str> = events.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(
        ids.len(),
        events.len(),
        "each event delivered once, answered 200"
    );
}

#[test]
fn checkout_subscription_and_customer_events_carry_the_guides_objects() {
    let emulator = Emulator::start();
    let client = emulator.builder().build().unwrap();
    let (endpoint, url) = emulator.run(Endpoint::start(Vec::new()));
    emulator.server.add_webhook(url.as_str(), SECRET);

    emulator.run(async {
        client
            .customers()
            .create("buyer")
            .name("Jane")
            .send()
            .await
            .unwrap();
        let customer = one(&endpoint, EventKind::CustomerCreated).await;
        assert_eq!(customer.object["object"], "customer");
        assert_eq!(customer.object["customer_id"], "buyer");
        assert_eq!(customer.object["name"], "Jane");
        assert_eq!(customer.customer_id(), Some("buyer"));
        client
            .customers()
            .update("buyer")
            .name("Jane Buyer")
            .send()
            .await
            .unwrap();
        let renamed = one(&endpoint, EventKind::CustomerUpdated).await;
        assert_eq!(renamed.object["name"], "Jane Buyer");
        assert_eq!(renamed.previous_attributes, Some(json!({"name": "Jane"})));

        let session = client
            .checkout()
            .create_session(
                "plan-pro-monthly",
                kelviq::ChargePeriod::Monthly,
                "https://example.com/ok",
            )
            .customer_id("buyer")
            .metadata([("order_ref", "ABC-123")])
            .send()
            .await
            .unwrap();
        let completed = emulator
            .server
            .complete_checkout(&session.checkout_session_id)
            .unwrap();
        let checkout = one(&endpoint, EventKind::CheckoutCompleted).await;
        let object = &checkout.object;
        assert_eq!(object["object"], "checkout_session");
        assert_eq!(object["id"], session.checkout_session_id.as_str());
        assert_eq!(object["status"], "success");
        assert_eq!(object["metadata"], json!({"order_ref": "ABC-123"}));
        assert_eq!(object["plan"]["identifier"], "plan-pro-monthly");
        assert_eq!(object["amount_units"], 4_900);
        assert_eq!(
            object["customer_id"], customer.object["id"],
            "Kelviq's UUID"
        );
        assert_eq!(checkout.customer_id(), Some("buyer"));
        assert!(
            object.get("subscription_id").is_none(),
            "subscription.created gives it"
        );

        let started = one(&endpoint, EventKind::SubscriptionCreated).await;
        let sub = &completed.subscription_id;
        assert_eq!(started.object["object"], "subscription");
        assert_eq!(started.object["id"], sub.as_str());
        assert_eq!(started.object["status"], "active");
        assert_eq!(started.object["end_date"], Value::Null);
        assert!(started.object["billing_period_end_time"].is_string());
        assert_eq!(started.customer_id(), Some("buyer"));

        // Moved to another plan: subscription.updated with what changed, and
        // subscription.plan_changed with the whole subscription as it was.
        client
            .subscriptions()
            .update(sub.as_str(), "premium-plan", kelviq::ChargePeriod::Monthly)
            .send()
            .await
            .unwrap();
        let moved = one(&endpoint, EventKind::SubscriptionPlanChanged).await;
        assert_eq!(moved.object["plan"]["identifier"], "premium-plan");
        let was = moved.previous_attributes.clone().unwrap();
        assert_eq!(was["plan"]["identifier"], "plan-pro-monthly");
        assert_eq!(was["id"], sub.as_str());
        let updated = one(&endpoint, EventKind::SubscriptionUpdated).await;
        assert_eq!(
            updated.previous_attributes.unwrap()["plan"]["identifier"],
            "plan-pro-monthly"
        );

        // Cancelled at the end of the period: subscription.updated with `end_date` set, the
        // status still active, and no subscription.cancelled.
        client
            .subscriptions()
            .cancel(sub.as_str(), kelviq::CancellationType::CurrentPeriodEnds)
            .send()
            .await
            .unwrap();
        let scheduled = endpoint.wait_for(EventKind::SubscriptionUpdated, 2).await;
        let scheduled = &scheduled[1];
        assert_eq!(scheduled.object["status"], "active");
        assert!(
            scheduled.object["end_date"].is_string(),
            "{}",
            scheduled.object
        );
        assert_eq!(
            scheduled.previous_attributes,
            Some(json!({"end_date": null}))
        );

        // Cancelled at once (another subscription): subscription.cancelled.
        let now = client
            .subscriptions()
            .create("buyer", "plan-pro-monthly", kelviq::ChargePeriod::Monthly)
            .send()
            .await
            .unwrap();
        client
            .subscriptions()
            .cancel(now.id.as_str(), kelviq::CancellationType::Immediate)
            .send()
            .await
            .unwrap();
        let cancelled = one(&endpoint, EventKind::SubscriptionCancelled).await;
        assert_eq!(cancelled.object["id"], now.id.as_str());
        assert_eq!(cancelled.object["status"], "canceled");
        assert!(cancelled.object["end_date"].is_string());
        assert_eq!(cancelled.previous_attributes.unwrap()["status"], "active");
    });
    let cancelled = endpoint
        .events()
        .iter()
        .filter(|e| e.kind == EventKind::SubscriptionCancelled)
        .count();
    assert_eq!(cancelled, 1, "the scheduled cancellation sent none");
}

/// Waits until `endpoint` received `n` requests (up to 10 s), then long enough for another
/// retry to have arrived had one been scheduled, and answers every request.
async fn settle(endpoint: &Endpoint, n: usize, interval: Duration) -> Vec<Arrival> {
    let deadline = Instant::now() + Duration::from_secs(10);
    while endpoint.arrivals().len() < n {
        assert!(Instant::now() < deadline, "{:?}", endpoint.arrivals());
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    tokio::time::sleep(interval * 3).await;
    endpoint.arrivals()
}

/// A customer created through the API: one `customer.created` to deliver.
async fn one_event(server: &MockServer) {
    let status = reqwest::Client::new()
        .post(format!("{}/api/v1/customers/", server.url()))
        .bearer_auth("sk_test_retries")
        .json(&json!({"customerId": "jane"}))
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 201);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endpoint_answering_500_gets_the_first_attempt_and_3_retries_at_the_interval() {
    let interval = Duration::from_millis(200);
    let server = MockServer::builder()
        .webhook_retry_interval(interval)
        .start()
        .await
        .unwrap();
    let (endpoint, url) = Endpoint::start(vec![500; 10]).await;
    server.add_webhook(url.as_str(), SECRET);
    one_event(&server).await;

    let arrivals = settle(&endpoint, 4, interval).await;
    assert_eq!(arrivals.len(), 1 + 3, "{arrivals:?}");
    let first = arrivals[0].event.clone().unwrap();
    assert_eq!(first.kind, EventKind::CustomerCreated);
    for (n, pair) in arrivals.windows(2).enumerate() {
        let again = pair[1].event.clone().unwrap();
        assert_eq!(again, first, "attempt {} is the same event", n + 2);
        let gap = pair[1].at - pair[0].at;
        assert!(gap >= interval, "attempt {}: {gap:?} after the last", n + 2);
    }
    let attempts: Vec<(u32, Option<u16>)> = server
        .webhook_deliveries()
        .iter()
        .map(|d| (d.attempt, d.status))
        .collect();
    assert_eq!(
        attempts,
        [
            (1, Some(500)),
            (2, Some(500)),
            (3, Some(500)),
            (4, Some(500))
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_success_stops_the_retries() {
    let interval = Duration::from_millis(300);
    let server = MockServer::builder()
        .webhook_retry_interval(interval)
        .start()
        .await
        .unwrap();
    let (endpoint, url) = Endpoint::start(vec![500, 503]).await;
    server.add_webhook(url.as_str(), SECRET);
    one_event(&server).await;

    let arrivals = settle(&endpoint, 3, interval).await;
    assert_eq!(
        arrivals.len(),
        3,
        "two failures, then a success: {arrivals:?}"
    );
    assert!(arrivals[2].at - arrivals[1].at >= interval);
    let statuses: Vec<Option<u16>> = server
        .webhook_deliveries()
        .iter()
        .map(|d| d.status)
        .collect();
    assert_eq!(statuses, [Some(500), Some(503), Some(200)]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn by_default_a_failed_delivery_waits_the_services_60_seconds() {
    let server = MockServer::start().await.unwrap();
    assert_eq!(server.webhook_retry_interval(), Duration::from_secs(60));
    assert_eq!(kelviq_mock::webhooks::ATTEMPTS, 4);
    let (endpoint, url) = Endpoint::start(vec![500; 10]).await;
    server.add_webhook(url.as_str(), SECRET);
    one_event(&server).await;
    let arrivals = settle(&endpoint, 1, Duration::from_millis(400)).await;
    assert_eq!(arrivals.len(), 1, "no retry within 1.2 s: {arrivals:?}");

    // Shortened through the control surface, as a test in another language would.
    let control = format!("{}/_mock/webhooks/retry-interval", server.url());
    let http = reqwest::Client::new();
    let set = http
        .put(&control)
        .json(&json!({"interval": "150ms"}))
        .send()
        .await
        .unwrap();
    assert_eq!(set.status(), 204);
    let read: Value = http
        .get(&control)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(read, json!({"interval": "150ms"}));
    assert_eq!(server.webhook_retry_interval(), Duration::from_millis(150));
    let refused = http
        .put(&control)
        .json(&json!({"interval": "soon"}))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 400);
}
