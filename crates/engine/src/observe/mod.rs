//! One look at the world: read PM2 (never spawning a daemon unless the CLI source was asked
//! for) while the health round runs. Used by `snapshot` and `init`-style one-shot commands;
//! the TUI's poller reads PM2 and health on their own threads through the same readers.
use crate::assess::Pm2View;
use crate::health::{HealthChecker, HealthResult};
use crate::pm2::source::{observe, SourceArgs};
use crate::pm2::Reading;
use crate::runbook::Runbook;

#[derive(Debug, Clone)]
pub struct Snapshot {
    pub pm2: Reading,
    /// `pm2.detail()`, kept so the assessment's view can borrow it.
    pub pm2_detail: String,
    pub health: Vec<HealthResult>,
    /// Why the health round could not run, if it could not.
    pub health_error: Option<String>,
}

impl Snapshot {
    pub fn pm2_view(&self) -> Pm2View<'_> {
        Pm2View::from_parts(
            self.pm2.processes.as_deref(),
            Some(self.pm2.kind()),
            &self.pm2_detail,
        )
    }
}

/// Read PM2 on a thread while the health round runs on this one.
pub fn gather(rb: &Runbook, source: &SourceArgs) -> Snapshot {
    let targets = rb.inventory.health_targets();
    std::thread::scope(|s| {
        let pm2 = s.spawn(|| observe(source));
        let (health, health_error) = match HealthChecker::from_inventory(&rb.inventory)
            .and_then(|c| c.check_all_blocking(&targets))
        {
            Ok(h) => (h, None),
            Err(e) => (vec![], Some(e.to_string())),
        };
        let pm2 = pm2.join().unwrap_or_else(|_| {
            Reading::failed(source.source, "reading PM2 failed unexpectedly".into())
        });
        Snapshot {
            pm2_detail: pm2.detail(),
            pm2,
            health,
            health_error,
        }
    })
}
