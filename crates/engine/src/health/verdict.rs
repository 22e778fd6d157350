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
