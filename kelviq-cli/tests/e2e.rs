//! End to end: the `kelviq` binary against the `kelviq-mock` binary, each its own process,
//! the emulator on a free loopback port and killed at the end of each test.
//!
//! The flows of issue 15's "done when": `init` then `push` creates the catalog; a second
//! `push` changes nothing and writes nothing; `pull` then `push` changes nothing; a changed
//! feature stops the push before any write; `--prune` archives only what the CLI marked;
//! `promote` between two API keys of one emulator lists exactly the differences; and an
//! emulator started with `--catalog` sells what the file declares.

mod support;

use kelviq::ChargePeriod;
use serde_json::{json, Value};
use support::{
    descriptions, writes, writes_by, Emulator, Scratch, Target, PRODUCTION_KEY, SANDBOX_KEY,
};

// What production sells before the promote: a product, two features, two plans.
use support::CONFIG as CURRENT;

/// [`CURRENT`] edited in the sandbox: "pro" renamed, more seats, a new feature it
/// grants, a higher price; "free" untouched.
fn next() -> String {
    CURRENT
        .replace("name = \"Pro\"", "name = \"Pro Plan\"")
        .replace(
            "entitlements = [{ feature = \"seats\", value = 5 }, { feature = \"sso\", value = true }]",
            "entitlements = [{ feature = \"seats\", value = 10 }, { feature = \"sso\", value = true }, \
             { feature = \"projects\", value = 3 }]",
        )
        .replace("amount = 29.0", "amount = 39.0")
        .replace(
            "[[plans]]\nidentifier = \"pro\"",
            "[[features]]\nidentifier = \"projects\"\nname = \"Projects\"\ntype = \"CUSTOMIZABLE\"\n\n\
             [[plans]]\nidentifier = \"pro\"",
        )
}

/// One emulator serving a sandbox key and a production key, both empty.
fn two_environments() -> Emulator {
    Emulator::empty(&["--api-key", SANDBOX_KEY, "--api-key", PRODUCTION_KEY])
}

#[test]
fn init_then_push_creates_the_catalog_and_pushing_again_writes_nothing() {
    let emulator = Emulator::empty(&["--api-key", SANDBOX_KEY]);
    let scratch = Scratch::new("e2e-init", &emulator);
    scratch.run(&["init"]).code(0);
    let starter = kelviq_config::parse_toml(kelviq_config::STARTER_TOML, "starter").unwrap();
    assert_eq!(
        kelviq_config::parse_toml(&scratch.read("kelviq.config.toml"), "init").unwrap(),
        starter
    );

    let run = scratch.run(&["push", "--yes"]).code(0);
    assert!(
        run.stdout.contains("Applied 5 operations to sandbox."),
        "{run:?}"
    );
    assert_eq!(
        writes(&emulator),
        [
            "POST /api/v1/catalog/products/",
            "POST /api/v1/catalog/features/",
            "POST /api/v1/catalog/plans/",
            "POST /api/v1/catalog/plans/pro/features/",
            "POST /api/v1/catalog/plans/pro/prices/bulk/",
        ]
    );

    // What the environment holds now is the file.
    scratch.run(&["pull", "-o", "pulled.toml"]).code(0);
    let pulled = kelviq_config::parse_toml(&scratch.read("pulled.toml"), "pulled.toml").unwrap();
    let ids = |c: &kelviq_config::Catalog| {
        (
            c.products
                .iter()
                .map(|p| p.identifier.clone())
                .collect::<Vec<_>>(),
            c.features
                .iter()
                .map(|f| f.identifier.clone())
                .collect::<Vec<_>>(),
            c.plans
                .iter()
                .map(|p| p.identifier.clone())
                .collect::<Vec<_>>(),
        )
    };
    assert_eq!(ids(&pulled), ids(&starter));
    assert_eq!(pulled.plans[0].entitlements[0].feature, "seats");

    // A second push: no changes, and not one write in the emulator's log.
    let document = scratch.plan(&["push", "--dry-run", "--json"]);
    assert_eq!(document["changes"], false, "{document:#}");
    emulator.clear_requests();
    scratch.run(&["push", "--yes"]).code(0);
    assert!(
        !emulator.requests().is_empty(),
        "the push read the environment"
    );
    assert_eq!(writes(&emulator), Vec::<String>::new());

    // Pull then push: nothing to change, nothing written.
    emulator.clear_requests();
    let document = scratch.plan(&["push", "pulled.toml", "--dry-run", "--json"]);
    assert_eq!(document["changes"], false, "{document:#}");
    scratch.run(&["push", "pulled.toml", "--yes"]).code(0);
    assert_eq!(writes(&emulator), Vec::<String>::new());
}

