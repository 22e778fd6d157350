//! `pm2-incident freeze on --reason … | off | status | check`: the deployment freeze, and
//! the hidden `deploy-stop` the Immediate Response step runs to stop one deployment.
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::cmd::cli::RunbookSource;
use crate::deploy::freeze::{self, Freeze, FreezeState};
use crate::sanitize::escape_line;

#[derive(clap::Args, Debug, Clone)]
pub struct FreezeArgs {
    #[command(subcommand)]
    pub action: FreezeAction,
    /// The freeze file (default: the inventory's deploy.freeze_file, else <state dir>/freeze.json)
    #[arg(long, value_name = "FILE", global = true)]
    pub file: Option<PathBuf>,
    #[command(flatten)]
    pub source: RunbookSource,
}

#[derive(clap::Subcommand, Debug, Clone)]
pub enum FreezeAction {
    /// Freeze deployments (the file is written atomically, mode 0644)
    On {
        /// Why (shown to whoever tries to deploy)
        #[arg(long)]
        reason: String,
        /// The incident this freeze belongs to
        #[arg(long)]
        incident: Option<String>,
    },
    /// Lift the freeze
    Off,
    /// Print whether deployments are frozen, by whom, when and why
    Status,
    /// For workflows: exit 0 when not frozen, 1 while frozen (printing who/when/why), 2 cannot tell
    Check,
}

fn path(args: &FreezeArgs) -> Result<PathBuf, String> {
    if let Some(f) = &args.file {
        return Ok(f.clone());
    }
    let rb = crate::cmd::runbook::load(&args.source)
        .map_err(|_| "the inventory does not load".to_string())?;
    let state = crate::journal::paths::default_dir_from_env();
    freeze::path_for(&rb.inventory, state.as_deref()).ok_or_else(|| {
        "no freeze file: set deploy.freeze_file in the inventory, or HOME/XDG_STATE_HOME".into()
    })
}

/// Who is freezing: the user behind sudo if any, else this user.
fn who() -> String {
    let names = std::fs::read_to_string("/etc/passwd")
        .map(|t| crate::deploy::procfs::user_names(&t))
        .unwrap_or_default();
    // SAFETY: getuid has no failure mode.
    let me = crate::deploy::procfs::user_name(&names, unsafe { libc::getuid() });
    match std::env::var("SUDO_USER").ok().filter(|s| !s.is_empty()) {
        Some(s) if s != me => format!("{s} (as {me})"),
        _ => me,
    }
}

fn host() -> Option<String> {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
}

pub fn run(args: &FreezeArgs) -> i32 {
    let p = match path(args) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("pm2-incident freeze: {e}");
            return 2;
        }
    };
    match &args.action {
        FreezeAction::On { reason, incident } => {
            if reason.trim().is_empty() {
                eprintln!("pm2-incident freeze on: --reason must say why");
                return 2;
            }
            let before = freeze::read(&p);
            let f = Freeze {
                by: who(),
                at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                reason: reason.trim().to_string(),
                host: host(),
                incident: incident.clone(),
            };
            if let Err(e) = freeze::freeze(&p, &f) {
                eprintln!("pm2-incident freeze on: {}: {e}", p.display());
                return 1;
            }
            if let FreezeState::Frozen(old) = before {
                println!(
                    "(was already frozen by {} at {}: {})",
                    escape_line(&old.by),
                    old.at,
                    escape_line(&old.reason)
                );
            }
            println!("{}", escape_line(&freeze::describe(&freeze::read(&p), &p)));
            println!("workflows that run `pm2-incident freeze check --file {}` will not deploy until `pm2-incident freeze off`", p.display());
            0
        }
        FreezeAction::Off => match freeze::thaw(&p) {
            Ok(true) => {
                println!("deployments unfrozen ({} removed)", p.display());
                0
            }
            Ok(false) => {
                println!(
                    "deployments were not frozen ({} does not exist)",
                    p.display()
                );
                0
            }
            Err(e) => {
                eprintln!("pm2-incident freeze off: {}: {e}", p.display());
                1
            }
        },
        FreezeAction::Status | FreezeAction::Check => {
            let st = freeze::read(&p);
            let line = escape_line(&freeze::describe(&st, &p)).into_owned();
            match (st.frozen(), matches!(args.action, FreezeAction::Check)) {
                (Some(true), true) => {
                    eprintln!("{line}");
                    eprintln!("do not deploy until the incident is resolved");
                    1
                }
                (Some(_), _) => {
                    println!("{line}");
                    0
                }
                (None, _) => {
                    eprintln!("{line}");
                    2
                }
            }
        }
    }
}

