//! The fleet screen: one row per host, worst first, the selected row highlighted. Pure.
use ratatui::layout::{Constraint, Direction, Layout};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Row, Table};
use ratatui::Frame;

use super::theme::Theme;
use crate::assess::Level;
use crate::remote::fleet::{FleetRow, HEADERS};

/// What the fleet screen shows.
#[derive(Debug, Clone, Default)]
pub struct FleetView {
    /// Worst first.
    pub rows: Vec<FleetRow>,
    pub selected: usize,
    /// Hosts whose ssh link is down right now (shown in the row, and in the title).
    pub disconnected: Vec<String>,
    pub color: bool,
    /// When the newest reading arrived, `HH:MM:SS` UTC.
    pub updated: String,
}

pub fn draw_fleet(f: &mut Frame, v: &FleetView) {
    let th = Theme::new(v.color);
    let parts = Layout::default()
        .direction(Direction::Vertical)
        .constraints([Constraint::Min(3), Constraint::Length(1)])
        .split(f.area());
    let header = Row::new(HEADERS.to_vec()).style(th.title());
    let rows = v.rows.iter().enumerate().map(|(i, r)| {
        let mut cells = r.cells();
        if v.disconnected.contains(&r.host) {
            cells[2] = format!("{} (link down)", cells[2]);
        }
        let style = match r.level {
            Level::P1 | Level::P2 => th.bad(),
            Level::Unknown | Level::P3 => th.warn(),
            Level::None => th.good(),
        };
        let row = Row::new(cells.to_vec()).style(style);
        if i == v.selected {
            row.style(th.selected())
        } else {
            row
        }
    });
    let title = if v.disconnected.is_empty() {
        format!(" Fleet: {} hosts, updated {} ", v.rows.len(), v.updated)
    } else {
        format!(
            " Fleet: {} hosts, updated {}; link down: {} ",
            v.rows.len(),
            v.updated,
            v.disconnected.join(", ")
        )
    };
    let table = Table::new(
        rows,
        [
            Constraint::Length(18),
            Constraint::Length(9),
            Constraint::Length(20),
            Constraint::Length(7),
            Constraint::Length(14),
            Constraint::Min(20),
        ],
    )
    .header(header)
    .block(Block::default().borders(Borders::ALL).title(title));
    f.render_widget(table, parts[0]);
    f.render_widget(
        Paragraph::new(Line::from(vec![Span::styled(
            " j/k move  Enter respond to this host (q there comes back)  q quit",
            th.dim(),
        )])),
        parts[1],
    );
}
