//! Everything a communication says, gathered once from the runbook and the incident state.
//! Pure: the clock (`now`) and the promised update interval are passed in.
use super::actions::{self, CommandKind};
use super::sites::{self, Site};
use crate::incident::event::{ActionItem, CloseStatus, CommTemplate, Milestone, Severity, Ts};
use crate::incident::fold::exit_text;
use crate::incident::Incident;
use crate::runbook::model::Template;
use crate::runbook::{Environment, Runbook};
use chrono::Duration;

/// The runbook's status words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Investigating,
    Identified,
    Restoring,
    Resolved,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Investigating => "INVESTIGATING",
            Status::Identified => "IDENTIFIED",
            Status::Restoring => "RESTORING",
            Status::Resolved => "RESOLVED",
        }
    }
}

/// Something that happened, with when (to pick what is new since the last update).
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    pub at: Ts,
    pub text: String,
}

#[derive(Debug, Clone)]
pub struct CommsContext {
    pub now: Ts,
    /// Decided severity, else the proposed one.
    pub severity: Option<Severity>,
    pub status: Status,
    /// Deployment ids that were down at any point, sorted.
    pub affected: Vec<String>,
    /// Every inventory site, production first, then by host.
    pub sites: Vec<Site>,
    /// Detected milestone, else the incident's first event.
    pub detected_at: Option<Ts>,
    /// Resolved milestone, else the time the incident was closed as resolved.
    pub resolved_at: Option<Ts>,
    /// Downtime counts up to here: the resolution time, else `now`.
    pub downtime_until: Ts,
    /// Time any site was down (union of outages), `None` with no observation at all.
    pub total_downtime_secs: Option<i64>,
    /// State-changing commands, in the order they were started, with their outcome.
    pub actions: Vec<Item>,
    /// The responders' notes.
    pub discoveries: Vec<Item>,
    /// Sites that went down and are up again, with the processes now online for them.
    pub restored: Vec<Item>,
    pub root_cause: Option<String>,
    pub preventive_measure: Option<String>,
    pub users_affected: Option<String>,
    pub action_items: Vec<ActionItem>,
    /// When the last communication was sent ("since last update" starts here).
    pub last_sent_at: Option<Ts>,
    /// Status updates already sent + 1.
    pub update_number: u32,
    pub commander: Option<String>,
    pub next_update_minutes: u32,
    pub next_update_at: Ts,
    /// The runbook's communication templates, so filling needs nothing else.
    pub templates: Vec<Template>,
    /// Title and summary sentences from what was observed.
    pub summary: super::summary::Summary,
}

impl CommsContext {
    pub fn new(rb: &Runbook, inc: &Incident, now: Ts, next_update_minutes: u32) -> CommsContext {
        let sites = sites::sites(&rb.inventory, inc);
        let resolved_at = resolved_at(inc);
        let downtime_until = resolved_at.unwrap_or(now);
        let (actions, restore_ran) = actions_taken(rb, inc);
        let root_cause = trimmed(inc.root_cause.as_ref().map(|r| r.text.as_str()));
        let status = if resolved_at.is_some() {
            Status::Resolved
        } else if inc.severity.is_none() {
            Status::Investigating
        } else if restore_ran && !production_up(&sites) {
            Status::Restoring
        } else if root_cause.is_some() {
            Status::Identified
        } else {
            Status::Investigating
        };
        CommsContext {
            summary: super::summary::summarize(&rb.inventory, inc, &sites),
            now,
            severity: inc
                .severity
                .as_ref()
                .map(|s| s.value.severity)
                .or(inc.proposed.as_ref().map(|p| p.value.severity)),
            status,
            total_downtime_secs: sites::total_downtime_secs(&sites, downtime_until),
            affected: affected(&sites),
            restored: restored(rb, inc, &sites),
            sites,
            detected_at: inc
                .milestones
                .get(&Milestone::Detected)
                .copied()
                .or(inc.first_ts),
            resolved_at,
            downtime_until,
            actions,
            discoveries: discoveries(inc),
            root_cause,
            preventive_measure: trimmed(
                inc.root_cause
                    .as_ref()
                    .map(|r| r.preventive_measure.as_str()),
            ),
            users_affected: trimmed(Some(inc.impact.users_affected.as_str())),
            action_items: inc.action_items.clone(),
            last_sent_at: last_sent_at(inc),
            update_number: update_number(inc),
            commander: trimmed(inc.opened.as_ref().map(|o| o.value.commander.as_str())),
            next_update_minutes,
            next_update_at: now
                .checked_add_signed(Duration::minutes(i64::from(next_update_minutes)))
                .unwrap_or(now),
            templates: rb
                .procedure
                .steps()
                .flat_map(|(_, s)| s.template.iter().cloned())
                .collect(),
        }
    }

