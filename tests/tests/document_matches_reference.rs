//! Our document, `openapi/kelviq.yaml`, against Kelviq's published API reference, operation by
//! operation and field by field.
//!
//! The reference is the reference copy `openapi/reference/kelviq-docs-openapi.json`, taken
//! byte for byte from `kelviq/docs` `api-reference/openapi.json` (its commit is in
//! `openapi/reference/README.md`). For every published operation (matched by method and path:
//! the reference's paths lack our `/api/v1` prefix, path parameters are compared by position
//! whatever their names, trailing slashes as published) this test checks, `$ref`s and `allOf`s
//! resolved on both sides:
//!
//! - the operation is in our document (all of them are counted, the missing ones named);
//! - parameters: the same names in the same places, `required`, and schemas of the same type,
//!   format and enum values;
//! - the request body: the same content types, property names, required set, and each
//!   property's type, format and enum, recursively into objects and array items;
//! - responses: every status the reference declares is in ours (an exact code or its `2XX`,
//!   `4XX`, `5XX` range), with the same content types and the same properties and types,
//!   recursively, and its headers; ours may declare more statuses. A status the reference
//!   documents without a body says nothing of the body of ours; integer widths
//!   (`int32`, `int64`) are not compared;
//! - security: the same schemes (compared by what they are: bearer, or the header they name);
//! - every example of the reference (request, response and parameter examples, and examples
//!   given on a whole body schema) validates against our schema for that operation, with a
//!   JSON Schema validator, formats included.
//!
//! Ours may be more precise than the reference (an enum or a format where it says string, an
//! integer where it says number): such refinements are allowed only when listed. Every intended
//! difference and every refinement is in [`ALLOWED`], with its operation, location and reason.
//! Anything else fails, and the message lists every finding (operation, location, the
//! reference's value, ours); an allowlist entry that no longer matches anything fails too.
//! `cargo test -p kelviq-tests --test document_matches_reference -- --nocapture` prints how
//! many findings each entry covers.
//!
//! To refresh the reference copy, run the one command in `openapi/reference/README.md`, note
//! the new commit there, and run this test.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use kelviq_tests::openapi_document;
use serde_json::{json, Map, Value};

const REFERENCE: &str = include_str!("../../openapi/reference/kelviq-docs-openapi.json");

/// The reference's servers end with `/api/v1`; our paths start with it.
const PREFIX: &str = "/api/v1";

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    /// Ours says something else than the reference.
    Differs,
    /// Ours is more precise than the reference (an enum, a format, an integer).
    Refines,
    /// The same field, spelled in snake_case by us and camelCase by the reference (or the
    /// other way round).
    Spelling,
}

/// An intended difference: the findings it covers, by their kind, operation (the reference's
/// `operationId`; `*` for any) and patterns of their location and of the two values as findings
/// print them. In a pattern `*` stands for any text without a `/`, `**` for any text.
struct Allowed {
    ops: &'static [&'static str],
    at: &'static str,
    kind: Kind,
    reference: &'static str,
    ours: &'static str,
    reason: &'static str,
}

