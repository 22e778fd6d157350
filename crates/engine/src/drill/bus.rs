//! PM2 bus events of the simulated daemon (pure), for the TUI's event line: what a live
//! `launchBus` subscriber would have seen, read back from the simulated pm2.log.
use super::state::{LogSource, SimState};

/// One bus event: process name, PM2's event name (`online`, `exit`, `stop`, `errored`), detail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BusEvent {
    pub at_ms: i64,
    pub process: String,
    pub event: String,
    pub detail: String,
}

/// `App [name:id] ...` → (name, id, rest).
fn app_ref(text: &str) -> Option<(&str, &str, &str)> {
    let rest = text.strip_prefix("PM2 log: App [")?;
    let (inner, tail) = rest.split_once("] ")?;
    let (name, id) = inner.rsplit_once(':')?;
    Some((name, id, tail))
}

/// Events with `from_ms < at <= to_ms`, in time order.
pub fn events_between(st: &SimState, from_ms: i64, to_ms: i64) -> Vec<BusEvent> {
    let mut lines: Vec<_> = st
        .logs
        .iter()
        .filter(|l| l.source == LogSource::Pm2 && l.at_ms > from_ms && l.at_ms <= to_ms)
        .collect();
    lines.sort_by_key(|l| l.at_ms);
    let mut out = Vec::new();
    for l in lines {
        let ev = |process: &str, event: &str, detail: String| BusEvent {
            at_ms: l.at_ms,
            process: process.to_string(),
            event: event.to_string(),
            detail,
        };
        if let Some((name, id, tail)) = app_ref(&l.text) {
            if tail == "online" {
                out.push(ev(name, "online", format!("pm_id {id}")));
            } else if let Some(x) = tail.strip_prefix("exited with code [") {
                let (code, sig) = x.split_once("] via signal [").unwrap_or((x, ""));
                out.push(ev(
                    name,
                    "exit",
                    format!(
                        "pm_id {id} code {code} signal {}",
                        sig.trim_end_matches(']')
                    ),
                ));
            }
        } else if let Some(x) = l.text.strip_prefix("PM2 log: Stopping app:") {
            let (name, id) = x.split_once(" id:").unwrap_or((x, ""));
            out.push(ev(name, "stop", format!("pm_id {id}")));
        } else if l.text.contains("had too many unstable restarts") {
            let script = l
                .text
                .trim_start_matches("PM2 log: Script ")
                .split(' ')
                .next()
                .unwrap_or("");
            let name = st
                .procs
                .iter()
                .find(|p| p.script == script)
                .map(|p| p.name.as_str())
                .unwrap_or(script);
            out.push(ev(name, "errored", "too many unstable restarts".into()));
        }
    }
    out
}
