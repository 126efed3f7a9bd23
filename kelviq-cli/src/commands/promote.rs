//! `kelviq promote`: converges production toward the sandbox's catalogue, with the same
//! engine, flags and output as `push` (see [`super::push`]), the sandbox read in memory
//! instead of a file: no local file is read or written. Both keys are needed: the sandbox's
//! to read, production's to write. `--prune` always crosses the production gate (the typed
//! confirmation, or `--allow-prod-prune`). The JSON document's `direction` is
//! `"sandbox->production"` and its `environment` `"production"`.
//!
//! The sandbox catalogue goes through the same form as a pulled file, so what `pull` drops
//! (a plan's license, links, countries and files) is not promoted, with one warning each.

use crate::commands::push::{converge, json_failure, Flags};
use crate::remote;
use crate::target::Target;
use crate::ui::Ui;
use crate::Failure;

/// `kelviq promote` options.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The flags shared with push.
    #[command(flatten)]
    flags: Flags,
}

/// Runs `kelviq promote`.
pub fn run(args: Args, ui: &Ui) -> Result<(), Failure> {
    let json = args.flags.json;
    let source = remote::client(Target::Sandbox).map_err(|f| json_failure(json, ui, f.message))?;
    let target =
        remote::client(Target::Production).map_err(|f| json_failure(json, ui, f.message))?;
    let snapshot = remote::fetch(&source, ui).map_err(|e| {
        json_failure(
            json,
            ui,
            format!("promote failed: reading the sandbox: {e}"),
        )
    })?;
    converge(
        ui,
        "promote",
        Target::Production,
        "sandbox->production",
        &snapshot.catalog,
        snapshot
            .warnings
            .into_iter()
            .map(|w| format!("{}: {w}", Target::Sandbox.name()))
            .collect(),
        &target,
        &args.flags,
    )
}
