//! The crate's behaviour end to end: each kind of error, round trips, JSON, open
//! enumerations and the schema.

use super::*;

/// A file that uses every field of the format.
const FULL: &str = r#"
[[products]]
identifier = "my-app"
name = "My App"
taxCode = "saas"
description = "The app"

[[products]]
identifier = "desktop"
name = "Desktop"
taxCode = "nft"

[[features]]
identifier = "api-calls"
name = "API calls"
type = "METER"
description = "Calls to the API"
meter = { aggregation = "SUM", event = "api.call" }
metadata = { owner = "platform", tier = 2 }

[[features]]
identifier = "seats"
name = "Seats"
type = "CUSTOMIZABLE"
featureDetails = { unit = "seat", units = "seats" }

[[features]]
identifier = "sso"
name = "SSO"
type = "BOOLEAN"

[[plans]]
identifier = "pro"
name = "Pro"
product = "my-app"
description = "For teams"
isVisible = true
metadata = { "managed-by" = "kelviq-cli" }

[[plans.entitlements]]
feature = "seats"
value = 5

[[plans.entitlements]]
feature = "api-calls"
value = 10000
reset = "EVERY_MONTH"
hardLimit = false
usageAlerts = { enabled = true, thresholds = [75, 90], thresholdType = "PERCENTAGE" }
rollover = { enabled = false }

[[plans.entitlements]]
feature = "sso"
value = true

[[plans.prices]]
priceType = "PAID"
currency = "USD"
freeTrial = true
trialPeriod = 14
enabled = true
taxBehavior = "EXCLUSIVE"

[[plans.prices.chargeCatalogPrice]]
priceModel = "FLAT"

[[plans.prices.chargeCatalogPrice.charges]]
chargePeriod = "MONTHLY"
priceData = { amount = 29.99 }

[[plans.prices.chargeCatalogPrice.charges]]
chargePeriod = "YEARLY"
priceData = { amount = 299.0 }

[[plans]]
identifier = "free_v2"
name = "Free"
product = "desktop"
prices = []

[plans.license]
enabled = true
activationLimit = 3
activationLimitEnabled = true
durationValue = 1
durationUnit = "YEAR"
hasExpiry = true

[[plans.entitlements]]
feature = "api-calls"
hasUnlimitedUsage = true
reset = "EVERY_FORTNIGHT"
"#;

fn err_toml(text: &str) -> ConfigError {
    parse_toml(text, "pricing/kelviq.config.toml").expect_err("a bad file")
}

/// Asserts the first diagnostic names the file, the line, the field and what was expected.
#[track_caller]
fn assert_names(error: &ConfigError, kind: ErrorKind, line: usize, field: &str) {
    let first = error.first();
    let text = error.to_string();
    assert_eq!(first.kind, kind, "{text}");
    assert_eq!(first.line, Some(line), "{text}");
    assert!(first.column.is_some(), "{text}");
    assert_eq!(first.field.as_deref(), Some(field), "{text}");
    let file = &first.file;
    assert!(
        text.starts_with(&format!("{file}:{line}:")),
        "file and line in {text}"
    );
    assert!(text.contains(&format!(": {field}: ")), "field in {text}");
    assert!(text.contains("expected"), "what was expected in {text}");
}

