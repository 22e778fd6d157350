//! The report's Appendix: every command run and refused, the verification checklist, the
//! notes, and what the journal held. Long tables are written out as they grow.
use super::{cell, code, fmt_ms, hm, inline, spill};
use crate::incident::fold::{exit_text, CommandRecord, Incident};
use std::fmt::Write;
use std::io;

pub(super) fn appendix(w: &mut dyn io::Write, o: &mut String, inc: &Incident) -> io::Result<()> {
    o.push_str("## Appendix\n\n");
    commands_run(w, o, inc)?;
    refused_commands(w, o, inc)?;
    checklist(o, inc);
    notes(w, o, inc)?;
    journal(o, inc);
    Ok(())
}

fn commands_run(w: &mut dyn io::Write, o: &mut String, inc: &Incident) -> io::Result<()> {
    o.push_str("### Commands run\n\n");
    if inc.commands.is_empty() {
        o.push_str("No commands were run.\n\n");
        return Ok(());
    }
    o.push_str("| # | Started (UTC) | Command | Directory | Guard | Exit | Duration |\n");
    o.push_str("| --- | --- | --- | --- | --- | --- | --- |\n");
    for (i, c) in inc.commands.iter().enumerate() {
        let (exit, dur) = outcome(c);
        let _ = writeln!(
            o,
            "| {} | {} | {} | {} | {} | {} | {} |",
            i + 1,
            hm(c.started_at),
            code(&c.start.text),
            cell(c.start.dir.as_deref().unwrap_or("-")),
            cell(c.start.guard.class.as_str()),
            cell(&exit),
            dur
        );
        spill(w, o)?;
    }
    o.push('\n');
    Ok(())
}

/// Exit and duration cells: how the command ended (and output it could not keep), or that
/// it never did.
fn outcome(c: &CommandRecord) -> (String, String) {
    match &c.finished {
        Some((_, f)) => {
            let mut e = exit_text(f);
            if c.output_dropped > 0 {
                e.push_str(&format!(" ({} output lines not kept)", c.output_dropped));
            }
            (e, fmt_ms(f.duration_ms))
        }
        None => ("did not finish".into(), "-".into()),
    }
}

fn refused_commands(w: &mut dyn io::Write, o: &mut String, inc: &Incident) -> io::Result<()> {
    if inc.refusals.is_empty() {
        return Ok(());
    }
    o.push_str("### Refused commands\n\n| Time (UTC) | Command | Class | Reason | Safe alternative |\n| --- | --- | --- | --- | --- |\n");
    for r in &inc.refusals {
        let g = &r.value;
        let alt = g
            .safe_alternative
            .as_deref()
            .map(code)
            .unwrap_or_else(|| "-".into());
        let _ = writeln!(
            o,
            "| {} | {} | {} | {} | {alt} |",
            hm(r.at),
            code(&g.text),
            cell(g.guard.class.as_str()),
            cell(&g.guard.reason)
        );
        spill(w, o)?;
    }
    o.push('\n');
    Ok(())
}

fn checklist(o: &mut String, inc: &Incident) {
    if inc.checklist.is_empty() {
        return;
    }
    o.push_str("### Verification checklist\n\n");
    for (item, checked) in &inc.checklist {
        let _ = writeln!(
            o,
            "- [{}] {}",
            if *checked { "x" } else { " " },
            inline(item)
        );
    }
    o.push('\n');
}

fn notes(w: &mut dyn io::Write, o: &mut String, inc: &Incident) -> io::Result<()> {
    if inc.notes.is_empty() {
        return Ok(());
    }
    o.push_str("### Notes\n\n");
    for n in &inc.notes {
        let _ = writeln!(
            o,
            "- {} {}: {}",
            hm(n.at),
            inline(&n.value.author),
            inline(&n.value.text)
        );
        spill(w, o)?;
    }
    o.push('\n');
    Ok(())
}

/// What the journal held: events, kinds this tool does not know, interruptions.
fn journal(o: &mut String, inc: &Incident) {
    o.push_str("### Journal\n\n");
    let _ = writeln!(o, "- Events: {}", inc.events);
    if inc.unknown_events > 0 {
        let _ = writeln!(
            o,
            "- Events of kinds newer than this tool (kept, not shown): {}",
            inc.unknown_events
        );
    }
    if !inc.interruptions.is_empty() || !inc.resumes.is_empty() {
        let _ = writeln!(
            o,
            "- Interrupted {} time(s), resumed {} time(s)",
            inc.interruptions.len(),
            inc.resumes.len()
        );
    }
}
