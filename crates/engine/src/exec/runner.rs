//! Run `sh -c CMD` in its own process group, streaming output lines as they
//! arrive, with a timeout and a cancel that end the whole group (TERM, then
//! KILL after a grace period).

use std::collections::VecDeque;
use std::io::{self, Read};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
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

/// Runs the command to its end: hands its output on, stops it when cancelled or timed
/// out, and waits for its whole process group.
fn drive(
    mut child: Child,
    spec: &ExecSpec,
    cancel: &CancelHandle,
    sink: &mut dyn FnMut(&Line),
) -> ExecResult {
    let start = Instant::now();
    let pgid = child.id() as i32;
    let _live = LiveGroup::new(pgid);
    let (rx, mut open) = read_output(&mut child, spec.max_line_bytes);
    let mut out = Output::new(start, spec.tail_lines);
    let mut life = Lifecycle::new(start, pgid);
    loop {
        match rx.recv_timeout(Duration::from_millis(10)) {
            Ok(Msg::Lines(stream, lines)) => {
                out.emit(stream, lines, sink);
                continue; // drain bursts before polling the child
            }
            Ok(Msg::Eof) => open -= 1,
            Err(RecvTimeoutError::Disconnected) => open = 0,
            Err(RecvTimeoutError::Timeout) => {}
        }
        life.poll_exit(&mut child);
        let now = Instant::now();
        life.stop_if_asked(spec, cancel, now);
        life.escalate(spec, now);
        if life.done(spec, open, now) {
            break;
        }
    }
    while let Ok(msg) = rx.try_recv() {
        if let Msg::Lines(stream, lines) = msg {
            out.emit(stream, lines, sink);
        }
    }
    let status = life.status.or_else(|| child.wait().ok());
    ExecResult {
        end: end_of(status),
        duration: start.elapsed(),
        timed_out: life.timed_out,
        cancelled: life.cancelled,
        lines: out.seq,
        tail: out.tail.into(),
        pgid,
    }
}

/// One reader thread per pipe, into one channel; returns it and how many pipes are open.
fn read_output(child: &mut Child, max_line_bytes: usize) -> (mpsc::Receiver<Msg>, usize) {
    // Bounded: a slow sink slows the readers, and the pipe then slows the command.
    let (tx, rx) = mpsc::sync_channel(256);
    let mut open = 0;
    if let Some(o) = child.stdout.take() {
        reader(o, Stream::Stdout, max_line_bytes, tx.clone());
        open += 1;
    }
    if let Some(e) = child.stderr.take() {
        reader(e, Stream::Stderr, max_line_bytes, tx.clone());
        open += 1;
    }
    (rx, open)
}

/// The child and its group from start to end: exit seen, stop asked (cancel or
/// timeout), SIGTERM sent, SIGKILL sent.
struct Lifecycle {
    start: Instant,
    pgid: i32,
    status: Option<ExitStatus>,
    exited_at: Option<Instant>,
    timed_out: bool,
    cancelled: bool,
    term_at: Option<Instant>,
    killed: bool,
}

impl Lifecycle {
    fn new(start: Instant, pgid: i32) -> Self {
        Lifecycle {
            start,
            pgid,
            status: None,
            exited_at: None,
            timed_out: false,
            cancelled: false,
            term_at: None,
            killed: false,
        }
    }

    /// Notes when the shell itself exited.
    fn poll_exit(&mut self, child: &mut Child) {
        if self.status.is_none() {
            if let Ok(Some(s)) = child.try_wait() {
                self.status = Some(s);
                self.exited_at = Some(Instant::now());
            }
        }
    }

    /// SIGTERM to the group, once, when cancelled or past the timeout.
    fn stop_if_asked(&mut self, spec: &ExecSpec, cancel: &CancelHandle, now: Instant) {
        if self.term_at.is_some() {
            return;
        }
        if cancel.is_cancelled() {
            self.cancelled = true;
        } else if spec.timeout.is_some_and(|t| self.start.elapsed() >= t) {
            self.timed_out = true;
        }
        if self.cancelled || self.timed_out {
            signal_group(self.pgid, libc::SIGTERM);
            self.term_at = Some(now);
        }
    }

    /// Escalate: anything still in the group after the grace period is killed.
    fn escalate(&mut self, spec: &ExecSpec, now: Instant) {
        if let Some(t) = self.term_at {
            if !self.killed && now.duration_since(t) >= spec.grace && group_alive(self.pgid) {
                signal_group(self.pgid, libc::SIGKILL);
                self.killed = true;
            }
        }
    }

    /// After the shell exited: kills background children that keep the pipes open past
    /// the grace period, and says whether the run is over (pipes closed and the group
    /// gone, or killed and given twice the grace to close).
    fn done(&mut self, spec: &ExecSpec, open: usize, now: Instant) -> bool {
        let Some(e) = self.exited_at else {
            return false;
        };
        if open > 0 && !self.killed && now.duration_since(e) >= spec.grace {
            signal_group(self.pgid, libc::SIGKILL);
            self.killed = true;
        }
        let group_done = self.term_at.is_none() || self.killed || !group_alive(self.pgid);
        (open == 0 && group_done) || (self.killed && now.duration_since(e) >= spec.grace * 2)
    }
}

/// How the command ended; -1 when its status could not be read.
fn end_of(status: Option<ExitStatus>) -> End {
    match status {
        Some(s) => match (s.code(), s.signal()) {
            (Some(c), _) => End::Exited(c),
            (None, Some(sig)) => End::Signaled(sig),
            (None, None) => End::Exited(-1),
        },
        None => End::Exited(-1),
    }
}

/// The lines handed on so far: their count (the next sequence number) and the
/// bounded tail kept for the result.
struct Output {
    start: Instant,
    seq: u64,
    tail: VecDeque<Line>,
    keep: usize,
}

impl Output {
    fn new(start: Instant, keep: usize) -> Self {
        Output {
            start,
            seq: 0,
            tail: VecDeque::with_capacity(keep.min(4096)),
            keep,
        }
    }

    /// Hand lines to the sink in arrival order and keep the bounded tail.
    fn emit(&mut self, stream: Stream, lines: Vec<RawLine>, sink: &mut dyn FnMut(&Line)) {
        let at = self.start.elapsed();
        for (bytes, truncated) in lines {
            self.seq += 1;
            let line = Line {
                seq: self.seq,
                stream,
                text: String::from_utf8_lossy(&bytes).into_owned(),
                truncated,
                at,
            };
            sink(&line);
            if self.keep > 0 {
                if self.tail.len() == self.keep {
                    self.tail.pop_front();
                }
                self.tail.push_back(line);
            }
        }
    }
}
