//! Every operation, from both clients, travels exactly as `shared/kelviq-wire.md` says:
//! method, path, query, headers and JSON body (optional fields absent when not given), and
//! the documented response decodes into the documented fields.

mod common;

use chrono::NaiveDate;
use common::{Harness, API_KEY};
use kelviq::{
    Behaviour, CancellationType, ChargePeriod, FeatureQuantity, FeatureType, ProrationBehavior,
};
use kelviq_mock::LoggedRequest;
use serde_json::{json, Value};

/// Runs the same builder chain on the async and on the blocking client, each time on a
/// fresh emulator state prepared by `setup`, and returns both results with the requests
/// each one sent.
macro_rules! on_both_clients {
    ($h:expr, |$c:ident, $s:ident| setup $setup:expr => $chain:expr) => {{
        let h: &Harness = &$h;
        h.server.reset();
        let $s = $setup;
        h.server.clear_requests();
        let async_result = {
            let $c = &h.client;
            h.run(async { $chain.send().await })
        };
        let async_requests = h.take_requests();
        h.server.reset();
        let $s = $setup;
        h.server.clear_requests();
        let blocking_result = {
            let $c = &h.blocking;
            $chain.send()
        };
        let blocking_requests = h.take_requests();
        [
            (async_result, async_requests),
            (blocking_result, blocking_requests),
        ]
    }};
}

/// The one request sent: its method, path, query and body are these, and its headers are
/// the SDK's and no others.
fn assert_request(
    requests: &[LoggedRequest],
    method: &str,
    path: &str,
    query: Option<&str>,
    body: Option<Value>,
) {
    assert_eq!(requests.len(), 1, "exactly one request: {requests:#?}");
    let request = &requests[0];
    assert_eq!(request.method, method);
    assert_eq!(request.path, path);
    assert_eq!(request.query.as_deref(), query);
    let headers = &request.headers;
    assert_eq!(headers["authorization"], format!("Bearer {API_KEY}"));
    assert_eq!(headers["accept"], "application/json");
    assert_eq!(
        headers["user-agent"],
        format!("kelviq-rust/{}", env!("CARGO_PKG_VERSION"))
    );
    match &body {
        Some(_) => assert_eq!(headers["content-type"], "application/json"),
        None => assert!(
            !headers.contains_key("content-type"),
            "no content-type without a body"
        ),
    }
    for name in headers.keys() {
        assert!(
            [
                "host",
                "authorization",
                "accept",
                "user-agent",
                "content-type",
                "content-length"
            ]
            .contains(&name.as_str()),
            "unexpected header {name}"
        );
    }
    assert_eq!(
        request.body,
        body.unwrap_or(Value::Null),
        "body of {method} {path}"
    );
}

#[test]
fn customers_create_and_update() {
    let h = Harness::new();
    for (result, requests) in on_both_clients!(h, |c, _s| setup () => c
        .customers()
        .create("unique-customer-id-123")
        .email("new.customer@example.com")
        .name("John Doe")
        .metadata([("source", "sdk_import"), ("priority", "high")]))
    {
        assert_request(
            &requests,
            "POST",
            "/api/v1/customers/",
            None,
            Some(json!({
                "customer_id": "unique-customer-id-123",
                "email": "new.customer@example.com",
                "name": "John Doe",
                "metadata": {"source": "sdk_import", "priority": "high"}
            })),
        );
        let customer = result.unwrap();
        assert_eq!(customer.customer_id, "unique-customer-id-123");
        assert_eq!(customer.email.as_deref(), Some("new.customer@example.com"));
        assert_eq!(customer.name.as_deref(), Some("John Doe"));
        assert_eq!(customer.metadata["priority"], "high");
        assert!(!customer.id.is_empty());
        assert_eq!(customer.created_on, customer.modified_on);
    }

    // Only the required field: the optional ones are absent, not null.
    for (result, requests) in
        on_both_clients!(h, |c, _s| setup () => c.customers().create("cust_min"))
    {
        assert_request(
            &requests,
            "POST",
            "/api/v1/customers/",
            None,
            Some(json!({"customer_id": "cust_min"})),
        );
        assert_eq!(result.unwrap().email, None);
    }

    for (result, requests) in on_both_clients!(h, |c, _created| setup {
            h.run(h.client.customers().create("unique-customer-id-123").email("old@example.com").send()).unwrap()
        } => c.customers().update("unique-customer-id-123").name("Johnathan Doe"))
    {
        assert_request(
            &requests,
            "PATCH",
            "/api/v1/customers/unique-customer-id-123/",
            None,
            Some(json!({"name": "Johnathan Doe"})),
        );
        let customer = result.unwrap();
        assert_eq!(customer.name.as_deref(), Some("Johnathan Doe"));
        assert_eq!(
            customer.email.as_deref(),
            Some("old@example.com"),
            "untouched fields stay"
        );
        assert!(
            customer.modified_on > customer.created_on,
            "modifiedOn moves"
        );
    }
}

