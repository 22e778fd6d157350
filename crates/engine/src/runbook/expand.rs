//! Instantiating the procedure for one inventory. The procedure names roles, not
//! deployments: `${primary.dir}` is the primary production deployment's directory,
//! and a step, command or scope question with `for_each = "<role>"` is repeated once
//! per deployment playing the role, with `${each.…}` bound to that deployment.
//! Titles and purposes take display words (`${each.title}`, `${n}`…) as plain text;
//! commands keep `${<deployment>.field}` references so substitution still
//! shell-quotes them. The result is an ordinary procedure that names deployments.
use serde_spanned::Spanned;

use super::inventory::{Deployment, Environment, Inventory};
use super::model::{Command, Procedure, ScopeQuestion, Step, Text};
use super::roles::{self, display};
use super::vars::references;

/// Fields a deployment may lack; a command instance that needs one its deployment
/// does not have is left out (e.g. a local health check with no local URL).
const OPTIONAL_FIELDS: &[&str] = &["local_ready_url", "public_url", "ready_url", "ping_url"];

pub fn instantiate(mut p: Procedure, inv: &Inventory) -> Procedure {
    let primary = roles::primary(inv);
    for phase in &mut p.phase {
        let steps = std::mem::take(&mut phase.step);
        for step in steps {
            match step.for_each {
                Some(role) => {
                    for (i, d) in roles::deployments(inv, role).into_iter().enumerate() {
                        let b = Binding {
                            inv,
                            primary,
                            each: Some((d, i + 1)),
                        };
                        let mut s = b.step(&step);
                        if i > 0 {
                            suffix_ids(&mut s, d);
                        }
                        if let Some(sc) = &mut s.scenario {
                            sc.deployments =
                                vec![Spanned::new(step.id.span(), d.id.get_ref().clone())];
                        }
                        phase.step.push(s);
                    }
                }
                None => {
                    let b = Binding {
                        inv,
                        primary,
                        each: None,
                    };
                    let mut s = b.step(&step);
                    if let Some(sc) = &mut s.scenario {
                        if let Some(role) = sc.role {
                            sc.deployments = roles::deployments(inv, role)
                                .into_iter()
                                .map(|d| Spanned::new(step.id.span(), d.id.get_ref().clone()))
                                .collect();
                        }
                    }
                    phase.step.push(s);
                }
            }
        }
    }
    p
}

/// Ids stay unique across instances: the first keeps the procedure's id (so the
/// seed's journals and screens keep theirs), the others get the deployment's id.
fn suffix_ids(s: &mut Step, d: &Deployment) {
    s.id = suffixed(&s.id, d);
    for c in &mut s.command {
        c.id = c.id.as_ref().map(|id| suffixed(id, d));
    }
    for c in &mut s.checklist {
        c.id = suffixed(&c.id, d);
    }
    for t in &mut s.template {
        t.id = suffixed(&t.id, d);
    }
    for r in &mut s.root_cause {
        r.id = suffixed(&r.id, d);
    }
}

fn suffixed(id: &Text, d: &Deployment) -> Text {
    Spanned::new(id.span(), format!("{}-{}", id.get_ref(), d.id.get_ref()))
}

struct Binding<'a> {
    inv: &'a Inventory,
    primary: Option<&'a Deployment>,
    /// The deployment `${each.…}` names, with its 1-based position in the role.
    each: Option<(&'a Deployment, usize)>,
}

