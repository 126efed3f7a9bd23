//! `POST /api/v1/report/usage/` and `POST /api/v1/report/event/`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use kelviq_gen::types as wire;

use super::{answer, WireJson};
use crate::error::ApiError;
use crate::App;

pub(super) async fn report_usage(
    State(app): State<App>,
    WireJson(request): WireJson<wire::ReportUsageRequest>,
) -> Result<Response, ApiError> {
    let report = app.store().report_usage(request)?;
    Ok(answer(StatusCode::OK, &report))
}

pub(super) async fn report_event(
    State(app): State<App>,
    WireJson(request): WireJson<wire::ReportEventRequest>,
) -> Result<Response, ApiError> {
    let report = app.store().report_event(request)?;
    Ok(answer(StatusCode::OK, &report))
}
