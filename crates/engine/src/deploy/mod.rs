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

/// One run of one repository.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RepoRun {
    pub repo: String,
    pub run: gitea::Run,
}

/// What Gitea says about the inventory's repositories, or why it cannot be asked.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum GiteaView {
    /// No `[deploy.gitea]` in the inventory: runs on other runners cannot be seen.
    NotConfigured,
    /// Configured, but the token or the server failed (the message never holds the token).
    Unavailable { reason: String },
    /// Running or waiting runs, and the last few runs of each repository.
    Runs {
        active: Vec<RepoRun>,
        recent: Vec<RepoRun>,
    },
}

/// Asks Gitea (blocking; a poller thread calls this).
pub fn gitea_view(inv: &Inventory, timeout: std::time::Duration) -> GiteaView {
    let Some(g) = &inv.deploy_settings().gitea else {
        return GiteaView::NotConfigured;
    };
    let unavailable = |e: &dyn std::fmt::Display| GiteaView::Unavailable {
        reason: e.to_string(),
    };
    let token = match gitea::load_token(g) {
        Ok(t) => t,
        Err(e) => return unavailable(&e),
    };
    let client = match gitea::Client::new(&g.url, token, timeout) {
        Ok(c) => c,
        Err(e) => return unavailable(&e),
    };
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return unavailable(&e),
    };
    rt.block_on(async {
        let (mut active, mut recent) = (Vec::new(), Vec::new());
        for repo in &g.repos {
            let tag = |runs: Vec<gitea::Run>| {
                runs.into_iter().map(|run| RepoRun {
                    repo: repo.clone(),
                    run,
                })
            };
            match client.active_runs(repo).await {
                Ok(r) => active.extend(tag(r)),
                Err(e) => return unavailable(&format!("{repo}: {e}")),
            }
            match client.runs(repo, &[], 5).await {
                Ok(r) => recent.extend(tag(r)),
                Err(e) => return unavailable(&format!("{repo}: {e}")),
            }
        }
        GiteaView::Runs { active, recent }
    })
}
