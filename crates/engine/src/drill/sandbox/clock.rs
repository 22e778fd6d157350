//! The faults a scenario times during the drill (`at` ≥ 0), injected by a thread at their
//! time from the drill's start. Stopping the clock (or dropping it) ends the thread before
//! the sandbox is torn down, so no fault lands on a home being removed.
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::inject::{Handle, Phase};
use super::plan::Plan;

/// One fault the clock came to.
#[derive(Debug, Clone, PartialEq)]
pub struct Applied {
    /// The scenario's time for it, ms from the drill's start.
    pub at_ms: u64,
    /// When it was injected, ms from the clock's start (never before `at_ms`).
    pub after_ms: u64,
    /// What it was (the briefing's words).
    pub what: String,
    /// Why it could not be injected.
    pub error: Option<String>,
}

/// The running clock of one sandbox drill.
#[derive(Debug)]
pub struct Clock {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<Vec<Applied>>>,
}

impl Clock {
    pub(super) fn start(h: Handle, plan: Plan) -> Clock {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = (!plan.during.is_empty()).then(|| {
            std::thread::spawn(move || {
                let t0 = Instant::now();
                let mut done = vec![];
                for t in &plan.during {
                    let due = t0 + Duration::from_millis(t.at_ms);
                    while Instant::now() < due {
                        if flag.load(Ordering::Relaxed) {
                            return done;
                        }
                        std::thread::sleep(Duration::from_millis(100));
                    }
                    let after_ms = u64::try_from(t0.elapsed().as_millis()).unwrap_or(u64::MAX);
                    let error = h.apply(&t.step, Phase::During).err().map(|e| e.to_string());
                    done.push(Applied {
                        at_ms: t.at_ms,
                        after_ms,
                        what: t.step.to_string(),
                        error,
                    });
                }
                done
            })
        });
        Clock { stop, thread }
    }

    /// Whether every fault has been come to.
    pub fn is_done(&self) -> bool {
        self.thread.as_ref().is_none_or(|t| t.is_finished())
    }

    /// Stop injecting; returns the faults come to so far.
    pub fn stop(mut self) -> Vec<Applied> {
        self.halt()
    }

    fn halt(&mut self) -> Vec<Applied> {
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
