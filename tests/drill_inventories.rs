//! Every built-in scenario is written in roles: on the shipped inventory and on another
//! site (other names, environments and priorities) the fault lands on that site's
//! processes, the expected severity is what `assess` computes from the simulated world,
//! and the restore plan follows that inventory's order. An inventory lacking a role is
//! a clear error naming the scenario, the role and the inventory.
use pm2_incident::assess::{self, Level, Observation, Pm2View};
use pm2_incident::drill::{self, http, sim, ExpectedSeverity, SimState};
use pm2_incident::runbook::{Runbook, Source};

const START: i64 = 1_795_000_000_000;
const OTHER: &str = include_str!("fixtures/drill/inventory-other.toml");
const OTHER_NAME: &str = "tests/fixtures/drill/inventory-other.toml";

fn shipped() -> Runbook {
    Runbook::embedded().expect("embedded runbook")
}

fn on(inv_text: &str, name: &str) -> Runbook {
    Runbook::parse(
        Source {
            name: pm2_incident::runbook::DEFAULT_PROCEDURE_NAME,
            text: pm2_incident::runbook::DEFAULT_PROCEDURE,
        },
        Source {
            name,
            text: inv_text,
        },
    )
    .unwrap_or_else(|e| panic!("{name}: {e:?}"))
}

fn assessed(rb: &Runbook, st: &SimState) -> assess::Assessment {
    let snap = drill::snapshot(st);
    let health = http::health_round(st, &rb.inventory.health_targets());
    let detail = snap.detail();
    let pm2 = Pm2View::from_parts(snap.processes.as_deref(), Some(snap.kind()), &detail);
    assess::assess(
        rb,
        &Observation {
            pm2,
            health: &health,
        },
    )
}

fn level(e: ExpectedSeverity) -> Level {
    match e {
        ExpectedSeverity::P1 => Level::P1,
        ExpectedSeverity::P2 => Level::P2,
        ExpectedSeverity::P3 => Level::P3,
    }
}

/// Not online in the simulator: (name, status) of every process PM2 lists that is down.
fn down(st: &SimState) -> Vec<String> {
    st.procs
        .iter()
        .filter(|p| p.status != drill::state::SimStatus::Online)
        .map(|p| p.name.clone())
        .collect()
}

/// (scenario, expected severity) per inventory: written from the runbook's tree by hand.
const SHIPPED_SEV: &[(&str, ExpectedSeverity)] = &[
    ("delete-all", ExpectedSeverity::P1),
    ("api-crash-loop", ExpectedSeverity::P2),
    ("test-killed", ExpectedSeverity::P3),
    ("oom-worker", ExpectedSeverity::P2),
    ("daemon-killed", ExpectedSeverity::P1),
];

#[test]
fn every_builtin_severity_follows_the_inventory_and_matches_assess() {
    for (rb, name) in [(shipped(), "shipped"), (on(OTHER, OTHER_NAME), OTHER_NAME)] {
        for (id, want) in SHIPPED_SEV {
            let s = drill::builtin_on(id, &rb.inventory, name)
                .unwrap_or_else(|e| panic!("{id} on {name}: {e:?}"));
            assert_eq!(s.expected(), *want, "{id} on {name}");
            assert!(!s.severity_note.is_empty(), "{id} on {name}: no note");
            let mut st = sim::new_state(&s, &rb.inventory, "/tmp/drill-home", START);
            for at in [START + 1_000, START + 300_000] {
                sim::advance(&mut st, at);
                let a = assessed(&rb, &st);
                assert_eq!(
                    a.severity.level,
                    level(*want),
                    "{id} on {name} at +{}s: {:?}",
                    (at - START) / 1000,
                    a.severity.reasons
                );
            }
        }
    }
}

#[test]
fn one_app_site_makes_delete_all_a_p2() {
    // Only one application: everything down is still a single app (P2), not P1.
    let text = OTHER
        .split("[[deployment]]\nid = \"billing-live\"")
        .next()
        .unwrap()
        .replace(
            "[[app]]\nid = \"billing\"\nname = \"Billing\"\n\n[[app]]\nid = \"blog\"\nname = \"Blog\"\n",
            "",
        );
    let text = format!(
        "{text}[[restore]]\nprocess = \"shop-web\"\nrationale = \"r\"\n\n[[restore]]\nprocess = \"shop-jobs\"\nrationale = \"r\"\n"
    );
    let rb = on(&text, "one-app.toml");
    let s = drill::builtin_on("delete-all", &rb.inventory, "one-app.toml").unwrap();
    assert_eq!(s.expected(), ExpectedSeverity::P2);
    assert!(s.severity_note.contains("only one application (Shop)"));
    let mut st = sim::new_state(&s, &rb.inventory, "/h", START);
    sim::advance(&mut st, START + 1000);
    assert_eq!(assessed(&rb, &st).severity.level, Level::P2);
}

