//! `E` over ssh: PM2's traces on the server (the `pm2.log` tail, `dump.pm2`, `.bak`,
//! `pm2.pid` and what the server's `/proc` says of that pid, the live `node` processes) read by
//! read-only remote commands and kept here by [`crate::evidence::preserve_from`], exactly as
//! a local `E` keeps them (0700 directory, 0600 files, hashes journaled, never printed).
use std::io;
use std::path::{Path, PathBuf};

use super::file::{self, RemoteFile};
use super::session::Session;
use crate::evidence::{pid_lines, Traces};
use crate::pm2::orphans::NodeProc;
use crate::runbook::vars::shell_quote;

/// The PM2 home `home` on the server `session` reaches.
pub struct RemoteTraces<'s> {
    pub session: &'s Session,
    pub home: PathBuf,
}

impl RemoteTraces<'_> {
    /// The bytes the script sent, and the file's whole size when the server could stat it.
    fn fetch(&self, name: &str, script: String, cap: u64) -> io::Result<(Vec<u8>, Option<u64>)> {
        let out = self
            .session
            .run_sh(&script)
            .map_err(|e| io::Error::other(format!("{name}: {e}")))?;
        let (text, data) = file::split(&out.stdout);
        let text = String::from_utf8_lossy(text);
        let lines: Vec<&str> = text.lines().collect();
        match file::parse(&lines, data, cap).map_err(io::Error::other)? {
            RemoteFile::Data { bytes, stamp } => Ok((bytes, stamp.map(|s| s.size))),
            RemoteFile::Missing => Err(io::ErrorKind::NotFound.into()),
            RemoteFile::Unreadable => Err(io::ErrorKind::PermissionDenied.into()),
            other => Err(io::Error::other(
                other.problem().unwrap_or_else(|| "not read".into()),
            )),
        }
    }
}

impl Traces for RemoteTraces<'_> {
    fn path(&self, name: &str) -> PathBuf {
        PathBuf::from(format!(
            "{}:{}",
            self.session.dest(),
            self.home.join(name).display()
        ))
    }

    fn read(&self, name: &str) -> io::Result<Vec<u8>> {
        let word = shell_quote(&self.home.join(name).to_string_lossy());
        self.fetch(
            name,
            file::fragment(&word, None, file::REMOTE_CAP),
            file::REMOTE_CAP,
        )
        .map(|(bytes, _)| bytes)
    }

    fn tail(&self, name: &str, max: u64) -> io::Result<Vec<u8>> {
        let word = shell_quote(&self.home.join(name).to_string_lossy());
        let (mut bytes, size) = self.fetch(name, file::tail_fragment(&word, max), max)?;
        // From a line start when cut, as the local tail.
        if size.unwrap_or(bytes.len() as u64) > max {
            if let Some(i) = bytes.iter().position(|b| *b == b'\n') {
                bytes.drain(..=i);
            }
        }
        Ok(bytes)
    }

    fn pid_report(&self) -> (String, String) {
        let pid_file = self.home.join("pm2.pid");
        let script = pid_script(&shell_quote(&pid_file.to_string_lossy()));
        let shown = format!("{}:{}", self.session.dest(), pid_file.display());
        match self.session.run_sh(&script) {
            Ok(out) => parse_pid_report(&shown, &String::from_utf8_lossy(&out.stdout)),
            Err(e) => {
                let l = format!("{shown}: not read over ssh ({e})");
                (l.clone(), l + "\n")
            }
        }
    }

    fn node_processes(&self) -> Vec<NodeProc> {
        self.session
            .run_sh(super::nodes::FRAGMENT)
            .map(|out| {
                let text = String::from_utf8_lossy(&out.stdout);
                super::nodes::parse(&text.lines().collect::<Vec<_>>())
            })
            .unwrap_or_default()
    }

    fn proc_source(&self) -> String {
        format!("{}:/proc", self.session.dest())
    }
}

