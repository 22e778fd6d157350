//! When is a new observation worth journaling? PM2 and health are polled every second or two;
//! recording only changes keeps a long incident's journal small. CPU, memory and latency jitter
//! are not changes; status, pid, restarts and membership are.
use super::event::{HealthResult, ProcessRow};

/// True when the process lists differ in anything a responder acts on.
pub fn processes_changed(before: &[ProcessRow], after: &[ProcessRow]) -> bool {
    let key = |r: &ProcessRow| {
        (
            r.pm_id,
            r.name.clone(),
            r.namespace.clone(),
            r.status.clone(),
            r.pid,
            r.restarts,
            r.unstable_restarts,
        )
    };
    let mut a: Vec<_> = before.iter().map(key).collect();
    let mut b: Vec<_> = after.iter().map(key).collect();
    a.sort();
    b.sort();
    a != b
}

/// True when a health check's outcome changed (not merely its latency).
pub fn health_changed(before: Option<&HealthResult>, after: &HealthResult) -> bool {
    match before {
        None => true,
        Some(b) => {
            b.up != after.up || b.status_code != after.status_code || b.verdict != after.verdict
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::incident::sample::row;

    #[test]
    fn jitter_is_not_a_change_but_status_pid_restarts_and_membership_are() {
        let a = vec![row(0, "api", "online"), row(1, "worker", "online")];
        let mut b = a.clone();
        b[0].cpu = 99.0;
        b[0].memory += 1;
        b.reverse();
        assert!(!processes_changed(&a, &b));
        let mut c = a.clone();
        c[1].restarts += 1;
        assert!(processes_changed(&a, &c));
        let mut d = a.clone();
        d[0].status = "errored".into();
        assert!(processes_changed(&a, &d));
        assert!(processes_changed(&a, &a[..1]));
    }

    #[test]
    fn health_latency_is_not_a_change() {
        let h = HealthResult {
            url: "u".into(),
            app: "a".into(),
            env: "e".into(),
            status_code: Some(200),
            verdict: crate::health::Verdict::Healthy,
            up: true,
            latency_ms: Some(5),
        };
        let slower = HealthResult {
            latency_ms: Some(500),
            ..h.clone()
        };
        assert!(!health_changed(Some(&h), &slower));
        assert!(health_changed(
            Some(&h),
            &HealthResult {
                status_code: Some(502),
                up: false,
                ..h.clone()
            }
        ));
        assert!(health_changed(None, &h));
    }
}
