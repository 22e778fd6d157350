//! The shipped procedure runs with any site's inventory: every id and name differs
//! from the seed's, with one, two and five deployments. Steps written per role are
//! instantiated once per deployment playing it, and the assessment (scope, severity,
//! scenario, plan) works on the foreign names.
use pm2_incident::assess::{self, Level, Observation, Pm2View};
use pm2_incident::pm2::{parse_process_list, Process};
use pm2_incident::runbook::{LoadError, Runbook, Source, DEFAULT_PROCEDURE};

/// One deployment of a generated inventory.
struct Dep {
    id: &'static str,
    app: &'static str,
    env: &'static str,
    procs: &'static [&'static str],
    local: bool,
}

fn inventory(deps: &[Dep]) -> String {
    let mut s = String::from(
        "site = \"acme.example\"\nssh_target = \"ops@acme.example\"\npm2_service = \"pm2-ops\"\n",
    );
    let mut apps: Vec<&str> = Vec::new();
    for d in deps {
        if !apps.contains(&d.app) {
            apps.push(d.app);
        }
    }
    for a in &apps {
        let name: String = a
            .split('-')
            .map(|w| {
                let mut c = w.chars();
                c.next()
                    .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
                    .unwrap_or_default()
            })
            .collect::<Vec<_>>()
            .join(" ");
        s += &format!("\n[[app]]\nid = \"{a}\"\nname = \"{name}\"\n");
    }
    for (i, d) in deps.iter().enumerate() {
        let procs: Vec<String> = d.procs.iter().map(|p| format!("\"{p}\"")).collect();
        s += &format!(
            "\n[[deployment]]\nid = \"{}\"\napp = \"{}\"\nenvironment = \"{}\"\nprocesses = [{}]\nconfig = \"{}.config.js\"\ndir = \"/srv/{}\"\npublic_url = \"https://{}.acme.example\"\n",
            d.id, d.app, d.env, procs.join(", "), d.id, d.id, d.id
        );
        if d.local {
            s += &format!("local_url = \"http://127.0.0.1:{}\"\n", 4000 + i);
        }
    }
    // Production first in the restore order, as `init` writes it.
    let mut ranked: Vec<&Dep> = deps.iter().collect();
    ranked.sort_by_key(|d| d.env != "production");
    for d in ranked {
        for p in d.procs {
            s += &format!(
                "\n[[restore]]\nprocess = \"{p}\"\nrationale = \"{}\"\n",
                d.env
            );
        }
    }
    s
}

fn load(inv: &str) -> Result<Runbook, Vec<LoadError>> {
    Runbook::parse(
        Source {
            name: "runbook/pm2-incident-response.toml",
            text: DEFAULT_PROCEDURE,
        },
        Source {
            name: "acme.toml",
            text: inv,
        },
    )
}

fn listing(rows: &[(&str, &str)]) -> Vec<Process> {
    let items: Vec<serde_json::Value> = rows
        .iter()
        .enumerate()
        .map(|(i, (name, status))| {
            serde_json::json!({
                "pid": 2000 + i, "name": name, "pm_id": i,
                "monit": {"cpu": 0, "memory": 1},
                "pm2_env": {"status": status, "restart_time": 0, "unstable_restarts": 0,
                            "pm_id": i, "name": name}
            })
        })
        .collect();
    parse_process_list(serde_json::to_string(&items).unwrap().as_bytes()).unwrap()
}

/// Every process of `deps` online except those in `down` (status, "" = missing).
fn server(deps: &[Dep], down: &[(&str, &str)]) -> Vec<Process> {
    let rows: Vec<(&str, &str)> = deps
        .iter()
        .flat_map(|d| d.procs.iter())
        .filter_map(|n| match down.iter().find(|(o, _)| o == n) {
            Some((_, "")) => None,
            Some((_, s)) => Some((*n, *s)),
            None => Some((*n, "online")),
        })
        .collect();
    listing(&rows)
}

fn judge(rb: &Runbook, procs: &[Process]) -> assess::Assessment {
    assess::assess(
        rb,
        &Observation {
            pm2: Pm2View::Listed(procs),
            health: &[],
        },
    )
}

/// Everything the responder reads or runs, rendered against the inventory.
fn rendered(rb: &Runbook) -> String {
    let mut out = String::new();
    for (_, st) in rb.procedure.steps() {
        out += &format!("{} {}\n", st.id.get_ref(), st.title);
        for c in &st.command {
            out += &format!("{} | {}\n", rb.render(c.run.get_ref()), c.purpose);
            if let Some(d) = &c.dir {
                out += &rb.render(d.get_ref());
            }
        }
        for q in &st.question {
            out += &format!("{} | {}\n", q.question, rb.render(q.run.get_ref()));
        }
    }
    out
}

const ONE: &[Dep] = &[Dep {
    id: "shop-live",
    app: "shop",
    env: "production",
    procs: &["shop-web"],
    local: true,
}];

