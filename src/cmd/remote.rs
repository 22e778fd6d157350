//! What the `--host` subcommands share: connecting a session per host and ranking results.
use crate::assess::Level;
use crate::remote::{Dest, Session, SessionOptions, SshCommand};
use std::time::Duration;

/// Start a headless (BatchMode) session to `dest`; the error names the host.
pub fn connect(dest: &Dest, timeout_ms: u64) -> Result<Session, String> {
    let t = Duration::from_millis(timeout_ms.max(1000));
    Session::connect(
        SshCommand::from_env(),
        dest.clone(),
        SessionOptions {
            connect_timeout: t,
            command_timeout: t,
            ..SessionOptions::default()
        },
    )
    .map_err(|e| format!("ssh to {dest}: {e}"))
}

/// Worst first: P1, then "cannot tell" (an unreachable host may be fully down), P2, P3, none.
pub fn rank(l: Level) -> u8 {
    match l {
        Level::P1 => 0,
        Level::Unknown => 1,
        Level::P2 => 2,
        Level::P3 => 3,
        Level::None => 4,
    }
}

/// The worst of several levels (`None` when there are none).
pub fn worst(levels: impl IntoIterator<Item = Level>) -> Level {
    levels
        .into_iter()
        .min_by_key(|l| rank(*l))
        .unwrap_or(Level::None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn worst_prefers_p1_then_unknown() {
        assert_eq!(
            worst([Level::None, Level::P2, Level::Unknown]),
            Level::Unknown
        );
        assert_eq!(worst([Level::Unknown, Level::P1]), Level::P1);
        assert_eq!(worst([Level::P3, Level::None]), Level::P3);
        assert_eq!(worst([]), Level::None);
    }
}
