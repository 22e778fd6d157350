//! `App::update`: every message changes state and may ask for effects; no I/O.
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::convert;
use super::keymap::{Action, MAIN};
use super::msg::{Effect, Msg};
use super::state::{App, AppMode, InputKind, Popup, Record, StepItem, Tab, NEXT_UPDATE_MINUTES};
use crate::assess::{self, Level, Observation, Pm2View};
use crate::guard::{classify, Class};
use crate::incident::change::{health_changed, processes_changed};
use crate::incident::event::{
    self as ev, CommandFinished, CommandStarted, Event, GuardRefused, GuardVerdict, Note,
    OutputLines, Override, SeverityDecided, SeverityProposed, StepRef, Ts,
};
use crate::pm2::Reading;
use crate::runbook::Risk;

impl App {
    pub fn update(&mut self, msg: Msg, now: Ts) -> Vec<Effect> {
        let fx = self.handle(msg, now);
        // A replayed file keeps command output in the journal: read back what is on screen.
        self.read_shown_output();
        fx
    }

    fn handle(&mut self, msg: Msg, now: Ts) -> Vec<Effect> {
        // Replay's clock is the journal's, set by the cursor.
        if self.mode != AppMode::Replay {
            self.now = now;
        }
        match msg {
            Msg::Key(k) => return self.key(k),
            Msg::Resize => self.dirty = true,
            Msg::Interrupted(reason) => {
                self.record(Event::Interrupted(ev::Interrupted { reason }));
                self.quit = true;
            }
            Msg::WriteFailed { path, error } => {
                self.flash = Some(format!("cannot write {path}: {error}"));
                self.dirty = true;
            }
            Msg::Tick => {
                self.replay_tick(1);
                self.dirty = true;
            }
            Msg::Appended(entries) => self.replay_append(entries),
            Msg::Indexed(p) => self.replay_indexed(p),
            Msg::Pm2(snap) => self.on_pm2(snap),
            Msg::Pm2Bus {
                process,
                event,
                detail,
            } => return self.on_bus(process, event, detail, now),
            Msg::Health(results) => self.on_health(results),
            Msg::Deploys(_)
            | Msg::Freeze(_)
            | Msg::Gitea(_)
            | Msg::NodeProcesses(_)
            | Msg::Saved(_)
            | Msg::Link { .. } => self.on_surroundings(msg),
            Msg::Evidence(kept) => self.on_evidence(kept),
            Msg::Output {
                cmd_id,
                stream,
                line,
            } => {
                self.pending_output
                    .entry(cmd_id)
                    .or_default()
                    .push((stream, line));
                self.dirty = true;
            }
            Msg::Finished {
                cmd_id,
                exit_code,
                signal,
                duration_ms,
                timed_out,
            } => {
                self.flush_output();
                self.running.remove(&cmd_id);
                let dropped = self.output_budget.dropped(cmd_id);
                self.record(Event::CommandFinished(CommandFinished {
                    cmd_id,
                    exit_code,
                    signal,
                    duration_ms,
                    output_lines_dropped: dropped,
                    timed_out,
                }));
                let mut effects = vec![Effect::RefreshNow];
                effects.extend(self.quit_if_confirm_outlived());
                return effects;
            }
            Msg::SpawnFailed { cmd_id, error } => return self.on_spawn_failed(cmd_id, error),
            Msg::JournalError(e) => self.on_journal_error(e),
            Msg::WebhookPosted { comm_id, outcome } => {
                self.webhook_posted(comm_id, outcome);
                self.dirty = true;
            }
        }
        vec![]
    }

    /// What surrounds PM2 on the server: running deployments, the freeze, Gitea, Node processes
    /// outside PM2, the saved list, the ssh link. Redrawn (and re-assessed) only on a change.
    fn on_surroundings(&mut self, msg: Msg) {
        match msg {
            Msg::Deploys(d) => self.deploys = Some(d),
            Msg::Freeze(f) => self.freeze = Some(f),
            Msg::Gitea(g) => self.gitea = Some(g),
            Msg::NodeProcesses(procs) => {
                if self.node_procs == procs {
                    return;
                }
                self.node_procs = procs;
                self.reassess();
            }
            Msg::Saved(saved) => {
                if self.saved.as_ref() == Some(&saved) {
                    return;
                }
                self.saved = Some(saved);
                self.reassess();
            }
            Msg::Link { up, detail } => {
                let Some(r) = &mut self.remote else { return };
                let down = (!up).then_some(detail);
                if r.link_down == down {
                    return;
                }
                r.link_down = down;
            }
            _ => return,
        }
        self.dirty = true;
    }

    /// A PM2 bus event: journaled, shown as the last event, and a fresh read asked for (a
    /// process changed: look again now rather than at the next poll).
    fn on_bus(&mut self, process: String, event: String, detail: String, now: Ts) -> Vec<Effect> {
        self.record(Event::Pm2Event(ev::Pm2Event {
            process: process.clone(),
            pm_id: None,
            event: event.clone(),
            detail,
        }));
        self.bus
            .push(format!("{} {process} {event}", now.format("%H:%M:%S")));
        if self.bus.len() > 50 {
            self.bus.remove(0);
        }
        vec![Effect::RefreshNow]
    }

    fn on_evidence(&mut self, kept: Result<ev::EvidencePreserved, String>) {
        match kept {
            Ok(rec) => {
                self.flash = Some(format!(
                    "evidence kept in {} ({} files, hashes journaled)",
                    rec.dir,
                    rec.files.len()
                ));
                self.evidence = Some(rec.dir.clone());
                self.record(Event::EvidencePreserved(rec));
            }
            Err(e) => {
                self.flash = Some(format!("evidence NOT preserved: {e}"));
                self.dirty = true;
            }
        }
    }

