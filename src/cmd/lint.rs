//! `check-command` and `lint`: the guard's I/O edge (argument handling, file
//! reading, `node` for ecosystem files, output and exit codes).

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::guard::lint::{
    compare_ecosystem, detect_kind, lint_text, FileKind, LintFinding, Severity,
};
use crate::guard::shell::quote;
use crate::guard::{classify, GuardContext};

/// Names options shared by both subcommands (until the lead wires the inventory).
#[derive(clap::Args, Debug, Clone, Default)]
pub struct ContextArgs {
    /// Known process names/globs, comma-separated (default: the inventory's)
    #[arg(long, value_name = "NAMES", value_delimiter = ',')]
    pub known: Option<Vec<String>>,
    /// Inventory whose process names are the known ones (default: the embedded one)
    #[arg(long, value_name = "FILE")]
    pub inventory: Option<PathBuf>,
    /// Process names/globs in the incident's scope, comma-separated
    #[arg(long, value_name = "NAMES", value_delimiter = ',')]
    pub scope: Option<Vec<String>>,
}

impl ContextArgs {
    /// Whether names were given (`--known`, `--inventory`, `--scope`).
    pub fn explicit(&self) -> bool {
        self.known.is_some() || self.inventory.is_some() || self.scope.is_some()
    }

    /// For `lint`: files are often other people's code, so the inventory (and
    /// the runbook's story) applies only when asked for; otherwise findings name
    /// the file's own apps and say nothing about "the inventory".
    pub fn lint_context(&self) -> GuardContext {
        if self.explicit() {
            self.context()
        } else {
            GuardContext::default()
        }
    }

    /// The names to judge by: `--known`, else the inventory's process names and
    /// globs (so a refusal can name the explicit processes to use instead).
    pub fn context(&self) -> GuardContext {
        let known = self.known.clone().unwrap_or_else(|| {
            crate::runbook::Runbook::load(None, self.inventory.as_deref())
                .map(|rb| rb.inventory.process_patterns())
                .unwrap_or_else(|errors| {
                    for e in errors {
                        eprintln!("{e}");
                    }
                    Vec::new()
                })
        });
        GuardContext {
            known_processes: known,
            scope: self.scope.clone(),
            pm2: None,
        }
    }
}

#[derive(clap::Args, Debug, Clone)]
pub struct CheckArgs {
    #[command(flatten)]
    pub names: ContextArgs,
    /// The command line: one quoted argument, or words after `--` (re-quoted as given)
    #[arg(
        required = true,
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "CMD"
    )]
    pub cmd: Vec<String>,
}

/// One argument is a command line as typed; several are argv words, so each is
/// re-quoted to keep `sh -c 'pm2 delete all'` one word after the shell split it.
pub fn command_line(args: &[String]) -> String {
    match args {
        [one] => one.clone(),
        many => many.iter().map(|a| quote(a)).collect::<Vec<_>>().join(" "),
    }
}

/// `check-command`: prints `safe|caution|dangerous: reason`; exit 0, 10 or 20.
pub fn check_command(args: &CheckArgs) -> i32 {
    check_command_with(args, &args.names.context())
}

/// The same with a context supplied by the caller (the lead's inventory adapter).
pub fn check_command_with(args: &CheckArgs, ctx: &GuardContext) -> i32 {
    let v = classify(&command_line(&args.cmd), ctx);
    println!("{}", v.line());
    v.class.exit_code()
}

#[derive(clap::ValueEnum, Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Format {
    #[default]
    Text,
    Json,
    /// SARIF 2.1.0 (code-scanning UIs)
    Sarif,
}

#[derive(clap::Args, Debug, Clone)]
pub struct LintArgs {
    /// Files or directories (workflow YAML, shell scripts, JS/TS, Makefiles, package.json)
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Load this ecosystem file with `node` and compare its app names
    #[arg(long, value_name = "FILE")]
    pub ecosystem: Option<PathBuf>,
    /// Names the ecosystem file must declare exactly, comma-separated
    /// (default: every app must match the known names)
    #[arg(long, value_name = "NAMES", value_delimiter = ',')]
    pub expect: Option<Vec<String>>,
    #[command(flatten)]
    pub names: ContextArgs,
}

/// `lint`: exit 1 when anything is an error (dangerous use, ecosystem mismatch),
/// 2 when a path cannot be read or `node` cannot load the ecosystem file.
pub fn lint(args: &LintArgs) -> i32 {
    lint_with(args, &args.names.lint_context())
}

pub fn lint_with(args: &LintArgs, ctx: &GuardContext) -> i32 {
    let r = lint_report(args, ctx);
    print!("{}", r.stdout);
    eprint!("{}", r.stderr);
    r.code
}

