//! The faults a scenario times during the drill (`at` ≥ 0), injected by a thread at their
//! time from the drill's start. Stopping the clock (or dropping it) ends the thread before
//! the sandbox is torn down, so no fault lands on a home being removed.
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::inject::{Handle, Phase};
use super::plan::Plan;

/// The running clock of one sandbox drill.
#[derive(Debug)]
pub struct Clock {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<Vec<String>>>,
}

impl Clock {
    pub(super) fn start(h: Handle, plan: Plan) -> Clock {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = (!plan.during.is_empty()).then(|| {
            std::thread::spawn(move || {
                let t0 = Instant::now();
                let mut errors = vec![];
                for t in &plan.during {
                    let due = t0 + Duration::from_millis(t.at_ms);
                    while Instant::now() < due {
                        if flag.load(Ordering::Relaxed) {
                            return errors;
                        }
                        std::thread::sleep(Duration::from_millis(100));
                    }
                    if let Err(e) = h.apply(&t.step, Phase::During, &plan) {
                        errors.push(format!("T+{}s {}: {e}", t.at_ms / 1000, t.step));
                    }
                }
                errors
            })
        });
        Clock { stop, thread }
    }

    /// Stop injecting; returns the faults that could not be injected (with why).
    pub fn stop(mut self) -> Vec<String> {
        self.halt()
    }

    fn halt(&mut self) -> Vec<String> {
        self.stop.store(true, Ordering::Relaxed);
        self.thread
            .take()
            .and_then(|t| t.join().ok())
            .unwrap_or_default()
    }
}

impl Drop for Clock {
    fn drop(&mut self) {
        self.halt();
    }
}
