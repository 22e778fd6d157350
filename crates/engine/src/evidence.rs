//! Keep PM2's traces before a new daemon overwrites them: `pm2.log` (tail), `dump.pm2` and
//! `dump.pm2.bak`, `pm2.pid` with what `/proc` says about that pid, and the user's `node`
//! processes still alive (orphans keep ports busy).
//!
//! The copies go into a new directory (0700, refused if it exists) as new files (0600,
//! `O_EXCL`): a dump holds every app's environment. The returned record — file names, sizes,
//! SHA-256 — is what the journal gets; no file content ever enters it.
use std::fs::{DirBuilder, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::incident::event::{EvidenceFile, EvidencePreserved, NodeProcRow};
use crate::pm2::orphans::{scan_node_processes, NodeProc};
use crate::pm2::{pid_alive, read_pid_file, Pm2Home};

/// The `pm2.log` tail kept (bytes): the daemon's last words, not its whole history.
pub const LOG_TAIL_BYTES: u64 = 256 * 1024;

/// Copy the evidence of `home` into a new directory `dir` (its parent must exist or is made 0700).
pub fn preserve(home: &Pm2Home, dir: &Path) -> io::Result<EvidencePreserved> {
    if let Some(parent) = dir.parent() {
        crate::journal::paths::ensure_dir(parent)?;
    }
    DirBuilder::new().mode(0o700).create(dir).map_err(|e| {
        io::Error::new(
            e.kind(),
            format!("evidence directory {}: {e}", dir.display()),
        )
    })?;
    let mut rec = EvidencePreserved {
        dir: dir.display().to_string(),
        files: vec![],
        missing: vec![],
        pid: String::new(),
        node_processes: vec![],
    };
    let h = home.dir();
    let log = h.join("pm2.log");
    match tail(&log, LOG_TAIL_BYTES) {
        Ok(bytes) => rec
            .files
            .push(write_new(dir, "pm2.log.tail", &log, &bytes)?),
        Err(e) => rec.missing.push(format!("pm2.log: {}", e.kind())),
    }
    for name in ["dump.pm2", "dump.pm2.bak", "pm2.pid"] {
        let src = h.join(name);
        match std::fs::read(&src) {
            Ok(bytes) => rec.files.push(write_new(dir, name, &src, &bytes)?),
            Err(e) => rec.missing.push(format!("{name}: {}", e.kind())),
        }
    }
    let (line, report) = pid_report(&home.pid_file());
    rec.pid = line;
    rec.files.push(write_new(
        dir,
        "pid-proc.txt",
        Path::new("/proc"),
        report.as_bytes(),
    )?);
    let procs = scan_node_processes();
    rec.node_processes = procs
        .iter()
        .map(|p| NodeProcRow {
            pid: p.pid,
            ports: p.ports.clone(),
        })
        .collect();
    rec.files.push(write_new(
        dir,
        "node-processes.txt",
        Path::new("/proc"),
        node_report(&procs).as_bytes(),
    )?);
    Ok(rec)
}

/// The evidence directory for an incident: `<base>/<id>-evidence-<UTC time>`.
pub fn evidence_dir(base: &Path, incident_id: &str, now: chrono::DateTime<chrono::Utc>) -> PathBuf {
    let id = crate::journal::paths::journal_file_name(incident_id);
    let id = id.trim_end_matches(".jsonl");
    base.join(format!("{id}-evidence-{}", now.format("%Y%m%dT%H%M%SZ")))
}

/// The last `max` bytes of a file, from a line start when it was cut.
fn tail(path: &Path, max: u64) -> io::Result<Vec<u8>> {
    let mut f = std::fs::File::open(path)?;
    let len = f.metadata()?.len();
    let start = len.saturating_sub(max);
    f.seek(SeekFrom::Start(start))?;
    let mut buf = Vec::new();
    f.take(max).read_to_end(&mut buf)?;
    if start > 0 {
        if let Some(i) = buf.iter().position(|b| *b == b'\n') {
            buf.drain(..=i);
        }
    }
    Ok(buf)
}

fn write_new(dir: &Path, name: &str, source: &Path, bytes: &[u8]) -> io::Result<EvidenceFile> {
    let path = dir.join(name);
    let mut f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&path)
        .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
    f.write_all(bytes)?;
    f.sync_all()?;
    Ok(EvidenceFile {
        name: name.into(),
        source: source.display().to_string(),
        bytes: bytes.len() as u64,
        sha256: hex::encode(Sha256::digest(bytes)),
    })
}

