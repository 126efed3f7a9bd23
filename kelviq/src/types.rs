//! The values callers send: charge periods, behaviours, cancellation and proration types,
//! feature quantities; and the feature type the service answers with.
//!
//! Each closed enum parses its documented spellings case-insensitively and refuses anything
//! else with an error that lists the allowed values:
//!
//! ```
//! use kelviq::ChargePeriod;
//!
//! assert_eq!("monthly".parse::<ChargePeriod>().unwrap(), ChargePeriod::Monthly);
//! let error = "fortnightly".parse::<ChargePeriod>().unwrap_err();
//! assert!(error.to_string().contains("ONE_TIME, MONTHLY, YEARLY"));
//! ```

use std::fmt;
use std::str::FromStr;

use kelviq_gen::types as wire;

use crate::error::ValidationError;

/// Declares a closed string enum of the API with its wire spellings, `Display`, a
/// case-insensitive `FromStr`, and the conversion into the generated type.
macro_rules! api_enum {
    (
        $(#[$meta:meta])*
        $name:ident as $field:literal => $wire:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $text:literal ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
        }

        impl $name {
            /// Every value, in the order the API documents them.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The spelling that travels on the wire.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)+
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = ValidationError;

            /// Accepts the documented spellings in any case, surrounding spaces ignored.
            fn from_str(value: &str) -> Result<Self, Self::Err> {
                let trimmed = value.trim();
                $name::ALL
                    .iter()
                    .copied()
                    .find(|v| v.as_str().eq_ignore_ascii_case(trimmed))
                    .ok_or_else(|| {
                        let allowed: Vec<&str> = $name::ALL.iter().map(|v| v.as_str()).collect();
                        ValidationError::new($field, value, format!("one of {}", allowed.join(", ")))
                    })
            }
        }

        impl $name {
            /// The generated client's value (crate-private: no generated type is public).
            pub(crate) fn to_wire(self) -> wire::$wire {
                match self {
                    $($name::$variant => wire::$wire::$variant,)+
                }
            }
        }
    };
}

// The catalog's enums are declared with it too, against the catalog family's types.
#[cfg_attr(not(feature = "catalog"), allow(unused_imports))]
pub(crate) use api_enum;

api_enum! {
    /// The billing cycle of a plan.
    ///
    /// `TwentyEightDays` is accepted by the service beyond the values the product docs list.
    ChargePeriod as "charge_period" => ChargePeriod {
        /// `ONE_TIME`
        OneTime = "ONE_TIME",
        /// `MONTHLY`
        Monthly = "MONTHLY",
        /// `YEARLY`
        Yearly = "YEARLY",
        /// `WEEKLY`
        Weekly = "WEEKLY",
        /// `DAILY`
        Daily = "DAILY",
        /// `THREE_MONTHS`
        ThreeMonths = "THREE_MONTHS",
        /// `SIX_MONTHS`
        SixMonths = "SIX_MONTHS",
        /// `TWENTY_EIGHT_DAYS`
        TwentyEightDays = "TWENTY_EIGHT_DAYS",
    }
}

api_enum! {
    /// How a usage report changes the recorded usage.
    Behaviour as "behaviour" => Behaviour {
        /// `SET`: replace the current usage with the value. Safe to repeat.
        Set = "SET",
        /// `DELTA`: add the value to the current usage. Counted again if repeated.
        Delta = "DELTA",
    }
}

api_enum! {
    /// When a cancelled subscription ends.
    CancellationType as "cancellation_type" => CancellationType {
        /// `IMMEDIATE`: now.
        Immediate = "IMMEDIATE",
        /// `CURRENT_PERIOD_ENDS`: at the end of the billing period.
        CurrentPeriodEnds = "CURRENT_PERIOD_ENDS",
        /// `SPECIFIC_DATE`: on the cancellation date, which must be given.
        SpecificDate = "SPECIFIC_DATE",
    }
}

api_enum! {
    /// How a plan change is charged. Not setting it means the organisation's default.
    ProrationBehavior as "proration_behavior" => ProrationBehavior {
        /// `IMMEDIATE_CHARGE`
        ImmediateCharge = "IMMEDIATE_CHARGE",
        /// `PRORATE_NEXT_INVOICE`
        ProrateNextInvoice = "PRORATE_NEXT_INVOICE",
        /// `NO_PRORATION`
        NoProration = "NO_PRORATION",
    }
}

api_enum! {
    /// When a plan change takes effect with respect to payment.
    PaymentBehavior as "payment_behavior" => PaymentBehavior {
        /// `activate_on_payment`: once the change is paid.
        ActivateOnPayment = "activate_on_payment",
    }
}

