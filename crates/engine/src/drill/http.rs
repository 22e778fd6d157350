//! Health endpoints of the simulated server (pure): what the inventory's URLs answer given
//! the processes. Public URLs go through the simulated NGINX (502 when the app is down);
//! local URLs hit the app's port (connection refused when it is down).
use serde_json::json;

use super::state::{SimState, SimStatus, SiteDeployment};
use super::Output;
use crate::health::{HealthResult, Verdict};
use crate::runbook::inventory::Route;
use crate::runbook::HealthTarget;

pub const NGINX_502: &str = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx/1.24.0 (Ubuntu)</center>\r\n</body>\r\n</html>\r\n";

/// Whether the deployment's HTTP process (its first process) serves requests.
pub fn app_up(st: &SimState, d: &SiteDeployment) -> bool {
    let Some(spec) = d.processes.first() else {
        return false;
    };
    st.procs
        .iter()
        .any(|p| p.name == spec.name && p.status == SimStatus::Online && p.crash.is_none())
}

/// What one request answers: an HTTP response, or a connection failure.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    Http {
        status: u16,
        content_type: &'static str,
        body: String,
    },
    Refused {
        host: String,
        port: u16,
    },
    NoSuchHost(String),
}

struct Url<'a> {
    scheme: &'a str,
    host: &'a str,
    port: Option<u16>,
    path: &'a str,
}

fn split_url(url: &str) -> Option<Url<'_>> {
    let (scheme, rest) = url.split_once("://").unwrap_or(("http", url));
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) => (h, Some(p.parse().ok()?)),
        None => (authority, None),
    };
    let path = path.split(['?', '#']).next().unwrap_or("/");
    Some(Url {
        scheme,
        host,
        port,
        path,
    })
}

fn default_port(scheme: &str) -> u16 {
    if scheme == "https" {
        443
    } else {
        80
    }
}

fn same_origin(a: &Url, base: &str) -> bool {
    let Some(b) = split_url(base) else {
        return false;
    };
    a.host.eq_ignore_ascii_case(b.host)
        && a.port.unwrap_or(default_port(a.scheme)) == b.port.unwrap_or(default_port(b.scheme))
}

fn services(st: &SimState, d: &SiteDeployment) -> serde_json::Value {
    let mut svc = serde_json::Map::new();
    for s in ["database", "redis", "storage"] {
        svc.insert(s.into(), json!({"status": "healthy", "latency": 2}));
    }
    // Workers report through the queue: a dead worker shows as a degraded queue.
    let workers_up = d.processes.iter().skip(1).all(|spec| {
        st.procs
            .iter()
            .any(|p| p.name == spec.name && p.status == SimStatus::Online)
    });
    svc.insert(
        "queue".into(),
        json!({"status": if workers_up { "healthy" } else { "degraded" }, "latency": 3}),
    );
    serde_json::Value::Object(svc)
}

/// Answer a GET of `url` from the server itself.
pub fn get(st: &SimState, url: &str) -> Answer {
    let Some(u) = split_url(url) else {
        return Answer::NoSuchHost(url.to_string());
    };
    for d in &st.deployments {
        let public = same_origin(&u, &d.public_url);
        let local = d.local_url.as_deref().is_some_and(|l| same_origin(&u, l));
        if !public && !local {
            continue;
        }
        if !app_up(st, d) {
            if public {
                return Answer::Http {
                    status: 502,
                    content_type: "text/html",
                    body: NGINX_502.into(),
                };
            }
            return Answer::Refused {
                host: u.host.to_string(),
                port: u.port.unwrap_or(default_port(u.scheme)),
            };
        }
        let json_body = |status: u16, v: serde_json::Value| Answer::Http {
            status,
            content_type: "application/json; charset=utf-8",
            body: v.to_string(),
        };
        if u.path.trim_end_matches('/') == d.ready_path.trim_end_matches('/') {
            let instance = st
                .procs
                .iter()
                .find(|p| Some(&p.name) == d.processes.first().map(|s| &s.name))
                .map(|p| p.instance_no)
                .unwrap_or(0);
            return json_body(
                200,
                json!({"success": true, "data": {"status": "healthy", "app": d.processes.first().map(|s| s.name.clone()), "instance": instance.to_string(), "timestamp": ts(st.now_ms), "services": services(st, d)}}),
            );
        }
        if u.path.trim_end_matches('/') == d.ping_path.trim_end_matches('/') {
            return json_body(200, json!({"success": true, "data": {"message": "pong"}}));
        }
        return json_body(
            404,
            json!({"success": false, "error": {"message": "Not Found"}}),
        );
    }
    if ["localhost", "127.0.0.1", "::1", "[::1]"].contains(&u.host) {
        return Answer::Refused {
            host: u.host.to_string(),
            port: u.port.unwrap_or(default_port(u.scheme)),
        };
    }
    Answer::NoSuchHost(u.host.to_string())
}

fn ts(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .unwrap_or_default()
}

