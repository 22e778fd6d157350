//! `fleet` over a real OpenSSH: five host aliases on a throwaway sshd (tests/support/sshd.rs),
//! four reaching a healthy real PM2, one a home whose daemon is not running.
mod support;

use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use support::pm2_fixture::{Pm2Fixture, ALL_APPS};
use support::sandbox_site::SandboxSite;
use support::sshd::{sockets_under, ssh_processes_mentioning, Sshd};
use support::tmux::Tmux;

fn all_but_crashing() -> Vec<&'static str> {
    ALL_APPS
        .iter()
        .copied()
        .filter(|a| *a != "crash-at-start")
        .collect()
}

fn fleet(rt: &Path, sshd: &Sshd, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pm2-incident"))
        .arg("fleet")
        .args(args)
        .env("PM2_INCIDENT_SSH_COMMAND", sshd.ssh_command())
        .env("XDG_RUNTIME_DIR", rt)
        .output()
        .expect("run pm2-incident fleet")
}

fn assert_clean(rt: &Path) {
    let left: Vec<_> = std::fs::read_dir(rt)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
    assert!(sockets_under(rt).is_empty());
    assert!(ssh_processes_mentioning(&rt.display().to_string()).is_empty());
}

struct World {
    fx: Pm2Fixture,
    site: SandboxSite,
    sshd: Sshd,
    hosts: Vec<String>,
    empty: tempfile::TempDir,
}

fn world() -> World {
    let fx = Pm2Fixture::start(&all_but_crashing());
    let site = SandboxSite::new(&fx);
    let empty = tempfile::Builder::new()
        .prefix("p2ie")
        .tempdir_in("/tmp")
        .unwrap();
    let mut sshd = Sshd::start();
    let mut hosts = vec![];
    for name in ["a-web", "b-web", "m-broken", "x-web", "y-web"] {
        let home = if name == "m-broken" {
            empty.path()
        } else {
            fx.dir()
        };
        hosts.push(sshd.alias(name, Some(home)));
    }
    World {
        fx,
        site,
        sshd,
        hosts,
        empty,
    }
}

#[test]
fn fleet_over_five_hosts_shows_the_broken_one_first() {
    let mut w = world();
    let rt = tempfile::tempdir().unwrap();
    let inv = w.site.inventory.display().to_string();
    let mut args = vec!["--json", "--inventory", &inv];
    for h in &w.hosts {
        args.extend(["--host", h.as_str()]);
    }
    let out = fleet(rt.path(), &w.sshd, &args);
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), 5);
    assert_eq!(rows[0]["host"], "m-broken", "{rows:?}");
    assert_eq!(rows[0]["daemon"], "not_running");
    assert_eq!(rows[0]["online"], 0);
    assert_ne!(rows[0]["level"], "none");
    let healthy: Vec<&str> = rows[1..]
        .iter()
        .map(|r| r["host"].as_str().unwrap())
        .collect();
    assert_eq!(healthy, ["a-web", "b-web", "x-web", "y-web"]);
    for r in &rows[1..] {
        assert_eq!(r["level"], "none", "{r}");
        assert_eq!(r["daemon"], "up");
        assert_eq!(r["online"], r["expected"]);
        assert_eq!(r["failing_health"], 0);
    }
    let code = out.status.code().unwrap();
    assert!(
        code == 3 || code == 2,
        "exit is the broken host's severity, got {code}"
    );
    assert!(
        !w.empty.path().join("rpc.sock").exists(),
        "no daemon started remotely"
    );
    assert_clean(rt.path());

    // The table: same order, one line per host.
    let mut args = vec!["--once", "--inventory", &inv];
    for h in &w.hosts {
        args.extend(["--host", h.as_str()]);
    }
    let out = fleet(rt.path(), &w.sshd, &args);
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 6, "{text}");
    assert!(lines[0].starts_with("HOST"));
    assert!(
        lines[1].starts_with("m-broken") && lines[1].contains("not_running"),
        "{text}"
    );
    assert!(
        lines[2].starts_with("a-web") && lines[2].contains(" none "),
        "{text}"
    );
    assert_clean(rt.path());

    // The inventory's [[host]] entries, used when no --host is given; `pm2_home` names the
    // home on a server whose login does not set PM2_HOME.
    let plain = w.sshd.alias("plain", None);
    let base = std::fs::read_to_string(&w.site.inventory).unwrap();
    let inv2 = w.empty.path().join("inventory-with-hosts.toml");
    std::fs::write(
        &inv2,
        format!(
            "{base}\n[[host]]\ndest = \"{plain}\"\npm2_home = \"{}\"\n\n[[host]]\ndest = \"m-broken\"\n",
            w.fx.dir().display()
        ),
    )
    .unwrap();
    let inv2s = inv2.display().to_string();
    let out = fleet(rt.path(), &w.sshd, &["--json", "--inventory", &inv2s]);
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let hosts: Vec<&str> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["host"].as_str().unwrap())
        .collect();
    assert_eq!(hosts, ["m-broken", "plain"]);
    assert_eq!(rows[1]["level"], "none", "{}", rows[1]);
    // A relative pm2_home is refused at its file:line:col.
    std::fs::write(
        &inv2,
        format!("{base}\n[[host]]\ndest = \"{plain}\"\npm2_home = \".pm2\"\n"),
    )
    .unwrap();
    let out = fleet(rt.path(), &w.sshd, &["--json", "--inventory", &inv2s]);
    assert_eq!(out.status.code(), Some(4));
    let err = String::from_utf8_lossy(&out.stderr);
    let line = base.lines().count() + 4;
    assert!(
        err.contains(&format!(
            "{inv2s}:{line}:12: [[host]] plain: pm2_home \".pm2\" must be an absolute path"
        )),
        "{err}"
    );
    std::fs::remove_file(&inv2).unwrap();
    assert_clean(rt.path());
}

