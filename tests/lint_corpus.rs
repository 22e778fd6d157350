//! `lint` on deploy files of the kinds other people write (workflows with
//! ssh-action blocks, pipelines, Makefiles, package.json, compiled TS): every
//! finding at its own line and column, none on the safe variants, messages
//! that fit code that is not this server's. The fixtures were written for
//! these tests (tests/fixtures/lint/corpus*).
use std::path::PathBuf;

use pm2_incident::cmd::lint::{lint_report, ContextArgs, Format, LintArgs, LintReport};
use std::collections::HashMap;

use pm2_incident::guard::lint::yaml::Select;
use pm2_incident::guard::lint::{lint_text, FileKind, LintFinding, Severity};
use pm2_incident::guard::{analyze, Class, GuardContext};

fn fixture(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/lint")
        .join(rel)
}

fn lint(rel: &str, ctx: &GuardContext) -> LintReport {
    let args = LintArgs {
        paths: vec![fixture(rel)],
        format: Format::Text,
        ecosystem: None,
        expect: None,
        names: ContextArgs::default(),
    };
    let mut r = lint_report(&args, ctx);
    // The deploy-freeze advice (an info finding on every workflow that deploys PM2 apps) has
    // its own tests (deploy_lint_freeze.rs); this corpus is about dangerous lines.
    r.findings.retain(|f| f.rule != "freeze-check");
    r
}

fn rel(f: &LintFinding, base: &str) -> String {
    let root = fixture(base).display().to_string();
    f.file
        .strip_prefix(&root)
        .unwrap_or(&f.file)
        .trim_start_matches('/')
        .to_string()
}

/// The command's first word stands at the finding's line:col in the file.
fn assert_points_at_command(f: &LintFinding) {
    if f.command.is_empty() {
        return;
    }
    let text = std::fs::read_to_string(&f.file).unwrap();
    let line = text.lines().nth(f.line - 1).unwrap_or("");
    let at: String = line.chars().skip(f.col - 1).collect();
    let word: String = f
        .command
        .chars()
        .take_while(|c| !c.is_whitespace() && *c != '(' && *c != '.')
        .collect();
    assert!(
        at.starts_with(&word),
        "{}:{}:{}: `{}` is not at `{at}`",
        f.file,
        f.line,
        f.col,
        f.command
    );
}

#[test]
fn corpus_findings_at_their_own_place() {
    let r = lint("corpus", &GuardContext::default());
    assert_eq!(r.code, 1, "{}", r.stderr);
    // (file, line, col (None: the shell layer decides), severity, rule, class)
    type Want = (
        &'static str,
        usize,
        Option<usize>,
        Severity,
        &'static str,
        Class,
    );
    use Class::*;
    use Severity::*;
    let want: Vec<Want> = vec![
        // block scalar with an anchor, extra indentation kept in the column
        (
            ".github/workflows/ssh-deploy.yml",
            21,
            Some(15),
            Error,
            "guard",
            Dangerous,
        ),
        // folded scalar: its second line
        (
            ".github/workflows/ssh-deploy.yml",
            30,
            Some(11),
            Error,
            "guard",
            Dangerous,
        ),
        // double-quoted with escapes and multi-byte characters before it
        (
            ".github/workflows/ssh-deploy.yml",
            32,
            Some(56),
            Error,
            "guard",
            Dangerous,
        ),
        (
            ".github/workflows/ssh-deploy.yml",
            38,
            Some(11),
            Warning,
            "guard",
            Caution,
        ),
        ("Makefile", 10, Some(2), Warning, "guard", Caution),
        // `@` prefix removed, column still the file's
        ("Makefile", 13, Some(3), Error, "guard", Dangerous),
        // a loop over `pgrep node` killing each: every Node process
        ("Makefile", 15, Some(4), Error, "guard", Dangerous),
        // a make variable set outside the file: cannot tell
        ("Makefile", 18, Some(2), Warning, "guard", Caution),
        // compiled TypeScript: pm2_1.default.delete("all")
        ("app/lib/deploy.js", 10, Some(5), Error, "guard", Dangerous),
        // a script map { stop: 'pm2 kill' }
        ("app/lib/deploy.js", 13, Some(23), Error, "guard", Dangerous),
        // execa('...'.split(' '))
        ("app/lib/deploy.js", 16, Some(1), Error, "guard", Dangerous),
        // an invalid document says so, and the rest is still read
        ("ci/broken.yml", 6, Some(6), Error, "parse", Caution),
        ("ci/broken.yml", 6, Some(13), Error, "guard", Dangerous),
        ("ci/pipeline.yml", 8, Some(8), Warning, "guard", Caution),
        // second document; inside an ssh string (column: the shell layer's)
        ("ci/pipeline.yml", 12, None, Error, "guard", Dangerous),
        ("package.json", 9, Some(14), Error, "guard", Dangerous),
        ("package.json", 10, Some(17), Error, "guard", Dangerous),
        ("package.json", 12, Some(14), Warning, "guard", Caution),
        // `release` runs `npm run stop`, and `stop` is `pm2 kill`
        ("package.json", 13, Some(34), Error, "npm-run", Dangerous),
    ];
    let got: Vec<_> = r
        .findings
        .iter()
        .map(|f| (rel(f, "corpus"), f.line, f.col, f.severity, f.rule, f.class))
        .collect();
    assert_eq!(got.len(), want.len(), "{got:#?}");
    for (g, w) in got.iter().zip(&want) {
        assert_eq!(
            (g.0.as_str(), g.1, w.2.map(|_| g.2), g.3, g.4, g.5),
            (w.0, w.1, w.2, w.3, w.4, w.5),
            "{got:#?}"
        );
    }
    for f in r
        .findings
        .iter()
        .filter(|f| f.rule == "guard" && f.col != 7)
    {
        assert_points_at_command(f);
    }
}

