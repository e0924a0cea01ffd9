//! The sentinel: a small process cordon leaves outside the sandbox, because
//! cordon itself becomes the command. When the command exits it kills
//! every process left in the sandbox (unless told to keep them), and once
//! the sandbox is empty it removes the placeholders made for missing
//! protected names. It is forked before the namespace is entered (so it
//! stays on the host's mounts, where it can remove them), twice (so it is
//! no child of the command, which could otherwise reap it), and it leaves
//! for a session of its own and closes the caller's descriptors (so it
//! neither dies with the job, nor gets a terminal's signal, nor holds a
//! pipe open after the command).
//!
//! Placeholders: an empty directory or file, mode 0444, made with `O_EXCL`
//! in the planned parent, then bound read-only in the namespace (a
//! mountpoint cannot be removed or renamed, and nothing can be created in
//! it). Concurrent runs in one directory, of any user, share one: each
//! holds a shared `flock` on it while its sandbox lives, and only the last
//! one out (an exclusive lock succeeds) removes it, if it is still empty.
//! (In a sticky directory such as `/tmp` only its maker may remove it; one
//! left behind is taken over and removed by that user's next run.)
//!
//! How it learns when things end: a pidfd of cordon's own process (the
//! command after exec) becomes readable when the command exits; the seccomp
//! filter's listener descriptor reports POLLHUP when the last process that
//! holds the filter (every process of the sandbox) is gone. Sandbox members
//! are found by their mount namespace, which they cannot leave.

use std::collections::HashMap;
use std::ffi::CString;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use super::helper::Middle;
use super::mounts::Placeholder;
use crate::plan::FileId;

use crate::plan::fs::{PLACEHOLDER_MODE, is_placeholder as looks_like_placeholder};

/// One placeholder held by this run.
pub struct Held {
    path: PathBuf,
    name: CString,
    /// Open for reading: carries the shared lock.
    fd: OwnedFd,
    id: FileId,
    dir: bool,
    /// A run that joined another user's placeholder in a sticky directory,
    /// where it may not remove it, holds a shared lock on the directory
    /// too: the maker's sentinel waits for such runs only.
    stranger: Option<OwnedFd>,
}

fn err_at(p: &Path, what: &str) -> impl FnOnce(io::Error) -> io::Error {
    let msg = format!("{what} {}", p.display());
    move |e| io::Error::new(e.kind(), format!("{msg}: {e}"))
}

fn cvt(rc: libc::c_long) -> io::Result<libc::c_long> {
    if rc < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(rc)
    }
}

/// `openat2(dir, name, flags, RESOLVE_NO_SYMLINKS)`.
fn open_nofollow(dir: RawFd, name: &std::ffi::CStr, flags: i32, mode: u32) -> io::Result<OwnedFd> {
    // SAFETY: open_how is plain data; zero is a valid start.
    let mut how: libc::open_how = unsafe { std::mem::zeroed() };
    how.flags = (flags | libc::O_NOFOLLOW | libc::O_CLOEXEC) as u64;
    how.mode = u64::from(mode);
    how.resolve = libc::RESOLVE_NO_SYMLINKS;
    // SAFETY: valid C string and open_how of the size passed.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_openat2,
            dir,
            name.as_ptr(),
            &how,
            std::mem::size_of::<libc::open_how>(),
        )
    };
    // SAFETY: a fresh descriptor.
    cvt(rc).map(|fd| unsafe { OwnedFd::from_raw_fd(fd as RawFd) })
}

fn fstat(fd: RawFd) -> io::Result<libc::stat> {
    // SAFETY: stat is plain data, filled by fstat.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: valid buffer.
    cvt(unsafe { libc::fstat(fd, &mut st) }.into())?;
    Ok(st)
}

fn fstatat(dir: RawFd, name: &std::ffi::CStr) -> io::Result<libc::stat> {
    // SAFETY: as fstat.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: valid C string and buffer.
    let rc = unsafe { libc::fstatat(dir, name.as_ptr(), &mut st, libc::AT_SYMLINK_NOFOLLOW) };
    cvt(rc.into())?;
    Ok(st)
}

