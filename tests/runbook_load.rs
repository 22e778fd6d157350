//! Loading and validating the runbook and inventory: the shipped files load, and
//! every kind of broken file is reported at `file:line:col`.
use pm2_incident::runbook::error::line_col;
use pm2_incident::runbook::{
    Effect, LoadError, Risk, Runbook, Source, DEFAULT_INVENTORY, DEFAULT_PROCEDURE,
};

const P: &str = "proc.toml";
const I: &str = "inv.toml";

fn parse(procedure: &str, inventory: &str) -> Result<Runbook, Vec<LoadError>> {
    Runbook::parse(
        Source {
            name: P,
            text: procedure,
        },
        Source {
            name: I,
            text: inventory,
        },
    )
}

/// Apply `from -> to` once to `text` (the edit must apply).
fn edit(text: &str, from: &str, to: &str) -> String {
    assert!(text.contains(from), "fixture edit target missing: {from}");
    text.replacen(from, to, 1)
}

/// Position of the `nth` (0-based) occurrence of `needle` plus `skip` bytes, as file:line:col.
fn at(file: &str, text: &str, needle: &str, nth: usize, skip: usize) -> String {
    let offset = text
        .match_indices(needle)
        .nth(nth)
        .unwrap_or_else(|| panic!("{needle} #{nth} not found"))
        .0
        + skip;
    let (l, c) = line_col(text, offset);
    format!("{file}:{l}:{c}")
}

/// Expect exactly one error, at `pos`, whose message contains `msg`.
fn expect_one(result: Result<Runbook, Vec<LoadError>>, pos: &str, msg: &str) {
    let errors = result.expect_err("broken file must not load");
    let shown: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
    assert_eq!(errors.len(), 1, "expected one error, got {shown:#?}");
    let line = &shown[0];
    assert!(line.starts_with(&format!("{pos}: ")), "{line} not at {pos}");
    assert!(line.contains(msg), "{line} lacks {msg:?}");
}

#[test]
fn shipped_files_load() {
    let rb = Runbook::embedded().unwrap_or_else(|e| panic!("{e:#?}"));
    let p = &rb.procedure;
    let phases: Vec<&str> = p.phase.iter().map(|p| p.title.as_str()).collect();
    assert_eq!(
        phases,
        [
            "Quick Reference",
            "Detection",
            "Initial Assessment",
            "Immediate Response",
            "Process Restoration",
            "Root Cause Investigation",
            "Communication Templates",
            "Prevention Measures",
            "Contact Information",
            "Post-Incident Review",
            "Appendix: PM2 Command Reference",
        ]
    );
    assert_eq!(rb.procedure_sha256.len(), 64);
    // The runbook's 7 information-gathering commands (the 7th runs in the app dir).
    let gather = p.step("gather-info").unwrap();
    assert_eq!(gather.command.iter().filter(|c| c.id.is_some()).count(), 7);
    // Scenarios A-D, in order.
    let letters: Vec<&str> = p
        .steps()
        .filter_map(|(_, s)| s.scenario.as_ref().map(|s| s.letter.as_str()))
        .collect();
    assert_eq!(letters, ["A", "B", "C", "D"]);
    // Three communication templates and the report template.
    for t in [
        "incident-notification",
        "status-update",
        "resolution",
        "incident-report",
    ] {
        assert!(p.template(t).is_some(), "template {t}");
    }
    // Severity carries criteria, response time and example.
    let p1 = p.severity("P1").unwrap();
    assert_eq!(p1.response_minutes, 5);
    assert_eq!(p1.example, "All PM2 processes killed");
    assert_eq!(p.severity("P3").unwrap().response_minutes, 60);
    // Restore priority from the inventory, production first.
    let order: Vec<&str> = rb
        .inventory
        .restore
        .iter()
        .map(|r| r.process.get_ref().as_str())
        .collect();
    assert_eq!(order[0], "flyer-crawler-api");
    assert_eq!(order[3], "stock-alert-*");
    assert_eq!(order[6], "flyer-crawler-analytics-worker-test");
}

#[test]
fn decision_tree_is_data_with_predicates() {
    let rb = Runbook::embedded().unwrap();
    let t = &rb.procedure.decision_tree;
    assert_eq!(t.root.get_ref(), "production-down");
    let preds: Vec<&str> = t
        .node
        .iter()
        .map(|n| n.predicate.get_ref().as_str())
        .collect();
    assert_eq!(
        preds,
        [
            "production_app_down",
            "multiple_apps_affected",
            "test_only_affected"
        ]
    );
    let outcomes: Vec<String> = t.leaf.iter().map(|l| format!("{:?}", l.outcome)).collect();
    assert_eq!(outcomes, ["P1", "P2", "P3", "Investigate"]);
}