#[test]
fn safe_variants_raise_nothing() {
    let r = lint("corpus-safe", &GuardContext::default());
    assert!(r.findings.is_empty(), "{:#?}", r.findings);
    assert_eq!(r.code, 0);
    assert!(r.stderr.starts_with("4 file(s) checked"), "{}", r.stderr);
}

#[test]
fn messages_fit_code_that_is_not_this_servers() {
    let r = lint("corpus", &GuardContext::default());
    for f in &r.findings {
        let all = format!("{} {:?}", f.message, f.safe_alternative);
        assert!(!all.contains("inventory"), "{all}");
        assert!(!all.contains("2026-02-17"), "{all}");
        assert!(!all.contains("flyer-crawler"), "{all}");
        assert!(!all.contains("command reference"), "{all}");
    }
    let del = r
        .findings
        .iter()
        .find(|f| f.file.ends_with("ssh-deploy.yml") && f.line == 21)
        .unwrap();
    assert_eq!(
        del.safe_alternative.as_deref(),
        Some("name the apps this file deploys: `pm2 delete strapi`"),
        "`pm2 start npm --name strapi` names the app"
    );
    let kill = r
        .findings
        .iter()
        .find(|f| f.file.ends_with("package.json") && f.line == 9)
        .unwrap();
    assert_eq!(
        kill.safe_alternative.as_deref(),
        Some("name the apps this file deploys: `pm2 restart strapi`")
    );
    // With an inventory, the runbook's story and names come back.
    let inv = GuardContext {
        known_processes: vec!["flyer-crawler-api".into()],
        scope: None,
        pm2: None,
    };
    let r = lint("corpus/package.json", &inv);
    let restart_all = r.findings.iter().find(|f| f.line == 10).unwrap();
    assert!(
        restart_all.message.contains("2026-02-17"),
        "{}",
        restart_all.message
    );
    assert_eq!(
        restart_all.safe_alternative.as_deref(),
        Some("pm2 restart flyer-crawler-api")
    );
}

/// A small deterministic generator (no dependency needed for this).
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[(self.next() % xs.len() as u64) as usize]
    }
}

