//! The path every request takes between the generated client and the network.
//!
//! The generated client builds the request (path, query, body) and decodes the answer; this
//! module adds what it cannot: the API key and user agent on every request, percent-encoded
//! path segments it cannot spoil, per-attempt time-outs inside one deadline for the whole
//! call, retries where they are safe, a tracing span, and the facts about the final answer
//! (status, `Retry-After`, the raw error body, the request id) that [`crate::Error`] needs
//! and the generated error types lose.
//!
//! Those facts travel through a task-local [`CallState`]: each operation runs its generated
//! call inside [`run`], and the transport, called by the generated code within that call,
//! reads the call's rules from it and writes the outcome into it.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http::header::{HeaderMap, HeaderName, HeaderValue, AUTHORIZATION, RETRY_AFTER, USER_AGENT};
use http::StatusCode;
use kelviq_gen::{BoxFuture, ResponseValue};
use tokio::time::Instant;
use tracing::Instrument;

use crate::config::{ApiKey, RetryPolicy};
use crate::error::{excerpt, retryable_status, Error, Reached, ValidationError};
use crate::response::{RawResponse, REQUEST_ID};

/// What may be repeated after a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RetryRule {
    /// Sending it twice has the effect of sending it once: retried after 429/502/503/504,
    /// time-outs and broken connections.
    pub(crate) idempotent: bool,
    /// Retried when no connection could be made. Off for reports the offline queue takes
    /// instead, so that an unreachable service costs one connect time-out, not several.
    pub(crate) retry_unreached: bool,
}

impl RetryRule {
    /// Safe to repeat whatever happened.
    pub(crate) const IDEMPOTENT: Self = Self {
        idempotent: true,
        retry_unreached: true,
    };
    /// Counts again when repeated: retried only when it provably never arrived (no
    /// connection, or a 429).
    pub(crate) const NOT_IDEMPOTENT: Self = Self {
        idempotent: false,
        retry_unreached: true,
    };
}

/// How one call is made: its name, rule, limits and extra headers.
#[derive(Debug, Clone)]
pub(crate) struct CallSpec {
    pub(crate) operation: &'static str,
    pub(crate) rule: RetryRule,
    pub(crate) retry: RetryPolicy,
    /// The time-out of one attempt.
    pub(crate) attempt_timeout: Duration,
    /// The time the whole call may take.
    pub(crate) deadline: Duration,
    pub(crate) headers: Vec<(HeaderName, HeaderValue)>,
    /// Keep the final answer's status and headers for the caller.
    pub(crate) want_raw: bool,
}

/// What one operation call and the transport tell each other.
#[derive(Debug)]
struct CallState {
    spec: CallSpec,
    deadline: Instant,
    outcome: Mutex<Outcome>,
}

/// The facts about the last answer of a call.
#[derive(Debug, Default)]
struct Outcome {
    status: Option<StatusCode>,
    retry_after: Option<Duration>,
    error_body: Option<Bytes>,
    /// As it came: made a `String` only for an error (a clone here shares the answer's
    /// buffer instead of allocating).
    request_id: Option<HeaderValue>,
    /// The limit that ended the last attempt, when it timed out, or that ends its answer's
    /// body if that times out.
    timed_out_after: Option<Duration>,
}

tokio::task_local! {
    static CALL: Arc<CallState>;
}

/// A typed answer and, when asked for, the HTTP answer it came from.
#[derive(Debug)]
pub(crate) struct Answered<T> {
    pub(crate) value: T,
    pub(crate) raw: Option<RawResponse>,
}

/// Runs one generated call under `spec` and turns its result into the crate's own.
///
/// A plain `Future` type rather than an `async fn`: an `async fn` taking the generated
/// future by value keeps both the argument and the awaited copy, and every layer above
/// carries that doubled size (measured: 6.9 KB per report instead of about 2.5 KB), which
/// costs a copy on every move.
pub(crate) fn run<T, E, F>(spec: CallSpec, call: F) -> Call<F>
where
    F: Future<Output = Result<ResponseValue<T>, kelviq_gen::Error<E>>>,
{
    let state = Arc::new(CallState {
        deadline: Instant::now() + spec.deadline,
        spec,
        outcome: Mutex::default(),
    });
    Call {
        inner: CALL.scope(state.clone(), call),
        state,
    }
}

