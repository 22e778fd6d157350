//! Synthetic inputs at scale, for benchmarks and tests (`scripts/gen-journal`): a journal in the
//! tool's own line format and hash chain shaped like a long degraded period (the runbook's
//! incident, then per-second PM2 observations, health checks, commands with output, notes and
//! step changes), and a raw `pm2 jlist` dump with env blobs. Both are written as they are
//! generated, so memory stays flat at any size. Nothing here is read by the tool itself.
use super::line::{encode, hash, GENESIS};
use crate::incident::event::*;
use crate::incident::sample::{row, runbook_incident};
use chrono::Duration;
use std::io::{self, Write};

const NAMES: [&str; 8] = [
    "flyer-crawler-api",
    "flyer-crawler-worker",
    "flyer-crawler-analytics-worker",
    "stock-alert-api",
    "stock-alert-scheduler",
    "flyer-crawler-api-test",
    "flyer-crawler-worker-test",
    "flyer-crawler-analytics-worker-test",
];

const STEPS: [(&str, &str); 4] = [
    ("2.1", "Gather information"),
    ("2.3", "Classify severity"),
    ("5.D", "All processes missing"),
    ("6.1", "Verify recovery"),
];

/// The `i`-th event of the repeating part (after the runbook's incident). Command ids start at
/// `first_cmd` so they never collide with the opening's.
pub fn cycle_event(i: usize, first_cmd: u64) -> Event {
    let cmd = first_cmd + (i / 10) as u64;
    if i % 997 == 996 {
        let (step, title) = STEPS[(i / 997) % STEPS.len()];
        return Event::StepEntered(StepRef {
            step: step.into(),
            title: title.into(),
        });
    }
    match i % 10 {
        0 => Event::Pm2Observation(Observation {
            source: "rpc".into(),
            processes: NAMES
                .iter()
                .enumerate()
                .map(|(k, n)| {
                    let status = if (i / 10 + k).is_multiple_of(7) {
                        "errored"
                    } else {
                        "online"
                    };
                    row(k as u32, n, status)
                })
                .collect(),
        }),
        1 => Event::HealthResult(HealthResult {
            url: "https://flyer-crawler.projectium.com/api/health/ready".into(),
            app: "flyer-crawler".into(),
            env: "production".into(),
            status_code: Some(if i % 20 == 1 { 502 } else { 200 }),
            verdict: if i % 20 == 1 {
                crate::health::Verdict::BadGateway { code: 502 }
            } else {
                crate::health::Verdict::Healthy
            },
            up: i % 20 != 1,
            latency_ms: Some(40 + (i % 13) as u64),
        }),
        2 => Event::CommandStarted(CommandStarted {
            cmd_id: cmd,
            text: "pm2 logs flyer-crawler-api --lines 20 --nostream".into(),
            dir: Some("/var/www/flyer-crawler.projectium.com".into()),
            guard: GuardVerdict {
                class: crate::guard::Class::Safe,
                reason: "read-only".into(),
            },
            confirmed_by: None,
        }),
        3..=7 => Event::OutputLines(OutputLines {
            cmd_id: cmd,
            stream: Stream::Stdout,
            lines: vec![format!(
                "0|flyer-cr | 2026-02-17T04:12:00: GET /api/health/ready 502 3.1 ms - {i}"
            )],
        }),
        8 => Event::CommandFinished(CommandFinished {
            cmd_id: cmd,
            exit_code: Some(0),
            signal: None,
            duration_ms: 412,
            output_lines_dropped: 0,
            timed_out: false,
        }),
        _ => Event::Note(Note {
            author: "alice".into(),
            text: format!("checked item {i}"),
        }),
    }
}

/// The first `n` events of a synthetic journal: the runbook's incident (cut at `n`), then the
/// repeating part, one event every 250 ms after it.
pub fn events(n: usize) -> impl Iterator<Item = (Ts, Event)> {
    // The incident stays open: a long degraded period follows its opening.
    let opening: Vec<_> = runbook_incident()
        .into_iter()
        .filter(|(_, e)| !matches!(e, Event::IncidentClosed(_)))
        .collect();
    let end = opening.last().map(|(t, _)| *t).unwrap_or_default();
    let first_cmd = 1000;
    let k = opening.len().min(n);
    opening.into_iter().take(k).chain((0..n - k).map(move |i| {
        (
            end + Duration::milliseconds(250 * (i as i64 + 1)),
            cycle_event(i, first_cmd),
        )
    }))
}

