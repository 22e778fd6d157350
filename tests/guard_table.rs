//! The guard's command table: the runbook's own safe and dangerous lists, the
//! wrappers and shell constructs that hide PM2 calls, and tricky safe lines.
use pm2_incident::guard::{classify, Class, GuardContext};

use Class::{Caution as C, Dangerous as D, Safe as S};

/// The runbook's inventory (the lead will build this from runbook/inventory.toml).
fn inventory() -> GuardContext {
    GuardContext {
        known_processes: [
            "flyer-crawler-api",
            "flyer-crawler-worker",
            "flyer-crawler-analytics-worker",
            "flyer-crawler-api-test",
            "flyer-crawler-worker-test",
            "flyer-crawler-analytics-worker-test",
            "stock-alert-*",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect(),
        scope: None,
        pm2: None,
    }
}

fn prod_scope() -> GuardContext {
    GuardContext {
        scope: Some(vec![
            "flyer-crawler-api".into(),
            "flyer-crawler-worker".into(),
            "flyer-crawler-analytics-worker".into(),
        ]),
        pm2: None,
        ..inventory()
    }
}

const TABLE: &[(&str, Class)] = &[
    // --- runbook: Critical Commands / Safe Commands appendix ---
    ("pm2 list", S),
    ("pm2 show flyer-crawler-api", S),
    ("pm2 logs --lines 50", S),
    ("pm2 logs --lines 20 --nostream", S),
    ("pm2 ping", S),
    ("pm2 monit", S),
    ("pm2 logs flyer-crawler-api", S),
    ("pm2 restart flyer-crawler-api", S),
    ("pm2 restart flyer-crawler-api flyer-crawler-worker flyer-crawler-analytics-worker", S),
    ("pm2 reload flyer-crawler-api", S),
    ("pm2 start ecosystem.config.cjs", S),
    ("pm2 start ecosystem.config.cjs --only flyer-crawler-api", S),
    ("pm2 start ecosystem-test.config.cjs", S),
    ("pm2 jlist > /tmp/pm2-incident-$(date +%Y%m%d-%H%M%S).json", S),
    ("pm2 jlist | jq '.[] | {name, status: .pm2_env.status}'", S),
    ("pm2 list | grep stock-alert", S),
    ("pm2 list | grep -v flyer-crawler", S),
    ("cd /var/www/flyer-crawler.projectium.com && pm2 start ecosystem.config.cjs", S),
    ("curl -s http://localhost:3001/api/health/ready | jq .", S),
    ("node -e \"require('./ecosystem.config.cjs').apps.forEach(a => console.log(a.name))\"", S),
    ("pm2 describe flyer-crawler-worker", S),
    ("pm2 prettylist", S),
    ("pm2 status", S),
    // --- runbook: dangerous list ---
    ("pm2 stop all", D),
    ("pm2 restart all", D),
    ("pm2 delete all", D),
    ("pm2 reload all", D),
    ("pm2 reset all", D),
    ("pm2 kill", D),
    ("pm2 update", D),
    ("pm2 delete $(pm2 jlist | jq -r '.[] | select(.pm2_env.status == \"errored\") | .pm_id')", D),
    // --- caution list ---
    ("pm2 save", C),
    ("pm2 resurrect", C),
    ("pm2 restart 3", C),
    ("pm2 delete 0 1 2", C),
    ("pm2 restart /flyer-crawler-.*/", C),
    ("pm2 restart some-other-app", C),
    ("pm2 flush", C),
    // --- wrappers and paths ---
    ("sudo pm2 delete all", D),
    ("sudo -u gitea-runner pm2 stop all", D),
    ("sudo -u gitea-runner -H pm2 list", S),
    ("env PM2_HOME=/home/x/.pm2 pm2 restart all", D),
    ("PM2_HOME=/tmp/x pm2 kill", D),
    ("npx pm2 delete all", D),
    ("npx --yes pm2@latest restart all", D),
    ("./node_modules/.bin/pm2 stop all", D),
    ("/usr/bin/pm2 delete all", D),
    ("/usr/local/lib/node_modules/pm2/bin/pm2 restart all", D),
    ("node node_modules/pm2/bin/pm2 delete all", D),
    ("nohup pm2 restart all &", D),
    ("timeout 30 pm2 stop all", D),
    ("yarn pm2 delete all", D),
    ("npm exec -- pm2 kill", D),
    // --- shell structure ---
    ("cd /var/www/app && pm2 delete all", D),
    ("pm2 list; pm2 delete all", D),
    ("false || pm2 restart all", D),
    ("sh -c 'pm2 delete all'", D),
    ("bash -c \"cd /srv && pm2 stop all\"", D),
    ("bash -lc 'pm2 restart all'", D),
    ("sh -c \"sh -c 'pm2 kill'\"", D),
    ("ssh deploy@host 'pm2 delete all'", D),
    ("eval \"pm2 delete all\"", D),
    ("echo $(pm2 delete all)", D),
    ("echo \"`pm2 kill`\"", D),
    ("p\\m2 delete all", D),
    ("'pm2' \"delete\" 'all'", D),
    ("pm2 delete \"all\"", D),
    ("if true; then pm2 stop all; fi", D),
    ("pm2 restart all --update-env", D),
    ("pm2 start all", D),
    ("systemctl restart pm2-gitea-runner", D),
    ("pkill -f node", D),
    ("rm -rf ~/.pm2", D),
    ("bash <<EOF\npm2 delete all\nEOF", D),
    // --- lists feeding mutations ---
    ("pm2 jlist | jq -r '.[].name' | xargs pm2 delete", D),
    ("pm2 jlist | jq -r '.[] | .pm_id' | xargs -n1 pm2 stop", D),
    ("pm2 jlist | jq -r '.[].pm_id' | xargs -I{} pm2 restart {}", D),
    ("for id in $(pm2 jlist | jq -r '.[].pm_id'); do pm2 delete $id; done", D),
    ("IDS=$(pm2 jlist | jq -r '.[].pm_id')\npm2 stop $IDS", D),
    ("pm2 jlist | jq -r '.[].pm_id' | while read id; do pm2 delete \"$id\"; done", D),
    ("pm2 delete `pm2 jlist | jq -r '.[].pm_id'`", D),
    ("pm2 ls | grep -v stock-alert | awk '{print $4}' | xargs pm2 delete", D),
    ("pm2 delete $(pm2 jlist | jq -r '.[] | select(.name | endswith(\"-test\")) | .pm_id')", S),
    ("pm2 jlist | jq -r '.[] | select(.name == \"flyer-crawler-api\") | .pm_id' | xargs pm2 restart", S),
    ("echo flyer-crawler-api flyer-crawler-worker | xargs pm2 restart", S),
    ("cat names.txt | xargs pm2 delete", C),
    ("pm2 restart $APP", C),
    ("for n in flyer-crawler-api flyer-crawler-worker; do pm2 restart $n; done", S),
    ("for n in flyer-crawler-api all; do pm2 restart $n; done", D),
    ("PM2=pm2; $PM2 delete all", D),
    ("$PM2_BIN restart all", D),
    ("f() { pm2 delete all; }", D),
    ("function cleanup { pm2 stop all; }", D),
    ("(cd /srv; pm2 restart all)", D),
    ("{ pm2 list; pm2 restart all; }", D),
    ("echo hi > >(pm2 delete all)", D),
    ("node -e \"require('child_process').execSync('pm2 stop all')\"", D),
    ("pm2 -s restart all", D),
    ("pm2 restart ALL", D),
    ("pm2 restart a'l'l", D),
    ("pm2 ls | awk '/errored/ {print $2}' | xargs pm2 restart", D),
    ("pm2 jlist | jq -r '.[] | select(.name|test(\"-test$\")) | .name' | xargs -n1 pm2 stop", S),
    ("pm2 reload ecosystem.config.cjs --only flyer-crawler-api", S),
    ("cd /srv && git pull && npm ci && pm2 reload ecosystem.config.cjs --update-env", S),
    ("pm2 stop ecosystem.config.cjs", C),
    ("pm2 restart 'stock-alert-*'", C),
    ("pm2 restart stock-alert-api", S),
    ("pm2 delete all-flyer", C),
    ("pm2 install pm2-logrotate", C),
    ("pm2 restart \"$(cat names)\"", C),
    ("xargs pm2 restart < names.txt", C),
    ("command -v pm2", S),
    ("which pm2 && pm2 --version", S),
    ("diff <(pm2 jlist) old.json", S),
    ("watch -n 5 pm2 list", S),
    // --- mentions that are not invocations ---
    ("echo \"pm2 delete all\"", S),
    ("echo pm2 delete all", S),
    ("printf '%s\\n' 'pm2 stop all'", S),
    ("grep 'pm2 stop all' deploy.yml", S),
    ("grep -rn \"pm2 delete all\" .gitea/workflows", S),
    ("# pm2 delete all", S),
    ("pm2 list # pm2 delete all", S),
    ("git log --oneline -20 -- .gitea/workflows/", S),
    ("cat <<'EOF'\npm2 delete all\nEOF", S),
    ("echo 'sh -c \"pm2 kill\"'", S),
    // `pm2 logs all` only reads: "all" widens what you read, it changes nothing.
    ("pm2 logs all", S),
    ("pm2 show all", S),
    // --- unparseable: refuse to guess ---
    ("pm2 delete 'all", D),
    ("pm2 restart \"flyer-crawler-api", D),
    ("echo $(date", C),
    ("ls 'unterminated", C),
];

#[test]
fn command_table() {
    assert!(TABLE.len() >= 60, "table has {} rows", TABLE.len());
    let ctx = inventory();
    let mut failures = vec![];
    for (cmd, want) in TABLE {
        let v = classify(cmd, &ctx);
        if v.class != *want {
            failures.push(format!("{cmd:?}: want {want}, got {}", v.line()));
        }
        assert!(!v.reason.is_empty(), "{cmd:?} has no reason");
    }
    assert!(
        failures.is_empty(),
        "{} rows wrong:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn dangerous_verdicts_name_explicit_alternatives() {
    let v = classify("pm2 restart all", &inventory());
    assert_eq!(v.class, D);
    assert!(v.reason.contains("ALL apps"), "{}", v.reason);
    assert!(v.reason.contains("2026-02-17"), "{}", v.reason);
    let alt = v.safe_alternative.unwrap();
    assert!(
        alt.starts_with(
            "pm2 restart flyer-crawler-api flyer-crawler-worker flyer-crawler-analytics-worker"
        ),
        "{alt}"
    );
    assert!(!alt.contains('*'), "globs are not names: {alt}");
    assert_eq!(v.targets, vec!["all"]);
    // With a scope, the alternative names only the scope.
    let v = classify("pm2 delete all", &prod_scope());
    assert_eq!(
        v.safe_alternative.as_deref(),
        Some("pm2 delete flyer-crawler-api flyer-crawler-worker flyer-crawler-analytics-worker")
    );
    // Without an inventory, a placeholder rather than invented names.
    let v = classify("pm2 stop all", &GuardContext::default());
    assert!(v.safe_alternative.unwrap().contains("<name>"));
}

#[test]
fn scope_and_inventory() {
    // In scope: safe. Out of scope (test process during a prod incident): caution.
    assert_eq!(
        classify("pm2 restart flyer-crawler-api", &prod_scope()).class,
        S
    );
    let v = classify("pm2 restart flyer-crawler-api-test", &prod_scope());
    assert_eq!(v.class, C);
    assert!(
        v.reason.contains("outside the incident's scope"),
        "{}",
        v.reason
    );
    // Globs in the inventory match concrete names.
    assert_eq!(
        classify("pm2 restart stock-alert-api", &inventory()).class,
        S
    );
    // No inventory: names cannot be checked, so they pass.
    assert_eq!(
        classify("pm2 restart anything", &GuardContext::default()).class,
        S
    );
    // A name-filtered list cannot be checked against a chosen scope.
    let filtered =
        "pm2 delete $(pm2 jlist | jq -r '.[] | select(.name | endswith(\"-test\")) | .pm_id')";
    assert_eq!(classify(filtered, &inventory()).class, S);
    let v = classify(filtered, &prod_scope());
    assert_eq!(v.class, C);
    assert!(
        v.reason
            .contains("cannot check them against the incident's scope"),
        "{}",
        v.reason
    );
    // --only names are checked too.
    assert_eq!(
        classify(
            "pm2 start ecosystem.config.cjs --only flyer-crawler-api-test",
            &prod_scope()
        )
        .class,
        C
    );
}

#[test]
fn targets_are_reported() {
    let v = classify(
        "pm2 restart flyer-crawler-api flyer-crawler-worker",
        &inventory(),
    );
    assert_eq!(v.targets, vec!["flyer-crawler-api", "flyer-crawler-worker"]);
    let v = classify(
        "pm2 start ecosystem.config.cjs --only flyer-crawler-api",
        &inventory(),
    );
    assert_eq!(v.targets, vec!["flyer-crawler-api"]);
    let v = classify("pm2 list && pm2 delete all", &inventory());
    assert_eq!(v.class, D);
    assert!(v.targets.contains(&"all".to_string()));
}

#[test]
fn unparseable_input_never_panics() {
    let nasty = [
        "",
        " ",
        "\"",
        "'",
        "`",
        "$(",
        "$((",
        "${",
        "\\",
        "pm2 delete $(",
        "(((((",
        ")))))",
        "<<",
        "a |",
        "| b",
        "&&",
        ";;",
        "pm2 \u{0}delete all",
        "pm2 delete ∀ll",
        "$'\\",
        "sh -c",
        "xargs",
        "sudo",
        "env -S",
    ];
    for n in nasty {
        let v = classify(n, &inventory());
        assert!(!v.reason.is_empty());
    }
    let deep = format!("{}pm2 delete all{}", "$(".repeat(200), ")".repeat(200));
    assert_ne!(classify(&deep, &inventory()).class, S);
    let v = classify("pm2 delete 'all", &inventory());
    assert!(
        v.reason.contains("unterminated single quote"),
        "{}",
        v.reason
    );
}

/// Deterministic pseudo-random lines over shell metacharacters: never a panic,
/// always a reason.
#[test]
fn random_lines_never_panic() {
    let alphabet: Vec<char> = "pm2 delete all $()`'\"\\|&;<>{}#\n=x-/*".chars().collect();
    let mut seed: u64 = 0x2026_0217;
    let ctx = inventory();
    for _ in 0..3000 {
        let mut line = String::new();
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let len = (seed >> 58) as usize + 1;
        for _ in 0..len {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            line.push(alphabet[(seed >> 33) as usize % alphabet.len()]);
        }
        let v = classify(&line, &ctx);
        assert!(!v.reason.is_empty(), "{line:?}");
    }
}
