//! Wire-level behaviour of the rpc.sock client against real unix sockets served by the test
//! (no PM2 needed): exact request bytes, out-of-order replies, malformed and hostile frames,
//! big listings, and the `pm2 jlist` CLI fallback against real child processes.
mod support;

use pm2_incident::pm2::amp::{encode_frame, read_frame, Arg, FrameError};
use pm2_incident::pm2::{
    encode_request, parse_process_list, CliError, CliSource, HomeError, Pm2Home, ReadCall, Reply,
    RpcClient, RpcError, RpcOptions,
};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::io::Write;
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use support::pm2_fixture::synthetic_listing;

// ---- per-thread allocation tracking: proves a 4 GiB announcement is refused before allocating

struct Tracking;
thread_local! {
    static LARGEST: Cell<usize> = const { Cell::new(0) };
}
unsafe impl GlobalAlloc for Tracking {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        let _ = LARGEST.try_with(|c| c.set(c.get().max(l.size())));
        System.alloc(l)
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        System.dealloc(p, l)
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, n: usize) -> *mut u8 {
        let _ = LARGEST.try_with(|c| c.set(c.get().max(n)));
        System.realloc(p, l, n)
    }
}
#[global_allocator]
static GLOBAL: Tracking = Tracking;

fn largest_allocation_during<T>(f: impl FnOnce() -> T) -> (T, usize) {
    LARGEST.with(|c| c.set(0));
    let r = f();
    (r, LARGEST.with(|c| c.get()))
}

// ---- a scripted fake daemon on a real unix socket

/// Serve one connection: read `n_requests` request frames, then write what `reply` returns
/// (given the request ids in order), then keep the socket open for `linger`.
fn fake_daemon(
    dir: &Path,
    n_requests: usize,
    linger: Duration,
    reply: impl FnOnce(Vec<String>) -> Vec<u8> + Send + 'static,
) -> (PathBuf, std::thread::JoinHandle<Vec<Vec<u8>>>) {
    let path = dir.join("rpc.sock");
    let listener = UnixListener::bind(&path).unwrap();
    let t = std::thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        let mut ids = Vec::new();
        let mut payloads = Vec::new();
        for _ in 0..n_requests {
            let args = read_frame(&mut s, 1 << 20).unwrap().unwrap();
            match (&args[0], &args[1]) {
                (Arg::Json(p), Arg::Str(id)) => {
                    payloads.push(p.clone());
                    ids.push(id.clone());
                }
                other => panic!("bad request shape {other:?}"),
            }
        }
        let _ = s.write_all(&reply(ids));
        std::thread::sleep(linger);
        payloads
    });
    (path, t)
}

fn reply_frame(body: &str, id: &str) -> Vec<u8> {
    encode_frame(&[format!("j:{body}").as_bytes(), format!("s:{id}").as_bytes()]).unwrap()
}

fn fast() -> RpcOptions {
    RpcOptions {
        connect_timeout: Duration::from_secs(1),
        reply_timeout: Duration::from_millis(800),
        ..RpcOptions::default()
    }
}

const LISTING: &str = r#"[{"pid":11,"name":"flyer-crawler-api","pm_id":0,"monit":{"cpu":1,"memory":10},
"pm2_env":{"status":"online","restart_time":2,"env":{"DB_PASSWORD":"hunter2"},"DB_PASSWORD":"hunter2"}}]"#;

