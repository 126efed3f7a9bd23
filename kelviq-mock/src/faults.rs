//! Faults injected into the next requests of an operation, so that clients can be tested
//! against the failures a real network and service produce.
//!
//! A fault is set with `POST /_mock/faults` or [`MockServer::inject`](crate::MockServer::inject):
//!
//! ```json
//! {"operation": "reportUsage", "times": 2, "kind": "status", "status": 503, "retryAfter": 1}
//! {"operation": "getEntitlements", "times": 1, "kind": "delay", "ms": 1500}
//! {"operation": "getEntitlements", "times": 5, "kind": "status", "status": 503, "afterMs": 2000}
//! {"operation": "getEntitlements", "times": 1, "kind": "delayAnswer", "ms": 1500}
//! {"operation": "reportEvent", "times": 1, "kind": "drop"}
//! {"operation": "reportUsage", "times": 1, "kind": "applyThenStatus", "status": 502}
//! {"operation": "reportUsage", "times": 1, "kind": "applyThenDrop"}
//! {"operation": "createCustomer", "times": 1, "kind": "malformed"}
//! {"operation": "*", "times": 1, "kind": "empty"}
//! ```
//!
//! `operation` is an `operationId` of `openapi/kelviq.yaml`, or `*` for any; any other name
//! is refused (400 over HTTP, an error from [`MockServer::inject`](crate::MockServer::inject)),
//! so that a misspelt fault cannot pass for a healthy service. A delayed request is then
//! served normally, a `delayAnswer` served at once and answered late; `status`, `drop`, `malformed` and `empty` replace the answer without
//! touching the state; `applyThenStatus` and `applyThenDrop` serve the request (its effect
//! is kept, as when a service fails after committing) and then answer the status or close
//! the connection instead of the real answer.

use serde::{Deserialize, Serialize};

/// A fault for the next `times` requests of `operation`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Fault {
    /// An `operationId` of the document, or `*` for any operation.
    pub operation: String,
    /// How many requests it applies to.
    pub times: u32,
    /// What happens to them.
    #[serde(flatten)]
    pub kind: FaultKind,
}

/// What an injected fault does to a request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum FaultKind {
    /// Answer with this status (and `Retry-After`, when given) instead of serving the
    /// request. `body`, when given, is sent as `text/html`, as a proxy's error page would be;
    /// otherwise the document's JSON error.
    #[serde(rename_all = "camelCase")]
    Status {
        /// The status to answer with.
        status: u16,
        /// Seconds for `Retry-After`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        retry_after: Option<u64>,
        /// A non-JSON body.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        body: Option<String>,
        /// Milliseconds to wait before answering, as a struggling service would.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        after_ms: Option<u64>,
    },
    /// Wait this long, then serve the request normally.
    Delay {
        /// Milliseconds.
        ms: u64,
    },
    /// Serve the request at once (reading and changing the state as it arrives), then hold
    /// the answer back this long: a slow answer that reflects an earlier state.
    DelayAnswer {
        /// Milliseconds.
        ms: u64,
    },
    /// Close the connection without answering (after the request has arrived).
    Drop,
    /// Serve the request (its effect is kept), then answer this status instead.
    ApplyThenStatus {
        /// The status to answer with.
        status: u16,
    },
    /// Serve the request (its effect is kept), then close the connection without answering.
    ApplyThenDrop,
    /// Answer 200 with a body that is not valid JSON.
    Malformed,
    /// Answer 200 with an empty body.
    Empty,
}

impl FaultKind {
    /// Answer with `status` and the document's JSON error, no `Retry-After`.
    pub fn status(status: u16) -> Self {
        FaultKind::Status {
            status,
            retry_after: None,
            body: None,
            after_ms: None,
        }
    }
}

/// The operations a fault may name: the document's `operationId`s, from the table
/// generated with the client.
pub fn operations() -> impl Iterator<Item = &'static str> {
    kelviq_gen::wire_table::OPERATIONS.iter().map(|o| o.id)
}

/// A fault that names no operation of the document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownOperation(pub String);

impl std::fmt::Display for UnknownOperation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "no operation {:?}: expected \"*\" or one of {}",
            self.0,
            operations().collect::<Vec<_>>().join(", ")
        )
    }
}

impl std::error::Error for UnknownOperation {}

impl Fault {
    /// A fault for the next `times` requests of `operation`.
    pub fn new(operation: impl Into<String>, times: u32, kind: FaultKind) -> Self {
        Self {
            operation: operation.into(),
            times,
            kind,
        }
    }

