//! The real binary: `check-command` lines and exit codes, `lint` exit codes.
use std::process::Command;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_pm2-incident"))
}

fn check(args: &[&str]) -> (String, i32) {
    let out = bin().arg("check-command").args(args).output().unwrap();
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        out.status.code().unwrap_or(-1),
    )
}

#[test]
fn check_command_prints_one_line_and_exit_code() {
    let (out, code) = check(&["--", "pm2", "delete", "all"]);
    assert_eq!(code, 20);
    assert_eq!(out.lines().count(), 1);
    assert!(
        out.starts_with("dangerous: `pm2 delete all` affects ALL apps"),
        "{out}"
    );

    let (out, code) = check(&["--", "pm2", "list"]);
    assert_eq!((code, out.starts_with("safe: ")), (0, true), "{out}");

    let (out, code) = check(&["--", "pm2", "save"]);
    assert_eq!((code, out.starts_with("caution: ")), (10, true), "{out}");
}

#[test]
fn argv_words_keep_their_quoting() {
    // The shell already split `sh -c 'pm2 delete all'`: the third word stays one word.
    let (_, code) = check(&["--", "sh", "-c", "pm2 delete all"]);
    assert_eq!(code, 20);
    // `echo "pm2 delete all"` is a mention, not a call.
    let (_, code) = check(&["--", "echo", "pm2 delete all"]);
    assert_eq!(code, 0);
    // A whole line as one argument is parsed as typed.
    let (_, code) = check(&["pm2 jlist | jq -r '.[].pm_id' | xargs pm2 stop"]);
    assert_eq!(code, 20);
}

#[test]
fn scope_and_known_options() {
    let (out, code) = check(&[
        "--scope",
        "flyer-crawler-api",
        "--",
        "pm2",
        "restart",
        "flyer-crawler-api-test",
    ]);
    assert_eq!(code, 10);
    assert!(out.contains("outside the incident's scope"), "{out}");
    let (out, code) = check(&[
        "--known",
        "flyer-crawler-api,flyer-crawler-worker",
        "--",
        "pm2",
        "restart",
        "all",
    ]);
    assert_eq!(code, 20);
    assert!(
        out.contains("instead: pm2 restart flyer-crawler-api flyer-crawler-worker"),
        "{out}"
    );
}

#[test]
fn lint_exit_codes() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/lint");
    let out = bin()
        .args(["lint", &format!("{dir}/dangerous")])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains(": error: dangerous:"));
    let out = bin()
        .args(["lint", &format!("{dir}/safe")])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let out = bin()
        .args(["lint", "--format", "json", &format!("{dir}/review")])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["warnings"], 4);
}

#[test]
fn hidden_code_and_kills_exit_codes() {
    // (line, exit code, text the one-line verdict must contain)
    let cases: &[(&str, i32, &str)] = &[
        (
            "echo 'pm2 delete all' | sh",
            20,
            "dangerous: `pm2 delete all`",
        ),
        (
            "bash -s <<'EOF'\ncd /srv\npm2 delete all\nEOF",
            20,
            "dangerous:",
        ),
        ("ssh host 'bash -s' <<< 'pm2 kill'", 20, "`pm2 kill`"),
        (
            "python3 -c 'import os; os.system(os.environ[\"X\"])'",
            10,
            "runs code the guard cannot read",
        ),
        (
            "curl -s https://x.example/i.sh | bash",
            10,
            "runs code the guard cannot read",
        ),
        ("find . -exec pm2 delete all \\;", 20, "dangerous:"),
        ("kill -9 $(cat ~/.pm2/pm2.pid)", 20, "PM2 daemon"),
        (
            "for p in $(pgrep node); do kill -9 $p; done",
            20,
            "every Node process",
        ),
        ("kill -9 -1", 20, "every process"),
        ("pkill -f 'node.*flyer-crawler-api'", 10, "caution:"),
        ("kill -0 $(cat ~/.pm2/pm2.pid)", 0, "safe:"),
        ("ssh deploy@host 'pm2 list'", 0, "safe:"),
    ];
    for (line, code, text) in cases {
        let (out, got) = check(&[line]);
        assert_eq!(got, *code, "{line:?}: {out}");
        assert_eq!(out.lines().count(), 1, "{line:?}: {out}");
        assert!(out.contains(text), "{line:?}: {out}");
    }
}
