//! Middle: the current step — its text, what the tool concludes for it (signature,
//! decision tree, restore plan, checklist), its commands with the guard's verdict,
//! and the selected command's latest output.
use ratatui::layout::{Constraint, Direction, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};
use ratatui::Frame;

use super::clip;
use super::theme::Theme;
use crate::app::{App, StepItem};
use crate::assess::{plan::item_check, CheckState};
use crate::guard::{classify, Class, GuardContext};
use crate::incident::event::Stream;
use crate::incident::fold::exit_text;
use crate::runbook::model::StepRole;
use crate::runbook::Risk;

/// Wraps every line to the pane with a hanging indent (list markers, item tags) and URL
/// breaks at separators; returns the lines and where the selected line went.
fn wrap_all(
    lines: Vec<Line<'static>>,
    width: usize,
    hangs: &std::collections::BTreeMap<usize, usize>,
    sel_line: usize,
) -> (Vec<Line<'static>>, usize) {
    let mut out = Vec::with_capacity(lines.len());
    let mut sel = 0;
    for (i, l) in lines.into_iter().enumerate() {
        if i == sel_line {
            sel = out.len();
        }
        out.extend(wrap_styled(l, width, hangs.get(&i).copied()));
    }
    (out, sel)
}

/// One styled line cut where `layout::wrap_ranges` cuts its text, styles kept per char.
fn wrap_styled(line: Line<'static>, width: usize, hang: Option<usize>) -> Vec<Line<'static>> {
    let text: String = line.spans.iter().map(|s| s.content.as_ref()).collect();
    if text.chars().count() <= width {
        return vec![line];
    }
    let styles: Vec<Style> = line
        .spans
        .iter()
        .flat_map(|s| std::iter::repeat_n(s.style, s.content.chars().count()))
        .collect();
    let chars: Vec<char> = text.chars().collect();
    let indent = hang.unwrap_or_else(|| super::layout::hanging_indent(&text));
    super::layout::wrap_ranges(&text, width, indent)
        .into_iter()
        .map(|(pad, a, b)| {
            let mut spans = Vec::new();
            if pad > 0 {
                spans.push(Span::raw(" ".repeat(pad)));
            }
            let mut k = a;
            while k < b {
                let st = styles.get(k).copied().unwrap_or_default();
                let mut e = k;
                while e < b && styles.get(e).copied().unwrap_or_default() == st {
                    e += 1;
                }
                spans.push(Span::styled(chars[k..e].iter().collect::<String>(), st));
                k = e;
            }
            Line::from(spans).style(line.style)
        })
        .collect()
}

pub fn render(f: &mut Frame, area: Rect, app: &App, th: &Theme) {
    let step = app.current_step();
    // Once per frame: the guard's verdict is shown for every command of the step.
    let ctx = app.guard_context();
    let show = app
        .shown_command()
        .and_then(|i| app.incident.commands.get(i));
    let (top, bottom) = if show.is_some() && area.height > 16 {
        let parts = Layout::default()
            .direction(Direction::Vertical)
            .constraints([Constraint::Min(8), Constraint::Length(area.height / 3)])
            .split(area);
        (parts[0], Some(parts[1]))
    } else {
        (area, None)
    };

    let width = top.width.saturating_sub(2) as usize;
    let mut lines = intro_lines(app, step, th);
    if !lines.is_empty() {
        lines.push(Line::from(""));
    }
    let (hangs, sel_line) = push_items(app, th, &ctx, &mut lines);
    let (lines, sel_line) = wrap_all(lines, width, &hangs, sel_line);
    let inner = top.height.saturating_sub(2) as usize;
    let scroll = sel_line.saturating_sub(inner.saturating_sub(4)) as u16;
    let title = format!(" {} ", step.title);
    let block = Block::default()
        .borders(Borders::ALL)
        .title(Span::styled(title, th.title()));
    f.render_widget(Paragraph::new(lines).block(block).scroll((scroll, 0)), top);

    if let (Some(area), Some(rec)) = (bottom, show) {
        render_output(f, area, app, rec, th);
    }
}

/// What the step says before its items: where commands run, its time box, its prose, the
/// incident signature it shows, its lists, the decision tree, the restore plan's heading.
fn intro_lines(app: &App, step: &crate::runbook::model::Step, th: &Theme) -> Vec<Line<'static>> {
    let mut lines: Vec<Line<'static>> = Vec::new();
    if let Some(r) = &app.remote {
        lines.push(Line::from(Span::styled(
            format!("commands run on {} (over ssh)", r.host),
            th.accent(),
        )));
    }
    if let Some(t) = &step.time_budget {
        lines.push(Line::from(Span::styled(format!("time box: {t}"), th.dim())));
    }
    if let Some(text) = &step.text {
        // The runbook's prose is hard-wrapped in the file; reflow paragraphs to the pane.
        for para in text.trim().split("\n\n") {
            lines.push(Line::from(
                para.split_whitespace().collect::<Vec<_>>().join(" "),
            ));
        }
    }
    if let Some(pred) = &step.shows {
        let v = crate::assess::evaluate(&app.rb, &app.assessment.scope, pred.get_ref());
        let (word, st) = match v.holds {
            Some(true) => ("PRESENT", th.bad()),
            Some(false) => ("not present", th.good()),
            None => ("unknown", th.warn()),
        };
        lines.push(Line::from(vec![
            Span::raw("Signature: "),
            Span::styled(word, st),
            Span::raw(format!("  {}", v.reasons.join("; "))),
        ]));
    }
    for list in &step.list {
        lines.push(Line::from(Span::styled(list.title.clone(), th.title())));
        for i in &list.items {
            lines.push(Line::from(format!(" • {i}")));
        }
    }
    if step.has_role(StepRole::ClassifySeverity) {
        severity_lines(app, th, &mut lines);
    }
    if step.scenario.is_some() || step.has_role(StepRole::RestorationOrder) {
        let plan = app.plan();
        let which = plan
            .scenario
            .as_deref()
            .map(|s| format!("scenario {s} applies"))
            .unwrap_or_else(|| "no scenario applies".into());
        lines.push(Line::from(Span::styled(
            format!("Restore plan ({which}), priority order:"),
            th.title(),
        )));
        if plan.items.is_empty() {
            lines.push(Line::from(Span::styled(" nothing to restore", th.good())));
        }
    }
    lines
}

