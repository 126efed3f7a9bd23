//! The diff: what must change in an environment for it to match a catalogue, as an ordered
//! list of operations. Pure: it reads two [`Catalog`]s (the desired one, and the remote one
//! in the same form, see [`crate::remote`]) and calls nothing.
//!
//! The rules, from the documented CLI:
//!
//! - Order: products, features, plans, entitlements, prices, publish, prune.
//! - Products are created or updated (`name`, `taxCode`, `description`); never pruned.
//! - Features are created; one that exists and differs is *feature drift* (features cannot be
//!   updated): listed with its fields, it stops a push before any write.
//! - Plans are created or updated (`name`, `description`, `isVisible`, `metadata`,
//!   `license`); their
//!   entitlements added, updated or removed to match the file; a plan with `prices` gets its
//!   whole price set replaced when it differs, a plan without leaves prices alone.
//! - What the CLI creates carries `managed-by: kelviq-cli` in its `metadata`; the marker is
//!   ignored when comparing metadata.
//! - `--publish` publishes every plan the run creates, updates, or changes the entitlements
//!   or prices of; `--prune` archives remote-only plans and features that carry the marker,
//!   and lists the others as skipped.
//!
//! Choices where the documentation is silent: an optional field the file leaves out
//! (a description, `isVisible`, `metadata`, a feature's `featureDetails`, an entitlement's
//! `reset`, …) is not compared, so server-side defaults never show as changes; a price set
//! is compared whole (as documented), currencies in any order, with `null`, `{}`, `[]` and
//! an absent key equal and numbers equal by value; a plan whose `product` differs from the
//! remote one is an error (the API cannot move a plan).

use std::collections::BTreeSet;

use kelviq_config::{Catalog, Entitlement, Object, Plan as PlanDef, Price};
use serde::Serialize;
use serde_json::{json, Value};

/// The `metadata` key of the marker on what the CLI creates.
pub const MARKER_KEY: &str = "managed-by";
/// The marker's value.
pub const MARKER_VALUE: &str = "kelviq-cli";

/// Whether `metadata` carries the marker.
pub fn is_marked(metadata: Option<&Object>) -> bool {
    metadata
        .and_then(|m| m.get(MARKER_KEY))
        .and_then(Value::as_str)
        == Some(MARKER_VALUE)
}

/// `metadata` with the marker added.
pub fn with_marker(metadata: Option<&Object>) -> Object {
    let mut metadata = metadata.cloned().unwrap_or_default();
    metadata.insert(MARKER_KEY.to_owned(), Value::from(MARKER_VALUE));
    metadata
}

/// What the run may do beyond creating and updating.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// `--publish`.
    pub publish: bool,
    /// `--migrate-features`.
    pub migrate_features: bool,
    /// `--migrate-pricing`.
    pub migrate_pricing: bool,
    /// `--prune`.
    pub prune: bool,
}

/// Where an operation falls in the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Step {
    /// Products first: plans name them.
    Products,
    /// Features: entitlements and prices name them.
    Features,
    /// Plans.
    Plans,
    /// What plans grant.
    Entitlements,
    /// Plans' price sets.
    Prices,
    /// Publishing drafts.
    Publish,
    /// Archiving remote-only resources.
    Prune,
}

/// What an operation does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Action {
    /// Creates a product, feature or plan, or adds an entitlement.
    Create,
    /// Changes fields.
    Update,
    /// Removes an entitlement from a plan.
    Delete,
    /// Replaces a plan's whole price set.
    Replace,
    /// Publishes a plan's draft.
    Publish,
    /// Archives a plan or feature.
    Archive,
}

/// What an operation acts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Kind {
    /// A product.
    Product,
    /// A feature.
    Feature,
    /// A plan.
    Plan,
    /// One entitlement of a plan.
    Entitlement,
    /// A plan's price set.
    Prices,
}

impl Kind {
    /// `product`, `feature`, `plan`, `entitlement` or `prices`.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Product => "product",
            Kind::Feature => "feature",
            Kind::Plan => "plan",
            Kind::Entitlement => "entitlement",
            Kind::Prices => "prices",
        }
    }
}

/// One field that changes, value to value.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldChange {
    /// The field, as the config file names it.
    pub field: String,
    /// The remote value (`null`: none).
    pub from: Value,
    /// The value in the file.
    pub to: Value,
}

