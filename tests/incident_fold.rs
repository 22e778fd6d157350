//! `fold` and `Incident::apply`: availability and downtime from transitions, milestones,
//! output bounds, replay seeking equal to a full refold, tolerance of odd event orders.
use chrono::Duration;
use pm2_incident::incident::event::*;
use pm2_incident::incident::fold::OUTPUT_LINE_LIMIT;
use pm2_incident::incident::sample::{self, at, row};
use pm2_incident::incident::seek::{Builder, Cursor, Replay};
use pm2_incident::incident::{fold, Entry, Incident};

fn entries(evs: Vec<(Ts, Event)>) -> Vec<Entry> {
    evs.into_iter()
        .enumerate()
        .map(|(i, (ts, event))| Entry {
            seq: i as u64,
            ts,
            event,
        })
        .collect()
}

fn obs(rows: Vec<ProcessRow>) -> Event {
    Event::Pm2Observation(Observation {
        source: "rpc".into(),
        processes: rows,
    })
}

#[test]
fn without_an_inventory_each_process_name_is_an_application() {
    let inc = fold(&entries(vec![
        (
            at(4, 0, 0),
            obs(vec![row(0, "api", "online"), row(1, "worker", "online")]),
        ),
        (
            at(4, 1, 0),
            obs(vec![row(0, "api", "errored"), row(1, "worker", "online")]),
        ),
        (at(4, 3, 0), obs(vec![row(0, "api", "online")])), // worker vanished
        (
            at(4, 4, 30),
            obs(vec![row(0, "api", "online"), row(1, "worker", "online")]),
        ),
        (
            at(4, 5, 0),
            obs(vec![row(0, "api", "stopped"), row(1, "worker", "online")]),
        ),
    ]));
    let api = inc.availability.get("api").unwrap();
    let worker = inc.availability.get("worker").unwrap();
    assert_eq!(api.outages.len(), 2);
    // api: 04:01-04:03 closed, 04:05 still open at the last event (04:05) -> 2 minutes.
    assert_eq!(api.downtime_ms(at(4, 5, 0), None), 120_000);
    assert_eq!(api.up, Some(false));
    assert_eq!(worker.downtime_ms(at(4, 5, 0), None), 90_000);
    let lines: Vec<&str> = inc.timeline.iter().map(|t| &*t.text).collect();
    assert!(
        lines.contains(&"worker is DOWN") && lines.contains(&"worker is UP"),
        "{lines:?}"
    );
}

#[test]
fn an_app_is_down_while_its_health_fails_even_with_processes_online() {
    let h = |up: bool| {
        Event::HealthResult(HealthResult {
            url: "https://flyer-crawler.projectium.com/api/health/ready".into(),
            app: "flyer-crawler".into(),
            env: "production".into(),
            status_code: Some(if up { 200 } else { 503 }),
            verdict: if up {
                pm2_incident::health::Verdict::Healthy
            } else {
                pm2_incident::health::Verdict::Degraded { failing: vec![] }
            },
            up,
            latency_ms: Some(5),
        })
    };
    let mut opened = sample::every_kind().remove(0);
    if let Event::IncidentOpened(o) = &mut opened {
        o.inventory = sample::inventory();
    }
    let prod = vec![
        row(0, "flyer-crawler-api", "online"),
        row(1, "flyer-crawler-worker", "online"),
        row(2, "flyer-crawler-analytics-worker", "online"),
    ];
    let inc = fold(&entries(vec![
        (at(4, 0, 0), opened),
        (at(4, 0, 1), obs(prod.clone())),
        (at(4, 0, 2), h(false)),
        (at(4, 2, 2), h(true)),
        (at(4, 3, 0), obs(prod[..2].to_vec())), // a process of the app is missing
        (at(4, 3, 30), obs(prod)),
    ]));
    let app = inc.availability.get("flyer-crawler (production)").unwrap();
    assert_eq!(app.outages.len(), 2);
    assert_eq!(app.downtime_ms(at(4, 10, 0), None), 150_000);
    // stock-alert-* matched nothing in any observation: it is down the whole time.
    let stock = inc.availability.get("stock-alert (production)").unwrap();
    assert_eq!(stock.up, Some(false));
}

