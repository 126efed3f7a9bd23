//! The catalog operations on the wire, against a small server answering the document's
//! examples: the method, the path (identifiers percent-encoded, trailing slash), the query
//! and the body sent; the typed answer; a list walked across two pages; input refused
//! before anything is sent. Both clients.

#![cfg(feature = "catalog")]

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::{Arc, Mutex};

use futures_util::TryStreamExt;
use kelviq::catalog::{
    ChargeInput, EntitlementDetailsInput, FeaturePriceInput, LicenseDurationUnit, LicenseInput,
    PlanChargePeriod, PlanEntitlementInput, PriceInput, PriceModel, PriceTaxBehavior, PriceType,
    TaxCode, TierInput, UsageAlertThresholdType, UsageAlertsInput, UsageReset,
};
use kelviq::model::PlanLink;
use kelviq::{ErrorKind, FeatureType, Kelviq, RetryPolicy};
use serde_json::{json, Value};

const FEATURE_ID: &str = "3a3e92ab-90a3-4f43-8e87-9d4c8c5a9c01";
const PRODUCT_ID: &str = "0d65f7c0-7e91-4f56-9b32-13a9a6a7c1de";

/// One request as the server received it.
#[derive(Debug, Clone)]
struct Recorded {
    method: String,
    /// As it came, percent-encoding and all.
    path: String,
    query: Option<String>,
    body: Option<Value>,
}