/// Random workflows built from every scalar style, indentation, anchors,
/// multi-byte text and random Unicode noise. No panic; every character of the
/// shell text handed to the guard maps back to the same character in the file
/// (an escape's result to its backslash); and where the commands are clean,
/// every finding's line:col holds the first word of its command.
#[test]
fn property_every_finding_points_at_its_command() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let cmds = [
        "pm2 delete all",
        "pm2 kill",
        "pm2 stop all",
        "pm2 save",
        "pm2 restart app-é",
        "pm2 list",
        "echo ünïcødé && pm2 reload all",
    ];
    let noise = [
        "",
        "é",
        "日本語 ",
        "😀 ",
        "\\é",
        "'",
        "\"",
        "#",
        ": ",
        "- ",
        "\t",
        "&a ",
        "*a",
    ];
    let mut findings = 0;
    for round in 0..400 {
        let noisy = round % 2 == 0;
        let mut y = String::from("jobs:\n  j:\n    steps:\n");
        for _ in 0..(1 + rng.next() % 4) {
            let c = rng.pick(&cmds);
            let n = if noisy { rng.pick(&noise) } else { "" };
            let pad = " ".repeat((rng.next() % 3) as usize);
            let anchor = if rng.next().is_multiple_of(4) {
                "&x "
            } else {
                ""
            };
            let step = match rng.next() % 6 {
                0 => format!("      - run: {anchor}|\n          echo {n}\n          {pad}{c}\n"),
                1 => format!("      - run: {anchor}>\n          {c}\n          {pad}--x{n}\n"),
                2 => format!(
                    "      - run: \"{}{c}\"\n",
                    rng.pick(&["", "a && ", "é && "])
                ),
                3 => format!("      - run: '{c}'\n"),
                4 => format!("      - with:\n          script: [ \"{c}\", 'echo ok' ]\n"),
                _ => format!("      - run: {c} {n}\n"),
            };
            y.push_str(&step);
        }
        let file_char =
            |l: usize, c: usize| y.lines().nth(l - 1).and_then(|t| t.chars().nth(c - 1));
        let (pieces, _) = pm2_incident::guard::lint::yaml::shell_pieces(&y, Select::Workflow);
        for p in &pieces {
            for (o, ch) in p.text.char_indices().filter(|(_, c)| !c.is_whitespace()) {
                let (l, c) = p.position(o);
                let got = file_char(l, c);
                assert!(
                    got == Some(ch) || got == Some('\\'),
                    "round {round}: `{ch}` of {:?} mapped to {l}:{c} ({got:?})\n{y}",
                    p.text
                );
            }
            for f in analyze(&p.text, &GuardContext::default(), &HashMap::new()) {
                let ch = p.text[f.offset..].chars().next();
                let (l, c) = p.position(f.offset);
                if let Some(ch) = ch.filter(|c| !c.is_whitespace()) {
                    let got = file_char(l, c);
                    assert!(
                        got == Some(ch) || got == Some('\\'),
                        "round {round}: {l}:{c}\n{y}"
                    );
                }
            }
        }
        if !noisy {
            let found = lint_text("prop.yml", &y, FileKind::Workflow, &GuardContext::default());
            for f in found.iter().filter(|f| f.rule == "guard") {
                findings += 1;
                let line = y.lines().nth(f.line - 1).unwrap_or("");
                let at: String = line.chars().skip(f.col - 1).collect();
                let word = f.command.split_whitespace().next().unwrap_or("");
                assert!(
                    at.starts_with(word),
                    "round {round}: {}:{} `{}` not at `{at}`\n{y}",
                    f.line,
                    f.col,
                    f.command
                );
            }
        }
    }
    assert!(
        findings > 100,
        "the generator must produce findings ({findings})"
    );
}

/// Random Unicode and random fragments of every file kind's syntax, fed to
/// every kind: no panic, no hang, and every position is inside the text.
#[test]
fn random_input_never_panics() {
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let atoms = [
        "é",
        "日",
        "😀",
        "\\",
        "\"",
        "'",
        "`",
        "$",
        "$$",
        "$(",
        "${",
        "(",
        ")",
        "{",
        "}",
        "[",
        "]",
        "\t",
        "\n",
        " ",
        "  ",
        "|",
        ">",
        "&",
        "*",
        "#",
        ":",
        "- ",
        ",",
        "/",
        "\\é",
        "\r\n",
        "pm2 delete all",
        "pm2 kill",
        "run: |\n  ",
        "script: &a >\n",
        "*a",
        "---\n",
        "\"scripts\": {",
        "exec('",
        "require('pm2')",
        ".split(' ')",
        "pm2_1.default.stop(",
        "\tnpm run ",
        "npm run x",
        "kill -9 ",
        "<<EOF\n",
        "EOF\n",
        "for p in $(pgrep node); do ",
        "done",
        "APP := x\n",
        "t:\n\t",
    ];
    let kinds = [
        FileKind::Workflow,
        FileKind::Shell,
        FileKind::Js,
        FileKind::Makefile,
        FileKind::PackageJson,
    ];
    for round in 0..1500 {
        let mut text = String::new();
        for _ in 0..(rng.next() % 40) {
            text.push_str(rng.pick(&atoms));
        }
        for kind in kinds {
            let found = lint_text("fuzz", &text, kind, &GuardContext::default());
            let lines = text.split('\n').count();
            for f in &found {
                assert!(
                    f.line >= 1 && f.line <= lines + 1 && f.col >= 1,
                    "round {round} {kind:?}: {}:{} in {text:?}",
                    f.line,
                    f.col
                );
            }
        }
    }
}
