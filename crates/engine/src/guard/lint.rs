//! Lint PM2 use in workflow YAML, shell scripts and JavaScript (pure: text in,
//! findings out). Shell code is found in `run:`/`script:` blocks; every finding
//! comes from the same classifier `check-command` uses, plus the runbook's
//! workflow-review rules (test deploys filter by `-test`, production deletions
//! use an explicit list).

mod located;
pub mod make;
pub mod npm;
pub mod sarif;
pub mod yaml;

use std::collections::HashMap;
use std::path::Path;

pub use located::Located;

use super::classify::analyze;
use super::js;
use super::names::matches_any;
use super::pm2::PM2_TARGET_VERBS;
use super::verdict::{Class, Finding, GuardContext};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    Workflow,
    Shell,
    Js,
    /// Makefile recipes (tab-indented lines) are shell.
    Makefile,
    /// package.json: each `scripts` value is shell.
    PackageJson,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Advice that does not fail the lint (e.g. `freeze-check`).
    Info,
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct LintFinding {
    pub file: String,
    /// 1-based line and column (columns count characters).
    pub line: usize,
    pub col: usize,
    pub severity: Severity,
    pub class: Class,
    /// `guard` (the classifier), `test-suffix`, `prod-whitelist`, `ecosystem`.
    pub rule: &'static str,
    pub message: String,
    pub command: String,
    pub safe_alternative: Option<String>,
}

impl LintFinding {
    /// `file:line:col: severity: message`
    pub fn line_text(&self) -> String {
        let mut s = format!(
            "{}:{}:{}: {}: {}",
            self.file,
            self.line,
            self.col,
            self.severity.as_str(),
            self.message
        );
        if let Some(a) = &self.safe_alternative {
            s.push_str(&format!(" (instead: {a})"));
        }
        s
    }
}

/// Which kind of file this is, by name and (for extensionless files) shebang.
pub fn detect_kind(path: &Path, content: &str) -> Option<FileKind> {
    let name = path.file_name()?.to_string_lossy().to_ascii_lowercase();
    if matches!(name.as_str(), "makefile" | "gnumakefile") || name.ends_with(".mk") {
        return Some(FileKind::Makefile);
    }
    if name == "package.json" {
        return Some(FileKind::PackageJson);
    }
    let ext = name.rsplit_once('.').map(|(_, e)| e).unwrap_or("");
    match ext {
        "yml" | "yaml" => Some(FileKind::Workflow),
        "sh" | "bash" | "zsh" | "ksh" => Some(FileKind::Shell),
        "js" | "cjs" | "mjs" | "jsx" | "ts" | "cts" | "mts" | "tsx" => Some(FileKind::Js),
        _ => {
            let first = content.lines().next().unwrap_or("");
            if !first.starts_with("#!") {
                None
            } else if first.contains("node") {
                Some(FileKind::Js)
            } else if ["sh", "bash", "zsh", "ksh", "dash"]
                .iter()
                .any(|s| first.ends_with(s) || first.contains(&format!("{s} ")))
            {
                Some(FileKind::Shell)
            } else {
                None
            }
        }
    }
}

/// Lint one file's text. `label` is the path shown in findings (and whose name
/// decides whether the workflow-review rules see a test or production deploy).
pub fn lint_text(
    label: &str,
    content: &str,
    kind: FileKind,
    ctx: &GuardContext,
) -> Vec<LintFinding> {
    let mut out = vec![];
    let (chunks, script_names) = chunks_of(label, content, kind, &mut out);
    let found = analyze_chunks(label, &chunks, kind, ctx, &mut out);
    if !script_names.is_empty() {
        out.extend(npm_chains(label, &chunks, &script_names, &found));
    }
    // Without an inventory the advice names the apps this file itself works with.
    let own = if ctx.known_processes.is_empty() {
        own_names(found.iter().map(|(_, f)| f))
    } else {
        vec![]
    };
    let deploy = deploy_kind(label);
    let mut pm2_calls = vec![];
    for (chunk, mut f) in found {
        advise_own_names(&mut f, &own);
        let (line, col) = chunk.position(f.offset);
        pm2_calls.extend(f.verb.clone().map(|v| (line, col, v, f.command.clone())));
        if let Some(r) = review(&f, deploy) {
            out.push(LintFinding {
                file: label.into(),
                line,
                col,
                severity: Severity::Warning,
                class: Class::Caution,
                rule: r.0,
                message: r.1,
                command: f.command.clone(),
                safe_alternative: None,
            });
        }
        if f.class == Class::Safe {
            continue;
        }
        out.push(LintFinding {
            file: label.into(),
            line,
            col,
            severity: if f.class == Class::Dangerous {
                Severity::Error
            } else {
                Severity::Warning
            },
            class: f.class,
            rule: "guard",
            message: format!("{}: {}", f.class, f.reason),
            command: f.command,
            safe_alternative: f.safe_alternative,
        });
    }
    out.extend(super::lint_freeze::check(label, content, kind, &pm2_calls));
    out.sort_by_key(|f| (f.line, f.col));
    out
}

