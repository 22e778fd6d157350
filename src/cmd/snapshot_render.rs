//! Snapshot output: JSON for machines, text that fits 80 columns for people.
//! Pure: given the snapshot and the assessment, returns the text.
use std::fmt::Write as _;

use serde_json::json;

use crate::assess::{Assessment, CheckState, Level};
use crate::observe::Snapshot;
use crate::pm2::{DaemonKind, Reading};
use crate::sanitize::escape_line as e;

pub const WIDTH: usize = 80;

pub fn json(snap: &Snapshot, a: &Assessment) -> serde_json::Value {
    json!({
        "pm2": pm2_json(snap),
        "health": snap.health,
        "health_error": snap.health_error,
        "scope": a.scope,
        "severity": a.severity,
        "plan": a.plan,
        "checklist": a.checklist,
    })
}

/// The `pm2` object of `snapshot --json` (allow-listed process fields only).
fn pm2_json(snap: &Snapshot) -> serde_json::Value {
    reading_json(&snap.pm2, &snap.pm2_detail)
}

/// A reading as JSON: daemon kind, detail, version, pid, allow-listed processes, warning.
pub fn reading_json(r: &Reading, detail: &str) -> serde_json::Value {
    json!({
        "daemon": r.kind(),
        "detail": detail,
        "version": r.version(),
        "pid": r.pid(),
        "processes": r.processes,
        "warning": r.warnings.first(),
    })
}

/// ANSI styling, off unless asked for (the caller checks the tty and NO_COLOR).
#[derive(Debug, Clone, Copy)]
pub struct Style {
    pub color: bool,
}

impl Style {
    fn paint(&self, code: &str, s: &str) -> String {
        // The data is escaped here; the only escape sequences in the output are these colours.
        let s = e(s);
        if self.color {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.into_owned()
        }
    }
    fn good(&self, s: &str) -> String {
        self.paint("32", s)
    }
    fn bad(&self, s: &str) -> String {
        self.paint("1;31", s)
    }
    fn warn(&self, s: &str) -> String {
        self.paint("33", s)
    }
    fn head(&self, s: &str) -> String {
        self.paint("1", s)
    }
}

/// The line that heads a host's snapshot with `--host`.
pub fn host_line(dest: &str, st: Style) -> String {
    format!("{} {}", st.head("Host"), e(dest))
}

pub fn text(snap: &Snapshot, a: &Assessment, st: Style) -> String {
    let mut o = String::new();
    processes_section(&mut o, snap, a, st);
    line(&mut o, "");
    health_section(&mut o, snap, st);
    line(&mut o, "");
    severity_section(&mut o, a, st);
    plan_section(&mut o, a, st);
    line(&mut o, "");
    checklist_section(&mut o, a, st);
    o
}

/// The daemon, then every deployment's processes, then what the inventory does not name.
fn processes_section(o: &mut String, snap: &Snapshot, a: &Assessment, st: Style) {
    let pm2 = &snap.pm2;
    let daemon = if pm2.kind() == DaemonKind::Up {
        st.good(&snap.pm2_detail)
    } else {
        st.bad(&snap.pm2_detail)
    };
    line(o, &format!("{} {daemon}", st.head("PM2")));
    if let Some(w) = pm2.warnings.first() {
        line(o, &format!("  {}", st.warn(&format!("warning: {w}"))));
    }
    line(o, "");
    line(o, &st.head("Processes"));
    for d in &a.scope.deployments {
        line(
            o,
            &format!(
                "  {} ({}, {})",
                e(&d.id),
                e(&d.app_name),
                d.environment.as_str()
            ),
        );
        for p in &d.processes {
            let state = p.state.label();
            let state = if state == "online" {
                st.good(state)
            } else {
                st.bad(state)
            };
            let inst = if p.instances > 1 {
                format!(" x{}", p.instances)
            } else {
                String::new()
            };
            line(
                o,
                &format!(
                    "    {:<38} {state}{inst}  restarts {}",
                    e(&p.name),
                    p.restarts
                ),
            );
        }
    }
    if !a.scope.unexpected.is_empty() {
        line(o, "  not in the inventory");
        for p in &a.scope.unexpected {
            line(
                o,
                &format!(
                    "    {:<38} {}  restarts {}",
                    e(&p.name),
                    p.state.label(),
                    p.restarts
                ),
            );
        }
    }
}

fn health_section(o: &mut String, snap: &Snapshot, st: Style) {
    line(o, &st.head("Health"));
    if let Some(e) = &snap.health_error {
        line(o, &format!("  {}", st.bad(e)));
    }
    for h in &snap.health {
        let v = h.verdict.label();
        let v = if h.verdict.is_healthy() {
            st.good(&v)
        } else {
            st.bad(&v)
        };
        line(
            o,
            &format!("  {v:<9} {}  {} ms", e(&h.target.url), h.latency_ms),
        );
    }
}

