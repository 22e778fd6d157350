//! Is the daemon alive? Answered by connecting to `rpc.sock`, never by running `pm2`
//! (every CLI call starts a fresh daemon, which would hide a dead one).
use super::home::Pm2Home;
use super::rpc::{RpcClient, RpcError, RpcOptions};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum DaemonState {
    /// Connected and answered `getVersion`.
    Up { version: String, pid: Option<u32> },
    /// No socket: no daemon, or a clean `pm2 kill`.
    NotRunning,
    /// Socket refused (or missing while `pm2.pid` names a dead pid): the daemon died without
    /// cleaning up. `last_pid` is what `pm2.pid` says; `last_pid_alive` whether it still runs.
    DiedUncleanly {
        last_pid: Option<u32>,
        last_pid_alive: bool,
    },
    /// The socket exists but belongs to another user.
    PermissionDenied { socket: PathBuf },
    /// Connected (or connecting) but no answer in time: hung or overloaded daemon.
    Timeout { after_ms: u64 },
    /// Anything else (garbage on the socket, unexpected I/O error).
    Error { reason: String },
}

/// The daemon's state without its details: what the journal, the assessment and the screens
/// branch on. Serialized snake_case (`up`, `not_running`, `died`, ...), the words journals and
/// `snapshot --json` have always used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DaemonKind {
    Up,
    NotRunning,
    Died,
    PermissionDenied,
    Timeout,
    Error,
}

impl DaemonKind {
    /// The word used in JSON and the journal.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Up => "up",
            Self::NotRunning => "not_running",
            Self::Died => "died",
            Self::PermissionDenied => "permission_denied",
            Self::Timeout => "timeout",
            Self::Error => "error",
        }
    }

    /// Known to be down: nothing under PM2 can be running (a dead daemon is evidence).
    pub fn is_down(self) -> bool {
        matches!(self, Self::NotRunning | Self::Died)
    }
}

impl fmt::Display for DaemonKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl DaemonState {
    pub fn kind(&self) -> DaemonKind {
        match self {
            Self::Up { .. } => DaemonKind::Up,
            Self::NotRunning => DaemonKind::NotRunning,
            Self::DiedUncleanly { .. } => DaemonKind::Died,
            Self::PermissionDenied { .. } => DaemonKind::PermissionDenied,
            Self::Timeout { .. } => DaemonKind::Timeout,
            Self::Error { .. } => DaemonKind::Error,
        }
    }
}

impl fmt::Display for DaemonState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Up { version, pid } => match pid {
                Some(p) => write!(f, "up (PM2 {version}, pid {p})"),
                None => write!(f, "up (PM2 {version})"),
            },
            Self::NotRunning => f.write_str("not running"),
            Self::DiedUncleanly {
                last_pid: Some(p),
                last_pid_alive: false,
            } => write!(f, "died uncleanly (pid {p} is dead, sockets left behind)"),
            Self::DiedUncleanly {
                last_pid: Some(p),
                last_pid_alive: true,
            } => write!(f, "not answering (socket refused, but pid {p} still runs)"),
            Self::DiedUncleanly { last_pid: None, .. } => {
                f.write_str("died uncleanly (socket refused, no pm2.pid)")
            }
            Self::PermissionDenied { socket } => {
                write!(
                    f,
                    "permission denied on {} (another user's PM2?)",
                    socket.display()
                )
            }
            Self::Timeout { after_ms } => write!(f, "no answer within {after_ms} ms"),
            Self::Error { reason } => write!(f, "error: {reason}"),
        }
    }
}

/// The pid recorded in `pm2.pid`, if the file exists and holds a number.
pub fn read_pid_file(path: &Path) -> Option<u32> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

/// Whether `pid` is a live process (zombies count as dead: they are only waiting to be reaped).
pub fn pid_alive(pid: u32) -> bool {
    let Ok(p) = libc::pid_t::try_from(pid) else {
        return false;
    };
    if p <= 0 {
        return false;
    }
    // SAFETY: kill with signal 0 only checks for existence and permission.
    let r = unsafe { libc::kill(p, 0) };
    let exists = r == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM);
    if !exists {
        return false;
    }
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // state is the field after the parenthesised command name
        Ok(stat) => !matches!(
            stat.rsplit_once(')')
                .map(|(_, rest)| rest.trim_start().chars().next()),
            Some(Some('Z' | 'X'))
        ),
        Err(_) => true,
    }
}