    /// A command that never started: its error is its output, exit 127 as a shell says.
    fn on_spawn_failed(&mut self, cmd_id: u64, error: String) -> Vec<Effect> {
        self.running.remove(&cmd_id);
        self.pending_output
            .entry(cmd_id)
            .or_default()
            .push((ev::Stream::Stderr, format!("pm2-incident: {error}")));
        self.flush_output();
        self.record(Event::CommandFinished(CommandFinished {
            cmd_id,
            exit_code: Some(127),
            signal: None,
            duration_ms: 0,
            output_lines_dropped: 0,
            timed_out: false,
        }));
        self.quit_if_confirm_outlived()
    }

    /// The journal writer's state: an error (events kept in memory), or empty when it writes again.
    fn on_journal_error(&mut self, e: String) {
        if e.is_empty() {
            self.journal_error = None;
            self.flash = Some("journal writing again; queued events written".into());
        } else {
            self.flash = Some(format!("JOURNAL NOT WRITING: {e} (events kept in memory)"));
            self.journal_error = Some(e);
        }
        self.dirty = true;
    }

    /// Record buffered output lines, one event per command and stream run, bounded per command.
    pub fn flush_output(&mut self) {
        let pending = std::mem::take(&mut self.pending_output);
        for (cmd_id, lines) in pending {
            let mut runs: Vec<(ev::Stream, Vec<String>)> = Vec::new();
            for (stream, line) in lines {
                match runs.last_mut() {
                    Some((s, v)) if *s == stream => v.push(line),
                    _ => runs.push((stream, vec![line])),
                }
            }
            for (stream, lines) in runs {
                let lines = self.output_budget.admit(cmd_id, lines);
                if !lines.is_empty() {
                    self.record(Event::OutputLines(OutputLines {
                        cmd_id,
                        stream,
                        lines,
                    }));
                }
            }
        }
    }

    fn on_pm2(&mut self, snap: Reading) {
        let kind = snap.kind();
        let detail = snap.detail();
        if self.pm2_daemon != Some(kind) || detail != self.pm2_detail {
            self.record(Event::DaemonState(ev::DaemonState::new(
                kind,
                detail.clone(),
            )));
        }
        self.pm2_daemon = Some(kind);
        self.pm2_detail = detail;
        let rows = |p: &Option<Vec<crate::pm2::Process>>| -> Option<Vec<ev::ProcessRow>> {
            p.as_ref()
                .map(|l| l.iter().map(convert::process_row).collect())
        };
        let new_rows = rows(&snap.processes);
        // Journal an observation only when what matters changed (not cpu/memory jitter).
        if let Some(rows) = &new_rows {
            if self.incident.observations == 0 || processes_changed(&self.incident.processes, rows)
            {
                self.record(Event::Pm2Observation(ev::Observation {
                    source: "rpc".into(),
                    processes: rows.clone(),
                }));
            }
        } else if kind.is_down() && !self.incident.processes.is_empty() {
            self.record(Event::Pm2Observation(ev::Observation {
                source: "rpc".into(),
                processes: vec![],
            }));
        }
        // Redraw only for what the screen shows (recording marks the screen dirty too):
        // an idle incident over a slow SSH link should cost the clock and little else.
        if self.processes.is_some() != snap.processes.is_some() {
            self.dirty = true;
        }
        self.processes = snap.processes;
        self.reassess();
    }

    fn on_health(&mut self, results: Vec<crate::health::HealthResult>) {
        for h in &results {
            let row = convert::health_row(h);
            if health_changed(self.incident.health.get(&row.url).map(|t| &t.value), &row) {
                self.record(Event::HealthResult(row));
            }
        }
        let shown = |r: &[crate::health::HealthResult]| -> Vec<(String, String, Option<String>)> {
            r.iter()
                .map(|h| {
                    (
                        h.target.url.clone(),
                        h.verdict.label(),
                        crate::health::slow_label(h.latency_ms),
                    )
                })
                .collect()
        };
        if shown(&self.health) != shown(&results) {
            self.dirty = true;
        }
        self.health = results;
        self.reassess();
    }

    /// Assess what is shown without recording anything (replay).
    pub fn reassess_quietly(&mut self) {
        let view =
            Pm2View::from_parts(self.processes.as_deref(), self.pm2_daemon, &self.pm2_detail);
        // The saved list counts too: an inventory that neither runs nor is saved here is
        // foreign even while the daemon is down (never a false "everything missing" P1).
        let saved: Vec<String> = match &self.saved {
            Some(crate::pm2::SavedRead::Read(l)) => l.apps(),
            _ => vec![],
        };
        self.assessment = assess::assess_with_saved(
            &self.rb,
            &Observation {
                pm2: view,
                health: &self.health,
            },
            &saved,
        );
        let down = matches!(
            self.pm2_daemon
                .map(crate::guard::daemon::DaemonObs::from_kind),
            Some(
                crate::guard::daemon::DaemonObs::Died | crate::guard::daemon::DaemonObs::NotRunning
            )
        );
        if down {
            let facts = assess::daemon_plan::DaemonFacts {
                saved: self.saved.as_ref(),
                node_procs: &self.node_procs,
                now_ms: self.now.timestamp_millis(),
            };
            let a = &mut self.assessment;
            assess::daemon_plan::adjust_for_dead_daemon(&self.rb, &a.scope, &mut a.plan, facts);
        }
    }

