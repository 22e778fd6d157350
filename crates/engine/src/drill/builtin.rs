//! The shipped scenarios, embedded in the binary, and loading one from a file.
use std::path::Path;

use super::scenario::{self, ExpectedSeverity, Scenario};
use crate::runbook::{Inventory, LoadError, Source};

/// (file name for messages, text), in the order `drill --list` shows them.
pub const BUILTIN: &[(&str, &str)] = &[
    (
        "assets/drills/delete-all.toml",
        include_str!("../../../../assets/drills/delete-all.toml"),
    ),
    (
        "assets/drills/api-crash-loop.toml",
        include_str!("../../../../assets/drills/api-crash-loop.toml"),
    ),
    (
        "assets/drills/test-killed.toml",
        include_str!("../../../../assets/drills/test-killed.toml"),
    ),
    (
        "assets/drills/oom-worker.toml",
        include_str!("../../../../assets/drills/oom-worker.toml"),
    ),
    (
        "assets/drills/daemon-killed.toml",
        include_str!("../../../../assets/drills/daemon-killed.toml"),
    ),
];

/// The scenario a bare `drill` runs: the source runbook's own incident.
pub const DEFAULT_SCENARIO: &str = "delete-all";

fn parse_all() -> Vec<Result<Scenario, Vec<LoadError>>> {
    BUILTIN
        .iter()
        .map(|(name, text)| scenario::parse(Source { name, text }))
        .collect()
}

/// Ids of the shipped scenarios.
pub fn builtin_ids() -> Vec<String> {
    parse_all()
        .into_iter()
        .flatten()
        .map(|s| s.id().to_string())
        .collect()
}

/// (id, title, expected severity) of every shipped scenario on the shipped inventory.
pub fn list() -> Vec<(String, String, ExpectedSeverity)> {
    match crate::runbook::Runbook::embedded() {
        Ok(rb) => list_on(&rb.inventory)
            .into_iter()
            .filter_map(|(id, r)| r.ok().map(|s| (id, s.title.clone(), s.expected())))
            .collect(),
        Err(_) => Vec::new(),
    }
}

/// Every shipped scenario resolved on `inv`: (id, the scenario or why it cannot run there).
pub fn list_on(inv: &Inventory) -> Vec<(String, Result<Scenario, Vec<LoadError>>)> {
    BUILTIN
        .iter()
        .filter_map(|(name, text)| {
            let src = Source { name, text };
            let id = scenario::parse(src).ok()?.id().to_string();
            Some((id, scenario::load(src, inv)))
        })
        .collect()
}

/// A shipped scenario by id, checked against the inventory.
pub fn builtin(id: &str, inv: &Inventory) -> Result<Scenario, Vec<LoadError>> {
    builtin_on(id, inv, "the inventory")
}

/// [`builtin`], naming the inventory (`inv_name`) when it lacks a role the scenario needs.
pub fn builtin_on(id: &str, inv: &Inventory, inv_name: &str) -> Result<Scenario, Vec<LoadError>> {
    for (name, text) in BUILTIN {
        let src = Source { name, text };
        let s = scenario::parse(src)?;
        if s.id() == id {
            return scenario::load_on(src, inv, inv_name);
        }
    }
    Err(vec![LoadError {
        file: "drill".into(),
        line: 0,
        col: 0,
        message: format!(
            "no built-in scenario `{id}`; known: {}",
            builtin_ids().join(", ")
        ),
    }])
}

/// A scenario from a TOML file (`drill --file F`), checked against the inventory.
pub fn load_file(path: &Path, inv: &Inventory) -> Result<Scenario, Vec<LoadError>> {
    load_file_on(path, inv, "the inventory")
}

/// [`load_file`], naming the inventory in role errors.
pub fn load_file_on(
    path: &Path,
    inv: &Inventory,
    inv_name: &str,
) -> Result<Scenario, Vec<LoadError>> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| {
        vec![LoadError {
            file: name.clone(),
            line: 0,
            col: 0,
            message: format!("cannot read: {e}"),
        }]
    })?;
    scenario::load_on(
        Source {
            name: &name,
            text: &text,
        },
        inv,
        inv_name,
    )
}
