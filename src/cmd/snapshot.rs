//! `pm2-incident snapshot [--format text|json|nagios|prometheus] [-o FILE] [--host DEST]...`.
use super::cli::{Pm2SourceArgs, Pm2SourceKind, RunbookSource};
use super::snapshot_monitor::{self as monitor, Monitor, NagiosStatus};
use super::snapshot_render::{self as render, Style};
use crate::assess::{self, Assessment, Level, Observation};
use crate::observe::{gather, Snapshot};
use crate::pm2::source::{observe, SourceArgs};
use crate::pm2::Reading;
use crate::remote::{gather_remote, Dest, RemoteSnapshot};
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
    /// Read this server over OpenSSH (user@host, host, an ~/.ssh/config alias); repeat for
    /// several, read concurrently; the exit code is the worst host's
    #[arg(long = "host", value_name = "DEST")]
    pub hosts: Vec<Dest>,
    /// Read every `[[host]]` of the inventory (when no --host is given)
    #[arg(long = "all-hosts")]
    pub all_hosts: bool,
    #[command(flatten)]
    pub source: RunbookSource,
    #[command(flatten)]
    pub pm2: Pm2SourceArgs,
}

/// PM2's saved list: where it was read and the names in it (nothing else is kept).
fn saved_list(args: &SourceArgs) -> Option<(PathBuf, Vec<crate::pm2::SavedProcess>)> {
    let home = args.home().ok()?;
    crate::init::read::read_saved(home.dir(), &mut Vec::new())
}

