//! Frame render time of the whole screen (`ui::draw` into TestBackend) with 500
//! PM2 processes and 100k lines of command output in the incident.
use std::sync::Arc;

use chrono::{TimeZone, Utc};
use criterion::{criterion_group, criterion_main, Criterion};
use pm2_incident::app::{App, AppMode, Msg};
use pm2_incident::incident::event::Stream;
use pm2_incident::pm2::parse_process_list;
use pm2_incident::runbook::Runbook;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;

fn busy_app() -> App {
    let now = Utc.with_ymd_and_hms(2026, 2, 17, 4, 12, 0).unwrap();
    let rb = Arc::new(Runbook::embedded().unwrap());
    let mut app = App::new(rb, AppMode::Live, "bench", "/", now);
    let procs: Vec<serde_json::Value> = (0..500)
        .map(|i| {
            let name = if i < 7 { ["flyer-crawler-api", "flyer-crawler-worker", "flyer-crawler-analytics-worker", "flyer-crawler-api-test", "flyer-crawler-worker-test", "flyer-crawler-analytics-worker-test", "stock-alert-api"][i].to_string() } else { format!("other-app-{i}") };
            serde_json::json!({"pid": 1000 + i, "name": name, "pm_id": i, "monit": {"cpu": 1, "memory": 1000},
                "pm2_env": {"status": if i % 7 == 0 { "errored" } else { "online" }, "restart_time": i % 13, "unstable_restarts": 0}})
        })
        .collect();
    let list = parse_process_list(serde_json::to_string(&procs).unwrap().as_bytes()).unwrap();
    app.update(
        Msg::Pm2(pm2_incident::pm2::Reading::listed("7.0.4", 4242, list)),
        now,
    );
    // 100 commands x 1000 lines = 100k lines of output held by the incident.
    for c in 0..100u64 {
        app.update(
            Msg::Key(KeyEvent::new(KeyCode::Char(':'), KeyModifiers::NONE)),
            now,
        );
        for ch in format!("echo run {c}").chars() {
            app.update(
                Msg::Key(KeyEvent::new(KeyCode::Char(ch), KeyModifiers::NONE)),
                now,
            );
        }
        app.update(
            Msg::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)),
            now,
        );
        let id = c + 1;
        for l in 0..1000 {
            app.update(
                Msg::Output {
                    cmd_id: id,
                    stream: Stream::Stdout,
                    line: format!("line {l} of command {c} with some text"),
                },
                now,
            );
        }
        app.flush_output();
    }
    app.outbox.clear();
    app
}

fn frames(c: &mut Criterion) {
    let app = busy_app();
    for (w, h) in [(100u16, 30u16), (200, 60), (80, 24)] {
        let mut term = Terminal::new(TestBackend::new(w, h)).unwrap();
        c.bench_function(
            &format!("frame {w}x{h} (500 processes, 100k output lines)"),
            |b| {
                b.iter(|| {
                    term.draw(|f| pm2_incident::ui::draw(f, &app)).unwrap();
                })
            },
        );
    }
}

criterion_group!(benches, frames);
criterion_main!(benches);
