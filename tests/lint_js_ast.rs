//! JavaScript/TypeScript read through oxc's AST (#23): every way a script runs
//! a PM2 command (the API under any alias, child_process, execa, zx, node-ssh,
//! command strings in object literals) reported at its exact line and column,
//! parse failures reported at theirs with the rest of the file still read, no
//! overflow on deep nesting, and random JS never panics.
use pm2_incident::guard::js::{read, scan, Dialect, Read};
use pm2_incident::guard::lint::{lint_text, FileKind, LintFinding};
use pm2_incident::guard::{Class, GuardContext};
use proptest::prelude::*;

fn lint(label: &str, src: &str) -> Vec<LintFinding> {
    lint_text(label, src, FileKind::Js, &GuardContext::default())
}

/// The text at a finding's line:col starts with the first line of its command.
fn holds_command(src: &str, f: &LintFinding) -> bool {
    let line = src.split('\n').nth(f.line - 1).unwrap_or("");
    let at: String = line.chars().skip(f.col - 1).collect();
    let first = f.command.split('\n').next().unwrap_or("");
    at.starts_with(first)
}

/// (line, col, class, command) of the guard's findings.
fn guard(src: &str, label: &str) -> Vec<(usize, usize, Class, String)> {
    let found = lint(label, src);
    for f in &found {
        assert!(
            holds_command(src, f),
            "{}:{} does not hold {:?}\n{src}",
            f.line,
            f.col,
            f.command
        );
    }
    found
        .into_iter()
        .filter(|f| f.rule == "guard")
        .map(|f| (f.line, f.col, f.class, f.command))
        .collect()
}

use Class::{Caution as C, Dangerous as D};

#[test]
fn pm2_api_through_every_alias() {
    let src = r#"const P = require('pm2');
import Q from 'pm2';
import * as R from "pm2";
import { default as S, stop as halt } from 'pm2';
const { delete: del, restart } = require('pm2');
const pm2_1 = __importDefault(require("pm2"));
const pm2_2 = __importStar(require("pm2"));
const _pm = _interopRequireDefault(require("pm2"));
P.stop('all');
Q.reload('all', cb);
  R.killDaemon(() => {});
S.reset('all');
halt('all');
del('all', cb);
pm2_1.default.delete("all", () => {});
(0, pm2_2.delete)("all");
_pm.default.restart('all');
require('pm2').stop('all');
const M = (await import('pm2')).default; M.delete('all');
const api = new pm2.custom({ cwd: '/srv' }); api.stop('all');
const kd = pm2.killDaemon.bind(pm2); kd();
pm2['delete']('all');
pm2?.stop('all');
restart('flyer-crawler-api', cb);
other.delete('all'); map.stop('all'); cache.reset('all');
"#;
    let got = guard(src, "deploy.mjs");
    let want = vec![
        (9, 1, D, "P.stop('all')".to_string()),
        (10, 1, D, "Q.reload('all', cb)".into()),
        (11, 3, D, "R.killDaemon(() => {})".into()),
        (12, 1, D, "S.reset('all')".into()),
        (13, 1, D, "halt('all')".into()),
        (14, 1, D, "del('all', cb)".into()),
        (15, 1, D, "pm2_1.default.delete(\"all\", () => {})".into()),
        (16, 1, D, "(0, pm2_2.delete)(\"all\")".into()),
        (17, 1, D, "_pm.default.restart('all')".into()),
        (18, 1, D, "require('pm2').stop('all')".into()),
        (19, 42, D, "M.delete('all')".into()),
        (20, 46, D, "api.stop('all')".into()),
        (21, 38, D, "kd()".into()),
        (22, 1, D, "pm2['delete']('all')".into()),
        (23, 1, D, "pm2?.stop('all')".into()),
    ];
    assert_eq!(got, want);
}

