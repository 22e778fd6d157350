//! The process model and the allow-list parser for a `getMonitorData` / `pm2 jlist` array.
//!
//! Why an allow-list: every listing carries each app's environment twice (`pm2_env.env` and
//! copied to the top level of `pm2_env`), secrets included. The raw structs below name only the
//! fields we keep; serde skips everything else without allocating it into our types.
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::BTreeMap;
use std::fmt;

/// PM2's process status. Unknown future values are kept verbatim.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ProcessStatus {
    Online,
    Stopping,
    Stopped,
    Launching,
    Errored,
    WaitingRestart,
    OneLaunchStatus,
    Unknown(String),
}

impl ProcessStatus {
    pub fn parse(s: &str) -> Self {
        match s {
            "online" => Self::Online,
            "stopping" => Self::Stopping,
            "stopped" => Self::Stopped,
            "launching" => Self::Launching,
            "errored" => Self::Errored,
            "waiting restart" => Self::WaitingRestart,
            "one-launch-status" => Self::OneLaunchStatus,
            other => Self::Unknown(other.to_string()),
        }
    }

    /// The exact string PM2 uses.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Online => "online",
            Self::Stopping => "stopping",
            Self::Stopped => "stopped",
            Self::Launching => "launching",
            Self::Errored => "errored",
            Self::WaitingRestart => "waiting restart",
            Self::OneLaunchStatus => "one-launch-status",
            Self::Unknown(s) => s,
        }
    }
}

impl fmt::Display for ProcessStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for ProcessStatus {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ProcessStatus {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Ok(Self::parse(&s))
    }
}

/// `fork_mode` / `cluster_mode`, or whatever a future PM2 says.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ExecMode {
    Fork,
    Cluster,
    Unknown(String),
}

impl ExecMode {
    pub fn parse(s: &str) -> Self {
        match s {
            "fork_mode" => Self::Fork,
            "cluster_mode" => Self::Cluster,
            other => Self::Unknown(other.to_string()),
        }
    }
    /// As an ecosystem file may write it: `cluster` / `fork` too.
    pub fn from_config(s: &str) -> Self {
        match s {
            "fork" => Self::Fork,
            "cluster" => Self::Cluster,
            other => Self::parse(other),
        }
    }
    /// `cluster`, `fork` (as `init` writes it): without the `_mode` suffix.
    pub fn short(&self) -> &str {
        self.as_str().trim_end_matches("_mode")
    }
    pub fn as_str(&self) -> &str {
        match self {
            Self::Fork => "fork_mode",
            Self::Cluster => "cluster_mode",
            Self::Unknown(s) => s,
        }
    }
}

impl Serialize for ExecMode {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ExecMode {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Ok(Self::parse(&s))
    }
}

/// One `axm_monitor` metric; PM2 sends values as numbers or as pre-formatted strings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum MetricValue {
    Number(f64),
    Text(String),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Metric {
    pub value: MetricValue,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
}

/// One PM2-managed process, as much as an incident responder needs. Contains no environment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Process {
    pub pm_id: u32,
    pub name: String,
    pub namespace: Option<String>,
    /// OS pid; `None` when PM2 reports none or 0 (stopped, errored, restored-but-stopped).
    pub pid: Option<u32>,
    pub status: ProcessStatus,
    pub exec_mode: Option<ExecMode>,
    pub instances: Option<u32>,
    pub restarts: u64,
    pub unstable_restarts: u64,
    /// `pm_uptime`: ms epoch when the current run started.
    pub uptime_since_ms: Option<i64>,
    pub created_at_ms: Option<i64>,
    pub cpu_percent: Option<f64>,
    pub memory_bytes: Option<u64>,
    /// Only present after a first exit.
    pub exit_code: Option<i64>,
    pub version: Option<String>,
    pub node_version: Option<String>,
    pub cwd: Option<String>,
    pub script: Option<String>,
    pub out_log: Option<String>,
    pub err_log: Option<String>,
    #[serde(default)]
    pub metrics: BTreeMap<String, Metric>,
}

