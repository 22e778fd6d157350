//! Command-line interface: parses arguments and dispatches to the library.
//! Each subcommand handler returns the process exit code.
use clap::{Parser, Subcommand};
use std::path::PathBuf;

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

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Write this server's inventory from what PM2 runs and saved and the ecosystem files (changes nothing)
    Init(crate::init_cmd::InitArgs),
    /// Training drill against a simulated server (start here): the runbook's own incident by default
    Drill(crate::drill_cmd::DrillArgs),
    /// Guided live incident response (full-screen): runbook, PM2 and health side by side
    Respond(crate::respond::RespondArgs),
    /// Replay a recorded incident (or a `pm2 jlist` dump), read-only, with a timeline cursor
    Replay(crate::replay_cmd::ReplayArgs),
    /// Headless look at PM2, health, scope, severity and the restore plan; exit 0 none, 1 P3, 2 P2, 3 P1, 4 unknown
    Snapshot(crate::snapshot::cli::SnapshotArgs),
    /// Read-only PM2 view: daemon state (via rpc.sock, never starting a daemon) and processes; --watch follows events
    Pm2(crate::pm2::cmd::Pm2Args),
    /// Print the guard's verdict for one command line: exit 0 safe, 10 caution, 20 dangerous
    #[command(name = "check-command")]
    CheckCommand(crate::guard::cli::CheckArgs),
    /// Find dangerous PM2 use in workflows, shell scripts and JS; exit 1 when any is found
    Lint(crate::guard::cli::LintArgs),
    /// Markdown incident report (the runbook's template) from a journal or a `pm2 jlist` dump
    Report {
        /// Journal file (JSONL) or raw `pm2 jlist` dump
        file: PathBuf,
        /// Write to this file (mode 0600) instead of stdout
        #[arg(short = 'o', long = "output", value_name = "OUT.md")]
        output: Option<PathBuf>,
    },
    /// Check a journal's hash chain; exit 0 intact, 1 tampered or unreadable lines
    Verify {
        /// Journal file (JSONL)
        file: PathBuf,
    },
    /// Validate, or print, the runbook and inventory
    #[command(subcommand)]
    Runbook(RunbookCmd),
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
        Command::Init(args) => crate::init_cmd::run(&args),
        Command::Sim { tool, args } => crate::drill::shim::main(&tool, &args),
        Command::CheckCommand(args) => crate::guard::cli::check_command(&args),
        Command::Lint(args) => crate::guard::cli::lint(&args),
        Command::Pm2(args) => crate::pm2::cmd::run(&args),
        Command::Runbook(RunbookCmd::Check(src)) => crate::runbook::cli::check(&src),
        Command::Runbook(RunbookCmd::Show(src)) => crate::runbook::cli::show(&src),
        Command::Respond(args) => crate::respond::run(&args),
        Command::Replay(args) => crate::replay_cmd::run(&args),
        Command::Drill(args) => crate::drill_cmd::run(&args),
        Command::Snapshot(args) => crate::snapshot::cli::run(&args),
        Command::Verify { file } => crate::journal::cli::verify(&file),
        Command::Report { file, output } => crate::journal::cli::report(&file, output.as_deref()),
    }
}