/// One write.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Operation {
    /// Where it falls in the run.
    pub step: Step,
    /// What it does.
    pub action: Action,
    /// What it acts on.
    pub kind: Kind,
    /// The identifier of the product, feature or plan (of the plan for entitlements and
    /// prices).
    pub identifier: String,
    /// The feature of an entitlement.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub feature: Option<String>,
    /// The fields that change (updates only).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<FieldChange>,
    /// The operation in words, as the text diff shows it.
    pub description: String,
    /// Whether the remote resource carries the marker (kept when its metadata is rewritten).
    #[serde(skip)]
    pub marked: bool,
}

/// A drifted feature.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Drift {
    /// The feature's identifier.
    pub identifier: String,
    /// The fields that differ.
    pub fields: Vec<DriftField>,
}

/// One drifted field.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DriftField {
    /// The field, as the config file names it.
    pub field: String,
    /// The value in the file (the source environment for `promote`).
    pub local: Value,
    /// The value in the target environment.
    pub remote: Value,
}

/// A resource named by kind and identifier.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Named {
    /// `plan`, `feature` or `product`.
    pub kind: Kind,
    /// Its identifier.
    pub identifier: String,
}

/// A remote-only resource prune leaves alone, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Skipped {
    /// `plan`, `feature` or `product`.
    pub kind: Kind,
    /// Its identifier.
    pub identifier: String,
    /// Why it stays.
    pub reason: String,
}

/// What `--prune` does.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Prune {
    /// Whether `--prune` was given.
    pub enabled: bool,
    /// What it archives (empty without `--prune`).
    pub archive: Vec<Named>,
    /// Remote-only resources it never touches, with the reason (also without `--prune`:
    /// what it would skip).
    pub skipped: Vec<Skipped>,
}

/// What `--publish` does.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Publish {
    /// Whether `--publish` was given.
    pub enabled: bool,
    /// The plans it publishes, in order (empty without `--publish`).
    pub plans: Vec<String>,
    /// `--migrate-features`.
    pub migrate_features: bool,
    /// `--migrate-pricing`.
    pub migrate_pricing: bool,
}

/// The whole plan of record of a run.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Plan {
    /// Every write, in order (publish and prune included).
    pub operations: Vec<Operation>,
    /// Features that differ: any stops the run before a write.
    pub feature_drift: Vec<Drift>,
    /// The prune section.
    pub prune: Prune,
    /// The publish section.
    pub publish: Publish,
    /// What stops the run before a write (drift included).
    pub errors: Vec<String>,
    /// What the run reports but does not stop for.
    pub warnings: Vec<String>,
}

impl Plan {
    /// Whether the run would write anything.
    pub fn has_changes(&self) -> bool {
        !self.operations.is_empty()
    }

    /// Whether the run must stop before writing.
    pub fn is_blocked(&self) -> bool {
        !self.errors.is_empty() || !self.feature_drift.is_empty()
    }

    /// Counts of operations by action, and their total.
    pub fn summary(&self) -> Value {
        let count = |action: Action| {
            self.operations
                .iter()
                .filter(|o| o.action == action)
                .count()
        };
        json!({
            "create": count(Action::Create),
            "update": count(Action::Update),
            "delete": count(Action::Delete),
            "replace": count(Action::Replace),
            "publish": count(Action::Publish),
            "archive": count(Action::Archive),
            "total": self.operations.len(),
        })
    }

    /// The `--dry-run --json` document: exactly the keys `environment`, `direction`,
    /// `changes`, `summary`, `operations`, `prune`, `publish`, `featureDrift`, `errors` and
    /// `warnings`.
    pub fn to_json(&self, environment: &str, direction: &str) -> Value {
        json!({
            "environment": environment,
            "direction": direction,
            "changes": self.has_changes(),
            "summary": self.summary(),
            "operations": self.operations,
            "prune": self.prune,
            "publish": self.publish,
            "featureDrift": self.feature_drift,
            "errors": self.errors,
            "warnings": self.warnings,
        })
    }
}

