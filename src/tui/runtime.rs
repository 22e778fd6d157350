//! The loop: terminal and world messages -> `App::update` -> effects to the
//! world and events to the journal -> `ui::draw` (only when something changed,
//! at most ~30 frames a second).
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use ratatui::backend::Backend;
use ratatui::crossterm::event::{self, Event as TermEvent, KeyEventKind};
use ratatui::Terminal;

use crate::app::{App, Effect, Msg};
use crate::exec::runner::{self, CancelHandle, ExecSpec};
use crate::guard::{classify, Class};
use crate::health::HealthChecker;
use crate::incident::event::{Event, InterruptCause, Interrupted, Stream};
use crate::journal::Writer;
use crate::pm2::source::{observe, SourceArgs};
use crate::pm2::{BusMsg, EventSubscriber, Pm2Event, Pm2Home, SubscriberOptions};

/// How often PM2 is read when nothing happens (events trigger an immediate read).
/// (The event bus shows changes at once; the poll is the safety net.)
pub const PM2_POLL: Duration = Duration::from_secs(3);
pub const HEALTH_EVERY: Duration = Duration::from_secs(5);
/// Running deployments show within a second (one scan of /proc: ~33 ms in a debug build
/// with 135 processes; BENCHMARKS.md).
pub const DEPLOY_POLL: Duration = Duration::from_millis(500);
pub const GITEA_POLL: Duration = Duration::from_secs(15);
const FRAME: Duration = Duration::from_millis(33);
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(600);

/// The live world: PM2 over its sockets, health over HTTP, commands as children.
pub struct LiveWorld {
    pub home: Pm2Home,
    /// Extra environment for commands (drills point PM2_HOME elsewhere).
    pub env: Vec<(String, String)>,
    /// `respond --host`: read and run on that server over ssh instead (see `remote_world`).
    pub remote: Option<crate::tui::remote_world::RemoteWorld>,
}

/// Where observations come from and where commands go.
pub enum World {
    Live(LiveWorld),
    /// A recorded journal; its index (and, following, what is appended) arrives from the
    /// background indexer started by `cmd::replay`.
    Replay {
        progress: Option<std::sync::mpsc::Receiver<crate::journal::index::Progress>>,
    },
    /// A training drill: the simulator answers for PM2 and health; commands run with
    /// the drill's shims first on PATH and nothing else in their environment.
    Drill(Arc<crate::drill::DrillEnv>),
}

struct Workers {
    refresh_pm2: Option<Sender<()>>,
    refresh_health: Option<Sender<()>>,
    cancels: HashMap<u64, CancelHandle>,
}

fn spawn_workers(app: &App, world: &World, tx: &Sender<Msg>) -> Workers {
    match world {
        World::Live(LiveWorld {
            remote: Some(rw), ..
        }) => {
            let (pm2, health) = crate::tui::remote_world::spawn(
                rw,
                app.rb.inventory.health_targets(),
                HealthChecker::from_inventory(&app.rb.inventory),
                PM2_POLL,
                HEALTH_EVERY,
                tx,
            );
            Workers {
                refresh_pm2: Some(pm2),
                refresh_health: Some(health),
                cancels: HashMap::new(),
            }
        }
        World::Live(live) => spawn_live(app, live, tx),
        World::Drill(env) => spawn_drill(env.clone(), tx),
        World::Replay { .. } => Workers {
            refresh_pm2: None,
            refresh_health: None,
            cancels: HashMap::new(),
        },
    }
}

/// Forwards the replay indexer's progress into the loop (it stops when the app is gone).
fn spawn_index_forward(
    rx: std::sync::mpsc::Receiver<crate::journal::index::Progress>,
    tx: Sender<Msg>,
) {
    spawn_named("index-forward", move || {
        for p in rx {
            if tx.send(Msg::Indexed(p)).is_err() {
                return;
            }
        }
    });
}

