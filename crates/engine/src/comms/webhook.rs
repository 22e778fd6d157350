//! Posting a communication to a chat webhook (Slack-compatible incoming webhook: Slack,
//! Mattermost, Rocket.Chat, Discord's `/slack` endpoint all take `{"text": ...}`).
//!
//! The URL is a credential (whoever holds a Slack webhook URL can post to the channel):
//! it comes from `$PM2_INCIDENT_WEBHOOK_URL` or a config file only its owner can read, and
//! it never appears in an outcome, an error or the journal (reqwest errors are stripped of
//! it with `without_url`).
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

pub const ENV_VAR: &str = "PM2_INCIDENT_WEBHOOK_URL";
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// Where the URL was found (journaled and shown: never the URL itself).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "from", rename_all = "snake_case")]
pub enum UrlSource {
    Env,
    File { path: PathBuf },
}

#[derive(Clone, PartialEq, Eq)]
pub struct WebhookConfig {
    url: String,
    pub source: UrlSource,
}

impl std::fmt::Debug for WebhookConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookConfig")
            .field("url", &"<redacted>")
            .field("source", &self.source)
            .finish()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error(
        "no webhook configured: set {ENV_VAR} or write url = \"https://...\" to {} (mode 0600)",
        .0.display()
    )]
    NotConfigured(PathBuf),
    #[error(
        "{path}: readable by other users (mode {mode:o}); chmod 600 it (the URL is a credential)"
    )]
    NotPrivate { path: String, mode: u32 },
    #[error("{path}: {message}")]
    File { path: String, message: String },
    #[error("{origin}: the webhook URL must start with https:// or http://")]
    BadUrl { origin: String },
}

/// The per-user config file: `$XDG_CONFIG_HOME/pm2-incident/webhook.toml`, else `~/.config/…`.
pub fn config_path(get: &dyn Fn(&str) -> Option<String>) -> Option<PathBuf> {
    let nonempty = |k: &str| get(k).filter(|v| !v.is_empty()).map(PathBuf::from);
    nonempty("XDG_CONFIG_HOME")
        .or_else(|| nonempty("HOME").map(|h| h.join(".config")))
        .map(|c| c.join("pm2-incident/webhook.toml"))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    url: String,
}

fn check_url(url: &str, origin: impl Fn() -> String) -> Result<(), ConfigError> {
    let u = url.trim();
    if u.starts_with("https://") || u.starts_with("http://") {
        Ok(())
    } else {
        Err(ConfigError::BadUrl { origin: origin() })
    }
}

/// The environment variable first, then the config file (which must be 0600 or stricter).
pub fn load(get: &dyn Fn(&str) -> Option<String>) -> Result<WebhookConfig, ConfigError> {
    if let Some(url) = get(ENV_VAR).filter(|u| !u.trim().is_empty()) {
        check_url(&url, || ENV_VAR.to_string())?;
        return Ok(WebhookConfig {
            url: url.trim().to_string(),
            source: UrlSource::Env,
        });
    }
    let path =
        config_path(get).unwrap_or_else(|| PathBuf::from("~/.config/pm2-incident/webhook.toml"));
    load_file(&path)
}

pub fn load_file(path: &Path) -> Result<WebhookConfig, ConfigError> {
    let shown = path.display().to_string();
    let md = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(ConfigError::NotConfigured(path.to_path_buf()))
        }
        Err(e) => {
            return Err(ConfigError::File {
                path: shown,
                message: e.to_string(),
            })
        }
    };
    let mode = md.mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(ConfigError::NotPrivate { path: shown, mode });
    }
    let text = crate::safe_fs::read_input_string(path).map_err(|e| ConfigError::File {
        path: shown.clone(),
        message: e.to_string(),
    })?;
    // toml's error quotes the offending line, which may hold the URL: say where only.
    let cfg: FileConfig = toml::from_str(&text).map_err(|e| ConfigError::File {
        path: shown.clone(),
        message: match e.span() {
            Some(s) => format!(
                "not a valid webhook config at line {} (expected url = \"https://...\")",
                text[..s.start.min(text.len())].lines().count().max(1)
            ),
            None => "not a valid webhook config (expected url = \"https://...\")".into(),
        },
    })?;
    check_url(&cfg.url, || shown.clone())?;
    Ok(WebhookConfig {
        url: cfg.url.trim().to_string(),
        source: UrlSource::File {
            path: path.to_path_buf(),
        },
    })
}

