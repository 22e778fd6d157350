//! The verification checklist evaluated from state; items without a predicate are
//! the responder's to tick.
use serde::Serialize;

use super::predicates::evaluate;
use super::scope::Scope;
use crate::runbook::model::StepRole;
use crate::runbook::Runbook;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckState {
    Holds,
    Fails,
    Unknown,
    /// Only the responder can tick it.
    Manual,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChecklistResult {
    pub id: String,
    pub text: String,
    pub state: CheckState,
    pub reasons: Vec<String>,
}

/// The items of the verification checklist step.
pub fn evaluate_checklist(rb: &Runbook, scope: &Scope) -> Vec<ChecklistResult> {
    let Some(step) = rb.procedure.step_with_role(StepRole::VerificationChecklist) else {
        return vec![];
    };
    step.checklist
        .iter()
        .map(|item| match &item.predicate {
            None => ChecklistResult {
                id: item.id.get_ref().clone(),
                text: item.text.clone(),
                state: CheckState::Manual,
                reasons: vec![],
            },
            Some(p) => {
                let v = evaluate(rb, scope, p.get_ref());
                ChecklistResult {
                    id: item.id.get_ref().clone(),
                    text: item.text.clone(),
                    state: match v.holds {
                        Some(true) => CheckState::Holds,
                        Some(false) => CheckState::Fails,
                        None => CheckState::Unknown,
                    },
                    reasons: v.reasons,
                }
            }
        })
        .collect()
}
