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

/// Where PM2's traces are read from: this machine's PM2 home, or a server's over ssh
/// (`remote::evidence`). Names are those of files in the PM2 home.
pub trait Traces {
    /// The file's path, as the record names its source.
    fn path(&self, name: &str) -> PathBuf;
    /// The whole file.
    fn read(&self, name: &str) -> io::Result<Vec<u8>>;
    /// Its last `max` bytes, from a line start when cut.
    fn tail(&self, name: &str, max: u64) -> io::Result<Vec<u8>>;
    /// A journal line and a report on the pid `pm2.pid` names.
    fn pid_report(&self) -> (String, String);
    /// The user's live `node` processes.
    fn node_processes(&self) -> Vec<NodeProc>;
    /// Where the pid and process reports come from.
    fn proc_source(&self) -> String;
}

/// This machine's PM2 home.
pub struct Local<'h>(pub &'h Pm2Home);

impl Traces for Local<'_> {
    fn path(&self, name: &str) -> PathBuf {
        self.0.dir().join(name)
    }
    fn read(&self, name: &str) -> io::Result<Vec<u8>> {
        std::fs::read(self.path(name))
    }
    fn tail(&self, name: &str, max: u64) -> io::Result<Vec<u8>> {
        tail(&self.path(name), max)
    }
    fn pid_report(&self) -> (String, String) {
        pid_report(&self.0.pid_file())
    }
    fn node_processes(&self) -> Vec<NodeProc> {
        scan_node_processes()
    }
    fn proc_source(&self) -> String {
        "/proc".into()
    }
}

/// Copy the evidence of `home` into a new directory `dir` (its parent must exist or is made 0700).
pub fn preserve(home: &Pm2Home, dir: &Path) -> io::Result<EvidencePreserved> {
    preserve_from(&Local(home), dir)
}

/// Copy the evidence `traces` holds into a new directory `dir`.
pub fn preserve_from(traces: &dyn Traces, dir: &Path) -> io::Result<EvidencePreserved> {
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
    match traces.tail("pm2.log", LOG_TAIL_BYTES) {
        Ok(bytes) => rec.files.push(write_new(
            dir,
            "pm2.log.tail",
            &traces.path("pm2.log"),
            &bytes,
        )?),
        Err(e) => rec.missing.push(format!("pm2.log: {}", why(&e))),
    }
    for name in ["dump.pm2", "dump.pm2.bak", "pm2.pid"] {
        match traces.read(name) {
            Ok(bytes) => rec
                .files
                .push(write_new(dir, name, &traces.path(name), &bytes)?),
            Err(e) => rec.missing.push(format!("{name}: {}", why(&e))),
        }
    }
    let proc_source = PathBuf::from(traces.proc_source());
    let (line, report) = traces.pid_report();
    rec.pid = line;
    rec.files.push(write_new(
        dir,
        "pid-proc.txt",
        &proc_source,
        report.as_bytes(),
    )?);
    let procs = traces.node_processes();
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
        &proc_source,
        node_report(&procs).as_bytes(),
    )?);
    Ok(rec)
}

/// Why a file was not kept: its kind ("entity not found", "permission denied"), or the whole
/// message where the kind says nothing (a remote read: the link, a file over the size cap).
fn why(e: &io::Error) -> String {
    if e.kind() == io::ErrorKind::Other {
        e.to_string()
    } else {
        e.kind().to_string()
    }
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
    let pid = read_pid_file(pid_file);
    let proc_dir = pid.map(|p| PathBuf::from(format!("/proc/{p}")));
    let read = |f: &str| {
        let Some(d) = &proc_dir else {
            return String::new();
        };
        std::fs::read(d.join(f))
            .map(|b| {
                String::from_utf8_lossy(&b)
                    .replace('\0', " ")
                    .trim()
                    .to_string()
            })
            .unwrap_or_else(|e| format!("unreadable ({})", e.kind()))
    };
    pid_lines(
        &pid_file.display().to_string(),
        pid.map(|p| (p, pid_alive(p))),
        &read("comm"),
        &read("cmdline"),
        &read("status"),
    )
}

/// The journal line and the report on `pm2.pid`'s pid: none recorded, gone, still a PM2
/// daemon, or reused by another program (`comm`, `cmdline`, `status` as `/proc` has them).
pub fn pid_lines(
    pid_file: &str,
    pid: Option<(u32, bool)>,
    comm: &str,
    cmdline: &str,
    status: &str,
) -> (String, String) {
    let Some((pid, alive)) = pid else {
        let l = format!("{pid_file}: no pid recorded");
        return (l.clone(), l + "\n");
    };
    if !alive {
        let l = format!("pm2.pid says {pid}: no such process (the daemon is gone)");
        return (l.clone(), l + "\n");
    }
    let l = if cmdline.contains("God Daemon") {
        format!("pm2.pid says {pid}: alive and still a PM2 daemon ({comm})")
    } else {
        format!("pm2.pid says {pid}: alive but NOT a PM2 daemon (pid reused by `{comm}`)")
    };
    let report = format!("{l}\ncomm: {comm}\ncmdline: {cmdline}\nstatus:\n{status}\n");
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
    fn a_file_not_kept_says_why_in_words() {
        assert_eq!(why(&io::ErrorKind::NotFound.into()), "entity not found");
        let remote = io::Error::other("larger than 8 MiB, not read over ssh");
        assert_eq!(why(&remote), "larger than 8 MiB, not read over ssh");
    }

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