/// The operations that make `remote` match `desired`.
pub fn plan(desired: &Catalog, remote: &Catalog, options: &Options) -> Plan {
    let mut out = Plan {
        prune: Prune {
            enabled: options.prune,
            ..Prune::default()
        },
        publish: Publish {
            enabled: options.publish,
            plans: Vec::new(),
            migrate_features: options.migrate_features,
            migrate_pricing: options.migrate_pricing,
        },
        ..Plan::default()
    };

    // Products.
    for product in &desired.products {
        match remote
            .products
            .iter()
            .find(|p| p.identifier == product.identifier)
        {
            None => out.operations.push(op(
                Step::Products,
                Action::Create,
                Kind::Product,
                &product.identifier,
                None,
                Vec::new(),
            )),
            Some(there) => {
                let mut changes = Vec::new();
                field(&mut changes, "name", &there.name, &product.name);
                field(
                    &mut changes,
                    "taxCode",
                    there.tax_code.as_str(),
                    product.tax_code.as_str(),
                );
                declared(
                    &mut changes,
                    "description",
                    &there.description,
                    &product.description,
                );
                if !changes.is_empty() {
                    out.operations.push(op(
                        Step::Products,
                        Action::Update,
                        Kind::Product,
                        &product.identifier,
                        None,
                        changes,
                    ));
                }
            }
        }
    }

    // Features: created, or compared for drift.
    for feature in &desired.features {
        match remote
            .features
            .iter()
            .find(|f| f.identifier == feature.identifier)
        {
            None => out.operations.push(op(
                Step::Features,
                Action::Create,
                Kind::Feature,
                &feature.identifier,
                None,
                Vec::new(),
            )),
            Some(there) => {
                let mut changes = Vec::new();
                field(&mut changes, "name", &there.name, &feature.name);
                field(
                    &mut changes,
                    "type",
                    there.feature_type.as_str(),
                    feature.feature_type.as_str(),
                );
                declared(
                    &mut changes,
                    "description",
                    &there.description,
                    &feature.description,
                );
                declared_object(
                    &mut changes,
                    "featureDetails",
                    there.feature_details.as_ref(),
                    feature.feature_details.as_ref(),
                );
                declared_object(
                    &mut changes,
                    "meter",
                    there.meter.as_ref(),
                    feature.meter.as_ref(),
                );
                declared_object(
                    &mut changes,
                    "metadata",
                    unmarked(there.metadata.as_ref()).as_ref(),
                    unmarked(feature.metadata.as_ref()).as_ref(),
                );
                if !changes.is_empty() {
                    let names: Vec<&str> = changes.iter().map(|c| c.field.as_str()).collect();
                    out.errors.push(format!(
                        "feature \"{}\" differs from the environment ({}): features cannot be \
                         updated; change it in the dashboard (https://app.kelviq.com), run \
                         `kelviq pull`, and push again",
                        feature.identifier,
                        names.join(", ")
                    ));
                    out.feature_drift.push(Drift {
                        identifier: feature.identifier.clone(),
                        fields: changes
                            .into_iter()
                            .map(|c| DriftField {
                                field: c.field,
                                local: c.to,
                                remote: c.from,
                            })
                            .collect(),
                    });
                }
            }
        }
    }

    // Plans, then their entitlements, then their prices.
    let mut entitlement_ops = Vec::new();
    let mut price_ops = Vec::new();
    for plan in &desired.plans {
        let there = remote
            .plans
            .iter()
            .find(|p| p.identifier == plan.identifier);
        match there {
            None => out.operations.push(op(
                Step::Plans,
                Action::Create,
                Kind::Plan,
                &plan.identifier,
                None,
                Vec::new(),
            )),
            Some(there) => {
                if there.product != plan.product {
                    out.errors.push(format!(
                        "plan \"{}\" belongs to product \"{}\" in the environment, not \"{}\": \
                         a plan cannot move to another product; create a new plan instead",
                        plan.identifier, there.product, plan.product
                    ));
                }
                let changes = plan_changes(there, plan);
                if !changes.is_empty() {
                    let mut update = op(
                        Step::Plans,
                        Action::Update,
                        Kind::Plan,
                        &plan.identifier,
                        None,
                        changes,
                    );
                    update.marked = is_marked(there.metadata.as_ref());
                    out.operations.push(update);
                }
            }
        }
        entitlements(
            &mut entitlement_ops,
            plan,
            there.map_or(&[][..], |p| &p.entitlements),
        );
        if let Some(prices) = &plan.prices {
            let now = there.and_then(|p| p.prices.as_deref()).unwrap_or(&[]);
            if !same_prices(now, prices) {
                let mut replace = op(
                    Step::Prices,
                    Action::Replace,
                    Kind::Prices,
                    &plan.identifier,
                    None,
                    vec![FieldChange {
                        field: "prices".to_owned(),
                        from: serde_json::to_value(now).unwrap_or(Value::Null),
                        to: serde_json::to_value(prices).unwrap_or(Value::Null),
                    }],
                );
                replace.description = format!(
                    "~ replace prices of plan \"{}\" ({} → {} price{})",
                    plan.identifier,
                    now.len(),
                    prices.len(),
                    if prices.len() == 1 { "" } else { "s" }
                );
                price_ops.push(replace);
            }
        }
    }
    out.operations.extend(entitlement_ops);
    out.operations.extend(price_ops);

    // Publish what changed.
    if options.publish {
        let mut seen = BTreeSet::new();
        let changed: Vec<String> = out
            .operations
            .iter()
            .filter(|o| matches!(o.kind, Kind::Plan | Kind::Entitlement | Kind::Prices))
            .map(|o| o.identifier.clone())
            .filter(|id| seen.insert(id.clone()))
            .collect();
        for identifier in changed {
            out.operations.push(op(
                Step::Publish,
                Action::Publish,
                Kind::Plan,
                &identifier,
                None,
                Vec::new(),
            ));
            out.publish.plans.push(identifier);
        }
    }

    // Remote-only resources.
    let wanted = |kind: Kind, identifier: &str| match kind {
        Kind::Plan => desired.plans.iter().any(|p| p.identifier == identifier),
        Kind::Feature => desired.features.iter().any(|f| f.identifier == identifier),
        _ => desired.products.iter().any(|p| p.identifier == identifier),
    };
    let remote_only = remote
        .plans
        .iter()
        .map(|p| (Kind::Plan, &p.identifier, p.metadata.as_ref()))
        .chain(
            remote
                .features
                .iter()
                .map(|f| (Kind::Feature, &f.identifier, f.metadata.as_ref())),
        )
        .filter(|(kind, identifier, _)| !wanted(*kind, identifier));
    for (kind, identifier, metadata) in remote_only {
        if is_marked(metadata) {
            if options.prune {
                let mut archive = op(
                    Step::Prune,
                    Action::Archive,
                    kind,
                    identifier,
                    None,
                    Vec::new(),
                );
                archive.marked = true;
                out.operations.push(archive);
                out.prune.archive.push(Named {
                    kind,
                    identifier: identifier.clone(),
                });
            } else {
                out.warnings.push(format!(
                    "{} \"{identifier}\" exists only in the environment (created by kelviq-cli; \
                     --prune would archive it)",
                    kind.name()
                ));
            }
        } else {
            out.prune.skipped.push(Skipped {
                kind,
                identifier: identifier.clone(),
                reason: format!("no `{MARKER_KEY}: {MARKER_VALUE}` marker in its metadata"),
            });
            out.warnings.push(format!(
                "{} \"{identifier}\" exists only in the environment (not created by kelviq-cli: \
                 never pruned)",
                kind.name()
            ));
        }
    }
    for product in remote
        .products
        .iter()
        .filter(|p| !wanted(Kind::Product, &p.identifier))
    {
        out.prune.skipped.push(Skipped {
            kind: Kind::Product,
            identifier: product.identifier.clone(),
            reason: "products are never pruned".to_owned(),
        });
        out.warnings.push(format!(
            "product \"{}\" exists only in the environment (products are never pruned)",
            product.identifier
        ));
    }

    // Values the API cannot take stop the run before it writes.
    for plan in &desired.plans {
        if let Some(license) = &plan.license {
            if let Err(e) = crate::convert::license_input(license) {
                out.errors
                    .push(format!("plan \"{}\": {e}", plan.identifier));
            }
        }
        for entitlement in &plan.entitlements {
            if let Err(e) = crate::convert::entitlement_details(entitlement) {
                out.errors.push(format!(
                    "plan \"{}\", entitlement \"{}\": {e}",
                    plan.identifier, entitlement.feature
                ));
            }
        }
        for (i, price) in plan.prices.iter().flatten().enumerate() {
            // A feature of the file or of the environment (or a UUID, passed as written).
            let known = |name: &str| {
                let declared = desired.features.iter().any(|f| f.identifier == name)
                    || remote.features.iter().any(|f| f.identifier == name);
                let uuid = name.len() == 36 && name.matches('-').count() == 4;
                (declared || uuid).then(|| "00000000-0000-4000-8000-000000000000".to_owned())
            };
            if let Err(e) = crate::convert::price_input(price, &known) {
                out.errors
                    .push(format!("plan \"{}\", prices[{i}]: {e}", plan.identifier));
            }
        }
    }
    for product in &desired.products {
        if let Err(e) = crate::convert::tax_code(&product.tax_code) {
            out.errors
                .push(format!("product \"{}\": {e}", product.identifier));
        }
    }
    out
}