fn flock(fd: RawFd, op: i32) -> io::Result<()> {
    // SAFETY: plain syscall on our descriptor.
    cvt(unsafe { libc::flock(fd, op) }.into()).map(drop)
}

fn id_of(st: &libc::stat) -> FileId {
    FileId {
        dev: st.st_dev,
        ino: st.st_ino,
    }
}

/// A placeholder of ours or of another run, of the kind asked for.
fn is_placeholder(st: &libc::stat, dir: bool) -> bool {
    let kind = if dir { libc::S_IFDIR } else { libc::S_IFREG };
    st.st_mode & libc::S_IFMT == kind && looks_like_placeholder(st.st_mode, st.st_size)
}

/// The directory holding `path`, opened with no symlink on the way (the
/// plan's paths are canonical: a symlink there is a change).
fn open_parent(path: &Path) -> io::Result<OwnedFd> {
    let parent = path.parent().unwrap_or(Path::new("/"));
    let c = CString::new(parent.as_os_str().as_bytes())
        .map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
    open_nofollow(libc::AT_FDCWD, &c, libc::O_PATH | libc::O_DIRECTORY, 0)
        .map_err(err_at(parent, "open"))
}

/// The caller may not create the name (no write permission on the
/// directory, a read-only filesystem): the command, with the same uid and
/// no more capabilities, may not either, so nothing needs to hold it. Not
/// so in a directory the caller owns: the command can chmod it back (an
/// earlier run's `chmod 000` would otherwise unpin the name for the next).
fn uncreatable(e: &io::Error, parent: &OwnedFd) -> bool {
    match e.raw_os_error() {
        Some(libc::EPERM | libc::EROFS) => true,
        Some(libc::EACCES) => !owned_by_caller(parent.as_raw_fd()),
        _ => false,
    }
}

/// Whether this process's user owns the file open at `fd`.
fn owned_by_caller(fd: RawFd) -> bool {
    // SAFETY: geteuid has no preconditions.
    fstat(fd).is_ok_and(|st| st.st_uid == unsafe { libc::geteuid() })
}

/// The error for a placeholder that could not be made; in a directory the
/// caller owns but may not write, says how to open it again.
fn closed_or(path: &Path, e: io::Error) -> io::Error {
    if e.raw_os_error() != Some(libc::EACCES) {
        return err_at(path, "make the placeholder")(e);
    }
    let dir = path.parent().unwrap_or(Path::new("/"));
    io::Error::new(
        e.kind(),
        format!(
            "make the placeholder {}: {e}, in {}, a directory you own (a command can close it and open it again): chmod u+rwx {}",
            path.display(),
            dir.display(),
            dir.display()
        ),
    )
}

/// The directory `parent`, open and share-locked, when this run may not
/// remove the placeholder `st` it joined there: another user's, in a sticky
/// directory that is not this user's either, and no root to override it.
fn mark_stranger(st: &libc::stat, parent: &OwnedFd) -> io::Result<Option<OwnedFd>> {
    // SAFETY: geteuid has no preconditions.
    let me = unsafe { libc::geteuid() };
    let dir = fstat(parent.as_raw_fd())?;
    if me == 0 || st.st_uid == me || dir.st_mode & libc::S_ISVTX == 0 || dir.st_uid == me {
        return Ok(None);
    }
    let fd = open_nofollow(
        parent.as_raw_fd(),
        c".",
        libc::O_RDONLY | libc::O_DIRECTORY,
        0,
    )?;
    flock(fd.as_raw_fd(), libc::LOCK_SH)?;
    Ok(Some(fd))
}

/// Whether a run that may not remove them holds placeholders in `dir`
/// (see [`mark_stranger`]).
fn strangers_in(dir: &OwnedFd) -> bool {
    let Ok(fd) = open_nofollow(dir.as_raw_fd(), c".", libc::O_RDONLY | libc::O_DIRECTORY, 0) else {
        return true;
    };
    // Its own descriptor: the probe's lock goes with it.
    flock(fd.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB).is_err()
}

