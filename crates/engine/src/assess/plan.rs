//! The restore plan: affected processes in the inventory's priority order, grouped
//! by deployment, each with the runbook's command and the check that proves it.
use serde::Serialize;

use super::predicates::{scenario_holds, PredicateValue};
use super::scope::{DeploymentScope, ProcState, ProcessScope, Scope};
use crate::runbook::vars::shell_quote;
use crate::runbook::{Environment, Runbook};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PlanAction {
    /// Every process of the deployment is missing: start its ecosystem file.
    StartConfig,
    /// Some are missing: start just those from the ecosystem file.
    StartOnly,
    /// They exist but are not online: restart them by name.
    Restart,
    /// PM2's daemon is down and the saved list holds production: restore it (`pm2 resurrect`).
    Resurrect,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlanItem {
    pub deployment: String,
    pub environment: Environment,
    /// The processes this item brings back, in priority order.
    pub processes: Vec<String>,
    pub action: PlanAction,
    /// Exactly what will run (variables filled, shell-quoted).
    pub command: String,
    /// Directory it runs in.
    pub dir: Option<String>,
    /// What proves it worked.
    pub check: String,
    /// The runbook's gate: production must be verified healthy before anything
    /// of lower priority starts (Scenario D).
    pub verify_before_next: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RestorePlan {
    /// "A".."D" when a scenario of the runbook applies.
    pub scenario: Option<String>,
    /// The runbook step describing that scenario.
    pub scenario_step: Option<String>,
    pub items: Vec<PlanItem>,
    /// `pm2 save` once everything is verified (Scenario D, step 4).
    pub save_after: bool,
    /// What the plan rests on when PM2's daemon is down (saved list, orphans holding ports).
    pub notes: Vec<String>,
}

/// The restore plan for `scope`: affected deployments in priority order, each with its
/// start/restart items, and the runbook scenario that applies. Empty for a foreign inventory.
pub fn restore_plan(rb: &Runbook, scope: &Scope) -> RestorePlan {
    if scope.fit.is_foreign() {
        // Starting another server's apps here is never the plan.
        return RestorePlan {
            scenario: None,
            scenario_step: None,
            items: vec![],
            save_after: false,
            notes: vec![],
        };
    }
    let items: Vec<PlanItem> = affected_in_priority(rb, scope)
        .into_iter()
        .flat_map(|d| deployment_items(rb, d))
        .collect();
    let scenario = first_scenario(rb, scope);
    RestorePlan {
        save_after: !items.is_empty(),
        scenario: scenario.as_ref().map(|s| s.0.clone()),
        scenario_step: scenario.map(|s| s.1),
        items,
        notes: vec![],
    }
}

/// A process's place in the inventory's restore order (unranked ones last).
fn rank(rb: &Runbook, name: &str) -> usize {
    rb.inventory.restore_rank(name).unwrap_or(usize::MAX)
}

/// Affected deployments with something down, the one holding the highest-priority
/// down process first.
fn affected_in_priority<'a>(rb: &Runbook, scope: &'a Scope) -> Vec<&'a DeploymentScope> {
    let mut affected: Vec<&DeploymentScope> = scope
        .affected()
        .filter(|d| d.down_processes().next().is_some())
        .collect();
    affected.sort_by_key(|d| {
        d.down_processes()
            .map(|p| rank(rb, &p.name))
            .min()
            .unwrap_or(usize::MAX)
    });
    affected
}

