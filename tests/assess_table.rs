//! The decision tree, scope, restore plan and checklist on observations built in
//! code (the process list goes through the real allow-list parser).
use pm2_incident::assess::{
    self, plan::item_check, CheckState, Level, Observation, PlanAction, Pm2View, ProcState,
};
use pm2_incident::health::{HealthResult, Verdict};
use pm2_incident::pm2::{parse_process_list, Process};
use pm2_incident::runbook::{Environment, Runbook};

fn rb() -> Runbook {
    Runbook::embedded().unwrap()
}

/// A PM2 listing: (name, status, restarts), ids in order.
fn listing(rows: &[(&str, &str, u64)]) -> Vec<Process> {
    let items: Vec<serde_json::Value> = rows
        .iter()
        .enumerate()
        .map(|(i, (name, status, restarts))| {
            serde_json::json!({
                "pid": 1000 + i, "name": name, "pm_id": i,
                "monit": {"cpu": 0, "memory": 1},
                "pm2_env": {"status": status, "restart_time": restarts, "unstable_restarts": 0,
                            "pm_id": i, "name": name, "SECRET_TOKEN": "canary", "env": {"SECRET_TOKEN": "canary"}}
            })
        })
        .collect();
    parse_process_list(serde_json::to_string(&items).unwrap().as_bytes()).unwrap()
}

const ALL: [&str; 7] = [
    "flyer-crawler-api",
    "flyer-crawler-worker",
    "flyer-crawler-analytics-worker",
    "flyer-crawler-api-test",
    "flyer-crawler-worker-test",
    "flyer-crawler-analytics-worker-test",
    "stock-alert-api",
];

/// Every process, with `overrides` applied (a status of "" removes the process).
fn server(overrides: &[(&str, &str)]) -> Vec<Process> {
    let rows: Vec<(&str, &str, u64)> = ALL
        .iter()
        .filter_map(|n| match overrides.iter().find(|(o, _)| o == n) {
            Some((_, "")) => None,
            Some((_, s)) => Some((*n, *s, 0)),
            None => Some((*n, "online", 0)),
        })
        .collect();
    listing(&rows)
}

/// Health for every inventory target: deployments in `down` answer `bad`, the rest healthy.
fn health(rb: &Runbook, down: &[&str], bad: Verdict) -> Vec<HealthResult> {
    rb.inventory
        .health_targets()
        .into_iter()
        .map(|t| HealthResult {
            verdict: if down.contains(&t.deployment.as_str()) {
                bad.clone()
            } else {
                Verdict::Healthy
            },
            http_status: None,
            latency_ms: 1,
            target: t,
        })
        .collect()
}

fn run(rb: &Runbook, pm2: Pm2View, h: &[HealthResult]) -> assess::Assessment {
    assess::assess(rb, &Observation { pm2, health: h })
}

#[test]
fn all_healthy_is_no_incident() {
    let rb = rb();
    let procs = server(&[]);
    let h = health(&rb, &[], Verdict::Healthy);
    let a = run(&rb, Pm2View::Listed(&procs), &h);
    assert_eq!(a.severity.level, Level::None);
    assert_eq!(a.severity.level.exit_code(), 0);
    assert!(a.plan.items.is_empty());
    assert_eq!(a.plan.scenario, None);
    let states: Vec<(String, CheckState)> = a
        .checklist
        .iter()
        .map(|c| (c.id.clone(), c.state.clone()))
        .collect();
    assert_eq!(
        states,
        [
            ("all-online".into(), CheckState::Holds),
            ("prod-healthy".into(), CheckState::Holds),
            ("test-healthy".into(), CheckState::Holds),
            ("no-high-restarts".into(), CheckState::Holds),
            ("none-errored".into(), CheckState::Holds),
            ("pm2-saved".into(), CheckState::Manual),
        ]
    );
}