#[test]
fn milestones_keep_the_first_occurrence_at_the_time_it_happened() {
    let m = |k, when| {
        Event::Milestone(MilestoneReached {
            milestone: k,
            at: when,
            source: String::new(),
        })
    };
    let inc = fold(&entries(vec![
        (at(4, 10, 0), m(Milestone::Detected, None)),
        (at(4, 11, 0), m(Milestone::ImpactStarted, Some(at(4, 2, 0)))),
        (at(4, 12, 0), m(Milestone::Detected, None)),
    ]));
    assert_eq!(inc.milestones[&Milestone::Detected], at(4, 10, 0));
    assert_eq!(inc.milestones[&Milestone::ImpactStarted], at(4, 2, 0));
}

#[test]
fn output_is_bounded_per_command_and_the_overflow_counted() {
    let start = Event::CommandStarted(CommandStarted {
        cmd_id: 7,
        text: "pm2 logs --lines 5000 --nostream".into(),
        dir: None,
        guard: GuardVerdict {
            class: pm2_incident::guard::Class::Safe,
            reason: String::new(),
        },
        confirmed_by: None,
    });
    let lines = |n| {
        Event::OutputLines(OutputLines {
            cmd_id: 7,
            stream: Stream::Stdout,
            lines: vec!["l".to_string(); n],
        })
    };
    let fin = Event::CommandFinished(CommandFinished {
        cmd_id: 7,
        exit_code: Some(0),
        signal: None,
        duration_ms: 10,
        output_lines_dropped: 40, // dropped by the writer's budget before journaling
        timed_out: false,
    });
    let inc = fold(&entries(vec![
        (at(4, 0, 0), start),
        (at(4, 0, 1), lines(700)),
        (at(4, 0, 2), lines(700)),
        (at(4, 0, 3), fin),
    ]));
    let c = inc.command(7).unwrap();
    assert_eq!(c.output.len(), OUTPUT_LINE_LIMIT);
    assert_eq!(c.output_dropped, 1400 - OUTPUT_LINE_LIMIT as u64 + 40);
    assert_eq!(c.finished.as_ref().unwrap().1.exit_code, Some(0));
}

#[test]
fn events_in_odd_orders_are_accepted() {
    // Output and finish for a command whose start was lost, a step completed never entered,
    // a message sent that was never drafted, and unknown kinds: no panic, sensible state.
    let evs = vec![
        Event::OutputLines(OutputLines {
            cmd_id: 9,
            stream: Stream::Stderr,
            lines: vec!["x".into()],
        }),
        Event::CommandFinished(CommandFinished {
            cmd_id: 9,
            exit_code: None,
            signal: Some(9),
            duration_ms: 1,
            output_lines_dropped: 0,
            timed_out: false,
        }),
        Event::StepCompleted(StepRef {
            step: "4.1".into(),
            title: String::new(),
        }),
        Event::CommSent(CommSent {
            comm_id: 3,
            channel: "#incidents".into(),
            by: String::new(),
        }),
        Event::Unknown(UnknownEvent {
            kind: "future".into(),
            fields: Default::default(),
        }),
    ];
    let inc = fold(&entries(
        evs.into_iter().map(|e| (at(4, 0, 0), e)).collect(),
    ));
    assert_eq!(inc.events, 5);
    assert_eq!(inc.unknown_events, 1);
    assert!(inc.commands.is_empty());
    assert_eq!(inc.steps[0].completed_at, Some(at(4, 0, 0)));
    let md = pm2_incident::incident::report::render(&inc);
    assert!(md.contains("# Incident Report: (unknown incident)"));
}

