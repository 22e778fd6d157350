//! PM2 use in JavaScript: `exec('pm2 ...')`/`execSync(...)` strings (with
//! concatenation and template literals), `spawn('pm2', [...])`, and the
//! programmatic API (`pm2.delete('all')`). Computed parts become variables whose
//! feed depends on the enclosing loop: a loop over the process list filtered by
//! name is the runbook's safe pattern, an unfiltered one its dangerous pattern.

use std::collections::HashMap;

use super::classify::analyze;
use super::names::js_name_filter;
use super::shell::quote;
use super::verdict::{Feed, Finding, GuardContext};

#[derive(Debug, Clone, PartialEq)]
enum Seg {
    Lit(String),
    Expr(String),
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Str(Vec<Seg>),
    Num(String),
    Punct(u8),
}

#[derive(Debug, Clone)]
struct T {
    tok: Tok,
    pos: usize,
    end: usize,
}

const EXEC_FNS: &[&str] = &[
    "exec",
    "execSync",
    "execa",
    "execaSync",
    "execaCommand",
    "execaCommandSync",
];
const SPAWN_FNS: &[&str] = &["spawn", "spawnSync", "execFile", "execFileSync"];
const API_METHODS: &[&str] = &[
    "delete",
    "stop",
    "restart",
    "reload",
    "reset",
    "killDaemon",
    "kill",
    "update",
    "dump",
    "resurrect",
    "start",
];
const LOOP_FNS: &[&str] = &[
    "forEach", "map", "filter", "flatMap", "some", "every", "reduce", "for", "while",
];

/// Findings in a JS source; offsets are byte offsets into `src`.
pub fn scan(src: &str, ctx: &GuardContext) -> Vec<Finding> {
    let toks = tokenize(src);
    let mentions_list = ["jlist", "pm2_env", "pm_id", "pm2.list", ".describe("]
        .iter()
        .any(|k| src.contains(k));
    let arrays = array_bindings(&toks);
    let receivers = pm2_receivers(&toks);
    let strings = string_bindings(&toks);
    let mut out = vec![];
    let mut stack: Vec<usize> = vec![];
    for k in 0..toks.len() {
        match toks[k].tok {
            Tok::Punct(b'(' | b'{' | b'[') => {
                stack.push(k);
                continue;
            }
            Tok::Punct(b')' | b'}' | b']') => {
                stack.pop();
                continue;
            }
            _ => {}
        }
        let Some(call) = call_at(&toks, k, &receivers, &strings) else {
            continue;
        };
        let mut vars = HashMap::new();
        let mut cmd = String::new();
        let feed_for =
            |expr: &str| -> Feed { loop_feed(src, &toks, &stack, k, &arrays, mentions_list, expr) };
        for (n, seg) in call.segs.iter().enumerate() {
            match seg {
                Seg::Lit(s) => cmd.push_str(s),
                Seg::Expr(e) => {
                    let var = format!("__js_expr_{n}");
                    cmd.push_str(&format!("${{{var}}}"));
                    vars.insert(var, feed_for(e));
                }
            }
        }
        for mut f in analyze(&cmd, ctx, &vars) {
            f.offset = toks[k].pos;
            f.command = src[toks[k].pos..call.end.min(src.len())].to_string();
            out.push(f);
        }
    }
    out
}

struct Call {
    segs: Vec<Seg>,
    end: usize,
}

