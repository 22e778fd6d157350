//! Name filters in JavaScript conditions, read from the AST: a condition that
//! selects processes by name (`KEEP.includes(p.name)`, `p.name === 'api'`
//! explicit; `p.name.endsWith('-test')`, `/-test$/.test(p.name)` a pattern).
//! A negated test (`!`, `!==`, `indexOf(...) === -1`) selects everything else
//! and is no filter; `a || b` filters only when both sides do.

use oxc_ast::ast::{
    Argument, ArrowFunctionBody, BinaryExpression, BinaryOperator, CallExpression, Expression,
    LogicalOperator, Statement, UnaryExpression, UnaryOperator,
};
use oxc_ast_visit::{walk, Visit};
use oxc_span::GetSpan;

use super::strings::source;
use crate::guard::verdict::NameFilter;

/// The filter a condition applies, if it selects by name.
pub fn of_condition(e: &Expression, text: &str) -> Option<NameFilter> {
    match e.get_inner_expression() {
        Expression::LogicalExpression(l) => {
            let (a, b) = (of_condition(&l.left, text), of_condition(&l.right, text));
            match l.operator {
                LogicalOperator::And => narrower(a, b),
                _ => a.zip(b).map(|(a, b)| weaker(a, b)),
            }
        }
        Expression::CallExpression(c) => call_test(c).map(|explicit| NameFilter {
            explicit,
            text: source(text, c.span).trim().to_string(),
        }),
        Expression::BinaryExpression(b) => binary_test(b, text),
        _ => None,
    }
}

/// `p.name === 'api'` (explicit); `KEEP.indexOf(p.name) !== -1`, `p.name.indexOf('x') >= 0`.
fn binary_test(b: &BinaryExpression, text: &str) -> Option<NameFilter> {
    let explicit = match b.operator {
        BinaryOperator::Equality | BinaryOperator::StrictEquality => {
            (is_name(&b.left) || is_name(&b.right)).then_some(true)
        }
        BinaryOperator::Inequality
        | BinaryOperator::StrictInequality
        | BinaryOperator::GreaterThan
        | BinaryOperator::GreaterEqualThan => index_found(b.operator, &b.left, &b.right),
        _ => None,
    }?;
    Some(NameFilter {
        explicit,
        text: source(text, b.span).trim().to_string(),
    })
}

/// Both hold: a pattern is kept over an explicit list (the review rules judge the pattern).
pub fn narrower(a: Option<NameFilter>, b: Option<NameFilter>) -> Option<NameFilter> {
    match (a, b) {
        (Some(a), Some(b)) => Some(weaker(a, b)),
        (a, b) => a.or(b),
    }
}

fn weaker(a: NameFilter, b: NameFilter) -> NameFilter {
    if a.explicit && !b.explicit {
        b
    } else {
        a
    }
}

/// `p.name`, `p.pm2_env.name`, or a destructured `name`.
fn is_name(e: &Expression) -> bool {
    match e.get_inner_expression() {
        Expression::StaticMemberExpression(m) => m.property.name == "name",
        Expression::Identifier(id) => id.name == "name",
        _ => false,
    }
}

fn arg_is_name(args: &[Argument]) -> bool {
    args.first()
        .and_then(|a| a.as_expression())
        .is_some_and(is_name)
}

/// A call testing a name: `Some(true)` for a list lookup, `Some(false)` for a pattern.
fn call_test(c: &CallExpression) -> Option<bool> {
    let Expression::StaticMemberExpression(m) = c.callee.get_inner_expression() else {
        return None;
    };
    let method = m.property.name.as_str();
    if is_name(&m.object)
        && matches!(
            method,
            "endsWith" | "startsWith" | "match" | "includes" | "search" | "test"
        )
    {
        return Some(false);
    }
    if arg_is_name(&c.arguments) {
        return match method {
            "includes" | "has" => Some(true),
            // `/-test$/.test(p.name)`
            "test" => Some(false),
            _ => None,
        };
    }
    None
}

