//! The plan catalogue: which plans the emulator sells, at which charge periods, with which
//! features. It is the emulator's in-memory form of a pricing-as-code file, not a file
//! format: the one catalogue format is the `kelviq.config.toml` of the `kelviq-config`
//! crate (JSON accepted too), which [`Catalogue::from_config`] turns into this.
//!
//! The emulator's built-in catalogue is such a file, [`DEFAULT_CATALOG_TOML`] (the plans and
//! features named in the product docs' examples); `kelviq-mock --catalog FILE` replaces it,
//! and `kelviq-mock --print-catalog` prints it as a starting point. The JSON "fixtures"
//! format of earlier versions (`--fixtures`, `PUT /_mock/fixtures`) is gone.

use serde::{Deserialize, Serialize};

/// The plans the emulator sells.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Catalogue {
    /// Every plan.
    pub plans: Vec<Plan>,
}

/// One plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Plan {
    /// What checkouts and updates name it by.
    pub identifier: String,
    /// A display name.
    #[serde(default)]
    pub name: String,
    /// The charge periods it can be bought at (`MONTHLY`, `YEARLY`, …).
    pub charge_periods: Vec<String>,
    /// What it grants.
    pub features: Vec<PlanFeature>,
    /// What it costs per charge period, in the currency's smallest unit.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub prices: std::collections::BTreeMap<String, i64>,
    /// The license key a purchase issues, when the plan issues one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub license: Option<LicenseTerms>,
}

/// What the license key of a plan allows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LicenseTerms {
    /// How many instances may be active at once.
    pub activation_limit: i64,
}

/// The price of a plan when its catalogue entry does not say.
pub const DEFAULT_PRICE: i64 = 1_000;

impl Plan {
    /// What one charge period costs, in the currency's smallest unit.
    pub fn price(&self, charge_period: &str) -> i64 {
        self.prices
            .get(charge_period)
            .copied()
            .unwrap_or(DEFAULT_PRICE)
    }
}

/// A feature a plan grants.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PlanFeature {
    /// The feature's identifier.
    pub identifier: String,
    /// `BOOLEAN`, `METER` or `CUSTOMIZABLE`.
    #[serde(rename = "type")]
    pub feature_type: FeatureKind,
    /// A meter's usage limit per period.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage_limit: Option<i64>,
    /// Whether a meter's limit is hard (no access at the limit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hard_limit: Option<bool>,
    /// A customizable feature's default quantity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantity: Option<i64>,
}

/// The three feature types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum FeatureKind {
    /// On or off.
    Boolean,
    /// Counted usage against a limit.
    Meter,
    /// A quantity chosen at purchase.
    Customizable,
}

impl FeatureKind {
    /// The spelling the API uses.
    pub fn as_str(self) -> &'static str {
        match self {
            FeatureKind::Boolean => "BOOLEAN",
            FeatureKind::Meter => "METER",
            FeatureKind::Customizable => "CUSTOMIZABLE",
        }
    }
}

impl Catalogue {
    /// The plan named `identifier`.
    pub fn plan(&self, identifier: &str) -> Option<&Plan> {
        self.plans.iter().find(|p| p.identifier == identifier)
    }

    /// The definition of a feature in any plan.
    pub fn feature(&self, identifier: &str) -> Option<&PlanFeature> {
        self.plans
            .iter()
            .flat_map(|p| &p.features)
            .find(|f| f.identifier == identifier)
    }
}

