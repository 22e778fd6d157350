//! Command-line interface: parses arguments and dispatches to the library.
//! Each subcommand handler returns the process exit code.
use clap::{Parser, Subcommand};
use std::path::PathBuf;

use crate::pm2::source::{SourceArgs, SourceKind};

#[derive(Parser, Debug)]
#[command(
    name = "pm2-incident",
    version,
    about = "Guided PM2 incident response: runbook, live PM2 state, health checks, guarded commands"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// Where the runbook and inventory come from (the embedded defaults unless overridden).
#[derive(clap::Args, Debug, Clone, Default)]
pub struct RunbookSource {
    /// Procedure file (TOML); default: the embedded source runbook
    #[arg(long, value_name = "FILE")]
    pub runbook: Option<PathBuf>,
    /// Inventory file (TOML), or `example` for the shipped example; default: $PM2_INCIDENT_INVENTORY,
    /// $XDG_CONFIG_HOME/pm2-incident/inventory.toml, /etc/pm2-incident/inventory.toml
    #[arg(long, value_name = "FILE")]
    pub inventory: Option<PathBuf>,
}

/// Where PM2 is read from (`--pm2-*`), turned into the engine's [`SourceArgs`].
#[derive(clap::Args, Debug, Clone)]
pub struct Pm2SourceArgs {
    /// Where to read PM2 from: rpc (rpc.sock, never starts a daemon) or cli (`pm2 jlist`, starts one if none runs)
    #[arg(long = "pm2-source", value_enum, default_value_t = Pm2SourceKind::Rpc)]
    pub source: Pm2SourceKind,
    /// The pm2 executable for --pm2-source cli
    #[arg(long = "pm2-bin", value_name = "PATH", default_value = "pm2")]
    pub pm2_bin: PathBuf,
    /// PM2_HOME to read (default: $PM2_HOME, else ~/.pm2); with --host, the one on that host
    /// (default there: the login's $PM2_HOME, else $HOME/.pm2)
    #[arg(long = "pm2-home", value_name = "DIR")]
    pub pm2_home: Option<PathBuf>,
    /// Give up on PM2 after this many milliseconds
    #[arg(long = "pm2-timeout-ms", value_name = "MS", default_value_t = 5000)]
    pub timeout_ms: u64,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Pm2SourceKind {
    /// The daemon's rpc.sock: never starts a daemon.
    #[default]
    Rpc,
    /// `pm2 jlist`: STARTS a new, empty daemon when none runs.
    Cli,
}

impl Pm2SourceArgs {
    pub fn to_source(&self) -> SourceArgs {
        SourceArgs {
            source: match self.source {
                Pm2SourceKind::Rpc => SourceKind::Rpc,
                Pm2SourceKind::Cli => SourceKind::Cli,
            },
            pm2_bin: self.pm2_bin.clone(),
            pm2_home: self.pm2_home.clone(),
            timeout_ms: self.timeout_ms,
        }
    }
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Write this server's inventory from what PM2 runs and saved and the ecosystem files (changes nothing)
    Init(crate::cmd::init::InitArgs),
    /// Training drill against a simulated server (start here): the runbook's own incident by default
    Drill(crate::cmd::drill::DrillArgs),
    /// Guided live incident response (full-screen): runbook, PM2 and health side by side
    Respond(crate::cmd::respond::RespondArgs),
    /// Replay a recorded incident (or a `pm2 jlist` dump), read-only, with a timeline cursor
    Replay(crate::cmd::replay::ReplayArgs),
    /// Several servers over OpenSSH, one row each (daemon, processes, health, severity), worst first; live on a terminal
    Fleet(crate::cmd::fleet::FleetArgs),
    /// Headless look at PM2, health, scope, severity and the restore plan; exit 0 none, 1 P3, 2 P2, 3 P1, 4 unknown (--format nagios: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN)
    Snapshot(crate::cmd::snapshot::SnapshotArgs),
    /// Read-only PM2 view: daemon state (via rpc.sock, never starting a daemon) and processes; --watch follows events
    Pm2(crate::cmd::pm2::Pm2Args),
    /// Print the guard's verdict for one command line: exit 0 safe, 10 caution, 20 dangerous
    #[command(name = "check-command")]
    CheckCommand(crate::cmd::lint::CheckArgs),
    /// Find dangerous PM2 use in workflows, shell scripts and JS; exit 1 when any is found
    Lint(crate::cmd::lint::LintArgs),
    /// Markdown incident report (the runbook's template) from a journal or a `pm2 jlist` dump
    Report {
        /// Journal file (JSONL) or raw `pm2 jlist` dump
        file: PathBuf,
        /// Write to this file (mode 0600) instead of stdout
        #[arg(short = 'o', long = "output", value_name = "OUT.md")]
        output: Option<PathBuf>,
        /// Exit 0 even when the journal fails verification (the report is marked either way)
        #[arg(long)]
        allow_tampered: bool,
    },
    /// Check a journal's hash chain; exit 0 intact, 1 tampered or unreadable lines
    Verify {
        /// Journal file (JSONL)
        file: PathBuf,
        /// The head shown when the responder left (64 hex digits): fails if that line is gone or changed
        #[arg(long, value_name = "SHA256")]
        head: Option<String>,
    },
    /// Freeze deployments during an incident: on --reason …, off, status, check (exit 1 while frozen)
    Freeze(crate::cmd::freeze::FreezeArgs),
    /// Stop one running deployment (what the Immediate Response step runs): TERM, then KILL
    #[command(name = "deploy-stop", hide = true)]
    DeployStop(crate::cmd::freeze::DeployStopArgs),
    /// Cancel one Gitea Actions run (what the Immediate Response step runs)
    #[command(name = "gitea-cancel", hide = true)]
    GiteaCancel(crate::cmd::freeze::GiteaCancelArgs),
    /// Validate, or print, the runbook and inventory
    #[command(subcommand)]
    Runbook(RunbookCmd),
    /// Print shell completions (bash, zsh, fish, elvish, powershell) to stdout
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff) to stdout, or write one page per subcommand into --dir
    Man {
        /// Write pm2-incident.1, pm2-incident-snapshot.1, ... into this directory
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
    /// Drill shim entry: answers `pm2 curl systemctl journalctl df free git` from the simulator
    #[command(hide = true, disable_help_flag = true, disable_version_flag = true)]
    Sim {
        tool: String,
        #[arg(trailing_var_arg = true, allow_hyphen_values = true, num_args = 0..)]
        args: Vec<String>,
    },
}

#[derive(Subcommand, Debug)]
pub enum RunbookCmd {
    /// Validate the runbook and inventory; exit 0 when valid, 1 with file:line:col errors
    Check(RunbookSource),
    /// Print the outline: phases, steps, commands with their read/change tag
    Show(RunbookSource),
}

pub fn main() -> i32 {
    let cli = Cli::parse();
    match cli.command {
        Command::Init(args) => crate::cmd::init::run(&args),
        Command::Completions { shell } => crate::cmd::shell::completions(shell),
        Command::Man { dir } => crate::cmd::shell::man(dir.as_deref()),
        Command::Sim { tool, args } => crate::drill::shim::main(&tool, &args),
        Command::CheckCommand(args) => crate::cmd::lint::check_command(&args),
        Command::Lint(args) => crate::cmd::lint::lint(&args),
        Command::Pm2(args) => crate::cmd::pm2::run(&args),
        Command::Runbook(RunbookCmd::Check(src)) => crate::cmd::runbook::check(&src),
        Command::Runbook(RunbookCmd::Show(src)) => crate::cmd::runbook::show(&src),
        Command::Respond(args) => crate::cmd::respond::run(&args),
        Command::Replay(args) => crate::cmd::replay::run(&args),
        Command::Drill(args) => crate::cmd::drill::run(&args),
        Command::Snapshot(args) => crate::cmd::snapshot::run(&args),
        Command::Fleet(args) => crate::cmd::fleet::run(&args),
        Command::Freeze(args) => crate::cmd::freeze::run(&args),
        Command::DeployStop(args) => crate::cmd::freeze::deploy_stop(&args),
        Command::GiteaCancel(args) => crate::cmd::freeze::gitea_cancel(&args),
        Command::Verify { file, head } => crate::cmd::journal::verify(&file, head.as_deref()),
        Command::Report {
            file,
            output,
            allow_tampered,
        } => crate::cmd::journal::report(&file, output.as_deref(), allow_tampered),
    }
}
