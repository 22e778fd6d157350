//! The runner against real child processes: order, volume, bytes, timeouts,
//! cancel, missing binaries and exit codes.
use std::path::Path;
use std::time::{Duration, Instant};

use pm2_incident::exec::{run, spawn, CancelHandle, End, ExecError, ExecSpec, Line, Stream};

fn run_collect(spec: &ExecSpec) -> (pm2_incident::exec::ExecResult, Vec<Line>) {
    let mut lines = vec![];
    let r = run(spec, &CancelHandle::new(), &mut |l: &Line| {
        lines.push(l.clone())
    })
    .expect("spawn");
    (r, lines)
}

fn tmp() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

/// A pid is gone when it no longer exists or is a zombie nobody reaped yet.
fn pid_gone(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(s) => s
            .rsplit(')')
            .next()
            .is_some_and(|rest| rest.trim_start().starts_with('Z')),
    }
}

fn read_pids(path: &Path) -> Vec<i32> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|p| p.parse().ok())
        .collect()
}

fn wait_for_file(path: &Path, want: usize) {
    let t = Instant::now();
    while read_pids(path).len() < want && t.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn streams_in_arrival_order_and_tags_streams() {
    let d = tmp();
    let spec = ExecSpec::new(
        "echo one; sleep 0.2; echo two >&2; sleep 0.2; echo three",
        d.path(),
    );
    let (r, lines) = run_collect(&spec);
    let got: Vec<(Stream, &str)> = lines.iter().map(|l| (l.stream, l.text.as_str())).collect();
    assert_eq!(
        got,
        vec![
            (Stream::Stdout, "one"),
            (Stream::Stderr, "two"),
            (Stream::Stdout, "three")
        ]
    );
    assert_eq!(
        lines.iter().map(|l| l.seq).collect::<Vec<_>>(),
        vec![1, 2, 3]
    );
    assert!(lines[0].at < lines[2].at);
    assert_eq!(r.end, End::Exited(0));
    assert!(r.success());
    assert_eq!(r.tail.len(), 3);
}

#[test]
fn lines_arrive_while_the_command_still_runs() {
    let d = tmp();
    let spec = ExecSpec::new("echo early; sleep 1; echo late", d.path());
    let (tx, rx) = std::sync::mpsc::channel();
    let start = Instant::now();
    let running = spawn(spec, CancelHandle::new(), move |l: &Line| {
        let _ = tx.send((l.text.clone(), Instant::now()));
    })
    .unwrap();
    let (first, at) = rx.recv_timeout(Duration::from_secs(5)).unwrap();
    assert_eq!(first, "early");
    assert!(
        at.duration_since(start) < Duration::from_millis(700),
        "not streamed: {:?}",
        at.duration_since(start)
    );
    let r = running.wait();
    assert_eq!(r.lines, 2);
}

#[test]
fn hundred_thousand_lines_quickly_with_bounded_tail() {
    let d = tmp();
    let mut spec = ExecSpec::new("seq 1 100000", d.path());
    spec.tail_lines = 100;
    let mut count = 0u64;
    let mut last = String::new();
    let t = Instant::now();
    let r = run(&spec, &CancelHandle::new(), &mut |l: &Line| {
        count += 1;
        last = l.text.clone();
    })
    .unwrap();
    let took = t.elapsed();
    assert_eq!(count, 100_000);
    assert_eq!(r.lines, 100_000);
    assert_eq!(last, "100000");
    assert_eq!(r.tail.len(), 100);
    assert_eq!(r.tail.first().unwrap().text, "99901");
    assert!(took < Duration::from_secs(5), "100k lines took {took:?}");
    eprintln!("100k lines in {took:?}");
}

#[test]
fn non_utf8_bytes_and_long_lines_do_not_break_anything() {
    let d = tmp();
    let mut spec = ExecSpec::new(
        r"printf 'caf\351 \377\376 ok\n'; head -c 100000 /dev/zero | tr '\0' x; echo; echo after",
        d.path(),
    );
    spec.max_line_bytes = 1000;
    let (r, lines) = run_collect(&spec);
    assert_eq!(r.end, End::Exited(0));
    assert_eq!(lines[0].text, "caf\u{fffd} \u{fffd}\u{fffd} ok");
    assert!(lines[1].truncated);
    assert_eq!(lines[1].text.len(), 1000);
    assert_eq!(lines[2].text, "after");
    assert!(!lines[2].truncated);
}

#[test]
fn timeout_ends_the_whole_tree() {
    let d = tmp();
    let pids = d.path().join("pids");
    // The shell starts two background sleepers plus a grandchild via a subshell, then waits.
    let cmd = format!(
        "sleep 60 & echo $! >> {p}; (sleep 60 & echo $! >> {p}; wait) & echo $! >> {p}; while [ $(wc -l < {p}) -lt 3 ]; do sleep 0.01; done; echo started; wait",
        p = pids.display()
    );
    let spec = ExecSpec::new(cmd, d.path())
        .timeout(Duration::from_millis(1000))
        .grace(Duration::from_millis(500));
    let t = Instant::now();
    let (r, lines) = run_collect(&spec);
    assert!(r.timed_out);
    assert!(!r.success());
    assert_eq!(r.end, End::Signaled(libc::SIGTERM), "{}", r.summary());
    assert!(t.elapsed() < Duration::from_secs(5));
    assert_eq!(lines[0].text, "started");
    let ps = read_pids(&pids);
    assert_eq!(ps.len(), 3, "{ps:?}");
    let deadline = Instant::now() + Duration::from_secs(3);
    while !ps.iter().all(|&p| pid_gone(p)) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    for p in ps {
        assert!(pid_gone(p), "pid {p} survived the timeout");
    }
}

#[test]
fn children_ignoring_term_get_killed() {
    let d = tmp();
    let pids = d.path().join("pids");
    let cmd = format!(
        "sh -c 'trap \"\" TERM; echo $$ >> {p}; while :; do sleep 0.05; done' & while [ ! -s {p} ]; do sleep 0.01; done; wait",
        p = pids.display()
    );
    let spec = ExecSpec::new(cmd, d.path())
        .timeout(Duration::from_millis(1000))
        .grace(Duration::from_millis(300));
    let (r, _) = run_collect(&spec);
    assert!(r.timed_out);
    let ps = read_pids(&pids);
    assert_eq!(ps.len(), 1);
    let deadline = Instant::now() + Duration::from_secs(3);
    while !pid_gone(ps[0]) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(pid_gone(ps[0]), "TERM-ignoring child {} survived", ps[0]);
}

#[test]
fn cancel_ends_the_tree() {
    let d = tmp();
    let pids = d.path().join("pids");
    let cmd = format!(
        "sleep 60 & echo $! >> {p}; echo ready; wait",
        p = pids.display()
    );
    let cancel = CancelHandle::new();
    let running = spawn(
        ExecSpec::new(cmd, d.path()).grace(Duration::from_millis(500)),
        cancel.clone(),
        |_l: &Line| {},
    )
    .unwrap();
    wait_for_file(&pids, 1);
    let t = Instant::now();
    running.cancel_handle().cancel();
    let r = running.wait();
    assert!(r.cancelled);
    assert!(!r.timed_out);
    assert!(
        t.elapsed() < Duration::from_secs(3),
        "cancel took {:?}",
        t.elapsed()
    );
    assert!(r.summary().contains("cancelled"), "{}", r.summary());
    let ps = read_pids(&pids);
    let deadline = Instant::now() + Duration::from_secs(3);
    while !pid_gone(ps[0]) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(pid_gone(ps[0]));
}

#[test]
fn missing_binary_is_exit_127_with_message() {
    let d = tmp();
    let (r, lines) = run_collect(&ExecSpec::new(
        "definitely-not-a-command-xyz --flag",
        d.path(),
    ));
    assert_eq!(r.exit_code(), Some(127));
    assert!(r.summary().contains("command not found"), "{}", r.summary());
    let err: Vec<&Line> = lines
        .iter()
        .filter(|l| l.stream == Stream::Stderr)
        .collect();
    assert!(
        err.iter()
            .any(|l| l.text.contains("definitely-not-a-command-xyz")),
        "{lines:?}"
    );
}

#[test]
fn non_zero_exit_and_signal_are_reported() {
    let d = tmp();
    let (r, _) = run_collect(&ExecSpec::new("echo failing >&2; exit 3", d.path()));
    assert_eq!(r.end, End::Exited(3));
    assert!(!r.success());
    assert!(r.summary().starts_with("exit 3"));
    let (r, _) = run_collect(&ExecSpec::new("kill -KILL $$", d.path()));
    assert_eq!(r.signal(), Some(libc::SIGKILL));
}

#[test]
fn runs_in_the_given_directory_with_env() {
    let d = tmp();
    let mut spec = ExecSpec::new("pwd; echo \"$PM2_HOME\"", d.path());
    spec.env.push(("PM2_HOME".into(), "/tmp/x-pm2".into()));
    let (_, lines) = run_collect(&spec);
    let canon = std::fs::canonicalize(d.path()).unwrap();
    assert_eq!(lines[0].text, canon.display().to_string());
    assert_eq!(lines[1].text, "/tmp/x-pm2");
}

#[test]
fn missing_directory_is_a_clear_error() {
    let err = run(
        &ExecSpec::new("true", "/nonexistent/dir/xyz"),
        &CancelHandle::new(),
        &mut |_l: &Line| {},
    )
    .unwrap_err();
    assert!(matches!(err, ExecError::Cwd(..)));
    assert!(err.to_string().contains("/nonexistent/dir/xyz"), "{err}");
}

#[test]
fn background_child_holding_the_pipe_does_not_hang_the_runner() {
    let d = tmp();
    let spec = ExecSpec::new("sleep 30 & echo done", d.path()).grace(Duration::from_millis(300));
    let t = Instant::now();
    let (r, lines) = run_collect(&spec);
    assert_eq!(r.end, End::Exited(0));
    assert_eq!(lines[0].text, "done");
    assert!(
        t.elapsed() < Duration::from_secs(3),
        "hung for {:?}",
        t.elapsed()
    );
}
