//! A real PM2 whose daemon is SIGKILLed: the guard knows (every `pm2` call is caution, with
//! why), `[run all]` starts no daemon, the evidence is kept (0600, same hashes, no secret in
//! the journal), and the restore plan follows the saved list. `pm2 save` names what it drops.
mod support;

use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

use pm2_incident::app::{App, Effect, Msg, StepItem};
use pm2_incident::assess::PlanAction;
use pm2_incident::guard::daemon::STARTS_EMPTY_DAEMON;
use pm2_incident::guard::{classify, Class};
use pm2_incident::pm2::source::{self, SourceArgs};
use pm2_incident::pm2::{
    probe_daemon, read_saved_list, DaemonKind, DaemonState, Pm2Home, Reading, SourceKind,
};
use ratatui::crossterm::event::KeyCode;
use sha2::{Digest, Sha256};
use support::app_fixture::{at, code, free_inventory_port, key, new_app};
use support::pm2_fixture::{sandbox_dir, Pm2Fixture};

const SEVEN: [&str; 7] = [
    "flyer-crawler-api",
    "flyer-crawler-worker",
    "flyer-crawler-analytics-worker",
    "flyer-crawler-api-test",
    "flyer-crawler-worker-test",
    "flyer-crawler-analytics-worker-test",
    "stock-alert-api",
];

/// The app's view of a PM2 home, read as the live poller reads it (rpc.sock, dump.pm2).
fn observe(app: &mut App, home: &Pm2Home, t: i64) {
    let r = source::observe(&SourceArgs {
        pm2_home: Some(home.dir().to_path_buf()),
        ..SourceArgs::default()
    });
    app.update(Msg::Pm2(r), at(t));
    app.update(Msg::Saved(read_saved_list(home)), at(t));
}

fn assert_no_live_daemon(fx: &Pm2Fixture) {
    let st = probe_daemon(&fx.home);
    assert!(
        !matches!(st, DaemonState::Up { .. }),
        "a daemon answers on rpc.sock: {st:?}"
    );
}