/// The fields of a plan that differ.
fn plan_changes(there: &PlanDef, plan: &PlanDef) -> Vec<FieldChange> {
    let mut changes = Vec::new();
    field(&mut changes, "name", &there.name, &plan.name);
    declared(
        &mut changes,
        "description",
        &there.description,
        &plan.description,
    );
    declared(
        &mut changes,
        "isVisible",
        &there.is_visible,
        &plan.is_visible,
    );
    declared_object(
        &mut changes,
        "metadata",
        unmarked(there.metadata.as_ref()).as_ref(),
        unmarked(plan.metadata.as_ref()).as_ref(),
    );
    // The license's fields the file declares, and those its table implies (as `push`
    // sends them); the ones it leaves out keep the server's.
    if let Some(license) = &plan.license {
        let value = |l: Option<&kelviq_config::License>| match serde_json::to_value(
            l.map(license_in_effect),
        ) {
            Ok(Value::Object(map)) => map,
            _ => Object::new(),
        };
        let (to, from) = (value(Some(license)), value(there.license.as_ref()));
        if to.iter().any(|(k, v)| !same(from.get(k), Some(v))) {
            changes.push(FieldChange {
                field: "license".to_owned(),
                from: there
                    .license
                    .as_ref()
                    .map_or(Value::Null, |_| Value::Object(from)),
                to: Value::Object(to),
            });
        }
    }
    changes
}

