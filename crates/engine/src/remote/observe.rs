//! One reading of a remote PM2 through a [`Session`]: the read-only probe, then the same
//! rpc client as locally, on forwarded sockets. Produces the same [`Reading`] as a local read.
use super::probe::{self, RemoteFacts};
use super::session::{RemoteError, Session};
use crate::health::HealthChecker;
use crate::observe::Snapshot;
use crate::pm2::home::Pm2Home;
use crate::pm2::liveness::DaemonState;
use crate::pm2::rpc::{RpcClient, RpcOptions};
use crate::pm2::source::SourceKind;
use crate::pm2::Reading;
use crate::runbook::Runbook;
use std::os::unix::fs::DirBuilderExt;
use std::path::Path;
use std::time::Duration;

/// A remote reading with what the probe found and where the sockets are forwarded locally.
#[derive(Debug, Clone)]
pub struct RemoteReading {
    pub reading: Reading,
    pub facts: Option<RemoteFacts>,
    /// Local stand-in for the remote home: its `rpc.sock`/`pub.sock` are the forwards.
    pub local_home: Option<Pm2Home>,
    /// The master had gone (killed, dropped link) and this reading started a new one.
    pub reconnected: bool,
}

/// Make sure the master is up (one reconnect attempt), so a dropped link shows as an error
/// and the next reading recovers.
/// `Ok(true)` when it had to reconnect.
pub fn ensure_connected(s: &Session) -> Result<bool, RemoteError> {
    if s.is_up() {
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
    s.forward_socket(home.rpc_socket(), &facts.rpc_path())?;
    s.forward_socket(home.pub_socket(), &facts.pub_path())?;
    Ok(home)
}

/// Read the remote PM2 once. Never panics; failures land in the reading's `error`.
pub fn observe_remote(s: &Session, home: Option<&Path>, timeout_ms: u64) -> RemoteReading {
    let fail = |e: String| RemoteReading {
        reading: Reading::failed(SourceKind::Rpc, e),
        facts: None,
        local_home: None,
        reconnected: false,
    };
    let reconnected = match ensure_connected(s) {
        Ok(r) => r,
        Err(e) => return fail(format!("ssh connection to {} lost: {e}", s.dest())),
    };
    let facts = match s.run_sh(&probe::script(home)) {
        Ok(out) if out.status.success() => {
            match probe::parse(&String::from_utf8_lossy(&out.stdout)) {
                Ok(f) => f,
                Err(e) => return fail(e),
            }
        }
        Ok(out) => {
            return fail(format!(
                "the remote probe on {} failed (exit {})",
                s.dest(),
                out.status.code().unwrap_or(-1)
            ))
        }
        Err(e) => return fail(e.to_string()),
    };
    let local = match forward_home(s, &facts) {
        Ok(h) => h,
        Err(e) => {
            return RemoteReading {
                reading: Reading::failed(SourceKind::Rpc, e.to_string()),
                facts: Some(facts),
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
    RemoteReading {
        reading,
        facts: Some(facts),
        local_home: Some(local),
        reconnected,
    }
}

/// [`crate::observe::gather`] for a remote host: PM2 through the session while the health
/// round runs (local URLs through forwards, public ones from here).
pub fn gather_remote(rb: &Runbook, s: &Session, home: Option<&Path>, timeout_ms: u64) -> Snapshot {
    let targets = rb.inventory.health_targets();
    std::thread::scope(|scope| {
        let pm2 = scope.spawn(|| observe_remote(s, home, timeout_ms).reading);
        let (health, health_error) = match HealthChecker::from_inventory(&rb.inventory) {
            Ok(c) => (super::health::check_remote(s, &c, &targets), None),
            Err(e) => (vec![], Some(e.to_string())),
        };
        let pm2 = pm2.join().unwrap_or_else(|_| {
            Reading::failed(SourceKind::Rpc, "reading PM2 failed unexpectedly".into())
        });
        Snapshot {
            pm2_detail: pm2.detail(),
            pm2,
            health,
            health_error,
        }
    })
}
