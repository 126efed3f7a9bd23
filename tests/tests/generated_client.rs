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
