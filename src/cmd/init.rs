//! `pm2-incident init [-o FILE] [--ecosystem F]... [--yes]`: read this server (never
//! changing it), propose an inventory, show it, and write it once confirmed.
use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::init::propose::{propose, Fact, FactSource, Host};
use crate::init::{probe, read, render};
use crate::pm2::Pm2Home;

#[derive(clap::Args, Debug, Clone)]
pub struct InitArgs {
    /// Write the inventory here (default: $XDG_CONFIG_HOME/pm2-incident/inventory.toml)
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// An ecosystem file to read besides those found next to the apps (repeatable)
    #[arg(long = "ecosystem", value_name = "FILE")]
    pub ecosystem: Vec<PathBuf>,
    /// Write the proposal without asking
    #[arg(long)]
    pub yes: bool,
    /// Node.js used to read ecosystem files
    #[arg(long, value_name = "PATH", default_value = "node")]
    pub node: PathBuf,
    /// Per-request timeout of the health probes, in milliseconds
    #[arg(long, value_name = "MS", default_value_t = 800)]
    pub probe_timeout_ms: u64,
}

fn host() -> Host {
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

pub fn run(args: &InitArgs) -> i32 {
    let Some(out) = args
        .output
        .clone()
        .or_else(crate::runbook::discover::user_path)
    else {
        eprintln!("pm2-incident init: no -o FILE and no $XDG_CONFIG_HOME or $HOME to write to");
        return 1;
    };
    let home = match Pm2Home::from_env() {
        Ok(h) => h,
        Err(e) => {
            eprintln!("pm2-incident init: {e}");
            return 1;
        }
    };
    let pm2 = read::read_pm2(&home);
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
        let missing: Vec<&str> = saved
            .iter()
            .map(|l| l.name.as_str())
            .filter(|n| !live_names.iter().any(|l| l == n))
            .collect();
        if !missing.is_empty() {
            notes.push(format!(
                "from {}: {} (saved, not running)",
                path.display(),
                dedup(&missing).join(", ")
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
    let mut files = args.ecosystem.clone();
    files.extend(read::ecosystem_candidates(&dirs));
    let mut read_files: Vec<PathBuf> = Vec::new();
    for f in &files {
        let canon = std::fs::canonicalize(f).unwrap_or_else(|_| f.clone());
        if read_files.contains(&canon) {
            continue;
        }
        read_files.push(canon);
        match read::read_ecosystem(f, &args.node, Duration::from_secs(10)) {
            Ok(apps) => facts.extend(apps),
            Err(e) => notes.push(format!("ecosystem file skipped: {e}")),
        }
    }
    if facts.is_empty() {
        eprintln!(
            "pm2-incident init: PM2 lists no process, saves none, and no ecosystem file was given (--ecosystem FILE): nothing to describe"
        );
        return 4;
    }
    let skipped = crate::init::propose::declared_only(&facts);
    if !skipped.is_empty() {
        notes.push(format!(
            "declared in an ecosystem file but neither running nor saved (left out): {}",
            skipped.join(", ")
        ));
    }
    let mut ports: Vec<u16> = facts.iter().filter_map(|f| f.launch.port).collect();
    ports.sort();
    ports.dedup();
    let probes = probe::probe_ports(&ports, Duration::from_millis(args.probe_timeout_ms));
    let proposal = propose(&facts, &probes, &host());
    let now = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string();
    let text = render::toml(&proposal, &now);
    print!("{}", render::summary(&proposal, &notes));

    // The proposal must load as an inventory before it is offered.
    if let Err(errors) = crate::runbook::Runbook::parse(
        crate::runbook::Source {
            name: crate::runbook::DEFAULT_PROCEDURE_NAME,
            text: crate::runbook::DEFAULT_PROCEDURE,
        },
        crate::runbook::Source {
            name: "proposed inventory",
            text: &text,
        },
    ) {
        for e in &errors {
            eprintln!("{e}");
        }
        eprintln!("pm2-incident init: the proposal does not validate; nothing written");
        return 1;
    }
    if !args.yes {
        if !std::io::stdin().is_terminal() {
            eprintln!(
                "pm2-incident init: not a terminal; re-run with --yes to write {}",
                out.display()
            );
            return 1;
        }
        print!("Write {}? [y/N] ", out.display());
        let _ = std::io::stdout().flush();
        let mut answer = String::new();
        let _ = std::io::stdin().lock().read_line(&mut answer);
        if !matches!(answer.trim(), "y" | "Y" | "yes") {
            println!("nothing written");
            return 1;
        }
    }
    match write_new(&out, &text) {
        Ok(()) => {
            println!("wrote {}", out.display());
            println!(
                "check it: pm2-incident runbook check --inventory {}",
                out.display()
            );
            0
        }
        Err(e) => {
            eprintln!("pm2-incident init: cannot write {}: {e}", out.display());
            1
        }
    }
}

fn dedup<'a>(names: &[&'a str]) -> Vec<&'a str> {
    let mut out: Vec<&str> = Vec::new();
    for n in names {
        if !out.contains(n) {
            out.push(n);
        }
    }
    out
}

/// Write through a temporary file and rename, so a reader never sees half a file.
fn write_new(path: &Path, text: &str) -> std::io::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = path.with_extension("toml.tmp");
    std::fs::write(&tmp, text)?;
    std::fs::rename(&tmp, path)
}