#[test]
fn typescript_import_equals_and_types() {
    let src = "import P = require('pm2');\ntype Cmd = 'pm2 kill' | 'pm2 list';\nconst c: Cmd = 'pm2 list';\nP.delete('all' as string, (e: Error | null) => {});\n";
    let got = guard(src, "deploy.ts");
    assert_eq!(
        got,
        vec![(
            4,
            1,
            D,
            "P.delete('all' as string, (e: Error | null) => {})".to_string()
        )],
        "a type is never run; the call is"
    );
    // TSX: JSX and types together.
    let tsx = "const B = (p: { run: string }) => <button onClick={() => exec(`pm2 delete ${p.run}`)}>x</button>;\n";
    assert_eq!(
        guard(tsx, "panel.tsx"),
        vec![(1, 58, C, "exec(`pm2 delete ${p.run}`)".to_string())]
    );
}

#[test]
fn child_process_runners_and_their_aliases() {
    let src = r#"const cp = require('child_process');
const { execSync: run, spawn: sp } = require('node:child_process');
import { exec as sh } from 'child_process';
const util = require('util');
const execP = util.promisify(cp.exec);
cp.exec('pm2 delete all');
run("pm2 stop all", { stdio: 'inherit' });
sh(`pm2 kill`);
await execP('pm2 reload all');
sp('pm2', ['restart', 'all']);
cp.execFileSync('pm2', ['delete', 'all']);
cp.spawn('pm2 stop all', { shell: true });
cp.spawn('pm2', ['stop', 'all'], { shell: true });
(0, child_process_1.execSync)("pm2 restart all");
cp.spawn('pm2', ['logs', 'api']);
/pm2 delete all/.exec('pm2 delete all');
"#;
    let got = guard(src, "deploy.js");
    let want = vec![
        (6, 4, D, "exec('pm2 delete all')".to_string()),
        (
            7,
            1,
            D,
            "run(\"pm2 stop all\", { stdio: 'inherit' })".into(),
        ),
        (8, 1, D, "sh(`pm2 kill`)".into()),
        (9, 7, D, "execP('pm2 reload all')".into()),
        (10, 1, D, "sp('pm2', ['restart', 'all'])".into()),
        (11, 4, D, "execFileSync('pm2', ['delete', 'all'])".into()),
        (12, 4, D, "spawn('pm2 stop all', { shell: true })".into()),
        (
            13,
            4,
            D,
            "spawn('pm2', ['stop', 'all'], { shell: true })".into(),
        ),
        (
            14,
            1,
            D,
            "(0, child_process_1.execSync)(\"pm2 restart all\")".into(),
        ),
    ];
    assert_eq!(got, want);
}

#[test]
fn execa_zx_and_node_ssh() {
    let src = r#"import { execa, execaCommand, $ as run$ } from 'execa';
import { $ } from 'zx';
await execa('pm2', ['stop', 'all']);
await execa('pm2 delete all'.split(' '));
await execaCommand('pm2 reload all');
await $`pm2 delete all`;
$.sync`pm2 kill`;
await $({ cwd: '/srv' })`pm2 stop all`;
await execa`pm2 restart all`;
await run$`pm2 reset all`;
const name = process.argv[2];
await $`pm2 restart ${name}`;
await ssh.execCommand('pm2 delete all', { cwd: '/srv' });
const steps = ['pm2 stop api', 'pm2 save'];
await $`echo ${steps}`;
execSync(['pm2 stop all', 'pm2 save'].join(' && '));
"#;
    let got = guard(src, "deploy.mjs");
    let want = vec![
        (3, 7, D, "execa('pm2', ['stop', 'all'])".to_string()),
        (4, 7, D, "execa('pm2 delete all'.split(' '))".into()),
        (5, 7, D, "execaCommand('pm2 reload all')".into()),
        (6, 7, D, "$`pm2 delete all`".into()),
        (7, 1, D, "$.sync`pm2 kill`".into()),
        (8, 7, D, "$({ cwd: '/srv' })`pm2 stop all`".into()),
        (9, 7, D, "execa`pm2 restart all`".into()),
        (10, 7, D, "run$`pm2 reset all`".into()),
        (12, 7, C, "$`pm2 restart ${name}`".into()),
        (
            13,
            11,
            D,
            "execCommand('pm2 delete all', { cwd: '/srv' })".into(),
        ),
        // `pm2 save` in an array of steps is a command written down (caution).
        (14, 32, C, "'pm2 save'".into()),
        (
            16,
            1,
            D,
            "execSync(['pm2 stop all', 'pm2 save'].join(' && '))".into(),
        ),
        (
            16,
            1,
            C,
            "execSync(['pm2 stop all', 'pm2 save'].join(' && '))".into(),
        ),
    ];
    assert_eq!(got, want);
}

