//! How each process was launched, for `init`: name, namespace, working directory,
//! script, exec mode, status, and from the environment only the port keys and
//! `NODE_ENV`. Its own allow-list: every other environment value (secrets) is
//! skipped by the parser and never held. Reads a `getMonitorData` reply / `pm2
//! jlist` (entries with `pm2_env`) and `dump.pm2` (the `pm2_env` objects themselves).
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::model::ParseError;

/// Environment keys whose value is taken as the app's HTTP port, in this order.
pub const PORT_KEYS: &[&str] = &["PORT", "HTTP_PORT", "APP_PORT", "SERVER_PORT"];

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Launch {
    pub name: String,
    pub namespace: Option<String>,
    pub cwd: Option<String>,
    pub script: Option<String>,
    /// `cluster` or `fork`.
    pub exec_mode: Option<String>,
    pub status: Option<String>,
    pub port: Option<u16>,
    pub node_env: Option<String>,
}

/// Only these keys are deserialized; serde skips every other key unread (no
/// `flatten`, which would buffer them). A list entry nests the same keys in `pm2_env`.
#[derive(Deserialize, Default)]
pub(crate) struct RawEnv {
    #[serde(default)]
    pm2_env: Option<Box<RawEnv>>,
    #[serde(default)]
    name: Option<Value>,
    #[serde(default)]
    namespace: Option<Value>,
    #[serde(default)]
    pm_cwd: Option<Value>,
    #[serde(default)]
    cwd: Option<Value>,
    #[serde(default)]
    pm_exec_path: Option<Value>,
    #[serde(default)]
    exec_mode: Option<Value>,
    #[serde(default)]
    status: Option<Value>,
    #[serde(default)]
    env: Option<PortEnv>,
    #[serde(default, rename = "PORT")]
    port: Option<Value>,
    #[serde(default, rename = "HTTP_PORT")]
    http_port: Option<Value>,
    #[serde(default, rename = "APP_PORT")]
    app_port: Option<Value>,
    #[serde(default, rename = "SERVER_PORT")]
    server_port: Option<Value>,
    #[serde(default, rename = "NODE_ENV")]
    node_env: Option<Value>,
}

#[derive(Deserialize, Default)]
struct PortEnv {
    #[serde(default, rename = "PORT")]
    port: Option<Value>,
    #[serde(default, rename = "HTTP_PORT")]
    http_port: Option<Value>,
    #[serde(default, rename = "APP_PORT")]
    app_port: Option<Value>,
    #[serde(default, rename = "SERVER_PORT")]
    server_port: Option<Value>,
    #[serde(default, rename = "NODE_ENV")]
    node_env: Option<Value>,
}

fn text(v: &Option<Value>) -> Option<String> {
    match v {
        Some(Value::String(s)) if !s.is_empty() && s.len() <= 4096 => Some(s.clone()),
        _ => None,
    }
}

pub fn port_of(v: &Option<Value>) -> Option<u16> {
    match v {
        Some(Value::Number(n)) => n.as_u64().and_then(|n| u16::try_from(n).ok()),
        Some(Value::String(s)) => s.trim().parse::<u16>().ok(),
        _ => None,
    }
    .filter(|p| *p > 0)
}

/// `NODE_ENV` is kept only when it looks like an environment name.
pub fn env_word(v: &Option<Value>) -> Option<String> {
    text(v).filter(|s| {
        s.len() <= 32
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    })
}

impl RawEnv {
    fn port(&self) -> Option<u16> {
        let e = self.env.as_ref();
        [
            e.and_then(|e| port_of(&e.port)),
            e.and_then(|e| port_of(&e.http_port)),
            e.and_then(|e| port_of(&e.app_port)),
            e.and_then(|e| port_of(&e.server_port)),
            port_of(&self.port),
            port_of(&self.http_port),
            port_of(&self.app_port),
            port_of(&self.server_port),
        ]
        .into_iter()
        .flatten()
        .next()
    }
    fn node_env(&self) -> Option<String> {
        self.env
            .as_ref()
            .and_then(|e| env_word(&e.node_env))
            .or_else(|| env_word(&self.node_env))
    }
}

/// Parse a process list (`getMonitorData`, `jlist`) or a saved list (`dump.pm2`).
pub fn parse_launch_list(bytes: &[u8]) -> Result<Vec<Launch>, ParseError> {
    let raw: Vec<RawEnv> = serde_json::from_slice(bytes).map_err(|e| ParseError::from_serde(&e))?;
    Ok(from_raw(raw))
}

pub(crate) fn from_raw(raw: Vec<RawEnv>) -> Vec<Launch> {
    raw.into_iter()
        .filter_map(|r| {
            let env = r.pm2_env.as_deref().unwrap_or(&r);
            let name = text(&r.name).or_else(|| text(&env.name))?;
            let exec_mode = text(&env.exec_mode).map(|m| m.trim_end_matches("_mode").to_string());
            Some(Launch {
                name,
                namespace: text(&env.namespace),
                cwd: text(&env.pm_cwd).or_else(|| text(&env.cwd)),
                script: text(&env.pm_exec_path),
                exec_mode,
                status: text(&env.status),
                port: env.port(),
                node_env: env.node_env(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_ports_and_node_env_never_other_values() {
        let jlist = br#"[{"name":"shop-web","pm_id":0,"pm2_env":{"name":"shop-web","pm_cwd":"/srv/shop",
          "pm_exec_path":"/srv/shop/web.js","exec_mode":"cluster_mode","status":"online","namespace":"default",
          "SECRET":"canary-123","PORT":"9999","env":{"PORT":"8080","SECRET":"canary-123","NODE_ENV":"production"}}}]"#;
        let l = parse_launch_list(jlist).unwrap();
        assert_eq!(l[0].port, Some(8080));
        assert_eq!(l[0].node_env.as_deref(), Some("production"));
        assert_eq!(l[0].exec_mode.as_deref(), Some("cluster"));
        assert_eq!(l[0].cwd.as_deref(), Some("/srv/shop"));
        assert!(!format!("{l:?}").contains("canary"));
        // dump.pm2: the pm2_env objects themselves; a number port; no port at all.
        let dump =
            br#"[{"name":"q","pm_cwd":"/srv/q","status":"stopped","PORT":3001,"TOKEN":"canary"},
                        {"name":"cron","pm_cwd":"/srv/c","NODE_ENV":"staging"}]"#;
        let l = parse_launch_list(dump).unwrap();
        assert_eq!(l[0].port, Some(3001));
        assert_eq!(l[1].port, None);
        assert_eq!(l[1].node_env.as_deref(), Some("staging"));
        assert!(parse_launch_list(b"{}").is_err());
    }
}
