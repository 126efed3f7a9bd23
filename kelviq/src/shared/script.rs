//! Lua scripts, run by their hash and, when the node does not know them yet, by their text.
//!
//! The `redis` crate's own fallback loads a script with `SCRIPT LOAD`, which a cluster
//! connection sends to every node: while a node is down (a failover in progress) that fails,
//! and the script never runs. `EVAL` instead goes to the node owning the script's keys, like
//! the `EVALSHA` it replaces, and leaves the script cached there.

use redis::{FromRedisValue, RedisResult, ToRedisArgs};

/// A script and its SHA-1.
pub(crate) struct Script {
    code: String,
    hash: String,
}

impl Script {
    pub(crate) fn new(code: &str) -> Self {
        Self {
            hash: redis::Script::new(code).get_hash().to_owned(),
            code: code.to_owned(),
        }
    }

    /// An invocation without keys or arguments yet.
    pub(crate) fn prepare_invoke(&self) -> Invocation<'_> {
        Invocation {
            script: self,
            keys: std::borrow::Cow::Owned(Vec::new()),
            args: Vec::new(),
        }
    }

    /// An invocation with keys encoded once, ahead of time (for a script run on every
    /// report).
    pub(crate) fn with_keys<'a>(&'a self, keys: &'a [Vec<u8>]) -> Invocation<'a> {
        Invocation {
            script: self,
            keys: std::borrow::Cow::Borrowed(keys),
            args: Vec::new(),
        }
    }

    /// An invocation with its first key.
    pub(crate) fn key<T: ToRedisArgs>(&self, key: T) -> Invocation<'_> {
        let mut invocation = self.prepare_invoke();
        invocation.key(key);
        invocation
    }
}

/// A script with its keys and arguments.
pub(crate) struct Invocation<'a> {
    script: &'a Script,
    keys: std::borrow::Cow<'a, [Vec<u8>]>,
    args: Vec<Vec<u8>>,
}

impl Invocation<'_> {
    pub(crate) fn key<T: ToRedisArgs>(&mut self, key: T) -> &mut Self {
        self.keys.to_mut().extend(key.to_redis_args());
        self
    }

    pub(crate) fn arg<T: ToRedisArgs>(&mut self, arg: T) -> &mut Self {
        self.args.extend(arg.to_redis_args());
        self
    }

    fn command(&self, verb: &str, script: &str) -> redis::Cmd {
        let mut command = redis::cmd(verb);
        command
            .arg(script)
            .arg(self.keys.len())
            .arg(&*self.keys)
            .arg(&self.args);
        command
    }

    /// Runs it: by hash, then by text if the node answers that it does not know the hash.
    pub(crate) async fn invoke_async<T: FromRedisValue>(
        &self,
        connection: &mut impl redis::aio::ConnectionLike,
    ) -> RedisResult<T> {
        match self
            .command("EVALSHA", &self.script.hash)
            .query_async(connection)
            .await
        {
            Err(error)
                if error.kind() == redis::ErrorKind::Server(redis::ServerErrorKind::NoScript) =>
            {
                self.command("EVAL", &self.script.code)
                    .query_async(connection)
                    .await
            }
            answered => answered,
        }
    }
}
