//! A `drill --sandbox` PM2 built by a test: torn down by its home however the test ends
//! (a failed assertion included), and helpers that read PM2's own state in that home.
#![allow(dead_code)]

use std::path::Path;
use std::time::{Duration, Instant};

use pm2_incident::drill::sandbox::{processes_of_home, Sandbox};
use pm2_incident::drill::Scenario;
use pm2_incident::pm2::{Process, ProcessStatus};
use pm2_incident::runbook::Runbook;

use super::pm2_fixture::pm2_bin;

/// The sandbox of one test; dropping it ends every process of its home and removes it.
pub struct Sbx(pub Option<Sandbox>);

impl Sbx {
    /// Created, started and its past faults injected, for scenario `s` on `rb`'s inventory.
    pub fn up(rb: &Runbook, s: &Scenario, base: &Path) -> Sbx {
        let sb = Sbx(Some(
            Sandbox::create(&rb.inventory, s, base, &pm2_bin()).expect("sandbox created"),
        ));
        sb.get().start().expect("sandbox started");
        sb.get().inject().expect("faults injected");
        sb
    }

    pub fn get(&self) -> &Sandbox {
        self.0.as_ref().expect("sandbox not torn down")
    }

    /// Tear down now; asserts nothing of the home is left.
    pub fn down(mut self) {
        let sb = self.0.take().unwrap();
        let (home, dir) = (sb.home.clone(), sb.dir.clone());
        sb.teardown().expect("teardown");
        assert!(
            processes_of_home(&home).is_empty(),
            "sandbox processes left"
        );
        assert!(!dir.exists(), "sandbox directory left: {}", dir.display());
    }

    /// Wait (generously) until PM2's list satisfies `pred`; returns it.
    pub fn wait_list(&self, what: &str, pred: impl Fn(&[Process]) -> bool) -> Vec<Process> {
        let until = Instant::now() + Duration::from_secs(180);
        loop {
            let l = self.get().jlist().expect("jlist");
            if pred(&l) {
                return l;
            }
            assert!(
                Instant::now() < until,
                "timed out waiting for {what}: {l:?}"
            );
            std::thread::sleep(Duration::from_millis(250));
        }
    }
}

impl Drop for Sbx {
    fn drop(&mut self) {
        if let Some(sb) = self.0.take() {
            let _ = sb.teardown();
        }
    }
}

/// The instances PM2 lists under `name`.
pub fn named<'a>(l: &'a [Process], name: &str) -> Vec<&'a Process> {
    l.iter().filter(|p| p.name == name).collect()
}

/// Every instance of `name` is in `status` (and there is at least one).
pub fn all_in(l: &[Process], name: &str, status: ProcessStatus) -> bool {
    let n = named(l, name);
    !n.is_empty() && n.iter().all(|p| p.status == status)
}

/// Running (a zombie is dead: it only waits for its parent to read its status).
pub fn alive(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .map(|st| {
            !st.lines()
                .any(|l| l.starts_with("State:") && l.contains("zombie"))
        })
        .unwrap_or(false)
}
