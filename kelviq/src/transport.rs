//! The path every request takes between the generated client and the network.
//!
//! The generated client builds the request (path, query, body) and decodes the answer; this
//! module adds what it cannot: the API key and user agent on every request, the per-attempt
//! time-out, retries where they are safe, a tracing span, and the facts about the final
//! answer (status, `Retry-After`, the raw error body) that [`crate::Error`] needs and the
//! generated error types lose.
//!
//! Those facts travel through a task-local [`CallState`]: each operation runs its generated
//! call inside [`run`], and the transport, called by the generated code within that call,
//! reads the retry rule from it and writes the outcome into it.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use kelviq_gen::{BoxFuture, ResponseValue};
use reqwest::header::{HeaderMap, HeaderValue, AUTHORIZATION, RETRY_AFTER, USER_AGENT};
use reqwest::StatusCode;
use tracing::Instrument;

use crate::config::{ApiKey, RetryPolicy};
use crate::error::{excerpt, retryable_status, Error, ErrorBody, ValidationError};

/// Whether repeating a request can change its outcome (see the table on [`RetryPolicy`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Idempotency {
    /// Repeating cannot change the outcome: retried after 429/502/503/504, time-outs and
    /// broken connections.
    Safe,
    /// Repeating may count twice: retried only when the request never left the machine.
    Unsafe,
}

/// What one operation call and the transport tell each other.
#[derive(Debug)]
struct CallState {
    idempotency: Idempotency,
    outcome: Mutex<Outcome>,
}

/// The facts about the last answer of a call.
#[derive(Debug, Default)]
struct Outcome {
    status: Option<StatusCode>,
    retry_after: Option<Duration>,
    error_body: Option<Bytes>,
}

tokio::task_local! {
    static CALL: Arc<CallState>;
}

/// Runs one generated call under the given retry rule and turns its result into the
/// crate's own.
///
/// A plain `Future` type rather than an `async fn`: an `async fn` taking the generated
/// future by value keeps both the argument and the awaited copy, and every layer above
/// carries that doubled size (measured: 6.9 KB per report instead of about 2.5 KB), which
/// costs a copy on every move.
pub(crate) fn run<T, E, F>(
    operation: &'static str,
    timeout: Duration,
    idempotency: Idempotency,
    call: F,
) -> Call<F>
where
    F: Future<Output = Result<ResponseValue<T>, kelviq_gen::Error<E>>>,
{
    let state = Arc::new(CallState {
        idempotency,
        outcome: Mutex::default(),
    });
    Call {
        inner: CALL.scope(state.clone(), call),
        state,
        operation,
        timeout,
    }
}

pin_project_lite::pin_project! {
    /// A generated call running under its [`CallState`]; see [`run`].
    pub(crate) struct Call<F: Future> {
        #[pin]
        inner: tokio::task::futures::TaskLocalFuture<Arc<CallState>, F>,
        state: Arc<CallState>,
        operation: &'static str,
        timeout: Duration,
    }
}

