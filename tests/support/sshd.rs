//! A real OpenSSH server for the `--host` tests: `/usr/sbin/sshd` on 127.0.0.1 at a free port
//! with its own host key, an authorized key made for the test, and an ssh client config whose
//! aliases (one per PM2 home, via `SetEnv PM2_HOME=…`) act as separate hosts. The product is
//! pointed at it with `PM2_INCIDENT_SSH_COMMAND="ssh -F <config>"`; host keys are checked
//! against the fixture's own known_hosts (never disabled).
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::pm2_fixture::free_port;

pub const SSHD: &str = "/usr/sbin/sshd";

/// A host alias: name, environment sent with `SetEnv`, config lines placed first.
type Alias = (String, Vec<(String, String)>, String);

pub struct Sshd {
    child: Child,
    pub port: u16,
    pub dir: tempfile::TempDir,
    /// `ssh -F <this>` reaches the aliases added with [`Sshd::alias`].
    pub config: PathBuf,
    aliases: Vec<Alias>,
}

fn keygen(path: &Path) {
    let st = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(path)
        .status()
        .expect("run ssh-keygen");
    assert!(st.success(), "ssh-keygen failed");
}

fn spawn_sshd(d: &Path) -> Child {
    Command::new(SSHD)
        .args(["-D", "-e", "-f"])
        .arg(d.join("sshd_config"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(d.join("sshd.log"))
                .unwrap(),
        )
        .spawn()
        .expect("start sshd")
}

impl Sshd {
    /// Start sshd; panics with install advice when it is missing.
    pub fn start() -> Sshd {
        Sshd::start_with_path(None)
    }

    /// Start sshd with `dir` first on every session's PATH (server-side `SetEnv`: sshd
    /// ignores a PATH sent by the client).
    pub fn start_with_path(path_dir: Option<&Path>) -> Sshd {
        assert!(
            Path::new(SSHD).exists(),
            "{SSHD} missing: run scripts/install-test-deps (installs openssh-server)"
        );
        // Privilege separation needs this directory (root-owned, not group/world-writable).
        let _ = std::fs::create_dir_all("/run/sshd");
        let dir = tempfile::Builder::new()
            .prefix("p2isshd")
            .tempdir_in("/tmp")
            .expect("tempdir");
        let d = dir.path();
        keygen(&d.join("host_key"));
        keygen(&d.join("client_key"));
        std::fs::copy(d.join("client_key.pub"), d.join("authorized_keys")).unwrap();
        let port = free_port();
        let host_pub = std::fs::read_to_string(d.join("host_key.pub")).unwrap();
        std::fs::write(
            d.join("known_hosts"),
            format!("[127.0.0.1]:{port} {}", host_pub.trim()),
        )
        .unwrap();
        std::fs::write(
            d.join("sshd_config"),
            format!(
                "Port {port}\nListenAddress 127.0.0.1\nHostKey {hk}\nPidFile {pid}\n\
                 AuthorizedKeysFile {ak}\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n\
                 PubkeyAuthentication yes\nUsePAM no\nStrictModes no\nPermitRootLogin yes\n\
                 AcceptEnv PM2_HOME\nAllowStreamLocalForwarding yes\nAllowTcpForwarding yes\n\
                 MaxSessions 50\nMaxStartups 50\nLogLevel ERROR\n{path}",
                hk = d.join("host_key").display(),
                pid = d.join("sshd.pid").display(),
                ak = d.join("authorized_keys").display(),
                path = path_dir
                    .map(|p| format!("SetEnv PATH={}:/usr/local/bin:/usr/bin:/bin\n", p.display()))
                    .unwrap_or_default(),
            ),
        )
        .unwrap();
        let child = spawn_sshd(d);
        let config = d.join("ssh_config");
        let s = Sshd {
            child,
            port,
            dir,
            config,
            aliases: vec![],
        };
        s.write_config();
        s.wait_listening();
        s
    }

    fn wait_listening(&self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "sshd did not listen: {}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Stop listening (the server "goes away"): new connections are refused until
    /// [`Sshd::start_again`]. Sessions already open are not touched.
    pub fn stop(&mut self) {
        // SAFETY: signalling the sshd we started, by its pid.
        unsafe { libc::kill(self.child.id() as libc::pid_t, libc::SIGTERM) };
        let _ = self.child.wait();
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
            assert!(Instant::now() < deadline, "sshd still listens");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Listen again on the same port with the same keys and configuration.
    pub fn start_again(&mut self) {
        self.child = spawn_sshd(self.dir.path());
        self.wait_listening();
    }

    /// A host alias whose logins see `PM2_HOME=<home>` (or none when `home` is None).
    pub fn alias(&mut self, name: &str, home: Option<&Path>) -> String {
        let env: Vec<(String, String)> = home
            .map(|h| vec![("PM2_HOME".to_string(), h.display().to_string())])
            .unwrap_or_default();
        self.alias_env(name, env)
    }

    /// A host alias whose logins get `env` (sshd accepts PM2_HOME from this client).
    pub fn alias_env(&mut self, name: &str, env: Vec<(String, String)>) -> String {
        self.aliases.push((name.to_string(), env, String::new()));
        self.write_config();
        name.to_string()
    }

    /// A host alias with its own ssh_config lines first (the first value ssh reads wins),
    /// e.g. another `UserKnownHostsFile`.
    pub fn alias_with_config(&mut self, name: &str, lines: &str) -> String {
        self.aliases
            .push((name.to_string(), vec![], lines.to_string()));
        self.write_config();
        name.to_string()
    }

    fn write_config(&self) {
        let d = self.dir.path();
        let common = format!(
            "  HostName 127.0.0.1\n  Port {}\n  User root\n  IdentityFile {}\n  IdentitiesOnly yes\n  \
             UserKnownHostsFile {}\n  GlobalKnownHostsFile /dev/null\n  StrictHostKeyChecking yes\n",
            self.port,
            d.join("client_key").display(),
            d.join("known_hosts").display()
        );
        let mut cfg = String::new();
        for (name, env, first) in &self.aliases {
            cfg.push_str(&format!("Host {name}\n{first}{common}"));
            if !env.is_empty() {
                let vars: Vec<String> = env.iter().map(|(k, v)| format!("{k}={v}")).collect();
                cfg.push_str(&format!("  SetEnv {}\n", vars.join(" ")));
            }
        }
        cfg.push_str(&format!("Host 127.0.0.1\n{common}"));
        std::fs::write(&self.config, cfg).unwrap();
    }

    /// The value for `PM2_INCIDENT_SSH_COMMAND`.
    pub fn ssh_command(&self) -> String {
        format!("ssh -F {}", self.config.display())
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("sshd.log")).unwrap_or_default()
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Sshd {
    fn drop(&mut self) {
        // SAFETY: signalling the sshd we started, by its pid (its session children exit with it).
        unsafe { libc::kill(self.child.id() as libc::pid_t, libc::SIGTERM) };
        let _ = self.child.wait();
    }
}

/// Unix sockets and ssh processes under `dir` (to prove nothing was left behind).
pub fn sockets_under(dir: &Path) -> Vec<PathBuf> {
    use std::os::unix::fs::FileTypeExt;
    let mut out = vec![];
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let Ok(ft) = e.file_type() else { continue };
            if ft.is_dir() {
                stack.push(e.path());
            } else if ft.is_socket() {
                out.push(e.path());
            }
        }
    }
    out
}

/// Pids of `ssh` processes whose command line mentions `needle` (our runtime dir).
pub fn ssh_processes_mentioning(needle: &str) -> Vec<u32> {
    let mut out = vec![];
    for e in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(cmd) = std::fs::read(format!("/proc/{pid}/cmdline")) else {
            continue;
        };
        let cmd = String::from_utf8_lossy(&cmd).replace('\0', " ");
        if cmd.starts_with("ssh ") && cmd.contains(needle) {
            out.push(pid);
        }
    }
    out
}
