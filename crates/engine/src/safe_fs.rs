//! File-system access that cannot be steered by another local user or by a hostile input:
//! - inputs (journals, dumps, runbooks, files to lint) are regular files only, opened without
//!   blocking (a FIFO would block `open` forever) and read up to a size cap;
//! - files the tool creates are created with `O_EXCL|O_NOFOLLOW` (never through a symlink,
//!   never over an existing file), directories it owns with `mkdtemp` (random, 0700);
//! - a directory that will hold journals must not be writable by anyone else.
use std::ffi::{CString, OsString};
use std::fs::{File, OpenOptions};
use std::io::{self, Read};
use std::os::unix::ffi::OsStringExt;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// Env var overriding the input size cap: bytes, or with a K/M/G suffix (`512M`).
pub const MAX_SIZE_ENV: &str = "PM2_INCIDENT_MAX_SIZE";
/// Default cap on one input file: far above a long incident's journal (a few MB), far below
/// what would exhaust a small server's memory.
pub const DEFAULT_MAX_SIZE: u64 = 256 * 1024 * 1024;

/// Why an input was refused. Messages name the file and the value that is wrong.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error("{path}: {source}")]
    Io { path: String, source: io::Error },
    #[error("{path}: not a regular file ({kind}); refusing to read it")]
    NotRegular { path: String, kind: &'static str },
    #[error("{path}: {size} bytes is over the {limit}-byte input limit (set {MAX_SIZE_ENV} to raise it)")]
    TooLarge { path: String, size: u64, limit: u64 },
    #[error("{path}: is a symbolic link; refusing to follow it")]
    Symlink { path: String },
    #[error("invalid {MAX_SIZE_ENV}={value:?}: want a byte count such as 1048576, 64M or 1G")]
    BadLimit { value: String },
}

impl InputError {
    fn io(path: &Path, source: io::Error) -> InputError {
        InputError::Io {
            path: path.display().to_string(),
            source,
        }
    }
}

/// Parses a size such as `1048576`, `512K`, `64M`, `1G` (powers of 1024).
pub fn parse_size(s: &str) -> Option<u64> {
    let s = s.trim();
    let (num, mult) = match s.chars().last()?.to_ascii_uppercase() {
        'K' => (&s[..s.len() - 1], 1u64 << 10),
        'M' => (&s[..s.len() - 1], 1 << 20),
        'G' => (&s[..s.len() - 1], 1 << 30),
        _ => (s, 1),
    };
    num.trim().parse::<u64>().ok()?.checked_mul(mult)
}

/// The input size cap: `PM2_INCIDENT_MAX_SIZE` when set, else [`DEFAULT_MAX_SIZE`].
pub fn max_input_size() -> Result<u64, InputError> {
    match std::env::var(MAX_SIZE_ENV) {
        Ok(v) if !v.trim().is_empty() => parse_size(&v).ok_or(InputError::BadLimit { value: v }),
        _ => Ok(DEFAULT_MAX_SIZE),
    }
}

fn kind_name(ft: std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if ft.is_dir() {
        "a directory"
    } else if ft.is_fifo() {
        "a FIFO"
    } else if ft.is_char_device() {
        "a character device"
    } else if ft.is_block_device() {
        "a block device"
    } else if ft.is_socket() {
        "a socket"
    } else if ft.is_symlink() {
        "a symbolic link"
    } else {
        "not a regular file"
    }
}

/// How an input is opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Follow {
    /// A symlink to a regular file is fine (a journal given on the command line).
    Symlinks,
    /// The path itself must be the regular file (what the tool will write to).
    NoSymlinks,
}

/// Opens `path` as a regular file without blocking (O_NONBLOCK: a FIFO's open never waits for a
/// writer) and checks what it is on the open descriptor (no race between check and use).
/// `write` opens it for appending too. Returns the file and its size.
pub fn open_regular(path: &Path, follow: Follow, write: bool) -> Result<(File, u64), InputError> {
    let mut flags = libc::O_NONBLOCK | libc::O_NOCTTY;
    if follow == Follow::NoSymlinks {
        flags |= libc::O_NOFOLLOW;
    }
    let file = OpenOptions::new()
        .read(true)
        .append(write)
        .custom_flags(flags)
        .open(path)
        .map_err(|e| {
            if follow == Follow::NoSymlinks && e.raw_os_error() == Some(libc::ELOOP) {
                InputError::Symlink {
                    path: path.display().to_string(),
                }
            } else {
                InputError::io(path, e)
            }
        })?;
    let md = file.metadata().map_err(|e| InputError::io(path, e))?;
    if !md.file_type().is_file() {
        return Err(InputError::NotRegular {
            path: path.display().to_string(),
            kind: kind_name(md.file_type()),
        });
    }
    Ok((file, md.len()))
}

