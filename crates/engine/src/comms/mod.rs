//! Communications: the runbook's notification, status update and resolution templates filled
//! from the incident state, the OSC 52 clipboard sequence, and the next-update countdown.
//! All pure; the TUI does the editing, journaling, file writing and terminal output.
pub mod actions;
pub mod base64;
pub mod context;
pub mod fill;
pub mod impact;
pub mod osc52;
pub mod schedule;
pub mod sites;
pub mod summary;
pub mod text;
pub mod webhook;

pub use context::{CommsContext, Item, Status};
pub use fill::{fill, Draft, FillError};
pub use osc52::{clipboard_sequence, osc52, osc52_tmux, Osc52Error};
pub use schedule::{next_update_due, update_status, UpdateStatus};

use crate::incident::event::CommTemplate;

/// The runbook template id for a journaled communication kind.
pub fn template_id(t: CommTemplate) -> &'static str {
    match t {
        CommTemplate::Notification => "incident-notification",
        CommTemplate::StatusUpdate => "status-update",
        CommTemplate::Resolution => "resolution",
    }
}

/// The journal's kind for a runbook template id (`None` for other templates).
pub fn comm_template(id: &str) -> Option<CommTemplate> {
    [
        CommTemplate::Notification,
        CommTemplate::StatusUpdate,
        CommTemplate::Resolution,
    ]
    .into_iter()
    .find(|t| template_id(*t) == id)
}
