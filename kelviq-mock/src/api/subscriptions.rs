//! `/api/v1/subscriptions/…`: list, create, retrieve, update, preview, cancel.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use kelviq_gen::types as wire;

use super::{answer, list_url, Params, TenantKey, WireJson};
use crate::error::ApiError;
use crate::state::SubscriptionFilter;
use crate::App;

pub(super) async fn list(
    State(app): State<App>,
    TenantKey(key): TenantKey,
    headers: HeaderMap,
    params: Params,
) -> Result<Response, ApiError> {
    let (page, page_size) = params.paging()?;
    let filter = SubscriptionFilter {
        customer_id: params.nonempty("customer_id")?.map(str::to_owned),
        statuses: params
            .text("status")
            .map(|s| s.split(',').map(|s| s.trim().to_owned()).collect()),
        start_date_after: params.date("start_date_after")?,
        start_date_before: params.date("start_date_before")?,
        modified_on_after: params.instant("modified_on_after")?,
        modified_on_before: params.instant("modified_on_before")?,
    };
    let mut store = app.store();
    let (catalogue, tenant) = store.tenant(Some(&key));
    let list = tenant.list_subscriptions(
        catalogue,
        &filter,
        page,
        page_size,
        &list_url(&headers, "/api/v1/subscriptions/"),
    )?;
    Ok(answer(StatusCode::OK, &list))
}

pub(super) async fn create(
    State(app): State<App>,
    TenantKey(key): TenantKey,
    WireJson(request): WireJson<wire::CreateSubscriptionRequest>,
) -> Result<Response, ApiError> {
    let mut store = app.store();
    let (catalogue, tenant) = store.tenant(Some(&key));
    let created = tenant
        .create_subscription(catalogue, request)
        .map_err(|e| {
            e.renamed("planIdentifier", "plan_identifier")
                .renamed("chargePeriod", "charge_period")
        })?;
    Ok(answer(StatusCode::CREATED, &created))
}

pub(super) async fn retrieve(
    State(app): State<App>,
    TenantKey(key): TenantKey,
    Path(subscription_id): Path<String>,
) -> Result<Response, ApiError> {
    let mut store = app.store();
    let (catalogue, tenant) = store.tenant(Some(&key));
    let found = tenant.retrieve_subscription(catalogue, &subscription_id)?;
    Ok(answer(StatusCode::OK, &found))
}

pub(super) async fn update(
    State(app): State<App>,
    TenantKey(key): TenantKey,
    Path(subscription_id): Path<String>,
    WireJson(request): WireJson<wire::UpdateSubscriptionRequest>,
) -> Result<Response, ApiError> {
    let mut store = app.store();
    let (catalogue, tenant) = store.tenant(Some(&key));
    let updated = tenant
        .update_subscription(catalogue, &subscription_id, request)
        .map_err(|e| e.renamed("chargePeriod", "charge_period"))?;
    Ok(answer(StatusCode::OK, &updated))
}

pub(super) async fn preview(
    State(app): State<App>,
    TenantKey(key): TenantKey,
    Path(subscription_id): Path<String>,
    WireJson(request): WireJson<wire::PreviewSubscriptionUpdateRequest>,
) -> Result<Response, ApiError> {
    let mut store = app.store();
    let (catalogue, tenant) = store.tenant(Some(&key));
    let preview = tenant
        .preview_subscription_update(catalogue, &subscription_id, request)
        .map_err(|e| e.renamed("chargePeriod", "charge_period"))?;
    Ok(answer(StatusCode::OK, &preview))
}

pub(super) async fn cancel(
    State(app): State<App>,
    TenantKey(key): TenantKey,
    Path(subscription_id): Path<String>,
    WireJson(request): WireJson<wire::CancelSubscriptionRequest>,
) -> Result<Response, ApiError> {
    let mut store = app.store();
    let (catalogue, tenant) = store.tenant(Some(&key));
    let cancelled = tenant.cancel_subscription(catalogue, &subscription_id, request)?;
    Ok(answer(StatusCode::OK, &cancelled))
}