#[test]
fn live_fleet_follows_pm2_events_and_cleans_up_on_quit() {
    let w = world();
    let rt = tempfile::tempdir().unwrap();
    let state = tempfile::tempdir().unwrap();
    let mut cmd = format!(
        "env NO_COLOR=1 XDG_STATE_HOME={} XDG_RUNTIME_DIR={} PM2_INCIDENT_SSH_COMMAND='{}' {} fleet --interval 120 --inventory {}",
        state.path().display(),
        rt.path().display(),
        w.sshd.ssh_command(),
        env!("CARGO_BIN_EXE_pm2-incident"),
        w.site.inventory.display()
    );
    for h in &w.hosts[..2] {
        cmd.push_str(&format!(" --host {h}"));
    }
    cmd.push_str("; echo FLEET-EXITED; sleep 30");
    let t = Tmux::start("fleet", 120, 20, &cmd);
    t.wait_for("both hosts read", Duration::from_secs(30), |s| {
        s.contains("a-web") && s.contains("b-web") && s.matches(" none ").count() >= 2
    });
    // An external stop: the rows follow through the event bus, long before --interval.
    assert!(w
        .fx
        .pm2_cmd(&["stop", "flyer-crawler-api"])
        .status
        .success());
    let (screen, took) = t.wait_for("the stop to show", Duration::from_secs(10), |s| {
        s.lines()
            .filter(|l| l.contains("-web") && l.contains("P2"))
            .count()
            == 2
    });
    assert!(took < Duration::from_secs(10), "{screen}");
    // Enter: respond to the selected (worst, first) host in the same terminal; q comes back.
    t.keys(&["Enter"]);
    t.wait_for("respond over ssh", Duration::from_secs(30), |s| {
        s.contains("LIVE") && s.contains("proposed P2")
    });
    t.keys(&["q"]);
    t.wait_text("Fleet: 2 hosts", Duration::from_secs(20));
    let journals: Vec<_> = std::fs::read_dir(state.path().join("pm2-incident"))
        .expect("respond wrote its journal under XDG_STATE_HOME")
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "jsonl"))
        .collect();
    assert_eq!(journals.len(), 1);
    // The first key after respond may go to its input thread still winding down: repeat q.
    let (_, _) = t.wait_for("the fleet to exit", Duration::from_secs(20), |s| {
        if s.contains("FLEET-EXITED") {
            return true;
        }
        t.keys(&["q"]);
        std::thread::sleep(Duration::from_millis(300));
        false
    });
    assert_clean(rt.path());
}

