//! Checks that TOML's types cannot express: unique ids, references that resolve,
//! known predicates, variables that exist. Every error points at file:line:col.
use std::collections::{HashMap, HashSet};

use serde_spanned::Spanned;

use super::error::{LoadError, Source};
use super::inventory::{glob_match, is_glob, Deployment, Inventory};
use super::model::{DecisionTree, Outcome, Procedure, Step, Table, Text};
use super::predicates;
use super::vars::{references, VarError, Vars};

/// Collects "duplicate id" errors within one namespace.
struct Ids<'a> {
    src: Source<'a>,
    kind: &'static str,
    seen: HashSet<String>,
}

impl<'a> Ids<'a> {
    fn new(src: Source<'a>, kind: &'static str) -> Self {
        Ids {
            src,
            kind,
            seen: HashSet::new(),
        }
    }

    fn add(&mut self, id: &Text, errors: &mut Vec<LoadError>) {
        let name = id.get_ref();
        if name.trim().is_empty() {
            errors.push(
                self.src
                    .error(id.span().start, format!("empty {} id", self.kind)),
            );
        } else if !self.seen.insert(name.clone()) {
            errors.push(self.src.error(
                id.span().start,
                format!("duplicate {} id `{name}`", self.kind),
            ));
        }
    }
}

fn check_predicate(src: Source, p: &Text, errors: &mut Vec<LoadError>) {
    if !predicates::is_known(p.get_ref()) {
        errors.push(src.error(
            p.span().start,
            format!(
                "unknown predicate `{}` (known: {})",
                p.get_ref(),
                predicates::KNOWN.join(", ")
            ),
        ));
    }
}

/// Each step role at most once: the tool acts at one step per role.
fn step_roles(src: Source, p: &Procedure, errors: &mut Vec<LoadError>) {
    let mut seen: HashMap<super::model::StepRole, String> = HashMap::new();
    for (_, s) in p.steps() {
        let Some(role) = &s.role else { continue };
        if let Some(first) = seen.insert(*role.get_ref(), s.id.get_ref().clone()) {
            errors.push(src.error(
                role.span().start,
                format!(
                    "step `{}` has role {:?}, already played by step `{first}`",
                    s.id.get_ref(),
                    role.get_ref()
                ),
            ));
        }
    }
}

/// The procedure's checks: phases, unique severity ids, the decision tree, step roles,
/// leaves that go to steps, then each phase and step.
pub fn procedure(src: Source, p: &Procedure) -> Vec<LoadError> {
    let mut errors = Vec::new();
    if p.phase.is_empty() {
        errors.push(src.error(0, "the runbook has no phase"));
    }
    let mut sev_ids = Ids::new(src, "severity");
    for s in &p.severity {
        sev_ids.add(&s.id, &mut errors);
    }
    decision_tree(src, p, &mut errors);
    step_roles(src, p, &mut errors);
    leaf_steps(src, p, &mut errors);
    let mut ids = StepIds::new(src);
    for phase in &p.phase {
        ids.phase.add(&phase.id, &mut errors);
        if phase.step.is_empty() {
            errors.push(src.error(
                phase.id.span().start,
                format!("phase `{}` has no step", phase.id.get_ref()),
            ));
        }
        for step in &phase.step {
            self::step(src, step, &mut ids, &mut errors);
        }
    }
    errors
}

/// Every leaf of the decision tree goes to a step that exists.
fn leaf_steps(src: Source, p: &Procedure, errors: &mut Vec<LoadError>) {
    for l in &p.decision_tree.leaf {
        if p.step(l.next_step.get_ref()).is_none() {
            errors.push(src.error(
                l.next_step.span().start,
                format!(
                    "leaf `{}` goes to unknown step `{}`",
                    l.id.get_ref(),
                    l.next_step.get_ref()
                ),
            ));
        }
    }
}

/// The id namespaces of phases and of what steps hold, each unique runbook-wide.
struct StepIds<'a> {
    phase: Ids<'a>,
    step: Ids<'a>,
    command: Ids<'a>,
    check: Ids<'a>,
    template: Ids<'a>,
    cause: Ids<'a>,
}

