//! Kelviq pricing as code: the model of `kelviq.config.toml`.
//!
//! Kelviq documents a TypeScript CLI whose `kelviq.config.ts` declares a catalogue with three
//! builders, `product()`, `feature()` and `plan()`. This crate reads and writes the same
//! catalogue as data: a TOML file (`kelviq.config.toml`) or the same document in JSON
//! (`kelviq.config.json`), with the builders' field names, so a file and its TypeScript
//! counterpart say the same thing key for key:
//!
//! ```toml
//! [[products]]
//! identifier = "my-app"
//! name = "My App"
//! taxCode = "saas"
//!
//! [[features]]
//! identifier = "api-calls"
//! name = "API calls"
//! type = "METER"
//!
//! [[plans]]
//! identifier = "pro"
//! name = "Pro"
//! product = "my-app"
//! entitlements = [
//!   { feature = "api-calls", value = 10000, reset = "EVERY_MONTH", hardLimit = false },
//! ]
//!
//! [[plans.prices]]
//! priceType = "PAID"
//! currency = "USD"
//! ```
//!
//! | builder | table | fields |
//! |---|---|---|
//! | `product()` | `[[products]]` ([`Product`]) | `identifier`, `name`, `taxCode`, `description` |
//! | `feature()` | `[[features]]` ([`Feature`]) | `identifier`, `name`, `type`, `description`, `featureDetails`, `meter`, `metadata` |
//! | `plan()` | `[[plans]]` ([`Plan`]) | `identifier`, `name`, `product`, `description`, `isVisible`, `entitlements`, `prices`, `metadata`, `license` |
//! | entitlement | `plans.entitlements` ([`Entitlement`]) | `feature`, `value`, `hasUnlimitedUsage`, `reset`, `hardLimit`, `usageAlerts`, and any other key (passed through) |
//! | price | `plans.prices` ([`Price`]) | `priceType`, `currency`, `freeTrial`, `trialPeriod`, `enabled`, `taxBehavior`, `chargeCatalogPrice` |
//! | license | `plans.license` ([`License`]) | `enabled`, `activationLimit`, `activationLimitEnabled`, `durationValue`, `durationUnit`, `hasExpiry` (the API's plan `license`) |
//!
//! The rules are the documented CLI's: the file holds the desired state only (no UUIDs, no
//! draft or published state); every identifier and cross-reference is a slug matching
//! [`IDENTIFIER_PATTERN`]; an identifier appears once per kind; enumerations
//! ([`TaxCode`], [`FeatureType`], [`Reset`], [`PriceType`], [`TaxBehavior`]) accept any
//! string and pass unknown ones through; `featureDetails`, `meter`, `metadata`,
//! `usageAlerts` and `chargeCatalogPrice` are passed through as written. A plan without a
//! `prices` key leaves its remote prices alone; with one, the list is the whole price set.
//! [`Catalog::check`] lists what it adds to those rules.
//!
//! A bad file gets an error naming the file, the line and column, the field and what was
//! expected:
//!
//! ```
//! let text = "[[features]]\nidentifier = \"Seats\"\nname = \"Seats\"\ntype = \"CUSTOMIZABLE\"\n";
//! let error = kelviq_config::parse_toml(text, "kelviq.config.toml").unwrap_err();
//! assert_eq!(
//!     error.to_string(),
//!     "kelviq.config.toml:2:14: features[0].identifier: expected an identifier matching \
//!      ^[a-z0-9][a-z0-9-_]*$ (lowercase letters, digits, '-' and '_', not starting with '-' \
//!      or '_'), found \"Seats\""
//! );
//! ```
//!
//! [`json_schema`] describes the format for editors; [`Catalog::to_toml`] writes a catalogue
//! back.

mod check;
mod enums;
mod error;
mod locate;
mod model;
#[cfg(test)]
mod tests;
mod write;

use std::path::Path;

pub use check::{is_identifier, FieldPath, Problem, Segment, IDENTIFIER_PATTERN};
pub use enums::{FeatureType, PriceType, Reset, TaxBehavior, TaxCode};
pub use error::{ConfigError, Diagnostic, ErrorKind, WriteError};
pub use model::{
    Catalog, Entitlement, EntitlementValue, Feature, License, Object, Plan, Price, Product,
};
pub use write::STARTER_TOML;

