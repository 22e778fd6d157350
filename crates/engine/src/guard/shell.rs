//! A POSIX-sh command-line parser: just enough shell to know what actually runs.
//!
//! It understands quoting, escapes, line continuations, comments, `;` `&&` `||`
//! `|` `&`, newlines, `$(...)`, backticks, `<(...)`, `$VAR`/`${VAR}`, subshells,
//! redirections and here-documents. It does not evaluate anything: words keep
//! their parts (literal text, variables, substitutions) so the classifier can
//! tell a literal `all` from a computed target.

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
    /// Bodies of here-documents fed to this command.
    pub heredocs: Vec<String>,
    /// Subshells `( ... )` that appear in this command's position.
    pub nested: Vec<Script>,
    /// Byte offset of the command's start in the parsed source.
    pub offset: usize,
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
}

impl Word {
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
                    let what = if cl == b')' { "`(` or `$(`" } else { "group" };
                    return self.err(
                        format!("unterminated {what}: missing `)`"),
                        start.saturating_sub(1),
                    );
                }
                break;
            };
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
                    self.read_heredocs(&mut b);
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
                    self.redirect_target(&mut b)?;
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
                b'(' => {
                    let at = self.i;
                    self.i += 1;
                    let sub = self.list(Some(b')'))?;
                    // `name() { ...; }`: a function definition. Drop the name so the
                    // body's commands are checked as commands (it will be called).
                    if b.cmd.words.len() == 1 && sub.pipelines.is_empty() {
                        b.cmd = SimpleCommand::default();
                        continue;
                    }
                    if b.cmd.words.is_empty() && b.cmd.assignments.is_empty() {
                        b.cmd.offset = self.base + at;
                    }
                    b.cmd.nested.push(sub);
                }
                b'<' | b'>' => {
                    if (self.starts(b"<(") || self.starts(b">(")) && !self.starts(b"<((") {
                        let w = self.word()?;
                        b.push_word(w);
                        continue;
                    }
                    self.redirect(&mut b)?;
                }
                _ => {
                    let w = self.word()?;
                    // `2>file`: a digits-only word glued to a redirection is an fd number.
                    if matches!(self.peek(0), Some(b'<' | b'>'))
                        && !w.quoted
                        && !w.raw.is_empty()
                        && w.raw.bytes().all(|c| c.is_ascii_digit())
                    {
                        continue;
                    }
                    b.push_word(w);
                }
            }
        }
        b.end_pipeline();
        self.depth -= 1;
        Ok(b.script)
    }

    fn redirect(&mut self, b: &mut Builder) -> Result<(), ParseError> {
        if self.starts(b"<<<") {
            self.i += 3;
            return self.redirect_target(b);
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
            return Ok(());
        }
        // > >> >| >& <& <> <
        self.i += 1;
        if matches!(self.peek(0), Some(b'>' | b'|' | b'&')) {
            self.i += 1;
        }
        self.redirect_target(b)
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
        for (delim, strip) in pending {
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
                let cmp = if strip {
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
            // The heredoc belongs to the last command of the last pipeline.
            if let Some(cmd) = b
                .script
                .pipelines
                .last_mut()
                .and_then(|p| p.commands.last_mut())
            {
                cmd.heredocs.push(body);
            }
        }
    }

    /// One word, up to an unquoted metacharacter.
    fn word(&mut self) -> Result<Word, ParseError> {
        let start = self.i;
        let mut w = Word {
            offset: self.base + start,
            ..Word::default()
        };
        let mut lit: Vec<u8> = vec![];
        // Process substitution `<(...)` / `>(...)` is a word of its own.
        if self.starts(b"<(") || self.starts(b">(") {
            self.i += 2;
            let sub = self.list(Some(b')'))?;
            w.parts.push(Part::Sub(sub));
            w.raw = self.raw(start);
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
                        Some(n) => lit.push(n),
                        None => lit.push(b'\\'),
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
                    lit.extend_from_slice(&self.s[self.i..self.i + end]);
                    self.i += end + 1;
                }
                b'"' => {
                    w.quoted = true;
                    self.double_quoted(&mut w, &mut lit)?;
                }
                b'$' => self.dollar(&mut w, &mut lit, false)?,
                b'`' => {
                    flush(&mut w, &mut lit);
                    let sub = self.backtick()?;
                    w.parts.push(Part::Sub(sub));
                }
                _ => {
                    lit.push(c);
                    self.i += 1;
                }
            }
        }
        flush(&mut w, &mut lit);
        if w.parts.is_empty() {
            w.parts.push(Part::Lit(String::new()));
        }
        w.raw = self.raw(start);
        Ok(w)
    }

    fn raw(&self, start: usize) -> String {
        String::from_utf8_lossy(&self.s[start.min(self.i)..self.i.min(self.s.len())]).into_owned()
    }

    fn double_quoted(&mut self, w: &mut Word, lit: &mut Vec<u8>) -> Result<(), ParseError> {
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
                        lit.push(n);
                        self.i += 2;
                    }
                    _ => {
                        lit.push(b'\\');
                        self.i += 1;
                    }
                },
                b'$' => self.dollar(w, lit, true)?,
                b'`' => {
                    flush(w, lit);
                    let sub = self.backtick()?;
                    w.parts.push(Part::Sub(sub));
                }
                _ => {
                    lit.push(c);
                    self.i += 1;
                }
            }
        }
    }

    fn dollar(&mut self, w: &mut Word, lit: &mut Vec<u8>, in_dq: bool) -> Result<(), ParseError> {
        let at = self.i;
        match self.peek(1) {
            Some(b'(') if self.peek(2) == Some(b'(') => {
                flush(w, lit);
                self.i += 3;
                let mut depth = 2usize;
                while depth > 0 {
                    match self.peek(0) {
                        None => return self.err("unterminated `$((`", at),
                        Some(b'(') => depth += 1,
                        Some(b')') => depth -= 1,
                        _ => {}
                    }
                    self.i += 1;
                }
                w.parts.push(Part::Arith);
            }
            Some(b'(') => {
                flush(w, lit);
                self.i += 2;
                let sub = self.list(Some(b')')).map_err(|e| {
                    if e.message.starts_with("unterminated `(`") {
                        ParseError {
                            message: "unterminated `$(`: missing `)`".into(),
                            offset: self.base + at,
                        }
                    } else {
                        e
                    }
                })?;
                w.parts.push(Part::Sub(sub));
            }
            Some(b'{') => {
                flush(w, lit);
                self.i += 2;
                let name_start = self.i;
                let mut depth = 1usize;
                while depth > 0 {
                    match self.peek(0) {
                        None => return self.err("unterminated `${`", at),
                        Some(b'{') => depth += 1,
                        Some(b'}') => depth -= 1,
                        _ => {}
                    }
                    self.i += 1;
                }
                let inner = String::from_utf8_lossy(&self.s[name_start..self.i - 1]);
                let name: String = inner
                    .trim_start_matches(['#', '!'])
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                w.parts.push(Part::Var(name));
            }
            Some(b'\'') if !in_dq => {
                // $'...' ANSI-C quoting: keep the text, minimal escapes.
                w.quoted = true;
                self.i += 2;
                loop {
                    match self.peek(0) {
                        None => return self.err("unterminated `$'`", at),
                        Some(b'\'') => {
                            self.i += 1;
                            break;
                        }
                        Some(b'\\') => {
                            let n = self.peek(1).unwrap_or(b'\\');
                            lit.push(match n {
                                b'n' => b'\n',
                                b't' => b'\t',
                                other => other,
                            });
                            self.i = (self.i + 2).min(self.s.len());
                        }
                        Some(c) => {
                            lit.push(c);
                            self.i += 1;
                        }
                    }
                }
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
                lit.push(b'$');
                self.i += 1;
            }
        }
        Ok(())
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

fn flush(w: &mut Word, lit: &mut Vec<u8>) {
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
        assert_eq!(s.pipelines[1].commands[0].heredocs, vec!["pm2 kill\n"]);
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