#[test]
fn a_feature_changed_in_the_file_stops_the_push_before_any_write() {
    let emulator = Emulator::empty(&[]);
    let scratch = Scratch::new("e2e-drift", &emulator);
    scratch.write("kelviq.config.toml", CURRENT);
    scratch.run(&["push", "--yes"]).code(0);

    // The file now says "seats" is a meter, and adds a plan that would otherwise be created.
    let drifted = format!(
        "{}\n[[plans]]\nidentifier = \"team\"\nname = \"Team\"\nproduct = \"app\"\n",
        CURRENT.replace("type = \"CUSTOMIZABLE\"", "type = \"METER\"")
    );
    scratch.write("kelviq.config.toml", &drifted);
    emulator.clear_requests();
    let document = scratch.plan(&["push", "--dry-run", "--json"]);
    assert_eq!(
        document["featureDrift"],
        json!([{"identifier": "seats", "fields": [
            {"field": "type", "local": "METER", "remote": "CUSTOMIZABLE"}
        ]}])
    );
    let run = scratch.run(&["push", "--yes"]).code(1);
    assert!(
        run.stderr.contains("feature \"seats\" differs") && run.stderr.contains("(type)"),
        "{run:?}"
    );
    assert!(
        !emulator.requests().is_empty(),
        "the push read the environment"
    );
    assert_eq!(writes(&emulator), Vec::<String>::new());
}

#[test]
fn prune_archives_only_what_the_cli_marked() {
    let emulator = Emulator::empty(&["--api-key", SANDBOX_KEY]);
    let scratch = Scratch::new("e2e-prune", &emulator);
    let with_old = format!(
        "{CURRENT}\n[[plans]]\nidentifier = \"old\"\nname = \"Old\"\nproduct = \"app\"\n\n\
         [[features]]\nidentifier = \"legacy\"\nname = \"Legacy\"\ntype = \"BOOLEAN\"\n"
    );
    scratch.write("kelviq.config.toml", &with_old);
    scratch.run(&["push", "--yes"]).code(0);

    // A plan and a feature made outside the CLI: no marker.
    let client = kelviq::Kelviq::builder(SANDBOX_KEY)
        .base_url(emulator.url())
        .build_blocking()
        .unwrap();
    let products = client.catalog().products().list().send().unwrap();
    client
        .catalog()
        .plans()
        .create("Hand made", products.results[0].id.as_str())
        .identifier("hand-made")
        .send()
        .unwrap();
    client
        .catalog()
        .features()
        .create("Dashboard", kelviq::FeatureType::Boolean)
        .identifier("dashboard")
        .send()
        .unwrap();

    scratch.write("kelviq.config.toml", CURRENT);
    emulator.clear_requests();
    scratch.run(&["push", "--yes", "--prune"]).code(0);
    let written = writes(&emulator);
    assert_eq!(written.len(), 2, "{written:?}");
    assert_eq!(written[0], "DELETE /api/v1/catalog/plans/old/");
    assert!(
        written[1].starts_with("DELETE /api/v1/catalog/features/"),
        "{written:?}"
    );

    // What is left: the file's items, and what the CLI did not make.
    scratch.run(&["pull", "-o", "left.toml"]).code(0);
    let left = kelviq_config::parse_toml(&scratch.read("left.toml"), "left.toml").unwrap();
    let plans: Vec<&str> = left.plans.iter().map(|p| p.identifier.as_str()).collect();
    let features: Vec<&str> = left
        .features
        .iter()
        .map(|f| f.identifier.as_str())
        .collect();
    assert_eq!(plans, ["pro", "free", "hand-made"]);
    assert_eq!(features, ["seats", "sso", "dashboard"]);
    let document = scratch.plan(&["push", "--dry-run", "--json", "--prune"]);
    assert_eq!(document["changes"], false, "{document:#}");
}

