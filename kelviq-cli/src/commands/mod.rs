//! One module per command, each with its clap `Args` and a `run` function.

pub mod env;
pub mod init;
pub mod login;
pub mod logout;
pub mod promote;
pub mod pull;
pub mod push;
pub mod schema;
pub mod validate;
