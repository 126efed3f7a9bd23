//! The catalog operations over plain HTTP: features, products and their settings, plans
//! with their draft/publish/discard lifecycle, prices and entitlements; each with its
//! answer's shape, a 404 for an unknown identifier and a 400 naming the field of a bad body.

use kelviq_mock::MockServer;
use serde_json::{json, Value};

/// An emulator whose catalog starts empty (the built-in catalogue's products, features and
/// plans are not there), so that what a test creates is all there is.
async fn empty() -> MockServer {
    MockServer::builder()
        .with_catalog(&kelviq_config::Catalog::default())
        .unwrap()
        .start()
        .await
        .unwrap()
}

struct Http {
    base: String,
    client: reqwest::Client,
}

impl Http {
    /// Call after the server has started.
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
        if status == 204 {
            assert!(text.is_empty(), "a 204 carries no body: {text:?}");
        }
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    async fn ok(&self, method: &str, path: &str, body: Option<Value>, expected: u16) -> Value {
        let (status, answer) = self.send(method, path, body).await;
        assert_eq!(status, expected, "{method} {path}: {answer}");
        answer
    }

    /// The request is refused with 400 naming `field`.
    async fn refused(&self, method: &str, path: &str, body: Option<Value>, field: &str) {
        let (status, answer) = self.send(method, path, body.clone()).await;
        assert_eq!(status, 400, "{method} {path} {body:?}: {answer}");
        assert!(
            answer["errors"].get(field).is_some(),
            "{method} {path} {body:?}: {answer} should name {field}"
        );
    }

    async fn not_found(&self, method: &str, path: &str, body: Option<Value>) {
        let (status, answer) = self.send(method, path, body).await;
        assert_eq!(status, 404, "{method} {path}: {answer}");
        assert!(answer["detail"].is_string(), "{answer}");
    }
}

const UNKNOWN: &str = "00000000-0000-4000-8000-000000000000";

fn is_uuid(value: &Value) -> bool {
    value
        .as_str()
        .is_some_and(|s| uuid::Uuid::parse_str(s).is_ok())
}

fn is_instant(value: &Value) -> bool {
    value
        .as_str()
        .is_some_and(|s| chrono::DateTime::parse_from_rfc3339(s).is_ok())
}

/// A page: `count`, `next`, `previous` (absolute URLs or null) and `results`.
#[track_caller]
fn assert_page(page: &Value, count: usize) -> &Vec<Value> {
    assert_eq!(page["count"], json!(count), "{page}");
    for link in ["next", "previous"] {
        let value = &page[link];
        assert!(
            value.is_null() || value.as_str().is_some_and(|s| s.starts_with("http://")),
            "{link}: {page}"
        );
    }
    page["results"].as_array().expect("results")
}

#[track_caller]
fn assert_feature(feature: &Value) {
    assert!(is_uuid(&feature["id"]), "{feature}");
    for key in ["identifier", "name", "featureType"] {
        assert!(feature[key].is_string(), "{key}: {feature}");
    }
    assert!(feature["isArchived"].is_boolean(), "{feature}");
    assert!(is_instant(&feature["modifiedOn"]), "{feature}");
}

#[track_caller]
fn assert_product(product: &Value) {
    assert!(is_uuid(&product["id"]), "{product}");
    for key in ["identifier", "name", "taxCode", "createdBy"] {
        assert!(product[key].is_string(), "{key}: {product}");
    }
    assert!(is_instant(&product["modifiedOn"]), "{product}");
}

#[track_caller]
fn assert_plan(plan: &Value) {
    for key in ["identifier", "name"] {
        assert!(plan[key].is_string(), "{key}: {plan}");
    }
    assert!(is_uuid(&plan["product"]), "{plan}");
    assert!(plan["version"].is_i64(), "{plan}");
    assert!(plan["isLatest"].is_boolean(), "{plan}");
    assert!(is_instant(&plan["createdOn"]), "{plan}");
    assert!(is_instant(&plan["modifiedOn"]), "{plan}");
}

async fn create_product(http: &Http, identifier: &str) -> String {
    let product = http
        .ok(
            "POST",
            "/api/v1/catalog/products/",
            Some(json!({"name": "Pro Suite", "identifier": identifier, "taxCode": "saas"})),
            201,
        )
        .await;
    product["id"].as_str().unwrap().to_owned()
}

async fn create_feature(http: &Http, body: Value) -> Value {
    http.ok("POST", "/api/v1/catalog/features/", Some(body), 201)
        .await
}

async fn create_plan(http: &Http, product: &str, identifier: &str) -> Value {
    http.ok(
        "POST",
        "/api/v1/catalog/plans/",
        Some(json!({"name": "Pro Monthly", "identifier": identifier, "product": product})),
        201,
    )
    .await
}

fn usd_price(amount: f64) -> Value {
    json!({"prices": [{
        "priceType": "PAID",
        "currency": "USD",
        "chargeCatalogPrice": [{
            "feature": null,
            "priceModel": "FLAT",
            "charges": [{"chargePeriod": "MONTHLY", "priceData": {"amount": amount}}]
        }]
    }]})
}

