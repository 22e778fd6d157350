//! Where computed targets come from: pipeline stages, `$(...)`, variables
//! bound by assignments, `for` and `read`. A PM2 list without a name filter is
//! the runbook's dangerous pattern.

use super::classify::{base, is_pm2_path, joined, lit, Walker};
use super::names::{jq_name_filter, js_name_filter, STATUS_WORDS};
use super::shell::{Script, SimpleCommand, Word};
use super::verdict::{Feed, NameFilter};

const PM2_LIST_VERBS: &[&str] = &["jlist", "list", "ls", "l", "ps", "status", "prettylist"];

impl Walker<'_> {
    pub(super) fn feed_of_word(&self, w: &Word) -> Feed {
        if let Some(v) = w.sole_var() {
            return self
                .vars
                .get(v)
                .cloned()
                .unwrap_or_else(|| Feed::Unknown(format!("${v}")));
        }
        if let Some(sub) = w.subs().next() {
            return self.feed_of_script(sub);
        }
        match w.literal() {
            Some(t) => Feed::Literal(t.split_whitespace().map(String::from).collect()),
            None => Feed::Unknown(w.raw.clone()),
        }
    }

    pub(super) fn feed_of_script(&self, s: &Script) -> Feed {
        match s.pipelines.last() {
            Some(p) => self.feed_of_stages(&p.commands),
            None => Feed::Unknown("an empty command".into()),
        }
    }

    /// What a pipeline prefix writes to stdout, as a target source.
    pub(super) fn feed_of_stages(&self, stages: &[SimpleCommand]) -> Feed {
        let mut source: Option<Feed> = None;
        let mut filter: Option<NameFilter> = None;
        for st in stages {
            let (name, args) = effective(&st.words);
            let args_lit: Vec<String> = args.iter().map(lit).collect();
            match name.as_str() {
                n if is_pm2_path(n) => {
                    let verb = args_lit.iter().find(|a| !a.starts_with('-'));
                    if verb.is_some_and(|v| PM2_LIST_VERBS.contains(&v.as_str())) {
                        source = Some(Feed::PmList { filter: None });
                        filter = None;
                    } else {
                        source = Some(Feed::Unknown(format!(
                            "the output of `{}`",
                            joined(&st.words)
                        )));
                    }
                }
                "echo" | "printf" if args.iter().all(|w| !w.is_dynamic()) => {
                    let words: Vec<String> = args_lit
                        .iter()
                        .filter(|a| !a.starts_with('-'))
                        .flat_map(|a| a.split_whitespace().map(String::from).collect::<Vec<_>>())
                        .collect();
                    source = Some(Feed::Literal(words));
                }
                "grep" | "egrep" | "fgrep" | "rg" => {
                    let inverted = args_lit
                        .iter()
                        .any(|a| a.starts_with('-') && !a.starts_with("--") && a.contains('v'))
                        || args_lit.iter().any(|a| a == "--invert-match");
                    let pattern = args_lit
                        .iter()
                        .position(|a| a == "-e")
                        .and_then(|p| args_lit.get(p + 1))
                        .or_else(|| args_lit.iter().find(|a| !a.starts_with('-')));
                    if let Some(p) = pattern {
                        if !inverted && !STATUS_WORDS.iter().any(|s| p.contains(s)) {
                            filter = Some(NameFilter {
                                explicit: false,
                                text: format!("grep {p}"),
                            });
                        }
                    }
                    if source.is_none() {
                        source = Some(Feed::Unknown(format!("`{}`", joined(&st.words))));
                    }
                }
                "jq" | "gojq" | "jaq" => {
                    let prog = jq_program(&args_lit);
                    if let Some(f) = prog.and_then(jq_name_filter) {
                        filter = Some(f);
                    }
                    if source.is_none() {
                        source = Some(Feed::Unknown(format!("`{}`", joined(&st.words))));
                    }
                }
                "node" | "nodejs" => {
                    if let Some(p) = args_lit
                        .iter()
                        .position(|a| a == "-e" || a == "--eval" || a == "-p")
                    {
                        if let Some(f) = args_lit.get(p + 1).and_then(|c| js_name_filter(c)) {
                            filter = Some(f);
                        }
                    }
                    source.get_or_insert(Feed::Unknown(format!("`{}`", joined(&st.words))));
                }
                "awk" | "gawk" | "mawk" => {
                    if let Some(p) = args_lit.iter().find(|a| !a.starts_with('-')) {
                        if (p.contains("~ /") || p.contains("~/") || p.contains("== \""))
                            && !p.contains("!~")
                        {
                            filter = Some(NameFilter {
                                explicit: p.contains("== \""),
                                text: format!("awk {p}"),
                            });
                        }
                    }
                    source.get_or_insert(Feed::Unknown(format!("`{}`", joined(&st.words))));
                }
                "head" | "tail" | "sort" | "uniq" | "cut" | "tr" | "sed" | "tee" | "column"
                | "cat"
                    if source.is_some() => {}
                _ => {
                    source = Some(Feed::Unknown(format!(
                        "the output of `{}`",
                        joined(&st.words)
                    )))
                }
            }
        }
        match source {
            Some(Feed::PmList { .. }) => Feed::PmList { filter },
            Some(f) => f,
            None => Feed::Unknown("standard input".into()),
        }
    }
}

/// The jq program: the first non-option argument (skipping `--arg NAME VALUE`).
fn jq_program(args: &[String]) -> Option<&str> {
    let mut j = 0;
    while j < args.len() {
        let a = args[j].as_str();
        if ["--arg", "--argjson", "--slurpfile", "--rawfile"].contains(&a) {
            j += 3;
        } else if a == "-f" || a == "--from-file" || a == "--indent" {
            j += 2;
        } else if a.starts_with('-') {
            j += 1;
        } else {
            return Some(a);
        }
    }
    None
}

/// Command name and arguments after common wrappers (for pipeline-stage analysis).
fn effective(words: &[Word]) -> (String, &[Word]) {
    let mut i = 0;
    while i < words.len() {
        let t = lit(&words[i]);
        match base(&t) {
            "sudo" | "env" | "nohup" | "command" | "npx" | "exec" | "time" => {
                i += 1;
                while i < words.len() {
                    let t = lit(&words[i]);
                    if t == "-u" || t == "-p" {
                        i += 2;
                    } else if t.starts_with('-') || t.contains('=') {
                        i += 1;
                    } else {
                        break;
                    }
                }
            }
            b => {
                let b = if is_pm2_path(&t) {
                    "pm2".to_string()
                } else {
                    b.to_string()
                };
                return (b, &words[i + 1..]);
            }
        }
    }
    (String::new(), &[])
}
