//! Name matching (inventory/scope globs) and name-filter detection in jq and JS text.

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

/// A JS condition that selects processes by name: `list.includes(p.name)`,
/// `p.name.endsWith('-test')`, `p.name === 'x'`... Negated tests (`!p.name...`,
/// `!==`) select *everything else* and do not count.
pub fn js_name_filter(js: &str) -> Option<NameFilter> {
    let t: String = js.chars().filter(|c| !c.is_whitespace()).collect();
    let b = t.as_bytes();
    let mut best: Option<NameFilter> = None;
    for (i, _) in t.match_indices(".name") {
        let after = &t[i + 5..];
        if after.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_') {
            continue;
        }
        let chain = ident_chain_start(b, i);
        let before = &t[..chain];
        // `xs.includes(p.name)`: the list is the receiver; look for `!` before it.
        let list_call = [".includes(", ".has(", ".indexOf("]
            .iter()
            .find(|k| before.ends_with(**k))
            .map(|k| before.len() - k.len());
        let regex_test = before.ends_with(".test(");
        let negated = match list_call.or(regex_test.then(|| before.len() - 6)) {
            Some(recv_end) => {
                let s = ident_chain_start(b, recv_end);
                (s > 0 && b[s - 1] == b'!') || after.starts_with(")===-1")
            }
            None => before.ends_with('!'),
        };
        let explicit_cmp = (before.ends_with("==") && !before.ends_with("!=="))
            && !before.ends_with("!=")
            || (after.starts_with("==") && !after.starts_with("=>"));
        let pattern_call = [
            ".endsWith(",
            ".startsWith(",
            ".match(",
            ".includes(",
            ".indexOf(",
            ".search(",
            ".test(",
        ]
        .iter()
        .any(|k| after.starts_with(k));
        if negated || after.starts_with("!=") {
            continue;
        }
        let explicit = if list_call.is_some() || explicit_cmp {
            true
        } else if pattern_call || regex_test {
            false
        } else {
            continue;
        };
        // Show the test itself: from the receiver (or `p.name`) to its closing paren.
        let lo = list_call
            .or(regex_test.then(|| before.len() - 6))
            .map(|e| ident_chain_start(b, e))
            .unwrap_or(chain);
        let hi = close_of_call(&t, i + 5);
        let text = t[floor_char(&t, lo)..floor_char(&t, hi)].to_string();
        // Keep the weaker (pattern) filter when both appear: review rules need it.
        if best.as_ref().is_none_or(|f| f.explicit && !explicit) {
            best = Some(NameFilter { explicit, text });
        }
    }
    best
}

/// End of the expression after `.name`: past a method call's `)` or a comparison's operand.
fn close_of_call(t: &str, from: usize) -> usize {
    let b = t.as_bytes();
    let mut depth = 0i32;
    let mut j = from;
    while j < b.len() {
        match b[j] {
            b'(' => depth += 1,
            b')' if depth == 0 => return j + 1, // the enclosing call (`includes(p.name)`)
            b')' => {
                depth -= 1;
                if depth == 0 {
                    return j + 1;
                }
            }
            b'&' | b'|' | b';' | b'{' | b',' if depth == 0 => return j,
            _ => {}
        }
        j += 1;
    }
    b.len().min(from + 40)
}

fn floor_char(s: &str, mut i: usize) -> usize {
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn ident_chain_start(b: &[u8], mut i: usize) -> usize {
    while i > 0
        && (b[i - 1].is_ascii_alphanumeric()
            || b[i - 1] == b'_'
            || b[i - 1] == b'.'
            || b[i - 1] == b'$')
    {
        i -= 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn js_filters() {
        let f = js_name_filter("if (prodProcesses.includes(p.name)) {").unwrap();
        assert!(f.explicit);
        let f = js_name_filter("if (p.name && p.name.endsWith('-test')) {").unwrap();
        assert!(!f.explicit);
        assert!(f.text.contains("-test"));
        assert!(js_name_filter("if (p.pm2_env.status === 'errored')").is_none());
        assert!(js_name_filter("if (!p.name.endsWith('-test'))").is_none());
        assert!(js_name_filter("if (p.name !== 'x')").is_none());
        assert!(js_name_filter("if (!keep.includes(p.name))").is_none());
        assert!(
            js_name_filter("p.name === 'flyer-crawler-api'")
                .unwrap()
                .explicit
        );
        assert!(!js_name_filter("/-test$/.test(p.name)").unwrap().explicit);
    }

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
