//! Progress over time: each drill's debrief figures, one JSON line per drill, appended
//! to `$XDG_STATE_HOME/pm2-incident/drills.jsonl` (0600). Reading reports a bad line by
//! `file:line` and keeps going; nothing here ever rewrites the file, so a corrupt line
//! stays for a human to look at.
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::debrief::Debrief;
use super::scenario::ExpectedSeverity;
use crate::incident::event::Severity;
use crate::runbook::Environment;

pub const FILE_NAME: &str = "drills.jsonl";
/// Bumped when a field changes meaning; older lines stay readable.
pub const VERSION: u32 = 1;

/// Where the drill ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum World {
    Simulated,
    Sandbox,
}

/// One production process the scenario took down, and when it came back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RestoreTime {
    pub process: String,
    /// Seconds from the start; `None`: not back when the drill ended.
    pub after_secs: Option<i64>,
}

/// One drill's figures.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    pub v: u32,
    pub at: DateTime<Utc>,
    pub responder: String,
    pub scenario: String,
    /// The inventory's site the drill was built from.
    pub site: String,
    pub world: World,
    pub duration_secs: i64,
    pub severity_after_secs: Option<i64>,
    pub severity_called: Option<Severity>,
    pub severity_expected: ExpectedSeverity,
    pub severity_correct: Option<bool>,
    /// Production processes seen down, in the inventory's restore order.
    pub production_restores: Vec<RestoreTime>,
    pub priority_order_followed: Option<bool>,
    pub gate_respected: Option<bool>,
    pub dangerous_attempts: usize,
    pub cautions_confirmed: usize,
    pub empty_daemon_starts: usize,
    pub evidence_saved_after_secs: Option<i64>,
    pub evidence_saved_before_changes: bool,
    pub comms_sent: usize,
    pub root_cause_named: bool,
    /// The drill's journal, for the full story.
    #[serde(default)]
    pub journal: Option<String>,
}

impl Record {
    pub fn from_debrief(
        d: &Debrief,
        called: Option<Severity>,
        expected: ExpectedSeverity,
        who: Who,
    ) -> Record {
        Record {
            v: VERSION,
            at: who.at,
            responder: who.responder,
            scenario: d.scenario.clone(),
            site: who.site,
            world: who.world,
            duration_secs: d.duration_secs,
            severity_after_secs: d.severity.as_ref().map(|s| s.after_secs),
            severity_called: called,
            severity_expected: expected,
            severity_correct: d.severity.as_ref().map(|s| s.correct),
            production_restores: d
                .restores
                .iter()
                .filter(|r| r.affected && r.environment == Environment::Production)
                .map(|r| RestoreTime {
                    process: r.process.clone(),
                    after_secs: r.restored_after_secs,
                })
                .collect(),
            priority_order_followed: d.priority_order_followed,
            gate_respected: d.gate_respected,
            dangerous_attempts: d.dangerous.len(),
            cautions_confirmed: d.cautions_confirmed.len(),
            empty_daemon_starts: d.empty_daemon_starts.len(),
            evidence_saved_after_secs: d.state_saved_after_secs,
            evidence_saved_before_changes: d.state_saved_before_changes,
            comms_sent: d.comms_sent.len(),
            root_cause_named: d.root_cause_named,
            journal: who.journal,
        }
    }

    /// Seconds until every production process taken down was back; `None` when one
    /// never came back (or production was not touched).
    pub fn production_restored_secs(&self) -> Option<i64> {
        if self.production_restores.is_empty() {
            return None;
        }
        self.production_restores
            .iter()
            .map(|r| r.after_secs)
            .collect::<Option<Vec<i64>>>()
            .and_then(|v| v.into_iter().max())
    }

    /// Mistakes the debrief counts: dangerous attempts, empty daemons started, a wrong
    /// severity call, the restore order or the gate not followed.
    pub fn mistakes(&self) -> usize {
        self.dangerous_attempts
            + self.empty_daemon_starts
            + usize::from(self.severity_correct == Some(false))
            + usize::from(self.priority_order_followed == Some(false))
            + usize::from(self.gate_respected == Some(false))
    }
}

/// Who ran the drill, where and when (what the debrief does not know).
#[derive(Debug, Clone)]
pub struct Who {
    pub at: DateTime<Utc>,
    pub responder: String,
    pub site: String,
    pub world: World,
    pub journal: Option<String>,
}

/// A line that could not be read as a record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BadLine {
    pub file: String,
    pub line: usize,
    pub message: String,
}

impl std::fmt::Display for BadLine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}: {}", self.file, self.line, self.message)
    }
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct History {
    /// In file order (the order the drills ended).
    pub records: Vec<Record>,
    pub bad: Vec<BadLine>,
}

/// The history file in the state directory.
pub fn default_path() -> Option<PathBuf> {
    crate::journal::paths::default_dir_from_env().map(|d| d.join(FILE_NAME))
}

