//! The incident event types: everything the responder saw and did, one variant per kind.
//!
//! Serialized internally tagged by `kind` (snake_case). The journal adds `seq`, `ts` and `prev`
//! around these fields, so no event may use those three names. Fields added later must carry
//! `#[serde(default)]` so journals written by earlier versions still read.
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::guard::Class;
use crate::health::Verdict;
use crate::pm2::DaemonKind;

/// Timestamps are always UTC; the journal stores them with millisecond precision.
pub type Ts = DateTime<Utc>;

/// One journal event. `Unknown` keeps a kind written by a newer version, fields intact.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Event {
    IncidentOpened(Opened),
    Pm2Observation(Observation),
    DaemonState(DaemonState),
    Pm2Event(Pm2Event),
    HealthResult(HealthResult),
    StepEntered(StepRef),
    /// A step marked done explicitly. Older versions wrote this whenever a step was paged past,
    /// so it reads as "marked completed", not as proof anything ran.
    StepCompleted(StepRef),
    /// The responder moved away from a step; what was done there comes from the events in it.
    StepLeft(StepRef),
    /// The responder skipped a step on purpose, with a reason.
    StepSkipped(StepSkipped),
    CommandStarted(CommandStarted),
    OutputLines(OutputLines),
    CommandFinished(CommandFinished),
    GuardRefused(GuardRefused),
    SeverityProposed(SeverityProposed),
    SeverityDecided(SeverityDecided),
    ChecklistTicked(ChecklistTicked),
    Note(Note),
    CommDrafted(CommDrafted),
    CommSent(CommSent),
    /// A communication posted to the configured chat webhook, or why it was not.
    CommPosted(CommPosted),
    Milestone(MilestoneReached),
    Interrupted(Interrupted),
    Resumed(Resumed),
    IncidentClosed(Closed),
    Impact(Impact),
    FiveWhys(FiveWhys),
    RootCause(RootCause),
    ContributingFactor(TextItem),
    ActionItem(ActionItem),
    LessonLearned(Lesson),
    /// PM2's traces copied into the incident directory before a new daemon could overwrite them.
    EvidencePreserved(EvidencePreserved),
    /// A kind this version does not know (written by a newer tool); kept, never dropped.
    #[serde(skip)]
    Unknown(UnknownEvent),
}

/// Every `kind` string this version understands (kept in sync by a test over all variants).
pub const KNOWN_KINDS: &[&str] = &[
    "incident_opened",
    "pm2_observation",
    "daemon_state",
    "pm2_event",
    "health_result",
    "step_entered",
    "step_completed",
    "step_left",
    "step_skipped",
    "command_started",
    "output_lines",
    "command_finished",
    "guard_refused",
    "severity_proposed",
    "severity_decided",
    "checklist_ticked",
    "note",
    "comm_drafted",
    "comm_sent",
    "comm_posted",
    "milestone",
    "interrupted",
    "resumed",
    "incident_closed",
    "impact",
    "five_whys",
    "root_cause",
    "contributing_factor",
    "action_item",
    "lesson_learned",
    "evidence_preserved",
];

/// An event with its place in the journal: sequence number and UTC time of recording.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub seq: u64,
    pub ts: Ts,
    pub event: Event,
}

