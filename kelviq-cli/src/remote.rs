//! Reading an environment's catalogue through the `kelviq` client, as a [`Catalog`] (the
//! config file's form) with the UUIDs the writes need beside it.
//!
//! As documented for `pull`: all products, all features (archived ones are not listed), the
//! latest version of each plan (draft or published) with its prices and entitlements; every
//! cross-reference becomes an identifier, a feature's UUID inside `chargeCatalogPrice`
//! included; a plan's `license` becomes its `[plans.license]` table. What the format cannot
//! hold is ignored with one warning each: a plan's `links`, `countries` and `files` (`pull`
//! does not write them, `push` and `promote` neither compare nor change them). The warnings are worded for every command
//! that reads an environment; `push` and `promote` put the environment's name before them.
//! Server-owned entitlement flags (`isInherited`, `isValueOverridden`) are left out
//! silently.

use std::collections::BTreeMap;

use kelviq::blocking::Client;
use kelviq::model::{FeaturePrice, PlanEntitlement, PlanPrice};
use kelviq_config::{
    Catalog, Entitlement, EntitlementValue, Feature, License, Object, Plan, Price, Product,
};
use serde_json::Value;

use crate::target::Target;
use crate::ui::Ui;
use crate::Failure;

/// The UUIDs of an environment's products and features, by identifier.
#[derive(Debug, Clone, Default)]
pub struct Ids {
    /// Products.
    pub products: BTreeMap<String, String>,
    /// Features.
    pub features: BTreeMap<String, String>,
}

/// An environment's catalogue.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    /// In the config file's form.
    pub catalog: Catalog,
    /// The UUIDs.
    pub ids: Ids,
    /// What could not be represented.
    pub warnings: Vec<String>,
}

/// The client of `target`, with its key and URLs.
///
/// The key: the environment's variable, else the one `kelviq login` stored. The base URL:
/// `KELVIQ_SANDBOX_BASE_URL` / `KELVIQ_BASE_URL`, written with or without the `/api/v1` the
/// documentation shows (the client adds it itself).
pub fn client(target: Target) -> Result<Client, Failure> {
    // The credentials file is read (and a broken one reported) only when the variable
    // does not give the key.
    let stored = if crate::target::non_empty_var(target.key_variable()).is_some() {
        crate::credentials::Credentials::default()
    } else {
        match crate::credentials::path() {
            Ok(path) => crate::credentials::Credentials::load(&path)?,
            Err(_) => crate::credentials::Credentials::default(),
        }
    };
    let (key, _) = target.key(&stored).ok_or_else(|| {
        Failure::new(format!(
            "no {} Server API key: set {} or run `kelviq login{}`; get a key at \
             https://app.kelviq.com/settings/api-keys",
            target.name(),
            target.key_variable(),
            if target == Target::Production {
                " --prod"
            } else {
                ""
            }
        ))
    })?;
    let (api, _) = target.api_url();
    let (edge, _) = target.edge_url();
    let host = |url: &str| {
        url.trim_end_matches('/')
            .trim_end_matches("/api/v1")
            .to_owned()
    };
    kelviq::Kelviq::builder(key.expose())
        .environment(target.sdk())
        .api_base_url(host(&api))
        .edge_base_url(host(&edge))
        .build_blocking()
        .map_err(|e| Failure::new(format!("cannot make a client: {e}")))
}