/// Makes the placeholder `p` (`O_EXCL`: never one that exists) and opens it.
fn make(p: &Placeholder, dirfd: RawFd, name: &std::ffi::CStr) -> io::Result<OwnedFd> {
    if p.dir {
        // SAFETY: valid directory fd and C string.
        cvt(unsafe { libc::mkdirat(dirfd, name.as_ptr(), PLACEHOLDER_MODE) }.into())?;
        open_nofollow(dirfd, name, libc::O_RDONLY | libc::O_DIRECTORY, 0)
    } else {
        let flags = libc::O_RDONLY | libc::O_CREAT | libc::O_EXCL | libc::O_NONBLOCK;
        open_nofollow(dirfd, name, flags, PLACEHOLDER_MODE)
    }
}

/// Makes (or joins another run's) placeholder `p`, and holds it with a
/// shared lock. An entry that appeared since the plan and is not a
/// placeholder is refused: the tree changed under cordon.
fn hold(p: &Placeholder, parent: &OwnedFd) -> io::Result<Option<Held>> {
    let name = p.path.file_name().unwrap_or_default();
    let cname =
        CString::new(name.as_bytes()).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
    let dirfd = parent.as_raw_fd();
    // Never blocks on a FIFO swapped in, never takes a terminal. Either
    // kind is opened: another run's placeholder may hold the name as the
    // other kind (its plan saw the path another way: `.git -> x/../gd`
    // with `x` held or not, adversarial pass 11), and an empty 0444 entry
    // of either kind holds a name.
    let kind = libc::O_NONBLOCK | libc::O_NOCTTY;
    // Another run may remove a placeholder between our finding it and
    // locking it: then make it again.
    for _ in 0..8 {
        let mut created = false;
        // Another run's placeholder is usually there already (runs follow
        // each other within the grace period): look before making one.
        // Any failure takes the making path, which tells the cases apart.
        let fd = match open_nofollow(dirfd, &cname, libc::O_RDONLY | kind, 0) {
            Ok(fd) => Ok(fd),
            Err(_) => match make(p, dirfd, &cname) {
                Ok(fd) => {
                    created = true;
                    Ok(fd)
                }
                Err(e) if e.raw_os_error() == Some(libc::EEXIST) => {
                    open_nofollow(dirfd, &cname, libc::O_RDONLY | kind, 0)
                }
                Err(e) if uncreatable(&e, parent) => return Ok(None),
                Err(e) if e.raw_os_error() == Some(libc::EACCES) => {
                    return Err(closed_or(&p.path, e));
                }
                Err(e) => Err(e),
            },
        };
        let fd = match fd {
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => continue,
            other => other.map_err(err_at(&p.path, "open the placeholder"))?,
        };
        let st = fstat(fd.as_raw_fd())?;
        let dir = st.st_mode & libc::S_IFMT == libc::S_IFDIR;
        if !is_placeholder(&st, dir) {
            return Err(io::Error::other(format!(
                "{} appeared while the sandbox was set up and is not a placeholder of cordon's; run again",
                p.path.display()
            )));
        }
        flock(fd.as_raw_fd(), libc::LOCK_SH)?;
        let stranger = if created {
            None
        } else {
            mark_stranger(&st, parent)?
        };
        let held = Held {
            path: p.path.clone(),
            name: cname.clone(),
            fd,
            id: id_of(&st),
            dir,
            stranger,
        };
        // One made now is known to no other run, so none is removing it.
        // One found may be: still linked at its name (a run that removed
        // it held the lock exclusively until after the unlink)? (A swap by
        // anything else is caught when the namespace binds it by identity.)
        if created || fstatat(dirfd, &cname).is_ok_and(|now| id_of(&now) == held.id) {
            return Ok(Some(held));
        }
    }
    Err(io::Error::other(format!(
        "{} keeps changing while the sandbox is set up",
        p.path.display()
    )))
}