/// A PM2-relevant call starting at token `k`, as shell text segments.
fn call_at(
    toks: &[T],
    k: usize,
    receivers: &[String],
    strings: &HashMap<String, Vec<Seg>>,
) -> Option<Call> {
    let Tok::Ident(name) = &toks[k].tok else {
        return None;
    };
    let open = toks.get(k + 1)?;
    if EXEC_FNS.contains(&name.as_str()) && open.tok == Tok::Punct(b'(') {
        let (arg, _) = argument(toks, k + 2);
        let end = call_end(toks, k + 1);
        // `exec(cmd)` with `const cmd = 'pm2 ...'` earlier in the file.
        if let [T {
            tok: Tok::Ident(v), ..
        }] = arg
        {
            let s = strings.get(v)?;
            return Some(Call {
                segs: s.clone(),
                end,
            });
        }
        if !arg.iter().any(|t| matches!(t.tok, Tok::Str(_))) {
            return None;
        }
        return Some(Call {
            segs: concat(arg),
            end,
        });
    }
    if SPAWN_FNS.contains(&name.as_str()) && open.tok == Tok::Punct(b'(') {
        let (arg, _) = argument(toks, k + 2);
        let end = call_end(toks, k + 1);
        let [T {
            tok: Tok::Str(prog),
            ..
        }] = arg
        else {
            return None;
        };
        let mut segs = vec![Seg::Lit(quote(&seg_text(prog)))];
        let after = k + 2 + arg.len();
        if toks.get(after).map(|t| &t.tok) == Some(&Tok::Punct(b','))
            && toks.get(after + 1).map(|t| &t.tok) == Some(&Tok::Punct(b'['))
        {
            let mut j = after + 2;
            while j < toks.len() && toks[j].tok != Tok::Punct(b']') {
                let (el, _) = argument(toks, j);
                segs.push(Seg::Lit(" ".into()));
                match el {
                    [T {
                        tok: Tok::Str(s), ..
                    }] if s.iter().all(|x| matches!(x, Seg::Lit(_))) => {
                        segs.push(Seg::Lit(quote(&seg_text(s))))
                    }
                    [] => break,
                    other => segs.push(Seg::Expr(expr_text(other))),
                }
                j += el.len();
                if toks.get(j).map(|t| &t.tok) == Some(&Tok::Punct(b',')) {
                    j += 1;
                }
            }
        }
        return Some(Call { segs, end });
    }
    // receiver.method( ... )
    if receivers.contains(name) && open.tok == Tok::Punct(b'.') {
        let Tok::Ident(method) = &toks.get(k + 2)?.tok else {
            return None;
        };
        if !API_METHODS.contains(&method.as_str()) || toks.get(k + 3)?.tok != Tok::Punct(b'(') {
            return None;
        }
        let verb = match method.as_str() {
            "killDaemon" => "kill",
            "dump" => "save",
            m => m,
        };
        let (arg, _) = argument(toks, k + 4);
        let end = call_end(toks, k + 3);
        let mut segs = vec![Seg::Lit(format!("pm2 {verb}"))];
        match arg {
            [] => {}
            [T {
                tok: Tok::Str(s), ..
            }] if s.iter().all(|x| matches!(x, Seg::Lit(_))) => {
                segs.push(Seg::Lit(format!(" {}", quote(&seg_text(s)))));
            }
            [T {
                tok: Tok::Num(n), ..
            }] => segs.push(Seg::Lit(format!(" {n}"))),
            // pm2.start({ name, script }): an explicit app definition
            [T {
                tok: Tok::Punct(b'{'),
                ..
            }, ..]
                if verb == "start" =>
            {
                segs.push(Seg::Lit(" app.config.js".into()))
            }
            // Callback-only methods (pm2.killDaemon(cb)) take no target.
            _ if matches!(verb, "kill" | "save" | "resurrect" | "update") => {}
            other => {
                segs.push(Seg::Lit(" ".into()));
                segs.push(Seg::Expr(expr_text(other)));
            }
        }
        return Some(Call { segs, end });
    }
    None
}

fn seg_text(s: &[Seg]) -> String {
    s.iter()
        .map(|x| match x {
            Seg::Lit(t) => t.clone(),
            Seg::Expr(e) => format!("${{{e}}}"),
        })
        .collect()
}

fn expr_text(ts: &[T]) -> String {
    ts.iter()
        .map(|t| match &t.tok {
            Tok::Ident(s) | Tok::Num(s) => s.clone(),
            Tok::Str(s) => format!("'{}'", seg_text(s)),
            Tok::Punct(c) => (*c as char).to_string(),
        })
        .collect()
}

