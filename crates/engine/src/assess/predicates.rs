//! The runbook's named predicates, evaluated from a scope. Each answer carries its
//! reasons (which processes, which endpoints) so the responder can check it.
use serde::Serialize;

use super::scope::{DeploymentScope, ProcState, ProcessScope, Scope};
use crate::runbook::model::Scenario;
use crate::runbook::predicates as p;
use crate::runbook::{Environment, Runbook};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PredicateValue {
    /// `None` when there is no evidence either way.
    pub holds: Option<bool>,
    pub reasons: Vec<String>,
}

impl PredicateValue {
    fn yes(reasons: Vec<String>) -> Self {
        PredicateValue {
            holds: Some(true),
            reasons,
        }
    }
    fn no(reason: impl Into<String>) -> Self {
        PredicateValue {
            holds: Some(false),
            reasons: vec![reason.into()],
        }
    }
    fn unknown(reason: impl Into<String>) -> Self {
        PredicateValue {
            holds: None,
            reasons: vec![reason.into()],
        }
    }
}

fn in_env(scope: &Scope, env: Environment) -> impl Iterator<Item = &DeploymentScope> {
    scope
        .deployments
        .iter()
        .filter(move |d| d.environment == env)
}

fn why_each<'a>(ds: impl Iterator<Item = &'a DeploymentScope>) -> Vec<String> {
    ds.map(|d| format!("{}: {}", d.id, d.why())).collect()
}

/// "Some deployment of `env` is affected", with no-evidence giving `None`.
fn env_down(scope: &Scope, env: Environment) -> PredicateValue {
    let affected: Vec<&DeploymentScope> = in_env(scope, env).filter(|d| d.affected()).collect();
    if !affected.is_empty() {
        return PredicateValue::yes(why_each(affected.into_iter()));
    }
    let blind: Vec<&str> = in_env(scope, env)
        .filter(|d| !d.has_evidence())
        .map(|d| d.id.as_str())
        .collect();
    if blind.is_empty() {
        PredicateValue::no(format!(
            "every {} process online, no endpoint down",
            env.as_str()
        ))
    } else {
        PredicateValue::unknown(format!("no evidence for {}", blind.join(", ")))
    }
}

fn health_down(scope: &Scope, env: Environment) -> PredicateValue {
    let results: Vec<_> = in_env(scope, env).flat_map(|d| d.health.iter()).collect();
    let down: Vec<String> = results
        .iter()
        .filter(|h| h.verdict.says_down())
        .map(|h| format!("{} {}", h.target.url, h.verdict.label()))
        .collect();
    if !down.is_empty() {
        PredicateValue::yes(down)
    } else if results.iter().any(|h| h.verdict.is_healthy()) {
        PredicateValue::no(format!("{} endpoints answer healthy", env.as_str()))
    } else {
        PredicateValue::unknown(format!("no {} health result", env.as_str()))
    }
}

fn all_healthy(scope: &Scope, env: Environment) -> PredicateValue {
    let results: Vec<_> = in_env(scope, env).flat_map(|d| d.health.iter()).collect();
    if results.is_empty() {
        return PredicateValue::yes(vec![format!("no {} endpoint to check", env.as_str())]);
    }
    let bad: Vec<String> = results
        .iter()
        .filter(|h| !h.verdict.is_healthy())
        .map(|h| format!("{} {}", h.target.url, h.verdict.label()))
        .collect();
    if bad.is_empty() {
        PredicateValue::yes(vec![format!("{} endpoints healthy", results.len())])
    } else {
        PredicateValue {
            holds: Some(false),
            reasons: bad,
        }
    }
}

fn distinct_affected_apps(scope: &Scope) -> Vec<String> {
    let mut apps: Vec<String> = Vec::new();
    for d in scope.affected() {
        if !apps.contains(&d.app_name) {
            apps.push(d.app_name.clone());
        }
    }
    apps
}

