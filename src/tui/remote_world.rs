//! The live world on a remote host (`respond --host`): the same messages as the local live
//! world, read through an ssh [`Session`] — PM2 through the forwarded sockets, `local_url`
//! health through TCP forwards, the event bus on the forwarded `pub.sock` — and commands run
//! on the server with `ssh -tt` (a cancel kills the local ssh, whose pty hangup ends the
//! remote process group).
use std::path::PathBuf;
use std::sync::mpsc::{self, Sender};
use std::sync::Arc;
use std::time::Duration;

use crate::app::Msg;
use crate::health::HealthChecker;
use crate::pm2::{BusMsg, EventSubscriber, Pm2Home, SubscriberOptions};
use crate::remote::observe::{observe_remote_cached, SavedCache};
use crate::remote::Session;
use crate::runbook::vars::shell_quote;
use crate::runbook::HealthTarget;

/// A remote server reached over ssh.
#[derive(Clone)]
pub struct RemoteWorld {
    pub session: Arc<Session>,
    /// The remote PM2_HOME (absolute, as discovered or given): commands get it exported so
    /// `pm2` there acts on the daemon the screen shows.
    pub pm2_home: PathBuf,
    /// Where the login starts on the server: the directory of commands that name none.
    pub login_dir: String,
    /// Where the local ssh runs (the responder's directory; the remote one may not exist here).
    pub local_dir: PathBuf,
    pub timeout_ms: u64,
}

impl RemoteWorld {
    /// The local shell line that runs `text` on the server in `dir` (what the runner spawns;
    /// the responder saw and confirmed `text` there, and the journal records `text` and
    /// `dir`). A directory that does not exist there fails the command before it runs.
    pub fn wrap(&self, text: &str, dir: &str) -> String {
        let remote = remote_command(text, dir, &self.pm2_home.to_string_lossy());
        let cmd = self.session.exec_command(&remote);
        std::iter::once(cmd.get_program())
            .chain(cmd.get_args())
            .map(|a| shell_quote(&a.to_string_lossy()))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// What the server's login shell runs: `sh` moves to `dir` (stopping there if it cannot) and
/// runs `text` with `PM2_HOME` exported. Pure; every value quoted for the shell.
pub fn remote_command(text: &str, dir: &str, pm2_home: &str) -> String {
    format!(
        "exec sh -c {}",
        shell_quote(&format!(
            "cd -- {} || exit 1\nexport PM2_HOME={}\n{text}",
            shell_quote(dir),
            shell_quote(pm2_home)
        ))
    )
}

fn spawn_named<F: FnOnce() + Send + 'static>(name: &str, f: F) {
    let _ = std::thread::Builder::new().name(name.into()).spawn(f);
}

/// What one reading says about the ssh link: its state for the header, and a bus line (which
/// is journaled) when it went down, came back, or was lost and regained between two readings.
fn link_news(
    link_up: &mut bool,
    up: bool,
    reconnected: bool,
    error: Option<&str>,
    dest: &str,
) -> Vec<Msg> {
    let bus = |event: &str| Msg::Pm2Bus {
        process: "ssh".into(),
        event: event.into(),
        detail: dest.to_string(),
    };
    let mut news = vec![Msg::Link {
        up,
        detail: if up {
            String::new()
        } else {
            error.unwrap_or_default().to_string()
        },
    }];
    if up && reconnected && *link_up {
        news.push(bus("link lost, reconnected"));
    }
    if up != *link_up {
        *link_up = up;
        news.push(bus(if up { "reconnected" } else { "link down" }));
    }
    news
}

/// Start the pollers; returns the refresh senders (PM2, health).
pub fn spawn(
    rw: &RemoteWorld,
    targets: Vec<HealthTarget>,
    checker: Result<HealthChecker, crate::health::CheckerError>,
    pm2_every: Duration,
    health_every: Duration,
    tx: &Sender<Msg>,
) -> (Sender<()>, Sender<()>) {
    let (refresh_pm2, pm2_rx) = mpsc::channel::<()>();
    let (t, w) = (tx.clone(), rw.clone());
    spawn_named("pm2-poll-ssh", move || {
        let mut link_up = true;
        let mut saved = SavedCache::default();
        loop {
            let r = observe_remote_cached(&w.session, Some(&w.pm2_home), w.timeout_ms, &mut saved);
            // A dropped link shows as a bus line once (journaled), in the header while it
            // lasts, and the reading says why PM2 is unknown.
            let up = r.facts.is_some();
            let news = link_news(
                &mut link_up,
                up,
                r.reconnected,
                r.reading.error.as_deref(),
                &w.session.dest().to_string(),
            );
            for m in news {
                if t.send(m).is_err() {
                    return;
                }
            }
            // The saved list and (daemon down) the Node processes, as the local poller sends
            // them: the PM2 pane's saved-list line and the dead-daemon plan and guard.
            let extra = r
                .saved
                .map(Msg::Saved)
                .into_iter()
                .chain(up.then_some(Msg::NodeProcesses(r.nodes)));
            for m in std::iter::once(Msg::Pm2(r.reading)).chain(extra) {
                if t.send(m).is_err() {
                    return;
                }
            }
            if super::runtime::wait_or_refresh(&pm2_rx, pm2_every) {
                return;
            }
        }
    });

    let (refresh_health, health_rx) = mpsc::channel::<()>();
    let (t, w) = (tx.clone(), rw.clone());
    spawn_named("health-ssh", move || {
        let Ok(checker) = checker else { return };
        loop {
            let results = crate::remote::health::check_remote(&w.session, &checker, &targets);
            if t.send(Msg::Health(results)).is_err() {
                return;
            }
            if super::runtime::wait_or_refresh(&health_rx, health_every) {
                return;
            }
        }
    });

    let (t, w) = (tx.clone(), rw.clone());
    spawn_named("bus-ssh", move || {
        let Ok(home) = Pm2Home::new(w.session.runtime_dir().join("pm2")) else {
            return;
        };
        let bus = EventSubscriber::spawn(&home, SubscriberOptions::default());
        while let Ok(m) = bus.receiver().recv() {
            // Through a forward every reconnect attempt "connects"; the link state is
            // reported by the PM2 poller instead.
            let BusMsg::Event(e) = m else { continue };
            let Some(msg) = super::runtime::bus_event_msg(e) else {
                continue;
            };
            if t.send(msg).is_err() {
                return;
            }
        }
    });
    (refresh_pm2, refresh_health)
}

#[cfg(test)]
mod tests {
    use super::{link_news, remote_command, Msg};
    use std::process::Command;

