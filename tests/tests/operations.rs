//! Every operation beyond the seed, from both clients against the emulator: each sends
//! exactly the method, path, query and body of `shared/kelviq-wire.md` (and the published
//! reference), decodes into the SDK's types, and every answer validates against the
//! document.

use std::collections::BTreeMap;

use kelviq::model::BillingAddress;
use kelviq::{
    CancellationFeedback, CancellationType, ChargePeriod, FeatureQuantity, ProrationBehavior,
    RefundReason, RefundStatus, TaxBehavior, TransactionStatus,
};
use kelviq_mock::LoggedRequest;
use kelviq_tests::{Emulator, ResponseSchemas};
use serde_json::{json, Value};

/// The last request the emulator received for `operation`; there must be one.
fn last(emulator: &Emulator, operation: &str) -> LoggedRequest {
    emulator
        .server
        .requests()
        .into_iter()
        .rev()
        .find(|r| r.operation.as_deref() == Some(operation))
        .unwrap_or_else(|| panic!("no {operation} request"))
}

/// The request travelled as the wire table says.
#[track_caller]
fn assert_wire(
    request: &LoggedRequest,
    method: &str,
    path: &str,
    query: Option<&str>,
    body: Value,
) {
    assert_eq!(request.method, method, "{request:?}");
    assert_eq!(request.path, path, "{request:?}");
    assert_eq!(request.query.as_deref(), query, "{request:?}");
    assert_eq!(request.body, body, "{method} {path}");
    assert_eq!(
        request.headers.contains_key("content-type"),
        !body.is_null(),
        "a content type exactly with a body"
    );
}

fn query_map(request: &LoggedRequest) -> BTreeMap<String, String> {
    serde_urlencoded::from_str(request.query.as_deref().unwrap_or_default()).unwrap()
}

