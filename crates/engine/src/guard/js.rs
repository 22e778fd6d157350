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
    let api = pm2_bindings(&toks);
    let strings = string_bindings(&toks);
    let mut out = vec![];
    let mut stack: Vec<usize> = vec![];
    // Source end of the last call judged, so its own string arguments are not
    // judged a second time as free-standing command strings.
    let mut covered = 0usize;
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
        let call = match call_at(&toks, k, &api, &strings) {
            Some(call) => {
                covered = covered.max(call.end);
                call
            }
            // A command string not handed straight to an exec call (a script
            // map `{ stop: 'pm2 kill' }`, an array of commands, a constant).
            None => match &toks[k].tok {
                Tok::Str(segs)
                    if toks[k].pos >= covered
                        && is_pm2_command(segs)
                        && !shown_or_compared(&toks, &stack, k) =>
                {
                    Call {
                        segs: segs.clone(),
                        end: toks[k].end,
                    }
                }
                _ => continue,
            },
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

/// Calls whose string arguments are text to show or compare, not to run.
const TEXT_FNS: &[&str] = &[
    "log",
    "info",
    "warn",
    "error",
    "debug",
    "trace",
    "print",
    "println",
    "write",
    "writeln",
    "echo",
    "Error",
    "TypeError",
    "assert",
    "equal",
    "strictEqual",
    "deepEqual",
    "includes",
    "startsWith",
    "endsWith",
    "indexOf",
    "match",
    "test",
    "replace",
    "replaceAll",
    "describe",
    "it",
    "t",
    "alert",
    "confirm",
    "question",
    "prompt",
    "notify",
    "send",
    "reply",
    "json",
];

/// The string at `k` is an argument of a display/compare call, a comparison
/// operand or a thrown message: someone reads it, nothing runs it.
fn shown_or_compared(toks: &[T], stack: &[usize], k: usize) -> bool {
    let prev = k.checked_sub(1).map(|p| &toks[p].tok);
    let next = toks.get(k + 1).map(|t| &t.tok);
    if matches!(prev, Some(Tok::Ident(w)) if w == "throw" || w == "case")
        || matches!(prev, Some(Tok::Punct(b'=')) if k >= 2 && matches!(toks[k - 2].tok, Tok::Punct(b'=' | b'!')))
        || matches!(next, Some(Tok::Punct(b'=' | b'!')) if matches!(toks.get(k + 2).map(|t| &t.tok), Some(Tok::Punct(b'='))))
    {
        return true;
    }
    let Some(&open) = stack.last() else {
        return false;
    };
    toks[open].tok == Tok::Punct(b'(')
        && open > 0
        && matches!(&toks[open - 1].tok, Tok::Ident(f) if TEXT_FNS.contains(&f.as_str()))
}

/// A string whose literal start is a PM2 command line (`pm2 stop all`,
/// `npx pm2 kill`): judged wherever it stands, since something runs it.
/// A string bound to a name and run later through `exec(name)` is judged at
/// that call as well; the string's own finding marks where it is written.
fn is_pm2_command(segs: &[Seg]) -> bool {
    match segs.first() {
        Some(Seg::Lit(s)) => {
            let t = s.trim_start();
            let t = t
                .strip_prefix("npx ")
                .or_else(|| t.strip_prefix("sudo "))
                .unwrap_or(t);
            t.starts_with("pm2 ") && t.split_whitespace().count() >= 2
        }
        _ => false,
    }
}

/// How a file reaches the PM2 API: module receivers (`pm2`, `const P =
/// require('pm2')`, compiled TS `pm2_1`) and functions destructured from it
/// (`const { delete: del } = require('pm2')`, alias → method).
struct Pm2Bindings {
    receivers: Vec<String>,
    functions: HashMap<String, String>,
}

struct Call {
    segs: Vec<Seg>,
    end: usize,
}

/// A PM2-relevant call starting at token `k`, as shell text segments.
fn call_at(
    toks: &[T],
    k: usize,
    api: &Pm2Bindings,
    strings: &HashMap<String, Vec<Seg>>,
) -> Option<Call> {
    let Tok::Ident(name) = &toks[k].tok else {
        return None;
    };
    let open = toks.get(k + 1)?;
    // execa('pm2', ['delete', 'all']): program and argument array, like spawn.
    let argv_form = EXEC_FNS.contains(&name.as_str())
        && open.tok == Tok::Punct(b'(')
        && matches!(
            argument(toks, k + 2).0,
            [T {
                tok: Tok::Str(_),
                ..
            }]
        )
        && toks
            .get(k + 2 + argument(toks, k + 2).0.len())
            .map(|t| &t.tok)
            == Some(&Tok::Punct(b','))
        && matches!(
            toks.get(k + 3 + argument(toks, k + 2).0.len())
                .map(|t| &t.tok),
            Some(Tok::Punct(b'[')) | Some(Tok::Str(_))
        );
    if EXEC_FNS.contains(&name.as_str()) && open.tok == Tok::Punct(b'(') && !argv_form {
        let (arg, _) = argument(toks, k + 2);
        let arg = strip_split(arg);
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
    if (SPAWN_FNS.contains(&name.as_str()) || argv_form) && open.tok == Tok::Punct(b'(') {
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
        // spawn('pm2', 'delete all'.split(' ')): the words of the string.
        if toks.get(after).map(|t| &t.tok) == Some(&Tok::Punct(b',')) {
            let (second, _) = argument(toks, after + 1);
            if second.len() > 1 {
                if let [T {
                    tok: Tok::Str(words),
                    ..
                }] = strip_split(second)
                {
                    segs.push(Seg::Lit(" ".into()));
                    segs.extend(words.iter().cloned());
                    return Some(Call { segs, end });
                }
            }
        }
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
    // receiver.method( ... ), receiver.default.method( ... ) (compiled TS),
    // or a function destructured from the module: del( ... ).
    let (method, paren) = if let Some(m) = api.functions.get(name) {
        if open.tok != Tok::Punct(b'(') {
            return None;
        }
        (m, k + 1)
    } else if api.receivers.contains(name) && open.tok == Tok::Punct(b'.') {
        let mut m = k + 2;
        if toks.get(m)?.tok == Tok::Ident("default".into())
            && toks.get(m + 1)?.tok == Tok::Punct(b'.')
        {
            m += 2;
        }
        let Tok::Ident(method) = &toks.get(m)?.tok else {
            return None;
        };
        (method, m + 1)
    } else {
        return None;
    };
    if !API_METHODS.contains(&method.as_str()) || toks.get(paren)?.tok != Tok::Punct(b'(') {
        return None;
    }
    let verb = match method.as_str() {
        "killDaemon" => "kill",
        "dump" => "save",
        m => m,
    };
    let (arg, _) = argument(toks, paren + 1);
    let end = call_end(toks, paren);
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
    Some(Call { segs, end })
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

/// `X.split(...)` → `X` (a command string split into argv words is the same command).
fn strip_split(arg: &[T]) -> &[T] {
    let Some(sp) = arg
        .iter()
        .rposition(|t| t.tok == Tok::Ident("split".into()))
    else {
        return arg;
    };
    let closes_at_end = sp >= 2
        && arg[sp - 1].tok == Tok::Punct(b'.')
        && arg.get(sp + 1).map(|t| &t.tok) == Some(&Tok::Punct(b'('))
        && arg.last().map(|t| &t.tok) == Some(&Tok::Punct(b')'));
    if closes_at_end {
        &arg[..sp - 1]
    } else {
        arg
    }
}

/// Identifiers bound to the pm2 module (plus the conventional `pm2`), and
/// functions destructured from it.
fn pm2_bindings(toks: &[T]) -> Pm2Bindings {
    let mut b = Pm2Bindings {
        receivers: vec!["pm2".to_string(), "PM2".to_string()],
        functions: HashMap::new(),
    };
    let is_pm2 =
        |t: Option<&T>| matches!(t.map(|t| &t.tok), Some(Tok::Str(s)) if seg_text(s) == "pm2");
    let ident = |t: Option<&T>| match t.map(|t| &t.tok) {
        Some(Tok::Ident(x)) => Some(x.clone()),
        _ => None,
    };
    for k in 0..toks.len() {
        let word = |w: &str| toks[k].tok == Tok::Ident(w.into());
        // require('pm2') / import('pm2'), possibly wrapped (`__importDefault(require("pm2"))`):
        // the binding is the `X =` or `{ a: b } =` that starts the statement.
        if (word("require") || word("import"))
            && toks.get(k + 1).map(|t| &t.tok) == Some(&Tok::Punct(b'('))
            && is_pm2(toks.get(k + 2))
        {
            let mut j = k;
            while j > 0 && !matches!(toks[j - 1].tok, Tok::Punct(b'=' | b';')) {
                j -= 1;
            }
            if j >= 2 && toks[j - 1].tok == Tok::Punct(b'=') {
                if let Some(x) = ident(toks.get(j - 2)) {
                    b.receivers.push(x);
                } else if toks[j - 2].tok == Tok::Punct(b'}') {
                    destructured(toks, j - 2, ":", &mut b.functions);
                }
            }
        }
        // import X from 'pm2' / import * as X from 'pm2' / import { a as b } from 'pm2'
        if word("from") && is_pm2(toks.get(k + 1)) {
            if let Some(x) = ident(toks.get(k.wrapping_sub(1))) {
                b.receivers.push(x);
            } else if k > 0 && toks[k - 1].tok == Tok::Punct(b'}') {
                destructured(toks, k - 1, "as", &mut b.functions);
            }
        }
    }
    b.functions.retain(|_, m| API_METHODS.contains(&m.as_str()));
    b
}

/// `{ a, b: c }` (or `{ a, b as c }`) ending at token `close`: local name → method.
fn destructured(toks: &[T], close: usize, rename: &str, out: &mut HashMap<String, String>) {
    let Some(open) = toks[..close]
        .iter()
        .rposition(|t| t.tok == Tok::Punct(b'{'))
    else {
        return;
    };
    for item in toks[open + 1..close].split(|t| t.tok == Tok::Punct(b',')) {
        let words: Vec<String> = item
            .iter()
            .filter_map(|t| match &t.tok {
                Tok::Ident(x) if x != rename => Some(x.clone()),
                _ => None,
            })
            .collect();
        match words.as_slice() {
            [m] => {
                out.insert(m.clone(), m.clone());
            }
            [m, local] => {
                out.insert(local.clone(), m.clone());
            }
            _ => {}
        }
    }
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
                        b'\\' => {
                            i += src[i + 1..].chars().next().map_or(0, char::len_utf8);
                        }
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
                        // The escaped character may be several bytes long.
                        let e = src[i + 1..].chars().next().unwrap_or('\u{fffd}');
                        s.push(unescape(e));
                        i += 1 + e.len_utf8();
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

fn unescape(c: char) -> char {
    match c {
        'n' => '\n',
        't' => '\t',
        other => other,
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
                let e = src[i + 1..].chars().next().unwrap_or('\u{fffd}');
                lit.push(unescape(e));
                i += 1 + e.len_utf8();
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
                // Unterminated `${` runs to the end of the text (no `}` to drop).
                let e = if depth == 0 { i - 1 } else { i };
                segs.push(Seg::Expr(src[s..e.max(s)].trim().to_string()));
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
