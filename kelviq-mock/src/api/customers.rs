//! `POST /api/v1/customers/` and `PATCH /api/v1/customers/{customerId}/`.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use kelviq_gen::types as wire;
use serde_json::Value;

use super::{answer, WireJson};
use crate::error::ApiError;
use crate::App;

pub(super) async fn create(
    State(app): State<App>,
    WireJson(request): WireJson<wire::CreateCustomerRequest>,
) -> Result<Response, ApiError> {
    let customer = app.store().create_customer(request)?;
    Ok(answer(StatusCode::CREATED, &with_email(customer)))
}

pub(super) async fn update(
    State(app): State<App>,
    Path(customer_id): Path<String>,
    WireJson(request): WireJson<wire::UpdateCustomerRequest>,
) -> Result<Response, ApiError> {
    let customer = app.store().update_customer(&customer_id, request)?;
    Ok(answer(StatusCode::OK, &with_email(customer)))
}

/// The service always sends `email`, null when unset; the generated type leaves it out.
fn with_email(customer: wire::Customer) -> Value {
    let mut value = serde_json::to_value(customer).expect("a customer serializes");
    if let Some(object) = value.as_object_mut() {
        object.entry("email").or_insert(Value::Null);
    }
    value
}
