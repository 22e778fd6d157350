//! The `pm2-incident sim TOOL ARGS...` entry point the drill's PATH shims exec.
use std::io::Write;
use std::path::PathBuf;

use super::env::{dispatch, now_ms, with_state, STATE_ENV, STATE_POINTER};

/// Where the drill state is: `$PM2_INCIDENT_SIM`, else the pointer file in `$PM2_HOME`.
fn state_path() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os(STATE_ENV).filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(p));
    }
    let home = std::env::var_os("PM2_HOME")?;
    let text = std::fs::read_to_string(PathBuf::from(home).join(STATE_POINTER)).ok()?;
    Some(PathBuf::from(text.trim()))
}

/// Run one simulated tool; returns its exit code.
pub fn main(tool: &str, args: &[String]) -> i32 {
    // The drill's own files (~/.pm2/logs/...) are real: only the server's /var/log is simulated,
    // so the host's own logs never show up in a drill (or its journal).
    if tool == "tail" && !args.iter().any(|a| a.starts_with("/var/log/")) {
        use std::os::unix::process::CommandExt;
        let real = ["/usr/bin/tail", "/bin/tail"]
            .into_iter()
            .find(|p| std::path::Path::new(p).exists())
            .unwrap_or("tail");
        let e = std::process::Command::new(real).args(args).exec();
        eprintln!("tail: {e}");
        return 127;
    }
    let Some(path) = state_path() else {
        eprintln!("pm2-incident sim: not inside a drill ({STATE_ENV} is unset and PM2_HOME has no {STATE_POINTER})");
        return 127;
    };
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/"));
    let now = now_ms();
    let out = match with_state(&path, now, |st| dispatch(st, tool, args, &cwd, now)) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("pm2-incident sim: {e}");
            return 1;
        }
    };
    if let Some((file, body)) = &out.file {
        if let Err(e) = std::fs::write(cwd.join(file), body) {
            eprintln!("curl: (23) Failure writing output to destination: {file}: {e}");
            return 23;
        }
    }
    // A closed pipe (`| head`) is not an error worth reporting.
    let _ = std::io::stdout().write_all(out.stdout.as_bytes());
    let _ = std::io::stdout().flush();
    let _ = std::io::stderr().write_all(out.stderr.as_bytes());
    out.code
}
