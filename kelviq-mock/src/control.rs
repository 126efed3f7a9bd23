//! The control surface for tests in any language, under `/_mock/`, a prefix the Kelviq API
//! does not use. No authentication needed: it is the test's side of the emulator. State
//! lives per API key (tenant); a control request acts for the key in its
//! `Authorization: Bearer …` header when it has one, otherwise for the default tenant (the
//! first configured key, or the only one used). When the emulator was started with
//! `--api-key`, a control request carrying a key that is not one of them is answered 401
//! as the API answers it, rather than making an environment no API request can reach.
//!
//! | method and path | does |
//! |---|---|
//! | `POST /_mock/reset` | forget every tenant, the log, deliveries and faults, and stop retrying the events sent before; keep the catalogue |
//! | `PUT /_mock/catalog` | replace every environment's catalogue (body: a pricing-as-code file, `kelviq.config.json`; TOML with `Content-Type: application/toml`) |
//! | `PUT /_mock/fixtures` | gone with the JSON fixtures format: answers 410, pointing at `/_mock/catalog` |
//! | `POST /_mock/entitlements` | grant an entitlement directly (body: [`Grant`]) |
//! | `GET` or `POST /_mock/checkout/{sessionId}` | complete a checkout (any tenant's); answers the new subscription |
//! | `GET /_mock/requests`, `DELETE /_mock/requests` | read or clear the log of API requests |
//! | `GET /_mock/customers/{customerId}/usage` | the customer's usage per feature this month |
//! | `GET /_mock/usage/applied` | every usage report applied, in order, every tenant (see [`AppliedUsage`](crate::AppliedUsage)) |
//! | `GET /_mock/customers/{customerId}/subscriptions` | the customer's subscriptions |
//! | `GET /_mock/customers/{customerId}/orders` | the customer's orders (to refund) |
//! | `GET /_mock/customers/{customerId}/licenses` | the customer's license keys |
//! | `POST /_mock/faults`, `DELETE /_mock/faults` | inject faults (body: [`Fault`]) or clear them |
//! | `POST /_mock/webhooks` | send the tenant's webhooks to an endpoint (body: [`Endpoint`]: `url`, `secret`) |
//! | `GET /_mock/webhooks/deliveries` | every delivery attempt, oldest first |
//! | `GET` or `PUT /_mock/webhooks/retry-interval` | the pause between delivery attempts (body: `{"interval": "200ms"}`; see [`parse_interval`](crate::webhooks::parse_interval)) |
//! | `PUT /_mock/promotions/{promotionId}` | make `getPromotion` answer it (body: `{"percentage": 40, "code": "SPRING"}`), for every key |

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde_json::json;

use crate::catalogue::Catalogue;
use crate::error::ApiError;
use crate::faults::Fault;
use crate::state::{Grant, Tenant};
use crate::webhooks::Endpoint;
use crate::App;

pub(crate) fn router(app: App) -> Router {
    Router::new()
        .route("/_mock/reset", post(reset))
        .route("/_mock/catalog", put(catalog))
        .route("/_mock/fixtures", put(fixtures_gone))
        .route("/_mock/entitlements", post(grant))
        .route(
            "/_mock/checkout/{session_id}",
            get(complete_checkout).post(complete_checkout),
        )
        .route("/_mock/requests", get(requests).delete(clear_requests))
        .route("/_mock/customers/{customer_id}/usage", get(usage))
        .route("/_mock/usage/applied", get(applied_usage))
        .route(
            "/_mock/customers/{customer_id}/subscriptions",
            get(subscriptions),
        )
        .route("/_mock/customers/{customer_id}/orders", get(orders))
        .route("/_mock/customers/{customer_id}/licenses", get(licenses))
        .route("/_mock/faults", post(inject).delete(clear_faults))
        .route("/_mock/webhooks", post(add_webhook))
        .route("/_mock/webhooks/deliveries", get(deliveries))
        .route(
            "/_mock/webhooks/retry-interval",
            get(retry_interval).put(set_retry_interval),
        )
        .route("/_mock/promotions/{promotion_id}", put(set_promotion))
        .route(
            "/_mock/portal/",
            get(|| async { "The customer billing portal (kelviq-mock)." }),
        )
        .route(
            "/_mock/health",
            get(|| async { Json(json!({"status": "ok"})) }),
        )
        .layer(axum::middleware::from_fn_with_state(app.clone(), known_key))
        .with_state(app)
}

/// Refuses a control request whose bearer key is not one the emulator accepts (401, as
/// the API answers it); one without a key acts for the default tenant.
async fn known_key(
    State(app): State<App>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    if let Some(key) = crate::api::bearer(request.headers()) {
        if !app.api_keys.is_empty() && !app.api_keys.iter().any(|k| k == key) {
            return ApiError::status(
                StatusCode::UNAUTHORIZED,
                "Invalid API key: not one of the emulator's --api-key keys.",
            )
            .into_response();
        }
    }
    next.run(request).await
}

/// Runs `f` for the tenant the control request names (or the default one), then sends the
/// webhooks for what it changed.
fn for_tenant<T>(
    app: &App,
    headers: &HeaderMap,
    f: impl FnOnce(&Catalogue, &mut Tenant) -> T,
) -> T {
    let key = crate::api::bearer(headers).map(str::to_owned);
    let result = {
        let mut store = app.store();
        let (catalogue, tenant) = store.tenant(key.as_deref());
        f(catalogue, tenant)
    };
    crate::webhooks::dispatch(app);
    result
}

