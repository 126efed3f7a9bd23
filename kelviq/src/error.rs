//! The one error type of the crate.
//!
//! Every failure, from bad input caught before sending to a body the service sent that
//! cannot be decoded, is a [`Error`]. Nothing of the generated client's or reqwest's error
//! types appears in it, and it never holds the API key.

use std::borrow::Cow;
use std::fmt;
use std::time::Duration;

use reqwest::StatusCode;

/// A specialised `Result` whose error is [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong with a Kelviq call.
///
/// | variant | when | request sent? | [`is_retryable`](Error::is_retryable) |
/// |---|---|---|---|
/// | [`Validation`](Error::Validation) | the input broke a rule of the API | no | no |
/// | [`Config`](Error::Config) | the client could not be built or used as asked | no | no |
/// | [`BadRequest`](Error::BadRequest) | 400: the service refused the request | yes | no |
/// | [`Unauthorized`](Error::Unauthorized) | 401 or 403: the API key is missing, wrong, or lacks the right | yes | no |
/// | [`NotFound`](Error::NotFound) | 404: the customer, subscription, plan or feature does not exist | yes | no |
/// | [`RateLimited`](Error::RateLimited) | 429, with the `Retry-After` the service gave | yes | yes |
/// | [`Server`](Error::Server) | 5xx | yes | for 502, 503 and 504 |
/// | [`Api`](Error::Api) | any other status that is not a success | yes | no |
/// | [`Timeout`](Error::Timeout) | no answer within the time-out | maybe | yes |
/// | [`Connection`](Error::Connection) | the connection failed or broke | maybe | yes |
/// | [`Decode`](Error::Decode) | a success whose body is not what the API documents | yes | no |
/// | [`QueueFull`](Error::QueueFull) | the service is unreachable and the offline queue is full | no | yes |
///
/// The retryable errors are retried by the client itself where that is safe (see the retry
/// table in the crate docs); `is_retryable` tells what a caller may do after that.
///
/// ```
/// use kelviq::{Error, ValidationError};
///
/// let error = Error::from(ValidationError::new("customer_id", "", "a non-empty identifier"));
/// assert_eq!(error.to_string(), r#"invalid customer_id "": expected a non-empty identifier"#);
/// assert_eq!(error.status(), None);
/// assert!(!error.is_retryable());
/// ```
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The input broke a rule of the API; nothing was sent.
    #[error(transparent)]
    Validation(#[from] ValidationError),

    /// The client could not be built or used as asked; nothing was sent.
    #[error("configuration error: {0}")]
    Config(String),

    /// 400: the service refused the request. `body` is what it said, as it came.
    #[error("bad request (400): {body}")]
    BadRequest {
        /// The service's answer.
        body: ErrorBody,
    },

    /// 401 or 403: the API key is missing, not valid, or may not do this.
    #[error("not authorised ({status}): {body}")]
    Unauthorized {
        /// 401 or 403.
        status: StatusCode,
        /// The service's answer.
        body: ErrorBody,
    },

    /// 404: what the request names does not exist.
    #[error("not found (404): {body}")]
    NotFound {
        /// The service's answer.
        body: ErrorBody,
    },

    /// 429: rate limited.
    #[error("rate limited (429){}: {body}", retry_after_text(.retry_after))]
    RateLimited {
        /// How long the service asked to wait, when it said.
        retry_after: Option<Duration>,
        /// The service's answer.
        body: ErrorBody,
    },

    /// 5xx: the service failed.
    #[error("server error ({status}): {body}")]
    Server {
        /// The status, 500 to 599.
        status: StatusCode,
        /// How long the service asked to wait, when it said (503 may carry it).
        retry_after: Option<Duration>,
        /// The service's answer.
        body: ErrorBody,
    },

    /// Any other status that is not a success.
    #[error("unexpected status {status}: {body}")]
    Api {
        /// The status.
        status: StatusCode,
        /// The service's answer.
        body: ErrorBody,
    },

    /// No answer arrived within the time-out. The service may have received the request.
    #[error("{operation}: no answer within {after:?}")]
    Timeout {
        /// The operation that timed out.
        operation: &'static str,
        /// The time-out of one attempt.
        after: Duration,
    },

    /// The connection failed or broke before an answer arrived.
    #[error("{operation}: connection failed{}: {message}", if *.may_have_reached_server { " (the service may have received the request)" } else { " before the request was sent" })]
    Connection {
        /// The operation.
        operation: &'static str,
        /// What failed.
        message: String,
        /// False when the request provably never reached the service (connection refused,
        /// name not resolved, TLS failed), true when it may have.
        may_have_reached_server: bool,
    },

    /// The service could not be reached and the offline report queue is full: this report
    /// was neither sent nor queued.
    #[error("the Kelviq service is unreachable and the offline report queue is full ({capacity} reports): this report was not queued")]
    QueueFull {
        /// The queue's capacity.
        capacity: usize,
    },

    /// A success status with a body that is not what the API documents.
    #[error("undecodable response ({status}): {reason}; body starts {excerpt:?}")]
    Decode {
        /// The status of the answer.
        status: StatusCode,
        /// Why it could not be decoded.
        reason: String,
        /// The first bytes of the body, lossily decoded.
        excerpt: String,
    },
}

