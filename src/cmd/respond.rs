//! `pm2-incident respond`: open (or resume) an incident journal and run the TUI.
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::Utc;

use crate::app::{convert, App, AppMode};
use crate::cmd::cli::RunbookSource;
use crate::incident::event::{Event, Mode, Opened};
use crate::journal::lock::LockInfo;
use crate::journal::paths::{
    default_dir_from_env, ensure_journal_dir, journal_file_name, unused_incident_id,
};
use crate::journal::session::{self, Session};
use crate::pm2::Pm2Home;
use crate::runbook::Runbook;
use crate::tui::runtime::{self, LiveWorld, World};

#[derive(clap::Args, Debug, Clone)]
pub struct RespondArgs {
    #[command(flatten)]
    pub source: RunbookSource,
    /// Journal file for a new incident (default: $XDG_STATE_HOME/pm2-incident/INC-….jsonl)
    #[arg(long, value_name = "FILE", conflicts_with = "resume")]
    pub journal: Option<PathBuf>,
    /// Continue an incident from its journal (after a dropped SSH session or a crash)
    #[arg(long, value_name = "FILE")]
    pub resume: Option<PathBuf>,
    /// PM2 home (default: $PM2_HOME, else ~/.pm2); with --host, the one on that server
    /// (default there: the login's $PM2_HOME, else $HOME/.pm2)
    #[arg(long, value_name = "DIR")]
    pub pm2_home: Option<PathBuf>,
    /// Respond to this server over OpenSSH (user@host, host, an ~/.ssh/config alias): PM2
    /// and health read through the connection, commands run there; nothing installed there
    #[arg(long = "host", value_name = "DEST")]
    pub host: Option<crate::remote::Dest>,
    /// Incident commander named in the record and the communications (default: this
    /// account's name from the password database)
    #[arg(long, value_name = "NAME")]
    pub commander: Option<String>,
}

/// Connect to the server before the screen opens (so ssh may ask for a passphrase or a new
/// host key on the terminal), and find its PM2 home.
fn connect_remote(
    dest: &crate::remote::Dest,
    pm2_home: Option<&Path>,
) -> Result<crate::tui::remote_world::RemoteWorld, String> {
    use crate::remote::{Session, SessionOptions, SshCommand};
    let session = Session::connect(
        SshCommand::from_env(),
        dest.clone(),
        SessionOptions {
            batch: false,
            ..SessionOptions::default()
        },
    )
    .map_err(|e| format!("ssh to {dest}: {e}"))?;
    session.set_batch(true);
    let timeout_ms = 5000;
    let r = crate::remote::observe_remote(&session, pm2_home, timeout_ms);
    let facts = r
        .facts
        .ok_or_else(|| format!("{dest}: {}", r.reading.detail()))?;
    Ok(crate::tui::remote_world::RemoteWorld {
        session: Arc::new(session),
        login_dir: facts
            .login_dir
            .map(|d| d.display().to_string())
            .unwrap_or_else(|| "/".into()),
        pm2_home: facts.home,
        local_dir: std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/")),
        timeout_ms,
    })
}

/// The commander: `--commander`, else the account name (`getpwuid`), else the lock's user.
pub fn commander(given: Option<&str>, me: &LockInfo) -> String {
    given
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(str::to_string)
        .or_else(crate::journal::lock::this_account)
        .unwrap_or_else(|| me.user.clone())
}

/// The opening event with its commander set.
pub fn opened_with_commander(mut ev: Event, commander: String) -> Event {
    if let Event::IncidentOpened(o) = &mut ev {
        o.commander = commander;
    }
    ev
}

fn fail(msg: impl std::fmt::Display) -> i32 {
    eprintln!("pm2-incident: {msg}");
    1
}

pub fn opened_event(rb: &Runbook, incident_id: &str, mode: Mode, me: &LockInfo) -> Event {
    Event::IncidentOpened(Opened {
        incident_id: incident_id.to_string(),
        title: String::new(),
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        runbook_id: rb.procedure.id.get_ref().clone(),
        runbook_hash: rb.procedure_sha256.clone(),
        mode,
        host: me.host.clone(),
        user: me.user.clone(),
        commander: String::new(),
        inventory: convert::inventory_summary(&rb.inventory),
    })
}

pub fn run(args: &RespondArgs) -> i32 {
    let rb = match crate::cmd::runbook::load_configured(&args.source) {
        Ok(Some(rb)) => Arc::new(rb),
        Ok(None) => {
            // Judging this server by another's inventory would be a false alarm.
            eprintln!(
                "pm2-incident respond: {}",
                crate::cmd::runbook::NO_INVENTORY
            );
            return 4;
        }
        Err(code) => return code,
    };
    let remote = match &args.host {
        Some(dest) => match connect_remote(dest, args.pm2_home.as_deref()) {
            Ok(rw) => Some(rw),
            Err(e) => return fail(e),
        },
        None => None,
    };
    let code = match drive(args, rb, remote.as_ref()) {
        Ok(code) => code,
        Err(e) => fail(e),
    };
    if let Some(rw) = remote {
        // Master, forwards and the runtime dir go now, not when ControlPersist expires.
        rw.session.close();
    }
    code
}

/// The PM2 this responds to: over ssh, the remote home stands for it (its sockets are the
/// forwards); here, `--pm2-home` or PM2's own environment.
fn pm2_home(
    args: &RespondArgs,
    remote: Option<&crate::tui::remote_world::RemoteWorld>,
) -> Result<Pm2Home, String> {
    match (remote, &args.pm2_home) {
        (Some(rw), _) => Pm2Home::new(rw.session.runtime_dir().join("pm2")),
        (None, Some(d)) => Pm2Home::new(d.clone()),
        (None, None) => Pm2Home::from_env(),
    }
    .map_err(|e| e.to_string())
}

