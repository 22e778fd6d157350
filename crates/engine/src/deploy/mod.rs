//! Deployments: the one running now (seen from `/proc`, stopped by process group), the
//! freeze file that keeps the next one from starting, and Gitea's view of its action runs.
//! Reading is separate from classifying: `procfs` reads, `classify` is pure.
pub mod classify;
pub mod freeze;
pub mod gitea;
pub mod procfs;
pub mod reflog;
pub mod stop;

pub use classify::{find, DeployKind, Rules, RunningDeploy};

use std::path::{Path, PathBuf};

use crate::runbook::inventory::Inventory;

/// The scan rules the inventory gives, excluding this process's own tree.
pub fn rules_for(inv: &Inventory) -> Rules {
    Rules {
        dirs: inv
            .deployment
            .iter()
            .map(|d| (d.id.get_ref().clone(), PathBuf::from(&d.dir)))
            .collect(),
        runner_services: inv.deploy_settings().runner_services.clone(),
        exclude: vec![std::process::id() as i32],
    }
}

/// The deployments running on this machine now (read-only).
pub fn scan(inv: &Inventory) -> Vec<RunningDeploy> {
    scan_with(Path::new("/proc"), &rules_for(inv))
}

pub fn scan_with(proc_root: &Path, rules: &Rules) -> Vec<RunningDeploy> {
    let users = std::fs::read_to_string("/etc/passwd")
        .map(|t| procfs::user_names(&t))
        .unwrap_or_default();
    find(&procfs::read_all(proc_root), rules, &users)
}
