//! Standard output for the CLI. A reader that goes away (`tryvoha regions | head`) ends the
//! command quietly: the write fails with `BrokenPipe` (Rust ignores SIGPIPE), the error travels
//! up like any other, and `main` recognises it and exits without a word. `println!` would panic.

use std::io::Write;

/// Writes one line to standard output, flushed: a pipe's reader sees each line as it comes.
pub fn line(text: std::fmt::Arguments<'_>) -> std::io::Result<()> {
    let mut stdout = std::io::stdout().lock();
    stdout.write_fmt(text)?;
    stdout.write_all(b"\n")?;
    stdout.flush()
}

/// Writes text as it is (no newline added).
pub fn text(text: &str) -> std::io::Result<()> {
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(text.as_bytes())?;
    stdout.flush()
}

/// Whether `error` is, at bottom, standard output's reader having gone away.
pub fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// `say!("…", args)`: a line on standard output; a failed write returns from the function.
#[macro_export]
macro_rules! say {
    ($($arg:tt)*) => {
        $crate::output::line(format_args!($($arg)*))?
    };
}
