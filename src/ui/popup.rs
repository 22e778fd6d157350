//! Popups over the screen: help (from the keymap), confirmation, refusal, input, timeline.
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};
use ratatui::Frame;

use super::framed::{self, wrapped};
use super::theme::Theme;
use crate::app::state::InputKind;
use crate::app::{keymap, App, Popup};

fn centered(area: Rect, w: u16, h: u16) -> Rect {
    let w = w.min(area.width);
    let h = h.min(area.height);
    Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    }
}

/// A popup drawn as a plain paragraph in a box: its title, lines and size.
struct Plain<'a> {
    title: String,
    lines: Vec<Line<'a>>,
    w: u16,
    h: u16,
}

/// Each popup is drawn by its own function; the plain ones share the boxed paragraph.
pub fn render(f: &mut Frame, area: Rect, app: &App, th: &Theme) {
    let Some(p) = &app.popup else { return };
    let plain = match p {
        Popup::Note => return note(f, area, app, th),
        Popup::Compose => return compose(f, area, app, th),
        Popup::Confirm { .. } => return confirm(f, area, app, p, th),
        Popup::Briefing => return briefing(f, area, app, th),
        Popup::Debrief { lines, scroll } => return debrief(f, area, lines, *scroll, th),
        Popup::Help { scroll } => help(area, app, *scroll, th),
        Popup::Refused {
            text,
            reason,
            alternative,
        } => refused(text, reason, alternative.as_deref(), th),
        Popup::Input { kind, text, error } => input(app, kind, text, error.as_deref(), th),
        Popup::QuitConfirm => Plain {
            title: " Quit? ".into(),
            lines: vec![
                Line::from(format!("{} command(s) still running.", app.running.len())),
                Line::from(keymap::QUIT.hints(" · ")),
            ],
            w: 60,
            h: 5,
        },
        Popup::Timeline { scroll } => timeline(area, app, *scroll),
    };
    let r = centered(area, plain.w, plain.h);
    f.render_widget(Clear, r);
    let block = Block::default()
        .borders(Borders::ALL)
        .title(Span::styled(plain.title, th.title()));
    f.render_widget(
        Paragraph::new(plain.lines)
            .block(block)
            .wrap(Wrap { trim: false }),
        r,
    );
}

/// A text editor in a titled box (the note and the message editors).
fn editor_box<W: ratatui::widgets::Widget>(
    f: &mut Frame,
    r: Rect,
    title: String,
    editor: W,
    th: &Theme,
) {
    f.render_widget(Clear, r);
    let block = Block::default()
        .borders(Borders::ALL)
        .title(Span::styled(title, th.title()));
    let inner = block.inner(r);
    f.render_widget(block, r);
    f.render_widget(editor, inner);
}

fn note(f: &mut Frame, area: Rect, app: &App, th: &Theme) {
    if let Some(a) = &app.note {
        let title = format!(" Note for the journal — {} ", keymap::NOTE.hints(" · "));
        editor_box(f, centered(area, 80, 12), title, a, th);
    }
}

fn compose(f: &mut Frame, area: Rect, app: &App, th: &Theme) {
    if let Some(c) = &app.compose {
        let r = centered(area, 96, area.height.saturating_sub(2));
        let title = format!(" {} — {} ", c.subject, keymap::COMPOSE.hints(" · "));
        editor_box(f, r, title, &c.area, th);
    }
}

