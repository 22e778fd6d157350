//! One reader of PM2's process lists: a real `dump.pm2` written by the pinned PM2 (every app's
//! environment in it, the canary secret included) read through the app's entry point (saved-list
//! evidence, resurrect fit) and `init`'s (launch facts), and the live launch list over rpc.sock:
//! each caller gets what it needs, from the same record; a cut or hostile file fails naming the
//! file, and the canary is in nothing returned, in no error and in no note.
mod support;

use std::path::Path;

use pm2_incident::init::read::read_saved;
use pm2_incident::pm2::dump::{parse_saved_list, read_dump_file};
use pm2_incident::pm2::{
    read_saved_list, ExecMode, ProcessStatus, RpcClient, RpcOptions, SavedProcess, SavedRead,
};
use support::pm2_fixture::{sandbox_dir, Pm2Fixture};

const APPS: [&str; 3] = [
    "flyer-crawler-api",
    "flyer-crawler-worker",
    "stock-alert-api",
];

fn named<'a>(l: &'a [SavedProcess], name: &str) -> Vec<&'a SavedProcess> {
    l.iter().filter(|p| p.name == name).collect()
}

fn no_canary(what: &str, text: &str, canary: &str) {
    assert!(!text.contains(canary), "{what} holds the canary: {text}");
}

#[test]
fn a_real_dump_gives_every_caller_its_fields_and_no_secret() {
    let fx = Pm2Fixture::start(&APPS);
    assert!(fx.pm2_cmd(&["save"]).status.success());
    let dump = fx.dir().join("dump.pm2");
    let raw = std::fs::read(&dump).unwrap();
    // The test could fail: PM2 did write the secret into the file.
    assert!(
        String::from_utf8_lossy(&raw).contains(&fx.canary),
        "the canary is not in dump.pm2: the test proves nothing"
    );
    let api_port = fx.ports["flyer-crawler-api"];
    let stock_port = fx.ports["stock-alert-api"];

    // The app: names and statuses for the saved-list evidence and the resurrect fit.
    let read = read_saved_list(&fx.home);
    let SavedRead::Read(list) = &read else {
        panic!("{read:?}")
    };
    assert_eq!(list.path, dump);
    assert_eq!(list.unnamed, 0);
    let mut apps = list.apps();
    apps.sort();
    assert_eq!(apps, APPS);
    assert_eq!(named(&list.entries, "flyer-crawler-api").len(), 2);
    assert_eq!(list.saved_online("flyer-crawler-api"), Some(true));
    assert!(list.saved_at_ms.is_some());

    // init: the launch facts, from the same file, through the same reader.
    let mut notes = Vec::new();
    let (path, saved) = read_saved(fx.dir(), &mut notes).expect("init reads the saved list");
    assert_eq!(path, dump);
    assert!(notes.is_empty(), "{notes:?}");
    assert_eq!(
        saved, list.entries,
        "the two callers read different records"
    );
    let script = |name: &str| sandbox_dir().join(name).display().to_string();
    for p in named(&saved, "flyer-crawler-api") {
        assert_eq!(p.exec_mode, Some(ExecMode::Cluster));
        assert_eq!(p.status, ProcessStatus::Online);
        assert_eq!(p.port, Some(api_port));
        assert_eq!(p.script.as_deref(), Some(script("health-api.js").as_str()));
        assert!(
            p.cwd.as_deref().is_some_and(|c| Path::new(c).is_dir()),
            "{p:?}"
        );
    }
    let stock = named(&saved, "stock-alert-api");
    assert_eq!(stock.len(), 1);
    assert_eq!(stock[0].port, Some(stock_port));
    assert_eq!(stock[0].exec_mode, Some(ExecMode::Fork));
    let worker = named(&saved, "flyer-crawler-worker");
    assert_eq!(
        worker[0].script.as_deref(),
        Some(script("worker.js").as_str())
    );

    // The live launch list (getMonitorData) goes through the same allow-list: same fields.
    let live = RpcClient::connect(fx.home.rpc_socket(), RpcOptions::default())
        .and_then(|mut c| c.launches())
        .expect("live launches");
    let key = |l: &[SavedProcess]| {
        let mut k: Vec<_> = l
            .iter()
            .map(|p| {
                (
                    p.name.clone(),
                    p.port,
                    p.script.clone(),
                    p.exec_mode.clone(),
                )
            })
            .collect();
        k.sort_by(|a, b| format!("{a:?}").cmp(&format!("{b:?}")));
        k
    };
    assert_eq!(key(&live), key(&saved));

    for (what, text) in [
        ("the app's read", format!("{read:?}")),
        ("its JSON", serde_json::to_string(&read).unwrap()),
        ("init's read", format!("{saved:?}")),
        ("the live list", format!("{live:?}")),
    ] {
        no_canary(what, &text, &fx.canary);
    }

    // Cut in the middle of the canary's value: an error naming the file and a position,
    // never the text; init notes it and falls back to the previous list (dump.pm2.bak).
    let at = String::from_utf8_lossy(&raw).find(&fx.canary).unwrap() + 6;
    let dir = tempfile::tempdir().unwrap();
    let cut = dir.path().join("dump.pm2");
    std::fs::write(&cut, &raw[..at]).unwrap();
    match read_dump_file(&cut) {
        SavedRead::Unreadable { path, reason } => {
            assert_eq!(path, cut);
            assert!(reason.contains(&cut.display().to_string()), "{reason}");
            assert!(reason.contains("line"), "{reason}");
            no_canary("the error", &reason, &fx.canary[..6]);
            no_canary("the error", &reason, &fx.canary);
        }
        other => panic!("{other:?}"),
    }
    let mut notes = Vec::new();
    assert_eq!(read_saved(dir.path(), &mut notes), None);
    assert!(
        notes.iter().any(|n| n.contains(&cut.display().to_string())),
        "{notes:?}"
    );
    std::fs::write(dir.path().join("dump.pm2.bak"), &raw).unwrap();
    let mut notes = Vec::new();
    let (path, from_bak) = read_saved(dir.path(), &mut notes).expect("falls back to .bak");
    assert_eq!(path, dir.path().join("dump.pm2.bak"));
    assert_eq!(from_bak, saved);
    assert_eq!(notes.len(), 1, "{notes:?}");
    no_canary("init's note", &notes[0], &fx.canary);
}

