//! The whole documented lifecycle, through the async and the blocking client, against the
//! emulator; then every answer the emulator gave is checked against the document.

use kelviq::{Behaviour, CancellationType, ChargePeriod, ErrorKind, FeatureQuantity};
use kelviq_tests::{Emulator, ResponseSchemas};

/// The lifecycle, written once: `[.await]` makes it async, `[]` blocking.
macro_rules! lifecycle {
    ($client:expr, $server:expr, $customer:expr, [$($wait:tt)*]) => {{
        let c = $client;
        let server = $server;
        let customer: &str = $customer;

        // Customers.
        let created = c
            .customers()
            .create(customer)
            .email("new.customer@example.com")
            .name("John Doe")
            .metadata([("source", "sdk_import")])
            .send() $($wait)*
            .unwrap();
        assert_eq!(created.customer_id, customer);
        let updated = c.customers().update(customer).name("Johnathan Doe").send() $($wait)* .unwrap();
        assert_eq!(updated.name.as_deref(), Some("Johnathan Doe"));
        assert_eq!(updated.id, created.id);
        let duplicate = c.customers().create(customer).send() $($wait)* .unwrap_err();
        assert_eq!(duplicate.kind(), ErrorKind::BadRequest, "{duplicate:?}");

        // Nothing bought yet: no access, and a feature absent from the set is "no".
        assert!(!c.entitlements().has_access(customer, "premium-reporting").send() $($wait)* .unwrap());

        // Checkout, completed as if paid.
        let session = c
            .checkout()
            .create_session("plan-pro-monthly", ChargePeriod::Monthly, "https://kelviq.com/checkout/success")
            .customer_id(customer)
            .features([FeatureQuantity::new("seats", 7)])
            .send() $($wait)*
            .unwrap();
        let subscription = server.complete_checkout(&session.checkout_session_id).unwrap().subscription_id;
        // What a `checkout.completed` webhook handler does: the cached "no access" is over.
        c.invalidate_entitlements(customer);

        assert!(c.entitlements().has_access(customer, "premium-reporting").send() $($wait)* .unwrap());
        let all = c.entitlements().get_all_entitlements(customer).send() $($wait)* .unwrap();
        assert_eq!(all.feature("seats").unwrap().usage_limit, Some(7), "the checkout's quantity");

        // A hard meter: access until the limit, none at it.
        c.reporting().report_usage(99, customer, "api-usage", Behaviour::Set).send() $($wait)* .unwrap()
.sent()
.expect("delivered");
        assert!(c.entitlements().has_access(customer, "api-usage").send() $($wait)* .unwrap());
        c.reporting().report_usage(1, customer, "api-usage", Behaviour::Delta).send() $($wait)* .unwrap()
.sent()
.expect("delivered");
        assert!(!c.entitlements().has_access(customer, "api-usage").send() $($wait)* .unwrap());
        let meter = c.entitlements().get_entitlement(customer, "api-usage").send() $($wait)* .unwrap();
        let meter = meter.feature("api-usage").unwrap();
        assert_eq!((meter.current_usage, meter.remaining, meter.hard_limit), (Some(100), Some(0), true));

        // An event reported twice with one key counts once.
        for _ in 0..2 {
            c.reporting()
                .report_event(customer, "analytics_run")
                .idempotency_key(format!("{customer}-run-1"))
                .property("featureId", "advanced-analytics")
                .property("value", 2)
                .send() $($wait)*
                .unwrap()
.sent()
.expect("delivered");
        }
        assert_eq!(server.usage(customer)["advanced-analytics"], 2);

        // A soft meter past its limit still grants access.
        c.reporting().report_usage(5, customer, "advanced-analytics", Behaviour::Delta).send() $($wait)* .unwrap()
.sent()
.expect("delivered");
        assert!(c.entitlements().has_access(customer, "advanced-analytics").send() $($wait)* .unwrap());

        // A bigger plan lifts the hard limit.
        let moved = c
            .subscriptions()
            .update(subscription.as_str(), "premium-plan", ChargePeriod::Monthly)
            .send() $($wait)*
            .unwrap();
        assert_eq!(moved.subscription_id.to_string(), subscription);
        assert!(c.entitlements().has_access(customer, "api-usage").send() $($wait)* .unwrap());
        assert!(c.entitlements().has_access(customer, "api-calls-tier1").send() $($wait)* .unwrap());

        // Cancel at the period's end: access stays; cancel now: access ends.
        c.subscriptions()
            .cancel(subscription.as_str(), CancellationType::CurrentPeriodEnds)
            .send() $($wait)*
            .unwrap();
        assert!(c.entitlements().has_access(customer, "premium-reporting").send() $($wait)* .unwrap());
        c.subscriptions().cancel(subscription.as_str(), CancellationType::Immediate).send() $($wait)* .unwrap();
        assert!(!c.entitlements().has_access(customer, "premium-reporting").send() $($wait)* .unwrap());
        let again = c.subscriptions().cancel(subscription.as_str(), CancellationType::Immediate).send() $($wait)* .unwrap_err();
        assert_eq!(again.kind(), ErrorKind::BadRequest, "{again:?}");

        let unknown = c
            .subscriptions()
            .update("00000000-0000-0000-0000-000000000000", "premium-plan", ChargePeriod::Monthly)
            .send() $($wait)*
            .unwrap_err();
        assert_eq!(unknown.kind(), ErrorKind::NotFound, "{unknown:?}");
    }};
}

/// Every answer of the run validates against the document, and every operation was used.
fn assert_every_answer_matches_the_document(emulator: &Emulator) {
    let log = emulator.server.requests();
    let checked = ResponseSchemas::load().check_log(&log).unwrap();
    assert_eq!(checked, log.len(), "every request was answered and checked");
    let operations: std::collections::BTreeSet<_> =
        log.iter().filter_map(|r| r.operation.as_deref()).collect();
    assert_eq!(operations.len(), 8, "{operations:?}");
}

#[test]
fn the_documented_lifecycle_through_the_async_client() {
    let emulator = Emulator::start();
    let client = emulator.builder().build().unwrap();
    emulator.run(async { lifecycle!(&client, &emulator.server, "cust_async", [.await]) });
    assert_every_answer_matches_the_document(&emulator);
}

#[test]
fn the_documented_lifecycle_through_the_blocking_client() {
    let emulator = Emulator::start();
    let client = emulator.builder().build_blocking().unwrap();
    lifecycle!(&client, &emulator.server, "cust_blocking", []);
    assert_every_answer_matches_the_document(&emulator);
}

#[test]
fn the_validator_catches_an_answer_that_breaks_the_document() {
    let schemas = ResponseSchemas::load();
    let good = serde_json::json!({"customerId": "c", "entitlements": [{"featureId": "f", "hasAccess": true, "remaining": null}]});
    schemas.check("getEntitlements", 200, &good).unwrap();
    let missing = serde_json::json!({"customerId": "c", "entitlements": [{"featureId": "f"}]});
    assert!(schemas
        .check("getEntitlements", 200, &missing)
        .unwrap_err()
        .contains("hasAccess"));
    let bad_uuid = serde_json::json!({"id": "nope", "customerId": "c", "createdOn": "2025-06-04T06:03:30Z", "modifiedOn": "2025-06-04T06:03:30Z"});
    assert!(
        schemas.check("createCustomer", 201, &bad_uuid).is_err(),
        "formats are checked"
    );
    assert!(
        schemas
            .check("createCustomer", 418, &serde_json::json!({}))
            .is_err(),
        "undocumented status"
    );
}