/// THE allowlist: every intended difference between our document and the reference, and
/// every refinement. Reasons starting `GAP` are known shortcomings of our document, kept
/// visible here until fixed.
const ALLOWED: &[Allowed] = &[
    Allowed {
        ops: &["*"],
        at: "responses/4*/**",
        kind: Kind::Differs,
        reference: "**",
        ours: "**",
        reason: "every error status shares ApiError (one error type for generated clients), open to any key",
    },
    Allowed {
        ops: &["*"],
        at: "responses/5*/**",
        kind: Kind::Differs,
        reference: "**",
        ours: "**",
        reason: "every error status shares ApiError (one error type for generated clients), open to any key",
    },
    Allowed {
        ops: &["*"],
        at: "responses/*/application/json/type",
        kind: Kind::Refines,
        reference: "absent",
        ours: "object",
        reason: "the reference names no type for this body; ours says object",
    },
    Allowed {
        ops: &["*"],
        at: "responses/2*/**/enum",
        kind: Kind::Differs,
        reference: "**",
        ours: "absent",
        reason: "answers keep enumerated values open strings: the service adds values (wire: featureType FLAG)",
    },
    Allowed {
        ops: &["*"],
        at: "requestBody/**/nullable",
        kind: Kind::Differs,
        reference: "true",
        ours: "absent",
        reason: "optional request fields are left out, never sent as null (wire facts)",
    },
    Allowed {
        ops: &["createCustomer", "createSubscription", "updateSubscription", "cancelSubscription", "createCharge", "createRefund", "licenseActivate", "licenseDeactivate", "licenseValidate"],
        at: "requestBody/**",
        kind: Kind::Spelling,
        reference: "*",
        ours: "*",
        reason: "snake_case as the official client sends it (wire facts); the service accepts both",
    },
    Allowed {
        ops: &["*"],
        at: "**/format",
        kind: Kind::Differs,
        reference: r#""url""#,
        ours: "absent",
        reason: "`url` is no format of OpenAPI or JSON Schema; ours keeps a plain string",
    },
    Allowed {
        ops: &["*"],
        at: "**/format",
        kind: Kind::Differs,
        reference: r#""decimal""#,
        ours: "absent",
        reason: "`decimal` is no format of OpenAPI or JSON Schema; ours keeps a plain string",
    },
    Allowed {
        ops: &["*"],
        at: "parameters/path/*/schema/format",
        kind: Kind::Differs,
        reference: r#""uuid""#,
        ours: "absent",
        reason: "path identifiers are opaque: sent percent-encoded as given (wire facts)",
    },
    Allowed {
        ops: &["licenseActivate", "licenseDeactivate", "licenseValidate"],
        at: "**/application/json/properties/instanceId/format",
        kind: Kind::Differs,
        reference: r#""uuid""#,
        ours: "absent",
        reason: "instance ids are opaque: the activation's answer hands one out and deactivate and validate send it back as given; the reference's own example of all three (…5g6h) is no UUID",
    },
    Allowed {
        ops: &["createCustomer", "updateCustomer", "listCustomers"],
        at: "responses/2*/**/properties/*On/format",
        kind: Kind::Refines,
        reference: "absent",
        ours: r#""date-time""#,
        reason: "createdOn/modifiedOn are ISO date-times (wire facts)",
    },
    Allowed {
        ops: &["updateSubscription"],
        at: "responses/200/application/json/properties/subscriptionId/format",
        kind: Kind::Refines,
        reference: "absent",
        ours: r#""uuid""#,
        reason: "subscription ids are UUIDs, as the reference says everywhere else",
    },
    Allowed {
        ops: &["createCharge", "createSubscription"],
        at: "responses/2*/**/items/type",
        kind: Kind::Refines,
        reference: "absent",
        ours: "object",
        reason: "the entries are objects",
    },
    Allowed {
        ops: &["createCharge", "createSubscription", "listSubscriptions", "retrieveSubscription"],
        at: "responses/2*/**/product/oneOf",
        kind: Kind::Differs,
        reference: "*",
        ours: "oneOf of 2",
        reason: "the reference says object here, string there; the service sends either (wire facts)",
    },
    Allowed {
        ops: &["addCatalogPlanFeatures", "updateCatalogPlanFeature"],
        at: "requestBody/**/value/oneOf",
        kind: Kind::Differs,
        reference: "any",
        ours: "oneOf of 2",
        reason: "ours names the two forms of an entitlement value where the reference leaves it untyped",
    },
    Allowed {
        ops: &["deleteCatalogFeature", "deleteCatalogPlan", "deleteCatalogPlanFeature", "deleteCatalogProduct", "discardCatalogPlanDraft"],
        at: "responses/204/content",
        kind: Kind::Differs,
        reference: "[application/json]",
        ours: "2XX: []",
        reason: "a 204 has no body (HTTP); the reference gives it one",
    },
    Allowed {
        ops: &["getCustomerEntitlements"],
        at: "path",
        kind: Kind::Differs,
        reference: "/api/v1/entitlements/",
        ours: "/api/v1/entitlements",
        reason: "the official client calls it without the slash, on the edge host (wire facts)",
    },
    Allowed {
        ops: &["listSubscriptions"],
        at: "parameters/query/*",
        kind: Kind::Differs,
        reference: "absent",
        ours: "present",
        reason: "date filters sent by the official client (wire facts)",
    },
    Allowed {
        ops: &["addCatalogPlanFeatures"],
        at: "parameters/query/version",
        kind: Kind::Differs,
        reference: "present",
        ours: "absent",
        reason: "the reference's path-level `version` is for GET only, as it says",
    },
    Allowed {
        ops: &["createCharge", "createCheckoutSession", "updateSubscription", "reportUsage"],
        at: "requestBody/**",
        kind: Kind::Differs,
        reference: "absent",
        ours: "present",
        reason: "fields the official client sends (wire facts) that the reference leaves out",
    },
    Allowed {
        ops: &["createCharge", "createSubscription", "licenseActivate", "licenseValidate", "listSubscriptions", "retrieveSubscription", "getProductOffering", "updateCatalogPlanFeature", "reportUsage"],
        at: "responses/2*/**",
        kind: Kind::Differs,
        reference: "absent",
        ours: "present",
        reason: "answer fields observed on the wire that the reference leaves out",
    },
    Allowed {
        ops: &["listSubscriptions", "retrieveSubscription"],
        at: "responses/2*/**/features/items/properties/*",
        kind: Kind::Differs,
        reference: "present",
        ours: "absent",
        reason: "ours keeps subscription features open objects (the SDK hands them over as JSON maps)",
    },
    Allowed {
        ops: &["listTransactions"],
        at: "responses/2*/**/morFeeBreakdown/items/properties/*",
        kind: Kind::Differs,
        reference: "present",
        ours: "absent",
        reason: "ours keeps fee components open objects (the SDK hands them over as JSON maps)",
    },
    Allowed {
        ops: &["licenseActivate", "licenseValidate"],
        at: "responses/2*/**/plan/properties/product/properties/*",
        kind: Kind::Differs,
        reference: "present",
        ours: "absent",
        reason: "ours keeps a license plan's product an open object",
    },
];

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Finding {
    op: String,
    at: String,
    kind: Kind,
    reference: String,
    ours: String,
}