/// The whole tour of the new operations, on the async client (`[.await]`) or the blocking
/// one (`[]`). `$s` distinguishes the two runs' customers.
macro_rules! beyond_the_seed {
    ($c:expr, $e:expr, $s:literal, [$($wait:tt)*]) => {{
        let c = $c;
        let e: &Emulator = $e;
        let customer = concat!("buyer-", $s);

        // Customers: create with a billing address, retrieve, list, archive.
        let created = c
            .customers()
            .create(customer)
            .email("buyer@example.com")
            .billing_address(BillingAddress::default().country("IN").line1("1 MG Road").postal_code("560001"))
            .send() $($wait)*
            .unwrap();
        assert_wire(
            &last(e, "createCustomer"),
            "POST",
            "/api/v1/customers/",
            None,
            json!({"customer_id": customer, "email": "buyer@example.com",
                   "billingAddress": {"country": "IN", "line1": "1 MG Road", "postalCode": "560001"}}),
        );
        assert_eq!(created.billing_address.unwrap().postal_code.as_deref(), Some("560001"));

        let read = c.customers().retrieve(customer).send() $($wait)* .unwrap();
        assert_wire(&last(e, "retrieveCustomer"), "GET", &format!("/api/v1/customers/{customer}/"), None, Value::Null);
        assert_eq!(read.email.as_deref(), Some("buyer@example.com"));

        let page = c.customers().list().page_size(5).search("buyer").send() $($wait)* .unwrap();
        let request = last(e, "listCustomers");
        assert_eq!(
            query_map(&request),
            BTreeMap::from([("page_size".into(), "5".into()), ("search".into(), "buyer".into())])
        );
        assert!(page.results.iter().any(|c| c.customer_id == customer));

        // Checkout with every further field, then the purchase of a plan with a license.
        let session = c
            .checkout()
            .create_session("pro-license", ChargePeriod::Yearly, "https://example.com/ok")
            .customer_id(customer)
            .trial_period(7)
            .cancel_url("https://example.com/back")
            .plans_enabled("pro-license")
            .custom_amount(99.5)
            .tax_behavior(TaxBehavior::Exclusive)
            .currency_code("USD")
            .discounts_enabled(false)
            .discount_code("WELCOME")
            .lock_email(true)
            .default_billing_country("IN")
            .metadata([("orderRef", json!("A-1042")), ("seats", json!(3))])
            .send() $($wait)*
            .unwrap();
        assert_wire(
            &last(e, "createCheckoutSession"),
            "POST",
            "/api/v1/checkout/",
            None,
            json!({"planIdentifier": "pro-license", "chargePeriod": "YEARLY",
                   "successUrl": "https://example.com/ok", "customerId": customer,
                   "trialPeriod": 7, "cancelUrl": "https://example.com/back",
                   "plansEnabled": "pro-license", "customAmount": 99.5, "taxBehavior": "EXCLUSIVE",
                   "currencyCode": "USD", "discountsEnabled": false, "discountCode": "WELCOME",
                   "lockEmail": true, "defaultBillingCountry": "IN",
                   "metadata": {"orderRef": "A-1042", "seats": 3}}),
        );
        let bought = e.server.complete_checkout(&session.checkout_session_id).unwrap();
        let subscription = bought.subscription_id;

        // Subscriptions: retrieve, list with filters, preview, create directly.
        let found = c.subscriptions().retrieve(subscription.as_str()).send() $($wait)* .unwrap();
        assert_wire(&last(e, "retrieveSubscription"), "GET", &format!("/api/v1/subscriptions/{subscription}/"), None, Value::Null);
        assert_eq!(found.customer_id.as_deref(), Some(customer));
        assert_eq!(found.licenses.len(), 1, "the plan issues a license");

        let today = chrono::Utc::now().date_naive();
        let listed = c
            .subscriptions()
            .list()
            .customer_id(customer)
            .status(["active", "trialing"])
            .start_date_after(today.pred_opt().unwrap())
            .start_date_before(today)
            .modified_on_after("2020-01-01T00:00:00Z")
            .page(1)
            .page_size(10)
            .send() $($wait)*
            .unwrap();
        let request = last(e, "listSubscriptions");
        let query = query_map(&request);
        assert_eq!(query["customer_id"], customer);
        assert_eq!(query["status"], "active,trialing");
        assert_eq!(query["start_date_before"], today.to_string());
        assert_eq!(query["modified_on_after"], "2020-01-01T00:00:00Z");
        assert_eq!((query["page"].as_str(), query["page_size"].as_str()), ("1", "10"));
        assert_eq!(listed.count, 1);

        let preview = c
            .subscriptions()
            .preview_update(subscription.as_str(), "premium-plan", ChargePeriod::Monthly)
            .proration_behavior(ProrationBehavior::ImmediateCharge)
            .features([FeatureQuantity::new("seats", 12)])
            .ip_address("103.154.35.20")
            .trial_end("now")
            .send() $($wait)*
            .unwrap();
        assert_wire(
            &last(e, "previewSubscriptionUpdate"),
            "POST",
            &format!("/api/v1/subscriptions/{subscription}/update/preview/"),
            None,
            json!({"plan_identifier": "premium-plan", "charge_period": "MONTHLY",
                   "proration_behavior": "IMMEDIATE_CHARGE", "features": [{"identifier": "seats", "quantity": 12}],
                   "ip_address": "103.154.35.20", "trial_end": "now"}),
        );
        assert_eq!(preview.recurring_amount_units, Some(9_900));

        let direct = c
            .subscriptions()
            .create(customer, "plan-pro-monthly", ChargePeriod::Monthly)
            .success_url("https://example.com/ok")
            .features([FeatureQuantity::new("seats", 2)])
            .ip_address("103.154.35.20")
            .send() $($wait)*
            .unwrap();
        assert_wire(
            &last(e, "createSubscription"),
            "POST",
            "/api/v1/subscriptions/create/",
            None,
            json!({"plan_identifier": "plan-pro-monthly", "charge_period": "MONTHLY", "customer_id": customer,
                   "success_url": "https://example.com/ok", "features": [{"identifier": "seats", "quantity": 2}],
                   "ip_address": "103.154.35.20"}),
        );
        assert!(c.entitlements().has_access(customer, "premium-reporting").send() $($wait)* .unwrap());

        let cancelled = c
            .subscriptions()
            .cancel(direct.id.as_str(), CancellationType::Immediate)
            .feedback(CancellationFeedback::TooExpensive)
            .comment("Cheaper elsewhere")
            .send() $($wait)*
            .unwrap();
        assert_wire(
            &last(e, "cancelSubscription"),
            "POST",
            &format!("/api/v1/subscriptions/{}/cancel/", direct.id),
            None,
            json!({"cancellation_type": "IMMEDIATE", "cancellation_feedback": "TOO_EXPENSIVE",
                   "cancellation_comment": "Cheaper elsewhere"}),
        );
        assert!(!cancelled.message.is_empty());

        // The portal.
        let portal = c.portal().create_session(customer).send() $($wait)* .unwrap();
        assert_wire(&last(e, "createPortalSession"), "POST", "/api/v1/portal/session/", None, json!({"customerId": customer}));
        assert!(portal.signed_url().contains("?token=cpt-"));

        // Licenses: the key the purchase issued.
        let key = e.server.with_tenant(Some("sk_test_e2e"), |_, t| t.license_keys_of(customer))[0].clone();
        let activation = c
            .licenses()
            .activate(key.as_str())
            .customer_id(customer)
            .instance_name("Geo's Workstation")
            .metadata([("os", "macOS")])
            .send() $($wait)*
            .unwrap();
        assert_wire(
            &last(e, "activateLicense"),
            "POST",
            "/api/v1/license/activate/",
            None,
            json!({"license_key": key, "customer_id": customer, "instance_name": "Geo's Workstation",
                   "metadata": {"os": "macOS"}}),
        );
        assert_eq!(activation.license.activation_usage, 1);
        let valid = c.licenses().validate(key.as_str()).instance_id(activation.instance_id.as_str()).send() $($wait)* .unwrap();
        assert_wire(
            &last(e, "validateLicense"),
            "POST",
            "/api/v1/license/validate/",
            None,
            json!({"license_key": key, "instance_id": activation.instance_id}),
        );
        assert!(valid.valid);
        let unknown = c.licenses().validate("LIC-NOPE").send() $($wait)* .unwrap();
        assert_eq!((unknown.valid, unknown.code.as_str()), (false, "INVALID_KEY"));
        c.licenses().deactivate(key.as_str(), activation.instance_id.as_str()).send() $($wait)* .unwrap();
        assert_wire(
            &last(e, "deactivateLicense"),
            "POST",
            "/api/v1/license/deactivate/",
            None,
            json!({"license_key": key, "instance_id": activation.instance_id}),
        );

        // A one-time charge.
        let charge = c
            .charges()
            .create(customer, "lifetime-pack")
            .ip_address("103.154.35.20")
            .custom_amount(12.5)
            .tax_behavior(TaxBehavior::Inclusive)
            .currency_code("usd")
            .send() $($wait)*
            .unwrap();
        assert_wire(
            &last(e, "createCharge"),
            "POST",
            "/api/v1/charges/",
            None,
            json!({"plan_identifier": "lifetime-pack", "charge_period": "ONE_TIME", "customer_id": customer,
                   "ip_address": "103.154.35.20", "custom_amount": 12.5, "tax_behavior": "INCLUSIVE",
                   "currency_code": "usd"}),
        );
        assert_eq!(charge.billing_type, "ONE_TIME");

        // Refunds of the checkout's order: part, then what is left; never more.
        let orders = e.server.with_tenant(Some("sk_test_e2e"), |_, t| t.orders_of(customer));
        let order = orders[0]["id"].as_str().unwrap().to_owned();
        let paid = orders[0]["amountUnits"].as_i64().unwrap();
        let part = c
            .refunds()
            .create(order.as_str())
            .amount_units(500)
            .reason(RefundReason::RequestedByCustomer)
            .internal_note("goodwill")
            .send() $($wait)*
            .unwrap();
        assert_wire(
            &last(e, "createRefund"),
            "POST",
            "/api/v1/refunds/",
            None,
            json!({"order_id": order, "amount_units": 500, "reason": "REQUESTED_BY_CUSTOMER", "internal_note": "goodwill"}),
        );
        assert_eq!(part.amount_units, 500);
        let rest = c.refunds().create(order.as_str()).send() $($wait)* .unwrap();
        assert_eq!(rest.amount_units, paid - 500, "all that was left");
        let too_much = c.refunds().create(order.as_str()).amount_units(1).send() $($wait)* .unwrap_err();
        assert_eq!(too_much.kind(), kelviq::ErrorKind::BadRequest, "{too_much:?}");

        let again = c.refunds().retrieve(part.id.as_str()).send() $($wait)* .unwrap();
        assert_wire(&last(e, "retrieveRefund"), "GET", &format!("/api/v1/refunds/{}/", part.id), None, Value::Null);
        assert_eq!(again.id, part.id);
        let refunds = c
            .refunds()
            .list()
            .status(RefundStatus::Succeeded)
            .start_date(today)
            .end_date("2099-12-31")
            .search(order.as_str())
            .send() $($wait)*
            .unwrap();
        let query = query_map(&last(e, "listRefunds"));
        assert_eq!(query["status"], "SUCCEEDED");
        assert_eq!(query["end_date"], "2099-12-31");
        assert_eq!(query["search"], order);
        assert_eq!(refunds.count, 2);

        // Transactions and payment methods.
        let transactions = c
            .transactions()
            .list()
            .status(TransactionStatus::Success)
            .page_size(50)
            .send() $($wait)*
            .unwrap();
        let request = last(e, "listTransactions");
        assert_eq!(request.path, "/api/v1/transaction/");
        assert_eq!(query_map(&request)["status"], "success");
        assert!(transactions.results.iter().any(|t| t.transaction_type.as_deref() == Some("REFUND")));

        let methods = c
            .payment_methods()
            .list()
            .customer_id(customer)
            .customer_email("buyer@example.com")
            .send() $($wait)*
            .unwrap();
        let query = query_map(&last(e, "listPaymentMethods"));
        assert_eq!((query["customer_id"].as_str(), query["customer_email"].as_str()), (customer, "buyer@example.com"));
        assert_eq!(methods.results.len(), 1);
        assert_eq!(methods.results[0].customer_id.as_deref(), Some(customer));

        // Archiving takes the customer out of reads and lists.
        let archived = c.customers().archive(customer).send() $($wait)* .unwrap();
        assert_wire(&last(e, "archiveCustomer"), "DELETE", &format!("/api/v1/customers/{customer}/"), None, Value::Null);
        assert!(!archived.message.is_empty());
        let gone = c.customers().retrieve(customer).send() $($wait)* .unwrap_err();
        assert_eq!(gone.kind(), kelviq::ErrorKind::NotFound);
    }};
}

fn assert_every_answer_matches_the_document(emulator: &Emulator) {
    let log = emulator.server.requests();
    let checked = ResponseSchemas::load().check_log(&log).unwrap();
    assert_eq!(checked, log.len(), "every request was answered and checked");
}

#[test]
fn every_new_operation_from_the_async_client() {
    let emulator = Emulator::start();
    let client = emulator.builder().build().unwrap();
    emulator.run(async { beyond_the_seed!(&client, &emulator, "async", [.await]) });
    assert_every_answer_matches_the_document(&emulator);
}

#[test]
fn every_new_operation_from_the_blocking_client() {
    let emulator = Emulator::start();
    let client = emulator.builder().build_blocking().unwrap();
    beyond_the_seed!(&client, &emulator, "blocking", []);
    assert_every_answer_matches_the_document(&emulator);
}
