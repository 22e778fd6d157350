//! CONTRACT TEST (no Gitea server can be installed here): the Gitea client against a local
//! HTTP server that answers with the shapes of Gitea's published API, go-gitea `main` as of
//! 2026 (`ActionWorkflowRun` after PR #35382; list runs since 1.25; `POST …/cancel` from
//! PR #35382: 200 with the run, 409 "run is already completed"), plus a 1.25-era run
//! without `conclusion`/`head_branch`. Covers list, cancel, 401, 404 and 409, and that the
//! token goes in `Authorization: token …` and nowhere else.
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use pm2_incident::deploy::gitea::{Client, GiteaError, Token};

#[derive(Debug, Clone)]
struct Seen {
    method: String,
    target: String,
    auth: Option<String>,
}

const RUN_RUNNING: &str = r#"{
  "id": 101, "url": "http://g/api/v1/repos/acme/shop/actions/runs/101",
  "html_url": "http://g/acme/shop/actions/runs/7", "run_number": 7, "run_attempt": 1,
  "event": "push", "display_title": "Fix price rounding",
  "head_sha": "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678", "head_branch": "main",
  "path": "deploy.yml@refs/heads/main", "status": "in_progress", "conclusion": "",
  "created_at": "2026-02-17T04:10:00+01:00", "updated_at": "2026-02-17T04:11:00+01:00",
  "started_at": "2026-02-17T04:10:05+01:00", "completed_at": "1970-01-01T01:00:00+01:00",
  "jobs_url": "", "logs_url": "", "artifacts_url": "", "cancel_url": "", "rerun_url": "",
  "previous_attempt_url": null,
  "repository": {"id": 1, "full_name": "acme/shop"},
  "actor": {"id": 3, "login": "ci-bot"}, "trigger_actor": {"id": 3, "login": "ci-bot"},
  "pull_requests": []
}"#;

// 1.25-era shape: no conclusion, head_branch, created_at or *_url fields.
const RUN_QUEUED_OLD: &str = r#"{
  "id": 102, "html_url": "http://g/acme/shop/actions/runs/8", "run_number": 8,
  "event": "push", "display_title": "Bump deps",
  "head_sha": "ffeeddccbbaa99887766554433221100ffeeddcc",
  "path": "deploy.yml@refs/heads/main", "status": "queued",
  "repository": {"id": 1}, "actor": {"login": "alice"}
}"#;

fn respond(stream: &mut std::net::TcpStream, code: u16, reason: &str, body: &str) {
    let _ = write!(
        stream,
        "HTTP/1.1 {code} {reason}\r\nContent-Type: application/json;charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
}

/// Serves Gitea's answers; records each request line and its Authorization header.
fn server() -> (String, Arc<Mutex<Vec<Seen>>>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", l.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    std::thread::spawn(move || {
        for s in l.incoming() {
            let Ok(mut s) = s else { continue };
            s.set_read_timeout(Some(Duration::from_secs(5))).ok();
            let mut r = BufReader::new(s.try_clone().unwrap());
            let mut line = String::new();
            if r.read_line(&mut line).is_err() {
                continue;
            }
            let mut parts = line.split_whitespace();
            let method = parts.next().unwrap_or("").to_string();
            let target = parts.next().unwrap_or("").to_string();
            let mut auth = None;
            let mut len = 0usize;
            loop {
                let mut h = String::new();
                if r.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" {
                    break;
                }
                let (k, v) = h.split_once(':').unwrap_or((&h, ""));
                match k.to_ascii_lowercase().as_str() {
                    "authorization" => auth = Some(v.trim().to_string()),
                    "content-length" => len = v.trim().parse().unwrap_or(0),
                    _ => {}
                }
            }
            let mut body = vec![0; len];
            let _ = r.read_exact(&mut body);
            log.lock().unwrap().push(Seen {
                method: method.clone(),
                target: target.clone(),
                auth: auth.clone(),
            });
            let path = target.split('?').next().unwrap_or("");
            if auth.as_deref() != Some("token good-token") {
                respond(
                    &mut s,
                    401,
                    "Unauthorized",
                    r#"{"message":"invalid username, password or token","url":"http://g/api/swagger"}"#,
                );
                continue;
            }
            match (method.as_str(), path) {
                ("GET", "/api/v1/repos/acme/shop/actions/runs") => respond(
                    &mut s,
                    200,
                    "OK",
                    &format!(
                        r#"{{"workflow_runs":[{RUN_QUEUED_OLD},{RUN_RUNNING}],"total_count":2}}"#
                    ),
                ),
                ("POST", "/api/v1/repos/acme/shop/actions/runs/101/cancel") => {
                    respond(&mut s, 200, "OK", RUN_RUNNING)
                }
                ("POST", "/api/v1/repos/acme/shop/actions/runs/100/cancel") => respond(
                    &mut s,
                    409,
                    "Conflict",
                    r#"{"message":"run is already completed","url":"http://g/api/swagger"}"#,
                ),
                _ => respond(
                    &mut s,
                    404,
                    "Not Found",
                    r#"{"errors":null,"message":"The target couldn't be found.","url":"http://g/api/swagger"}"#,
                ),
            }
        }
    });
    (base, seen)
}

