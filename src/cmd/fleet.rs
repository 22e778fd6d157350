//! `pm2-incident fleet --host A --host B …`: one row per host (daemon, processes
//! online/expected, failing health, severity with its first reason), worst first.
//! On a terminal the table stays live: each host has its own ssh session and poller, re-read
//! on every PM2 process event from that host's forwarded event bus and at least every
//! `--interval`. `--once`, `--json` or a non-terminal stdout print one round and exit with the
//! worst host's severity code. `Enter` on a row runs `respond --host` for it in the same
//! terminal; quitting it returns to the table.
use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::cli::{Pm2SourceArgs, RunbookSource};
use super::remote::HostTarget;
use crate::assess::Level;
use crate::pm2::events::{BusMsg, EventSubscriber, Pm2Event, SubscriberOptions};
use crate::pm2::Pm2Home;
use crate::remote::fleet::{sort_worst_first, worst, FleetRow, HEADERS};
use crate::remote::{gather_remote, Dest, RemoteSnapshot, SavedCache, Session};
use crate::runbook::Runbook;

#[derive(clap::Args, Debug, Clone)]
pub struct FleetArgs {
    /// A server to watch over OpenSSH (user@host, host, an ~/.ssh/config alias); repeat.
    /// Without it, the inventory's `[[host]]` entries
    #[arg(long = "host", value_name = "DEST")]
    pub hosts: Vec<Dest>,
    /// Print one round as a table and exit (the default when stdout is not a terminal)
    #[arg(long)]
    pub once: bool,
    /// Print one round as a JSON array of rows, worst first, and exit
    #[arg(long)]
    pub json: bool,
    /// Re-read every host at least this often (seconds), besides on PM2 events
    #[arg(long, value_name = "SECS", default_value_t = 5)]
    pub interval: u64,
    #[command(flatten)]
    pub source: RunbookSource,
    #[command(flatten)]
    pub pm2: Pm2SourceArgs,
}

pub fn row_of(rb: &Runbook, host: &Dest, r: &RemoteSnapshot) -> FleetRow {
    let a = super::snapshot::assess_remote(rb, r);
    FleetRow::new(host.as_str(), &r.snapshot, &a)
}

/// The rows as an aligned text table (pure).
pub fn format_table(rows: &[FleetRow]) -> String {
    let cells: Vec<[String; 6]> = rows.iter().map(FleetRow::cells).collect();
    let mut w = HEADERS.map(|h| h.chars().count());
    for c in &cells {
        for (i, s) in c.iter().enumerate() {
            w[i] = w[i].max(s.chars().count());
        }
    }
    let line = |c: [&str; 6]| {
        let mut s = String::new();
        for (i, v) in c.iter().enumerate() {
            if i == 5 {
                s.push_str(v);
            } else {
                s.push_str(&format!("{v:<width$}  ", width = w[i]));
            }
        }
        s.trim_end().to_string() + "\n"
    };
    let mut out = line(HEADERS);
    for c in &cells {
        out.push_str(&line([&c[0], &c[1], &c[2], &c[3], &c[4], &c[5]]));
    }
    out
}

pub fn run(args: &FleetArgs) -> i32 {
    let rb = match crate::cmd::runbook::load(&args.source) {
        Ok(rb) => Arc::new(rb),
        Err(_) => return Level::Unknown.exit_code(),
    };
    if args.pm2.source == super::cli::Pm2SourceKind::Cli {
        eprintln!("pm2-incident: --pm2-source cli is not available with --host (it would start a daemon remotely)");
        return Level::Unknown.exit_code();
    }
    let Some(hosts) = super::remote::hosts(
        &args.hosts,
        args.pm2.pm2_home.as_deref(),
        rb,
        &args.source,
        "no hosts: pass --host DEST or list [[host]] in the inventory",
    ) else {
        return Level::Unknown.exit_code();
    };
    if args.once || args.json || !std::io::stdout().is_terminal() {
        return once(args, &hosts);
    }
    live(args, &hosts)
}

fn once(args: &FleetArgs, hosts: &[HostTarget]) -> i32 {
    let snaps = super::snapshot::snapshot_all(hosts, &args.pm2);
    let mut rows: Vec<FleetRow> = hosts
        .iter()
        .zip(&snaps)
        .map(|(t, r)| row_of(&t.rb, &t.dest, r))
        .collect();
    sort_worst_first(&mut rows);
    if args.json {
        match serde_json::to_string_pretty(&rows) {
            Ok(s) => println!("{}", crate::sanitize::escape_json_output(&s)),
            Err(e) => eprintln!("pm2-incident: cannot write JSON: {e}"),
        }
    } else {
        print!("{}", format_table(&rows));
    }
    worst(rows.iter().map(|r| r.level)).exit_code()
}

