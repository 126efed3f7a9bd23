//! Every operation's `send()` future owns what it needs: it can be handed to `tokio::spawn`
//! after the client handle it came from is gone, and it completes against the emulator.
//! That this file compiles is half the test.

mod common;

use common::{fast_retries, API_KEY};
use kelviq::{Behaviour, CancellationType, ChargePeriod, Kelviq};
use kelviq_mock::MockServer;

#[tokio::test]
async fn every_operation_can_be_spawned_after_its_client_was_dropped() {
    let server = MockServer::start().await.unwrap();
    let client = Kelviq::builder(API_KEY)
        .base_url(server.url())
        .retry_policy(fast_retries())
        .build()
        .unwrap();
    client.customers().create("cust").send().await.unwrap();
    let session = client
        .checkout()
        .create_session(
            "plan-pro-monthly",
            ChargePeriod::Monthly,
            "https://example.com/ok",
        )
        .customer_id("cust")
        .send()
        .await
        .unwrap();
    let subscription = server
        .complete_checkout(&session.checkout_session_id)
        .unwrap()
        .subscription_id;

    let customer = String::from("cust");
    let create = client.customers().create("cust-2").send();
    let update = client
        .customers()
        .update(customer.clone())
        .name("spawned")
        .send();
    let checkout = client
        .checkout()
        .create_session(
            "plan-pro-monthly",
            ChargePeriod::Monthly,
            "https://example.com/ok",
        )
        .customer_id("cust-2")
        .send();
    // Borrowed identifiers: the future still owns what it needs.
    let has_access = client
        .entitlements()
        .has_access(customer.as_str(), "premium-reporting")
        .send();
    let check = client
        .entitlements()
        .check(customer.as_str(), "premium-reporting")
        .send();
    let one = client
        .entitlements()
        .get_entitlement(customer.as_str(), "api-usage")
        .send();
    let all = client
        .entitlements()
        .get_all_entitlements(customer.as_str())
        .send();
    let usage = client
        .reporting()
        .report_usage(2, "cust", "api-usage", Behaviour::Delta)
        .send();
    let event = client.reporting().report_event("cust", "spawned").send();
    let upgrade = client
        .subscriptions()
        .update(subscription.as_str(), "premium-plan", ChargePeriod::Monthly)
        .send();
    drop(customer);
    drop(client);

    let create = tokio::spawn(create);
    let update = tokio::spawn(update);
    let checkout = tokio::spawn(checkout);
    let has_access = tokio::spawn(has_access);
    let check = tokio::spawn(check);
    let one = tokio::spawn(one);
    let all = tokio::spawn(all);
    let usage = tokio::spawn(usage);
    let event = tokio::spawn(event);
    assert_eq!(create.await.unwrap().unwrap().customer_id, "cust-2");
    assert_eq!(
        update.await.unwrap().unwrap().name.as_deref(),
        Some("spawned")
    );
    assert!(checkout
        .await
        .unwrap()
        .unwrap()
        .checkout_url
        .starts_with("http"));
    assert!(has_access.await.unwrap().unwrap());
    assert!(check.await.unwrap().unwrap().allowed);
    assert_eq!(one.await.unwrap().unwrap().customer_id(), "cust");
    assert!(!all.await.unwrap().unwrap().entitlements().is_empty());
    assert!(usage.await.unwrap().unwrap().sent().is_some());
    assert!(event.await.unwrap().unwrap().sent().is_some());
    // The upgrade last: it retires the cached sets the checks above read.
    let upgraded = tokio::spawn(upgrade).await.unwrap().unwrap();
    assert_eq!(upgraded.subscription_id, subscription);

    // And the cancellation, from a client made and dropped just for it.
    let client = Kelviq::builder(API_KEY)
        .base_url(server.url())
        .build()
        .unwrap();
    let cancel = client
        .subscriptions()
        .cancel(subscription.as_str(), CancellationType::Immediate)
        .send();
    drop(client);
    assert!(!tokio::spawn(cancel)
        .await
        .unwrap()
        .unwrap()
        .message
        .is_empty());
    assert_eq!(server.usage("cust")["api-usage"], 2);
}
