//! The one error type of the crate.
//!
//! Every failure, from bad input caught before sending to a body the service sent that
//! cannot be decoded, is an [`Error`]: what kind of failure it was ([`ErrorKind`]), which
//! operation failed, whether the request reached the service ([`Reached`]), and what the
//! service said. Nothing of the generated client's or reqwest's error types appears in it,
//! and it never holds the API key.

use std::borrow::Cow;
use std::fmt;
use std::time::Duration;

use http::StatusCode;

/// A specialised `Result` whose error is [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What kind of failure an [`Error`] is.
///
/// | kind | when | [`Reached`] | retryable (see [`Error::is_retryable`]) |
/// |---|---|---|---|
/// | `Validation` | the input broke a rule of the API | `No` | no |
/// | `Config` | the client could not be built or used as asked | `No` | no |
/// | `BadRequest` | 400: the service refused the request | `Answered` | no |
/// | `Unauthorized` | 401 or 403: the API key is missing, wrong, or lacks the right | `Answered` | no |
/// | `NotFound` | 404: the customer, subscription, plan or feature does not exist | `Answered` | no |
/// | `RateLimited` | 429, with the `Retry-After` the service gave | `Answered` | yes |
/// | `Server` | 5xx | `Answered` | 502, 503, 504, unless the request may have been applied |
/// | `Api` | any other status that is not a success | `Answered` | no |
/// | `Timeout` | no answer within the attempt's time-out or the call's deadline | `Maybe` | unless it may have been applied |
/// | `Connection` | the connection could not be made, or broke | `No` or `Maybe` | unless it may have been applied |
/// | `Decode` | a success whose body is not what the API documents | `Answered` | no |
/// | `QueueFull` | the service is unreachable and the offline queue is full | `No` | yes |
/// | `Storage` | the service is unreachable and the durable queue could not write the report to its file | `No` | no |
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The input broke a rule of the API; nothing was sent.
    Validation,
    /// The client could not be built or used as asked; nothing was sent.
    Config,
    /// 400: the service refused the request.
    BadRequest,
    /// 401 or 403: the API key is missing, not valid, or may not do this.
    Unauthorized,
    /// 404: what the request names does not exist.
    NotFound,
    /// 429: rate limited.
    RateLimited,
    /// 5xx: the service failed.
    Server,
    /// Any other status that is not a success.
    Api,
    /// No answer arrived in time.
    Timeout,
    /// The connection could not be made, or broke before an answer arrived.
    Connection,
    /// A success status with a body that is not what the API documents.
    Decode,
    /// The service is unreachable and the offline report queue is full.
    QueueFull,
    /// The service is unreachable and the durable report queue could not keep the report
    /// (its file could not be written); the report was not queued.
    Storage,
}

/// How far a failed request got.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Reached {
    /// It never left this machine (bad input, no connection could be made, a full queue):
    /// the service saw nothing.
    No,
    /// It was sent but no answer came (a time-out, a connection that broke): the service
    /// may have received and applied it.
    Maybe,
    /// The service answered it (with an error status or an undecodable body).
    Answered,
}

/// Everything that can go wrong with a Kelviq call.
///
/// Its text names the operation (`reporting.report_usage: …`) and never holds the API key.
/// [`kind`](Error::kind) says what failed; [`reached`](Error::reached) how far the request
/// got; [`is_unconfirmed`](Error::is_unconfirmed) whether a request that must not be sent
/// twice may have been applied.
///
/// # What to do with an error
///
/// The client has already retried where that is safe (see [`RetryPolicy`](crate::RetryPolicy)).
/// [`is_retryable`](Error::is_retryable) tells whether *you* may send the same request again
/// later: it is `false` wherever sending again could apply it twice. For an unconfirmed
/// `DELTA` usage report, do not resend it: read the usage back (`get_entitlement`) or report
/// the absolute value with [`Behaviour::Set`](crate::Behaviour::Set); for an unconfirmed
/// subscription change or checkout, look at the subscription or wait for its webhook.
///
/// ```
/// use kelviq::{Error, ErrorKind, Reached, ValidationError};
///
/// let error = Error::from(ValidationError::new("customer_id", "", "a non-empty identifier"));
/// assert_eq!(error.kind(), ErrorKind::Validation);
/// assert_eq!(error.reached(), Reached::No);
/// assert_eq!(error.to_string(), r#"invalid customer_id "": expected a non-empty identifier"#);
/// assert!(!error.is_retryable());
/// ```
#[derive(Clone)]
pub struct Error(Box<Inner>);

