//! `pm2-incident snapshot [--json]`.
use super::cli::Pm2SourceArgs;
use super::snapshot_render::{self as render, Style};
use crate::assess::{self, Level, Observation};
use crate::cmd::cli::RunbookSource;
use crate::observe::gather;
use std::io::IsTerminal;

#[derive(clap::Args, Debug, Clone)]
pub struct SnapshotArgs {
    /// Print JSON (keys: pm2, health, scope, severity, plan, checklist)
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub source: RunbookSource,
    #[command(flatten)]
    pub pm2: Pm2SourceArgs,
}

pub fn run(args: &SnapshotArgs) -> i32 {
    let rb = match crate::cmd::runbook::load(&args.source) {
        Ok(rb) => rb,
        Err(_) => return Level::Unknown.exit_code(),
    };
    let snap = gather(&rb, &args.pm2.to_source());
    let a = assess::assess(
        &rb,
        &Observation {
            pm2: snap.pm2_view(),
            health: &snap.health,
        },
    );
    if args.json {
        match serde_json::to_string_pretty(&render::json(&snap, &a)) {
            Ok(s) => println!("{}", crate::sanitize::escape_json_output(&s)),
            Err(e) => eprintln!("pm2-incident: cannot write JSON: {e}"),
        }
    } else {
        let color = std::io::stdout().is_terminal()
            && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
        print!("{}", render::text(&snap, &a, Style { color }));
    }
    a.severity.level.exit_code()
}
