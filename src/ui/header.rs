//! Top line: mode, incident id, severity, elapsed against the response target.
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use super::theme::Theme;
use crate::app::App;

pub fn hms(secs: i64) -> String {
    format!(
        "{:02}:{:02}:{:02}",
        secs / 3600,
        (secs / 60) % 60,
        secs % 60
    )
}

pub fn render(f: &mut Frame, area: Rect, app: &App, th: &Theme) {
    let id = app.incident_id().unwrap_or("-").to_string();
    let elapsed = app.elapsed_secs();
    let narrow = area.width < super::WIDE_COLS;
    let mut spans = Vec::new();
    if !narrow {
        spans.push(Span::styled(" pm2-incident ", th.title()));
    }
    spans.push(Span::styled(
        format!(" {} ", app.mode.label()),
        th.selected(),
    ));
    remote_spans(app, area.width, th, &mut spans);
    spans.push(Span::raw(format!(" {id}  ")));
    severity_spans(app, narrow, elapsed, th, &mut spans);
    if app.journal_error.is_some() {
        spans.push(Span::styled("  JOURNAL NOT WRITING", th.bad()));
    }
    if let Some(due) =
        crate::comms::next_update_due(&app.incident, crate::app::state::NEXT_UPDATE_MINUTES)
    {
        let st = crate::comms::update_status(due, app.now);
        let style = if st.is_overdue() { th.bad() } else { th.dim() };
        spans.push(Span::styled(format!("  {}", st.label()), style));
    }
    if let Some(r) = &app.replay {
        spans.push(Span::styled(replay_position(r), th.accent()));
    }
    if let Some(d) = crate::app::deploy_items::header(app) {
        spans.push(Span::styled(format!("  {d}"), th.bad()));
    }
    if app.incident.closed.is_some() {
        spans.push(Span::styled("  CLOSED", th.good()));
    }
    f.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// Over ssh: the server every command runs on, and a dropped link, always in sight.
fn remote_spans(app: &App, area_width: u16, th: &Theme, spans: &mut Vec<Span<'static>>) {
    let Some(r) = &app.remote else { return };
    spans.push(Span::styled(format!(" on {} ", r.host), th.accent()));
    if let Some(why) = &r.link_down {
        // The full reason is the PM2 pane's; a wide header has room for its start.
        let text = if area_width < super::WIDE_COLS {
            " SSH DOWN ".to_string()
        } else if area_width >= super::FOUR_COLS && !why.is_empty() {
            format!(" SSH LINK DOWN ({}), reconnecting ", super::clip(why, 50))
        } else {
            " SSH LINK DOWN, reconnecting ".to_string()
        };
        spans.push(Span::styled(text, th.bad()));
    }
}

/// The incident's severity as decided, recovered from, or only proposed, with the clock.
fn severity_spans(
    app: &App,
    narrow: bool,
    elapsed: i64,
    th: &Theme,
    spans: &mut Vec<Span<'static>>,
) {
    let recovered = app.observed()
        && app.assessment.severity.level == crate::assess::Level::None
        && app.incident.closed.is_none();
    let peak = app.incident.peak_severity().filter(|_| recovered);
    match (&app.incident.severity, peak) {
        // Restored but not resolved: the incident keeps its peak until someone closes it.
        (_, Some(p)) if p.value.rank() > 0 => {
            spans.push(Span::styled(
                format!("recovered (was {})", p.value.short()),
                th.good(),
            ));
            spans.push(Span::raw(format!("  {}", hms(elapsed))));
        }
        (Some(d), _) => {
            let sev = d.value.severity;
            spans.push(Span::styled(sev.label().to_string(), th.bad()));
            let key = format!("{sev:?}");
            if let Some(s) = app.rb.procedure.severity(&key) {
                // Met when the severity was called within the response target.
                let target = s.response_minutes as i64 * 60;
                let called = app
                    .incident
                    .first_ts
                    .map(|t| (d.at - t).num_seconds())
                    .unwrap_or(0);
                let mark = if called <= target {
                    ("✓", th.good())
                } else {
                    ("✗", th.bad())
                };
                spans.push(Span::raw(format!("  {} ", hms(elapsed))));
                spans.push(Span::raw(format!(" respond < {} min ", s.response_minutes)));
                spans.push(Span::styled(mark.0, mark.1));
            }
        }
        (None, _) => {
            let call = &app.assessment.severity;
            let text = match call.level {
                _ if !app.observed() => "no observation yet".to_string(),
                crate::assess::Level::None => "no incident seen".to_string(),
                l if narrow => format!("{}?", l.as_str()),
                l => format!("proposed {} (not decided)", l.as_str()),
            };
            spans.push(Span::styled(text, th.warn()));
            spans.push(Span::raw(format!("  {}", hms(elapsed))));
        }
    }
}

/// Where replay stands: the journal's time, the event, play/pause, follow, indexing.
fn replay_position(r: &crate::app::replay::ReplayState) -> String {
    let t = r
        .time()
        .map(|t| t.format("%H:%M:%S").to_string())
        .unwrap_or_default();
    let play = if r.playing {
        format!("▶ {}x", r.speed)
    } else {
        format!("‖ {}x", r.speed)
    };
    let follow = if r.follow { " follow" } else { "" };
    // While the file is still being indexed, the count is "so far" and a gauge says how far.
    let (more, gauge) = match r.indexing {
        Some((done, total)) => (
            "+",
            format!(
                "  indexing {}%",
                (done.saturating_mul(100) / total.max(1)).min(99)
            ),
        ),
        None => ("", String::new()),
    };
    format!(
        "  {t} UTC  event {}/{}{more}  {play}{follow}{gauge}",
        r.pos(),
        r.len()
    )
}