#[derive(Debug, Clone)]
struct Inner {
    kind: ErrorKind,
    operation: Option<&'static str>,
    reached: Reached,
    /// Whether sending the request twice has the effect of sending it once.
    idempotent: bool,
    status: Option<StatusCode>,
    retry_after: Option<Duration>,
    body: Option<ErrorBody>,
    validation: Option<ValidationError>,
    /// What failed, for kinds without a status: the connection's cause, the decoding
    /// failure, the configuration problem.
    message: Option<String>,
    /// The time-out or deadline that ran out.
    after: Option<Duration>,
    request_id: Option<String>,
}

impl Error {
    fn new(kind: ErrorKind, reached: Reached) -> Self {
        Error(Box::new(Inner {
            kind,
            operation: None,
            reached,
            idempotent: true,
            status: None,
            retry_after: None,
            body: None,
            validation: None,
            message: None,
            after: None,
            request_id: None,
        }))
    }

    /// The client could not be built or used as asked.
    pub(crate) fn config(message: impl Into<String>) -> Self {
        let mut error = Self::new(ErrorKind::Config, Reached::No);
        error.0.message = Some(message.into());
        error
    }

    /// The service answered `status` with `body`.
    pub(crate) fn answered(status: StatusCode, retry_after: Option<Duration>, body: &[u8]) -> Self {
        let kind = match status.as_u16() {
            400 => ErrorKind::BadRequest,
            401 | 403 => ErrorKind::Unauthorized,
            404 => ErrorKind::NotFound,
            429 => ErrorKind::RateLimited,
            500..=599 => ErrorKind::Server,
            _ => ErrorKind::Api,
        };
        let mut error = Self::new(kind, Reached::Answered);
        error.0.status = Some(status);
        error.0.retry_after = retry_after;
        error.0.body = Some(ErrorBody::from_bytes(body));
        error
    }

    /// No answer within `after`.
    pub(crate) fn timeout(after: Duration) -> Self {
        let mut error = Self::new(ErrorKind::Timeout, Reached::Maybe);
        error.0.after = Some(after);
        error
    }

    /// The connection failed: before anything was sent (`Reached::No`) or after.
    pub(crate) fn connection(reached: Reached, message: impl Into<String>) -> Self {
        let mut error = Self::new(ErrorKind::Connection, reached);
        error.0.message = Some(message.into());
        error
    }

    /// A success whose body could not be decoded.
    pub(crate) fn decode(status: StatusCode, reason: impl fmt::Display, body: &[u8]) -> Self {
        let mut error = Self::new(ErrorKind::Decode, Reached::Answered);
        error.0.status = Some(status);
        error.0.message = Some(format!("{reason}; body starts {:?}", excerpt(body)));
        error
    }

    /// A success answer whose JSON the SDK could not read. serde's message says where
    /// (`line 1 column 582`) but not which field: the text around that place names the
    /// field and the value, also where the body's start leaves them out.
    pub(crate) fn undecodable(status: StatusCode, reason: &serde_json::Error, body: &[u8]) -> Self {
        let mut error = Self::decode(status, reason, body);
        if let Some(near) = excerpt_near(body, reason.line(), reason.column()) {
            if let Some(message) = &mut error.0.message {
                message.push_str(&format!("; where it failed: {near:?}"));
            }
        }
        error
    }

    /// The queue could not take a report.
    pub(crate) fn queue_full(capacity: usize) -> Self {
        let mut error = Self::new(ErrorKind::QueueFull, Reached::No);
        error.0.message = Some(format!(
            "the Kelviq service is unreachable and the offline report queue is full \
             ({capacity} reports): this report was not queued"
        ));
        error
    }

