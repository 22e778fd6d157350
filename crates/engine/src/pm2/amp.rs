//! AMP v1 framing (npm `amp` 0.3.1) and `amp-message` argument prefixes, as PM2's axon uses them.
//!
//! Frame: one meta byte `(version << 4) | argc` (version 1, argc 1..=15), then per argument a
//! u32 big-endian length and that many bytes. Arguments start with `j:` (JSON) or `s:` (string).
//! Reading checks every announced length against a maximum *before* allocating, so a hostile
//! or corrupt peer cannot make us allocate gigabytes.
use std::io::{self, Read};

pub const AMP_VERSION: u8 = 1;
/// Largest frame accepted by default: a 500-app listing with fat environments is ~50 MB.
pub const DEFAULT_MAX_FRAME: usize = 256 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    #[error("AMP frame: bad meta byte 0x{0:02x} (expected version 1 and 1..15 arguments)")]
    BadMeta(u8),
    #[error("AMP frame announces {announced} bytes, over the limit of {limit} bytes; refused")]
    TooLarge { announced: u64, limit: usize },
    #[error("AMP frame truncated: stream ended after {got} of {expected} bytes of {part}")]
    Truncated {
        part: &'static str,
        got: usize,
        expected: usize,
    },
    #[error("AMP frame: {0} arguments cannot be encoded (1..15 allowed)")]
    BadArgc(usize),
    #[error("timed out waiting for data")]
    Timeout,
    #[error("I/O error reading AMP frame: {0}")]
    Io(#[from] io::Error),
}

/// One decoded argument.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Arg {
    /// The bytes after `j:` (JSON text, not yet parsed).
    Json(Vec<u8>),
    /// The text after `s:`.
    Str(String),
    /// Anything else (or an `s:` that is not UTF-8).
    Blob(Vec<u8>),
}

impl Arg {
    pub fn from_bytes(mut b: Vec<u8>) -> Arg {
        if b.starts_with(b"j:") {
            b.drain(..2);
            Arg::Json(b)
        } else if b.starts_with(b"s:") {
            match String::from_utf8(b[2..].to_vec()) {
                Ok(s) => Arg::Str(s),
                Err(_) => Arg::Blob(b),
            }
        } else {
            Arg::Blob(b)
        }
    }

    /// Short description for error messages; never the content (it may hold secrets).
    pub fn kind(&self) -> &'static str {
        match self {
            Arg::Json(_) => "JSON",
            Arg::Str(_) => "string",
            Arg::Blob(_) => "blob",
        }
    }
}

/// Encode one frame from already-prefixed arguments.
pub fn encode_frame(args: &[&[u8]]) -> Result<Vec<u8>, FrameError> {
    if args.is_empty() || args.len() > 15 {
        return Err(FrameError::BadArgc(args.len()));
    }
    let total: usize = 1 + args.iter().map(|a| 4 + a.len()).sum::<usize>();
    let mut out = Vec::with_capacity(total);
    out.push((AMP_VERSION << 4) | args.len() as u8);
    for a in args {
        let len = u32::try_from(a.len()).map_err(|_| FrameError::TooLarge {
            announced: a.len() as u64,
            limit: u32::MAX as usize,
        })?;
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(a);
    }
    Ok(out)
}

fn map_io(e: io::Error) -> FrameError {
    match e.kind() {
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => FrameError::Timeout,
        _ => FrameError::Io(e),
    }
}

/// Read into `buf` completely; returns how many bytes arrived before EOF.
fn read_full<R: Read>(r: &mut R, buf: &mut [u8]) -> Result<usize, FrameError> {
    let mut got = 0;
    while got < buf.len() {
        match r.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(map_io(e)),
        }
    }
    Ok(got)
}