/// Whether `text` matches `pattern` (`*`: any text without `/`; `**`: any text).
fn glob(pattern: &str, text: &str) -> bool {
    if let Some(rest) = pattern.strip_prefix("**") {
        return (0..=text.len())
            .filter(|&i| text.is_char_boundary(i))
            .any(|i| glob(rest, &text[i..]));
    }
    if let Some(rest) = pattern.strip_prefix('*') {
        let end = text.find('/').unwrap_or(text.len());
        return (0..=end)
            .filter(|&i| text.is_char_boundary(i))
            .any(|i| glob(rest, &text[i..]));
    }
    match (pattern.chars().next(), text.chars().next()) {
        (None, None) => true,
        (Some(p), Some(t)) if p == t => glob(&pattern[p.len_utf8()..], &text[t.len_utf8()..]),
        _ => false,
    }
}

fn covers(allowed: &Allowed, finding: &Finding) -> bool {
    allowed.kind == finding.kind
        && allowed.ops.iter().any(|op| *op == "*" || *op == finding.op)
        && glob(allowed.at, &finding.at)
        && glob(allowed.reference, &finding.reference)
        && glob(allowed.ours, &finding.ours)
}

/// The two documents and the findings so far, for one operation at a time.
struct Compare<'a> {
    reference: &'a Value,
    ours: &'a Value,
    op: String,
    findings: Vec<Finding>,
}

fn short(value: &Value) -> String {
    let text = value.to_string();
    if text.len() > 120 {
        format!("{}…", text.chars().take(117).collect::<String>())
    } else {
        text
    }
}

/// Follows local `$ref`s.
fn resolve<'a>(document: &'a Value, value: &'a Value) -> &'a Value {
    let mut value = value;
    let mut hops = 0;
    while let Some(reference) = value.get("$ref").and_then(Value::as_str) {
        let pointer = reference.strip_prefix('#').expect("a local reference");
        value = document
            .pointer(pointer)
            .unwrap_or_else(|| panic!("dangling reference {reference}"));
        hops += 1;
        assert!(hops < 32, "a cycle of references at {reference}");
    }
    value
}

/// A schema with its `$ref` followed and its `allOf` merged (properties and required lists
/// united; other keywords from the first part that has them, the schema's own keywords last).
fn flatten(document: &Value, schema: &Value) -> Map<String, Value> {
    let schema = resolve(document, schema);
    let Some(object) = schema.as_object() else {
        return Map::new();
    };
    let mut merged = Map::new();
    if let Some(parts) = object.get("allOf").and_then(Value::as_array) {
        for part in parts {
            merge(&mut merged, flatten(document, part));
        }
    }
    let mut own = object.clone();
    own.remove("allOf");
    for (key, value) in own {
        match key.as_str() {
            "properties" | "required" => merge(&mut merged, Map::from_iter([(key, value)])),
            _ => {
                merged.insert(key, value);
            }
        }
    }
    merged
}

fn merge(into: &mut Map<String, Value>, part: Map<String, Value>) {
    for (key, value) in part {
        match (key.as_str(), into.get_mut(&key), value) {
            ("properties", Some(Value::Object(have)), Value::Object(more)) => have.extend(more),
            ("required", Some(Value::Array(have)), Value::Array(more)) => {
                for name in more {
                    if !have.contains(&name) {
                        have.push(name);
                    }
                }
            }
            (_, Some(_), _) => {}
            (_, None, value) => {
                into.insert(key, value);
            }
        }
    }
}

/// The type a schema declares, or implies by `properties` or `items`.
fn type_of(schema: &Map<String, Value>) -> Option<String> {
    match schema.get("type") {
        Some(Value::String(kind)) => Some(kind.clone()),
        _ if schema.contains_key("properties") => Some("object".into()),
        _ if schema.contains_key("items") => Some("array".into()),
        _ => None,
    }
}

