//! Linux: planning asks the kernel through descriptors. A root costs one
//! path walk (`open(O_PATH)`) and everything else is asked of the open fd;
//! `openat2(RESOLVE_NO_SYMLINKS)` answers "exists, and no symlink on the
//! way" in one call; `getdents64` lists directories; `/proc/self/fd` names
//! open files.

use std::ffi::{CStr, CString, OsStr, OsString};
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use super::Fast;
use crate::plan::fs::{Entry, FileId, Handle, Resolved, is_placeholder};
use crate::plan::git::{Kind, MAX_SCAN_DEPTH, ScanStats};
use crate::plan::stdio_files::StdioFile;
use crate::plan::terminals::Terminal;

/// A descriptor planning opened, shared by a handle's clones (closed for
/// all of them at once by [`Fd::release`]); none for a fixed path looked
/// up later.
#[derive(Clone, Default)]
pub struct Fd(Option<Arc<Mutex<Option<OwnedFd>>>>);

impl Fd {
    /// Calls `f` with the descriptor; `None` when there is none or it was
    /// released.
    pub fn with<R>(&self, f: impl FnOnce(BorrowedFd<'_>) -> R) -> Option<R> {
        let cell = self.0.as_ref()?;
        let guard = cell.lock().unwrap_or_else(|e| e.into_inner());
        guard.as_ref().map(|fd| f(fd.as_fd()))
    }

    /// Closes the descriptor, for every clone.
    pub fn release(&self) {
        if let Some(cell) = &self.0 {
            cell.lock().unwrap_or_else(|e| e.into_inner()).take();
        }
    }
}

/// Opens `path` (following symlinks, as the kernel will when the command
/// opens it) and returns whether it is a directory and a handle on it.
pub fn open(path: &Path) -> io::Result<(bool, Handle)> {
    let (fd, st) = open_path(path)?;
    Ok((is_dir(&st), handle(fd, &st)))
}

/// Opens `path` itself, not following a final symlink: `None` for a
/// symlink (a rule there would land on whatever it points to).
pub fn open_no_follow(path: &Path) -> io::Result<Option<(bool, Handle)>> {
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

fn open_path(path: &Path) -> io::Result<(OwnedFd, nix::sys::stat::FileStat)> {
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
fn is_dir(st: &nix::sys::stat::FileStat) -> bool {
    st.st_mode & libc::S_IFMT == libc::S_IFDIR
}

fn handle(fd: OwnedFd, st: &nix::sys::stat::FileStat) -> Handle {
    Handle {
        id: Some(FileId {
            dev: st.st_dev,
            ino: st.st_ino,
        }),
        fd: Fd(Some(Arc::new(Mutex::new(Some(fd))))),
    }
}

pub fn resolve(path: &Path) -> io::Result<Resolved> {
    match resolve_plain(path) {
        Plain::Resolved(r) => return Ok(r),
        Plain::Missing => return Err(io::Error::from_raw_os_error(libc::ENOENT)),
        Plain::Slow => {}
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

/// What the fast look-up of [`resolve_plain`] settled.
enum Plain {
    Resolved(Resolved),
    /// `ENOENT` with no symlink before the missing component (one would
    /// have answered `ELOOP` first) and no `..`: following symlinks, the
    /// walk stops at the same component. Spares the second open for each
    /// of `:secrets`' 32 stores a home does not have.
    Missing,
    /// A symlink on the way, or anything else: the full resolution decides
    /// (and reports).
    Slow,
}

/// The common case without the `readlink`: an absolute path with no `..`
/// that opens with no symlink on the way (`openat2(RESOLVE_NO_SYMLINKS)`)
/// is canonical once `.`, `//` and a trailing `/` are dropped, which the
/// open proved harmless.
fn resolve_plain(path: &Path) -> Plain {
    if !path.is_absolute()
        || path
            .components()
            .any(|c| c == std::path::Component::ParentDir)
    {
        return Plain::Slow;
    }
    let fd = match open_no_symlinks(path, libc::O_PATH) {
        Fast::Open(fd) => fd,
        // (A NUL in the path also reads as missing there: the slow way
        // reports it as the invalid input it is.)
        Fast::Missing if !path.as_os_str().as_bytes().contains(&0) => return Plain::Missing,
        _ => return Plain::Slow,
    };
    let Ok(st) = nix::sys::stat::fstat(&fd) else {
        return Plain::Slow;
    };
    Plain::Resolved(Resolved {
        path: path.components().collect(),
        is_dir: is_dir(&st),
        handle: handle(fd, &st),
    })
}

/// `fstatat` of `name` in the directory `dir` holds open (no symlink followed),
/// with the entry's identity when it exists.
pub fn entry(dir: &Resolved, name: &str) -> (Entry, Option<FileId>) {
    use nix::fcntl::AtFlags;
    use nix::sys::stat::{SFlag, fstatat};
    let st = dir
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

/// Where `path` leads when no symlink is on the way: whether it is a
/// directory (one `openat2(O_PATH)` and one `fstat`).
pub fn probe(path: &Path) -> Fast<bool> {
    open_no_symlinks(path, libc::O_PATH).map(|fd| mode(&fd) == Some(libc::S_IFDIR))
}

/// `path` opened for reading when no symlink is on the way (non-blocking:
/// a FIFO planted where a config is expected must not block the plan).
pub fn open_read(path: &Path) -> Fast<std::fs::File> {
    let flags = libc::O_RDONLY | libc::O_NONBLOCK | libc::O_NOCTTY;
    open_no_symlinks(path, flags).map(std::fs::File::from)
}

/// The entries of `dir` (unsorted; reading into `buf`) when no symlink is
/// on the way to it.
pub fn list(dir: &Path, buf: &mut Vec<u8>) -> Fast<Vec<(OsString, Kind)>> {
    open_no_symlinks(dir, libc::O_RDONLY | libc::O_DIRECTORY).map(|fd| listing(&fd, buf))
}

fn listing(fd: &OwnedFd, buf: &mut Vec<u8>) -> Vec<(OsString, Kind)> {
    let mut out = Vec::new();
    let _ = entries(fd, buf, |n, kind| {
        out.push((os_name(n).to_os_string(), kind))
    });
    out
}

impl<T> Fast<T> {
    fn map<U>(self, f: impl FnOnce(T) -> U) -> Fast<U> {
        match self {
            Fast::Open(t) => Fast::Open(f(t)),
            Fast::Missing => Fast::Missing,
            Fast::Slow => Fast::Slow,
            Fast::Walk => Fast::Walk,
        }
    }
}

/// Cleared once `openat2` answers ENOSYS (kernel before 5.6) or EPERM
/// (a seccomp filter that does not know it): then every look-up walks.
static OPENAT2: AtomicBool = AtomicBool::new(true);

/// `openat2(path, flags | O_CLOEXEC, RESOLVE_NO_SYMLINKS)` from the working
/// directory: the one wrapper of the call, for planning and for the
/// namespace's look-ups again after `unshare`. (libc has no function for
/// it, nix none that takes `RESOLVE_*`.)
pub fn openat2_no_symlinks(path: &CStr, flags: i32) -> io::Result<OwnedFd> {
    openat2(libc::AT_FDCWD, path, flags, libc::RESOLVE_NO_SYMLINKS)
}

fn openat2(dir: RawFd, path: &CStr, flags: i32, resolve: u64) -> io::Result<OwnedFd> {
    // SAFETY: open_how is plain integers (and non_exhaustive, so it
    // cannot be built field by field); all zero is its default.
    let mut how: libc::open_how = unsafe { std::mem::zeroed() };
    how.flags = (flags | libc::O_CLOEXEC) as u64;
    how.resolve = resolve;
    // SAFETY: path is a valid C string and how a valid open_how of the
    // size passed; the returned descriptor is owned below.
    let fd = unsafe {
        libc::syscall(
            libc::SYS_openat2,
            dir,
            path.as_ptr(),
            &how as *const libc::open_how,
            std::mem::size_of::<libc::open_how>(),
        )
    };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: a fresh descriptor nobody else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as RawFd) })
}

/// [`openat2_no_symlinks`], classified for planning.
fn open_no_symlinks(path: &Path, flags: i32) -> Fast<OwnedFd> {
    if !OPENAT2.load(Ordering::Relaxed) {
        return Fast::Slow;
    }
    let Ok(c) = CString::new(path.as_os_str().as_bytes()) else {
        return Fast::Missing;
    };
    classify(openat2_no_symlinks(&c, flags))
}

fn classify(r: io::Result<OwnedFd>) -> Fast<OwnedFd> {
    let e = match r {
        Ok(fd) => return Fast::Open(fd),
        Err(e) => e,
    };
    match e.raw_os_error() {
        Some(libc::ENOENT) => Fast::Missing,
        Some(libc::ENOSYS | libc::EPERM | libc::E2BIG) => {
            OPENAT2.store(false, Ordering::Relaxed);
            Fast::Slow
        }
        _ => Fast::Slow,
    }
}

/// [`open_no_symlinks`] of `<dir>/<name>` for a `dir` held open that was
/// resolved with no symlink on the way: `name` is one component (no `/`,
/// no `..`), so with `RESOLVE_NO_SYMLINKS` this is the last step of the
/// absolute look-up, without walking every directory above again.
fn open_beneath(dir: &Fd, name: &OsStr, flags: i32) -> Fast<OwnedFd> {
    if !OPENAT2.load(Ordering::Relaxed) {
        return Fast::Slow;
    }
    let Ok(c) = CString::new(name.as_bytes()) else {
        return Fast::Missing;
    };
    let resolve = libc::RESOLVE_NO_SYMLINKS | libc::RESOLVE_BENEATH;
    match dir.with(|fd| openat2(fd.as_raw_fd(), &c, flags, resolve)) {
        Some(r) => classify(r),
        None => Fast::Slow,
    }
}

impl Fd {
    fn owned(fd: OwnedFd) -> Fd {
        Fd(Some(Arc::new(Mutex::new(Some(fd)))))
    }
}

/// A directory opened (`O_PATH`) when no symlink is on the way to it, to
/// look its entries up relative to it ([`probe_at`] and the others).
pub fn hold_dir(path: &Path) -> Option<Fd> {
    match open_no_symlinks(path, libc::O_RDONLY | libc::O_DIRECTORY) {
        Fast::Open(fd) => Some(Fd::owned(fd)),
        _ => None,
    }
}

/// [`hold_dir`] of `<dir>/<name>`: `Slow` when it is no directory, a
/// symlink, or cannot be opened (the caller then asks the slow way).
pub fn hold_dir_at(dir: &Fd, name: &OsStr) -> Fast<Fd> {
    // Readable, for `names`; one that is not (mode 0) is looked up by path.
    open_beneath(dir, name, libc::O_RDONLY | libc::O_DIRECTORY).map(Fd::owned)
}

/// Most entries [`names`] reads: past them, the directory is asked name
/// by name (a directory a command filled must not make every plan read it).
const MAX_NAMES: usize = 256;

/// The names in the directory `dir` (opened readable, not read yet), each
/// followed by a NUL, and whether any may be a symlink, when it has at
/// most [`MAX_NAMES`] of them; `None` otherwise, or when it cannot be read.
pub fn names(dir: &Fd, buf: &mut Vec<u8>) -> Option<(Vec<u8>, bool)> {
    dir.with(|fd| {
        let mut out = Vec::new();
        let mut n = 0;
        let mut links = false;
        let r = getdents(fd.as_raw_fd(), buf, |name, d_type| {
            n += 1;
            out.extend_from_slice(name.to_bytes_with_nul());
            links |= matches!(d_type, libc::DT_LNK | libc::DT_UNKNOWN);
            n <= MAX_NAMES
        });
        (r.is_ok() && n <= MAX_NAMES).then_some((out, links))
    })
    .flatten()
}

/// `lstat` of `<dir>/<name>` (see [`open_beneath`]): (symlink, directory),
/// `None` when the descriptor was released.
pub fn lstat_at(dir: &Fd, name: &OsStr) -> Option<io::Result<(bool, bool)>> {
    use nix::fcntl::AtFlags;
    let st = dir.with(|fd| nix::sys::stat::fstatat(fd, name, AtFlags::AT_SYMLINK_NOFOLLOW))?;
    Some(st.map_err(io::Error::from).map(|st| {
        let kind = st.st_mode & libc::S_IFMT;
        (kind == libc::S_IFLNK, kind == libc::S_IFDIR)
    }))
}

/// [`probe`] of `<dir>/<name>`: one `fstatat` with no symlink followed,
/// which answers what `openat2(RESOLVE_NO_SYMLINKS)` and `fstat` answer
/// for a single component (a symlink there: the slow walk decides).
pub fn probe_at(dir: &Fd, name: &OsStr) -> Fast<bool> {
    if name.as_bytes().contains(&0) {
        // As the absolute look-up answers it.
        return Fast::Missing;
    }
    match lstat_at(dir, name) {
        Some(Ok((false, is_dir))) => Fast::Open(is_dir),
        Some(Err(e)) if e.raw_os_error() == Some(libc::ENOENT) => Fast::Missing,
        _ => Fast::Slow,
    }
}

/// [`open_read`] of `<dir>/<name>` (see [`open_beneath`]).
pub fn open_read_at(dir: &Fd, name: &OsStr) -> Fast<std::fs::File> {
    let flags = libc::O_RDONLY | libc::O_NONBLOCK | libc::O_NOCTTY;
    open_beneath(dir, name, flags).map(std::fs::File::from)
}

/// [`list`] of `<dir>/<name>` (see [`open_beneath`]).
pub fn list_at(dir: &Fd, name: &OsStr, buf: &mut Vec<u8>) -> Fast<Vec<(OsString, Kind)>> {
    open_beneath(dir, name, libc::O_RDONLY | libc::O_DIRECTORY).map(|fd| listing(&fd, buf))
}

fn mode(fd: &OwnedFd) -> Option<u32> {
    nix::sys::stat::fstat(fd)
        .ok()
        .map(|st| st.st_mode & libc::S_IFMT)
}

fn kind_at(dir: RawFd, name: &CStr) -> Kind {
    // SAFETY: st is written by fstatat before it is read.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: name is a valid C string, st a valid buffer.
    let r = unsafe { libc::fstatat(dir, name.as_ptr(), &mut st, libc::AT_SYMLINK_NOFOLLOW) };
    if r != 0 {
        return Kind::Other;
    }
    match st.st_mode & libc::S_IFMT {
        libc::S_IFDIR => Kind::Dir,
        libc::S_IFREG => Kind::File,
        libc::S_IFLNK => Kind::Link,
        _ => Kind::Other,
    }
}

/// Calls `f(name, kind)` for every entry of the open directory `fd`
/// (without `.` and `..`), reading with `getdents64` into `buf`.
fn entries(fd: &OwnedFd, buf: &mut Vec<u8>, mut f: impl FnMut(&CStr, Kind)) -> io::Result<()> {
    let raw = fd.as_raw_fd();
    getdents(raw, buf, |name, d_type| {
        let kind = match d_type {
            libc::DT_DIR => Kind::Dir,
            libc::DT_REG => Kind::File,
            libc::DT_LNK => Kind::Link,
            libc::DT_UNKNOWN => kind_at(raw, name),
            _ => Kind::Other,
        };
        f(name, kind);
        true
    })
}

/// Calls `f(name, d_type)` for the entries of the open directory `fd`
/// (without `.` and `..`) until it returns `false`.
fn getdents(fd: RawFd, buf: &mut Vec<u8>, mut f: impl FnMut(&CStr, u8) -> bool) -> io::Result<()> {
    if buf.len() < 16 * 1024 {
        buf.resize(16 * 1024, 0);
    }
    loop {
        // SAFETY: buf is valid for buf.len() bytes.
        let n = unsafe { libc::syscall(libc::SYS_getdents64, fd, buf.as_mut_ptr(), buf.len()) };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        if n == 0 {
            return Ok(());
        }
        let n = n as usize;
        let mut off = 0;
        // struct linux_dirent64 { u64 d_ino; i64 d_off; u16 d_reclen;
        // u8 d_type; char d_name[]; }: name at offset 19.
        while off + 19 <= n {
            let reclen = u16::from_ne_bytes([buf[off + 16], buf[off + 17]]) as usize;
            if reclen < 20 || off + reclen > n {
                break;
            }
            let d_type = buf[off + 18];
            let Ok(name) = CStr::from_bytes_until_nul(&buf[off + 19..off + reclen]) else {
                off += reclen;
                continue;
            };
            let bytes = name.to_bytes();
            if bytes != b"." && bytes != b".." && !f(name, d_type) {
                return Ok(());
            }
            off += reclen;
        }
    }
}

/// Opens `name` in `dir` as a directory to list, never through a symlink.
fn open_child(dir: &OwnedFd, name: &CStr) -> Option<OwnedFd> {
    // SAFETY: name is a valid C string; the descriptor is owned below.
    let fd = unsafe {
        libc::openat(
            dir.as_raw_fd(),
            name.as_ptr(),
            libc::O_RDONLY | libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC,
        )
    };
    // SAFETY: a fresh descriptor nobody else owns.
    (fd >= 0).then(|| unsafe { OwnedFd::from_raw_fd(fd) })
}

fn open_dir(path: &Path) -> Option<OwnedFd> {
    let c = CString::new(path.as_os_str().as_bytes()).ok()?;
    // SAFETY: c is a valid C string; the descriptor is owned below.
    let fd = unsafe {
        libc::open(
            c.as_ptr(),
            libc::O_RDONLY | libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC,
        )
    };
    // SAFETY: a fresh descriptor nobody else owns.
    (fd >= 0).then(|| unsafe { OwnedFd::from_raw_fd(fd) })
}

fn os_name(c: &CStr) -> &OsStr {
    OsStr::from_bytes(c.to_bytes())
}

/// Every directory holding a `.git` below `root` (the root's own is
/// tier 1's), walked on directory descriptors with `getdents64`.
pub fn scan_tree(root: &Path, stats: &mut ScanStats, found: &mut Vec<PathBuf>) {
    fn walk(
        fd: OwnedFd,
        path: &mut PathBuf,
        depth: usize,
        buf: &mut Vec<u8>,
        stats: &mut ScanStats,
        found: &mut Vec<PathBuf>,
    ) {
        stats.dirs += 1;
        let mut subdirs: Vec<CString> = Vec::new();
        let res = entries(&fd, buf, |name, kind| {
            stats.entries += 1;
            if name.to_bytes() == b".git" {
                // The root's own `.git` is tier 1's; below, a nested
                // repository. Never descended into.
                if depth > 0 {
                    found.push(path.clone());
                }
            } else if kind == Kind::Dir {
                subdirs.push(name.to_owned());
            }
        });
        if res.is_err() {
            stats.skipped += 1;
        }
        for name in subdirs {
            if depth + 1 >= MAX_SCAN_DEPTH {
                stats.skipped += 1;
                continue;
            }
            let Some(child) = open_child(&fd, &name) else {
                stats.skipped += 1;
                continue;
            };
            path.push(os_name(&name));
            walk(child, path, depth + 1, buf, stats, found);
            path.pop();
        }
    }

    let Some(fd) = open_dir(root) else {
        stats.skipped += 1;
        return;
    };
    let mut buf = Vec::new();
    let mut path = root.to_path_buf();
    walk(fd, &mut path, 0, &mut buf, stats, found);
}

/// The regular files on fds 0-2; empty (three `fstat`s) when there is none.
pub fn stdio_files() -> Vec<StdioFile> {
    use nix::fcntl::{FcntlArg, OFlag, fcntl};
    use nix::sys::stat::{SFlag, fstat};
    let mut out: Vec<(StdioFile, (libc::dev_t, libc::ino_t))> = Vec::new();
    for fd in 0..=2 {
        // SAFETY: fds 0-2 are only inspected, never closed or taken over.
        let fd_ref = unsafe { std::os::fd::BorrowedFd::borrow_raw(fd) };
        let Ok(st) = fstat(fd_ref) else { continue };
        if SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT != SFlag::S_IFREG {
            continue;
        }
        let Ok(flags) = fcntl(fd_ref, FcntlArg::F_GETFL) else {
            continue;
        };
        let mode = OFlag::from_bits_truncate(flags) & OFlag::O_ACCMODE;
        let (read, write) = (mode != OFlag::O_WRONLY, mode != OFlag::O_RDONLY);
        let id = (st.st_dev, st.st_ino);
        if let Some((f, _)) = out.iter_mut().find(|(_, i)| *i == id) {
            f.fds.push(fd);
            f.read |= read;
            f.write |= write;
            continue;
        }
        let by_fd = format!("/proc/self/fd/{fd}");
        // The descriptor's own file (the magic link), checked to be it.
        let Ok((false, handle)) = open(std::path::Path::new(&by_fd)) else {
            continue;
        };
        if handle.id.map(|h| (h.dev, h.ino)) != Some(id) {
            continue;
        }
        let path = std::fs::read_link(&by_fd).unwrap_or_else(|_| PathBuf::from(&by_fd));
        let f = StdioFile {
            path,
            fds: vec![fd],
            read,
            write,
            handle,
        };
        out.push((f, id));
    }
    out.into_iter().map(|(f, _)| f).collect()
}

/// The terminals on fds 0-2, the controlling one marked. Empty (three
/// `fstat`s) when none of fds 0-2 is a terminal.
pub fn terminals() -> Vec<Terminal> {
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
        let handle = open(std::path::Path::new(&format!("/proc/self/fd/{fd}")))
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

/// The controlling terminal's device number (`tty_nr` of /proc/self/stat),
/// as `stat` encodes it.
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
