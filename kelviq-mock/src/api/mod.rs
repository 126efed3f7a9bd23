//! The Kelviq API as the document describes it: one handler file per resource group, and
//! what every API request goes through first (logging, injected faults, authentication,
//! the tenant of its key) and after (webhooks for what it changed).

mod admin;
mod body;
mod catalog;
mod checkout;
mod customers;
mod entitlements;
mod licenses;
mod partner;
mod payments;
mod promotions;
mod reporting;
mod storage;
mod subscriptions;

use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::ApiError;
use crate::faults::{self, FaultKind};
use crate::server::ConnectionKill;
use crate::state::{LoggedRequest, LoggedResponse};
use crate::App;

/// The operation of the document that needs no API key: a plan file's public link.
const OPEN_OPERATION: &str = "downloadCatalogPlanFile";

/// The largest body the emulator reads.
const BODY_LIMIT: usize = 1 << 20;

/// The API routes, behind logging, faults and authentication.
pub(crate) fn router(app: App) -> Router {
    Router::new()
        .route(
            "/api/v1/customers/",
            get(customers::list).post(customers::create),
        )
        .route(
            "/api/v1/customers/{customer_id}/",
            get(customers::retrieve)
                .patch(customers::update)
                .delete(customers::archive),
        )
        .route("/api/v1/portal/session/", post(customers::portal_session))
        .route("/api/v1/checkout/", post(checkout::create_session))
        .route("/api/v1/entitlements", get(entitlements::get))
        .route("/api/v1/promotions", get(promotions::get))
        .route("/api/v1/report/usage/", post(reporting::report_usage))
        .route("/api/v1/report/event/", post(reporting::report_event))
        .route("/api/v1/subscriptions/", get(subscriptions::list))
        .route("/api/v1/subscriptions/create/", post(subscriptions::create))
        .route(
            "/api/v1/subscriptions/{subscription_id}/",
            get(subscriptions::retrieve),
        )
        .route(
            "/api/v1/subscriptions/{subscription_id}/update/",
            post(subscriptions::update),
        )
        .route(
            "/api/v1/subscriptions/{subscription_id}/update/preview/",
            post(subscriptions::preview),
        )
        .route(
            "/api/v1/subscriptions/{subscription_id}/cancel/",
            post(subscriptions::cancel),
        )
        .route("/api/v1/license/activate/", post(licenses::activate))
        .route("/api/v1/license/deactivate/", post(licenses::deactivate))
        .route("/api/v1/license/validate/", post(licenses::validate))
        .route("/api/v1/charges/", post(payments::create_charge))
        .route(
            "/api/v1/refunds/",
            get(payments::list_refunds).post(payments::create_refund),
        )
        .route(
            "/api/v1/refunds/{refund_id}/",
            get(payments::retrieve_refund),
        )
        .route("/api/v1/transaction/", get(payments::list_transactions))
        .route(
            "/api/v1/payment-methods/",
            get(payments::list_payment_methods),
        )
        .merge(catalog::routes())
        .merge(partner::routes())
        .merge(admin::routes())
        .fallback(|| async { ApiError::not_found("No such endpoint.") })
        .layer(axum::middleware::from_fn_with_state(app.clone(), gate))
        .merge(storage::routes())
        .with_state(app)
}

/// The operation a request is for, put in its extensions by [`gate`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct OperationId(pub(crate) Option<&'static str>);

/// The API key a request was authenticated with: its tenant.
#[derive(Debug, Clone)]
pub(crate) struct TenantKey(pub(crate) String);

impl<S: Send + Sync> FromRequestParts<S> for TenantKey {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<TenantKey>()
            .cloned()
            .ok_or_else(|| ApiError::status(StatusCode::UNAUTHORIZED, "No API key."))
    }
}

