//! Replay's timeline at a glance: processes online over the whole incident as a
//! sparkline, health failures below it, markers for commands (c), refusals (!)
//! and severity decisions (S), and the cursor (▲).
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Sparkline};
use ratatui::Frame;

use super::theme::Theme;
use crate::app::App;
use crate::incident::seek::Kind;

pub const HEIGHT: u16 = 6;

/// Per column: processes online (max over the column), any endpoint down, marker.
pub fn columns(app: &App, width: usize) -> (Vec<u64>, Vec<bool>, Vec<char>, Option<usize>) {
    let Some(r) = &app.replay else {
        return (vec![], vec![], vec![], None);
    };
    // Per event, the index already holds what the strip needs (no event is read here).
    let marks = r.replay.marks();
    let (Some(first), Some(last)) = (marks.first(), marks.last()) else {
        return (vec![], vec![], vec![], None);
    };
    let (first, last) = (first.ts(), last.ts());
    let span = (last - first).num_milliseconds().max(1) as f64;
    let col = |ts: chrono::DateTime<chrono::Utc>| {
        (((ts - first).num_milliseconds() as f64 / span) * (width.saturating_sub(1)) as f64)
            as usize
    };
    let mut online = vec![0u64; width];
    let mut down = vec![false; width];
    let mut marks_line = vec![' '; width];
    let mut current_online = 0u64;
    let mut failing = false;
    let mut last_col = 0;
    for m in marks {
        let c = col(m.ts()).min(width - 1);
        // Carry the last known values across empty columns.
        for k in last_col..c {
            online[k + 1] = online[k + 1].max(current_online);
            down[k + 1] |= failing;
        }
        last_col = c;
        current_online = u64::from(m.online());
        failing = m.down();
        match m.kind {
            Kind::Command => marks_line[c] = 'c',
            Kind::Refused => marks_line[c] = '!',
            Kind::SeverityDecided => marks_line[c] = 'S',
            _ => {}
        }
        online[c] = online[c].max(current_online);
        down[c] |= failing;
    }
    let marks = marks_line;
    let cursor = r.time().map(|t| col(t).min(width - 1));
    (online, down, marks, cursor)
}

pub fn render(f: &mut Frame, area: Rect, app: &App, th: &Theme) {
    let block = Block::default()
        .borders(Borders::ALL)
        .title(" Timeline: processes online · health down (▀) · c command  ! refused  S severity ");
    let inner = block.inner(area);
    f.render_widget(block, area);
    let width = inner.width as usize;
    if width < 4 || inner.height < 4 {
        return;
    }
    let (online, down, marks, cursor) = columns(app, width);
    let spark = Rect {
        height: inner.height - 2,
        ..inner
    };
    f.render_widget(Sparkline::default().data(&online).style(th.good()), spark);
    let down_line: String = down.iter().map(|d| if *d { '▀' } else { ' ' }).collect();
    let mut mark_line: Vec<char> = marks.clone();
    if let Some(c) = cursor {
        mark_line[c] = '▲';
    }
    let y = inner.y + inner.height - 2;
    f.render_widget(
        Paragraph::new(Line::from(Span::styled(down_line, th.bad()))),
        Rect {
            y,
            height: 1,
            ..inner
        },
    );
    f.render_widget(
        Paragraph::new(Line::from(mark_line.into_iter().collect::<String>())),
        Rect {
            y: y + 1,
            height: 1,
            ..inner
        },
    );
}
