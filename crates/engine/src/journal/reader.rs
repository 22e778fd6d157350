//! Reads a journal: tolerant of a torn last line (a crash mid-write), strict about the chain.
//! Problems are reported with their line number; readable events are still returned.
use super::line::{decode, hash};
use super::JournalError;
use crate::incident::event::Entry;
use std::fmt;
use std::path::Path;

#[derive(Debug, Clone, PartialEq)]
pub enum ProblemKind {
    /// The line is not a decodable event (bad JSON, malformed known event, bad envelope).
    Unreadable(String),
    /// `prev` does not match the SHA-256 of the line before: edited, inserted or removed lines.
    ChainBroken,
    /// `seq` is not one more than the line before.
    SeqGap { expected: u64, found: u64 },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    /// 1-based line number in the file.
    pub line: usize,
    pub kind: ProblemKind,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ProblemKind::Unreadable(why) => write!(
                f,
                "line {}: unreadable: {}",
                self.line,
                crate::sanitize::escape_line(why)
            ),
            ProblemKind::ChainBroken => write!(
                f,
                "line {}: hash chain broken: `prev` is not the SHA-256 of line {} (a line was changed, inserted or removed)",
                self.line,
                self.line.saturating_sub(1)
            ),
            ProblemKind::SeqGap { expected, found } => {
                write!(f, "line {}: sequence gap: expected seq {expected}, found {found}", self.line)
            }
        }
    }
}

/// A last line without its newline: the write was cut short (crash, kill -9, power loss).
#[derive(Debug, Clone, PartialEq)]
pub struct TornTail {
    pub line: usize,
    pub bytes: usize,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct ReadOutcome {
    pub entries: Vec<Entry>,
    pub torn_tail: Option<TornTail>,
    pub problems: Vec<Problem>,
    /// Hash of the last complete line (GENESIS when empty): what the next line's `prev` must be.
    pub last_hash: String,
    /// Byte length of the complete lines (where a resumed writer continues).
    pub complete_len: u64,
    pub next_seq: u64,
}

impl ReadOutcome {
    pub fn is_intact(&self) -> bool {
        self.problems.is_empty() && self.torn_tail.is_none()
    }
}

pub fn read(path: &Path) -> Result<ReadOutcome, JournalError> {
    Ok(parse(&crate::safe_fs::read_input(path)?))
}

/// Parses journal bytes. Never fails: everything wrong becomes a `Problem` or the torn tail.
pub fn parse(bytes: &[u8]) -> ReadOutcome {
    let mut chain = super::scan::Chain::default();
    let mut entries = Vec::new();
    let mut pos = 0usize;
    let mut torn = None;
    while pos < bytes.len() {
        let Some(nl) = bytes[pos..].iter().position(|&b| b == b'\n') else {
            torn = Some(TornTail {
                line: chain.lineno() + 1,
                bytes: bytes.len() - pos,
            });
            break;
        };
        let line = &bytes[pos..pos + nl];
        pos += nl + 1;
        entries.extend(chain.link((nl + 1) as u64, hash(line), decode(line)));
    }
    let mut out = chain.finish(torn);
    out.entries = entries;
    out
}

/// The journal's head: how many complete lines and the SHA-256 of the last one. A hash chain
/// proves nothing about its end (a removed last line leaves a valid chain), so the head is
/// shown when the responder leaves and written into the report; `verify --head` checks it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    pub lines: usize,
    pub hash: String,
}

impl Head {
    pub fn of(r: &ReadOutcome) -> Head {
        Head {
            lines: r.entries.len()
                + r.problems
                    .iter()
                    .filter(|p| matches!(p.kind, ProblemKind::Unreadable(_)))
                    .count(),
            hash: r.last_hash.clone(),
        }
    }
}

impl fmt::Display for Head {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} lines, last line sha256 {}", self.lines, self.hash)
    }
}

/// Where a recorded head was found in the journal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeadCheck {
    /// The line with that hash is line `line` (1-based); `after` lines were appended since.
    Found { line: usize, after: usize },
    /// No complete line has that hash: lines up to the head were removed or changed.
    Missing { hash: String },
}

