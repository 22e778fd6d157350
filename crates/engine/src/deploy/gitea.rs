//! Gitea Actions through its REST API: the running and waiting runs of a repository, the
//! last runs, and cancelling one. Shapes follow go-gitea `main` as read in 2026 (see
//! `reference/gitea-actions-api.md`): `GET /api/v1/repos/{o}/{r}/actions/runs` (1.25+),
//! `POST …/actions/runs/{id}/cancel` (PR #35382; 200 with the run, 409 when finished).
//! The token is sent as `Authorization: token …`, read from an environment variable or a
//! 0600 file, and never printed, journaled or shown in `Debug`.
use serde::{Deserialize, Serialize};
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::time::Duration;

use crate::runbook::inventory::GiteaSettings;

/// The API token; its `Debug` never shows it.
#[derive(Clone)]
pub struct Token(String);

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Token(<redacted>)")
    }
}

impl Token {
    pub fn new(s: impl Into<String>) -> Token {
        Token(s.into())
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum GiteaError {
    #[error("no Gitea token: {0}")]
    NoToken(String),
    #[error("Gitea refused the token (401): check that it is valid")]
    Unauthorized,
    #[error("Gitea: the token lacks a permission (403): {0}")]
    Forbidden(String),
    #[error("Gitea: not found (404): the repository `{0}` or the run is not visible to this token, or this Gitea has no such API")]
    NotFound(String),
    #[error("Gitea: the run is already finished (409)")]
    AlreadyFinished,
    #[error("Gitea answered {status}: {message}")]
    Http { status: u16, message: String },
    #[error("Gitea could not be reached: {0}")]
    Transport(String),
    #[error("Gitea's answer is not the expected JSON: {0}")]
    Decode(String),
}

/// The token from `token_env` (when set and non-empty), else `token_file`, which must be a
/// regular file of this user with no group/other permissions.
pub fn load_token(g: &GiteaSettings) -> Result<Token, GiteaError> {
    if let Some(var) = &g.token_env {
        if let Some(v) = std::env::var(var).ok().filter(|v| !v.trim().is_empty()) {
            return Ok(Token(v.trim().to_string()));
        }
    }
    let Some(file) = &g.token_file else {
        return Err(GiteaError::NoToken(match &g.token_env {
            Some(v) => format!("${v} is not set"),
            None => "neither token_env nor token_file is configured".into(),
        }));
    };
    token_from_file(Path::new(file))
}

pub fn token_from_file(path: &Path) -> Result<Token, GiteaError> {
    let meta = std::fs::symlink_metadata(path)
        .map_err(|e| GiteaError::NoToken(format!("{}: {e}", path.display())))?;
    if !meta.file_type().is_file() {
        return Err(GiteaError::NoToken(format!(
            "{}: not a regular file",
            path.display()
        )));
    }
    if meta.mode() & 0o077 != 0 {
        return Err(GiteaError::NoToken(format!(
            "{}: mode {:o} lets others read it; chmod 600 it",
            path.display(),
            meta.mode() & 0o777
        )));
    }
    // SAFETY: getuid has no failure mode.
    if meta.uid() != unsafe { libc::getuid() } {
        return Err(GiteaError::NoToken(format!(
            "{}: not owned by this user",
            path.display()
        )));
    }
    let text = crate::safe_fs::read_input_capped(path, 4096)
        .map_err(|e| GiteaError::NoToken(e.to_string()))?;
    let t = String::from_utf8_lossy(&text).trim().to_string();
    if t.is_empty() {
        return Err(GiteaError::NoToken(format!("{}: empty", path.display())));
    }
    Ok(Token(t))
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    #[serde(default)]
    pub login: String,
}

/// One action run (`ActionWorkflowRun`); tolerant of the 1.25-era shape (fields missing).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Run {
    pub id: i64,
    #[serde(default)]
    pub run_number: i64,
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub conclusion: Option<String>,
    #[serde(default)]
    pub head_sha: String,
    #[serde(default)]
    pub head_branch: Option<String>,
    #[serde(default)]
    pub display_title: String,
    /// `<workflow file>@<ref>`.
    #[serde(default)]
    pub path: String,
    #[serde(default)]
    pub event: String,
    #[serde(default)]
    pub started_at: Option<String>,
    #[serde(default)]
    pub html_url: String,
    #[serde(default)]
    pub actor: Option<Actor>,
}

impl Run {
    /// The workflow file name (`deploy.yml`), from `path`.
    pub fn workflow(&self) -> &str {
        self.path.split('@').next().unwrap_or("")
    }

