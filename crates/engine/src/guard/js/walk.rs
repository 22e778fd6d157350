//! The judging pass over a parsed piece: every call that runs a command and
//! every PM2 command string standing anywhere else (a script map `{ stop: 'pm2
//! kill' }`, an array of steps) is handed to the shell layer, at the place it
//! is written. A computed part gets its feed from the loop around it: a loop
//! over the process list filtered by name is the runbook's safe pattern, an
//! unfiltered one its dangerous pattern.

use std::collections::HashMap;

use oxc_ast::ast::{
    BinaryOperator, CallExpression, Expression, LogicalOperator, StringLiteral, TSLiteralType,
    TaggedTemplateExpression, TemplateLiteral,
};
use oxc_ast::AstKind;
use oxc_ast_visit::{walk, Visit};
use oxc_span::{GetSpan, Span};

use super::bindings::{last_of_sequence, Bindings};
use super::calls;
use super::filter;
use super::parse::Piece;
use super::strings::{seg_text, source, string_items, template, Seg};
use crate::guard::classify::analyze;
use crate::guard::verdict::{Feed, Finding, GuardContext, NameFilter};

/// Array methods whose callback runs once per element.
const LOOP_FNS: &[&str] = &[
    "forEach", "map", "filter", "flatMap", "some", "every", "reduce",
];

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

pub struct Judge<'a, 'c> {
    /// The piece parsed (its text, and where that is in the whole source).
    piece: &'c Piece<'a>,
    text: &'a str,
    b: &'c Bindings,
    ctx: &'c GuardContext,
    /// The nodes around the one being visited, outermost first.
    stack: Vec<AstKind<'a>>,
    /// Inside this many judged calls: their own strings are not judged again.
    covered: usize,
    pub out: Vec<Finding>,
}

/// The loop around a command: the literal items it iterates, if it does, and
/// the name filter on the way from the loop to the command.
struct Loop {
    items: Option<Vec<String>>,
    filter: Option<NameFilter>,
}

impl<'a, 'c> Judge<'a, 'c> {
    pub fn new(piece: &'c Piece<'a>, b: &'c Bindings, ctx: &'c GuardContext) -> Self {
        Judge {
            piece,
            text: piece.text,
            b,
            ctx,
            stack: vec![],
            covered: 0,
            out: vec![],
        }
    }

    /// Classify a command written at `span` and record its findings there.
    fn judge(&mut self, segs: &[Seg], span: Span) {
        // Only a computed part needs the loop around it.
        let computed = segs.iter().any(|s| matches!(s, Seg::Expr(_)));
        let around = computed.then(|| self.loop_around(span.start)).flatten();
        let mut vars = HashMap::new();
        let mut cmd = String::new();
        for (n, seg) in segs.iter().enumerate() {
            match seg {
                Seg::Lit(s) => cmd.push_str(s),
                Seg::Expr(e) => {
                    let var = format!("__js_expr_{n}");
                    cmd.push_str(&format!("${{{var}}}"));
                    vars.insert(var, self.feed(around.as_ref(), e));
                }
            }
        }
        let command = source(self.text, span);
        for mut f in analyze(&cmd, self.ctx, &vars) {
            f.offset = self.piece.offset(span.start);
            f.command = command.to_string();
            self.out.push(f);
        }
    }

    fn feed(&self, around: Option<&Loop>, expr: &str) -> Feed {
        match around {
            None => Feed::Unknown(format!("the JS expression `{expr}`")),
            Some(Loop {
                items: Some(items), ..
            }) => Feed::Literal(items.clone()),
            Some(_) if !self.b.reads_list => {
                Feed::Unknown(format!("the JS expression `{expr}` inside a loop"))
            }
            Some(l) => Feed::PmList {
                filter: l.filter.clone(),
            },
        }
    }