#[derive(clap::Args, Debug, Clone)]
pub struct DeployStopArgs {
    /// The deployment's root process
    #[arg(long)]
    pub pid: i32,
    /// Its start time in clock ticks (from /proc/PID/stat): a reused pid is never signalled
    #[arg(long)]
    pub start_ticks: u64,
    /// The whole process group is this deployment's: signal the group too
    #[arg(long)]
    pub group: bool,
    /// Seconds between TERM and KILL
    #[arg(long, default_value_t = 10)]
    pub grace_secs: u64,
}

/// Stops one deployment and says what was stopped; exit 0 when nothing of it is left.
pub fn deploy_stop(args: &DeployStopArgs) -> i32 {
    let r = match crate::deploy::stop::stop(
        Path::new("/proc"),
        args.pid,
        args.start_ticks,
        args.group,
        Duration::from_secs(args.grace_secs),
    ) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("pm2-incident deploy-stop: {e}");
            return 2;
        }
    };
    let list = |v: &[i32]| v.iter().map(i32::to_string).collect::<Vec<_>>().join(" ");
    println!(
        "TERM sent to {} (pids {}{})",
        if r.group_signalled {
            "process group"
        } else {
            "processes"
        },
        list(&r.termed),
        if r.group_signalled {
            format!(", group {}", r.pgid)
        } else {
            String::new()
        }
    );
    if r.killed.is_empty() {
        println!("all exited within the {} s grace period", args.grace_secs);
    } else {
        println!(
            "KILL sent after {} s to pids {}",
            args.grace_secs,
            list(&r.killed)
        );
    }
    println!("the CI run this belonged to will show as failed or cancelled; re-run it only after the incident is resolved");
    if r.remaining.is_empty() {
        println!("no process of the deployment is left");
        0
    } else {
        println!("STILL RUNNING: pids {}", list(&r.remaining));
        1
    }
}

#[derive(clap::Args, Debug, Clone)]
pub struct GiteaCancelArgs {
    /// Gitea base URL
    #[arg(long)]
    pub url: String,
    /// Environment variable holding the token
    #[arg(long)]
    pub token_env: Option<String>,
    /// File (mode 0600) holding the token
    #[arg(long)]
    pub token_file: Option<String>,
    /// owner/repo
    #[arg(long)]
    pub repo: String,
    /// The run's id (the database id Gitea's API uses, not the run number)
    #[arg(long)]
    pub run: i64,
}

/// Cancels one Gitea Actions run; exit 0 when cancelled or already finished.
pub fn gitea_cancel(args: &GiteaCancelArgs) -> i32 {
    use crate::deploy::gitea::{load_token, Client, GiteaError};
    let settings = crate::runbook::inventory::GiteaSettings {
        url: args.url.clone(),
        token_env: args.token_env.clone(),
        token_file: args.token_file.clone(),
        repos: vec![args.repo.clone()],
    };
    let result = load_token(&settings)
        .and_then(|t| Client::new(&args.url, t, Duration::from_secs(10)))
        .and_then(|c| {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| GiteaError::Transport(e.to_string()))?;
            rt.block_on(c.cancel(&args.repo, args.run))
        });
    match result {
        Ok(run) => {
            println!(
                "cancel requested: {} {}",
                escape_line(&args.repo),
                escape_line(&run.summary())
            );
            println!("Gitea tells the runner to stop; the run shows as cancelled once the runner confirms");
            0
        }
        Err(GiteaError::AlreadyFinished) => {
            println!(
                "run {} of {} had already finished; nothing to cancel",
                args.run,
                escape_line(&args.repo)
            );
            0
        }
        Err(e) => {
            eprintln!("pm2-incident gitea-cancel: {e}");
            1
        }
    }
}
