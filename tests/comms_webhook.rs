//! The comms webhook against a real local HTTP server (a TCP listener speaking HTTP/1.1
//! in this test): 200, 500, no answer (timeout), nobody listening; and the comms editor's
//! Ctrl-G: journaled either way, sent only when posted, the draft kept on failure. The
//! URL (a credential) never reaches an outcome or the journal.
mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::mpsc;
use std::time::Duration;

use pm2_incident::app::{Effect, Msg, Popup};
use pm2_incident::comms::webhook::{self, PostOutcome, ENV_VAR};
use pm2_incident::incident::event::Event;
use ratatui::crossterm::event::KeyCode;
use support::app_fixture::*;

struct Request {
    method: String,
    path: String,
    content_type: String,
    body: serde_json::Value,
}

/// Answers each connection by path: `/ok…` 200, `/fail…` 500, `/slow…` never.
/// Every request received is sent on the channel.
fn server() -> (u16, mpsc::Receiver<Request>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for conn in l.incoming() {
            let Ok(mut conn) = conn else { continue };
            let tx = tx.clone();
            std::thread::spawn(move || {
                let mut r = BufReader::new(conn.try_clone().unwrap());
                let mut line = String::new();
                r.read_line(&mut line).unwrap();
                let mut parts = line.split_whitespace();
                let method = parts.next().unwrap_or("").to_string();
                let path = parts.next().unwrap_or("").to_string();
                let (mut len, mut ctype) = (0usize, String::new());
                loop {
                    let mut h = String::new();
                    r.read_line(&mut h).unwrap();
                    if h.trim().is_empty() {
                        break;
                    }
                    let (k, v) = h.split_once(':').unwrap();
                    match k.to_ascii_lowercase().as_str() {
                        "content-length" => len = v.trim().parse().unwrap(),
                        "content-type" => ctype = v.trim().to_string(),
                        _ => {}
                    }
                }
                let mut body = vec![0; len];
                r.read_exact(&mut body).unwrap();
                let _ = tx.send(Request {
                    method,
                    path: path.clone(),
                    content_type: ctype,
                    body: serde_json::from_slice(&body).unwrap_or_default(),
                });
                let status = if path.starts_with("/ok") {
                    "200 OK"
                } else if path.starts_with("/fail") {
                    "500 Internal Server Error"
                } else {
                    std::thread::sleep(Duration::from_secs(30));
                    return;
                };
                let _ = write!(
                    conn,
                    "HTTP/1.1 {status}\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok"
                );
            });
        }
    });
    (port, rx)
}

fn post(url: &str, timeout: Duration) -> PostOutcome {
    let url = url.to_string();
    webhook::post_blocking(
        &move |k| (k == ENV_VAR).then(|| url.clone()),
        "INCIDENT: P1",
        "all apps down",
        timeout,
    )
}

const SECRET: &str = "T000/B000/s3cr3t";

