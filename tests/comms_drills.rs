//! Communications for every shipped drill scenario: the notification and the first status
//! update, filled from what the simulated server shows, against golden files, and checked to
//! say nothing the assessment contradicts (one app down is not "Multiple Apps Down"; a PM2
//! that lists processes did not have "All PM2 processes ... terminated").
mod support;

use pm2_incident::app::{App, Msg};
use pm2_incident::comms::{fill, CommsContext};
use pm2_incident::drill::{self, http, sim, ExpectedSeverity};
use support::app_fixture::*;

const START: i64 = 1_795_000_000_000;

/// The app after seeing the scenario's server a minute into the drill.
fn observed(id: &str) -> App {
    let mut app = new_app();
    let s = drill::builtin(id, &app.rb.inventory).unwrap_or_else(|e| panic!("{id}: {e:?}"));
    let mut st = sim::new_state(&s, &app.rb.inventory, "/tmp/drill-home", START);
    sim::advance(&mut st, START + 60_000);
    app.update(Msg::Pm2(drill::snapshot(&st)), at(60));
    let health = http::health_round(&st, &app.rb.inventory.health_targets());
    app.update(Msg::Health(health), at(61));
    app
}

fn code(e: ExpectedSeverity) -> &'static str {
    match e {
        ExpectedSeverity::P1 => "P1",
        ExpectedSeverity::P2 => "P2",
        ExpectedSeverity::P3 => "P3",
    }
}

#[test]
fn every_drill_scenario_gets_communications_that_match_its_assessment() {
    let list = drill::list();
    assert!(list.len() >= 5);
    for (id, _, expected) in list {
        let app = observed(&id);
        let ctx = CommsContext::new(&app.rb, &app.incident, at(120), 15);
        let n = fill("incident-notification", &ctx).unwrap();
        let u = fill("status-update", &ctx).unwrap();
        let text = format!("{}\n{}\n{}\n{}", n.subject, n.body, u.subject, u.body);

        assert!(
            n.subject
                .contains(&format!("[{} INCIDENT]", code(expected))),
            "{id}: {}",
            n.subject
        );
        let scope = &app.assessment.scope;
        let mut apps: Vec<&str> = scope.affected().map(|d| d.app.as_str()).collect();
        apps.sort();
        apps.dedup();
        let prod_down = scope
            .affected()
            .filter(|d| d.environment == pm2_incident::runbook::Environment::Production)
            .count();
        if apps.len() < 2 {
            assert!(!text.contains("Multiple Apps Down"), "{id}:\n{text}");
        }
        if prod_down < 2 {
            assert!(
                !text.contains("Multiple production applications"),
                "{id}:\n{text}"
            );
        }
        if app.processes.as_ref().is_some_and(|p| !p.is_empty()) {
            assert!(!text.contains("All PM2 processes"), "{id}:\n{text}");
        }
        // Every affected deployment is named; a deployment the assessment finds fine is
        // never reported DOWN.
        for d in scope.affected() {
            assert!(n.body.contains(&d.id), "{id}: {} not named:\n{text}", d.id);
        }
        for d in scope.deployments.iter().filter(|d| !d.affected()) {
            assert!(
                !n.body.contains(&format!("{} (since", d.id)),
                "{id}: {} said down:\n{text}",
                d.id
            );
        }
        // Nothing invented: the commander and other unknowns stay visible placeholders.
        assert!(!text.contains("projectium.com server"), "{id}:\n{text}");
        insta::assert_snapshot!(format!("drill_{id}"), text);
    }
}
