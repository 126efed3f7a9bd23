//! What the tests that run the `kelviq` binary share: a scratch directory with a home of its
//! own to run it in, what a run printed, the documented JSON keys, and the emulator either
//! in this process ([`kelviq_mock::MockServer`]) or as its own process ([`Emulator`], the
//! `kelviq-mock` binary on a free loopback port, killed when dropped).

#![allow(dead_code)] // each test file uses its own part of it

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use kelviq_mock::LoggedRequest;
use serde_json::Value;

/// The sandbox key the scratch directories give the CLI.
pub const SANDBOX_KEY: &str = "sk_test_cli";
/// The production key [`Scratch::with_production`] gives the CLI.
pub const PRODUCTION_KEY: &str = "sk_live_cli";

/// An emulator the CLI can be pointed at: its URL, and the requests it received.
pub trait Target {
    /// The base URL (API and edge).
    fn url(&self) -> String;
    /// Every API request received so far, oldest first.
    fn requests(&self) -> Vec<LoggedRequest>;
    /// Empties the request log.
    fn clear_requests(&self);
}

impl Target for kelviq_mock::MockServer {
    fn url(&self) -> String {
        kelviq_mock::MockServer::url(self)
    }
    fn requests(&self) -> Vec<LoggedRequest> {
        kelviq_mock::MockServer::requests(self)
    }
    fn clear_requests(&self) {
        kelviq_mock::MockServer::clear_requests(self)
    }
}

/// The catalog writes the emulator received (anything but a read), as `METHOD path`.
pub fn writes(target: &impl Target) -> Vec<String> {
    writes_in(&target.requests(), None)
}

/// The catalog writes made with `key` (one environment of a multi-key emulator).
pub fn writes_by(target: &impl Target, key: &str) -> Vec<String> {
    writes_in(&target.requests(), Some(key))
}

fn writes_in(requests: &[LoggedRequest], key: Option<&str>) -> Vec<String> {
    requests
        .iter()
        .filter(|r| r.path.contains("/catalog/") && r.method != "GET")
        .filter(|r| {
            key.is_none_or(|key| {
                r.headers.get("authorization").map(String::as_str)
                    == Some(format!("Bearer {key}").as_str())
            })
        })
        .map(|r| format!("{} {}", r.method, r.path))
        .collect()
}

/// A scratch directory, home and config directory for one test, with the sandbox's URL and
/// key in the documented variables.
pub struct Scratch {
    pub dir: PathBuf,
    pub env: Vec<(String, String)>,
}

impl Scratch {
    pub fn new(tag: &str, sandbox: &impl Target) -> Self {
        let mut scratch = Self::without_target(tag);
        scratch.env = vec![
            ("KELVIQ_SANDBOX_BASE_URL".into(), sandbox.url()),
            ("KELVIQ_SANDBOX_SERVER_API_KEY".into(), SANDBOX_KEY.into()),
        ];
        scratch
    }

    /// A scratch directory whose runs name no environment (for files written before the
    /// emulator starts).
    pub fn without_target(tag: &str) -> Self {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let dir = std::env::temp_dir().join(format!(
            "kelviq-cli-push-{tag}-{}-{nanos}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        Self {
            dir,
            env: Vec::new(),
        }
    }

    /// Production at `production`'s URL with [`PRODUCTION_KEY`] (the same emulator as the
    /// sandbox when it serves both keys).
    pub fn with_production(mut self, production: &impl Target) -> Self {
        self.env.push(("KELVIQ_BASE_URL".into(), production.url()));
        self.env
            .push(("KELVIQ_SERVER_API_KEY".into(), PRODUCTION_KEY.into()));
        self
    }

    pub fn write(&self, name: &str, text: &str) {
        std::fs::write(self.dir.join(name), text).unwrap();
    }

    pub fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.dir.join(name)).unwrap()
    }

    pub fn run(&self, args: &[&str]) -> Run {
        let output = Command::new(env!("CARGO_BIN_EXE_kelviq"))
            .args(args)
            .current_dir(&self.dir)
            .env_clear()
            .env("HOME", &self.dir)
            .env("XDG_CONFIG_HOME", self.dir.join("config"))
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .output()
            .unwrap();
        Run::of(output)
    }

    /// `--dry-run --json`, checked to be exactly one document with the documented keys.
    #[track_caller]
    pub fn plan(&self, args: &[&str]) -> Value {
        let run = self.run(args).code(0);
        let document: Value = serde_json::from_str(&run.stdout)
            .unwrap_or_else(|e| panic!("one JSON document on stdout ({e}): {run:?}"));
        assert_eq!(keys(&document), documented_keys());
        document
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// What one run of the binary printed, and how it exited.
#[derive(Debug)]
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn of(output: Output) -> Self {
        Self {
            code: output.status.code(),
            stdout: String::from_utf8(output.stdout).unwrap(),
            stderr: String::from_utf8(output.stderr).unwrap(),
        }
    }

    #[track_caller]
    pub fn code(self, code: i32) -> Self {
        assert_eq!(self.code, Some(code), "{self:?}");
        self
    }
}

