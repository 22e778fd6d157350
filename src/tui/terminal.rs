//! The only code that touches the tty: raw mode, the alternate screen, restoring
//! them on every way out (normal exit, panic, SIGTERM, SIGHUP), and signal capture.
use std::io::{self, Stdout};
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};

use ratatui::backend::CrosstermBackend;
use ratatui::crossterm::{cursor, execute, terminal};
use ratatui::Terminal;

static ACTIVE: AtomicBool = AtomicBool::new(false);
static SIGNAL: AtomicI32 = AtomicI32::new(0);
/// Ctrl-Z / SIGTSTP arrived: the loop leaves the screen, stops, and restores it on SIGCONT.
static STOP: AtomicBool = AtomicBool::new(false);
/// The main loop runs under `catch_unwind`: a panic on its thread unwinds to it.
static CATCHING: AtomicBool = AtomicBool::new(false);
/// A panic's message, for the `interrupted` event the loop records.
static PANIC: std::sync::Mutex<Option<String>> = std::sync::Mutex::new(None);
/// How long a command's process group gets between SIGTERM and SIGKILL when the tool ends.
pub const CHILD_GRACE: std::time::Duration = std::time::Duration::from_secs(2);

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

/// A panic is recorded for the loop, which journals `interrupted`, ends the commands, removes
/// the lock and restores the terminal on its normal way out: on the loop's own thread the panic
/// unwinds to its `catch_unwind`; on a worker thread that thread ends and the loop notices.
/// Outside the loop (set-up, tear-down) the hook ends the commands, restores and exits.
fn install_panic_hook() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let message = match (
            info.payload().downcast_ref::<&str>(),
            info.payload().downcast_ref::<String>(),
        ) {
            (Some(s), _) => s.to_string(),
            (_, Some(s)) => s.clone(),
            _ => "panic".to_string(),
        };
        let at = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        let first = {
            let mut p = PANIC.lock().unwrap_or_else(|e| e.into_inner());
            let first = p.is_none();
            if first {
                *p = Some(format!("{message}{at}"));
            }
            first
        };
        if CATCHING.load(Ordering::SeqCst) && first {
            return;
        }
        crate::exec::runner::end_all_groups(CHILD_GRACE);
        restore();
        previous(info);
        eprintln!("pm2-incident crashed; the journal is valid up to the last recorded event (resume with --resume FILE)");
        std::process::exit(101);
    }));
}

/// While true, panics are left to the loop (see [`install_panic_hook`]).
pub fn set_catching(on: bool) {
    CATCHING.store(on, Ordering::SeqCst);
}

/// The first panic's message since the loop started, if any.
pub fn take_panic() -> Option<String> {
    PANIC.lock().unwrap_or_else(|e| e.into_inner()).take()
}

/// True once after SIGTSTP.
pub fn take_stop() -> bool {
    STOP.swap(false, Ordering::SeqCst)
}

/// Ctrl-Z: leave the alternate screen and raw mode, stop; when continued (fg / SIGCONT) put
/// them back. The caller then redraws everything (the shell wrote over the screen meanwhile).
pub fn suspend_until_continued() -> io::Result<()> {
    restore();
    // SAFETY: raise(3) on our own process; SIGSTOP cannot be caught, so this returns only
    // after SIGCONT.
    unsafe {
        libc::raise(libc::SIGSTOP);
    }
    terminal::enable_raw_mode()?;
    ACTIVE.store(true, Ordering::SeqCst);
    execute!(io::stdout(), terminal::EnterAlternateScreen, cursor::Hide)
}

extern "C" fn on_stop(_: libc::c_int) {
    STOP.store(true, Ordering::SeqCst);
}

extern "C" fn on_signal(sig: libc::c_int) {
    // Only an atomic store: async-signal-safe.
    SIGNAL.store(sig, Ordering::SeqCst);
}

/// Catch SIGTERM, SIGHUP (dropped SSH), SIGINT and SIGQUIT (handled like SIGTERM: the default
/// would dump core with the terminal raw) so the loop can record the interruption, end children
/// and restore the terminal; SIGTSTP so Ctrl-Z leaves a usable shell.
pub fn catch_signals() {
    for sig in [libc::SIGTERM, libc::SIGHUP, libc::SIGINT, libc::SIGQUIT] {
        // SAFETY: installing a handler that only stores to an atomic.
        unsafe {
            libc::signal(sig, on_signal as *const () as libc::sighandler_t);
        }
    }
    // SAFETY: as above.
    unsafe {
        libc::signal(libc::SIGTSTP, on_stop as *const () as libc::sighandler_t);
    }
}

/// The signal received since the last call, if any.
pub fn take_signal() -> Option<i32> {
    match SIGNAL.swap(0, Ordering::SeqCst) {
        0 => None,
        s => Some(s),
    }
}
