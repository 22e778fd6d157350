//! Starting or resuming an incident on disk: the driver lock decides who writes. The driver gets
//! a Writer (and, on resume, a `resumed` event is appended); anyone else gets a read-only view.
use super::lock::{self, Acquire, DriverLock, LockInfo};
use super::reader::{self, ReadOutcome};
use super::writer::{ResumeInfo, Writer};
use super::JournalError;
use crate::incident::event::{Event, Resumed, Ts};
use std::path::Path;

#[derive(Debug)]
pub enum Session {
    Driving {
        writer: Writer,
        lock: DriverLock,
        resume: Option<ResumeInfo>,
    },
    /// Someone else drives: here is who, and what the journal holds now.
    ReadOnly {
        holder: LockInfo,
        outcome: ReadOutcome,
    },
}

/// Creates a new journal and records `opened` as its first event.
pub fn start(path: &Path, me: &LockInfo, now: Ts, opened: Event) -> Result<Session, JournalError> {
    super::paths::check_journal_parent(path).map_err(|message| JournalError::Invalid {
        path: path.display().to_string(),
        message,
    })?;
    let lock = match lock::acquire(path, me)? {
        Acquire::Driver(l) => l,
        Acquire::ReadOnly(holder) => {
            return Ok(Session::ReadOnly {
                holder,
                outcome: reader::read(path)?,
            })
        }
    };
    let mut writer = Writer::create(path)?;
    writer
        .append(now, opened)
        .map_err(|e| JournalError::Invalid {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
    Ok(Session::Driving {
        writer,
        lock,
        resume: None,
    })
}

/// Continues an existing journal (`respond --resume FILE`): appends a `resumed` event.
pub fn resume(path: &Path, me: &LockInfo, now: Ts) -> Result<Session, JournalError> {
    super::paths::check_journal_parent(path).map_err(|message| JournalError::Invalid {
        path: path.display().to_string(),
        message,
    })?;
    // Refuse a symlink or a non-journal before creating a lock beside it.
    super::writer::open_for_resume(path)?;
    let lock = match lock::acquire(path, me)? {
        Acquire::Driver(l) => l,
        Acquire::ReadOnly(holder) => {
            return Ok(Session::ReadOnly {
                holder,
                outcome: reader::read(path)?,
            })
        }
    };
    let (mut writer, info) = Writer::resume(path)?;
    let ev = Event::Resumed(Resumed {
        user: me.user.clone(),
        host: me.host.clone(),
        pid: me.pid,
        after_events: info.outcome.entries.len() as u64,
        repaired_torn_tail: info.repaired_torn_tail,
    });
    writer.append(now, ev).map_err(|e| JournalError::Invalid {
        path: path.display().to_string(),
        message: e.to_string(),
    })?;
    Ok(Session::Driving {
        writer,
        lock,
        resume: Some(info),
    })
}
