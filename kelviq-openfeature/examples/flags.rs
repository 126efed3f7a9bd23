//! Kelviq entitlements read as OpenFeature flags, one of each type.
//!
//! ```text
//! cargo run -p kelviq-openfeature --example flags
//! ```
//!
//! Without `KELVIQ_API_KEY`, it starts the `kelviq-mock` emulator in-process, sells a customer
//! the `plan-pro-monthly` plan, and evaluates a boolean, integer and struct flag of it, a
//! feature the customer does not hold, an evaluation without a targeting key, and then the
//! same flags while the edge host is unreachable: stale, then decided by the fallback policy.
//!
//! With `KELVIQ_API_KEY` set (and `KELVIQ_ENV`, sandbox by default), it evaluates the features
//! named on the command line for one customer of the real service, as each flag type:
//!
//! ```text
//! cargo run -p kelviq-openfeature --example flags -- cust_123 premium-reporting seats
//! ```

use std::fmt::Debug;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use kelviq::{Behaviour, CacheConfig, ChargePeriod, Kelviq, RetryPolicy};
use kelviq_mock::MockServer;
use kelviq_openfeature::{EntitlementValue, KelviqProvider};
use open_feature::{
    EvaluationContext, EvaluationDetails, EvaluationResult, FlagMetadataValue, OpenFeature,
};

#[tokio::main]
async fn main() -> ExitCode {
    let result = match std::env::var(kelviq::API_KEY_VAR) {
        Ok(key) if !key.trim().is_empty() => real_service().await,
        _ => emulated().await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("\nflags failed: {error}");
            ExitCode::FAILURE
        }
    }
}

type Outcome = Result<(), Box<dyn std::error::Error>>;

/// The emulated client's cache: short, so that the outage shows its stale and fallback
/// answers within a second.
const TTL: Duration = Duration::from_millis(200);
const MAX_STALE: Duration = Duration::from_millis(800);

/// One evaluation's line: the value, the reason and the metadata, or the error code.
fn show<T: Debug>(flag: &str, kind: &str, result: EvaluationResult<EvaluationDetails<T>>) {
    match result {
        Ok(details) => {
            let reason = details
                .reason
                .map_or_else(|| "-".to_owned(), |r| r.to_string());
            let mut metadata: Vec<String> = details
                .flag_metadata
                .values
                .iter()
                .map(|(key, value)| match value {
                    FlagMetadataValue::Bool(b) => format!("{key}={b}"),
                    FlagMetadataValue::Int(i) => format!("{key}={i}"),
                    FlagMetadataValue::Float(f) => format!("{key}={f}"),
                    FlagMetadataValue::String(s) => format!("{key}={s}"),
                })
                .collect();
            metadata.sort();
            println!(
                "   {flag:<20} {kind:<6} {:?}  reason {reason}{}{}",
                details.value,
                if metadata.is_empty() { "" } else { "  " },
                metadata.join(" ")
            );
        }
        Err(error) => println!(
            "   {flag:<20} {kind:<6} error {}: {}",
            error.code,
            error.message.unwrap_or_default()
        ),
    }
}

/// Evaluates `feature` as each flag type.
async fn evaluate(
    flags: &open_feature::Client,
    context: Option<&EvaluationContext>,
    feature: &str,
) {
    show(
        feature,
        "bool",
        flags.get_bool_details(feature, context, None).await,
    );
    show(
        feature,
        "int",
        flags.get_int_details(feature, context, None).await,
    );
    show(
        feature,
        "struct",
        flags
            .get_struct_details::<EntitlementValue>(feature, context, None)
            .await,
    );
}

