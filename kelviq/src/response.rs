//! The raw side of an answer: status, headers and the service's request id, for logs and
//! support tickets, kept beside the typed value when a caller asks for it.

use http::{HeaderMap, StatusCode};

/// The header the service's request id travels in.
/// A `HeaderName`, not a `&str`: a lookup by `&str` parses the name again on every answer.
pub(crate) static REQUEST_ID: http::header::HeaderName =
    http::header::HeaderName::from_static("x-request-id");

/// The HTTP answer a typed value was decoded from.
#[derive(Debug, Clone)]
pub struct RawResponse {
    status: StatusCode,
    headers: HeaderMap,
}

impl RawResponse {
    pub(crate) fn new(status: StatusCode, headers: HeaderMap) -> Self {
        Self { status, headers }
    }

    /// The status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The service's id of the request (`x-request-id`), to quote in a support ticket.
    pub fn request_id(&self) -> Option<&str> {
        request_id(&self.headers)
    }
}

pub(crate) fn request_id(headers: &HeaderMap) -> Option<&str> {
    headers.get(&REQUEST_ID).and_then(|v| v.to_str().ok())
}

/// A typed answer and, when one was exchanged, the HTTP answer it came from; made by every
/// request builder's `send_with_response()`.
///
/// `raw` is `None` when no request was needed (a fresh cache entry answered) or none could
/// be made (a report waits in the offline queue).
///
/// ```no_run
/// # async fn run(client: kelviq::Client) -> kelviq::Result<()> {
/// let answer = client.customers().create("cust_42").send_with_response().await?;
/// if let Some(raw) = answer.raw() {
///     println!("{} (request {:?})", raw.status(), raw.request_id());
/// }
/// let customer = answer.into_value();
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Response<T> {
    value: T,
    raw: Option<RawResponse>,
}

impl<T> Response<T> {
    pub(crate) fn new(value: T, raw: Option<RawResponse>) -> Self {
        Self { value, raw }
    }

    /// The typed answer.
    pub fn value(&self) -> &T {
        &self.value
    }

    /// The typed answer, owned.
    pub fn into_value(self) -> T {
        self.value
    }

    /// The HTTP answer, when a request was exchanged.
    pub fn raw(&self) -> Option<&RawResponse> {
        self.raw.as_ref()
    }

    /// Both parts.
    pub fn into_parts(self) -> (T, Option<RawResponse>) {
        (self.value, self.raw)
    }
}
