//! The command a call runs, as shell text: a command line given to a shell
//! runner (`exec`, `execSync`, execa, zx's `$` template), a program and its
//! argument array (`spawn`, `execFile`, `execa('pm2', [...])`), or a PM2 API call
//! written as the `pm2` command it amounts to (`pm2.delete('all')` → `pm2 delete all`).

use oxc_ast::ast::{
    Argument, ArrayExpressionElement, CallExpression, Expression, ObjectPropertyKind,
    TaggedTemplateExpression,
};
use oxc_span::{GetSpan, Span};

use super::bindings::{last_of_sequence, Bindings, Runner};
use super::strings::{literal, source, string_segs, strip_words, template, Seg};
use crate::guard::shell::quote;

/// The command a call runs, if it runs one the guard can read, and where the
/// call is written: from the PM2 receiver (`pm2.delete(...)`), or from the
/// runner's own name (`require('child_process').execSync(...)` at `execSync`).
pub fn of_call(c: &CallExpression, b: &Bindings, text: &str) -> Option<(Vec<Seg>, Span)> {
    if let Some(m) = b.pm2_method(&c.callee) {
        return Some((api(&m, &c.arguments, text), c.span));
    }
    let segs = match b.runner(&c.callee)? {
        Runner::Shell if program_and_args(&c.arguments) => argv(&c.arguments, b, text),
        Runner::Shell => command_line(&c.arguments, b, text),
        Runner::Argv => argv(&c.arguments, b, text),
    }?;
    let start = match c.callee.get_inner_expression() {
        Expression::StaticMemberExpression(m) => m.property.span.start,
        _ => c.span.start,
    };
    Some((segs, Span::new(start, c.span.end)))
}

/// zx's and execa's template form: `` $`pm2 delete ${name}` ``, `` $.sync`...` ``,
/// `` $({ cwd })`...` ``, `` execa`...` ``.
pub fn of_tag(t: &TaggedTemplateExpression, b: &Bindings, text: &str) -> Option<Vec<Seg>> {
    shell_tag(&t.tag, b).then(|| template(&t.quasi, text))
}

fn shell_tag(e: &Expression, b: &Bindings) -> bool {
    match last_of_sequence(e) {
        Expression::CallExpression(c) => shell_tag(&c.callee, b),
        Expression::StaticMemberExpression(m)
            if matches!(
                m.property.name.as_str(),
                "sync" | "s" | "quiet" | "nothrow" | "noquote" | "verbose"
            ) =>
        {
            shell_tag(&m.object, b)
        }
        other => b.runner(other) == Some(Runner::Shell),
    }
}

/// `exec('pm2 ' + verb + ' all')`, `exec(cmd)` with `cmd` bound to a string.
fn command_line(args: &[Argument], b: &Bindings, text: &str) -> Option<Vec<Seg>> {
    let first = strip_words(args.first()?.as_expression()?, &b.arrays);
    if let Expression::Identifier(id) = first {
        return b.strings.get(id.name.as_str()).cloned();
    }
    string_segs(first, text, &b.arrays)
}

/// `execa('pm2', ['delete', 'all'])`: a literal program, then an array or a
/// string split into words.
fn program_and_args(args: &[Argument]) -> bool {
    let first = args.first().and_then(|a| a.as_expression());
    let second = args.get(1).and_then(|a| a.as_expression());
    matches!(
        first.map(|e| e.get_inner_expression()),
        Some(Expression::StringLiteral(_) | Expression::TemplateLiteral(_))
    ) && second.is_some_and(|e| {
        matches!(e.get_inner_expression(), Expression::ArrayExpression(_)) || is_split(e)
    })
}

/// `x.split(...)`: a string cut into argv words.
fn is_split(e: &Expression) -> bool {
    let Expression::CallExpression(c) = e.get_inner_expression() else {
        return false;
    };
    matches!(c.callee.get_inner_expression(), Expression::StaticMemberExpression(m) if m.property.name == "split")
}

