//! `pm2-incident snapshot [--format text|json|nagios|prometheus] [-o FILE]`.
use super::cli::{Pm2SourceArgs, RunbookSource};
use super::snapshot_monitor::{self as monitor, Monitor, NagiosStatus};
use super::snapshot_render::{self as render, Style};
use crate::assess::{self, Level, Observation};
use crate::observe::gather;
use crate::pm2::source::{observe, SourceArgs};
use crate::runbook::Runbook;
use crate::sanitize::escape_line;
use std::io::IsTerminal;
use std::path::PathBuf;

#[derive(clap::ValueEnum, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Format {
    /// For people: fits 80 columns
    #[default]
    Text,
    /// Keys: pm2, health, scope, severity, plan, checklist, inventory_note
    Json,
    /// A Nagios/Icinga/Sensu check: exit 0 OK (none), 1 WARNING (P3), 2 CRITICAL (P2, P1), 3 UNKNOWN
    Nagios,
    /// Prometheus text format for node_exporter's textfile collector (gauges)
    Prometheus,
}

#[derive(clap::Args, Debug, Clone)]
pub struct SnapshotArgs {
    /// Output format; exit codes are 0 none, 1 P3, 2 P2, 3 P1, 4 unknown, 5 -o failed, except nagios (0-3, its own)
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Same as --format json
    #[arg(long, conflicts_with = "format")]
    pub json: bool,
    /// Write to FILE atomically (a temporary file renamed over it, mode 0644) instead of stdout
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,
    #[command(flatten)]
    pub source: RunbookSource,
    #[command(flatten)]
    pub pm2: Pm2SourceArgs,
}

/// PM2's saved list: where it was read and the names in it (nothing else is kept).
fn saved_list(args: &SourceArgs) -> Option<(PathBuf, Vec<crate::pm2::launch::Launch>)> {
    let home = args.home().ok()?;
    crate::init::read::read_saved(home.dir(), &mut Vec::new())
}

/// With no inventory configured: an inventory proposed from the saved list alone
/// (what PM2 would resurrect), so the judgment is against what this server saved.
fn inventory_from_saved(
    src: &RunbookSource,
    saved: &[crate::pm2::launch::Launch],
) -> Option<Runbook> {
    use crate::init::propose::{propose, Fact, FactSource, Host};
    let facts: Vec<Fact> = saved
        .iter()
        .map(|l| Fact {
            launch: l.clone(),
            source: FactSource::Saved,
        })
        .collect();
    let host = Host {
        hostname: "this-server".into(),
        user: "pm2".into(),
    };
    let text = crate::init::render::toml(&propose(&facts, &[], &host), "snapshot time");
    let procedure = match &src.runbook {
        Some(p) => std::fs::read_to_string(p).ok()?,
        None => crate::runbook::DEFAULT_PROCEDURE.to_string(),
    };
    Runbook::parse(
        crate::runbook::Source {
            name: "procedure",
            text: &procedure,
        },
        crate::runbook::Source {
            name: "saved list",
            text: &text,
        },
    )
    .ok()
}

impl SnapshotArgs {
    pub fn format(&self) -> Format {
        if self.json {
            Format::Json
        } else {
            self.format
        }
    }
}

/// `-o FILE` could not be written (outside the severity codes, so a timer unit fails).
pub const EXIT_WRITE_FAILED: i32 = 5;

/// The exit code for `level` in this format (Nagios has its own convention).
fn exit_code(format: Format, level: Level) -> i32 {
    match format {
        Format::Nagios => NagiosStatus::of(level).code(),
        _ => level.exit_code(),
    }
}

