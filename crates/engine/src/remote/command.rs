//! Which ssh to run and where: `PM2_INCIDENT_SSH_COMMAND` (as git's `GIT_SSH_COMMAND`) and a
//! checked destination. Pure.
use std::process::Command;

/// The environment variable that replaces `ssh` (may carry arguments: `ssh -F ./config`).
pub const SSH_COMMAND_ENV: &str = "PM2_INCIDENT_SSH_COMMAND";

/// How to start ssh: a program and the arguments that always come first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SshCommand {
    program: String,
    prefix: Vec<String>,
    /// What the responder configured, for messages.
    shown: String,
}

/// Characters that make git hand the command to the shell (run-command.c `prepare_shell_cmd`).
const SHELL_CHARS: &str = "|&;<>()$`\\\"' \t\n*?[#~=%";

impl SshCommand {
    /// From the process environment.
    pub fn from_env() -> Self {
        Self::parse(std::env::var(SSH_COMMAND_ENV).ok().as_deref())
    }

    /// Plain `ssh` when unset or blank; a string with shell characters runs as
    /// `sh -c '<CMD> "$@"' '<CMD>' <args…>` (git's rule), anything else as a program name.
    /// Words separated only by blanks (`ssh -F ./cfg`) are split here, as that shell would
    /// split them: one exec less for every ssh call (a fleet makes many).
    pub fn parse(value: Option<&str>) -> Self {
        let Some(s) = value.map(str::trim).filter(|s| !s.is_empty()) else {
            return SshCommand {
                program: "ssh".into(),
                prefix: vec![],
                shown: "ssh".into(),
            };
        };
        let blank = |c: char| c == ' ' || c == '\t';
        if s.chars().any(|c| SHELL_CHARS.contains(c) && !blank(c)) {
            return SshCommand {
                program: "/bin/sh".into(),
                prefix: vec!["-c".into(), format!("{s} \"$@\""), s.to_string()],
                shown: s.to_string(),
            };
        }
        let mut words = s.split(blank).filter(|w| !w.is_empty()).map(String::from);
        SshCommand {
            program: words.next().unwrap_or_else(|| "ssh".into()),
            prefix: words.collect(),
            shown: s.to_string(),
        }
    }

    /// A `Command` ready for ssh options, destination and remote command.
    pub fn command(&self) -> Command {
        let mut c = Command::new(&self.program);
        c.args(&self.prefix);
        c
    }

    /// For messages: what the responder configured.
    pub fn describe(&self) -> String {
        self.shown.clone()
    }
}

/// An ssh destination (`user@host`, `host`, an alias from `~/.ssh/config`), checked so it can
/// never be read as an option or carry a second word.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(transparent)]
pub struct Dest(String);

pub use crate::runbook::inventory::DestError;

impl Dest {
    pub fn parse(s: &str) -> Result<Dest, DestError> {
        crate::runbook::inventory::check_dest(s)?;
        Ok(Dest(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::str::FromStr for Dest {
    type Err = DestError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Dest::parse(s)
    }
}

impl std::fmt::Display for Dest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(c: &SshCommand) -> Vec<String> {
        let cmd = c.command();
        std::iter::once(cmd.get_program())
            .chain(cmd.get_args())
            .map(|s| s.to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn override_follows_gits_rule() {
        assert_eq!(argv(&SshCommand::parse(None)), ["ssh"]);
        assert_eq!(argv(&SshCommand::parse(Some("  "))), ["ssh"]);
        assert_eq!(argv(&SshCommand::parse(Some("/opt/ssh"))), ["/opt/ssh"]);
        let c = SshCommand::parse(Some("ssh -F ./cfg"));
        assert_eq!(argv(&c), ["ssh", "-F", "./cfg"]);
        assert_eq!(c.describe(), "ssh -F ./cfg");
        let c = SshCommand::parse(Some("ssh -F '/a b/cfg'"));
        assert_eq!(
            argv(&c),
            [
                "/bin/sh",
                "-c",
                "ssh -F '/a b/cfg' \"$@\"",
                "ssh -F '/a b/cfg'"
            ]
        );
        assert_eq!(c.describe(), "ssh -F '/a b/cfg'");
    }

    #[test]
    fn override_passes_arguments_through_the_shell_unchanged() {
        let c = SshCommand::parse(Some("printf '%s|'"));
        let out = c.command().args(["a b", "-o", "$HOME"]).output().unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stdout), "a b|-o|$HOME|");
    }

    #[test]
    fn destinations_that_could_be_options_are_refused() {
        assert!(Dest::parse("deploy@10.0.0.5").is_ok());
        assert!(Dest::parse("web-1").is_ok());
        assert_eq!(Dest::parse(""), Err(DestError::Empty));
        assert!(matches!(
            Dest::parse("-oProxyCommand=x"),
            Err(DestError::Dash(_))
        ));
        assert!(matches!(Dest::parse("a b"), Err(DestError::BadChar(_))));
        assert!(matches!(Dest::parse("a\nb"), Err(DestError::BadChar(_))));
    }
}
