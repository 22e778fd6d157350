//! Drive the real binary in a detached tmux session: type keys, read the screen,
//! poll for text (never fixed sleeps).
#![allow(dead_code)]

use std::process::Command;
use std::time::{Duration, Instant};

pub struct Tmux {
    pub name: String,
}

impl Tmux {
    /// Start `shell_cmd` in a new detached session of the given size.
    pub fn start(tag: &str, w: u16, h: u16, shell_cmd: &str) -> Tmux {
        // Unique per call: a test may start the same tag twice, and tmux ends a killed
        // session asynchronously with respect to a new one of the same name.
        static STARTED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = STARTED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let name = format!("p2i-{tag}-{}-{n}", std::process::id());
        // The tmux server exits with its last session; a session started while it shuts
        // down fails, and a fresh server then takes it: try again a few times.
        let mut last_err = String::new();
        for _ in 0..10 {
            let out = Command::new("tmux")
                .args([
                    "new-session",
                    "-d",
                    "-s",
                    &name,
                    "-x",
                    &w.to_string(),
                    "-y",
                    &h.to_string(),
                    shell_cmd,
                ])
                .output()
                .expect("tmux runs");
            if out.status.success() {
                return Tmux { name };
            }
            last_err = String::from_utf8_lossy(&out.stderr).into_owned();
            std::thread::sleep(Duration::from_millis(200));
        }
        panic!("tmux new-session failed 10 times: {last_err}");
    }

    pub fn keys(&self, keys: &[&str]) {
        let st = Command::new("tmux")
            .args(["send-keys", "-t", &self.name])
            .args(keys)
            .status()
            .expect("tmux send-keys");
        assert!(st.success());
    }

    /// Literal text (no key names).
    pub fn type_text(&self, text: &str) {
        let st = Command::new("tmux")
            .args(["send-keys", "-t", &self.name, "-l", text])
            .status()
            .expect("tmux send-keys");
        assert!(st.success());
    }

    pub fn screen(&self) -> String {
        let out = Command::new("tmux")
            .args(["capture-pane", "-p", "-t", &self.name])
            .output()
            .expect("tmux capture-pane");
        String::from_utf8_lossy(&out.stdout).to_string()
    }

    /// Wait until `pred(screen)` holds; returns the screen and how long it took.
    pub fn wait_for(
        &self,
        what: &str,
        timeout: Duration,
        pred: impl Fn(&str) -> bool,
    ) -> (String, Duration) {
        let start = Instant::now();
        loop {
            let s = self.screen();
            if pred(&s) {
                return (s, start.elapsed());
            }
            if start.elapsed() > timeout {
                panic!("timed out after {timeout:?} waiting for {what}; screen:\n{s}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn wait_text(&self, text: &str, timeout: Duration) -> String {
        self.wait_for(text, timeout, |s| s.contains(text)).0
    }
}

/// Whether a PM2 pane row shows a process whose name ends with `name` (the pane shows the
/// full name when it fits, else the part under the deployment heading) in `state`, however
/// wide the name column is.
pub fn has_row(screen: &str, name: &str, state: &str) -> bool {
    screen.lines().any(|l| {
        let words: Vec<&str> = l
            .split(|c: char| c.is_whitespace() || c == '│')
            .filter(|w| !w.is_empty())
            .collect();
        words
            .windows(2)
            .any(|w| (w[0] == name || w[0].ends_with(&format!("-{name}"))) && w[1] == state)
    })
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["kill-session", "-t", &self.name])
            .output();
    }
}
