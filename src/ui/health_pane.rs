//! Health: one line per endpoint — verdict, where, how fast.
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};
use ratatui::Frame;

use super::clip;
use super::theme::Theme;
use crate::app::App;
use crate::runbook::inventory::Route;

/// Columns the pane needs for its longest line (borders included).
pub fn wanted_width(app: &App) -> u16 {
    app.health
        .iter()
        .map(|h| super::layout::width_of(&h.target.deployment).saturating_add(9 + 4 + 8 + 2))
        .max()
        .unwrap_or(0)
}

pub fn render(f: &mut Frame, area: Rect, app: &App, th: &Theme) {
    let width = area.width.saturating_sub(2) as usize;
    let mut lines = Vec::new();
    if app.health.is_empty() {
        lines.push(Line::from(Span::styled("no health round yet", th.dim())));
    }
    for h in &app.health {
        let style = if h.verdict.is_healthy() {
            th.good()
        } else if h.verdict.says_down() {
            th.bad()
        } else {
            th.warn()
        };
        let route = match h.target.route {
            Route::Public => "pub",
            Route::Local => "loc",
        };
        let verdict = clip(&h.verdict.label(), 8);
        let name_w = width.saturating_sub(9);
        let mut what = format!("{} {route}", h.target.deployment);
        if let Some(slow) = crate::health::slow_label(h.latency_ms) {
            what.push_str(&format!(" {slow}"));
        }
        lines.push(Line::from(vec![
            Span::styled(format!("{verdict:<8} "), style),
            Span::raw(clip(&what, name_w)),
        ]));
    }
    let block = Block::default().borders(Borders::ALL).title(" Health ");
    f.render_widget(Paragraph::new(lines).block(block), area);
}