pin_project_lite::pin_project! {
    /// A generated call running under its [`CallState`]; see [`run`].
    pub(crate) struct Call<F: Future> {
        #[pin]
        inner: tokio::task::futures::TaskLocalFuture<Arc<CallState>, F>,
        state: Arc<CallState>,
    }
}

impl<T, E, F> Future for Call<F>
where
    F: Future<Output = Result<ResponseValue<T>, kelviq_gen::Error<E>>>,
{
    type Output = Result<Answered<T>, Error>;

    fn poll(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Self::Output> {
        let this = self.project();
        this.inner.poll(cx).map(|result| {
            let spec = &this.state.spec;
            match result {
                Ok(value) => {
                    let raw = spec
                        .want_raw
                        .then(|| RawResponse::new(value.status(), value.headers().clone()));
                    Ok(Answered {
                        value: value.into_inner(),
                        raw,
                    })
                }
                Err(error) => {
                    let outcome = std::mem::take(
                        &mut *this.state.outcome.lock().unwrap_or_else(|e| e.into_inner()),
                    );
                    let request_id = outcome.request_id.clone();
                    Err(finish(map_error(error, outcome), spec, request_id))
                }
            }
        })
    }
}

/// Sends `method` to the URL `parts` makes (its query already added) with the body it
/// makes (JSON, serialised by the caller) under `spec`, and decodes the answer as `T`: the
/// request the generated client makes for an operation without path parameters, through
/// the same attempts, deadline, span and error mapping as [`run`], without the generated
/// builder. `parts` is called once for the first attempt and again for each retry: a
/// request rebuilt only when a retry needs it costs nothing when none does, where a copy
/// kept for one (reqwest's `try_clone`: the URL, the header map and an extension map)
/// cost every call about 2 000 instructions (callgrind).
///
/// For the hot paths alone: reports, on every billable action, and the entitlement
/// request behind every `has_access` the cache cannot answer. There the generated call's
/// costs (the builder's conversions, the URL formatted and parsed again, the query
/// serialised through serde, a header map built, filled and emptied again, the task-local
/// state, and a future twice the size) came to a measurable share of the client's CPU
/// against a bare reqwest call (measured for `has_access`: 16 000 more instructions a
/// call, +8% on the round trip). Every other operation goes through [`run`].
pub(crate) async fn json_call<T, P>(
    transport: &Transport,
    client: &reqwest::Client,
    preset_timeout: Option<Duration>,
    method: http::Method,
    parts: P,
    spec: CallSpec,
) -> Result<Answered<T>, Error>
where
    T: serde::de::DeserializeOwned,
    P: Fn() -> Result<(reqwest::Url, Option<Vec<u8>>), Error> + Send + Sync,
{
    use http::header::{ACCEPT, CONTENT_TYPE};
    let state = Arc::new(CallState {
        deadline: Instant::now() + spec.deadline,
        spec,
        outcome: Mutex::default(),
    });
    let build = |(url, body): (reqwest::Url, Option<Vec<u8>>)| {
        let mut request = reqwest::Request::new(method.clone(), url);
        let headers = request.headers_mut();
        // As the generated client sends them (less its `api-version`), then as `send` adds.
        headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
        if body.is_some() {
            headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        }
        transport.sign(&mut request, &state.spec.headers, state.spec.operation);
        *request.body_mut() = body.map(Into::into);
        request
    };
    // The first request's parts fail as the caller's error; a retry's cannot differ from
    // them (made from the same inputs), and would end the retries.
    let request = build(parts()?);
    let again = || parts().ok().map(build);
    let span = request_span(state.spec.operation, &request);
    let result = in_span(
        span,
        attempts(
            client,
            request,
            Resend::Rebuild(&again),
            Some(state.clone()),
            preset_timeout,
            Instant::now(),
        ),
    )
    .await;
    let spec = &state.spec;
    // Written by the attempts, read once: the request id goes with every error below.
    let outcome = std::mem::take(&mut *state.outcome.lock().unwrap_or_else(|e| e.into_inner()));
    let error = match result {
        Ok(response) if response.status().is_success() => {
            let status = response.status();
            let raw = spec
                .want_raw
                .then(|| RawResponse::new(status, response.headers().clone()));
            match response.bytes().await {
                Ok(bytes) => match serde_json::from_slice(&bytes) {
                    Ok(value) => return Ok(Answered { value, raw }),
                    Err(e) => Error::undecodable(status, &e, &bytes),
                },
                // The body broke off or outlasted the attempt's time limit.
                Err(e) => reqwest_error(
                    &e,
                    Some(
                        outcome
                            .timed_out_after
                            .unwrap_or(attempt_limit(Some(&state))),
                    ),
                ),
            }
        }
        // `record` kept the error body and the facts about the answer.
        Ok(response) => {
            let body = outcome.error_body.as_deref().unwrap_or_default();
            Error::answered(response.status(), outcome.retry_after, body)
        }
        Err(e) => reqwest_error(&e, outcome.timed_out_after),
    };
    Err(finish(error, spec, outcome.request_id))
}

/// An error of a call, as its operation and rule make it.
fn finish(error: Error, spec: &CallSpec, request_id: Option<HeaderValue>) -> Error {
    let request_id = request_id.and_then(|id| id.to_str().ok().map(str::to_owned));
    let error = error.in_operation(spec.operation);
    let error = if spec.rule.idempotent {
        error
    } else {
        error.not_idempotent()
    };
    error.with_request_id(request_id)
}

fn map_error<E>(error: kelviq_gen::Error<E>, outcome: Outcome) -> Error {
    use kelviq_gen::Error as Gen;
    match error {
        // The generated types refuse a value our own checks let through: still a
        // validation error, and still nothing was sent.
        Gen::InvalidRequest(message) => {
            ValidationError::new("request", message, "a value the API accepts").into()
        }
        Gen::CommunicationError(e) | Gen::ResponseBodyError(e) | Gen::InvalidUpgrade(e) => {
            reqwest_error(&e, outcome.timed_out_after)
        }
        Gen::Custom(message) => Error::connection(Reached::Maybe, message),
        Gen::InvalidResponsePayload(bytes, e) => {
            let status = outcome.status.unwrap_or(StatusCode::OK);
            if status.is_success() {
                Error::undecodable(status, &e, &bytes)
            } else {
                Error::answered(status, outcome.retry_after, &bytes)
            }
        }
        Gen::ErrorResponse(_) | Gen::UnexpectedResponse(_) => {
            let status = outcome.status.unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let body = outcome.error_body.unwrap_or_default();
            if status.is_success() {
                // A 2xx the document does not list cannot happen with `2XX`, but stay honest.
                Error::decode(status, "unexpected success status", &body)
            } else {
                Error::answered(status, outcome.retry_after, &body)
            }
        }
    }
}

/// A failed exchange: no connection (never reached), a time-out, or a broken connection.
fn reqwest_error(error: &reqwest::Error, timed_out_after: Option<Duration>) -> Error {
    // A connect time-out is a time-out too, but one that proves nothing was sent: check it
    // first.
    if error.is_connect() {
        return Error::connection(Reached::No, describe_error(error));
    }
    // The request could not be made at all (say, a URL longer than any URI may be): nothing
    // was sent and nothing would change by waiting, so it is not an outage for the fallback
    // policy or the queue to answer.
    if error.is_builder() {
        return Error::config(format!(
            "the request could not be built: {}",
            describe_error(error)
        ));
    }
    if error.is_timeout() {
        return Error::timeout(timed_out_after.unwrap_or_default());
    }
    Error::connection(Reached::Maybe, describe_error(error))
}

/// reqwest's message names the URL; its causes say what actually failed.
fn describe_error(error: &reqwest::Error) -> String {
    let mut message = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    message
}

/// The header partner operations authenticate with, instead of `Authorization`.
#[cfg(feature = "partner")]
pub(crate) const PARTNER_KEY_HEADER: &str = "x-kelviq-partner-key";

/// Whether a request of the generated operation `operation_id` carries the client's API
/// key. Not a partner operation's, which authenticates with its partner key alone (the
/// organisation's key is not sent along); not a promotion lookup given the Client API Key
/// for itself (an `Authorization` only the SDK's own call can have set: callers' headers
/// never hold one).
#[cfg_attr(
    not(any(feature = "partner", feature = "catalog")),
    allow(unused_variables)
)]
fn sends_api_key(operation_id: &str, headers: &HeaderMap) -> bool {
    #[cfg(feature = "partner")]
    if operation_id.contains("partner_organization") && headers.contains_key(PARTNER_KEY_HEADER) {
        return false;
    }
    #[cfg(feature = "catalog")]
    if operation_id == "get_promotion" && headers.contains_key(AUTHORIZATION) {
        return false;
    }
    true
}

