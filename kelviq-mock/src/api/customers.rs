//! `/api/v1/customers/…` and `POST /api/v1/portal/session/`.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use kelviq_gen::types as wire;

use super::{answer, base_url, list_url, Params, TenantKey, WireJson};
use crate::error::ApiError;
use crate::App;

pub(super) async fn create(
    State(app): State<App>,
    TenantKey(key): TenantKey,
    WireJson(request): WireJson<wire::CreateCustomerRequest>,
) -> Result<Response, ApiError> {
    let customer = app.store().tenant(Some(&key)).1.create_customer(request)?;
    Ok(answer(StatusCode::CREATED, &customer))
}

pub(super) async fn update(
    State(app): State<App>,
    TenantKey(key): TenantKey,
    Path(customer_id): Path<String>,
    WireJson(request): WireJson<wire::UpdateCustomerRequest>,
) -> Result<Response, ApiError> {
    let customer = app
        .store()
        .tenant(Some(&key))
        .1
        .update_customer(&customer_id, request)?;
    Ok(answer(StatusCode::OK, &customer))
}

pub(super) async fn retrieve(
    State(app): State<App>,
    TenantKey(key): TenantKey,
    Path(customer_id): Path<String>,
) -> Result<Response, ApiError> {
    let customer = app
        .store()
        .tenant(Some(&key))
        .1
        .retrieve_customer(&customer_id)?;
    Ok(answer(StatusCode::OK, &customer))
}

pub(super) async fn archive(
    State(app): State<App>,
    TenantKey(key): TenantKey,
    Path(customer_id): Path<String>,
) -> Result<Response, ApiError> {
    let archived = app
        .store()
        .tenant(Some(&key))
        .1
        .archive_customer(&customer_id)?;
    Ok(answer(StatusCode::OK, &archived))
}

pub(super) async fn list(
    State(app): State<App>,
    TenantKey(key): TenantKey,
    headers: HeaderMap,
    params: Params,
) -> Result<Response, ApiError> {
    let (page, page_size) = params.paging()?;
    let list = app.store().tenant(Some(&key)).1.list_customers(
        params.text("search"),
        page,
        page_size,
        &list_url(&headers, "/api/v1/customers/"),
    )?;
    Ok(answer(StatusCode::OK, &list))
}

pub(super) async fn portal_session(
    State(app): State<App>,
    TenantKey(key): TenantKey,
    headers: HeaderMap,
    WireJson(request): WireJson<wire::CreatePortalSessionRequest>,
) -> Result<Response, ApiError> {
    let session = app
        .store()
        .tenant(Some(&key))
        .1
        .create_portal_session(request, &base_url(&headers))?;
    Ok(answer(StatusCode::OK, &session))
}