/// Read one frame. `Ok(None)` means a clean end of stream at a frame boundary.
pub fn read_frame<R: Read>(r: &mut R, max_frame: usize) -> Result<Option<Vec<Arg>>, FrameError> {
    let mut meta = [0u8; 1];
    if read_full(r, &mut meta)? == 0 {
        return Ok(None);
    }
    let (version, argc) = (meta[0] >> 4, (meta[0] & 0x0f) as usize);
    if version != AMP_VERSION || argc == 0 {
        return Err(FrameError::BadMeta(meta[0]));
    }
    let mut total: u64 = 1;
    let mut args = Vec::with_capacity(argc);
    for _ in 0..argc {
        let mut len = [0u8; 4];
        let got = read_full(r, &mut len)?;
        if got < 4 {
            return Err(FrameError::Truncated {
                part: "an argument length",
                got,
                expected: 4,
            });
        }
        let len = u32::from_be_bytes(len) as u64;
        total += 4 + len;
        if total > max_frame as u64 {
            return Err(FrameError::TooLarge {
                announced: total,
                limit: max_frame,
            });
        }
        let len = len as usize;
        // Grow as bytes arrive rather than trusting the announced length up front.
        let mut buf = Vec::with_capacity(len.min(1 << 20));
        let got = r
            .by_ref()
            .take(len as u64)
            .read_to_end(&mut buf)
            .map_err(map_io)?;
        if got < len {
            return Err(FrameError::Truncated {
                part: "an argument",
                got,
                expected: len,
            });
        }
        args.push(Arg::from_bytes(buf));
    }
    Ok(Some(args))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encode_then_read_round_trips() {
        let f = encode_frame(&[b"s:topic", b"j:{\"a\":1}"]).unwrap();
        assert_eq!(f[0], 0x12);
        let mut cur = io::Cursor::new(f);
        let args = read_frame(&mut cur, 1024).unwrap().unwrap();
        assert_eq!(
            args,
            vec![Arg::Str("topic".into()), Arg::Json(b"{\"a\":1}".to_vec())]
        );
        assert!(read_frame(&mut cur, 1024).unwrap().is_none());
    }

    #[test]
    fn refuses_bad_meta_truncation_and_oversize() {
        let e = read_frame(&mut &[0x22u8, 0, 0, 0, 0][..], 1024).unwrap_err();
        assert!(matches!(e, FrameError::BadMeta(0x22)), "{e}");
        let e = read_frame(&mut &[0x10u8][..], 1024).unwrap_err();
        assert!(matches!(e, FrameError::BadMeta(0x10)), "{e}");
        let e = read_frame(&mut &[0x11u8, 0, 0][..], 1024).unwrap_err();
        assert!(matches!(e, FrameError::Truncated { got: 2, .. }), "{e}");
        let e = read_frame(&mut &[0x11u8, 0, 0, 0, 9, b'j', b':'][..], 1024).unwrap_err();
        assert!(
            matches!(
                e,
                FrameError::Truncated {
                    got: 2,
                    expected: 9,
                    ..
                }
            ),
            "{e}"
        );
        let e = read_frame(&mut &[0x11u8, 0xff, 0xff, 0xff, 0xff][..], 1024).unwrap_err();
        assert!(
            matches!(
                e,
                FrameError::TooLarge {
                    announced: 4_294_967_300,
                    ..
                }
            ),
            "{e}"
        );
        assert!(matches!(encode_frame(&[]), Err(FrameError::BadArgc(0))));
    }

    #[test]
    fn arg_prefixes() {
        assert_eq!(Arg::from_bytes(b"s:x".to_vec()), Arg::Str("x".into()));
        assert_eq!(Arg::from_bytes(b"j:1".to_vec()), Arg::Json(b"1".to_vec()));
        assert_eq!(Arg::from_bytes(b"zz".to_vec()), Arg::Blob(b"zz".to_vec()));
        assert_eq!(
            Arg::from_bytes(b"s:\xff".to_vec()),
            Arg::Blob(b"s:\xff".to_vec())
        );
    }
}
