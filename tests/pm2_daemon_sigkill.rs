//! A PM2 daemon killed with SIGKILL: the tool reports "died uncleanly" with the dead pid, and
//! looking (probe, RPC, event subscriber with reconnects) never starts a new daemon.
mod support;

use pm2_incident::pm2::{
    pid_alive, probe_daemon, read_pid_file, BusMsg, DaemonState, EventSubscriber, RpcClient,
    RpcError, RpcOptions, SubscriberOptions,
};
use std::os::unix::fs::MetadataExt;
use std::time::{Duration, Instant};
use support::pm2_fixture::Pm2Fixture;

fn god_daemons_of(fx: &Pm2Fixture) -> Vec<u32> {
    fx.processes_of_this_home()
        .into_iter()
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .map(|c| String::from_utf8_lossy(&c).contains("God Daemon"))
                .unwrap_or(false)
        })
        .collect()
}

#[test]
fn sigkilled_daemon_is_died_uncleanly_and_nothing_respawns_it() {
    let fx = Pm2Fixture::start(&["stock-alert-api"]);
    let daemon = fx.daemon_pid;
    assert_eq!(god_daemons_of(&fx), vec![daemon]);
    let sub = EventSubscriber::spawn(
        &fx.home,
        SubscriberOptions {
            initial_backoff: Duration::from_millis(20),
            max_backoff: Duration::from_millis(100),
            ..SubscriberOptions::default()
        },
    );
    assert!(
        sub.wait_for(Duration::from_secs(5), |m| *m == BusMsg::Connected)
            .0
    );
    let sock_before = std::fs::metadata(fx.home.rpc_socket()).unwrap();

    // SAFETY: SIGKILL to the daemon of our own throwaway PM2_HOME.
    assert_eq!(
        unsafe { libc::kill(daemon as libc::pid_t, libc::SIGKILL) },
        0
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    while pid_alive(daemon) {
        assert!(
            Instant::now() < deadline,
            "daemon {daemon} survived SIGKILL"
        );
        std::thread::sleep(Duration::from_millis(20));
    }

    // The bus ends.
    let (ok, msgs) = sub.wait_for(Duration::from_secs(5), |m| {
        matches!(m, BusMsg::Disconnected { .. })
    });
    assert!(ok, "no end of stream after SIGKILL: {msgs:?}");

    // Died uncleanly, naming the dead pid.
    let st = probe_daemon(&fx.home);
    assert_eq!(
        st,
        DaemonState::DiedUncleanly {
            last_pid: Some(daemon),
            last_pid_alive: false
        }
    );
    assert!(
        st.to_string().contains(&format!("pid {daemon} is dead")),
        "{st}"
    );
    assert!(matches!(
        RpcClient::connect(fx.home.rpc_socket(), RpcOptions::default()),
        Err(RpcError::Refused(_))
    ));

    // Keep looking for a while (probes + a subscriber retrying every <=100 ms): still nothing
    // was started.
    for _ in 0..10 {
        assert!(matches!(
            probe_daemon(&fx.home),
            DaemonState::DiedUncleanly { .. }
        ));
        std::thread::sleep(Duration::from_millis(50));
    }
    drop(sub);
    let sock_after = std::fs::metadata(fx.home.rpc_socket()).unwrap();
    assert_eq!(
        sock_before.ino(),
        sock_after.ino(),
        "rpc.sock was recreated"
    );
    assert_eq!(
        read_pid_file(&fx.home.pid_file()),
        Some(daemon),
        "pm2.pid was rewritten"
    );
    assert!(!pid_alive(daemon));
    assert!(
        god_daemons_of(&fx).is_empty(),
        "a daemon runs in this PM2_HOME"
    );
}
