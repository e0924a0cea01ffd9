//! The command's own terminals: the ones on fds 0-2 and the controlling
//! terminal. The sandbox grants exactly these (by inode), never the
//! directory of all ptys, so a command cannot open the other terminals the
//! caller can reach (for root: every terminal on the host) to read what is
//! typed there or print a fake prompt.
//!
//! Found at plan time, cheaply: one `fstat` per fd 0-2; only when one is a
//! terminal, its name (`/proc/self/fd/N`, checked against the inode) and
//! whether it is the controlling terminal (`/proc/self/stat`). A controlling
//! terminal on none of fds 0-2 gets no rule of its own: the command reaches
//! it as `/dev/tty` while it keeps it, and not at all once its session drops
//! it (`stdio.rs`), which a rule on its name would undo.

use std::path::PathBuf;

use serde::Serialize;

use super::Handle;

/// A terminal the command may open by path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Terminal {
    /// Its name, checked to reach the same inode; `/proc/self/fd/N` when no
    /// name does (a terminal from another mount namespace).
    pub path: PathBuf,
    /// Which of fds 0-2 it is on.
    pub fds: Vec<i32>,
    /// The caller's controlling terminal (`/dev/tty`).
    pub controlling: bool,
    /// The terminal itself, opened through its descriptor (its name may
    /// be hidden in the sandbox, or another file's).
    #[serde(skip)]
    pub handle: Handle,
}

impl Terminal {
    /// Where the sandbox opens it to grant it: through its descriptor, as
    /// its name may be hidden (by a private `/dev/pts`) or another file's.
    pub fn handle(&self) -> PathBuf {
        match self.fds.first() {
            Some(fd) => PathBuf::from(format!("/proc/self/fd/{fd}")),
            None => self.path.clone(),
        }
    }

    /// `fds 0, 1, 2; controlling`, for the plan's text.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        match self.fds.len() {
            0 => {}
            1 => parts.push(format!("fd {}", self.fds[0])),
            _ => {
                let fds: Vec<String> = self.fds.iter().map(|n| n.to_string()).collect();
                parts.push(format!("fds {}", fds.join(", ")))
            }
        }
        if self.controlling {
            parts.push("controlling".into());
        }
        parts.join("; ")
    }
}

/// The terminals on fds 0-2, the controlling one marked. Empty (three
/// `fstat`s) when none of fds 0-2 is a terminal.
pub fn of_process() -> Vec<Terminal> {
    super::host::terminals()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_terminal_is_granted_through_its_descriptor_when_it_has_one() {
        let t = Terminal {
            path: "/dev/pts/3".into(),
            fds: vec![0, 2],
            controlling: true,
            handle: Handle::default(),
        };
        assert_eq!(t.handle(), PathBuf::from("/proc/self/fd/0"));
        assert_eq!(t.describe(), "fds 0, 2; controlling");
        let t = Terminal {
            fds: vec![1],
            controlling: false,
            ..t
        };
        assert_eq!(t.handle(), PathBuf::from("/proc/self/fd/1"));
        assert_eq!(t.describe(), "fd 1");
    }
}