/// One journal line and a file report on the pid in `pm2.pid`.
fn pid_report(pid_file: &Path) -> (String, String) {
    let Some(pid) = read_pid_file(pid_file) else {
        let l = format!("{}: no pid recorded", pid_file.display());
        return (l.clone(), l + "\n");
    };
    let proc_dir = PathBuf::from(format!("/proc/{pid}"));
    if !pid_alive(pid) {
        let l = format!("pm2.pid says {pid}: no such process (the daemon is gone)");
        return (l.clone(), l + "\n");
    }
    let read = |f: &str| {
        std::fs::read(proc_dir.join(f))
            .map(|b| {
                String::from_utf8_lossy(&b)
                    .replace('\0', " ")
                    .trim()
                    .to_string()
            })
            .unwrap_or_else(|e| format!("unreadable ({})", e.kind()))
    };
    let comm = read("comm");
    let god = read("cmdline").contains("God Daemon");
    let l = if god {
        format!("pm2.pid says {pid}: alive and still a PM2 daemon ({comm})")
    } else {
        format!("pm2.pid says {pid}: alive but NOT a PM2 daemon (pid reused by `{comm}`)")
    };
    let report = format!(
        "{l}\ncomm: {comm}\ncmdline: {}\nstatus:\n{}\n",
        read("cmdline"),
        read("status")
    );
    (l, report)
}

fn node_report(procs: &[NodeProc]) -> String {
    if procs.is_empty() {
        return "no node process of this user is alive\n".into();
    }
    let mut s = String::from("pid\tports\tcwd\tcmdline\n");
    for p in procs {
        let ports: Vec<String> = p.ports.iter().map(u16::to_string).collect();
        s.push_str(&format!(
            "{}\t{}\t{}\t{}\n",
            p.pid,
            ports.join(","),
            p.cwd.as_deref().unwrap_or("?"),
            p.cmdline
        ));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn copies_are_private_exact_and_never_overwrite() {
        let h = tempfile::tempdir().unwrap();
        std::fs::write(
            h.path().join("dump.pm2"),
            br#"[{"name":"a","TOKEN":"cnry"}]"#,
        )
        .unwrap();
        std::fs::write(h.path().join("pm2.log"), "line1\nline2\n").unwrap();
        std::fs::write(h.path().join("pm2.pid"), "999999999").unwrap();
        let home = Pm2Home::new(h.path()).unwrap();
        let out = tempfile::tempdir().unwrap();
        let dir = out.path().join("ev");
        let rec = preserve(&home, &dir).unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&dir), 0o700);
        for f in &rec.files {
            assert_eq!(mode(&dir.join(&f.name)), 0o600, "{}", f.name);
        }
        let dump = rec.files.iter().find(|f| f.name == "dump.pm2").unwrap();
        let orig = std::fs::read(h.path().join("dump.pm2")).unwrap();
        assert_eq!(dump.sha256, hex::encode(Sha256::digest(&orig)));
        assert!(rec.missing.iter().any(|m| m.starts_with("dump.pm2.bak")));
        assert!(rec.pid.contains("no such process"), "{}", rec.pid);
        let json = serde_json::to_string(&rec).unwrap();
        assert!(!json.contains("cnry"), "{json}");
        // A second run into the same directory is refused, nothing overwritten.
        assert!(preserve(&home, &dir).is_err());
    }

    #[test]
    fn tail_starts_at_a_line() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("l");
        std::fs::write(&p, "aaaa\nbbbb\ncccc\n").unwrap();
        assert_eq!(tail(&p, 8).unwrap(), b"cccc\n");
        assert_eq!(tail(&p, 100).unwrap(), b"aaaa\nbbbb\ncccc\n");
    }
}
