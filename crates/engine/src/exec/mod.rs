//! Child processes: `sh -c` in its own process group, streamed lines, timeout,
//! cancel of the whole tree, and the guard in front of it all.
pub mod guarded;
pub mod lines;
pub mod runner;

pub use guarded::{check, confirmation_token, run_guarded, spawn_guarded, GuardError};
pub use runner::{
    run, spawn, CancelHandle, End, ExecError, ExecResult, ExecSpec, Line, Running, Stream,
};
