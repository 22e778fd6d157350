//! Substituted values are exactly one shell word, checked with a real `sh`.
use pm2_incident::runbook::vars::{shell_quote, substitute, VarValue, Vars};
use pm2_incident::runbook::Runbook;

/// The words `sh` sees for `printf '%s\n' <line>`.
fn sh_words(args: &str) -> Vec<String> {
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("printf '%s\\n' {args}"))
        .output()
        .expect("sh runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn awkward_values_are_one_word() {
    let values = [
        "has spaces",
        "it's quoted",
        "double \"quotes\"",
        "$HOME and $(touch /tmp/pwned-by-runbook)",
        "a; rm -rf /",
        "back`tick`",
        "tab\there",
        "newline\nhere",
        "*glob?",
        "~user",
        "",
        "plain-name_1.2",
    ];
    for v in values {
        let mut vars = Vars::new();
        vars.insert("v".into(), VarValue::One(v.into()));
        let line = substitute("${v}", &vars).unwrap();
        assert_eq!(
            sh_words(&line),
            if v.contains('\n') {
                v.lines().map(str::to_string).collect::<Vec<_>>()
            } else {
                vec![v.to_string()]
            },
            "{v:?} -> {line}"
        );
        // printf prints a newline-containing word over two lines; check it is one argument instead:
        let count = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!("set -- {line}; echo $#"))
            .output()
            .unwrap();
        assert_eq!(
            String::from_utf8_lossy(&count.stdout).trim(),
            "1",
            "{v:?} -> {line}"
        );
    }
    assert!(!std::path::Path::new("/tmp/pwned-by-runbook").exists());
}

#[test]
fn list_values_are_one_word_each() {
    let mut vars = Vars::new();
    vars.insert(
        "p".into(),
        VarValue::Many(vec!["a b".into(), "c;d".into(), "e".into()]),
    );
    let line = substitute("pm2 restart ${p}", &vars).unwrap();
    assert_eq!(
        sh_words(&line.replacen("pm2 restart ", "", 1)),
        ["a b", "c;d", "e"]
    );
}

#[test]
fn plain_values_stay_as_the_runbook_writes_them() {
    assert_eq!(
        shell_quote("/var/www/flyer-crawler.projectium.com"),
        "/var/www/flyer-crawler.projectium.com"
    );
    let rb = Runbook::embedded().unwrap();
    assert_eq!(
        rb.render("cd ${flyer-crawler-prod.dir} && pm2 start ${flyer-crawler-prod.config}"),
        "cd /var/www/flyer-crawler.projectium.com && pm2 start ecosystem.config.cjs"
    );
}

#[test]
fn inventory_with_awkward_values_renders_safely() {
    let inv = pm2_incident::runbook::DEFAULT_INVENTORY.replacen(
        "dir = \"/var/www/flyer-crawler.projectium.com\"",
        "dir = \"/srv/my app's; dir\"",
        1,
    );
    let rb = Runbook::parse(
        pm2_incident::runbook::Source {
            name: "p",
            text: pm2_incident::runbook::DEFAULT_PROCEDURE,
        },
        pm2_incident::runbook::Source {
            name: "i",
            text: &inv,
        },
    )
    .unwrap();
    let line = rb.render("cd ${flyer-crawler-prod.dir}");
    assert_eq!(
        sh_words(&line.replacen("cd ", "", 1)),
        ["/srv/my app's; dir"]
    );
}
