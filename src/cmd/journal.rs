//! Handlers for `pm2-incident verify FILE` and `pm2-incident report FILE [-o OUT.md]`.
use crate::incident::{fold, report};
use crate::journal::import::load_any;
use crate::journal::paths::create_private;
use std::io::Write;
use std::path::Path;

/// Prints the verification; exit 0 intact (a torn tail is reported but allowed), 1 tampered or
/// unreadable lines, 2 cannot read the file.
pub fn verify(path: &Path, head: Option<&str>) -> i32 {
    if let Some(h) = head.filter(|h| !crate::journal::reader::is_sha256_hex(h)) {
        eprintln!(
            "pm2-incident verify: --head {:?}: want the 64 hex digits of the sha256 shown on exit",
            crate::sanitize::escape_line(h)
        );
        return 2;
    }
    match crate::journal::reader::verify_head(path, head) {
        Ok(v) => {
            print!("{v}");
            if v.chain_ok() {
                0
            } else {
                1
            }
        }
        Err(e) => {
            eprintln!(
                "pm2-incident verify: {}",
                crate::sanitize::escape_line(&e.to_string())
            );
            2
        }
    }
}

/// Renders the postmortem of a journal or a jlist dump to stdout or to `out` (created 0600).
/// A journal that fails verification is marked in the report's first lines and exits 1 unless
/// `allow_tampered`; the report of an intact journal starts with its head.
/// How many of a journal's problems `report` names on stderr.
const SHOWN_PROBLEMS: usize = 20;

pub fn report(path: &Path, out: Option<&Path>, allow_tampered: bool) -> i32 {
    let shown = crate::sanitize::escape_line(&path.display().to_string()).into_owned();
    let fail = |e: crate::journal::JournalError| {
        eprintln!(
            "pm2-incident report: {}",
            crate::sanitize::escape_line(&e.to_string())
        );
        2
    };
    // A journal is folded while it streams, its timeline spooled (memory bounded in its
    // length); a dump is one reading. The report is written out as it is rendered.
    let dump = match crate::journal::scan::is_jlist_dump(path) {
        Ok(d) => d,
        Err(e) => return fail(e),
    };
    let mut tampered = false;
    let written = if dump {
        let loaded = match load_any(path) {
            Ok(l) => l,
            Err(e) => return fail(e),
        };
        let md = report::render(&fold(loaded.entries()));
        write_out(path, out, &mut |w| w.write_all(md.as_bytes()))
    } else {
        let (inc, r, mut timeline) = match crate::journal::report::fold(
            path,
            crate::journal::scan::ScanOptions::default(),
        ) {
            Ok(x) => x,
            Err(e) => return fail(e),
        };
        // The report's head says the journal failed; stderr names the first problems, not
        // one line per line of a file that is not a journal at all.
        for p in r.problems.iter().take(SHOWN_PROBLEMS) {
            eprintln!("pm2-incident report: warning: {shown}: {p}");
        }
        if r.problems.len() > SHOWN_PROBLEMS {
            eprintln!(
                "pm2-incident report: warning: {shown}: {} more problem(s); `pm2-incident verify` lists them all",
                r.problems.len() - SHOWN_PROBLEMS
            );
        }
        if let Some(t) = &r.torn_tail {
            eprintln!(
                "pm2-incident report: warning: {shown}: line {}: torn last line ignored",
                t.line
            );
        }
        tampered = !r.problems.is_empty();
        write_out(path, out, &mut |w| {
            w.write_all(tamper_warning(&r).as_bytes())?;
            report::render_to(w, &inc, &mut timeline)?;
            w.write_all(head_section(&r, inc.events as usize).as_bytes())
        })
    };
    match written {
        Ok(()) if tampered && !allow_tampered => {
            eprintln!("pm2-incident report: {shown}: the journal FAILED verification (see the report's first lines); exit 1 (--allow-tampered to accept)");
            1
        }
        Ok(()) => 0,
        Err(e) => {
            eprintln!("pm2-incident report: {e}");
            2
        }
    }
}

/// Writes the report to stdout, or to `out` (see [`write_private`]).
fn write_out(
    input: &Path,
    out: Option<&Path>,
    body: &mut dyn FnMut(&mut dyn Write) -> std::io::Result<()>,
) -> Result<(), String> {
    match out {
        None => {
            let mut w = std::io::BufWriter::new(std::io::stdout().lock());
            body(&mut w)
                .and_then(|_| w.flush())
                .map_err(|e| format!("stdout: {e}"))
        }
        Some(o) => write_private(input, o, body),
    }
}

/// The report's first lines when the journal's chain does not verify.
fn tamper_warning(r: &crate::journal::ReadOutcome) -> String {
    let mut s = String::new();
    if !r.problems.is_empty() {
        let first = &r.problems[0];
        s.push_str(&format!(
            "> **WARNING: THIS JOURNAL FAILED VERIFICATION** ({} problem(s); first: {first}). \
             Lines were changed, inserted, removed or are unreadable: what follows may not be what happened.\n\n",
            r.problems.len()
        ));
    }
    s
}

/// The journal's head at the end of the report: what a later `verify --head` must find.
fn head_section(r: &crate::journal::ReadOutcome, events: usize) -> String {
    let unreadable = r
        .problems
        .iter()
        .filter(|p| matches!(p.kind, crate::journal::reader::ProblemKind::Unreadable(_)))
        .count();
    let head = crate::journal::reader::Head {
        lines: events + unreadable,
        hash: r.last_hash.clone(),
    };
    format!(
        "\n### Journal integrity\n\nJournal head: {head}. Check the journal against it with \
         `pm2-incident verify --head {} FILE`.\n",
        head.hash
    )
}

/// Writes the report to `out` (0600) via a temp file and rename, so an existing report is
/// replaced whole; refuses to overwrite the journal it was made from.
fn write_private(
    input: &Path,
    out: &Path,
    body: &mut dyn FnMut(&mut dyn Write) -> std::io::Result<()>,
) -> Result<(), String> {
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
        .and_then(|f| {
            let mut w = std::io::BufWriter::new(f);
            body(&mut w)?;
            let f = w.into_inner().map_err(|e| e.into_error())?;
            f.sync_data()
        })
        .and_then(|_| std::fs::rename(&tmp, out));
    if let Err(e) = res {
        let _ = std::fs::remove_file(&tmp);
        return Err(format!("{}: {e}", out.display()));
    }
    Ok(())
}
