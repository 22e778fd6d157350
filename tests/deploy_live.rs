//! Running deployments seen from `/proc` and stopped, with real processes: a real PM2 daemon
//! whose apps run in a deployment directory (never a deployment), a deploy script in that
//! directory, a fake runner daemon (a shell named `act_runner`) with a job step in its own
//! session that ignores TERM, and the binary's `snapshot` and `deploy-stop`.
mod support;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use pm2_incident::deploy::{self, procfs, stop, DeployKind, Rules, RunningDeploy};
use support::pm2_fixture::Pm2Fixture;

const EXE: &str = env!("CARGO_BIN_EXE_pm2-incident");

/// Alive: listed in /proc and not a zombie.
fn live(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| {
            let close = s.rfind(')')?;
            s[close + 1..].split_whitespace().next().map(|st| st != "Z")
        })
        .unwrap_or(false)
}

/// Waits until the tree has its expected shape (the shell has forked its children).
fn wait_for<T>(what: &str, mut f: impl FnMut() -> Option<T>, debug: impl Fn() -> String) -> T {
    let end = Instant::now() + Duration::from_secs(15);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(
            Instant::now() < end,
            "timed out waiting for {what}: {}",
            debug()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn script(dir: &Path, name: &str, body: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, body).unwrap();
    p
}

/// `sh SCRIPT` started in `cwd`, in its own process group (as a runner starts a step).
fn spawn_in(cwd: &Path, program: &Path, script: &Path) -> Child {
    use std::os::unix::process::CommandExt;
    Command::new(program)
        .arg(script)
        .current_dir(cwd)
        .process_group(0)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn")
}

/// `sh SCRIPT` in `cwd`, in a session of its own, orphaned at once; its pid.
fn detached_in(cwd: &Path, script: &Path) -> i32 {
    let out = Command::new("/bin/sh")
        .arg("-c")
        .arg("setsid /bin/sh \"$1\" </dev/null >/dev/null 2>&1 & echo $!")
        .arg("sh")
        .arg(script)
        .current_dir(cwd)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .expect("pid")
}

fn scan(rules: &Rules) -> Vec<RunningDeploy> {
    deploy::scan_with(Path::new("/proc"), rules)
}

fn end(child: &mut Child) {
    // SAFETY: signalling a child this test started, by pid.
    unsafe { libc::kill(child.id() as i32, libc::SIGKILL) };
    let _ = child.wait();
}

#[test]
fn a_deploy_script_in_a_deployment_dir_is_seen_pm2_apps_are_not_and_stop_ends_its_tree() {
    let fx = Pm2Fixture::start(&["flyer-crawler-api"]);
    // The deployment directory is where PM2 runs the app (read, not assumed).
    let pm2_pids: Vec<i32> = fx
        .processes_of_this_home()
        .iter()
        .map(|p| *p as i32)
        .collect();
    let app_dir = pm2_pids
        .iter()
        .filter(|p| **p != fx.daemon_pid as i32)
        .find_map(|p| std::fs::read_link(format!("/proc/{p}/cwd")).ok())
        .expect("a PM2 app process with a readable cwd");
    let rules = Rules {
        dirs: vec![("flyer-crawler-prod".into(), app_dir.clone())],
        runner_services: vec![],
        exclude: vec![],
    };
    // Before any deploy: PM2's daemon and its node apps in that directory are not one.
    let before = scan(&rules);
    assert!(
        before
            .iter()
            .all(|d| d.pids.iter().all(|p| !pm2_pids.contains(p))),
        "a PM2-managed process was taken for a deployment: {before:?}"
    );

    let tmp = tempfile::tempdir().unwrap();
    let s = script(
        tmp.path(),
        "deploy.sh",
        "sleep 300 &\nwhile :; do sleep 1; done\n",
    );
    // Detached (its parent exits), so it is not inside whatever tree runs this test, which
    // may itself be a script in the same directory.
    let pid = detached_in(&app_dir, &s);
    let mut end = EndGroup(pid);
    let d = wait_for(
        "the deploy tree",
        || {
            scan(&rules)
                .into_iter()
                .find(|d| d.pid == pid && d.pids.len() >= 3)
        },
        || format!("{:?}", scan(&rules)),
    );
    assert_eq!(d.kind, DeployKind::InDeployDir);
    assert_eq!(d.deployment.as_deref(), Some("flyer-crawler-prod"));
    assert_eq!(d.dir.as_deref(), Some(app_dir.to_str().unwrap()));
    assert!(d.command.contains("deploy.sh"), "{}", d.command);
    assert!(d.owns_group);
    assert!(d.pids.iter().all(|p| !pm2_pids.contains(p)));
    let tree = d.pids.clone();

    let r = stop::stop(
        Path::new("/proc"),
        d.pid,
        d.start_ticks,
        d.owns_group,
        Duration::from_secs(5),
    )
    .unwrap();
    assert!(r.group_signalled);
    assert!(r.killed.is_empty(), "the script exits on TERM: {r:?}");
    assert!(r.remaining.is_empty(), "{r:?}");
    end.0 = 0; // stopped: the group id may be reused from here on
    for p in &tree {
        assert!(!live(*p), "pid {p} of the stopped tree is still alive");
    }
    // PM2 and its apps were not touched.
    for p in &pm2_pids {
        assert!(live(*p), "PM2 process {p} was hit");
    }
}

#[test]
fn a_runner_job_that_ignores_term_is_killed_and_the_runner_is_left_alone() {
    let tmp = tempfile::tempdir().unwrap();
    let runner_bin = tmp.path().join("act_runner");
    std::os::unix::fs::symlink("/bin/sh", &runner_bin).unwrap();
    let job = script(
        tmp.path(),
        "job.sh",
        "trap '' TERM\nsleep 300 &\nwhile :; do sleep 1; done\n",
    );
    // The runner starts each step in a session of its own (act_runner host mode: Setpgid).
    let runner_script = script(
        tmp.path(),
        "runner.sh",
        &format!(
            "setsid /bin/sh {} &\nwhile :; do sleep 1; done\n",
            job.display()
        ),
    );
    let mut runner = spawn_in(tmp.path(), &runner_bin, &runner_script);
    let runner_pid = runner.id() as i32;
    let rules = Rules::default();
    let d = wait_for(
        "the runner job",
        || {
            scan(&rules).into_iter().find(|d| {
                matches!(&d.kind, DeployKind::RunnerJob { runner_pid: r, .. } if *r == runner_pid)
                    && d.command.contains("job.sh")
                    && d.pids.len() >= 3
            })
        },
        || format!("{:?}", scan(&rules)),
    );
    assert_eq!(
        d.kind,
        DeployKind::RunnerJob {
            runner: "act_runner".into(),
            runner_pid
        }
    );
    assert!(d.owns_group, "setsid gave the step its own group");
    // The runner's own loop (`sleep 1`) is a child of the runner, but not of this job.
    assert!(!d.pids.contains(&runner_pid));

    let tree = d.pids.clone();
    let r = stop::stop(
        Path::new("/proc"),
        d.pid,
        d.start_ticks,
        true,
        Duration::from_millis(800),
    )
    .unwrap();
    assert!(
        !r.killed.is_empty(),
        "TERM is ignored, so KILL was needed: {r:?}"
    );
    assert!(r.remaining.is_empty(), "{r:?}");
    for p in &tree {
        assert!(!live(*p), "pid {p} of the job is still alive");
    }
    assert!(
        live(runner_pid),
        "the runner daemon itself must not be stopped"
    );
    end(&mut runner);
}

#[test]
fn a_reused_pid_is_never_signalled() {
    let tmp = tempfile::tempdir().unwrap();
    let s = script(tmp.path(), "x.sh", "while :; do sleep 1; done\n");
    let mut child = spawn_in(tmp.path(), Path::new("/bin/sh"), &s);
    let pid = child.id() as i32;
    let me = procfs::read_one(Path::new("/proc"), pid).unwrap();
    let err = stop::stop(
        Path::new("/proc"),
        pid,
        me.start_ticks + 1,
        true,
        Duration::from_secs(1),
    )
    .unwrap_err();
    assert!(matches!(err, stop::StopError::Reused { .. }));
    assert!(live(pid));
    end(&mut child);
}

/// The shipped inventory with the flyer-crawler-prod directory at `dir` and URLs that refuse.
fn inventory(dir: &Path, at: &Path) -> PathBuf {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/runbook/inventory.toml"
    ))
    .unwrap();
    let mut text = text.replace(
        "/var/www/flyer-crawler.projectium.com",
        dir.to_str().unwrap(),
    );
    for u in [
        "https://flyer-crawler.projectium.com",
        "https://flyer-crawler-test.projectium.com",
        "https://stock-alert.projectium.com",
        "http://localhost:3001",
        "http://localhost:3002",
    ] {
        text = text.replace(u, "http://127.0.0.1:9");
    }
    text.push_str(&format!(
        "\n[deploy]\nfreeze_file = \"{}\"\n",
        at.join("freeze.json").display()
    ));
    let p = at.join("inventory.toml");
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn snapshot_shows_the_running_deploy_and_deploy_stop_ends_it() {
    let tmp = tempfile::tempdir().unwrap();
    let www = tmp.path().join("www");
    std::fs::create_dir(&www).unwrap();
    let inv = inventory(&www, tmp.path());
    let pm2_home = tmp.path().join("pm2home");
    std::fs::create_dir(&pm2_home).unwrap();
    let s = script(
        tmp.path(),
        "deploy.sh",
        "sleep 300 &\nwhile :; do sleep 1; done\n",
    );
    let mut child = spawn_in(&www, Path::new("/bin/sh"), &s);
    let pid = child.id() as i32;
    wait_for(
        "the sleep child",
        || {
            let procs = procfs::read_all(Path::new("/proc"));
            procs.iter().any(|p| p.ppid == pid).then_some(())
        },
        String::new,
    );

    let snap = |json: bool| {
        let mut c = Command::new(EXE);
        c.arg("snapshot");
        if json {
            c.arg("--json");
        }
        let out = c
            .arg("--inventory")
            .arg(&inv)
            .arg("--pm2-home")
            .arg(&pm2_home)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let text = snap(false);
    assert!(
        text.contains(&format!("deploy running: flyer-crawler-prod, pid {pid}")),
        "{text}"
    );
    let json: serde_json::Value = serde_json::from_str(&snap(true)).unwrap();
    let deploys = json["deploys"]["running"]
        .as_array()
        .expect("deploys.running");
    let mine = deploys
        .iter()
        .find(|d| d["pid"] == pid)
        .unwrap_or_else(|| panic!("pid {pid} not in {deploys:?}"));
    assert_eq!(mine["deployment"], "flyer-crawler-prod");
    assert_eq!(json["deploys"]["freeze"]["frozen"], false);
    let start = mine["start_ticks"].as_u64().unwrap();
    let tree: Vec<i32> = mine["pids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_i64().unwrap() as i32)
        .collect();
    assert!(tree.len() >= 3, "{tree:?}");

    let out = Command::new(EXE)
        .args([
            "deploy-stop",
            "--pid",
            &pid.to_string(),
            "--start-ticks",
            &start.to_string(),
            "--group",
            "--grace-secs",
            "3",
        ])
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{said}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        said.contains("no process of the deployment is left"),
        "{said}"
    );
    assert!(said.contains("will show as failed"), "{said}");
    let _ = child.wait();
    for p in &tree {
        assert!(!live(*p), "pid {p} still alive");
    }
    // Stopping again: the pid is gone; nothing is signalled and the exit says so.
    let again = Command::new(EXE)
        .args([
            "deploy-stop",
            "--pid",
            &pid.to_string(),
            "--start-ticks",
            &start.to_string(),
        ])
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(2));
}

/// Ends a detached test deploy's session group if the test fails before stopping it
/// (by its own group id, which the test created with `setsid`).
struct EndGroup(i32);
impl Drop for EndGroup {
    fn drop(&mut self) {
        if self.0 > 1 {
            // SAFETY: signalling the group of a process this test started.
            unsafe { libc::kill(-self.0, libc::SIGKILL) };
        }
    }
}
