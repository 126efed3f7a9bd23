//! The emulator serves any client generated from `openapi/kelviq.yaml`, not only the SDK:
//! here the bare generated client (no SDK transport, plain reqwest) calls every operation of
//! the document, and every answer validates against it.

use kelviq_gen::types as wire;
use kelviq_tests::{Emulator, ResponseSchemas};
use reqwest::header::{HeaderMap, HeaderValue, AUTHORIZATION};

#[test]
fn a_client_generated_from_the_document_runs_every_operation() {
    let emulator = Emulator::start();
    let mut headers = HeaderMap::new();
    headers.insert(
        AUTHORIZATION,
        HeaderValue::from_static("Bearer another-team"),
    );
    let http = reqwest::Client::builder()
        .default_headers(headers)
        .build()
        .unwrap();
    let client = kelviq_gen::Client::new_with_client(
        &emulator.server.url(),
        http,
        kelviq_gen::Transport::default(),
    );

    emulator.run(async {
        let customer = client
            .create_customer()
            .body(wire::CreateCustomerRequest {
                customer_id: "team-b".parse().unwrap(),
                email: Some("b@example.com".into()),
                metadata: None,
                name: None,
                billing_address: None,
            })
            .send()
            .await
            .unwrap();
        assert_eq!(customer.status(), 201);

        client
            .update_customer()
            .customer_id("team-b")
            .body(wire::UpdateCustomerRequest {
                email: None,
                metadata: None,
                name: Some("Team B".into()),
                billing_address: None,
            })
            .send()
            .await
            .unwrap();

        let session = client
            .create_checkout_session()
            .body(wire::CreateCheckoutSessionRequest {
                plan_identifier: "premium-plan".parse().unwrap(),
                charge_period: wire::ChargePeriod::Yearly,
                success_url: "https://example.com/ok".parse().unwrap(),
                customer_id: Some("team-b".parse().unwrap()),
                offering_id: None,
                pricing_table_id: None,
                rule_id: None,
                features: vec![],
                ip_address: None,
                trial_period: None,
                cancel_url: None,
                plans_enabled: None,
                currency_code: None,
                custom_amount: None,
                tax_behavior: None,
                discounts_enabled: None,
                discount_code: None,
                lock_email: None,
                default_billing_country: None,
                metadata: None,
            })
            .send()
            .await
            .unwrap()
            .into_inner();
        // Visiting the checkout URL completes the purchase.
        let completed: serde_json::Value = reqwest::get(&session.checkout_url)
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let subscription = completed["subscriptionId"].as_str().unwrap().to_owned();

        let entitlements = client
            .get_entitlements()
            .customer_id("team-b")
            .feature_id("api-calls-tier1")
            .send()
            .await
            .unwrap()
            .into_inner();
        assert!(entitlements.entitlements[0].has_access);

        client
            .report_usage()
            .body(wire::ReportUsageRequest {
                value: 10,
                customer_id: "team-b".parse().unwrap(),
                feature_id: "api-calls-tier1".parse().unwrap(),
                behaviour: wire::Behaviour::Delta,
                resource_id: None,
            })
            .send()
            .await
            .unwrap();
        client
            .report_event()
            .body(wire::ReportEventRequest {
                customer_id: "team-b".parse().unwrap(),
                event_name: "login".parse().unwrap(),
                idempotency_key: "k1".parse().unwrap(),
                timestamp: "2025-05-22 07:53:55.747959".parse().unwrap(),
                properties: None,
                resource_id: None,
            })
            .send()
            .await
            .unwrap();
        client
            .update_subscription()
            .subscription_id(subscription.as_str())
            .body(wire::UpdateSubscriptionRequest {
                plan_identifier: "new_plan_enterprise".parse().unwrap(),
                charge_period: wire::ChargePeriod::Yearly,
                features: vec![],
                ip_address: None,
                offering_id: None,
                payment_behavior: None,
                pricing_table_id: None,
                proration_behavior: None,
                rule_id: None,
                trial_end: None,
            })
            .send()
            .await
            .unwrap();
        client
            .cancel_subscription()
            .subscription_id(subscription.as_str())
            .body(wire::CancelSubscriptionRequest {
                cancellation_type: wire::CancellationType::Immediate,
                cancellation_date: None,
                cancellation_feedback: Some(wire::CancellationFeedback::TooExpensive),
                cancellation_comment: None,
            })
            .send()
            .await
            .unwrap();
    });

    let log = emulator.server.requests();
    let operations: std::collections::BTreeSet<_> =
        log.iter().filter_map(|r| r.operation.clone()).collect();
    assert_eq!(
        operations.len(),
        8,
        "the seed's operations were served: {operations:?}"
    );
    assert_eq!(ResponseSchemas::load().check_log(&log).unwrap(), 8);
}

