//! Programs that run other code, as data: wrappers that run the rest of the
//! line as a command (`nohup`, `timeout 30`, `docker exec CONTAINER`), runners
//! of shell text (`ssh host TEXT`, `watch`, `su -c`), shells, interpreters of
//! other languages, schedulers and terminal multiplexers. Each entry says where
//! the inner code is; the walker judges it where it can read it and otherwise
//! says it cannot ("safe only what the guard can read completely").

use super::classify::{lit, Input, Walker, Xargs};
use super::shell::{SimpleCommand, SrcMap, Word};
use super::verdict::Class;

/// How to find the code a program runs.
pub(super) struct Runner {
    pub names: &'static [&'static str],
    /// Subcommand words that select this entry (`docker exec`); empty: none.
    pub sub: &'static [&'static str],
    /// Options that take a value (so the value is not the command).
    pub values: &'static [&'static str],
    /// Options whose value is shell text (`sh -c`, `su -c`, `env -S`, `flock -c`).
    pub text: &'static [&'static str],
    /// Options whose value is code in another language (`python3 -c`).
    pub code: &'static [&'static str],
    /// Options whose value names a file of code (`python3 -m`, `awk -f`, `at -f`).
    pub files: &'static [&'static str],
    /// `NAME=value` words may precede the command (`env`, `sudo`).
    pub assignments: bool,
    pub kind: Kind,
    /// At least caution even when the inner command is readable, and why.
    pub floor: Option<&'static str>,
}

pub(super) enum Kind {
    /// Runs the words after its options and `skip` operands as a command.
    Command { skip: usize, bare: Bare },
    /// Joins the words after `skip` operands (up to a `stop` word) into shell text.
    Text {
        skip: usize,
        bare: Bare,
        stop: &'static [&'static str],
    },
    /// A POSIX-like shell: `-c TEXT`, a script file, or commands on stdin.
    Shell,
    /// Another language: code in an option, a script file, or stdin.
    Interpreter { lang: &'static str },
    /// awk: safe unless its program runs commands (`system()`, pipes).
    Awk,
    /// `.`/`source`: a script file run in this shell.
    Source,
    /// Reads commands (crontab lines when `cron`) from stdin to run later.
    Schedule {
        read_only: &'static [&'static str],
        cron: bool,
    },
    /// Runs commands the guard never sees, except for read-only subcommands.
    Opaque { read_only: &'static [&'static str] },
    /// Only the `text`/`code` options run anything (`script -c`).
    OptsOnly,
}

/// What a wrapper does with no inner command.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Bare {
    Nothing,
    /// Starts a login shell that reads its standard input (`ssh host`, `sudo -i`).
    Login,
}

const fn wrap(
    names: &'static [&'static str],
    values: &'static [&'static str],
    skip: usize,
) -> Runner {
    Runner {
        names,
        sub: &[],
        values,
        text: &[],
        code: &[],
        files: &[],
        assignments: false,
        kind: Kind::Command {
            skip,
            bare: Bare::Nothing,
        },
        floor: None,
    }
}

const fn interp(
    names: &'static [&'static str],
    code: &'static [&'static str],
    files: &'static [&'static str],
    values: &'static [&'static str],
    lang: &'static str,
) -> Runner {
    Runner {
        names,
        sub: &[],
        values,
        text: &[],
        code,
        files,
        assignments: false,
        kind: Kind::Interpreter { lang },
        floor: None,
    }
}

const NONE: &[&str] = &[];

