//! Left: the runbook's phases, the current phase's steps, progress marks.
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};
use ratatui::Frame;

use super::clip;
use super::theme::Theme;
use crate::app::runbook_nav::RbRow;
use crate::app::{App, Tab};
use crate::incident::fold::StepState;

/// Columns the pane needs to show every phase and step title whole (borders included).
pub fn wanted_width(app: &App) -> u16 {
    let titles = app.rb.procedure.phase.iter().flat_map(|p| {
        std::iter::once(p.title.as_str()).chain(p.step.iter().map(|s| s.title.as_str()))
    });
    titles
        .map(|t| super::layout::width_of(t).saturating_add(4 + 2))
        .max()
        .unwrap_or(0)
}

pub fn render(f: &mut Frame, area: Rect, app: &App, th: &Theme) {
    let width = area.width.saturating_sub(2) as usize;
    let focused = app.tab == Tab::Runbook;
    let cursor = focused.then(|| app.rb_cursor());
    let steps = app.steps();
    let phases = &app.rb.procedure.phase;
    let mut lines = Vec::new();
    let mut current_line = 0;
    let mut cursor_line = None;
    for row in app.runbook_rows() {
        let (text, mut style) = match row {
            RbRow::Phase(n) => {
                let phase = &phases[n];
                let here = app.phase_of_step(app.step) == n;
                let done = phase.step.iter().all(|s| {
                    matches!(
                        app.step_state(s.id.get_ref()),
                        StepState::Done | StepState::Skipped { .. }
                    )
                });
                let (mark, style) = if here {
                    ("▸", th.title())
                } else if done {
                    ("✓", th.good())
                } else {
                    (" ", Default::default())
                };
                (format!("{mark}{:>2} {}", n + 1, phase.title), style)
            }
            RbRow::Step(i) => {
                let Some(s) = steps.get(i) else { continue };
                let (m, st) = if i == app.step {
                    current_line = lines.len();
                    ("▸", th.selected())
                } else {
                    match app.step_state(s.id.get_ref()) {
                        StepState::Done => ("✓", th.good()),
                        StepState::Skipped { .. } => ("⤼", th.dim()),
                        StepState::Visited => ("·", Default::default()),
                        StepState::NotVisited => (" ", Default::default()),
                    }
                };
                (format!("  {m} {}", s.title), st)
            }
        };
        if cursor == Some(row) {
            cursor_line = Some(lines.len());
            style = th.accent().add_modifier(Modifier::REVERSED);
        }
        // A title longer than the pane wraps under itself rather than being cut.
        let chars: Vec<char> = text.chars().collect();
        for (pad, a, b) in super::layout::wrap_ranges(&text, width, 4) {
            let piece: String = chars[a..b].iter().collect();
            let piece = clip(&format!("{}{piece}", " ".repeat(pad)), width);
            lines.push(Line::from(Span::styled(piece, style)));
        }
    }
    let inner = area.height.saturating_sub(2) as usize;
    let anchor = cursor_line.unwrap_or(current_line);
    let scroll = anchor.saturating_sub(inner.saturating_sub(3)) as u16;
    let title = if focused {
        " Runbook (Enter go, Esc back) "
    } else {
        " Runbook "
    };
    let mut block = Block::default().borders(Borders::ALL).title(title);
    if focused {
        block = block.border_style(th.accent());
    }
    f.render_widget(Paragraph::new(lines).block(block).scroll((scroll, 0)), area);
}