/// Logs the request, applies any injected fault, checks the bearer token, serves it, and
/// sends the webhooks for what it changed.
async fn gate(State(app): State<App>, request: Request, next: Next) -> Response {
    let (mut parts, body) = request.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, BODY_LIMIT).await else {
        return ApiError::field("body", "The body is too large or could not be read.")
            .into_response();
    };
    let operation = faults::operation_of(parts.method.as_str(), parts.uri.path());
    parts.extensions.insert(OperationId(operation));
    let (entry, fault) = {
        let mut store = app.store();
        let entry = store.log.push(LoggedRequest {
            method: parts.method.to_string(),
            path: parts.uri.path().to_owned(),
            query: parts.uri.query().map(str::to_owned),
            headers: parts
                .headers
                .iter()
                .map(|(name, value)| {
                    (
                        name.to_string(),
                        String::from_utf8_lossy(value.as_bytes()).into_owned(),
                    )
                })
                .collect(),
            body: logged_body(&bytes),
            operation: operation.map(str::to_owned),
            response: None,
        });
        (entry, faults::take(&mut store.faults, operation))
    };
    let response = answer_or_fault(&app, parts, bytes, fault, next).await;
    crate::webhooks::dispatch(&app);
    log_response(&app, entry, response).await
}

/// Records the answer in the log entry of its request, and passes it on with a request id.
async fn log_response(app: &App, entry: u64, response: Response) -> Response {
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, BODY_LIMIT).await else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    if let Some(logged) = app.store().log.get_mut(entry) {
        logged.response = Some(LoggedResponse {
            status: parts.status.as_u16(),
            body: logged_body(&bytes),
        });
    }
    // Like the service, every answer names its request, for logs and support tickets.
    if let Ok(id) = header::HeaderValue::try_from(format!("req_{}", uuid::Uuid::new_v4().simple()))
    {
        parts.headers.insert("x-request-id", id);
    }
    Response::from_parts(parts, Body::from(bytes))
}

async fn answer_or_fault(
    app: &App,
    mut parts: Parts,
    bytes: Bytes,
    fault: Option<FaultKind>,
    next: Next,
) -> Response {
    let kill = parts.extensions.get::<ConnectionKill>().cloned();
    match fault {
        Some(FaultKind::Status {
            status,
            retry_after,
            body,
            after_ms,
        }) => {
            if let Some(ms) = after_ms {
                tokio::time::sleep(Duration::from_millis(ms)).await;
            }
            return status_answer(status, retry_after, body);
        }
        Some(FaultKind::Delay { ms }) => tokio::time::sleep(Duration::from_millis(ms)).await,
        Some(FaultKind::Drop) => return drop_connection(kill).await,
        Some(FaultKind::Malformed) => {
            return (
                StatusCode::OK,
                [(header::CONTENT_TYPE, "application/json")],
                "{\"malformed",
            )
                .into_response();
        }
        Some(FaultKind::Empty) => {
            return (
                StatusCode::OK,
                [(header::CONTENT_TYPE, "application/json")],
                "",
            )
                .into_response();
        }
        Some(
            FaultKind::ApplyThenStatus { .. }
            | FaultKind::ApplyThenDrop
            | FaultKind::DelayAnswer { .. },
        )
        | None => {}
    }

    // Operations the document serves without authentication (`security: []`).
    let operation = parts.extensions.get::<OperationId>().and_then(|o| o.0);
    let open = operation == Some(OPEN_OPERATION);
    // The partner operations take the partner key (`partnerKey`), not a bearer API key.
    if operation.is_some_and(|o| partner::OPERATIONS.contains(&o)) {
        match partner::partner_key(&parts.headers) {
            Ok(key) => {
                parts.extensions.insert(partner::PartnerKey(key));
            }
            Err(refused) => return refused.into_response(),
        }
    } else {
        match authenticate(app, &parts.headers) {
            Err(_) if open => {}
            Ok(key) => {
                parts.extensions.insert(TenantKey(key));
            }
            Err(refused) => return refused.into_response(),
        }
    }
    let served = next
        .run(Request::from_parts(parts, Body::from(bytes)))
        .await;
    // The request has had its effect; the client is told otherwise, or nothing.
    match fault {
        Some(FaultKind::ApplyThenStatus { status }) => status_answer(status, None, None),
        Some(FaultKind::ApplyThenDrop) => drop_connection(kill).await,
        Some(FaultKind::DelayAnswer { ms }) => {
            tokio::time::sleep(Duration::from_millis(ms)).await;
            served
        }
        _ => served,
    }
}