/// Tokens of one argument: up to `,` or the closing paren at depth 0; and the
/// source end of the call.
fn argument(toks: &[T], start: usize) -> (&[T], usize) {
    let mut depth = 0i32;
    let mut j = start;
    while j < toks.len() {
        match toks[j].tok {
            Tok::Punct(b'(' | b'[' | b'{') => depth += 1,
            Tok::Punct(b')' | b']' | b'}') if depth == 0 => break,
            Tok::Punct(b')' | b']' | b'}') => depth -= 1,
            Tok::Punct(b',') if depth == 0 => break,
            _ => {}
        }
        j += 1;
    }
    let end = toks
        .get(j)
        .map(|t| t.end)
        .unwrap_or_else(|| toks.last().map(|t| t.end).unwrap_or(0));
    (&toks[start.min(j)..j], end)
}

/// `'pm2 delete ' + p.pm2_env.pm_id` → literal and expression segments.
fn concat(arg: &[T]) -> Vec<Seg> {
    let mut segs = vec![];
    let mut run: Vec<T> = vec![];
    let flush = |run: &mut Vec<T>, segs: &mut Vec<Seg>| {
        if !run.is_empty() {
            segs.push(Seg::Expr(expr_text(run)));
            run.clear();
        }
    };
    let mut depth = 0;
    for t in arg {
        match &t.tok {
            Tok::Str(s) if depth == 0 => {
                flush(&mut run, &mut segs);
                segs.extend(s.iter().cloned());
            }
            Tok::Punct(b'+') if depth == 0 => flush(&mut run, &mut segs),
            Tok::Punct(b'(' | b'[') => {
                depth += 1;
                run.push(t.clone());
            }
            Tok::Punct(b')' | b']') => {
                depth -= 1;
                run.push(t.clone());
            }
            _ => run.push(t.clone()),
        }
    }
    flush(&mut run, &mut segs);
    segs
}

/// Where a computed value inside a call at token `k` comes from.
fn loop_feed(
    src: &str,
    toks: &[T],
    stack: &[usize],
    k: usize,
    arrays: &HashMap<String, Vec<String>>,
    mentions_list: bool,
    expr: &str,
) -> Feed {
    for &o in stack.iter().rev() {
        // `for (...) {` / `while (...) {`: the body's brace; look at its header's paren.
        let open =
            if toks[o].tok == Tok::Punct(b'{') && o > 0 && toks[o - 1].tok == Tok::Punct(b')') {
                match matching_open(toks, o - 1) {
                    Some(q) => q,
                    None => continue,
                }
            } else {
                o
            };
        if toks[open].tok != Tok::Punct(b'(') || open == 0 {
            continue;
        }
        let Tok::Ident(f) = &toks[open - 1].tok else {
            continue;
        };
        if !LOOP_FNS.contains(&f.as_str()) {
            continue;
        }
        let start = statement_start(toks, open - 1);
        let region = &src[start..toks[k].pos];
        if let Some(items) = loop_receiver(toks, open, arrays) {
            return Feed::Literal(items);
        }
        if !mentions_list {
            return Feed::Unknown(format!("the JS expression `{expr}` inside a loop"));
        }
        return Feed::PmList {
            filter: js_name_filter(region),
        };
    }
    Feed::Unknown(format!("the JS expression `{expr}`"))
}

/// Index of the `(` matching the `)` at `close`.
fn matching_open(toks: &[T], close: usize) -> Option<usize> {
    let mut depth = 0i32;
    let mut j = close;
    loop {
        match toks[j].tok {
            Tok::Punct(b')') => depth += 1,
            Tok::Punct(b'(') => {
                depth -= 1;
                if depth == 0 {
                    return Some(j);
                }
            }
            _ => {}
        }
        if j == 0 {
            return None;
        }
        j -= 1;
    }
}

