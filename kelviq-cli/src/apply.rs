//! Runs a [`Plan`]'s operations through the `kelviq` client, in order, stopping at the first
//! failure.
//!
//! Identifiers become UUIDs here: from the environment's snapshot, and from what the run
//! creates (a plan of a product created earlier in the same run). What it creates carries
//! the `managed-by: kelviq-cli` marker in its `metadata`, merged with the file's; a plan's
//! metadata rewritten by an update keeps the marker when the plan had it. `--publish` sends
//! `updateFeatures` and `updatePricing` explicitly (false unless `--migrate-features` /
//! `--migrate-pricing`), so that a bare `--publish` never migrates customers.

use kelviq::blocking::Client;
use kelviq::catalog::PlanEntitlementInput;
use kelviq_config::Catalog;

use crate::convert;
use crate::plan::{is_marked, with_marker, Action, Kind, Operation, Plan};
use crate::remote::Ids;

/// Where a run stopped.
#[derive(Debug)]
pub struct Stopped {
    /// How many operations were applied before it.
    pub applied: usize,
    /// Why.
    pub reason: String,
}

/// Applies every operation of `plan`; `starting` is told of each (with its number, from 1)
/// before it is sent, `done` once it succeeded.
pub fn apply(
    client: &Client,
    desired: &Catalog,
    plan: &Plan,
    ids: &mut Ids,
    mut starting: impl FnMut(usize, &Operation),
    mut done: impl FnMut(&Operation),
) -> Result<(), Stopped> {
    for (applied, operation) in plan.operations.iter().enumerate() {
        starting(applied + 1, operation);
        one(client, desired, plan, ids, operation).map_err(|reason| Stopped {
            applied,
            reason: format!("{}: {reason}", operation.description),
        })?;
        done(operation);
    }
    Ok(())
}

