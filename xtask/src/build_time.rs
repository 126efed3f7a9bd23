//! `cargo xtask build-time`: how long a user waits for a cold build of each published crate.
//!
//! Each build runs in a fresh target directory (under `target/build-time`, removed after),
//! with the registry's sources already downloaded, and without incremental compilation: a
//! crate depended on from a registry is never built incrementally, so this is the build a
//! user of the crate sees. Machines are noisy, so each configuration runs several times and
//! the table shows the median beside the spread; nothing here fails on a figure.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

/// One cold build: a label for the table and the arguments after `cargo build`.
struct Config {
    label: &'static str,
    args: &'static [&'static str],
}

/// What a user builds: the SDK with its defaults and with everything, the TLS alternatives,
/// and every other published crate.
const CONFIGS: &[Config] = &[
    Config {
        label: "kelviq (default features)",
        args: &["-p", "kelviq"],
    },
    Config {
        label: "kelviq --features full (every family, Redis, the durable file)",
        args: &["-p", "kelviq", "--features", "full"],
    },
    Config {
        label: "kelviq, TLS by aws-lc-rs instead of ring",
        args: &[
            "-p",
            "kelviq",
            "--no-default-features",
            "--features",
            "rustls-aws-lc,blocking",
        ],
    },
    Config {
        label: "kelviq-mock (binary)",
        args: &["-p", "kelviq-mock"],
    },
    Config {
        label: "kelviq-openfeature",
        args: &["-p", "kelviq-openfeature"],
    },
    Config {
        label: "kelviq-cli (binary `kelviq`)",
        args: &["-p", "kelviq-cli"],
    },
];

pub fn run(root: &Path, runs: usize, only: Option<&str>) -> Result<std::process::ExitCode> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    // Download once, so that no build's time includes the network.
    let fetched = Command::new(&cargo)
        .current_dir(root)
        .arg("fetch")
        .status()
        .context("running cargo fetch")?;
    if !fetched.success() {
        bail!("cargo fetch failed");
    }
    let scratch = root.join("target/build-time");
    println!(
        "cold builds, {runs} run(s) each, fresh target directory, CARGO_INCREMENTAL=0, {} cores",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    let mut rows = Vec::new();
    let mut any_failed = false;
    for config in CONFIGS {
        // A crate not in this checkout yet is left out of the table.
        let package = config.args[1];
        if !root.join(package).join("Cargo.toml").exists() || only.is_some_and(|o| o != package) {
            continue;
        }
        let mut times = Vec::with_capacity(runs);
        let mut units = 0;
        let mut failed = false;
        for run in 1..=runs {
            let dir = scratch.join(format!("run-{run}"));
            let _ = std::fs::remove_dir_all(&dir);
            let started = Instant::now();
            let output = Command::new(&cargo)
                .current_dir(root)
                .arg("build")
                .args(config.args)
                .env("CARGO_TARGET_DIR", &dir)
                .env("CARGO_INCREMENTAL", "0")
                .env("CARGO_TERM_COLOR", "never")
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .output()
                .with_context(|| format!("building {}", config.label))?;
            let took = started.elapsed();
            let _ = std::fs::remove_dir_all(&dir);
            let log = String::from_utf8_lossy(&output.stderr);
            if !output.status.success() {
                eprintln!("cargo build {} failed:\n{log}", config.args.join(" "));
                failed = true;
                break;
            }
            units = log
                .lines()
                .filter(|line| line.trim_start().starts_with("Compiling"))
                .count();
            eprintln!("  {} run {run}: {:.1} s", config.label, took.as_secs_f64());
            times.push(took);
        }
        if failed {
            any_failed = true;
            continue;
        }
        times.sort();
        rows.push((config.label, units, times));
    }
    let _ = std::fs::remove_dir_all(&scratch);
    println!();
    println!("| build | crates | median | fastest | slowest |");
    println!("|---|---:|---:|---:|---:|");
    for (label, units, times) in rows {
        let seconds = |d: &Duration| format!("{:.1} s", d.as_secs_f64());
        println!(
            "| {label} | {units} | **{}** | {} | {} |",
            seconds(&times[times.len() / 2]),
            seconds(&times[0]),
            seconds(&times[times.len() - 1]),
        );
    }
    Ok(if any_failed {
        std::process::ExitCode::FAILURE
    } else {
        std::process::ExitCode::SUCCESS
    })
}
