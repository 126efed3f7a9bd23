//! The catalogue a file declares: products, features and plans, with the field names of the
//! documented `product()`, `feature()` and `plan()` builders.

use std::collections::BTreeMap;
use std::fmt;

use schemars::JsonSchema;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::{Map, Value};

use crate::enums::{FeatureType, PriceType, Reset, TaxBehavior, TaxCode};

/// Free-form JSON passed through to the API as written (`metadata`, `featureDetails`,
/// `meter`, `usageAlerts`, the entries of `chargeCatalogPrice`).
pub type Object = Map<String, Value>;

/// A whole pricing-as-code file: the desired state of a catalogue.
///
/// In TOML each kind is an array of tables:
///
/// ```
/// let catalog = kelviq_config::parse_toml(
///     r#"
/// [[products]]
/// identifier = "my-app"
/// name = "My App"
/// taxCode = "saas"
///
/// [[features]]
/// identifier = "seats"
/// name = "Seats"
/// type = "CUSTOMIZABLE"
///
/// [[plans]]
/// identifier = "pro"
/// name = "Pro"
/// product = "my-app"
/// entitlements = [{ feature = "seats", value = 5 }]
/// "#,
///     "kelviq.config.toml",
/// )
/// .unwrap();
/// assert_eq!(catalog.plans[0].entitlements[0].feature, "seats");
/// ```
///
/// Nothing in it is tied to one environment: no UUIDs and no draft or published state. Every
/// cross-reference is an identifier (see [`is_identifier`](crate::is_identifier)).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schemars(
    title = "kelviq.config",
    description = "Kelviq pricing as code: the desired state of a catalogue of products, features and plans."
)]
pub struct Catalog {
    /// Where an editor finds this schema (`kelviq schema --out kelviq.schema.json`);
    /// ignored otherwise.
    #[serde(rename = "$schema", default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    /// The products (`product()`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub products: Vec<Product>,
    /// The features (`feature()`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub features: Vec<Feature>,
    /// The plans (`plan()`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub plans: Vec<Plan>,
}

/// A product (the documented `product()` builder).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Product {
    /// Stable identifier, the join key across environments.
    #[schemars(schema_with = "identifier_schema")]
    pub identifier: String,
    /// Display name.
    pub name: String,
    /// Tax category.
    pub tax_code: TaxCode,
    /// Free-text description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// A feature (the documented `feature()` builder). The API treats a feature's attributes
/// as immutable once created.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Feature {
    /// Stable identifier, referenced from plan entitlements.
    #[schemars(schema_with = "identifier_schema")]
    pub identifier: String,
    /// Display name.
    pub name: String,
    /// `BOOLEAN`, `CUSTOMIZABLE` or `METER`.
    #[serde(rename = "type")]
    pub feature_type: FeatureType,
    /// Free-text description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Type-specific details, passed through to the API.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub feature_details: Option<Object>,
    /// Meter configuration of a `METER` feature, passed through to the API.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meter: Option<Object>,
    /// Arbitrary key-value metadata.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Object>,
}

/// A plan (the documented `plan()` builder). Its lifecycle (draft, published) is not part of
/// the file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Plan {
    /// Stable identifier.
    #[schemars(schema_with = "identifier_schema")]
    pub identifier: String,
    /// Display name.
    pub name: String,
    /// Identifier of the parent product.
    #[schemars(schema_with = "identifier_schema")]
    pub product: String,
    /// Free-text description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Whether the plan is publicly visible.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_visible: Option<bool>,
    /// What the plan grants.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub entitlements: Vec<Entitlement>,
    /// The plan's whole price set. `None` (no `prices` key) leaves the remote prices alone;
    /// `Some` replaces them all, so an empty list is not the same as no key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prices: Option<Vec<Price>>,
    /// Arbitrary key-value metadata.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Object>,
    /// The license keys a purchase of the plan issues. `None` (no `license` table) leaves
    /// the remote plan's license alone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub license: Option<License>,
}

