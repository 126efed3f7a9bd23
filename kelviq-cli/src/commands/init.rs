//! `kelviq init`: writes a starter config file.
//!
//! As documented: `-o, --output <path>` (default `kelviq.config.toml` in the current
//! directory) and `--force` to overwrite; without it an existing file is never touched (the
//! file is created with `create_new`, so a file appearing meanwhile is not clobbered
//! either). The starter defines one product, one feature and one plan. Choices: a `.json`
//! output gets the same starter as JSON; missing parent directories are created; a `.ts`
//! output is refused (this CLI writes data, not TypeScript).

use std::io::Write;
use std::path::PathBuf;

use crate::ui::{Colour, Ui};
use crate::Failure;

/// `kelviq init` options.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Where to write the file.
    #[arg(short, long, value_name = "PATH", default_value = kelviq_config::TOML_FILE_NAME)]
    output: PathBuf,
    /// Overwrite the file if it already exists.
    #[arg(long)]
    force: bool,
}

/// Runs `kelviq init`.
pub fn run(args: Args, ui: &Ui) -> Result<(), Failure> {
    let path = &args.output;
    let shown = path.display();
    let extension = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    let text = match extension.as_deref() {
        Some("json") => {
            let starter = kelviq_config::parse_toml(kelviq_config::STARTER_TOML, "starter")
                .map_err(|e| Failure::new(e.to_string()))?;
            format!("{}\n", starter.to_json())
        }
        Some(ext @ ("ts" | "mts" | "cts" | "js" | "mjs" | "cjs")) => {
            return Err(Failure::new(format!(
                "{shown}: this CLI writes TOML or JSON, not .{ext}; try -o {}",
                path.with_extension("toml").display()
            )))
        }
        _ => kelviq_config::STARTER_TOML.to_owned(),
    };
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .map_err(|e| Failure::new(format!("cannot create {}: {e}", parent.display())))?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true);
    if args.force {
        options.create(true).truncate(true);
    } else {
        options.create_new(true);
    }
    let mut file = options.open(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            Failure::new(format!(
                "{shown} already exists; not overwriting it (use --force to replace it)"
            ))
        } else {
            Failure::new(format!("cannot write {shown}: {e}"))
        }
    })?;
    file.write_all(text.as_bytes())
        .map_err(|e| Failure::new(format!("cannot write {shown}: {e}")))?;
    ui.status(&format!("{} {shown}", ui.paint_err("Wrote", Colour::Green)));
    ui.status(&ui.paint_err(
        &format!("Edit it, then check it with `kelviq validate {shown}`."),
        Colour::Dim,
    ));
    Ok(())
}
