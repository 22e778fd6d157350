//! `pm2-incident snapshot [--json] [--host DEST]...`.
use super::cli::{Pm2SourceArgs, Pm2SourceKind, RunbookSource};
use super::snapshot_render::{self as render, Style};
use crate::assess::{self, Assessment, Level, Observation};
use crate::observe::{gather, Snapshot};
use crate::pm2::source::{observe, SourceArgs};
use crate::pm2::Reading;
use crate::remote::{gather_remote, Dest};
use crate::runbook::Runbook;
use crate::sanitize::escape_line;
use std::io::IsTerminal;
use std::path::PathBuf;

#[derive(clap::Args, Debug, Clone)]
pub struct SnapshotArgs {
    /// Print JSON (keys: pm2, health, scope, severity, plan, checklist, inventory_note; plus
    /// host with --host, an array of them with several --host)
    #[arg(long)]
    pub json: bool,
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

pub fn run(args: &SnapshotArgs) -> i32 {
    if !args.hosts.is_empty() || args.all_hosts {
        // Remote servers: their inventory from --inventory / the discovery order (the
        // example with a note when none); a foreign inventory reads "cannot tell".
        return match crate::cmd::runbook::load(&args.source) {
            Ok(rb) => run_hosts(args, &rb),
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
        Err(_) => return Level::Unknown.exit_code(),
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
    if args.json {
        let mut v = render::json(&snap, &a);
        v["inventory_note"] = serde_json::json!(note);
        v["deploys"] = deploys_json(&deploys, freeze_path.as_deref(), freeze.as_ref());
        print_json(&v);
    } else {
        if let Some(n) = &note {
            println!("note: {n}");
        }
        print!("{}", render::text(&snap, &a, style()));
        print!(
            "{}",
            deploys_text(&deploys, freeze_path.as_deref(), freeze.as_ref())
        );
    }
    a.severity.level.exit_code()
}

fn style() -> Style {
    let color = std::io::stdout().is_terminal() && super::session::color_allowed();
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
    if args.json {
        let v = serde_json::json!({
            "pm2": render::reading_json(&pm2, &detail),
            "inventory_note": crate::cmd::runbook::NO_INVENTORY,
            "severity": {"level": Level::Unknown, "label": label},
        });
        println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
    } else {
        println!("PM2 {}", escape_line(&detail));
        for p in pm2.processes.iter().flatten() {
            println!("  {:<38} {}", escape_line(&p.name), p.status.as_str());
        }
        println!();
        println!("Severity unknown: {label}");
    }
    Level::Unknown.exit_code()
}

fn assess_of(rb: &Runbook, snap: &Snapshot) -> Assessment {
    assess::assess(
        rb,
        &Observation {
            pm2: snap.pm2_view(),
            health: &snap.health,
        },
    )
}

fn color() -> bool {
    std::io::stdout().is_terminal() && super::session::color_allowed()
}

fn print_json(v: &serde_json::Value) {
    match serde_json::to_string_pretty(v) {
        Ok(s) => println!("{}", crate::sanitize::escape_json_output(&s)),
        Err(e) => eprintln!("pm2-incident: cannot write JSON: {e}"),
    }
}

/// One host's snapshot over ssh; an unreachable host is a reading that says so (no health
/// round: without the connection the tool cannot see what the server sees).
pub fn snapshot_host(
    rb: &Runbook,
    dest: &Dest,
    home: Option<&std::path::Path>,
    pm2: &Pm2SourceArgs,
) -> Snapshot {
    match super::remote::connect(dest, pm2.timeout_ms) {
        Ok(s) => {
            let snap = gather_remote(rb, &s, home, pm2.timeout_ms);
            s.close();
            snap
        }
        Err(e) => {
            let reading = Reading::failed(crate::pm2::source::SourceKind::Rpc, e.clone());
            Snapshot {
                pm2_detail: reading.detail(),
                pm2: reading,
                health: vec![],
                health_error: Some(format!("health not checked: {e}")),
            }
        }
    }
}

fn run_hosts(args: &SnapshotArgs, rb: &Runbook) -> i32 {
    if args.pm2.source == Pm2SourceKind::Cli {
        eprintln!("pm2-incident: --pm2-source cli is not available with --host (it would start a daemon remotely)");
        return Level::Unknown.exit_code();
    }
    let hosts = match super::remote::hosts(&args.hosts, args.pm2.pm2_home.as_deref(), &rb.inventory)
    {
        Ok(h) if !h.is_empty() => h,
        Ok(_) => {
            eprintln!("pm2-incident: --all-hosts: the inventory lists no [[host]]");
            return Level::Unknown.exit_code();
        }
        Err(e) => {
            eprintln!("pm2-incident: {e}");
            return Level::Unknown.exit_code();
        }
    };
    let snaps: Vec<(Dest, Snapshot)> = std::thread::scope(|s| {
        let handles: Vec<_> = hosts
            .iter()
            .map(|(d, home)| {
                (
                    d,
                    s.spawn(|| snapshot_host(rb, d, home.as_deref(), &args.pm2)),
                )
            })
            .collect();
        handles
            .into_iter()
            .map(|(d, h)| {
                let snap = h.join().unwrap_or_else(|_| {
                    let r = Reading::failed(
                        crate::pm2::source::SourceKind::Rpc,
                        "reading the host failed unexpectedly".into(),
                    );
                    Snapshot {
                        pm2_detail: r.detail(),
                        pm2: r,
                        health: vec![],
                        health_error: None,
                    }
                });
                (d.clone(), snap)
            })
            .collect()
    });
    let assessed: Vec<(Dest, Snapshot, Assessment)> = snaps
        .into_iter()
        .map(|(d, s)| {
            let a = assess_of(rb, &s);
            (d, s, a)
        })
        .collect();
    if args.json {
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
        let st = Style { color: color() };
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
