//! The Kelviq API as the document describes it: one handler file per resource group, and
//! what every API request goes through first (logging, injected faults, authentication).

mod checkout;
mod customers;
mod entitlements;
mod reporting;
mod subscriptions;

use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post};
use axum::Router;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::ApiError;
use crate::faults::{self, FaultKind};
use crate::server::ConnectionKill;
use crate::state::{LoggedRequest, LoggedResponse};
use crate::App;

/// The largest body the emulator reads.
const BODY_LIMIT: usize = 1 << 20;

/// The API routes, behind logging, faults and authentication.
pub(crate) fn router(app: App) -> Router {
    Router::new()
        .route("/api/v1/customers/", post(customers::create))
        .route("/api/v1/customers/{customer_id}/", patch(customers::update))
        .route("/api/v1/checkout/", post(checkout::create_session))
        .route("/api/v1/entitlements", get(entitlements::get))
        .route("/api/v1/report/usage/", post(reporting::report_usage))
        .route("/api/v1/report/event/", post(reporting::report_event))
        .route(
            "/api/v1/subscriptions/{subscription_id}/update/",
            post(subscriptions::update),
        )
        .route(
            "/api/v1/subscriptions/{subscription_id}/cancel/",
            post(subscriptions::cancel),
        )
        .fallback(|| async { ApiError::not_found("No such endpoint.") })
        .layer(axum::middleware::from_fn_with_state(app.clone(), gate))
        .with_state(app)
}

/// Logs the request, applies any injected fault, then checks the bearer token.
async fn gate(State(app): State<App>, request: Request, next: Next) -> Response {
    let (parts, body) = request.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, BODY_LIMIT).await else {
        return ApiError::field("body", "The body is too large or could not be read.")
            .into_response();
    };
    let operation = faults::operation_of(parts.method.as_str(), parts.uri.path());
    let (entry, fault) = {
        let mut store = app.store();
        let entry = store.log.len();
        store.log.push(LoggedRequest {
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
    log_response(&app, entry, response).await
}

/// Records the answer in the log entry of its request, and passes it on unchanged.
async fn log_response(app: &App, entry: usize, response: Response) -> Response {
    let (parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, BODY_LIMIT).await else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    if let Some(logged) = app.store().log.get_mut(entry) {
        logged.response = Some(LoggedResponse {
            status: parts.status.as_u16(),
            body: logged_body(&bytes),
        });
    }
    let mut parts = parts;
    // Like the service, every answer names its request, for logs and support tickets.
    if let Ok(id) = header::HeaderValue::try_from(format!("req_{}", uuid::Uuid::new_v4().simple()))
    {
        parts.headers.insert("x-request-id", id);
    }
    Response::from_parts(parts, Body::from(bytes))
}

async fn answer_or_fault(
    app: &App,
    parts: axum::http::request::Parts,
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

    if let Err(refused) = authenticate(app, &parts.headers) {
        return refused.into_response();
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

/// `Authorization: Bearer <key>`: any non-empty key, or exactly the configured one.
fn authenticate(app: &App, headers: &HeaderMap) -> Result<(), ApiError> {
    let unauthorized = |detail: &str| ApiError::status(StatusCode::UNAUTHORIZED, detail);
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| unauthorized("Authentication credentials were not provided."))?;
    match app.api_key.as_deref() {
        Some(expected) if expected != token => Err(unauthorized("Invalid API key.")),
        _ => Ok(()),
    }
}

/// A JSON body decoded into a type of the document, with a 400 naming the field at fault.
pub(crate) struct WireJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for WireJson<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
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
        let bytes = Bytes::from_request(request, state)
            .await
            .map_err(|_| ApiError::field("body", "The body could not be read."))?;
        let deserializer = &mut serde_json::Deserializer::from_slice(&bytes);
        serde_path_to_error::deserialize(deserializer)
            .map(WireJson)
            .map_err(|error| {
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
}

/// Where the client reached the emulator, for URLs it hands out.
pub(crate) fn base_url(headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("127.0.0.1");
    format!("http://{host}")
}

/// A success answer: the document's type as JSON.
pub(crate) fn answer<T: serde::Serialize>(status: StatusCode, value: &T) -> Response {
    (status, axum::Json(value)).into_response()
}
