//! Every operation of the product docs is in `openapi/kelviq.yaml` exactly as
//! `shared/kelviq-wire.md` says it travels: method, path (trailing slash included), host,
//! query names, body field names with their casing, which of them are required, and enums.

use std::collections::BTreeSet;

use kelviq_tests::{openapi_document, resolve};
use serde_json::Value;

#[derive(Debug, PartialEq)]
enum Host {
    Api,
    Edge,
}

/// One row of the wire table. A name ending in `?` is optional.
struct WireOperation {
    operation_id: &'static str,
    tag: &'static str,
    method: &'static str,
    path: &'static str,
    host: Host,
    path_params: &'static [&'static str],
    query: &'static [&'static str],
    body: &'static [&'static str],
}

const WIRE: &[WireOperation] = &[
    WireOperation {
        operation_id: "createCustomer",
        tag: "customers",
        method: "post",
        path: "/api/v1/customers/",
        host: Host::Api,
        path_params: &[],
        query: &[],
        body: &[
            "customer_id",
            "name?",
            "email?",
            "metadata?",
            "billingAddress?",
        ],
    },
    WireOperation {
        operation_id: "updateCustomer",
        tag: "customers",
        method: "patch",
        path: "/api/v1/customers/{customerId}/",
        host: Host::Api,
        path_params: &["customerId"],
        query: &[],
        body: &["name?", "email?", "metadata?", "billingAddress?"],
    },
    WireOperation {
        operation_id: "createCheckoutSession",
        tag: "checkout",
        method: "post",
        path: "/api/v1/checkout/",
        host: Host::Api,
        path_params: &[],
        query: &[],
        body: &[
            "planIdentifier",
            "chargePeriod",
            "successUrl",
            "customerId?",
            "offeringId?",
            "pricingTableId?",
            "ruleId?",
            "features?",
            "ipAddress?",
            "trialPeriod?",
            "cancelUrl?",
            "plansEnabled?",
            "currencyCode?",
            "customAmount?",
            "taxBehavior?",
            "discountsEnabled?",
            "discountCode?",
            "lockEmail?",
            "defaultBillingCountry?",
            "metadata?",
        ],
    },
    WireOperation {
        operation_id: "getEntitlements",
        tag: "entitlements",
        method: "get",
        path: "/api/v1/entitlements",
        host: Host::Edge,
        path_params: &[],
        query: &["customer_id", "feature_id?"],
        body: &[],
    },
    WireOperation {
        operation_id: "reportUsage",
        tag: "reporting",
        method: "post",
        path: "/api/v1/report/usage/",
        host: Host::Api,
        path_params: &[],
        query: &[],
        body: &[
            "value",
            "customerId",
            "featureId",
            "behaviour",
            "resourceId?",
        ],
    },
    WireOperation {
        operation_id: "reportEvent",
        tag: "reporting",
        method: "post",
        path: "/api/v1/report/event/",
        host: Host::Api,
        path_params: &[],
        query: &[],
        body: &[
            "customerId",
            "eventName",
            "idempotencyKey",
            "timestamp",
            "properties?",
            "resourceId?",
        ],
    },
    WireOperation {
        operation_id: "updateSubscription",
        tag: "subscriptions",
        method: "post",
        path: "/api/v1/subscriptions/{subscriptionId}/update/",
        host: Host::Api,
        path_params: &["subscriptionId"],
        query: &[],
        body: &[
            "plan_identifier",
            "charge_period",
            "offering_id?",
            "pricing_table_id?",
            "rule_id?",
            "ipAddress?",
            "features?",
            "proration_behavior?",
            "trial_end?",
            "payment_behavior?",
        ],
    },
    WireOperation {
        operation_id: "cancelSubscription",
        tag: "subscriptions",
        method: "post",
        path: "/api/v1/subscriptions/{subscriptionId}/cancel/",
        host: Host::Api,
        path_params: &["subscriptionId"],
        query: &[],
        body: &[
            "cancellation_type",
            "cancellation_date?",
            "cancellation_feedback?",
            "cancellation_comment?",
        ],
    },
    // Beyond the seed (`shared/kelviq-wire.md`, "Beyond the seed", and the published
    // reference's additions).
    WireOperation {
        operation_id: "listCustomers",
        tag: "customers",
        method: "get",
        path: "/api/v1/customers/",
        host: Host::Api,
        path_params: &[],
        query: &["search?", "page?", "page_size?"],
        body: &[],
    },
    WireOperation {
        operation_id: "retrieveCustomer",
        tag: "customers",
        method: "get",
        path: "/api/v1/customers/{customerId}/",
        host: Host::Api,
        path_params: &["customerId"],
        query: &[],
        body: &[],
    },
    WireOperation {
        operation_id: "archiveCustomer",
        tag: "customers",
        method: "delete",
        path: "/api/v1/customers/{customerId}/",
        host: Host::Api,
        path_params: &["customerId"],
        query: &[],
        body: &[],
    },
    WireOperation {
        operation_id: "listSubscriptions",
        tag: "subscriptions",
        method: "get",
        path: "/api/v1/subscriptions/",
        host: Host::Api,
        path_params: &[],
        query: &[
            "customer_id?",
            "status?",
            "start_date_after?",
            "start_date_before?",
            "modified_on_after?",
            "modified_on_before?",
            "page?",
            "page_size?",
        ],
        body: &[],
    },
    WireOperation {
        operation_id: "createSubscription",
        tag: "subscriptions",
        method: "post",
        path: "/api/v1/subscriptions/create/",
        host: Host::Api,
        path_params: &[],
        query: &[],
        body: &[
            "plan_identifier",
            "charge_period",
            "customer_id",
            "success_url?",
            "features?",
            "ip_address?",
        ],
    },
    WireOperation {
        operation_id: "retrieveSubscription",
        tag: "subscriptions",
        method: "get",
        path: "/api/v1/subscriptions/{subscriptionId}/",
        host: Host::Api,
        path_params: &["subscriptionId"],
        query: &[],
        body: &[],
    },
    WireOperation {
        operation_id: "previewSubscriptionUpdate",
        tag: "subscriptions",
        method: "post",
        path: "/api/v1/subscriptions/{subscriptionId}/update/preview/",
        host: Host::Api,
        path_params: &["subscriptionId"],
        query: &[],
        body: &[
            "plan_identifier",
            "charge_period",
            "proration_behavior?",
            "features?",
            "ip_address?",
            "trial_end?",
        ],
    },
    WireOperation {
        operation_id: "createPortalSession",
        tag: "portal",
        method: "post",
        path: "/api/v1/portal/session/",
        host: Host::Api,
        path_params: &[],
        query: &[],
        body: &["customerId"],
    },
    WireOperation {
        operation_id: "activateLicense",
        tag: "licenses",
        method: "post",
        path: "/api/v1/license/activate/",
        host: Host::Api,
        path_params: &[],
        query: &[],
        body: &["license_key", "customer_id?", "instance_name?", "metadata?"],
    },
    WireOperation {
        operation_id: "deactivateLicense",
        tag: "licenses",
        method: "post",
        path: "/api/v1/license/deactivate/",
        host: Host::Api,
        path_params: &[],
        query: &[],
        body: &["license_key", "instance_id"],
    },
    WireOperation {
        operation_id: "validateLicense",
        tag: "licenses",
        method: "post",
        path: "/api/v1/license/validate/",
        host: Host::Api,
        path_params: &[],
        query: &[],
        body: &["license_key", "instance_id?"],
    },
    WireOperation {
        operation_id: "createCharge",
        tag: "charges",
        method: "post",
        path: "/api/v1/charges/",
        host: Host::Api,
        path_params: &[],
        query: &[],
        body: &[
            "plan_identifier",
            "charge_period",
            "customer_id",
            "features?",
            "currency_code?",
            "custom_amount?",
            "tax_behavior?",
            "ip_address?",
        ],
    },
    WireOperation {
        operation_id: "listRefunds",
        tag: "refunds",
        method: "get",
        path: "/api/v1/refunds/",
        host: Host::Api,
        path_params: &[],
        query: &[
            "search?",
            "status?",
            "start_date?",
            "end_date?",
            "page?",
            "page_size?",
        ],
        body: &[],
    },
    WireOperation {
        operation_id: "createRefund",
        tag: "refunds",
        method: "post",
        path: "/api/v1/refunds/",
        host: Host::Api,
        path_params: &[],
        query: &[],
        body: &[
            "order_id",
            "amount_units?",
            "amount?",
            "reason?",
            "internal_note?",
        ],
    },
    WireOperation {
        operation_id: "retrieveRefund",
        tag: "refunds",
        method: "get",
        path: "/api/v1/refunds/{refundId}/",
        host: Host::Api,
        path_params: &["refundId"],
        query: &[],
        body: &[],
    },
    WireOperation {
        operation_id: "listTransactions",
        tag: "transactions",
        method: "get",
        path: "/api/v1/transaction/",
        host: Host::Api,
        path_params: &[],
        query: &[
            "search?",
            "status?",
            "start_date?",
            "end_date?",
            "page?",
            "page_size?",
        ],
        body: &[],
    },
    WireOperation {
        operation_id: "listPaymentMethods",
        tag: "payment-methods",
        method: "get",
        path: "/api/v1/payment-methods/",
        host: Host::Api,
        path_params: &[],
        query: &["customer_id?", "customer_email?", "page?", "page_size?"],
        body: &[],
    },
];

