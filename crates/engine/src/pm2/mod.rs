//! Reading PM2 without touching it.
//!
//! Everything here observes a PM2 daemon; nothing can change it. The `pm2` CLI starts a fresh
//! daemon when none runs (hiding a crashed one), so the default source is the daemon's own
//! `$PM2_HOME/rpc.sock`, spoken natively (see `shared/reference/pm2-wire-protocol.md`).
//!
//! Public API (stable; usable from sync code directly and from async code via
//! `tokio::task::spawn_blocking` — every call is blocking with a bounded timeout):
//!
//! | item | what it does |
//! |---|---|
//! | [`Pm2Home::from_env()`] / [`Pm2Home::new`] | `$PM2_HOME` or `~/.pm2`; refuses socket paths over 107 bytes |
//! | [`probe_daemon(&home)`](probe_daemon) `-> DaemonState` | up (version) / not running / died uncleanly (dead pid) / permission denied / timeout, without ever spawning |
//! | [`RpcClient::connect(path, RpcOptions)`](RpcClient::connect)`?.call(ReadCall::GetMonitorData)` | read-only RPC; [`ReadCall`] is the closed set `Ping`, `GetVersion`, `GetMonitorData`, always sent with `"args":[{}]` |
//! | [`RpcClient::monitor_data`] / [`RpcClient::call_many`] | typed listing; pipelined calls matched by id |
//! | [`parse_process_list(&[u8])`](parse_process_list) `-> Result<Vec<Process>, ParseError>` | allow-list parse of a `getMonitorData` / `pm2 jlist` array |
//! | [`Process`], [`ProcessStatus`], [`ExecMode`] | the model; `Serialize + Deserialize`, no environment |
//! | [`EventSubscriber::spawn(&home, opts)`](EventSubscriber::spawn) | `pub.sock` reader thread → [`BusMsg`] channel: [`Pm2Event`] (process events, logs, `pm2:kill`), `Disconnected` on end of stream; reconnects with backoff |
//! | [`CliSource::jlist`] + [`CLI_WARNING`] | `pm2 jlist` fallback (path, timeout); may START a daemon |
//! | [`amp`] / [`encode_request`] | AMP framing with a max-frame guard (for tests and tools) |
//! | [`SourceArgs`] + [`observe`] / [`observe_async`] `-> Reading` (THE observation type: [`Reading::kind`], [`Reading::detail`]) | one read from `--pm2-source rpc` (default) or `cli`; liveness is always probed natively first; `processes: None` = unknown |
//! | [`cmd::run`] | the `pm2-incident pm2 [--json] [--watch]` subcommand |
//!
//! Secrets: raw replies are never returned, printed or stored; errors never quote input.
pub mod amp;
pub mod cli_fallback;
pub mod dump;
pub mod events;
pub mod home;
pub mod liveness;
pub mod model;
pub mod orphans;
pub mod rpc;
pub mod skim;
pub mod source;

pub use cli_fallback::{parse_jlist_output, CliError, CliSource, CLI_WARNING};
pub use dump::{read_saved_list, SavedList, SavedProcess, SavedRead};
pub use events::{
    BusMsg, EventSubscriber, LogLine, LogStream, Pm2Event, ProcessEvent, ProcessEventKind,
    SubscriberOptions,
};
pub use home::{HomeError, Pm2Home, MAX_SOCKET_PATH};
pub use liveness::{
    pid_alive, probe_daemon, probe_daemon_with, read_pid_file, DaemonKind, DaemonState,
};
pub use model::{
    parse_process_list, ExecMode, Metric, MetricValue, ParseError, Process, ProcessStatus,
};
pub use rpc::{decode_reply, encode_request, ReadCall, Reply, RpcClient, RpcError, RpcOptions};
pub use source::{observe, observe_async, Reading, SourceArgs, SourceKind};