fn status_answer(status: u16, retry_after: Option<u64>, body: Option<String>) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = match body {
        Some(text) => (status, [(header::CONTENT_TYPE, "text/html")], text).into_response(),
        None => ApiError::status(status, "Injected fault.").into_response(),
    };
    if let Some(seconds) = retry_after {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, seconds.into());
    }
    response
}

/// Closes the connection the request came on; the answer never leaves.
async fn drop_connection(kill: Option<ConnectionKill>) -> Response {
    if let Some(kill) = kill {
        kill.close();
    }
    std::future::pending().await
}

fn logged_body(bytes: &Bytes) -> Value {
    if bytes.is_empty() {
        return Value::Null;
    }
    serde_json::from_slice(bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(bytes).into_owned()))
}

/// `Authorization: Bearer <key>`: any non-empty key, or exactly one of the configured ones.
fn authenticate(app: &App, headers: &HeaderMap) -> Result<String, ApiError> {
    let unauthorized = |detail: &str| ApiError::status(StatusCode::UNAUTHORIZED, detail);
    let token = bearer(headers)
        .ok_or_else(|| unauthorized("Authentication credentials were not provided."))?;
    if app.api_keys.is_empty() || app.api_keys.iter().any(|key| key == token) {
        Ok(token.to_owned())
    } else {
        Err(unauthorized("Invalid API key."))
    }
}

/// The bearer token of a request, when it has one.
pub(crate) fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
}

/// A JSON body checked against the document (unknown fields, `null` where it is not
/// allowed, either spelling of a name; see [`body`]) and decoded into a type of the
/// document, with a 400 naming the field at fault.
pub(crate) struct WireJson<T>(pub T);

impl<T: DeserializeOwned> FromRequest<App> for WireJson<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, app: &App) -> Result<Self, Self::Rejection> {
        let (operation, bytes) = body_of(request, app).await?;
        let value = checked(app, operation, &bytes)?;
        decode(value).map(WireJson)
    }
}

/// A JSON body that may be left out, for operations whose body is optional: `None` when
/// the request has none; otherwise checked and decoded as [`WireJson`] does.
pub(crate) struct MaybeWireJson<T>(pub Option<T>);

impl<T: DeserializeOwned> FromRequest<App> for MaybeWireJson<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, app: &App) -> Result<Self, Self::Rejection> {
        let operation = request.extensions().get::<OperationId>().and_then(|o| o.0);
        let has_type = request.headers().contains_key(header::CONTENT_TYPE);
        let (parts, body) = request.into_parts();
        let bytes = axum::body::to_bytes(body, BODY_LIMIT)
            .await
            .map_err(|_| ApiError::field("body", "The body could not be read."))?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(MaybeWireJson(None));
        }
        let request = Request::from_parts(parts, Body::from(bytes.clone()));
        if has_type {
            let (_, bytes) = body_of(request, app).await?;
            return decode(checked(app, operation, &bytes)?).map(|v| MaybeWireJson(Some(v)));
        }
        Err(ApiError::field(
            "body",
            "Expected Content-Type: application/json.",
        ))
    }
}

/// The operation of a JSON request and its body's bytes; refused when it is not JSON.
async fn body_of(request: Request, app: &App) -> Result<(Option<&'static str>, Bytes), ApiError> {
    let is_json = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !is_json {
        return Err(ApiError::field(
            "body",
            "Expected Content-Type: application/json.",
        ));
    }
    let operation = request.extensions().get::<OperationId>().and_then(|o| o.0);
    let bytes = Bytes::from_request(request, app)
        .await
        .map_err(|_| ApiError::field("body", "The body could not be read."))?;
    Ok((operation, bytes))
}

/// A body parsed as JSON and checked against the operation's fields in the document.
fn checked(app: &App, operation: Option<&str>, bytes: &[u8]) -> Result<Value, ApiError> {
    let mut value: Value = serde_json::from_slice(bytes)
        .map_err(|e| ApiError::field("body", format!("Not JSON: {e}")))?;
    if let Some(fields) = operation.and_then(faults::body_fields) {
        body::conform(fields, &mut value, app.lenient, "")?;
    }
    Ok(value)
}

