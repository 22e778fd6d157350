//! Issue 18 item 7: `runbook check` on hostile decision graphs. A 40-rung ladder (2^40 paths)
//! is checked at once; a 100k-node chain neither overflows the stack nor hides a cycle.
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const EXE: &str = env!("CARGO_BIN_EXE_pm2-incident");

/// The shipped procedure with its decision tree's nodes replaced by `nodes` (TOML text).
fn procedure_with_nodes(nodes: &str) -> String {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("runbook/pm2-incident-response.toml"),
    )
    .unwrap();
    let a = text.find("[[decision_tree.node]]").unwrap();
    let b = text.find("[[decision_tree.leaf]]").unwrap();
    format!("{}{nodes}{}", &text[..a], &text[b..])
}

/// `count` nodes from `production-down` (the shipped root) down to the leaves; `no` of each
/// node is `no_of(i)` (a node id or a leaf), `yes` the next node; the last one ends in `last_yes`.
fn nodes(count: usize, no_of: impl Fn(usize) -> String, last_yes: &str) -> String {
    let id = |i: usize| {
        if i == 0 {
            "production-down".to_string()
        } else {
            format!("n{i}")
        }
    };
    let mut s = String::new();
    for i in 0..count {
        let yes = if i + 1 == count {
            last_yes.to_string()
        } else {
            id(i + 1)
        };
        s.push_str(&format!(
            "[[decision_tree.node]]\nid = \"{}\"\nquestion = \"q\"\npredicate = \"production_app_down\"\nyes = \"{yes}\"\nno = \"{}\"\n\n",
            id(i),
            no_of(i)
        ));
    }
    s
}

fn check(procedure: &str, limit: Duration) -> (Option<i32>, String, Duration) {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("procedure.toml");
    std::fs::write(&p, procedure).unwrap();
    let mut child = Command::new(EXE)
        .args(["runbook", "check", "--runbook"])
        .arg(&p)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let t = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if t.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("runbook check still running after {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let took = t.elapsed();
    let out = child.wait_with_output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code(), text, took)
}

#[test]
fn a_forty_rung_ladder_is_checked_at_once() {
    // Both branches of every rung lead to the next rung: 2^40 root-to-leaf paths.
    let ladder = nodes(
        40,
        |i| {
            if i == 39 {
                "p2".into()
            } else {
                format!("n{}", i + 1)
            }
        },
        "p1",
    );
    let (code, out, took) = check(&procedure_with_nodes(&ladder), Duration::from_secs(20));
    assert_eq!(code, Some(0), "{out}");
    assert!(took < Duration::from_secs(5), "took {took:?}");
}

#[test]
fn a_100k_node_chain_neither_overflows_nor_hides_a_cycle() {
    let n = 100_000;
    let chain = nodes(n, |_| "p3".into(), "p1");
    let (code, out, _) = check(&procedure_with_nodes(&chain), Duration::from_secs(120));
    assert_eq!(code, Some(0), "a signal or an error: {out}");
    // The same chain whose last node loops back to the root.
    let looped = nodes(n, |_| "p3".into(), "production-down");
    let (code, out, _) = check(&procedure_with_nodes(&looped), Duration::from_secs(120));
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("decision tree loops back to `production-down`"),
        "{out}"
    );
}
