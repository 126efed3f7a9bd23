//! What is wrong with a file, and where.

use std::fmt;

/// What kind of problem a [`Diagnostic`] reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The file could not be read.
    Io,
    /// The file is of a kind this crate does not read (such as `kelviq.config.ts`).
    Format,
    /// The file is not well-formed TOML or JSON.
    Syntax,
    /// A field is missing, not allowed, or of the wrong type.
    Schema,
    /// A value that must be an identifier is not a lowercase slug.
    Identifier,
    /// An identifier declared twice within a kind, a feature granted twice by one plan, or
    /// two `PAID` prices of one plan in one currency.
    Duplicate,
    /// A plan names a product or a feature the file does not declare.
    UnknownReference,
    /// A value of the right type that does not fit (a number granted to a `BOOLEAN`
    /// feature, an empty name).
    Value,
}

impl ErrorKind {
    /// A short name: `syntax`, `schema`, `identifier`, …
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Io => "io",
            ErrorKind::Format => "format",
            ErrorKind::Syntax => "syntax",
            ErrorKind::Schema => "schema",
            ErrorKind::Identifier => "identifier",
            ErrorKind::Duplicate => "duplicate",
            ErrorKind::UnknownReference => "unknown reference",
            ErrorKind::Value => "value",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One problem in one file: the file, the line and column (from 1), the field, and what
/// was expected.
///
/// Displayed as `file:line:column: field: message`, such as
/// `kelviq.config.toml:12:11: plans[0].entitlements[1].feature: expected the identifier of
/// a feature declared in this file, found "seat" (did you mean "seats"?)`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Diagnostic {
    /// The file, as given to [`load`](crate::load) or the parse functions.
    pub file: String,
    /// The line, from 1, when the problem has a place in the file.
    pub line: Option<usize>,
    /// The column (in characters), from 1, when the problem has a place in the file.
    pub column: Option<usize>,
    /// The field at fault, such as `plans[0].entitlements[1].feature`, when there is one.
    pub field: Option<String>,
    /// What kind of problem.
    pub kind: ErrorKind,
    /// What was expected and what was found.
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(column) = self.column {
                write!(f, ":{column}")?;
            }
        }
        f.write_str(": ")?;
        if let Some(field) = &self.field {
            write!(f, "{field}: ")?;
        }
        f.write_str(&self.message)
    }
}

/// Why a file could not be loaded: one [`Diagnostic`] or more (every problem found by
/// [`Catalog::check`](crate::Catalog::check) is reported at once, in file order).
///
/// ```
/// let error = kelviq_config::parse_toml("[[plans]]\nidentifier = 3\n", "pricing.toml").unwrap_err();
/// let first = error.first();
/// assert_eq!(first.line, Some(2));
/// assert_eq!(first.field.as_deref(), Some("plans[0].identifier"));
/// assert!(error.to_string().starts_with("pricing.toml:2:"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    diagnostics: Vec<Diagnostic>,
}

impl ConfigError {
    /// An error of the diagnostics given, which must not be empty.
    pub(crate) fn new(diagnostics: Vec<Diagnostic>) -> Self {
        assert!(!diagnostics.is_empty(), "an error without a diagnostic");
        Self { diagnostics }
    }

    /// An error with no place in the file.
    pub(crate) fn whole_file(file: &str, kind: ErrorKind, message: String) -> Self {
        Self::new(vec![Diagnostic {
            file: file.to_owned(),
            line: None,
            column: None,
            field: None,
            kind,
            message,
        }])
    }

    /// Every problem, in file order.
    pub fn diagnostics(&self) -> &[Diagnostic] {
        &self.diagnostics
    }

    /// The first problem.
    pub fn first(&self) -> &Diagnostic {
        &self.diagnostics[0]
    }

    /// The kind of the first problem.
    pub fn kind(&self) -> ErrorKind {
        self.first().kind
    }
}

impl fmt::Display for ConfigError {
    /// One diagnostic a line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, diagnostic) in self.diagnostics.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{diagnostic}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigError {}

/// Why a catalogue could not be written as TOML (TOML has no `null`, and no integer beyond
/// the range of `i64`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriteError {
    message: String,
}

impl WriteError {
    pub(crate) fn new(message: String) -> Self {
        Self { message }
    }
}

impl fmt::Display for WriteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot write the catalogue as TOML: {}", self.message)
    }
}

impl std::error::Error for WriteError {}