/// One arm per runbook predicate; each rule family has its own function below.
pub fn evaluate(rb: &Runbook, scope: &Scope, name: &str) -> PredicateValue {
    match name {
        p::PRODUCTION_APP_DOWN => env_down(scope, Environment::Production),
        p::MULTIPLE_APPS_AFFECTED => multiple_apps_affected(scope),
        p::TEST_ONLY_AFFECTED => test_only_affected(scope),
        p::INCIDENT_SIGNATURE => incident_signature(scope),
        p::ANY_PROCESS_NOT_ONLINE => any_process_not_online(scope),
        p::PRODUCTION_HEALTH_DOWN => health_down(scope, Environment::Production),
        p::TEST_HEALTH_DOWN => health_down(scope, Environment::Test),
        p::OTHER_APPS_AFFECTED => other_apps_affected(rb, scope),
        p::SCENARIO_A | p::SCENARIO_B | p::SCENARIO_C | p::SCENARIO_D => scenario(rb, scope, name),
        p::ALL_EXPECTED_ONLINE => all_expected_online(scope),
        p::PRODUCTION_HEALTHY => all_healthy(scope, Environment::Production),
        p::TEST_HEALTHY => all_healthy(scope, Environment::Test),
        p::NO_HIGH_RESTARTS => no_high_restarts(rb, scope),
        p::NONE_ERRORED_OR_STOPPED => none_errored_or_stopped(scope),
        p::PM2_SAVED => PredicateValue::unknown("only the responder can confirm `pm2 save`"),
        other => PredicateValue::unknown(format!("unknown predicate `{other}`")),
    }
}

/// The processes the inventory expects, across every deployment.
fn expected_processes(scope: &Scope) -> impl Iterator<Item = &ProcessScope> {
    scope.deployments.iter().flat_map(|d| d.processes.iter())
}

/// Expected processes plus the ones PM2 runs that the inventory does not name.
fn every_process(scope: &Scope) -> impl Iterator<Item = &ProcessScope> {
    expected_processes(scope).chain(scope.unexpected.iter())
}

/// A "nothing is wrong" check over PM2's list: unknown when PM2 could not be read,
/// true (with `clean` as the reason) when there are no offenders, false listing them.
fn none_offending(scope: &Scope, offenders: Vec<String>, clean: String) -> PredicateValue {
    if !scope.pm2_known {
        PredicateValue::unknown("PM2 could not be read")
    } else if offenders.is_empty() {
        PredicateValue::yes(vec![clean])
    } else {
        PredicateValue {
            holds: Some(false),
            reasons: offenders,
        }
    }
}

/// More than one application (not deployment) has an affected deployment.
fn multiple_apps_affected(scope: &Scope) -> PredicateValue {
    let apps = distinct_affected_apps(scope);
    if apps.len() > 1 {
        PredicateValue::yes(vec![format!("affected: {}", apps.join(", "))])
    } else {
        PredicateValue::no(format!(
            "only {} affected",
            apps.first().map(String::as_str).unwrap_or("no app")
        ))
    }
}

/// Test is affected and production is known not to be.
fn test_only_affected(scope: &Scope) -> PredicateValue {
    let prod = env_down(scope, Environment::Production);
    let test = env_down(scope, Environment::Test);
    match (prod.holds, test.holds) {
        (Some(false), Some(true)) => PredicateValue::yes(test.reasons),
        (Some(true), _) => PredicateValue::no("production is affected too"),
        (_, Some(false)) => PredicateValue::no("no test process or endpoint down"),
        _ => PredicateValue::unknown("not enough evidence"),
    }
}

/// The runbook's incident signature: every expected process missing, errored or
/// stopped (the PM2 note, e.g. a dead daemon, is added as a reason).
fn incident_signature(scope: &Scope) -> PredicateValue {
    if !scope.pm2_known {
        return PredicateValue::unknown("PM2 could not be read");
    }
    let all: Vec<_> = expected_processes(scope).collect();
    let down = all
        .iter()
        .filter(|p| {
            matches!(
                p.state,
                ProcState::Missing | ProcState::Errored | ProcState::Stopped
            )
        })
        .count();
    if !all.is_empty() && down == all.len() {
        let mut r = vec![format!(
            "all {} expected processes missing, errored or stopped",
            all.len()
        )];
        r.extend(scope.pm2_note.clone());
        PredicateValue::yes(r)
    } else {
        PredicateValue::no(format!("{} of {} expected processes down", down, all.len()))
    }
}

