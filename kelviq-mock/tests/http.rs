//! The emulator over plain HTTP, as any language's tests use it: the control surface, the
//! 400s that name fields, authentication, the catalogue and scheduled cancellations.

use kelviq_mock::{MockConfig, MockServer};
use serde_json::{json, Value};

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
            .header("authorization", "Bearer sk_test");
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }
}

#[tokio::test]
async fn bad_bodies_and_queries_get_a_400_naming_the_field() {
    let server = MockServer::start().await.unwrap();
    let http = Http::new(&server);
    let cases = [
        (
            "POST",
            "/api/v1/customers/",
            json!({"name": "x"}),
            "customer_id",
        ),
        (
            "POST",
            "/api/v1/customers/",
            json!({"customer_id": "c", "email": "nope"}),
            "email",
        ),
        (
            "POST",
            "/api/v1/report/usage/",
            json!({"value": 1, "customerId": "c", "featureId": "f", "behaviour": "ADD"}),
            "behaviour",
        ),
        (
            "POST",
            "/api/v1/report/event/",
            json!({"customerId": "c", "eventName": "e", "idempotencyKey": "k", "timestamp": "yesterday"}),
            "timestamp",
        ),
        (
            "POST",
            "/api/v1/checkout/",
            json!({"planIdentifier": "no-such-plan", "chargePeriod": "MONTHLY", "successUrl": "https://x"}),
            "planIdentifier",
        ),
        (
            "POST",
            "/api/v1/checkout/",
            json!({"planIdentifier": "premium-plan", "chargePeriod": "FORTNIGHTLY", "successUrl": "https://x"}),
            "chargePeriod",
        ),
    ];
    for (method, path, body, field) in cases {
        let (status, answer) = http.send(method, path, Some(body.clone())).await;
        assert_eq!(status, 400, "{body}: {answer}");
        assert!(
            answer["errors"].get(field).is_some(),
            "{body}: {answer} should name {field}"
        );
    }
    let (status, answer) = http.send("GET", "/api/v1/entitlements", None).await;
    assert_eq!(status, 400);
    assert!(answer["errors"].get("customer_id").is_some(), "{answer}");
}

#[tokio::test]
async fn the_bearer_key_is_required_and_checked() {
    let server = MockServer::start_with(MockConfig {
        api_keys: vec!["right".into()],
        ..MockConfig::default()
    })
    .await
    .unwrap();
    let url = format!("{}/api/v1/entitlements?customer_id=c", server.url());
    let client = reqwest::Client::new();
    for auth in [
        None,
        Some("Bearer "),
        Some("Bearer wrong"),
        Some("Basic right"),
    ] {
        let mut request = client.get(&url);
        if let Some(auth) = auth {
            request = request.header("authorization", auth);
        }
        assert_eq!(request.send().await.unwrap().status(), 401, "{auth:?}");
    }
    let ok = client
        .get(&url)
        .header("authorization", "Bearer right")
        .send()
        .await
        .unwrap();
    assert_eq!(
        ok.status(),
        404,
        "authenticated; the customer does not exist"
    );
}

#[tokio::test]
async fn two_keys_are_two_environments_each_selling_its_own_catalogue() {
    let mut premium_only = kelviq_mock::catalogue::default_catalog();
    premium_only
        .plans
        .retain(|p| p.identifier == "premium-plan");
    let server = MockServer::builder()
        .api_key("sk_sandbox")
        .with_catalog_for("sk_production", &premium_only)
        .unwrap()
        .start()
        .await
        .unwrap();
    let sells =
        |key: &str, plan: &str| server.with_tenant(Some(key), |c, _| c.plan(plan).is_some());
    assert!(sells("sk_sandbox", "plan-pro-monthly"));
    assert!(!sells("sk_production", "plan-pro-monthly"));
    assert!(sells("sk_production", "premium-plan"));
    server.with_tenant(Some("sk_sandbox"), |_, tenant| {
        tenant.grant(kelviq_mock::Grant {
            customer_id: "c".into(),
            feature_id: "seats".into(),
            feature_type: kelviq_mock::catalogue::FeatureKind::Customizable,
            usage_limit: Some(3),
            hard_limit: None,
        })
    });
    let client = reqwest::Client::new();
    let url = format!("{}/api/v1/entitlements?customer_id=c", server.url());
    let status = |key: &'static str| {
        let request = client.get(&url).bearer_auth(key);
        async move { request.send().await.unwrap().status().as_u16() }
    };
    assert_eq!(status("sk_sandbox").await, 200, "the sandbox's customer");
    assert_eq!(status("sk_production").await, 404, "not production's");
    assert_eq!(status("sk_other").await, 401, "a key of no environment");
    // A reset forgets both environments' state and keeps what each starts selling.
    server.reset();
    assert!(!sells("sk_production", "plan-pro-monthly"));
    assert_eq!(status("sk_sandbox").await, 404);
}