/// Every layer's keys, one section each, scrolled but never past the last page.
fn help<'a>(area: Rect, app: &App, scroll: usize, th: &Theme) -> Plain<'a> {
    let mut l: Vec<Line> = Vec::new();
    for (layer, lines) in keymap::help_sections(app.replay.is_some()) {
        if !l.is_empty() {
            l.push(Line::from(""));
        }
        l.push(Line::from(Span::styled(layer.to_uppercase(), th.dim())));
        l.extend(lines.into_iter().map(|(k, h)| {
            Line::from(vec![
                Span::styled(format!("{k:<14}"), th.title()),
                Span::raw(h),
            ])
        }));
    }
    let page = usize::from(area.height.saturating_sub(2));
    let last = keymap::help_row_count(app.replay.is_some()).saturating_sub(page);
    let l: Vec<Line> = l.into_iter().skip(scroll.min(last)).collect();
    // As tall as the keymap (the terminal caps it; j/k scroll the rest).
    let rows: usize = l.iter().map(|x| x.width().div_ceil(88).max(1)).sum();
    Plain {
        title: format!(" Help — {} ", keymap::SCROLL.hints(", ")),
        lines: l,
        w: 90,
        h: u16::try_from(rows + 2).unwrap_or(u16::MAX),
    }
}

fn refused<'a>(text: &str, reason: &str, alternative: Option<&str>, th: &Theme) -> Plain<'a> {
    let mut l = vec![
        Line::from(Span::styled(
            "REFUSED — this command is never run by pm2-incident",
            th.bad(),
        )),
        Line::from(""),
        Line::from(format!("$ {text}")),
        Line::from(""),
        Line::from(reason.to_string()),
    ];
    if let Some(alt) = alternative {
        l.push(Line::from(""));
        l.push(Line::from(Span::styled("Safe alternative:", th.title())));
        l.push(Line::from(alt.to_string()));
    }
    l.push(Line::from(""));
    l.push(Line::from(Span::styled("any key closes", th.dim())));
    Plain {
        title: " Dangerous command ".into(),
        lines: l,
        w: 80,
        h: 16,
    }
}

fn input<'a>(
    app: &App,
    kind: &InputKind,
    text: &str,
    error: Option<&str>,
    th: &Theme,
) -> Plain<'a> {
    let mut l = vec![Line::from(format!("> {text}"))];
    if let Some(e) = error {
        l.push(Line::from(Span::styled(e.to_string(), th.bad())));
    }
    l.push(Line::from(Span::styled(
        keymap::INPUT.hints(", "),
        th.dim(),
    )));
    let title = match (kind, &app.remote) {
        (InputKind::Command, Some(r)) => {
            format!(" Run a command on {} (guarded, journaled) ", r.host)
        }
        _ => format!(" {} ", kind.title()),
    };
    Plain {
        title,
        lines: l,
        w: 80,
        h: 6,
    }
}

/// The incident timeline from row `scroll`, never past the last page.
fn timeline<'a>(area: Rect, app: &App, scroll: usize) -> Plain<'a> {
    let page = usize::from(area.height.min(26).saturating_sub(2));
    let last = app.incident.timeline.len().saturating_sub(page);
    let l: Vec<Line> = app
        .incident
        .timeline
        .iter()
        .skip(scroll.min(last))
        .map(|t| Line::from(format!("{}  {}", t.ts.format("%H:%M:%S"), t.text)))
        .collect();
    Plain {
        title: format!(" Timeline (UTC) — {} ", keymap::SCROLL.hints(", ")),
        lines: l,
        w: 100,
        h: 26,
    }
}