    /// Assess, and journal the proposed severity when it changed.
    fn reassess(&mut self) {
        self.reassess_quietly();
        // Nothing is known before PM2 has been read: no proposal from an empty picture.
        if !self.observed() {
            return;
        }
        let call = &self.assessment.severity;
        if let Some(sev) = convert::severity(call) {
            let path = convert::decision_path(call);
            // A proposal is journaled when the severity changes, not at every observation.
            let same = self
                .incident
                .proposed
                .as_ref()
                .map(|p| p.value.severity == sev);
            if same != Some(true) {
                self.record(Event::SeverityProposed(SeverityProposed {
                    severity: sev,
                    path,
                }));
            }
        }
    }

    fn key(&mut self, k: KeyEvent) -> Vec<Effect> {
        self.dirty = true;
        self.flash = None;
        if self.popup.is_some() {
            return self.popup_key(k);
        }
        if self.mode == AppMode::Replay {
            return self.replay_key(k);
        }
        // The focused runbook pane reads its own keys (Tab and the rest fall through).
        if self.tab == Tab::Runbook {
            if let Some(a) = super::keymap::RUNBOOK.action_for(&k) {
                self.runbook_key(a);
                return vec![];
            }
        }
        let Some(action) = MAIN.action_for(&k) else {
            return vec![];
        };
        let n_items = self.items().len();
        match action {
            Action::Down => self.selected = (self.selected + 1).min(n_items.saturating_sub(1)),
            Action::Up => self.selected = self.selected.saturating_sub(1),
            Action::NextStep => self.move_step(1),
            Action::PrevStep => self.move_step(-1),
            Action::Activate => return self.activate(),
            Action::Override => self.open_input(InputKind::Override),
            Action::Tick => self.tick_selected(),
            Action::Skip => {
                if let Some(StepItem::Plan(i)) = self.items().get(self.selected).cloned() {
                    self.open_input(InputKind::Skip { plan_item: i });
                } else {
                    self.flash = Some("select a restore plan item to skip its gate".into());
                }
            }
            Action::SkipStep => self.open_input(InputKind::SkipStep),
            Action::Prompt => self.open_input(InputKind::Command),
            Action::Note => {
                self.note = Some(ratatui_textarea::TextArea::default());
                self.popup = Some(Popup::Note);
            }
            Action::Timeline => self.popup = Some(Popup::Timeline { scroll: 0 }),
            Action::Help => self.popup = Some(Popup::Help { scroll: 0 }),
            Action::Cancel => {
                let effects: Vec<Effect> = self
                    .running
                    .iter()
                    .map(|&cmd_id| Effect::Cancel { cmd_id })
                    .collect();
                if effects.is_empty() {
                    self.flash = Some("nothing running (q quits)".into());
                }
                return effects;
            }
            Action::NextTab => {
                let i = Tab::ALL.iter().position(|t| *t == self.tab).unwrap_or(0);
                self.tab = Tab::ALL[(i + 1) % Tab::ALL.len()];
                if self.tab == Tab::Runbook {
                    self.focus_runbook();
                }
            }
            Action::FocusRunbook => self.focus_runbook(),
            Action::Tab(i) => {
                self.tab = Tab::ALL[(i as usize).min(3)];
                if self.tab == Tab::Runbook {
                    self.focus_runbook();
                }
            }
            Action::Preserve => return self.preserve_effect(),
            Action::Quit => {
                if self.drill.is_some() {
                    self.show_debrief();
                } else if self.running.is_empty() {
                    return self.quit_now();
                } else {
                    self.popup = Some(Popup::QuitConfirm);
                }
            }
        }
        vec![]
    }

    /// The quit confirmation exists only because commands were running: once the last one has
    /// ended, the quit the responder asked for goes ahead instead of waiting on "0 running".
    fn quit_if_confirm_outlived(&mut self) -> Vec<Effect> {
        if matches!(self.popup, Some(Popup::QuitConfirm)) && self.running.is_empty() {
            self.popup = None;
            return self.quit_now();
        }
        vec![]
    }

    fn quit_now(&mut self) -> Vec<Effect> {
        self.quit = true;
        let mut effects: Vec<Effect> = self
            .running
            .iter()
            .map(|&cmd_id| Effect::Cancel { cmd_id })
            .collect();
        effects.push(Effect::Quit);
        effects
    }

    fn open_input(&mut self, kind: InputKind) {
        self.popup = Some(Popup::Input {
            kind,
            text: String::new(),
            error: None,
        });
    }

    fn move_step(&mut self, delta: i64) {
        let n = self.steps().len() as i64;
        let to = (self.step as i64 + delta).clamp(0, n - 1) as usize;
        self.go_to_step_index(to);
    }

    /// Leave the current step for step `to` (an index in `steps()`), journaling both.
    pub fn go_to_step_index(&mut self, to: usize) {
        let to = to.min(self.steps().len().saturating_sub(1));
        if to == self.step {
            return;
        }
        // Leaving says only that: the fold knows what was run, ticked or decided here.
        self.record(Event::StepLeft(self.current_ref()));
        self.step = to;
        self.selected = 0;
        let next = self.current_step();
        let next_ref = StepRef {
            step: next.id.get_ref().clone(),
            title: next.title.clone(),
        };
        self.record(Event::StepEntered(next_ref));
        self.tab = Tab::Step;
    }

