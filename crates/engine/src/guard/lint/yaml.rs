//! Shell code in YAML (CI workflows, GitLab/Drone/Bitbucket pipelines, compose
//! files) and in JSON read as YAML (package.json), found structurally with
//! `saphyr-parser`: every string scalar under a key that holds shell (`run`,
//! `script`, `before_script`, `command`, ...; `with:` inputs of ssh actions
//! included) or that itself starts with a PM2 invocation. Each scalar's parsed
//! value is aligned with its source text, so block-scalar indentation, folding,
//! quotes and escapes map back to the file's own line and column.

use std::collections::HashMap;

use saphyr_parser::{Event, Parser, ScalarStyle, Span};

use super::located::Located;

/// Which scalars hold shell code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Select {
    /// Workflows and pipelines: shell-ish keys and PM2 command lines anywhere.
    Workflow,
    /// package.json: the values of the top-level `scripts` mapping.
    NpmScripts,
}

/// A YAML syntax error: 1-based line and column, and what the parser said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub line: usize,
    pub col: usize,
    pub message: String,
}

/// The shell pieces found, each with its file positions, and the parse error
/// that stopped the walk (pieces before it are kept).
pub fn shell_pieces(src: &str, select: Select) -> (Vec<Located>, Option<ParseError>) {
    let (pieces, err) = keyed_pieces(src, select);
    (pieces.into_iter().map(|(_, p)| p).collect(), err)
}

/// The same, each piece with the key it sits under (a package.json script's name).
pub fn keyed_pieces(
    src: &str,
    select: Select,
) -> (Vec<(Option<String>, Located)>, Option<ParseError>) {
    let index = LineIndex::new(src);
    let mut w = Walker {
        select,
        stack: vec![],
        anchors: HashMap::new(),
        out: vec![],
    };
    for ev in Parser::new_from_str(src) {
        match ev {
            Ok((ev, span)) => w.event(ev, span, src, &index),
            Err(e) => {
                let at = index.byte_of_char(src, e.marker().index());
                let (line, col) = index.line_col(src, at);
                let col = col + 1;
                return (
                    w.out,
                    Some(ParseError {
                        line,
                        col,
                        message: e.info().to_string(),
                    }),
                );
            }
        }
    }
    (w.out, None)
}

/// Keys whose string values (or sequences of strings) are shell command lines.
pub fn is_shell_key(key: &str) -> bool {
    let k = key.to_ascii_lowercase().replace('-', "_");
    matches!(
        k.as_str(),
        "run" | "shell" | "bash" | "sh" | "cmd" | "exec" | "install" | "entrypoint" | "args"
    ) || [
        "script", "scripts", "command", "commands", "_cmd", "_install", "_deploy", "_success",
        "_failure", "hook",
    ]
    .iter()
    .any(|s| k.ends_with(s))
}

/// Keys whose values are text for people (a step's `name`, a `NOTE`), where
/// "pm2 kill is forbidden" is a sentence, not a command.
fn is_prose_key(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    [
        "name",
        "title",
        "description",
        "desc",
        "summary",
        "message",
        "msg",
        "note",
        "notes",
        "comment",
        "help",
        "text",
        "label",
        "body",
        "reason",
        "echo",
    ]
    .iter()
    .any(|p| k == *p || k.ends_with(&format!("_{p}")) || k.ends_with(&format!("-{p}")))
}

/// A value that is itself a PM2 command line (`pm2 ...`, `npx pm2 ...`,
/// `sudo pm2 ...`), wherever it sits.
pub fn starts_with_pm2(v: &str) -> bool {
    let mut words = v.split_whitespace();
    for _ in 0..3 {
        match words.next() {
            Some("pm2") => return true,
            Some("sudo" | "npx" | "exec" | "command") => continue,
            Some(w) if w.starts_with('-') || w.contains('=') => continue,
            _ => return false,
        }
    }
    false
}

enum Frame {
    /// `key`: the current key; `want_key`: the next node is a key.
    Map { key: Option<String>, want_key: bool },
    /// A sequence under `key` (its items inherit the key's meaning).
    Seq { key: Option<String> },
}

struct Anchored {
    value: String,
    style: ScalarStyle,
    span: Span,
    done: bool,
}

