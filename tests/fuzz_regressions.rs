//! Every crash or hang `scripts/fuzz` found, as a test of the normal suite. Inputs are
//! the fuzzer's files (first byte: the guard context selector of `fuzz/fuzz_targets/common.rs`,
//! unused here), kept in `tests/fixtures/fuzz/`.
use pm2_incident::guard::lint::{lint_text, FileKind, LintFinding};
use pm2_incident::guard::GuardContext;

fn input(name: &str) -> String {
    let bytes = std::fs::read(format!("tests/fixtures/fuzz/{name}")).unwrap();
    String::from_utf8(bytes[1..].to_vec()).unwrap()
}

/// The check the lint targets make: a finding names a line of the file and a column
/// within it (what an editor or SARIF viewer can jump to).
fn assert_positions_in_file(src: &str, findings: &[LintFinding]) {
    let lines: Vec<&str> = src.split('\n').collect();
    for f in findings {
        assert!(
            (1..=lines.len()).contains(&f.line),
            "{}:{}:{} is past the file's {} lines",
            f.file,
            f.line,
            f.col,
            lines.len()
        );
        let width = lines[f.line - 1].chars().count();
        assert!(
            f.col >= 1 && f.col <= width + 1,
            "col {} on a {width}-char line",
            f.col
        );
    }
}

fn parse_error(findings: &[LintFinding]) -> &LintFinding {
    findings
        .iter()
        .find(|f| f.rule == "parse")
        .expect("the syntax error is reported")
}

/// A workflow cut in the middle of a line (no final newline): saphyr puts the end of
/// input on the next line, one the file does not have. The error now sits at the end
/// of the last line.
#[test]
fn workflow_error_at_end_of_input_is_on_the_last_line() {
    let src = input("lint_workflow-eof-line");
    assert!(!src.ends_with('\n'));
    let findings = lint_text(
        ".github/workflows/deploy-prod.yml",
        &src,
        FileKind::Workflow,
        &GuardContext::default(),
    );
    assert_positions_in_file(&src, &findings);
    let e = parse_error(&findings);
    let last = src.split('\n').count();
    assert!(e.line <= last, "parse error at line {} of {last}", e.line);
}

/// A lone carriage return inside a JSON string: YAML counts it as a line break, the file
/// (and every editor that reports `package.json:LINE`) does not, so the error at the end
/// was one line past the file.
#[test]
fn package_json_lone_cr_does_not_shift_lines() {
    let src = input("lint_package_json-cr-line");
    assert!(src.contains("\r") && !src.contains("\r\n"));
    let findings = lint_text(
        "package.json",
        &src,
        FileKind::PackageJson,
        &GuardContext::default(),
    );
    assert_positions_in_file(&src, &findings);
    parse_error(&findings);
}

/// Lone carriage returns before the scripts: saphyr's span lines count each one, so every
/// later finding was placed lines past its command (line 26 of a 15-line file). Spans are
/// now placed by character index, and each finding's line holds its command's first word.
#[test]
fn package_json_lone_crs_do_not_shift_findings() {
    let src = input("lint_package_json-lone-cr-spans");
    let findings = lint_text(
        "package.json",
        &src,
        FileKind::PackageJson,
        &GuardContext::default(),
    );
    assert_positions_in_file(&src, &findings);
    let lines: Vec<&str> = src.split('\n').collect();
    let placed: Vec<_> = findings.iter().filter(|f| f.rule != "parse").collect();
    assert!(!placed.is_empty(), "{findings:?}");
    for f in placed {
        let first = f.command.split_whitespace().next().unwrap_or("");
        assert!(
            lines[f.line - 1].contains(first),
            "line {} ({:?}) does not hold {:?}",
            f.line,
            lines[f.line - 1],
            f.command
        );
    }
}

/// The same rule on hand-made variants: an error after lone CRs lands on the line
/// counted by `\n` only, at the column of the character that stopped the parser.
#[test]
fn parse_error_position_counts_only_newlines() {
    let src = "on: push\r\r\rjobs:\n  a: [b\n";
    let findings = lint_text(
        ".github/workflows/ci.yml",
        src,
        FileKind::Workflow,
        &GuardContext::default(),
    );
    assert_positions_in_file(src, &findings);
    let e = parse_error(&findings);
    assert!(e.line == 2 || e.line == 3, "error at line {}", e.line);
}

/// `kill` whose last word is `-s`/`-n`/`--signal` with no value: the option parser stepped
/// past the end of the words and the guard panicked (in `check-command`, `lint`, and typed
/// into `respond`, where a panic ends the TUI).
#[test]
fn kill_with_a_trailing_signal_option_does_not_panic() {
    use pm2_incident::guard::{classify, Class};
    let fuzzed = input("guard_classify-kill-trailing-s");
    let ctx = GuardContext::default();
    for line in [
        fuzzed.as_str(),
        "kill -s",
        "kill -9 -n",
        "kill --signal",
        "sudo kill -KILL -s",
    ] {
        // Nothing to signal: no target, so nothing dangerous.
        assert!(classify(line, &ctx).class < Class::Dangerous, "{line}");
    }
    // The option still reads its value when there is one.
    assert_eq!(
        classify("kill -s KILL $(cat ~/.pm2/pm2.pid)", &ctx).class,
        Class::Dangerous
    );
}

/// A Makefile variable whose value is longer than its `$(NAME)` reference: a finding
/// inside the value was placed past the end of the recipe line. It now points at the
/// reference that wrote it.
#[test]
fn makefile_variable_findings_point_at_the_reference() {
    let fuzzed = input("lint_makefile-long-variable");
    let ctx = GuardContext::default();
    let findings = lint_text("Makefile", &fuzzed, FileKind::Makefile, &ctx);
    assert_positions_in_file(&fuzzed, &findings);

    let src = "KILL_ALL := pm2 delete all && pm2 kill\n\nreset:\n\t@$(KILL_ALL)\n";
    let findings = lint_text("Makefile", src, FileKind::Makefile, &ctx);
    assert_positions_in_file(src, &findings);
    assert!(
        !findings.is_empty(),
        "the variable's pm2 delete all is found"
    );
    // Line 4, at the `$` of `$(KILL_ALL)` (after the tab and `@`).
    assert!(
        findings.iter().all(|f| (f.line, f.col) == (4, 3)),
        "{findings:?}"
    );
}
