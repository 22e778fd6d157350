//! Name matching (inventory/scope globs) and name-filter detection in jq programs
//! (JavaScript's is read from its AST: `guard::js`).

use super::verdict::{GuardContext, NameFilter};
use globset::Glob;

/// Does `name` match one of `patterns` (exact names or globs like `stock-alert-*`)?
pub fn matches_any(patterns: &[String], name: &str) -> bool {
    patterns.iter().any(|p| {
        p == name
            || (p.contains(['*', '?', '['])
                && Glob::new(p)
                    .map(|g| g.compile_matcher().is_match(name))
                    .unwrap_or(false))
    })
}

/// Literal process names to offer in a safe alternative: the scope if chosen,
/// else the inventory's literal names (globs cannot be passed to pm2).
pub fn alternative_names(ctx: &GuardContext) -> Vec<String> {
    let src = match &ctx.scope {
        Some(s) if !s.is_empty() => s,
        _ => &ctx.known_processes,
    };
    src.iter()
        .filter(|n| !n.contains(['*', '?', '[']))
        .cloned()
        .collect()
}

/// Why a literal process name needs confirmation, if it does.
pub fn name_concern(ctx: &GuardContext, name: &str) -> Option<String> {
    if let Some(scope) = &ctx.scope {
        if !matches_any(scope, name) {
            return Some(format!(
                "`{name}` is outside the incident's scope ({})",
                scope.join(", ")
            ));
        }
        return None;
    }
    if !ctx.known_processes.is_empty() && !matches_any(&ctx.known_processes, name) {
        return Some(format!(
            "`{name}` is not in the inventory: another app's process, or a PM2 namespace covering several"
        ));
    }
    None
}

pub const STATUS_WORDS: &[&str] = &[
    "online",
    "errored",
    "stopped",
    "stopping",
    "launching",
    "erroring",
    "one-launch-status",
];

/// A `select(...)` in a jq program that tests `.name` (not negated).
pub fn jq_name_filter(program: &str) -> Option<NameFilter> {
    let mut rest = program;
    while let Some(pos) = rest.find("select(") {
        let body_start = pos + "select(".len();
        let body = balanced(&rest[body_start..]);
        if mentions_field(body, ".name") && !body.contains("not") && !body.contains("!=") {
            let pattern = [
                "endswith",
                "startswith",
                "test(",
                "match(",
                "contains(",
                "ltrimstr",
                "rtrimstr",
                "capture(",
            ]
            .iter()
            .any(|k| body.contains(k));
            return Some(NameFilter {
                explicit: !pattern,
                text: format!("select({body})"),
            });
        }
        rest = &rest[body_start..];
    }
    None
}

/// Text up to the `)` closing an already-opened paren.
fn balanced(s: &str) -> &str {
    let mut depth = 1usize;
    for (i, c) in s.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    return &s[..i];
                }
            }
            _ => {}
        }
    }
    s
}

/// `.name` as a field (not `.names` or `.namespace`).
fn mentions_field(s: &str, field: &str) -> bool {
    s.match_indices(field).any(|(i, _)| {
        !s[i + field.len()..]
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jq_filters() {
        assert!(jq_name_filter(".[] | select(.pm2_env.status == \"errored\") | .pm_id").is_none());
        let f = jq_name_filter(".[] | select(.name | endswith(\"-test\")) | .pm_id").unwrap();
        assert!(!f.explicit);
        assert!(
            jq_name_filter(".[] | select(.name == \"a\") | .pm_id")
                .unwrap()
                .explicit
        );
        assert!(jq_name_filter(".[] | select(.name != \"a\") | .pm_id").is_none());
    }

    #[test]
    fn globs() {
        let p = vec!["stock-alert-*".to_string(), "api".to_string()];
        assert!(matches_any(&p, "stock-alert-api"));
        assert!(matches_any(&p, "api"));
        assert!(!matches_any(&p, "apix"));
    }
}