/// Files no PM2 writes, each with a secret inside: refused or read without it, always naming
/// the file; a FIFO named dump.pm2 is not opened (it would hang the poller).
#[test]
fn hostile_dumps_fail_naming_the_file_never_quoting_it() {
    const SECRET: &str = "cnry-hostile-S3CR3T";
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("dump.pm2");
    let refused = [
        format!(r#"{{"name":"api","TOKEN":"{SECRET}"}}"#),
        format!(r#"[{{"name":"api"}}, "{SECRET}"]"#),
        format!(r#"[{{"name":"api","TOKEN":"{SECRET}" "#),
        format!("[{{\"name\":\"api\",\"TOKEN\":\"{SECRET}\x01\"}}]"),
    ];
    for text in &refused {
        std::fs::write(&f, text).unwrap();
        match read_dump_file(&f) {
            SavedRead::Unreadable { reason, .. } => {
                assert!(reason.contains(&f.display().to_string()), "{reason}");
                no_canary("the error", &reason, SECRET);
            }
            other => panic!("{text}: {other:?}"),
        }
        let mut notes = Vec::new();
        assert_eq!(read_saved(dir.path(), &mut notes), None, "{text}");
        assert!(notes.iter().all(|n| !n.contains(SECRET)), "{notes:?}");
    }
    // Secrets where allow-listed keys are expected (an env var shadowing them): absent.
    let shadowed = format!(
        r#"[{{"name":"api","status":{{"v":"{SECRET}"}},"PORT":"{SECRET}","NODE_ENV":"{SECRET} as words",
             "env":{{"NODE_ENV":{{"v":"{SECRET}"}}}},"pm_cwd":["{SECRET}"],"exec_mode":7}}]"#
    );
    let (l, _) = parse_saved_list(shadowed.as_bytes()).unwrap();
    assert_eq!(l.len(), 1);
    assert_eq!(
        (l[0].port, l[0].cwd.as_deref(), l[0].node_env.as_deref()),
        (None, None, None)
    );
    assert_eq!(l[0].exec_mode, None);
    no_canary("the record", &format!("{l:?}"), SECRET);

    let fifo = dir.path().join("fifo");
    std::fs::remove_file(&f).unwrap();
    let c = std::ffi::CString::new(fifo.to_string_lossy().as_bytes()).unwrap();
    // SAFETY: mkfifo on a path in our own temp dir.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    std::fs::rename(&fifo, &f).unwrap();
    match read_dump_file(&f) {
        SavedRead::Unreadable { reason, .. } => {
            assert!(reason.contains(&f.display().to_string()), "{reason}")
        }
        other => panic!("{other:?}"),
    }
}
