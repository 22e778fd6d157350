//! Signals sent around PM2: `kill` of the daemon's pid or of every process,
//! `pkill`/`killall` of every Node process, `taskkill`, `fuser -k`. What the
//! signal reaches decides the class: the daemon, every Node process or every
//! process is dangerous (every app goes down); one app's pattern or one pid is
//! caution; `kill -0` only probes.

use super::classify::{joined, lit, Walker, Xargs};
use super::feed::is_pm2_pid_file;
use super::shell::Word;
use super::verdict::{Class, Feed, ProcSet};

const KILLERS: &[&str] = &[
    "kill",
    "pkill",
    "killall",
    "killall5",
    "taskkill",
    "tskill",
    "fuser",
    "skill",
    "snice",
    "kill-port",
    "fkill",
];

pub(super) fn is_kill(name: &str) -> bool {
    KILLERS.contains(&name)
}

/// Words in a process pattern that name Node or PM2 in general, not one app.
const GENERIC: &[&str] = &[
    "node", "nodejs", "node.exe", "exe", "bin", "usr", "local", "js", "npm", "npx", "env",
];
const DAEMON: &[&str] = &["pm2", "god", "daemon", "pm2.exe"];

/// Which processes a name pattern (`pkill -f PATTERN`, `grep PATTERN`) reaches.
pub fn pattern_scope(pattern: &str) -> ProcSet {
    let cleaned: String = pattern
        .chars()
        .filter(|c| !"[]^$\\(){}+?|\"'".contains(*c))
        .collect::<String>()
        .to_ascii_lowercase();
    let tokens: Vec<&str> = cleaned
        .split(|c: char| !(c.is_alphanumeric() || c == '-' || c == '_'))
        .filter(|t| !t.is_empty())
        .filter(|t| !(t.starts_with('v') && t[1..].chars().all(|c| c.is_ascii_digit() || c == '.')))
        .collect();
    let specific: Vec<&&str> = tokens
        .iter()
        .filter(|t| !GENERIC.contains(t) && !DAEMON.contains(t))
        .collect();
    if !specific.is_empty() {
        return ProcSet::Pattern(pattern.to_string());
    }
    if tokens.iter().any(|t| DAEMON.contains(t)) {
        ProcSet::Pm2Daemon
    } else if tokens.iter().any(|t| GENERIC.contains(t)) {
        ProcSet::AllNode
    } else {
        // `.` or `*`: matches everything.
        ProcSet::Everything
    }
}

/// Signal options of `kill`: `-9`, `-KILL`, `-s SIG`, `-n N`, `--signal SIG`.
/// Returns (index of the first target, the signal if given, list-only).
fn kill_signal(args: &[Word]) -> (usize, Option<String>, bool) {
    let mut j = 0;
    let mut sig = None;
    while j < args.len() {
        let t = lit(&args[j]);
        if t == "--" {
            return (j + 1, sig, false);
        }
        if t == "-l" || t == "-L" || t == "--list" || t == "--table" {
            return (args.len(), sig, true);
        }
        if t == "-s" || t == "-n" || t == "--signal" {
            sig = args.get(j + 1).map(lit);
            j += 2;
            continue;
        }
        // The first `-X` is the signal; after it, `-N` is a process group.
        if sig.is_none() && t.starts_with('-') && t.len() > 1 {
            sig = Some(t[1..].to_string());
            j += 1;
            continue;
        }
        break;
    }
    // A trailing `-s` with no value stepped past the end (found by fuzzing: `kill -9 -s`).
    (j.min(args.len()), sig, false)
}

fn is_probe(sig: Option<&str>) -> bool {
    sig.is_some_and(|s| s == "0" || s.eq_ignore_ascii_case("EXIT"))
}

