//! `App::update` driven by scripted messages with an injected clock: state,
//! effects and the journal events recorded.
mod support;

use pm2_incident::app::{Effect, Msg, Popup};
use pm2_incident::incident::event::{Event, Severity, Stream};
use ratatui::crossterm::event::KeyCode;
use support::app_fixture::*;

fn kinds(app: &pm2_incident::app::App) -> Vec<String> {
    app.outbox
        .iter()
        .map(|(_, e)| e.kind().to_string())
        .collect()
}

#[test]
fn severity_is_proposed_from_state_and_accepted_with_enter() {
    let mut app = new_app();
    everything_down(&mut app, at(5));
    let proposed = app
        .incident
        .proposed
        .as_ref()
        .expect("a proposal is journaled");
    assert_eq!(proposed.value.severity, Severity::P1);
    assert!(proposed.value.path[0]
        .reason
        .contains("flyer-crawler-api missing"));
    assert!(
        app.incident.severity.is_none(),
        "nothing decided until the responder accepts"
    );
    go_to_step(&mut app, "classify-severity", at(30));
    let effects = app.update(code(KeyCode::Enter), at(31));
    assert!(effects.is_empty());
    let decided = app.incident.severity.as_ref().expect("decided");
    assert_eq!(decided.value.severity, Severity::P1);
    assert_eq!(decided.value.by, "oncall");
    assert!(decided.value.overridden.is_none());
    assert_eq!(decided.at, at(31));
    assert!(kinds(&app).contains(&"severity_decided".to_string()));
    // The plan is frozen at the decision: production first.
    assert_eq!(app.plan().items[0].deployment, "flyer-crawler-prod");
}

#[test]
fn override_needs_a_level_and_a_reason() {
    let mut app = new_app();
    everything_down(&mut app, at(1));
    app.update(key('o'), at(2));
    type_str(&mut app, "P2", at(2));
    app.update(code(KeyCode::Enter), at(3));
    match &app.popup {
        Some(Popup::Input { error: Some(e), .. }) => assert!(e.contains("reason"), "{e}"),
        other => panic!("expected the input to ask for a reason, got {other:?}"),
    }
    type_str(&mut app, " only stock alert matters tonight", at(3));
    app.update(code(KeyCode::Enter), at(4));
    let d = app.incident.severity.as_ref().expect("decided");
    assert_eq!(d.value.severity, Severity::P2);
    assert_eq!(
        d.value.overridden.as_ref().unwrap().why,
        "only stock alert matters tonight"
    );
    assert!(app.popup.is_none());
}

