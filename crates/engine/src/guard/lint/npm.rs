//! `npm run` chains inside package.json: a script that runs another script
//! (`"deploy": "npm run stop && npm run start"`, and npm's `pre`/`post`
//! hooks) does what that script does, so a dangerous `stop` makes the
//! `npm run stop` in `deploy` dangerous too, reported where it is written.

use std::collections::HashMap;

use super::located::Located;
use crate::guard::Class;

/// One `npm run NAME` (or `npm start`, `yarn NAME`, `pnpm run NAME`) in a script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invocation {
    /// The script run (`stop`).
    pub script: String,
    /// Byte offset of the invocation's first word in the piece text.
    pub offset: usize,
    /// The invocation as written (`npm run stop`).
    pub text: String,
}

/// Script invocations in one script's text.
pub fn invocations(text: &str) -> Vec<Invocation> {
    let words: Vec<(usize, &str)> = text
        .split(|c: char| c.is_whitespace() || matches!(c, ';' | '&' | '|' | '(' | ')'))
        .scan(0usize, |pos, w| {
            let start = *pos;
            *pos += w.len() + 1;
            Some((start, w))
        })
        .filter(|(_, w)| !w.is_empty())
        .collect();
    let mut out = vec![];
    for (i, &(off, w)) in words.iter().enumerate() {
        let next = |k: usize| words.get(i + k).map(|x| x.1);
        let (script, used) = match (w, next(1)) {
            ("npm" | "pnpm", Some("run" | "run-script")) | ("yarn", Some("run")) => {
                match next(2).filter(|s| !s.starts_with('-')) {
                    Some(s) => (s, 3),
                    None => continue,
                }
            }
            ("npm" | "pnpm" | "yarn", Some(s @ ("start" | "stop" | "restart" | "test"))) => (s, 2),
            ("yarn" | "pnpm", Some(s)) if !s.starts_with('-') && !BUILTIN.contains(&s) => (s, 2),
            _ => continue,
        };
        let end = words[i + used - 1].0 + words[i + used - 1].1.len();
        out.push(Invocation {
            script: script.to_string(),
            offset: off,
            text: text[off..end].to_string(),
        });
    }
    out
}

/// yarn/pnpm subcommands that are not script names.
const BUILTIN: &[&str] = &[
    "add",
    "install",
    "remove",
    "upgrade",
    "exec",
    "dlx",
    "build",
    "why",
    "info",
    "list",
    "cache",
    "config",
    "init",
    "link",
    "publish",
    "workspace",
    "workspaces",
    "global",
];

/// The worst class each script reaches, following `npm run` chains (and the
/// `pre`/`post` hooks npm runs around a script) to any depth, cycles included.
pub fn reach(
    own: &HashMap<String, Class>,
    calls: &HashMap<String, Vec<String>>,
) -> HashMap<String, Class> {
    let mut worst = own.clone();
    // Iterate to a fixed point: at most one pass per script, each linear.
    for _ in 0..=own.len() {
        let mut changed = false;
        for (name, callees) in calls {
            let hooks = [format!("pre{name}"), format!("post{name}")];
            let via = callees
                .iter()
                .flat_map(|c| [c.clone(), format!("pre{c}"), format!("post{c}")])
                .chain(hooks)
                .filter_map(|c| worst.get(&c).copied())
                .max();
            let cur = worst.get(name).copied().unwrap_or(Class::Safe);
            if let Some(v) = via.filter(|v| *v > cur) {
                worst.insert(name.clone(), v);
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    worst
}

/// Pieces keyed by script name → (script name → invoked scripts).
pub fn call_graph(pieces: &[(Option<String>, Located)]) -> HashMap<String, Vec<String>> {
    pieces
        .iter()
        .filter_map(|(k, p)| {
            let k = k.clone()?;
            Some((
                k,
                invocations(&p.text).into_iter().map(|i| i.script).collect(),
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_invocations() {
        let got: Vec<(String, usize, String)> =
            invocations("npm run build && npm start; yarn deploy --prod && pnpm run-script x")
                .into_iter()
                .map(|i| (i.script, i.offset, i.text))
                .collect();
        assert_eq!(
            got,
            vec![
                ("build".into(), 0, "npm run build".into()),
                ("start".into(), 17, "npm start".into()),
                ("deploy".into(), 28, "yarn deploy".into()),
                ("x".into(), 50, "pnpm run-script x".into()),
            ]
        );
        assert!(invocations("yarn install && npm ci").is_empty());
    }

    #[test]
    fn chains_and_hooks_reach_the_worst() {
        let own: HashMap<String, Class> = [
            ("stop", Class::Dangerous),
            ("build", Class::Safe),
            ("postdeploy", Class::Caution),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        let calls: HashMap<String, Vec<String>> = [
            ("release", vec!["deploy"]),
            ("deploy", vec!["build", "restart"]),
            ("restart", vec!["stop"]),
            ("loop", vec!["loop"]),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.into_iter().map(String::from).collect()))
        .collect();
        let r = reach(&own, &calls);
        assert_eq!(r.get("release"), Some(&Class::Dangerous));
        assert_eq!(r.get("restart"), Some(&Class::Dangerous));
        assert_eq!(r.get("loop"), None);
    }
}
