//! Standard base64 (RFC 4648 section 4, with `=` padding) for OSC 52, from the
//! `base64` crate; this module keeps the two functions the callers use.

use base64::Engine;

/// Length of the encoding of `n` bytes (padded).
pub fn encoded_len(n: usize) -> usize {
    n.div_ceil(3) * 4
}

pub fn encode(input: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(input)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_match_the_encoding() {
        for n in 0..10 {
            assert_eq!(encode(&vec![0xa5; n]).len(), encoded_len(n), "n={n}");
        }
    }

    #[test]
    fn rfc4648_vectors() {
        for (i, o) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(encode(i.as_bytes()), o);
        }
    }
}