#[test]
fn the_full_file_parses() {
    let catalog = parse_toml(FULL, "kelviq.config.toml").unwrap();
    assert_eq!(catalog.products.len(), 2);
    assert_eq!(catalog.features.len(), 3);
    assert_eq!(catalog.plans.len(), 2);
    let pro = &catalog.plans[0];
    assert_eq!(pro.is_visible, Some(true));
    let calls = &pro.entitlements[1];
    assert_eq!(calls.value, Some(EntitlementValue::Integer(10_000)));
    assert_eq!(calls.reset, Some(Reset::EveryMonth));
    assert_eq!(calls.hard_limit, Some(false));
    assert_eq!(
        calls.usage_alerts.as_ref().unwrap()["thresholds"],
        serde_json::json!([75, 90])
    );
    assert_eq!(
        calls.extra["rollover"],
        serde_json::json!({"enabled": false})
    );
    let price = &pro.prices.as_ref().unwrap()[0];
    assert_eq!(price.price_type, PriceType::Paid);
    assert_eq!(price.trial_period, Some(14));
    assert_eq!(price.tax_behavior, Some(TaxBehavior::Exclusive));
    let charges = &price.charge_catalog_price.as_ref().unwrap()[0]["charges"];
    assert_eq!(charges[0]["priceData"]["amount"], serde_json::json!(29.99));
    // An empty price list is kept apart from no list.
    assert_eq!(catalog.plans[1].prices, Some(vec![]));
    assert_eq!(pro.license, None);
    let license = catalog.plans[1].license.as_ref().unwrap();
    assert_eq!(
        (license.activation_limit, license.duration_value),
        (Some(3), Some(1))
    );
    assert_eq!(license.duration_unit.as_deref(), Some("YEAR"));
}

#[test]
fn a_license_is_checked_and_its_unknown_fields_named() {
    let text = format!("{STARTER_TOML}\n[plans.license]\nactivationLimit = 0\n");
    let error = err_toml(&text);
    let line = text
        .lines()
        .position(|l| l == "activationLimit = 0")
        .unwrap()
        + 1;
    assert_names(
        &error,
        ErrorKind::Value,
        line,
        "plans[0].license.activationLimit",
    );
    assert!(error.to_string().contains("at least 1, found 0"), "{error}");

    let text = format!("{STARTER_TOML}\n[plans.license]\nactivation-limit = 2\n");
    let error = err_toml(&text);
    assert!(
        error
            .to_string()
            .contains("unknown field `activation-limit`")
            && error.to_string().contains("activationLimit"),
        "{error}"
    );
}

#[test]
fn unknown_enumeration_values_pass_through() {
    let catalog = parse_toml(FULL, "kelviq.config.toml").unwrap();
    assert_eq!(catalog.products[1].tax_code, TaxCode::Other("nft".into()));
    let reset = catalog.plans[1].entitlements[0].reset.clone().unwrap();
    assert_eq!(reset, Reset::Other("EVERY_FORTNIGHT".into()));
    let written = catalog.to_toml().unwrap();
    assert!(written.contains("taxCode = \"nft\""), "{written}");
    assert!(written.contains("reset = \"EVERY_FORTNIGHT\""), "{written}");
    let json = catalog.to_json();
    assert!(json.contains("\"EVERY_FORTNIGHT\""), "{json}");
}

#[test]
fn toml_round_trips_through_the_model() {
    let catalog = parse_toml(FULL, "kelviq.config.toml").unwrap();
    let written = catalog.to_toml().unwrap();
    let again = parse_toml(&written, "written.toml").unwrap();
    assert_eq!(again, catalog);
    assert_eq!(again.to_toml().unwrap(), written, "writing is stable");
}

