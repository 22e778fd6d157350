//! A dead PM2 daemon read over ssh (a real sshd, a real PM2 whose daemon is SIGKILLed): the
//! saved list (`dump.pm2`) and the server's Node processes reach the app as they do locally,
//! so the restore plan, the orphan warning and the dead-daemon guard are the local ones.
//! Nothing is started on the server.
mod support;

use pm2_incident::app::{App, Msg};
use pm2_incident::assess::PlanAction;
use pm2_incident::guard::daemon::STARTS_EMPTY_DAEMON;
use pm2_incident::guard::{classify, Class};
use pm2_incident::pm2::source::{self, SourceArgs};
use pm2_incident::pm2::{probe_daemon, read_saved_list, DaemonKind, DaemonState};
use pm2_incident::remote::{
    observe_remote, observe_remote_cached, Dest, SavedCache, Session, SessionOptions, SshCommand,
};
use support::app_fixture::{at, free_inventory_port, new_app};
use support::pm2_fixture::Pm2Fixture;
use support::sshd::{sockets_under, ssh_processes_mentioning, Sshd};

const SEVEN: [&str; 7] = [
    "flyer-crawler-api",
    "flyer-crawler-worker",
    "flyer-crawler-analytics-worker",
    "flyer-crawler-api-test",
    "flyer-crawler-worker-test",
    "flyer-crawler-analytics-worker-test",
    "stock-alert-api",
];

fn session(sshd: &Sshd, host: &str, rt: &std::path::Path) -> Session {
    Session::connect(
        SshCommand::parse(Some(&sshd.ssh_command())),
        Dest::parse(host).unwrap(),
        SessionOptions {
            runtime_base: Some(rt.to_path_buf()),
            ..SessionOptions::default()
        },
    )
    .expect("connect")
}

/// The app as the ssh poller feeds it.
fn app_over_ssh(r: &pm2_incident::remote::observe::RemoteReading) -> App {
    let mut app = new_app();
    app.update(Msg::Pm2(r.reading.clone()), at(1));
    app.update(Msg::Saved(r.saved.clone().expect("saved list read")), at(1));
    app.update(Msg::NodeProcesses(r.nodes.clone()), at(1));
    app
}

/// The app as the local poller feeds it, on the server itself.
fn app_local(fx: &Pm2Fixture) -> App {
    let mut app = new_app();
    let r = source::observe(&SourceArgs {
        pm2_home: Some(fx.dir().to_path_buf()),
        ..SourceArgs::default()
    });
    app.update(Msg::Pm2(r), at(1));
    app.update(Msg::Saved(read_saved_list(&fx.home)), at(1));
    app.update(
        Msg::NodeProcesses(pm2_incident::pm2::orphans::scan_node_processes()),
        at(1),
    );
    app
}