impl Walker<'_> {
    pub(super) fn kill(&mut self, words: &[Word], xargs: Option<&Xargs>, off: usize) {
        let name = super::classify::base(&lit(&words[0])).to_string();
        let args = &words[1..];
        let all = joined(words);
        // `None`: nothing is signalled (a probe, a listing, no target).
        let sets = match name.as_str() {
            "kill" => self.kill_targets(args, xargs),
            "pkill" | "killall" | "skill" | "snice" => self.pattern_kill_targets(args, xargs),
            "killall5" => Some(vec![ProcSet::Everything]),
            "kill-port" | "fkill" => Some(port_kill_targets(&name, args)),
            "taskkill" | "tskill" => Some(self.taskkill_targets(&name, args)),
            "fuser" => fuser_targets(args),
            _ => None,
        };
        if let Some(sets) = sets {
            self.judge_kill(&name, sets, off, all);
        }
    }

    /// `kill [-SIG] PID...`: each pid word (and what xargs feeds it).
    fn kill_targets(&self, args: &[Word], xargs: Option<&Xargs>) -> Option<Vec<ProcSet>> {
        let mut sets: Vec<ProcSet> = vec![];
        let (first, sig, list) = kill_signal(args);
        if list || is_probe(sig.as_deref()) {
            return None;
        }
        for w in &args[first..] {
            sets.push(self.pid_word(w));
        }
        if let Some(x) = xargs {
            sets.push(self.feed_procs(&x.feed));
        }
        Some(sets)
    }

    /// `pkill`/`killall`/`skill`/`snice`: name patterns, a pid file, or a user's processes.
    fn pattern_kill_targets(&self, args: &[Word], xargs: Option<&Xargs>) -> Option<Vec<ProcSet>> {
        let mut sets: Vec<ProcSet> = vec![];
        let mut j = 0;
        let mut user = None;
        let mut pats = vec![];
        while j < args.len() {
            let t = lit(&args[j]);
            if ["-u", "-U", "--user", "--euid", "--uid"].contains(&t.as_str()) {
                user = args.get(j + 1).map(lit);
                j += 2;
                continue;
            }
            if [
                "-s",
                "--signal",
                "-g",
                "-G",
                "-P",
                "-t",
                "-F",
                "--pidfile",
                "-o",
                "-y",
                "--younger-than",
                "--older-than",
                "-n",
                "--ns",
                "--nslist",
            ]
            .contains(&t.as_str())
            {
                if t == "-F" || t == "--pidfile" {
                    if let Some(f) = args.get(j + 1) {
                        if is_pm2_pid_file(&lit(f)) {
                            sets.push(ProcSet::Pm2Daemon);
                        }
                    }
                }
                j += 2;
                continue;
            }
            if !t.starts_with('-') {
                pats.push(args[j].clone());
            }
            j += 1;
        }
        for p in &pats {
            sets.push(match p.literal() {
                Some(t) => pattern_scope(&t),
                None => self.pid_word(p),
            });
        }
        if pats.is_empty() && sets.is_empty() {
            sets.push(match user {
                Some(u) => ProcSet::User(u),
                None => return None,
            });
        }
        if let Some(x) = xargs {
            sets.push(self.feed_procs(&x.feed));
        }
        Some(sets)
    }

    /// `taskkill /IM NAME /PID N`, `tskill PID`.
    fn taskkill_targets(&self, name: &str, args: &[Word]) -> Vec<ProcSet> {
        let mut sets: Vec<ProcSet> = vec![];
        let mut j = 0;
        while j < args.len() {
            let t = lit(&args[j]).to_ascii_uppercase();
            let v = args.get(j + 1).map(lit).unwrap_or_default();
            match t.as_str() {
                "/IM" => sets.push(pattern_scope(&v.replace('*', ""))),
                "/PID" => sets.push(ProcSet::Pids(vec![v])),
                _ => {
                    j += 1;
                    continue;
                }
            }
            j += 2;
        }
        if name == "tskill" {
            if let Some(w) = args.first() {
                sets.push(self.pid_word(w));
            }
        }
        sets
    }

    /// Which processes one `kill` target word reaches.
    fn pid_word(&self, w: &Word) -> ProcSet {
        if let Some(t) = w.literal() {
            return match t.as_str() {
                "-1" => ProcSet::Everything,
                _ => ProcSet::Pids(vec![t]),
            };
        }
        if let Some(v) = w.sole_var() {
            return match self.vars.get(v) {
                Some(f) => self.feed_procs(f),
                None => ProcSet::Pids(vec![w.raw.clone()]),
            };
        }
        if let Some(sub) = w.subs().next() {
            return self.feed_procs(&self.feed_of_script(sub));
        }
        // `-$(cat pm2.pid)`, `"$PID"`...
        if w.raw.contains("pm2.pid") {
            return ProcSet::Pm2Daemon;
        }
        ProcSet::Pids(vec![w.raw.clone()])
    }

    fn feed_procs(&self, f: &Feed) -> ProcSet {
        match f {
            Feed::Procs(s) => s.clone(),
            // Pids from PM2's own list: every app's processes unless filtered by name.
            Feed::PmList { filter: None } => ProcSet::AllNode,
            Feed::PmList { filter: Some(nf) } => ProcSet::Pattern(nf.text.clone()),
            Feed::Literal(ws) => {
                if ws.iter().any(|w| w == "-1") {
                    ProcSet::Everything
                } else {
                    ProcSet::Pids(ws.clone())
                }
            }
            Feed::Unknown(d) => ProcSet::Pids(vec![format!("<{d}>")]),
        }
    }

    fn judge_kill(&mut self, name: &str, sets: Vec<ProcSet>, off: usize, all: String) {
        let mut worst: Option<(Class, String)> = None;
        for s in sets {
            let (class, why) = match &s {
                ProcSet::Pm2Daemon => (Class::Dangerous, "signals the PM2 daemon: with it go every app's processes on the server".to_string()),
                ProcSet::AllNode => (Class::Dangerous, "signals every Node process: every app on the server and the PM2 daemon".to_string()),
                ProcSet::Everything => (Class::Dangerous, "signals every process it may (`-1` or an unfiltered listing): every app and the PM2 daemon".to_string()),
                ProcSet::User(u) => (Class::Dangerous, format!("signals every process of user `{u}`, the PM2 daemon and all its apps included")),
                ProcSet::Port(p) => (Class::Dangerous, format!("signals whatever holds `{p}`: in cluster mode that is the PM2 daemon itself")),
                ProcSet::Pattern(p) => (Class::Caution, format!("signals the processes matching `{p}`: check it matches only the one app, and that PM2 will not just restart it")),
                ProcSet::Pids(p) => (Class::Caution, format!("signals process {} by pid, behind PM2's back", p.join(", "))),
            };
            if worst.as_ref().is_none_or(|(c, _)| class > *c) {
                worst = Some((class, why));
            }
        }
        let Some((class, why)) = worst else {
            return;
        };
        let alt = if class == Class::Dangerous {
            format!(
                "{} (PM2 stops the app's processes itself)",
                self.alt_for("stop")
            )
        } else {
            "pm2 stop <name> or pm2 restart <name> with the app's PM2 name, so PM2 knows".into()
        };
        self.push(class, format!("`{name}` {why}"), Some(alt), off, all);
    }
}

