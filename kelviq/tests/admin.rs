//! The admin operations on the wire, against a small server answering the document's
//! examples: the path (identifiers percent-encoded as one segment, trailing slash), the
//! query (filters, paging), the bearer key; the typed answers; lists walked across two
//! pages; input refused before anything is sent. Both clients. Then the same operations
//! against the emulator, end to end (which also checks that the emulator's answers decode
//! as the document's types).

#![cfg(all(feature = "admin", feature = "blocking"))]

use std::future::Future;
use std::sync::{Arc, Mutex};

use kelviq::{ErrorKind, Kelviq, RetryPolicy};
use serde_json::{json, Value};

const API_KEY: &str = "sk_test_admin_wire";
const ORDER_ID: &str = "ORD-20260729103000-AB3K9";
const SESSION_ID: &str = "cs_a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8s9T0u1V2";

/// One request as the server received it.
#[derive(Debug, Clone)]
struct Recorded {
    method: String,
    /// As it came, percent-encoding and all.
    path: String,
    query: Option<String>,
    partner_key: Option<String>,
    authorization: Option<String>,
    body: Option<Value>,
}

type Answer = dyn Fn(&Recorded) -> (u16, Value) + Send + Sync;
type Log = Arc<Mutex<Vec<Recorded>>>;

/// A server on a free loopback port, on its own runtime, that records every request and
/// answers what `answer` says.
struct Server {
    base: String,
    log: Log,
    runtime: Option<tokio::runtime::Runtime>,
}

impl Server {
    fn start(answer: impl Fn(&Recorded) -> (u16, Value) + Send + Sync + 'static) -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let log = Log::default();
        let answer: Arc<Answer> = Arc::new(answer);
        let app = axum::Router::new()
            .fallback(handle)
            .with_state((log.clone(), answer));
        runtime.spawn(async move { axum::serve(listener, app).await });
        Self {
            base,
            log,
            runtime: Some(runtime),
        }
    }

    fn take(&self) -> Vec<Recorded> {
        std::mem::take(&mut *self.log.lock().unwrap())
    }

    fn client(&self) -> kelviq::Client {
        Kelviq::builder(API_KEY)
            .api_base_url(&self.base)
            .retry_policy(RetryPolicy::none())
            .build()
            .unwrap()
    }

