//! `POST /api/v1/report/usage/` and `POST /api/v1/report/event/`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use kelviq_gen::types as wire;

use super::{answer, TenantKey, WireJson};
use crate::error::ApiError;
use crate::log::AppliedUsage;
use crate::App;

pub(super) async fn report_usage(
    State(app): State<App>,
    TenantKey(key): TenantKey,
    WireJson(request): WireJson<wire::ReportUsageRequest>,
) -> Result<Response, ApiError> {
    let mut store = app.store();
    let (catalogue, tenant) = store.tenant(Some(&key));
    let report = tenant.report_usage(catalogue, request)?;
    store.applied_usage.push(AppliedUsage {
        customer_id: report.customer_id.clone(),
        feature_id: report.feature_id.clone(),
        behaviour: report.behaviour.clone(),
        value: report.value,
    });
    Ok(answer(StatusCode::OK, &report))
}

pub(super) async fn report_event(
    State(app): State<App>,
    TenantKey(key): TenantKey,
    WireJson(request): WireJson<wire::ReportEventRequest>,
) -> Result<Response, ApiError> {
    let mut store = app.store();
    let (catalogue, tenant) = store.tenant(Some(&key));
    let report = tenant.report_event(catalogue, request)?;
    Ok(answer(StatusCode::OK, &report))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::{Fault, FaultKind, MockServer};

    /// The log of applied reports holds what changed the usage, also when a fault then hid
    /// the answer, and nothing a fault answered instead of serving.
    #[tokio::test]
    async fn applied_reports_are_logged_in_order_whatever_the_answer() {
        let server = MockServer::start().await.unwrap();
        // After the server: it installs a crypto provider where a build needs one.
        let http = reqwest::Client::new();
        let post = |path: &str, body: serde_json::Value| {
            http.post(format!("{}{path}", server.url()))
                .header("authorization", "Bearer sk_test")
                .json(&body)
                .send()
        };
        post("/api/v1/customers/", json!({"customer_id": "c"}))
            .await
            .unwrap();
        let report = |value: i64| json!({"value": value, "customerId": "c", "featureId": "api-usage", "behaviour": "SET"});
        for (value, fault) in [
            (1, Some(FaultKind::ApplyThenStatus { status: 502 })),
            (2, Some(FaultKind::status(503))),
            (3, Some(FaultKind::Malformed)),
            (4, None),
        ] {
            if let Some(fault) = fault {
                server.inject(Fault::new("reportUsage", 1, fault)).unwrap();
            }
            post("/api/v1/report/usage/", report(value)).await.unwrap();
        }
        let applied: Vec<i64> = server.applied_usage().iter().map(|a| a.value).collect();
        assert_eq!(applied, [1, 4]);
        let over_http: serde_json::Value = http
            .get(format!("{}/_mock/usage/applied", server.url()))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(
            over_http[1],
            json!({"customerId": "c", "featureId": "api-usage", "behaviour": "SET", "value": 4})
        );
    }
}
