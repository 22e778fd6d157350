//! The saved list: `$PM2_HOME/dump.pm2` (and `dump.pm2.bak`), read-only.
//!
//! `pm2 save` writes one entry per process instance, each a `pm2_env`-like object that carries
//! every environment variable of the app twice (inside `env` and flattened at the top level; see
//! `shared/reference/pm2-dump-and-daemon.md`). Like the `jlist` parser, the raw shape below names
//! only the fields kept; serde skips the rest unread, so no env value reaches these types.
//! Errors name the file and the position, never the text there.
use super::home::Pm2Home;
use super::model::{lenient_string, ExecMode, ProcessStatus};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// One saved process instance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedProcess {
    pub name: String,
    pub namespace: Option<String>,
    /// The status it had when saved: `pm2 resurrect` brings it back in this state.
    pub status: ProcessStatus,
    pub exec_mode: Option<ExecMode>,
}

/// What `dump.pm2` holds, with when it was written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedList {
    pub path: PathBuf,
    pub entries: Vec<SavedProcess>,
    /// Entries without a usable name (counted, not shown).
    pub unnamed: usize,
    /// The file's mtime (ms since the epoch): when `pm2 save` last ran.
    pub saved_at_ms: Option<i64>,
}

impl SavedList {
    /// Distinct app names in file order (a cluster app has one entry per instance).
    pub fn apps(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for e in &self.entries {
            if !out.contains(&e.name) {
                out.push(e.name.clone());
            }
        }
        out
    }

    /// Whether `name` is saved, and whether every saved instance of it was online.
    pub fn saved_online(&self, name: &str) -> Option<bool> {
        let mine: Vec<&SavedProcess> = self.entries.iter().filter(|e| e.name == name).collect();
        (!mine.is_empty()).then(|| mine.iter().all(|e| e.status == ProcessStatus::Online))
    }

    /// "saved 3 d ago" relative to `now_ms`; "saved at an unknown time" without an mtime.
    pub fn age_label(&self, now_ms: i64) -> String {
        match self.saved_at_ms {
            Some(t) => format!("saved {} ago", human_age((now_ms - t).max(0) / 1000)),
            None => "saved at an unknown time".into(),
        }
    }
}

/// What reading the saved list gave.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum SavedRead {
    /// No `dump.pm2`: `pm2 save` never ran (or `cleardump`); `pm2 resurrect` restores nothing.
    Missing {
        path: PathBuf,
    },
    Read(SavedList),
    /// The file exists but could not be read or parsed; says why (never its contents).
    Unreadable {
        path: PathBuf,
        reason: String,
    },
}

