//! One file of the server read by a read-only remote command: regular files only, size-capped,
//! with its size and mtime so an unchanged file is not sent again. The bytes go to the
//! caller's allow-list parser (`dump.pm2` carries every app's environment): never printed,
//! logged or kept. The shell fragment is pure text; [`read`] runs it through a [`Session`].
use super::session::{RemoteError, Session};
use crate::runbook::vars::shell_quote;
use std::path::Path;

/// The line after which the file's bytes follow, to the end of the output.
pub const MARK: &str = "p2i-file-data";

/// At most this many bytes cross the link (a remote command's output is read up to 16 MiB;
/// a saved list this large is already unusual).
pub const REMOTE_CAP: u64 = 8 << 20;

/// Size and mtime (seconds) as the server's `stat` printed them: equal stamps, same file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stamp {
    pub size: u64,
    pub mtime_s: i64,
}

impl Stamp {
    fn parse(v: &str) -> Option<Stamp> {
        let (size, mtime) = v.trim().split_once(' ')?;
        Some(Stamp {
            size: size.parse().ok()?,
            mtime_s: mtime.parse().ok()?,
        })
    }

    fn shell_form(&self) -> String {
        format!("{} {}", self.size, self.mtime_s)
    }
}

/// What reading the file gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RemoteFile {
    Missing,
    /// A directory, FIFO, device… (never opened: a FIFO would block the read).
    NotRegular,
    Unreadable,
    /// Its stamp equals the one the caller already has.
    Unchanged,
    TooLarge {
        cap: u64,
    },
    /// The answer was not understood (cut short, garbled): why.
    Failed(String),
    Data {
        bytes: Vec<u8>,
        stamp: Option<Stamp>,
    },
}

impl RemoteFile {
    /// Why the file's bytes are not here, for a message (`None`: data, missing or unchanged).
    pub fn problem(&self) -> Option<String> {
        match self {
            RemoteFile::NotRegular => Some("not a regular file".into()),
            RemoteFile::Unreadable => Some("permission denied".into()),
            RemoteFile::TooLarge { cap } => {
                Some(format!("larger than {} MiB, not read over ssh", cap >> 20))
            }
            RemoteFile::Failed(why) => Some(why.clone()),
            RemoteFile::Missing | RemoteFile::Unchanged | RemoteFile::Data { .. } => None,
        }
    }
}

/// Shell lines that read the file named by the shell word `path_word` (already quoted or a
/// `"$var"` reference). Prints `file=<state>` and, for data, `stat=…`, then [`MARK`] and the
/// bytes: it must be the last thing a script prints. Read-only: `stat` and `head`.
pub fn fragment(path_word: &str, known: Option<&Stamp>, cap: u64) -> String {
    let known = shell_quote(&known.map(Stamp::shell_form).unwrap_or_default());
    checked_read(path_word, &known, &format!("head -c {}", cap + 1))
}

/// [`fragment`] for the last `max` bytes of a file (a log), never skipped as unchanged.
pub fn tail_fragment(path_word: &str, max: u64) -> String {
    checked_read(path_word, "''", &format!("tail -c {max}"))
}

/// The checks every remote read makes before `reader` (`head -c N`/`tail -c N`) sends bytes.
fn checked_read(path_word: &str, known: &str, reader: &str) -> String {
    format!(
        r#"f={path_word}
if [ ! -e "$f" ]; then echo file=missing
elif [ ! -f "$f" ]; then echo file=notregular
elif [ ! -r "$f" ]; then echo file=unreadable
else
  st=$(stat -c '%s %Y' -- "$f" 2>/dev/null)
  if [ -n "$st" ] && [ "$st" = {known} ]; then echo file=unchanged
  else printf 'file=data\nstat=%s\n{MARK}\n' "$st"; {reader} -- "$f"; fi
fi
"#
    )
}

/// Split a script's output at [`MARK`]: the text before it and the file's bytes after it.
pub fn split(out: &[u8]) -> (&[u8], Option<&[u8]>) {
    let needle = format!("\n{MARK}\n");
    match out
        .windows(needle.len())
        .position(|w| w == needle.as_bytes())
    {
        Some(i) => (&out[..i + 1], Some(&out[i + needle.len()..])),
        None => (out, None),
    }
}

/// The file's state from the `file=` and `stat=` lines and the bytes after the mark.
pub fn parse(lines: &[&str], data: Option<&[u8]>, cap: u64) -> Result<RemoteFile, String> {
    let value = |k: &str| {
        lines
            .iter()
            .rev()
            .find_map(|l| l.strip_prefix(k)?.strip_prefix('='))
    };
    Ok(match value("file") {
        Some("missing") => RemoteFile::Missing,
        Some("notregular") => RemoteFile::NotRegular,
        Some("unreadable") => RemoteFile::Unreadable,
        Some("unchanged") => RemoteFile::Unchanged,
        Some("data") => {
            let bytes = data.ok_or("the remote file read sent no data mark")?;
            if bytes.len() as u64 > cap {
                RemoteFile::TooLarge { cap }
            } else {
                RemoteFile::Data {
                    bytes: bytes.to_vec(),
                    stamp: value("stat").and_then(Stamp::parse),
                }
            }
        }
        _ => return Err("the remote file read gave no answer".into()),
    })
}