#[test]
fn promote_between_two_keys_of_one_emulator_lists_exactly_the_differences() {
    let emulator = two_environments();
    let scratch = Scratch::new("e2e-promote", &emulator).with_production(&emulator);

    // Production sells CURRENT; the sandbox gets the next version.
    scratch.write("kelviq.config.toml", CURRENT);
    scratch.run(&["push", "--prod", "--yes"]).code(0);
    scratch.write("kelviq.config.toml", &next());
    scratch.run(&["push", "--yes"]).code(0);
    // Two environments: the sandbox's push did not reach production.
    scratch.write("current.toml", CURRENT);
    let document = scratch.plan(&["push", "current.toml", "--prod", "--dry-run", "--json"]);
    assert_eq!(document["changes"], false, "{document:#}");

    emulator.clear_requests();
    let document = scratch.plan(&["promote", "--dry-run", "--json"]);
    assert_eq!(document["environment"], "production");
    assert_eq!(document["direction"], "sandbox->production");
    assert_eq!(document["changes"], true);
    assert_eq!(
        descriptions(&document),
        [
            "+ create feature \"projects\"",
            "~ update plan \"pro\": name \"Pro\" → \"Pro Plan\"",
            "~ update entitlement \"seats\" of plan \"pro\": value 5 → 10",
            "+ add entitlement \"projects\" to plan \"pro\"",
            "~ replace prices of plan \"pro\" (1 → 1 price)",
        ],
        "{document:#}"
    );
    let operations: Vec<(&str, &str, &str, &str)> = document["operations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            (
                o["step"].as_str().unwrap(),
                o["action"].as_str().unwrap(),
                o["kind"].as_str().unwrap(),
                o["identifier"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        operations,
        [
            ("features", "create", "feature", "projects"),
            ("plans", "update", "plan", "pro"),
            ("entitlements", "update", "entitlement", "pro"),
            ("entitlements", "create", "entitlement", "pro"),
            ("prices", "replace", "prices", "pro"),
        ]
    );
    assert_eq!(document["featureDrift"], json!([]));
    assert_eq!(document["errors"], json!([]));
    // A dry run reads both environments and writes to neither.
    let read_with = |key: &str| {
        emulator.requests().iter().any(|r| {
            r.headers.get("authorization").map(String::as_str) == Some(&format!("Bearer {key}"))
        })
    };
    assert!(read_with(SANDBOX_KEY) && read_with(PRODUCTION_KEY));
    assert_eq!(writes(&emulator), Vec::<String>::new());

    emulator.clear_requests();
    scratch.run(&["promote", "--yes"]).code(0);
    assert!(
        writes_by(&emulator, SANDBOX_KEY).is_empty(),
        "the source is only read"
    );
    assert!(!writes_by(&emulator, PRODUCTION_KEY).is_empty());
    let document = scratch.plan(&["promote", "--dry-run", "--json"]);
    assert_eq!(document["changes"], false, "{document:#}");
    assert_eq!(document["operations"], json!([]));
    // Production now holds what the sandbox's file says.
    let document = scratch.plan(&["push", "--prod", "--dry-run", "--json"]);
    assert_eq!(document["changes"], false, "{document:#}");
}

#[test]
fn each_key_is_an_environment_and_any_other_key_is_refused() {
    let emulator = two_environments();
    let customer = json!({"customer_id": "c1", "email": "c1@example.com"});
    let (status, answer) = emulator.send(
        "POST",
        "/api/v1/customers/",
        Some(SANDBOX_KEY),
        Some(&customer),
    );
    assert_eq!(status, 201, "{answer}");
    // Production has no such customer, and can make its own of the same id.
    let (status, _) = emulator.send("GET", "/api/v1/customers/c1/", Some(PRODUCTION_KEY), None);
    assert_eq!(status, 404);
    let (status, answer) = emulator.send(
        "POST",
        "/api/v1/customers/",
        Some(PRODUCTION_KEY),
        Some(&customer),
    );
    assert_eq!(status, 201, "{answer}");
    // A key neither environment has: 401, as with one key.
    let (status, answer) = emulator.send("GET", "/api/v1/customers/c1/", Some("sk_other"), None);
    assert_eq!(status, 401, "{answer}");
    let (status, _) = emulator.send("GET", "/api/v1/customers/c1/", None, None);
    assert_eq!(status, 401);
}

/// What the emulator is started with: one product, a metered and a boolean feature, a plan
/// granting both and another granting neither.
const SOLD: &str = r#"
[[products]]
identifier = "reports-app"
name = "Reports"
taxCode = "saas"

[[features]]
identifier = "exports"
name = "Exports"
type = "METER"

[[features]]
identifier = "audit-log"
name = "Audit log"
type = "BOOLEAN"

[[plans]]
identifier = "team-plan"
name = "Team"
product = "reports-app"
entitlements = [
  { feature = "exports", value = 250, hardLimit = true },
  { feature = "audit-log", value = true },
]

[[plans.prices]]
priceType = "PAID"
currency = "USD"
chargeCatalogPrice = [{ priceModel = "FLAT", charges = [{ chargePeriod = "MONTHLY", priceData = { amount = 12.5 } }] }]

[[plans]]
identifier = "starter-plan"
name = "Starter"
product = "reports-app"
"#;

#[test]
fn an_emulator_started_with_catalog_sells_what_the_file_declares_in_every_environment() {
    let dir = Scratch::without_target("e2e-sold");
    dir.write("kelviq.config.toml", SOLD);
    let path = dir.dir.join("kelviq.config.toml");
    let emulator = Emulator::start(&[
        "--api-key",
        SANDBOX_KEY,
        "--api-key",
        PRODUCTION_KEY,
        "--catalog",
        path.to_str().unwrap(),
    ]);

    for key in [SANDBOX_KEY, PRODUCTION_KEY] {
        let client = kelviq::Kelviq::builder(key)
            .base_url(emulator.url())
            .build_blocking()
            .unwrap();
        client
            .customers()
            .create("c1")
            .email("c1@example.com")
            .send()
            .unwrap();
        assert!(!client
            .entitlements()
            .has_access("c1", "audit-log")
            .send()
            .unwrap());

        let session = client
            .checkout()
            .create_session(
                "team-plan",
                ChargePeriod::Monthly,
                "https://example.com/done",
            )
            .customer_id("c1")
            .send()
            .unwrap();
        // The customer's browser visits the URL: on the emulator that pays.
        let path = session
            .checkout_url
            .strip_prefix(&emulator.url())
            .unwrap_or_else(|| panic!("{} on the emulator", session.checkout_url));
        let (status, paid) = emulator.send("GET", path, None, None);
        assert_eq!(status, 200, "{paid}");

        let client = kelviq::Kelviq::builder(key)
            .base_url(emulator.url())
            .build_blocking()
            .unwrap();
        assert!(
            client
                .entitlements()
                .has_access("c1", "audit-log")
                .send()
                .unwrap(),
            "{key}"
        );
        assert!(
            client
                .entitlements()
                .has_access("c1", "exports")
                .send()
                .unwrap(),
            "{key}"
        );
        assert!(
            !client
                .entitlements()
                .has_access("c1", "premium-reporting")
                .send()
                .unwrap(),
            "{key}: the default catalogue is not sold"
        );
        let (status, answer) = emulator.send(
            "GET",
            "/api/v1/entitlements?customer_id=c1&feature_id=exports",
            Some(key),
            None,
        );
        assert_eq!(status, 200, "{answer}");
        let exports = entitlement(&answer, "exports");
        assert_eq!(exports["usageLimit"], 250, "{answer}");
        assert_eq!(exports["hardLimit"], true, "{answer}");

        // A plan the file does not declare cannot be bought.
        let refused = client
            .checkout()
            .create_session(
                "premium-plan",
                ChargePeriod::Monthly,
                "https://example.com/done",
            )
            .customer_id("c1")
            .send();
        assert!(refused.is_err(), "{refused:?}");
    }
}

fn entitlement<'a>(answer: &'a Value, feature: &str) -> &'a Value {
    answer["entitlements"]
        .as_array()
        .and_then(|all| all.iter().find(|e| e["featureId"] == feature))
        .unwrap_or_else(|| panic!("{feature} in {answer}"))
}

