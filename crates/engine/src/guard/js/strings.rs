//! JavaScript string expressions as shell text: the literal parts as written
//! (escapes decoded by oxc) and the computed parts as the source text of their
//! expression, which the caller binds to a feed.

use std::collections::HashMap;

use oxc_ast::ast::{ArrayExpressionElement, BinaryOperator, Expression, TemplateLiteral};
use oxc_span::{GetSpan, Span};

/// One part of a command string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seg {
    Lit(String),
    /// A computed part: the source text of its expression.
    Expr(String),
}

/// The text of a piece's span (spans from oxc are on character boundaries).
pub fn source(text: &str, span: Span) -> &str {
    text.get(span.start as usize..span.end as usize)
        .unwrap_or_default()
}

/// Segments back to one string, computed parts as `${...}`.
pub fn seg_text(s: &[Seg]) -> String {
    s.iter()
        .map(|x| match x {
            Seg::Lit(t) => t.clone(),
            Seg::Expr(e) => format!("${{{e}}}"),
        })
        .collect()
}

/// All literal: the string itself.
pub fn literal(s: &[Seg]) -> Option<String> {
    s.iter()
        .all(|x| matches!(x, Seg::Lit(_)))
        .then(|| seg_text(s))
}

/// A template literal's parts.
pub fn template(t: &TemplateLiteral, text: &str) -> Vec<Seg> {
    let mut out = vec![];
    for (i, q) in t.quasis.iter().enumerate() {
        let lit = q.value.cooked.as_ref().unwrap_or(&q.value.raw);
        if !lit.is_empty() {
            out.push(Seg::Lit(lit.as_str().to_string()));
        }
        if let Some(e) = t.expressions.get(i) {
            out.push(Seg::Expr(source(text, e.span()).trim().to_string()));
        }
    }
    out
}

/// Methods that keep a command string the same command: `'pm2 delete all'.split(' ')`
/// is its argv, `.join(' ')` joins it back.
const SAME_COMMAND: &[&str] = &["split", "join", "trim", "trimStart", "trimEnd", "toString"];

/// `x.split(' ')`, `x.split(' ').join(' ')`, `(x)`, `x as string` → `x`; it stops
/// at the join of an array of strings (`arrays` names bound ones), which
/// `string_segs` reads.
pub fn strip_words<'b, 'a>(
    mut e: &'b Expression<'a>,
    arrays: &HashMap<String, Vec<String>>,
) -> &'b Expression<'a> {
    loop {
        e = e.get_inner_expression();
        let Expression::CallExpression(c) = e else {
            return e;
        };
        match c.callee.get_inner_expression() {
            Expression::StaticMemberExpression(m)
                if SAME_COMMAND.contains(&m.property.name.as_str())
                    && !(m.property.name == "join" && is_array(&m.object, arrays)) =>
            {
                e = &m.object
            }
            _ => return e,
        }
    }
}

fn is_array(e: &Expression, arrays: &HashMap<String, Vec<String>>) -> bool {
    match e.get_inner_expression() {
        Expression::ArrayExpression(_) => true,
        Expression::Identifier(id) => arrays.contains_key(id.name.as_str()),
        _ => false,
    }
}

/// The segments of a string-valued expression: a literal, a template, a `+`
/// concatenation holding at least one literal, an array of strings joined
/// (`['pm2 stop all', 'pm2 save'].join(' && ')`, or a name bound to one), or one
/// of those split into words. `None` for anything else.
pub fn string_segs(
    e: &Expression,
    text: &str,
    arrays: &HashMap<String, Vec<String>>,
) -> Option<Vec<Seg>> {
    let e = strip_words(e, arrays);
    if let Some(joined) = joined_array(e, arrays) {
        return Some(vec![Seg::Lit(joined)]);
    }
    match e {
        Expression::StringLiteral(s) => Some(vec![Seg::Lit(s.value.as_str().to_string())]),
        Expression::TemplateLiteral(t) => Some(template(t, text)),
        Expression::BinaryExpression(b) if b.operator == BinaryOperator::Addition => {
            let mut out = vec![];
            concat(e, text, &mut out);
            out.iter().any(|s| matches!(s, Seg::Lit(_))).then_some(out)
        }
        _ => None,
    }
}

/// The parts of a `+` chain, left to right. Long chains nest to the left, so the
/// left operand is followed in a loop (the parser's own depth is what bounds it).
fn concat(e: &Expression, text: &str, out: &mut Vec<Seg>) {
    let mut rights = vec![];
    let mut cur = e.get_inner_expression();
    while let Expression::BinaryExpression(b) = cur {
        if b.operator != BinaryOperator::Addition {
            break;
        }
        rights.push(&b.right);
        cur = b.left.get_inner_expression();
    }
    part(cur, text, out);
    for r in rights.into_iter().rev() {
        let r = r.get_inner_expression();
        match r {
            Expression::BinaryExpression(b) if b.operator == BinaryOperator::Addition => {
                concat(r, text, out)
            }
            _ => part(r, text, out),
        }
    }
}

fn part(e: &Expression, text: &str, out: &mut Vec<Seg>) {
    match e {
        Expression::StringLiteral(s) => out.push(Seg::Lit(s.value.as_str().to_string())),
        Expression::TemplateLiteral(t) => out.extend(template(t, text)),
        other => out.push(Seg::Expr(source(text, other.span()).trim().to_string())),
    }
}

/// `[...].join(sep)` or `NAME.join(sep)` over literal strings: the joined text.
fn joined_array(e: &Expression, arrays: &HashMap<String, Vec<String>>) -> Option<String> {
    let Expression::CallExpression(c) = e else {
        return None;
    };
    let Expression::StaticMemberExpression(m) = c.callee.get_inner_expression() else {
        return None;
    };
    if m.property.name != "join" {
        return None;
    }
    let items = match m.object.get_inner_expression() {
        Expression::Identifier(id) => arrays.get(id.name.as_str())?.clone(),
        other => string_items(other)?,
    };
    let sep = match c.arguments.first().and_then(|a| a.as_expression()) {
        None => ",".to_string(),
        Some(Expression::StringLiteral(s)) => s.value.as_str().to_string(),
        Some(_) => return None,
    };
    Some(items.join(&sep))
}

/// `['a', 'b']`: the strings, when every element is a plain string.
pub fn string_items(e: &Expression) -> Option<Vec<String>> {
    let Expression::ArrayExpression(a) = e.get_inner_expression() else {
        return None;
    };
    a.elements
        .iter()
        .map(|el| match el {
            ArrayExpressionElement::StringLiteral(s) => Some(s.value.as_str().to_string()),
            ArrayExpressionElement::TemplateLiteral(t) if t.expressions.is_empty() => Some(
                template(t, "")
                    .into_iter()
                    .map(|s| seg_text(&[s]))
                    .collect(),
            ),
            _ => None,
        })
        .collect()
}
