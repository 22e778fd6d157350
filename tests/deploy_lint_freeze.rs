//! `pm2-incident lint` reports, as info, a workflow that deploys PM2 apps without a
//! `freeze check` step (with the line to add); info does not fail the lint, and a workflow
//! that checks the freeze gets no such finding.
use std::process::Command;

const EXE: &str = env!("CARGO_BIN_EXE_pm2-incident");

const WORKFLOW: &str = "name: Deploy to production\non:\n  push:\n    branches: [main]\njobs:\n  deploy:\n    runs-on: projectium.com\n    steps:\n      - uses: actions/checkout@v4\n      - name: Install\n        run: npm ci\n      - name: Reload\n        run: |\n          cd /var/www/flyer-crawler.projectium.com\n          pm2 startOrReload ecosystem.config.cjs --only flyer-crawler-api\n";

fn lint(dir: &std::path::Path) -> (i32, serde_json::Value) {
    let out = Command::new(EXE)
        .args(["lint", "--format", "json"])
        .arg(dir)
        .output()
        .unwrap();
    let v = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)));
    (out.status.code().unwrap_or(-1), v)
}

#[test]
fn info_without_the_check_none_with_it() {
    let t = tempfile::tempdir().unwrap();
    let wf = t.path().join(".gitea/workflows");
    std::fs::create_dir_all(&wf).unwrap();
    std::fs::write(wf.join("deploy-to-prod.yml"), WORKFLOW).unwrap();
    let (code, v) = lint(t.path());
    assert_eq!(code, 0, "info does not fail the lint: {v}");
    let f: Vec<&serde_json::Value> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "freeze-check")
        .collect();
    assert_eq!(f.len(), 1, "{v}");
    assert_eq!(f[0]["severity"], "info");
    assert_eq!(f[0]["line"], 15);
    assert!(f[0]["safe_alternative"]
        .as_str()
        .unwrap()
        .contains("- run: pm2-incident freeze check"));
    assert_eq!(v["infos"], 1);

    let checked = WORKFLOW.replace(
        "      - name: Install\n",
        "      - name: Deployment freeze\n        run: pm2-incident freeze check --file /run/pm2-incident/freeze.json\n      - name: Install\n",
    );
    std::fs::write(wf.join("deploy-to-prod.yml"), checked).unwrap();
    let (code, v) = lint(t.path());
    assert_eq!(code, 0);
    assert!(
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["rule"] != "freeze-check"),
        "{v}"
    );
}