#[test]
fn command_strings_in_literals_after_multibyte_text() {
    let src = "// déploiement ✓ 日本語\nconst scripts = { note: 'ünïcødé 😀', stop: 'pm2 kill', up: `pm2 restart ${APP}` };\nconst steps = [\n  \"pm2 delete all\",\n  'pm2 list',\n];\nmodule.exports = { deploy: 'cd /srv && pm2 reload all' };\nconsole.log('pm2 delete all is forbidden'); if (x === 'pm2 kill') throw new Error('pm2 stop all');\n";
    let got = guard(src, "tasks.js");
    let want = vec![
        (2, 44, D, "'pm2 kill'".to_string()),
        (2, 60, C, "`pm2 restart ${APP}`".into()),
        (4, 3, D, "\"pm2 delete all\"".into()),
        (7, 28, D, "'cd /srv && pm2 reload all'".into()),
    ];
    assert_eq!(got, want, "shown, compared and thrown strings are not run");
}

#[test]
fn loops_over_the_process_list() {
    let src = "const list = JSON.parse(execSync('pm2 jlist'));\nfor (const p of list) {\n  if (p.name.endsWith('-test')) execSync(`pm2 delete ${p.pm_id}`);\n}\nlist.forEach((p) => { if (p.pm2_env.status === 'errored') exec('pm2 delete ' + p.pm_id); });\nconst apps = ['api', 'worker'];\nfor (const a of apps) execSync('pm2 restart ' + a);\nwhile (pending.length) exec('pm2 stop ' + pending.pop());\n";
    let got = guard(src, "cleanup.js");
    let want = vec![
        (5, 59, D, "exec('pm2 delete ' + p.pm_id)".to_string()),
        (8, 24, D, "exec('pm2 stop ' + pending.pop())".into()),
    ];
    assert_eq!(got, want);
}

#[test]
fn a_parse_error_is_a_finding_and_the_rest_is_read() {
    // A merge conflict: the marker lines are blanked, both sides read.
    let conflict = "const cp = require('child_process');\n<<<<<<< HEAD\ncp.execSync('pm2 delete all');\n=======\ncp.execSync('pm2 restart api');\n>>>>>>> feature\n";
    let f = lint("deploy.js", conflict);
    let parse: Vec<_> = f.iter().filter(|f| f.rule == "parse").collect();
    assert_eq!(parse.len(), 1, "{f:#?}");
    assert_eq!((parse[0].line, parse[0].col), (2, 1));
    assert!(
        parse[0]
            .message
            .contains("lines 2, 4, 6 read on their own, the rest of the file as a whole"),
        "{}",
        parse[0].message
    );
    assert!(
        f.iter()
            .any(|f| f.rule == "guard" && (f.line, f.col, f.class) == (3, 4, D)),
        "{f:#?}"
    );

    // An unclosed brace: nothing to blank, each line read on its own.
    let open = "function deploy() {\n  exec('pm2 delete all');\n  const t = { stop: 'pm2 kill',\n";
    let f = lint("deploy.js", open);
    let parse: Vec<_> = f.iter().filter(|f| f.rule == "parse").collect();
    assert_eq!(parse.len(), 1, "{f:#?}");
    assert_eq!(
        (parse[0].line, parse[0].col),
        (4, 1),
        "at the end of the input"
    );
    assert!(
        parse[0]
            .message
            .starts_with("cannot parse this file (Expected `}` but found `EOF`"),
        "{}",
        parse[0].message
    );
    assert!(
        parse[0].message.contains("read line by line"),
        "{}",
        parse[0].message
    );
    let guard: Vec<_> = f
        .iter()
        .filter(|f| f.rule == "guard")
        .map(|f| (f.line, f.col, f.class))
        .collect();
    assert_eq!(guard, vec![(2, 3, D), (3, 21, D)]);

    // An error oxc recovers from: the whole file is still read.
    let r = read(
        "const a = x ?? y || z;\nreturn exec('pm2 kill');\n",
        Dialect::Js,
        &GuardContext::default(),
    );
    let e = r.failure.expect("?? mixed with ||");
    assert_eq!((e.offset, e.read.clone()), (10, Read::Whole));
    assert_eq!(
        r.findings.len(),
        1,
        "top-level return is CommonJS, not an error"
    );
    // An unterminated string on the last line: that line is skipped.
    let r = read(
        "exec('pm2 kill');\nconst s = '\\",
        Dialect::Js,
        &GuardContext::default(),
    );
    let e = r.failure.expect("unterminated string");
    assert_eq!((e.offset, e.read.clone()), (28, Read::Skipping(vec![2])));
    assert_eq!(r.findings.len(), 1);

    // The guard (`node -e`): a program it cannot parse is not safe.
    let f = scan("require('x').then(", &GuardContext::default());
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].class, C);
    assert!(
        f[0].reason.starts_with("cannot parse this JavaScript"),
        "{}",
        f[0].reason
    );
}

