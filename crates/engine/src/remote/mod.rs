//! OpenSSH as the transport to a remote PM2 server: nothing is installed remotely.
//!
//! One multiplexed master per host (ControlPath in a private 0700 runtime dir, ControlPersist
//! short, BatchMode for headless use, never agent forwarding), PM2's `rpc.sock`/`pub.sock`
//! forwarded to local Unix sockets so the existing read-only client and event bus work
//! unchanged, liveness from read-only remote commands, TCP forwards for `local_url` health.
//! The ssh command can be replaced with `PM2_INCIDENT_SSH_COMMAND` (like `GIT_SSH_COMMAND`).
//! See `shared/reference/openssh-forwarding.md` for the client behaviour relied on here.
pub mod command;
pub mod evidence;
pub mod file;
pub mod fleet;
pub mod health;
pub mod nodes;
pub mod observe;
pub mod probe;
pub mod session;

pub use command::{Dest, SshCommand, SSH_COMMAND_ENV};
pub use observe::{
    gather_remote, observe_remote, observe_remote_cached, RemoteSnapshot, SavedCache,
};
pub use probe::RemoteFacts;
pub use session::{RemoteError, Session, SessionOptions};
