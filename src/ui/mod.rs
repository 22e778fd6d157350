//! Drawing: `draw(frame, app)` is pure — it reads the app and paints the frame.
//! Wide terminals (100x30 and up) show every pane; narrow ones show one pane at a
//! time as tabs. Each region is one small function in its own file.
pub mod fleet;
mod framed;
mod header;
mod health_pane;
pub mod layout;
mod pm2_pane;
mod popup;
mod replay_strip;
mod runbook_pane;
mod step_pane;
pub mod theme;

use ratatui::layout::{Constraint, Direction, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Tabs};
use ratatui::Frame;

use crate::app::{keymap, App, Tab};
use theme::Theme;

/// Wide layout from this size up; below it, panes become tabs.
pub const WIDE_COLS: u16 = 100;
pub const WIDE_ROWS: u16 = 30;
/// Health gets its own column from here (below, it shares the PM2 column): the runbook's
/// titles, full PM2 names and a readable step pane come first.
pub const FOUR_COLS: u16 = 190;

pub fn draw(f: &mut Frame, app: &App) {
    let th = Theme::new(app.color);
    let area = f.area();
    let rows = Layout::default()
        .direction(Direction::Vertical)
        .constraints([
            Constraint::Length(1),
            Constraint::Min(3),
            Constraint::Length(1),
        ])
        .split(area);
    header::render(f, rows[0], app, &th);
    let mut body = rows[1];
    if app.replay.is_some() && !app.hide_strip && body.height > 12 {
        let parts = Layout::default()
            .direction(Direction::Vertical)
            .constraints([Constraint::Min(8), Constraint::Length(replay_strip::HEIGHT)])
            .split(body);
        body = parts[0];
        replay_strip::render(f, parts[1], app, &th);
    }
    if area.width >= WIDE_COLS && area.height >= WIDE_ROWS {
        wide(f, body, app, &th);
    } else {
        narrow(f, body, app, &th);
    }
    footer(f, rows[2], app, &th);
    popup::render(f, area, app, &th);
}

fn wide(f: &mut Frame, area: Rect, app: &App, th: &Theme) {
    let four = area.width >= FOUR_COLS;
    let want = layout::Want {
        runbook: runbook_pane::wanted_width(app),
        pm2: pm2_pane::wanted_width(app),
        health: four.then(|| health_pane::wanted_width(app)),
    };
    let w = layout::columns(area.width, want);
    let constraints: Vec<Constraint> = w
        .iter()
        .take(if four { 4 } else { 3 })
        .map(|&x| Constraint::Length(x))
        .collect();
    let cols = Layout::default()
        .direction(Direction::Horizontal)
        .constraints(constraints)
        .split(area);
    runbook_pane::render(f, cols[0], app, th);
    step_pane::render(f, cols[1], app, th);
    if four {
        pm2_pane::render(f, cols[2], app, th);
        health_pane::render(f, cols[3], app, th);
    } else {
        let right = Layout::default()
            .direction(Direction::Vertical)
            .constraints([Constraint::Percentage(62), Constraint::Percentage(38)])
            .split(cols[2]);
        pm2_pane::render(f, right[0], app, th);
        health_pane::render(f, right[1], app, th);
    }
}

fn narrow(f: &mut Frame, area: Rect, app: &App, th: &Theme) {
    let rows = Layout::default()
        .direction(Direction::Vertical)
        .constraints([Constraint::Length(1), Constraint::Min(2)])
        .split(area);
    let titles: Vec<Line> = Tab::ALL
        .iter()
        .enumerate()
        .map(|(i, t)| Line::from(format!("{} {}", i + 1, t.title())))
        .collect();
    let selected = Tab::ALL.iter().position(|t| *t == app.tab).unwrap_or(1);
    f.render_widget(
        Tabs::new(titles)
            .select(selected)
            .highlight_style(th.selected())
            .divider("|"),
        rows[0],
    );
    match app.tab {
        Tab::Runbook => runbook_pane::render(f, rows[1], app, th),
        Tab::Step => step_pane::render(f, rows[1], app, th),
        Tab::Pm2 => pm2_pane::render(f, rows[1], app, th),
        Tab::Health => health_pane::render(f, rows[1], app, th),
    }
}

fn footer(f: &mut Frame, area: Rect, app: &App, th: &Theme) {
    let line = match &app.flash {
        Some(msg) => Line::from(Span::styled(format!(" {msg}"), th.warn())),
        None => {
            let mut keys = if app.replay.is_some() {
                keymap::REPLAY.hints("  ")
            } else {
                keymap::MAIN.hints("  ")
            };
            if area.width < WIDE_COLS {
                keys.push_str("  Tab pane");
            }
            Line::from(Span::styled(format!(" {keys}"), th.dim()))
        }
    };
    f.render_widget(Paragraph::new(line), area);
}

/// Cut `s` to `max` characters, marking the cut with `…`.
pub fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else if max == 0 {
        String::new()
    } else {
        let mut out: String = s.chars().take(max - 1).collect();
        out.push('…');
        out
    }
}

/// Drop terminal escape sequences (colours, cursor moves) from command output, so
/// a command's styling cannot repaint the screen; tabs become spaces.
pub fn strip_ansi(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\x1b' => match chars.peek() {
                Some('[') => {
                    chars.next();
                    // CSI: parameters, then one final byte in @..~
                    for n in chars.by_ref() {
                        if ('@'..='~').contains(&n) {
                            break;
                        }
                    }
                }
                Some(']') => {
                    // OSC: up to BEL or ESC \
                    chars.next();
                    while let Some(n) = chars.next() {
                        if n == '\x07' {
                            break;
                        }
                        if n == '\x1b' && chars.peek() == Some(&'\\') {
                            chars.next();
                            break;
                        }
                    }
                }
                _ => {
                    chars.next();
                }
            },
            '\t' => out.push_str("    "),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::strip_ansi;

    #[test]
    fn strips_colours_and_controls() {
        assert_eq!(strip_ansi("\x1b[1m\x1b[36m6\x1b[39m\x1b[22m │ x"), "6 │ x");
        assert_eq!(strip_ansi("a\x1b]0;title\x07b\tc\r"), "ab    c");
        assert_eq!(strip_ansi("plain"), "plain");
    }
}