/// Reads a whole input file: regular files only, at most the configured cap.
pub fn read_input(path: &Path) -> Result<Vec<u8>, InputError> {
    read_input_capped(path, max_input_size()?)
}

/// [`read_input`] with an explicit cap. The cap also bounds the read itself, so a file that
/// grows while being read (or lies about its size, as /proc files do) cannot exhaust memory.
pub fn read_input_capped(path: &Path, limit: u64) -> Result<Vec<u8>, InputError> {
    let (file, size) = open_regular(path, Follow::Symlinks, false)?;
    read_capped(path, file, size, limit)
}

pub(crate) fn read_capped(
    path: &Path,
    file: File,
    size: u64,
    limit: u64,
) -> Result<Vec<u8>, InputError> {
    let too_large = |size| InputError::TooLarge {
        path: path.display().to_string(),
        size,
        limit,
    };
    if size > limit {
        return Err(too_large(size));
    }
    let mut buf = Vec::with_capacity(size as usize);
    file.take(limit + 1)
        .read_to_end(&mut buf)
        .map_err(|e| InputError::io(path, e))?;
    if buf.len() as u64 > limit {
        return Err(too_large(buf.len() as u64));
    }
    Ok(buf)
}

/// [`read_input`] as UTF-8 text (the error names the file).
pub fn read_input_string(path: &Path) -> Result<String, InputError> {
    let bytes = read_input(path)?;
    String::from_utf8(bytes).map_err(|e| {
        InputError::io(
            path,
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("not UTF-8 text (byte {})", e.utf8_error().valid_up_to()),
            ),
        )
    })
}

/// Creates a new file with exactly `mode`: fails if anything exists at `path`, a symlink
/// included (O_EXCL|O_NOFOLLOW), so nothing pre-planted can redirect the write.
pub fn create_new(path: &Path, mode: u32) -> io::Result<File> {
    let f = OpenOptions::new()
        .read(true)
        .append(true)
        .create_new(true)
        .custom_flags(libc::O_NOFOLLOW)
        .mode(mode)
        .open(path)?;
    // The umask may have narrowed the mode; make it exact.
    f.set_permissions(std::fs::Permissions::from_mode(mode))?;
    Ok(f)
}

/// Replaces the content of a file the tool owns inside its own private directory, never through
/// a symlink (O_NOFOLLOW) and only if it is a regular file owned by this user.
pub fn rewrite_owned(path: &Path, bytes: &[u8], mode: u32) -> io::Result<()> {
    use std::io::Write;
    let mut f = OpenOptions::new()
        .write(true)
        .create(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .mode(mode)
        .open(path)?;
    let md = f.metadata()?;
    if !md.file_type().is_file() || md.uid() != euid() {
        return Err(io::Error::new(
            io::ErrorKind::PermissionDenied,
            format!(
                "{}: not a regular file owned by this user; refusing to write it",
                path.display()
            ),
        ));
    }
    f.set_len(0)?;
    f.write_all(bytes)?;
    f.set_permissions(std::fs::Permissions::from_mode(mode))
}

fn euid() -> u32 {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
}

/// Makes a new directory `base/<prefix>XXXXXX` with a random suffix and mode 0700 (mkdtemp(3)):
/// never an existing directory, so nobody can prepare it in advance.
pub fn mkdtemp_in(base: &Path, prefix: &str) -> io::Result<PathBuf> {
    let mut template: OsString = base.join(prefix).into_os_string();
    template.push("XXXXXX");
    let c = CString::new(template.into_vec())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "path contains a NUL byte"))?;
    let raw = c.into_raw();
    // SAFETY: `raw` is a NUL-terminated buffer we own; mkdtemp rewrites the X's in place.
    let r = unsafe { libc::mkdtemp(raw) };
    // SAFETY: reclaims the buffer from into_raw (same length; mkdtemp never reallocates).
    let c = unsafe { CString::from_raw(raw) };
    if r.is_null() {
        return Err(io::Error::last_os_error());
    }
    Ok(PathBuf::from(OsString::from_vec(c.into_bytes())))
}

