//! The report's Impact section: what the responders recorded, each application's downtime
//! (from the availability the fold kept), response times between milestones, and how the
//! severity was decided.
use super::{cell, fmt_ms, hm, inline};
use crate::incident::availability::AppState;
use crate::incident::event::*;
use crate::incident::fold::Incident;
use std::fmt::Write;

pub(super) fn impact(o: &mut String, inc: &Incident, drill: bool) {
    o.push_str("## Impact\n\n");
    recorded(o, &inc.impact);
    downtime(o, inc);
    response_times(o, inc, drill);
    severity_decision(o, inc);
    severity_history(o, inc);
}

/// Users, revenue and SLA, as the responders wrote them.
fn recorded(o: &mut String, impact: &Impact) {
    let or_nr = |s: &str| {
        if s.is_empty() {
            "Not recorded".to_string()
        } else {
            inline(s).into_owned()
        }
    };
    let _ = writeln!(o, "- **Users affected**: {}", or_nr(&impact.users_affected));
    let _ = writeln!(o, "- **Revenue impact**: {}", or_nr(&impact.revenue));
    let _ = writeln!(o, "- **SLA impact**: {}\n", or_nr(&impact.sla));
}

fn downtime(o: &mut String, inc: &Incident) {
    o.push_str("### Downtime per application\n\n");
    let end = inc.closed.as_ref().map(|c| c.at).or(inc.last_ts);
    let recorded_start = inc.milestones.get(&Milestone::ImpactStarted).copied();
    let apps: Vec<_> = inc
        .availability
        .apps
        .iter()
        .filter(|a| a.up.is_some() || !a.outages.is_empty())
        .collect();
    match end {
        Some(end) if !apps.is_empty() => {
            o.push_str("Computed from PM2 process and health-check transitions recorded in the journal.\n\n");
            o.push_str("| Application | Downtime | Outages | Down since (UTC) | Restored (UTC) | State at end |\n");
            o.push_str("| --- | --- | --- | --- | --- | --- |\n");
            let mut backdated = false;
            for a in apps {
                backdated |= downtime_row(o, a, end, recorded_start);
            }
            if backdated {
                o.push_str("\nApplications already down at the first observation are counted from the recorded impact start.\n");
            }
        }
        _ => o.push_str("No process or health observations recorded.\n"),
    }
    o.push('\n');
}

/// One application's row; true when its outage is counted from the recorded impact start
/// (it was already down when first seen, and impact started before that).
fn downtime_row(o: &mut String, a: &AppState, end: Ts, recorded_start: Option<Ts>) -> bool {
    let state = match a.up {
        Some(true) => "UP",
        Some(false) => "DOWN",
        None => "unknown",
    };
    let first = a.outages.first();
    let mut since = first.map_or("-".into(), |x| hm(x.from));
    let backdated = a.down_when_first_seen()
        && recorded_start.is_some_and(|s| first.is_some_and(|f| s < f.from));
    if backdated {
        since = format!(
            "{} (impact start)",
            recorded_start.map(hm).unwrap_or_default()
        );
    }
    let restored = a.outages.last().and_then(|x| x.to).map_or("-".into(), hm);
    let _ = writeln!(
        o,
        "| {} | {} | {} | {since} | {restored} | {state} |",
        cell(&a.label),
        fmt_ms(a.downtime_ms(end, recorded_start).max(0) as u64),
        a.outages.len()
    );
    backdated
}

fn response_times(o: &mut String, inc: &Incident, drill: bool) {
    o.push_str("### Response times\n\n");
    let (start, start_src) = impact_start(inc);
    let m = |k: Milestone| inc.milestones.get(&k).copied();
    let span = |a: Option<Ts>, b: Option<Ts>| match (a, b) {
        (Some(a), Some(b)) => fmt_ms((b - a).num_milliseconds().max(0) as u64),
        _ => "Not recorded".into(),
    };
    o.push_str("| Measure | From | To | Time |\n| --- | --- | --- | --- |\n");
    let det = m(Milestone::Detected);
    let rows = [
        ("Time to detect", start_src, "detected", start, det),
        (
            "Time to acknowledge",
            "detected",
            "acknowledged",
            det,
            m(Milestone::Acknowledged),
        ),
        (
            "Time to mitigate",
            start_src,
            "mitigated",
            start,
            m(Milestone::Mitigated),
        ),
        (
            "Time to resolve",
            start_src,
            "resolved",
            start,
            m(Milestone::Resolved),
        ),
    ];
    for (name, from, to, a, b) in rows {
        let _ = writeln!(o, "| {name} | {from} | {to} | {} |", span(a, b));
    }
    if drill {
        o.push_str("\nDRILL: excluded from incident metrics.\n");
    }
    o.push('\n');
}

/// Impact start: the recorded milestone, else the first outage the journal saw.
fn impact_start(inc: &Incident) -> (Option<Ts>, &'static str) {
    if let Some(&t) = inc.milestones.get(&Milestone::ImpactStarted) {
        return (Some(t), "impact started");
    }
    let first_down = inc
        .availability
        .apps
        .iter()
        .filter_map(|a| a.outages.first())
        .map(|o| o.from)
        .min();
    (first_down, "first observed down")
}

/// The decision tree's path at the peak, and the responder's decision on it.
fn severity_decision(o: &mut String, inc: &Incident) {
    let Some(p) = &inc.peak_proposal else {
        return;
    };
    o.push_str("### Severity decision\n\n");
    let _ = writeln!(
        o,
        "Decision tree at the peak (proposed {} at {}):\n",
        p.value.severity.label(),
        hm(p.at)
    );
    for s in &p.value.path {
        let ans = if s.answer { "YES" } else { "NO" };
        let why = if s.reason.is_empty() {
            String::new()
        } else {
            format!(" ({})", inline(&s.reason))
        };
        let _ = writeln!(o, "- {} **{ans}**{why}", inline(&s.question));
    }
    if let Some(d) = &inc.severity {
        let _ = write!(
            o,
            "\nDecided: {} by {} at {}",
            d.value.severity.label(),
            inline(&d.value.by),
            hm(d.at)
        );
        match &d.value.overridden {
            Some(ov) => {
                let _ = writeln!(
                    o,
                    ", overriding the proposal (by {}: {}).",
                    inline(&ov.by),
                    inline(&ov.why)
                );
            }
            None => o.push_str(".\n"),
        }
    }
    o.push('\n');
}

fn severity_history(o: &mut String, inc: &Incident) {
    if inc.severity_history.is_empty() {
        return;
    }
    o.push_str("### Severity history\n\n| Time (UTC) | Change |\n| --- | --- |\n");
    for c in &inc.severity_history {
        let what = match &c.decided_by {
            Some(by) if c.overridden => format!(
                "decided {} by {} (override)",
                c.severity.label(),
                inline(by)
            ),
            Some(by) => format!("decided {} by {}", c.severity.label(), inline(by)),
            None => format!("proposed {}", c.severity.label()),
        };
        let _ = writeln!(o, "| {} | {} |", hm(c.at), cell(&what));
    }
    o.push('\n');
}