    pub fn template(&self, id: &str) -> Option<&Template> {
        self.templates.iter().find(|t| t.id.get_ref() == id)
    }

    /// Items that happened after the last sent communication (all of them before the first).
    pub fn since_last_update<'a>(&self, items: &'a [Item]) -> Vec<&'a Item> {
        items
            .iter()
            .filter(|i| self.last_sent_at.is_none_or(|t| i.at > t))
            .collect()
    }
}

/// Resolved milestone, else the time the incident was closed as resolved.
fn resolved_at(inc: &Incident) -> Option<Ts> {
    inc.milestones
        .get(&Milestone::Resolved)
        .copied()
        .or_else(|| {
            inc.closed
                .as_ref()
                .filter(|c| c.value.status == CloseStatus::Resolved)
                .map(|c| c.at)
        })
}

/// Deployment ids that were down at any point, sorted, each once.
fn affected(sites: &[Site]) -> Vec<String> {
    let mut affected: Vec<String> = sites
        .iter()
        .filter(|s| s.ever_down())
        .map(|s| s.deployment.clone())
        .collect();
    affected.sort();
    affected.dedup();
    affected
}

/// State-changing commands with their outcome, and whether any of them was a restore.
fn actions_taken(rb: &Runbook, inc: &Incident) -> (Vec<Item>, bool) {
    let mut actions = Vec::new();
    let mut restore_ran = false;
    for c in inc.commands.iter() {
        let kind = actions::kind(rb, &c.start.text, c.start.dir.as_deref());
        if kind == CommandKind::Read {
            continue;
        }
        restore_ran |= kind == CommandKind::Restore;
        let outcome = c
            .finished
            .as_ref()
            .map_or_else(|| "still running".to_string(), |(_, f)| exit_text(f));
        let dir = c
            .start
            .dir
            .as_deref()
            .map_or(String::new(), |d| format!(" in {d}"));
        actions.push(Item {
            at: c.started_at,
            text: format!("{}{dir} ({outcome})", one_line(&c.start.text)),
        });
    }
    (actions, restore_ran)
}

fn production_up(sites: &[Site]) -> bool {
    sites
        .iter()
        .filter(|s| s.environment == Environment::Production)
        .all(|s| s.up == Some(true))
}

/// Sites back up, with the processes now online for them, by time.
fn restored(rb: &Runbook, inc: &Incident, sites: &[Site]) -> Vec<Item> {
    let mut restored: Vec<Item> = sites
        .iter()
        .filter_map(|s| {
            let at = s.restored_at?;
            let procs: Vec<&str> = inc
                .processes
                .iter()
                .filter(|p| p.is_online())
                .filter(|p| {
                    rb.inventory
                        .deployment_of(&p.name)
                        .is_some_and(|d| d.id.get_ref() == &s.deployment)
                })
                .map(|p| p.name.as_str())
                .collect();
            let text = if procs.is_empty() {
                format!("{} is back UP", s.host)
            } else {
                format!("{} is back UP ({} online)", s.host, procs.join(", "))
            };
            Some(Item { at, text })
        })
        .collect();
    restored.sort_by(|a, b| (a.at, &a.text).cmp(&(b.at, &b.text)));
    restored
}

/// The responders' notes, each on one line (empty ones left out).
fn discoveries(inc: &Incident) -> Vec<Item> {
    inc.notes
        .iter()
        .map(|n| Item {
            at: n.at,
            text: one_line(&n.value.text),
        })
        .filter(|i| !i.text.is_empty())
        .collect()
}

fn last_sent_at(inc: &Incident) -> Option<Ts> {
    inc.comms
        .iter()
        .flat_map(|c| c.sent.iter().map(|(t, _)| *t))
        .max()
}

/// Status updates already sent + 1.
fn update_number(inc: &Incident) -> u32 {
    let sent = inc
        .comms
        .iter()
        .filter(|c| c.draft.template == CommTemplate::StatusUpdate && !c.sent.is_empty())
        .count();
    u32::try_from(sent).unwrap_or(u32::MAX).saturating_add(1)
}

/// A recorded text, trimmed; `None` when there is none or it is blank.
fn trimmed(s: Option<&str>) -> Option<String> {
    s.map(|t| t.trim().to_string()).filter(|t| !t.is_empty())
}

/// A journal text on one line (a multi-line note would break the list it goes into);
/// spacing inside a line is kept, as commands may depend on it.
fn one_line(s: &str) -> String {
    s.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}
