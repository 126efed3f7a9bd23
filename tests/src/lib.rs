//! Helpers shared by the end-to-end tests in `tests/tests/`.

use std::path::PathBuf;

/// The OpenAPI document, parsed into JSON values (so tests can walk it freely).
pub fn openapi_document() -> serde_json::Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../openapi/kelviq.yaml");
    let text = std::fs::read_to_string(&path).expect("openapi/kelviq.yaml is readable");
    serde_yaml_ng::from_str(&text).expect("openapi/kelviq.yaml is valid YAML")
}

/// Follows a local `$ref` (`#/components/...`) until a value that is not a reference.
pub fn resolve<'a>(
    document: &'a serde_json::Value,
    value: &'a serde_json::Value,
) -> &'a serde_json::Value {
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