impl<'a> StepIds<'a> {
    fn new(src: Source<'a>) -> Self {
        StepIds {
            phase: Ids::new(src, "phase"),
            step: Ids::new(src, "step"),
            command: Ids::new(src, "command"),
            check: Ids::new(src, "checklist item"),
            template: Ids::new(src, "template"),
            cause: Ids::new(src, "root cause"),
        }
    }
}

/// One step: unique ids for it and what it holds, known predicates, non-empty
/// commands, tables with full rows.
fn step(src: Source, step: &Step, ids: &mut StepIds, errors: &mut Vec<LoadError>) {
    ids.step.add(&step.id, errors);
    if let Some(p) = &step.shows {
        check_predicate(src, p, errors);
    }
    if let Some(s) = &step.scenario {
        check_predicate(src, &s.when, errors);
    }
    for c in &step.command {
        if let Some(id) = &c.id {
            ids.command.add(id, errors);
        }
        if c.run.get_ref().trim().is_empty() {
            errors.push(src.error(c.run.span().start, "empty command"));
        }
    }
    for q in &step.question {
        if let Some(p) = &q.predicate {
            check_predicate(src, p, errors);
        }
    }
    for item in &step.checklist {
        ids.check.add(&item.id, errors);
        if let Some(p) = &item.predicate {
            check_predicate(src, p, errors);
        }
    }
    for t in &step.template {
        ids.template.add(&t.id, errors);
    }
    for r in &step.root_cause {
        ids.cause.add(&r.id, errors);
    }
    for t in &step.table {
        table_rows(src, t, errors);
    }
}

/// Every row of a step's table has one cell per column.
fn table_rows(src: Source, t: &Table, errors: &mut Vec<LoadError>) {
    for (i, row) in t.rows.get_ref().iter().enumerate() {
        if row.len() != t.columns.len() {
            errors.push(src.error(
                t.rows.span().start,
                format!(
                    "table `{}` row {} has {} cells, expected {}",
                    t.title,
                    i + 1,
                    row.len(),
                    t.columns.len()
                ),
            ));
        }
    }
}

/// The decision tree: its entries, a root that is a node, branches that resolve, no loop.
fn decision_tree(src: Source, p: &Procedure, errors: &mut Vec<LoadError>) {
    let tree = &p.decision_tree;
    tree_entries(src, p, errors);
    let nodes: HashMap<&str, (&Text, &Text)> = tree
        .node
        .iter()
        .map(|n| (n.id.get_ref().as_str(), (&n.yes, &n.no)))
        .collect();
    if !nodes.contains_key(tree.root.get_ref().as_str()) {
        errors.push(src.error(
            tree.root.span().start,
            format!("decision-tree root `{}` is not a node", tree.root.get_ref()),
        ));
        return;
    }
    if dangling_branches(src, tree, &nodes, errors) {
        return;
    }
    if let Some(back) = find_cycle(tree.root.get_ref(), &nodes) {
        errors.push(src.error(
            back.span().start,
            format!("decision tree loops back to `{}`", back.get_ref()),
        ));
    }
}

/// Nodes and leaves: unique ids, known predicates, and a severity entry for each
/// leaf's P1/P2/P3.
fn tree_entries(src: Source, p: &Procedure, errors: &mut Vec<LoadError>) {
    let tree = &p.decision_tree;
    let mut ids = Ids::new(src, "decision-tree");
    for n in &tree.node {
        ids.add(&n.id, errors);
        check_predicate(src, &n.predicate, errors);
    }
    for l in &tree.leaf {
        ids.add(&l.id, errors);
        let sev = match l.outcome {
            Outcome::P1 => Some("P1"),
            Outcome::P2 => Some("P2"),
            Outcome::P3 => Some("P3"),
            Outcome::Investigate => None,
        };
        if let Some(sev) = sev {
            if p.severity(sev).is_none() {
                errors.push(src.error(
                    l.id.span().start,
                    format!(
                        "leaf `{}` ends in {sev}, which has no severity entry",
                        l.id.get_ref()
                    ),
                ));
            }
        }
    }
}

