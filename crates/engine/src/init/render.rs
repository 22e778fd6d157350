//! A proposal as an inventory file (with comments saying where each value came
//! from) and as the summary the responder reviews. Pure.
use std::fmt::Write as _;

use super::propose::{Proposal, ProposedDeployment};
use crate::runbook::Environment;

/// A TOML basic string.
fn q(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

fn sources(d: &ProposedDeployment) -> String {
    let mut all: Vec<String> = d
        .processes
        .iter()
        .flat_map(|p| p.sources.iter().map(|s| s.label()))
        .collect();
    all.sort();
    all.dedup();
    all.join(", ")
}

/// Used when no ecosystem file was found: it must be edited before `pm2 start`.
pub const CONFIG_PLACEHOLDER: &str = "ecosystem.config.js";

/// The inventory file: header, apps, deployments, then the restore order.
pub fn toml(p: &Proposal, generated_at: &str) -> String {
    let mut o = String::new();
    header(&mut o, p, generated_at);
    for a in &p.apps {
        let _ = writeln!(o);
        let _ = writeln!(o, "[[app]]");
        let _ = writeln!(o, "# From the process names.");
        let _ = writeln!(o, "id = {}", q(&a.id));
        let _ = writeln!(o, "name = {}", q(&a.name));
    }
    for d in &p.deployments {
        deployment(&mut o, d);
    }
    restore_order(&mut o, p);
    o
}

/// Where the file came from, and the host's own settings.
fn header(o: &mut String, p: &Proposal, generated_at: &str) {
    let _ = writeln!(
        o,
        "# PM2 inventory of this server, written by `pm2-incident init` at {generated_at}."
    );
    let _ = writeln!(
        o,
        "# Read from PM2 without changing it; review it, then check: pm2-incident runbook check --inventory <this file>"
    );
    let _ = writeln!(o);
    let _ = writeln!(o, "# This host's name.");
    let _ = writeln!(o, "site = {}", q(&p.site));
    let _ = writeln!(o, "# The user running init, on this host.");
    let _ = writeln!(o, "ssh_target = {}", q(&p.ssh_target));
    let _ = writeln!(
        o,
        "# GUESS: the unit `pm2 startup` creates for this user; check with `systemctl list-units 'pm2-*'`."
    );
    let _ = writeln!(o, "pm2_service = {}", q(&p.pm2_service));
}

/// One `[[deployment]]` table, each value with the comment saying where it came from.
fn deployment(o: &mut String, d: &ProposedDeployment) {
    let _ = writeln!(o);
    let _ = writeln!(o, "[[deployment]]");
    let _ = writeln!(o, "# Processes from: {}.", sources(d));
    let _ = writeln!(o, "id = {}", q(&d.id));
    let _ = writeln!(o, "app = {}", q(&d.app));
    let _ = writeln!(o, "# Environment: {}.", d.environment_reason);
    let _ = writeln!(o, "environment = {}", q(d.environment.as_str()));
    processes(o, d);
    config(o, d);
    let _ = writeln!(
        o,
        "# The processes' working directory (pm_cwd) or the ecosystem file's."
    );
    let _ = writeln!(o, "dir = {}", q(&d.dir));
    let _ = writeln!(
        o,
        "# Public URL unknown to init (add one if NGINX serves this app): public_url = \"https://…\""
    );
    health(o, d);
}

/// `processes`, a comment per process (instances, mode, port), and `cluster` for
/// the processes PM2 runs as clusters.
fn processes(o: &mut String, d: &ProposedDeployment) {
    let names: Vec<String> = d.processes.iter().map(|p| q(&p.name)).collect();
    for p in &d.processes {
        let mut what = vec![format!("{} instance(s)", p.instances)];
        if let Some(m) = &p.exec_mode {
            what.push(format!("{m} mode"));
        }
        match p.port {
            Some(port) => what.push(format!("port {port} from its env")),
            None => what.push("no port in its env".into()),
        }
        let _ = writeln!(o, "#   {}: {}", p.name, what.join(", "));
    }
    let _ = writeln!(o, "processes = [{}]", names.join(", "));
    let cluster: Vec<String> = d
        .processes
        .iter()
        .filter(|p| {
            p.instances > 1
                && !p
                    .exec_mode
                    .as_deref()
                    .is_some_and(|m| m.starts_with("fork"))
        })
        .map(|p| format!("{} = {}", q(&p.name), p.instances))
        .collect();
    if !cluster.is_empty() {
        let _ = writeln!(o, "# Cluster mode, instances as PM2 runs them.");
        let _ = writeln!(o, "cluster = {{ {} }}", cluster.join(", "));
    }
}

/// `config`: the ecosystem file found, or the placeholder flagged for editing.
fn config(o: &mut String, d: &ProposedDeployment) {
    match &d.config {
        Some(c) => {
            let _ = writeln!(o, "# The ecosystem file that declares them.");
            let _ = writeln!(o, "config = {}", q(c));
        }
        None => {
            let _ = writeln!(
                o,
                "# NOT FOUND: no ecosystem file declares these processes. EDIT before using `pm2 start` from the runbook."
            );
            let _ = writeln!(o, "config = {}", q(CONFIG_PLACEHOLDER));
        }
    }
}

/// The health endpoint init probed, or a comment saying why there is none.
fn health(o: &mut String, d: &ProposedDeployment) {
    match (&d.local_url, &d.probe) {
        (Some(url), Some(pr)) => {
            let _ = writeln!(
                o,
                "# Probed at init: GET {url}{} answered {} ({} format).",
                pr.path,
                pr.http_status,
                pr.format.as_str()
            );
            let _ = writeln!(o, "local_url = {}", q(url));
            let _ = writeln!(o, "ready_path = {}", q(&pr.path));
            let _ = writeln!(o, "health_format = {}", q(pr.format.as_str()));
        }
        _ => {
            let why = if d.silent_ports.is_empty() {
                "no process has a port in its env".to_string()
            } else {
                format!(
                    "port(s) {} answered no health path",
                    d.silent_ports
                        .iter()
                        .map(|p| p.to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            };
            let _ = writeln!(o, "# No health endpoint: {why}.");
        }
    }
}

/// `[[restore]]` entries: production first, then test; by deployment, then name.
fn restore_order(o: &mut String, p: &Proposal) {
    let _ = writeln!(o);
    let _ = writeln!(
        o,
        "# Restore order proposed by init: production first, then test; by deployment, then name."
    );
    for d in &p.deployments {
        for pr in &d.processes {
            let _ = writeln!(o, "[[restore]]");
            let _ = writeln!(o, "process = {}", q(&pr.name));
            let why = match d.environment {
                Environment::Production => format!("{} (production)", d.id),
                Environment::Test => format!("{} (test)", d.id),
            };
            let _ = writeln!(o, "rationale = {}", q(&why));
            let _ = writeln!(o);
        }
    }
}

/// What the responder reviews before the file is written.
pub fn summary(p: &Proposal, notes: &[String]) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "Proposed inventory for {} ({} deployment(s), restore order):",
        p.site,
        p.deployments.len()
    );
    for (i, d) in p.deployments.iter().enumerate() {
        let _ = writeln!(
            o,
            "{:>2}. {} — {} ({}), dir {}",
            i + 1,
            d.id,
            d.environment.as_str(),
            d.environment_reason,
            if d.dir.is_empty() {
                "(unknown)"
            } else {
                &d.dir
            }
        );
        for pr in &d.processes {
            let inst = if pr.instances > 1 {
                format!(" x{}", pr.instances)
            } else {
                String::new()
            };
            let port = pr.port.map(|p| format!(" port {p}")).unwrap_or_default();
            let _ = writeln!(o, "      {}{inst}{port}", pr.name);
        }
        match &d.config {
            Some(c) => {
                let _ = writeln!(o, "      config {c}");
            }
            None => {
                let _ = writeln!(
                    o,
                    "      config NOT FOUND (placeholder {CONFIG_PLACEHOLDER}: edit it)"
                );
            }
        }
        match (&d.local_url, &d.probe) {
            (Some(u), Some(pr)) => {
                let _ = writeln!(o, "      health {u}{} ({})", pr.path, pr.format.as_str());
            }
            _ => {
                let _ = writeln!(o, "      health: none found");
            }
        }
    }
    for n in notes {
        let _ = writeln!(o, "note: {n}");
    }
    o
}
