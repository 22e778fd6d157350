//! A journal's report in bounded memory. The journal streams through the fold (command output
//! is only counted: the report prints none); the timeline, about one line per
//! event and the one part of the report as long as the journal, is taken out of the Incident
//! every [`RUN`] entries, sorted and spooled to an unlinked temp file, then merged back in
//! time order while the report is written (an external merge sort). What stays in memory is
//! the rest of the Incident (commands, notes: one entry per thing the responder did).
use super::reader::ReadOutcome;
use super::scan::{scan_path, ScanOptions};
use super::JournalError;
use crate::incident::fold::{Incident, OutputAt, TimelineEntry};
use crate::incident::report::Timeline;
use crate::incident::Ts;
use chrono::DateTime;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Seek, Write};
use std::ops::ControlFlow;
use std::path::Path;

/// Timeline entries sorted in memory at a time: one run of the spool (a few MB).
pub const RUN: usize = 65_536;

/// Folds the journal at `path` for its report: the Incident without its timeline, the read
/// outcome, and the timeline spooled in sorted runs.
pub fn fold(
    path: &Path,
    opts: ScanOptions,
) -> Result<(Incident, ReadOutcome, Spool), JournalError> {
    fold_runs(path, opts, RUN)
}

fn fold_runs(
    path: &Path,
    opts: ScanOptions,
    run: usize,
) -> Result<(Incident, ReadOutcome, Spool), JournalError> {
    let mut inc = Incident::default();
    let mut spool = Spool::default();
    let mut failed = None;
    let out = scan_path(path, opts, |s| {
        if let Some(e) = &s.entry {
            inc.apply_at(e, OutputAt::Counted);
            if inc.timeline.len() >= run {
                if let Err(e) = spool.add_run(&mut inc) {
                    failed = Some(e);
                    return ControlFlow::Break(());
                }
            }
        }
        ControlFlow::Continue(())
    })?;
    let spooled = match failed {
        Some(e) => Err(e),
        None => spool.add_run(&mut inc),
    };
    spooled.map_err(|e| JournalError::Io {
        path: format!("temporary file for {}'s timeline", path.display()),
        source: e,
    })?;
    Ok((inc, out, spool))
}

/// The spooled timeline: sorted runs one after the other in one unlinked temp file (gone when
/// dropped, whatever happens; 0600 in a private directory while it had a name).
#[derive(Default)]
pub struct Spool {
    file: Option<File>,
    /// (start, end) byte range of each run.
    runs: Vec<(u64, u64)>,
    span: Option<(Ts, Ts)>,
    /// Entries spooled so far: the tie-breaker that keeps recording order.
    count: u64,
}

impl Spool {
    /// Takes the Incident's timeline out, sorted, into a new run.
    fn add_run(&mut self, inc: &mut Incident) -> io::Result<()> {
        if inc.timeline.is_empty() {
            return Ok(());
        }
        let timeline = std::mem::take(&mut inc.timeline);
        let mut rows: Vec<(u64, &TimelineEntry)> = (self.count..).zip(timeline.iter()).collect();
        self.count += rows.len() as u64;
        rows.sort_by_key(|(i, r)| (r.ts, r.seq, *i));
        if let (Some((_, a)), Some((_, b))) = (rows.first(), rows.last()) {
            self.span = Some(match self.span {
                Some((lo, hi)) => (lo.min(a.ts), hi.max(b.ts)),
                None => (a.ts, b.ts),
            });
        }
        let file = match &mut self.file {
            Some(f) => f,
            None => self.file.insert(temp_file()?),
        };
        let start = self.runs.last().map_or(0, |r| r.1);
        let mut w = BufWriter::with_capacity(64 * 1024, &mut *file);
        for (i, r) in rows {
            write_record(&mut w, i, r)?;
        }
        w.flush()?;
        drop(w);
        let end = file.stream_position()?;
        self.runs.push((start, end));
        Ok(())
    }
}

/// One run of the spool, read with its own position (runs are merged side by side).
struct RunReader<'a> {
    file: &'a File,
    pos: u64,
    end: u64,
}

impl Read for RunReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        use std::os::unix::fs::FileExt;
        let want = buf.len().min((self.end - self.pos) as usize);
        let n = self.file.read_at(&mut buf[..want], self.pos)?;
        self.pos += n as u64;
        Ok(n)
    }
}

/// A file no one else can open: created 0600 (read and append) in a fresh private directory,
/// both unlinked at once (the timeline is recorded data: command lines, notes).
fn temp_file() -> io::Result<File> {
    let dir = crate::safe_fs::mkdtemp_in(&std::env::temp_dir(), "p2i-report-")?;
    let path = dir.join("timeline");
    let f = crate::safe_fs::create_new(&path, 0o600);
    let _ = std::fs::remove_file(&path);
    let _ = std::fs::remove_dir(&dir);
    f
}

/// One record: time (seconds, nanoseconds), seq, recording index, text length, text.
fn write_record(w: &mut impl Write, i: u64, r: &TimelineEntry) -> io::Result<()> {
    w.write_all(&r.ts.timestamp().to_le_bytes())?;
    w.write_all(&r.ts.timestamp_subsec_nanos().to_le_bytes())?;
    w.write_all(&r.seq.to_le_bytes())?;
    w.write_all(&i.to_le_bytes())?;
    w.write_all(&(r.text.len() as u32).to_le_bytes())?;
    w.write_all(r.text.as_bytes())
}

