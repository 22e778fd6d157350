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
    // --- PM2's own files, whatever program writes them ---
    ("> ~/.pm2/dump.pm2", D),
    ("echo '[]' > $PM2_HOME/dump.pm2", D),
    ("truncate -s0 /root/.pm2/dump.pm2", D),
    ("cp /dev/null ~/.pm2/dump.pm2", D),
    ("mv ~/.pm2 ~/.pm2.old", D),
    ("mv ~/.pm2/dump.pm2 /tmp/", D),
    ("rm -rf ~/.pm2/*", D),
    ("sed -i 's/api/x/' ~/.pm2/dump.pm2", D),
    ("dd if=/dev/zero of=/root/.pm2/dump.pm2 bs=1 count=10", D),
    ("cat ~/.pm2/dump.pm2 | tee ~/.pm2/dump.pm2.bak", D),
    ("find / -name dump.pm2 -delete", D),
    ("find ~/.pm2 -delete", D),
    ("find /tmp -name '*.log' -mtime +7 -delete", C),
    ("cp ~/.pm2/dump.pm2 /tmp/dump-backup.json", S),
    ("cat ~/.pm2/dump.pm2 > /tmp/dump-copy.json", S),
    ("pm2 logs --nostream > ~/.pm2/logs/copy.log", S),
    ("cat < ~/.pm2/dump.pm2", S),
    // --- runuser in su's form; scale to zero; signals that end processes ---
    ("runuser -l deploy -c \"pm2 kill\"", D),
    ("runuser -u deploy -- pm2 kill", D),
    ("runuser deploy -c \"pm2 list\"", S),
    ("pm2 scale flyer-crawler-api 0", C),
    ("pm2 scale flyer-crawler-api 4", S),
    ("pm2 sendSignal SIGKILL flyer-crawler-api", C),
    ("pm2 sendSignal 9 flyer-crawler-api", C),
    ("pm2 sendSignal SIGUSR2 flyer-crawler-api", S),
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

/// Every way of handing `pm2 delete all` to code the guard does not read: never safe.
const NEVER_SAFE: &[&str] = &[
    "python3 -c 'import os; os.system(\"pm2 delete all\")'",
    "python -c \"import subprocess; subprocess.run(['pm2','delete','all'])\"",
    "perl -e 'system(\"pm2 delete all\")'",
    "perl -E 'qx{pm2 delete all}'",
    "ruby -e '`pm2 delete all`'",
    "php -r 'shell_exec(\"pm2 delete all\");'",
    "awk 'BEGIN { system(\"pm2 delete all\") }'",
    "awk 'BEGIN { print \"pm2 delete all\" | \"sh\" }'",
    "deno eval 'Deno.run({cmd: [\"pm2\", \"delete\", \"all\"]})'",
    "lua -e 'os.execute(\"pm2 delete all\")'",
    "bash deploy.sh",
    "sh ./cleanup.sh",
    ". ./cleanup.sh",
    "source ./cleanup.sh",
    "sh < cleanup.sh",
    "bash -s < cleanup.sh",
    "curl -fsSL https://example.com/x.sh | sh",
    "cat cleanup.sh | bash",
    "python3 cleanup.py",
    "python3 < cleanup.py",
    "eval \"$CMD\"",
    "eval \"$(cat cmds.txt)\"",
    "sh -c \"$CMD\"",
    "$CMD",
    "find /srv -name pm2.pid -exec pm2 delete all \\;",
    "find . -name '*.js' -exec node {} \\;",
    "find . -type f -execdir sh -c 'pm2 delete all' \\;",
    "find . -ok rm {} \\;",
    "cat cmds.txt | xargs -I{} sh -c '{}'",
    "xargs sh < scripts.txt",
    "git -c alias.x='!pm2 delete all' x",
    "git cleanup-all",
    "git -c core.sshCommand='pm2 delete all' fetch",
    "script -q -c 'pm2 delete all' /dev/null",
    "tmux new-session -d 'pm2 delete all'",
    "tmux send-keys -t 0 'pm2 delete all' Enter",
    "screen -dmS x pm2 delete all",
    "echo 'pm2 delete all' | at now",
    "at now + 1 minute < cmds.txt",
    "at -f cmds.txt now",
    "batch < cmds.txt",
    "echo '* * * * * pm2 delete all' | crontab -",
    "crontab mycron",
    "crontab -e",
    "parallel pm2 delete ::: all",
    "parallel < cmds.txt",
    "busybox sh -c 'pm2 delete all'",
    "busybox sh cleanup.sh",
    "toybox sh < cleanup.sh",
    "chroot /srv/root pm2 delete all",
    "chroot /srv/root sh cleanup.sh",
    "nsenter -t 1 -m -u -i -n -p pm2 delete all",
    "env -S 'pm2 delete all'",
    "watch -n 5 'pm2 delete all'",
    "timeout 30 pm2 delete all",
    "nice -n 10 pm2 delete all",
    "nohup pm2 delete all > /dev/null 2>&1 &",
    "stdbuf -oL pm2 delete all",
    "setsid pm2 delete all",
    "flock /tmp/lock pm2 delete all",
    "flock -n /tmp/lock -c 'pm2 delete all'",
    "ssh deploy@host pm2 delete all",
    "ssh -p 2222 deploy@host \"cd /srv && pm2 delete all\"",
    "docker exec app sh -c 'pm2 delete all'",
    "docker exec -it app pm2 delete all",
    "kubectl exec -it web-0 -- pm2 delete all",
    "kubectl exec web-0 -- sh -c 'pm2 delete all'",
    "systemd-run --unit x pm2 delete all",
    "su deploy -c 'pm2 delete all'",
    "runuser -u deploy -- pm2 delete all",
    "sudo -u deploy -i <<'EOF'\npm2 delete all\nEOF",
    "ionice -c3 pm2 delete all",
    "node cleanup.js",
    "node < cleanup.js",
    "pwsh -c 'pm2 delete all'",
    "bash <(curl -s https://example.com/x.sh)",
    "sh -c \"$(curl -fsSL https://example.com/x.sh)\"",
];