/// The pieces of a file that hold commands, each knowing where it sits in the file: a
/// workflow's `run:`/`script:` blocks, package.json's scripts (with their names, for `npm run`
/// chains), a Makefile's recipes, a whole script. A YAML/JSON parse error is a finding, and a
/// workflow is then read line by line past it.
fn chunks_of(
    label: &str,
    content: &str,
    kind: FileKind,
    out: &mut Vec<LintFinding>,
) -> (Vec<Located>, Vec<Option<String>>) {
    let select = match kind {
        FileKind::Workflow => yaml::Select::Workflow,
        FileKind::PackageJson => yaml::Select::NpmScripts,
        FileKind::Makefile => return (vec![make::recipes(content)], vec![]),
        FileKind::Shell | FileKind::Js => return (vec![Located::whole(content)], vec![]),
    };
    let (keyed, err) = yaml::keyed_pieces(content, select);
    let script_names = if kind == FileKind::PackageJson {
        keyed.iter().map(|(k, _)| k.clone()).collect()
    } else {
        vec![]
    };
    let mut pieces: Vec<Located> = keyed.into_iter().map(|(_, p)| p).collect();
    if let Some(e) = err {
        out.push(parse_error(
            label,
            e.line,
            e.col,
            &e.message,
            "what follows this point was read line by line and may be incomplete",
        ));
        // Past the error the structure is unknown: read the rest line by
        // line (the finding above says the file was not fully parsed).
        if kind == FileKind::Workflow {
            pieces.extend(
                yaml_chunks(content)
                    .into_iter()
                    .filter(|c| !c.text.trim().is_empty() && c.position(0).0 >= e.line),
            );
        }
    }
    (pieces, script_names)
}

/// The guard's findings in every chunk (JavaScript through its AST, with a parse failure as
/// a finding; everything else as shell).
fn analyze_chunks<'c>(
    label: &str,
    chunks: &'c [Located],
    kind: FileKind,
    ctx: &GuardContext,
    out: &mut Vec<LintFinding>,
) -> Vec<(&'c Located, Finding)> {
    let mut found = vec![];
    for chunk in chunks {
        let findings = match kind {
            FileKind::Js => {
                let r = js::read(&chunk.text, js::Dialect::of_path(label), ctx);
                if let Some(e) = r.failure {
                    let (line, col) = chunk.position(e.offset);
                    out.push(parse_error(
                        label,
                        line,
                        col,
                        &e.message,
                        &e.what_was_read(),
                    ));
                }
                r.findings
            }
            _ => analyze(&chunk.text, ctx, &HashMap::new()),
        };
        found.extend(findings.into_iter().map(|f| (chunk, f)));
    }
    found
}

/// With no inventory, the safer form of a PM2 command names the apps this file itself works
/// with (`kill` has no targets: the guard's alternative for it is a restart).
fn advise_own_names(f: &mut Finding, own: &[String]) {
    if own.is_empty() || f.class == Class::Safe || f.safe_alternative.is_none() {
        return;
    }
    let verb = match f.verb.as_deref() {
        Some("kill") => Some("restart"),
        Some(v) if PM2_TARGET_VERBS.contains(&v) => Some(v),
        _ => None,
    };
    if let Some(verb) = verb {
        f.safe_alternative = Some(format!(
            "name the apps this file deploys: `pm2 {verb} {}`",
            own.join(" ")
        ));
    }
}

