//! What names stand for, gathered from the whole source before judging calls:
//! the PM2 module under any alias (`require`, `import`, compiled TypeScript's
//! `__importDefault(require("pm2"))`), PM2 methods and command runners taken
//! out of their module (`const { delete: del } = require('pm2')`, `import {
//! execSync as sh } from 'child_process'`), strings and arrays of strings bound
//! to names, and whether the file reads PM2's process list.

use std::collections::{HashMap, HashSet};

use oxc_ast::ast::{
    AssignmentExpression, AssignmentTarget, BindingPattern, Expression, IdentifierName,
    IdentifierReference, ImportDeclaration, ImportDeclarationSpecifier, StringLiteral,
    TSImportEqualsDeclaration, TSModuleReference, TemplateLiteral, VariableDeclarator,
};
use oxc_ast_visit::{walk, Visit};

use super::parse::Piece;
use super::strings::{string_items, string_segs, Seg};

/// PM2 API methods that change what runs (or save/kill).
pub const API_METHODS: &[&str] = &[
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

/// Functions that run a command line through a shell (`exec`, `execSync`, execa's
/// and zx's `$`, node-ssh's `execCommand`, shelljs's `exec`).
pub const SHELL_FNS: &[&str] = &[
    "exec",
    "execSync",
    "execa",
    "execaSync",
    "execaCommand",
    "execaCommandSync",
    "execCommand",
    "$",
];
/// Functions that run a program with an argument array.
pub const ARGV_FNS: &[&str] = &["spawn", "spawnSync", "execFile", "execFileSync"];

/// Modules whose functions run commands.
const RUNNER_MODULES: &[&str] = &[
    "child_process",
    "node:child_process",
    "execa",
    "zx",
    "zx/core",
    "shelljs",
];

/// How a function runs what it is given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Runner {
    /// A command line (`exec('pm2 delete all')`), or a program and argv (`execa('pm2', [...])`).
    Shell,
    /// A program and argv (`spawn('pm2', ['delete', 'all'])`).
    Argv,
}

impl Runner {
    pub fn of_name(name: &str) -> Option<Runner> {
        if SHELL_FNS.contains(&name) {
            Some(Runner::Shell)
        } else if ARGV_FNS.contains(&name) {
            Some(Runner::Argv)
        } else {
            None
        }
    }
}

#[derive(Debug, Default)]
pub struct Bindings {
    /// Names bound to the PM2 module (or to a `new pm2.custom()` instance).
    pub receivers: HashSet<String>,
    /// Local function name → the PM2 method it is.
    pub functions: HashMap<String, String>,
    /// Local function name → how it runs commands (aliases of exec/spawn).
    pub runners: HashMap<String, Runner>,
    /// `NAME = 'string'` (the last one wins: scripts rarely rebind a command).
    pub strings: HashMap<String, Vec<Seg>>,
    /// `NAME = ['a', 'b']`.
    pub arrays: HashMap<String, Vec<String>>,
    /// The file reads PM2's process list (`pm2 jlist`, `pm2.list`, `pm2_env`, `pm_id`).
    pub reads_list: bool,
}

impl Bindings {
    /// Gather over the parsed pieces, in source order.
    pub fn of(pieces: &[Piece]) -> Bindings {
        let mut g = Gather {
            b: Bindings::default(),
            text: "",
        };
        for p in pieces {
            g.text = p.text;
            g.visit_program(&p.program);
        }
        g.b
    }

    /// The PM2 module itself: a receiver name (`pm2` and `PM2` by convention),
    /// `require('pm2')`, `import('pm2')`, a wrapper around those, `X.default`.
    pub fn is_pm2(&self, e: &Expression) -> bool {
        match e.get_inner_expression() {
            Expression::Identifier(id) => {
                let n = id.name.as_str();
                n == "pm2" || n == "PM2" || self.receivers.contains(n)
            }
            Expression::StaticMemberExpression(m) if m.property.name == "default" => {
                self.is_pm2(&m.object)
            }
            Expression::AwaitExpression(a) => self.is_pm2(&a.argument),
            Expression::NewExpression(n) => match n.callee.get_inner_expression() {
                Expression::StaticMemberExpression(m) => {
                    m.property.name == "custom" && self.is_pm2(&m.object)
                }
                _ => false,
            },
            other => loads(other, &["pm2"]),
        }
    }

