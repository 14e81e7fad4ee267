//! Standard output for every command: `outln!`/`out!` instead of `println!`/`print!`.
//!
//! `println!` panics when stdout is a closed pipe (`andon bundle inspect X | head`).
//! A command-line filter should stop quietly instead, as `cat` and `grep` do: on a
//! broken pipe the process exits at once with status 0 (everything the reader wanted
//! was written; nothing acknowledged depends on stdout, receipts are durable before
//! anything is printed). Any other write error exits with the I/O code (4).

use std::io::Write as _;

/// Writes formatted text to stdout (see the module docs).
pub fn write(args: std::fmt::Arguments<'_>) {
    let mut stdout = std::io::stdout().lock();
    if let Err(err) = stdout.write_fmt(args).and_then(|()| stdout.flush()) {
        if err.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("error: cannot write to standard output: {err}");
        std::process::exit(crate::exit::Exit::Io as i32);
    }
}

/// Writes bytes to stdout (see the module docs).
pub fn write_bytes(bytes: &[u8]) {
    let mut stdout = std::io::stdout().lock();
    if let Err(err) = stdout.write_all(bytes).and_then(|()| stdout.flush()) {
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
