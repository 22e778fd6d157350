//! Which processes are a deployment running right now (pure: the process table in, the
//! deployments out). A deployment is a process tree rooted at
//! - a job step of a CI runner daemon (Gitea's `act_runner`/`gitea-runner`, `forgejo-runner`,
//!   a runner service the inventory names): each direct child of the daemon is one step;
//! - GitHub's `Runner.Worker` (one process per job);
//! - a tool (`npm yarn pnpm npx git pm2 node`) or a shell running a script file, whose working
//!   directory is an inventory deployment directory (the outermost such ancestor is the root).
//!
//! Never a deployment: PM2's daemon and everything under it (the apps themselves run `node`
//! in their deployment directory), and the excluded roots (this tool and its children).
use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use super::procfs::ProcInfo;

/// What the scan looks for.
#[derive(Debug, Clone, Default)]
pub struct Rules {
    /// (deployment id, directory) from the inventory.
    pub dirs: Vec<(String, PathBuf)>,
    /// Extra runner daemon names (process name or program file name).
    pub runner_services: Vec<String>,
    /// Pids whose trees are never a deployment (this tool).
    pub exclude: Vec<i32>,
}

/// Why a tree counts as a deployment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DeployKind {
    /// A job step under a runner daemon (`runner` is its name as seen).
    RunnerJob { runner: String, runner_pid: i32 },
    /// GitHub Actions' per-job worker.
    GithubWorker,
    /// A tool or script running in an inventory deployment directory.
    InDeployDir,
}

/// One running deployment, as read now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunningDeploy {
    pub kind: DeployKind,
    /// The tree's root process and its start time (the pair names it; pids get reused).
    pub pid: i32,
    pub start_ticks: u64,
    pub pgid: i32,
    pub user: String,
    /// The root's command line (control characters escaped by the printers).
    pub command: String,
    /// The root's working directory, when readable.
    pub dir: Option<String>,
    /// The inventory deployment whose directory the tree runs in, if any.
    pub deployment: Option<String>,
    pub age_secs: u64,
    /// Every process of the tree, root first.
    pub pids: Vec<i32>,
    /// Whether the whole process group belongs to this tree (then the group can be signalled
    /// as one; otherwise only the tree's own pids are).
    pub owns_group: bool,
}

impl RunningDeploy {
    /// "deploy-to-prod, pid 4123, 2 min" style label for the header.
    pub fn short(&self) -> String {
        let what = self.deployment.clone().unwrap_or_else(|| match &self.kind {
            DeployKind::RunnerJob { runner, .. } => format!("{runner} job"),
            DeployKind::GithubWorker => "Runner.Worker".into(),
            DeployKind::InDeployDir => "deploy".into(),
        });
        format!("{what}, pid {}, {}", self.pid, human_age(self.age_secs))
    }
}

pub fn human_age(secs: u64) -> String {
    match secs {
        0..=59 => format!("{secs} s"),
        60..=3599 => format!("{} min", secs / 60),
        _ => format!("{} h {} min", secs / 3600, secs % 3600 / 60),
    }
}

/// The command line with credentials hidden: URL user info (`https://u:TOKEN@host`) and
/// the values of secret-looking options (`--token=…`, `--password …`). It is shown on
/// screen and journaled with the stop.
pub fn redact(argv: &[String]) -> String {
    const SECRET: &[&str] = &["token", "password", "passwd", "secret", "key", "auth"];
    let secret_opt = |a: &str| {
        let name = a.trim_start_matches('-').to_ascii_lowercase();
        a.starts_with('-') && SECRET.iter().any(|s| name.contains(s))
    };
    let mut out: Vec<String> = Vec::with_capacity(argv.len());
    let mut hide_next = false;
    for a in argv {
        if hide_next {
            out.push("***".into());
            hide_next = false;
            continue;
        }
        if let Some((k, _)) = a.split_once('=').filter(|(k, _)| secret_opt(k)) {
            out.push(format!("{k}=***"));
            continue;
        }
        if secret_opt(a) {
            hide_next = true;
            out.push(a.clone());
            continue;
        }
        // scheme://user:pass@host → scheme://***@host
        let hidden = match (a.find("://"), a.find('@')) {
            (Some(s), Some(at)) if at > s + 3 && !a[s + 3..at].contains('/') => {
                format!("{}***{}", &a[..s + 3], &a[at..])
            }
            _ => a.clone(),
        };
        out.push(hidden);
    }
    out.join(" ")
}

