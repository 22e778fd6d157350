//! PM2's event bus on `pub.sock`: typed process events, log lines, `pm2:kill`, and
//! end-of-stream (the daemon is gone). Reading only: nothing is ever written to the socket.
//!
//! [`parse_event`] is pure; [`EventSubscriber`] runs a thread that connects, decodes frames,
//! pushes [`BusMsg`]s into a std channel, and reconnects with backoff.
use super::amp::{read_frame, Arg, FrameError, DEFAULT_MAX_FRAME};
use super::home::Pm2Home;
use super::model::ProcessStatus;
use super::rpc::connect_unix;
use serde::{Deserialize, Serialize};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProcessEventKind {
    Start,
    Online,
    Exit,
    Stop,
    Restart,
    Reload,
    GracefulReload,
    RestartOverlimit,
    Other(String),
}

impl ProcessEventKind {
    pub fn parse(s: &str) -> Self {
        match s {
            "start" => Self::Start,
            "online" => Self::Online,
            "exit" => Self::Exit,
            "stop" => Self::Stop,
            "restart" => Self::Restart,
            "reload" => Self::Reload,
            "graceful reload" => Self::GracefulReload,
            "restart overlimit" => Self::RestartOverlimit,
            other => Self::Other(other.to_string()),
        }
    }
}