async fn reset(State(app): State<App>) -> StatusCode {
    app.store().reset();
    StatusCode::NO_CONTENT
}

/// `PUT /_mock/catalog`: a pricing-as-code file replaces every environment's catalogue.
async fn catalog(
    State(app): State<App>,
    headers: HeaderMap,
    body: String,
) -> Result<StatusCode, ApiError> {
    let toml = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("toml"));
    let parsed = if toml {
        kelviq_config::parse_toml(&body, "the request body")
    } else {
        kelviq_config::parse_json(&body, "the request body")
    };
    let catalog = parsed.map_err(|e| ApiError::field("catalog", e.to_string()))?;
    let start = crate::state::Start::new(catalog).map_err(|e| ApiError::field("catalog", e))?;
    app.store().replace_catalog(start);
    Ok(StatusCode::NO_CONTENT)
}

/// `PUT /_mock/fixtures`: the retired JSON fixtures format.
async fn fixtures_gone() -> ApiError {
    ApiError::status(
        StatusCode::GONE,
        "The JSON fixtures format is gone: PUT a pricing-as-code catalogue (the JSON form of \
         kelviq.config.toml, or TOML with Content-Type: application/toml) to /_mock/catalog.",
    )
}

async fn grant(State(app): State<App>, headers: HeaderMap, Json(grant): Json<Grant>) -> StatusCode {
    for_tenant(&app, &headers, |_, tenant| tenant.grant(grant));
    StatusCode::NO_CONTENT
}

async fn complete_checkout(
    State(app): State<App>,
    Path(session_id): Path<String>,
) -> Result<Response, ApiError> {
    let completed = app.store().complete_checkout(&session_id);
    crate::webhooks::dispatch(&app);
    Ok(Json(completed?).into_response())
}

async fn requests(State(app): State<App>) -> Response {
    Json(app.store().log.to_vec()).into_response()
}

async fn clear_requests(State(app): State<App>) -> StatusCode {
    app.store().log.clear();
    StatusCode::NO_CONTENT
}

async fn applied_usage(State(app): State<App>) -> Response {
    Json(app.store().applied_usage.to_vec()).into_response()
}

async fn usage(
    State(app): State<App>,
    headers: HeaderMap,
    Path(customer_id): Path<String>,
) -> Response {
    Json(for_tenant(&app, &headers, |_, t| t.usage_of(&customer_id))).into_response()
}

async fn subscriptions(
    State(app): State<App>,
    headers: HeaderMap,
    Path(customer_id): Path<String>,
) -> Response {
    Json(for_tenant(&app, &headers, |_, t| {
        t.subscriptions_of(&customer_id)
    }))
    .into_response()
}

async fn orders(
    State(app): State<App>,
    headers: HeaderMap,
    Path(customer_id): Path<String>,
) -> Response {
    Json(for_tenant(&app, &headers, |_, t| t.orders_of(&customer_id))).into_response()
}

async fn licenses(
    State(app): State<App>,
    headers: HeaderMap,
    Path(customer_id): Path<String>,
) -> Response {
    Json(for_tenant(&app, &headers, |_, t| {
        t.license_keys_of(&customer_id)
    }))
    .into_response()
}

async fn inject(State(app): State<App>, Json(fault): Json<Fault>) -> Result<StatusCode, ApiError> {
    let fault = fault
        .checked()
        .map_err(|e| ApiError::field("operation", e.to_string()))?;
    app.store().faults.push(fault);
    Ok(StatusCode::NO_CONTENT)
}

async fn clear_faults(State(app): State<App>) -> StatusCode {
    app.store().faults.clear();
    StatusCode::NO_CONTENT
}

async fn add_webhook(
    State(app): State<App>,
    headers: HeaderMap,
    Json(endpoint): Json<Endpoint>,
) -> Result<StatusCode, ApiError> {
    if reqwest::Url::parse(&endpoint.url).is_err() {
        return Err(ApiError::field("url", "An absolute URL is required."));
    }
    for_tenant(&app, &headers, |_, tenant| tenant.endpoints.push(endpoint));
    Ok(StatusCode::NO_CONTENT)
}

/// The body of `PUT /_mock/promotions/{promotionId}`.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct PromotionBody {
    percentage: f64,
    code: String,
}

async fn set_promotion(
    State(app): State<App>,
    Path(promotion_id): Path<String>,
    Json(body): Json<PromotionBody>,
) -> Result<StatusCode, ApiError> {
    if !body.percentage.is_finite() || !(0.0..=100.0).contains(&body.percentage) {
        return Err(ApiError::field("percentage", "A number from 0 to 100."));
    }
    app.store().promotions.insert(
        promotion_id,
        crate::state::promotion(body.percentage, &body.code),
    );
    Ok(StatusCode::NO_CONTENT)
}

async fn deliveries(State(app): State<App>) -> Response {
    Json(app.store().deliveries.to_vec()).into_response()
}

/// The body of `PUT /_mock/webhooks/retry-interval`, and the answer of its `GET`.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RetryInterval {
    interval: String,
}

async fn retry_interval(State(app): State<App>) -> Response {
    let millis = app.retry_interval().as_millis();
    Json(json!({"interval": format!("{millis}ms")})).into_response()
}

async fn set_retry_interval(
    State(app): State<App>,
    Json(body): Json<RetryInterval>,
) -> Result<StatusCode, ApiError> {
    let interval = crate::webhooks::parse_interval(&body.interval)
        .map_err(|e| ApiError::field("interval", e))?;
    app.set_retry_interval(interval);
    Ok(StatusCode::NO_CONTENT)
}
