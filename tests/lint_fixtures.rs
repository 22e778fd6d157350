//! `lint` over fixtures that reproduce the runbook's dangerous and safe patterns.
use std::path::PathBuf;

use pm2_incident::cmd::lint::{lint_report, ContextArgs, Format, LintArgs};
use pm2_incident::guard::lint::Severity;
use pm2_incident::guard::GuardContext;

fn fixture(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/lint")
        .join(rel)
}

fn args(paths: &[&str]) -> LintArgs {
    LintArgs {
        paths: paths.iter().map(|p| fixture(p)).collect(),
        format: Format::Text,
        ecosystem: None,
        expect: None,
        names: ContextArgs::default(),
    }
}

fn inventory() -> GuardContext {
    GuardContext {
        known_processes: [
            "flyer-crawler-api",
            "flyer-crawler-worker",
            "flyer-crawler-analytics-worker",
            "flyer-crawler-api-test",
            "flyer-crawler-worker-test",
            "flyer-crawler-analytics-worker-test",
            "stock-alert-*",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect(),
        scope: None,
        pm2: None,
    }
}

/// (path relative to the fixture dir, line, col, severity, rule), without the info-level
/// `freeze-check` advice (tested in `tests/deploy_lint_freeze.rs`).
fn summary(
    r: &pm2_incident::cmd::lint::LintReport,
    base: &str,
) -> Vec<(String, usize, usize, Severity, &'static str)> {
    let root = fixture(base).display().to_string();
    r.findings
        .iter()
        .filter(|f| f.rule != "freeze-check")
        .map(|f| {
            let rel = f
                .file
                .strip_prefix(&root)
                .unwrap_or(&f.file)
                .trim_start_matches('/')
                .to_string();
            (rel, f.line, f.col, f.severity, f.rule)
        })
        .collect()
}

#[test]
fn safe_patterns_pass_clean() {
    for ctx in [GuardContext::default(), inventory()] {
        let r = lint_report(&args(&["safe"]), &ctx);
        assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
        assert!(r.findings.is_empty(), "unexpected findings:\n{}", r.stdout);
        assert!(r.stderr.contains("5 file(s) checked"), "{}", r.stderr);
    }
}

#[test]
fn dangerous_patterns_are_errors_at_the_right_place() {
    use Severity::{Error as E, Warning as W};
    let r = lint_report(&args(&["dangerous"]), &inventory());
    assert_eq!(r.code, 1);
    let wf = ".gitea/workflows/deploy-to-prod.yml";
    let want: Vec<(String, usize, usize, Severity, &str)> = vec![
        (wf, 10, 14, E, "guard"),                  // run: pm2 stop all
        (wf, 14, 11, E, "guard"),                  // pm2 delete all || true
        (wf, 18, 11, E, "guard"),                  // delete $(jlist | jq status filter)
        (wf, 20, 15, E, "guard"),                  // sudo -u ... pm2 restart all
        (wf, 24, 15, E, "guard"),                  // ... | xargs -r pm2 delete
        (wf, 26, 50, E, "guard"), // ssh host "bash -c 'pm2 kill'": at `pm2 kill` itself
        ("scripts/cleanup.js", 8, 5, E, "guard"), // unfiltered forEach + template literal
        ("scripts/cleanup.js", 13, 3, E, "guard"), // pm2.delete('all', ...)
        ("scripts/cleanup.js", 14, 3, E, "guard"), // pm2.stop('all', ...)
        ("scripts/reset.sh", 4, 1, W, "guard"), // pm2 save
        ("scripts/reset.sh", 6, 3, E, "guard"), // for id in $(pm2 jlist ...) delete
        ("scripts/reset.sh", 8, 1, E, "guard"), // npx pm2 update
    ]
    .into_iter()
    .map(|(f, l, c, s, r)| (f.to_string(), l, c, s, r))
    .collect();
    assert_eq!(summary(&r, "dangerous"), want, "\n{}", r.stdout);
    // Text format: file:line:col: severity: message, and the runbook's reason.
    let first = r.stdout.lines().find(|l| !l.contains(": info: ")).unwrap();
    assert!(first.ends_with(".gitea/workflows/deploy-to-prod.yml:10:14: error: dangerous: `pm2 stop all` affects ALL apps on the server, not only this incident's (the 2026-02-17 incident: a deploy ran `pm2 delete all` and took down every app on the server) (instead: pm2 stop flyer-crawler-api flyer-crawler-worker flyer-crawler-analytics-worker flyer-crawler-api-test flyer-crawler-worker-test flyer-crawler-analytics-worker-test)"), "{first}");
}

#[test]
fn workflow_review_rules() {
    let r = lint_report(&args(&["review"]), &inventory());
    assert_eq!(r.code, 0, "review findings are warnings");
    let got: Vec<(String, usize, &str)> = summary(&r, "review")
        .into_iter()
        .map(|(f, l, _, _, rule)| (f, l, rule))
        .collect();
    assert_eq!(
        got,
        vec![
            (
                ".gitea/workflows/deploy-to-prod.yml".to_string(),
                7,
                "prod-whitelist"
            ),
            (
                ".gitea/workflows/deploy-to-prod.yml".to_string(),
                8,
                "prod-whitelist"
            ),
            // The `execSync('pm2 delete ' + ...)` line inside the `node -e` program.
            (
                ".gitea/workflows/deploy-to-test.yml".to_string(),
                12,
                "test-suffix"
            ),
            (
                ".gitea/workflows/deploy-to-test.yml".to_string(),
                16,
                "test-suffix"
            ),
        ],
        "\n{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("the filter `p.name.startsWith('flyer-crawler')` does not"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("startswith(\"flyer-crawler\")"),
        "{}",
        r.stdout
    );
}

#[test]
fn json_format() {
    let mut a = args(&["dangerous/scripts/reset.sh"]);
    a.format = Format::Json;
    let r = lint_report(&a, &GuardContext::default());
    assert_eq!(r.code, 1);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["files"], 1);
    assert_eq!(v["errors"], 2);
    assert_eq!(v["warnings"], 1);
    let f = &v["findings"][1];
    assert_eq!(f["line"], 6);
    assert_eq!(f["col"], 3);
    assert_eq!(f["severity"], "error");
    assert_eq!(f["class"], "dangerous");
    assert_eq!(f["command"], "pm2 delete \"$id\"");
    assert!(f["safe_alternative"]
        .as_str()
        .unwrap()
        .contains("select(.name"));
}

#[test]
fn unreadable_path_is_exit_2_with_its_name() {
    let r = lint_report(&args(&["no/such/dir"]), &GuardContext::default());
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("no/such/dir"), "{}", r.stderr);
}

#[test]
fn single_inline_and_quoted_run_values() {
    use pm2_incident::guard::lint::{lint_text, FileKind};
    let y = "steps:\n  - run: \"pm2 restart all\"\n  - run: 'echo ''pm2 delete all'''\n  - run: pm2 list # pm2 kill\n  - script: |\n      pm2 delete all\n";
    let f = lint_text("x.yml", y, FileKind::Workflow, &GuardContext::default());
    let got: Vec<(usize, usize)> = f
        .iter()
        .filter(|f| f.rule != "freeze-check")
        .map(|f| (f.line, f.col))
        .collect();
    assert_eq!(got, vec![(2, 11), (6, 7)]);
}