    fn run(line: &str) -> std::process::Output {
        // The server's login shell gets the remote command as one string.
        Command::new("sh").args(["-c", line]).output().unwrap()
    }

    #[test]
    fn commands_run_in_their_directory_with_the_home_exported() {
        let d = tempfile::tempdir().unwrap();
        let dir = d.path().join("it's a \"dir\" $HOME");
        std::fs::create_dir(&dir).unwrap();
        let out = run(&remote_command(
            "pwd; echo \"$PM2_HOME\"",
            &dir.to_string_lossy(),
            "/srv/pm2 home",
        ));
        assert!(out.status.success());
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            format!("{}\n/srv/pm2 home\n", dir.display())
        );
    }

    #[test]
    fn a_missing_directory_stops_the_command_before_it_runs() {
        let d = tempfile::tempdir().unwrap();
        let marker = d.path().join("ran");
        let out = run(&remote_command(
            &format!("touch {}", marker.display()),
            "/nonexistent/dir",
            "/h",
        ));
        assert_eq!(out.status.code(), Some(1));
        assert!(!marker.exists());
        assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/dir"));
    }

    fn events(news: &[Msg]) -> Vec<String> {
        news.iter()
            .filter_map(|m| match m {
                Msg::Pm2Bus { event, .. } => Some(event.clone()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn the_link_says_down_once_back_once_and_a_blip_between_readings() {
        let mut up = true;
        let steady = link_news(&mut up, true, false, None, "h");
        assert!(matches!(steady.as_slice(), [Msg::Link { up: true, .. }]));
        let down = link_news(&mut up, false, false, Some("timed out"), "h");
        assert_eq!(events(&down), ["link down"]);
        assert!(
            matches!(&down[0], Msg::Link { up: false, detail } if detail == "timed out"),
            "the header says why"
        );
        assert!(!up);
        assert!(events(&link_news(&mut up, false, false, Some("x"), "h")).is_empty());
        assert_eq!(
            events(&link_news(&mut up, true, true, None, "h")),
            ["reconnected"]
        );
        assert_eq!(
            events(&link_news(&mut up, true, true, None, "h")),
            ["link lost, reconnected"]
        );
    }
}
