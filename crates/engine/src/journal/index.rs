//! The replay index of a journal file, built while the file streams: per event a small
//! [`Mark`] (time, byte offset, kind), a folded snapshot every `every` events, and the chain
//! check on the way. Events are read back from the file on demand ([`FileSource`]), so memory
//! grows with the marks and snapshots, not with the events. [`index`] sends [`Progress`]
//! messages as it goes: the first as soon as the first events are read (the replay shows them
//! at once), then a chunk every [`CHUNK_EVENTS`], then the end (and, following a journal that
//! is still being written, whatever is appended later).
use super::line::decode;
use super::reader::{ReadOutcome, TornTail};
use super::scan::{scan_on, Chain, ScanOptions};
use super::JournalError;
use crate::incident::event::Entry;
use crate::incident::seek::{Builder, Chunk, Source};
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Events in the first chunk: enough for the first screen, read in a few milliseconds.
pub const FIRST_EVENTS: usize = 512;
/// Events per later chunk.
pub const CHUNK_EVENTS: usize = 65_536;
/// How often a follower looks for appended lines.
pub const FOLLOW_POLL: Duration = Duration::from_millis(250);

/// What the indexer tells the replay, in order.
#[derive(Debug, Clone)]
pub enum Progress {
    /// The next events' index. `bytes_done` of `bytes_total` read so far (the header's gauge).
    Chunk {
        chunk: Box<Chunk>,
        bytes_done: u64,
        bytes_total: u64,
    },
    /// The whole file is indexed (a follower keeps sending chunks after this). The outcome has
    /// the chain's problems and the torn tail, no entries.
    Done(ReadOutcome),
    /// The file could not be read (the first message when it cannot be opened at all).
    Failed(String),
}

/// Reads events back from the journal file by byte offset.
pub struct FileSource {
    path: PathBuf,
}

impl FileSource {
    pub fn new(path: &Path) -> FileSource {
        FileSource {
            path: path.to_path_buf(),
        }
    }
}

impl Source for FileSource {
    fn located(&self) -> bool {
        true
    }

    fn read_at(&self, offsets: &[u64]) -> Vec<Option<Entry>> {
        let Ok((f, _)) =
            crate::safe_fs::open_regular(&self.path, crate::safe_fs::Follow::Symlinks, false)
        else {
            return vec![None; offsets.len()];
        };
        let mut r = BufReader::with_capacity(16 * 1024, f);
        let mut line = Vec::new();
        offsets
            .iter()
            .map(|&at| {
                r.seek(SeekFrom::Start(at)).ok()?;
                line.clear();
                // One line: bounded like the scanner's, so a file replaced by garbage cannot
                // take the memory with it.
                (&mut r)
                    .take(super::scan::MAX_LINE as u64)
                    .read_until(b'\n', &mut line)
                    .ok()?;
                let body = line.strip_suffix(b"\n")?;
                decode(body).ok().map(|d| Entry {
                    seq: d.seq,
                    ts: d.ts,
                    event: d.event,
                })
            })
            .collect()
    }

    fn read(&self, from: usize, to: usize, offset: u64) -> Vec<Entry> {
        let want = to.saturating_sub(from);
        let mut out = Vec::with_capacity(want);
        let Ok((mut f, _)) =
            crate::safe_fs::open_regular(&self.path, crate::safe_fs::Follow::Symlinks, false)
        else {
            return out;
        };
        if f.seek(SeekFrom::Start(offset)).is_err() {
            return out;
        }
        let mut r = BufReader::with_capacity(256 * 1024, f.take(u64::MAX));
        let mut line = Vec::new();
        while out.len() < want {
            line.clear();
            match r.read_until(b'\n', &mut line) {
                Ok(0) | Err(_) => break,
                Ok(_) if line.last() != Some(&b'\n') => break,
                Ok(_) => {}
            }
            // Unreadable lines have no index entry: skipping them keeps indices aligned.
            if let Ok(d) = decode(&line[..line.len() - 1]) {
                out.push(Entry {
                    seq: d.seq,
                    ts: d.ts,
                    event: d.event,
                });
            }
        }
        out
    }
}

