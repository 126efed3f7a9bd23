//! Helpers shared by the end-to-end tests in `tests/tests/`: the OpenAPI document, a
//! validator of the emulator's answers against it, and an emulator on its own runtime.

pub mod child;
pub mod offline_queue;
pub mod proxy;
pub mod redis_deploy;
pub mod redis_server;

use std::collections::BTreeMap;
use std::path::PathBuf;

use kelviq_mock::{LoggedRequest, MockServer};
use serde_json::{json, Value};

/// The OpenAPI document, parsed into JSON values (so tests can walk it freely).
pub fn openapi_document() -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../openapi/kelviq.yaml");
    let text = std::fs::read_to_string(&path).expect("openapi/kelviq.yaml is readable");
    serde_yaml_ng::from_str(&text).expect("openapi/kelviq.yaml is valid YAML")
}

/// Follows a local `$ref` (`#/components/...`) until a value that is not a reference.
pub fn resolve<'a>(document: &'a Value, value: &'a Value) -> &'a Value {
    let mut value = value;
    while let Some(reference) = value.get("$ref").and_then(|r| r.as_str()) {
        let pointer = reference
            .strip_prefix('#')
            .expect("only local references are used");
        value = document
            .pointer(pointer)
            .unwrap_or_else(|| panic!("dangling reference {reference}"));
    }
    value
}

/// OpenAPI 3.0's `nullable: true` is not JSON Schema: turn it into a `null` type (or, on a
/// schema without a type, such as a nullable `allOf`, an `anyOf` with `null`).
fn to_json_schema(value: &mut Value) {
    match value {
        Value::Object(object) => {
            object.remove("example");
            object.values_mut().for_each(to_json_schema);
            if object.remove("nullable") == Some(Value::Bool(true)) {
                match object.get("type").cloned() {
                    Some(Value::String(kind)) => {
                        object.insert("type".into(), json!([kind, "null"]));
                    }
                    _ => {
                        let inner = Value::Object(std::mem::take(object));
                        object.insert("anyOf".into(), json!([{"type": "null"}, inner]));
                    }
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(to_json_schema),
        _ => {}
    }
}

/// Checks answers against the response schemas of the document, with a JSON Schema
/// validator (draft 2020-12, whose formats include `uuid`; the document uses no keyword whose
/// meaning changed since draft 4), formats included.
#[derive(Debug)]
pub struct ResponseSchemas {
    document: Value,
    /// operationId → status key (`2XX`, `400`, `5XX`, …) → schema reference.
    responses: BTreeMap<String, BTreeMap<String, String>>,
}

impl ResponseSchemas {
    pub fn load() -> Self {
        let document = openapi_document();
        let mut responses = BTreeMap::new();
        for item in document["paths"].as_object().unwrap().values() {
            for op in item
                .as_object()
                .unwrap()
                .values()
                .filter(|op| op.get("operationId").is_some())
            {
                let mut by_status = BTreeMap::new();
                for (status, response) in op["responses"].as_object().unwrap() {
                    let response = resolve(&document, response);
                    let schema = &response["content"]["application/json"]["schema"]["$ref"];
                    // A response documented without a body (a 204, a redirect): "".
                    let reference = schema.as_str().unwrap_or_default();
                    by_status.insert(status.clone(), reference.to_owned());
                }
                responses.insert(op["operationId"].as_str().unwrap().to_owned(), by_status);
            }
        }
        let mut document = document;
        to_json_schema(&mut document["components"]);
        Self {
            document,
            responses,
        }
    }

    /// The schema reference for `status` of `operation`, or an error saying it is not
    /// documented.
    fn schema_for(&self, operation: &str, status: u16) -> Result<&str, String> {
        let by_status = self
            .responses
            .get(operation)
            .ok_or_else(|| format!("no operation {operation}"))?;
        let key = match status {
            200..=299 => "2XX".to_owned(),
            500..=599 => "5XX".to_owned(),
            other => other.to_string(),
        };
        by_status
            .get(&key)
            .map(String::as_str)
            .ok_or_else(|| format!("{operation} does not document status {status}"))
    }

    /// Checks one answer; the error lists every violation.
    pub fn check(&self, operation: &str, status: u16, body: &Value) -> Result<(), String> {
        let reference = self.schema_for(operation, status)?;
        if reference.is_empty() {
            // Documented without a body: the answer must have none.
            return if body.is_null() {
                Ok(())
            } else {
                Err(format!(
                    "{operation} {status} has a body, documented without one"
                ))
            };
        }
        let schema = json!({ "$ref": reference, "components": self.document["components"] });
        let validator = jsonschema::options()
            .with_draft(jsonschema::Draft::Draft202012)
            .should_validate_formats(true)
            .build(&schema)
            .map_err(|e| format!("the document's schema {reference} does not compile: {e}"))?;
        let errors: Vec<String> = validator
            .iter_errors(body)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        if errors.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "{operation} {status} against {reference}: {}",
                errors.join("; ")
            ))
        }
    }

    /// Checks every answered request of a log; returns how many were checked.
    pub fn check_log(&self, log: &[LoggedRequest]) -> Result<usize, String> {
        let mut checked = 0;
        for request in log {
            let (Some(operation), Some(response)) = (&request.operation, &request.response) else {
                continue;
            };
            self.check(operation, response.status, &response.body)
                .map_err(|e| format!("{} {}: {e}", request.method, request.path))?;
            checked += 1;
        }
        Ok(checked)
    }
}

/// An emulator on a runtime of its own, so that tests can use the blocking client from a
/// plain thread and the async one through [`Emulator::run`].
#[derive(Debug)]
pub struct Emulator {
    pub runtime: tokio::runtime::Runtime,
    pub server: MockServer,
}

impl Emulator {
    pub fn start() -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a runtime");
        let server = runtime
            .block_on(MockServer::start())
            .expect("the emulator starts");
        Self { runtime, server }
    }

    pub fn run<T>(&self, future: impl std::future::Future<Output = T>) -> T {
        self.runtime.block_on(future)
    }

    pub fn builder(&self) -> kelviq::ClientBuilder {
        kelviq::Kelviq::builder("sk_test_e2e").base_url(self.server.url())
    }
}

/// The repository README's Rust examples, compiled as doctests so that they stay true.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct ReadmeDoctests;
