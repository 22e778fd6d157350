//! PM2's own files: the saved list (`dump.pm2`, `dump.pm2.bak`), the daemon's pid file and
//! sockets, and the home that holds them. Whatever program overwrites, truncates, moves or
//! deletes them loses the one record of what ran (`pm2 resurrect`, boot restore) or orphans a
//! live daemon, so writing to them is judged like `rm ~/.pm2`.
use super::classify::{lit, Walker};
use super::shell::{SimpleCommand, Word};
use super::verdict::Class;

/// Whether a path as written (`~/.pm2/dump.pm2`, `$PM2_HOME/pm2.pid`, `/root/.pm2`,
/// `~/.pm2/*`) names PM2's home or one of its state files. Logs are not state.
pub(super) fn is_state_path(t: &str) -> bool {
    let t = t.trim_matches(|c| c == '"' || c == '\'');
    let t = t.trim_end_matches('/');
    let base = t.rsplit('/').next().unwrap_or(t);
    let home_var = |s: &str| s == "$PM2_HOME" || s == "${PM2_HOME}";
    let parent = t.strip_suffix(base).unwrap_or("").trim_end_matches('/');
    let in_home = parent.ends_with(".pm2") || home_var(parent);
    t.ends_with(".pm2")
        || home_var(t)
        || matches!(base, "dump.pm2.bak")
        || (in_home && (matches!(base, "pm2.pid" | "rpc.sock" | "pub.sock") || base.contains('*')))
}

const REASON: &str = "overwrites, moves or removes PM2's saved list or home: the record of every app `pm2 resurrect` and boot restore bring back is lost (or a live daemon loses its sockets)";

/// How a program writes to files named on its command line.
enum Writes {
    /// Every operand (`tee`, `truncate`, `shred`, `unlink`, `mv`: the source goes too).
    Operands,
    /// The last operand, or the value of `-t`/`--target-directory` (`cp`, `install`, `ln`, `rsync`).
    Destination,
    /// `of=FILE` (`dd`).
    OfOperand,
    /// Operands after the script, with `-i` (`sed -i`, `perl -i`).
    InPlace,
}

fn writes(name: &str) -> Option<Writes> {
    Some(match name {
        "tee" | "truncate" | "shred" | "unlink" | "mv" | "rmdir" => Writes::Operands,
        "cp" | "install" | "ln" | "rsync" | "scp" => Writes::Destination,
        "dd" => Writes::OfOperand,
        "sed" | "perl" => Writes::InPlace,
        _ => return None,
    })
}

impl Walker<'_> {
    /// Output redirections (`> ~/.pm2/dump.pm2`) onto PM2's state.
    pub(super) fn state_redirects(&mut self, cmd: &SimpleCommand) {
        let target = cmd.redirects.iter().find(|w| {
            !cmd.stdin_files.iter().any(|s| s.offset == w.offset)
                && !cmd.heredocs.iter().any(|h| h.here_string)
                && is_state_path(&lit(w))
        });
        if let Some(w) = target {
            self.push(
                Class::Dangerous,
                REASON.into(),
                None,
                w.offset,
                w.raw.clone(),
            );
        }
    }

    /// A program that writes to the files it names, given PM2's state: dangerous (its other
    /// effects are judged as usual).
    pub(super) fn state_writes(&mut self, name: &str, words: &[Word], off: usize) {
        let Some(how) = writes(name) else {
            return;
        };
        let rest = &words[1.min(words.len())..];
        let texts: Vec<String> = rest.iter().map(lit).collect();
        let operands: Vec<&String> = texts.iter().filter(|t| !t.starts_with('-')).collect();
        let hit = match how {
            Writes::Operands => operands.iter().any(|t| is_state_path(t)),
            Writes::Destination => {
                let target_opt = texts.iter().enumerate().find_map(|(i, t)| {
                    if t == "-t" || t == "--target-directory" {
                        texts.get(i + 1).cloned()
                    } else {
                        t.strip_prefix("--target-directory=").map(str::to_string)
                    }
                });
                match target_opt {
                    Some(dir) => is_state_path(&dir),
                    None => operands.last().is_some_and(|t| is_state_path(t)),
                }
            }
            Writes::OfOperand => texts
                .iter()
                .filter_map(|t| t.strip_prefix("of="))
                .any(is_state_path),
            Writes::InPlace => {
                let in_place = texts
                    .iter()
                    .any(|t| t == "--in-place" || (t.starts_with("-i") || t.starts_with("-pi")));
                in_place && operands.iter().skip(1).any(|t| is_state_path(t))
            }
        };
        if hit {
            self.push(
                Class::Dangerous,
                REASON.into(),
                None,
                off,
                super::classify::joined(words),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::is_state_path;

    #[test]
    fn state_paths_are_the_saved_list_the_daemon_files_and_the_home() {
        for p in [
            "~/.pm2",
            "/root/.pm2/",
            "~/.pm2/dump.pm2",
            "/home/deploy/.pm2/dump.pm2.bak",
            "$PM2_HOME/dump.pm2",
            "${PM2_HOME}/pm2.pid",
            "$PM2_HOME",
            "~/.pm2/rpc.sock",
            "~/.pm2/*",
            "\"$HOME/.pm2/dump.pm2\"",
        ] {
            assert!(is_state_path(p), "{p}");
        }
        for p in [
            "~/.pm2/logs/api-out.log",
            "/tmp/dump.json",
            "/tmp/pm2.pid",
            "ecosystem.config.js",
            "/var/backups/pm2-dump.json",
        ] {
            assert!(!is_state_path(p), "{p}");
        }
    }
}
