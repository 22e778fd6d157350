//! A POSIX-sh command-line parser: just enough shell to know what actually runs.
//!
//! It understands quoting, escapes, line continuations, comments, `;` `&&` `||`
//! `|` `&`, newlines, `$(...)`, backticks, `<(...)`, `$VAR`/`${VAR}`, subshells,
//! redirections and here-documents. It does not evaluate anything: words keep
//! their parts (literal text, variables, substitutions) so the classifier can
//! tell a literal `all` from a computed target. Kept over brush-parser and
//! tree-sitter-bash after measuring both on the guard's table (#23, BENCHMARKS.md):
//! neither reads inside quoted shell text, which is where the guard's work is.

use std::fmt;

/// A parsed command line: pipelines in source order. `;`, `&&`, `||`, `&` and
/// newlines all separate pipelines; the guard assumes every one of them may run.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Script {
    pub pipelines: Vec<Pipeline>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Pipeline {
    pub commands: Vec<SimpleCommand>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct SimpleCommand {
    /// Leading `NAME=value` assignments.
    pub assignments: Vec<(String, Word)>,
    /// The command words (name and arguments), redirections removed.
    pub words: Vec<Word>,
    /// Redirection targets (they may hold substitutions that run).
    pub redirects: Vec<Word>,
    /// Here-documents and here-strings fed to this command's standard input.
    pub heredocs: Vec<Heredoc>,
    /// Files redirected into standard input (`< file`, `<> file`, `<&N`).
    pub stdin_files: Vec<Word>,
    /// Subshells `( ... )` that appear in this command's position.
    pub nested: Vec<Script>,
    /// `name() { body; }` / `function name { body; }`: this command defines the
    /// function `name`; its body is the last of `nested`.
    pub defines: Option<String>,
    /// Byte offset of the command's start in the parsed source.
    pub offset: usize,
}

/// Where each byte of a derived text (a heredoc body, a quoted string's
/// content) sits in the parsed source, so findings inside it keep their place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SrcMap {
    /// The text is a contiguous slice of the source starting here.
    From(usize),
    /// Source offset of every byte of the text.
    Each(Vec<usize>),
}

impl SrcMap {
    /// Source offset of byte `i` of the text (past the end: just after the last byte).
    pub fn at(&self, i: usize) -> usize {
        match self {
            SrcMap::From(start) => start + i,
            SrcMap::Each(v) => match v.get(i) {
                Some(&o) => o,
                None => v.last().map(|&o| o + 1).unwrap_or(0),
            },
        }
    }
}

/// Text fed to a command's standard input by the shell itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Heredoc {
    pub body: String,
    pub map: SrcMap,
    /// `<<EOF` with an unquoted delimiter: `$(...)` and backticks in the body run
    /// in the local shell before the command reads it.
    pub expands: bool,
    /// `<<< word` rather than `<< DELIM`.
    pub here_string: bool,
}

impl Heredoc {
    /// The text the command reads: for an unquoted delimiter the local shell
    /// first removes the backslashes before `$`, `` ` ``, `\\` and newlines.
    pub fn text(&self) -> (String, SrcMap) {
        if !self.expands || !self.body.contains('\\') {
            return (self.body.clone(), self.map.clone());
        }
        let b = self.body.as_bytes();
        let mut out = vec![];
        let mut at = vec![];
        let mut i = 0;
        while i < b.len() {
            if b[i] == b'\\' && matches!(b.get(i + 1), Some(b'$' | b'`' | b'\\' | b'\n')) {
                if b[i + 1] != b'\n' {
                    out.push(b[i + 1]);
                    at.push(self.map.at(i + 1));
                }
                i += 2;
                continue;
            }
            out.push(b[i]);
            at.push(self.map.at(i));
            i += 1;
        }
        // Only ASCII bytes were removed, so the text is still UTF-8.
        let text = String::from_utf8(out)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
        (text, SrcMap::Each(at))
    }
}