    /// The innermost loop around offset `at`: an array method's callback, or
    /// the header or body of a `for`/`while` statement.
    fn loop_around(&self, at: u32) -> Option<Loop> {
        for (i, kind) in self.stack.iter().enumerate().rev() {
            let (items, receiver) = match kind {
                AstKind::CallExpression(c) if at >= c.callee.span().end => {
                    let Expression::StaticMemberExpression(m) = c.callee.get_inner_expression()
                    else {
                        continue;
                    };
                    if !LOOP_FNS.contains(&m.property.name.as_str()) {
                        continue;
                    }
                    (
                        self.items_of(&m.object),
                        filter::of_receiver(&m.object, self.text),
                    )
                }
                AstKind::ForOfStatement(f) => (
                    self.items_of(&f.right),
                    filter::of_receiver(&f.right, self.text),
                ),
                AstKind::ForInStatement(_)
                | AstKind::ForStatement(_)
                | AstKind::WhileStatement(_)
                | AstKind::DoWhileStatement(_) => (None, None),
                _ => continue,
            };
            return Some(Loop {
                items,
                filter: filter::narrower(receiver, self.guards(i + 1, at)),
            });
        }
        None
    }

    /// The name filter the conditions from stack index `from` inward put on
    /// the code at `at`: `if` tests it is under, `cond && ...`, `cond ? ... :`,
    /// and early `return`/`continue` on a negated test before it.
    fn guards(&self, from: usize, at: u32) -> Option<NameFilter> {
        let inside = |s: Span| s.start <= at && at < s.end;
        let mut f = None;
        for kind in &self.stack[from..] {
            let g = match kind {
                AstKind::IfStatement(s) if inside(s.consequent.span()) => {
                    filter::of_condition(&s.test, self.text)
                }
                AstKind::LogicalExpression(l)
                    if l.operator == LogicalOperator::And && inside(l.right.span()) =>
                {
                    filter::of_condition(&l.left, self.text)
                }
                AstKind::ConditionalExpression(c) if inside(c.consequent.span()) => {
                    filter::of_condition(&c.test, self.text)
                }
                AstKind::BlockStatement(b) => filter::of_early_exits(&b.body, at, self.text),
                AstKind::FunctionBody(b) => filter::of_early_exits(&b.statements, at, self.text),
                _ => None,
            };
            f = filter::narrower(f, g);
        }
        f
    }

    fn items_of(&self, e: &Expression) -> Option<Vec<String>> {
        match e.get_inner_expression() {
            Expression::Identifier(id) => self.b.arrays.get(id.name.as_str()).cloned(),
            other => string_items(other),
        }
    }

    /// The string being visited is an argument of a display/compare call, a
    /// comparison operand, a thrown message or a `case` label: someone reads it,
    /// nothing runs it.
    fn shown_or_compared(&self) -> bool {
        for kind in self.stack.iter().rev() {
            match kind {
                AstKind::ParenthesizedExpression(_)
                | AstKind::ConditionalExpression(_)
                | AstKind::LogicalExpression(_)
                | AstKind::TemplateLiteral(_)
                | AstKind::SequenceExpression(_) => continue,
                AstKind::BinaryExpression(b) => match b.operator {
                    BinaryOperator::Addition => continue,
                    op => {
                        return matches!(
                            op,
                            BinaryOperator::Equality
                                | BinaryOperator::StrictEquality
                                | BinaryOperator::Inequality
                                | BinaryOperator::StrictInequality
                        )
                    }
                },
                AstKind::ThrowStatement(_) | AstKind::SwitchCase(_) => return true,
                AstKind::CallExpression(c) => return shows(&c.callee) || on_regex(&c.callee),
                AstKind::NewExpression(n) => return shows(&n.callee),
                _ => return false,
            }
        }
        false
    }

    /// A string standing on its own that is a PM2 command line.
    fn free_string(&mut self, segs: &[Seg], span: Span) {
        if self.covered == 0 && is_command(segs) && !self.shown_or_compared() {
            self.judge(segs, span);
        }
    }
}

