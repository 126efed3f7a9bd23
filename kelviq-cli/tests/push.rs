//! `pull`, `push` and `promote`: the diff as pure functions (the CLI's own `plan` and
//! `convert` modules, compiled in here), and the real binary against `kelviq-mock` started
//! in this process, pointed at it through the documented base-URL and key variables
//! (`e2e.rs` runs the same flows against the `kelviq-mock` binary).

#[allow(dead_code)]
#[path = "../src/convert.rs"]
mod convert;
#[allow(dead_code)]
#[path = "../src/plan.rs"]
mod plan;
mod support;

use kelviq_config::Catalog;
use plan::{Action, Kind, Options, Step};
use serde_json::Value;
use std::process::{Command, Stdio};
use support::{descriptions, documented_keys, keys, writes, Run, Scratch, CONFIG};

fn config() -> Catalog {
    kelviq_config::parse_toml(CONFIG, "kelviq.config.toml").unwrap()
}

fn marker() -> kelviq_config::Object {
    plan::with_marker(None)
}

// ---------------------------------------------------------------------------------------
// The diff, pure
// ---------------------------------------------------------------------------------------

#[test]
fn an_empty_remote_gets_everything_created_in_dependency_order() {
    let out = plan::plan(&config(), &Catalog::default(), &Options::default());
    let ops: Vec<(Step, Action, Kind, &str, Option<&str>)> = out
        .operations
        .iter()
        .map(|o| {
            (
                o.step,
                o.action,
                o.kind,
                o.identifier.as_str(),
                o.feature.as_deref(),
            )
        })
        .collect();
    use Action::*;
    assert_eq!(
        ops,
        vec![
            (Step::Products, Create, Kind::Product, "app", None),
            (Step::Features, Create, Kind::Feature, "seats", None),
            (Step::Features, Create, Kind::Feature, "sso", None),
            (Step::Plans, Create, Kind::Plan, "pro", None),
            (Step::Plans, Create, Kind::Plan, "free", None),
            (
                Step::Entitlements,
                Create,
                Kind::Entitlement,
                "pro",
                Some("seats")
            ),
            (
                Step::Entitlements,
                Create,
                Kind::Entitlement,
                "pro",
                Some("sso")
            ),
            (
                Step::Entitlements,
                Create,
                Kind::Entitlement,
                "free",
                Some("seats")
            ),
            (Step::Prices, Replace, Kind::Prices, "pro", None),
        ]
    );
    assert!(out.has_changes() && !out.is_blocked());
    assert_eq!(out.summary()["create"], 8);
    assert_eq!(out.summary()["replace"], 1);
    assert!(out.publish.plans.is_empty(), "no publish without --publish");
}

#[test]
fn a_remote_equal_to_the_file_needs_nothing_whatever_the_marker_and_number_forms() {
    let desired = config();
    let mut remote = desired.clone();
    // What pull reads back: the marker in metadata, 5.0 for 5, prices reordered keys.
    for feature in &mut remote.features {
        feature.metadata = Some(marker());
    }
    for plan in &mut remote.plans {
        plan.metadata = Some(marker());
        plan.prices.get_or_insert_with(Vec::new);
    }
    remote.plans[0].entitlements[0].value = Some(kelviq_config::EntitlementValue::Float(5.0));
    let out = plan::plan(&desired, &remote, &Options::default());
    assert_eq!(out.operations, vec![], "{out:#?}");
    assert!(out.warnings.is_empty() && out.errors.is_empty(), "{out:#?}");
}

#[test]
fn a_feature_that_differs_is_drift_naming_its_fields_and_blocks_the_run() {
    let desired = config();
    let mut remote = desired.clone();
    remote.features[0].feature_type = kelviq_config::FeatureType::Boolean;
    remote.features[0].name = "Users".into();
    let out = plan::plan(&desired, &remote, &Options::default());
    assert!(out.is_blocked());
    assert_eq!(out.feature_drift.len(), 1);
    assert_eq!(out.feature_drift[0].identifier, "seats");
    let fields: Vec<&str> = out.feature_drift[0]
        .fields
        .iter()
        .map(|f| f.field.as_str())
        .collect();
    assert_eq!(fields, ["name", "type"]);
    assert_eq!(out.feature_drift[0].fields[1].local, "CUSTOMIZABLE");
    assert_eq!(out.feature_drift[0].fields[1].remote, "BOOLEAN");
    assert!(out.errors[0].contains("seats") && out.errors[0].contains("type"));
    assert!(
        out.operations.iter().all(|o| o.kind != Kind::Feature),
        "no feature update is ever planned"
    );
}

#[test]
fn prices_are_replaced_whole_when_present_and_different_and_untouched_when_absent() {
    let desired = config();
    let mut remote = desired.clone();
    // A different amount: replaced as a whole.
    let mut other = desired.plans[0].prices.clone().unwrap();
    other[0].trial_period = Some(14);
    remote.plans[0].prices = Some(other);
    remote.plans[1].prices = Some(desired.plans[0].prices.clone().unwrap());
    let out = plan::plan(&desired, &remote, &Options::default());
    let prices: Vec<&str> = out
        .operations
        .iter()
        .filter(|o| o.kind == Kind::Prices)
        .map(|o| o.identifier.as_str())
        .collect();
    // "free" has no `prices` key: its remote prices stay although they differ.
    assert_eq!(prices, ["pro"]);
    assert_eq!(out.operations[0].changes[0].field, "prices");

    // An empty list is not an absent key: it replaces the set with nothing.
    let mut desired = desired;
    desired.plans[1].prices = Some(Vec::new());
    let out = plan::plan(&desired, &remote, &Options::default());
    let prices: Vec<&str> = out
        .operations
        .iter()
        .filter(|o| o.kind == Kind::Prices)
        .map(|o| o.identifier.as_str())
        .collect();
    assert_eq!(prices, ["pro", "free"]);
}

