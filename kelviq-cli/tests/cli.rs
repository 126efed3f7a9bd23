//! The real `kelviq` binary in a temporary directory of its own, with `HOME` and
//! `XDG_CONFIG_HOME` pointed inside it and no other environment, its output piped.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

/// A temporary working directory and home for one test, removed afterwards.
struct Scratch {
    dir: PathBuf,
}

impl Scratch {
    fn new(tag: &str) -> Self {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let dir =
            std::env::temp_dir().join(format!("kelviq-cli-{tag}-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        Self { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    fn credentials(&self) -> PathBuf {
        self.dir
            .join("config")
            .join("kelviq")
            .join("credentials.toml")
    }

    /// The command, with a clean environment but for HOME, XDG_CONFIG_HOME and a terminal
    /// type that would allow colour.
    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_kelviq"));
        command
            .args(args)
            .current_dir(&self.dir)
            .env_clear()
            .env("HOME", &self.dir)
            .env("XDG_CONFIG_HOME", self.dir.join("config"))
            .env("TERM", "xterm-256color")
            .stdin(Stdio::null());
        command
    }

    fn run(&self, args: &[&str]) -> Run {
        Run::of(self.command(args).output().unwrap())
    }

    fn run_with_stdin(&self, args: &[&str], input: &str) -> Run {
        let mut child = self
            .command(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
        Run::of(child.wait_with_output().unwrap())
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// What a run printed and how it ended.
#[derive(Debug)]
struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Run {
    fn of(output: Output) -> Self {
        let run = Self {
            code: output.status.code(),
            stdout: String::from_utf8(output.stdout).unwrap(),
            stderr: String::from_utf8(output.stderr).unwrap(),
        };
        assert!(
            !run.stdout.contains('\x1b') && !run.stderr.contains('\x1b'),
            "no ANSI escapes when piped: {run:?}"
        );
        run
    }

    #[track_caller]
    fn ok(self) -> Self {
        assert_eq!(self.code, Some(0), "{self:?}");
        self
    }

    #[track_caller]
    fn failed(self) -> Self {
        assert_eq!(self.code, Some(1), "{self:?}");
        assert!(!self.stderr.is_empty(), "an error is said: {self:?}");
        self
    }
}

#[test]
fn init_then_validate_succeeds_quietly_when_piped() {
    let scratch = Scratch::new("init");
    let run = scratch.run(&["init"]).ok();
    assert_eq!((run.stdout.as_str(), run.stderr.as_str()), ("", ""));
    let written = std::fs::read_to_string(scratch.path("kelviq.config.toml")).unwrap();
    assert_eq!(written, kelviq_config::STARTER_TOML);

    let run = scratch.run(&["validate"]).ok();
    assert_eq!((run.stdout.as_str(), run.stderr.as_str()), ("", ""));
    scratch.run(&["validate", "kelviq.config.toml"]).ok();

    // -o into a new directory, as JSON.
    scratch
        .run(&["init", "-o", "pricing/kelviq.config.json"])
        .ok();
    let json = std::fs::read_to_string(scratch.path("pricing/kelviq.config.json")).unwrap();
    let catalog = kelviq_config::parse_json(&json, "kelviq.config.json").unwrap();
    assert_eq!(catalog.plans[0].identifier, "pro");
    scratch
        .run(&["validate", "pricing/kelviq.config.json"])
        .ok();
}

#[test]
fn init_twice_refuses_without_force() {
    let scratch = Scratch::new("init-twice");
    scratch.run(&["init"]).ok();
    let path = scratch.path("kelviq.config.toml");
    std::fs::write(&path, "# my edits\n").unwrap();

    let run = scratch.run(&["init"]).failed();
    assert!(
        run.stderr.contains("kelviq.config.toml already exists"),
        "{run:?}"
    );
    assert!(run.stderr.contains("--force"), "{run:?}");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "# my edits\n");

    scratch.run(&["init", "--force"]).ok();
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        kelviq_config::STARTER_TOML
    );

    let run = scratch.run(&["init", "-o", "kelviq.config.ts"]).failed();
    assert!(run.stderr.contains("not .ts"), "{run:?}");
}

#[test]
fn schema_is_printed_or_written_as_valid_json() {
    let scratch = Scratch::new("schema");
    let run = scratch.run(&["schema", "--out", "kelviq.schema.json"]).ok();
    assert_eq!(run.stdout, "");
    let text = std::fs::read_to_string(scratch.path("kelviq.schema.json")).unwrap();
    let schema: Value = serde_json::from_str(&text).unwrap();
    for key in ["products", "features", "plans"] {
        assert!(schema["properties"][key].is_object(), "{key}");
    }
    assert_eq!(schema, kelviq_config::json_schema());

    let run = scratch.run(&["schema"]).ok();
    assert_eq!(serde_json::from_str::<Value>(&run.stdout).unwrap(), schema);
}

#[test]
fn env_json_is_one_document_that_never_holds_a_key() {
    let scratch = Scratch::new("env");
    let sandbox_key = "sk_sandbox_SECRET_0123456789";
    let prod_key = "sk_live_SECRET_9876543210";
    let stored_key = "sk_stored_SECRET_5555";
    scratch
        .run_with_stdin(&["login", "--prod"], &format!("{stored_key}\n"))
        .ok();

    let mut command = scratch.command(&["env", "--json"]);
    command
        .env("KELVIQ_SANDBOX_SERVER_API_KEY", sandbox_key)
        .env("KELVIQ_SANDBOX_BASE_URL", "http://127.0.0.1:8787/api/v1/");
    let run = Run::of(command.output().unwrap()).ok();
    let report: Value = serde_json::from_str(&run.stdout).expect("exactly one JSON document");
    for secret in [sandbox_key, prod_key, stored_key, "SECRET"] {
        assert!(
            !run.stdout.contains(secret) && !run.stderr.contains(secret),
            "{run:?}"
        );
    }
    assert_eq!(report["environment"], "sandbox");
    assert_eq!(report["org"], Value::Null);
    let sandbox = &report["sandbox"];
    assert_eq!(sandbox["key"], "set");
    assert_eq!(sandbox["keyFrom"], "KELVIQ_SANDBOX_SERVER_API_KEY");
    assert_eq!(sandbox["keyVariable"], "KELVIQ_SANDBOX_SERVER_API_KEY");
    assert_eq!(sandbox["apiUrl"], "http://127.0.0.1:8787/api/v1");
    assert_eq!(sandbox["apiUrlFrom"], "KELVIQ_SANDBOX_BASE_URL");
    assert_eq!(
        sandbox["edgeUrl"],
        "https://edge.sandboxapi.kelviq.com/api/v1"
    );
    let production = &report["production"];
    assert_eq!(production["key"], "set");
    assert_eq!(production["keyFrom"], "credentials file");
    assert_eq!(production["apiUrl"], "https://api.kelviq.com/api/v1");
    assert_eq!(production["apiUrlFrom"], Value::Null);
    assert!(report["credentialsFile"]
        .as_str()
        .unwrap()
        .ends_with("credentials.toml"));
    let keys: Vec<&str> = report
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "credentialsFile",
            "environment",
            "org",
            "production",
            "sandbox"
        ]
    );

