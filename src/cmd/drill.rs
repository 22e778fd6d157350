//! `pm2-incident drill [SCENARIO]`: the same guided screens against a simulated
//! server with an injected fault, then a debrief.
use std::path::PathBuf;
use std::sync::Arc;

use chrono::Utc;

use crate::app::{App, AppMode, Popup};
use crate::cmd::cli::RunbookSource;
use crate::drill::{self, DrillEnv};
use crate::incident::event::Mode;
use crate::journal::lock::LockInfo;
use crate::journal::paths::{
    default_dir_from_env, ensure_journal_dir, journal_file_name, unused_incident_id,
};
use crate::journal::session::{self, Session};
use crate::tui::runtime::World;

#[derive(clap::Args, Debug, Clone)]
pub struct DrillArgs {
    /// Scenario id (see --list); default: the runbook's own incident, `delete-all`
    pub scenario: Option<String>,
    /// List the built-in scenarios with their severity on the inventory (--inventory)
    #[arg(long, conflicts_with_all = ["scenario", "file"])]
    pub list: bool,
    /// A scenario file of your own (TOML, like assets/drills/*.toml)
    #[arg(long, value_name = "FILE", conflicts_with = "scenario")]
    pub file: Option<PathBuf>,
    /// Journal file (default: $XDG_STATE_HOME/pm2-incident/DRILL-….jsonl)
    #[arg(long, value_name = "FILE")]
    pub journal: Option<PathBuf>,
    /// Keep the drill's temporary server directory afterwards (to look at it)
    #[arg(long)]
    pub keep: bool,
    /// Print the drill history ($XDG_STATE_HOME/pm2-incident/drills.jsonl): a table and
    /// each responder's trend per scenario
    #[arg(long, conflicts_with_all = ["scenario", "file", "list"])]
    pub history: bool,
    /// With --history: the records and trends as JSON
    #[arg(long, requires = "history")]
    pub json: bool,
    /// Run the scenario on a real PM2 in a throwaway PM2_HOME (stand-in Node apps for the
    /// inventory's processes, the fault injected for real, everything ended afterwards)
    #[arg(long, conflicts_with_all = ["history", "list"])]
    pub sandbox: bool,
    /// The pm2 CLI for --sandbox (default: the pinned copy in target/pm2-npm)
    #[arg(long = "pm2", value_name = "PATH", requires = "sandbox")]
    pub pm2: Option<PathBuf>,
    /// Who the history records the drill under (default: the login name)
    #[arg(long, value_name = "NAME")]
    pub responder: Option<String>,
    #[command(flatten)]
    pub source: RunbookSource,
}

/// Add the drill's debrief figures to the history; a drill with neither a severity
/// call nor a command run is not a drill worth a trend point.
fn record(
    s: &drill::Scenario,
    rb: &crate::runbook::Runbook,
    journal: &std::path::Path,
    who: drill::history::Who,
) {
    let Some(hist) = drill::history::default_path() else {
        return;
    };
    let entries = match crate::journal::read(journal) {
        Ok(o) => o.entries,
        Err(e) => {
            eprintln!("pm2-incident: drill history not updated: {e}");
            return;
        }
    };
    let inc = crate::incident::fold(&entries);
    if inc.severity.is_none() && inc.commands.is_empty() {
        return;
    }
    let d = drill::debrief(s, rb, &entries, who.at);
    let called = inc.severity.as_ref().map(|d| d.value.severity);
    let r = drill::history::Record::from_debrief(&d, called, s.expected(), who);
    match drill::history::append(&hist, &r) {
        Ok(()) => eprintln!(
            "drill recorded in {} (see `pm2-incident drill --history`)",
            hist.display()
        ),
        Err(e) => eprintln!("pm2-incident: drill history not updated: {e}"),
    }
}

/// How role errors name the inventory: its file, or the shipped one.
fn inventory_name(src: &RunbookSource) -> String {
    match &src.inventory {
        Some(p) if p.as_os_str() != crate::runbook::discover::EXAMPLE => p.display().to_string(),
        _ => crate::runbook::DEFAULT_INVENTORY_NAME.to_string(),
    }
}

