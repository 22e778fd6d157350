//! Text from recorded data (process names, command output, notes, file names) printed to a
//! terminal: control characters are made visible so nothing recorded can drive the reader's
//! terminal (OSC 0 retitles it, OSC 52 writes the clipboard, CSI moves the cursor or clears).
//! One function for every printer: report, snapshot, verify, replay's stderr, exit lines.
use std::borrow::Cow;
use std::fmt::Write;

/// True for what a terminal may act on: C0 (except newline and tab), DEL and C1.
fn is_dangerous(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t') || is_bidi_override(c)
}

/// Bidirectional overrides reorder what the reader sees (a command shown as something else).
fn is_bidi_override(c: char) -> bool {
    matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// False only when `s` has none of the bytes a dangerous character starts with: C0 controls
/// but newline and tab, DEL, 0xC2 (C1 controls are U+0080..U+009F) and 0xE2 (the bidi
/// overrides are U+202A..U+2069). A byte scan in blocks (no early exit inside a block, so it
/// vectorises): whole reports pass through here (issue #19).
fn may_be_dangerous(s: &str) -> bool {
    let bad = |b: u8| (b < 0x20 && b != b'\n' && b != b'\t') || b == 0x7f || b == 0xc2 || b == 0xe2;
    s.as_bytes()
        .chunks(64)
        .any(|c| c.iter().fold(false, |acc, &b| acc | bad(b)))
}

/// Escapes control characters as visible text: ESC → `\x1b`, DEL → `\x7f`, C1 CSI → `\u{9b}`.
/// Newlines and tabs pass (the caller lays out lines); everything else is unchanged.
pub fn escape_controls(s: &str) -> Cow<'_, str> {
    if !may_be_dangerous(s) || !s.chars().any(is_dangerous) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        if !is_dangerous(c) {
            out.push(c);
        } else if (c as u32) < 0x80 {
            let _ = write!(out, "\\x{:02x}", c as u32);
        } else {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        }
    }
    Cow::Owned(out)
}

/// [`escape_controls`] for one line of text: a newline is escaped too, so a recorded value
/// cannot forge a line of its own (a fake "OK" line in a verify report).
pub fn escape_line(s: &str) -> Cow<'_, str> {
    if !s.contains(['\n', '\r']) {
        return escape_controls(s);
    }
    Cow::Owned(escape_controls(&s.replace('\n', "\\n")).into_owned())
}

/// For JSON printed to a terminal: serde_json escapes C0 but writes DEL and C1 raw; this
/// rewrites them as JSON `\u` escapes (still valid JSON, same value when parsed back).
pub fn escape_json_output(s: &str) -> Cow<'_, str> {
    let bad = |c: char| c == '\u{7f}' || ('\u{80}'..='\u{9f}').contains(&c) || is_bidi_override(c);
    if !s.chars().any(bad) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        if bad(c) {
            let _ = write!(out, "\\u{:04x}", c as u32);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_sequences_become_visible() {
        let cases = [
            ("api\x1b]0;pwned\x07", "api\\x1b]0;pwned\\x07"),
            (
                "\x1b]52;c;ZWNobyBoaQ==\x1b\\",
                "\\x1b]52;c;ZWNobyBoaQ==\\x1b\\",
            ),
            ("\x1b[2J\x1b[H", "\\x1b[2J\\x1b[H"),
            ("a\u{9b}31mb", "a\\u{9b}31mb"),
            ("del\x7f", "del\\x7f"),
            ("cr\rx", "cr\\x0dx"),
            ("rtl\u{202e}gpj.exe", "rtl\\u{202e}gpj.exe"),
            ("plain\ttext\nnext", "plain\ttext\nnext"),
            ("naïve ✓", "naïve ✓"),
        ];
        for (input, want) in cases {
            assert_eq!(escape_controls(input), want, "{input:?}");
        }
        assert!(matches!(escape_controls("ok"), Cow::Borrowed(_)));
        assert_eq!(escape_line("a\nb\x1b"), "a\\nb\\x1b");
    }

    /// The byte pre-check never lets a dangerous character through: every char, alone and
    /// past the first block.
    #[test]
    fn the_byte_precheck_flags_every_dangerous_char() {
        let pad = "x".repeat(70);
        for c in (0..=u32::from(char::MAX)).filter_map(char::from_u32) {
            if is_dangerous(c) {
                let s = c.to_string();
                assert!(may_be_dangerous(&s), "{c:?}");
                assert!(may_be_dangerous(&format!("{pad}{s}")), "{c:?} late");
            }
        }
        // Plain text and most non-ASCII pass the scan; a harmless 0xE2 character (✓) is only
        // a maybe, settled by the char check.
        assert!(!may_be_dangerous(&format!("{pad}naïve é ß\n\t")));
        assert!(may_be_dangerous("✓"));
        assert!(matches!(escape_controls("✓"), Cow::Borrowed(_)));
    }

    #[test]
    fn json_output_stays_valid_and_equal() {
        let v = serde_json::json!({"name": "a\u{9b}b\x7f\x1b"});
        let s = serde_json::to_string(&v).unwrap();
        let e = escape_json_output(&s);
        assert!(!e.contains(['\u{9b}', '\x7f', '\x1b']));
        let back: serde_json::Value = serde_json::from_str(&e).unwrap();
        assert_eq!(back, v);
    }
}