#[test]
fn json_is_accepted_with_the_same_shape() {
    let catalog = parse_toml(FULL, "kelviq.config.toml").unwrap();
    let json = catalog.to_json();
    assert_eq!(parse_json(&json, "kelviq.config.json").unwrap(), catalog);

    let dir = temp_dir("json");
    let path = dir.join(JSON_FILE_NAME);
    std::fs::write(&path, &json).unwrap();
    assert_eq!(load(&path).unwrap(), catalog);
    assert_eq!(default_path(&dir), path, "the JSON file when no TOML one");
    std::fs::write(dir.join(TOML_FILE_NAME), FULL).unwrap();
    assert_eq!(default_path(&dir), dir.join(TOML_FILE_NAME), "TOML first");
    assert_eq!(load(dir.join(TOML_FILE_NAME)).unwrap(), catalog);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_schema_key_is_allowed_for_editors() {
    let catalog = parse_json(
        r#"{"$schema": "./kelviq.schema.json", "products": []}"#,
        "kelviq.config.json",
    )
    .unwrap();
    assert_eq!(catalog.schema.as_deref(), Some("./kelviq.schema.json"));
}

#[test]
fn nulls_in_passed_through_data_are_left_out_of_toml() {
    let mut catalog = parse_toml(FULL, "kelviq.config.toml").unwrap();
    catalog.plans[0]
        .metadata
        .as_mut()
        .unwrap()
        .insert("gone".into(), serde_json::Value::Null);
    let prices = catalog.plans[0].prices.as_mut().unwrap();
    prices[0].charge_catalog_price.as_mut().unwrap()[0]
        .insert("feature".into(), serde_json::Value::Null);
    let written = catalog.to_toml().unwrap();
    assert!(!written.contains("gone"), "{written}");
    assert_eq!(
        parse_toml(&written, "w.toml").unwrap(),
        parse_toml(FULL, "kelviq.config.toml").unwrap()
    );
}

#[test]
fn the_starter_file_is_sound() {
    let catalog = parse_toml(STARTER_TOML, TOML_FILE_NAME).unwrap();
    assert_eq!(catalog.plans[0].entitlements[0].feature, "seats");
    assert!(catalog.check().is_empty());
}

// ---- one test per kind of error ----

#[test]
fn an_unreadable_file_is_an_io_error_naming_it() {
    let error = load("/nonexistent/kelviq.config.toml").unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Io);
    let text = error.to_string();
    assert!(
        text.starts_with("/nonexistent/kelviq.config.toml: "),
        "{text}"
    );
    assert!(text.contains("cannot read"), "{text}");
}

#[test]
fn a_typescript_file_is_refused_with_what_to_do() {
    let error = load("kelviq.config.ts").unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Format);
    let text = error.to_string();
    assert!(
        text.starts_with("kelviq.config.ts: expected a TOML or JSON file"),
        "{text}"
    );
    assert!(text.contains(TOML_FILE_NAME), "{text}");
}

#[test]
fn malformed_toml_names_file_line_and_what_was_expected() {
    let error = err_toml("[[products]]\nidentifier = \"a\"\nname = \"A\nx = 1\n");
    let first = error.first();
    assert_eq!(first.kind, ErrorKind::Syntax);
    assert_eq!(first.line, Some(3));
    let text = error.to_string();
    assert!(text.starts_with("pricing/kelviq.config.toml:3:"), "{text}");

    let error = err_toml("[[features]\nidentifier = \"a\"\n");
    let text = error.to_string();
    assert!(
        text.starts_with("pricing/kelviq.config.toml:1:12: "),
        "{text}"
    );
    assert!(text.contains("expected `]`"), "{text}");
}

#[test]
fn malformed_json_names_file_line_and_what_was_expected() {
    let error = parse_json(
        "{\n  \"features\": [\n    {\"identifier\": \"a\" \"name\": \"A\"}\n  ]\n}",
        "kelviq.config.json",
    )
    .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Syntax);
    let text = error.to_string();
    assert!(text.starts_with("kelviq.config.json:3:"), "{text}");
    assert!(text.contains("expected `,` or `}`"), "{text}");
}

#[test]
fn a_missing_field_is_named() {
    let error = err_toml("[[products]]\nidentifier = \"a\"\nname = \"A\"\n\n[[plans]]\nidentifier = \"pro\"\nproduct = \"a\"\n");
    assert_names(&error, ErrorKind::Schema, 5, "plans[0].name");
    assert!(error.to_string().contains("expected required field `name`"));
}

#[test]
fn an_unknown_field_is_named_with_a_suggestion() {
    let error = err_toml("[[features]]\nidentifier = \"a\"\nname = \"A\"\ntype = \"BOOLEAN\"\nfeature_details = {}\n");
    assert_names(&error, ErrorKind::Schema, 5, "features[0].feature_details");
    assert!(
        error
            .to_string()
            .contains("did you mean \"featureDetails\""),
        "{error}"
    );

    let error = parse_json(
        "{\"plans\": [\n {\"identifier\": \"p\", \"name\": \"P\", \"product\": \"x\",\n  \"isvisible\": true}]}",
        "kelviq.config.json",
    )
    .unwrap_err();
    assert_names(&error, ErrorKind::Schema, 3, "plans[0].isvisible");
    assert!(
        error.to_string().contains("did you mean \"isVisible\""),
        "{error}"
    );
}