const METHODS: &[&str] = &[
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// Splits `["a", "b?"]` into (all names, required names).
fn names(spec: &[&str]) -> (BTreeSet<String>, BTreeSet<String>) {
    let all = spec
        .iter()
        .map(|n| n.trim_end_matches('?').to_owned())
        .collect();
    let required = spec
        .iter()
        .filter(|n| !n.ends_with('?'))
        .map(|n| (*n).to_owned())
        .collect();
    (all, required)
}

fn string_set(value: Option<&Value>) -> BTreeSet<String> {
    value
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .map(|i| i.as_str().expect("a string").to_owned())
                .collect()
        })
        .unwrap_or_default()
}

fn operation<'a>(doc: &'a Value, wire: &WireOperation) -> (&'a Value, &'a Value) {
    let item = doc["paths"]
        .get(wire.path)
        .unwrap_or_else(|| panic!("{}: no path {}", wire.operation_id, wire.path));
    let op = item
        .get(wire.method)
        .unwrap_or_else(|| panic!("{}: no {} on {}", wire.operation_id, wire.method, wire.path));
    (item, op)
}

/// Parameters of an operation, path-level ones included, as (name, location, required).
fn parameters(doc: &Value, item: &Value, op: &Value) -> Vec<(String, String, bool)> {
    let mut params = Vec::new();
    for list in [item.get("parameters"), op.get("parameters")]
        .into_iter()
        .flatten()
    {
        for p in list.as_array().expect("parameters are a list") {
            let p = resolve(doc, p);
            params.push((
                p["name"].as_str().unwrap().to_owned(),
                p["in"].as_str().unwrap().to_owned(),
                p.get("required").and_then(Value::as_bool).unwrap_or(false),
            ));
        }
    }
    params
}

