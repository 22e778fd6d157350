//! Reading one health response into a [`Verdict`]. Pure: no I/O, no clock.
//!
//! Rules, in order:
//! 1. A body in the runbook's shape (`{"data":{"status":..}}`) whose status is not
//!    `healthy` wins over the status code: apps commonly answer 503 *with* that body when
//!    a dependency is down, and the failing service names are the useful part.
//! 2. 502/503/504 → `BadGateway` (NGINX answers, the app behind it does not).
//!    Any other non-2xx → `HttpError`.
//! 3. 2xx with `Content-Type: text/plain` → `Healthy` by status code: the
//!    `/api/health/ping` style, which answers a bare `pong`/`OK`. (URLs ending in `/ping`
//!    are judged by status code alone whatever the type, see [`interpret_target`].)
//! 4. Any other 2xx must be the runbook's JSON: `data.status == "healthy"` → `Healthy`,
//!    `"degraded"` → `Degraded`, anything else → `Unhealthy`, each with the names of the
//!    failing `data.services`. HTML (an NGINX default page, an SPA fallback), invalid
//!    JSON, JSON without a string `data.status`, or a body cut at the cap → `NotJson`.
use serde_json::Value;

use super::verdict::Verdict;

/// Longest status word or service name kept from a body (they end up in tables).
const MAX_WORD: usize = 64;
/// At most this many failing service names are kept.
const MAX_FAILING: usize = 32;

/// The verdict on one response. `truncated` means the body was cut at the size cap.
pub fn interpret(status: u16, content_type: Option<&str>, body: &[u8], truncated: bool) -> Verdict {
    let shaped = if truncated { None } else { runbook_shape(body) };
    if let Some(v) = &shaped {
        if !v.is_healthy() && !(200..300).contains(&status) {
            return v.clone();
        }
    }
    match status {
        502..=504 => return Verdict::BadGateway { code: status },
        200..=299 => {}
        _ => return Verdict::HttpError { code: status },
    }
    if is_plain_text(content_type) {
        return Verdict::Healthy;
    }
    shaped.unwrap_or(Verdict::NotJson)
}

/// [`interpret`], except that a URL whose path ends in `/ping` is judged by its status
/// code alone (2xx healthy), whatever its body or content type.
pub fn interpret_target(
    url: &str,
    status: u16,
    content_type: Option<&str>,
    body: &[u8],
    truncated: bool,
) -> Verdict {
    if is_ping_url(url) {
        return by_status_code(status);
    }
    interpret(status, content_type, body, truncated)
}

/// Whether the URL's path ends in `/ping` (query and fragment ignored).
pub fn is_ping_url(url: &str) -> bool {
    let no_frag = url.split('#').next().unwrap_or(url);
    let path = no_frag.split('?').next().unwrap_or(no_frag);
    path.trim_end_matches('/').ends_with("/ping")
}

fn by_status_code(status: u16) -> Verdict {
    match status {
        200..=299 => Verdict::Healthy,
        502..=504 => Verdict::BadGateway { code: status },
        _ => Verdict::HttpError { code: status },
    }
}

fn is_plain_text(content_type: Option<&str>) -> bool {
    content_type
        .and_then(|ct| ct.split(';').next())
        .is_some_and(|mime| mime.trim().eq_ignore_ascii_case("text/plain"))
}

/// The verdict a body in the runbook's shape gives, or `None` if it is not that shape.
fn runbook_shape(body: &[u8]) -> Option<Verdict> {
    let doc: Value = serde_json::from_slice(body).ok()?;
    let data = doc.get("data")?;
    let status = data.get("status")?.as_str()?;
    if status.trim().eq_ignore_ascii_case("healthy") {
        return Some(Verdict::Healthy);
    }
    let failing = failing_services(data.get("services"));
    if status.trim().eq_ignore_ascii_case("degraded") {
        Some(Verdict::Degraded { failing })
    } else {
        Some(Verdict::Unhealthy {
            status: clean(status),
            failing,
        })
    }
}

/// Names of failing services. `services` is an object `{name: state}` or an array of
/// `{name, status}` objects; a state fails when it is `false`, a string other than
/// healthy/ok/up, or an object whose `status` is not one of those.
fn failing_services(services: Option<&Value>) -> Vec<String> {
    let mut out = Vec::new();
    match services {
        Some(Value::Object(map)) => {
            for (name, state) in map {
                if state_fails(state) {
                    out.push(clean(name));
                }
            }
        }
        Some(Value::Array(items)) => {
            for item in items {
                if let Some(name) = item.get("name").and_then(Value::as_str) {
                    if state_fails(item) {
                        out.push(clean(name));
                    }
                }
            }
        }
        _ => {}
    }
    // Sorted so the same body always gives the same verdict, whatever the map order.
    out.sort();
    out.dedup();
    out.truncate(MAX_FAILING);
    out
}