fn fail(msg: impl std::fmt::Display) -> i32 {
    eprintln!("pm2-incident: {msg}");
    1
}

pub fn run(args: &DrillArgs) -> i32 {
    if args.history {
        return match drill::history::default_path() {
            Some(p) => crate::cmd::drill_history::run(&p, args.json),
            None => fail("no state directory: set XDG_STATE_HOME or HOME"),
        };
    }
    let rb = match crate::cmd::runbook::load_drill(&args.source) {
        Ok(rb) => rb,
        Err(code) => return code,
    };
    let inv_name = inventory_name(&args.source);
    if args.list {
        // Severities follow the inventory the drill would run on.
        for (id, r) in drill::builtin::list_on(&rb.inventory) {
            match r {
                Ok(s) => println!("{id:<16} {:?}  {}", s.expected(), s.title),
                Err(e) => println!(
                    "{id:<16} --  cannot run on {inv_name}: {}",
                    e.first().map(|e| e.message.as_str()).unwrap_or("")
                ),
            }
        }
        return 0;
    }
    let scenario = match (&args.file, &args.scenario) {
        (Some(f), _) => drill::load_file_on(f, &rb.inventory, &inv_name),
        (None, id) => drill::builtin_on(
            id.as_deref().unwrap_or("delete-all"),
            &rb.inventory,
            &inv_name,
        ),
    };
    let scenario = match scenario {
        Ok(s) => s,
        Err(errors) => {
            for e in errors {
                eprintln!("{e}");
            }
            eprintln!("scenarios: {}", drill::builtin_ids().join(", "));
            return 1;
        }
    };
    let exe = match std::env::current_exe() {
        Ok(e) => e,
        Err(e) => {
            return fail(format!(
                "cannot find this program's path for the drill shims: {e}"
            ))
        }
    };
    if args.sandbox {
        return run_sandbox(args, &rb, scenario, &exe);
    }
    let env = match DrillEnv::create(
        &scenario,
        &rb,
        &std::env::temp_dir(),
        &exe,
        drill::env::now_ms(),
    ) {
        Ok(e) => Arc::new(e),
        Err(e) => return fail(format!("cannot set up the drill: {e}")),
    };
    let drill_rb = Arc::new(env.runbook.clone());
    let dir = env.dir.display().to_string();
    let code = drive(
        args,
        drill_rb,
        World::Drill(env.clone()),
        scenario,
        &dir,
        &rb.inventory.site,
        None,
    );
    if !args.keep {
        // The runtime's poller may still hold the world for a moment after the screens end
        // (`Arc::try_unwrap` then fails): the directory goes either way.
        let _ = match Arc::try_unwrap(env) {
            Ok(env) => env.remove(),
            Err(env) => std::fs::remove_dir_all(&env.dir),
        };
    }
    code
}