fn snake(name: &str) -> String {
    let mut out = String::new();
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

fn camel(name: &str) -> String {
    let mut out = String::new();
    let mut upper = false;
    for c in name.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.push(c.to_ascii_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

fn strings(value: Option<&Value>) -> BTreeSet<String> {
    value
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter(|item| !item.is_null())
                .map(|item| match item {
                    Value::String(text) => text.clone(),
                    other => other.to_string(),
                })
                .collect()
        })
        .unwrap_or_default()
}

fn set_text(set: &BTreeSet<String>) -> String {
    format!("[{}]", set.iter().cloned().collect::<Vec<_>>().join(", "))
}

/// Where a schema is: in a request (where `required` is compared and read-only fields are
/// left out) or elsewhere.
#[derive(Clone, Copy, PartialEq)]
enum Side {
    Request,
    Response,
}

impl Compare<'_> {
    fn found(
        &mut self,
        at: &str,
        kind: Kind,
        reference: impl Into<String>,
        ours: impl Into<String>,
    ) {
        self.findings.push(Finding {
            op: self.op.clone(),
            at: at.to_owned(),
            kind,
            reference: reference.into(),
            ours: ours.into(),
        });
    }

    /// Compares a schema of the reference with ours, recursively.
    fn schema(&mut self, at: &str, reference: &Value, ours: &Value, side: Side, depth: usize) {
        if depth > 12 {
            return;
        }
        let r = flatten(self.reference, reference);
        let o = flatten(self.ours, ours);

        let alternatives = |schema: &Map<String, Value>| {
            schema
                .get("oneOf")
                .or_else(|| schema.get("anyOf"))
                .and_then(Value::as_array)
                .cloned()
        };
        if r.get("nullable") == Some(&Value::Bool(true))
            && o.get("nullable") != Some(&Value::Bool(true))
        {
            self.found(&format!("{at}/nullable"), Kind::Differs, "true", "absent");
        }
        match (alternatives(&r), alternatives(&o)) {
            (None, None) => {}
            (Some(ra), Some(oa)) if ra.len() == oa.len() => {
                for (i, (ra, oa)) in ra.iter().zip(&oa).enumerate() {
                    self.schema(&format!("{at}/oneOf/{i}"), ra, oa, side, depth + 1);
                }
                return;
            }
            (ra, oa) => {
                let describe = |alts: Option<Vec<Value>>, schema: &Map<String, Value>| match alts {
                    Some(alts) => format!("oneOf of {}", alts.len()),
                    None => type_of(schema).unwrap_or_else(|| "any".into()),
                };
                let (rd, od) = (describe(ra, &r), describe(oa, &o));
                self.found(&format!("{at}/oneOf"), Kind::Differs, rd, od);
                return;
            }
        }

        let (rt, ot) = (type_of(&r), type_of(&o));
        match (&rt, &ot) {
            (Some(rt), Some(ot)) if rt == ot => {}
            (Some(rt), Some(ot)) if rt == "number" && ot == "integer" => {
                self.found(&format!("{at}/type"), Kind::Refines, rt, ot);
            }
            (Some(rt), ot) => {
                let ours = ot.clone().unwrap_or_else(|| "absent".into());
                self.found(&format!("{at}/type"), Kind::Differs, rt, ours);
                return;
            }
            (None, Some(ot)) => {
                self.found(&format!("{at}/type"), Kind::Refines, "absent", ot);
            }
            (None, None) => {}
        }

        // `int32`/`int64` say how wide an integer is, not what it is: not compared.
        let format = |s: &Map<String, Value>| {
            s.get("format")
                .filter(|f| !matches!(f.as_str(), Some("int32" | "int64")))
                .cloned()
        };
        let (rf, of) = (format(&r), format(&o));
        match (rf, of) {
            (Some(rf), Some(of)) if rf == of => {}
            (None, Some(of)) => {
                self.found(&format!("{at}/format"), Kind::Refines, "absent", short(&of));
            }
            (None, None) => {}
            (rf, of) => {
                let show =
                    |f: Option<Value>| f.map(|f| short(&f)).unwrap_or_else(|| "absent".into());
                self.found(&format!("{at}/format"), Kind::Differs, show(rf), show(of));
            }
        }

        let (re, oe) = (strings(r.get("enum")), strings(o.get("enum")));
        match (r.contains_key("enum"), o.contains_key("enum")) {
            (true, true) if re == oe => {}
            (false, true) => {
                self.found(
                    &format!("{at}/enum"),
                    Kind::Refines,
                    "absent",
                    set_text(&oe),
                );
            }
            (false, false) => {}
            _ => {
                let show = |has: bool, set: &BTreeSet<String>| {
                    if has {
                        set_text(set)
                    } else {
                        "absent".into()
                    }
                };
                self.found(
                    &format!("{at}/enum"),
                    Kind::Differs,
                    show(r.contains_key("enum"), &re),
                    show(o.contains_key("enum"), &oe),
                );
            }
        }

        let empty = Map::new();
        let rp = r
            .get("properties")
            .and_then(Value::as_object)
            .unwrap_or(&empty);
        let op = o
            .get("properties")
            .and_then(Value::as_object)
            .unwrap_or(&empty);
        // Reference name → our name.
        let mut names = BTreeMap::new();
        for (name, schema) in rp {
            if side == Side::Request && schema.get("readOnly") == Some(&Value::Bool(true)) {
                continue;
            }
            let place = format!("{at}/properties/{name}");
            if op.contains_key(name) {
                names.insert(name.clone(), name.clone());
            } else if let Some(other) = [snake(name), camel(name)]
                .into_iter()
                .find(|other| op.contains_key(other))
            {
                self.found(&place, Kind::Spelling, name.clone(), other.clone());
                names.insert(name.clone(), other);
            } else {
                self.found(&place, Kind::Differs, "present", "absent");
            }
        }
        let matched: BTreeSet<&String> = names.values().collect();
        for name in op.keys().filter(|name| !matched.contains(name)) {
            if side == Side::Request
                && rp.get(name).and_then(|s| s.get("readOnly")) == Some(&Value::Bool(true))
            {
                continue;
            }
            self.found(
                &format!("{at}/properties/{name}"),
                Kind::Differs,
                "absent",
                "present",
            );
        }
        for (rn, on) in &names {
            self.schema(
                &format!("{at}/properties/{rn}"),
                &rp[rn],
                &op[on],
                side,
                depth + 1,
            );
        }
        if side == Side::Request && (r.contains_key("properties") || o.contains_key("properties")) {
            let required_r: BTreeSet<String> = strings(r.get("required"))
                .into_iter()
                .map(|name| names.get(&name).cloned().unwrap_or(name))
                .collect();
            let required_o = strings(o.get("required"));
            if required_r != required_o {
                self.found(
                    &format!("{at}/required"),
                    Kind::Differs,
                    set_text(&required_r),
                    set_text(&required_o),
                );
            }
        }
        if let (Some(ra @ Value::Object(_)), Some(oa @ Value::Object(_))) =
            (r.get("additionalProperties"), o.get("additionalProperties"))
        {
            self.schema(
                &format!("{at}/additionalProperties"),
                ra,
                oa,
                side,
                depth + 1,
            );
        }
        if let (Some(ri), Some(oi)) = (r.get("items"), o.get("items")) {
            self.schema(&format!("{at}/items"), ri, oi, side, depth + 1);
        }
    }
}

