//! The server's live `node` processes (the orphan check of a dead daemon), read from its
//! `/proc` by a read-only remote script: the same facts the local scan reads (pid, command
//! line, cwd, listening ports) and the same name rule. What cannot be read is left out.
use crate::pm2::orphans::{is_node_exe, parse_listeners, ports_of, NodeProc};

/// Shell lines that print one `node=` line per Node process and one `tcp=` line per
/// listening socket. `ls -l` lists every process's executable in one exec; only Node
/// processes are looked at further.
pub const FRAGMENT: &str = r#"ls -l /proc/[0-9]*/exe 2>/dev/null | sed -n 's#^.* /proc/\([0-9]*\)/exe -> \(.*\)$#\1 \2#p' |
while read -r p e; do
  case "${e##*/}" in node*) ;; *) continue;; esac
  c=$(tr '\000\t\n' '   ' < "/proc/$p/cmdline" 2>/dev/null | head -c 4096)
  w=$(readlink "/proc/$p/cwd" 2>/dev/null)
  i=$(ls -l "/proc/$p/fd" 2>/dev/null | sed -n 's/.*socket:\[\([0-9]*\)\].*/\1/p' | tr '\n' ' ')
  printf 'node=%s\t%s\t%s\t%s\t%s\n' "$p" "${e##*/}" "$w" "$i" "$c"
done
cat /proc/net/tcp /proc/net/tcp6 2>/dev/null | awk '$4=="0A" {print "tcp=" $0}'
"#;

/// The Node processes from the fragment's `node=` and `tcp=` lines (sorted by pid).
pub fn parse(lines: &[&str]) -> Vec<NodeProc> {
    let tcp: String = std::iter::once("header")
        .chain(lines.iter().filter_map(|l| l.strip_prefix("tcp=")))
        .collect::<Vec<_>>()
        .join("\n");
    let listeners = parse_listeners(&tcp);
    let mut out: Vec<NodeProc> = lines
        .iter()
        .filter_map(|l| l.strip_prefix("node="))
        .filter_map(|l| {
            let f: Vec<&str> = l.splitn(5, '\t').collect();
            let [pid, exe, cwd, inodes, cmdline] = f.as_slice() else {
                return None;
            };
            if !is_node_exe(exe) {
                return None;
            }
            let inodes = inodes.split_whitespace().filter_map(|i| i.parse().ok());
            Some(NodeProc {
                pid: pid.parse().ok()?,
                cmdline: cmdline.trim_end().to_string(),
                cwd: (!cwd.is_empty()).then(|| cwd.to_string()),
                ports: ports_of(inodes, &listeners),
            })
        })
        .collect();
    out.sort_by_key(|p| p.pid);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fragment_finds_a_real_node_listener_like_the_local_scan() {
        use std::process::Command;
        let (mut child, port) = crate::pm2::orphans::node_listener(0);
        let out = Command::new("sh").args(["-c", FRAGMENT]).output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        let lines: Vec<&str> = text.lines().collect();
        let found = parse(&lines);
        let local = crate::pm2::orphans::scan_node_processes();
        let _ = child.kill();
        let _ = child.wait();
        let me = found
            .iter()
            .find(|p| p.pid == child.id())
            .unwrap_or_else(|| panic!("the node child is listed: {text}"));
        let mine = local.iter().find(|p| p.pid == child.id()).unwrap();
        assert_eq!(me.ports, vec![port]);
        assert_eq!(me, mine, "the remote scan reads what the local one does");
    }

    #[test]
    fn lines_that_are_not_node_or_malformed_are_skipped() {
        let lines = [
            "node=12\tpython3\t/x\t\tpython3 app.py",
            "node=13\tnode\t/srv/app\t77 78 \tnode server.js",
            "node=bad",
            "tcp=   0: 0100007F:0BB9 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 77 1 0 100 0 0 10 0",
        ];
        let p = parse(&lines);
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].pid, 13);
        assert_eq!(p[0].ports, vec![3001]);
        assert_eq!(p[0].cwd.as_deref(), Some("/srv/app"));
    }
}