/// Read-only lines on `pm2.pid`'s pid: `pid=`, `alive=yes|no`, `comm=`, `cmdline=`, then
/// `status:` and `/proc/PID/status` to the end.
fn pid_script(pid_file_word: &str) -> String {
    format!(
        r#"p=$(head -c 32 -- {pid_file_word} 2>/dev/null | tr -cd '0-9')
echo "pid=$p"
[ -n "$p" ] || exit 0
# A zombie or dead entry is no process, as the local reader has it.
s=$(sed -n 's/^State:[[:space:]]*\([A-Za-z]\).*/\1/p' "/proc/$p/status" 2>/dev/null)
case "$s" in Z|X|x) echo alive=no; exit 0;; esac
if [ -d "/proc/$p" ]; then echo alive=yes; else echo alive=no; exit 0; fi
echo "comm=$(head -c 256 "/proc/$p/comm" 2>/dev/null | tr -d '\n')"
echo "cmdline=$(tr '\000\n' '  ' < "/proc/$p/cmdline" 2>/dev/null | head -c 4096)"
echo status:
head -c 8192 "/proc/$p/status" 2>/dev/null
"#
    )
}

/// The journal line and report from [`pid_script`]'s output (same words as a local `E`).
fn parse_pid_report(pid_file: &str, out: &str) -> (String, String) {
    let (head, status) = out.split_once("status:\n").unwrap_or((out, ""));
    let value = |k: &str| {
        head.lines()
            .find_map(|l| l.strip_prefix(k)?.strip_prefix('='))
            .unwrap_or("")
            .trim()
    };
    let pid = value("pid")
        .parse::<u32>()
        .ok()
        .map(|p| (p, value("alive") == "yes"));
    pid_lines(
        pid_file,
        pid,
        value("comm"),
        value("cmdline"),
        status.trim(),
    )
}

/// Where the copies of a remote `E` go is local; the path is only checked to exist.
pub fn preserve(
    session: &Session,
    home: &Path,
    dir: &Path,
) -> io::Result<crate::incident::event::EvidencePreserved> {
    crate::evidence::preserve_from(
        &RemoteTraces {
            session,
            home: home.to_path_buf(),
        },
        dir,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    fn sh(script: &str) -> String {
        String::from_utf8_lossy(
            &Command::new("sh")
                .args(["-c", script])
                .output()
                .unwrap()
                .stdout,
        )
        .into_owned()
    }

    #[test]
    fn the_pid_script_reports_like_the_local_reader() {
        let d = tempfile::tempdir().unwrap();
        let f = d.path().join("pm2.pid");
        let word = shell_quote(&f.to_string_lossy());
        // No file, a dead pid, a live pid that is not a PM2 daemon (this test's own process).
        let (none, _) = parse_pid_report("x/pm2.pid", &sh(&pid_script(&word)));
        assert_eq!(none, "x/pm2.pid: no pid recorded");
        std::fs::write(&f, "999999999").unwrap();
        let (dead, _) = parse_pid_report("x/pm2.pid", &sh(&pid_script(&word)));
        assert!(dead.contains("999999999: no such process"), "{dead}");
        std::fs::write(&f, std::process::id().to_string()).unwrap();
        let (line, report) = parse_pid_report("x/pm2.pid", &sh(&pid_script(&word)));
        let local = crate::evidence::Local(&crate::pm2::Pm2Home::new(d.path()).unwrap());
        assert_eq!(line, local.pid_report().0);
        assert!(line.contains("NOT a PM2 daemon"), "{line}");
        assert!(report.contains("status:\nName:"), "{report}");
    }

    #[test]
    fn the_tail_fragment_sends_the_last_bytes_and_refuses_what_is_no_file() {
        let d = tempfile::tempdir().unwrap();
        let f = d.path().join("pm2.log");
        std::fs::write(&f, "one\ntwo\nthree\n").unwrap();
        let word = shell_quote(&f.to_string_lossy());
        let out = Command::new("sh")
            .args(["-c", &file::tail_fragment(&word, 6)])
            .output()
            .unwrap();
        let (text, data) = file::split(&out.stdout);
        let text = String::from_utf8_lossy(text);
        let lines: Vec<&str> = text.lines().collect();
        match file::parse(&lines, data, 6).unwrap() {
            RemoteFile::Data { bytes, .. } => assert_eq!(bytes, b"three\n"),
            other => panic!("{other:?}"),
        }
        let dir_word = shell_quote(&d.path().to_string_lossy());
        let out = sh(&file::tail_fragment(&dir_word, 6));
        assert!(out.contains("file=notregular"), "{out}");
    }
}
