//! Whether the inventory describes this server at all. An inventory none of whose
//! processes PM2 runs or has saved, on a server where other processes run (or are
//! saved), describes another server: judging it would report every app "missing" —
//! a false P1. It is reported as such, and severity becomes "cannot tell".
use serde::Serialize;

use crate::pm2::Process;
use crate::runbook::inventory::{glob_match, is_glob};
use crate::runbook::Inventory;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "fit", rename_all = "snake_case")]
pub enum InventoryFit {
    /// Some expected process is listed or saved, or nothing contradicts the inventory.
    Describes,
    /// None of the inventory's processes is listed or saved, and others are.
    Foreign {
        /// The inventory's process names and globs.
        expected: Vec<String>,
        /// What this server runs (online) or saved instead.
        found: Vec<String>,
    },
}

impl InventoryFit {
    pub fn is_foreign(&self) -> bool {
        matches!(self, InventoryFit::Foreign { .. })
    }

    /// The sentence shown to the responder, or `None` when the inventory fits.
    pub fn message(&self) -> Option<String> {
        let InventoryFit::Foreign { expected, found } = self else {
            return None;
        };
        Some(format!(
            "this inventory does not describe this server (expected {}, found {}): run `pm2-incident init`",
            short_list(&summarize(expected)),
            short_list(found)
        ))
    }
}

/// `live`: PM2's list when it could be read; `saved`: the names in the saved list
/// (`dump.pm2`) when one was read.
pub fn inventory_fit(inv: &Inventory, live: Option<&[Process]>, saved: &[String]) -> InventoryFit {
    let patterns = inv.process_patterns();
    let known = |name: &str| {
        patterns.iter().any(|p| {
            if is_glob(p) {
                glob_match(p, name)
            } else {
                p == name
            }
        })
    };
    let live_names = live.unwrap_or(&[]).iter().map(|p| p.name.as_str());
    if live_names.clone().any(known) || saved.iter().any(|n| known(n)) {
        return InventoryFit::Describes;
    }
    let mut found: Vec<String> = Vec::new();
    let online = live
        .unwrap_or(&[])
        .iter()
        .filter(|p| p.status == crate::pm2::ProcessStatus::Online)
        .map(|p| p.name.clone());
    for n in online.chain(saved.iter().cloned()) {
        if !found.contains(&n) {
            found.push(n);
        }
    }
    if found.is_empty() {
        InventoryFit::Describes
    } else {
        InventoryFit::Foreign {
            expected: patterns,
            found,
        }
    }
}

/// Names sharing a first dash-separated word collapse to `word-*` (the runbook's
/// `flyer-crawler-*` style), so the message stays one line.
fn summarize(names: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for n in names {
        let prefix = n.split('-').take(2).collect::<Vec<_>>().join("-");
        let siblings = names.iter().filter(|m| m.starts_with(&prefix)).count();
        let shown = if siblings > 1 && prefix != *n {
            format!("{prefix}-*")
        } else {
            n.clone()
        };
        if !out.contains(&shown) {
            out.push(shown);
        }
    }
    out
}

fn short_list(names: &[String]) -> String {
    const MAX: usize = 4;
    let mut s = names
        .iter()
        .take(MAX)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if names.len() > MAX {
        s.push_str(", …");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_collapses_families() {
        let names: Vec<String> = [
            "flyer-crawler-api",
            "flyer-crawler-worker",
            "stock-alert-*",
            "blog",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        assert_eq!(
            summarize(&names),
            ["flyer-crawler-*", "stock-alert-*", "blog"]
        );
    }

    #[test]
    fn long_lists_are_cut() {
        let names: Vec<String> = (0..6).map(|i| format!("app{i}")).collect();
        assert_eq!(short_list(&names), "app0, app1, app2, app3, …");
    }
}
