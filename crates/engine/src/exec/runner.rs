//! Run `sh -c CMD` in its own process group, streaming output lines as they
//! arrive, with a timeout and a cancel that end the whole group (TERM, then
//! KILL after a grace period).

use std::collections::VecDeque;
use std::io::{self, Read};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::lines::{LineSplitter, RawLine};

/// What to run and how.
#[derive(Debug, Clone)]
pub struct ExecSpec {
    /// Shell code, run as `sh -c COMMAND` exactly as shown to the responder.
    pub command: String,
    /// Working directory (the step's directory).
    pub cwd: PathBuf,
    /// Extra environment (e.g. `PM2_HOME` for drills).
    pub env: Vec<(String, String)>,
    /// Start from an empty environment (drills: nothing may lead to a real PM2).
    pub clear_env: bool,
    pub timeout: Option<Duration>,
    /// Time between SIGTERM and SIGKILL to the group.
    pub grace: Duration,
    /// Lines kept in memory for the result.
    pub tail_lines: usize,
    /// Longer lines are cut to this many bytes and marked truncated.
    pub max_line_bytes: usize,
}

impl ExecSpec {
    pub fn new(command: impl Into<String>, cwd: impl Into<PathBuf>) -> Self {
        ExecSpec {
            command: command.into(),
            cwd: cwd.into(),
            env: vec![],
            clear_env: false,
            timeout: None,
            grace: Duration::from_secs(3),
            tail_lines: 500,
            max_line_bytes: 16 * 1024,
        }
    }

    pub fn timeout(mut self, t: Duration) -> Self {
        self.timeout = Some(t);
        self
    }

    pub fn grace(mut self, g: Duration) -> Self {
        self.grace = g;
        self
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Stream {
    Stdout,
    Stderr,
}

/// One output line, in arrival order across both streams.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Line {
    pub seq: u64,
    pub stream: Stream,
    /// Lossy UTF-8: invalid bytes become U+FFFD.
    pub text: String,
    /// The line was longer than `max_line_bytes`; the rest was dropped.
    pub truncated: bool,
    /// Time since the command started.
    pub at: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    Exited(i32),
    Signaled(i32),
}

#[derive(Debug, Clone)]
pub struct ExecResult {
    pub end: End,
    pub duration: Duration,
    pub timed_out: bool,
    pub cancelled: bool,
    /// Lines seen in total (the tail keeps only the last ones).
    pub lines: u64,
    pub tail: Vec<Line>,
    /// Process-group id (= the shell's pid).
    pub pgid: i32,
}

impl ExecResult {
    pub fn exit_code(&self) -> Option<i32> {
        match self.end {
            End::Exited(c) => Some(c),
            End::Signaled(_) => None,
        }
    }

    pub fn signal(&self) -> Option<i32> {
        match self.end {
            End::Signaled(s) => Some(s),
            End::Exited(_) => None,
        }
    }

    pub fn success(&self) -> bool {
        self.end == End::Exited(0) && !self.timed_out && !self.cancelled
    }

    /// One line for the journal and the UI.
    pub fn summary(&self) -> String {
        let how = match self.end {
            End::Exited(0) => "exit 0".to_string(),
            End::Exited(126) => "exit 126: command not executable".to_string(),
            End::Exited(127) => "exit 127: command not found".to_string(),
            End::Exited(c) => format!("exit {c}"),
            End::Signaled(s) => format!("killed by signal {s} ({})", signal_name(s)),
        };
        let why = if self.timed_out {
            ", timed out"
        } else if self.cancelled {
            ", cancelled"
        } else {
            ""
        };
        format!(
            "{how}{why} after {:.3} s, {} line(s)",
            self.duration.as_secs_f64(),
            self.lines
        )
    }
}

fn signal_name(s: i32) -> &'static str {
    match s {
        libc::SIGTERM => "TERM",
        libc::SIGKILL => "KILL",
        libc::SIGINT => "INT",
        libc::SIGHUP => "HUP",
        libc::SIGPIPE => "PIPE",
        libc::SIGSEGV => "SEGV",
        libc::SIGABRT => "ABRT",
        _ => "other",
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    #[error("working directory {dir}: {1}", dir = .0.display())]
    Cwd(PathBuf, io::Error),
    #[error("cannot start `sh`: {0}")]
    Spawn(io::Error),
}

/// Ends a running command's whole process group. Cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct CancelHandle(Arc<AtomicBool>);

impl CancelHandle {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst);
    }
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// A command running on its own thread.
pub struct Running {
    pub pid: u32,
    cancel: CancelHandle,
    handle: JoinHandle<ExecResult>,
}

impl Running {
    pub fn cancel_handle(&self) -> CancelHandle {
        self.cancel.clone()
    }