    /// The PM2 method an expression names: `pm2.delete`, `pm2['stop']`, a
    /// destructured `del`, compiled TypeScript's `(0, pm2_1.delete)`.
    pub fn pm2_method(&self, callee: &Expression) -> Option<String> {
        let m = match last_of_sequence(callee) {
            Expression::Identifier(id) => self.functions.get(id.name.as_str())?.clone(),
            Expression::StaticMemberExpression(m) if self.is_pm2(&m.object) => {
                m.property.name.as_str().to_string()
            }
            Expression::ComputedMemberExpression(m) if self.is_pm2(&m.object) => {
                match m.expression.get_inner_expression() {
                    Expression::StringLiteral(s) => s.value.as_str().to_string(),
                    _ => return None,
                }
            }
            _ => return None,
        };
        API_METHODS.contains(&m.as_str()).then_some(m)
    }

    /// How a callee runs commands, if it does: by alias, or by its name
    /// (`exec`, `cp.execSync`, `(0, child_process_1.execSync)`).
    pub fn runner(&self, callee: &Expression) -> Option<Runner> {
        match last_of_sequence(callee) {
            Expression::Identifier(id) => self
                .runners
                .get(id.name.as_str())
                .copied()
                .or_else(|| Runner::of_name(id.name.as_str())),
            Expression::StaticMemberExpression(m) => {
                // `/re/.exec(text)` is a regular expression, not a process.
                if matches!(
                    m.object.get_inner_expression(),
                    Expression::RegExpLiteral(_)
                ) {
                    return None;
                }
                Runner::of_name(m.property.name.as_str())
            }
            _ => None,
        }
    }

    /// What an initializer binds `name` to.
    fn bind(&mut self, name: &str, init: &Expression, text: &str) {
        if self.is_pm2(init) {
            self.receivers.insert(name.to_string());
        } else if let Some(m) = self.pm2_method(unbound(init)) {
            self.functions.insert(name.to_string(), m);
        } else if let Some(r) = self.runner_value(init) {
            self.runners.insert(name.to_string(), r);
        } else if let Some(items) = string_items(init) {
            self.arrays.insert(name.to_string(), items);
        } else if let Some(segs) = string_segs(init, text, &self.arrays) {
            self.strings.insert(name.to_string(), segs);
        }
    }

    /// A runner as a value: `cp.execSync`, `exec`, `promisify(exec)`.
    fn runner_value(&self, e: &Expression) -> Option<Runner> {
        let e = unbound(e);
        if let Expression::CallExpression(c) = e {
            let wraps = match c.callee.get_inner_expression() {
                Expression::Identifier(id) => id.name == "promisify",
                Expression::StaticMemberExpression(m) => m.property.name == "promisify",
                _ => false,
            };
            let arg = c.arguments.first().and_then(|a| a.as_expression())?;
            return if wraps { self.runner(arg) } else { None };
        }
        self.runner(e)
    }

    /// `{ a, b: c }` taken out of `init`: PM2 methods from the PM2 module, runners
    /// from a runner module.
    fn destructure(&mut self, pattern: &BindingPattern, init: &Expression) {
        let BindingPattern::ObjectPattern(o) = pattern else {
            return;
        };
        let pm2 = self.is_pm2(init);
        let runners = loads(init, RUNNER_MODULES);
        for p in &o.properties {
            let (Some(key), Some(local)) = (p.key.static_name(), local_name(&p.value)) else {
                continue;
            };
            self.take(&key, local, pm2, runners);
        }
    }

    /// `local` is `key` of the PM2 module (`pm2`) or of a runner module (`runners`).
    fn take(&mut self, key: &str, local: &str, pm2: bool, runners: bool) {
        if pm2 && key == "default" {
            self.receivers.insert(local.to_string());
        } else if pm2 && API_METHODS.contains(&key) {
            self.functions.insert(local.to_string(), key.to_string());
        } else if let Some(r) = Runner::of_name(key).filter(|_| runners) {
            self.runners.insert(local.to_string(), r);
        }
    }
}

/// `require(M)` / `import(M)` / `await import(M)` for M in `modules`, or a
/// one-argument wrapper around one (`__importDefault(require("pm2"))`).
fn loads(e: &Expression, modules: &[&str]) -> bool {
    let is_module = |s: &StringLiteral| modules.contains(&s.value.as_str());
    match e.get_inner_expression() {
        Expression::ImportExpression(i) => {
            matches!(i.source.get_inner_expression(), Expression::StringLiteral(s) if is_module(s))
        }
        Expression::AwaitExpression(a) => loads(&a.argument, modules),
        Expression::CallExpression(c) => {
            let Some(arg) = c.arguments.first().and_then(|a| a.as_expression()) else {
                return false;
            };
            if c.callee.is_specific_id("require") {
                matches!(arg.get_inner_expression(), Expression::StringLiteral(s) if is_module(s))
            } else {
                c.arguments.len() == 1 && loads(arg, modules)
            }
        }
        Expression::StaticMemberExpression(m) if m.property.name == "default" => {
            loads(&m.object, modules)
        }
        _ => false,
    }
}