/// An operation of one document: its path item and the operation.
struct Operation<'a> {
    path: String,
    item: &'a Value,
    op: &'a Value,
}

/// A path with its parameter names blanked, and the names in order.
fn template(path: &str) -> (String, Vec<String>) {
    let mut shape = String::new();
    let mut names = Vec::new();
    let mut rest = path;
    while let Some(open) = rest.find('{') {
        let close = rest[open..].find('}').expect("a closed template") + open;
        shape.push_str(&rest[..open]);
        shape.push_str("{}");
        names.push(rest[open + 1..close].to_owned());
        rest = &rest[close + 1..];
    }
    shape.push_str(rest);
    (shape, names)
}

fn operations<'a>(document: &'a Value, prefix: &str) -> BTreeMap<(String, String), Operation<'a>> {
    let mut out = BTreeMap::new();
    for (path, item) in document["paths"].as_object().expect("paths") {
        for method in METHODS {
            if let Some(op) = item.get(method) {
                let full = format!("{prefix}{path}");
                let (shape, _) = template(&full);
                out.insert(
                    (method.to_owned(), shape),
                    Operation {
                        path: full,
                        item,
                        op,
                    },
                );
            }
        }
    }
    out
}

/// The parameters of an operation (the path item's, overridden by the operation's), resolved,
/// by place and name.
fn parameters<'a>(
    document: &'a Value,
    operation: &Operation<'a>,
) -> BTreeMap<(String, String), &'a Value> {
    let mut out = BTreeMap::new();
    for list in [
        operation.item.get("parameters"),
        operation.op.get("parameters"),
    ]
    .into_iter()
    .flatten()
    {
        for parameter in list.as_array().expect("a parameter list") {
            let parameter = resolve(document, parameter);
            let key = (
                parameter["in"].as_str().expect("in").to_owned(),
                parameter["name"].as_str().expect("name").to_owned(),
            );
            out.insert(key, parameter);
        }
    }
    out
}