impl Catalogue {
    /// The catalogue a pricing-as-code file declares: one plan per `[[plans]]`, each
    /// granting its entitlements with the type of the feature they name.
    ///
    /// - A `METER` entitlement's `value` is its usage limit per period and `hardLimit` its
    ///   hardness (soft when not said); a `CUSTOMIZABLE` one's `value` is its default
    ///   quantity; `hasUnlimitedUsage = true` grants either without a limit. A `BOOLEAN`
    ///   entitlement granted `false` grants nothing. `reset` is not emulated: every meter
    ///   resets at the start of each UTC month.
    /// - Prices come from the plan's first price not `enabled = false`: `FREE` sells the plan
    ///   at every charge period for 0; otherwise the plan-wide charges of `chargeCatalogPrice`
    ///   (entries naming no `feature`) give the charge periods it is sold at and each one's
    ///   `priceData.amount`, in major units of a two-decimal currency (`QUARTERLY` is sold as
    ///   `THREE_MONTHS`). A plan with no prices, or none the emulator can read, is sold at
    ///   every charge period for [`DEFAULT_PRICE`].
    /// - Features no plan grants are not part of the catalogue (the emulator knows features
    ///   only through plans).
    /// - A plan with a `license` table issues a license key with each purchase (unless the
    ///   table says `enabled = false`), allowing `activationLimit` active instances (no
    ///   limit when not said or `activationLimitEnabled = false`).
    ///
    /// Refused: an entitlement naming a feature the file does not declare, or a feature type
    /// other than `BOOLEAN`, `METER` and `CUSTOMIZABLE` (which the emulator cannot serve).
    ///
    /// ```
    /// let catalog = kelviq_config::parse_toml(kelviq_config::STARTER_TOML, "kelviq.config.toml").unwrap();
    /// let catalogue = kelviq_mock::Catalogue::from_config(&catalog).unwrap();
    /// let pro = catalogue.plan("pro").unwrap();
    /// assert_eq!(pro.features[0].quantity, Some(5));
    /// assert_eq!(pro.price("MONTHLY"), 0); // a FREE price
    /// ```
    pub fn from_config(catalog: &kelviq_config::Catalog) -> Result<Self, String> {
        use kelviq_config::{EntitlementValue, FeatureType};

        let mut plans = Vec::new();
        for plan in &catalog.plans {
            let mut features = Vec::new();
            for entitlement in &plan.entitlements {
                let Some(feature) = catalog
                    .features
                    .iter()
                    .find(|f| f.identifier == entitlement.feature)
                else {
                    return Err(format!(
                        "plan {:?} grants feature {:?}, which the file does not declare",
                        plan.identifier, entitlement.feature
                    ));
                };
                let unlimited = entitlement.has_unlimited_usage == Some(true);
                let number = entitlement.value.and_then(|v| match v {
                    EntitlementValue::Bool(_) => None,
                    EntitlementValue::Integer(n) => Some(n),
                    EntitlementValue::Float(x) => Some(x.floor() as i64),
                });
                let limit = if unlimited { None } else { number };
                features.push(match &feature.feature_type {
                    FeatureType::Boolean => {
                        if entitlement.value == Some(EntitlementValue::Bool(false)) {
                            continue;
                        }
                        feature_of(&feature.identifier, FeatureKind::Boolean)
                    }
                    FeatureType::Meter => PlanFeature {
                        usage_limit: limit,
                        hard_limit: entitlement.hard_limit,
                        ..feature_of(&feature.identifier, FeatureKind::Meter)
                    },
                    FeatureType::Customizable => PlanFeature {
                        quantity: limit,
                        ..feature_of(&feature.identifier, FeatureKind::Customizable)
                    },
                    FeatureType::Other(other) => {
                        return Err(format!(
                            "feature {:?} has type {other:?}, which the emulator does not serve \
                             (it knows BOOLEAN, METER and CUSTOMIZABLE)",
                            feature.identifier
                        ))
                    }
                });
            }
            let (charge_periods, prices) = pricing(plan.prices.as_deref());
            plans.push(Plan {
                identifier: plan.identifier.clone(),
                name: plan.name.clone(),
                charge_periods,
                features,
                prices,
                license: plan
                    .license
                    .as_ref()
                    .filter(|l| l.enabled != Some(false))
                    .map(|l| LicenseTerms {
                        activation_limit: l
                            .activation_limit
                            .filter(|_| l.activation_limit_enabled != Some(false))
                            .map_or(i64::MAX, |n| i64::try_from(n).unwrap_or(i64::MAX)),
                    }),
            });
        }
        Ok(Catalogue { plans })
    }
}

/// The charge periods a plan is sold at and their prices, from its price set.
pub(crate) fn pricing(
    prices: Option<&[kelviq_config::Price]>,
) -> (Vec<String>, std::collections::BTreeMap<String, i64>) {
    use kelviq_config::PriceType;
    use serde_json::Value;

    let mut sold = std::collections::BTreeMap::new();
    let Some(price) = prices
        .into_iter()
        .flatten()
        .find(|p| p.enabled != Some(false))
    else {
        return (all_periods(), sold);
    };
    if price.price_type == PriceType::Free {
        let periods = all_periods();
        sold.extend(periods.iter().map(|p| (p.clone(), 0)));
        return (periods, sold);
    }
    let plan_wide = price
        .charge_catalog_price
        .iter()
        .flatten()
        .filter(|entry| entry.get("feature").is_none_or(Value::is_null));
    for entry in plan_wide {
        let charges = entry.get("charges").and_then(Value::as_array);
        for charge in charges.into_iter().flatten() {
            let Some(period) = charge.get("chargePeriod").and_then(Value::as_str) else {
                continue;
            };
            let period = if period == "QUARTERLY" {
                "THREE_MONTHS"
            } else {
                period
            };
            if serde_json::from_value::<kelviq_gen::types::ChargePeriod>(period.into()).is_err() {
                continue;
            }
            let amount = charge
                .get("priceData")
                .and_then(|data| data.get("amount"))
                .and_then(|amount| match amount {
                    Value::Number(n) => n.as_f64(),
                    Value::String(s) => s.trim().parse().ok(),
                    _ => None,
                });
            let units = amount.map_or(DEFAULT_PRICE, |a| (a * 100.0).round() as i64);
            // Saturating: amounts that add up past an i64 of cents are no panic.
            let sum = sold.entry(period.to_owned()).or_insert(0);
            *sum = units.saturating_add(*sum);
        }
    }
    if sold.is_empty() {
        return (all_periods(), sold);
    }
    (sold.keys().cloned().collect(), sold)
}

