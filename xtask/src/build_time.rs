//! `cargo xtask build-time`: how long a user waits for a cold build of each published crate.
//!
//! Each build runs in a fresh target directory (under `target/build-time`, removed after),
//! with the registry's sources already downloaded, and without incremental compilation: a
//! crate depended on from a registry is never built incrementally, so this is the build a
//! user of the crate sees. Machines are noisy, so each configuration runs several times and
//! the table shows the median beside the spread; nothing here fails on a figure.
//!
//! A machine can be twice as slow one day as another, so a figure alone says little about a
//! change. `--against REV` builds the default `kelviq` at `REV` too, alternating with this
//! checkout run for run, and prints the median of the runs' ratios: that ratio, times a
//! figure measured for `REV` elsewhere, is this checkout's figure there.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
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

/// One cold build of `args` in `dir` (a checkout), into the fresh target directory `target`:
/// how long it took and how many crates it compiled.
fn cold_build(
    cargo: &OsStr,
    dir: &Path,
    args: &[&str],
    target: &Path,
) -> Result<(Duration, usize)> {
    let _ = std::fs::remove_dir_all(target);
    let started = Instant::now();
    let output = Command::new(cargo)
        .current_dir(dir)
        .arg("build")
        .args(args)
        .env("CARGO_TARGET_DIR", target)
        .env("CARGO_INCREMENTAL", "0")
        .env("CARGO_TERM_COLOR", "never")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .with_context(|| format!("running cargo build {}", args.join(" ")))?;
    let took = started.elapsed();
    let _ = std::fs::remove_dir_all(target);
    let log = String::from_utf8_lossy(&output.stderr);
    if !output.status.success() {
        bail!(
            "cargo build {} in {} failed:\n{log}",
            args.join(" "),
            dir.display()
        );
    }
    let units = log
        .lines()
        .filter(|line| line.trim_start().starts_with("Compiling"))
        .count();
    Ok((took, units))
}

/// A checkout of `rev` beside this one, for `--against`; removed when dropped.
struct OtherCheckout {
    root: PathBuf,
    dir: PathBuf,
}

impl OtherCheckout {
    fn new(root: &Path, rev: &str, dir: PathBuf) -> Result<Self> {
        let _ = std::fs::remove_dir_all(&dir);
        let _ = Command::new("git")
            .current_dir(root)
            .args(["worktree", "prune"])
            .status();
        let status = Command::new("git")
            .current_dir(root)
            .args(["worktree", "add", "--detach", "--quiet"])
            .arg(&dir)
            .arg(rev)
            .status()
            .context("running git worktree add")?;
        if !status.success() {
            bail!("--against {rev:?}: git could not check it out");
        }
        // Its sources too, so that no build's time includes the network.
        let fetched = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
            .current_dir(&dir)
            .arg("fetch")
            .status()
            .context("running cargo fetch")?;
        if !fetched.success() {
            bail!("cargo fetch failed in the checkout of {rev}");
        }
        Ok(Self {
            root: root.to_owned(),
            dir,
        })
    }
}

impl Drop for OtherCheckout {
    fn drop(&mut self) {
        let _ = Command::new("git")
            .current_dir(&self.root)
            .args(["worktree", "remove", "--force"])
            .arg(&self.dir)
            .status();
    }
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// Builds every configuration `runs` times and prints the table; with `against`, the
/// default build of `kelviq` alternates, run for run, with the same build at that commit.
pub fn run(
    root: &Path,
    runs: usize,
    only: Option<&str>,
    against: Option<&str>,
) -> Result<std::process::ExitCode> {
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
    let other = match against {
        Some(rev) => Some((rev, OtherCheckout::new(root, rev, scratch.join("against"))?)),
        None => None,
    };
    println!(
        "cold builds, {runs} run(s) each, fresh target directory, CARGO_INCREMENTAL=0, {} cores",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    let mut rows = Vec::new();
    let mut ratios = Vec::new();
    let mut any_failed = false;
    for (index, config) in CONFIGS.iter().enumerate() {
        // A crate not in this checkout yet is left out of the table.
        let package = config.args[1];
        if !root.join(package).join("Cargo.toml").exists() || only.is_some_and(|o| o != package) {
            continue;
        }
        // The first configuration, the default build, is the one compared.
        let compared = other.as_ref().filter(|_| index == 0);
        let mut times = Vec::with_capacity(runs);
        let mut other_times = Vec::with_capacity(runs);
        let mut units = (0, 0);
        let mut failed = false;
        for run in 1..=runs {
            let target = scratch.join(format!("run-{run}"));
            let mut ours = None;
            let mut theirs = None;
            // Alternate which goes first, so that drift in the machine favours neither.
            for turn in 0..2 {
                let other_first = run % 2 == 0;
                let build_other = (turn == 0) == other_first;
                let result = match (build_other, compared) {
                    (false, _) => {
                        cold_build(&cargo, root, config.args, &target).map(|r| ours = Some(r))
                    }
                    (true, Some((_, checkout))) => {
                        cold_build(&cargo, &checkout.dir, config.args, &target)
                            .map(|r| theirs = Some(r))
                    }
                    (true, None) => Ok(()),
                };
                if let Err(error) = result {
                    eprintln!("{error:#}");
                    failed = true;
                }
            }
            if failed {
                break;
            }
            if let Some((took, n)) = ours {
                eprintln!("  {} run {run}: {:.1} s", config.label, took.as_secs_f64());
                times.push(took);
                units.0 = n;
            }
            if let (Some((rev, _)), Some((took, n))) = (compared, theirs) {
                eprintln!(
                    "  {} at {rev} run {run}: {:.1} s",
                    config.label,
                    took.as_secs_f64()
                );
                ratios.push(times[times.len() - 1].as_secs_f64() / took.as_secs_f64());
                other_times.push(took);
                units.1 = n;
            }
        }
        if failed {
            any_failed = true;
            continue;
        }
        times.sort();
        rows.push((config.label.to_owned(), units.0, times));
        if let Some((rev, _)) = compared {
            other_times.sort();
            rows.push((format!("{} at {rev}", config.label), units.1, other_times));
        }
    }
    drop(other);
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
    if let (Some(rev), false) = (against, ratios.is_empty()) {
        println!();
        println!(
            "default build, this checkout / {rev}: **{:.3}** (median of {} runs' ratios; \
             a figure measured for {rev} on another machine, times this, is this checkout's \
             figure there)",
            median(ratios.clone()),
            ratios.len()
        );
    }
    Ok(if any_failed {
        std::process::ExitCode::FAILURE
    } else {
        std::process::ExitCode::SUCCESS
    })
}
