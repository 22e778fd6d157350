//! Stops one running deployment: TERM to its process group (when the group is its own) and
//! to every process of its tree, then KILL to whatever is left after the grace period.
//! The root is identified by pid *and* start time, so a reused pid is never signalled.
use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, HashMap};
use std::path::Path;
use std::time::{Duration, Instant};

use super::procfs::{read_all, read_one};

/// What was done, for the journal (through the command's output) and the responder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StopReport {
    pub pid: i32,
    pub pgid: i32,
    pub group_signalled: bool,
    /// Processes sent TERM.
    pub termed: Vec<i32>,
    /// Processes still alive after the grace period, sent KILL.
    pub killed: Vec<i32>,
    /// Processes still alive at the end (should be none).
    pub remaining: Vec<i32>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StopError {
    #[error("pid {0} is not running any more (nothing stopped)")]
    Gone(i32),
    #[error("pid {pid} now belongs to another process (started at tick {now}, expected {expected}); nothing stopped")]
    Reused { pid: i32, expected: u64, now: u64 },
}

/// A process is alive when its pid names the same start time and it is not a zombie.
fn alive(root: &Path, pid: i32, start: u64) -> bool {
    let Ok(stat) = std::fs::read_to_string(root.join(pid.to_string()).join("stat")) else {
        return false;
    };
    let Some(close) = stat.rfind(')') else {
        return false;
    };
    let mut f = stat[close + 1..].split_whitespace();
    let state = f.next().unwrap_or("X");
    let start_now: Option<u64> = f.nth(18).and_then(|s| s.parse().ok());
    !matches!(state, "Z" | "X" | "x") && start_now == Some(start)
}

/// The tree under `pid` now, with start times (new children may have appeared).
fn members(root: &Path, pid: i32, pgid: Option<i32>) -> HashMap<i32, u64> {
    let procs = read_all(root);
    let mut kids: HashMap<i32, Vec<i32>> = HashMap::new();
    for p in &procs {
        kids.entry(p.ppid).or_default().push(p.pid);
    }
    let mut set: BTreeSet<i32> = BTreeSet::from([pid]);
    let mut stack = vec![pid];
    while let Some(x) = stack.pop() {
        for c in kids.get(&x).into_iter().flatten() {
            if set.insert(*c) {
                stack.push(*c);
            }
        }
    }
    if let Some(g) = pgid {
        set.extend(procs.iter().filter(|p| p.pgid == g).map(|p| p.pid));
    }
    procs
        .iter()
        .filter(|p| set.contains(&p.pid))
        .map(|p| (p.pid, p.start_ticks))
        .collect()
}

fn signal(pids: &HashMap<i32, u64>, group: Option<i32>, sig: i32) {
    // SAFETY: kill(2) with a positive pid or a negative group id > 1; no memory involved.
    if let Some(g) = group.filter(|g| *g > 1) {
        unsafe { libc::kill(-g, sig) };
    }
    for pid in pids.keys().filter(|p| **p > 1) {
        unsafe { libc::kill(*pid, sig) };
    }
}

/// Stops the deployment rooted at `pid` (started at `start_ticks`). `own_group`: the whole
/// process group is this tree's (see `RunningDeploy::owns_group`).
pub fn stop(
    proc_root: &Path,
    pid: i32,
    start_ticks: u64,
    own_group: bool,
    grace: Duration,
) -> Result<StopReport, StopError> {
    let me = read_one(proc_root, pid).ok_or(StopError::Gone(pid))?;
    if me.start_ticks != start_ticks {
        return Err(StopError::Reused {
            pid,
            expected: start_ticks,
            now: me.start_ticks,
        });
    }
    let my_group = unsafe { libc::getpgrp() };
    let group = (own_group && me.pgid > 1 && me.pgid != my_group).then_some(me.pgid);
    let first = members(proc_root, pid, group);
    signal(&first, group, libc::SIGTERM);
    let mut termed: Vec<i32> = first.keys().copied().collect();
    termed.sort_unstable();

    let live = |set: &HashMap<i32, u64>| -> HashMap<i32, u64> {
        set.iter()
            .filter(|(p, s)| alive(proc_root, **p, **s))
            .map(|(p, s)| (*p, *s))
            .collect()
    };
    let deadline = Instant::now() + grace;
    let mut left = live(&first);
    while !left.is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
        left = live(&first);
    }
    let mut killed = Vec::new();
    if !left.is_empty() || alive(proc_root, pid, start_ticks) {
        // Children started during the grace period are in the tree too.
        let mut now = if alive(proc_root, pid, start_ticks) {
            members(proc_root, pid, group)
        } else {
            HashMap::new()
        };
        now.extend(left);
        signal(&now, group, libc::SIGKILL);
        killed = now.keys().copied().collect();
        killed.sort_unstable();
        let end = Instant::now() + Duration::from_secs(2);
        while !live(&now).is_empty() && Instant::now() < end {
            std::thread::sleep(Duration::from_millis(20));
        }
        left = live(&now);
    }
    let mut remaining: Vec<i32> = left.keys().copied().collect();
    remaining.sort_unstable();
    Ok(StopReport {
        pid,
        pgid: me.pgid,
        group_signalled: group.is_some(),
        termed,
        killed,
        remaining,
    })
}