    pub fn wait(self) -> ExecResult {
        // The driver thread does not panic on command behaviour; if it did, report it as killed.
        self.handle.join().unwrap_or(ExecResult {
            end: End::Signaled(libc::SIGKILL),
            duration: Duration::ZERO,
            timed_out: false,
            cancelled: true,
            lines: 0,
            tail: vec![],
            pgid: self.pid as i32,
        })
    }
}

/// Start the command; lines go to `sink` on a background thread.
pub fn spawn<F>(spec: ExecSpec, cancel: CancelHandle, mut sink: F) -> Result<Running, ExecError>
where
    F: FnMut(&Line) + Send + 'static,
{
    let child = start(&spec)?;
    let pid = child.id();
    let c = cancel.clone();
    let handle = std::thread::spawn(move || drive(child, &spec, &c, &mut sink));
    Ok(Running {
        pid,
        cancel,
        handle,
    })
}

/// Run to completion on this thread; lines go to `sink` as they arrive.
pub fn run(
    spec: &ExecSpec,
    cancel: &CancelHandle,
    sink: &mut dyn FnMut(&Line),
) -> Result<ExecResult, ExecError> {
    let child = start(spec)?;
    Ok(drive(child, spec, cancel, sink))
}

fn start(spec: &ExecSpec) -> Result<Child, ExecError> {
    if !spec.cwd.is_dir() {
        return Err(ExecError::Cwd(
            spec.cwd.clone(),
            io::Error::new(io::ErrorKind::NotFound, "not a directory"),
        ));
    }
    let mut cmd = Command::new("sh");
    if spec.clear_env {
        cmd.env_clear();
    }
    cmd.arg("-c")
        .arg(&spec.command)
        .current_dir(&spec.cwd)
        .envs(spec.env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // Own group: TERM/KILL reach every descendant, and the terminal's ^C does not.
        .process_group(0)
        .spawn()
        .map_err(ExecError::Spawn)
}

enum Msg {
    Lines(Stream, Vec<RawLine>),
    Eof,
}

fn reader(
    mut r: impl Read + Send + 'static,
    stream: Stream,
    max: usize,
    tx: mpsc::SyncSender<Msg>,
) {
    std::thread::spawn(move || {
        let mut split = LineSplitter::new(max);
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let mut out = vec![];
            match r.read(&mut buf) {
                Ok(0) | Err(_) => {
                    split.finish(&mut out);
                    if !out.is_empty() {
                        let _ = tx.send(Msg::Lines(stream, out));
                    }
                    let _ = tx.send(Msg::Eof);
                    return;
                }
                Ok(n) => {
                    split.push(&buf[..n], &mut out);
                    if !out.is_empty() && tx.send(Msg::Lines(stream, out)).is_err() {
                        return;
                    }
                }
            }
        }
    });
}

/// Process groups of commands still running, so every way out of the tool can end them.
static LIVE_GROUPS: std::sync::Mutex<std::collections::BTreeSet<i32>> =
    std::sync::Mutex::new(std::collections::BTreeSet::new());

/// Registers a group while `drive` runs; unregistered however `drive` ends.
struct LiveGroup(i32);
impl LiveGroup {
    fn new(pgid: i32) -> LiveGroup {
        if let Ok(mut g) = LIVE_GROUPS.lock() {
            g.insert(pgid);
        }
        LiveGroup(pgid)
    }
}
impl Drop for LiveGroup {
    fn drop(&mut self) {
        if let Ok(mut g) = LIVE_GROUPS.lock() {
            g.remove(&self.0);
        }
    }
}

/// Ends every command still running: SIGTERM to each group, then SIGKILL to what is left after
/// `grace`. Called on quit, on a terminating signal and on a panic: children end with the tool
/// (a cancel flag alone is not enough — the process may exit before its runner thread wakes).
/// Returns how many groups were still alive when it started.
pub fn end_all_groups(grace: Duration) -> usize {
    let groups: Vec<i32> = match LIVE_GROUPS.lock() {
        Ok(g) => g.iter().copied().collect(),
        // A panic while holding the lock: the set is still valid data.
        Err(p) => p.into_inner().iter().copied().collect(),
    };
    let alive: Vec<i32> = groups.into_iter().filter(|&g| group_alive(g)).collect();
    for &g in &alive {
        signal_group(g, libc::SIGTERM);
    }
    let until = Instant::now() + grace;
    while Instant::now() < until && alive.iter().any(|&g| group_alive(g)) {
        std::thread::sleep(Duration::from_millis(10));
    }
    for &g in &alive {
        if group_alive(g) {
            signal_group(g, libc::SIGKILL);
        }
    }
    alive.len()
}

