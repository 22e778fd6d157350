//! The app's state: the incident (from recorded events) plus what the screen needs.
use crate::pm2::DaemonKind;
use crate::runbook::model::StepRole;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use crate::assess::{self, plan::item_check, Assessment, Observation, Pm2View, RestorePlan};
use crate::guard::daemon::{DaemonObs, Listed, Pm2Context};
use crate::guard::GuardContext;
use crate::health::HealthResult;
use crate::incident::event::{Entry, Event, Stream, Ts};
use crate::incident::Incident;
use crate::pm2::Process;
use crate::runbook::{Risk, Runbook, Step};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppMode {
    Live,
    Drill,
    Replay,
}

impl AppMode {
    pub fn label(self) -> &'static str {
        match self {
            AppMode::Live => "LIVE",
            AppMode::Drill => "DRILL",
            AppMode::Replay => "REPLAY",
        }
    }
}

/// Panes, for narrow terminals that show one at a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    Runbook,
    Step,
    Pm2,
    Health,
}

impl Tab {
    pub const ALL: [Tab; 4] = [Tab::Runbook, Tab::Step, Tab::Pm2, Tab::Health];
    pub fn title(self) -> &'static str {
        match self {
            Tab::Runbook => "Runbook",
            Tab::Step => "Step",
            Tab::Pm2 => "PM2",
            Tab::Health => "Health",
        }
    }
}

/// What a single-line input is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InputKind {
    /// `:` ad-hoc command.
    Command,
    /// "P2 reason ..."
    Override,
    /// Reason to pass the restore gate before this plan item.
    Skip { plan_item: usize },
    /// Reason to skip the current runbook step.
    SkipStep,
    /// A post-incident record (root cause, why, action item, ...).
    Record(Record),
    /// Replay: jump to a time.
    GotoTime,
    /// Replay: find text in the events.
    Search,
}

impl InputKind {
    pub fn title(&self) -> &'static str {
        match self {
            InputKind::Command => "Run a command (guarded, journaled)",
            InputKind::Override => "Override severity: LEVEL REASON (e.g. P2 only the API is down)",
            InputKind::Skip { .. } => "Skip the restore gate: why?",
            InputKind::SkipStep => "Skip this runbook step: why?",
            InputKind::Record(r) => r.prompt(),
            InputKind::GotoTime => "Go to time (HH:MM[:SS] UTC)",
            InputKind::Search => "Search the events",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Popup {
    Help {
        scroll: usize,
    },
    Timeline {
        scroll: usize,
    },
    Input {
        kind: InputKind,
        text: String,
        error: Option<String>,
    },
    /// A caution command: the responder types `token` to run it.
    Confirm {
        text: String,
        dir: String,
        reason: String,
        targets: Vec<String>,
        token: String,
        typed: String,
    },
    /// A dangerous command: refused, with the runbook's explanation and the safe alternative.
    Refused {
        text: String,
        reason: String,
        alternative: Option<String>,
    },
    /// Quit while commands run.
    QuitConfirm,
    /// The communication editor (its text lives in `App::compose`).
    Compose,
    /// The note editor (a text area in `App::note`).
    Note,
    /// A drill's briefing: the page the trainee got.
    Briefing,
    /// A drill's debrief (Markdown lines) from row `scroll`; j/k scroll, q quits.
    Debrief {
        lines: Vec<String>,
        scroll: usize,
    },
}

/// A communication being written: the runbook's template, prefilled from the incident.
pub struct Compose {
    pub comm_id: u64,
    pub template: crate::incident::event::CommTemplate,
    pub subject: String,
    pub area: ratatui_textarea::TextArea<'static>,
}

impl Compose {
    pub fn body(&self) -> String {
        let mut b = self.area.lines().join("\n");
        b.push('\n');
        b
    }
}

/// Minutes promised for the next update when a message says nothing else (the runbook's 15).
pub const NEXT_UPDATE_MINUTES: u32 = 15;

/// Things the responder writes into the incident for the postmortem.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Record {
    Problem,
    Why,
    RootCause,
    Factor,
    WentWell,
    CouldImprove,
    ActionItem,
    /// Production restored and verified (no text needed).
    Mitigated,
    /// Close the incident as resolved, with what was done.
    Resolve,
}

impl Record {
    pub fn label(self) -> &'static str {
        match self {
            Record::Problem => "state the problem (5 whys)",
            Record::Why => "add the next why",
            Record::RootCause => "record the root cause",
            Record::Factor => "add a contributing factor",
            Record::WentWell => "lesson: what went well",
            Record::CouldImprove => "lesson: what could be improved",
            Record::ActionItem => "add an action item",
            Record::Mitigated => "mark mitigated: production restored and verified",
            Record::Resolve => "close the incident as resolved",
        }
    }

