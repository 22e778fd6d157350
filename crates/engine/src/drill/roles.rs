//! The roles a drill scenario is written in, resolved against one inventory: the
//! production API, a production worker, the test environment, and the words a briefing
//! needs (app names, URLs, directories). A scenario says `${api}`; this module says
//! which process that is on this server, or that the server has no such role.
use std::collections::BTreeMap;

use super::scenario::concrete_name;
use crate::runbook::roles::{self, Role};
use crate::runbook::{Deployment, Environment, Inventory};

/// What a placeholder stands for on this inventory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    One(String),
    /// Several process names: a list entry `"${test}"` becomes one entry each.
    Many(Vec<String>),
}

impl Value {
    /// As prose: a list joined with ", ".
    pub fn text(&self) -> String {
        match self {
            Value::One(s) => s.clone(),
            Value::Many(v) => v.join(", "),
        }
    }
}

/// The placeholder names a scenario may use, and the role each one needs (for the
/// message when an inventory lacks it).
pub const KNOWN: &[(&str, &str)] = &[
    ("site", ""),
    ("pm2_service", ""),
    ("api", "a production deployment"),
    ("app", "a production deployment"),
    ("primary.app_id", "a production deployment"),
    ("primary.dir", "a production deployment"),
    ("primary.config", "a production deployment"),
    ("primary.url", "a production deployment"),
    ("primary.processes", "a production deployment"),
    (
        "worker",
        "a production worker (a second production process)",
    ),
    ("production", "a production deployment"),
    ("production.apps", "a production deployment"),
    ("production.urls", "a production deployment"),
    ("test", "a test deployment"),
    ("test.first", "a test deployment"),
    ("test.app", "a test deployment"),
    ("test.dir", "a test deployment"),
    ("test.config", "a test deployment"),
    ("test.url", "a test deployment"),
];

/// What the role placeholders are on one inventory; a name absent from `values` but in
/// [`KNOWN`] is a role this inventory does not have.
#[derive(Debug, Clone, Default)]
pub struct Roles {
    pub values: BTreeMap<String, Value>,
}

fn url(d: &Deployment) -> String {
    d.base_url()
        .map(str::to_string)
        .unwrap_or_else(|| format!("{} (no URL in the inventory)", d.id.get_ref()))
}

fn names(d: &Deployment) -> Vec<String> {
    d.processes
        .get_ref()
        .iter()
        .map(|p| concrete_name(p))
        .collect()
}

/// "A", "A and B", "A, B and C".
pub fn and_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

impl Roles {
    pub fn of(inv: &Inventory) -> Roles {
        let mut v = BTreeMap::new();
        let one = |s: &str| Value::One(s.to_string());
        v.insert("site".into(), one(&inv.site));
        v.insert("pm2_service".into(), one(&inv.pm2_service));
        let production = roles::deployments(inv, Role::Production);
        if let Some(p) = roles::deployments(inv, Role::Primary).first() {
            let ps = names(p);
            if let Some(api) = ps.first() {
                v.insert("api".into(), one(api));
            }
            let disp = roles::display(inv, p);
            v.insert("app".into(), one(&disp.app_name));
            v.insert("primary.app_id".into(), one(p.app.get_ref()));
            v.insert("primary.dir".into(), one(&p.dir));
            v.insert("primary.config".into(), one(&p.config));
            v.insert("primary.url".into(), Value::One(url(p)));
            v.insert("primary.processes".into(), Value::Many(ps.clone()));
            // A production worker: the primary's other processes first, then the other
            // production deployments' processes, in restore order.
            let api = ps.first().cloned();
            let worker = production
                .iter()
                .flat_map(|d| names(d))
                .find(|n| Some(n) != api.as_ref());
            if let Some(w) = worker {
                v.insert("worker".into(), Value::One(w));
            }
        }
        if !production.is_empty() {
            v.insert(
                "production".into(),
                Value::Many(production.iter().flat_map(|d| names(d)).collect()),
            );
            let mut apps: Vec<String> = Vec::new();
            for d in &production {
                let n = roles::display(inv, d).app_name;
                if !apps.contains(&n) {
                    apps.push(n);
                }
            }
            v.insert("production.apps".into(), Value::One(and_list(&apps)));
            let urls: Vec<String> = production.iter().map(|d| url(d)).collect();
            v.insert("production.urls".into(), Value::One(and_list(&urls)));
        }
        // The test environment: the first test deployment in restore order.
        if let Some(t) = roles::deployments(inv, Role::Test).first() {
            let ts = names(t);
            if let Some(first) = ts.first() {
                v.insert("test.first".into(), one(first));
            }
            v.insert("test".into(), Value::Many(ts));
            v.insert("test.app".into(), one(&roles::display(inv, t).app_name));
            v.insert("test.dir".into(), one(&t.dir));
            v.insert("test.config".into(), one(&t.config));
            v.insert("test.url".into(), Value::One(url(t)));
        }
        Roles { values: v }
    }

    pub fn get(&self, name: &str) -> Option<&Value> {
        self.values.get(name)
    }

    /// `${name}` replaced by its prose value; unknown or missing names stay as they are
    /// (the loader reports them before this runs).
    pub fn text(&self, template: &str) -> String {
        let Ok(refs) = crate::runbook::vars::references(template) else {
            return template.to_string();
        };
        let mut out = String::with_capacity(template.len());
        let mut rest = 0;
        for r in refs {
            let end = r.offset + 2 + r.name.len() + 1;
            out.push_str(&template[rest..r.offset].replace("$${", "${"));
            match self.get(&r.name) {
                Some(v) => out.push_str(&v.text()),
                None => out.push_str(&template[r.offset..end]),
            }
            rest = end;
        }
        out.push_str(&template[rest..].replace("$${", "${"));
        out
    }

    /// A list of names: an entry that is exactly one `${list}` expands to its members.
    pub fn list(&self, items: &[String]) -> Vec<String> {
        let mut out = Vec::new();
        for it in items {
            let whole = it
                .strip_prefix("${")
                .and_then(|r| r.strip_suffix('}'))
                .and_then(|n| self.get(n));
            match whole {
                Some(Value::Many(v)) => out.extend(v.iter().cloned()),
                _ => out.push(self.text(it)),
            }
        }
        out
    }
}

/// The role a placeholder needs, when it is one this module knows.
pub fn need(name: &str) -> Option<&'static str> {
    KNOWN
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, need)| *need)
}

/// Processes of the inventory in `environment` (concrete names), for severity derivation.
pub fn in_environment(inv: &Inventory, name: &str) -> Option<(Environment, String)> {
    inv.deployment.iter().find_map(|d| {
        names(d)
            .iter()
            .any(|n| n == name)
            .then(|| (d.environment, d.app.get_ref().clone()))
    })
}
