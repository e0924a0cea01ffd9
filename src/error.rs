//! The one error type: every failure of cordon itself is one `cordon: ` line
//! and an exit status (125 unless the contract names another).

use std::fmt;

/// Exit status for "cordon itself failed" (contract §5).
pub const EXIT_CORDON: i32 = 125;
/// Command found but not executable.
pub const EXIT_NOT_EXECUTABLE: i32 = 126;
/// Command not found.
pub const EXIT_NOT_FOUND: i32 = 127;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    pub message: String,
    pub exit: i32,
}

/// The message as one line: control characters (a newline in a path, in a
/// JSON key echoed back by serde, ...) are written as escapes such as `\n`.
/// Done here, where every error is built, so no message can break the
/// one-`cordon: `-line rule whatever user text it quotes.
fn one_line(message: String) -> String {
    if !message.chars().any(char::is_control) {
        return message;
    }
    let mut out = String::with_capacity(message.len() + 8);
    for c in message.chars() {
        if c.is_control() {
            out.extend(c.escape_debug());
        } else {
            out.push(c);
        }
    }
    out
}

impl Error {
    /// A failure of cordon's input or host: exit 125. The message is
    /// anything that displays as one: a string, or a module's typed error
    /// (`policy::PolicyError`, ...) at the boundary where it reaches the user.
    pub fn new(message: impl fmt::Display) -> Self {
        Error {
            message: one_line(message.to_string()),
            exit: EXIT_CORDON,
        }
    }

    pub fn with_exit(message: impl fmt::Display, exit: i32) -> Self {
        Error {
            message: one_line(message.to_string()),
            exit,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

pub type Result<T> = std::result::Result<T, Error>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_one_line_with_control_characters_escaped() {
        let e = Error::new("unknown field `a\nb\r\t\0\u{1b}`, é");
        assert_eq!(e.message, "unknown field `a\\nb\\r\\t\\0\\u{1b}`, é");
        assert_eq!(Error::with_exit("x\ny", 127).message, "x\\ny");
        assert_eq!(Error::new("plain `x`").message, "plain `x`");
    }
}
