//! Left: the runbook's phases, the current phase's steps, progress marks.
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};
use ratatui::Frame;

use super::clip;
use super::theme::Theme;
use crate::app::App;
use crate::incident::fold::StepState;

pub fn render(f: &mut Frame, area: Rect, app: &App, th: &Theme) {
    let width = area.width.saturating_sub(2) as usize;
    let current = app.current_step().id.get_ref().clone();
    let mut lines = Vec::new();
    let mut current_line = 0;
    for (n, phase) in app.rb.procedure.phase.iter().enumerate() {
        let here = phase.step.iter().any(|s| *s.id.get_ref() == current);
        let done = phase.step.iter().all(|s| app.step_done(s.id.get_ref()));
        let mark = if done {
            "✓"
        } else if here {
            "▸"
        } else {
            " "
        };
        let style = if here {
            th.title()
        } else if done {
            th.good()
        } else {
            Default::default()
        };
        lines.push(Line::from(Span::styled(
            clip(&format!("{mark}{:>2} {}", n + 1, phase.title), width),
            style,
        )));
        if here {
            for s in &phase.step {
                let id = s.id.get_ref();
                let (m, st) = if *id == current {
                    current_line = lines.len();
                    ("▸", th.selected())
                } else {
                    match app.step_state(id) {
                        StepState::Done => ("✓", th.good()),
                        StepState::Skipped { .. } => ("⤼", th.dim()),
                        StepState::Visited => ("·", Default::default()),
                        StepState::NotVisited => (" ", Default::default()),
                    }
                };
                lines.push(Line::from(Span::styled(
                    clip(&format!("  {m} {}", s.title), width),
                    st,
                )));
            }
        }
    }
    let inner = area.height.saturating_sub(2) as usize;
    let scroll = current_line.saturating_sub(inner.saturating_sub(3)) as u16;
    let block = Block::default().borders(Borders::ALL).title(" Runbook ");
    f.render_widget(Paragraph::new(lines).block(block).scroll((scroll, 0)), area);
}
