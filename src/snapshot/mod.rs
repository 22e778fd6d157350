//! `pm2-incident snapshot`: one headless look at the server — PM2's state, the
//! health round, and what `assess` makes of them — as text or JSON, with an exit
//! code by severity so cron or a monitoring check can use it.
pub mod gather;
pub mod render;

pub use gather::{gather, Pm2Reading, Snapshot};
pub mod cli;