pub(super) const RUNNERS: &[Runner] = &[
    // --- wrappers: the rest of the line is the command ---
    wrap(
        &[
            "nohup",
            "setsid",
            "chronic",
            "unbuffer",
            "caffeinate",
            "builtin",
            "catchsegv",
            "firejail",
            "unshare",
        ],
        NONE,
        0,
    ),
    wrap(&["time"], &["-f", "--format", "-o", "--output"], 0),
    wrap(&["exec"], &["-a"], 0),
    wrap(&["nice"], &["-n", "--adjustment"], 0),
    wrap(
        &["ionice"],
        &["-c", "-n", "-p", "-P", "-u", "--class", "--classdata"],
        0,
    ),
    wrap(
        &["stdbuf"],
        &["-i", "-o", "-e", "--input", "--output", "--error"],
        0,
    ),
    wrap(&["timeout"], &["-s", "-k", "--signal", "--kill-after"], 1),
    wrap(&["taskset", "chrt"], NONE, 1),
    wrap(
        &["cpulimit"],
        &["-l", "--limit", "-p", "--pid", "-e", "--exe"],
        0,
    ),
    wrap(
        &["strace", "ltrace"],
        &[
            "-o", "-e", "-p", "-s", "-u", "-E", "-P", "-I", "-b", "-a", "-O", "-S", "-X",
        ],
        0,
    ),
    wrap(&["busybox", "toybox"], NONE, 0),
    wrap(&["doas"], &["-u", "-C"], 0),
    wrap(&["pkexec"], &["--user"], 0),
    wrap(
        &["systemd-run"],
        &[
            "-u",
            "--unit",
            "-p",
            "--property",
            "-E",
            "--setenv",
            "-M",
            "--machine",
            "--description",
            "--slice",
            "--uid",
            "--gid",
            "--working-directory",
            "-H",
            "--host",
            "--on-active",
            "--on-boot",
            "--on-startup",
            "--on-unit-active",
            "--on-unit-inactive",
            "--on-calendar",
            "--timer-property",
            "--path-property",
            "--socket-property",
            "--service-type",
            "--nice",
        ],
        0,
    ),
    Runner {
        names: &["sudo"],
        values: &[
            "-u",
            "-g",
            "-h",
            "-p",
            "-C",
            "-D",
            "-r",
            "-t",
            "-U",
            "-T",
            "--user",
            "--group",
            "--host",
            "--prompt",
            "--close-from",
            "--chdir",
            "--role",
            "--type",
            "--other-user",
            "--command-timeout",
        ],
        assignments: true,
        kind: Kind::Command {
            skip: 0,
            bare: Bare::Login,
        },
        ..wrap(NONE, NONE, 0)
    },
    Runner {
        names: &["env"],
        values: &["-u", "-C", "--unset", "--chdir", "-P"],
        text: &["-S", "--split-string"],
        assignments: true,
        ..wrap(NONE, NONE, 0)
    },
    Runner {
        names: &["flock"],
        values: &["-w", "--timeout", "-E", "--conflict-exit-code"],
        text: &["-c", "--command"],
        ..wrap(NONE, NONE, 1)
    },
    Runner {
        names: &["su"],
        values: &[
            "-s",
            "--shell",
            "-g",
            "--group",
            "-G",
            "--supp-group",
            "-w",
            "--whitelist-environment",
        ],
        text: &["-c", "--command", "--session-command"],
        kind: Kind::Command {
            skip: 1,
            bare: Bare::Login,
        },
        ..wrap(NONE, NONE, 0)
    },
    Runner {
        names: &["runuser"],
        values: &[
            "-u",
            "--user",
            "-g",
            "--group",
            "-G",
            "--supp-group",
            "-s",
            "--shell",
            "-w",
            "--whitelist-environment",
        ],
        text: &["-c", "--command", "--session-command"],
        kind: Kind::Command {
            skip: 0,
            bare: Bare::Login,
        },
        ..wrap(NONE, NONE, 0)
    },
    Runner {
        names: &["chroot"],
        values: &["--userspec", "--groups"],
        kind: Kind::Command {
            skip: 1,
            bare: Bare::Login,
        },
        ..wrap(NONE, NONE, 0)
    },
    Runner {
        names: &["nsenter"],
        values: &[
            "-t", "--target", "-S", "--setuid", "-G", "--setgid", "--wd", "-r", "--root", "-w",
        ],
        kind: Kind::Command {
            skip: 0,
            bare: Bare::Login,
        },
        ..wrap(NONE, NONE, 0)
    },
    Runner {
        names: &["docker", "podman", "nerdctl"],
        sub: &["exec"],
        values: &[
            "-u",
            "--user",
            "-w",
            "--workdir",
            "-e",
            "--env",
            "--env-file",
            "--detach-keys",
        ],
        ..wrap(NONE, NONE, 1)
    },
    Runner {
        names: &["docker", "podman", "nerdctl"],
        sub: &["container", "exec"],
        values: &[
            "-u",
            "--user",
            "-w",
            "--workdir",
            "-e",
            "--env",
            "--env-file",
            "--detach-keys",
        ],
        ..wrap(NONE, NONE, 1)
    },
    Runner {
        names: &["docker", "podman"],
        sub: &["compose", "exec"],
        values: &["-u", "--user", "-w", "--workdir", "-e", "--env", "--index"],
        ..wrap(NONE, NONE, 1)
    },
    Runner {
        names: &["docker-compose"],
        sub: &["exec"],
        values: &["-u", "--user", "-w", "--workdir", "-e", "--env", "--index"],
        ..wrap(NONE, NONE, 1)
    },
    Runner {
        names: &["kubectl", "oc"],
        sub: &["exec"],
        values: &[
            "-c",
            "--container",
            "-n",
            "--namespace",
            "-f",
            "--filename",
            "--pod-running-timeout",
            "--context",
            "--kubeconfig",
        ],
        ..wrap(NONE, NONE, 1)
    },
    Runner {
        names: &["ip"],
        sub: &["netns", "exec"],
        ..wrap(NONE, NONE, 1)
    },
    // --- shell text ---
    Runner {
        names: &["ssh"],
        values: &[
            "-p", "-i", "-l", "-o", "-F", "-J", "-L", "-R", "-D", "-b", "-c", "-e", "-m", "-O",
            "-S", "-W", "-w", "-E", "-B", "-Q", "-I",
        ],
        kind: Kind::Text {
            skip: 1,
            bare: Bare::Login,
            stop: NONE,
        },
        ..wrap(NONE, NONE, 0)
    },
    Runner {
        names: &["watch"],
        values: &["-n", "--interval", "-q", "--equexit"],
        kind: Kind::Text {
            skip: 0,
            bare: Bare::Nothing,
            stop: NONE,
        },
        ..wrap(NONE, NONE, 0)
    },
    Runner {
        names: &["parallel"],
        values: &[
            "-j",
            "--jobs",
            "-S",
            "--sshlogin",
            "--joblog",
            "-a",
            "--arg-file",
            "--delay",
            "--timeout",
            "--results",
            "--colsep",
            "-d",
            "--delimiter",
            "-I",
            "--tmpdir",
            "--workdir",
            "--wd",
            "-E",
        ],
        kind: Kind::Text {
            skip: 0,
            bare: Bare::Nothing,
            stop: &[":::", "::::", ":::+", "::::+"],
        },
        floor: Some("`parallel` runs the command once for every input line"),
        ..wrap(NONE, NONE, 0)
    },
    Runner {
        names: &["script"],
        values: &[
            "-E",
            "--echo",
            "-I",
            "--log-in",
            "-O",
            "--log-out",
            "-B",
            "--log-io",
            "-T",
            "--log-timing",
            "-m",
            "--logging-format",
            "-o",
            "--output-limit",
        ],
        text: &["-c", "--command"],
        kind: Kind::OptsOnly,
        ..wrap(NONE, NONE, 0)
    },
    // --- shells ---
    Runner {
        names: &[
            "sh", "bash", "dash", "zsh", "ksh", "ash", "mksh", "yash", "posh", "lksh", "rbash",
        ],
        values: &["-o", "+o", "-O", "+O", "--rcfile", "--init-file"],
        kind: Kind::Shell,
        ..wrap(NONE, NONE, 0)
    },
    Runner {
        names: &["fish", "tcsh", "csh", "elvish", "nu", "xonsh"],
        values: &["-C", "--init-command"],
        kind: Kind::Shell,
        ..wrap(NONE, NONE, 0)
    },
    Runner {
        names: &[".", "source"],
        kind: Kind::Source,
        ..wrap(NONE, NONE, 0)
    },
    // --- other languages ---
    interp(
        &["python", "python2", "python3", "pypy", "pypy3"],
        &["-c"],
        &["-m"],
        &["-W", "-X", "--check-hash-based-pycs"],
        "Python",
    ),
    interp(
        &["perl"],
        &["-e", "-E"],
        &["-M", "-m"],
        &["-I", "-x", "-i", "-l", "-0", "-F"],
        "Perl",
    ),
    interp(
        &["ruby", "jruby"],
        &["-e"],
        &["-r"],
        &["-I", "-C", "-E", "-F"],
        "Ruby",
    ),
    interp(
        &["php"],
        &["-r", "-B", "-R", "-E"],
        &["-F", "-f"],
        &["-c", "-d", "-z"],
        "PHP",
    ),
    interp(&["lua", "luajit"], &["-e"], &["-l"], NONE, "Lua"),
    interp(&["Rscript"], &["-e"], NONE, NONE, "R"),
    interp(&["osascript"], &["-e"], NONE, &["-l", "-s"], "AppleScript"),
    interp(
        &["pwsh", "powershell", "powershell.exe", "pwsh.exe"],
        &["-c", "-Command", "-command", "-EncodedCommand", "-e", "-ec"],
        &["-File", "-f", "-file"],
        &["-ExecutionPolicy", "-ep"],
        "PowerShell",
    ),
    interp(
        &["ts-node", "tsx", "bun"],
        &["-e", "--eval", "-p", "--print"],
        &["-r", "--require"],
        NONE,
        "JavaScript/TypeScript",
    ),
    interp(&["expect", "tclsh", "wish"], &["-c"], &["-f"], NONE, "Tcl"),
    Runner {
        names: &["deno"],
        sub: &["eval"],
        ..interp(NONE, NONE, NONE, NONE, "JavaScript/TypeScript")
    },
    Runner {
        names: &["deno"],
        sub: &["run"],
        values: &[
            "--config",
            "-c",
            "--import-map",
            "--location",
            "--seed",
            "--v8-flags",
            "--cert",
            "--inspect",
        ],
        ..interp(NONE, NONE, NONE, NONE, "JavaScript/TypeScript")
    },
    Runner {
        names: &["awk", "gawk", "mawk", "nawk", "busybox-awk"],
        values: &["-F", "-v", "--assign", "--field-separator"],
        code: &["-e", "--source"],
        files: &["-f", "--file", "-i", "--include", "-l", "--load"],
        kind: Kind::Awk,
        ..wrap(NONE, NONE, 0)
    },
    // --- schedulers: the commands run later, unwatched ---
    Runner {
        names: &["at", "batch"],
        values: &["-q", "-t"],
        files: &["-f"],
        kind: Kind::Schedule {
            read_only: &["-l", "-c", "-d", "-r"],
            cron: false,
        },
        floor: Some("it schedules commands to run later, when no one is watching"),
        ..wrap(NONE, NONE, 0)
    },
    Runner {
        names: &["crontab"],
        values: &["-u"],
        kind: Kind::Schedule {
            read_only: &["-l", "-T"],
            cron: true,
        },
        floor: Some("`crontab` replaces the schedule: its commands run later, unwatched"),
        ..wrap(NONE, NONE, 0)
    },
    // --- terminal multiplexers: run what is typed or passed, unwatched ---
    Runner {
        names: &["tmux"],
        values: &["-L", "-S", "-f", "-c", "-T"],
        kind: Kind::Opaque {
            read_only: &[
                "ls",
                "list-sessions",
                "attach",
                "attach-session",
                "a",
                "at",
                "has-session",
                "has",
                "list-windows",
                "lsw",
                "list-panes",
                "lsp",
                "capture-pane",
                "capturep",
                "display-message",
                "display",
                "list-clients",
                "lsc",
                "show-options",
                "show",
                "-V",
                "detach",
                "detach-client",
            ],
        },
        ..wrap(NONE, NONE, 0)
    },
    Runner {
        names: &["screen"],
        kind: Kind::Opaque {
            read_only: &["-ls", "-list", "-r", "-x", "-R", "-v", "-version"],
        },
        ..wrap(NONE, NONE, 0)
    },
];

