//! The guard's vocabulary: classes, verdicts, per-command findings and the context.

use std::fmt;

/// How risky a command line is. Ordered: `Safe < Caution < Dangerous`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Class {
    Safe,
    Caution,
    Dangerous,
}

impl Class {
    pub fn as_str(self) -> &'static str {
        match self {
            Class::Safe => "safe",
            Class::Caution => "caution",
            Class::Dangerous => "dangerous",
        }
    }

    /// Exit code of `check-command`.
    pub fn exit_code(self) -> i32 {
        match self {
            Class::Safe => 0,
            Class::Caution => 10,
            Class::Dangerous => 20,
        }
    }
}

impl fmt::Display for Class {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The guard's answer for a whole command line.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Verdict {
    pub class: Class,
    pub reason: String,
    pub safe_alternative: Option<String>,
    /// Process names/ids (or `all`) the line acts on.
    pub targets: Vec<String>,
}

impl Verdict {
    /// The one-line form printed by `check-command`.
    pub fn line(&self) -> String {
        let mut s = format!("{}: {}", self.class, self.reason);
        if let Some(alt) = &self.safe_alternative {
            s.push_str(&format!("; instead: {alt}"));
        }
        s
    }
}

/// What the inventory and the incident say about process names. The lead adapts
/// the runbook inventory into this; the guard itself knows no names.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GuardContext {
    /// Inventory names and globs (`stock-alert-*`). Empty: no inventory check.
    pub known_processes: Vec<String>,
    /// Names/globs in the current incident's scope. `None`: no scope chosen.
    pub scope: Option<Vec<String>>,
    /// PM2 as observed (daemon, saved list, what runs). `None`: no observation
    /// (`check-command`, `lint`), so no daemon-awareness (see `guard::daemon`).
    pub pm2: Option<super::daemon::Pm2Context>,
}

/// A name filter seen on a list of processes before it feeds a mutation.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct NameFilter {
    /// An explicit whitelist (`includes(p.name)`, `.name == "x"`) rather than a pattern.
    pub explicit: bool,
    /// The filter as written, for messages and the workflow-review rules.
    pub text: String,
}

/// Where a computed target list comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Feed {
    /// A PM2 process list (`pm2 jlist`, `pm2.list`, a JS loop over the list).
    PmList { filter: Option<NameFilter> },
    /// Literal words (`for n in a b`, `echo a b | xargs`).
    Literal(Vec<String>),
    /// Process ids (`pgrep node`, `cat ~/.pm2/pm2.pid`, `ps | grep node`).
    Procs(ProcSet),
    /// Something the guard cannot see into; the description says what.
    Unknown(String),
}

/// Which processes a pid list or a kill pattern reaches.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "value")]
pub enum ProcSet {
    /// The PM2 daemon itself (`pm2.pid`, `God Daemon`): every app goes with it.
    Pm2Daemon,
    /// Every Node process on the server: every app and the daemon.
    AllNode,
    /// Every process the caller may signal (`kill -1`, an unfiltered `ps`).
    Everything,
    /// Every process of one user (`pkill -u deploy`): the daemon runs as a user.
    User(String),
    /// Whatever holds a port: in cluster mode that is the PM2 daemon.
    Port(String),
    /// A pattern narrower than "node" (`node.*one-app`): one app, if it is specific enough.
    Pattern(String),
    /// Literal pids or process groups.
    Pids(Vec<String>),
}

/// One classified invocation inside a line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub class: Class,
    pub reason: String,
    pub safe_alternative: Option<String>,
    pub targets: Vec<String>,
    /// Byte offset of the invocation in the analysed source.
    pub offset: usize,
    /// The PM2 verb (`delete`, `restart`...) when this is a PM2 invocation.
    pub verb: Option<String>,
    /// The name filter on a computed target list, when there was one.
    pub filter: Option<NameFilter>,
    /// The command as written (`pm2 delete all`).
    pub command: String,
}
