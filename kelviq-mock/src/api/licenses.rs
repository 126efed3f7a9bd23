//! `POST /api/v1/license/activate/`, `…/deactivate/`, `…/validate/`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use kelviq_gen::types as wire;

use super::{answer, TenantKey, WireJson};
use crate::error::ApiError;
use crate::App;

pub(super) async fn activate(
    State(app): State<App>,
    TenantKey(key): TenantKey,
    WireJson(request): WireJson<wire::ActivateLicenseRequest>,
) -> Result<Response, ApiError> {
    let mut store = app.store();
    let (catalogue, tenant) = store.tenant(Some(&key));
    let activation = tenant.activate_license(catalogue, request)?;
    Ok(answer(StatusCode::CREATED, &activation))
}

pub(super) async fn deactivate(
    State(app): State<App>,
    TenantKey(key): TenantKey,
    WireJson(request): WireJson<wire::DeactivateLicenseRequest>,
) -> Result<Response, ApiError> {
    let answer_body = app
        .store()
        .tenant(Some(&key))
        .1
        .deactivate_license(request)?;
    Ok(answer(StatusCode::OK, &answer_body))
}

pub(super) async fn validate(
    State(app): State<App>,
    TenantKey(key): TenantKey,
    WireJson(request): WireJson<wire::ValidateLicenseRequest>,
) -> Response {
    let mut store = app.store();
    let (catalogue, tenant) = store.tenant(Some(&key));
    match tenant.validate_license(catalogue, request) {
        Ok(validation) => answer(StatusCode::OK, &validation),
        Err((status, body)) => (
            StatusCode::from_u16(status).unwrap_or(StatusCode::NOT_FOUND),
            axum::Json(body),
        )
            .into_response(),
    }
}