#[test]
fn faults_land_on_the_roles_of_the_other_site() {
    let rb = on(OTHER, OTHER_NAME);
    let inv = &rb.inventory;
    let world = |id: &str| {
        let s = drill::builtin_on(id, inv, OTHER_NAME).unwrap();
        let mut st = sim::new_state(&s, inv, "/h", START);
        sim::advance(&mut st, START + 120_000);
        (s, st)
    };
    // The production API: the first process of the first production deployment in
    // restore order (billing, ranked first), not the first in the file (shop).
    let (s, st) = world("api-crash-loop");
    assert_eq!(s.fault[0].targets(), ["billing-api"]);
    assert!(
        s.briefing.contains("https://billing.example.net"),
        "{}",
        s.briefing
    );
    assert!(s
        .hints
        .iter()
        .any(|h| h.contains("pm2 restart billing-api")));
    let api: Vec<_> = st
        .procs
        .iter()
        .filter(|p| p.name == "billing-api")
        .collect();
    assert!(
        api.iter().all(|p| p.restarts > 0),
        "crash loop restarts the API"
    );
    assert_eq!(api.len(), 2, "the API runs in cluster mode by default");
    assert!(st
        .procs
        .iter()
        .filter(|p| p.name != "billing-api")
        .all(|p| p.status == drill::state::SimStatus::Online));
    // A production worker: the primary's second process.
    let (s, st) = world("oom-worker");
    assert_eq!(s.fault[0].targets(), ["billing-ledger"]);
    assert_eq!(down(&st), ["billing-ledger"]);
    // The test environment: the only test deployment, all its processes.
    let (s, st) = world("test-killed");
    assert!(s
        .hints
        .iter()
        .any(|h| h.contains("pm2 start shop.staging.config.js")));
    let mut d = down(&st);
    d.sort();
    assert_eq!(d, ["shop-jobs-staging", "shop-web-staging"]);
    // Nothing of the shipped site leaks into the other site's world.
    for id in [
        "delete-all",
        "api-crash-loop",
        "test-killed",
        "oom-worker",
        "daemon-killed",
    ] {
        let (s, st) = world(id);
        let all = format!(
            "{} {} {} {:?} {:?} {:?}",
            s.title,
            s.summary,
            s.briefing,
            s.hints,
            s.workflow_runs,
            st.logs.iter().map(|l| &l.text).collect::<Vec<_>>()
        );
        for shipped in ["flyer-crawler", "stock-alert", "projectium", "${"] {
            assert!(!all.contains(shipped), "{id}: `{shipped}` in {all}");
        }
    }
}

#[test]
fn restore_plan_follows_each_inventorys_order() {
    for (rb, name, first) in [
        (
            shipped(),
            "shipped",
            vec!["flyer-crawler-api", "stock-alert-*"],
        ),
        (
            on(OTHER, OTHER_NAME),
            OTHER_NAME,
            vec!["billing-api", "shop-web"],
        ),
    ] {
        for id in ["delete-all", "daemon-killed"] {
            let s = drill::builtin_on(id, &rb.inventory, name).unwrap();
            let mut st = sim::new_state(&s, &rb.inventory, "/h", START);
            sim::advance(&mut st, START + 1000);
            let plan = assessed(&rb, &st).plan;
            let deps: Vec<&str> = plan.items.iter().map(|i| i.deployment.as_str()).collect();
            let want: Vec<String> = pm2_incident::runbook::roles::restore_order(&rb.inventory)
                .iter()
                .map(|d| d.id.get_ref().clone())
                .collect();
            assert_eq!(deps, want, "{id} on {name}: plan order");
            let procs: Vec<&str> = plan
                .items
                .iter()
                .filter_map(|i| i.processes.first().map(String::as_str))
                .collect();
            assert_eq!(procs[..2], first[..], "{id} on {name}");
        }
    }
    // The other site puts its staging before the blog: the plan says so too.
    let rb = on(OTHER, OTHER_NAME);
    let s = drill::builtin_on("delete-all", &rb.inventory, OTHER_NAME).unwrap();
    let mut st = sim::new_state(&s, &rb.inventory, "/h", START);
    sim::advance(&mut st, START + 1000);
    let deps: Vec<String> = assessed(&rb, &st)
        .plan
        .items
        .iter()
        .map(|i| i.deployment.clone())
        .collect();
    assert_eq!(
        deps,
        ["billing-live", "shop-live", "shop-staging", "blog-live"]
    );
}

