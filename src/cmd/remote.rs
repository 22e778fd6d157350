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

/// The hosts a command reads: `--host` (with `--pm2-home`), else the inventory's `[[host]]`
/// entries (each with its own `pm2_home`, else `--pm2-home`). Errors name the inventory value.
pub fn hosts(
    cli: &[Dest],
    cli_home: Option<&std::path::Path>,
    inventory: &crate::runbook::Inventory,
) -> Result<Vec<(Dest, Option<std::path::PathBuf>)>, String> {
    if !cli.is_empty() {
        return Ok(cli
            .iter()
            .map(|d| (d.clone(), cli_home.map(std::path::Path::to_path_buf)))
            .collect());
    }
    inventory
        .host
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let dest = Dest::parse(&h.dest)
                .map_err(|e| format!("inventory [[host]] #{}: dest: {e}", i + 1))?;
            let home = match &h.pm2_home {
                Some(p) if !p.starts_with('/') => {
                    return Err(format!(
                        "inventory [[host]] #{} ({dest}): pm2_home {:?} must be an absolute path on that server",
                        i + 1,
                        crate::sanitize::escape_line(p)
                    ))
                }
                Some(p) => Some(std::path::PathBuf::from(p)),
                None => cli_home.map(std::path::Path::to_path_buf),
            };
            Ok((dest, home))
        })
        .collect()
}
