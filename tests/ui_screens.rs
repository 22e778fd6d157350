//! Whole screens drawn by `ui::draw` into ratatui's TestBackend, snapshotted with
//! insta (fixed clock; no colour so the text is what is compared).
mod support;

use pm2_incident::app::App;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::KeyCode;
use ratatui::Terminal;
use support::app_fixture::*;

fn screen(app: &App, w: u16, h: u16) -> String {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| pm2_incident::ui::draw(f, app)).unwrap();
    let buf = t.backend().buffer().clone();
    let mut out = String::new();
    for y in 0..h {
        let line: String = (0..w).map(|x| buf[(x, y)].symbol().to_string()).collect();
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

fn incident_at_severity() -> App {
    let mut app = new_app();
    everything_down(&mut app, at(60));
    go_to_step(&mut app, "classify-severity", at(432));
    app
}

#[test]
fn severity_step_wide() {
    let app = incident_at_severity();
    let s = screen(&app, 100, 30);
    assert!(s.contains("P1 CRITICAL (all apps down)"));
    assert!(s.contains("flyer-crawler-api") && s.contains("missing"));
    assert!(s.contains("00:07:12"));
    insta::assert_snapshot!("severity_100x30", s);
}

#[test]
fn severity_step_narrow_tabs() {
    let mut app = incident_at_severity();
    let s = screen(&app, 80, 24);
    assert!(s.contains("1 Runbook") && s.contains("2 Step") && s.contains("3 PM2"));
    assert!(s.lines().all(|l| l.chars().count() <= 80));
    insta::assert_snapshot!("severity_80x24", s);
    app.update(key('3'), at(433));
    let s = screen(&app, 80, 24);
    assert!(s.contains("stock-alert-*"));
    insta::assert_snapshot!("pm2_tab_80x24", s);
}

#[test]
fn restore_plan_after_accepting() {
    let mut app = incident_at_severity();
    app.update(code(KeyCode::Enter), at(440));
    go_to_step(&mut app, "scenario-d", at(450));
    let s = screen(&app, 100, 30);
    assert!(s.contains("P1 - Critical"));
    assert!(s.contains("scenario D applies"));
    insta::assert_snapshot!("scenario_d_100x30", s);
}

#[test]
fn four_columns_on_a_big_terminal() {
    let app = incident_at_severity();
    let s = screen(&app, 160, 40);
    assert!(s.contains(" PM2 ") && s.contains(" Health "));
    insta::assert_snapshot!("severity_160x40", s);
}

#[test]
fn refusal_popup() {
    let mut app = new_app();
    app.update(key(':'), at(1));
    type_str(&mut app, "pm2 restart all", at(1));
    app.update(code(KeyCode::Enter), at(2));
    let s = screen(&app, 100, 30);
    assert!(s.contains("REFUSED"));
    insta::assert_snapshot!("refused_100x30", s);
}

#[test]
fn help_is_generated_from_the_keymap() {
    let mut app = new_app();
    app.update(key('?'), at(1));
    let s = screen(&app, 100, 30);
    for b in pm2_incident::app::MAIN.bindings {
        assert!(
            s.contains(&b.help[..b.help.len().min(30)]),
            "help lacks {:?}",
            b.help
        );
    }
    insta::assert_snapshot!("help_100x30", s);
}

/// `respond --host web1`: the server every command runs on is in the header, the step's
/// title, the selected command's detail and the run confirmation; a dropped link shows in
/// the header until it is back.
#[test]
fn over_ssh_the_host_is_shown_where_commands_run() {
    use pm2_incident::app::{Msg, RemoteView, StepItem};
    let mut app = new_app();
    app.remote = Some(RemoteView {
        host: "web1".into(),
        link_down: None,
    });
    app.update(pm2_up(listing(&ALL.map(|n| (n, "online")))), at(5));
    go_to_step(&mut app, "gather-info", at(10));
    app.selected = app
        .items()
        .iter()
        .position(|i| matches!(i, StepItem::Command { text, .. } if text == "pm2 list"))
        .expect("pm2 list in the gather step");
    let s = screen(&app, 120, 35);
    assert!(s.lines().next().unwrap().contains(" on web1 "), "{s}");
    assert!(s.contains("commands run on web1"), "{s}");
    assert!(s.contains("on web1, in /srv"), "{s}");
    insta::assert_snapshot!("over_ssh_gather_120x35", s);

    // A caution command's confirmation names the host.
    app.update(key(':'), at(11));
    type_str(&mut app, "kill 123", at(11));
    let s = screen(&app, 120, 35);
    assert!(s.contains("Run a command on web1"), "{s}");
    app.update(code(KeyCode::Enter), at(12));
    let s = screen(&app, 120, 35);
    assert!(s.contains("CAUTION"), "{s}");
    assert!(s.contains("on web1, in /srv"), "{s}");
    app.update(code(KeyCode::Esc), at(13));

    // The link drops: the header says so until a reading gets through again.
    app.update(
        Msg::Link {
            up: false,
            detail: "ssh to web1: Connection refused".into(),
        },
        at(14),
    );
    let s = screen(&app, 120, 35);
    let header = s.lines().next().unwrap();
    assert!(header.contains("SSH LINK DOWN, reconnecting"), "{header}");
    assert!(header.contains("INC-20260217-0412"), "{header}");
    insta::assert_snapshot!("over_ssh_link_down_120x35", s);
    let s = screen(&app, 200, 40);
    assert!(
        s.lines()
            .next()
            .unwrap()
            .contains("SSH LINK DOWN (ssh to web1: Connection refused)"),
        "{s}"
    );
    app.update(
        Msg::Link {
            up: true,
            detail: String::new(),
        },
        at(20),
    );
    let s = screen(&app, 120, 35);
    assert!(!s.contains("SSH LINK DOWN"), "{s}");
    // Narrow: still there, shorter.
    app.update(
        Msg::Link {
            up: false,
            detail: "x".into(),
        },
        at(21),
    );
    let s = screen(&app, 80, 24);
    assert!(s.lines().next().unwrap().contains("SSH DOWN"), "{s}");
}

#[test]
fn help_scrolls_to_every_layer_and_popups_say_their_keys_from_the_same_tables() {
    let mut app = new_app();
    app.update(key('?'), at(1));
    for _ in 0..60 {
        app.update(key('j'), at(1));
    }
    let s = screen(&app, 100, 30);
    for layer in [
        pm2_incident::app::keymap::COMPOSE.layer,
        pm2_incident::app::keymap::SCROLL.layer,
    ] {
        assert!(
            s.contains(&layer.to_uppercase()),
            "help lacks {layer}:\n{s}"
        );
    }
    assert!(s.contains("record it as sent"), "{s}");
    // Any key that is not a scroll key closes the help.
    app.update(key('x'), at(2));
    assert_eq!(app.popup, None);
    // The note editor's title is its keymap's hints.
    app.update(key('n'), at(3));
    let s = screen(&app, 100, 30);
    assert!(
        s.contains(&pm2_incident::app::keymap::NOTE.hints(" · ")),
        "{s}"
    );
}

/// A caution prompt whose reason is longer than the screen: the reason wraps and is cut
/// with `…`, the line that names what to type and the typed text always show.
#[test]
fn caution_prompt_keeps_the_token_line_with_a_long_reason() {
    let mut app = new_app();
    let apps: Vec<String> = (1..=80).map(|i| format!("billing-worker-{i:02}")).collect();
    app.popup = Some(pm2_incident::app::Popup::Confirm {
        text: "pm2 resurrect".into(),
        dir: "/var/www/flyer-crawler.projectium.com".into(),
        reason: format!(
            "`pm2 resurrect` starts the saved list: {}; PM2's daemon died: it also starts a new PM2 daemon (preserve the evidence first)",
            apps.join(", ")
        ),
        targets: vec![],
        token: "confirm".into(),
        typed: "conf".into(),
    });
    let s = screen(&app, 80, 24);
    assert!(
        s.contains("type confirm and Enter to run, Esc to cancel"),
        "{s}"
    );
    assert!(s.contains("> conf"), "{s}");
    assert!(s.contains("touches: -"), "{s}");
    assert!(s.contains('…'), "the cut reason is marked: {s}");
    assert!(s.lines().all(|l| l.chars().count() <= 80));
    insta::assert_snapshot!("confirm_long_reason_80x24", s);
}

/// The daemon-killed trap's own prompt at 80x24 (the reason names why `pm2 list` is a
/// state change): all of it shows, token line included.
#[test]
fn the_empty_daemon_prompt_fits_80x24() {
    use pm2_incident::drill::{self, sim};
    let mut app = new_app();
    let s = drill::builtin("daemon-killed", &app.rb.inventory).unwrap();
    let st = sim::new_state(&s, &app.rb.inventory, "/h", 1_795_000_000_000);
    app.drill = Some(s);
    app.update(pm2_incident::app::Msg::Pm2(drill::snapshot(&st)), at(1));
    app.update(key(':'), at(2));
    type_str(&mut app, "pm2 list", at(2));
    app.update(code(KeyCode::Enter), at(3));
    let s = screen(&app, 80, 24);
    assert!(s.contains("CAUTION"), "{s}");
    assert!(s.contains("and Enter to run, Esc to cancel"), "{s}");
    assert!(s.contains("state is lost"), "{s}");
    assert!(!s.contains('…'), "nothing needed cutting: {s}");
}

fn briefed(sandbox: Option<pm2_incident::drill::sandbox::Brief>) -> App {
    let mut app = new_app();
    app.drill = Some(pm2_incident::drill::builtin("daemon-killed", &app.rb.inventory).unwrap());
    app.sandbox = sandbox;
    app.popup = Some(pm2_incident::app::Popup::Briefing);
    app
}

/// A sandbox drill's page says what answers: a real PM2, in which throwaway home, and what
/// was injected into it; a simulated one says simulator.
#[test]
fn the_briefing_names_the_world_the_drill_runs_in() {
    let app = briefed(Some(pm2_incident::drill::sandbox::Brief {
        home: "/tmp/p2i-sbx-Ab12Cd/h".into(),
        pm2: "/opt/pm2-npm/node_modules/pm2/bin/pm2".into(),
        injected: vec!["`kill -9` of the PM2 daemon".into()],
    }));
    let s = screen(&app, 100, 30);
    assert!(s.contains("real PM2"), "{s}");
    assert!(s.contains("PM2_HOME=/tmp/p2i-sbx-Ab12Cd/h"), "{s}");
    assert!(s.contains("- `kill -9` of the PM2 daemon"), "{s}");
    assert!(!s.contains("simulator"), "{s}");
    assert!(s.contains("any key starts"), "{s}");
    insta::assert_snapshot!("briefing_sandbox_100x30", s);
    // Small terminal: the page is cut, the key to start is not.
    let s = screen(&app, 80, 24);
    assert!(s.contains("any key starts"), "{s}");
    let s = screen(&briefed(None), 100, 30);
    assert!(s.contains("answer from a simulator"), "{s}");
    assert!(!s.contains("real PM2"), "{s}");
}

/// The debrief on a small terminal: what does not fit ends in `…`, j/k scroll it, and the
/// keys stay in its bottom border.
#[test]
fn the_debrief_scrolls_and_keeps_its_keys_on_a_small_terminal() {
    let mut app = new_app();
    app.drill = Some(pm2_incident::drill::builtin("delete-all", &app.rb.inventory).unwrap());
    app.show_debrief();
    let s = screen(&app, 80, 24);
    assert!(s.contains("Drill debrief: Every app gone"), "{s}");
    assert!(s.contains("j/k scroll · q quits"), "{s}");
    assert!(s.contains('…'), "the rest is marked: {s}");
    assert!(!s.contains("Root cause"), "{s}");
    for _ in 0..40 {
        app.update(key('j'), at(2));
    }
    let s = screen(&app, 80, 24);
    assert!(!s.contains("Drill debrief: Every app gone"), "{s}");
    assert!(s.contains("Expected: delete-all-in-workflow"), "{s}");
    assert!(s.contains("j/k scroll · q quits"), "{s}");
    app.update(key('k'), at(3));
    assert!(matches!(
        app.popup,
        Some(pm2_incident::app::Popup::Debrief { scroll, .. }) if scroll > 0
    ));
}
