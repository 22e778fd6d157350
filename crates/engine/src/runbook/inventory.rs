//! The site inventory: applications, their deployments (environment, processes,
//! config file, directory, URLs) and the restore priority. Separate from the
//! procedure so another site edits this file, not the runbook.
use serde::{Deserialize, Serialize};
use serde_spanned::Spanned;

use super::model::Text;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Inventory {
    pub site: String,
    /// `user@host` the runbook SSHes to.
    pub ssh_target: String,
    /// systemd unit that runs the PM2 daemon.
    pub pm2_service: String,
    /// A restart count above this is "high" in the verification checklist.
    #[serde(default = "default_restart_threshold")]
    pub high_restart_threshold: u32,
    /// Per-endpoint health check timeout.
    #[serde(default = "default_health_timeout_ms")]
    pub health_timeout_ms: u64,
    pub app: Vec<App>,
    pub deployment: Vec<Deployment>,
    pub restore: Vec<RestoreEntry>,
    /// Servers running this site, for `fleet` and `snapshot` without `--host` (`[[host]]`).
    #[serde(default)]
    pub host: Vec<HostEntry>,
    /// Deployments on this server: runner services, the freeze file, Gitea (all optional).
    #[serde(default)]
    pub deploy: Option<Spanned<DeploySettings>>,
}

/// One server of the site, reached over OpenSSH.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HostEntry {
    /// An ssh destination: `user@host`, `host`, an `~/.ssh/config` alias.
    pub dest: Spanned<String>,
    /// PM2_HOME on that server (default: the login's `$PM2_HOME`, else `$HOME/.pm2`).
    #[serde(default)]
    pub pm2_home: Option<Spanned<String>>,
    /// That server's own inventory file (its apps differ from this file's), relative to this
    /// file's directory; default: this inventory.
    #[serde(default)]
    pub inventory: Option<Spanned<String>>,
}

/// Why a string cannot be an ssh destination: it must not be read as an option or carry a
/// second word (`remote::Dest` and the inventory's `[[host]]` share this rule).
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum DestError {
    #[error("ssh destination is empty")]
    Empty,
    #[error("ssh destination {0:?} starts with '-' (it would be read as an option)")]
    Dash(String),
    #[error("ssh destination {0:?} contains whitespace or a control character")]
    BadChar(String),
}

/// Check an ssh destination (pure).
pub fn check_dest(s: &str) -> Result<(), DestError> {
    if s.is_empty() {
        return Err(DestError::Empty);
    }
    if s.starts_with('-') {
        return Err(DestError::Dash(s.to_string()));
    }
    if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(DestError::BadChar(s.to_string()));
    }
    Ok(())
}

/// `[deploy]`: how deployments reach this server and how to hold them.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeploySettings {
    /// CI runner daemons by process name, besides the known ones (act_runner, gitea-runner,
    /// forgejo-runner, GitHub's Runner.Worker).
    #[serde(default)]
    pub runner_services: Vec<String>,
    /// Absolute path of the freeze file; default `<state dir>/freeze.json`.
    #[serde(default)]
    pub freeze_file: Option<String>,
    #[serde(default)]
    pub gitea: Option<GiteaSettings>,
}

/// `[deploy.gitea]`: the Gitea whose Actions deploy here. The token is read from the
/// environment variable or the file (0600) at use, never stored in the inventory.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GiteaSettings {
    /// Base URL, e.g. `https://gitea.example.com` (the API is under `/api/v1`).
    pub url: String,
    #[serde(default)]
    pub token_env: Option<String>,
    #[serde(default)]
    pub token_file: Option<String>,
    /// `owner/name` of each repository that deploys to this server.
    pub repos: Vec<String>,
}

static NO_DEPLOY_SETTINGS: std::sync::LazyLock<DeploySettings> =
    std::sync::LazyLock::new(DeploySettings::default);

