//! The runbook's "Incident Report Template" (Post-Incident Review) filled from an Incident.
//! Pure: the same Incident always renders the same Markdown (golden-tested).
mod appendix;
mod impact;

use super::event::*;
use super::fold::Incident;
use appendix::appendix;
use impact::impact;
use std::borrow::Cow;
use std::fmt::Write;

/// Renders the postmortem. An incident that is still open is reported as of its last event.
pub fn render(inc: &Incident) -> String {
    let mut out = Vec::new();
    // Writing to a Vec cannot fail, and the timeline comes from memory.
    let _ = render_to(&mut out, inc, &mut InMemory(inc));
    String::from_utf8_lossy(&out).into_owned()
}

/// The timeline a report prints, in time order: from the Incident in memory, or, for a journal
/// too long to hold, spooled to disk while it was folded (`journal::report`).
pub trait Timeline {
    /// Earliest and latest time, `None` when there is no entry.
    fn span(&self) -> Option<(Ts, Ts)>;
    /// Every entry by (time, seq), entries with the same both in recording order.
    /// `f` gets each entry's time and text (borrowed: a spooled timeline reuses one buffer).
    fn each(&mut self, f: &mut dyn FnMut(Ts, &str)) -> std::io::Result<()>;
}

/// The timeline of an Incident held whole.
pub struct InMemory<'a>(pub &'a Incident);

impl Timeline for InMemory<'_> {
    fn span(&self) -> Option<(Ts, Ts)> {
        let t = &self.0.timeline;
        Some((t.iter().map(|t| t.ts).min()?, t.iter().map(|t| t.ts).max()?))
    }

    fn each(&mut self, f: &mut dyn FnMut(Ts, &str)) -> std::io::Result<()> {
        let mut rows: Vec<_> = self.0.timeline.iter().collect();
        // Back-dated milestones (e.g. impact start from monitoring) sort to when they
        // happened; the sort is stable, so ties keep recording order.
        rows.sort_by_key(|r| (r.ts, r.seq));
        rows.into_iter().for_each(|r| f(r.ts, &r.text));
        Ok(())
    }
}

/// [`render`] written out as it goes, with the timeline from `timeline` (the Incident's own
/// is not read). Memory holds one section at a time, never the whole report.
pub fn render_to(
    w: &mut dyn std::io::Write,
    inc: &Incident,
    timeline: &mut dyn Timeline,
) -> std::io::Result<()> {
    let mut o = String::new();
    let opened = inc.opened.as_ref().map(|t| &t.value);
    let drill = inc.is_drill();
    let id = opened.map_or("(unknown incident)", |o| o.incident_id.as_str());
    let title = opened
        .map(|o| o.title.as_str())
        .filter(|t| !t.is_empty())
        .unwrap_or(id);
    let prefix = if drill { "[DRILL] " } else { "" };
    let _ = writeln!(o, "# {prefix}Incident Report: {}\n", inline(title));
    if drill {
        o.push_str("> **DRILL**: a training exercise against a simulated server. Its times are for the debrief and are excluded from incident metrics.\n\n");
    }
    overview(&mut o, inc, opened);
    flush(w, &mut o)?;
    timeline_section(w, &mut o, timeline)?;
    impact(&mut o, inc, drill);
    root_cause(&mut o, inc);
    resolution(&mut o, inc);
    steps(&mut o, inc);
    numbered(&mut o, "Contributing Factors", &inc.factors);
    action_items(&mut o, inc);
    lessons(&mut o, inc);
    communications(&mut o, inc);
    appendix(w, &mut o, inc)?;
    flush(w, &mut o)
}

/// [`flush`] once a good piece has built up (long tables are written as they are rendered).
fn spill(w: &mut dyn std::io::Write, o: &mut String) -> std::io::Result<()> {
    if o.len() > 64 * 1024 {
        flush(w, o)?;
    }
    Ok(())
}

/// Writes what was rendered so far. Everything in a report comes from recorded data (process
/// names, command output, notes): escaped here, whether it goes to a terminal or a file
/// someone will `cat` (the escape is per character, so piece by piece is the same).
fn flush(w: &mut dyn std::io::Write, o: &mut String) -> std::io::Result<()> {
    w.write_all(crate::sanitize::escape_controls(o).as_bytes())?;
    o.clear();
    Ok(())
}