/// One deployment's items: start what is missing (the whole ecosystem file when
/// all is), then restart what exists but is not online.
fn deployment_items(rb: &Runbook, d: &DeploymentScope) -> Vec<PlanItem> {
    let Some(dep) = rb.inventory.deployment(&d.id) else {
        return vec![];
    };
    let mut down: Vec<_> = d.down_processes().collect();
    down.sort_by_key(|p| rank(rb, &p.name));
    let (missing, present): (Vec<&ProcessScope>, Vec<&ProcessScope>) = down
        .into_iter()
        .partition(|p| p.state == ProcState::Missing);
    let missing: Vec<&str> = missing.iter().map(|p| p.name.as_str()).collect();
    let present: Vec<&str> = present.iter().map(|p| p.name.as_str()).collect();
    let mut items = Vec::new();
    if !missing.is_empty() {
        let all_missing = missing.len() == d.processes.len();
        let (action, command) = start_command(rb, d, &missing, all_missing);
        items.push(item(d, &missing, action, command, Some(dep.dir.clone())));
    }
    if !present.is_empty() {
        let names: Vec<String> = present.iter().map(|n| shell_quote(n)).collect();
        let command = format!("pm2 restart {}", names.join(" "));
        items.push(item(d, &present, PlanAction::Restart, command, None));
    }
    items
}

/// How to start missing processes: the whole ecosystem file, or `--only` the
/// missing names (glob patterns cannot be passed to `--only`).
fn start_command(
    rb: &Runbook,
    d: &DeploymentScope,
    missing: &[&str],
    all_missing: bool,
) -> (PlanAction, String) {
    let config = rb.render(&format!("${{{}.config}}", d.id));
    if all_missing {
        return (PlanAction::StartConfig, format!("pm2 start {config}"));
    }
    let only = missing
        .iter()
        .filter(|n| !n.contains(['*', '?']))
        .copied()
        .collect::<Vec<_>>()
        .join(",");
    (
        PlanAction::StartOnly,
        format!("pm2 start {config} --only {}", shell_quote(&only)),
    )
}

/// One item bringing back `names` of deployment `d`; its check is those processes
/// online and the deployment's endpoints healthy, and production gates what follows.
fn item(
    d: &DeploymentScope,
    names: &[&str],
    action: PlanAction,
    command: String,
    dir: Option<String>,
) -> PlanItem {
    let mut check = format!("{} online", names.join(", "));
    let health: Vec<&str> = d.health.iter().map(|h| h.target.url.as_str()).collect();
    if !health.is_empty() {
        check.push_str(&format!(" and {} healthy", health.join(", ")));
    }
    PlanItem {
        deployment: d.id.clone(),
        environment: d.environment,
        processes: names.iter().map(|s| s.to_string()).collect(),
        action,
        command,
        dir,
        check,
        verify_before_next: d.environment == Environment::Production,
    }
}

/// The first scenario step (in the procedure's order A..D) that applies, as
/// (letter, step id).
fn first_scenario(rb: &Runbook, scope: &Scope) -> Option<(String, String)> {
    let affected_ids: Vec<&str> = scope.affected().map(|d| d.id.as_str()).collect();
    rb.procedure.steps().find_map(|(_, st)| {
        st.scenario
            .as_ref()
            .filter(|sc| scenario_holds(sc, &affected_ids))
            .map(|sc| (sc.letter.clone(), st.id.get_ref().clone()))
    })
}

/// Whether a plan item's check holds in `scope` (its processes online and its
/// deployment's endpoints healthy), with the reasons when it does not.
pub fn item_check(item: &PlanItem, scope: &Scope) -> PredicateValue {
    let Some(d) = scope.deployment(&item.deployment) else {
        return PredicateValue {
            holds: None,
            reasons: vec![format!("no deployment `{}`", item.deployment)],
        };
    };
    let mut bad: Vec<String> = d
        .processes
        .iter()
        .filter(|p| {
            item.processes.contains(&p.name)
                || item
                    .processes
                    .iter()
                    .any(|n| crate::runbook::inventory::glob_match(n, &p.name))
        })
        .filter(|p| p.state != ProcState::Online)
        .map(|p| format!("{} {}", p.name, p.state.label()))
        .collect();
    bad.extend(
        d.health
            .iter()
            .filter(|h| !h.verdict.is_healthy())
            .map(|h| format!("{} {}", h.target.url, h.verdict.label())),
    );
    if bad.is_empty() {
        PredicateValue {
            holds: Some(true),
            reasons: vec![item.check.clone()],
        }
    } else {
        PredicateValue {
            holds: Some(false),
            reasons: bad,
        }
    }
}
