//! Popups over the screen: help (from the keymap), confirmation, refusal, input, timeline.
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};
use ratatui::Frame;

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

pub fn render(f: &mut Frame, area: Rect, app: &App, th: &Theme) {
    let Some(p) = &app.popup else { return };
    if *p == Popup::Note {
        if let Some(a) = &app.note {
            let r = centered(area, 80, 12);
            f.render_widget(Clear, r);
            let title = format!(" Note for the journal — {} ", keymap::NOTE.hints(" · "));
            let block = Block::default()
                .borders(Borders::ALL)
                .title(Span::styled(title, th.title()));
            let inner = block.inner(r);
            f.render_widget(block, r);
            f.render_widget(a, inner);
        }
        return;
    }
    if *p == Popup::Compose {
        if let Some(c) = &app.compose {
            let r = centered(area, 96, area.height.saturating_sub(2));
            f.render_widget(Clear, r);
            let title = format!(" {} — {} ", c.subject, keymap::COMPOSE.hints(" · "));
            let block = Block::default()
                .borders(Borders::ALL)
                .title(Span::styled(title, th.title()));
            let inner = block.inner(r);
            f.render_widget(block, r);
            f.render_widget(&c.area, inner);
        }
        return;
    }
    let (title, lines, w, h): (String, Vec<Line>, u16, u16) = match p {
        Popup::Help { scroll } => {
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
            // Scrolled, but never past the last page.
            let page = usize::from(area.height.saturating_sub(2));
            let l: Vec<Line> = l
                .into_iter()
                .skip(
                    (*scroll)
                        .min(keymap::help_row_count(app.replay.is_some()).saturating_sub(page)),
                )
                .collect();
            // As tall as the keymap (the terminal caps it; j/k scroll the rest).
            let rows: usize = l.iter().map(|x| x.width().div_ceil(88).max(1)).sum();
            let h = u16::try_from(rows + 2).unwrap_or(u16::MAX);
            let title = format!(" Help — {} ", keymap::SCROLL.hints(", "));
            (title, l, 90, h)
        }
        Popup::Refused {
            text,
            reason,
            alternative,
        } => {
            let mut l = vec![
                Line::from(Span::styled(
                    "REFUSED — this command is never run by pm2-incident",
                    th.bad(),
                )),
                Line::from(""),
                Line::from(format!("$ {text}")),
                Line::from(""),
                Line::from(reason.clone()),
            ];
            if let Some(alt) = alternative {
                l.push(Line::from(""));
                l.push(Line::from(Span::styled("Safe alternative:", th.title())));
                l.push(Line::from(alt.clone()));
            }
            l.push(Line::from(""));
            l.push(Line::from(Span::styled("any key closes", th.dim())));
            (" Dangerous command ".into(), l, 80, 16)
        }
        Popup::Confirm {
            text,
            dir,
            reason,
            targets,
            token,
            typed,
        } => {
            let l = vec![
                Line::from(Span::styled("CAUTION — read before running", th.warn())),
                Line::from(""),
                Line::from(format!("$ {text}")),
                Line::from(app.run_location(dir)),
                Line::from(""),
                Line::from(reason.clone()),
                Line::from(format!(
                    "touches: {}",
                    if targets.is_empty() {
                        "-".into()
                    } else {
                        targets.join(", ")
                    }
                )),
                Line::from(""),
                Line::from(vec![
                    Span::raw("type "),
                    Span::styled(token.clone(), th.title()),
                    Span::raw(" and Enter to run, Esc to cancel"),
                ]),
                Line::from(format!("> {typed}")),
            ];
            (" Confirm ".into(), l, 80, 14)
        }
        Popup::Input { kind, text, error } => {
            let mut l = vec![Line::from(format!("> {text}"))];
            if let Some(e) = error {
                l.push(Line::from(Span::styled(e.clone(), th.bad())));
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
            (title, l, 80, 6)
        }
        Popup::QuitConfirm => (
            " Quit? ".into(),
            vec![
                Line::from(format!("{} command(s) still running.", app.running.len())),
                Line::from(keymap::QUIT.hints(" · ")),
            ],
            60,
            5,
        ),
        Popup::Compose | Popup::Note => return,
        Popup::Briefing => {
            let Some(sc) = &app.drill else { return };
            let mut l = vec![
                Line::from(Span::styled(sc.title.clone(), th.title())),
                Line::from(""),
            ];
            for para in sc.briefing.trim().split("\n\n") {
                l.push(Line::from(
                    para.split_whitespace().collect::<Vec<_>>().join(" "),
                ));
                l.push(Line::from(""));
            }
            l.push(Line::from(Span::styled(
                "This is a drill: PM2, the health checks and the shell answer from a simulator. Work through the runbook with the keys in the footer; q ends the drill with a debrief.",
                th.dim(),
            )));
            l.push(Line::from(""));
            l.push(Line::from(Span::styled("any key starts", th.title())));
            (" DRILL — your page ".into(), l, 90, 22)
        }
        Popup::Debrief(lines) => {
            let mut l: Vec<Line> = lines
                .iter()
                .map(|t| {
                    if t.starts_with('#') {
                        Line::from(Span::styled(
                            t.trim_start_matches('#').trim().to_string(),
                            th.title(),
                        ))
                    } else {
                        Line::from(t.clone())
                    }
                })
                .collect();
            l.push(Line::from(""));
            l.push(Line::from(Span::styled(
                keymap::DEBRIEF.hints(" · "),
                th.dim(),
            )));
            (
                " Drill debrief ".into(),
                l,
                100,
                area.height.saturating_sub(2),
            )
        }
        Popup::Timeline { scroll } => {
            let l: Vec<Line> = app
                .incident
                .timeline
                .iter()
                .skip(
                    (*scroll).min(
                        app.incident
                            .timeline
                            .len()
                            .saturating_sub(usize::from(area.height.min(26).saturating_sub(2))),
                    ),
                )
                .map(|t| Line::from(format!("{}  {}", t.ts.format("%H:%M:%S"), t.text)))
                .collect();
            (
                format!(" Timeline (UTC) — {} ", keymap::SCROLL.hints(", ")),
                l,
                100,
                26,
            )
        }
    };
    let r = centered(area, w, h);
    f.render_widget(Clear, r);
    let block = Block::default()
        .borders(Borders::ALL)
        .title(Span::styled(title, th.title()));
    f.render_widget(
        Paragraph::new(lines)
            .block(block)
            .wrap(Wrap { trim: false }),
        r,
    );
}