/// Writes `n` events as journal lines with a valid chain. Returns the bytes written.
pub fn write_journal<W: Write>(w: W, n: usize) -> io::Result<u64> {
    let mut w = io::BufWriter::with_capacity(1 << 20, w);
    let mut prev = GENESIS.to_string();
    let mut bytes = 0u64;
    for (seq, (ts, event)) in events(n).enumerate() {
        let line = encode(seq as u64, ts, &prev, &event);
        prev = hash(line.as_bytes());
        w.write_all(line.as_bytes())?;
        w.write_all(b"\n")?;
        bytes += line.len() as u64 + 1;
    }
    w.flush()?;
    Ok(bytes)
}

/// Writes a `pm2 jlist`-shaped array of at least `target` bytes: every process carries
/// `env_vars` variables in `pm2_env.env` and again on `pm2_env` (as PM2 does), plus a canary
/// secret that must never surface. Returns (processes, bytes).
pub fn write_jlist_dump<W: Write>(w: W, target: u64, env_vars: usize) -> io::Result<(usize, u64)> {
    let mut w = io::BufWriter::with_capacity(1 << 20, w);
    let mut env = String::new();
    for i in 0..env_vars {
        env.push_str(&format!(r#""VAR_{i}":"value-{i}-{}","#, "x".repeat(60)));
    }
    env.push_str(r#""SECRET":"hunter2-canary""#);
    let mut bytes = 1u64;
    w.write_all(b"[")?;
    let mut i = 0usize;
    while bytes < target || i == 0 {
        let name = NAMES[i % NAMES.len()];
        let p = format!(
            r#"{sep}{{"pid":{pid},"name":"{name}-{i}","pm2_env":{{{env},"env":{{{env}}},"name":"{name}-{i}","namespace":"default","pm_id":{i},"status":"{status}","exec_mode":"fork_mode","restart_time":{i},"unstable_restarts":0,"pm_uptime":1795894251013,"created_at":1795894251000,"axm_monitor":{{"Heap Size":{{"value":"9.73","unit":"MiB"}}}}}},"pm_id":{i},"monit":{{"memory":56455168,"cpu":0.3}}}}"#,
            sep = if i == 0 { "" } else { "," },
            pid = 1000 + i,
            status = if i.is_multiple_of(5) {
                "errored"
            } else {
                "online"
            },
        );
        w.write_all(p.as_bytes())?;
        bytes += p.len() as u64;
        i += 1;
    }
    w.write_all(b"]\n")?;
    w.flush()?;
    Ok((i, bytes + 2))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_journal_reads_back_intact_and_complete() {
        let mut buf = Vec::new();
        let bytes = write_journal(&mut buf, 3000).unwrap();
        assert_eq!(bytes as usize, buf.len());
        let r = super::super::reader::parse(&buf);
        assert!(r.is_intact(), "{:?}", r.problems.first());
        assert_eq!(r.entries.len(), 3000);
        assert!(matches!(r.entries[0].event, Event::IncidentOpened(_)));
        assert!(r.entries.windows(2).all(|w| w[0].ts <= w[1].ts));
    }

    #[test]
    fn a_generated_dump_is_json_of_the_asked_size_with_the_canary() {
        let mut buf = Vec::new();
        let (procs, bytes) = write_jlist_dump(&mut buf, 100_000, 20).unwrap();
        assert_eq!(bytes as usize, buf.len());
        assert!(buf.len() >= 100_000);
        let v: serde_json::Value = serde_json::from_slice(&buf).unwrap();
        assert_eq!(v.as_array().unwrap().len(), procs);
        assert!(String::from_utf8_lossy(&buf).contains("hunter2-canary"));
    }
}