/// The license keys a plan issues: the API's `license` of a plan, field for field. A
/// `license` table issues keys unless it says `enabled = false`.
///
/// ```toml
/// [plans.license]
/// activationLimit = 3
/// durationValue = 1
/// durationUnit = "YEAR"
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct License {
    /// Whether the plan issues license keys (it does when not said).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// How many instances one key may have active at once (at least 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub activation_limit: Option<u64>,
    /// Whether `activationLimit` applies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub activation_limit_enabled: Option<bool>,
    /// How many `durationUnit`s a key lasts (at least 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub duration_value: Option<u64>,
    /// The unit of `durationValue`: `DAY`, `MONTH` or `YEAR` (passed through).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_unit: Option<String>,
    /// Whether keys expire.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub has_expiry: Option<bool>,
}

/// A feature a plan grants. Keys beyond the documented ones are kept in
/// [`extra`](Self::extra) and passed through to the API, as the documented CLI does: the
/// shape varies by feature type.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Entitlement {
    /// Identifier of the granted feature.
    #[schemars(schema_with = "identifier_schema")]
    pub feature: String,
    /// The grant: `true`/`false` for a `BOOLEAN` feature, a number for a limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<EntitlementValue>,
    /// Unlimited usage instead of a numeric value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub has_unlimited_usage: Option<bool>,
    /// How often usage resets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reset: Option<Reset>,
    /// Whether usage is blocked at the limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hard_limit: Option<bool>,
    /// Alert configuration, passed through to the API.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage_alerts: Option<Object>,
    /// Any other keys, passed through to the API.
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

impl Entitlement {
    /// A grant of `feature` with nothing else said.
    ///
    /// ```
    /// use kelviq_config::{Entitlement, EntitlementValue};
    ///
    /// let mut seats = Entitlement::new("seats");
    /// seats.value = Some(EntitlementValue::Integer(5));
    /// assert_eq!(seats.value.unwrap().as_i64(), Some(5));
    /// ```
    pub fn new(feature: impl Into<String>) -> Self {
        Self {
            feature: feature.into(),
            value: None,
            has_unlimited_usage: None,
            reset: None,
            hard_limit: None,
            usage_alerts: None,
            extra: BTreeMap::new(),
        }
    }
}

/// The grant of an entitlement: a boolean or a number.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum EntitlementValue {
    /// On or off (a `BOOLEAN` feature).
    Bool(bool),
    /// A whole-number limit.
    Integer(i64),
    /// A fractional limit.
    Float(f64),
}

impl EntitlementValue {
    /// The value as a whole number, when it is one (a float with no fraction counts).
    pub fn as_i64(self) -> Option<i64> {
        match self {
            EntitlementValue::Integer(n) => Some(n),
            EntitlementValue::Float(x) if x.fract() == 0.0 && x.abs() < 9.0e15 => Some(x as i64),
            _ => None,
        }
    }

    /// The value as a boolean, when it is one.
    pub fn as_bool(self) -> Option<bool> {
        match self {
            EntitlementValue::Bool(b) => Some(b),
            _ => None,
        }
    }
}

impl Serialize for EntitlementValue {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match *self {
            EntitlementValue::Bool(b) => serializer.serialize_bool(b),
            EntitlementValue::Integer(n) => serializer.serialize_i64(n),
            EntitlementValue::Float(x) => serializer.serialize_f64(x),
        }
    }
}

impl<'de> Deserialize<'de> for EntitlementValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ValueVisitor;

        impl Visitor<'_> for ValueVisitor {
            type Value = EntitlementValue;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a boolean or a number")
            }

            fn visit_bool<E: de::Error>(self, b: bool) -> Result<Self::Value, E> {
                Ok(EntitlementValue::Bool(b))
            }

            fn visit_i64<E: de::Error>(self, n: i64) -> Result<Self::Value, E> {
                Ok(EntitlementValue::Integer(n))
            }

            fn visit_u64<E: de::Error>(self, n: u64) -> Result<Self::Value, E> {
                i64::try_from(n)
                    .map(EntitlementValue::Integer)
                    .map_err(|_| E::invalid_value(de::Unexpected::Unsigned(n), &self))
            }

            fn visit_f64<E: de::Error>(self, x: f64) -> Result<Self::Value, E> {
                // `nan` and `inf` (TOML has them) are no JSON number, and `nan` never
                // equals itself.
                if !x.is_finite() {
                    return Err(E::invalid_value(
                        de::Unexpected::Float(x),
                        &"a finite number",
                    ));
                }
                Ok(EntitlementValue::Float(x))
            }
        }

        deserializer.deserialize_any(ValueVisitor)
    }
}

