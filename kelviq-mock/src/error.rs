//! The error answers of the emulator, in the document's `Error` schema:
//! `{"detail": "…", "errors": {"field": ["message"]}}`.

use std::collections::BTreeMap;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

/// An error answer.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    /// The status.
    pub status: StatusCode,
    /// What went wrong.
    pub detail: String,
    /// The fields at fault, each with its messages (400 only).
    pub errors: BTreeMap<String, Vec<String>>,
}

impl ApiError {
    /// 400 naming `field`.
    pub fn field(field: impl Into<String>, message: impl Into<String>) -> Self {
        let field = field.into();
        let message = message.into();
        Self {
            status: StatusCode::BAD_REQUEST,
            detail: format!("Invalid request: {field}: {message}"),
            errors: BTreeMap::from([(field, vec![message])]),
        }
    }

    /// 404.
    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::status(StatusCode::NOT_FOUND, detail)
    }

    /// The same error naming `to` where it named `from`: for a rule shared by bodies that
    /// spell a field differently.
    pub fn renamed(mut self, from: &str, to: &str) -> Self {
        if let Some(messages) = self.errors.remove(from) {
            self.detail = self.detail.replace(from, to);
            self.errors.insert(to.to_owned(), messages);
        }
        self
    }

    /// Any status, with a detail and no fields.
    pub fn status(status: StatusCode, detail: impl Into<String>) -> Self {
        Self {
            status,
            detail: detail.into(),
            errors: BTreeMap::new(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = if self.errors.is_empty() {
            json!({ "detail": self.detail })
        } else {
            json!({ "detail": self.detail, "errors": self.errors })
        };
        (self.status, Json(body)).into_response()
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.status, self.detail)
    }
}

impl std::error::Error for ApiError {}
