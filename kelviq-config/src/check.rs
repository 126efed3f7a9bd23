//! The checks beyond the shape of the file: identifiers, duplicates, cross-references, and
//! values that do not fit the feature they grant.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use crate::enums::{FeatureType, PriceType};
use crate::error::ErrorKind;
use crate::model::{Catalog, EntitlementValue};

/// The pattern every identifier matches (the documented CLI's identifier rule).
pub const IDENTIFIER_PATTERN: &str = "^[a-z0-9][a-z0-9-_]*$";

/// Whether `text` is an identifier: a lowercase URL-safe slug matching
/// [`IDENTIFIER_PATTERN`], such as `pro`, `api-calls` or `seats_v2`.
///
/// ```
/// use kelviq_config::is_identifier;
///
/// assert!(is_identifier("seats_v2"));
/// assert!(!is_identifier("-pro"));
/// assert!(!is_identifier("Pro"));
/// assert!(!is_identifier(""));
/// ```
pub fn is_identifier(text: &str) -> bool {
    let mut bytes = text.bytes();
    let first_ok = bytes
        .next()
        .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    first_ok
        && bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

/// One step of the way to a value in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    /// A key of a table (object).
    Key(String),
    /// A position in an array, from 0.
    Index(usize),
}

/// The way to a value in the file, such as `plans[0].entitlements[1].feature`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldPath(pub Vec<Segment>);

impl FieldPath {
    /// The path with one more key.
    pub fn key(&self, key: &str) -> Self {
        let mut path = self.clone();
        path.0.push(Segment::Key(key.to_owned()));
        path
    }

    /// The path with one more array position.
    pub fn index(&self, index: usize) -> Self {
        let mut path = self.clone();
        path.0.push(Segment::Index(index));
        path
    }

    /// The path from the root to `segments`.
    fn of(segments: &[Segment]) -> Self {
        Self(segments.to_vec())
    }
}

impl fmt::Display for FieldPath {
    /// `plans[0].entitlements[1].feature`; `.` for the root.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str(".");
        }
        for (i, segment) in self.0.iter().enumerate() {
            match segment {
                Segment::Key(key) if i == 0 => f.write_str(key)?,
                Segment::Key(key) => write!(f, ".{key}")?,
                Segment::Index(index) => write!(f, "[{index}]")?,
            }
        }
        Ok(())
    }
}

/// Something wrong with a catalogue that the file's shape allows: where and what.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Problem {
    /// The value at fault.
    pub path: FieldPath,
    /// What kind of problem.
    pub kind: ErrorKind,
    /// What was expected and what was found.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