impl Binding<'_> {
    fn step(&self, s: &Step) -> Step {
        let mut s = s.clone();
        s.title = self.words(&s.title);
        s.text = s.text.as_deref().map(|t| self.words(t));
        for l in &mut s.list {
            l.title = self.words(&l.title);
            l.items = l.items.iter().map(|i| self.words(i)).collect();
        }
        s.command = self.commands(&s.command);
        s.question = self.questions(&s.question);
        for c in &mut s.checklist {
            c.text = self.words(&c.text);
        }
        s
    }

    /// Consecutive commands with the same `for_each` form a block repeated per
    /// deployment (cd, start, verify for one deployment, then the next).
    fn commands(&self, list: &[Command]) -> Vec<Command> {
        let mut out = Vec::new();
        let mut i = 0;
        while i < list.len() {
            let Some(role) = list[i].for_each else {
                out.extend(self.command(&list[i]));
                i += 1;
                continue;
            };
            let end = list[i..]
                .iter()
                .position(|c| c.for_each != Some(role))
                .map_or(list.len(), |n| i + n);
            for (k, d) in roles::deployments(self.inv, role).into_iter().enumerate() {
                let b = self.with_each(d, k + 1);
                for c in &list[i..end] {
                    if c.only_environment.is_some_and(|e| e != d.environment) {
                        continue;
                    }
                    if let Some(mut c) = b.command(c) {
                        if k > 0 {
                            c.id = c.id.as_ref().map(|id| suffixed(id, d));
                        }
                        out.push(c);
                    }
                }
            }
            i = end;
        }
        out
    }

    fn command(&self, c: &Command) -> Option<Command> {
        let mut c = c.clone();
        c.run = self.shell(&c.run);
        c.dir = c.dir.as_ref().map(|d| self.shell(d));
        if self.lacks_optional(&c.run) || c.dir.as_ref().is_some_and(|d| self.lacks_optional(d)) {
            return None;
        }
        c.purpose = self.words(&c.purpose);
        c.expect = c.expect.as_deref().map(|e| self.words(e));
        Some(c)
    }

    fn questions(&self, list: &[ScopeQuestion]) -> Vec<ScopeQuestion> {
        let mut out = Vec::new();
        for q in list {
            let one = |b: &Binding| {
                let mut q = q.clone();
                q.run = b.shell(&q.run);
                q.question = b.words(&q.question);
                q.impact = b.words(&q.impact);
                (!b.lacks_optional(&q.run)).then_some(q)
            };
            match q.for_each {
                Some(role) => {
                    for (i, d) in roles::deployments(self.inv, role).into_iter().enumerate() {
                        out.extend(one(&self.with_each(d, i + 1)));
                    }
                }
                None => out.extend(one(self)),
            }
        }
        out
    }

    fn with_each<'b>(&'b self, d: &'b Deployment, n: usize) -> Binding<'b> {
        Binding {
            inv: self.inv,
            primary: self.primary,
            each: Some((d, n)),
        }
    }

    /// `${each.x}` / `${primary.x}` become `${<deployment id>.x}`.
    fn shell(&self, t: &Text) -> Text {
        let mut s = t.get_ref().clone();
        if let Some((d, _)) = self.each {
            s = s.replace("${each.", &format!("${{{}.", d.id.get_ref()));
        }
        if let Some(d) = self.primary {
            s = s.replace("${primary.", &format!("${{{}.", d.id.get_ref()));
        }
        Spanned::new(t.span(), s)
    }

    fn lacks_optional(&self, t: &Text) -> bool {
        let Ok(refs) = references(t.get_ref()) else {
            return false;
        };
        refs.iter().any(|r| {
            r.name.rsplit_once('.').is_some_and(|(id, field)| {
                OPTIONAL_FIELDS.contains(&field)
                    && self.inv.deployment(id).is_some_and(|d| match field {
                        "local_ready_url" => d.local_url.is_none(),
                        "public_url" => d.public().is_none(),
                        _ => d.base_url().is_none(),
                    })
            })
        })
    }

    /// Display words in text the responder reads (not run by a shell).
    fn words(&self, text: &str) -> String {
        if !text.contains("${") {
            return text.to_string();
        }
        let mut s = text.to_string();
        for (prefix, d) in [("each", self.each.map(|e| e.0)), ("primary", self.primary)] {
            let Some(d) = d else { continue };
            let w = display(self.inv, d);
            let note = self.priority_note(d);
            for (key, value) in [
                ("title", w.title.as_str()),
                ("app_name", w.app_name.as_str()),
                ("env_title", w.env_title.as_str()),
                ("app", d.app.get_ref().as_str()),
                ("id", d.id.get_ref().as_str()),
                ("priority_note", note),
            ] {
                s = s.replace(&format!("${{{prefix}.{key}}}"), value);
            }
        }
        if let Some((_, n)) = self.each {
            s = s.replace("${n}", &n.to_string());
        }
        s
    }

    /// The runbook marks the first deployment to restore and the test ones.
    fn priority_note(&self, d: &Deployment) -> &'static str {
        let first = roles::restore_order(self.inv)
            .first()
            .is_some_and(|f| f.id.get_ref() == d.id.get_ref());
        if first {
            " (highest priority)"
        } else if d.environment == Environment::Test {
            " (lower priority)"
        } else {
            ""
        }
    }
}
