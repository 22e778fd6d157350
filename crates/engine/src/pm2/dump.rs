//! PM2's process lists as saved (`$PM2_HOME/dump.pm2`, `dump.pm2.bak`) or listed
//! (`getMonitorData`, `jlist`), read-only, through ONE allow-list: every caller (the app's
//! saved-list evidence and resurrect fit, `init`, `snapshot`, the remote probe, the live
//! launch list over rpc.sock) gets the same [`SavedProcess`] record.
//!
//! `pm2 save` writes one entry per process instance, each a `pm2_env`-like object that carries
//! every environment variable of the app twice (inside `env` and flattened at the top level; see
//! `shared/reference/pm2-dump-and-daemon.md`); a list entry nests the same keys in `pm2_env`.
//! The reader streams ([`super::skim`]): only the keys named below are read, every other value
//! is skipped unread, so no env value but the port keys and `NODE_ENV` reaches memory.
//! Errors name the file and the position, never the text there.
use super::home::Pm2Home;
use super::model::{ExecMode, ProcessStatus};
use super::skim::{self, Fields, Lite, ObjectOf};
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::marker::PhantomData;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// One process instance as PM2 saved (or lists) it: every allow-listed field any caller needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedProcess {
    pub name: String,
    pub namespace: Option<String>,
    /// The status it had when saved: `pm2 resurrect` brings it back in this state.
    pub status: ProcessStatus,
    pub exec_mode: Option<ExecMode>,
    /// Working directory (`pm_cwd`, else `cwd`).
    #[serde(default)]
    pub cwd: Option<String>,
    /// The script PM2 runs (`pm_exec_path`).
    #[serde(default)]
    pub script: Option<String>,
    /// The first of `PORT`, `HTTP_PORT`, `APP_PORT`, `SERVER_PORT` in `env`, else at the top.
    #[serde(default)]
    pub port: Option<u16>,
    /// `NODE_ENV`, only when it looks like an environment name ([`env_word`]).
    #[serde(default)]
    pub node_env: Option<String>,
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
    let list: ProcessList = serde_json::from_slice(bytes).map_err(|e| {
        // serde_json's message can quote the input (an env value); keep only the position.
        DumpError(format!(
            "not a PM2 saved list (JSON array of processes): {:?} error at line {} column {}",
            e.classify(),
            e.line(),
            e.column()
        ))
    })?;
    Ok((list.entries, list.unnamed))
}

/// A process list read through the allow-list (any deserializer: a file's bytes, the array
/// inside an RPC reply). An entry that is not an object fails the list: it is not PM2's.
#[derive(Debug, Default)]
pub struct ProcessList {
    pub entries: Vec<SavedProcess>,
    /// Entries without a usable name (counted, not kept).
    pub unnamed: usize,
}

impl<'de> Deserialize<'de> for ProcessList {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_seq(ListVisitor)
    }
}

struct ListVisitor;

impl<'de> Visitor<'de> for ListVisitor {
    type Value = ProcessList;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON array of processes")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<ProcessList, A::Error> {
        let mut list = ProcessList::default();
        while let Some(raw) = seq.next_element_seed(ObjectOf::<Raw>(PhantomData))? {
            let raw = raw.ok_or_else(|| de::Error::custom("a process is not an object"))?;
            match raw.into_process() {
                Some(p) => list.entries.push(p),
                None => list.unnamed += 1,
            }
        }
        Ok(list)
    }
}

/// Longest text field kept (a path, a name); longer is treated as absent.
const MAX_TEXT: usize = 4096;

fn text(v: Option<Lite>) -> Option<String> {
    match v {
        Some(Lite::Str(s)) if !s.is_empty() && s.len() <= MAX_TEXT => Some(s),
        _ => None,
    }
}

