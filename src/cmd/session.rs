//! What every subcommand that starts the UI or prints shares: the environment read once.
use crate::app::{App, TerminalEnv};

/// Colours allowed: `NO_COLOR` unset or empty (https://no-color.org).
pub fn color_allowed() -> bool {
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// The terminal facts the app needs, read from this process's environment.
pub fn terminal_env() -> TerminalEnv {
    TerminalEnv {
        in_tmux: std::env::var_os("TMUX").is_some(),
    }
}

/// Give a new app what the environment says about colours and the terminal.
pub fn configure(app: &mut App) {
    app.color = color_allowed();
    app.terminal = terminal_env();
}
