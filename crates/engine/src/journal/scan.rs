//! Streams a journal in constant memory. Lines are read in batches; each line's SHA-256 and JSON
//! decode depend only on its own bytes, so a batch is hashed and decoded on several threads, and
//! then the links (`prev`, `seq`) are checked in order by [`Chain`], the one place that knows
//! the chain's rules (the whole-buffer [`super::reader::parse`] uses it too).
use super::line::{decode, hash, Decoded, GENESIS};
use super::reader::{Problem, ProblemKind, ReadOutcome, TornTail};
use super::JournalError;
use crate::incident::event::Entry;
use std::io::Read;
use std::ops::ControlFlow;
use std::path::Path;

/// Lines longer than this are reported unreadable and skipped, so one runaway line cannot take
/// the reader's memory with it (the writer's largest events are far below).
pub const MAX_LINE: usize = 64 * 1024 * 1024;
/// Bytes read per batch: large enough to keep both cores busy, small enough to stay flat.
const BATCH: usize = 1024 * 1024;

/// The order-dependent half of reading a journal: links, sequence numbers and line numbers.
#[derive(Debug, Clone)]
pub struct Chain {
    expected_prev: String,
    expected_seq: Option<u64>,
    lineno: usize,
    complete_len: u64,
    unreadable: usize,
    pub problems: Vec<Problem>,
}

impl Default for Chain {
    fn default() -> Self {
        Chain {
            expected_prev: GENESIS.to_string(),
            expected_seq: None,
            lineno: 0,
            complete_len: 0,
            unreadable: 0,
            problems: Vec::new(),
        }
    }
}

impl Chain {
    /// Checks one complete line (`len` bytes including its newline) against the line before;
    /// returns its entry when it decodes. Problems are recorded, never fatal.
    pub fn link(
        &mut self,
        len: u64,
        line_hash: String,
        decoded: Result<Decoded, String>,
    ) -> Option<Entry> {
        self.lineno += 1;
        self.complete_len += len;
        let entry = match decoded {
            Ok(d) => {
                if d.prev != self.expected_prev {
                    self.problems.push(Problem {
                        line: self.lineno,
                        kind: ProblemKind::ChainBroken,
                    });
                }
                let want = self.expected_seq.unwrap_or(d.seq);
                if d.seq != want {
                    self.problems.push(Problem {
                        line: self.lineno,
                        kind: ProblemKind::SeqGap {
                            expected: want,
                            found: d.seq,
                        },
                    });
                }
                self.expected_seq = Some(d.seq + 1);
                Some(Entry {
                    seq: d.seq,
                    ts: d.ts,
                    event: d.event,
                })
            }
            Err(why) => {
                self.problems.push(Problem {
                    line: self.lineno,
                    kind: ProblemKind::Unreadable(why),
                });
                self.unreadable += 1;
                self.expected_seq = self.expected_seq.map(|s| s + 1);
                None
            }
        };
        self.expected_prev = line_hash;
        entry
    }

    /// 1-based number of the last line linked.
    pub fn lineno(&self) -> usize {
        self.lineno
    }

    /// Byte length of the complete lines linked so far.
    pub fn complete_len(&self) -> u64 {
        self.complete_len
    }

    /// The outcome without entries (they went to the caller one by one).
    pub fn finish(self, torn_tail: Option<TornTail>) -> ReadOutcome {
        ReadOutcome {
            entries: Vec::new(),
            torn_tail,
            problems: self.problems,
            last_hash: self.expected_prev,
            complete_len: self.complete_len,
            next_seq: self.expected_seq.unwrap_or(0),
        }
    }

    /// Complete lines that did not decode (they still count as lines of the head).
    pub fn unreadable(&self) -> usize {
        self.unreadable
    }
}

/// One complete line as the callback sees it.
pub struct Scanned<'a> {
    /// Byte offset of the line's first byte.
    pub offset: u64,
    /// 1-based line number.
    pub line: usize,
    pub hash: &'a str,
    /// `None` when the line did not decode (a problem was recorded).
    pub entry: Option<Entry>,
}

/// How many threads hash and decode a batch (the chain is always checked on the caller's).
#[derive(Debug, Clone, Copy)]
pub struct ScanOptions {
    pub threads: usize,
}

