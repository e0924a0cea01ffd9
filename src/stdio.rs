//! What the command inherits from cordon's process besides the sandbox
//! (contract §4): fds 0-2 pass through; every other inherited descriptor is
//! closed at exec unless kept with `--keep-fd N`, because a descriptor opened
//! before the sandbox reaches past it (a directory fd of `/etc` lets root
//! `fchmod` under a read-only world). Decided from the launch options,
//! printed by `--dry-run` and `explain`, and applied right before exec on
//! every run, sandboxed or not.

use std::fmt;
use std::os::fd::RawFd;

use serde::Serialize;

use crate::error::{Error, Result};

/// The highest descriptor that always passes through.
pub const STDIO_LAST: RawFd = 2;

/// The launch options that shape the command's process.
#[derive(Debug, Clone, Default)]
pub struct Stdio {
    /// Inherited descriptors above 2 that stay open (`--keep-fd`), sorted.
    pub keep_fds: Vec<RawFd>,
}

impl Stdio {
    /// Checks `--keep-fd` values: each must be above 2 and open now, before
    /// cordon opens anything of its own.
    pub fn new(keep_fds: &[RawFd]) -> Result<Stdio> {
        let mut keep = keep_fds.to_vec();
        keep.sort_unstable();
        keep.dedup();
        for &fd in &keep {
            if fd <= STDIO_LAST {
                return Err(Error::new(format!(
                    "--keep-fd {fd}: descriptors 0-2 always reach the command; --keep-fd names one above 2"
                )));
            }
            if !is_open(fd) {
                return Err(Error::new(format!(
                    "--keep-fd {fd}: descriptor {fd} is not open; open it in the calling shell (e.g. `{fd}<FILE`) or drop the flag"
                )));
            }
        }
        Ok(Stdio { keep_fds: keep })
    }

    /// What `--dry-run` and `explain` print and the JSON `process` field.
    pub fn describe(&self) -> Process {
        Process {
            descriptors: Descriptors {
                closed_above: STDIO_LAST,
                kept: self.keep_fds.clone(),
            },
        }
    }
}

/// `process` in `run --dry-run --json` and `explain --json`.
#[derive(Debug, Clone, Serialize)]
pub struct Process {
    pub descriptors: Descriptors,
}

#[derive(Debug, Clone, Serialize)]
pub struct Descriptors {
    /// Every inherited descriptor above this one is closed at exec...
    pub closed_above: RawFd,
    /// ...but these (`--keep-fd`).
    pub kept: Vec<RawFd>,
}

impl fmt::Display for Process {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kept = if self.descriptors.kept.is_empty() {
            "none".to_string()
        } else {
            let fds: Vec<String> = self
                .descriptors
                .kept
                .iter()
                .map(|n| n.to_string())
                .collect();
            fds.join(", ")
        };
        writeln!(
            f,
            "descriptors: closed above {} at exec (kept: {kept})",
            self.descriptors.closed_above
        )
    }
}

fn is_open(fd: RawFd) -> bool {
    // SAFETY: F_GETFD only reads the descriptor's flags.
    unsafe { libc::fcntl(fd, libc::F_GETFD) != -1 }
}

/// Applies `stdio` to this process; the caller execs next.
pub fn prepare(stdio: &Stdio) -> Result<()> {
    close_at_exec(&stdio.keep_fds).map_err(|e| {
        Error::new(format!(
            "cannot mark inherited descriptors close-on-exec: {e}; nothing ran"
        ))
    })
}

/// The ranges of descriptors above 2 that are not in `keep` (sorted).
fn ranges_around(keep: &[RawFd]) -> Vec<(u32, u32)> {
    let mut out = Vec::new();
    let mut next = (STDIO_LAST + 1) as u32;
    for &k in keep {
        let k = k as u32;
        if k > next {
            out.push((next, k - 1));
        }
        next = k + 1;
    }
    out.push((next, u32::MAX));
    out
}

/// Marks every descriptor above 2 but `keep` close-on-exec. Marking rather
/// than closing keeps cordon's own descriptors (already close-on-exec)
/// usable until the exec.
fn close_at_exec(keep: &[RawFd]) -> std::io::Result<()> {
    #[cfg(target_os = "linux")]
    {
        let flags = libc::CLOSE_RANGE_CLOEXEC as libc::c_int;
        let mut supported = true;
        for (first, last) in ranges_around(keep) {
            // SAFETY: close_range only changes flags of this process's fds.
            if unsafe { libc::close_range(first, last, flags) } != 0 {
                let e = std::io::Error::last_os_error();
                // Linux < 5.11 has no CLOSE_RANGE_CLOEXEC: mark one by one.
                if matches!(e.raw_os_error(), Some(libc::EINVAL | libc::ENOSYS)) {
                    supported = false;
                    break;
                }
                return Err(e);
            }
        }
        if supported {
            return Ok(());
        }
    }
    mark_each(keep)
}

/// The portable way: each open descriptor, listed from the fd directory.
fn mark_each(keep: &[RawFd]) -> std::io::Result<()> {
    let dir = if cfg!(target_os = "linux") {
        "/proc/self/fd"
    } else {
        "/dev/fd"
    };
    let fds: Vec<RawFd> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .collect();
    for fd in fds {
        if fd > STDIO_LAST && !keep.contains(&fd) {
            // SAFETY: sets FD_CLOEXEC; a descriptor that is gone (the one
            // read_dir listed with) fails with EBADF, which is fine.
            unsafe { libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) };
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_skip_exactly_the_kept_descriptors() {
        assert_eq!(ranges_around(&[]), [(3, u32::MAX)]);
        assert_eq!(ranges_around(&[5]), [(3, 4), (6, u32::MAX)]);
        assert_eq!(ranges_around(&[3, 4, 9]), [(5, 8), (10, u32::MAX)]);
    }

    #[test]
    fn keep_fd_refuses_stdio_and_closed_descriptors() {
        for fd in [0, 1, 2] {
            let e = Stdio::new(&[fd]).unwrap_err();
            assert!(e.message.contains("descriptors 0-2 always"), "{e:?}");
        }
        let e = Stdio::new(&[987_654]).unwrap_err();
        assert!(e.message.contains("is not open"), "{e:?}");
    }

    #[test]
    fn described_as_one_line() {
        let s = Stdio {
            keep_fds: vec![5, 7],
        };
        assert_eq!(
            s.describe().to_string(),
            "descriptors: closed above 2 at exec (kept: 5, 7)\n"
        );
        assert_eq!(
            Stdio::default().describe().to_string(),
            "descriptors: closed above 2 at exec (kept: none)\n"
        );
    }
}
