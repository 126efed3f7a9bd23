//! `GET /api/v1/entitlements?customer_id=…[&feature_id=…]`, served on the same address
//! as the API (the real service serves it from the edge host).

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use super::answer;
use crate::error::ApiError;
use crate::App;

#[derive(Debug, Deserialize)]
pub(super) struct EntitlementsQuery {
    customer_id: Option<String>,
    feature_id: Option<String>,
}

pub(super) async fn get(
    State(app): State<App>,
    Query(query): Query<EntitlementsQuery>,
) -> Result<Response, ApiError> {
    let customer_id = query
        .customer_id
        .filter(|c| !c.is_empty())
        .ok_or_else(|| ApiError::field("customer_id", "This query parameter is required."))?;
    if query.feature_id.as_deref() == Some("") {
        return Err(ApiError::field("feature_id", "Must not be empty."));
    }
    let entitlements = app
        .store()
        .entitlements(&customer_id, query.feature_id.as_deref())?;
    Ok(answer(StatusCode::OK, &entitlements))
}