/// A license as it acts, the way `push` sends it (`LicenseInput`): keys on unless
/// `enabled = false`, a given `activationLimit` applying unless `activationLimitEnabled =
/// false`, a given duration expiring unless `hasExpiry = false`.
fn license_in_effect(license: &kelviq_config::License) -> kelviq_config::License {
    let mut license = license.clone();
    license.enabled.get_or_insert(true);
    if license.activation_limit.is_some() {
        license.activation_limit_enabled.get_or_insert(true);
    }
    if license.duration_value.is_some() && license.duration_unit.is_some() {
        license.has_expiry.get_or_insert(true);
    }
    license
}

/// Adds, updates and removals of one plan's entitlements.
fn entitlements(ops: &mut Vec<Operation>, plan: &PlanDef, there: &[Entitlement]) {
    for entitlement in &plan.entitlements {
        match there.iter().find(|e| e.feature == entitlement.feature) {
            None => ops.push(op(
                Step::Entitlements,
                Action::Create,
                Kind::Entitlement,
                &plan.identifier,
                Some(&entitlement.feature),
                Vec::new(),
            )),
            Some(now) => {
                let wanted = as_object(entitlement);
                let current = as_object(now);
                let changes: Vec<FieldChange> = wanted
                    .iter()
                    .filter(|(key, _)| key.as_str() != "feature")
                    .filter(|(key, value)| !same(current.get(*key), Some(value)))
                    .map(|(key, value)| FieldChange {
                        field: key.clone(),
                        from: current.get(key).cloned().unwrap_or(Value::Null),
                        to: value.clone(),
                    })
                    .collect();
                if !changes.is_empty() {
                    ops.push(op(
                        Step::Entitlements,
                        Action::Update,
                        Kind::Entitlement,
                        &plan.identifier,
                        Some(&entitlement.feature),
                        changes,
                    ));
                }
            }
        }
    }
    for now in there {
        if !plan.entitlements.iter().any(|e| e.feature == now.feature) {
            ops.push(op(
                Step::Entitlements,
                Action::Delete,
                Kind::Entitlement,
                &plan.identifier,
                Some(&now.feature),
                Vec::new(),
            ));
        }
    }
}

fn as_object(entitlement: &Entitlement) -> Object {
    match serde_json::to_value(entitlement) {
        Ok(Value::Object(map)) => map,
        _ => Object::new(),
    }
}

/// Whether two price sets are the same, in any order of currencies.
pub fn same_prices(a: &[Price], b: &[Price]) -> bool {
    let sorted = |prices: &[Price]| {
        let mut values: Vec<Value> = prices
            .iter()
            .map(|p| serde_json::to_value(p).unwrap_or(Value::Null))
            .collect();
        values.sort_by_key(|v| {
            (
                v.get("currency").map(Value::to_string).unwrap_or_default(),
                v.get("priceType").map(Value::to_string).unwrap_or_default(),
            )
        });
        values
    };
    let (a, b) = (sorted(a), sorted(b));
    a.len() == b.len() && a.iter().zip(&b).all(|(x, y)| same(Some(x), Some(y)))
}