#[test]
fn checkout_create_session() {
    let h = Harness::new();
    for (result, requests) in on_both_clients!(h, |c, _s| setup () => c
        .checkout()
        .create_session("plan-pro-monthly", ChargePeriod::Monthly, "https://kelviq.com/checkout/success")
        .customer_id("cust_789")
        .offering_id("96d3a293-34ac-48a5-b73d-976b15781afd")
        .pricing_table_id("6db2717a-4e43-4ae1-a293-6c0a775f6264")
        .rule_id("f2ebc23f-3f79-4cf4-b17e-fe8e30a42ab2")
        .features([FeatureQuantity::new("seats", 5)])
        .ip_address("103.154.35.20"))
    {
        assert_request(
            &requests,
            "POST",
            "/api/v1/checkout/",
            None,
            Some(json!({
                "planIdentifier": "plan-pro-monthly",
                "chargePeriod": "MONTHLY",
                "successUrl": "https://kelviq.com/checkout/success",
                "customerId": "cust_789",
                "offeringId": "96d3a293-34ac-48a5-b73d-976b15781afd",
                "pricingTableId": "6db2717a-4e43-4ae1-a293-6c0a775f6264",
                "ruleId": "f2ebc23f-3f79-4cf4-b17e-fe8e30a42ab2",
                "features": [{"identifier": "seats", "quantity": 5}],
                "ipAddress": "103.154.35.20"
            })),
        );
        let session = result.unwrap();
        assert!(session.checkout_url.ends_with(&session.checkout_session_id));
    }

    for (result, requests) in on_both_clients!(h, |c, _s| setup () => c
        .checkout()
        .create_session("premium-plan", ChargePeriod::Yearly, "https://kelviq.com/ok"))
    {
        assert_request(
            &requests,
            "POST",
            "/api/v1/checkout/",
            None,
            Some(
                json!({"planIdentifier": "premium-plan", "chargePeriod": "YEARLY", "successUrl": "https://kelviq.com/ok"}),
            ),
        );
        assert!(result.unwrap().checkout_session_id.starts_with("cs_"));
    }
}

#[test]
fn entitlements_has_access_get_entitlement_and_get_all() {
    // The wire of each call, with the cache off; `cache.rs` tests what the cache sends.
    let h = Harness::uncached();
    for (result, requests) in on_both_clients!(h, |c, _s| setup h.subscribe("cust_456", "plan-pro-monthly")
        => c.entitlements().has_access("cust_456", "premium-reporting"))
    {
        assert_request(
            &requests,
            "GET",
            "/api/v1/entitlements",
            Some("customer_id=cust_456&feature_id=premium-reporting"),
            None,
        );
        assert!(result.unwrap());
    }

    for (result, requests) in on_both_clients!(h, |c, _s| setup h.subscribe("cust_456", "plan-pro-monthly")
        => c.entitlements().get_entitlement("cust_456", "advanced-analytics"))
    {
        assert_request(
            &requests,
            "GET",
            "/api/v1/entitlements",
            Some("customer_id=cust_456&feature_id=advanced-analytics"),
            None,
        );
        let response = result.unwrap();
        assert_eq!(response.customer_id(), "cust_456");
        let [entry] = response.entitlements() else {
            panic!("one entry: {response:?}")
        };
        assert_eq!(entry.feature_id, "advanced-analytics");
        assert_eq!(entry.feature_type, Some(FeatureType::Meter));
        assert!(entry.has_access);
        assert_eq!(
            (
                entry.hard_limit,
                entry.usage_limit,
                entry.current_usage,
                entry.remaining
            ),
            (Some(false), Some(3), Some(0), Some(3))
        );
        assert!(entry
            .reset_at
            .as_deref()
            .is_some_and(|r| r.len() == "2025-05-22 08:27:45".len()));
    }

    for (result, requests) in on_both_clients!(h, |c, _s| setup h.subscribe("cust 456&x", "plan-pro-monthly")
        => c.entitlements().get_all_entitlements("cust 456&x"))
    {
        // Query values are form-encoded.
        assert_request(
            &requests,
            "GET",
            "/api/v1/entitlements",
            Some("customer_id=cust+456%26x"),
            None,
        );
        let response = result.unwrap();
        assert_eq!(response.customer_id(), "cust 456&x");
        let features: Vec<_> = response
            .entitlements()
            .iter()
            .map(|e| e.feature_id.as_str())
            .collect();
        assert_eq!(
            features,
            [
                "advanced-analytics",
                "api-usage",
                "premium-reporting",
                "projects",
                "seats"
            ]
        );
    }
}

