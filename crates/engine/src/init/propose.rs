//! From what was read (processes live, saved, declared in ecosystem files; health
//! probe results) to a proposed inventory. Pure: no I/O, same input same output.
//!
//! Grouping: processes declared by one ecosystem file form a deployment; others group
//! by working directory. The environment comes from the name (`-test`, `-staging`,
//! `-qa`, `-dev`) or `NODE_ENV`; a group holding both environments splits in two.
//! Restore order: production first, then test, each by deployment id, then by name.
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::pm2::SavedProcess;
use crate::runbook::inventory::HealthFormat;
use crate::runbook::Environment;

/// Where a fact about a process came from (written as comments in the inventory).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum FactSource {
    /// PM2's live list over rpc.sock.
    Live,
    /// `$PM2_HOME/dump.pm2` (or its `.bak`).
    Saved,
    /// An ecosystem file, read by Node.
    Ecosystem(PathBuf),
}

impl FactSource {
    pub fn label(&self) -> String {
        match self {
            FactSource::Live => "live list".into(),
            FactSource::Saved => "dump.pm2".into(),
            FactSource::Ecosystem(p) => p.display().to_string(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Fact {
    pub launch: SavedProcess,
    pub source: FactSource,
}

/// A health endpoint that answered on a port, and its format.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Probe {
    pub port: u16,
    pub path: String,
    pub format: HealthFormat,
    pub http_status: u16,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProposedProcess {
    pub name: String,
    /// Entries PM2 lists under the name (cluster instances).
    pub instances: usize,
    pub exec_mode: Option<String>,
    pub port: Option<u16>,
    pub sources: Vec<FactSource>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProposedDeployment {
    pub id: String,
    pub app: String,
    pub environment: Environment,
    /// Why this environment (e.g. "name ends in -test", "NODE_ENV=production").
    pub environment_reason: String,
    pub processes: Vec<ProposedProcess>,
    pub dir: String,
    /// The ecosystem file (relative to `dir`), `None` when none was found.
    pub config: Option<String>,
    pub local_url: Option<String>,
    pub probe: Option<Probe>,
    /// Ports that answered no health path (reported, not written).
    pub silent_ports: Vec<u16>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProposedApp {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Proposal {
    pub site: String,
    pub ssh_target: String,
    pub pm2_service: String,
    pub apps: Vec<ProposedApp>,
    /// In restore order.
    pub deployments: Vec<ProposedDeployment>,
}

/// Who runs PM2 here, for `ssh_target` and the systemd unit `pm2 startup` creates.
#[derive(Debug, Clone)]
pub struct Host {
    pub hostname: String,
    pub user: String,
}

const TEST_MARKERS: &[&str] = &["test", "staging", "stage", "qa", "dev", "preview"];

/// The environment of one process, with the reason.
pub fn environment_of(l: &SavedProcess) -> (Environment, String) {
    let lower = l.name.to_ascii_lowercase();
    for m in TEST_MARKERS {
        for sep in ['-', '_', '.'] {
            if lower.ends_with(&format!("{sep}{m}")) || lower.contains(&format!("{sep}{m}{sep}")) {
                return (Environment::Test, format!("name contains {sep}{m}"));
            }
        }
    }
    match l.node_env.as_deref().map(str::to_ascii_lowercase) {
        Some(e) if TEST_MARKERS.iter().any(|m| e.starts_with(m)) || e == "development" => {
            (Environment::Test, format!("NODE_ENV={e}"))
        }
        Some(e) => (Environment::Production, format!("NODE_ENV={e}")),
        None => (
            Environment::Production,
            "no test marker in the names or NODE_ENV".into(),
        ),
    }
}

/// A name without its environment marker: `shop-web-test` → `shop-web`.
fn base_name(name: &str) -> &str {
    for m in TEST_MARKERS {
        for sep in ['-', '_', '.'] {
            if let Some(b) = name.strip_suffix(&format!("{sep}{m}")) {
                return b;
            }
        }
    }
    name
}

/// Lower-case letters, digits and dashes: a safe id.
fn slug(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    out.trim_end_matches('-').to_string()
}

/// The longest common dash-separated prefix of the names (`shop-web`, `shop-queue` →
/// `shop`); with one name, the name itself.
fn common_prefix(names: &[&str]) -> String {
    let split: Vec<Vec<&str>> = names.iter().map(|n| n.split('-').collect()).collect();
    let Some(first) = split.first() else {
        return String::new();
    };
    let mut n = first.len();
    for s in &split[1..] {
        n = n.min(first.iter().zip(s).take_while(|(a, b)| a == b).count());
    }
    first[..n].join("-")
}

fn title_case(id: &str) -> String {
    id.split(['-', '_', '.'])
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
                .unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Group key: the ecosystem file that declares the process, else its cwd.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Key {
    Ecosystem(PathBuf),
    Dir(String),
    /// A name family within a directory.
    Family(String, String),
    Alone(String),
}

/// One process name in a group: its facts and why it has its environment.
type Member<'a> = (&'a str, &'a Vec<&'a Fact>, String);

/// Names only an ecosystem file declares, while PM2 runs or saved others: they are
/// not expected here (an old or shared config), so they are reported, not proposed.
pub fn declared_only(facts: &[Fact]) -> Vec<String> {
    let from_pm2 = |f: &&Fact| !matches!(f.source, FactSource::Ecosystem(_));
    if !facts.iter().any(|f| from_pm2(&f)) {
        return vec![];
    }
    let pm2_knows = |n: &str| facts.iter().filter(from_pm2).any(|f| f.launch.name == n);
    let mut out: Vec<String> = facts
        .iter()
        .filter(|f| !from_pm2(f) && !pm2_knows(&f.launch.name))
        .map(|f| f.launch.name.clone())
        .collect();
    out.sort();
    out.dedup();
    out
}

pub fn propose(facts: &[Fact], probes: &[Probe], host: &Host) -> Proposal {
    let skipped = declared_only(facts);
    let facts: Vec<Fact> = facts
        .iter()
        .filter(|f| !skipped.contains(&f.launch.name))
        .cloned()
        .collect();
    let declared = declaring_files(&facts);
    let by_name = by_name(&facts, &declared);
    let groups = split_families(groups_of(&by_name));

    let mut deployments: Vec<ProposedDeployment> = Vec::new();
    let mut apps: Vec<ProposedApp> = Vec::new();
    for ((key, env), members) in &groups {
        let names: Vec<&str> = members.iter().map(|m| base_name(m.0)).collect();
        let (dir, config) = place_of(key);
        let app = app_id(&names, &dir);
        if !apps.iter().any(|a| a.id == app) {
            apps.push(ProposedApp {
                name: title_case(&app),
                id: app.clone(),
            });
        }
        let id = deployment_id(&app, *env, &deployments);
        let mut processes: Vec<ProposedProcess> = members
            .iter()
            .map(|(name, fs, _)| proposed_process(name, fs))
            .collect();
        processes.sort_by(|a, b| a.name.cmp(&b.name));
        let ports: Vec<u16> = processes.iter().filter_map(|p| p.port).collect();
        let probe = ports
            .iter()
            .find_map(|port| probes.iter().find(|p| p.port == *port))
            .cloned();
        let silent_ports = ports
            .iter()
            .filter(|port| !probes.iter().any(|p| p.port == **port))
            .copied()
            .collect();
        deployments.push(ProposedDeployment {
            id,
            app,
            environment: *env,
            environment_reason: members[0].2.clone(),
            processes,
            dir,
            config,
            local_url: probe
                .as_ref()
                .map(|p| format!("http://127.0.0.1:{}", p.port)),
            probe,
            silent_ports,
        });
    }
    deployments.sort_by(|a, b| {
        (a.environment != Environment::Production, &a.id)
            .cmp(&(b.environment != Environment::Production, &b.id))
    });
    Proposal {
        site: host.hostname.clone(),
        ssh_target: format!("{}@{}", host.user, host.hostname),
        pm2_service: format!("pm2-{}", host.user),
        apps,
        deployments,
    }
}

/// Which ecosystem file declares each name: the most specific (fewest apps).
fn declaring_files(facts: &[Fact]) -> BTreeMap<&str, &Path> {
    let mut size: BTreeMap<&Path, usize> = BTreeMap::new();
    for f in facts {
        if let FactSource::Ecosystem(p) = &f.source {
            *size.entry(p.as_path()).or_default() += 1;
        }
    }
    let mut declared: BTreeMap<&str, &Path> = BTreeMap::new();
    for f in facts {
        if let FactSource::Ecosystem(p) = &f.source {
            let e = declared
                .entry(f.launch.name.as_str())
                .or_insert(p.as_path());
            if size[p.as_path()] < size[*e] {
                *e = p.as_path();
            }
        }
    }
    declared
}

/// One entry per name, its facts live first, then saved, then declared, with what groups
/// it: its ecosystem file, else its working directory, else itself.
fn by_name<'a>(
    facts: &'a [Fact],
    declared: &BTreeMap<&str, &Path>,
) -> BTreeMap<&'a str, (Vec<&'a Fact>, Key)> {
    let mut order: Vec<&Fact> = facts.iter().collect();
    order.sort_by_key(|f| f.source.clone());
    let mut by_name: BTreeMap<&str, (Vec<&Fact>, Key)> = BTreeMap::new();
    for f in order {
        let name = f.launch.name.as_str();
        let key = match declared.get(name) {
            Some(p) => Key::Ecosystem(p.to_path_buf()),
            None => match &f.launch.cwd {
                Some(c) => Key::Dir(c.clone()),
                None => Key::Alone(name.to_string()),
            },
        };
        by_name
            .entry(name)
            .or_insert_with(|| (Vec::new(), key))
            .0
            .push(f);
    }
    by_name
}

/// Groups of names by (key, environment).
fn groups_of<'a>(
    by_name: &'a BTreeMap<&'a str, (Vec<&'a Fact>, Key)>,
) -> BTreeMap<(Key, Environment), Vec<Member<'a>>> {
    let mut groups: BTreeMap<(Key, Environment), Vec<Member>> = BTreeMap::new();
    for (name, (fs, key)) in by_name {
        let best = fs.iter().map(|f| &f.launch).find(|l| l.node_env.is_some());
        let (env, why) = environment_of(best.unwrap_or(&fs[0].launch));
        groups
            .entry((key.clone(), env))
            .or_default()
            .push((name, fs, why));
    }
    groups
}

/// A working directory shared by unrelated apps (PM2 records the directory `pm2 start`
/// ran in) splits into name families: `shop-*` apart from `blog`.
fn split_families(
    groups: BTreeMap<(Key, Environment), Vec<Member>>,
) -> BTreeMap<(Key, Environment), Vec<Member>> {
    let mut split: BTreeMap<(Key, Environment), Vec<Member>> = BTreeMap::new();
    for ((key, env), members) in groups {
        let names: Vec<&str> = members.iter().map(|m| base_name(m.0)).collect();
        if matches!(key, Key::Ecosystem(_)) || !common_prefix(&names).is_empty() {
            split.insert((key, env), members);
            continue;
        }
        for m in members {
            let family = base_name(m.0).split('-').next().unwrap_or(m.0).to_string();
            let k = match &key {
                Key::Dir(d) => Key::Family(d.clone(), family),
                other => other.clone(),
            };
            split.entry((k, env)).or_default().push(m);
        }
    }
    split
}

/// Where a group's deployment lives: its directory, and its ecosystem file (relative).
fn place_of(key: &Key) -> (String, Option<String>) {
    match key {
        Key::Ecosystem(p) => (
            p.parent()
                .map(|d| d.display().to_string())
                .unwrap_or_default(),
            p.file_name().map(|n| n.to_string_lossy().into_owned()),
        ),
        Key::Dir(d) | Key::Family(d, _) => (d.clone(), None),
        Key::Alone(_) => (String::new(), None),
    }
}

/// The app id of a group: its names' common prefix, else its directory's name, else its
/// first name, without an environment marker.
fn app_id(names: &[&str], dir: &str) -> String {
    let mut app = slug(&common_prefix(names));
    if app.is_empty() {
        app = slug(
            Path::new(dir)
                .file_name()
                .map(|s| s.to_string_lossy().into_owned())
                .as_deref()
                .unwrap_or(names[0]),
        );
    }
    base_name(&app).to_string()
}

/// `APP-prod` / `APP-test`, numbered from 2 when already taken.
fn deployment_id(app: &str, env: Environment, taken: &[ProposedDeployment]) -> String {
    let suffix = match env {
        Environment::Production => "prod",
        Environment::Test => "test",
    };
    let mut id = format!("{app}-{suffix}");
    let mut n = 2;
    while taken.iter().any(|d| d.id == id) {
        id = format!("{app}-{suffix}-{n}");
        n += 1;
    }
    id
}

/// One process of a deployment: instances as PM2 runs them (else as saved, else one), its
/// exec mode and port from the first fact that has them, and where the facts came from.
fn proposed_process(name: &str, fs: &[&Fact]) -> ProposedProcess {
    let live = fs.iter().filter(|f| f.source == FactSource::Live).count();
    let saved = fs.iter().filter(|f| f.source == FactSource::Saved).count();
    let instances = if live > 0 { live } else { saved.max(1) };
    let mut sources: Vec<FactSource> = fs.iter().map(|f| f.source.clone()).collect();
    sources.dedup();
    ProposedProcess {
        name: name.to_string(),
        instances,
        exec_mode: fs
            .iter()
            .find_map(|f| f.launch.exec_mode.as_ref().map(|m| m.short().to_string())),
        port: fs.iter().find_map(|f| f.launch.port),
        sources,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn launch(name: &str, cwd: &str, port: Option<u16>, node_env: Option<&str>) -> SavedProcess {
        SavedProcess {
            name: name.into(),
            namespace: None,
            cwd: Some(cwd.into()),
            script: None,
            exec_mode: Some(crate::pm2::ExecMode::Fork),
            status: crate::pm2::ProcessStatus::Online,
            port,
            node_env: node_env.map(str::to_string),
        }
    }

    fn live(l: SavedProcess) -> Fact {
        Fact {
            launch: l,
            source: FactSource::Live,
        }
    }

    fn host() -> Host {
        Host {
            hostname: "box".into(),
            user: "deploy".into(),
        }
    }

    #[test]
    fn groups_by_cwd_and_environment_production_first() {
        let facts = vec![
            live(launch("blog-test", "/srv/blog-test", Some(4002), None)),
            live(launch(
                "shop-web",
                "/srv/shop",
                Some(4000),
                Some("production"),
            )),
            live(launch(
                "shop-web",
                "/srv/shop",
                Some(4000),
                Some("production"),
            )),
            live(launch("shop-queue", "/srv/shop", None, Some("production"))),
            live(launch("blog", "/srv/blog", Some(4001), None)),
        ];
        let probes = vec![Probe {
            port: 4000,
            path: "/healthz".into(),
            format: HealthFormat::Status2xx,
            http_status: 200,
        }];
        let p = propose(&facts, &probes, &host());
        let ids: Vec<&str> = p.deployments.iter().map(|d| d.id.as_str()).collect();
        assert_eq!(ids, ["blog-prod", "shop-prod", "blog-test"]);
        let shop = &p.deployments[1];
        assert_eq!(shop.dir, "/srv/shop");
        assert_eq!(shop.processes.len(), 2);
        assert_eq!(shop.processes[1].name, "shop-web");
        assert_eq!(shop.processes[1].instances, 2);
        assert_eq!(shop.local_url.as_deref(), Some("http://127.0.0.1:4000"));
        assert_eq!(shop.environment_reason, "NODE_ENV=production");
        assert_eq!(p.deployments[2].environment, Environment::Test);
        assert_eq!(p.deployments[0].silent_ports, [4001]);
        assert_eq!(
            p.apps.iter().map(|a| a.name.as_str()).collect::<Vec<_>>(),
            ["Blog", "Shop"]
        );
        assert_eq!(p.ssh_target, "deploy@box");
    }

    #[test]
    fn ecosystem_file_groups_and_names_the_config() {
        let eco = PathBuf::from("/srv/app/ecosystem.config.cjs");
        let facts = vec![
            live(launch("api", "/srv/app", None, None)),
            Fact {
                launch: launch("api", "/srv/app", None, None),
                source: FactSource::Ecosystem(eco.clone()),
            },
            Fact {
                launch: launch("worker", "/elsewhere", None, None),
                source: FactSource::Ecosystem(eco),
            },
        ];
        let p = propose(&facts, &[], &host());
        assert_eq!(p.deployments.len(), 1);
        let d = &p.deployments[0];
        assert_eq!(d.config.as_deref(), Some("ecosystem.config.cjs"));
        assert_eq!(d.dir, "/srv/app");
        // `worker` is only declared (PM2 neither runs nor saved it): left out.
        assert_eq!(d.processes.len(), 1);
        // With no PM2 facts at all, the ecosystem file is all there is.
        let p = propose(&facts[1..], &[], &host());
        assert_eq!(p.deployments[0].processes.len(), 2);
    }

    #[test]
    fn one_directory_unrelated_apps_and_stale_configs() {
        let eco = PathBuf::from("/srv/ecosystem.config.js");
        let facts = vec![
            live(launch("shop-web", "/home/deploy", None, None)),
            live(launch("shop-queue", "/home/deploy", None, None)),
            live(launch("blog", "/home/deploy", None, None)),
            Fact {
                launch: launch("old-thing", "/srv", None, None),
                source: FactSource::Ecosystem(eco),
            },
        ];
        let p = propose(&facts, &[], &host());
        let ids: Vec<&str> = p.deployments.iter().map(|d| d.id.as_str()).collect();
        assert_eq!(ids, ["blog-prod", "shop-prod"]);
        assert_eq!(declared_only(&facts), ["old-thing"]);
    }

    #[test]
    fn environment_rules() {
        let e = |n: &str, ne: Option<&str>| environment_of(&launch(n, "/", None, ne)).0;
        assert_eq!(e("api-staging", None), Environment::Test);
        assert_eq!(e("api_test", None), Environment::Test);
        assert_eq!(e("testimonials", None), Environment::Production);
        assert_eq!(e("api", Some("staging")), Environment::Test);
        assert_eq!(e("api", Some("production")), Environment::Production);
    }
}
