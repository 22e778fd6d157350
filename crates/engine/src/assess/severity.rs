//! Severity through the runbook's decision tree: each question answered by its
//! predicate, each answer with its reasons, and the leaf it ends in.
use serde::Serialize;

use super::predicates::evaluate;
use super::scope::Scope;
use crate::runbook::{Outcome, Runbook};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Level {
    P1,
    P2,
    P3,
    #[serde(rename = "none")]
    None,
    #[serde(rename = "unknown")]
    Unknown,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::P1 => "P1",
            Level::P2 => "P2",
            Level::P3 => "P3",
            Level::None => "none",
            Level::Unknown => "unknown",
        }
    }

    /// `snapshot`'s exit code: 0 no incident, 1 P3, 2 P2, 3 P1, 4 undetermined.
    pub fn exit_code(self) -> i32 {
        match self {
            Level::None => 0,
            Level::P3 => 1,
            Level::P2 => 2,
            Level::P1 => 3,
            Level::Unknown => 4,
        }
    }
}

/// One question of the tree and how it was answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Answer {
    pub node: String,
    pub question: String,
    pub predicate: String,
    /// `None`: no evidence (the walk stops there).
    pub answer: Option<bool>,
    pub reasons: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SeverityCall {
    pub level: Level,
    /// The leaf's label, e.g. "P1 CRITICAL (all apps down)", or why there is none.
    pub label: String,
    pub path: Vec<Answer>,
    /// Reasons in one list (the path's, flattened), for text output.
    pub reasons: Vec<String>,
    /// The step the runbook goes to next.
    pub next_step: Option<String>,
    /// The decision tree's leaf, when the walk reached one (`Investigate` is a leaf too, which
    /// `level` cannot tell apart from "cannot determine").
    #[serde(skip)]
    pub outcome: Option<Outcome>,
}

pub fn classify(rb: &Runbook, scope: &Scope) -> SeverityCall {
    // Never judge a server by another server's inventory.
    if let Some(msg) = scope.fit.message() {
        return SeverityCall {
            level: Level::Unknown,
            label: format!("cannot tell: {msg}"),
            path: vec![],
            reasons: vec![msg],
            next_step: None,
            outcome: None,
        };
    }
    let affected: Vec<_> = scope.affected().collect();
    let any_evidence = scope.pm2_known || scope.deployments.iter().any(|d| d.has_evidence());
    if !any_evidence {
        return SeverityCall {
            level: Level::Unknown,
            label: "cannot determine: PM2 unreachable and no health evidence".into(),
            path: vec![],
            reasons: scope.pm2_note.iter().cloned().collect(),
            next_step: None,
            outcome: None,
        };
    }
    let unexpected_down: Vec<String> = scope
        .unexpected
        .iter()
        .filter(|p| p.state.is_down())
        .map(|p| format!("{} {} (not in the inventory)", p.name, p.state.label()))
        .collect();
    if affected.is_empty() && unexpected_down.is_empty() {
        let blind: Vec<&str> = scope
            .deployments
            .iter()
            .filter(|d| !d.has_evidence())
            .map(|d| d.id.as_str())
            .collect();
        if blind.is_empty() {
            return SeverityCall {
                level: Level::None,
                label: "no incident: every expected process online, no endpoint down".into(),
                path: vec![],
                reasons: vec![],
                next_step: None,
                outcome: None,
            };
        }
    }
    let tree = &rb.procedure.decision_tree;
    let mut path = Vec::new();
    let mut at = tree.root.get_ref().clone();
    loop {
        if let Some(leaf) = tree.leaf.iter().find(|l| *l.id.get_ref() == at) {
            let level = match leaf.outcome {
                Outcome::P1 => Level::P1,
                Outcome::P2 => Level::P2,
                Outcome::P3 => Level::P3,
                Outcome::Investigate => Level::Unknown,
            };
            let mut reasons: Vec<String> = path
                .iter()
                .flat_map(|a: &Answer| a.reasons.clone())
                .collect();
            reasons.extend(unexpected_down.iter().cloned());
            return SeverityCall {
                level,
                label: leaf.label.clone(),
                path,
                reasons,
                next_step: Some(leaf.next_step.get_ref().clone()),
                outcome: Some(leaf.outcome),
            };
        }
        // Validation guarantees every branch resolves and the tree has no loop.
        let Some(node) = tree.node.iter().find(|n| *n.id.get_ref() == at) else {
            break;
        };
        let v = evaluate(rb, scope, node.predicate.get_ref());
        path.push(Answer {
            node: node.id.get_ref().clone(),
            question: node.question.clone(),
            predicate: node.predicate.get_ref().clone(),
            answer: v.holds,
            reasons: v.reasons.clone(),
        });
        match v.holds {
            Some(true) => at = node.yes.get_ref().clone(),
            Some(false) => at = node.no.get_ref().clone(),
            None => break,
        }
    }
    let reasons = path.iter().flat_map(|a| a.reasons.clone()).collect();
    SeverityCall {
        level: Level::Unknown,
        label: "cannot determine: not enough evidence to answer the decision tree".into(),
        path,
        reasons,
        next_step: None,
        outcome: None,
    }
}