    pub fn prompt(self) -> &'static str {
        match self {
            Record::Problem => "Problem (e.g. All PM2 processes were killed during deployment)",
            Record::Why => "Why? (the next answer in the chain)",
            Record::RootCause => "Root cause | preventive measure (the part after | is optional)",
            Record::Factor => "Contributing factor",
            Record::WentWell => "What went well",
            Record::CouldImprove => "What could be improved",
            Record::ActionItem => "Action | owner | due date",
            Record::Mitigated => "",
            Record::Resolve => "Resolution: what was done to resolve the incident",
        }
    }

    /// The review records offered at a runbook step.
    pub fn at_step(role: Option<StepRole>) -> &'static [Record] {
        match role {
            Some(StepRole::VerificationChecklist) => &[Record::Mitigated],
            Some(StepRole::FiveWhys) => &[Record::Problem, Record::Why, Record::RootCause],
            Some(StepRole::ReportTemplate) => &[
                Record::Factor,
                Record::WentWell,
                Record::CouldImprove,
                Record::Resolve,
            ],
            Some(StepRole::ActionItems) => &[Record::ActionItem],
            _ => &[],
        }
    }
}

/// A selectable thing in the current step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepItem {
    /// Accept the proposed severity (the severity step).
    AcceptSeverity,
    /// Run every runnable read-only command of the step (information gathering).
    RunAll,
    /// A restore plan item (index into the assessment's plan).
    Plan(usize),
    /// A runbook command, rendered.
    Command {
        text: String,
        dir: Option<String>,
        runnable: bool,
        risk: Risk,
        purpose: String,
    },
    /// A checklist item of the step.
    Check {
        id: String,
        text: String,
        auto: bool,
    },
    /// One of the runbook's common root causes: Enter records it as this incident's.
    Cause {
        id: String,
        cause: String,
        prevention: String,
    },
    /// A post-incident record to write.
    Record(Record),
    /// Write one of the runbook's communications (template id).
    Compose(String),
    /// Stop one running deployment (index into `App::deploys`): typed confirmation.
    StopDeploy(usize),
    /// Cancel one of Gitea's running or waiting runs (index into its active runs).
    CancelRun(usize),
    /// Freeze deployments (writes the freeze file through `pm2-incident freeze on`).
    Freeze,
    /// Lift the freeze (`pm2-incident freeze off`).
    Unfreeze,
    /// A line of what the tool sees (or cannot see) about deployments; nothing to run.
    Info(String),
}

/// `respond --host`: the server commands run on, and the ssh link's state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteView {
    /// The ssh destination as given (`web1`, `deploy@10.0.0.5`).
    pub host: String,
    /// Why the link is down (`None`: up).
    pub link_down: Option<String>,
}

/// Facts about the terminal the UI runs in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TerminalEnv {
    /// Inside tmux: clipboard sequences must be wrapped to pass through it.
    pub in_tmux: bool,
}