fn state_fails(state: &Value) -> bool {
    match state {
        Value::Bool(ok) => !ok,
        Value::String(s) => !is_good_word(s),
        Value::Object(o) => match o.get("status") {
            Some(Value::String(s)) => !is_good_word(s),
            Some(Value::Bool(ok)) => !ok,
            // An object without a status word says nothing either way.
            _ => false,
        },
        _ => false,
    }
}

fn is_good_word(s: &str) -> bool {
    let s = s.trim();
    ["healthy", "ok", "up"]
        .iter()
        .any(|w| s.eq_ignore_ascii_case(w))
}

/// A word from the body made safe for a terminal: no control characters, bounded length.
fn clean(s: &str) -> String {
    let mut out: String = s
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_WORD)
        .collect();
    if s.chars().filter(|c| !c.is_control()).count() > MAX_WORD {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const JSON: Option<&str> = Some("application/json; charset=utf-8");

    fn degraded(names: &[&str]) -> Verdict {
        Verdict::Degraded {
            failing: names.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn unhealthy(status: &str, names: &[&str]) -> Verdict {
        Verdict::Unhealthy {
            status: status.into(),
            failing: names.iter().map(|s| s.to_string()).collect(),
        }
    }

    /// (case name, status, content type, body, truncated, expected verdict)
    type Case = (
        &'static str,
        u16,
        Option<&'static str>,
        &'static str,
        bool,
        Verdict,
    );

    #[test]
    fn table() {
        let cases: Vec<Case> = vec![
            (
                "healthy",
                200,
                JSON,
                r#"{"data":{"status":"healthy","services":{"db":"ok"}}}"#,
                false,
                Verdict::Healthy,
            ),
            (
                "healthy with no content type",
                200,
                None,
                r#"{"data":{"status":"healthy"}}"#,
                false,
                Verdict::Healthy,
            ),
            (
                "healthy, odd case",
                200,
                JSON,
                r#"{"data":{"status":"Healthy"}}"#,
                false,
                Verdict::Healthy,
            ),
            (
                "degraded names each failing form",
                200,
                JSON,
                r#"{"data":{"status":"degraded","services":{
                    "db":"ok","redis":"down","queue":false,"cache":true,
                    "storage":{"status":"error","latency":3},"auth":{"status":"UP"},
                    "mail":{"latency":4},"search":null}}}"#,
                false,
                degraded(&["queue", "redis", "storage"]),
            ),
            (
                "unhealthy keeps its status word",
                200,
                JSON,
                r#"{"data":{"status":"unhealthy","services":{"db":{"status":"down"},"redis":"healthy"}}}"#,
                false,
                unhealthy("unhealthy", &["db"]),
            ),
            (
                "services as an array of objects",
                200,
                JSON,
                r#"{"data":{"status":"unhealthy","services":[{"name":"db","status":"down"},{"name":"redis","status":"ok"},{"status":"down"}]}}"#,
                false,
                unhealthy("unhealthy", &["db"]),
            ),
            (
                "unhealthy without services",
                200,
                JSON,
                r#"{"data":{"status":"starting"}}"#,
                false,
                unhealthy("starting", &[]),
            ),
            (
                "503 with the runbook body is the body's verdict",
                503,
                JSON,
                r#"{"data":{"status":"unhealthy","services":{"db":"down"}}}"#,
                false,
                unhealthy("unhealthy", &["db"]),
            ),
            (
                "502 from NGINX with HTML",
                502,
                Some("text/html"),
                "<html><body>502 Bad Gateway</body></html>",
                false,
                Verdict::BadGateway { code: 502 },
            ),
            (
                "503 empty",
                503,
                None,
                "",
                false,
                Verdict::BadGateway { code: 503 },
            ),
            (
                "504 empty",
                504,
                None,
                "",
                false,
                Verdict::BadGateway { code: 504 },
            ),
            (
                "503 saying healthy is still a bad gateway",
                503,
                JSON,
                r#"{"data":{"status":"healthy"}}"#,
                false,
                Verdict::BadGateway { code: 503 },
            ),
            (
                "404",
                404,
                Some("text/html"),
                "nope",
                false,
                Verdict::HttpError { code: 404 },
            ),
            (
                "500",
                500,
                JSON,
                r#"{"error":"x"}"#,
                false,
                Verdict::HttpError { code: 500 },
            ),
            (
                "301 not followed",
                301,
                None,
                "",
                false,
                Verdict::HttpError { code: 301 },
            ),
            (
                "HTML 200 (SPA fallback) is not JSON",
                200,
                Some("text/html; charset=utf-8"),
                "<!doctype html><html></html>",
                false,
                Verdict::NotJson,
            ),
            (
                "invalid JSON",
                200,
                JSON,
                r#"{"data":{"status":"#,
                false,
                Verdict::NotJson,
            ),
            (
                "JSON of another shape",
                200,
                JSON,
                r#"{"status":"healthy"}"#,
                false,
                Verdict::NotJson,
            ),
            (
                "data.status not a string",
                200,
                JSON,
                r#"{"data":{"status":true}}"#,
                false,
                Verdict::NotJson,
            ),
            (
                "garbage bytes",
                200,
                None,
                "\u{0}\u{1}\u{ff}",
                false,
                Verdict::NotJson,
            ),
            (
                "a body cut at the cap is not JSON even if the prefix parses",
                200,
                JSON,
                r#"{"data":{"status":"healthy"}}"#,
                true,
                Verdict::NotJson,
            ),
            (
                "plain-text ping",
                200,
                Some("text/plain"),
                "pong",
                false,
                Verdict::Healthy,
            ),
            (
                "plain-text ping with charset",
                204,
                Some("Text/Plain; charset=utf-8"),
                "",
                false,
                Verdict::Healthy,
            ),
            (
                "plain-text 500 is still an error",
                500,
                Some("text/plain"),
                "pong",
                false,
                Verdict::HttpError { code: 500 },
            ),
        ];
        for (name, status, ct, body, truncated, want) in cases {
            assert_eq!(
                interpret(status, ct, body.as_bytes(), truncated),
                want,
                "case: {name}"
            );
        }
    }

    #[test]
    fn ping_urls_count_by_status_code() {
        let url = "http://127.0.0.1:1/api/health/ping";
        assert_eq!(
            interpret_target(url, 200, Some("text/html"), b"<html>", false),
            Verdict::Healthy
        );
        assert_eq!(
            interpret_target(url, 200, None, b"", true),
            Verdict::Healthy
        );
        assert_eq!(
            interpret_target(url, 502, None, b"", false),
            Verdict::BadGateway { code: 502 }
        );
        assert_eq!(
            interpret_target(url, 404, None, b"", false),
            Verdict::HttpError { code: 404 }
        );
        // A ready URL with HTML is not judged by status code.
        assert_eq!(
            interpret_target(
                "http://h/api/health/ready",
                200,
                Some("text/html"),
                b"<html>",
                false
            ),
            Verdict::NotJson
        );
    }

    #[test]
    fn ping_url_detection() {
        assert!(is_ping_url("https://x.example/api/health/ping"));
        assert!(is_ping_url("https://x.example/api/health/ping/"));
        assert!(is_ping_url("https://x.example/api/health/ping?x=1#y"));
        assert!(!is_ping_url("https://x.example/api/health/ready"));
        assert!(!is_ping_url("https://x.example/api/health/pinger"));
        assert!(!is_ping_url("https://x.example/ready?next=/ping"));
    }

    #[test]
    fn words_from_the_body_are_cleaned_and_bounded() {
        let long = "x".repeat(500);
        let body = format!(
            r#"{{"data":{{"status":"bad\u001b[31m","services":{{"{long}":"down","a\u0007b":false}}}}}}"#
        );
        let Verdict::Unhealthy { status, failing } = interpret(200, JSON, body.as_bytes(), false)
        else {
            panic!("expected unhealthy");
        };
        assert_eq!(status, "bad[31m");
        assert_eq!(failing.len(), 2);
        assert!(failing.contains(&"ab".to_string()));
        assert!(failing.iter().all(|n| n.chars().count() <= MAX_WORD + 1));
    }

    #[test]
    fn failing_list_is_bounded() {
        let services: Vec<String> = (0..100).map(|i| format!(r#""s{i:03}":"down""#)).collect();
        let body = format!(
            r#"{{"data":{{"status":"degraded","services":{{{}}}}}}}"#,
            services.join(",")
        );
        let Verdict::Degraded { failing } = interpret(200, JSON, body.as_bytes(), false) else {
            panic!("expected degraded");
        };
        assert_eq!(failing.len(), MAX_FAILING);
    }
}
