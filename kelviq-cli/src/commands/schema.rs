//! `kelviq schema`: the JSON Schema of the config file (draft 7), for editors: point a
//! `.json` config's `"$schema"` at it, or an editor's TOML schema setting.
//!
//! Not a documented command (the TypeScript CLI gets the same from its types). Printed to
//! standard output, or written to `--out FILE` (replacing it: the file is generated).

use std::path::PathBuf;

use crate::ui::{Colour, Ui};
use crate::Failure;

/// `kelviq schema` options.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Write the schema to this file instead of standard output.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
}

/// Runs `kelviq schema`.
pub fn run(args: Args, ui: &Ui) -> Result<(), Failure> {
    let schema = kelviq_config::json_schema();
    let text = serde_json::to_string_pretty(&schema).map_err(|e| Failure::new(e.to_string()))?;
    match args.out {
        None => ui.out(&text),
        Some(path) => {
            std::fs::write(&path, format!("{text}\n"))
                .map_err(|e| Failure::new(format!("cannot write {}: {e}", path.display())))?;
            ui.status(&format!(
                "{} {}",
                ui.paint_err("Wrote", Colour::Green),
                path.display()
            ));
        }
    }
    Ok(())
}