fn feature_of(identifier: &str, feature_type: FeatureKind) -> PlanFeature {
    PlanFeature {
        identifier: identifier.into(),
        feature_type,
        usage_limit: None,
        hard_limit: None,
        quantity: None,
    }
}

fn all_periods() -> Vec<String> {
    [
        "ONE_TIME",
        "MONTHLY",
        "YEARLY",
        "WEEKLY",
        "DAILY",
        "THREE_MONTHS",
        "SIX_MONTHS",
        "TWENTY_EIGHT_DAYS",
    ]
    .map(String::from)
    .to_vec()
}

/// The emulator's built-in catalogue, as a pricing-as-code file: the plans and features of
/// the product docs' examples (see [`Catalogue::default`]).
///
/// ```
/// let catalog = kelviq_mock::catalogue::default_catalog();
/// assert!(catalog.plans.iter().any(|p| p.identifier == "plan-pro-monthly"));
/// ```
pub const DEFAULT_CATALOG_TOML: &str = include_str!("default.kelviq.config.toml");

/// [`DEFAULT_CATALOG_TOML`], read.
pub fn default_catalog() -> kelviq_config::Catalog {
    kelviq_config::parse_toml(DEFAULT_CATALOG_TOML, "default.kelviq.config.toml")
        .expect("the built-in catalogue is a sound file")
}

