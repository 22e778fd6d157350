//! The npm distribution: `scripts/npm-pack` packs the launcher and this machine's platform
//! package around the real binary; real npm installs the tarballs into a throwaway global
//! prefix with no network (`--offline`, an unreachable registry, an empty cache), and the
//! installed launcher runs the binary.
use std::path::Path;
use std::process::{Command, Output};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn ok(out: Output, what: &str) -> String {
    assert!(
        out.status.success(),
        "{what}: {:?}\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `npm install -g` of `tarballs` into `prefix` without any network.
fn install_offline(prefix: &Path, cache: &Path, tarballs: &[&Path]) -> Output {
    Command::new("npm")
        .args(["install", "-g", "--offline", "--no-audit", "--no-fund"])
        .args(["--registry", "http://127.0.0.1:9/"])
        .arg("--prefix")
        .arg(prefix)
        .arg("--cache")
        .arg(cache)
        .args(tarballs)
        .output()
        .expect("run npm")
}

#[test]
fn packed_tarballs_install_offline_and_the_launcher_runs_the_binary() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let listed = ok(
        Command::new(root().join("scripts/npm-pack"))
            .arg(&out)
            .args(["--binary", env!("CARGO_BIN_EXE_pm2-incident")])
            .output()
            .unwrap(),
        "scripts/npm-pack",
    );
    let version = env!("CARGO_PKG_VERSION");
    let platform = match std::env::consts::ARCH {
        "x86_64" => "linux-x64",
        "aarch64" => "linux-arm64",
        other => panic!("no npm platform package for {other}"),
    };
    let launcher = out.join(format!("pm2-incident-{version}.tgz"));
    let native = out.join(format!("pm2-incident-{platform}-{version}.tgz"));
    assert!(launcher.exists() && native.exists(), "{listed}");

    let prefix = tmp.path().join("prefix");
    let cache = tmp.path().join("cache");
    ok(
        install_offline(&prefix, &cache, &[&native, &launcher]),
        "npm install -g --offline",
    );
    let bin = prefix.join("bin/pm2-incident");
    let run = |args: &[&str]| Command::new(&bin).args(args).output().unwrap();

    assert_eq!(
        ok(run(&["--version"]), "--version").trim(),
        format!("pm2-incident {version}")
    );
    let list = ok(run(&["drill", "--list"]), "drill --list");
    for f in std::fs::read_dir(root().join("assets/drills")).unwrap() {
        let name = f.unwrap().path();
        let name = name.file_stem().unwrap().to_string_lossy();
        assert!(list.contains(&*name), "drill {name} not listed:\n{list}");
    }
    // Exit codes pass through the launcher (the guard's 20: dangerous).
    assert_eq!(
        run(&["check-command", "pm2 delete all"]).status.code(),
        Some(20)
    );
    // npm links the man page; the completions ship in the package.
    let man = std::fs::read_to_string(prefix.join("share/man/man1/pm2-incident.1")).unwrap();
    assert!(man.contains(".TH pm2-incident 1"));
    let pkg = prefix.join("lib/node_modules/pm2-incident/completions");
    let bash = std::fs::read_to_string(pkg.join("pm2-incident.bash")).unwrap();
    ok(
        Command::new("bash")
            .arg("-c")
            .arg(format!(
                "source {} && complete -p pm2-incident",
                pkg.join("pm2-incident.bash").display()
            ))
            .output()
            .unwrap(),
        "bash loads the shipped completion",
    );
    assert!(bash.contains("snapshot"));

    // Without the platform package the launcher says which one is missing.
    let bare = tmp.path().join("bare");
    ok(
        install_offline(&bare, &cache, &[&launcher]),
        "npm install -g --offline (launcher only)",
    );
    let o = Command::new(bare.join("bin/pm2-incident"))
        .arg("--version")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains(&format!("@pm2-incident/{platform}")), "{err}");
}

#[test]
fn npm_pack_refuses_bad_arguments_with_a_reason() {
    let tmp = tempfile::tempdir().unwrap();
    let o = Command::new(root().join("scripts/npm-pack"))
        .arg(tmp.path())
        .args([
            "--binary",
            env!("CARGO_BIN_EXE_pm2-incident"),
            "--platform",
            "win32-x64",
        ])
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("unsupported platform win32-x64"));
    let o = Command::new(root().join("scripts/npm-pack"))
        .arg(tmp.path())
        .args(["--binary", "/nonexistent/pm2-incident"])
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("not an executable file"));
}