#[tokio::test]
async fn features_are_created_listed_retrieved_and_archived() {
    let server = empty().await;
    let http = Http::new(&server);

    let seats = create_feature(
        &http,
        json!({"name": "Seats", "featureType": "CUSTOMIZABLE", "description": "Team seats"}),
    )
    .await;
    assert_feature(&seats);
    assert_eq!(seats["identifier"], "seats", "made from the name");
    assert_eq!(seats["featureType"], "CUSTOMIZABLE");
    assert_eq!(seats["isArchived"], false);

    let calls = create_feature(
        &http,
        json!({
            "name": "API Calls", "identifier": "api-calls", "featureType": "METER",
            "featureDetails": {"featureSubType": "PRE_AGGREGATED_USAGE",
                               "units": {"singular": "call", "plural": "calls"}},
            "metadata": {"category": "core"}
        }),
    )
    .await;
    assert_feature(&calls);
    assert_eq!(
        calls["featureDetails"]["featureSubType"],
        "PRE_AGGREGATED_USAGE"
    );
    assert_eq!(calls["metadata"], json!({"category": "core"}));

    let page = http.ok("GET", "/api/v1/catalog/features/", None, 200).await;
    let results = assert_page(&page, 2);
    assert!(page["next"].is_null() && page["previous"].is_null());
    results.iter().for_each(assert_feature);

    let page = http
        .ok("GET", "/api/v1/catalog/features/?search=call", None, 200)
        .await;
    assert_eq!(assert_page(&page, 1)[0]["identifier"], "api-calls");

    // Paging: absolute links that keep the search.
    let page = http
        .ok("GET", "/api/v1/catalog/features/?page_size=1", None, 200)
        .await;
    assert_page(&page, 2);
    let next = page["next"].as_str().unwrap();
    assert!(
        next.starts_with(&server.url()) && next.contains("page=2"),
        "{next}"
    );

    let id = calls["id"].as_str().unwrap();
    let path = format!("/api/v1/catalog/features/{id}/");
    let read = http.ok("GET", &path, None, 200).await;
    assert_eq!(read, calls);

    http.not_found("GET", &format!("/api/v1/catalog/features/{UNKNOWN}/"), None)
        .await;
    http.not_found("GET", "/api/v1/catalog/features/not-a-uuid/", None)
        .await;
    http.not_found(
        "DELETE",
        &format!("/api/v1/catalog/features/{UNKNOWN}/"),
        None,
    )
    .await;

    assert_eq!(http.send("DELETE", &path, None).await.0, 204);
    http.refused("DELETE", &path, None, "pk").await;
    let archived = http.ok("GET", &path, None, 200).await;
    assert_eq!(archived["isArchived"], true);
    let page = http.ok("GET", "/api/v1/catalog/features/", None, 200).await;
    assert_eq!(assert_page(&page, 1)[0]["identifier"], "seats");
}

#[tokio::test]
async fn bad_feature_bodies_get_a_400_naming_the_field() {
    let server = empty().await;
    let http = Http::new(&server);
    create_feature(&http, json!({"name": "Seats", "featureType": "BOOLEAN"})).await;
    let path = "/api/v1/catalog/features/";
    let cases = [
        (json!({"name": "x"}), "featureType"),
        (json!({"featureType": "BOOLEAN"}), "name"),
        (json!({"name": "x", "featureType": "COLOUR"}), "featureType"),
        (json!({"name": "", "featureType": "BOOLEAN"}), "name"),
        (
            json!({"name": "x", "featureType": "BOOLEAN", "colour": 1}),
            "colour",
        ),
        (
            json!({"name": "x", "featureType": "BOOLEAN", "identifier": "seats"}),
            "identifier",
        ),
        (
            json!({"name": "x", "featureType": "METER"}),
            "featureDetails.featureSubType",
        ),
        (
            json!({"name": "x", "featureType": "METER", "featureDetails": {"featureSubType": "RAW_EVENTS"}}),
            "featureDetails.units",
        ),
        (
            json!({"name": "x", "featureType": "METER",
                   "featureDetails": {"featureSubType": "RAW_EVENTS", "units": {}}}),
            "meter.aggregation",
        ),
    ];
    for (body, field) in cases {
        http.refused("POST", path, Some(body), field).await;
    }
    let raw = create_feature(
        &http,
        json!({"name": "Events", "featureType": "METER",
               "featureDetails": {"featureSubType": "RAW_EVENTS", "units": {"singular": "e", "plural": "es"}},
               "meter": {"aggregation": {"type": "COUNT"}, "filters": []}}),
    )
    .await;
    assert_eq!(raw["meter"]["aggregation"], json!({"type": "COUNT"}));
}

