//! The keys `kelviq login` stores: `$XDG_CONFIG_HOME/kelviq/credentials.toml`, or
//! `~/.config/kelviq/credentials.toml` (`%APPDATA%\kelviq\credentials.toml` on Windows).
//!
//! The documented TypeScript CLI keeps its keys in `config.json` in the same directory; this
//! CLI keeps its own file, so neither rewrites the other's. On Unix the directory is created
//! `0700` and the file `0600` from the start (never widened and then narrowed): it is
//! written to a new file of mode `0600` in the same directory, then renamed over the old one.
//! A key is never printed, logged, or shown by `Debug`.

use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::target::Target;
use crate::Failure;

/// A Server API key. Its `Debug` hides it; there is no `Display`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ApiKey(String);

impl ApiKey {
    /// Wraps a key.
    pub fn new(key: String) -> Self {
        Self(key)
    }

    /// How many characters it has (all the CLI ever says about a key).
    pub fn char_count(&self) -> usize {
        self.0.chars().count()
    }

    /// The key itself, for an Authorization header (the commands that call the API).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey(<redacted>)")
    }
}

/// One environment's stored entry.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Entry {
    server_api_key: ApiKey,
}

/// The stored keys, one per environment.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Credentials {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sandbox: Option<Entry>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    production: Option<Entry>,
}

const HEADER: &str = "# Kelviq CLI credentials (`kelviq login` / `kelviq logout`).\n\
# Server API keys have full API access: keep this file private and never commit it.\n\n";

impl Credentials {
    /// The key stored for `target`.
    pub fn get(&self, target: Target) -> Option<&ApiKey> {
        self.slot(target).as_ref().map(|e| &e.server_api_key)
    }

    /// Stores `key` for `target`.
    pub fn set(&mut self, target: Target, key: ApiKey) {
        *self.slot_mut(target) = Some(Entry {
            server_api_key: key,
        });
    }

    /// Forgets `target`'s key; whether there was one.
    pub fn remove(&mut self, target: Target) -> bool {
        self.slot_mut(target).take().is_some()
    }

    /// Whether no key is stored.
    pub fn is_empty(&self) -> bool {
        self.sandbox.is_none() && self.production.is_none()
    }

    fn slot(&self, target: Target) -> &Option<Entry> {
        match target {
            Target::Sandbox => &self.sandbox,
            Target::Production => &self.production,
        }
    }

    fn slot_mut(&mut self, target: Target) -> &mut Option<Entry> {
        match target {
            Target::Sandbox => &mut self.sandbox,
            Target::Production => &mut self.production,
        }
    }

    /// Reads the file at `path`; empty when there is none.
    pub fn load(path: &Path) -> Result<Self, Failure> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Self::default()),
            Err(e) => return Err(Failure::new(format!("cannot read {}: {e}", path.display()))),
        };
        // Never toml's own message: it may quote the file's text, keys included.
        toml::from_str(&text).map_err(|e| {
            let line = e
                .span()
                .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1);
            Failure::new(format!(
                "{}{}: not a credentials file this CLI wrote; run `kelviq logout --all` to \
                 remove it, then `kelviq login`",
                path.display(),
                line.map(|l| format!(":{l}")).unwrap_or_default()
            ))
        })
    }

    /// Writes the keys to `path` (mode `0600` on Unix), or removes the file when none is
    /// left.
    pub fn save(&self, path: &Path) -> Result<(), Failure> {
        if self.is_empty() {
            return match std::fs::remove_file(path) {
                Ok(()) => Ok(()),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
                Err(e) => Err(Failure::new(format!(
                    "cannot remove {}: {e}",
                    path.display()
                ))),
            };
        }
        let dir = path.parent().unwrap_or(Path::new("."));
        create_private_dir(dir)
            .map_err(|e| Failure::new(format!("cannot create {}: {e}", dir.display())))?;
        let text = format!(
            "{HEADER}{}",
            toml::to_string(self).map_err(|e| Failure::new(e.to_string()))?
        );
        let temporary = dir.join(format!(".credentials.toml.{}.tmp", std::process::id()));
        let written = write_private(&temporary, text.as_bytes())
            .and_then(|()| std::fs::rename(&temporary, path));
        if let Err(e) = written {
            let _ = std::fs::remove_file(&temporary);
            return Err(Failure::new(format!(
                "cannot write {}: {e}",
                path.display()
            )));
        }
        Ok(())
    }
}