/// `npm run NAME` where the script NAME (or its pre/post hooks, or what it
/// runs in turn) is caution or dangerous: reported at the invocation.
fn npm_chains(
    label: &str,
    chunks: &[Located],
    names: &[Option<String>],
    found: &[(&Located, Finding)],
) -> Vec<LintFinding> {
    let keyed: Vec<(Option<String>, Located)> =
        names.iter().cloned().zip(chunks.iter().cloned()).collect();
    let mut own: HashMap<String, Class> = HashMap::new();
    for (chunk, f) in found {
        let i = chunks.iter().position(|c| std::ptr::eq(c, *chunk));
        if let Some(Some(name)) = i.and_then(|i| names.get(i)) {
            let e = own.entry(name.clone()).or_insert(Class::Safe);
            *e = (*e).max(f.class);
        }
    }
    let reach = npm::reach(&own, &npm::call_graph(&keyed));
    let line_of = |script: &str| {
        keyed
            .iter()
            .find(|(k, _)| k.as_deref() == Some(script))
            .map(|(_, p)| p.position(0).0)
    };
    let mut out = vec![];
    for (_, piece) in &keyed {
        for inv in npm::invocations(&piece.text) {
            let Some(&class) = reach.get(&inv.script).filter(|c| **c > Class::Safe) else {
                continue;
            };
            let (line, col) = piece.position(inv.offset);
            let at = line_of(&inv.script)
                .map(|l| format!(" (line {l})"))
                .unwrap_or_default();
            out.push(LintFinding {
                file: label.into(),
                line,
                col,
                severity: if class == Class::Dangerous {
                    Severity::Error
                } else {
                    Severity::Warning
                },
                class,
                rule: "npm-run",
                message: format!(
                    "{class}: `{}` runs the `{}` script{at}, which is {class} (or runs a script that is)",
                    inv.text, inv.script
                ),
                command: inv.text,
                safe_alternative: None,
            });
        }
    }
    out
}

/// A syntax error as a finding: the file was not (fully) checked, and says so
/// (`then`: how the rest of the file was read).
fn parse_error(label: &str, line: usize, col: usize, message: &str, then: &str) -> LintFinding {
    LintFinding {
        file: label.into(),
        line,
        col,
        severity: Severity::Error,
        class: Class::Caution,
        rule: "parse",
        message: format!("cannot parse this file ({message}); {then}"),
        command: String::new(),
        safe_alternative: None,
    }
}

/// Process names a file's own PM2 commands use (`pm2 restart strapi`, `pm2
/// start npm --name strapi`): literal names, not `all`, ids, files or
/// patterns; in order of appearance, at most `OWN_NAMES_SHOWN` of them.
fn own_names<'a>(findings: impl Iterator<Item = &'a Finding>) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    let mut names: Vec<String> = vec![];
    for f in findings {
        for t in &f.targets {
            let plain = !t.is_empty()
                && !t.eq_ignore_ascii_case("all")
                && !t.bytes().all(|b| b.is_ascii_digit())
                && !t.starts_with(['<', '-', '/', '.'])
                && !t.contains(['$', '/', '*', '?', '[', ' '])
                && ![
                    ".js", ".cjs", ".mjs", ".ts", ".json", ".yml", ".yaml", ".sh", ".py",
                ]
                .iter()
                .any(|e| t.ends_with(e));
            if plain && seen.insert(t.as_str()) && names.len() < OWN_NAMES_SHOWN {
                names.push(t.clone());
            }
        }
    }
    names
}

/// Enough names to show the form; a file that deploys hundreds of apps does
/// not get them all repeated in every message.
const OWN_NAMES_SHOWN: usize = 5;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Deploy {
    Test,
    Prod,
}

fn deploy_kind(label: &str) -> Option<Deploy> {
    let name = Path::new(label)
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    if name.contains("test") {
        Some(Deploy::Test)
    } else if name.contains("prod") {
        Some(Deploy::Prod)
    } else {
        None
    }
}