#[tokio::test]
async fn products_and_their_settings() {
    let server = empty().await;
    let http = Http::new(&server);

    let product = http
        .ok(
            "POST",
            "/api/v1/catalog/products/",
            Some(json!({
                "name": "ParityDeals", "taxCode": "saas",
                "imageKeys": ["tmp/108713b0/web-app-manifest-512x512.png", "tmp/2/second.png"]
            })),
            201,
        )
        .await;
    assert_product(&product);
    assert_eq!(product["identifier"], "paritydeals");
    let images = product["images"].as_array().unwrap();
    assert_eq!(images.len(), 2);
    assert!(is_uuid(&images[0]["id"]));
    assert_eq!(images[0]["name"], "web-app-manifest-512x512.png");
    assert_eq!(images[0]["thumbnail"], true);
    assert_eq!(images[1]["thumbnail"], false);
    assert_eq!(images[1]["ordering"], 1);

    let id = product["id"].as_str().unwrap();
    let path = format!("/api/v1/catalog/products/{id}/");
    let detail = http.ok("GET", &path, None, 200).await;
    assert_product(&detail);
    assert_eq!(detail["plans"], json!([]));

    // An empty body changes nothing.
    let same = http.ok("PATCH", &path, Some(json!({})), 200).await;
    assert_eq!(same, product);
    let updated = http
        .ok(
            "PATCH",
            &path,
            Some(json!({"name": "Pro Suite v2", "taxCode": "software", "imageKeys": ["tmp/3/new.jpg"]})),
            200,
        )
        .await;
    assert_product(&updated);
    assert_eq!(updated["name"], "Pro Suite v2");
    assert_eq!(updated["taxCode"], "software");
    assert_eq!(updated["images"].as_array().unwrap().len(), 3, "added");

    let list = http
        .ok("GET", "/api/v1/catalog/products/?search=suite", None, 200)
        .await;
    assert_product(&assert_page(&list, 1)[0]);

    // Settings: the defaults on first read, then changed field by field.
    let settings_path = format!("/api/v1/catalog/products/{id}/settings/");
    let settings = http.ok("GET", &settings_path, None, 200).await;
    assert_eq!(
        settings,
        json!({"vpn": true, "tor": true, "proxy": true, "currency": "USD", "productUrl": null})
    );
    let unchanged = http.ok("PATCH", &settings_path, Some(json!({})), 200).await;
    assert_eq!(unchanged, settings);
    let changed = http
        .ok(
            "PATCH",
            &settings_path,
            Some(json!({"vpn": false, "currency": "EUR", "productUrl": "https://app.example.com"})),
            200,
        )
        .await;
    assert_eq!(
        changed,
        json!({"vpn": false, "tor": true, "proxy": true, "currency": "EUR", "productUrl": "https://app.example.com"})
    );

    // Bad bodies name their field.
    let create = "/api/v1/catalog/products/";
    http.refused("POST", create, Some(json!({"name": "x"})), "taxCode")
        .await;
    http.refused(
        "POST",
        create,
        Some(json!({"name": "x", "taxCode": "groceries"})),
        "taxCode",
    )
    .await;
    http.refused(
        "POST",
        create,
        Some(json!({"name": "x", "taxCode": "saas", "identifier": "paritydeals"})),
        "identifier",
    )
    .await;
    http.refused("PATCH", &path, Some(json!({"name": ""})), "name")
        .await;
    http.refused("PATCH", &path, Some(json!({"price": 1})), "price")
        .await;
    http.refused("PATCH", &settings_path, Some(json!({"vpn": "no"})), "vpn")
        .await;
    http.refused(
        "PATCH",
        &settings_path,
        Some(json!({"currency": "euro"})),
        "currency",
    )
    .await;

    // Unknown products.
    let unknown = format!("/api/v1/catalog/products/{UNKNOWN}/");
    http.not_found("GET", &unknown, None).await;
    http.not_found("PATCH", &unknown, Some(json!({}))).await;
    http.not_found("DELETE", &unknown, None).await;
    http.not_found("GET", &format!("{unknown}settings/"), None)
        .await;
    http.not_found("PATCH", &format!("{unknown}settings/"), Some(json!({})))
        .await;

    // Archiving: once, then refused; archived products are left out of the list.
    assert_eq!(http.send("DELETE", &path, None).await.0, 204);
    http.refused("DELETE", &path, None, "pk").await;
    let list = http.ok("GET", "/api/v1/catalog/products/", None, 200).await;
    assert_page(&list, 0);
}

#[tokio::test]
async fn a_plan_goes_from_draft_to_published_and_back() {
    let server = empty().await;
    let http = Http::new(&server);
    let product = create_product(&http, "pro-suite").await;

    let plan = create_plan(&http, &product, "pro-monthly").await;
    assert_plan(&plan);
    assert_eq!(plan["version"], 1);
    assert_eq!(plan["isLatest"], false, "a draft");
    assert_eq!(plan["product"], product.as_str());

    let path = "/api/v1/catalog/plans/pro-monthly/";
    assert_eq!(http.ok("GET", path, None, 200).await, plan);
    let list = http.ok("GET", "/api/v1/catalog/plans/", None, 200).await;
    assert_plan(&assert_page(&list, 1)[0]);

    // Not sellable while a draft.
    let sellable = |id: &'static str| server.with_tenant(None, |c, _| c.plan(id).is_some());
    assert!(!sellable("pro-monthly"));

    // Publishing needs a price, in the product's currency.
    let publish = "/api/v1/catalog/plans/pro-monthly/publish/";
    http.refused("POST", publish, None, "prices").await;
    let eur = json!({"prices": [{"priceType": "PAID", "currency": "EUR"}]});
    http.ok(
        "POST",
        "/api/v1/catalog/plans/pro-monthly/prices/bulk/",
        Some(eur),
        200,
    )
    .await;
    http.refused("POST", publish, Some(json!({})), "prices")
        .await;
    http.ok(
        "POST",
        "/api/v1/catalog/plans/pro-monthly/prices/bulk/",
        Some(usd_price(49.0)),
        200,
    )
    .await;

    // Published (a missing body is `{}`).
    let published = http.ok("POST", publish, None, 200).await;
    assert_eq!(published, json!({"status": "published"}));
    let v1 = http.ok("GET", path, None, 200).await;
    assert_plan(&v1);
    assert_eq!(
        (v1["version"].clone(), v1["isLatest"].clone()),
        (json!(1), json!(true))
    );
    assert!(v1["details"]["stripeProductId"].is_string(), "{v1}");
    let detail = http
        .ok(
            "GET",
            &format!("/api/v1/catalog/products/{product}/"),
            None,
            200,
        )
        .await;
    assert_eq!(detail["plans"], json!(["pro-monthly"]));
    assert!(sellable("pro-monthly"), "a published plan is sold");

    // Nothing left to publish; nothing to discard.
    let (status, _) = http
        .send("POST", publish, Some(json!({"updatePricing": true})))
        .await;
    assert_eq!(status, 400);
    let discard = "/api/v1/catalog/plans/pro-monthly/discard/";
    assert_eq!(http.send("DELETE", discard, None).await.0, 400);

    // An empty change makes no version; a change to the published version makes a draft.
    assert_eq!(http.ok("PATCH", path, Some(json!({})), 200).await, v1);
    let v2 = http
        .ok(
            "PATCH",
            path,
            Some(json!({"name": "Pro Monthly (v2)", "fileKeys": ["tmp/9b1c/plan-terms.pdf"]})),
            200,
        )
        .await;
    assert_plan(&v2);
    assert_eq!(
        (v2["version"].clone(), v2["isLatest"].clone()),
        (json!(2), json!(false))
    );
    assert_eq!(v2["files"][0]["name"], "plan-terms.pdf");
    assert!(v2["files"][0]["file"]
        .as_str()
        .unwrap()
        .starts_with("http://"));
    // The draft changes in place.
    let v2b = http
        .ok("PATCH", path, Some(json!({"description": "Again"})), 200)
        .await;
    assert_eq!(v2b["version"], 2);
    assert_eq!(v2b["name"], "Pro Monthly (v2)");
    let list = http.ok("GET", "/api/v1/catalog/plans/", None, 200).await;
    assert_eq!(
        assert_page(&list, 1)[0]["version"],
        2,
        "the most recent version"
    );
    let first = http
        .ok("GET", &format!("{path}?version=1"), None, 200)
        .await;
    assert_eq!(first["isLatest"], true);
    assert_eq!(first["name"], "Pro Monthly");
    // The draft copied the prices.
    let prices = http
        .ok(
            "GET",
            "/api/v1/catalog/plans/pro-monthly/prices/?version=2",
            None,
            200,
        )
        .await;
    assert_eq!(assert_page(&prices, 1)[0]["currency"], "USD");

    // Discarding the draft leaves the published version.
    assert_eq!(http.send("DELETE", discard, None).await.0, 204);
    assert_eq!(http.ok("GET", path, None, 200).await, v1);
    http.not_found("GET", &format!("{path}?version=2"), None)
        .await;

    // Publishing a second version supersedes the first.
    http.ok("PATCH", path, Some(json!({"isVisible": false})), 200)
        .await;
    http.ok("POST", publish, Some(json!({"updateFeatures": false})), 200)
        .await;
    let first = http
        .ok("GET", &format!("{path}?version=1"), None, 200)
        .await;
    assert_eq!(first["isLatest"], false);
    let second = http.ok("GET", path, None, 200).await;
    assert_eq!(
        (second["version"].clone(), second["isLatest"].clone()),
        (json!(2), json!(true))
    );

    // A plan whose only version is a draft is gone once discarded.
    create_plan(&http, &product, "scratch").await;
    assert_eq!(
        http.send("DELETE", "/api/v1/catalog/plans/scratch/discard/", None)
            .await
            .0,
        204
    );
    http.not_found("GET", "/api/v1/catalog/plans/scratch/", None)
        .await;

    // Archiving: every version, once; archived plans leave the list and the product.
    assert_eq!(http.send("DELETE", path, None).await.0, 204);
    http.refused("DELETE", path, None, "identifier").await;
    let list = http.ok("GET", "/api/v1/catalog/plans/", None, 200).await;
    assert_page(&list, 0);
    let detail = http
        .ok(
            "GET",
            &format!("/api/v1/catalog/products/{product}/"),
            None,
            200,
        )
        .await;
    assert_eq!(detail["plans"], json!([]));
}

