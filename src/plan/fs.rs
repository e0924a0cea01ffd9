//! The few filesystem look-ups resolution needs, kept cheap because they run
//! once per root on every `cordon run` (on Linux a root costs one path walk,
//! `open(O_PATH)`, then everything else is asked of the open fd: `host`).

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use super::host;

/// A file's identity: device and inode numbers. What planning checked is
/// what the apply step must find; a different object under the same name
/// means the tree changed while the sandbox was set up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FileId {
    pub dev: u64,
    pub ino: u64,
}

/// A planned file held open (`O_PATH`), so that the apply step uses the
/// object planning resolved and checked rather than looking its name up
/// again (a name can be swapped for a symlink in between). Compared by
/// identity; cloning shares the descriptor, and [`Handle::release`] closes
/// it for every clone (10,000 roots must not hold 10,000 descriptors while
/// the namespace takes as many again).
#[derive(Clone, Default)]
pub struct Handle {
    pub id: Option<FileId>,
    pub(super) fd: host::Fd,
}

impl PartialEq for Handle {
    fn eq(&self, other: &Handle) -> bool {
        self.id == other.id
    }
}

impl Eq for Handle {}

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Handle({:?})", self.id)
    }
}

impl Handle {
    /// Calls `f` with the descriptor planning opened; `None` when there is
    /// none (off Linux, a fixed path looked up later, or released).
    pub fn with_fd<R>(&self, f: impl FnOnce(std::os::fd::BorrowedFd<'_>) -> R) -> Option<R> {
        self.fd.with(f)
    }

    /// Closes the descriptor, for this handle and every clone of it.
    pub fn release(&self) {
        self.fd.release()
    }
}

/// Opens `path` (following symlinks, as the kernel will when the command
/// opens it) and returns whether it is a directory and a handle on it.
pub fn open(path: &Path) -> io::Result<(bool, Handle)> {
    host::open(path)
}

/// Opens `path` itself, not following a final symlink: `None` for a
/// symlink (a rule there would land on whatever it points to).
pub fn open_no_follow(path: &Path) -> io::Result<Option<(bool, Handle)>> {
    host::open_no_follow(path)
}

/// What lives at a name inside a resolved directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entry {
    Missing,
    Symlink,
    Dir,
    File,
    /// An empty directory or file that cordon made to hold a missing
    /// protected name for a running sandbox ([`is_placeholder`]): the name
    /// is as good as missing, and will be again when that sandbox ends.
    Placeholder,
}

/// The mode of a placeholder: readable by everyone, so that every run that
/// uses it (of any user: `/tmp` is shared) can open it and hold a lock on
/// it; nothing else (nobody outside can create anything inside).
pub const PLACEHOLDER_MODE: u32 = 0o444;

/// Whether an entry is a placeholder: a directory or an empty file with
/// mode exactly 0444, whoever made it.
// mode_t is u16 on macOS, so the casts are not the same everywhere.
#[allow(clippy::unnecessary_cast)]
pub fn is_placeholder(mode: u32, size: i64) -> bool {
    let kind = mode & libc::S_IFMT as u32;
    (kind == libc::S_IFDIR as u32 || (kind == libc::S_IFREG as u32 && size == 0))
        && mode & 0o7777 == PLACEHOLDER_MODE
}

/// Whether the entry at `path` itself (not followed) is a placeholder.
pub fn is_placeholder_at(path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::symlink_metadata(path).is_ok_and(|m| is_placeholder(m.mode(), m.size() as i64))
}

/// Whether a sandboxed command running as this caller could open the
/// entry `m` describes again after closing it (`chmod 000`): the caller
/// owns it, and it is not a placeholder (read-only for the run).
pub fn callers_own(m: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::MetadataExt;
    // SAFETY: geteuid has no preconditions.
    m.uid() == unsafe { libc::geteuid() } && !is_placeholder(m.mode(), m.size() as i64)
}

/// A path resolved to its canonical form, held open.
pub struct Resolved {
    pub path: PathBuf,
    pub is_dir: bool,
    pub handle: Handle,
}

/// `path` in its canonical form (symlinks resolved), held open.
pub fn resolve(path: &Path) -> io::Result<Resolved> {
    host::resolve(path)
}

impl Resolved {
    /// `lstat` of `name` relative to this directory (no symlink followed),
    /// with the entry's identity when it exists.
    pub fn entry(&self, name: &str) -> (Entry, Option<FileId>) {
        host::entry(self, name)
    }
}

/// `.` and `..` resolved by name, as a path is spelled (a request's cwd, a
/// skill's declared path: the skill directory is canonical, so a `..`
/// there steps out of it as written), with no look-up.
pub fn lexical(path: &Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}