#[test]
fn a_value_of_the_wrong_type_is_named() {
    let text = "[[features]]\nidentifier = \"a\"\nname = \"A\"\ntype = \"METER\"\n\n[[plans]]\nidentifier = \"p\"\nname = \"P\"\nproduct = \"x\"\n\n[[plans.entitlements]]\nfeature = \"a\"\nhardLimit = \"yes\"\n";
    let error = err_toml(text);
    assert_names(
        &error,
        ErrorKind::Schema,
        13,
        "plans[0].entitlements[0].hardLimit",
    );
    assert!(error.to_string().contains("expected a boolean"), "{error}");
    assert_eq!(error.first().column, Some(13));

    let error = err_toml("[[plans]]\nidentifier = \"p\"\nname = \"P\"\nproduct = \"x\"\nentitlements = [{ feature = \"a\", value = \"5\" }]\n");
    assert_names(
        &error,
        ErrorKind::Schema,
        5,
        "plans[0].entitlements[0].value",
    );
    assert!(
        error.to_string().contains("expected a boolean or a number"),
        "{error}"
    );

    let error = parse_json(
        "{\"features\": [\n {\"identifier\": \"a\", \"name\": \"A\", \"type\": 3}]}",
        "kelviq.config.json",
    )
    .unwrap_err();
    assert_names(&error, ErrorKind::Schema, 2, "features[0].type");
    assert!(
        error
            .to_string()
            .contains(r#"expected a string such as "BOOLEAN""#),
        "{error}"
    );
}

#[test]
fn a_bad_identifier_is_named_in_toml_and_json() {
    let error =
        err_toml("[[products]]\nidentifier = \"My App\"\nname = \"A\"\ntaxCode = \"saas\"\n");
    assert_names(&error, ErrorKind::Identifier, 2, "products[0].identifier");
    assert_eq!(error.first().column, Some(14));
    assert!(
        error.to_string().contains("^[a-z0-9][a-z0-9-_]*$"),
        "{error}"
    );

    let error = parse_json(
        "{\n  \"features\": [\n    {\"identifier\": \"-a\", \"name\": \"A\", \"type\": \"BOOLEAN\"}\n  ]\n}",
        "kelviq.config.json",
    )
    .unwrap_err();
    assert_names(&error, ErrorKind::Identifier, 3, "features[0].identifier");
    assert_eq!(error.first().column, Some(20));
}

#[test]
fn duplicates_are_named() {
    let text = "[[products]]\nidentifier = \"a\"\nname = \"A\"\ntaxCode = \"saas\"\n\n[[products]]\nidentifier = \"a\"\nname = \"B\"\ntaxCode = \"saas\"\n";
    let error = err_toml(text);
    assert_names(&error, ErrorKind::Duplicate, 7, "products[1].identifier");
    assert!(error.to_string().contains("declared again"), "{error}");

    let text = format!(
        "{}\n[[plans]]\nidentifier = \"p\"\nname = \"P\"\nproduct = \"my-app\"\nentitlements = [{{ feature = \"seats\" }}, {{ feature = \"seats\", value = 2 }}]\nprices = [{{ priceType = \"PAID\", currency = \"USD\" }}, {{ priceType = \"PAID\", currency = \"usd\" }}]\n",
        STARTER_TOML
    );
    let error = err_toml(&text);
    let fields: Vec<_> = error
        .diagnostics()
        .iter()
        .map(|d| d.field.clone().unwrap())
        .collect();
    assert!(
        fields.contains(&"plans[1].entitlements[1].feature".to_owned()),
        "{error}"
    );
    assert!(
        fields.contains(&"plans[1].prices[1].currency".to_owned()),
        "{error}"
    );
    assert!(error
        .diagnostics()
        .iter()
        .all(|d| d.kind == ErrorKind::Duplicate));
}

#[test]
fn unknown_references_are_named_with_a_suggestion() {
    let text = STARTER_TOML.replace("feature = \"seats\"", "feature = \"seat\"");
    let error = err_toml(&text);
    let line = text
        .lines()
        .position(|l| l == "feature = \"seat\"")
        .unwrap()
        + 1;
    assert_names(
        &error,
        ErrorKind::UnknownReference,
        line,
        "plans[0].entitlements[0].feature",
    );
    assert!(
        error.to_string().contains("(did you mean \"seats\"?)"),
        "{error}"
    );

    let text = STARTER_TOML.replace("product = \"my-app\"", "product = \"other\"");
    let error = err_toml(&text);
    let line = text
        .lines()
        .position(|l| l == "product = \"other\"")
        .unwrap()
        + 1;
    assert_names(
        &error,
        ErrorKind::UnknownReference,
        line,
        "plans[0].product",
    );
}

#[test]
fn values_that_do_not_fit_are_named() {
    let text = STARTER_TOML.replace("value = 5", "value = true");
    let error = err_toml(&text);
    let line = text.lines().position(|l| l == "value = true").unwrap() + 1;
    assert_names(
        &error,
        ErrorKind::Value,
        line,
        "plans[0].entitlements[0].value",
    );
    assert!(
        error
            .to_string()
            .contains("expected a number for the CUSTOMIZABLE feature"),
        "{error}"
    );

    let text = STARTER_TOML.replace("name = \"Seats\"", "name = \"\"");
    let error = err_toml(&text);
    let line = text.lines().position(|l| l == "name = \"\"").unwrap() + 1;
    assert_names(&error, ErrorKind::Value, line, "features[0].name");
}

#[test]
fn every_problem_is_reported_in_file_order() {
    let text = "[[products]]\nidentifier = \"A\"\nname = \"\"\ntaxCode = \"saas\"\n\n[[plans]]\nidentifier = \"p\"\nname = \"P\"\nproduct = \"zz\"\n";
    let error = err_toml(text);
    let lines: Vec<_> = error
        .diagnostics()
        .iter()
        .map(|d| d.line.unwrap())
        .collect();
    assert_eq!(lines, [2, 3, 9], "{error}");
    assert_eq!(error.to_string().lines().count(), 3);
}

// ---- the schema ----

#[test]
fn the_schema_is_json_naming_the_top_level_keys() {
    let schema = json_schema();
    let text = serde_json::to_string_pretty(&schema).unwrap();
    let again: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(again, schema);
    assert_eq!(schema["$schema"], "http://json-schema.org/draft-07/schema#");
    assert_eq!(schema["type"], "object");
    assert_eq!(schema["additionalProperties"], false);
    for key in ["products", "features", "plans", "$schema"] {
        assert!(schema["properties"][key].is_object(), "{key} in {text}");
    }
    let definitions = &schema["definitions"];
    for kind in [
        "Product",
        "Feature",
        "Plan",
        "Entitlement",
        "Price",
        "License",
    ] {
        assert!(definitions[kind].is_object(), "{kind} in {text}");
    }
    assert_eq!(
        definitions["Plan"]["properties"]["identifier"]["pattern"],
        IDENTIFIER_PATTERN
    );
    assert_eq!(definitions["Plan"]["additionalProperties"], false);
    assert_eq!(definitions["Entitlement"]["additionalProperties"], true);
    let required = definitions["Product"]["required"].as_array().unwrap();
    for field in ["identifier", "name", "taxCode"] {
        assert!(required.contains(&field.into()), "{field}");
    }
    assert!(text.contains("\"EVERY_28_DAYS\""), "reset values listed");
    assert_eq!(definitions["License"]["additionalProperties"], false);
    assert_eq!(
        definitions["License"]["properties"]["activationLimit"]["minimum"],
        1.0
    );
}

fn temp_dir(tag: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "kelviq-config-{tag}-{}-{:?}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Whatever the text, parsing answers (never panics), and what parses writes back.
#[test]
fn no_input_makes_parsing_or_writing_panic() {
    let json = parse_toml(FULL, "full.toml").unwrap().to_json();
    let mut inputs: Vec<(String, bool)> = Vec::new();
    for (text, is_json) in [(FULL, false), (json.as_str(), true)] {
        for (i, _) in text.char_indices() {
            inputs.push((text[..i].to_owned(), is_json));
            inputs.push((
                format!(
                    "{}{}",
                    &text[..i],
                    &text[i..].replacen(['"', '=', ':', ']', '}'], "", 1)
                ),
                is_json,
            ));
        }
    }
    let odd = [
        "",
        "\u{feff}",
        "[[features]]\nidentifier = \"s\"\nname = \"S\"\ntype = \"METER\"\nidentifier = \"t\"",
        "[[features]]\nidentifier = \"sièges\"\nname = \"S\"\ntype = \"BOOLEAN\"",
        "[[features]]\nidentifier = \"é\"\nname = \"é\"\ntype = \"é\"",
        "[[products]]\nidentifier = \"a\"\nname = \"A\"\ntaxCode = \"saas\"\n[[plans]]\nidentifier = \"p\"\nname = \"P\"\nproduct = \"a\"\ntrialPeriod = 99999999999999999999999\n",
        "[[products]]\nidentifier = \"a\"\nname = \"A\"\ntaxCode = \"saas\"\n[[plans]]\nidentifier = \"p\"\nname = \"P\"\nproduct = \"a\"\ntrialPeriod = -1\n",
        "[[features]]\nidentifier = \"s\"\nname = \"S\"\ntype = \"CUSTOMIZABLE\"\n[[products]]\nidentifier = \"a\"\nname = \"A\"\ntaxCode = \"saas\"\n[[plans]]\nidentifier = \"p\"\nname = \"P\"\nproduct = \"a\"\n[[plans.entitlements]]\nfeature = \"s\"\nvalue = nan\n[[plans.entitlements]]\nfeature = \"s\"\nvalue = inf\n[[plans.entitlements]]\nfeature = \"s\"\nvalue = 1e308\n[[plans.entitlements]]\nfeature = \"s\"\nvalue = 18446744073709551615\n",
        "plans = 1",
        "features = [1, \"x\", {}]",
        "[features]",
    ];
    inputs.extend(odd.iter().map(|t| (t.to_string(), false)));
    inputs.extend(
        [
            "{\"plans\": [{\"trialPeriod\": 1e400}]}",
            "{\"features\": [{\"identifier\": \"s\", \"identifier\": \"t\"}]}",
            "{\"features\": [], \"features\": []}",
            "[]",
            "{\"plans\": [{\"entitlements\": [{\"feature\": \"s\", \"value\": 123456789012345678901234567890}]}]}",
            "\"\\ud800\"",
        ]
        .iter()
        .map(|t| (t.to_string(), true)),
    );
    for (text, is_json) in inputs {
        let parsed = if is_json {
            parse_json(&text, "f.json")
        } else {
            parse_toml(&text, "f.toml")
        };
        match parsed {
            Ok(catalog) => {
                let _ = catalog.to_json();
                let _ = catalog.to_toml();
            }
            Err(error) => {
                assert!(!error.diagnostics().is_empty(), "{text:?}");
                let _ = error.to_string();
            }
        }
    }
}

/// `nan` and `inf` are TOML numbers, but no entitlement value: JSON has no such number (it
/// would be sent as `null`), and `nan` never equals itself (a push would differ forever).
#[test]
fn a_non_finite_entitlement_value_is_refused() {
    for value in ["nan", "inf", "-inf", "+nan"] {
        let text = format!(
            "[[features]]\nidentifier = \"s\"\nname = \"S\"\ntype = \"CUSTOMIZABLE\"\n\
             [[products]]\nidentifier = \"a\"\nname = \"A\"\ntaxCode = \"saas\"\n\
             [[plans]]\nidentifier = \"p\"\nname = \"P\"\nproduct = \"a\"\n\
             [[plans.entitlements]]\nfeature = \"s\"\nvalue = {value}\n"
        );
        let error = parse_toml(&text, "f.toml").expect_err(value);
        let first = &error.diagnostics()[0];
        assert_eq!(first.line, Some(15), "{error}");
        assert!(first.to_string().contains("value"), "{error}");
    }
}
