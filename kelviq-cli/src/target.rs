//! Which Kelviq environment a command targets, its URLs and its key.
//!
//! As documented for the CLI: the sandbox unless `--prod`, with no setting that makes an
//! unqualified command touch production; each environment has its own host and its own key,
//! never mixed. Environment variables win over stored keys:
//!
//! | variable | what |
//! |---|---|
//! | `KELVIQ_SANDBOX_SERVER_API_KEY` | the sandbox Server API key |
//! | `KELVIQ_SERVER_API_KEY` | the production Server API key |
//! | `KELVIQ_SANDBOX_BASE_URL` | the sandbox API base URL |
//! | `KELVIQ_BASE_URL` | the production API base URL |
//! | `KELVIQ_EDGE_URL` | the edge API URL |
//!
//! Choices where the documentation is silent: a variable set to an empty string counts as
//! unset (as CI systems leave a missing secret); `KELVIQ_EDGE_URL` is one variable, so it
//! overrides the edge URL of both environments; a trailing `/` on a URL is dropped.

use crate::credentials::{ApiKey, Credentials};

/// A Kelviq environment the CLI can target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// The default.
    Sandbox,
    /// Only with `--prod`.
    Production,
}

impl Target {
    /// `--prod` or not.
    pub fn from_prod_flag(prod: bool) -> Self {
        if prod {
            Target::Production
        } else {
            Target::Sandbox
        }
    }

    /// `sandbox` or `production`.
    pub fn name(self) -> &'static str {
        match self {
            Target::Sandbox => "sandbox",
            Target::Production => "production",
        }
    }

    /// The variable holding this environment's Server API key.
    pub fn key_variable(self) -> &'static str {
        match self {
            Target::Sandbox => "KELVIQ_SANDBOX_SERVER_API_KEY",
            Target::Production => "KELVIQ_SERVER_API_KEY",
        }
    }

    /// The variable overriding this environment's API base URL.
    pub fn url_variable(self) -> &'static str {
        match self {
            Target::Sandbox => "KELVIQ_SANDBOX_BASE_URL",
            Target::Production => "KELVIQ_BASE_URL",
        }
    }

    /// The variable overriding the edge URL (one for both environments).
    pub const EDGE_VARIABLE: &'static str = "KELVIQ_EDGE_URL";

    /// The SDK's environment.
    pub fn sdk(self) -> kelviq::Environment {
        match self {
            Target::Sandbox => kelviq::Environment::Sandbox,
            Target::Production => kelviq::Environment::Production,
        }
    }

    /// The API base URL and what set it (`None`: the default).
    pub fn api_url(self) -> (String, Option<&'static str>) {
        resolve(self.url_variable(), self.sdk().api_url())
    }

    /// The edge base URL and what set it (`None`: the default).
    pub fn edge_url(self) -> (String, Option<&'static str>) {
        resolve(Self::EDGE_VARIABLE, self.sdk().edge_url())
    }

    /// The environment's key and where it came from: the variable first, then the stored
    /// credentials.
    pub fn key(self, stored: &Credentials) -> Option<(ApiKey, KeySource)> {
        if let Some(value) = non_empty_var(self.key_variable()) {
            return Some((ApiKey::new(value), KeySource::Variable(self.key_variable())));
        }
        stored
            .get(self)
            .map(|key| (key.clone(), KeySource::CredentialsFile))
    }
}

/// Where a key came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeySource {
    /// An environment variable.
    Variable(&'static str),
    /// The credentials file `kelviq login` writes.
    CredentialsFile,
}

impl KeySource {
    /// What the `env` report calls it.
    pub fn describe(self) -> &'static str {
        match self {
            KeySource::Variable(name) => name,
            KeySource::CredentialsFile => "credentials file",
        }
    }
}

/// A variable's value, unless unset or empty.
pub fn non_empty_var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// The URL a variable sets, or the host's default, both with the `/api/v1` the documented
/// CLI shows.
fn resolve(variable: &'static str, host: &str) -> (String, Option<&'static str>) {
    match non_empty_var(variable) {
        Some(url) => (url.trim().trim_end_matches('/').to_owned(), Some(variable)),
        None => (format!("{host}/api/v1"), None),
    }
}
