//! One reading of a remote PM2 through a [`Session`]: the read-only probe, then the same
//! rpc client as locally, on forwarded sockets. Produces the same [`Reading`] as a local read,
//! with the saved list and (daemon down) the Node processes, as the local poller reads them.
use super::file::{self, Stamp};
use super::probe::{self, RemoteFacts};
use super::session::{RemoteError, Session};
use crate::health::HealthChecker;
use crate::observe::Snapshot;
use crate::pm2::home::Pm2Home;
use crate::pm2::liveness::DaemonState;
use crate::pm2::orphans::NodeProc;
use crate::pm2::rpc::{RpcClient, RpcOptions};
use crate::pm2::source::SourceKind;
use crate::pm2::{Reading, SavedRead};
use crate::runbook::Runbook;
use std::os::unix::fs::DirBuilderExt;
use std::path::Path;
use std::time::Duration;

/// A remote reading with what the probe found and where the sockets are forwarded locally.
#[derive(Debug, Clone)]
pub struct RemoteReading {
    pub reading: Reading,
    pub facts: Option<RemoteFacts>,
    /// The saved list (`dump.pm2`) as read now; `None` when the server could not be asked.
    pub saved: Option<SavedRead>,
    /// The server's Node processes (read while its daemon is not up; else empty).
    pub nodes: Vec<NodeProc>,
    /// Local stand-in for the remote home: its `rpc.sock`/`pub.sock` are the forwards.
    pub local_home: Option<Pm2Home>,
    /// The master had gone (killed, dropped link) and this reading started a new one.
    pub reconnected: bool,
}

/// The saved list last read through a session and its stamp: the probe sends `dump.pm2`
/// again only when its size or mtime changed (a poller reads every few seconds).
#[derive(Debug, Default, Clone)]
pub struct SavedCache {
    last: Option<(Stamp, SavedRead)>,
}

impl SavedCache {
    fn stamp(&self) -> Option<&Stamp> {
        self.last.as_ref().map(|(s, _)| s)
    }

    /// What the probe's read means, keeping what this cache holds when it is unchanged.
    fn update(&mut self, path: &Path, f: file::RemoteFile) -> SavedRead {
        let stamp = match &f {
            file::RemoteFile::Data { stamp, .. } => stamp.clone(),
            _ => None,
        };
        match file::saved_read(path, f) {
            Some(read) => {
                self.last = stamp.map(|s| (s, read.clone()));
                read
            }
            None => match &self.last {
                Some((_, read)) => read.clone(),
                // "Unchanged" from a stamp this cache no longer holds cannot happen; say so.
                None => SavedRead::Unreadable {
                    path: path.to_path_buf(),
                    reason: "the saved list was not sent".into(),
                },
            },
        }
    }
}

/// How long a master that just answered counts as up without asking it again.
const FRESH: Duration = Duration::from_secs(1);

/// Make sure the master is up (one reconnect attempt), so a dropped link shows as an error
/// and the next reading recovers.
/// `Ok(true)` when it had to reconnect.
pub fn ensure_connected(s: &Session) -> Result<bool, RemoteError> {
    if s.answered_within(FRESH) || s.is_up() {
        return Ok(false);
    }
    s.reconnect().map(|()| true)
}

/// Forward the remote home's sockets into `<runtime dir>/pm2/` (idempotent).
pub fn forward_home(s: &Session, facts: &RemoteFacts) -> Result<Pm2Home, RemoteError> {
    let dir = s.runtime_dir().join("pm2");
    if !dir.is_dir() {
        std::fs::DirBuilder::new()
            .mode(0o700)
            .create(&dir)
            .map_err(|e| RemoteError::RuntimeDir(dir.clone(), e))?;
    }
    let home = Pm2Home::new(&dir).map_err(|e| RemoteError::Protocol(e.to_string()))?;
    s.forward_sockets(&[
        (home.rpc_socket().to_path_buf(), facts.rpc_path()),
        (home.pub_socket().to_path_buf(), facts.pub_path()),
    ])?;
    Ok(home)
}

/// Read the remote PM2 once. Never panics; failures land in the reading's `error`.
pub fn observe_remote(s: &Session, home: Option<&Path>, timeout_ms: u64) -> RemoteReading {
    observe_remote_cached(s, home, timeout_ms, &mut SavedCache::default())
}