const TWO: &[Dep] = &[
    Dep {
        id: "shop-live",
        app: "shop",
        env: "production",
        procs: &["shop-web", "shop-queue"],
        local: true,
    },
    Dep {
        id: "shop-staging",
        app: "shop",
        env: "test",
        procs: &["shop-web-test"],
        local: false,
    },
];

const FIVE: &[Dep] = &[
    Dep {
        id: "ledger-main",
        app: "ledger",
        env: "production",
        procs: &["ledger-api", "ledger-cron"],
        local: true,
    },
    Dep {
        id: "blog-www",
        app: "blog",
        env: "production",
        procs: &["blog"],
        local: false,
    },
    Dep {
        id: "ledger-qa",
        app: "ledger",
        env: "test",
        procs: &["ledger-api-qa"],
        local: true,
    },
    Dep {
        id: "blog-preview",
        app: "blog",
        env: "test",
        procs: &["blog-preview"],
        local: true,
    },
    Dep {
        id: "wiki-www",
        app: "wiki",
        env: "production",
        procs: &["wiki-*"],
        local: true,
    },
];

fn scenario_steps(rb: &Runbook, letter: &str) -> Vec<(String, String)> {
    rb.procedure
        .steps()
        .filter(|(_, s)| s.scenario.as_ref().is_some_and(|sc| sc.letter == letter))
        .map(|(_, s)| (s.id.get_ref().clone(), s.title.clone()))
        .collect()
}

#[test]
fn foreign_inventories_load_and_never_show_the_seed_site() {
    for deps in [ONE, TWO, FIVE] {
        let rb = load(&inventory(deps)).unwrap_or_else(|e| panic!("{e:#?}"));
        let text = rendered(&rb).to_lowercase();
        for seed in ["flyer", "stock", "projectium"] {
            assert!(!text.contains(seed), "`{seed}` in:\n{text}");
        }
        assert!(!text.contains("${"), "unsubstituted variable in:\n{text}");
        // Scenario D and the process list always exist; A once.
        assert_eq!(scenario_steps(&rb, "A").len(), 1);
        assert_eq!(scenario_steps(&rb, "D").len(), 1);
    }
}

#[test]
fn one_deployment_has_no_test_or_other_scenarios() {
    let rb = load(&inventory(ONE)).unwrap();
    assert_eq!(
        scenario_steps(&rb, "A"),
        vec![(
            "scenario-a".to_string(),
            "Scenario A: Shop Production Processes Missing".to_string()
        )]
    );
    assert!(scenario_steps(&rb, "B").is_empty());
    assert!(scenario_steps(&rb, "C").is_empty());
    // The scope question about test endpoints has nothing to ask about.
    let scope = rb.procedure.step("scope").unwrap();
    assert!(scope.question.iter().all(|q| !q.question.contains("test")));

    let all = server(ONE, &[]);
    assert_eq!(judge(&rb, &all).severity.level, Level::None);
    let gone = server(ONE, &[("shop-web", "")]);
    let a = judge(&rb, &gone);
    assert_eq!(a.plan.scenario.as_deref(), Some("A"));
    assert_eq!(a.plan.items[0].command, "pm2 start shop-live.config.js");
    assert_eq!(a.plan.items[0].dir.as_deref(), Some("/srv/shop-live"));
    assert_ne!(a.severity.level, Level::None);
}

#[test]
fn two_deployments_test_down_is_scenario_b_p3() {
    let rb = load(&inventory(TWO)).unwrap();
    assert_eq!(
        scenario_steps(&rb, "B"),
        vec![(
            "scenario-b".to_string(),
            "Scenario B: Shop Test Processes Missing".to_string()
        )]
    );
    let procs = server(TWO, &[("shop-web-test", "stopped")]);
    let a = judge(&rb, &procs);
    assert_eq!(a.severity.level, Level::P3, "{:?}", a.severity);
    assert_eq!(a.plan.scenario.as_deref(), Some("B"));
    // A test deployment with no local URL gets no local health command.
    let b = rb.procedure.step("scenario-b").unwrap();
    assert!(b.command.iter().all(|c| !c.run.get_ref().contains("curl")));
    let prod = server(TWO, &[("shop-queue", "errored")]);
    assert_eq!(judge(&rb, &prod).severity.level, Level::P2);
}