/// The scenario on a real PM2 in a throwaway home: stand-ins started, the fault
/// injected, the responder's session against it, then everything of that home ended.
fn run_sandbox(
    args: &DrillArgs,
    rb: &crate::runbook::Runbook,
    scenario: drill::Scenario,
    exe: &std::path::Path,
) -> i32 {
    use drill::sandbox::{pinned_pm2, Sandbox};
    let Some(pm2) = args.pm2.clone().or_else(|| pinned_pm2(exe)) else {
        return fail("no pm2 for the sandbox: pass --pm2 PATH (or install the pinned one: scripts/install-test-deps)");
    };
    eprintln!(
        "sandbox: starting a real PM2 ({}) in a throwaway home…",
        pm2.display()
    );
    let sb = match Sandbox::create(&rb.inventory, &scenario, &std::env::temp_dir(), &pm2) {
        Ok(sb) => sb,
        Err(e) => return fail(format!("cannot set up the sandbox: {e}")),
    };
    let ready = sb.start().and_then(|()| sb.inject());
    if let Err(e) = ready {
        let _ = sb.teardown();
        return fail(format!("sandbox: {e}"));
    }
    let home = match crate::pm2::Pm2Home::new(&sb.home) {
        Ok(h) => h,
        Err(e) => {
            let _ = sb.teardown();
            return fail(format!("sandbox home: {e}"));
        }
    };
    let mut sb_rb = rb.clone();
    sb_rb.vars = crate::runbook::vars::inventory_vars(&sb.inventory);
    sb_rb.inventory = sb.inventory.clone();
    let dir = sb.dir.display().to_string();
    let world = World::Live(crate::tui::runtime::LiveWorld {
        home,
        env: sb.env(),
        remote: None,
    });
    // The scenario's clock runs from the drill's start (its faults with `at` >= 0).
    let clock = sb.start_clock();
    let code = drive(
        args,
        Arc::new(sb_rb),
        world,
        scenario,
        &dir,
        &rb.inventory.site,
        Some(sb.brief()),
    );
    for a in clock.stop() {
        if let Some(e) = a.error {
            eprintln!(
                "sandbox: T+{}s {} was not injected: {e}",
                a.at_ms / 1000,
                a.what
            );
        }
    }
    if args.keep {
        eprintln!("sandbox kept: {dir} (PM2_HOME {})", sb.home.display());
        return code;
    }
    match sb.teardown() {
        Ok(()) => code,
        Err(e) => fail(format!("sandbox teardown: {e}")),
    }
}

/// The drill session itself (journal, screens, debrief, history), in either world.
fn drive(
    args: &DrillArgs,
    drill_rb: Arc<crate::runbook::Runbook>,
    world: World,
    scenario: drill::Scenario,
    dir: &str,
    site: &str,
    sandbox: Option<drill::sandbox::Brief>,
) -> i32 {
    let kind = match sandbox {
        Some(_) => drill::history::World::Sandbox,
        None => drill::history::World::Simulated,
    };
    let now = Utc::now();
    let me = LockInfo::current(&now.to_rfc3339());
    let mut id = format!("DRILL-{}-{}", scenario.id(), now.format("%Y%m%d-%H%M%S"));
    let path = match &args.journal {
        Some(p) => p.clone(),
        None => match default_dir_from_env() {
            Some(d) => {
                id = unused_incident_id(&d, &id);
                d.join(journal_file_name(&id))
            }
            None => {
                return fail(
                    "no journal directory: set XDG_STATE_HOME or HOME, or pass --journal FILE",
                )
            }
        },
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        if let Err(e) = ensure_journal_dir(dir) {
            return fail(format!("{}: {e}", dir.display()));
        }
    }
    let opened = crate::cmd::respond::opened_event(&drill_rb, &id, Mode::Drill, &me);
    let (writer, lock) = match session::start(&path, &me, now, opened) {
        Ok(Session::Driving { writer, lock, .. }) => (writer, lock),
        Ok(Session::ReadOnly { holder, .. }) => {
            return fail(format!("{} is being driven by {holder}", path.display()))
        }
        Err(e) => return fail(e),
    };
    let debrief_rb = drill_rb.clone();
    let mut app = App::new(drill_rb, AppMode::Drill, &me.user, dir, now);
    crate::cmd::session::configure(&mut app);
    app.drill = Some(scenario.clone());
    app.sandbox = sandbox;
    app.export_dir = path.parent().map(|d| d.display().to_string());
    match crate::journal::read(&path) {
        Ok(outcome) => app.restore(&outcome.entries),
        Err(e) => return fail(e),
    }
    app.enter_current_step();
    app.popup = Some(Popup::Briefing);
    let code = crate::cmd::respond::run_tui(app, world, Some(writer), Some(&path));
    drop(lock);
    let who = drill::history::Who {
        at: Utc::now(),
        responder: args.responder.clone().unwrap_or_else(|| me.user.clone()),
        site: site.to_string(),
        world: kind,
        journal: Some(path.display().to_string()),
    };
    record(&scenario, &debrief_rb, &path, who);
    code
}