/// The drill's poller: the simulated PM2 (never revived by looking), its health
/// endpoints and the bus events it logged, every second or at once when asked.
fn spawn_drill(env: Arc<crate::drill::DrillEnv>, tx: &Sender<Msg>) -> Workers {
    let (refresh, rx) = mpsc::channel::<()>();
    let t = tx.clone();
    spawn_named("drill-poll", move || {
        let mut last_ms = crate::drill::env::now_ms();
        loop {
            let now_ms = crate::drill::env::now_ms();
            let snap = env.snapshot(now_ms);
            let health = env.health_round(now_ms);
            let saved = crate::pm2::dump::read_dump_file(&env.home.join("dump.pm2"));
            let mut msgs = vec![Msg::Pm2(snap), Msg::Saved(saved), Msg::Health(health)];
            if let Ok(st) = env.state_at(now_ms) {
                for e in crate::drill::bus::events_between(&st, last_ms, now_ms) {
                    msgs.push(Msg::Pm2Bus {
                        process: e.process,
                        event: e.event,
                        detail: e.detail,
                    });
                }
            }
            last_ms = now_ms;
            for m in msgs {
                if t.send(m).is_err() {
                    return;
                }
            }
            if wait_or_refresh(&rx, Duration::from_secs(1)) {
                return;
            }
        }
    });
    Workers {
        refresh_pm2: Some(refresh),
        refresh_health: None,
        cancels: HashMap::new(),
    }
}

fn spawn_live(app: &App, world: &LiveWorld, tx: &Sender<Msg>) -> Workers {
    let refresh_pm2 = spawn_pm2_poll(world, tx);
    let refresh_health = spawn_health(app, tx);
    spawn_deploy_polls(app, tx);
    spawn_bus(world, tx);
    Workers {
        refresh_pm2: Some(refresh_pm2),
        refresh_health: Some(refresh_health),
        cancels: HashMap::new(),
    }
}

/// PM2's process list, the saved list and (with no daemon) orphaned Node processes, every
/// [`PM2_POLL`] or when asked; the returned sender asks.
fn spawn_pm2_poll(world: &LiveWorld, tx: &Sender<Msg>) -> Sender<()> {
    let (refresh_pm2, pm2_rx) = mpsc::channel::<()>();
    let source = SourceArgs {
        pm2_home: Some(world.home.dir().to_path_buf()),
        ..SourceArgs::default()
    };
    let t = tx.clone();
    let home = world.home.clone();
    spawn_named("pm2-poll", move || loop {
        let snap = observe(&source);
        // The saved list, read-only (never through the CLI): what `pm2 resurrect` would restore.
        let saved = crate::pm2::read_saved_list(&home);
        // Orphans matter only while no daemon runs; the /proc scan is skipped otherwise.
        let procs = if snap.kind() == crate::pm2::DaemonKind::Up {
            vec![]
        } else {
            crate::pm2::orphans::scan_node_processes()
        };
        if t.send(Msg::Pm2(snap)).is_err()
            || t.send(Msg::Saved(saved)).is_err()
            || t.send(Msg::NodeProcesses(procs)).is_err()
        {
            return;
        }
        if wait_or_refresh(&pm2_rx, PM2_POLL) {
            return;
        }
    });

    refresh_pm2
}

/// The inventory's health checks every [`HEALTH_EVERY`] or when asked.
fn spawn_health(app: &App, tx: &Sender<Msg>) -> Sender<()> {
    let (refresh_health, health_rx) = mpsc::channel::<()>();
    let targets = app.rb.inventory.health_targets();
    let checker = HealthChecker::from_inventory(&app.rb.inventory);
    let t = tx.clone();
    spawn_named("health", move || {
        let Ok(checker) = checker else { return };
        // One runtime for the thread's life, not one per round (idle CPU).
        let Ok(rt) = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        else {
            return;
        };
        loop {
            let results = rt.block_on(checker.check_all(&targets));
            if t.send(Msg::Health(results)).is_err() {
                return;
            }
            if wait_or_refresh(&health_rx, HEALTH_EVERY) {
                return;
            }
        }
    });

    refresh_health
}

fn spawn_deploy_polls(app: &App, tx: &Sender<Msg>) {
    // Deployments: /proc and the freeze file twice a second (cheap, read-only), Gitea less often.
    let inv = app.rb.inventory.clone();
    let freeze_file = app.freeze_file.clone();
    let t = tx.clone();
    spawn_named("deploy-poll", move || loop {
        let running = crate::deploy::scan(&inv);
        let freeze = freeze_file
            .as_deref()
            .map(|f| crate::deploy::freeze::read(std::path::Path::new(f)));
        if t.send(Msg::Deploys(running)).is_err()
            || freeze.is_some_and(|f| t.send(Msg::Freeze(f)).is_err())
        {
            return;
        }
        std::thread::sleep(DEPLOY_POLL);
    });
    let inv = app.rb.inventory.clone();
    let t = tx.clone();
    spawn_named("gitea-poll", move || loop {
        let view = crate::deploy::gitea_view(&inv, Duration::from_secs(5));
        let again = !matches!(view, crate::deploy::GiteaView::NotConfigured);
        if t.send(Msg::Gitea(view)).is_err() || !again {
            return;
        }
        std::thread::sleep(GITEA_POLL);
    });
}

