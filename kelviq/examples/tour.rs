//! A tour of the SDK's main job: the product docs' lifecycle, step by step.
//!
//! ```text
//! cargo run -p kelviq --example tour
//! ```
//!
//! Without `KELVIQ_API_KEY`, it starts the `kelviq-mock` emulator in-process and walks the
//! whole lifecycle against it: create a customer, open a checkout and complete it, check
//! access, report usage up to a hard limit and watch access end, report an event twice with
//! one key and see it counted once, move the subscription to another plan, cancel it.
//!
//! With `KELVIQ_API_KEY` set, it runs the steps that make sense against the real service in
//! the environment `KELVIQ_ENV` names (sandbox by default): it creates a customer and a
//! checkout session for `KELVIQ_TOUR_PLAN` (default `plan-pro-monthly`), and reads the
//! customer's entitlements. Nothing is bought.

use std::process::ExitCode;

use kelviq::{
    Behaviour, CancellationType, ChargePeriod, Client, Delivery, FeatureQuantity, Kelviq,
};
use kelviq_mock::MockServer;

fn step(number: u32, title: &str) {
    println!("\n{number}. {title}");
}

fn show(line: impl std::fmt::Display) {
    println!("   {line}");
}

/// A report's answer, or a note that it waits in the offline queue.
fn delivered<T>(delivery: Delivery<T>) -> Option<T> {
    match delivery {
        Delivery::Sent(answer) => Some(answer),
        Delivery::Queued { waiting } => {
            show(format!(
                "service unreachable: report queued ({waiting} waiting)"
            ));
            None
        }
    }
}

fn access(allowed: bool) -> &'static str {
    if allowed {
        "GRANTED"
    } else {
        "DENIED"
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let result = match std::env::var(kelviq::API_KEY_VAR) {
        Ok(key) if !key.trim().is_empty() => real_service().await,
        _ => emulated().await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("\ntour failed: {error}");
            ExitCode::FAILURE
        }
    }
}

type TourResult = Result<(), Box<dyn std::error::Error>>;