#[test]
fn dangerous_command_is_refused_and_journaled_never_run() {
    let mut app = new_app();
    app.update(key(':'), at(1));
    type_str(&mut app, "pm2 delete all", at(1));
    let effects = app.update(code(KeyCode::Enter), at(2));
    assert!(
        effects.iter().all(|e| !matches!(e, Effect::Run { .. })),
        "{effects:?}"
    );
    match &app.popup {
        Some(Popup::Refused {
            text,
            reason,
            alternative,
        }) => {
            assert_eq!(text, "pm2 delete all");
            assert!(reason.contains("ALL apps"), "{reason}");
            assert!(alternative.as_ref().unwrap().contains("flyer-crawler-api"));
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert_eq!(app.incident.refusals.len(), 1);
    assert!(app.incident.commands.is_empty());
    // The same for a runbook line shown as dangerous and selected with Enter.
    go_to_step(&mut app, "dangerous-patterns", at(3));
    app.update(code(KeyCode::Esc), at(3));
    let effects = app.update(code(KeyCode::Enter), at(4));
    assert!(effects.is_empty());
    assert_eq!(app.incident.refusals.len(), 2);
}

#[test]
fn caution_command_runs_only_after_typing_the_token() {
    let mut app = new_app();
    app.update(key(':'), at(1));
    type_str(&mut app, "pm2 save", at(1));
    assert!(app.update(code(KeyCode::Enter), at(2)).is_empty());
    let token = match &app.popup {
        Some(Popup::Confirm { token, .. }) => token.clone(),
        other => panic!("expected a confirmation, got {other:?}"),
    };
    type_str(&mut app, "nope", at(3));
    assert!(
        app.update(code(KeyCode::Enter), at(3)).is_empty(),
        "a wrong token runs nothing"
    );
    assert!(matches!(app.popup, Some(Popup::Confirm { .. })));
    for _ in 0..4 {
        app.update(code(KeyCode::Backspace), at(3));
    }
    type_str(&mut app, &token, at(4));
    let effects = app.update(code(KeyCode::Enter), at(5));
    assert_eq!(
        effects,
        vec![Effect::Run {
            cmd_id: 1,
            text: "pm2 save".into(),
            dir: "/srv".into()
        }]
    );
    let rec = app.incident.commands.get(0).unwrap();
    assert_eq!(rec.start.guard.class, pm2_incident::guard::Class::Caution);
    assert_eq!(rec.start.confirmed_by.as_deref(), Some("oncall"));
    assert!(app.running.contains(&1));
}

#[test]
fn restore_gate_blocks_until_production_is_healthy_or_skipped_with_reason() {
    let mut app = new_app();
    everything_down(&mut app, at(1));
    go_to_step(&mut app, "classify-severity", at(2));
    app.update(code(KeyCode::Enter), at(2));
    go_to_step(&mut app, "scenario-d", at(3));
    // Item 1: production first, runs.
    let effects = app.update(code(KeyCode::Enter), at(4));
    match &effects[..] {
        [Effect::Run { text, dir, .. }] => {
            assert_eq!(text, "pm2 start ecosystem.config.cjs");
            assert_eq!(dir, "/var/www/flyer-crawler.projectium.com");
        }
        other => panic!("expected one run, got {other:?}"),
    }
    app.update(
        Msg::Finished {
            cmd_id: 1,
            exit_code: Some(0),
            signal: None,
            duration_ms: 900,
            timed_out: false,
        },
        at(5),
    );
    // Item 2 (stock alert) waits for production to verify healthy.
    app.update(key('j'), at(6));
    assert!(app.update(code(KeyCode::Enter), at(6)).is_empty());
    assert!(
        app.flash
            .as_deref()
            .unwrap_or("")
            .contains("verify flyer-crawler-prod first"),
        "{:?}",
        app.flash
    );
    // Skip with a reason: journaled, then it runs.
    app.update(key('s'), at(7));
    app.update(code(KeyCode::Enter), at(7));
    assert!(
        matches!(&app.popup, Some(Popup::Input { error: Some(_), .. })),
        "an empty reason is refused"
    );
    type_str(&mut app, "api healthy by hand, worker slow", at(8));
    app.update(code(KeyCode::Enter), at(8));
    assert!(app
        .incident
        .notes
        .last()
        .unwrap()
        .value
        .text
        .contains("api healthy by hand"));
    let effects = app.update(code(KeyCode::Enter), at(9));
    assert!(
        matches!(&effects[..], [Effect::Run { text, .. }] if text == "pm2 start ecosystem.config.cjs"),
        "{effects:?}"
    );
}

#[test]
fn gate_opens_by_itself_when_production_verifies() {
    let mut app = new_app();
    everything_down(&mut app, at(1));
    go_to_step(&mut app, "classify-severity", at(2));
    app.update(code(KeyCode::Enter), at(2));
    go_to_step(&mut app, "scenario-d", at(3));
    app.update(key('j'), at(4));
    assert!(app.gate_blocking(1).is_some());
    let prod: Vec<(&str, &str)> = ALL[..3].iter().map(|n| (*n, "online")).collect();
    app.update(pm2_up(listing(&prod)), at(10));
    let h = health(&app, &["flyer-crawler-test", "stock-alert-prod"]);
    app.update(h, at(10));
    assert_eq!(app.gate_blocking(1), None);
    assert_eq!(
        app.plan().items.len(),
        3,
        "the frozen plan keeps done items listed"
    );
}

#[test]
fn output_is_journaled_in_batches_and_bounded() {
    let mut app = new_app();
    app.update(key(':'), at(1));
    type_str(&mut app, "seq 3000", at(1));
    let effects = app.update(code(KeyCode::Enter), at(1));
    assert!(matches!(&effects[..], [Effect::Run { cmd_id: 1, .. }]));
    app.outbox.clear();
    for i in 0..2500 {
        app.update(
            Msg::Output {
                cmd_id: 1,
                stream: Stream::Stdout,
                line: i.to_string(),
            },
            at(2),
        );
    }
    app.flush_output();
    assert_eq!(
        kinds(&app),
        ["output_lines"],
        "one event per command per frame"
    );
    app.update(
        Msg::Output {
            cmd_id: 1,
            stream: Stream::Stderr,
            line: "late".into(),
        },
        at(3),
    );
    app.update(
        Msg::Finished {
            cmd_id: 1,
            exit_code: Some(0),
            signal: None,
            duration_ms: 40,
            timed_out: false,
        },
        at(3),
    );
    let rec = app.incident.commands.get(0).unwrap();
    let limit = pm2_incident::incident::fold::OUTPUT_LINE_LIMIT;
    assert_eq!(rec.output.len(), limit);
    assert_eq!(rec.output[0].text.as_ref(), "0");
    let (_, fin) = rec.finished.as_ref().unwrap();
    assert_eq!(fin.output_lines_dropped, 2501 - limit as u64);
    assert!(app.running.is_empty());
}

#[test]
fn pm2_observations_are_journaled_only_on_change() {
    let mut app = new_app();
    let rows: Vec<(&str, &str)> = ALL.iter().map(|n| (*n, "online")).collect();
    app.update(pm2_up(listing(&rows)), at(1));
    app.update(pm2_up(listing(&rows)), at(2));
    app.update(pm2_up(listing(&rows)), at(3));
    assert_eq!(app.incident.observations, 1);
    let mut changed = rows.clone();
    changed[1].1 = "stopped";
    app.update(pm2_up(listing(&changed)), at(4));
    assert_eq!(app.incident.observations, 2);
    // A bus event asks for a fresh read at once.
    let effects = app.update(
        Msg::Pm2Bus {
            process: "flyer-crawler-worker".into(),
            event: "exit".into(),
            detail: "stopped".into(),
        },
        at(4),
    );
    assert_eq!(effects, vec![Effect::RefreshNow]);
}

#[test]
fn quit_asks_while_commands_run_and_cancels_them() {
    let mut app = new_app();
    app.update(key(':'), at(1));
    type_str(&mut app, "sleep 100", at(1));
    app.update(code(KeyCode::Enter), at(1));
    assert!(app.update(key('q'), at(2)).is_empty());
    assert_eq!(app.popup, Some(Popup::QuitConfirm));
    let effects = app.update(key('y'), at(3));
    assert_eq!(effects, vec![Effect::Cancel { cmd_id: 1 }, Effect::Quit]);
    assert!(app.quit);
}

#[test]
fn quit_goes_ahead_when_the_last_running_command_ends_under_the_confirmation() {
    let mut app = new_app();
    app.update(key(':'), at(1));
    type_str(&mut app, "sleep 100", at(1));
    app.update(code(KeyCode::Enter), at(1));
    app.update(key('q'), at(2));
    assert_eq!(app.popup, Some(Popup::QuitConfirm));
    let effects = app.update(
        Msg::Finished {
            cmd_id: 1,
            exit_code: None,
            signal: Some(15),
            duration_ms: 900,
            timed_out: false,
        },
        at(3),
    );
    assert!(effects.contains(&Effect::Quit), "{effects:?}");
    assert!(app.quit);
    assert_eq!(app.popup, None);
}

#[test]
fn a_command_ending_without_a_quit_pending_does_not_quit() {
    let mut app = new_app();
    app.update(key(':'), at(1));
    type_str(&mut app, "sleep 100", at(1));
    app.update(code(KeyCode::Enter), at(1));
    let effects = app.update(
        Msg::Finished {
            cmd_id: 1,
            exit_code: Some(0),
            signal: None,
            duration_ms: 900,
            timed_out: false,
        },
        at(3),
    );
    assert!(!effects.contains(&Effect::Quit));
    assert!(!app.quit);
}

#[test]
fn notes_and_manual_checklist_ticks_are_recorded() {
    let mut app = new_app();
    app.update(key('n'), at(1));
    type_str(&mut app, "paged secondary", at(1));
    app.update(code(KeyCode::Enter), at(1));
    type_str(&mut app, "and the product owner", at(1));
    app.update(ctrl('s'), at(2));
    assert_eq!(
        app.incident.notes.get(0).unwrap().value.text,
        "paged secondary\nand the product owner"
    );
    go_to_step(&mut app, "verification-checklist", at(3));
    let manual = app
        .items()
        .iter()
        .position(
            |i| matches!(i, pm2_incident::app::StepItem::Check { id, .. } if id == "pm2-saved"),
        )
        .unwrap();
    for _ in 0..manual {
        app.update(key('j'), at(3));
    }
    app.update(key('x'), at(4));
    assert_eq!(app.incident.checklist.get("pm2-saved"), Some(&true));
    assert!(app.outbox.iter().any(
        |(_, e)| matches!(e, Event::ChecklistTicked(t) if t.item == "pm2-saved" && t.checked)
    ));
}

#[test]
fn post_incident_review_is_recorded_and_reaches_the_report() {
    let mut app = new_app();
    everything_down(&mut app, at(1));
    go_to_step(&mut app, "classify-severity", at(2));
    app.update(code(KeyCode::Enter), at(2));
    assert!(app
        .incident
        .milestones
        .contains_key(&pm2_incident::incident::event::Milestone::Acknowledged));
    // Pick a root cause from the runbook's table.
    go_to_step(&mut app, "common-root-causes", at(100));
    app.update(key('j'), at(100));
    app.update(code(KeyCode::Enter), at(101));
    assert_eq!(
        app.incident.root_cause.as_ref().unwrap().text,
        "`pm2 delete all` in workflow"
    );
    // 5 whys.
    go_to_step(&mut app, "five-whys", at(200));
    let write = |app: &mut pm2_incident::app::App, index: usize, text: &str, t: i64| {
        while app.selected < index {
            app.update(key('j'), at(t));
        }
        while app.selected > index {
            app.update(key('k'), at(t));
        }
        app.update(code(KeyCode::Enter), at(t));
        type_str(app, text, at(t));
        app.update(code(KeyCode::Enter), at(t));
    };
    write(
        &mut app,
        0,
        "All PM2 processes were killed during deployment",
        201,
    );
    write(
        &mut app,
        1,
        "The deployment workflow ran pm2 delete all",
        202,
    );
    write(&mut app, 1, "The runner cached an old workflow file", 203);
    let five = app.incident.five_whys.clone().unwrap();
    assert_eq!(five.whys.len(), 2);
    go_to_step(&mut app, "action-items", at(300));
    let idx = app
        .items()
        .iter()
        .position(|i| matches!(i, pm2_incident::app::StepItem::Record(_)))
        .unwrap();
    write(
        &mut app,
        idx,
        "Add PM2 state logging | alice | 2026-03-01",
        301,
    );
    let a = &app.incident.action_items[0];
    assert_eq!(
        (a.action.as_str(), a.owner.as_str(), a.due.as_str()),
        ("Add PM2 state logging", "alice", "2026-03-01")
    );
    go_to_step(&mut app, "report-template", at(400));
    let idx = app
        .items()
        .iter()
        .position(|i| {
            matches!(
                i,
                pm2_incident::app::StepItem::Record(pm2_incident::app::state::Record::Resolve)
            )
        })
        .unwrap();
    write(
        &mut app,
        idx,
        "Restarted every app from its ecosystem file in priority order",
        401,
    );
    assert!(app.incident.closed.is_some());
    let report = pm2_incident::incident::report::render(&app.incident);
    for needle in [
        "pm2 delete all",
        "cached an old workflow file",
        "Add PM2 state logging",
        "alice",
        "Restarted every app",
    ] {
        assert!(report.contains(needle), "report lacks {needle}:\n{report}");
    }
}

#[test]
fn run_all_gathers_information_with_every_read_command() {
    let mut app = new_app();
    go_to_step(&mut app, "gather-info", at(1));
    assert_eq!(app.items()[0], pm2_incident::app::StepItem::RunAll);
    let effects = app.update(code(KeyCode::Enter), at(2));
    let texts: Vec<&str> = effects
        .iter()
        .filter_map(|e| match e {
            Effect::Run { text, .. } => Some(text.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(
        texts,
        [
            "pm2 list",
            "pm2 ping",
            "pm2 logs --lines 20 --nostream",
            "systemctl status pm2-gitea-runner --no-pager",
            "df -h /",
            "free -h",
            "git log --oneline -5"
        ]
    );
    assert_eq!(app.incident.commands.len(), 7);
}

#[test]
fn communication_is_prefilled_copied_and_sent_with_a_countdown() {
    let mut app = new_app();
    everything_down(&mut app, at(1));
    go_to_step(&mut app, "classify-severity", at(2));
    app.update(code(KeyCode::Enter), at(2));
    go_to_step(&mut app, "notify", at(60));
    assert_eq!(
        app.items()[0],
        pm2_incident::app::StepItem::Compose("incident-notification".into())
    );
    app.update(code(KeyCode::Enter), at(61));
    assert_eq!(app.popup, Some(Popup::Compose));
    let body = app.compose.as_ref().unwrap().body();
    assert!(
        body.contains("flyer-crawler.projectium.com: DOWN"),
        "{body}"
    );
    assert!(
        app.compose.as_ref().unwrap().subject.contains("P1"),
        "{}",
        app.compose.as_ref().unwrap().subject
    );
    // Edit: typing goes into the text area.
    type_str(&mut app, "X", at(61));
    let effects = app.update(ctrl('y'), at(62));
    match &effects[..] {
        [Effect::Clipboard(seq)] => assert!(seq.contains("]52;c;"), "{seq:?}"),
        other => panic!("expected a clipboard write, got {other:?}"),
    }
    assert!(
        app.incident
            .comms
            .first()
            .unwrap()
            .draft
            .body
            .starts_with('X'),
        "the edited text is what is journaled"
    );
    app.update(ctrl('t'), at(63));
    assert!(app.popup.is_none());
    assert_eq!(app.incident.comms.first().unwrap().sent.len(), 1);
    let due =
        pm2_incident::comms::next_update_due(&app.incident, 15).expect("an update is now due");
    assert!(pm2_incident::comms::update_status(due, at(63 + 20 * 60)).is_overdue());
}

#[test]
fn journal_failure_is_shown_until_it_recovers() {
    let mut app = new_app();
    app.update(
        Msg::JournalError("journal /x: disk full; 3 event(s) waiting to be written".into()),
        at(1),
    );
    assert!(app.journal_error.as_deref().unwrap().contains("disk full"));
    app.update(key('j'), at(2));
    assert!(app.journal_error.is_some(), "a key press does not hide it");
    app.update(Msg::JournalError(String::new()), at(3));
    assert!(app.journal_error.is_none());
}

#[test]
fn runbook_cd_lines_move_where_later_commands_run() {
    let mut app = new_app();
    go_to_step(&mut app, "gather-info", at(1));
    let idx = app
        .items()
        .iter()
        .position(|i| matches!(i, pm2_incident::app::StepItem::Command { text, .. } if text.starts_with("cd ")))
        .unwrap();
    for _ in 0..idx {
        app.update(key('j'), at(1));
    }
    assert!(
        app.update(code(KeyCode::Enter), at(2)).is_empty(),
        "`cd` runs nothing"
    );
    assert_eq!(app.cwd, "/var/www/flyer-crawler.projectium.com");
    app.update(key(':'), at(3));
    type_str(&mut app, "ls", at(3));
    let effects = app.update(code(KeyCode::Enter), at(3));
    assert_eq!(
        effects,
        vec![Effect::Run {
            cmd_id: 1,
            text: "ls".into(),
            dir: "/var/www/flyer-crawler.projectium.com".into()
        }]
    );
}

/// A dead daemon and a saved list of another server's apps: the inventory is foreign, so the
/// tool says it cannot tell instead of proposing P1 for "every app missing".
#[test]
fn a_saved_list_of_other_apps_with_the_daemon_down_is_a_foreign_inventory() {
    use pm2_incident::pm2::{
        DaemonState, ProcessStatus, Reading, SavedList, SavedProcess, SavedRead, SourceKind,
    };
    let mut app = new_app();
    let died = Reading {
        source: SourceKind::Rpc,
        daemon: DaemonState::DiedUncleanly {
            last_pid: Some(4242),
            last_pid_alive: false,
        },
        processes: None,
        warnings: vec![],
        error: None,
    };
    app.update(Msg::Pm2(died), at(1));
    let saved = |names: &[&str]| {
        Msg::Saved(SavedRead::Read(SavedList {
            path: "/home/app/.pm2/dump.pm2".into(),
            entries: names
                .iter()
                .map(|n| SavedProcess {
                    name: n.to_string(),
                    namespace: None,
                    status: ProcessStatus::Online,
                    exec_mode: None,
                    cwd: None,
                    script: None,
                    port: None,
                    node_env: None,
                })
                .collect(),
            unnamed: 0,
            saved_at_ms: None,
        }))
    };
    app.update(saved(&["shop-web", "shop-queue"]), at(2));
    assert!(
        app.assessment.scope.fit.is_foreign(),
        "{:?}",
        app.assessment.scope.fit
    );
    assert_ne!(
        app.assessment.severity.level,
        pm2_incident::assess::Level::P1
    );
    // The same dead daemon with this inventory's apps saved: judged, and it is P1.
    app.update(saved(&ALL), at(3));
    assert!(!app.assessment.scope.fit.is_foreign());
    assert_eq!(
        app.assessment.severity.level,
        pm2_incident::assess::Level::P1
    );
}
