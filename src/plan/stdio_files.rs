//! Regular files on fds 0-2 (issue 18, item 2): a caller that redirects
//! the command's output into a file outside the writable roots has handed
//! it that file already, through the descriptor. Reopening it by name
//! (`echo hi > /dev/stdout`, `tee /dev/stderr`, `/proc/self/fd/1`) is
//! the same file, so the sandbox grants exactly it: a Landlock rule on the
//! inode the descriptor holds, with the rights of the descriptor's access
//! mode (read for one opened for reading, write and truncate for one
//! opened for writing; truncate because the descriptor can already
//! `ftruncate`). Nothing else in its directory, and no other name.
//!
//! No race: the rule is added on an `O_PATH` descriptor opened through
//! `/proc/self/fd/N`, which the kernel resolves to the open file itself,
//! never by re-walking a name, and its inode is checked against `fstat`
//! of fd N. A file in a protected or read-only place (stdout redirected
//! into `.git/config`) is the caller's choice and is granted like any
//! other: the rule is on that inode only.
//!
//! Found at plan time: one `fstat` per fd 0-2 (shared by no one else on
//! the hot path), and only for a regular file one `fcntl`, one `readlink`
//! and one `open`.

use std::path::PathBuf;

use serde::Serialize;

use super::Handle;

/// A regular file on fds 0-2 that the command may reopen by name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StdioFile {
    /// Its name as `/proc/self/fd/N` reads, for the plan's text.
    pub path: PathBuf,
    /// Which of fds 0-2 hold it.
    pub fds: Vec<i32>,
    /// Some descriptor holds it open for reading.
    pub read: bool,
    /// Some descriptor holds it open for writing.
    pub write: bool,
    /// The file itself, opened through its descriptor.
    #[serde(skip)]
    pub handle: Handle,
}

impl StdioFile {
    /// `fd 1, write`, for the plan's text.
    pub fn describe(&self) -> String {
        let fds: Vec<String> = self.fds.iter().map(|n| n.to_string()).collect();
        let mode = match (self.read, self.write) {
            (true, true) => "read, write",
            (true, false) => "read",
            _ => "write",
        };
        let s = if fds.len() == 1 { "" } else { "s" };
        format!("fd{s} {}; {mode}", fds.join(", "))
    }
}

/// What of `files` the plan does not grant already: reading under a read
/// scope of everything, writing inside a writable root. The rest is
/// dropped, so a plan does not change with where the caller's stdin comes
/// from when nothing is gained (a replayed `rerun --request - < req.json`).
pub fn needed(files: &[StdioFile], reads_all: bool, roots: &[&std::path::Path]) -> Vec<StdioFile> {
    files
        .iter()
        .map(|f| StdioFile {
            read: f.read && !reads_all,
            write: f.write && !roots.iter().any(|r| f.path.starts_with(r)),
            ..f.clone()
        })
        .filter(|f| f.read || f.write)
        .collect()
}

/// The regular files on fds 0-2; empty (three `fstat`s) when there is none.
pub fn of_process() -> Vec<StdioFile> {
    super::host::stdio_files()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_text_names_the_descriptors_and_their_mode() {
        let f = StdioFile {
            path: "/var/log/out".into(),
            fds: vec![1, 2],
            read: false,
            write: true,
            handle: Handle::default(),
        };
        assert_eq!(f.describe(), "fds 1, 2; write");
        let f = StdioFile {
            fds: vec![0],
            read: true,
            write: false,
            ..f
        };
        assert_eq!(f.describe(), "fd 0; read");
    }
}
