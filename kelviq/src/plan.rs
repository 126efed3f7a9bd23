//! What is being bought, named the same way by every operation that buys: the plan, the
//! charge period, feature quantities, the customer's IP address, the trial end, offering and
//! pricing ids (checkout, subscription create, update and preview, charges); and a custom
//! amount with its currency and tax behaviour (checkout, charges).
//!
//! One struct holds them, one function checks them, and [`plan_setters!`] writes the setters
//! each operation takes, so that an operation offers only the fields it sends.

use kelviq_gen::types as wire;

use crate::error::ValidationError;
use crate::time::TimeInput;
use crate::types::{ChargePeriod, FeatureQuantity, TaxBehavior};
use crate::validate;

/// The plan fields as given.
#[derive(Debug, Clone)]
pub(crate) struct PlanFields {
    pub(crate) plan_identifier: String,
    pub(crate) charge_period: ChargePeriod,
    pub(crate) features: Vec<FeatureQuantity>,
    pub(crate) ip_address: Option<String>,
    pub(crate) trial_end: Option<TimeInput>,
    pub(crate) offering_id: Option<String>,
    pub(crate) pricing_table_id: Option<String>,
    pub(crate) rule_id: Option<String>,
}

/// The plan fields, checked.
#[derive(Debug)]
pub(crate) struct CheckedPlan {
    pub(crate) plan_identifier: String,
    pub(crate) charge_period: wire::ChargePeriod,
    pub(crate) features: Vec<wire::FeatureQuantity>,
    pub(crate) ip_address: Option<String>,
    /// `now`, or a future instant as RFC 3339.
    pub(crate) trial_end: Option<String>,
    pub(crate) offering_id: Option<String>,
    pub(crate) pricing_table_id: Option<String>,
    pub(crate) rule_id: Option<String>,
}

impl PlanFields {
    pub(crate) fn new(plan_identifier: String, charge_period: ChargePeriod) -> Self {
        Self {
            plan_identifier,
            charge_period,
            features: Vec::new(),
            ip_address: None,
            trial_end: None,
            offering_id: None,
            pricing_table_id: None,
            rule_id: None,
        }
    }

    /// The one validation of what is being bought.
    pub(crate) fn check(&self) -> Result<CheckedPlan, ValidationError> {
        let id = |field: &'static str, value: &Option<String>| {
            value
                .as_deref()
                .map(|v| validate::identifier::<String>(field, v))
                .transpose()
        };
        Ok(CheckedPlan {
            plan_identifier: validate::identifier("plan_identifier", &self.plan_identifier)?,
            charge_period: self.charge_period.to_wire(),
            features: validate::features(&self.features)?,
            ip_address: self
                .ip_address
                .clone()
                .map(|ip| validate::ip_address("ip_address", ip))
                .transpose()?,
            trial_end: self
                .trial_end
                .as_ref()
                .map(validate::trial_end)
                .transpose()?,
            offering_id: id("offering_id", &self.offering_id)?,
            pricing_table_id: id("pricing_table_id", &self.pricing_table_id)?,
            rule_id: id("rule_id", &self.rule_id)?,
        })
    }
}

/// A custom amount, as given.
#[derive(Debug, Clone, Default)]
pub(crate) struct AmountFields {
    pub(crate) currency_code: Option<String>,
    pub(crate) custom_amount: Option<f64>,
    pub(crate) tax_behavior: Option<TaxBehavior>,
}

/// A custom amount, checked.
#[derive(Debug)]
pub(crate) struct CheckedAmount {
    pub(crate) currency_code: Option<String>,
    pub(crate) custom_amount: Option<f64>,
    pub(crate) tax_behavior: Option<TaxBehavior>,
}

impl AmountFields {
    /// A custom amount is finite and above 0 and needs a tax behaviour and a currency; a
    /// tax behaviour goes with a custom amount only; a currency is three letters.
    pub(crate) fn check(&self) -> Result<CheckedAmount, ValidationError> {
        if let Some(code) = &self.currency_code {
            if code.len() != 3 || !code.bytes().all(|b| b.is_ascii_alphabetic()) {
                return Err(ValidationError::new(
                    "currency_code",
                    code.clone(),
                    "an ISO 4217 currency code such as USD",
                ));
            }
        }
        match (self.custom_amount, self.tax_behavior) {
            (Some(amount), _) if !(amount.is_finite() && amount > 0.0) => {
                return Err(ValidationError::new(
                    "custom_amount",
                    amount.to_string(),
                    "an amount above 0",
                ))
            }
            (Some(amount), None) => {
                return Err(ValidationError::new(
                    "tax_behavior",
                    "none",
                    format!("INCLUSIVE or EXCLUSIVE with custom_amount {amount}"),
                ))
            }
            (Some(amount), Some(_)) if self.currency_code.is_none() => {
                return Err(ValidationError::new(
                    "currency_code",
                    "none",
                    format!("a currency code with custom_amount {amount}"),
                ))
            }
            (None, Some(tax)) => {
                return Err(ValidationError::new(
                    "tax_behavior",
                    tax.to_string(),
                    "no tax behaviour without a custom_amount",
                ))
            }
            _ => {}
        }
        Ok(CheckedAmount {
            currency_code: self.currency_code.clone(),
            custom_amount: self.custom_amount,
            tax_behavior: self.tax_behavior,
        })
    }
}

