//! Bad input is refused before anything is sent, with an error naming the field, the value
//! and what was expected; identifiers of any content travel as one path segment.

mod common;

use chrono::NaiveDate;
use common::Harness;
use kelviq::{Behaviour, CancellationType, ChargePeriod, ErrorKind, FeatureQuantity};

/// The call failed validation on `field`, and the emulator received nothing.
#[track_caller]
fn assert_refused<T: std::fmt::Debug>(
    h: &Harness,
    result: kelviq::Result<T>,
    field: &str,
    value: &str,
) {
    match result {
        Err(outer) if outer.kind() == ErrorKind::Validation => {
            assert!(
                outer.operation().is_some()
                    && outer.to_string().starts_with(outer.operation().unwrap()),
                "the text names the operation: {outer}"
            );
            let error = outer.validation().expect("the broken rule").clone();
            assert_eq!(error.field(), field, "{error}");
            assert_eq!(error.value(), value, "{error}");
            assert!(!error.expected().is_empty());
            let text = error.to_string();
            assert!(
                text.contains(field) && text.contains(&format!("{value:?}")),
                "{text}"
            );
        }
        other => panic!("expected a validation error on {field}, got {other:?}"),
    }
    assert!(h.take_requests().is_empty(), "nothing may reach the server");
}

#[test]
fn empty_identifiers_and_dot_segments_are_refused() {
    let h = Harness::new();
    let c = &h.blocking;
    for id in ["", ".", ".."] {
        assert_refused(&h, c.customers().create(id).send(), "customer_id", id);
        assert_refused(
            &h,
            c.customers().update(id).name("x").send(),
            "customer_id",
            id,
        );
        assert_refused(
            &h,
            c.subscriptions()
                .cancel(id, CancellationType::Immediate)
                .send(),
            "subscription_id",
            id,
        );
        assert_refused(
            &h,
            c.subscriptions()
                .update(id, "premium-plan", ChargePeriod::Monthly)
                .send(),
            "subscription_id",
            id,
        );
    }
    assert_refused(
        &h,
        c.entitlements().has_access("", "seats").send(),
        "customer_id",
        "",
    );
    assert_refused(
        &h,
        c.entitlements().has_access("cust", "").send(),
        "feature_id",
        "",
    );
    assert_refused(
        &h,
        c.entitlements().get_all_entitlements("").send(),
        "customer_id",
        "",
    );
    assert_refused(
        &h,
        c.reporting()
            .report_usage(1, "", "seats", Behaviour::Set)
            .send(),
        "customer_id",
        "",
    );
    assert_refused(
        &h,
        c.reporting()
            .report_usage(1, "cust", "", Behaviour::Set)
            .send(),
        "feature_id",
        "",
    );
    assert_refused(
        &h,
        c.reporting().report_event("cust", "").send(),
        "event_name",
        "",
    );
    assert_refused(
        &h,
        c.reporting().report_event("", "login").send(),
        "customer_id",
        "",
    );
    assert_refused(
        &h,
        c.reporting()
            .report_event("cust", "login")
            .idempotency_key("")
            .send(),
        "idempotency_key",
        "",
    );
    assert_refused(
        &h,
        c.checkout()
            .create_session("", ChargePeriod::Monthly, "https://x.example")
            .send(),
        "plan_identifier",
        "",
    );
}

#[test]
fn malformed_email_timestamp_url_uuid_and_ip_are_refused() {
    let h = Harness::new();
    let c = &h.blocking;
    for email in [
        "not-an-email",
        "a@b",
        "two@@example.com",
        "sp ace@example.com",
    ] {
        assert_refused(
            &h,
            c.customers().create("cust").email(email).send(),
            "email",
            email,
        );
        assert_refused(
            &h,
            c.customers().update("cust").email(email).send(),
            "email",
            email,
        );
    }
    for timestamp in [
        "2025-05-22T07:53:55.747959",
        "2025-05-22",
        "2025-13-22 07:53:55.747959",
        "yesterday",
    ] {
        assert_refused(
            &h,
            c.reporting()
                .report_event("cust", "login")
                .timestamp(timestamp)
                .send(),
            "timestamp",
            timestamp,
        );
    }
    assert_refused(
        &h,
        c.checkout()
            .create_session("plan-pro-monthly", ChargePeriod::Monthly, "/relative")
            .send(),
        "success_url",
        "/relative",
    );
    assert_refused(
        &h,
        c.checkout()
            .create_session(
                "plan-pro-monthly",
                ChargePeriod::Monthly,
                "https://x.example",
            )
            .offering_id("offer_abc")
            .send(),
        "offering_id",
        "offer_abc",
    );
    assert_refused(
        &h,
        c.checkout()
            .create_session(
                "plan-pro-monthly",
                ChargePeriod::Monthly,
                "https://x.example",
            )
            .ip_address("103.154.35")
            .send(),
        "ip_address",
        "103.154.35",
    );
    assert_refused(
        &h,
        c.subscriptions()
            .update("sub", "premium-plan", ChargePeriod::Monthly)
            .trial_end("2001-01-01T00:00:00Z")
            .send(),
        "trial_end",
        "2001-01-01T00:00:00Z",
    );
    assert_refused(
        &h,
        c.reporting()
            .report_event("cust", "login")
            .property("nested", serde_json::json!({"a": 1}))
            .send(),
        "properties",
        r#"nested: {"a":1}"#,
    );
}