/// Indexes the journal at `path` with snapshots every `every` events, sending progress to
/// `send` until the file ends (or, with `follow`, until `send` returns false). Returns when the
/// receiver is gone.
pub fn index(
    path: &Path,
    every: usize,
    follow: bool,
    opts: ScanOptions,
    mut send: impl FnMut(Progress) -> bool,
) {
    let mut chain = Chain::default();
    let mut builder = Builder::new(every).located();
    let mut done_sent = false;
    loop {
        let res = scan_more(path, &mut chain, &mut builder, opts, &mut send);
        let (torn, total) = match res {
            Ok(Some(x)) => x,
            Ok(None) => return, // receiver gone
            Err(e) => {
                let _ = send(Progress::Failed(e.to_string()));
                return;
            }
        };
        if builder.pending() > 0
            && !send(Progress::Chunk {
                chunk: Box::new(builder.take()),
                bytes_done: chain.complete_len(),
                bytes_total: total,
            })
        {
            return;
        }
        if !done_sent {
            done_sent = true;
            if !send(Progress::Done(chain.clone().finish(torn))) {
                return;
            }
        }
        if !follow {
            return;
        }
        std::thread::sleep(FOLLOW_POLL);
    }
}

/// One pass from where the chain stopped to the current end of the file. `Ok(None)` when the
/// receiver is gone; else the torn tail and the file's size.
fn scan_more(
    path: &Path,
    chain: &mut Chain,
    builder: &mut Builder,
    opts: ScanOptions,
    send: &mut impl FnMut(Progress) -> bool,
) -> Result<Option<(Option<TornTail>, u64)>, JournalError> {
    // No whole-file size cap: the journal streams (see `scan::scan_path`). Only the marks'
    // 40-bit offsets bound it.
    let (mut f, size) =
        crate::safe_fs::open_regular(path, crate::safe_fs::Follow::Symlinks, false)?;
    if size >= crate::incident::seek::MAX_OFFSET {
        return Err(JournalError::Invalid {
            path: path.display().to_string(),
            message: format!("{size} bytes: replay indexes journals up to 1 TiB"),
        });
    }
    if size < chain.complete_len() {
        return Err(JournalError::Invalid {
            path: path.display().to_string(),
            message: format!(
                "the file shrank to {size} bytes while being read ({} were indexed): it was truncated or replaced",
                chain.complete_len()
            ),
        });
    }
    f.seek(SeekFrom::Start(chain.complete_len()))
        .map_err(|e| JournalError::io(path, e))?;
    let mut gone = false;
    let mut next_send = if builder.count() == 0 {
        FIRST_EVENTS
    } else {
        CHUNK_EVENTS
    };
    let mut done = chain.complete_len();
    let torn = scan_on(f, chain, opts, |s| {
        if let Some(e) = &s.entry {
            builder.push(e, s.offset);
        }
        done = s.offset;
        if builder.pending() >= next_send {
            next_send = CHUNK_EVENTS;
            if !send(Progress::Chunk {
                chunk: Box::new(builder.take()),
                bytes_done: done,
                bytes_total: size,
            }) {
                gone = true;
                return ControlFlow::Break(());
            }
        }
        ControlFlow::Continue(())
    })
    .map_err(|e| JournalError::io(path, e))?;
    Ok((!gone).then_some((torn, size)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::incident::seek::Replay;
    use crate::journal::synth::write_journal;

    fn indexed(path: &Path, every: usize) -> (Replay, Option<ReadOutcome>, usize) {
        let mut r = Replay::from_source(Box::new(FileSource::new(path)), every);
        let mut done = None;
        let mut chunks = 0;
        index(path, every, false, ScanOptions { threads: 2 }, |p| {
            match p {
                Progress::Chunk { chunk, .. } => {
                    chunks += 1;
                    r.extend(*chunk)
                }
                Progress::Done(o) => done = Some(o),
                Progress::Failed(e) => panic!("{e}"),
            }
            true
        });
        (r, done, chunks)
    }

    #[test]
    fn the_file_index_gives_the_same_states_as_a_full_fold() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("j.jsonl");
        write_journal(std::fs::File::create(&p).unwrap(), 5_000).unwrap();
        let all = crate::journal::read(&p).unwrap().entries;
        for every in [1, 7, 256, 10_000] {
            let (r, done, chunks) = indexed(&p, every);
            assert!(done.unwrap().is_intact());
            assert_eq!(r.len(), all.len());
            assert!(chunks >= 2, "a first chunk then the rest");
            for n in [0, 1, 255, 256, 257, 2_500, 4_999, 5_000] {
                let want = crate::incident::fold(&all[..n]);
                let mut got = r.state_at(n);
                if n > 100 {
                    assert!(
                        got.commands.iter().any(|c| !c.output_in_journal.is_empty()),
                        "output stays in the file"
                    );
                }
                r.hydrate_all(&mut got);
                assert_eq!(got, want, "every {every}, n {n}");
            }
            assert_eq!(r.read(4_000, 4_003), all[4_000..4_003].to_vec());
        }
    }
}