/// A JSON document's keys, sorted.
pub fn keys(document: &Value) -> Vec<String> {
    let mut keys: Vec<String> = document.as_object().unwrap().keys().cloned().collect();
    keys.sort();
    keys
}

/// The keys of the documented CLI's `--dry-run --json` document, sorted.
pub fn documented_keys() -> Vec<String> {
    let mut keys: Vec<String> = [
        "environment",
        "direction",
        "changes",
        "summary",
        "operations",
        "prune",
        "publish",
        "featureDrift",
        "errors",
        "warnings",
    ]
    .map(String::from)
    .to_vec();
    keys.sort();
    keys
}

/// The `description` of every operation of a `--dry-run --json` document.
pub fn descriptions(document: &Value) -> Vec<String> {
    document["operations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["description"].as_str().unwrap().to_owned())
        .collect()
}

// ---------------------------------------------------------------------------------------
// The emulator binary
// ---------------------------------------------------------------------------------------

/// The `kelviq-mock` binary running as a child process on a free loopback port, killed
/// (and waited for) when dropped.
pub struct Emulator {
    child: Child,
    url: String,
}

/// An empty pricing-as-code file (written once per test process), for an emulator whose
/// environments start with nothing in their catalog instead of the built-in catalogue.
pub fn empty_catalog() -> &'static Path {
    static PATH: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();
    PATH.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("kelviq-cli-empty-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("kelviq.config.toml");
        std::fs::write(&path, "# nothing: an empty catalog\n").unwrap();
        path
    })
}

/// An in-process emulator whose catalog starts empty.
pub async fn empty_server() -> kelviq_mock::MockServer {
    kelviq_mock::MockServer::builder()
        .with_catalog(&kelviq_config::Catalog::default())
        .unwrap()
        .start()
        .await
        .unwrap()
}

impl Emulator {
    /// Starts `kelviq-mock --addr 127.0.0.1:0 --catalog <an empty file> <args>`: an
    /// emulator whose environments start with an empty catalog.
    pub fn empty(args: &[&str]) -> Self {
        let path = empty_catalog().to_str().unwrap().to_owned();
        let mut all = vec!["--catalog", path.as_str()];
        all.extend_from_slice(args);
        Self::start(&all)
    }

