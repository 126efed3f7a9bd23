//! `--catalog kelviq.config.toml`: the emulator sells what a pricing-as-code file declares,
//! in process and from the binary; a bad file stops the binary with the file's error.

use std::path::PathBuf;
use std::process::{Command, Stdio};

use kelviq_mock::{MockConfig, MockServer};
use serde_json::{json, Value};

const CONFIG: &str = r#"
[[products]]
identifier = "reports-app"
name = "Reports"
taxCode = "saas"

[[features]]
identifier = "exports"
name = "Exports"
type = "METER"

[[features]]
identifier = "editors"
name = "Editors"
type = "CUSTOMIZABLE"

[[plans]]
identifier = "team-plan"
name = "Team"
product = "reports-app"

[[plans.entitlements]]
feature = "exports"
value = 250
reset = "EVERY_MONTH"
hardLimit = true

[[plans.entitlements]]
feature = "editors"
value = 7

[[plans.prices]]
priceType = "PAID"
currency = "USD"
freeTrial = false
trialPeriod = 0
enabled = true
taxBehavior = "EXCLUSIVE"

[[plans.prices.chargeCatalogPrice]]
priceModel = "FLAT"
charges = [{ chargePeriod = "MONTHLY", priceData = { amount = 12.5 } }]
"#;

