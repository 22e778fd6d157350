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

impl From<Outcome> for Level {
    fn from(outcome: Outcome) -> Self {
        match outcome {
            Outcome::P1 => Level::P1,
            Outcome::P2 => Level::P2,
            Outcome::P3 => Level::P3,
            Outcome::Investigate => Level::Unknown,
        }
    }
}

impl SeverityCall {
    /// A call made without reaching a leaf of the tree.
    fn without_leaf(level: Level, label: String, path: Vec<Answer>, reasons: Vec<String>) -> Self {
        SeverityCall {
            level,
            label,
            path,
            reasons,
            next_step: None,
            outcome: None,
        }
    }
}

/// Severity for `scope`: a call made before the tree when there is nothing to ask it,
/// else the decision tree's walk.
pub fn classify(rb: &Runbook, scope: &Scope) -> SeverityCall {
    let unexpected_down = unexpected_down(scope);
    match before_the_tree(scope, &unexpected_down) {
        Some(call) => call,
        None => walk_tree(rb, scope, unexpected_down),
    }
}

/// Processes PM2 runs outside the inventory that are down, as reasons.
fn unexpected_down(scope: &Scope) -> Vec<String> {
    scope
        .unexpected
        .iter()
        .filter(|p| p.state.is_down())
        .map(|p| format!("{} {} (not in the inventory)", p.name, p.state.label()))
        .collect()
}

/// The calls made before asking the tree anything: the inventory belongs to another
/// server, there is no evidence at all, or everything is visibly fine.
fn before_the_tree(scope: &Scope, unexpected_down: &[String]) -> Option<SeverityCall> {
    // Never judge a server by another server's inventory.
    if let Some(msg) = scope.fit.message() {
        let label = format!("cannot tell: {msg}");
        return Some(SeverityCall::without_leaf(
            Level::Unknown,
            label,
            vec![],
            vec![msg],
        ));
    }
    let any_evidence = scope.pm2_known || scope.deployments.iter().any(|d| d.has_evidence());
    if !any_evidence {
        return Some(SeverityCall::without_leaf(
            Level::Unknown,
            "cannot determine: PM2 unreachable and no health evidence".into(),
            vec![],
            scope.pm2_note.iter().cloned().collect(),
        ));
    }
    let nothing_down = scope.affected().next().is_none() && unexpected_down.is_empty();
    let all_seen = scope.deployments.iter().all(|d| d.has_evidence());
    if nothing_down && all_seen {
        return Some(SeverityCall::without_leaf(
            Level::None,
            "no incident: every expected process online, no endpoint down".into(),
            vec![],
            vec![],
        ));
    }
    None
}

/// Walks the decision tree from its root, answering each node's predicate, until a
/// leaf (the call) or a question without evidence (undetermined).
fn walk_tree(rb: &Runbook, scope: &Scope, unexpected_down: Vec<String>) -> SeverityCall {
    let tree = &rb.procedure.decision_tree;
    let mut path = Vec::new();
    let mut at = tree.root.get_ref().clone();
    loop {
        if let Some(leaf) = tree.leaf.iter().find(|l| *l.id.get_ref() == at) {
            let mut reasons = path_reasons(&path);
            reasons.extend(unexpected_down);
            return SeverityCall {
                level: leaf.outcome.into(),
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
    let reasons = path_reasons(&path);
    SeverityCall::without_leaf(
        Level::Unknown,
        "cannot determine: not enough evidence to answer the decision tree".into(),
        path,
        reasons,
    )
}

/// Every answer's reasons in one list, in the order asked.
fn path_reasons(path: &[Answer]) -> Vec<String> {
    path.iter().flat_map(|a| a.reasons.clone()).collect()
}
