//! Health checks against real HTTP servers on 127.0.0.1 (no mocks of the client):
//! verdicts per kind of answer, a round bounded by one timeout, a capped body, and the
//! transport failures (refused, DNS, TLS).
mod health_support;

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use health_support::{closed_port, target, Behavior, Server, HEALTHY};
use pm2_incident::health::{fetch, CheckOptions, HealthChecker, Verdict, DEFAULT_BODY_CAP};

fn checker(timeout_ms: u64) -> HealthChecker {
    HealthChecker::new(CheckOptions {
        timeout: Duration::from_millis(timeout_ms),
        ..CheckOptions::default()
    })
    .expect("client builds")
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

fn names(v: &[&str]) -> Vec<String> {
    v.iter().map(|x| x.to_string()).collect()
}

#[test]
fn each_kind_of_answer_gets_its_verdict_in_input_order() {
    let healthy = Server::start(Behavior::json(200, HEALTHY));
    let servers = [
        Server::start(Behavior::json(200, HEALTHY)),
        Server::start(Behavior::json(
            200,
            r#"{"data":{"status":"degraded","services":{"database":"healthy","redis":"down","queue":{"status":"error"},"mail":false}}}"#,
        )),
        Server::start(Behavior::json(
            200,
            r#"{"data":{"status":"unhealthy","services":{"database":{"status":"unhealthy"},"redis":"ok"}}}"#,
        )),
        Server::start(Behavior::json(
            503,
            r#"{"data":{"status":"unhealthy","services":{"database":"down"}}}"#,
        )),
        Server::start(Behavior::typed(
            502,
            "text/html",
            "<html>502 Bad Gateway</html>",
        )),
        Server::start(Behavior::typed(404, "text/html", "<html>Not Found</html>")),
        Server::start(Behavior::typed(
            200,
            "text/html",
            "<!doctype html><html></html>",
        )),
        Server::start(Behavior::json(200, r#"{"data":{"status":"healthy""#)),
        Server::start(Behavior::typed(200, "text/plain", "pong")),
        Server::start(Behavior::Redirect {
            location: healthy.url("/api/health/ready"),
        }),
        Server::start(Behavior::Redirect {
            location: "/api/health/ready".into(),
        }),
    ];
    let targets: Vec<_> = servers
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let path = if i == 8 {
                "/api/health/ping"
            } else {
                "/api/health/ready"
            };
            target(&s.url(path))
        })
        .collect();

    let results = rt().block_on(checker(2000).check_all(&targets));
    let got: Vec<(Option<u16>, Verdict)> = results
        .iter()
        .map(|r| (r.http_status, r.verdict.clone()))
        .collect();
    let want = vec![
        (Some(200), Verdict::Healthy),
        (
            Some(200),
            Verdict::Degraded {
                failing: names(&["mail", "queue", "redis"]),
            },
        ),
        (
            Some(200),
            Verdict::Unhealthy {
                status: "unhealthy".into(),
                failing: names(&["database"]),
            },
        ),
        // The app answers 503 with the runbook body: its failing services beat the code.
        (
            Some(503),
            Verdict::Unhealthy {
                status: "unhealthy".into(),
                failing: names(&["database"]),
            },
        ),
        (Some(502), Verdict::BadGateway { code: 502 }),
        (Some(404), Verdict::HttpError { code: 404 }),
        (Some(200), Verdict::NotJson),
        (Some(200), Verdict::NotJson),
        // Plain-text ping counts by status code.
        (Some(200), Verdict::Healthy),
        // A redirect is followed to the healthy server.
        (Some(200), Verdict::Healthy),
        // A redirect to itself ends after the limit.
        (
            None,
            Verdict::Error {
                message: "too many redirects".into(),
            },
        ),
    ];
    assert_eq!(got, want);
    for (r, t) in results.iter().zip(&targets) {
        assert_eq!(&r.target, t, "results stay in input order");
    }
    assert_eq!(
        servers[10].accepted.load(Ordering::SeqCst),
        6,
        "the first request and 5 redirects, no more"
    );
}

#[test]
fn hanging_endpoints_cost_one_timeout_not_the_sum() {
    let hang = Server::start(Behavior::Hang);
    let fast = Server::start(Behavior::json(200, HEALTHY));
    // Interleaved so order is checked too.
    let targets: Vec<_> = (0..10)
        .map(|i| {
            if i % 2 == 0 {
                target(&hang.url(&format!("/hang/{i}")))
            } else {
                target(&fast.url(&format!("/fast/{i}")))
            }
        })
        .collect();
    let c = checker(500);
    let runtime = rt();
    let start = Instant::now();
    let results = runtime.block_on(c.check_all(&targets));
    let took = start.elapsed();
    assert!(took < Duration::from_millis(1500), "round took {took:?}");
    assert!(took >= Duration::from_millis(500), "round took {took:?}");
    for (i, r) in results.iter().enumerate() {
        assert_eq!(r.target, targets[i]);
        if i % 2 == 0 {
            assert_eq!(r.verdict, Verdict::Timeout, "{i}");
            assert_eq!(r.http_status, None);
            assert!(r.latency_ms >= 500, "{}", r.latency_ms);
        } else {
            assert_eq!(r.verdict, Verdict::Healthy, "{i}");
            assert!(r.latency_ms < 500, "{}", r.latency_ms);
        }
    }
    assert_eq!(hang.accepted.load(Ordering::SeqCst), 5);
}

#[test]
fn an_endless_body_is_cut_at_the_cap_and_judged_not_json_quickly() {
    let endless = Server::start(Behavior::Endless);
    let url = endless.url("/api/health/ready");
    let c = checker(3000);
    let runtime = rt();

    let start = Instant::now();
    let r = runtime.block_on(c.check(&target(&url)));
    // Long before the timeout: reading stopped at the cap, it did not run out the clock.
    assert!(
        start.elapsed() < Duration::from_millis(1500),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(r.http_status, Some(200));
    // The prefix says "healthy"; a cut body must not be believed.
    assert_eq!(r.verdict, Verdict::NotJson);

    // The same read through `fetch`: the buffer holds exactly the cap.
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let mut status = None;
    let f = runtime
        .block_on(fetch(&client, &url, DEFAULT_BODY_CAP, &mut status))
        .expect("headers arrive");
    assert!(f.truncated);
    assert_eq!(f.body.len(), DEFAULT_BODY_CAP);
    assert!(f.body.starts_with(br#"{"data":{"status":"healthy""#));
    assert_eq!(status, Some(200));

    // We closed both connections rather than draining them: the server's writes failed
    // and its handlers returned, having pushed only what the kernel's socket buffers took
    // (a few MiB on loopback; draining for the 3 s timeout would be gigabytes).
    assert!(
        endless.wait_all_finished(Duration::from_secs(2)),
        "the client kept the endless connection open"
    );
    assert_eq!(endless.accepted.load(Ordering::SeqCst), 2);
    let sent = endless.written.load(Ordering::SeqCst);
    assert!(sent < 2 * 64 * 1024 * 1024, "server wrote {sent} bytes");
}

#[test]
fn a_small_cap_is_respected() {
    let big = Server::start(Behavior::json(
        200,
        &format!(
            r#"{{"data":{{"status":"healthy","pad":"{}"}}}}"#,
            "x".repeat(10_000)
        ),
    ));
    let c = HealthChecker::new(CheckOptions {
        body_cap: 1024,
        ..CheckOptions::default()
    })
    .unwrap();
    let r = rt().block_on(c.check(&target(&big.url("/api/health/ready"))));
    assert_eq!(r.verdict, Verdict::NotJson);
    // The default cap reads it whole.
    let r = rt().block_on(checker(2000).check(&target(&big.url("/api/health/ready"))));
    assert_eq!(r.verdict, Verdict::Healthy);
}

#[test]
fn a_body_that_dribbles_past_the_timeout_times_out_with_its_status() {
    let trickle = Server::start(Behavior::Trickle);
    let start = Instant::now();
    let r = rt().block_on(checker(500).check(&target(&trickle.url("/api/health/ready"))));
    assert!(start.elapsed() < Duration::from_millis(1500));
    assert_eq!(r.verdict, Verdict::Timeout);
    assert_eq!(
        r.http_status,
        Some(200),
        "the status line arrived before the clock ran out"
    );
}

#[test]
fn transport_failures_are_classified() {
    let plain = Server::start(Behavior::json(200, HEALTHY));
    let targets = [
        target(&format!(
            "http://127.0.0.1:{}/api/health/ready",
            closed_port()
        )),
        target("http://pm2-incident-health-test.invalid/api/health/ready"),
        // https to a plain-HTTP port: the server answers the ClientHello with an HTTP 400.
        target(&format!("https://{}/api/health/ready", plain.addr)),
        target("not a url"),
    ];
    let results = rt().block_on(checker(2000).check_all(&targets));
    let got: Vec<_> = results.iter().map(|r| r.verdict.clone()).collect();
    assert_eq!(got[0], Verdict::Refused);
    assert_eq!(got[1], Verdict::DnsFailure);
    assert_eq!(got[2], Verdict::TlsFailure);
    assert_eq!(
        got[3],
        Verdict::Error {
            message: "invalid URL".into()
        }
    );
    assert!(results.iter().all(|r| r.http_status.is_none()));
}

#[test]
fn error_messages_carry_neither_url_nor_body() {
    // Userinfo in a URL must not leak into a verdict.
    let r = rt().block_on(checker(1000).check(&target(&format!(
        "http://user:s3cret@127.0.0.1:{}/x",
        closed_port()
    ))));
    assert_eq!(r.verdict, Verdict::Refused);
    let json = serde_json::to_string(&r.verdict).unwrap();
    assert!(!json.contains("s3cret"));
}

#[test]
fn blocking_round_works_outside_and_inside_a_runtime() {
    let fast = Server::start(Behavior::json(200, HEALTHY));
    let targets = vec![target(&fast.url("/api/health/ready")); 3];
    let c = checker(1000);
    let outside = c.check_all_blocking(&targets).expect("runtime");
    assert!(outside.iter().all(|r| r.verdict == Verdict::Healthy));
    // Called from async code it must not panic on a nested runtime, and a second call
    // with the same client must still work (no pooled connection from a dead runtime).
    let inside = rt()
        .block_on(async { c.check_all_blocking(&targets) })
        .expect("runtime");
    assert!(inside.iter().all(|r| r.verdict == Verdict::Healthy));
    assert!(c.check_all_blocking(&[]).unwrap().is_empty());
}

#[test]
fn a_connection_closed_without_an_answer_is_an_error_without_the_url() {
    let close = Server::start(Behavior::Close);
    // Words in the URL must not steer the classification (nor appear in the message).
    let url = close.url("/tls/certificate/dns-error/handshake");
    let r = rt().block_on(checker(1000).check(&target(&url)));
    let Verdict::Error { message } = &r.verdict else {
        panic!("expected an error verdict, got {:?}", r.verdict);
    };
    assert!(!message.is_empty());
    assert!(!message.contains(&close.addr.to_string()), "{message}");
    assert_eq!(r.http_status, None);
}
