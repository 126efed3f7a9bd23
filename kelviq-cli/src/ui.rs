//! What the CLI prints, and whether in colour.
//!
//! Colour is plain ANSI, written only to a terminal, and never when `NO_COLOR` is set to
//! anything non-empty (<https://no-color.org>), when `TERM=dumb`, or with `--no-color`.
//! Confirmations, hints ("status") and progress go to standard error, and only when it is a
//! terminal and `--quiet` was not given: piped, the CLI says nothing but results and errors.
//!
//! Progress is one line per step of a long run, written as the step starts (so that the
//! last line names what is under way): `[3/9] + create plan "pro"` while operations are
//! applied, `reading plans (12)` and `[4/12] reading plan "pro"` while an environment is
//! read. The counter is dimmed when standard error takes colour.

use std::io::{IsTerminal, Write};

/// A colour the CLI uses.
#[derive(Debug, Clone, Copy)]
pub enum Colour {
    /// Success, a key that is set.
    Green,
    /// Attention, a key that is missing.
    Yellow,
    /// Errors.
    Red,
    /// Less important text.
    Dim,
    /// Emphasis.
    Bold,
}

impl Colour {
    fn code(self) -> &'static str {
        match self {
            Colour::Green => "32",
            Colour::Yellow => "33",
            Colour::Red => "31",
            Colour::Dim => "2",
            Colour::Bold => "1",
        }
    }
}

/// The terminal facts that decide colour and chatter, read once at start.
#[derive(Debug, Clone)]
pub struct Ui {
    colour_out: bool,
    colour_err: bool,
    status: bool,
    stdin_terminal: bool,
}

impl Ui {
    /// Reads the process's terminals and environment.
    pub fn detect(no_colour_flag: bool, quiet: bool) -> Self {
        let env_forbids = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty())
            || std::env::var_os("TERM").is_some_and(|t| t == "dumb");
        let allowed = !no_colour_flag && !env_forbids;
        let stderr_terminal = std::io::stderr().is_terminal();
        Self {
            colour_out: allowed && std::io::stdout().is_terminal(),
            colour_err: allowed && stderr_terminal,
            status: stderr_terminal && !quiet,
            stdin_terminal: std::io::stdin().is_terminal(),
        }
    }

    /// Whether standard input is a terminal (a person may be typing).
    pub fn stdin_is_terminal(&self) -> bool {
        self.stdin_terminal
    }

    /// `text` in `colour` when standard output takes colour.
    pub fn paint_out(&self, text: &str, colour: Colour) -> String {
        paint(self.colour_out, text, colour)
    }

    /// `text` in `colour` when standard error takes colour.
    pub fn paint_err(&self, text: &str, colour: Colour) -> String {
        paint(self.colour_err, text, colour)
    }

    /// A line of output (a result), always printed.
    pub fn out(&self, line: &str) {
        let mut stdout = std::io::stdout().lock();
        // A closed pipe (`kelviq env | head -1`) is not an error worth a panic.
        let _ = writeln!(stdout, "{line}");
    }

    /// A confirmation or hint, on standard error, only on a terminal and without `--quiet`.
    pub fn status(&self, line: &str) {
        if self.status {
            eprintln!("{line}");
        }
    }

    /// A progress line for step `step` (from 1) of `total`, as the step starts: on standard
    /// error, only when status lines are shown.
    pub fn progress(&self, step: usize, total: usize, line: &str) {
        if self.status {
            eprintln!("{}", progress_line(self.colour_err, step, total, line));
        }
    }

    /// A warning, on standard error, always.
    pub fn warn(&self, message: &str) {
        let label = self.paint_err("warning:", Colour::Yellow);
        for line in message.lines() {
            eprintln!("{label} {line}");
        }
    }

    /// An error, on standard error, always; each line labelled.
    pub fn error(&self, message: &str) {
        let label = self.paint_err("error:", Colour::Red);
        for line in message.lines() {
            eprintln!("{label} {line}");
        }
    }

    /// A line on standard error, always (context under an error).
    pub fn note(&self, line: &str) {
        eprintln!("{line}");
    }
}

fn paint(enabled: bool, text: &str, colour: Colour) -> String {
    if enabled {
        format!("\x1b[{}m{text}\x1b[0m", colour.code())
    } else {
        text.to_owned()
    }
}

/// `[step/total] line`, the counter dimmed when `colour`.
fn progress_line(colour: bool, step: usize, total: usize, line: &str) -> String {
    let counter = format!("[{step}/{total}]");
    format!("{} {line}", paint(colour, &counter, Colour::Dim))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_progress_line_counts_and_dims_only_its_counter() {
        assert_eq!(progress_line(false, 3, 9, "+ create"), "[3/9] + create");
        assert_eq!(
            progress_line(true, 3, 9, "+ create"),
            "\x1b[2m[3/9]\x1b[0m + create"
        );
    }

    #[test]
    fn colour_is_plain_ansi_and_only_when_enabled() {
        assert_eq!(paint(false, "set", Colour::Green), "set");
        assert_eq!(paint(true, "set", Colour::Green), "\x1b[32mset\x1b[0m");
    }
}