    fn blocking(&self) -> kelviq::blocking::Client {
        Kelviq::builder(API_KEY)
            .api_base_url(&self.base)
            .retry_policy(RetryPolicy::none())
            .build_blocking()
            .unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

async fn handle(
    axum::extract::State((log, answer)): axum::extract::State<(Log, Arc<Answer>)>,
    request: axum::extract::Request,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let (parts, body) = request.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap();
    let header = |name: &str| {
        parts
            .headers
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
    };
    let recorded = Recorded {
        method: parts.method.to_string(),
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().map(str::to_owned),
        partner_key: header("x-kelviq-partner-key"),
        authorization: header("authorization"),
        body: (!bytes.is_empty()).then(|| serde_json::from_slice(&bytes).unwrap()),
    };
    let (status, body) = answer(&recorded);
    log.lock().unwrap().push(recorded);
    let mut response = axum::Json(body).into_response();
    *response.status_mut() = http::StatusCode::from_u16(status).unwrap();
    response
}

fn run<F: Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(future)
}

/// The one request received: `GET path`, authenticated with the API key.
#[track_caller]
fn only(server: &Server, path: &str) -> Recorded {
    let requests = server.take();
    assert_eq!(requests.len(), 1, "{requests:#?}");
    let request = requests.into_iter().next().unwrap();
    assert_eq!(
        (request.method.as_str(), request.path.as_str()),
        ("GET", path)
    );
    assert_eq!(
        request.authorization.as_deref(),
        Some(format!("Bearer {API_KEY}").as_str())
    );
    assert_eq!(request.partner_key, None);
    assert_eq!(request.body, None);
    request
}

/// A page of `results`, with a next page when `next` says so.
fn page(results: Vec<Value>, count: usize, next: Option<&str>) -> Value {
    json!({"count": count, "next": next, "previous": null, "results": results})
}

// The document's examples.

fn order() -> Value {
    json!({
        "id": ORDER_ID,
        "customer": {"customerId": "testuser", "name": "Jane Smith", "email": "jane@example.com"},
        "status": "COMPLETE",
        "paidAt": "2026-07-29T10:31:12Z",
        "amountSubtotal": "261.00",
        "amountDiscount": "0.00",
        "amountTax": "0.00",
        "amountTotal": "261.00",
        "saleCurrency": "USD",
        "amountSubtotalUnits": 26100,
        "amountDiscountUnits": 0,
        "amountTaxUnits": 0,
        "amountTotalUnits": 26100,
        "refundedTotalUnits": 0,
        "saleCurrencySymbol": "$",
        "billingType": "SUBSCRIPTION",
        "license": [],
        "isTrial": false,
        "subscription": {
            "id": "09d706ca-58f3-4fb2-818f-5b8623d67e6e",
            "status": "active",
            "amount": "261.00",
            "currency": "usd",
            "interval": "month",
            "currencySymbol": "$",
            "nextInvoiceDate": "2026-08-28T10:46:34Z"
        },
        "invoiceId": "INV-20260729103000-XZ7Q1",
        "customFieldsData": {},
        "paymentMethod": {"paymentMethodType": "card", "paymentMethodName": "visa", "last4": "4242"}
    })
}

fn order_event() -> Value {
    json!({
        "id": 4821,
        "order": ORDER_ID,
        "title": "Order completed",
        "code": "order.completed",
        "status": "success",
        "timestamp": "2026-07-29T10:31:12Z",
        "metadata": {"primary": "+112.50", "secondary": "card ending 4242"}
    })
}

fn session_record() -> Value {
    json!({
        "id": SESSION_ID,
        "customer": {"customerId": "testuser", "name": "Jane Smith", "email": "jane@example.com"},
        "discountCode": null,
        "taxId": null,
        "currency": "usd",
        "currencySymbol": "$",
        "status": "open",
        "createdOn": "2026-07-29T10:30:00Z",
        "trialPeriod": 0
    })
}

fn session_detail() -> Value {
    let mut detail = session_record();
    detail["status"] = json!("success");
    detail["order"] = json!({
        "id": ORDER_ID,
        "status": "COMPLETE",
        "paidAt": "2026-07-29T10:31:12Z",
        "createdOn": "2026-07-29T10:30:55Z",
        "billingType": "SUBSCRIPTION",
        "isTrial": false,
        "amountSubtotal": "261.00",
        "amountDiscount": "0.00",
        "amountTax": "0.00",
        "amountTotal": "261.00",
        "saleCurrency": "USD",
        "saleCurrencySymbol": "$",
        "invoiceId": "INV-20260729103000-XZ7Q1"
    });
    detail["subscription"] = json!({
        "id": "09d706ca-58f3-4fb2-818f-5b8623d67e6e",
        "recurrence": "month",
        "billingPeriodStartTime": "2026-07-29T10:31:12Z",
        "billingPeriodEndTime": "2026-08-29T10:31:12Z",
        "startDate": "2026-07-29",
        "endDate": null,
        "status": "active",
        "amount": "261.00",
        "currency": "usd",
        "trialDaysRemaining": 0,
        "billingType": "SUBSCRIPTION",
        "recurrenceUnit": 1,
        "recurrenceType": "MONTH"
    });
    detail["paymentMethod"] =
        json!({"paymentMethodType": "card", "paymentMethodName": "visa", "last4": "4242"});
    detail
}

fn session_event() -> Value {
    json!({
        "id": 913,
        "title": "Checkout session created",
        "code": "checkout_session.created",
        "status": "success",
        "timestamp": "2026-07-29T10:30:00Z",
        "metadata": {}
    })
}

fn webhook_log() -> Value {
    json!({
        "id": "9c3e9f2a-1b7a-4a3e-8b6e-8e6f9a2c1d4a",
        "eventId": "5b274952-0e54-48f6-aec6-e8a3f202b12e",
        "endpoint": "2f6b9e2a-7c1a-4a3e-8b6e-8e6f9a2c1d4a",
        "eventType": "charge.completed",
        "statusCode": 200,
        "isSuccess": true,
        "retryCount": 0,
        "lastAttempt": "2026-07-29T10:31:15Z",
        "createdOn": "2026-07-29T10:31:12Z",
        "payload": {}
    })
}

/// The query's pairs, in order of name.
fn query(request: &Recorded) -> std::collections::BTreeMap<String, String> {
    request
        .query
        .as_deref()
        .unwrap_or_default()
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            (name.to_owned(), value.to_owned())
        })
        .collect()
}

