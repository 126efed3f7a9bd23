//! `kelviq validate`: loads a config file and reports every problem, each with its file,
//! line, column, field and what was expected, and the line itself under it on a terminal.
//!
//! Not a documented command (the TypeScript CLI's compiler does this job). The file is the
//! positional `[config]` as for the documented `push`, by default `kelviq.config.toml` in the
//! current directory (or `kelviq.config.json` when only that exists). Exit code 0 when the
//! file is sound, 1 otherwise; nothing is printed on success unless on a terminal.

use std::path::PathBuf;

use crate::ui::{Colour, Ui};
use crate::Failure;

/// `kelviq validate` options.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The config file [default: kelviq.config.toml, or kelviq.config.json when only it exists].
    #[arg(value_name = "CONFIG")]
    config: Option<PathBuf>,
}

/// Runs `kelviq validate`.
pub fn run(args: Args, ui: &Ui) -> Result<(), Failure> {
    let path = args
        .config
        .unwrap_or_else(|| kelviq_config::default_path(std::path::Path::new(".")));
    let path = path.strip_prefix("./").map(PathBuf::from).unwrap_or(path);
    match kelviq_config::load(&path) {
        Ok(catalog) => {
            let count =
                |n: usize, what: &str| format!("{n} {what}{}", if n == 1 { "" } else { "s" });
            ui.status(&format!(
                "{} {}: {}, {}, {}",
                ui.paint_err("Valid", Colour::Green),
                path.display(),
                count(catalog.products.len(), "product"),
                count(catalog.features.len(), "feature"),
                count(catalog.plans.len(), "plan"),
            ));
            Ok(())
        }
        Err(error) => {
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            for diagnostic in error.diagnostics() {
                ui.error(&diagnostic.to_string());
                if let (Some(line), Some(column)) = (diagnostic.line, diagnostic.column) {
                    if let Some(source) = text.lines().nth(line - 1) {
                        let gutter = line.to_string().len();
                        ui.note(&format!(
                            "{:>gutter$} {} {source}",
                            line,
                            ui.paint_err("|", Colour::Dim)
                        ));
                        ui.note(&format!(
                            "{:>gutter$} {} {:>column$}",
                            "",
                            ui.paint_err("|", Colour::Dim),
                            ui.paint_err("^", Colour::Red),
                            column = column + ui.paint_err("^", Colour::Red).len() - 1,
                        ));
                    }
                }
            }
            let n = error.diagnostics().len();
            if matches!(
                error.kind(),
                kelviq_config::ErrorKind::Io | kelviq_config::ErrorKind::Format
            ) {
                return Err(Failure::new(""));
            }
            Err(Failure::new(format!(
                "{} is not valid ({n} problem{})",
                path.display(),
                if n == 1 { "" } else { "s" }
            )))
        }
    }
}
