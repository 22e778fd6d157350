//! A blocking client for PM2's `rpc.sock` that can only send read-only calls.
//!
//! The set of calls is a closed enum and every request is built from a constant template with
//! `"args":[{}]`: sending any other arity to `getMonitorData` crashes the daemon, which then
//! restarts every app. Replies can arrive out of order, so they are matched by message id.
use super::amp::{encode_frame, read_frame, Arg, FrameError, DEFAULT_MAX_FRAME};
use super::model::{convert_all, ParseError, Process, RawProc};
use serde::Deserialize;
use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The only methods this crate ever sends to PM2.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReadCall {
    Ping,
    GetVersion,
    GetMonitorData,
    /// The same read-only `getMonitorData`, decoded into how each process was
    /// launched (for `init`; see [`super::launch`]).
    GetLaunches,
}

impl ReadCall {
    pub const ALL: [ReadCall; 4] = [
        ReadCall::Ping,
        ReadCall::GetVersion,
        ReadCall::GetMonitorData,
        ReadCall::GetLaunches,
    ];

    pub fn method(self) -> &'static str {
        match self {
            ReadCall::Ping => "ping",
            ReadCall::GetVersion => "getVersion",
            ReadCall::GetMonitorData | ReadCall::GetLaunches => "getMonitorData",
        }
    }

    /// The first AMP argument: always exactly `"args":[{}]`.
    pub fn payload(self) -> String {
        format!(
            r#"j:{{"type":"call","method":"{}","args":[{{}}]}}"#,
            self.method()
        )
    }
}

/// The complete request frame for `call` with message id `id`.
pub fn encode_request(call: ReadCall, id: &str) -> Vec<u8> {
    let id = format!("s:{id}");
    // Two small arguments always encode; the error arm is unreachable by construction.
    encode_frame(&[call.payload().as_bytes(), id.as_bytes()]).unwrap_or_default()
}

/// A typed reply. Raw replies are never handed out: they carry every app's environment.
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    Pong,
    Version(String),
    Processes(Vec<Process>),
    Launches(Vec<super::dump::SavedProcess>),
}