/// Adds the API key and user agent to every request, sends it, and retries where safe.
#[derive(Debug)]
pub(crate) struct Transport {
    pub(crate) api_key: ApiKey,
    pub(crate) user_agent: HeaderValue,
    /// The time-out the HTTP client applies to every request by itself, when known: an
    /// attempt with this limit carries none of its own.
    pub(crate) preset_timeout: Option<Duration>,
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
    /// Prepares the request (key, user agent, headers, path) and returns its attempts, in
    /// their span. A plain function returning the future, not an `async fn`: an `async fn`
    /// would hold the request twice, and this future is boxed for every request.
    fn send<'a>(
        &'a self,
        client: &'a reqwest::Client,
        mut request: reqwest::Request,
        operation_id: &'static str,
    ) -> impl Future<Output = reqwest::Result<reqwest::Response>> + Send + 'a {
        let state = CALL.try_with(Arc::clone).ok();
        let operation = state.as_ref().map_or(operation_id, |s| s.spec.operation);

        restore_path_segments(request.url_mut());
        // progenitor sends `api-version: <info.version>`; the service's clients do not.
        request.headers_mut().remove("api-version");
        let extra = state.as_ref().map_or(&[][..], |s| &s.spec.headers[..]);
        self.sign(&mut request, extra, operation_id);
        let span = request_span(operation, &request);
        in_span(
            span,
            attempts(
                client,
                request,
                Resend::Copy,
                state,
                self.preset_timeout,
                Instant::now(),
            ),
        )
    }

    /// Adds what every request carries: the caller's extra headers, then the API key (where
    /// `operation_id` sends it) and the user agent.
    fn sign(
        &self,
        request: &mut reqwest::Request,
        extra: &[(HeaderName, HeaderValue)],
        operation_id: &str,
    ) {
        let headers = request.headers_mut();
        for (name, value) in extra {
            headers.insert(name.clone(), value.clone());
        }
        if sends_api_key(operation_id, headers) {
            headers.insert(AUTHORIZATION, self.api_key.header().clone());
        }
        headers.insert(USER_AGENT, self.user_agent.clone());
    }
}