#[test]
fn every_documented_operation_travels_as_the_wire_table_says() {
    let doc = openapi_document();
    for wire in WIRE {
        let (item, op) = operation(&doc, wire);
        let id = wire.operation_id;
        assert_eq!(
            op["operationId"], id,
            "operationId on {} {}",
            wire.method, wire.path
        );
        assert_eq!(op["tags"], serde_json::json!([wire.tag]), "{id}: one tag");
        assert!(
            op["summary"].is_string() && op["description"].is_string(),
            "{id}: summary and description"
        );

        let edge = item.get("servers").map(|servers| {
            servers
                .as_array()
                .unwrap()
                .iter()
                .all(|s| s["url"].as_str().unwrap().starts_with("https://edge."))
        });
        let host = if edge == Some(true) {
            Host::Edge
        } else {
            Host::Api
        };
        assert_eq!(host, wire.host, "{id}: host");

        let params = parameters(&doc, item, op);
        let path_params: BTreeSet<_> = params
            .iter()
            .filter(|p| p.1 == "path")
            .map(|p| p.0.clone())
            .collect();
        let expected_path: BTreeSet<_> = wire.path_params.iter().map(|s| s.to_string()).collect();
        assert_eq!(path_params, expected_path, "{id}: path parameters");
        assert!(
            params.iter().filter(|p| p.1 == "path").all(|p| p.2),
            "{id}: path parameters are required"
        );

        let (query, query_required) = names(wire.query);
        let got_query: BTreeSet<_> = params
            .iter()
            .filter(|p| p.1 == "query")
            .map(|p| p.0.clone())
            .collect();
        let got_query_required: BTreeSet<_> = params
            .iter()
            .filter(|p| p.1 == "query" && p.2)
            .map(|p| p.0.clone())
            .collect();
        assert_eq!(got_query, query, "{id}: query names");
        assert_eq!(
            got_query_required, query_required,
            "{id}: required query names"
        );

        let (body, body_required) = names(wire.body);
        match op.get("requestBody") {
            None => assert!(body.is_empty(), "{id}: a body is expected"),
            Some(request_body) => {
                assert_eq!(request_body["required"], true, "{id}: the body is required");
                let content = request_body["content"].as_object().unwrap();
                assert_eq!(
                    content.keys().collect::<Vec<_>>(),
                    ["application/json"],
                    "{id}: JSON only"
                );
                let schema = resolve(&doc, &content["application/json"]["schema"]);
                let got: BTreeSet<_> = schema["properties"]
                    .as_object()
                    .unwrap()
                    .keys()
                    .cloned()
                    .collect();
                assert_eq!(got, body, "{id}: body field names");
                assert_eq!(
                    string_set(schema.get("required")),
                    body_required,
                    "{id}: required body fields"
                );
            }
        }

        for status in ["400", "401", "403", "429", "5XX"] {
            assert!(
                op["responses"].get(status).is_some(),
                "{id}: documents {status}"
            );
        }
    }
}