/// The live session: the app, its journal (new or resumed, driven by us alone), the TUI.
fn drive(
    args: &RespondArgs,
    rb: Arc<Runbook>,
    remote: Option<&crate::tui::remote_world::RemoteWorld>,
) -> Result<i32, String> {
    let home = pm2_home(args, remote)?;
    let now = Utc::now();
    let me = LockInfo::current(&now.to_rfc3339());
    // Commands that name no directory run where a login starts: here, or on the server.
    let cwd = match remote {
        Some(rw) => rw.login_dir.clone(),
        None => std::env::current_dir()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|_| "/".into()),
    };
    let mut app = App::new(rb.clone(), AppMode::Live, &me.user, &cwd, now);
    crate::cmd::session::configure(&mut app);
    app.remote = args.host.as_ref().map(|d| crate::app::RemoteView {
        host: d.to_string(),
        link_down: None,
    });
    // Deployment commands name this very binary, and the inventory's freeze file.
    app.exe = std::env::current_exe()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| "pm2-incident".into());
    app.freeze_file =
        crate::deploy::freeze::path_for(&rb.inventory, default_dir_from_env().as_deref())
            .map(|p| p.display().to_string());

    let (path, writer, lock) = open_journal(args, &rb, &me, now)?;
    let outcome = crate::journal::read(&path).map_err(|e| e.to_string())?;
    app.restore(&outcome.entries);
    if args.resume.is_none() {
        app.enter_current_step();
    }
    app.export_dir = path
        .parent()
        .map(|d| d.display().to_string())
        .filter(|d| !d.is_empty());
    let code = run_tui(
        app,
        World::Live(LiveWorld {
            home,
            env: vec![],
            remote: remote.cloned(),
        }),
        Some(writer),
        Some(&path),
    );
    // Dropping the lock tells the next responder nobody drives any more.
    drop(lock);
    Ok(code)
}

/// The journal this session drives: `--resume FILE`, `--journal FILE` or a new one in the
/// state directory (never an existing file), locked so that one responder writes it.
fn open_journal(
    args: &RespondArgs,
    rb: &Runbook,
    me: &LockInfo,
    now: chrono::DateTime<Utc>,
) -> Result<
    (
        PathBuf,
        crate::journal::writer::Writer,
        crate::journal::lock::DriverLock,
    ),
    String,
> {
    let (session, path) = match &args.resume {
        Some(path) => (session::resume(path, me, now), path.clone()),
        None => {
            let mut id = format!("INC-{}", now.format("%Y%m%d-%H%M%S"));
            let path = match &args.journal {
                Some(p) => p.clone(),
                None => {
                    let d = default_dir_from_env().ok_or(
                        "no journal directory: set XDG_STATE_HOME or HOME, or pass --journal FILE",
                    )?;
                    id = unused_incident_id(&d, &id);
                    d.join(journal_file_name(&id))
                }
            };
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                ensure_journal_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
            }
            if path.exists() {
                return Err(format!(
                    "{} already exists: use --resume {} to continue it",
                    path.display(),
                    path.display()
                ));
            }
            // The journal names the server the incident is on (and where the responder sat).
            let mut opened_by = me.clone();
            if let Some(dest) = &args.host {
                opened_by.host = format!("{dest} (over ssh from {})", me.host);
            }
            let opened = opened_with_commander(
                opened_event(rb, &id, Mode::Live, &opened_by),
                commander(args.commander.as_deref(), me),
            );
            (session::start(&path, me, now, opened), path)
        }
    };
    match session.map_err(|e| e.to_string())? {
        Session::ReadOnly { holder, .. } => Err(format!(
            "{} is being driven by {holder}; only one responder writes the journal (watch it with `replay --follow` once available, or read it with `report`)",
            path.display()
        )),
        Session::Driving { writer, lock, .. } => Ok((path, writer, lock)),
    }
}

pub fn run_tui(
    app: App,
    world: World,
    writer: Option<crate::journal::Writer>,
    path: Option<&Path>,
) -> i32 {
    // Files the responder's commands create are private too: the runbook's own
    // `pm2 jlist > /tmp/pm2-incident-*.json` carries every app's secrets.
    // SAFETY: umask(2) only changes this process's file-creation mask; children inherit it.
    unsafe {
        libc::umask(0o077);
    }
    crate::tui::terminal::catch_signals();
    let mut term = match crate::tui::terminal::enter() {
        Ok(t) => t,
        Err(e) => {
            crate::tui::terminal::restore();
            return fail(format!("cannot open the terminal: {e}"));
        }
    };
    let live = matches!(world, World::Live(_));
    let code = runtime::run(&mut term, app, world, writer);
    crate::tui::terminal::restore();
    if let Some(path) = path {
        let shown = crate::sanitize::escape_line(&path.display().to_string()).into_owned();
        eprintln!("journal: {shown}");
        // The chain cannot prove its own end: this line is the anchor to keep (and compare with
        // `verify --head`), shown after the screen is restored so it stays in the scrollback.
        match crate::journal::read(path) {
            Ok(r) => {
                let head = crate::journal::reader::Head::of(&r);
                eprintln!("journal head: {head}");
                eprintln!(
                    "check later with: pm2-incident verify --head {} {shown}",
                    head.hash
                );
            }
            Err(e) => eprintln!(
                "journal head: cannot tell ({})",
                crate::sanitize::escape_line(&e.to_string())
            ),
        }
        if live {
            eprintln!("resume with: pm2-incident respond --resume {shown}");
        }
    }
    code
}