/// The step's items, one line each (the selected one with its detail below); returns where
/// each item's wrapped lines hang and the selected line.
fn push_items(
    app: &App,
    th: &Theme,
    ctx: &GuardContext,
    lines: &mut Vec<Line<'static>>,
) -> (std::collections::BTreeMap<usize, usize>, usize) {
    let items = app.items();
    let mut sel_line = 0;
    // Item lines hang under their text, past the cursor and the tag.
    let mut hangs: std::collections::BTreeMap<usize, usize> = Default::default();
    for (i, item) in items.iter().enumerate() {
        let selected = i == app.selected;
        if selected {
            sel_line = lines.len();
        }
        let cursor = if selected { "▶ " } else { "  " };
        let (tag, tag_style, body) = item_line(app, item, th, ctx);
        hangs.insert(lines.len(), 2 + tag.chars().count() + 1);
        let mut l = Line::from(vec![
            Span::raw(cursor),
            Span::styled(tag, tag_style),
            Span::raw(" "),
            Span::raw(body),
        ]);
        if selected {
            l = l.style(th.selected());
        }
        lines.push(l);
        if selected {
            if let Some(extra) = item_detail(app, item, ctx) {
                for e in extra {
                    lines.push(Line::from(Span::styled(format!("    {e}"), th.dim())));
                }
            }
        }
    }
    (hangs, sel_line)
}

/// The shown command's output below the step: its last lines, its status in the title.
fn render_output(
    f: &mut Frame,
    area: Rect,
    app: &App,
    rec: &crate::incident::fold::CommandRecord,
    th: &Theme,
) {
    let status = match &rec.finished {
        Some((_, fin)) => exit_text(fin),
        None => "running… (Ctrl-C cancels)".into(),
    };
    let h = area.height.saturating_sub(2) as usize;
    let out: Vec<Line> = rec
        .output
        .iter()
        .rev()
        .take(h)
        .rev()
        .map(|o| {
            let st = if o.stream == Stream::Stderr {
                th.warn()
            } else {
                Default::default()
            };
            Line::from(Span::styled(super::strip_ansi(&o.text), st))
        })
        .collect();
    // The status always shows; the command gets what the border leaves.
    let room = (area.width as usize)
        .saturating_sub(status.chars().count() + 10)
        .clamp(8, 60);
    let on = app
        .remote
        .as_ref()
        .map(|r| format!(" on {}", r.host))
        .unwrap_or_default();
    let title = format!(
        " $ {}{on}  — {status} ",
        clip(rec.start.text.lines().next().unwrap_or(""), room)
    );
    f.render_widget(
        Paragraph::new(out).block(Block::default().borders(Borders::ALL).title(title)),
        area,
    );
}