#[test]
fn cancellation_dates_go_with_specific_date_only() {
    let h = Harness::new();
    let c = &h.blocking;
    assert_refused(
        &h,
        c.subscriptions()
            .cancel("sub", CancellationType::SpecificDate)
            .send(),
        "cancellation_date",
        "none",
    );
    let date = NaiveDate::from_ymd_opt(2030, 12, 31).unwrap();
    for other in [
        CancellationType::Immediate,
        CancellationType::CurrentPeriodEnds,
    ] {
        assert_refused(
            &h,
            c.subscriptions()
                .cancel("sub", other)
                .cancellation_date(date)
                .send(),
            "cancellation_date",
            "2030-12-31",
        );
    }
}

#[test]
fn feature_quantities_must_be_positive() {
    let h = Harness::new();
    let c = &h.blocking;
    for quantity in [0, -3] {
        let value = format!("{quantity} (feature \"seats\")");
        assert_refused(
            &h,
            c.checkout()
                .create_session(
                    "plan-pro-monthly",
                    ChargePeriod::Monthly,
                    "https://x.example",
                )
                .features([FeatureQuantity::new("seats", quantity)])
                .send(),
            "features.quantity",
            &value,
        );
        assert_refused(
            &h,
            c.subscriptions()
                .update("sub", "premium-plan", ChargePeriod::Monthly)
                .features([("seats", quantity)])
                .send(),
            "features.quantity",
            &value,
        );
    }
    assert_refused(
        &h,
        c.subscriptions()
            .update("sub", "premium-plan", ChargePeriod::Monthly)
            .features([("", 2)])
            .send(),
        "features.identifier",
        "",
    );
}

#[test]
fn an_update_with_nothing_to_change_is_refused() {
    let h = Harness::new();
    assert_refused(
        &h,
        h.blocking.customers().update("cust").send(),
        "customer update",
        "no field set",
    );
    let empty: [(&str, &str); 0] = [];
    assert_refused(
        &h,
        h.blocking.customers().update("cust").metadata(empty).send(),
        "customer update",
        "no field set",
    );
}

#[test]
fn enums_parse_documented_spellings_in_any_case_and_list_the_rest() {
    assert_eq!("delta".parse::<Behaviour>().unwrap(), Behaviour::Delta);
    assert_eq!(
        "Six_Months".parse::<ChargePeriod>().unwrap(),
        ChargePeriod::SixMonths
    );
    assert_eq!(
        "current_period_ends".parse::<CancellationType>().unwrap(),
        CancellationType::CurrentPeriodEnds
    );
    let error = "sometimes".parse::<CancellationType>().unwrap_err();
    assert_eq!(error.field(), "cancellation_type");
    assert_eq!(
        error.expected(),
        "one of IMMEDIATE, CURRENT_PERIOD_ENDS, SPECIFIC_DATE"
    );
    let error = "ADD".parse::<Behaviour>().unwrap_err();
    assert_eq!(
        error.to_string(),
        r#"invalid behaviour "ADD": expected one of SET, DELTA"#
    );
    let error = "LATER".parse::<kelviq::ProrationBehavior>().unwrap_err();
    assert!(error
        .expected()
        .contains("IMMEDIATE_CHARGE, PRORATE_NEXT_INVOICE, NO_PRORATION"));
}

#[test]
fn identifiers_travel_as_one_percent_encoded_segment_and_arrive_intact() {
    let h = Harness::new();
    let awkward = [
        "a/b",
        "what?x=1",
        "frag#ment",
        "100%",
        "%2e%2e",
        "with space",
        "ünïcødé/名前",
        "../up",
        "a.b",
        "\\",
        ".\\x",
        "..\\x",
        "nobody\\..\\victim",
        "a|b^c[d]{e}",
    ];
    for id in awkward {
        let created = h.blocking.customers().create(id).send().unwrap();
        assert_eq!(created.customer_id, id);
        h.server.clear_requests();

        let updated = h
            .blocking
            .customers()
            .update(id)
            .name("renamed")
            .send()
            .unwrap();
        assert_eq!(
            updated.customer_id, id,
            "the server decoded the segment back to {id:?}"
        );
        let requests = h.take_requests();
        let path = &requests[0].path;
        let segment = path
            .strip_prefix("/api/v1/customers/")
            .and_then(|rest| rest.strip_suffix('/'))
            .unwrap_or_else(|| panic!("{path}"));
        assert!(
            !segment.contains(['/', '?', '#', ' ']),
            "one segment: {path}"
        );
        assert!(segment.is_ascii(), "percent-encoded: {path}");
        assert!(
            segment
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-._~%".contains(&b)),
            "only unreserved bytes and escapes: {path}"
        );
        assert!(
            requests[0].query.is_none(),
            "nothing leaked into the query: {path}"
        );
    }

    // Same for subscriptions: an unknown, awkward id reaches the server as itself.
    let error = h
        .blocking
        .subscriptions()
        .cancel("x/../../customers/", CancellationType::Immediate)
        .send()
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::NotFound, "{error:?}");
    let requests = h.take_requests();
    assert_eq!(requests.len(), 1);
    assert!(
        requests[0]
            .path
            .starts_with("/api/v1/subscriptions/x%2F..%2F..%2Fcustomers%2F/cancel/"),
        "{}",
        requests[0].path
    );
}

