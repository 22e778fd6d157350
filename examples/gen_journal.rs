//! Writes the benchmark inputs (see `scripts/gen-journal`):
//!   gen_journal journal EVENTS OUT   — a journal in the tool's own format and chain
//!   gen_journal dump MEGABYTES OUT   — a raw `pm2 jlist` dump with env blobs
//! Files are created 0600 and never overwritten.
use pm2_incident::journal::synth::{write_jlist_dump, write_journal};
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(kind), Some(size), Some(out)) = (args.first(), args.get(1), args.get(2)) else {
        eprintln!("usage: gen_journal journal EVENTS OUT | gen_journal dump MEGABYTES OUT");
        return ExitCode::from(2);
    };
    let Ok(size) = size.replace('_', "").parse::<u64>() else {
        eprintln!("gen_journal: {size:?} is not a number");
        return ExitCode::from(2);
    };
    let file = match pm2_incident::safe_fs::create_new(std::path::Path::new(out), 0o600) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("gen_journal: {out}: {e}");
            return ExitCode::from(1);
        }
    };
    let res = match kind.as_str() {
        "journal" => {
            write_journal(file, size as usize).map(|b| format!("{size} events, {b} bytes"))
        }
        "dump" => write_jlist_dump(file, size * 1024 * 1024, 100)
            .map(|(p, b)| format!("{p} processes, {b} bytes")),
        _ => {
            eprintln!("gen_journal: unknown kind {kind:?} (journal or dump)");
            return ExitCode::from(2);
        }
    };
    match res {
        Ok(what) => {
            println!("{out}: {what}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("gen_journal: {out}: {e}");
            ExitCode::from(1)
        }
    }
}
