//! `pm2-incident init`: propose this server's inventory from what can be read
//! without changing anything. `propose` and `render` are pure; `read` and `probe`
//! do the (read-only) I/O.
pub mod probe;
pub mod propose;
pub mod read;
pub mod render;

pub use propose::{propose, Fact, FactSource, Host, Probe, Proposal};