/// The runbook's appendix and dangerous-pattern lists, as they render with the shipped inventory.
#[test]
fn every_listed_pm2_command_is_present_and_tagged() {
    let rb = Runbook::embedded().unwrap();
    let rendered: Vec<(String, Effect, Risk, bool)> = rb
        .procedure
        .commands()
        .map(|(_, _, c)| (rb.render(c.run.get_ref()), c.effect, c.risk, c.runnable))
        .collect();
    let find = |cmd: &str| {
        rendered
            .iter()
            .find(|(r, ..)| r == cmd)
            .unwrap_or_else(|| panic!("runbook data lacks `{cmd}`"))
    };
    let safe_reads = [
        "pm2 list",
        "pm2 show <process-name>",
        "pm2 monit",
        "pm2 logs <process-name>",
        "pm2 show flyer-crawler-api",
        "pm2 logs --lines 50",
        "pm2 ping",
        "pm2 logs --lines 20 --nostream",
        "pm2 jlist | jq '.[] | {name, status: .pm2_env.status}'",
    ];
    for cmd in safe_reads {
        let (_, effect, risk, _) = find(cmd);
        assert_eq!((*effect, *risk), (Effect::Read, Risk::Safe), "{cmd}");
    }
    let safe_changes = [
        "pm2 restart flyer-crawler-api",
        "pm2 restart flyer-crawler-api flyer-crawler-worker flyer-crawler-analytics-worker",
        "pm2 reload flyer-crawler-api",
        "pm2 start ecosystem.config.cjs",
        "pm2 start ecosystem.config.cjs --only flyer-crawler-api",
        "pm2 start ecosystem-test.config.cjs",
    ];
    for cmd in safe_changes {
        let (_, effect, risk, runnable) = find(cmd);
        assert_eq!(
            (*effect, *risk, *runnable),
            (Effect::Change, Risk::Safe, true),
            "{cmd}"
        );
    }
    let dangerous = [
        "pm2 stop all",
        "pm2 restart all",
        "pm2 delete all",
        "pm2 kill",
        "pm2 update",
        r#"pm2 delete $(pm2 jlist | jq -r '.[] | select(.pm2_env.status == "errored") | .pm_id')"#,
    ];
    for cmd in dangerous {
        // Every copy of a dangerous command is tagged and never runnable.
        let copies: Vec<_> = rendered.iter().filter(|(r, ..)| r == cmd).collect();
        assert!(!copies.is_empty(), "runbook data lacks `{cmd}`");
        for (_, effect, risk, runnable) in copies {
            assert_eq!(
                (*effect, *risk, *runnable),
                (Effect::Change, Risk::Dangerous, false),
                "{cmd}"
            );
        }
    }
    for cmd in ["pm2 save", "pm2 resurrect"] {
        let (_, _, risk, _) = find(cmd);
        assert_eq!(*risk, Risk::Caution, "{cmd}");
    }
}

#[test]
fn unknown_key_is_refused_with_position() {
    let p = edit(
        DEFAULT_PROCEDURE,
        "purpose = \"Check PM2 status\"\n",
        "purpose = \"Check PM2 status\"\ncolour = \"red\"\n",
    );
    let errors = parse(&p, DEFAULT_INVENTORY).unwrap_err();
    assert_eq!(errors.len(), 1);
    assert_eq!(
        format!("{}:{}:{}", errors[0].file, errors[0].line, errors[0].col),
        at(P, &p, "colour", 0, 0)
    );
    assert!(
        errors[0].message.contains("unknown field `colour`"),
        "{}",
        errors[0]
    );
}

#[test]
fn toml_syntax_error_has_position() {
    let p = edit(DEFAULT_PROCEDURE, "id = \"scope\"", "id = \"scope");
    let errors = parse(&p, DEFAULT_INVENTORY).unwrap_err();
    assert_eq!(errors[0].file, P);
    assert_eq!(
        errors[0].line,
        line_col(&p, p.find("id = \"scope").unwrap()).0
    );
}

#[test]
fn duplicate_step_id() {
    let p = edit(DEFAULT_PROCEDURE, "id = \"scope\"", "id = \"gather-info\"");
    let pos = at(P, &p, "id = \"gather-info\"", 1, 5);
    expect_one(
        parse(&p, DEFAULT_INVENTORY),
        &pos,
        "duplicate step id `gather-info`",
    );
}

#[test]
fn dangling_decision_tree_branch() {
    let p = edit(DEFAULT_PROCEDURE, "yes = \"p1\"", "yes = \"p9\"");
    let pos = at(P, &p, "yes = \"p9\"", 0, 6);
    expect_one(
        parse(&p, DEFAULT_INVENTORY),
        &pos,
        "unknown node or leaf `p9`",
    );
}

