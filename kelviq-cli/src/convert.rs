//! From the config file's passed-through values to the `kelviq` crate's typed inputs.
//!
//! The file passes enumerations and charge structures through as written; the SDK takes
//! typed values, so a value it does not know (a tax code, a price model, …) is refused here,
//! before any write, naming the field and the value. Keys of an entitlement beyond the
//! SDK's (`value`, `hasUnlimitedUsage`, `reset`, `resetTime`, `hardLimit`, `isInherited`,
//! `isValueOverridden`, `rollover`, `usageAlerts`) are refused the same way, as are keys of
//! a `chargeCatalogPrice` entry beyond the API's, and a plan license's `durationValue`
//! without its `durationUnit` (or the other way round).

use std::str::FromStr;

use kelviq::catalog::{
    ChargeInput, EntitlementDetailsInput, FeaturePriceInput, LicenseDurationUnit, LicenseInput,
    PaymentType, PlanChargePeriod, PriceInput, PriceModel, PriceTaxBehavior, PriceType, TaxCode,
    TierInput, UsageAlertThresholdType, UsageAlertsInput, UsageReset,
};
use kelviq_config::{Entitlement, EntitlementValue, License, Object, Price};
use serde_json::Value;

/// A value of one of the SDK's enumerations.
fn parse<T: FromStr>(field: &str, value: &str) -> Result<T, String> {
    value
        .parse()
        .map_err(|_| format!("{field}: {value:?} is not a value this CLI can send"))
}

/// A product's tax code.
pub fn tax_code(code: &kelviq_config::TaxCode) -> Result<TaxCode, String> {
    parse("taxCode", code.as_str())
}

/// A feature's type.
pub fn feature_type(feature_type: &kelviq_config::FeatureType) -> kelviq::FeatureType {
    kelviq::FeatureType::from(feature_type.as_str())
}

fn string<'a>(field: &str, value: &'a Value) -> Result<&'a str, String> {
    value
        .as_str()
        .ok_or_else(|| format!("{field}: expected a string, found {value}"))
}

fn boolean(field: &str, value: &Value) -> Result<bool, String> {
    value
        .as_bool()
        .ok_or_else(|| format!("{field}: expected true or false, found {value}"))
}

fn number(field: &str, value: &Value) -> Result<f64, String> {
    value
        .as_f64()
        .ok_or_else(|| format!("{field}: expected a number, found {value}"))
}

fn object(field: &str, value: &Value) -> Result<Object, String> {
    match value {
        Value::Object(map) => Ok(map.clone()),
        Value::Null => Ok(Object::new()),
        other => Err(format!("{field}: expected a table, found {other}")),
    }
}

fn array<'a>(field: &str, value: &'a Value) -> Result<&'a [Value], String> {
    match value {
        Value::Array(items) => Ok(items),
        Value::Null => Ok(&[]),
        other => Err(format!("{field}: expected a list, found {other}")),
    }
}

/// Usage alerts: `{enabled?, thresholdType, thresholds}`.
pub fn usage_alerts(alerts: &Object) -> Result<UsageAlertsInput, String> {
    let threshold_type: UsageAlertThresholdType = parse(
        "usageAlerts.thresholdType",
        string(
            "usageAlerts.thresholdType",
            alerts.get("thresholdType").unwrap_or(&Value::Null),
        )?,
    )?;
    let thresholds = array(
        "usageAlerts.thresholds",
        alerts.get("thresholds").unwrap_or(&Value::Null),
    )?
    .iter()
    .map(|t| number("usageAlerts.thresholds", t))
    .collect::<Result<Vec<_>, _>>()?;
    let mut input = UsageAlertsInput::new(threshold_type, thresholds);
    if let Some(enabled) = alerts.get("enabled").filter(|v| !v.is_null()) {
        input = input.enabled(boolean("usageAlerts.enabled", enabled)?);
    }
    for key in alerts.keys() {
        if !matches!(key.as_str(), "enabled" | "thresholdType" | "thresholds") {
            return Err(format!("usageAlerts.{key}: not a field this CLI can send"));
        }
    }
    Ok(input)
}