/// Reads the whole catalogue of the environment `client` talks to, saying on `ui` what it
/// reads (a line per list, and a counted line per plan: each plan is two more requests).
pub fn fetch(client: &Client, ui: &Ui) -> Result<Snapshot, String> {
    let catalog = client.catalog();
    let mut snapshot = Snapshot::default();
    ui.status("reading products, features and plans");
    let products = catalog
        .products()
        .list()
        .page_size(100)
        .into_iter()
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("cannot list products: {e}"))?;
    let features = catalog
        .features()
        .list()
        .page_size(100)
        .into_iter()
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("cannot list features: {e}"))?;
    let plans = catalog
        .plans()
        .list()
        .page_size(100)
        .into_iter()
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("cannot list plans: {e}"))?;

    let total = plans.len();
    let mut product_by_id = BTreeMap::new();
    for p in products {
        let tax_code = p.tax_code.clone().unwrap_or_else(|| {
            snapshot.warnings.push(format!(
                "product \"{}\" has no tax code; read as \"saas\"",
                p.identifier
            ));
            "saas".to_owned()
        });
        product_by_id.insert(p.id.clone(), p.identifier.clone());
        snapshot
            .ids
            .products
            .insert(p.identifier.clone(), p.id.clone());
        snapshot.catalog.products.push(Product {
            identifier: p.identifier,
            name: p.name,
            tax_code: tax_code.into(),
            description: text(p.description),
        });
    }
    let mut feature_by_id = BTreeMap::new();
    for f in features {
        feature_by_id.insert(f.id.clone(), f.identifier.clone());
        snapshot
            .ids
            .features
            .insert(f.identifier.clone(), f.id.clone());
        snapshot.catalog.features.push(Feature {
            identifier: f.identifier,
            name: f.name,
            feature_type: f.feature_type.as_str().into(),
            description: text(f.description),
            feature_details: non_empty(f.feature_details),
            meter: non_empty(f.meter),
            metadata: non_empty(f.metadata),
        });
    }
    for (index, p) in plans.into_iter().enumerate() {
        ui.progress(
            index + 1,
            total,
            &format!("reading plan \"{}\"", p.identifier),
        );
        let Some(product) = product_by_id.get(&p.product).cloned() else {
            snapshot.warnings.push(format!(
                "plan \"{}\" belongs to a product that is not listed (archived?); ignored",
                p.identifier
            ));
            continue;
        };
        let drop = |what: &str| {
            format!(
                "plan \"{}\": `{what}` cannot be written in the config format; ignored, and \
                 kept as is in the environment",
                p.identifier
            )
        };
        if !p.links.is_empty() {
            snapshot.warnings.push(drop("links"));
        }
        if !p.countries.is_empty() {
            snapshot.warnings.push(drop("countries"));
        }
        if !p.files.is_empty() {
            snapshot.warnings.push(drop("files"));
        }
        let plans = catalog.plans();
        let prices = plans
            .list_prices(&p.identifier)
            .send()
            .map_err(|e| format!("cannot list the prices of plan \"{}\": {e}", p.identifier))?
            .results;
        let entitlements = plans
            .list_entitlements(&p.identifier)
            .send()
            .map_err(|e| {
                format!(
                    "cannot list the entitlements of plan \"{}\": {e}",
                    p.identifier
                )
            })?
            .results;
        snapshot.catalog.plans.push(Plan {
            identifier: p.identifier,
            name: p.name,
            product,
            description: text(p.description),
            is_visible: p.is_visible,
            entitlements: entitlements.into_iter().map(entitlement).collect(),
            prices: Some(
                prices
                    .into_iter()
                    .map(|price| self::price(price, &feature_by_id))
                    .collect(),
            ),
            metadata: non_empty(p.metadata),
            license: p.license.map(|l| License {
                enabled: l.enabled,
                activation_limit: l.activation_limit.and_then(|n| u64::try_from(n).ok()),
                activation_limit_enabled: l.activation_limit_enabled,
                duration_value: l.duration_value.and_then(|n| u64::try_from(n).ok()),
                duration_unit: l.duration_unit,
                has_expiry: l.has_expiry,
            }),
        });
    }
    Ok(snapshot)
}

/// A description, unless empty (the service answers `""` for none).
fn text(description: Option<String>) -> Option<String> {
    description.filter(|d| !d.is_empty())
}

fn non_empty(map: Object) -> Option<Object> {
    (!map.is_empty()).then_some(map)
}

