//! A round of health checks: every target at once, each bounded by its own timeout, so
//! a round lasts as long as the slowest endpoint up to the timeout, never the sum.
use std::time::{Duration, Instant};

use reqwest::{redirect, Client};
use tokio::task::JoinSet;

use super::classify::classify;
use super::fetch::{fetch, DEFAULT_BODY_CAP};
use super::format::interpret_as;
use super::verdict::{HealthResult, Verdict};
use crate::runbook::{HealthTarget, Inventory};

/// How a round checks each endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckOptions {
    /// Whole-request budget per endpoint: connect, TLS, headers and body.
    pub timeout: Duration,
    /// Body bytes read at most; the rest is never read.
    pub body_cap: usize,
    pub max_redirects: usize,
}

impl Default for CheckOptions {
    fn default() -> Self {
        CheckOptions {
            timeout: Duration::from_millis(3000),
            body_cap: DEFAULT_BODY_CAP,
            max_redirects: 5,
        }
    }
}

impl CheckOptions {
    /// Defaults with the inventory's `health_timeout_ms`.
    pub fn from_inventory(inv: &Inventory) -> Self {
        CheckOptions {
            timeout: Duration::from_millis(inv.health_timeout_ms),
            ..CheckOptions::default()
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CheckerError {
    #[error("cannot build the HTTP client: {0}")]
    Client(String),
    #[error("cannot start a runtime for the health checks: {0}")]
    Runtime(String),
}

/// Owns the one HTTP client every check goes through.
#[derive(Debug, Clone)]
pub struct HealthChecker {
    client: Client,
    opts: CheckOptions,
}

impl HealthChecker {
    pub fn new(opts: CheckOptions) -> Result<Self, CheckerError> {
        let client = Client::builder()
            .user_agent(concat!("pm2-incident/", env!("CARGO_PKG_VERSION")))
            .redirect(redirect::Policy::limited(opts.max_redirects))
            // Check the endpoint itself: a proxy from the environment would answer for it
            // (and usually has no route to localhost).
            .no_proxy()
            .connect_timeout(opts.timeout)
            // A fresh connection per check: it exercises the app's accept path, and
            // pooled connections would not survive the per-call runtime of
            // `check_all_blocking`.
            .pool_max_idle_per_host(0)
            .build()
            .map_err(|e| CheckerError::Client(e.without_url().to_string()))?;
        Ok(HealthChecker { client, opts })
    }

    pub fn from_inventory(inv: &Inventory) -> Result<Self, CheckerError> {
        Self::new(CheckOptions::from_inventory(inv))
    }

    pub fn options(&self) -> &CheckOptions {
        &self.opts
    }

    /// Check one endpoint. Never fails: every outcome is a verdict.
    pub async fn check(&self, target: &HealthTarget) -> HealthResult {
        check_one(self.client.clone(), self.opts.clone(), target.clone()).await
    }

    /// Check every target concurrently; results in input order. Dropping the returned
    /// future aborts the checks still running.
    pub async fn check_all(&self, targets: &[HealthTarget]) -> Vec<HealthResult> {
        let mut set = JoinSet::new();
        for (i, t) in targets.iter().enumerate() {
            let (client, opts, t) = (self.client.clone(), self.opts.clone(), t.clone());
            set.spawn(async move { (i, check_one(client, opts, t).await) });
        }
        let mut slots: Vec<Option<HealthResult>> = vec![None; targets.len()];
        while let Some(joined) = set.join_next().await {
            if let Ok((i, r)) = joined {
                slots[i] = Some(r);
            }
        }
        slots
            .into_iter()
            .zip(targets)
            .map(|(slot, t)| {
                // Only a panicking check leaves its slot empty.
                slot.unwrap_or_else(|| HealthResult {
                    target: t.clone(),
                    http_status: None,
                    latency_ms: 0,
                    verdict: Verdict::Error {
                        message: "the check itself failed".into(),
                    },
                })
            })
            .collect()
    }

    /// [`check_all`](Self::check_all) for synchronous callers: runs the round on a
    /// current-thread runtime of its own (on a helper thread if the caller is already
    /// inside a runtime, where blocking on a nested one would panic).
    pub fn check_all_blocking(
        &self,
        targets: &[HealthTarget],
    ) -> Result<Vec<HealthResult>, CheckerError> {
        let run = || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| CheckerError::Runtime(e.to_string()))?;
            Ok(rt.block_on(self.check_all(targets)))
        };
        if tokio::runtime::Handle::try_current().is_ok() {
            std::thread::scope(|s| {
                s.spawn(run)
                    .join()
                    .unwrap_or_else(|_| Err(CheckerError::Runtime("health thread panicked".into())))
            })
        } else {
            run()
        }
    }
}

async fn check_one(client: Client, opts: CheckOptions, target: HealthTarget) -> HealthResult {
    let start = Instant::now();
    let mut status = None;
    let outcome = tokio::time::timeout(
        opts.timeout,
        fetch(&client, &target.url, opts.body_cap, &mut status),
    )
    .await;
    let verdict = match outcome {
        Ok(Ok(f)) => interpret_as(
            target.format,
            &target.url,
            f.status,
            f.content_type.as_deref(),
            &f.body,
            f.truncated,
        ),
        Ok(Err(e)) => classify(&e),
        Err(_elapsed) => Verdict::Timeout,
    };
    HealthResult {
        latency_ms: start.elapsed().as_millis() as u64,
        http_status: status,
        target,
        verdict,
    }
}