#[derive(Debug, thiserror::Error)]
pub enum RpcError {
    #[error("no PM2 daemon socket at {0}")]
    NotFound(PathBuf),
    #[error("connection refused on {0} (socket left behind by a dead daemon?)")]
    Refused(PathBuf),
    #[error("permission denied on {0} (socket of another user?)")]
    PermissionDenied(PathBuf),
    #[error("timed out after {0:?} connecting to {1}")]
    ConnectTimeout(Duration, PathBuf),
    #[error("timed out after {0:?} waiting for the reply to {1}")]
    ReplyTimeout(Duration, &'static str),
    #[error("the daemon closed the connection before replying to {0}")]
    Closed(&'static str),
    #[error("cannot connect to {0}: {1}")]
    Connect(PathBuf, io::Error),
    #[error("I/O error talking to PM2: {0}")]
    Io(#[from] io::Error),
    #[error(transparent)]
    Frame(FrameError),
    #[error("malformed reply to {method}: {what}")]
    Protocol { method: &'static str, what: String },
    #[error("PM2 answered {method} with an error: {message}")]
    Remote {
        method: &'static str,
        message: String,
    },
    #[error("reply to {method}: {source}")]
    Parse {
        method: &'static str,
        source: ParseError,
    },
    #[error("this connection is unusable after an earlier error; reconnect")]
    Poisoned,
}

/// Timeouts and limits for a client.
#[derive(Debug, Clone, Copy)]
pub struct RpcOptions {
    pub connect_timeout: Duration,
    pub reply_timeout: Duration,
    pub max_frame: usize,
}

impl Default for RpcOptions {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(2),
            reply_timeout: Duration::from_secs(5),
            max_frame: DEFAULT_MAX_FRAME,
        }
    }
}

/// Connect with a deadline, without a helper thread: a non-blocking connect either
/// succeeds or fails at once, or (full listen backlog: a wedged daemon) says "try
/// again", which is retried until the deadline.
pub(crate) fn connect_unix(path: &Path, timeout: Duration) -> Result<UnixStream, RpcError> {
    let deadline = Instant::now() + timeout;
    loop {
        match connect_nonblocking(path) {
            Ok(s) => {
                s.set_nonblocking(false)
                    .map_err(|e| RpcError::Connect(path.into(), e))?;
                return Ok(s);
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                if Instant::now() >= deadline {
                    return Err(RpcError::ConnectTimeout(timeout, path.into()));
                }
                std::thread::sleep(Duration::from_millis(5));
            }
            Err(e) => {
                return Err(match e.kind() {
                    io::ErrorKind::NotFound => RpcError::NotFound(path.into()),
                    io::ErrorKind::ConnectionRefused => RpcError::Refused(path.into()),
                    io::ErrorKind::PermissionDenied => RpcError::PermissionDenied(path.into()),
                    _ => RpcError::Connect(path.into(), e),
                })
            }
        }
    }
}

/// One non-blocking `connect(2)` on a new AF_UNIX stream socket.
fn connect_nonblocking(path: &Path) -> io::Result<UnixStream> {
    use std::os::unix::ffi::OsStrExt;
    use std::os::unix::io::FromRawFd;
    let bytes = path.as_os_str().as_bytes();
    // SAFETY: plain socket(2)/connect(2)/close(2) on a descriptor we own; sockaddr_un
    // is zeroed and the path is copied only when it fits (with its NUL).
    unsafe {
        let mut addr: libc::sockaddr_un = std::mem::zeroed();
        if bytes.len() >= addr.sun_path.len() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "socket path too long",
            ));
        }
        addr.sun_family = libc::AF_UNIX as libc::sa_family_t;
        for (d, s) in addr.sun_path.iter_mut().zip(bytes) {
            *d = *s as libc::c_char;
        }
        let fd = libc::socket(
            libc::AF_UNIX,
            libc::SOCK_STREAM | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
            0,
        );
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        let len = (std::mem::size_of::<libc::sa_family_t>() + bytes.len() + 1) as libc::socklen_t;
        if libc::connect(
            fd,
            &addr as *const libc::sockaddr_un as *const libc::sockaddr,
            len,
        ) != 0
        {
            let e = io::Error::last_os_error();
            libc::close(fd);
            return Err(e);
        }
        Ok(UnixStream::from_raw_fd(fd))
    }
}

/// Reads with an overall deadline instead of a per-read timeout, so a slow drip can't stall us.
struct DeadlineReader<'a> {
    stream: &'a UnixStream,
    deadline: Instant,
}

impl Read for DeadlineReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = self.deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(io::ErrorKind::TimedOut.into());
        }
        self.stream.set_read_timeout(Some(left))?;
        (&mut &*self.stream).read(buf)
    }
}

pub struct RpcClient {
    stream: UnixStream,
    opts: RpcOptions,
    identity: u32,
    counter: u64,
    poisoned: bool,
}

#[derive(Deserialize)]
struct Envelope<T> {
    #[serde(default = "none")]
    args: Option<(T,)>,
    #[serde(default)]
    error: Option<serde_json::Value>,
}

fn none<T>() -> Option<T> {
    None
}

#[derive(Deserialize)]
struct Pong {
    msg: String,
}

fn describe_remote(v: &serde_json::Value) -> String {
    // Error objects carry a message and a stack; keep the message, bounded.
    let s = match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Object(o) => o
            .get("message")
            .and_then(|m| m.as_str())
            .map(str::to_string)
            .unwrap_or_else(|| "(non-string error object)".into()),
        _ => "(non-string error value)".into(),
    };
    s.chars().take(300).collect()
}