/// Where the credentials live, or why there is nowhere.
pub fn path() -> Result<PathBuf, Failure> {
    config_dir()
        .map(|dir| dir.join("kelviq").join("credentials.toml"))
        .ok_or_else(|| {
            Failure::new(
                "cannot find your configuration directory: set XDG_CONFIG_HOME or HOME, or use \
                 the KELVIQ_SANDBOX_SERVER_API_KEY / KELVIQ_SERVER_API_KEY variables instead",
            )
        })
}

/// `$XDG_CONFIG_HOME` when set to an absolute path (the XDG rule), else `$HOME/.config`;
/// `%APPDATA%` on Windows.
fn config_dir() -> Option<PathBuf> {
    let absolute = |name: &str| {
        std::env::var_os(name)
            .map(PathBuf::from)
            .filter(|p| p.is_absolute())
    };
    if cfg!(windows) {
        return absolute("APPDATA");
    }
    absolute("XDG_CONFIG_HOME").or_else(|| absolute("HOME").map(|home| home.join(".config")))
}

/// Creates `dir` (and its missing parents) `0700`; an existing `dir` wider than that (made
/// by hand, or by another tool) is narrowed to `0700`, as the key is about to go in it.
#[cfg(unix)]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)?;
    let mode = std::fs::metadata(dir)?.permissions().mode();
    if mode & 0o077 != 0 {
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(mode & 0o700))?;
    }
    Ok(())
}

#[cfg(not(unix))]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)
}

/// Writes a new file readable by its owner only, from its creation.
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_a_key() {
        let mut credentials = Credentials::default();
        credentials.set(Target::Sandbox, ApiKey::new("sk_secret_value".into()));
        let debug = format!("{credentials:?}");
        assert!(!debug.contains("sk_secret_value"), "{debug}");
        assert!(debug.contains("<redacted>"), "{debug}");
    }

    #[test]
    fn keys_are_kept_per_environment() {
        let mut credentials = Credentials::default();
        credentials.set(Target::Production, ApiKey::new("p".into()));
        assert!(credentials.get(Target::Sandbox).is_none());
        assert_eq!(credentials.get(Target::Production).unwrap().expose(), "p");
        let text = toml::to_string(&credentials).unwrap();
        let back: Credentials = toml::from_str(&text).unwrap();
        assert_eq!(back.get(Target::Production).unwrap().char_count(), 1);
        assert!(credentials.remove(Target::Production));
        assert!(credentials.is_empty());
    }

    fn scratch(tag: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "kelviq-credentials-{tag}-{}-{:?}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[cfg(unix)]
    #[test]
    fn save_narrows_an_existing_wide_directory() {
        use std::os::unix::fs::PermissionsExt;
        let root = scratch("wide");
        let dir = root.join("kelviq");
        std::fs::create_dir(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).unwrap();
        let path = dir.join("credentials.toml");
        let mut credentials = Credentials::default();
        credentials.set(Target::Sandbox, ApiKey::new("sk_x".into()));
        credentials.save(&path).unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        let (dir_mode, file_mode) = (mode(&dir), mode(&path));
        let _ = std::fs::remove_dir_all(&root);
        assert_eq!(file_mode, 0o600);
        assert_eq!(dir_mode, 0o700, "the key's directory is owner-only");
    }

    #[test]
    fn a_malformed_file_never_panics_nor_quotes_a_key() {
        let root = scratch("malformed");
        let path = root.join("credentials.toml");
        let secret = "sk_TOPSECRET_é";
        let inputs = [
            format!("[sandbox]\nserver_api_key = \"{secret}"),
            format!("[sandbox]\nserver_api_key = {secret}"),
            format!("[sandbox]\nserver_api_key = \"{secret}\"\nserver_api_key = \"{secret}\""),
            format!("[sandbox]\nserver_api_key = [\"{secret}\"]"),
            format!("[sandbox]\nserver_api_key = \"{secret}\"\n[sandbox]"),
            format!("server_api_key = \"{secret}\""),
            format!("[sandbox]\nserver_api_key = \"\\é{secret}\""),
            format!("é{secret}é = 1"),
            format!("[sandbox]\nserver_api_key = '''{secret}"),
            "[sandbox]\nserver_api_key = 99999999999999999999999999".to_owned(),
            "é".to_owned(),
            "\u{feff}[sandbox".to_owned(),
        ];
        for input in inputs {
            std::fs::write(&path, &input).unwrap();
            if let Err(failure) = Credentials::load(&path) {
                assert!(
                    !failure.message.contains("TOPSECRET"),
                    "{input:?}: {}",
                    failure.message
                );
            }
        }
        std::fs::write(&path, [b'[', 0xff, 0xfe, b']']).unwrap();
        let failure = Credentials::load(&path).unwrap_err();
        assert!(!failure.message.is_empty());
        let _ = std::fs::remove_dir_all(&root);
    }
}
