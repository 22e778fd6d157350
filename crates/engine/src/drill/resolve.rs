//! A role-based scenario made concrete for one inventory: every `${role}` in its text
//! and name lists replaced, the expected severity derived from what the faults take
//! down (unless the file fixes it), defaults that name processes pointed at the roles.
//! Unknown placeholders and roles the inventory lacks are `file:line:col` errors.
use std::collections::BTreeSet;

use super::roles::{self, Roles, Value};
use super::scenario::{inventory_names, ExpectedSeverity, InitialStatus, Scenario};
use super::state::FaultAction;
use crate::runbook::{Environment, Inventory, LoadError, Source};
use serde_spanned::Spanned;

/// Check every `${name}` in the file, then substitute them in `s`.
pub fn resolve(
    src: Source,
    mut s: Scenario,
    inv: &Inventory,
    inv_name: &str,
) -> Result<Scenario, Vec<LoadError>> {
    let r = Roles::of(inv);
    let mut errs = Vec::new();
    let mut reported = BTreeSet::new();
    match crate::runbook::vars::references(src.text) {
        Err(crate::runbook::vars::VarError::Unterminated { offset }) => {
            errs.push(src.error(offset, "unterminated `${` (write `$${` for a literal)"))
        }
        Err(e) => errs.push(src.error(0, e.to_string())),
        Ok(refs) => {
            for v in refs {
                match roles::need(&v.name) {
                    None => errs.push(src.error(
                        v.offset,
                        format!(
                            "unknown placeholder `${{{}}}`; known: {}",
                            v.name,
                            roles::KNOWN
                                .iter()
                                .map(|(n, _)| *n)
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    )),
                    Some(need) if r.get(&v.name).is_none() => {
                        // One message per missing role, at its first use.
                        if reported.insert(need) {
                            errs.push(src.error(
                                v.offset,
                                format!("scenario {} needs {need}; {inv_name} has none", s.id()),
                            ));
                        }
                    }
                    Some(_) => {}
                }
            }
        }
    }
    if !errs.is_empty() {
        return Err(errs);
    }
    substitute(&mut s, &r);
    if s.cluster.is_none() {
        s.cluster = Some(
            inventory_cluster(inv).unwrap_or_else(|| match r.get("api") {
                // No marks: the production API runs in cluster mode, as on the runbook's server.
                Some(Value::One(api)) => [(api.clone(), 2)].into_iter().collect(),
                _ => Default::default(),
            }),
        );
    }
    let primary_app = crate::runbook::roles::primary(inv).map(|d| d.app.get_ref().clone());
    for c in &mut s.commit {
        if c.app.is_none() {
            c.app = primary_app.clone();
        }
    }
    if s.expected_severity.is_none() {
        if affected(&s, inv).is_empty() {
            return Err(vec![src.error(
                s.id.span().start,
                "no fault takes a process down, so the severity cannot be derived: set `expected_severity`",
            )]);
        }
        let (sev, note) = derive_severity(&s, inv);
        s.expected_severity = Some(sev);
        if s.severity_note.trim().is_empty() {
            s.severity_note = note;
        }
    }
    Ok(s)
}

/// The cluster instances the inventory marks, by the names drills run (`None`: no marks).
fn inventory_cluster(inv: &Inventory) -> Option<std::collections::BTreeMap<String, u32>> {
    let marks: std::collections::BTreeMap<String, u32> = inv
        .deployment
        .iter()
        .flat_map(|d| d.cluster())
        .map(|(name, n)| (super::scenario::concrete_name(name), n.max(1)))
        .collect();
    (!marks.is_empty()).then_some(marks)
}

fn spanned_list(l: &mut Option<Spanned<Vec<String>>>, r: &Roles) {
    if let Some(v) = l {
        let span = v.span();
        *v = Spanned::new(span, r.list(v.get_ref()));
    }
}

fn spanned_text(t: &mut Spanned<String>, r: &Roles) {
    let span = t.span();
    *t = Spanned::new(span, r.text(t.get_ref()));
}

fn substitute(s: &mut Scenario, r: &Roles) {
    for t in [
        &mut s.title,
        &mut s.summary,
        &mut s.briefing,
        &mut s.severity_note,
    ] {
        *t = r.text(t);
    }
    for h in s.hints.iter_mut().chain(s.workflow_runs.iter_mut()) {
        *h = r.text(h);
    }
    s.df = s.df.as_deref().map(|t| r.text(t));
    s.free = s.free.as_deref().map(|t| r.text(t));
    spanned_list(&mut s.initial.processes, r);
    for p in &mut s.initial.process {
        spanned_text(&mut p.name, r);
    }
    for f in &mut s.fault {
        spanned_list(&mut f.targets, r);
        f.reason = r.text(&f.reason);
        f.actor = r.text(&f.actor);
    }
    for c in &mut s.clue {
        c.text = r.text(&c.text);
        c.unit = c.unit.as_deref().map(|u| r.text(u));
        if let Some(p) = &mut c.process {
            spanned_text(p, r);
        }
    }
    for c in &mut s.commit {
        c.message = r.text(&c.message);
        c.paths = c.paths.iter().map(|p| r.text(p)).collect();
        c.app = c.app.as_deref().map(|a| r.text(a));
    }
    if let Some(cl) = &mut s.cluster {
        *cl = cl.iter().map(|(k, v)| (r.text(k), *v)).collect();
    }
}

/// The processes the scenario takes down before or during the drill (concrete names).
pub fn affected(s: &Scenario, inv: &Inventory) -> Vec<String> {
    let all = inventory_names(inv);
    let mut out: Vec<String> = Vec::new();
    let mut add = |n: &str| {
        if !out.iter().any(|o| o == n) {
            out.push(n.to_string());
        }
    };
    if s.initial.daemon == super::scenario::InitialDaemon::Killed {
        all.iter().for_each(|n| add(n));
    }
    if let Some(p) = &s.initial.processes {
        for n in all.iter().filter(|n| !p.get_ref().contains(n)) {
            add(n);
        }
    }
    for p in &s.initial.process {
        if p.status != InitialStatus::Online {
            add(p.name.get_ref());
        }
    }
    for f in &s.fault {
        if f.action == FaultAction::KillDaemon || f.targets().iter().any(|t| t == "all") {
            all.iter().for_each(|n| add(n));
        } else {
            f.targets().iter().for_each(|n| add(n));
        }
    }
    out
}

/// The runbook's decision tree applied to what the scenario takes down: production
/// down and more than one app affected is P1, production down is P2, else P3.
pub fn derive_severity(s: &Scenario, inv: &Inventory) -> (ExpectedSeverity, String) {
    let hit: Vec<(Environment, String)> = affected(s, inv)
        .iter()
        .filter_map(|n| roles::in_environment(inv, n))
        .collect();
    let mut apps: Vec<String> = Vec::new();
    for (_, a) in &hit {
        let name = inv.app_name(a).unwrap_or(a).to_string();
        if !apps.contains(&name) {
            apps.push(name);
        }
    }
    let prod = hit.iter().any(|(e, _)| *e == Environment::Production);
    let apps_text = roles::and_list(&apps);
    match (prod, apps.len()) {
        (true, n) if n > 1 => (
            ExpectedSeverity::P1,
            format!("Production is down and more than one application ({apps_text}) is affected."),
        ),
        (true, _) => (
            ExpectedSeverity::P2,
            format!("Production is down but only one application ({apps_text}) is affected."),
        ),
        (false, _) => (
            ExpectedSeverity::P3,
            format!(
                "No production app is down; only the test environment ({apps_text}) is affected."
            ),
        ),
    }
}