impl JsonSchema for EntitlementValue {
    fn schema_name() -> String {
        "EntitlementValue".to_owned()
    }

    fn json_schema(_: &mut schemars::gen::SchemaGenerator) -> schemars::schema::Schema {
        serde_json::from_value(serde_json::json!({
            "description": "true/false for a BOOLEAN feature, a number for a limit.",
            "type": ["boolean", "number"]
        }))
        .expect("a valid schema")
    }
}

impl<'de> Deserialize<'de> for Entitlement {
    /// Field by field, so that an error inside names its key and keeps its position (a
    /// derived `flatten` would buffer the table and lose both).
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct EntitlementVisitor;

        const FIELDS: &[&str] = &[
            "feature",
            "value",
            "hasUnlimitedUsage",
            "reset",
            "hardLimit",
            "usageAlerts",
        ];

        impl<'de> Visitor<'de> for EntitlementVisitor {
            type Value = Entitlement;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an entitlement table")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Entitlement, A::Error> {
                let mut feature = None;
                let mut entitlement = Entitlement::new(String::new());
                let mut seen = std::collections::BTreeSet::new();
                while let Some(key) = map.next_key::<String>()? {
                    if !seen.insert(key.clone()) {
                        return Err(de::Error::custom(format_args!("duplicate field `{key}`")));
                    }
                    match key.as_str() {
                        "feature" => feature = Some(map.next_value::<String>()?),
                        "value" => entitlement.value = Some(map.next_value()?),
                        "hasUnlimitedUsage" => {
                            entitlement.has_unlimited_usage = Some(map.next_value()?)
                        }
                        "reset" => entitlement.reset = Some(map.next_value()?),
                        "hardLimit" => entitlement.hard_limit = Some(map.next_value()?),
                        "usageAlerts" => entitlement.usage_alerts = Some(map.next_value()?),
                        _ => {
                            let value = map.next_value::<Value>()?;
                            entitlement.extra.insert(key, value);
                        }
                    }
                }
                entitlement.feature = feature.ok_or_else(|| de::Error::missing_field("feature"))?;
                Ok(entitlement)
            }
        }

        deserializer.deserialize_struct("Entitlement", FIELDS, EntitlementVisitor)
    }
}

/// One price of a plan. The envelope is checked; the charge structures inside
/// `chargeCatalogPrice` are passed through as written.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Price {
    /// `FREE`, `PAID` or `CUSTOM`.
    pub price_type: PriceType,
    /// ISO currency code, such as `USD`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    /// Whether the price includes a free trial.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub free_trial: Option<bool>,
    /// Trial length in days.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trial_period: Option<u32>,
    /// Whether the price is enabled. Not in the documented field table, but named by the
    /// documentation among the fields to set explicitly, and part of the API's price.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// `INCLUSIVE`, `EXCLUSIVE` or `UNSPECIFIED`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tax_behavior: Option<TaxBehavior>,
    /// The full charge structure (price models, tiers, billing periods), passed through.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub charge_catalog_price: Option<Vec<Object>>,
}

impl Price {
    /// A price of `price_type` with nothing else said.
    ///
    /// ```
    /// use kelviq_config::{Price, PriceType};
    ///
    /// assert_eq!(Price::new(PriceType::Free).price_type.as_str(), "FREE");
    /// ```
    pub fn new(price_type: PriceType) -> Self {
        Self {
            price_type,
            currency: None,
            free_trial: None,
            trial_period: None,
            enabled: None,
            tax_behavior: None,
            charge_catalog_price: None,
        }
    }
}

/// The schema of an identifier: a lowercase URL-safe slug.
fn identifier_schema(_: &mut schemars::gen::SchemaGenerator) -> schemars::schema::Schema {
    serde_json::from_value(serde_json::json!({
        "type": "string",
        "pattern": crate::IDENTIFIER_PATTERN,
        "description": "A lowercase URL-safe slug, never a UUID."
    }))
    .expect("a valid schema")
}
