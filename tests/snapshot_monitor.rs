//! `snapshot --format nagios|prometheus` on a real PM2 daemon with real HTTP (the sandbox
//! apps behind the stand-in NGINX): goldens and exit codes for none, P3, P2, P1 and
//! "cannot tell"; the Prometheus text checked by a parser here and by `promtool check
//! metrics` when Debian's prometheus package is installed.
mod support;

use std::collections::BTreeSet;
use std::os::unix::fs::PermissionsExt;
use std::process::Command;

use support::pm2_fixture::{Pm2Fixture, ALL_APPS};
use support::sandbox_site::SandboxSite;

struct Out {
    code: i32,
    text: String,
}

fn run(fx: &Pm2Fixture, inventory: Option<&std::path::Path>, args: &[&str]) -> Out {
    let cfg = tempfile::tempdir().unwrap();
    let mut c = Command::new(env!("CARGO_BIN_EXE_pm2-incident"));
    c.arg("snapshot").args(args).env("PM2_HOME", fx.dir());
    // No inventory found by discovery unless given: a clean config home.
    c.env("XDG_CONFIG_HOME", cfg.path())
        .env_remove("PM2_INCIDENT_INVENTORY");
    if let Some(i) = inventory {
        c.arg("--inventory").arg(i);
    }
    let out = c.output().expect("run pm2-incident");
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(!text.contains(&fx.canary), "the canary secret leaked");
    Out {
        code: out.status.code().unwrap_or(-1),
        text,
    }
}