/// One piece of a word.
#[derive(Debug, Clone, PartialEq)]
pub enum Part {
    Lit(String),
    /// `$NAME`, `${NAME...}`, `$1`, `$@`...
    Var(String),
    /// `$(...)`, backticks or `<(...)`: a script that runs when the word is expanded.
    Sub(Script),
    /// `$((...))` arithmetic: computed, but runs nothing.
    Arith,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Word {
    pub parts: Vec<Part>,
    /// Any part of the word was quoted or escaped (so globbing/`#` do not apply).
    pub quoted: bool,
    /// Source text of the word, as written.
    pub raw: String,
    pub offset: usize,
    /// The word as the shell passes it on, quotes removed but expansions left as
    /// written (`"cd $D && x"` → `cd $D && x`): the text another shell would read.
    pub unquoted: String,
    /// Source offset of each byte of `unquoted`.
    pub unquoted_at: Vec<usize>,
}

impl Word {
    /// A literal word that did not come from the source as such (a variable's
    /// value split into words); every byte maps to `offset`.
    pub fn synthetic(text: &str, offset: usize) -> Word {
        Word {
            parts: vec![Part::Lit(text.to_string())],
            quoted: true,
            raw: quote(text),
            offset,
            unquoted: text.to_string(),
            unquoted_at: vec![offset; text.len()],
        }
    }

    /// The literal text if the word has no expansions.
    pub fn literal(&self) -> Option<String> {
        let mut s = String::new();
        for p in &self.parts {
            match p {
                Part::Lit(t) => s.push_str(t),
                _ => return None,
            }
        }
        Some(s)
    }

    /// Text with expansions shown as written (`$X`, `$(...)`): for messages and
    /// for option/name matching where an expansion is simply "not this literal".
    pub fn text(&self) -> String {
        match self.literal() {
            Some(s) => s,
            None => self.raw.clone(),
        }
    }

    pub fn is_dynamic(&self) -> bool {
        self.parts.iter().any(|p| !matches!(p, Part::Lit(_)))
    }

    /// `$X` or `"${X}"`: the whole word is one variable.
    pub fn sole_var(&self) -> Option<&str> {
        match self.parts.as_slice() {
            [Part::Var(v)] => Some(v),
            _ => None,
        }
    }

    /// `unquoted` with its source map: shell text handed to another shell.
    pub fn shell_text(&self) -> (String, SrcMap) {
        (
            self.unquoted.clone(),
            SrcMap::Each(self.unquoted_at.clone()),
        )
    }

