//! PM2: every expected process per deployment (missing ones too), then any the
//! inventory does not know, with status and restarts.
use crate::pm2::DaemonKind;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};
use ratatui::Frame;

use super::clip;
use super::theme::Theme;
use crate::app::App;
use crate::assess::ProcState;

/// Columns of a process row besides its name: " name state(8) xN ↻restarts" and borders.
const ROW_EXTRA: u16 = 17;

/// Columns the pane needs to show every full PM2 name (borders included).
pub fn wanted_width(app: &App) -> u16 {
    let scope = &app.assessment.scope;
    let names = scope
        .deployments
        .iter()
        .flat_map(|d| d.processes.iter().map(|p| p.name.as_str()))
        .chain(scope.unexpected.iter().map(|p| p.name.as_str()));
    names
        .map(|n| super::layout::width_of(n).saturating_add(ROW_EXTRA))
        .max()
        .unwrap_or(0)
}

pub fn render(f: &mut Frame, area: Rect, app: &App, th: &Theme) {
    let width = area.width.saturating_sub(2) as usize;
    let mut lines = Vec::new();
    let daemon_style = if app.pm2_daemon == Some(DaemonKind::Up) {
        th.good()
    } else {
        th.bad()
    };
    lines.push(Line::from(Span::styled(
        clip(&app.pm2_detail, width),
        daemon_style,
    )));
    for l in app.saved_list_lines() {
        lines.push(Line::from(Span::styled(clip(&l, width), th.dim())));
    }
    // With the daemon down: orphans holding ports, what resurrect would do (or why not).
    for n in &app.plan().notes {
        lines.push(Line::from(Span::styled(clip(n, width), th.warn())));
    }
    if app.pm2_daemon != Some(DaemonKind::Up) {
        if let Some(d) = &app.evidence {
            lines.push(Line::from(Span::styled(
                clip(&format!("evidence kept: {d}"), width),
                th.dim(),
            )));
        } else {
            lines.push(Line::from(Span::styled(
                clip("E: preserve the evidence before any pm2 command", width),
                th.warn(),
            )));
        }
    }
    let name_w = width.saturating_sub(15).max(8);
    for d in &app.assessment.scope.deployments {
        lines.push(Line::from(Span::styled(
            clip(&format!("{} ({})", d.id, d.environment.as_str()), width),
            th.title(),
        )));
        // The full PM2 name when it fits; else, under its deployment's heading, without the
        // app prefix (`flyer-crawler-analytics-worker-test` -> `analytics-worker-test`).
        let prefix = format!("{}-", d.app);
        for p in &d.processes {
            let short = if p.name.chars().count() <= name_w {
                p.name.as_str()
            } else {
                p.name
                    .strip_prefix(&prefix)
                    .filter(|s| !s.is_empty() && !s.starts_with('*'))
                    .unwrap_or(&p.name)
            };
            lines.push(row(short, &p.state, p.instances, p.restarts, name_w, th));
        }
    }
    if !app.assessment.scope.unexpected.is_empty() {
        lines.push(Line::from(Span::styled("not in inventory", th.title())));
        for p in &app.assessment.scope.unexpected {
            lines.push(row(&p.name, &p.state, p.instances, p.restarts, name_w, th));
        }
    }
    if let Some(last) = app.bus.last() {
        lines.push(Line::from(Span::styled(
            clip(&format!("last event: {last}"), width),
            th.dim(),
        )));
    }
    let block = Block::default().borders(Borders::ALL).title(" PM2 ");
    f.render_widget(Paragraph::new(lines).block(block), area);
}

fn row(
    name: &str,
    state: &ProcState,
    instances: usize,
    restarts: u64,
    name_w: usize,
    th: &Theme,
) -> Line<'static> {
    let st = match state {
        ProcState::Online => th.good(),
        ProcState::Unknown | ProcState::Launching => th.warn(),
        _ => th.bad(),
    };
    let inst = if instances > 1 {
        format!("x{instances}")
    } else {
        String::new()
    };
    Line::from(vec![
        Span::raw(format!(" {:<w$}", clip(name, name_w), w = name_w)),
        Span::styled(format!(" {:<8}", clip(state.label(), 8)), st),
        Span::raw(format!("{inst:<2}↻{restarts}")),
    ])
}
