//! Reads a journal: tolerant of a torn last line (a crash mid-write), strict about the chain.
//! Problems are reported with their line number; readable events are still returned.
use super::line::{decode, hash, GENESIS};
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
            ProblemKind::Unreadable(why) => write!(f, "line {}: unreadable: {why}", self.line),
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
    let mut out = ReadOutcome {
        last_hash: GENESIS.to_string(),
        ..Default::default()
    };
    let mut expected_prev = GENESIS.to_string();
    let mut expected_seq: Option<u64> = None;
    let mut pos = 0usize;
    let mut lineno = 0usize;
    while pos < bytes.len() {
        lineno += 1;
        let Some(nl) = bytes[pos..].iter().position(|&b| b == b'\n') else {
            out.torn_tail = Some(TornTail {
                line: lineno,
                bytes: bytes.len() - pos,
            });
            break;
        };
        let line = &bytes[pos..pos + nl];
        pos += nl + 1;
        out.complete_len = pos as u64;
        let this_hash = hash(line);
        match decode(line) {
            Ok(d) => {
                if d.prev != expected_prev {
                    out.problems.push(Problem {
                        line: lineno,
                        kind: ProblemKind::ChainBroken,
                    });
                }
                let want = expected_seq.unwrap_or(d.seq);
                if d.seq != want {
                    out.problems.push(Problem {
                        line: lineno,
                        kind: ProblemKind::SeqGap {
                            expected: want,
                            found: d.seq,
                        },
                    });
                }
                expected_seq = Some(d.seq + 1);
                out.entries.push(Entry {
                    seq: d.seq,
                    ts: d.ts,
                    event: d.event,
                });
            }
            Err(why) => {
                out.problems.push(Problem {
                    line: lineno,
                    kind: ProblemKind::Unreadable(why),
                });
                expected_seq = expected_seq.map(|s| s + 1);
            }
        }
        expected_prev = this_hash;
    }
    out.last_hash = expected_prev;
    out.next_seq = expected_seq.unwrap_or(0);
    out
}

/// The result of `verify`, printable for `pm2-incident verify FILE`.
#[derive(Debug, Clone, PartialEq)]
pub struct Verification {
    pub path: String,
    pub events: usize,
    pub problems: Vec<Problem>,
    pub torn_tail: Option<TornTail>,
    pub unknown_kinds: usize,
}

impl Verification {
    /// A torn tail alone is not tampering: the last event simply never completed.
    pub fn chain_ok(&self) -> bool {
        self.problems.is_empty()
    }
}

impl fmt::Display for Verification {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let verdict = if self.chain_ok() { "OK" } else { "FAILED" };
        writeln!(f, "{}: {verdict}: {} events", self.path, self.events)?;
        for p in &self.problems {
            writeln!(f, "{}: {p}", self.path)?;
        }
        if let Some(t) = &self.torn_tail {
            writeln!(
                f,
                "{}: line {}: torn last line ({} bytes without newline): the write was cut short; events before it are intact",
                self.path, t.line, t.bytes
            )?;
        }
        if self.unknown_kinds > 0 {
            writeln!(
                f,
                "{}: {} events of kinds newer than this tool (kept)",
                self.path, self.unknown_kinds
            )?;
        }
        Ok(())
    }
}

pub fn verify(path: &Path) -> Result<Verification, JournalError> {
    let r = read(path)?;
    Ok(Verification {
        path: path.display().to_string(),
        events: r.entries.len(),
        unknown_kinds: r
            .entries
            .iter()
            .filter(|e| matches!(e.event, crate::incident::Event::Unknown(_)))
            .count(),
        problems: r.problems,
        torn_tail: r.torn_tail,
    })
}