/// The entry for program `name` (basename) followed by `rest`.
pub(super) fn lookup(name: &str, rest: &[Word]) -> Option<&'static Runner> {
    // `runuser -u USER [--] COMMAND` runs a command; without `-u` it is su's form
    // (`runuser [-l] USER -c TEXT`): the first operand is the user.
    let name = if name == "runuser" && !rest.iter().any(|w| names_user(&lit(w))) {
        "su"
    } else {
        name
    };
    RUNNERS.iter().find(|r| {
        r.names.contains(&name)
            && r.sub.len() <= rest.len()
            && r.sub
                .iter()
                .zip(rest)
                .all(|(s, w)| w.literal().as_deref() == Some(*s))
    })
}

/// `-u`, `-uUSER`, `--user`, `--user=USER`.
fn names_user(t: &str) -> bool {
    t.starts_with("-u") || t == "--user" || t.starts_with("--user=")
}

const VERSION_FLAGS: &[&str] = &["--version", "-V", "--help", "-h", "-v", "-version"];

/// What the option scan found.
#[derive(Default)]
struct Opts<'w> {
    /// Index of the first operand.
    end: usize,
    text: Option<&'w Word>,
    code: Option<(&'w Word, String)>,
    file: Option<String>,
    /// A shell's `-c` (possibly in a cluster like `-lc`).
    shell_c: bool,
    /// A shell's `-s` or `-`: the script comes from stdin.
    shell_s: bool,
    /// A shell's `-n`: read the script, run nothing.
    shell_n: bool,
    version: bool,
}