fn signal_group(pgid: i32, sig: i32) {
    // Safety: plain syscall; a negative pid addresses the group we created.
    unsafe {
        libc::kill(-pgid, sig);
    }
}

fn group_alive(pgid: i32) -> bool {
    // Safety: signal 0 only checks for existence.
    unsafe { libc::kill(-pgid, 0) == 0 }
}

fn drive(
    mut child: Child,
    spec: &ExecSpec,
    cancel: &CancelHandle,
    sink: &mut dyn FnMut(&Line),
) -> ExecResult {
    let start = Instant::now();
    let pgid = child.id() as i32;
    let _live = LiveGroup::new(pgid);
    // Bounded: a slow sink slows the readers, and the pipe then slows the command.
    let (tx, rx) = mpsc::sync_channel(256);
    let mut open = 0;
    if let Some(o) = child.stdout.take() {
        reader(o, Stream::Stdout, spec.max_line_bytes, tx.clone());
        open += 1;
    }
    if let Some(e) = child.stderr.take() {
        reader(e, Stream::Stderr, spec.max_line_bytes, tx.clone());
        open += 1;
    }
    drop(tx);
    let mut tail: VecDeque<Line> = VecDeque::with_capacity(spec.tail_lines.min(4096));
    let mut seq = 0u64;
    let mut status = None;
    let mut exited_at: Option<Instant> = None;
    let (mut timed_out, mut cancelled) = (false, false);
    let mut term_at: Option<Instant> = None;
    let mut killed = false;
    loop {
        match rx.recv_timeout(Duration::from_millis(10)) {
            Ok(Msg::Lines(stream, lines)) => {
                emit(
                    stream,
                    lines,
                    start,
                    &mut seq,
                    &mut tail,
                    spec.tail_lines,
                    sink,
                );
                continue; // drain bursts before polling the child
            }
            Ok(Msg::Eof) => open -= 1,
            Err(RecvTimeoutError::Disconnected) => open = 0,
            Err(RecvTimeoutError::Timeout) => {}
        }
        if status.is_none() {
            if let Ok(Some(s)) = child.try_wait() {
                status = Some(s);
                exited_at = Some(Instant::now());
            }
        }
        let now = Instant::now();
        if term_at.is_none() {
            if cancel.is_cancelled() {
                cancelled = true;
            } else if spec.timeout.is_some_and(|t| start.elapsed() >= t) {
                timed_out = true;
            }
            if cancelled || timed_out {
                signal_group(pgid, libc::SIGTERM);
                term_at = Some(now);
            }
        }
        // Escalate: anything still in the group after the grace period is killed.
        if let Some(t) = term_at {
            if !killed && now.duration_since(t) >= spec.grace && group_alive(pgid) {
                signal_group(pgid, libc::SIGKILL);
                killed = true;
            }
        }
        // Background children that keep our pipes open after the shell exited.
        if let Some(e) = exited_at {
            if open > 0 && !killed && now.duration_since(e) >= spec.grace {
                signal_group(pgid, libc::SIGKILL);
                killed = true;
            }
            let group_done = term_at.is_none() || killed || !group_alive(pgid);
            if (open == 0 && group_done) || (killed && now.duration_since(e) >= spec.grace * 2) {
                break;
            }
        }
    }
    while let Ok(msg) = rx.try_recv() {
        if let Msg::Lines(stream, lines) = msg {
            emit(
                stream,
                lines,
                start,
                &mut seq,
                &mut tail,
                spec.tail_lines,
                sink,
            );
        }
    }
    let status = status.or_else(|| child.wait().ok());
    let end = match status {
        Some(s) => match (s.code(), s.signal()) {
            (Some(c), _) => End::Exited(c),
            (None, Some(sig)) => End::Signaled(sig),
            (None, None) => End::Exited(-1),
        },
        None => End::Exited(-1),
    };
    ExecResult {
        end,
        duration: start.elapsed(),
        timed_out,
        cancelled,
        lines: seq,
        tail: tail.into(),
        pgid,
    }
}

/// Hand lines to the sink in arrival order and keep the bounded tail.
fn emit(
    stream: Stream,
    lines: Vec<RawLine>,
    start: Instant,
    seq: &mut u64,
    tail: &mut VecDeque<Line>,
    keep: usize,
    sink: &mut dyn FnMut(&Line),
) {
    let at = start.elapsed();
    for (bytes, truncated) in lines {
        *seq += 1;
        let line = Line {
            seq: *seq,
            stream,
            text: String::from_utf8_lossy(&bytes).into_owned(),
            truncated,
            at,
        };
        sink(&line);
        if keep > 0 {
            if tail.len() == keep {
                tail.pop_front();
            }
            tail.push_back(line);
        }
    }
}
