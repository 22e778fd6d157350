//! The app with real deployments: a deploy script running (a real process tree) is read
//! from /proc, shown in the header and in Stop Ongoing Deployments; stopping it needs the
//! typed token, is journaled, and the command the app emits, run for real, ends the tree.
//! The freeze is offered at the severity decision and the reminder shows at verification.
mod support;

use std::path::Path;
use std::process::Command;

use pm2_incident::app::{App, Effect, Popup, StepItem};
use pm2_incident::deploy::{self, freeze, Rules};
use pm2_incident::incident::event::Event;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::KeyCode;
use ratatui::Terminal;
use support::app_fixture::*;

const EXE: &str = env!("CARGO_BIN_EXE_pm2-incident");

fn screen(app: &App, w: u16, h: u16) -> String {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| pm2_incident::ui::draw(f, app)).unwrap();
    let buf = t.backend().buffer().clone();
    (0..h)
        .map(|y| {
            (0..w)
                .map(|x| buf[(x, y)].symbol().to_string())
                .collect::<String>()
                + "\n"
        })
        .collect()
}

fn live(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| Some(s[s.rfind(')')? + 1..].split_whitespace().next()? != "Z"))
        .unwrap_or(false)
}

fn run(effects: &[Effect]) -> std::process::Output {
    let Some(Effect::Run { text, dir, .. }) =
        effects.iter().find(|e| matches!(e, Effect::Run { .. }))
    else {
        panic!("no Run effect in {effects:?}");
    };
    Command::new("/bin/sh")
        .arg("-c")
        .arg(text)
        .current_dir(dir)
        .output()
        .unwrap()
}

fn select(app: &mut App, pred: impl Fn(&StepItem) -> bool, now: chrono::DateTime<chrono::Utc>) {
    let i = app
        .items()
        .iter()
        .position(pred)
        .expect("item on this step");
    while app.selected < i {
        app.update(key('j'), now);
    }
    assert_eq!(app.selected, i);
}

#[test]
fn a_running_deploy_is_shown_and_stopped_from_the_step() {
    let tmp = tempfile::tempdir().unwrap();
    let www = tmp.path().join("www");
    std::fs::create_dir(&www).unwrap();
    std::fs::write(
        tmp.path().join("deploy.sh"),
        "sleep 300 &\nwhile :; do sleep 1; done\n",
    )
    .unwrap();
    let out = Command::new("/bin/sh")
        .arg("-c")
        .arg("setsid /bin/sh ../deploy.sh </dev/null >/dev/null 2>&1 & echo $!")
        .current_dir(&www)
        .output()
        .unwrap();
    let pid: i32 = String::from_utf8_lossy(&out.stdout).trim().parse().unwrap();
    let mut end = EndGroup(pid);
    let rules = Rules {
        dirs: vec![("flyer-crawler-prod".into(), www.clone())],
        ..Rules::default()
    };
    let mut found = vec![];
    for _ in 0..200 {
        found = deploy::scan_with(Path::new("/proc"), &rules)
            .into_iter()
            .filter(|d| d.pid == pid && d.pids.len() >= 3)
            .collect();
        if !found.is_empty() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert_eq!(found.len(), 1, "the deploy tree was not seen");
    let tree = found[0].pids.clone();

    let mut app = new_app();
    app.exe = EXE.into();
    app.update(pm2_incident::app::Msg::Deploys(found), at(5));
    let s = screen(&app, 160, 30);
    assert!(
        s.contains(&format!("deploy running: flyer-crawler-prod, pid {pid}")),
        "{s}"
    );
    go_to_step(&mut app, "stop-deployments", at(10));
    select(&mut app, |i| matches!(i, StepItem::StopDeploy(0)), at(11));
    assert!(app
        .items()
        .iter()
        .any(|i| matches!(i, StepItem::Info(t) if t.contains("Gitea: not configured"))));
    let s = screen(&app, 160, 40);
    assert!(s.contains("[stop]"), "{s}");

    assert!(app.update(code(KeyCode::Enter), at(12)).is_empty());
    let Some(Popup::Confirm { token, text, .. }) = app.popup.clone() else {
        panic!("a stop needs a typed confirmation: {:?}", app.popup);
    };
    assert_eq!(token, format!("stop {pid}"));
    assert!(
        text.contains(&format!("deploy-stop --pid {pid}")) && text.contains("--group"),
        "{text}"
    );
    // A wrong token runs nothing.
    type_str(&mut app, "stop 1", at(13));
    assert!(app.update(code(KeyCode::Enter), at(14)).is_empty());
    for _ in 0..6 {
        app.update(code(KeyCode::Backspace), at(15));
    }
    type_str(&mut app, &token, at(16));
    app.outbox.clear();
    let effects = app.update(code(KeyCode::Enter), at(17));
    let started = app.outbox.iter().find_map(|(_, e)| match e {
        Event::CommandStarted(c) => Some(c.clone()),
        _ => None,
    });
    let started = started.expect("the stop is journaled");
    assert_eq!(started.confirmed_by.as_deref(), Some("oncall"));
    assert!(started.text.contains(&pid.to_string()));

    let out = run(&effects);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("no process of the deployment is left"));
    end.0 = 0; // stopped: the group id may be reused from here on
    for p in &tree {
        assert!(!live(*p), "pid {p} of the stopped deploy is alive");
    }
}

#[test]
fn freeze_offered_at_severity_and_reminded_at_verification() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("freeze.json");
    let mut app = new_app();
    app.exe = EXE.into();
    app.freeze_file = Some(file.display().to_string());
    app.update(pm2_incident::app::Msg::Freeze(freeze::read(&file)), at(1));
    everything_down(&mut app, at(60));
    go_to_step(&mut app, "classify-severity", at(100));
    select(&mut app, |i| matches!(i, StepItem::Freeze), at(101));
    let effects = app.update(code(KeyCode::Enter), at(102));
    let out = run(&effects);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let st = freeze::read(&file);
    let freeze::FreezeState::Frozen(f) = &st else {
        panic!("not frozen: {st:?}");
    };
    assert_eq!(f.incident.as_deref(), Some("INC-20260217-0412"));
    app.update(pm2_incident::app::Msg::Freeze(st), at(103));
    // Once frozen: no offer, and verification reminds to lift it.
    assert!(!app.items().contains(&StepItem::Freeze));
    go_to_step(&mut app, "verification-checklist", at(200));
    select(&mut app, |i| matches!(i, StepItem::Unfreeze), at(201));
    let out = run(&app.update(code(KeyCode::Enter), at(202)));
    assert!(out.status.success());
    assert_eq!(freeze::read(&file), freeze::FreezeState::NotFrozen);
}

#[test]
fn without_gitea_the_workflow_logs_step_offers_each_directory_s_reflog() {
    let mut app = new_app();
    go_to_step(&mut app, "workflow-logs", at(10));
    let reflogs: Vec<String> = app
        .items()
        .into_iter()
        .filter_map(|i| match i {
            StepItem::Command { text, .. } if text.contains("reflog") => Some(text),
            _ => None,
        })
        .collect();
    assert_eq!(reflogs.len(), app.rb.inventory.deployment.len());
    assert!(reflogs[0].starts_with("git -C /var/www/flyer-crawler.projectium.com reflog"));
}

/// Ends a detached test deploy's session group if the test fails before stopping it
/// (by its own group id, which the test created with `setsid`).
struct EndGroup(i32);
impl Drop for EndGroup {
    fn drop(&mut self) {
        if self.0 > 1 {
            // SAFETY: signalling the group of a process this test started.
            unsafe { libc::kill(-self.0, libc::SIGKILL) };
        }
    }
}
