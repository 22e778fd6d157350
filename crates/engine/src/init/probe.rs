//! Finding each app's health endpoint: for every port, GET the usual paths on
//! 127.0.0.1 with a short timeout and keep the first that answers as a health
//! endpoint, with its format. A port that refuses or hangs is skipped at once.
use std::time::Duration;

use reqwest::Client;

use super::propose::Probe;
use crate::health::fetch;
use crate::health::format::detect;

/// Paths tried, in order.
pub const PATHS: &[&str] = &[
    "/api/health/ready",
    "/health",
    "/healthz",
    "/api/health",
    "/",
];

/// Probe each port on 127.0.0.1 (in parallel across ports, in order within one).
pub fn probe_ports(ports: &[u16], timeout: Duration) -> Vec<Probe> {
    let bases: Vec<(u16, String)> = ports
        .iter()
        .map(|p| (*p, format!("http://127.0.0.1:{p}")))
        .collect();
    probe_bases(&bases, timeout)
}

/// [`probe_ports`] where each port is reached at its own base URL (a forward standing in
/// for the server's port over ssh); the probes name the port as the apps know it.
pub fn probe_bases(bases: &[(u16, String)], timeout: Duration) -> Vec<Probe> {
    let run = || -> Vec<Probe> {
        let Ok(rt) = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        else {
            return vec![];
        };
        rt.block_on(async {
            let Ok(client) = Client::builder()
                .connect_timeout(timeout)
                .timeout(timeout)
                .redirect(reqwest::redirect::Policy::none())
                .no_proxy()
                .build()
            else {
                return vec![];
            };
            // Ports are probed concurrently; paths within a port in order.
            let mut set = tokio::task::JoinSet::new();
            for (i, (p, base)) in bases.iter().enumerate() {
                let (client, p, base) = (client.clone(), *p, base.clone());
                set.spawn(async move { (i, probe_port(&client, p, &base, timeout).await) });
            }
            let mut found: Vec<(usize, Probe)> = Vec::new();
            while let Some(r) = set.join_next().await {
                if let Ok((i, Some(p))) = r {
                    found.push((i, p));
                }
            }
            found.sort_by_key(|(i, _)| *i);
            found.into_iter().map(|(_, p)| p).collect()
        })
    };
    std::thread::scope(|s| s.spawn(run).join().unwrap_or_default())
}

async fn probe_port(client: &Client, port: u16, base: &str, timeout: Duration) -> Option<Probe> {
    for path in PATHS {
        let url = format!("{base}{path}");
        let mut status = None;
        let got = tokio::time::timeout(timeout, fetch(client, &url, 64 * 1024, &mut status)).await;
        match got {
            Ok(Ok(f)) => {
                if let Some(format) = detect(f.status, f.content_type.as_deref(), &f.body) {
                    return Some(Probe {
                        port,
                        path: path.to_string(),
                        format,
                        http_status: f.status,
                    });
                }
            }
            // Refused, reset or hung: nothing to find on this port.
            _ => return None,
        }
    }
    None
}
