//! `lint --ecosystem`: loads the file with the real `node` (as the runbook does)
//! and compares app names.
use std::path::PathBuf;

use pm2_incident::cmd::lint::{ecosystem_names, lint_report, ContextArgs, Format, LintArgs};
use pm2_incident::guard::GuardContext;

fn fixture(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/lint/ecosystem")
        .join(rel)
}

fn eco(file: &str, expect: Option<&[&str]>) -> LintArgs {
    LintArgs {
        paths: vec![],
        format: Format::Text,
        ecosystem: Some(fixture(file)),
        expect: expect.map(|e| e.iter().map(|s| s.to_string()).collect()),
        names: ContextArgs::default(),
    }
}

const PROD: &[&str] = &[
    "flyer-crawler-api",
    "flyer-crawler-worker",
    "flyer-crawler-analytics-worker",
];

#[test]
fn node_reads_the_app_names() {
    let names = ecosystem_names(&fixture("ecosystem.config.cjs")).unwrap();
    assert_eq!(
        names,
        vec![
            Some("flyer-crawler-api".to_string()),
            Some("flyer-crawler-worker".to_string()),
            Some("flyer-crawler-analytics-worker".to_string())
        ]
    );
}

#[test]
fn matching_file_passes() {
    let r = lint_report(
        &eco("ecosystem.config.cjs", Some(PROD)),
        &GuardContext::default(),
    );
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(r.findings.is_empty());
}

#[test]
fn drift_is_reported_with_lines() {
    let r = lint_report(
        &eco("ecosystem-drift.config.cjs", Some(PROD)),
        &GuardContext::default(),
    );
    assert_eq!(r.code, 1);
    let lines: Vec<&str> = r
        .stdout
        .lines()
        .map(|l| l.rsplit_once(".cjs:").map(|(_, t)| t).unwrap_or(l))
        .collect();
    assert_eq!(
        lines,
        vec![
            "3:13: error: app name `flyer-crawler-api` is declared twice",
            "6:13: error: app `crawler-worker` is not in the expected names (flyer-crawler-api, flyer-crawler-worker, flyer-crawler-analytics-worker)",
            "1:1: error: app #4 has no `name`: PM2 derives one from the script, which the inventory cannot match",
            "1:1: error: expected app `flyer-crawler-worker` is not declared in the ecosystem file",
            "1:1: error: expected app `flyer-crawler-analytics-worker` is not declared in the ecosystem file",
        ]
    );
}

#[test]
fn inventory_globs_when_no_explicit_list() {
    let ctx = GuardContext {
        known_processes: vec!["flyer-crawler-*".into(), "stock-alert-*".into()],
        scope: None,
        pm2: None,
    };
    let r = lint_report(&eco("ecosystem.config.cjs", None), &ctx);
    assert_eq!(r.code, 0, "{}", r.stdout);
    let r = lint_report(&eco("ecosystem-drift.config.cjs", None), &ctx);
    assert!(
        r.stdout
            .contains("`crawler-worker` is not in the expected names"),
        "{}",
        r.stdout
    );
    assert!(
        !r.stdout.contains("expected app"),
        "globs are not required names: {}",
        r.stdout
    );
}

#[test]
fn broken_file_is_a_clear_error() {
    let r = lint_report(&eco("broken.config.cjs", None), &GuardContext::default());
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .contains("broken.config.cjs: node could not load it"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("SyntaxError"), "{}", r.stderr);
}