/// What `lint` prints and its exit code (separate from printing so it is testable).
#[derive(Debug, Clone)]
pub struct LintReport {
    pub stdout: String,
    pub stderr: String,
    pub code: i32,
    pub findings: Vec<LintFinding>,
}

pub fn lint_report(args: &LintArgs, ctx: &GuardContext) -> LintReport {
    if args.paths.is_empty() && args.ecosystem.is_none() {
        return LintReport {
            stdout: String::new(),
            stderr: "lint: give at least one PATH or --ecosystem FILE\n".into(),
            code: 2,
            findings: vec![],
        };
    }
    let mut run = Linted::default();
    for p in &args.paths {
        run.lint_path(p, ctx);
    }
    if let Some(eco) = &args.ecosystem {
        run.lint_ecosystem(eco, args, ctx);
    }
    run.finish(args.format)
}

/// What a lint run found so far: findings, files read, files it could not read, and what it
/// says on stderr about skipped files.
#[derive(Default)]
struct Linted {
    findings: Vec<LintFinding>,
    problems: Vec<String>,
    files: usize,
    stderr: String,
}

impl Linted {
    /// Every lintable file under `p` (a file named explicitly is always read).
    fn lint_path(&mut self, p: &Path, ctx: &GuardContext) {
        let mut list = vec![];
        let mut skipped = vec![];
        collect(p, true, &mut list, &mut self.problems, &mut skipped);
        for s in skipped {
            self.stderr.push_str(&s);
            self.stderr.push('\n');
        }
        for (path, kind) in list {
            let bytes = match crate::safe_fs::read_input(&path) {
                Ok(b) => b,
                Err(e) => {
                    self.problems
                        .push(format!("{}: cannot read: {e}", path.display()));
                    continue;
                }
            };
            let text = String::from_utf8_lossy(&bytes);
            let Some(kind) = kind.or_else(|| detect_kind(&path, &text)) else {
                self.stderr.push_str(&format!(
                    "{}: skipped: not a workflow, shell script, JS file, Makefile or package.json\n",
                    path.display()
                ));
                continue;
            };
            self.files += 1;
            self.findings
                .extend(lint_text(&path.display().to_string(), &text, kind, ctx));
        }
    }

    /// An ecosystem file's apps against the names expected (`--expect`, else the inventory's).
    fn lint_ecosystem(&mut self, eco: &Path, args: &LintArgs, ctx: &GuardContext) {
        let apps = match ecosystem_names(eco) {
            Ok(apps) => apps,
            Err(e) => {
                self.problems.push(format!("{}: {e}", eco.display()));
                return;
            }
        };
        let source = std::fs::read_to_string(eco).unwrap_or_default();
        let (expected, exact) = match &args.expect {
            Some(e) => (e.clone(), true),
            // An ecosystem file is this server's: compare with its inventory.
            None if ctx.known_processes.is_empty() => (args.names.context().known_processes, false),
            None => (ctx.known_processes.clone(), false),
        };
        self.findings.extend(compare_ecosystem(
            &eco.display().to_string(),
            &source,
            &apps,
            &expected,
            exact,
        ));
        self.files += 1;
    }

    /// The findings in the asked format, the summary and problems on stderr, the exit code
    /// (2 when a file could not be read, 1 on an error finding).
    fn finish(self, format: Format) -> LintReport {
        let Linted {
            findings,
            problems,
            files,
            mut stderr,
        } = self;
        let count = |s: Severity| findings.iter().filter(|f| f.severity == s).count();
        let (errors, infos) = (count(Severity::Error), count(Severity::Info));
        let warnings = findings.len() - errors - infos;
        let mut stdout = String::new();
        match format {
            Format::Text => {
                for f in &findings {
                    stdout.push_str(&f.line_text());
                    stdout.push('\n');
                }
                stderr.push_str(&format!(
                    "{files} file(s) checked: {errors} error(s), {warnings} warning(s){}\n",
                    if infos > 0 {
                        format!(", {infos} info")
                    } else {
                        String::new()
                    }
                ));
            }
            Format::Json => {
                let out = serde_json::json!({
                    "files": files,
                    "errors": errors,
                    "warnings": warnings,
                    "infos": infos,
                    "problems": problems,
                    "findings": findings,
                });
                stdout.push_str(&serde_json::to_string_pretty(&out).unwrap_or_default());
                stdout.push('\n');
            }
            Format::Sarif => {
                let out = crate::guard::lint::sarif::report(&findings);
                stdout.push_str(&serde_json::to_string_pretty(&out).unwrap_or_default());
                stdout.push('\n');
            }
        }
        for p in &problems {
            stderr.push_str(p);
            stderr.push('\n');
        }
        let code = if !problems.is_empty() {
            2
        } else if errors > 0 {
            1
        } else {
            0
        };
        LintReport {
            stdout,
            stderr,
            code,
            findings,
        }
    }
}

