//! `pm2-incident snapshot [--json]`.
use super::cli::Pm2SourceArgs;
use super::snapshot_render::{self as render, Style};
use crate::assess::{self, Level, Observation};
use crate::cmd::cli::RunbookSource;
use crate::observe::gather;
use std::io::IsTerminal;

#[derive(clap::Args, Debug, Clone)]
pub struct SnapshotArgs {
    /// Print JSON (keys: pm2, health, scope, severity, plan, checklist)
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub source: RunbookSource,
    #[command(flatten)]
    pub pm2: Pm2SourceArgs,
}

pub fn run(args: &SnapshotArgs) -> i32 {
    let rb = match crate::cmd::runbook::load(&args.source) {
        Ok(rb) => rb,
        Err(_) => return Level::Unknown.exit_code(),
    };
    let snap = gather(&rb, &args.pm2.to_source());
    let a = assess::assess(
        &rb,
        &Observation {
            pm2: snap.pm2_view(),
            health: &snap.health,
        },
    );
    let deploys = crate::deploy::scan(&rb.inventory);
    let freeze_path = crate::deploy::freeze::path_for(
        &rb.inventory,
        crate::journal::paths::default_dir_from_env().as_deref(),
    );
    let freeze = freeze_path.as_deref().map(crate::deploy::freeze::read);
    if args.json {
        let mut v = render::json(&snap, &a);
        v["deploys"] = deploys_json(&deploys, freeze_path.as_deref(), freeze.as_ref());
        match serde_json::to_string_pretty(&v) {
            Ok(s) => println!("{}", crate::sanitize::escape_json_output(&s)),
            Err(e) => eprintln!("pm2-incident: cannot write JSON: {e}"),
        }
    } else {
        let color = std::io::stdout().is_terminal()
            && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
        print!("{}", render::text(&snap, &a, Style { color }));
        print!(
            "{}",
            deploys_text(&deploys, freeze_path.as_deref(), freeze.as_ref())
        );
    }
    a.severity.level.exit_code()
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
