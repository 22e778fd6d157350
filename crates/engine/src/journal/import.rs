//! Opens either a journal or a raw `pm2 jlist` dump (`pm2 jlist > /tmp/pm2-incident-*.json`).
//! A dump becomes a one-observation incident; only allow-listed fields survive (env stripped):
//! it is read as it streams, and nothing else of it is ever held.
use super::line::truncate_ms;
use super::reader::{self, ReadOutcome};
use super::{JournalError, Writer};
use crate::incident::event::{Entry, Ts};
use crate::incident::import::{jlist_events, rows_from_jlist, ImportMeta};
use chrono::{DateTime, NaiveDateTime, Utc};
use std::io::{BufReader, Read};
use std::path::Path;

pub enum Loaded {
    Journal(ReadOutcome),
    /// Events of the one-observation incident built from a dump (not written anywhere).
    JlistDump(Vec<Entry>),
}

impl Loaded {
    pub fn entries(&self) -> &[Entry] {
        match self {
            Loaded::Journal(r) => &r.entries,
            Loaded::JlistDump(e) => e,
        }
    }
}

/// Reads `path` as a jlist dump if it is a JSON array, else as a journal.
pub fn load_any(path: &Path) -> Result<Loaded, JournalError> {
    if super::scan::is_jlist_dump(path)? {
        return jlist_entries(path).map(Loaded::JlistDump);
    }
    Ok(Loaded::Journal(reader::parse(&crate::safe_fs::read_input(
        path,
    )?)))
}

/// The one-observation incident of the dump at `path`, read as it streams: only the
/// allow-listed fields are kept (see `incident::import`), so memory holds the process rows,
/// never the dump. The input size cap still applies (what is kept grows with the processes).
fn jlist_entries(path: &Path) -> Result<Vec<Entry>, JournalError> {
    let invalid = |message: String| JournalError::Invalid {
        path: path.display().to_string(),
        message,
    };
    let (file, size) = crate::safe_fs::open_regular(path, crate::safe_fs::Follow::Symlinks, false)?;
    let limit = crate::safe_fs::max_input_size()?;
    if size > limit {
        return Err(crate::safe_fs::InputError::TooLarge {
            path: path.display().to_string(),
            size,
            limit,
        }
        .into());
    }
    let mtime = file
        .metadata()
        .and_then(|m| m.modified())
        .ok()
        .map(DateTime::<Utc>::from);
    let reader = BufReader::with_capacity(1 << 20, file.take(limit));
    let mut de = serde_json::Deserializer::from_reader(reader);
    // serde_json's messages name line and column only, never the content.
    let rows = rows_from_jlist(&mut de).map_err(|e| invalid(e.to_string()))?;
    de.end()
        .map_err(|e| invalid(format!("not a valid pm2 jlist dump: {e}")))?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let ts = truncate_ms(
        ts_from_name(&name)
            .or(mtime)
            .unwrap_or(DateTime::<Utc>::UNIX_EPOCH),
    );
    let meta = ImportMeta {
        incident_id: format!("IMPORT-{}", ts.format("%Y%m%d-%H%M%S")),
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        source_name: name,
    };
    Ok(jlist_events(rows, &meta)
        .into_iter()
        .enumerate()
        .map(|(i, event)| Entry {
            seq: i as u64,
            ts,
            event,
        })
        .collect())
}

/// `pm2-incident-20260217-041233.json` -> 2026-02-17T04:12:33Z (the runbook's `date` format;
/// taken as UTC since the dump does not say).
pub fn ts_from_name(name: &str) -> Option<Ts> {
    let stem = name.strip_prefix("pm2-incident-")?.strip_suffix(".json")?;
    NaiveDateTime::parse_from_str(stem, "%Y%m%d-%H%M%S")
        .ok()
        .map(|n| n.and_utc())
}

/// Imports a dump into a new journal file (0600) and returns how many processes it holds.
pub fn import_jlist(dump: &Path, journal: &Path) -> Result<usize, JournalError> {
    let entries = jlist_entries(dump)?;
    let processes = entries
        .iter()
        .map(|e| match &e.event {
            crate::incident::Event::Pm2Observation(o) => o.processes.len(),
            _ => 0,
        })
        .sum();
    let mut w = Writer::create(journal)?;
    for e in entries {
        w.append(e.ts, e.event)
            .map_err(|err| JournalError::Invalid {
                path: journal.display().to_string(),
                message: err.to_string(),
            })?;
    }
    Ok(processes)
}