/// Answers every admin path with the document's examples; `page=1` of a list has a next
/// page holding the same item again.
fn examples(request: &Recorded) -> (u16, Value) {
    let second = request
        .query
        .as_deref()
        .is_some_and(|q| q.contains("page=2"));
    let list = |item: Value| {
        let next = (!second).then_some("http://next/?page=2");
        (200, page(vec![item], 2, next))
    };
    let path = request.path.as_str();
    match path {
        "/api/v1/orders/" => list(order()),
        "/api/v1/checkout/sessions/" => list(session_record()),
        "/api/v1/webhook/logs/" => list(webhook_log()),
        _ if path.ends_with("/events/") && path.starts_with("/api/v1/orders/") => {
            list(order_event())
        }
        _ if path.ends_with("/events/") => list(session_event()),
        _ if path.starts_with("/api/v1/orders/") => (200, order()),
        _ => (200, session_detail()),
    }
}

#[test]
fn orders_are_listed_with_their_filters_read_and_their_timeline_streamed() {
    use futures_util::TryStreamExt;
    use kelviq::admin::{BillingType, OrderStatus};

    let server = Server::start(examples);
    let client = server.client();
    let orders = client.admin().orders();

    let first = run(orders
        .list()
        .search("jane smith")
        .status(OrderStatus::PartialRefund)
        .billing_type(BillingType::OneTime)
        .is_renewal(false)
        .start_date("2026-07-01")
        .end_date(chrono::NaiveDate::from_ymd_opt(2026, 7, 31).unwrap())
        .page_size(1)
        .send())
    .unwrap();
    let request = only(&server, "/api/v1/orders/");
    assert_eq!(
        query(&request),
        [
            ("billing_type", "ONE_TIME"),
            ("end_date", "2026-07-31"),
            ("is_renewal", "false"),
            ("page_size", "1"),
            ("search", "jane+smith"),
            ("start_date", "2026-07-01"),
            ("status", "PARTIAL_REFUND"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
    );
    assert_eq!((first.count, first.has_next()), (2, true));
    let order = &first.results[0];
    assert_eq!(order.id, ORDER_ID);
    assert_eq!(order.status, "COMPLETE");
    assert_eq!(order.amount_total.as_deref(), Some("261.00"));
    assert_eq!(order.amount_total_units, Some(26100));
    assert_eq!(order.refunded_total_units, Some(0));
    assert_eq!(order.paid_at, Some("2026-07-29T10:31:12Z".parse().unwrap()));
    let customer = order.customer.as_ref().unwrap();
    assert_eq!(customer.customer_id.as_deref(), Some("testuser"));
    assert_eq!(customer.email.as_deref(), Some("jane@example.com"));
    let subscription = order.subscription.as_ref().unwrap();
    assert_eq!(
        subscription.id.as_deref(),
        Some("09d706ca-58f3-4fb2-818f-5b8623d67e6e")
    );
    assert_eq!(subscription.interval.as_deref(), Some("month"));
    assert_eq!(
        order.payment_method.as_ref().unwrap().last4.as_deref(),
        Some("4242")
    );
    assert_eq!(
        order.invoice_id.as_deref(),
        Some("INV-20260729103000-XZ7Q1")
    );
    assert_eq!((&order.product, &order.plan), (&None, &None));

    // Streamed across both pages: two requests, page 1 then page 2.
    let all: Vec<_> = run(orders.list().into_stream().try_collect()).unwrap();
    assert_eq!(all.len(), 2);
    let pages: Vec<_> = server.take().iter().map(query).collect();
    assert_eq!(pages.len(), 2);
    assert_eq!(pages[1]["page"], "2");

    // The identifier travels as one percent-encoded segment.
    let read = run(orders.retrieve("ORD/1 ü").send()).unwrap();
    only(&server, "/api/v1/orders/ORD%2F1%20%C3%BC/");
    assert_eq!(read, all[0]);

    let events = run(orders.list_events(ORDER_ID).page(2).send()).unwrap();
    let request = only(&server, &format!("/api/v1/orders/{ORDER_ID}/events/"));
    assert_eq!(request.query.as_deref(), Some("page=2"));
    let event = &events.results[0];
    assert_eq!((event.id, event.order.as_str()), (4821, ORDER_ID));
    assert_eq!(event.code, "order.completed");
    assert_eq!(event.metadata["secondary"], "card ending 4242");
}

#[test]
fn an_order_without_a_subscription_has_none() {
    let server = Server::start(|_| {
        let mut order = order();
        order["subscription"] = json!({});
        order["billingType"] = json!("ONE_TIME");
        (200, order)
    });
    let order = run(server.client().admin().orders().retrieve(ORDER_ID).send()).unwrap();
    assert_eq!(order.subscription, None);
    assert_eq!(order.billing_type.as_deref(), Some("ONE_TIME"));
}

#[test]
fn checkout_sessions_are_listed_read_with_what_they_produced_and_their_timeline() {
    let server = Server::start(examples);
    let client = server.client();
    let sessions = client.admin().checkout_sessions();

    let first = run(sessions
        .list()
        .status("open")
        .search("cs_a1")
        .start_date("2026-07-29")
        .send())
    .unwrap();
    let request = only(&server, "/api/v1/checkout/sessions/");
    assert_eq!(
        request.query.as_deref(),
        Some("search=cs_a1&start_date=2026-07-29&status=open")
    );
    let record = &first.results[0];
    assert_eq!(record.id, SESSION_ID);
    assert_eq!(record.status, "open");
    assert_eq!(
        record.created_on,
        "2026-07-29T10:30:00Z"
            .parse::<chrono::DateTime<chrono::Utc>>()
            .unwrap()
    );
    assert_eq!(record.trial_period, Some(0));
    assert_eq!(record.discount_code, None);

    let detail = run(sessions.retrieve(SESSION_ID).send()).unwrap();
    only(&server, &format!("/api/v1/checkout/sessions/{SESSION_ID}/"));
    assert_eq!(detail.session.status, "success");
    let order = detail.order.unwrap();
    assert_eq!(order.id.as_deref(), Some(ORDER_ID));
    assert_eq!(order.amount_total.as_deref(), Some("261.00"));
    let subscription = detail.subscription.unwrap();
    assert_eq!(
        subscription.start_date,
        chrono::NaiveDate::from_ymd_opt(2026, 7, 29)
    );
    assert_eq!(subscription.end_date, None);
    assert_eq!(subscription.recurrence_type.as_deref(), Some("MONTH"));
    assert_eq!(
        detail
            .payment_method
            .unwrap()
            .payment_method_name
            .as_deref(),
        Some("visa")
    );

    let events = run(sessions.list_events("cs a").send()).unwrap();
    only(&server, "/api/v1/checkout/sessions/cs%20a/events/");
    assert_eq!(events.results[0].code, "checkout_session.created");
    assert_eq!(events.results[0].id, 913);
}

#[test]
fn webhook_logs_are_listed_by_day_and_walked_by_the_blocking_client() {
    let server = Server::start(examples);
    let client = server.blocking();
    let logs = client.admin().webhook_logs();

    let first = logs
        .list()
        .start_date("2026-07-01")
        .end_date("2026-07-29")
        .send()
        .unwrap();
    let request = only(&server, "/api/v1/webhook/logs/");
    assert_eq!(
        request.query.as_deref(),
        Some("end_date=2026-07-29&start_date=2026-07-01")
    );
    let log = &first.results[0];
    assert_eq!(log.id, "9c3e9f2a-1b7a-4a3e-8b6e-8e6f9a2c1d4a");
    assert_eq!(log.event_id, "5b274952-0e54-48f6-aec6-e8a3f202b12e");
    assert_eq!(log.endpoint, "2f6b9e2a-7c1a-4a3e-8b6e-8e6f9a2c1d4a");
    assert_eq!(log.event_type, "charge.completed");
    assert_eq!(
        (log.status_code, log.is_success, log.retry_count),
        (Some(200), true, 0)
    );
    assert!(log.payload.is_empty());

    let all: Vec<_> = logs
        .list()
        .into_iter()
        .collect::<kelviq::Result<_>>()
        .unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(server.take().len(), 2);

    // Every group on the blocking client.
    let admin = client.admin();
    assert_eq!(
        admin.orders().retrieve(ORDER_ID).send().unwrap().id,
        ORDER_ID
    );
    server.take();
    let events: Vec<_> = admin
        .orders()
        .list_events(ORDER_ID)
        .into_iter()
        .collect::<kelviq::Result<_>>()
        .unwrap();
    assert_eq!(events.len(), 2);
    server.take();
    let detail = admin
        .checkout_sessions()
        .retrieve(SESSION_ID)
        .send()
        .unwrap();
    assert!(detail.order.is_some());
    server.take();
    let sessions = admin.checkout_sessions().list().page(2).send().unwrap();
    assert_eq!((sessions.results.len(), sessions.has_next()), (1, false));
    let events = admin
        .checkout_sessions()
        .list_events(SESSION_ID)
        .send()
        .unwrap();
    assert_eq!(events.count, 2);
}

#[test]
fn a_missing_order_is_not_found_with_the_documents_body() {
    let server = Server::start(|_| (404, json!({"detail": "Not found."})));
    let client = server.client();
    let error = run(client.admin().orders().retrieve("ORD-nobody").send()).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::NotFound);
    assert_eq!(error.body().and_then(|b| b.detail()), Some("Not found."));
    let error = run(client
        .admin()
        .checkout_sessions()
        .list_events("cs_nobody")
        .send())
    .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::NotFound);
}