/// `spawn('pm2', ['delete', name])`, `spawn('pm2', 'restart all'.split(' '))`,
/// and with `{ shell: true }` the words joined into a command line.
fn argv(args: &[Argument], b: &Bindings, text: &str) -> Option<Vec<Seg>> {
    let program = match args.first()?.as_expression()?.get_inner_expression() {
        Expression::StringLiteral(s) => s.value.as_str().to_string(),
        Expression::TemplateLiteral(t) => literal(&template(t, text))?,
        _ => return None,
    };
    let shell = args.iter().skip(1).any(shell_option);
    let word = |w: &str| if shell { w.to_string() } else { quote(w) };
    let mut segs = vec![Seg::Lit(word(&program))];
    let Some(second) = args.get(1).and_then(|a| a.as_expression()) else {
        return Some(segs);
    };
    match second.get_inner_expression() {
        Expression::ArrayExpression(a) => {
            for el in &a.elements {
                let plain = match el {
                    ArrayExpressionElement::Elision(_) => continue,
                    ArrayExpressionElement::StringLiteral(s) => Some(s.value.as_str().to_string()),
                    ArrayExpressionElement::TemplateLiteral(t) => literal(&template(t, text)),
                    _ => None,
                };
                segs.push(Seg::Lit(" ".into()));
                segs.push(match plain {
                    Some(w) => Seg::Lit(word(&w)),
                    None => Seg::Expr(source(text, el.span()).to_string()),
                });
            }
        }
        // A string split into words: its words, as written.
        words if is_split(words) => {
            if let Some(w) = string_segs(words, text, &b.arrays) {
                segs.push(Seg::Lit(" ".into()));
                segs.extend(w);
            }
        }
        _ => {}
    }
    Some(segs)
}

/// An options object with `shell` set to anything but `false`.
fn shell_option(a: &Argument) -> bool {
    let Some(Expression::ObjectExpression(o)) = a.as_expression().map(|e| e.get_inner_expression())
    else {
        return false;
    };
    o.properties.iter().any(|p| match p {
        ObjectPropertyKind::ObjectProperty(p) => {
            p.key.static_name().is_some_and(|k| k == "shell")
                && !matches!(p.value.get_inner_expression(), Expression::BooleanLiteral(b) if !b.value)
        }
        ObjectPropertyKind::SpreadProperty(_) => false,
    })
}

/// A PM2 API call as the `pm2` command it amounts to. The first argument is the
/// target; callback-only methods (`pm2.killDaemon(cb)`) take none.
fn api(method: &str, args: &[Argument], text: &str) -> Vec<Seg> {
    let verb = match method {
        "killDaemon" => "kill",
        "dump" => "save",
        m => m,
    };
    let mut segs = vec![Seg::Lit(format!("pm2 {verb}"))];
    let Some(first) = args.first() else {
        return segs;
    };
    let target = first.as_expression().map(|e| e.get_inner_expression());
    match target {
        Some(Expression::StringLiteral(s)) => {
            segs.push(Seg::Lit(format!(" {}", quote(s.value.as_str()))));
        }
        Some(Expression::TemplateLiteral(t)) if t.expressions.is_empty() => {
            let s = literal(&template(t, text)).unwrap_or_default();
            segs.push(Seg::Lit(format!(" {}", quote(&s))));
        }
        Some(Expression::NumericLiteral(n)) => {
            segs.push(Seg::Lit(format!(" {}", source(text, n.span))));
        }
        // pm2.start({ name, script }): an explicit app definition.
        Some(Expression::ObjectExpression(_)) if verb == "start" => {
            segs.push(Seg::Lit(" app.config.js".into()));
        }
        _ if matches!(verb, "kill" | "save" | "resurrect" | "update") => {}
        _ => {
            segs.push(Seg::Lit(" ".into()));
            segs.push(Seg::Expr(source(text, first.span()).to_string()));
        }
    }
    segs
}
