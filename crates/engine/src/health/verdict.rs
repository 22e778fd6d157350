//! What one health check found. Pure data; the checker fills it in.
use serde::{Deserialize, Serialize};

use crate::runbook::HealthTarget;

/// The verdict on one endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum Verdict {
    /// `data.status == "healthy"`, or a plain-text ping endpoint answering 2xx.
    Healthy,
    /// `data.status == "degraded"`: names of the failing `data.services`.
    Degraded {
        failing: Vec<String>,
    },
    /// Any other `data.status`: names of the failing `data.services`.
    Unhealthy {
        status: String,
        failing: Vec<String>,
    },
    /// 502/503/504: NGINX answers but the app behind it is down.
    BadGateway {
        code: u16,
    },
    /// Any other non-2xx status.
    HttpError {
        code: u16,
    },
    /// 2xx, but the body is not the JSON the runbook expects.
    NotJson,
    /// Connection refused (nothing listens: the app itself is down).
    Refused,
    DnsFailure,
    TlsFailure,
    Timeout,
    /// Anything else the client reported (message, never the body).
    Error {
        message: String,
    },
}

impl Verdict {
    pub fn is_healthy(&self) -> bool {
        matches!(self, Verdict::Healthy)
    }

    /// Evidence that the app behind this endpoint is down (not merely degraded, and
    /// not a problem of the checking side such as DNS).
    pub fn says_down(&self) -> bool {
        matches!(
            self,
            Verdict::BadGateway { .. }
                | Verdict::Refused
                | Verdict::Unhealthy { .. }
                | Verdict::HttpError { .. }
                | Verdict::Timeout
        )
    }

    /// Words for a timeline or a report: `502 Bad Gateway`, `connection refused`, ...
    pub fn phrase(&self) -> String {
        match self {
            Verdict::BadGateway { code: 502 } => "502 Bad Gateway".into(),
            Verdict::BadGateway { code: 503 } => "503 Service Unavailable".into(),
            Verdict::BadGateway { code: 504 } => "504 Gateway Timeout".into(),
            Verdict::BadGateway { code } | Verdict::HttpError { code } => format!("HTTP {code}"),
            Verdict::NotJson => "not the expected JSON".into(),
            Verdict::Refused => "connection refused".into(),
            Verdict::DnsFailure => "DNS failure".into(),
            Verdict::TlsFailure => "TLS failure".into(),
            other => other.label(),
        }
    }

    /// A short word for tables: `healthy`, `degraded`, `502`, `refused`, ...
    pub fn label(&self) -> String {
        match self {
            Verdict::Healthy => "healthy".into(),
            Verdict::Degraded { .. } => "degraded".into(),
            Verdict::Unhealthy { status, .. } => status.clone(),
            Verdict::BadGateway { code } | Verdict::HttpError { code } => code.to_string(),
            Verdict::NotJson => "not json".into(),
            Verdict::Refused => "refused".into(),
            Verdict::DnsFailure => "dns".into(),
            Verdict::TlsFailure => "tls".into(),
            Verdict::Timeout => "timeout".into(),
            Verdict::Error { .. } => "error".into(),
        }
    }
}

/// The journal's form of a verdict: its label. Reading one back gives the verdict the label
/// names (details a label does not carry, such as a degraded endpoint's failing services, are
/// not in the journal and come back empty).
pub mod as_label {
    use super::Verdict;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &Verdict, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&v.label())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Verdict, D::Error> {
        let label = std::borrow::Cow::<str>::deserialize(d)?;
        Ok(from_label(&label))
    }

    /// The verdict a label names (`Verdict::label`'s inverse where the label says enough).
    pub fn from_label(s: &str) -> Verdict {
        match s {
            "healthy" => Verdict::Healthy,
            "degraded" => Verdict::Degraded { failing: vec![] },
            "refused" => Verdict::Refused,
            "timeout" => Verdict::Timeout,
            "dns" => Verdict::DnsFailure,
            "tls" => Verdict::TlsFailure,
            "not json" => Verdict::NotJson,
            "error" => Verdict::Error {
                message: String::new(),
            },
            // A status code, alone or followed by its reason phrase ("502 Bad Gateway").
            s => match s.split(' ').next().unwrap_or(s).parse::<u16>() {
                Ok(code @ (502..=504)) => Verdict::BadGateway { code },
                Ok(code) => Verdict::HttpError { code },
                Err(_) => Verdict::Unhealthy {
                    status: s.to_string(),
                    failing: vec![],
                },
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_label_reads_back_as_its_verdict() {
        let all = [
            Verdict::Healthy,
            Verdict::Degraded { failing: vec![] },
            Verdict::Unhealthy {
                status: "down".into(),
                failing: vec![],
            },
            Verdict::BadGateway { code: 502 },
            Verdict::BadGateway { code: 504 },
            Verdict::HttpError { code: 500 },
            Verdict::NotJson,
            Verdict::Refused,
            Verdict::DnsFailure,
            Verdict::TlsFailure,
            Verdict::Timeout,
            Verdict::Error {
                message: String::new(),
            },
        ];
        for v in all {
            assert_eq!(as_label::from_label(&v.label()), v);
        }
        assert_eq!(
            as_label::from_label("503 Service Unavailable"),
            Verdict::BadGateway { code: 503 }
        );
    }
}

/// One endpoint's result in a round.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HealthResult {
    pub target: HealthTarget,
    /// HTTP status, when a response arrived.
    pub http_status: Option<u16>,
    pub latency_ms: u64,
    pub verdict: Verdict,
}

/// Latency worth showing: a slow answer (1 s or more) says something about the app;
/// the usual few milliseconds would only repaint the screen every round.
pub fn slow_label(latency_ms: u64) -> Option<String> {
    (latency_ms >= 1000).then(|| format!("slow {:.1}s", latency_ms as f64 / 1000.0))
}