    pub fn subs(&self) -> impl Iterator<Item = &Script> {
        self.parts.iter().filter_map(|p| match p {
            Part::Sub(s) => Some(s),
            _ => None,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub message: String,
    pub offset: usize,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (at byte {})", self.message, self.offset)
    }
}

impl std::error::Error for ParseError {}

/// Parse a command line (or a whole multi-line script).
pub fn parse(src: &str) -> Result<Script, ParseError> {
    parse_at(src, 0)
}

/// Parse with offsets shifted by `base` (for text embedded in a larger source).
pub fn parse_at(src: &str, base: usize) -> Result<Script, ParseError> {
    let mut p = Parser {
        s: src.as_bytes(),
        i: 0,
        base,
        depth: 0,
    };
    p.list(None)
}

/// The command substitutions in a here-document body with an unquoted
/// delimiter: they run in the local shell before the body is read.
pub fn expansions(body: &str) -> Result<Vec<Script>, ParseError> {
    subs_in(body, 0, 0)
}

/// Command substitutions in text read as inside double quotes.
fn subs_in(body: &str, base: usize, depth: usize) -> Result<Vec<Script>, ParseError> {
    if !body.contains(['$', '`']) {
        return Ok(vec![]);
    }
    if depth > MAX_DEPTH {
        return Err(ParseError {
            message: "nesting too deep".into(),
            offset: base,
        });
    }
    let mut p = Parser {
        s: body.as_bytes(),
        i: 0,
        base,
        depth: depth + 1,
    };
    let mut w = Word::default();
    let mut acc = Acc::default();
    while let Some(c) = p.peek(0) {
        match c {
            b'\\' => p.i = (p.i + 2).min(p.s.len()),
            b'$' => p.dollar(&mut w, &mut acc, true)?,
            b'`' => {
                let sub = p.backtick()?;
                w.parts.push(Part::Sub(sub));
            }
            _ => p.i += 1,
        }
    }
    Ok(w.parts
        .into_iter()
        .filter_map(|p| match p {
            Part::Sub(s) => Some(s),
            _ => None,
        })
        .collect())
}

/// Quote a string for sh so it reads back as one literal word.
pub fn quote(s: &str) -> String {
    if !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./:=@,+%^".contains(&b))
    {
        return s.to_string();
    }
    format!("'{}'", s.replace('\'', r"'\''"))
}

const MAX_DEPTH: usize = 64;

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
    base: usize,
    depth: usize,
}

#[derive(Default)]
struct Builder {
    script: Script,
    pipeline: Pipeline,
    cmd: SimpleCommand,
    /// Here-document delimiters waiting for the next newline: (delimiter, strip tabs).
    pending_heredocs: Vec<(String, bool)>,
}

impl Builder {
    fn end_command(&mut self) {
        let cmd = std::mem::take(&mut self.cmd);
        if !cmd.words.is_empty()
            || !cmd.assignments.is_empty()
            || !cmd.nested.is_empty()
            || !cmd.redirects.is_empty()
            || !cmd.heredocs.is_empty()
        {
            self.pipeline.commands.push(cmd);
        }
    }
    fn end_pipeline(&mut self) {
        self.end_command();
        let p = std::mem::take(&mut self.pipeline);
        if !p.commands.is_empty() {
            self.script.pipelines.push(p);
        }
    }
    fn push_word(&mut self, w: Word) {
        if self.cmd.words.is_empty() && self.cmd.nested.is_empty() {
            if let Some((name, value)) = split_assignment(&w) {
                if self.cmd.assignments.is_empty() {
                    self.cmd.offset = w.offset;
                }
                self.cmd.assignments.push((name, value));
                return;
            }
        }
        if self.cmd.words.is_empty() && self.cmd.assignments.is_empty() {
            self.cmd.offset = w.offset;
        }
        self.cmd.words.push(w);
    }
}

/// `NAME=value` (unquoted name) becomes an assignment.
fn split_assignment(w: &Word) -> Option<(String, Word)> {
    let Some(Part::Lit(first)) = w.parts.first() else {
        return None;
    };
    if !w
        .raw
        .starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
    {
        return None;
    }
    let eq = first.find('=')?;
    let name = &first[..eq];
    if name.is_empty()
        || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        || !w.raw.starts_with(name)
    {
        return None;
    }
    let mut parts = vec![];
    let rest = &first[eq + 1..];
    if !rest.is_empty() {
        parts.push(Part::Lit(rest.to_string()));
    }
    parts.extend(w.parts[1..].iter().cloned());
    if parts.is_empty() {
        parts.push(Part::Lit(String::new()));
    }
    let value = Word {
        parts,
        quoted: w.quoted,
        raw: w.raw[eq + 1..].to_string(),
        offset: w.offset + eq + 1,
        unquoted: w.unquoted.get(eq + 1..).unwrap_or_default().to_string(),
        unquoted_at: w.unquoted_at.get(eq + 1..).unwrap_or_default().to_vec(),
    };
    Some((name.to_string(), value))
}

fn is_meta(b: u8) -> bool {
    matches!(
        b,
        b' ' | b'\t' | b'\n' | b'\r' | b';' | b'&' | b'|' | b'<' | b'>' | b'(' | b')'
    )
}

impl<'a> Parser<'a> {
    fn err<T>(&self, message: impl Into<String>, at: usize) -> Result<T, ParseError> {
        Err(ParseError {
            message: message.into(),
            offset: self.base + at,
        })
    }

    fn peek(&self, k: usize) -> Option<u8> {
        self.s.get(self.i + k).copied()
    }

    fn starts(&self, pat: &[u8]) -> bool {
        self.s[self.i..].starts_with(pat)
    }

    /// Parse a list of pipelines until EOF or `close` (consumed).
    fn list(&mut self, close: Option<u8>) -> Result<Script, ParseError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return self.err("nesting too deep", self.i);
        }
        let start = self.i;
        let mut b = Builder::default();
        loop {
            let Some(c) = self.peek(0) else {
                if let Some(cl) = close {
                    return self.unterminated(cl, start);
                }
                break;
            };
            if self.between_commands(c, &mut b)? {
                continue;
            }
            match c {
                b')' if close == Some(b')') => {
                    self.i += 1;
                    b.end_pipeline();
                    self.depth -= 1;
                    return Ok(b.script);
                }
                // A stray `)` (case patterns): treat as a separator.
                b')' => {
                    self.i += 1;
                    b.end_command();
                }
                b'(' => self.group(&mut b)?,
                b'<' | b'>' => {
                    if (self.starts(b"<(") || self.starts(b">(")) && !self.starts(b"<((") {
                        let w = self.word()?;
                        b.push_word(w);
                        continue;
                    }
                    self.redirect(&mut b)?;
                }
                b'}' if close == Some(b'}')
                    && b.cmd.words.is_empty()
                    && b.cmd.assignments.is_empty()
                    && self.peek(1).is_none_or(is_meta) =>
                {
                    self.i += 1;
                    b.end_pipeline();
                    self.depth -= 1;
                    return Ok(b.script);
                }
                _ => self.word_or_definition(&mut b)?,
            }
        }
        b.end_pipeline();
        self.depth -= 1;
        Ok(b.script)
    }