#[test]
fn plan_and_entitlement_changes_are_value_to_value_and_publish_takes_only_changed_plans() {
    let mut desired = config();
    let remote = {
        let mut r = desired.clone();
        r.plans[0]
            .entitlements
            .push(kelviq_config::Entitlement::new("extra"));
        r
    };
    desired.plans[0].name = "Pro Plan".into();
    desired.plans[0].entitlements[0].value = Some(kelviq_config::EntitlementValue::Integer(10));
    let options = Options {
        publish: true,
        ..Options::default()
    };
    let out = plan::plan(&desired, &remote, &options);
    let descriptions: Vec<&str> = out
        .operations
        .iter()
        .map(|o| o.description.as_str())
        .collect();
    assert_eq!(
        descriptions,
        [
            "~ update plan \"pro\": name \"Pro\" → \"Pro Plan\"",
            "~ update entitlement \"seats\" of plan \"pro\": value 5 → 10",
            "- remove entitlement \"extra\" from plan \"pro\"",
            "^ publish plan \"pro\"",
        ]
    );
    assert_eq!(
        out.publish.plans,
        ["pro"],
        "\"free\" is unchanged: not published"
    );
}

/// Review 4: a `[plans.license]` table issues keys unless it says `enabled = false`, and its
/// `activationLimit` applies unless `activationLimitEnabled = false` (kelviq-config's
/// `License`; the emulator sells such a file so, and `push` creates a plan so). Against a
/// plan whose keys or limit are off, only the fields written in the table were compared:
/// no change, `"changes": false`, and the plan kept issuing no keys.
#[test]
fn a_license_table_turns_keys_and_their_limit_on_where_the_remote_has_them_off() {
    use kelviq_config::License;
    let license_changes = |file: Option<License>, there: Option<License>| {
        let mut desired = config();
        desired.plans[0].license = file;
        let mut remote = desired.clone();
        remote.plans[0].license = there;
        plan::plan(&desired, &remote, &Options::default())
            .operations
            .into_iter()
            .filter(|o| o.changes.iter().any(|c| c.field == "license"))
            .count()
    };
    let limit = |n| License {
        activation_limit: Some(n),
        ..License::default()
    };
    let keys_off = License {
        enabled: Some(false),
        ..limit(3)
    };
    assert_eq!(
        license_changes(Some(limit(3)), Some(keys_off)),
        1,
        "keys off"
    );
    let limit_off = License {
        activation_limit_enabled: Some(false),
        ..limit(3)
    };
    assert_eq!(
        license_changes(Some(limit(3)), Some(limit_off)),
        1,
        "limit off"
    );
    assert_eq!(
        license_changes(Some(License::default()), None),
        1,
        "an empty table against a plan without a license"
    );
    // The same license, as the server answers it (the defaults written out or not), is no
    // change.
    let written_out = License {
        enabled: Some(true),
        activation_limit_enabled: Some(true),
        ..limit(3)
    };
    assert_eq!(license_changes(Some(limit(3)), Some(written_out)), 0);
    assert_eq!(license_changes(Some(limit(3)), Some(limit(3))), 0);
}

#[test]
fn prune_archives_only_marked_plans_and_features_and_never_products() {
    let desired = config();
    let mut remote = desired.clone();
    let mut marked_plan = desired.plans[1].clone();
    marked_plan.identifier = "old".into();
    marked_plan.metadata = Some(marker());
    let mut dashboard_plan = desired.plans[1].clone();
    dashboard_plan.identifier = "hand-made".into();
    let mut marked_feature = desired.features[1].clone();
    marked_feature.identifier = "legacy".into();
    marked_feature.metadata = Some(marker());
    let mut product = desired.products[0].clone();
    product.identifier = "other-app".into();
    remote.plans.extend([marked_plan, dashboard_plan]);
    remote.features.push(marked_feature);
    remote.products.push(product);

    // Without --prune: nothing archived, everything remote-only warned about.
    let out = plan::plan(&desired, &remote, &Options::default());
    assert!(out.operations.is_empty(), "{out:#?}");
    assert_eq!(out.warnings.len(), 4);
    assert!(out.prune.archive.is_empty());

    let out = plan::plan(
        &desired,
        &remote,
        &Options {
            prune: true,
            ..Options::default()
        },
    );
    let archived: Vec<(Step, Kind, &str)> = out
        .operations
        .iter()
        .map(|o| (o.step, o.kind, o.identifier.as_str()))
        .collect();
    assert_eq!(
        archived,
        [
            (Step::Prune, Kind::Plan, "old"),
            (Step::Prune, Kind::Feature, "legacy")
        ]
    );
    let skipped: Vec<(Kind, &str)> = out
        .prune
        .skipped
        .iter()
        .map(|s| (s.kind, s.identifier.as_str()))
        .collect();
    assert_eq!(
        skipped,
        [(Kind::Plan, "hand-made"), (Kind::Product, "other-app")]
    );
}

#[test]
fn values_the_api_cannot_take_stop_the_run_before_any_write() {
    let text = CONFIG.replace("priceModel = \"FLAT\"", "priceModel = \"BARTER\"");
    let desired = kelviq_config::parse_toml(&text, "kelviq.config.toml").unwrap();
    let out = plan::plan(&desired, &Catalog::default(), &Options::default());
    assert!(out.is_blocked());
    assert!(
        out.errors[0].contains("plan \"pro\", prices[0]") && out.errors[0].contains("BARTER"),
        "{:?}",
        out.errors
    );

    // A price naming a feature neither the file nor the environment has.
    let text = CONFIG.replace("{ priceModel", "{ feature = \"nope\", priceModel");
    let desired = kelviq_config::parse_toml(&text, "kelviq.config.toml").unwrap();
    let out = plan::plan(&desired, &Catalog::default(), &Options::default());
    assert_eq!(
        out.errors,
        ["plan \"pro\", prices[0]: chargeCatalogPrice[0].feature: no feature \"nope\" in the environment"]
    );
    let text = CONFIG.replace("{ priceModel", "{ feature = \"seats\", priceModel");
    let desired = kelviq_config::parse_toml(&text, "kelviq.config.toml").unwrap();
    assert!(!plan::plan(&desired, &Catalog::default(), &Options::default()).is_blocked());
}