struct Walker {
    select: Select,
    stack: Vec<Frame>,
    anchors: HashMap<usize, Anchored>,
    out: Vec<(Option<String>, Located)>,
}

impl Walker {
    /// The key a value at the current place sits under, and the nesting depth
    /// of the mapping that holds it (1 = top level of a document).
    fn context(&self) -> (Option<&str>, usize) {
        let depth = self
            .stack
            .iter()
            .filter(|f| matches!(f, Frame::Map { .. }))
            .count();
        match self.stack.last() {
            Some(Frame::Map {
                key,
                want_key: false,
            }) => (key.as_deref(), depth),
            Some(Frame::Seq { key }) => (key.as_deref(), depth),
            _ => (None, depth),
        }
    }

    fn is_key_position(&self) -> bool {
        matches!(self.stack.last(), Some(Frame::Map { want_key: true, .. }))
    }

    fn holds_shell(&self, value: &str) -> bool {
        let (key, depth) = self.context();
        match self.select {
            Select::Workflow => {
                key.is_some_and(is_shell_key)
                    || (starts_with_pm2(value) && !key.is_some_and(is_prose_key))
            }
            Select::NpmScripts => {
                // A value of the top-level `scripts` mapping: the stack is
                // [root map, scripts map] and the root's key is `scripts`.
                depth == 2
                    && self.stack.len() == 2
                    && matches!(&self.stack[0], Frame::Map { key: Some(k), .. } if k == "scripts")
            }
        }
    }

    /// A node finished at the current level: a key was read or a value completed.
    fn complete(&mut self, key_text: Option<String>) {
        if let Some(Frame::Map { key, want_key }) = self.stack.last_mut() {
            if *want_key {
                *key = key_text;
                *want_key = false;
            } else {
                *want_key = true;
            }
        }
    }

    fn event(&mut self, ev: Event<'_>, span: Span, src: &str, index: &LineIndex) {
        match ev {
            Event::DocumentStart(_) => self.stack.clear(),
            Event::MappingStart(..) => self.stack.push(Frame::Map {
                key: None,
                want_key: true,
            }),
            Event::SequenceStart(..) => {
                let key = if self.is_key_position() {
                    None
                } else {
                    self.context().0.map(str::to_string)
                };
                self.stack.push(Frame::Seq { key });
            }
            Event::MappingEnd | Event::SequenceEnd => {
                self.stack.pop();
                self.complete(None);
            }
            Event::Scalar(value, style, anchor, _) => {
                if self.is_key_position() {
                    self.complete(Some(value.into_owned()));
                    return;
                }
                let shell = self.holds_shell(&value);
                if shell {
                    let key = self.context().0.map(str::to_string);
                    self.out.push((key, align(src, index, span, &value, style)));
                }
                if anchor > 0 {
                    self.anchors.insert(
                        anchor,
                        Anchored {
                            value: value.into_owned(),
                            style,
                            span,
                            done: shell,
                        },
                    );
                }
                self.complete(None);
            }
            Event::Alias(id) => {
                // `run: *deploy`: lint the anchored text once, at the anchor's
                // own place (that is where the command is written).
                if !self.is_key_position() {
                    let shell = self
                        .anchors
                        .get(&id)
                        .is_some_and(|a| !a.done && self.holds_shell(&a.value));
                    if shell {
                        if let Some(a) = self.anchors.get_mut(&id) {
                            a.done = true;
                            let piece = align(src, index, a.span, &a.value, a.style);
                            let key = self.context().0.map(str::to_string);
                            self.out.push((key, piece));
                        }
                    }
                }
                self.complete(None);
            }
            _ => {}
        }
    }
}

/// Byte offsets of line starts, to turn a marker's line:col into a byte offset.
struct LineIndex {
    /// Byte offset where each `\n` line starts.
    starts: Vec<usize>,
    /// Byte offset of every `CHAR_STEP`th character; empty when the text is ASCII (a char
    /// index is then a byte offset).
    checkpoints: Vec<usize>,
}

const CHAR_STEP: usize = 64;