/// The health checker's verdict for one target, as the real checker would give it.
pub fn health(st: &SimState, target: &HealthTarget) -> HealthResult {
    let (http_status, verdict, latency_ms) = match get(st, &target.url) {
        Answer::Http {
            status,
            content_type,
            body,
        } => (
            Some(status),
            crate::health::interpret_as(
                target.format,
                &target.url,
                status,
                Some(content_type),
                body.as_bytes(),
                false,
            ),
            if status == 200 { 14 } else { 3 },
        ),
        Answer::Refused { .. } => (None, Verdict::Refused, 0),
        Answer::NoSuchHost(_) => (None, Verdict::DnsFailure, 0),
    };
    HealthResult {
        target: target.clone(),
        http_status,
        latency_ms,
        verdict,
    }
}

pub fn health_round(st: &SimState, targets: &[HealthTarget]) -> Vec<HealthResult> {
    targets.iter().map(|t| health(st, t)).collect()
}

/// The health targets of the simulated site (public and local ready URLs).
pub fn targets(st: &SimState) -> Vec<HealthTarget> {
    let mut out = Vec::new();
    for d in &st.deployments {
        let join = |b: &str| crate::runbook::inventory::join_url(b, &d.ready_path);
        let bases = std::iter::once((Route::Public, Some(d.public_url.clone())))
            .chain(std::iter::once((Route::Local, d.local_url.clone())));
        for (route, base) in bases {
            if let Some(b) = base {
                out.push(HealthTarget {
                    url: join(&b),
                    deployment: d.id.clone(),
                    app: d.app.clone(),
                    environment: d.environment,
                    route,
                    format: Default::default(),
                });
            }
        }
    }
    out
}

/// `curl [-s] [-S] [-f] [-i] [-o FILE] [-w FMT] URL`. A body for `-o FILE` (not /dev/null)
/// is returned in `Output::file` for the caller to write.
pub fn curl(st: &SimState, args: &[String]) -> Output {
    let (mut silent, mut show_err, mut fail, mut include) = (false, false, false, false);
    let (mut output, mut write_out, mut url) = (None::<String>, None::<String>, None::<String>);
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--silent" => silent = true,
            "--show-error" => show_err = true,
            "--fail" => fail = true,
            "--include" => include = true,
            "-o" | "--output" => output = it.next().cloned(),
            "-w" | "--write-out" => write_out = it.next().cloned(),
            "-H" | "--header" | "-m" | "--max-time" | "--connect-timeout" | "-X" | "--request"
            | "-A" | "--user-agent" => {
                it.next();
            }
            "-L" | "--location" | "-k" | "--insecure" | "-v" | "--verbose" | "-I" => {}
            s if s.starts_with("--") => {}
            s if s.starts_with('-') && s.len() > 1 => {
                for c in s[1..].chars() {
                    match c {
                        's' => silent = true,
                        'S' => show_err = true,
                        'f' => fail = true,
                        'i' => include = true,
                        'o' => output = it.next().cloned(),
                        'w' => write_out = it.next().cloned(),
                        'm' | 'H' | 'X' => {
                            it.next();
                        }
                        _ => {}
                    }
                }
            }
            s => url = Some(s.to_string()),
        }
    }
    let Some(url) = url else {
        return Output::err(
            "curl: try 'curl --help' or 'curl --manual' for more information\n".into(),
            2,
        );
    };
    let mut out = Output::default();
    let err_visible = !silent || show_err;
    let (code, body, status) = match get(st, &url) {
        Answer::NoSuchHost(h) => {
            if err_visible {
                out.stderr = format!("curl: (6) Could not resolve host: {h}\n");
            }
            (6, String::new(), 0)
        }
        Answer::Refused { host, port } => {
            if err_visible {
                out.stderr = format!("curl: (7) Failed to connect to {host} port {port} after 0 ms: Couldn't connect to server\n");
            }
            (7, String::new(), 0)
        }
        Answer::Http {
            status,
            content_type,
            body,
        } => {
            if fail && status >= 400 {
                if err_visible {
                    out.stderr = format!("curl: (22) The requested URL returned error: {status}\n");
                }
                (22, String::new(), status)
            } else {
                let mut full = String::new();
                if include {
                    full += &format!(
                        "HTTP/1.1 {status} {}\r\ncontent-type: {content_type}\r\n\r\n",
                        reason(status)
                    );
                }
                full += &body;
                (0, full, status)
            }
        }
    };
    match output.as_deref() {
        Some("/dev/null") => {}
        Some("-") | None => out.stdout += &body,
        Some(path) => out.file = Some((path.to_string(), body)),
    }
    if let Some(w) = write_out {
        out.stdout += &w
            .replace("%{http_code}", &format!("{status:03}"))
            .replace("%{response_code}", &format!("{status:03}"))
            .replace("%{time_total}", "0.014")
            .replace("\\n", "\n");
    }
    out.code = code;
    out
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        404 => "Not Found",
        502 => "Bad Gateway",
        _ => "",
    }
}