#[test]
fn everything_missing_is_p1_scenario_d_in_priority_order() {
    let rb = rb();
    let h = health(
        &rb,
        &[
            "flyer-crawler-prod",
            "flyer-crawler-test",
            "stock-alert-prod",
        ],
        Verdict::BadGateway { code: 502 },
    );
    let a = run(&rb, Pm2View::Listed(&[]), &h);
    assert_eq!(a.severity.level, Level::P1);
    assert_eq!(a.severity.label, "P1 CRITICAL (all apps down)");
    let path: Vec<(&str, Option<bool>)> = a
        .severity
        .path
        .iter()
        .map(|x| (x.node.as_str(), x.answer))
        .collect();
    assert_eq!(
        path,
        [
            ("production-down", Some(true)),
            ("multiple-apps", Some(true))
        ]
    );
    assert!(
        a.severity.path[0]
            .reasons
            .iter()
            .any(|r| r.contains("flyer-crawler-api missing") && r.contains("502")),
        "{:?}",
        a.severity.path[0].reasons
    );
    assert!(
        a.severity.path[1].reasons[0].contains("Flyer Crawler")
            && a.severity.path[1].reasons[0].contains("Stock Alert")
    );
    assert_eq!(a.plan.scenario.as_deref(), Some("D"));
    let order: Vec<(&str, &str, bool)> = a
        .plan
        .items
        .iter()
        .map(|i| {
            (
                i.deployment.as_str(),
                i.command.as_str(),
                i.verify_before_next,
            )
        })
        .collect();
    assert_eq!(
        order,
        [
            ("flyer-crawler-prod", "pm2 start ecosystem.config.cjs", true),
            ("stock-alert-prod", "pm2 start ecosystem.config.cjs", true),
            (
                "flyer-crawler-test",
                "pm2 start ecosystem-test.config.cjs",
                false
            ),
        ]
    );
    assert_eq!(
        a.plan.items[0].dir.as_deref(),
        Some("/var/www/flyer-crawler.projectium.com")
    );
    assert_eq!(
        a.plan.items[0].processes,
        [
            "flyer-crawler-api",
            "flyer-crawler-worker",
            "flyer-crawler-analytics-worker"
        ]
    );
    assert!(a.plan.items[0]
        .check
        .contains("https://flyer-crawler.projectium.com/api/health/ready"));
    assert!(a.plan.save_after);
    let sig = assess::evaluate(&rb, &a.scope, "incident_signature");
    assert_eq!(sig.holds, Some(true));
}

#[test]
fn only_flyer_crawler_production_down_is_p2_scenario_a() {
    let rb = rb();
    let procs = server(&[
        ("flyer-crawler-api", "errored"),
        ("flyer-crawler-worker", "stopped"),
        ("flyer-crawler-analytics-worker", ""),
    ]);
    let h = health(
        &rb,
        &["flyer-crawler-prod"],
        Verdict::BadGateway { code: 502 },
    );
    let a = run(&rb, Pm2View::Listed(&procs), &h);
    assert_eq!(a.severity.level, Level::P2);
    assert_eq!(a.severity.label, "P2 HIGH (single app down)");
    assert_eq!(a.severity.path[1].answer, Some(false));
    assert_eq!(a.severity.path[1].reasons, ["only Flyer Crawler affected"]);
    assert_eq!(a.plan.scenario.as_deref(), Some("A"));
    assert_eq!(a.plan.scenario_step.as_deref(), Some("scenario-a"));
    assert_eq!(a.plan.items.len(), 2);
    assert_eq!(a.plan.items[0].action, PlanAction::StartOnly);
    assert_eq!(
        a.plan.items[0].command,
        "pm2 start ecosystem.config.cjs --only flyer-crawler-analytics-worker"
    );
    assert_eq!(a.plan.items[1].action, PlanAction::Restart);
    assert_eq!(
        a.plan.items[1].command,
        "pm2 restart flyer-crawler-api flyer-crawler-worker"
    );
    assert!(!assess::evaluate(&rb, &a.scope, "incident_signature")
        .holds
        .unwrap());
    let failing: Vec<&str> = a
        .checklist
        .iter()
        .filter(|c| c.state == CheckState::Fails)
        .map(|c| c.id.as_str())
        .collect();
    assert_eq!(failing, ["all-online", "prod-healthy", "none-errored"]);
}

#[test]
fn only_test_processes_down_is_p3_scenario_b() {
    let rb = rb();
    let procs = server(&[
        ("flyer-crawler-api-test", "stopped"),
        ("flyer-crawler-worker-test", "stopped"),
        ("flyer-crawler-analytics-worker-test", "stopped"),
    ]);
    let h = health(
        &rb,
        &["flyer-crawler-test"],
        Verdict::BadGateway { code: 502 },
    );
    let a = run(&rb, Pm2View::Listed(&procs), &h);
    assert_eq!(a.severity.level, Level::P3);
    let path: Vec<Option<bool>> = a.severity.path.iter().map(|x| x.answer).collect();
    assert_eq!(path, [Some(false), Some(true)]);
    assert_eq!(a.plan.scenario.as_deref(), Some("B"));
    assert_eq!(a.plan.items[0].command, "pm2 restart flyer-crawler-api-test flyer-crawler-worker-test flyer-crawler-analytics-worker-test");
    assert!(!a.plan.items[0].verify_before_next);
}