#[tokio::test]
async fn a_published_plan_can_be_bought_and_grants_its_features() {
    let server = empty().await;
    let http = Http::new(&server);
    let product = create_product(&http, "suite").await;
    let calls = create_feature(
        &http,
        json!({"name": "Calls", "identifier": "calls", "featureType": "METER",
               "featureDetails": {"featureSubType": "PRE_AGGREGATED_USAGE", "units": {}}}),
    )
    .await;
    create_plan(&http, &product, "team").await;
    http.ok(
        "POST",
        "/api/v1/catalog/plans/team/features/",
        Some(json!({"planEntitlements": [
            {"feature": calls["id"], "details": {"value": 500, "hardLimit": true}}
        ]})),
        201,
    )
    .await;
    http.ok(
        "POST",
        "/api/v1/catalog/plans/team/prices/bulk/",
        Some(usd_price(19.5)),
        200,
    )
    .await;
    http.ok("POST", "/api/v1/catalog/plans/team/publish/", None, 200)
        .await;

    let session = http
        .ok(
            "POST",
            "/api/v1/checkout/",
            Some(json!({"planIdentifier": "team", "chargePeriod": "MONTHLY",
                        "successUrl": "https://x", "customerId": "c1"})),
            200,
        )
        .await;
    server
        .complete_checkout(session["checkoutSessionId"].as_str().unwrap())
        .unwrap();
    let entitlements = http
        .ok("GET", "/api/v1/entitlements?customer_id=c1", None, 200)
        .await;
    let text = entitlements.to_string();
    assert!(text.contains("\"calls\""), "{text}");
    assert!(text.contains("500"), "{text}");
    let price = server.with_tenant(None, |c, _| c.plan("team").unwrap().price("MONTHLY"));
    assert_eq!(price, 1950);
}

#[tokio::test]
async fn plan_bodies_and_identifiers_are_checked() {
    let server = empty().await;
    let http = Http::new(&server);
    let product = create_product(&http, "p").await;
    create_plan(&http, &product, "basic").await;

    let create = "/api/v1/catalog/plans/";
    http.refused("POST", create, Some(json!({"name": "x"})), "product")
        .await;
    http.refused(
        "POST",
        create,
        Some(json!({"name": "x", "product": UNKNOWN})),
        "product",
    )
    .await;
    http.refused(
        "POST",
        create,
        Some(json!({"name": "x", "product": "not-a-uuid"})),
        "product",
    )
    .await;
    http.refused(
        "POST",
        create,
        Some(json!({"name": "x", "product": product, "identifier": "basic"})),
        "identifier",
    )
    .await;
    http.refused(
        "POST",
        create,
        Some(json!({"name": "x", "product": product, "license": {"durationUnit": "WEEK"}})),
        "license.durationUnit",
    )
    .await;
    http.refused(
        "POST",
        create,
        Some(json!({"name": "x", "product": product, "links": [{"href": "x"}]})),
        "links[0].href",
    )
    .await;
    let made = http
        .ok(
            "POST",
            create,
            Some(json!({"name": "Basic", "product": product,
                        "license": {"enabled": true, "activationLimit": 3, "durationUnit": "YEAR"},
                        "links": [{"name": "Docs", "url": "https://example.com"}], "ordering": 2})),
            201,
        )
        .await;
    assert_eq!(
        made["identifier"], "basic-2",
        "made from the name, not taken"
    );
    assert_eq!(made["license"]["durationUnit"], "YEAR");
    assert_eq!(made["license"]["activationLimit"], 3);
    assert_eq!(made["ordering"], 2);

    let path = "/api/v1/catalog/plans/basic/";
    http.refused("PATCH", path, Some(json!({"name": ""})), "name")
        .await;
    http.refused("PATCH", path, Some(json!({"product": product})), "product")
        .await;
    http.refused("GET", &format!("{path}?version=two"), None, "version")
        .await;
    http.refused(
        "POST",
        "/api/v1/catalog/plans/basic/publish/",
        Some(json!({"updatePricing": "yes"})),
        "updatePricing",
    )
    .await;

    let unknown = "/api/v1/catalog/plans/no-such-plan/";
    http.not_found("GET", unknown, None).await;
    http.not_found("PATCH", unknown, Some(json!({"name": "x"})))
        .await;
    http.not_found("DELETE", unknown, None).await;
    http.not_found("POST", &format!("{unknown}publish/"), None)
        .await;
    http.not_found("DELETE", &format!("{unknown}discard/"), None)
        .await;
    http.not_found("GET", &format!("{path}?version=9"), None)
        .await;
}

