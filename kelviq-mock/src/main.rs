//! `kelviq-mock [--addr HOST:PORT] [--api-key KEY]... [--catalog FILE] [--lenient]`: serves
//! the Kelviq API emulator until interrupted (`--help` says what each flag does);
//! `kelviq-mock --print-catalog` prints the built-in catalogue as a `kelviq.config.toml`.
//! `--fixtures` (the JSON fixtures format of earlier versions) is gone: it stops with an
//! error saying to use `--catalog`.

use std::io::Write;
use std::net::SocketAddr;
use std::process::ExitCode;

use kelviq_mock::{MockConfig, MockServer};

const USAGE: &str =
    "usage: kelviq-mock [--addr HOST:PORT] [--api-key KEY]... [--catalog FILE] [--lenient]\n\
    \x20      [--webhook-retry-interval INTERVAL]\n\
    \x20      kelviq-mock --print-catalog\n\
    \n\
    Serves the Kelviq API emulator (default address 127.0.0.1:8787) until interrupted.\n\
    --api-key   accept this bearer token; repeat it for more. Each key is an environment with\n\
    \x20           its own customers, subscriptions, usage, catalog and plans sold (a sandbox key\n\
    \x20           and a production key: `kelviq promote` between them against one emulator).\n\
    \x20           Any other key is answered 401, on the API and under /_mock/ alike. Without\n\
    \x20           it: any non-empty key, each its own environment. The first key is the one\n\
    \x20           /_mock/ requests act for when they carry no Authorization header.\n\
    --catalog   a pricing-as-code file (kelviq.config.toml or .json) replacing the built-in\n\
    \x20           catalogue in every environment: each sells the file's plans, and its catalog\n\
    \x20           API serves the file's products, features and plans (published), so that\n\
    \x20           `kelviq pull` writes the file back. A plan published later is sold by the\n\
    \x20           environment that published it only.\n\
    --print-catalog  print the built-in catalogue (a kelviq.config.toml) and exit\n\
    --lenient   ignore body fields the document does not name, instead of a 400 naming them\n\
    --webhook-retry-interval  the pause between webhook delivery attempts (200ms, 1s, 2m;\n\
    \x20           60s, the service's, by default); each event is retried 3 times at most";

/// Why the arguments give no emulator to start.
enum Stop {
    /// `--help`.
    Help,
    /// `--print-catalog`.
    PrintCatalog,
    /// Arguments that make no sense: said, then the usage.
    Usage(String),
    /// A file that could not be used: said, without the usage.
    BadFile(String),
}

impl From<String> for Stop {
    fn from(message: String) -> Self {
        Stop::Usage(message)
    }
}

fn parse(args: &[String]) -> Result<MockConfig, Stop> {
    let mut config = MockConfig {
        addr: Some(SocketAddr::from(([127, 0, 0, 1], 8787))),
        ..MockConfig::default()
    };
    let mut args = args.iter();
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--addr" => {
                let text = value()?;
                config.addr = Some(text.parse().map_err(|_| {
                    format!("invalid --addr {text:?}: expected HOST:PORT such as 127.0.0.1:8787")
                })?);
            }
            "--api-key" => {
                let key = value()?;
                if key.trim().is_empty() || key.trim() != key {
                    return Err(format!(
                        "invalid --api-key {key:?}: expected a non-empty key without surrounding spaces"
                    )
                    .into());
                }
                config = config.api_key(key.clone());
            }
            "--fixtures" => {
                return Err(Stop::BadFile(
                    "--fixtures is gone: the JSON fixtures format was retired for the one \
                     catalogue format, the pricing-as-code file. Give --catalog \
                     kelviq.config.toml (or .json) instead; `kelviq-mock --print-catalog` \
                     prints the built-in catalogue in that format, to start from."
                        .to_owned(),
                ));
            }
            "--catalog" => {
                let path = value()?;
                let catalog =
                    kelviq_config::load(path).map_err(|e| Stop::BadFile(e.to_string()))?;
                config = config
                    .with_catalog(&catalog)
                    .map_err(|e| Stop::BadFile(format!("{path}: {e}")))?;
            }
            "--lenient" => config.lenient = true,
            "--webhook-retry-interval" => {
                config.webhook_retry_interval =
                    Some(kelviq_mock::webhooks::parse_interval(value()?)?)
            }
            "-h" | "--help" => return Err(Stop::Help),
            "--print-catalog" => return Err(Stop::PrintCatalog),
            other => return Err(format!("unknown argument {other:?}").into()),
        }
    }
    Ok(config)
}

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let config = match parse(&args) {
        Ok(config) => config,
        Err(Stop::Help) => {
            eprintln!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(Stop::PrintCatalog) => {
            print!("{}", kelviq_mock::catalogue::DEFAULT_CATALOG_TOML);
            return ExitCode::SUCCESS;
        }
        Err(Stop::Usage(message)) => {
            eprintln!("kelviq-mock: {message}");
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
        Err(Stop::BadFile(message)) => {
            for line in message.lines() {
                eprintln!("kelviq-mock: {line}");
            }
            return ExitCode::FAILURE;
        }
    };
    let server = match MockServer::start_with(config).await {
        Ok(server) => server,
        Err(error) => {
            eprintln!("kelviq-mock: could not listen: {error}");
            return ExitCode::FAILURE;
        }
    };
    println!("kelviq-mock serving {}", server.url());
    // Whoever started it may have read the first line and closed the pipe: the emulator
    // serves on (`println!` would panic on the closed pipe and end the process).
    let _ = writeln!(
        std::io::stdout(),
        "  API and edge: {}/api/v1/…   control: {}/_mock/…",
        server.url(),
        server.url()
    );
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = server.wait() => {}
    }
    ExitCode::SUCCESS
}
