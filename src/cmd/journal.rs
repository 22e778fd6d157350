//! Handlers for `pm2-incident verify FILE` and `pm2-incident report FILE [-o OUT.md]`.
use crate::incident::{fold, report};
use crate::journal::import::{load_any, Loaded};
use crate::journal::paths::create_private;
use std::io::Write;
use std::path::Path;

/// Prints the verification; exit 0 intact (a torn tail is reported but allowed), 1 tampered or
/// unreadable lines, 2 cannot read the file.
pub fn verify(path: &Path) -> i32 {
    match crate::journal::verify(path) {
        Ok(v) => {
            print!("{v}");
            if v.chain_ok() {
                0
            } else {
                1
            }
        }
        Err(e) => {
            eprintln!("pm2-incident verify: {e}");
            2
        }
    }
}

/// Renders the postmortem of a journal or a jlist dump to stdout or to `out` (created 0600).
pub fn report(path: &Path, out: Option<&Path>) -> i32 {
    let loaded = match load_any(path) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("pm2-incident report: {e}");
            return 2;
        }
    };
    if let Loaded::Journal(r) = &loaded {
        for p in &r.problems {
            eprintln!("pm2-incident report: warning: {}: {p}", path.display());
        }
        if let Some(t) = &r.torn_tail {
            eprintln!(
                "pm2-incident report: warning: {}: line {}: torn last line ignored",
                path.display(),
                t.line
            );
        }
    }
    let md = report::render(&fold(loaded.entries()));
    let written = match out {
        None => std::io::stdout()
            .write_all(md.as_bytes())
            .map_err(|e| format!("stdout: {e}")),
        Some(o) => write_private(path, o, md.as_bytes()),
    };
    match written {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("pm2-incident report: {e}");
            2
        }
    }
}

/// Writes `bytes` to `out` (0600) via a temp file and rename, so an existing report is replaced
/// whole; refuses to overwrite the journal it was made from.
fn write_private(input: &Path, out: &Path, bytes: &[u8]) -> Result<(), String> {
    if let (Ok(a), Ok(b)) = (input.canonicalize(), out.canonicalize()) {
        if a == b {
            return Err(format!(
                "{}: refusing to overwrite the journal with its report",
                out.display()
            ));
        }
    }
    let tmp = out.with_file_name(format!(
        ".{}.{}.tmp",
        out.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        std::process::id()
    ));
    let _ = std::fs::remove_file(&tmp);
    let res = create_private(&tmp)
        .and_then(|mut f| f.write_all(bytes).and_then(|_| f.sync_data()))
        .and_then(|_| std::fs::rename(&tmp, out));
    if let Err(e) = res {
        let _ = std::fs::remove_file(&tmp);
        return Err(format!("{}: {e}", out.display()));
    }
    Ok(())
}