/// Source end of the call whose `(` is at token `open`.
fn call_end(toks: &[T], open: usize) -> usize {
    let mut depth = 0i32;
    for t in &toks[open..] {
        match t.tok {
            Tok::Punct(b'(' | b'[' | b'{') => depth += 1,
            Tok::Punct(b')' | b']' | b'}') => {
                depth -= 1;
                if depth == 0 {
                    return t.end;
                }
            }
            _ => {}
        }
    }
    toks.last().map(|t| t.end).unwrap_or(0)
}

/// Literal items iterated by the loop opened at `open` (`['a','b'].forEach(`,
/// `names.forEach(` with `const names = [...]`, `for (const n of names)`).
fn loop_receiver(
    toks: &[T],
    open: usize,
    arrays: &HashMap<String, Vec<String>>,
) -> Option<Vec<String>> {
    let ident = open - 1;
    if matches!(&toks[ident].tok, Tok::Ident(f) if f == "for") {
        // for (const x of NAME)
        let mut j = open + 1;
        while j + 1 < toks.len() && toks[j].tok != Tok::Punct(b')') {
            if toks[j].tok == Tok::Ident("of".into()) {
                if let Tok::Ident(r) = &toks[j + 1].tok {
                    return arrays.get(r).cloned();
                }
            }
            j += 1;
        }
        return None;
    }
    if ident < 2 || toks[ident - 1].tok != Tok::Punct(b'.') {
        return None;
    }
    match &toks[ident - 2].tok {
        Tok::Ident(r) => arrays.get(r).cloned(),
        Tok::Punct(b']') => {
            let mut j = ident - 2;
            let mut items = vec![];
            while j > 0 {
                j -= 1;
                match &toks[j].tok {
                    Tok::Punct(b'[') => return Some(items.into_iter().rev().collect()),
                    Tok::Str(s) => items.push(seg_text(s)),
                    Tok::Punct(b',') => {}
                    _ => return None,
                }
            }
            None
        }
        _ => None,
    }
}

/// Byte offset where the statement holding token `i` starts.
fn statement_start(toks: &[T], i: usize) -> usize {
    let mut depth = 0i32;
    let mut j = i;
    while j > 0 {
        j -= 1;
        match toks[j].tok {
            Tok::Punct(b')' | b']') => depth += 1,
            Tok::Punct(b'}') if depth == 0 => return toks[j].end,
            Tok::Punct(b'}') => depth += 1,
            Tok::Punct(b'(' | b'[' | b'{') if depth == 0 => return toks[j].end,
            Tok::Punct(b'(' | b'[' | b'{') => depth -= 1,
            Tok::Punct(b';') if depth == 0 => return toks[j].end,
            _ => {}
        }
    }
    0
}

/// `NAME = 'string'` / template bindings (the last one wins: good enough for scripts).
fn string_bindings(toks: &[T]) -> HashMap<String, Vec<Seg>> {
    let mut out = HashMap::new();
    for k in 0..toks.len().saturating_sub(3) {
        if let (Tok::Ident(name), Tok::Punct(b'='), Tok::Str(s)) =
            (&toks[k].tok, &toks[k + 1].tok, &toks[k + 2].tok)
        {
            if !matches!(toks[k + 3].tok, Tok::Punct(b'+' | b'.' | b'[')) {
                out.insert(name.clone(), s.clone());
            }
        }
    }
    out
}

/// `const NAME = ['a', 'b']` bindings.
fn array_bindings(toks: &[T]) -> HashMap<String, Vec<String>> {
    let mut out = HashMap::new();
    for k in 0..toks.len().saturating_sub(3) {
        if let (Tok::Ident(name), Tok::Punct(b'='), Tok::Punct(b'[')) =
            (&toks[k].tok, &toks[k + 1].tok, &toks[k + 2].tok)
        {
            let mut items = vec![];
            let mut j = k + 3;
            let mut ok = true;
            while j < toks.len() && toks[j].tok != Tok::Punct(b']') {
                match &toks[j].tok {
                    Tok::Str(s) => items.push(seg_text(s)),
                    Tok::Punct(b',') => {}
                    _ => ok = false,
                }
                j += 1;
            }
            if ok {
                out.insert(name.clone(), items);
            }
        }
    }
    out
}