    /// End of input inside `( ... )`, `$( ... )` or a function body opened at `start - 1`.
    fn unterminated(&self, close: u8, start: usize) -> Result<Script, ParseError> {
        let (what, missing) = if close == b')' {
            ("`(` or `$(`", ')')
        } else {
            ("function body", '}')
        };
        self.err(
            format!("unterminated {what}: missing `{missing}`"),
            start.saturating_sub(1),
        )
    }

    /// What comes between commands at `c`: blanks, line continuations, comments and the
    /// control operators (newline, `;`, `&&`, `||`, `&`, `|`, `|&`; `&>` redirects).
    /// `false` when `c` starts none of them.
    fn between_commands(&mut self, c: u8, b: &mut Builder) -> Result<bool, ParseError> {
        match c {
            b' ' | b'\t' | b'\r' => self.i += 1,
            b'\\' if self.peek(1) == Some(b'\n') => self.i += 2,
            b'#' => {
                while let Some(c) = self.peek(0) {
                    if c == b'\n' {
                        break;
                    }
                    self.i += 1;
                }
            }
            b'\n' => {
                self.i += 1;
                b.end_pipeline();
                self.read_heredocs(b);
            }
            b';' => {
                self.i += if self.peek(1) == Some(b';') { 2 } else { 1 };
                b.end_pipeline();
            }
            b'&' if self.peek(1) == Some(b'&') => {
                self.i += 2;
                b.end_pipeline();
            }
            b'&' if self.peek(1) == Some(b'>') => {
                self.i += if self.peek(2) == Some(b'>') { 3 } else { 2 };
                self.redirect_target(b)?;
            }
            b'&' => {
                self.i += 1;
                b.end_pipeline();
            }
            b'|' if self.peek(1) == Some(b'|') => {
                self.i += 2;
                b.end_pipeline();
            }
            b'|' => {
                self.i += if self.peek(1) == Some(b'&') { 2 } else { 1 };
                b.end_command();
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// `( ... )` at the cursor: nested in the command being built (a subshell, a `case`
    /// pattern), or the `()` of a function definition `name() { ...; }`.
    fn group(&mut self, b: &mut Builder) -> Result<(), ParseError> {
        let at = self.i;
        self.i += 1;
        let sub = self.list(Some(b')'))?;
        if b.cmd.words.len() == 1 && sub.pipelines.is_empty() {
            let name = b.cmd.words[0].text();
            let name = if name == "function" {
                String::new()
            } else {
                name
            };
            return self.function_body(b, name);
        }
        let after_words = !b.cmd.words.is_empty();
        if b.cmd.words.is_empty() && b.cmd.assignments.is_empty() {
            b.cmd.offset = self.base + at;
        }
        b.cmd.nested.push(sub);
        // `case x in (a) cmd`: what follows the pattern is a new command.
        if after_words {
            b.end_command();
        }
        Ok(())
    }

    /// A word at the cursor: added to the command, or the name in `function name { ... }`
    /// (with or without `()`), or an fd number glued to a redirection (`2>file`, dropped).
    fn word_or_definition(&mut self, b: &mut Builder) -> Result<(), ParseError> {
        let w = self.word()?;
        if b.cmd.words.len() == 1
            && !w.quoted
            && b.cmd.words[0].raw == "function"
            && b.cmd.assignments.is_empty()
        {
            let name = w.text();
            b.cmd.words.push(w);
            self.skip_blanks();
            if self.starts(b"()") {
                self.i += 2;
            }
            return self.function_body(b, name);
        }
        if matches!(self.peek(0), Some(b'<' | b'>'))
            && !w.quoted
            && !w.raw.is_empty()
            && w.raw.bytes().all(|c| c.is_ascii_digit())
        {
            return Ok(());
        }
        b.push_word(w);
        Ok(())
    }

    /// After `name()` or `function name`: the body `{ ...; }` or `( ... )`.
    fn function_body(&mut self, b: &mut Builder, name: String) -> Result<(), ParseError> {
        let offset = b
            .cmd
            .words
            .first()
            .map(|w| w.offset)
            .unwrap_or(self.base + self.i);
        while matches!(self.peek(0), Some(b' ' | b'\t' | b'\r' | b'\n')) {
            self.i += 1;
        }
        let body = if self.peek(0) == Some(b'{') && self.peek(1).is_none_or(is_meta) {
            self.i += 1;
            self.list(Some(b'}'))?
        } else if self.peek(0) == Some(b'(') {
            self.i += 1;
            self.list(Some(b')'))?
        } else {
            // A body of another shape (`f() if ...`): the words that follow are
            // parsed as commands, which checks them all the same.
            b.cmd = SimpleCommand::default();
            return Ok(());
        };
        b.cmd = SimpleCommand {
            nested: vec![body],
            defines: (!name.is_empty()).then_some(name),
            offset,
            ..SimpleCommand::default()
        };
        Ok(())
    }

    fn redirect(&mut self, b: &mut Builder) -> Result<(), ParseError> {
        if self.starts(b"<<<") {
            self.i += 3;
            self.redirect_target(b)?;
            if let Some(w) = b.cmd.redirects.last() {
                let (mut body, map) = w.shell_text();
                let SrcMap::Each(mut at) = map else {
                    unreachable!("shell_text maps each byte")
                };
                // `<<<` appends a newline; it sits just after the word.
                body.push('\n');
                at.push(w.offset + w.raw.len());
                b.cmd.heredocs.push(Heredoc {
                    body,
                    map: SrcMap::Each(at),
                    expands: false,
                    here_string: true,
                });
            }
            return Ok(());
        }
        if self.starts(b"<<") {
            self.i += 2;
            let strip = if self.peek(0) == Some(b'-') {
                self.i += 1;
                true
            } else {
                false
            };
            self.skip_blanks();
            let at = self.i;
            if self.peek(0).is_none_or(is_meta) {
                return self.err("here-document without a delimiter", at);
            }
            let w = self.word()?;
            let delim = w.literal().unwrap_or_else(|| w.raw.clone());
            b.pending_heredocs.push((delim, strip));
            // A slot for the body, filled after the next newline.
            b.cmd.heredocs.push(Heredoc {
                body: String::new(),
                map: SrcMap::From(self.base + self.i),
                expands: !w.quoted,
                here_string: false,
            });
            return Ok(());
        }
        // > >> >| >& <& <> <
        let input = self.peek(0) == Some(b'<');
        self.i += 1;
        if matches!(self.peek(0), Some(b'>' | b'|' | b'&')) {
            self.i += 1;
        }
        self.redirect_target(b)?;
        if input {
            if let Some(w) = b.cmd.redirects.last() {
                b.cmd.stdin_files.push(w.clone());
            }
        }
        Ok(())
    }

    fn redirect_target(&mut self, b: &mut Builder) -> Result<(), ParseError> {
        self.skip_blanks();
        let at = self.i;
        match self.peek(0) {
            None => self.err("redirection without a target", at),
            Some(c) if is_meta(c) && c != b'<' && c != b'>' => {
                self.err("redirection without a target", at)
            }
            _ => {
                let w = self.word()?;
                b.cmd.redirects.push(w);
                Ok(())
            }
        }
    }

    fn skip_blanks(&mut self) {
        while let Some(c) = self.peek(0) {
            if c == b' ' || c == b'\t' {
                self.i += 1;
            } else if c == b'\\' && self.peek(1) == Some(b'\n') {
                self.i += 2;
            } else {
                break;
            }
        }
    }

    /// After a newline: consume the bodies of pending here-documents.
    fn read_heredocs(&mut self, b: &mut Builder) {
        let pending = std::mem::take(&mut b.pending_heredocs);
        let mut bodies = vec![];
        for (delim, strip) in &pending {
            let start = self.base + self.i;
            let mut body = String::new();
            loop {
                if self.i >= self.s.len() {
                    break; // sh warns and takes the rest as the body
                }
                let end = self.s[self.i..]
                    .iter()
                    .position(|&c| c == b'\n')
                    .map(|p| self.i + p)
                    .unwrap_or(self.s.len());
                let line = String::from_utf8_lossy(&self.s[self.i..end]).into_owned();
                self.i = (end + 1).min(self.s.len());
                let cmp = if *strip {
                    line.trim_start_matches('\t')
                } else {
                    &line
                };
                if cmp.trim_end_matches('\r') == delim {
                    break;
                }
                body.push_str(&line);
                body.push('\n');
            }
            bodies.push((body, start));
        }
        // The bodies fill the slots of the commands that asked for them, in
        // source order: the last `pending.len()` here-document slots (not
        // whichever command happens to end the line).
        let mut slots: Vec<&mut Heredoc> = b
            .script
            .pipelines
            .iter_mut()
            .rev()
            .flat_map(|p| p.commands.iter_mut().rev())
            .flat_map(|c| c.heredocs.iter_mut().rev())
            .filter(|h| !h.here_string)
            .take(pending.len())
            .collect();
        slots.reverse();
        for (h, (body, start)) in slots.into_iter().zip(bodies) {
            h.body = body;
            h.map = SrcMap::From(start);
        }
    }

    /// One word, up to an unquoted metacharacter.
    fn word(&mut self) -> Result<Word, ParseError> {
        let start = self.i;
        let mut w = Word {
            offset: self.base + start,
            ..Word::default()
        };
        let mut lit = Acc::default();
        // Process substitution `<(...)` / `>(...)` is a word of its own.
        if self.starts(b"<(") || self.starts(b">(") {
            self.i += 2;
            let sub = self.list(Some(b')'))?;
            w.parts.push(Part::Sub(sub));
            w.raw = self.raw(start);
            lit.raw(self.s, self.base, start, self.i);
            (w.unquoted, w.unquoted_at) = lit.finish();
            return Ok(w);
        }
        while let Some(c) = self.peek(0) {
            if is_meta(c) {
                break;
            }
            match c {
                b'\\' => {
                    match self.peek(1) {
                        Some(b'\n') => {}
                        Some(n) => lit.push(n, self.base + self.i + 1),
                        None => lit.push(b'\\', self.base + self.i),
                    }
                    w.quoted = true;
                    self.i = (self.i + 2).min(self.s.len());
                }
                b'\'' => {
                    w.quoted = true;
                    let at = self.i;
                    self.i += 1;
                    let Some(end) = self.s[self.i..].iter().position(|&c| c == b'\'') else {
                        return self.err("unterminated single quote", at);
                    };
                    for k in self.i..self.i + end {
                        lit.push(self.s[k], self.base + k);
                    }
                    self.i += end + 1;
                }
                b'"' => {
                    w.quoted = true;
                    self.double_quoted(&mut w, &mut lit)?;
                }
                b'$' => self.dollar(&mut w, &mut lit, false)?,
                b'`' => {
                    flush(&mut w, &mut lit);
                    let at = self.i;
                    let sub = self.backtick()?;
                    w.parts.push(Part::Sub(sub));
                    lit.raw(self.s, self.base, at, self.i);
                }
                _ => {
                    lit.push(c, self.base + self.i);
                    self.i += 1;
                }
            }
        }
        flush(&mut w, &mut lit);
        if w.parts.is_empty() {
            w.parts.push(Part::Lit(String::new()));
        }
        w.raw = self.raw(start);
        (w.unquoted, w.unquoted_at) = lit.finish();
        Ok(w)
    }

    fn raw(&self, start: usize) -> String {
        String::from_utf8_lossy(&self.s[start.min(self.i)..self.i.min(self.s.len())]).into_owned()
    }

    fn double_quoted(&mut self, w: &mut Word, lit: &mut Acc) -> Result<(), ParseError> {
        let at = self.i;
        self.i += 1;
        loop {
            let Some(c) = self.peek(0) else {
                return self.err("unterminated double quote", at);
            };
            match c {
                b'"' => {
                    self.i += 1;
                    return Ok(());
                }
                b'\\' => match self.peek(1) {
                    Some(b'\n') => self.i += 2,
                    Some(n @ (b'$' | b'`' | b'"' | b'\\')) => {
                        lit.push(n, self.base + self.i + 1);
                        self.i += 2;
                    }
                    _ => {
                        lit.push(b'\\', self.base + self.i);
                        self.i += 1;
                    }
                },
                b'$' => self.dollar(w, lit, true)?,
                b'`' => {
                    flush(w, lit);
                    let at = self.i;
                    let sub = self.backtick()?;
                    w.parts.push(Part::Sub(sub));
                    lit.raw(self.s, self.base, at, self.i);
                }
                _ => {
                    lit.push(c, self.base + self.i);
                    self.i += 1;
                }
            }
        }
    }

    fn dollar(&mut self, w: &mut Word, lit: &mut Acc, in_dq: bool) -> Result<(), ParseError> {
        let at = self.i;
        let literal_part = self.peek(1) == Some(b'\'') && !in_dq
            || !matches!(self.peek(1), Some(c) if c == b'(' || c == b'{' || c.is_ascii_alphanumeric() || b"_@*#?$!-".contains(&c));
        self.dollar_inner(w, lit, in_dq, at)?;
        if !literal_part {
            // An expansion: passed on as written.
            lit.raw(self.s, self.base, at, self.i);
        }
        Ok(())
    }

    fn dollar_inner(
        &mut self,
        w: &mut Word,
        lit: &mut Acc,
        in_dq: bool,
        at: usize,
    ) -> Result<(), ParseError> {
        match self.peek(1) {
            Some(b'(') if self.peek(2) == Some(b'(') => {
                flush(w, lit);
                self.i += 3;
                // Arithmetic runs nothing: skipped to its `))`.
                self.skip_to_close((b'(', b')'), 2, "$((", at)?;
                w.parts.push(Part::Arith);
            }
            Some(b'(') => {
                flush(w, lit);
                self.i += 2;
                let sub = self.command_substitution(at)?;
                w.parts.push(Part::Sub(sub));
            }
            Some(b'{') => {
                flush(w, lit);
                self.i += 2;
                self.parameter_expansion(w, at)?;
            }
            Some(b'\'') if !in_dq => {
                w.quoted = true;
                self.i += 2;
                self.ansi_c_quoted(lit, at)?;
            }
            Some(c) if c.is_ascii_alphabetic() || c == b'_' => {
                flush(w, lit);
                self.i += 1;
                let s = self.i;
                while self
                    .peek(0)
                    .is_some_and(|c| c.is_ascii_alphanumeric() || c == b'_')
                {
                    self.i += 1;
                }
                w.parts.push(Part::Var(
                    String::from_utf8_lossy(&self.s[s..self.i]).into_owned(),
                ));
            }
            Some(c) if c.is_ascii_digit() || b"@*#?$!-".contains(&c) => {
                flush(w, lit);
                self.i += 2;
                w.parts.push(Part::Var((c as char).to_string()));
            }
            _ => {
                lit.push(b'$', self.base + self.i);
                self.i += 1;
            }
        }
        Ok(())
    }

    /// Past the brackets that close `depth` open ones (nested pairs counted): the rest of
    /// `$((` or `${`, written `opened` and starting at `at` (named when input ends first).
    fn skip_to_close(
        &mut self,
        (open, close): (u8, u8),
        mut depth: usize,
        opened: &str,
        at: usize,
    ) -> Result<(), ParseError> {
        while depth > 0 {
            match self.peek(0) {
                None => return self.err(format!("unterminated `{opened}`"), at),
                Some(c) if c == open => depth += 1,
                Some(c) if c == close => depth -= 1,
                _ => {}
            }
            self.i += 1;
        }
        Ok(())
    }

    /// The script of `$( ... )`, whose `$(` (at `at`) was consumed.
    fn command_substitution(&mut self, at: usize) -> Result<Script, ParseError> {
        self.list(Some(b')')).map_err(|e| {
            if e.message.starts_with("unterminated `(`") {
                ParseError {
                    message: "unterminated `$(`: missing `)`".into(),
                    offset: self.base + at,
                }
            } else {
                e
            }
        })
    }

    /// The rest of `${...}`, whose `${` (at `at`) was consumed: the variable it reads, and
    /// the substitutions in its operand (`${x:-$(cmd)}` runs `cmd` too).
    fn parameter_expansion(&mut self, w: &mut Word, at: usize) -> Result<(), ParseError> {
        let name_start = self.i;
        self.skip_to_close((b'{', b'}'), 1, "${", at)?;
        let inner = String::from_utf8_lossy(&self.s[name_start..self.i - 1]);
        for sub in subs_in(&inner, self.base + name_start, self.depth + 1)? {
            w.parts.push(Part::Sub(sub));
        }
        let name: String = inner
            .trim_start_matches(['#', '!'])
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        w.parts.push(Part::Var(name));
        Ok(())
    }

    /// The rest of `$'...'` (ANSI-C quoting), whose `$'` (at `at`) was consumed: the text,
    /// with the minimal escapes.
    fn ansi_c_quoted(&mut self, lit: &mut Acc, at: usize) -> Result<(), ParseError> {
        loop {
            match self.peek(0) {
                None => return self.err("unterminated `$'`", at),
                Some(b'\'') => {
                    self.i += 1;
                    return Ok(());
                }
                Some(b'\\') => {
                    let n = self.peek(1).unwrap_or(b'\\');
                    let b = match n {
                        b'n' => b'\n',
                        b't' => b'\t',
                        other => other,
                    };
                    lit.push(b, self.base + self.i);
                    self.i = (self.i + 2).min(self.s.len());
                }
                Some(c) => {
                    lit.push(c, self.base + self.i);
                    self.i += 1;
                }
            }
        }
    }

    /// `` `...` ``: the text up to the closing backtick, unescaped, parsed on its own.
    fn backtick(&mut self) -> Result<Script, ParseError> {
        let at = self.i;
        self.i += 1;
        let mut inner = vec![];
        loop {
            match self.peek(0) {
                None => return self.err("unterminated backtick", at),
                Some(b'`') => {
                    self.i += 1;
                    break;
                }
                Some(b'\\') if matches!(self.peek(1), Some(b'`' | b'\\' | b'$')) => {
                    inner.push(self.s[self.i + 1]);
                    self.i += 2;
                }
                Some(c) => {
                    inner.push(c);
                    self.i += 1;
                }
            }
        }
        let text = String::from_utf8_lossy(&inner).into_owned();
        let mut p = Parser {
            s: text.as_bytes(),
            i: 0,
            base: self.base + at + 1,
            depth: self.depth,
        };
        p.list(None)
    }
}

/// A word's text as it is read: the literal bytes (for `Part::Lit`) and the
/// unquoted text with each byte's source offset.
#[derive(Default)]
struct Acc {
    lit: Vec<u8>,
    text: Vec<u8>,
    at: Vec<usize>,
}

impl Acc {
    fn push(&mut self, b: u8, at: usize) {
        self.lit.push(b);
        self.text.push(b);
        self.at.push(at);
    }

    /// Source bytes `from..to` passed on as written (an expansion).
    fn raw(&mut self, s: &[u8], base: usize, from: usize, to: usize) {
        let to = to.min(s.len());
        let from = from.min(to);
        self.text.extend_from_slice(&s[from..to]);
        self.at.extend((from..to).map(|k| base + k));
    }

    /// The unquoted text (lossless for UTF-8 input: quotes and escapes are ASCII,
    /// so no multi-byte character is ever split) and its map.
    fn finish(&mut self) -> (String, Vec<usize>) {
        let text = std::mem::take(&mut self.text);
        let at = std::mem::take(&mut self.at);
        match String::from_utf8(text) {
            Ok(t) => (t, at),
            Err(e) => {
                let t = String::from_utf8_lossy(e.as_bytes()).into_owned();
                let n = t.len();
                (t, (0..n).map(|i| at.get(i).copied().unwrap_or(0)).collect())
            }
        }
    }
}

fn flush(w: &mut Word, acc: &mut Acc) {
    let lit = &mut acc.lit;
    if !lit.is_empty() {
        let s = String::from_utf8_lossy(lit).into_owned();
        lit.clear();
        if let Some(Part::Lit(prev)) = w.parts.last_mut() {
            prev.push_str(&s);
        } else {
            w.parts.push(Part::Lit(s));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(src: &str) -> Vec<Vec<String>> {
        let s = parse(src).unwrap();
        s.pipelines
            .iter()
            .flat_map(|p| p.commands.iter())
            .map(|c| c.words.iter().map(|w| w.text()).collect())
            .collect()
    }

    #[test]
    fn quotes_and_separators() {
        assert_eq!(
            words(r#"echo "a b" 'c;d' e\ f; pm2 list && x || y | z"#),
            vec![
                vec!["echo", "a b", "c;d", "e f"],
                vec!["pm2", "list"],
                vec!["x"],
                vec!["y"],
                vec!["z"]
            ]
        );
    }

    #[test]
    fn substitution_is_parsed() {
        let s = parse("pm2 delete $(pm2 jlist | jq -r '.[]')").unwrap();
        let w = &s.pipelines[0].commands[0].words[2];
        let sub = w.subs().next().unwrap();
        assert_eq!(sub.pipelines[0].commands.len(), 2);
    }

    #[test]
    fn backticks_comments_assignments_heredoc() {
        let s =
            parse("FOO=1 BAR=\"x y\" cmd `pm2 ls` # pm2 delete all\ncat <<EOF\npm2 kill\nEOF\nok")
                .unwrap();
        let c = &s.pipelines[0].commands[0];
        assert_eq!(c.assignments.len(), 2);
        assert_eq!(c.words.len(), 2);
        assert_eq!(s.pipelines[1].commands[0].heredocs[0].body, "pm2 kill\n");
        assert_eq!(s.pipelines[2].commands[0].words[0].text(), "ok");
    }

    #[test]
    fn errors_do_not_panic() {
        for bad in [
            "echo 'x", "echo \"x", "echo $(x", "echo `x", "echo ${x", "cat <<", "a >",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn quote_roundtrip() {
        for s in ["a b", "it's", "", "plain", "$(x)"] {
            let w = &parse(&quote(s)).unwrap().pipelines[0].commands[0].words[0];
            assert_eq!(w.literal().unwrap(), s);
        }
    }
}
