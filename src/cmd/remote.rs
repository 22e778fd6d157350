//! What the `--host` subcommands share: a headless session per host, and the hosts to read
//! with the runbook each is judged by.
use crate::cmd::cli::RunbookSource;
use crate::health::HealthChecker;
use crate::remote::{Dest, Session, SessionOptions, SshCommand};
use crate::runbook::Runbook;
use std::path::{Path, PathBuf};
use std::sync::Arc;
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

/// One host a command reads, with the runbook that judges it and the health checker for
/// that runbook's inventory (shared by every host judged by the same runbook).
#[derive(Clone)]
pub struct HostTarget {
    pub dest: Dest,
    /// PM2_HOME on that server (`None`: the login's).
    pub home: Option<PathBuf>,
    pub rb: Arc<Runbook>,
    pub checker: Arc<Result<HealthChecker, String>>,
    /// The host's own inventory file, when its `[[host]]` names one.
    pub inventory: Option<PathBuf>,
}

fn checker_for(rb: &Runbook) -> Arc<Result<HealthChecker, String>> {
    Arc::new(HealthChecker::from_inventory(&rb.inventory).map_err(|e| e.to_string()))
}

/// The hosts a command reads: `--host` (with `--pm2-home`, judged by `rb`), else the
/// inventory's `[[host]]` entries (each with its own `pm2_home`, else `--pm2-home`, and its
/// own inventory file when it names one). `None` (said on stderr): the inventories do not
/// load, or there is no host (`none_msg`).
pub fn hosts(
    cli: &[Dest],
    cli_home: Option<&Path>,
    rb: Arc<Runbook>,
    src: &RunbookSource,
    none_msg: &str,
) -> Option<Vec<HostTarget>> {
    let main_checker = checker_for(&rb);
    let target = |dest: Dest, home: Option<PathBuf>, own: Option<(Runbook, PathBuf)>| {
        let (rb, checker, inventory) = match own {
            Some((r, path)) => {
                let c = checker_for(&r);
                (Arc::new(r), c, Some(path))
            }
            None => (rb.clone(), main_checker.clone(), None),
        };
        HostTarget {
            dest,
            home: home.or_else(|| cli_home.map(Path::to_path_buf)),
            rb,
            checker,
            inventory,
        }
    };
    let out: Vec<HostTarget> = if !cli.is_empty() {
        cli.iter().map(|d| target(d.clone(), None, None)).collect()
    } else {
        let listing = crate::cmd::runbook::inventory_path(src);
        let own = crate::cmd::runbook::host_runbooks(src, &rb).ok()?;
        let mut out = Vec::new();
        for (h, own) in rb.inventory.host.iter().zip(own) {
            // Validated on load: a bad destination never gets here.
            let dest = match Dest::parse(h.dest.get_ref()) {
                Ok(d) => d,
                Err(e) => {
                    eprintln!("pm2-incident: {e}");
                    return None;
                }
            };
            let path = h
                .inventory
                .as_ref()
                .map(|f| crate::runbook::hosts::resolve(listing.as_deref(), f.get_ref()));
            let home = h.pm2_home.as_ref().map(|p| PathBuf::from(p.get_ref()));
            out.push(target(dest, home, own.zip(path)));
        }
        out
    };
    if out.is_empty() {
        eprintln!("pm2-incident: {none_msg}");
        return None;
    }
    Some(out)
}
