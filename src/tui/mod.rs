//! The terminal shell around the app: the runtime loop (worlds wired to messages), the
//! terminal itself (the only code that touches the tty) and the quiet writer.
pub mod quiet;
pub mod remote_world;
pub mod runtime;
pub mod terminal;
