//! `POST /api/v1/report/usage/` and `POST /api/v1/report/event/`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use kelviq_gen::types as wire;

use super::{answer, TenantKey, WireJson};
use crate::error::ApiError;
use crate::App;

pub(super) async fn report_usage(
    State(app): State<App>,
    TenantKey(key): TenantKey,
    WireJson(request): WireJson<wire::ReportUsageRequest>,
) -> Result<Response, ApiError> {
    let mut store = app.store();
    let (catalogue, tenant) = store.tenant(Some(&key));
    let report = tenant.report_usage(catalogue, request)?;
    Ok(answer(StatusCode::OK, &report))
}

pub(super) async fn report_event(
    State(app): State<App>,
    TenantKey(key): TenantKey,
    WireJson(request): WireJson<wire::ReportEventRequest>,
) -> Result<Response, ApiError> {
    let mut store = app.store();
    let (catalogue, tenant) = store.tenant(Some(&key));
    let report = tenant.report_event(catalogue, request)?;
    Ok(answer(StatusCode::OK, &report))
}