/// What the security of an operation asks for, by what its schemes are rather than their
/// names: one string per alternative.
fn security(document: &Value, op: &Value) -> BTreeSet<String> {
    let requirements = op.get("security").or_else(|| document.get("security"));
    let Some(requirements) = requirements.and_then(Value::as_array) else {
        return BTreeSet::new();
    };
    requirements
        .iter()
        .map(|requirement| {
            let mut schemes: Vec<String> = requirement
                .as_object()
                .expect("a security requirement")
                .keys()
                .map(|name| {
                    let scheme = &document["components"]["securitySchemes"][name];
                    match scheme["type"].as_str() {
                        Some("http") => format!("http {}", scheme["scheme"].as_str().unwrap_or("")),
                        Some("apiKey") => format!(
                            "apiKey {} {}",
                            scheme["in"].as_str().unwrap_or(""),
                            scheme["name"].as_str().unwrap_or("")
                        ),
                        other => format!("{other:?}"),
                    }
                })
                .collect();
            schemes.sort();
            if schemes.is_empty() {
                "none".to_owned()
            } else {
                schemes.join(" + ")
            }
        })
        .collect()
}

/// Our status key for one of the reference's: the code itself or its range.
fn our_status<'a>(
    responses: &'a Map<String, Value>,
    status: &str,
) -> Option<(&'a String, &'a Value)> {
    responses.get_key_value(status).or_else(|| {
        let range = format!("{}XX", &status[..1]);
        responses.get_key_value(&range)
    })
}

