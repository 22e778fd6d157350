//! The deployment items of the runbook's steps (pure: from what the app last read):
//! - Stop Ongoing Deployments: what runs now (stop each, typed confirmation), Gitea's runs
//!   or what cannot be seen without it, and the freeze;
//! - Classify severity: the offer to freeze;
//! - Verification and the resolution notice: the reminder to lift the freeze;
//! - Root Cause, workflow logs: Gitea's last runs, else each deployment dir's `git reflog`.
use super::state::{App, StepItem};
use crate::deploy::classify::human_age;
use crate::deploy::freeze::FreezeState;
use crate::deploy::{GiteaView, RunningDeploy};
use crate::runbook::Risk;

const GRACE_SECS: u64 = 10;

/// Single-quoted for `sh`.
fn sq(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=@%+,".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// The command that stops `d` (shown exactly as it runs, then journaled with its output).
pub fn stop_command(app: &App, d: &RunningDeploy) -> String {
    format!(
        "{} deploy-stop --pid {} --start-ticks {}{} --grace-secs {GRACE_SECS}",
        sq(&app.exe),
        d.pid,
        d.start_ticks,
        if d.owns_group { " --group" } else { "" }
    )
}

pub fn stop_reason(d: &RunningDeploy) -> String {
    format!(
        "stops a running deployment: {} — user {}, `{}` in {}. TERM to {}, KILL after {GRACE_SECS} s to what is left. The CI run it belongs to will show as failed; re-run it only once the incident is resolved.",
        d.short(),
        d.user,
        d.command,
        d.dir.as_deref().unwrap_or("(directory unreadable)"),
        if d.owns_group {
            format!("its process group {}", d.pgid)
        } else {
            format!("its {} processes (its group is shared, so not the group)", d.pids.len())
        }
    )
}

fn frozen(app: &App) -> Option<bool> {
    app.freeze.as_ref().and_then(|f| f.frozen())
}

/// `freeze on` (with the incident and severity as the reason) or `freeze off`.
pub fn freeze_command(app: &App, on: bool) -> Option<String> {
    let file = app.freeze_file.as_ref()?;
    if !on {
        return Some(format!("{} freeze off --file {}", sq(&app.exe), sq(file)));
    }
    let id = app.incident_id().unwrap_or("incident").to_string();
    let sev = app
        .incident
        .severity
        .as_ref()
        .map(|s| s.value.severity.label().to_string())
        .unwrap_or_else(|| app.assessment.severity.label.clone());
    Some(format!(
        "{} freeze on --reason {} --incident {} --file {}",
        sq(&app.exe),
        sq(&format!(
            "{id} in progress ({sev}); no deployments until resolved"
        )),
        sq(&id),
        sq(file)
    ))
}

/// The freeze item, or a line saying it is on (or cannot be told).
fn freeze_item(app: &App) -> StepItem {
    match (&app.freeze, &app.freeze_file) {
        (_, None) => StepItem::Info(
            "freeze: no freeze file (set deploy.freeze_file in the inventory)".into(),
        ),
        (Some(f @ FreezeState::Frozen(_)), Some(p))
        | (Some(f @ FreezeState::FrozenUnreadable(_)), Some(p)) => {
            StepItem::Info(crate::deploy::freeze::describe(f, std::path::Path::new(p)))
        }
        _ => StepItem::Freeze,
    }
}

fn running_lines(app: &App) -> Vec<StepItem> {
    match &app.deploys {
        None => vec![StepItem::Info(
            "running deployments: not read here (only `respond` on the server reads /proc)".into(),
        )],
        Some(d) if d.is_empty() => vec![StepItem::Info(
            "no deployment running on this server (runner jobs; npm/yarn/pnpm/git/pm2/node or scripts in the inventory's directories)".into(),
        )],
        Some(d) => (0..d.len()).map(StepItem::StopDeploy).collect(),
    }
}

fn gitea_lines(app: &App, active: bool) -> Vec<StepItem> {
    let repos = app
        .rb
        .inventory
        .deploy_settings()
        .gitea
        .as_ref()
        .map(|g| g.repos.join(", "))
        .unwrap_or_default();
    match &app.gitea {
        None | Some(GiteaView::NotConfigured) => vec![StepItem::Info(
            "Gitea: not configured ([deploy.gitea] in the inventory): runs queued or running on other runners cannot be seen here".into(),
        )],
        Some(GiteaView::Unavailable { reason }) => {
            vec![StepItem::Info(format!("Gitea: cannot see the runs: {reason}"))]
        }
        Some(GiteaView::Runs { active: a, recent }) => {
            let runs = if active { a } else { recent };
            if runs.is_empty() {
                return vec![StepItem::Info(format!(
                    "Gitea: no {} runs in {repos}",
                    if active { "running or waiting" } else { "recent" }
                ))];
            }
            runs.iter()
                .map(|r| {
                    StepItem::Info(format!(
                        "Gitea {}: {}  {}",
                        r.repo,
                        r.run.summary(),
                        r.run.html_url
                    ))
                })
                .collect()
        }
    }
}

/// Items shown before the step's own commands.
pub fn before(app: &App, step: &str) -> Vec<StepItem> {
    match step {
        "stop-deployments" => {
            let mut out = running_lines(app);
            match &app.gitea {
                Some(GiteaView::Runs { active, .. }) if !active.is_empty() => {
                    out.extend((0..active.len()).map(StepItem::CancelRun))
                }
                _ => out.extend(gitea_lines(app, true)),
            }
            out.push(freeze_item(app));
            out
        }
        // The offer, where a freeze file exists to write (the step shows nothing otherwise).
        "classify-severity" if app.freeze_file.is_some() && frozen(app) != Some(true) => {
            vec![StepItem::Freeze]
        }
        "workflow-logs" => {
            let configured = !matches!(app.gitea, None | Some(GiteaView::NotConfigured));
            if configured {
                return gitea_lines(app, false);
            }
            // Without Gitea: what each deployment directory last checked out (read-only).
            app.rb
                .inventory
                .deployment
                .iter()
                .map(|d| StepItem::Command {
                    text: format!("git -C {} reflog -n 10 --date=iso", sq(&d.dir)),
                    dir: None,
                    runnable: true,
                    risk: Risk::Safe,
                    purpose: format!(
                        "what was last checked out in {} (local deploy history; Gitea is not configured)",
                        d.id.get_ref()
                    ),
                })
                .collect()
        }
        _ => vec![],
    }
}

/// Items shown after the step's own (the reminder to lift the freeze).
pub fn after(app: &App, step: &str) -> Vec<StepItem> {
    match step {
        "verification-checklist" | "resolution-notice" if frozen(app) == Some(true) => {
            vec![StepItem::Unfreeze]
        }
        _ => vec![],
    }
}

/// (tag, text) for a deployment item in the step list.
pub fn line(app: &App, item: &StepItem) -> Option<(&'static str, String)> {
    Some(match item {
        StepItem::StopDeploy(i) => {
            let d = app.deploys.as_ref()?.get(*i)?;
            (
                "[stop] ",
                format!(
                    "deploy running: {} — {} `{}` in {}",
                    d.short(),
                    d.user,
                    d.command,
                    d.dir.as_deref().unwrap_or("?")
                ),
            )
        }
        StepItem::CancelRun(i) => {
            let r = active_run(app, *i)?;
            (
                "[cancel]",
                format!("Gitea {}: {}", r.repo, r.run.summary()),
            )
        }
        StepItem::Freeze => (
            "[freeze]",
            "freeze deployments until the incident is resolved (workflows that run `freeze check` stop)".into(),
        ),
        StepItem::Unfreeze => (
            "[thaw] ",
            "deployments are still FROZEN: lift the freeze once the incident is resolved".into(),
        ),
        StepItem::Info(t) => ("       ", t.clone()),
        _ => return None,
    })
}

fn active_run(app: &App, i: usize) -> Option<&crate::deploy::RepoRun> {
    match &app.gitea {
        Some(GiteaView::Runs { active, .. }) => active.get(i),
        _ => None,
    }
}

/// (command, confirmation token, reason) to cancel Gitea's active run `i`. The command
/// names where the token is read from, never the token.
pub fn cancel_command(app: &App, i: usize) -> Option<(String, String, String)> {
    let r = active_run(app, i)?;
    let g = app.rb.inventory.deploy_settings().gitea.as_ref()?;
    let mut text = format!(
        "{} gitea-cancel --url {} --repo {} --run {}",
        sq(&app.exe),
        sq(&g.url),
        sq(&r.repo),
        r.run.id
    );
    if let Some(v) = &g.token_env {
        text.push_str(&format!(" --token-env {}", sq(v)));
    }
    if let Some(f) = &g.token_file {
        text.push_str(&format!(" --token-file {}", sq(f)));
    }
    let reason = format!(
        "cancels Gitea run {} #{} of {} (commit {}): the runner is told to stop; the run shows as cancelled",
        r.run.workflow(),
        r.run.run_number,
        r.repo,
        r.run.head_sha.chars().take(8).collect::<String>()
    );
    Some((text, format!("cancel {}", r.run.run_number), reason))
}

/// More about the selected deployment item.
pub fn detail(app: &App, item: &StepItem) -> Option<Vec<String>> {
    match item {
        StepItem::StopDeploy(i) => {
            let d = app.deploys.as_ref()?.get(*i)?;
            Some(vec![
                format!(
                    "pid {} (group {}), user {}, running {}; {} process(es): {}",
                    d.pid,
                    d.pgid,
                    d.user,
                    human_age(d.age_secs),
                    d.pids.len(),
                    d.pids
                        .iter()
                        .map(i32::to_string)
                        .collect::<Vec<_>>()
                        .join(" ")
                ),
                format!(
                    "Enter runs (after typing `stop {}`): {}",
                    d.pid,
                    stop_command(app, d)
                ),
                "the CI run will show as failed; cancel it in Gitea too so it is not retried"
                    .into(),
            ])
        }
        StepItem::CancelRun(i) => {
            let r = active_run(app, *i)?;
            Some(vec![
                format!("commit {} {}", r.run.head_sha, r.run.display_title),
                r.run.html_url.clone(),
                cancel_command(app, *i)
                    .map(|(c, t, _)| format!("Enter runs (after typing `{t}`): {c}"))
                    .unwrap_or_default(),
            ])
        }
        StepItem::Freeze | StepItem::Unfreeze => {
            freeze_command(app, matches!(item, StepItem::Freeze))
                .map(|c| vec![format!("Enter runs: {c}")])
        }
        _ => None,
    }
}

/// The header's "deploy running: …" text, when one runs.
pub fn header(app: &App) -> Option<String> {
    let d = app.deploys.as_ref()?;
    let first = d.first()?;
    Some(match d.len() {
        1 => format!("deploy running: {}", first.short()),
        n => format!("deploy running: {} (+{} more)", first.short(), n - 1),
    })
}