/// The caution prompt: the reason wraps and, on a small terminal, is cut before the line
/// where the responder types the token, which always shows.
fn confirm(f: &mut Frame, area: Rect, app: &App, p: &Popup, th: &Theme) {
    let Popup::Confirm {
        text,
        dir,
        reason,
        targets,
        token,
        typed,
    } = p
    else {
        return;
    };
    const W: u16 = 80;
    let width = usize::from(W.min(area.width).saturating_sub(2)).max(1);
    let plain = Style::default();
    let mut head = vec![
        Line::from(Span::styled("CAUTION — read before running", th.warn())),
        Line::from(""),
    ];
    head.extend(wrapped(&format!("$ {text}"), plain, width));
    head.extend(wrapped(&app.run_location(dir), plain, width));
    head.push(Line::from(""));
    let touches = wrapped(
        &format!(
            "touches: {}",
            if targets.is_empty() {
                "-".into()
            } else {
                targets.join(", ")
            }
        ),
        plain,
        width,
    );
    let foot = vec![
        Line::from(""),
        Line::from(vec![
            Span::raw("type "),
            Span::styled(token.clone(), th.title()),
            Span::raw(" and Enter to run, Esc to cancel"),
        ]),
        Line::from(format!("> {typed}")),
    ];
    let fixed =
        head.len() + touches.len() + foot.iter().map(|l| framed::rows(l, width)).sum::<usize>();
    let room = framed::max_rows(area);
    let reason = framed::cut(
        wrapped(reason, plain, width),
        room.saturating_sub(fixed).max(1),
        width,
    );
    let mut body = head;
    body.extend(reason);
    body.extend(touches);
    let fr = framed::Framed {
        title: " Confirm ",
        body,
        foot,
        hint: None,
    };
    framed::draw(f, area, fr, W, th);
}

/// The drill's page, and what world answers: the simulator, or a real PM2 in a throwaway
/// home (where, and what was injected into it).
fn briefing(f: &mut Frame, area: Rect, app: &App, th: &Theme) {
    let Some(sc) = &app.drill else { return };
    const W: u16 = 90;
    let width = usize::from(W.min(area.width).saturating_sub(2)).max(1);
    let plain = Style::default();
    let mut body = vec![
        Line::from(Span::styled(sc.title.clone(), th.title())),
        Line::from(""),
    ];
    for para in sc.briefing.trim().split("\n\n") {
        body.extend(wrapped(
            &para.split_whitespace().collect::<Vec<_>>().join(" "),
            plain,
            width,
        ));
        body.push(Line::from(""));
    }
    let keys =
        "Work through the runbook with the keys in the footer; q ends the drill with a debrief.";
    match &app.sandbox {
        None => body.extend(wrapped(
            &format!("This is a drill: PM2, the health checks and the shell answer from a simulator. {keys}"),
            th.dim(),
            width,
        )),
        Some(sb) => {
            body.extend(wrapped(
                &format!(
                    "This is a drill on a real PM2 ({}) in a throwaway home: PM2_HOME={}. Your commands run against it alone; when the drill ends, every process of that home is ended and the home removed. {keys}",
                    sb.pm2, sb.home
                ),
                th.dim(),
                width,
            ));
            if !sb.injected.is_empty() {
                body.push(Line::from(""));
                body.extend(wrapped("Injected for real:", th.dim(), width));
                for i in &sb.injected {
                    body.extend(wrapped(&format!("- {i}"), th.dim(), width));
                }
            }
        }
    }
    let foot = vec![
        Line::from(""),
        Line::from(Span::styled("any key starts", th.title())),
    ];
    let fr = framed::Framed {
        title: " DRILL — your page ",
        body,
        foot,
        hint: None,
    };
    framed::draw(f, area, fr, W, th);
}

/// The drill's debrief from row `scroll`: whatever does not fit ends in `…`; the keys (j/k
/// scroll) show in the bottom border.
fn debrief(f: &mut Frame, area: Rect, lines: &[String], scroll: usize, th: &Theme) {
    const W: u16 = 100;
    let width = usize::from(W.min(area.width).saturating_sub(2)).max(1);
    let body: Vec<Line<'static>> = lines
        .iter()
        .flat_map(|t| match t.strip_prefix('#') {
            Some(h) => wrapped(h.trim_start_matches('#').trim(), th.title(), width),
            None => wrapped(t, Style::default(), width),
        })
        .collect();
    let skip = scroll.min(body.len().saturating_sub(1));
    let fr = framed::Framed {
        title: " Drill debrief ",
        body: body.into_iter().skip(skip).collect(),
        foot: vec![],
        hint: Some(format!(" {} ", keymap::DEBRIEF.hints(" · "))),
    };
    framed::draw(f, area, fr, W, th);
}