/// What a plan grants of one feature.
pub fn entitlement_details(entitlement: &Entitlement) -> Result<EntitlementDetailsInput, String> {
    let mut input = EntitlementDetailsInput::new();
    match entitlement.value {
        Some(EntitlementValue::Bool(b)) => input = input.value(b),
        Some(EntitlementValue::Integer(n)) => input = input.value(n),
        Some(EntitlementValue::Float(x)) => input = input.value(x),
        None => {}
    }
    if let Some(unlimited) = entitlement.has_unlimited_usage {
        input = input.has_unlimited_usage(unlimited);
    }
    if let Some(reset) = &entitlement.reset {
        input = input.reset(parse::<UsageReset>("reset", reset.as_str())?);
    }
    if let Some(hard) = entitlement.hard_limit {
        input = input.hard_limit(hard);
    }
    if let Some(alerts) = &entitlement.usage_alerts {
        input = input.usage_alerts(usage_alerts(alerts)?);
    }
    for (key, value) in &entitlement.extra {
        if value.is_null() {
            continue;
        }
        input = match key.as_str() {
            "resetTime" => input.reset_time(string("resetTime", value)?),
            "isInherited" => input.is_inherited(boolean("isInherited", value)?),
            "isValueOverridden" => input.is_value_overridden(boolean("isValueOverridden", value)?),
            "rollover" => input.rollover(object("rollover", value)?),
            other => {
                return Err(format!(
                    "{other}: not an entitlement field this CLI can send"
                ))
            }
        };
    }
    Ok(input)
}

/// The license keys a plan issues. `durationValue` and `durationUnit` go together.
pub fn license_input(license: &License) -> Result<LicenseInput, String> {
    let mut input = LicenseInput::new();
    if let Some(limit) = license.activation_limit {
        input = input.activation_limit(limit);
    }
    if let Some(enabled) = license.activation_limit_enabled {
        input = input.activation_limit_enabled(enabled);
    }
    match (license.duration_value, &license.duration_unit) {
        (Some(value), Some(unit)) => {
            let unit = parse::<LicenseDurationUnit>("license.durationUnit", unit)?;
            input = input.duration(value, unit);
        }
        (None, None) => {}
        (Some(_), None) => {
            return Err("license.durationValue: given without license.durationUnit".to_owned())
        }
        (None, Some(_)) => {
            return Err("license.durationUnit: given without license.durationValue".to_owned())
        }
    }
    if let Some(has_expiry) = license.has_expiry {
        input = input.has_expiry(has_expiry);
    }
    // Last, so that the file's `enabled` wins over `new`'s.
    if let Some(enabled) = license.enabled {
        input = input.enabled(enabled);
    }
    Ok(input)
}

/// One price of a plan; `feature` turns a feature's identifier (or UUID) in a
/// `chargeCatalogPrice` entry into its UUID.
pub fn price_input(
    price: &Price,
    feature: &dyn Fn(&str) -> Option<String>,
) -> Result<PriceInput, String> {
    let mut input = PriceInput::new(parse::<PriceType>("priceType", price.price_type.as_str())?);
    if let Some(currency) = &price.currency {
        input = input.currency(currency);
    }
    if let Some(days) = price.trial_period {
        input = input.trial_period(days);
    }
    // After the trial period, which turns the trial on when none is said.
    if let Some(free_trial) = price.free_trial {
        input = input.free_trial(free_trial);
    }
    if let Some(enabled) = price.enabled {
        input = input.enabled(enabled);
    }
    if let Some(tax) = &price.tax_behavior {
        input = input.tax_behavior(parse::<PriceTaxBehavior>("taxBehavior", tax.as_str())?);
    }
    for (i, entry) in price.charge_catalog_price.iter().flatten().enumerate() {
        let at = format!("chargeCatalogPrice[{i}]");
        input = input.feature_price(feature_price(&at, entry, feature)?);
    }
    Ok(input)
}