/// Makes every placeholder. On error the ones made so far are removed
/// again (dropping them releases the locks; `Held::release` removes).
pub fn prepare(list: &[Placeholder]) -> io::Result<Vec<Held>> {
    let mut out: Vec<Held> = Vec::with_capacity(list.len());
    // The mode must be exactly 0444 from the first instant: another run
    // that sees the entry decides by its mode whether it is a placeholder.
    // SAFETY: umask has no preconditions; cordon is single-threaded, and the
    // caller's umask is put back below (the command inherits it).
    let umask = unsafe { libc::umask(0) };
    let _restore = Restore(umask);
    // Most placeholders share a directory (a root's top level).
    let mut parents: HashMap<&Path, OwnedFd> = HashMap::new();
    for p in list {
        let dir = p.path.parent().unwrap_or(Path::new("/"));
        let made = match parents.entry(dir) {
            std::collections::hash_map::Entry::Occupied(e) => hold(p, e.get()),
            std::collections::hash_map::Entry::Vacant(e) => {
                open_parent(&p.path).and_then(|fd| hold(p, e.insert(fd)))
            }
        };
        match made {
            Ok(h) => out.extend(h),
            Err(e) => {
                release_all(&out);
                return Err(e);
            }
        }
    }
    Ok(out)
}

/// Puts the caller's umask back.
struct Restore(libc::mode_t);

impl Drop for Restore {
    fn drop(&mut self) {
        // SAFETY: as in `prepare`.
        unsafe { libc::umask(self.0) };
    }
}

/// The placeholders' identities, for the namespace's read-only binds.
pub fn ids(held: &[Held]) -> HashMap<PathBuf, FileId> {
    held.iter().map(|h| (h.path.clone(), h.id)).collect()
}

impl Held {
    /// Removes the placeholder if no other run holds it and it is still
    /// ours and empty. With `wait`, the run whose user owns it in a sticky
    /// directory waits for the others instead of leaving it to them:
    /// another user's run may not remove it there (root's `/tmp/.git`),
    /// and would leave it behind.
    fn release(&self, wait: bool) {
        let fd = self.fd.as_raw_fd();
        // A failed conversion drops our shared lock too (flock(2) removes
        // the old lock first, under the lock list's own lock), so of two
        // runs letting go at once the second always succeeds.
        if flock(fd, libc::LOCK_EX | libc::LOCK_NB).is_err() {
            // Another run's sandbox still needs it, and removes it when it
            // ends, unless it may not: only the maker of an entry in a
            // sticky directory (another user's run there gets EPERM).
            if !(wait && self.must_wait() && self.poll_exclusive()) {
                return;
            }
        }
        self.remove();
        let _ = flock(fd, libc::LOCK_UN);
    }

    /// Waits for the exclusive lock by polling, and gives up once the
    /// entry is gone or no longer this one. Not a blocking `flock`: every
    /// waiter on a lock is woken at each unlock, and runs that follow each
    /// other closely (an agent's, a benchmark's) leave hundreds of
    /// sentinels waiting on the same placeholders, which then spend the
    /// machine's time waking each other.
    fn poll_exclusive(&self) -> bool {
        let mut pause = std::time::Duration::from_millis(50);
        loop {
            std::thread::sleep(pause);
            pause = (pause * 2).min(std::time::Duration::from_secs(1));
            let still = open_parent(&self.path)
                .and_then(|dir| fstatat(dir.as_raw_fd(), &self.name))
                .is_ok_and(|st| id_of(&st) == self.id);
            if !still {
                return false;
            }
            if flock(self.fd.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB).is_ok() {
                return true;
            }
        }
    }

    /// Whether no other run holds the placeholder now. The last holder
    /// keeps a shared lock (taken again after the exclusive one, not
    /// atomically: at worst another last holder removes the placeholder
    /// first); any other has let go of it (a failed conversion drops the
    /// lock), so of two sentinels asking at once one is the last.
    fn last_holder(&self) -> bool {
        let fd = self.fd.as_raw_fd();
        let last = flock(fd, libc::LOCK_EX | libc::LOCK_NB).is_ok();
        if last {
            let _ = flock(fd, libc::LOCK_SH | libc::LOCK_NB);
        }
        last
    }