    /// End of a drill: the debrief, shown and journaled (as a note, so `report` has it).
    pub fn show_debrief(&mut self) {
        let Some(scenario) = self.drill.clone() else {
            return;
        };
        let lines = crate::drill::debrief(&scenario, &self.rb, &self.history, self.now).markdown();
        self.record(Event::Note(Note {
            author: "drill".into(),
            text: lines.join("\n"),
        }));
        self.popup = Some(Popup::Debrief { lines, scroll: 0 });
    }

    /// The first severity decision acknowledges the incident (for time-to-acknowledge).
    fn acknowledge(&mut self) {
        if !self
            .incident
            .milestones
            .contains_key(&ev::Milestone::Acknowledged)
        {
            self.record(Event::Milestone(ev::MilestoneReached {
                milestone: ev::Milestone::Acknowledged,
                at: None,
                source: self.user.clone(),
            }));
        }
    }

    fn current_ref(&self) -> StepRef {
        let s = self.current_step();
        StepRef {
            step: s.id.get_ref().clone(),
            title: s.title.clone(),
        }
    }

    /// Enter the current step (the first step on a new incident).
    pub fn enter_current_step(&mut self) {
        let s = self.current_step();
        let r = StepRef {
            step: s.id.get_ref().clone(),
            title: s.title.clone(),
        };
        self.record(Event::StepEntered(r));
    }

    fn tick_selected(&mut self) {
        match self.items().get(self.selected).cloned() {
            Some(StepItem::Check {
                id, auto: false, ..
            }) => {
                let checked = !self.incident.checklist.get(&id).copied().unwrap_or(false);
                self.record(Event::ChecklistTicked(ev::ChecklistTicked {
                    item: id,
                    checked,
                    by: self.user.clone(),
                }));
            }
            Some(StepItem::Check { auto: true, .. }) => {
                self.flash = Some("this item ticks itself from live state".into());
            }
            _ => self.flash = Some("select a checklist item to tick".into()),
        }
    }

    fn activate(&mut self) -> Vec<Effect> {
        match self.items().get(self.selected).cloned() {
            Some(StepItem::AcceptSeverity) => {
                self.accept_severity();
                vec![]
            }
            Some(StepItem::RunAll) => self.run_all_safe(),
            Some(StepItem::Plan(i)) => {
                if let Some(why) = self.gate_blocking(i) {
                    self.flash = Some(why);
                    return vec![];
                }
                let item = self.plan().items[i].clone();
                self.guarded_run(item.command, item.dir)
            }
            Some(StepItem::Command {
                text,
                dir,
                runnable,
                risk,
                ..
            }) => self.runbook_command(text, dir, runnable, risk),
            Some(StepItem::Check { .. }) => {
                self.tick_selected();
                vec![]
            }
            Some(StepItem::StopDeploy(i)) => self.confirm_stop_deploy(i),
            Some(StepItem::CancelRun(i)) => {
                self.confirm_cancel_run(i);
                vec![]
            }
            Some(StepItem::Freeze) => match super::deploy_items::freeze_command(self, true) {
                Some(cmd) => self.guarded_run(cmd, None),
                None => {
                    self.flash =
                        Some("no freeze file: set deploy.freeze_file in the inventory".into());
                    vec![]
                }
            },
            Some(StepItem::Unfreeze) => match super::deploy_items::freeze_command(self, false) {
                Some(cmd) => self.guarded_run(cmd, None),
                None => vec![],
            },
            Some(StepItem::Info(_)) => vec![],
            Some(StepItem::Cause {
                cause, prevention, ..
            }) => {
                self.record(Event::RootCause(ev::RootCause {
                    text: cause.clone(),
                    preventive_measure: prevention,
                }));
                self.flash = Some(format!("root cause recorded: {cause}"));
                vec![]
            }
            Some(StepItem::Record(Record::Mitigated)) => {
                self.record(Event::Milestone(ev::MilestoneReached {
                    milestone: ev::Milestone::Mitigated,
                    at: None,
                    source: self.user.clone(),
                }));
                self.flash = Some("marked mitigated".into());
                vec![]
            }
            Some(StepItem::Record(r)) => {
                self.open_input(InputKind::Record(r));
                vec![]
            }
            Some(StepItem::Compose(id)) => {
                self.open_compose(&id);
                vec![]
            }
            None => vec![],
        }
    }

    /// The decision tree's call becomes the incident's severity (the plan is frozen with it).
    fn accept_severity(&mut self) {
        let call = self.assessment.severity.clone();
        let Some(sev) = convert::severity(&call) else {
            self.flash = Some(format!(
                "nothing to accept: {} (o to set one with a reason)",
                call.label
            ));
            return;
        };
        self.record(Event::SeverityDecided(SeverityDecided {
            severity: sev,
            by: self.user.clone(),
            path: convert::decision_path(&call),
            overridden: None,
        }));
        self.frozen_plan = Some(self.assessment.plan.clone());
        self.acknowledge();
        self.flash = Some(format!("severity {} accepted", sev.label()));
    }