#[test]
fn a_backslash_path_cannot_reach_another_customer() {
    let h = Harness::new();
    h.blocking
        .customers()
        .create("victim")
        .name("original")
        .send()
        .unwrap();
    h.server.clear_requests();
    // URL parsers read `\` as `/` and resolve `..`: unencoded, this would update "victim".
    let error = h
        .blocking
        .customers()
        .update("nobody\\..\\victim")
        .name("hijacked")
        .send()
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::NotFound, "{error:?}");
    let requests = h.take_requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].path, "/api/v1/customers/nobody%5C..%5Cvictim/");
    let error = h
        .blocking
        .subscriptions()
        .cancel("x\\..\\..\\customers\\victim", CancellationType::Immediate)
        .send()
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::NotFound, "{error:?}");
    let still = h
        .blocking
        .customers()
        .update("victim")
        .email("v@example.com")
        .send()
        .unwrap();
    assert_eq!(still.name.as_deref(), Some("original"), "untouched");
}

/// The document's patterns for currencies and countries are checked by the crate itself (the
/// generated client is built without them), naming the field.
#[test]
fn currency_and_country_codes_are_checked_by_shape() {
    let h = Harness::new();
    let c = &h.blocking;
    for bad in ["US", "USDT", "U$D", "", "ÜSD"] {
        assert_refused(
            &h,
            c.checkout()
                .create_session("plan", ChargePeriod::OneTime, "https://example.com/ok")
                .currency_code(bad)
                .send(),
            "currency_code",
            bad,
        );
        assert_refused(
            &h,
            c.charges().create("cust", "plan").currency_code(bad).send(),
            "currency_code",
            bad,
        );
    }
    for bad in ["in", "IND", "I", "", "I1"] {
        assert_refused(
            &h,
            c.checkout()
                .create_session("plan", ChargePeriod::OneTime, "https://example.com/ok")
                .default_billing_country(bad)
                .send(),
            "default_billing_country",
            bad,
        );
    }
    // Well-formed codes pass the check (lower-case currencies too, as the document allows).
    c.checkout()
        .create_session("plan", ChargePeriod::OneTime, "https://example.com/ok")
        .currency_code("usd")
        .default_billing_country("IN")
        .send()
        .ok();
    assert_eq!(
        h.take_requests().len(),
        1,
        "the well-formed request was sent"
    );
}

/// The billing address's country has the document's `^[A-Z]{2}$` too: since the generated
/// client is built without patterns, the crate must check it itself, on create and update.
#[test]
fn a_billing_address_country_is_checked_by_shape() {
    let h = Harness::new();
    let c = &h.blocking;
    for bad in ["in", "IND", "I", "", "I1"] {
        let address = kelviq::model::BillingAddress::default().country(bad);
        assert_refused(
            &h,
            c.customers()
                .create("cust")
                .billing_address(address.clone())
                .send(),
            "billing_address.country",
            bad,
        );
        assert_refused(
            &h,
            c.customers().update("cust").billing_address(address).send(),
            "billing_address.country",
            bad,
        );
    }
}

/// An event's timestamp is written by the crate in the document's
/// `^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}$`; an instant whose year
/// has no four-digit form cannot be written that way and is refused before sending.
#[test]
fn an_event_timestamp_outside_four_digit_years_is_refused() {
    let h = Harness::new();
    let c = &h.blocking;
    for (year, shown) in [
        (10000, "+10000-01-01 00:00:00.000000"),
        (-1, "-0001-01-01 00:00:00.000000"),
    ] {
        let at = NaiveDate::from_ymd_opt(year, 1, 1)
            .unwrap()
            .and_hms_opt(0, 0, 0)
            .unwrap()
            .and_utc();
        assert_refused(
            &h,
            c.reporting()
                .report_event("cust", "login")
                .timestamp(at)
                .send(),
            "timestamp",
            shown,
        );
    }
}