#[test]
fn apply_one_by_one_equals_fold_and_replay_seeks_to_any_event() {
    // A long journal: the runbook incident padded with observations, output and notes.
    let mut evs: Vec<(Ts, Event)> = sample::runbook_incident();
    let base = at(5, 0, 0);
    for i in 0..3000i64 {
        let ev = match i % 4 {
            0 => obs(vec![row(
                0,
                "flyer-crawler-api",
                if i % 8 == 0 { "errored" } else { "online" },
            )]),
            1 => Event::Note(Note {
                author: "a".into(),
                text: format!("n{i}"),
            }),
            2 => Event::CommandStarted(CommandStarted {
                cmd_id: 100 + i as u64,
                text: format!("pm2 show app-{i}"),
                dir: None,
                guard: GuardVerdict {
                    class: pm2_incident::guard::Class::Safe,
                    reason: String::new(),
                },
                confirmed_by: None,
            }),
            _ => Event::OutputLines(OutputLines {
                cmd_id: 99 + i as u64,
                stream: Stream::Stdout,
                lines: vec![format!("o{i}")],
            }),
        };
        evs.push((base + Duration::seconds(i), ev));
    }
    let es = entries(evs);
    let mut inc = Incident::default();
    for e in &es {
        inc.apply(e);
    }
    assert_eq!(inc, fold(&es));
    // Every checkpoint spacing gives the same states (1: a snapshot per event; larger than
    // the journal: no snapshot but the start).
    for every in [1, 2, 7, 128, 256, 1000, es.len() + 1] {
        seek_matches_fold(&es, Replay::new(es.to_vec(), every), every);
    }
    // A snapshot budget: the spacing doubles (and snapshots are dropped) as the journal grows,
    // and every state is still the full fold's, through the builder or grown event by event.
    for (every, budget) in [(1, 2), (1, 5), (3, 4), (64, 3)] {
        let replay = Replay::built(es.to_vec(), Builder::new(every).max_snapshots(budget));
        assert!(
            replay.snapshots() <= budget,
            "every {every}, budget {budget}"
        );
        assert!(replay.every() > every, "the spacing grew past {every}");
        assert_eq!(replay.snapshots(), es.len() / replay.every() + 1);
        seek_matches_fold(&es, replay, every);
        let mut grown = Replay::built(Vec::new(), Builder::new(every).max_snapshots(budget));
        for e in &es {
            grown.push(e.clone());
        }
        assert!(grown.snapshots() <= budget);
        seek_matches_fold(&es, grown, every);
    }
}

fn seek_matches_fold(es: &[pm2_incident::incident::Entry], replay: Replay, every: usize) {
    let mut rng = 0x9e3779b97f4a7c15u64;
    let mut points = vec![0, 1, every - 1, every, every + 1, es.len() - 1, es.len()];
    let now = replay.every(); // the spacing after any doubling
    points.extend([now - 1, now, now + 1, 2 * now + 1]);
    for _ in 0..25 {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        points.push((rng % es.len() as u64) as usize);
    }
    let mut cursor = Cursor::default();
    for n in points {
        let n = n.min(es.len());
        assert_eq!(
            replay.state_at(n),
            fold(&es[..n]),
            "every {every}: state after {n} events"
        );
        // Scrubbing: jump there, then step forward and back one event at a time.
        replay.seek(&mut cursor, n);
        assert_eq!(cursor.state(), &fold(&es[..n]), "every {every}");
        replay.seek(&mut cursor, n + 1);
        assert_eq!(
            cursor.state(),
            &fold(&es[..(n + 1).min(es.len())]),
            "every {every}"
        );
        replay.seek(&mut cursor, n.saturating_sub(1));
        assert_eq!(
            cursor.state(),
            &fold(&es[..n.saturating_sub(1)]),
            "every {every}"
        );
    }
}