#[test]
fn request_bytes_equal_the_documented_frames() {
    // From pm2-wire-protocol.md (`pm2rpc.py hexdump ping`, identity 4242), byte for byte.
    let ping: Vec<u8> = [
        &[0x12, 0x00, 0x00, 0x00, 0x2d][..],
        br#"j:{"type":"call","method":"ping","args":[{}]}"#,
        &[0x00, 0x00, 0x00, 0x08],
        b"s:4242:0",
    ]
    .concat();
    assert_eq!(ping.len(), 62);
    assert_eq!(encode_request(ReadCall::Ping, "4242:0"), ping);

    let version: Vec<u8> = [
        &[0x12, 0x00, 0x00, 0x00, 0x33][..],
        br#"j:{"type":"call","method":"getVersion","args":[{}]}"#,
        &[0x00, 0x00, 0x00, 0x08],
        b"s:4242:1",
    ]
    .concat();
    assert_eq!(encode_request(ReadCall::GetVersion, "4242:1"), version);

    let monitor: Vec<u8> = [
        &[0x12, 0x00, 0x00, 0x00, 0x37][..],
        br#"j:{"type":"call","method":"getMonitorData","args":[{}]}"#,
        &[0x00, 0x00, 0x00, 0x08],
        b"s:4242:2",
    ]
    .concat();
    assert_eq!(encode_request(ReadCall::GetMonitorData, "4242:2"), monitor);

    // Every allowed call carries exactly one empty object as args (anything else can crash
    // the daemon).
    for c in ReadCall::ALL {
        let v: serde_json::Value = serde_json::from_str(&c.payload()[2..]).unwrap();
        assert_eq!(v["args"], serde_json::json!([{}]), "{c:?}");
        assert_eq!(v.as_object().unwrap().len(), 3, "{c:?}");
    }
}