/// The file name the CLI reads and writes by default.
pub const TOML_FILE_NAME: &str = "kelviq.config.toml";

/// The JSON file name the CLI also looks for.
pub const JSON_FILE_NAME: &str = "kelviq.config.json";

/// The configuration file in `dir`: `kelviq.config.toml` when it exists, else
/// `kelviq.config.json` when that exists, else `kelviq.config.toml`.
///
/// ```
/// let path = kelviq_config::default_path(std::path::Path::new("/nonexistent"));
/// assert!(path.ends_with("kelviq.config.toml"));
/// ```
pub fn default_path(dir: &Path) -> std::path::PathBuf {
    let toml = dir.join(TOML_FILE_NAME);
    let json = dir.join(JSON_FILE_NAME);
    if !toml.exists() && json.exists() {
        json
    } else {
        toml
    }
}

/// Reads and checks the file at `path`: JSON when its name ends in `.json`, TOML otherwise.
///
/// A TypeScript or JavaScript file (`kelviq.config.ts`) is refused with an error saying to
/// convert it: this crate reads data, not code.
///
/// ```no_run
/// let catalog = kelviq_config::load("kelviq.config.toml")?;
/// println!("{} plans", catalog.plans.len());
/// # Ok::<(), kelviq_config::ConfigError>(())
/// ```
pub fn load(path: impl AsRef<Path>) -> Result<Catalog, ConfigError> {
    let path = path.as_ref();
    let file = path.display().to_string();
    let extension = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    if let Some(ext @ ("ts" | "mts" | "cts" | "js" | "mjs" | "cjs")) = extension.as_deref() {
        return Err(ConfigError::whole_file(
            &file,
            ErrorKind::Format,
            format!(
                "expected a TOML or JSON file, found a .{ext} file: the documented TypeScript \
                 builders are code; write the same fields in {TOML_FILE_NAME}"
            ),
        ));
    }
    let text = std::fs::read_to_string(path).map_err(|e| {
        ConfigError::whole_file(&file, ErrorKind::Io, format!("cannot read the file: {e}"))
    })?;
    if extension.as_deref() == Some("json") {
        parse_json(&text, &file)
    } else {
        parse_toml(&text, &file)
    }
}

/// Parses and checks a TOML document; `file_name` is what errors call it.
///
/// ```
/// let catalog = kelviq_config::parse_toml("", "empty.toml").unwrap();
/// assert!(catalog.plans.is_empty());
/// ```
pub fn parse_toml(text: &str, file_name: &str) -> Result<Catalog, ConfigError> {
    let deserializer = toml::de::Deserializer::parse(text).map_err(|e| {
        let at = e.span().map(|s| locate::line_column(text, s.start));
        ConfigError::new(vec![diagnostic(
            file_name,
            at,
            None,
            ErrorKind::Syntax,
            e.message().trim_end().to_owned(),
        )])
    })?;
    let catalog: Catalog = serde_path_to_error::deserialize(deserializer).map_err(|e| {
        let path = FieldPath::from_serde(e.path());
        let (path, message) = explain(path, e.inner().message());
        let offset = e
            .inner()
            .span()
            .map(|s| s.start)
            .or_else(|| locate::toml_offset(text, &path));
        let at = offset.map(|o| locate::line_column(text, o));
        ConfigError::new(vec![diagnostic(
            file_name,
            at,
            Some(&path),
            ErrorKind::Schema,
            message,
        )])
    })?;
    checked(catalog, file_name, |path| {
        locate::toml_offset(text, path).map(|o| locate::line_column(text, o))
    })
}

