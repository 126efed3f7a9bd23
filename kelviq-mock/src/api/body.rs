//! Bodies checked against the document's field table (`kelviq_gen::wire_table`, generated
//! from the document with the client): a field the document does not name is refused with
//! a 400 naming it (ignored with `--lenient`, as the service likely does), `null` where the
//! document does not allow it is refused, and either spelling of a name is taken (the
//! service turns camelCase keys into snake_case), but not both at once.

use kelviq_gen::wire_table::{Field, Shape};
use serde_json::{Map, Value};

use crate::error::ApiError;

/// Checks `value` against `fields`, renaming each key to the document's spelling.
pub(crate) fn conform(
    fields: &[Field],
    value: &mut Value,
    lenient: bool,
    at: &str,
) -> Result<(), ApiError> {
    let Value::Object(given) = value else {
        // An array would decode into a type of the document field by field (serde reads a
        // struct from a sequence), so it is refused here; anything else, decoding names
        // what it should have been.
        if value.is_array() {
            let name = at.trim_end_matches('.');
            return Err(ApiError::field(
                if name.is_empty() { "body" } else { name },
                "Expected an object, found an array.",
            ));
        }
        return Ok(());
    };
    let mut kept = Map::new();
    let mut spelled = std::collections::HashMap::new();
    for (key, mut item) in std::mem::take(given) {
        let field = fields
            .iter()
            .find(|f| f.name == key)
            .or_else(|| fields.iter().find(|f| other_spelling(f.name) == key));
        let Some(field) = field else {
            if lenient {
                continue;
            }
            return Err(ApiError::field(
                format!("{at}{key}"),
                "Unknown field: the document does not name it.",
            ));
        };
        let name = format!("{at}{}", field.name);
        if let Some(first) = spelled.insert(field.name, key.clone()) {
            return Err(ApiError::field(
                name,
                format!("Given twice, as {first:?} and {key:?}: give one."),
            ));
        }
        if item.is_null() {
            if !field.nullable {
                return Err(ApiError::field(name, "This field may not be null."));
            }
        } else {
            match field.shape {
                // The document's integers are int64: a larger one is refused by name
                // (decoded into an unsigned type, it would pass).
                Shape::Value if item.as_u64().is_some_and(|n| i64::try_from(n).is_err()) => {
                    return Err(ApiError::field(
                        name,
                        format!("{item} is beyond int64 (at most {}).", i64::MAX),
                    ));
                }
                Shape::Value => {}
                Shape::Pattern(pattern) => {
                    if let Value::String(text) = &item {
                        if !matches(pattern, text) {
                            return Err(ApiError::field(
                                name,
                                format!("{text:?} does not match the pattern {pattern}."),
                            ));
                        }
                    }
                }
                Shape::Object(inner) => conform(inner, &mut item, lenient, &format!("{name}."))?,
                Shape::ArrayOf(inner) => {
                    if let Value::Array(items) = &mut item {
                        for (i, element) in items.iter_mut().enumerate() {
                            conform(inner, element, lenient, &format!("{name}[{i}]."))?;
                        }
                    }
                }
            }
        }
        kept.insert(field.name.to_owned(), item);
    }
    *given = kept;
    Ok(())
}

/// Whether `text` matches the document's `pattern` (ECMA-262, which `regress` implements).
/// A pattern that does not compile matches everything: the document is checked elsewhere.
fn matches(pattern: &str, text: &str) -> bool {
    regress::Regex::new(pattern).map_or(true, |regex| regex.find(text).is_some())
}

/// `customer_id` for `customerId` and the other way round.
fn other_spelling(name: &str) -> String {
    if name.contains('_') {
        let mut out = String::with_capacity(name.len());
        let mut upper = false;
        for c in name.chars() {
            if c == '_' {
                upper = true;
            } else if upper {
                out.extend(c.to_uppercase());
                upper = false;
            } else {
                out.push(c);
            }
        }
        out
    } else {
        let mut out = String::with_capacity(name.len() + 4);
        for c in name.chars() {
            if c.is_ascii_uppercase() {
                out.push('_');
                out.push(c.to_ascii_lowercase());
            } else {
                out.push(c);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const ADDRESS: &[Field] = &[Field {
        name: "postalCode",
        required: false,
        nullable: false,
        shape: Shape::Value,
    }];
    const FIELDS: &[Field] = &[
        Field {
            name: "customer_id",
            required: true,
            nullable: false,
            shape: Shape::Value,
        },
        Field {
            name: "line2",
            required: false,
            nullable: true,
            shape: Shape::Value,
        },
        Field {
            name: "billingAddress",
            required: false,
            nullable: false,
            shape: Shape::Object(ADDRESS),
        },
    ];

    fn check(mut body: Value, lenient: bool) -> Result<Value, String> {
        conform(FIELDS, &mut body, lenient, "")
            .map_err(|e| e.errors.keys().next().cloned().unwrap_or_default())?;
        Ok(body)
    }

    #[test]
    fn either_spelling_is_taken_and_renamed() {
        let body = check(
            json!({"customerId": "c", "billing_address": {"postal_code": "1"}}),
            false,
        )
        .unwrap();
        assert_eq!(
            body,
            json!({"customer_id": "c", "billingAddress": {"postalCode": "1"}})
        );
    }

    #[test]
    fn unknown_fields_nulls_and_both_spellings_are_refused_by_name() {
        assert_eq!(
            check(json!({"customer_id": "c", "colour": 1}), false).unwrap_err(),
            "colour"
        );
        assert_eq!(
            check(json!({"customer_id": "c", "colour": 1}), true).unwrap(),
            json!({"customer_id": "c"})
        );
        assert_eq!(
            check(json!({"customer_id": null}), false).unwrap_err(),
            "customer_id"
        );
        assert!(
            check(json!({"customer_id": "c", "line2": null}), false).is_ok(),
            "nullable"
        );
        assert_eq!(
            check(json!({"customer_id": "c", "customerId": "d"}), false).unwrap_err(),
            "customer_id"
        );
        assert_eq!(
            check(
                json!({"customer_id": "c", "billingAddress": {"zip": "1"}}),
                false
            )
            .unwrap_err(),
            "billingAddress.zip"
        );
    }

    #[test]
    fn an_array_where_an_object_belongs_is_refused_by_name() {
        assert_eq!(
            check(json!({"customer_id": "c", "billingAddress": [null]}), false).unwrap_err(),
            "billingAddress"
        );
        assert_eq!(check(json!([null, null]), true).unwrap_err(), "body");
    }
}
