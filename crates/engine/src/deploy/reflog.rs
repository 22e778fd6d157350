//! A deployment directory's `git reflog`: what was checked out there and when, for Root
//! Cause step 1 when Gitea's API is not configured. Read-only (`GIT_OPTIONAL_LOCKS=0`).
use std::path::Path;
use std::process::{Command, Stdio};

/// The last `n` reflog lines of the repository at `dir`, or why they cannot be read.
pub fn last(dir: &Path, n: usize) -> Result<Vec<String>, String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["reflog", "--no-color", "--date=iso"])
        .arg(format!("-n{n}"))
        .env("GIT_OPTIONAL_LOCKS", "0")
        .env("GIT_TERMINAL_PROMPT", "0")
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("git: {e}"))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        return Err(format!(
            "{}: {}",
            dir.display(),
            err.lines().next().unwrap_or("git reflog failed")
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_repository_and_not_one() {
        let t = tempfile::tempdir().unwrap();
        let git = |args: &[&str]| {
            let ok = Command::new("git")
                .arg("-C")
                .arg(t.path())
                .args(args)
                .env("GIT_AUTHOR_NAME", "t")
                .env("GIT_AUTHOR_EMAIL", "t@x")
                .env("GIT_COMMITTER_NAME", "t")
                .env("GIT_COMMITTER_EMAIL", "t@x")
                .output()
                .unwrap()
                .status
                .success();
            assert!(ok, "git {args:?}");
        };
        assert!(last(t.path(), 5).is_err());
        git(&["init", "-q"]);
        git(&["commit", "-q", "--allow-empty", "-m", "first deploy"]);
        git(&["commit", "-q", "--allow-empty", "-m", "second deploy"]);
        let lines = last(t.path(), 5).unwrap();
        assert_eq!(lines.len(), 2);
        assert!(lines[0].contains("second deploy"), "{lines:?}");
    }
}