#[test]
fn the_document_has_no_operation_beyond_the_wire_table() {
    let doc = openapi_document();
    let mut ids = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            if METHODS.contains(&method.as_str()) {
                let id = op["operationId"].as_str().unwrap().to_owned();
                let wire = WIRE
                    .iter()
                    .find(|w| w.operation_id == id)
                    .unwrap_or_else(|| panic!("{method} {path} ({id}) is not in the wire table"));
                assert_eq!((wire.method, wire.path), (method.as_str(), path.as_str()));
                assert!(ids.insert(id), "operationIds are unique");
            }
        }
    }
    assert_eq!(ids.len(), WIRE.len());
}

#[test]
fn enums_hold_exactly_the_documented_values() {
    let doc = openapi_document();
    let schemas = &doc["components"]["schemas"];
    let expect = |name: &str, values: &[&str]| {
        let got = string_set(schemas[name].get("enum"));
        let want: BTreeSet<_> = values.iter().map(|s| s.to_string()).collect();
        assert_eq!(got, want, "enum {name}");
        assert_eq!(schemas[name]["type"], "string", "enum {name} is a string");
    };
    expect(
        "ChargePeriod",
        &[
            "ONE_TIME",
            "MONTHLY",
            "YEARLY",
            "WEEKLY",
            "DAILY",
            "THREE_MONTHS",
            "SIX_MONTHS",
            "TWENTY_EIGHT_DAYS",
        ],
    );
    expect("Behaviour", &["SET", "DELTA"]);
    expect(
        "CancellationType",
        &["IMMEDIATE", "CURRENT_PERIOD_ENDS", "SPECIFIC_DATE"],
    );
    expect(
        "ProrationBehavior",
        &["IMMEDIATE_CHARGE", "PRORATE_NEXT_INVOICE", "NO_PRORATION"],
    );
    expect("PaymentBehavior", &["activate_on_payment"]);
    expect("TaxBehavior", &["INCLUSIVE", "EXCLUSIVE"]);
    expect(
        "CancellationFeedback",
        &[
            "TOO_EXPENSIVE",
            "MISSING_FEATURES",
            "SWITCHED_SERVICE",
            "UNUSED",
            "CUSTOMER_SERVICE",
            "LOW_QUALITY",
            "TOO_COMPLEX",
            "OTHER",
        ],
    );
    expect(
        "RefundReason",
        &["DUPLICATE", "FRAUDULENT", "REQUESTED_BY_CUSTOMER", "OTHER"],
    );
    expect(
        "RefundStatus",
        &["PENDING", "PROCESSING", "SUCCEEDED", "FAILED", "CANCELED"],
    );
    expect("TransactionStatus", &["success", "failure", "pending"]);

    // What the service sends back stays open, so a new value never breaks a client.
    let feature_type = &schemas["Entitlement"]["properties"]["featureType"];
    assert_eq!(feature_type["type"], "string");
    assert!(
        feature_type.get("enum").is_none(),
        "featureType must stay an open string"
    );
}