fn spawn_bus(world: &LiveWorld, tx: &Sender<Msg>) {
    // The event bus: a process exit shows at once (and triggers a fresh read).
    let home = world.home.clone();
    let t = tx.clone();
    spawn_named("bus", move || {
        let bus = EventSubscriber::spawn(&home, SubscriberOptions::default());
        let mut connected = true;
        while let Ok(m) = bus.receiver().recv() {
            // Say "closed" once per outage, not once per reconnect attempt, and say when it is
            // back (a new daemon after `pm2 resurrect`), so "bus closed" does not stay on screen.
            let was_connected = connected;
            match &m {
                BusMsg::Connected => connected = true,
                BusMsg::Disconnected { .. } if !connected => continue,
                BusMsg::Disconnected { .. } => connected = false,
                _ => {}
            }
            let msg = match m {
                BusMsg::Event(e) => match bus_event_msg(e) {
                    Some(msg) => msg,
                    None => continue,
                },
                BusMsg::Disconnected { reason } => Msg::Pm2Bus {
                    process: "PM2".into(),
                    event: "bus closed".into(),
                    detail: reason,
                },
                BusMsg::Connected if !was_connected => Msg::Pm2Bus {
                    process: "PM2".into(),
                    event: "bus reconnected".into(),
                    detail: String::new(),
                },
                _ => continue,
            };
            if t.send(msg).is_err() {
                return;
            }
        }
    });
}

/// One PM2 bus event as the app's message (summarised: no environment); `None` for events
/// the screen does not show. Shared by the local and the ssh-forwarded bus.
pub(crate) fn bus_event_msg(e: Pm2Event) -> Option<Msg> {
    match e {
        Pm2Event::Process(p) => Some(Msg::Pm2Bus {
            process: p.name.clone(),
            event: format!("{:?}", p.kind).to_lowercase(),
            detail: p.status.map(|s| s.as_str().to_string()).unwrap_or_default(),
        }),
        Pm2Event::Kill { msg } => Some(Msg::Pm2Bus {
            process: "PM2".into(),
            event: "kill".into(),
            detail: msg,
        }),
        _ => None,
    }
}

/// The environment commands run with.
struct CommandEnv {
    vars: Vec<(String, String)>,
    /// Only `vars`, nothing inherited (drills).
    clear: bool,
    /// Run on this server over ssh instead of here.
    remote: Option<crate::tui::remote_world::RemoteWorld>,
}

/// Wait `d` or until asked to refresh; true when the app is gone.
pub(crate) fn wait_or_refresh(rx: &Receiver<()>, d: Duration) -> bool {
    match rx.recv_timeout(d) {
        Ok(()) => {
            while rx.try_recv().is_ok() {}
            false
        }
        Err(RecvTimeoutError::Timeout) => false,
        Err(RecvTimeoutError::Disconnected) => true,
    }
}

