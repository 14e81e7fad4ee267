//! Standard output for every command: `outln!`/`out!` instead of `println!`/`print!`.
//!
//! `println!` panics when stdout is a closed pipe (`andon bundle inspect X | head`).
//! A command-line filter should stop quietly instead, as `cat` and `grep` do: on a
//! broken pipe the process exits at once with status 0 (everything the reader wanted
//! was written; nothing acknowledged depends on stdout, receipts are durable before
//! anything is printed). Any other write error exits with the I/O code (4).

use std::io::Write as _;
use std::sync::atomic::{AtomicBool, Ordering};

static QUIET: AtomicBool = AtomicBool::new(false);

/// `--quiet`: notes (warnings, progress) are not printed; errors always are.
pub fn set_quiet(quiet: bool) {
    QUIET.store(quiet, Ordering::Relaxed);
}

/// Whether notes are printed.
pub fn notes_on() -> bool {
    !QUIET.load(Ordering::Relaxed)
}

/// Writes formatted text to stdout (see the module docs).
pub fn write(args: std::fmt::Arguments<'_>) {
    finish(std::io::stdout().lock().write_fmt(args));
}

/// Writes bytes to stdout (see the module docs).
pub fn write_bytes(bytes: &[u8]) {
    finish(std::io::stdout().lock().write_all(bytes));
}

/// Flushes, then ends the process quietly on a broken pipe and with the I/O code
/// on any other error.
fn finish(written: std::io::Result<()>) {
    if let Err(err) = written.and_then(|()| std::io::stdout().lock().flush()) {
        if err.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("error: cannot write to standard output: {err}");
        std::process::exit(crate::exit::Exit::Io as i32);
    }
}

/// `println!` that stops quietly on a broken pipe.
macro_rules! outln {
    () => { $crate::output::write(format_args!("\n")) };
    ($($arg:tt)*) => { $crate::output::write(format_args!("{}\n", format_args!($($arg)*))) };
}

/// `print!` that stops quietly on a broken pipe.
macro_rules! out {
    ($($arg:tt)*) => { $crate::output::write(format_args!($($arg)*)) };
}

/// A note on stderr for a person (a warning, progress): silenced by `--quiet`.
macro_rules! note {
    ($($arg:tt)*) => {
        if $crate::output::notes_on() {
            eprintln!($($arg)*);
        }
    };
}