const RUNNERS: &[&str] = &["act_runner", "gitea-runner", "forgejo-runner"];
const TOOLS: &[&str] = &["npm", "npx", "yarn", "pnpm", "git", "pm2", "node"];
const SHELLS: &[&str] = &["sh", "bash", "dash", "zsh", "ksh"];

fn base(s: &str) -> &str {
    s.rsplit('/').next().unwrap_or(s)
}

/// Program name: the first argument's file name, else `comm`.
fn program(p: &ProcInfo) -> &str {
    p.argv.first().map(|a| base(a)).unwrap_or(&p.comm)
}

fn is_pm2_daemon(p: &ProcInfo) -> bool {
    // The daemon retitles itself "PM2 v7.0.4: God Daemon (/home/u/.pm2)".
    let title = p.argv.join(" ");
    title.starts_with("PM2 v") && title.contains("God Daemon")
}

fn is_runner(p: &ProcInfo, extra: &[String]) -> Option<String> {
    let prog = program(p);
    RUNNERS
        .iter()
        .map(|s| s.to_string())
        .chain(extra.iter().cloned())
        .find(|r| prog == r || p.comm == *r)
}

fn is_github_worker(p: &ProcInfo) -> bool {
    program(p) == "Runner.Worker" || p.comm == "Runner.Worker"
}

/// A tool, or a shell running a script file (not `-c`, not interactive).
fn is_deploy_command(p: &ProcInfo) -> bool {
    let prog = program(p);
    // npm and friends run as `node /usr/bin/npm …`; their title may be `npm install`.
    if TOOLS.contains(&prog) || TOOLS.contains(&p.comm.as_str()) {
        return true;
    }
    SHELLS.contains(&prog)
        && p.argv
            .iter()
            .skip(1)
            .find(|a| !a.starts_with('-') || a.as_str() == "-c")
            .is_some_and(|a| a != "-c")
}

fn dir_of<'a>(rules: &'a Rules, cwd: &Path) -> Option<&'a str> {
    rules
        .dirs
        .iter()
        .filter(|(_, d)| cwd.starts_with(d))
        .max_by_key(|(_, d)| d.as_os_str().len())
        .map(|(id, _)| id.as_str())
}

/// The deployments running in `procs`.
pub fn find(procs: &[ProcInfo], rules: &Rules, users: &HashMap<u32, String>) -> Vec<RunningDeploy> {
    let table = Table::new(procs);
    let excluded = excluded(&table, rules);
    let mut roots = job_roots(&table, rules, &excluded);
    roots.extend(deploy_dir_roots(&table, rules, &excluded));

    // One entry per tree: a root inside another root's tree is part of that one.
    let mut seen: BTreeSet<i32> = BTreeSet::new();
    let mut out = Vec::new();
    roots.sort_by_key(|(pid, kind)| (matches!(kind, DeployKind::InDeployDir), *pid));
    let mut covered: BTreeSet<i32> = BTreeSet::new();
    let trees: Vec<(i32, DeployKind, Vec<i32>)> = roots
        .into_iter()
        .filter(|(pid, _)| seen.insert(*pid))
        .map(|(pid, k)| {
            let all = table.tree(pid);
            // A tree holding this tool (a wrapper script it runs under) is never offered:
            // stopping it would end the responder's own session.
            let holds_me = rules.exclude.iter().any(|x| all.contains(x));
            let t: Vec<i32> = all.into_iter().filter(|p| !excluded.contains(p)).collect();
            (pid, k, if holds_me { vec![] } else { t })
        })
        .collect();
    let all_roots: BTreeSet<i32> = trees
        .iter()
        .filter(|(_, _, t)| !t.is_empty())
        .map(|(p, _, _)| *p)
        .collect();
    for (pid, kind, pids) in trees {
        if table.under_any(pid, &all_roots) || !covered.insert(pid) {
            continue;
        }
        // A tree holding this tool (a wrapper script it runs under) is never offered.
        if pids.is_empty() {
            continue;
        }
        out.push(running_deploy(&table, rules, users, pid, kind, pids));
    }
    out.sort_by_key(|d| d.pid);
    out
}