    // --prod; the production variable wins over the stored key; an empty variable is unset.
    let mut command = scratch.command(&["env", "--json", "--prod"]);
    command
        .env("KELVIQ_SERVER_API_KEY", prod_key)
        .env("KELVIQ_SANDBOX_SERVER_API_KEY", "");
    let run = Run::of(command.output().unwrap()).ok();
    let report: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(report["environment"], "production");
    assert_eq!(report["production"]["keyFrom"], "KELVIQ_SERVER_API_KEY");
    assert_eq!(report["sandbox"]["key"], "missing");
    assert!(!run.stdout.contains(prod_key));

    // The text report says set/missing only.
    let mut command = scratch.command(&["env"]);
    command.env("KELVIQ_SANDBOX_SERVER_API_KEY", sandbox_key);
    let run = Run::of(command.output().unwrap()).ok();
    assert!(!run.stdout.contains("SECRET"), "{run:?}");
    assert!(run.stdout.contains("Environment : sandbox"), "{run:?}");
    assert!(
        run.stdout
            .contains("Sandbox key : set (from KELVIQ_SANDBOX_SERVER_API_KEY)"),
        "{run:?}"
    );
    assert!(
        run.stdout
            .contains("Prod key    : set (from credentials file)"),
        "{run:?}"
    );
}

#[test]
fn login_stores_an_owner_only_file_and_logout_removes_it() {
    let scratch = Scratch::new("login");
    let key = "sk_sandbox_TOPSECRET_42";
    let run = scratch
        .run_with_stdin(&["login"], &format!("  {key}  \n"))
        .ok();
    assert!(
        !run.stdout.contains(key) && !run.stderr.contains(key),
        "{run:?}"
    );
    let path = scratch.credentials();
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(
        text.contains(&format!("server_api_key = \"{key}\"")),
        "trimmed"
    );
    assert!(text.contains("[sandbox]") && !text.contains("[production]"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&path), 0o600);
        assert_eq!(mode(path.parent().unwrap()), 0o700);
    }

    // The production key beside it, through --key-stdin.
    let run = scratch
        .run_with_stdin(&["login", "--prod", "--key-stdin"], "sk_live_OTHERSECRET\n")
        .ok();
    assert!(!run.stderr.contains("OTHERSECRET"));
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("[sandbox]") && text.contains("[production]"));

    let run = scratch.run(&["env"]).ok();
    assert!(!run.stdout.contains("SECRET"), "{run:?}");

    scratch.run(&["logout"]).ok();
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(!text.contains("[sandbox]") && text.contains("[production]"));
    scratch.run(&["logout", "--prod"]).ok();
    assert!(!path.exists(), "no key left: no file");
    scratch.run(&["logout", "--all"]).ok();

    // Nothing, or not a key, stores nothing.
    let run = scratch.run_with_stdin(&["login"], "\n").failed();
    assert!(run.stderr.contains("no key given"), "{run:?}");
    let run = scratch.run_with_stdin(&["login"], "sk_part one\n").failed();
    assert!(!run.stderr.contains("sk_part"), "{run:?}");
    assert!(!path.exists());
}