/// oxc recurses once per nesting level and has no limit of its own: the parse
/// runs on a stack sized to the input, so no input overflows it.
#[test]
fn deep_nesting_is_read_without_overflow() {
    let d = 20_000;
    let cases = [
        format!("x = {}1{};", "(".repeat(d), ")".repeat(d)),
        format!("x = {}{};", "[".repeat(d), "]".repeat(d)),
        format!("x = {}1{};", "{a:".repeat(d), "}".repeat(d)),
        format!("{}x;", "if(1)".repeat(d)),
        format!("x = {}1{};", "`${".repeat(d), "}`".repeat(d)),
        format!("x = {}1;", "!".repeat(d)),
        format!("x = {};", vec!["'pm2 '"; d].join("+")),
        format!("{}exec('pm2 kill')", "(".repeat(d)),
        format!("f = {}1;", "x=>".repeat(d)),
    ];
    for src in &cases {
        let r = read(src, Dialect::Js, &GuardContext::default());
        assert!(r.findings.len() <= 1, "{:?}", &src[..20]);
    }
}

/// Random JavaScript fragments and Unicode.
fn fragment() -> impl Strategy<Value = String> {
    let atoms = prop::sample::select(vec![
        "exec(",
        "execSync(",
        "spawn(",
        "execa(",
        "$`",
        "`",
        "${",
        "}",
        "'",
        "\"",
        "(",
        ")",
        "[",
        "]",
        "{",
        "}",
        ",",
        ";",
        "\n",
        " ",
        "\t",
        "\\",
        "/",
        "/*",
        "*/",
        "//",
        "=>",
        "=",
        "===",
        "+",
        ".split(' ')",
        "pm2",
        "pm2 delete all",
        "pm2 kill",
        "pm2 restart api",
        "require('pm2')",
        "import P from 'pm2';",
        "const ",
        "P.",
        "pm2.",
        "delete(",
        "stop(",
        "'all'",
        "pm2_1.default.",
        "forEach((p) => ",
        "p.pm2_env.pm_id",
        "for (const p of list) ",
        "{ stop: 'pm2 kill' }",
        "console.log(",
        "throw ",
        "<a>",
        "</a>",
        "é",
        "日本",
        "🦀",
        "\u{2028}",
        "\r\n",
        "#!/usr/bin/env node\n",
    ]);
    prop::collection::vec(
        prop_oneof![
            atoms.prop_map(String::from),
            any::<char>().prop_map(String::from)
        ],
        0..50,
    )
    .prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1500))]

    #[test]
    fn random_js_never_panics_and_findings_hold_their_command(src in fragment()) {
        let ctx = GuardContext::default();
        for f in scan(&src, &ctx) {
            prop_assert!(src.is_char_boundary(f.offset) && f.offset <= src.len());
        }
        let lines = src.split('\n').count();
        for label in ["x.js", "x.ts"] {
            for f in lint(label, &src) {
                prop_assert!(f.line >= 1 && f.line <= lines, "line {} of {lines}", f.line);
                let width = src.split('\n').nth(f.line - 1).unwrap().chars().count();
                prop_assert!(f.col >= 1 && f.col <= width + 1, "col {} of {width}", f.col);
                prop_assert!(holds_command(&src, &f), "{}:{} {:?} in {src:?}", f.line, f.col, f.command);
            }
        }
    }
}