/// Reports every yes/no branch that names neither a node nor a leaf; true when
/// there was one (the cycle search needs every branch to resolve).
fn dangling_branches(
    src: Source,
    tree: &DecisionTree,
    nodes: &HashMap<&str, (&Text, &Text)>,
    errors: &mut Vec<LoadError>,
) -> bool {
    let leaves: HashSet<&str> = tree.leaf.iter().map(|l| l.id.get_ref().as_str()).collect();
    let resolves = |r: &Text| {
        nodes.contains_key(r.get_ref().as_str()) || leaves.contains(r.get_ref().as_str())
    };
    let mut dangling = false;
    for n in &tree.node {
        for r in [&n.yes, &n.no] {
            if !resolves(r) {
                dangling = true;
                errors.push(src.error(
                    r.span().start,
                    format!(
                        "decision-tree branch to unknown node or leaf `{}`",
                        r.get_ref()
                    ),
                ));
            }
        }
    }
    dangling
}

/// Depth-first search with colours, on an explicit stack: each node is finished once, so
/// a ladder of shared sub-trees is linear (walking every path was exponential), and a
/// 100k-node chain needs no call stack. An edge to a node still on the path is a cycle.
fn find_cycle<'a>(
    root: &'a str,
    nodes: &HashMap<&'a str, (&'a Text, &'a Text)>,
) -> Option<&'a Text> {
    #[derive(Clone, Copy, PartialEq)]
    enum Colour {
        OnPath,
        Done,
    }
    let mut colour: HashMap<&str, Colour> = HashMap::new();
    // (node, index of the next branch to follow: 0 yes, 1 no, 2 finished)
    let mut stack: Vec<(&str, usize)> = vec![(root, 0)];
    colour.insert(root, Colour::OnPath);
    while let Some((id, branch)) = stack.last_mut() {
        let Some((yes, no)) = nodes.get(*id) else {
            colour.insert(*id, Colour::Done);
            stack.pop();
            continue;
        };
        if *branch == 2 {
            colour.insert(*id, Colour::Done);
            stack.pop();
            continue;
        }
        let next = if *branch == 0 { *yes } else { *no };
        *branch += 1;
        let nid = next.get_ref().as_str();
        match colour.get(nid) {
            Some(Colour::OnPath) => return Some(next),
            Some(Colour::Done) => {}
            None => {
                colour.insert(nid, Colour::OnPath);
                stack.push((nid, 0));
            }
        }
    }
    None
}

/// The inventory's checks: unique app and deployment ids, per deployment its app,
/// processes, cluster and URLs, then the restore priority, deploy settings and hosts.
pub fn inventory(src: Source, inv: &Inventory) -> Vec<LoadError> {
    let mut errors = Vec::new();
    let mut app_ids = Ids::new(src, "app");
    for a in &inv.app {
        app_ids.add(&a.id, &mut errors);
    }
    let mut dep_ids = Ids::new(src, "deployment");
    let mut seen_process: HashMap<String, String> = HashMap::new();
    for d in &inv.deployment {
        dep_ids.add(&d.id, &mut errors);
        if inv.app_name(d.app.get_ref()).is_none() {
            errors.push(src.error(
                d.app.span().start,
                format!(
                    "deployment `{}` names unknown app `{}`",
                    d.id.get_ref(),
                    d.app.get_ref()
                ),
            ));
        }
        process_names(src, d, &mut seen_process, &mut errors);
        cluster_sizes(src, d, &mut errors);
        urls(src, d, &mut errors);
    }
    restore_priority(src, inv, &mut errors);
    if let Some(d) = &inv.deploy {
        let at = d.span().start;
        for m in deploy_settings(d.get_ref()) {
            errors.push(src.error(at, m));
        }
    }
    errors.extend(hosts(src, &inv.host));
    errors
}