/// Writes, on a request builder with a `plan: PlanFields` field, the setters of the plan
/// fields that operation sends.
macro_rules! plan_setters {
    ($builder:ident: $($field:ident),+ $(,)?) => {
        impl<M> $builder<M> {
            $( $crate::plan::plan_setters!(@setter $field); )+
        }
    };
    (@setter features) => {
        /// Quantities of the plan's customizable features (each identifier not empty, each
        /// quantity at least 1).
        pub fn features<F: Into<$crate::FeatureQuantity>>(
            mut self,
            features: impl IntoIterator<Item = F>,
        ) -> Self {
            self.plan.features = features.into_iter().map(Into::into).collect();
            self
        }
    };
    (@setter ip_address) => {
        /// The customer's IP address (IPv4 or IPv6), for location-based pricing.
        pub fn ip_address(mut self, ip_address: impl Into<String>) -> Self {
            self.plan.ip_address = Some(ip_address.into());
            self
        }
    };
    (@setter trial_end) => {
        /// When the trial ends: `"now"`, or a future instant (a `chrono` date-time,
        /// `SystemTime`, or RFC 3339 text; see [`IntoTime`](crate::IntoTime)).
        pub fn trial_end(mut self, trial_end: impl $crate::IntoTime) -> Self {
            self.plan.trial_end = Some(trial_end.into_time());
            self
        }
    };
    (@setter offering_id) => {
        /// The offering the customer buys through.
        pub fn offering_id(mut self, offering_id: impl Into<String>) -> Self {
            self.plan.offering_id = Some(offering_id.into());
            self
        }
    };
    (@setter pricing_table_id) => {
        /// The pricing table used; considered only without an offering.
        pub fn pricing_table_id(mut self, pricing_table_id: impl Into<String>) -> Self {
            self.plan.pricing_table_id = Some(pricing_table_id.into());
            self
        }
    };
    (@setter rule_id) => {
        /// The pricing rule applied; considered only without an offering.
        pub fn rule_id(mut self, rule_id: impl Into<String>) -> Self {
            self.plan.rule_id = Some(rule_id.into());
            self
        }
    };
    (@setter custom_amount) => {
        /// A custom amount to charge instead of the plan's price (above 0); needs
        /// [`tax_behavior`](Self::tax_behavior) and [`currency_code`](Self::currency_code).
        pub fn custom_amount(mut self, amount: f64) -> Self {
            self.amount.custom_amount = Some(amount);
            self
        }

        /// Whether the custom amount includes tax; only with a custom amount.
        pub fn tax_behavior(mut self, tax_behavior: $crate::TaxBehavior) -> Self {
            self.amount.tax_behavior = Some(tax_behavior);
            self
        }

        /// The currency (ISO 4217, such as `USD`); required with a custom amount.
        pub fn currency_code(mut self, currency_code: impl Into<String>) -> Self {
            self.amount.currency_code = Some(currency_code.into());
            self
        }
    };
}
pub(crate) use plan_setters;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_custom_amount_needs_its_tax_behaviour_and_currency() {
        let amount = |custom_amount, tax_behavior, currency: Option<&str>| {
            AmountFields {
                currency_code: currency.map(str::to_owned),
                custom_amount,
                tax_behavior,
            }
            .check()
        };
        assert!(amount(None, None, None).is_ok());
        assert!(amount(Some(10.0), Some(TaxBehavior::Inclusive), Some("USD")).is_ok());
        let field = |r: Result<CheckedAmount, ValidationError>| r.unwrap_err().field();
        assert_eq!(field(amount(Some(10.0), None, Some("USD"))), "tax_behavior");
        assert_eq!(
            field(amount(Some(10.0), Some(TaxBehavior::Exclusive), None)),
            "currency_code"
        );
        assert_eq!(
            field(amount(None, Some(TaxBehavior::Exclusive), None)),
            "tax_behavior"
        );
        assert_eq!(
            field(amount(Some(0.0), Some(TaxBehavior::Exclusive), Some("USD"))),
            "custom_amount"
        );
        assert_eq!(
            field(amount(
                Some(f64::NAN),
                Some(TaxBehavior::Exclusive),
                Some("USD")
            )),
            "custom_amount"
        );
        assert_eq!(field(amount(None, None, Some("US"))), "currency_code");
    }
}