#[tokio::test]
async fn the_control_surface_drives_state_over_http() {
    let server = MockServer::start().await.unwrap();
    let http = Http::new(&server);

    // A pricing-as-code file (its JSON form) replaces the catalogue.
    let catalog = json!({
        "products": [{"identifier": "app", "name": "App", "taxCode": "saas"}],
        "features": [{"identifier": "exports", "name": "Exports", "type": "METER"}],
        "plans": [{
            "identifier": "starter", "name": "Starter", "product": "app",
            "entitlements": [{"feature": "exports", "value": 2, "hardLimit": true}],
            "prices": [{"priceType": "PAID", "currency": "USD", "chargeCatalogPrice": [
                {"priceModel": "FLAT", "charges": [{"chargePeriod": "MONTHLY", "priceData": {"amount": 5}}]}
            ]}]
        }]
    });
    assert_eq!(
        http.send("PUT", "/_mock/catalog", Some(catalog)).await.0,
        204
    );
    // The retired fixtures format is answered 410, saying where to go.
    let (status, gone) = http
        .send("PUT", "/_mock/fixtures", Some(json!({"plans": []})))
        .await;
    assert_eq!(status, 410);
    assert!(gone.to_string().contains("/_mock/catalog"), "{gone}");
    // A bad file is a 400 naming the field.
    let (status, bad) = http
        .send(
            "PUT",
            "/_mock/catalog",
            Some(json!({"plans": [{"identifier": "x"}]})),
        )
        .await;
    assert_eq!(status, 400);
    assert!(bad.to_string().contains("plans[0].name"), "{bad}");
    // The catalog API serves the file too.
    let (_, plans) = http.send("GET", "/api/v1/catalog/plans/", None).await;
    assert_eq!(plans["count"], 1, "{plans}");
    assert_eq!(plans["results"][0]["identifier"], "starter");
    let (status, _) = http
        .send("POST", "/api/v1/checkout/", Some(json!({"planIdentifier": "premium-plan", "chargePeriod": "MONTHLY", "successUrl": "https://x"})))
        .await;
    assert_eq!(status, 400, "the default catalogue is gone");
    let (_, session) = http
        .send("POST", "/api/v1/checkout/", Some(json!({"planIdentifier": "starter", "chargePeriod": "MONTHLY", "successUrl": "https://x", "customerId": "c1"})))
        .await;

    // Completing the checkout over HTTP grants the plan.
    let id = session["checkoutSessionId"].as_str().unwrap();
    let (status, completed) = http
        .send("POST", &format!("/_mock/checkout/{id}"), None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(completed["planIdentifier"], "starter");
    let (_, all) = http
        .send("GET", "/api/v1/entitlements?customer_id=c1", None)
        .await;
    assert_eq!(all["entitlements"][0]["featureId"], "exports");

    // A direct grant, usage read back, the request log with answers.
    let grant = json!({"customerId": "c1", "featureId": "beta", "featureType": "BOOLEAN"});
    assert_eq!(
        http.send("POST", "/_mock/entitlements", Some(grant))
            .await
            .0,
        204
    );
    let (_, one) = http
        .send(
            "GET",
            "/api/v1/entitlements?customer_id=c1&feature_id=beta",
            None,
        )
        .await;
    assert_eq!(one["entitlements"][0]["hasAccess"], true);
    let usage = json!({"value": 2, "customerId": "c1", "featureId": "exports", "behaviour": "SET"});
    assert_eq!(
        http.send("POST", "/api/v1/report/usage/", Some(usage))
            .await
            .0,
        200
    );
    let (_, counted) = http.send("GET", "/_mock/customers/c1/usage", None).await;
    assert_eq!(counted, json!({"exports": 2}));
    let (_, after) = http
        .send(
            "GET",
            "/api/v1/entitlements?customer_id=c1&feature_id=exports",
            None,
        )
        .await;
    assert_eq!(
        after["entitlements"][0]["hasAccess"], false,
        "a hard meter at its limit"
    );
    let (_, log) = http.send("GET", "/_mock/requests", None).await;
    let last = log.as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["operation"], "getEntitlements");
    assert_eq!(last["query"], "customer_id=c1&feature_id=exports");
    assert_eq!(last["response"]["status"], 200);

    // Faults over HTTP.
    let fault = json!({"operation": "getEntitlements", "times": 1, "kind": "status", "status": 503, "retryAfter": 7});
    assert_eq!(http.send("POST", "/_mock/faults", Some(fault)).await.0, 204);
    let response = reqwest::Client::new()
        .get(format!(
            "{}/api/v1/entitlements?customer_id=c1",
            server.url()
        ))
        .header("authorization", "Bearer k")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 503);
    assert_eq!(response.headers()["retry-after"], "7");

    // Reset forgets state, keeps the catalogue.
    assert_eq!(http.send("POST", "/_mock/reset", None).await.0, 204);
    assert_eq!(
        http.send("GET", "/api/v1/entitlements?customer_id=c1", None)
            .await
            .0,
        404
    );
    let (_, log) = http.send("GET", "/_mock/requests", None).await;
    assert_eq!(
        log.as_array().unwrap().len(),
        1,
        "only the request after the reset"
    );
}