/// `X.indexOf(name) !== -1` (explicit) / `name.indexOf('x') >= 0` (pattern).
fn index_found(op: BinaryOperator, left: &Expression, right: &Expression) -> Option<bool> {
    let Expression::CallExpression(c) = left.get_inner_expression() else {
        return None;
    };
    let Expression::StaticMemberExpression(m) = c.callee.get_inner_expression() else {
        return None;
    };
    if m.property.name != "indexOf" {
        return None;
    }
    let minus_one = matches!(right.get_inner_expression(),
        Expression::UnaryExpression(u) if u.operator == UnaryOperator::UnaryNegation
            && matches!(u.argument.get_inner_expression(), Expression::NumericLiteral(n) if n.value == 1.0));
    let zero =
        matches!(right.get_inner_expression(), Expression::NumericLiteral(n) if n.value == 0.0);
    let found = match op {
        BinaryOperator::Inequality | BinaryOperator::StrictInequality => minus_one,
        BinaryOperator::GreaterThan => minus_one,
        BinaryOperator::GreaterEqualThan => zero,
        _ => false,
    };
    if !found {
        return None;
    }
    if arg_is_name(&c.arguments) {
        Some(true)
    } else if is_name(&m.object) {
        Some(false)
    } else {
        None
    }
}

/// The filter of a callback (`p => cond`, `(p) => { return cond; }`, `function (p) { return cond }`).
pub fn of_callback(e: &Expression, text: &str) -> Option<NameFilter> {
    let body = match e.get_inner_expression() {
        Expression::ArrowFunctionExpression(a) => match &a.body {
            ArrowFunctionBody::FunctionBody(b) => b,
            expr => return of_condition(expr.as_expression()?, text),
        },
        Expression::FunctionExpression(f) => f.body.as_ref()?,
        _ => return None,
    };
    match body.statements.last()? {
        Statement::ReturnStatement(r) => of_condition(r.argument.as_ref()?, text),
        _ => None,
    }
}

/// The filter the earlier statements of a block put on a later one: `if
/// (!KEEP.includes(p.name)) return;` (or `continue`) lets only kept names past.
pub fn of_early_exits(stmts: &[Statement], at: u32, text: &str) -> Option<NameFilter> {
    let mut f = None;
    for s in stmts.iter().take_while(|s| s.span().end <= at) {
        let Statement::IfStatement(i) = s else {
            continue;
        };
        if i.alternate.is_some() || !exits(&i.consequent) {
            continue;
        }
        if let Expression::UnaryExpression(u) = i.test.get_inner_expression() {
            if u.operator == UnaryOperator::LogicalNot {
                f = narrower(f, of_condition(&u.argument, text));
            }
        }
    }
    f
}

/// `return;`, `continue;`, or a block of just that.
fn exits(s: &Statement) -> bool {
    match s {
        Statement::ReturnStatement(_) | Statement::ContinueStatement(_) => true,
        Statement::BlockStatement(b) => matches!(b.body.as_slice(), [one] if exits(one)),
        _ => false,
    }
}

/// `list.filter(cb)...`: the filters of the callbacks of `.filter` calls along a
/// receiver chain (`.map`, `.slice` and the like pass through).
pub fn of_receiver(e: &Expression, text: &str) -> Option<NameFilter> {
    let mut f = None;
    let mut cur = e.get_inner_expression();
    while let Expression::CallExpression(c) = cur {
        let Expression::StaticMemberExpression(m) = c.callee.get_inner_expression() else {
            break;
        };
        if m.property.name == "filter" {
            let cb = c.arguments.first().and_then(|a| a.as_expression());
            f = narrower(f, cb.and_then(|cb| of_callback(cb, text)));
        }
        cur = m.object.get_inner_expression();
    }
    f
}

/// Every name test of a program that is not negated, the weakest kept.
#[derive(Default)]
pub struct Tests<'t> {
    pub text: &'t str,
    pub found: Option<NameFilter>,
    negated: usize,
}

impl<'a> Visit<'a> for Tests<'_> {
    fn visit_unary_expression(&mut self, it: &UnaryExpression<'a>) {
        let not = usize::from(it.operator == UnaryOperator::LogicalNot);
        self.negated += not;
        walk::walk_unary_expression(self, it);
        self.negated -= not;
    }

    fn visit_call_expression(&mut self, it: &CallExpression<'a>) {
        if self.negated == 0 {
            let e = call_test(it).map(|explicit| NameFilter {
                explicit,
                text: source(self.text, it.span).trim().to_string(),
            });
            self.found = narrower(self.found.take(), e);
        }
        walk::walk_call_expression(self, it);
    }

    fn visit_binary_expression(&mut self, it: &BinaryExpression<'a>) {
        if self.negated == 0 {
            let e = binary_test(it, self.text);
            self.found = narrower(self.found.take(), e);
        }
        walk::walk_binary_expression(self, it);
    }
}
