//! Drill `daemon-killed`: typing `pm2 list` first asks for confirmation and says why
//! (it starts an empty daemon), and the debrief counts it when run anyway.
mod support;

use pm2_incident::app::{Msg, Popup};
use pm2_incident::drill::{self, sim};
use pm2_incident::guard::daemon::STARTS_EMPTY_DAEMON;
use ratatui::crossterm::event::KeyCode;
use support::app_fixture::{at, code, key, new_app, type_str};

#[test]
fn pm2_list_in_the_daemon_killed_drill_asks_first_and_the_debrief_counts_it() {
    let mut app = new_app();
    let s = drill::builtin("daemon-killed", &app.rb.inventory).unwrap();
    let st = sim::new_state(&s, &app.rb.inventory, "/h", 1_795_000_000_000);
    app.drill = Some(s);
    app.update(Msg::Pm2(drill::snapshot(&st)), at(1));
    assert_eq!(app.pm2_daemon, Some(pm2_incident::pm2::DaemonKind::Died));

    app.update(key(':'), at(2));
    type_str(&mut app, "pm2 list", at(2));
    let eff = app.update(code(KeyCode::Enter), at(3));
    assert!(eff.is_empty(), "ran without asking: {eff:?}");
    let Some(Popup::Confirm { reason, token, .. }) = app.popup.clone() else {
        panic!("no confirmation: {:?}", app.popup)
    };
    assert!(reason.contains(STARTS_EMPTY_DAEMON), "{reason}");

    // Confirmed anyway: it runs, and the debrief names it.
    type_str(&mut app, &token, at(4));
    let eff = app.update(code(KeyCode::Enter), at(4));
    assert_eq!(eff.len(), 1, "{eff:?}");
    app.show_debrief();
    let Some(Popup::Debrief { lines, .. }) = app.popup.clone() else {
        panic!("{:?}", app.popup)
    };
    assert!(
        lines
            .iter()
            .any(|l| l.contains("`pm2 list` ran with the daemon down")),
        "{lines:#?}"
    );
}