impl Recorded {
    /// The query's pairs, in order of name.
    fn query_pairs(&self) -> BTreeMap<String, String> {
        self.query
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
}

type Answer = dyn Fn(&Recorded) -> (u16, Option<Value>) + Send + Sync;
type Log = Arc<Mutex<Vec<Recorded>>>;

/// A server on a free loopback port, on its own runtime, that records every request and
/// answers what `answer` says (no body when it says `None`).
struct Server {
    base: String,
    log: Log,
    runtime: Option<tokio::runtime::Runtime>,
}

impl Server {
    fn start(answer: impl Fn(&Recorded) -> (u16, Option<Value>) + Send + Sync + 'static) -> Self {
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

    /// The requests received since the last call.
    fn take(&self) -> Vec<Recorded> {
        std::mem::take(&mut *self.log.lock().unwrap())
    }

    fn client(&self) -> kelviq::Client {
        Kelviq::builder("sk_test_catalog")
            .api_base_url(&self.base)
            .retry_policy(RetryPolicy::none())
            .build()
            .unwrap()
    }

    #[cfg(feature = "blocking")]
    fn blocking(&self) -> kelviq::blocking::Client {
        Kelviq::builder("sk_test_catalog")
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
    let recorded = Recorded {
        method: parts.method.to_string(),
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().map(str::to_owned),
        body: (!bytes.is_empty()).then(|| serde_json::from_slice(&bytes).unwrap()),
    };
    let (status, body) = answer(&recorded);
    log.lock().unwrap().push(recorded);
    let mut response = match body {
        Some(body) => axum::Json(body).into_response(),
        None => ().into_response(),
    };
    *response.status_mut() = http::StatusCode::from_u16(status).unwrap();
    response
}

/// Runs `future` on a runtime of its own, as an application's async code would.
fn run<F: Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(future)
}

/// The one request received, which must be `method path`.
#[track_caller]
fn only(server: &Server, method: &str, path: &str) -> Recorded {
    let requests = server.take();
    assert_eq!(requests.len(), 1, "{requests:#?}");
    let request = requests.into_iter().next().unwrap();
    assert_eq!(
        (request.method.as_str(), request.path.as_str()),
        (method, path)
    );
    request
}

// The document's examples.

fn feature() -> Value {
    json!({
        "id": FEATURE_ID,
        "identifier": "api-calls",
        "name": "API Calls",
        "description": "Number of API calls per billing cycle.",
        "featureType": "METER",
        "featureDetails": {"featureSubType": "PRE_AGGREGATED_USAGE", "units": {"singular": "call", "plural": "calls"}},
        "meter": {},
        "details": {},
        "metadata": {"category": "core"},
        "isArchived": false,
        "modifiedOn": "2025-04-12T08:21:14.910Z"
    })
}

fn product() -> Value {
    json!({
        "id": "762f0098-a8ef-4eed-b08b-f02043771b76",
        "identifier": "parity-deals",
        "name": "ParityDeals",
        "description": "",
        "createdBy": "Geo Jacob",
        "modifiedOn": "2026-05-20T10:54:41.324224Z",
        "images": [{
            "id": "2e025341-0f78-42cc-b814-8f059ac53339",
            "name": "web-app-manifest-512x512.png",
            "image": "https://cdn.kelviq.com/media/staging/organizations/6/products/762f0098-a8ef-4eed-b08b-f02043771b76/f318dec5767c498482d9e5dffe8a3332/web-app-manifest-512x512.png",
            "ordering": 0,
            "thumbnail": true,
            "enabled": true
        }],
        "taxCode": "saas"
    })
}

fn product_detail() -> Value {
    json!({
        "id": PRODUCT_ID,
        "identifier": "pro-suite",
        "name": "Pro Suite",
        "description": "Premium tools for growing teams.",
        "taxCode": "saas",
        "createdBy": "Jane Smith",
        "modifiedOn": "2025-04-12T08:21:14.910Z",
        "images": [],
        "plans": ["pro-monthly"]
    })
}

fn plan() -> Value {
    json!({
        "identifier": "pro-monthly",
        "name": "Pro Monthly",
        "description": "Pro tier billed monthly.",
        "product": PRODUCT_ID,
        "metadata": {},
        "version": 3,
        "isLatest": true,
        "modifiedOn": "2025-04-12T08:21:14.910Z",
        "createdOn": "2025-03-01T08:21:14.910Z",
        "details": {"stripeProductId": "prod_ABC123"},
        "isVisible": true,
        "isImported": false,
        "countries": ["US", "IN"],
        "links": [{"name": "Product page", "url": "https://example.com/product"}],
        "files": [{
            "id": "bf9f0fe0-c9c0-436d-8811-e412d0365470",
            "name": "custom-pricinig.png",
            "file": "https://cdn.kelviq.com/media/organizations/8/plan/1ad723d2-40eb-4bf0-b924-557e6697e788/53c28d460fed421a81f6c6e90114ff4f/custom-pricinig.png",
            "ordering": 0,
            "enabled": true,
            "downloadUrl": "https://api.kelviq.com/api/v1/catalog/plans/10-july/file/bf9f0fe0-c9c0-436d-8811-e412d0365470/download/"
        }],
        "ordering": 1
    })
}

fn price() -> Value {
    json!({
        "id": "df0b9da9-58c3-4d77-9b62-3f6e4c2b1ad0",
        "priceType": "PAID",
        "currency": "USD",
        "freeTrial": false,
        "trialPeriod": 14,
        "enabled": true,
        "taxBehavior": "EXCLUSIVE",
        "chargeCatalogPrice": [{
            "feature": FEATURE_ID,
            "priceModel": "FLAT",
            "reset": "EVERY_MONTH",
            "resetTime": "BEGINNING_OF_PERIOD",
            "hasUnlimitedUsage": false,
            "paymentType": "ADVANCE_COMMITMENT",
            "rollover": {},
            "usageAlerts": {"enabled": true, "thresholds": [75, 90], "thresholdType": "PERCENTAGE"},
            "charges": [{"chargePeriod": "MONTHLY", "priceData": {"amount": 29.99}, "tiers": [], "advanced": {}}]
        }]
    })
}

fn page(results: Vec<Value>, next: Option<&str>) -> Value {
    json!({"count": 2, "next": next, "previous": null, "results": results})
}

#[test]
fn features_are_listed_a_page_at_a_time_and_streamed_across_two_pages() {
    let server = Server::start(|request| {
        let page_number = request.query_pairs().get("page").cloned();
        let mut second = feature();
        second["id"] = json!("5b0e1a47-3f83-4bb5-9c7a-7f1f3f1f2e10");
        second["identifier"] = json!("sso");
        second["featureType"] = json!("BOOLEAN");
        match page_number.as_deref() {
            Some("2") => (200, Some(page(vec![second], None))),
            _ => (
                200,
                Some(page(
                    vec![feature()],
                    Some("http://api.example/api/v1/catalog/features/?page=2&page_size=1"),
                )),
            ),
        }
    });
    let client = server.client();

    let first = run(client
        .catalog()
        .features()
        .list()
        .page_size(1)
        .search("api")
        .send())
    .unwrap();
    assert_eq!((first.count, first.has_next()), (2, true));
    assert_eq!(first.results[0].identifier, "api-calls");
    let request = only(&server, "GET", "/api/v1/catalog/features/");
    assert_eq!(
        request.query_pairs(),
        BTreeMap::from([
            ("page_size".to_owned(), "1".to_owned()),
            ("search".to_owned(), "api".to_owned())
        ])
    );

    let all: Vec<_> = run(client
        .catalog()
        .features()
        .list()
        .page_size(1)
        .into_stream()
        .try_collect())
    .unwrap();
    let identifiers: Vec<_> = all.iter().map(|f| f.identifier.as_str()).collect();
    assert_eq!(identifiers, ["api-calls", "sso"]);
    assert_eq!(all[1].feature_type, FeatureType::Boolean);
    let pages: Vec<_> = server
        .take()
        .iter()
        .map(|r| {
            assert_eq!(r.path, "/api/v1/catalog/features/");
            r.query_pairs()["page"].clone()
        })
        .collect();
    assert_eq!(pages, ["1", "2"], "two pages, none past the last");
}

#[test]
fn a_feature_is_created_read_and_archived() {
    let server = Server::start(|request| match request.method.as_str() {
        "DELETE" => (204, None),
        "POST" => (201, Some(feature())),
        _ => (200, Some(feature())),
    });
    let client = server.client();
    let catalog = client.catalog();

    let created = run(catalog
        .features()
        .create("API Calls", FeatureType::Meter)
        .identifier("api-calls")
        .description("Number of API calls per billing cycle.")
        .feature_details(
            json!({"featureSubType": "PRE_AGGREGATED_USAGE", "units": {"singular": "call", "plural": "calls"}})
                .as_object()
                .unwrap()
                .clone(),
        )
        .send())
    .unwrap();
    let request = only(&server, "POST", "/api/v1/catalog/features/");
    assert_eq!(request.query, None);
    assert_eq!(
        request.body.unwrap(),
        json!({
            "name": "API Calls",
            "identifier": "api-calls",
            "description": "Number of API calls per billing cycle.",
            "featureType": "METER",
            "featureDetails": {"featureSubType": "PRE_AGGREGATED_USAGE", "units": {"singular": "call", "plural": "calls"}}
        })
    );
    assert_eq!(created.id, FEATURE_ID);
    assert_eq!(created.feature_type, FeatureType::Meter);
    assert_eq!(created.metadata["category"], "core");
    assert_eq!(created.is_archived, Some(false));
    assert_eq!(
        created.modified_on.unwrap().to_rfc3339(),
        "2025-04-12T08:21:14.910+00:00"
    );

    let read = run(catalog.features().retrieve(FEATURE_ID).send()).unwrap();
    only(
        &server,
        "GET",
        &format!("/api/v1/catalog/features/{FEATURE_ID}/"),
    );
    assert_eq!(read, created);

    run(catalog.features().delete(FEATURE_ID).send()).unwrap();
    let request = only(
        &server,
        "DELETE",
        &format!("/api/v1/catalog/features/{FEATURE_ID}/"),
    );
    assert_eq!(request.body, None);
}

#[test]
fn products_are_created_read_updated_listed_and_archived() {
    let server = Server::start(
        |request| match (request.method.as_str(), request.path.as_str()) {
            ("DELETE", _) => (204, None),
            ("POST", _) => (201, Some(product())),
            ("GET", "/api/v1/catalog/products/") => (200, Some(page(vec![product()], None))),
            ("GET", _) => (200, Some(product_detail())),
            _ => (200, Some(product())),
        },
    );
    let client = server.client();
    let products = client.catalog().products();

    let created = run(products
        .create("ParityDeals", TaxCode::Saas)
        .identifier("parity-deals")
        .image_keys(["tmp/108713b0-1f81-42cf-a16c-c83b1d4d4148/web-app-manifest-512x512.png"])
        .send())
    .unwrap();
    let request = only(&server, "POST", "/api/v1/catalog/products/");
    assert_eq!(
        request.body.unwrap(),
        json!({
            "name": "ParityDeals",
            "identifier": "parity-deals",
            "imageKeys": ["tmp/108713b0-1f81-42cf-a16c-c83b1d4d4148/web-app-manifest-512x512.png"],
            "taxCode": "saas"
        })
    );
    assert_eq!(created.identifier, "parity-deals");
    assert_eq!(created.tax_code.as_deref(), Some("saas"));
    assert_eq!(created.images.len(), 1);
    assert_eq!(created.images[0].thumbnail, Some(true));
    assert!(created.plans.is_empty());

    let read = run(products.retrieve(PRODUCT_ID).send()).unwrap();
    only(
        &server,
        "GET",
        &format!("/api/v1/catalog/products/{PRODUCT_ID}/"),
    );
    assert_eq!(read.plans, ["pro-monthly"]);
    assert_eq!(read.id, PRODUCT_ID);

    run(products
        .update(PRODUCT_ID)
        .name("Pro Suite v2")
        .tax_code(TaxCode::SaasBusiness)
        .send())
    .unwrap();
    let request = only(
        &server,
        "PATCH",
        &format!("/api/v1/catalog/products/{PRODUCT_ID}/"),
    );
    assert_eq!(
        request.body.unwrap(),
        json!({"name": "Pro Suite v2", "taxCode": "saas_business"})
    );

    let listed = run(products.list().page(1).page_size(10).send()).unwrap();
    let request = only(&server, "GET", "/api/v1/catalog/products/");
    assert_eq!(
        request.query_pairs(),
        BTreeMap::from([
            ("page".to_owned(), "1".to_owned()),
            ("page_size".to_owned(), "10".to_owned())
        ])
    );
    assert_eq!((listed.results.len(), listed.has_next()), (1, false));

    run(products.delete(PRODUCT_ID).send()).unwrap();
    only(
        &server,
        "DELETE",
        &format!("/api/v1/catalog/products/{PRODUCT_ID}/"),
    );
}

#[test]
fn plans_travel_by_their_identifier_as_one_encoded_segment() {
    let server = Server::start(|request| {
        match (request.method.as_str(), request.path.ends_with("/publish/")) {
            ("DELETE", _) => (204, None),
            ("POST", true) => (200, Some(json!({"status": "published"}))),
            ("POST", false) => (201, Some(plan())),
            ("GET", _) if request.path == "/api/v1/catalog/plans/" => {
                (200, Some(page(vec![plan()], None)))
            }
            _ => (200, Some(plan())),
        }
    });
    let client = server.client();
    let plans = client.catalog().plans();
    // A space, a slash and a backslash-dot-dot: one segment whatever it holds.
    let odd = "pro monthly/v2\\..";
    let encoded = "pro%20monthly%2Fv2%5C..";

    let created = run(plans
        .create("Pro Monthly", PRODUCT_ID)
        .identifier("pro-monthly")
        .is_visible(true)
        .ordering(1)
        .file_keys(["tmp/9b1c8af2-3d4e-4f9a-8b2c-1f3e5a7b9d12/plan-terms.pdf"])
        .links([PlanLink::new("Product page", "https://example.com/product")])
        .license(
            LicenseInput::new()
                .activation_limit(3)
                .duration(1, LicenseDurationUnit::Year),
        )
        .send())
    .unwrap();
    let request = only(&server, "POST", "/api/v1/catalog/plans/");
    assert_eq!(
        request.body.unwrap(),
        json!({
            "name": "Pro Monthly",
            "identifier": "pro-monthly",
            "product": PRODUCT_ID,
            "isVisible": true,
            "fileKeys": ["tmp/9b1c8af2-3d4e-4f9a-8b2c-1f3e5a7b9d12/plan-terms.pdf"],
            "links": [{"name": "Product page", "url": "https://example.com/product"}],
            "license": {
                "enabled": true,
                "activationLimit": 3,
                "activationLimitEnabled": true,
                "durationUnit": "YEAR",
                "durationValue": 1,
                "hasExpiry": true
            },
            "ordering": 1
        })
    );
    assert_eq!(
        (created.identifier.as_str(), created.version),
        ("pro-monthly", 3)
    );
    assert!(created.is_latest);
    assert_eq!(created.product, PRODUCT_ID);
    assert_eq!(created.countries, ["US", "IN"]);
    assert_eq!(
        created.links[0].url.as_deref(),
        Some("https://example.com/product")
    );
    assert!(created.files[0]
        .download_url
        .as_deref()
        .unwrap()
        .ends_with("/download/"));
    assert_eq!(created.details["stripeProductId"], "prod_ABC123");

    run(plans.retrieve(odd).version(2).send()).unwrap();
    let request = only(&server, "GET", &format!("/api/v1/catalog/plans/{encoded}/"));
    assert_eq!(request.query.as_deref(), Some("version=2"));

    run(plans
        .update(odd)
        .name("Pro Monthly (v2)")
        .is_visible(false)
        .send())
    .unwrap();
    let request = only(
        &server,
        "PATCH",
        &format!("/api/v1/catalog/plans/{encoded}/"),
    );
    assert_eq!(request.query, None);
    assert_eq!(
        request.body.unwrap(),
        json!({"name": "Pro Monthly (v2)", "isVisible": false})
    );

    let published = run(plans.publish(odd).update_pricing(true).send()).unwrap();
    let request = only(
        &server,
        "POST",
        &format!("/api/v1/catalog/plans/{encoded}/publish/"),
    );
    assert_eq!(request.body.unwrap(), json!({"updatePricing": true}));
    assert_eq!(published.status, "published");

    run(plans.discard_draft(odd).send()).unwrap();
    only(
        &server,
        "DELETE",
        &format!("/api/v1/catalog/plans/{encoded}/discard/"),
    );

    run(plans.delete(odd).send()).unwrap();
    only(
        &server,
        "DELETE",
        &format!("/api/v1/catalog/plans/{encoded}/"),
    );

    let listed = run(plans.list().send()).unwrap();
    let request = only(&server, "GET", "/api/v1/catalog/plans/");
    assert_eq!(request.query, None);
    assert_eq!(listed.results[0].name, "Pro Monthly");
}

#[test]
fn a_plans_prices_are_listed_and_replaced() {
    let server = Server::start(|request| match request.method.as_str() {
        "POST" => (200, Some(json!({"prices": [price()]}))),
        _ => (
            200,
            Some(json!({"count": 1, "next": null, "previous": null, "results": [price()]})),
        ),
    });
    let client = server.client();
    let plans = client.catalog().plans();

    let prices = run(plans.list_prices("pro-monthly").version(3).send()).unwrap();
    let request = only(&server, "GET", "/api/v1/catalog/plans/pro-monthly/prices/");
    assert_eq!(request.query.as_deref(), Some("version=3"));
    let first = &prices.results[0];
    assert_eq!(
        (first.price_type.as_str(), first.currency.as_deref()),
        ("PAID", Some("USD"))
    );
    assert_eq!(first.trial_period, Some(14));
    let charge = &first.charge_catalog_price[0];
    assert_eq!(charge.feature.as_deref(), Some(FEATURE_ID));
    assert_eq!(
        charge.usage_alerts.as_ref().unwrap().thresholds,
        [75.0, 90.0]
    );
    assert_eq!(charge.charges[0].price_data["amount"], 29.99);

    let set = run(plans
        .set_prices(
            "pro-monthly",
            [
                PriceInput::flat("USD", PlanChargePeriod::Monthly, 29.99)
                    .tax_behavior(PriceTaxBehavior::Exclusive)
                    .trial_period(14),
                PriceInput::new(PriceType::Paid)
                    .currency("EUR")
                    .feature_price(
                        FeaturePriceInput::for_feature(FEATURE_ID)
                            .price_model(PriceModel::Tiered)
                            .reset(UsageReset::EveryMonth)
                            .usage_alerts(UsageAlertsInput::new(
                                UsageAlertThresholdType::Percentage,
                                [75.0, 90.0],
                            ))
                            .charge(
                                ChargeInput::new(PlanChargePeriod::Monthly)
                                    .tier(TierInput::up_to(1000).unit_amount(0.0))
                                    .tier(TierInput::last().unit_amount(0.001)),
                            ),
                    ),
            ],
        )
        .send())
    .unwrap();
    let request = only(
        &server,
        "POST",
        "/api/v1/catalog/plans/pro-monthly/prices/bulk/",
    );
    assert_eq!(
        request.body.unwrap(),
        json!({"prices": [
            {
                "priceType": "PAID",
                "currency": "USD",
                "freeTrial": true,
                "trialPeriod": 14,
                "taxBehavior": "EXCLUSIVE",
                "chargeCatalogPrice": [{
                    "priceModel": "FLAT",
                    "charges": [{"chargePeriod": "MONTHLY", "priceData": {"amount": 29.99}}]
                }]
            },
            {
                "priceType": "PAID",
                "currency": "EUR",
                "chargeCatalogPrice": [{
                    "feature": FEATURE_ID,
                    "priceModel": "TIERED",
                    "reset": "EVERY_MONTH",
                    "usageAlerts": {"enabled": true, "thresholds": [75.0, 90.0], "thresholdType": "PERCENTAGE"},
                    "charges": [{
                        "chargePeriod": "MONTHLY",
                        "tiers": [{"upTo": 1000, "unitAmount": 0.0}, {"upTo": "inf", "unitAmount": 0.001}]
                    }]
                }]
            }
        ]})
    );
    assert_eq!(set.len(), 1);
    assert_eq!(set[0].id, "df0b9da9-58c3-4d77-9b62-3f6e4c2b1ad0");
}

#[test]
fn a_plans_entitlements_are_listed_added_changed_and_removed() {
    let server = Server::start(|request| match request.method.as_str() {
        "DELETE" => (204, None),
        "POST" => (201, Some(plan())),
        "PATCH" => (
            200,
            Some(json!({"details": {"value": 20000, "hasUnlimitedUsage": false}})),
        ),
        _ => (
            200,
            Some(
                json!({"count": 1, "next": null, "previous": null, "results": [{
                    "feature": feature(),
                    "details": {"value": 10000, "hasUnlimitedUsage": false, "reset": "EVERY_MONTH", "hardLimit": true}
                }]}),
            ),
        ),
    });
    let client = server.client();
    let plans = client.catalog().plans();

    let listed = run(plans.list_entitlements("pro-monthly").send()).unwrap();
    let request = only(
        &server,
        "GET",
        "/api/v1/catalog/plans/pro-monthly/features/",
    );
    assert_eq!(request.query, None);
    let entitlement = &listed.results[0];
    assert_eq!(entitlement.feature.identifier, "api-calls");
    assert_eq!(entitlement.details.value, Some(json!(10000)));
    assert_eq!(
        (
            entitlement.details.reset.as_deref(),
            entitlement.details.hard_limit
        ),
        (Some("EVERY_MONTH"), Some(true))
    );

    let plan = run(plans
        .add_entitlements(
            "pro-monthly",
            [PlanEntitlementInput::new(
                FEATURE_ID,
                EntitlementDetailsInput::new()
                    .value(10_000)
                    .has_unlimited_usage(false)
                    .reset(UsageReset::EveryMonth),
            )],
        )
        .send())
    .unwrap();
    let request = only(
        &server,
        "POST",
        "/api/v1/catalog/plans/pro-monthly/features/",
    );
    assert_eq!(
        request.body.unwrap(),
        json!({"planEntitlements": [{
            "feature": FEATURE_ID,
            "details": {"value": 10000.0, "hasUnlimitedUsage": false, "reset": "EVERY_MONTH"}
        }]})
    );
    assert_eq!(plan.identifier, "pro-monthly");

    let details = run(plans
        .update_entitlement(
            "pro-monthly",
            "api calls",
            EntitlementDetailsInput::new()
                .value(20_000)
                .has_unlimited_usage(false),
        )
        .send())
    .unwrap();
    let request = only(
        &server,
        "PATCH",
        "/api/v1/catalog/plans/pro-monthly/features/api%20calls/",
    );
    assert_eq!(
        request.body.unwrap(),
        json!({"details": {"value": 20000.0, "hasUnlimitedUsage": false}})
    );
    assert_eq!(details.value, Some(json!(20000)));

    run(plans.delete_entitlement("pro-monthly", "api calls").send()).unwrap();
    only(
        &server,
        "DELETE",
        "/api/v1/catalog/plans/pro-monthly/features/api%20calls/",
    );
}

/// The call failed validation on `field` with `value`, naming the operation.
#[track_caller]
fn assert_refused<T: std::fmt::Debug>(
    call: impl Future<Output = kelviq::Result<T>>,
    field: &str,
    value: &str,
) {
    match run(call) {
        Err(error) if error.kind() == ErrorKind::Validation => {
            assert!(
                error.to_string().starts_with("catalog."),
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
    let server = Server::start(|_| (500, None));
    let client = server.client();
    let catalog = client.catalog();
    let plans = catalog.plans();

    for id in ["", ".", ".."] {
        assert_refused(plans.retrieve(id).send(), "identifier", id);
        assert_refused(plans.delete(id).send(), "identifier", id);
        assert_refused(plans.publish(id).send(), "identifier", id);
        assert_refused(plans.discard_draft(id).send(), "identifier", id);
        assert_refused(plans.list_prices(id).send(), "identifier", id);
        assert_refused(plans.list_entitlements(id).send(), "identifier", id);
        assert_refused(plans.update(id).name("x").send(), "identifier", id);
        assert_refused(
            plans.delete_entitlement("pro-monthly", id).send(),
            "feature_id",
            id,
        );
        assert_refused(
            plans
                .update_entitlement("pro-monthly", id, EntitlementDetailsInput::new())
                .send(),
            "feature_id",
            id,
        );
    }
    for id in ["", "api-calls"] {
        assert_refused(catalog.features().retrieve(id).send(), "feature_id", id);
        assert_refused(catalog.features().delete(id).send(), "feature_id", id);
        assert_refused(catalog.products().retrieve(id).send(), "product_id", id);
    }
    assert_refused(
        catalog.features().create("", FeatureType::Boolean).send(),
        "name",
        "",
    );
    assert_refused(
        catalog
            .features()
            .create("Seats", FeatureType::Other("TIERED".into()))
            .send(),
        "featureType",
        "TIERED",
    );
    assert_refused(
        catalog.products().update(PRODUCT_ID).send(),
        "product update",
        "no field set",
    );
    assert_refused(
        plans.update("pro-monthly").send(),
        "plan update",
        "no field set",
    );
    assert_refused(
        plans.create("Pro", "not-a-uuid").send(),
        "product",
        "not-a-uuid",
    );
    assert_refused(
        plans
            .set_prices(
                "pro-monthly",
                [PriceInput::flat("dollars", PlanChargePeriod::Monthly, 1.0)],
            )
            .send(),
        "prices.currency",
        "dollars",
    );
    assert_refused(
        plans.add_entitlements("pro-monthly", []).send(),
        "planEntitlements",
        "[]",
    );
    assert_refused(
        plans
            .add_entitlements(
                "pro-monthly",
                [PlanEntitlementInput::new(
                    "api-calls",
                    EntitlementDetailsInput::new(),
                )],
            )
            .send(),
        "planEntitlements.feature",
        "api-calls",
    );
    assert_refused(plans.list().page(0).send(), "page", "0");
    assert!(server.take().is_empty(), "nothing may reach the server");
}

#[cfg(feature = "blocking")]
#[test]
fn the_blocking_client_walks_pages_and_reads_the_same_answers() {
    let server =
        Server::start(
            |request| match request.query_pairs().get("page").map(String::as_str) {
                Some("2") => (200, Some(page(vec![plan()], None))),
                _ if request.path == "/api/v1/catalog/plans/" => (
                    200,
                    Some(page(
                        vec![plan()],
                        Some("http://api.example/api/v1/catalog/plans/?page=2"),
                    )),
                ),
                _ => (200, Some(feature())),
            },
        );
    let client = server.blocking();

    let plans: Vec<_> = client
        .catalog()
        .plans()
        .list()
        .into_iter()
        .collect::<kelviq::Result<_>>()
        .unwrap();
    assert_eq!(plans.len(), 2);
    let pages: Vec<_> = server
        .take()
        .iter()
        .map(|r| (r.path.clone(), r.query.clone()))
        .collect();
    assert_eq!(
        pages,
        [
            (
                "/api/v1/catalog/plans/".to_owned(),
                Some("page=1".to_owned())
            ),
            (
                "/api/v1/catalog/plans/".to_owned(),
                Some("page=2".to_owned())
            ),
        ]
    );

    let answered = client
        .catalog()
        .features()
        .retrieve(FEATURE_ID)
        .send_with_response()
        .unwrap();
    assert_eq!(answered.raw().unwrap().status(), http::StatusCode::OK);
    assert_eq!(answered.value().identifier, "api-calls");
    only(
        &server,
        "GET",
        &format!("/api/v1/catalog/features/{FEATURE_ID}/"),
    );
}