/// The next record's (time, seq, recording index), its text read into `text` (one buffer per
/// run, reused: a row per event).
fn read_record(r: &mut impl Read, text: &mut Vec<u8>) -> io::Result<Option<(Ts, u64, u64)>> {
    let mut head = [0u8; 32];
    match r.read_exact(&mut head) {
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
        other => other?,
    }
    let n = |a: usize, b: usize| -> [u8; 8] { head[a..b].try_into().unwrap_or_default() };
    let secs = i64::from_le_bytes(n(0, 8));
    let nanos = u32::from_le_bytes(head[8..12].try_into().unwrap_or_default());
    let seq = u64::from_le_bytes(n(12, 20));
    let i = u64::from_le_bytes(n(20, 28));
    let len = u32::from_le_bytes(head[28..32].try_into().unwrap_or_default()) as usize;
    text.clear();
    text.resize(len, 0);
    r.read_exact(text)?;
    let bad = || io::Error::new(io::ErrorKind::InvalidData, "spooled timeline record");
    let ts = DateTime::from_timestamp(secs, nanos).ok_or_else(bad)?;
    std::str::from_utf8(text).map_err(|_| bad())?;
    Ok(Some((ts, seq, i)))
}

impl Timeline for Spool {
    fn span(&self) -> Option<(Ts, Ts)> {
        self.span
    }

    /// Merges the runs (each sorted) by (time, seq, recording index): the order a stable sort
    /// of the whole timeline by (time, seq) gives.
    fn each(&mut self, f: &mut dyn FnMut(Ts, &str)) -> io::Result<()> {
        let Some(file) = &self.file else {
            return Ok(());
        };
        // Read buffers share a few MB however many runs there are.
        let cap = (8 << 20) / self.runs.len().max(1);
        let mut readers: Vec<_> = self
            .runs
            .iter()
            .map(|&(pos, end)| {
                BufReader::with_capacity(cap.clamp(4 << 10, 64 << 10), RunReader { file, pos, end })
            })
            .collect();
        // Each run's head record's text (validated UTF-8 by read_record).
        let mut texts: Vec<Vec<u8>> = vec![Vec::new(); readers.len()];
        let mut heap = BinaryHeap::new();
        for (k, r) in readers.iter_mut().enumerate() {
            if let Some((ts, seq, i)) = read_record(r, &mut texts[k])? {
                heap.push(Reverse((ts, seq, i, k)));
            }
        }
        while let Some(Reverse((ts, _, _, k))) = heap.pop() {
            f(ts, std::str::from_utf8(&texts[k]).unwrap_or_default());
            if let Some((ts, seq, i)) = read_record(&mut readers[k], &mut texts[k])? {
                heap.push(Reverse((ts, seq, i, k)));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::incident::event::{Entry, Event, Milestone, MilestoneReached, Note};
    use crate::incident::report::{render, render_to};
    use crate::journal::line::{encode, hash, GENESIS};
    use chrono::Duration;

    /// The synthetic journal with the timeline out of order in places: back-dated milestones,
    /// a clock that jumps back, equal times.
    fn journal(n: usize) -> (Vec<u8>, Vec<Entry>) {
        let mut events: Vec<_> = crate::journal::synth::events(n).collect();
        let t0 = events[0].0;
        for k in (50..n).step_by(997) {
            let (ts, _) = events[k];
            events.insert(
                k,
                (
                    ts,
                    Event::Milestone(MilestoneReached {
                        milestone: Milestone::ImpactStarted,
                        at: Some(t0 - Duration::minutes(k as i64 % 7)),
                        source: "monitoring".into(),
                    }),
                ),
            );
        }
        for k in (300..n).step_by(1_303) {
            events[k].0 -= Duration::seconds(90); // the clock stepped back
            events[k + 1].0 = events[k].0; // and the next event at the very same time
            events.insert(
                k + 1,
                (
                    events[k].0,
                    Event::Note(Note {
                        author: "b".into(),
                        text: format!("same time {k}"),
                    }),
                ),
            );
        }
        let (mut bytes, mut entries, mut prev) = (Vec::new(), Vec::new(), GENESIS.to_string());
        for (seq, (ts, event)) in events.into_iter().enumerate() {
            let ts = crate::journal::line::truncate_ms(ts);
            let line = encode(seq as u64, ts, &prev, &event);
            prev = hash(line.as_bytes());
            bytes.extend_from_slice(line.as_bytes());
            bytes.push(b'\n');
            entries.push(Entry {
                seq: seq as u64,
                ts,
                event,
            });
        }
        (bytes, entries)
    }

    #[test]
    fn a_spooled_report_is_the_report_of_the_whole_fold() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("j.jsonl");
        let (bytes, entries) = journal(6_000);
        std::fs::write(&p, &bytes).unwrap();
        let want = render(&crate::incident::fold(&entries));
        assert!(
            want.contains("Impact started"),
            "the back-dated lines are there"
        );
        for run in [1, 7, 500, RUN] {
            let (inc, out, mut spool) = fold_runs(&p, ScanOptions { threads: 2 }, run).unwrap();
            assert!(out.is_intact());
            assert!(inc.timeline.is_empty(), "the timeline went to the spool");
            assert!(
                inc.commands
                    .iter()
                    .all(|c| c.output.is_empty() && c.output_in_journal.is_empty()),
                "output is counted, not kept"
            );
            let mut md = Vec::new();
            render_to(&mut md, &inc, &mut spool).unwrap();
            assert_eq!(String::from_utf8(md).unwrap(), want, "runs of {run}");
        }
    }
}
