//! Partner organisations (the document's `partner` family), authenticated with
//! `X-Kelviq-Partner-Key` instead of a bearer API key: each partner key sees only the
//! organisations it provisioned.

use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use kelviq_gen::partner::types as wire;

use super::{answer, Params, WireJson};
use crate::error::ApiError;
use crate::App;

/// The header a partner authenticates with.
pub(crate) const PARTNER_KEY_HEADER: &str = "x-kelviq-partner-key";

/// The operations authenticated with the partner key, not the bearer API key.
pub(crate) const OPERATIONS: [&str; 4] = [
    "provisionPartnerOrganization",
    "listPartnerOrganizations",
    "retrievePartnerOrganization",
    "retrievePartnerOrganizationByExternalId",
];

/// The partner routes.
pub(super) fn routes() -> Router<App> {
    Router::new()
        .route("/api/v1/partner/organizations/", get(list).post(provision))
        .route(
            "/api/v1/partner/organizations/by-external-id/{external_id}/",
            get(retrieve_by_external_id),
        )
        .route("/api/v1/partner/organizations/{identifier}/", get(retrieve))
}

/// The partner key a request was authenticated with, put in its extensions by the gate.
#[derive(Debug, Clone)]
pub(crate) struct PartnerKey(pub(crate) String);

impl<S: Send + Sync> FromRequestParts<S> for PartnerKey {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<PartnerKey>()
            .cloned()
            .ok_or_else(|| {
                ApiError::status(
                    StatusCode::UNAUTHORIZED,
                    "Authentication credentials were not provided.",
                )
            })
    }
}

/// The partner key of a request: any non-empty value of `X-Kelviq-Partner-Key` (the
/// emulator does not insist on the `kvqp_` prefix the service's keys have, as it takes any
/// bearer key).
pub(crate) fn partner_key(headers: &axum::http::HeaderMap) -> Result<String, ApiError> {
    headers
        .get(PARTNER_KEY_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
        .ok_or_else(|| {
            ApiError::status(
                StatusCode::UNAUTHORIZED,
                "Authentication credentials were not provided.",
            )
        })
}

async fn provision(
    State(app): State<App>,
    PartnerKey(key): PartnerKey,
    WireJson(request): WireJson<wire::ProvisionPartnerOrganizationRequest>,
) -> Result<Response, ApiError> {
    let organisation = app.store().partners.provision(&key, request)?;
    Ok(answer(StatusCode::CREATED, &organisation))
}

async fn list(
    State(app): State<App>,
    PartnerKey(key): PartnerKey,
    params: Params,
) -> Result<Response, ApiError> {
    let list = app
        .store()
        .partners
        .list(&key, params.nonempty("external_id")?);
    Ok(answer(StatusCode::OK, &list))
}

async fn retrieve(
    State(app): State<App>,
    PartnerKey(key): PartnerKey,
    Path(identifier): Path<String>,
) -> Result<Response, ApiError> {
    let organisation = app.store().partners.retrieve(&key, &identifier)?;
    Ok(answer(StatusCode::OK, &organisation))
}

async fn retrieve_by_external_id(
    State(app): State<App>,
    PartnerKey(key): PartnerKey,
    Path(external_id): Path<String>,
) -> Result<Response, ApiError> {
    let organisation = app
        .store()
        .partners
        .retrieve_by_external_id(&key, &external_id)?;
    Ok(answer(StatusCode::OK, &organisation))
}