#[test]
fn five_deployments_instantiate_each_role_in_priority_order() {
    let rb = load(&inventory(FIVE)).unwrap();
    assert_eq!(
        scenario_steps(&rb, "B"),
        vec![
            (
                "scenario-b".to_string(),
                "Scenario B: Ledger Test Processes Missing".to_string()
            ),
            (
                "scenario-b-blog-preview".to_string(),
                "Scenario B: Blog Test Processes Missing".to_string()
            ),
        ]
    );
    assert_eq!(
        scenario_steps(&rb, "C"),
        vec![
            (
                "scenario-c".to_string(),
                "Scenario C: Blog Processes Missing".to_string()
            ),
            (
                "scenario-c-wiki-www".to_string(),
                "Scenario C: Wiki Processes Missing".to_string()
            ),
        ]
    );
    // Scenario D restores production first (ledger, blog, wiki), then test, and
    // verifies each production deployment with a local endpoint before going on.
    let d = rb.procedure.step("scenario-d").unwrap();
    let purposes: Vec<&str> = d.command.iter().map(|c| c.purpose.as_str()).collect();
    let starts: Vec<String> = d
        .command
        .iter()
        .filter(|c| c.run.get_ref().starts_with("pm2 start"))
        .map(|c| rb.render(c.dir.as_ref().unwrap().get_ref()))
        .collect();
    assert_eq!(
        starts,
        [
            "/srv/ledger-main",
            "/srv/blog-www",
            "/srv/wiki-www",
            "/srv/ledger-qa",
            "/srv/blog-preview"
        ]
    );
    assert_eq!(purposes[0], "1. Ledger Production (highest priority)");
    assert!(purposes.contains(&"4. Ledger Test (lower priority)"));
    let verifies = d
        .command
        .iter()
        .filter(|c| c.purpose.starts_with("Verify production"))
        .count();
    assert_eq!(verifies, 2, "ledger-main and wiki-www have local URLs");

    // Only the second test deployment down: its own instance of scenario B.
    let procs = server(FIVE, &[("blog-preview", "")]);
    let a = judge(&rb, &procs);
    assert_eq!(a.severity.level, Level::P3);
    assert_eq!(
        a.plan.scenario_step.as_deref(),
        Some("scenario-b-blog-preview")
    );
    // Another production app down: scenario C for that app, P2.
    let procs = server(FIVE, &[("wiki-*", "")]);
    let a = judge(&rb, &procs);
    assert_eq!(a.plan.scenario_step.as_deref(), Some("scenario-c-wiki-www"));
    assert_eq!(a.severity.level, Level::P2);
    // Everything deleted: P1, scenario D, production first in the plan.
    let a = judge(&rb, &[]);
    assert_eq!(a.severity.level, Level::P1, "{:?}", a.severity);
    assert_eq!(a.plan.scenario.as_deref(), Some("D"));
    let order: Vec<&str> = a.plan.items.iter().map(|i| i.deployment.as_str()).collect();
    assert_eq!(
        order,
        [
            "ledger-main",
            "blog-www",
            "wiki-www",
            "ledger-qa",
            "blog-preview"
        ]
    );
    // Nothing down: no incident.
    let all = server(FIVE, &[]);
    assert_eq!(judge(&rb, &all).severity.level, Level::None);
}

#[test]
fn the_shipped_inventory_renamed_loads_and_keeps_its_shape() {
    let inv = pm2_incident::runbook::DEFAULT_INVENTORY
        .replace("flyer-crawler", "shopfront")
        .replace("Flyer Crawler", "Shopfront")
        .replace("stock-alert", "ledger")
        .replace("Stock Alert", "Ledger")
        .replace("projectium.com", "acme.example");
    let rb = load(&inv).unwrap_or_else(|e| panic!("{e:#?}"));
    let text = rendered(&rb).to_lowercase();
    for seed in ["flyer", "stock", "projectium"] {
        assert!(!text.contains(seed), "`{seed}` in:\n{text}");
    }
    let titles: Vec<String> = ["A", "B", "C"]
        .iter()
        .flat_map(|l| scenario_steps(&rb, l).into_iter().map(|(_, t)| t))
        .collect();
    assert_eq!(
        titles,
        [
            "Scenario A: Shopfront Production Processes Missing",
            "Scenario B: Shopfront Test Processes Missing",
            "Scenario C: Ledger Processes Missing"
        ]
    );
    let d = rb.procedure.step("scenario-d").unwrap();
    assert_eq!(
        d.command[0].purpose,
        "1. Shopfront Production (highest priority)"
    );
    assert_eq!(
        rb.render(d.command[1].dir.as_ref().unwrap().get_ref()),
        "/var/www/shopfront.acme.example"
    );
}

#[test]
fn a_test_only_server_has_no_production_scenarios() {
    const TEST_ONLY: &[Dep] = &[Dep {
        id: "lab",
        app: "lab",
        env: "test",
        procs: &["lab-api-test"],
        local: true,
    }];
    let rb = load(&inventory(TEST_ONLY)).unwrap_or_else(|e| panic!("{e:#?}"));
    assert!(scenario_steps(&rb, "A").is_empty());
    assert_eq!(scenario_steps(&rb, "B").len(), 1);
    let a = judge(&rb, &[]);
    assert_eq!(a.plan.scenario.as_deref(), Some("B"));
    assert_eq!(a.severity.level, Level::P3, "{:?}", a.severity);
}