pub struct App {
    pub rb: Arc<Runbook>,
    pub mode: AppMode,
    pub user: String,
    /// Working directory for commands that name none.
    pub cwd: String,
    /// Whether colours may be used (NO_COLOR unset).
    pub color: bool,
    /// What the terminal is (read once by the command that starts the UI: `update` reads no
    /// environment).
    pub terminal: TerminalEnv,
    pub incident: Incident,
    /// Events recorded but not yet handed to the journal.
    pub outbox: Vec<(Ts, Event)>,
    local_seq: u64,
    pub now: Ts,
    // What is observed now.
    /// The daemon's state as last read (`None`: not read yet).
    pub pm2_daemon: Option<DaemonKind>,
    pub pm2_detail: String,
    pub processes: Option<Vec<Process>>,
    /// PM2's saved list (`dump.pm2`); `None` until read.
    pub saved: Option<crate::pm2::SavedRead>,
    /// The user's live `node` processes, as last read (daemon not up).
    pub node_procs: Vec<crate::pm2::orphans::NodeProc>,
    /// Where the evidence was preserved, once it was.
    pub evidence: Option<String>,
    pub health: Vec<HealthResult>,
    pub assessment: Assessment,
    pub bus: Vec<String>,
    // UI.
    pub step: usize,
    pub selected: usize,
    pub popup: Option<Popup>,
    pub tab: Tab,
    /// The runbook pane's cursor while it has the focus (`None`: on the current step).
    pub rb_cursor: Option<super::runbook_nav::RbRow>,
    pub flash: Option<String>,
    pub quit: bool,
    pub dirty: bool,
    pub(crate) next_cmd_id: u64,
    pub running: BTreeSet<u64>,
    /// Output waiting to be recorded, per command (one event per command per frame).
    pub(crate) pending_output: BTreeMap<u64, Vec<(Stream, String)>>,
    /// Bounds the output lines journaled per command; the rest are counted.
    pub(crate) output_budget: crate::incident::output::OutputBudget,
    /// Plan gates the responder skipped, with the reason.
    pub skipped: BTreeMap<usize, String>,
    /// The restore plan as it stood when the severity was decided: items stay
    /// listed (and show done) as processes come back.
    pub frozen_plan: Option<RestorePlan>,
    /// Set in replay mode: the recorded journal and the cursor.
    pub replay: Option<super::replay::ReplayState>,
    /// Replay: the timeline chart is hidden.
    pub hide_strip: bool,
    pub compose: Option<Compose>,
    /// The note being written (multi-line).
    pub note: Option<ratatui_textarea::TextArea<'static>>,
    /// The journal's last write error, while it lasts (shown in the header).
    pub journal_error: Option<String>,
    /// Where exported communications are written (the journal's directory).
    pub export_dir: Option<String>,
    /// A drill's scenario (drill mode only).
    pub drill: Option<crate::drill::Scenario>,
    /// A drill on a real PM2 (`drill --sandbox`): where, and what was injected.
    pub sandbox: Option<crate::drill::sandbox::Brief>,
    /// Every entry recorded or restored, kept in drills for the debrief.
    pub history: Vec<Entry>,
    /// Deployments running on this server as last read (`None`: not read in this world).
    pub deploys: Option<Vec<crate::deploy::RunningDeploy>>,
    /// The deployment freeze as last read (`None`: not read).
    pub freeze: Option<crate::deploy::freeze::FreezeState>,
    /// The freeze file commands write (`None`: none configured and no state directory).
    pub freeze_file: Option<String>,
    /// Gitea's view (`None`: not asked in this world).
    pub gitea: Option<crate::deploy::GiteaView>,
    /// How commands name this program (`deploy-stop`, `freeze`).
    pub exe: String,
    /// Set when responding over ssh: where commands run (shown beside them).
    pub remote: Option<RemoteView>,
}

impl App {
    pub fn new(rb: Arc<Runbook>, mode: AppMode, user: &str, cwd: &str, now: Ts) -> App {
        // A responder starts at detection; the quick reference is one step back.
        let first = rb
            .procedure
            .steps()
            .position(|(p, _)| *p.id.get_ref() == "detection")
            .unwrap_or(0);
        let assessment = assess::assess(
            &rb,
            &Observation {
                pm2: Pm2View::Unreadable {
                    reason: "PM2 not read yet",
                },
                health: &[],
            },
        );
        App {
            rb,
            mode,
            user: user.to_string(),
            cwd: cwd.to_string(),
            color: true,
            terminal: TerminalEnv::default(),
            incident: Incident::default(),
            outbox: Vec::new(),
            local_seq: 0,
            now,
            pm2_daemon: None,
            pm2_detail: "PM2 not read yet".into(),
            processes: None,
            saved: None,
            node_procs: Vec::new(),
            evidence: None,
            health: Vec::new(),
            assessment,
            bus: Vec::new(),
            step: first,
            selected: 0,
            popup: None,
            tab: Tab::Step,
            rb_cursor: None,
            flash: None,
            quit: false,
            dirty: true,
            next_cmd_id: 1,
            running: BTreeSet::new(),
            pending_output: BTreeMap::new(),
            output_budget: crate::incident::output::OutputBudget::new(
                crate::incident::fold::OUTPUT_LINE_LIMIT,
            ),
            skipped: BTreeMap::new(),
            frozen_plan: None,
            replay: None,
            hide_strip: false,
            compose: None,
            note: None,
            journal_error: None,
            export_dir: None,
            drill: None,
            sandbox: None,
            history: Vec::new(),
            deploys: None,
            freeze: None,
            freeze_file: None,
            gitea: None,
            exe: "pm2-incident".into(),
            remote: None,
        }
    }