/// Why a listing could not be parsed. Never contains the listing itself (it carries secrets).
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ParseError {
    #[error("PM2 listing is not a JSON array (it starts with {found})")]
    NotAnArray { found: &'static str },
    #[error("PM2 listing is not valid JSON: {category} at line {line}, column {column}")]
    Json {
        category: &'static str,
        line: usize,
        column: usize,
    },
    #[error("PM2 listing entry {index}: {what}")]
    Entry { index: usize, what: String },
}

impl ParseError {
    /// serde_json's message can quote input (e.g. an unexpected string value); keep only
    /// the category and position so a secret can't leak through an error.
    pub(crate) fn from_serde(e: &serde_json::Error) -> Self {
        use serde_json::error::Category;
        let category = match e.classify() {
            Category::Io => "I/O error",
            Category::Syntax => "syntax error",
            Category::Data => "unexpected value type",
            Category::Eof => "unexpected end of input",
        };
        Self::Json {
            category,
            line: e.line(),
            column: e.column(),
        }
    }
}

// ---- raw, allow-listed shapes -------------------------------------------------------------

#[derive(Deserialize)]
pub(crate) struct RawProc {
    #[serde(default, deserialize_with = "lenient_i64")]
    pid: Option<i64>,
    #[serde(default, deserialize_with = "lenient_i64")]
    pm_id: Option<i64>,
    #[serde(default, deserialize_with = "lenient_string")]
    name: Option<String>,
    #[serde(default)]
    monit: Option<RawMonit>,
    #[serde(default)]
    pm2_env: Option<RawEnv>,
}

#[derive(Deserialize)]
struct RawMonit {
    #[serde(default, deserialize_with = "lenient_f64")]
    cpu: Option<f64>,
    #[serde(default, deserialize_with = "lenient_f64")]
    memory: Option<f64>,
}

// Env vars are copied to the top level of pm2_env, so a var could shadow one of these names
// with a string; lenient_* turn a wrong type into None instead of failing the whole listing.
#[derive(Deserialize)]
struct RawEnv {
    #[serde(default, deserialize_with = "lenient_string")]
    name: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    namespace: Option<String>,
    #[serde(default, deserialize_with = "lenient_i64")]
    pm_id: Option<i64>,
    #[serde(default, deserialize_with = "lenient_string")]
    status: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    exec_mode: Option<String>,
    #[serde(default, deserialize_with = "lenient_i64")]
    instances: Option<i64>,
    #[serde(default, deserialize_with = "lenient_i64")]
    restart_time: Option<i64>,
    #[serde(default, deserialize_with = "lenient_i64")]
    unstable_restarts: Option<i64>,
    #[serde(default, deserialize_with = "lenient_i64")]
    pm_uptime: Option<i64>,
    #[serde(default, deserialize_with = "lenient_i64")]
    created_at: Option<i64>,
    #[serde(default, deserialize_with = "lenient_i64")]
    exit_code: Option<i64>,
    #[serde(default, deserialize_with = "lenient_string")]
    version: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    node_version: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pm_cwd: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    cwd: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pm_exec_path: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pm_out_log_path: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pm_err_log_path: Option<String>,
    #[serde(default, deserialize_with = "lenient_monitor")]
    axm_monitor: BTreeMap<String, Metric>,
}

/// A JSON scalar seen through an allow-listed field; anything else is skipped unread.
#[derive(Deserialize)]
#[serde(untagged)]
enum Scalar {
    Int(i64),
    Float(f64),
    Str(String),
    Other(serde::de::IgnoredAny),
}

pub(crate) fn lenient_i64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    Ok(match Scalar::deserialize(d)? {
        Scalar::Int(i) => Some(i),
        Scalar::Float(f) if f.is_finite() => Some(f as i64),
        Scalar::Str(s) => s.trim().parse().ok(),
        _ => None,
    })
}

fn lenient_f64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    Ok(match Scalar::deserialize(d)? {
        Scalar::Int(i) => Some(i as f64),
        Scalar::Float(f) => Some(f),
        Scalar::Str(s) => s.trim().parse().ok(),
        _ => None,
    })
}

pub(crate) fn lenient_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match Scalar::deserialize(d)? {
        Scalar::Str(s) => Some(s),
        _ => None,
    })
}

#[derive(Deserialize)]
struct RawMetric {
    #[serde(default)]
    value: Option<Scalar>,
    #[serde(default, deserialize_with = "lenient_string")]
    unit: Option<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum MaybeMetric {
    Metric(RawMetric),
    Other(serde::de::IgnoredAny),
}

fn lenient_monitor<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<String, Metric>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum MaybeMap {
        Map(BTreeMap<String, MaybeMetric>),
        Other(serde::de::IgnoredAny),
    }
    let MaybeMap::Map(map) = MaybeMap::deserialize(d)? else {
        return Ok(BTreeMap::new());
    };
    Ok(map
        .into_iter()
        .filter_map(|(k, m)| {
            let MaybeMetric::Metric(m) = m else {
                return None;
            };
            let value = match m.value? {
                Scalar::Int(i) => MetricValue::Number(i as f64),
                Scalar::Float(f) => MetricValue::Number(f),
                Scalar::Str(s) => MetricValue::Text(s),
                Scalar::Other(_) => return None,
            };
            Some((
                k,
                Metric {
                    value,
                    unit: m.unit,
                },
            ))
        })
        .collect())
}

