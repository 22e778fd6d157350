//! Nothing runs without passing the guard: dangerous lines are refused (and
//! provably not started), caution lines need the typed token.
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use pm2_incident::exec::{
    confirmation_token, run_guarded, spawn_guarded, CancelHandle, ExecSpec, GuardError, Line,
};
use pm2_incident::guard::{Class, GuardContext};

/// A `pm2` stand-in on PATH that records its arguments, so a run is observable
/// without touching any real PM2 daemon.
fn shim(dir: &Path) -> ExecSpec {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let pm2 = bin.join("pm2");
    std::fs::write(
        &pm2,
        "#!/bin/sh\necho \"shim: $*\"\necho \"$*\" >> \"$(dirname \"$0\")/../calls\"\n",
    )
    .unwrap();
    std::fs::set_permissions(&pm2, std::fs::Permissions::from_mode(0o755)).unwrap();
    let mut spec = ExecSpec::new("true", dir);
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    spec.env.push(("PATH".into(), path));
    spec
}

fn calls(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("calls")).unwrap_or_default()
}

fn ctx() -> GuardContext {
    GuardContext {
        known_processes: vec!["flyer-crawler-api".into(), "flyer-crawler-worker".into()],
        scope: None,
        pm2: None,
    }
}

#[test]
fn dangerous_is_refused_and_never_started() {
    let d = tempfile::tempdir().unwrap();
    for cmd in [
        "touch ran; pm2 delete all",
        "pm2 list && pm2 kill",
        "sh -c 'touch ran; pm2 restart all'",
    ] {
        let mut spec = shim(d.path());
        spec.command = cmd.into();
        // Even a "confirmation" does not override a dangerous verdict.
        let err = run_guarded(
            &spec,
            &ctx(),
            Some("all"),
            &CancelHandle::new(),
            &mut |_l: &Line| {},
        )
        .unwrap_err();
        match err {
            GuardError::Refused(v) => {
                assert_eq!(v.class, Class::Dangerous);
                assert!(v.safe_alternative.is_some());
            }
            other => panic!("{cmd}: expected refusal, got {other}"),
        }
    }
    assert!(!d.path().join("ran").exists(), "a refused command ran");
    assert_eq!(calls(d.path()), "");
}

#[test]
fn caution_needs_the_exact_token() {
    let d = tempfile::tempdir().unwrap();
    let mut spec = shim(d.path());
    spec.command = "pm2 restart 3".into();
    let err = run_guarded(
        &spec,
        &ctx(),
        None,
        &CancelHandle::new(),
        &mut |_l: &Line| {},
    )
    .unwrap_err();
    let GuardError::ConfirmationRequired { token, verdict } = err else {
        panic!("expected a confirmation request");
    };
    assert_eq!(verdict.class, Class::Caution);
    assert_eq!(token, "3");
    assert_eq!(token, confirmation_token(&verdict));
    let err = run_guarded(
        &spec,
        &ctx(),
        Some("yes"),
        &CancelHandle::new(),
        &mut |_l: &Line| {},
    )
    .unwrap_err();
    assert!(
        matches!(err, GuardError::ConfirmationMismatch { .. }),
        "{err}"
    );
    assert_eq!(calls(d.path()), "", "ran without a valid confirmation");
    let mut out = vec![];
    let (v, r) = run_guarded(
        &spec,
        &ctx(),
        Some("3"),
        &CancelHandle::new(),
        &mut |l: &Line| out.push(l.text.clone()),
    )
    .unwrap();
    assert_eq!(v.class, Class::Caution);
    assert!(r.success());
    assert_eq!(out, vec!["shim: restart 3"]);
    assert_eq!(calls(d.path()), "restart 3\n");
}

#[test]
fn caution_without_targets_uses_confirm() {
    let d = tempfile::tempdir().unwrap();
    let mut spec = shim(d.path());
    spec.command = "pm2 save".into();
    let (v, r) = run_guarded(
        &spec,
        &ctx(),
        Some("confirm"),
        &CancelHandle::new(),
        &mut |_l: &Line| {},
    )
    .unwrap();
    assert_eq!(v.class, Class::Caution);
    assert!(r.success());
    assert_eq!(calls(d.path()), "save\n");
}

#[test]
fn safe_runs_directly_on_a_thread() {
    let d = tempfile::tempdir().unwrap();
    let mut spec = shim(d.path());
    spec.command = "pm2 restart flyer-crawler-api".into();
    let (tx, rx) = std::sync::mpsc::channel();
    let (v, running) = spawn_guarded(spec, &ctx(), None, CancelHandle::new(), move |l: &Line| {
        let _ = tx.send(l.text.clone());
    })
    .unwrap();
    assert_eq!(v.class, Class::Safe);
    assert!(running.wait().success());
    assert_eq!(rx.recv().unwrap(), "shim: restart flyer-crawler-api");
}