    /// The durable queue could not keep a report, or could not be opened.
    #[cfg_attr(not(feature = "durable-queue"), allow(dead_code))]
    pub(crate) fn storage(message: impl Into<String>) -> Self {
        let mut error = Self::new(ErrorKind::Storage, Reached::No);
        error.0.message = Some(message.into());
        error
    }

    /// Names the operation, unless the error already names one.
    pub(crate) fn in_operation(mut self, operation: &'static str) -> Self {
        self.0.operation.get_or_insert(operation);
        self
    }

    /// Marks the request as one that counts again when sent again.
    pub(crate) fn not_idempotent(mut self) -> Self {
        self.0.idempotent = false;
        self
    }

    pub(crate) fn with_request_id(mut self, request_id: Option<String>) -> Self {
        self.0.request_id = request_id;
        self
    }

    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        self.0.kind
    }

    /// The operation that failed, as `group.method` (`reporting.report_usage`), when the
    /// error came from one.
    pub fn operation(&self) -> Option<&'static str> {
        self.0.operation
    }

    /// How far the request got.
    pub fn reached(&self) -> Reached {
        self.0.reached
    }

    /// The HTTP status of the service's answer, when there was one.
    pub fn status(&self) -> Option<StatusCode> {
        self.0.status
    }

    /// How long the service asked to wait (429, and 503 when it says).
    pub fn retry_after(&self) -> Option<Duration> {
        self.0.retry_after
    }

    /// The body the service answered with, for errors that carry one.
    pub fn body(&self) -> Option<&ErrorBody> {
        self.0.body.as_ref()
    }

    /// The rule the input broke, for [`ErrorKind::Validation`].
    pub fn validation(&self) -> Option<&ValidationError> {
        self.0.validation.as_ref()
    }

    /// The service's request id (`x-request-id`) of the answer, for support tickets.
    pub fn request_id(&self) -> Option<&str> {
        self.0.request_id.as_deref()
    }

    /// The time-out or deadline that ran out, for [`ErrorKind::Timeout`].
    pub fn timed_out_after(&self) -> Option<Duration> {
        self.0.after
    }

    /// Whether a request that counts again when repeated (a `DELTA` usage report, a
    /// customer creation, a checkout session, a subscription change) may have been applied
    /// although it failed: it was sent and then timed out, lost its connection, or was
    /// answered with a 5xx. The client did not resend it and neither should you; see the
    /// [type docs](Error#what-to-do-with-an-error).
    pub fn is_unconfirmed(&self) -> bool {
        !self.0.idempotent && self.may_have_been_applied()
    }

    /// Whether the failure leaves open that the service applied the request.
    fn may_have_been_applied(&self) -> bool {
        match self.0.reached {
            Reached::No => false,
            Reached::Maybe => true,
            // A 5xx may come after the service committed; a 429 comes before anything.
            Reached::Answered => self.0.kind == ErrorKind::Server,
        }
    }

    /// Whether sending the same request again later may succeed and cannot apply it twice:
    /// time-outs, connection failures, 429, 502, 503 and 504, and a full queue, except where
    /// the request counts again when repeated and may already have been applied
    /// ([`is_unconfirmed`](Error::is_unconfirmed)).
    pub fn is_retryable(&self) -> bool {
        let transient = match self.0.kind {
            ErrorKind::Timeout
            | ErrorKind::Connection
            | ErrorKind::RateLimited
            | ErrorKind::QueueFull => true,
            ErrorKind::Server => self.0.status.is_some_and(retryable_status),
            _ => false,
        };
        transient && !self.is_unconfirmed()
    }

    /// Whether a stale cache entry or a fallback may stand in for this failure: the service
    /// is unreachable or failing. Never a 400, 401, 403 or 404: those say the question
    /// itself is wrong.
    pub(crate) fn is_outage(&self) -> bool {
        matches!(
            self.0.kind,
            ErrorKind::Connection | ErrorKind::Timeout | ErrorKind::Server | ErrorKind::RateLimited
        )
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = &self.0;
        let mut debug = f.debug_struct("Error");
        debug.field("kind", &inner.kind);
        if let Some(operation) = inner.operation {
            debug.field("operation", &operation);
        }
        debug.field("reached", &inner.reached);
        if let Some(status) = inner.status {
            debug.field("status", &status);
        }
        if let Some(validation) = &inner.validation {
            debug.field("validation", validation);
        }
        if let Some(message) = &inner.message {
            debug.field("message", message);
        }
        if let Some(body) = &inner.body {
            debug.field("body", body);
        }
        if self.is_unconfirmed() {
            debug.field("unconfirmed", &true);
        }
        debug.finish()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = &self.0;
        if let Some(operation) = inner.operation {
            write!(f, "{operation}: ")?;
        }
        let body = inner.body.as_ref().unwrap_or(&ErrorBody::Empty);
        let status = inner.status.map(|s| s.to_string()).unwrap_or_default();
        let message = inner.message.as_deref().unwrap_or_default();
        match inner.kind {
            ErrorKind::Validation => match &inner.validation {
                Some(validation) => write!(f, "{validation}")?,
                None => f.write_str("invalid input")?,
            },
            ErrorKind::Config => write!(f, "configuration error: {message}")?,
            ErrorKind::BadRequest => write!(f, "bad request ({status}): {body}")?,
            ErrorKind::Unauthorized => write!(f, "not authorised ({status}): {body}")?,
            ErrorKind::NotFound => write!(f, "not found ({status}): {body}")?,
            ErrorKind::RateLimited => {
                write!(f, "rate limited ({status})")?;
                if let Some(wait) = inner.retry_after {
                    write!(f, ", retry after {}s", wait.as_secs_f64())?;
                }
                write!(f, ": {body}")?;
            }
            ErrorKind::Server => write!(f, "server error ({status}): {body}")?,
            ErrorKind::Api => write!(f, "unexpected status {status}: {body}")?,
            ErrorKind::Timeout => {
                write!(f, "no answer within {:?}", inner.after.unwrap_or_default())?
            }
            ErrorKind::Connection => match inner.reached {
                Reached::No => write!(
                    f,
                    "connection failed before the request was sent: {message}"
                )?,
                _ => write!(f, "connection failed after the request was sent: {message}")?,
            },
            ErrorKind::Decode => write!(f, "undecodable response ({status}): {message}")?,
            ErrorKind::QueueFull => f.write_str(message)?,
            ErrorKind::Storage => write!(f, "durable report queue: {message}")?,
        }
        if self.is_unconfirmed() {
            f.write_str(
                "; the service may have applied it, so it was not sent again (unconfirmed)",
            )?;
        } else if inner.reached == Reached::Maybe {
            f.write_str("; the service may have received the request")?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0
            .validation
            .as_ref()
            .map(|v| v as &(dyn std::error::Error + 'static))
    }
}

impl From<ValidationError> for Error {
    fn from(validation: ValidationError) -> Self {
        let mut error = Self::new(ErrorKind::Validation, Reached::No);
        error.0.validation = Some(validation);
        error
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
    /// The body was JSON (the API's error schema, `{"detail": …, "errors": {…}}`, or
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

/// The text just before (and a little after) 1-based `line` and `column` of `body`, when that
/// place lies past what [`excerpt`] shows; serde counts the column in bytes.
fn excerpt_near(body: &[u8], line: usize, column: usize) -> Option<String> {
    const BEFORE: usize = 80;
    const AFTER: usize = 20;
    let line_start = match line {
        0 | 1 => 0,
        n => {
            body.iter()
                .enumerate()
                .filter(|(_, b)| **b == b'\n')
                .nth(n - 2)?
                .0
                + 1
        }
    };
    let at = (line_start + column.saturating_sub(1)).min(body.len());
    let shown = String::from_utf8_lossy(body)
        .char_indices()
        .nth(EXCERPT_CHARS)
        .map_or(body.len(), |(cut, _)| cut);
    if at <= shown {
        return None;
    }
    let text =
        String::from_utf8_lossy(&body[at.saturating_sub(BEFORE)..(at + AFTER).min(body.len())]);
    Some(format!(
        "…{}…",
        text.trim_start_matches('\u{fffd}')
            .trim_end_matches('\u{fffd}')
    ))
}

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
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidationError {
    field: &'static str,
    value: String,
    expected: Cow<'static, str>,
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid {} {:?}: expected {}",
            self.field, self.value, self.expected
        )
    }
}

impl std::error::Error for ValidationError {}

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

#[cfg(test)]
mod tests {
    use super::*;

    /// The failing field lies past the body's first 200 characters, on the second line: the
    /// message still names it and its value.
    #[test]
    fn an_undecodable_answer_names_the_text_where_it_failed() {
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct Answer {
            padding: String,
            when: chrono::DateTime<chrono::Utc>,
        }
        let body = format!(
            "{{\"padding\": \"{}\",\n \"when\": \"2026-01-22 03:26:56.123456\"}}",
            "é".repeat(150)
        );
        let failure = serde_json::from_str::<Answer>(&body).unwrap_err();
        let message = Error::undecodable(StatusCode::OK, &failure, body.as_bytes()).to_string();
        assert!(
            message.contains(r#"\"when\": \"2026-01-22 03:26:56.123456\""#),
            "{message}"
        );
        // Near the start, the body's excerpt already shows it: said once.
        let short = r#"{"padding": "x", "when": "2026-01-22 03:26:56"}"#;
        let failure = serde_json::from_str::<Answer>(short).unwrap_err();
        let message = Error::undecodable(StatusCode::OK, &failure, short.as_bytes()).to_string();
        assert!(!message.contains("where it failed"), "{message}");
        assert!(message.contains("2026-01-22 03:26:56"), "{message}");
    }

    #[test]
    fn statuses_map_to_their_kinds() {
        let body = br#"{"detail":"nope"}"#;
        let kind =
            |status: u16| Error::answered(StatusCode::from_u16(status).unwrap(), None, body).kind();
        assert_eq!(kind(400), ErrorKind::BadRequest);
        assert_eq!(kind(401), ErrorKind::Unauthorized);
        assert_eq!(kind(403), ErrorKind::Unauthorized);
        assert_eq!(kind(404), ErrorKind::NotFound);
        assert_eq!(kind(429), ErrorKind::RateLimited);
        assert_eq!(kind(503), ErrorKind::Server);
        assert_eq!(kind(418), ErrorKind::Api);
    }

    #[test]
    fn a_request_that_counts_twice_is_never_retryable_once_it_may_have_been_applied() {
        let server = Error::answered(StatusCode::SERVICE_UNAVAILABLE, None, b"");
        assert!(server.is_retryable() && !server.is_unconfirmed());
        let unsafe_server = server.clone().not_idempotent();
        assert!(!unsafe_server.is_retryable() && unsafe_server.is_unconfirmed());

        let limited = Error::answered(StatusCode::TOO_MANY_REQUESTS, None, b"").not_idempotent();
        assert!(
            limited.is_retryable(),
            "a 429 comes before anything is applied"
        );

        let refused = Error::connection(Reached::No, "refused").not_idempotent();
        assert!(refused.is_retryable() && !refused.is_unconfirmed());

        let dropped = Error::connection(Reached::Maybe, "reset").not_idempotent();
        assert!(!dropped.is_retryable() && dropped.is_unconfirmed());
        let timeout = Error::timeout(Duration::from_secs(1)).not_idempotent();
        assert!(!timeout.is_retryable() && timeout.is_unconfirmed());
    }

    #[test]
    fn the_text_names_the_operation_and_says_what_is_unknown() {
        let error = Error::answered(StatusCode::BAD_GATEWAY, None, br#"{"detail":"x"}"#)
            .not_idempotent()
            .in_operation("reporting.report_usage");
        let text = error.to_string();
        assert!(
            text.starts_with("reporting.report_usage: server error (502"),
            "{text}"
        );
        assert!(text.contains("unconfirmed"), "{text}");
        let first = Error::timeout(Duration::from_secs(1))
            .in_operation("a.b")
            .in_operation("c.d");
        assert_eq!(first.operation(), Some("a.b"), "the innermost name stays");
    }
}
