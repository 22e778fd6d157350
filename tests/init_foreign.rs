//! `init` on a PM2 server the tool has never seen (a real PM2 in a throwaway home,
//! apps named unlike the runbook's site: a clustered shop web app, a queue with no
//! port, a blog in production and test), then `snapshot` with the written inventory
//! through the situations of an incident; the shipped example on the same server is
//! "cannot tell", never P1. A canary secret in every app's env never shows up.
mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, SystemTime};

use support::pm2_fixture::{free_port, wait_tcp, Pm2Fixture};
use support::tmux::Tmux;

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_pm2-incident"));
    // No inventory leaks in from the machine running the tests.
    c.env_remove("PM2_INCIDENT_INVENTORY")
        .env("XDG_CONFIG_HOME", "/nonexistent-pm2i-config")
        .env_remove("PM2_DAEMON_RPC_PORT")
        .env_remove("PM2_DAEMON_PUB_PORT");
    c
}

fn run(fx: &Pm2Fixture, args: &[&str]) -> (i32, String) {
    let out: Output = bin()
        .args(args)
        .env("PM2_HOME", fx.dir())
        .output()
        .expect("run pm2-incident");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !text.contains(&fx.canary),
        "the canary secret leaked into the output of {args:?}"
    );
    (out.status.code().unwrap_or(-1), text)
}

fn snapshot(fx: &Pm2Fixture, inv: &str) -> (i32, serde_json::Value, String) {
    let (code, text) = run(fx, &["snapshot", "--json", "--inventory", inv]);
    let start = text.find('{').unwrap_or(0);
    let end = text.rfind('}').map(|i| i + 1).unwrap_or(text.len());
    let json = serde_json::from_str(&text[start..end]).unwrap_or(serde_json::Value::Null);
    (code, json, text)
}

fn pm2(fx: &Pm2Fixture, args: &[&str]) {
    let out = fx.pm2_cmd(args);
    assert!(
        out.status.success(),
        "pm2 {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn mtimes(paths: &[PathBuf]) -> BTreeMap<PathBuf, SystemTime> {
    let mut out = BTreeMap::new();
    for p in paths {
        let entries: Vec<PathBuf> = if p.is_dir() {
            std::fs::read_dir(p)
                .unwrap()
                .flatten()
                .map(|e| e.path())
                .collect()
        } else {
            vec![p.clone()]
        };
        for e in entries {
            if let Ok(m) = std::fs::metadata(&e).and_then(|m| m.modified()) {
                out.insert(e, m);
            }
        }
    }
    out
}

fn assets() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/foreign")
}

/// The listing as (name, pm_id, pid, status): equal before and after means untouched.
fn fingerprint(fx: &Pm2Fixture) -> Vec<(String, u32, Option<u32>, String)> {
    fx.listing()
        .into_iter()
        .map(|p| (p.name, p.pm_id, p.pid, p.status.as_str().to_string()))
        .collect()
}

