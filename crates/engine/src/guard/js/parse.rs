//! oxc's parse of a JavaScript/TypeScript source, and what happens when it
//! fails: the error's place and oxc's message, and as much of the file as can
//! still be read (the file with the failing lines blanked, else line by line).

use oxc_allocator::Allocator;
use oxc_ast::ast::Program;
use oxc_parser::{ParseOptions, Parser, ParserReturn};
use oxc_span::SourceType;

/// The language a source is parsed as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Dialect {
    /// JavaScript, CommonJS or ES module (decided by the content), JSX allowed.
    #[default]
    Js,
    /// TypeScript (`.ts`, `.cts`, `.mts`).
    Ts,
    /// TypeScript with JSX (`.tsx`).
    Tsx,
}

impl Dialect {
    /// By file name; anything that is not TypeScript is read as JavaScript.
    pub fn of_path(name: &str) -> Dialect {
        let ext = name
            .rsplit_once('.')
            .map(|(_, e)| e.to_ascii_lowercase())
            .unwrap_or_default();
        match ext.as_str() {
            "ts" | "cts" | "mts" => Dialect::Ts,
            "tsx" => Dialect::Tsx,
            _ => Dialect::Js,
        }
    }

    fn source_type(self) -> SourceType {
        match self {
            Dialect::Js => SourceType::unambiguous().with_jsx(true),
            Dialect::Ts => SourceType::ts(),
            Dialect::Tsx => SourceType::tsx(),
        }
    }
}

/// A parsed part of the source. The program's spans are offsets into `text`,
/// whose byte `shift` is byte `base` of the whole source (`shift` is the length
/// of a wrapper put around a line: `({` for a line of an object literal).
pub struct Piece<'a> {
    pub base: usize,
    pub shift: usize,
    pub text: &'a str,
    pub program: Program<'a>,
}

impl Piece<'_> {
    /// Offset in the whole source of offset `at` of `text`.
    pub fn offset(&self, at: u32) -> usize {
        (self.base + at as usize).saturating_sub(self.shift)
    }
}

/// How much of a source that did not parse cleanly was read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Read {
    /// oxc recovered from the error: the whole file was read.
    Whole,
    /// These lines (1-based) were read on their own (as in `LineByLine`), the
    /// rest of the file as a whole.
    Skipping(Vec<usize>),
    /// Each line was parsed on its own (a line's parts before and after an error
    /// too): constructs spanning lines are not seen as such.
    LineByLine,
    /// Nothing could be read.
    Nothing,
}

/// The first syntax error of a source, and how the rest was read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// Byte offset of the error in the source.
    pub offset: usize,
    /// oxc's message.
    pub message: String,
    pub read: Read,
}

impl Failure {
    /// What was done after the error, for messages.
    pub fn what_was_read(&self) -> String {
        match &self.read {
            Read::Whole => "the parser recovered and the whole file was read".into(),
            Read::Skipping(lines) => {
                let lines: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
                let s = if lines.len() == 1 { "" } else { "s" };
                format!(
                    "line{s} {} read on {}own, the rest of the file as a whole",
                    lines.join(", "),
                    if lines.len() == 1 { "its " } else { "their " }
                )
            }
            Read::LineByLine => "the file was read line by line, so a command split across lines or inside a multi-line construct may be missed".into(),
            Read::Nothing => "nothing in the file was checked".into(),
        }
    }
}

/// Blanked-line retries before reading line by line (each is a full parse).
const BLANK_TRIES: usize = 4;
/// Parses spent on one line when reading line by line (its parts around errors).
const LINE_PARSES: usize = 24;

/// Parse `src`; on a syntax error oxc cannot recover from, read what can be read.
pub fn parse<'a>(
    alloc: &'a Allocator,
    src: &'a str,
    dialect: Dialect,
) -> (Vec<Piece<'a>>, Option<Failure>) {
    let r = run(alloc, src, dialect);
    let first = first_error(&r, src);
    if !r.panicked {
        let failure = first.map(|(offset, message)| Failure {
            offset,
            message,
            read: Read::Whole,
        });
        return (vec![whole(src, r.program)], failure);
    }
    let (offset, message) = first.unwrap_or((0, "the parser stopped".into()));
    if let Some((program, lines)) = blanking(alloc, src, dialect, offset) {
        let mut pieces = vec![whole(src, program)];
        for &n in &lines {
            let (start, end) = line_range(src, n);
            let mut budget = LINE_PARSES;
            salvage(
                alloc,
                src,
                dialect,
                start,
                end,
                true,
                &mut budget,
                &mut pieces,
            );
        }
        let failure = Failure {
            offset,
            message,
            read: Read::Skipping(lines),
        };
        return (pieces, Some(failure));
    }
    (
        line_by_line(alloc, src, dialect),
        Some(Failure {
            offset,
            message,
            read: Read::LineByLine,
        }),
    )
}

/// Each line of `src` parsed on its own: as statements, else as a member of an
/// object literal or an element of an array (a line of a multi-line literal),
/// else in parts around its errors.
pub fn line_by_line<'a>(alloc: &'a Allocator, src: &'a str, dialect: Dialect) -> Vec<Piece<'a>> {
    let mut out = vec![];
    let mut start = 0;
    for line in src.split_inclusive('\n') {
        let end = start + line.trim_end_matches(['\n', '\r']).len();
        let mut budget = LINE_PARSES;
        salvage(alloc, src, dialect, start, end, true, &mut budget, &mut out);
        start += line.len();
    }
    out
}