fn overview(o: &mut String, inc: &Incident, opened: Option<&Opened>) {
    o.push_str("## Overview\n\n| Field | Value |\n| --- | --- |\n");
    let start = start_time(inc);
    let row = |o: &mut String, k: &str, v: String| {
        let _ = writeln!(o, "| {k} | {} |", cell(&v));
    };
    row(
        o,
        "Incident ID",
        opened.map_or("-".into(), |x| x.incident_id.clone()),
    );
    row(
        o,
        "Date",
        start.map_or("-".into(), |t| t.format("%Y-%m-%d").to_string()),
    );
    let duration = match (start, inc.closed.as_ref(), inc.last_ts) {
        (Some(s), Some(c), _) => hours_minutes((c.at - s).num_milliseconds()),
        (Some(s), None, Some(l)) => format!(
            "{} (ongoing as of last event)",
            hours_minutes((l - s).num_milliseconds())
        ),
        _ => "-".into(),
    };
    row(o, "Duration", duration);
    row(o, "Severity", severity_cell(inc));
    row(
        o,
        "Incident Commander",
        opened.map_or("-".into(), |x| x.commander.clone()),
    );
    let status = match &inc.closed {
        Some(c) if c.value.status == CloseStatus::Resolved => "Resolved",
        Some(_) => "Closed without resolution",
        None => "Open",
    };
    row(o, "Status", status.into());
    if let Some(x) = opened {
        row(
            o,
            "Mode",
            if x.mode == Mode::Drill {
                "DRILL".into()
            } else {
                "Live".into()
            },
        );
        row(o, "Host", x.host.clone());
        if !x.runbook_id.is_empty() {
            row(
                o,
                "Runbook",
                format!("{} (sha256 {})", x.runbook_id, short_hash(&x.runbook_hash)),
            );
        }
        row(o, "Recorded by", format!("pm2-incident {}", x.tool_version));
    }
    o.push('\n');
}

/// The incident's severity is its peak, not its last proposal: "P1 - Critical (peak; first
/// proposed 04:12; decided P1 - Critical by alice at 04:13)".
fn severity_cell(inc: &Incident) -> String {
    let Some(peak) = inc.peak_severity() else {
        return "Not classified".into();
    };
    let mut s = format!("{} (peak", peak.value.label());
    let first = inc
        .severity_history
        .iter()
        .find(|c| c.decided_by.is_none() && c.severity == peak.value);
    if let Some(f) = first {
        let _ = write!(s, "; first proposed {}", hm(f.at));
    }
    match &inc.severity {
        Some(d) => {
            let _ = write!(
                s,
                "; decided {} by {} at {}",
                d.value.severity.label(),
                inline(&d.value.by),
                hm(d.at)
            );
            if d.value.overridden.is_some() {
                s.push_str(", overridden, see Impact");
            }
        }
        None => s.push_str("; never decided"),
    }
    s.push(')');
    s
}

fn timeline_section(
    w: &mut dyn std::io::Write,
    o: &mut String,
    timeline: &mut dyn Timeline,
) -> std::io::Result<()> {
    o.push_str("## Timeline\n\n");
    let Some((first, last)) = timeline.span() else {
        o.push_str("No events recorded.\n\n");
        return Ok(());
    };
    let dated = first.date_naive() != last.date_naive();
    o.push_str("| Time (UTC) | Event |\n| --- | --- |\n");
    let mut failed = Ok(());
    // One row per event: the date is formatted once per day, the rest written piecewise.
    let mut day: Option<(chrono::NaiveDate, String)> = None;
    timeline.each(&mut |ts, text| {
        o.push_str("| ");
        if dated {
            let d = ts.date_naive();
            match &day {
                Some((k, s)) if *k == d => o.push_str(s),
                _ => {
                    let s = ts.format("%Y-%m-%d ").to_string();
                    o.push_str(&s);
                    day = Some((d, s));
                }
            }
        }
        push_hm(o, ts);
        o.push_str(" | ");
        o.push_str(&cell(text));
        o.push_str(" |\n");
        if failed.is_ok() {
            failed = spill(w, o);
        }
    })?;
    failed?;
    o.push('\n');
    Ok(())
}

fn root_cause(o: &mut String, inc: &Incident) {
    o.push_str("## Root Cause\n\n");
    match &inc.root_cause {
        Some(r) => {
            let _ = writeln!(o, "{}\n", r.text.trim());
            if !r.preventive_measure.is_empty() {
                let _ = writeln!(
                    o,
                    "**Preventive measure**: {}\n",
                    inline(&r.preventive_measure)
                );
            }
        }
        None => o.push_str("Not recorded.\n\n"),
    }
    if let Some(w) = &inc.five_whys {
        o.push_str("### 5 Whys\n\n");
        let _ = writeln!(o, "Problem: {}\n", inline(&w.problem));
        for (i, why) in w.whys.iter().enumerate() {
            let _ = writeln!(o, "{}. Why {}: {}", i + 1, i + 1, inline(why));
        }
        o.push('\n');
    }
}