/// OpenAPI 3.0's `nullable` and `example` are not JSON Schema: a nullable type admits `null`.
fn to_json_schema(value: &mut Value) {
    match value {
        Value::Object(object) => {
            object.remove("example");
            object.values_mut().for_each(to_json_schema);
            // 3.0's boolean `exclusiveMinimum`/`exclusiveMaximum` qualify the bound.
            for (exclusive, bound) in [
                ("exclusiveMinimum", "minimum"),
                ("exclusiveMaximum", "maximum"),
            ] {
                if let Some(Value::Bool(flag)) = object.get(exclusive).cloned() {
                    object.remove(exclusive);
                    if flag {
                        if let Some(value) = object.remove(bound) {
                            object.insert(exclusive.into(), value);
                        }
                    }
                }
            }
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

/// Validates examples against schemas of our document.
struct Examples {
    components: Value,
}

impl Examples {
    fn new(ours: &Value) -> Self {
        let mut components = ours["components"].clone();
        to_json_schema(&mut components);
        Self { components }
    }

    /// The errors of `instance` against our `schema` (empty when it is valid).
    fn check(&self, schema: &Value, instance: &Value) -> Vec<String> {
        let mut schema = schema.clone();
        to_json_schema(&mut schema);
        let wrapper = json!({ "allOf": [schema], "components": self.components });
        let validator = jsonschema::options()
            .with_draft(jsonschema::Draft::Draft202012)
            .should_validate_formats(true)
            .build(&wrapper)
            .expect("our schema compiles");
        validator
            .iter_errors(instance)
            .map(|e| format!("{} at {:?}", e, e.instance_path().to_string()))
            .collect()
    }
}

/// The examples a media type of the reference gives: its `example`, its `examples`, or else
/// the `example` of its whole schema.
fn examples_of(reference: &Value, media: &Value) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    if let Some(example) = media.get("example") {
        out.push(("example".to_owned(), example.clone()));
    }
    if let Some(examples) = media.get("examples").and_then(Value::as_object) {
        for (name, example) in examples {
            let example = resolve(reference, example);
            if let Some(value) = example.get("value") {
                out.push((format!("examples/{name}"), value.clone()));
            }
        }
    }
    if out.is_empty() {
        if let Some(schema) = media.get("schema") {
            if let Some(example) = flatten(reference, schema).get("example") {
                out.push(("schema/example".to_owned(), example.clone()));
            }
        }
    }
    out
}

/// A request example of the reference with its keys spelled as ours spells them (the
/// `Spelling` findings of the operation: reference name → our name), at any depth.
fn respelled(example: &Value, spellings: &BTreeMap<String, String>) -> Value {
    match example {
        Value::Object(object) => Value::Object(
            object
                .iter()
                .map(|(key, value)| {
                    let key = spellings.get(key).unwrap_or(key).clone();
                    (key, respelled(value, spellings))
                })
                .collect(),
        ),
        Value::Array(items) => {
            Value::Array(items.iter().map(|v| respelled(v, spellings)).collect())
        }
        other => other.clone(),
    }
}

fn content_types(value: &Value) -> BTreeSet<String> {
    value
        .get("content")
        .and_then(Value::as_object)
        .map(|content| content.keys().cloned().collect())
        .unwrap_or_default()
}

/// Compares one published operation with ours; examples are checked with `examples`.
fn compare_operation(
    cx: &mut Compare<'_>,
    examples: &Examples,
    reference_op: &Operation<'_>,
    our_op: &Operation<'_>,
) {
    let (reference, ours) = (cx.reference, cx.ours);

    // The path, with its trailing slash as published.
    if reference_op.path.ends_with('/') != our_op.path.ends_with('/') {
        cx.found(
            "path",
            Kind::Differs,
            reference_op.path.clone(),
            our_op.path.clone(),
        );
    }

    // Parameters; path parameters by position.
    let (_, reference_names) = template(&reference_op.path);
    let (_, our_names) = template(&our_op.path);
    let renamed: BTreeMap<&String, &String> = reference_names.iter().zip(&our_names).collect();
    let reference_params = parameters(reference, reference_op);
    let our_params = parameters(ours, our_op);
    let mut seen = BTreeSet::new();
    for ((place, name), parameter) in &reference_params {
        let our_name = match place.as_str() {
            "path" => renamed
                .get(name)
                .map(|n| (*n).clone())
                .unwrap_or(name.clone()),
            _ => name.clone(),
        };
        let at = format!("parameters/{place}/{name}");
        let Some(our_parameter) = our_params.get(&(place.clone(), our_name.clone())) else {
            cx.found(&at, Kind::Differs, "present", "absent");
            continue;
        };
        seen.insert((place.clone(), our_name));
        let required = |p: &Value| p.get("required") == Some(&Value::Bool(true));
        if required(parameter) != required(our_parameter) {
            cx.found(
                &format!("{at}/required"),
                Kind::Differs,
                required(parameter).to_string(),
                required(our_parameter).to_string(),
            );
        }
        let empty = json!({});
        let our_schema = our_parameter.get("schema").unwrap_or(&empty);
        cx.schema(
            &format!("{at}/schema"),
            parameter.get("schema").unwrap_or(&empty),
            our_schema,
            Side::Request,
            0,
        );
        if let Some(example) = parameter.get("example") {
            for error in examples.check(our_schema, example) {
                cx.found(
                    &format!("{at}/example"),
                    Kind::Differs,
                    short(example),
                    error,
                );
            }
        }
    }
    for key in our_params.keys().filter(|key| !seen.contains(*key)) {
        cx.found(
            &format!("parameters/{}/{}", key.0, key.1),
            Kind::Differs,
            "absent",
            "present",
        );
    }

    // The request body.
    let none = Value::Null;
    let reference_body = reference_op
        .op
        .get("requestBody")
        .map(|body| resolve(reference, body))
        .unwrap_or(&none);
    let our_body = our_op
        .op
        .get("requestBody")
        .map(|body| resolve(ours, body))
        .unwrap_or(&none);
    let (rc, oc) = (content_types(reference_body), content_types(our_body));
    if rc != oc {
        cx.found(
            "requestBody/content",
            Kind::Differs,
            set_text(&rc),
            set_text(&oc),
        );
    }
    if !reference_body.is_null() && !our_body.is_null() {
        let required = |b: &Value| b.get("required") == Some(&Value::Bool(true));
        if required(reference_body) != required(our_body) {
            cx.found(
                "requestBody/required",
                Kind::Differs,
                required(reference_body).to_string(),
                required(our_body).to_string(),
            );
        }
    }
    for content_type in rc.intersection(&oc) {
        let reference_media = &reference_body["content"][content_type];
        let our_media = &our_body["content"][content_type];
        let at = format!("requestBody/{content_type}");
        cx.schema(
            &at,
            &reference_media["schema"],
            &our_media["schema"],
            Side::Request,
            0,
        );
        // Examples are checked as they would travel in our spelling (itself a finding).
        let spellings: BTreeMap<String, String> = cx
            .findings
            .iter()
            .filter(|f| f.kind == Kind::Spelling && f.at.starts_with("requestBody/"))
            .map(|f| (f.reference.clone(), f.ours.clone()))
            .collect();
        for (name, example) in examples_of(reference, reference_media) {
            for error in examples.check(&our_media["schema"], &respelled(&example, &spellings)) {
                cx.found(
                    &format!("{at}/{name}"),
                    Kind::Differs,
                    short(&example),
                    error,
                );
            }
        }
    }

    // Responses.
    let our_responses = our_op.op["responses"].as_object().expect("responses");
    for (status, response) in reference_op.op["responses"].as_object().expect("responses") {
        let response = resolve(reference, response);
        let at = format!("responses/{status}");
        let Some((our_status, our_response)) = our_status(our_responses, status) else {
            cx.found(&at, Kind::Differs, "present", "absent");
            continue;
        };
        let our_response = resolve(ours, our_response);
        let (rc, oc) = (content_types(response), content_types(our_response));
        // A status the reference documents without a body says nothing of one.
        if rc != oc && !rc.is_empty() {
            cx.found(
                &format!("{at}/content"),
                Kind::Differs,
                set_text(&rc),
                format!("{our_status}: {}", set_text(&oc)),
            );
        }
        for content_type in rc.intersection(&oc) {
            let reference_media = &response["content"][content_type];
            let our_media = &our_response["content"][content_type];
            let at = format!("{at}/{content_type}");
            cx.schema(
                &at,
                &reference_media["schema"],
                &our_media["schema"],
                Side::Response,
                0,
            );
            for (name, example) in examples_of(reference, reference_media) {
                for error in examples.check(&our_media["schema"], &example) {
                    cx.found(
                        &format!("{at}/{name}"),
                        Kind::Differs,
                        short(&example),
                        error,
                    );
                }
            }
        }
        if let Some(headers) = response.get("headers").and_then(Value::as_object) {
            for (name, header) in headers {
                let header = resolve(reference, header);
                let ours_header = our_response
                    .get("headers")
                    .and_then(Value::as_object)
                    .and_then(|h| h.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)))
                    .map(|(_, h)| resolve(ours, h));
                let at = format!("{at}/headers/{name}");
                match ours_header {
                    None => cx.found(&at, Kind::Differs, "present", "absent"),
                    Some(ours_header) => cx.schema(
                        &format!("{at}/schema"),
                        &header["schema"],
                        &ours_header["schema"],
                        Side::Response,
                        0,
                    ),
                }
            }
        }
    }

    // Security.
    let (rs, os) = (
        security(reference, reference_op.op),
        security(ours, our_op.op),
    );
    if rs != os {
        cx.found("security", Kind::Differs, set_text(&rs), set_text(&os));
    }
}