/// A fresh directory of its own under the system's temporary directory.
fn temp_dir(tag: &str) -> PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let dir =
        std::env::temp_dir().join(format!("kelviq-mock-{tag}-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

async fn send(server: &MockServer, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    let client = reqwest::Client::new();
    let mut request = client
        .request(
            reqwest::Method::from_bytes(method.as_bytes()).unwrap(),
            format!("{}{path}", server.url()),
        )
        .header("authorization", "Bearer sk_test");
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

#[tokio::test]
async fn the_emulator_sells_the_plans_of_the_file() {
    let dir = temp_dir("catalog");
    let path = dir.join("kelviq.config.toml");
    std::fs::write(&path, CONFIG).unwrap();
    let catalog = kelviq_config::load(&path).unwrap();
    let config = MockConfig::default().with_catalog(&catalog).unwrap();
    let server = MockServer::start_with(config).await.unwrap();

    let (status, _) = send(
        &server,
        "POST",
        "/api/v1/customers/",
        Some(json!({"customer_id": "c1", "email": "c1@example.com"})),
    )
    .await;
    assert_eq!(status, 201);
    let (status, subscription) = send(
        &server,
        "POST",
        "/api/v1/subscriptions/create/",
        Some(json!({"plan_identifier": "team-plan", "charge_period": "MONTHLY", "customer_id": "c1"})),
    )
    .await;
    assert!(status < 300, "{status} {subscription}");
    assert_eq!(subscription["plan"]["name"], "Team");
    assert_eq!(subscription["amount"], "12.50", "the file's price");

    let (status, answer) = send(&server, "GET", "/api/v1/entitlements?customer_id=c1", None).await;
    assert_eq!(status, 200, "{answer}");
    let entries = answer["entitlements"].as_array().unwrap();
    let exports = entries
        .iter()
        .find(|e| e["featureId"] == "exports")
        .unwrap();
    assert_eq!(exports["featureType"], "METER");
    assert_eq!(exports["usageLimit"], 250);
    assert_eq!(exports["hardLimit"], true);
    let editors = entries
        .iter()
        .find(|e| e["featureId"] == "editors")
        .unwrap();
    assert_eq!(editors["usageLimit"], 7);

    // The default catalogue is gone; a charge period the file does not sell is refused.
    let (status, _) = send(
        &server,
        "POST",
        "/api/v1/subscriptions/create/",
        Some(json!({"plan_identifier": "premium-plan", "charge_period": "MONTHLY", "customer_id": "c1"})),
    )
    .await;
    assert_eq!(status, 400);
    let (status, _) = send(
        &server,
        "POST",
        "/api/v1/subscriptions/create/",
        Some(
            json!({"plan_identifier": "team-plan", "charge_period": "YEARLY", "customer_id": "c1"}),
        ),
    )
    .await;
    assert_eq!(status, 400);
    drop(server);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn the_binary_refuses_a_bad_file_naming_file_line_and_field() {
    let dir = temp_dir("bad-catalog");
    let path = dir.join("bad.toml");
    let bad = CONFIG.replace("feature = \"editors\"", "feature = \"editor\"");
    std::fs::write(&path, &bad).unwrap();
    let line = bad
        .lines()
        .position(|l| l == "feature = \"editor\"")
        .unwrap()
        + 1;

    let output = Command::new(env!("CARGO_BIN_EXE_kelviq-mock"))
        .args(["--addr", "127.0.0.1:0", "--catalog"])
        .arg(&path)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    let file = path.display().to_string();
    assert!(
        stderr.contains(&format!("{file}:{line}:")),
        "file and line in {stderr}"
    );
    assert!(
        stderr.contains("plans[0].entitlements[1].feature"),
        "field in {stderr}"
    );
    assert!(stderr.contains("did you mean \"editors\""), "{stderr}");
    assert!(output.stdout.is_empty(), "nothing served");

    // A file that cannot be read at all.
    let output = Command::new(env!("CARGO_BIN_EXE_kelviq-mock"))
        .args(["--catalog"])
        .arg(dir.join("missing.toml"))
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("missing.toml"), "{stderr}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn the_catalog_api_serves_the_products_features_and_plans_of_the_file() {
    let catalog = kelviq_config::parse_toml(CONFIG, "kelviq.config.toml").unwrap();
    let server = MockServer::builder()
        .api_key("sk_test")
        .with_catalog(&catalog)
        .unwrap()
        .start()
        .await
        .unwrap();
    let (status, products) = send(&server, "GET", "/api/v1/catalog/products/", None).await;
    assert_eq!(status, 200, "{products}");
    assert_eq!(products["count"], 1, "{products}");
    assert_eq!(products["results"][0]["identifier"], "reports-app");
    assert_eq!(products["results"][0]["taxCode"], "saas");
    let (_, features) = send(&server, "GET", "/api/v1/catalog/features/", None).await;
    let types: Vec<(&str, &str)> = features["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["identifier"].as_str().unwrap(),
                f["featureType"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(types, [("exports", "METER"), ("editors", "CUSTOMIZABLE")]);
    let (_, plans) = send(&server, "GET", "/api/v1/catalog/plans/", None).await;
    assert_eq!(plans["count"], 1, "{plans}");
    let team = &plans["results"][0];
    assert_eq!(
        (&team["identifier"], &team["isLatest"], &team["version"]),
        (&json!("team-plan"), &json!(true), &json!(1)),
        "published: {team}"
    );
    assert_eq!(team["product"], products["results"][0]["id"]);
    let (_, entitlements) = send(
        &server,
        "GET",
        "/api/v1/catalog/plans/team-plan/features/",
        None,
    )
    .await;
    let exports = &entitlements["results"][0];
    assert_eq!(exports["feature"]["identifier"], "exports");
    assert_eq!(
        exports["details"],
        json!({"value": 250, "reset": "EVERY_MONTH", "hardLimit": true})
    );
    let (_, prices) = send(
        &server,
        "GET",
        "/api/v1/catalog/plans/team-plan/prices/",
        None,
    )
    .await;
    let price = &prices["results"][0];
    assert_eq!(
        (
            &price["priceType"],
            &price["currency"],
            &price["taxBehavior"]
        ),
        (&json!("PAID"), &json!("USD"), &json!("EXCLUSIVE"))
    );
    assert_eq!(
        price["chargeCatalogPrice"][0]["charges"][0]["priceData"]["amount"],
        12.5
    );
}

#[tokio::test]
async fn the_built_in_catalogue_is_a_config_file_served_by_the_catalog_api() {
    let server = MockServer::start().await.unwrap();
    let (_, plans) = send(&server, "GET", "/api/v1/catalog/plans/", None).await;
    let identifiers: Vec<&str> = plans["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["identifier"].as_str().unwrap())
        .collect();
    assert_eq!(
        identifiers,
        [
            "plan-pro-monthly",
            "premium-plan",
            "new_plan_enterprise",
            "pro-license",
            "lifetime-pack"
        ]
    );
    let desktop = plans["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["identifier"] == "pro-license")
        .unwrap();
    assert_eq!(desktop["license"]["activationLimit"], 2, "{desktop}");

    // Buying the licensed plan issues a key limited to two activations, as before.
    let (status, _) = send(
        &server,
        "POST",
        "/api/v1/customers/",
        Some(json!({"customer_id": "c1", "email": "c1@example.com"})),
    )
    .await;
    assert_eq!(status, 201);
    let (status, subscription) = send(
        &server,
        "POST",
        "/api/v1/subscriptions/create/",
        Some(json!({"plan_identifier": "pro-license", "charge_period": "YEARLY", "customer_id": "c1"})),
    )
    .await;
    assert!(status < 300, "{status} {subscription}");
    assert_eq!(subscription["amount"], "99.00", "{subscription}");
    let (_, keys) = send(&server, "GET", "/_mock/customers/c1/licenses", None).await;
    assert_eq!(keys.as_array().map(Vec::len), Some(1), "{keys}");
}

#[test]
fn fixtures_are_gone_and_the_built_in_catalogue_can_be_printed() {
    let output = Command::new(env!("CARGO_BIN_EXE_kelviq-mock"))
        .args(["--fixtures", "fixtures.json"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("--fixtures is gone") && stderr.contains("--catalog"),
        "{stderr}"
    );
    assert!(output.stdout.is_empty(), "nothing served");

    let output = Command::new(env!("CARGO_BIN_EXE_kelviq-mock"))
        .arg("--print-catalog")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(output.status.success());
    let text = String::from_utf8(output.stdout).unwrap();
    assert_eq!(text, kelviq_mock::catalogue::DEFAULT_CATALOG_TOML);
    let catalog = kelviq_config::parse_toml(&text, "printed").unwrap();
    assert_eq!(catalog, kelviq_mock::catalogue::default_catalog());
}

/// A one-plan pricing-as-code file (its JSON form) whose price has `entries` as its
/// `chargeCatalogPrice`.
fn priced(entries: Value) -> Value {
    json!({
        "products": [{"identifier": "app", "name": "App", "taxCode": "saas"}],
        "plans": [{
            "identifier": "big", "name": "Big", "product": "app",
            "prices": [{"priceType": "PAID", "currency": "USD", "chargeCatalogPrice": entries}]
        }]
    })
}

/// Review 4: two plan-wide charges of one period whose amounts add up past an i64 of cents
/// made `PUT /_mock/catalog` (and `--catalog`) panic on an integer overflow: the
/// connection was dropped without an answer.
#[tokio::test]
async fn charges_that_add_up_past_the_counter_are_answered_not_a_panic() {
    let server = MockServer::start().await.unwrap();
    let charge = json!({"priceModel": "FLAT", "charges": [
        {"chargePeriod": "MONTHLY", "priceData": {"amount": 9.0e16}}
    ]});
    let answer = reqwest::Client::new()
        .put(format!("{}/_mock/catalog", server.url()))
        .json(&priced(json!([charge.clone(), charge])))
        .send()
        .await;
    let answer = answer.expect("an answer, not a dropped connection");
    assert!([204, 400].contains(&answer.status().as_u16()), "{answer:?}");
    let (status, _) = send(&server, "GET", "/api/v1/catalog/plans/", None).await;
    assert_eq!(status, 200, "still serving");
}

/// Review 4: a key the API's price has not, misspelt in a `chargeCatalogPrice` entry of the
/// file (`priceModle`) or in one of its charges (`tier`), was dropped without a word: the
/// emulator served the price without it, so `kelviq pull` wrote back another file, where
/// the catalog API refuses the same entry with a 400 naming the field and `kelviq push`
/// refuses the file ("not a field this CLI can send").
#[tokio::test]
async fn a_misspelt_key_in_a_charge_catalog_price_entry_is_refused_naming_it() {
    let server = MockServer::start().await.unwrap();
    let entry = json!({"priceModle": "FLAT", "charges": [
        {"chargePeriod": "MONTHLY", "priceData": {"amount": 5}}
    ]});
    let (status, answer) = send(
        &server,
        "PUT",
        "/_mock/catalog",
        Some(priced(json!([entry]))),
    )
    .await;
    assert_eq!(status, 400, "{answer}");
    assert!(answer.to_string().contains("priceModle"), "{answer}");
    let charge = json!({"priceModel": "FLAT", "charges": [
        {"chargePeriod": "MONTHLY", "priceData": {"amount": 5}, "tier": []}
    ]});
    let (status, answer) = send(
        &server,
        "PUT",
        "/_mock/catalog",
        Some(priced(json!([charge]))),
    )
    .await;
    assert_eq!(status, 400, "{answer}");
    assert!(answer.to_string().contains("tier"), "{answer}");
    // The built-in catalogue is still the one served.
    let (_, plans) = send(&server, "GET", "/api/v1/catalog/plans/big/", None).await;
    assert_ne!(plans["identifier"], "big", "{plans}");
}

/// Review 4: a plan's `[plans.license]` with a duration (`durationValue`, `durationUnit`,
/// `hasExpiry`) is accepted and served back by the catalog API, but the keys its purchases
/// issue never expire: `expiresOn` stays null (the emulator's `LicenseTerms` holds the
/// activation limit only), so the SDK's typed `expires_on` is never exercised either.
#[tokio::test]
#[ignore = "review 4: the emulator ignores a plan license's duration; issued keys never expire"]
async fn a_license_with_a_duration_issues_keys_that_expire() {
    let catalog = kelviq_config::parse_toml(
        "[[products]]\nidentifier = \"app\"\nname = \"App\"\ntaxCode = \"saas\"\n\n\
         [[plans]]\nidentifier = \"desk\"\nname = \"Desk\"\nproduct = \"app\"\n\n\
         [plans.license]\nactivationLimit = 2\ndurationValue = 1\ndurationUnit = \"DAY\"\n\
         hasExpiry = true\n",
        "kelviq.config.toml",
    )
    .unwrap();
    let config = MockConfig::default().with_catalog(&catalog).unwrap();
    let server = MockServer::start_with(config).await.unwrap();
    let (status, _) = send(
        &server,
        "POST",
        "/api/v1/customers/",
        Some(json!({"customer_id": "c1"})),
    )
    .await;
    assert_eq!(status, 201);
    let (status, subscription) = send(
        &server,
        "POST",
        "/api/v1/subscriptions/create/",
        Some(json!({"plan_identifier": "desk", "charge_period": "MONTHLY", "customer_id": "c1"})),
    )
    .await;
    assert!(status < 300, "{status} {subscription}");
    let license = &subscription["license"][0];
    assert!(license["licenseKey"].is_string(), "{subscription}");
    let expires = license["expiresOn"]
        .as_str()
        .unwrap_or_else(|| panic!("no expiresOn: {license}"));
    let expires = chrono::DateTime::parse_from_rfc3339(expires).unwrap();
    let in_a_day = chrono::Utc::now() + chrono::Duration::days(1);
    assert!(
        (expires.to_utc() - in_a_day).num_minutes().abs() < 5,
        "{expires}"
    );
}
