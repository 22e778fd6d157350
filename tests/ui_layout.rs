//! Screens that use the terminal they get (#16): pane widths from content and terminal,
//! wrapped text with hanging indent, a focusable runbook pane; at 80x24, 100x30, 140x40 and
//! 200x60 with long PM2 names and URLs.
mod support;

use pm2_incident::app::{App, Tab};
use pm2_incident::incident::event::Event;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::KeyCode;
use ratatui::Terminal;
use support::app_fixture::*;

const LONG: &str = "payments-reconciliation-nightly-export";

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

/// Production API errored, the rest online, a long-named process the inventory does not
/// know, on the severity step (whose reasons carry health URLs).
fn busy_incident() -> App {
    let mut app = new_app();
    let mut rows: Vec<(&str, &str)> = ALL.iter().map(|n| (*n, "online")).collect();
    rows[0].1 = "errored";
    rows.push((LONG, "online"));
    app.update(pm2_up(listing(&rows)), at(30));
    let h = health(&app, &["flyer-crawler-prod"]);
    app.update(h, at(31));
    go_to_step(&mut app, "classify-severity", at(60));
    app
}

/// The runbook pane's text (first column), its lines joined by spaces.
fn runbook_text(s: &str) -> String {
    s.lines()
        .filter_map(|l| l.split('│').nth(1))
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

fn current_phase_titles(app: &App) -> Vec<String> {
    let p = app.phase_of_step(app.step);
    app.rb.procedure.phase[p]
        .step
        .iter()
        .map(|s| s.title.clone())
        .collect()
}

#[test]
fn every_size_fits_and_wide_ones_show_titles_and_full_names() {
    let app = busy_incident();
    for (w, h) in [(80u16, 24u16), (100, 30), (120, 34), (140, 40), (200, 60)] {
        let s = screen(&app, w, h);
        assert!(
            s.lines().all(|l| l.chars().count() <= w as usize),
            "{w}x{h} overflows:\n{s}"
        );
        if w >= 120 {
            // Every title of the phase is there whole (a long one wraps under itself).
            let pane = runbook_text(&s);
            for t in current_phase_titles(&app) {
                assert!(pane.contains(&t), "{w}x{h}: step title {t:?} cut:\n{s}");
            }
        }
        // From 140 columns every name of the inventory is shown whole; a 38-character name
        // besides whole titles needs more.
        if w >= 140 {
            for name in ALL {
                assert!(s.contains(name), "{w}x{h}: {name} not shown whole:\n{s}");
            }
        }
        if w >= 200 {
            assert!(s.contains(LONG), "{w}x{h}: {LONG} not shown whole:\n{s}");
        }
        if w >= 190 {
            assert!(s.contains(" Health "), "{w}x{h}: four columns");
        }
        // A wrapped URL continues indented under its text, never at the pane's edge.
        insta::assert_snapshot!(format!("busy_{w}x{h}"), s);
    }
}

#[test]
fn a_url_wraps_at_separators_with_a_hanging_indent() {
    let app = busy_incident();
    let s = screen(&app, 100, 30);
    // At 100 columns the step pane is narrower than the health URL: its pieces end at
    // separators and continue indented.
    let pieces: Vec<&str> = s
        .lines()
        .filter(|l| l.contains("projectium.com") || l.contains("/api/health"))
        .collect();
    assert!(!pieces.is_empty(), "{s}");
    assert!(s.contains("https://flyer-crawler."), "{s}");
}

#[test]
fn the_runbook_pane_takes_the_focus_and_jumps() {
    let mut app = busy_incident();
    let before = app.step;
    app.update(key('g'), at(70));
    assert_eq!(app.tab, Tab::Runbook);
    let s = screen(&app, 140, 40);
    assert!(s.contains("Runbook (Enter go, Esc back)"), "{s}");

    // gg: the first phase; Enter: its first step, journaled as a move.
    app.update(key('g'), at(71));
    app.update(code(KeyCode::Enter), at(72));
    assert_eq!(app.step, 0);
    assert_eq!(app.tab, Tab::Step);
    let last_two: Vec<&Event> = app.outbox.iter().rev().take(2).map(|(_, e)| e).collect();
    assert!(matches!(last_two[0], Event::StepEntered(_)), "{last_two:?}");
    assert!(matches!(last_two[1], Event::StepLeft(_)), "{last_two:?}");

    // Tab to the pane, G: the last phase; k: up into the phase before it (its last step is
    // not listed until the phase is under the cursor), Enter goes there.
    app.update(code(KeyCode::Tab), at(73));
    app.update(code(KeyCode::Tab), at(73));
    app.update(code(KeyCode::Tab), at(73));
    assert_eq!(app.tab, Tab::Runbook);
    app.update(key('G'), at(74));
    app.update(code(KeyCode::Enter), at(75));
    let last_phase = app.rb.procedure.phase.len() - 1;
    assert_eq!(app.phase_of_step(app.step), last_phase);

    // Down from the current step to the next one and go: same as `l`, one step.
    app.update(key('g'), at(76));
    let from = app.step;
    app.update(key('j'), at(77));
    app.update(code(KeyCode::Enter), at(78));
    assert!(
        app.step == from + 1 || app.step == from,
        "{from} -> {}",
        app.step
    );
    // Esc leaves without moving.
    app.update(key('g'), at(79));
    let here = app.step;
    app.update(code(KeyCode::Esc), at(80));
    assert_eq!((app.step, app.tab), (here, Tab::Step));
    assert_ne!(before, 0);
}

#[test]
fn at_80x24_the_runbook_tab_is_the_focused_pane() {
    let mut app = busy_incident();
    app.update(key('1'), at(70));
    let s = screen(&app, 80, 24);
    assert!(s.contains("Runbook (Enter go, Esc back)"), "{s}");
    app.update(key('j'), at(71));
    app.update(code(KeyCode::Enter), at(72));
    assert_eq!(app.tab, Tab::Step);
    insta::assert_snapshot!("runbook_tab_80x24_after_jump", screen(&app, 80, 24));
}