/// The process table as a tree: each process's parent and children.
struct Table<'a> {
    procs: &'a [ProcInfo],
    by_pid: HashMap<i32, &'a ProcInfo>,
    children: HashMap<i32, Vec<i32>>,
}

impl<'a> Table<'a> {
    fn new(procs: &'a [ProcInfo]) -> Self {
        let by_pid: HashMap<i32, &ProcInfo> = procs.iter().map(|p| (p.pid, p)).collect();
        let mut children: HashMap<i32, Vec<i32>> = HashMap::new();
        for p in procs {
            children.entry(p.ppid).or_default().push(p.pid);
        }
        Table {
            procs,
            by_pid,
            children,
        }
    }

    /// `root` and every process under it, root first.
    fn tree(&self, root: i32) -> Vec<i32> {
        let mut out = vec![root];
        let mut i = 0;
        while i < out.len() {
            if let Some(c) = self.children.get(&out[i]) {
                out.extend(c.iter().copied().filter(|c| *c != root));
            }
            i += 1;
        }
        out
    }

    /// Whether an ancestor of `pid` is one of `roots`.
    fn under_any(&self, pid: i32, roots: &BTreeSet<i32>) -> bool {
        let mut a = self.by_pid.get(&pid).map(|p| p.ppid);
        while let Some(pp) = a {
            if roots.contains(&pp) {
                return true;
            }
            a = self.by_pid.get(&pp).map(|p| p.ppid).filter(|x| *x != pp);
        }
        false
    }
}

/// Never a deployment: pids 0 and 1, PM2's daemon and its apps, this tool's trees.
fn excluded(table: &Table, rules: &Rules) -> BTreeSet<i32> {
    let mut excluded: BTreeSet<i32> = BTreeSet::from([0, 1]);
    for p in table.procs.iter().filter(|p| is_pm2_daemon(p)) {
        excluded.extend(table.tree(p.pid));
    }
    for &pid in &rules.exclude {
        excluded.extend(table.tree(pid));
    }
    excluded
}

/// CI jobs: each direct child of a runner daemon (a job step), and GitHub's per-job worker.
fn job_roots(table: &Table, rules: &Rules, excluded: &BTreeSet<i32>) -> Vec<(i32, DeployKind)> {
    let mut roots = Vec::new();
    for p in table.procs.iter().filter(|p| !excluded.contains(&p.pid)) {
        if let Some(runner) = is_runner(p, &rules.runner_services) {
            for c in table.children.get(&p.pid).into_iter().flatten() {
                if !excluded.contains(c) {
                    roots.push((
                        *c,
                        DeployKind::RunnerJob {
                            runner: runner.clone(),
                            runner_pid: p.pid,
                        },
                    ));
                }
            }
        } else if is_github_worker(p) {
            roots.push((p.pid, DeployKind::GithubWorker));
        }
    }
    roots
}

/// The inventory deployment whose directory `p` runs in.
fn in_dir<'r>(rules: &'r Rules, p: &ProcInfo) -> Option<&'r str> {
    p.cwd.as_deref().and_then(|c| dir_of(rules, c))
}

