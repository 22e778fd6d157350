//! `lint --format sarif` from the real binary, validated against the official
//! SARIF 2.1.0 JSON schema (shipped in the npm package `@microsoft/jest-sarif`,
//! fetched once into target/) by Python's `jsonschema` (installed into target/
//! when the machine lacks it).
use std::fs::File;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const SCHEMA_PKG: &str = "@microsoft/jest-sarif@1.0.0-beta.0";
const SCHEMA_FILE: &str = "package/lib/schemas/sarif-2.1.0-rtm.5.json";

fn target_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"))
}

/// Schema path and a PYTHONPATH holding `jsonschema`, prepared once under a lock.
fn validator() -> (PathBuf, PathBuf) {
    let dir = target_dir().join("sarif-schema");
    std::fs::create_dir_all(&dir).unwrap();
    let lock = File::create(target_dir().join("sarif-schema.lock")).unwrap();
    // SAFETY: flock on a descriptor we own; released when `lock` drops.
    assert_eq!(unsafe { libc::flock(lock.as_raw_fd(), libc::LOCK_EX) }, 0);
    let schema = dir.join(SCHEMA_FILE);
    if !schema.exists() {
        let out = Command::new("npm")
            .args(["pack", "--silent", SCHEMA_PKG, "--pack-destination"])
            .arg(&dir)
            .stdin(Stdio::null())
            .output()
            .expect("run npm (scripts/install-test-deps installs it)");
        assert!(
            out.status.success(),
            "npm pack: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let tgz = String::from_utf8_lossy(&out.stdout).trim().to_string();
        let st = Command::new("tar")
            .arg("xzf")
            .arg(dir.join(&tgz))
            .arg("-C")
            .arg(&dir)
            .arg(SCHEMA_FILE)
            .status()
            .unwrap();
        assert!(st.success() && schema.exists(), "unpack {tgz}");
    }
    let py = dir.join("py");
    let has = |path: &Path| {
        Command::new("python3")
            .args(["-c", "import jsonschema"])
            .env("PYTHONPATH", path)
            .status()
            .is_ok_and(|s| s.success())
    };
    if !has(&py) {
        let pip = |extra: &[&str]| {
            Command::new("python3")
                .args(["-m", "pip", "install", "--quiet", "--target"])
                .arg(&py)
                .args(extra)
                .arg("jsonschema")
                .status()
                .is_ok_and(|s| s.success())
        };
        assert!(
            pip(&[]) || pip(&["--break-system-packages"]),
            "pip install jsonschema"
        );
    }
    drop(lock);
    (schema, py)
}

/// Validation errors of `doc` against the SARIF 2.1.0 schema (empty: valid).
fn schema_errors(doc: &str) -> String {
    let (schema, py) = validator();
    let file = std::env::temp_dir().join(format!(
        "pm2-incident-sarif-{}-{}.json",
        std::process::id(),
        doc.len()
    ));
    std::fs::write(&file, doc).unwrap();
    let out = Command::new("python3")
        .args([
            "-c",
            "import json,sys,jsonschema\n\
             s=json.load(open(sys.argv[1])); d=json.load(open(sys.argv[2]))\n\
             v=jsonschema.Draft4Validator(s)\n\
             for e in v.iter_errors(d): print(list(e.path), e.message)",
        ])
        .arg(&schema)
        .arg(&file)
        .env("PYTHONPATH", &py)
        .output()
        .unwrap();
    let _ = std::fs::remove_file(&file);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn lint(format: &str) -> (String, i32) {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/lint/corpus");
    let out = Command::new(env!("CARGO_BIN_EXE_pm2-incident"))
        .args(["lint", "--format", format, dir])
        .output()
        .unwrap();
    (
        String::from_utf8(out.stdout).unwrap(),
        out.status.code().unwrap_or(-1),
    )
}

#[test]
fn sarif_is_valid_2_1_0_and_carries_every_finding() {
    let (sarif, code) = lint("sarif");
    assert_eq!(code, 1, "errors found: exit 1 in every format");
    let errors = schema_errors(&sarif);
    assert!(errors.is_empty(), "schema violations:\n{errors}");

    let doc: serde_json::Value = serde_json::from_str(&sarif).unwrap();
    let (json, _) = lint("json");
    let json: serde_json::Value = serde_json::from_str(&json).unwrap();
    let results = doc["runs"][0]["results"].as_array().unwrap();
    let findings = json["findings"].as_array().unwrap();
    assert_eq!(results.len(), findings.len());
    for (r, f) in results.iter().zip(findings) {
        let region = &r["locations"][0]["physicalLocation"]["region"];
        assert_eq!(region["startLine"], f["line"]);
        assert_eq!(region["startColumn"], f["col"]);
        let level = match f["severity"].as_str() {
            Some("error") => "error",
            Some("info") => "note",
            _ => "warning",
        };
        assert_eq!(r["level"], level);
        let rule = r["ruleId"].as_str().unwrap();
        let idx = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(doc["runs"][0]["tool"]["driver"]["rules"][idx]["id"], rule);
    }
    assert!(
        results.iter().any(|r| r["ruleId"] == "parse"),
        "the parse error is a result"
    );
}

/// The validator is not a rubber stamp: a document missing `version` fails.
#[test]
fn schema_check_rejects_an_invalid_document() {
    let (sarif, _) = lint("sarif");
    let mut doc: serde_json::Value = serde_json::from_str(&sarif).unwrap();
    doc.as_object_mut().unwrap().remove("version");
    doc["runs"][0]["results"][0]["level"] = "fatal".into();
    let errors = schema_errors(&doc.to_string());
    assert!(errors.contains("version"), "{errors}");
    assert!(errors.contains("fatal"), "{errors}");
}