/// One host's latest state, from its poller.
struct Update {
    index: usize,
    row: FleetRow,
    link_up: bool,
}

/// Keeps one host's session and re-reads it on PM2 process events or every `interval`.
struct HostPoll {
    index: usize,
    target: HostTarget,
    pm2: Pm2SourceArgs,
    interval: Duration,
    tx: Sender<Update>,
    stop: Arc<AtomicBool>,
}

fn poll_host(p: HostPoll) {
    let HostPoll {
        index,
        target,
        pm2,
        interval,
        tx,
        stop,
    } = p;
    let (rb, dest) = (&target.rb, &target.dest);
    let mut session: Option<Session> = None;
    let mut bus: Option<EventSubscriber> = None;
    let mut saved = SavedCache::default();
    while !stop.load(Ordering::SeqCst) {
        if session.is_none() {
            match super::remote::connect(dest, pm2.timeout_ms) {
                Ok(s) => session = Some(s),
                Err(e) => {
                    let row = row_of(rb, dest, &super::snapshot::unreachable_host(e));
                    if tx
                        .send(Update {
                            index,
                            row,
                            link_up: false,
                        })
                        .is_err()
                    {
                        return;
                    }
                }
            }
        }
        if let Some(s) = &session {
            let checker = target.checker.as_ref().as_ref().map_err(String::as_str);
            let snap = gather_remote(
                rb,
                s,
                target.home.as_deref(),
                pm2.timeout_ms,
                checker,
                &mut saved,
            );
            let link_up = snap.reached;
            let row = row_of(rb, dest, &snap);
            if tx
                .send(Update {
                    index,
                    row,
                    link_up,
                })
                .is_err()
            {
                break;
            }
            if bus.is_none() {
                if let Ok(home) = Pm2Home::new(s.runtime_dir().join("pm2")) {
                    bus = Some(EventSubscriber::spawn(&home, SubscriberOptions::default()));
                }
            }
        }
        wait_for_change(bus.as_ref(), interval, &stop);
    }
    drop(bus);
    if let Some(s) = session {
        s.close();
    }
}

/// Until a process event arrives, `interval` passes or we are asked to stop.
fn wait_for_change(bus: Option<&EventSubscriber>, interval: Duration, stop: &AtomicBool) {
    let deadline = Instant::now() + interval;
    while Instant::now() < deadline && !stop.load(Ordering::SeqCst) {
        let step = Duration::from_millis(200);
        match bus {
            Some(b) => {
                if let Some(BusMsg::Event(Pm2Event::Process(_) | Pm2Event::Kill { .. })) =
                    b.recv_timeout(step)
                {
                    return;
                }
            }
            None => std::thread::sleep(step),
        }
    }
}

fn live(args: &FleetArgs, hosts: &[HostTarget]) -> i32 {
    use ratatui::crossterm::event::{self, Event, KeyCode, KeyEventKind};
    let stop = Arc::new(AtomicBool::new(false));
    let (rx, threads) = spawn_polls(args, hosts, &stop);
    let mut latest: Vec<Option<(FleetRow, bool)>> = vec![None; hosts.len()];
    let mut view = crate::ui::fleet::FleetView {
        color: std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
        ..Default::default()
    };
    crate::tui::terminal::catch_signals();
    let mut term = match crate::tui::terminal::enter() {
        Ok(t) => t,
        Err(e) => {
            eprintln!("pm2-incident: cannot open the terminal: {e}");
            stop.store(true, Ordering::SeqCst);
            return Level::Unknown.exit_code();
        }
    };
    loop {
        while let Ok(u) = rx.try_recv() {
            latest[u.index] = Some((u.row, u.link_up));
            view.updated = chrono::Utc::now().format("%H:%M:%S").to_string();
        }
        refresh_view(&mut view, &latest);
        let _ = term.draw(|f| crate::ui::fleet::draw_fleet(f, &view));
        if crate::tui::terminal::take_signal().is_some() {
            break;
        }
        let Ok(true) = event::poll(Duration::from_millis(250)) else {
            continue;
        };
        let Ok(Event::Key(k)) = event::read() else {
            continue;
        };
        if k.kind != KeyEventKind::Press {
            continue;
        }
        match k.code {
            KeyCode::Char('q') | KeyCode::Esc => break,
            KeyCode::Char('j') | KeyCode::Down => view.selected += 1,
            KeyCode::Char('k') | KeyCode::Up => view.selected = view.selected.saturating_sub(1),
            KeyCode::Enter => {
                let Some(row) = view.rows.get(view.selected) else {
                    continue;
                };
                let Some(t) = hosts.iter().find(|t| t.dest.as_str() == row.host) else {
                    continue;
                };
                // `respond` takes the terminal; its `q` comes back here.
                crate::tui::terminal::restore();
                respond_on(args, t);
                term = match crate::tui::terminal::enter() {
                    Ok(t) => t,
                    Err(_) => break,
                };
                let _ = term.clear();
            }
            _ => {}
        }
    }
    crate::tui::terminal::restore();
    stop.store(true, Ordering::SeqCst);
    for t in threads {
        let _ = t.join();
    }
    worst(latest.iter().flatten().map(|(r, _)| r.level)).exit_code()
}