    /// `[run all]`: the step's runnable commands. Only what the guard calls safe runs
    /// unattended; the rest (a `pm2` call that would start an empty daemon) waits for the
    /// responder, one by one.
    fn run_all_safe(&mut self) -> Vec<Effect> {
        let cmds: Vec<(String, Option<String>)> = self
            .items()
            .into_iter()
            .filter_map(|i| match i {
                StepItem::Command {
                    text,
                    dir,
                    runnable: true,
                    ..
                } if !text.starts_with("cd ") => Some((text, dir)),
                _ => None,
            })
            .collect();
        let ctx = self.guard_context();
        let (safe, held): (Vec<_>, Vec<_>) = cmds
            .into_iter()
            .partition(|(t, _)| classify(t, &ctx).class == Class::Safe);
        let mut effects = Vec::new();
        for (text, dir) in safe {
            effects.extend(self.guarded_run(text, dir));
        }
        if let Some((first, _)) = held.first() {
            let names: Vec<&str> = held.iter().map(|(t, _)| t.as_str()).collect();
            self.flash = Some(format!(
                "not run, confirm one by one: {} ({})",
                names.join(", "),
                classify(first, &ctx).reason
            ));
        }
        effects
    }

    /// One of the runbook's command lines, chosen by the responder.
    fn runbook_command(
        &mut self,
        text: String,
        dir: Option<String>,
        runnable: bool,
        risk: Risk,
    ) -> Vec<Effect> {
        if !runnable && risk != Risk::Dangerous {
            self.flash = Some(
                "the runbook shows this line but the tool does not run it (placeholder or interactive)"
                    .into(),
            );
            return vec![];
        }
        // The runbook's `cd DIR` lines: a child shell's `cd` would change nothing,
        // so following the runbook literally moves where later commands run.
        if let Some(target) = cd_target(&text) {
            self.cwd = target.clone();
            self.flash = Some(format!(
                "commands without a directory of their own now run in {target}"
            ));
            return vec![];
        }
        // Dangerous lines go to the guard too, which refuses them with its explanation.
        self.guarded_run(text, dir)
    }

    /// Cancelling a CI run is a confirmed command like any other caution.
    fn confirm_cancel_run(&mut self, i: usize) {
        match super::deploy_items::cancel_command(self, i) {
            Some((text, token, reason)) => {
                self.popup = Some(Popup::Confirm {
                    text,
                    dir: self.cwd.clone(),
                    reason,
                    targets: vec![],
                    token,
                    typed: String::new(),
                });
            }
            None => self.flash = Some("that run is no longer listed".into()),
        }
    }

    /// Every command goes through here: the guard decides, the journal records.
    pub fn guarded_run(&mut self, text: String, dir: Option<String>) -> Vec<Effect> {
        let dir = dir.unwrap_or_else(|| self.cwd.clone());
        let v = classify(&text, &self.guard_context());
        match v.class {
            Class::Dangerous => {
                self.record(Event::GuardRefused(GuardRefused {
                    text: text.clone(),
                    dir: Some(dir),
                    guard: GuardVerdict {
                        class: Class::Dangerous,
                        reason: v.reason.clone(),
                    },
                    safe_alternative: v.safe_alternative.clone(),
                }));
                self.popup = Some(Popup::Refused {
                    text,
                    reason: v.reason,
                    alternative: v.safe_alternative,
                });
                vec![]
            }
            Class::Caution => {
                let token = crate::exec::guarded::confirmation_token(&v);
                self.popup = Some(Popup::Confirm {
                    text,
                    dir,
                    reason: v.reason,
                    targets: v.targets,
                    token,
                    typed: String::new(),
                });
                vec![]
            }
            Class::Safe => self.start(text, dir, Class::Safe, v.reason, None),
        }
    }

    /// Stopping a deployment is always confirmed by typing: it ends someone's job.
    fn confirm_stop_deploy(&mut self, i: usize) -> Vec<Effect> {
        let Some(d) = self.deploys.as_ref().and_then(|d| d.get(i)).cloned() else {
            self.flash = Some("that deployment is no longer listed".into());
            return vec![];
        };
        self.popup = Some(Popup::Confirm {
            text: super::deploy_items::stop_command(self, &d),
            dir: self.cwd.clone(),
            reason: super::deploy_items::stop_reason(&d),
            targets: d.pids.iter().map(|p| format!("pid {p}")).collect(),
            token: format!("stop {}", d.pid),
            typed: String::new(),
        });
        vec![]
    }

    fn start(
        &mut self,
        text: String,
        dir: String,
        class: Class,
        reason: String,
        confirmed_by: Option<String>,
    ) -> Vec<Effect> {
        let cmd_id = self.next_cmd_id;
        self.next_cmd_id += 1;
        self.record(Event::CommandStarted(CommandStarted {
            cmd_id,
            text: text.clone(),
            dir: Some(dir.clone()),
            guard: GuardVerdict { class, reason },
            confirmed_by,
        }));
        self.running.insert(cmd_id);
        vec![Effect::Run { cmd_id, text, dir }]
    }

    fn open_compose(&mut self, id: &str) {
        let Some(template) = crate::comms::comm_template(id) else {
            return;
        };
        let ctx = crate::comms::CommsContext::new(
            &self.rb,
            &self.incident,
            self.now,
            NEXT_UPDATE_MINUTES,
        );
        match crate::comms::fill(id, &ctx) {
            Ok(d) => {
                let comm_id = self.incident.comms.len() as u64 + 1;
                let lines: Vec<String> = d.body.lines().map(str::to_string).collect();
                let mut area = ratatui_textarea::TextArea::new(lines);
                area.set_cursor_line_style(ratatui::style::Style::default());
                self.compose = Some(super::state::Compose {
                    comm_id,
                    template,
                    subject: d.subject,
                    area,
                });
                self.popup = Some(Popup::Compose);
            }
            Err(e) => self.flash = Some(e.to_string()),
        }
    }

