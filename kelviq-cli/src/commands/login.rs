//! `kelviq login`: stores a Server API key for the CLI (sandbox by default, `--prod` for
//! production) in the credentials file (see [`crate::credentials`]).
//!
//! As documented, the key is never echoed or logged and the file is owner-only, and `login`
//! cannot check the key (Kelviq has no key-introspection endpoint). On a terminal it names
//! the dashboard's API keys page and reads the key with echo turned off (through `stty`);
//! choices where this CLI differs from the documented one: it opens no browser, and shows
//! nothing while the key is typed (no `*` per character), then only the key's length. From
//! a pipe, or with `--key-stdin`, it reads the first line of standard input without a
//! prompt, for scripts: `kelviq login --key-stdin < key.txt`. Surrounding whitespace is
//! dropped; a key with whitespace or control characters inside is refused.

use std::io::{BufRead, Read};

use crate::credentials::{self, ApiKey, Credentials};
use crate::target::{non_empty_var, Target};
use crate::ui::{Colour, Ui};
use crate::Failure;

/// Where Server API keys are found.
const KEYS_PAGE: &str = "https://app.kelviq.com/settings/api-keys";

/// The longest line read as a key.
const MAX_KEY_BYTES: u64 = 4096;

/// `kelviq login` options.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Store the key for production instead of sandbox.
    #[arg(long)]
    prod: bool,
    /// Read the key from the first line of standard input, without a prompt.
    #[arg(long)]
    key_stdin: bool,
    /// A key typed as an argument: refused without being repeated (clap would quote an
    /// unexpected argument in its error, and the command line is seen by `ps` and history).
    #[arg(hide = true, value_name = "KEY")]
    key: Option<std::ffi::OsString>,
}

/// Runs `kelviq login`.
pub fn run(args: Args, ui: &Ui) -> Result<(), Failure> {
    if args.key.is_some() {
        return Err(Failure::new(
            "a key is never taken as an argument (it would stay in your shell history); \
             nothing stored: run `kelviq login` and paste it, or `kelviq login --key-stdin < key.txt`",
        ));
    }
    let target = Target::from_prod_flag(args.prod);
    let path = credentials::path()?;
    // A credentials file this CLI cannot read stops it before a key is asked for.
    let mut stored = Credentials::load(&path)?;

    let terminal = ui.stdin_is_terminal();
    if terminal && !args.key_stdin {
        ui.note(&format!(
            "Paste your {} Server API key (not a Client key) from {KEYS_PAGE}",
            ui.paint_err(target.name(), Colour::Bold)
        ));
        eprint!("Server API key (input hidden): ");
    }
    let line = if terminal {
        read_hidden()?
    } else {
        read_line()?
    };
    let key = line.trim();
    if key.is_empty() {
        return Err(Failure::new("no key given; nothing stored"));
    }
    if key.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(Failure::new(
            "that is not a key (it has spaces or control characters inside); nothing stored",
        ));
    }
    let key = ApiKey::new(key.to_owned());
    ui.status(&format!("Received a {}-character key.", key.char_count()));
    stored.set(target, key);
    stored.save(&path)?;
    ui.status(&format!(
        "{} the {} key in {}",
        ui.paint_err("Stored", Colour::Green),
        target.name(),
        path.display()
    ));
    if non_empty_var(target.key_variable()).is_some() {
        ui.warn(&format!(
            "{} is set in the environment and is used instead of the stored key",
            target.key_variable()
        ));
    }
    Ok(())
}

/// The first line of standard input.
fn read_line() -> Result<String, Failure> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .take(MAX_KEY_BYTES + 1)
        .read_line(&mut line)
        .map_err(|e| Failure::new(format!("cannot read the key from standard input: {e}")))?;
    // Longer than any key: refused rather than stored cut short.
    if line.trim_end_matches(['\r', '\n']).len() as u64 > MAX_KEY_BYTES {
        return Err(Failure::new(format!(
            "that is not a key (longer than {MAX_KEY_BYTES} bytes); nothing stored"
        )));
    }
    Ok(line)
}

/// A line typed on the terminal with echo off.
fn read_hidden() -> Result<String, Failure> {
    let unable = || {
        Failure::new(
            "cannot turn off echo on this terminal; pipe the key instead: \
             kelviq login --key-stdin < key.txt",
        )
    };
    if !cfg!(unix) || !stty("-echo") {
        return Err(unable());
    }
    let line = read_line();
    stty("echo");
    eprintln!();
    line
}

/// Runs `stty` on the terminal of standard input; whether it worked.
fn stty(setting: &str) -> bool {
    std::process::Command::new("stty")
        .arg(setting)
        .stdin(std::process::Stdio::inherit())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}
