//! `kelviq`: Kelviq pricing as code from the terminal.
//!
//! A Rust counterpart of the documented TypeScript CLI (`@kelviq/cli`), reading the
//! catalogue from `kelviq.config.toml` (see the `kelviq-config` crate) instead of
//! `kelviq.config.ts`. Commands: `init`, `validate`, `schema`, `env`, `login`, `logout`,
//! `pull`, `push` and `promote`, the last three through the `kelviq` crate's catalog
//! operations ([`remote`] reads, [`plan`] diffs, [`apply`] writes).
//!
//! Like the documented CLI, every command targets the sandbox unless given `--prod`; output
//! is coloured on a terminal only, never when piped or when `NO_COLOR` is set or
//! `--no-color` given; errors go to standard error with a non-zero exit code (1; 2 for a
//! command line clap refuses). With `--json`, every error, a refused command line
//! included, is instead one `{"error": "<reason>"}` document on standard output.

mod apply;
mod commands;
mod convert;
mod credentials;
mod plan;
mod remote;
mod target;
mod ui;

use std::ffi::OsString;
use std::io::Write;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::ui::Ui;

/// Kelviq pricing as code: products, features and plans in kelviq.config.toml.
#[derive(Debug, Parser)]
#[command(name = "kelviq", version, propagate_version = true)]
struct Cli {
    /// Never colour the output (the NO_COLOR environment variable does the same).
    #[arg(long, global = true)]
    no_color: bool,
    /// Print results and errors only: no confirmations or hints.
    #[arg(short, long, global = true)]
    quiet: bool,
    /// What to do.
    #[command(subcommand)]
    command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
enum Command {
    /// Write a starter kelviq.config.toml.
    Init(commands::init::Args),
    /// Check a config file and report every problem with its line and field.
    Validate(commands::validate::Args),
    /// Print the JSON Schema of the config file, for editors.
    Schema(commands::schema::Args),
    /// Show the environment, its URLs and which keys are configured (never their values).
    Env(commands::env::Args),
    /// Store a Server API key for the CLI to use.
    Login(commands::login::Args),
    /// Remove stored API keys.
    Logout(commands::logout::Args),
    /// Write an environment's catalogue to a config file.
    Pull(commands::pull::Args),
    /// Deploy a config file: diff, confirm, draft-first writes, optional publish and prune.
    Push(commands::push::Args),
    /// Move the sandbox catalogue to production with the same preview and gates.
    Promote(commands::promote::Args),
}

/// Why a command failed: what to tell, and the exit code.
#[derive(Debug)]
pub struct Failure {
    /// Said on standard error, each line prefixed with `error: `.
    pub message: String,
    /// The process's exit code.
    pub code: u8,
}

impl Failure {
    /// A failure with exit code 1.
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            code: 1,
        }
    }
}

impl From<std::io::Error> for Failure {
    fn from(error: std::io::Error) -> Self {
        Failure::new(error.to_string())
    }
}

/// Parses the command line, or exits with a usage error (code 2).
///
/// With `--json` among the words (before any `--`), a usage error is one `{"error": …}`
/// document on standard output and nothing on standard error, as every other failure in
/// JSON mode, so that a script parsing the output always gets JSON. A `login` command line
/// clap refuses is not quoted back, in either form, as a key typed on it
/// (`--key-stdin=sk_…`) would be in clap's message. Help and version are printed as usual.
fn parse() -> Cli {
    let args: Vec<OsString> = std::env::args_os().collect();
    Cli::try_parse_from(&args).unwrap_or_else(|error| refuse(&error, &args))
}

/// Reports a command line clap refused, as [`parse`] says, and exits.
fn refuse(error: &clap::Error, args: &[OsString]) -> ! {
    use clap::error::ErrorKind;
    let words = || args.iter().skip(1).take_while(|a| *a != "--");
    let json = words().any(|a| a == "--json" || a.to_string_lossy().starts_with("--json="));
    // Help asked for is printed as usual; help shown for a missing command is an error,
    // reported as one in JSON mode.
    let help = matches!(
        error.kind(),
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion
    ) || (!json && error.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand);
    let login = words()
        .find(|a| !a.to_string_lossy().starts_with('-'))
        .is_some_and(|a| a == "login");
    if help || (!json && !login) {
        error.exit();
    }
    let message = if login {
        "this `kelviq login` command line is not valid (not repeated here, as it may hold a \
         key); see `kelviq login --help`"
            .to_owned()
    } else if error.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
        "a command is required; see `kelviq --help`".to_owned()
    } else {
        usage_message(error)
    };
    if json {
        let document = serde_json::json!({ "error": message });
        let mut stdout = std::io::stdout().lock();
        let _ = writeln!(stdout, "{document}").and_then(|()| stdout.flush());
    } else {
        eprintln!("error: {message}");
    }
    std::process::exit(2);
}

/// clap's message for a usage error, as plain lines: what is wrong, the tip when clap has
/// one, and the usage line, without the `error: ` label and blank lines.
fn usage_message(error: &clap::Error) -> String {
    let rendered = error.render().to_string();
    rendered
        .lines()
        .map(str::trim_end)
        .filter(|line| !line.trim().is_empty())
        .map(|line| line.strip_prefix("error: ").unwrap_or(line))
        .collect::<Vec<_>>()
        .join("\n")
}

fn main() -> ExitCode {
    let cli = parse();
    let ui = Ui::detect(cli.no_color, cli.quiet);
    let result = match cli.command {
        Command::Init(args) => commands::init::run(args, &ui),
        Command::Validate(args) => commands::validate::run(args, &ui),
        Command::Schema(args) => commands::schema::run(args, &ui),
        Command::Env(args) => commands::env::run(args, &ui),
        Command::Login(args) => commands::login::run(args, &ui),
        Command::Logout(args) => commands::logout::run(args, &ui),
        Command::Pull(args) => commands::pull::run(args, &ui),
        Command::Push(args) => commands::push::run(args, &ui),
        Command::Promote(args) => commands::promote::run(args, &ui),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            if !failure.message.is_empty() {
                ui.error(&failure.message);
            }
            ExitCode::from(failure.code)
        }
    }
}
