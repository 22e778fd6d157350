//! Daemon awareness: the guard's verdicts adjusted to what PM2 was observed to be.
//!
//! Applied after classification, only when the caller observed PM2 (`GuardContext::pm2` is
//! `Some`): `check-command` and `lint` have no observation and keep their verdicts.
//! - PM2's daemon not up: every `pm2` CLI invocation starts a new, empty daemon (measured for
//!   every verb including `-v`, see `shared/reference/pm2-dump-and-daemon.md`), so it is a
//!   state change: caution, with the plan's alternative.
//! - `pm2 save` while anything expected is missing or not online: caution with the diff
//!   against the saved list; with everything online it is safe.
//!
//! Pure.
use serde::{Deserialize, Serialize};

use crate::pm2::DaemonKind;

use super::classify::{base, is_pm2_path};
use super::names::matches_any;
use super::verdict::{Class, Finding, GuardContext};

/// The guard's reason for a `pm2` command while the daemon is not up.
pub const STARTS_EMPTY_DAEMON: &str = "starts a new, empty PM2 daemon: the dead daemon's state is lost and `pm2 list` will show nothing";

/// What the daemon was observed to be (the guard's reduction of `pm2::DaemonState`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DaemonObs {
    Up,
    /// No socket: no daemon (never started, or a clean `pm2 kill`).
    NotRunning,
    /// Socket refused / pid dead: killed or crashed.
    Died,
    /// Could not be read (permission, timeout, error): the guard cannot tell.
    Unreachable,
}

impl DaemonObs {
    /// From the PM2 reader's daemon kind.
    pub fn from_kind(kind: DaemonKind) -> DaemonObs {
        match kind {
            DaemonKind::Up => DaemonObs::Up,
            DaemonKind::NotRunning => DaemonObs::NotRunning,
            DaemonKind::Died => DaemonObs::Died,
            DaemonKind::PermissionDenied | DaemonKind::Timeout | DaemonKind::Error => {
                DaemonObs::Unreachable
            }
        }
    }

    pub fn is_up(self) -> bool {
        self == DaemonObs::Up
    }
}

/// One process PM2 lists now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Listed {
    pub name: String,
    pub online: bool,
}

/// The observed PM2 state the guard judges against.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Pm2Context {
    pub daemon: Option<DaemonObs>,
    /// Distinct app names in the saved list (`dump.pm2`); `Some(empty)` when there is none;
    /// `None` when it could not be read.
    pub saved: Option<Vec<String>>,
    /// Processes (one row per instance) listed now; `None` when PM2 could not be read.
    pub listed: Option<Vec<Listed>>,
    /// What to do instead of starting an empty daemon (the restore plan's first step).
    pub alternative: Option<String>,
}

/// Whether this finding runs the `pm2` CLI (directly, through a wrapper, or `node …/bin/pm2`)
/// with arguments. Bare `pm2` prints its usage without starting a daemon (measured on 7.0.4;
/// `pm2 --help` and `pm2 -v` do start one).
fn is_pm2_cli(f: &Finding) -> bool {
    let mut words = f.command.split_whitespace();
    words
        .next()
        .is_some_and(|w| is_pm2_path(w) || base(w) == "pm2")
        && words.next().is_some()
}

/// Adjust findings to the observed PM2 state (no-op without an observation).
pub fn apply(findings: &mut [Finding], ctx: &GuardContext) {
    let Some(pm2) = &ctx.pm2 else { return };
    for f in findings.iter_mut().filter(|f| is_pm2_cli(f)) {
        match pm2.daemon {
            Some(DaemonObs::Up) => {
                if matches!(f.verb.as_deref(), Some("save" | "dump")) {
                    judge_save(f, ctx, pm2);
                }
            }
            Some(d @ (DaemonObs::NotRunning | DaemonObs::Died)) => daemon_down(f, pm2, d),
            Some(DaemonObs::Unreachable) if f.class < Class::Caution => {
                f.class = Class::Caution;
                f.reason = "PM2's daemon could not be read: a `pm2` command may hang, or start a second daemon; the guard cannot tell which".into();
            }
            Some(DaemonObs::Unreachable) | None => {}
        }
    }
}

