//! `pm2-incident snapshot [--json]`.
use super::cli::{Pm2SourceArgs, RunbookSource};
use super::snapshot_render::{self as render, Style};
use crate::assess::{self, Level, Observation};
use crate::observe::gather;
use crate::pm2::source::{observe, SourceArgs};
use crate::runbook::Runbook;
use crate::sanitize::escape_line;
use std::io::IsTerminal;
use std::path::PathBuf;

#[derive(clap::Args, Debug, Clone)]
pub struct SnapshotArgs {
    /// Print JSON (keys: pm2, health, scope, severity, plan, checklist, inventory_note)
    #[arg(long)]
    pub json: bool,
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
    if args.json {
        let mut v = render::json(&snap, &a);
        v["inventory_note"] = serde_json::json!(note);
        match serde_json::to_string_pretty(&v) {
            Ok(s) => println!("{s}"),
            Err(e) => eprintln!("pm2-incident: cannot write JSON: {e}"),
        }
    } else {
        if let Some(n) = &note {
            println!("note: {n}");
        }
        print!("{}", render::text(&snap, &a, style()));
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