#[test]
fn replies_out_of_order_are_matched_by_id() {
    let dir = tempfile::tempdir().unwrap();
    let (path, server) = fake_daemon(dir.path(), 3, Duration::ZERO, |ids| {
        // Answer in reverse order, with a stray reply to an id nobody asked for first.
        [
            reply_frame(r#"{"args":[{"msg":"pong"}]}"#, "999:999"),
            reply_frame(r#"{"args":["7.0.4"]}"#, &ids[2]),
            reply_frame(r#"{"args":[{"msg":"pong"}]}"#, &ids[1]),
            reply_frame(&format!(r#"{{"args":[{LISTING}]}}"#), &ids[0]),
        ]
        .concat()
    });
    let mut c = RpcClient::connect(&path, fast()).unwrap();
    let r = c
        .call_many(&[
            ReadCall::GetMonitorData,
            ReadCall::Ping,
            ReadCall::GetVersion,
        ])
        .unwrap();
    let payloads = server.join().unwrap();
    assert_eq!(r.len(), 3);
    let Ok(Reply::Processes(list)) = &r[0] else {
        panic!("{:?}", r[0])
    };
    assert_eq!(
        (list[0].name.as_str(), list[0].restarts),
        ("flyer-crawler-api", 2)
    );
    assert!(matches!(r[1], Ok(Reply::Pong)));
    assert!(matches!(&r[2], Ok(Reply::Version(v)) if v == "7.0.4"));
    assert!(!format!("{r:?}").contains("hunter2"));
    // What went over the wire were exactly the three allowed requests.
    let methods: Vec<String> = payloads
        .iter()
        .map(|p| serde_json::from_slice::<serde_json::Value>(p).unwrap()["method"].to_string())
        .collect();
    assert_eq!(
        methods,
        [r#""getMonitorData""#, r#""ping""#, r#""getVersion""#]
    );
}

fn one_call(reply: Vec<u8>, linger: Duration) -> Result<Reply, RpcError> {
    let dir = tempfile::tempdir().unwrap();
    let (path, server) = fake_daemon(dir.path(), 1, linger, move |_| reply);
    let mut c = RpcClient::connect(&path, fast()).unwrap();
    let r = c.call(ReadCall::GetMonitorData);
    server.join().unwrap();
    r
}

#[test]
fn malformed_replies_give_clear_errors() {
    // truncated: announces 100 bytes, sends 10, closes
    let mut t = vec![0x12, 0, 0, 0, 100];
    t.extend_from_slice(b"j:{\"args\":");
    let e = one_call(t, Duration::ZERO).unwrap_err();
    assert!(
        matches!(
            e,
            RpcError::Frame(FrameError::Truncated {
                got: 10,
                expected: 100,
                ..
            })
        ),
        "{e}"
    );
    assert!(e.to_string().contains("truncated"), "{e}");

    // wrong meta byte (version 2)
    let e = one_call(vec![0x22, 0, 0, 0, 1, b'x'], Duration::ZERO).unwrap_err();
    assert!(
        matches!(e, RpcError::Frame(FrameError::BadMeta(0x22))),
        "{e}"
    );

    // non-JSON payload under a j: prefix, with the right id
    let dir = tempfile::tempdir().unwrap();
    let (path, server) = fake_daemon(dir.path(), 1, Duration::ZERO, |ids| {
        reply_frame("this is not json SECRET=hunter2", &ids[0])
    });
    let e = RpcClient::connect(&path, fast())
        .unwrap()
        .call(ReadCall::GetMonitorData)
        .unwrap_err();
    server.join().unwrap();
    assert!(matches!(e, RpcError::Parse { .. }), "{e}");
    assert!(!e.to_string().contains("hunter2"), "{e}");

    // a reply that is JSON but not an array listing
    let dir = tempfile::tempdir().unwrap();
    let (path, server) = fake_daemon(dir.path(), 1, Duration::ZERO, |ids| {
        reply_frame(r#"{"args":[{"not":"a list"}]}"#, &ids[0])
    });
    let e = RpcClient::connect(&path, fast())
        .unwrap()
        .call(ReadCall::GetMonitorData)
        .unwrap_err();
    server.join().unwrap();
    assert!(matches!(e, RpcError::Parse { .. }), "{e}");

    // wrong argument shape (one string arg instead of [JSON, id])
    let e = one_call(encode_frame(&[b"s:hello"]).unwrap(), Duration::ZERO).unwrap_err();
    assert!(e.to_string().contains("expected [JSON, string id]"), "{e}");

    // a daemon that never answers: reply timeout, and the connection is then refused for reuse
    let dir = tempfile::tempdir().unwrap();
    let (path, server) = fake_daemon(dir.path(), 1, Duration::from_millis(1500), |_| vec![]);
    let mut c = RpcClient::connect(&path, fast()).unwrap();
    let start = Instant::now();
    let e = c.call(ReadCall::Ping).unwrap_err();
    assert!(matches!(e, RpcError::ReplyTimeout(_, "ping")), "{e}");
    assert!(start.elapsed() < Duration::from_millis(1400));
    assert!(matches!(c.call(ReadCall::Ping), Err(RpcError::Poisoned)));
    server.join().unwrap();
}

#[test]
fn four_gib_announcement_is_refused_before_allocating() {
    let dir = tempfile::tempdir().unwrap();
    // Announce 0xFFFFFFFF bytes and then keep the socket open: a client that trusted the
    // length would allocate 4 GiB or wait for the timeout.
    let (path, server) = fake_daemon(dir.path(), 1, Duration::from_millis(1500), |_| {
        vec![0x12, 0xff, 0xff, 0xff, 0xff]
    });
    let mut c = RpcClient::connect(&path, fast()).unwrap();
    let start = Instant::now();
    let (r, largest) = largest_allocation_during(|| c.call(ReadCall::GetMonitorData));
    let e = r.unwrap_err();
    assert!(
        matches!(
            e,
            RpcError::Frame(FrameError::TooLarge {
                announced: 4_294_967_300,
                ..
            })
        ),
        "{e}"
    );
    assert!(
        start.elapsed() < Duration::from_millis(500),
        "refused at once, not by timeout"
    );
    assert!(largest < 1 << 20, "largest allocation was {largest} bytes");
    server.join().unwrap();

    // The pure decoder agrees.
    let e = read_frame(&mut &[0x11u8, 0xff, 0xff, 0xff, 0xff][..], 256 << 20).unwrap_err();
    assert!(matches!(e, FrameError::TooLarge { .. }));
}

#[test]
fn a_fifty_megabyte_listing_parses_through_the_socket() {
    let listing = synthetic_listing(500, 700);
    assert!(listing.len() > 50_000_000, "{} bytes", listing.len());
    let dir = tempfile::tempdir().unwrap();
    let body = format!(r#"{{"args":[{listing}]}}"#);
    drop(listing);
    let (path, server) = fake_daemon(dir.path(), 1, Duration::ZERO, move |ids| {
        reply_frame(&body, &ids[0])
    });
    let mut c = RpcClient::connect(
        &path,
        RpcOptions {
            reply_timeout: Duration::from_secs(60),
            ..RpcOptions::default()
        },
    )
    .unwrap();
    let list = c.monitor_data().unwrap();
    server.join().unwrap();
    assert_eq!(list.len(), 500);
    assert_eq!(list[499].name, "app-499");
    assert_eq!(list[499].restarts, 499);
    assert!(!serde_json::to_string(&list).unwrap().contains("hunter2"));
}

#[test]
fn socket_path_over_the_unix_limit_is_a_clear_error() {
    let long = format!("/tmp/{}", "h".repeat(110));
    let e = Pm2Home::new(&long).unwrap_err();
    assert!(matches!(e, HomeError::SocketPathTooLong { .. }));
    assert!(e.to_string().contains("107"), "{e}");
}

// ---- CLI fallback against real child processes (shell scripts standing in for `pm2`)

fn fake_pm2(dir: &Path, body: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let p = dir.join("pm2");
    std::fs::write(&p, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    p
}

fn cli(bin: PathBuf, timeout_ms: u64) -> CliSource {
    CliSource {
        pm2_bin: bin,
        timeout: Duration::from_millis(timeout_ms),
        pm2_home: None,
    }
}

#[test]
fn cli_fallback_takes_the_array_line_and_refuses_everything_else() {
    let dir = tempfile::tempdir().unwrap();
    let listing = r#"[{"name":"a","pm_id":0,"pm2_env":{"status":"online","SECRET":"hunter2"}}]"#;
    let bin = fake_pm2(
        dir.path(),
        &format!(
            "[ \"$1\" = jlist ] || exit 9\necho '[PM2] Spawning PM2 daemon'\necho '{listing}'\necho '>>>> In-memory PM2 is out-of-date, do:'"
        ),
    );
    let list = cli(bin, 5000).jlist().unwrap();
    assert_eq!(
        (list[0].name.as_str(), list[0].status.as_str()),
        ("a", "online")
    );
    assert!(!format!("{list:?}").contains("hunter2"));

    let d2 = tempfile::tempdir().unwrap();
    let e = cli(fake_pm2(d2.path(), r#"echo '{"SECRET":"hunter2"}'"#), 5000)
        .jlist()
        .unwrap_err();
    assert!(matches!(e, CliError::NoArray(_)), "{e}");
    assert!(!e.to_string().contains("hunter2"), "{e}");

    let d3 = tempfile::tempdir().unwrap();
    let start = Instant::now();
    let e = cli(fake_pm2(d3.path(), "exec sleep 30"), 300)
        .jlist()
        .unwrap_err();
    assert!(matches!(e, CliError::Timeout { .. }), "{e}");
    assert!(start.elapsed() < Duration::from_secs(5));

    let d4 = tempfile::tempdir().unwrap();
    let e = cli(fake_pm2(d4.path(), "echo '[]'; exit 3"), 5000)
        .jlist()
        .unwrap_err();
    assert!(matches!(e, CliError::Failed { .. }), "{e}");

    let e = cli(dir.path().join("does-not-exist"), 5000)
        .jlist()
        .unwrap_err();
    assert!(matches!(e, CliError::Spawn { .. }), "{e}");
}

#[test]
fn parse_rejects_non_arrays_and_truncation_without_panicking() {
    for bad in [
        &b""[..],
        b"{}",
        b"null",
        b"[",
        b"[{\"name\":",
        b"\xff\xfe",
        b"[1,2,3]",
        b"[{\"pm_id\":\"x\"}]",
    ] {
        assert!(parse_process_list(bad).is_err(), "{bad:?}");
    }
}

#[test]
fn socket_of_another_user_is_permission_denied() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let home = Pm2Home::new(dir.path()).unwrap();
    let _l = UnixListener::bind(home.rpc_socket()).unwrap();
    // Only the owner may connect (PM2 uses 775; a socket of another user without group access).
    std::fs::set_permissions(home.rpc_socket(), std::fs::Permissions::from_mode(0o700)).unwrap();
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        std::fs::set_permissions(home.rpc_socket(), std::fs::Permissions::from_mode(0o000))
            .unwrap();
        assert!(matches!(
            pm2_incident::pm2::probe_daemon(&home),
            pm2_incident::pm2::DaemonState::PermissionDenied { .. }
        ));
        return;
    }
    // As root (CI), permission checks don't apply to us: ask as user nobody, via the binary
    // (copied beside the socket so nobody can run it whatever the checkout's permissions).
    let exe = dir.path().join("pm2-incident");
    std::fs::copy(env!("CARGO_BIN_EXE_pm2-incident"), &exe).unwrap();
    std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(0o755)).unwrap();
    let out = std::process::Command::new("setpriv")
        .args(["--reuid=nobody", "--regid=nogroup", "--clear-groups"])
        .arg(&exe)
        .args(["pm2", "--pm2-home"])
        .arg(dir.path())
        .output()
        .expect("setpriv (util-linux) is needed to test another user's socket as root");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.starts_with("PM2 daemon: permission denied on "),
        "{stdout}"
    );
}

#[test]
fn event_subscriber_reconnects_after_end_of_stream() {
    use pm2_incident::pm2::{BusMsg, EventSubscriber, Pm2Event, SubscriberOptions};
    let dir = tempfile::tempdir().unwrap();
    let home = Pm2Home::new(dir.path()).unwrap();
    let listener = UnixListener::bind(home.pub_socket()).unwrap();
    let frame = |topic: &str, payload: &str| {
        encode_frame(&[
            format!("s:{topic}").as_bytes(),
            format!("j:{payload}").as_bytes(),
        ])
        .unwrap()
    };
    let first = [
        frame(
            "process:event",
            r#"{"event":"online","process":{"name":"a","pm_id":0,"SECRET":"hunter2"},"at":1}"#,
        ),
        vec![0x12, 0, 0, 0], // a frame cut off by the daemon dying
    ]
    .concat();
    let second = frame("pm2:kill", r#"{"status":"killed","msg":"bye"}"#);
    let server = std::thread::spawn(move || {
        for bytes in [first, second] {
            let (mut s, _) = listener.accept().unwrap();
            s.write_all(&bytes).unwrap();
        } // each connection closes here
    });
    let sub = EventSubscriber::spawn(
        &home,
        SubscriberOptions {
            initial_backoff: Duration::from_millis(10),
            ..SubscriberOptions::default()
        },
    );
    let (ok, msgs) = sub.wait_for(Duration::from_secs(5), |m| {
        matches!(m, BusMsg::Event(Pm2Event::Kill { .. }))
    });
    server.join().unwrap();
    assert!(ok, "{msgs:?}");
    let kinds: Vec<&str> = msgs
        .iter()
        .map(|m| match m {
            BusMsg::Connected => "connected",
            BusMsg::Event(Pm2Event::Process(_)) => "process",
            BusMsg::Event(Pm2Event::Kill { .. }) => "kill",
            BusMsg::Disconnected { .. } => "disconnected",
            _ => "other",
        })
        .collect();
    assert_eq!(
        kinds,
        ["connected", "process", "disconnected", "connected", "kill"]
    );
    let BusMsg::Disconnected { reason } = &msgs[2] else {
        unreachable!()
    };
    assert!(reason.contains("truncated"), "{reason}");
    assert!(!format!("{msgs:?}").contains("hunter2"));
}