/// Identifiers bound to the pm2 module (plus the conventional `pm2`).
fn pm2_receivers(toks: &[T]) -> Vec<String> {
    let mut out = vec!["pm2".to_string(), "PM2".to_string()];
    let is_pm2 = |t: &T| matches!(&t.tok, Tok::Str(s) if seg_text(s) == "pm2");
    for k in 0..toks.len() {
        // X = require('pm2')
        if k + 4 < toks.len()
            && toks[k + 1].tok == Tok::Punct(b'=')
            && toks[k + 2].tok == Tok::Ident("require".into())
            && is_pm2(&toks[k + 4])
        {
            if let Tok::Ident(x) = &toks[k].tok {
                out.push(x.clone());
            }
        }
        // import X from 'pm2'
        if k + 3 < toks.len()
            && toks[k].tok == Tok::Ident("import".into())
            && toks[k + 2].tok == Tok::Ident("from".into())
            && is_pm2(&toks[k + 3])
        {
            if let Tok::Ident(x) = &toks[k + 1].tok {
                out.push(x.clone());
            }
        }
    }
    out
}

fn tokenize(src: &str) -> Vec<T> {
    let b = src.as_bytes();
    let mut out: Vec<T> = vec![];
    let mut i = 0;
    if src.starts_with("#!") {
        i = src.find('\n').unwrap_or(src.len());
    }
    while i < b.len() {
        let c = b[i];
        let start = i;
        match c {
            b' ' | b'\t' | b'\n' | b'\r' => i += 1,
            b'/' if b.get(i + 1) == Some(&b'/') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                i = src[i + 2..]
                    .find("*/")
                    .map(|p| i + 2 + p + 2)
                    .unwrap_or(b.len());
            }
            b'/' if regex_allowed(out.last()) => {
                // Regex literal: skip to the closing unescaped `/` outside a class.
                i += 1;
                let mut class = false;
                while i < b.len() && b[i] != b'\n' {
                    match b[i] {
                        b'\\' => i += 1,
                        b'[' => class = true,
                        b']' => class = false,
                        b'/' if !class => break,
                        _ => {}
                    }
                    i += 1;
                }
                i += 1;
                while i < b.len() && b[i].is_ascii_alphabetic() {
                    i += 1;
                }
                out.push(T {
                    tok: Tok::Ident("/regex/".into()),
                    pos: start,
                    end: i.min(b.len()),
                });
            }
            b'\'' | b'"' => {
                let mut s = String::new();
                i += 1;
                while i < b.len() && b[i] != c && b[i] != b'\n' {
                    if b[i] == b'\\' && i + 1 < b.len() {
                        i += 1;
                        s.push(unescape(b[i]));
                        i += 1;
                        continue;
                    }
                    let ch = src[i..].chars().next().unwrap_or('\u{fffd}');
                    s.push(ch);
                    i += ch.len_utf8();
                }
                i += 1;
                out.push(T {
                    tok: Tok::Str(vec![Seg::Lit(s)]),
                    pos: start,
                    end: i.min(b.len()),
                });
            }
            b'`' => {
                let (segs, next) = template(src, i + 1);
                i = next;
                out.push(T {
                    tok: Tok::Str(segs),
                    pos: start,
                    end: i.min(b.len()),
                });
            }
            c if c.is_ascii_digit() => {
                while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'.' || b[i] == b'_')
                {
                    i += 1;
                }
                out.push(T {
                    tok: Tok::Num(src[start..i].into()),
                    pos: start,
                    end: i,
                });
            }
            c if c.is_ascii_alphabetic() || c == b'_' || c == b'$' || c >= 0x80 => {
                while i < b.len()
                    && (b[i].is_ascii_alphanumeric()
                        || b[i] == b'_'
                        || b[i] == b'$'
                        || b[i] >= 0x80)
                {
                    i += 1;
                }
                out.push(T {
                    tok: Tok::Ident(src[start..i].into()),
                    pos: start,
                    end: i,
                });
            }
            _ => {
                i += 1;
                out.push(T {
                    tok: Tok::Punct(c),
                    pos: start,
                    end: i,
                });
            }
        }
    }
    out
}

