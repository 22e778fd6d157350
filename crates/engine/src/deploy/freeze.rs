//! The deployment freeze: a small JSON file whose presence means "do not deploy". Workflows
//! run `pm2-incident freeze check` (exit 1 while frozen) or `test ! -e FILE` before deploying.
//! Written atomically (a complete temp file renamed over the path), so two responders
//! freezing at once leave one whole file, never a mix; mode 0644 so the runner's user can
//! read it.
use serde::{Deserialize, Serialize};
use std::fs;
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use crate::runbook::inventory::Inventory;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Freeze {
    pub by: String,
    /// RFC 3339, UTC.
    pub at: String,
    pub reason: String,
    #[serde(default)]
    pub host: Option<String>,
    #[serde(default)]
    pub incident: Option<String>,
}

/// What the freeze file says now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FreezeState {
    NotFrozen,
    Frozen(Freeze),
    /// The file exists but its contents cannot be read or parsed: still frozen.
    FrozenUnreadable(String),
    /// Whether the file exists cannot be told (a directory this user cannot search).
    CannotTell(String),
}

impl FreezeState {
    pub fn frozen(&self) -> Option<bool> {
        match self {
            FreezeState::NotFrozen => Some(false),
            FreezeState::Frozen(_) | FreezeState::FrozenUnreadable(_) => Some(true),
            FreezeState::CannotTell(_) => None,
        }
    }
}

/// The freeze file of this inventory: its `deploy.freeze_file`, else `<state dir>/freeze.json`.
pub fn path_for(inv: &Inventory, state_dir: Option<&Path>) -> Option<PathBuf> {
    match &inv.deploy_settings().freeze_file {
        Some(p) => Some(PathBuf::from(p)),
        None => state_dir.map(|d| d.join("freeze.json")),
    }
}

/// Reads the freeze file (bounded; a FIFO or device is refused, not opened blocking).
pub fn read(path: &Path) -> FreezeState {
    match fs::symlink_metadata(path) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => FreezeState::NotFrozen,
        Err(e) => FreezeState::CannotTell(format!("{}: {e}", path.display())),
        Ok(_) => match crate::safe_fs::read_input_capped(path, 64 * 1024) {
            Err(e) => FreezeState::FrozenUnreadable(e.to_string()),
            Ok(bytes) => match serde_json::from_slice::<Freeze>(&bytes) {
                Ok(f) => FreezeState::Frozen(f),
                Err(e) => FreezeState::FrozenUnreadable(format!("{}: {e}", path.display())),
            },
        },
    }
}

/// Freezes: writes `f` to `path` atomically, mode 0644 (its directory is made 0755 if missing).
pub fn freeze(path: &Path, f: &Freeze) -> io::Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    if !dir.is_dir() {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o755)
            .create(dir)?;
    }
    let name = path.file_name().ok_or_else(|| {
        io::Error::new(io::ErrorKind::InvalidInput, "freeze path has no file name")
    })?;
    let mut body = serde_json::to_vec_pretty(f).map_err(io::Error::other)?;
    body.push(b'\n');
    // A unique temp name per writer: concurrent writers never share a temp file.
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let tmp = dir.join(format!(
        ".{}.{}.{nanos}.tmp",
        name.to_string_lossy(),
        std::process::id()
    ));
    let result = (|| {
        let mut file = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o644)
            .custom_flags(libc::O_NOFOLLOW)
            .open(&tmp)?;
        // The umask may have narrowed the mode; the runner's user must be able to read it.
        file.set_permissions(fs::Permissions::from_mode(0o644))?;
        file.write_all(&body)?;
        file.sync_all()?;
        fs::rename(&tmp, path)?;
        if let Ok(d) = fs::File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Lifts the freeze. `Ok(false)`: there was none.
pub fn thaw(path: &Path) -> io::Result<bool> {
    match fs::remove_file(path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e),
    }
}

/// One line for people: who froze deployments, when and why.
pub fn describe(state: &FreezeState, path: &Path) -> String {
    match state {
        FreezeState::NotFrozen => format!(
            "deployments are not frozen ({} does not exist)",
            path.display()
        ),
        FreezeState::Frozen(f) => format!(
            "deployments FROZEN by {} at {}{}: {}",
            f.by,
            f.at,
            f.host
                .as_deref()
                .map(|h| format!(" on {h}"))
                .unwrap_or_default(),
            f.reason
        ),
        FreezeState::FrozenUnreadable(e) => {
            format!("deployments FROZEN (the freeze file exists; its details cannot be read: {e})")
        }
        FreezeState::CannotTell(e) => format!("cannot tell whether deployments are frozen: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Freeze {
        Freeze {
            by: "alice".into(),
            at: "2026-02-17T04:12:00Z".into(),
            reason: "P1: sites down".into(),
            host: Some("web1".into()),
            incident: None,
        }
    }

    #[test]
    fn on_status_off() {
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join("sub/freeze.json");
        assert_eq!(read(&p), FreezeState::NotFrozen);
        freeze(&p, &sample()).unwrap();
        assert_eq!(read(&p), FreezeState::Frozen(sample()));
        assert_eq!(
            fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o644
        );
        assert!(describe(&read(&p), &p).contains("FROZEN by alice"));
        assert!(thaw(&p).unwrap());
        assert!(!thaw(&p).unwrap());
        assert_eq!(read(&p), FreezeState::NotFrozen);
    }

    #[test]
    fn garbage_is_still_frozen() {
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join("freeze.json");
        fs::write(&p, "not json").unwrap();
        assert_eq!(read(&p).frozen(), Some(true));
        assert!(matches!(read(&p), FreezeState::FrozenUnreadable(_)));
    }
}
