//! Where findings land: each command hidden in a heredoc, a here-string, a
//! multi-line ssh string or a function argument is reported at its own
//! line:col in the original file (through `lint_text`, as `lint` does), and no
//! input makes the guard panic or report an offset inside a character.
use pm2_incident::guard::lint::{lint_text, FileKind};
use pm2_incident::guard::{analyze, Class, GuardContext};
use proptest::prelude::*;

const DEPLOY: &str = r#"#!/usr/bin/env bash
set -euo pipefail
DIR=/srv/app

ssh deploy@host "bash -s" <<'EOF'
  cd /srv/app
  pm2 delete all
EOF

ssh deploy@host 'bash -s' <<< 'pm2 kill'

ssh deploy@host "
  cd $DIR
  pm2 stop all
"

run_remote() {
  ssh deploy@host "$1"
}
run_remote "cd $DIR && pm2 restart all"

sudo -u app bash <<EOF
echo "déployé ✓"
kill -9 \$(cat ~/.pm2/pm2.pid)
EOF

for p in $(pgrep node); do kill -9 "$p"; done
echo 'pm2 delete all' | sh
pm2 restart flyer-crawler-api
"#;

/// (line, col, command) of every dangerous finding, in file order.
fn dangerous(findings: &[pm2_incident::guard::lint::LintFinding]) -> Vec<(usize, usize, String)> {
    findings
        .iter()
        .filter(|f| f.class == Class::Dangerous)
        .map(|f| (f.line, f.col, f.command.clone()))
        .collect()
}

#[test]
fn hidden_commands_are_reported_at_their_own_line_and_column() {
    let ctx = GuardContext::default();
    let got = dangerous(&lint_text("deploy.sh", DEPLOY, FileKind::Shell, &ctx));
    let want: Vec<(usize, usize, String)> = vec![
        (7, 3, "pm2 delete all".into()),
        (10, 32, "pm2 kill".into()),
        (14, 3, "pm2 stop all".into()),
        (20, 24, "pm2 restart all".into()),
        (24, 1, "kill -9 $(cat ~/.pm2/pm2.pid)".into()),
        (27, 28, "kill -9 \"$p\"".into()),
        (28, 7, "pm2 delete all".into()),
    ];
    assert_eq!(got, want);
    // Each reported position holds the command it names.
    let lines: Vec<&str> = DEPLOY.lines().collect();
    for (line, col, cmd) in &got {
        let at: String = lines[line - 1].chars().skip(col - 1).collect();
        let head = cmd.split_whitespace().next().unwrap();
        assert!(
            at.starts_with(head),
            "{line}:{col} holds {at:?}, not {cmd:?}"
        );
    }
}

/// Random text over shell syntax, multi-byte characters and PM2 words.
fn fragment() -> impl Strategy<Value = String> {
    let atoms = prop::sample::select(vec![
        "pm2",
        " delete",
        " all",
        " ",
        "\n",
        "'",
        "\"",
        "`",
        "$(",
        ")",
        "(",
        "{",
        "}",
        "<<",
        "EOF",
        "<<<",
        "|",
        "&&",
        ";",
        "\\",
        "$",
        "#",
        "é",
        "∀",
        "日本",
        "🦀",
        "sh -c ",
        "ssh h ",
        "bash -s",
        "kill -9 ",
        "f() ",
        "$1",
        "eval ",
        "echo ",
        "=",
        "-",
        "\t",
        "python3 -c ",
        "find . -exec ",
        "\\;",
        "for p in ",
        "; do ",
        "; done",
        "case x in a) ",
        ";;",
        "esac",
    ]);
    prop::collection::vec(
        prop_oneof![
            atoms.prop_map(String::from),
            any::<char>().prop_map(String::from)
        ],
        0..40,
    )
    .prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn offsets_are_char_boundaries_inside_the_input(src in fragment()) {
        let ctx = GuardContext::default();
        for f in analyze(&src, &ctx, &Default::default()) {
            prop_assert!(f.offset <= src.len(), "offset {} past the end of {src:?}", f.offset);
            prop_assert!(src.is_char_boundary(f.offset), "offset {} splits a character in {src:?}", f.offset);
            prop_assert!(!f.reason.is_empty());
        }
        // lint places every finding on a line of the file.
        let n = src.lines().count().max(1);
        for f in lint_text("x.sh", &src, FileKind::Shell, &ctx) {
            prop_assert!(f.line >= 1 && f.line <= n + 1, "line {} of {n}", f.line);
        }
    }
}