    /// The fault, when it names `*` or an operation of the document.
    pub fn checked(self) -> Result<Self, UnknownOperation> {
        if self.operation == "*" || operations().any(|o| o == self.operation) {
            Ok(self)
        } else {
            Err(UnknownOperation(self.operation))
        }
    }

    fn applies_to(&self, operation: Option<&str>) -> bool {
        self.times > 0 && (self.operation == "*" || Some(self.operation.as_str()) == operation)
    }
}

/// Takes one use of the first fault that applies to `operation`.
pub(crate) fn take(faults: &mut Vec<Fault>, operation: Option<&str>) -> Option<FaultKind> {
    let index = faults.iter().position(|f| f.applies_to(operation))?;
    let fault = &mut faults[index];
    fault.times -= 1;
    let kind = fault.kind.clone();
    if fault.times == 0 {
        faults.remove(index);
    }
    Some(kind)
}

/// The operation of the document a request is for, by method and raw path: the template
/// that matches with the fewest path parameters (so `subscriptions/create/` is not taken for
/// a subscription id).
pub fn operation_of(method: &str, path: &str) -> Option<&'static str> {
    let segments: Vec<&str> = path.split('/').collect();
    kelviq_gen::wire_table::OPERATIONS
        .iter()
        .filter(|o| o.method == method)
        .filter_map(|o| {
            let template: Vec<&str> = o.path.split('/').collect();
            let matches = template.len() == segments.len()
                && template.iter().zip(&segments).all(|(t, s)| {
                    if t.starts_with('{') {
                        !s.is_empty()
                    } else {
                        t == s
                    }
                });
            matches.then(|| (template.iter().filter(|t| t.starts_with('{')).count(), o.id))
        })
        .min_by_key(|(params, _)| *params)
        .map(|(_, id)| id)
}

/// The fields of the operation's JSON body, as the document lists them.
pub fn body_fields(operation: &str) -> Option<&'static [kelviq_gen::wire_table::Field]> {
    kelviq_gen::wire_table::OPERATIONS
        .iter()
        .find(|o| o.id == operation)
        .and_then(|o| o.body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_are_used_up_in_order() {
        let mut faults = vec![
            Fault::new("reportUsage", 2, FaultKind::Drop),
            Fault::new("*", 1, FaultKind::Empty),
        ];
        assert_eq!(
            take(&mut faults, Some("getEntitlements")),
            Some(FaultKind::Empty)
        );
        assert_eq!(take(&mut faults, Some("getEntitlements")), None);
        assert_eq!(
            take(&mut faults, Some("reportUsage")),
            Some(FaultKind::Drop)
        );
        assert_eq!(
            take(&mut faults, Some("reportUsage")),
            Some(FaultKind::Drop)
        );
        assert_eq!(take(&mut faults, Some("reportUsage")), None);
    }

    #[test]
    fn paths_name_their_operations() {
        assert_eq!(
            operation_of("PATCH", "/api/v1/customers/a%2Fb/"),
            Some("updateCustomer")
        );
        assert_eq!(
            operation_of("GET", "/api/v1/entitlements"),
            Some("getEntitlements")
        );
        assert_eq!(
            operation_of("POST", "/api/v1/subscriptions/x/cancel/"),
            Some("cancelSubscription")
        );
        assert_eq!(
            operation_of("GET", "/api/v1/customers/"),
            Some("listCustomers")
        );
        assert_eq!(
            operation_of("POST", "/api/v1/subscriptions/create/"),
            Some("createSubscription")
        );
        assert_eq!(
            operation_of("POST", "/api/v1/subscriptions/s/update/preview/"),
            Some("previewSubscriptionUpdate")
        );
        assert_eq!(operation_of("PUT", "/api/v1/customers/"), None);
    }

    #[test]
    fn the_json_form_is_flat() {
        let fault: Fault = serde_json::from_str(
            r#"{"operation":"reportUsage","times":2,"kind":"status","status":503,"retryAfter":1}"#,
        )
        .unwrap();
        assert_eq!(
            fault.kind,
            FaultKind::Status {
                status: 503,
                retry_after: Some(1),
                body: None,
                after_ms: None,
            }
        );
    }

    #[test]
    fn an_unknown_operation_is_refused_by_name() {
        let error = Fault::new("reportUsages", 1, FaultKind::Drop)
            .checked()
            .unwrap_err();
        assert!(error.to_string().contains("\"reportUsages\""), "{error}");
        assert!(Fault::new("*", 1, FaultKind::Drop).checked().is_ok());
        for operation in operations() {
            assert!(Fault::new(operation, 1, FaultKind::Drop).checked().is_ok());
        }
    }
}