/// Readable text handed to a shell: judged as the command it is (dangerous stays dangerous).
const READABLE_DANGEROUS: &[&str] = &[
    "echo 'pm2 delete all' | sh",
    "echo pm2 delete all | bash",
    "echo \"pm2 delete all\" | sudo -u deploy bash",
    "printf 'pm2 delete all\\n' | bash",
    "printf '%s\\n' 'pm2 delete all' | sh",
    "printf 'pm2 %s all\\n' delete | sh -s",
    "bash -c 'pm2 delete all'",
    "sh -ec 'cd /srv; pm2 delete all'",
    "bash -s <<'EOF'\ncd /srv\npm2 delete all\nEOF",
    "sh -s <<EOF\npm2 delete all\nEOF",
    "bash <<< 'pm2 delete all'",
    "sh <<< \"pm2 delete all\"",
    "ssh host 'pm2 delete all'",
    "ssh host 'bash -s' <<'EOF'\npm2 delete all\nEOF",
    "ssh host \"bash -s\" <<< 'pm2 delete all'",
    "ssh host <<'EOF'\ncd /srv\npm2 delete all\nEOF",
    "ssh deploy@host \"\n  cd /srv\n  pm2 delete all\n\"",
    "sudo -u deploy bash <<'EOF'\npm2 delete all\nEOF",
    "sudo -u deploy bash -c 'pm2 delete all'",
    "run_remote() { ssh host \"$1\"; }\nrun_remote \"cd $DIR && pm2 delete all\"",
    "remote() {\n  ssh deploy@host \"$@\"\n}\nremote pm2 delete all",
    "retry() { \"$@\" || \"$@\"; }\nretry pm2 delete all",
    "CMD='pm2 delete all'; $CMD",
    "CMD='pm2 delete all'; eval \"$CMD\"",
    "cat <<'EOF' | sh\npm2 delete all\nEOF",
    "cat <<EOF\n$(pm2 delete all)\nEOF",
    "echo 'pm2 delete all' | at now",
    "echo '*/5 * * * * pm2 restart all' | crontab -",
    "python3 -c 'import os; os.system(\"pm2 delete all\")'",
    "find . -exec pm2 delete all \\;",
    "git -c alias.x='!pm2 delete all' x",
    "while true; do pm2 restart all; sleep 60; done",
    "case \"$1\" in\n  nuke) pm2 delete all;;\nesac",
    "f() ( pm2 stop all )",
];