fn run_command(
    cmd_id: u64,
    text: String,
    dir: String,
    env: &CommandEnv,
    tx: &Sender<Msg>,
) -> Option<CancelHandle> {
    // Defence in depth: the app only asks for guarded commands, and nothing
    // dangerous runs even if that were ever wrong.
    if classify(&text, &Default::default()).class == Class::Dangerous {
        let _ = tx.send(Msg::SpawnFailed {
            cmd_id,
            error: "refused by the guard".into(),
        });
        return None;
    }
    // Over ssh the directory is the server's: the local ssh runs where the responder is.
    let (text, local_dir) = match &env.remote {
        Some(rw) => (rw.wrap(&text, &dir), rw.local_dir.clone()),
        None => (text, PathBuf::from(&dir)),
    };
    let mut spec = ExecSpec::new(text, local_dir).timeout(COMMAND_TIMEOUT);
    spec.env = env.vars.clone();
    spec.clear_env = env.clear;
    let cancel = CancelHandle::new();
    let out = tx.clone();
    let strip_cr = env.remote.is_some();
    let sink = move |l: &runner::Line| {
        let stream = match l.stream {
            runner::Stream::Stdout => Stream::Stdout,
            runner::Stream::Stderr => Stream::Stderr,
        };
        let _ = out.send(Msg::Output {
            cmd_id,
            stream,
            // `ssh -tt` ends lines with CR LF.
            line: if strip_cr {
                l.text.trim_end_matches('\r').to_string()
            } else {
                l.text.clone()
            },
        });
    };
    match runner::spawn(spec, cancel.clone(), sink) {
        Ok(running) => {
            let t = tx.clone();
            spawn_named("cmd-wait", move || {
                let r = running.wait();
                let _ = t.send(Msg::Finished {
                    cmd_id,
                    exit_code: r.exit_code(),
                    signal: r.signal(),
                    duration_ms: r.duration.as_millis() as u64,
                    timed_out: r.timed_out,
                });
            });
            Some(cancel)
        }
        Err(e) => {
            let _ = tx.send(Msg::SpawnFailed {
                cmd_id,
                error: e.to_string(),
            });
            None
        }
    }
}

/// The journal on a thread of its own: each append syncs to disk (~0.5 ms), which
/// must not stall drawing. Failures come back as messages; the writer keeps
/// unwritten events queued and retries them with the next append.
struct JournalThread {
    tx: Sender<(crate::incident::event::Ts, Event)>,
    /// `None` only if the thread could not be started (then nothing is written, and the UI says so).
    handle: Option<std::thread::JoinHandle<()>>,
}

fn spawn_journal(mut writer: Writer, ui: Sender<Msg>) -> JournalThread {
    let (tx, rx) = mpsc::channel::<(crate::incident::event::Ts, Event)>();
    let handle = std::thread::Builder::new()
        .name("journal".into())
        .spawn(move || {
            let mut failing = false;
            while let Ok((ts, ev)) = rx.recv() {
                match writer.append(ts, ev) {
                    Ok(_) if failing => {
                        failing = false;
                        let _ = ui.send(Msg::JournalError(String::new()));
                    }
                    Ok(_) => {}
                    Err(e) => {
                        failing = true;
                        let _ = ui.send(Msg::JournalError(e.to_string()));
                    }
                }
            }
            // Last chance for anything still queued after a failure.
            let _ = writer.flush_pending();
        });
    JournalThread {
        tx,
        handle: handle.ok(),
    }
}

fn send_journal(app: &mut App, journal: &Option<JournalThread>) {
    let events = std::mem::take(&mut app.outbox);
    if let Some(j) = journal {
        for e in events {
            let _ = j.tx.send(e);
        }
    }
}

/// Run the app until it quits or a signal arrives; returns the exit code.
pub fn run<B: Backend>(
    terminal: &mut Terminal<B>,
    mut app: App,
    world: World,
    writer: Option<Writer>,
) -> i32 {
    let (tx, rx) = mpsc::channel::<Msg>();
    let journal = writer.map(|w| spawn_journal(w, tx.clone()));
    let mut world = world;
    if let World::Replay { progress } = &mut world {
        if let Some(rx) = progress.take() {
            spawn_index_forward(rx, tx.clone());
        }
    }
    let mut workers = spawn_workers(&app, &world, &tx);
    spawn_input(tx.clone());
    let app_env = command_env(&world);
    let mut last_draw = Instant::now() - FRAME;
    let mut next_tick = Instant::now() + Duration::from_secs(1);
    let mut exit_code = 0;
    crate::tui::terminal::set_catching(true);
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| loop {
        if let Some(code) = outside_events(terminal, &mut app, &workers) {
            exit_code = code;
        }
        if app.quit {
            app.flush_output();
            send_journal(&mut app, &journal);
            break;
        }
        // Short enough that a signal (TERM, HUP, TSTP) is acted on promptly.
        // Nothing waits while there is something to draw: the first frame is drawn at once.
        let wait = if app.dirty {
            FRAME.saturating_sub(last_draw.elapsed())
        } else {
            next_tick
                .saturating_duration_since(Instant::now())
                .min(Duration::from_millis(200))
        };
        let Some(msgs) = next_messages(&rx, wait, &mut next_tick) else {
            break;
        };
        for m in msgs {
            for effect in app.update(m, Utc::now()) {
                perform(effect, &mut workers, &app_env, &world, &tx);
            }
        }
        app.flush_output();
        send_journal(&mut app, &journal);
        if app.dirty && last_draw.elapsed() >= FRAME {
            if terminal.draw(|f| crate::ui::draw(f, &app)).is_err() {
                // The terminal is gone (dropped SSH without SIGHUP): keep the journal right.
                app.update(
                    Msg::Interrupted(InterruptCause::DroppedConnection),
                    Utc::now(),
                );
                continue;
            }
            app.drawn();
            last_draw = Instant::now();
        }
    }));
    crate::tui::terminal::set_catching(false);
    if caught.is_err() {
        journal_panic(&journal);
        exit_code = 101;
    }
    end_session(&workers, journal);
    exit_code
}

