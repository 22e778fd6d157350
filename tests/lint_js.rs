//! PM2 use in JavaScript: exec strings, concatenation, templates, spawn argv,
//! the programmatic API, and the loop context that makes a computed id safe.
use pm2_incident::guard::js::scan;
use pm2_incident::guard::{Class, GuardContext};

fn worst(src: &str) -> Class {
    scan(src, &GuardContext::default())
        .iter()
        .map(|f| f.class)
        .max()
        .unwrap_or(Class::Safe)
}

#[test]
fn exec_strings() {
    let cases: &[(&str, Class)] = &[
        ("exec('pm2 delete all')", Class::Dangerous),
        (
            "child_process.execSync(\"pm2 stop all\", { stdio: 'inherit' })",
            Class::Dangerous,
        ),
        (
            "require('child_process').execSync('pm2 restart flyer-crawler-api')",
            Class::Safe,
        ),
        ("exec('pm2 ' + action + ' all')", Class::Dangerous),
        ("exec(`pm2 restart ${name}`)", Class::Caution),
        ("const cmd = 'pm2 kill';\nexecSync(cmd);", Class::Dangerous),
        ("const cmd = 'pm2 list';\nexecSync(cmd);", Class::Safe),
        ("execSync('pm2 save')", Class::Caution),
        ("execFileSync('pm2', ['delete', 'all'])", Class::Dangerous),
        ("spawn('sh', ['-c', 'pm2 restart all'])", Class::Dangerous),
        ("spawn('pm2', ['logs', 'flyer-crawler-api'])", Class::Safe),
        (
            "const m = /exec\\('pm2 delete all'\\)/.exec(text);",
            Class::Safe,
        ),
        (
            "/* exec('pm2 delete all') */ console.log('pm2 delete all');",
            Class::Safe,
        ),
    ];
    for (src, want) in cases {
        assert_eq!(worst(src), *want, "{src}");
    }
}

#[test]
fn loops_decide_computed_ids() {
    let ok_test = "const list = JSON.parse(execSync('pm2 jlist'));\nlist.filter((p) => p.name.endsWith('-test')).forEach((p) => exec('pm2 delete ' + p.pm2_env.pm_id));";
    assert_eq!(worst(ok_test), Class::Safe);
    let ok_for = "const list = JSON.parse(execSync('pm2 jlist'));\nfor (const p of list) {\n  if (KEEP.includes(p.name)) {\n    exec(`pm2 restart ${p.pm_id}`);\n  }\n}";
    assert_eq!(worst(ok_for), Class::Safe);
    let bad_negated = "const list = JSON.parse(execSync('pm2 jlist'));\nlist.forEach((p) => { if (!p.name.endsWith('-test')) exec('pm2 delete ' + p.pm_id); });";
    assert_eq!(
        worst(bad_negated),
        Class::Dangerous,
        "deleting everything that is not -test hits other apps"
    );
    let bad_status = "pm2.list((err, list) => { list.forEach((p) => { if (p.pm2_env.status === 'stopped') pm2.delete(p.pm_id, () => {}); }); });";
    assert_eq!(worst(bad_status), Class::Dangerous);
    let literal_list = "const prodProcesses = ['flyer-crawler-api', 'flyer-crawler-worker'];\nprodProcesses.forEach((n) => exec('pm2 restart ' + n));";
    assert_eq!(worst(literal_list), Class::Safe);
    let outside_loop = "exec('pm2 delete ' + process.argv[2]);";
    assert_eq!(worst(outside_loop), Class::Caution);
}

#[test]
fn api_receivers_and_methods() {
    assert_eq!(
        worst("import PM from 'pm2';\nPM.reload('all', cb);"),
        Class::Dangerous
    );
    assert_eq!(
        worst("const p = require('pm2');\np.killDaemon(cb);"),
        Class::Dangerous
    );
    assert_eq!(worst("pm2.dump(cb)"), Class::Caution);
    assert_eq!(
        worst("pm2.start({ name: 'flyer-crawler-api', script: 'server.js' }, cb)"),
        Class::Safe
    );
    assert_eq!(worst("pm2.restart(3, cb)"), Class::Caution);
    assert_eq!(
        worst("other.delete('all')"),
        Class::Safe,
        "not the pm2 module"
    );
    assert_eq!(worst("map.delete('all')"), Class::Safe);
}