#[test]
fn killed_daemon_guard_run_all_and_evidence() {
    let fx = Pm2Fixture::start(&["flyer-crawler-api", "stock-alert-api"]);
    assert!(fx.pm2_cmd(&["save"]).status.success());
    assert!(fx.pm2_cmd(&["save"]).status.success()); // keeps a dump.pm2.bak
    fx.kill_daemon();

    let mut app = new_app();
    observe(&mut app, &fx.home, 1);
    assert_eq!(app.pm2_daemon, Some(DaemonKind::Died));
    for line in ["pm2 list", "pm2 ping"] {
        let v = classify(line, &app.guard_context());
        assert_eq!(v.class, Class::Caution, "{line}: {v:?}");
        assert!(
            v.reason.contains(STARTS_EMPTY_DAEMON),
            "{line}: {}",
            v.reason
        );
        assert!(
            v.safe_alternative
                .as_deref()
                .is_some_and(|a| a.contains("press E")),
            "{v:?}"
        );
    }
    // check-command has no observation: unchanged.
    assert_eq!(classify("pm2 list", &Default::default()).class, Class::Safe);

    // [run all] on the first step that offers it: the pm2 lines are held, the rest run.
    let step = (0..app.steps().len())
        .find(|&i| {
            app.step = i;
            app.items().contains(&StepItem::RunAll)
        })
        .expect("a step with [run all]");
    app.step = step;
    app.selected = app
        .items()
        .iter()
        .position(|i| *i == StepItem::RunAll)
        .unwrap();
    let effects = app.update(code(KeyCode::Enter), at(2));
    assert!(app.popup.is_none(), "{:?}", app.popup);
    let flash = app.flash.clone().unwrap_or_default();
    assert!(
        flash.contains("confirm one by one") && flash.contains("pm2"),
        "{flash}"
    );
    assert!(flash.contains(STARTS_EMPTY_DAEMON), "{flash}");
    // Run what [run all] asked for, for real, with this PM2_HOME and pm2 on PATH.
    let bin_dir = fx.pm2.parent().unwrap().to_path_buf();
    let path = format!("{}:{}", bin_dir.display(), std::env::var("PATH").unwrap());
    for e in &effects {
        if let Effect::Run { text, .. } = e {
            assert!(
                classify(text, &Default::default()).class == Class::Safe,
                "{text}"
            );
            let _ = support::pm2_fixture::run_with_timeout(
                {
                    let mut c = std::process::Command::new("sh");
                    c.args(["-c", text])
                        .env("PM2_HOME", fx.dir())
                        .env("PATH", &path)
                        .current_dir(fx.dir());
                    c
                },
                Duration::from_secs(30),
            );
        }
    }
    std::thread::sleep(Duration::from_millis(500));
    assert_no_live_daemon(&fx);

    // Evidence: E asks for it; the runtime's preserve runs; the journal gets names and hashes.
    let out = tempfile::tempdir().unwrap();
    app.export_dir = Some(out.path().display().to_string());
    let eff = app.update(key('E'), at(3));
    let Some(Effect::PreserveEvidence { dir }) = eff.first() else {
        panic!("{eff:?}")
    };
    let rec = pm2_incident::evidence::preserve(&fx.home, std::path::Path::new(dir)).unwrap();
    app.update(Msg::Evidence(Ok(rec.clone())), at(4));
    for name in ["dump.pm2", "dump.pm2.bak", "pm2.pid", "pm2.log.tail"] {
        let f = rec.files.iter().find(|f| f.name == name).expect(name);
        let copy = std::path::Path::new(dir).join(name);
        let meta = std::fs::metadata(&copy).unwrap();
        assert_eq!(meta.permissions().mode() & 0o777, 0o600, "{name}");
        let bytes = std::fs::read(&copy).unwrap();
        assert_eq!(hex::encode(Sha256::digest(&bytes)), f.sha256, "{name}");
        if name != "pm2.log.tail" {
            let orig = std::fs::read(fx.dir().join(name)).unwrap();
            assert_eq!(f.sha256, hex::encode(Sha256::digest(&orig)), "{name}");
        }
    }
    // The dump copy holds the canary (it is the evidence); no journal line does.
    let dump_copy = std::fs::read_to_string(std::path::Path::new(dir).join("dump.pm2")).unwrap();
    assert!(dump_copy.contains(&fx.canary));
    assert!(rec.pid.contains("no such process"), "{}", rec.pid);
    let lines: Vec<String> = app
        .outbox
        .iter()
        .map(|(_, e)| serde_json::Value::Object(e.to_object()).to_string())
        .collect();
    assert!(lines.iter().any(|l| l.contains("evidence_preserved")));
    for l in &lines {
        assert!(!l.contains(&fx.canary), "canary in a journal line: {l}");
    }
    // The alternative now says where the evidence is.
    let v = classify("pm2 list", &app.guard_context());
    assert!(v.safe_alternative.unwrap().contains("evidence kept in"));

    // The plan: the saved list holds both production apps online → resurrect first.
    // (The inventory's production also has the workers, which were not saved: fallback.)
    let plan = app.plan().clone();
    assert!(
        plan.notes
            .iter()
            .any(|n| n.contains("lacks production process(es)")
                && n.contains("flyer-crawler-worker")),
        "{:?}",
        plan.notes
    );
    assert!(plan.items.iter().all(|i| i.action != PlanAction::Resurrect));
    assert_no_live_daemon(&fx);
}