#[test]
fn decision_tree_loop() {
    let p = edit(
        DEFAULT_PROCEDURE,
        "no = \"investigate\"",
        "no = \"production-down\"",
    );
    let pos = at(P, &p, "no = \"production-down\"", 0, 5);
    expect_one(
        parse(&p, DEFAULT_INVENTORY),
        &pos,
        "loops back to `production-down`",
    );
}

#[test]
fn dangling_step_reference() {
    let p = edit(
        DEFAULT_PROCEDURE,
        "next_step = \"workflow-logs\"",
        "next_step = \"nowhere\"",
    );
    let pos = at(P, &p, "next_step = \"nowhere\"", 0, 12);
    expect_one(parse(&p, DEFAULT_INVENTORY), &pos, "unknown step `nowhere`");
}

#[test]
fn unknown_predicate() {
    let p = edit(
        DEFAULT_PROCEDURE,
        "predicate = \"test_only_affected\"",
        "predicate = \"test_only_afected\"",
    );
    let pos = at(P, &p, "\"test_only_afected\"", 0, 0);
    expect_one(
        parse(&p, DEFAULT_INVENTORY),
        &pos,
        "unknown predicate `test_only_afected`",
    );
}

#[test]
fn unknown_variable_points_at_the_variable() {
    let p = edit(
        DEFAULT_PROCEDURE,
        "run = \"free -h\"",
        "run = \"free -h ${nope.dir}\"",
    );
    let pos = at(P, &p, "${nope.dir}", 0, 0);
    expect_one(
        parse(&p, DEFAULT_INVENTORY),
        &pos,
        "unknown variable `${nope.dir}`",
    );
}

#[test]
fn scenario_naming_unknown_deployment() {
    let p = edit(
        DEFAULT_PROCEDURE,
        "role = \"restore_order\"",
        "deployments = [\"stock-alert-staging\"]",
    );
    let pos = at(P, &p, "\"stock-alert-staging\"", 0, 0);
    expect_one(
        parse(&p, DEFAULT_INVENTORY),
        &pos,
        "unknown deployment `stock-alert-staging`",
    );
}

#[test]
fn unknown_role_is_refused_where_it_is_written() {
    let p = edit(
        DEFAULT_PROCEDURE,
        "for_each = \"other_production\"",
        "for_each = \"staging\"",
    );
    let errors = parse(&p, DEFAULT_INVENTORY).unwrap_err();
    let pos = at(P, &p, "\"staging\"", 0, 0);
    assert_eq!(errors.len(), 1, "{errors:?}");
    let shown = errors[0].to_string();
    assert!(shown.starts_with(&pos), "{shown} should point at {pos}");
    assert!(shown.contains("staging"), "{shown}");
}

#[test]
fn empty_process_list() {
    let i = edit(
        DEFAULT_INVENTORY,
        "processes = [\"stock-alert-*\"]",
        "processes = []",
    );
    let pos = at(I, &i, "[]", 0, 0);
    // The restore entry for stock-alert-* now names nothing as well.
    let errors = parse(DEFAULT_PROCEDURE, &i).unwrap_err();
    let shown: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
    assert!(
        shown
            .iter()
            .any(|l| l.starts_with(&pos)
                && l.contains("`stock-alert-prod` has an empty process list")),
        "{shown:#?}"
    );
    let restore = at(I, &i, "process = \"stock-alert-*\"", 0, 10);
    assert!(
        shown
            .iter()
            .any(|l| l.starts_with(&restore) && l.contains("names no process")),
        "{shown:#?}"
    );
}

#[test]
fn priority_naming_no_process() {
    let i = edit(
        DEFAULT_INVENTORY,
        "process = \"flyer-crawler-worker-test\"",
        "process = \"flyer-crawler-wroker-test\"",
    );
    let pos = at(I, &i, "\"flyer-crawler-wroker-test\"", 0, 0);
    expect_one(
        parse(DEFAULT_PROCEDURE, &i),
        &pos,
        "restore priority `flyer-crawler-wroker-test` names no process",
    );
}

#[test]
fn duplicate_deployment_and_unknown_app() {
    let i = edit(
        DEFAULT_INVENTORY,
        "app = \"stock-alert\"",
        "app = \"stock-alerts\"",
    );
    let pos = at(I, &i, "\"stock-alerts\"", 0, 0);
    expect_one(
        parse(DEFAULT_PROCEDURE, &i),
        &pos,
        "unknown app `stock-alerts`",
    );

    let i = edit(
        DEFAULT_INVENTORY,
        "id = \"stock-alert-prod\"",
        "id = \"flyer-crawler-test\"",
    );
    let errors = parse(DEFAULT_PROCEDURE, &i).unwrap_err();
    let pos = at(I, &i, "id = \"flyer-crawler-test\"", 1, 5);
    assert!(errors
        .iter()
        .any(|e| e.to_string().starts_with(&pos) && e.message.contains("duplicate deployment id")));
}

