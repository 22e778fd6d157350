//! Appends events: one `write` per line, then `sync_data`; only then is the event recorded.
//! A failed write (disk full, file deleted, I/O error) is returned as a value and the event stays
//! queued in `pending`, written first on the next attempt, so nothing is silently dropped.
use super::line::{encode, hash, truncate_ms, GENESIS};
use super::paths::create_private;
use super::reader::{self, ReadOutcome};
use super::JournalError;
use crate::incident::event::{Event, Ts};
use std::collections::VecDeque;
use std::fs::File;
use std::io::{self, Write};
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum WriteError {
    #[error("journal {path}: disk full; {pending} event(s) waiting to be written")]
    DiskFull { path: String, pending: usize },
    #[error("journal {path}: file is gone and could not be recreated ({why}); {pending} event(s) waiting")]
    FileGone {
        path: String,
        why: String,
        pending: usize,
    },
    #[error("journal {path}: write failed ({why}); {pending} event(s) waiting to be written")]
    Io {
        path: String,
        why: String,
        pending: usize,
    },
}

impl WriteError {
    pub fn pending(&self) -> usize {
        match self {
            WriteError::DiskFull { pending, .. }
            | WriteError::FileGone { pending, .. }
            | WriteError::Io { pending, .. } => *pending,
        }
    }
}

#[derive(Debug)]
pub struct Writer {
    path: PathBuf,
    file: File,
    /// (dev, inode) of the file we write, to notice it was deleted or replaced.
    identity: (u64, u64),
    next_seq: u64,
    prev: String,
    /// Length of the file up to the last synced line.
    good_len: u64,
    pending: VecDeque<(Ts, Event)>,
}

/// What `resume` found on disk.
#[derive(Debug, Clone, PartialEq)]
pub struct ResumeInfo {
    pub outcome: ReadOutcome,
    /// A torn last line was cut off (it was never recorded).
    pub repaired_torn_tail: bool,
}

impl Writer {
    /// Creates a new journal (file 0600, missing directories 0700). Fails if the file exists.
    pub fn create(path: &Path) -> Result<Writer, JournalError> {
        let file = create_private(path).map_err(|e| JournalError::io(path, e))?;
        Self::from_parts(path, file, 0, GENESIS.to_string(), 0)
    }

    /// Opens an existing journal to continue it. A torn last line is cut off; earlier problems
    /// (a broken chain) are reported in the outcome but do not stop the responder.
    pub fn resume(path: &Path) -> Result<(Writer, ResumeInfo), JournalError> {
        let (file, outcome) = open_for_resume(path)?;
        let repaired = outcome.torn_tail.is_some();
        if repaired {
            file.set_len(outcome.complete_len)
                .map_err(|e| JournalError::io(path, e))?;
            file.sync_data().map_err(|e| JournalError::io(path, e))?;
        }
        let w = Self::from_parts(
            path,
            file,
            outcome.next_seq,
            outcome.last_hash.clone(),
            outcome.complete_len,
        )?;
        Ok((
            w,
            ResumeInfo {
                outcome,
                repaired_torn_tail: repaired,
            },
        ))
    }

