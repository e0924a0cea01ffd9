//! The few filesystem look-ups resolution needs, kept cheap because they run
//! once per root on every `cordon run`: a root costs one path walk (open
//! O_PATH), then everything else is asked of the open fd.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
#[cfg(target_os = "linux")]
use std::sync::Arc;

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
    #[cfg(target_os = "linux")]
    fd: Option<Arc<std::sync::Mutex<Option<std::os::fd::OwnedFd>>>>,
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
    #[cfg(target_os = "linux")]
    pub fn with_fd<R>(&self, f: impl FnOnce(std::os::fd::BorrowedFd<'_>) -> R) -> Option<R> {
        use std::os::fd::AsFd;
        let cell = self.fd.as_ref()?;
        let guard = cell.lock().unwrap_or_else(|e| e.into_inner());
        guard.as_ref().map(|fd| f(fd.as_fd()))
    }

    /// Closes the descriptor, for this handle and every clone of it.
    pub fn release(&self) {
        #[cfg(target_os = "linux")]
        if let Some(cell) = &self.fd {
            cell.lock().unwrap_or_else(|e| e.into_inner()).take();
        }
    }
}

/// Opens `path` (following symlinks, as the kernel will when the command
/// opens it) and returns whether it is a directory and a handle on it.
#[cfg(target_os = "linux")]
pub fn open(path: &Path) -> io::Result<(bool, Handle)> {
    let (fd, st) = open_path(path)?;
    Ok((is_dir(&st), handle(fd, &st)))
}

/// Opens `path` itself, not following a final symlink: `None` for a
/// symlink (a rule there would land on whatever it points to).
#[cfg(target_os = "linux")]
pub fn open_no_follow(path: &Path) -> io::Result<Option<(bool, Handle)>> {
    use std::os::fd::{FromRawFd, OwnedFd};
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(path.as_os_str().as_bytes())
        .map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    // SAFETY: c is a valid C string; the returned fd is owned below.
    let raw = unsafe {
        libc::open(
            c.as_ptr(),
            libc::O_PATH | libc::O_NOFOLLOW | libc::O_CLOEXEC,
        )
    };
    if raw < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: raw is a fresh fd nobody else owns.
    let fd = unsafe { OwnedFd::from_raw_fd(raw) };
    let st = nix::sys::stat::fstat(&fd).map_err(io::Error::from)?;
    if st.st_mode & libc::S_IFMT == libc::S_IFLNK {
        return Ok(None);
    }
    Ok(Some((is_dir(&st), handle(fd, &st))))
}

#[cfg(not(target_os = "linux"))]
pub fn open(path: &Path) -> io::Result<(bool, Handle)> {
    let m = std::fs::metadata(path)?;
    Ok((m.is_dir(), Handle::default()))
}

#[cfg(target_os = "linux")]
fn open_path(path: &Path) -> io::Result<(std::os::fd::OwnedFd, nix::sys::stat::FileStat)> {
    use std::os::fd::{FromRawFd, OwnedFd};
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(path.as_os_str().as_bytes())
        .map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    // SAFETY: c is a valid C string; the returned fd is owned below.
    let raw = unsafe { libc::open(c.as_ptr(), libc::O_PATH | libc::O_CLOEXEC) };
    if raw < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: raw is a fresh fd nobody else owns.
    let fd = unsafe { OwnedFd::from_raw_fd(raw) };
    let st = nix::sys::stat::fstat(&fd).map_err(io::Error::from)?;
    Ok((fd, st))
}

/// The file type is a field, not a set of bits: S_IFSOCK and S_IFBLK
/// contain S_IFDIR's bit, so it is compared under S_IFMT.
#[cfg(target_os = "linux")]
fn is_dir(st: &nix::sys::stat::FileStat) -> bool {
    st.st_mode & libc::S_IFMT == libc::S_IFDIR
}

