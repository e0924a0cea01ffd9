//! cordon inside a sandbox (issue 18, item 6): `cordon run -- cordon run
//! ...`, or cordon under another tool's sandbox. The enclosing sandbox's
//! seccomp filter refuses the user and mount namespaces, so the inner run
//! cannot have a namespace of its own. It can still stack: Landlock
//! domains and seccomp filters only ever narrow, so the inner command gets
//! the enclosing sandbox plus the inner Landlock rules and filter. What the
//! inner policy wanted from its namespace is then checked, gap by gap,
//! against the kernel state it runs in (`covered`): a protected path the
//! enclosing sandbox already holds on a read-only mount, a `/dev` that is
//! already a private tmpfs with no more devices than the inner list, no
//! writable mount outside the inner writable roots. IPC is closed by the
//! inner filter instead (SysV IPC and POSIX message queue calls denied).
//! Whatever stays open is refused, or with `--best-effort` warned about,
//! like any other gap.
//!
//! Detection is kernel state only, never environment variables a command
//! can set: `no_new_privs` and a seccomp filter on this process (one
//! `prctl` on every run, a second only under `no_new_privs`: about a
//! microsecond each) and then, only when both are set, the namespace tried
//! in a throw-away child and, when it is refused, a read-only `/` in the
//! mount table (a filter alone, as a container runtime's, is no sandbox to
//! stack on: that run fails as on any host without the namespace). A command that
//! fakes neither can only make cordon refuse; every coverage check reads
//! the mount table and the files themselves, so no claim widens anything.

use std::path::{Path, PathBuf};

use super::Artifacts;
use super::mounts::{Need, Protection};
use crate::enforcement::{Gap, Kind};
use crate::plan::Plan;

/// This process runs under `no_new_privs` and a seccomp filter: set by an
/// enclosing sandbox (cordon sets both only right before exec). Two
/// `prctl`s.
pub fn under_a_sandbox() -> bool {
    // SAFETY: plain prctl queries with no pointers.
    let nnp = unsafe { libc::prctl(libc::PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) } == 1;
    nnp && unsafe { libc::prctl(libc::PR_GET_SECCOMP, 0, 0, 0, 0) } == 2
}

/// `/` is mounted read-only here: the enclosing sandbox built a read-only
/// world (cordon's, or bwrap's `--ro-bind / /`) that an inner run can
/// stack on. Under a filter alone (a container runtime's) it is not, and
/// the run fails as on any host without the namespace.
pub fn read_only_root() -> bool {
    mounts()
        .iter()
        .rev()
        .find(|m| m.at == Path::new("/"))
        .is_some_and(|m| m.read_only)
}

/// One line of `/proc/self/mountinfo`: where, and whether it is writable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mount {
    pub at: PathBuf,
    pub fstype: String,
    pub read_only: bool,
}

/// The mount table this process sees.
pub fn mounts() -> Vec<Mount> {
    std::fs::read_to_string("/proc/self/mountinfo")
        .map(|t| parse_mountinfo(&t))
        .unwrap_or_default()
}

/// `ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE ...`,
/// the mount point with `\040`-style escapes.
pub fn parse_mountinfo(text: &str) -> Vec<Mount> {
    text.lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split(' ').collect();
            let sep = f.iter().position(|x| *x == "-")?;
            Some(Mount {
                at: PathBuf::from(unescape(f.get(4)?)),
                read_only: f.get(5)?.split(',').any(|o| o == "ro"),
                fstype: f.get(sep + 1)?.to_string(),
            })
        })
        .collect()
}

