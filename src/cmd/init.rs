//! `pm2-incident init [-o FILE] [--ecosystem F]... [--yes] [--host DEST]`: read this server, or
//! one over ssh (never changing it), propose an inventory, show it, and write it once confirmed.
use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::init::gather::{gather, Gathered, Local};
use crate::init::propose::propose;
use crate::init::remote::Remote;
use crate::init::render;
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
    /// Read this server over OpenSSH instead (user@host, host, an ~/.ssh/config alias):
    /// PM2 through the forwarded rpc.sock, ecosystem files by the server's Node, ports probed
    /// from the server's side. Default output: hosts/<DEST>.toml beside the user inventory
    #[arg(long = "host", value_name = "DEST")]
    pub host: Option<crate::remote::Dest>,
    /// PM2 home to read (default: $PM2_HOME, else ~/.pm2); with --host, the one on that server
    /// (default there: the login's $PM2_HOME, else $HOME/.pm2)
    #[arg(long, value_name = "DIR")]
    pub pm2_home: Option<PathBuf>,
}

/// Where to write without `-o`: the user's inventory, or for `--host` one file per server
/// beside it (`hosts/<dest>.toml`, ready for a `[[host]] inventory = "hosts/<dest>.toml"`).
fn default_output(host: Option<&crate::remote::Dest>) -> Option<PathBuf> {
    let user = crate::runbook::discover::user_path()?;
    Some(match host {
        None => user,
        Some(d) => {
            let safe: String = d
                .as_str()
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || "._-@".contains(c) {
                        c
                    } else {
                        '_'
                    }
                })
                .collect();
            user.parent()?.join("hosts").join(format!("{safe}.toml"))
        }
    })
}

pub fn run(args: &InitArgs) -> i32 {
    let Some(out) = args
        .output
        .clone()
        .or_else(|| default_output(args.host.as_ref()))
    else {
        eprintln!("pm2-incident init: no -o FILE and no $XDG_CONFIG_HOME or $HOME to write to");
        return 1;
    };
    let gathered = match gather_from(args) {
        Ok(g) => g,
        Err(e) => {
            eprintln!("pm2-incident init: {e}");
            return 1;
        }
    };
    let Gathered {
        facts,
        probes,
        mut notes,
        host,
    } = gathered;
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
    let proposal = propose(&facts, &probes, &host);
    let now = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string();
    let text = render::toml(&proposal, &now);
    print!("{}", render::summary(&proposal, &notes));

    // The proposal must load as an inventory before it is offered.
    if !validates(&text) {
        return 1;
    }
    if !args.yes && !confirmed(&out) {
        return 1;
    }
    write_and_say(&out, &text, args.host.as_ref())
}

/// What the server runs, saves and declares: over ssh with `--host`, else here.
fn gather_from(args: &InitArgs) -> Result<Gathered, String> {
    let probe_timeout = Duration::from_millis(args.probe_timeout_ms);
    match &args.host {
        Some(dest) => {
            // Evaluating an ecosystem file can take Node a while: a longer budget per command.
            let session = super::remote::connect(dest, 20_000).map_err(|e| e.to_string())?;
            let node = (args.node != Path::new("node")).then(|| args.node.display().to_string());
            let server = Remote::new(&session, args.pm2_home.clone(), node, probe_timeout, 5000);
            let g = gather(&server, &args.ecosystem);
            session.close();
            Ok(g)
        }
        None => {
            let home = match args.pm2_home.clone().map(Pm2Home::new) {
                Some(h) => h,
                None => Pm2Home::from_env(),
            }
            .map_err(|e| e.to_string())?;
            let server = Local {
                home,
                node: args.node.clone(),
                probe_timeout,
            };
            Ok(gather(&server, &args.ecosystem))
        }
    }
}

/// The proposal loads as an inventory beside the default procedure (errors printed if not).
fn validates(text: &str) -> bool {
    let Err(errors) = crate::runbook::Runbook::parse(
        crate::runbook::Source {
            name: crate::runbook::DEFAULT_PROCEDURE_NAME,
            text: crate::runbook::DEFAULT_PROCEDURE,
        },
        crate::runbook::Source {
            name: "proposed inventory",
            text,
        },
    ) else {
        return true;
    };
    for e in &errors {
        eprintln!("{e}");
    }
    eprintln!("pm2-incident init: the proposal does not validate; nothing written");
    false
}

/// The responder says yes on a terminal; anywhere else `--yes` is needed.
fn confirmed(out: &Path) -> bool {
    if !std::io::stdin().is_terminal() {
        eprintln!(
            "pm2-incident init: not a terminal; re-run with --yes to write {}",
            out.display()
        );
        return false;
    }
    print!("Write {}? [y/N] ", out.display());
    let _ = std::io::stdout().flush();
    let mut answer = String::new();
    let _ = std::io::stdin().lock().read_line(&mut answer);
    if !matches!(answer.trim(), "y" | "Y" | "yes") {
        println!("nothing written");
        return false;
    }
    true
}

/// Writes the inventory and says how to check and use it.
fn write_and_say(out: &Path, text: &str, host: Option<&crate::remote::Dest>) -> i32 {
    match write_new(out, text) {
        Ok(()) => {
            println!("wrote {}", out.display());
            println!(
                "check it: pm2-incident runbook check --inventory {}",
                out.display()
            );
            if let Some(d) = host {
                println!(
                    "use it: pm2-incident respond --host {d} --inventory {}",
                    out.display()
                );
                println!(
                    "in a fleet inventory: [[host]] dest = \"{d}\", inventory = \"{}\"",
                    out.display()
                );
            }
            0
        }
        Err(e) => {
            eprintln!("pm2-incident init: cannot write {}: {e}", out.display());
            1
        }
    }
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