/// A `process:event`, reduced to allow-listed fields (the payload carries env vars).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProcessEvent {
    pub kind: ProcessEventKind,
    pub manually: bool,
    pub name: String,
    pub pm_id: Option<u32>,
    pub status: Option<ProcessStatus>,
    pub restarts: Option<u64>,
    pub unstable_restarts: Option<u64>,
    pub exit_code: Option<i64>,
    pub at_ms: Option<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogStream {
    Out,
    Err,
    /// The daemon's own log: the only place the killing signal shows.
    Pm2,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogLine {
    pub stream: LogStream,
    /// App name, or "PM2" for daemon lines.
    pub name: String,
    pub pm_id: Option<u32>,
    pub at_ms: Option<i64>,
    pub data: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Pm2Event {
    Process(ProcessEvent),
    Log(LogLine),
    /// `pm2:kill`: the daemon is shutting down on request.
    Kill {
        msg: String,
    },
    /// Any other topic; only the topic name is kept (payloads are app-defined).
    Other {
        topic: String,
    },
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum EventError {
    #[error("bus frame: expected [string topic, JSON payload], got [{0}]")]
    Shape(String),
    #[error("bus payload for {topic}: not the expected JSON ({what})")]
    Payload { topic: String, what: String },
}

#[derive(Deserialize)]
struct RawProcessEvent {
    event: String,
    #[serde(default)]
    manually: bool,
    process: RawEventProcess,
    #[serde(default)]
    at: Option<i64>,
}

#[derive(Deserialize)]
struct RawEventProcess {
    name: String,
    #[serde(default)]
    pm_id: Option<serde_json::Value>,
    #[serde(default)]
    status: Option<serde_json::Value>,
    #[serde(default)]
    restart_time: Option<serde_json::Value>,
    #[serde(default)]
    unstable_restarts: Option<serde_json::Value>,
    #[serde(default)]
    exit_code: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct RawLog {
    process: RawLogProcess,
    #[serde(default)]
    at: Option<i64>,
    #[serde(default)]
    data: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct RawLogProcess {
    #[serde(default)]
    name: Option<serde_json::Value>,
    #[serde(default)]
    pm_id: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct RawKill {
    #[serde(default)]
    msg: Option<String>,
}

fn as_u64(v: &Option<serde_json::Value>) -> Option<u64> {
    v.as_ref().and_then(|v| v.as_u64())
}

fn payload_err(topic: &str, e: &serde_json::Error) -> EventError {
    EventError::Payload {
        topic: topic.to_string(),
        what: super::model::ParseError::from_serde(e).to_string(),
    }
}

/// Decode one bus message (topic + JSON payload bytes) into a typed event.
pub fn parse_event(topic: &str, payload: &[u8]) -> Result<Pm2Event, EventError> {
    let log = |stream| -> Result<Pm2Event, EventError> {
        let raw: RawLog = serde_json::from_slice(payload).map_err(|e| payload_err(topic, &e))?;
        let name = match raw.process.name {
            Some(serde_json::Value::String(s)) => s,
            _ => String::new(),
        };
        Ok(Pm2Event::Log(LogLine {
            stream,
            name,
            pm_id: as_u64(&raw.process.pm_id).and_then(|v| u32::try_from(v).ok()),
            at_ms: raw.at,
            data: match raw.data {
                Some(serde_json::Value::String(s)) => s,
                _ => String::new(),
            },
        }))
    };
    match topic {
        "process:event" => {
            let raw: RawProcessEvent =
                serde_json::from_slice(payload).map_err(|e| payload_err(topic, &e))?;
            let p = raw.process;
            Ok(Pm2Event::Process(ProcessEvent {
                kind: ProcessEventKind::parse(&raw.event),
                manually: raw.manually,
                name: p.name,
                pm_id: as_u64(&p.pm_id).and_then(|v| u32::try_from(v).ok()),
                status: p
                    .status
                    .as_ref()
                    .and_then(|s| s.as_str())
                    .map(ProcessStatus::parse),
                restarts: as_u64(&p.restart_time),
                unstable_restarts: as_u64(&p.unstable_restarts),
                exit_code: p.exit_code.as_ref().and_then(|v| v.as_i64()),
                at_ms: raw.at,
            }))
        }
        "log:out" => log(LogStream::Out),
        "log:err" => log(LogStream::Err),
        "log:PM2" => log(LogStream::Pm2),
        "pm2:kill" => {
            let raw: RawKill =
                serde_json::from_slice(payload).map_err(|e| payload_err(topic, &e))?;
            Ok(Pm2Event::Kill {
                msg: raw.msg.unwrap_or_default(),
            })
        }
        other => Ok(Pm2Event::Other {
            topic: other.to_string(),
        }),
    }
}

/// Decode a whole bus frame.
pub fn parse_frame(args: Vec<Arg>) -> Result<Pm2Event, EventError> {
    let mut it = args.into_iter();
    match (it.next(), it.next(), it.next()) {
        (Some(Arg::Str(topic)), Some(Arg::Json(payload)), None) => parse_event(&topic, &payload),
        (a, b, _) => Err(EventError::Shape(format!(
            "{}, {}",
            a.as_ref().map_or("nothing", Arg::kind),
            b.as_ref().map_or("nothing", Arg::kind)
        ))),
    }
}

/// What the subscriber thread reports.
#[derive(Debug, Clone, PartialEq)]
pub enum BusMsg {
    /// Connected to pub.sock (first time or after a reconnect).
    Connected,
    Event(Pm2Event),
    /// A frame that could not be decoded; the stream continues.
    BadMessage(String),
    /// End of stream or read error: the daemon closed the bus (after `pm2:kill`, or it died).
    Disconnected {
        reason: String,
    },
}

#[derive(Debug, Clone)]
pub struct SubscriberOptions {
    pub connect_timeout: Duration,
    /// Reconnect after a disconnect or a failed connect (with backoff).
    pub reconnect: bool,
    pub initial_backoff: Duration,
    pub max_backoff: Duration,
    pub max_frame: usize,
}

impl Default for SubscriberOptions {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(1),
            reconnect: true,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(5),
            max_frame: DEFAULT_MAX_FRAME,
        }
    }
}

/// Doubling backoff, capped (pure).
pub fn next_backoff(current: Duration, max: Duration) -> Duration {
    (current * 2).min(max)
}

/// A background reader of `pub.sock`. Dropping it stops the thread.
pub struct EventSubscriber {
    rx: Receiver<BusMsg>,
    stop: Arc<AtomicBool>,
    current: Arc<Mutex<Option<UnixStream>>>,
    thread: Option<JoinHandle<()>>,
}

impl EventSubscriber {
    pub fn spawn(home: &Pm2Home, opts: SubscriberOptions) -> Self {
        let (tx, rx) = mpsc::channel();
        let stop = Arc::new(AtomicBool::new(false));
        let current = Arc::new(Mutex::new(None));
        let path = home.pub_socket().to_path_buf();
        let (s2, c2) = (stop.clone(), current.clone());
        let thread = std::thread::spawn(move || run(path, opts, tx, s2, c2));
        Self {
            rx,
            stop,
            current,
            thread: Some(thread),
        }
    }

    /// Wait up to `timeout` for the next message. `None` on timeout or when the thread ended.
    pub fn recv_timeout(&self, timeout: Duration) -> Option<BusMsg> {
        self.rx.recv_timeout(timeout).ok()
    }

    /// Wait until `pred` matches a message, up to `timeout`; returns every message seen.
    pub fn wait_for(
        &self,
        timeout: Duration,
        mut pred: impl FnMut(&BusMsg) -> bool,
    ) -> (bool, Vec<BusMsg>) {
        let deadline = Instant::now() + timeout;
        let mut seen = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let Some(m) = self.recv_timeout(left) else {
                return (false, seen);
            };
            let hit = pred(&m);
            seen.push(m);
            if hit {
                return (true, seen);
            }
        }
    }

    /// The raw channel, e.g. to drain from another thread.
    pub fn receiver(&self) -> &Receiver<BusMsg> {
        &self.rx
    }
}

impl Drop for EventSubscriber {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Ok(g) = self.current.lock() {
            if let Some(s) = g.as_ref() {
                let _ = s.shutdown(std::net::Shutdown::Both);
            }
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn sleep_unless_stopped(d: Duration, stop: &AtomicBool) {
    let end = Instant::now() + d;
    while !stop.load(Ordering::SeqCst) && Instant::now() < end {
        // Coarse steps: a dead daemon can stay dead for the whole incident, and
        // waking 50 times a second to wait for it costs CPU for nothing.
        std::thread::sleep(Duration::from_millis(200).min(end - Instant::now()));
    }
}

fn run(
    path: PathBuf,
    opts: SubscriberOptions,
    tx: mpsc::Sender<BusMsg>,
    stop: Arc<AtomicBool>,
    current: Arc<Mutex<Option<UnixStream>>>,
) {
    let mut backoff = opts.initial_backoff;
    let mut reported_down = false;
    while !stop.load(Ordering::SeqCst) {
        match connect_unix(&path, opts.connect_timeout) {
            Ok(stream) => {
                let Ok(reader) = stream.try_clone() else {
                    return;
                };
                if let Ok(mut g) = current.lock() {
                    *g = Some(stream);
                }
                if stop.load(Ordering::SeqCst) || tx.send(BusMsg::Connected).is_err() {
                    return;
                }
                backoff = opts.initial_backoff;
                let reason = read_loop(reader, &opts, &tx);
                if let Ok(mut g) = current.lock() {
                    *g = None;
                }
                let Some(reason) = reason else { return };
                if stop.load(Ordering::SeqCst) {
                    return;
                }
                reported_down = true;
                if tx.send(BusMsg::Disconnected { reason }).is_err() {
                    return;
                }
            }
            Err(e) => {
                if !reported_down {
                    reported_down = true;
                    let reason = format!("cannot connect: {e}");
                    if tx.send(BusMsg::Disconnected { reason }).is_err() {
                        return;
                    }
                }
            }
        }
        if !opts.reconnect {
            return;
        }
        sleep_unless_stopped(backoff, &stop);
        backoff = next_backoff(backoff, opts.max_backoff);
    }
}

/// Read until the stream ends. `Some(reason)` when the bus went away, `None` if the receiver
/// is gone (nobody listens any more).
fn read_loop(
    mut reader: UnixStream,
    opts: &SubscriberOptions,
    tx: &mpsc::Sender<BusMsg>,
) -> Option<String> {
    loop {
        let msg = match read_frame(&mut reader, opts.max_frame) {
            Ok(Some(args)) => match parse_frame(args) {
                Ok(ev) => BusMsg::Event(ev),
                Err(e) => BusMsg::BadMessage(e.to_string()),
            },
            Ok(None) => return Some("end of stream (daemon closed the bus)".into()),
            // A framing error means we lost sync; reconnecting is the only recovery.
            Err(e @ (FrameError::BadMeta(_) | FrameError::TooLarge { .. })) => {
                return Some(e.to_string())
            }
            Err(e) => return Some(e.to_string()),
        };
        tx.send(msg).ok()?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_process_events_without_env() {
        let p = br#"{"event":"exit","manually":false,"process":{"name":"demo-worker","pm_id":1,
            "status":"stopped","restart_time":2,"exit_code":0,"SECRET":"hunter2"},"at":1795894353370}"#;
        let ev = parse_event("process:event", p).unwrap();
        let Pm2Event::Process(pe) = &ev else {
            panic!("{ev:?}")
        };
        assert_eq!(pe.kind, ProcessEventKind::Exit);
        assert_eq!(pe.name, "demo-worker");
        assert_eq!(pe.status, Some(ProcessStatus::Stopped));
        assert_eq!(pe.restarts, Some(2));
        assert!(!format!("{ev:?}").contains("hunter2"));
        assert!(!serde_json::to_string(&ev).unwrap().contains("hunter2"));
        let ev = parse_event(
            "process:event",
            br#"{"event":"restart overlimit","process":{"name":"c","status":"errored"}}"#,
        )
        .unwrap();
        assert!(matches!(
            ev,
            Pm2Event::Process(ProcessEvent {
                kind: ProcessEventKind::RestartOverlimit,
                ..
            })
        ));
    }

    #[test]
    fn parses_logs_kill_and_unknown_topics() {
        let ev = parse_event(
            "log:PM2",
            br#"{"process":{"pm_id":"PM2","name":"PM2","rev":null},"at":5,"data":"App [x:2] exited with code [0] via signal [SIGKILL]\n"}"#,
        )
        .unwrap();
        let Pm2Event::Log(l) = ev else { panic!() };
        assert_eq!(
            (l.stream, l.name.as_str(), l.pm_id),
            (LogStream::Pm2, "PM2", None)
        );
        assert!(l.data.contains("SIGKILL"));
        assert_eq!(
            parse_event("pm2:kill", br#"{"status":"killed","msg":"bye"}"#).unwrap(),
            Pm2Event::Kill { msg: "bye".into() }
        );
        assert_eq!(
            parse_event("human:event", b"{}").unwrap(),
            Pm2Event::Other {
                topic: "human:event".into()
            }
        );
        assert!(matches!(
            parse_event("process:event", b"nope"),
            Err(EventError::Payload { .. })
        ));
        assert!(matches!(
            parse_frame(vec![Arg::Json(b"{}".to_vec())]),
            Err(EventError::Shape(_))
        ));
    }

    #[test]
    fn backoff_doubles_and_caps() {
        let max = Duration::from_secs(5);
        assert_eq!(
            next_backoff(Duration::from_millis(100), max),
            Duration::from_millis(200)
        );
        assert_eq!(next_backoff(Duration::from_secs(4), max), max);
    }
}