fn scan_opts<'w>(r: &Runner, words: &'w [Word]) -> Opts<'w> {
    let shell = matches!(r.kind, Kind::Shell);
    let mut o = Opts::default();
    let mut j = 1 + r.sub.len();
    while j < words.len() {
        let t = lit(&words[j]);
        if t == "--" {
            j += 1;
            break;
        }
        if t == "-" {
            o.shell_s |= shell;
            j += 1;
            if shell {
                break;
            }
            continue;
        }
        let opt = t.starts_with('-') || (shell && t.starts_with('+') && t.len() > 1);
        if !opt {
            if r.assignments && is_assignment(&t) {
                j += 1;
                continue;
            }
            break;
        }
        o.version |= VERSION_FLAGS.contains(&t.as_str());
        let key = t.split_once('=').map(|(k, _)| k).unwrap_or(&t);
        let inline = t.starts_with("--") && t.contains('=');
        let step = if inline { 1 } else { 2 };
        if r.text.contains(&key) {
            o.text = if inline { None } else { words.get(j + 1) };
            j += step;
            continue;
        }
        if r.code.contains(&key) {
            o.code = words
                .get(j + 1)
                .filter(|_| !inline)
                .map(|w| (w, key.to_string()));
            j += step;
            continue;
        }
        if r.files.contains(&key) {
            o.file = Some(if inline {
                t.clone()
            } else {
                words.get(j + 1).map(|w| w.raw.clone()).unwrap_or_default()
            });
            j += step;
            continue;
        }
        if r.values.contains(&key) {
            j += step;
            continue;
        }
        if shell && !t.starts_with("--") {
            o.shell_c |= t[1..].contains('c');
            o.shell_s |= t[1..].contains('s');
            o.shell_n |= t.starts_with('-') && t[1..].contains('n');
        }
        j += 1;
    }
    o.end = j.min(words.len());
    o
}