    /// Whether this run must remove the placeholder itself even when
    /// others hold it: it made it in a sticky directory, and a run that
    /// may not remove it there holds it too.
    fn must_wait(&self) -> bool {
        self.owned()
            && open_parent(&self.path).is_ok_and(|dir| {
                fstat(dir.as_raw_fd()).is_ok_and(|st| st.st_mode & libc::S_ISVTX != 0)
                    && strangers_in(&dir)
            })
    }

    /// Unlinks the placeholder, under our exclusive lock.
    fn remove(&self) {
        // Opened again by path (the sentinel is outside the sandbox), and
        // nothing is removed unless the entry is still the one made.
        let Ok(parent) = open_parent(&self.path) else {
            return;
        };
        let dirfd = parent.as_raw_fd();
        let Ok(st) = fstatat(dirfd, &self.name) else {
            return;
        };
        if id_of(&st) != self.id || !is_placeholder(&st, self.dir) {
            return;
        }
        if !self.dir && st.st_size != 0 {
            return;
        }
        let flags = if self.dir { libc::AT_REMOVEDIR } else { 0 };
        // SAFETY: valid directory fd and C string. A directory that is not
        // empty (the user wrote into it from outside) fails with ENOTEMPTY
        // and stays, as it should.
        unsafe { libc::unlinkat(dirfd, self.name.as_ptr(), flags) };
    }

    /// Whether this process's user owns the placeholder.
    fn owned(&self) -> bool {
        owned_by_caller(self.fd.as_raw_fd())
    }
}

/// Releases placeholders (on an error path: nothing ran, so no waiting).
pub fn release_all(held: &[Held]) {
    release_in_order(held, false);
}

/// Releases placeholders in descending path order: one made inside another
/// (`.husky/_` in `.husky`) goes before the directory that holds it. (A
/// sentinel waiting for a placeholder holds no lock on it, so none waits
/// for another in a circle.)
fn release_in_order(held: &[Held], wait: bool) {
    let mut order: Vec<&Held> = held.iter().collect();
    order.sort_by(|a, b| b.path.cmp(&a.path));
    for h in order {
        h.release(wait);
    }
}

/// How long placeholders outlive the last sandbox that used them.
const GRACE: std::time::Duration = std::time::Duration::from_secs(1);

/// What the sentinel does once the command has exited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Duties {
    pub kill_leftovers: bool,
}

/// cordon's end of the line to the sentinel.
pub type Link = super::helper::Link;

/// Forks the sentinel. `held` moves to it (this process keeps its copies
/// only until exec: they are close-on-exec).
pub fn start(held: &[Held], duties: Duties) -> io::Result<Link> {
    super::helper::spawn(false, |pidfd, sock| run(pidfd, sock, held, duties))
}

/// Hands the sentinel the sandbox's mount namespace and the seccomp
/// listener (if there is one). Sent once the sandbox is in place, just
/// before exec. The namespace goes as a descriptor, not a number: held
/// open, it cannot end and have its inode number reused by another run's
/// namespace while the sentinel looks for members.
pub fn send(link: &Link, listener: Option<&OwnedFd>) -> io::Result<()> {
    let ns = std::fs::File::open("/proc/self/ns/mnt")?;
    let mut fds = vec![ns.as_raw_fd()];
    fds.extend(listener.map(|l| l.as_raw_fd()));
    link.send(&fds)
}

/// Receives the namespace and the listener; `None` when cordon ended
/// before the sandbox was in place (the socket closed first).
fn receive(sock: &OwnedFd) -> Option<(OwnedFd, Option<OwnedFd>)> {
    let mut fds = super::helper::receive(sock)?.into_iter();
    let ns = fds.next()?;
    Some((ns, fds.next()))
}

pub(super) fn poll_one(fd: RawFd, events: i16, timeout_ms: i32) -> i16 {
    let mut p = libc::pollfd {
        fd,
        events,
        revents: 0,
    };
    // SAFETY: one valid pollfd.
    let n = unsafe { libc::poll(&mut p, 1, timeout_ms) };
    if n > 0 { p.revents } else { 0 }
}