#[test]
fn posts_slack_json_and_reports_each_failure_without_the_url() {
    let (port, rx) = server();
    let base = format!("http://127.0.0.1:{port}");

    let ok = post(&format!("{base}/ok/{SECRET}"), Duration::from_secs(5));
    assert_eq!(ok, PostOutcome::Posted { http_status: 200 });
    let req = rx.recv_timeout(Duration::from_secs(5)).unwrap();
    assert_eq!(req.method, "POST");
    assert_eq!(req.path, format!("/ok/{SECRET}"));
    assert_eq!(req.content_type, "application/json");
    assert_eq!(
        req.body,
        serde_json::json!({"text": "*INCIDENT: P1*\nall apps down"})
    );

    let fail = post(&format!("{base}/fail/{SECRET}"), Duration::from_secs(5));
    assert_eq!(fail, PostOutcome::Rejected { http_status: 500 });
    assert!(fail.describe().contains("500") && fail.describe().contains("draft is kept"));

    let started = std::time::Instant::now();
    let slow = post(&format!("{base}/slow/{SECRET}"), Duration::from_millis(800));
    assert_eq!(slow, PostOutcome::Timeout { after_ms: 800 });
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "the timeout holds"
    );
    assert!(
        slow.describe().contains("may or may not"),
        "{}",
        slow.describe()
    );

    // Nobody listening: a reason, and no URL in it.
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead_port = dead.local_addr().unwrap().port();
    drop(dead);
    let refused = post(
        &format!("http://127.0.0.1:{dead_port}/{SECRET}"),
        Duration::from_secs(5),
    );
    match &refused {
        PostOutcome::Failed { reason } => assert!(!reason.is_empty()),
        other => panic!("expected a failure, got {other:?}"),
    }
    for o in [ok, fail, slow, refused] {
        let shown = format!(
            "{o:?} {} {}",
            o.describe(),
            serde_json::to_string(&o).unwrap()
        );
        assert!(!shown.contains("s3cr3t"), "the URL leaked: {shown}");
    }

    // Not configured: says how to configure, posts nothing.
    let cfg = tempfile::tempdir().unwrap();
    let xdg = cfg.path().to_str().unwrap().to_string();
    let none = webhook::post_blocking(
        &move |k| (k == "XDG_CONFIG_HOME").then(|| xdg.clone()),
        "s",
        "b",
        Duration::from_secs(1),
    );
    match none {
        PostOutcome::NotConfigured { reason } => {
            assert!(
                reason.contains(ENV_VAR) && reason.contains("webhook.toml"),
                "{reason}"
            )
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn the_comms_editor_posts_journals_and_keeps_the_draft_on_failure() {
    let (port, _rx) = server();
    let mut app = new_app();
    everything_down(&mut app, at(1));
    go_to_step(&mut app, "notify", at(60));
    app.update(code(KeyCode::Enter), at(61));
    assert_eq!(app.popup, Some(Popup::Compose));
    type_str(&mut app, "X", at(61));

    // Ctrl-G: the draft as edited goes out (and is journaled first).
    let effects = app.update(ctrl('g'), at(62));
    let (comm_id, subject, body) = match &effects[..] {
        [Effect::PostWebhook {
            comm_id,
            subject,
            body,
        }] => (*comm_id, subject.clone(), body.clone()),
        other => panic!("expected a webhook post, got {other:?}"),
    };
    assert!(body.starts_with('X'));
    // The runtime's part, for real: post to the server that answers 500.
    let url = format!("http://127.0.0.1:{port}/fail/{SECRET}");
    let outcome = webhook::post_blocking(
        &move |k| (k == ENV_VAR).then(|| url.clone()),
        &subject,
        &body,
        Duration::from_secs(5),
    );
    app.update(Msg::WebhookPosted { comm_id, outcome }, at(63));
    assert_eq!(app.popup, Some(Popup::Compose), "the draft stays open");
    assert!(app.compose.as_ref().unwrap().body().starts_with('X'));
    assert!(app.flash.as_deref().unwrap_or("").contains("500"));
    assert!(app.incident.comms[0].sent.is_empty(), "not sent");

    // Again, to the server that answers 200: sent, editor closed.
    let url = format!("http://127.0.0.1:{port}/ok/{SECRET}");
    let outcome = webhook::post_blocking(
        &move |k| (k == ENV_VAR).then(|| url.clone()),
        &subject,
        &body,
        Duration::from_secs(5),
    );
    app.update(Msg::WebhookPosted { comm_id, outcome }, at(64));
    assert!(app.popup.is_none());
    assert_eq!(app.incident.comms[0].sent.len(), 1);
    assert_eq!(app.incident.comms[0].sent[0].1.channel, "webhook");

    let posted: Vec<_> = app
        .outbox
        .iter()
        .filter_map(|(_, e)| match e {
            Event::CommPosted(p) => Some(p.outcome.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(
        posted,
        [
            PostOutcome::Rejected { http_status: 500 },
            PostOutcome::Posted { http_status: 200 }
        ]
    );
    let journal = app
        .outbox
        .iter()
        .map(|(_, e)| serde_json::to_string(e).unwrap())
        .collect::<String>();
    assert!(!journal.contains("s3cr3t"), "the URL reached the journal");
    assert!(journal.contains("\"kind\":\"comm_posted\""));
}