/// Ports and latencies change from run to run; everything else is the golden.
fn normalize(fx: &Pm2Fixture, site: &SandboxSite, s: &str) -> String {
    let mut s = s.to_string();
    for (app, port) in &site.public_ports {
        s = s.replace(&format!(":{port}/"), &format!(":PUBLIC-{app}/"));
    }
    for (app, port) in &fx.ports {
        s = s.replace(&format!(":{port}/"), &format!(":LOCAL-{app}/"));
    }
    s.lines()
        .map(|l| {
            if l.starts_with("pm2_incident_endpoint_latency_seconds{") {
                format!("{} <latency>", l.rsplit_once(' ').unwrap().0)
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The text exposition format, as far as node_exporter's textfile collector needs it:
/// HELP and TYPE once before a family's samples, valid names and label syntax, a number
/// (or NaN) as value, no series twice.
fn check_exposition(text: &str) {
    let mut typed = BTreeSet::new();
    let mut series = BTreeSet::new();
    let name_ok = |n: &str| {
        !n.is_empty()
            && n.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
            && !n.starts_with(|c: char| c.is_ascii_digit())
    };
    for (i, line) in text.lines().enumerate() {
        let at = format!("line {}: {line}", i + 1);
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').expect(&at);
            assert_eq!(kind, "gauge", "{at}");
            assert!(typed.insert(name.to_string()), "TYPE twice: {at}");
            continue;
        }
        if line.starts_with("# HELP ") {
            continue;
        }
        assert!(!line.starts_with('#') && !line.is_empty(), "{at}");
        let (series_part, value) = line.rsplit_once(' ').expect(&at);
        assert!(
            value == "NaN" || value.parse::<f64>().is_ok(),
            "value not a number: {at}"
        );
        let name = series_part.split('{').next().unwrap();
        assert!(name_ok(name), "bad metric name: {at}");
        assert!(typed.contains(name), "sample before its TYPE: {at}");
        if let Some(labels) = series_part.strip_prefix(name) {
            if !labels.is_empty() {
                let body = labels
                    .strip_prefix('{')
                    .and_then(|l| l.strip_suffix('}'))
                    .expect(&at);
                // key="value" pairs; inside values only \\ \" \n escapes.
                let mut rest = body;
                while !rest.is_empty() {
                    let (k, v) = rest.split_once("=\"").expect(&at);
                    assert!(name_ok(k), "bad label name: {at}");
                    let mut end = None;
                    let mut chars = v.char_indices();
                    while let Some((j, c)) = chars.next() {
                        match c {
                            '\\' => {
                                let (_, e) = chars.next().expect(&at);
                                assert!(matches!(e, '\\' | '"' | 'n'), "bad escape: {at}");
                            }
                            '"' => {
                                end = Some(j);
                                break;
                            }
                            _ => {}
                        }
                    }
                    let end = end.expect(&at);
                    rest = &v[end + 1..];
                    rest = rest.strip_prefix(',').unwrap_or(rest);
                }
            }
        }
        assert!(series.insert(series_part.to_string()), "series twice: {at}");
    }
}

fn promtool(text: &str) {
    let Ok(mut child) = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
    else {
        eprintln!("promtool not installed: the parser in this test is the only check");
        return;
    };
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "promtool check metrics: {}{}\n{text}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn value_of(text: &str, series: &str) -> String {
    text.lines()
        .find_map(|l| l.strip_prefix(series).and_then(|r| r.strip_prefix(' ')))
        .unwrap_or_else(|| panic!("no {series} in\n{text}"))
        .to_string()
}

/// One situation: nagios and prometheus outputs, their exit codes, goldens.
fn situation(fx: &Pm2Fixture, site: &SandboxSite, name: &str, nagios_code: i32, level: i32) {
    let inv = Some(site.inventory.as_path());
    let n = run(fx, inv, &["--format", "nagios"]);
    assert_eq!(n.code, nagios_code, "nagios exit for {name}:\n{}", n.text);
    insta::assert_snapshot!(format!("{name}_nagios"), normalize(fx, site, &n.text));
    let p = run(fx, inv, &["--format", "prometheus"]);
    assert_eq!(p.code, level, "prometheus exit for {name}:\n{}", p.text);
    check_exposition(&p.text);
    promtool(&p.text);
    insta::assert_snapshot!(format!("{name}_prometheus"), normalize(fx, site, &p.text));
}

fn pm2(fx: &Pm2Fixture, args: &[&str]) {
    let out = fx.pm2_cmd(args);
    assert!(out.status.success(), "pm2 {args:?}");
}

#[test]
fn monitoring_formats_follow_the_runbook_situations_on_a_real_pm2() {
    let apps: Vec<&str> = ALL_APPS
        .iter()
        .copied()
        .filter(|a| *a != "crash-at-start")
        .collect();
    let fx = Pm2Fixture::start(&apps);
    let site = SandboxSite::new(&fx);

    situation(&fx, &site, "none", 0, 0);

    // -o writes the same text atomically, readable by the collector's user.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("pm2_incident.prom");
    std::fs::write(&file, "old\n").unwrap();
    let o = run(
        &fx,
        Some(&site.inventory),
        &["--format", "prometheus", "-o", file.to_str().unwrap()],
    );
    assert_eq!((o.code, o.text.as_str()), (0, ""));
    let written = std::fs::read_to_string(&file).unwrap();
    assert_eq!(value_of(&written, "pm2_incident_severity"), "0");
    check_exposition(&written);
    let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o644);
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        1,
        "temp file left"
    );
    // A file that cannot be written: UNKNOWN, and nothing half-written.
    let bad = dir.path().join("missing-dir/x.prom");
    let o = run(
        &fx,
        Some(&site.inventory),
        &["--format", "nagios", "-o", bad.to_str().unwrap()],
    );
    assert_eq!(o.code, 3);
    assert!(!bad.exists());

    // Test processes stopped: P3 → WARNING.
    pm2(
        &fx,
        &[
            "stop",
            "flyer-crawler-api-test",
            "flyer-crawler-worker-test",
            "flyer-crawler-analytics-worker-test",
        ],
    );
    situation(&fx, &site, "p3", 1, 1);

    // Production API stopped too: the gateway answers 502 → P2 → CRITICAL.
    pm2(&fx, &["stop", "flyer-crawler-api"]);
    situation(&fx, &site, "p2", 2, 2);

    // Every process deleted (by name) → P1 → CRITICAL.
    let mut del = vec!["delete"];
    del.extend(apps.iter().copied());
    pm2(&fx, &del);
    situation(&fx, &site, "p1", 2, 3);
}

#[test]
fn with_nothing_to_judge_against_the_check_says_unknown() {
    let fx = Pm2Fixture::start(&["flyer-crawler-worker"]);
    // No inventory, no saved list: severity cannot be told.
    let n = run(&fx, None, &["--format", "nagios"]);
    assert_eq!(n.code, 3, "{}", n.text);
    assert!(
        n.text.starts_with("PM2-INCIDENT UNKNOWN - cannot tell"),
        "{}",
        n.text
    );
    assert!(n.text.contains("severity=U;"), "{}", n.text);
    let p = run(&fx, None, &["--format", "prometheus"]);
    assert_eq!(p.code, 4, "{}", p.text);
    check_exposition(&p.text);
    promtool(&p.text);
    assert_eq!(value_of(&p.text, "pm2_incident_severity"), "NaN");
    assert_eq!(
        value_of(&p.text, r#"pm2_incident_severity_state{level="unknown"}"#),
        "1"
    );
    assert_eq!(
        value_of(&p.text, r#"pm2_incident_pm2_daemon{state="up"}"#),
        "1"
    );
    assert_eq!(
        value_of(
            &p.text,
            r#"pm2_incident_process_up{deployment="",environment="",process="flyer-crawler-worker",in_inventory="no"}"#
        ),
        "1"
    );
    // An inventory that does not load: still a check result, UNKNOWN.
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("inventory.toml");
    std::fs::write(&bad, "this is = = not toml\n").unwrap();
    let n = run(&fx, Some(&bad), &["--format", "nagios"]);
    assert_eq!(n.code, 3, "{}", n.text);
    assert!(
        n.text.starts_with("PM2-INCIDENT UNKNOWN - cannot tell"),
        "{}",
        n.text
    );
    // --json stays an alias of --format json.
    let j = run(&fx, None, &["--json"]);
    let v: serde_json::Value = serde_json::from_str(&j.text).unwrap();
    assert_eq!(v["severity"]["level"], "unknown");
}

#[test]
fn the_parser_here_rejects_what_the_collector_would() {
    for bad in [
        "x 1\n",                                        // no TYPE
        "# TYPE x gauge\nx{a=\"b} 1\n",                 // open quote
        "# TYPE x gauge\nx one\n",                      // not a number
        "# TYPE x gauge\nx{a=\"1\"} 1\nx{a=\"1\"} 2\n", // series twice
        "# TYPE x gauge\nx{a=\"\\q\"} 1\n",             // bad escape
    ] {
        let r = std::panic::catch_unwind(|| check_exposition(bad));
        assert!(r.is_err(), "accepted: {bad:?}");
    }
    check_exposition("# HELP x h\n# TYPE x gauge\nx{a=\"q\\\"\\\\\\n\",b=\"\"} NaN\nx 1\n");
}