/// The runbook's workflow review checklist for deletions and stops.
fn review(f: &Finding, deploy: Option<Deploy>) -> Option<(&'static str, String)> {
    let deploy = deploy?;
    let verb = f.verb.as_deref()?;
    if !matches!(verb, "delete" | "del" | "stop") || f.class == Class::Dangerous {
        return None;
    }
    let names: Vec<&String> = f.targets.iter().filter(|t| !t.starts_with('<')).collect();
    match deploy {
        Deploy::Test => {
            if let Some(nf) = &f.filter {
                if !nf.text.contains("-test") {
                    return Some((
                        "test-suffix",
                        format!("test deployment: `pm2 {verb}` must select processes by the `-test` suffix (workflow review checklist); the filter `{}` does not", nf.text),
                    ));
                }
            }
            let bad: Vec<&&String> = names
                .iter()
                .filter(|n| !n.ends_with("-test") && !n.bytes().all(|b| b.is_ascii_digit()))
                .collect();
            if let Some(n) = bad.first() {
                return Some((
                    "test-suffix",
                    format!("test deployment: `pm2 {verb} {n}` acts on a process without the `-test` suffix"),
                ));
            }
        }
        Deploy::Prod => {
            if let Some(nf) = f.filter.as_ref().filter(|nf| !nf.explicit) {
                return Some((
                    "prod-whitelist",
                    format!("production deployment: `pm2 {verb}` selects processes by a name pattern (`{}`); use an explicit whitelist array (workflow review checklist)", nf.text),
                ));
            }
            if let Some(n) = names.iter().find(|n| n.ends_with("-test")) {
                return Some((
                    "prod-whitelist",
                    format!("production deployment: `pm2 {verb} {n}` acts on a test process"),
                ));
            }
        }
    }
    None
}

fn indent_of(line: &str) -> usize {
    line.len() - line.trim_start_matches([' ', '\t']).len()
}

/// Shell code in `run:` and `script:` values: inline, quoted, or `|`/`>` blocks,
/// read line by line. Only the recovery path after a YAML syntax error.
fn yaml_chunks(content: &str) -> Vec<Located> {
    let lines: Vec<&str> = content.lines().collect();
    let mut out = vec![];
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        let indent = indent_of(line);
        let mut rest = &line[indent..];
        let mut key_col = indent;
        while let Some(r) = rest.strip_prefix("- ") {
            let r2 = r.trim_start();
            key_col += rest.len() - r2.len();
            rest = r2;
        }
        let value = ["run:", "script:"].iter().find_map(|k| {
            rest.strip_prefix(k)
                .filter(|v| v.is_empty() || v.starts_with([' ', '\t']))
        });
        let Some(value) = value else {
            i += 1;
            continue;
        };
        let vcol = key_col + (rest.len() - value.len()) + (value.len() - value.trim_start().len());
        let v = value.trim();
        if v.starts_with('|') || v.starts_with('>') {
            let mut j = i + 1;
            let mut block: Vec<(usize, &str)> = vec![];
            let mut block_indent: Option<usize> = None;
            while j < lines.len() {
                let l = lines[j];
                if l.trim().is_empty() {
                    block.push((j, ""));
                    j += 1;
                    continue;
                }
                let ind = indent_of(l);
                if ind <= indent {
                    break;
                }
                let bi = *block_indent.get_or_insert(ind);
                if ind < bi {
                    break;
                }
                block.push((j, &l[bi..]));
                j += 1;
            }
            while block.last().is_some_and(|(_, t)| t.is_empty()) {
                block.pop();
            }
            let bi = block_indent.unwrap_or(0);
            let mut piece = Located::default();
            for (k, (n, t)) in block.iter().enumerate() {
                if k > 0 {
                    piece.push_joint("\n");
                }
                let col = lines[*n][..bi.min(lines[*n].len())].chars().count() + 1;
                piece.push(t, n + 1, col);
            }
            out.push(piece);
            i = j;
            continue;
        }
        let (text, col) = yaml_inline(
            v,
            line.chars().count() - line[vcol.min(line.len())..].chars().count(),
        );
        if !text.is_empty() {
            let mut piece = Located::default();
            piece.push(&text, i + 1, col + 1);
            out.push(piece);
        }
        i += 1;
    }
    out
}