fn severity_lines(app: &App, th: &Theme, lines: &mut Vec<Line<'static>>) {
    let call = &app.assessment.severity;
    for a in &call.path {
        let (word, st) = match a.answer {
            Some(true) => ("YES", th.bad()),
            Some(false) => ("NO", th.good()),
            None => ("?", th.warn()),
        };
        lines.push(Line::from(vec![
            Span::raw(format!("{}  ", a.question)),
            Span::styled(word, st),
        ]));
        for r in &a.reasons {
            lines.push(Line::from(Span::styled(format!("   {r}"), th.dim())));
        }
    }
    lines.push(Line::from(vec![
        Span::raw("→ "),
        Span::styled(call.label.clone(), th.bad()),
    ]));
    if let Some(d) = &app.incident.severity {
        let how = match &d.value.overridden {
            Some(o) => format!("overridden by {}: {}", o.by, o.why),
            None => format!("accepted by {}", d.value.by),
        };
        lines.push(Line::from(Span::styled(
            format!("Decided: {} ({how})", d.value.severity.label()),
            th.title(),
        )));
    }
}

fn item_line(app: &App, item: &StepItem, th: &Theme, ctx: &GuardContext) -> ItemLine {
    match item {
        StepItem::RunAll => (
            "[run all]".into(),
            th.accent(),
            "run every command below and keep their output in the journal".into(),
        ),
        StepItem::AcceptSeverity => (
            "[accept]".into(),
            th.accent(),
            format!(
                "Enter: accept {}  ·  o: override with a reason",
                app.assessment.severity.label
            ),
        ),
        StepItem::Plan(i) => plan_line(app, *i, th),
        StepItem::Command {
            text,
            runnable,
            risk,
            ..
        } => command_line(text, *runnable, *risk, th, ctx),
        StepItem::Check { id, text, auto } => check_line(app, id, text, *auto, th),
        StepItem::Cause { id, cause, .. } => {
            let chosen = app
                .incident
                .root_cause
                .as_ref()
                .is_some_and(|r| r.text == *cause);
            let _ = id;
            (
                if chosen { "[cause]" } else { "[     ]" }.into(),
                if chosen { th.bad() } else { Default::default() },
                cause.clone(),
            )
        }
        StepItem::Record(r) => ("[add] ".into(), th.accent(), r.label().to_string()),
        StepItem::StopDeploy(_)
        | StepItem::CancelRun(_)
        | StepItem::Freeze
        | StepItem::Unfreeze
        | StepItem::Info(_) => deploy_line(app, item, th),
        StepItem::Compose(id) => {
            let sent = app
                .incident
                .comms
                .iter()
                .filter(|c| crate::comms::template_id(c.draft.template) == id && !c.sent.is_empty())
                .count();
            (
                "[write]".into(),
                th.accent(),
                format!("compose this message, prefilled from the incident ({sent} sent so far)"),
            )
        }
    }
}

/// An item's line: its tag, the tag's style, its text.
type ItemLine = (String, ratatui::style::Style, String);

/// A restore-plan item: done (its check holds), waiting (an earlier item is not verified), to do.
fn plan_line(app: &App, i: usize, th: &Theme) -> ItemLine {
    let p = &app.plan().items[i];
    let v = item_check(p, &app.assessment.scope);
    let (tag, st) = match (v.holds, app.gate_blocking(i)) {
        (Some(true), _) => ("[done] ", th.good()),
        (_, Some(_)) => ("[wait] ", th.warn()),
        _ => ("[todo] ", th.accent()),
    };
    (
        format!("{tag}{}", i + 1),
        st,
        format!("{}: {}", p.deployment, p.command),
    )
}

/// A runbook command, tagged with the guard's verdict (or the runbook's own danger mark).
fn command_line(
    text: &str,
    runnable: bool,
    risk: Risk,
    th: &Theme,
    ctx: &GuardContext,
) -> ItemLine {
    let v = classify(text, ctx);
    let (tag, st) = match (v.class, risk, runnable) {
        (Class::Dangerous, _, _) | (_, Risk::Dangerous, _) => ("DANGER ", th.bad()),
        (Class::Caution, _, _) => ("caution", th.warn()),
        (_, _, false) => ("shown  ", th.dim()),
        _ => ("safe   ", th.good()),
    };
    (
        tag.into(),
        st,
        text.lines().next().unwrap_or("").to_string()
            + if text.lines().count() > 1 { " …" } else { "" },
    )
}