#[test]
fn reporting_usage_and_events() {
    let h = Harness::new();
    for behaviour in [Behaviour::Set, Behaviour::Delta] {
        for (result, requests) in on_both_clients!(h, |c, _s| setup h.subscribe("customer_001", "plan-pro-monthly")
            => c.reporting().report_usage(150, "customer_001", "seats", behaviour))
        {
            assert_request(
                &requests,
                "POST",
                "/api/v1/report/usage/",
                None,
                Some(
                    json!({"value": 150, "customerId": "customer_001", "featureId": "seats", "behaviour": behaviour.as_str()}),
                ),
            );
            let report = result.unwrap().sent().expect("delivered");
            assert_eq!(
                (
                    report.value,
                    report.customer_id.as_str(),
                    report.feature_id.as_str()
                ),
                (150, "customer_001", "seats")
            );
            assert_eq!(report.behaviour, behaviour.as_str());
            assert_eq!(report.event_name, "aggregated.usage");
            assert!(!report.org_id.is_empty() && !report.idempotency_key.is_empty());
            assert_eq!(report.timestamp.len(), "2025-05-22 08:27:45.430732".len());
        }
    }

    for (result, requests) in on_both_clients!(h, |c, _s| setup h.subscribe("customer_001", "plan-pro-monthly")
        => c.reporting().report_usage(7, "customer_001", "api-usage", Behaviour::Delta).resource_id("res-1"))
    {
        assert_request(
            &requests,
            "POST",
            "/api/v1/report/usage/",
            None,
            Some(
                json!({"value": 7, "customerId": "customer_001", "featureId": "api-usage", "behaviour": "DELTA", "resourceId": "res-1"}),
            ),
        );
        assert_eq!(
            result
                .unwrap()
                .sent()
                .expect("delivered")
                .resource_id
                .as_deref(),
            Some("res-1")
        );
    }

    for (result, requests) in on_both_clients!(h, |c, _s| setup h.subscribe("customer_002", "plan-pro-monthly")
        => c.reporting()
            .report_event("customer_002", "api_invoked")
            .idempotency_key("45f05c737a0b44d482c6042816d5645d")
            .timestamp("2025-05-22 07:53:55.747959")
            .property("featureId", "api-usage")
            .property("value", 2))
    {
        assert_request(
            &requests,
            "POST",
            "/api/v1/report/event/",
            None,
            Some(json!({
                "customerId": "customer_002",
                "eventName": "api_invoked",
                "idempotencyKey": "45f05c737a0b44d482c6042816d5645d",
                "timestamp": "2025-05-22 07:53:55.747959",
                "properties": {"featureId": "api-usage", "value": 2}
            })),
        );
        let event = result.unwrap().sent().expect("delivered");
        assert_eq!(event.idempotency_key, "45f05c737a0b44d482c6042816d5645d");
        assert_eq!(event.timestamp, "2025-05-22 07:53:55.747959");
        assert_eq!(event.properties["value"], 2);
        assert!(!event.org_id.is_empty());
    }
}

