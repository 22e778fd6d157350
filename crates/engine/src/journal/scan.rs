//! Streams a journal in constant memory. Lines are read in batches; each line's SHA-256 and JSON
//! decode depend only on its own bytes, so a batch is hashed and decoded on several threads, and
//! then the links (`prev`, `seq`) are checked in order by [`Chain`], the one place that knows
//! the chain's rules (the whole-buffer [`super::reader::parse`] uses it too).
use super::line::{decode, hash, hex, Decoded, GENESIS};
use super::reader::{Problem, ProblemKind, ReadOutcome, TornTail};
use super::JournalError;
use crate::incident::event::Entry;
use sha2::{Digest, Sha256};
use std::io::Read;
use std::ops::ControlFlow;
use std::path::Path;
use std::sync::Arc;

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
        self.link_swap(len, line_hash, decoded).0
    }

    /// [`Chain::link`], also giving back the hash it replaced (and the decoded `prev`), so
    /// the caller decides which thread frees them.
    fn link_swap(
        &mut self,
        len: u64,
        line_hash: String,
        decoded: Result<Decoded, String>,
    ) -> (Option<Entry>, [String; 2]) {
        self.lineno += 1;
        let mut prev = String::new();
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
                prev = d.prev;
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
        let old = std::mem::replace(&mut self.expected_prev, line_hash);
        (entry, [old, prev])
    }

    /// SHA-256 of the last line linked (what the next line's `prev` must be).
    pub fn last_hash(&self) -> &str {
        &self.expected_prev
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
    pub entry: Option<&'a Entry>,
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
///
/// A pipeline: while the caller's `each` runs over one batch (in order, on this thread), the
/// next batch is already being hashed and decoded on `opts.threads` others.
pub fn scan_on<R: Read>(
    r: R,
    chain: &mut Chain,
    opts: ScanOptions,
    each: impl FnMut(Scanned<'_>) -> ControlFlow<()>,
) -> std::io::Result<Option<TornTail>> {
    scan_lines(r, chain, opts, (BATCH, MAX_LINE), each)
}

/// [`scan_on`] with the batch size and the longest line allowed (small in tests).
fn scan_lines<R: Read>(
    r: R,
    chain: &mut Chain,
    opts: ScanOptions,
    (batch, max_line): (usize, usize),
    mut each: impl FnMut(Scanned<'_>) -> ControlFlow<()>,
) -> std::io::Result<Option<TornTail>> {
    let mut batches = Batches {
        r,
        carry: Vec::new(),
        offset: chain.complete_len(),
        skipped: None,
        batch,
        max_line,
    };
    std::thread::scope(|sc| {
        let mut inflight: Option<(Batch, Decoding<'_>)> = None;
        let mut dead: Option<Dead> = None;
        loop {
            let next = batches.next()?.map(|b| {
                let d = Decoding::start(sc, &b, opts.threads, dead.take());
                (b, d)
            });
            if let Some((b, d)) = inflight.take() {
                match link_batch(chain, &b, d.finish(), &mut each) {
                    ControlFlow::Break(()) => return Ok(None),
                    ControlFlow::Continue(done) => dead = Some(done),
                }
            }
            match next {
                Some(n) => inflight = Some(n),
                None => break,
            }
        }
        let skipped = batches.skipped.as_ref().map_or(0, |(n, _)| *n);
        Ok(
            (!batches.carry.is_empty() || batches.skipped.is_some()).then(|| TornTail {
                line: chain.lineno() + 1,
                bytes: (skipped + batches.carry.len() as u64) as usize,
            }),
        )
    })
}

/// Complete lines read from the journal, ready to hash and decode.
struct Batch {
    data: Arc<Vec<u8>>,
    /// File offset of `data[0]`.
    offset: u64,
    /// A line over [`MAX_LINE`] ended first in this batch: its full length and SHA-256 (it is
    /// a problem, never decoded; its bytes were hashed and dropped as they came, so the chain
    /// still checks across it).
    too_long: Option<(u64, String)>,
    max_line: usize,
    /// (start, end) of each line in `data`, without the newline.
    lines: Arc<Vec<(usize, usize)>>,
}

/// Reads a journal batch by batch, carrying a partial last line over to the next batch.
struct Batches<R> {
    r: R,
    carry: Vec<u8>,
    /// File offset of `carry[0]`.
    offset: u64,
    /// Inside a line over the limit: its bytes dropped so far, and their hash so far.
    skipped: Option<(u64, Sha256)>,
    batch: usize,
    max_line: usize,
}

impl<R: Read> Batches<R> {
    /// The next batch, or `None` at the end of the data.
    fn next(&mut self) -> std::io::Result<Option<Batch>> {
        let mut buf = Vec::with_capacity(self.carry.len() + self.batch);
        buf.append(&mut self.carry);
        let start = buf.len();
        buf.resize(start + self.batch, 0);
        let n = read_full(&mut self.r, &mut buf[start..])?;
        buf.truncate(start + n);
        if n == 0 {
            self.carry = buf;
            return Ok(None);
        }
        let mut lines = Vec::new();
        let mut too_long = None;
        let mut pos = 0;
        while let Some(nl) = memchr::memchr(b'\n', &buf[pos..]) {
            match self.skipped.take() {
                Some((dropped, mut h)) => {
                    h.update(&buf[pos..pos + nl]);
                    too_long = Some((dropped + (nl + 1) as u64, hex(&h.finalize())));
                }
                None => lines.push((pos, pos + nl)),
            }
            pos += nl + 1;
        }
        let offset = self.offset;
        self.carry = buf[pos..].to_vec();
        buf.truncate(pos);
        self.offset += pos as u64;
        if self.carry.len() > self.max_line || self.skipped.is_some() {
            // Hash this line's bytes, count them and drop them; the line becomes a problem
            // when its newline arrives.
            let (n, mut h) = self.skipped.take().unwrap_or_default();
            h.update(&self.carry);
            self.offset += self.carry.len() as u64;
            self.skipped = Some((n + self.carry.len() as u64, h));
            self.carry.clear();
        }
        Ok(Some(Batch {
            data: Arc::new(buf),
            offset,
            too_long,
            max_line: self.max_line,
            lines: Arc::new(lines),
        }))
    }
}

/// What a linked batch leaves to free: its entries, hashes and decoding buffer. Freed by a
/// decoding thread of a later batch rather than on the caller's thread, which folds: they were
/// allocated on the decoding threads, and freeing a batch's worth of small blocks allocated
/// elsewhere was a third of the fold thread's time (issue #19).
struct Dead {
    _entries: Vec<Entry>,
    _hashes: Vec<[String; 2]>,
    _decoded: std::vec::IntoIter<Hashed>,
}

/// A batch being hashed and decoded: on other threads, or (a few lines) right here.
enum Decoding<'s> {
    Threads(Vec<std::thread::ScopedJoinHandle<'s, Vec<Hashed>>>),
    Here(Vec<Hashed>),
}

impl<'s> Decoding<'s> {
    fn start<'e>(
        sc: &'s std::thread::Scope<'s, 'e>,
        b: &Batch,
        threads: usize,
        dead: Option<Dead>,
    ) -> Decoding<'s> {
        let n = b.lines.len();
        if threads <= 1 || n < 64 {
            drop(dead);
            return Decoding::Here(hash_and_decode(&b.data, &b.lines, 0..n));
        }
        let per = n.div_ceil(threads);
        let mut dead = dead;
        Decoding::Threads(
            (0..n)
                .step_by(per)
                .map(|from| {
                    let (data, lines) = (Arc::clone(&b.data), Arc::clone(&b.lines));
                    let dead = dead.take();
                    sc.spawn(move || {
                        drop(dead);
                        hash_and_decode(&data, &lines, from..(from + per).min(n))
                    })
                })
                .collect(),
        )
    }

    /// The results in line order. A decoding thread cannot panic on any input (decode is
    /// total); if one did, its lines would be reported unreadable rather than lost.
    fn finish(self) -> Vec<Hashed> {
        match self {
            Decoding::Here(v) => v,
            Decoding::Threads(hs) => {
                let mut hs = hs.into_iter();
                let mut all = hs
                    .next()
                    .map_or_else(Vec::new, |h| h.join().unwrap_or_default());
                for h in hs {
                    all.extend(h.join().unwrap_or_default());
                }
                all
            }
        }
    }
}

/// Links a decoded batch into the chain in order and hands each line to `each`; returns what
/// is left to free.
fn link_batch(
    chain: &mut Chain,
    b: &Batch,
    decoded: Vec<Hashed>,
    each: &mut impl FnMut(Scanned<'_>) -> ControlFlow<()>,
) -> ControlFlow<(), Dead> {
    if let Some((len, h)) = &b.too_long {
        let why = format!("line longer than {} bytes", b.max_line);
        chain.link(*len, h.clone(), Err(why));
    }
    let mut entries = Vec::with_capacity(b.lines.len());
    let mut hashes = Vec::with_capacity(b.lines.len());
    let mut decoded = decoded.into_iter();
    for &(s, e) in b.lines.iter() {
        let (h, d) = decoded
            .next()
            .unwrap_or_else(|| (hash(&b.data[s..e]), Err("not decoded".to_string())));
        let (entry, old) = chain.link_swap((e - s + 1) as u64, h, d);
        hashes.push(old);
        each(Scanned {
            offset: b.offset + s as u64,
            line: chain.lineno(),
            hash: chain.last_hash(),
            entry: entry.as_ref(),
        })?;
        entries.extend(entry);
    }
    ControlFlow::Continue(Dead {
        _entries: entries,
        _hashes: hashes,
        _decoded: decoded,
    })
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

type Hashed = (String, Result<Decoded, String>);

/// SHA-256 and decode of the lines in `range`.
fn hash_and_decode(
    buf: &[u8],
    lines: &[(usize, usize)],
    range: std::ops::Range<usize>,
) -> Vec<Hashed> {
    lines[range]
        .iter()
        .map(|&(s, e)| (hash(&buf[s..e]), decode(&buf[s..e])))
        .collect()
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
            entries.extend(s.entry.cloned());
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
    fn an_over_long_line_is_one_problem_and_the_chain_checks_across_it() {
        let mut bytes = journal(40);
        let long = encode(
            40,
            at(4, 0, 0),
            &hash(
                bytes[..bytes.len() - 1]
                    .rsplit(|&b| b == b'\n')
                    .next()
                    .unwrap(),
            ),
            &Event::Note(Note {
                author: "a".into(),
                text: "x".repeat(5_000),
            }),
        );
        let long_at = bytes.len() as u64;
        bytes.extend_from_slice(long.as_bytes());
        bytes.push(b'\n');
        let mut prev = hash(long.as_bytes());
        for i in 41..60u64 {
            let line = encode(
                i,
                at(4, 0, 1),
                &prev,
                &Event::Note(Note {
                    author: "a".into(),
                    text: format!("n{i}"),
                }),
            );
            prev = hash(line.as_bytes());
            bytes.extend_from_slice(line.as_bytes());
            bytes.push(b'\n');
        }
        let torn = b"{\"seq\":60,\"note\":\"".repeat(100);
        bytes.extend_from_slice(&torn);
        // Lines over 1 KB are too long here, read in batches of 300 bytes (lines span them).
        for threads in [1, 2] {
            let mut chain = Chain::default();
            let mut offsets = Vec::new();
            let mut entries = 0;
            let opts = ScanOptions { threads };
            let torn_tail = scan_lines(&bytes[..], &mut chain, opts, (300, 1_000), |s| {
                offsets.push((s.line, s.offset));
                entries += usize::from(s.entry.is_some());
                ControlFlow::Continue(())
            })
            .unwrap();
            let out = chain.finish(torn_tail);
            assert_eq!(out.problems.len(), 1, "{:?}", out.problems);
            assert_eq!(out.problems[0].line, 41);
            assert!(
                matches!(&out.problems[0].kind, ProblemKind::Unreadable(w) if w.contains("longer than 1000"))
            );
            assert_eq!(entries, 59);
            assert_eq!(out.complete_len as usize, bytes.len() - torn.len());
            assert_eq!(out.last_hash, prev);
            assert_eq!(
                out.torn_tail,
                Some(TornTail {
                    line: 61,
                    bytes: torn.len()
                })
            );
            let after = offsets.iter().find(|(l, _)| *l == 42).unwrap().1;
            assert_eq!(after, long_at + long.len() as u64 + 1);
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