fn to_u32(v: Option<i64>) -> Option<u32> {
    v.and_then(|v| u32::try_from(v).ok())
}

fn to_u64(v: Option<i64>) -> u64 {
    v.and_then(|v| u64::try_from(v).ok()).unwrap_or(0)
}

impl RawProc {
    pub(crate) fn into_process(self, index: usize) -> Result<Process, ParseError> {
        let env = self.pm2_env;
        let pm_id = to_u32(self.pm_id.or(env.as_ref().and_then(|e| e.pm_id))).ok_or_else(|| {
            ParseError::Entry {
                index,
                what: "missing or invalid pm_id".into(),
            }
        })?;
        let name = self
            .name
            .or_else(|| env.as_ref().and_then(|e| e.name.clone()))
            .ok_or_else(|| ParseError::Entry {
                index,
                what: format!("pm_id {pm_id}: missing name"),
            })?;
        let pid = to_u32(self.pid).filter(|p| *p != 0);
        let (cpu_percent, memory_bytes) = match self.monit {
            Some(m) => (m.cpu, m.memory.filter(|m| *m >= 0.0).map(|m| m as u64)),
            None => (None, None),
        };
        let Some(env) = env else {
            return Ok(Process {
                pm_id,
                name,
                namespace: None,
                pid,
                status: ProcessStatus::Unknown(String::new()),
                exec_mode: None,
                instances: None,
                restarts: 0,
                unstable_restarts: 0,
                uptime_since_ms: None,
                created_at_ms: None,
                cpu_percent,
                memory_bytes,
                exit_code: None,
                version: None,
                node_version: None,
                cwd: None,
                script: None,
                out_log: None,
                err_log: None,
                metrics: BTreeMap::new(),
            });
        };
        Ok(Process {
            pm_id,
            name,
            namespace: env.namespace,
            pid,
            status: env
                .status
                .as_deref()
                .map(ProcessStatus::parse)
                .unwrap_or_else(|| ProcessStatus::Unknown(String::new())),
            exec_mode: env.exec_mode.as_deref().map(ExecMode::parse),
            instances: to_u32(env.instances),
            restarts: to_u64(env.restart_time),
            unstable_restarts: to_u64(env.unstable_restarts),
            uptime_since_ms: env.pm_uptime,
            created_at_ms: env.created_at,
            cpu_percent,
            memory_bytes,
            exit_code: env.exit_code,
            // PM2 says "N/A" when the app has no package.json version.
            version: env.version.filter(|v| v != "N/A"),
            node_version: env.node_version,
            cwd: env.pm_cwd.or(env.cwd),
            script: env.pm_exec_path,
            out_log: env.pm_out_log_path,
            err_log: env.pm_err_log_path,
            metrics: env.axm_monitor,
        })
    }
}

pub(crate) fn convert_all(raw: Vec<RawProc>) -> Result<Vec<Process>, ParseError> {
    raw.into_iter()
        .enumerate()
        .map(|(i, r)| r.into_process(i))
        .collect()
}

fn first_json_kind(bytes: &[u8]) -> Option<&'static str> {
    let b = bytes.iter().find(|b| !b.is_ascii_whitespace())?;
    Some(match b {
        b'[' => "an array",
        b'{' => "an object",
        b'"' => "a string",
        b'n' => "null",
        b't' | b'f' => "a boolean",
        b'-' | b'0'..=b'9' => "a number",
        _ => "something that is not JSON",
    })
}