/// The catalog operations the emulator serves, over plain HTTP: every answer (successes,
/// 400s and 404s) validates against the document.
#[test]
fn the_catalog_answers_validate_against_the_document() {
    use serde_json::{json, Value};

    let emulator = Emulator::start();
    let base = emulator.server.url();
    emulator.run(async {
        let http = reqwest::Client::new();
        let send = |method: &str, path: String, body: Option<Value>| {
            let mut request = http
                .request(
                    reqwest::Method::from_bytes(method.as_bytes()).unwrap(),
                    format!("{base}{path}"),
                )
                .header(AUTHORIZATION, "Bearer catalog-team");
            if let Some(body) = body {
                request = request.json(&body);
            }
            async move {
                let response = request.send().await.unwrap();
                let status = response.status().as_u16();
                let text = response.text().await.unwrap();
                (status, serde_json::from_str::<Value>(&text).unwrap_or(Value::Null))
            }
        };
        let unknown = "00000000-0000-4000-8000-000000000000";

        let (_, feature) = send(
            "POST",
            "/api/v1/catalog/features/".into(),
            Some(json!({"name": "API Calls", "featureType": "METER",
                        "featureDetails": {"featureSubType": "PRE_AGGREGATED_USAGE",
                                           "units": {"singular": "call", "plural": "calls"}}})),
        )
        .await;
        let feature_id = feature["id"].as_str().unwrap().to_owned();
        let (_, other) = send(
            "POST",
            "/api/v1/catalog/features/".into(),
            Some(json!({"name": "SSO", "featureType": "BOOLEAN"})),
        )
        .await;
        send("POST", "/api/v1/catalog/features/".into(), Some(json!({"name": "x"}))).await;
        send("GET", "/api/v1/catalog/features/?page_size=1".into(), None).await;
        send("GET", format!("/api/v1/catalog/features/{feature_id}/"), None).await;
        send("GET", format!("/api/v1/catalog/features/{unknown}/"), None).await;
        let other_id = other["id"].as_str().unwrap();
        send("DELETE", format!("/api/v1/catalog/features/{other_id}/"), None).await;
        send("DELETE", format!("/api/v1/catalog/features/{other_id}/"), None).await;

        let (_, product) = send(
            "POST",
            "/api/v1/catalog/products/".into(),
            Some(json!({"name": "Pro Suite", "taxCode": "saas", "imageKeys": ["tmp/1/hero.png"]})),
        )
        .await;
        let product_id = product["id"].as_str().unwrap().to_owned();
        let product_path = format!("/api/v1/catalog/products/{product_id}/");
        send("POST", "/api/v1/catalog/products/".into(), Some(json!({"name": "x"}))).await;
        send("GET", "/api/v1/catalog/products/".into(), None).await;
        send("GET", product_path.clone(), None).await;
        send("GET", format!("/api/v1/catalog/products/{unknown}/"), None).await;
        send("PATCH", product_path.clone(), Some(json!({"name": "Pro Suite 2"}))).await;
        send("GET", format!("{product_path}settings/"), None).await;
        send(
            "PATCH",
            format!("{product_path}settings/"),
            Some(json!({"productUrl": "https://app.example.com"})),
        )
        .await;

        let plans = "/api/v1/catalog/plans/";
        send("POST", plans.into(), Some(json!({"name": "Pro", "product": product_id}))).await;
        send("POST", plans.into(), Some(json!({"name": "Pro"}))).await;
        send("POST", plans.into(), Some(json!({"name": "Scratch", "product": product_id}))).await;
        send("GET", plans.into(), None).await;
        send("GET", "/api/v1/catalog/plans/pro/".into(), None).await;
        send("GET", "/api/v1/catalog/plans/nope/".into(), None).await;
        let (_, pro) = send(
            "PATCH",
            "/api/v1/catalog/plans/pro/".into(),
            Some(json!({"license": {"enabled": true, "durationUnit": "YEAR"},
                        "links": [{"name": "Docs", "url": "https://example.com/docs"}],
                        "fileKeys": ["tmp/2/terms.pdf"]})),
        )
        .await;
        send(
            "POST",
            "/api/v1/media/".into(),
            Some(json!({"fileName": "terms.pdf", "fileType": "application/pdf"})),
        )
        .await;
        send("POST", "/api/v1/media/".into(), Some(json!({"fileName": "x"}))).await;
        let link = pro["files"][0]["downloadUrl"].as_str().unwrap();
        let no_redirects = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let found = no_redirects.get(link).send().await.unwrap();
        assert_eq!(found.status(), 302);
        send(
            "GET",
            format!("/api/v1/catalog/plans/pro/file/{unknown}/download/"),
            None,
        )
        .await;
        let file = pro["files"][0]["id"].as_str().unwrap().to_owned();
        let file_path = format!("/api/v1/catalog/plans/pro/file/{file}/");
        send("PATCH", file_path.clone(), Some(json!({"name": "Terms.pdf"}))).await;
        send("PATCH", file_path.clone(), Some(json!({"ordering": "x"}))).await;
        send("DELETE", file_path.clone(), None).await;
        send("DELETE", file_path, None).await;
        let image = product["images"][0]["id"].as_str().unwrap();
        let image_path = format!("{product_path}image/{image}/");
        send("PATCH", image_path.clone(), Some(json!({"thumbnail": true}))).await;
        send("DELETE", image_path.clone(), None).await;
        send("DELETE", image_path, None).await;
        send("POST", "/api/v1/catalog/plans/pro/publish/".into(), None).await;
        send(
            "POST",
            "/api/v1/catalog/plans/pro/prices/bulk/".into(),
            Some(json!({"prices": [{
                "priceType": "PAID", "currency": "USD", "taxBehavior": "EXCLUSIVE",
                "chargeCatalogPrice": [
                    {"feature": null, "priceModel": "FLAT",
                     "charges": [{"chargePeriod": "MONTHLY", "priceData": {"amount": 29.99}}]},
                    {"feature": feature_id, "priceModel": "TIERED", "reset": "EVERY_MONTH",
                     "usageAlerts": {"enabled": true, "thresholds": [75], "thresholdType": "PERCENTAGE"},
                     "charges": [{"chargePeriod": "MONTHLY",
                                  "tiers": [{"unitAmount": 0.5, "upTo": 100}, {"unitAmount": 0.1, "upTo": "inf"}]}]}
                ]}]})),
        )
        .await;
        send(
            "POST",
            "/api/v1/catalog/plans/pro/prices/bulk/".into(),
            Some(json!({"prices": [{"priceType": "PAID"}, {"priceType": "PAID"}]})),
        )
        .await;
        send("GET", "/api/v1/catalog/plans/pro/prices/".into(), None).await;
        send("GET", "/api/v1/catalog/plans/pro/prices/?version=7".into(), None).await;
        send(
            "POST",
            "/api/v1/catalog/plans/pro/features/".into(),
            Some(json!({"planEntitlements": [{"feature": feature_id,
                "details": {"value": 1000, "reset": "EVERY_MONTH", "hardLimit": true}}]})),
        )
        .await;
        send(
            "POST",
            "/api/v1/catalog/plans/pro/features/".into(),
            Some(json!({"planEntitlements": [{"feature": unknown, "details": {}}]})),
        )
        .await;
        send("GET", "/api/v1/catalog/plans/pro/features/".into(), None).await;
        let calls = feature["identifier"].as_str().unwrap();
        send(
            "PATCH",
            format!("/api/v1/catalog/plans/pro/features/{calls}/"),
            Some(json!({"details": {"value": 2000}})),
        )
        .await;
        send(
            "PATCH",
            "/api/v1/catalog/plans/pro/features/nope/".into(),
            Some(json!({"details": {}})),
        )
        .await;
        send("POST", "/api/v1/catalog/plans/pro/publish/".into(), Some(json!({}))).await;
        send("POST", "/api/v1/catalog/plans/pro/publish/".into(), None).await;
        send("PATCH", "/api/v1/catalog/plans/pro/".into(), Some(json!({"name": "Pro 2"}))).await;
        send("DELETE", format!("/api/v1/catalog/plans/pro/features/{calls}/"), None).await;
        send("DELETE", "/api/v1/catalog/plans/pro/discard/".into(), None).await;
        send("DELETE", "/api/v1/catalog/plans/pro/discard/".into(), None).await;
        send("DELETE", "/api/v1/catalog/plans/scratch/".into(), None).await;
        send("DELETE", "/api/v1/catalog/plans/scratch/".into(), None).await;
        let offering = format!("/api/v1/monetization/product-offering/{product_id}/");
        send("GET", format!("{offering}?customer_id=someone"), None).await;
        send("GET", offering, None).await;
        send(
            "GET",
            format!("/api/v1/monetization/product-offering/{unknown}/"),
            None,
        )
        .await;
        send("DELETE", product_path.clone(), None).await;
        send("DELETE", product_path.clone(), None).await;
    });

    let log = emulator.server.requests();
    let operations: std::collections::BTreeSet<_> =
        log.iter().filter_map(|r| r.operation.clone()).collect();
    assert_eq!(operations.len(), 31, "{operations:?}");
    let statuses: std::collections::BTreeSet<_> = log
        .iter()
        .filter_map(|r| r.response.as_ref().map(|a| a.status))
        .collect();
    assert_eq!(
        statuses,
        [200, 201, 204, 302, 400, 404].into_iter().collect(),
        "{log:?}"
    );
    assert_eq!(ResponseSchemas::load().check_log(&log).unwrap(), log.len());
}

