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
            args: redis::Cmd::new(),
        }
    }

    /// An invocation with keys encoded once, ahead of time (for a script run on every
    /// report), and room for `args` arguments of `bytes` bytes in all.
    pub(crate) fn with_keys<'a>(
        &'a self,
        keys: &'a [Vec<u8>],
        args: usize,
        bytes: usize,
    ) -> Invocation<'a> {
        Invocation {
            script: self,
            keys: std::borrow::Cow::Borrowed(keys),
            args: redis::Cmd::with_capacity(args, bytes),
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
    /// The arguments, encoded one after another in one buffer (a command used as a list
    /// of arguments): the report path pushes a report's every byte through here, and one
    /// allocation per argument, then per growth of the command, cost more than the rest
    /// of the call's encoding.
    args: redis::Cmd,
}

impl Invocation<'_> {
    pub(crate) fn key<T: ToRedisArgs>(&mut self, key: T) -> &mut Self {
        self.keys.to_mut().extend(key.to_redis_args());
        self
    }

    pub(crate) fn arg<T: ToRedisArgs>(&mut self, arg: T) -> &mut Self {
        self.args.arg(arg);
        self
    }

    /// `verb script numkeys keys... args...`, in a command sized for it at once.
    fn command(&self, verb: &str, script: &str) -> redis::Cmd {
        let args = || {
            self.args.args_iter().map(|arg| match arg {
                redis::Arg::Simple(bytes) => bytes,
                // Only `Cmd::cursor_arg` makes anything else, and nothing here calls it.
                _ => &[][..],
            })
        };
        let count = 3 + self.keys.len() + args().len();
        let bytes = verb.len()
            + script.len()
            + 20
            + self.keys.iter().map(Vec::len).sum::<usize>()
            + args().map(<[u8]>::len).sum::<usize>();
        let mut command = redis::Cmd::with_capacity(count, bytes);
        command.arg(verb).arg(script).arg(self.keys.len());
        for key in self.keys.iter() {
            command.arg(key.as_slice());
        }
        for arg in args() {
            command.arg(arg);
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn args(command: &redis::Cmd) -> Vec<Vec<u8>> {
        command
            .args_iter()
            .map(|arg| match arg {
                redis::Arg::Simple(bytes) => bytes.to_vec(),
                _ => panic!("a cursor argument"),
            })
            .collect()
    }

    /// The command is `verb script numkeys keys... args...`, each argument as the `redis`
    /// crate's own `Cmd::arg` would write it: a list expands to one argument an element,
    /// numbers are written in decimal, an empty argument stays one.
    #[test]
    fn an_invocation_is_sent_as_the_crate_would_write_its_keys_and_arguments() {
        let script = Script::new("return 1");
        let keys = [b"{t}queue:order".to_vec(), b"{t}queue:body".to_vec()];
        let ids = vec!["a".to_owned(), "b\u{0}c".to_owned()];
        let body = br#"{"value":1}"#.to_vec();
        let logged: Vec<Vec<u8>> = vec![b"x".to_vec(), Vec::new()];
        let none: &[String] = &[];
        let mut invocation = script.with_keys(&keys, 4, 8);
        invocation
            .arg("owner")
            .arg(&body)
            .arg(30_000u64)
            .arg(64usize)
            .arg(&ids)
            .arg(none)
            .arg(&logged)
            .arg("");
        let mut expected = redis::cmd("EVALSHA");
        expected
            .arg(&script.hash)
            .arg(2)
            .arg(&keys[..])
            .arg("owner")
            .arg(&body)
            .arg(30_000u64)
            .arg(64usize)
            .arg(&ids)
            .arg(none)
            .arg(&logged)
            .arg("");
        let sent = invocation.command("EVALSHA", &script.hash);
        assert_eq!(args(&sent), args(&expected));
        assert_eq!(sent.get_packed_command(), expected.get_packed_command());
        // owner, body, two numbers, two ids, no id, two logged (one empty), one empty.
        assert_eq!(args(&sent).len(), 3 + 2 + 9, "an empty list adds nothing");

        // By text, keys added one by one: the same keys and arguments after the script.
        let mut invocation = script.key(&keys[0]);
        invocation.key(&keys[1]).arg("owner").arg(&ids);
        let sent = args(&invocation.command("EVAL", &script.code));
        assert_eq!(
            sent[..3],
            [b"EVAL".to_vec(), b"return 1".to_vec(), b"2".to_vec()]
        );
        assert_eq!(
            sent[3..],
            [
                keys[0].clone(),
                keys[1].clone(),
                b"owner".to_vec(),
                b"a".to_vec(),
                b"b\0c".to_vec()
            ]
        );
    }
}
