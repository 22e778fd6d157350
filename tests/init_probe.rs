//! Health endpoint discovery against real HTTP servers on 127.0.0.1: each format is
//! detected on the first path that answers as a health endpoint; a server that
//! accepts and never answers, and a closed port, are skipped within the timeout.
use std::io::{Read, Write};
use std::net::TcpListener;
use std::time::{Duration, Instant};

use pm2_incident::init::probe::probe_ports;
use pm2_incident::runbook::inventory::HealthFormat;

/// Serve `answer(path) -> Some((status, content type, body))` (None: hang) forever.
fn serve(answer: fn(&str) -> Option<(u16, &'static str, &'static str)>) -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for s in l.incoming().flatten() {
            std::thread::spawn(move || {
                let mut s = s;
                let mut buf = [0u8; 2048];
                let n = s.read(&mut buf).unwrap_or(0);
                let req = String::from_utf8_lossy(&buf[..n]).to_string();
                let path = req.split_whitespace().nth(1).unwrap_or("/").to_string();
                match answer(&path) {
                    Some((code, ct, body)) => {
                        let _ = write!(
                            s,
                            "HTTP/1.1 {code} X\r\ncontent-type: {ct}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                            body.len()
                        );
                    }
                    // Hold the connection open and say nothing.
                    None => std::thread::sleep(Duration::from_secs(30)),
                }
            });
        }
    });
    port
}

#[test]
fn formats_are_detected_and_silent_servers_skipped() {
    let runbook = serve(|p| match p {
        "/api/health/ready" => Some((200, "application/json", r#"{"data":{"status":"healthy"}}"#)),
        _ => Some((404, "text/plain", "no")),
    });
    let hjson = serve(|p| match p {
        "/health" => Some((200, "application/health+json", r#"{"status":"pass"}"#)),
        _ => Some((404, "text/html", "<h1>404</h1>")),
    });
    let plain = serve(|p| match p {
        "/healthz" => Some((204, "text/plain", "")),
        _ => Some((404, "text/plain", "no")),
    });
    let root_only = serve(|p| match p {
        "/" => Some((200, "text/html", "<html>home</html>")),
        _ => Some((404, "text/plain", "no")),
    });
    let failing = serve(|p| match p {
        // Down, but in the runbook's shape: still its health endpoint.
        "/api/health/ready" => Some((
            503,
            "application/json",
            r#"{"data":{"status":"unhealthy"}}"#,
        )),
        _ => Some((404, "text/plain", "no")),
    });
    let hang = serve(|_| None);
    let closed = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let timeout = Duration::from_millis(500);
    let start = Instant::now();
    let found = probe_ports(
        &[runbook, hjson, plain, root_only, failing, hang, closed],
        timeout,
    );
    let elapsed = start.elapsed();
    let got: Vec<(u16, &str, HealthFormat)> = found
        .iter()
        .map(|p| (p.port, p.path.as_str(), p.format))
        .collect();
    assert_eq!(
        got,
        vec![
            (runbook, "/api/health/ready", HealthFormat::Runbook),
            (hjson, "/health", HealthFormat::HealthJson),
            (plain, "/healthz", HealthFormat::Status2xx),
            (root_only, "/", HealthFormat::Status2xx),
            (failing, "/api/health/ready", HealthFormat::Runbook),
        ]
    );
    // Ports run concurrently, and a hanging one costs one timeout, not one per path.
    assert!(elapsed < timeout * 4, "took {elapsed:?}");
}
