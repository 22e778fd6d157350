//! Reads the process table from `/proc` without changing anything: pid, parent, process
//! group, owner, command line, working directory and start time. What cannot be read
//! (another user's `cwd`) is `None`, never guessed.
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// One process as read from `/proc/<pid>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcInfo {
    pub pid: i32,
    pub ppid: i32,
    pub pgid: i32,
    pub uid: u32,
    /// `comm` (at most 15 bytes, may be a process title's prefix).
    pub comm: String,
    pub argv: Vec<String>,
    pub cwd: Option<PathBuf>,
    /// Start time in clock ticks since boot (field 22 of `stat`): with the pid it names
    /// one process, so a reused pid is never mistaken for the one seen.
    pub start_ticks: u64,
    /// Seconds since it started.
    pub age_secs: u64,
}

/// Fields of `/proc/<pid>/stat` after the command name: (ppid, pgid, starttime).
pub fn parse_stat(stat: &str) -> Option<(String, i32, i32, u64)> {
    let open = stat.find('(')?;
    let close = stat.rfind(')')?;
    let comm = stat.get(open + 1..close)?.to_string();
    let rest: Vec<&str> = stat.get(close + 1..)?.split_whitespace().collect();
    // rest[0] is the state (field 3); ppid is field 4, pgrp 5, starttime 22.
    let ppid = rest.get(1)?.parse().ok()?;
    let pgid = rest.get(2)?.parse().ok()?;
    let start = rest.get(19)?.parse().ok()?;
    Some((comm, ppid, pgid, start))
}

/// The real uid from `/proc/<pid>/status`.
pub fn parse_uid(status: &str) -> Option<u32> {
    status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
}

fn clock_ticks() -> u64 {
    // SAFETY: sysconf reads a constant of the running system.
    let t = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if t > 0 {
        t as u64
    } else {
        100
    }
}

fn uptime_secs(root: &Path) -> Option<f64> {
    std::fs::read_to_string(root.join("uptime"))
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// One process, or `None` when it is gone or unreadable.
pub fn read_one(root: &Path, pid: i32) -> Option<ProcInfo> {
    let dir = root.join(pid.to_string());
    let (comm, ppid, pgid, start_ticks) =
        parse_stat(&std::fs::read_to_string(dir.join("stat")).ok()?)?;
    let uid = parse_uid(&std::fs::read_to_string(dir.join("status")).ok()?)?;
    let argv = std::fs::read(dir.join("cmdline"))
        .map(|raw| {
            raw.split(|b| *b == 0)
                .filter(|a| !a.is_empty())
                .map(|a| String::from_utf8_lossy(a).into_owned())
                .collect()
        })
        .unwrap_or_default();
    let cwd = std::fs::read_link(dir.join("cwd")).ok();
    let age_secs = uptime_secs(root)
        .map(|up| (up - start_ticks as f64 / clock_ticks() as f64).max(0.0) as u64)
        .unwrap_or(0);
    Some(ProcInfo {
        pid,
        ppid,
        pgid,
        uid,
        comm,
        argv,
        cwd,
        start_ticks,
        age_secs,
    })
}

/// Every process readable under `root` (normally `/proc`), sorted by pid.
pub fn read_all(root: &Path) -> Vec<ProcInfo> {
    let Ok(rd) = std::fs::read_dir(root) else {
        return vec![];
    };
    let mut out: Vec<ProcInfo> = rd
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter_map(|pid| read_one(root, pid))
        .collect();
    out.sort_by_key(|p| p.pid);
    out
}

/// User names by uid from `/etc/passwd` (a uid not listed shows as its number).
pub fn user_names(passwd: &str) -> HashMap<u32, String> {
    passwd
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            Some((f.get(2)?.parse().ok()?, f.first()?.to_string()))
        })
        .collect()
}

pub fn user_name(names: &HashMap<u32, String>, uid: u32) -> String {
    names.get(&uid).cloned().unwrap_or_else(|| uid.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_with_spaces_and_parens_in_the_name() {
        let s =
            "4123 (my (odd) name) S 1 4123 4123 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 987654 0 0";
        let (comm, ppid, pgid, start) = parse_stat(s).unwrap();
        assert_eq!(comm, "my (odd) name");
        assert_eq!((ppid, pgid, start), (1, 4123, 987654));
        assert!(parse_stat("garbage").is_none());
    }

    #[test]
    fn reads_this_process() {
        let me = read_one(Path::new("/proc"), std::process::id() as i32).unwrap();
        assert_eq!(me.pid, std::process::id() as i32);
        assert_eq!(me.uid, unsafe { libc::getuid() });
        assert_eq!(me.cwd.as_deref(), std::env::current_dir().ok().as_deref());
        assert!(read_all(Path::new("/proc")).iter().any(|p| p.pid == me.pid));
    }

    #[test]
    fn passwd_names() {
        let n = user_names(
            "root:x:0:0:root:/root:/bin/bash\ndeploy:x:1001:1001::/home/deploy:/bin/sh\nbad\n",
        );
        assert_eq!(user_name(&n, 1001), "deploy");
        assert_eq!(user_name(&n, 4242), "4242");
    }
}