pub fn run(args: &SnapshotArgs) -> i32 {
    let format = args.format();
    let source = args.pm2.to_source();
    let saved = saved_list(&source);
    let saved_names: Vec<String> = saved
        .iter()
        .flat_map(|(_, l)| l.iter().map(|l| l.name.clone()))
        .collect();
    let (rb, note) = match crate::cmd::runbook::load_configured(&args.source) {
        Ok(Some(rb)) => (rb, None),
        Ok(None) => match saved
            .as_ref()
            .and_then(|(p, l)| inventory_from_saved(&args.source, l).map(|rb| (p, rb)))
        {
            Some((path, rb)) => (
                rb,
                Some(format!(
                    "{}; judged against PM2's saved list {}",
                    crate::cmd::runbook::NO_INVENTORY,
                    path.display()
                )),
            ),
            None => return nothing_to_judge(args, &source),
        },
        // The errors are on stderr; a monitoring format still gets its "cannot tell".
        Err(_) => {
            if matches!(format, Format::Nagios | Format::Prometheus) {
                let label =
                    "cannot tell: the runbook or inventory does not load (errors on stderr)";
                let m = Monitor::from_reading(&observe(&source), label.into());
                return emit_monitor(args, &m);
            }
            return Level::Unknown.exit_code();
        }
    };
    let snap = gather(&rb, &source);
    let a = assess::assess_with_saved(
        &rb,
        &Observation {
            pm2: snap.pm2_view(),
            health: &snap.health,
        },
        &saved_names,
    );
    let out = match format {
        Format::Json => {
            let mut v = render::json(&snap, &a);
            v["inventory_note"] = serde_json::json!(note);
            match serde_json::to_string_pretty(&v) {
                Ok(s) => s + "\n",
                Err(e) => {
                    eprintln!("pm2-incident: cannot write JSON: {e}");
                    return Level::Unknown.exit_code();
                }
            }
        }
        Format::Text => {
            let mut o = String::new();
            if let Some(n) = &note {
                o.push_str(&format!("note: {n}\n"));
            }
            o + &render::text(&snap, &a, style(args))
        }
        Format::Nagios | Format::Prometheus => {
            let mut m = Monitor::from_assessment(&snap, &a);
            m.notes.extend(note);
            return emit_monitor(args, &m);
        }
    };
    finish(args, &out, a.severity.level)
}

fn emit_monitor(args: &SnapshotArgs, m: &Monitor) -> i32 {
    let out = match args.format() {
        Format::Prometheus => monitor::prometheus(m),
        _ => monitor::nagios(m),
    };
    finish(args, &out, m.level)
}

/// Print or write the output; the exit code says the severity, or unknown when the
/// output could not be written.
fn finish(args: &SnapshotArgs, out: &str, level: Level) -> i32 {
    let format = args.format();
    match &args.output {
        None => {
            print!("{out}");
            exit_code(format, level)
        }
        Some(path) => match write_atomic(path, out.as_bytes()) {
            Ok(()) => exit_code(format, level),
            Err(e) => {
                eprintln!("pm2-incident: cannot write {}: {e}", path.display());
                match format {
                    Format::Nagios => NagiosStatus::Unknown.code(),
                    _ => EXIT_WRITE_FAILED,
                }
            }
        },
    }
}

/// Write `bytes` to a new temporary file beside `path` and rename it over `path`, so a
/// reader (node_exporter) sees the old file or the new one, never half of one. Mode 0644:
/// the collector runs as another user, and the file holds no secret (names, URLs, numbers).
pub fn write_atomic(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidInput, "not a file name"))?;
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(name);
    tmp_name.push(format!(".{}.tmp", std::process::id()));
    let tmp = dir.join(tmp_name);
    let result = (|| {
        let mut f = crate::safe_fs::create_new(&tmp, 0o644)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

fn style(args: &SnapshotArgs) -> Style {
    let color = args.output.is_none()
        && std::io::stdout().is_terminal()
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    Style { color }
}

/// No inventory and no saved list: say what PM2 shows, and that severity cannot be told.
fn nothing_to_judge(args: &SnapshotArgs, source: &SourceArgs) -> i32 {
    let pm2 = observe(source);
    let detail = pm2.detail();
    let label = format!(
        "cannot tell: {} and PM2 has no saved list to judge against",
        crate::cmd::runbook::NO_INVENTORY
    );
    let out = match args.format() {
        Format::Nagios | Format::Prometheus => {
            return emit_monitor(args, &Monitor::from_reading(&pm2, label));
        }
        Format::Json => {
            let v = serde_json::json!({
                "pm2": render::reading_json(&pm2, &detail),
                "inventory_note": crate::cmd::runbook::NO_INVENTORY,
                "severity": {"level": Level::Unknown, "label": label},
            });
            serde_json::to_string_pretty(&v).unwrap_or_default() + "\n"
        }
        Format::Text => {
            let mut o = format!("PM2 {}\n", escape_line(&detail));
            for p in pm2.processes.iter().flatten() {
                o.push_str(&format!(
                    "  {:<38} {}\n",
                    escape_line(&p.name),
                    p.status.as_str()
                ));
            }
            o.push_str(&format!("\nSeverity unknown: {label}\n"));
            o
        }
    };
    finish(args, &out, Level::Unknown)
}
