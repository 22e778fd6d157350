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