/// The partner and admin operations and the promotion lookup the emulator serves, over plain
/// HTTP: every answer (successes, 400s, 401s, 404s and 409s) validates against the document.
#[test]
fn the_partner_and_admin_answers_validate_against_the_document() {
    use serde_json::{json, Value};

    let emulator = Emulator::start();
    let base = emulator.server.url();
    // Webhook deliveries to nobody: each attempt is logged.
    let dead = {
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}/hooks", closed.local_addr().unwrap())
    };
    emulator.server.add_webhook(dead.as_str(), "kq_whsec_admin");
    emulator.run(async {
        let http = reqwest::Client::new();
        let send = |method: &str, path: String, body: Option<Value>, partner: bool| {
            let mut request = http.request(
                reqwest::Method::from_bytes(method.as_bytes()).unwrap(),
                format!("{base}{path}"),
            );
            request = if partner {
                request.header("X-Kelviq-Partner-Key", "kvqp_test")
            } else {
                request.header(AUTHORIZATION, "Bearer admin-team")
            };
            if let Some(body) = body {
                request = request.json(&body);
            }
            async move {
                let response = request.send().await.unwrap();
                let status = response.status().as_u16();
                let text = response.text().await.unwrap();
                (status, serde_json::from_str::<Value>(&text).unwrap_or(Value::Null))
            }
        };
        let unknown = "00000000-0000-4000-8000-000000000000";

        // Partner.
        let orgs = "/api/v1/partner/organizations/";
        let provision = json!({"externalId": "acme", "email": "o@acme.example.com", "businessName": "Acme"});
        let (_, org) = send("POST", orgs.into(), Some(provision.clone()), true).await;
        send("POST", orgs.into(), Some(provision), true).await;
        send("POST", orgs.into(), Some(json!({"externalId": "b", "email": "o@acme.example.com"})), true).await;
        send("POST", orgs.into(), Some(json!({"email": "x@example.com"})), true).await;
        send("GET", orgs.into(), None, true).await;
        send("GET", format!("{orgs}?external_id=acme"), None, true).await;
        send("GET", orgs.into(), None, false).await;
        let id = org["organizationIdentifier"].as_str().unwrap();
        send("GET", format!("{orgs}{id}/"), None, true).await;
        send("GET", format!("{orgs}{unknown}/"), None, true).await;
        send("GET", format!("{orgs}by-external-id/acme/"), None, true).await;
        send("GET", format!("{orgs}by-external-id/nobody/"), None, true).await;

        // Admin: a checkout left open, one completed, a refund.
        let checkout = json!({"planIdentifier": "premium-plan", "chargePeriod": "MONTHLY", "successUrl": "https://x.example.com", "customerId": "jane"});
        let (_, open) = send("POST", "/api/v1/checkout/".into(), Some(checkout.clone()), false).await;
        let (_, paid) = send("POST", "/api/v1/checkout/".into(), Some(checkout), false).await;
        let paid = paid["checkoutSessionId"].as_str().unwrap().to_owned();
        let open = open["checkoutSessionId"].as_str().unwrap().to_owned();
        emulator.server.complete_checkout(&paid).unwrap();
        // A purchase that issues a license, and a one-time purchase (no subscription).
        for (plan, period) in [("pro-license", "YEARLY"), ("lifetime-pack", "ONE_TIME")] {
            let body = json!({"planIdentifier": plan, "chargePeriod": period, "successUrl": "https://x.example.com", "customerId": "bob"});
            let (_, session) = send("POST", "/api/v1/checkout/".into(), Some(body), false).await;
            let session = session["checkoutSessionId"].as_str().unwrap().to_owned();
            emulator.server.complete_checkout(&session).unwrap();
            send("GET", format!("/api/v1/checkout/sessions/{session}/"), None, false).await;
        }
        let (_, bobs) = send("GET", "/api/v1/orders/?search=bob".into(), None, false).await;
        assert_eq!(bobs["count"], 2, "{bobs}");
        let one_time = bobs["results"].as_array().unwrap().iter().find(|o| o["billingType"] == "ONE_TIME").unwrap();
        assert_eq!(one_time["subscription"], json!({}), "{one_time}");
        let licensed = bobs["results"].as_array().unwrap().iter().find(|o| o["billingType"] == "SUBSCRIPTION").unwrap();
        assert_eq!(licensed["license"].as_array().map(Vec::len), Some(1), "{licensed}");
        let sessions = "/api/v1/checkout/sessions/";
        send("GET", sessions.into(), None, false).await;
        send("GET", format!("{sessions}?status=open&page_size=1"), None, false).await;
        send("GET", format!("{sessions}?start_date=nope"), None, false).await;
        for session in [&open, &paid] {
            send("GET", format!("{sessions}{session}/"), None, false).await;
            send("GET", format!("{sessions}{session}/events/"), None, false).await;
        }
        send("GET", format!("{sessions}cs_nobody/"), None, false).await;
        let (_, orders) = send("GET", "/api/v1/orders/".into(), None, false).await;
        let order = orders["results"][0]["id"].as_str().unwrap().to_owned();
        send("POST", "/api/v1/refunds/".into(), Some(json!({"order_id": order, "amount_units": 100})), false).await;
        send("GET", "/api/v1/orders/?status=PARTIAL_REFUND&billing_type=SUBSCRIPTION".into(), None, false).await;
        send("GET", "/api/v1/orders/?status=nope".into(), None, false).await;
        send("GET", format!("/api/v1/orders/{order}/"), None, false).await;
        send("GET", format!("/api/v1/orders/{order}/events/"), None, false).await;
        send("GET", "/api/v1/orders/ord_nobody/".into(), None, false).await;
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            let (_, logs) = send("GET", "/api/v1/webhook/logs/".into(), None, false).await;
            if logs["count"].as_u64().unwrap_or_default() >= 2 {
                break;
            }
            assert!(std::time::Instant::now() < deadline, "{logs}");
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        send("GET", "/api/v1/webhook/logs/?page_size=1&start_date=2001-01-01".into(), None, false).await;

        // The edge host's promotion lookup.
        emulator.server.set_promotion("promo_abc123", 40.0, "KQP5LHNZB1Z");
        send("GET", "/api/v1/promotions?promotion_id=promo_abc123".into(), None, false).await;
        send("GET", "/api/v1/promotions?promotion_id=nobody".into(), None, false).await;
        send("GET", "/api/v1/promotions".into(), None, false).await;
    });

    let log = emulator.server.requests();
    // The 12 operations, and the two that made the state they read.
    let operations: std::collections::BTreeSet<_> =
        log.iter().filter_map(|r| r.operation.clone()).collect();
    assert!(operations.contains("createCheckoutSession") && operations.contains("createRefund"));
    assert_eq!(operations.len(), 12 + 2, "{operations:?}");
    let statuses: std::collections::BTreeSet<_> = log
        .iter()
        .filter_map(|r| r.response.as_ref().map(|a| a.status))
        .collect();
    assert_eq!(
        statuses,
        [200, 201, 400, 401, 404, 409].into_iter().collect(),
        "{log:?}"
    );
    assert_eq!(ResponseSchemas::load().check_log(&log).unwrap(), log.len());
}