fn entitlement(e: PlanEntitlement) -> Entitlement {
    let d = e.details;
    let mut out = Entitlement::new(e.feature.identifier);
    out.value = d.value.and_then(|v| match v {
        Value::Bool(b) => Some(EntitlementValue::Bool(b)),
        // 5.0 is read back as 5, as the file most likely wrote it.
        Value::Number(n) => n.as_i64().map(EntitlementValue::Integer).or_else(|| {
            n.as_f64()
                .map(|x| match EntitlementValue::Float(x).as_i64() {
                    Some(whole) => EntitlementValue::Integer(whole),
                    None => EntitlementValue::Float(x),
                })
        }),
        _ => None,
    });
    out.has_unlimited_usage = d.has_unlimited_usage;
    out.reset = d.reset.map(Into::into);
    out.hard_limit = d.hard_limit;
    out.usage_alerts = d.usage_alerts.and_then(|a| match serde_json::to_value(a) {
        Ok(Value::Object(map)) => Some(camel(map)),
        _ => None,
    });
    if let Some(reset_time) = d.reset_time {
        out.extra
            .insert("resetTime".to_owned(), Value::from(reset_time));
    }
    if !d.rollover.is_empty() {
        out.extra
            .insert("rollover".to_owned(), Value::Object(d.rollover));
    }
    out
}

fn price(p: PlanPrice, features: &BTreeMap<String, String>) -> Price {
    Price {
        price_type: p.price_type.as_str().into(),
        currency: p.currency,
        free_trial: p.free_trial,
        trial_period: p.trial_period.and_then(|d| u32::try_from(d).ok()),
        enabled: p.enabled,
        tax_behavior: p.tax_behavior.map(Into::into),
        charge_catalog_price: Some(
            p.charge_catalog_price
                .into_iter()
                .map(|fp| feature_price(fp, features))
                .collect(),
        ),
    }
}

fn feature_price(fp: FeaturePrice, features: &BTreeMap<String, String>) -> Object {
    let mut out = Object::new();
    let mut put = |key: &str, value: Value| {
        let empty = match &value {
            Value::Null => true,
            Value::Object(m) => m.is_empty(),
            _ => false,
        };
        if !empty {
            out.insert(key.to_owned(), value);
        }
    };
    put(
        "feature",
        fp.feature
            .map(|id| Value::from(features.get(&id).cloned().unwrap_or(id)))
            .unwrap_or(Value::Null),
    );
    put("priceModel", fp.price_model.into());
    put("reset", fp.reset.into());
    put("resetTime", fp.reset_time.into());
    put("hasUnlimitedUsage", fp.has_unlimited_usage.into());
    put("paymentType", fp.payment_type.into());
    put("rollover", Value::Object(fp.rollover));
    put(
        "usageAlerts",
        fp.usage_alerts
            .and_then(|a| serde_json::to_value(a).ok())
            .map(|v| match v {
                Value::Object(m) => Value::Object(camel(m)),
                other => other,
            })
            .unwrap_or(Value::Null),
    );
    let charges: Vec<Value> = fp
        .charges
        .into_iter()
        .map(|c| {
            let mut charge = Object::new();
            if let Some(period) = c.charge_period {
                charge.insert("chargePeriod".to_owned(), Value::from(period));
            }
            if !c.price_data.is_empty() {
                charge.insert("priceData".to_owned(), Value::Object(c.price_data));
            }
            if !c.tiers.is_empty() {
                let tiers = c
                    .tiers
                    .into_iter()
                    .map(|t| {
                        let mut tier = Object::new();
                        if let Some(up_to) = t.up_to {
                            tier.insert("upTo".to_owned(), up_to);
                        }
                        if let Some(a) = t.unit_amount {
                            tier.insert("unitAmount".to_owned(), Value::from(a));
                        }
                        if let Some(a) = t.flat_amount {
                            tier.insert("flatAmount".to_owned(), Value::from(a));
                        }
                        Value::Object(tier)
                    })
                    .collect();
                charge.insert("tiers".to_owned(), Value::Array(tiers));
            }
            if !c.advanced.is_empty() {
                charge.insert("advanced".to_owned(), Value::Object(c.advanced));
            }
            Value::Object(charge)
        })
        .collect();
    out.insert("charges".to_owned(), Value::Array(charges));
    out
}

/// The SDK's snake_case field names (`threshold_type`) in the file's camelCase, `null`s
/// left out.
fn camel(map: Object) -> Object {
    map.into_iter()
        .filter(|(_, v)| !v.is_null())
        .map(|(k, v)| {
            let mut out = String::new();
            let mut upper = false;
            for c in k.chars() {
                if c == '_' {
                    upper = true;
                } else if upper {
                    out.extend(c.to_uppercase());
                    upper = false;
                } else {
                    out.push(c);
                }
            }
            (out, v)
        })
        .collect()
}