/// Files to lint under `p`. Directories are walked (skipping dependency and VCS
/// directories); an explicitly named file is always read.
fn collect(
    p: &Path,
    explicit: bool,
    out: &mut Vec<(PathBuf, Option<FileKind>)>,
    problems: &mut Vec<String>,
    skipped: &mut Vec<String>,
) {
    // In a walk a symlinked directory is not followed (a link to `..` would loop forever);
    // a symlinked file is read like any other.
    let meta = if !explicit && crate::safe_fs::is_symlink(p) {
        match std::fs::metadata(p) {
            Ok(m) if m.is_dir() => {
                skipped.push(format!(
                    "{}: skipped: symbolic link to a directory",
                    p.display()
                ));
                return;
            }
            other => other,
        }
    } else {
        std::fs::metadata(p)
    };
    let meta = match meta {
        Ok(m) => m,
        Err(e) => {
            problems.push(format!("{}: {e}", p.display()));
            return;
        }
    };
    if meta.is_dir() {
        let name = p
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if !explicit && ["node_modules", ".git", "target", "dist", "build"].contains(&name.as_str())
        {
            return;
        }
        let mut entries: Vec<PathBuf> = match std::fs::read_dir(p) {
            Ok(rd) => rd.filter_map(|e| e.ok().map(|e| e.path())).collect(),
            Err(e) => {
                problems.push(format!("{}: {e}", p.display()));
                return;
            }
        };
        entries.sort();
        for e in entries {
            collect(&e, false, out, problems, skipped);
        }
    } else if explicit {
        out.push((p.to_path_buf(), None));
    } else if !meta.is_file() {
        // A FIFO would block the read forever, a device never ends: name it and go on.
        skipped.push(format!(
            "{}: skipped: not a regular file (FIFO, socket or device)",
            p.display()
        ));
    } else {
        // In a walked directory only recognisable files count; peek at the shebang.
        let head = first_line(p);
        if let Some(k) = detect_kind(p, &head) {
            out.push((p.to_path_buf(), Some(k)));
        }
    }
}

fn first_line(p: &Path) -> String {
    let mut buf = [0u8; 128];
    let n = crate::safe_fs::open_regular(p, crate::safe_fs::Follow::Symlinks, false)
        .ok()
        .and_then(|(mut f, _)| f.read(&mut buf).ok())
        .unwrap_or(0);
    String::from_utf8_lossy(&buf[..n])
        .lines()
        .next()
        .unwrap_or("")
        .to_string()
}

const ECOSYSTEM_JS: &str = "const m = require(process.argv[1]); \
const c = (m && m.default) || m; const apps = Array.isArray(c) ? c : (c && c.apps) || []; \
process.stdout.write(JSON.stringify(apps.map(a => (a && typeof a.name === 'string') ? a.name : null)));";

/// Load an ecosystem file with `node` (as the runbook does) and return each app's name.
pub fn ecosystem_names(file: &Path) -> Result<Vec<Option<String>>, String> {
    let abs = std::fs::canonicalize(file).map_err(|e| format!("cannot open: {e}"))?;
    let dir = abs.parent().unwrap_or(Path::new("/"));
    let mut child = Command::new("node")
        .arg("-e")
        .arg(ECOSYSTEM_JS)
        .arg(&abs)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run `node` to load the ecosystem file: {e}"))?;
    // Read both pipes while waiting so a chatty config cannot fill one and hang.
    let reader = |r: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut s = String::new();
            if let Some(mut r) = r {
                let _ = r.read_to_string(&mut s);
            }
            s
        })
    };
    let out_t = reader(
        child
            .stdout
            .take()
            .map(|o| Box::new(o) as Box<dyn Read + Send>),
    );
    let err_t = reader(
        child
            .stderr
            .take()
            .map(|e| Box::new(e) as Box<dyn Read + Send>),
    );
    let start = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break s,
            Ok(None) if start.elapsed() > Duration::from_secs(15) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err("`node` did not finish loading the ecosystem file within 15 s".into());
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => return Err(format!("waiting for node: {e}")),
        }
    };
    let out = out_t.join().unwrap_or_default();
    let err = err_t.join().unwrap_or_default();
    if !status.success() {
        let first = err
            .lines()
            .find(|l| l.contains("Error"))
            .unwrap_or(err.lines().next().unwrap_or(""));
        return Err(format!(
            "node could not load it ({status}): {}",
            first.trim()
        ));
    }
    serde_json::from_str(&out).map_err(|e| format!("unexpected output from node: {e}"))
}