#[tokio::test]
async fn cancellations_end_access_now_or_later() {
    let server = MockServer::start().await.unwrap();
    let http = Http::new(&server);
    let mut subscriptions = Vec::new();
    for customer in ["now", "later", "dated"] {
        let (_, session) = http
            .send("POST", "/api/v1/checkout/", Some(json!({"planIdentifier": "premium-plan", "chargePeriod": "MONTHLY", "successUrl": "https://x", "customerId": customer})))
            .await;
        let completed = server
            .complete_checkout(session["checkoutSessionId"].as_str().unwrap())
            .unwrap();
        subscriptions.push(completed.subscription_id);
    }
    let cancel = |i: usize, body: Value| {
        let path = format!("/api/v1/subscriptions/{}/cancel/", subscriptions[i]);
        let http = &http;
        async move { http.send("POST", &path, Some(body)).await }
    };
    assert_eq!(
        cancel(0, json!({"cancellation_type": "IMMEDIATE"})).await.0,
        200
    );
    assert_eq!(
        cancel(1, json!({"cancellation_type": "CURRENT_PERIOD_ENDS"}))
            .await
            .0,
        200
    );
    let (status, answer) = cancel(2, json!({"cancellation_type": "SPECIFIC_DATE"})).await;
    assert_eq!(status, 400);
    assert!(answer["errors"].get("cancellation_date").is_some());
    assert_eq!(
        cancel(
            2,
            json!({"cancellation_type": "SPECIFIC_DATE", "cancellation_date": "2099-01-31"})
        )
        .await
        .0,
        200
    );

    for (customer, access) in [("now", false), ("later", true), ("dated", true)] {
        let (_, set) = http
            .send(
                "GET",
                &format!(
                    "/api/v1/entitlements?customer_id={customer}&feature_id=premium-reporting"
                ),
                None,
            )
            .await;
        let granted = set["entitlements"]
            .as_array()
            .is_some_and(|e| !e.is_empty());
        assert_eq!(granted, access, "{customer}: {set}");
    }
    let (status, _) = http
        .send(
            "POST",
            "/api/v1/subscriptions/no-such-id/cancel/",
            Some(json!({"cancellation_type": "IMMEDIATE"})),
        )
        .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn a_control_request_with_a_key_of_no_environment_is_refused() {
    let server = MockServer::builder()
        .api_key("sk_sandbox")
        .api_key("sk_production")
        .start()
        .await
        .unwrap();
    let client = reqwest::Client::new();
    let grant = json!({"customerId": "c", "featureId": "seats", "featureType": "CUSTOMIZABLE", "usageLimit": 3});
    let send = |key: Option<&'static str>| {
        let mut request = client
            .post(format!("{}/_mock/entitlements", server.url()))
            .json(&grant);
        if let Some(key) = key {
            request = request.bearer_auth(key);
        }
        async move {
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            (
                status,
                response.json::<Value>().await.unwrap_or(Value::Null),
            )
        }
    };
    let (status, body) = send(Some("sk_typo")).await;
    assert_eq!(status, 401, "a key of no environment: {body}");
    assert!(body.to_string().contains("Invalid API key"), "{body}");
    let usage = client
        .get(format!("{}/_mock/customers/c/usage", server.url()))
        .bearer_auth("sk_typo")
        .send()
        .await
        .unwrap();
    assert_eq!(usage.status().as_u16(), 401, "reads too");
    // The configured keys, and no key (the first configured one), still act.
    assert_eq!(send(Some("sk_production")).await.0, 204);
    assert_eq!(send(None).await.0, 204);
    let has = |key: &str| {
        server.with_tenant(Some(key), |_, tenant| tenant.retrieve_customer("c").is_ok())
    };
    assert!(has("sk_production") && has("sk_sandbox"));
}