/// Positions on the file's own `\n` lines. saphyr's marker line also breaks at a lone `\r`
/// and past the end of input, which named lines the file does not have (found by fuzzing:
/// `tests/fuzz_regressions.rs`, `fuzz/open`): spans are placed by their char index instead.
impl LineIndex {
    fn new(src: &str) -> LineIndex {
        let mut starts = vec![0];
        starts.extend(
            src.bytes()
                .enumerate()
                .filter(|(_, b)| *b == b'\n')
                .map(|(i, _)| i + 1),
        );
        let checkpoints = if src.is_ascii() {
            Vec::new()
        } else {
            src.char_indices()
                .step_by(CHAR_STEP)
                .map(|(i, _)| i)
                .collect()
        };
        LineIndex {
            starts,
            checkpoints,
        }
    }

    /// Byte offset of a char index (clamped to the text).
    fn byte_of_char(&self, src: &str, char_index: usize) -> usize {
        if self.checkpoints.is_empty() {
            return char_index.min(src.len());
        }
        let Some(&from) = self.checkpoints.get(char_index / CHAR_STEP) else {
            return src.len();
        };
        src[from..]
            .char_indices()
            .nth(char_index % CHAR_STEP)
            .map_or(src.len(), |(i, _)| from + i)
    }

    /// 1-based line and 0-based char column of a byte offset.
    fn line_col(&self, src: &str, byte: usize) -> (usize, usize) {
        let line = self.starts.partition_point(|&s| s <= byte).max(1);
        let start = self.starts[line - 1];
        (line, src[start..byte].chars().count())
    }
}

/// Only indentation precedes `pos` on its line.
fn at_line_start(src: &str, pos: usize) -> bool {
    let start = src[..pos].rfind('\n').map_or(0, |n| n + 1);
    src[start..pos].chars().all(|c| c == ' ' || c == '\t')
}

