//! `--webhook-retry-interval`: the binary's pause between webhook delivery attempts, read
//! back through the control surface; a value that is no interval stops it with a usage error.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use serde_json::{json, Value};

#[tokio::test]
async fn the_binary_takes_the_retry_interval_from_its_flag() {
    // Built with the workspace, reqwest has no TLS provider of its own (kelviq picks one):
    // a client built before any emulator would panic without this.
    kelviq_mock::ensure_crypto_provider();
    let mut child = Command::new(env!("CARGO_BIN_EXE_kelviq-mock"))
        .args(["--addr", "127.0.0.1:0", "--webhook-retry-interval", "150ms"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    let url = first
        .trim()
        .strip_prefix("kelviq-mock serving ")
        .unwrap_or_else(|| panic!("{first:?}"))
        .to_owned();
    let read = reqwest::get(format!("{url}/_mock/webhooks/retry-interval")).await;
    child.kill().unwrap();
    child.wait().unwrap();
    let read: Value = read.unwrap().json().await.unwrap();
    assert_eq!(read, json!({"interval": "150ms"}));
}

#[test]
fn the_binary_refuses_an_interval_without_a_unit() {
    let output = Command::new(env!("CARGO_BIN_EXE_kelviq-mock"))
        .args(["--addr", "127.0.0.1:0", "--webhook-retry-interval", "200"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("\"200\" is not an interval"), "{stderr}");
    assert!(output.stdout.is_empty(), "nothing served");
}
