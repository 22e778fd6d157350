//! What was observed of PM2 and the apps: process lists, the daemon's state, PM2 bus events
//! and health checks. Process lists and health results also move each app's availability.
use super::{suffix, Incident, Timed};
use crate::incident::event::*;

impl Incident {
    pub(super) fn pm2_observation(&mut self, ts: Ts, seq: u64, obs: &Observation) {
        self.observations += 1;
        self.observed_at = Some(ts);
        self.processes.clone_from(&obs.processes);
        let online = obs.processes.iter().filter(|p| p.is_online()).count();
        self.line(
            ts,
            seq,
            format!(
                "PM2 observation: {online}/{} processes online",
                obs.processes.len()
            ),
        );
        let changes = self.availability.observe_processes(ts, &obs.processes);
        self.availability_lines(ts, seq, changes);
    }

    pub(super) fn daemon_state(&mut self, ts: Ts, seq: u64, d: &DaemonState) {
        let state = if d.alive { "alive" } else { "NOT RESPONDING" };
        let detail = suffix(&d.detail);
        self.line(ts, seq, format!("PM2 daemon {state}{detail}"));
        self.daemon = Some(Timed {
            at: ts,
            value: d.clone(),
        });
    }

    pub(super) fn pm2_event(&mut self, ts: Ts, seq: u64, ev: &Pm2Event) {
        self.line(
            ts,
            seq,
            format!(
                "PM2 event: {} {}{}",
                ev.process,
                ev.event,
                suffix(&ev.detail)
            ),
        );
        self.pm2_events.push(Timed {
            at: ts,
            value: ev.clone(),
        });
    }

    pub(super) fn health_result(&mut self, ts: Ts, seq: u64, h: &HealthResult) {
        let label = h.verdict.phrase();
        let verdict = match h.status_code {
            Some(c) if !label.contains(&c.to_string()) => format!("{label} (HTTP {c})"),
            _ => label,
        };
        let line = format!("Health {} ({}): {verdict} [{}]", h.app, h.env, h.url);
        self.line(ts, seq, line);
        let changes = self.availability.observe_health(ts, h);
        self.availability_lines(ts, seq, changes);
        self.health.insert(
            h.url.clone(),
            Timed {
                at: ts,
                value: h.clone(),
            },
        );
    }

    fn availability_lines(&mut self, ts: Ts, seq: u64, changes: Vec<(String, bool)>) {
        for (app, up) in changes {
            let state = if up { "UP" } else { "DOWN" };
            self.line(ts, seq, format!("{app} is {state}"));
        }
    }
}