fn unescape(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let octal = b.get(i + 1..i + 4).and_then(|d| {
            std::str::from_utf8(d)
                .ok()
                .and_then(|d| u8::from_str_radix(d, 8).ok())
        });
        match (b[i], octal) {
            (b'\\', Some(c)) => {
                out.push(c);
                i += 4;
            }
            (c, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Whether `path` (or, when it is missing, its nearest existing parent)
/// lies on a read-only mount: a write there gets `EROFS` whatever Landlock
/// says.
fn read_only_at(path: &Path) -> bool {
    use nix::sys::statvfs::{FsFlags, statvfs};
    let existing = path.ancestors().find(|a| a.symlink_metadata().is_ok());
    existing
        .and_then(|p| statvfs(p).ok())
        .is_some_and(|s| s.flags().contains(FsFlags::ST_RDONLY))
}

/// Whether the enclosing sandbox already gives `need`, as the kernel state
/// shows it (`table`: the mount table).
pub fn covered(plan: &Plan, table: &[Mount], need: Need<'_>) -> bool {
    match need {
        // Every writable mount lies in an inner writable root, or in /dev
        // (the enclosing sandbox's own: checked as `Devices`).
        Need::ReadOnlyWorld => table.iter().filter(|m| !m.read_only).all(|m| {
            m.at.starts_with("/dev") || plan.writable.iter().any(|w| m.at.starts_with(&w.root.path))
        }),
        // /dev is a read-only tmpfs (not the host's) whose device mounts
        // are all in the inner list (pts and shm: its private instances).
        Need::Devices(d) => {
            let dev = Path::new("/dev");
            let private = table
                .iter()
                .rev()
                .find(|m| m.at == dev)
                .is_some_and(|m| m.fstype == "tmpfs" && m.read_only);
            private
                && table
                    .iter()
                    .filter(|m| m.at.starts_with(dev) && m.at != dev)
                    .all(|m| {
                        m.at == dev.join("pts")
                            || m.at == dev.join("shm")
                            || d.nodes.iter().any(|n| n.at == m.at)
                    })
        }
        // The inner filter denies the IPC calls (`seccomp::ipc_rules`).
        Need::Ipc => true,
        Need::Protected(p) => protected_covered(p),
        // A mount point already (the enclosing sandbox's git mode), or in
        // a read-only directory: either way it cannot be renamed.
        Need::Anchor(a) => table.iter().any(|m| m.at == a) || a.parent().is_some_and(read_only_at),
        // Masked by the enclosing sandbox (`/dev/null` over it) or absent:
        // no socket to connect to.
        Need::DaemonSocket(d) => {
            use std::os::unix::fs::FileTypeExt;
            !d.path
                .symlink_metadata()
                .is_ok_and(|m| m.file_type().is_socket())
        }
    }
}

fn protected_covered(p: &Protection) -> bool {
    use super::mounts::Mechanism;
    if p.link_pinned {
        // The symlink cannot be replaced when its directory is read-only.
        return p.path.parent().is_some_and(read_only_at);
    }
    match &p.mechanism {
        Mechanism::BindRo => read_only_at(&p.target),
        // Held by the enclosing sandbox's placeholder, or it cannot be
        // made because the directory is read-only.
        Mechanism::Placeholder(at) => read_only_at(at),
        _ => true,
    }
}

/// The gaps that stay open when this run stacks on the enclosing sandbox
/// instead of entering a namespace of its own.
pub fn uncovered(plan: &Plan, art: &Artifacts) -> Vec<Gap> {
    let table = mounts();
    let mut gaps = art
        .mounts
        .gaps_without_namespace_unless(|need| covered(plan, &table, need));
    if art.leftovers == super::Leftovers::Scan {
        gaps.push(Gap {
            feature: Kind::Leftovers,
            detail: "processes the command leaves behind are not killed (they are found by the sandbox's mount namespace)".into(),
        });
    }
    gaps
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mountinfo_lines_give_the_mount_point_its_type_and_read_only() {
        let t = "22 1 0:21 / / ro,relatime shared:1 - ext4 /dev/sda1 rw\n\
                 30 22 0:5 / /dev ro,nosuid - tmpfs tmpfs ro,size=64k\n\
                 31 22 0:40 /w /my\\040repo rw,nosuid - ext4 /dev/sda1 rw\n";
        let m = parse_mountinfo(t);
        assert_eq!(m.len(), 3);
        assert_eq!(
            m[0],
            Mount {
                at: "/".into(),
                fstype: "ext4".into(),
                read_only: true
            }
        );
        assert_eq!(m[1].fstype, "tmpfs");
        assert_eq!(m[2].at, PathBuf::from("/my repo"));
        assert!(!m[2].read_only);
    }
}
