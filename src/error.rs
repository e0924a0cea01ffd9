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

impl Error {
    /// A failure of cordon's input or host: exit 125.
    pub fn new(message: impl Into<String>) -> Self {
        Error {
            message: message.into(),
            exit: EXIT_CORDON,
        }
    }

    pub fn with_exit(message: impl Into<String>, exit: i32) -> Self {
        Error {
            message: message.into(),
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

/// Shorthand used by the parsers: `bail!("...")` returns an exit-125 error.
#[macro_export]
macro_rules! bail {
    ($($arg:tt)*) => { return Err($crate::error::Error::new(format!($($arg)*))) };
}
