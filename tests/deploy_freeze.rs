//! `pm2-incident freeze` with real files and modes: on, status, check (exit 1 while frozen,
//! saying who, when and why), off; a freeze file that is not JSON still freezes; two
//! processes freezing at once leave one whole file and no temp files.
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output};

const EXE: &str = env!("CARGO_BIN_EXE_pm2-incident");

fn freeze(file: &Path, args: &[&str]) -> Output {
    Command::new(EXE)
        .arg("freeze")
        .args(args)
        .arg("--file")
        .arg(file)
        .env("SUDO_USER", "")
        .output()
        .unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn on_check_status_off() {
    let t = tempfile::tempdir().unwrap();
    let f = t.path().join("run/pm2-incident/freeze.json");
    let c = freeze(&f, &["check"]);
    assert_eq!(c.status.code(), Some(0), "{}", text(&c));

    let on = freeze(
        &f,
        &[
            "on",
            "--reason",
            "P1: flyer-crawler down",
            "--incident",
            "INC-1",
        ],
    );
    assert_eq!(on.status.code(), Some(0), "{}", text(&on));
    assert_eq!(
        std::fs::metadata(&f).unwrap().permissions().mode() & 0o777,
        0o644
    );
    assert_eq!(
        std::fs::metadata(f.parent().unwrap())
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o755,
        "the runner's user must reach the file"
    );
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&f).unwrap()).unwrap();
    assert_eq!(v["reason"], "P1: flyer-crawler down");
    assert_eq!(v["incident"], "INC-1");
    assert!(chrono::DateTime::parse_from_rfc3339(v["at"].as_str().unwrap()).is_ok());
    let by = v["by"].as_str().unwrap().to_string();
    assert!(!by.is_empty());

    let c = freeze(&f, &["check"]);
    assert_eq!(c.status.code(), Some(1));
    let said = text(&c);
    assert!(said.contains(&format!("FROZEN by {by}")), "{said}");
    assert!(said.contains("P1: flyer-crawler down"), "{said}");
    assert!(said.contains(v["at"].as_str().unwrap()), "{said}");
    // status reports without failing.
    let s = freeze(&f, &["status"]);
    assert_eq!(s.status.code(), Some(0));
    assert!(text(&s).contains("FROZEN"));

    let off = freeze(&f, &["off"]);
    assert_eq!(off.status.code(), Some(0));
    assert!(!f.exists());
    assert_eq!(freeze(&f, &["check"]).status.code(), Some(0));
    // An empty reason is refused and freezes nothing.
    assert_eq!(freeze(&f, &["on", "--reason", "  "]).status.code(), Some(2));
    assert!(!f.exists());
}

#[test]
fn a_freeze_file_that_is_not_json_still_freezes() {
    let t = tempfile::tempdir().unwrap();
    let f = t.path().join("freeze");
    std::fs::write(&f, "frozen by hand\n").unwrap();
    let c = freeze(&f, &["check"]);
    assert_eq!(c.status.code(), Some(1), "{}", text(&c));
    assert!(text(&c).contains("cannot be read"));
}

#[test]
fn concurrent_freezes_leave_one_whole_file() {
    let t = tempfile::tempdir().unwrap();
    let f = t.path().join("freeze.json");
    // Two processes, each freezing 25 times as fast as it can.
    let loop_of = |who: &str| {
        Command::new("/bin/sh")
            .arg("-c")
            .arg(format!(
                "i=0; while [ $i -lt 25 ]; do \"$0\" freeze on --reason \"{who}-$i\" --file \"$1\" >/dev/null || exit 1; i=$((i+1)); done"
            ))
            .arg(EXE)
            .arg(&f)
            .spawn()
            .unwrap()
    };
    let mut a = loop_of("alpha");
    let mut b = loop_of("beta");
    // Meanwhile the file is always whole: every read parses.
    let mut reads = 0;
    while a.try_wait().unwrap().is_none() || b.try_wait().unwrap().is_none() {
        if let Ok(bytes) = std::fs::read(&f) {
            let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_else(|e| {
                panic!(
                    "torn freeze file ({e}): {}",
                    String::from_utf8_lossy(&bytes)
                )
            });
            assert!(v["reason"].as_str().is_some());
            reads += 1;
        }
    }
    assert!(a.wait().unwrap().success() && b.wait().unwrap().success());
    assert!(reads > 0);
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&f).unwrap()).unwrap();
    let reason = v["reason"].as_str().unwrap();
    assert!(
        reason == "alpha-24" || reason == "beta-24",
        "last writer wins whole: {reason}"
    );
    let names: Vec<String> = std::fs::read_dir(t.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        vec!["freeze.json".to_string()],
        "temp files left behind"
    );
}

/// `[deploy]` in the inventory is validated: errors name the file, the line and the value.
#[test]
fn deploy_settings_are_validated() {
    let t = tempfile::tempdir().unwrap();
    let base = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/runbook/inventory.toml"
    ))
    .unwrap();
    let check = |extra: &str| {
        let p = t.path().join("inventory.toml");
        std::fs::write(&p, format!("{base}\n{extra}")).unwrap();
        let o = Command::new(EXE)
            .args(["runbook", "check", "--inventory"])
            .arg(&p)
            .output()
            .unwrap();
        (o.status.code(), text(&o))
    };
    let (code, said) = check("[deploy]\nrunner_services = [\"gitea-runner\"]\nfreeze_file = \"/run/pm2-incident/freeze.json\"\n[deploy.gitea]\nurl = \"https://gitea.example.com\"\ntoken_env = \"GITEA_TOKEN\"\nrepos = [\"acme/shop\"]\n");
    assert_eq!(code, Some(0), "{said}");
    let (code, said) = check("[deploy]\nfreeze_file = \"freeze.json\"\n[deploy.gitea]\nurl = \"gitea.example.com\"\nrepos = [\"shop\"]\n");
    assert_eq!(code, Some(1), "{said}");
    assert!(said.contains("inventory.toml:"), "{said}");
    for want in [
        "`freeze.json` must be an absolute path",
        "`gitea.example.com` must start with http",
        "needs token_env or token_file",
        "`shop` is not `owner/repo`",
    ] {
        assert!(said.contains(want), "missing {want:?} in {said}");
    }
    let (code, said) = check("[deploy]\nfreeze = \"x\"\n");
    assert_eq!(code, Some(1));
    assert!(said.contains("unknown field"), "{said}");
}
