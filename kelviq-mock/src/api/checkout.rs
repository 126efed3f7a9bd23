//! `POST /api/v1/checkout/`.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use kelviq_gen::types as wire;

use super::{answer, base_url, TenantKey, WireJson};
use crate::error::ApiError;
use crate::App;

pub(super) async fn create_session(
    State(app): State<App>,
    TenantKey(key): TenantKey,
    headers: HeaderMap,
    WireJson(request): WireJson<wire::CreateCheckoutSessionRequest>,
) -> Result<Response, ApiError> {
    let mut store = app.store();
    let (catalogue, tenant) = store.tenant(Some(&key));
    let session = tenant.create_checkout(catalogue, request, &base_url(&headers))?;
    Ok(answer(StatusCode::OK, &session))
}
