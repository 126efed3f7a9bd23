//! Client processes to kill: the `kelviq_child` binary of this package, run as a real child
//! process, killed with SIGKILL when a test is about surviving a crash.

use std::io::{BufRead, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// The API key every child uses, so that the test and its children share one tenant of the
/// emulator.
pub const API_KEY: &str = "sk_test_child";

/// The customers the `soak` children report for (`tests/tests/soak.rs`).
pub const SOAK_CUSTOMERS: [&str; 3] = ["soak-a", "soak-b", "soak-c"];

/// The metered features the `soak` children report for: with [`SOAK_CUSTOMERS`], lane
/// `customer * 2 + feature`.
pub const SOAK_FEATURES: [&str; 2] = ["calls", "seats"];

/// A running child; killed when dropped.
#[derive(Debug)]
pub struct Child {
    process: std::process::Child,
    lines: mpsc::Receiver<String>,
    /// Its standard input, when it was started with [`Child::spawn_listening`].
    stdin: Option<std::process::ChildStdin>,
}

impl Child {
    /// Starts the `kelviq_child` at `program` (a test has its path as
    /// `env!("CARGO_BIN_EXE_kelviq_child")`) with `args`.
    pub fn spawn(program: &str, args: &[&str]) -> Self {
        Self::spawn_with(program, args, Stdio::inherit())
    }

    /// Like [`spawn`](Self::spawn), with its standard input a pipe that
    /// [`say`](Self::say) writes lines to.
    pub fn spawn_listening(program: &str, args: &[&str]) -> Self {
        Self::spawn_with(program, args, Stdio::piped())
    }

    fn spawn_with(program: &str, args: &[&str], stdin: Stdio) -> Self {
        let mut process = Command::new(program)
            .args(args)
            .stdin(stdin)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("kelviq_child starts");
        let stdout = process.stdout.take().expect("piped stdout");
        let (send, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if send.send(line).is_err() {
                    break;
                }
            }
        });
        let stdin = process.stdin.take();
        Self {
            process,
            lines,
            stdin,
        }
    }

    /// Its process id.
    pub fn id(&self) -> u32 {
        self.process.id()
    }

    /// Writes `line` to its standard input (started with
    /// [`spawn_listening`](Self::spawn_listening)); false when it cannot be written.
    pub fn say(&mut self, line: &str) -> bool {
        self.stdin.as_mut().is_some_and(|stdin| {
            writeln!(stdin, "{line}")
                .and_then(|()| stdin.flush())
                .is_ok()
        })
    }

    /// Every line it printed that was not read yet, without waiting.
    pub fn printed(&mut self) -> Vec<String> {
        self.lines.try_iter().collect()
    }

    /// Every line it printed that was not read yet, until its output closes (it exited or
    /// was killed) or `within` has passed.
    pub fn printed_to_the_end(&mut self, within: Duration) -> Vec<String> {
        let until = std::time::Instant::now() + within;
        let mut lines = Vec::new();
        while let Some(left) = until.checked_duration_since(std::time::Instant::now()) {
            match self.lines.recv_timeout(left) {
                Ok(line) => lines.push(line),
                Err(_) => break,
            }
        }
        lines
    }

    /// Waits at most `within` for it to exit on its own: whether it succeeded, or `None` if it
    /// still runs.
    pub fn wait_within(&mut self, within: Duration) -> Option<bool> {
        let until = std::time::Instant::now() + within;
        loop {
            match self.process.try_wait() {
                Ok(Some(status)) => return Some(status.success()),
                Ok(None) if std::time::Instant::now() < until => {
                    std::thread::sleep(Duration::from_millis(20));
                }
                Ok(None) => return None,
                Err(_) => return Some(false),
            }
        }
    }

    /// Whether it exited on its own (or was killed) already.
    pub fn has_exited(&mut self) -> bool {
        !matches!(self.process.try_wait(), Ok(None))
    }

    /// The next line it prints, waiting at most `within`.
    pub fn line(&mut self, within: Duration) -> String {
        self.lines
            .recv_timeout(within)
            .unwrap_or_else(|e| panic!("kelviq_child printed nothing within {within:?}: {e}"))
    }

    /// Kills it with SIGKILL, as the OOM killer or a failed node would, and reaps it.
    pub fn kill(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }

    /// Waits for it to exit on its own and says whether it succeeded.
    pub fn wait(&mut self) -> bool {
        self.process.wait().map(|s| s.success()).unwrap_or(false)
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Where a child keeps the reports it cannot deliver.
#[derive(Debug, Clone, Copy)]
pub enum Keep<'a> {
    /// The durable file at this path.
    File(&'a Path),
    /// The shared queue of the Redis at this URL.
    Redis(&'a str),
}

impl Keep<'_> {
    fn arg(self) -> String {
        match self {
            Keep::File(path) => format!("path={}", path.display()),
            Keep::Redis(url) => format!("redis={url}"),
        }
    }
}

/// Starts `kelviq_child queue` against `url`, which must be unreachable: it reports `reports`
/// `DELTA`s of 1 for `customer` and `feature`, kept as `keep` says, its background sender
/// trying again every `retry_ms`. Returns once it printed that all were queued.
pub fn queue(
    program: &str,
    url: &str,
    keep: Keep<'_>,
    (customer, feature): (&str, &str),
    reports: usize,
    retry_ms: u64,
) -> Child {
    let mut child = Child::spawn(
        program,
        &[
            "queue",
            &format!("url={url}"),
            &keep.arg(),
            &format!("customer={customer}"),
            &format!("feature={feature}"),
            &format!("reports={reports}"),
            &format!("retry_ms={retry_ms}"),
        ],
    );
    assert_eq!(
        child.line(Duration::from_secs(30)),
        format!("queued {reports}")
    );
    child
}

/// Runs `kelviq_child deliver` against `url` on the queue `keep` names to its end, and
/// returns what it printed: `delivered=… dropped=… unconfirmed=… remaining=…`.
pub async fn deliver(program: &str, url: &str, keep: Keep<'_>) -> String {
    let program = program.to_owned();
    let args = [
        "deliver".to_owned(),
        format!("url={url}"),
        keep.arg(),
        "within_ms=10000".to_owned(),
        // Its background sender stays asleep, so that the count is the shutdown's alone.
        "retry_ms=3600000".to_owned(),
    ];
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let mut child = Child::spawn(&program, &args);
        let line = child.line(Duration::from_secs(60));
        assert!(child.wait(), "kelviq_child deliver failed");
        line
    })
    .await
    .unwrap()
}
