//! The format's enumerations. Each one knows the values the documentation lists and passes
//! any other string through verbatim (as [`TaxCode::Other`] and its siblings), as the
//! documented CLI does: some values are only enabled for some accounts, and new server-side
//! values must work without a new release. The service validates them on push.

use std::fmt;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

/// Declares an enumeration of strings with the documented values and an `Other` variant.
macro_rules! open_enum {
    (
        $(#[$meta:meta])*
        $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $text:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
            /// A value this version does not list, kept and written back verbatim. Build
            /// values with [`From`], which picks the named variant for a listed value.
            Other(String),
        }

        impl $name {
            /// The values the documentation lists, as spelled in the file.
            pub const KNOWN: &'static [&'static str] = &[$($text),+];

            /// The value as spelled in the file.
            pub fn as_str(&self) -> &str {
                match self {
                    $( $name::$variant => $text, )+
                    $name::Other(text) => text,
                }
            }

            /// Whether the value is one the documentation lists.
            pub fn is_known(&self) -> bool {
                !matches!(self, $name::Other(_))
            }
        }

        impl From<&str> for $name {
            fn from(text: &str) -> Self {
                match text {
                    $( $text => $name::$variant, )+
                    other => $name::Other(other.to_owned()),
                }
            }
        }

        impl From<String> for $name {
            fn from(text: String) -> Self {
                match text.as_str() {
                    $( $text => $name::$variant, )+
                    _ => $name::Other(text),
                }
            }
        }

        impl std::str::FromStr for $name {
            type Err = std::convert::Infallible;

            fn from_str(text: &str) -> Result<Self, Self::Err> {
                Ok(text.into())
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                deserializer.deserialize_str(OpenEnumVisitor::<$name>::new(Self::KNOWN))
            }
        }

        impl schemars::JsonSchema for $name {
            fn schema_name() -> String {
                stringify!($name).to_owned()
            }

            fn json_schema(_: &mut schemars::gen::SchemaGenerator) -> schemars::schema::Schema {
                open_enum_schema(Self::KNOWN)
            }
        }
    };
}

/// Reads a string into an open enumeration.
struct OpenEnumVisitor<T> {
    known: &'static [&'static str],
    _marker: std::marker::PhantomData<T>,
}

impl<T> OpenEnumVisitor<T> {
    fn new(known: &'static [&'static str]) -> Self {
        Self {
            known,
            _marker: std::marker::PhantomData,
        }
    }
}

impl<T: From<String>> Visitor<'_> for OpenEnumVisitor<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a string such as ")?;
        for (i, value) in self.known.iter().enumerate() {
            match i {
                0 => {}
                _ if i + 1 == self.known.len() => f.write_str(" or ")?,
                _ => f.write_str(", ")?,
            }
            write!(f, "\"{value}\"")?;
        }
        Ok(())
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<T, E> {
        Ok(T::from(text.to_owned()))
    }

    fn visit_string<E: de::Error>(self, text: String) -> Result<T, E> {
        Ok(T::from(text))
    }
}

/// The schema of an open enumeration: any string, the documented ones offered first.
fn open_enum_schema(known: &[&str]) -> schemars::schema::Schema {
    let schema = serde_json::json!({
        "anyOf": [
            { "type": "string", "enum": known },
            { "type": "string", "description": "A value this version does not list, passed through to the API verbatim." }
        ]
    });
    serde_json::from_value(schema).expect("a valid schema")
}

open_enum! {
    /// A product's tax category (`taxCode`).
    ///
    /// ```
    /// use kelviq_config::TaxCode;
    ///
    /// assert_eq!(TaxCode::from("saas"), TaxCode::Saas);
    /// assert_eq!(TaxCode::from("nft").as_str(), "nft"); // passed through
    /// ```
    TaxCode {
        /// `saas`
        Saas = "saas",
        /// `saas_business`
        SaasBusiness = "saas_business",
        /// `software`
        Software = "software",
        /// `videocontent`
        VideoContent = "videocontent",
        /// `informationservice`
        InformationService = "informationservice",
        /// `ebook`
        Ebook = "ebook",
        /// `digitalgraphic`
        DigitalGraphic = "digitalgraphic",
        /// `videogame`
        VideoGame = "videogame",
        /// `eservice`
        Eservice = "eservice",
        /// `training`
        Training = "training",
    }
}

open_enum! {
    /// What kind of feature it is (`type`).
    ///
    /// ```
    /// use kelviq_config::FeatureType;
    ///
    /// assert_eq!("METER".parse::<FeatureType>().unwrap(), FeatureType::Meter);
    /// ```
    FeatureType {
        /// `BOOLEAN`: on or off.
        Boolean = "BOOLEAN",
        /// `CUSTOMIZABLE`: a configurable limit.
        Customizable = "CUSTOMIZABLE",
        /// `METER`: usage-tracked.
        Meter = "METER",
    }
}

open_enum! {
    /// How often an entitlement's usage resets (`reset`).
    ///
    /// ```
    /// use kelviq_config::Reset;
    ///
    /// assert_eq!(Reset::EveryMonth.to_string(), "EVERY_MONTH");
    /// ```
    Reset {
        /// `NEVER`
        Never = "NEVER",
        /// `EVERY_DAY`
        EveryDay = "EVERY_DAY",
        /// `EVERY_28_DAYS` (only where enabled for the account).
        Every28Days = "EVERY_28_DAYS",
        /// `EVERY_MONTH`
        EveryMonth = "EVERY_MONTH",
        /// `EVERY_QUARTER`
        EveryQuarter = "EVERY_QUARTER",
        /// `EVERY_YEAR`
        EveryYear = "EVERY_YEAR",
    }
}

open_enum! {
    /// What kind of price it is (`priceType`).
    ///
    /// ```
    /// use kelviq_config::PriceType;
    ///
    /// assert!(PriceType::from("PAID").is_known());
    /// ```
    PriceType {
        /// `FREE`
        Free = "FREE",
        /// `PAID`
        Paid = "PAID",
        /// `CUSTOM`
        Custom = "CUSTOM",
    }
}

open_enum! {
    /// Whether a price includes tax (`taxBehavior`).
    ///
    /// ```
    /// use kelviq_config::TaxBehavior;
    ///
    /// assert_eq!(TaxBehavior::from("EXCLUSIVE"), TaxBehavior::Exclusive);
    /// ```
    TaxBehavior {
        /// `INCLUSIVE`
        Inclusive = "INCLUSIVE",
        /// `EXCLUSIVE`
        Exclusive = "EXCLUSIVE",
        /// `UNSPECIFIED`
        Unspecified = "UNSPECIFIED",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listed_values_get_their_variant_and_others_pass_through() {
        assert_eq!(Reset::from("EVERY_28_DAYS"), Reset::Every28Days);
        let other = Reset::from("EVERY_FORTNIGHT");
        assert_eq!(other, Reset::Other("EVERY_FORTNIGHT".into()));
        assert!(!other.is_known());
        assert_eq!(
            serde_json::to_string(&other).unwrap(),
            "\"EVERY_FORTNIGHT\""
        );
        let back: Reset = serde_json::from_str("\"EVERY_FORTNIGHT\"").unwrap();
        assert_eq!(back, other);
        assert_eq!(TaxCode::KNOWN.len(), 10);
    }

    #[test]
    fn a_non_string_names_the_listed_values() {
        let error = serde_json::from_str::<PriceType>("3")
            .unwrap_err()
            .to_string();
        assert!(
            error.contains(r#"expected a string such as "FREE", "PAID" or "CUSTOM""#),
            "{error}"
        );
    }
}
