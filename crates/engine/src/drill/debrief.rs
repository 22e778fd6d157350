//! The drill debrief (pure): from the journal's entries, how the trainee did against the
//! scenario and the runbook — severity call, restore times and order, the verification
//! gate, dangerous commands, the saved initial state, comms, and the root cause.
use serde::Serialize;

use super::scenario::Scenario;
use crate::guard::Class;
use crate::incident::event::{Entry, Event, Severity, Ts};
use crate::incident::{fold, Incident};
use crate::runbook::inventory::{glob_match, is_glob};
use crate::runbook::{Environment, Runbook};

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SeverityResult {
    pub after_secs: i64,
    pub chosen: String,
    pub expected: String,
    pub correct: bool,
    pub overridden: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Restore {
    /// Process name (or the inventory's glob).
    pub process: String,
    pub environment: Environment,
    /// Position in the runbook's restore order (0 first).
    pub rank: Option<usize>,
    /// Seen down during the drill.
    pub affected: bool,
    /// Seconds from the start until first seen online again.
    pub restored_after_secs: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Debrief {
    pub scenario: String,
    pub title: String,
    pub duration_secs: i64,
    pub severity: Option<SeverityResult>,
    pub restores: Vec<Restore>,
    /// `None` when fewer than two processes were restored (nothing to order).
    pub priority_order_followed: Option<bool>,
    pub order_notes: Vec<String>,
    /// `None` when the test environment was never started.
    pub gate_respected: Option<bool>,
    pub gate_note: String,
    /// (seconds, command, why refused).
    pub dangerous: Vec<(i64, String, String)>,
    /// (seconds, command, what it did): `pm2` commands run while the daemon was down that
    /// started an empty daemon, or started one before the dead daemon's evidence was
    /// preserved (overwriting its traces).
    pub empty_daemon_starts: Vec<(i64, String, String)>,
    /// Caution commands the trainee confirmed and ran: (seconds, command, why
    /// the guard asked).
    pub cautions_confirmed: Vec<(i64, String, String)>,
    /// The initial state saved (`pm2 jlist > …`) or, with the daemon dead, its evidence.
    pub state_saved_after_secs: Option<i64>,
    pub state_saved_before_changes: bool,
    /// When the dead daemon's evidence was preserved (`E`), and whether before any change.
    pub evidence_preserved_after_secs: Option<i64>,
    pub evidence_before_changes: bool,
    /// When a `pm2 jlist > …` saved the initial state, and whether before any change.
    pub jlist_saved_after_secs: Option<i64>,
    pub jlist_before_changes: bool,
    pub comms_drafted: usize,
    /// (seconds, channel, subject).
    pub comms_sent: Vec<(i64, String, String)>,
    pub expected_root_cause: String,
    pub root_cause_named: bool,
    pub root_cause_text: Option<String>,
}

/// Words that show a root cause was named (besides its id).
fn cause_words(id: &str) -> &'static [&'static str] {
    match id {
        "stop-all-in-workflow" => &["stop all"],
        "delete-all-in-workflow" => &["delete all"],
        "oom-killer" => &["oom", "out of memory", "killed process"],
        "disk-full" => &["disk full", "disk space", "no space", "enospc", "100%"],
        "manual-intervention" => &[
            "manual",
            "by hand",
            "kill -9",
            "someone killed",
            "sudo kill",
        ],
        "concurrent-deployments" => &[
            "concurrent",
            "same time",
            "simultaneous",
            "overlap",
            "db restore",
            "database restore",
        ],
        "workflow-caching" => &["cache", "cached", "caching"],
        _ => &[],
    }
}

pub fn mentions_cause(text: &str, id: &str) -> bool {
    let t = text.to_lowercase();
    t.contains(id) || cause_words(id).iter().any(|w| t.contains(w))
}

const CHANGE_WORDS: &[&str] = &[
    "pm2 start",
    "pm2 restart",
    "pm2 reload",
    "pm2 stop",
    "pm2 delete",
    "pm2 resurrect",
    "pm2 kill",
    "pm2 update",
];

fn is_save_command(text: &str) -> bool {
    text.contains("pm2 jlist >") || text.contains("pm2 jlist>") || text.contains("incident-state-")
}

/// Commands started while the last daemon state said down that the guard's daemon rule
/// judges as starting an empty daemon (`pm2 list`: always a mistake), or as starting a
/// daemon (`pm2 resurrect`: the way back, once the evidence is preserved).
fn empty_daemon_starts(entries: &[Entry]) -> Vec<(Ts, String, String)> {
    use crate::guard::daemon::{DaemonObs, Pm2Context, STARTS_EMPTY_DAEMON};
    let down = crate::guard::GuardContext {
        pm2: Some(Pm2Context {
            daemon: Some(DaemonObs::Died),
            ..Pm2Context::default()
        }),
        ..Default::default()
    };
    let mut alive = true;
    let mut preserved = false;
    let mut out = vec![];
    for e in entries {
        match &e.event {
            Event::DaemonState(d) => alive = d.alive,
            Event::EvidencePreserved(_) => preserved = true,
            Event::CommandStarted(c) if !alive => {
                let v = crate::guard::classify(&c.text, &down);
                if v.reason.contains(STARTS_EMPTY_DAEMON) {
                    out.push((
                        e.ts,
                        c.text.clone(),
                        "it started a new, empty daemon".into(),
                    ));
                } else if v.reason.contains("starts a new PM2 daemon") && !preserved {
                    out.push((
                        e.ts,
                        c.text.clone(),
                        "it started a new daemon before the dead one's evidence was preserved"
                            .into(),
                    ));
                }
            }
            _ => {}
        }
    }
    out
}

/// Debrief a drill from its journal entries, at `now`. `rb` is the drill's runbook.
pub fn debrief(scenario: &Scenario, rb: &Runbook, entries: &[Entry], now: Ts) -> Debrief {
    let inc = fold(entries);
    let start = inc
        .opened
        .as_ref()
        .map(|o| o.at)
        .or(inc.first_ts)
        .unwrap_or(now);
    let secs = |t: Ts| (t - start).num_seconds().max(0);
    let restores = restores(rb, entries, start, secs);
    let (priority_order_followed, order_notes) = order(&restores);
    let (gate_respected, gate_note) = gate(rb, entries, &restores, start);
    let kept = KeptState::of(&inc, entries);
    let rc = scenario.root_cause();
    let named = named_cause(&inc, rc);
    let empty_daemon_starts = empty_daemon_starts(entries)
        .into_iter()
        .map(|(t, c, why)| (secs(t), c, why))
        .collect();
    Debrief {
        empty_daemon_starts,
        scenario: scenario.id().to_string(),
        title: scenario.title.clone(),
        duration_secs: secs(inc.closed.as_ref().map(|c| c.at).unwrap_or(now)),
        severity: severity_result(scenario, &inc, entries, secs),
        restores,
        priority_order_followed,
        order_notes,
        gate_respected,
        gate_note,
        dangerous: refused(&inc, secs),
        cautions_confirmed: cautions_confirmed(&inc, secs),
        state_saved_after_secs: kept.saved.map(secs),
        evidence_preserved_after_secs: kept.evidence.map(secs),
        jlist_saved_after_secs: kept.jlist.map(secs),
        jlist_before_changes: before_changes(kept.jlist, kept.first_change),
        state_saved_before_changes: before_changes(kept.saved, kept.first_change),
        evidence_before_changes: before_changes(kept.evidence, kept.first_change),
        comms_drafted: inc.comms.len(),
        comms_sent: comms_sent(&inc, secs),
        expected_root_cause: rc.to_string(),
        root_cause_named: named.is_some(),
        root_cause_text: named.or_else(|| inc.root_cause.as_ref().map(|r| r.text.clone())),
    }
}

/// The severity the trainee called against the scenario's, timed from the first decision.
fn severity_result(
    scenario: &Scenario,
    inc: &Incident,
    entries: &[Entry],
    secs: impl Fn(Ts) -> i64,
) -> Option<SeverityResult> {
    inc.severity.as_ref().map(|d| {
        let chosen = match d.value.severity {
            Severity::P1 => "P1",
            Severity::P2 => "P2",
            Severity::P3 => "P3",
            Severity::Investigate => "investigate",
        };
        SeverityResult {
            after_secs: secs(first_decision(entries).unwrap_or(d.at)),
            chosen: chosen.into(),
            expected: scenario.expected().as_str().into(),
            correct: chosen == scenario.expected().as_str(),
            overridden: d.value.overridden.is_some(),
        }
    })
}

/// Dangerous commands the guard refused: (secs, command, reason).
fn refused(inc: &Incident, secs: impl Fn(Ts) -> i64) -> Vec<(i64, String, String)> {
    inc.refusals
        .iter()
        .map(|r| {
            (
                secs(r.at),
                r.value.text.clone(),
                r.value.guard.reason.clone(),
            )
        })
        .collect()
}

/// Caution commands that ran (a caution command runs only after its typed confirmation).
fn cautions_confirmed(inc: &Incident, secs: impl Fn(Ts) -> i64) -> Vec<(i64, String, String)> {
    inc.commands
        .iter()
        .filter(|c| c.start.guard.class == Class::Caution)
        .map(|c| {
            (
                secs(c.started_at),
                c.start.text.clone(),
                c.start.guard.reason.clone(),
            )
        })
        .collect()
}

/// Messages sent: (secs, channel, subject).
fn comms_sent(inc: &Incident, secs: impl Fn(Ts) -> i64 + Copy) -> Vec<(i64, String, String)> {
    inc.comms
        .iter()
        .flat_map(|c| {
            c.sent
                .iter()
                .map(move |(t, s)| (secs(*t), s.channel.clone(), c.draft.subject.clone()))
        })
        .collect()
}

/// When the initial state was kept, against the first change to PM2.
struct KeptState {
    /// The first `pm2 jlist > file` (or equivalent save).
    jlist: Option<Ts>,
    /// The dead daemon's evidence preserved.
    evidence: Option<Ts>,
    /// The earlier of the two.
    saved: Option<Ts>,
    /// The first command that changes PM2's state.
    first_change: Option<Ts>,
}

impl KeptState {
    fn of(inc: &Incident, entries: &[Entry]) -> Self {
        let jlist = inc
            .commands
            .iter()
            .find(|c| is_save_command(&c.start.text))
            .map(|c| c.started_at);
        let evidence = entries
            .iter()
            .find(|e| matches!(e.event, Event::EvidencePreserved(_)))
            .map(|e| e.ts);
        let first_change = inc
            .commands
            .iter()
            .find(|c| CHANGE_WORDS.iter().any(|w| c.start.text.contains(w)))
            .map(|c| c.started_at);
        KeptState {
            jlist,
            evidence,
            saved: jlist.into_iter().chain(evidence).min(),
            first_change,
        }
    }
}

/// The first root cause, note or why that names the scenario's cause `rc`.
fn named_cause(inc: &Incident, rc: &str) -> Option<String> {
    let mut texts: Vec<String> = inc.root_cause.iter().map(|r| r.text.clone()).collect();
    texts.extend(inc.notes.iter().map(|n| n.value.text.clone()));
    texts.extend(inc.five_whys.iter().flat_map(|w| w.whys.clone()));
    texts.into_iter().find(|t| mentions_cause(t, rc))
}

/// Whether something done at `at` came before the first change (`false` when never done).
fn before_changes(at: Option<Ts>, first_change: Option<Ts>) -> bool {
    match (at, first_change) {
        (Some(s), Some(c)) => s <= c,
        (Some(_), None) => true,
        _ => false,
    }
}

fn first_decision(entries: &[Entry]) -> Option<Ts> {
    entries
        .iter()
        .find(|e| matches!(e.event, Event::SeverityDecided(_)))
        .map(|e| e.ts)
}

/// Per inventory process: was it down, and when was it first online again.
fn restores(rb: &Runbook, entries: &[Entry], start: Ts, secs: impl Fn(Ts) -> i64) -> Vec<Restore> {
    let mut out = Vec::new();
    for d in &rb.inventory.deployment {
        for pattern in d.processes.get_ref() {
            let mut down_at: Option<Ts> = None;
            let mut restored: Option<Ts> = None;
            for e in entries.iter().filter(|e| e.ts >= start) {
                let up = match &e.event {
                    Event::Pm2Observation(o) => {
                        let hits: Vec<_> = o
                            .processes
                            .iter()
                            .filter(|p| {
                                if is_glob(pattern) {
                                    glob_match(pattern, &p.name)
                                } else {
                                    p.name == *pattern
                                }
                            })
                            .collect();
                        !hits.is_empty() && hits.iter().all(|p| p.is_online())
                    }
                    Event::DaemonState(s) if !s.alive => false,
                    _ => continue,
                };
                match (up, down_at, restored) {
                    (false, None, _) => down_at = Some(e.ts),
                    (true, Some(_), None) => restored = Some(e.ts),
                    _ => {}
                }
            }
            let name = if is_glob(pattern) {
                super::scenario::concrete_name(pattern)
            } else {
                pattern.clone()
            };
            out.push(Restore {
                rank: rb.inventory.restore_rank(&name),
                process: pattern.clone(),
                environment: d.environment,
                affected: down_at.is_some(),
                restored_after_secs: restored.map(&secs),
            });
        }
    }
    out
}

fn order(restores: &[Restore]) -> (Option<bool>, Vec<String>) {
    let affected: Vec<&Restore> = restores
        .iter()
        .filter(|r| r.affected && r.rank.is_some())
        .collect();
    if affected
        .iter()
        .filter(|r| r.restored_after_secs.is_some())
        .count()
        < 2
    {
        return (None, vec![]);
    }
    let mut notes = Vec::new();
    for a in &affected {
        for b in &affected {
            if a.rank >= b.rank {
                continue;
            }
            // `a` comes first in the runbook's order.
            if let Some(tb) = b.restored_after_secs {
                match a.restored_after_secs {
                    Some(ta) if ta <= tb => {}
                    Some(ta) => notes.push(format!(
                        "{} (priority {}) came back at {} but {} (priority {}) already at {}",
                        a.process,
                        rank1(a),
                        mmss(ta),
                        b.process,
                        rank1(b),
                        mmss(tb)
                    )),
                    None => notes.push(format!(
                        "{} was restored while {} (higher priority) was still down",
                        b.process, a.process
                    )),
                }
            }
        }
    }
    (Some(notes.is_empty()), notes)
}

fn rank1(r: &Restore) -> usize {
    r.rank.map(|x| x + 1).unwrap_or(0)
}

/// The verification gate: production healthy before the test environment is started.
fn gate(
    rb: &Runbook,
    entries: &[Entry],
    restores: &[Restore],
    start: Ts,
) -> (Option<bool>, String) {
    let seen = GateTimeline::of(entries, start, &test_names(rb));
    let at = |t: Ts| mmss((t - start).num_seconds());
    let Some(ts) = seen.test_started_at else {
        return no_test_start(seen.resurrected_at.map(at), restores);
    };
    match seen.prod_healthy_at {
        Some(h) if h <= ts => (
            Some(true),
            format!(
                "production was healthy at {} before test was started at {}",
                at(h),
                at(ts)
            ),
        ),
        Some(h) => (
            Some(false),
            format!(
                "test was started at {} before production was healthy (at {})",
                at(ts),
                at(h)
            ),
        ),
        None => (
            Some(false),
            format!(
                "test was started at {} and production was never seen healthy",
                at(ts)
            ),
        ),
    }
}

/// What a command naming the test environment contains: its process names and
/// its ecosystem file.
fn test_names(rb: &Runbook) -> Vec<String> {
    rb.inventory
        .deployment
        .iter()
        .filter(|d| d.environment == Environment::Test)
        .flat_map(|d| {
            d.processes
                .get_ref()
                .iter()
                .cloned()
                .chain(std::iter::once(d.config.clone()))
        })
        .collect()
}

/// The moments the gate compares, read from the journal from `start` on.
struct GateTimeline {
    /// Every production endpoint last seen up.
    prod_healthy_at: Option<Ts>,
    /// The first start of something in the test environment.
    test_started_at: Option<Ts>,
    /// `pm2 resurrect` over a dead daemon: the saved list comes back whole, the plan's
    /// way back.
    resurrected_at: Option<Ts>,
}

impl GateTimeline {
    fn of(entries: &[Entry], start: Ts, test_names: &[String]) -> Self {
        let mut prod: std::collections::BTreeMap<String, bool> = Default::default();
        let mut seen = GateTimeline {
            prod_healthy_at: None,
            test_started_at: None,
            resurrected_at: None,
        };
        let mut alive = true;
        for e in entries.iter().filter(|e| e.ts >= start) {
            match &e.event {
                Event::DaemonState(d) => alive = d.alive,
                Event::CommandStarted(c)
                    if !alive
                        && seen.test_started_at.is_none()
                        && c.text.contains("pm2 resurrect") =>
                {
                    seen.resurrected_at.get_or_insert(e.ts);
                }
                Event::HealthResult(h) if h.env == "production" => {
                    prod.insert(h.url.clone(), h.up);
                    if seen.prod_healthy_at.is_none() && prod.values().all(|u| *u) {
                        seen.prod_healthy_at = Some(e.ts);
                    }
                }
                Event::CommandStarted(c)
                    if seen.test_started_at.is_none() && starts_test(&c.text, test_names) =>
                {
                    seen.test_started_at = Some(e.ts);
                }
                _ => {}
            }
        }
        seen
    }
}

/// A command that starts, restarts, reloads or resurrects something of the test environment.
fn starts_test(text: &str, test_names: &[String]) -> bool {
    let starts = ["pm2 start", "pm2 restart", "pm2 reload", "pm2 resurrect"]
        .iter()
        .any(|w| text.contains(w));
    let test =
        text.contains("pm2 resurrect") || test_names.iter().any(|n| text.contains(n.as_str()));
    starts && test
}

/// The gate cannot be judged without a test start: say why (a resurrect at `resurrected`,
/// test back without a command, or test never started).
fn no_test_start(resurrected: Option<String>, restores: &[Restore]) -> (Option<bool>, String) {
    if let Some(r) = resurrected {
        return (
            None,
            format!(
                "`pm2 resurrect` at {r} brought production and test back together from the saved list (the way back from a dead daemon: no start to order)"
            ),
        );
    }
    let test_restored = restores
        .iter()
        .any(|r| r.environment == Environment::Test && r.restored_after_secs.is_some());
    if test_restored {
        return (
            None,
            "test processes came back without a recorded start command".into(),
        );
    }
    (None, "the test environment was not started".into())
}

pub fn mmss(s: i64) -> String {
    format!("{:02}:{:02}", s / 60, s % 60)
}

fn yes_no(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

impl Debrief {
    /// Markdown lines, for the TUI and the journal's report: a title and duration,
    /// then one section per thing judged.
    pub fn markdown(&self) -> Vec<String> {
        let mut l = vec![
            format!("# Drill debrief: {} ({})", self.title, self.scenario),
            String::new(),
        ];
        l.push(format!("Duration: {}", mmss(self.duration_secs)));
        l.push(String::new());
        self.severity_section(&mut l);
        l.push(String::new());
        self.restoration_section(&mut l);
        l.push(String::new());
        self.safety_section(&mut l);
        l.push(String::new());
        self.communication_section(&mut l);
        l.push(String::new());
        self.root_cause_section(&mut l);
        l
    }

    /// The severity called, when, and whether it was the scenario's.
    fn severity_section(&self, l: &mut Vec<String>) {
        l.push("## Severity".into());
        match &self.severity {
            Some(s) => l.push(format!(
                "- Called {} at {} (expected {}): {}{}",
                s.chosen,
                mmss(s.after_secs),
                s.expected,
                if s.correct { "correct" } else { "WRONG" },
                if s.overridden {
                    " (override of the proposal)"
                } else {
                    ""
                }
            )),
            None => l.push("- No severity was called".into()),
        }
    }

    /// Per process when it came back, the priority order and the verification gate.
    fn restoration_section(&self, l: &mut Vec<String>) {
        l.push("## Restoration".into());
        for r in &self.restores {
            let when = match (r.affected, r.restored_after_secs) {
                (false, _) => "not affected".to_string(),
                (true, Some(s)) => format!("restored at {}", mmss(s)),
                (true, None) => "NOT restored".to_string(),
            };
            l.push(format!(
                "- {} ({}): {when}",
                r.process,
                r.environment.as_str()
            ));
        }
        match self.priority_order_followed {
            Some(true) => l.push("- Restore priority order: followed".into()),
            Some(false) => {
                l.push("- Restore priority order: NOT followed".into());
                l.extend(self.order_notes.iter().map(|n| format!("  - {n}")));
            }
            None => l.push("- Restore priority order: nothing to compare".into()),
        }
        l.push(format!(
            "- Verification gate (production healthy before test): {} — {}",
            match self.gate_respected {
                Some(true) => "respected",
                Some(false) => "NOT respected",
                None => "n/a",
            },
            self.gate_note
        ));
    }

    /// Empty-daemon starts, refused and confirmed commands, and whether the initial
    /// state was kept before any change.
    fn safety_section(&self, l: &mut Vec<String>) {
        l.push("## Safety".into());
        if self.empty_daemon_starts.is_empty() {
            l.push("- No `pm2` command started an empty daemon over a dead one".into());
        }
        for (s, text, why) in &self.empty_daemon_starts {
            l.push(format!(
                "- {} `{text}` ran with the daemon down: {why}",
                mmss(*s)
            ));
        }
        l.push(format!(
            "- Dangerous commands refused: {}; caution commands confirmed: {}",
            self.dangerous.len(),
            self.cautions_confirmed.len()
        ));
        for (s, text, why) in &self.dangerous {
            l.push(format!("- {}: refused `{text}` — {why}", mmss(*s)));
        }
        for (s, text, why) in &self.cautions_confirmed {
            l.push(format!("- {}: confirmed `{text}` — {why}", mmss(*s)));
        }
        self.kept_state_lines(l);
    }

    /// When the dead daemon's evidence and the initial state were kept.
    fn kept_state_lines(&self, l: &mut Vec<String>) {
        let before = |b: bool| if b { "before" } else { "AFTER" };
        if let Some(s) = self.evidence_preserved_after_secs {
            l.push(format!(
                "- Evidence of the dead daemon preserved at {} ({} any change)",
                mmss(s),
                before(self.evidence_before_changes)
            ));
        }
        match (
            self.jlist_saved_after_secs,
            self.evidence_preserved_after_secs,
        ) {
            (Some(s), _) => l.push(format!(
                "- Initial state saved at {} ({} any change)",
                mmss(s),
                before(self.jlist_before_changes)
            )),
            // With the daemon dead the evidence is the initial state (`pm2 jlist` would
            // start an empty daemon).
            (None, Some(_)) => {}
            (None, None) => l.push(
                "- Initial state NOT saved (`pm2 jlist > /tmp/pm2-incident-....json`)".into(),
            ),
        }
    }

    /// Messages drafted and sent.
    fn communication_section(&self, l: &mut Vec<String>) {
        l.push("## Communication".into());
        l.push(format!(
            "- Drafted: {}; sent: {}",
            self.comms_drafted,
            self.comms_sent.len()
        ));
        for (s, ch, subj) in &self.comms_sent {
            l.push(format!("  - {} to {ch}: {subj}", mmss(*s)));
        }
    }

    /// The scenario's root cause and whether the trainee named it.
    fn root_cause_section(&self, l: &mut Vec<String>) {
        l.push("## Root cause".into());
        l.push(format!(
            "- Expected: {}; named: {}",
            self.expected_root_cause,
            yes_no(self.root_cause_named)
        ));
        if let Some(t) = &self.root_cause_text {
            l.push(format!("- Recorded: {t}"));
        }
    }
}
