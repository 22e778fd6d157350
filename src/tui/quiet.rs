//! A writer between ratatui's crossterm backend and the terminal that drops bytes
//! which change nothing on screen: the colour reset every frame ends with when the
//! frame set no colour, and hide-cursor when the cursor is already hidden. An idle
//! incident over a slow SSH link then costs only the ticking clock.
use std::io::{self, Write};

/// What crossterm writes at the end of every frame (fg, bg, underline colour, attributes).
const FRAME_RESET: &[u8] = b"\x1b[39m\x1b[49m\x1b[59m\x1b[0m";
const HIDE_CURSOR: &[u8] = b"\x1b[?25l";
const SHOW_CURSOR: &[u8] = b"\x1b[?25h";

pub struct QuietWriter<W: Write> {
    inner: W,
    buf: Vec<u8>,
    cursor_hidden: bool,
}

impl<W: Write> QuietWriter<W> {
    pub fn new(inner: W) -> Self {
        QuietWriter {
            inner,
            buf: Vec::new(),
            cursor_hidden: false,
        }
    }

    pub fn get_ref(&self) -> &W {
        &self.inner
    }
}

/// Whether `bytes` hold an SGR sequence (`ESC [ ... m`): then the terminal's style
/// changed during the frame and the reset at its end is needed.
fn sets_style(bytes: &[u8]) -> bool {
    let mut i = 0;
    while i + 1 < bytes.len() {
        if bytes[i] == 0x1b && bytes[i + 1] == b'[' {
            let mut j = i + 2;
            while j < bytes.len()
                && (bytes[j].is_ascii_digit() || bytes[j] == b';' || bytes[j] == b':')
            {
                j += 1;
            }
            if j < bytes.len() && bytes[j] == b'm' {
                return true;
            }
            i = j;
        } else {
            i += 1;
        }
    }
    false
}

impl<W: Write> Write for QuietWriter<W> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        // A frame is [cells][reset][hide cursor]; each part may come in its own flush.
        let (body, hide) = match self.buf.strip_suffix(HIDE_CURSOR) {
            Some(b) => (b, true),
            None => (&self.buf[..], false),
        };
        let body = match body.strip_suffix(FRAME_RESET) {
            Some(cells) if !sets_style(cells) => cells,
            _ => body,
        };
        if body.ends_with(SHOW_CURSOR) {
            self.cursor_hidden = false;
        }
        if !body.is_empty() {
            self.inner.write_all(body)?;
        }
        if hide && !self.cursor_hidden {
            self.inner.write_all(HIDE_CURSOR)?;
            self.cursor_hidden = true;
        }
        self.buf.clear();
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(chunks: &[&[u8]]) -> Vec<u8> {
        let mut w = QuietWriter::new(Vec::new());
        for c in chunks {
            w.write_all(c).unwrap();
            w.flush().unwrap();
        }
        w.get_ref().clone()
    }

    #[test]
    fn an_unstyled_change_loses_the_reset_and_the_repeated_hide() {
        let clock = b"\x1b[1;77H5\x1b[39m\x1b[49m\x1b[59m\x1b[0m";
        let out = frames(&[b"\x1b[?25l", clock, b"\x1b[?25l", clock, b"\x1b[?25l"]);
        assert_eq!(out, b"\x1b[?25l\x1b[1;77H5\x1b[1;77H5");
    }

    #[test]
    fn a_whole_frame_in_one_flush() {
        let frame = b"\x1b[1;77H5\x1b[39m\x1b[49m\x1b[59m\x1b[0m\x1b[?25l";
        let out = frames(&[frame, frame]);
        assert_eq!(out, b"\x1b[1;77H5\x1b[?25l\x1b[1;77H5");
    }

    #[test]
    fn a_styled_frame_keeps_its_reset() {
        let styled = b"\x1b[2;3H\x1b[31mX\x1b[39m\x1b[49m\x1b[59m\x1b[0m";
        assert_eq!(frames(&[styled]), styled.to_vec());
    }

    #[test]
    fn nothing_changed_writes_nothing_and_showing_the_cursor_passes() {
        assert!(frames(&[FRAME_RESET]).is_empty());
        let out = frames(&[b"\x1b[?25l", b"\x1b[?25h", b"\x1b[?25l"]);
        assert_eq!(out, b"\x1b[?25l\x1b[?25h\x1b[?25l");
    }
}
