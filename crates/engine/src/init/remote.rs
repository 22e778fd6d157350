//! `init --host`: the readers of [`super::gather::Server`] over an ssh [`Session`]. PM2's
//! live list through the forwarded `rpc.sock`, the saved list with the remote file reader,
//! ecosystem files evaluated by the server's Node with the same allow-list reader (only
//! names, directories, modes, ports and NODE_ENV come back over the link), ports probed from
//! the server's side through TCP forwards. Nothing is installed or started there but that
//! Node reader, exactly what `init` runs locally.
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::gather::Server;
use super::propose::{Fact, Host, Probe};
use super::read::{facts_from_reader, saved_from, Pm2Read, NODE_READER};
use crate::pm2::{DaemonState, RpcClient, RpcOptions};
use crate::remote::file::{self, RemoteFile};
use crate::remote::observe::observe_remote;
use crate::remote::Session;
use crate::runbook::vars::shell_quote;

/// A server reached over ssh.
pub struct Remote<'a> {
    pub session: &'a Session,
    /// PM2_HOME there as given (`None`: the login's `$PM2_HOME`, else `$HOME/.pm2`).
    pub pm2_home: Option<PathBuf>,
    /// Node there: `None` finds it (`node` on the login's PATH, else the PM2 daemon's own).
    pub node: Option<String>,
    pub probe_timeout: Duration,
    pub rpc_timeout_ms: u64,
    /// The remote PM2 home as the first probe found it.
    found_home: std::sync::OnceLock<PathBuf>,
}

impl<'a> Remote<'a> {
    pub fn new(
        session: &'a Session,
        pm2_home: Option<PathBuf>,
        node: Option<String>,
        probe_timeout: Duration,
        rpc_timeout_ms: u64,
    ) -> Self {
        Remote {
            session,
            pm2_home,
            node,
            probe_timeout,
            rpc_timeout_ms,
            found_home: std::sync::OnceLock::new(),
        }
    }

    /// The remote PM2 home (the given one, or the login's), probed once.
    fn home(&self) -> Result<PathBuf, String> {
        if let Some(h) = self.found_home.get() {
            return Ok(h.clone());
        }
        let r = observe_remote(self.session, self.pm2_home.as_deref(), self.rpc_timeout_ms);
        let home = r.facts.map(|f| f.home).ok_or_else(|| r.reading.detail())?;
        Ok(self.found_home.get_or_init(|| home).clone())
    }
}

/// The script that lists the ecosystem files: given ones (`g=` lines, or `missing=`), then
/// candidates in each directory (`c=<dir index>\t<path>\t<canonical>`), like the local
/// [`super::read::ecosystem_candidates`].
pub fn files_script(given: &[PathBuf], dirs: &[String]) -> String {
    let q = |p: &str| shell_quote(p);
    let mut s = String::new();
    for f in given {
        let f = q(&f.to_string_lossy());
        s.push_str(&format!(
            "c=$(readlink -f -- {f} 2>/dev/null) && [ -f \"$c\" ] && printf 'g=%s\\n' \"$c\" || printf 'missing=%s\\n' {f}\n"
        ));
    }
    for (i, d) in dirs.iter().enumerate() {
        let d = q(d);
        s.push_str(&format!(
            "for f in {d}/ecosystem*.config.js {d}/ecosystem*.config.cjs {d}/ecosystem*.config.mjs {d}/ecosystem*.config.json {d}/*.config.cjs; do\n  [ -f \"$f\" ] || continue\n  c=$(readlink -f -- \"$f\") && printf 'c={i}\\t%s\\t%s\\n' \"$f\" \"$c\"\ndone\n"
        ));
    }
    s
}

/// The files from [`files_script`]'s output, in the local order: given first, then per
/// directory sorted by name; each once. Pure.
pub fn parse_files(out: &str, dirs: usize) -> (Vec<PathBuf>, Vec<String>) {
    let mut files: Vec<PathBuf> = Vec::new();
    let mut notes = Vec::new();
    let mut per_dir: Vec<Vec<(String, String)>> = vec![Vec::new(); dirs];
    for l in out.lines() {
        if let Some(g) = l.strip_prefix("g=") {
            files.push(PathBuf::from(g));
        } else if let Some(m) = l.strip_prefix("missing=") {
            notes.push(format!(
                "ecosystem file skipped: {}: not a readable file on the server",
                crate::sanitize::escape_line(m)
            ));
        } else if let Some(c) = l.strip_prefix("c=") {
            let mut f = c.splitn(3, '\t');
            if let (Some(i), Some(path), Some(canon)) = (f.next(), f.next(), f.next()) {
                if let Some(list) = i.parse::<usize>().ok().and_then(|i| per_dir.get_mut(i)) {
                    list.push((path.to_string(), canon.to_string()));
                }
            }
        }
    }
    for mut list in per_dir {
        list.sort();
        files.extend(list.into_iter().map(|(_, c)| PathBuf::from(c)));
    }
    let mut once: Vec<PathBuf> = Vec::new();
    for f in files {
        if !once.contains(&f) {
            once.push(f);
        }
    }
    (once, notes)
}

