//! Messages into the app and effects out of it.
use crate::health::HealthResult;
use crate::incident::event::Stream;
use crate::pm2::Reading;
use ratatui::crossterm::event::KeyEvent;

#[derive(Debug, Clone)]
pub enum Msg {
    Key(KeyEvent),
    /// The terminal changed size (the next draw adapts).
    Resize,
    /// The clock moved (redraw the header's timers).
    Tick,
    /// One reading of PM2 (live poller, drill simulator): the engine's own type.
    Pm2(Reading),
    /// The saved list (`dump.pm2`) as read now (read-only, allow-listed).
    Saved(crate::pm2::SavedRead),
    /// The user's live `node` processes (read when PM2's daemon is not up).
    NodeProcesses(Vec<crate::pm2::orphans::NodeProc>),
    /// Evidence preserved (or why not).
    Evidence(Result<crate::incident::event::EvidencePreserved, String>),
    /// One line from the PM2 event bus, already summarised (no environment).
    Pm2Bus {
        process: String,
        event: String,
        detail: String,
    },
    Health(Vec<HealthResult>),
    /// `respond --host`: the ssh link to the server went down (why) or is up again.
    Link {
        up: bool,
        detail: String,
    },
    /// The deployments running on this server, as read from /proc now (live only).
    Deploys(Vec<crate::deploy::RunningDeploy>),
    /// The deployment freeze file as read now.
    Freeze(crate::deploy::freeze::FreezeState),
    /// Gitea's view of the inventory's repositories (or why it cannot be asked).
    Gitea(crate::deploy::GiteaView),
    Output {
        cmd_id: u64,
        stream: Stream,
        line: String,
    },
    Finished {
        cmd_id: u64,
        exit_code: Option<i32>,
        signal: Option<i32>,
        duration_ms: u64,
        timed_out: bool,
    },
    /// The command could not start at all (missing directory, ...).
    SpawnFailed {
        cmd_id: u64,
        error: String,
    },
    /// Replay --follow: entries appended to the journal being watched.
    Appended(Vec<crate::incident::event::Entry>),
    /// Replay: the background indexer's progress (chunks of index, done, failed).
    Indexed(crate::journal::index::Progress),
    /// The journal could not write: the UI says so and keeps working (empty: writing again).
    JournalError(String),
    /// The session is ending without the responder asking (signal, dropped terminal, a panic):
    /// journaled, then the app quits.
    Interrupted(crate::incident::event::InterruptCause),
    /// A file the app asked to write (`Effect::WriteFile`) could not be written.
    WriteFailed {
        path: String,
        error: String,
    },
    /// What became of a communication posted to the webhook.
    WebhookPosted {
        comm_id: u64,
        outcome: crate::comms::webhook::PostOutcome,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Run exactly this text with `sh -c` in `dir` (already through the guard).
    Run {
        cmd_id: u64,
        text: String,
        dir: String,
    },
    Cancel {
        cmd_id: u64,
    },
    /// Poll PM2 and health now rather than at the next interval.
    RefreshNow,
    /// Write this escape sequence to the terminal (OSC 52: copy to the responder's clipboard).
    Clipboard(String),
    /// Write a file (mode 0600), e.g. an exported communication.
    WriteFile {
        path: String,
        contents: String,
    },
    /// Post this communication to the configured chat webhook (answer: `Msg::WebhookPosted`).
    PostWebhook {
        comm_id: u64,
        subject: String,
        body: String,
    },
    /// Copy PM2's evidence into this new directory (0700; files 0600).
    PreserveEvidence {
        dir: String,
    },
    Quit,
}
