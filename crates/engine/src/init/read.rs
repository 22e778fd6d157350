//! The I/O of `init`, all of it read-only: PM2's live list over rpc.sock (never the
//! `pm2` CLI, which would start a daemon), the saved list in `$PM2_HOME`, and
//! ecosystem files evaluated by Node in a child process with a timeout. Every
//! reader keeps only an allow-list (names, cwd, exec mode, port keys,
//! NODE_ENV); other environment values never reach this process from Node, and
//! are skipped unread from PM2's replies.
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde::Deserialize;

use super::propose::{Fact, FactSource};
use crate::pm2::dump::{env_word, parse_saved_list};
use crate::pm2::{probe_daemon, DaemonState, Pm2Home, RpcClient, RpcOptions};
use crate::pm2::{ExecMode, ProcessStatus, SavedProcess};

/// What PM2 said, for the summary.
#[derive(Debug, Clone)]
pub struct Pm2Read {
    pub daemon: DaemonState,
    pub live: Option<Vec<SavedProcess>>,
    /// The saved list and the file it came from.
    pub saved: Option<(PathBuf, Vec<SavedProcess>)>,
    pub notes: Vec<String>,
}

pub fn read_pm2(home: &Pm2Home) -> Pm2Read {
    let daemon = probe_daemon(home);
    let mut notes = Vec::new();
    let live = match &daemon {
        DaemonState::Up { .. } => {
            match RpcClient::connect(home.rpc_socket(), RpcOptions::default())
                .and_then(|mut c| c.launches())
            {
                Ok(l) => Some(l),
                Err(e) => {
                    notes.push(format!("the live list could not be read: {e}"));
                    None
                }
            }
        }
        other => {
            notes.push(format!(
                "PM2 daemon {other}: no live list (the saved list and ecosystem files are read)"
            ));
            None
        }
    };
    let saved = read_saved(home.dir(), &mut notes);
    Pm2Read {
        daemon,
        live,
        saved,
        notes,
    }
}

/// The saved-list files `init` reads, in order: `dump.pm2`, else `dump.pm2.bak` (when the
/// first is missing, empty or unreadable).
pub const SAVED_FILES: [&str; 2] = ["dump.pm2", "dump.pm2.bak"];

/// `dump.pm2`, else `dump.pm2.bak` (when the first is missing, empty or unreadable).
pub fn read_saved(dir: &Path, notes: &mut Vec<String>) -> Option<(PathBuf, Vec<SavedProcess>)> {
    saved_from(dir, notes, crate::pm2::dump::read_dump_bytes)
}

/// [`read_saved`] with the bytes read by `read` (`Ok(None)`: no such file): locally, or on
/// a server over ssh. Read by the one saved-list reader ([`parse_saved_list`]).
pub fn saved_from(
    dir: &Path,
    notes: &mut Vec<String>,
    mut read: impl FnMut(&Path) -> Result<Option<Vec<u8>>, String>,
) -> Option<(PathBuf, Vec<SavedProcess>)> {
    for name in SAVED_FILES {
        let path = dir.join(name);
        let bytes = match read(&path) {
            Ok(Some(b)) => b,
            Ok(None) => continue,
            Err(e) => {
                notes.push(format!("{e}: not read"));
                continue;
            }
        };
        match parse_saved_list(&bytes) {
            Ok((list, _unnamed)) if !list.is_empty() => return Some((path, list)),
            Ok(_) => notes.push(format!("{} is an empty list", path.display())),
            Err(e) => notes.push(format!("{} cannot be read: {e}", path.display())),
        }
    }
    None
}

/// Ecosystem files next to the apps: `ecosystem*.config.{js,cjs,mjs,json}` and
/// `*.config.cjs` in each working directory.
pub fn ecosystem_candidates(dirs: &[String]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for d in dirs {
        let Ok(entries) = std::fs::read_dir(d) else {
            continue;
        };
        let mut found: Vec<PathBuf> = entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| {
                let n = p
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                let eco = n.starts_with("ecosystem")
                    && [".config.js", ".config.cjs", ".config.mjs", ".config.json"]
                        .iter()
                        .any(|s| n.ends_with(s));
                (eco || n.ends_with(".config.cjs")) && p.is_file()
            })
            .collect();
        found.sort();
        for f in found {
            if !out.contains(&f) {
                out.push(f);
            }
        }
    }
    out
}