/// Waits up to `wait` for a message, then drains everything queued (and the second's tick
/// when due), so that the loop updates with all of it and draws once. `None`: every sender
/// is gone.
fn next_messages(rx: &Receiver<Msg>, wait: Duration, next_tick: &mut Instant) -> Option<Vec<Msg>> {
    let mut msgs = Vec::new();
    match rx.recv_timeout(wait) {
        Ok(m) => msgs.push(m),
        Err(RecvTimeoutError::Timeout) => {}
        Err(RecvTimeoutError::Disconnected) => return None,
    }
    while let Ok(m) = rx.try_recv() {
        msgs.push(m);
    }
    if Instant::now() >= *next_tick {
        msgs.push(Msg::Tick);
        *next_tick = Instant::now() + Duration::from_secs(1);
    }
    Some(msgs)
}

/// The loop's own thread panicked: `app` may be half-updated, so the event goes to the
/// journal directly.
fn journal_panic(journal: &Option<JournalThread>) {
    let message = crate::tui::terminal::take_panic().unwrap_or_else(|| "panic".into());
    if let Some(j) = journal {
        let _ = j.tx.send((
            Utc::now(),
            Event::Interrupted(Interrupted {
                reason: InterruptCause::Panic { message },
            }),
        ));
    }
}

/// Children end with the tool: their runner threads are told, and then every group still
/// alive gets TERM, and KILL after the grace period (the process may exit before a runner
/// thread wakes up to do it). Everything recorded reaches the disk before we return.
fn end_session(workers: &Workers, journal: Option<JournalThread>) {
    for c in workers.cancels.values() {
        c.cancel();
    }
    crate::exec::runner::end_all_groups(crate::tui::terminal::CHILD_GRACE);
    if let Some(j) = journal {
        drop(j.tx);
        if let Some(h) = j.handle {
            let _ = h.join();
        }
    }
}

/// What arrives from outside the message channel: a worker's panic, a stop (Ctrl-Z) and
/// continue, a terminating signal. Returns the exit code when the session must end.
fn outside_events<B: Backend>(
    terminal: &mut Terminal<B>,
    app: &mut App,
    workers: &Workers,
) -> Option<i32> {
    let mut exit_code = None;
    if let Some(message) = crate::tui::terminal::take_panic() {
        // A worker thread panicked: end the session the orderly way.
        app.update(
            Msg::Interrupted(InterruptCause::Panic { message }),
            Utc::now(),
        );
        exit_code = Some(101);
    }
    if crate::tui::terminal::take_stop() && crate::tui::terminal::suspend_until_continued().is_ok()
    {
        // Continued: the shell drew over the screen, so everything is redrawn.
        let _ = terminal.clear();
        app.update(Msg::Resize, Utc::now());
    }
    if let Some(sig) = crate::tui::terminal::take_signal() {
        let reason = if sig == libc::SIGHUP {
            InterruptCause::DroppedConnection
        } else {
            InterruptCause::Signal { signal: sig }
        };
        app.update(Msg::Interrupted(reason), Utc::now());
        for c in workers.cancels.values() {
            c.cancel();
        }
        exit_code = Some(128 + sig);
    }
    exit_code
}

/// Terminal input (keys, resizes) as messages, on its own thread.
fn spawn_input(input_tx: Sender<Msg>) {
    spawn_named("input", move || loop {
        match event::poll(Duration::from_secs(1)) {
            Ok(true) => {
                let msg = match event::read() {
                    Ok(TermEvent::Key(k)) if k.kind != KeyEventKind::Release => Msg::Key(k),
                    Ok(TermEvent::Resize(..)) => Msg::Resize,
                    Ok(_) => continue,
                    Err(_) => return,
                };
                if input_tx.send(msg).is_err() {
                    return;
                }
            }
            Ok(false) => {}
            Err(_) => return,
        }
    });
}