fn daemon_down(f: &mut Finding, pm2: &Pm2Context, d: DaemonObs) {
    let why = match d {
        DaemonObs::Died => "PM2's daemon died",
        _ => "no PM2 daemon runs",
    };
    match f.class {
        Class::Safe => {
            f.class = Class::Caution;
            f.reason = format!("{why}: `{}` {STARTS_EMPTY_DAEMON}", f.command);
            f.safe_alternative = pm2.alternative.clone();
        }
        // `pm2 resurrect`, `pm2 start eco.config.js`: starting the daemon is their point, but
        // the dead daemon's traces go with it.
        Class::Caution => {
            if f.verb.as_deref() == Some("resurrect") {
                if let Some(apps) = pm2.saved.as_ref().filter(|a| !a.is_empty()) {
                    f.reason =
                        format!("`pm2 resurrect` starts the saved list: {}", apps.join(", "));
                }
            }
            f.reason = format!(
                "{}; {why}: it also starts a new PM2 daemon (preserve the evidence first)",
                f.reason
            );
        }
        Class::Dangerous => {}
    }
}

/// `pm2 save` with PM2 up: what the saved list would lose.
fn judge_save(f: &mut Finding, ctx: &GuardContext, pm2: &Pm2Context) {
    let Some(listed) = &pm2.listed else {
        return; // nothing known about what runs: the classifier's caution stands
    };
    let present = |n: &str| listed.iter().any(|p| p.name == n);
    let mut online: Vec<&str> = vec![];
    let mut not_online: Vec<&str> = vec![];
    for p in listed {
        let all_on = listed.iter().filter(|q| q.name == p.name).all(|q| q.online);
        let v = if all_on { &mut online } else { &mut not_online };
        if !v.contains(&p.name.as_str()) {
            v.push(&p.name);
        }
    }
    let saved = pm2.saved.clone();
    let dropped: Vec<&str> = saved
        .iter()
        .flatten()
        .map(String::as_str)
        .filter(|n| !present(n))
        .collect();
    // Literal inventory names (globs cannot be enumerated) that run nowhere and are not saved.
    let expected_missing: Vec<&str> = ctx
        .known_processes
        .iter()
        .map(String::as_str)
        .filter(|n| !n.contains(['*', '?', '[']))
        .filter(|n| !present(n) && !dropped.contains(n))
        .collect();
    let unexpected_ok =
        |n: &&str| ctx.known_processes.is_empty() || matches_any(&ctx.known_processes, n);
    let not_online: Vec<&str> = not_online.into_iter().filter(unexpected_ok).collect();
    if dropped.is_empty() && not_online.is_empty() && expected_missing.is_empty() {
        if saved.is_none() {
            f.reason = format!("{}; the saved list could not be read, so the guard cannot tell what saving replaces", f.reason);
            return;
        }
        f.class = Class::Safe;
        f.reason = format!(
            "`pm2 save`: every expected process is online; the saved list is replaced by the {} app(s) running now",
            online.len()
        );
        return;
    }
    let mut parts: Vec<String> = vec![];
    match &saved {
        Some(s) => {
            let keeps = s.iter().filter(|n| online.contains(&n.as_str())).count();
            parts.push(format!(
                "the saved list has {} app(s); saving now keeps {keeps}",
                s.len()
            ));
            if !dropped.is_empty() {
                parts.push(format!("drops {}", dropped.join(", ")));
            }
        }
        None => parts.push("the saved list could not be read".into()),
    }
    if !not_online.is_empty() {
        parts.push(format!(
            "saves {} as not online (`pm2 resurrect` and boot would restore them stopped)",
            not_online.join(", ")
        ));
    }
    if !expected_missing.is_empty() {
        parts.push(format!(
            "leaves out {} (in the inventory, not running)",
            expected_missing.join(", ")
        ));
    }
    f.class = f.class.max(Class::Caution);
    f.reason = parts.join(" and ");
    f.safe_alternative = Some(
        "bring every expected process back online and verify it first, then `pm2 save`".into(),
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::guard::classify;

    fn ctx(daemon: DaemonObs, saved: Option<&[&str]>, listed: &[(&str, bool)]) -> GuardContext {
        GuardContext {
            known_processes: vec!["api".into(), "worker".into(), "stock-*".into()],
            scope: None,
            pm2: Some(Pm2Context {
                daemon: Some(daemon),
                saved: saved.map(|s| s.iter().map(|n| n.to_string()).collect()),
                listed: Some(
                    listed
                        .iter()
                        .map(|(n, o)| Listed {
                            name: n.to_string(),
                            online: *o,
                        })
                        .collect(),
                ),
                alternative: Some("press E to preserve the evidence, then `pm2 resurrect`".into()),
            }),
        }
    }

    #[test]
    fn every_pm2_cli_call_is_caution_with_the_daemon_down() {
        for d in [DaemonObs::Died, DaemonObs::NotRunning] {
            let c = ctx(d, Some(&["api"]), &[]);
            for line in [
                "pm2 list",
                "pm2 ping",
                "pm2 -v",
                "pm2 --help",
                "pm2 jlist > /tmp/x.json",
                "sudo -u app pm2 describe api",
                "/usr/lib/node_modules/pm2/bin/pm2 logs --nostream",
                "curl -s localhost:3000 && pm2 status",
            ] {
                let v = classify(line, &c);
                assert_eq!(v.class, Class::Caution, "{line}: {v:?}");
                assert!(
                    v.reason.contains(STARTS_EMPTY_DAEMON),
                    "{line}: {}",
                    v.reason
                );
                assert_eq!(
                    v.safe_alternative.as_deref(),
                    Some("press E to preserve the evidence, then `pm2 resurrect`")
                );
            }
            // Bare `pm2` prints usage and starts nothing; not PM2: unchanged.
            assert_eq!(classify("pm2", &c).class, Class::Safe);
            assert_eq!(
                classify("curl -s localhost:3000/ready", &c).class,
                Class::Safe
            );
            assert_eq!(classify("pm2 delete all", &c).class, Class::Dangerous);
            let r = classify("pm2 resurrect", &c);
            assert_eq!(r.class, Class::Caution);
            assert!(r.reason.contains("starts a new PM2 daemon"), "{}", r.reason);
        }
    }

    #[test]
    fn without_an_observation_verdicts_are_unchanged() {
        let c = GuardContext::default();
        assert_eq!(classify("pm2 list", &c).class, Class::Safe);
        assert_eq!(classify("pm2 save", &c).class, Class::Caution);
        let up = ctx(DaemonObs::Up, Some(&[]), &[("api", true)]);
        assert_eq!(classify("pm2 list", &up).class, Class::Safe);
    }

    #[test]
    fn unreachable_daemon_is_caution_saying_it_cannot_tell() {
        let v = classify("pm2 ls", &ctx(DaemonObs::Unreachable, None, &[]));
        assert_eq!(v.class, Class::Caution);
        assert!(v.reason.contains("cannot tell"), "{}", v.reason);
    }

    #[test]
    fn save_names_what_it_drops_and_what_it_freezes() {
        let c = ctx(
            DaemonObs::Up,
            Some(&["api", "worker", "stock-alert", "old-job"]),
            &[("api", true), ("api", true), ("stock-alert", false)],
        );
        let v = classify("pm2 save", &c);
        assert_eq!(v.class, Class::Caution);
        assert!(
            v.reason
                .contains("the saved list has 4 app(s); saving now keeps 1"),
            "{}",
            v.reason
        );
        assert!(v.reason.contains("drops worker, old-job"), "{}", v.reason);
        assert!(
            v.reason.contains("saves stock-alert as not online"),
            "{}",
            v.reason
        );
    }

    #[test]
    fn save_with_everything_online_is_safe_and_missing_inventory_is_caution() {
        let all = ctx(
            DaemonObs::Up,
            Some(&["api", "worker"]),
            &[("api", true), ("worker", true), ("stock-x", true)],
        );
        assert_eq!(classify("pm2 save", &all).class, Class::Safe);
        // Nothing saved yet, worker (in the inventory) not running.
        let v = classify("pm2 save", &ctx(DaemonObs::Up, Some(&[]), &[("api", true)]));
        assert_eq!(v.class, Class::Caution);
        assert!(v.reason.contains("leaves out worker"), "{}", v.reason);
        // Saved list unreadable: the classifier's caution stands.
        let v = classify(
            "pm2 save",
            &ctx(DaemonObs::Up, None, &[("api", true), ("worker", true)]),
        );
        assert_eq!(v.class, Class::Caution);
        assert!(v.reason.contains("could not be read"), "{}", v.reason);
    }
}