/// Some process, expected or not, is down.
fn any_process_not_online(scope: &Scope) -> PredicateValue {
    if !scope.pm2_known {
        return PredicateValue::unknown("PM2 could not be read");
    }
    let down: Vec<String> = scope
        .deployments
        .iter()
        .flat_map(|d| d.down_processes())
        .chain(scope.unexpected.iter().filter(|p| p.state.is_down()))
        .map(|p| format!("{} {}", p.name, p.state.label()))
        .collect();
    if down.is_empty() {
        PredicateValue::no("every process online")
    } else {
        PredicateValue::yes(down)
    }
}

/// An application other than the primary production deployment's is affected.
fn other_apps_affected(rb: &Runbook, scope: &Scope) -> PredicateValue {
    let first = crate::runbook::roles::primary(&rb.inventory)
        .and_then(|d| rb.inventory.app_name(d.app.get_ref()))
        .unwrap_or_default()
        .to_string();
    let others: Vec<String> = distinct_affected_apps(scope)
        .into_iter()
        .filter(|a| *a != first)
        .collect();
    if others.is_empty() {
        PredicateValue::no(format!("no app other than {first} affected"))
    } else {
        PredicateValue::yes(others)
    }
}

/// Recovery check: every expected process is online.
fn all_expected_online(scope: &Scope) -> PredicateValue {
    let not: Vec<String> = expected_processes(scope)
        .filter(|p| p.state != ProcState::Online)
        .map(|p| format!("{} {}", p.name, p.state.label()))
        .collect();
    none_offending(scope, not, "every expected process online".into())
}

/// Recovery check: no process restarted more than the inventory's threshold.
fn no_high_restarts(rb: &Runbook, scope: &Scope) -> PredicateValue {
    let limit = rb.inventory.high_restart_threshold as u64;
    let high: Vec<String> = every_process(scope)
        .filter(|p| p.restarts > limit)
        .map(|p| format!("{} restarted {} times (limit {limit})", p.name, p.restarts))
        .collect();
    none_offending(scope, high, format!("no process above {limit} restarts"))
}

/// Recovery check: no process, expected or not, is errored or stopped.
fn none_errored_or_stopped(scope: &Scope) -> PredicateValue {
    let bad: Vec<String> = every_process(scope)
        .filter(|p| matches!(p.state, ProcState::Errored | ProcState::Stopped))
        .map(|p| format!("{} {}", p.name, p.state.label()))
        .collect();
    none_offending(scope, bad, "nothing errored or stopped".into())
}

/// A scenario applies when exactly its deployments are the affected ones; scenario
/// D (several deployments) applies whenever more than one deployment is affected.
/// A role may be played by several deployments, so every step instantiated for the
/// scenario is tried.
fn scenario(rb: &Runbook, scope: &Scope, name: &str) -> PredicateValue {
    let steps: Vec<&Scenario> = rb
        .procedure
        .steps()
        .filter_map(|(_, st)| st.scenario.as_ref().filter(|s| s.when.get_ref() == name))
        .collect();
    if steps.is_empty() {
        return PredicateValue::no(format!("no deployment of this inventory plays `{name}`"));
    }
    let affected: Vec<&str> = scope.affected().map(|d| d.id.as_str()).collect();
    if steps.iter().any(|s| scenario_holds(s, &affected)) {
        PredicateValue::yes(vec![format!("affected: {}", affected.join(", "))])
    } else if affected.is_empty() {
        PredicateValue::no("nothing affected")
    } else {
        PredicateValue::no(format!("affected: {}", affected.join(", ")))
    }
}

/// Whether one scenario step applies to the affected deployments.
pub fn scenario_holds(s: &Scenario, affected: &[&str]) -> bool {
    let mine: Vec<&str> = s.deployments.iter().map(|d| d.get_ref().as_str()).collect();
    if s.role.is_some() || mine.len() > 1 {
        affected.len() > 1
    } else {
        !mine.is_empty() && affected == mine
    }
}