/// Walk the scalar's parsed value and its source together: each value
/// character is placed on the source character it came from. Source-only
/// characters (indentation, folded line breaks, quote doubling, escape
/// backslashes, the block header line) are skipped; a character the source
/// does not show (an escape's result) takes the place of its escape.
fn align(src: &str, index: &LineIndex, span: Span, value: &str, style: ScalarStyle) -> Located {
    let mut pos = index.byte_of_char(src, span.start.index());
    let (mut line, mut col) = index.line_col(src, pos);
    let end = index
        .byte_of_char(src, span.end.index())
        .max(pos)
        .min(src.len());
    let end = if end == pos { src.len() } else { end };
    let at = |p: usize| src[p..].chars().next();
    match (style, at(pos)) {
        // Block scalars: the span starts at the content, or at the header
        // (`&anchor |`) when there is one; content starts on the line after it.
        (ScalarStyle::Literal | ScalarStyle::Folded, _) if !at_line_start(src, pos) => {
            let header = src[pos..].find(['|', '>']).map_or(pos, |h| pos + h);
            let next = src[header..]
                .find('\n')
                .map_or(src.len(), |n| header + n + 1);
            line += src[pos..next].matches('\n').count();
            pos = next;
            col = 0;
        }
        (ScalarStyle::SingleQuoted, Some('\'')) | (ScalarStyle::DoubleQuoted, Some('"')) => {
            pos += 1;
            col += 1;
        }
        _ => {}
    }
    let mut out = Located::default();
    let advance = |pos: &mut usize, line: &mut usize, col: &mut usize, c: char| {
        *pos += c.len_utf8();
        if c == '\n' {
            *line += 1;
            *col = 0;
        } else {
            *col += 1;
        }
    };
    for vc in value.chars() {
        loop {
            let sc = if pos < end { at(pos) } else { None };
            let Some(sc) = sc else {
                out.push_char(vc, line, col + 1);
                break;
            };
            if sc == vc || (vc.is_whitespace() && (sc == ' ' || sc == '\n')) {
                out.push_char(vc, line, col + 1);
                advance(&mut pos, &mut line, &mut col, sc);
                break;
            }
            if style == ScalarStyle::DoubleQuoted && sc == '\\' && at(pos + 1) == Some('\n') {
                // An escaped line break joins lines and yields no character.
                advance(&mut pos, &mut line, &mut col, sc);
                continue;
            }
            if style == ScalarStyle::DoubleQuoted && sc == '\\' {
                out.push_char(vc, line, col + 1);
                advance(&mut pos, &mut line, &mut col, sc);
                if let Some(e) = at(pos).filter(|_| pos < end) {
                    advance(&mut pos, &mut line, &mut col, e);
                }
                break;
            }
            if matches!(sc, ' ' | '\t' | '\n' | '\r' | '\'' | '"' | '\\') {
                advance(&mut pos, &mut line, &mut col, sc);
                continue;
            }
            // The source shows something else here: resynchronise on the value's
            // character a few places ahead on this line, or keep the place.
            let ahead = src[pos..end]
                .char_indices()
                .take(6)
                .take_while(|(_, c)| *c != '\n')
                .find(|(_, c)| *c == vc);
            if let Some((i, _)) = ahead {
                col += src[pos..pos + i].chars().count();
                pos += i;
                out.push_char(vc, line, col + 1);
                advance(&mut pos, &mut line, &mut col, vc);
            } else {
                out.push_char(vc, line, col + 1);
            }
            break;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (text, line, col) of each piece's first non-blank character.
    fn firsts(y: &str) -> Vec<(String, usize, usize)> {
        let (pieces, err) = shell_pieces(y, Select::Workflow);
        assert_eq!(err, None);
        pieces
            .iter()
            .map(|p| {
                let off = p.text.len() - p.text.trim_start().len();
                let (l, c) = p.position(off);
                (p.text.trim().to_string(), l, c)
            })
            .collect()
    }

    #[test]
    fn block_literal_lines_map_back() {
        let y =
            "jobs:\n  d:\n    steps:\n      - run: |\n          pm2 list\n            pm2 kill\n";
        let (p, _) = shell_pieces(y, Select::Workflow);
        assert_eq!(p.len(), 1);
        let k = p[0].text.find("pm2 kill").unwrap();
        assert_eq!(p[0].position(k), (6, 13));
        assert_eq!(p[0].position(0), (5, 11));
    }

    #[test]
    fn anchors_aliases_flow_and_quotes() {
        let y = "a:\n  script: &x |\n    pm2 delete all\nb:\n  script: *x\nc: {run: 'pm2 ''stop'' all'}\nd:\n  run: \"echo \\\"hi\\\" && pm2 kill\"\n";
        let f = firsts(y);
        assert_eq!(f.len(), 3, "{f:?}");
        assert_eq!((f[0].1, f[0].2), (3, 5));
        assert_eq!((f[1].1, f[1].2), (6, 11));
        let p = &shell_pieces(y, Select::Workflow).0[2];
        let k = p.text.find("pm2 kill").unwrap();
        assert_eq!(p.position(k), (8, 24));
    }

    #[test]
    fn errors_are_reported_with_place() {
        let (_, e) = shell_pieces("a:\n  run: |\n    ok\n b: [\n", Select::Workflow);
        let e = e.expect("a parse error");
        assert!(e.line >= 4, "{e:?}");
    }

    #[test]
    fn package_json_scripts_only_at_top_level() {
        let j = "{\n\t\"name\": \"pm2 kill\",\n\t\"scripts\": {\n\t\t\"stop\": \"pm2 kill\",\n\t\t\"x\": \"a\\\"b && pm2 stop all\"\n\t},\n\t\"config\": { \"scripts\": { \"y\": \"pm2 kill\" } }\n}\n";
        let (p, e) = keyed_pieces(j, Select::NpmScripts);
        assert_eq!(e, None);
        let got: Vec<(Option<String>, (usize, usize))> =
            p.iter().map(|(k, l)| (k.clone(), l.position(0))).collect();
        assert_eq!(
            got,
            vec![(Some("stop".into()), (4, 12)), (Some("x".into()), (5, 9))]
        );
        let x = &p[1].1;
        let k = x.text.find("pm2").unwrap();
        assert_eq!(x.position(k), (5, 17), "after an escaped quote");
    }

    #[test]
    fn keys() {
        for k in [
            "run",
            "script",
            "before_script",
            "after-script",
            "command",
            "commands",
            "pre_deploy_command",
        ] {
            assert!(is_shell_key(k), "{k}");
        }
        for k in ["name", "uses", "description", "env", "with"] {
            assert!(!is_shell_key(k), "{k}");
        }
        assert!(starts_with_pm2("sudo pm2 delete all"));
        assert!(!starts_with_pm2("Restart with pm2 now"));
    }
}
