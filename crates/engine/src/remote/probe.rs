//! Read-only facts about the remote PM2 home from one remote `sh` script: where the home is
//! (given, or `$PM2_HOME`, else `$HOME/.pm2` of the login), whether the sockets exist, what
//! `pm2.pid` says and whether that pid runs, the login's directory, the saved list
//! (`dump.pm2`, see [`super::file`]) and, while no daemon runs, the Node processes still alive
//! (see [`super::nodes`]). One remote shell per reading; it reads files and `/proc` only:
//! it starts nothing.
use super::file::{self, RemoteFile, Stamp};
use crate::pm2::liveness::DaemonState;
use crate::pm2::orphans::NodeProc;
use crate::pm2::rpc::RpcError;
use crate::runbook::vars::shell_quote;
use std::path::{Path, PathBuf};

const HEADER: &str = "p2i-probe v2";

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RemoteFacts {
    pub home: PathBuf,
    pub rpc_socket: bool,
    /// Connecting to a Unix socket needs write permission on it.
    pub rpc_writable: bool,
    pub pub_socket: bool,
    pub pid: Option<u32>,
    pub pid_alive: bool,
    /// Where a login starts (`pwd`): where commands run that name no directory.
    pub login_dir: Option<PathBuf>,
}

impl RemoteFacts {
    pub fn rpc_path(&self) -> PathBuf {
        self.home.join("rpc.sock")
    }
    pub fn pub_path(&self) -> PathBuf {
        self.home.join("pub.sock")
    }
}

/// Everything one probe read.
#[derive(Debug, Clone, PartialEq)]
pub struct Probed {
    pub facts: RemoteFacts,
    /// `$home/dump.pm2` (bytes only inside; see [`file::saved_read`]).
    pub dump: RemoteFile,
    /// Node processes, read only while the daemon is not both there and alive.
    pub nodes: Option<Vec<NodeProc>>,
}

/// The probe script; `home` is used as given (quoted), else discovered remotely. `known`:
/// the saved list's stamp already read (it is then not sent again while unchanged).
pub fn script(home: Option<&Path>, known: Option<&Stamp>) -> String {
    let h = match home {
        Some(p) => shell_quote(&p.to_string_lossy()),
        None => "\"${PM2_HOME:-$HOME/.pm2}\"".to_string(),
    };
    let nodes = super::nodes::FRAGMENT;
    let dump = file::fragment("\"$h/dump.pm2\"", known, file::REMOTE_CAP);
    format!(
        r#"h={h}
s=0; [ -S "$h/rpc.sock" ] && s=1
w=0; [ -w "$h/rpc.sock" ] && w=1
b=0; [ -S "$h/pub.sock" ] && b=1
p=$(head -c 32 "$h/pm2.pid" 2>/dev/null | tr -cd 0-9)
a=0
if [ -n "$p" ] && [ -d "/proc/$p" ]; then
  a=1
  st=$(sed 's/.*) //' "/proc/$p/stat" 2>/dev/null | cut -c1)
  case "$st" in Z|X) a=0;; esac
elif [ -n "$p" ] && kill -0 "$p" 2>/dev/null; then a=1; fi
printf '{HEADER}\nhome=%s\nrpc=%s\nwritable=%s\npub=%s\npid=%s\nalive=%s\nlogin=%s\n' "$h" "$s" "$w" "$b" "$p" "$a" "$(pwd)"
if [ "$s" = 0 ] || [ "$a" = 0 ]; then
echo nodes=1
{nodes}fi
{dump}"#
    )
}

/// Parse the probe's stdout: facts, saved list, Node processes.
pub fn parse_all(out: &[u8]) -> Result<Probed, String> {
    let (text, data) = file::split(out);
    let text = String::from_utf8_lossy(text);
    let facts = parse(&text)?;
    let lines: Vec<&str> = text.lines().collect();
    // A garbled saved-list section does not blind the PM2 reading: it says why instead.
    let dump = file::parse(&lines, data, file::REMOTE_CAP).unwrap_or_else(RemoteFile::Failed);
    let nodes = lines
        .contains(&"nodes=1")
        .then(|| super::nodes::parse(&lines));
    Ok(Probed { facts, dump, nodes })
}