#[track_caller]
fn assert_refused<T: std::fmt::Debug>(
    call: impl Future<Output = kelviq::Result<T>>,
    field: &str,
    value: &str,
) {
    match run(call) {
        Err(error) if error.kind() == ErrorKind::Validation => {
            assert!(
                error.to_string().starts_with("admin."),
                "names the operation: {error}"
            );
            let rule = error.validation().unwrap();
            assert_eq!((rule.field(), rule.value()), (field, value), "{rule}");
            assert!(!rule.expected().is_empty());
        }
        other => panic!("expected a validation error on {field}, got {other:?}"),
    }
}

#[test]
fn bad_input_is_refused_and_nothing_is_sent() {
    let server = Server::start(|_| (500, json!({})));
    let client = server.client();
    let admin = client.admin();

    for id in ["", ".", ".."] {
        assert_refused(admin.orders().retrieve(id).send(), "order_id", id);
        assert_refused(admin.orders().list_events(id).send(), "order_id", id);
        assert_refused(
            admin.checkout_sessions().retrieve(id).send(),
            "session_id",
            id,
        );
        assert_refused(
            admin.checkout_sessions().list_events(id).send(),
            "session_id",
            id,
        );
    }
    assert_refused(admin.orders().list().page(0).send(), "page", "0");
    assert_refused(
        admin.orders().list().page_size(101).send(),
        "page_size",
        "101",
    );
    assert_refused(
        admin.orders().list().start_date("29/07/2026").send(),
        "start_date",
        "29/07/2026",
    );
    assert_refused(
        admin
            .checkout_sessions()
            .list()
            .end_date("yesterday")
            .send(),
        "end_date",
        "yesterday",
    );
    assert_refused(
        admin.webhook_logs().list().start_date("2026-13-01").send(),
        "start_date",
        "2026-13-01",
    );
    assert_refused(
        admin.orders().list_events(ORDER_ID).page_size(0).send(),
        "page_size",
        "0",
    );
    assert!(server.take().is_empty(), "nothing was sent");

    // The filters' enums take the documented spellings only.
    let refused = "DONE".parse::<kelviq::admin::OrderStatus>().unwrap_err();
    assert_eq!(refused.field(), "status");
    assert_eq!(
        "one_time".parse::<kelviq::admin::BillingType>().unwrap(),
        kelviq::admin::BillingType::OneTime
    );
}