/// `[[host]] inventory = "…"`: a server that runs other apps is judged by its own inventory
/// (relative to the listing file); a missing or broken one is a `file:line:col` error.
#[test]
fn a_host_with_its_own_inventory_is_judged_by_it() {
    let w = world();
    let rt = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("stock.toml"),
        format!(
            "site = \"stock\"\nssh_target = \"root@stock\"\npm2_service = \"pm2-root\"\n\n\
             [[app]]\nid = \"stock-alert\"\nname = \"Stock Alert\"\n\n\
             [[deployment]]\nid = \"stock-alert-prod\"\napp = \"stock-alert\"\n\
             environment = \"production\"\nprocesses = [\"stock-alert-api\"]\n\
             config = \"stock-alert.config.cjs\"\ndir = \"{}\"\n\n\
             [[restore]]\nprocess = \"stock-alert-api\"\nrationale = \"the only app here\"\n",
            support::pm2_fixture::sandbox_dir().display()
        ),
    )
    .unwrap();
    let base = std::fs::read_to_string(&w.site.inventory).unwrap();
    let main = dir.path().join("inventory.toml");
    let write_main = |own: &str| {
        std::fs::write(
            &main,
            format!(
                "{base}\n[[host]]\ndest = \"a-web\"\n\n[[host]]\ndest = \"y-web\"\ninventory = \"{own}\"\n"
            ),
        )
        .unwrap();
    };
    write_main("stock.toml");
    let mains = main.display().to_string();
    let out = fleet(rt.path(), &w.sshd, &["--json", "--inventory", &mains]);
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    let row = |h: &str| {
        rows.as_array()
            .unwrap()
            .iter()
            .find(|r| r["host"] == h)
            .unwrap_or_else(|| panic!("no row for {h}: {rows}"))
            .clone()
    };
    // Same PM2 behind both: the listing inventory expects all seven, the host's own one.
    assert_eq!(row("a-web")["expected"], 7, "{rows}");
    assert_eq!(row("y-web")["expected"], 1, "{rows}");
    assert_eq!(row("y-web")["online"], 1, "{rows}");
    assert_eq!(row("y-web")["level"], "none", "{rows}");
    // `runbook check` loads it too.
    let check = Command::new(env!("CARGO_BIN_EXE_pm2-incident"))
        .args(["runbook", "check", "--inventory", &mains])
        .output()
        .unwrap();
    assert!(check.status.success());
    assert!(
        String::from_utf8_lossy(&check.stdout)
            .contains("hosts: 2 (1 with an inventory of their own, checked)"),
        "{}",
        String::from_utf8_lossy(&check.stdout)
    );
    assert_clean(rt.path());

    // A file that is not there: the error points at the value in the listing inventory.
    write_main("nope.toml");
    let out = fleet(rt.path(), &w.sshd, &["--json", "--inventory", &mains]);
    assert_eq!(out.status.code(), Some(4));
    let err = String::from_utf8_lossy(&out.stderr);
    let line = base.lines().count() + 7;
    assert!(
        err.contains(&format!(
            "{mains}:{line}:13: [[host]] y-web: cannot read its inventory"
        )),
        "{err}"
    );
    assert!(out.stdout.is_empty(), "nothing judged with a broken setup");
    // A broken one: its own file:line:col.
    std::fs::write(dir.path().join("bad.toml"), "site = 1\n").unwrap();
    write_main("bad.toml");
    let out = fleet(rt.path(), &w.sshd, &["--json", "--inventory", &mains]);
    assert_eq!(out.status.code(), Some(4));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("{}:1:8:", dir.path().join("bad.toml").display())),
        "{err}"
    );
    // One level only: a host's own inventory listing hosts is refused at its [[host]].
    let nested = format!(
        "{}\n[[host]]\ndest = \"x-web\"\n",
        std::fs::read_to_string(dir.path().join("stock.toml")).unwrap()
    );
    std::fs::write(dir.path().join("nested.toml"), &nested).unwrap();
    write_main("nested.toml");
    let out = fleet(rt.path(), &w.sshd, &["--json", "--inventory", &mains]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("a host's own inventory cannot list hosts")
            && err.contains(&format!(
                "{}:{}:8:",
                dir.path().join("nested.toml").display(),
                nested.lines().count()
            )),
        "{err}"
    );
    assert_clean(rt.path());
}