#[tokio::test]
async fn plan_prices_are_replaced_together() {
    let server = empty().await;
    let http = Http::new(&server);
    let product = create_product(&http, "p").await;
    let calls = create_feature(
        &http,
        json!({"name": "Exports", "featureType": "CUSTOMIZABLE"}),
    )
    .await;
    create_plan(&http, &product, "pro").await;
    let bulk = "/api/v1/catalog/plans/pro/prices/bulk/";
    let prices = "/api/v1/catalog/plans/pro/prices/";

    let empty = http.ok("GET", prices, None, 200).await;
    assert_page(&empty, 0);

    let set = http
        .ok(
            "POST",
            bulk,
            Some(json!({"prices": [
                {"priceType": "PAID", "currency": "USD", "freeTrial": false, "trialPeriod": 14,
                 "taxBehavior": "EXCLUSIVE",
                 "chargeCatalogPrice": [
                    {"feature": null, "priceModel": "FLAT",
                     "charges": [{"chargePeriod": "MONTHLY", "priceData": {"amount": 29.99}}]},
                    {"feature": calls["id"], "priceModel": "TIERED", "reset": "EVERY_MONTH",
                     "resetTime": "BEGINNING_OF_PERIOD", "paymentType": "PAY_AS_YOU_GO",
                     "usageAlerts": {"enabled": true, "thresholds": [75, 90], "thresholdType": "PERCENTAGE"},
                     "charges": [{"chargePeriod": "MONTHLY", "priceData": {"currency": "USD"},
                                  "tiers": [{"flatAmount": 0, "unitAmount": 0.5, "upTo": 100},
                                            {"unitAmount": 0.25, "upTo": "inf"}]}]}
                 ]},
                {"priceType": "FREE", "currency": "EUR", "enabled": false}
            ]})),
            200,
        )
        .await;
    let answered = set["prices"].as_array().unwrap();
    assert_eq!(answered.len(), 2);
    for price in answered {
        assert!(is_uuid(&price["id"]), "{price}");
        assert!(price["priceType"].is_string(), "{price}");
    }
    assert_eq!(answered[0]["taxBehavior"], "EXCLUSIVE");
    let plan_wide = answered[0]["chargeCatalogPrice"][0].as_object().unwrap();
    assert_eq!(
        plan_wide.get("feature"),
        Some(&Value::Null),
        "the plan's own charges"
    );
    assert_eq!(answered[0]["chargeCatalogPrice"][1]["priceModel"], "TIERED");
    assert_eq!(
        answered[0]["chargeCatalogPrice"][1]["charges"][0]["tiers"][1]["upTo"],
        "inf"
    );
    assert_eq!(answered[0]["enabled"], true, "enabled when not said");
    assert_eq!(answered[1]["enabled"], false);

    let listed = http.ok("GET", prices, None, 200).await;
    assert_eq!(assert_page(&listed, 2), answered);
    assert!(listed["next"].is_null() && listed["previous"].is_null());

    // Replaced, all together.
    http.ok(
        "POST",
        bulk,
        Some(json!({"prices": [{"priceType": "FREE"}]})),
        200,
    )
    .await;
    let listed = http.ok("GET", prices, None, 200).await;
    let only = &assert_page(&listed, 1)[0];
    assert_eq!(
        only["currency"], "USD",
        "the product's currency when not said"
    );

    // Refused as a whole.
    let two_paid = json!({"prices": [
        {"priceType": "PAID", "currency": "USD"}, {"priceType": "PAID", "currency": "usd"}
    ]});
    http.refused("POST", bulk, Some(two_paid), "prices[1].currency")
        .await;
    http.refused("POST", bulk, Some(json!({})), "prices").await;
    http.refused(
        "POST",
        bulk,
        Some(json!({"prices": [{"priceType": "CHEAP"}]})),
        "prices[0].priceType",
    )
    .await;
    http.refused(
        "POST",
        bulk,
        Some(json!({"prices": [{"priceType": "PAID", "chargeCatalogPrice": [{"priceModel": "FLAT", "charges": [{"chargePeriod": "HOURLY"}]}]}]})),
        "prices[0].chargeCatalogPrice[0].charges[0].chargePeriod",
    )
    .await;
    assert_page(&http.ok("GET", prices, None, 200).await, 1);

    http.not_found("GET", "/api/v1/catalog/plans/nope/prices/", None)
        .await;
    http.not_found(
        "POST",
        "/api/v1/catalog/plans/nope/prices/bulk/",
        Some(json!({"prices": []})),
    )
    .await;
    http.not_found("GET", &format!("{prices}?version=3"), None)
        .await;

    // On a published plan, new prices go to a new draft.
    http.ok("POST", bulk, Some(usd_price(10.0)), 200).await;
    http.ok("POST", "/api/v1/catalog/plans/pro/publish/", None, 200)
        .await;
    http.ok("POST", bulk, Some(usd_price(12.0)), 200).await;
    let plan = http
        .ok("GET", "/api/v1/catalog/plans/pro/", None, 200)
        .await;
    assert_eq!(
        (plan["version"].clone(), plan["isLatest"].clone()),
        (json!(2), json!(false))
    );
    let v1 = http
        .ok("GET", &format!("{prices}?version=1"), None, 200)
        .await;
    assert_eq!(
        assert_page(&v1, 1)[0]["chargeCatalogPrice"][0]["charges"][0]["priceData"]["amount"],
        10.0
    );
}