impl<T, E, F> Future for Call<F>
where
    F: Future<Output = Result<ResponseValue<T>, kelviq_gen::Error<E>>>,
{
    type Output = Result<T, Error>;

    fn poll(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Self::Output> {
        let this = self.project();
        this.inner.poll(cx).map(|result| match result {
            Ok(value) => Ok(value.into_inner()),
            Err(error) => {
                let outcome = std::mem::take(
                    &mut *this.state.outcome.lock().unwrap_or_else(|e| e.into_inner()),
                );
                Err(map_error(this.operation, *this.timeout, error, outcome))
            }
        })
    }
}

fn map_error<E>(
    operation: &'static str,
    timeout: Duration,
    error: kelviq_gen::Error<E>,
    outcome: Outcome,
) -> Error {
    use kelviq_gen::Error as Gen;
    match error {
        // The generated types refuse a value our own checks let through: still a
        // validation error, and still nothing was sent.
        Gen::InvalidRequest(message) => Error::Validation(ValidationError::new(
            "request",
            message,
            "a value the API accepts",
        )),
        Gen::CommunicationError(e) | Gen::ResponseBodyError(e) | Gen::InvalidUpgrade(e) => {
            reqwest_error(operation, timeout, &e)
        }
        Gen::Custom(message) => Error::Connection {
            operation,
            message,
            may_have_reached_server: true,
        },
        Gen::InvalidResponsePayload(bytes, e) => {
            let status = outcome.status.unwrap_or(StatusCode::OK);
            if status.is_success() {
                Error::Decode {
                    status,
                    reason: e.to_string(),
                    excerpt: excerpt(&bytes),
                }
            } else {
                status_error(status, outcome.retry_after, &bytes)
            }
        }
        Gen::ErrorResponse(_) | Gen::UnexpectedResponse(_) => {
            let status = outcome.status.unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let body = outcome.error_body.unwrap_or_default();
            if status.is_success() {
                // A 2xx the document does not list cannot happen with `2XX`, but stay honest.
                Error::Decode {
                    status,
                    reason: "unexpected success status".into(),
                    excerpt: excerpt(&body),
                }
            } else {
                status_error(status, outcome.retry_after, &body)
            }
        }
    }
}

/// The error for a non-success status, with the service's body as it came.
fn status_error(status: StatusCode, retry_after: Option<Duration>, body: &[u8]) -> Error {
    let body = ErrorBody::from_bytes(body);
    match status.as_u16() {
        400 => Error::BadRequest { body },
        401 | 403 => Error::Unauthorized { status, body },
        404 => Error::NotFound { body },
        429 => Error::RateLimited { retry_after, body },
        500..=599 => Error::Server {
            status,
            retry_after,
            body,
        },
        _ => Error::Api { status, body },
    }
}

fn reqwest_error(operation: &'static str, timeout: Duration, error: &reqwest::Error) -> Error {
    if error.is_timeout() {
        return Error::Timeout {
            operation,
            after: timeout,
        };
    }
    // reqwest's own message names the URL; the causes say what actually failed.
    let mut message = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    Error::Connection {
        operation,
        message,
        may_have_reached_server: !error.is_connect(),
    }
}

/// Adds the API key, user agent and time-out to every request, and retries where safe.
#[derive(Debug)]
pub(crate) struct Transport {
    pub(crate) api_key: ApiKey,
    pub(crate) user_agent: HeaderValue,
    pub(crate) timeout: Duration,
    pub(crate) retry: RetryPolicy,
}

impl kelviq_gen::Execute for Transport {
    fn execute<'a>(
        &'a self,
        client: &'a reqwest::Client,
        request: reqwest::Request,
        operation_id: &'static str,
    ) -> BoxFuture<'a, reqwest::Result<reqwest::Response>> {
        Box::pin(self.send(client, request, operation_id))
    }
}

/// What to do after an attempt.
enum Next {
    Done,
    RetryAfter(Option<Duration>),
}

impl Transport {
    /// Prepares the request (key, user agent, time-out) and returns its attempts, in their
    /// span. A plain function returning the future, not an `async fn`: an `async fn` would
    /// hold the request twice, and this future is boxed for every request.
    fn send<'a>(
        &'a self,
        client: &'a reqwest::Client,
        mut request: reqwest::Request,
        operation: &'static str,
    ) -> impl Future<Output = reqwest::Result<reqwest::Response>> + Send + 'a {
        let state = CALL.try_with(Arc::clone).ok();
        let idempotency = state
            .as_ref()
            .map_or(Idempotency::Unsafe, |s| s.idempotency);

        let headers = request.headers_mut();
        // progenitor sends `api-version: <info.version>`; the service's clients do not.
        headers.remove("api-version");
        headers.insert(AUTHORIZATION, self.api_key.header().clone());
        headers.insert(USER_AGENT, self.user_agent.clone());
        *request.timeout_mut() = Some(self.timeout);

        let span = tracing::info_span!(
            "kelviq.request",
            operation,
            method = %request.method(),
            path = %request.url().path(),
            status = tracing::field::Empty,
            attempt = tracing::field::Empty,
            elapsed_ms = tracing::field::Empty,
        );
        self.attempts(client, request, state, idempotency, Instant::now())
            .instrument(span)
    }

    /// Sends the request, again while the policy allows, and returns the last answer.
    async fn attempts(
        &self,
        client: &reqwest::Client,
        mut request: reqwest::Request,
        state: Option<Arc<CallState>>,
        idempotency: Idempotency,
        started: Instant,
    ) -> reqwest::Result<reqwest::Response> {
        let mut backoff = self.retry.backoff();
        let mut attempt = 1u32;
        loop {
            let spare = request.try_clone();
            let result = client.execute(request).await;
            let span = tracing::Span::current();
            span.record("attempt", attempt);
            span.record("elapsed_ms", started.elapsed().as_millis() as u64);
            let next = match &result {
                Ok(response) => {
                    span.record("status", response.status().as_u16());
                    if idempotency == Idempotency::Safe && retryable_status(response.status()) {
                        Next::RetryAfter(retry_after(response.headers()))
                    } else {
                        Next::Done
                    }
                }
                // Nothing reached the service: repeating it is always safe.
                Err(e) if e.is_connect() => Next::RetryAfter(None),
                Err(_) if idempotency == Idempotency::Safe => Next::RetryAfter(None),
                Err(_) => Next::Done,
            };
            let wait = match next {
                Next::RetryAfter(asked) => match (spare, backoff.next()) {
                    (Some(spare), Some(backoff)) => match asked {
                        Some(asked) if asked > self.retry.get_max_retry_after() => None,
                        Some(asked) => Some((spare, asked)),
                        None => Some((spare, backoff)),
                    },
                    _ => None,
                },
                Next::Done => None,
            };
            match wait {
                Some((spare, wait)) => {
                    tracing::debug!(
                        attempt,
                        wait_ms = wait.as_millis() as u64,
                        outcome = %describe(&result),
                        "retrying"
                    );
                    drop(result);
                    tokio::time::sleep(wait).await;
                    request = spare;
                    attempt += 1;
                }
                None => {
                    let result = match (result, &state) {
                        (Ok(response), Some(state)) => record(state, response).await,
                        (result, _) => result,
                    };
                    match &result {
                        Ok(response) => {
                            tracing::debug!(status = response.status().as_u16(), "answered")
                        }
                        Err(e) => tracing::debug!(error = %e, "failed"),
                    }
                    return result;
                }
            }
        }
    }
}

