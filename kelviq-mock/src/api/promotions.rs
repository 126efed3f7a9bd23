//! `GET /api/v1/promotions` (an edge-host operation, served here like entitlements):
//! the promotions set with [`MockServer::set_promotion`](crate::MockServer::set_promotion).
//!
//! The emulator resolves no location: it answers the promotion's configured discount, code
//! and banner, with no `country`/`countryCode` and every `security` check `false`, as the
//! document says. Promotions belong to the emulator, not to one API key: the service wants
//! the organisation's Client API Key here, which the emulator would take for another
//! tenant.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;

use super::{answer, Params};
use crate::error::ApiError;
use crate::App;

pub(super) async fn get(State(app): State<App>, params: Params) -> Result<Response, ApiError> {
    let id = params
        .text("promotion_id")
        .ok_or_else(|| ApiError::field("promotion_id", "This field is required."))?;
    let promotion = app
        .store()
        .promotions
        .get(id)
        .cloned()
        .ok_or_else(|| ApiError::not_found("Not found."))?;
    Ok(answer(StatusCode::OK, &promotion))
}
