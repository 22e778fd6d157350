//! `pm2-incident pm2`: show the daemon state and the process list (read-only), or follow the
//! event bus with `--watch`. Exit 0 when a listing was read, 1 when PM2 could not be read.
use super::cli::Pm2SourceArgs;
use crate::pm2::events::{BusMsg, EventSubscriber, LogStream, Pm2Event, SubscriberOptions};
use crate::pm2::model::Process;
use crate::pm2::source::observe;
use std::fmt::Write as _;
use std::time::Duration;

#[derive(clap::Args, Debug, Clone)]
pub struct Pm2Args {
    #[command(flatten)]
    pub source: Pm2SourceArgs,
    /// Print the observation as JSON (allow-listed fields only; never environment variables)
    #[arg(long)]
    pub json: bool,
    /// After the listing, follow pub.sock events and logs until interrupted
    #[arg(long)]
    pub watch: bool,
    /// Read this server over OpenSSH (its rpc.sock and pub.sock forwarded here; nothing
    /// installed or started there)
    #[arg(long = "host", value_name = "DEST")]
    pub host: Option<crate::remote::Dest>,
}

fn human_ms(ms: i64) -> String {
    let s = ms.max(0) / 1000;
    match s {
        0..=59 => format!("{s}s"),
        60..=3599 => format!("{}m", s / 60),
        3600..=86_399 => format!("{}h", s / 3600),
        _ => format!("{}d", s / 86_400),
    }
}

/// A `pm2 list`-like table (pure; `now_ms` injected for uptime).
pub fn format_table(procs: &[Process], now_ms: i64) -> String {
    let w = procs.iter().map(|p| p.name.len()).max().unwrap_or(4).max(4);
    let mut out = format!(
        "{:>3}  {:<w$}  {:<8}  {:<15}  {:>7}  {:>3}  {:>6}  {:>5}  {:>8}\n",
        "id", "name", "mode", "status", "pid", "↺", "uptime", "cpu", "mem"
    );
    for p in procs {
        let mode = match p.exec_mode.as_ref().map(|m| m.as_str()) {
            Some("cluster_mode") => "cluster",
            Some("fork_mode") => "fork",
            Some(other) => other,
            None => "-",
        };
        let uptime = match (p.status.as_str(), p.uptime_since_ms) {
            ("online", Some(t)) => human_ms(now_ms - t),
            _ => "0".into(),
        };
        let _ = writeln!(
            out,
            "{:>3}  {:<w$}  {:<8}  {:<15}  {:>7}  {:>3}  {:>6}  {:>5}  {:>8}",
            p.pm_id,
            p.name,
            mode,
            p.status.as_str(),
            p.pid.map_or("-".into(), |p| p.to_string()),
            p.restarts,
            uptime,
            p.cpu_percent.map_or("-".into(), |c| format!("{c:.0}%")),
            p.memory_bytes
                .map_or("-".into(), |m| format!("{:.1}mb", m as f64 / 1_048_576.0)),
        );
    }
    out
}

/// One line per bus message (pure).
pub fn format_bus(msg: &BusMsg) -> String {
    match msg {
        BusMsg::Connected => "bus: connected".into(),
        BusMsg::Disconnected { reason } => format!("bus: disconnected ({reason})"),
        BusMsg::BadMessage(e) => format!("bus: undecodable message ({e})"),
        BusMsg::Event(Pm2Event::Process(e)) => format!(
            "event: {:?} {} (id {}, status {}, restarts {}){}",
            e.kind,
            e.name,
            e.pm_id.map_or("-".into(), |i| i.to_string()),
            e.status.as_ref().map_or("-", |s| s.as_str()),
            e.restarts.map_or("-".into(), |r| r.to_string()),
            if e.manually { " manually" } else { "" }
        ),
        BusMsg::Event(Pm2Event::Log(l)) => {
            let tag = match l.stream {
                LogStream::Out => "out",
                LogStream::Err => "err",
                LogStream::Pm2 => "PM2",
            };
            format!("log:{tag} {}: {}", l.name, l.data.trim_end())
        }
        BusMsg::Event(Pm2Event::Kill { msg }) => format!("pm2:kill {msg}"),
        BusMsg::Event(Pm2Event::Other { topic }) => format!("event: {topic}"),
    }
}