#[tokio::test]
async fn plan_entitlements_are_added_changed_and_removed() {
    let server = empty().await;
    let http = Http::new(&server);
    let product = create_product(&http, "p").await;
    let calls = create_feature(
        &http,
        json!({"name": "API Calls", "identifier": "api-calls", "featureType": "METER",
               "featureDetails": {"featureSubType": "PRE_AGGREGATED_USAGE", "units": {}}}),
    )
    .await;
    let sso = create_feature(&http, json!({"name": "SSO", "featureType": "BOOLEAN"})).await;
    create_plan(&http, &product, "pro").await;
    let features = "/api/v1/catalog/plans/pro/features/";

    assert_page(&http.ok("GET", features, None, 200).await, 0);
    let plan = http
        .ok(
            "POST",
            features,
            Some(json!({"planEntitlements": [
                {"feature": calls["id"], "details": {"value": 10000, "hasUnlimitedUsage": false,
                  "reset": "EVERY_MONTH", "resetTime": "BEGINNING_OF_PERIOD",
                  "usageAlerts": {"enabled": true, "thresholds": [75, 90], "thresholdType": "PERCENTAGE"}}},
                {"feature": sso["id"], "details": {"value": true}}
            ]})),
            201,
        )
        .await;
    assert_plan(&plan);
    assert_eq!(plan["version"], 1);

    let listed = http.ok("GET", features, None, 200).await;
    let results = assert_page(&listed, 2);
    assert!(listed["next"].is_null() && listed["previous"].is_null());
    assert_feature(&results[0]["feature"]);
    assert_eq!(results[0]["feature"]["identifier"], "api-calls");
    assert_eq!(results[0]["details"]["value"], 10000);
    assert_eq!(results[0]["details"]["reset"], "EVERY_MONTH");
    assert_eq!(results[1]["details"], json!({"value": true}));

    // Refused: a feature granted already, an unknown one, bad details.
    http.refused(
        "POST",
        features,
        Some(json!({"planEntitlements": [{"feature": sso["id"], "details": {}}]})),
        "planEntitlements[0].feature",
    )
    .await;
    http.refused(
        "POST",
        features,
        Some(json!({"planEntitlements": [{"feature": UNKNOWN, "details": {}}]})),
        "planEntitlements[0].feature",
    )
    .await;
    http.refused(
        "POST",
        features,
        Some(
            json!({"planEntitlements": [{"feature": calls["id"], "details": {"reset": "HOURLY"}}]}),
        ),
        "planEntitlements[0].details.reset",
    )
    .await;
    http.refused("POST", features, Some(json!({})), "planEntitlements")
        .await;

    // The details are replaced with those sent.
    let one = "/api/v1/catalog/plans/pro/features/api-calls/";
    let updated = http
        .ok(
            "PATCH",
            one,
            Some(json!({"details": {"value": 20000, "hasUnlimitedUsage": false}})),
            200,
        )
        .await;
    assert_eq!(
        updated,
        json!({"details": {"value": 20000, "hasUnlimitedUsage": false}})
    );
    let listed = http.ok("GET", features, None, 200).await;
    assert_eq!(listed["results"][0]["details"], updated["details"]);
    http.refused("PATCH", one, Some(json!({})), "details").await;
    http.refused(
        "PATCH",
        one,
        Some(json!({"details": {"hardLimit": "yes"}})),
        "details.hardLimit",
    )
    .await;

    // Unknown plans and features.
    http.not_found("GET", "/api/v1/catalog/plans/nope/features/", None)
        .await;
    http.not_found(
        "POST",
        "/api/v1/catalog/plans/nope/features/",
        Some(json!({"planEntitlements": []})),
    )
    .await;
    http.not_found(
        "PATCH",
        "/api/v1/catalog/plans/pro/features/nope/",
        Some(json!({"details": {}})),
    )
    .await;
    http.not_found("DELETE", "/api/v1/catalog/plans/pro/features/nope/", None)
        .await;
    http.not_found("GET", &format!("{features}?version=5"), None)
        .await;

    // Removed.
    assert_eq!(http.send("DELETE", one, None).await.0, 204);
    http.not_found("DELETE", one, None).await;
    assert_page(&http.ok("GET", features, None, 200).await, 1);

    // On a published plan, changes go to a new draft; the published version keeps its own.
    http.ok(
        "POST",
        "/api/v1/catalog/plans/pro/prices/bulk/",
        Some(usd_price(5.0)),
        200,
    )
    .await;
    http.ok("POST", "/api/v1/catalog/plans/pro/publish/", None, 200)
        .await;
    let draft = http
        .ok(
            "POST",
            features,
            Some(json!({"planEntitlements": [{"feature": calls["id"], "details": {"value": 1}}]})),
            201,
        )
        .await;
    assert_eq!(
        (draft["version"].clone(), draft["isLatest"].clone()),
        (json!(2), json!(false))
    );
    assert_page(&http.ok("GET", features, None, 200).await, 2);
    assert_page(
        &http
            .ok("GET", &format!("{features}?version=1"), None, 200)
            .await,
        1,
    );
}

#[tokio::test]
async fn tenants_do_not_share_a_catalog() {
    let server = empty().await;
    let http = Http::new(&server);
    create_product(&http, "mine").await;
    let other = reqwest::Client::new()
        .get(format!("{}/api/v1/catalog/products/", server.url()))
        .header("authorization", "Bearer another-key")
        .send()
        .await
        .unwrap();
    let page: Value = other.json().await.unwrap();
    assert_eq!(page["count"], 0);
}

