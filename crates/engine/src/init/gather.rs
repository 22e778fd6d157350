//! What `init` reads, wherever the server is: PM2's live and saved lists, the ecosystem files
//! next to the apps, each port's health endpoint and the host's name, gathered into facts for
//! [`super::propose`]. The same steps run on this machine ([`Local`]) or over ssh
//! (`super::remote::Remote`); only the readers differ. Nothing here changes the server.
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::propose::{Fact, FactSource, Host, Probe};
use super::read::Pm2Read;
use crate::pm2::Pm2Home;

/// Where `init` reads from. Every method is read-only.
pub trait Server {
    /// PM2's live list (rpc, never the CLI), the saved list, and notes.
    fn pm2(&self) -> Pm2Read;
    /// The ecosystem files to read: the ones given, then those found in `dirs`, each as its
    /// canonical path, once; and notes about given files that are not there.
    fn ecosystem_files(&self, given: &[PathBuf], dirs: &[String]) -> (Vec<PathBuf>, Vec<String>);
    /// The apps a file declares (its allow-listed fields only).
    fn read_ecosystem(&self, file: &Path) -> Result<Vec<Fact>, String>;
    /// The health endpoint of each port, as seen on the server.
    fn probe_ports(&self, ports: &[u16]) -> Vec<Probe>;
    fn host(&self) -> Host;
}

/// Everything read, for `propose` and the summary.
#[derive(Debug, Clone)]
pub struct Gathered {
    pub facts: Vec<Fact>,
    pub probes: Vec<Probe>,
    pub notes: Vec<String>,
    pub host: Host,
}

/// Read the server: PM2 first, then the ecosystem files its apps point at, then the ports
/// they declare. `given`: ecosystem files named on the command line (read first).
pub fn gather(server: &dyn Server, given: &[PathBuf]) -> Gathered {
    let pm2 = server.pm2();
    let mut notes = pm2.notes.clone();
    let mut facts: Vec<Fact> = Vec::new();
    let live_names: Vec<String> = pm2.live.iter().flatten().map(|l| l.name.clone()).collect();
    for l in pm2.live.iter().flatten() {
        facts.push(Fact {
            launch: l.clone(),
            source: FactSource::Live,
        });
    }
    if let Some((path, saved)) = &pm2.saved {
        let mut missing: Vec<&str> = Vec::new();
        for n in saved.iter().map(|l| l.name.as_str()) {
            if !live_names.iter().any(|l| l == n) && !missing.contains(&n) {
                missing.push(n);
            }
        }
        if !missing.is_empty() {
            notes.push(format!(
                "from {}: {} (saved, not running)",
                path.display(),
                missing.join(", ")
            ));
        }
        for l in saved {
            facts.push(Fact {
                launch: l.clone(),
                source: FactSource::Saved,
            });
        }
    }
    // Ecosystem files sit next to the apps: in their working directory or their
    // script's (PM2 records the directory `pm2 start` ran in as the cwd).
    let mut dirs: Vec<String> = facts
        .iter()
        .flat_map(|f| {
            let script_dir = f
                .launch
                .script
                .as_deref()
                .and_then(|s| Path::new(s).parent().map(|d| d.display().to_string()));
            f.launch.cwd.clone().into_iter().chain(script_dir)
        })
        .collect();
    dirs.sort();
    dirs.dedup();
    let (files, file_notes) = server.ecosystem_files(given, &dirs);
    notes.extend(file_notes);
    for f in &files {
        match server.read_ecosystem(f) {
            Ok(apps) => facts.extend(apps),
            Err(e) => notes.push(format!("ecosystem file skipped: {e}")),
        }
    }
    let mut ports: Vec<u16> = facts.iter().filter_map(|f| f.launch.port).collect();
    ports.sort();
    ports.dedup();
    let probes = if facts.is_empty() {
        vec![]
    } else {
        server.probe_ports(&ports)
    };
    Gathered {
        facts,
        probes,
        notes,
        host: server.host(),
    }
}

/// This machine: `$PM2_HOME`, the files here, Node here, ports on 127.0.0.1.
pub struct Local {
    pub home: Pm2Home,
    pub node: PathBuf,
    pub probe_timeout: Duration,
}

impl Server for Local {
    fn pm2(&self) -> Pm2Read {
        super::read::read_pm2(&self.home)
    }

    fn ecosystem_files(&self, given: &[PathBuf], dirs: &[String]) -> (Vec<PathBuf>, Vec<String>) {
        let mut out: Vec<PathBuf> = Vec::new();
        let mut notes = Vec::new();
        let found = super::read::ecosystem_candidates(dirs);
        for f in given.iter().chain(&found) {
            match std::fs::canonicalize(f) {
                Ok(c) if !out.contains(&c) => out.push(c),
                Ok(_) => {}
                Err(e) => notes.push(format!("ecosystem file skipped: {}: {e}", f.display())),
            }
        }
        (out, notes)
    }

    fn read_ecosystem(&self, file: &Path) -> Result<Vec<Fact>, String> {
        super::read::read_ecosystem(file, &self.node, Duration::from_secs(10))
    }

    fn probe_ports(&self, ports: &[u16]) -> Vec<Probe> {
        super::probe::probe_ports(ports, self.probe_timeout)
    }

    fn host(&self) -> Host {
        let hostname = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .or_else(|_| std::fs::read_to_string("/etc/hostname"))
            .map(|s| s.trim().to_string())
            .ok()
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "localhost".into());
        let user = std::env::var("USER")
            .or_else(|_| std::env::var("LOGNAME"))
            .unwrap_or_else(|_| "root".into());
        Host { hostname, user }
    }
}
