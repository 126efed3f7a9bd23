//! `kelviq pull`: writes an environment's catalogue (the sandbox unless `--prod`) to a
//! config file.
//!
//! As documented: `-o, --output <path>` (default `kelviq.config.toml`), `--force` to
//! overwrite an existing file (without it `pull` refuses, before calling the API, and again
//! when the file is put in place, so one appearing meanwhile is not clobbered either);
//! all products, all features, the latest version of each plan with its prices and
//! entitlements, cross-references as identifiers (see [`crate::remote`]); one warning per
//! field it ignores; on failure `pull failed: <reason>` and the file untouched. The file is
//! TOML ([`kelviq_config::Catalog::to_toml`]), or JSON when the path ends in `.json`. The
//! path written is printed on standard output.
//!
//! The file is never written in place: the whole text goes to a temporary file beside it
//! (same directory, so same file system), flushed to disk, then moved over the path in one
//! step (`rename`), or, without `--force`, linked to it (`link` fails when the path exists,
//! so a file appearing meanwhile is not clobbered). A pull that fails at any point, a full
//! disk included, leaves the existing file as it was and no temporary file behind.

use std::io::Write;
use std::path::{Path, PathBuf};

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
    let snapshot = remote::fetch(&client, ui).map_err(failed)?;
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
    write_whole(path, text.as_bytes(), args.force).map_err(failed)?;
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

/// Writes `bytes` to `path` all at once: through a temporary file in the same directory,
/// renamed over `path` when `replace`, else linked to it (refused when `path` exists).
fn write_whole(path: &Path, bytes: &[u8], replace: bool) -> Result<(), String> {
    let shown = path.display();
    let exists =
        || format!("{shown} already exists; not overwriting it (use --force to replace it)");
    let dir = match path.parent().filter(|p| !p.as_os_str().is_empty()) {
        Some(parent) => parent.to_path_buf(),
        None => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .ok_or_else(|| format!("{shown} is not a file path"))?;
    let (temporary, mut file) = create_temporary(&dir, &name)
        .map_err(|e| format!("cannot write a temporary file in {}: {e}", dir.display()))?;
    // Removes the temporary file on every way out but success.
    let mut guard = Temporary(Some(temporary.clone()));
    let written = file
        .write_all(bytes)
        .and_then(|()| file.sync_all())
        .map_err(|e| format!("cannot write {shown}: {e}"));
    drop(file);
    written?;
    if replace {
        // The replaced file's permissions carry over (a config kept private stays so).
        if let Ok(old) = std::fs::metadata(path) {
            let _ = std::fs::set_permissions(&temporary, old.permissions());
        }
        std::fs::rename(&temporary, path).map_err(|e| format!("cannot write {shown}: {e}"))?;
        guard.0 = None;
    } else {
        match std::fs::hard_link(&temporary, path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => return Err(exists()),
            // A file system without hard links: create the path exclusively instead (the
            // text is ready, so only a failing disk can leave it partly written).
            Err(_) => {
                let mut file = std::fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .open(path)
                    .map_err(|e| {
                        if e.kind() == std::io::ErrorKind::AlreadyExists {
                            exists()
                        } else {
                            format!("cannot write {shown}: {e}")
                        }
                    })?;
                if let Err(e) = file.write_all(bytes).and_then(|()| file.sync_all()) {
                    drop(file);
                    let _ = std::fs::remove_file(path);
                    return Err(format!("cannot write {shown}: {e}"));
                }
            }
        }
    }
    sync_directory(&dir);
    Ok(())
}

/// A new file `.<name>.<pid>-<n>.tmp` in `dir`, created exclusively.
fn create_temporary(dir: &Path, name: &str) -> std::io::Result<(PathBuf, std::fs::File)> {
    let mut attempt = 0u32;
    loop {
        let candidate = dir.join(format!(".{name}.{}-{attempt}.tmp", std::process::id()));
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&candidate)
        {
            Ok(file) => return Ok((candidate, file)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && attempt < 100 => {
                attempt += 1;
            }
            Err(e) => return Err(e),
        }
    }
}

/// Makes a rename or link in `dir` durable, where the platform can (best effort).
fn sync_directory(dir: &Path) {
    #[cfg(unix)]
    if let Ok(handle) = std::fs::File::open(dir) {
        let _ = handle.sync_all();
    }
    #[cfg(not(unix))]
    let _ = dir;
}

/// A temporary file removed when dropped, unless taken.
struct Temporary(Option<PathBuf>);

impl Drop for Temporary {
    fn drop(&mut self) {
        if let Some(path) = self.0.take() {
            let _ = std::fs::remove_file(path);
        }
    }
}
