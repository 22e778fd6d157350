//! What the `--host` subcommands share: a headless session per host.
use crate::remote::{Dest, Session, SessionOptions, SshCommand};
use std::time::Duration;

pub use crate::remote::fleet::{rank, worst};

/// Start a headless (BatchMode) session to `dest`; the error names the host.
pub fn connect(dest: &Dest, timeout_ms: u64) -> Result<Session, String> {
    let t = Duration::from_millis(timeout_ms.max(1000));
    Session::connect(
        SshCommand::from_env(),
        dest.clone(),
        SessionOptions {
            connect_timeout: t,
            command_timeout: t,
            ..SessionOptions::default()
        },
    )
    .map_err(|e| format!("ssh to {dest}: {e}"))
}
