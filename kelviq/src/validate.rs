//! Checks made before anything is sent, and the conversion of checked values into the
//! generated client's types. A request that fails here never reaches the network.

use std::num::NonZeroU64;

use chrono::NaiveDateTime;
use kelviq_gen::types as wire;

use crate::error::ValidationError;
use crate::types::FeatureQuantity;

/// The service's event timestamp format (`%Y-%m-%d %H:%M:%S.%f` in Python terms).
pub(crate) const TIMESTAMP_FORMAT: &str = "%Y-%m-%d %H:%M:%S%.6f";
const TIMESTAMP_EXAMPLE: &str = "2025-05-23 10:30:00.123456";

/// A non-empty identifier, returned as the generated type it must become.
pub(crate) fn identifier<T>(field: &'static str, value: &str) -> Result<T, ValidationError>
where
    T: std::str::FromStr,
{
    if value.is_empty() {
        return Err(ValidationError::new(field, value, "a non-empty identifier"));
    }
    value
        .parse()
        .map_err(|_| ValidationError::new(field, value, "a non-empty identifier"))
}

/// An identifier that travels as one path segment: also not `.` or `..`, which would
/// change the path (`..` climbs a level) however they are encoded.
pub(crate) fn path_identifier<T>(field: &'static str, value: &str) -> Result<T, ValidationError>
where
    T: std::str::FromStr,
{
    if value == "." || value == ".." {
        return Err(ValidationError::new(
            field,
            value,
            "an identifier other than \".\" and \"..\"",
        ));
    }
    identifier(field, value)
}

/// An e-mail address (RFC 5322 addr-spec, without display name).
pub(crate) fn email(field: &'static str, value: &str) -> Result<String, ValidationError> {
    if email_address::EmailAddress::parse_with_options(
        value,
        email_address::Options::default()
            .without_display_text()
            .with_required_tld(),
    )
    .is_ok()
    {
        Ok(value.to_owned())
    } else {
        Err(ValidationError::new(
            field,
            value,
            "an e-mail address such as name@example.com",
        ))
    }
}

/// An event timestamp in the service's format: UTC, microseconds, six digits.
pub(crate) fn timestamp(value: &str) -> Result<wire::ReportEventRequestTimestamp, ValidationError> {
    let expected = || {
        ValidationError::new(
            "timestamp",
            value,
            format!("a UTC time formatted %Y-%m-%d %H:%M:%S.%f, such as {TIMESTAMP_EXAMPLE}"),
        )
    };
    if value.len() != TIMESTAMP_EXAMPLE.len() {
        return Err(expected());
    }
    NaiveDateTime::parse_from_str(value, TIMESTAMP_FORMAT).map_err(|_| expected())?;
    value.parse().map_err(|_| expected())
}

/// Feature quantities: identifiers not empty, quantities at least 1.
pub(crate) fn features(
    features: &[FeatureQuantity],
) -> Result<Vec<wire::FeatureQuantity>, ValidationError> {
    features
        .iter()
        .map(|feature| {
            let identifier = identifier("features.identifier", feature.identifier())?;
            let quantity = u64::try_from(feature.quantity())
                .ok()
                .and_then(NonZeroU64::new)
                .ok_or_else(|| {
                    ValidationError::new(
                        "features.quantity",
                        format!(
                            "{} (feature {:?})",
                            feature.quantity(),
                            feature.identifier()
                        ),
                        "a quantity of at least 1",
                    )
                })?;
            Ok(wire::FeatureQuantity {
                identifier,
                quantity,
            })
        })
        .collect()
}

/// A UUID given as text, for the fields the API types as UUIDs.
pub(crate) fn uuid(field: &'static str, value: &str) -> Result<uuid::Uuid, ValidationError> {
    uuid::Uuid::parse_str(value).map_err(|_| {
        ValidationError::new(
            field,
            value,
            "a UUID such as 96d3a293-34ac-48a5-b73d-976b15781afd",
        )
    })
}

/// An IPv4 or IPv6 address, kept as given.
pub(crate) fn ip_address(field: &'static str, value: String) -> Result<String, ValidationError> {
    match value.parse::<std::net::IpAddr>() {
        Ok(_) => Ok(value),
        Err(_) => Err(ValidationError::new(
            field,
            value,
            "an IPv4 or IPv6 address such as 103.154.35.20",
        )),
    }
}