/// A directory that is to hold the tool's private files (journals, locks, reports): refused when
/// another user could write into it (group/world-writable) or it belongs to another user
/// (root-owned is accepted: root can read everything anyway). Symlinks are followed: what
/// matters is the directory the files land in.
pub fn check_private_dir(dir: &Path) -> Result<(), String> {
    let md = std::fs::metadata(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    if !md.is_dir() {
        return Err(format!("{}: not a directory", dir.display()));
    }
    let mode = md.mode() & 0o7777;
    if mode & 0o022 != 0 {
        return Err(format!(
            "{}: directory is writable by other users (mode {:o}); refusing to keep journals there \
             (use a private directory, e.g. chmod go-w, or pass another --journal path)",
            dir.display(),
            mode
        ));
    }
    let me = euid();
    if md.uid() != me && md.uid() != 0 {
        return Err(format!(
            "{}: directory is owned by uid {}, not by this user (uid {me}); refusing to keep journals there",
            dir.display(),
            md.uid()
        ));
    }
    Ok(())
}

/// True when the path's own entry (not what it points to) is a symlink.
pub fn is_symlink(path: &Path) -> bool {
    std::fs::symlink_metadata(path)
        .map(|m| m.file_type().is_symlink())
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("10"), Some(10));
        assert_eq!(parse_size("2K"), Some(2048));
        assert_eq!(parse_size("64m"), Some(64 << 20));
        assert_eq!(parse_size("1G"), Some(1 << 30));
        assert_eq!(parse_size("x"), None);
        assert_eq!(parse_size(""), None);
        assert_eq!(parse_size("99999999999999999999G"), None);
    }

    #[test]
    fn mkdtemp_is_private_and_fresh() {
        let base = tempfile::tempdir().unwrap();
        let a = mkdtemp_in(base.path(), "d-").unwrap();
        let b = mkdtemp_in(base.path(), "d-").unwrap();
        assert_ne!(a, b);
        let md = std::fs::metadata(&a).unwrap();
        assert_eq!(md.mode() & 0o777, 0o700);
        assert!(a.file_name().unwrap().to_string_lossy().starts_with("d-"));
    }

    #[test]
    fn create_new_refuses_symlink_and_existing() {
        let d = tempfile::tempdir().unwrap();
        let target = d.path().join("target");
        std::fs::write(&target, "keep").unwrap();
        let link = d.path().join("link");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        assert!(create_new(&link, 0o600).is_err());
        assert!(create_new(&target, 0o600).is_err());
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "keep");
        let f = d.path().join("new");
        create_new(&f, 0o600).unwrap();
        assert_eq!(std::fs::metadata(&f).unwrap().mode() & 0o777, 0o600);
    }

    #[test]
    fn rewrite_owned_refuses_symlink() {
        let d = tempfile::tempdir().unwrap();
        let target = d.path().join("target");
        std::fs::write(&target, "keep").unwrap();
        let link = d.path().join("link");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        assert!(rewrite_owned(&link, b"x", 0o600).is_err());
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "keep");
        rewrite_owned(&d.path().join("f"), b"abc", 0o600).unwrap();
        rewrite_owned(&d.path().join("f"), b"x", 0o600).unwrap();
        assert_eq!(std::fs::read(d.path().join("f")).unwrap(), b"x");
    }

    #[test]
    fn private_dir_rules() {
        let d = tempfile::tempdir().unwrap();
        check_private_dir(d.path()).unwrap();
        std::fs::set_permissions(d.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
        let e = check_private_dir(d.path()).unwrap_err();
        assert!(e.contains("writable by other users"), "{e}");
        assert!(e.contains(&d.path().display().to_string()), "{e}");
        std::fs::set_permissions(d.path(), std::fs::Permissions::from_mode(0o720)).unwrap();
        assert!(check_private_dir(d.path()).is_err());
    }

    #[test]
    fn caps_and_kinds() {
        let d = tempfile::tempdir().unwrap();
        let f = d.path().join("f");
        std::fs::write(&f, vec![b'a'; 100]).unwrap();
        assert_eq!(read_input_capped(&f, 100).unwrap().len(), 100);
        let e = read_input_capped(&f, 99).unwrap_err().to_string();
        assert!(e.contains("100 bytes") && e.contains("99-byte"), "{e}");
        let e = read_input_capped(d.path(), 99).unwrap_err().to_string();
        assert!(e.contains("a directory"), "{e}");
    }
}