fn port_of(v: &Option<Lite>) -> Option<u16> {
    match Lite::given(v) {
        Some(Lite::U64(n)) => u16::try_from(*n).ok(),
        Some(Lite::Str(s)) => s.trim().parse::<u16>().ok(),
        _ => None,
    }
    .filter(|p| *p > 0)
}

/// `NODE_ENV` is kept only when it looks like an environment name (a longer or stranger
/// value may be a secret pasted into the wrong variable).
pub fn env_word(s: &str) -> Option<String> {
    (!s.is_empty()
        && s.len() <= 32
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'))
    .then(|| s.to_string())
}

/// The port keys and `NODE_ENV`, as read from an app's environment (`env`, or flattened).
#[derive(Default)]
struct PortEnv {
    /// `PORT`, `HTTP_PORT`, `APP_PORT`, `SERVER_PORT`, in this order of preference.
    ports: [Option<Lite>; 4],
    node_env: Option<Lite>,
}

impl Fields for PortEnv {
    const KEYS: &'static [&'static str] =
        &["PORT", "HTTP_PORT", "APP_PORT", "SERVER_PORT", "NODE_ENV"];
    fn read<'de, A: MapAccess<'de>>(&mut self, key: usize, map: &mut A) -> Result<(), A::Error> {
        let v = skim::lite(map)?;
        match key {
            0..=3 => self.ports[key] = v,
            _ => self.node_env = v,
        }
        Ok(())
    }
}

impl PortEnv {
    fn port(&self) -> Option<u16> {
        self.ports.iter().find_map(port_of)
    }
    fn node_env(&self) -> Option<String> {
        text(self.node_env.clone()).and_then(|s| env_word(&s))
    }
}

/// One entry's allow-listed keys as read: a saved entry is the `pm2_env` object itself; a
/// list entry nests it in `pm2_env` (then read from there, the name from either).
#[derive(Default)]
struct Raw {
    pm2_env: Option<Box<Raw>>,
    name: Option<Lite>,
    namespace: Option<Lite>,
    pm_cwd: Option<Lite>,
    cwd: Option<Lite>,
    pm_exec_path: Option<Lite>,
    exec_mode: Option<Lite>,
    status: Option<Lite>,
    /// The app's `env` object.
    env: Option<PortEnv>,
    /// The same keys flattened at the top level (how PM2 copies an app's environment).
    flat: PortEnv,
}

impl Fields for Raw {
    const KEYS: &'static [&'static str] = &[
        "pm2_env",
        "name",
        "namespace",
        "pm_cwd",
        "cwd",
        "pm_exec_path",
        "exec_mode",
        "status",
        "env",
        "PORT",
        "HTTP_PORT",
        "APP_PORT",
        "SERVER_PORT",
        "NODE_ENV",
    ];
    fn read<'de, A: MapAccess<'de>>(&mut self, key: usize, map: &mut A) -> Result<(), A::Error> {
        match key {
            0 => self.pm2_env = skim::object::<Raw, _>(map)?.map(Box::new),
            8 => self.env = skim::object(map)?,
            9.. => self.flat.read(key - 9, map)?,
            _ => {
                let v = skim::lite(map)?;
                match key {
                    1 => self.name = v,
                    2 => self.namespace = v,
                    3 => self.pm_cwd = v,
                    4 => self.cwd = v,
                    5 => self.pm_exec_path = v,
                    6 => self.exec_mode = v,
                    _ => self.status = v,
                }
            }
        }
        Ok(())
    }
}

impl Raw {
    /// The record, `None` without a usable name.
    fn into_process(mut self) -> Option<SavedProcess> {
        let top_name = self.name.take();
        let env = match self.pm2_env.take() {
            Some(inner) => *inner,
            None => self,
        };
        let name = text(top_name).or_else(|| text(env.name))?;
        let env_port = env.env.as_ref().and_then(PortEnv::port);
        let env_node = env.env.as_ref().and_then(PortEnv::node_env);
        Some(SavedProcess {
            name,
            namespace: text(env.namespace),
            status: text(env.status)
                .map(|s| ProcessStatus::parse(&s))
                .unwrap_or(ProcessStatus::Unknown("unknown".into())),
            exec_mode: text(env.exec_mode).map(|m| ExecMode::parse(&m)),
            cwd: text(env.pm_cwd).or_else(|| text(env.cwd)),
            script: text(env.pm_exec_path),
            port: env_port.or_else(|| env.flat.port()),
            node_env: env_node.or_else(|| env.flat.node_env()),
        })
    }
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

