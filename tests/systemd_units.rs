//! The sample systemd timer and service in assets/systemd: verified by systemd-analyze
//! (when installed) and the service's own ExecStart run with the real binary.
use std::path::Path;
use std::process::Command;

fn asset(name: &str) -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("assets/systemd")
            .join(name),
    )
    .unwrap()
}

fn key<'a>(unit: &'a str, k: &str) -> &'a str {
    unit.lines()
        .find_map(|l| l.strip_prefix(&format!("{k}=")))
        .unwrap_or_else(|| panic!("no {k}= in unit"))
}

#[test]
fn timer_runs_the_service_every_30_seconds_and_the_service_command_works() {
    let timer = asset("pm2-incident-metrics.timer");
    let service = asset("pm2-incident-metrics.service");
    assert_eq!(key(&timer, "OnUnitActiveSec"), "30s");
    assert_eq!(key(&timer, "Unit"), "pm2-incident-metrics.service");

    let dir = tempfile::tempdir().unwrap();
    let bin = env!("CARGO_BIN_EXE_pm2-incident");
    let prom = dir.path().join("pm2_incident.prom");
    let exec = key(&service, "ExecStart")
        .replace("/usr/local/bin/pm2-incident", bin)
        .replace(
            "/var/lib/prometheus/node-exporter/pm2_incident.prom",
            prom.to_str().unwrap(),
        );
    if Command::new("systemd-analyze")
        .arg("--version")
        .output()
        .is_ok()
    {
        let units = dir.path().join("units");
        std::fs::create_dir(&units).unwrap();
        let svc = service.replace(key(&service, "ExecStart"), &exec);
        std::fs::write(units.join("pm2-incident-metrics.service"), svc).unwrap();
        std::fs::write(units.join("pm2-incident-metrics.timer"), &timer).unwrap();
        let out = Command::new("systemd-analyze")
            .arg("verify")
            .arg(units.join("pm2-incident-metrics.timer"))
            .arg(units.join("pm2-incident-metrics.service"))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "systemd-analyze verify: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    // The ExecStart line as systemd would split it, against an empty PM2_HOME: the file is
    // written, the exit code is one systemd is told to accept.
    let home = tempfile::tempdir().unwrap();
    let cfg = tempfile::tempdir().unwrap();
    let words: Vec<&str> = exec.split_whitespace().collect();
    let out = Command::new(words[0])
        .args(&words[1..])
        .env("PM2_HOME", home.path())
        .env("XDG_CONFIG_HOME", cfg.path())
        .env_remove("PM2_INCIDENT_INVENTORY")
        .output()
        .unwrap();
    let code = out.status.code().unwrap();
    let accepted: Vec<i32> = std::iter::once(0)
        .chain(
            key(&service, "SuccessExitStatus")
                .split(' ')
                .map(|c| c.parse().unwrap()),
        )
        .collect();
    assert!(accepted.contains(&code), "exit {code} fails the unit");
    let text = std::fs::read_to_string(&prom).unwrap();
    assert!(text.contains("\npm2_incident_severity NaN\n"), "{text}");

    // A directory it cannot write into: an exit code systemd counts as failure.
    let words: Vec<String> = words
        .iter()
        .map(|w| w.replace(prom.to_str().unwrap(), "/nonexistent-dir/x.prom"))
        .collect();
    let out = Command::new(&words[0])
        .args(&words[1..])
        .env("PM2_HOME", home.path())
        .env("XDG_CONFIG_HOME", cfg.path())
        .output()
        .unwrap();
    assert!(!accepted.contains(&out.status.code().unwrap()));
}
