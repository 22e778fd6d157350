//! Health over ssh: `local_url`s are checked from the server's side through TCP forwards on
//! the master; `public_url`s from this machine, as users reach them. Results keep the
//! inventory's URL, so they read (and compare) like a local round.
use super::session::Session;
use crate::health::{HealthChecker, HealthResult, Verdict};
use crate::runbook::inventory::Route;
use crate::runbook::HealthTarget;
use std::collections::BTreeSet;

/// Where a target is fetched from: its own URL, or a forward standing in for it.
#[derive(Debug)]
enum Plan {
    Direct,
    Forwarded { port: u16 },
    Failed(String),
}

/// A local URL and the host and port its connection goes to on the server.
type Endpoint = (reqwest::Url, String, u16);

/// Where a local URL's connection goes on the server: host and port, or why it cannot.
fn local_endpoint(t: &HealthTarget) -> Result<Endpoint, String> {
    let url = reqwest::Url::parse(&t.url).map_err(|_| "not a URL".to_string())?;
    if url.scheme() != "http" {
        // A forward changes the host name, so TLS names would no longer match.
        return Err(format!(
            "{} local_url cannot be checked through ssh",
            url.scheme()
        ));
    }
    let (Some(host), Some(port)) = (
        url.host_str().map(str::to_string),
        url.port_or_known_default(),
    ) else {
        return Err("URL without host or port".into());
    };
    let host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_string();
    Ok((url, host, port))
}

/// Every target's plan; the forwards local URLs need are asked for in one ssh request.
fn plans(session: &Session, targets: &[HealthTarget]) -> Vec<(HealthTarget, Plan)> {
    let endpoints: Vec<Option<Result<Endpoint, String>>> = targets
        .iter()
        .map(|t| (t.route == Route::Local).then(|| local_endpoint(t)))
        .collect();
    let wanted: Vec<(String, u16)> = endpoints
        .iter()
        .flatten()
        .flatten()
        .map(|(_, h, p)| (h.clone(), *p))
        .collect();
    let mut ports = session.forward_tcp_many(&wanted).into_iter();
    targets
        .iter()
        .zip(endpoints)
        .map(|(t, e)| match e {
            None => (t.clone(), Plan::Direct),
            Some(Err(msg)) => (t.clone(), Plan::Failed(msg)),
            Some(Ok((mut url, _, port))) => match ports.next() {
                Some(Ok(lp)) => {
                    let _ = url.set_host(Some("127.0.0.1"));
                    let _ = url.set_port(Some(lp));
                    let mut fwd = t.clone();
                    fwd.url = url.to_string();
                    (fwd, Plan::Forwarded { port })
                }
                Some(Err(e)) => (t.clone(), Plan::Failed(format!("ssh forward failed: {e}"))),
                None => (t.clone(), Plan::Failed("ssh forward failed".into())),
            },
        })
        .collect()
}

/// One health round for a remote host. Never fails: every outcome is a verdict.
pub fn check_remote(
    session: &Session,
    checker: &HealthChecker,
    targets: &[HealthTarget],
) -> Vec<HealthResult> {
    let plans = plans(session, targets);
    let runnable: Vec<HealthTarget> = plans
        .iter()
        .filter(|(_, p)| !matches!(p, Plan::Failed(_)))
        .map(|(t, _)| t.clone())
        .collect();
    let mut fetched = match checker.check_all_blocking(&runnable) {
        Ok(r) => r.into_iter(),
        Err(e) => return targets.iter().map(|t| failed(t, &e.to_string())).collect(),
    };
    let mut out: Vec<(HealthResult, Option<u16>)> = Vec::with_capacity(targets.len());
    for ((_, p), orig) in plans.iter().zip(targets) {
        match p {
            Plan::Failed(msg) => out.push((failed(orig, msg), None)),
            Plan::Direct | Plan::Forwarded { .. } => {
                let mut r = fetched.next().unwrap_or_else(|| failed(orig, "no result"));
                r.target = orig.clone();
                let port = match p {
                    Plan::Forwarded { port } => Some(*port),
                    _ => None,
                };
                out.push((r, port));
            }
        }
    }
    refine_refused(session, &mut out);
    out.into_iter().map(|(r, _)| r).collect()
}

/// Through a forward, "nothing listens" arrives as a connection closed at once, not as a
/// refusal. Ask the server (read-only, `/proc/net/tcp*`) which of those ports have a listener:
/// a port with none is what a local check would call refused.
fn refine_refused(session: &Session, out: &mut [(HealthResult, Option<u16>)]) {
    let suspect = |r: &HealthResult| {
        r.http_status.is_none() && matches!(r.verdict, Verdict::Error { .. } | Verdict::Refused)
    };
    let ports: BTreeSet<u16> = out
        .iter()
        .filter(|(r, p)| p.is_some() && suspect(r))
        .filter_map(|(_, p)| *p)
        .collect();
    if ports.is_empty() {
        return;
    }
    let Ok(listening) = listening_ports(session, &ports) else {
        return;
    };
    for (r, p) in out.iter_mut() {
        if let Some(port) = p {
            if suspect(r) && !listening.contains(port) {
                r.verdict = Verdict::Refused;
            }
        }
    }
}

/// The script that lists which of `ports` have a TCP listener on the server (pure).
pub fn listen_script(ports: &BTreeSet<u16>) -> String {
    let hex: Vec<String> = ports.iter().map(|p| format!("{p:04X}")).collect();
    format!(
        "cat /proc/net/tcp /proc/net/tcp6 2>/dev/null | awk 'BEGIN{{split(\"{}\",w,\" \")}} \
         $4==\"0A\" {{n=split($2,a,\":\"); for(i in w) if (a[n]==w[i]) print \"listen=\" w[i]}}' | sort -u",
        hex.join(" ")
    )
}

fn listening_ports(session: &Session, ports: &BTreeSet<u16>) -> Result<BTreeSet<u16>, String> {
    let out = session
        .run_sh(&listen_script(ports))
        .map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err("listener probe failed".into());
    }
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.strip_prefix("listen="))
        .filter_map(|h| u16::from_str_radix(h.trim(), 16).ok())
        .collect())
}

fn failed(t: &HealthTarget, msg: &str) -> HealthResult {
    HealthResult {
        target: t.clone(),
        http_status: None,
        latency_ms: 0,
        verdict: Verdict::Error {
            message: msg.to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listen_script_finds_a_real_listener() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let free = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let ports: BTreeSet<u16> = [port, free].into_iter().collect();
        let out = std::process::Command::new("sh")
            .args(["-c", &listen_script(&ports)])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains(&format!("listen={port:04X}")), "{text}");
        assert!(!text.contains(&format!("listen={free:04X}")), "{text}");
    }
}
