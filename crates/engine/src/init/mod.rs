//! `pm2-incident init`: propose this server's inventory from what can be read
//! without changing anything. `propose` and `render` are pure; `read` and `probe`
//! do the (read-only) I/O here, `remote` over ssh; `gather` runs the same steps on either.
pub mod gather;
pub mod probe;
pub mod propose;
pub mod read;
pub mod remote;
pub mod render;

pub use propose::{propose, Fact, FactSource, Host, Probe, Proposal};