/// Deploy commands in a deployment directory, each climbed to its outermost ancestor that
/// is still a deploy command in the same directory (and not under a runner daemon).
fn deploy_dir_roots(
    table: &Table,
    rules: &Rules,
    excluded: &BTreeSet<i32>,
) -> Vec<(i32, DeployKind)> {
    let runner_pids: BTreeSet<i32> = table
        .procs
        .iter()
        .filter(|p| is_runner(p, &rules.runner_services).is_some())
        .map(|p| p.pid)
        .collect();
    let mut roots = Vec::new();
    for p in table.procs.iter().filter(|p| !excluded.contains(&p.pid)) {
        let Some(dep) = in_dir(rules, p) else {
            continue;
        };
        if !is_deploy_command(p) {
            continue;
        }
        let mut root = p;
        while let Some(parent) = table.by_pid.get(&root.ppid) {
            if excluded.contains(&parent.pid)
                || runner_pids.contains(&parent.pid)
                || in_dir(rules, parent) != Some(dep)
                || !is_deploy_command(parent)
            {
                break;
            }
            root = parent;
        }
        roots.push((root.pid, DeployKind::InDeployDir));
    }
    roots
}

/// The record of one deployment tree rooted at `pid` (`pids`: its processes, root first).
fn running_deploy(
    table: &Table,
    rules: &Rules,
    users: &HashMap<u32, String>,
    pid: i32,
    kind: DeployKind,
    pids: Vec<i32>,
) -> RunningDeploy {
    let p = table.by_pid[&pid];
    let members: BTreeSet<i32> = pids.iter().copied().collect();
    let owns_group = p.pgid > 1
        && table
            .procs
            .iter()
            .filter(|q| q.pgid == p.pgid)
            .all(|q| members.contains(&q.pid));
    let dir = p.cwd.as_ref().map(|c| c.display().to_string());
    let deployment = pids
        .iter()
        .filter_map(|x| table.by_pid.get(x))
        .find_map(|q| in_dir(rules, q))
        .map(str::to_string);
    RunningDeploy {
        kind,
        pid,
        start_ticks: p.start_ticks,
        pgid: p.pgid,
        user: super::procfs::user_name(users, p.uid),
        command: if p.argv.is_empty() {
            format!("[{}]", p.comm)
        } else {
            redact(&p.argv)
        },
        dir,
        deployment,
        age_secs: p.age_secs,
        pids,
        owns_group,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(pid: i32, ppid: i32, pgid: i32, argv: &str, cwd: &str) -> ProcInfo {
        let argv: Vec<String> = argv.split(' ').map(String::from).collect();
        ProcInfo {
            pid,
            ppid,
            pgid,
            uid: 1000,
            comm: base(&argv[0]).chars().take(15).collect(),
            argv,
            cwd: Some(PathBuf::from(cwd)),
            start_ticks: pid as u64 * 10,
            age_secs: 120,
        }
    }

    fn rules() -> Rules {
        Rules {
            dirs: vec![
                ("prod".into(), PathBuf::from("/var/www/app.com")),
                ("test".into(), PathBuf::from("/var/www/app-test.com")),
            ],
            runner_services: vec!["my-runner".into()],
            exclude: vec![900, 97],
        }
    }

    #[test]
    fn table() {
        let procs = vec![
            p(10, 1, 10, "PM2 v7.0.4: God Daemon (/home/u/.pm2)", "/"),
            p(
                11,
                10,
                11,
                "node /var/www/app.com/server.js",
                "/var/www/app.com",
            ),
            p(20, 1, 20, "/usr/local/bin/act_runner daemon", "/home/r"),
            p(
                21,
                20,
                21,
                "bash --noprofile --norc -e -o pipefail /h/.cache/act/1/act/workflow/0.sh",
                "/h/x",
            ),
            p(22, 21, 21, "npm ci", "/h/x"),
            p(30, 1, 30, "-bash", "/var/www/app.com"),
            p(31, 30, 31, "git pull", "/var/www/app.com"),
            p(40, 1, 40, "sh deploy.sh", "/var/www/app-test.com/sub"),
            p(41, 40, 40, "sleep 100", "/var/www/app-test.com/sub"),
            p(50, 1, 50, "bash", "/var/www/app.com"),
            p(60, 1, 60, "my-runner", "/"),
            p(61, 60, 60, "sh -c make", "/"),
            p(
                70,
                1,
                70,
                "/opt/actions-runner/bin/Runner.Worker spawnclient 1 2",
                "/opt",
            ),
            p(71, 70, 70, "bash /opt/_work/_temp/x.sh", "/opt/_work"),
            p(900, 1, 900, "pm2-incident respond", "/var/www/app.com"),
            p(901, 900, 901, "sh -c pm2 restart app", "/var/www/app.com"),
            p(
                902,
                901,
                901,
                "node /usr/bin/pm2 restart app",
                "/var/www/app.com",
            ),
            p(80, 1, 80, "sh -c git status", "/srv/other"),
            // A wrapper script in a deployment dir that runs this tool: not offered.
            p(95, 1, 95, "bash wrap.sh", "/var/www/app.com"),
            p(96, 95, 95, "node x.js", "/var/www/app.com"),
            p(97, 96, 95, "pm2-incident respond", "/var/www/app.com"),
        ];
        let found = find(
            &procs,
            &rules(),
            &HashMap::from([(1000, "deploy".to_string())]),
        );
        let roots: Vec<(i32, &DeployKind)> = found.iter().map(|d| (d.pid, &d.kind)).collect();
        assert_eq!(
            roots,
            vec![
                (
                    21,
                    &DeployKind::RunnerJob {
                        runner: "act_runner".into(),
                        runner_pid: 20
                    }
                ),
                (31, &DeployKind::InDeployDir),
                (40, &DeployKind::InDeployDir),
                (
                    61,
                    &DeployKind::RunnerJob {
                        runner: "my-runner".into(),
                        runner_pid: 60
                    }
                ),
                (70, &DeployKind::GithubWorker),
            ]
        );
        let job = &found[0];
        assert_eq!(job.pids, vec![21, 22]);
        assert!(job.owns_group);
        assert_eq!(job.user, "deploy");
        assert_eq!(found[1].deployment.as_deref(), Some("prod"));
        assert_eq!(found[2].deployment.as_deref(), Some("test"));
        assert_eq!(found[2].pids, vec![40, 41]);
        // The step shares the runner's group: signalling the group would stop the runner.
        assert!(!found[3].owns_group);
        assert_eq!(found[4].pids, vec![70, 71]);
        assert_eq!(found[1].short(), "prod, pid 31, 2 min");
    }

    #[test]
    fn credentials_are_hidden() {
        let a = |s: &str| s.split(' ').map(String::from).collect::<Vec<_>>();
        assert_eq!(
            redact(&a("git clone https://ci:s3cr3t@gitea.example.com/a/b.git")),
            "git clone https://***@gitea.example.com/a/b.git"
        );
        assert_eq!(
            redact(&a("deploy --token s3cr3t --api-key=k1 -v")),
            "deploy --token *** --api-key=*** -v"
        );
        assert_eq!(
            redact(&a("npm ci --prefix /var/www/x")),
            "npm ci --prefix /var/www/x"
        );
    }

    #[test]
    fn nothing_running_is_nothing() {
        let procs = vec![
            p(10, 1, 10, "PM2 v7.0.4: God Daemon (/home/u/.pm2)", "/"),
            p(11, 10, 11, "node server.js", "/var/www/app.com"),
            p(50, 1, 50, "bash", "/var/www/app.com"),
            p(51, 50, 51, "vim x", "/var/www/app.com"),
        ];
        assert!(find(&procs, &rules(), &HashMap::new()).is_empty());
    }
}