/// 1-based number of the complete line whose SHA-256 is `want`.
pub fn find_line_hash(bytes: &[u8], want: &str) -> Option<usize> {
    let mut n = 0;
    let mut pos = 0;
    while let Some(nl) = bytes[pos..].iter().position(|&b| b == b'\n') {
        n += 1;
        if hash(&bytes[pos..pos + nl]).eq_ignore_ascii_case(want) {
            return Some(n);
        }
        pos += nl + 1;
    }
    None
}

/// True for a SHA-256 written as 64 hex digits (what `--head` takes).
pub fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The result of `verify`, printable for `pm2-incident verify FILE`.
#[derive(Debug, Clone, PartialEq)]
pub struct Verification {
    pub path: String,
    pub events: usize,
    pub problems: Vec<Problem>,
    pub torn_tail: Option<TornTail>,
    pub unknown_kinds: usize,
    pub head: Head,
    pub head_check: Option<HeadCheck>,
}

impl Verification {
    /// A torn tail alone is not tampering: the last event simply never completed.
    pub fn chain_ok(&self) -> bool {
        self.problems.is_empty() && !matches!(self.head_check, Some(HeadCheck::Missing { .. }))
    }
}

impl fmt::Display for Verification {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let verdict = if self.chain_ok() { "OK" } else { "FAILED" };
        let path = crate::sanitize::escape_line(&self.path);
        let path = path.as_ref();
        writeln!(f, "{path}: {verdict}: {} events", self.events)?;
        writeln!(f, "{path}: head: {}", self.head)?;
        match &self.head_check {
            None => {}
            Some(HeadCheck::Found { line, after: 0 }) => {
                writeln!(f, "{path}: recorded head found at line {line}, the last line: nothing removed or changed")?
            }
            Some(HeadCheck::Found { line, after }) => writeln!(
                f,
                "{path}: recorded head found at line {line}: intact up to it; {after} line(s) appended since"
            )?,
            Some(HeadCheck::Missing { hash }) => writeln!(
                f,
                "{path}: recorded head sha256 {hash} is not in the journal: lines up to it were removed or changed"
            )?,
        }
        for p in &self.problems {
            writeln!(f, "{path}: {p}")?;
        }
        if let Some(t) = &self.torn_tail {
            writeln!(
                f,
                "{path}: line {}: torn last line ({} bytes without newline): the write was cut short; events before it are intact",
                t.line, t.bytes
            )?;
        }
        if self.unknown_kinds > 0 {
            writeln!(
                f,
                "{path}: {} events of kinds newer than this tool (kept)",
                self.unknown_kinds
            )?;
        }
        Ok(())
    }
}

pub fn verify(path: &Path) -> Result<Verification, JournalError> {
    verify_head(path, None)
}

/// [`verify`], also checking that the line with hash `head` (shown on exit) is still there.
/// Streams the file: memory stays flat however long the journal is.
pub fn verify_head(path: &Path, head: Option<&str>) -> Result<Verification, JournalError> {
    verify_head_with(path, head, super::scan::ScanOptions::default())
}

/// [`verify_head`] with an explicit thread count for hashing and decoding.
pub fn verify_head_with(
    path: &Path,
    head: Option<&str>,
    opts: super::scan::ScanOptions,
) -> Result<Verification, JournalError> {
    let want = head.map(|h| h.to_ascii_lowercase());
    let mut found: Option<usize> = None;
    let mut events = 0usize;
    let mut unknown_kinds = 0usize;
    let r = super::scan::scan_path(path, opts, |s| {
        if found.is_none() && want.as_deref() == Some(s.hash) {
            found = Some(s.line);
        }
        if let Some(e) = &s.entry {
            events += 1;
            if matches!(e.event, crate::incident::Event::Unknown(_)) {
                unknown_kinds += 1;
            }
        }
        std::ops::ControlFlow::Continue(())
    })?;
    let total = events
        + r.problems
            .iter()
            .filter(|p| matches!(p.kind, ProblemKind::Unreadable(_)))
            .count();
    let head_check = want.map(|h| match found {
        Some(line) => HeadCheck::Found {
            line,
            after: total.saturating_sub(line),
        },
        None => HeadCheck::Missing { hash: h },
    });
    Ok(Verification {
        head: Head {
            lines: total,
            hash: r.last_hash.clone(),
        },
        head_check,
        path: path.display().to_string(),
        events,
        unknown_kinds,
        problems: r.problems,
        torn_tail: r.torn_tail,
    })
}