    /// Starts `kelviq-mock --addr 127.0.0.1:0 <args>` and waits until it serves.
    pub fn start(args: &[&str]) -> Self {
        let mut child = Command::new(mock_binary())
            .args(["--addr", "127.0.0.1:0"])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("kelviq-mock starts");
        // Its first line says where it listens (the port 0 became a free one).
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            let _ = tx.send(lines.next());
            // Keep reading so that the child never blocks on a full pipe.
            for _ in lines {}
        });
        let first = rx.recv_timeout(Duration::from_secs(30));
        let url = match first {
            Ok(Some(Ok(ref line))) => line.strip_prefix("kelviq-mock serving ").map(str::to_owned),
            _ => None,
        };
        let Some(url) = url else {
            let _ = child.kill();
            let mut stderr = String::new();
            if let Some(mut pipe) = child.stderr.take() {
                let _ = pipe.read_to_string(&mut stderr);
            }
            let _ = child.wait();
            panic!("kelviq-mock {args:?} did not start ({first:?}): {stderr}");
        };
        Self { child, url }
    }

    /// `METHOD path` on the emulator with an optional bearer key and JSON body: the status
    /// and the body (JSON, or a string when it is not JSON).
    pub fn send(
        &self,
        method: &str,
        path: &str,
        key: Option<&str>,
        body: Option<&Value>,
    ) -> (u16, Value) {
        let address = self.url.strip_prefix("http://").unwrap();
        let mut stream = std::net::TcpStream::connect(address).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        let body = body.map(Value::to_string).unwrap_or_default();
        let auth = key
            .map(|k| format!("Authorization: Bearer {k}\r\n"))
            .unwrap_or_default();
        // HTTP/1.0: the answer ends with the connection, never chunked.
        write!(
            stream,
            "{method} {path} HTTP/1.0\r\nHost: {address}\r\n{auth}\
             Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        let (head, body) = answer.split_once("\r\n\r\n").unwrap_or((&answer, ""));
        let status = head
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("an HTTP answer to {method} {path}: {answer:?}"));
        let body = serde_json::from_str(body).unwrap_or_else(|_| Value::String(body.to_owned()));
        (status, body)
    }
}

impl Target for Emulator {
    fn url(&self) -> String {
        self.url.clone()
    }
    fn requests(&self) -> Vec<LoggedRequest> {
        let (status, body) = self.send("GET", "/_mock/requests", None, None);
        assert_eq!(status, 200, "{body}");
        serde_json::from_value(body).unwrap()
    }
    fn clear_requests(&self) {
        let (status, body) = self.send("DELETE", "/_mock/requests", None, None);
        assert!(status < 300, "{status} {body}");
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The `kelviq-mock` binary of this workspace, built (once per test process) into the
/// target directory this test runs from: Cargo gives a test the binaries of its own
/// package only, and a stale binary from an earlier build would test old code.
pub fn mock_binary() -> &'static Path {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY.get_or_init(|| {
        // target/<profile>/deps/<this test> → target/<profile>
        let exe = std::env::current_exe().unwrap();
        let profile_dir = exe.parent().and_then(Path::parent).unwrap().to_path_buf();
        let mut build = Command::new(env!("CARGO"));
        build.args([
            "build",
            "--quiet",
            "-p",
            "kelviq-mock",
            "--bin",
            "kelviq-mock",
        ]);
        if profile_dir
            .file_name()
            .is_some_and(|name| name == "release")
        {
            build.arg("--release");
        }
        let target_dir = profile_dir.parent().unwrap();
        let status = build
            .env("CARGO_TARGET_DIR", target_dir)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .status()
            .expect("cargo runs");
        assert!(status.success(), "building kelviq-mock failed: {status}");
        let binary = profile_dir.join(format!("kelviq-mock{}", std::env::consts::EXE_SUFFIX));
        assert!(binary.exists(), "{} after the build", binary.display());
        binary
    })
}

/// A config file: a product, two features (one customizable, one boolean), two plans (one
/// priced).
pub const CONFIG: &str = r#"
[[products]]
identifier = "app"
name = "App"
taxCode = "saas"

[[features]]
identifier = "seats"
name = "Seats"
type = "CUSTOMIZABLE"

[[features]]
identifier = "sso"
name = "SSO"
type = "BOOLEAN"

[[plans]]
identifier = "pro"
name = "Pro"
product = "app"
entitlements = [{ feature = "seats", value = 5 }, { feature = "sso", value = true }]

[[plans.prices]]
priceType = "PAID"
currency = "USD"
freeTrial = false
trialPeriod = 0
enabled = true
taxBehavior = "UNSPECIFIED"
chargeCatalogPrice = [{ priceModel = "FLAT", charges = [{ chargePeriod = "MONTHLY", priceData = { amount = 29.0 } }] }]

[[plans]]
identifier = "free"
name = "Free"
product = "app"
entitlements = [{ feature = "seats", value = 1 }]
"#;