fn default_restart_threshold() -> u32 {
    10
}
fn default_health_timeout_ms() -> u64 {
    3000
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct App {
    pub id: Text,
    pub name: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Environment {
    Production,
    Test,
}

impl Environment {
    pub fn as_str(self) -> &'static str {
        match self {
            Environment::Production => "production",
            Environment::Test => "test",
        }
    }
}

/// One application in one environment: what PM2 should be running for it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Deployment {
    pub id: Text,
    pub app: Text,
    pub environment: Environment,
    /// Process names or globs (`stock-alert-*`).
    pub processes: Spanned<Vec<String>>,
    /// Ecosystem file, relative to `dir`.
    pub config: String,
    /// Set when the runbook says the config name varies per site.
    #[serde(default)]
    pub config_note: Option<String>,
    pub dir: String,
    /// Public base URL (through NGINX), e.g. `https://flyer-crawler.projectium.com`.
    /// Absent (empty) when the server has none or `init` could not know it.
    #[serde(default)]
    pub public_url: String,
    /// Base URL of the app itself on the server, e.g. `http://localhost:3001`.
    #[serde(default)]
    pub local_url: Option<String>,
    #[serde(default = "default_ready_path")]
    pub ready_path: String,
    #[serde(default = "default_ping_path")]
    pub ping_path: String,
    /// How the ready endpoint answers (default: the runbook's `{data:{status}}`).
    #[serde(default)]
    pub health_format: HealthFormat,
    /// Processes PM2 runs in cluster mode, with their instances (`cluster =
    /// { "flyer-crawler-api" = 2 }`); the others run in fork mode. Drills run them so.
    #[serde(default)]
    pub cluster: Option<Spanned<std::collections::BTreeMap<String, u32>>>,
}

impl Deployment {
    /// The public base URL, when the inventory gives one.
    pub fn public(&self) -> Option<&str> {
        Some(self.public_url.as_str()).filter(|u| !u.trim().is_empty())
    }

    /// Cluster instances per process name the inventory marks (empty: every process forks).
    pub fn cluster(&self) -> impl Iterator<Item = (&String, u32)> {
        self.cluster
            .iter()
            .flat_map(|c| c.get_ref().iter().map(|(k, v)| (k, *v)))
    }

    /// The base URL health checks and the runbook's `curl` lines use: public, else local.
    pub fn base_url(&self) -> Option<&str> {
        self.public().or(self.local_url.as_deref())
    }
}

/// The shape a deployment's health endpoint answers in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum HealthFormat {
    /// The source runbook's `{"data":{"status":"healthy"|…,"services":…}}`.
    #[default]
    #[serde(rename = "runbook")]
    Runbook,
    /// IETF draft `application/health+json`: `{"status":"pass"|"warn"|"fail"}`.
    #[serde(rename = "health+json")]
    HealthJson,
    /// Any 2xx is healthy, whatever the body.
    #[serde(rename = "status-2xx")]
    Status2xx,
}

fn default_ready_path() -> String {
    "/api/health/ready".into()
}
fn default_ping_path() -> String {
    "/api/health/ping".into()
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RestoreEntry {
    /// A process name or glob listed in some deployment.
    pub process: Text,
    pub rationale: String,
}

/// Which way a health URL reaches the app.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Route {
    /// Through NGINX: a dead app shows as 502.
    Public,
    /// Straight to the app's port: a dead app refuses the connection.
    Local,
}

/// One health URL to check, with what it belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthTarget {
    pub url: String,
    pub deployment: String,
    pub app: String,
    pub environment: Environment,
    pub route: Route,
    /// How to read the answer (absent in older journals: the runbook's shape).
    #[serde(default, skip_serializing_if = "is_runbook_format")]
    pub format: HealthFormat,
}

fn is_runbook_format(f: &HealthFormat) -> bool {
    *f == HealthFormat::Runbook
}

impl Inventory {
    /// `[deploy]` as written, or the defaults (no extra runners, default freeze file, no Gitea).
    pub fn deploy_settings(&self) -> &DeploySettings {
        self.deploy
            .as_ref()
            .map(|d| d.get_ref())
            .unwrap_or(&NO_DEPLOY_SETTINGS)
    }

    pub fn deployment(&self, id: &str) -> Option<&Deployment> {
        self.deployment.iter().find(|d| d.id.get_ref() == id)
    }

    pub fn app_name(&self, id: &str) -> Option<&str> {
        self.app
            .iter()
            .find(|a| a.id.get_ref() == id)
            .map(|a| a.name.as_str())
    }

    /// Every health URL of the inventory: the ready endpoint, public and local.
    pub fn health_targets(&self) -> Vec<HealthTarget> {
        let mut out = Vec::new();
        for d in &self.deployment {
            let bases = std::iter::once((Route::Public, d.public()))
                .chain(std::iter::once((Route::Local, d.local_url.as_deref())));
            for (route, base) in bases {
                if let Some(base) = base {
                    out.push(HealthTarget {
                        url: join_url(base, &d.ready_path),
                        deployment: d.id.get_ref().clone(),
                        app: d.app.get_ref().clone(),
                        environment: d.environment,
                        route,
                        format: d.health_format,
                    });
                }
            }
        }
        out
    }