async fn emulated() -> TourResult {
    let server = MockServer::start().await?;
    println!(
        "No {} set: touring against kelviq-mock at {}",
        kelviq::API_KEY_VAR,
        server.url()
    );
    let client = Kelviq::builder("sk_test_tour")
        .base_url(server.url())
        .build()?;
    let customer = "unique-customer-id-123";

    step(1, "Create a customer");
    let created = client
        .customers()
        .create(customer)
        .email("new.customer@example.com")
        .name("John Doe")
        .metadata([("source", "sdk_import"), ("priority", "high")])
        .send()
        .await?;
    show(format!(
        "created {} (id {}), email {:?}",
        created.customer_id,
        created.id,
        created.email.unwrap_or_default()
    ));

    step(2, "Open a checkout for plan-pro-monthly and complete it");
    let session = client
        .checkout()
        .create_session(
            "plan-pro-monthly",
            ChargePeriod::Monthly,
            "https://kelviq.com/checkout/success",
        )
        .customer_id(customer)
        .features([FeatureQuantity::new("seats", 5)])
        .send()
        .await?;
    show(format!("checkout URL: {}", session.checkout_url));
    // The customer's browser visits the URL; on the emulator that completes the purchase.
    let completed: serde_json::Value = reqwest::get(&session.checkout_url)
        .await?
        .error_for_status()?
        .json()
        .await?;
    let subscription = completed["subscriptionId"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    show(format!("paid: subscription {subscription}"));

    step(3, "Check access");
    for feature in ["premium-reporting", "api-usage", "api-calls-tier1"] {
        let allowed = client
            .entitlements()
            .has_access(customer, feature)
            .send()
            .await?;
        show(format!("{feature:<18} access {}", access(allowed)));
    }

    step(
        4,
        "Report usage of api-usage (a hard meter, limit 100) up to its limit",
    );
    show_meter(&client, customer, "api-usage").await?;
    client
        .reporting()
        .report_usage(60, customer, "api-usage", Behaviour::Set)
        .send()
        .await
        .map(delivered)?;
    show_meter(&client, customer, "api-usage").await?;
    client
        .reporting()
        .report_usage(40, customer, "api-usage", Behaviour::Delta)
        .send()
        .await
        .map(delivered)?;
    show_meter(&client, customer, "api-usage").await?;
    let allowed = client
        .entitlements()
        .has_access(customer, "api-usage")
        .send()
        .await?;
    show(format!("at the hard limit: access {}", access(allowed)));

    step(5, "Report one event twice with the same idempotency key");
    for attempt in 1..=2 {
        let event = client
            .reporting()
            .report_event(customer, "analytics_run")
            .idempotency_key("run-2025-05-22-0001")
            .property("featureId", "advanced-analytics")
            .property("value", 1)
            .send()
            .await?;
        if let Some(event) = delivered(event) {
            show(format!(
                "sent #{attempt}: key {} at {}",
                event.idempotency_key, event.timestamp
            ));
        }
    }
    let counted = server
        .usage(customer)
        .get("advanced-analytics")
        .copied()
        .unwrap_or(0);
    show(format!(
        "advanced-analytics usage: {counted} (the repeated event counted once)"
    ));

    step(6, "Move the subscription to premium-plan");
    let moved = client
        .subscriptions()
        .update(subscription.as_str(), "premium-plan", ChargePeriod::Monthly)
        .send()
        .await?;
    show(format!(
        "subscription {} is now on premium-plan",
        moved.subscription_id
    ));
    show_meter(&client, customer, "api-usage").await?;
    let allowed = client
        .entitlements()
        .has_access(customer, "api-usage")
        .send()
        .await?;
    show(format!("with the bigger limit: access {}", access(allowed)));

    step(
        7,
        "The service goes away: reports wait, checks keep answering",
    );
    let before = server
        .usage(customer)
        .get("api-usage")
        .copied()
        .unwrap_or(0);
    server.go_offline();
    // Give the client a moment to see its pooled connection closed: a report written onto a
    // connection the server is closing is one the SDK cannot prove unsent.
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    for _ in 0..3 {
        client
            .reporting()
            .report_usage(1, customer, "api-usage", Behaviour::Delta)
            .send()
            .await
            .map(delivered)?;
    }
    let access_offline = client
        .entitlements()
        .check(customer, "premium-reporting")
        .send()
        .await?;
    show(format!(
        "premium-reporting while unreachable: access {} ({:?})",
        access(access_offline.allowed),
        access_offline.freshness
    ));
    server.go_online().await?;
    let shutdown = client.shutdown(std::time::Duration::from_secs(5)).await;
    let after = server
        .usage(customer)
        .get("api-usage")
        .copied()
        .unwrap_or(0);
    show(format!(
        "back online: shutdown delivered {} queued reports, {} left; api-usage {before} -> {after}",
        shutdown.delivered, shutdown.remaining
    ));

    step(8, "Cancel the subscription");
    let cancelled = client
        .subscriptions()
        .cancel(subscription.as_str(), CancellationType::Immediate)
        .send()
        .await?;
    show(cancelled.message);
    let allowed = client
        .entitlements()
        .has_access(customer, "premium-reporting")
        .send()
        .await?;
    show(format!(
        "premium-reporting after cancelling: access {}",
        access(allowed)
    ));

    println!(
        "\nTour complete: {} requests served by kelviq-mock.",
        server.requests().len()
    );
    Ok(())
}

async fn show_meter(client: &Client, customer: &str, feature: &str) -> kelviq::Result<()> {
    let response = client
        .entitlements()
        .get_entitlement(customer, feature)
        .send()
        .await?;
    if let Some(meter) = response.feature(feature) {
        show(format!(
            "{feature}: used {} of {} ({} left, {} limit) -> access {}",
            meter.current_usage.unwrap_or(0),
            meter
                .usage_limit
                .map_or("unlimited".into(), |l| l.to_string()),
            meter.remaining.map_or("?".into(), |r| r.to_string()),
            if meter.hard_limit { "hard" } else { "soft" },
            access(meter.has_access),
        ));
    }
    Ok(())
}

async fn real_service() -> TourResult {
    let builder = Kelviq::from_env()?;
    let client = builder.build()?;
    println!("Touring the real Kelviq service: {client:?}");
    let customer = format!(
        "kelviq-rust-tour-{}",
        chrono::Utc::now().format("%Y%m%d%H%M%S")
    );
    let plan = std::env::var("KELVIQ_TOUR_PLAN").unwrap_or_else(|_| "plan-pro-monthly".into());

    step(1, "Create a customer");
    let created = client
        .customers()
        .create(customer.as_str())
        .name("Kelviq Rust SDK tour")
        .send()
        .await?;
    show(format!(
        "created {} (id {})",
        created.customer_id, created.id
    ));

    step(2, &format!("Open a checkout for {plan}"));
    match client
        .checkout()
        .create_session(
            plan.as_str(),
            ChargePeriod::Monthly,
            "https://kelviq.com/checkout/success",
        )
        .customer_id(customer.as_str())
        .send()
        .await
    {
        Ok(session) => show(format!(
            "checkout URL (not paid by the tour): {}",
            session.checkout_url
        )),
        Err(error) => show(format!(
            "no checkout: {error} (set KELVIQ_TOUR_PLAN to one of your plans)"
        )),
    }

    step(3, "Read the customer's entitlements");
    let all = client
        .entitlements()
        .get_all_entitlements(customer.as_str())
        .send()
        .await?;
    if all.entitlements().is_empty() {
        show("none yet: nothing was bought, so every feature reads as DENIED");
    }
    for entry in all.entitlements() {
        show(format!(
            "{:<24} access {}",
            entry.feature_id,
            access(all.has_access(&entry.feature_id))
        ));
    }
    Ok(())
}