/// Parse a `getMonitorData` reply value or `pm2 jlist` output (a JSON array).
pub fn parse_process_list(bytes: &[u8]) -> Result<Vec<Process>, ParseError> {
    match first_json_kind(bytes) {
        Some("an array") => {}
        Some(found) => return Err(ParseError::NotAnArray { found }),
        None => return Err(ParseError::NotAnArray { found: "nothing" }),
    }
    let raw: Vec<RawProc> =
        serde_json::from_slice(bytes).map_err(|e| ParseError::from_serde(&e))?;
    convert_all(raw)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ONE: &str = r#"[{"pid":5840,"name":"demo-api","pm_id":0,"monit":{"memory":56455168,"cpu":0.3},
      "pm2_env":{"SECRET_TOKEN":"hunter2","env":{"SECRET_TOKEN":"hunter2"},"name":"demo-api",
      "namespace":"default","pm_id":0,"status":"online","exec_mode":"cluster_mode","instances":2,
      "restart_time":3,"unstable_restarts":1,"pm_uptime":1795894251013,"created_at":1795894251000,
      "version":"1.0.0","node_version":"20.20.2","pm_cwd":"/var/www/demo","pm_exec_path":"/var/www/demo/api.js",
      "pm_out_log_path":"/o.log","pm_err_log_path":"/e.log","future_key":{"deep":[1,2,3]},
      "axm_monitor":{"Heap Size":{"value":"9.73","unit":"MiB","historic":true},"HTTP":{"value":0.06,"unit":"req/min"},"P95":{"value":3}}}}]"#;

    #[test]
    fn parses_allow_listed_fields_and_drops_env() {
        let list = parse_process_list(ONE.as_bytes()).unwrap();
        assert_eq!(list.len(), 1);
        let p = &list[0];
        assert_eq!(p.pm_id, 0);
        assert_eq!(p.name, "demo-api");
        assert_eq!(p.pid, Some(5840));
        assert_eq!(p.status, ProcessStatus::Online);
        assert_eq!(p.exec_mode, Some(ExecMode::Cluster));
        assert_eq!(p.restarts, 3);
        assert_eq!(p.unstable_restarts, 1);
        assert_eq!(p.memory_bytes, Some(56455168));
        assert_eq!(p.cwd.as_deref(), Some("/var/www/demo"));
        assert_eq!(
            p.metrics["Heap Size"].value,
            MetricValue::Text("9.73".into())
        );
        assert_eq!(p.metrics["HTTP"].value, MetricValue::Number(0.06));
        assert_eq!(p.metrics["P95"].value, MetricValue::Number(3.0));
        let json = serde_json::to_string(&list).unwrap();
        assert!(!json.contains("hunter2"), "{json}");
        assert!(!format!("{list:?}").contains("hunter2"));
        let back: Vec<Process> = serde_json::from_str(&json).unwrap();
        assert_eq!(back, list);
    }

    #[test]
    fn missing_optional_fields_are_fine() {
        let s = r#"[{"name":"w","pm_id":4,"pm2_env":{"status":"stopped"}}]"#;
        let p = &parse_process_list(s.as_bytes()).unwrap()[0];
        assert_eq!((p.pid, p.exit_code, p.version.clone()), (None, None, None));
        assert_eq!(p.status, ProcessStatus::Stopped);
        let s = r#"[{"name":"w","pid":0,"pm_id":4,"pm2_env":{"status":"errored","exit_code":1,"version":"N/A"}}]"#;
        let p = &parse_process_list(s.as_bytes()).unwrap()[0];
        assert_eq!(
            (p.pid, p.exit_code, p.version.clone()),
            (None, Some(1), None)
        );
    }

    #[test]
    fn statuses_round_trip_including_unknown() {
        for s in [
            "online",
            "stopping",
            "stopped",
            "launching",
            "errored",
            "waiting restart",
            "one-launch-status",
            "hibernating",
        ] {
            let st = ProcessStatus::parse(s);
            assert_eq!(st.as_str(), s);
            let j = serde_json::to_string(&st).unwrap();
            assert_eq!(serde_json::from_str::<ProcessStatus>(&j).unwrap(), st);
        }
        assert_eq!(
            ProcessStatus::parse("waiting restart"),
            ProcessStatus::WaitingRestart
        );
        assert_eq!(
            ProcessStatus::parse("hibernating"),
            ProcessStatus::Unknown("hibernating".into())
        );
    }

    #[test]
    fn env_var_shadowing_a_field_with_a_string_does_not_break_parsing() {
        // An app env var named restart_time lands at pm2_env top level as a string.
        let s = r#"[{"name":"w","pm_id":1,"pm2_env":{"restart_time":"oops","status":"online"}}]"#;
        let p = &parse_process_list(s.as_bytes()).unwrap()[0];
        assert_eq!(p.restarts, 0);
    }

    #[test]
    fn bad_input_gives_clear_errors_without_echoing_values() {
        assert_eq!(
            parse_process_list(br#"{"a":1}"#),
            Err(ParseError::NotAnArray { found: "an object" })
        );
        assert_eq!(
            parse_process_list(b"  "),
            Err(ParseError::NotAnArray { found: "nothing" })
        );
        let e = parse_process_list(br#"[{"name":"x","pm_id":1"#).unwrap_err();
        assert!(
            matches!(
                e,
                ParseError::Json {
                    category: "unexpected end of input",
                    ..
                }
            ),
            "{e}"
        );
        let e = parse_process_list(br#"[{"name":"x"}]"#).unwrap_err();
        assert_eq!(
            e.to_string(),
            "PM2 listing entry 0: missing or invalid pm_id"
        );
        let e = parse_process_list(br#"["s3cr3t-value"]"#).unwrap_err();
        assert!(!e.to_string().contains("s3cr3t"), "{e}");
    }
}
