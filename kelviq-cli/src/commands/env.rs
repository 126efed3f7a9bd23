//! `kelviq env`: which environment the CLI targets, its URLs, and which keys are configured.
//! Read-only: it never calls the API, and never prints any part of a key.
//!
//! As documented: sandbox unless `--prod`; key rows say `set` or `missing` (`set` means
//! configured, not valid: Kelviq has no key-introspection endpoint, so the organisation is
//! unknown); `--json` prints the same report as one JSON document. Choices: each key row
//! also names where the key came from (the variable or the credentials file), URL rows name
//! the variable that overrode them, and the report shows the edge URL and the credentials
//! file's path. The JSON document:
//!
//! ```json
//! {
//!   "environment": "sandbox",
//!   "sandbox":    { "apiUrl": "...", "apiUrlFrom": null, "edgeUrl": "...", "edgeUrlFrom": null,
//!                   "key": "set", "keyFrom": "KELVIQ_SANDBOX_SERVER_API_KEY",
//!                   "keyVariable": "KELVIQ_SANDBOX_SERVER_API_KEY" },
//!   "production": { ..., "key": "missing", "keyFrom": null, "keyVariable": "KELVIQ_SERVER_API_KEY" },
//!   "credentialsFile": "/home/me/.config/kelviq/credentials.toml",
//!   "org": null
//! }
//! ```

use serde_json::{json, Value};

use crate::credentials::{self, Credentials};
use crate::target::Target;
use crate::ui::{Colour, Ui};
use crate::Failure;

/// `kelviq env` options.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Report for production instead of sandbox.
    #[arg(long)]
    prod: bool,
    /// Print the report as one JSON document.
    #[arg(long)]
    json: bool,
}

/// What `env` knows about one environment.
struct Row {
    api_url: (String, Option<&'static str>),
    edge_url: (String, Option<&'static str>),
    key_from: Option<&'static str>,
    key_variable: &'static str,
}

fn row(target: Target, stored: &Credentials) -> Row {
    Row {
        api_url: target.api_url(),
        edge_url: target.edge_url(),
        // Only where the key came from: the key itself is dropped here.
        key_from: target.key(stored).map(|(_, source)| source.describe()),
        key_variable: target.key_variable(),
    }
}

/// Runs `kelviq env`.
pub fn run(args: Args, ui: &Ui) -> Result<(), Failure> {
    let target = Target::from_prod_flag(args.prod);
    let path = credentials::path().ok();
    let stored = match &path {
        Some(path) => Credentials::load(path)?,
        None => Credentials::default(),
    };
    let sandbox = row(Target::Sandbox, &stored);
    let production = row(Target::Production, &stored);

    if args.json {
        let section = |row: &Row| -> Value {
            json!({
                "apiUrl": row.api_url.0,
                "apiUrlFrom": row.api_url.1,
                "edgeUrl": row.edge_url.0,
                "edgeUrlFrom": row.edge_url.1,
                "key": if row.key_from.is_some() { "set" } else { "missing" },
                "keyFrom": row.key_from,
                "keyVariable": row.key_variable,
            })
        };
        let report = json!({
            "environment": target.name(),
            "sandbox": section(&sandbox),
            "production": section(&production),
            "credentialsFile": path.as_ref().map(|p| p.display().to_string()),
            "org": Value::Null,
        });
        ui.out(&serde_json::to_string_pretty(&report).map_err(|e| Failure::new(e.to_string()))?);
        return Ok(());
    }

    let environment = match target {
        Target::Sandbox => "sandbox (default; use --prod to target production)".to_owned(),
        Target::Production => ui.paint_out("production (--prod)", Colour::Bold),
    };
    let url = |(url, from): &(String, Option<&'static str>)| match from {
        Some(variable) => format!(
            "{url} {}",
            ui.paint_out(&format!("(from {variable})"), Colour::Dim)
        ),
        None => url.clone(),
    };
    let key = |row: &Row, this: Target| match row.key_from {
        Some(from) => format!(
            "{} {}",
            ui.paint_out("set", Colour::Green),
            ui.paint_out(&format!("(from {from})"), Colour::Dim)
        ),
        None => {
            let colour = if this == target {
                Colour::Red
            } else {
                Colour::Yellow
            };
            format!(
                "{} {}",
                ui.paint_out("missing", colour),
                ui.paint_out(
                    &format!(
                        "(set {} or run `kelviq login{}`)",
                        row.key_variable,
                        if this == Target::Production {
                            " --prod"
                        } else {
                            ""
                        }
                    ),
                    Colour::Dim
                )
            )
        }
    };
    let targeted = match target {
        Target::Sandbox => &sandbox,
        Target::Production => &production,
    };
    let lines = [
        ("Environment", environment),
        ("Sandbox URL", url(&sandbox.api_url)),
        ("Prod URL", url(&production.api_url)),
        ("Edge URL", url(&targeted.edge_url)),
        ("Sandbox key", key(&sandbox, Target::Sandbox)),
        ("Prod key", key(&production, Target::Production)),
        (
            "Credentials",
            path.map_or_else(
                || "no configuration directory".to_owned(),
                |p| p.display().to_string(),
            ),
        ),
        (
            "Org",
            "unknown (Kelviq has no key-introspection endpoint yet)".to_owned(),
        ),
    ];
    for (label, value) in lines {
        ui.out(&format!("{label:<11} : {value}"));
    }
    Ok(())
}
