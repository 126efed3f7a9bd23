//! Writing a catalogue back: TOML for the file (`kelviq pull` will write it), JSON for
//! tools, and the starter file of `kelviq init`.

use serde_json::Value;

use crate::error::WriteError;
use crate::model::{Catalog, Object};

/// The starter file `kelviq init` writes: one product, one feature, one plan with an
/// entitlement and a price, each field commented.
///
/// ```
/// let catalog = kelviq_config::parse_toml(kelviq_config::STARTER_TOML, "kelviq.config.toml").unwrap();
/// assert_eq!(
///     (catalog.products.len(), catalog.features.len(), catalog.plans.len()),
///     (1, 1, 1)
/// );
/// ```
pub const STARTER_TOML: &str = r#"# Kelviq pricing as code: the desired state of your catalogue.
#
# Field names are those of the documented product(), feature() and plan() builders.
# Every identifier is a lowercase slug (^[a-z0-9][a-z0-9-_]*$) and every cross-reference
# names one, never a UUID, so this file means the same in sandbox and in production.
#
#   kelviq validate          check this file
#   kelviq schema --out kelviq.schema.json
#                            a JSON Schema for your editor

[[products]]
identifier = "my-app"
name = "My App"
# saas, saas_business, software, videocontent, informationservice, ebook,
# digitalgraphic, videogame, eservice or training
taxCode = "saas"

[[features]]
identifier = "seats"
name = "Seats"
# BOOLEAN (on/off), CUSTOMIZABLE (a configurable limit) or METER (usage-tracked)
type = "CUSTOMIZABLE"

[[plans]]
identifier = "pro"
name = "Pro"
product = "my-app"
isVisible = true

# What the plan grants: true/false for a BOOLEAN feature, a number for a limit.
[[plans.entitlements]]
feature = "seats"
value = 5

# The plan's whole price set. Without a `prices` key a push leaves the plan's prices
# alone. Set freeTrial, trialPeriod, enabled and taxBehavior explicitly, so that the
# price compares equal to the server's once pushed.
[[plans.prices]]
priceType = "FREE"
currency = "USD"
freeTrial = false
trialPeriod = 0
enabled = true
taxBehavior = "UNSPECIFIED"
"#;

impl Catalog {
    /// The catalogue as a TOML document, one array of tables per kind.
    ///
    /// TOML has no `null`: a `null` inside passed-through data (`metadata`,
    /// `chargeCatalogPrice`, …) is left out, which the API reads as the same absent value.
    /// An integer beyond the range of `i64` is refused.
    ///
    /// ```
    /// let catalog = kelviq_config::parse_toml(kelviq_config::STARTER_TOML, "kelviq.config.toml")?;
    /// let text = catalog.to_toml()?;
    /// assert_eq!(kelviq_config::parse_toml(&text, "again.toml")?, catalog);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn to_toml(&self) -> Result<String, WriteError> {
        let mut catalog = self.clone();
        for feature in &mut catalog.features {
            strip_object(&mut feature.feature_details);
            strip_object(&mut feature.meter);
            strip_object(&mut feature.metadata);
        }
        for plan in &mut catalog.plans {
            strip_object(&mut plan.metadata);
            for entitlement in &mut plan.entitlements {
                strip_object(&mut entitlement.usage_alerts);
                entitlement.extra.retain(|_, v| !v.is_null());
                entitlement.extra.values_mut().for_each(strip_nulls);
            }
            for price in plan.prices.iter_mut().flatten() {
                for entry in price.charge_catalog_price.iter_mut().flatten() {
                    entry.retain(|_, v| !v.is_null());
                    entry.values_mut().for_each(strip_nulls);
                }
            }
        }
        toml::to_string(&catalog).map_err(|e| WriteError::new(e.to_string()))
    }

    /// The catalogue as a JSON document (pretty-printed), the shape [`parse_json`](crate::parse_json)
    /// reads.
    ///
    /// ```
    /// let catalog = kelviq_config::parse_toml(kelviq_config::STARTER_TOML, "kelviq.config.toml").unwrap();
    /// let json = catalog.to_json();
    /// assert_eq!(kelviq_config::parse_json(&json, "kelviq.config.json").unwrap(), catalog);
    /// ```
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a catalogue is JSON")
    }
}

fn strip_object(object: &mut Option<Object>) {
    if let Some(object) = object {
        object.retain(|_, v| !v.is_null());
        object.values_mut().for_each(strip_nulls);
    }
}

/// Leaves out every `null` inside a value.
fn strip_nulls(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.retain(|_, v| !v.is_null());
            map.values_mut().for_each(strip_nulls);
        }
        Value::Array(items) => {
            items.retain(|v| !v.is_null());
            items.iter_mut().for_each(strip_nulls);
        }
        _ => {}
    }
}