#[test]
fn report_event_fills_in_the_idempotency_key_and_timestamp() {
    let h = Harness::new();
    h.subscribe("customer_002", "plan-pro-monthly");
    let before = chrono::Utc::now().naive_utc();
    let event = h
        .run(
            h.client
                .reporting()
                .report_event("customer_002", "user_login")
                .send(),
        )
        .unwrap()
        .sent()
        .expect("delivered");
    let requests = h.server.requests();
    let body = &requests.last().unwrap().body;
    let keys: Vec<&String> = body.as_object().unwrap().keys().collect();
    assert_eq!(
        keys.len(),
        4,
        "no properties or resourceId when not given: {body}"
    );
    let key = body["idempotencyKey"].as_str().unwrap();
    assert!(
        key.len() == 32 && key.chars().all(|c| c.is_ascii_hexdigit()),
        "a UUID in hex: {key}"
    );
    let at = chrono::NaiveDateTime::parse_from_str(
        body["timestamp"].as_str().unwrap(),
        "%Y-%m-%d %H:%M:%S%.6f",
    )
    .unwrap();
    assert!(at >= before - chrono::Duration::seconds(1) && at <= chrono::Utc::now().naive_utc());
    assert_eq!(event.idempotency_key, key);

    let second = h
        .blocking
        .reporting()
        .report_event("customer_002", "user_login")
        .send()
        .unwrap()
        .sent()
        .expect("delivered");
    assert_ne!(second.idempotency_key, key, "each call makes its own key");
}

#[test]
fn subscriptions_update_and_cancel() {
    let h = Harness::new();
    for (result, requests) in on_both_clients!(h, |c, sub| setup h.subscribe("cust_sub", "plan-pro-monthly")
        => c.subscriptions().update(sub.clone(), "premium-plan", ChargePeriod::Monthly))
    {
        let sub = requests[0].path.split('/').nth(4).unwrap().to_owned();
        assert_request(
            &requests,
            "POST",
            &format!("/api/v1/subscriptions/{sub}/update/"),
            None,
            Some(json!({"plan_identifier": "premium-plan", "charge_period": "MONTHLY"})),
        );
        assert_eq!(result.unwrap().subscription_id.to_string(), sub);
    }

    for (result, requests) in on_both_clients!(h, |c, sub| setup h.subscribe("cust_sub", "plan-pro-monthly")
        => c.subscriptions()
            .update(sub.clone(), "new_plan_enterprise", ChargePeriod::Yearly)
            .offering_id("offer_abc")
            .pricing_table_id("pw_def")
            .rule_id("rule_ghi")
            .ip_address("103.154.35.20")
            .features([FeatureQuantity::new("seats", 10)])
            .proration_behavior(ProrationBehavior::ProrateNextInvoice)
            .trial_end("now")
            .payment_behavior(kelviq::PaymentBehavior::ActivateOnPayment))
    {
        let sub = requests[0].path.split('/').nth(4).unwrap().to_owned();
        assert_request(
            &requests,
            "POST",
            &format!("/api/v1/subscriptions/{sub}/update/"),
            None,
            Some(json!({
                "plan_identifier": "new_plan_enterprise",
                "charge_period": "YEARLY",
                "offering_id": "offer_abc",
                "pricing_table_id": "pw_def",
                "rule_id": "rule_ghi",
                "ipAddress": "103.154.35.20",
                "features": [{"identifier": "seats", "quantity": 10}],
                "proration_behavior": "PRORATE_NEXT_INVOICE",
                "trial_end": "now",
                "payment_behavior": "activate_on_payment"
            })),
        );
        result.unwrap();
    }

    for (result, requests) in on_both_clients!(h, |c, sub| setup h.subscribe("cust_sub", "plan-pro-monthly")
        => c.subscriptions().cancel(sub.clone(), CancellationType::Immediate))
    {
        let sub = requests[0].path.split('/').nth(4).unwrap().to_owned();
        assert_request(
            &requests,
            "POST",
            &format!("/api/v1/subscriptions/{sub}/cancel/"),
            None,
            Some(json!({"cancellation_type": "IMMEDIATE"})),
        );
        assert!(!result.unwrap().message.is_empty());
    }

    let next_year = NaiveDate::from_ymd_opt(
        chrono::Utc::now().naive_utc().date().year_ce().1 as i32 + 1,
        12,
        31,
    )
    .unwrap();
    for (result, requests) in on_both_clients!(h, |c, sub| setup h.subscribe("cust_sub", "plan-pro-monthly")
        => c.subscriptions().cancel(sub.clone(), CancellationType::SpecificDate).cancellation_date(next_year))
    {
        let sub = requests[0].path.split('/').nth(4).unwrap().to_owned();
        assert_request(
            &requests,
            "POST",
            &format!("/api/v1/subscriptions/{sub}/cancel/"),
            None,
            Some(
                json!({"cancellation_type": "SPECIFIC_DATE", "cancellation_date": next_year.to_string()}),
            ),
        );
        assert!(result.unwrap().message.contains(&next_year.to_string()));
    }
}

use chrono::Datelike;
