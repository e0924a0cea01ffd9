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
#[cfg(target_os = "linux")]
pub fn of_process() -> Vec<Terminal> {
    use nix::sys::stat::{SFlag, fstat, stat};
    let mut out: Vec<(Terminal, libc::dev_t, (libc::dev_t, libc::ino_t))> = Vec::new();
    for fd in 0..=2 {
        // SAFETY: fds 0-2 are only inspected, never closed or taken over.
        let fd_ref = unsafe { std::os::fd::BorrowedFd::borrow_raw(fd) };
        let Ok(st) = fstat(fd_ref) else { continue };
        if SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT != SFlag::S_IFCHR
            || !nix::unistd::isatty(fd_ref).unwrap_or(false)
        {
            continue;
        }
        let id = (st.st_dev, st.st_ino);
        if let Some(t) = out.iter_mut().find(|(_, _, i)| *i == id) {
            t.0.fds.push(fd);
            continue;
        }
        let named = std::fs::read_link(format!("/proc/self/fd/{fd}"))
            .ok()
            .filter(|p| stat(p).is_ok_and(|s| (s.st_dev, s.st_ino) == id));
        let path = named.unwrap_or_else(|| PathBuf::from(format!("/proc/self/fd/{fd}")));
        let handle = super::fs::open(std::path::Path::new(&format!("/proc/self/fd/{fd}")))
            .map(|(_, h)| h)
            .unwrap_or_default();
        let t = Terminal {
            path,
            fds: vec![fd],
            controlling: false,
            handle,
        };
        out.push((t, st.st_rdev, id));
    }
    if out.is_empty() {
        return Vec::new();
    }
    if let Some(ctty) = controlling_device()
        && let Some(t) = out.iter_mut().find(|(_, rdev, _)| *rdev == ctty)
    {
        t.0.controlling = true;
    }
    out.into_iter().map(|(t, _, _)| t).collect()
}

#[cfg(not(target_os = "linux"))]
pub fn of_process() -> Vec<Terminal> {
    Vec::new()
}

/// The controlling terminal's device number (`tty_nr` of /proc/self/stat),
/// as `stat` encodes it.
#[cfg(target_os = "linux")]
fn controlling_device() -> Option<libc::dev_t> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name, which may hold spaces and parentheses.
    let rest = &stat[stat.rfind(')')? + 2..];
    let tty_nr: u32 = rest.split(' ').nth(4)?.parse().ok()?;
    if tty_nr == 0 {
        return None;
    }
    // The kernel's encoding: minor in bits 0-7 and 20-31, major in 8-19.
    let major = (tty_nr >> 8) & 0xfff;
    let minor = (tty_nr & 0xff) | ((tty_nr >> 12) & 0xf_ff00);
    Some(libc::makedev(major, minor))
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
