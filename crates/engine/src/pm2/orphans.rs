//! The user's `node` processes still alive, from `/proc` (pid, command line, cwd, listening
//! TCP ports). After PM2's daemon dies its apps normally exit within ~2 s; one that did not
//! (or that something else started) keeps its port, and a `pm2 start` of that app would
//! crash-loop on `EADDRINUSE`. Read-only; what cannot be read (another user's process) is
//! left out, never guessed.
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// One live `node` process of this user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeProc {
    pub pid: u32,
    /// argv joined with spaces (may carry arguments the operator typed: kept out of journals).
    pub cmdline: String,
    pub cwd: Option<String>,
    /// TCP ports it listens on (from `/proc/net/tcp{,6}` matched to its socket fds).
    pub ports: Vec<u16>,
}

/// Listening TCP sockets: inode → port, from the text of `/proc/net/tcp` or `tcp6`.
pub fn parse_listeners(text: &str) -> BTreeMap<u64, u16> {
    let mut out = BTreeMap::new();
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split_whitespace().collect();
        // sl local rem st tx:rx tr:when retrnsmt uid timeout inode
        if f.len() < 10 || f[3] != "0A" {
            continue;
        }
        let port = f[1]
            .rsplit(':')
            .next()
            .and_then(|p| u16::from_str_radix(p, 16).ok());
        if let (Some(port), Ok(inode)) = (port, f[9].parse::<u64>()) {
            if inode != 0 {
                out.insert(inode, port);
            }
        }
    }
    out
}

fn is_node(proc_dir: &Path) -> bool {
    std::fs::read_link(proc_dir.join("exe"))
        .ok()
        .and_then(|p| p.file_name().and_then(|n| n.to_str()).map(is_node_exe))
        .unwrap_or(false)
}

/// Whether an executable's file name is Node's (`node`, `node18`; a replaced binary reads
/// `node (deleted)`). Shared with the scan of a remote server.
pub fn is_node_exe(file_name: &str) -> bool {
    let n = file_name.trim_end_matches(" (deleted)");
    n == "node" || n.starts_with("node") && n[4..].chars().all(|c| c.is_ascii_digit())
}

/// The listening ports among a process's socket inodes, sorted and distinct.
pub fn ports_of(inodes: impl IntoIterator<Item = u64>, listeners: &BTreeMap<u64, u16>) -> Vec<u16> {
    let mut ports: Vec<u16> = inodes
        .into_iter()
        .filter_map(|inode| listeners.get(&inode).copied())
        .collect();
    ports.sort_unstable();
    ports.dedup();
    ports
}

/// Every live `node` process this user can inspect, with its listening ports.
pub fn scan_node_processes() -> Vec<NodeProc> {
    scan_in(Path::new("/proc"))
}

fn scan_in(proc_root: &Path) -> Vec<NodeProc> {
    let mut listeners = BTreeMap::new();
    for f in ["net/tcp", "net/tcp6"] {
        if let Ok(t) = std::fs::read_to_string(proc_root.join(f)) {
            listeners.extend(parse_listeners(&t));
        }
    }
    let me = std::process::id();
    let Ok(rd) = std::fs::read_dir(proc_root) else {
        return vec![];
    };
    let mut out: Vec<NodeProc> = rd
        .flatten()
        .filter_map(|e| Some((e.file_name().to_str()?.parse::<u32>().ok()?, e.path())))
        .filter(|(pid, dir)| *pid != me && is_node(dir))
        .filter_map(|(pid, dir)| {
            let raw = std::fs::read(dir.join("cmdline")).ok()?;
            let cmdline = raw
                .split(|b| *b == 0)
                .filter(|a| !a.is_empty())
                .map(|a| String::from_utf8_lossy(a).into_owned())
                .collect::<Vec<_>>()
                .join(" ");
            let cwd = std::fs::read_link(dir.join("cwd"))
                .ok()
                .map(|p| p.display().to_string());
            let inodes: Vec<u64> = std::fs::read_dir(dir.join("fd"))
                .map(|fds| {
                    fds.flatten()
                        .filter_map(|fd| std::fs::read_link(fd.path()).ok())
                        .filter_map(|l| {
                            let s = l.to_str()?;
                            s.strip_prefix("socket:[")?.strip_suffix(']')?.parse().ok()
                        })
                        .collect()
                })
                .unwrap_or_default();
            let ports = ports_of(inodes, &listeners);
            Some(NodeProc {
                pid,
                cmdline,
                cwd,
                ports,
            })
        })
        .collect();
    out.sort_by_key(|p| p.pid);
    out
}

/// A real Node process listening on `port` of 127.0.0.1 (0: a free one), for tests here, in
/// `remote::nodes` and the integration tests; returns it and its port once it listens. The
/// caller ends it.
#[cfg(any(test, feature = "fixtures"))]
pub fn node_listener(port: u16) -> (std::process::Child, u16) {
    use std::process::{Command, Stdio};
    let script = format!(
        "require('net').createServer().listen({port},'127.0.0.1',function(){{console.log(this.address().port)}})"
    );
    let mut child = Command::new("node")
        .args(["-e", &script])
        .stdout(Stdio::piped())
        .spawn()
        .expect("node");
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.as_mut().unwrap()),
        &mut line,
    )
    .unwrap();
    let port: u16 = line.trim().parse().unwrap();
    (child, port)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listeners_are_listen_state_only() {
        let t = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n\
   0: 0100007F:0BB9 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 4242 1 0 100 0 0 10 0\n\
   1: 0100007F:0BBA 0100007F:D431 01 00000000:00000000 00:00000000 00000000  1000        0 4343 1 0 100 0 0 10 0\n\
   garbage\n";
        let l = parse_listeners(t);
        assert_eq!(l.get(&4242), Some(&3001));
        assert_eq!(l.get(&4343), None);
        assert_eq!(l.len(), 1);
    }

    #[test]
    fn finds_a_real_node_listener() {
        let (mut child, port) = node_listener(0);
        let found = scan_node_processes();
        let _ = child.kill();
        let _ = child.wait();
        let me = found
            .iter()
            .find(|p| p.pid == child.id())
            .expect("the node child is listed");
        assert_eq!(me.ports, vec![port]);
        assert!(
            me.cmdline.starts_with("node") || me.cmdline.contains("/node"),
            "{}",
            me.cmdline
        );
        assert!(me.cwd.is_some());
    }
}