/// Slack's incoming-webhook body: the subject in bold, then the message.
pub fn payload(subject: &str, body: &str) -> serde_json::Value {
    serde_json::json!({ "text": format!("*{subject}*\n{body}") })
}

/// What became of one post: journaled as is (no URL in it), so the type is the incident's.
pub use crate::incident::event::PostOutcome;

/// POST the payload; never follows a redirect (the message goes where configured or nowhere).
pub async fn post(
    cfg: &WebhookConfig,
    payload: &serde_json::Value,
    timeout: Duration,
) -> PostOutcome {
    let client = match reqwest::Client::builder()
        .user_agent(concat!("pm2-incident/", env!("CARGO_PKG_VERSION")))
        .redirect(reqwest::redirect::Policy::none())
        .timeout(timeout)
        .build()
    {
        Ok(c) => c,
        Err(e) => {
            return PostOutcome::Failed {
                reason: e.without_url().to_string(),
            }
        }
    };
    match client.post(&cfg.url).json(payload).send().await {
        Ok(r) if r.status().is_success() => PostOutcome::Posted {
            http_status: r.status().as_u16(),
        },
        Ok(r) => PostOutcome::Rejected {
            http_status: r.status().as_u16(),
        },
        Err(e) if e.is_timeout() => PostOutcome::Timeout {
            after_ms: timeout.as_millis() as u64,
        },
        Err(e) => PostOutcome::Failed {
            reason: error_chain(e.without_url()),
        },
    }
}

/// reqwest's top-level message ("error sending request") plus its causes, which say why.
fn error_chain(e: reqwest::Error) -> String {
    let mut parts = vec![e.to_string()];
    let mut src = std::error::Error::source(&e);
    while let Some(s) = src {
        parts.push(s.to_string());
        src = s.source();
    }
    parts.dedup();
    parts.join(": ")
}

/// For callers without a runtime (the TUI's worker thread): load, post, report.
pub fn post_blocking(
    get: &dyn Fn(&str) -> Option<String>,
    subject: &str,
    body: &str,
    timeout: Duration,
) -> PostOutcome {
    let cfg = match load(get) {
        Ok(c) => c,
        Err(e) => {
            return PostOutcome::NotConfigured {
                reason: e.to_string(),
            }
        }
    };
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            return PostOutcome::Failed {
                reason: e.to_string(),
            }
        }
    };
    rt.block_on(post(&cfg, &payload(subject, body), timeout))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn env<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn env_wins_and_is_never_shown() {
        let cfg = load(&env(&[(ENV_VAR, "https://hooks.example/T/B/secret")])).unwrap();
        assert_eq!(cfg.source, UrlSource::Env);
        assert!(!format!("{cfg:?}").contains("secret"));
        let e = load(&env(&[(ENV_VAR, "ftp://x/secret")])).unwrap_err();
        assert!(!e.to_string().contains("secret"), "{e}");
    }

    #[test]
    fn config_file_must_be_private_and_well_formed() {
        let dir = tempfile::tempdir().unwrap();
        let xdg = dir.path().to_str().unwrap().to_string();
        let pairs = [("XDG_CONFIG_HOME", xdg.as_str())];
        let get = env(&pairs);
        assert!(matches!(load(&get), Err(ConfigError::NotConfigured(_))));
        let f = dir.path().join("pm2-incident/webhook.toml");
        std::fs::create_dir_all(f.parent().unwrap()).unwrap();
        std::fs::write(&f, "url = \"https://hooks.example/secret\"\n").unwrap();
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o644)).unwrap();
        let e = load(&get).unwrap_err();
        assert!(
            matches!(e, ConfigError::NotPrivate { mode: 0o644, .. }),
            "{e}"
        );
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o600)).unwrap();
        let cfg = load(&get).unwrap();
        assert_eq!(cfg.source, UrlSource::File { path: f.clone() });
        std::fs::write(&f, "\nurl = https://hooks.example/secret\n").unwrap();
        let e = load(&get).unwrap_err().to_string();
        assert!(e.contains("line 2") && !e.contains("secret"), "{e}");
    }

    #[test]
    fn payload_is_slack_text() {
        let p = payload("Incident", "all down");
        assert_eq!(p, serde_json::json!({"text": "*Incident*\nall down"}));
    }
}