impl Catalog {
    /// Every problem the file's shape does not rule out, in file order: identifiers that are
    /// not slugs, an identifier declared twice within a kind, a plan naming a product or
    /// feature the file does not declare, a feature granted twice by one plan, a grant that
    /// does not fit its feature's type, an empty name, a license's `activationLimit` or
    /// `durationValue` of 0, two `PAID` prices of one plan in one
    /// currency. Empty when the catalogue is sound.
    ///
    /// ```
    /// use kelviq_config::{Catalog, ErrorKind};
    ///
    /// let catalog: Catalog = serde_json::from_value(serde_json::json!({
    ///     "products": [{"identifier": "app", "name": "App", "taxCode": "saas"}],
    ///     "plans": [{"identifier": "pro", "name": "Pro", "product": "ap"}]
    /// }))
    /// .unwrap();
    /// let problems = catalog.check();
    /// assert_eq!(problems[0].kind, ErrorKind::UnknownReference);
    /// assert_eq!(problems[0].path.to_string(), "plans[0].product");
    /// ```
    pub fn check(&self) -> Vec<Problem> {
        let mut problems = Vec::new();
        let root = FieldPath::default();

        let mut products = BTreeSet::new();
        for (i, product) in self.products.iter().enumerate() {
            let at = root.key("products").index(i);
            declared(
                &mut problems,
                &mut products,
                &at,
                "product",
                &product.identifier,
            );
            named(&mut problems, &at, &product.name);
        }

        let mut feature_ids = BTreeSet::new();
        let mut features = BTreeMap::new();
        for (i, feature) in self.features.iter().enumerate() {
            let at = root.key("features").index(i);
            if declared(
                &mut problems,
                &mut feature_ids,
                &at,
                "feature",
                &feature.identifier,
            ) {
                features.insert(feature.identifier.clone(), &feature.feature_type);
            }
            named(&mut problems, &at, &feature.name);
        }

        let mut plans = BTreeSet::new();
        for (i, plan) in self.plans.iter().enumerate() {
            let at = root.key("plans").index(i);
            declared(&mut problems, &mut plans, &at, "plan", &plan.identifier);
            named(&mut problems, &at, &plan.name);
            if let Some(license) = &plan.license {
                for (field, value) in [
                    ("activationLimit", license.activation_limit),
                    ("durationValue", license.duration_value),
                ] {
                    if value == Some(0) {
                        problems.push(Problem {
                            path: at.key("license").key(field),
                            kind: ErrorKind::Value,
                            message: "expected a whole number of at least 1, found 0".to_owned(),
                        });
                    }
                }
            }
            if slug(&mut problems, &at.key("product"), &plan.product)
                && !products.contains(&plan.product)
            {
                problems.push(Problem {
                    path: at.key("product"),
                    kind: ErrorKind::UnknownReference,
                    message: format!(
                        "expected the identifier of a product declared in this file, found {:?}{}",
                        plan.product,
                        suggestion(&plan.product, products.iter())
                    ),
                });
            }

            let mut granted = BTreeSet::new();
            for (j, entitlement) in plan.entitlements.iter().enumerate() {
                let at = at.key("entitlements").index(j);
                let feature_at = at.key("feature");
                if !slug(&mut problems, &feature_at, &entitlement.feature) {
                    continue;
                }
                let Some(feature_type) = features.get(&entitlement.feature) else {
                    problems.push(Problem {
                        path: feature_at,
                        kind: ErrorKind::UnknownReference,
                        message: format!(
                            "expected the identifier of a feature declared in this file, found {:?}{}",
                            entitlement.feature,
                            suggestion(&entitlement.feature, features.keys())
                        ),
                    });
                    continue;
                };
                if !granted.insert(entitlement.feature.clone()) {
                    problems.push(Problem {
                        path: feature_at,
                        kind: ErrorKind::Duplicate,
                        message: format!(
                            "expected each feature once per plan, found {:?} granted again",
                            entitlement.feature
                        ),
                    });
                }
                if let Some(value) = entitlement.value {
                    let fits = match feature_type {
                        FeatureType::Boolean => matches!(value, EntitlementValue::Bool(_)),
                        FeatureType::Customizable | FeatureType::Meter => {
                            !matches!(value, EntitlementValue::Bool(_))
                        }
                        FeatureType::Other(_) => true,
                    };
                    if !fits {
                        let expected = match feature_type {
                            FeatureType::Boolean => "true or false",
                            _ => "a number",
                        };
                        problems.push(Problem {
                            path: at.key("value"),
                            kind: ErrorKind::Value,
                            message: format!(
                                "expected {expected} for the {} feature {:?}, found {}",
                                feature_type,
                                entitlement.feature,
                                describe(value)
                            ),
                        });
                    }
                }
            }

            let mut paid_currencies = BTreeSet::new();
            for (j, price) in plan.prices.iter().flatten().enumerate() {
                if price.price_type != PriceType::Paid {
                    continue;
                }
                let currency = price
                    .currency
                    .clone()
                    .unwrap_or_default()
                    .to_ascii_uppercase();
                if !paid_currencies.insert(currency.clone()) {
                    problems.push(Problem {
                        path: at.key("prices").index(j).key("currency"),
                        kind: ErrorKind::Duplicate,
                        message: format!(
                            "expected one PAID price per currency, found a second one in {:?}",
                            currency
                        ),
                    });
                }
            }
        }
        problems
    }
}

