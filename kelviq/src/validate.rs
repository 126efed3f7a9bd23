//! Checks made before anything is sent, and the conversion of checked values into the
//! generated client's types. A request that fails here never reaches the network.

use std::fmt::Write;
use std::num::NonZeroU64;

use kelviq_gen::types as wire;

use crate::error::ValidationError;
use crate::time::TimeInput;
use crate::types::FeatureQuantity;

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

/// An ISO 4217 currency code: three ASCII letters (the document's `^[A-Za-z]{3}$`).
pub(crate) fn currency_code(field: &'static str, value: &str) -> Result<String, ValidationError> {
    if value.len() == 3 && value.bytes().all(|b| b.is_ascii_alphabetic()) {
        Ok(value.to_owned())
    } else {
        Err(ValidationError::new(
            field,
            value,
            "an ISO 4217 currency code of three letters such as USD",
        ))
    }
}

/// An ISO 3166-1 alpha-2 country code: two upper-case ASCII letters (`^[A-Z]{2}$`).
pub(crate) fn country_code(field: &'static str, value: &str) -> Result<String, ValidationError> {
    if value.len() == 2 && value.bytes().all(|b| b.is_ascii_uppercase()) {
        Ok(value.to_owned())
    } else {
        Err(ValidationError::new(
            field,
            value,
            "an ISO 3166-1 alpha-2 country code such as IN",
        ))
    }
}

/// An identifier sent in a body that later names a path segment (a new customer's id): not
/// empty, and not `.` or `..`, which no path can carry.
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

/// An identifier that travels as one path segment, percent-encoded here: every byte outside
/// RFC 3986's unreserved set (`A-Z a-z 0-9 - . _ ~`) becomes `%XX`.
///
/// The generated code's own encoding leaves `\` alone, and URL parsers read `\` as `/` and
/// then resolve `..`, so `nobody\..\<id>` would reach another resource; encoding here leaves
/// the generated code nothing but unreserved bytes and `%`, which it escapes once more as
/// `%25` and the transport turns back (see `transport::restore_path_segments`). `.` and
/// `..` are refused: however encoded, URL parsers resolve them.
pub(crate) fn path_segment<T>(field: &'static str, value: &str) -> Result<T, ValidationError>
where
    T: std::str::FromStr,
{
    path_identifier::<String>(field, value)?;
    let mut encoded = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            encoded.push(char::from(byte));
        } else {
            let _ = write!(encoded, "%{byte:02X}");
        }
    }
    encoded
        .parse()
        .map_err(|_| ValidationError::new(field, value, "a non-empty identifier"))
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

/// An absolute http(s) URL: a customer's browser is sent there.
pub(crate) fn http_url<T>(field: &'static str, url: &str) -> Result<T, ValidationError>
where
    T: std::str::FromStr,
{
    let expected = || ValidationError::new(field, url, "an absolute http or https URL");
    match reqwest::Url::parse(url) {
        Ok(parsed) if matches!(parsed.scheme(), "http" | "https") => {
            url.parse().map_err(|_| expected())
        }
        _ => Err(expected()),
    }
}

/// `now`, or an instant in the future, as RFC 3339.
pub(crate) fn trial_end(value: &TimeInput) -> Result<String, ValidationError> {
    if value.text() == Some("now") {
        return Ok("now".to_owned());
    }
    let at = value.as_instant("trial_end")?;
    if at > chrono::Utc::now() {
        Ok(at.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true))
    } else {
        Err(ValidationError::new(
            "trial_end",
            value.text().map_or_else(|| at.to_rfc3339(), str::to_owned),
            "\"now\" or a future date-time such as 2030-01-31T00:00:00Z",
        ))
    }
}

/// A page number (from 1) and a page size (1 to 100), as the generated client takes them.
pub(crate) fn paging(
    page: Option<u64>,
    page_size: Option<u64>,
) -> Result<(Option<std::num::NonZeroU64>, Option<std::num::NonZeroU64>), ValidationError> {
    let page = page
        .map(|p| {
            std::num::NonZeroU64::new(p)
                .ok_or_else(|| ValidationError::new("page", p.to_string(), "a page number from 1"))
        })
        .transpose()?;
    let page_size = page_size
        .map(|size| {
            std::num::NonZeroU64::new(size)
                .filter(|s| s.get() <= 100)
                .ok_or_else(|| ValidationError::new("page_size", size.to_string(), "1 to 100"))
        })
        .transpose()?;
    Ok((page, page_size))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segment(value: &str) -> Result<String, ValidationError> {
        path_segment("customer_id", value)
    }

    #[test]
    fn a_path_segment_keeps_only_unreserved_bytes() {
        assert_eq!(segment("cust_1-a.b~c").unwrap(), "cust_1-a.b~c");
        assert_eq!(segment("\\").unwrap(), "%5C");
        assert_eq!(segment("nobody\\..\\x").unwrap(), "nobody%5C..%5Cx");
        assert_eq!(segment("a|b^c[d]{e}").unwrap(), "a%7Cb%5Ec%5Bd%5D%7Be%7D");
        assert_eq!(segment("a/b?c#d%e f").unwrap(), "a%2Fb%3Fc%23d%25e%20f");
        assert_eq!(segment("é").unwrap(), "%C3%A9");
        for refused in ["", ".", ".."] {
            assert_eq!(segment(refused).unwrap_err().field(), "customer_id");
        }
    }
}