/// Parse the probe's facts (anything a login script printed before the header is skipped).
pub fn parse(out: &str) -> Result<RemoteFacts, String> {
    let mut lines = out.lines().skip_while(|l| l.trim_end() != HEADER);
    if lines.next().is_none() {
        return Err(
            "the remote probe printed no answer (is the login shell POSIX sh compatible?)".into(),
        );
    }
    let mut f = RemoteFacts {
        home: PathBuf::new(),
        rpc_socket: false,
        rpc_writable: false,
        pub_socket: false,
        pid: None,
        pid_alive: false,
        login_dir: None,
    };
    let flag = |v: &str, k: &str| match v {
        "1" => Ok(true),
        "0" => Ok(false),
        _ => Err(format!("remote probe: {k} is not 0 or 1")),
    };
    for l in lines {
        let Some((k, v)) = l.split_once('=') else {
            continue;
        };
        match k {
            "home" => f.home = PathBuf::from(v),
            "rpc" => f.rpc_socket = flag(v, k)?,
            "writable" => f.rpc_writable = flag(v, k)?,
            "pub" => f.pub_socket = flag(v, k)?,
            "pid" if v.is_empty() => f.pid = None,
            "pid" => f.pid = Some(v.parse().map_err(|_| "remote probe: pid is not a number")?),
            "alive" => f.pid_alive = flag(v, k)?,
            "login" if v.starts_with('/') => f.login_dir = Some(PathBuf::from(v)),
            _ => {}
        }
    }
    if !f.home.is_absolute() {
        return Err(format!(
            "the remote PM2_HOME {} is not an absolute path",
            crate::sanitize::escape_line(&f.home.to_string_lossy())
        ));
    }
    Ok(f)
}

/// The daemon's state from the remote facts and, when the socket exists, the answer to
/// `getVersion` through the forward (None when it was not asked). Pure.
///
/// Through a forward a refused socket looks like a connection closed at once, exactly as a
/// server that forbids socket forwarding does; only the pid file separates the two.
pub fn daemon_state(f: &RemoteFacts, version: Option<Result<String, RpcError>>) -> DaemonState {
    let died = DaemonState::DiedUncleanly {
        last_pid: f.pid,
        last_pid_alive: f.pid_alive,
    };
    if !f.rpc_socket {
        return match f.pid {
            Some(_) if !f.pid_alive => died,
            _ => DaemonState::NotRunning,
        };
    }
    if !f.rpc_writable {
        return DaemonState::PermissionDenied {
            socket: f.rpc_path(),
        };
    }
    match version {
        None => DaemonState::Error {
            reason: "rpc.sock exists but was not asked".into(),
        },
        Some(Ok(version)) => DaemonState::Up {
            version,
            pid: f.pid,
        },
        Some(Err(RpcError::ConnectTimeout(d, _))) | Some(Err(RpcError::ReplyTimeout(d, _))) => {
            DaemonState::Timeout {
                after_ms: d.as_millis() as u64,
            }
        }
        Some(Err(e)) if ended_at_once(&e) && !f.pid_alive => died,
        Some(Err(e)) if ended_at_once(&e) => DaemonState::Error {
            reason: format!(
                "rpc.sock exists and pid {} runs, but connections through ssh close at once: \
                 the daemon refuses them or the server forbids socket forwarding \
                 (AllowStreamLocalForwarding); cannot tell which",
                f.pid.map_or("-".into(), |p| p.to_string())
            ),
        },
        Some(Err(e)) => DaemonState::Error {
            reason: e.to_string(),
        },
    }
}

