//! `drill --history [--json]`: the drill history as a table, then per responder and
//! scenario a trend (sparklines, oldest first: a falling line is progress). Bad lines
//! are named `file:line` on stderr and left in the file as they are.
use std::path::Path;

use crate::drill::history::{self, History, Record, Trend};

fn secs(s: Option<i64>) -> String {
    match s {
        Some(s) if s >= 60 => format!("{}m{:02}s", s / 60, s % 60),
        Some(s) => format!("{s}s"),
        None => "—".into(),
    }
}

fn yes_no(b: Option<bool>) -> &'static str {
    match b {
        Some(true) => "yes",
        Some(false) => "NO",
        None => "—",
    }
}

fn severity(r: &Record) -> String {
    let called = match &r.severity_called {
        Some(s) => serde_json::to_value(s)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default(),
        None => return format!("none (want {})", r.severity_expected.as_str()),
    };
    let mark = if r.severity_correct == Some(true) {
        "✓"
    } else {
        "✗"
    };
    format!(
        "{called}{mark} {}",
        secs(r.severity_after_secs).trim_end_matches(' ')
    )
}

/// The table, one drill per line in file order.
pub fn table(records: &[Record]) -> String {
    let mut out = format!(
        "{:<17} {:<12} {:<15} {:<13} {:>9} {:<5} {:<4} {:>4} {:>4} {:<8} {:>5} {:<5}\n",
        "when (UTC)",
        "responder",
        "scenario",
        "severity",
        "restored",
        "order",
        "gate",
        "dang",
        "caut",
        "evidence",
        "comms",
        "cause"
    );
    for r in records {
        let evidence = match (r.evidence_saved_after_secs, r.evidence_saved_before_changes) {
            (Some(s), true) => secs(Some(s)),
            (Some(_), false) => "late".into(),
            (None, _) => "no".into(),
        };
        out.push_str(&format!(
            "{:<17} {:<12} {:<15} {:<13} {:>9} {:<5} {:<4} {:>4} {:>4} {:<8} {:>5} {:<5}\n",
            r.at.format("%Y-%m-%d %H:%M"),
            r.responder,
            r.scenario,
            severity(r),
            secs(r.production_restored_secs()),
            yes_no(r.priority_order_followed),
            yes_no(r.gate_respected),
            r.dangerous_attempts,
            r.cautions_confirmed,
            evidence,
            r.comms_sent,
            if r.root_cause_named { "yes" } else { "no" },
        ));
    }
    out
}

/// One block per responder and scenario.
pub fn trend_text(trends: &[Trend]) -> String {
    let mut out = String::new();
    for t in trends {
        let change = match t.restore_change_secs {
            Some(d) if d < 0 => format!("  {} faster than the first", secs(Some(-d))),
            Some(d) if d > 0 => format!("  {} slower than the first", secs(Some(d))),
            Some(_) => "  as fast as the first".into(),
            None => String::new(),
        };
        let list = |v: &[Option<i64>]| v.iter().map(|s| secs(*s)).collect::<Vec<_>>().join(" ");
        out.push_str(&format!(
            "{} · {} ({} drill{})\n  restore   {}  {}{change}\n  severity  {}  {}\n  mistakes  {}  {}\n",
            t.responder,
            t.scenario,
            t.drills,
            if t.drills == 1 { "" } else { "s" },
            t.restore_spark,
            list(&t.restore_secs),
            t.severity_spark,
            list(&t.severity_secs),
            t.mistakes_spark,
            t.mistakes
                .iter()
                .map(|m| m.to_string())
                .collect::<Vec<_>>()
                .join(" "),
        ));
    }
    out
}

/// Exit 0 when every line was read, 1 when some were not (or the file could not be).
pub fn run(path: &Path, json: bool) -> i32 {
    let h: History = match history::read(path) {
        Ok(h) => h,
        Err(e) => {
            eprintln!("pm2-incident: {e}");
            return 1;
        }
    };
    for b in &h.bad {
        eprintln!("{b} (left as it is)");
    }
    let trends = history::trends(&h.records);
    if json {
        let v = serde_json::json!({
            "file": path.display().to_string(),
            "records": h.records,
            "trends": trends,
            "bad_lines": h.bad,
        });
        println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
    } else if h.records.is_empty() {
        println!(
            "no drills recorded yet in {} (a drill's debrief figures are added when it ends)",
            path.display()
        );
    } else {
        print!("{}", table(&h.records));
        println!();
        println!("Trend per responder and scenario (oldest first; lower is better):");
        print!("{}", trend_text(&trends));
    }
    i32::from(!h.bad.is_empty())
}