    /// Where a command in `dir` runs, as shown before it runs: `in DIR`, or over ssh
    /// `on HOST, in DIR`.
    pub fn run_location(&self, dir: &str) -> String {
        match &self.remote {
            Some(r) => format!("on {}, in {dir}", r.host),
            None => format!("in {dir}"),
        }
    }

    /// Record an event: applied to the incident now, queued for the journal.
    /// The runtime drew the current state: nothing to draw until the next change.
    pub fn drawn(&mut self) {
        self.dirty = false;
    }

    pub fn record(&mut self, event: Event) {
        // Replay is read-only: nothing is recorded.
        if self.mode == AppMode::Replay {
            return;
        }
        self.local_seq += 1;
        let entry = Entry {
            seq: self.local_seq,
            ts: self.now,
            event,
        };
        self.incident.apply(&entry);
        if self.drill.is_some() {
            self.history.push(entry.clone());
        }
        self.outbox.push((self.now, entry.event));
        self.dirty = true;
    }

    /// Rebuild from journal entries already on disk (resume), continuing their numbering.
    pub fn restore(&mut self, entries: &[Entry]) {
        if self.drill.is_some() {
            self.history.extend(entries.iter().cloned());
        }
        for e in entries {
            self.incident.apply(e);
            self.local_seq = self.local_seq.max(e.seq);
            if let Event::CommandStarted(c) = &e.event {
                self.next_cmd_id = self.next_cmd_id.max(c.cmd_id + 1);
            }
        }
        if let Some(cur) = self.incident.current_step.clone() {
            if let Some(i) = self.steps().iter().position(|s| *s.id.get_ref() == cur) {
                self.step = i;
            }
        }
    }

    pub fn steps(&self) -> Vec<&Step> {
        self.rb.procedure.steps().map(|(_, s)| s).collect()
    }

    /// The incident's id as opened, if it was.
    pub fn incident_id(&self) -> Option<&str> {
        self.incident
            .opened
            .as_ref()
            .map(|o| o.value.incident_id.as_str())
    }

    /// Where files this session writes go: the journal's directory, else the working one.
    pub fn export_base(&self) -> String {
        self.export_dir.clone().unwrap_or_else(|| self.cwd.clone())
    }

    pub fn current_step(&self) -> &Step {
        let steps: Vec<&Step> = self.rb.procedure.steps().map(|(_, s)| s).collect();
        steps[self.step.min(steps.len() - 1)]
    }

    pub fn step_done(&self, id: &str) -> bool {
        self.incident.step_state(id) == crate::incident::fold::StepState::Done
    }

    /// Whether PM2 has been read at all (a process list or the daemon's state).
    pub fn observed(&self) -> bool {
        self.processes.is_some() || self.pm2_daemon.is_some()
    }

    pub fn step_state(&self, id: &str) -> crate::incident::fold::StepState {
        self.incident.step_state(id)
    }