fn is_assignment(t: &str) -> bool {
    match t.split_once('=') {
        Some((k, _)) => {
            !k.is_empty()
                && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                && !k.starts_with(|c: char| c.is_ascii_digit())
        }
        None => false,
    }
}

impl Walker<'_> {
    /// Apply a runner entry to `words` (`words[0]` is the program). Returns the
    /// index of the inner command when the walk should go on with it.
    pub(super) fn runner(
        &mut self,
        r: &Runner,
        words: &[Word],
        input: &Input,
        xargs: Option<&Xargs>,
        off: usize,
    ) -> Option<usize> {
        let name = words[0].raw.clone();
        let all = super::classify::joined(words);
        let o = scan_opts(r, words);
        let operands = &words[o.end..];
        if let Some(w) = o.text {
            if !matches!(r.kind, Kind::Shell) {
                self.shell_word(w, input, xargs, off, &all);
                self.floor(r, off, &all);
                return None;
            }
        }
        if let Some((code, opt)) = &o.code {
            let lang = match r.kind {
                Kind::Interpreter { lang } => lang,
                _ => "program",
            };
            self.unreadable(format!("`{name} {opt}` runs {lang} code"), off, all.clone());
            let (text, map) = code.shell_text();
            let map = self.to_abs(&map, text.len());
            self.scan_strings(&text, &map);
            return None;
        }
        if let Some(f) = &o.file {
            self.unreadable(format!("`{name}` runs the code in `{f}`"), off, all);
            return None;
        }
        match r.kind {
            Kind::Command { skip, bare } => {
                let mut j = o.end + skip;
                // Options may follow the operands (`su deploy -c TEXT`, `flock FILE -c TEXT`).
                while skip > 0 && j < words.len() && lit(&words[j]).starts_with('-') {
                    let t = lit(&words[j]);
                    if t == "--" {
                        break;
                    }
                    if r.text.contains(&t.as_str()) {
                        if let Some(w) = words.get(j + 1) {
                            self.shell_word(w, input, xargs, off, &all);
                        }
                        self.floor(r, off, &all);
                        return None;
                    }
                    j += if r.values.contains(&t.as_str()) { 2 } else { 1 };
                }
                if words.get(j).and_then(|w| w.literal()).as_deref() == Some("--") {
                    j += 1;
                }
                self.floor(r, off, &all);
                if j >= words.len() {
                    if bare == Bare::Login {
                        self.login_input(&name, input, off, &all);
                    }
                    return None;
                }
                Some(j)
            }
            Kind::Text { skip, bare, stop } => {
                let from = (o.end + skip).min(words.len());
                let to = words[from..]
                    .iter()
                    .position(|w| w.literal().is_some_and(|t| stop.contains(&t.as_str())))
                    .map(|p| from + p)
                    .unwrap_or(words.len());
                self.floor(r, off, &all);
                if from >= to {
                    if bare == Bare::Login {
                        self.login_input(&name, input, off, &all);
                    } else if !stop.is_empty() {
                        self.unreadable(format!("`{name}` runs commands from its input"), off, all);
                    }
                    return None;
                }
                if let Some((text, map)) = self.text_of_words(&words[from..to]) {
                    self.guarded_text(&text, &map, input, xargs, off, &all);
                }
                None
            }
            Kind::Shell => {
                if o.shell_c || o.text.is_some() {
                    if let Some(w) = o.text.or(operands.first()) {
                        self.shell_word(w, input, xargs, off, &all);
                    }
                    return None;
                }
                if o.version || o.shell_n {
                    return None;
                }
                if let Some(file) = operands.first().filter(|_| !o.shell_s) {
                    self.unreadable(
                        format!("`{name} {}` runs a script file", file.raw),
                        off,
                        all,
                    );
                    return None;
                }
                if xargs.is_some() {
                    self.unreadable(
                        format!("`xargs {name}` runs scripts named by its input"),
                        off,
                        all,
                    );
                    return None;
                }
                self.shell_input(&name, input, off, &all);
                None
            }
            Kind::Interpreter { lang } => {
                if o.version && operands.is_empty() {
                    return None;
                }
                // `deno eval CODE`: the operand is the code.
                if r.sub == ["eval"] {
                    if let Some(code) = operands.first() {
                        self.unreadable(format!("`{name} eval` runs {lang} code"), off, all);
                        let (text, map) = code.shell_text();
                        let map = self.to_abs(&map, text.len());
                        self.scan_strings(&text, &map);
                    }
                    return None;
                }
                if let Some(file) = operands.first() {
                    self.unreadable(
                        format!("`{name} {}` runs a {lang} file", file.raw),
                        off,
                        all,
                    );
                    return None;
                }
                self.interpreter_input(&name, input, off);
                None
            }
            Kind::Awk => {
                let prog = operands.first()?;
                let (text, map) = prog.shell_text();
                if awk_runs_commands(&text) {
                    self.unreadable(
                        "the awk program runs commands (`system()` or a pipe)".to_string(),
                        off,
                        all,
                    );
                    let map = self.to_abs(&map, text.len());
                    self.scan_strings(&text, &map);
                }
                None
            }
            Kind::Source => {
                if let Some(file) = operands.first() {
                    self.unreadable(
                        format!("`{name} {}` runs a script file in this shell", file.raw),
                        off,
                        all,
                    );
                }
                None
            }
            Kind::Schedule { read_only, cron } => {
                if words[1..]
                    .iter()
                    .any(|w| w.literal().is_some_and(|t| read_only.contains(&t.as_str())))
                {
                    return None;
                }
                self.floor(r, off, &all);
                // `crontab FILE` installs a file; `at TIME` reads commands from stdin.
                if cron {
                    if let Some(f) = operands
                        .iter()
                        .find(|w| w.literal().as_deref() != Some("-"))
                    {
                        self.unreadable(
                            format!("`{name} {}` installs a schedule from a file", f.raw),
                            off,
                            all,
                        );
                        return None;
                    }
                }
                match input {
                    Input::Text(text, map) => {
                        if cron {
                            self.cron_lines(text, map);
                        } else {
                            self.nested_abs(text, map, Input::Terminal);
                        }
                    }
                    Input::Opaque(d) => self.unreadable(
                        format!("`{name}` schedules commands read from {d}"),
                        off,
                        all,
                    ),
                    Input::Terminal => self.unreadable(
                        format!("`{name}` schedules commands typed at it"),
                        off,
                        all,
                    ),
                }
                None
            }
            Kind::Opaque { read_only } => {
                let first = words[1..]
                    .iter()
                    .map(lit)
                    .find(|t| !t.starts_with('-') || read_only.contains(&t.as_str()));
                if words.len() == 1 || first.is_some_and(|t| read_only.contains(&t.as_str())) {
                    return None;
                }
                self.unreadable(
                    format!("`{name}` runs commands in a session the guard does not watch"),
                    off,
                    all,
                );
                for w in &words[1..] {
                    let (text, map) = w.shell_text();
                    let map = self.to_abs(&map, text.len());
                    self.scan_strings_plain(&text, &map);
                }
                None
            }
            Kind::OptsOnly => None,
        }
    }

    fn floor(&mut self, r: &Runner, off: usize, all: &str) {
        if let Some(why) = r.floor {
            self.push(
                Class::Caution,
                format!("{why}: confirm what it runs"),
                None,
                off,
                all.to_string(),
            );
        }
    }

    /// A word that another shell runs as its script (`sh -c WORD`, `su -c WORD`).
    fn shell_word(
        &mut self,
        w: &Word,
        input: &Input,
        xargs: Option<&Xargs>,
        off: usize,
        all: &str,
    ) {
        if let Some((text, map)) = self.text_of(w) {
            self.guarded_text(&text, &map, input, xargs, off, all);
        }
    }

    fn guarded_text(
        &mut self,
        text: &str,
        map: &SrcMap,
        input: &Input,
        xargs: Option<&Xargs>,
        off: usize,
        all: &str,
    ) {
        if let Some(r) = xargs.and_then(|x| x.replace.as_ref()) {
            if text.contains(r.as_str()) {
                self.unreadable(
                    format!("the shell code is built from xargs' input (`{r}`)"),
                    off,
                    all.to_string(),
                );
                return;
            }
        }
        self.nested(text, map, input.clone());
    }

    /// A shell reading its commands from standard input.
    fn shell_input(&mut self, name: &str, input: &Input, off: usize, all: &str) {
        match input {
            Input::Text(text, map) => self.nested_abs(text, map, Input::Terminal),
            Input::Opaque(d) => self.unreadable(
                format!("`{name}` reads its commands from {d}"),
                off,
                all.to_string(),
            ),
            Input::Terminal => self.unreadable(
                format!("`{name}` reads its commands from standard input"),
                off,
                all.to_string(),
            ),
        }
    }

    /// A login shell (`ssh host`, `sudo -i`): interactive on a terminal, else
    /// it runs whatever it is fed.
    fn login_input(&mut self, name: &str, input: &Input, off: usize, all: &str) {
        match input {
            Input::Terminal => {}
            _ => self.shell_input(name, input, off, all),
        }
    }

    /// An interpreter reading its program from standard input.
    pub(super) fn interpreter_input(&mut self, name: &str, input: &Input, off: usize) {
        let what = match input {
            Input::Text(text, map) => {
                let (text, map) = (text.clone(), map.clone());
                self.unreadable(
                    format!("`{name}` runs the program it is fed"),
                    off,
                    name.to_string(),
                );
                self.scan_strings(&text, &map);
                return;
            }
            Input::Opaque(d) => format!("`{name}` runs a program read from {d}"),
            Input::Terminal => format!("`{name}` runs a program read from standard input"),
        };
        self.unreadable(what, off, name.to_string());
    }

    /// crontab lines: five time fields (or `@reboot`), then a shell command.
    fn cron_lines(&mut self, text: &str, map: &SrcMap) {
        let mut start = 0;
        for line in text.split_inclusive('\n') {
            let body = line.trim_end_matches(['\n', '\r']);
            let trimmed = body.trim_start();
            let lead = body.len() - trimmed.len();
            if !(trimmed.is_empty()
                || trimmed.starts_with('#')
                || is_assignment(trimmed.split_whitespace().next().unwrap_or("")))
            {
                let fields = if trimmed.starts_with('@') { 1 } else { 5 };
                let mut k = lead;
                for _ in 0..fields {
                    let rest = &body[k..];
                    let ws = rest.len() - rest.trim_start().len();
                    k += ws;
                    let rest = &body[k..];
                    k += rest.find([' ', '\t']).unwrap_or(rest.len());
                }
                let cmd = &body[k..];
                let at: Vec<usize> = (0..cmd.len()).map(|i| map.at(start + k + i)).collect();
                self.nested_abs(cmd, &SrcMap::Each(at), Input::Terminal);
            }
            start += line.len();
        }
    }

    /// String literals inside code the guard cannot read: if one of them is a
    /// dangerous command (`os.system("pm2 delete all")`), say so. `map` places
    /// `code` in the analysed source.
    pub(super) fn scan_strings(&mut self, code: &str, map: &SrcMap) {
        for (s, e) in string_literals(code) {
            let at: Vec<usize> = (s..e).map(|i| map.at(i)).collect();
            self.dangerous_only(&code[s..e], &SrcMap::Each(at));
        }
    }

    /// The same for a whole argument (`tmux send-keys 'pm2 delete all' Enter`).
    fn scan_strings_plain(&mut self, text: &str, map: &SrcMap) {
        self.dangerous_only(text, map);
    }

    fn dangerous_only(&mut self, text: &str, map: &SrcMap) {
        let n0 = self.findings.len();
        self.nested_abs(text, map, Input::Terminal);
        let mut k = n0;
        while k < self.findings.len() {
            let f = &self.findings[k];
            if f.class == Class::Dangerous && !f.reason.starts_with("cannot parse") {
                k += 1;
            } else {
                self.remove_finding(k);
            }
        }
    }

    /// `find ... -exec CMD {} ;`: the command runs once per file found.
    pub(super) fn find(&mut self, cmd: &SimpleCommand, words: &[Word], off: usize) {
        let texts: Vec<String> = words.iter().map(lit).collect();
        if texts.iter().any(|t| t == "-delete") {
            // The start paths and the name/path patterns say what it reaches.
            let pm2_state = texts.iter().enumerate().skip(1).any(|(k, t)| {
                let named = k > 1
                    && matches!(
                        texts[k - 1].as_str(),
                        "-name" | "-iname" | "-path" | "-ipath" | "-wholename"
                    );
                let pattern = t.trim_matches(|c| c == '"' || c == '\'');
                super::pm2_state::is_state_path(t)
                    || (named
                        && (pattern.starts_with("dump.pm2")
                            || matches!(pattern, ".pm2" | "pm2.pid" | "*.pm2" | "dump*")))
            });
            let (class, reason) = if pm2_state {
                (
                    Class::Dangerous,
                    "`find -delete` reaches PM2's saved list or home: the record of every app `pm2 resurrect` brings back is lost".to_string(),
                )
            } else {
                (
                    Class::Caution,
                    "`find -delete` removes every file it finds: confirm the paths and patterns"
                        .to_string(),
                )
            };
            self.push(class, reason, None, off, super::classify::joined(words));
        }
        let mut j = 1;
        while j < words.len() {
            let t = lit(&words[j]);
            j += 1;
            if !["-exec", "-execdir", "-ok", "-okdir"].contains(&t.as_str()) {
                continue;
            }
            let from = j;
            while j < words.len() && !matches!(lit(&words[j]).as_str(), ";" | "+") {
                j += 1;
            }
            let inner = &words[from..j];
            j += 1;
            if inner.is_empty() {
                continue;
            }
            self.push(
                Class::Caution,
                format!(
                    "`find {t}` runs `{}` for every file found: confirm what it runs",
                    super::classify::joined(inner)
                ),
                None,
                off,
                super::classify::joined(words),
            );
            self.run(
                cmd,
                inner,
                None,
                &Input::Opaque("the files found".into()),
                None,
            );
        }
    }

    /// git: aliases and `-c` settings can run shell code; a few subcommands take commands.
    pub(super) fn git(&mut self, cmd: &SimpleCommand, words: &[Word], input: &Input, off: usize) {
        let all = super::classify::joined(words);
        let mut j = 1;
        while j < words.len() {
            let t = lit(&words[j]);
            if t == "-c" || t == "--config-env" {
                let v = words.get(j + 1).map(lit).unwrap_or_default();
                self.unreadable(
                    format!("`git {t} {v}` can define aliases and helpers that run shell code"),
                    off,
                    all.clone(),
                );
                if let Some((_, code)) = v.split_once("=!") {
                    let map = SrcMap::Each(vec![words[j + 1].offset; code.len()]);
                    let map = self.to_abs(&map, code.len());
                    self.dangerous_only(code, &map);
                }
                j += 2;
            } else if [
                "-C",
                "--git-dir",
                "--work-tree",
                "--namespace",
                "--exec-path",
            ]
            .contains(&t.as_str())
            {
                j += 2;
            } else if t.starts_with('-') {
                j += 1;
            } else {
                break;
            }
        }
        let Some(sub) = words.get(j).map(lit) else {
            return;
        };
        let rest = &words[j + 1..];
        match sub.as_str() {
            "submodule" if rest.first().map(lit).as_deref() == Some("foreach") => {
                let k = rest[1..]
                    .iter()
                    .position(|w| !lit(w).starts_with('-'))
                    .map(|p| p + 1)
                    .unwrap_or(rest.len());
                if let Some((text, map)) = self.text_of_words(&rest[k..]) {
                    self.nested(&text, &map, input.clone());
                }
            }
            "bisect" if rest.first().map(lit).as_deref() == Some("run") => {
                self.run(cmd, &rest[1..], None, input, None);
            }
            "rebase" => {
                if let Some(p) = rest
                    .iter()
                    .position(|w| matches!(lit(w).as_str(), "-x" | "--exec"))
                {
                    if let Some(w) = rest.get(p + 1) {
                        self.shell_word(w, input, None, off, &all);
                    }
                }
            }
            s if GIT_COMMANDS.contains(&s) => {}
            s => self.unreadable(
                format!("`git {s}` is not a git command: a git alias may run shell code"),
                off,
                all,
            ),
        }
    }
}

