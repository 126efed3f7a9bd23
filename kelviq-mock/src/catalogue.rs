//! The plan catalogue: which plans can be bought, at which charge periods, with which
//! features.
//!
//! A default catalogue ships with the emulator, holding the plans and features named in the
//! product docs' examples. A fixtures file replaces it; its format is the JSON form of
//! [`Catalogue`]:
//!
//! ```json
//! {
//!   "plans": [
//!     {
//!       "identifier": "plan-pro-monthly",
//!       "name": "Pro",
//!       "chargePeriods": ["MONTHLY", "YEARLY"],
//!       "features": [
//!         { "identifier": "premium-reporting", "type": "BOOLEAN" },
//!         { "identifier": "api-usage", "type": "METER", "usageLimit": 1000, "hardLimit": true },
//!         { "identifier": "seats", "type": "CUSTOMIZABLE", "quantity": 5 }
//!       ]
//!     }
//!   ]
//! }
//! ```
//!
//! `usageLimit` and `hardLimit` apply to `METER` features (usage resets at the start of each
//! UTC month); `quantity` is the default quantity of a `CUSTOMIZABLE` feature, which a
//! checkout or subscription update may change. A plan may also say what it costs per charge
//! period in the currency's smallest unit (`"prices": {"MONTHLY": 4900}`; 1000 when not
//! said), and that it issues a license key (`"license": {"activationLimit": 3}`).

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

    /// Parses a fixtures file's text.
    pub fn from_json(text: &str) -> Result<Self, String> {
        let catalogue: Catalogue =
            serde_json::from_str(text).map_err(|e| format!("invalid fixtures: {e}"))?;
        for plan in &catalogue.plans {
            for period in &plan.charge_periods {
                if serde_json::from_value::<kelviq_gen::types::ChargePeriod>(period.as_str().into())
                    .is_err()
                {
                    return Err(format!(
                        "invalid fixtures: plan {:?} has unknown charge period {period:?}",
                        plan.identifier
                    ));
                }
            }
        }
        Ok(catalogue)
    }
}

fn boolean(identifier: &str) -> PlanFeature {
    PlanFeature {
        identifier: identifier.into(),
        feature_type: FeatureKind::Boolean,
        usage_limit: None,
        hard_limit: None,
        quantity: None,
    }
}

fn meter(identifier: &str, usage_limit: i64, hard_limit: bool) -> PlanFeature {
    PlanFeature {
        identifier: identifier.into(),
        feature_type: FeatureKind::Meter,
        usage_limit: Some(usage_limit),
        hard_limit: Some(hard_limit),
        quantity: None,
    }
}

fn customizable(identifier: &str, quantity: i64) -> PlanFeature {
    PlanFeature {
        identifier: identifier.into(),
        feature_type: FeatureKind::Customizable,
        usage_limit: None,
        hard_limit: None,
        quantity: Some(quantity),
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

impl Default for Catalogue {
    /// The plans and features of the product docs' examples.
    fn default() -> Self {
        Catalogue {
            plans: vec![
                Plan {
                    identifier: "plan-pro-monthly".into(),
                    name: "Pro".into(),
                    prices: [("MONTHLY".to_owned(), 4_900), ("YEARLY".to_owned(), 49_000)].into(),
                    license: None,
                    charge_periods: all_periods(),
                    features: vec![
                        boolean("premium-reporting"),
                        meter("advanced-analytics", 3, false),
                        meter("api-usage", 100, true),
                        customizable("seats", 5),
                        customizable("projects", 3),
                    ],
                },
                Plan {
                    identifier: "premium-plan".into(),
                    name: "Premium".into(),
                    prices: [("MONTHLY".to_owned(), 9_900), ("YEARLY".to_owned(), 99_000)].into(),
                    license: None,
                    charge_periods: all_periods(),
                    features: vec![
                        boolean("premium-reporting"),
                        meter("advanced-analytics", 100, false),
                        meter("api-usage", 1_000, true),
                        meter("api-calls-tier1", 5_000, false),
                        customizable("seats", 10),
                        customizable("projects", 10),
                    ],
                },
                Plan {
                    identifier: "new_plan_enterprise".into(),
                    name: "Enterprise".into(),
                    prices: [
                        ("MONTHLY".to_owned(), 49_900),
                        ("YEARLY".to_owned(), 499_000),
                    ]
                    .into(),
                    license: None,
                    charge_periods: all_periods(),
                    features: vec![
                        boolean("premium-reporting"),
                        boolean("advanced-analytics"),
                        meter("api-usage", 100_000, false),
                        meter("api-calls-tier1", 50_000, false),
                        customizable("seats", 50),
                        customizable("projects", 100),
                    ],
                },
                Plan {
                    identifier: "pro-license".into(),
                    name: "Pro Desktop".into(),
                    prices: [("YEARLY".to_owned(), 9_900)].into(),
                    license: Some(LicenseTerms {
                        activation_limit: 2,
                    }),
                    charge_periods: vec!["MONTHLY".into(), "YEARLY".into(), "ONE_TIME".into()],
                    features: vec![boolean("desktop-app")],
                },
                Plan {
                    identifier: "lifetime-pack".into(),
                    name: "Lifetime pack".into(),
                    prices: [("ONE_TIME".to_owned(), 19_900)].into(),
                    license: None,
                    charge_periods: vec!["ONE_TIME".into()],
                    features: vec![boolean("lifetime-reports"), meter("exports", 50, true)],
                },
            ],
        }
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
    fn fixtures_round_trip_and_bad_ones_are_refused() {
        let text = serde_json::to_string(&Catalogue::default()).unwrap();
        assert_eq!(Catalogue::from_json(&text).unwrap(), Catalogue::default());
        let bad_period =
            r#"{"plans":[{"identifier":"p","chargePeriods":["FORTNIGHTLY"],"features":[]}]}"#;
        assert!(Catalogue::from_json(bad_period)
            .unwrap_err()
            .contains("FORTNIGHTLY"));
        let unknown_field = r#"{"plans":[],"extra":1}"#;
        assert!(Catalogue::from_json(unknown_field).is_err());
    }
}