/// A file using most of the format, in the form `pull` writes: products, features with
/// details, meter and metadata, plans with metadata, a license, entitlements of every kind
/// and a price of a plan-wide and a per-feature charge.
const ROUND_TRIP: &str = r#"
[[products]]
identifier = "reports-app"
name = "Reports"
taxCode = "saas"
description = "Reports for teams"

[[products]]
identifier = "desktop"
name = "Desktop"
taxCode = "software"

[[features]]
identifier = "exports"
name = "Exports"
type = "METER"
featureDetails = { featureSubType = "PRE_AGGREGATED_USAGE", units = "exports" }
metadata = { owner = "reports" }

[[features]]
identifier = "editors"
name = "Editors"
type = "CUSTOMIZABLE"
description = "People who edit"

[[features]]
identifier = "audit-log"
name = "Audit log"
type = "BOOLEAN"

[[plans]]
identifier = "team-plan"
name = "Team"
product = "reports-app"
description = "For teams"
isVisible = true
metadata = { tier = 2 }
entitlements = [
  { feature = "exports", value = 250, hardLimit = true, reset = "EVERY_MONTH" },
  { feature = "editors", value = 7 },
  { feature = "audit-log", value = true },
]

[[plans.prices]]
priceType = "PAID"
currency = "USD"
freeTrial = false
trialPeriod = 0
enabled = true
taxBehavior = "EXCLUSIVE"
chargeCatalogPrice = [
  { priceModel = "FLAT", charges = [{ chargePeriod = "MONTHLY", priceData = { amount = 12.5 } }, { chargePeriod = "YEARLY", priceData = { amount = 125.0 } }] },
  { feature = "editors", priceModel = "PACKAGE", charges = [{ chargePeriod = "MONTHLY", priceData = { amount = 3.0 } }] },
]