/// Byte range of line `n` (1-based), without its line break.
fn line_range(src: &str, n: usize) -> (usize, usize) {
    let start = match n.checked_sub(2) {
        None => 0,
        Some(k) => src
            .match_indices('\n')
            .nth(k)
            .map_or(src.len(), |(i, _)| i + 1),
    };
    let line = src[start..].split('\n').next().unwrap_or("");
    (start, start + line.trim_end_matches('\r').len())
}

fn whole<'a>(src: &'a str, program: Program<'a>) -> Piece<'a> {
    Piece {
        base: 0,
        shift: 0,
        text: src,
        program,
    }
}

fn run<'a>(alloc: &'a Allocator, text: &'a str, dialect: Dialect) -> ParserReturn<'a> {
    let options = ParseOptions {
        // CommonJS files and `node -e` programs may `return` at the top level.
        allow_return_outside_function: true,
        preserve_parens: false,
        // Only needed by semantic analysis, which the guard does not run.
        enable_ident_hashes: false,
        ..ParseOptions::default()
    };
    Parser::new(alloc, text, dialect.source_type())
        .with_options(options)
        .parse()
}

/// The first error's start (a char boundary of `text`, at most its length) and message.
fn first_error(r: &ParserReturn, text: &str) -> Option<(usize, String)> {
    let d = r.diagnostics.errors().next()?;
    let label = d
        .labels
        .iter()
        .find(|l| l.primary())
        .or_else(|| d.labels.first());
    let offset = label.map_or(0, |l| l.offset() as usize);
    Some((floor_boundary(text, offset), d.message.to_string()))
}

fn floor_boundary(text: &str, mut i: usize) -> usize {
    i = i.min(text.len());
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// The source with the error's line blanked (spaces: offsets stay), again for
/// the next error, up to `BLANK_TRIES` lines: the program and the blanked lines.
fn blanking<'a>(
    alloc: &'a Allocator,
    src: &'a str,
    dialect: Dialect,
    mut offset: usize,
) -> Option<(Program<'a>, Vec<usize>)> {
    let mut text = src.to_string();
    let mut lines = vec![];
    for _ in 0..BLANK_TRIES {
        let start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
        let end = text[offset..].find('\n').map_or(text.len(), |i| offset + i);
        if text[start..end].trim().is_empty() {
            // Nothing left to blank there (the error is at the end of the input).
            return None;
        }
        let blank = " ".repeat(end - start);
        text.replace_range(start..end, &blank);
        lines.push(src[..start].matches('\n').count() + 1);
        let copy = alloc.alloc_str(&text);
        let r = run(alloc, copy, dialect);
        if !r.panicked {
            lines.sort_unstable();
            return Some((r.program, lines));
        }
        offset = first_error(&r, copy)?.0;
    }
    None
}

/// How a line that is not a statement may still be read: as an object member
/// (`stop: 'pm2 kill',`) or an array element (`'pm2 delete all',`).
const WRAPPERS: [(&str, &str); 2] = [("({", "\n})"), ("[", "\n]")];

/// Parse `src[start..end]` (alone, else wrapped when `wrap`: a whole line or
/// what follows an open bracket); on an unrecoverable error, the parts before
/// it, inside the bracket it left open, and from it on, while `budget` parses
/// remain (each part is shorter than the text: this ends).
#[allow(clippy::too_many_arguments)]
fn salvage<'a>(
    alloc: &'a Allocator,
    src: &'a str,
    dialect: Dialect,
    start: usize,
    end: usize,
    wrap: bool,
    budget: &mut usize,
    out: &mut Vec<Piece<'a>>,
) {
    let text = &src[start..end];
    if text.trim().is_empty() || *budget == 0 {
        return;
    }
    *budget -= 1;
    let r = run(alloc, text, dialect);
    if !r.panicked {
        out.push(Piece {
            base: start,
            shift: 0,
            text,
            program: r.program,
        });
        return;
    }
    let error = first_error(&r, text);
    for (open, close) in WRAPPERS.into_iter().filter(|_| wrap) {
        if *budget == 0 {
            return;
        }
        *budget -= 1;
        let wrapped = alloc.alloc_str(&format!("{open}{text}{close}"));
        let r = run(alloc, wrapped, dialect);
        if !r.panicked {
            out.push(Piece {
                base: start,
                shift: open.len(),
                text: wrapped,
                program: r.program,
            });
            return;
        }
    }
    let Some((at, _)) = error else {
        return;
    };
    if at > 0 && at < text.len() {
        salvage(alloc, src, dialect, start, start + at, false, budget, out);
    }
    // `{ stop: 'pm2 kill',` at the end of a line: what follows the open bracket.
    if let Some(o) = opened(&r, text, at) {
        salvage(
            alloc,
            src,
            dialect,
            start + o + 1,
            start + at,
            true,
            budget,
            out,
        );
    }
    // What follows, from the token the error is at (or past the character, when
    // the error is at the start).
    let from = if at > 0 {
        at
    } else {
        text.chars().next().map_or(1, char::len_utf8)
    };
    if from < text.len() {
        salvage(alloc, src, dialect, start + from, end, false, budget, out);
    }
}

/// The bracket left open before an error at `at`: the one oxc labels "Opened
/// here", else the last one before the error.
fn opened(r: &ParserReturn, text: &str, at: usize) -> Option<usize> {
    let labelled = r.diagnostics.errors().next().and_then(|d| {
        d.labels
            .iter()
            .find(|l| !l.primary() && l.label() == Some("Opened here"))
            .map(|l| l.offset() as usize)
    });
    let o = labelled.or_else(|| text[..at].rfind(['{', '[', '(']))?;
    (o < at && text.is_char_boundary(o) && text.is_char_boundary(o + 1)).then_some(o)
}