/// Name filters come from the conditions the command is under, read from the AST.
#[test]
fn name_filters_are_the_conditions_around_the_command() {
    use pm2_incident::guard::js::name_filter;
    let f = name_filter("if (prodProcesses.includes(p.name)) x();").unwrap();
    assert!(f.explicit);
    assert_eq!(f.text, "prodProcesses.includes(p.name)");
    let f = name_filter("if (p.name && p.name.endsWith('-test')) x();").unwrap();
    assert!(!f.explicit);
    assert_eq!(f.text, "p.name.endsWith('-test')");
    assert!(name_filter("if (p.pm2_env.status === 'errored') x();").is_none());
    assert!(name_filter("if (!p.name.endsWith('-test')) x();").is_none());
    assert!(name_filter("if (p.name !== 'x') x();").is_none());
    assert!(name_filter("if (!keep.includes(p.name)) x();").is_none());
    assert!(
        name_filter("p.name === 'flyer-crawler-api'")
            .unwrap()
            .explicit
    );
    assert!(!name_filter("/-test$/.test(p.name)").unwrap().explicit);
    assert!(name_filter("KEEP.indexOf(p.name) !== -1").unwrap().explicit);
    assert!(name_filter("KEEP.indexOf(p.name) === -1").is_none());
    assert!(
        name_filter("// p.name === 'x'\nconst s = \"p.name.endsWith('-test')\";").is_none(),
        "comments and strings are not conditions"
    );

    // Through lint: where the command stands decides.
    let head = "const list = JSON.parse(execSync('pm2 jlist'));\n";
    let worst = |body: &str| {
        lint("cleanup.js", &format!("{head}{body}"))
            .iter()
            .filter(|f| f.rule == "guard")
            .map(|f| f.class)
            .max()
            .unwrap_or(Class::Safe)
    };
    let cases: &[(&str, Class)] = &[
        ("list.forEach((p) => { if (KEEP.includes(p.name)) exec('pm2 delete ' + p.pm_id); });", Class::Safe),
        // The else branch runs for every name NOT kept.
        ("list.forEach((p) => { if (KEEP.includes(p.name)) {} else exec('pm2 delete ' + p.pm_id); });", D),
        // `||` lets the errored apps through whatever their name.
        ("list.forEach((p) => { if (p.pm2_env.status === 'errored' || p.name.endsWith('-test')) exec('pm2 delete ' + p.pm_id); });", D),
        ("list.forEach((p) => { if (p.pm2_env.status === 'errored' && p.name.endsWith('-test')) exec('pm2 delete ' + p.pm_id); });", Class::Safe),
        // An early exit on the negated test is a filter.
        ("for (const p of list) {\n  if (!KEEP.includes(p.name)) continue;\n  exec(`pm2 delete ${p.pm_id}`);\n}", Class::Safe),
        ("for (const p of list) {\n  if (KEEP.includes(p.name)) continue;\n  exec(`pm2 delete ${p.pm_id}`);\n}", D),
        ("list.filter(({ name }) => name.startsWith('api-')).forEach((p) => exec('pm2 delete ' + p.pm_id));", Class::Safe),
        ("list.filter(function (p) { return KEEP.indexOf(p.name) !== -1; }).forEach((p) => exec('pm2 delete ' + p.pm_id));", Class::Safe),
        ("list.forEach((p) => p.name === 'api' && exec('pm2 delete ' + p.pm_id));", Class::Safe),
        ("list.forEach((p) => p.name === 'api' ? null : exec('pm2 delete ' + p.pm_id));", D),
    ];
    for (body, want) in cases {
        assert_eq!(worst(body), *want, "{body}");
    }
}