/// Parse the history's text (pure); blank lines are skipped.
pub fn parse(file: &str, text: &str) -> History {
    let mut h = History::default();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<Record>(line) {
            Ok(r) => h.records.push(r),
            Err(e) => h.bad.push(BadLine {
                file: file.to_string(),
                line: i + 1,
                message: format!("not a drill record ({e})"),
            }),
        }
    }
    h
}

/// Read the history; a missing file is an empty history.
pub fn read(path: &Path) -> Result<History, String> {
    if !path.exists() {
        return Ok(History::default());
    }
    let bytes = crate::safe_fs::read_input(path).map_err(|e| e.to_string())?;
    let text = String::from_utf8_lossy(&bytes);
    Ok(parse(&path.display().to_string(), &text))
}

/// Append one record. The file is created 0600 (its directory 0700); an existing file
/// that does not end in a newline (a torn or hand-edited last line) gets one first, so
/// the bad line stays as it was and the new record is a line of its own.
pub fn append(path: &Path, r: &Record) -> Result<(), String> {
    let err = |e: std::io::Error| format!("{}: {e}", path.display());
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        crate::journal::paths::ensure_journal_dir(dir)?;
    }
    let mut f = std::fs::OpenOptions::new()
        .read(true)
        .append(true)
        .create(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
        .map_err(err)?;
    let md = f.metadata().map_err(err)?;
    if !md.file_type().is_file() {
        return Err(format!("{}: not a regular file", path.display()));
    }
    if md.permissions().mode() & 0o077 != 0 {
        f.set_permissions(std::fs::Permissions::from_mode(0o600))
            .map_err(err)?;
    }
    let mut line = String::new();
    if md.len() > 0 {
        let mut last = [0u8; 1];
        f.seek(SeekFrom::End(-1)).map_err(err)?;
        f.read_exact(&mut last).map_err(err)?;
        if last[0] != b'\n' {
            line.push('\n');
        }
    }
    line.push_str(&serde_json::to_string(r).map_err(|e| e.to_string())?);
    line.push('\n');
    f.write_all(line.as_bytes()).map_err(err)?;
    f.sync_data().map_err(err)
}

/// One responder's results on one scenario, oldest first.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Trend {
    pub responder: String,
    pub scenario: String,
    pub drills: usize,
    /// Seconds to restore production per drill (`None`: not restored).
    pub restore_secs: Vec<Option<i64>>,
    /// Seconds to the severity call per drill (`None`: never called).
    pub severity_secs: Vec<Option<i64>>,
    pub mistakes: Vec<usize>,
    /// Sparkline of `restore_secs` (`·` where there is no value).
    pub restore_spark: String,
    pub severity_spark: String,
    pub mistakes_spark: String,
    /// Last against first time to restore, when both are known: negative is faster.
    pub restore_change_secs: Option<i64>,
}

/// Trends per (responder, scenario), in order of first appearance.
pub fn trends(records: &[Record]) -> Vec<Trend> {
    let mut keys: Vec<(String, String)> = Vec::new();
    for r in records {
        let k = (r.responder.clone(), r.scenario.clone());
        if !keys.contains(&k) {
            keys.push(k);
        }
    }
    keys.into_iter()
        .map(|(responder, scenario)| {
            let rs: Vec<&Record> = records
                .iter()
                .filter(|r| r.responder == responder && r.scenario == scenario)
                .collect();
            let restore: Vec<Option<i64>> =
                rs.iter().map(|r| r.production_restored_secs()).collect();
            let sev: Vec<Option<i64>> = rs.iter().map(|r| r.severity_after_secs).collect();
            let mistakes: Vec<usize> = rs.iter().map(|r| r.mistakes()).collect();
            let change = match (restore.first(), restore.last()) {
                (Some(Some(a)), Some(Some(b))) if rs.len() > 1 => Some(b - a),
                _ => None,
            };
            Trend {
                drills: rs.len(),
                restore_spark: sparkline(&restore),
                severity_spark: sparkline(&sev),
                mistakes_spark: sparkline(
                    &mistakes.iter().map(|m| Some(*m as i64)).collect::<Vec<_>>(),
                ),
                restore_secs: restore,
                severity_secs: sev,
                mistakes,
                restore_change_secs: change,
                responder,
                scenario,
            }
        })
        .collect()
}

const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// Eight-level bars scaled from 0 to the largest value (lower is better, so a falling
/// line is progress); `·` for a missing value.
pub fn sparkline(values: &[Option<i64>]) -> String {
    let max = values.iter().flatten().copied().max().unwrap_or(0).max(1);
    values
        .iter()
        .map(|v| match v {
            None => '·',
            Some(x) => {
                let i = ((*x).max(0) * (BARS.len() as i64 - 1) + max / 2) / max;
                BARS[i.clamp(0, BARS.len() as i64 - 1) as usize]
            }
        })
        .collect()
}
