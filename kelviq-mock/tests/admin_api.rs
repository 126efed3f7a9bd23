//! The admin operations over plain HTTP, read from what the emulator already holds:
//! checkout sessions (open, then completed), the orders purchases recorded (with refunds),
//! their timelines, and webhook delivery attempts; each in the document's shape, paged as
//! the document says (10 a page by default, newest first), filtered, and 404 for what does
//! not exist.

use std::time::Duration;

use kelviq_mock::MockServer;
use serde_json::{json, Value};

const KEY: &str = "sk_test_admin";

struct Http {
    base: String,
    client: reqwest::Client,
}

impl Http {
    fn new(server: &MockServer) -> Self {
        Self {
            base: server.url(),
            client: reqwest::Client::new(),
        }
    }

    async fn send(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(KEY);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    async fn get(&self, path: &str) -> Value {
        let (status, answer) = self.send("GET", path, None).await;
        assert_eq!(status, 200, "GET {path}: {answer}");
        answer
    }

    async fn checkout(&self, customer: &str, plan: &str, period: &str) -> String {
        let (status, session) = self
            .send(
                "POST",
                "/api/v1/checkout/",
                Some(json!({
                    "planIdentifier": plan,
                    "chargePeriod": period,
                    "successUrl": "https://example.com/done",
                    "customerId": customer,
                    "metadata": {"campaign": "spring"},
                })),
            )
            .await;
        assert_eq!(status, 200, "{session}");
        session["checkoutSessionId"].as_str().unwrap().to_owned()
    }
}

fn is_instant(value: &Value) -> bool {
    value
        .as_str()
        .is_some_and(|s| chrono::DateTime::parse_from_rfc3339(s).is_ok())
}

fn is_uuid(value: &Value) -> bool {
    value
        .as_str()
        .is_some_and(|s| uuid::Uuid::parse_str(s).is_ok())
}

#[track_caller]
fn results(page: &Value, count: usize) -> &Vec<Value> {
    assert_eq!(page["count"], json!(count), "{page}");
    assert!(
        page.get("next").is_some() && page.get("previous").is_some(),
        "{page}"
    );
    page["results"].as_array().unwrap()
}

#[tokio::test]
async fn checkout_sessions_are_listed_read_and_their_timeline_grows_when_paid() {
    let server = MockServer::start().await.unwrap();
    let http = Http::new(&server);
    http.send(
        "POST",
        "/api/v1/customers/",
        Some(json!({"customerId": "jane", "name": "Jane Smith", "email": "jane@example.com"})),
    )
    .await;
    let first = http.checkout("jane", "premium-plan", "MONTHLY").await;
    let second = http.checkout("bob", "premium-plan", "MONTHLY").await;

    let list = http.get("/api/v1/checkout/sessions/").await;
    let sessions = results(&list, 2);
    assert_eq!(sessions[0]["id"], json!(second), "newest first");
    let record = &sessions[1];
    assert_eq!(record["id"], json!(first));
    assert_eq!(record["status"], "open");
    assert!(is_instant(&record["createdOn"]), "{record}");
    assert_eq!(
        record["customer"],
        json!({"customerId": "jane", "name": "Jane Smith", "email": "jane@example.com"})
    );
    assert_eq!(record["metadata"], json!({"campaign": "spring"}));
    assert_eq!(record["selectedData"]["planIdentifier"], "premium-plan");
    assert_eq!(record["trialPeriod"], 0);
    assert!(
        record.get("order").is_none(),
        "a record is not a detail: {record}"
    );

    // Open: the detail's order, subscription and payment method are null.
    let detail = http
        .get(&format!("/api/v1/checkout/sessions/{first}/"))
        .await;
    assert_eq!(
        (
            &detail["order"],
            &detail["subscription"],
            &detail["paymentMethod"]
        ),
        (&Value::Null, &Value::Null, &Value::Null)
    );
    let events = http
        .get(&format!("/api/v1/checkout/sessions/{first}/events/"))
        .await;
    assert_eq!(results(&events, 1)[0]["code"], "checkout_session.created");

    // Paid.
    let completed = server.complete_checkout(&first).unwrap();
    let detail = http
        .get(&format!("/api/v1/checkout/sessions/{first}/"))
        .await;
    assert_eq!(detail["status"], "success");
    assert_eq!(
        detail["subscription"]["id"],
        json!(completed.subscription_id)
    );
    assert_eq!(detail["subscription"]["billingType"], "SUBSCRIPTION");
    assert!(
        detail["subscription"].get("features").is_none(),
        "in brief: {detail}"
    );
    assert_eq!(detail["order"]["status"], "COMPLETE");
    assert!(detail["order"]["id"].is_string(), "{detail}");
    assert_eq!(detail["paymentMethod"]["last4"], "4242");
    let events = http
        .get(&format!("/api/v1/checkout/sessions/{first}/events/"))
        .await;
    let events = results(&events, 3);
    assert_eq!(
        events[0]["code"], "checkout_session.completed",
        "newest first"
    );
    assert_eq!(events[2]["code"], "checkout_session.created");
    for event in events {
        assert!(
            event["id"].is_i64() && is_instant(&event["timestamp"]),
            "{event}"
        );
        assert!(event["metadata"].is_object() && event["status"] == "success");
    }

    // Filters: status, search, dates; the page links keep them.
    let open = http.get("/api/v1/checkout/sessions/?status=open").await;
    assert_eq!(results(&open, 1)[0]["id"], json!(second));
    let found = http.get("/api/v1/checkout/sessions/?search=Jane").await;
    assert_eq!(results(&found, 1)[0]["id"], json!(first));
    let none = http
        .get("/api/v1/checkout/sessions/?end_date=2001-01-01")
        .await;
    results(&none, 0);
    let paged = http
        .get("/api/v1/checkout/sessions/?status=success&page_size=1")
        .await;
    assert_eq!(paged["next"], Value::Null);

    let (status, body) = http
        .send("GET", "/api/v1/checkout/sessions/cs_nobody/", None)
        .await;
    assert_eq!((status, body), (404, json!({"detail": "Not found."})));
    let (status, _) = http
        .send("GET", "/api/v1/checkout/sessions/cs_nobody/events/", None)
        .await;
    assert_eq!(status, 404);
    let (status, body) = http
        .send(
            "GET",
            "/api/v1/checkout/sessions/?start_date=yesterday",
            None,
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert!(body["errors"]["start_date"].is_array(), "{body}");
}

#[tokio::test]
async fn orders_are_paged_ten_at_a_time_filtered_and_read_with_their_timeline() {
    let server = MockServer::start().await.unwrap();
    let http = Http::new(&server);
    let mut sessions = Vec::new();
    for n in 0..11 {
        let session = http
            .checkout(&format!("customer-{n:02}"), "premium-plan", "MONTHLY")
            .await;
        server.complete_checkout(&session).unwrap();
        sessions.push(session);
    }

    let first_page = http.get("/api/v1/orders/").await;
    let orders = results(&first_page, 11);
    assert_eq!(orders.len(), 10, "10 a page by default");
    assert!(first_page["next"]
        .as_str()
        .unwrap()
        .ends_with("page=2&page_size=10"));
    let second_page = http.get("/api/v1/orders/?page=2").await;
    assert_eq!(results(&second_page, 11).len(), 1);
    assert_eq!(
        second_page["results"][0]["customer"]["customerId"], "customer-00",
        "most recently paid first"
    );

    let order = &orders[0];
    let id = order["id"].as_str().unwrap();
    assert_eq!(order["status"], "COMPLETE");
    assert_eq!(order["billingType"], "SUBSCRIPTION");
    assert!(is_instant(&order["paidAt"]), "{order}");
    // Amounts as decimal strings and in cents, which agree.
    let total = order["amountTotal"].as_str().unwrap();
    let units = order["amountTotalUnits"].as_i64().unwrap();
    assert_eq!(total, format!("{}.{:02}", units / 100, units % 100));
    assert_eq!(order["amountDiscount"], "0.00");
    assert_eq!(order["refundedTotalUnits"], 0);
    assert!(is_uuid(&order["subscription"]["id"]), "{order}");
    assert_eq!(order["paymentMethod"]["paymentMethodType"], "card");
    assert_eq!(http.get(&format!("/api/v1/orders/{id}/")).await, *order);

    // A refund shows in the status and the timeline.
    let (status, refund) = http
        .send(
            "POST",
            "/api/v1/refunds/",
            Some(json!({"order_id": id, "amount": 1.0, "reason": "REQUESTED_BY_CUSTOMER"})),
        )
        .await;
    assert_eq!(status, 200, "{refund}");
    let order = http.get(&format!("/api/v1/orders/{id}/")).await;
    assert_eq!(order["status"], "PARTIAL_REFUND");
    assert_eq!(order["refundedTotalUnits"], 100);
    let events = http.get(&format!("/api/v1/orders/{id}/events/")).await;
    let events = results(&events, 3);
    let codes: Vec<&str> = events.iter().map(|e| e["code"].as_str().unwrap()).collect();
    assert_eq!(
        codes,
        ["order.refunded", "order.completed", "order.created"]
    );
    assert!(events.iter().all(|e| e["order"] == id), "{events:?}");

    // Filters.
    let refunded = http.get("/api/v1/orders/?status=PARTIAL_REFUND").await;
    assert_eq!(results(&refunded, 1)[0]["id"], id);
    let found = http.get("/api/v1/orders/?search=customer-03").await;
    assert_eq!(
        results(&found, 1)[0]["customer"]["customerId"],
        "customer-03"
    );
    results(&http.get("/api/v1/orders/?billing_type=ONE_TIME").await, 0);
    results(&http.get("/api/v1/orders/?is_renewal=true").await, 0);
    results(&http.get("/api/v1/orders/?is_renewal=false").await, 11);
    results(&http.get("/api/v1/orders/?status=PENDING").await, 0);
    let (status, body) = http.send("GET", "/api/v1/orders/?status=DONE", None).await;
    assert_eq!(status, 400, "{body}");
    assert!(body["errors"]["status"].is_array(), "{body}");

    let (status, body) = http.send("GET", "/api/v1/orders/ord_nobody/", None).await;
    assert_eq!((status, body), (404, json!({"detail": "Not found."})));
    let (status, _) = http
        .send("GET", "/api/v1/orders/ord_nobody/events/", None)
        .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn webhook_attempts_are_logged_retries_included() {
    // Retried 50 ms apart instead of the service's 60 s.
    let server = MockServer::builder()
        .webhook_retry_interval(Duration::from_millis(50))
        .start()
        .await
        .unwrap();
    // An endpoint nobody listens on: every attempt fails, without a status.
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let dead = format!("http://{}/hooks", closed.local_addr().unwrap());
    drop(closed);
    server.add_webhook(dead.as_str(), "kq_whsec_test");
    let http = Http::new(&server);
    http.send(
        "POST",
        "/api/v1/customers/",
        Some(json!({"customerId": "jane"})),
    )
    .await;

    // Every attempt of `customer.created`: the first and 3 retries.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let logs = loop {
        let logs = http.get("/api/v1/webhook/logs/?page_size=100").await;
        if logs["count"] == json!(kelviq_mock::webhooks::ATTEMPTS) {
            break logs;
        }
        assert!(tokio::time::Instant::now() < deadline, "{logs}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let attempts = results(&logs, kelviq_mock::webhooks::ATTEMPTS as usize);
    let newest = &attempts[0];
    assert_eq!(newest["eventType"], "customer.created");
    assert_eq!(newest["statusCode"], Value::Null);
    assert_eq!(newest["isSuccess"], false);
    assert_eq!(
        newest["retryCount"],
        json!(kelviq_mock::webhooks::ATTEMPTS - 1),
        "newest first"
    );
    assert_eq!(attempts.last().unwrap()["retryCount"], 0);
    for attempt in attempts {
        assert!(
            is_uuid(&attempt["id"]) && is_uuid(&attempt["eventId"]),
            "{attempt}"
        );
        assert!(is_uuid(&attempt["endpoint"]), "{attempt}");
        assert_eq!(attempt["eventId"], newest["eventId"], "one event");
        assert_eq!(attempt["endpoint"], newest["endpoint"], "one endpoint");
        assert!(is_instant(&attempt["lastAttempt"]) && is_instant(&attempt["createdOn"]));
        assert_eq!(attempt["createdOn"], newest["createdOn"]);
        assert_eq!(attempt["payload"]["type"], "customer.created");
        assert_eq!(attempt["payload"]["data"]["object"]["customer_id"], "jane");
    }

    // Narrowed by the day of the attempt; another key's tenant sees none of them.
    results(
        &http.get("/api/v1/webhook/logs/?end_date=2001-01-01").await,
        0,
    );
    let other = reqwest::Client::new()
        .get(format!("{}/api/v1/webhook/logs/", server.url()))
        .bearer_auth("sk_other")
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    assert_eq!(other["count"], 0, "{other}");
}
