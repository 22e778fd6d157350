//! `pm2-incident replay FILE [--follow]`: a recorded incident (or a raw `pm2 jlist`
//! dump) in the same screens, read-only, with a timeline cursor.
use std::path::PathBuf;
use std::sync::Arc;

use chrono::Utc;

use crate::app::replay::ReplayState;
use crate::app::{App, AppMode};
use crate::cmd::cli::RunbookSource;
use crate::incident::seek::{Replay, DEFAULT_CHECKPOINT_EVERY};
use crate::journal::import::load_any;
use crate::journal::index::{index, FileSource, Progress};
use crate::journal::scan::{is_jlist_dump, ScanOptions};
use crate::runbook::Runbook;
use crate::tui::runtime::World;
use std::sync::mpsc::Receiver;

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

/// Load a file for replay: the app positioned at its start (or its end with follow), and for a
/// journal the receiver of the background indexer's progress. Only the first chunk of a journal
/// is read before this returns; the rest is indexed while the first frame is already shown.
pub fn open(args: &ReplayArgs) -> Result<(App, Option<Receiver<Progress>>), String> {
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
    let mut app = App::new(Arc::new(rb), AppMode::Replay, "replay", "/", Utc::now());
    crate::cmd::session::configure(&mut app);
    let shown = crate::sanitize::escape_line(&args.file.display().to_string()).into_owned();
    if is_jlist_dump(&args.file).map_err(|e| e.to_string())? {
        let loaded = load_any(&args.file).map_err(|e| e.to_string())?;
        let entries = loaded.entries().to_vec();
        if entries.is_empty() {
            return Err(format!("{shown}: no events to replay"));
        }
        app.start_replay(entries, false);
        return Ok((app, None));
    }
    let (tx, rx) = std::sync::mpsc::channel();
    let path = args.file.clone();
    let follow = args.follow;
    std::thread::Builder::new()
        .name("replay-index".into())
        .spawn(move || {
            index(
                &path,
                DEFAULT_CHECKPOINT_EVERY,
                follow,
                ScanOptions::default(),
                |p| tx.send(p).is_ok(),
            )
        })
        .map_err(|e| format!("cannot start the indexer: {e}"))?;
    let mut state = ReplayState::over(
        Replay::from_source(
            Box::new(FileSource::new(&args.file)),
            DEFAULT_CHECKPOINT_EVERY,
        ),
        args.follow,
    );
    // The first chunk (or the end of a short journal) is all the first frame waits for.
    let mut done = None;
    match rx.recv() {
        Ok(Progress::Chunk {
            chunk,
            bytes_done,
            bytes_total,
        }) => {
            state.replay.extend(*chunk);
            if bytes_done < bytes_total {
                state.indexing = Some((bytes_done, bytes_total));
            }
        }
        Ok(Progress::Done(out)) => done = Some(out),
        Ok(Progress::Failed(e)) => return Err(crate::sanitize::escape_line(&e).into_owned()),
        Err(_) => return Err(format!("{shown}: the indexer stopped")),
    }
    // A short journal is indexed whole in the first pass: its problems are said before the
    // screen opens (longer ones say them in the header when indexing ends).
    if state.indexing.is_none() && done.is_none() {
        if let Ok(Progress::Done(out)) = rx.recv() {
            done = Some(out);
        }
    }
    if let Some(out) = &done {
        if let Some(t) = &out.torn_tail {
            eprintln!(
                "{shown}: line {} was cut short (crash while writing); replaying the events before it",
                t.line
            );
        }
        for p in &out.problems {
            eprintln!("{shown}: {p}");
        }
    }
    if state.is_empty() && !args.follow {
        return Err(format!("{shown}: no events to replay"));
    }
    app.start_replay_over(state);
    Ok((app, Some(rx)))
}

pub fn run(args: &ReplayArgs) -> i32 {
    match open(args) {
        Ok((app, progress)) => {
            crate::cmd::respond::run_tui(app, World::Replay { progress }, None, None)
        }
        Err(e) => {
            eprintln!("pm2-incident: {e}");
            1
        }
    }
}
