//! Makefile recipes as shell: tab-indented lines after a rule, with make's own
//! layer removed the way make removes it (the leading tab, `@`/`-`/`+`
//! prefixes, `$$` → `$`, `$(VAR)`/`${VAR}` of simple variables defined in the
//! file), keeping each character's file line and column.

use std::collections::HashMap;

use super::located::Located;

/// All recipe lines of a Makefile as one shell text (one command a line;
/// backslash continuations stay, the shell joins them).
pub fn recipes(src: &str) -> Located {
    let vars = variables(src);
    let mut out = Located::default();
    let mut in_rule = false;
    let mut continued = false;
    for (n, line) in src.lines().enumerate() {
        let line_no = n + 1;
        if let Some(body) = line.strip_prefix('\t').filter(|_| in_rule || continued) {
            let (body, skipped) = if continued {
                (body, 1)
            } else {
                let t = body.trim_start_matches(['@', '-', '+', ' ', '\t']);
                (t, 1 + (body.len() - t.len()))
            };
            if !out.text.is_empty() {
                out.push_joint("\n");
            }
            expand(&mut out, body, &vars, line_no, skipped + 1);
            continued = line.ends_with('\\');
            continue;
        }
        continued = false;
        let t = line.trim_start();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        // A rule line (`target: deps`), not an assignment (`X := y`, `X = a:b`).
        in_rule = is_rule(line);
    }
    out
}

fn is_rule(line: &str) -> bool {
    let Some(colon) = line.find(':') else {
        return false;
    };
    let before = &line[..colon];
    !before.contains('=') && !line[colon..].starts_with(":=") && !line[colon..].starts_with("::=")
}

/// `NAME = value`, `NAME := value`, `NAME ?= value` at the start of a line.
fn variables(src: &str) -> HashMap<String, String> {
    let mut vars = HashMap::new();
    for line in src.lines() {
        if line.starts_with('\t') {
            continue;
        }
        let line = line.strip_prefix("export ").unwrap_or(line);
        let Some(eq) = line.find('=') else { continue };
        let name = line[..eq]
            .trim_end_matches([':', '?', '+', ' ', '\t'])
            .trim();
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            continue;
        }
        vars.insert(name.to_string(), line[eq + 1..].trim().to_string());
    }
    vars
}

/// Append one recipe line, undoing make's `$` layer. Unknown make variables
/// become `${NAME}` (a value the guard cannot see); make functions such as
/// `$(shell ...)` stay as written (a substitution it cannot see into).
fn expand(out: &mut Located, body: &str, vars: &HashMap<String, String>, line: usize, col0: usize) {
    let mut col = col0;
    let mut rest = body;
    while !rest.is_empty() {
        let Some(d) = rest.find('$') else {
            out.push(rest, line, col);
            break;
        };
        out.push(&rest[..d], line, col);
        col += rest[..d].chars().count();
        let after = &rest[d + 1..];
        if let Some(a) = after.strip_prefix('$') {
            out.push("$", line, col);
            col += 2;
            rest = a;
            continue;
        }
        let close = match after.chars().next() {
            Some('(') => Some(')'),
            Some('{') => Some('}'),
            _ => None,
        };
        if let Some(close) = close {
            if let Some(e) = after.find(close) {
                let name = &after[1..e];
                let written = &rest[d..d + 2 + e];
                match vars.get(name) {
                    // Every character of the value sits at the `$(NAME)` that wrote
                    // it: a value longer than the reference mapped its tail past the
                    // end of the line (found by fuzzing).
                    Some(v) => v.chars().for_each(|c| out.push_char(c, line, col)),
                    // Set outside the file (environment, `make X=...`): to the
                    // shell layer a variable it cannot see, same length.
                    None if !name.contains([' ', ',', '$', '(', '{']) => {
                        out.push(&format!("${{{name}}}"), line, col)
                    }
                    None => out.push(written, line, col),
                }
                col += written.chars().count();
                rest = &rest[d + 2 + e..];
                continue;
            }
        }
        out.push("$", line, col);
        col += 1;
        rest = after;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recipes_lose_make_syntax_and_keep_places() {
        let m = "APP := strapi\n\ndeploy: build\n\t@echo go\n\t-pm2 restart $(APP)\n\tfor p in $$(pgrep node); do \\\n\t  kill -9 $$p; done\nX = a:b\n";
        let r = recipes(m);
        assert_eq!(
            r.text,
            "echo go\npm2 restart strapi\nfor p in $(pgrep node); do \\\n  kill -9 $p; done"
        );
        let k = r.text.find("pm2").unwrap();
        assert_eq!(r.position(k), (5, 3));
        let k = r.text.find("kill").unwrap();
        assert_eq!(r.position(k), (7, 4));
        let k = r.text.find("$p").unwrap();
        assert_eq!(r.position(k), (7, 12));
    }
}
