//! PM2 use in JavaScript and TypeScript, read with oxc's parser: commands run
//! through `child_process` (`exec`/`execSync`/`spawn`/`execFile`), execa and zx
//! (literal, template or `.split(' ')` arguments), node-ssh's `execCommand`,
//! the PM2 API under any alias (`pm2.delete('all')`, compiled TypeScript's
//! `pm2_1.default.delete("all")`), and PM2 command strings wherever they stand.
//! Each command goes to the shell layer (`guard::analyze`) and its findings
//! point at the call or string as written (byte offsets from oxc's spans).
//!
//! A file oxc cannot parse is still read as far as possible (its failing lines
//! blanked, else line by line) and the failure is returned with its place.

mod bindings;
mod calls;
mod filter;
mod parse;
mod strings;
mod walk;

use oxc_allocator::Allocator;
use oxc_ast_visit::Visit;

pub use parse::{Dialect, Failure, Read};

use super::verdict::{Class, Finding, GuardContext, NameFilter};
use bindings::Bindings;
use parse::Piece;
use walk::Judge;

/// What reading a source found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsRead {
    /// Offsets are byte offsets into the source.
    pub findings: Vec<Finding>,
    /// The first syntax error, when the source did not parse cleanly.
    pub failure: Option<Failure>,
}

/// Findings in a JavaScript source (`node -e` programs, tests); a syntax error
/// is a caution finding of its own, at its place.
pub fn scan(src: &str, ctx: &GuardContext) -> Vec<Finding> {
    let r = read(src, Dialect::Js, ctx);
    let mut out = r.findings;
    if let Some(f) = r.failure {
        out.push(failure_finding(src, &f));
    }
    out
}

/// Read a source of the given dialect.
pub fn read(src: &str, dialect: Dialect, ctx: &GuardContext) -> JsRead {
    let whole = || {
        let alloc = Allocator::default();
        let (pieces, failure) = parse::parse(&alloc, src, dialect);
        JsRead {
            findings: judge(&pieces, ctx),
            failure,
        }
    };
    if let Some(r) = on_stack_for(src.len(), whole) {
        return r;
    }
    // Not enough memory for a stack that fits the whole file: each line alone.
    let longest = src.split('\n').map(str::len).max().unwrap_or(0);
    let lines = || {
        let alloc = Allocator::default();
        let pieces = parse::line_by_line(&alloc, src, dialect);
        judge(&pieces, ctx)
    };
    let (findings, read) = match on_stack_for(longest, lines) {
        Some(f) => (f, Read::LineByLine),
        None => (vec![], Read::Nothing),
    };
    JsRead {
        findings,
        failure: Some(Failure {
            offset: 0,
            message: format!(
                "not enough memory for the parser's stack on a {} KB file",
                src.len() / 1024
            ),
            read,
        }),
    }
}

/// The name filter a JavaScript program applies anywhere (a `node -e` program
/// reading `pm2 jlist` in a pipeline): the weakest test of a name that is not
/// negated. `None` also when the program does not parse.
pub fn name_filter(src: &str) -> Option<NameFilter> {
    on_stack_for(src.len(), || {
        let alloc = Allocator::default();
        let (pieces, _) = parse::parse(&alloc, src, Dialect::Js);
        let mut t = filter::Tests::default();
        for p in &pieces {
            t.text = p.text;
            t.visit_program(&p.program);
        }
        t.found
    })
    .flatten()
}

fn judge(pieces: &[Piece], ctx: &GuardContext) -> Vec<Finding> {
    let b = Bindings::of(pieces);
    let mut out = vec![];
    for p in pieces {
        let mut j = Judge::new(p, &b, ctx);
        j.visit_program(&p.program);
        out.append(&mut j.out);
    }
    out
}

/// oxc's parser and the AST walks recurse once per nesting level, and a level
/// takes at least one byte of source: a stack this size per byte cannot
/// overflow, however deep the nesting (measured worst, `((((1))))`: 2.9 KB per
/// level in a debug build, 1.5 KB optimised; oxc has no depth limit of its own).
const STACK_PER_BYTE: usize = if cfg!(debug_assertions) { 4096 } else { 2048 };
const STACK_BASE: usize = 1 << 20;

/// Run `f` on a thread whose stack fits a source of `len` bytes. `None` when
/// the system will not give such a stack. The memory is only reserved: pages
/// are used as deep as the source actually nests.
fn on_stack_for<T: Send>(len: usize, f: impl FnOnce() -> T + Send) -> Option<T> {
    let size = len.checked_mul(STACK_PER_BYTE)?.checked_add(STACK_BASE)?;
    std::thread::scope(|s| {
        let h = std::thread::Builder::new()
            .name("js-parse".into())
            .stack_size(size)
            .spawn_scoped(s, f)
            .ok()?;
        Some(h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
    })
}

/// A syntax error as a guard finding: what could not be read is not safe.
fn failure_finding(src: &str, f: &Failure) -> Finding {
    let start = src[..f.offset].rfind('\n').map_or(0, |i| i + 1);
    let end = src[f.offset..]
        .find('\n')
        .map_or(src.len(), |i| f.offset + i);
    Finding {
        class: Class::Caution,
        reason: format!(
            "cannot parse this JavaScript ({}); {}",
            f.message,
            f.what_was_read()
        ),
        safe_alternative: None,
        targets: vec![],
        offset: f.offset,
        verb: None,
        filter: None,
        command: src[start..end].trim().to_string(),
    }
}