    /// The fields `init` needs, from both shapes: a list entry (`pm2_env` nested, the port in
    /// `env` preferred to a flattened copy) and a saved entry (the `pm2_env` object itself).
    #[test]
    fn keeps_launch_fields_ports_and_node_env_never_other_values() {
        let jlist = br#"[{"name":"shop-web","pm_id":0,"pm2_env":{"name":"shop-web","pm_cwd":"/srv/shop",
          "pm_exec_path":"/srv/shop/web.js","exec_mode":"cluster_mode","status":"online","namespace":"default",
          "SECRET":"canary-123","PORT":"9999","env":{"PORT":"8080","SECRET":"canary-123","NODE_ENV":"production"}}}]"#;
        let (l, _) = parse_saved_list(jlist).unwrap();
        assert_eq!(l[0].port, Some(8080));
        assert_eq!(l[0].node_env.as_deref(), Some("production"));
        assert_eq!(l[0].exec_mode, Some(ExecMode::Cluster));
        assert_eq!(l[0].cwd.as_deref(), Some("/srv/shop"));
        assert_eq!(l[0].script.as_deref(), Some("/srv/shop/web.js"));
        assert_eq!(l[0].status, ProcessStatus::Online);
        assert!(!format!("{l:?}").contains("canary"));
        let dump =
            br#"[{"name":"q","pm_cwd":"/srv/q","status":"stopped","PORT":3001,"TOKEN":"canary"},
                 {"name":"cron","cwd":"/srv/c","NODE_ENV":"staging"}]"#;
        let (l, _) = parse_saved_list(dump).unwrap();
        assert_eq!(l[0].port, Some(3001));
        assert_eq!(l[1].port, None);
        assert_eq!(l[1].cwd.as_deref(), Some("/srv/c"));
        assert_eq!(l[1].node_env.as_deref(), Some("staging"));
    }

    /// Shapes no PM2 writes: what is not a list of objects fails (a guess is not a saved
    /// list); odd values inside an entry are absent, not errors; nothing is quoted.
    #[test]
    fn hostile_shapes_fail_or_are_absent_never_quoted() {
        for bad in [
            &b"{}"[..],
            b"[1]",
            b"[{\"name\":\"a\"},\"cnry-7\"]",
            b"\"cnry-7\"",
        ] {
            let e = parse_saved_list(bad).unwrap_err().to_string();
            assert!(e.contains("line 1"), "{e}");
            assert!(!e.contains("cnry"), "{e}");
        }
        let odd = br#"[{"name":"a","env":"cnry-1","pm2_env":7,"PORT":-3,"NODE_ENV":"cnry 2 with spaces",
                        "pm_cwd":["cnry-3"],"status":{"s":"cnry-4"}},
                       {"name":"","pm2_env":{"name":"b","env":{"PORT":70000,"HTTP_PORT":" 81 "}}}]"#;
        let (l, unnamed) = parse_saved_list(odd).unwrap();
        assert_eq!(unnamed, 0);
        assert_eq!(
            (l[0].port, l[0].node_env.as_deref(), l[0].cwd.as_deref()),
            (None, None, None)
        );
        assert_eq!(l[0].status, ProcessStatus::Unknown("unknown".into()));
        assert_eq!((l[1].name.as_str(), l[1].port), ("b", Some(81)));
        assert!(!format!("{l:?}").contains("cnry"));
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