#[test]
fn stock_alert_glob_missing_is_scenario_c() {
    let rb = rb();
    let procs = server(&[("stock-alert-api", "")]);
    let h = health(
        &rb,
        &["stock-alert-prod"],
        Verdict::BadGateway { code: 502 },
    );
    let a = run(&rb, Pm2View::Listed(&procs), &h);
    assert_eq!(a.severity.level, Level::P2);
    assert_eq!(a.plan.scenario.as_deref(), Some("C"));
    let d = a.scope.deployment("stock-alert-prod").unwrap();
    assert_eq!(d.processes[0].name, "stock-alert-*");
    assert_eq!(d.processes[0].state, ProcState::Missing);
    assert_eq!(a.plan.items[0].command, "pm2 start ecosystem.config.cjs");
    assert_eq!(
        a.plan.items[0].dir.as_deref(),
        Some("/var/www/stock-alert.projectium.com")
    );
}

#[test]
fn two_apps_down_is_p1_even_if_one_is_test() {
    let rb = rb();
    let procs = server(&[
        ("stock-alert-api", "errored"),
        ("flyer-crawler-api-test", "errored"),
    ]);
    let a = run(&rb, Pm2View::Listed(&procs), &[]);
    assert_eq!(a.severity.level, Level::P1);
    assert_eq!(a.plan.scenario.as_deref(), Some("D"));
    // Production (stock-alert, rank 4) before test (rank 5).
    assert_eq!(a.plan.items[0].deployment, "stock-alert-prod");
}

#[test]
fn cluster_instances_merge_worst_state() {
    let rb = rb();
    let mut rows: Vec<(&str, &str, u64)> = ALL.iter().map(|n| (*n, "online", 0)).collect();
    rows.push(("flyer-crawler-api", "waiting restart", 12));
    let procs = listing(&rows);
    let a = run(&rb, Pm2View::Listed(&procs), &[]);
    let api = &a.scope.deployment("flyer-crawler-prod").unwrap().processes[0];
    assert_eq!(
        (api.instances, api.state.clone(), api.restarts),
        (2, ProcState::WaitingRestart, 12)
    );
    assert_eq!(a.severity.level, Level::P2);
    let high = a
        .checklist
        .iter()
        .find(|c| c.id == "no-high-restarts")
        .unwrap();
    assert_eq!(high.state, CheckState::Fails);
    assert!(high.reasons[0].contains("flyer-crawler-api restarted 12 times (limit 10)"));
}

#[test]
fn dead_daemon_is_evidence_all_missing() {
    let rb = rb();
    let a = run(
        &rb,
        Pm2View::DaemonDown {
            reason: "PM2 daemon died uncleanly (pid 4242 is dead)",
        },
        &[],
    );
    assert_eq!(a.severity.level, Level::P1);
    assert!(a
        .scope
        .deployments
        .iter()
        .flat_map(|d| &d.processes)
        .all(|p| p.state == ProcState::Missing));
    let sig = assess::evaluate(&rb, &a.scope, "incident_signature");
    assert_eq!(sig.holds, Some(true));
    assert!(sig.reasons.iter().any(|r| r.contains("pid 4242")));
}

#[test]
fn unreadable_pm2_without_health_is_unknown() {
    let rb = rb();
    let a = run(
        &rb,
        Pm2View::Unreadable {
            reason: "permission denied on rpc.sock",
        },
        &[],
    );
    assert_eq!(a.severity.level, Level::Unknown);
    assert_eq!(a.severity.level.exit_code(), 4);
    assert_eq!(a.severity.reasons, ["permission denied on rpc.sock"]);
    let all_unknown = a
        .checklist
        .iter()
        .filter(|c| c.id != "prod-healthy" && c.id != "test-healthy" && c.id != "pm2-saved")
        .all(|c| c.state == CheckState::Unknown);
    assert!(all_unknown, "{:?}", a.checklist);
}

#[test]
fn unreadable_pm2_with_health_evidence_decides_from_health() {
    let rb = rb();
    let h = health(
        &rb,
        &["flyer-crawler-prod"],
        Verdict::BadGateway { code: 502 },
    );
    let a = run(&rb, Pm2View::Unreadable { reason: "timeout" }, &h);
    assert_eq!(a.severity.level, Level::P2);
    assert!(a
        .severity
        .reasons
        .iter()
        .any(|r| r.contains("flyer-crawler.projectium.com/api/health/ready 502")));
    // Nothing to restart by name when PM2 cannot be read.
    assert!(a.plan.items.is_empty());
}

#[test]
fn dns_failure_is_not_evidence_of_down() {
    let rb = rb();
    let procs = server(&[]);
    let h = health(&rb, &["flyer-crawler-prod"], Verdict::DnsFailure);
    let a = run(&rb, Pm2View::Listed(&procs), &h);
    assert_eq!(a.severity.level, Level::None);
    let prod = a.checklist.iter().find(|c| c.id == "prod-healthy").unwrap();
    assert_eq!(
        prod.state,
        CheckState::Fails,
        "the checklist still wants healthy answers"
    );
}