fn unescape(c: u8) -> char {
    match c {
        b'n' => '\n',
        b't' => '\t',
        other => other as char,
    }
}

/// A template literal body from `i` (after the backtick): segments and the end.
fn template(src: &str, mut i: usize) -> (Vec<Seg>, usize) {
    let b = src.as_bytes();
    let mut segs = vec![];
    let mut lit = String::new();
    while i < b.len() {
        match b[i] {
            b'`' => {
                i += 1;
                break;
            }
            b'\\' if i + 1 < b.len() => {
                lit.push(unescape(b[i + 1]));
                i += 2;
            }
            b'$' if b.get(i + 1) == Some(&b'{') => {
                if !lit.is_empty() {
                    segs.push(Seg::Lit(std::mem::take(&mut lit)));
                }
                let s = i + 2;
                let mut depth = 1;
                i = s;
                while i < b.len() && depth > 0 {
                    match b[i] {
                        b'{' => depth += 1,
                        b'}' => depth -= 1,
                        _ => {}
                    }
                    i += 1;
                }
                segs.push(Seg::Expr(
                    src[s..i.saturating_sub(1).max(s)].trim().to_string(),
                ));
            }
            _ => {
                let ch = src[i..].chars().next().unwrap_or('\u{fffd}');
                lit.push(ch);
                i += ch.len_utf8();
            }
        }
    }
    if !lit.is_empty() {
        segs.push(Seg::Lit(lit));
    }
    (segs, i)
}

fn regex_allowed(prev: Option<&T>) -> bool {
    match prev.map(|t| &t.tok) {
        None => true,
        Some(Tok::Punct(c)) => b"(,=:[!&|?{};+-*%<>~^".contains(c),
        Some(Tok::Ident(w)) => [
            "return", "typeof", "case", "do", "else", "in", "of", "new", "delete", "void", "throw",
        ]
        .contains(&w.as_str()),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::guard::verdict::Class;

    fn worst(src: &str) -> Class {
        scan(src, &GuardContext::default())
            .iter()
            .map(|f| f.class)
            .max()
            .unwrap_or(Class::Safe)
    }

    #[test]
    fn runbook_safe_patterns() {
        let prod = "const prodProcesses = ['flyer-crawler-api'];\nlist.forEach((p) => {\n if ((p.pm2_env.status === 'errored') && prodProcesses.includes(p.name)) {\n exec('pm2 delete ' + p.pm2_env.pm_id);\n }\n});";
        assert_eq!(worst(prod), Class::Safe);
        let test = "list.forEach((p) => { if (p.name && p.name.endsWith('-test')) { exec('pm2 delete ' + p.pm2_env.pm_id); } });";
        assert_eq!(worst(test), Class::Safe);
    }

    #[test]
    fn unfiltered_and_api() {
        let bad = "list.forEach((p) => { if (p.pm2_env.status === 'errored') { exec(`pm2 delete ${p.pm2_env.pm_id}`); } });";
        assert_eq!(worst(bad), Class::Dangerous);
        assert_eq!(worst("pm2.delete('all', cb)"), Class::Dangerous);
        assert_eq!(
            worst("const P = require('pm2'); P.stop(\"all\", () => {})"),
            Class::Dangerous
        );
        assert_eq!(worst("pm2.killDaemon(() => {})"), Class::Dangerous);
        assert_eq!(worst("spawn('pm2', ['restart', 'all'])"), Class::Dangerous);
        assert_eq!(worst("pm2.restart('flyer-crawler-api', cb)"), Class::Safe);
        assert_eq!(
            worst("// pm2.delete('all')\nconst re = /pm2 delete all/;"),
            Class::Safe
        );
        assert_eq!(
            worst("['a','b'].forEach(n => execSync('pm2 restart ' + n))"),
            Class::Safe
        );
    }
}