#[test]
fn errors_are_all_reported_not_just_the_first() {
    let p = edit(DEFAULT_PROCEDURE, "yes = \"p1\"", "yes = \"p9\"");
    let p = edit(&p, "run = \"free -h\"", "run = \"free -h ${x}\"");
    assert_eq!(parse(&p, DEFAULT_INVENTORY).unwrap_err().len(), 2);
}

#[test]
fn unreadable_file_names_the_path() {
    let e = Runbook::load(Some(std::path::Path::new("/nonexistent/rb.toml")), None).unwrap_err();
    assert!(
        e[0].to_string()
            .starts_with("/nonexistent/rb.toml:0:0: cannot read"),
        "{}",
        e[0]
    );
}

#[test]
fn step_roles_are_found_by_role_and_played_once() {
    let rb = parse(DEFAULT_PROCEDURE, DEFAULT_INVENTORY).unwrap();
    use pm2_incident::runbook::model::StepRole;
    for role in [
        StepRole::ClassifySeverity,
        StepRole::RestorationOrder,
        StepRole::VerificationChecklist,
        StepRole::FiveWhys,
        StepRole::ReportTemplate,
        StepRole::ActionItems,
    ] {
        assert!(rb.procedure.step_with_role(role).is_some(), "{role:?}");
    }
    // Renaming a step keeps its behaviour: the role, not the id, is what the tool uses.
    let renamed = edit(
        DEFAULT_PROCEDURE,
        "id = \"classify-severity\"",
        "id = \"triage\"",
    );
    let renamed = renamed.replace("\"classify-severity\"", "\"triage\"");
    let renamed = renamed.replace("role = \"triage\"", "role = \"classify-severity\"");
    let rb = parse(&renamed, DEFAULT_INVENTORY).unwrap();
    let s = rb
        .procedure
        .step_with_role(StepRole::ClassifySeverity)
        .unwrap();
    assert_eq!(s.id.get_ref(), "triage");
    // Two steps claiming one role: an error at the second claim.
    let twice = edit(
        DEFAULT_PROCEDURE,
        "role = \"restoration-order\"",
        "role = \"classify-severity\"",
    );
    expect_one(
        parse(&twice, DEFAULT_INVENTORY),
        &at(P, &twice, "role = \"classify-severity\"", 1, 7),
        "already played by step `classify-severity`",
    );
    // An unknown role is a load error, not silence.
    let unknown = edit(
        DEFAULT_PROCEDURE,
        "role = \"five-whys\"",
        "role = \"six-whys\"",
    );
    assert!(parse(&unknown, DEFAULT_INVENTORY).is_err());
}

/// A deployment's `cluster` marks name its own processes with at least one instance.
#[test]
fn cluster_marks_name_processes_of_their_deployment() {
    let anchor =
        "config = \"ecosystem.config.cjs\"\ndir = \"/var/www/flyer-crawler.projectium.com\"";
    let good = edit(
        DEFAULT_INVENTORY,
        anchor,
        &format!("cluster = {{ \"flyer-crawler-api\" = 4 }}\n{anchor}"),
    );
    let rb = parse(DEFAULT_PROCEDURE, &good).unwrap_or_else(|e| panic!("{e:#?}"));
    let marks: Vec<(String, u32)> = rb.inventory.deployment[0]
        .cluster()
        .map(|(k, v)| (k.clone(), v))
        .collect();
    assert_eq!(marks, [("flyer-crawler-api".to_string(), 4)]);
    // A glob process is marked by a name it matches.
    let glob = edit(
        DEFAULT_INVENTORY,
        "config_note",
        "cluster = { \"stock-alert-api\" = 2 }\nconfig_note",
    );
    parse(DEFAULT_PROCEDURE, &glob).unwrap_or_else(|e| panic!("{e:#?}"));
    let other = edit(
        DEFAULT_INVENTORY,
        anchor,
        &format!("cluster = {{ \"stock-alert-api\" = 2 }}\n{anchor}"),
    );
    expect_one(
        parse(DEFAULT_PROCEDURE, &other),
        &at(I, &other, "cluster = ", 0, 10),
        "cluster: `stock-alert-api` is not a process of `flyer-crawler-prod`",
    );
    let zero = edit(
        DEFAULT_INVENTORY,
        anchor,
        &format!("cluster = {{ \"flyer-crawler-api\" = 0 }}\n{anchor}"),
    );
    expect_one(
        parse(DEFAULT_PROCEDURE, &zero),
        &at(I, &zero, "cluster = ", 0, 10),
        "has 0 instances",
    );
}