/// The decision tree's call and the answers that led to it.
fn severity_section(o: &mut String, a: &Assessment, st: Style) {
    let sev = &a.severity;
    let level = match sev.level {
        Level::None => st.good("none"),
        Level::Unknown => st.warn("unknown"),
        l => st.bad(l.as_str()),
    };
    let label = if sev.label.starts_with(sev.level.as_str()) {
        sev.label[sev.level.as_str().len()..]
            .trim_start()
            .to_string()
    } else {
        format!("— {}", e(&sev.label))
    };
    line(o, &format!("{} {level} {label}", st.head("Severity")));
    for ans in &sev.path {
        let yn = match ans.answer {
            Some(true) => "YES",
            Some(false) => "NO",
            None => "?",
        };
        line(o, &format!("  {} {yn}", e(&ans.question)));
        for r in &ans.reasons {
            line(o, &format!("      {}", e(r)));
        }
    }
    if sev.path.is_empty() {
        for r in &sev.reasons {
            line(o, &format!("  {}", e(r)));
        }
    }
}

fn plan_section(o: &mut String, a: &Assessment, st: Style) {
    if !a.plan.items.is_empty() {
        line(o, "");
        let scen = a
            .plan
            .scenario
            .as_deref()
            .map(|s| format!(" (scenario {})", e(s)))
            .unwrap_or_default();
        line(o, &st.head(&format!("Restore plan{scen}")));
        for (i, item) in a.plan.items.iter().enumerate() {
            line(
                o,
                &format!("  {}. {}: {}", i + 1, e(&item.deployment), e(&item.command)),
            );
            if let Some(dir) = &item.dir {
                line(o, &format!("     in {}", e(dir)));
            }
            line(o, &format!("     check: {}", e(&item.check)));
            if item.verify_before_next {
                line(o, "     verify healthy before the next item");
            }
        }
        if a.plan.save_after {
            line(
                o,
                &format!(
                    "  {}. pm2 save (once everything is verified)",
                    a.plan.items.len() + 1
                ),
            );
        }
    }
}

fn checklist_section(o: &mut String, a: &Assessment, st: Style) {
    line(o, &st.head("Verification checklist"));
    for c in &a.checklist {
        let mark = match c.state {
            CheckState::Holds => st.good("[x]"),
            CheckState::Fails => st.bad("[ ]"),
            CheckState::Unknown => st.warn("[?]"),
            CheckState::Manual => "[ ]".to_string(),
        };
        let manual = if c.state == CheckState::Manual {
            " (you tick this)"
        } else {
            ""
        };
        line(o, &format!("  {mark} {}{manual}", e(&c.text)));
    }
}

/// Append `s` wrapped to [`WIDTH`] visible columns; continuation lines keep the
/// indentation plus four spaces.
fn line(out: &mut String, s: &str) {
    for l in wrap(s, WIDTH) {
        let _ = writeln!(out, "{l}");
    }
}

fn visible_len(s: &str) -> usize {
    let mut n = 0;
    let mut in_esc = false;
    for c in s.chars() {
        match (in_esc, c) {
            (false, '\x1b') => in_esc = true,
            (true, 'm') => in_esc = false,
            (true, _) => {}
            (false, _) => n += 1,
        }
    }
    n
}

pub fn wrap(s: &str, width: usize) -> Vec<String> {
    if visible_len(s) <= width {
        return vec![s.to_string()];
    }
    let indent = s.len() - s.trim_start().len();
    let cont = " ".repeat((indent + 4).min(width / 2));
    let mut lines = Vec::new();
    let mut cur = s[..indent].to_string();
    for word in s[indent..].split(' ') {
        let fresh = cur.trim().is_empty();
        if !fresh && visible_len(&cur) + 1 + visible_len(word) > width {
            lines.push(std::mem::replace(&mut cur, cont.clone()));
        }
        if !cur.trim().is_empty() {
            cur.push(' ');
        }
        // A single word longer than the line (a URL) is cut into pieces.
        let mut w = word.to_string();
        while visible_len(&cur) + visible_len(&w) > width && w.chars().count() > 1 {
            let room = width.saturating_sub(visible_len(&cur)).max(1);
            let split: String = w.chars().take(room).collect();
            let rest: String = w.chars().skip(room).collect();
            cur.push_str(&split);
            lines.push(std::mem::replace(&mut cur, cont.clone()));
            w = rest;
        }
        cur.push_str(&w);
    }
    lines.push(cur);
    lines
}

#[cfg(test)]
mod tests {
    use super::wrap;

    #[test]
    fn wraps_at_words_and_cuts_long_words() {
        let s = format!("  {}", ["word"; 30].join(" "));
        for l in wrap(&s, 40) {
            assert!(l.chars().count() <= 40, "{l}");
        }
        let url = format!("  {}", "x".repeat(100));
        let lines = wrap(&url, 40);
        assert!(lines.iter().all(|l| l.chars().count() <= 40));
        assert_eq!(lines.iter().map(|l| l.trim().len()).sum::<usize>(), 100);
    }
}