#[test]
fn init_then_snapshot_on_a_server_it_has_never_seen() {
    let web = free_port();
    let blog = free_port();
    let blog_test = free_port();
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
    pm2(&fx, &["save"]);
    let dump = fx.dir().join("dump.pm2");
    assert!(std::fs::read_to_string(&dump).unwrap().contains(&fx.canary));

    // --- init changes nothing ---
    let watched = vec![
        fx.dir().to_path_buf(),
        assets().join("shop"),
        assets().join("blog"),
    ];
    let before_files = mtimes(&watched);
    let before_list = fingerprint(&fx);
    let before_dump = std::fs::read(&dump).unwrap();
    let out_dir = tempfile::tempdir().unwrap();
    let inv = out_dir.path().join("inventory.toml");
    let inv_s = inv.to_string_lossy().to_string();
    let (code, text) = run(&fx, &["init", "--yes", "-o", &inv_s]);
    assert_eq!(code, 0, "{text}");
    assert_eq!(fingerprint(&fx), before_list, "init changed PM2's list");
    assert_eq!(std::fs::read(&dump).unwrap(), before_dump);
    assert_eq!(mtimes(&watched), before_files, "init touched a file");
    assert_eq!(
        pm2_incident::pm2::read_pid_file(&fx.home.pid_file()),
        Some(fx.daemon_pid),
        "a new daemon was started"
    );
    assert!(pm2_incident::pm2::pid_alive(fx.daemon_pid));

    // --- what it wrote ---
    let written = std::fs::read_to_string(&inv).unwrap();
    assert!(!written.contains(&fx.canary), "canary in the inventory");
    let toml: toml::Value = toml::from_str(&written).unwrap();
    let deps = toml["deployment"].as_array().unwrap();
    let by_id = |id: &str| {
        deps.iter()
            .find(|d| d["id"].as_str() == Some(id))
            .unwrap_or_else(|| panic!("no deployment {id} in\n{written}"))
    };
    let ids: Vec<&str> = deps.iter().map(|d| d["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["blog-prod", "shop-prod", "blog-test"], "{written}");
    let shop = by_id("shop-prod");
    assert_eq!(shop["environment"].as_str(), Some("production"));
    assert_eq!(
        shop["processes"].as_array().unwrap(),
        &vec![
            toml::Value::from("shop-queue"),
            toml::Value::from("shop-web")
        ]
    );
    assert_eq!(shop["config"].as_str(), Some("ecosystem.config.cjs"));
    assert_eq!(
        shop["local_url"].as_str(),
        Some(format!("http://127.0.0.1:{web}").as_str())
    );
    assert_eq!(shop["ready_path"].as_str(), Some("/healthz"));
    assert_eq!(shop["health_format"].as_str(), Some("status-2xx"));
    assert!(
        written.contains("shop-web: 2 instance(s), cluster mode"),
        "{written}"
    );
    // The cluster is marked for drills of this server (and loads: `runbook check` below).
    assert_eq!(
        shop["cluster"]["shop-web"].as_integer(),
        Some(2),
        "{written}"
    );
    assert!(
        written.contains("shop-queue: 1 instance(s), fork mode, no port"),
        "{written}"
    );
    let b = by_id("blog-prod");
    assert_eq!(b["ready_path"].as_str(), Some("/health"));
    assert_eq!(b["health_format"].as_str(), Some("health+json"));
    let bt = by_id("blog-test");
    assert_eq!(bt["environment"].as_str(), Some("test"));
    assert_eq!(bt["ready_path"].as_str(), Some("/api/health/ready"));
    assert_eq!(bt["health_format"].as_str(), Some("runbook"));

    let (code, text) = run(&fx, &["runbook", "check", "--inventory", &inv_s]);
    assert_eq!(code, 0, "{text}");

    // --- snapshot with it through an incident ---
    let (code, json, text) = snapshot(&fx, &inv_s);
    assert_eq!(
        (json["severity"]["level"].as_str(), code),
        (Some("none"), 0),
        "{text}"
    );
    assert!(json["health"]
        .as_array()
        .unwrap()
        .iter()
        .all(|h| h["verdict"]["verdict"] == "healthy"));

    // respond with the written inventory: this server's apps on screen; the journal
    // (and the screen) never hold the canary.
    let journal = out_dir.path().join("incident.jsonl");
    let cmd = format!(
        "PM2_HOME={home} {bin} respond --inventory {inv} --journal {j}; echo EXITED $?; sleep 60",
        home = fx.dir().display(),
        bin = env!("CARGO_BIN_EXE_pm2-incident"),
        inv = inv.display(),
        j = journal.display()
    );
    let tui = Tmux::start("init-respond", 120, 35, &cmd);
    let (screen, _) = tui.wait_for("shop processes on screen", Duration::from_secs(20), |s| {
        s.contains("shop-prod") && s.contains("blog-test") && s.contains("healthy")
    });
    assert!(!screen.contains("flyer-crawler"), "{screen}");
    assert!(!screen.contains(&fx.canary));
    tui.keys(&["q"]);
    tui.wait_text("EXITED 0", Duration::from_secs(20));
    drop(tui);
    let recorded = std::fs::read_to_string(&journal).unwrap();
    assert!(
        recorded.contains("shop-web"),
        "the journal records the processes"
    );
    assert!(!recorded.contains(&fx.canary), "canary in the journal");

    // The same server judged by the shipped example: cannot tell, never P1.
    let (code, json, text) = snapshot(&fx, "example");
    assert_eq!(code, 4, "{text}");
    let label = json["severity"]["label"].as_str().unwrap_or_default();
    assert!(
        label.contains("this inventory does not describe this server (expected flyer-crawler-*")
            && label.contains("found ")
            && label.contains("shop-web")
            && label.contains("run `pm2-incident init`"),
        "{label}"
    );
    assert_eq!(json["plan"]["items"].as_array().map(Vec::len), Some(0));

    // A production app stopped: P2.
    pm2(&fx, &["stop", "shop-queue"]);
    let (code, json, text) = snapshot(&fx, &inv_s);
    assert_eq!(
        (json["severity"]["level"].as_str(), code),
        (Some("P2"), 2),
        "{text}"
    );

    // Everything deleted (by name): P1.
    pm2(
        &fx,
        &["delete", "shop-web", "shop-queue", "blog", "blog-test"],
    );
    let (code, json, text) = snapshot(&fx, &inv_s);
    assert_eq!(
        (json["severity"]["level"].as_str(), code),
        (Some("P1"), 3),
        "{text}"
    );

    // Back from the saved list, then the daemon killed: judged from dump.pm2.
    pm2(&fx, &["resurrect"]);
    fx.wait_until(Duration::from_secs(30), "resurrected", |l| l.len() == 5);
    pm2(&fx, &["kill"]);
    let (code, json, text) = snapshot(&fx, &inv_s);
    assert_eq!(
        json["pm2"]["daemon"].as_str(),
        Some("not_running"),
        "{text}"
    );
    assert_eq!(
        (json["severity"]["level"].as_str(), code),
        (Some("P1"), 3),
        "{text}"
    );
    // The example inventory with the daemon down: the saved list says whose server this is.
    let (code, _, text) = snapshot(&fx, "example");
    assert_eq!(code, 4, "{text}");
    assert!(text.contains("does not describe this server"), "{text}");
    // No inventory configured at all: judged against the saved list, and said so.
    let (code, text) = run(&fx, &["snapshot"]);
    assert_eq!(code, 3, "{text}");
    assert!(text.contains("no inventory configured"), "{text}");
    assert!(text.contains("dump.pm2"), "{text}");
}