    /// The command whose output the step pane shows (index into the incident's commands): the
    /// selected command's last run; else (nothing selected that runs) the latest command; else
    /// whatever is still running.
    pub fn shown_command(&self) -> Option<usize> {
        let selected = match self.items().get(self.selected) {
            Some(StepItem::Command { text, .. }) => Some(text.clone()),
            Some(StepItem::Plan(i)) => self.plan().items.get(*i).map(|p| p.command.clone()),
            _ => None,
        };
        let cmds = &self.incident.commands;
        let latest = cmds.len().checked_sub(1);
        let run = selected.as_ref().and_then(|t| {
            cmds.iter()
                .rev()
                .position(|c| &c.start.text == t)
                .map(|back| cmds.len() - 1 - back)
        });
        run.or(match selected {
            None => latest,
            Some(_) => latest.filter(|&i| cmds.get(i).is_some_and(|c| c.finished.is_none())),
        })
    }

    /// The selectable items of the current step, in display order.
    pub fn items(&self) -> Vec<StepItem> {
        let step = self.current_step();
        let mut items = Vec::new();
        if step.has_role(StepRole::ClassifySeverity) {
            items.push(StepItem::AcceptSeverity);
        }
        items.extend(super::deploy_items::before(self, step.id.get_ref()));
        let reads = step
            .command
            .iter()
            .filter(|c| c.runnable && c.effect == crate::runbook::Effect::Read)
            .count();
        if reads >= 3
            && step
                .command
                .iter()
                .all(|c| c.effect == crate::runbook::Effect::Read)
        {
            items.push(StepItem::RunAll);
        }
        if step.scenario.is_some() || step.has_role(StepRole::RestorationOrder) {
            items.extend((0..self.plan().items.len()).map(StepItem::Plan));
        }
        for c in &step.command {
            items.push(StepItem::Command {
                text: self.rb.render(c.run.get_ref()),
                dir: c.dir.as_ref().map(|d| self.rb.render(d.get_ref())),
                runnable: c.runnable,
                risk: c.risk,
                purpose: c.purpose.clone(),
            });
        }
        for q in &step.question {
            items.push(StepItem::Command {
                text: self.rb.render(q.run.get_ref()),
                dir: None,
                runnable: true,
                risk: Risk::Safe,
                purpose: q.question.clone(),
            });
        }
        for c in &step.checklist {
            items.push(StepItem::Check {
                id: c.id.get_ref().clone(),
                text: c.text.clone(),
                auto: c.predicate.is_some(),
            });
        }
        for r in &step.root_cause {
            items.push(StepItem::Cause {
                id: r.id.get_ref().clone(),
                cause: r.cause.clone(),
                prevention: r.prevention.clone(),
            });
        }
        items.extend(
            Record::at_step(step.role.as_ref().map(|r| *r.get_ref()))
                .iter()
                .map(|r| StepItem::Record(*r)),
        );
        for t in &step.template {
            if crate::comms::comm_template(t.id.get_ref()).is_some() {
                items.push(StepItem::Compose(t.id.get_ref().clone()));
            }
        }
        items.extend(super::deploy_items::after(self, step.id.get_ref()));
        items
    }

    /// The guard's view: the inventory's names, and the incident's scope once a
    /// severity is decided (the processes of the affected deployments).
    pub fn guard_context(&self) -> GuardContext {
        let known = self.rb.inventory.process_patterns();
        let scope = self.incident.severity.as_ref().map(|_| {
            let affected: Vec<String> = self
                .assessment
                .scope
                .affected()
                .flat_map(|d| {
                    self.rb
                        .inventory
                        .deployment(&d.id)
                        .map(|dep| dep.processes.get_ref().clone())
                        .unwrap_or_default()
                })
                .collect();
            if affected.is_empty() {
                known.clone()
            } else {
                affected
            }
        });
        GuardContext {
            known_processes: known,
            scope,
            pm2: Some(self.pm2_context()),
        }
    }

    /// What the guard knows of PM2 now: the daemon, the saved list and what runs.
    pub fn pm2_context(&self) -> Pm2Context {
        use crate::pm2::SavedRead;
        Pm2Context {
            daemon: self.pm2_daemon.map(DaemonObs::from_kind),
            saved: match &self.saved {
                Some(SavedRead::Read(l)) => Some(l.apps()),
                Some(SavedRead::Missing { .. }) => Some(vec![]),
                Some(SavedRead::Unreadable { .. }) | None => None,
            },
            listed: self.processes.as_ref().map(|l| {
                l.iter()
                    .map(|p| Listed {
                        name: p.name.clone(),
                        online: p.status == crate::pm2::ProcessStatus::Online,
                    })
                    .collect()
            }),
            alternative: self.daemon_down_alternative(),
        }
    }