impl RpcClient {
    pub fn connect(path: &Path, opts: RpcOptions) -> Result<Self, RpcError> {
        let stream = connect_unix(path, opts.connect_timeout)?;
        stream.set_write_timeout(Some(opts.reply_timeout))?;
        Ok(Self {
            stream,
            opts,
            identity: std::process::id(),
            counter: 0,
            poisoned: false,
        })
    }

    fn next_id(&mut self) -> String {
        let id = format!("{}:{}", self.identity, self.counter);
        self.counter += 1;
        id
    }

    /// One call, one typed reply.
    pub fn call(&mut self, call: ReadCall) -> Result<Reply, RpcError> {
        self.call_many(&[call])?
            .pop()
            .ok_or(RpcError::Closed(call.method()))?
    }

    /// Pipeline several calls on this connection; replies are matched by id, whatever order
    /// they arrive in. The outer error is a transport failure; inner ones are per call.
    pub fn call_many(
        &mut self,
        calls: &[ReadCall],
    ) -> Result<Vec<Result<Reply, RpcError>>, RpcError> {
        if self.poisoned {
            return Err(RpcError::Poisoned);
        }
        let r = self.exchange(calls);
        if r.is_err() {
            // A timeout mid-frame leaves the stream misaligned; never reuse it.
            self.poisoned = true;
        }
        r
    }

    fn exchange(&mut self, calls: &[ReadCall]) -> Result<Vec<Result<Reply, RpcError>>, RpcError> {
        let mut pending: HashMap<String, usize> = HashMap::new();
        let mut out = Vec::new();
        for (i, c) in calls.iter().enumerate() {
            let id = self.next_id();
            out.extend_from_slice(&encode_request(*c, &id));
            pending.insert(id, i);
        }
        self.stream.write_all(&out).map_err(|e| match e.kind() {
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => {
                RpcError::ReplyTimeout(self.opts.reply_timeout, calls[0].method())
            }
            _ => RpcError::Io(e),
        })?;
        let mut results: Vec<Option<Result<Reply, RpcError>>> =
            calls.iter().map(|_| None).collect();
        let deadline = Instant::now() + self.opts.reply_timeout;
        let mut reader = DeadlineReader {
            stream: &self.stream,
            deadline,
        };
        while !pending.is_empty() {
            let waiting = calls[*pending.values().min().unwrap_or(&0)].method();
            let frame = match read_frame(&mut reader, self.opts.max_frame) {
                Ok(Some(f)) => f,
                Ok(None) => return Err(RpcError::Closed(waiting)),
                Err(FrameError::Timeout) => {
                    return Err(RpcError::ReplyTimeout(self.opts.reply_timeout, waiting))
                }
                Err(e) => return Err(RpcError::Frame(e)),
            };
            let mut it = frame.into_iter();
            let (body, id) = match (it.next(), it.next(), it.next()) {
                (Some(Arg::Json(b)), Some(Arg::Str(id)), None) => (b, id),
                (a, b, c) => {
                    return Err(RpcError::Protocol {
                        method: waiting,
                        what: format!(
                            "expected [JSON, string id], got [{}, {}{}]",
                            a.as_ref().map_or("nothing", Arg::kind),
                            b.as_ref().map_or("nothing", Arg::kind),
                            if c.is_some() { ", ..." } else { "" }
                        ),
                    })
                }
            };
            // Replies to ids we never sent (or already answered) are ignored.
            let Some(i) = pending.remove(&id) else {
                continue;
            };
            results[i] = Some(decode_reply(calls[i], &body));
        }
        Ok(results.into_iter().flatten().collect())
    }

    pub fn ping(&mut self) -> Result<(), RpcError> {
        self.call(ReadCall::Ping).map(|_| ())
    }

    pub fn version(&mut self) -> Result<String, RpcError> {
        match self.call(ReadCall::GetVersion)? {
            Reply::Version(v) => Ok(v),
            _ => Err(RpcError::Closed("getVersion")),
        }
    }