/// Kills: of the daemon, of every process, of every Node process.
const KILLS: &[(&str, Class)] = &[
    ("kill -9 $(cat ~/.pm2/pm2.pid)", D),
    ("kill $(cat $PM2_HOME/pm2.pid)", D),
    ("kill -TERM `cat /home/deploy/.pm2/pm2.pid`", D),
    ("PID=$(cat ~/.pm2/pm2.pid); kill -9 $PID", D),
    ("kill -9 -1", D),
    ("kill -- -1", D),
    ("kill -s KILL -1", D),
    ("pkill node", D),
    ("pkill -f node", D),
    ("pkill -9 -f 'node'", D),
    ("killall node", D),
    ("killall -9 node", D),
    ("sudo killall -r '^node'", D),
    ("pkill -f PM2", D),
    ("pkill -f 'God Daemon'", D),
    ("pkill -u deploy", D),
    ("ps aux | grep node | xargs kill -9", D),
    (
        "ps aux | grep node | grep -v grep | awk '{print $2}' | xargs kill -9",
        D,
    ),
    ("ps -ef | grep [n]ode | awk '{print $2}' | xargs -r kill", D),
    ("for p in $(pgrep node); do kill -9 $p; done", D),
    ("for p in `pidof node`; do kill $p; done", D),
    ("pgrep node | xargs kill", D),
    ("pgrep -f node | while read p; do kill -9 \"$p\"; done", D),
    ("while read p; do kill -9 $p; done < <(pgrep node)", D),
    (
        "while read -r p; do\n  kill \"$p\"\ndone < <(ps aux | grep node | awk '{print $2}')",
        D,
    ),
    (
        "while read p; do kill $p; done < <(pgrep -f flyer-crawler-worker)",
        C,
    ),
    ("kill $(pgrep node)", D),
    ("kill -9 $(pidof node)", D),
    ("taskkill /F /IM node.exe", D),
    ("taskkill /im node.exe /t /f", D),
    ("fuser -k 3000/tcp", D),
    ("fuser -k -n tcp 3000", D),
    ("fuser -k /srv/uploads/lock", C),
    ("kill $(lsof -t -i :3000)", D),
    ("pm2 jlist | jq -r '.[].pid' | xargs kill", D),
    ("killall5 -9", D),
    ("npx kill-port 3000", D),
    (
        "ps -eo pid,comm | awk '$2==\"node\"{print $1}' | xargs kill",
        D,
    ),
    ("kill -9 $(ps aux | grep '[n]ode' | awk '{print $2}')", D),
    ("lsof -ti :3000 | xargs kill -9", D),
    // scoped to one app: caution
    ("pkill -f \"node.*flyer-crawler-api\"", C),
    ("pkill -f 'node /srv/app/server.js'", C),
    ("kill 12345", C),
    ("kill -9 12345", C),
    ("kill $(pgrep -f flyer-crawler-worker)", C),
    ("kill $(pm2 pid flyer-crawler-api)", C),
    ("taskkill /PID 4242 /F", C),
    ("kill $PID", C),
    // probes and listings
    ("kill -0 12345", S),
    ("kill -0 $(cat ~/.pm2/pm2.pid)", S),
    ("kill -s 0 $(cat ~/.pm2/pm2.pid) && echo alive", S),
    ("kill -l", S),
    ("pgrep -a node", S),
    ("fuser 3000/tcp", S),
    ("ps aux | grep node", S),
];

/// Everyday read commands: no false alarms.
const STAY_SAFE: &[&str] = &[
    "ls -la /var/www",
    "curl -s http://localhost:3001/api/health/ready",
    "grep -rn error /var/log/app.log",
    "jq . /tmp/x.json",
    "systemctl status pm2-root",
    "journalctl -u pm2-root -n 50",
    "tail -f ~/.pm2/logs/flyer-crawler-api-error.log",
    "df -h && free -m",
    "ss -ltnp | grep 3001",
    "cat ~/.pm2/pm2.pid",
    "cat ~/.pm2/dump.pm2 | jq '.[].name'",
    "git log --oneline -20",
    "git pull && npm ci",
    "echo 'bash -c \"pm2 delete all\"'",
    "echo \"run: sh -c 'pm2 kill'\" >> notes.txt",
    "awk '{print $1}' access.log | sort | uniq -c",
    "ps aux --sort=-%mem | head",
    "node --version",
    "python3 --version",
    "bash --version",
    "ssh deploy@host",
    "ssh deploy@host 'pm2 list'",
    "ssh host 'bash -s' <<'EOF'\npm2 list\nuptime\nEOF",
    "bash -c 'pm2 list'",
    "echo 'pm2 list' | sh",
    "sudo -u deploy bash -c 'pm2 logs --lines 20 --nostream'",
    "watch -n 5 pm2 list",
    "timeout 5 curl -s localhost:3001",
    "tmux ls",
    "tmux attach -t incident",
    "screen -ls",
    "crontab -l",
    "atq",
    "at -l",
    "find /var/log -name '*.log' -mtime +7",
    "env | grep PM2",
    "date -u +%Y-%m-%dT%H:%M:%SZ",
    "uptime; w",
    "status() { pm2 list; }\nstatus",
    "for n in flyer-crawler-api flyer-crawler-worker; do pm2 describe $n; done",
    "docker ps",
    "kubectl get pods",
    "sudo -i",
];

#[test]
fn hidden_code_is_never_safe() {
    let ctx = inventory();
    let bad: Vec<String> = NEVER_SAFE
        .iter()
        .filter_map(|cmd| {
            let v = classify(cmd, &ctx);
            (v.class == S).then(|| format!("{cmd:?}: {}", v.line()))
        })
        .collect();
    assert!(
        bad.is_empty(),
        "{} judged safe:\n{}",
        bad.len(),
        bad.join("\n")
    );
}

