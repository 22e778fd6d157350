//! `init` asks before writing when it has a terminal (driven under tmux), refuses to
//! write unasked without one, and works from ecosystem files alone when no PM2
//! daemon runs (nothing is started: the home stays without a daemon).
mod support;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use support::tmux::Tmux;

fn eco(dir: &Path) -> std::path::PathBuf {
    let f = dir.join("ecosystem.config.js");
    std::fs::write(
        &f,
        "module.exports = { apps: [\n  { name: 'ledger-api', script: 'api.js', env: { PORT: 4815, NODE_ENV: 'production', LEDGER_TOKEN: 'cnry-ledger-S3CR3T' } },\n  { name: 'ledger-api-staging', script: 'api.js', env: { PORT: 4816, LEDGER_TOKEN: 'cnry-ledger-S3CR3T' } },\n] };\n",
    )
    .unwrap();
    f
}

#[test]
fn confirms_on_a_terminal_and_never_writes_unasked() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("pm2home");
    std::fs::create_dir(&home).unwrap();
    let f = eco(dir.path());
    let out = dir.path().join("inv.toml");
    let bin = env!("CARGO_BIN_EXE_pm2-incident");

    // Without a terminal and without --yes: nothing written.
    let o = Command::new(bin)
        .args(["init", "--ecosystem"])
        .arg(&f)
        .arg("-o")
        .arg(&out)
        .env("PM2_HOME", &home)
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&o.stdout).to_string() + &String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{text}");
    assert!(text.contains("--yes"), "{text}");
    assert!(
        text.contains("ledger-api-prod") && text.contains("ledger-api-test"),
        "{text}"
    );
    assert!(!text.contains("cnry-ledger"), "{text}");
    assert!(!out.exists());

    let run = |answer: &str| {
        let cmd = format!(
            "PM2_HOME={h} {bin} init --ecosystem {f} -o {o}; echo EXITED $?; sleep 60",
            h = home.display(),
            f = f.display(),
            o = out.display()
        );
        let t = Tmux::start("init", 120, 40, &cmd);
        let s = t.wait_text("[y/N]", Duration::from_secs(20));
        assert!(s.contains("config ecosystem.config.js"), "{s}");
        t.type_text(answer);
        t.keys(&["Enter"]);
        t.wait_text("EXITED", Duration::from_secs(20))
    };
    let s = run("n");
    assert!(
        s.contains("nothing written") && s.contains("EXITED 1"),
        "{s}"
    );
    assert!(!out.exists());
    let s = run("y");
    assert!(s.contains("EXITED 0"), "{s}");
    let written = std::fs::read_to_string(&out).unwrap();
    assert!(written.contains("environment = \"test\""), "{written}");
    assert!(!written.contains("cnry-ledger"), "{written}");
    // No daemon was started in that home.
    assert!(!home.join("pm2.pid").exists());
    assert!(!home.join("rpc.sock").exists());
}