fn client(base: &str, token: &str) -> Client {
    Client::new(base, Token::new(token), Duration::from_secs(5)).unwrap()
}

#[tokio::test]
async fn list_running_and_waiting_runs() {
    let (base, seen) = server();
    let runs = client(&base, "good-token")
        .active_runs("acme/shop")
        .await
        .unwrap();
    assert_eq!(
        runs.iter().map(|r| r.id).collect::<Vec<_>>(),
        vec![102, 101],
        "newest first"
    );
    let running = &runs[1];
    assert_eq!(running.workflow(), "deploy.yml");
    assert_eq!(running.head_sha, "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678");
    assert!(running.active());
    assert_eq!(
        running.summary(),
        "deploy.yml #7 in_progress a1b2c3d4 (main) Fix price rounding"
    );
    // The old shape decodes too, without a branch.
    assert_eq!(runs[0].summary(), "deploy.yml #8 queued ffeeddcc Bump deps");
    let s = seen.lock().unwrap();
    assert_eq!(s[0].method, "GET");
    assert_eq!(
        s[0].target,
        "/api/v1/repos/acme/shop/actions/runs?status=in_progress&status=queued&status=waiting&limit=50"
    );
    assert_eq!(s[0].auth.as_deref(), Some("token good-token"));
    assert!(!s[0].target.contains("good-token"), "no token in the URL");
}

#[tokio::test]
async fn cancel_a_running_run_and_a_finished_one() {
    let (base, seen) = server();
    let c = client(&base, "good-token");
    let run = c.cancel("acme/shop", 101).await.unwrap();
    assert_eq!(run.id, 101);
    assert_eq!(
        c.cancel("acme/shop", 100).await,
        Err(GiteaError::AlreadyFinished)
    );
    let s = seen.lock().unwrap();
    assert_eq!(s[0].method, "POST");
    assert_eq!(
        s[0].target,
        "/api/v1/repos/acme/shop/actions/runs/101/cancel"
    );
}

#[tokio::test]
async fn bad_token_and_unknown_repository() {
    let (base, _) = server();
    let bad = client(&base, "wrong").active_runs("acme/shop").await;
    assert_eq!(bad, Err(GiteaError::Unauthorized));
    let missing = client(&base, "good-token").active_runs("acme/nope").await;
    assert_eq!(missing, Err(GiteaError::NotFound("acme/nope".into())));
    let msg = missing.unwrap_err().to_string();
    assert!(msg.contains("acme/nope") && msg.contains("404"), "{msg}");
    // Nothing listens: said plainly, with no token in the text.
    let gone = client("http://127.0.0.1:9", "good-token")
        .active_runs("acme/shop")
        .await
        .unwrap_err();
    assert!(matches!(gone, GiteaError::Transport(_)));
    assert!(!gone.to_string().contains("good-token"));
}

#[test]
fn token_file_must_be_private_and_debug_hides_the_token() {
    use pm2_incident::deploy::gitea::token_from_file;
    use std::os::unix::fs::PermissionsExt;
    let t = tempfile::tempdir().unwrap();
    let f = t.path().join("token");
    std::fs::write(&f, "s3cret-token\n").unwrap();
    std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o644)).unwrap();
    let e = token_from_file(&f).unwrap_err().to_string();
    assert!(e.contains("chmod 600") && !e.contains("s3cret"), "{e}");
    std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o600)).unwrap();
    let tok = token_from_file(&f).unwrap();
    assert!(!format!("{tok:?}").contains("s3cret"));
}

/// The command the Immediate Response step runs to cancel a run: token from the
/// environment, never on the command line or in the output.
#[test]
fn gitea_cancel_command() {
    let (base, seen) = server();
    let cancel = |run: &str, token: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_pm2-incident"))
            .args([
                "gitea-cancel",
                "--url",
                &base,
                "--token-env",
                "P2I_TEST_GITEA_TOKEN",
                "--repo",
                "acme/shop",
                "--run",
                run,
            ])
            .env("P2I_TEST_GITEA_TOKEN", token)
            .output()
            .unwrap()
    };
    let all = |o: &std::process::Output| {
        format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )
    };
    let ok = cancel("101", "good-token");
    assert_eq!(ok.status.code(), Some(0), "{}", all(&ok));
    assert!(
        all(&ok).contains("cancel requested: acme/shop deploy.yml #7"),
        "{}",
        all(&ok)
    );
    let done = cancel("100", "good-token");
    assert_eq!(done.status.code(), Some(0));
    assert!(all(&done).contains("already finished"));
    let bad = cancel("101", "wrong");
    assert_eq!(bad.status.code(), Some(1));
    assert!(all(&bad).contains("401"));
    for o in [&ok, &done, &bad] {
        assert!(!all(o).contains("good-token") && !all(o).contains("wrong"));
    }
    assert_eq!(
        seen.lock()
            .unwrap()
            .iter()
            .filter(|s| s.method == "POST")
            .count(),
        3
    );
}