#[test]
fn validate_names_file_line_and_field_of_each_problem() {
    let scratch = Scratch::new("validate");
    let text = kelviq_config::STARTER_TOML
        .replace("feature = \"seats\"", "feature = \"seat\"")
        .replace("taxCode = \"saas\"", "taxCode = 3");
    std::fs::write(scratch.path("kelviq.config.toml"), &text).unwrap();
    let line = |needle: &str| text.lines().position(|l| l == needle).unwrap() + 1;

    let run = scratch.run(&["validate"]).failed();
    assert!(
        run.stderr.contains(&format!(
            "kelviq.config.toml:{}:11: products[0].taxCode: invalid type: integer `3`, expected a string",
            line("taxCode = 3")
        )),
        "{run:?}"
    );
    assert_eq!(run.stdout, "");

    std::fs::write(
        scratch.path("kelviq.config.toml"),
        text.replace("taxCode = 3", "taxCode = \"saas\""),
    )
    .unwrap();
    let run = scratch.run(&["validate", "kelviq.config.toml"]).failed();
    assert!(
        run.stderr.contains(&format!(
            "kelviq.config.toml:{}:11: plans[0].entitlements[0].feature: expected the identifier of a feature declared in this file",
            line("feature = \"seat\"")
        )),
        "{run:?}"
    );
    assert!(
        run.stderr.contains("feature = \"seat\""),
        "the line is shown: {run:?}"
    );

    std::fs::write(
        scratch.path("bad.json"),
        "{\n  \"plans\": [\n    {\"identifier\": \"p\", \"name\": \"P\"}\n  ]\n}\n",
    )
    .unwrap();
    let run = scratch.run(&["validate", "bad.json"]).failed();
    assert!(
        run.stderr
            .contains("bad.json:3:5: plans[0].product: expected required field `product`"),
        "{run:?}"
    );

    let run = scratch.run(&["validate", "missing.toml"]).failed();
    assert!(
        run.stderr.contains("missing.toml: cannot read the file"),
        "{run:?}"
    );
}

#[test]
fn nothing_is_coloured_when_piped_even_with_errors() {
    // Run::of asserts the absence of escapes on every run; these cover the coloured paths.
    let scratch = Scratch::new("colour");
    scratch.run(&["init"]).ok();
    scratch.run(&["init"]).failed();
    scratch.run(&["env"]).ok();
    scratch.run(&["env", "--prod"]).ok();
    scratch.run(&["logout", "--all"]).ok();
    std::fs::write(scratch.path("bad.toml"), "[[plans]]\nidentifier = \"X\"\n").unwrap();
    scratch.run(&["validate", "bad.toml"]).failed();
    let run = scratch
        .run(&["--no-color", "validate", "nope.toml"])
        .failed();
    assert!(run.stderr.starts_with("error: nope.toml: "), "{run:?}");
    let run = scratch.run(&["frobnicate"]);
    assert_eq!(
        run.code,
        Some(2),
        "clap refuses an unknown command: {run:?}"
    );
}

#[test]
fn a_key_given_on_the_command_line_is_refused_without_being_echoed() {
    let scratch = Scratch::new("login-arg");
    for args in [
        &["login", "sk_sandbox_ARGSECRET_1"][..],
        &["login", "--prod", "sk_sandbox_ARGSECRET_1"][..],
        &["login", "--key-stdin=sk_sandbox_ARGSECRET_1"][..],
        &["--quiet", "login", "--prod=sk_sandbox_ARGSECRET_1"][..],
        &["login", "x", "sk_sandbox_ARGSECRET_1"][..],
    ] {
        let run = scratch.run(args);
        assert_ne!(run.code, Some(0), "{run:?}");
        assert!(
            !run.stdout.contains("ARGSECRET") && !run.stderr.contains("ARGSECRET"),
            "{run:?}"
        );
        assert!(!scratch.credentials().exists());
    }
}

#[test]
fn an_overlong_key_is_refused_not_truncated() {
    let scratch = Scratch::new("login-long");
    let key = format!("sk_{}", "a".repeat(5000));
    let run = scratch
        .run_with_stdin(&["login"], &format!("{key}\n"))
        .failed();
    assert!(!run.stderr.contains("aaaa"), "{run:?}");
    assert!(!scratch.credentials().exists(), "nothing stored");
}
