//! Shared by the targets: the guard contexts the fuzzer picks from, and the
//! position checks every guard/lint result must pass.
#![allow(dead_code)]

use pm2_incident_engine::guard::daemon::{DaemonObs, Listed, Pm2Context};
use pm2_incident_engine::guard::lint::LintFinding;
use pm2_incident_engine::guard::{Finding, GuardContext};

/// One of the contexts the tool judges under: none (`check-command`, `lint`), an
/// inventory with a scope, and a PM2 observation in each daemon state.
pub fn context(selector: u8) -> GuardContext {
    let inventory = GuardContext {
        known_processes: vec!["stock-alert-*".into(), "flyer-crawler-api".into()],
        scope: Some(vec!["flyer-crawler-*".into()]),
        pm2: None,
    };
    let daemon = match selector % 6 {
        0 => return GuardContext::default(),
        1 => return inventory,
        2 => DaemonObs::Up,
        3 => DaemonObs::NotRunning,
        4 => DaemonObs::Died,
        _ => DaemonObs::Unreachable,
    };
    GuardContext {
        pm2: Some(Pm2Context {
            daemon: Some(daemon),
            saved: Some(vec!["flyer-crawler-api".into()]),
            listed: Some(vec![Listed {
                name: "flyer-crawler-api".into(),
                online: true,
            }]),
            alternative: Some("pm2 resurrect".into()),
        }),
        ..inventory
    }
}

/// Split off the first byte (the context selector) and read the rest as text.
pub fn split(data: &[u8]) -> Option<(u8, &str)> {
    let (&sel, rest) = data.split_first()?;
    Some((sel, std::str::from_utf8(rest).ok()?))
}

/// A guard finding points at a character of the text it came from.
pub fn check_findings(src: &str, findings: &[Finding]) {
    for f in findings {
        assert!(
            f.offset <= src.len(),
            "offset {} past end {}",
            f.offset,
            src.len()
        );
        assert!(
            src.is_char_boundary(f.offset),
            "offset {} inside a character",
            f.offset
        );
    }
}

/// A lint finding names a line of the file and a column within that line.
pub fn check_lint(src: &str, findings: &[LintFinding]) {
    let lines: Vec<&str> = src.split('\n').collect();
    for f in findings {
        assert!(
            f.line >= 1 && f.line <= lines.len(),
            "line {} of {}",
            f.line,
            lines.len()
        );
        let width = lines[f.line - 1].chars().count();
        assert!(
            f.col >= 1 && f.col <= width + 1,
            "col {} of a {width}-char line",
            f.col
        );
    }
}
