//! `--pm2-source cli`: run `pm2 jlist` and parse its output. Used only when asked, because
//! any `pm2` CLI call starts a new, empty daemon when none is running.
use super::model::{parse_process_list, ParseError, Process};
use std::io::Read;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Shown to the user whenever the CLI source is used.
pub const CLI_WARNING: &str =
    "warning: reading PM2 through the `pm2` CLI; if no daemon is running \
this STARTS a new, empty one and hides the crashed one (prefer the default rpc.sock source)";

/// stdout larger than this is refused (a 500-app listing is ~50 MB).
pub const MAX_STDOUT: usize = 256 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error("cannot run {bin}: {source}")]
    Spawn {
        bin: PathBuf,
        source: std::io::Error,
    },
    #[error("`{bin} jlist` did not finish within {after:?}; killed it")]
    Timeout { bin: PathBuf, after: Duration },
    #[error("`{bin} jlist` exited with {status}")]
    Failed { bin: PathBuf, status: String },
    #[error("`pm2 jlist` printed more than {MAX_STDOUT} bytes; refused")]
    TooLarge,
    #[error("`pm2 jlist` printed no JSON array ({0})")]
    NoArray(String),
    #[error("`pm2 jlist` output: {0}")]
    Parse(#[from] ParseError),
}

#[derive(Debug, Clone)]
pub struct CliSource {
    /// Path or name of the `pm2` executable.
    pub pm2_bin: PathBuf,
    pub timeout: Duration,
    /// PM2_HOME for the child; `None` inherits ours.
    pub pm2_home: Option<PathBuf>,
}

impl Default for CliSource {
    fn default() -> Self {
        Self {
            pm2_bin: PathBuf::from("pm2"),
            timeout: Duration::from_secs(10),
            pm2_home: None,
        }
    }
}

/// The line of `stdout` that parses as a JSON array of processes (pure). The CLI can print
/// `[PM2] ...` or "In-memory PM2 is out-of-date" lines around it. Errors never quote output.
pub fn parse_jlist_output(stdout: &[u8]) -> Result<Vec<Process>, CliError> {
    let mut last_err = None;
    let mut lines = 0;
    for (n, line) in stdout.split(|b| *b == b'\n').enumerate() {
        lines = n + 1;
        let t = line.trim_ascii();
        if t.first() != Some(&b'[') || t.last() != Some(&b']') {
            continue;
        }
        match parse_process_list(t) {
            Ok(list) => return Ok(list),
            Err(e) => last_err = Some((n + 1, e)),
        }
    }
    match last_err {
        // `[PM2] ...]` banner lines also look like arrays; report the parse error if one
        // bracketed line existed, else that none did.
        Some((line, e)) => Err(CliError::NoArray(format!(
            "line {line} looked like an array but failed: {e}"
        ))),
        None => Err(CliError::NoArray(format!(
            "{lines} line(s) of output, none a JSON array"
        ))),
    }
}

impl CliSource {
    /// Run `pm2 jlist` with the timeout and parse it. Prints nothing; callers show [`CLI_WARNING`].
    pub fn jlist(&self) -> Result<Vec<Process>, CliError> {
        let out = self.run_jlist()?;
        parse_jlist_output(&out)
    }

    fn run_jlist(&self) -> Result<Vec<u8>, CliError> {
        let bin = self.pm2_bin.clone();
        let mut cmd = Command::new(&bin);
        cmd.arg("jlist")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        if let Some(h) = &self.pm2_home {
            cmd.env("PM2_HOME", h);
        }
        let mut child = cmd.spawn().map_err(|source| CliError::Spawn {
            bin: bin.clone(),
            source,
        })?;
        let Some(mut stdout) = child.stdout.take() else {
            let _ = child.kill();
            let _ = child.wait();
            return Err(CliError::NoArray("no stdout pipe".into()));
        };
        // Read in a thread so a full pipe can't deadlock the wait below.
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let r = (&mut stdout)
                .take(MAX_STDOUT as u64 + 1)
                .read_to_end(&mut buf)
                .map(|_| buf);
            let _ = tx.send(r);
        });
        let deadline = Instant::now() + self.timeout;
        let status = loop {
            match child.try_wait() {
                Ok(Some(st)) => break st,
                Ok(None) if Instant::now() >= deadline => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(CliError::Timeout {
                        bin,
                        after: self.timeout,
                    });
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(10)),
                Err(source) => return Err(CliError::Spawn { bin, source }),
            }
        };
        // A grandchild (a daemon the CLI started) may hold the pipe open; don't wait forever.
        let left = deadline.saturating_duration_since(Instant::now()) + Duration::from_millis(500);
        let out = match rx.recv_timeout(left) {
            Ok(Ok(buf)) => buf,
            Ok(Err(source)) => return Err(CliError::Spawn { bin, source }),
            Err(_) => {
                return Err(CliError::Timeout {
                    bin,
                    after: self.timeout,
                })
            }
        };
        if out.len() > MAX_STDOUT {
            return Err(CliError::TooLarge);
        }
        if !status.success() {
            return Err(CliError::Failed {
                bin,
                status: status.to_string(),
            });
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_the_array_line_among_noise() {
        let out = b"[PM2] Spawning PM2 daemon with pm2_home=/x\n[PM2] PM2 Successfully daemonized\n\
[{\"name\":\"a\",\"pm_id\":0,\"pm2_env\":{\"status\":\"online\"}}]\n>>>> In-memory PM2 is out-of-date, do:\n";
        let l = parse_jlist_output(out).unwrap();
        assert_eq!(l[0].name, "a");
        assert_eq!(parse_jlist_output(b"[]\n").unwrap(), vec![]);
    }

    #[test]
    fn non_array_output_is_a_clear_error() {
        let e = parse_jlist_output(b"{\"SECRET\":\"hunter2\"}\n").unwrap_err();
        assert!(e.to_string().contains("none a JSON array"), "{e}");
        let e = parse_jlist_output(b"[PM2] [x] hunter2]\n").unwrap_err();
        assert!(!e.to_string().contains("hunter2"), "{e}");
        assert!(e.to_string().contains("line 1"), "{e}");
    }
}
