//! `runbook check` and `runbook show`.
use std::fmt::Write as _;

use crate::cmd::cli::RunbookSource;
use crate::runbook::discover::{discover, InventoryChoice};
use crate::runbook::model::{Effect, Risk};
use crate::runbook::Runbook;
use std::path::Path;

fn load_from(src: &RunbookSource, inventory: Option<&Path>) -> Result<Runbook, i32> {
    Runbook::load(src.runbook.as_deref(), inventory).map_err(|errors| {
        for e in &errors {
            eprintln!("{e}");
        }
        eprintln!("{} error(s)", errors.len());
        1
    })
}

/// The sentence every command prints when no inventory is configured.
pub const NO_INVENTORY: &str = "no inventory configured for this server (--inventory, \
$PM2_INCIDENT_INVENTORY, $XDG_CONFIG_HOME/pm2-incident/inventory.toml, \
/etc/pm2-incident/inventory.toml): run `pm2-incident init` to write one from what PM2 runs \
(or pass `--inventory example` for the shipped example)";

/// The runbook with the inventory found by the discovery order, or `None` when
/// none is configured; printing every `file:line:col` error (`Err`: exit code 1).
pub fn load_configured(src: &RunbookSource) -> Result<Option<Runbook>, i32> {
    match discover(src.inventory.as_deref()) {
        InventoryChoice::File { path, .. } => load_from(src, Some(&path)).map(Some),
        InventoryChoice::Example => load_from(src, None).map(Some),
        InventoryChoice::None => Ok(None),
    }
}

/// For `runbook check/show`: with no inventory configured, the shipped example
/// (said on stderr).
pub fn load(src: &RunbookSource) -> Result<Runbook, i32> {
    match load_configured(src)? {
        Some(rb) => Ok(rb),
        None => {
            eprintln!("note: {NO_INVENTORY}; using the shipped example inventory");
            load_from(src, None)
        }
    }
}

/// For drills: `--inventory` when given, else the shipped example (a drill's
/// simulated server is the example site, whatever this server runs).
pub fn load_drill(src: &RunbookSource) -> Result<Runbook, i32> {
    let flag = src
        .inventory
        .as_deref()
        .filter(|p| p.as_os_str() != crate::runbook::discover::EXAMPLE);
    load_from(src, flag)
}

/// The inventory file `src` names or discovery finds (`None`: the example, or none).
pub fn inventory_path(src: &RunbookSource) -> Option<std::path::PathBuf> {
    match discover(src.inventory.as_deref()) {
        InventoryChoice::File { path, .. } => Some(path),
        _ => None,
    }
}

/// Each `[[host]]`'s own runbook (`None`: the listing inventory applies), every inventory
/// file loaded and validated; errors printed, `Err(1)`.
pub fn host_runbooks(src: &RunbookSource, rb: &Runbook) -> Result<Vec<Option<Runbook>>, i32> {
    let listing = inventory_path(src);
    match crate::runbook::hosts::load_host_runbooks(rb, src.runbook.as_deref(), listing.as_deref())
    {
        Ok(own) => Ok(own),
        Err(errors) => {
            for e in &errors {
                eprintln!("{e}");
            }
            eprintln!("{} error(s)", errors.len());
            Err(1)
        }
    }
}

pub fn check(src: &RunbookSource) -> i32 {
    match load(src) {
        Ok(rb) => {
            let own = match host_runbooks(src, &rb) {
                Ok(own) => own.iter().flatten().count(),
                Err(code) => return code,
            };
            let p = &rb.procedure;
            println!(
                "ok: {} — {} phases, {} steps, {} commands; inventory {}: {} deployments, {} restore priorities",
                p.id.get_ref(),
                p.phase.len(),
                p.steps().count(),
                p.commands().count(),
                rb.inventory.site,
                rb.inventory.deployment.len(),
                rb.inventory.restore.len()
            );
            if !rb.inventory.host.is_empty() {
                println!(
                    "hosts: {} ({own} with an inventory of their own, checked)",
                    rb.inventory.host.len()
                );
            }
            0
        }
        Err(code) => code,
    }
}

pub fn show(src: &RunbookSource) -> i32 {
    match load(src) {
        Ok(rb) => {
            print!("{}", outline(&rb));
            0
        }
        Err(code) => code,
    }
}

/// The outline `runbook show` prints: phases, steps, commands with their tags.
pub fn outline(rb: &Runbook) -> String {
    let p = &rb.procedure;
    let mut out = String::new();
    let _ = writeln!(out, "{} ({})", p.title, p.id.get_ref());
    let _ = writeln!(
        out,
        "site: {}   last updated: {}",
        rb.inventory.site, p.last_updated
    );
    let _ = writeln!(out);
    let _ = writeln!(out, "Severity:");
    for s in &p.severity {
        let _ = writeln!(
            out,
            "  {} {:<9} {:<22} {}",
            s.id.get_ref(),
            s.name,
            s.response,
            s.criteria
        );
    }
    let _ = writeln!(out);
    for (n, phase) in p.phase.iter().enumerate() {
        let _ = writeln!(out, "{}. {}", n + 1, phase.title);
        for step in &phase.step {
            let mut extra = String::new();
            if let Some(t) = &step.time_budget {
                extra.push_str(&format!("  ({t})"));
            }
            if let Some(s) = &step.scenario {
                extra.push_str(&format!("  [scenario {}]", s.letter));
            }
            let _ = writeln!(out, "   - {}{}", step.title, extra);
            for c in &step.command {
                let tag = match (c.effect, c.risk) {
                    (_, Risk::Dangerous) => "DANGER",
                    (_, Risk::Caution) => "caution",
                    (Effect::Read, _) => "read",
                    (Effect::Change, _) => "change",
                };
                let line = rb.render(c.run.get_ref());
                let first = line.lines().next().unwrap_or("");
                let more = if line.lines().count() > 1 { " …" } else { "" };
                let doc = if c.runnable {
                    ""
                } else {
                    " (not run by the tool)"
                };
                let _ = writeln!(out, "       [{tag:<7}] {first}{more}{doc}");
            }
            for q in &step.question {
                let _ = writeln!(
                    out,
                    "       ? {}  → {}",
                    q.question,
                    rb.render(q.run.get_ref())
                );
            }
            for item in &step.checklist {
                let how = if item.predicate.is_some() {
                    "auto"
                } else {
                    "manual"
                };
                let _ = writeln!(out, "       [ ] {} ({how})", item.text);
            }
            for t in &step.template {
                let _ = writeln!(out, "       template: {}", t.title);
            }
        }
    }
    out
}