#[test]
fn a_missing_role_is_a_clear_error() {
    // Production only, one process: no test deployment and no production worker.
    let text = "site = \"solo.example\"\nssh_target = \"me@solo\"\npm2_service = \"pm2-me\"\n\
        [[app]]\nid = \"solo\"\nname = \"Solo\"\n\
        [[deployment]]\nid = \"solo\"\napp = \"solo\"\nenvironment = \"production\"\n\
        processes = [\"solo\"]\nconfig = \"e.cjs\"\ndir = \"/srv/solo\"\nlocal_url = \"http://localhost:5000\"\n\
        [[restore]]\nprocess = \"solo\"\nrationale = \"r\"\n";
    let rb = on(text, "solo.toml");
    let err = |id: &str| {
        drill::builtin_on(id, &rb.inventory, "solo.toml")
            .err()
            .unwrap_or_else(|| panic!("{id} should not load on solo.toml"))
            .iter()
            .map(|e| e.to_string())
            .collect::<Vec<_>>()
            .join("\n")
    };
    let e = err("test-killed");
    assert!(
        e.contains("scenario test-killed needs a test deployment; solo.toml has none"),
        "{e}"
    );
    assert!(e.starts_with("assets/drills/test-killed.toml:"), "{e}");
    assert_eq!(e.lines().count(), 1, "one message per missing role: {e}");
    let e = err("oom-worker");
    assert!(
        e.contains("scenario oom-worker needs a production worker"),
        "{e}"
    );
    // The rest run there, with the severity of a one-app site.
    for id in ["delete-all", "api-crash-loop", "daemon-killed"] {
        let s = drill::builtin_on(id, &rb.inventory, "solo.toml").unwrap();
        assert_eq!(s.expected(), ExpectedSeverity::P2, "{id}");
    }
}

fn load_err(text: &str) -> Vec<String> {
    let rb = shipped();
    match drill::scenario::load(
        Source {
            name: "my.toml",
            text,
        },
        &rb.inventory,
    ) {
        Ok(_) => vec![],
        Err(e) => e.iter().map(|e| e.to_string()).collect(),
    }
}

const HEAD: &str = "id = \"x\"\ntitle = \"t\"\nsummary = \"s\"\nbriefing = \"b\"\nexpected_root_cause = \"oom-killer\"\n";

#[test]
fn placeholders_are_checked_with_file_line_col() {
    let e = load_err(&format!(
        "{HEAD}hints = [\"ok ${{api}}\", \"bad ${{apii}}\"]\n[[fault]]\nat = 0\naction = \"stop\"\ntargets = [\"${{worker}}\"]\n"
    ));
    assert_eq!(e.len(), 1, "{e:?}");
    assert!(
        e[0].starts_with("my.toml:6:28: unknown placeholder `${apii}`"),
        "{e:?}"
    );
    let e = load_err(&format!("{HEAD}hints = [\"${{api\"]\n"));
    assert!(e[0].starts_with("my.toml:6:11: unterminated `${`"), "{e:?}");
    // No fault and no fixed severity: cannot be derived, say so.
    let e = load_err(HEAD);
    assert!(e[0].contains("set `expected_severity`"), "{e:?}");
    // A fixed severity is kept as written; `$${` is a literal.
    let rb = shipped();
    let s = drill::scenario::load(
        Source {
            name: "my.toml",
            text: &format!(
                "{HEAD}expected_severity = \"P3\"\nhints = [\"$${{HOME}} and ${{test.dir}}\"]\n"
            ),
        },
        &rb.inventory,
    )
    .unwrap();
    assert_eq!(s.expected(), ExpectedSeverity::P3);
    assert_eq!(
        s.hints,
        ["${HOME} and /var/www/flyer-crawler-test.projectium.com"]
    );
}