/// A callee whose arguments are text to show or compare.
fn shows(callee: &Expression) -> bool {
    let name = match last_of_sequence(callee) {
        Expression::Identifier(id) => id.name.as_str(),
        Expression::StaticMemberExpression(m) => m.property.name.as_str(),
        _ => return false,
    };
    TEXT_FNS.contains(&name)
}

/// `/pm2 delete all/.exec(text)`: text matched against a regular expression.
fn on_regex(callee: &Expression) -> bool {
    matches!(callee.get_inner_expression(), Expression::StaticMemberExpression(m)
        if matches!(m.object.get_inner_expression(), Expression::RegExpLiteral(_)))
}

/// A string that holds a PM2 or kill command line (`pm2 stop all`, `npx pm2
/// kill`, `cd /srv && pm2 reload all`, `kill -9 $(cat ~/.pm2/pm2.pid)`): judged
/// wherever it stands, since something runs it. Only a first look: a command
/// word where a command starts; the shell layer decides what the text does. A
/// string bound to a name and run later through `exec(name)` is judged at that
/// call as well; the string's own finding marks where it is written.
fn is_command(segs: &[Seg]) -> bool {
    let text = seg_text(segs);
    text.split(['&', '|', ';', '\n', '(', '`']).any(|part| {
        let mut words = part
            .split_whitespace()
            .skip_while(|w| matches!(*w, "sudo" | "npx" | "nohup" | "exec") || is_assignment(w));
        let program = words.next().map(|w| w.rsplit('/').next().unwrap_or(w));
        match (program, words.next()) {
            (Some("pm2" | "pkill" | "killall"), Some(_)) => true,
            (Some("kill"), Some(a)) => {
                a.starts_with(['-', '$', '%']) || a.starts_with(|c: char| c.is_ascii_digit())
            }
            _ => false,
        }
    })
}

/// `NAME=value` before a command.
fn is_assignment(w: &str) -> bool {
    w.split_once('=').is_some_and(|(k, _)| {
        !k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    })
}

impl<'a> Visit<'a> for Judge<'a, '_> {
    fn enter_node(&mut self, kind: AstKind<'a>) {
        self.stack.push(kind);
    }

    fn leave_node(&mut self, _kind: AstKind<'a>) {
        self.stack.pop();
    }

    fn visit_call_expression(&mut self, it: &CallExpression<'a>) {
        let judged = calls::of_call(it, self.b, self.text)
            .map(|(segs, span)| self.judge(&segs, span))
            .is_some();
        self.covered += usize::from(judged);
        walk::walk_call_expression(self, it);
        self.covered -= usize::from(judged);
    }

    fn visit_tagged_template_expression(&mut self, it: &TaggedTemplateExpression<'a>) {
        let judged = calls::of_tag(it, self.b, self.text)
            .map(|segs| self.judge(&segs, it.span))
            .is_some();
        self.covered += usize::from(judged);
        walk::walk_tagged_template_expression(self, it);
        self.covered -= usize::from(judged);
    }

    fn visit_string_literal(&mut self, it: &StringLiteral<'a>) {
        self.free_string(&[Seg::Lit(it.value.as_str().to_string())], it.span);
        walk::walk_string_literal(self, it);
    }

    fn visit_template_literal(&mut self, it: &TemplateLiteral<'a>) {
        // The literal parts first (computed parts empty): nested templates would
        // copy their text once per level.
        let mut probe = vec![];
        for q in &it.quasis {
            let lit = q.value.cooked.as_ref().unwrap_or(&q.value.raw);
            probe.push(Seg::Lit(lit.as_str().to_string()));
            probe.push(Seg::Expr(String::new()));
        }
        probe.pop();
        if is_command(&probe) {
            let segs = template(it, self.text);
            self.free_string(&segs, it.span);
        }
        walk::walk_template_literal(self, it);
    }

    // A type (`type Cmd = 'pm2 kill'`) is never run.
    fn visit_ts_literal_type(&mut self, _it: &TSLiteralType<'a>) {}
}