    /// How each listed process was launched (names, cwd, port…; no other env).
    pub fn launches(&mut self) -> Result<Vec<super::dump::SavedProcess>, RpcError> {
        match self.call(ReadCall::GetLaunches)? {
            Reply::Launches(l) => Ok(l),
            _ => Err(RpcError::Closed("getMonitorData")),
        }
    }

    pub fn monitor_data(&mut self) -> Result<Vec<Process>, RpcError> {
        match self.call(ReadCall::GetMonitorData)? {
            Reply::Processes(p) => Ok(p),
            _ => Err(RpcError::Closed("getMonitorData")),
        }
    }
}

fn envelope<'a, T: Deserialize<'a>>(method: &'static str, body: &'a [u8]) -> Result<T, RpcError> {
    let env: Envelope<T> = serde_json::from_slice(body).map_err(|e| RpcError::Parse {
        method,
        source: ParseError::from_serde(&e),
    })?;
    if let Some(err) = env.error {
        return Err(RpcError::Remote {
            method,
            message: describe_remote(&err),
        });
    }
    env.args.map(|(t,)| t).ok_or(RpcError::Protocol {
        method,
        what: "reply has neither args nor error".into(),
    })
}

/// Decode the JSON body of a reply to `call` (pure).
pub fn decode_reply(call: ReadCall, body: &[u8]) -> Result<Reply, RpcError> {
    let method = call.method();
    match call {
        ReadCall::Ping => {
            let p: Pong = envelope(method, body)?;
            if p.msg == "pong" {
                Ok(Reply::Pong)
            } else {
                Err(RpcError::Protocol {
                    method,
                    what: "ping reply is not pong".into(),
                })
            }
        }
        ReadCall::GetVersion => envelope::<String>(method, body).map(Reply::Version),
        ReadCall::GetMonitorData => {
            let raw: Vec<RawProc> = envelope(method, body)?;
            convert_all(raw)
                .map(Reply::Processes)
                .map_err(|source| RpcError::Parse { method, source })
        }
        ReadCall::GetLaunches => {
            // The saved-list allow-list reads the array inside the envelope itself.
            let list: super::dump::ProcessList = envelope(method, body)?;
            Ok(Reply::Launches(list.entries))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ping_request_matches_documented_bytes() {
        let mut expected = vec![0x12, 0, 0, 0, 0x2d];
        expected.extend_from_slice(br#"j:{"type":"call","method":"ping","args":[{}]}"#);
        expected.extend_from_slice(&[0, 0, 0, 8]);
        expected.extend_from_slice(b"s:4242:0");
        assert_eq!(encode_request(ReadCall::Ping, "4242:0"), expected);
        assert_eq!(expected.len(), 62);
    }

    #[test]
    fn decodes_replies_and_errors() {
        assert_eq!(
            decode_reply(ReadCall::Ping, br#"{"args":[{"msg":"pong"}]}"#).unwrap(),
            Reply::Pong
        );
        assert_eq!(
            decode_reply(ReadCall::GetVersion, br#"{"args":["7.0.4"]}"#).unwrap(),
            Reply::Version("7.0.4".into())
        );
        let e = decode_reply(
            ReadCall::GetVersion,
            br#"{"error":"method \"x\" does not exist","stack":"at ..."}"#,
        )
        .unwrap_err();
        assert!(e.to_string().contains("does not exist"), "{e}");
        let e = decode_reply(ReadCall::GetMonitorData, b"not json").unwrap_err();
        assert!(matches!(e, RpcError::Parse { .. }), "{e}");
        let e = decode_reply(ReadCall::GetMonitorData, br#"{"args":[{"x":1}]}"#).unwrap_err();
        assert!(matches!(e, RpcError::Parse { .. }), "{e}");
        let e = decode_reply(ReadCall::Ping, b"{}").unwrap_err();
        assert!(matches!(e, RpcError::Protocol { .. }), "{e}");
    }
}