#[cfg(target_os = "linux")]
fn handle(fd: std::os::fd::OwnedFd, st: &nix::sys::stat::FileStat) -> Handle {
    Handle {
        id: Some(FileId {
            dev: st.st_dev,
            ino: st.st_ino,
        }),
        fd: Some(Arc::new(std::sync::Mutex::new(Some(fd)))),
    }
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

#[cfg(target_os = "linux")]
pub fn resolve(path: &Path) -> io::Result<Resolved> {
    use std::os::fd::AsRawFd;
    if let Some(r) = resolve_plain(path) {
        return Ok(r);
    }
    let (fd, st) = open_path(path)?;
    // The kernel's own name for the open file: the canonical path in one
    // readlink, where realpath(3) walks and readlinks every component.
    let canon = std::fs::read_link(format!("/proc/self/fd/{}", fd.as_raw_fd()));
    let path = match canon {
        Ok(canon) if canon.is_absolute() => canon,
        // No /proc (minimal containers): the portable way.
        _ => std::fs::canonicalize(path)?,
    };
    Ok(Resolved {
        path,
        is_dir: is_dir(&st),
        handle: handle(fd, &st),
    })
}

/// The common case without the `readlink`: an absolute path with no `..`
/// that opens with no symlink on the way (`openat2(RESOLVE_NO_SYMLINKS)`)
/// is canonical once `.`, `//` and a trailing `/` are dropped, which the
/// open proved harmless. `None`: the full resolution decides (and reports).
#[cfg(target_os = "linux")]
fn resolve_plain(path: &Path) -> Option<Resolved> {
    use std::path::Component;
    if !path.is_absolute() || path.components().any(|c| c == Component::ParentDir) {
        return None;
    }
    let super::git::Fast::Open(fd) = super::git::open_no_symlinks(None, path, libc::O_PATH) else {
        return None;
    };
    let st = nix::sys::stat::fstat(&fd).ok()?;
    Some(Resolved {
        path: path.components().collect(),
        is_dir: is_dir(&st),
        handle: handle(fd, &st),
    })
}

#[cfg(not(target_os = "linux"))]
pub fn resolve(path: &Path) -> io::Result<Resolved> {
    let path = std::fs::canonicalize(path)?;
    let is_dir = path.is_dir();
    Ok(Resolved {
        path,
        is_dir,
        handle: Handle::default(),
    })
}

impl Resolved {
    /// `lstat` of `name` relative to this directory (no symlink followed),
    /// with the entry's identity when it exists.
    #[cfg(target_os = "linux")]
    pub fn entry(&self, name: &str) -> (Entry, Option<FileId>) {
        use nix::fcntl::AtFlags;
        use nix::sys::stat::{SFlag, fstatat};
        let st = self
            .handle
            .with_fd(|fd| fstatat(fd, name, AtFlags::AT_SYMLINK_NOFOLLOW));
        let Some(st) = st else {
            return (Entry::Missing, None);
        };
        match st {
            Err(_) => (Entry::Missing, None),
            Ok(st) => {
                let kind = match SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT {
                    _ if is_placeholder(st.st_mode, st.st_size) => Entry::Placeholder,
                    SFlag::S_IFLNK => Entry::Symlink,
                    SFlag::S_IFDIR => Entry::Dir,
                    _ => Entry::File,
                };
                let id = FileId {
                    dev: st.st_dev,
                    ino: st.st_ino,
                };
                (kind, Some(id))
            }
        }
    }

    #[cfg(not(target_os = "linux"))]
    pub fn entry(&self, name: &str) -> (Entry, Option<FileId>) {
        use std::os::unix::fs::MetadataExt;
        match std::fs::symlink_metadata(self.path.join(name)) {
            Err(_) => (Entry::Missing, None),
            Ok(m) => {
                let id = Some(FileId {
                    dev: m.dev(),
                    ino: m.ino(),
                });
                let kind = if m.file_type().is_symlink() {
                    Entry::Symlink
                } else if m.is_dir() {
                    Entry::Dir
                } else {
                    Entry::File
                };
                (kind, id)
            }
        }
    }
}
