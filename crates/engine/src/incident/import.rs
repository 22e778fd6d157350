//! A raw `pm2 jlist` dump (saved per the runbook's step 4) as a one-observation incident.
//! Only allow-listed fields are read by walking the JSON value; everything else, in particular
//! `pm2_env.env` and the env keys PM2 copies onto `pm2_env`, is never touched or copied.
use super::event::*;
use serde_json::Value;

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ImportError {
    #[error("not a pm2 jlist dump: the top level is not a JSON array")]
    NotArray,
    #[error("process #{index}: `{field}` is missing")]
    Missing { index: usize, field: &'static str },
    // The value itself is never echoed: a wrong shape could mean a secret sits there.
    #[error("process #{index}: `{field}` has the wrong type (expected {expected})")]
    WrongType {
        index: usize,
        field: &'static str,
        expected: &'static str,
    },
}

/// Reads the allow-listed fields of every process in a jlist array.
pub fn rows_from_jlist(v: &Value) -> Result<Vec<ProcessRow>, ImportError> {
    let arr = v.as_array().ok_or(ImportError::NotArray)?;
    arr.iter().enumerate().map(|(i, p)| row(i, p)).collect()
}

fn row(index: usize, p: &Value) -> Result<ProcessRow, ImportError> {
    let env = p.get("pm2_env");
    let at = |path: &[&str]| -> Option<&Value> {
        let mut cur = p;
        for k in path {
            cur = cur.get(k)?;
        }
        Some(cur).filter(|v| !v.is_null())
    };
    let uint = |v: Option<&Value>, field: &'static str| -> Result<Option<u64>, ImportError> {
        match v {
            None => Ok(None),
            Some(v) => v.as_u64().map(Some).ok_or(ImportError::WrongType {
                index,
                field,
                expected: "a non-negative integer",
            }),
        }
    };
    let string = |v: Option<&Value>, field: &'static str| -> Result<Option<String>, ImportError> {
        match v {
            None => Ok(None),
            Some(v) => v
                .as_str()
                .map(|s| Some(s.to_string()))
                .ok_or(ImportError::WrongType {
                    index,
                    field,
                    expected: "a string",
                }),
        }
    };
    let small = |n: Option<u64>, field: &'static str| -> Result<Option<u32>, ImportError> {
        n.map(|n| {
            u32::try_from(n).map_err(|_| ImportError::WrongType {
                index,
                field,
                expected: "a 32-bit integer",
            })
        })
        .transpose()
    };
    let name = string(at(&["name"]), "name")?
        .or(string(
            env.and_then(|e| e.get("name")).filter(|v| !v.is_null()),
            "pm2_env.name",
        )?)
        .ok_or(ImportError::Missing {
            index,
            field: "name",
        })?;
    let pm_id = match uint(at(&["pm_id"]), "pm_id")? {
        Some(n) => Some(n),
        None => uint(at(&["pm2_env", "pm_id"]), "pm2_env.pm_id")?,
    };
    let pm_id = small(pm_id, "pm_id")?.ok_or(ImportError::Missing {
        index,
        field: "pm_id",
    })?;
    // PM2 reports pid 0 for a process that is not running; the key may also be absent.
    let pid = small(uint(at(&["pid"]), "pid")?, "pid")?.filter(|&p| p != 0);
    let cpu = match at(&["monit", "cpu"]) {
        None => 0.0,
        Some(v) => v.as_f64().ok_or(ImportError::WrongType {
            index,
            field: "monit.cpu",
            expected: "a number",
        })?,
    };
    let uptime = match at(&["pm2_env", "pm_uptime"]) {
        None => None,
        Some(v) => Some(v.as_i64().ok_or(ImportError::WrongType {
            index,
            field: "pm2_env.pm_uptime",
            expected: "an integer (ms since epoch)",
        })?),
    };
    Ok(ProcessRow {
        pm_id,
        name,
        namespace: string(at(&["pm2_env", "namespace"]), "pm2_env.namespace")?.unwrap_or_default(),
        status: string(at(&["pm2_env", "status"]), "pm2_env.status")?
            .unwrap_or_else(|| "unknown".into()),
        pid,
        restarts: small(
            uint(at(&["pm2_env", "restart_time"]), "pm2_env.restart_time")?,
            "pm2_env.restart_time",
        )?
        .unwrap_or(0),
        unstable_restarts: small(
            uint(
                at(&["pm2_env", "unstable_restarts"]),
                "pm2_env.unstable_restarts",
            )?,
            "pm2_env.unstable_restarts",
        )?
        .unwrap_or(0),
        uptime_since_ms: uptime,
        cpu,
        memory: uint(at(&["monit", "memory"]), "monit.memory")?.unwrap_or(0),
    })
}

/// What the import knows about the dump besides its content.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportMeta {
    /// e.g. "IMPORT-20260217-041233", from the dump's file name.
    pub incident_id: String,
    pub tool_version: String,
    /// The dump's file name (never its content).
    pub source_name: String,
}

/// The events of a one-observation incident: opened, then the observation.
pub fn jlist_events(rows: Vec<ProcessRow>, meta: &ImportMeta) -> Vec<Event> {
    vec![
        Event::IncidentOpened(Opened {
            incident_id: meta.incident_id.clone(),
            title: format!("Imported PM2 state from {}", meta.source_name),
            tool_version: meta.tool_version.clone(),
            runbook_id: String::new(),
            runbook_hash: String::new(),
            mode: Mode::Live,
            host: String::new(),
            user: String::new(),
            commander: String::new(),
            inventory: InventorySummary::default(),
        }),
        Event::Pm2Observation(Observation {
            source: "import".into(),
            processes: rows,
        }),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_allow_listed_fields_only() {
        let v = json!([{
            "name": "api", "pm_id": 3, "pid": 0,
            "monit": {"cpu": 1.5, "memory": 1024},
            "pm2_env": {"status": "stopped", "restart_time": 15, "unstable_restarts": 2,
                        "pm_uptime": 1795894251013i64, "namespace": "default",
                        "SECRET": "hunter2", "env": {"SECRET": "hunter2"}}
        }]);
        let rows = rows_from_jlist(&v).unwrap();
        assert_eq!(rows[0].pid, None, "pid 0 means not running");
        assert_eq!(
            (rows[0].pm_id, rows[0].restarts, rows[0].unstable_restarts),
            (3, 15, 2)
        );
        assert_eq!(rows[0].status, "stopped");
        assert!(!serde_json::to_string(&rows).unwrap().contains("hunter2"));
    }

    #[test]
    fn errors_name_the_process_and_field() {
        assert_eq!(rows_from_jlist(&json!({})), Err(ImportError::NotArray));
        let e = rows_from_jlist(&json!([{"name": "a", "pm_id": 0}, {"name": "b", "pm_id": "x"}]))
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "process #1: `pm_id` has the wrong type (expected a non-negative integer)"
        );
        let e = rows_from_jlist(&json!([{"pm_id": 1}])).unwrap_err();
        assert_eq!(
            e,
            ImportError::Missing {
                index: 0,
                field: "name"
            }
        );
    }

    #[test]
    fn absent_pid_and_monit_are_fine() {
        let rows =
            rows_from_jlist(&json!([{"name": "w", "pm2_env": {"pm_id": 7, "status": "stopped"}}]))
                .unwrap();
        assert_eq!((rows[0].pm_id, rows[0].pid, rows[0].memory), (7, None, 0));
    }
}
