//! Which journaled commands count as actions in a communication: those that change the
//! server, and among them the restore commands (the ones that bring processes back).
use crate::guard::shell::{self, Script};
use crate::runbook::{Effect, Runbook};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommandKind {
    /// Only looks (pm2 list, curl, tail ...): not reported as an action.
    Read,
    /// Changes the server (pm2 save, stop, delete ...).
    Change,
    /// Changes the server to bring processes back (pm2 start, restart, reload, resurrect).
    Restore,
}

/// PM2 verbs that bring processes back.
const PM2_RESTORE: &[&str] = &[
    "start",
    "restart",
    "reload",
    "gracefulReload",
    "resurrect",
    "startOrRestart",
    "startOrReload",
    "startOrGracefulReload",
    "scale",
];
/// PM2 verbs that change state without bringing anything back.
const PM2_CHANGE: &[&str] = &[
    "stop",
    "delete",
    "del",
    "kill",
    "save",
    "dump",
    "update",
    "updatePM2",
    "reset",
    "flush",
    "install",
    "uninstall",
    "set",
    "unset",
    "link",
    "unlink",
    "deploy",
    "startup",
    "unstartup",
    "sendSignal",
    "trigger",
    "reloadLogs",
];
const SYSTEMCTL_RESTORE: &[&str] = &["start", "restart", "reload", "try-restart"];
const SYSTEMCTL_CHANGE: &[&str] = &["stop", "kill", "enable", "disable", "mask", "unmask"];

/// Classifies a command line as it was run (`dir` is where it ran). PM2 and systemctl are
/// judged by their verb, so an edited or ad hoc command is judged the same as the runbook's;
/// anything else takes the effect the runbook gives that exact command, else counts as a read.
pub fn kind(runbook: &Runbook, text: &str, dir: Option<&str>) -> CommandKind {
    let by_verb = match shell::parse(text) {
        Ok(script) => verb_kind(&script),
        Err(_) => verb_kind_words(text),
    };
    if let Some(k) = by_verb {
        return k;
    }
    let changes = runbook.procedure.commands().any(|(_, _, c)| {
        c.effect == Effect::Change
            && runbook.render(c.run.get_ref()) == text.trim()
            && (c.dir.is_none()
                || dir.is_none()
                || c.dir
                    .as_ref()
                    .map(|d| runbook.render(d.get_ref()))
                    .as_deref()
                    == dir)
    });
    if changes {
        CommandKind::Change
    } else {
        CommandKind::Read
    }
}

/// The strongest kind among the pm2/systemctl commands of the script, if it has any.
fn verb_kind(script: &Script) -> Option<CommandKind> {
    script
        .pipelines
        .iter()
        .flat_map(|p| p.commands.iter())
        .filter_map(|c| {
            let words: Vec<String> = c.words.iter().map(|w| w.text()).collect();
            words_kind(&words)
        })
        .max_by_key(|k| rank(*k))
}

/// Fallback for a line the shell parser refuses: split on separators and whitespace.
fn verb_kind_words(text: &str) -> Option<CommandKind> {
    text.split(['&', ';', '|', '\n'])
        .filter_map(|part| {
            let words: Vec<String> = part.split_whitespace().map(str::to_string).collect();
            words_kind(&words)
        })
        .max_by_key(|k| rank(*k))
}

fn words_kind(words: &[String]) -> Option<CommandKind> {
    let mut it = words.iter().map(String::as_str);
    let mut program = it.next()?;
    if program == "sudo" {
        program = it.find(|w| !w.starts_with('-'))?;
    }
    let program = program.rsplit('/').next().unwrap_or(program);
    let verb = it.find(|w| !w.starts_with('-'));
    let (restore, change) = match program {
        "pm2" => (PM2_RESTORE, PM2_CHANGE),
        "systemctl" => (SYSTEMCTL_RESTORE, SYSTEMCTL_CHANGE),
        _ => return None,
    };
    Some(match verb {
        Some(v) if restore.contains(&v) => CommandKind::Restore,
        Some(v) if change.contains(&v) => CommandKind::Change,
        _ => CommandKind::Read,
    })
}

fn rank(k: CommandKind) -> u8 {
    match k {
        CommandKind::Read => 0,
        CommandKind::Change => 1,
        CommandKind::Restore => 2,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rb() -> Runbook {
        Runbook::embedded().expect("embedded runbook loads")
    }

    #[test]
    fn pm2_and_systemctl_by_verb() {
        let r = rb();
        let k = |t: &str| kind(&r, t, None);
        assert_eq!(k("pm2 list"), CommandKind::Read);
        assert_eq!(
            k("pm2 jlist > /tmp/pm2-incident-20260217-041240.json"),
            CommandKind::Read
        );
        assert_eq!(k("pm2 logs --lines 20 --nostream"), CommandKind::Read);
        assert_eq!(k("pm2 start ecosystem.config.cjs"), CommandKind::Restore);
        assert_eq!(
            k("cd /var/www/x && pm2 start ecosystem.config.cjs"),
            CommandKind::Restore
        );
        assert_eq!(
            k("pm2 --silent restart flyer-crawler-api"),
            CommandKind::Restore
        );
        assert_eq!(k("pm2 save"), CommandKind::Change);
        assert_eq!(
            k("pm2 list | grep stock; pm2 stop stock-alert-api"),
            CommandKind::Change
        );
        assert_eq!(
            k("sudo systemctl restart pm2-gitea-runner"),
            CommandKind::Restore
        );
        assert_eq!(
            k("systemctl status pm2-gitea-runner --no-pager"),
            CommandKind::Read
        );
        assert_eq!(
            k("curl -s http://localhost:3001/api/health/ready | jq ."),
            CommandKind::Read
        );
        // Unbalanced quote: the parser refuses it, the word split still finds the verb.
        assert_eq!(k("pm2 start 'eco"), CommandKind::Restore);
    }
}
