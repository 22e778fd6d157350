//! `pm2-incident snapshot [--json]`.
use std::io::IsTerminal;
use std::path::PathBuf;

use super::gather::{gather, Pm2Source};
use super::render::{self, Style};
use crate::assess::{self, Level, Observation};
use crate::cli::RunbookSource;
use crate::pm2::Pm2Home;
use crate::runbook::Runbook;

#[derive(clap::Args, Debug, Clone)]
pub struct SnapshotArgs {
    /// Print JSON (keys: pm2, health, scope, severity, plan, checklist)
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub source: RunbookSource,
    /// Where to read PM2 from: the daemon's rpc.sock (never starts a daemon), or
    /// `pm2 jlist` (starts an empty daemon when none runs, hiding a crashed one)
    #[arg(long, value_enum, default_value_t = Pm2Source::Rpc)]
    pub pm2_source: Pm2Source,
    /// The pm2 executable for `--pm2-source cli`
    #[arg(long, value_name = "PATH", default_value = "pm2")]
    pub pm2_bin: String,
    /// PM2 home (default: $PM2_HOME, else ~/.pm2)
    #[arg(long, value_name = "DIR")]
    pub pm2_home: Option<PathBuf>,
}

pub fn run(args: &SnapshotArgs) -> i32 {
    let rb = match Runbook::load(args.source.runbook.as_deref(), args.source.inventory.as_deref()) {
        Ok(rb) => rb,
        Err(errors) => {
            for e in errors {
                eprintln!("{e}");
            }
            return Level::Unknown.exit_code();
        }
    };
    let home = match &args.pm2_home {
        Some(dir) => Pm2Home::new(dir.clone()),
        None => Pm2Home::from_env(),
    };
    let home = match home {
        Ok(h) => h,
        Err(e) => {
            eprintln!("pm2-incident: {e}");
            return Level::Unknown.exit_code();
        }
    };
    let snap = gather(&rb, &home, args.pm2_source, &args.pm2_bin);
    let a = assess::assess(&rb, &Observation { pm2: snap.pm2.view(), health: &snap.health });
    if args.json {
        match serde_json::to_string_pretty(&render::json(&snap, &a)) {
            Ok(s) => println!("{s}"),
            Err(e) => eprintln!("pm2-incident: cannot write JSON: {e}"),
        }
    } else {
        let color = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
        print!("{}", render::text(&snap, &a, Style { color }));
    }
    a.severity.level.exit_code()
}
