//! OSC 52: put text on the responder's own clipboard through the terminal, which works over
//! SSH where no clipboard tool on the server could reach them. Pure: the caller writes the
//! sequence to the terminal and decides whether it runs inside tmux (`TMUX` set).
use super::base64;

const ESC: char = '\x1b';
const BEL: char = '\x07';

/// Largest sequence written: terminals silently drop longer OSC 52 payloads (xterm, tmux
/// and others cap around 100 KB), so a longer copy is refused rather than lost.
pub const MAX_SEQUENCE_BYTES: usize = 100 * 1024;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Osc52Error {
    #[error(
        "text too large to copy over OSC 52: {text_bytes} bytes make a {sequence_bytes}-byte \
         terminal sequence, over the {max}-byte limit terminals accept; save it to a file instead"
    )]
    TooLarge {
        text_bytes: usize,
        sequence_bytes: usize,
        max: usize,
    },
}

/// `ESC ] 52 ; c ; <base64> BEL`: set the clipboard selection to `text`.
pub fn osc52(text: &str) -> Result<String, Osc52Error> {
    let len = 7 + base64::encoded_len(text.len()) + 1;
    check(text, len)?;
    Ok(plain(text))
}

/// The same sequence wrapped in tmux's DCS passthrough (`ESC P tmux; ... ESC \`), every ESC
/// inside doubled, so tmux hands it to the outer terminal. Needs `allow-passthrough on` in
/// tmux 3.3 and later.
pub fn osc52_tmux(text: &str) -> Result<String, Osc52Error> {
    // "ESC P tmux;" + doubled ESC of the OSC + "ESC \".
    let len = 7 + 1 + 7 + base64::encoded_len(text.len()) + 1 + 2;
    check(text, len)?;
    let inner = plain(text).replace(ESC, "\x1b\x1b");
    Ok(format!("{ESC}Ptmux;{inner}{ESC}\\"))
}

/// The sequence to write: the tmux form when running inside tmux.
pub fn clipboard_sequence(text: &str, in_tmux: bool) -> Result<String, Osc52Error> {
    if in_tmux {
        osc52_tmux(text)
    } else {
        osc52(text)
    }
}

fn plain(text: &str) -> String {
    format!("{ESC}]52;c;{}{BEL}", base64::encode(text.as_bytes()))
}

fn check(text: &str, sequence_bytes: usize) -> Result<(), Osc52Error> {
    if sequence_bytes > MAX_SEQUENCE_BYTES {
        return Err(Osc52Error::TooLarge {
            text_bytes: text.len(),
            sequence_bytes,
            max: MAX_SEQUENCE_BYTES,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn predicted_lengths_are_exact() {
        for t in ["", "a", "ab", "abc", "hello world\n"] {
            assert_eq!(
                osc52(t).map(|s| s.len()),
                Ok(7 + base64::encoded_len(t.len()) + 1)
            );
            let tm = osc52_tmux(t).map(|s| s.len());
            assert_eq!(tm, Ok(7 + 1 + 7 + base64::encoded_len(t.len()) + 1 + 2));
        }
    }
}