fn print_reading(args: &Pm2Args, obs: &crate::pm2::Reading) -> i32 {
    for w in &obs.warnings {
        eprintln!("{w}");
    }
    if args.json {
        match serde_json::to_string_pretty(&obs) {
            Ok(s) => println!("{s}"),
            Err(e) => eprintln!("cannot encode observation: {e}"),
        }
    } else {
        println!("PM2 daemon: {}", obs.daemon);
        if let Some(p) = &obs.processes {
            print!("{}", format_table(p, chrono::Utc::now().timestamp_millis()));
        }
        if let Some(e) = &obs.error {
            eprintln!("error: {e}");
        }
    }
    if obs.processes.is_some() {
        0
    } else {
        1
    }
}

fn follow(home: &crate::pm2::Pm2Home) {
    let sub = EventSubscriber::spawn(home, SubscriberOptions::default());
    while let Some(m) = sub.recv_timeout(Duration::from_secs(3600)) {
        println!("{}", format_bus(&m));
    }
}

/// `pm2 --host`: the same listing through an ssh session; `--watch` follows the forwarded
/// pub.sock with the same subscriber.
fn run_remote(args: &Pm2Args, dest: &crate::remote::Dest) -> i32 {
    if args.source.source == super::cli::Pm2SourceKind::Cli {
        eprintln!("error: --pm2-source cli is not available with --host (it would start a daemon remotely)");
        return 2;
    }
    let session = match super::remote::connect(dest, args.source.timeout_ms) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return 1;
        }
    };
    let r = crate::remote::observe_remote(
        &session,
        args.source.pm2_home.as_deref(),
        args.source.timeout_ms,
    );
    if !args.json {
        println!("Host: {}", crate::sanitize::escape_line(dest.as_str()));
    }
    let code = print_reading(args, &r.reading);
    if args.watch {
        let Some(home) = &r.local_home else {
            return 2;
        };
        // Ctrl-C / SIGTERM / SIGHUP end the watch here so the master, the forwarded sockets
        // and the runtime dir are removed (not left for ControlPersist to time out).
        crate::tui::terminal::catch_signals();
        let sub = EventSubscriber::spawn(home, SubscriberOptions::default());
        while crate::tui::terminal::take_signal().is_none() {
            if let Some(m) = sub.recv_timeout(Duration::from_millis(200)) {
                println!("{}", format_bus(&m));
            }
        }
    }
    session.close();
    code
}

pub fn run(args: &Pm2Args) -> i32 {
    if let Some(dest) = &args.host {
        return run_remote(args, dest);
    }
    let source = args.source.to_source();
    let obs = observe(&source);
    let code = print_reading(args, &obs);
    if args.watch {
        let home = match source.home() {
            Ok(h) => h,
            Err(e) => {
                eprintln!("error: {e}");
                return 2;
            }
        };
        follow(&home);
    }
    code
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pm2::parse_process_list;

    #[test]
    fn table_shows_status_restarts_and_uptime() {
        let l = parse_process_list(
            br#"[{"pid":7,"name":"flyer-crawler-api","pm_id":0,"monit":{"cpu":1,"memory":1048576},
            "pm2_env":{"status":"online","exec_mode":"cluster_mode","restart_time":15,"pm_uptime":1000}},
            {"name":"w","pm_id":1,"pm2_env":{"status":"errored","exec_mode":"fork_mode"}}]"#,
        )
        .unwrap();
        let t = format_table(&l, 1000 + 125_000);
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(lines.len(), 3);
        assert!(lines[1].contains("flyer-crawler-api") && lines[1].contains("cluster"));
        assert!(lines[1].contains(" 15 ") && lines[1].contains("2m") && lines[1].contains("1.0mb"));
        assert!(lines[2].contains("errored") && lines[2].contains(" - "));
    }

    #[test]
    fn bus_lines() {
        assert_eq!(
            format_bus(&BusMsg::Event(Pm2Event::Kill { msg: "bye".into() })),
            "pm2:kill bye"
        );
        assert_eq!(
            format_bus(&BusMsg::Disconnected {
                reason: "eof".into()
            }),
            "bus: disconnected (eof)"
        );
    }
}
