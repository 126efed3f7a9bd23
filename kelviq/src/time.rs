//! Dates and times as callers give them: `chrono` values, `SystemTime`, or text, through
//! one conversion trait, [`IntoTime`], on every operation that takes a date or a time.
//!
//! The value is kept as given and checked when the request is sent, like every other
//! input: a string that is not a date where a date is wanted is a
//! [`ValidationError`](crate::ValidationError) naming the field, never a malformed request.

use std::time::SystemTime;

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, Utc};

use crate::error::ValidationError;

/// The service's event timestamp format (`%Y-%m-%d %H:%M:%S.%f` in Python terms).
pub(crate) const TIMESTAMP_FORMAT: &str = "%Y-%m-%d %H:%M:%S%.6f";

/// A date or a time as a caller gave it, checked when the request is sent.
///
/// Made by [`IntoTime`]; you rarely name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeInput(Given);

#[derive(Debug, Clone, PartialEq, Eq)]
enum Given {
    Date(NaiveDate),
    Instant(DateTime<Utc>),
    Text(String),
}

/// What the date and time setters accept: `chrono` dates and date-times, `SystemTime`, or
/// text (`"2025-12-31"`, RFC 3339, or the service's own timestamp format). Each value is
/// checked when the request is sent, and a value that does not fit is a validation error
/// naming the field:
///
/// | given | where a date is wanted (`cancellation_date`) | where an instant is wanted (event `timestamp`, `trial_end`) |
/// |---|---|---|
/// | `chrono::NaiveDate` | taken | refused |
/// | `chrono::DateTime<Utc>`, `DateTime<FixedOffset>`, `SystemTime` | refused | taken |
/// | `"2025-12-31"` | taken | refused |
/// | `"2025-05-23T10:30:00Z"` (RFC 3339) | refused | taken |
/// | `"2025-05-23 10:30:00.123456"` (the service's format, UTC) | refused | taken |
///
/// ```
/// use kelviq::IntoTime;
///
/// let from_text = "2025-12-31".into_time();
/// let from_chrono = chrono::NaiveDate::from_ymd_opt(2025, 12, 31).unwrap().into_time();
/// assert_eq!(from_text.as_date("cancellation_date"), from_chrono.as_date("cancellation_date"));
/// assert!("31/12/2025".into_time().as_date("cancellation_date").is_err());
/// ```
pub trait IntoTime {
    /// The value, to be checked when the request is sent.
    fn into_time(self) -> TimeInput;
}

impl IntoTime for TimeInput {
    fn into_time(self) -> TimeInput {
        self
    }
}

impl IntoTime for NaiveDate {
    fn into_time(self) -> TimeInput {
        TimeInput(Given::Date(self))
    }
}

impl IntoTime for DateTime<Utc> {
    fn into_time(self) -> TimeInput {
        TimeInput(Given::Instant(self))
    }
}

impl IntoTime for DateTime<FixedOffset> {
    fn into_time(self) -> TimeInput {
        TimeInput(Given::Instant(self.with_timezone(&Utc)))
    }
}

impl IntoTime for SystemTime {
    fn into_time(self) -> TimeInput {
        TimeInput(Given::Instant(DateTime::<Utc>::from(self)))
    }
}

impl IntoTime for &str {
    fn into_time(self) -> TimeInput {
        TimeInput(Given::Text(self.to_owned()))
    }
}

impl IntoTime for String {
    fn into_time(self) -> TimeInput {
        TimeInput(Given::Text(self))
    }
}

impl TimeInput {
    /// The value as a calendar date, or an error naming `field`.
    pub fn as_date(&self, field: &'static str) -> Result<NaiveDate, ValidationError> {
        let refused = |value: String| {
            ValidationError::new(field, value, "a date (YYYY-MM-DD) such as 2025-12-31")
        };
        match &self.0 {
            Given::Date(date) => Ok(*date),
            Given::Instant(at) => Err(refused(at.to_rfc3339())),
            Given::Text(text) => {
                NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| refused(text.clone()))
            }
        }
    }

    /// The value as an instant, or an error naming `field`. Text is RFC 3339 (with an
    /// offset) or the service's timestamp format, read as UTC.
    pub fn as_instant(&self, field: &'static str) -> Result<DateTime<Utc>, ValidationError> {
        let refused = |value: String| {
            ValidationError::new(
                field,
                value,
                "a date-time: RFC 3339 such as 2025-05-23T10:30:00Z, or UTC as \
                 2025-05-23 10:30:00.123456",
            )
        };
        match &self.0 {
            Given::Instant(at) => Ok(*at),
            Given::Date(date) => Err(refused(date.to_string())),
            Given::Text(text) => DateTime::parse_from_rfc3339(text)
                .map(|at| at.with_timezone(&Utc))
                .or_else(|_| {
                    NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f")
                        .map(|naive| naive.and_utc())
                })
                .map_err(|_| refused(text.clone())),
        }
    }

    /// The text as given, when it was text.
    pub(crate) fn text(&self) -> Option<&str> {
        match &self.0 {
            Given::Text(text) => Some(text),
            _ => None,
        }
    }
}

/// An instant in the service's event timestamp format.
pub(crate) fn service_timestamp(at: DateTime<Utc>) -> String {
    at.format(TIMESTAMP_FORMAT).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_form_of_an_instant_lands_on_the_same_moment() {
        let at = DateTime::parse_from_rfc3339("2025-05-23T10:30:00.123456Z")
            .unwrap()
            .with_timezone(&Utc);
        let forms = [
            at.into_time(),
            "2025-05-23T10:30:00.123456Z".into_time(),
            "2025-05-23T12:30:00.123456+02:00".into_time(),
            "2025-05-23 10:30:00.123456".into_time(),
            SystemTime::from(at).into_time(),
        ];
        for form in forms {
            assert_eq!(form.as_instant("timestamp").unwrap(), at, "{form:?}");
        }
        assert_eq!(service_timestamp(at), "2025-05-23 10:30:00.123456");
    }

    #[test]
    fn a_date_is_not_an_instant_nor_the_other_way_round() {
        let error = "2025-05-23"
            .into_time()
            .as_instant("timestamp")
            .unwrap_err();
        assert_eq!(error.field(), "timestamp");
        let error = Utc::now()
            .into_time()
            .as_date("cancellation_date")
            .unwrap_err();
        assert_eq!(error.field(), "cancellation_date");
        assert!("2025-02-30".into_time().as_date("d").is_err());
    }
}