/// `future` in `span`, or alone when nothing records the span (no subscriber, or one that
/// filters it out): entering and leaving a disabled span at every poll cost about 400
/// instructions a call (callgrind), 1% of the client's whole share of a round trip.
fn in_span<F: Future>(
    span: tracing::Span,
    future: F,
) -> futures_util::future::Either<F, tracing::instrument::Instrumented<F>> {
    use futures_util::future::Either;
    if span.is_disabled() {
        Either::Left(future)
    } else {
        Either::Right(future.instrument(span))
    }
}

/// The span every request runs in; the attempts record the rest.
fn request_span(operation: &str, request: &reqwest::Request) -> tracing::Span {
    tracing::info_span!(
        "kelviq.request",
        operation,
        method = %request.method(),
        path = %request.url().path(),
        status = tracing::field::Empty,
        attempt = tracing::field::Empty,
        elapsed_ms = tracing::field::Empty,
    )
}

/// The identifiers in a path were percent-encoded by [`crate::validate::path_segment`],
/// leaving only unreserved bytes and `%`; the generated code then escaped each `%` once
/// more as `%25`. Undo exactly that second escape, after the API prefix (the base URL is
/// left as configured).
fn restore_path_segments(url: &mut reqwest::Url) {
    const PREFIX: &str = "/api/v1/";
    let path = url.path();
    // Most paths (every report's) hold no escape at all: one byte scan, not a search.
    if !path.contains('%') {
        return;
    }
    let Some(start) = path.find(PREFIX) else {
        return;
    };
    let rest = &path[start + PREFIX.len()..];
    if rest.contains("%25") {
        let restored = format!(
            "{}{}",
            &path[..start + PREFIX.len()],
            rest.replace("%25", "%")
        );
        url.set_path(&restored);
    }
}

