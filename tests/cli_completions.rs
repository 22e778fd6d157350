//! Shell completions and man pages generated from the clap tree by the real binary, and
//! loaded by the real shells where they are installed (`bash` always is).
use std::process::{Command, Stdio};

fn bin(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_pm2-incident"))
        .args(args)
        .output()
        .expect("run pm2-incident");
    assert!(out.status.success(), "{args:?}: {:?}", out.status);
    String::from_utf8(out.stdout).expect("utf-8")
}

fn installed(shell: &str) -> bool {
    Command::new(shell)
        .arg("-c")
        .arg("true")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// `shell -n` on the script: the syntax check each shell offers.
fn syntax_ok(shell: &str, script: &str) {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("completion");
    std::fs::write(&f, script).unwrap();
    let out = Command::new(shell).arg("-n").arg(&f).output().unwrap();
    assert!(
        out.status.success(),
        "{shell} -n rejects the completion: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn completions_for_each_shell_name_the_real_subcommands_and_pass_the_shell() {
    for shell in ["bash", "zsh", "fish"] {
        let script = bin(&["completions", shell]);
        for word in ["snapshot", "drill", "--format", "prometheus", "nagios"] {
            assert!(script.contains(word), "{shell} completion lacks {word}");
        }
        if installed(shell) {
            syntax_ok(shell, &script);
        } else {
            eprintln!("{shell} not installed: its completion is generated but not loaded");
        }
    }
    // bash really loads it: the function is registered for the command.
    let script = bin(&["completions", "bash"]);
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("c.bash");
    std::fs::write(&f, script).unwrap();
    let out = Command::new("bash")
        .arg("-c")
        .arg(format!(
            "source {} && complete -p pm2-incident",
            f.display()
        ))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("pm2-incident"));
}

#[test]
fn unknown_shell_is_refused_with_the_choices() {
    let out = Command::new(env!("CARGO_BIN_EXE_pm2-incident"))
        .args(["completions", "tcsh"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("tcsh") && err.contains("bash"), "{err}");
}

#[test]
fn man_pages_are_roff_for_the_command_and_each_subcommand() {
    let page = bin(&["man"]);
    assert!(page.contains(".TH pm2-incident 1"), "{page}");
    assert!(page.contains("snapshot"));
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("man1");
    bin(&["man", "--dir", out.to_str().unwrap()]);
    let snap = std::fs::read_to_string(out.join("pm2-incident-snapshot.1")).unwrap();
    assert!(snap.contains(".TH pm2-incident-snapshot 1"));
    assert!(
        snap.contains("prometheus"),
        "snapshot page names the formats"
    );
    assert!(
        !out.join("pm2-incident-sim.1").exists(),
        "hidden shim has no page"
    );
}