    /// The PM2 pane's saved-list line and which expected processes it lacks.
    pub fn saved_list_lines(&self) -> Vec<String> {
        use crate::pm2::SavedRead;
        match &self.saved {
            None => vec!["saved list: not read yet".into()],
            Some(SavedRead::Missing { .. }) => {
                vec!["saved list: none (no dump.pm2; `pm2 resurrect` restores nothing)".into()]
            }
            Some(SavedRead::Unreadable { reason, .. }) => {
                vec![format!("saved list: cannot tell ({reason})")]
            }
            Some(SavedRead::Read(l)) => {
                let apps = l.apps();
                let mut out = vec![format!(
                    "saved list: {} apps, {}",
                    apps.len(),
                    l.age_label(self.now.timestamp_millis())
                )];
                let missing: Vec<String> = self
                    .rb
                    .inventory
                    .process_patterns()
                    .into_iter()
                    .filter(|pat| {
                        !apps
                            .iter()
                            .any(|a| crate::runbook::inventory::glob_match(pat, a))
                    })
                    .collect();
                if !missing.is_empty() {
                    out.push(format!("not in it: {}", missing.join(", ")));
                }
                out
            }
        }
    }

    /// The effect that preserves PM2's evidence into a new directory beside the journal.
    pub fn preserve_effect(&mut self) -> Vec<crate::app::Effect> {
        if self.mode == AppMode::Replay {
            self.flash = Some("replay: nothing to preserve".into());
            return vec![];
        }
        let base = self.export_base();
        let id = self.incident_id().unwrap_or("incident").to_string();
        let dir = crate::evidence::evidence_dir(std::path::Path::new(&base), &id, self.now);
        self.flash = Some(format!("preserving PM2 evidence into {}", dir.display()));
        vec![crate::app::Effect::PreserveEvidence {
            dir: dir.display().to_string(),
        }]
    }

    /// Instead of a `pm2` command that would start an empty daemon: keep the evidence,
    /// then the restore plan's first step.
    pub fn daemon_down_alternative(&self) -> Option<String> {
        let first = self
            .plan()
            .items
            .first()
            .map(|i| format!("`{}`", i.command));
        let keep = match (&self.evidence, &self.remote) {
            (Some(d), _) => format!("evidence kept in {d}"),
            (None, Some(r)) => format!(
                "press E to copy the evidence from {} first (pm2.log, dump.pm2, pid, orphans)",
                r.host
            ),
            (None, None) => {
                "press E to preserve the evidence (pm2.log, dump.pm2, pid, orphans) first".into()
            }
        };
        Some(match first {
            Some(c) => format!("{keep}; then the restore plan: {c}"),
            None => keep.to_string(),
        })
    }

    /// Why plan item `i` may not run yet: an earlier production item whose check does
    /// not hold and was not skipped (the runbook's "verify production before continuing").
    pub fn gate_blocking(&self, i: usize) -> Option<String> {
        let plan = &self.plan().items;
        for (j, earlier) in plan.iter().enumerate().take(i) {
            if earlier.verify_before_next
                && !self.skipped.contains_key(&j)
                && earlier.deployment != plan[i].deployment
            {
                let v = item_check(earlier, &self.assessment.scope);
                if v.holds != Some(true) {
                    return Some(format!(
                        "verify {} first: {} (s to skip with a reason)",
                        earlier.deployment,
                        v.reasons.join(", ")
                    ));
                }
            }
        }
        None
    }

    /// The plan the responder works through: frozen at the severity decision, live before it.
    pub fn plan(&self) -> &RestorePlan {
        match &self.frozen_plan {
            Some(p) if !p.items.is_empty() => p,
            _ => &self.assessment.plan,
        }
    }

    /// Elapsed since the incident opened.
    pub fn elapsed_secs(&self) -> i64 {
        self.incident
            .first_ts
            .map(|t| (self.now - t).num_seconds().max(0))
            .unwrap_or(0)
    }
}
