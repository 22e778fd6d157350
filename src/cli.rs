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
    /// Inventory file (TOML); default: the embedded projectium.com inventory
    #[arg(long, value_name = "FILE")]
    pub inventory: Option<PathBuf>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Validate, or print, the runbook and inventory
    #[command(subcommand)]
    Runbook(RunbookCmd),
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
        Command::Runbook(RunbookCmd::Check(src)) => crate::runbook::cli::check(&src),
        Command::Runbook(RunbookCmd::Show(src)) => crate::runbook::cli::show(&src),
    }
}
