//! Charges, refunds, transactions and payment methods.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use kelviq_gen::types as wire;

use super::{answer, list_url, Params, TenantKey, WireJson};
use crate::error::ApiError;
use crate::state::MoneyFilter;
use crate::App;

pub(super) async fn create_charge(
    State(app): State<App>,
    TenantKey(key): TenantKey,
    WireJson(request): WireJson<wire::CreateChargeRequest>,
) -> Result<Response, ApiError> {
    let mut store = app.store();
    let (catalogue, tenant) = store.tenant(Some(&key));
    let charge = tenant.create_charge(catalogue, request)?;
    Ok(answer(StatusCode::CREATED, &charge))
}

pub(super) async fn create_refund(
    State(app): State<App>,
    TenantKey(key): TenantKey,
    WireJson(request): WireJson<wire::CreateRefundRequest>,
) -> Result<Response, ApiError> {
    let refund = app.store().tenant(Some(&key)).1.create_refund(request)?;
    Ok(answer(StatusCode::OK, &refund))
}

pub(super) async fn retrieve_refund(
    State(app): State<App>,
    TenantKey(key): TenantKey,
    Path(refund_id): Path<String>,
) -> Result<Response, ApiError> {
    let refund = app
        .store()
        .tenant(Some(&key))
        .1
        .retrieve_refund(&refund_id)?;
    Ok(answer(StatusCode::OK, &refund))
}

fn money_filter(params: &Params, statuses: &[&str]) -> Result<MoneyFilter, ApiError> {
    let status = params.text("status").map(str::to_owned);
    if let Some(status) = &status {
        if !statuses.contains(&status.as_str()) {
            return Err(ApiError::field(
                "status",
                format!("{status:?} is not one of {}.", statuses.join(", ")),
            ));
        }
    }
    Ok(MoneyFilter {
        search: params.text("search").map(str::to_owned),
        status,
        start_date: params.date("start_date")?,
        end_date: params.date("end_date")?,
    })
}

pub(super) async fn list_refunds(
    State(app): State<App>,
    TenantKey(key): TenantKey,
    headers: HeaderMap,
    params: Params,
) -> Result<Response, ApiError> {
    let (page, page_size) = params.paging()?;
    let filter = money_filter(
        &params,
        &["PENDING", "PROCESSING", "SUCCEEDED", "FAILED", "CANCELED"],
    )?;
    let list = app.store().tenant(Some(&key)).1.list_refunds(
        &filter,
        page,
        page_size,
        &list_url(&headers, "/api/v1/refunds/"),
    )?;
    Ok(answer(StatusCode::OK, &list))
}

pub(super) async fn list_transactions(
    State(app): State<App>,
    TenantKey(key): TenantKey,
    headers: HeaderMap,
    params: Params,
) -> Result<Response, ApiError> {
    let (page, page_size) = params.paging()?;
    let filter = money_filter(&params, &["success", "failure", "pending"])?;
    let list = app.store().tenant(Some(&key)).1.list_transactions(
        &filter,
        page,
        page_size,
        &list_url(&headers, "/api/v1/transaction/"),
    )?;
    Ok(answer(StatusCode::OK, &list))
}

pub(super) async fn list_payment_methods(
    State(app): State<App>,
    TenantKey(key): TenantKey,
    headers: HeaderMap,
    params: Params,
) -> Result<Response, ApiError> {
    let (page, page_size) = params.paging()?;
    let list = app.store().tenant(Some(&key)).1.list_payment_methods(
        params.nonempty("customer_id")?,
        params.email("customer_email")?,
        page,
        page_size,
        &list_url(&headers, "/api/v1/payment-methods/"),
    )?;
    Ok(answer(StatusCode::OK, &list))
}
