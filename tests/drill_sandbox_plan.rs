//! What each scenario means on a real PM2 (pure): cluster instances, crash-loop settings
//! and the crashes that fell before the start, faults before and during the drill, and the
//! briefing's account of what was injected.
use pm2_incident::drill::sandbox::plan::{self, Death, Plan, Step};
use pm2_incident::drill::scenario::{inventory_names, load};
use pm2_incident::runbook::{Runbook, Source};

fn rb() -> Runbook {
    Runbook::embedded().unwrap()
}

fn plan_of(id: &str) -> Plan {
    let rb = rb();
    let s = pm2_incident::drill::builtin(id, &rb.inventory).unwrap();
    plan::plan(&s, &inventory_names(&rb.inventory))
}

fn plan_of_text(text: &str) -> Plan {
    let rb = rb();
    let s = load(
        Source {
            name: "mine.toml",
            text,
        },
        &rb.inventory,
    )
    .unwrap_or_else(|e| panic!("{e:?}"));
    plan::plan(&s, &inventory_names(&rb.inventory))
}

#[test]
fn the_production_api_runs_as_a_cluster_of_two_by_default_and_as_the_scenario_says() {
    let p = plan_of("delete-all");
    assert_eq!(p.settings_of("flyer-crawler-api").instances, 2);
    assert_eq!(p.settings_of("flyer-crawler-worker").instances, 1);
    let p = plan_of_text(
        r#"
id = "clustered"
title = "t"
summary = "s"
briefing = "b"
expected_root_cause = "oom-killer"
cluster = { "${worker}" = 4 }
[[fault]]
at = -10
action = "stop"
targets = ["${worker}"]
"#,
    );
    assert_eq!(p.settings_of("flyer-crawler-worker").instances, 4);
    // The file's map replaces the default.
    assert_eq!(p.settings_of("flyer-crawler-api").instances, 1);
}

#[test]
fn a_crash_loop_keeps_its_cadence_limit_and_the_crashes_before_the_start() {
    let p = plan_of("api-crash-loop");
    let [Step::Loop { targets, program }] = p.before.as_slice() else {
        panic!("{:?}", p.before)
    };
    assert_eq!(targets, &["flyer-crawler-api".to_string()]);
    // at = -20 with a 4 s cycle: five crashes before the drill, still looping at the start.
    assert_eq!(program.fast, 5);
    assert!(!program.errored_by_start());
    assert_eq!(program.run_ms, 4000);
    assert_eq!(program.limit, 15);
    assert_eq!(program.death, Death::Exit);
    assert!(program
        .reason
        .contains("relation \"flyers\" does not exist"));
    let st = p.settings_of("flyer-crawler-api");
    assert_eq!(st.max_restarts, 15);
    // Every crash of the loop counts as unstable (PM2 gives up only then).
    assert!(st.min_uptime_ms > 4000, "{st:?}");
    assert!(p.during.is_empty());
}

#[test]
fn an_oom_kill_long_ago_has_already_made_pm2_give_up() {
    let p = plan_of("oom-worker");
    let [Step::Loop { program, .. }] = p.before.as_slice() else {
        panic!("{:?}", p.before)
    };
    assert_eq!(program.death, Death::Sigkill);
    assert!(program.errored_by_start(), "{program:?}");
    assert_eq!(program.fast, program.limit);
}

#[test]
fn the_daemon_dies_after_every_other_fault_of_the_past() {
    let p = plan_of("daemon-killed");
    assert_eq!(p.before, vec![Step::KillDaemon]);
    let p = plan_of_text(
        r#"
id = "both"
title = "t"
summary = "s"
briefing = "b"
expected_root_cause = "manual-intervention"
[[fault]]
at = -100
action = "kill-daemon"
[[fault]]
at = -50
action = "stop"
targets = ["${test}"]
"#,
    );
    assert!(matches!(p.before[0], Step::Stop(_)), "{:?}", p.before);
    assert_eq!(p.before[1], Step::KillDaemon);
}

