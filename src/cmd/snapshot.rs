//! `pm2-incident snapshot [--json] [--host DEST]...`.
use super::cli::{Pm2SourceArgs, Pm2SourceKind};
use super::snapshot_render::{self as render, Style};
use crate::assess::{self, Assessment, Level, Observation};
use crate::cmd::cli::RunbookSource;
use crate::observe::{gather, Snapshot};
use crate::pm2::Reading;
use crate::remote::{gather_remote, Dest};
use crate::runbook::Runbook;
use std::io::IsTerminal;

#[derive(clap::Args, Debug, Clone)]
pub struct SnapshotArgs {
    /// Print JSON (keys: pm2, health, scope, severity, plan, checklist; plus host with --host,
    /// an array of them with several --host)
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
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

pub fn run(args: &SnapshotArgs) -> i32 {
    let rb = match crate::cmd::runbook::load(&args.source) {
        Ok(rb) => rb,
        Err(_) => return Level::Unknown.exit_code(),
    };
    if !args.hosts.is_empty() || args.all_hosts {
        return run_hosts(args, &rb);
    }
    let snap = gather(&rb, &args.pm2.to_source());
    let a = assess_of(&rb, &snap);
    if args.json {
        print_json(&render::json(&snap, &a));
    } else {
        print!("{}", render::text(&snap, &a, Style { color: color() }));
    }
    a.severity.level.exit_code()
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
            .map(|(d, s, a)| with_host(render::json(s, a), d))
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
