//! A raw `pm2 jlist` dump (saved per the runbook's step 4) as a one-observation incident.
//! Only allow-listed fields are read, straight from the JSON as it streams (any serde
//! deserializer: a file's reader, or a `Value`): everything else, in particular `pm2_env.env`
//! and the env keys PM2 copies onto `pm2_env`, is skipped without ever being materialised, so
//! a 200 MB dump costs its process rows, not its size (issue #19).
use super::event::*;
use crate::pm2::skim::{lite, object, scalars, Fields, Lite, ObjectOf};
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use std::fmt;
use std::marker::PhantomData;

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

/// Why a dump could not be read: its JSON (the parser's message names line and column, never
/// content) or its shape.
#[derive(Debug, thiserror::Error)]
pub enum JlistError<E: std::error::Error + 'static> {
    #[error("{0}")]
    Shape(ImportError),
    #[error("not a valid pm2 jlist dump: {0}")]
    Json(E),
}

/// Reads the allow-listed fields of every process in a jlist array. The first process with a
/// missing or mistyped field stops the reading (its index and field are named).
pub fn rows_from_jlist<'de, D>(d: D) -> Result<Vec<ProcessRow>, JlistError<D::Error>>
where
    D: Deserializer<'de>,
    D::Error: 'static,
{
    let mut shape = None;
    let rows = d.deserialize_any(Dump { shape: &mut shape });
    match (shape, rows) {
        (Some(e), _) => Err(JlistError::Shape(e)),
        (None, Ok(rows)) => Ok(rows),
        (None, Err(e)) => Err(JlistError::Json(e)),
    }
}

/// The allow-listed fields of one process as read, before their types are checked (always in
/// the same order, whatever the order of the keys). A repeated key: the last one counts, as
/// in a JSON object read whole.
#[derive(Debug, Default)]
struct Raw {
    name: Option<Lite>,
    pm_id: Option<Lite>,
    pid: Option<Lite>,
    monit: Monit,
    env: Env,
}

#[derive(Debug, Default)]
struct Monit {
    cpu: Option<Lite>,
    memory: Option<Lite>,
}

#[derive(Debug, Default)]
struct Env {
    name: Option<Lite>,
    pm_id: Option<Lite>,
    pm_uptime: Option<Lite>,
    namespace: Option<Lite>,
    status: Option<Lite>,
    restart_time: Option<Lite>,
    unstable_restarts: Option<Lite>,
}

impl Fields for Raw {
    const KEYS: &'static [&'static str] = &["name", "pm_id", "pid", "monit", "pm2_env"];
    fn read<'de, A: MapAccess<'de>>(&mut self, key: usize, map: &mut A) -> Result<(), A::Error> {
        match key {
            0 => self.name = lite(map)?,
            1 => self.pm_id = lite(map)?,
            2 => self.pid = lite(map)?,
            3 => self.monit = object(map)?.unwrap_or_default(),
            _ => self.env = object(map)?.unwrap_or_default(),
        }
        Ok(())
    }
}

impl Fields for Monit {
    const KEYS: &'static [&'static str] = &["cpu", "memory"];
    fn read<'de, A: MapAccess<'de>>(&mut self, key: usize, map: &mut A) -> Result<(), A::Error> {
        match key {
            0 => self.cpu = lite(map)?,
            _ => self.memory = lite(map)?,
        }
        Ok(())
    }
}

impl Fields for Env {
    const KEYS: &'static [&'static str] = &[
        "name",
        "pm_id",
        "pm_uptime",
        "namespace",
        "status",
        "restart_time",
        "unstable_restarts",
    ];
    fn read<'de, A: MapAccess<'de>>(&mut self, key: usize, map: &mut A) -> Result<(), A::Error> {
        let v = lite(map)?;
        match key {
            0 => self.name = v,
            1 => self.pm_id = v,
            2 => self.pm_uptime = v,
            3 => self.namespace = v,
            4 => self.status = v,
            5 => self.restart_time = v,
            _ => self.unstable_restarts = v,
        }
        Ok(())
    }
}

/// The top level: an array of processes, each checked as soon as it is read.
struct Dump<'a> {
    shape: &'a mut Option<ImportError>,
}