    /// The deployment a process name belongs to (exact names win over globs).
    pub fn deployment_of(&self, process: &str) -> Option<&Deployment> {
        self.deployment
            .iter()
            .find(|d| d.processes.get_ref().iter().any(|p| p == process))
            .or_else(|| {
                self.deployment
                    .iter()
                    .find(|d| d.processes.get_ref().iter().any(|p| glob_match(p, process)))
            })
    }

    /// All process names and globs, in deployment order.
    pub fn process_patterns(&self) -> Vec<String> {
        self.deployment
            .iter()
            .flat_map(|d| d.processes.get_ref().iter().cloned())
            .collect()
    }

    /// Position in the restore order of a process (lower restores first).
    pub fn restore_rank(&self, process: &str) -> Option<usize> {
        self.restore
            .iter()
            .position(|r| glob_match(r.process.get_ref(), process))
    }
}

pub fn join_url(base: &str, path: &str) -> String {
    format!(
        "{}/{}",
        base.trim_end_matches('/'),
        path.trim_start_matches('/')
    )
}

/// Shell-style glob with `*` and `?` only (what process patterns use).
pub fn glob_match(pattern: &str, name: &str) -> bool {
    if !is_glob(pattern) {
        return pattern == name;
    }
    GLOBS.with(|cache| {
        let mut cache = cache.borrow_mut();
        if cache.len() > 512 {
            cache.clear();
        }
        // Looked up before inserting: most calls hit, and a key String per call showed up in
        // the replay index's profile (one match per process per observation).
        if let Some(m) = cache.get(pattern) {
            return m.as_ref().is_some_and(|m| m.is_match(name));
        }
        cache
            .entry(pattern.to_string())
            .or_insert_with(|| compile_glob(pattern))
            .as_ref()
            .is_some_and(|m| m.is_match(name))
    })
}

thread_local! {
    /// Compiled patterns: callers match the same few inventory globs against many names.
    static GLOBS: std::cell::RefCell<std::collections::HashMap<String, Option<globset::GlobMatcher>>> =
        Default::default();
}

/// `*` (any run, `/` included) and `?` (one character) are the only magic: PM2
/// names are matched literally otherwise. globset compiles to a regex, so a
/// match is linear in the name whatever the pattern (no backtracking blow-up).
fn compile_glob(pattern: &str) -> Option<globset::GlobMatcher> {
    let mut escaped = String::with_capacity(pattern.len() * 2);
    for c in pattern.chars() {
        match c {
            '*' | '?' => escaped.push(c),
            c => escaped.push_str(&globset::escape(c.encode_utf8(&mut [0; 4]))),
        }
    }
    globset::GlobBuilder::new(&escaped)
        .literal_separator(false)
        .backslash_escape(true)
        .build()
        .ok()
        .map(|g| g.compile_matcher())
}

pub fn is_glob(pattern: &str) -> bool {
    pattern.contains(['*', '?'])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob_match("stock-alert-*", "stock-alert-api"));
        assert!(!glob_match("stock-alert-*", "flyer-crawler-api"));
        assert!(glob_match("a?c", "abc"));
        assert!(glob_match("exact", "exact"));
        assert!(!glob_match("exact", "exactly"));
        assert!(glob_match("a/*", "a/b/c"), "`*` crosses `/`");
        assert!(glob_match("x[1]*", "x[1]-api"), "brackets are literal");
        assert!(!glob_match("x[1]*", "x1-api"));
        assert!(glob_match("é?", "éa"));
    }

    #[test]
    fn many_stars_stay_correct() {
        let name = "a".repeat(5000);
        assert!(!glob_match("*a*a*a*a*a*a*a*a*a*a*a*a*b", &name));
        assert!(glob_match("*a*a*a*a*a*a*a*a*a*a*a*a*", &name));
    }

    #[test]
    fn urls_join_with_one_slash() {
        assert_eq!(join_url("http://x:1/", "/a/b"), "http://x:1/a/b");
        assert_eq!(join_url("http://x:1", "a"), "http://x:1/a");
    }
}
