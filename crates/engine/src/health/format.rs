//! Health endpoint formats an inventory may declare per deployment, each read into
//! the same verdicts (pure). `runbook`: the source runbook's `{data:{status}}`
//! shape (see [`super::interpret`]); `health+json`: IETF draft
//! `application/health+json` (`status: pass|warn|fail`, with `checks`); `status-2xx`:
//! any 2xx is healthy, whatever the body.
use serde_json::Value;

use super::interpret::interpret_target;
use super::verdict::Verdict;

pub use crate::runbook::inventory::HealthFormat;

impl HealthFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            HealthFormat::Runbook => "runbook",
            HealthFormat::HealthJson => "health+json",
            HealthFormat::Status2xx => "status-2xx",
        }
    }
}

/// The verdict on one response read in `format`.
pub fn interpret_as(
    format: HealthFormat,
    url: &str,
    status: u16,
    content_type: Option<&str>,
    body: &[u8],
    truncated: bool,
) -> Verdict {
    match format {
        HealthFormat::Runbook => interpret_target(url, status, content_type, body, truncated),
        HealthFormat::Status2xx => by_status(status),
        HealthFormat::HealthJson => {
            let shaped = if truncated { None } else { health_json(body) };
            match (shaped, status) {
                // A `fail` body wins over the code (commonly sent with 503).
                (Some(v), _) if !v.is_healthy() => v,
                (_, 502..=504) => Verdict::BadGateway { code: status },
                (_, 200..=299) => shaped_or_not_json(health_json(body), truncated),
                _ => Verdict::HttpError { code: status },
            }
        }
    }
}

fn shaped_or_not_json(v: Option<Verdict>, truncated: bool) -> Verdict {
    if truncated {
        return Verdict::NotJson;
    }
    v.unwrap_or(Verdict::NotJson)
}

fn by_status(status: u16) -> Verdict {
    match status {
        200..=299 => Verdict::Healthy,
        502..=504 => Verdict::BadGateway { code: status },
        _ => Verdict::HttpError { code: status },
    }
}

/// `{"status": "pass"|"ok"|"up"}` healthy, `"warn"` degraded, anything else
/// unhealthy; failing names from `checks` (`{"name:measure": [{status}]}`).
pub fn health_json(body: &[u8]) -> Option<Verdict> {
    let doc: Value = serde_json::from_slice(body).ok()?;
    let status = doc.get("status")?.as_str()?.trim().to_ascii_lowercase();
    if ["pass", "ok", "up"].contains(&status.as_str()) {
        return Some(Verdict::Healthy);
    }
    let failing = failing_checks(doc.get("checks"));
    if status == "warn" {
        Some(Verdict::Degraded { failing })
    } else {
        Some(Verdict::Unhealthy {
            status: status.chars().take(64).collect(),
            failing,
        })
    }
}

fn failing_checks(checks: Option<&Value>) -> Vec<String> {
    let Some(Value::Object(map)) = checks else {
        return vec![];
    };
    let mut out: Vec<String> = map
        .iter()
        .filter(|(_, v)| {
            let items: Vec<&Value> = match v {
                Value::Array(a) => a.iter().collect(),
                other => vec![other],
            };
            items.iter().any(|i| {
                i.get("status")
                    .and_then(Value::as_str)
                    .is_some_and(|s| !["pass", "ok", "up"].contains(&s.trim()))
            })
        })
        .map(|(k, _)| k.chars().take(64).collect())
        .collect();
    out.sort();
    out.truncate(32);
    out
}

/// Which format a response is in, for `init`: the runbook's shape, health+json (by
/// content type or a `status` word), else plain 2xx. `None`: not a health answer.
pub fn detect(status: u16, content_type: Option<&str>, body: &[u8]) -> Option<HealthFormat> {
    let doc: Option<Value> = serde_json::from_slice(body).ok();
    let runbook = doc
        .as_ref()
        .and_then(|d| d.get("data"))
        .and_then(|d| d.get("status"))
        .is_some_and(Value::is_string);
    if runbook {
        return Some(HealthFormat::Runbook);
    }
    let mime = content_type
        .and_then(|c| c.split(';').next())
        .map(|m| m.trim().to_ascii_lowercase());
    let hj_word = doc
        .as_ref()
        .and_then(|d| d.get("status"))
        .and_then(Value::as_str)
        .is_some_and(|s| ["pass", "warn", "fail"].contains(&s.trim()));
    if mime.as_deref() == Some("application/health+json") || hj_word {
        return Some(HealthFormat::HealthJson);
    }
    (200..300)
        .contains(&status)
        .then_some(HealthFormat::Status2xx)
}

#[cfg(test)]
mod tests {
    use super::*;
    use HealthFormat::*;

    fn v(f: HealthFormat, status: u16, ct: &str, body: &str) -> Verdict {
        interpret_as(
            f,
            "http://x/health",
            status,
            Some(ct),
            body.as_bytes(),
            false,
        )
    }

    #[test]
    fn health_json_verdicts() {
        let ct = "application/health+json";
        assert_eq!(
            v(HealthJson, 200, ct, r#"{"status":"pass"}"#),
            Verdict::Healthy
        );
        assert_eq!(
            v(
                HealthJson,
                200,
                ct,
                r#"{"status":"warn","checks":{"db:latency":[{"status":"warn"}],"cpu":[{"status":"pass"}]}}"#
            ),
            Verdict::Degraded {
                failing: vec!["db:latency".into()]
            }
        );
        assert_eq!(
            v(HealthJson, 503, ct, r#"{"status":"fail"}"#),
            Verdict::Unhealthy {
                status: "fail".into(),
                failing: vec![]
            }
        );
        assert_eq!(v(HealthJson, 200, "text/html", "<html>"), Verdict::NotJson);
        assert_eq!(
            v(HealthJson, 502, "text/html", "bad"),
            Verdict::BadGateway { code: 502 }
        );
    }

    #[test]
    fn status_2xx_ignores_the_body() {
        assert_eq!(v(Status2xx, 204, "text/html", ""), Verdict::Healthy);
        assert_eq!(
            v(Status2xx, 404, "text/html", ""),
            Verdict::HttpError { code: 404 }
        );
        assert_eq!(
            v(Status2xx, 503, "text/html", ""),
            Verdict::BadGateway { code: 503 }
        );
        // The same body read as the runbook's shape is not JSON.
        assert_eq!(v(Runbook, 200, "text/html", "<html>"), Verdict::NotJson);
    }

    #[test]
    fn detection() {
        let j = Some("application/json");
        assert_eq!(
            detect(200, j, br#"{"data":{"status":"healthy"}}"#),
            Some(Runbook)
        );
        assert_eq!(
            detect(200, Some("application/health+json"), b"{}"),
            Some(HealthJson)
        );
        assert_eq!(detect(200, j, br#"{"status":"pass"}"#), Some(HealthJson));
        assert_eq!(detect(200, Some("text/plain"), b"OK"), Some(Status2xx));
        assert_eq!(detect(404, Some("text/html"), b"nope"), None);
        assert_eq!(
            detect(503, j, br#"{"data":{"status":"unhealthy"}}"#),
            Some(Runbook)
        );
    }

    #[test]
    fn serde_names() {
        #[derive(serde::Deserialize)]
        struct T {
            f: HealthFormat,
        }
        let t: T = toml::from_str("f = \"health+json\"").unwrap();
        assert_eq!(t.f, HealthJson);
        assert!(toml::from_str::<T>("f = \"xml\"").is_err());
    }
}