/// Sends the request, again while the rule, the policy and the deadline allow, and returns
/// the last answer.
async fn attempts(
    client: &reqwest::Client,
    mut request: reqwest::Request,
    resend: Resend<'_>,
    state: Option<Arc<CallState>>,
    preset_timeout: Option<Duration>,
    started: Instant,
) -> reqwest::Result<reqwest::Response> {
    let rule = state
        .as_ref()
        .map_or(RetryRule::NOT_IDEMPOTENT, |s| s.spec.rule);
    let retry = state
        .as_ref()
        .map_or_else(RetryPolicy::none, |s| s.spec.retry);
    // Built at the first retry: most calls never need it.
    let mut backoff = None;
    let mut attempt = 1u32;
    loop {
        let limit = attempt_limit(state.as_deref());
        // The limit as configured, before the deadline had begun to run.
        let nominal = state.as_deref().map_or(limit, |state| {
            state.spec.attempt_timeout.min(state.spec.deadline)
        });
        // The client's own time-out stands for an attempt with its limit; a request that
        // already carries one (a retry after a shorter attempt) is given its own.
        if !presets(preset_timeout, nominal, limit, attempt == 1) || request.timeout().is_some() {
            *request.timeout_mut() = Some(limit);
        }
        // A copy for the next attempt only while the policy allows one, and only where the
        // request cannot be made again.
        let spare = match resend {
            _ if attempt > retry.get_max_retries() => Spare::None,
            Resend::Copy => request.try_clone().map_or(Spare::None, Spare::Copy),
            Resend::Rebuild(_) => Spare::Later,
        };
        let result = client.execute(request).await;
        let span = tracing::Span::current();
        // Without a subscriber, no clock read for a field nobody records.
        if !span.is_disabled() {
            span.record("attempt", attempt);
            span.record("elapsed_ms", started.elapsed().as_millis() as u64);
        }
        let next = match &result {
            Ok(response) => {
                span.record("status", response.status().as_u16());
                let status = response.status();
                // A 429 is answered before anything is applied: safe for every request.
                if status == StatusCode::TOO_MANY_REQUESTS
                    || (rule.idempotent && retryable_status(status))
                {
                    Next::RetryAfter(retry_after(response.headers()))
                } else {
                    Next::Done
                }
            }
            Err(e) if e.is_connect() && rule.retry_unreached => Next::RetryAfter(None),
            Err(e) if e.is_connect() => Next::Done,
            Err(_) if rule.idempotent => Next::RetryAfter(None),
            Err(_) => Next::Done,
        };
        let wait = match next {
            Next::RetryAfter(asked) => {
                match (spare, backoff.get_or_insert_with(|| retry.backoff()).next()) {
                    (spare @ (Spare::Copy(_) | Spare::Later), Some(backoff)) => {
                        let wait = match asked {
                            Some(asked) if asked > retry.get_max_retry_after() => None,
                            Some(asked) => Some(asked),
                            None => Some(backoff),
                        };
                        // A wait that would end past the deadline ends the retries instead.
                        // The next request is made only then; were it not to be made (it
                        // cannot fail where the first did not: the same inputs), the last
                        // answer stands.
                        wait.filter(|wait| within_deadline(state.as_deref(), *wait))
                            .and_then(|wait| {
                                let next = match (spare, resend) {
                                    (Spare::Copy(spare), _) => Some(spare),
                                    (_, Resend::Rebuild(again)) => again(),
                                    _ => None,
                                };
                                next.map(|next| (next, wait))
                            })
                    }
                    (Spare::None, _) | (_, None) => None,
                }
            }
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
                    (Ok(response), Some(state)) => {
                        // The body is read under this attempt's limit too: a time-out there
                        // names the limit that ended it, as a time-out before the answer does.
                        state
                            .outcome
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .timed_out_after = Some(timed_out_after(state, limit));
                        record(state, response).await
                    }
                    (Err(error), Some(state)) => {
                        if error.is_timeout() {
                            state
                                .outcome
                                .lock()
                                .unwrap_or_else(|e| e.into_inner())
                                .timed_out_after = Some(timed_out_after(state, limit));
                        }
                        Err(error)
                    }
                    (result, None) => result,
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

/// How an attempt after the first gets its request.
#[derive(Clone, Copy)]
enum Resend<'a> {
    /// A copy made before each attempt (a request the generated client made).
    Copy,
    /// Made again from its parts, only when a retry needs it.
    Rebuild(&'a (dyn Fn() -> Option<reqwest::Request> + Send + Sync)),
}

/// The next attempt's request, as far as it is known before this attempt is sent.
// As large as the `Option<Request>` it replaces; boxed, every generated call with retries
// would pay an allocation for it.
#[allow(clippy::large_enum_variant)]
enum Spare {
    /// No next attempt.
    None,
    Copy(reqwest::Request),
    /// Made by [`Resend::Rebuild`] if a retry comes.
    Later,
}

/// How far past the call's deadline a first attempt may end when the client's preset
/// time-out stands for its limit: the moments between the call's start and the attempt's.
const PRESET_SLACK: Duration = Duration::from_millis(10);

/// Whether the HTTP client's own time-out, `preset`, stands for an attempt's `limit`: when
/// it is the same, or, for a first attempt whose limit as configured (`nominal`) is the
/// preset, when the limit is less only by the moments since the call began (at most
/// [`PRESET_SLACK`]). Never for a limit set shorter on purpose (a call's own deadline or
/// time-out, a deadline cut short by `until`) nor for a retry: each of those ends when it
/// was told to.
fn presets(preset: Option<Duration>, nominal: Duration, limit: Duration, first: bool) -> bool {
    let Some(preset) = preset else {
        return false;
    };
    limit == preset
        || (first && nominal == preset && limit <= preset && preset - limit <= PRESET_SLACK)
}

/// The time-out of the next attempt: the attempt's own, cut short by the call's deadline.
fn attempt_limit(state: Option<&CallState>) -> Duration {
    match state {
        Some(state) => {
            let left = state.deadline.saturating_duration_since(Instant::now());
            state.spec.attempt_timeout.min(left)
        }
        None => crate::config::DEFAULT_TIMEOUT,
    }
}

/// Which limit a timed-out attempt ran into: the call's deadline, or the attempt's own.
fn timed_out_after(state: &CallState, limit: Duration) -> Duration {
    if limit < state.spec.attempt_timeout {
        state.spec.deadline
    } else {
        state.spec.attempt_timeout
    }
}

fn within_deadline(state: Option<&CallState>, wait: Duration) -> bool {
    state.is_none_or(|state| Instant::now() + wait < state.deadline)
}

fn describe(result: &reqwest::Result<reqwest::Response>) -> String {
    match result {
        Ok(response) => response.status().to_string(),
        Err(e) => e.to_string(),
    }
}

/// Keeps the status, `Retry-After`, request id and, for an error, the raw body of the final
/// answer, and hands the generated code an identical response to decode.
async fn record(
    state: &CallState,
    response: reqwest::Response,
) -> reqwest::Result<reqwest::Response> {
    let status = response.status();
    {
        let mut outcome = state.outcome.lock().unwrap_or_else(|e| e.into_inner());
        outcome.status = Some(status);
        // Read by the errors only.
        if !status.is_success() {
            outcome.retry_after = retry_after(response.headers());
        }
        outcome.request_id = response.headers().get(&REQUEST_ID).cloned();
    }
    if status.is_success() {
        return Ok(response);
    }
    let headers = response.headers().clone();
    let version = response.version();
    let body = response.bytes().await?;
    tracing::debug!(body = %excerpt(&body), "error body");
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
    fn the_clients_time_out_stands_only_for_its_own_limit_on_a_first_attempt() {
        let three = Duration::from_secs(3);
        let ms = Duration::from_millis;
        let preset = Some(three);
        // Its own limit, exactly, or less by the moments since the call began.
        assert!(presets(preset, three, three, true));
        assert!(presets(preset, three, three - ms(1), true));
        assert!(presets(preset, three, three - PRESET_SLACK, true));
        // Not once those moments are more than the slack.
        assert!(!presets(preset, three, three - PRESET_SLACK - ms(1), true));
        // A call's own deadline just under the preset ends when it says, not at the preset.
        assert!(!presets(preset, three - ms(9), three - ms(9), true));
        // Nor a retry that starts moments after the call (a `Retry-After: 0`).
        assert!(!presets(preset, three, three - ms(1), false));
        // A longer limit: the preset would end it early.
        assert!(!presets(
            preset,
            Duration::from_secs(4),
            Duration::from_secs(4),
            true
        ));
        // A caller's client: its time-out is not known.
        assert!(!presets(None, three, three, true));
    }

    #[test]
    fn only_the_second_escape_of_a_segment_is_undone() {
        let mut url =
            reqwest::Url::parse("http://h/base%25x/api/v1/customers/nobody%255C..%255Cx/").unwrap();
        restore_path_segments(&mut url);
        assert_eq!(url.path(), "/base%25x/api/v1/customers/nobody%5C..%5Cx/");
        let mut plain = reqwest::Url::parse("http://h/api/v1/customers/").unwrap();
        restore_path_segments(&mut plain);
        assert_eq!(plain.path(), "/api/v1/customers/");
    }
}