/// [`observe_remote`] for a poller: the saved list is sent only when it changed.
pub fn observe_remote_cached(
    s: &Session,
    home: Option<&Path>,
    timeout_ms: u64,
    cache: &mut SavedCache,
) -> RemoteReading {
    let fail = |e: String| RemoteReading {
        reading: Reading::failed(SourceKind::Rpc, e),
        facts: None,
        saved: None,
        nodes: vec![],
        local_home: None,
        reconnected: false,
    };
    let reconnected = match ensure_connected(s) {
        Ok(r) => r,
        Err(e) => return fail(format!("ssh connection to {} lost: {e}", s.dest())),
    };
    let probed = match s.run_sh(&probe::script(home, cache.stamp())) {
        Ok(out) if out.status.success() => match probe::parse_all(&out.stdout) {
            Ok(p) => p,
            Err(e) => return fail(e),
        },
        Ok(out) => {
            return fail(format!(
                "the remote probe on {} failed (exit {})",
                s.dest(),
                out.status.code().unwrap_or(-1)
            ))
        }
        Err(e) => return fail(e.to_string()),
    };
    let facts = probed.facts;
    let saved = Some(cache.update(&facts.home.join("dump.pm2"), probed.dump));
    let nodes = probed.nodes.unwrap_or_default();
    let local = match forward_home(s, &facts) {
        Ok(h) => h,
        Err(e) => {
            return RemoteReading {
                reading: Reading::failed(SourceKind::Rpc, e.to_string()),
                facts: Some(facts),
                saved,
                nodes,
                local_home: None,
                reconnected,
            }
        }
    };
    let t = Duration::from_millis(timeout_ms.max(1));
    let opts = RpcOptions {
        connect_timeout: t,
        reply_timeout: t,
        ..RpcOptions::default()
    };
    let mut client = None;
    let version = facts.rpc_socket.then(|| {
        RpcClient::connect(local.rpc_socket(), opts).and_then(|mut c| {
            let v = c.version();
            client = Some(c);
            v
        })
    });
    let daemon = probe::daemon_state(&facts, version);
    let mut reading = Reading {
        source: SourceKind::Rpc,
        daemon,
        processes: None,
        warnings: vec![],
        error: None,
    };
    if matches!(reading.daemon, DaemonState::Up { .. }) {
        match client.map_or_else(
            || RpcClient::connect(local.rpc_socket(), opts).and_then(|mut c| c.monitor_data()),
            |mut c| c.monitor_data(),
        ) {
            Ok(p) => reading.processes = Some(p),
            Err(e) => reading.error = Some(e.to_string()),
        }
    } else {
        reading.error = Some(format!("PM2 daemon {}", reading.daemon));
    }
    // As locally: the process scan matters only while no daemon is up.
    let nodes = if reading.kind() == crate::pm2::DaemonKind::Up {
        vec![]
    } else {
        nodes
    };
    RemoteReading {
        reading,
        facts: Some(facts),
        saved,
        nodes,
        local_home: Some(local),
        reconnected,
    }
}

/// A remote snapshot and the saved list read with it (`None`: the server was not reached).
#[derive(Debug, Clone)]
pub struct RemoteSnapshot {
    pub snapshot: Snapshot,
    pub saved: Option<SavedRead>,
    /// The server answered the probe (the link worked for this reading).
    pub reached: bool,
}

/// [`crate::observe::gather`] for a remote host: PM2 through the session while the health
/// round runs (local URLs through forwards, public ones from here). `checker` is shared by
/// every host of a fleet (one HTTP client, its roots parsed once).
pub fn gather_remote(
    rb: &Runbook,
    s: &Session,
    home: Option<&Path>,
    timeout_ms: u64,
    checker: Result<&HealthChecker, &str>,
    cache: &mut SavedCache,
) -> RemoteSnapshot {
    let targets = rb.inventory.health_targets();
    std::thread::scope(|scope| {
        let pm2 = scope.spawn(|| observe_remote_cached(s, home, timeout_ms, cache));
        let (health, health_error) = match checker {
            Ok(c) => (super::health::check_remote(s, c, &targets), None),
            Err(e) => (vec![], Some(e.to_string())),
        };
        let (pm2, saved, reached) = match pm2.join() {
            Ok(r) => (r.reading, r.saved, r.facts.is_some()),
            Err(_) => (
                Reading::failed(SourceKind::Rpc, "reading PM2 failed unexpectedly".into()),
                None,
                false,
            ),
        };
        RemoteSnapshot {
            snapshot: Snapshot {
                pm2_detail: pm2.detail(),
                pm2,
                health,
                health_error,
            },
            saved,
            reached,
        }
    })
}