fn feature_price(
    at: &str,
    entry: &Object,
    feature: &dyn Fn(&str) -> Option<String>,
) -> Result<FeaturePriceInput, String> {
    let mut input = match entry.get("feature").filter(|v| !v.is_null()) {
        None => FeaturePriceInput::base(),
        Some(name) => {
            let name = string(&format!("{at}.feature"), name)?;
            let id = feature(name)
                .ok_or_else(|| format!("{at}.feature: no feature \"{name}\" in the environment"))?;
            FeaturePriceInput::for_feature(id)
        }
    };
    for (key, value) in entry {
        if value.is_null() {
            continue;
        }
        let field = format!("{at}.{key}");
        input = match key.as_str() {
            "feature" => input,
            "priceModel" => input.price_model(parse::<PriceModel>(&field, string(&field, value)?)?),
            "reset" => input.reset(parse::<UsageReset>(&field, string(&field, value)?)?),
            "resetTime" => input.reset_time(string(&field, value)?),
            "hasUnlimitedUsage" => input.has_unlimited_usage(boolean(&field, value)?),
            "paymentType" => {
                input.payment_type(parse::<PaymentType>(&field, string(&field, value)?)?)
            }
            "rollover" => input.rollover(object(&field, value)?),
            "usageAlerts" => input.usage_alerts(usage_alerts(&object(&field, value)?)?),
            "charges" => {
                let mut input = input;
                for (j, charge) in array(&field, value)?.iter().enumerate() {
                    input = input.charge(charge_input(&format!("{field}[{j}]"), charge)?);
                }
                input
            }
            _ => return Err(format!("{field}: not a field this CLI can send")),
        };
    }
    Ok(input)
}

fn charge_input(at: &str, charge: &Value) -> Result<ChargeInput, String> {
    let charge = object(at, charge)?;
    let period = charge
        .get("chargePeriod")
        .ok_or_else(|| format!("{at}.chargePeriod: required"))?;
    let field = format!("{at}.chargePeriod");
    let mut input = ChargeInput::new(parse::<PlanChargePeriod>(&field, string(&field, period)?)?);
    for (key, value) in &charge {
        let field = format!("{at}.{key}");
        input = match key.as_str() {
            "chargePeriod" => input,
            "priceData" => {
                let mut input = input;
                for (k, v) in object(&field, value)? {
                    input = input.price_data(k, v);
                }
                input
            }
            "advanced" => input.advanced(object(&field, value)?),
            "tiers" => {
                let mut input = input;
                for (j, tier) in array(&field, value)?.iter().enumerate() {
                    input = input.tier(tier_input(&format!("{field}[{j}]"), tier)?);
                }
                input
            }
            _ if value.is_null() => input,
            _ => return Err(format!("{field}: not a field this CLI can send")),
        };
    }
    Ok(input)
}

fn tier_input(at: &str, tier: &Value) -> Result<TierInput, String> {
    let tier = object(at, tier)?;
    let mut input =
        match tier.get("upTo") {
            None | Some(Value::Null) => TierInput::last(),
            Some(Value::String(s)) if s == "inf" => TierInput::last(),
            Some(v) => TierInput::up_to(v.as_i64().ok_or_else(|| {
                format!("{at}.upTo: expected a whole number or \"inf\", found {v}")
            })?),
        };
    for (key, value) in &tier {
        let field = format!("{at}.{key}");
        input = match key.as_str() {
            "upTo" => input,
            _ if value.is_null() => input,
            "unitAmount" => input.unit_amount(number(&field, value)?),
            "flatAmount" => input.flat_amount(number(&field, value)?),
            _ => return Err(format!("{field}: not a field this CLI can send")),
        };
    }
    Ok(input)
}