/// A checklist line: checked by the tool when it can tell (`auto`), else ticked by hand.
fn check_line(app: &App, id: &str, text: &str, auto: bool, th: &Theme) -> ItemLine {
    let state = app
        .assessment
        .checklist
        .iter()
        .find(|c| c.id == id)
        .map(|c| c.state.clone());
    let ticked = app.incident.checklist.get(id).copied().unwrap_or(false);
    let (mark, st) = match (auto, state) {
        (true, Some(CheckState::Holds)) => ("[x]", th.good()),
        (true, Some(CheckState::Fails)) => ("[ ]", th.bad()),
        (true, _) => ("[?]", th.warn()),
        (false, _) if ticked => ("[x]", th.good()),
        (false, _) => ("[ ]", Default::default()),
    };
    (mark.into(), st, text.to_string())
}

/// A running deployment, CI run, the freeze, or a note about them.
fn deploy_line(app: &App, item: &StepItem, th: &Theme) -> ItemLine {
    let (tag, text) = crate::app::deploy_items::line(app, item)
        .unwrap_or(("       ", "(no longer listed)".into()));
    let st = match item {
        StepItem::StopDeploy(_) | StepItem::CancelRun(_) | StepItem::Unfreeze => th.bad(),
        StepItem::Freeze => th.warn(),
        _ => th.dim(),
    };
    (tag.into(), st, text)
}

/// More about the selected item: purpose, directory, the guard's verdict, the check.
fn item_detail(app: &App, item: &StepItem, ctx: &GuardContext) -> Option<Vec<String>> {
    match item {
        StepItem::Command { text, dir, purpose, .. } => {
            let v = classify(text, ctx);
            let mut out = vec![purpose.clone()];
            if text.lines().count() > 1 {
                out.extend(text.lines().map(|l| format!("  {l}")));
            }
            out.push(app.run_location(dir.as_deref().unwrap_or(&app.cwd)));
            out.push(format!("guard: {}", v.line()));
            Some(out)
        }
        StepItem::Plan(i) => {
            let p = &app.plan().items[*i];
            let mut out = vec![app.run_location(p.dir.as_deref().unwrap_or(&app.cwd)), format!("check: {}", p.check)];
            if let Some(why) = app.gate_blocking(*i) {
                out.push(why);
            }
            Some(out)
        }
        StepItem::Check { id, .. } => app
            .assessment
            .checklist
            .iter()
            .find(|c| c.id == *id)
            .map(|c| c.reasons.clone()),
        StepItem::Cause { prevention, .. } => Some(vec![format!("prevention: {prevention}"), "Enter: record as this incident's root cause".into()]),
        StepItem::Record(_) => Some(review_summary(app)),
        StepItem::Compose(_) => Some(vec!["Enter opens the editor: Ctrl-S save draft · Ctrl-Y copy (OSC 52) · Ctrl-O write file · Ctrl-G post to webhook · Ctrl-T mark sent · Esc close".into()]),
        StepItem::StopDeploy(_) | StepItem::CancelRun(_) | StepItem::Freeze | StepItem::Unfreeze => crate::app::deploy_items::detail(app, item),
        StepItem::AcceptSeverity | StepItem::RunAll | StepItem::Info(_) => None,
    }
}

/// What the review holds so far, shown under a selected record item.
fn review_summary(app: &App) -> Vec<String> {
    let inc = &app.incident;
    let mut out = Vec::new();
    if let Some(f) = &inc.five_whys {
        out.push(format!("problem: {}", f.problem));
        out.extend(
            f.whys
                .iter()
                .enumerate()
                .map(|(i, w)| format!("why {}: {w}", i + 1)),
        );
    }
    if let Some(r) = &inc.root_cause {
        out.push(format!("root cause: {}", r.text));
    }
    out.extend(inc.factors.iter().map(|f| format!("factor: {f}")));
    out.extend(inc.action_items.iter().map(|a| {
        format!(
            "action: {} ({}, due {}) [{}]",
            a.action, a.owner, a.due, a.status
        )
    }));
    out.extend(inc.lessons.iter().map(|l| format!("lesson: {}", l.text)));
    if let Some(c) = &inc.closed {
        out.push(format!("closed: {}", c.value.resolution));
    }
    out
}
