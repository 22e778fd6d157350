//! `pm2-incident completions SHELL` and `pm2-incident man [--dir DIR]`: generated from the
//! clap definitions, so they never drift from the real options.
use clap::CommandFactory;
use std::path::Path;

use super::cli::Cli;

pub const BIN: &str = "pm2-incident";

pub fn completions(shell: clap_complete::Shell) -> i32 {
    let mut cmd = Cli::command();
    clap_complete::generate(shell, &mut cmd, BIN, &mut std::io::stdout());
    0
}

/// One page on stdout, or with `dir` a page per (visible) subcommand written there.
pub fn man(dir: Option<&Path>) -> i32 {
    let cmd = Cli::command();
    let result = match dir {
        None => clap_mangen::Man::new(cmd).render(&mut std::io::stdout()),
        Some(d) => std::fs::create_dir_all(d).and_then(|()| clap_mangen::generate_to(cmd, d)),
    };
    match result {
        Ok(()) => 0,
        Err(e) => {
            let at = dir
                .map(|d| format!(" in {}", d.display()))
                .unwrap_or_default();
            eprintln!("pm2-incident: cannot write the man page{at}: {e}");
            1
        }
    }
}
