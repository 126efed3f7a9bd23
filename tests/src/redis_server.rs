//! A real `redis-server`, started on a free loopback port for one test and killed after it.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A running `redis-server`; killed when dropped.
#[derive(Debug)]
pub struct RedisServer {
    process: Option<std::process::Child>,
    port: u16,
    /// Where it keeps its append-only file, when it keeps one.
    dir: Option<PathBuf>,
}

/// Set (to anything) to make a missing `redis-server` fail the Redis tests; CI sets it.
pub const REQUIRE_VAR: &str = "KELVIQ_REQUIRE_REDIS";

impl RedisServer {
    /// Starts one, or says why not: `None` when `redis-server` is not installed and
    /// [`REQUIRE_VAR`] is unset, so that `cargo test` works on a machine without Redis (it
    /// prints that the Redis tests were skipped). With the variable set, a missing server
    /// fails the test.
    pub fn start_or_skip() -> Option<Self> {
        Self::installed_or_skip().then(Self::start)
    }

    /// Whether `redis-server` can be run; when not, says so (and panics when
    /// [`REQUIRE_VAR`] is set, as [`start_or_skip`](Self::start_or_skip) documents).
    fn installed_or_skip() -> bool {
        let installed = Command::new("redis-server")
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !installed && std::env::var_os(REQUIRE_VAR).is_none() {
            // Written to the stream itself, not through `eprintln!`, which the test harness
            // captures and shows only for a failing test.
            use std::io::Write;
            let _ = writeln!(
                std::io::stderr(),
                "SKIPPED: redis-server is not installed (apt-get install redis-server); \
                 set {REQUIRE_VAR}=1 to make this a failure"
            );
            return false;
        }
        true
    }

    /// Starts one on a free port and waits until it answers. Panics with what to install
    /// when `redis-server` is not on the `PATH`.
    pub fn start() -> Self {
        Self::start_in(None)
    }

    fn start_in(dir: Option<PathBuf>) -> Self {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let mut server = Self {
            process: None,
            port,
            dir,
        };
        server.run();
        server
    }

    /// Like [`start_or_skip`](Self::start_or_skip), with an append-only file in `dir` synced
    /// on every write (`appendfsync always`): the configuration the shared queue's promises
    /// need, so that a kill and [`start_again`](Self::start_again) lose nothing.
    pub fn start_persistent_or_skip(dir: &Path) -> Option<Self> {
        if !Self::installed_or_skip() {
            return None;
        }
        std::fs::create_dir_all(dir).expect("the Redis folder can be made");
        Some(Self::start_in(Some(dir.to_owned())))
    }

    fn run(&mut self) {
        let port = self.port.to_string();
        let mut args = vec!["--port", &port, "--bind", "127.0.0.1", "--save", ""];
        let dir = self.dir.as_ref().map(|d| d.display().to_string());
        match &dir {
            Some(dir) => args.extend([
                "--appendonly",
                "yes",
                "--appendfsync",
                "always",
                "--dir",
                dir,
            ]),
            None => args.extend(["--appendonly", "no"]),
        }
        let process = Command::new("redis-server")
            .args(&args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server starts (install it: apt-get install redis-server)");
        self.process = Some(process);
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "redis-server did not listen on {} within 10 s",
                self.port
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// The loopback port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Runs `redis-cli` against it and returns what it printed, without the blank at either
    /// end; panics if it fails.
    pub fn cli(&self, args: &[&str]) -> String {
        let output = Command::new("redis-cli")
            .arg("-p")
            .arg(self.port.to_string())
            .args(args)
            .output()
            .expect("redis-cli runs");
        assert!(output.status.success(), "redis-cli {args:?} failed");
        String::from_utf8_lossy(&output.stdout).trim().to_owned()
    }

    /// How many scripts it has run (`EVALSHA` and `EVAL`), from `INFO commandstats`.
    pub fn scripts_run(&self) -> u64 {
        self.cli(&["INFO", "commandstats"])
            .lines()
            .filter(|line| {
                line.starts_with("cmdstat_evalsha:") || line.starts_with("cmdstat_eval:")
            })
            .filter_map(|line| {
                let calls = line.split_once("calls=")?.1;
                calls.split(',').next()?.parse::<u64>().ok()
            })
            .sum()
    }

    /// `redis://127.0.0.1:PORT/0`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }

    /// Makes it hold every other client's commands for `ms` milliseconds (`CLIENT PAUSE`),
    /// then run them: a command sent meanwhile times out on the client and is applied later.
    pub fn pause(&self, ms: u64) {
        let status = Command::new("redis-cli")
            .args([
                "-p",
                &self.port.to_string(),
                "CLIENT",
                "PAUSE",
                &ms.to_string(),
                "ALL",
            ])
            .stdout(Stdio::null())
            .status()
            .expect("redis-cli runs");
        assert!(status.success(), "CLIENT PAUSE failed");
    }

    /// Keeps it busy for `ms` milliseconds with a script that loops (Redis runs one command at
    /// a time): commands sent meanwhile wait, time out on their client, and are then applied.
    /// Returns once the script has (most likely) started; the thread it runs on ends with it.
    pub fn busy(&self, ms: u64) -> std::thread::JoinHandle<()> {
        let script = format!(
            "local s = redis.call('TIME') \
             while true do \
               local n = redis.call('TIME') \
               if (n[1] - s[1]) * 1000000 + (n[2] - s[2]) > {} then break end \
             end return 1",
            ms * 1000
        );
        let port = self.port.to_string();
        let busy = std::thread::spawn(move || {
            let _ = Command::new("redis-cli")
                .args(["-p", &port, "EVAL", &script, "0"])
                .stdout(Stdio::null())
                .status();
        });
        // Time for redis-cli to start and send it (every other command waits behind it, so
        // asking whether it runs would wait too).
        std::thread::sleep(Duration::from_millis(300));
        busy
    }

    /// Kills it (SIGKILL): every connection breaks and nothing answers on its port.
    pub fn kill(&mut self) {
        if let Some(mut process) = self.process.take() {
            let _ = process.kill();
            let _ = process.wait();
        }
    }

    /// Starts it again on the same port, empty (or with what its append-only file kept, when
    /// started with [`start_persistent_or_skip`](Self::start_persistent_or_skip)).
    pub fn restart(&mut self) {
        self.kill();
        self.run();
    }

    /// Whether it runs (it was not [`kill`](Self::kill)ed).
    pub fn is_running(&self) -> bool {
        self.process.is_some()
    }

    /// Starts it again on the same port after a [`kill`](Self::kill); does nothing while it
    /// runs.
    pub fn start_again(&mut self) {
        if self.process.is_none() {
            self.run();
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
    }
}