/// An inline YAML scalar: quoted (with YAML's escapes) or plain (comment stripped).
fn yaml_inline(v: &str, col: usize) -> (String, usize) {
    if let Some(inner) = v.strip_prefix('\'') {
        let body = inner.rsplit_once('\'').map(|(b, _)| b).unwrap_or(inner);
        return (body.replace("''", "'"), col + 1);
    }
    if let Some(inner) = v.strip_prefix('"') {
        let mut s = String::new();
        let mut chars = inner.chars();
        while let Some(c) = chars.next() {
            match c {
                '"' => break,
                '\\' => match chars.next() {
                    Some('n') => s.push('\n'),
                    Some('t') => s.push('\t'),
                    Some(o) => s.push(o),
                    None => {}
                },
                o => s.push(o),
            }
        }
        return (s, col + 1);
    }
    let plain = match v.find(" #") {
        Some(p) => &v[..p],
        None => v,
    };
    (plain.trim_end().to_string(), col)
}

/// Compare an ecosystem file's app names with the expected names (an explicit
/// list, or the inventory's names/globs). `apps` holds each app's `name` (None
/// when missing); `source` is the file text, used to point at the right line.
pub fn compare_ecosystem(
    label: &str,
    source: &str,
    apps: &[Option<String>],
    expected: &[String],
    exact: bool,
) -> Vec<LintFinding> {
    let mut out = vec![];
    let at = |needle: &str| -> (usize, usize) {
        for (n, l) in source.lines().enumerate() {
            if let Some(p) = l.find(needle) {
                return (n + 1, l[..p].chars().count() + 1);
            }
        }
        (1, 1)
    };
    let mut push = |line_col: (usize, usize), message: String| {
        out.push(LintFinding {
            file: label.into(),
            line: line_col.0,
            col: line_col.1,
            severity: Severity::Error,
            class: Class::Caution,
            rule: "ecosystem",
            message,
            command: String::new(),
            safe_alternative: None,
        });
    };
    if apps.is_empty() {
        push((1, 1), "ecosystem file declares no apps".into());
    }
    let mut seen: Vec<&str> = vec![];
    for (i, app) in apps.iter().enumerate() {
        let Some(name) = app else {
            push((1, 1), format!("app #{} has no `name`: PM2 derives one from the script, which the inventory cannot match", i + 1));
            continue;
        };
        let pos = at(&format!("'{name}'")).max(at(&format!("\"{name}\"")));
        if seen.contains(&name.as_str()) {
            push(pos, format!("app name `{name}` is declared twice"));
        }
        seen.push(name);
        if !expected.is_empty() && !matches_any(expected, name) {
            push(
                pos,
                format!(
                    "app `{name}` is not in the expected names ({})",
                    expected.join(", ")
                ),
            );
        }
    }
    if exact {
        for e in expected.iter().filter(|e| !e.contains(['*', '?', '['])) {
            if !seen.contains(&e.as_str()) {
                push(
                    (1, 1),
                    format!("expected app `{e}` is not declared in the ecosystem file"),
                );
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_blocks_map_lines() {
        let y = "jobs:\n  deploy:\n    steps:\n      - name: x\n        run: |\n          pm2 list\n          pm2 delete all\n      - run: pm2 stop all # boom\n      - run: 'echo ''pm2 kill'''\n";
        let f = lint_text(
            "deploy.yml",
            y,
            FileKind::Workflow,
            &GuardContext::default(),
        );
        let got: Vec<(usize, usize, Severity)> = f
            .iter()
            .filter(|f| f.rule != "freeze-check")
            .map(|f| (f.line, f.col, f.severity))
            .collect();
        assert_eq!(
            got,
            vec![(7, 11, Severity::Error), (8, 14, Severity::Error)]
        );
    }

    #[test]
    fn kinds() {
        assert_eq!(
            detect_kind(Path::new("a/deploy.yml"), ""),
            Some(FileKind::Workflow)
        );
        assert_eq!(
            detect_kind(Path::new("x"), "#!/usr/bin/env bash\n"),
            Some(FileKind::Shell)
        );
        assert_eq!(
            detect_kind(Path::new("x"), "#!/usr/bin/env node\n"),
            Some(FileKind::Js)
        );
        assert_eq!(detect_kind(Path::new("README.md"), "pm2 delete all"), None);
    }
}