/// One polling thread per host, each sending its row (and whether its link is up) every
/// `--interval` until `stop`.
fn spawn_polls(
    args: &FleetArgs,
    hosts: &[HostTarget],
    stop: &Arc<AtomicBool>,
) -> (Receiver<Update>, Vec<std::thread::JoinHandle<()>>) {
    let (tx, rx): (Sender<Update>, Receiver<Update>) = mpsc::channel();
    let interval = Duration::from_secs(args.interval.max(1));
    let threads = hosts
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let p = HostPoll {
                index: i,
                target: t.clone(),
                pm2: args.pm2.clone(),
                interval,
                tx: tx.clone(),
                stop: stop.clone(),
            };
            std::thread::spawn(move || poll_host(p))
        })
        .collect();
    (rx, threads)
}

/// The rows worst first, the hosts whose link is down, the selection kept on the list.
fn refresh_view(view: &mut crate::ui::fleet::FleetView, latest: &[Option<(FleetRow, bool)>]) {
    let mut rows: Vec<FleetRow> = latest.iter().flatten().map(|(r, _)| r.clone()).collect();
    sort_worst_first(&mut rows);
    view.disconnected = latest
        .iter()
        .flatten()
        .filter(|(_, up)| !up)
        .map(|(r, _)| r.host.clone())
        .collect();
    view.selected = view.selected.min(rows.len().saturating_sub(1));
    view.rows = rows;
}

/// `respond` on one host of the fleet, with the host's own inventory when it has one.
fn respond_on(args: &FleetArgs, t: &HostTarget) {
    let source = RunbookSource {
        runbook: args.source.runbook.clone(),
        inventory: t.inventory.clone().or(args.source.inventory.clone()),
    };
    let _ = super::respond::run(&super::respond::RespondArgs {
        source,
        journal: None,
        resume: None,
        pm2_home: t.home.clone(),
        host: Some(t.dest.clone()),
        commander: None,
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pm2::DaemonKind;

    #[test]
    fn table_is_aligned_and_keeps_unknowns_visible() {
        let rows = vec![
            FleetRow {
                host: "db-1".into(),
                daemon: DaemonKind::Died,
                daemon_detail: String::new(),
                online: Some(0),
                expected: 7,
                failing_health: 5,
                health_checked: 5,
                level: Level::P1,
                reason: "PM2 daemon died".into(),
            },
            FleetRow {
                host: "web-long-name".into(),
                daemon: DaemonKind::Error,
                daemon_detail: String::new(),
                online: None,
                expected: 7,
                failing_health: 0,
                health_checked: 0,
                level: Level::Unknown,
                reason: "cannot tell".into(),
            },
        ];
        let t = format_table(&rows);
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(lines.len(), 3);
        assert!(lines[0].starts_with("HOST           SEVERITY"), "{t}");
        assert!(lines[1].starts_with("db-1           P1"), "{t}");
        assert!(
            lines[1].contains("0/7") && lines[1].contains("5 failing/5"),
            "{t}"
        );
        assert!(
            lines[2].contains("?/7") && lines[2].contains("not checked"),
            "{t}"
        );
        let col = lines[0].find("FIRST REASON").unwrap();
        assert_eq!(&lines[1][col..], "PM2 daemon died");
    }
}