/// The script that evaluates one ecosystem file with the server's Node, from the file's
/// directory, within 10 s when `timeout` exists there.
pub fn reader_script(file: &Path, node: Option<&str>, home: &Path) -> String {
    let node = match node {
        Some(n) => format!("n={}", shell_quote(n)),
        None => format!(
            "n=$(command -v node 2>/dev/null)\n\
             if [ -z \"$n\" ]; then p=$(head -c 32 {h}/pm2.pid 2>/dev/null | tr -cd 0-9); [ -n \"$p\" ] && n=$(readlink \"/proc/$p/exe\" 2>/dev/null); fi",
            h = shell_quote(&home.to_string_lossy())
        ),
    };
    format!(
        "{node}\n\
         [ -n \"$n\" ] || {{ echo 'no node on the login PATH and no running PM2 daemon to borrow it from (--node PATH)' >&2; exit 127; }}\n\
         f={f}\n\
         cd -- \"$(dirname -- \"$f\")\" || exit 1\n\
         if command -v timeout >/dev/null 2>&1; then t='timeout 10'; else t=; fi\n\
         exec $t \"$n\" -e {reader} \"$f\"\n",
        f = shell_quote(&file.to_string_lossy()),
        reader = shell_quote(NODE_READER),
    )
}

impl Server for Remote<'_> {
    fn pm2(&self) -> Pm2Read {
        let r = observe_remote(self.session, self.pm2_home.as_deref(), self.rpc_timeout_ms);
        if let Some(f) = &r.facts {
            let _ = self.found_home.set(f.home.clone());
        }
        let mut notes = Vec::new();
        let daemon = r.reading.daemon.clone();
        let live = match (&daemon, &r.local_home) {
            (DaemonState::Up { .. }, Some(local)) => {
                match RpcClient::connect(local.rpc_socket(), RpcOptions::default())
                    .and_then(|mut c| c.launches())
                {
                    Ok(l) => Some(l),
                    Err(e) => {
                        notes.push(format!("the live list could not be read: {e}"));
                        None
                    }
                }
            }
            (other, _) => {
                notes.push(format!(
                    "PM2 daemon {other}: no live list (the saved list and ecosystem files are read)"
                ));
                None
            }
        };
        let saved = r.facts.as_ref().and_then(|f| {
            saved_from(&f.home, &mut notes, |p| {
                match file::read(self.session, p, None, file::REMOTE_CAP) {
                    Ok(RemoteFile::Data { bytes, .. }) => Ok(Some(bytes)),
                    Ok(f) => match f.problem() {
                        Some(why) => Err(format!("{}: {why}", p.display())),
                        None => Ok(None),
                    },
                    Err(e) => Err(format!("{}: {e}", p.display())),
                }
            })
        });
        Pm2Read {
            daemon,
            live,
            saved,
            notes,
        }
    }

    fn ecosystem_files(&self, given: &[PathBuf], dirs: &[String]) -> (Vec<PathBuf>, Vec<String>) {
        match self.session.run_sh(&files_script(given, dirs)) {
            Ok(out) => parse_files(&String::from_utf8_lossy(&out.stdout), dirs.len()),
            Err(e) => (vec![], vec![format!("ecosystem files not listed: {e}")]),
        }
    }

    fn read_ecosystem(&self, file: &Path) -> Result<Vec<Fact>, String> {
        let home = self.home()?;
        let out = self
            .session
            .run_sh(&reader_script(file, self.node.as_deref(), &home))
            .map_err(|e| format!("{}: {e}", file.display()))?;
        if !out.status.success() {
            let err = String::from_utf8_lossy(&out.stderr);
            let err: String = err.trim().chars().take(300).collect();
            return Err(format!(
                "{} on {}: {}",
                file.display(),
                self.session.dest(),
                crate::sanitize::escape_line(&err)
            ));
        }
        facts_from_reader(file, &out.stdout)
    }

    fn probe_ports(&self, ports: &[u16]) -> Vec<Probe> {
        let wanted: Vec<(String, u16)> = ports.iter().map(|p| ("127.0.0.1".into(), *p)).collect();
        let bases: Vec<(u16, String)> = ports
            .iter()
            .zip(self.session.forward_tcp_many(&wanted))
            .filter_map(|(p, lp)| Some((*p, format!("http://127.0.0.1:{}", lp.ok()?))))
            .collect();
        super::probe::probe_bases(&bases, self.probe_timeout)
    }

    fn host(&self) -> Host {
        let out = self
            .session
            .run_sh("printf 'p2i-host\\nhost=%s\\nuser=%s\\n' \"$(uname -n)\" \"$(id -un)\"")
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
            .unwrap_or_default();
        let value = |k: &str| {
            out.lines()
                .skip_while(|l| *l != "p2i-host")
                .find_map(|l| l.strip_prefix(k)?.strip_prefix('='))
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(String::from)
        };
        Host {
            hostname: value("host").unwrap_or_else(|| self.session.dest().to_string()),
            user: value("user").unwrap_or_else(|| "root".into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_listed_like_the_local_search() {
        let d = tempfile::tempdir().unwrap();
        let a = d.path().join("a");
        let b = d.path().join("b");
        std::fs::create_dir_all(&a).unwrap();
        std::fs::create_dir_all(&b).unwrap();
        for f in ["ecosystem.config.cjs", "worker.config.cjs", "notes.txt"] {
            std::fs::write(a.join(f), "").unwrap();
        }
        std::fs::write(b.join("ecosystem.config.js"), "").unwrap();
        std::os::unix::fs::symlink(a.join("ecosystem.config.cjs"), b.join("x.config.cjs")).unwrap();
        let dirs = vec![a.display().to_string(), b.display().to_string()];
        let given = vec![b.join("ecosystem.config.js"), d.path().join("nope.js")];
        let out = std::process::Command::new("sh")
            .args(["-c", &files_script(&given, &dirs)])
            .output()
            .unwrap();
        let (files, notes) = parse_files(&String::from_utf8_lossy(&out.stdout), dirs.len());
        let canon = |p: PathBuf| std::fs::canonicalize(p).unwrap();
        assert_eq!(
            files,
            vec![
                canon(b.join("ecosystem.config.js")),
                canon(a.join("ecosystem.config.cjs")),
                canon(a.join("worker.config.cjs")),
            ]
        );
        assert_eq!(notes.len(), 1);
        assert!(notes[0].contains("nope.js"), "{notes:?}");
        // The local search finds the same files.
        let local = crate::init::gather::Local {
            home: crate::pm2::Pm2Home::new(d.path()).unwrap(),
            node: "node".into(),
            probe_timeout: Duration::from_millis(100),
        };
        let (lfiles, lnotes) = Server::ecosystem_files(&local, &given, &dirs);
        assert_eq!(files, lfiles);
        assert_eq!(lnotes.len(), 1);
    }

    #[test]
    fn the_reader_runs_with_node_from_the_files_directory() {
        let d = tempfile::tempdir().unwrap();
        let f = d.path().join("ecosystem.config.cjs");
        std::fs::write(
            &f,
            "module.exports = { apps: [{ name: 'api', script: 'x.js', cwd: 'srv', env: { PORT: 3000, SECRET: 'hunter2' } }] }",
        )
        .unwrap();
        let out = std::process::Command::new("sh")
            .args(["-c", &reader_script(&f, None, d.path())])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!String::from_utf8_lossy(&out.stdout).contains("hunter2"));
        let facts = facts_from_reader(&f, &out.stdout).unwrap();
        assert_eq!(facts.len(), 1);
        assert_eq!(facts[0].launch.port, Some(3000));
        assert_eq!(
            facts[0].launch.cwd.as_deref(),
            Some(d.path().join("srv").to_string_lossy().as_ref())
        );
        // No node anywhere: a clear error, nothing run.
        let out = std::process::Command::new("sh")
            .args([
                "-c",
                &reader_script(&f, Some("/nonexistent/node"), d.path()),
            ])
            .output()
            .unwrap();
        assert!(!out.status.success());
    }
}
