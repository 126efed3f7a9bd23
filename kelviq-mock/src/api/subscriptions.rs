//! `POST /api/v1/subscriptions/{subscriptionId}/update/` and `…/cancel/`.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use kelviq_gen::types as wire;

use super::{answer, WireJson};
use crate::error::ApiError;
use crate::App;

pub(super) async fn update(
    State(app): State<App>,
    Path(subscription_id): Path<String>,
    WireJson(request): WireJson<wire::UpdateSubscriptionRequest>,
) -> Result<Response, ApiError> {
    let updated = app.store().update_subscription(&subscription_id, request)?;
    Ok(answer(StatusCode::OK, &updated))
}

pub(super) async fn cancel(
    State(app): State<App>,
    Path(subscription_id): Path<String>,
    WireJson(request): WireJson<wire::CancelSubscriptionRequest>,
) -> Result<Response, ApiError> {
    let cancelled = app.store().cancel_subscription(&subscription_id, request)?;
    Ok(answer(StatusCode::OK, &cancelled))
}
