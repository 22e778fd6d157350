//! Pure judgments from inventory + observation: scope, severity through the
//! runbook's decision tree (with the reason for every answer), the restore plan in
//! priority order, and the verification checklist. No I/O: the TUI, `snapshot`,
//! drills and replay all call these with what they observed.
pub mod checklist;
pub mod daemon_plan;
pub mod fit;
pub mod observation;
pub mod plan;
pub mod predicates;
pub mod scope;
pub mod severity;

pub use checklist::{evaluate_checklist, CheckState, ChecklistResult};
pub use fit::{inventory_fit, InventoryFit};
pub use observation::{Observation, Pm2View};
pub use plan::{restore_plan, PlanAction, PlanItem, RestorePlan};
pub use predicates::{evaluate, PredicateValue};
pub use scope::{scope, DeploymentScope, ProcState, ProcessScope, Scope};
pub use severity::{classify, Answer, Level, SeverityCall};

use serde::Serialize;

use crate::runbook::Runbook;

/// Everything `assess` says about one observation.
#[derive(Debug, Clone, Serialize)]
pub struct Assessment {
    pub scope: Scope,
    pub severity: SeverityCall,
    pub plan: RestorePlan,
    pub checklist: Vec<ChecklistResult>,
}

pub fn assess(rb: &Runbook, obs: &Observation) -> Assessment {
    assess_with_saved(rb, obs, &[])
}

/// As `assess`, also knowing the names in PM2's saved list (`dump.pm2`): an
/// inventory that neither runs nor is saved here is foreign even with the daemon down.
pub fn assess_with_saved(rb: &Runbook, obs: &Observation, saved: &[String]) -> Assessment {
    let mut scope = scope(&rb.inventory, obs);
    if !saved.is_empty() {
        let live = match obs.pm2 {
            Pm2View::Listed(list) => Some(list),
            _ => None,
        };
        scope.fit = inventory_fit(&rb.inventory, live, saved);
    }
    let severity = classify(rb, &scope);
    let plan = restore_plan(rb, &scope);
    let checklist = evaluate_checklist(rb, &scope);
    Assessment {
        scope,
        severity,
        plan,
        checklist,
    }
}