#[tokio::test]
async fn product_images_are_changed_and_deleted() {
    let server = empty().await;
    let http = Http::new(&server);
    let product = http
        .ok(
            "POST",
            "/api/v1/catalog/products/",
            Some(json!({"name": "P", "taxCode": "saas", "imageKeys": ["tmp/1/a.png", "tmp/2/b.png"]})),
            201,
        )
        .await;
    let id = product["id"].as_str().unwrap();
    let first = product["images"][0]["id"].as_str().unwrap();
    let second = product["images"][1]["id"].as_str().unwrap();
    let path = format!("/api/v1/catalog/products/{id}/image/{second}/");

    let same = http.ok("PATCH", &path, Some(json!({})), 200).await;
    assert_eq!(same, product["images"][1]);
    let changed = http
        .ok(
            "PATCH",
            &path,
            Some(json!({"name": "hero.png", "ordering": 0, "thumbnail": true, "enabled": false})),
            200,
        )
        .await;
    assert_eq!(changed["id"], second);
    assert_eq!(
        (
            &changed["name"],
            &changed["ordering"],
            &changed["thumbnail"],
            &changed["enabled"]
        ),
        (&json!("hero.png"), &json!(0), &json!(true), &json!(false))
    );
    let read = http
        .ok("GET", &format!("/api/v1/catalog/products/{id}/"), None, 200)
        .await;
    assert_eq!(
        read["images"][0]["thumbnail"], false,
        "one thumbnail at most"
    );

    http.refused(
        "PATCH",
        &path,
        Some(json!({"ordering": "first"})),
        "ordering",
    )
    .await;
    http.refused("PATCH", &path, Some(json!({"image": "x"})), "image")
        .await;
    http.not_found(
        "PATCH",
        &format!("/api/v1/catalog/products/{id}/image/{UNKNOWN}/"),
        Some(json!({})),
    )
    .await;
    http.not_found(
        "DELETE",
        &format!("/api/v1/catalog/products/{UNKNOWN}/image/{first}/"),
        None,
    )
    .await;

    assert_eq!(http.send("DELETE", &path, None).await.0, 204);
    http.not_found("DELETE", &path, None).await;
    let read = http
        .ok("GET", &format!("/api/v1/catalog/products/{id}/"), None, 200)
        .await;
    assert_eq!(read["images"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn plan_files_are_changed_and_deleted_through_drafts() {
    let server = empty().await;
    let http = Http::new(&server);
    let product = create_product(&http, "p").await;
    let plan = http
        .ok(
            "POST",
            "/api/v1/catalog/plans/",
            Some(json!({"name": "Pro", "product": product, "fileKeys": ["tmp/1/terms.pdf"]})),
            201,
        )
        .await;
    let file = plan["files"][0]["id"].as_str().unwrap();
    let path = format!("/api/v1/catalog/plans/pro/file/{file}/");

    let same = http.ok("PATCH", &path, Some(json!({})), 200).await;
    assert_eq!(same, plan["files"][0]);
    let changed = http
        .ok(
            "PATCH",
            &path,
            Some(json!({"name": "Terms (v2).pdf", "ordering": 3, "enabled": false})),
            200,
        )
        .await;
    assert_eq!(changed["id"], file);
    assert_eq!(changed["name"], "Terms (v2).pdf");
    assert_eq!(changed["ordering"], 3);
    assert_eq!(changed["enabled"], false);
    http.refused("PATCH", &path, Some(json!({"enabled": 1})), "enabled")
        .await;
    http.not_found(
        "PATCH",
        &format!("/api/v1/catalog/plans/pro/file/{UNKNOWN}/"),
        Some(json!({})),
    )
    .await;
    http.not_found(
        "DELETE",
        &format!("/api/v1/catalog/plans/nope/file/{file}/"),
        None,
    )
    .await;

    // On a published plan, the file leaves a new draft; the published version keeps it.
    http.ok(
        "POST",
        "/api/v1/catalog/plans/pro/prices/bulk/",
        Some(usd_price(1.0)),
        200,
    )
    .await;
    http.ok("POST", "/api/v1/catalog/plans/pro/publish/", None, 200)
        .await;
    assert_eq!(http.send("DELETE", &path, None).await.0, 204);
    let draft = http
        .ok("GET", "/api/v1/catalog/plans/pro/", None, 200)
        .await;
    assert_eq!(draft["version"], 2);
    assert!(
        draft.get("files").is_none_or(|f| f == &json!([])),
        "{draft}"
    );
    let published = http
        .ok("GET", "/api/v1/catalog/plans/pro/?version=1", None, 200)
        .await;
    assert_eq!(published["files"][0]["id"], file);
    http.not_found("DELETE", &path, None).await;
}

/// A `multipart/form-data` body of `fields`, then `file` as the `file` field.
fn form(fields: &serde_json::Map<String, Value>, file: &[u8]) -> (String, Vec<u8>) {
    let boundary = "catalog-test-boundary";
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{}\r\n",
                value.as_str().unwrap()
            )
            .as_bytes(),
        );
    }
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"f\"\r\n\
             Content-Type: application/pdf\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(file);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

#[tokio::test]
async fn uploads_become_plan_files_with_a_public_download_link() {
    let server = empty().await;
    let http = Http::new(&server);
    let upload = http
        .ok(
            "POST",
            "/api/v1/media/",
            Some(json!({"fileName": "plan terms.pdf", "fileType": "application/pdf"})),
            200,
        )
        .await;
    let key = upload["fileKey"].as_str().unwrap();
    assert!(
        key.starts_with("tmp/") && key.ends_with("/plan terms.pdf"),
        "{key}"
    );
    let url = upload["url"].as_str().unwrap();
    assert!(url.starts_with(&server.url()), "{url}");
    let fields = upload["fields"].as_object().unwrap();
    assert_eq!(fields["key"], key);

    // The form must be the one prepared.
    let plain = reqwest::Client::new();
    let mut wrong = fields.clone();
    wrong.insert("Content-Type".into(), json!("image/png"));
    let (content_type, body) = form(&wrong, b"%PDF-1.7");
    let refused = plain
        .post(url)
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);
    let (content_type, body) = form(fields, b"%PDF-1.7 terms");
    let stored = plain
        .post(url)
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(stored.status(), 204);

    let product = create_product(&http, "p").await;
    let plan = http
        .ok(
            "POST",
            "/api/v1/catalog/plans/",
            Some(json!({"name": "Pro", "product": product, "fileKeys": [key]})),
            201,
        )
        .await;
    let file = &plan["files"][0];
    assert_eq!(file["name"], "plan terms.pdf");
    let link = file["downloadUrl"].as_str().unwrap();

    // The public link needs no API key, and leads to the bytes.
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let redirect = no_redirects.get(link).send().await.unwrap();
    assert_eq!(redirect.status(), 302);
    let location = redirect.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(location, file["file"].as_str().unwrap());
    let bytes = plain.get(link).send().await.unwrap();
    assert_eq!(bytes.status(), 200);
    assert_eq!(bytes.headers()["content-type"], "application/pdf");
    assert_eq!(&bytes.bytes().await.unwrap()[..], b"%PDF-1.7 terms");

    let unknown = no_redirects
        .get(format!(
            "{}/api/v1/catalog/plans/pro/file/{UNKNOWN}/download/",
            server.url()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);

    http.refused(
        "POST",
        "/api/v1/media/",
        Some(json!({"fileName": "a.pdf"})),
        "fileType",
    )
    .await;
    http.refused(
        "POST",
        "/api/v1/media/",
        Some(json!({"fileName": "", "fileType": "application/pdf"})),
        "fileName",
    )
    .await;
}

#[tokio::test]
async fn a_product_offering_shows_its_published_plans() {
    let server = empty().await;
    let http = Http::new(&server);
    let product = create_product(&http, "suite").await;
    let seats = create_feature(
        &http,
        json!({"name": "Seats", "featureType": "CUSTOMIZABLE"}),
    )
    .await;
    for (identifier, amount) in [("basic", 19.0), ("pro", 39.0)] {
        create_plan(&http, &product, identifier).await;
        let mut prices = usd_price(amount);
        prices["prices"][0]["chargeCatalogPrice"][0]["charges"]
            .as_array_mut()
            .unwrap()
            .push(json!({"chargePeriod": "YEARLY", "priceData": {"amount": amount * 10.0}}));
        http.ok(
            "POST",
            &format!("/api/v1/catalog/plans/{identifier}/prices/bulk/"),
            Some(prices),
            200,
        )
        .await;
        http.ok(
            "POST",
            &format!("/api/v1/catalog/plans/{identifier}/features/"),
            Some(json!({"planEntitlements": [{"feature": seats["id"], "details": {"value": 5}}]})),
            201,
        )
        .await;
        http.ok(
            "POST",
            &format!("/api/v1/catalog/plans/{identifier}/publish/"),
            None,
            200,
        )
        .await;
    }
    create_plan(&http, &product, "draft-only").await;

    let path = format!("/api/v1/monetization/product-offering/{product}/");
    let offering = http.ok("GET", &path, None, 200).await;
    assert_eq!(offering["currencyCode"], "USD");
    assert_eq!(offering["currencyConversionRate"], 1);
    assert_eq!(offering["isCustomerExists"], false);
    let plans = offering["plans"].as_array().unwrap();
    let names: Vec<_> = plans.iter().map(|p| p["identifier"].clone()).collect();
    assert_eq!(
        names,
        [json!("basic"), json!("pro")],
        "published plans only"
    );
    assert_eq!(
        plans[0]["originalPrice"],
        json!({"MONTHLY": 19.0, "YEARLY": 190.0})
    );
    assert_eq!(
        plans[0]["price"]["charges"][1]["featureQuantityPrice"],
        190.0
    );
    assert_eq!(plans[0]["features"][0]["identifier"], "seats");
    let periods: Vec<_> = offering["billingPeriods"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["chargePeriod"].clone())
        .collect();
    assert_eq!(periods, [json!("MONTHLY"), json!("YEARLY")]);

    let only = http
        .ok("GET", &format!("{path}?plans_enabled=pro"), None, 200)
        .await;
    assert_eq!(only["plans"].as_array().unwrap().len(), 1);

    // A customer subscribed to one of the product's plans.
    let session = http
        .ok(
            "POST",
            "/api/v1/checkout/",
            Some(json!({"planIdentifier": "pro", "chargePeriod": "YEARLY",
                        "successUrl": "https://x", "customerId": "c1"})),
            200,
        )
        .await;
    server
        .complete_checkout(session["checkoutSessionId"].as_str().unwrap())
        .unwrap();
    let seen = http
        .ok("GET", &format!("{path}?customer_id=c1"), None, 200)
        .await;
    assert_eq!(seen["isCustomerExists"], true);
    assert_eq!(seen["subscription"]["planIdentifier"], "pro");
    assert_eq!(seen["subscription"]["chargePeriod"], "YEARLY");
    assert!(is_uuid(&seen["subscription"]["subscriptionId"]));
    let stranger = http
        .ok("GET", &format!("{path}?customer_id=nobody"), None, 200)
        .await;
    assert_eq!(stranger["isCustomerExists"], false);
    assert_eq!(stranger["subscription"]["planIdentifier"], Value::Null);

    let (status, answer) = http
        .send(
            "GET",
            &format!("/api/v1/monetization/product-offering/{UNKNOWN}/"),
            None,
        )
        .await;
    assert_eq!(status, 404);
    assert_eq!(
        answer,
        json!({"status": "Not found", "message": "Product does not exist"})
    );
}
