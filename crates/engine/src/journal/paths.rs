//! Where journals live: `$XDG_STATE_HOME/pm2-incident/` or `~/.local/state/pm2-incident/`,
//! directories 0700 and files 0600 (journals hold commands and output from a production box).
use std::fs::{self, DirBuilder, File};
use std::io;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// The default journal directory, from the environment as given.
pub fn default_dir(xdg_state_home: Option<&str>, home: Option<&str>) -> Option<PathBuf> {
    match (
        xdg_state_home.filter(|s| !s.is_empty()),
        home.filter(|s| !s.is_empty()),
    ) {
        (Some(x), _) => Some(Path::new(x).join("pm2-incident")),
        (None, Some(h)) => Some(Path::new(h).join(".local/state/pm2-incident")),
        (None, None) => None,
    }
}

/// `default_dir` from this process's environment.
pub fn default_dir_from_env() -> Option<PathBuf> {
    default_dir(
        std::env::var("XDG_STATE_HOME").ok().as_deref(),
        std::env::var("HOME").ok().as_deref(),
    )
}

/// A new incident's id from `base` (e.g. `INC-20260217-041200`) whose journal does not yet
/// exist in `dir`: `base`, else `base-2`, `base-3`, … Two incidents (or drills) opened in the
/// same second get two journals; the journal is then created with O_EXCL, so a file that
/// appears in between is still refused, never overwritten.
pub fn unused_incident_id(dir: &Path, base: &str) -> String {
    let taken = |id: &str| std::fs::symlink_metadata(dir.join(journal_file_name(id))).is_ok();
    if !taken(base) {
        return base.to_string();
    }
    (2u32..)
        .map(|n| format!("{base}-{n}"))
        .find(|id| !taken(id))
        .unwrap_or_else(|| base.to_string())
}

/// File name for a new incident's journal, e.g. `INC-20260217-0412.jsonl`.
pub fn journal_file_name(incident_id: &str) -> String {
    let safe: String = incident_id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("{safe}.jsonl")
}

/// Creates the directory (and parents) with mode 0700; an existing one is left as it is.
pub fn ensure_dir(dir: &Path) -> io::Result<()> {
    if dir.as_os_str().is_empty() || dir.is_dir() {
        return Ok(());
    }
    DirBuilder::new().recursive(true).mode(0o700).create(dir)?;
    // The umask may have narrowed or `recursive` may have made parents; make the leaf exact.
    fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
}

/// Creates a new file 0600 for reading and appending; fails if it exists.
pub fn create_private(path: &Path) -> io::Result<File> {
    if let Some(parent) = path.parent() {
        ensure_dir(parent)?;
    }
    crate::safe_fs::create_new(path, 0o600)
}

/// The directory a journal goes in: created 0700 if missing, and refused when another user
/// could write into it or owns it (they could plant the lock or swap the file).
pub fn ensure_journal_dir(dir: &Path) -> Result<(), String> {
    ensure_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    crate::safe_fs::check_private_dir(dir)
}

/// [`ensure_journal_dir`] for the directory holding `journal` (`.` when it has none).
pub fn check_journal_parent(journal: &Path) -> Result<(), String> {
    match journal.parent().filter(|d| !d.as_os_str().is_empty()) {
        Some(d) => ensure_journal_dir(d),
        None => crate::safe_fs::check_private_dir(Path::new(".")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xdg_first_then_home() {
        assert_eq!(
            default_dir(Some("/x"), Some("/h")),
            Some(PathBuf::from("/x/pm2-incident"))
        );
        assert_eq!(
            default_dir(Some(""), Some("/h")),
            Some(PathBuf::from("/h/.local/state/pm2-incident"))
        );
        assert_eq!(default_dir(None, None), None);
        assert_eq!(journal_file_name("INC 1/../x"), "INC_1____x.jsonl");
    }
}

#[cfg(test)]
mod unused_id_tests {
    use super::*;

    #[test]
    fn a_second_incident_in_the_same_second_gets_its_own_journal() {
        let d = tempfile::tempdir().unwrap();
        assert_eq!(unused_incident_id(d.path(), "INC-1"), "INC-1");
        std::fs::write(d.path().join(journal_file_name("INC-1")), "").unwrap();
        assert_eq!(unused_incident_id(d.path(), "INC-1"), "INC-1-2");
        std::fs::write(d.path().join(journal_file_name("INC-1-2")), "").unwrap();
        assert_eq!(unused_incident_id(d.path(), "INC-1"), "INC-1-3");
    }
}