impl Default for ScanOptions {
    fn default() -> Self {
        ScanOptions {
            threads: std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1)
                .min(8),
        }
    }
}

/// Streams every complete line of `r` through the chain check and `each`, in order. `each` may
/// stop the scan early (`Break`); the outcome then covers the lines seen so far.
pub fn scan<R: Read>(
    r: R,
    opts: ScanOptions,
    each: impl FnMut(Scanned<'_>) -> ControlFlow<()>,
) -> std::io::Result<ReadOutcome> {
    let mut chain = Chain::default();
    let torn = scan_on(r, &mut chain, opts, each)?;
    Ok(chain.finish(torn))
}

/// [`scan`] continuing `chain`: `r` starts at byte `chain.complete_len()` of the journal (how a
/// follower reads only what was appended). Returns the torn tail, if the data ends mid-line;
/// a `Break` from `each` ends the scan with no torn tail.
pub fn scan_on<R: Read>(
    mut r: R,
    chain: &mut Chain,
    opts: ScanOptions,
    mut each: impl FnMut(Scanned<'_>) -> ControlFlow<()>,
) -> std::io::Result<Option<TornTail>> {
    let mut buf: Vec<u8> = Vec::with_capacity(BATCH);
    let mut offset = chain.complete_len(); // file offset of buf[0]
    let mut skipping = false; // inside an over-long line, dropping bytes until its newline
    let mut eof = false;
    while !eof {
        let start = buf.len();
        buf.resize(start + BATCH, 0);
        let n = read_full(&mut r, &mut buf[start..])?;
        buf.truncate(start + n);
        eof = n == 0;
        let mut lines: Vec<(usize, usize)> = Vec::new(); // (start, end) without the newline
        let mut pos = 0;
        while let Some(nl) = memchr(b'\n', &buf[pos..]) {
            if skipping {
                skipping = false;
                chain.link(
                    (pos + nl + 1) as u64,
                    String::new(),
                    Err(format!("line longer than {MAX_LINE} bytes")),
                );
            } else {
                lines.push((pos, pos + nl));
            }
            pos += nl + 1;
        }
        let decoded = hash_and_decode(&buf, &lines, opts.threads);
        let mut stop = false;
        for ((s, e), (h, d)) in lines.iter().zip(decoded) {
            let entry = chain.link((e - s + 1) as u64, h.clone(), d);
            let flow = each(Scanned {
                offset: offset + *s as u64,
                line: chain.lineno(),
                hash: &h,
                entry,
            });
            if flow.is_break() {
                stop = true;
                break;
            }
        }
        if stop {
            return Ok(None);
        }
        offset += pos as u64;
        buf.drain(..pos);
        if buf.len() > MAX_LINE {
            // Count this line's bytes into the offset and drop them; the line becomes a problem
            // when its newline arrives.
            offset += buf.len() as u64;
            buf.clear();
            skipping = true;
        }
    }
    Ok((!buf.is_empty() || skipping).then(|| TornTail {
        line: chain.lineno() + 1,
        bytes: buf.len(),
    }))
}

/// Streams the journal at `path` (a regular file). A journal streams in fixed memory (a
/// batch and one line at most, [`MAX_LINE`]), so the whole-file input cap
/// (`PM2_INCIDENT_MAX_SIZE`, for files read whole) does not apply: a week-long journal is
/// larger than any sensible cap.
pub fn scan_path(
    path: &Path,
    opts: ScanOptions,
    each: impl FnMut(Scanned<'_>) -> ControlFlow<()>,
) -> Result<ReadOutcome, JournalError> {
    let (file, _) = crate::safe_fs::open_regular(path, crate::safe_fs::Follow::Symlinks, false)?;
    scan(file, opts, each).map_err(|e| JournalError::io(path, e))
}

/// Folds the journal at `path` while streaming it: the Incident and the outcome (no entries).
pub fn fold_path(
    path: &Path,
    opts: ScanOptions,
) -> Result<(crate::incident::Incident, ReadOutcome), JournalError> {
    let mut inc = crate::incident::Incident::default();
    let out = scan_path(path, opts, |s| {
        if let Some(e) = &s.entry {
            inc.apply(e);
        }
        ControlFlow::Continue(())
    })?;
    Ok((inc, out))
}

/// True when the file's first non-blank byte opens a JSON array: a raw `pm2 jlist` dump rather
/// than a journal. Reads only the file's start.
pub fn is_jlist_dump(path: &Path) -> Result<bool, JournalError> {
    let (file, _) = crate::safe_fs::open_regular(path, crate::safe_fs::Follow::Symlinks, false)?;
    let mut head = [0u8; 4096];
    let mut r = file;
    loop {
        let n = read_full(&mut r, &mut head).map_err(|e| JournalError::io(path, e))?;
        if let Some(b) = head[..n].iter().find(|b| !b.is_ascii_whitespace()) {
            return Ok(*b == b'[');
        }
        if n < head.len() {
            return Ok(false);
        }
    }
}

fn read_full<R: Read>(r: &mut R, mut buf: &mut [u8]) -> std::io::Result<usize> {
    let mut total = 0;
    while !buf.is_empty() {
        match r.read(buf) {
            Ok(0) => break,
            Ok(n) => {
                total += n;
                buf = &mut buf[n..];
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(total)
}

fn memchr(b: u8, s: &[u8]) -> Option<usize> {
    s.iter().position(|&x| x == b)
}

type Hashed = (String, Result<Decoded, String>);

/// SHA-256 and decode of every line, split into contiguous runs over `threads` threads.
fn hash_and_decode(buf: &[u8], lines: &[(usize, usize)], threads: usize) -> Vec<Hashed> {
    let one = |&(s, e): &(usize, usize)| {
        let line = &buf[s..e];
        (hash(line), decode(line))
    };
    if threads <= 1 || lines.len() < 64 {
        return lines.iter().map(one).collect();
    }
    let per = lines.len().div_ceil(threads);
    std::thread::scope(|sc| {
        let handles: Vec<_> = lines
            .chunks(per)
            .map(|run| sc.spawn(move || run.iter().map(one).collect::<Vec<_>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_default())
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::incident::event::{Event, Note};
    use crate::incident::sample::at;
    use crate::journal::line::encode;

    fn journal(n: usize) -> Vec<u8> {
        let mut prev = GENESIS.to_string();
        let mut out = Vec::new();
        for i in 0..n {
            let line = encode(
                i as u64,
                at(4, 0, i as u32 % 60),
                &prev,
                &Event::Note(Note {
                    author: "a".into(),
                    text: format!("n{i}"),
                }),
            );
            prev = hash(line.as_bytes());
            out.extend_from_slice(line.as_bytes());
            out.push(b'\n');
        }
        out
    }

    fn streamed(bytes: &[u8], threads: usize) -> (ReadOutcome, Vec<Entry>, Vec<u64>) {
        let mut entries = Vec::new();
        let mut offsets = Vec::new();
        let mut out = scan(bytes, ScanOptions { threads }, |s| {
            offsets.push(s.offset);
            entries.extend(s.entry);
            ControlFlow::Continue(())
        })
        .unwrap();
        out.entries = entries.clone();
        (out, entries, offsets)
    }

    #[test]
    fn streaming_matches_the_whole_buffer_parse_with_any_thread_count() {
        let mut bytes = journal(500);
        // A changed line in the middle and a torn tail.
        let mid = bytes.len() / 2;
        let nl = mid + bytes[mid..].iter().position(|&b| b == b'\n').unwrap();
        bytes[nl - 3] = b'X';
        bytes.extend_from_slice(b"{\"seq\":500");
        let whole = super::super::reader::parse(&bytes);
        for threads in [1, 2, 3] {
            let (out, _, offsets) = streamed(&bytes, threads);
            assert_eq!(out, whole, "threads {threads}");
            assert_eq!(offsets[0], 0);
            for o in &offsets[1..] {
                assert_eq!(bytes[*o as usize - 1], b'\n', "offset {o} starts a line");
            }
        }
    }

    #[test]
    fn stopping_early_reports_only_the_lines_seen() {
        let bytes = journal(300);
        let mut seen = 0;
        let out = scan(&bytes[..], ScanOptions { threads: 2 }, |_| {
            seen += 1;
            if seen == 10 {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        })
        .unwrap();
        assert_eq!(seen, 10);
        assert_eq!(out.next_seq, 10);
        assert!(out.problems.is_empty());
    }
}