impl SavedRead {
    pub fn list(&self) -> Option<&SavedList> {
        match self {
            SavedRead::Read(l) => Some(l),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct DumpError(String);

/// The saved list of a PM2 home (`dump.pm2`).
pub fn read_saved_list(home: &Pm2Home) -> SavedRead {
    read_dump_file(&dump_path(home))
}

pub fn dump_path(home: &Pm2Home) -> PathBuf {
    home.dir().join("dump.pm2")
}

pub fn dump_bak_path(home: &Pm2Home) -> PathBuf {
    home.dir().join("dump.pm2.bak")
}

/// A dump file's bytes: `Ok(None)` when it does not exist. Read as an input (regular file
/// only, opened without blocking, size-capped): a FIFO or device named `dump.pm2` must not
/// hang the poller, `snapshot` or `init`. The error names the file, never its content.
pub fn read_dump_bytes(path: &Path) -> Result<Option<Vec<u8>>, String> {
    match crate::safe_fs::read_input(path) {
        Ok(b) => Ok(Some(b)),
        Err(crate::safe_fs::InputError::Io { source, .. })
            if source.kind() == std::io::ErrorKind::NotFound =>
        {
            Ok(None)
        }
        Err(crate::safe_fs::InputError::Io { source, .. }) => {
            Err(format!("{}: {}", path.display(), source.kind()))
        }
        Err(e) => Err(e.to_string()),
    }
}

/// Read one dump file (the saved list or its `.bak`).
pub fn read_dump_file(path: &Path) -> SavedRead {
    let bytes = match read_dump_bytes(path) {
        Ok(Some(b)) => b,
        Ok(None) => {
            return SavedRead::Missing {
                path: path.to_path_buf(),
            }
        }
        Err(reason) => {
            return SavedRead::Unreadable {
                path: path.to_path_buf(),
                reason,
            }
        }
    };
    let saved_at_ms = std::fs::metadata(path)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.duration_since(SystemTime::UNIX_EPOCH).ok())
        .map(|d| d.as_millis() as i64);
    match parse_saved_list(&bytes) {
        Ok((entries, unnamed)) => SavedRead::Read(SavedList {
            path: path.to_path_buf(),
            entries,
            unnamed,
            saved_at_ms,
        }),
        Err(e) => SavedRead::Unreadable {
            path: path.to_path_buf(),
            reason: format!("{}: {e}", path.display()),
        },
    }
}

/// Parse a dump's bytes: the kept entries and how many had no name.
pub fn parse_saved_list(bytes: &[u8]) -> Result<(Vec<SavedProcess>, usize), DumpError> {
    // PM2 writes an empty file when nothing was ever saved in some versions: an empty list.
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok((vec![], 0));
    }
    let raw: Vec<RawEntry> = serde_json::from_slice(bytes).map_err(|e| {
        // serde_json's message can quote the input (an env value); keep only the position.
        DumpError(format!(
            "not a PM2 saved list (JSON array of processes): {:?} error at line {} column {}",
            e.classify(),
            e.line(),
            e.column()
        ))
    })?;
    let mut unnamed = 0;
    let mut out = Vec::new();
    for r in raw {
        match r.name.filter(|n| !n.is_empty()) {
            Some(name) => out.push(SavedProcess {
                name,
                namespace: r.namespace,
                status: r
                    .status
                    .map(|s| ProcessStatus::parse(&s))
                    .unwrap_or(ProcessStatus::Unknown("unknown".into())),
                exec_mode: r.exec_mode.map(|m| ExecMode::parse(&m)),
            }),
            None => unnamed += 1,
        }
    }
    Ok((out, unnamed))
}

/// "40 s", "12 min", "5 h", "3 d".
pub fn human_age(secs: i64) -> String {
    match secs {
        s if s < 120 => format!("{s} s"),
        s if s < 2 * 3600 => format!("{} min", s / 60),
        s if s < 2 * 86400 => format!("{} h", s / 3600),
        s => format!("{} d", s / 86400),
    }
}

// Env vars are flattened to the top level, so one may shadow these names with another type:
// the lenient readers turn that into `None` instead of failing the whole list.
#[derive(Deserialize)]
struct RawEntry {
    #[serde(default, deserialize_with = "lenient_string")]
    name: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    namespace: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    status: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    exec_mode: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_names_and_statuses_never_env() {
        let src = br#"[
          {"name":"api","namespace":"default","status":"online","exec_mode":"cluster_mode",
           "SECRET_TOKEN":"cnry-123","env":{"SECRET_TOKEN":"cnry-123"}},
          {"name":"api","status":"online","exec_mode":"cluster_mode"},
          {"name":"worker","status":"stopped","exec_mode":"fork_mode"},
          {"status":"online"}
        ]"#;
        let (list, unnamed) = parse_saved_list(src).unwrap();
        assert_eq!(unnamed, 1);
        assert_eq!(list.len(), 3);
        assert_eq!(list[2].status, ProcessStatus::Stopped);
        let l = SavedList {
            path: "d".into(),
            entries: list,
            unnamed,
            saved_at_ms: Some(0),
        };
        assert_eq!(l.apps(), vec!["api", "worker"]);
        assert_eq!(l.saved_online("api"), Some(true));
        assert_eq!(l.saved_online("worker"), Some(false));
        assert_eq!(l.saved_online("gone"), None);
        let json = serde_json::to_string(&l).unwrap();
        assert!(!json.contains("cnry-123"), "{json}");
        assert_eq!(l.age_label(3 * 86400 * 1000 + 5), "saved 3 d ago");
    }

    #[test]
    fn shadowing_env_var_of_another_type_does_not_fail_the_list() {
        let src = br#"[{"name":"api","status":42,"exec_mode":{"x":1}}]"#;
        let (list, _) = parse_saved_list(src).unwrap();
        assert_eq!(list[0].name, "api");
        assert_eq!(list[0].status, ProcessStatus::Unknown("unknown".into()));
    }

    #[test]
    fn bad_json_names_position_not_content() {
        let e = parse_saved_list(br#"[{"name":"x","TOKEN":"cnry-9"} oops"#).unwrap_err();
        let s = e.to_string();
        assert!(s.contains("line 1"), "{s}");
        assert!(!s.contains("cnry-9") && !s.contains("oops"), "{s}");
        assert_eq!(parse_saved_list(b"  \n").unwrap().0.len(), 0);
    }

    #[test]
    fn missing_and_unreadable_files_say_so() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("dump.pm2");
        assert!(matches!(read_dump_file(&p), SavedRead::Missing { .. }));
        std::fs::write(&p, "{\"not\":\"an array\"}").unwrap();
        match read_dump_file(&p) {
            SavedRead::Unreadable { reason, .. } => {
                assert!(reason.contains("dump.pm2"), "{reason}")
            }
            other => panic!("{other:?}"),
        }
    }
}
