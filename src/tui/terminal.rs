//! The only code that touches the tty: raw mode, the alternate screen, restoring
//! them on every way out (normal exit, panic, SIGTERM, SIGHUP), and signal capture.
use std::io::{self, Stdout};
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};

use ratatui::backend::CrosstermBackend;
use ratatui::crossterm::{cursor, execute, terminal};
use ratatui::Terminal;

static ACTIVE: AtomicBool = AtomicBool::new(false);
static SIGNAL: AtomicI32 = AtomicI32::new(0);

pub type Tty = Terminal<CrosstermBackend<crate::tui::quiet::QuietWriter<Stdout>>>;

/// Raw mode + alternate screen; restored by [`restore`] (also on panic).
pub fn enter() -> io::Result<Tty> {
    install_panic_hook();
    terminal::enable_raw_mode()?;
    ACTIVE.store(true, Ordering::SeqCst);
    execute!(io::stdout(), terminal::EnterAlternateScreen, cursor::Hide)?;
    Terminal::new(CrosstermBackend::new(crate::tui::quiet::QuietWriter::new(
        io::stdout(),
    )))
}

/// Put the terminal back. Safe to call twice, and when the tty is gone (SIGHUP).
pub fn restore() {
    if ACTIVE.swap(false, Ordering::SeqCst) {
        let _ = execute!(io::stdout(), terminal::LeaveAlternateScreen, cursor::Show);
        let _ = terminal::disable_raw_mode();
    }
}

/// A panic anywhere restores the terminal, prints the panic, and exits: a
/// half-alive UI over a raw terminal is worse than a crash.
fn install_panic_hook() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        restore();
        previous(info);
        eprintln!("pm2-incident crashed; the journal is valid up to the last recorded event (resume with --resume FILE)");
        std::process::exit(101);
    }));
}

extern "C" fn on_signal(sig: libc::c_int) {
    // Only an atomic store: async-signal-safe.
    SIGNAL.store(sig, Ordering::SeqCst);
}

/// Catch SIGTERM, SIGHUP (dropped SSH) and SIGINT so the loop can record the
/// interruption, end children and restore the terminal.
pub fn catch_signals() {
    for sig in [libc::SIGTERM, libc::SIGHUP, libc::SIGINT] {
        // SAFETY: installing a handler that only stores to an atomic.
        unsafe {
            libc::signal(sig, on_signal as *const () as libc::sighandler_t);
        }
    }
}

/// The signal received since the last call, if any.
pub fn take_signal() -> Option<i32> {
    match SIGNAL.swap(0, Ordering::SeqCst) {
        0 => None,
        s => Some(s),
    }
}