/// With no inventory configured: an inventory proposed from the saved list alone
/// (what PM2 would resurrect), so the judgment is against what this server saved.
fn inventory_from_saved(
    src: &RunbookSource,
    saved: &[crate::pm2::SavedProcess],
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
    if !args.hosts.is_empty() || args.all_hosts {
        // Remote servers: their inventory from --inventory / the discovery order (the
        // example with a note when none); a foreign inventory reads "cannot tell".
        return match crate::cmd::runbook::load(&args.source) {
            Ok(rb) => run_hosts(args, rb),
            Err(_) => Level::Unknown.exit_code(),
        };
    }
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
    let deploys = crate::deploy::scan(&rb.inventory);
    let freeze_path = crate::deploy::freeze::path_for(
        &rb.inventory,
        crate::journal::paths::default_dir_from_env().as_deref(),
    );
    let freeze = freeze_path.as_deref().map(crate::deploy::freeze::read);
    let out = match format {
        Format::Json => {
            let mut v = render::json(&snap, &a);
            v["inventory_note"] = serde_json::json!(note);
            v["deploys"] = deploys_json(&deploys, freeze_path.as_deref(), freeze.as_ref());
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
                + &deploys_text(&deploys, freeze_path.as_deref(), freeze.as_ref())
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
    let color =
        args.output.is_none() && std::io::stdout().is_terminal() && super::session::color_allowed();
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

fn print_json(v: &serde_json::Value) {
    match serde_json::to_string_pretty(v) {
        Ok(s) => println!("{}", crate::sanitize::escape_json_output(&s)),
        Err(e) => eprintln!("pm2-incident: cannot write JSON: {e}"),
    }
}

/// One host's snapshot over ssh with its saved list; an unreachable host is a reading that
/// says so (no health round: without the connection the tool cannot see what the server sees).
pub fn snapshot_host(t: &super::remote::HostTarget, pm2: &Pm2SourceArgs) -> RemoteSnapshot {
    match super::remote::connect(&t.dest, pm2.timeout_ms) {
        Ok(s) => {
            let checker = t.checker.as_ref().as_ref().map_err(String::as_str);
            let snap = gather_remote(
                &t.rb,
                &s,
                t.home.as_deref(),
                pm2.timeout_ms,
                checker,
                &mut Default::default(),
            );
            s.close();
            snap
        }
        Err(e) => unreachable_host(e),
    }
}

/// A host that could not be read, and why (never a healthy-looking empty reading).
pub fn unreachable_host(why: String) -> RemoteSnapshot {
    let reading = Reading::failed(crate::pm2::source::SourceKind::Rpc, why.clone());
    RemoteSnapshot {
        snapshot: Snapshot {
            pm2_detail: reading.detail(),
            pm2: reading,
            health: vec![],
            health_error: Some(format!("health not checked: {why}")),
        },
        saved: None,
        reached: false,
    }
}

/// Every host at once, one thread each (each has its own master); results in input order.
pub fn snapshot_all(
    hosts: &[super::remote::HostTarget],
    pm2: &Pm2SourceArgs,
) -> Vec<RemoteSnapshot> {
    std::thread::scope(|s| {
        let handles: Vec<_> = hosts
            .iter()
            .map(|t| s.spawn(move || snapshot_host(t, pm2)))
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join().unwrap_or_else(|_| {
                    unreachable_host("reading the host failed unexpectedly".into())
                })
            })
            .collect()
    })
}

/// As the local snapshot: judged with the saved list's names (the inventory's fit).
pub fn assess_remote(rb: &Runbook, r: &RemoteSnapshot) -> Assessment {
    let saved: Vec<String> = r
        .saved
        .as_ref()
        .and_then(|s| s.list())
        .map(|l| l.apps())
        .unwrap_or_default();
    assess::assess_with_saved(
        rb,
        &Observation {
            pm2: r.snapshot.pm2_view(),
            health: &r.snapshot.health,
        },
        &saved,
    )
}

fn run_hosts(args: &SnapshotArgs, rb: Runbook) -> i32 {
    if args.pm2.source == Pm2SourceKind::Cli {
        eprintln!("pm2-incident: --pm2-source cli is not available with --host (it would start a daemon remotely)");
        return Level::Unknown.exit_code();
    }
    let Some(hosts) = super::remote::hosts(
        &args.hosts,
        args.pm2.pm2_home.as_deref(),
        std::sync::Arc::new(rb),
        &args.source,
        "--all-hosts: the inventory lists no [[host]]",
    ) else {
        return Level::Unknown.exit_code();
    };
    let snaps = snapshot_all(&hosts, &args.pm2);
    let assessed: Vec<(&Dest, Snapshot, Assessment)> = hosts
        .iter()
        .zip(snaps)
        .map(|(t, r)| {
            let a = assess_remote(&t.rb, &r);
            (&t.dest, r.snapshot, a)
        })
        .collect();
    if args.format() == Format::Json {
        let items: Vec<serde_json::Value> = assessed
            .iter()
            .map(|(d, s, a)| {
                let mut v = render::json(s, a);
                // Same keys as a local snapshot: the inventory was given or found here.
                v["inventory_note"] = serde_json::Value::Null;
                with_host(v, d)
            })
            .collect();
        if items.len() == 1 {
            print_json(&items[0]);
        } else {
            print_json(&serde_json::Value::Array(items));
        }
    } else {
        let st = style(args);
        let blocks: Vec<String> = assessed
            .iter()
            .map(|(d, s, a)| {
                format!(
                    "{}\n{}",
                    render::host_line(d.as_str(), st),
                    render::text(s, a, st)
                )
            })
            .collect();
        print!("{}", blocks.join("\n"));
    }
    super::remote::worst(assessed.iter().map(|(_, _, a)| a.severity.level)).exit_code()
}

/// `{"host": …}` first, then the snapshot's keys.
fn with_host(v: serde_json::Value, d: &Dest) -> serde_json::Value {
    let mut m = serde_json::Map::new();
    m.insert("host".into(), serde_json::Value::String(d.to_string()));
    if let serde_json::Value::Object(o) = v {
        m.extend(o);
    }
    serde_json::Value::Object(m)
}

fn deploys_json(
    running: &[crate::deploy::RunningDeploy],
    path: Option<&std::path::Path>,
    freeze: Option<&crate::deploy::freeze::FreezeState>,
) -> serde_json::Value {
    use crate::deploy::freeze::FreezeState;
    let detail = freeze
        .zip(path)
        .map(|(f, p)| crate::deploy::freeze::describe(f, p));
    let who = match freeze {
        Some(FreezeState::Frozen(f)) => serde_json::to_value(f).unwrap_or_default(),
        _ => serde_json::Value::Null,
    };
    serde_json::json!({
        "running": running,
        "freeze": {
            "path": path.map(|p| p.display().to_string()),
            "frozen": freeze.and_then(|f| f.frozen()),
            "by": who,
            "detail": detail,
        },
    })
}

/// "deploy running: …" lines (or that none runs) and the freeze state, for the text view.
fn deploys_text(
    running: &[crate::deploy::RunningDeploy],
    path: Option<&std::path::Path>,
    freeze: Option<&crate::deploy::freeze::FreezeState>,
) -> String {
    use crate::sanitize::escape_line;
    let mut o = String::new();
    if running.is_empty() {
        o.push_str("deploy running: none seen (runner jobs, deploy tools in the inventory's directories; other users' directories are unreadable unless root)\n");
    }
    for d in running {
        o.push_str(&format!(
            "deploy running: {} — user {}, {}, in {}\n",
            escape_line(&d.short()),
            escape_line(&d.user),
            escape_line(&d.command),
            escape_line(d.dir.as_deref().unwrap_or("(directory unreadable)"))
        ));
    }
    match freeze.zip(path) {
        Some((f, p)) => o.push_str(&format!(
            "{}\n",
            escape_line(&crate::deploy::freeze::describe(f, p))
        )),
        None => o.push_str("freeze: cannot tell (no freeze file configured)\n"),
    }
    o
}
