//! `GET /api/v1/entitlements?customer_id=…[&feature_id=…]`, served on the same address
//! as the API (the real service serves it from the edge host).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;

use super::{answer, Params, TenantKey};
use crate::error::ApiError;
use crate::App;

pub(super) async fn get(
    State(app): State<App>,
    TenantKey(key): TenantKey,
    params: Params,
) -> Result<Response, ApiError> {
    let customer_id = params
        .text("customer_id")
        .ok_or_else(|| ApiError::field("customer_id", "This query parameter is required."))?;
    if params.0.get("feature_id").is_some_and(String::is_empty) {
        return Err(ApiError::field("feature_id", "Must not be empty."));
    }
    let mut store = app.store();
    let (catalogue, tenant) = store.tenant(Some(&key));
    let entitlements = tenant.entitlements(catalogue, customer_id, params.text("feature_id"))?;
    Ok(answer(StatusCode::OK, &entitlements))
}
