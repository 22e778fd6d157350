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
