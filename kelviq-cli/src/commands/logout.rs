//! `kelviq logout`: removes stored keys (sandbox by default, `--prod` for production, `--all`
//! for both), as documented. It only touches the credentials file, removing it when no key
//! is left; keys in environment variables are unaffected (said when one is set), and a
//! removed key is not revoked: that is done on the dashboard's API keys page.

use crate::credentials::{self, Credentials};
use crate::target::{non_empty_var, Target};
use crate::ui::{Colour, Ui};
use crate::Failure;

/// `kelviq logout` options.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Remove the production key instead of the sandbox one.
    #[arg(long, conflicts_with = "all")]
    prod: bool,
    /// Remove both keys.
    #[arg(long)]
    all: bool,
}

/// Runs `kelviq logout`.
pub fn run(args: Args, ui: &Ui) -> Result<(), Failure> {
    let targets = if args.all {
        vec![Target::Sandbox, Target::Production]
    } else {
        vec![Target::from_prod_flag(args.prod)]
    };
    let path = credentials::path()?;
    let mut stored = Credentials::load(&path).or_else(|failure| {
        // A file this CLI cannot read is still removed by --all.
        if args.all {
            Ok(Credentials::default())
        } else {
            Err(failure)
        }
    })?;
    for target in &targets {
        if stored.remove(*target) {
            ui.status(&format!(
                "{} the stored {} key",
                ui.paint_err("Removed", Colour::Green),
                target.name()
            ));
        } else {
            ui.status(&format!("No {} key was stored.", target.name()));
        }
        if non_empty_var(target.key_variable()).is_some() {
            ui.warn(&format!(
                "{} is still set in the environment; unset it to stop using that key",
                target.key_variable()
            ));
        }
    }
    stored.save(&path)?;
    ui.status(&ui.paint_err(
        "Removing a key locally does not revoke it: delete it at https://app.kelviq.com/settings/api-keys",
        Colour::Dim,
    ));
    Ok(())
}