fn retry_after_text(retry_after: &Option<Duration>) -> String {
    match retry_after {
        Some(d) => format!(", retry after {}s", d.as_secs_f64()),
        None => String::new(),
    }
}

impl Error {
    /// The HTTP status of the service's answer, when there was one.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Error::BadRequest { .. } => Some(StatusCode::BAD_REQUEST),
            Error::NotFound { .. } => Some(StatusCode::NOT_FOUND),
            Error::RateLimited { .. } => Some(StatusCode::TOO_MANY_REQUESTS),
            Error::Unauthorized { status, .. }
            | Error::Server { status, .. }
            | Error::Api { status, .. }
            | Error::Decode { status, .. } => Some(*status),
            Error::Validation(_)
            | Error::Config(_)
            | Error::Timeout { .. }
            | Error::Connection { .. }
            | Error::QueueFull { .. } => None,
        }
    }

    /// Whether the same request may succeed if sent again later: time-outs, connection
    /// failures, 429, 502, 503 and 504.
    ///
    /// The client has already retried where repeating the request cannot change the outcome;
    /// a caller retrying a non-idempotent call (a `DELTA` usage report, a customer creation, a
    /// checkout session) after a time-out or connection failure risks doing it twice.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Timeout { .. }
            | Error::Connection { .. }
            | Error::RateLimited { .. }
            | Error::QueueFull { .. } => true,
            Error::Server { status, .. } => retryable_status(*status),
            _ => false,
        }
    }

    /// The body the service answered with, for errors that carry one.
    pub fn body(&self) -> Option<&ErrorBody> {
        match self {
            Error::BadRequest { body }
            | Error::Unauthorized { body, .. }
            | Error::NotFound { body }
            | Error::RateLimited { body, .. }
            | Error::Server { body, .. }
            | Error::Api { body, .. } => Some(body),
            _ => None,
        }
    }
}

/// The statuses that say "try again later": 429, 502, 503, 504.
pub(crate) fn retryable_status(status: StatusCode) -> bool {
    matches!(status.as_u16(), 429 | 502 | 503 | 504)
}

/// What the service sent with an error status, kept as it came: JSON when it parses,
/// otherwise text.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ErrorBody {
    /// The body was JSON (the API's `Error` schema, `{"detail": …, "errors": {…}}`, or
    /// anything else the service sent).
    Json(serde_json::Value),
    /// The body was not JSON; its text, lossily decoded from UTF-8.
    Text(String),
    /// There was no body.
    Empty,
}

impl ErrorBody {
    pub(crate) fn from_bytes(bytes: &[u8]) -> Self {
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return ErrorBody::Empty;
        }
        match serde_json::from_slice(bytes) {
            Ok(value) => ErrorBody::Json(value),
            Err(_) => ErrorBody::Text(String::from_utf8_lossy(bytes).into_owned()),
        }
    }

    /// The service's `detail` message, when the body is JSON and has one.
    pub fn detail(&self) -> Option<&str> {
        match self {
            ErrorBody::Json(value) => value.get("detail").and_then(|d| d.as_str()),
            _ => None,
        }
    }
}

/// At most this many characters of a body go into an error message.
const EXCERPT_CHARS: usize = 200;

pub(crate) fn excerpt(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    match text.char_indices().nth(EXCERPT_CHARS) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.into_owned(),
    }
}

impl fmt::Display for ErrorBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ErrorBody::Json(value) => {
                let text = value.to_string();
                f.write_str(&excerpt(text.as_bytes()))
            }
            ErrorBody::Text(text) => f.write_str(&excerpt(text.as_bytes())),
            ErrorBody::Empty => f.write_str("(empty body)"),
        }
    }
}

/// Input that breaks a rule of the API, caught before anything is sent.
///
/// It names the field, the value given and what was expected.
///
/// ```
/// let error = kelviq::ValidationError::new("email", "not-an-email", "an e-mail address");
/// assert_eq!(error.field(), "email");
/// assert_eq!(error.to_string(), r#"invalid email "not-an-email": expected an e-mail address"#);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {field} {value:?}: expected {expected}")]
pub struct ValidationError {
    field: &'static str,
    value: String,
    expected: Cow<'static, str>,
}

impl ValidationError {
    /// A validation error for `field`, which held `value` where `expected` was wanted.
    pub fn new(
        field: &'static str,
        value: impl Into<String>,
        expected: impl Into<Cow<'static, str>>,
    ) -> Self {
        Self {
            field,
            value: value.into(),
            expected: expected.into(),
        }
    }

    /// The field at fault, as the API names it.
    pub fn field(&self) -> &'static str {
        self.field
    }

    /// The value that was given.
    pub fn value(&self) -> &str {
        &self.value
    }

    /// What was expected instead.
    pub fn expected(&self) -> &str {
        &self.expected
    }
}