/// `f.bind(x)` → `f`.
fn unbound<'b, 'a>(e: &'b Expression<'a>) -> &'b Expression<'a> {
    let e = e.get_inner_expression();
    if let Expression::CallExpression(c) = e {
        if let Expression::StaticMemberExpression(m) = c.callee.get_inner_expression() {
            if m.property.name == "bind" {
                return m.object.get_inner_expression();
            }
        }
    }
    e
}

/// `(0, f)` (how compilers call an imported function) → `f`.
pub fn last_of_sequence<'b, 'a>(e: &'b Expression<'a>) -> &'b Expression<'a> {
    match e.get_inner_expression() {
        Expression::SequenceExpression(s) => {
            s.expressions.last().map_or(e, |l| l.get_inner_expression())
        }
        other => other,
    }
}

fn local_name<'b>(p: &'b BindingPattern) -> Option<&'b str> {
    match p {
        BindingPattern::BindingIdentifier(id) => Some(id.name.as_str()),
        BindingPattern::AssignmentPattern(a) => local_name(&a.left),
        _ => None,
    }
}

struct Gather<'t> {
    b: Bindings,
    text: &'t str,
}

impl<'a> Visit<'a> for Gather<'_> {
    fn visit_variable_declarator(&mut self, it: &VariableDeclarator<'a>) {
        if let Some(init) = &it.init {
            match &it.id {
                BindingPattern::BindingIdentifier(id) => {
                    self.b.bind(id.name.as_str(), init, self.text)
                }
                pattern => self.b.destructure(pattern, init),
            }
        }
        walk::walk_variable_declarator(self, it);
    }

    fn visit_assignment_expression(&mut self, it: &AssignmentExpression<'a>) {
        if let AssignmentTarget::AssignmentTargetIdentifier(id) = &it.left {
            self.b.bind(id.name.as_str(), &it.right, self.text);
        }
        walk::walk_assignment_expression(self, it);
    }

    fn visit_import_declaration(&mut self, it: &ImportDeclaration<'a>) {
        let source = it.source.value.as_str();
        let pm2 = source == "pm2";
        let runners = RUNNER_MODULES.contains(&source);
        for s in it.specifiers.iter().flatten() {
            match s {
                ImportDeclarationSpecifier::ImportDefaultSpecifier(d) if pm2 => {
                    self.b.receivers.insert(d.local.name.as_str().to_string());
                }
                ImportDeclarationSpecifier::ImportNamespaceSpecifier(n) if pm2 => {
                    self.b.receivers.insert(n.local.name.as_str().to_string());
                }
                ImportDeclarationSpecifier::ImportSpecifier(s) => {
                    let key = s.imported.name();
                    self.b
                        .take(key.as_str(), s.local.name.as_str(), pm2, runners);
                }
                _ => {}
            }
        }
        walk::walk_import_declaration(self, it);
    }

    // `import P = require('pm2')` (TypeScript)
    fn visit_ts_import_equals_declaration(&mut self, it: &TSImportEqualsDeclaration<'a>) {
        if let TSModuleReference::ExternalModuleReference(r) = &it.module_reference {
            if r.expression.value == "pm2" {
                self.b.receivers.insert(it.id.name.as_str().to_string());
            }
        }
        walk::walk_ts_import_equals_declaration(self, it);
    }

    fn visit_string_literal(&mut self, it: &StringLiteral<'a>) {
        self.b.reads_list |= it.value.contains("jlist");
    }

    fn visit_template_literal(&mut self, it: &TemplateLiteral<'a>) {
        self.b.reads_list |= it.quasis.iter().any(|q| q.value.raw.contains("jlist"));
        walk::walk_template_literal(self, it);
    }

    fn visit_identifier_name(&mut self, it: &IdentifierName<'a>) {
        self.b.reads_list |= matches!(it.name.as_str(), "pm2_env" | "pm_id");
    }

    fn visit_identifier_reference(&mut self, it: &IdentifierReference<'a>) {
        self.b.reads_list |= matches!(it.name.as_str(), "pm2_env" | "pm_id");
    }

    fn visit_static_member_expression(&mut self, it: &oxc_ast::ast::StaticMemberExpression<'a>) {
        self.b.reads_list |=
            matches!(it.property.name.as_str(), "list" | "describe") && self.b.is_pm2(&it.object);
        walk::walk_static_member_expression(self, it);
    }
}