#[test]
fn unexpected_process_errored_means_investigate() {
    let rb = rb();
    let mut rows: Vec<(&str, &str, u64)> = ALL.iter().map(|n| (*n, "online", 0)).collect();
    rows.push(("mystery-app", "errored", 3));
    let procs = listing(&rows);
    let a = run(&rb, Pm2View::Listed(&procs), &[]);
    assert_eq!(a.severity.level, Level::Unknown);
    assert_eq!(a.severity.label, "Investigate further");
    assert_eq!(a.severity.next_step.as_deref(), Some("workflow-logs"));
    assert!(a
        .severity
        .reasons
        .iter()
        .any(|r| r.contains("mystery-app errored (not in the inventory)")));
    assert_eq!(a.scope.unexpected[0].name, "mystery-app");
}

#[test]
fn plan_item_check_follows_state() {
    let rb = rb();
    let before = run(&rb, Pm2View::Listed(&[]), &[]);
    let item = before.plan.items[0].clone();
    assert_eq!(item_check(&item, &before.scope).holds, Some(false));
    // Production back and healthy; the rest still missing.
    let procs = listing(&[
        ("flyer-crawler-api", "online", 0),
        ("flyer-crawler-worker", "online", 0),
        ("flyer-crawler-analytics-worker", "online", 0),
    ]);
    let h = health(
        &rb,
        &["flyer-crawler-test", "stock-alert-prod"],
        Verdict::BadGateway { code: 502 },
    );
    let after = run(&rb, Pm2View::Listed(&procs), &h);
    assert_eq!(item_check(&item, &after.scope).holds, Some(true));
    assert_eq!(
        after
            .scope
            .deployment("flyer-crawler-prod")
            .unwrap()
            .environment,
        Environment::Production
    );
    // Healthy processes but a 502 from the endpoint: not verified.
    let h = health(
        &rb,
        &["flyer-crawler-prod"],
        Verdict::BadGateway { code: 502 },
    );
    let still = run(&rb, Pm2View::Listed(&procs), &h);
    let v = item_check(&item, &still.scope);
    assert_eq!(v.holds, Some(false));
    assert!(v.reasons.iter().any(|r| r.ends_with("502")));
}

#[test]
fn nothing_serialized_carries_the_environment() {
    let rb = rb();
    let procs = server(&[("flyer-crawler-api", "errored")]);
    let a = run(&rb, Pm2View::Listed(&procs), &[]);
    let json = serde_json::to_string(&a).unwrap();
    assert!(!json.contains("canary") && !json.contains("SECRET_TOKEN"));
}

#[test]
fn foreign_inventory_is_cannot_tell_never_p1() {
    let rb = rb();
    let procs = listing(&[("shop-web", "online", 0), ("shop-queue", "online", 0)]);
    let a = run(&rb, Pm2View::Listed(&procs), &[]);
    assert_eq!(a.severity.level, Level::Unknown, "{:?}", a.severity);
    assert_eq!(a.severity.level.exit_code(), 4);
    assert!(a.scope.fit.is_foreign());
    assert_eq!(
        a.scope.fit.message().unwrap(),
        "this inventory does not describe this server (expected flyer-crawler-*, stock-alert-*, \
         found shop-web, shop-queue): run `pm2-incident init`"
    );
    assert!(
        a.plan.items.is_empty(),
        "no plan to start another server's apps"
    );
    // One inventory process among them: the inventory describes this server.
    let procs = listing(&[
        ("shop-web", "online", 0),
        ("flyer-crawler-api", "online", 0),
    ]);
    let a = run(&rb, Pm2View::Listed(&procs), &[]);
    assert!(!a.scope.fit.is_foreign());
    assert_eq!(a.severity.level, Level::P1);
}

#[test]
fn foreign_inventory_with_daemon_down_is_judged_by_the_saved_list() {
    let rb = rb();
    let obs = Observation {
        pm2: Pm2View::DaemonDown {
            reason: "daemon not running",
        },
        health: &[],
    };
    let saved = vec!["shop-web".to_string(), "blog".to_string()];
    let a = assess::assess_with_saved(&rb, &obs, &saved);
    assert_eq!(a.severity.level, Level::Unknown);
    assert!(
        a.severity.label.contains("found shop-web, blog"),
        "{}",
        a.severity.label
    );
    // The saved list names the inventory's processes: a dead daemon is P1.
    let saved = vec!["flyer-crawler-api".to_string()];
    let a = assess::assess_with_saved(&rb, &obs, &saved);
    assert_eq!(a.severity.level, Level::P1);
    // Nothing listed, nothing saved: nothing contradicts the inventory.
    let a = assess::assess_with_saved(&rb, &obs, &[]);
    assert_eq!(a.severity.level, Level::P1);
}