#[test]
fn against_the_emulator_a_completed_checkout_shows_as_a_session_an_order_and_their_timelines() {
    run(async {
        // Retried 50 ms apart (the service waits 60 s), so that a retry is logged soon.
        let server = kelviq_mock::MockServer::builder()
            .webhook_retry_interval(std::time::Duration::from_millis(50))
            .start()
            .await
            .unwrap();
        // A webhook endpoint nobody listens on: every delivery attempt is logged, failed.
        let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let dead = format!("http://{}/hooks", closed.local_addr().unwrap());
        drop(closed);
        server.add_webhook(dead.as_str(), "kq_whsec_admin");
        let client = Kelviq::builder(API_KEY)
            .api_base_url(server.url())
            .build()
            .unwrap();
        client
            .customers()
            .create("jane")
            .name("Jane Smith")
            .email("jane@example.com")
            .send()
            .await
            .unwrap();
        let session = client
            .checkout()
            .create_session(
                "premium-plan",
                kelviq::ChargePeriod::Monthly,
                "https://example.com/done",
            )
            .customer_id("jane")
            .send()
            .await
            .unwrap();
        let admin = client.admin();

        let open = admin
            .checkout_sessions()
            .retrieve(session.checkout_session_id.as_str())
            .send()
            .await
            .unwrap();
        assert_eq!(open.session.status, "open");
        assert_eq!((&open.order, &open.subscription), (&None, &None));

        let completed = server
            .complete_checkout(&session.checkout_session_id)
            .unwrap();
        let detail = admin
            .checkout_sessions()
            .retrieve(session.checkout_session_id.as_str())
            .send()
            .await
            .unwrap();
        assert_eq!(detail.session.status, "success");
        assert_eq!(
            detail.subscription.as_ref().unwrap().id.as_deref(),
            Some(completed.subscription_id.as_str())
        );
        let order_id = detail.order.as_ref().unwrap().id.clone().unwrap();

        let listed = admin.checkout_sessions().list().send().await.unwrap();
        assert_eq!(listed.results, vec![detail.session.clone()]);
        let events = admin
            .checkout_sessions()
            .list_events(session.checkout_session_id.as_str())
            .send()
            .await
            .unwrap();
        assert_eq!(events.results[0].code, "checkout_session.completed");

        let orders = admin.orders().list().send().await.unwrap();
        assert_eq!(orders.count, 1);
        let order = &orders.results[0];
        assert_eq!(order.id, order_id);
        assert_eq!(order.status, "COMPLETE");
        assert_eq!(
            order.customer.as_ref().unwrap().name.as_deref(),
            Some("Jane Smith")
        );
        assert_eq!(
            order.subscription.as_ref().unwrap().id.as_deref(),
            Some(completed.subscription_id.as_str())
        );
        assert_eq!(
            admin
                .orders()
                .retrieve(order_id.as_str())
                .send()
                .await
                .unwrap(),
            *order
        );
        let events = admin
            .orders()
            .list_events(order_id.as_str())
            .send()
            .await
            .unwrap();
        assert_eq!(events.results[0].code, "order.completed");
        assert!(events.results.iter().all(|e| e.order == order_id));

        let none = admin
            .orders()
            .list()
            .billing_type(kelviq::admin::BillingType::OneTime)
            .send()
            .await
            .unwrap();
        assert_eq!(none.count, 0);
        let error = admin
            .orders()
            .retrieve("ord_nobody")
            .send()
            .await
            .unwrap_err();
        assert_eq!(error.kind(), ErrorKind::NotFound);

        // The deliveries to the dead endpoint, as the document's `WebhookEventLog`.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        let logs = loop {
            let logs = admin
                .webhook_logs()
                .list()
                .page_size(100)
                .send()
                .await
                .unwrap();
            if logs.results.iter().any(|l| l.retry_count > 0) {
                break logs;
            }
            assert!(std::time::Instant::now() < deadline, "{logs:?}");
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        };
        let retried = logs.results.iter().find(|l| l.retry_count > 0).unwrap();
        assert_eq!((retried.status_code, retried.is_success), (None, false));
        let first = logs
            .results
            .iter()
            .find(|l| l.event_id == retried.event_id && l.retry_count == 0)
            .unwrap();
        assert_eq!(first.created_on, retried.created_on);
        assert!(first.last_attempt <= retried.last_attempt);
        assert_eq!(retried.payload["type"], json!(retried.event_type));
        let kinds: std::collections::BTreeSet<_> =
            logs.results.iter().map(|l| l.event_type.as_str()).collect();
        assert!(kinds.contains("customer.created"), "{kinds:?}");
        let none = admin
            .webhook_logs()
            .list()
            .end_date("2001-01-01")
            .send()
            .await
            .unwrap();
        assert_eq!(none.count, 0);
    });
}
