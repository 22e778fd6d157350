//! The journal file: append-only JSONL, one event per line, each line chained to the one before
//! by SHA-256. `line` is the pure format; `writer`, `reader`, `lock` and `import` do the I/O.
mod fast;
pub mod import;
pub mod index;
pub mod line;
pub mod lock;
pub mod paths;
pub mod reader;
pub mod report;
pub mod scan;
pub mod session;
/// Generated journals for benchmarks and scale tests; not in the shipped binary.
#[cfg(any(test, feature = "fixtures"))]
pub mod synth;
pub mod writer;

pub use reader::{read, verify, ReadOutcome};
pub use writer::{WriteError, Writer};

/// Errors opening or reading a journal, always naming the file.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Invalid { path: String, message: String },
    /// Refused before reading: not a regular file, too large, a symlink where none is allowed.
    #[error(transparent)]
    Input(#[from] crate::safe_fs::InputError),
}

impl JournalError {
    pub(crate) fn io(path: &std::path::Path, source: std::io::Error) -> Self {
        JournalError::Io {
            path: path.display().to_string(),
            source,
        }
    }
}
