//! The few filesystem look-ups resolution needs, kept cheap because they run
//! once per root on every `cordon run`: a root costs one path walk (open
//! O_PATH), then everything else is asked of the open fd.

use std::io;
use std::path::{Path, PathBuf};

/// What lives at a name inside a resolved directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entry {
    Missing,
    Symlink,
    Dir,
    File,
}

/// A path resolved to its canonical form.
pub struct Resolved {
    pub path: PathBuf,
    pub is_dir: bool,
    #[cfg(target_os = "linux")]
    fd: std::os::fd::OwnedFd,
}

#[cfg(target_os = "linux")]
pub fn resolve(path: &Path) -> io::Result<Resolved> {
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
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
    // The file type is a field, not a set of bits: S_IFSOCK and S_IFBLK
    // contain S_IFDIR's bit, so it is compared under S_IFMT.
    let is_dir = nix::sys::stat::fstat(&fd)
        .map(|st| st.st_mode & libc::S_IFMT == libc::S_IFDIR)
        .map_err(io::Error::from)?;
    // The kernel's own name for the open file: the canonical path in one
    // readlink, where realpath(3) walks and readlinks every component.
    let canon = std::fs::read_link(format!("/proc/self/fd/{}", fd.as_raw_fd()));
    match canon {
        Ok(canon) if canon.is_absolute() => Ok(Resolved {
            path: canon,
            is_dir,
            fd,
        }),
        // No /proc (minimal containers): the portable way.
        _ => Ok(Resolved {
            path: std::fs::canonicalize(path)?,
            is_dir,
            fd,
        }),
    }
}

#[cfg(not(target_os = "linux"))]
pub fn resolve(path: &Path) -> io::Result<Resolved> {
    let path = std::fs::canonicalize(path)?;
    let is_dir = path.is_dir();
    Ok(Resolved { path, is_dir })
}

impl Resolved {
    /// `lstat` of `name` relative to this directory (no symlink followed).
    #[cfg(target_os = "linux")]
    pub fn entry(&self, name: &str) -> Entry {
        use nix::fcntl::AtFlags;
        use nix::sys::stat::{FileStat, SFlag, fstatat};
        let st: nix::Result<FileStat> = fstatat(&self.fd, name, AtFlags::AT_SYMLINK_NOFOLLOW);
        match st {
            Err(_) => Entry::Missing,
            Ok(st) => match SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT {
                SFlag::S_IFLNK => Entry::Symlink,
                SFlag::S_IFDIR => Entry::Dir,
                _ => Entry::File,
            },
        }
    }

    #[cfg(not(target_os = "linux"))]
    pub fn entry(&self, name: &str) -> Entry {
        match std::fs::symlink_metadata(self.path.join(name)) {
            Err(_) => Entry::Missing,
            Ok(m) if m.file_type().is_symlink() => Entry::Symlink,
            Ok(m) if m.is_dir() => Entry::Dir,
            Ok(_) => Entry::File,
        }
    }
}