    /// The webhook's answer: journaled either way; posted counts as sent (the update
    /// countdown starts) and closes the editor, anything else keeps the draft open.
    fn webhook_posted(&mut self, comm_id: u64, outcome: crate::comms::webhook::PostOutcome) {
        self.flash = Some(outcome.describe());
        let posted = outcome.posted();
        self.record(Event::CommPosted(ev::CommPosted { comm_id, outcome }));
        if posted {
            self.record(Event::CommSent(ev::CommSent {
                comm_id,
                channel: "webhook".into(),
                by: self.user.clone(),
            }));
            if self.compose.as_ref().is_some_and(|c| c.comm_id == comm_id) {
                self.compose = None;
                self.popup = None;
            }
        }
    }

    /// Journal the message as it reads now (the edited body is what counts).
    fn record_draft(&mut self) -> Option<(u64, String)> {
        let c = self.compose.as_ref()?;
        let (comm_id, subject, body, template) =
            (c.comm_id, c.subject.clone(), c.body(), c.template);
        self.record(Event::CommDrafted(ev::CommDrafted {
            comm_id,
            template,
            subject: subject.clone(),
            body: body.clone(),
        }));
        Some((comm_id, format!("Subject: {subject}\n{body}")))
    }

    fn compose_key(&mut self, k: KeyEvent) -> Vec<Effect> {
        use super::keymap::{ComposeAction as C, COMPOSE};
        let Some(action) = COMPOSE.action_for(&k) else {
            if let Some(c) = self.compose.as_mut() {
                c.area.input(k);
            }
            return vec![];
        };
        match action {
            C::Close => {
                self.popup = None;
                self.compose = None;
                self.flash = Some("message closed (saved drafts stay in the journal)".into());
            }
            C::Save => {
                self.record_draft();
                self.flash = Some("draft saved to the journal".into());
            }
            C::Copy => {
                if let Some((_, text)) = self.record_draft() {
                    match crate::comms::clipboard_sequence(&text, self.terminal.in_tmux) {
                        Ok(seq) => {
                            self.flash = Some(
                                "copied to your clipboard (OSC 52; your terminal must allow it)"
                                    .into(),
                            );
                            return vec![Effect::Clipboard(seq)];
                        }
                        Err(e) => self.flash = Some(e.to_string()),
                    }
                }
            }
            C::File => {
                if let Some((comm_id, text)) = self.record_draft() {
                    let dir = self.export_base();
                    let id = self.incident_id().unwrap_or("incident").to_string();
                    let kind = self
                        .compose
                        .as_ref()
                        .map(|c| crate::comms::template_id(c.template))
                        .unwrap_or("message");
                    let path = format!("{}/{id}-{kind}-{comm_id}.txt", dir.trim_end_matches('/'));
                    self.flash = Some(format!("written to {path}"));
                    return vec![Effect::WriteFile {
                        path,
                        contents: text,
                    }];
                }
            }
            C::Webhook => {
                if let Some((comm_id, _)) = self.record_draft() {
                    if let Some(c) = self.compose.as_ref() {
                        self.flash = Some("posting to the webhook…".into());
                        return vec![Effect::PostWebhook {
                            comm_id,
                            subject: c.subject.clone(),
                            body: c.body(),
                        }];
                    }
                }
            }
            C::Sent => {
                if let Some((comm_id, _)) = self.record_draft() {
                    self.record(Event::CommSent(ev::CommSent {
                        comm_id,
                        channel: "#incidents".into(),
                        by: self.user.clone(),
                    }));
                    self.popup = None;
                    self.compose = None;
                    self.flash =
                        Some("recorded as sent; the header counts down to the next update".into());
                }
            }
        }
        vec![]
    }

    /// The note editor: Enter starts a new line, Ctrl-S records, Esc discards.
    fn note_key(&mut self, k: KeyEvent) {
        use super::keymap::{NoteAction, NOTE};
        match NOTE.action_for(&k) {
            Some(NoteAction::Discard) => {
                self.note = None;
                self.popup = None;
                self.flash = Some("note discarded".into());
            }
            Some(NoteAction::Save) => {
                let text = self
                    .note
                    .take()
                    .map(|a| a.lines().join("\n"))
                    .unwrap_or_default();
                self.popup = None;
                if !text.trim().is_empty() {
                    self.record(Event::Note(Note {
                        author: self.user.clone(),
                        text: text.trim_end().to_string(),
                    }));
                    self.flash = Some("note recorded".into());
                }
            }
            None => {
                if let Some(a) = self.note.as_mut() {
                    a.input(k);
                }
            }
        }
    }

    fn popup_key(&mut self, k: KeyEvent) -> Vec<Effect> {
        use super::keymap::{DebriefAction, InputAction, QuitAction, DEBRIEF, INPUT, QUIT};
        if self.popup == Some(Popup::Compose) {
            return self.compose_key(k);
        }
        if self.popup == Some(Popup::Note) {
            self.note_key(k);
            return vec![];
        }
        let Some(popup) = self.popup.take() else {
            return vec![];
        };
        // A popup taken and not put back is closed.
        match popup {
            Popup::Refused { .. } | Popup::Compose | Popup::Note | Popup::Briefing => {
                // Any key closes.
            }
            Popup::Help { .. } | Popup::Timeline { .. } => self.scroll_key(k, popup),
            Popup::Debrief { lines, scroll } => {
                let scroll = match DEBRIEF.action_for(&k) {
                    Some(DebriefAction::Quit) => return self.quit_now(),
                    Some(DebriefAction::Down) => (scroll + 1).min(lines.len().saturating_sub(1)),
                    Some(DebriefAction::Up) => scroll.saturating_sub(1),
                    // Back to the drill (the debrief is already journaled).
                    None => return vec![],
                };
                self.popup = Some(Popup::Debrief { lines, scroll });
            }
            Popup::QuitConfirm => match QUIT.action_for(&k) {
                Some(QuitAction::Quit) => return self.quit_now(),
                None => {}
            },
            confirm @ Popup::Confirm { .. } => return self.confirm_key(k, confirm),
            Popup::Input { kind, mut text, .. } => {
                match INPUT.action_for(&k) {
                    Some(InputAction::Cancel) => return vec![],
                    Some(InputAction::Submit) => return self.submit_input(kind, text),
                    Some(InputAction::Erase) => {
                        text.pop();
                    }
                    None => typed_char(&k, &mut text),
                }
                self.popup = Some(Popup::Input {
                    kind,
                    text,
                    error: None,
                });
            }
        }
        vec![]
    }

