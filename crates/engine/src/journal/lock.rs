//! The driver lock: `<journal>.lock` says who is driving the incident (user, host, pid).
//! A second responder is told who it is and gets a read-only view instead of a second writer.
//! Taken atomically: the content is written to a private temp file, then hard-linked into place
//! (link fails if the lock exists), so nobody ever sees a half-written lock.
use super::JournalError;
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockInfo {
    pub user: String,
    pub host: String,
    pub pid: u32,
    /// When the driver took the lock (RFC 3339 UTC).
    #[serde(default)]
    pub since: String,
}

impl std::fmt::Display for LockInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}@{} (pid {}) since {}",
            self.user, self.host, self.pid, self.since
        )
    }
}

impl LockInfo {
    /// This process's identity; `since` is passed in (the caller's clock).
    pub fn current(since: &str) -> LockInfo {
        LockInfo {
            user: current_user(),
            host: current_host(),
            pid: std::process::id(),
            since: since.to_string(),
        }
    }
}

#[derive(Debug)]
pub enum Acquire {
    /// We drive; the lock is removed when this is dropped.
    Driver(DriverLock),
    /// Someone else drives: open read-only and tell the user who.
    ReadOnly(LockInfo),
}

#[derive(Debug)]
pub struct DriverLock {
    path: PathBuf,
    info: LockInfo,
}

impl DriverLock {
    pub fn info(&self) -> &LockInfo {
        &self.info
    }
}

impl Drop for DriverLock {
    fn drop(&mut self) {
        // Only remove it if it is still ours (not taken over after we were presumed dead).
        if read_lock(&self.path).ok().flatten().as_ref() == Some(&self.info) {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

pub fn lock_path(journal: &Path) -> PathBuf {
    let mut s = journal.as_os_str().to_owned();
    s.push(".lock");
    PathBuf::from(s)
}

/// Takes the driver lock for `journal`, or reports who holds it. A lock left by a dead process
/// on this host is taken over; one from another host is respected (its pid cannot be checked).
pub fn acquire(journal: &Path, me: &LockInfo) -> Result<Acquire, JournalError> {
    let path = lock_path(journal);
    let tmp = PathBuf::from(format!("{}.{}.tmp", path.display(), me.pid));
    let body = serde_json::to_vec(me).map_err(|e| JournalError::Invalid {
        path: path.display().to_string(),
        message: e.to_string(),
    })?;
    {
        let _ = std::fs::remove_file(&tmp);
        let mut f = super::paths::create_private(&tmp).map_err(|e| JournalError::io(&tmp, e))?;
        f.write_all(&body)
            .and_then(|_| f.sync_data())
            .map_err(|e| JournalError::io(&tmp, e))?;
    }
    let result = (|| {
        for _ in 0..2 {
            match std::fs::hard_link(&tmp, &path) {
                Ok(()) => {
                    return Ok(Acquire::Driver(DriverLock {
                        path: path.clone(),
                        info: me.clone(),
                    }))
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(JournalError::io(&path, e)),
            }
            match read_lock(&path).map_err(|e| JournalError::io(&path, e))? {
                Some(holder) if !is_stale(&holder, me) => return Ok(Acquire::ReadOnly(holder)),
                // Stale or unreadable (written by something else): take it over once.
                _ => {
                    let _ = std::fs::remove_file(&path);
                }
            }
        }
        match read_lock(&path).map_err(|e| JournalError::io(&path, e))? {
            Some(holder) => Ok(Acquire::ReadOnly(holder)),
            None => Err(JournalError::Invalid {
                path: path.display().to_string(),
                message: "lock file could not be taken".into(),
            }),
        }
    })();
    let _ = std::fs::remove_file(&tmp);
    result
}

fn read_lock(path: &Path) -> std::io::Result<Option<LockInfo>> {
    match std::fs::read(path) {
        Ok(b) => Ok(serde_json::from_slice(&b).ok()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

fn is_stale(holder: &LockInfo, me: &LockInfo) -> bool {
    holder.host == me.host && !pid_alive(holder.pid)
}

fn pid_alive(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return false;
    };
    if pid <= 0 {
        return false;
    }
    // Signal 0 checks existence; EPERM means it exists but belongs to someone else.
    let r = unsafe { libc::kill(pid, 0) };
    r == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

fn current_user() -> String {
    if let Some(u) = ["USER", "LOGNAME"]
        .iter()
        .find_map(|k| std::env::var(k).ok().filter(|s| !s.is_empty()))
    {
        return u;
    }
    let uid = unsafe { libc::getuid() };
    account_name(uid).unwrap_or_else(|| format!("uid{uid}"))
}

/// The account name of a uid from the password database (`getpwuid_r`), `None` when the
/// uid has no entry (a container with an unlisted uid).
pub fn account_name(uid: libc::uid_t) -> Option<String> {
    let mut buf = vec![0u8; 4096];
    // SAFETY: passwd is plain data; getpwuid_r writes into `pwd` and `buf` only, and `result`
    // points at `pwd` on success. The name is copied out before `buf` is dropped.
    unsafe {
        let mut pwd: libc::passwd = std::mem::zeroed();
        let mut result: *mut libc::passwd = std::ptr::null_mut();
        let r = libc::getpwuid_r(
            uid,
            &mut pwd,
            buf.as_mut_ptr().cast(),
            buf.len(),
            &mut result,
        );
        if r != 0 || result.is_null() || pwd.pw_name.is_null() {
            return None;
        }
        let name = std::ffi::CStr::from_ptr(pwd.pw_name)
            .to_string_lossy()
            .into_owned();
        Some(name).filter(|n| !n.is_empty())
    }
}

/// This process's account name from the password database.
pub fn this_account() -> Option<String> {
    account_name(unsafe { libc::getuid() })
}

fn current_host() -> String {
    let mut buf = [0u8; 256];
    let r = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    if r != 0 {
        return "unknown-host".into();
    }
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..end]).into_owned()
}