impl Dump<'_> {
    fn not_array<E: de::Error>(self) -> Result<Vec<ProcessRow>, E> {
        *self.shape = Some(ImportError::NotArray);
        Err(E::custom("not an array"))
    }
}

impl<'de> Visitor<'de> for Dump<'_> {
    type Value = Vec<ProcessRow>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of processes")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut rows = Vec::new();
        while let Some(raw) = seq.next_element_seed(ObjectOf::<Raw>(PhantomData))? {
            // Not an object: none of the fields (reported as the first missing one).
            match row(rows.len(), &raw.unwrap_or_default()) {
                Ok(r) => rows.push(r),
                Err(e) => {
                    *self.shape = Some(e);
                    return Err(de::Error::custom("process shape"));
                }
            }
        }
        Ok(rows)
    }

    fn visit_map<A: MapAccess<'de>>(self, _: A) -> Result<Self::Value, A::Error> {
        self.not_array()
    }

    scalars!(self => self.not_array());
}

/// Checks a process's fields in a fixed order (the first problem is the one reported).
fn row(index: usize, p: &Raw) -> Result<ProcessRow, ImportError> {
    let wrong = |field: &'static str, expected: &'static str| ImportError::WrongType {
        index,
        field,
        expected,
    };
    let uint = |v: &Option<Lite>, field: &'static str| -> Result<Option<u64>, ImportError> {
        match Lite::given(v) {
            None => Ok(None),
            Some(Lite::U64(n)) => Ok(Some(*n)),
            Some(_) => Err(wrong(field, "a non-negative integer")),
        }
    };
    let string = |v: &Option<Lite>, field: &'static str| -> Result<Option<String>, ImportError> {
        match Lite::given(v) {
            None => Ok(None),
            Some(Lite::Str(s)) => Ok(Some(s.clone())),
            Some(_) => Err(wrong(field, "a string")),
        }
    };
    let small = |n: Option<u64>, field: &'static str| -> Result<Option<u32>, ImportError> {
        n.map(|n| u32::try_from(n).map_err(|_| wrong(field, "a 32-bit integer")))
            .transpose()
    };
    // Both names are checked (a mistyped one is an error even when the other is fine).
    let top_name = string(&p.name, "name")?;
    let env_name = string(&p.env.name, "pm2_env.name")?;
    let name = top_name.or(env_name).ok_or(ImportError::Missing {
        index,
        field: "name",
    })?;
    let pm_id = match uint(&p.pm_id, "pm_id")? {
        Some(n) => Some(n),
        None => uint(&p.env.pm_id, "pm2_env.pm_id")?,
    };
    let pm_id = small(pm_id, "pm_id")?.ok_or(ImportError::Missing {
        index,
        field: "pm_id",
    })?;
    // PM2 reports pid 0 for a process that is not running; the key may also be absent.
    let pid = small(uint(&p.pid, "pid")?, "pid")?.filter(|&p| p != 0);
    let cpu = match Lite::given(&p.monit.cpu) {
        None => 0.0,
        Some(Lite::U64(n)) => *n as f64,
        Some(Lite::I64(n)) => *n as f64,
        Some(Lite::F64(n)) => *n,
        Some(_) => return Err(wrong("monit.cpu", "a number")),
    };
    let uptime = match Lite::given(&p.env.pm_uptime) {
        None => None,
        Some(Lite::I64(n)) => Some(*n),
        Some(Lite::U64(n)) => Some(
            i64::try_from(*n)
                .map_err(|_| wrong("pm2_env.pm_uptime", "an integer (ms since epoch)"))?,
        ),
        Some(_) => return Err(wrong("pm2_env.pm_uptime", "an integer (ms since epoch)")),
    };
    Ok(ProcessRow {
        pm_id,
        name,
        namespace: string(&p.env.namespace, "pm2_env.namespace")?.unwrap_or_default(),
        status: string(&p.env.status, "pm2_env.status")?.unwrap_or_else(|| "unknown".into()),
        pid,
        restarts: small(
            uint(&p.env.restart_time, "pm2_env.restart_time")?,
            "pm2_env.restart_time",
        )?
        .unwrap_or(0),
        unstable_restarts: small(
            uint(&p.env.unstable_restarts, "pm2_env.unstable_restarts")?,
            "pm2_env.unstable_restarts",
        )?
        .unwrap_or(0),
        uptime_since_ms: uptime,
        cpu,
        memory: uint(&p.monit.memory, "monit.memory")?.unwrap_or(0),
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
        let shape = |v: serde_json::Value| match rows_from_jlist(&v) {
            Err(JlistError::Shape(e)) => e,
            other => panic!("{other:?}"),
        };
        assert_eq!(shape(json!({})), ImportError::NotArray);
        let e = shape(json!([{"name": "a", "pm_id": 0}, {"name": "b", "pm_id": "x"}]));
        assert_eq!(
            e.to_string(),
            "process #1: `pm_id` has the wrong type (expected a non-negative integer)"
        );
        let e = shape(json!([{"pm_id": 1}]));
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

    /// Read from the text as it streams, the way a dump file is: the same rows and errors as
    /// the parsed value, whatever the key order, repeats, nulls or nesting.
    #[test]
    fn streamed_text_reads_like_the_whole_value() {
        let dumps = [
            // keys in any order, the env (and a copy of it) first, an object where a scalar
            // was expected skipped, a repeated key: the last one counts
            r#"[{"pm2_env":{"env":{"S":"hunter2","n":[1,{"x":2}]},"S":"hunter2","status":"online","status":"stopped","restart_time":3},"monit":{"memory":5,"cpu":1},"pid":0,"pm_id":2,"name":{"a":1},"name":"api"}]"#,
            // nulls are absent; pm2_env repeated: the last object counts whole
            r#"[{"name":null,"pm_id":null,"pm2_env":{"name":"x","pm_id":4},"pm2_env":{"name":"w","pm_id":9,"namespace":null}},"not an object"]"#,
            r#"[{"name":"a","pm_id":1,"monit":[1,2],"pm2_env":7,"pid":12}, {"name":"b","pm2_env":{"pm_id":2,"pm_uptime":-5}}]"#,
            // errors: the first bad process, the first bad field in a fixed order
            r#"[{"name":"a","pm_id":1},{"name":"b","pm_id":1.5}]"#,
            r#"[{"name":"a","pm_id":1,"pm2_env":{"name":5}}]"#,
            r#"[{"name":"a","pm_id":4294967296}]"#,
            r#"[{"name":"a","pm_id":1,"pm2_env":{"pm_uptime":18446744073709551615}}]"#,
            r#"[{"name":"a","pm_id":1,"monit":{"cpu":"high"}}]"#,
            r#"{"name":"a"}"#,
            "[]",
        ];
        for text in dumps {
            let value: serde_json::Value = serde_json::from_str(text).unwrap();
            let from_value = rows_from_jlist(&value);
            let mut de = serde_json::Deserializer::from_reader(text.as_bytes());
            let streamed = rows_from_jlist(&mut de);
            assert_eq!(
                format!("{streamed:?}").replace("Json(Error(", ""),
                format!("{from_value:?}").replace("Json(Error(", ""),
                "{text}"
            );
            assert!(!format!("{streamed:?}").contains("hunter2"));
        }
        let rows = rows_from_jlist(&json!([{"pm2_env": {"status": "online", "status": "stopped"}, "name": "api", "pm_id": 2, "pid": 0}])).unwrap();
        assert_eq!((rows[0].name.as_str(), rows[0].pid), ("api", None));
        let mut de = serde_json::Deserializer::from_reader(dumps[0].as_bytes());
        let rows = rows_from_jlist(&mut de).unwrap();
        assert_eq!(
            (
                rows[0].name.as_str(),
                rows[0].status.as_str(),
                rows[0].restarts,
                rows[0].cpu
            ),
            ("api", "stopped", 3, 1.0)
        );
        let mut de = serde_json::Deserializer::from_reader(dumps[1].as_bytes());
        let rows = rows_from_jlist(&mut de).unwrap_err().to_string();
        assert_eq!(rows, "process #1: `name` is missing");
        let mut de = serde_json::Deserializer::from_reader(&b"[{\"name\": "[..]);
        assert!(rows_from_jlist(&mut de)
            .unwrap_err()
            .to_string()
            .starts_with("not a valid pm2 jlist dump: EOF"));
    }
}