#[test]
fn delete_all_is_each_process_by_name() {
    let p = plan_of("delete-all");
    let [Step::Delete(names)] = p.before.as_slice() else {
        panic!("{:?}", p.before)
    };
    assert_eq!(names, &inventory_names(&rb().inventory));
    assert!(!names.iter().any(|n| n == "all"));
}

#[test]
fn faults_timed_in_the_drill_wait_for_their_time_and_stay_unnamed_in_the_briefing() {
    let p = plan_of_text(
        r#"
id = "later"
title = "t"
summary = "s"
briefing = "b"
expected_root_cause = "oom-killer"
[[fault]]
at = -30
action = "stop"
targets = ["${test}"]
[[fault]]
at = 90
action = "oom-kill"
targets = ["${worker}"]
cycle_s = 5.0
limit = 3
"#,
    );
    assert_eq!(p.during.len(), 1);
    assert_eq!(p.during[0].at_ms, 90_000);
    let Step::Loop { program, .. } = &p.during[0].step else {
        panic!("{:?}", p.during)
    };
    assert_eq!(program.fast, 0, "no crash of a future fault happened yet");
    let said = plan::describe(&p);
    assert_eq!(said.len(), 2, "{said:?}");
    assert!(
        said[0].contains("`pm2 stop` of flyer-crawler-api-test"),
        "{said:?}"
    );
    assert!(said[1].contains("1 more fault"), "{said:?}");
    assert!(!said[1].contains("flyer-crawler-worker"), "{said:?}");
}

#[test]
fn processes_not_running_at_first_and_an_unsaved_list_are_kept() {
    let p = plan_of_text(
        r#"
id = "partial"
title = "t"
summary = "s"
briefing = "b"
expected_root_cause = "manual-intervention"
[initial]
processes = ["${api}", "${worker}"]
saved = false
[[fault]]
at = -5
action = "stop"
targets = ["${worker}"]
"#,
    );
    assert_eq!(
        p.initially,
        vec![
            "flyer-crawler-api".to_string(),
            "flyer-crawler-worker".to_string()
        ]
    );
    assert!(!p.saved);
}

/// The inventory's own cluster marks say how its apps run in a drill (simulated or
/// sandbox) when the scenario does not.
#[test]
fn the_inventory_marks_which_apps_run_as_a_cluster() {
    let anchor =
        "config = \"ecosystem.config.cjs\"\ndir = \"/var/www/flyer-crawler.projectium.com\"";
    let inv = pm2_incident::runbook::DEFAULT_INVENTORY.replacen(
        anchor,
        &format!("cluster = {{ \"flyer-crawler-worker\" = 3 }}\n{anchor}"),
        1,
    );
    assert_ne!(inv, pm2_incident::runbook::DEFAULT_INVENTORY);
    let rb = Runbook::parse(
        Source {
            name: pm2_incident::runbook::DEFAULT_PROCEDURE_NAME,
            text: pm2_incident::runbook::DEFAULT_PROCEDURE,
        },
        Source {
            name: "inv.toml",
            text: &inv,
        },
    )
    .unwrap();
    let s = pm2_incident::drill::builtin("test-killed", &rb.inventory).unwrap();
    let p = plan::plan(&s, &inventory_names(&rb.inventory));
    assert_eq!(p.settings_of("flyer-crawler-worker").instances, 3);
    // The marks describe the server: the API forks there.
    assert_eq!(p.settings_of("flyer-crawler-api").instances, 1);
    // The simulator runs the same (production untouched by this scenario).
    let st = pm2_incident::drill::sim::new_state(&s, &rb.inventory, "/h", 1_795_000_000_000);
    let workers = st
        .procs
        .iter()
        .filter(|p| p.name == "flyer-crawler-worker")
        .count();
    assert_eq!(workers, 3);
}
