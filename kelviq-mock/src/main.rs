//! `kelviq-mock [--addr HOST:PORT] [--api-key KEY] [--fixtures FILE] [--lenient]`: serves
//! the Kelviq API emulator until interrupted.

use std::net::SocketAddr;
use std::process::ExitCode;

use kelviq_mock::{Catalogue, MockConfig, MockServer};

const USAGE: &str =
    "usage: kelviq-mock [--addr HOST:PORT] [--api-key KEY] [--fixtures FILE] [--lenient]\n\
    \n\
    Serves the Kelviq API emulator (default address 127.0.0.1:8787) until interrupted.\n\
    --api-key   accept only this bearer token (default: any non-empty one; each key is a tenant)\n\
    --fixtures  a JSON plan catalogue replacing the default one\n\
    --lenient   ignore body fields the document does not name, instead of a 400 naming them";

fn parse(args: &[String]) -> Result<MockConfig, String> {
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
            "--api-key" => config.api_key = Some(value()?.clone()),
            "--fixtures" => {
                let path = value()?;
                let text = std::fs::read_to_string(path)
                    .map_err(|e| format!("reading --fixtures {path:?}: {e}"))?;
                config.catalogue = Some(Catalogue::from_json(&text)?);
            }
            "--lenient" => config.lenient = true,
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(config)
}

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let config = match parse(&args) {
        Ok(config) => config,
        Err(message) => {
            if !message.is_empty() {
                eprintln!("kelviq-mock: {message}");
            }
            eprintln!("{USAGE}");
            return if message.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(2)
            };
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
    println!(
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
