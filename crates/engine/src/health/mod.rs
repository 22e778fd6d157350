//! Health checks of the inventory's endpoints: `interpret` (pure: response → verdict),
//! `fetch` (one capped GET), `classify` (client error → verdict), `checker` (the round).
pub mod checker;
pub mod classify;
pub mod fetch;
pub mod format;
pub mod interpret;
pub mod verdict;

pub use checker::{CheckOptions, CheckerError, HealthChecker};
pub use fetch::{fetch, Fetched, DEFAULT_BODY_CAP};
pub use format::{interpret_as, HealthFormat};
pub use interpret::{interpret, interpret_target, is_ping_url};
pub use verdict::{slow_label, HealthResult, Verdict};