api_enum! {
    /// Whether a custom amount includes tax.
    TaxBehavior as "tax_behavior" => TaxBehavior {
        /// `INCLUSIVE`: the amount includes tax.
        Inclusive = "INCLUSIVE",
        /// `EXCLUSIVE`: tax is added to the amount.
        Exclusive = "EXCLUSIVE",
    }
}

api_enum! {
    /// Why a customer cancels.
    CancellationFeedback as "cancellation_feedback" => CancellationFeedback {
        /// `TOO_EXPENSIVE`
        TooExpensive = "TOO_EXPENSIVE",
        /// `MISSING_FEATURES`
        MissingFeatures = "MISSING_FEATURES",
        /// `SWITCHED_SERVICE`
        SwitchedService = "SWITCHED_SERVICE",
        /// `UNUSED`
        Unused = "UNUSED",
        /// `CUSTOMER_SERVICE`
        CustomerService = "CUSTOMER_SERVICE",
        /// `LOW_QUALITY`
        LowQuality = "LOW_QUALITY",
        /// `TOO_COMPLEX`
        TooComplex = "TOO_COMPLEX",
        /// `OTHER`
        Other = "OTHER",
    }
}

api_enum! {
    /// Why an order is refunded.
    RefundReason as "reason" => RefundReason {
        /// `DUPLICATE`
        Duplicate = "DUPLICATE",
        /// `FRAUDULENT`
        Fraudulent = "FRAUDULENT",
        /// `REQUESTED_BY_CUSTOMER`
        RequestedByCustomer = "REQUESTED_BY_CUSTOMER",
        /// `OTHER`
        Other = "OTHER",
    }
}

api_enum! {
    /// A refund's status, to filter refunds by.
    RefundStatus as "status" => RefundStatus {
        /// `PENDING`
        Pending = "PENDING",
        /// `PROCESSING`
        Processing = "PROCESSING",
        /// `SUCCEEDED`
        Succeeded = "SUCCEEDED",
        /// `FAILED`
        Failed = "FAILED",
        /// `CANCELED`
        Canceled = "CANCELED",
    }
}

api_enum! {
    /// A transaction's status, to filter transactions by.
    TransactionStatus as "status" => TransactionStatus {
        /// `success`
        Success = "success",
        /// `failure`
        Failure = "failure",
        /// `pending`
        Pending = "pending",
    }
}

/// The type of a feature, as the service reports it.
///
/// Open: a type the service adds later decodes as [`FeatureType::Other`] instead of failing
/// the call.
///
/// ```
/// use kelviq::FeatureType;
///
/// assert_eq!(FeatureType::from("METER"), FeatureType::Meter);
/// assert_eq!(FeatureType::from("TIERED"), FeatureType::Other("TIERED".into()));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FeatureType {
    /// `BOOLEAN`: on or off.
    Boolean,
    /// `METER`: counted usage against a limit.
    Meter,
    /// `CUSTOMIZABLE`: a quantity chosen at purchase.
    Customizable,
    /// A type this version of the SDK does not know, as the service spelled it.
    Other(String),
}

impl FeatureType {
    /// The spelling the service uses.
    pub fn as_str(&self) -> &str {
        match self {
            FeatureType::Boolean => "BOOLEAN",
            FeatureType::Meter => "METER",
            FeatureType::Customizable => "CUSTOMIZABLE",
            FeatureType::Other(other) => other,
        }
    }
}

impl From<&str> for FeatureType {
    fn from(value: &str) -> Self {
        match value {
            "BOOLEAN" => FeatureType::Boolean,
            "METER" => FeatureType::Meter,
            "CUSTOMIZABLE" => FeatureType::Customizable,
            other => FeatureType::Other(other.to_owned()),
        }
    }
}

/// As the service spells it.
impl serde::Serialize for FeatureType {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl fmt::Display for FeatureType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A feature and the quantity wanted of it, for checkout and subscription updates.
///
/// ```
/// let seats = kelviq::FeatureQuantity::new("seats", 5);
/// assert_eq!(seats.identifier(), "seats");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FeatureQuantity {
    identifier: String,
    quantity: i64,
}

impl FeatureQuantity {
    /// `quantity` of the feature `identifier`. Checked when the request is sent: the
    /// identifier must not be empty and the quantity must be at least 1.
    pub fn new(identifier: impl Into<String>, quantity: i64) -> Self {
        Self {
            identifier: identifier.into(),
            quantity,
        }
    }

    /// The feature's identifier.
    pub fn identifier(&self) -> &str {
        &self.identifier
    }

    /// The quantity.
    pub fn quantity(&self) -> i64 {
        self.quantity
    }
}

impl<S: Into<String>> From<(S, i64)> for FeatureQuantity {
    fn from((identifier, quantity): (S, i64)) -> Self {
        Self::new(identifier, quantity)
    }
}
