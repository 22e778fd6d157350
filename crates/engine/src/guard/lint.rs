//! Lint PM2 use in workflow YAML, shell scripts and JavaScript (pure: text in,
//! findings out). Shell code is found in `run:`/`script:` blocks; every finding
//! comes from the same classifier `check-command` uses, plus the runbook's
//! workflow-review rules (test deploys filter by `-test`, production deletions
//! use an explicit list).

use std::collections::HashMap;
use std::path::Path;

use super::classify::analyze;
use super::js;
use super::names::matches_any;
use super::verdict::{Class, Finding, GuardContext};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    Workflow,
    Shell,
    Js,
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
    let ext = name.rsplit_once('.').map(|(_, e)| e).unwrap_or("");
    match ext {
        "yml" | "yaml" => Some(FileKind::Workflow),
        "sh" | "bash" | "zsh" | "ksh" => Some(FileKind::Shell),
        "js" | "cjs" | "mjs" | "ts" | "cts" | "mts" => Some(FileKind::Js),
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

/// A piece of shell or JS inside a file, with where each of its lines came from.
struct Chunk {
    text: String,
    /// Per chunk line: (1-based file line, 0-based char column of its first char).
    lines: Vec<(usize, usize)>,
}

impl Chunk {
    fn position(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let before = &self.text[..floor(&self.text, offset)];
        let idx = before.matches('\n').count();
        let line_start = before.rfind('\n').map(|p| p + 1).unwrap_or(0);
        let col = before[line_start..].chars().count();
        let (l, c) = self.lines.get(idx).copied().unwrap_or((1, 0));
        (l, c + col + 1)
    }
}

fn floor(s: &str, mut i: usize) -> usize {
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// Lint one file's text. `label` is the path shown in findings (and whose name
/// decides whether the workflow-review rules see a test or production deploy).
pub fn lint_text(
    label: &str,
    content: &str,
    kind: FileKind,
    ctx: &GuardContext,
) -> Vec<LintFinding> {
    let chunks = match kind {
        FileKind::Workflow => yaml_chunks(content),
        FileKind::Shell | FileKind::Js => vec![Chunk {
            text: content.to_string(),
            lines: (1..=content.lines().count().max(1))
                .map(|l| (l, 0))
                .collect(),
        }],
    };
    let deploy = deploy_kind(label);
    let mut out = vec![];
    let mut pm2_calls = vec![];
    for chunk in &chunks {
        let findings = match kind {
            FileKind::Js => js::scan(&chunk.text, ctx),
            _ => analyze(&chunk.text, ctx, &HashMap::new()),
        };
        for f in findings {
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
    }
    out.extend(super::lint_freeze::check(label, content, kind, &pm2_calls));
    out.sort_by_key(|f| (f.line, f.col));
    out
}

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

/// Shell code in `run:` and `script:` values: inline, quoted, or `|`/`>` blocks.
fn yaml_chunks(content: &str) -> Vec<Chunk> {
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
            out.push(Chunk {
                text: block.iter().map(|(_, t)| *t).collect::<Vec<_>>().join("\n"),
                lines: block.iter().map(|(n, _)| (n + 1, bi)).collect(),
            });
            i = j;
            continue;
        }
        let (text, col) = yaml_inline(
            v,
            line.chars().count() - line[vcol.min(line.len())..].chars().count(),
        );
        if !text.is_empty() {
            out.push(Chunk {
                text,
                lines: vec![(i + 1, col)],
            });
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