/// How a forwarded connection whose far end could not connect ends: closed, reset, or cut
/// mid-frame (which of these the client sees depends on timing).
fn ended_at_once(e: &RpcError) -> bool {
    use crate::pm2::amp::FrameError;
    matches!(
        e,
        RpcError::Closed(_)
            | RpcError::Io(_)
            | RpcError::Frame(FrameError::Io(_) | FrameError::Truncated { .. })
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn facts(rpc: bool, pid: Option<u32>, alive: bool) -> RemoteFacts {
        RemoteFacts {
            home: "/h/.pm2".into(),
            rpc_socket: rpc,
            rpc_writable: rpc,
            pub_socket: rpc,
            pid,
            pid_alive: alive,
            login_dir: None,
        }
    }

    #[test]
    fn parses_after_login_noise_and_refuses_garbage() {
        let f = parse(
            "Welcome!\np2i-probe v2\nhome=/srv/pm2\nrpc=1\nwritable=1\npub=1\npid=77\nalive=1\n",
        )
        .unwrap();
        assert_eq!(f.home, PathBuf::from("/srv/pm2"));
        assert_eq!((f.rpc_socket, f.pid, f.pid_alive), (true, Some(77), true));
        let f = parse("p2i-probe v2\nhome=/h\nrpc=0\nwritable=0\npub=0\npid=\nalive=0\n").unwrap();
        assert_eq!(f.pid, None);
        assert!(parse("nothing here").is_err());
        assert!(parse("p2i-probe v2\nhome=relative\n")
            .unwrap_err()
            .contains("absolute"));
        assert!(parse("p2i-probe v2\nhome=/h\nrpc=yes\n").is_err());
    }

    fn probe_here(home: Option<&Path>, known: Option<&Stamp>, env: &[(&str, &Path)]) -> Probed {
        let out = std::process::Command::new("sh")
            .args(["-c", &script(home, known)])
            .envs(env.iter().copied())
            .current_dir("/")
            .output()
            .unwrap();
        parse_all(&out.stdout).unwrap()
    }

    #[test]
    fn the_script_runs_under_sh_and_reads_a_real_home() {
        let dir = tempfile::tempdir().unwrap();
        let p = probe_here(Some(dir.path()), None, &[]);
        assert_eq!((p.facts.rpc_socket, p.facts.pid), (false, None));
        assert_eq!(p.facts.login_dir.as_deref(), Some(Path::new("/")));
        assert_eq!(p.dump, RemoteFile::Missing);
        // No daemon: the Node processes were looked at.
        assert!(p.nodes.is_some());
        let _l = std::os::unix::net::UnixListener::bind(dir.path().join("rpc.sock")).unwrap();
        std::fs::write(
            dir.path().join("pm2.pid"),
            format!("{}\n", std::process::id()),
        )
        .unwrap();
        std::fs::write(dir.path().join("dump.pm2"), b"[{\"name\":\"api\"}]").unwrap();
        let p = probe_here(Some(dir.path()), None, &[]);
        let f = &p.facts;
        assert_eq!(f.home, dir.path());
        assert!(f.rpc_socket && f.rpc_writable && !f.pub_socket);
        assert_eq!((f.pid, f.pid_alive), (Some(std::process::id()), true));
        assert_eq!(p.nodes, None, "a live daemon: no process scan");
        let RemoteFile::Data { bytes, stamp } = p.dump else {
            panic!("{:?}", p.dump)
        };
        assert_eq!(bytes, b"[{\"name\":\"api\"}]");
        let again = probe_here(Some(dir.path()), stamp.as_ref(), &[]);
        assert_eq!(again.dump, RemoteFile::Unchanged);
        // Discovery: $PM2_HOME of the remote shell.
        let p = probe_here(None, None, &[("PM2_HOME", dir.path())]);
        assert_eq!(p.facts.home, dir.path());
    }

    #[test]
    fn any_cut_of_an_answer_parses_or_fails_without_panicking() {
        let full = b"Welcome\np2i-probe v2\nhome=/srv/pm2\nrpc=1\nwritable=1\npub=1\npid=77\n\
alive=0\nlogin=/root\nnodes=1\nnode=13\tnode\t/srv/app\t77 78\tnode s.js\nfile=data\n\
stat=20 1700000000\np2i-file-data\n[{\"name\":\"api\"}]\xff";
        for i in 0..=full.len() {
            if let Ok(p) = parse_all(&full[..i]) {
                assert!(p.facts.home.is_absolute());
            }
        }
        // Cut before the saved list's bytes: the facts still read.
        let cut = full.windows(6).position(|w| w == b"stat=2").unwrap();
        let p = parse_all(&full[..cut]).unwrap();
        assert!(matches!(p.dump, RemoteFile::Failed(_)), "{:?}", p.dump);
        let p = parse_all(full).unwrap();
        assert_eq!(p.nodes.as_ref().map(Vec::len), Some(1));
        assert!(matches!(p.dump, RemoteFile::Data { .. }));
    }

    #[test]
    fn states_follow_the_local_rules() {
        assert_eq!(
            daemon_state(&facts(false, None, false), None),
            DaemonState::NotRunning
        );
        assert_eq!(
            daemon_state(&facts(false, Some(9), false), None),
            DaemonState::DiedUncleanly {
                last_pid: Some(9),
                last_pid_alive: false
            }
        );
        assert_eq!(
            daemon_state(&facts(true, Some(9), true), Some(Ok("7.0.4".into()))),
            DaemonState::Up {
                version: "7.0.4".into(),
                pid: Some(9)
            }
        );
        assert!(matches!(
            daemon_state(
                &facts(true, Some(9), false),
                Some(Err(RpcError::Closed("getVersion")))
            ),
            DaemonState::DiedUncleanly {
                last_pid: Some(9),
                last_pid_alive: false
            }
        ));
        match daemon_state(
            &facts(true, Some(9), true),
            Some(Err(RpcError::Closed("getVersion"))),
        ) {
            DaemonState::Error { reason } => assert!(reason.contains("cannot tell"), "{reason}"),
            s => panic!("{s:?}"),
        }
        // A reset through the forward (the remote socket refused) reads the same.
        let reset = RpcError::Frame(crate::pm2::amp::FrameError::Io(std::io::Error::from(
            std::io::ErrorKind::ConnectionReset,
        )));
        assert!(matches!(
            daemon_state(&facts(true, Some(9), false), Some(Err(reset))),
            DaemonState::DiedUncleanly { .. }
        ));
        let timeout = RpcError::ReplyTimeout(Duration::from_millis(300), "getVersion");
        assert_eq!(
            daemon_state(&facts(true, None, false), Some(Err(timeout))),
            DaemonState::Timeout { after_ms: 300 }
        );
        let mut f = facts(true, Some(1), true);
        f.rpc_writable = false;
        assert!(matches!(
            daemon_state(&f, None),
            DaemonState::PermissionDenied { .. }
        ));
    }
}
