//! Orders, checkout sessions, their timelines, and webhook delivery logs (the document's
//! `admin` family), read from what the emulator already holds: the checkout sessions it
//! created and completed, the orders every purchase recorded (with their refunds), and the
//! webhook deliveries it attempted.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::get;
use axum::Router;

use super::{answer, list_url, Params, TenantKey};
use crate::error::ApiError;
use crate::state::{OrderFilter, SessionFilter};
use crate::App;

/// The admin routes.
pub(super) fn routes() -> Router<App> {
    Router::new()
        .route("/api/v1/checkout/sessions/", get(list_sessions))
        .route(
            "/api/v1/checkout/sessions/{session_id}/",
            get(retrieve_session),
        )
        .route(
            "/api/v1/checkout/sessions/{session_id}/events/",
            get(list_session_events),
        )
        .route("/api/v1/orders/", get(list_orders))
        .route("/api/v1/orders/{id}/", get(retrieve_order))
        .route("/api/v1/orders/{id}/events/", get(list_order_events))
        .route("/api/v1/webhook/logs/", get(list_webhook_logs))
}

/// The page URL of a list, keeping its filters (every parameter but the page's own).
fn filtered_url(headers: &HeaderMap, path: &str, params: &Params, names: &[&str]) -> String {
    let base = list_url(headers, path);
    let kept: Vec<(&str, &str)> = names
        .iter()
        .filter_map(|name| params.text(name).map(|value| (*name, value)))
        .collect();
    if kept.is_empty() {
        base
    } else {
        format!(
            "{base}?{}",
            serde_urlencoded::to_string(kept).unwrap_or_default()
        )
    }
}

async fn list_sessions(
    State(app): State<App>,
    TenantKey(key): TenantKey,
    headers: HeaderMap,
    params: Params,
) -> Result<Response, ApiError> {
    let (page, page_size) = params.paging()?;
    let filter = SessionFilter {
        search: params.text("search").map(str::to_owned),
        status: params.text("status").map(str::to_owned),
        start_date: params.date("start_date")?,
        end_date: params.date("end_date")?,
    };
    let base = filtered_url(
        &headers,
        "/api/v1/checkout/sessions/",
        &params,
        &["search", "status", "start_date", "end_date"],
    );
    let list = app
        .store()
        .tenant(Some(&key))
        .1
        .list_checkout_sessions(&filter, page, page_size, &base)?;
    Ok(answer(StatusCode::OK, &list))
}

async fn retrieve_session(
    State(app): State<App>,
    TenantKey(key): TenantKey,
    Path(session_id): Path<String>,
) -> Result<Response, ApiError> {
    let mut store = app.store();
    let (catalogue, tenant) = store.tenant(Some(&key));
    let session = tenant.retrieve_checkout_session(catalogue, &session_id)?;
    Ok(answer(StatusCode::OK, &session))
}

async fn list_session_events(
    State(app): State<App>,
    TenantKey(key): TenantKey,
    headers: HeaderMap,
    params: Params,
    Path(session_id): Path<String>,
) -> Result<Response, ApiError> {
    let (page, page_size) = params.paging()?;
    let base = list_url(
        &headers,
        &format!("/api/v1/checkout/sessions/{session_id}/events/"),
    );
    let list = app
        .store()
        .tenant(Some(&key))
        .1
        .list_checkout_session_events(&session_id, page, page_size, &base)?;
    Ok(answer(StatusCode::OK, &list))
}

async fn list_orders(
    State(app): State<App>,
    TenantKey(key): TenantKey,
    headers: HeaderMap,
    params: Params,
) -> Result<Response, ApiError> {
    let (page, page_size) = params.paging()?;
    let status = params.text("status").map(str::to_owned);
    const STATUSES: [&str; 7] = [
        "PENDING",
        "COMPLETE",
        "FAILED",
        "REFUNDED",
        "PARTIAL_REFUND",
        "CANCELLED",
        "FRAUDULENT",
    ];
    if let Some(status) = &status {
        if !STATUSES.contains(&status.as_str()) {
            return Err(ApiError::field(
                "status",
                format!("{status:?} is not a valid choice."),
            ));
        }
    }
    let billing_type = params.text("billing_type").map(str::to_owned);
    if let Some(kind) = &billing_type {
        if kind != "ONE_TIME" && kind != "SUBSCRIPTION" {
            return Err(ApiError::field(
                "billing_type",
                format!("{kind:?} is not a valid choice."),
            ));
        }
    }
    let filter = OrderFilter {
        search: params.text("search").map(str::to_owned),
        status,
        billing_type,
        is_renewal: params.parse("is_renewal", "true or false")?,
        start_date: params.date("start_date")?,
        end_date: params.date("end_date")?,
    };
    let base = filtered_url(
        &headers,
        "/api/v1/orders/",
        &params,
        &[
            "search",
            "status",
            "billing_type",
            "is_renewal",
            "start_date",
            "end_date",
        ],
    );
    let mut store = app.store();
    let (catalogue, tenant) = store.tenant(Some(&key));
    let list = tenant.list_orders(catalogue, &filter, page, page_size, &base)?;
    Ok(answer(StatusCode::OK, &list))
}

async fn retrieve_order(
    State(app): State<App>,
    TenantKey(key): TenantKey,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let mut store = app.store();
    let (catalogue, tenant) = store.tenant(Some(&key));
    let order = tenant.retrieve_order(catalogue, &id)?;
    Ok(answer(StatusCode::OK, &order))
}

async fn list_order_events(
    State(app): State<App>,
    TenantKey(key): TenantKey,
    headers: HeaderMap,
    params: Params,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let (page, page_size) = params.paging()?;
    let base = list_url(&headers, &format!("/api/v1/orders/{id}/events/"));
    let list = app
        .store()
        .tenant(Some(&key))
        .1
        .list_order_events(&id, page, page_size, &base)?;
    Ok(answer(StatusCode::OK, &list))
}

async fn list_webhook_logs(
    State(app): State<App>,
    TenantKey(key): TenantKey,
    headers: HeaderMap,
    params: Params,
) -> Result<Response, ApiError> {
    let (page, page_size) = params.paging()?;
    let (start, end) = (params.date("start_date")?, params.date("end_date")?);
    let base = filtered_url(
        &headers,
        "/api/v1/webhook/logs/",
        &params,
        &["start_date", "end_date"],
    );
    let mut store = app.store();
    let endpoints = store.tenant(Some(&key)).1.endpoints.clone();
    let attempts = store.webhook_attempts.to_vec();
    let list =
        crate::webhooks::event_logs(&attempts, &endpoints, start, end, page, page_size, &base)?;
    Ok(answer(StatusCode::OK, &list))
}
