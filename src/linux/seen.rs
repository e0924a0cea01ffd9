//! What the tracer (`trace.rs`, Linux only) reports of a failed call, before
//! `crate::trace` attributes it: here, outside the Linux-only tracer, so the
//! front end compiles on every OS without the backend reaching up to it.

use std::path::PathBuf;

use crate::plan::fix::Want;

/// Distinct denials kept; a command that fails on millions of distinct
/// paths cannot make the tracer grow without bound.
pub const MAX_DISTINCT: usize = 4096;

/// One failed call as the tracer saw it (before attribution).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Seen {
    pub syscall: String,
    /// open-read, open-write, create, mkdir, unlink, rename, exec,
    /// connect, socket, signal, ...
    pub op: String,
    pub want: Want,
    /// The paths it named, absolute as the command saw them.
    pub paths: Vec<PathBuf>,
    /// An address, a socket family, a process id.
    pub target: Option<String>,
    pub errno: i32,
    /// Refused by the sandbox's seccomp filter: the syscall number and
    /// arguments (the filter's rule is found from them).
    pub seccomp: Option<(i64, [u64; 6])>,
}