fn resolution(o: &mut String, inc: &Incident) {
    o.push_str("## Resolution\n\n");
    match inc
        .closed
        .as_ref()
        .map(|c| c.value.resolution.trim())
        .filter(|r| !r.is_empty())
    {
        Some(r) => {
            let _ = writeln!(o, "{r}\n");
        }
        None => o.push_str("Not recorded.\n\n"),
    }
}

/// What was done at each runbook step and what was skipped; a step only paged past is
/// listed as visited with nothing run, never as completed.
fn steps(o: &mut String, inc: &Incident) {
    use super::fold::StepState;
    o.push_str("## Runbook Steps\n\n");
    if inc.steps.is_empty() {
        o.push_str("No runbook steps recorded.\n\n");
        return;
    }
    let name = |p: &super::fold::StepProgress| {
        if p.title.is_empty() {
            inline(&p.step).into_owned()
        } else {
            format!("{} {}", inline(&p.step), inline(&p.title))
        }
    };
    let mut done = Vec::new();
    let mut skipped = Vec::new();
    let mut visited = Vec::new();
    for p in &inc.steps {
        match p.state() {
            StepState::Done => {
                let at = p.completed_at.map(hm).unwrap_or_default();
                done.push(format!("- {} (at {at}: {})", name(p), p.done_summary()));
            }
            StepState::Skipped { reason } => {
                let at = p.skipped.as_ref().map(|s| hm(s.at)).unwrap_or_default();
                skipped.push(format!("- {} (at {at}): {}", name(p), inline(&reason)));
            }
            _ => visited.push(format!("- {}", name(p))),
        }
    }
    for (head, list) in [
        ("Done", done),
        ("Skipped", skipped),
        ("Visited, nothing run", visited),
    ] {
        let _ = writeln!(o, "**{head}**\n");
        if list.is_empty() {
            o.push_str("None.\n");
        }
        for l in list {
            let _ = writeln!(o, "{l}");
        }
        o.push('\n');
    }
}

fn numbered(o: &mut String, heading: &str, items: &[String]) {
    let _ = writeln!(o, "## {heading}\n");
    if items.is_empty() {
        o.push_str("None recorded.\n\n");
        return;
    }
    for (i, f) in items.iter().enumerate() {
        let _ = writeln!(o, "{}. {}", i + 1, inline(f));
    }
    o.push('\n');
}

fn action_items(o: &mut String, inc: &Incident) {
    o.push_str("## Action Items\n\n");
    if inc.action_items.is_empty() {
        o.push_str("None recorded.\n\n");
        return;
    }
    o.push_str("| Action | Owner | Due Date | Status |\n| --- | --- | --- | --- |\n");
    for a in &inc.action_items {
        let done = matches!(
            a.status.to_ascii_lowercase().as_str(),
            "done" | "closed" | "complete" | "completed"
        );
        let mark = if done { "[x]" } else { "[ ]" };
        let _ = writeln!(
            o,
            "| {} | {} | {} | {mark} {} |",
            cell(&a.action),
            cell(&a.owner),
            cell(&a.due),
            cell(&a.status)
        );
    }
    o.push('\n');
}

fn lessons(o: &mut String, inc: &Incident) {
    o.push_str("## Lessons Learned\n\n");
    for (kind, heading) in [
        (LessonKind::WentWell, "What Went Well"),
        (LessonKind::CouldImprove, "What Could Be Improved"),
    ] {
        let _ = writeln!(o, "### {heading}\n");
        let items: Vec<_> = inc.lessons.iter().filter(|l| l.lesson == kind).collect();
        if items.is_empty() {
            o.push_str("- Not recorded\n");
        }
        for l in items {
            let _ = writeln!(o, "- {}", inline(&l.text));
        }
        o.push('\n');
    }
}