    fn from_parts(
        path: &Path,
        file: File,
        next_seq: u64,
        prev: String,
        good_len: u64,
    ) -> Result<Writer, JournalError> {
        let md = file.metadata().map_err(|e| JournalError::io(path, e))?;
        Ok(Writer {
            path: path.to_path_buf(),
            identity: (md.dev(), md.ino()),
            file,
            next_seq,
            prev,
            good_len,
            pending: VecDeque::new(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Sequence number the next recorded event gets.
    pub fn next_seq(&self) -> u64 {
        self.next_seq
    }

    /// Events accepted but not yet on disk.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    /// Queues the event and writes everything queued. Ok(seq) once this event is synced.
    pub fn append(&mut self, ts: Ts, event: Event) -> Result<u64, WriteError> {
        self.pending.push_back((truncate_ms(ts), event));
        self.flush_pending()?;
        Ok(self.next_seq - 1)
    }

    /// Writes queued events in order; stops at the first failure (the rest stay queued).
    pub fn flush_pending(&mut self) -> Result<(), WriteError> {
        while let Some((ts, event)) = self.pending.front() {
            let line = encode(self.next_seq, *ts, &self.prev, event);
            if let Err(e) = self.write_line(&line) {
                return Err(self.classify(e));
            }
            self.prev = hash(line.as_bytes());
            self.next_seq += 1;
            self.good_len += line.len() as u64 + 1;
            self.pending.pop_front();
        }
        Ok(())
    }

    fn write_line(&mut self, line: &str) -> Result<(), Failure> {
        self.ensure_file()?;
        // A write that failed half-way left bytes after good_len: cut them so the chain stays whole.
        let len = self.file.metadata().map_err(Failure::Io)?.len();
        if len != self.good_len {
            self.file.set_len(self.good_len).map_err(Failure::Io)?;
        }
        let mut buf = Vec::with_capacity(line.len() + 1);
        buf.extend_from_slice(line.as_bytes());
        buf.push(b'\n');
        let res = self
            .file
            .write_all(&buf)
            .and_then(|_| self.file.sync_data());
        if let Err(e) = res {
            let _ = self.file.set_len(self.good_len);
            return Err(Failure::Io(e));
        }
        Ok(())
    }

    /// If the path no longer names our file (deleted, moved away), recreate it from our open
    /// descriptor, which still holds every recorded line.
    fn ensure_file(&mut self) -> Result<(), Failure> {
        match std::fs::metadata(&self.path) {
            Ok(md) if (md.dev(), md.ino()) == self.identity => return Ok(()),
            Ok(_) => {
                return Err(Failure::Gone(
                    "another file now exists at the journal's path".into(),
                ))
            }
            // Gone: the file, or a directory on its path (ENOTDIR: something else took its place).
            Err(e)
                if e.kind() == io::ErrorKind::NotFound
                    || e.raw_os_error() == Some(libc::ENOTDIR) => {}
            Err(e) => return Err(Failure::Io(e)),
        }
        let mut content = vec![0u8; self.good_len as usize];
        self.file
            .read_exact_at(&mut content, 0)
            .map_err(|e| Failure::Gone(format!("reading back: {e}")))?;
        let mut fresh = create_private(&self.path).map_err(|e| Failure::Gone(e.to_string()))?;
        let copy = fresh.write_all(&content).and_then(|_| fresh.sync_data());
        if let Err(e) = copy {
            let _ = std::fs::remove_file(&self.path);
            return Err(Failure::Io(e));
        }
        let md = fresh.metadata().map_err(Failure::Io)?;
        self.identity = (md.dev(), md.ino());
        self.file = fresh;
        Ok(())
    }

    fn classify(&self, f: Failure) -> WriteError {
        let path = self.path.display().to_string();
        let pending = self.pending.len();
        match f {
            Failure::Gone(why) => WriteError::FileGone { path, why, pending },
            Failure::Io(e) => match e.raw_os_error() {
                Some(libc::ENOSPC) | Some(libc::EDQUOT) | Some(libc::EFBIG) => {
                    WriteError::DiskFull { path, pending }
                }
                _ => WriteError::Io {
                    path,
                    why: e.to_string(),
                    pending,
                },
            },
        }
    }
}

/// Opens a journal to continue it, refusing anything that is not one before touching it: a
/// symlink (O_NOFOLLOW), a FIFO or device, a file over the size cap, or a file whose first line
/// is not a valid `incident_opened` event. Reads from the same descriptor it will append to.
pub fn open_for_resume(path: &Path) -> Result<(File, ReadOutcome), JournalError> {
    use crate::safe_fs::{max_input_size, open_regular, read_capped, Follow};
    let (file, size) = open_regular(path, Follow::NoSymlinks, true)?;
    let bytes = read_capped(
        path,
        file.try_clone().map_err(|e| JournalError::io(path, e))?,
        size,
        max_input_size()?,
    )?;
    let outcome = reader::parse(&bytes);
    let first_ok = matches!(
        outcome.entries.first(),
        Some(e) if e.seq == 0 && matches!(e.event, Event::IncidentOpened(_))
    ) && !outcome.problems.iter().any(|p| p.line == 1);
    if !first_ok {
        return Err(JournalError::Invalid {
            path: path.display().to_string(),
            message: "not a pm2-incident journal (its first line is not a valid `incident_opened` event); left untouched".into(),
        });
    }
    Ok((file, outcome))
}

enum Failure {
    Gone(String),
    Io(io::Error),
}