fn describe(result: &reqwest::Result<reqwest::Response>) -> String {
    match result {
        Ok(response) => response.status().to_string(),
        Err(e) => e.to_string(),
    }
}

/// Keeps the status, `Retry-After` and, for an error, the raw body of the final answer, and
/// hands the generated code an identical response to decode.
async fn record(
    state: &CallState,
    response: reqwest::Response,
) -> reqwest::Result<reqwest::Response> {
    let status = response.status();
    {
        let mut outcome = state.outcome.lock().unwrap_or_else(|e| e.into_inner());
        outcome.status = Some(status);
        outcome.retry_after = retry_after(response.headers());
    }
    if status.is_success() {
        return Ok(response);
    }
    let headers = response.headers().clone();
    let version = response.version();
    let body = response.bytes().await?;
    state
        .outcome
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .error_body = Some(body.clone());
    let mut rebuilt = http::Response::new(body);
    *rebuilt.status_mut() = status;
    *rebuilt.headers_mut() = headers;
    *rebuilt.version_mut() = version;
    Ok(reqwest::Response::from(rebuilt))
}

/// `Retry-After` as seconds or as an HTTP date.
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(when.duration_since(SystemTime::now()).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, HeaderValue::from_static("7"));
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(7)));
        let past = httpdate::fmt_http_date(SystemTime::UNIX_EPOCH);
        headers.insert(RETRY_AFTER, HeaderValue::from_str(&past).unwrap());
        assert_eq!(retry_after(&headers), Some(Duration::ZERO));
        headers.insert(RETRY_AFTER, HeaderValue::from_static("soon"));
        assert_eq!(retry_after(&headers), None);
    }

    #[test]
    fn statuses_map_to_their_variants() {
        let body = br#"{"detail":"nope"}"#;
        assert!(matches!(
            status_error(StatusCode::BAD_REQUEST, None, body),
            Error::BadRequest { .. }
        ));
        assert!(matches!(
            status_error(StatusCode::FORBIDDEN, None, body),
            Error::Unauthorized { .. }
        ));
        assert!(matches!(
            status_error(StatusCode::NOT_FOUND, None, body),
            Error::NotFound { .. }
        ));
        let limited = status_error(
            StatusCode::TOO_MANY_REQUESTS,
            Some(Duration::from_secs(2)),
            body,
        );
        assert!(matches!(
            limited,
            Error::RateLimited {
                retry_after: Some(_),
                ..
            }
        ));
        assert!(limited.is_retryable());
        let server = status_error(StatusCode::BAD_GATEWAY, None, b"<html>bad gateway</html>");
        assert_eq!(
            server.body(),
            Some(&ErrorBody::Text("<html>bad gateway</html>".into()))
        );
        assert!(server.is_retryable());
        assert!(!status_error(StatusCode::INTERNAL_SERVER_ERROR, None, b"").is_retryable());
        assert!(matches!(
            status_error(StatusCode::IM_A_TEAPOT, None, b""),
            Error::Api { .. }
        ));
    }
}
