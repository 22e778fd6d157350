//! `init --host`: the same inventory as `init` run on the server itself, read over a real
//! OpenSSH (a throwaway sshd, a real PM2 with apps unlike the runbook's site behind it).
//! PM2 through the forwarded rpc.sock, the saved list by the remote file reader, ecosystem
//! files by the server's Node, ports probed from the server's side. Nothing changes there;
//! no secret crosses into the output; nothing is left here.
mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, SystemTime};

use support::pm2_fixture::{free_port, wait_tcp, Pm2Fixture};
use support::sshd::{sockets_under, ssh_processes_mentioning, Sshd};

fn assets() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/foreign")
}

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_pm2-incident"));
    c.env_remove("PM2_INCIDENT_INVENTORY")
        .env("XDG_CONFIG_HOME", "/nonexistent-pm2i-config")
        .env("USER", "root")
        .env_remove("PM2_DAEMON_RPC_PORT")
        .env_remove("PM2_DAEMON_PUB_PORT");
    c
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn mtimes(paths: &[PathBuf]) -> BTreeMap<PathBuf, SystemTime> {
    let mut out = BTreeMap::new();
    for p in paths {
        for e in std::fs::read_dir(p).unwrap().flatten() {
            if let Ok(m) = e.metadata().and_then(|m| m.modified()) {
                out.insert(e.path(), m);
            }
        }
    }
    out
}

/// The written inventory without its timestamp line.
fn body(path: &Path) -> String {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with("# PM2 inventory of this server, written by"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn init_over_ssh_writes_what_init_on_the_server_writes() {
    let (web, blog, blog_test) = (free_port(), free_port(), free_port());
    let env: Vec<(String, String)> = [
        ("SHOP_WEB_PORT", web),
        ("BLOG_PORT", blog),
        ("BLOG_TEST_PORT", blog_test),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let fx = Pm2Fixture::start_configs(
        &[
            assets().join("shop/ecosystem.config.cjs"),
            assets().join("blog/ecosystem.config.cjs"),
        ],
        &env,
        &[
            ("shop-web", 2),
            ("shop-queue", 1),
            ("blog", 1),
            ("blog-test", 1),
        ],
    );
    for p in [web, blog, blog_test] {
        wait_tcp(p, Duration::from_secs(15));
    }
    assert!(fx.pm2_cmd(&["save"]).status.success());
    let mut sshd = Sshd::start();
    let host = sshd.alias("web1", Some(fx.dir()));
    let rt = tempfile::tempdir().unwrap();
    let out_dir = tempfile::tempdir().unwrap();
    let dump = fx.dir().join("dump.pm2");
    let before_dump = std::fs::read(&dump).unwrap();
    let watched = [
        fx.dir().to_path_buf(),
        assets().join("shop"),
        assets().join("blog"),
    ];
    let before_files = mtimes(&watched);

    // On the server itself.
    let local = out_dir.path().join("local.toml");
    let l = bin()
        .args(["init", "--yes", "-o"])
        .arg(&local)
        .env("PM2_HOME", fx.dir())
        .output()
        .unwrap();
    assert_eq!(l.status.code(), Some(0), "{}", text(&l));

    // From "a laptop": no PM2 here, the server over ssh.
    let remote = out_dir.path().join("web1.toml");
    let r = bin()
        .args(["init", "--yes", "--host", &host, "-o"])
        .arg(&remote)
        .env_remove("PM2_HOME")
        .env("PM2_INCIDENT_SSH_COMMAND", sshd.ssh_command())
        .env("XDG_RUNTIME_DIR", rt.path())
        .output()
        .unwrap();
    let rt_text = text(&r);
    assert_eq!(r.status.code(), Some(0), "{rt_text}");
    assert!(!rt_text.contains(&fx.canary), "{rt_text}");
    assert!(
        rt_text.contains("use it: pm2-incident respond --host web1"),
        "{rt_text}"
    );
    assert_eq!(body(&remote), body(&local), "remote and local init differ");
    let written = std::fs::read_to_string(&remote).unwrap();
    assert!(!written.contains(&fx.canary));
    // What the server's readers found: live list, ecosystem file, health endpoint.
    assert!(
        written.contains("shop-web: 2 instance(s), cluster mode"),
        "{written}"
    );
    assert!(
        written.contains(&format!("local_url = \"http://127.0.0.1:{web}\"")),
        "{written}"
    );
    assert!(written.contains("ready_path = \"/healthz\""), "{written}");
    let check = bin()
        .args(["runbook", "check", "--inventory"])
        .arg(&remote)
        .output()
        .unwrap();
    assert!(check.status.success(), "{}", text(&check));

    // Nothing changed on the server; no daemon started; nothing left here.
    assert_eq!(std::fs::read(&dump).unwrap(), before_dump);
    assert_eq!(mtimes(&watched), before_files, "init touched a file");
    assert_eq!(
        pm2_incident::pm2::read_pid_file(&fx.home.pid_file()),
        Some(fx.daemon_pid)
    );
    assert!(std::fs::read_dir(rt.path()).unwrap().next().is_none());
    assert!(sockets_under(rt.path()).is_empty());
    assert!(ssh_processes_mentioning(&rt.path().display().to_string()).is_empty());

    // No Node to read the ecosystem files with: said, and the rest still proposed.
    let r = bin()
        .args([
            "init",
            "--yes",
            "--host",
            &host,
            "--node",
            "/nonexistent/node",
            "-o",
        ])
        .arg(out_dir.path().join("nonode.toml"))
        .env("PM2_INCIDENT_SSH_COMMAND", sshd.ssh_command())
        .env("XDG_RUNTIME_DIR", rt.path())
        .output()
        .unwrap();
    let t = text(&r);
    assert_eq!(r.status.code(), Some(0), "{t}");
    assert!(
        t.contains("ecosystem file skipped:") && t.contains("on web1"),
        "{t}"
    );
    assert!(t.contains("config NOT FOUND"), "{t}");
    assert!(!t.contains(&fx.canary));
}