/// Checks an identifier and that it is the first of its kind; whether it was both.
fn declared(
    problems: &mut Vec<Problem>,
    seen: &mut BTreeSet<String>,
    at: &FieldPath,
    kind: &str,
    identifier: &str,
) -> bool {
    let path = at.key("identifier");
    if !slug(problems, &path, identifier) {
        return false;
    }
    if !seen.insert(identifier.to_owned()) {
        problems.push(Problem {
            path,
            kind: ErrorKind::Duplicate,
            message: format!(
                "expected a unique {kind} identifier, found {identifier:?} declared again"
            ),
        });
        return false;
    }
    true
}

/// Checks a name is not blank.
fn named(problems: &mut Vec<Problem>, at: &FieldPath, name: &str) {
    if name.trim().is_empty() {
        problems.push(Problem {
            path: at.key("name"),
            kind: ErrorKind::Value,
            message: "expected a display name, found an empty string".to_owned(),
        });
    }
}

/// Checks one identifier; whether it is one.
fn slug(problems: &mut Vec<Problem>, path: &FieldPath, text: &str) -> bool {
    if is_identifier(text) {
        return true;
    }
    problems.push(Problem {
        path: path.clone(),
        kind: ErrorKind::Identifier,
        message: format!(
            "expected an identifier matching {IDENTIFIER_PATTERN} (lowercase letters, digits, '-' \
             and '_', not starting with '-' or '_'), found {text:?}"
        ),
    });
    false
}

fn describe(value: EntitlementValue) -> String {
    match value {
        EntitlementValue::Bool(b) => format!("the boolean {b}"),
        EntitlementValue::Integer(n) => format!("the number {n}"),
        EntitlementValue::Float(x) => format!("the number {x}"),
    }
}

/// `" (did you mean \"x\"?)"` when a declared identifier is one edit or two away.
pub(crate) fn suggestion<'a>(wrong: &str, known: impl Iterator<Item = &'a String>) -> String {
    known
        .map(|k| (distance(&wrong.to_lowercase(), &k.to_lowercase()), k))
        .filter(|(d, _)| *d <= 2)
        .min()
        .map(|(_, k)| format!(" (did you mean {k:?}?)"))
        .unwrap_or_default()
}

/// Levenshtein distance, for suggestions.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let current = row[j + 1];
            row[j + 1] = (previous + usize::from(ca != *cb))
                .min(row[j] + 1)
                .min(current + 1);
            previous = current;
        }
    }
    row[b.len()]
}

impl FieldPath {
    /// The path serde_path_to_error tracked.
    pub(crate) fn from_serde(path: &serde_path_to_error::Path) -> Self {
        let mut segments = Vec::new();
        for segment in path.iter() {
            match segment {
                serde_path_to_error::Segment::Seq { index } => {
                    segments.push(Segment::Index(*index))
                }
                serde_path_to_error::Segment::Map { key } => {
                    segments.push(Segment::Key(key.clone()))
                }
                serde_path_to_error::Segment::Enum { variant } => {
                    segments.push(Segment::Key(variant.clone()))
                }
                serde_path_to_error::Segment::Unknown => {}
            }
        }
        Self::of(&segments)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_lowercase_slugs() {
        for good in ["pro", "api-calls", "seats_v2", "0", "9lives", "a-_-b"] {
            assert!(is_identifier(good), "{good}");
        }
        for bad in [
            "", "-pro", "_pro", "Pro", "pro plan", "pro.plan", "é", "pro/1",
        ] {
            assert!(!is_identifier(bad), "{bad}");
        }
    }

    #[test]
    fn paths_read_like_the_file() {
        let path = FieldPath::default()
            .key("plans")
            .index(0)
            .key("entitlements")
            .index(1)
            .key("feature");
        assert_eq!(path.to_string(), "plans[0].entitlements[1].feature");
        assert_eq!(FieldPath::default().to_string(), ".");
    }

    #[test]
    fn near_misses_are_suggested() {
        let known = ["seats".to_owned(), "api-calls".to_owned()];
        assert_eq!(
            suggestion("seat", known.iter()),
            " (did you mean \"seats\"?)"
        );
        assert_eq!(suggestion("storage", known.iter()), "");
    }
}
