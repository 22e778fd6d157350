//! Injecting one fault into the sandbox's PM2 for real: the `pm2` CLI against its home
//! only, crash programs in the stand-ins' flag files, SIGKILL to a pid that this home's
//! environment names. Before the drill each fault is waited for until it shows; during the
//! drill nothing waits, and nothing starts a daemon the responder did not start.
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::plan::{CrashProgram, Step};
use crate::pm2::{DaemonState, Pm2Home, ProcessStatus};

/// How long a fault of the past may take to show (a loaded machine runs PM2 slowly).
const SHOW_TIMEOUT: Duration = Duration::from_secs(120);

/// Whether a fault is replayed before the drill or happens during it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Before,
    During,
}

/// The sandbox's paths, for the drill's thread and the clock's.
#[derive(Debug, Clone)]
pub struct Handle {
    pub dir: PathBuf,
    pub home: PathBuf,
    pub pm2: PathBuf,
}

impl Handle {
    pub fn env(&self) -> Vec<(String, String)> {
        let path = std::env::var("PATH").unwrap_or_default();
        vec![
            ("PM2_HOME".into(), self.home.display().to_string()),
            (
                "PATH".into(),
                format!("{}:{path}", self.dir.join("bin").display()),
            ),
        ]
    }

    fn command(&self, args: &[&str], cwd: &Path) -> Command {
        let mut c = Command::new(&self.pm2);
        c.args(args)
            .current_dir(cwd)
            .stdin(Stdio::null())
            .stderr(Stdio::null());
        for (k, v) in self.env() {
            c.env(k, v);
        }
        c
    }

    /// Run `pm2 ARGS` in `cwd`; output is dropped (it can carry env).
    pub fn pm2(&self, args: &[&str], cwd: &Path) -> io::Result<bool> {
        Ok(self
            .command(args, cwd)
            .stdout(Stdio::null())
            .status()?
            .success())
    }

    /// PM2's own list (allow-listed fields only).
    pub fn jlist(&self) -> io::Result<Vec<crate::pm2::Process>> {
        let out = self.command(&["jlist"], &self.dir).output()?;
        crate::pm2::parse_process_list(&out.stdout).map_err(|e| io::Error::other(e.to_string()))
    }

    /// Whether the daemon answers on its socket (read without starting one).
    fn daemon_up(&self) -> bool {
        Pm2Home::new(&self.home)
            .map(|h| matches!(crate::pm2::probe_daemon(&h), DaemonState::Up { .. }))
            .unwrap_or(false)
    }

    /// The daemon's pid from `pm2.pid`, if that process runs in this home.
    fn daemon_pid(&self) -> Option<u32> {
        let pid = crate::pm2::read_pid_file(&self.home.join("pm2.pid"))?;
        super::processes_of_home(&self.home)
            .contains(&pid)
            .then_some(pid)
    }

    pub fn apply(&self, step: &Step, phase: Phase) -> io::Result<()> {
        // During the drill a `pm2` command would start a daemon the responder has not.
        let cli_ok = phase == Phase::Before || self.daemon_up();
        match step {
            Step::Delete(t) | Step::Stop(t) if cli_ok => {
                let verb = if matches!(step, Step::Delete(_)) {
                    "delete"
                } else {
                    "stop"
                };
                for n in t {
                    self.pm2(&[verb, n], &self.dir)?;
                }
            }
            Step::Loop { targets, program } => {
                let text = serde_json::to_string(program).map_err(io::Error::other)?;
                for n in targets {
                    std::fs::write(self.dir.join("crash").join(n), &text)?;
                }
                // The fault arrives: each running instance dies the programmed way (one
                // not running crashes when it is next started).
                let ours = super::processes_of_home(&self.home);
                for pid in self.pids_of(targets) {
                    if ours.contains(&pid) {
                        // SAFETY: a signal to an app pid, checked to carry this home.
                        unsafe { libc::kill(pid as i32, libc::SIGURG) };
                    }
                }
                if phase == Phase::Before {
                    self.wait_loop(targets, program)?;
                }
            }
            Step::KillDaemon => {
                let Some(pid) = self.daemon_pid() else {
                    return match phase {
                        Phase::Before => Err(io::Error::other(
                            "no live PM2 daemon in the sandbox to kill (pm2.pid)",
                        )),
                        Phase::During => Ok(()),
                    };
                };
                // SAFETY: a signal to the daemon's pid, checked to carry this home.
                unsafe { libc::kill(pid as i32, libc::SIGKILL) };
                if phase == Phase::Before {
                    self.wait_daemon_gone(pid)?;
                }
            }
            Step::Delete(_) | Step::Stop(_) => {}
        }
        Ok(())
    }

    /// Pids of the running instances of `names`, read from the daemon's socket (never
    /// starting one).
    fn pids_of(&self, names: &[String]) -> Vec<u32> {
        let reading = crate::pm2::observe(&crate::pm2::SourceArgs {
            pm2_home: Some(self.home.clone()),
            timeout_ms: 10_000,
            ..Default::default()
        });
        reading
            .processes
            .unwrap_or_default()
            .iter()
            .filter(|p| names.contains(&p.name))
            .filter_map(|p| p.pid)
            .collect()
    }

    /// Until PM2 shows the loop as it stood at the drill's start: given up (`errored`), or
    /// every instance past the crashes that fell before the start. A target PM2 does not
    /// list has nothing to show (it crashes when someone starts it).
    fn wait_loop(&self, targets: &[String], p: &CrashProgram) -> io::Result<()> {
        let until = Instant::now() + SHOW_TIMEOUT;
        loop {
            let list = self.jlist()?;
            let done = list.iter().filter(|x| targets.contains(&x.name)).all(|x| {
                x.status == ProcessStatus::Errored
                    || (!p.errored_by_start() && x.unstable_restarts >= u64::from(p.fast))
            });
            if done {
                return Ok(());
            }
            if Instant::now() > until {
                return Err(io::Error::other(format!(
                    "the crash loop of {} did not show in PM2 within {}s",
                    targets.join(", "),
                    SHOW_TIMEOUT.as_secs()
                )));
            }
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    /// Until the killed daemon's pid is gone and its apps ended (they exit when their IPC
    /// channel to it closes, about 2 s on PM2 7): the drill starts on the fault's outcome,
    /// not on its first instant. Apps that outlive it (another PM2) are left as orphans.
    fn wait_daemon_gone(&self, pid: u32) -> io::Result<()> {
        let until = Instant::now() + SHOW_TIMEOUT;
        while super::processes_of_home(&self.home).contains(&pid) {
            if Instant::now() > until {
                return Err(io::Error::other(format!(
                    "the sandbox daemon (pid {pid}) survived SIGKILL"
                )));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let orphans_until = Instant::now() + Duration::from_secs(30);
        while !super::processes_of_home(&self.home).is_empty() && Instant::now() < orphans_until {
            std::thread::sleep(Duration::from_millis(100));
        }
        Ok(())
    }
}
