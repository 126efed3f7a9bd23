//! Redis as teams deploy it, started for one test on free loopback ports and killed after
//! it: a `redis-server` that speaks only TLS (its certificate made by `openssl` for the
//! test), and a Redis Cluster of three primaries, each with a replica, that fails over when
//! a primary is killed.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::redis_server::REQUIRE_VAR;

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// Whether `program --version` runs; when it does not, says so (and fails under
/// [`REQUIRE_VAR`]).
fn installed_or_skip(programs: &[&str]) -> bool {
    for program in programs {
        let runs = Command::new(program)
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !runs {
            assert!(
                std::env::var_os(REQUIRE_VAR).is_none(),
                "{program} is not installed and {REQUIRE_VAR} is set"
            );
            use std::io::Write;
            let _ = writeln!(
                std::io::stderr(),
                "SKIPPED: {program} is not installed; set {REQUIRE_VAR}=1 to make this a failure"
            );
            return false;
        }
    }
    true
}

fn scratch(what: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "kelviq-{what}-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn wait_for_port(port: u16) {
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "redis-server did not listen on {port} within 10 s"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// A `redis-server` that accepts only TLS connections, with a certificate for 127.0.0.1
/// signed by a CA made for it; killed when dropped.
#[derive(Debug)]
pub struct TlsRedis {
    process: Child,
    port: u16,
    dir: PathBuf,
}

impl TlsRedis {
    /// Starts one, or `None` (saying why) when `redis-server` or `openssl` is missing.
    pub fn start_or_skip() -> Option<Self> {
        if !installed_or_skip(&["redis-server"]) {
            return None;
        }
        let openssl = Command::new("openssl")
            .arg("version")
            .stdout(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !openssl {
            assert!(
                std::env::var_os(REQUIRE_VAR).is_none(),
                "openssl is missing"
            );
            return None;
        }
        let dir = scratch("redis-tls");
        make_certificates(&dir);
        let port = free_port();
        let path = |name: &str| dir.join(name).display().to_string();
        let process = Command::new("redis-server")
            .args([
                "--port",
                "0",
                "--tls-port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--tls-cert-file",
                &path("server.pem"),
                "--tls-key-file",
                &path("server.key"),
                "--tls-ca-cert-file",
                &path("ca.pem"),
                "--tls-auth-clients",
                "no",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server starts");
        wait_for_port(port);
        Some(Self { process, port, dir })
    }

    /// `rediss://127.0.0.1:PORT/0`.
    pub fn url(&self) -> String {
        format!("rediss://127.0.0.1:{}/0", self.port)
    }

    /// The CA that signed its certificate (PEM).
    pub fn ca_file(&self) -> PathBuf {
        self.dir.join("ca.pem")
    }

    /// Its port.
    pub fn port(&self) -> u16 {
        self.port
    }
}

impl Drop for TlsRedis {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A CA, and a certificate for 127.0.0.1 and localhost signed by it, in `dir`.
fn make_certificates(dir: &Path) {
    let run = |args: &[&str]| {
        let output = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .expect("openssl runs");
        assert!(
            output.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    };
    run(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "1",
        "-subj",
        "/CN=kelviq test CA",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
    ]);
    run(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=127.0.0.1",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
    ]);
    std::fs::write(
        dir.join("san.ext"),
        "subjectAltName=IP:127.0.0.1,DNS:localhost\n",
    )
    .unwrap();
    run(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "1",
        "-extfile",
        "san.ext",
        "-out",
        "server.pem",
    ]);
}

/// A Redis Cluster on loopback: three primaries, each with one replica that takes over
/// within about two seconds of its primary's death. Killed when dropped.
#[derive(Debug)]
pub struct RedisCluster {
    nodes: Vec<(u16, Option<Child>)>,
    dir: PathBuf,
}

impl RedisCluster {
    /// Starts one, or `None` (saying why) when `redis-server` is missing.
    pub fn start_or_skip() -> Option<Self> {
        if !installed_or_skip(&["redis-server", "redis-cli"]) {
            return None;
        }
        let dir = scratch("redis-cluster");
        let mut nodes = Vec::new();
        for _ in 0..6 {
            let port = free_port();
            let process = Command::new("redis-server")
                .args([
                    "--port",
                    &port.to_string(),
                    "--bind",
                    "127.0.0.1",
                    "--cluster-enabled",
                    "yes",
                    "--cluster-config-file",
                    &format!("nodes-{port}.conf"),
                    "--cluster-node-timeout",
                    "1000",
                    // Replicas sync at once, not after the default five-second wait for
                    // more replicas to join.
                    "--repl-diskless-sync-delay",
                    "0",
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                ])
                .current_dir(&dir)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("redis-server starts");
            nodes.push((port, Some(process)));
        }
        for (port, _) in &nodes {
            wait_for_port(*port);
        }
        let mut create = Command::new("redis-cli");
        create.arg("--cluster").arg("create");
        for (port, _) in &nodes {
            create.arg(format!("127.0.0.1:{port}"));
        }
        let output = create
            .args(["--cluster-replicas", "1", "--cluster-yes"])
            .output()
            .expect("redis-cli runs");
        assert!(
            output.status.success(),
            "redis-cli --cluster create: {}",
            String::from_utf8_lossy(&output.stdout)
        );
        let cluster = Self { nodes, dir };
        cluster.wait_until_ok();
        cluster.wait_until_replicated();
        Some(cluster)
    }

    /// The nodes' URLs, `redis://127.0.0.1:PORT`.
    pub fn urls(&self) -> Vec<String> {
        self.nodes
            .iter()
            .map(|(port, _)| format!("redis://127.0.0.1:{port}"))
            .collect()
    }

    fn cli(port: u16, args: &[&str]) -> Option<String> {
        let output = Command::new("redis-cli")
            .arg("-p")
            .arg(port.to_string())
            .args(args)
            .output()
            .ok()?;
        output
            .status
            .success()
            .then(|| String::from_utf8_lossy(&output.stdout).into_owned())
    }

    fn alive(&self) -> impl Iterator<Item = u16> + '_ {
        self.nodes
            .iter()
            .filter(|(_, process)| process.is_some())
            .map(|(port, _)| *port)
    }

    /// Waits until every live node says the cluster is ok and every slot is served.
    pub fn wait_until_ok(&self) {
        let started = Instant::now();
        loop {
            let ok = self.alive().all(|port| {
                Self::cli(port, &["CLUSTER", "INFO"]).is_some_and(|info| {
                    info.contains("cluster_state:ok") && info.contains("cluster_slots_ok:16384")
                })
            });
            if ok {
                return;
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "the cluster did not become ok within 30 s"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Waits until every replica's link to its primary is up (its first sync done).
    fn wait_until_replicated(&self) {
        let started = Instant::now();
        loop {
            let synced = self.alive().all(|port| {
                let info = Self::cli(port, &["INFO", "replication"]).unwrap_or_default();
                info.contains("role:master") || info.contains("master_link_status:up")
            });
            if synced {
                return;
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "the replicas did not sync within 30 s"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The port of the primary holding keys that match `pattern`, if any does.
    pub fn primary_holding(&self, pattern: &str) -> Option<u16> {
        self.alive().find(|port| {
            let role = Self::cli(*port, &["ROLE"]).unwrap_or_default();
            role.starts_with("master")
                && Self::cli(*port, &["--scan", "--pattern", pattern])
                    .is_some_and(|keys| !keys.trim().is_empty())
        })
    }

    /// Kills the node on `port` (SIGKILL), has its replica take over (`CLUSTER FAILOVER
    /// TAKEOVER`, as an operator or an orchestrator would, rather than wait out the
    /// cluster's own election), and waits until the cluster serves every slot again.
    pub fn kill_and_fail_over(&mut self, port: u16) {
        let id = Self::cli(port, &["CLUSTER", "MYID"])
            .unwrap_or_default()
            .trim()
            .to_owned();
        for (node, process) in &mut self.nodes {
            if *node == port {
                if let Some(mut process) = process.take() {
                    let _ = process.kill();
                    let _ = process.wait();
                }
            }
        }
        let replica = self
            .alive()
            .find(|node| {
                Self::cli(*node, &["CLUSTER", "NODES"]).is_some_and(|nodes| {
                    nodes.lines().any(|line| {
                        line.contains("myself") && line.contains("slave") && line.contains(&id)
                    })
                })
            })
            .expect("the killed primary had a replica");
        let started = Instant::now();
        loop {
            let _ = Self::cli(replica, &["CLUSTER", "FAILOVER", "TAKEOVER"]);
            std::thread::sleep(Duration::from_millis(200));
            if Self::cli(replica, &["ROLE"]).is_some_and(|role| role.starts_with("master")) {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "the replica never took over"
            );
        }
        self.wait_until_ok();
    }
}

impl Drop for RedisCluster {
    fn drop(&mut self) {
        for (_, process) in &mut self.nodes {
            if let Some(mut process) = process.take() {
                let _ = process.kill();
                let _ = process.wait();
            }
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