/// Probe with default timeouts (connect 1 s, reply 2 s).
pub fn probe_daemon(home: &Pm2Home) -> DaemonState {
    probe_daemon_with(
        home,
        RpcOptions {
            connect_timeout: Duration::from_secs(1),
            reply_timeout: Duration::from_secs(2),
            ..RpcOptions::default()
        },
    )
}

pub fn probe_daemon_with(home: &Pm2Home, opts: RpcOptions) -> DaemonState {
    let pid = read_pid_file(&home.pid_file());
    let died = |pid: Option<u32>| DaemonState::DiedUncleanly {
        last_pid: pid,
        last_pid_alive: pid.is_some_and(pid_alive),
    };
    let version = RpcClient::connect(home.rpc_socket(), opts).and_then(|mut c| c.version());
    match version {
        Ok(version) => DaemonState::Up { version, pid },
        Err(RpcError::NotFound(_)) => match pid {
            Some(p) if !pid_alive(p) => died(Some(p)),
            _ => DaemonState::NotRunning,
        },
        Err(RpcError::Refused(_)) => died(pid),
        Err(RpcError::PermissionDenied(socket)) => DaemonState::PermissionDenied { socket },
        // A connection reset or cut short while `pm2.pid` names a dead process: the daemon died
        // (a SIGKILL lands between the connect and the reply, or a listener lingers a moment
        // after its process is gone), not an unexplained error.
        Err(_) if pid.is_some_and(|p| !pid_alive(p)) => died(pid),
        Err(RpcError::ConnectTimeout(d, _)) | Err(RpcError::ReplyTimeout(d, _)) => {
            DaemonState::Timeout {
                after_ms: d.as_millis() as u64,
            }
        }
        Err(e) => DaemonState::Error {
            reason: e.to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_pid_is_alive_and_garbage_is_not() {
        assert!(pid_alive(std::process::id()));
        assert!(!pid_alive(0));
        assert!(!pid_alive(u32::MAX));
    }

    #[test]
    fn missing_socket_is_not_running_and_stale_pid_is_died() {
        let dir = tempfile::tempdir().unwrap();
        let home = Pm2Home::new(dir.path()).unwrap();
        assert_eq!(probe_daemon(&home), DaemonState::NotRunning);
        // A reaped child's pid is a known-dead pid.
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let dead = child.id();
        child.wait().unwrap();
        std::fs::write(home.pid_file(), format!("{dead}\n")).unwrap();
        assert_eq!(
            probe_daemon(&home),
            DaemonState::DiedUncleanly {
                last_pid: Some(dead),
                last_pid_alive: false
            }
        );
    }

    #[test]
    fn a_connection_cut_before_the_reply_with_a_dead_pid_is_died() {
        let dir = tempfile::tempdir().unwrap();
        let home = Pm2Home::new(dir.path()).unwrap();
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let dead = child.id();
        child.wait().unwrap();
        std::fs::write(home.pid_file(), format!("{dead}\n")).unwrap();
        // A listener that hangs up on every connection without answering.
        let l = std::os::unix::net::UnixListener::bind(home.rpc_socket()).unwrap();
        let t = std::thread::spawn(move || {
            for c in l.incoming().take(1) {
                drop(c);
            }
        });
        assert_eq!(
            probe_daemon(&home),
            DaemonState::DiedUncleanly {
                last_pid: Some(dead),
                last_pid_alive: false
            }
        );
        t.join().unwrap();
    }

    #[test]
    fn refused_socket_is_died_uncleanly() {
        let dir = tempfile::tempdir().unwrap();
        let home = Pm2Home::new(dir.path()).unwrap();
        // Bind then drop the listener: the socket file stays, connects are refused.
        drop(std::os::unix::net::UnixListener::bind(home.rpc_socket()).unwrap());
        let state = probe_daemon(&home);
        assert!(
            matches!(state, DaemonState::DiedUncleanly { last_pid: None, .. }),
            "{state:?}"
        );
    }

    #[test]
    fn silent_listener_is_a_timeout() {
        let dir = tempfile::tempdir().unwrap();
        let home = Pm2Home::new(dir.path()).unwrap();
        let _l = std::os::unix::net::UnixListener::bind(home.rpc_socket()).unwrap();
        let opts = RpcOptions {
            reply_timeout: Duration::from_millis(200),
            ..RpcOptions::default()
        };
        assert_eq!(
            probe_daemon_with(&home, opts),
            DaemonState::Timeout { after_ms: 200 }
        );
    }
}
