//! Text cut out of a file (a YAML block, a Makefile recipe, a package.json
//! script) with a map from each byte of the cut text back to the file's line
//! and column, so a finding in the text lands on the file's own line:col.

/// Cut text and where it came from. `marks` are `(text byte offset, file line,
/// file column)`, both 1-based, sorted by offset; between two marks the text
/// follows the file character for character on one line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Located {
    pub text: String,
    marks: Vec<(usize, usize, usize)>,
    /// Characters since the last mark, and whether a newline was among them
    /// (so `mark` decides in O(1) whether a new mark is needed).
    tail_chars: usize,
    tail_broken: bool,
}

impl Located {
    /// A whole file: text and file coincide.
    pub fn whole(content: &str) -> Located {
        let mut l = Located {
            text: content.to_string(),
            marks: vec![(0, 1, 1)],
            tail_chars: 0,
            tail_broken: true,
        };
        for (i, b) in content.bytes().enumerate() {
            if b == b'\n' {
                l.marks.push((i + 1, l.marks.len() + 1, 1));
            }
        }
        l
    }

    /// Append `s`, whose first character sits at file `line`:`col`.
    pub fn push(&mut self, s: &str, line: usize, col: usize) {
        if s.is_empty() {
            return;
        }
        self.mark(line, col);
        self.text.push_str(s);
        self.tail_chars += s.chars().count();
        self.tail_broken |= s.contains('\n');
    }

    /// Append one character at file `line`:`col`; a mark is only added where the
    /// mapping stops being "next character, same line".
    pub fn push_char(&mut self, c: char, line: usize, col: usize) {
        self.mark(line, col);
        self.text.push(c);
        self.tail_chars += 1;
        self.tail_broken |= c == '\n';
    }

    /// Append text with no place of its own (a separator): it maps to the last mark.
    pub fn push_joint(&mut self, s: &str) {
        self.text.push_str(s);
        self.tail_broken = true;
    }

    fn mark(&mut self, line: usize, col: usize) {
        if let Some(&(_, l, c)) = self.marks.last() {
            if l == line && c + self.tail_chars == col && !self.tail_broken {
                return;
            }
        }
        self.marks.push((self.text.len(), line, col));
        self.tail_chars = 0;
        self.tail_broken = false;
    }

    /// File line and column (1-based, columns in characters) of a byte offset
    /// into `text`. Offsets inside a character round down to it.
    pub fn position(&self, offset: usize) -> (usize, usize) {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        let i = self.marks.partition_point(|m| m.0 <= offset);
        let Some(&(o, l, c)) = i.checked_sub(1).and_then(|i| self.marks.get(i)) else {
            return (1, 1);
        };
        let o = o.min(offset);
        let run = &self.text[o..offset];
        // A mapped run never holds a newline except in `whole` (one mark a line)
        // or after a joint; count lines so a stray newline cannot shift columns.
        match run.rfind('\n') {
            Some(p) => (
                l + run.matches('\n').count(),
                run[p + 1..].chars().count() + 1,
            ),
            None => (l, c + run.chars().count()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_file_positions() {
        let l = Located::whole("ab\ncé d\n");
        assert_eq!(l.position(0), (1, 1));
        assert_eq!(l.position(3), (2, 1));
        assert_eq!(l.position(7), (2, 4), "columns count characters");
        assert_eq!(l.position(5), (2, 2), "inside é rounds down");
    }

    #[test]
    fn pieces_keep_their_origin() {
        let mut l = Located::default();
        l.push("pm2 list", 4, 7);
        l.push_joint("\n");
        l.push("pm2 kill", 9, 3);
        assert_eq!(l.position(0), (4, 7));
        assert_eq!(l.position(4), (4, 11));
        assert_eq!(l.position(9), (9, 3));
        assert_eq!(l.position(13), (9, 7));
    }
}
