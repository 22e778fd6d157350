//! UI state and its transitions, without I/O (The Elm Architecture):
//! `App::update(msg, now) -> Vec<Effect>`. The incident (what happened) lives in
//! `incident::Incident`, built only from the events the app records; the rest is
//! UI state (cursor, popups, what PM2 and health show right now).
pub mod convert;
pub mod deploy_items;
pub mod keymap;
pub mod msg;
pub mod replay;
pub mod runbook_nav;
pub mod state;
pub mod update;

pub use keymap::{Action, Binding, Keymap, MAIN};
pub use msg::{Effect, Msg};
pub use state::{App, AppMode, Popup, RemoteView, StepItem, Tab, TerminalEnv};