/// Read `path` on the server (at most `cap` bytes; `known`: skip it when unchanged).
pub fn read(
    s: &Session,
    path: &Path,
    known: Option<&Stamp>,
    cap: u64,
) -> Result<RemoteFile, RemoteError> {
    let script = fragment(&shell_quote(&path.to_string_lossy()), known, cap);
    let out = s.run_sh(&script)?;
    let (text, data) = split(&out.stdout);
    let text = String::from_utf8_lossy(text);
    let lines: Vec<&str> = text.lines().collect();
    parse(&lines, data, cap).map_err(RemoteError::Protocol)
}

/// A saved list (`dump.pm2`) read remotely, parsed by the same allow-list parser as locally.
/// `None` for [`RemoteFile::Unchanged`] (the caller keeps what it had).
pub fn saved_read(path: &Path, f: RemoteFile) -> Option<crate::pm2::SavedRead> {
    use crate::pm2::dump::parse_saved_list;
    use crate::pm2::{SavedList, SavedRead};
    let path = path.to_path_buf();
    let unreadable = |reason: String| SavedRead::Unreadable {
        path: path.clone(),
        reason,
    };
    if let Some(why) = f.problem() {
        return Some(unreadable(format!("{}: {why}", path.display())));
    }
    Some(match f {
        RemoteFile::Unchanged => return None,
        RemoteFile::Missing => SavedRead::Missing { path },
        RemoteFile::Data { bytes, stamp } => match parse_saved_list(&bytes) {
            Ok((entries, unnamed)) => SavedRead::Read(SavedList {
                path,
                entries,
                unnamed,
                saved_at_ms: stamp.map(|s| s.mtime_s * 1000),
            }),
            Err(e) => unreadable(format!("{}: {e}", path.display())),
        },
        // Said above.
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(script: &str) -> Vec<u8> {
        std::process::Command::new("sh")
            .args(["-c", script])
            .output()
            .unwrap()
            .stdout
    }

    fn read_local(path: &Path, known: Option<&Stamp>, cap: u64) -> RemoteFile {
        let out = run(&fragment(&shell_quote(&path.to_string_lossy()), known, cap));
        let (text, data) = split(&out);
        let text = String::from_utf8_lossy(text);
        let lines: Vec<&str> = text.lines().collect();
        parse(&lines, data, cap).unwrap()
    }

    #[test]
    fn reads_bytes_exactly_and_skips_an_unchanged_file() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("dump.pm2");
        // Bytes that look like the protocol, a trailing newline-less end, non-UTF-8.
        let content = b"[{\"name\":\"a\"}]\nfile=missing\n\xff\x00tail".to_vec();
        std::fs::write(&f, &content).unwrap();
        let RemoteFile::Data { bytes, stamp } = read_local(&f, None, 1024) else {
            panic!("no data")
        };
        assert_eq!(bytes, content);
        let stamp = stamp.expect("GNU stat here");
        assert_eq!(stamp.size, content.len() as u64);
        assert_eq!(read_local(&f, Some(&stamp), 1024), RemoteFile::Unchanged);
        let other = Stamp {
            size: 1,
            mtime_s: 2,
        };
        assert!(matches!(
            read_local(&f, Some(&other), 1024),
            RemoteFile::Data { .. }
        ));
        assert_eq!(read_local(&f, None, 8), RemoteFile::TooLarge { cap: 8 });
    }

    #[test]
    fn missing_and_special_files_are_not_opened() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(
            read_local(&dir.path().join("nope"), None, 64),
            RemoteFile::Missing
        );
        assert_eq!(read_local(dir.path(), None, 64), RemoteFile::NotRegular);
        let fifo = dir.path().join("fifo");
        let c = std::ffi::CString::new(fifo.to_string_lossy().as_bytes()).unwrap();
        // SAFETY: mkfifo on a path in our own temp dir.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        // Would block forever if it were opened.
        assert_eq!(read_local(&fifo, None, 64), RemoteFile::NotRegular);
    }

    #[test]
    fn the_saved_list_keeps_names_only() {
        let p = Path::new("/srv/pm2/dump.pm2");
        let bytes =
            br#"[{"name":"api","status":"online","env":{"SECRET":"hunter2"},"SECRET":"hunter2"}]"#;
        let r = saved_read(
            p,
            RemoteFile::Data {
                bytes: bytes.to_vec(),
                stamp: Some(Stamp {
                    size: 1,
                    mtime_s: 100,
                }),
            },
        )
        .unwrap();
        let l = r.list().unwrap();
        assert_eq!(l.apps(), ["api"]);
        assert_eq!(l.saved_at_ms, Some(100_000));
        assert!(!format!("{r:?}").contains("hunter2"));
        assert_eq!(saved_read(p, RemoteFile::Unchanged), None);
        let bad = saved_read(
            p,
            RemoteFile::Data {
                bytes: b"{\"SECRET\":\"hunter2\"".to_vec(),
                stamp: None,
            },
        )
        .unwrap();
        assert!(!format!("{bad:?}").contains("hunter2"), "{bad:?}");
        assert!(matches!(bad, crate::pm2::SavedRead::Unreadable { .. }));
    }
}
