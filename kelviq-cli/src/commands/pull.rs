//! `kelviq pull`: writes an environment's catalogue (the sandbox unless `--prod`) to a
//! config file.
//!
//! As documented: `-o, --output <path>` (default `kelviq.config.toml`), `--force` to
//! overwrite an existing file (without it `pull` refuses, before calling the API, and the
//! file is created with `create_new`, so one appearing meanwhile is not clobbered either);
//! all products, all features, the latest version of each plan with its prices and
//! entitlements, cross-references as identifiers (see [`crate::remote`]); one warning per
//! dropped field; on failure `pull failed: <reason>` and the file untouched. The file is
//! TOML ([`kelviq_config::Catalog::to_toml`]), or JSON when the path ends in `.json`. The
//! path written is printed on standard output.

use std::io::Write;
use std::path::PathBuf;

use crate::remote;
use crate::target::Target;
use crate::ui::{Colour, Ui};
use crate::Failure;

/// `kelviq pull` options.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Pull from production instead of sandbox.
    #[arg(long)]
    prod: bool,
    /// Where to write the config.
    #[arg(short, long, value_name = "PATH", default_value = kelviq_config::TOML_FILE_NAME)]
    output: PathBuf,
    /// Overwrite the output file if it already exists.
    #[arg(long)]
    force: bool,
}

/// Runs `kelviq pull`.
pub fn run(args: Args, ui: &Ui) -> Result<(), Failure> {
    let failed = |reason: String| Failure::new(format!("pull failed: {reason}"));
    let path = &args.output;
    let shown = path.display();
    if !args.force && path.exists() {
        return Err(failed(format!(
            "{shown} already exists; not overwriting it (use --force to replace it)"
        )));
    }
    let target = Target::from_prod_flag(args.prod);
    let client = remote::client(target).map_err(|f| failed(f.message))?;
    let snapshot = remote::fetch(&client).map_err(failed)?;
    let json = path
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("json"));
    let text = if json {
        format!("{}\n", snapshot.catalog.to_json())
    } else {
        snapshot
            .catalog
            .to_toml()
            .map_err(|e| failed(e.to_string()))?
    };
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .map_err(|e| failed(format!("cannot create {}: {e}", parent.display())))?;
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
            failed(format!(
                "{shown} already exists; not overwriting it (use --force to replace it)"
            ))
        } else {
            failed(format!("cannot write {shown}: {e}"))
        }
    })?;
    file.write_all(text.as_bytes())
        .map_err(|e| failed(format!("cannot write {shown}: {e}")))?;
    for warning in &snapshot.warnings {
        ui.warn(warning);
    }
    let c = &snapshot.catalog;
    ui.out(&format!("Wrote {shown}"));
    ui.status(&ui.paint_err(
        &format!(
            "{} product(s), {} feature(s), {} plan(s) from {}",
            c.products.len(),
            c.features.len(),
            c.plans.len(),
            target.name()
        ),
        Colour::Dim,
    ));
    Ok(())
}