    /// j/k in the help or the timeline; any other key closes it.
    fn scroll_key(&mut self, k: KeyEvent, popup: Popup) {
        use super::keymap::{ScrollAction, SCROLL};
        let (scroll, lines) = match popup {
            Popup::Help { scroll } => {
                (scroll, super::keymap::help_row_count(self.replay.is_some()))
            }
            Popup::Timeline { scroll } => (scroll, self.incident.timeline.len()),
            _ => return,
        };
        let scroll = match SCROLL.action_for(&k) {
            Some(ScrollAction::Down) => (scroll + 1).min(lines.saturating_sub(1)),
            Some(ScrollAction::Up) => scroll.saturating_sub(1),
            None => return,
        };
        self.popup = Some(match popup {
            Popup::Help { .. } => Popup::Help { scroll },
            _ => Popup::Timeline { scroll },
        });
    }

    /// The caution confirmation: the command runs only once its token is typed.
    fn confirm_key(&mut self, k: KeyEvent, popup: Popup) -> Vec<Effect> {
        use super::keymap::{ConfirmAction, CONFIRM};
        let Popup::Confirm {
            text,
            dir,
            reason,
            targets,
            token,
            mut typed,
        } = popup
        else {
            return vec![];
        };
        let mut effects = vec![];
        match CONFIRM.action_for(&k) {
            Some(ConfirmAction::Cancel) => {
                self.flash = Some("not run".into());
                return vec![];
            }
            Some(ConfirmAction::Run) if typed.trim() == token => {
                return self.start(text, dir, Class::Caution, reason, Some(self.user.clone()));
            }
            Some(ConfirmAction::Run) => {}
            Some(ConfirmAction::Erase) => {
                typed.pop();
            }
            // Keep PM2's evidence first; the confirmation stays open.
            Some(ConfirmAction::Evidence) => effects = self.preserve_effect(),
            None => typed_char(&k, &mut typed),
        }
        self.popup = Some(Popup::Confirm {
            text,
            dir,
            reason,
            targets,
            token,
            typed,
        });
        effects
    }

    fn submit_input(&mut self, kind: InputKind, text: String) -> Vec<Effect> {
        match self.apply_input(&kind, text.trim()) {
            Ok(effects) => effects,
            // The line stays open with what was typed and why it was not taken.
            Err(error) => {
                self.popup = Some(Popup::Input {
                    kind,
                    text,
                    error: Some(error),
                });
                vec![]
            }
        }
    }

    /// What a typed line does, by what it was asked for; an error when it cannot be taken.
    fn apply_input(&mut self, kind: &InputKind, t: &str) -> Result<Vec<Effect>, String> {
        let needs = |what: &str| {
            if t.is_empty() {
                Err(what.to_string())
            } else {
                Ok(())
            }
        };
        match *kind {
            InputKind::Command if t.is_empty() => {}
            InputKind::Command => return Ok(self.guarded_run(t.to_string(), None)),
            InputKind::Override => self.override_severity(t)?,
            InputKind::Record(r) => {
                needs("nothing to record")?;
                self.write_record(r, t);
            }
            InputKind::GotoTime => self.replay_goto_time(t)?,
            InputKind::Search if t.is_empty() => {}
            InputKind::Search => self.replay_search(t),
            InputKind::SkipStep => {
                needs("a skip needs a reason")?;
                let r = self.current_ref();
                self.record(Event::StepSkipped(ev::StepSkipped {
                    step: r.step,
                    title: r.title,
                    reason: t.to_string(),
                    by: self.user.clone(),
                }));
            }
            InputKind::Skip { plan_item } => {
                needs("a skip needs a reason")?;
                self.skip_gate(plan_item, t);
            }
        }
        Ok(vec![])
    }

    /// `P1|P2|P3 REASON`: the responder's severity over the decision tree's, with the reason.
    fn override_severity(&mut self, t: &str) -> Result<(), String> {
        let mut words = t.splitn(2, char::is_whitespace);
        let level = words.next().unwrap_or("").to_uppercase();
        let reason = words.next().unwrap_or("").trim().to_string();
        let sev = match level.as_str() {
            "P1" => ev::Severity::P1,
            "P2" => ev::Severity::P2,
            "P3" => ev::Severity::P3,
            _ => return Err("start with P1, P2 or P3".into()),
        };
        if reason.is_empty() {
            return Err("an override needs a reason".into());
        }
        let call = self.assessment.severity.clone();
        self.record(Event::SeverityDecided(SeverityDecided {
            severity: sev,
            by: self.user.clone(),
            path: convert::decision_path(&call),
            overridden: Some(Override {
                by: self.user.clone(),
                why: reason,
            }),
        }));
        self.frozen_plan = Some(self.assessment.plan.clone());
        self.acknowledge();
        self.flash = Some(format!("severity set to {} (override)", sev.label()));
        Ok(())
    }

