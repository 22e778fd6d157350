//! Lint rule `freeze-check` (info): a workflow that deploys PM2 apps (runs `pm2` to start,
//! restart, reload, delete, stop, resurrect or save) without a `freeze check` step, so it
//! would deploy into the middle of an incident. The finding names the line to add.
use super::lint::{FileKind, LintFinding, Severity};
use super::verdict::Class;

/// PM2 subcommands that change what runs (a deploy), not ones that only read.
const DEPLOYING: &[&str] = &[
    "start",
    "restart",
    "reload",
    "startOrReload",
    "startOrRestart",
    "startOrGracefulReload",
    "gracefulReload",
    "delete",
    "del",
    "stop",
    "resurrect",
    "save",
    "deploy",
];

pub const ADD_LINE: &str = "- run: pm2-incident freeze check   # exits 1 while deployments are frozen (add --file PATH if the runner has no inventory)";

fn has_freeze_check(content: &str) -> bool {
    content.lines().any(|l| {
        let code = l.split(" #").next().unwrap_or(l);
        !code.trim_start().starts_with('#') && code.contains("freeze check")
    })
}

/// A PM2 invocation the guard found: (line, column, verb, command as written).
pub type Pm2Call = (usize, usize, String, String);

/// The info finding for a workflow file, if it deploys PM2 apps without the freeze check.
/// `calls` are the PM2 invocations the guard parsed (so quoted text and comments are not
/// mistaken for commands).
pub fn check(label: &str, content: &str, kind: FileKind, calls: &[Pm2Call]) -> Option<LintFinding> {
    if kind != FileKind::Workflow || has_freeze_check(content) {
        return None;
    }
    let (line, col, _, command) = calls
        .iter()
        .filter(|(_, _, verb, _)| DEPLOYING.contains(&verb.as_str()))
        .min_by_key(|(l, c, _, _)| (*l, *c))?;
    let (line, col) = (*line, *col);
    Some(LintFinding {
        file: label.into(),
        line,
        col,
        severity: Severity::Info,
        class: Class::Safe,
        rule: "freeze-check",
        message: "this workflow deploys PM2 apps without checking the deployment freeze; during an incident it would deploy anyway".into(),
        command: command.clone(),
        safe_alternative: Some(format!("add a step before the deploy: {ADD_LINE}")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::guard::lint::lint_text;
    use crate::guard::GuardContext;

    const DEPLOY: &str = "name: deploy\non: push\njobs:\n  deploy:\n    runs-on: host\n    steps:\n      - run: npm ci\n      - run: cd /var/www/app && pm2 startOrReload ecosystem.config.cjs --only app-api\n";

    fn info(label: &str, text: &str, kind: FileKind) -> Vec<(usize, usize)> {
        lint_text(label, text, kind, &GuardContext::default())
            .into_iter()
            .filter(|f| f.rule == "freeze-check")
            .inspect(|f| assert_eq!(f.severity, Severity::Info))
            .map(|f| (f.line, f.col))
            .collect()
    }

    #[test]
    fn table() {
        let wf = FileKind::Workflow;
        assert_eq!(info("deploy.yml", DEPLOY, wf), vec![(8, 33)]);
        let with = DEPLOY.replace(
            "      - run: npm ci\n",
            "      - run: pm2-incident freeze check\n      - run: npm ci\n",
        );
        assert!(info("deploy.yml", &with, wf).is_empty());
        // A commented-out check does not count.
        let commented = DEPLOY.replace(
            "      - run: npm ci\n",
            "      # - run: pm2-incident freeze check\n      - run: npm ci\n",
        );
        assert_eq!(info("deploy.yml", &commented, wf).len(), 1);
        // Reading PM2, or quoting a pm2 command in grep/echo, is no deploy.
        let reads = "jobs:\n  a:\n    steps:\n      - run: pm2 jlist | jq length\n      - run: grep -rn 'pm2 delete all' . || echo 'pm2 restart x'\n";
        assert!(info("status.yml", reads, wf).is_empty());
        let abs = "steps:\n  - run: sudo -u web /usr/bin/pm2 restart api\n";
        assert_eq!(info("x.yml", abs, wf).len(), 1);
        // Scripts are not workflows: the rule is about the CI pipeline.
        assert!(info("deploy.sh", "pm2 restart api\n", FileKind::Shell).is_empty());
    }
}