#[test]
fn our_document_matches_the_published_reference() {
    let reference: Value = serde_json::from_str(REFERENCE).expect("the reference copy is JSON");
    let ours = openapi_document();
    let examples = Examples::new(&ours);

    let published = operations(&reference, PREFIX);
    let our_operations = operations(&ours, "");
    // Our operations by method and path without its trailing slash, to find one that differs
    // from the reference only there.
    let loose: BTreeMap<(String, String), &Operation<'_>> = our_operations
        .iter()
        .map(|((method, shape), op)| ((method.clone(), shape.trim_end_matches('/').to_owned()), op))
        .collect();

    let mut findings = Vec::new();
    let mut missing = Vec::new();
    for ((method, shape), reference_op) in &published {
        let name = reference_op.op["operationId"]
            .as_str()
            .expect("operationId");
        let our_op = our_operations
            .get(&(method.clone(), shape.clone()))
            .or_else(|| {
                loose
                    .get(&(method.clone(), shape.trim_end_matches('/').to_owned()))
                    .copied()
            });
        let Some(our_op) = our_op else {
            missing.push(format!(
                "{name} ({} {})",
                method.to_uppercase(),
                reference_op.path
            ));
            continue;
        };
        let mut cx = Compare {
            reference: &reference,
            ours: &ours,
            op: name.to_owned(),
            findings: Vec::new(),
        };
        compare_operation(&mut cx, &examples, reference_op, our_op);
        findings.extend(cx.findings);
    }
    findings.sort();
    findings.dedup();

    let mut used = vec![0usize; ALLOWED.len()];
    let mut unexpected = Vec::new();
    for finding in &findings {
        match ALLOWED.iter().position(|allowed| covers(allowed, finding)) {
            Some(index) => used[index] += 1,
            None => unexpected.push(finding),
        }
    }
    // What the allowlist covers, entry by entry (shown with `--nocapture`).
    println!(
        "{} published operations, {} of them in our document; {} findings allowed:",
        published.len(),
        published.len() - missing.len(),
        findings.len() - unexpected.len()
    );
    for (allowed, count) in ALLOWED.iter().zip(&used) {
        println!(
            "  {count:>3} {:?} {:?} {}: {}",
            allowed.kind, allowed.ops, allowed.at, allowed.reason
        );
    }

    let mut failures = String::new();
    if !missing.is_empty() {
        let _ = writeln!(
            failures,
            "{} of the {} published operations are not in our document: {}",
            missing.len(),
            published.len(),
            missing.join(", ")
        );
    }
    if !unexpected.is_empty() {
        let _ = writeln!(
            failures,
            "{} differences not in the allowlist:",
            unexpected.len()
        );
        for finding in &unexpected {
            let _ = writeln!(
                failures,
                "  {:?} {} {}: reference {}, ours {}",
                finding.kind, finding.op, finding.at, finding.reference, finding.ours
            );
        }
    }
    for (allowed, count) in ALLOWED.iter().zip(used) {
        if count == 0 {
            let _ = writeln!(
                failures,
                "stale allowlist entry: {:?} {:?} {} ({})",
                allowed.kind, allowed.ops, allowed.at, allowed.reason
            );
        }
    }
    assert!(failures.is_empty(), "{failures}");
}