[[plans]]
identifier = "desktop-pro"
name = "Desktop Pro"
product = "desktop"
entitlements = [{ feature = "audit-log", value = false }]

[plans.license]
enabled = true
activationLimit = 3
durationValue = 1
durationUnit = "YEAR"

[[plans.prices]]
priceType = "FREE"
currency = "EUR"
chargeCatalogPrice = []
"#;

#[test]
fn pull_from_an_emulator_started_with_catalog_writes_the_file_back_and_push_changes_nothing() {
    let files = Scratch::without_target("e2e-roundtrip-file");
    files.write("kelviq.config.toml", ROUND_TRIP);
    let path = files.dir.join("kelviq.config.toml");
    let declared = kelviq_config::parse_toml(ROUND_TRIP, "declared").unwrap();
    let builtin = kelviq_mock::catalogue::default_catalog();
    let with_file = [
        "--api-key",
        SANDBOX_KEY,
        "--catalog",
        path.to_str().unwrap(),
    ];
    for (args, expected, what) in [
        (&with_file[..], &declared, "--catalog"),
        (
            &["--api-key", SANDBOX_KEY][..],
            &builtin,
            "the built-in catalogue",
        ),
    ] {
        let emulator = Emulator::start(args);
        let scratch = Scratch::new("e2e-roundtrip", &emulator);
        let run = scratch.run(&["pull"]).code(0);
        assert!(!run.stderr.contains("warning"), "{what}: {run:?}");
        let pulled =
            kelviq_config::parse_toml(&scratch.read("kelviq.config.toml"), "pulled").unwrap();
        assert_eq!(&pulled, expected, "{what}: pull writes the file back");

        emulator.clear_requests();
        let document = scratch.plan(&["push", "--dry-run", "--json"]);
        assert_eq!(document["changes"], false, "{what}: {document:#}");
        assert_eq!(document["operations"], json!([]), "{what}: {document:#}");
        assert!(
            !emulator.requests().is_empty(),
            "{what}: the push read the environment"
        );
        assert_eq!(writes(&emulator), Vec::<String>::new(), "{what}");
    }
}