fn communications(o: &mut String, inc: &Incident) {
    if inc.comms.is_empty() {
        return;
    }
    o.push_str("## Communications\n\n| Drafted (UTC) | Template | Subject | Sent |\n| --- | --- | --- | --- |\n");
    for c in &inc.comms {
        let template = match c.draft.template {
            CommTemplate::Notification => "Incident notification",
            CommTemplate::StatusUpdate => "Status update",
            CommTemplate::Resolution => "Resolution notification",
        };
        let sent = if c.sent.is_empty() {
            "not sent".to_string()
        } else {
            c.sent
                .iter()
                .map(|(t, s)| format!("{} {}", hm(*t), s.channel))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let _ = writeln!(
            o,
            "| {} | {template} | {} | {} |",
            hm(c.drafted_at),
            cell(&c.draft.subject),
            cell(&sent)
        );
    }
    o.push('\n');
}

/// Start of the incident for the overview: the first recorded event or an earlier impact start.
fn start_time(inc: &Incident) -> Option<Ts> {
    let first = inc.opened.as_ref().map(|o| o.at).or(inc.first_ts);
    match (first, inc.milestones.get(&Milestone::ImpactStarted)) {
        (Some(f), Some(&i)) => Some(f.min(i)),
        (f, i) => f.or(i.copied()),
    }
}

/// `HH:MM:SS` (a leap second is :60, as strftime writes it). By hand: it is written for every
/// row of the timeline and of the commands, and strftime re-reads its pattern each time.
fn hm(t: Ts) -> String {
    let mut s = String::with_capacity(8);
    push_hm(&mut s, t);
    s
}

/// [`hm`] appended to `o` (no allocation: a timeline row per event).
fn push_hm(o: &mut String, t: Ts) {
    use chrono::Timelike;
    let leap = u32::from(t.nanosecond() >= 1_000_000_000);
    two_digits(o, t.hour());
    o.push(':');
    two_digits(o, t.minute());
    o.push(':');
    two_digits(o, t.second() + leap);
}

/// `{:02}`.
fn two_digits(o: &mut String, n: u32) {
    if n < 100 {
        o.push(char::from(b'0' + (n / 10) as u8));
        o.push(char::from(b'0' + (n % 10) as u8));
    } else {
        let _ = write!(o, "{n}");
    }
}

/// First 12 characters (by char: the journal is untrusted input, never slice bytes).
fn short_hash(h: &str) -> String {
    match h.char_indices().nth(12) {
        Some((i, _)) => format!("{}…", &h[..i]),
        None if h.is_empty() => "-".into(),
        None => h.to_string(),
    }
}

/// "X hours Y minutes" as in the template (minutes and seconds under an hour).
fn hours_minutes(ms: i64) -> String {
    let s = ms.max(0) / 1000;
    if s >= 3600 {
        format!("{} hours {} minutes", s / 3600, (s % 3600) / 60)
    } else {
        format!("{} minutes {} seconds", s / 60, s % 60)
    }
}

/// Compact duration: "850 ms", "3.2 s", "4m 05s", "1h 02m".
pub fn fmt_ms(ms: u64) -> String {
    if ms < 1000 {
        format!("{ms} ms")
    } else if ms < 60_000 {
        format!("{:.1} s", ms as f64 / 1000.0)
    } else if ms < 3_600_000 {
        format!("{}m {:02}s", ms / 60_000, (ms % 60_000) / 1000)
    } else {
        format!("{}h {:02}m", ms / 3_600_000, (ms % 3_600_000) / 60_000)
    }
}

/// One line of text safe inside Markdown prose.
fn inline(s: &str) -> Cow<'_, str> {
    if s.contains(['\r', '\n']) {
        Cow::Owned(s.replace(['\r', '\n'], " "))
    } else {
        Cow::Borrowed(s)
    }
}

/// Text safe inside a table cell.
fn cell(s: &str) -> Cow<'_, str> {
    match inline(s) {
        c if c.contains('|') => Cow::Owned(c.replace('|', "\\|")),
        c => c,
    }
}

/// A command inside a table cell as code, exactly as run (pipes escaped for the table).
fn code(s: &str) -> String {
    let ticks = if s.contains('`') { "``" } else { "`" };
    format!("{ticks}{}{ticks}", cell(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(fmt_ms(850), "850 ms");
        assert_eq!(fmt_ms(3_240), "3.2 s");
        assert_eq!(fmt_ms(245_000), "4m 05s");
        assert_eq!(fmt_ms(3_720_000), "1h 02m");
        assert_eq!(hours_minutes(7_500_000), "2 hours 5 minutes");
        assert_eq!(short_hash("ééééééééééééé"), "éééééééééééé…");
        assert_eq!(short_hash("abc"), "abc");
    }

    #[test]
    fn times_are_written_as_strftime_writes_them() {
        use chrono::{NaiveDate, TimeZone, Utc};
        let day = NaiveDate::from_ymd_opt(2026, 2, 17).unwrap();
        for (h, m, s, nano) in [
            (0, 0, 0, 0),
            (4, 12, 9, 999_000_000),
            (23, 59, 59, 1_500_000_000),
        ] {
            let t = Utc.from_utc_datetime(&day.and_hms_nano_opt(h, m, s, nano).unwrap());
            assert_eq!(hm(t), t.format("%H:%M:%S").to_string(), "{t:?}");
        }
    }

    #[test]
    fn cells_cannot_break_tables() {
        assert_eq!(cell("a|b\nc"), "a\\|b c");
        assert_eq!(code("pm2 jlist | jq"), "`pm2 jlist \\| jq`");
    }
}