#[test]
fn the_json_document_has_exactly_the_documented_keys() {
    let out = plan::plan(&config(), &Catalog::default(), &Options::default());
    let document = out.to_json("sandbox", "config->sandbox");
    assert_eq!(keys(&document), documented_keys());
}

// ---------------------------------------------------------------------------------------
// The binary against the emulator
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dry_run_json_against_an_empty_environment_plans_everything_and_writes_nothing() {
    let server = support::empty_server().await;
    let scratch = Scratch::new("dry", &server);
    scratch.write("kelviq.config.toml", CONFIG);

    let document = scratch.plan(&["push", "--dry-run", "--json"]);
    assert_eq!(document["environment"], "sandbox");
    assert_eq!(document["direction"], "config->sandbox");
    assert_eq!(document["changes"], true);
    assert_eq!(document["summary"]["create"], 8);
    assert_eq!(document["summary"]["replace"], 1);
    assert_eq!(document["summary"]["total"], 9);
    let steps: Vec<&str> = document["operations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["step"].as_str().unwrap())
        .collect();
    assert_eq!(
        steps,
        [
            "products",
            "features",
            "features",
            "plans",
            "plans",
            "entitlements",
            "entitlements",
            "entitlements",
            "prices"
        ]
    );
    assert_eq!(document["featureDrift"], serde_json::json!([]));
    assert_eq!(document["errors"], serde_json::json!([]));
    assert_eq!(document["publish"]["enabled"], false);
    assert_eq!(document["prune"]["enabled"], false);
    // Read, never written.
    assert!(server.requests().iter().any(|r| r.method == "GET"));
    assert_eq!(writes(&server), Vec::<String>::new());

    // The text diff: one line per operation on stdout, exit 0, nothing written.
    let run = scratch.run(&["push", "--dry-run"]).code(0);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines[0], "Changes to sandbox:");
    assert_eq!(lines[1], "  + create product \"app\"");
    assert_eq!(lines[6], "  + add entitlement \"seats\" to plan \"pro\"");
    assert_eq!(lines[9], "  ~ replace prices of plan \"pro\" (0 → 1 price)");
    assert_eq!(lines.len(), 10, "{run:?}");

    // --publish and --prune show in the document, still with no writes.
    let document = scratch.plan(&["push", "--dry-run", "--json", "--publish", "--prune"]);
    assert_eq!(
        document["publish"]["plans"],
        serde_json::json!(["pro", "free"])
    );
    assert_eq!(document["publish"]["migrateFeatures"], false);
    assert_eq!(document["summary"]["publish"], 2);
    assert_eq!(writes(&server), Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn usage_errors_and_refusals_write_nothing() {
    let server = support::empty_server().await;
    let scratch = Scratch::new("usage", &server);
    scratch.write("kelviq.config.toml", CONFIG);

    // Migration flags without --publish, --json without --dry-run: usage errors.
    scratch
        .run(&["push", "--migrate-features", "--yes"])
        .code(2);
    scratch.run(&["push", "--migrate-pricing", "--yes"]).code(2);
    scratch
        .run(&["promote", "--migrate-pricing", "--yes"])
        .code(2);
    scratch.run(&["push", "--json", "--yes"]).code(2);
    // No terminal and no --yes: nobody can confirm.
    let run = scratch.run(&["push"]).code(1);
    assert!(run.stderr.contains("--yes"), "{run:?}");
    assert_eq!(writes(&server), Vec::<String>::new());

    // No key: the documented variable is named; in JSON mode an {"error"} document.
    let mut keyless = Scratch::new("nokey", &server);
    keyless
        .env
        .retain(|(k, _)| k != "KELVIQ_SANDBOX_SERVER_API_KEY");
    keyless.write("kelviq.config.toml", CONFIG);
    let run = keyless.run(&["push", "--dry-run", "--json"]).code(1);
    let error: Value = serde_json::from_str(&run.stdout).unwrap();
    assert!(error["error"]
        .as_str()
        .unwrap()
        .contains("KELVIQ_SANDBOX_SERVER_API_KEY"));
    let run = keyless.run(&["push", "--prod", "--dry-run"]).code(1);
    assert!(run.stderr.contains("KELVIQ_SERVER_API_KEY"), "{run:?}");
    // pull: `pull failed: <reason>`, the file untouched even with --force.
    let run = keyless.run(&["pull", "--force"]).code(1);
    assert!(
        run.stderr
            .contains("pull failed: no sandbox Server API key"),
        "{run:?}"
    );
    assert_eq!(keyless.read("kelviq.config.toml"), CONFIG);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn push_converges_then_pull_round_trips_and_a_second_push_has_nothing_to_do() {
    let server = support::empty_server().await;
    let scratch = Scratch::new("converge", &server);
    scratch.write("kelviq.config.toml", CONFIG);

    let run = scratch.run(&["push", "--yes"]).code(0);
    assert!(
        run.stdout.contains("Applied 9 operations to sandbox."),
        "{run:?}"
    );
    let written = writes(&server);
    assert!(
        !written.iter().any(|w| w.contains("/publish/")),
        "drafts only without --publish: {written:?}"
    );

    let document = scratch.plan(&["push", "--dry-run", "--json"]);
    assert_eq!(document["changes"], false, "{document:#}");
    assert_eq!(document["operations"], serde_json::json!([]));

    // pull writes the same catalogue, with the marker on what push created.
    scratch.run(&["pull", "-o", "pulled.toml"]).code(0);
    let mut pulled =
        kelviq_config::parse_toml(&scratch.read("pulled.toml"), "pulled.toml").unwrap();
    for feature in &mut pulled.features {
        assert!(plan::is_marked(feature.metadata.as_ref()), "{feature:?}");
        feature.metadata = None;
    }
    for plan in &mut pulled.plans {
        assert!(plan::is_marked(plan.metadata.as_ref()), "{plan:?}");
        plan.metadata = None;
    }
    let mut expected = config();
    // What the file leaves out is read back as the service has it: the emulator makes a
    // plan visible, and "free" has no prices.
    for plan in &mut expected.plans {
        plan.is_visible = Some(true);
    }
    expected.plans[1].prices = Some(Vec::new());
    let normalize = |c: &Catalog| serde_json::to_value(c).unwrap();
    assert!(
        plan::same(Some(&normalize(&pulled)), Some(&normalize(&expected))),
        "pulled:\n{}\nexpected:\n{}",
        normalize(&pulled),
        normalize(&expected)
    );
    // Without --force the file is not overwritten; as JSON with a .json path.
    scratch.run(&["pull", "-o", "pulled.toml"]).code(1);
    scratch
        .run(&["pull", "-o", "pulled.toml", "--force"])
        .code(0);
    scratch.run(&["pull", "-o", "pulled.json"]).code(0);
    kelviq_config::parse_json(&scratch.read("pulled.json"), "pulled.json").unwrap();

    // The pulled file pushes as a no-op too.
    let document = scratch.plan(&["push", "pulled.toml", "--dry-run", "--json"]);
    assert_eq!(document["changes"], false, "{document:#}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_publish_prices_and_drift_behave_as_documented() {
    let server = support::empty_server().await;
    let scratch = Scratch::new("change", &server);
    scratch.write("kelviq.config.toml", CONFIG);
    scratch.run(&["push", "--yes"]).code(0);

    // A rename, a new limit, and "free" losing... nothing: only "pro" changes.
    let edited = CONFIG
        .replace("name = \"Pro\"", "name = \"Pro Plan\"")
        .replace("value = 5 }", "value = 10 }");
    scratch.write("kelviq.config.toml", &edited);
    let document = scratch.plan(&["push", "--dry-run", "--json", "--publish"]);
    assert_eq!(
        descriptions(&document),
        [
            "~ update plan \"pro\": name \"Pro\" → \"Pro Plan\"",
            "~ update entitlement \"seats\" of plan \"pro\": value 5 → 10",
            "^ publish plan \"pro\"",
        ]
    );
    server.clear_requests();
    scratch.run(&["push", "--yes", "--publish"]).code(0);
    let publishes: Vec<Value> = server
        .requests()
        .into_iter()
        .filter(|r| r.path.ends_with("/publish/"))
        .map(|r| r.body)
        .collect();
    assert_eq!(publishes.len(), 1);
    assert_eq!(publishes[0]["updateFeatures"], false, "{publishes:?}");
    assert_eq!(publishes[0]["updatePricing"], false, "{publishes:?}");
    assert_eq!(
        scratch.plan(&["push", "--dry-run", "--json"])["changes"],
        false
    );

    // A migration flag is sent as given, the other stays false.
    scratch.write(
        "kelviq.config.toml",
        &edited.replace("value = 10 }", "value = 12 }"),
    );
    server.clear_requests();
    scratch
        .run(&["push", "--yes", "--publish", "--migrate-features"])
        .code(0);
    let publish = server
        .requests()
        .into_iter()
        .find(|r| r.path.ends_with("/publish/"))
        .unwrap();
    assert_eq!(publish.body["updateFeatures"], true, "{:?}", publish.body);
    assert_eq!(publish.body["updatePricing"], false, "{:?}", publish.body);
    scratch.write("kelviq.config.toml", &edited);
    scratch.run(&["push", "--yes"]).code(0);

    // Without a `prices` key, remote prices are left alone; with one, replaced whole.
    let no_prices = {
        let start = edited.find("[[plans.prices]]").unwrap();
        let end = edited.find("[[plans]]\nidentifier = \"free\"").unwrap();
        format!("{}{}", &edited[..start], &edited[end..])
    };
    scratch.write("kelviq.config.toml", &no_prices);
    assert_eq!(
        scratch.plan(&["push", "--dry-run", "--json"])["changes"],
        false
    );
    let cheaper = edited.replace("amount = 29.0", "amount = 19.0");
    scratch.write("kelviq.config.toml", &cheaper);
    let document = scratch.plan(&["push", "--dry-run", "--json"]);
    assert_eq!(
        descriptions(&document),
        ["~ replace prices of plan \"pro\" (1 → 1 price)"]
    );
    server.clear_requests();
    scratch.run(&["push", "--yes"]).code(0);
    assert_eq!(
        writes(&server),
        ["POST /api/v1/catalog/plans/pro/prices/bulk/"]
    );

    // A feature whose type differs: drift, named, and nothing written.
    let drifted = cheaper
        .replace("type = \"CUSTOMIZABLE\"", "type = \"METER\"")
        .replace("name = \"SSO\"", "name = \"Single sign-on\"");
    scratch.write("kelviq.config.toml", &drifted);
    let document = scratch.plan(&["push", "--dry-run", "--json"]);
    assert_eq!(
        document["featureDrift"],
        serde_json::json!([
            {"identifier": "seats", "fields": [
                {"field": "type", "local": "METER", "remote": "CUSTOMIZABLE"}
            ]},
            {"identifier": "sso", "fields": [
                {"field": "name", "local": "Single sign-on", "remote": "SSO"}
            ]}
        ])
    );
    assert!(!document["errors"].as_array().unwrap().is_empty());
    server.clear_requests();
    let run = scratch.run(&["push", "--yes"]).code(1);
    assert!(
        run.stderr.contains("feature \"seats\" differs") && run.stderr.contains("(type)"),
        "{run:?}"
    );
    assert_eq!(writes(&server), Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prune_archives_marked_resources_only_and_never_in_production_unattended() {
    let server = support::empty_server().await;
    let scratch = Scratch::new("prune", &server);
    let with_old = format!(
        "{CONFIG}\n[[plans]]\nidentifier = \"old\"\nname = \"Old\"\nproduct = \"app\"\n\n\
         [[features]]\nidentifier = \"legacy\"\nname = \"Legacy\"\ntype = \"BOOLEAN\"\n"
    );
    scratch.write("kelviq.config.toml", &with_old);
    scratch.run(&["push", "--yes"]).code(0);

    // A plan made outside the CLI: no marker.
    let client = kelviq::Kelviq::builder("sk_test_cli")
        .base_url(server.url())
        .build()
        .unwrap();
    let products = client.catalog().products().list().send().await.unwrap();
    client
        .catalog()
        .plans()
        .create("Hand made", products.results[0].id.as_str())
        .identifier("hand-made")
        .send()
        .await
        .unwrap();

    scratch.write("kelviq.config.toml", CONFIG);
    let document = scratch.plan(&["push", "--dry-run", "--json"]);
    assert_eq!(document["changes"], false);
    assert_eq!(
        document["warnings"].as_array().unwrap().len(),
        3,
        "{document:#}"
    );

    let document = scratch.plan(&["push", "--dry-run", "--json", "--prune"]);
    assert_eq!(
        document["prune"]["archive"],
        serde_json::json!([
            {"kind": "plan", "identifier": "old"},
            {"kind": "feature", "identifier": "legacy"}
        ])
    );
    let skipped: Vec<&str> = document["prune"]["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["identifier"].as_str().unwrap())
        .collect();
    assert_eq!(skipped, ["hand-made"]);

    server.clear_requests();
    scratch.run(&["push", "--yes", "--prune"]).code(0);
    let written = writes(&server);
    assert_eq!(written.len(), 2, "{written:?}");
    assert!(written[0].starts_with("DELETE /api/v1/catalog/plans/old/"));
    assert!(written[1].starts_with("DELETE /api/v1/catalog/features/"));
    let document = scratch.plan(&["push", "--dry-run", "--json", "--prune"]);
    assert_eq!(document["changes"], false, "{document:#}");

    // Production: --yes never unlocks a prune; --allow-prod-prune does.
    let production = support::empty_server().await;
    let mut prod = Scratch::new("prune-prod", &server);
    prod.env.push(("KELVIQ_BASE_URL".into(), production.url()));
    prod.env
        .push(("KELVIQ_SERVER_API_KEY".into(), "sk_live_cli".into()));
    prod.write("kelviq.config.toml", &with_old);
    prod.run(&["push", "--prod", "--yes"]).code(0);
    prod.write("kelviq.config.toml", CONFIG);
    production.clear_requests();
    let run = prod.run(&["push", "--prod", "--yes", "--prune"]).code(1);
    assert!(run.stderr.contains("--allow-prod-prune"), "{run:?}");
    assert_eq!(writes(&production), Vec::<String>::new());
    prod.run(&["push", "--prod", "--yes", "--prune", "--allow-prod-prune"])
        .code(0);
    assert_eq!(writes(&production).len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn promote_reconciles_production_toward_the_sandbox() {
    let sandbox = support::empty_server().await;
    let production = support::empty_server().await;
    let mut scratch = Scratch::new("promote", &sandbox);
    scratch.write("kelviq.config.toml", CONFIG);
    scratch.run(&["push", "--yes"]).code(0);

    // Without the production key: refused, naming its variable.
    let run = scratch.run(&["promote", "--dry-run"]).code(1);
    assert!(run.stderr.contains("KELVIQ_SERVER_API_KEY"), "{run:?}");

    scratch
        .env
        .push(("KELVIQ_BASE_URL".into(), production.url()));
    scratch
        .env
        .push(("KELVIQ_SERVER_API_KEY".into(), "sk_live_cli".into()));
    let document = scratch.plan(&["promote", "--dry-run", "--json"]);
    assert_eq!(document["environment"], "production");
    assert_eq!(document["direction"], "sandbox->production");
    assert_eq!(document["changes"], true);
    assert_eq!(document["summary"]["total"], 9);
    assert_eq!(writes(&production), Vec::<String>::new());

    scratch.run(&["promote", "--yes"]).code(0);
    let document = scratch.plan(&["promote", "--dry-run", "--json"]);
    assert_eq!(document["changes"], false, "{document:#}");
    // Production now holds what the config file says.
    let document = scratch.plan(&["push", "--prod", "--dry-run", "--json"]);
    assert_eq!(document["changes"], false, "{document:#}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failure_mid_run_stops_and_reports_what_was_and_was_not_applied() {
    let server = support::empty_server().await;
    let scratch = Scratch::new("midrun", &server);
    scratch.write("kelviq.config.toml", CONFIG);
    server
        .inject(kelviq_mock::Fault::new(
            "bulkSetCatalogPlanPrices",
            5,
            kelviq_mock::FaultKind::status(422),
        ))
        .unwrap();

    let run = scratch.run(&["push", "--yes", "--publish"]).code(1);
    assert!(
        run.stderr
            .contains("push stopped after applying 8 of 11 operations"),
        "{run:?}"
    );
    let not_applied = run.stderr.split("not applied:").nth(1).unwrap_or_default();
    assert!(
        not_applied.contains("~ replace prices of plan \"pro\"")
            && not_applied.contains("^ publish plan \"pro\"")
            && !not_applied.contains("create product"),
        "{run:?}"
    );
    assert!(
        !writes(&server).iter().any(|w| w.contains("/publish/")),
        "nothing after the failure is sent"
    );

    // What was applied stays; the next run does the rest.
    server.clear_faults();
    let document = scratch.plan(&["push", "--dry-run", "--json"]);
    assert_eq!(
        descriptions(&document),
        ["~ replace prices of plan \"pro\" (0 → 1 price)"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_feature_price_travels_by_identifier_and_round_trips() {
    let server = support::empty_server().await;
    let scratch = Scratch::new("tiers", &server);
    let tiered = CONFIG.replace(
        "chargeCatalogPrice = [{ priceModel = \"FLAT\", charges = [{ chargePeriod = \"MONTHLY\", priceData = { amount = 29.0 } }] }]",
        "chargeCatalogPrice = [\n  { priceModel = \"FLAT\", charges = [{ chargePeriod = \"MONTHLY\", priceData = { amount = 29.0 } }] },\n  { feature = \"seats\", priceModel = \"TIERED\", charges = [{ chargePeriod = \"MONTHLY\", tiers = [{ upTo = 10, unitAmount = 0.0 }, { upTo = \"inf\", unitAmount = 2.5 }] }] },\n]",
    );
    assert_ne!(tiered, CONFIG);
    scratch.write("kelviq.config.toml", &tiered);
    scratch.run(&["push", "--yes"]).code(0);

    // On the wire the feature is its UUID.
    let bulk = server
        .requests()
        .into_iter()
        .find(|r| r.path.ends_with("/prices/bulk/"))
        .unwrap();
    let feature = bulk.body["prices"][0]["chargeCatalogPrice"][1]["feature"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(feature.len(), 36, "{}", bulk.body);

    // In the pulled file it is the identifier again, and nothing is left to change.
    scratch.run(&["pull", "-o", "pulled.toml"]).code(0);
    let pulled = kelviq_config::parse_toml(&scratch.read("pulled.toml"), "pulled.toml").unwrap();
    let prices = pulled.plans[0].prices.as_ref().unwrap();
    let entries = prices[0].charge_catalog_price.as_ref().unwrap();
    assert_eq!(entries[1]["feature"], "seats", "{entries:?}");
    assert_eq!(
        scratch.plan(&["push", "--dry-run", "--json"])["changes"],
        false
    );
    assert_eq!(
        scratch.plan(&["push", "pulled.toml", "--dry-run", "--json"])["changes"],
        false
    );
}

/// Every way `--dry-run --json` can fail before the plan still prints exactly one
/// `{"error"}` document on stdout, nothing on stderr, and exits 1, writing nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dry_run_json_failures_are_one_error_document() {
    let server = support::empty_server().await;
    let check = |scratch: &Scratch, args: &[&str]| {
        let run = scratch.run(args).code(1);
        let document: Value = serde_json::from_str(&run.stdout)
            .unwrap_or_else(|e| panic!("one JSON document ({e}): {run:?}"));
        assert!(
            document["error"].as_str().is_some_and(|e| !e.is_empty()),
            "{run:?}"
        );
        assert_eq!(run.stderr, "", "{run:?}");
        assert!(!run.stdout.contains("SECRET"), "{run:?}");
    };
    // An invalid config, an empty one that is not TOML, a missing one.
    let scratch = Scratch::new("json-errors", &server);
    scratch.write("kelviq.config.toml", "[[plans]]\nidentifier = 1\n");
    check(&scratch, &["push", "--dry-run", "--json"]);
    scratch.write("bad.json", "{");
    check(&scratch, &["push", "bad.json", "--dry-run", "--json"]);
    check(&scratch, &["push", "missing.toml", "--dry-run", "--json"]);
    // A base URL that is no URL.
    let mut bad_url = Scratch::new("json-url", &server);
    bad_url.write("kelviq.config.toml", CONFIG);
    bad_url.env[0].1 = "not a url".into();
    check(&bad_url, &["push", "--dry-run", "--json"]);
    check(&bad_url, &["promote", "--dry-run", "--json"]);
    // A credentials file that is not one, holding a key.
    let mut broken = Scratch::new("json-creds", &server);
    broken
        .env
        .retain(|(k, _)| k != "KELVIQ_SANDBOX_SERVER_API_KEY");
    broken.write("kelviq.config.toml", CONFIG);
    std::fs::create_dir_all(broken.dir.join("config/kelviq")).unwrap();
    broken.write(
        "config/kelviq/credentials.toml",
        "[sandbox]\nserver_api_key = \"sk_SECRET_1\"\nserver_api_key = \"sk_SECRET_2\"\n",
    );
    check(&broken, &["push", "--dry-run", "--json"]);
    check(&broken, &["promote", "--dry-run", "--json"]);
    assert_eq!(writes(&server), Vec::<String>::new());
}

/// What reading the environment reports (here a plan's links, which the config format
/// cannot hold) reaches the `warnings` of `--dry-run --json` and, without `--json`,
/// standard error, named after the environment it is about.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn warnings_from_reading_the_environment_are_reported() {
    let server = support::empty_server().await;
    let scratch = Scratch::new("read-warnings", &server);
    scratch.write("kelviq.config.toml", CONFIG);
    scratch.run(&["push", "--yes"]).code(0);
    let client = kelviq::Kelviq::builder("sk_test_cli")
        .base_url(server.url())
        .build()
        .unwrap();
    client
        .catalog()
        .plans()
        .update("pro")
        .links([kelviq::model::PlanLink::new(
            "Docs",
            "https://example.com/docs",
        )])
        .send()
        .await
        .unwrap();
    let expected = "sandbox: plan \"pro\": `links` cannot be written in the config format; \
                    ignored, and kept as is in the environment";

    let document = scratch.plan(&["push", "--dry-run", "--json"]);
    assert_eq!(document["changes"], false, "{document:#}");
    assert_eq!(
        document["warnings"],
        serde_json::json!([expected]),
        "{document:#}"
    );

    let run = scratch.run(&["push", "--dry-run"]).code(0);
    assert_eq!(run.stderr, format!("warning: {expected}\n"), "{run:?}");
    // An applying run says it too.
    let run = scratch.run(&["push", "--yes"]).code(0);
    assert!(run.stderr.contains(expected), "{run:?}");
    assert_eq!(writes(&server).len(), 9 + 1, "the push wrote nothing more");
}

/// A command line clap refuses, with `--json` on it, is one `{"error"}` document on
/// standard output naming what is wrong, nothing on standard error, exit code 2.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn usage_errors_with_json_are_one_error_document() {
    let server = support::empty_server().await;
    let scratch = Scratch::new("json-usage", &server);
    scratch.write("kelviq.config.toml", CONFIG);
    let cases: &[(&[&str], &str)] = &[
        (&["push", "--dry-run", "--json", "--bogus"], "--bogus"),
        (&["promote", "--json", "--dry-run", "--bogus"], "--bogus"),
        (&["env", "--json", "--bogus"], "--bogus"),
        // --json needs --dry-run; a migration flag needs --publish.
        (&["push", "--json", "--yes"], "--dry-run"),
        (
            &["push", "--dry-run", "--json", "--migrate-pricing"],
            "--publish",
        ),
        // A flag given a value it does not take; a second config path; a missing value.
        (&["push", "--dry-run", "--json=yes"], "--json"),
        (
            &["push", "a.toml", "b.toml", "--dry-run", "--json"],
            "b.toml",
        ),
        (&["pull", "--json", "-o"], "--json"),
        // No command at all.
        (&["--json"], "--json"),
    ];
    for (args, named) in cases {
        let run = scratch.run(args).code(2);
        let document: Value = serde_json::from_str(&run.stdout)
            .unwrap_or_else(|e| panic!("{args:?}: one JSON document ({e}): {run:?}"));
        assert_eq!(keys(&document), ["error"], "{args:?}: {run:?}");
        let error = document["error"].as_str().unwrap();
        assert!(error.contains(named), "{args:?}: {error}");
        assert!(!error.starts_with("error:"), "{args:?}: {error}");
        assert_eq!(run.stderr, "", "{args:?}: {run:?}");
    }
    // A refused `login` line is not quoted back, in JSON either.
    let run = scratch
        .run(&["login", "--json", "--key-stdin=sk_test_SECRET"])
        .code(2);
    let document: Value = serde_json::from_str(&run.stdout).unwrap();
    assert!(document["error"].as_str().unwrap().contains("login --help"));
    assert!(
        !run.stdout.contains("SECRET") && run.stderr.is_empty(),
        "{run:?}"
    );
    // Without --json, clap's own message on standard error, as before.
    let run = scratch.run(&["push", "--dry-run", "--bogus"]).code(2);
    assert!(
        run.stdout.is_empty() && run.stderr.contains("--bogus"),
        "{run:?}"
    );
    // Help is still help.
    let run = scratch.run(&["push", "--json", "--help"]).code(0);
    assert!(run.stdout.contains("--dry-run"), "{run:?}");
    assert_eq!(writes(&server), Vec::<String>::new());
}

/// `pull --force` whose write fails half-way (here the process may not write more than a
/// few hundred bytes to any file: `ulimit -f`, with SIGXFSZ ignored so that the write
/// fails instead of killing the process) leaves the existing file exactly as it was, and no
/// temporary file beside it.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pull_force_that_fails_mid_write_keeps_the_existing_file() {
    let server = support::empty_server().await;
    let scratch = Scratch::new("pull-atomic", &server);
    scratch.write("kelviq.config.toml", CONFIG);
    scratch.run(&["push", "--yes"]).code(0);
    scratch.run(&["pull", "-o", "pulled.toml"]).code(0);
    let pulled = scratch.read("pulled.toml");
    // Bigger than the limit below in any shell's unit (512 or 1024 bytes a block).
    assert!(pulled.len() > 1024, "{}", pulled.len());

    let output = Command::new("sh")
        .arg("-c")
        .arg("trap '' XFSZ; ulimit -f 1; exec \"$0\" pull --force")
        .arg(env!("CARGO_BIN_EXE_kelviq"))
        .current_dir(&scratch.dir)
        .env_clear()
        .env("HOME", &scratch.dir)
        .env("XDG_CONFIG_HOME", scratch.dir.join("config"))
        .envs(scratch.env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let run = Run::of(output).code(1);
    assert!(
        run.stderr
            .contains("pull failed: cannot write kelviq.config.toml"),
        "{run:?}"
    );
    assert_eq!(scratch.read("kelviq.config.toml"), CONFIG);
    let mut names: Vec<String> = std::fs::read_dir(&scratch.dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["kelviq.config.toml", "pulled.toml"]);

    // Without the limit the same command replaces the file whole.
    scratch.run(&["pull", "--force"]).code(0);
    assert_eq!(scratch.read("kelviq.config.toml"), pulled);
}

/// Runs the binary with standard error on a pseudo-terminal made by util-linux's `script`
/// (standard output redirected to a file), and answers its exit code, standard output, and
/// what the terminal showed (`\r\n` as `\n`).
#[cfg(unix)]
fn run_on_terminal(scratch: &Scratch, args: &[&str], env: &[(&str, &str)]) -> Run {
    let quote = |word: &str| format!("'{}'", word.replace('\'', "'\\''"));
    let stdout_file = scratch.dir.join("terminal.stdout");
    let mut line = format!("exec {}", quote(env!("CARGO_BIN_EXE_kelviq")));
    for arg in args {
        line.push(' ');
        line.push_str(&quote(arg));
    }
    line.push_str(&format!(" >{}", quote(&stdout_file.to_string_lossy())));
    let output = Command::new("script")
        .args(["--quiet", "--return", "--command", &line, "/dev/null"])
        .current_dir(&scratch.dir)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("SHELL", "/bin/sh")
        .env("HOME", &scratch.dir)
        .env("XDG_CONFIG_HOME", scratch.dir.join("config"))
        .envs(scratch.env.iter().map(|(k, v)| (k, v)))
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .output()
        .expect("util-linux `script` runs");
    let stdout = std::fs::read_to_string(&stdout_file).unwrap_or_default();
    let _ = std::fs::remove_file(&stdout_file);
    Run {
        code: output.status.code(),
        stdout,
        stderr: String::from_utf8(output.stdout)
            .unwrap()
            .replace("\r\n", "\n"),
    }
}

/// Long runs show a progress line per step on a terminal (the counter dimmed unless
/// `NO_COLOR`), and nothing at all on standard error when it is piped.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn progress_is_shown_on_a_terminal_only_and_coloured_only_without_no_color() {
    // Piped: results only.
    let piped_server = support::empty_server().await;
    let piped = Scratch::new("progress-piped", &piped_server);
    piped.write("kelviq.config.toml", CONFIG);
    let run = piped.run(&["push", "--yes"]).code(0);
    assert_eq!(run.stderr, "", "{run:?}");
    let run = piped.run(&["pull", "-o", "pulled.toml"]).code(0);
    assert_eq!(run.stderr, "", "{run:?}");
    assert_eq!(run.stdout, "Wrote pulled.toml\n");

    // On a terminal: a line per operation, as it starts, in order, counted.
    let server = support::empty_server().await;
    let scratch = Scratch::new("progress-tty", &server);
    scratch.write("kelviq.config.toml", CONFIG);
    let run = run_on_terminal(&scratch, &["push", "--yes"], &[]).code(0);
    assert!(
        run.stdout.contains("Applied 9 operations to sandbox."),
        "{run:?}"
    );
    let counted: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.starts_with("\x1b[2m["))
        .collect();
    assert_eq!(counted.len(), 9, "{run:?}");
    assert_eq!(counted[0], "\x1b[2m[1/9]\x1b[0m + create product \"app\"");
    assert_eq!(
        counted[8],
        "\x1b[2m[9/9]\x1b[0m ~ replace prices of plan \"pro\" (0 → 1 price)"
    );
    for (i, line) in counted.iter().enumerate() {
        assert!(line.starts_with(&format!("\x1b[2m[{}/9]", i + 1)), "{line}");
    }

    // With NO_COLOR: the same lines, and not one escape sequence anywhere.
    let run = run_on_terminal(
        &scratch,
        &["pull", "-o", "pulled.toml"],
        &[("NO_COLOR", "1")],
    )
    .code(0);
    assert!(!run.stderr.contains('\x1b'), "{run:?}");
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert!(
        lines.contains(&"[1/2] reading plan \"pro\"")
            && lines.contains(&"[2/2] reading plan \"free\""),
        "{run:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plan_license_is_created_updated_and_compared_by_the_fields_the_file_declares() {
    let server = support::empty_server().await;
    let scratch = Scratch::new("license", &server);
    let licensed = CONFIG.replace(
        "[[plans]]\nidentifier = \"free\"",
        "[plans.license]\nactivationLimit = 2\n\n[[plans]]\nidentifier = \"free\"",
    );
    assert!(licensed.contains("[plans.license]"));
    scratch.write("kelviq.config.toml", &licensed);
    scratch.run(&["push", "--yes"]).code(0);
    let url = server.url();
    let license = move || {
        let client = kelviq::Kelviq::builder(support::SANDBOX_KEY)
            .base_url(url.clone())
            .build_blocking()
            .unwrap();
        let plan = client.catalog().plans().retrieve("pro").send().unwrap();
        serde_json::to_value(plan.license).unwrap()
    };
    let read = license.clone();
    let created = tokio::task::spawn_blocking(read).await.unwrap();
    assert_eq!(created["activation_limit"], 2, "{created}");
    assert_eq!(created["enabled"], true, "{created}");

    // Only the declared fields are compared: the server's `enabled` is no change.
    let document = scratch.plan(&["push", "--dry-run", "--json"]);
    assert_eq!(document["changes"], false, "{document:#}");

    scratch.write(
        "kelviq.config.toml",
        &licensed.replace("activationLimit = 2", "activationLimit = 5"),
    );
    let document = scratch.plan(&["push", "--dry-run", "--json"]);
    assert!(
        descriptions(&document)
            .iter()
            .any(|d| d.starts_with("~ update plan \"pro\"") && d.contains("license")),
        "{document:#}"
    );
    server.clear_requests();
    scratch.run(&["push", "--yes"]).code(0);
    assert_eq!(writes(&server), ["PATCH /api/v1/catalog/plans/pro/"]);
    let updated = tokio::task::spawn_blocking(license).await.unwrap();
    assert_eq!(updated["activation_limit"], 5, "{updated}");

    // A duration without its unit stops the push before any write.
    scratch.write(
        "kelviq.config.toml",
        &licensed.replace("activationLimit = 2", "durationValue = 1"),
    );
    server.clear_requests();
    let run = scratch.run(&["push", "--yes"]).code(1);
    assert!(run.stderr.contains("license.durationValue"), "{run:?}");
    assert_eq!(writes(&server), Vec::<String>::new());
}