/// Runs inside Node: loads the file the way PM2 does (require, or import for ESM)
/// and prints only the allow-listed fields of each app (run here, or on a server over ssh).
pub const NODE_READER: &str = r#"
const f = process.argv[1];
const keys = ['PORT', 'HTTP_PORT', 'APP_PORT', 'SERVER_PORT'];
const s = v => (v === undefined || v === null || v === '') ? null : String(v);
(async () => {
  let m;
  try { m = require(f); } catch (e) {
    if (e && (e.code === 'ERR_REQUIRE_ESM' || e.code === 'ERR_REQUIRE_ASYNC_MODULE')) { m = await import('file://' + f); } else { throw e; }
  }
  if (m && m.default) m = m.default;
  let apps = Array.isArray(m) ? m : (m && m.apps) || [];
  if (!Array.isArray(apps)) apps = [apps];
  const out = apps.filter(a => a && a.name).map(a => {
    const env = (a.env && typeof a.env === 'object') ? a.env : {};
    const port = keys.map(k => env[k]).find(v => s(v) !== null);
    return { name: String(a.name), cwd: s(a.cwd), script: s(a.script), exec_mode: s(a.exec_mode),
             namespace: s(a.namespace), port: s(port), node_env: s(env.NODE_ENV) };
  });
  process.stdout.write(JSON.stringify(out));
})().catch(e => { process.stderr.write(String((e && e.message) || e).slice(0, 300)); process.exit(2); });
"#;

#[derive(Deserialize)]
struct NodeApp {
    name: String,
    cwd: Option<String>,
    script: Option<String>,
    exec_mode: Option<String>,
    namespace: Option<String>,
    port: Option<String>,
    node_env: Option<String>,
}

/// The apps an ecosystem file declares, read by `node` within `timeout`.
pub fn read_ecosystem(file: &Path, node: &Path, timeout: Duration) -> Result<Vec<Fact>, String> {
    let file = std::fs::canonicalize(file).map_err(|e| format!("{}: {e}", file.display()))?;
    let dir = file.parent().unwrap_or(Path::new("/")).to_path_buf();
    let mut child = Command::new(node)
        .arg("-e")
        .arg(NODE_READER)
        .arg(&file)
        .current_dir(&dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run {}: {e}", node.display()))?;
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().map_err(|e| e.to_string())? {
            break s;
        }
        if start.elapsed() > timeout {
            // Our own child, by its pid.
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!(
                "{}: node did not finish within {timeout:?}",
                file.display()
            ));
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut out = Vec::new();
    let mut err = String::new();
    if let Some(mut s) = child.stdout.take() {
        let _ = s.by_ref().take(4 << 20).read_to_end(&mut out);
    }
    if let Some(mut s) = child.stderr.take() {
        let _ = s.by_ref().take(4096).read_to_string(&mut err);
    }
    if !status.success() {
        return Err(format!("{}: {}", file.display(), err.trim()));
    }
    facts_from_reader(&file, &out)
}

/// The reader's JSON for `file` (an absolute path) as facts: an app's `cwd` is relative
/// to the file's directory. Pure.
pub fn facts_from_reader(file: &Path, out: &[u8]) -> Result<Vec<Fact>, String> {
    let dir = file.parent().unwrap_or(Path::new("/")).to_path_buf();
    let apps: Vec<NodeApp> = serde_json::from_slice(out)
        .map_err(|e| format!("{}: unexpected reader output: {e}", file.display()))?;
    Ok(apps
        .into_iter()
        .map(|a| Fact {
            launch: SavedProcess {
                cwd: Some(
                    a.cwd
                        .map(|c| dir.join(c).display().to_string())
                        .unwrap_or_else(|| dir.display().to_string()),
                ),
                name: a.name,
                namespace: a.namespace,
                script: a.script,
                exec_mode: a.exec_mode.map(|m| ExecMode::from_config(&m)),
                // A file declares apps; whether they run is not its to say.
                status: ProcessStatus::Unknown("unknown".into()),
                port: a
                    .port
                    .and_then(|p| p.trim().parse().ok())
                    .filter(|p: &u16| *p > 0),
                node_env: a.node_env.as_deref().and_then(env_word),
            },
            source: FactSource::Ecosystem(file.to_path_buf()),
        })
        .collect())
}
