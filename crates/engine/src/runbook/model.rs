//! The procedure (the runbook as data) and its pieces. Deserialized from TOML with
//! unknown keys refused; positions are kept (`Spanned`) where validation may need to
//! point at a value.
use serde::{Deserialize, Serialize};
use serde_spanned::Spanned;

pub use super::roles::Role;

pub type Text = Spanned<String>;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Procedure {
    pub id: Text,
    pub title: String,
    pub purpose: String,
    pub audience: String,
    pub last_updated: String,
    #[serde(default)]
    pub related: Vec<Link>,
    pub severity: Vec<Severity>,
    pub decision_tree: DecisionTree,
    pub phase: Vec<Phase>,
    #[serde(default)]
    pub revision: Vec<Revision>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Link {
    pub title: String,
    pub path: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Revision {
    pub date: String,
    pub author: String,
    pub change: String,
}

/// One row of the runbook's severity table.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Severity {
    /// `P1`, `P2`, `P3`.
    pub id: Text,
    pub name: String,
    pub criteria: String,
    /// The runbook's wording, e.g. "Immediate (< 5 min)".
    pub response: String,
    /// The same target in minutes, for the header's countdown.
    pub response_minutes: u32,
    pub example: String,
}

/// The severity decision tree: questions answered by named predicates, ending in leaves.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecisionTree {
    pub root: Text,
    pub node: Vec<DecisionNode>,
    pub leaf: Vec<DecisionLeaf>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecisionNode {
    pub id: Text,
    pub question: String,
    /// Name of the automatic predicate that answers the question from live state.
    pub predicate: Text,
    pub yes: Text,
    pub no: Text,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecisionLeaf {
    pub id: Text,
    pub outcome: Outcome,
    pub label: String,
    /// The step the responder goes to once this severity is decided.
    pub next_step: Text,
}

/// Where the decision tree ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
pub enum Outcome {
    P1,
    P2,
    P3,
    #[serde(rename = "investigate")]
    Investigate,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Phase {
    pub id: Text,
    pub title: String,
    #[serde(default)]
    pub summary: Option<String>,
    pub step: Vec<Step>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    pub id: Text,
    /// What the tool does at this step beyond showing it (the severity decision, the restore
    /// plan, ...). Code finds steps by role, never by id, so a procedure may name its steps.
    #[serde(default)]
    pub role: Option<Spanned<StepRole>>,
    pub title: String,
    #[serde(default)]
    pub text: Option<String>,
    /// The runbook's time box for the step, e.g. "2 minutes".
    #[serde(default)]
    pub time_budget: Option<String>,
    /// A predicate whose live value this step shows (e.g. the incident signature).
    #[serde(default)]
    pub shows: Option<Text>,
    /// Restoration scenario (A-D) this step is.
    #[serde(default)]
    pub scenario: Option<Scenario>,
    /// Repeat this step for each deployment playing the role (`${each.…}`).
    #[serde(default)]
    pub for_each: Option<Role>,
    #[serde(default)]
    pub list: Vec<BulletList>,
    #[serde(default)]
    pub command: Vec<Command>,
    #[serde(default)]
    pub question: Vec<ScopeQuestion>,
    #[serde(default)]
    pub checklist: Vec<ChecklistItem>,
    #[serde(default)]
    pub root_cause: Vec<RootCause>,
    #[serde(default)]
    pub template: Vec<Template>,
    #[serde(default)]
    pub table: Vec<Table>,
    #[serde(default)]
    pub snippet: Vec<Snippet>,
}

impl Step {
    pub fn has_role(&self, role: StepRole) -> bool {
        self.role.as_ref().is_some_and(|r| *r.get_ref() == role)
    }
}

/// The steps the tool acts at. Each appears at most once in a procedure (the loader checks).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum StepRole {
    /// The decision tree walked with automatic answers; accept or override.
    ClassifySeverity,
    /// The restore plan in priority order with the production gate.
    RestorationOrder,
    /// The verification checklist that ticks itself; the mitigated milestone.
    VerificationChecklist,
    /// The 5 whys and the root cause.
    FiveWhys,
    /// The post-incident report's records (factors, lessons, resolution).
    ReportTemplate,
    /// Action items.
    ActionItems,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// "A", "B", "C" or "D".
    pub letter: String,
    /// Predicate that says this scenario applies.
    pub when: Text,
    /// Inventory deployments this scenario restores, in order. Filled when the
    /// procedure is instantiated: the step's own deployment (`for_each`) or `role`'s.
    #[serde(default)]
    pub deployments: Vec<Text>,
    /// The deployments this scenario restores, by role.
    #[serde(default)]
    pub role: Option<Role>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BulletList {
    pub title: String,
    pub items: Vec<String>,
}

/// What running a command does to the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Effect {
    /// Only reads state.
    Read,
    /// Changes state (starts, restarts, writes files, ...).
    Change,
}

/// The runbook's own judgement of a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Risk {
    #[default]
    Safe,
    Caution,
    Dangerous,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Command {
    #[serde(default)]
    pub id: Option<Text>,
    /// The command line, with `${var}` references to inventory values.
    pub run: Text,
    pub purpose: String,
    pub effect: Effect,
    #[serde(default)]
    pub risk: Risk,
    /// False for lines the runbook shows but that are not run from the tool
    /// (dangerous examples, `ssh`, placeholders the responder must edit).
    #[serde(default = "yes")]
    pub runnable: bool,
    /// Working directory (may use `${var}`).
    #[serde(default)]
    pub dir: Option<Text>,
    /// What the runbook says the output should be.
    #[serde(default)]
    pub expect: Option<String>,
    /// Repeat this command for each deployment playing the role (`${each.…}`).
    /// Consecutive commands with the same role repeat together, per deployment.
    #[serde(default)]
    pub for_each: Option<Role>,
    /// In a `for_each` block: only for deployments of this environment.
    #[serde(default)]
    pub only_environment: Option<super::inventory::Environment>,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScopeQuestion {
    pub question: String,
    pub run: Text,
    pub impact: String,
    #[serde(default)]
    pub predicate: Option<Text>,
    /// Ask once for each deployment playing the role (`${each.…}`).
    #[serde(default)]
    pub for_each: Option<Role>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChecklistItem {
    pub id: Text,
    pub text: String,
    /// Evaluated from live state when present; otherwise the responder ticks it.
    #[serde(default)]
    pub predicate: Option<Text>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RootCause {
    pub id: Text,
    pub cause: String,
    pub evidence: String,
    pub prevention: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Template {
    pub id: Text,
    pub title: String,
    pub subject: String,
    pub body: String,
    #[serde(default)]
    pub field: Vec<TemplateField>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TemplateField {
    /// The placeholder as written in the template, e.g. `[Name]`.
    pub placeholder: String,
    pub meaning: String,
    /// Where the tool can fill it from, when it can.
    #[serde(default)]
    pub source: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Table {
    pub title: String,
    pub columns: Vec<String>,
    pub rows: Spanned<Vec<Vec<String>>>,
}

/// A non-shell block the runbook shows verbatim (expected output, JS patterns, examples).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Snippet {
    pub title: String,
    pub lang: String,
    pub text: String,
}

impl Procedure {
    pub fn steps(&self) -> impl Iterator<Item = (&Phase, &Step)> {
        self.phase
            .iter()
            .flat_map(|p| p.step.iter().map(move |s| (p, s)))
    }

    pub fn commands(&self) -> impl Iterator<Item = (&Phase, &Step, &Command)> {
        self.steps()
            .flat_map(|(p, s)| s.command.iter().map(move |c| (p, s, c)))
    }

    pub fn step(&self, id: &str) -> Option<&Step> {
        self.steps().map(|(_, s)| s).find(|s| s.id.get_ref() == id)
    }

    /// The step that plays `role`, if the procedure has one.
    pub fn step_with_role(&self, role: StepRole) -> Option<&Step> {
        self.steps().map(|(_, s)| s).find(|s| s.has_role(role))
    }

    pub fn severity(&self, id: &str) -> Option<&Severity> {
        self.severity.iter().find(|s| s.id.get_ref() == id)
    }

    pub fn template(&self, id: &str) -> Option<&Template> {
        self.steps()
            .flat_map(|(_, s)| s.template.iter())
            .find(|t| t.id.get_ref() == id)
    }
}
