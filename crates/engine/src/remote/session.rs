//! One host: the ssh control master, remote commands through it, socket and TCP forwards,
//! and the cleanup that leaves nothing behind (control socket, forwarded sockets, runtime dir).
use super::command::{Dest, SshCommand};
use crate::safe_fs::mkdtemp_in;
use std::io::Read;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The master appends `.` and 16 random characters while binding (mux.c), so its path must
/// stay 17 bytes under the 107-byte Linux limit; 86 also fits macOS.
pub const MAX_CONTROL_PATH: usize = 86;

#[derive(Debug, Clone)]
pub struct SessionOptions {
    /// `BatchMode=yes`: no password or host-key prompts (headless commands).
    pub batch: bool,
    /// ssh's `ConnectTimeout`, and the budget for starting the master.
    pub connect_timeout: Duration,
    /// Budget for one remote command or control request.
    pub command_timeout: Duration,
    /// `ControlPersist`: how long an idle master outlives us if we die without cleaning up.
    pub persist_secs: u32,
    /// Where the private runtime dir is made (default `$XDG_RUNTIME_DIR`, else `/tmp`).
    pub runtime_base: Option<PathBuf>,
}

impl Default for SessionOptions {
    fn default() -> Self {
        SessionOptions {
            batch: true,
            connect_timeout: Duration::from_secs(10),
            command_timeout: Duration::from_secs(10),
            persist_secs: 30,
            runtime_base: None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RemoteError {
    #[error("cannot make the private ssh runtime directory in {0}: {1}")]
    RuntimeDir(PathBuf, std::io::Error),
    #[error("ssh control path {0} is {1} bytes, over {MAX_CONTROL_PATH} (set XDG_RUNTIME_DIR to a shorter directory)")]
    ControlPathTooLong(PathBuf, usize),
    #[error("cannot run {program}: {source}")]
    Spawn {
        program: String,
        source: std::io::Error,
    },
    #[error("ssh to {dest} failed (exit {code}): {message}")]
    Ssh {
        dest: String,
        code: i32,
        message: String,
    },
    #[error("ssh to {0} did not finish within {1:?}")]
    Timeout(String, Duration),
    #[error("remote path {0:?} must be absolute and contain no ':' or newline")]
    BadRemotePath(String),
    #[error("{0}")]
    Protocol(String),
}

/// One TCP forward on the master: local port → (host, port) as seen from the server.
#[derive(Debug, Clone, PartialEq, Eq)]
struct TcpForward {
    local_port: u16,
    host: String,
    port: u16,
}

impl TcpForward {
    fn spec(&self) -> String {
        format!("127.0.0.1:{}:{}:{}", self.local_port, self.host, self.port)
    }
}

fn socket_spec(local: &Path, remote: &Path) -> String {
    format!("{}:{}", local.display(), remote.display())
}

#[derive(Debug, Default)]
struct Forwards {
    sockets: Vec<(PathBuf, PathBuf)>,
    tcp: Vec<TcpForward>,
}

/// A connection to one host. `&self` methods are safe from several threads.
#[derive(Debug)]
pub struct Session {
    ssh: SshCommand,
    dest: Dest,
    opts: SessionOptions,
    dir: PathBuf,
    ctl: PathBuf,
    master_pid: Mutex<Option<u32>>,
    forwards: Mutex<Forwards>,
    closed: Mutex<bool>,
    /// `BatchMode=yes` on every later invocation (after an interactive first login).
    batch: std::sync::atomic::AtomicBool,
    /// When the master last answered (started, or `-O check`): a reading right after
    /// that need not ask again (one ssh process less per host and reading).
    last_ok: Mutex<Option<Instant>>,
}

impl Session {
    /// Make the runtime dir and start the master (authenticates now, so errors show here).
    pub fn connect(
        ssh: SshCommand,
        dest: Dest,
        opts: SessionOptions,
    ) -> Result<Session, RemoteError> {
        let base = opts.runtime_base.clone().unwrap_or_else(runtime_base);
        let dir =
            mkdtemp_in(&base, "p2i-ssh-").map_err(|e| RemoteError::RuntimeDir(base.clone(), e))?;
        let ctl = dir.join("cm");
        let s = Session {
            ssh,
            dest,
            dir,
            ctl,
            master_pid: Mutex::new(None),
            forwards: Mutex::new(Forwards::default()),
            closed: Mutex::new(false),
            batch: std::sync::atomic::AtomicBool::new(opts.batch),
            last_ok: Mutex::new(None),
            opts,
        };
        let len = s.ctl.as_os_str().as_bytes().len();
        if len > MAX_CONTROL_PATH {
            return Err(RemoteError::ControlPathTooLong(s.ctl.clone(), len));
        }
        s.start_master()?;
        Ok(s)
    }

    pub fn dest(&self) -> &Dest {
        &self.dest
    }

    /// The private runtime directory (0700): control socket and forwarded sockets live here.
    pub fn runtime_dir(&self) -> &Path {
        &self.dir
    }

    pub fn control_path(&self) -> &Path {
        &self.ctl
    }

    /// From now on never prompt (a full-screen UI owns the terminal; a reconnect that would
    /// need a passphrase fails and says so instead).
    pub fn set_batch(&self, on: bool) {
        self.batch.store(on, std::sync::atomic::Ordering::SeqCst);
    }

    /// The master's pid, as `ssh -O check` reported it.
    pub fn master_pid(&self) -> Option<u32> {
        *lock(&self.master_pid)
    }

    /// ssh with the options every invocation shares: our ControlPath, no agent or X11
    /// forwarding, keep-alives so a dead link is noticed.
    fn base(&self) -> Command {
        let mut c = self.ssh.command();
        c.arg("-o")
            .arg(format!("ControlPath={}", self.ctl.display()))
            .args(["-a", "-x", "-o", "LogLevel=ERROR"])
            .args(["-o", "ServerAliveInterval=5", "-o", "ServerAliveCountMax=3"])
            .arg("-o")
            .arg(format!(
                "ConnectTimeout={}",
                self.opts.connect_timeout.as_secs().max(1)
            ));
        if self.batch.load(std::sync::atomic::Ordering::SeqCst) {
            c.args(["-o", "BatchMode=yes"]);
        }
        c.stdin(Stdio::null());
        c
    }

    fn start_master(&self) -> Result<(), RemoteError> {
        let log = self.dir.join("master.log");
        let log_file = std::fs::File::create(&log)
            .map_err(|e| RemoteError::RuntimeDir(self.dir.clone(), e))?;
        let mut c = self.base();
        // ControlPersist makes ssh go to the background once authenticated (ssh.c), so this
        // call returns with the master running; it exits by itself when idle that long.
        c.args(["-o", "ControlMaster=yes"])
            .arg("-o")
            .arg(format!("ControlPersist={}", self.opts.persist_secs.max(1)))
            .args([
                "-o",
                "ExitOnForwardFailure=yes",
                "-o",
                "StreamLocalBindUnlink=yes",
            ])
            .args(["-N", "--", self.dest.as_str()])
            .stdout(Stdio::null())
            .stderr(log_file);
        let status = wait_status(
            c,
            self.opts.connect_timeout + Duration::from_secs(2),
            &self.ssh,
        )
        .map_err(|e| match e {
            RemoteError::Timeout(_, d) => RemoteError::Timeout(self.dest.to_string(), d),
            e => e,
        })?;
        if !status.success() {
            let msg = std::fs::read_to_string(&log).unwrap_or_default();
            return Err(RemoteError::Ssh {
                dest: self.dest.to_string(),
                code: status.code().unwrap_or(-1),
                message: last_lines(&msg),
            });
        }
        let pid = self.check()?;
        *lock(&self.master_pid) = Some(pid);
        Ok(())
    }

    /// `ssh -O check`: the master's pid, or why there is none.
    pub fn check(&self) -> Result<u32, RemoteError> {
        let out = self.control("check", &[])?;
        let err = String::from_utf8_lossy(&out.stderr);
        if !out.status.success() {
            *lock(&self.last_ok) = None;
            return Err(self.ssh_error(&out));
        }
        let pid = parse_master_pid(&err).ok_or_else(|| {
            RemoteError::Protocol(format!(
                "unexpected ssh -O check answer: {}",
                last_lines(&err)
            ))
        })?;
        *lock(&self.last_ok) = Some(Instant::now());
        Ok(pid)
    }

    /// Whether the master still answers.
    pub fn is_up(&self) -> bool {
        self.check().is_ok()
    }

    /// Whether the master answered within `age` (no ssh process is started to find out).
    pub fn answered_within(&self, age: Duration) -> bool {
        lock(&self.last_ok).is_some_and(|t| t.elapsed() <= age)
    }

    /// Start a new master after a drop and restore every forward it had.
    pub fn reconnect(&self) -> Result<(), RemoteError> {
        if *lock(&self.closed) {
            return Err(RemoteError::Protocol("the ssh session was closed".into()));
        }
        // A dead master can leave its socket file behind: a new master would then refuse to
        // listen ("already exists") and run unshared.
        let _ = std::fs::remove_file(&self.ctl);
        self.start_master()?;
        let specs: Vec<String> = {
            let f = lock(&self.forwards);
            for (local, _) in &f.sockets {
                let _ = std::fs::remove_file(local);
            }
            f.sockets
                .iter()
                .map(|(l, r)| socket_spec(l, r))
                .chain(f.tcp.iter().map(TcpForward::spec))
                .collect()
        };
        self.forward_specs(&specs)
    }

    fn control(&self, op: &str, extra: &[&str]) -> Result<Output, RemoteError> {
        let mut c = self.base();
        c.args(["-O", op])
            .args(extra)
            .args(["--", self.dest.as_str()]);
        run_capture(c, self.opts.command_timeout, &self.ssh, &self.dest)
    }

    /// Several `-L` forwards in one `ssh -O forward` (one process, not one per forward).
    /// The master answers an identical forward that already exists with success, so a
    /// batch is safe to repeat after a partial failure.
    fn forward_specs(&self, specs: &[String]) -> Result<(), RemoteError> {
        if specs.is_empty() {
            return Ok(());
        }
        let args: Vec<&str> = specs.iter().flat_map(|s| ["-L", s.as_str()]).collect();
        let out = self.control("forward", &args)?;
        if out.status.success() {
            Ok(())
        } else {
            Err(self.ssh_error(&out))
        }
    }

    /// Forward the remote Unix socket `remote` to `local` (idempotent).
    pub fn forward_socket(&self, local: &Path, remote: &Path) -> Result<(), RemoteError> {
        self.forward_sockets(&[(local.to_path_buf(), remote.to_path_buf())])
    }

    /// Forward each remote Unix socket to its local path, all in one request (idempotent).
    pub fn forward_sockets(&self, pairs: &[(PathBuf, PathBuf)]) -> Result<(), RemoteError> {
        for (_, remote) in pairs {
            check_remote_path(remote)?;
        }
        let new: Vec<(PathBuf, PathBuf)> = {
            let f = lock(&self.forwards);
            pairs
                .iter()
                .filter(|p| !f.sockets.contains(p))
                .cloned()
                .collect()
        };
        let specs: Vec<String> = new.iter().map(|(l, r)| socket_spec(l, r)).collect();
        self.forward_specs(&specs)?;
        lock(&self.forwards).sockets.extend(new);
        Ok(())
    }

    /// A local port that reaches `host:port` from the server's side (reused when asked twice).
    pub fn forward_tcp(&self, host: &str, port: u16) -> Result<u16, RemoteError> {
        self.forward_tcp_many(&[(host.to_string(), port)])
            .pop()
            .unwrap_or_else(|| Err(RemoteError::Protocol("no forward made".into())))
    }

    /// [`forward_tcp`](Self::forward_tcp) for several targets with one ssh request; results
    /// in input order. Only when that request fails is each one retried on its own.
    pub fn forward_tcp_many(&self, targets: &[(String, u16)]) -> Vec<Result<u16, RemoteError>> {
        let mut out: Vec<Option<Result<u16, RemoteError>>> = Vec::new();
        let mut fresh: Vec<(usize, TcpForward)> = Vec::new();
        for (i, (host, port)) in targets.iter().enumerate() {
            if host.is_empty() || host.starts_with('-') || host.contains([':', '/', ' ', '\n']) {
                out.push(Some(Err(RemoteError::Protocol(format!(
                    "cannot forward to host {host:?}"
                )))));
                continue;
            }
            let known = lock(&self.forwards)
                .tcp
                .iter()
                .chain(fresh.iter().map(|(_, t)| t))
                .find(|t| t.host == *host && t.port == *port)
                .map(|t| t.local_port);
            match known {
                Some(lp) => out.push(Some(Ok(lp))),
                // ssh refuses listen port 0 for -L: take a free port (retried below if
                // someone beat us to it).
                None => match free_local_port() {
                    Ok(lp) => {
                        out.push(None);
                        fresh.push((
                            i,
                            TcpForward {
                                local_port: lp,
                                host: host.clone(),
                                port: *port,
                            },
                        ));
                    }
                    Err(e) => out.push(Some(Err(RemoteError::Protocol(e.to_string())))),
                },
            }
        }
        let specs: Vec<String> = fresh.iter().map(|(_, t)| t.spec()).collect();
        let batch_ok = self.forward_specs(&specs).is_ok();
        for (i, t) in fresh {
            let r = if batch_ok {
                Ok(t)
            } else {
                self.forward_one_tcp(t)
            };
            out[i] = Some(r.map(|t| {
                let lp = t.local_port;
                lock(&self.forwards).tcp.push(t);
                lp
            }));
        }
        out.into_iter()
            .map(|r| r.unwrap_or_else(|| Err(RemoteError::Protocol("no forward made".into()))))
            .collect()
    }

    /// One TCP forward, on another free port when its port was taken meanwhile.
    fn forward_one_tcp(&self, mut t: TcpForward) -> Result<TcpForward, RemoteError> {
        let mut last = None;
        for _ in 0..3 {
            match self.forward_specs(&[t.spec()]) {
                Ok(()) => return Ok(t),
                Err(e) => last = Some(e),
            }
            t.local_port = free_local_port().map_err(|e| RemoteError::Protocol(e.to_string()))?;
        }
        Err(last.unwrap_or_else(|| RemoteError::Protocol("no free local port".into())))
    }

    /// Run `script` with the remote `sh` (read-only probes); stdout, stderr and status.
    pub fn run_sh(&self, script: &str) -> Result<Output, RemoteError> {
        let mut c = self.base();
        c.args(["-o", "ControlMaster=no", "-T", "--", self.dest.as_str()])
            .arg(format!(
                "sh -c {}",
                crate::runbook::vars::shell_quote(script)
            ));
        run_capture(c, self.opts.command_timeout, &self.ssh, &self.dest)
    }

    /// A `Command` that runs `remote_command` on the host through the master with a pty
    /// (`-tt`, so a dropped or cancelled session hangs the remote side up) and no escape char.
    pub fn exec_command(&self, remote_command: &str) -> Command {
        let mut c = self.base();
        c.args([
            "-o",
            "ControlMaster=no",
            "-tt",
            "-e",
            "none",
            "--",
            self.dest.as_str(),
        ])
        .arg(remote_command);
        c
    }

    /// End the master and remove everything this session made. Idempotent; also on drop.
    pub fn close(&self) {
        let mut closed = lock(&self.closed);
        if *closed {
            return;
        }
        *closed = true;
        let _ = self.control("exit", &[]);
        if let Some(pid) = self.master_pid() {
            let deadline = Instant::now() + Duration::from_secs(2);
            while crate::pm2::liveness::pid_alive(pid) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(20));
            }
            if crate::pm2::liveness::pid_alive(pid) && self.ctl_owner_is(pid) {
                // SAFETY: signalling the master we started, by its pid.
                unsafe { libc::kill(pid as libc::pid_t, libc::SIGTERM) };
            }
        }
        // ssh never unlinks forwarded socket files (reference §3); the dir holds them all.
        for (local, _) in &lock(&self.forwards).sockets {
            let _ = std::fs::remove_file(local);
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }

    /// Only signal a pid that is still an ssh process (not a reused pid).
    fn ctl_owner_is(&self, pid: u32) -> bool {
        std::fs::read_to_string(format!("/proc/{pid}/comm"))
            .map(|c| c.trim() == "ssh")
            .unwrap_or(false)
    }

    fn ssh_error(&self, out: &Output) -> RemoteError {
        RemoteError::Ssh {
            dest: self.dest.to_string(),
            code: out.status.code().unwrap_or(-1),
            message: last_lines(&String::from_utf8_lossy(&out.stderr)),
        }
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        self.close();
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn runtime_base() -> PathBuf {
    std::env::var_os("XDG_RUNTIME_DIR")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute() && p.is_dir())
        .unwrap_or_else(|| PathBuf::from("/tmp"))
}

fn free_local_port() -> std::io::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// Remote paths go into `-L` specs verbatim and sshd connects to them as given.
fn check_remote_path(p: &Path) -> Result<(), RemoteError> {
    let s = p.to_string_lossy();
    if !p.is_absolute() || s.contains([':', '\n']) {
        return Err(RemoteError::BadRemotePath(s.into_owned()));
    }
    Ok(())
}

/// `Master running (pid=1234)\r\n` → 1234.
pub fn parse_master_pid(stderr: &str) -> Option<u32> {
    let rest = stderr.split("(pid=").nth(1)?;
    rest.split(')').next()?.trim().parse().ok()
}

/// The last few non-empty lines of ssh's stderr, for an error message.
fn last_lines(s: &str) -> String {
    let lines: Vec<&str> = s
        .lines()
        .map(|l| l.trim_end_matches('\r').trim())
        .filter(|l| !l.is_empty())
        .collect();
    let tail = &lines[lines.len().saturating_sub(3)..];
    let joined = tail.join("; ");
    if joined.is_empty() {
        "no message".into()
    } else {
        crate::sanitize::escape_line(&joined).into_owned()
    }
}

fn spawn(mut c: Command, ssh: &SshCommand) -> Result<std::process::Child, RemoteError> {
    c.spawn().map_err(|source| RemoteError::Spawn {
        program: ssh.describe(),
        source,
    })
}

fn kill_pid(pid: u32) {
    // SAFETY: signalling a child we spawned, by its pid.
    unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) };
}

fn wait_status(
    c: Command,
    timeout: Duration,
    ssh: &SshCommand,
) -> Result<std::process::ExitStatus, RemoteError> {
    let mut child = spawn(c, ssh)?;
    let deadline = Instant::now() + timeout;
    loop {
        match child.try_wait() {
            Ok(Some(st)) => return Ok(st),
            Ok(None) if Instant::now() >= deadline => {
                kill_pid(child.id());
                let _ = child.wait();
                return Err(RemoteError::Timeout(ssh.describe(), timeout));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(10)),
            Err(e) => {
                return Err(RemoteError::Spawn {
                    program: ssh.describe(),
                    source: e,
                })
            }
        }
    }
}

/// Run to completion with a deadline, capturing stdout and stderr (read on threads so a
/// chatty command cannot block on a full pipe).
fn run_capture(
    mut c: Command,
    timeout: Duration,
    ssh: &SshCommand,
    dest: &Dest,
) -> Result<Output, RemoteError> {
    c.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = spawn(c, ssh)?;
    let mut so = child.stdout.take();
    let mut se = child.stderr.take();
    let t_out = std::thread::spawn(move || {
        let mut b = Vec::new();
        if let Some(s) = so.as_mut() {
            let _ = s.take(16 << 20).read_to_end(&mut b);
        }
        b
    });
    let t_err = std::thread::spawn(move || {
        let mut b = Vec::new();
        if let Some(s) = se.as_mut() {
            let _ = s.take(1 << 20).read_to_end(&mut b);
        }
        b
    });
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(st)) => break st,
            Ok(None) if Instant::now() >= deadline => {
                kill_pid(child.id());
                let _ = child.wait();
                return Err(RemoteError::Timeout(dest.to_string(), timeout));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(5)),
            Err(e) => {
                return Err(RemoteError::Spawn {
                    program: ssh.describe(),
                    source: e,
                })
            }
        }
    };
    Ok(Output {
        status,
        stdout: t_out.join().unwrap_or_default(),
        stderr: t_err.join().unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn master_pid_from_check_output() {
        assert_eq!(
            parse_master_pid("Master running (pid=4242)\r\n"),
            Some(4242)
        );
        assert_eq!(
            parse_master_pid("Control socket connect(/x): No such file"),
            None
        );
    }

    #[test]
    fn remote_paths_must_be_absolute_and_plain() {
        assert!(check_remote_path(Path::new("/home/d/.pm2/rpc.sock")).is_ok());
        assert!(check_remote_path(Path::new("~/.pm2/rpc.sock")).is_err());
        assert!(check_remote_path(Path::new("/a:b/rpc.sock")).is_err());
    }

    #[test]
    fn a_missing_ssh_is_a_clear_error_and_leaves_no_dir() {
        let base = tempfile::tempdir().unwrap();
        let ssh = SshCommand::parse(Some("/nonexistent/ssh-binary"));
        let e = Session::connect(
            ssh,
            Dest::parse("h").unwrap(),
            SessionOptions {
                runtime_base: Some(base.path().to_path_buf()),
                ..SessionOptions::default()
            },
        )
        .unwrap_err();
        assert!(e.to_string().contains("/nonexistent/ssh-binary"), "{e}");
        assert_eq!(std::fs::read_dir(base.path()).unwrap().count(), 0);
    }
}