/// Parses and checks a JSON document of the same shape as the TOML one; `file_name` is
/// what errors call it.
///
/// ```
/// let catalog = kelviq_config::parse_json(
///     r#"{"features": [{"identifier": "seats", "name": "Seats", "type": "CUSTOMIZABLE"}]}"#,
///     "kelviq.config.json",
/// )
/// .unwrap();
/// assert_eq!(catalog.features[0].feature_type, kelviq_config::FeatureType::Customizable);
/// ```
pub fn parse_json(text: &str, file_name: &str) -> Result<Catalog, ConfigError> {
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let parsed = serde_path_to_error::deserialize(&mut deserializer)
        .map_err(|e| {
            let path = FieldPath::from_serde(e.path());
            (path, e.into_inner())
        })
        .and_then(|catalog: Catalog| {
            deserializer
                .end()
                .map(|()| catalog)
                .map_err(|e| (FieldPath::default(), e))
        });
    let catalog = parsed.map_err(|(path, e)| {
        let reported = (e.line() > 0).then(|| (e.line(), e.column().max(1)));
        let full = e.to_string();
        let bare = match full.rfind(" at line ") {
            Some(i) => full[..i].to_owned(),
            None => full,
        };
        let (kind, path, message, at) = match e.classify() {
            serde_json::error::Category::Data => {
                let (path, message) = explain(path, &bare);
                let at = locate::json_offset(text, &path)
                    .map(|o| locate::line_column(text, o))
                    .or(reported);
                (ErrorKind::Schema, Some(path), message, at)
            }
            serde_json::error::Category::Io => (ErrorKind::Io, None, bare, reported),
            serde_json::error::Category::Syntax | serde_json::error::Category::Eof => {
                (ErrorKind::Syntax, None, bare, reported)
            }
        };
        ConfigError::new(vec![diagnostic(
            file_name,
            at,
            path.as_ref(),
            kind,
            message,
        )])
    })?;
    checked(catalog, file_name, |path| {
        locate::json_offset(text, path).map(|o| locate::line_column(text, o))
    })
}

/// The JSON Schema (draft 7) of the file, for editors and for `kelviq schema`.
///
/// ```
/// let schema = kelviq_config::json_schema();
/// assert!(schema["properties"]["plans"].is_object());
/// ```
pub fn json_schema() -> serde_json::Value {
    let schema = schemars::schema_for!(Catalog);
    serde_json::to_value(schema).expect("a schema is JSON")
}

/// Runs [`Catalog::check`] and places each problem in the file.
fn checked(
    catalog: Catalog,
    file_name: &str,
    locate: impl Fn(&FieldPath) -> Option<(usize, usize)>,
) -> Result<Catalog, ConfigError> {
    let problems = catalog.check();
    if problems.is_empty() {
        return Ok(catalog);
    }
    let mut diagnostics: Vec<Diagnostic> = problems
        .into_iter()
        .map(|p| diagnostic(file_name, locate(&p.path), Some(&p.path), p.kind, p.message))
        .collect();
    diagnostics.sort_by_key(|d| (d.line, d.column));
    Err(ConfigError::new(diagnostics))
}

fn diagnostic(
    file: &str,
    at: Option<(usize, usize)>,
    path: Option<&FieldPath>,
    kind: ErrorKind,
    message: String,
) -> Diagnostic {
    Diagnostic {
        file: file.to_owned(),
        line: at.map(|(line, _)| line),
        column: at.map(|(_, column)| column),
        field: path.filter(|p| !p.0.is_empty()).map(ToString::to_string),
        kind,
        message,
    }
}

/// Turns serde's message into one that names the field and what was expected.
fn explain(path: FieldPath, message: &str) -> (FieldPath, String) {
    let message = message.trim_end();
    if let Some(rest) = message.strip_prefix("missing field `") {
        if let Some(field) = rest.strip_suffix('`') {
            return (
                path.key(field),
                format!("expected required field `{field}`, found none"),
            );
        }
    }
    if let Some(rest) = message.strip_prefix("unknown field `") {
        if let Some((field, expected)) = rest.split_once("`, ") {
            let path = match path.0.last() {
                Some(Segment::Key(last)) if last == field => path,
                _ => path.key(field),
            };
            let known: Vec<String> = expected
                .split('`')
                .skip(1)
                .step_by(2)
                .map(str::to_owned)
                .collect();
            let expected = match expected {
                "there are no fields" => "no fields here".to_owned(),
                other => other.trim_start_matches("expected ").to_owned(),
            };
            return (
                path,
                format!(
                    "unknown field `{field}`: expected {expected}{}",
                    check::suggestion(field, known.iter())
                ),
            );
        }
    }
    (path, message.to_owned())
}
