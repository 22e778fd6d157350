//! Byte stream → lines (pure): split on `\n`, drop a trailing `\r`, cap very
//! long lines (the rest of such a line is discarded, the line is marked).

/// One split line: raw bytes (lossily decoded later) and whether it was cut.
pub type RawLine = (Vec<u8>, bool);

#[derive(Debug)]
pub struct LineSplitter {
    buf: Vec<u8>,
    max: usize,
    /// Inside an over-long line whose head was already emitted.
    dropping: bool,
}

impl LineSplitter {
    pub fn new(max_line_bytes: usize) -> Self {
        LineSplitter {
            buf: vec![],
            max: max_line_bytes.max(1),
            dropping: false,
        }
    }

    /// Feed a chunk; complete lines are appended to `out`.
    pub fn push(&mut self, mut chunk: &[u8], out: &mut Vec<RawLine>) {
        while !chunk.is_empty() {
            let nl = chunk.iter().position(|&b| b == b'\n');
            let (seg, rest, ended) = match nl {
                Some(p) => (&chunk[..p], &chunk[p + 1..], true),
                None => (chunk, &chunk[chunk.len()..], false),
            };
            chunk = rest;
            if self.dropping {
                if ended {
                    self.dropping = false;
                }
                continue;
            }
            let room = self.max - self.buf.len();
            if seg.len() > room {
                self.buf.extend_from_slice(&seg[..room]);
                out.push((std::mem::take(&mut self.buf), true));
                self.dropping = !ended;
                continue;
            }
            self.buf.extend_from_slice(seg);
            if ended {
                let mut line = std::mem::take(&mut self.buf);
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                out.push((line, false));
            }
        }
    }

    /// End of stream: a final line without a newline still counts.
    pub fn finish(&mut self, out: &mut Vec<RawLine>) {
        if !self.buf.is_empty() {
            out.push((std::mem::take(&mut self.buf), false));
        }
        self.dropping = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(chunks: &[&[u8]], max: usize) -> Vec<(String, bool)> {
        let mut s = LineSplitter::new(max);
        let mut out = vec![];
        for c in chunks {
            s.push(c, &mut out);
        }
        s.finish(&mut out);
        out.into_iter()
            .map(|(b, t)| (String::from_utf8_lossy(&b).into_owned(), t))
            .collect()
    }

    #[test]
    fn splits_across_chunks() {
        assert_eq!(
            split(&[b"ab", b"c\r\nde", b"\n\nf"], 100),
            vec![
                ("abc".into(), false),
                ("de".into(), false),
                ("".into(), false),
                ("f".into(), false)
            ]
        );
    }

    #[test]
    fn caps_long_lines() {
        assert_eq!(
            split(&[b"0123456789", b"abc\nok\n"], 4),
            vec![("0123".into(), true), ("ok".into(), false)]
        );
        assert_eq!(split(&[b"0123\n"], 4), vec![("0123".into(), false)]);
    }
}
