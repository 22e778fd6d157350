//! Commands: started, their output (kept in memory, as places in the journal, or counted),
//! finished, and those the guard refused.
use super::{Incident, Timed};
use crate::incident::event::*;
use std::sync::Arc;

/// Output lines kept per command; the rest are counted, not stored (bounds memory and journal).
pub const OUTPUT_LINE_LIMIT: usize = 1000;

#[derive(Debug, Clone, PartialEq)]
pub struct OutputLine {
    pub stream: Stream,
    pub text: Arc<str>,
}

/// Output lines left in the journal file: the first `lines` lines of the `output_lines` event
/// whose line starts at byte `offset` (a replay or report of a file keeps these instead of the
/// text, so memory does not grow with the output; see [`Incident::apply_at`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutputRef {
    pub offset: u64,
    pub lines: u32,
}

/// Where a fold keeps command output (see [`Incident::apply_at`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputAt {
    /// Line by line in memory (live sessions, drills, in-memory replays).
    Memory,
    /// As places in the journal: the entry's line starts at this byte (replay of a file).
    Journal(u64),
    /// Counted, not kept (a report, which prints none of it).
    Counted,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CommandRecord {
    pub started_at: Ts,
    pub seq: u64,
    pub start: CommandStarted,
    /// Output kept in memory (live sessions, drills, in-memory replays).
    pub output: Vec<OutputLine>,
    /// Output kept as places in the journal (folds of a file by offset); read back on demand
    /// with `seek::Replay::read_output`.
    pub output_in_journal: Vec<OutputRef>,
    /// Lines left in the journal: those places stand for them (or, folded for a report, they
    /// were only counted).
    pub output_in_journal_lines: usize,
    /// Lines beyond the bound: counted by the writer (in `finished`) or by the fold.
    pub output_dropped: u64,
    pub finished: Option<(Ts, CommandFinished)>,
}

impl CommandRecord {
    /// Output lines kept (in memory or in the journal), at most [`OUTPUT_LINE_LIMIT`].
    pub fn output_kept(&self) -> usize {
        self.output.len() + self.output_in_journal_lines
    }

    /// Keeps what fits under the bound of one `output_lines` event, where `at` says; counts
    /// the rest as dropped.
    fn take_output(&mut self, o: &OutputLines, at: OutputAt) {
        let room = OUTPUT_LINE_LIMIT.saturating_sub(self.output_kept());
        let kept = o.lines.len().min(room);
        self.output_dropped += (o.lines.len() - kept) as u64;
        match at {
            OutputAt::Journal(offset) if kept > 0 => {
                self.output_in_journal.push(OutputRef {
                    offset,
                    lines: kept as u32,
                });
                self.output_in_journal_lines += kept;
            }
            OutputAt::Journal(_) => {}
            OutputAt::Counted => self.output_in_journal_lines += kept,
            OutputAt::Memory => self
                .output
                .extend(o.lines[..kept].iter().map(|l| OutputLine {
                    stream: o.stream,
                    text: Arc::from(l.as_str()),
                })),
        }
    }
}

impl Incident {
    pub fn command(&self, cmd_id: u64) -> Option<&CommandRecord> {
        self.cmd_index
            .get(&cmd_id)
            .and_then(|&i| self.commands.get(i))
    }

    pub(super) fn command_started(&mut self, ts: Ts, seq: u64, c: &CommandStarted) {
        if let Some(p) = self.here() {
            p.commands += 1;
            p.completed_at.get_or_insert(ts);
        }
        self.line(ts, seq, format!("Ran `{}` [{}]", c.text, c.guard.class));
        self.cmd_index.insert(c.cmd_id, self.commands.len());
        self.commands.push(CommandRecord {
            started_at: ts,
            seq,
            start: c.clone(),
            output: Vec::new(),
            output_in_journal: Vec::new(),
            output_in_journal_lines: 0,
            output_dropped: 0,
            finished: None,
        });
    }

    /// Output of a command whose start was lost is not kept (there is nothing to attach it to).
    pub(super) fn output_lines(&mut self, o: &OutputLines, at: OutputAt) {
        if let Some(rec) = self.command_mut(o.cmd_id) {
            rec.take_output(o, at);
        }
    }

    pub(super) fn command_finished(&mut self, ts: Ts, seq: u64, f: &CommandFinished) {
        let text = self
            .command(f.cmd_id)
            .map(|c| c.start.text.clone())
            .unwrap_or_else(|| format!("command #{}", f.cmd_id));
        self.line(
            ts,
            seq,
            format!(
                "`{text}` finished: {} in {}",
                exit_text(f),
                crate::incident::report::fmt_ms(f.duration_ms)
            ),
        );
        if let Some(rec) = self.command_mut(f.cmd_id) {
            rec.output_dropped += f.output_lines_dropped;
            rec.finished = Some((ts, f.clone()));
        }
    }

    pub(super) fn guard_refused(&mut self, ts: Ts, seq: u64, g: &GuardRefused) {
        self.line(
            ts,
            seq,
            format!(
                "REFUSED `{}` ({}): {}",
                g.text, g.guard.class, g.guard.reason
            ),
        );
        self.refusals.push(Timed {
            at: ts,
            value: g.clone(),
        });
    }

    fn command_mut(&mut self, cmd_id: u64) -> Option<&mut CommandRecord> {
        let &i = self.cmd_index.get(&cmd_id)?;
        self.commands.get_mut(i)
    }
}

pub fn exit_text(f: &CommandFinished) -> String {
    match (f.exit_code, f.signal, f.timed_out) {
        (_, _, true) => "timed out".to_string(),
        (Some(c), _, _) => format!("exit {c}"),
        (None, Some(s), _) => format!("signal {s}"),
        (None, None, _) => "no exit status".to_string(),
    }
}
