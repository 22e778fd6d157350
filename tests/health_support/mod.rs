//! Real HTTP/1.1 servers on 127.0.0.1 for the health tests and the health bench: plain
//! std sockets, one thread per connection, each server with one behaviour.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use pm2_incident::runbook::inventory::Route;
use pm2_incident::runbook::{Environment, HealthTarget};

#[derive(Debug, Clone)]
pub enum Behavior {
    /// A complete response, then close.
    Respond {
        status: u16,
        content_type: Option<&'static str>,
        body: Vec<u8>,
    },
    /// 302 to `location` (a path on the same server, or a full URL).
    Redirect { location: String },
    /// Read the request, never answer (until the client goes away).
    Hang,
    /// Read the request, close without a word (an app dying mid-request).
    Close,
    /// 200 and a JSON-looking body that never ends.
    Endless,
    /// 200 with a body that dribbles one byte every 100 ms.
    Trickle,
}

impl Behavior {
    pub fn json(status: u16, body: &str) -> Self {
        Behavior::Respond {
            status,
            content_type: Some("application/json; charset=utf-8"),
            body: body.as_bytes().to_vec(),
        }
    }

    pub fn typed(status: u16, content_type: &'static str, body: &str) -> Self {
        Behavior::Respond {
            status,
            content_type: Some(content_type),
            body: body.as_bytes().to_vec(),
        }
    }
}

pub const HEALTHY: &str = r#"{"success":true,"data":{"status":"healthy","services":{"database":{"status":"healthy"},"redis":"ok"}}}"#;

pub struct Server {
    pub addr: SocketAddr,
    /// Body bytes written, over all connections.
    pub written: Arc<AtomicU64>,
    /// Connections accepted.
    pub accepted: Arc<AtomicU64>,
    /// Connections whose handler has returned (for `Endless`: the client closed).
    pub finished: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
}

impl Server {
    pub fn start(behavior: Behavior) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local addr");
        let written = Arc::new(AtomicU64::new(0));
        let accepted = Arc::new(AtomicU64::new(0));
        let finished = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (w, a, f, s) = (
            written.clone(),
            accepted.clone(),
            finished.clone(),
            stop.clone(),
        );
        thread::spawn(move || {
            for conn in listener.incoming() {
                if s.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                a.fetch_add(1, Ordering::SeqCst);
                let (b, w, f, s) = (behavior.clone(), w.clone(), f.clone(), s.clone());
                thread::spawn(move || {
                    serve(conn, &b, &w, &s);
                    f.fetch_add(1, Ordering::SeqCst);
                });
            }
        });
        Server {
            addr,
            written,
            accepted,
            finished,
            stop,
        }
    }

    /// Waits up to `limit` for every accepted connection's handler to return.
    pub fn wait_all_finished(&self, limit: Duration) -> bool {
        let end = std::time::Instant::now() + limit;
        while std::time::Instant::now() < end {
            if self.finished.load(Ordering::SeqCst) == self.accepted.load(Ordering::SeqCst) {
                return true;
            }
            thread::sleep(Duration::from_millis(10));
        }
        false
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_millis(200));
    }
}

/// A port with nothing listening on it (bound, then released).
pub fn closed_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

pub fn target(url: &str) -> HealthTarget {
    HealthTarget {
        url: url.to_string(),
        deployment: "test-deployment".into(),
        app: "test-app".into(),
        environment: Environment::Production,
        route: Route::Local,
        format: Default::default(),
    }
}

/// Reads the request head. `false` if it is not HTTP (a TLS ClientHello starts 0x16).
fn read_head(conn: &mut TcpStream) -> bool {
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 16 * 1024 {
        match conn.read(&mut buf) {
            Ok(0) | Err(_) => return false,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
        if !head[0].is_ascii_uppercase() {
            return false;
        }
    }
    true
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        404 => "Not Found",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Status",
    }
}

fn serve(mut conn: TcpStream, behavior: &Behavior, written: &AtomicU64, stop: &AtomicBool) {
    let _ = conn.set_read_timeout(Some(Duration::from_secs(30)));
    if !read_head(&mut conn) {
        // What a real HTTP server does with bytes that are not HTTP (e.g. a TLS hello).
        let _ = conn.write_all(
            b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        );
        return;
    }
    match behavior {
        Behavior::Respond {
            status,
            content_type,
            body,
        } => {
            let mut head = format!(
                "HTTP/1.1 {status} {}\r\nContent-Length: {}\r\nConnection: close\r\n",
                reason(*status),
                body.len()
            );
            if let Some(ct) = content_type {
                head.push_str(&format!("Content-Type: {ct}\r\n"));
            }
            head.push_str("\r\n");
            let _ = conn.write_all(head.as_bytes());
            let _ = conn.write_all(body);
            written.fetch_add(body.len() as u64, Ordering::SeqCst);
        }
        Behavior::Redirect { location } => {
            let head = format!(
                "HTTP/1.1 302 Found\r\nLocation: {location}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            );
            let _ = conn.write_all(head.as_bytes());
        }
        Behavior::Close => {}
        Behavior::Hang => {
            // Hold the socket until the client closes it (or the server is dropped).
            let _ = conn.set_read_timeout(Some(Duration::from_millis(100)));
            let mut buf = [0u8; 256];
            while !stop.load(Ordering::SeqCst) {
                match conn.read(&mut buf) {
                    Ok(0) => break,
                    Ok(_) => {}
                    Err(e)
                        if matches!(
                            e.kind(),
                            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                        ) => {}
                    Err(_) => break,
                }
            }
        }
        Behavior::Endless => {
            let _ = conn.write_all(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n",
            );
            let _ = conn.write_all(br#"{"data":{"status":"healthy","pad":""#);
            let chunk = vec![b'x'; 16 * 1024];
            while !stop.load(Ordering::SeqCst) {
                if conn.write_all(&chunk).is_err() {
                    break;
                }
                written.fetch_add(chunk.len() as u64, Ordering::SeqCst);
            }
        }
        Behavior::Trickle => {
            let _ = conn.write_all(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n",
            );
            while !stop.load(Ordering::SeqCst) {
                if conn.write_all(b" ").is_err() {
                    break;
                }
                written.fetch_add(1, Ordering::SeqCst);
                thread::sleep(Duration::from_millis(100));
            }
        }
    }
    let _ = conn.shutdown(Shutdown::Write);
}