#[test]
fn findings_point_at_the_call() {
    let src = "const a = 1;\n  pm2.stop('all', cb);";
    let f = scan(src, &GuardContext::default());
    assert_eq!(f.len(), 1);
    assert_eq!(&src[f[0].offset..f[0].offset + 8], "pm2.stop");
    assert_eq!(f[0].command, "pm2.stop('all', cb)");
}

#[test]
fn command_strings_wherever_they_stand() {
    let cases: &[(&str, Class)] = &[
        // Script maps and command arrays: something runs them.
        (
            "const scripts = { stop: 'pm2 kill', list: 'pm2 ls' };",
            Class::Dangerous,
        ),
        ("const steps = [\"pm2 delete all\"];", Class::Dangerous),
        (
            "module.exports = { restart: `pm2 restart ${APP}` };",
            Class::Caution,
        ),
        (
            "const scripts = { status: 'pm2 status', logs: 'pm2 logs api' };",
            Class::Safe,
        ),
        // Shown or compared, not run.
        (
            "console.error('pm2 delete all is forbidden here')",
            Class::Safe,
        ),
        ("if (cmd === 'pm2 kill') refuse();", Class::Safe),
        ("throw new Error('pm2 stop all failed')", Class::Safe),
        // split forms and argv arrays
        ("execa('pm2 delete all'.split(' '))", Class::Dangerous),
        ("execaSync('pm2', ['stop', 'all'])", Class::Dangerous),
        ("spawn('pm2', 'restart all'.split(' '))", Class::Dangerous),
        (
            "execa('pm2', ['restart', 'flyer-crawler-api'])",
            Class::Safe,
        ),
        (
            "const c = 'pm2 kill'; execSync(c.split(' ').join(' '))",
            Class::Dangerous,
        ),
    ];
    for (src, want) in cases {
        assert_eq!(worst(src), *want, "{src}");
    }
}

#[test]
fn compiled_typescript_and_destructured_api() {
    let ts = "\"use strict\";\nvar __importDefault = (this && this.__importDefault) || function (m) { return m; };\nObject.defineProperty(exports, \"__esModule\", { value: true });\nconst pm2_1 = __importDefault(require(\"pm2\"));\npm2_1.default.delete(\"all\", () => {});\n";
    let f = scan(ts, &GuardContext::default());
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!(f[0].class, Class::Dangerous);
    assert!(ts[f[0].offset..].starts_with("pm2_1.default.delete(\"all\""));
    assert_eq!(
        worst("const { delete: del, list } = require('pm2');\ndel('all', cb);"),
        Class::Dangerous
    );
    assert_eq!(
        worst("import { stop as halt } from 'pm2';\nhalt('all');"),
        Class::Dangerous
    );
    assert_eq!(
        worst("import * as P from 'pm2';\nP.killDaemon();"),
        Class::Dangerous
    );
    assert_eq!(
        worst("const { restart } = require('pm2');\nrestart('flyer-crawler-api', cb);"),
        Class::Safe
    );
    assert_eq!(
        worst("const { delete: del } = require('lodash');\ndel('all');"),
        Class::Safe,
        "not the pm2 module"
    );
}

/// #18 item 3: escapes before a multi-byte character used to slice inside it.
#[test]
fn multibyte_escapes_do_not_panic() {
    for src in [
        "const s = \"\\é\";",
        "const s = '\\é';",
        "const t = `\\é ${x}`;",
        "const t = `${é",
        "const r = /\\é/; exec('pm2 kill')",
        "exec('pm2 delete \\é')",
        "'\\",
        "`\\",
    ] {
        let f = scan(src, &GuardContext::default());
        for x in &f {
            assert!(src.is_char_boundary(x.offset), "{src}");
        }
    }
    assert_eq!(worst("const r = /\\é/; exec('pm2 kill')"), Class::Dangerous);
}