#[test]
fn unreadable_code_says_so() {
    for cmd in [
        "python3 cleanup.py",
        "sh < cleanup.sh",
        "eval \"$CMD\"",
        "tmux new -d 'x'",
    ] {
        let v = classify(cmd, &inventory());
        assert_eq!(v.class, C, "{cmd}: {}", v.line());
        assert!(
            v.reason.contains("runs code the guard cannot read"),
            "{cmd}: {}",
            v.reason
        );
    }
}

#[test]
fn readable_text_is_judged_as_the_command_it_is() {
    let ctx = inventory();
    let bad: Vec<String> = READABLE_DANGEROUS
        .iter()
        .filter_map(|cmd| {
            let v = classify(cmd, &ctx);
            (v.class != D).then(|| format!("{cmd:?}: {}", v.line()))
        })
        .collect();
    assert!(
        bad.is_empty(),
        "{} not dangerous:\n{}",
        bad.len(),
        bad.join("\n")
    );
}

#[test]
fn kills_by_what_they_reach() {
    let ctx = inventory();
    let mut bad = vec![];
    for (cmd, want) in KILLS {
        let v = classify(cmd, &ctx);
        if v.class != *want {
            bad.push(format!("{cmd:?}: want {want}, got {}", v.line()));
        }
        if *want == D {
            let alt = v.safe_alternative.clone().unwrap_or_default();
            if !alt.contains("pm2 stop flyer-crawler-api") {
                bad.push(format!("{cmd:?}: alternative {alt:?}"));
            }
        }
    }
    assert!(bad.is_empty(), "{} wrong:\n{}", bad.len(), bad.join("\n"));
}

#[test]
fn read_commands_stay_safe() {
    let ctx = inventory();
    let bad: Vec<String> = STAY_SAFE
        .iter()
        .filter_map(|cmd| {
            let v = classify(cmd, &ctx);
            (v.class != S).then(|| format!("{cmd:?}: {}", v.line()))
        })
        .collect();
    assert!(
        bad.is_empty(),
        "{} false alarms:\n{}",
        bad.len(),
        bad.join("\n")
    );
}

/// Shell grammar corners (found comparing with brush-parser and tree-sitter-bash, #23).
#[test]
fn grammar_corners() {
    let ctx = inventory();
    let cases: &[(&str, Class)] = &[
        ("x=$(case $a in a) echo hi;; esac); pm2 delete all", D),
        ("case $a in (a) pm2 delete all;; esac", D),
        ("[[ $a =~ ^(x|y)$ ]] && pm2 delete all", D),
        ("(( n > 1 )) && pm2 delete all", D),
        ("echo ${x:-$(pm2 delete all)}", D),
        ("cat <<EOF; pm2 delete all\nbody\nEOF", D),
        ("f() { echo \"}\"; }; f; pm2 delete all", D),
        ("echo \"$(echo \")\")\"; pm2 delete all", D),
        ("select x in a b; do pm2 delete all; done", D),
        ("coproc pm2 delete all", D),
        ("x=$(cat <<EOF\npm2 list\nEOF\n); pm2 kill", D),
        ("echo $'pm2 \\'' ; pm2 kill", D),
        ("x=\"$(printf '%s' \"$(pm2 kill)\")\"", D),
        // The second here-document is cat's input: printed, not run.
        ("cat <<'A' <<'B'\na\nA\npm2 delete all\nB", S),
        ("cat <<'A' <<'B' | sh\na\nA\npm2 delete all\nB", D),
    ];
    let bad: Vec<String> = cases
        .iter()
        .filter_map(|(cmd, want)| {
            let v = classify(cmd, &ctx);
            (v.class != *want).then(|| format!("{cmd:?}: want {want}, got {}", v.line()))
        })
        .collect();
    assert!(bad.is_empty(), "{}", bad.join("\n"));
    let deep = format!("echo {}x{}", "${a:-".repeat(5000), "}".repeat(5000));
    assert_ne!(classify(&deep, &ctx).class, D);
}

/// Functions calling each other twice at every level: walked within a budget, never exponential.
#[test]
fn function_call_chains_stay_bounded() {
    let mut src = String::from("f0() { pm2 restart \"$1\"; }\n");
    for k in 1..40 {
        src.push_str(&format!(
            "f{k}() {{ f{} \"$1\"; f{} \"$1\"; }}\n",
            k - 1,
            k - 1
        ));
    }
    src.push_str("f39 all\n");
    let started = std::time::Instant::now();
    let v = classify(&src, &inventory());
    assert_ne!(v.class, S, "{}", v.line());
    assert!(
        started.elapsed().as_secs() < 5,
        "took {:?}",
        started.elapsed()
    );
}
