//! Off Linux: the portable look-ups, with no descriptor held (the apply
//! step there, Seatbelt, takes paths) and no one-call "no symlink on the
//! way" check (planning walks the components instead).

use std::ffi::{OsStr, OsString};
use std::io;
use std::os::fd::BorrowedFd;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use super::Fast;
use crate::plan::fs::{Entry, FileId, Handle, Resolved};
use crate::plan::git::{Kind, MAX_SCAN_DEPTH, ScanStats};
use crate::plan::stdio_files::StdioFile;
use crate::plan::terminals::Terminal;

/// No descriptor is held here.
#[derive(Clone, Default)]
pub struct Fd;

impl Fd {
    pub fn with<R>(&self, _f: impl FnOnce(BorrowedFd<'_>) -> R) -> Option<R> {
        None
    }

    pub fn release(&self) {}
}

/// `path` followed to what it names; no handle.
pub fn open(path: &Path) -> io::Result<(bool, Handle)> {
    let m = std::fs::metadata(path)?;
    Ok((m.is_dir(), Handle::default()))
}

/// `path` itself, not through a final symlink: `None` for a symlink.
pub fn open_no_follow(path: &Path) -> io::Result<Option<(bool, Handle)>> {
    let m = std::fs::symlink_metadata(path)?;
    if m.file_type().is_symlink() {
        return Ok(None);
    }
    Ok(Some((m.is_dir(), Handle::default())))
}

/// `realpath(3)`; no handle.
pub fn resolve(path: &Path) -> io::Result<Resolved> {
    let path = std::fs::canonicalize(path)?;
    let is_dir = path.is_dir();
    Ok(Resolved {
        path,
        is_dir,
        handle: Handle::default(),
    })
}

/// `lstat` of `name` in `dir` (placeholders are a Linux apply step's).
pub fn entry(dir: &Resolved, name: &str) -> (Entry, Option<FileId>) {
    match std::fs::symlink_metadata(dir.path.join(name)) {
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

/// No one-call check here: planning walks (as for the two below).
pub fn probe(_path: &Path) -> Fast<bool> {
    Fast::Walk
}

pub fn open_read(_path: &Path) -> Fast<std::fs::File> {
    Fast::Walk
}

pub fn list(_dir: &Path, _buf: &mut Vec<u8>) -> Fast<Vec<(OsString, Kind)>> {
    Fast::Walk
}

/// No descriptors here: entries are looked up by their whole path.
pub fn hold_dir(_path: &Path) -> Option<Fd> {
    None
}

pub fn hold_dir_at(_dir: &Fd, _name: &OsStr) -> Fast<Fd> {
    Fast::Walk
}

pub fn names(_dir: &Fd, _buf: &mut Vec<u8>) -> Option<(Vec<u8>, bool)> {
    None
}

pub fn lstat_at(_dir: &Fd, _name: &OsStr) -> Option<io::Result<(bool, bool)>> {
    None
}

pub fn probe_at(_dir: &Fd, _name: &OsStr) -> Fast<bool> {
    Fast::Walk
}

pub fn open_read_at(_dir: &Fd, _name: &OsStr) -> Fast<std::fs::File> {
    Fast::Walk
}

pub fn list_at(_dir: &Fd, _name: &OsStr, _buf: &mut Vec<u8>) -> Fast<Vec<(OsString, Kind)>> {
    Fast::Walk
}

/// Every directory holding a `.git` below `root` (the root's own is
/// tier 1's).
pub fn scan_tree(root: &Path, stats: &mut ScanStats, found: &mut Vec<PathBuf>) {
    fn walk(dir: &Path, depth: usize, stats: &mut ScanStats, found: &mut Vec<PathBuf>) {
        stats.dirs += 1;
        let Ok(rd) = std::fs::read_dir(dir) else {
            stats.skipped += 1;
            return;
        };
        for e in rd.flatten() {
            stats.entries += 1;
            let name = e.file_name();
            let Ok(t) = e.file_type() else { continue };
            if name == ".git" {
                if depth > 0 {
                    found.push(dir.to_path_buf());
                }
            } else if t.is_dir() {
                if depth + 1 >= MAX_SCAN_DEPTH {
                    stats.skipped += 1;
                } else {
                    walk(&dir.join(&name), depth + 1, stats, found);
                }
            }
        }
    }
    walk(root, 0, stats, found);
}

/// Not looked for off Linux.
pub fn stdio_files() -> Vec<StdioFile> {
    Vec::new()
}

/// Not looked for off Linux.
pub fn terminals() -> Vec<Terminal> {
    Vec::new()
}

/// No `openat2` here: the namespace that asks for it is Linux's own.
pub fn openat2_no_symlinks(
    _path: &std::ffi::CStr,
    _flags: i32,
) -> std::io::Result<std::os::fd::OwnedFd> {
    Err(std::io::ErrorKind::Unsupported.into())
}
