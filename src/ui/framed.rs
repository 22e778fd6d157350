//! A popup whose last lines always show: the body is wrapped here (so its height is known)
//! and cut with `…` when the terminal is too small, the footer (what to type, what key to
//! press) is drawn at the bottom of the frame whatever the body holds.
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};
use ratatui::Frame;

use super::layout::wrap;
use super::theme::Theme;

/// `text` (its own lines, each wrapped to `width`) as lines in one style.
pub fn wrapped(text: &str, style: Style, width: usize) -> Vec<Line<'static>> {
    text.split('\n')
        .flat_map(|l| wrap(l, width))
        .map(|l| Line::from(Span::styled(l, style)))
        .collect()
}

/// Rows a line takes when wrapped to `width`.
pub fn rows(line: &Line, width: usize) -> usize {
    let text: String = line.spans.iter().map(|s| s.content.as_ref()).collect();
    wrap(&text, width).len()
}

/// The first `keep` of `lines`, the last one ending in `…` when some were dropped.
pub fn cut(mut lines: Vec<Line<'static>>, keep: usize, width: usize) -> Vec<Line<'static>> {
    if lines.len() <= keep {
        return lines;
    }
    lines.truncate(keep);
    if let Some(last) = lines.last_mut() {
        let style = last.spans.first().map(|s| s.style).unwrap_or_default();
        let text: String = last.spans.iter().map(|s| s.content.as_ref()).collect();
        let mut t: String = text.chars().take(width.saturating_sub(1)).collect();
        t.push('…');
        *last = Line::from(Span::styled(t, style));
    }
    lines
}

/// Rows inside a popup's borders at most: the screen's header and key lines stay visible.
pub fn max_rows(area: Rect) -> usize {
    usize::from(area.height.saturating_sub(4))
}

/// What a popup shows: its title, the body (already wrapped), the footer lines under it, and
/// a hint in its bottom border.
pub struct Framed {
    pub title: &'static str,
    pub body: Vec<Line<'static>>,
    pub foot: Vec<Line<'static>>,
    pub hint: Option<String>,
}

/// Draw a [`Framed`] in a bordered box `w` wide, centred in `area` and as tall as it needs
/// (at most [`max_rows`] inside); the body loses its end when space runs out, the footer and
/// the hint never.
pub fn draw(f: &mut Frame, area: Rect, fr: Framed, w: u16, th: &Theme) {
    let Framed {
        title,
        body,
        foot,
        hint,
    } = fr;
    let w = w.min(area.width);
    let inner_w = usize::from(w.saturating_sub(2)).max(1);
    let foot_rows: usize = foot.iter().map(|l| rows(l, inner_w)).sum();
    let room = max_rows(area);
    let body_rows = body.len().min(room.saturating_sub(foot_rows));
    let body = cut(body, body_rows, inner_w);
    let h = u16::try_from(body_rows + foot_rows + 2)
        .unwrap_or(u16::MAX)
        .min(area.height);
    let r = Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    };
    f.render_widget(Clear, r);
    let mut block = Block::default()
        .borders(Borders::ALL)
        .title(Span::styled(title, th.title()));
    if let Some(h) = hint {
        block = block.title_bottom(Span::styled(h, th.dim()));
    }
    let inner = block.inner(r);
    f.render_widget(block, r);
    let foot_h = u16::try_from(foot_rows)
        .unwrap_or(u16::MAX)
        .min(inner.height);
    let body_area = Rect {
        height: inner.height - foot_h,
        ..inner
    };
    let foot_area = Rect {
        y: inner.y + inner.height - foot_h,
        height: foot_h,
        ..inner
    };
    f.render_widget(Paragraph::new(body), body_area);
    f.render_widget(Paragraph::new(foot).wrap(Wrap { trim: false }), foot_area);
}