    /// A restore gate passed without its check, with the reason noted in the journal.
    fn skip_gate(&mut self, plan_item: usize, t: &str) {
        let item = self
            .plan()
            .items
            .get(plan_item)
            .map(|i| i.deployment.clone())
            .unwrap_or_default();
        self.record(Event::Note(Note {
            author: self.user.clone(),
            text: format!("restore gate skipped before {item}: {t}"),
        }));
        // Skipping lets this item (and later ones) pass every earlier gate.
        for j in 0..plan_item {
            self.skipped.insert(j, t.to_string());
        }
    }

    fn write_record(&mut self, r: Record, t: &str) {
        let (head, tail) = match t.split_once('|') {
            Some((a, b)) => (a.trim().to_string(), b.trim().to_string()),
            None => (t.to_string(), String::new()),
        };
        let event = match r {
            Record::Problem | Record::Why => {
                let mut five = self.incident.five_whys.clone().unwrap_or(ev::FiveWhys {
                    problem: String::new(),
                    whys: vec![],
                });
                if r == Record::Problem {
                    five.problem = t.to_string();
                } else {
                    five.whys.push(t.to_string());
                }
                Event::FiveWhys(five)
            }
            Record::RootCause => Event::RootCause(ev::RootCause {
                text: head,
                preventive_measure: tail,
            }),
            Record::Factor => Event::ContributingFactor(ev::TextItem {
                text: t.to_string(),
            }),
            Record::WentWell => Event::LessonLearned(ev::Lesson {
                lesson: ev::LessonKind::WentWell,
                text: t.to_string(),
            }),
            Record::CouldImprove => Event::LessonLearned(ev::Lesson {
                lesson: ev::LessonKind::CouldImprove,
                text: t.to_string(),
            }),
            Record::ActionItem => {
                let parts: Vec<String> = t.split('|').map(|p| p.trim().to_string()).collect();
                Event::ActionItem(ev::ActionItem {
                    id: format!("A{}", self.incident.action_items.len() + 1),
                    action: parts.first().cloned().unwrap_or_default(),
                    owner: parts.get(1).cloned().unwrap_or_default(),
                    due: parts.get(2).cloned().unwrap_or_default(),
                    status: "open".into(),
                })
            }
            Record::Resolve => {
                self.record(Event::Milestone(ev::MilestoneReached {
                    milestone: ev::Milestone::Resolved,
                    at: None,
                    source: self.user.clone(),
                }));
                Event::IncidentClosed(ev::Closed {
                    status: ev::CloseStatus::Resolved,
                    resolution: t.to_string(),
                })
            }
            Record::Mitigated => Event::Milestone(ev::MilestoneReached {
                milestone: ev::Milestone::Mitigated,
                at: None,
                source: self.user.clone(),
            }),
        };
        self.record(event);
        self.flash = Some(format!("recorded: {}", r.label()));
    }

    fn replay_key(&mut self, k: KeyEvent) -> Vec<Effect> {
        use super::keymap::{ReplayAction as R, REPLAY};
        let Some(a) = REPLAY.action_for(&k) else {
            return vec![];
        };
        let n_items = self.items().len();
        match a {
            R::Move(m) => self.replay_move(m),
            R::Down => self.selected = (self.selected + 1).min(n_items.saturating_sub(1)),
            R::Up => self.selected = self.selected.saturating_sub(1),
            R::Play => self.replay_toggle_play(),
            R::Faster => self.replay_speed(true),
            R::Slower => self.replay_speed(false),
            R::GotoTime => self.open_replay_input(InputKind::GotoTime),
            R::Search => self.open_replay_input(InputKind::Search),
            R::SearchNext => {
                let last = self.replay.as_ref().and_then(|r| r.last_search.clone());
                match last {
                    Some(n) => self.replay_search(&n),
                    None => self.open_replay_input(InputKind::Search),
                }
            }
            R::Timeline => self.popup = Some(Popup::Timeline { scroll: 0 }),
            R::Strip => self.hide_strip = !self.hide_strip,
            R::Help => self.popup = Some(Popup::Help { scroll: 0 }),
            R::NextTab => {
                let i = Tab::ALL.iter().position(|t| *t == self.tab).unwrap_or(0);
                self.tab = Tab::ALL[(i + 1) % Tab::ALL.len()];
            }
            R::Tab(i) => self.tab = Tab::ALL[(i as usize).min(3)],
            R::Quit => {
                self.quit = true;
                return vec![Effect::Quit];
            }
        }
        vec![]
    }

    /// The proposed severity level, if any.
    pub fn proposed_level(&self) -> Level {
        self.assessment.severity.level
    }
}

/// `cd /some/dir` (one plain absolute path, nothing else on the line) -> the directory.
fn cd_target(text: &str) -> Option<String> {
    let rest = text.trim().strip_prefix("cd ")?.trim();
    let plain = rest.starts_with('/')
        && !rest.contains(|c: char| c.is_whitespace() || "'\"$`;&|<>()\\*?".contains(c));
    plain.then(|| rest.to_string())
}

/// A printable key typed into a one-line field (Ctrl and Alt chords are not text).
fn typed_char(k: &KeyEvent, into: &mut String) {
    if let KeyCode::Char(c) = k.code {
        if !k
            .modifiers
            .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT)
        {
            into.push(c);
        }
    }
}