/// Equality of JSON values where `null`, `{}`, `[]` and absence are the same, and numbers
/// are equal by value (`5` and `5.0`).
pub fn same(a: Option<&Value>, b: Option<&Value>) -> bool {
    let empty = |v: Option<&Value>| match v {
        None | Some(Value::Null) => true,
        Some(Value::Object(m)) => m.is_empty(),
        Some(Value::Array(a)) => a.is_empty(),
        _ => false,
    };
    if empty(a) && empty(b) {
        return true;
    }
    match (a, b) {
        (Some(Value::Number(x)), Some(Value::Number(y))) => x.as_f64() == y.as_f64(),
        (Some(Value::Object(x)), Some(Value::Object(y))) => {
            x.keys().chain(y.keys()).all(|k| same(x.get(k), y.get(k)))
        }
        (Some(Value::Array(x)), Some(Value::Array(y))) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same(Some(p), Some(q)))
        }
        (Some(x), Some(y)) => x == y,
        _ => false,
    }
}

/// `metadata` without the marker.
fn unmarked(metadata: Option<&Object>) -> Option<Object> {
    metadata.map(|m| {
        let mut m = m.clone();
        if m.get(MARKER_KEY).and_then(Value::as_str) == Some(MARKER_VALUE) {
            m.remove(MARKER_KEY);
        }
        m
    })
}

fn field(changes: &mut Vec<FieldChange>, name: &str, from: &str, to: &str) {
    if from != to {
        changes.push(FieldChange {
            field: name.to_owned(),
            from: Value::from(from),
            to: Value::from(to),
        });
    }
}

/// A field compared only when the file declares it.
fn declared<T: Serialize + PartialEq>(
    changes: &mut Vec<FieldChange>,
    name: &str,
    from: &Option<T>,
    to: &Option<T>,
) {
    if let Some(to) = to {
        if from.as_ref() != Some(to) {
            changes.push(FieldChange {
                field: name.to_owned(),
                from: serde_json::to_value(from).unwrap_or(Value::Null),
                to: serde_json::to_value(to).unwrap_or(Value::Null),
            });
        }
    }
}

/// An object compared only when the file declares it.
fn declared_object(
    changes: &mut Vec<FieldChange>,
    name: &str,
    from: Option<&Object>,
    to: Option<&Object>,
) {
    if let Some(to) = to {
        let to = Value::Object(to.clone());
        let from = from.cloned().map_or(Value::Null, Value::Object);
        if !same(Some(&from), Some(&to)) {
            changes.push(FieldChange {
                field: name.to_owned(),
                from,
                to,
            });
        }
    }
}

/// An operation, with its description.
fn op(
    step: Step,
    action: Action,
    kind: Kind,
    identifier: &str,
    feature: Option<&str>,
    changes: Vec<FieldChange>,
) -> Operation {
    let shown = |changes: &[FieldChange]| {
        changes
            .iter()
            .map(|c| format!("{} {} → {}", c.field, short(&c.from), short(&c.to)))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let description = match (action, feature) {
        (Action::Create, Some(f)) => {
            format!("+ add entitlement \"{f}\" to plan \"{identifier}\"")
        }
        (Action::Update, Some(f)) => format!(
            "~ update entitlement \"{f}\" of plan \"{identifier}\": {}",
            shown(&changes)
        ),
        (Action::Delete, Some(f)) => {
            format!("- remove entitlement \"{f}\" from plan \"{identifier}\"")
        }
        (Action::Create, None) => format!("+ create {} \"{identifier}\"", kind.name()),
        (Action::Update, None) => format!(
            "~ update {} \"{identifier}\": {}",
            kind.name(),
            shown(&changes)
        ),
        (Action::Publish, _) => format!("^ publish plan \"{identifier}\""),
        (Action::Archive, _) => format!("- archive {} \"{identifier}\"", kind.name()),
        (_, _) => format!("~ replace prices of plan \"{identifier}\""),
    };
    Operation {
        step,
        action,
        kind,
        identifier: identifier.to_owned(),
        feature: feature.map(str::to_owned),
        changes,
        description,
        marked: false,
    }
}

/// A value in a diff line.
fn short(value: &Value) -> String {
    match value {
        Value::Null => "(none)".to_owned(),
        other => other.to_string(),
    }
}