/// A checked body decoded into a type of the document, with a 400 naming the field at
/// fault.
pub(crate) fn decode<T: DeserializeOwned>(value: Value) -> Result<T, ApiError> {
    serde_path_to_error::deserialize(value).map_err(|error| {
        let message = error.inner().to_string();
        let path = error.path().to_string();
        // A missing field is reported at its parent; name the field itself.
        let field = match message.strip_prefix("missing field `") {
            Some(rest) => rest.split('`').next().unwrap_or("body").to_owned(),
            None if path == "." => "body".to_owned(),
            None => path,
        };
        ApiError::field(field, message)
    })
}

/// A request's query parameters, read by name with a 400 naming the one at fault.
#[derive(Debug, Default)]
pub(crate) struct Params(std::collections::HashMap<String, String>);

impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let text = parts.uri.query().unwrap_or_default();
        serde_urlencoded::from_str(text)
            .map(Params)
            .map_err(|e| ApiError::field("query", e.to_string()))
    }
}

impl Params {
    /// A text parameter; empty counts as absent.
    pub(crate) fn text(&self, name: &str) -> Option<&str> {
        self.0
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    /// A text parameter the document gives `minLength: 1`: present and empty is a 400.
    pub(crate) fn nonempty(&self, name: &str) -> Result<Option<&str>, ApiError> {
        match self.0.get(name).map(String::as_str) {
            Some("") => Err(ApiError::field(
                name,
                "\"\" is empty: expected at least one character.",
            )),
            other => Ok(other),
        }
    }

    /// A `format: email` parameter: present, it must look like an address (`a@b.c`).
    pub(crate) fn email(&self, name: &str) -> Result<Option<&str>, ApiError> {
        match self.0.get(name).map(String::as_str) {
            Some(v) => match v.split_once('@') {
                Some((local, domain))
                    if !local.is_empty() && domain.contains('.') && !domain.contains('@') =>
                {
                    Ok(Some(v))
                }
                _ => Err(ApiError::field(
                    name,
                    format!("{v:?} is not an e-mail address (format: email)."),
                )),
            },
            None => Ok(None),
        }
    }

    /// A parsed parameter; present and empty is a 400 like any other value that does not
    /// parse (the document gives each a type or a format that `""` is not).
    pub(crate) fn parse<T: std::str::FromStr>(
        &self,
        name: &str,
        expected: &str,
    ) -> Result<Option<T>, ApiError> {
        self.0
            .get(name)
            .map(String::as_str)
            .map(|v| {
                v.parse()
                    .map_err(|_| ApiError::field(name, format!("{v:?} is not {expected}.")))
            })
            .transpose()
    }

    /// `page` and `page_size`: int64 in the document, so at most `i64::MAX`.
    pub(crate) fn paging(&self) -> Result<(Option<u64>, Option<u64>), ApiError> {
        let int64 = |name: &str, expected: &str| -> Result<Option<u64>, ApiError> {
            let value: Option<i64> = self.parse(name, expected)?;
            value
                .map(|v| {
                    u64::try_from(v)
                        .map_err(|_| ApiError::field(name, format!("{v} is not {expected}.")))
                })
                .transpose()
        };
        Ok((
            int64("page", "a page number (an int64 from 1)")?,
            int64("page_size", "a page size (an int64 from 1 to 100)")?,
        ))
    }

    /// A `YYYY-MM-DD` day.
    pub(crate) fn date(&self, name: &str) -> Result<Option<chrono::NaiveDate>, ApiError> {
        self.parse(name, "a date (YYYY-MM-DD)")
    }

    /// An RFC 3339 instant.
    pub(crate) fn instant(
        &self,
        name: &str,
    ) -> Result<Option<chrono::DateTime<chrono::Utc>>, ApiError> {
        self.parse(name, "an RFC 3339 date-time")
    }
}

/// The URL of a list's pages: where it was reached, with its path.
pub(crate) fn list_url(headers: &HeaderMap, path: &str) -> String {
    format!("{}{path}", base_url(headers))
}

/// Where the client reached the emulator, for URLs it hands out.
pub(crate) fn base_url(headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("127.0.0.1");
    format!("http://{host}")
}

/// A success answer: JSON.
pub(crate) fn answer<T: serde::Serialize>(status: StatusCode, value: &T) -> Response {
    (status, axum::Json(value)).into_response()
}