#[test]
fn dead_daemon_with_a_full_saved_list_plans_resurrect_and_empty_falls_back() {
    let fx = Pm2Fixture::start(&SEVEN);
    assert!(fx.pm2_cmd(&["save"]).status.success());
    fx.kill_daemon();
    let mut app = new_app();
    observe(&mut app, &fx.home, 1);
    let plan = app.plan().clone();
    assert_eq!(plan.items[0].action, PlanAction::Resurrect, "{plan:?}");
    assert_eq!(plan.items[0].command, "pm2 resurrect");
    for app_name in SEVEN {
        assert!(plan.items[0].processes.contains(&app_name.to_string()));
    }
    // The guard names what resurrect starts, and that it starts a daemon.
    let v = classify("pm2 resurrect", &app.guard_context());
    assert_eq!(v.class, Class::Caution);
    assert!(
        v.reason
            .contains("starts the saved list: flyer-crawler-api"),
        "{}",
        v.reason
    );
    assert!(v.reason.contains("starts a new PM2 daemon"), "{}", v.reason);

    // An empty saved list: the ecosystem starts in priority order, with the reason.
    std::fs::write(fx.dir().join("dump.pm2"), "[]").unwrap();
    observe(&mut app, &fx.home, 2);
    let plan = app.plan().clone();
    assert!(plan.items.iter().all(|i| i.action != PlanAction::Resurrect));
    assert!(
        plan.notes
            .iter()
            .any(|n| n.contains("the saved list is empty")
                && n.contains("ecosystem files in priority order")),
        "{:?}",
        plan.notes
    );
    assert_eq!(plan.items[0].action, PlanAction::StartConfig);
    let first = &plan.items[0].deployment;
    assert!(
        app.rb
            .inventory
            .deployment(first)
            .is_some_and(|d| d.environment == pm2_incident::runbook::Environment::Production),
        "{first}"
    );
    assert_no_live_daemon(&fx);
}

#[test]
fn save_with_apps_missing_names_them_and_all_online_is_safe() {
    let fx = Pm2Fixture::start(&SEVEN);
    assert!(fx.pm2_cmd(&["save"]).status.success());
    let gone = [
        "flyer-crawler-api-test",
        "flyer-crawler-worker-test",
        "flyer-crawler-analytics-worker-test",
        "flyer-crawler-analytics-worker",
    ];
    for g in gone {
        assert!(fx.pm2_cmd(&["delete", g]).status.success());
    }
    let mut app = new_app();
    observe(&mut app, &fx.home, 1);
    let v = classify("pm2 save", &app.guard_context());
    assert_eq!(v.class, Class::Caution, "{v:?}");
    assert!(
        v.reason
            .contains("the saved list has 7 app(s); saving now keeps 3"),
        "{}",
        v.reason
    );
    for g in gone {
        assert!(v.reason.contains(g), "{g} not named: {}", v.reason);
    }
    let cfg = sandbox_dir().join("sandbox.config.cjs");
    let out = support::pm2_fixture::run_with_timeout(
        fx.command(&["start", &cfg.to_string_lossy(), "--only", &gone.join(",")]),
        Duration::from_secs(60),
    );
    assert!(out.status.success());
    fx.wait_until(Duration::from_secs(30), "all online", |l| {
        SEVEN.iter().all(|n| {
            l.iter()
                .any(|p| p.name == *n && p.status.as_str() == "online")
        })
    });
    observe(&mut app, &fx.home, 2);
    let v = classify("pm2 save", &app.guard_context());
    assert_eq!(v.class, Class::Safe, "{v:?}");
}

#[test]
fn an_orphan_holding_an_app_port_is_warned_before_any_start() {
    let mut app = new_app();
    let port = free_inventory_port(&app);
    let (mut child, _) = pm2_incident::pm2::orphans::node_listener(port);
    app.update(
        Msg::Pm2(Reading {
            source: SourceKind::Rpc,
            daemon: DaemonState::DiedUncleanly {
                last_pid: None,
                last_pid_alive: false,
            },
            processes: None,
            warnings: vec![],
            error: None,
        }),
        at(1),
    );
    app.update(
        Msg::NodeProcesses(pm2_incident::pm2::orphans::scan_node_processes()),
        at(1),
    );
    let _ = child.kill();
    let _ = child.wait();
    let notes = app.plan().notes.clone();
    assert!(
        notes
            .iter()
            .any(|n| n.contains(&format!("pid {} ", child.id()))
                && n.contains(&format!("port {port}"))
                && n.contains("EADDRINUSE")),
        "{notes:?}"
    );
}