/// npm's `kill-port 3000` and `fkill NAME|:PORT|PID`.
fn port_kill_targets(name: &str, args: &[Word]) -> Vec<ProcSet> {
    let mut sets: Vec<ProcSet> = vec![];
    for w in args.iter().filter(|w| !lit(w).starts_with('-')) {
        let t = lit(w);
        sets.push(if name == "kill-port" || t.starts_with(':') {
            ProcSet::Port(t)
        } else if t.bytes().all(|b| b.is_ascii_digit()) {
            ProcSet::Pids(vec![t])
        } else {
            pattern_scope(&t)
        });
    }
    sets
}

/// `fuser -k FILE|PORT/tcp|MOUNT`: `None` without `-k` (it lists, kills nothing).
fn fuser_targets(args: &[Word]) -> Option<Vec<ProcSet>> {
    let mut sets: Vec<ProcSet> = vec![];
    if !args.iter().any(|w| {
        let t = lit(w);
        t.starts_with('-') && !t.starts_with("--") && t.contains('k')
    }) {
        return None; // lists, kills nothing
    }
    let mounts = args.iter().any(|w| {
        let t = lit(w);
        t == "-m" || t == "-M" || (t.starts_with('-') && !t.starts_with("--") && t.contains('m'))
    });
    // `-n tcp 3000`: the operands are ports.
    let ports = args
        .windows(2)
        .any(|p| lit(&p[0]) == "-n" && matches!(lit(&p[1]).as_str(), "tcp" | "udp"));
    let mut j = 0;
    while j < args.len() {
        let t = lit(&args[j]);
        j += 1;
        if t == "-n" || t == "--namespace" || t.starts_with('-') {
            j += usize::from(t == "-n" || t == "--namespace");
            continue;
        }
        sets.push(if mounts {
            ProcSet::Everything
        } else if ports || t.ends_with("/tcp") || t.ends_with("/udp") || t.contains(':') {
            ProcSet::Port(t)
        } else if t.contains(".pm2") {
            ProcSet::Pm2Daemon
        } else {
            ProcSet::Pattern(t)
        });
    }
    Some(sets)
}