#[test]
fn formats_and_patterns_are_where_the_service_uses_them() {
    let doc = openapi_document();
    let s = &doc["components"]["schemas"];
    assert_eq!(
        s["CreateCustomerRequest"]["properties"]["email"]["format"],
        "email"
    );
    assert_eq!(
        s["UpdateCustomerRequest"]["properties"]["email"]["format"],
        "email"
    );
    assert_eq!(s["UpdateCustomerRequest"]["minProperties"], 1);
    assert_eq!(s["Customer"]["properties"]["id"]["format"], "uuid");
    // Always present, null when unset: required and nullable.
    assert!(string_set(s["Customer"].get("required")).contains("email"));
    assert_eq!(s["Customer"]["properties"]["email"]["nullable"], true);
    // The error schema does not shadow TypeScript's own `Error`.
    assert!(s.get("Error").is_none() && s.get("ApiError").is_some());
    assert_eq!(
        s["Customer"]["properties"]["createdOn"]["format"],
        "date-time"
    );
    assert_eq!(
        s["CancelSubscriptionRequest"]["properties"]["cancellation_date"]["format"],
        "date"
    );
    let pattern = s["ReportEventRequest"]["properties"]["timestamp"]["pattern"]
        .as_str()
        .unwrap();
    assert_eq!(
        pattern,
        r"^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}$"
    );
    assert_eq!(s["FeatureQuantity"]["properties"]["quantity"]["minimum"], 1);
}

#[test]
fn servers_and_security_name_every_environment() {
    let doc = openapi_document();
    let urls = |v: &Value| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|s| s["url"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(
        urls(&doc["servers"]),
        [
            "https://api.kelviq.com",
            "https://sandboxapi.kelviq.com",
            "https://stagingapi.kelviq.com"
        ]
    );
    assert_eq!(
        urls(&doc["paths"]["/api/v1/entitlements"]["servers"]),
        [
            "https://edge.api.kelviq.com",
            "https://edge.sandboxapi.kelviq.com",
            "https://edge.stagingapi.kelviq.com"
        ]
    );
    assert_eq!(
        doc["components"]["securitySchemes"]["bearerAuth"]["scheme"],
        "bearer"
    );
    assert_eq!(doc["security"], serde_json::json!([{"bearerAuth": []}]));
    let rate_limited = &doc["components"]["responses"]["TooManyRequests"];
    assert!(rate_limited["headers"].get("Retry-After").is_some());
}