impl Default for Catalogue {
    /// The plans and features of the product docs' examples: [`DEFAULT_CATALOG_TOML`].
    fn default() -> Self {
        Catalogue::from_config(&default_catalog())
            .expect("the built-in catalogue is one the emulator serves")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_catalogue_holds_the_docs_plans_and_features() {
        let catalogue = Catalogue::default();
        for plan in ["plan-pro-monthly", "premium-plan", "new_plan_enterprise"] {
            assert!(catalogue.plan(plan).is_some(), "{plan}");
        }
        for feature in [
            "seats",
            "projects",
            "premium-reporting",
            "advanced-analytics",
            "api-usage",
            "api-calls-tier1",
        ] {
            assert!(catalogue.feature(feature).is_some(), "{feature}");
        }
        let kinds: std::collections::BTreeSet<_> = catalogue
            .plans
            .iter()
            .flat_map(|p| &p.features)
            .map(|f| f.feature_type.as_str())
            .collect();
        assert_eq!(kinds.len(), 3, "all three feature types");
        let meters: Vec<_> = catalogue
            .plans
            .iter()
            .flat_map(|p| &p.features)
            .filter_map(|f| f.hard_limit)
            .collect();
        assert!(
            meters.contains(&true) && meters.contains(&false),
            "hard and soft meters"
        );
    }

    #[test]
    fn the_default_catalogue_sells_what_it_did_as_fixtures() {
        let catalogue = Catalogue::default();
        let pro = catalogue.plan("plan-pro-monthly").unwrap();
        assert_eq!(
            pro.charge_periods.len(),
            all_periods().len(),
            "every period"
        );
        assert_eq!((pro.price("MONTHLY"), pro.price("YEARLY")), (4_900, 49_000));
        assert_eq!(pro.price("WEEKLY"), DEFAULT_PRICE);
        let seats = pro
            .features
            .iter()
            .find(|f| f.identifier == "seats")
            .unwrap();
        assert_eq!(seats.quantity, Some(5));
        let desktop = catalogue.plan("pro-license").unwrap();
        assert_eq!(
            desktop.license,
            Some(LicenseTerms {
                activation_limit: 2
            })
        );
        assert_eq!(desktop.charge_periods, ["MONTHLY", "ONE_TIME", "YEARLY"]);
        assert_eq!(
            catalogue.plan("lifetime-pack").unwrap().price("ONE_TIME"),
            19_900
        );
        // One type per feature, whichever plan grants it.
        let mut kinds = std::collections::BTreeMap::new();
        for feature in catalogue.plans.iter().flat_map(|p| &p.features) {
            let kind = kinds
                .entry(feature.identifier.clone())
                .or_insert(feature.feature_type);
            assert_eq!(*kind, feature.feature_type, "{}", feature.identifier);
        }
        let enterprise = catalogue.plan("new_plan_enterprise").unwrap();
        let analytics = enterprise
            .features
            .iter()
            .find(|f| f.identifier == "advanced-analytics")
            .unwrap();
        assert_eq!(
            (analytics.feature_type, analytics.usage_limit),
            (FeatureKind::Meter, None),
            "unlimited"
        );
    }

    #[test]
    fn a_license_table_issues_keys() {
        let text = format!(
            "{}\n[plans.license]\nactivationLimit = 4\n",
            kelviq_config::STARTER_TOML
        );
        let catalog = kelviq_config::parse_toml(&text, "kelviq.config.toml").unwrap();
        let pro = Catalogue::from_config(&catalog).unwrap().plans.remove(0);
        assert_eq!(pro.license.unwrap().activation_limit, 4);
        let off = text.replace("activationLimit = 4", "enabled = false");
        let catalog = kelviq_config::parse_toml(&off, "kelviq.config.toml").unwrap();
        assert_eq!(
            Catalogue::from_config(&catalog).unwrap().plans[0].license,
            None
        );
    }

    #[test]
    fn a_config_file_becomes_the_catalogue() {
        let text = r#"
[[products]]
identifier = "app"
name = "App"
taxCode = "saas"

[[features]]
identifier = "exports"
name = "Exports"
type = "METER"

[[features]]
identifier = "seats"
name = "Seats"
type = "CUSTOMIZABLE"

[[features]]
identifier = "sso"
name = "SSO"
type = "BOOLEAN"

[[features]]
identifier = "beta"
name = "Beta"
type = "BOOLEAN"

[[plans]]
identifier = "team"
name = "Team"
product = "app"
entitlements = [
  { feature = "exports", value = 20, hardLimit = true },
  { feature = "seats", hasUnlimitedUsage = true },
  { feature = "sso", value = true },
  { feature = "beta", value = false },
]

[[plans.prices]]
priceType = "PAID"
currency = "USD"
enabled = false

[[plans.prices]]
priceType = "PAID"
currency = "EUR"
chargeCatalogPrice = [
  { priceModel = "FLAT", charges = [
      { chargePeriod = "MONTHLY", priceData = { amount = 29.99 } },
      { chargePeriod = "QUARTERLY", priceData = { amount = "80" } },
      { chargePeriod = "FORTNIGHTLY", priceData = { amount = 1 } },
  ] },
  { feature = "00000000-0000-0000-0000-000000000000", priceModel = "TIERED", charges = [
      { chargePeriod = "YEARLY" },
  ] },
]

[[plans]]
identifier = "basic"
name = "Basic"
product = "app"
"#;
        let catalog = kelviq_config::parse_toml(text, "kelviq.config.toml").unwrap();
        let catalogue = Catalogue::from_config(&catalog).unwrap();
        let team = catalogue.plan("team").unwrap();
        assert_eq!(team.name, "Team");
        let exports = &team.features[0];
        assert_eq!(
            (
                exports.feature_type,
                exports.usage_limit,
                exports.hard_limit
            ),
            (FeatureKind::Meter, Some(20), Some(true))
        );
        let seats = &team.features[1];
        assert_eq!(
            (seats.feature_type, seats.quantity),
            (FeatureKind::Customizable, None)
        );
        assert_eq!(team.features[2].feature_type, FeatureKind::Boolean);
        assert_eq!(
            team.features.len(),
            3,
            "a BOOLEAN granted false grants nothing"
        );
        assert_eq!(team.charge_periods, ["MONTHLY", "THREE_MONTHS"]);
        assert_eq!(
            (team.price("MONTHLY"), team.price("THREE_MONTHS")),
            (2_999, 8_000)
        );
        let basic = catalogue.plan("basic").unwrap();
        assert_eq!(
            basic.charge_periods,
            all_periods(),
            "no prices: every period"
        );
        assert_eq!(basic.price("MONTHLY"), DEFAULT_PRICE);
        assert!(basic.features.is_empty());
    }

    #[test]
    fn a_feature_type_the_emulator_cannot_serve_is_refused() {
        let text = "[[products]]\nidentifier = \"app\"\nname = \"App\"\ntaxCode = \"saas\"\n\
            [[features]]\nidentifier = \"credits\"\nname = \"Credits\"\ntype = \"CREDITS\"\n\
            [[plans]]\nidentifier = \"p\"\nname = \"P\"\nproduct = \"app\"\n\
            entitlements = [{ feature = \"credits\", value = 3 }]\n";
        let catalog = kelviq_config::parse_toml(text, "kelviq.config.toml").unwrap();
        let error = Catalogue::from_config(&catalog).unwrap_err();
        assert!(
            error.contains("\"credits\"") && error.contains("CREDITS"),
            "{error}"
        );
    }
}
