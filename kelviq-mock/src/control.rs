//! The control surface for tests in any language, under `/_mock/`, a prefix the Kelviq API
//! does not use. No authentication: it is the test's side of the emulator.
//!
//! | method and path | does |
//! |---|---|
//! | `POST /_mock/reset` | forget all state, log and faults; keep the catalogue |
//! | `PUT /_mock/fixtures` | replace the catalogue (body: the fixtures format of [`crate::catalogue`]) |
//! | `POST /_mock/entitlements` | grant an entitlement directly (body: [`Grant`]) |
//! | `GET` or `POST /_mock/checkout/{sessionId}` | complete a checkout; answers the new subscription |
//! | `GET /_mock/requests`, `DELETE /_mock/requests` | read or clear the log of API requests |
//! | `GET /_mock/customers/{customerId}/usage` | the customer's usage per feature this month |
//! | `GET /_mock/customers/{customerId}/subscriptions` | the customer's subscriptions |
//! | `POST /_mock/faults`, `DELETE /_mock/faults` | inject faults (body: [`Fault`]) or clear them |

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde_json::json;

use crate::catalogue::Catalogue;
use crate::error::ApiError;
use crate::faults::Fault;
use crate::state::Grant;
use crate::App;

pub(crate) fn router(app: App) -> Router {
    Router::new()
        .route("/_mock/reset", post(reset))
        .route("/_mock/fixtures", put(fixtures))
        .route("/_mock/entitlements", post(grant))
        .route(
            "/_mock/checkout/{session_id}",
            get(complete_checkout).post(complete_checkout),
        )
        .route("/_mock/requests", get(requests).delete(clear_requests))
        .route("/_mock/customers/{customer_id}/usage", get(usage))
        .route(
            "/_mock/customers/{customer_id}/subscriptions",
            get(subscriptions),
        )
        .route("/_mock/faults", post(inject).delete(clear_faults))
        .route(
            "/_mock/health",
            get(|| async { Json(json!({"status": "ok"})) }),
        )
        .with_state(app)
}

async fn reset(State(app): State<App>) -> StatusCode {
    app.store().reset();
    StatusCode::NO_CONTENT
}

async fn fixtures(State(app): State<App>, body: String) -> Result<StatusCode, ApiError> {
    let catalogue = Catalogue::from_json(&body).map_err(|e| ApiError::field("fixtures", e))?;
    app.store().catalogue = catalogue;
    Ok(StatusCode::NO_CONTENT)
}

async fn grant(State(app): State<App>, Json(grant): Json<Grant>) -> StatusCode {
    app.store().grant(grant);
    StatusCode::NO_CONTENT
}

async fn complete_checkout(
    State(app): State<App>,
    Path(session_id): Path<String>,
) -> Result<Response, ApiError> {
    let completed = app.store().complete_checkout(&session_id)?;
    Ok(Json(completed).into_response())
}

async fn requests(State(app): State<App>) -> Response {
    Json(app.store().log.clone()).into_response()
}

async fn clear_requests(State(app): State<App>) -> StatusCode {
    app.store().log.clear();
    StatusCode::NO_CONTENT
}

async fn usage(State(app): State<App>, Path(customer_id): Path<String>) -> Response {
    Json(app.store().usage_of(&customer_id)).into_response()
}

async fn subscriptions(State(app): State<App>, Path(customer_id): Path<String>) -> Response {
    Json(app.store().subscriptions_of(&customer_id)).into_response()
}

async fn inject(State(app): State<App>, Json(fault): Json<Fault>) -> Result<StatusCode, ApiError> {
    let fault = fault
        .checked()
        .map_err(|e| ApiError::field("operation", e.to_string()))?;
    app.store().faults.push(fault);
    Ok(StatusCode::NO_CONTENT)
}

async fn clear_faults(State(app): State<App>) -> StatusCode {
    app.store().faults.clear();
    StatusCode::NO_CONTENT
}
