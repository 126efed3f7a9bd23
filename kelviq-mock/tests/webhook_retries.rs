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

/// Review 4: `POST /_mock/reset` forgets deliveries, so the retries of an event made before
/// it must stop too; they went on (60 s apart by default, three more attempts) and were
/// recorded as the reset emulator's deliveries, posting a forgotten tenant's events.
#[tokio::test]
async fn a_reset_stops_the_retries_of_the_events_before_it() {
    let server = kelviq_mock::MockServer::builder()
        .webhook_retry_interval(std::time::Duration::from_millis(100))
        .start()
        .await
        .unwrap();
    // An endpoint nobody listens on: every attempt fails, so every attempt is retried.
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let dead = format!("http://{}/hooks", closed.local_addr().unwrap());
    drop(closed);
    server.add_webhook(dead.as_str(), "kq_whsec_test");
    let http = reqwest::Client::new();
    let created = http
        .post(format!("{}/api/v1/customers/", server.url()))
        .bearer_auth("sk_test_reset")
        .json(&json!({"customerId": "jane"}))
        .send()
        .await
        .unwrap();
    assert!(created.status().is_success(), "{created:?}");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while server.webhook_deliveries().is_empty() {
        assert!(std::time::Instant::now() < deadline, "no first attempt");
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }

    let reset = http
        .post(format!("{}/_mock/reset", server.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(reset.status().as_u16(), 204);
    // Three intervals and more: every retry of the forgotten event would have run.
    tokio::time::sleep(std::time::Duration::from_millis(700)).await;
    assert_eq!(
        server.webhook_deliveries(),
        vec![],
        "retried after the reset"
    );
}