/// Does an awk program run commands?
fn awk_runs_commands(prog: &str) -> bool {
    let mut in_str = false;
    let mut prev = ' ';
    for c in prog.chars() {
        match c {
            '"' if prev != '\\' => in_str = !in_str,
            '|' if !in_str => return true,
            _ => {}
        }
        prev = c;
    }
    prog.contains("system(") || prog.contains("system (")
}

/// Byte ranges of the contents of '…' and "…" literals in code of any C-like
/// or scripting language (escapes skipped, never split inside a character).
fn string_literals(code: &str) -> Vec<(usize, usize)> {
    let mut out = vec![];
    let mut it = code.char_indices().peekable();
    while let Some((i, c)) = it.next() {
        if c != '\'' && c != '"' {
            continue;
        }
        let start = i + 1;
        let mut end = None;
        while let Some((k, d)) = it.next() {
            if d == '\\' {
                it.next();
            } else if d == c {
                end = Some(k);
                break;
            }
        }
        if let Some(e) = end {
            out.push((start, e));
        }
    }
    out
}

const GIT_COMMANDS: &[&str] = &[
    "add",
    "am",
    "annotate",
    "apply",
    "archive",
    "bisect",
    "blame",
    "branch",
    "bundle",
    "cat-file",
    "check-ignore",
    "checkout",
    "cherry",
    "cherry-pick",
    "clean",
    "clone",
    "commit",
    "config",
    "count-objects",
    "describe",
    "diff",
    "diff-files",
    "diff-index",
    "diff-tree",
    "difftool",
    "fetch",
    "for-each-ref",
    "format-patch",
    "fsck",
    "gc",
    "grep",
    "help",
    "init",
    "log",
    "ls-files",
    "ls-remote",
    "ls-tree",
    "merge",
    "merge-base",
    "mergetool",
    "mv",
    "name-rev",
    "notes",
    "prune",
    "pull",
    "push",
    "range-diff",
    "rebase",
    "reflog",
    "remote",
    "repack",
    "replace",
    "reset",
    "restore",
    "rev-list",
    "rev-parse",
    "revert",
    "rm",
    "shortlog",
    "show",
    "show-branch",
    "show-ref",
    "sparse-checkout",
    "stash",
    "status",
    "submodule",
    "switch",
    "symbolic-ref",
    "tag",
    "update-index",
    "update-ref",
    "var",
    "verify-commit",
    "verify-tag",
    "version",
    "whatchanged",
    "worktree",
    "lfs",
    "maintenance",
    "--version",
    "--help",
    "-h",
];
