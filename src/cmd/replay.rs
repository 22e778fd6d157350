//! `pm2-incident replay FILE [--follow]`: a recorded incident (or a raw `pm2 jlist`
//! dump) in the same screens, read-only, with a timeline cursor.
use std::path::PathBuf;
use std::sync::Arc;

use chrono::Utc;

use crate::app::{App, AppMode};
use crate::cmd::cli::RunbookSource;
use crate::journal::import::{load_any, Loaded};
use crate::runbook::Runbook;
use crate::tui::runtime::World;

#[derive(clap::Args, Debug, Clone)]
pub struct ReplayArgs {
    /// Journal (JSONL) or a raw `pm2 jlist` dump (`pm2 jlist > /tmp/pm2-incident-*.json`)
    pub file: PathBuf,
    /// Keep reading as another responder appends to the journal (start at the end)
    #[arg(long)]
    pub follow: bool,
    #[command(flatten)]
    pub source: RunbookSource,
}

/// Load a file for replay: the app positioned at its start (or its end with follow).
pub fn open(args: &ReplayArgs) -> Result<(App, usize), String> {
    let inventory = args
        .source
        .inventory
        .as_deref()
        .filter(|p| p.as_os_str() != crate::runbook::discover::EXAMPLE);
    let rb = Runbook::load(args.source.runbook.as_deref(), inventory).map_err(|e| {
        e.iter()
            .map(|e| e.to_string())
            .collect::<Vec<_>>()
            .join("\n")
    })?;
    let loaded = load_any(&args.file).map_err(|e| e.to_string())?;
    if let Loaded::Journal(out) = &loaded {
        if let Some(t) = &out.torn_tail {
            eprintln!(
                "{}: line {} was cut short (crash while writing); replaying the events before it",
                args.file.display(),
                t.line
            );
        }
        for p in &out.problems {
            eprintln!(
                "{}: {p}",
                crate::sanitize::escape_line(&args.file.display().to_string())
            );
        }
    }
    let entries = loaded.entries().to_vec();
    if entries.is_empty() {
        return Err(format!("{}: no events to replay", args.file.display()));
    }
    let mut app = App::new(Arc::new(rb), AppMode::Replay, "replay", "/", Utc::now());
    crate::cmd::session::configure(&mut app);
    let known = entries.len();
    app.start_replay(entries, args.follow);
    Ok((app, known))
}

pub fn run(args: &ReplayArgs) -> i32 {
    match open(args) {
        Ok((app, known)) => {
            let follow = args.follow.then(|| args.file.clone());
            crate::cmd::respond::run_tui(app, World::Replay { follow, known }, None, None)
        }
        Err(e) => {
            eprintln!("pm2-incident: {e}");
            1
        }
    }
}