#[test]
fn a_dead_daemon_over_ssh_plans_and_guards_as_locally() {
    let fx = Pm2Fixture::start(&SEVEN);
    assert!(fx.pm2_cmd(&["save"]).status.success());
    fx.kill_daemon();
    let mut sshd = Sshd::start();
    let host = sshd.alias("web1", Some(fx.dir()));
    let rt = tempfile::tempdir().unwrap();
    let s = session(&sshd, &host, rt.path());

    let r = observe_remote(&s, None, 3000);
    assert!(
        matches!(r.reading.daemon, DaemonState::DiedUncleanly { .. }),
        "{:?}",
        r.reading
    );
    let saved = r.saved.as_ref().and_then(|s| s.list()).expect("saved list");
    assert_eq!(saved.apps().len(), 7);
    assert_eq!(saved.path, fx.dir().join("dump.pm2"));
    assert!(saved.saved_at_ms.is_some());
    // Only names and states crossed into the model: no environment value.
    assert!(!format!("{:?}", r.saved).contains(&fx.canary));

    let remote = app_over_ssh(&r);
    assert_eq!(remote.pm2_daemon, Some(DaemonKind::Died));
    let plan = remote.plan().clone();
    assert_eq!(plan.items[0].action, PlanAction::Resurrect, "{plan:?}");
    for name in SEVEN {
        assert!(plan.items[0].processes.contains(&name.to_string()));
    }
    let local = app_local(&fx);
    assert_eq!(plan.items, local.plan().items, "same plan as on the server");
    assert_eq!(
        remote.saved_list_lines()[0],
        local.saved_list_lines()[0],
        "the PM2 pane's saved-list line"
    );
    // The dead-daemon guard: a pm2 read would start an empty daemon; resurrect names the list.
    for line in ["pm2 list", "pm2 resurrect"] {
        let v = classify(line, &remote.guard_context());
        assert_eq!(v.class, Class::Caution, "{line}: {v:?}");
        assert_eq!(v, classify(line, &local.guard_context()), "{line}");
    }
    assert!(classify("pm2 list", &remote.guard_context())
        .reason
        .contains(STARTS_EMPTY_DAEMON));

    // `E` over ssh keeps what a local `E` keeps, byte for byte (0700 dir, 0600 files, hashes).
    let ev = tempfile::tempdir().unwrap();
    let over_ssh =
        pm2_incident::remote::evidence::preserve(&s, fx.dir(), &ev.path().join("remote"))
            .expect("evidence over ssh");
    let here = pm2_incident::evidence::preserve(&fx.home, &ev.path().join("local")).unwrap();
    let files = |r: &pm2_incident::incident::event::EvidencePreserved| {
        r.files
            .iter()
            .map(|f| (f.name.clone(), f.sha256.clone()))
            .collect::<Vec<_>>()
    };
    let kept = files(&over_ssh);
    for name in [
        "pm2.log.tail",
        "dump.pm2",
        "pm2.pid",
        "pid-proc.txt",
        "node-processes.txt",
    ] {
        assert!(kept.iter().any(|(n, _)| n == name), "{name} kept: {kept:?}");
    }
    for name in ["pm2.log.tail", "dump.pm2", "pm2.pid", "pid-proc.txt"] {
        let sha = |r: &[(String, String)]| r.iter().find(|(n, _)| n == name).cloned();
        assert_eq!(
            sha(&kept),
            sha(&files(&here)),
            "{name} as a local E keeps it"
        );
    }
    assert_eq!(over_ssh.pid, here.pid);
    assert!(over_ssh.pid.contains("no such process"), "{}", over_ssh.pid);
    assert_eq!(over_ssh.missing, here.missing);
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        let dir = std::path::Path::new(&over_ssh.dir);
        assert_eq!(mode(dir), 0o700);
        for f in &over_ssh.files {
            assert_eq!(mode(&dir.join(&f.name)), 0o600, "{}", f.name);
        }
        assert_eq!(
            std::fs::read(dir.join("dump.pm2")).unwrap(),
            std::fs::read(fx.dir().join("dump.pm2")).unwrap()
        );
    }
    // The record (what the journal gets) names files and hashes, never their content.
    assert!(!serde_json::to_string(&over_ssh)
        .unwrap()
        .contains(&fx.canary));

    // Polling again: the unchanged list is not sent again, and reads the same.
    let mut cache = SavedCache::default();
    let first = observe_remote_cached(&s, None, 3000, &mut cache);
    let again = observe_remote_cached(&s, None, 3000, &mut cache);
    assert_eq!(first.saved, again.saved);
    assert_eq!(again.saved, r.saved);
    // A changed list is read again.
    std::fs::write(fx.dir().join("dump.pm2"), "[]").unwrap();
    let emptied = observe_remote_cached(&s, None, 3000, &mut cache);
    assert_eq!(
        emptied
            .saved
            .as_ref()
            .and_then(|s| s.list())
            .map(|l| l.apps().len()),
        Some(0)
    );

    // Nothing was started on the server; nothing is left here.
    assert!(!matches!(probe_daemon(&fx.home), DaemonState::Up { .. }));
    drop(s);
    assert!(sockets_under(rt.path()).is_empty());
    assert!(ssh_processes_mentioning(&rt.path().display().to_string()).is_empty());
}

#[test]
fn an_orphan_on_the_server_is_warned_before_any_start() {
    let fx = Pm2Fixture::start(&["flyer-crawler-worker"]);
    fx.kill_daemon();
    let mut sshd = Sshd::start();
    let host = sshd.alias("web1", Some(fx.dir()));
    let rt = tempfile::tempdir().unwrap();
    let app = new_app();
    let port = free_inventory_port(&app);
    let (mut child, _) = pm2_incident::pm2::orphans::node_listener(port);
    let s = session(&sshd, &host, rt.path());
    let r = observe_remote(&s, None, 3000);
    let _ = child.kill();
    let _ = child.wait();
    let mine = r
        .nodes
        .iter()
        .find(|p| p.pid == child.id())
        .unwrap_or_else(|| panic!("the orphan is listed: {:?}", r.nodes));
    assert_eq!(mine.ports, vec![port]);
    let app = app_over_ssh(&r);
    assert_eq!(app.pm2_daemon, Some(DaemonKind::Died), "{:?}", r.reading);
    let notes = app.plan().notes.clone();
    assert!(
        notes
            .iter()
            .any(|n| n.contains(&format!("pid {} ", child.id()))
                && n.contains(&format!("port {port}"))
                && n.contains("EADDRINUSE")),
        "{notes:?}"
    );
    // The server's saved list is missing (never saved): said, not guessed.
    assert!(
        app.saved_list_lines()[0].contains("none (no dump.pm2"),
        "{:?}",
        app.saved_list_lines()
    );
}