    /// Still to finish: queued, waiting, pending, requested or in progress.
    pub fn active(&self) -> bool {
        self.status != "completed"
    }

    /// "deploy.yml #42 in_progress a1b2c3d4 (main) Fix prices" for the step.
    pub fn summary(&self) -> String {
        let sha: String = self.head_sha.chars().take(8).collect();
        let state = match &self.conclusion {
            Some(c) if !self.active() && !c.is_empty() => c.clone(),
            _ => self.status.clone(),
        };
        format!(
            "{} #{} {} {}{} {}",
            self.workflow(),
            self.run_number,
            state,
            sha,
            self.head_branch
                .as_deref()
                .filter(|b| !b.is_empty())
                .map(|b| format!(" ({b})"))
                .unwrap_or_default(),
            self.display_title
        )
    }
}

#[derive(Debug, Deserialize)]
struct RunList {
    #[serde(default)]
    workflow_runs: Vec<Run>,
}

pub struct Client {
    base: String,
    token: Token,
    http: reqwest::Client,
}

impl Client {
    pub fn new(base_url: &str, token: Token, timeout: Duration) -> Result<Client, GiteaError> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .build()
            .map_err(|e| GiteaError::Transport(e.to_string()))?;
        Ok(Client {
            base: format!("{}/api/v1", base_url.trim_end_matches('/')),
            token,
            http,
        })
    }

    async fn send(&self, req: reqwest::RequestBuilder, repo: &str) -> Result<String, GiteaError> {
        let resp = req
            .header("Authorization", format!("token {}", self.token.0))
            .header("Accept", "application/json")
            .send()
            .await
            .map_err(|e| GiteaError::Transport(e.without_url().to_string()))?;
        let status = resp.status().as_u16();
        let body = resp.text().await.unwrap_or_default();
        let message = || {
            serde_json::from_str::<serde_json::Value>(&body)
                .ok()
                .and_then(|v| {
                    v.get("message")
                        .and_then(|m| m.as_str())
                        .map(str::to_string)
                })
                .unwrap_or_else(|| body.chars().take(200).collect())
        };
        match status {
            200..=299 => Ok(body),
            401 => Err(GiteaError::Unauthorized),
            403 => Err(GiteaError::Forbidden(message())),
            404 => Err(GiteaError::NotFound(repo.to_string())),
            409 => Err(GiteaError::AlreadyFinished),
            _ => Err(GiteaError::Http {
                status,
                message: message(),
            }),
        }
    }

    fn runs_url(&self, repo: &str) -> String {
        format!("{}/repos/{repo}/actions/runs", self.base)
    }

    /// Runs of `repo` in these states (`in_progress`, `queued`, `waiting`, …), newest first.
    pub async fn runs(
        &self,
        repo: &str,
        statuses: &[&str],
        limit: u32,
    ) -> Result<Vec<Run>, GiteaError> {
        // Status values are fixed words from the caller; `status` repeats (Gitea reads a list).
        let mut q: Vec<String> = statuses.iter().map(|s| format!("status={s}")).collect();
        q.push(format!("limit={limit}"));
        let url = format!("{}?{}", self.runs_url(repo), q.join("&"));
        let body = self.send(self.http.get(url), repo).await?;
        let mut runs = serde_json::from_str::<RunList>(&body)
            .map_err(|e| GiteaError::Decode(e.to_string()))?
            .workflow_runs;
        // The server's order is not documented: newest (largest id) first.
        runs.sort_by_key(|r| std::cmp::Reverse(r.id));
        Ok(runs)
    }

    /// Running, waiting for a runner, or blocked/awaiting approval.
    pub async fn active_runs(&self, repo: &str) -> Result<Vec<Run>, GiteaError> {
        self.runs(repo, &["in_progress", "queued", "waiting"], 50)
            .await
    }

    /// Cancels run `id` (the database id, not the run number). Returns the run as updated.
    pub async fn cancel(&self, repo: &str, id: i64) -> Result<Run, GiteaError> {
        let url = format!("{}/{id}/cancel", self.runs_url(repo));
        let body = self.send(self.http.post(url), repo).await?;
        serde_json::from_str(&body).map_err(|e| GiteaError::Decode(e.to_string()))
    }
}