/// The pids of the processes in the mount namespace `ns`, but ours.
fn members(ns: u64) -> Vec<libc::pid_t> {
    use std::os::unix::fs::MetadataExt;
    // SAFETY: getpid has no preconditions.
    let me = unsafe { libc::getpid() };
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<libc::pid_t>().ok())
        .filter(|&pid| pid != me)
        .filter(|pid| std::fs::metadata(format!("/proc/{pid}/ns/mnt")).is_ok_and(|m| m.ino() == ns))
        .collect()
}

/// SIGKILL to every process of the sandbox until none is left. A pidfd
/// pins each one, so a pid reused between the scan and the signal is
/// never hit.
fn kill_members(ns: u64) {
    use std::os::unix::fs::MetadataExt;
    for _ in 0..1000 {
        let pids = members(ns);
        if pids.is_empty() {
            return;
        }
        for pid in pids {
            // SAFETY: pidfd_open with flags 0.
            let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
            if fd < 0 {
                continue;
            }
            // SAFETY: a fresh descriptor.
            let fd = unsafe { OwnedFd::from_raw_fd(fd as RawFd) };
            let still =
                std::fs::metadata(format!("/proc/{pid}/ns/mnt")).is_ok_and(|m| m.ino() == ns);
            if still {
                // SAFETY: signalling through our pidfd.
                unsafe {
                    libc::syscall(
                        libc::SYS_pidfd_send_signal,
                        fd.as_raw_fd(),
                        libc::SIGKILL,
                        std::ptr::null::<libc::siginfo_t>(),
                        0,
                    )
                };
            }
        }
    }
}

/// Waits until no process of the sandbox is left: the listener hangs up,
/// or (without one) the namespace has no member.
fn wait_empty(ns: u64, listener: Option<&OwnedFd>) {
    match listener {
        Some(l) => while poll_one(l.as_raw_fd(), 0, -1) & libc::POLLHUP == 0 {},
        None => {
            while !members(ns).is_empty() {
                std::thread::sleep(std::time::Duration::from_millis(200));
            }
        }
    }
}

/// Forks the reaper: a process inside the sandbox (it shares the command's
/// Landlock domain, filter and namespaces) that waits for the command to
/// exit and then sends `kill(-1, SIGKILL)`. The kernel signals every
/// process it may signal in one pass under the task-list lock, so none can
/// fork past it; Landlock's signal scope makes that exactly the processes
/// of this sandbox (and of sandboxes nested in it). Forked twice, like the
/// sentinel, so the command never sees it as a child; in a session of its
/// own, so no terminal signal (a ^C that ends the command, one the command
/// arranges) ends the reaper. Called
/// right after Landlock is enforced; the command then enters a domain
/// nested in the reaper's (`apply::shield_reaper`), from which it can
/// neither signal nor ptrace the reaper.
pub fn start_reaper() -> io::Result<Middle> {
    // SAFETY: pidfd_open of our own pid; flags 0.
    let pidfd = cvt(unsafe { libc::syscall(libc::SYS_pidfd_open, libc::getpid(), 0) })?;
    // SAFETY: a fresh descriptor.
    let pidfd = unsafe { OwnedFd::from_raw_fd(pidfd as RawFd) };
    // SAFETY: cordon is single-threaded; the children run only this
    // function and then _exit.
    match unsafe { libc::fork() } {
        -1 => Err(io::Error::last_os_error()),
        0 => {
            // The reaper shares the command's Landlock domain and uid, and
            // its memory still holds cordon's environment, variables the
            // policy kept from the command included: undumpable, its
            // /proc/PID/environ and mem need CAP_SYS_PTRACE. Set before the
            // second fork (the flag is inherited), so the reaper never runs
            // dumpable, even for a moment after the command starts.
            // SAFETY: plain prctl with constant arguments.
            unsafe { libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0) };
            // SAFETY: as above.
            if unsafe { libc::fork() } == 0 {
                // Its own session (see `stdio::detach_helper`).
                // SAFETY: plain syscalls on our own process.
                unsafe { libc::setsid() };
                close_others(&[pidfd.as_raw_fd()]);
                // SAFETY: closing the caller's stdio: the reaper must hold
                // no pipe open after the command.
                unsafe { libc::syscall(libc::SYS_close_range, 0u32, 2u32, 0) };
                while poll_one(pidfd.as_raw_fd(), libc::POLLIN, -1) & (libc::POLLIN | libc::POLLHUP)
                    == 0
                {}
                // SAFETY: kill(-1) spares the caller itself.
                unsafe { libc::kill(-1, libc::SIGKILL) };
            }
            // SAFETY: leave without running exit handlers.
            unsafe { libc::_exit(0) }
        }
        middle => Ok(Middle(middle)),
    }
}