async fn emulated() -> Outcome {
    let server = MockServer::start().await?;
    println!(
        "No {} set: evaluating flags against kelviq-mock at {}",
        kelviq::API_KEY_VAR,
        server.url()
    );
    let client = Kelviq::builder("sk_test_flags")
        .base_url(server.url())
        .retry_policy(RetryPolicy::none())
        .entitlement_cache(CacheConfig::default().ttl(TTL).max_stale(MAX_STALE))
        .build()?;
    let customer_id = "cust_flags";
    client.customers().create(customer_id).send().await?;
    let session = client
        .checkout()
        .create_session(
            "plan-pro-monthly",
            ChargePeriod::Monthly,
            "https://example.com/ok",
        )
        .customer_id(customer_id)
        .send()
        .await?;
    server.complete_checkout(&session.checkout_session_id)?;
    client
        .reporting()
        .report_usage(40, customer_id, "api-usage", Behaviour::Set)
        .send()
        .await?
        .sent()
        .ok_or("the emulator did not take the usage report")?;
    println!("{customer_id} bought plan-pro-monthly and used 40 of its 100 api-usage");

    // Once, at start-up: the provider makes no request until a flag is read.
    let mut api = OpenFeature::singleton_mut().await;
    api.set_provider(KelviqProvider::new(client.clone())).await;
    let flags = api.create_client();
    drop(api);
    let customer = EvaluationContext::default().with_targeting_key(customer_id);

    println!("\n1. Each flag type (one fetch of the customer's set, then the cache)");
    let fetched = Instant::now();
    show(
        "premium-reporting",
        "bool",
        flags
            .get_bool_details("premium-reporting", Some(&customer), None)
            .await,
    );
    show(
        "api-usage",
        "int",
        flags
            .get_int_details("api-usage", Some(&customer), None)
            .await,
    );
    show(
        "seats",
        "int",
        flags.get_int_details("seats", Some(&customer), None).await,
    );
    show(
        "api-usage",
        "struct",
        flags
            .get_struct_details::<EntitlementValue>("api-usage", Some(&customer), None)
            .await,
    );
    show(
        "premium-reporting",
        "int",
        flags
            .get_int_details("premium-reporting", Some(&customer), None)
            .await,
    );

    println!("\n2. A feature the customer does not hold");
    evaluate(&flags, Some(&customer), "lifetime-reports").await;

    println!("\n3. No targeting key");
    show(
        "premium-reporting",
        "bool",
        flags
            .get_bool_details("premium-reporting", None, None)
            .await,
    );

    println!("\n4. The edge host goes away: stale while the set may stand in");
    server.go_offline();
    tokio::time::sleep(
        (fetched + TTL + Duration::from_millis(100)).saturating_duration_since(Instant::now()),
    )
    .await;
    show(
        "premium-reporting",
        "bool",
        flags
            .get_bool_details("premium-reporting", Some(&customer), None)
            .await,
    );
    show(
        "seats",
        "int",
        flags.get_int_details("seats", Some(&customer), None).await,
    );

    println!("\n5. ... then the fallback policy (deny, unless set per feature)");
    tokio::time::sleep(
        (fetched + TTL + MAX_STALE + Duration::from_millis(100))
            .saturating_duration_since(Instant::now()),
    )
    .await;
    show(
        "premium-reporting",
        "bool",
        flags
            .get_bool_details("premium-reporting", Some(&customer), None)
            .await,
    );
    show(
        "seats",
        "int",
        flags.get_int_details("seats", Some(&customer), None).await,
    );

    println!("\n6. Back online");
    server.go_online().await?;
    show(
        "premium-reporting",
        "bool",
        flags
            .get_bool_details("premium-reporting", Some(&customer), None)
            .await,
    );
    client.shutdown(Duration::from_secs(2)).await;
    Ok(())
}

async fn real_service() -> Outcome {
    let mut args = std::env::args().skip(1);
    let Some(customer_id) = args.next() else {
        return Err("usage: flags CUSTOMER_ID FEATURE_ID... (with KELVIQ_API_KEY set)".into());
    };
    let features: Vec<String> = args.collect();
    let client = Kelviq::from_env()?.build()?;
    let mut api = OpenFeature::singleton_mut().await;
    api.set_provider(KelviqProvider::new(client.clone())).await;
    let flags = api.create_client();
    drop(api);
    let customer = EvaluationContext::default().with_targeting_key(customer_id.as_str());
    println!("Flags of {customer_id}, from Kelviq:");
    for feature in &features {
        evaluate(&flags, Some(&customer), feature).await;
    }
    client.shutdown(Duration::from_secs(2)).await;
    Ok(())
}