/// A deployment's process list: not empty, names without whitespace, each name
/// in one deployment only (`seen` maps names to the deployment that listed them).
fn process_names(
    src: Source,
    d: &Deployment,
    seen: &mut HashMap<String, String>,
    errors: &mut Vec<LoadError>,
) {
    if d.processes.get_ref().is_empty() {
        errors.push(src.error(
            d.processes.span().start,
            format!("deployment `{}` has an empty process list", d.id.get_ref()),
        ));
    }
    for name in d.processes.get_ref() {
        if name.trim().is_empty() || name.contains(char::is_whitespace) {
            errors.push(src.error(
                d.processes.span().start,
                format!("bad process name `{name}` in `{}`", d.id.get_ref()),
            ));
        }
        if let Some(other) = seen.insert(name.clone(), d.id.get_ref().clone()) {
            errors.push(src.error(
                d.processes.span().start,
                format!(
                    "process `{name}` is listed in both `{other}` and `{}`",
                    d.id.get_ref()
                ),
            ));
        }
    }
}

/// `cluster`: each entry names a process of the deployment and asks for at least
/// one instance.
fn cluster_sizes(src: Source, d: &Deployment, errors: &mut Vec<LoadError>) {
    let Some(c) = &d.cluster else { return };
    for (name, n) in c.get_ref() {
        let listed = d
            .processes
            .get_ref()
            .iter()
            .any(|p| p == name || glob_match(p, name));
        if !listed {
            errors.push(src.error(
                c.span().start,
                format!(
                    "cluster: `{name}` is not a process of `{}` (its processes: {})",
                    d.id.get_ref(),
                    d.processes.get_ref().join(", ")
                ),
            ));
        }
        if *n == 0 {
            errors.push(src.error(
                c.span().start,
                format!("cluster: `{name}` has 0 instances (at least 1)"),
            ));
        }
    }
}

/// A deployment's public and local URLs are http(s).
fn urls(src: Source, d: &Deployment, errors: &mut Vec<LoadError>) {
    for (what, url) in [
        ("public_url", d.public().map(|_| &d.public_url)),
        ("local_url", d.local_url.as_ref()),
    ] {
        if let Some(url) = url {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                errors.push(src.error(
                    d.id.span().start,
                    format!(
                        "`{}` {what} `{url}` must start with http:// or https://",
                        d.id.get_ref()
                    ),
                ));
            }
        }
    }
}

/// The restore priority list is not empty and each entry names (or, as a glob,
/// matches) a process of the inventory.
fn restore_priority(src: Source, inv: &Inventory, errors: &mut Vec<LoadError>) {
    let patterns = inv.process_patterns();
    for r in &inv.restore {
        let target = r.process.get_ref();
        let names_one = patterns.iter().any(|p| {
            p == target || glob_match(p, target) || (is_glob(target) && glob_match(target, p))
        });
        if !names_one {
            errors.push(src.error(
                r.process.span().start,
                format!("restore priority `{target}` names no process of the inventory"),
            ));
        }
    }
    if inv.restore.is_empty() {
        errors.push(src.error(0, "the restore priority list is empty"));
    }
}

/// `[[host]]`: destinations ssh cannot mistake for options, each once; absolute `pm2_home`s
/// (a path on that server: `~` would not be expanded); a non-empty `inventory` path.
fn hosts(src: Source, hosts: &[super::inventory::HostEntry]) -> Vec<LoadError> {
    let mut errors = Vec::new();
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for (i, h) in hosts.iter().enumerate() {
        let dest = h.dest.get_ref();
        if let Err(e) = super::inventory::check_dest(dest) {
            errors.push(src.error(h.dest.span().start, format!("[[host]] dest: {e}")));
        }
        if let Some(first) = seen.insert(dest, i) {
            errors.push(src.error(
                h.dest.span().start,
                format!(
                    "[[host]] dest {dest:?} is listed twice (entries {} and {})",
                    first + 1,
                    i + 1
                ),
            ));
        }
        if let Some(home) = &h.pm2_home {
            let p = home.get_ref();
            if !p.starts_with('/') || p.contains(['\n', ':']) {
                errors.push(src.error(
                    home.span().start,
                    format!(
                        "[[host]] {dest}: pm2_home {p:?} must be an absolute path on that server (no ':' or newline)"
                    ),
                ));
            }
        }
        if let Some(f) = &h.inventory {
            if f.get_ref().trim().is_empty() || f.get_ref().contains('\n') {
                errors.push(src.error(
                    f.span().start,
                    format!("[[host]] {dest}: inventory must name a file"),
                ));
            }
        }
    }
    errors
}