fn one(
    client: &Client,
    desired: &Catalog,
    plan: &Plan,
    ids: &mut Ids,
    operation: &Operation,
) -> Result<(), String> {
    let catalog = client.catalog();
    let id = operation.identifier.as_str();
    let missing = |what: &str| format!("{what} \"{id}\" is not in the config");
    let error = |e: kelviq::Error| e.to_string();
    match (operation.kind, operation.action) {
        (Kind::Product, action) => {
            let product = desired
                .products
                .iter()
                .find(|p| p.identifier == id)
                .ok_or_else(|| missing("product"))?;
            let tax_code = convert::tax_code(&product.tax_code)?;
            if action == Action::Create {
                let mut create = catalog
                    .products()
                    .create(&product.name, tax_code)
                    .identifier(id);
                if let Some(description) = &product.description {
                    create = create.description(description);
                }
                let created = create.send().map_err(error)?;
                ids.products.insert(id.to_owned(), created.id);
            } else {
                let uuid = ids
                    .products
                    .get(id)
                    .ok_or_else(|| format!("no UUID for product \"{id}\""))?;
                let mut update = catalog
                    .products()
                    .update(uuid)
                    .name(&product.name)
                    .tax_code(tax_code);
                if let Some(description) = &product.description {
                    update = update.description(description);
                }
                update.send().map_err(error)?;
            }
        }
        (Kind::Feature, Action::Create) => {
            let feature = desired
                .features
                .iter()
                .find(|f| f.identifier == id)
                .ok_or_else(|| missing("feature"))?;
            let mut create = catalog
                .features()
                .create(&feature.name, convert::feature_type(&feature.feature_type))
                .identifier(id)
                .metadata(with_marker(feature.metadata.as_ref()));
            if let Some(description) = &feature.description {
                create = create.description(description);
            }
            if let Some(details) = &feature.feature_details {
                create = create.feature_details(details.clone());
            }
            if let Some(meter) = &feature.meter {
                create = create.meter(meter.clone());
            }
            let created = create.send().map_err(error)?;
            ids.features.insert(id.to_owned(), created.id);
        }
        (Kind::Feature, Action::Archive) => {
            let uuid = ids
                .features
                .get(id)
                .ok_or_else(|| format!("no UUID for feature \"{id}\""))?;
            catalog.features().delete(uuid).send().map_err(error)?;
        }
        (Kind::Plan, Action::Create) | (Kind::Plan, Action::Update) => {
            let def = desired
                .plans
                .iter()
                .find(|p| p.identifier == id)
                .ok_or_else(|| missing("plan"))?;
            if operation.action == Action::Create {
                let product = ids
                    .products
                    .get(&def.product)
                    .ok_or_else(|| format!("no UUID for product \"{}\"", def.product))?;
                let mut create = catalog
                    .plans()
                    .create(&def.name, product)
                    .identifier(id)
                    .metadata(with_marker(def.metadata.as_ref()));
                if let Some(description) = &def.description {
                    create = create.description(description);
                }
                if let Some(visible) = def.is_visible {
                    create = create.is_visible(visible);
                }
                if let Some(license) = &def.license {
                    create = create.license(convert::license_input(license)?);
                }
                create.send().map_err(error)?;
            } else {
                let mut update = catalog.plans().update(id);
                for change in &operation.changes {
                    update = match change.field.as_str() {
                        "name" => update.name(&def.name),
                        "description" => {
                            update.description(def.description.clone().unwrap_or_default())
                        }
                        "isVisible" => update.is_visible(def.is_visible.unwrap_or(true)),
                        "license" => match &def.license {
                            Some(license) => update.license(convert::license_input(license)?),
                            None => update,
                        },
                        "metadata" => {
                            let metadata = def.metadata.clone().unwrap_or_default();
                            update.metadata(if operation.marked && !is_marked(Some(&metadata)) {
                                with_marker(Some(&metadata))
                            } else {
                                metadata
                            })
                        }
                        _ => update,
                    };
                }
                update.send().map_err(error)?;
            }
        }
        (Kind::Plan, Action::Publish) => {
            catalog
                .plans()
                .publish(id)
                .update_features(plan.publish.migrate_features)
                .update_pricing(plan.publish.migrate_pricing)
                .send()
                .map_err(error)?;
        }
        (Kind::Plan, Action::Archive) => {
            catalog.plans().delete(id).send().map_err(error)?;
        }
        (Kind::Entitlement, action) => {
            let feature = operation.feature.as_deref().unwrap_or_default();
            if action == Action::Delete {
                catalog
                    .plans()
                    .delete_entitlement(id, feature)
                    .send()
                    .map_err(error)?;
                return Ok(());
            }
            let entitlement = desired
                .plans
                .iter()
                .find(|p| p.identifier == id)
                .and_then(|p| p.entitlements.iter().find(|e| e.feature == feature))
                .ok_or_else(|| {
                    format!("entitlement \"{feature}\" of plan \"{id}\" is not in the config")
                })?;
            let details = convert::entitlement_details(entitlement)?;
            if action == Action::Create {
                let uuid = ids
                    .features
                    .get(feature)
                    .ok_or_else(|| format!("no UUID for feature \"{feature}\""))?;
                catalog
                    .plans()
                    .add_entitlements(id, [PlanEntitlementInput::new(uuid, details)])
                    .send()
                    .map_err(error)?;
            } else {
                catalog
                    .plans()
                    .update_entitlement(id, feature, details)
                    .send()
                    .map_err(error)?;
            }
        }
        (Kind::Prices, _) => {
            let prices = desired
                .plans
                .iter()
                .find(|p| p.identifier == id)
                .and_then(|p| p.prices.as_ref())
                .ok_or_else(|| missing("plan with prices"))?;
            let resolve = |name: &str| {
                ids.features
                    .get(name)
                    .cloned()
                    .or_else(|| ids.features.values().find(|v| *v == name).cloned())
            };
            let inputs = prices
                .iter()
                .map(|p| convert::price_input(p, &resolve))
                .collect::<Result<Vec<_>, _>>()?;
            catalog
                .plans()
                .set_prices(id, inputs)
                .send()
                .map_err(error)?;
        }
        (kind, action) => {
            return Err(format!("cannot {action:?} a {kind:?}"));
        }
    }
    Ok(())
}
