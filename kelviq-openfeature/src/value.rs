//! The struct a struct flag answers, and its typed form.

use std::fmt;

use kelviq::model::FeatureEntitlement;
use kelviq::FeatureType;
use open_feature::{StructValue, Value};

/// The field names of the struct a struct flag answers.
mod field {
    pub const FEATURE_ID: &str = "feature_id";
    pub const FEATURE_TYPE: &str = "feature_type";
    pub const HAS_ACCESS: &str = "has_access";
    pub const HARD_LIMIT: &str = "hard_limit";
    pub const USAGE_LIMIT: &str = "usage_limit";
    pub const CURRENT_USAGE: &str = "current_usage";
    pub const REMAINING: &str = "remaining";
    pub const RESET_AT: &str = "reset_at";
    pub const ENTRIES: &str = "entries";
}

/// A customer's entitlement to one feature, as a struct flag answers it: read it with
/// `client.get_struct_value::<EntitlementValue>(…)`, or read the `StructValue` itself
/// (`get_struct_details::<StructValue>`), whose fields have the names below; a value Kelviq
/// does not know is left out of the struct, and `None` here.
///
/// ```
/// use kelviq_openfeature::EntitlementValue;
/// use open_feature::StructValue;
///
/// let answered = StructValue::default()
///     .with_field("feature_id", "api-usage")
///     .with_field("feature_type", "METER")
///     .with_field("has_access", true)
///     .with_field("hard_limit", true)
///     .with_field("usage_limit", 100)
///     .with_field("current_usage", 40)
///     .with_field("remaining", 60)
///     .with_field("entries", 1);
/// let meter = EntitlementValue::try_from(answered).unwrap();
/// assert_eq!(meter.remaining, Some(60));
/// assert_eq!(meter.feature_type, Some(kelviq::FeatureType::Meter));
/// assert!(EntitlementValue::try_from(StructValue::default()).is_err());
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct EntitlementValue {
    /// `feature_id`: the feature.
    pub feature_id: String,
    /// `feature_type`: `BOOLEAN`, `METER`, `CUSTOMIZABLE`, or a type the SDK does not know.
    pub feature_type: Option<FeatureType>,
    /// `has_access`: whether the customer may use the feature.
    pub has_access: bool,
    /// `hard_limit`: whether any entry's limit is hard.
    pub hard_limit: bool,
    /// `usage_limit`: the summed limits (the quantity bought, for a customizable feature).
    pub usage_limit: Option<i64>,
    /// `current_usage`: the summed usage in the current period.
    pub current_usage: Option<i64>,
    /// `remaining`: what is left before the limit.
    pub remaining: Option<i64>,
    /// `reset_at`: when a meter's usage resets, as the service writes it.
    pub reset_at: Option<String>,
    /// `entries`: how many of the customer's entries were combined.
    pub entries: i64,
}

/// Why a struct is not an [`EntitlementValue`]: the field that is missing or of another type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidEntitlement {
    /// The field.
    pub field: &'static str,
}

impl fmt::Display for InvalidEntitlement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "not a Kelviq entitlement: field {:?} is missing or of another type",
            self.field
        )
    }
}

impl std::error::Error for InvalidEntitlement {}

impl TryFrom<StructValue> for EntitlementValue {
    type Error = InvalidEntitlement;

    fn try_from(value: StructValue) -> Result<Self, Self::Error> {
        let fields = &value.fields;
        let get = |name: &'static str| fields.get(name);
        let string = |name: &'static str| -> Result<Option<String>, InvalidEntitlement> {
            match get(name) {
                None => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.clone())),
                Some(_) => Err(InvalidEntitlement { field: name }),
            }
        };
        let int = |name: &'static str| -> Result<Option<i64>, InvalidEntitlement> {
            match get(name) {
                None => Ok(None),
                Some(Value::Int(i)) => Ok(Some(*i)),
                Some(_) => Err(InvalidEntitlement { field: name }),
            }
        };
        let boolean = |name: &'static str| -> Result<bool, InvalidEntitlement> {
            match get(name) {
                Some(Value::Bool(b)) => Ok(*b),
                _ => Err(InvalidEntitlement { field: name }),
            }
        };
        let required = |name: &'static str, found: Option<String>| {
            found.ok_or(InvalidEntitlement { field: name })
        };
        Ok(Self {
            feature_id: required(field::FEATURE_ID, string(field::FEATURE_ID)?)?,
            feature_type: string(field::FEATURE_TYPE)?.map(|t| FeatureType::from(t.as_str())),
            has_access: boolean(field::HAS_ACCESS)?,
            hard_limit: boolean(field::HARD_LIMIT)?,
            usage_limit: int(field::USAGE_LIMIT)?,
            current_usage: int(field::CURRENT_USAGE)?,
            remaining: int(field::REMAINING)?,
            reset_at: string(field::RESET_AT)?,
            entries: int(field::ENTRIES)?.unwrap_or(0),
        })
    }
}

/// The struct a struct flag answers for `feature`.
pub(crate) fn to_struct(feature: &FeatureEntitlement) -> StructValue {
    let mut value = StructValue::default()
        .with_field(field::FEATURE_ID, feature.feature_id.as_str())
        .with_field(field::HAS_ACCESS, feature.has_access)
        .with_field(field::HARD_LIMIT, feature.hard_limit)
        .with_field(
            field::ENTRIES,
            i64::try_from(feature.entries).unwrap_or(i64::MAX),
        );
    if let Some(kind) = &feature.feature_type {
        value.add_field(field::FEATURE_TYPE, kind.as_str());
    }
    for (name, number) in [
        (field::USAGE_LIMIT, feature.usage_limit),
        (field::CURRENT_USAGE, feature.current_usage),
        (field::REMAINING, feature.remaining),
    ] {
        if let Some(number) = number {
            value.add_field(name, number);
        }
    }
    if let Some(reset_at) = &feature.reset_at {
        value.add_field(field::RESET_AT, reset_at.as_str());
    }
    value
}