/// The sentinel's whole life. Never returns.
fn run(pidfd: &OwnedFd, sock: &OwnedFd, held: &[Held], duties: Duties) -> ! {
    // Out of the caller's job and session: a ^C, a kill of the job's
    // process group or a terminal's hang-up ends the command, not the
    // cleanup.
    crate::stdio::detach_helper();
    if !duties.kill_leftovers {
        // Only cleanup is left to it, none of it urgent: it yields to the
        // commands that follow (an agent's next call, a benchmark's), whose
        // start-up would otherwise share the CPU with its unlinks (a
        // directory's rmdir takes a fifth of a millisecond on ext4 with
        // `discard`). Killing leftovers (below Landlock ABI 6) stays prompt.
        // SAFETY: plain syscall on this process.
        unsafe { libc::setpriority(libc::PRIO_PROCESS, 0, 19) };
    }
    let keep: Vec<RawFd> = [pidfd.as_raw_fd(), sock.as_raw_fd()]
        .into_iter()
        .chain(held.iter().map(|h| h.fd.as_raw_fd()))
        .chain(
            held.iter()
                .filter_map(|h| h.stranger.as_ref().map(|f| f.as_raw_fd())),
        )
        .collect();
    close_others(&keep);
    let received = receive(sock);
    if let Some((ns_fd, listener)) = received {
        let ns = fstat(ns_fd.as_raw_fd()).map_or(0, |st| st.st_ino);
        // The command runs until its pidfd turns readable.
        while poll_one(pidfd.as_raw_fd(), libc::POLLIN, -1) & (libc::POLLIN | libc::POLLHUP) == 0 {}
        if duties.kill_leftovers {
            kill_members(ns);
        }
        wait_empty(ns, listener.as_ref());
        // Now the namespace may end: its mounts (the placeholders' binds
        // among them) go with it.
        drop(ns_fd);
    }
    // A run that starts within a moment takes the placeholders over
    // instead of making them again (an agent runs command after command):
    // they are removed a second after the last sandbox that used them. A
    // sentinel whose placeholders other runs still hold leaves them to
    // those runs' sentinels and ends now: back to back, one sentinel
    // lingers instead of one per run of the last second (each a process
    // the next run's `kill(-1)` and lock calls walk past).
    if held.iter().any(|h| h.last_holder() || h.must_wait()) {
        std::thread::sleep(GRACE);
        // The fork copied `held` with its descriptors: this process's own.
        release_in_order(held, true);
    }
    // SAFETY: leave without running exit handlers.
    unsafe { libc::_exit(0) }
}

/// Closes every descriptor but `keep` (the caller's pipes and terminal
/// must not be held open by the sentinel).
pub(super) fn close_others(keep: &[RawFd]) {
    let mut keep: Vec<u32> = keep.iter().map(|&f| f as u32).collect();
    keep.sort_unstable();
    let mut from = 3u32;
    for k in keep.into_iter().filter(|&k| k >= 3) {
        if k > from {
            // SAFETY: plain syscall.
            unsafe { libc::syscall(libc::SYS_close_range, from, k - 1, 0) };
        }
        from = k + 1;
    }
    // SAFETY: plain syscall.
    unsafe { libc::syscall(libc::SYS_close_range, from, u32::MAX, 0) };
}