/// How commands run in this world: the live server's environment (or over ssh), or the drill's
/// scrubbed one.
fn command_env(world: &World) -> CommandEnv {
    match world {
        World::Live(l) => CommandEnv {
            vars: l.env.clone(),
            clear: false,
            remote: l.remote.clone(),
        },
        World::Drill(d) => CommandEnv {
            vars: d.env(),
            clear: true,
            remote: None,
        },
        World::Replay { .. } => CommandEnv {
            vars: vec![],
            clear: true,
            remote: None,
        },
    }
}

/// Carries out one effect `update` asked for: start or cancel a command, refresh, write to the
/// terminal or a file, post a webhook, keep evidence.
fn perform(
    effect: Effect,
    workers: &mut Workers,
    app_env: &CommandEnv,
    world: &World,
    tx: &Sender<Msg>,
) {
    match effect {
        Effect::Run { cmd_id, text, dir } => {
            if let Some(c) = run_command(cmd_id, text, dir, app_env, tx) {
                workers.cancels.insert(cmd_id, c);
            }
        }
        Effect::Cancel { cmd_id } => {
            if let Some(c) = workers.cancels.get(&cmd_id) {
                c.cancel();
            }
        }
        Effect::RefreshNow => {
            for r in [&workers.refresh_pm2, &workers.refresh_health]
                .into_iter()
                .flatten()
            {
                let _ = r.send(());
            }
        }
        Effect::Clipboard(seq) => {
            use std::io::Write;
            let mut out = std::io::stdout();
            let _ = out.write_all(seq.as_bytes()).and_then(|_| out.flush());
        }
        Effect::WriteFile { path, contents } => {
            let written = crate::journal::paths::create_private(std::path::Path::new(&path))
                .and_then(|mut f| std::io::Write::write_all(&mut f, contents.as_bytes()));
            if let Err(e) = written {
                let _ = tx.send(Msg::WriteFailed {
                    path,
                    error: e.to_string(),
                });
            }
        }
        Effect::PostWebhook {
            comm_id,
            subject,
            body,
        } => {
            // Off the UI thread: a slow webhook never freezes the screen.
            let t = tx.clone();
            std::thread::spawn(move || {
                let outcome = crate::comms::webhook::post_blocking(
                    &|k| std::env::var(k).ok(),
                    &subject,
                    &body,
                    crate::comms::webhook::DEFAULT_TIMEOUT,
                );
                let _ = t.send(Msg::WebhookPosted { comm_id, outcome });
            });
        }
        Effect::PreserveEvidence { dir } => {
            let home = match world {
                // Over ssh the traces are the server's (the local stand-in home holds only the
                // forwarded sockets): several remote reads, so off the loop's thread.
                World::Live(LiveWorld {
                    remote: Some(rw), ..
                }) => {
                    let (rw, t) = (rw.clone(), tx.clone());
                    spawn_named("evidence-ssh", move || {
                        let rec = crate::remote::evidence::preserve(
                            &rw.session,
                            &rw.pm2_home,
                            std::path::Path::new(&dir),
                        )
                        .map_err(|e| e.to_string());
                        let _ = t.send(Msg::Evidence(rec));
                    });
                    return;
                }
                World::Live(l) => Ok(l.home.clone()),
                World::Drill(d) => Pm2Home::new(&d.home).map_err(|e| e.to_string()),
                World::Replay { .. } => Err("replay: nothing to preserve".into()),
            };
            let rec = home.and_then(|h| {
                crate::evidence::preserve(&h, std::path::Path::new(&dir)).map_err(|e| e.to_string())
            });
            let _ = tx.send(Msg::Evidence(rec));
        }
        // `update` has already set `quit`; the loop ends at its next turn.
        Effect::Quit => {}
    }
}

/// Threads carry names (they show in `top -H` and debuggers).
fn spawn_named<F: FnOnce() + Send + 'static>(name: &str, f: F) {
    // Spawning only fails when the OS is out of threads; the worker is then missing
    // and the screen says so by never updating, which beats a crash mid-incident.
    let _ = std::thread::Builder::new().name(name.into()).spawn(f);
}