/// Names the journal envelope owns; an event object must not contain them.
pub const ENVELOPE_KEYS: &[&str] = &["seq", "ts", "prev"];

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UnknownEvent {
    pub kind: String,
    /// The remaining fields exactly as read.
    pub fields: Map<String, Value>,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum EventError {
    #[error("event is not a JSON object")]
    NotObject,
    #[error("event has no string `kind`")]
    NoKind,
    #[error("event of kind `{kind}` is malformed: {reason}")]
    Malformed { kind: String, reason: String },
}

impl Event {
    /// The `kind` tag this event serializes with.
    pub fn kind(&self) -> &str {
        match self {
            Event::Unknown(u) => &u.kind,
            other => kind_of_known(other),
        }
    }

    /// Reads an event object (envelope keys already removed). Unknown kinds become `Unknown`.
    pub fn from_object(mut obj: Map<String, Value>) -> Result<Event, EventError> {
        let kind = match obj.get("kind") {
            Some(Value::String(k)) => k.clone(),
            _ => return Err(EventError::NoKind),
        };
        if !KNOWN_KINDS.contains(&kind.as_str()) {
            obj.remove("kind");
            return Ok(Event::Unknown(UnknownEvent { kind, fields: obj }));
        }
        serde_json::from_value(Value::Object(obj)).map_err(|e| EventError::Malformed {
            kind,
            reason: e.to_string(),
        })
    }

    /// The event as a JSON object with `kind` first (Unknown events re-emit their fields).
    pub fn to_object(&self) -> Map<String, Value> {
        match self {
            Event::Unknown(u) => {
                let mut m = Map::new();
                m.insert("kind".into(), Value::String(u.kind.clone()));
                for (k, v) in &u.fields {
                    m.insert(k.clone(), v.clone());
                }
                m
            }
            known => match serde_json::to_value(known) {
                Ok(Value::Object(m)) => m,
                // Every known variant is a struct; serde_json cannot fail on these types.
                _ => Map::new(),
            },
        }
    }
}

fn kind_of_known(e: &Event) -> &'static str {
    match e {
        Event::IncidentOpened(_) => "incident_opened",
        Event::Pm2Observation(_) => "pm2_observation",
        Event::DaemonState(_) => "daemon_state",
        Event::Pm2Event(_) => "pm2_event",
        Event::HealthResult(_) => "health_result",
        Event::StepEntered(_) => "step_entered",
        Event::StepCompleted(_) => "step_completed",
        Event::StepLeft(_) => "step_left",
        Event::StepSkipped(_) => "step_skipped",
        Event::CommandStarted(_) => "command_started",
        Event::OutputLines(_) => "output_lines",
        Event::CommandFinished(_) => "command_finished",
        Event::GuardRefused(_) => "guard_refused",
        Event::SeverityProposed(_) => "severity_proposed",
        Event::SeverityDecided(_) => "severity_decided",
        Event::ChecklistTicked(_) => "checklist_ticked",
        Event::Note(_) => "note",
        Event::CommDrafted(_) => "comm_drafted",
        Event::CommSent(_) => "comm_sent",
        Event::CommPosted(_) => "comm_posted",
        Event::Milestone(_) => "milestone",
        Event::Interrupted(_) => "interrupted",
        Event::Resumed(_) => "resumed",
        Event::IncidentClosed(_) => "incident_closed",
        Event::Impact(_) => "impact",
        Event::FiveWhys(_) => "five_whys",
        Event::RootCause(_) => "root_cause",
        Event::ContributingFactor(_) => "contributing_factor",
        Event::ActionItem(_) => "action_item",
        Event::LessonLearned(_) => "lesson_learned",
        Event::EvidencePreserved(_) => "evidence_preserved",
        Event::Unknown(_) => "unknown",
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    Live,
    Drill,
}

/// What the inventory covers, enough to compute per-application downtime without the file.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct InventorySummary {
    #[serde(default)]
    pub apps: Vec<AppSummary>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AppSummary {
    /// Display name, e.g. "flyer-crawler.projectium.com" or "Flyer Crawler".
    pub name: String,
    /// Environment, e.g. "production" or "test".
    pub env: String,
    /// Process names or simple `*` globs, e.g. "stock-alert-*".
    #[serde(default)]
    pub processes: Vec<String>,
    #[serde(default)]
    pub health_urls: Vec<String>,
}

impl AppSummary {
    /// Key used for availability: "name (env)".
    pub fn label(&self) -> String {
        format!("{} ({})", self.name, self.env)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Opened {
    pub incident_id: String,
    #[serde(default)]
    pub title: String,
    pub tool_version: String,
    pub runbook_id: String,
    pub runbook_hash: String,
    pub mode: Mode,
    pub host: String,
    pub user: String,
    /// Incident commander; defaults to `user` when empty.
    #[serde(default)]
    pub commander: String,
    #[serde(default)]
    pub inventory: InventorySummary,
}

/// One PM2 process, allow-listed fields only (never env vars).
#[derive(Debug, PartialEq, Serialize, Deserialize)]
pub struct ProcessRow {
    pub pm_id: u32,
    pub name: String,
    #[serde(default)]
    pub namespace: String,
    pub status: String,
    #[serde(default)]
    pub pid: Option<u32>,
    #[serde(default)]
    pub restarts: u32,
    #[serde(default)]
    pub unstable_restarts: u32,
    #[serde(default)]
    pub uptime_since_ms: Option<i64>,
    #[serde(default)]
    pub cpu: f64,
    #[serde(default)]
    pub memory: u64,
}

/// By hand for `clone_from`: the fold copies every observed process list over the last one,
/// and the same names and statuses then reuse their buffers instead of reallocating (a
/// million-event journal has ~800k rows; issue #19).
impl Clone for ProcessRow {
    fn clone(&self) -> Self {
        ProcessRow {
            pm_id: self.pm_id,
            name: self.name.clone(),
            namespace: self.namespace.clone(),
            status: self.status.clone(),
            pid: self.pid,
            restarts: self.restarts,
            unstable_restarts: self.unstable_restarts,
            uptime_since_ms: self.uptime_since_ms,
            cpu: self.cpu,
            memory: self.memory,
        }
    }

    fn clone_from(&mut self, o: &Self) {
        self.pm_id = o.pm_id;
        self.name.clone_from(&o.name);
        self.namespace.clone_from(&o.namespace);
        self.status.clone_from(&o.status);
        self.pid = o.pid;
        self.restarts = o.restarts;
        self.unstable_restarts = o.unstable_restarts;
        self.uptime_since_ms = o.uptime_since_ms;
        self.cpu = o.cpu;
        self.memory = o.memory;
    }
}

impl ProcessRow {
    pub fn is_online(&self) -> bool {
        self.status == "online"
    }
}

/// The full process list as PM2 reported it (recorded when something changed).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Observation {
    /// Where it came from: "rpc", "jlist", "import", "simulator".
    #[serde(default)]
    pub source: String,
    pub processes: Vec<ProcessRow>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DaemonState {
    pub alive: bool,
    #[serde(default)]
    pub detail: String,
    /// The daemon's state as a type. Absent in journals written before it existed: see
    /// [`DaemonState::kind`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<DaemonKind>,
}

impl DaemonState {
    pub fn new(kind: DaemonKind, detail: String) -> Self {
        DaemonState {
            alive: kind == DaemonKind::Up,
            detail,
            state: Some(kind),
        }
    }

    /// The recorded kind. Journals from before `state` was recorded only say alive or not;
    /// for them (and only them) the wording the old reader wrote tells a clean stop apart
    /// from a death.
    pub fn kind(&self) -> DaemonKind {
        match (self.state, self.alive) {
            (Some(k), _) => k,
            (None, true) => DaemonKind::Up,
            (None, false) if self.detail.contains("not running") => DaemonKind::NotRunning,
            (None, false) => DaemonKind::Died,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pm2Event {
    pub process: String,
    #[serde(default)]
    pub pm_id: Option<u32>,
    /// PM2's event name, e.g. "exit", "online", "restart", "delete".
    pub event: String,
    #[serde(default)]
    pub detail: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HealthResult {
    pub url: String,
    pub app: String,
    pub env: String,
    #[serde(default)]
    pub status_code: Option<u16>,
    /// The health module's verdict, journaled as its label ("healthy", "degraded", "502",
    /// "timeout", …) as it always was, so old journals read the same.
    #[serde(with = "crate::health::verdict::as_label")]
    pub verdict: Verdict,
    /// Whether the verdict counts as the application being up (for downtime).
    pub up: bool,
    #[serde(default)]
    pub latency_ms: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepRef {
    /// Runbook step id, e.g. "2.3".
    pub step: String,
    #[serde(default)]
    pub title: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepSkipped {
    pub step: String,
    #[serde(default)]
    pub title: String,
    pub reason: String,
    #[serde(default)]
    pub by: String,
}

/// The guard's verdict as journaled: its class (written "safe", "caution" or "dangerous") and
/// the reason in words.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GuardVerdict {
    pub class: Class,
    #[serde(default)]
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CommandStarted {
    pub cmd_id: u64,
    /// Exactly the text that runs.
    pub text: String,
    #[serde(default)]
    pub dir: Option<String>,
    pub guard: GuardVerdict,
    /// Who typed the confirmation for a caution command, if any.
    #[serde(default)]
    pub confirmed_by: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stream {
    Stdout,
    Stderr,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutputLines {
    pub cmd_id: u64,
    pub stream: Stream,
    pub lines: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CommandFinished {
    pub cmd_id: u64,
    #[serde(default)]
    pub exit_code: Option<i32>,
    #[serde(default)]
    pub signal: Option<i32>,
    pub duration_ms: u64,
    /// Output lines not journaled because the per-command bound was reached.
    #[serde(default)]
    pub output_lines_dropped: u64,
    #[serde(default)]
    pub timed_out: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GuardRefused {
    pub text: String,
    #[serde(default)]
    pub dir: Option<String>,
    pub guard: GuardVerdict,
    #[serde(default)]
    pub safe_alternative: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Severity {
    P1,
    P2,
    P3,
    /// The decision tree's "investigate further" leaf.
    #[serde(rename = "investigate")]
    Investigate,
}

impl Severity {
    /// Higher is worse; "investigate further" ranks below every classified level.
    pub fn rank(self) -> u8 {
        match self {
            Severity::P1 => 3,
            Severity::P2 => 2,
            Severity::P3 => 1,
            Severity::Investigate => 0,
        }
    }

    /// "P1", "P2", "P3" or "unclassified".
    pub fn short(self) -> &'static str {
        match self {
            Severity::P1 => "P1",
            Severity::P2 => "P2",
            Severity::P3 => "P3",
            Severity::Investigate => "unclassified",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Severity::P1 => "P1 - Critical",
            Severity::P2 => "P2 - High",
            Severity::P3 => "P3 - Medium",
            Severity::Investigate => "Unclassified (investigate further)",
        }
    }
}

/// One answered question of the runbook's decision tree.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DecisionStep {
    pub question: String,
    pub answer: bool,
    #[serde(default)]
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeverityProposed {
    pub severity: Severity,
    pub path: Vec<DecisionStep>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Override {
    pub by: String,
    pub why: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeverityDecided {
    pub severity: Severity,
    pub by: String,
    #[serde(default)]
    pub path: Vec<DecisionStep>,
    /// Present when the responder chose differently from the proposal.
    #[serde(default)]
    pub overridden: Option<Override>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChecklistTicked {
    pub item: String,
    pub checked: bool,
    #[serde(default)]
    pub by: String,
}

/// Where the evidence went and what it is: file names, sizes and SHA-256 hashes only (the
/// copies of `dump.pm2` hold every app's environment; they stay in their 0600 files).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvidencePreserved {
    pub dir: String,
    pub files: Vec<EvidenceFile>,
    /// What was looked for and not there (e.g. `dump.pm2.bak: not found`).
    #[serde(default)]
    pub missing: Vec<String>,
    /// One line on the daemon's last pid (from `/proc`).
    #[serde(default)]
    pub pid: String,
    /// The user's `node` processes still alive: pid and listening ports (no command lines).
    #[serde(default)]
    pub node_processes: Vec<NodeProcRow>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvidenceFile {
    pub name: String,
    /// Where it was copied from.
    pub source: String,
    pub bytes: u64,
    pub sha256: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeProcRow {
    pub pid: u32,
    #[serde(default)]
    pub ports: Vec<u16>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Note {
    pub author: String,
    pub text: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CommTemplate {
    /// "Incident Notification (Internal)".
    Notification,
    /// "Status Update Template".
    StatusUpdate,
    /// "Resolution Notification".
    Resolution,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CommDrafted {
    pub comm_id: u64,
    pub template: CommTemplate,
    pub subject: String,
    pub body: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CommSent {
    pub comm_id: u64,
    /// e.g. "#incidents", "email list".
    pub channel: String,
    #[serde(default)]
    pub by: String,
}

/// The webhook post's outcome and where its URL came from; the URL itself is never here.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CommPosted {
    pub comm_id: u64,
    pub outcome: PostOutcome,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Milestone {
    ImpactStarted,
    Detected,
    Acknowledged,
    Mitigated,
    Resolved,
}

impl Milestone {
    pub fn label(self) -> &'static str {
        match self {
            Milestone::ImpactStarted => "Impact started",
            Milestone::Detected => "Incident detected",
            Milestone::Acknowledged => "Acknowledged",
            Milestone::Mitigated => "Mitigated",
            Milestone::Resolved => "Resolved",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MilestoneReached {
    pub milestone: Milestone,
    /// When it actually happened, if earlier than the record (e.g. impact start from monitoring).
    #[serde(default)]
    pub at: Option<Ts>,
    #[serde(default)]
    pub source: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "cause", rename_all = "snake_case")]
pub enum InterruptCause {
    Signal { signal: i32 },
    DroppedConnection,
    Panic { message: String },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Interrupted {
    pub reason: InterruptCause,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Resumed {
    pub user: String,
    pub host: String,
    pub pid: u32,
    /// Events that were found on disk when resuming.
    #[serde(default)]
    pub after_events: u64,
    /// True when a torn last line was cut off before resuming.
    #[serde(default)]
    pub repaired_torn_tail: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CloseStatus {
    Resolved,
    /// Closed without a fix (e.g. false alarm, handed over).
    Abandoned,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Closed {
    pub status: CloseStatus,
    /// "What was done to resolve the incident".
    #[serde(default)]
    pub resolution: String,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Impact {
    #[serde(default)]
    pub users_affected: String,
    #[serde(default)]
    pub revenue: String,
    #[serde(default)]
    pub sla: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FiveWhys {
    pub problem: String,
    pub whys: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RootCause {
    pub text: String,
    #[serde(default)]
    pub preventive_measure: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TextItem {
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActionItem {
    /// A later item with the same id replaces the earlier one (status updates).
    pub id: String,
    pub action: String,
    pub owner: String,
    #[serde(default)]
    pub due: String,
    /// e.g. "open", "done".
    pub status: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LessonKind {
    WentWell,
    CouldImprove,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Lesson {
    /// Not `kind`: that name is the event tag.
    pub lesson: LessonKind,
    pub text: String,
}

/// What became of one post (journaled as is: no URL in it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum PostOutcome {
    /// The webhook answered 2xx.
    Posted { http_status: u16 },
    /// It answered, but not 2xx (the message is not in the channel).
    Rejected { http_status: u16 },
    /// No answer within the timeout: whether it was posted cannot be told.
    Timeout { after_ms: u64 },
    /// Could not connect or send (DNS, TLS, refused, ...).
    Failed { reason: String },
    /// No URL configured, or its file is wrong.
    NotConfigured { reason: String },
}

impl PostOutcome {
    pub fn posted(&self) -> bool {
        matches!(self, PostOutcome::Posted { .. })
    }

    /// One line for the status bar.
    pub fn describe(&self) -> String {
        match self {
            PostOutcome::Posted { http_status } => format!("posted to the webhook ({http_status})"),
            PostOutcome::Rejected { http_status } => format!(
                "webhook refused the message (HTTP {http_status}); the draft is kept"
            ),
            PostOutcome::Timeout { after_ms } => format!(
                "webhook did not answer in {} s: it may or may not have been posted; the draft is kept",
                after_ms / 1000
            ),
            PostOutcome::Failed { reason } => {
                format!("webhook post failed: {reason}; the draft is kept")
            }
            PostOutcome::NotConfigured { reason } => reason.clone(),
        }
    }
}