/// Problems in `[deploy]` (positioned at the table by the caller).
fn deploy_settings(d: &super::inventory::DeploySettings) -> Vec<String> {
    let mut out = Vec::new();
    for r in &d.runner_services {
        if r.trim().is_empty() || r.contains(char::is_whitespace) || r.contains('/') {
            out.push(format!(
                "deploy.runner_services: bad process name `{r}` (a name, not a path)"
            ));
        }
    }
    if let Some(f) = &d.freeze_file {
        if !f.starts_with('/') {
            out.push(format!("deploy.freeze_file `{f}` must be an absolute path"));
        }
    }
    if let Some(g) = &d.gitea {
        if !(g.url.starts_with("http://") || g.url.starts_with("https://")) {
            out.push(format!(
                "deploy.gitea.url `{}` must start with http:// or https://",
                g.url
            ));
        }
        if g.token_env.is_none() && g.token_file.is_none() {
            out.push("deploy.gitea needs token_env or token_file (the token itself never goes in the inventory)".into());
        }
        if let Some(f) = g.token_file.as_ref().filter(|f| !f.starts_with('/')) {
            out.push(format!(
                "deploy.gitea.token_file `{f}` must be an absolute path"
            ));
        }
        if g.repos.is_empty() {
            out.push(
                "deploy.gitea.repos is empty (name each `owner/repo` that deploys here)".into(),
            );
        }
        for r in &g.repos {
            let parts: Vec<&str> = r.split('/').collect();
            let ok = parts.len() == 2
                && parts.iter().all(|p| {
                    !p.is_empty()
                        && p.chars()
                            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
                });
            if !ok {
                out.push(format!("deploy.gitea.repos: `{r}` is not `owner/repo`"));
            }
        }
    }
    out
}

/// The procedure's `${var}` references and deployment names against the inventory.
pub fn cross(src: Source, p: &Procedure, inv: &Inventory, vars: &Vars) -> Vec<LoadError> {
    let mut errors = Vec::new();
    let mut check = |t: &Spanned<String>| match references(t.get_ref()) {
        Ok(refs) => {
            for r in refs.iter().filter(|r| !vars.contains_key(&r.name)) {
                errors.push(src.error(
                    var_offset(src, t, &r.name),
                    format!(
                        "unknown variable `${{{}}}` (the inventory defines: {})",
                        r.name,
                        known_list(vars)
                    ),
                ));
            }
        }
        Err(e @ VarError::Unterminated { .. }) => {
            errors.push(src.error(t.span().start, e.to_string()))
        }
        Err(e) => errors.push(src.error(t.span().start, e.to_string())),
    };
    for (_, step) in p.steps() {
        for c in &step.command {
            check(&c.run);
            if let Some(d) = &c.dir {
                check(d);
            }
        }
        for q in &step.question {
            check(&q.run);
        }
    }
    for (_, step) in p.steps() {
        if let Some(s) = &step.scenario {
            for d in &s.deployments {
                if inv.deployment(d.get_ref()).is_none() {
                    errors.push(src.error(
                        d.span().start,
                        format!(
                            "scenario {} names unknown deployment `{}`",
                            s.letter,
                            d.get_ref()
                        ),
                    ));
                }
            }
        }
    }
    errors
}

fn known_list(vars: &Vars) -> String {
    let mut names: Vec<&str> = vars.keys().map(String::as_str).take(12).collect();
    if vars.len() > names.len() {
        names.push("...");
    }
    names.join(", ")
}

/// Where `${name}` sits in the raw file, so the error points at the variable itself.
fn var_offset(src: Source, t: &Spanned<String>, name: &str) -> usize {
    let span = t.span();
    let raw = src.text.get(span.clone()).unwrap_or("");
    raw.find(&format!("${{{name}}}"))
        .map(|i| span.start + i)
        .unwrap_or(span.start)
}
