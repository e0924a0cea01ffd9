//! Applies a compiled mount plan (`mounts.rs`) to this process: a private
//! mount namespace where the world is read-only, writable roots are bound
//! back read-write and protected paths are bound read-only. Runs before
//! Landlock (which forbids mount changes) and before exec; no process is
//! left behind.
//!
//! Raw syscalls: `open_tree`, `open_tree_attr`, `move_mount`,
//! `mount_setattr` and `openat2` have no wrapper in libc or nix. They are
//! what makes the setup both fast (one `mount_setattr` turns the whole tree
//! read-only; one `open_tree_attr` makes a copy with its flags) and
//! race-free (a path is always opened with `RESOLVE_NO_SYMLINKS`, and mounts
//! are cloned from and attached to descriptors, so swapping in a symlink
//! between lookup and mount cannot redirect them).

use std::collections::{HashMap, HashSet};
use std::ffi::CString;
use std::fmt;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use super::ProbeError;
use super::mounts::{DenyMount, Dev, MountOp, MountPlan};
use crate::plan::FileId;

/// A failed step: which one, on what, and the errno.
#[derive(Debug)]
pub struct NsError {
    pub step: String,
    pub err: std::io::Error,
}

impl fmt::Display for NsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The errno's text without io::Error's " (os error N)" suffix.
        let err = self.err.to_string();
        let err = err.split(" (os error").next().unwrap_or(&err);
        write!(f, "{}: {err}", self.step)
    }
}

impl NsError {
    /// The host refuses the namespace itself (the unshare, the id maps or
    /// the first mount operation), rather than one later step failing.
    pub fn is_unavailable(&self) -> bool {
        self.step.starts_with("unshare")
            || self.step.starts_with("write /proc/self/")
            || self.step == "make every mount private"
    }
}

type Result<T> = std::result::Result<T, NsError>;

fn fail(step: impl Into<String>) -> NsError {
    NsError {
        step: step.into(),
        err: std::io::Error::last_os_error(),
    }
}

fn check(rc: libc::c_long, step: impl FnOnce() -> String) -> Result<libc::c_long> {
    if rc < 0 { Err(fail(step())) } else { Ok(rc) }
}

fn cpath(p: &Path) -> Result<CString> {
    CString::new(p.as_os_str().as_bytes()).map_err(|_| NsError {
        step: format!("path {}", p.display()),
        err: std::io::Error::from_raw_os_error(libc::EINVAL),
    })
}

fn fd_from(rc: libc::c_long) -> OwnedFd {
    // SAFETY: rc is a fresh descriptor returned by the kernel.
    unsafe { OwnedFd::from_raw_fd(rc as RawFd) }
}

/// `openat2(O_PATH | O_NOFOLLOW, RESOLVE_NO_SYMLINKS)`: the path exactly as
/// planned (canonical), or an error if a symlink appeared on the way. A
/// trailing symlink is returned as itself.
pub(super) fn open_path(p: &Path) -> Result<OwnedFd> {
    let c = cpath(p)?;
    crate::plan::openat2_no_symlinks(&c, libc::O_PATH | libc::O_NOFOLLOW).map_err(|err| NsError {
        step: format!("open {}", p.display()),
        err,
    })
}

fn stat(fd: &OwnedFd, p: &Path) -> Result<libc::stat> {
    // SAFETY: stat is plain data, filled by fstat.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: valid fd and stat buffer.
    let rc = unsafe { libc::fstat(fd.as_raw_fd(), &mut st) };
    check(rc.into(), || format!("stat {}", p.display()))?;
    Ok(st)
}

fn changed(p: &Path, errno: i32) -> NsError {
    NsError {
        step: format!("{} changed while the sandbox was set up", p.display()),
        err: std::io::Error::from_raw_os_error(errno),
    }
}

/// Opens `p` (no symlink on the way) and checks it is the object planning
/// found there (`id`): the name is looked up again only because a
/// descriptor from before `unshare` points into the host's mounts, and
/// what it leads to must not have changed.
fn open_checked(p: &Path, id: Option<FileId>) -> Result<OwnedFd> {
    let fd = open_path(p)?;
    if let Some(id) = id {
        let st = stat(&fd, p)?;
        if (st.st_dev, st.st_ino) != (id.dev, id.ino) {
            return Err(changed(p, libc::ESTALE));
        }
    }
    Ok(fd)
}

/// A detached copy of the mount tree at `fd` (with its submounts).
pub(super) fn clone_tree(fd: &OwnedFd, p: &Path) -> Result<OwnedFd> {
    let flags = libc::OPEN_TREE_CLONE | libc::OPEN_TREE_CLOEXEC | libc::AT_RECURSIVE as u32;
    // SAFETY: empty path relative to a valid fd.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_open_tree,
            fd.as_raw_fd(),
            c"".as_ptr(),
            flags | libc::AT_EMPTY_PATH as u32,
        )
    };
    check(rc, || format!("clone the mounts at {}", p.display())).map(fd_from)
}

/// `open_tree_attr(2)` (Linux 6.15), which libc does not name yet: the
/// same number on every architecture since the syscall tables were unified.
const SYS_OPEN_TREE_ATTR: libc::c_long = 467;

/// Set once a kernel (or an enclosing filter) refused `open_tree_attr`, so
/// a plan of thousands of roots asks once. cordon sets up its namespace on
/// one thread; the atomic only keeps this a plain static.
static TWO_STEP: AtomicBool = AtomicBool::new(false);

/// A detached copy of the mount tree at `fd` with `set` added to every
/// mount in it: one `open_tree_attr` where the kernel has it, else
/// `open_tree` and `mount_setattr`.
fn clone_tree_with(fd: &OwnedFd, p: &Path, set: u64) -> Result<OwnedFd> {
    let recursive = libc::AT_EMPTY_PATH | libc::AT_RECURSIVE;
    let attrs = attr(set, 0);
    if !TWO_STEP.load(Ordering::Relaxed) {
        let flags = libc::OPEN_TREE_CLONE | libc::OPEN_TREE_CLOEXEC | recursive as u32;
        // SAFETY: empty path relative to a valid fd; mount_attr of the size
        // passed.
        let rc = unsafe {
            libc::syscall(
                SYS_OPEN_TREE_ATTR,
                fd.as_raw_fd(),
                c"".as_ptr(),
                flags,
                &attrs,
                std::mem::size_of::<libc::mount_attr>(),
            )
        };
        if rc >= 0 {
            return Ok(fd_from(rc));
        }
        // Whatever the refusal, the two calls say it again with their own
        // step, or succeed where the one call is unknown.
        TWO_STEP.store(true, Ordering::Relaxed);
    }
    let tree = clone_tree(fd, p)?;
    let rc = setattr(tree.as_raw_fd(), c"", recursive, &attrs);
    check(rc, || format!("set the mount flags of {}", p.display()))?;
    Ok(tree)
}

fn setattr(dfd: RawFd, path: &std::ffi::CStr, flags: libc::c_int, attr: &libc::mount_attr) -> i64 {
    // SAFETY: valid path and mount_attr of the size passed.
    unsafe {
        libc::syscall(
            libc::SYS_mount_setattr,
            dfd,
            path.as_ptr(),
            flags,
            attr,
            std::mem::size_of::<libc::mount_attr>(),
        )
    }
}

fn attr(set: u64, propagation: u64) -> libc::mount_attr {
    libc::mount_attr {
        attr_set: set,
        attr_clr: 0,
        propagation,
        userns_fd: 0,
    }
}

/// Attaches the detached tree `tree` on top of the object `at` refers to.
pub(super) fn attach(tree: &OwnedFd, at: &OwnedFd, p: &Path) -> Result<()> {
    let flags = libc::MOVE_MOUNT_F_EMPTY_PATH | libc::MOVE_MOUNT_T_EMPTY_PATH;
    // SAFETY: empty paths relative to valid fds.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_move_mount,
            tree.as_raw_fd(),
            c"".as_ptr(),
            at.as_raw_fd(),
            c"".as_ptr(),
            flags,
        )
    };
    check(rc, || format!("mount onto {}", p.display())).map(drop)
}

/// Binds `p` onto itself, read-only if asked. `symlink` says what `p` must
/// be: a path that turned into (or out of) a symlink since the plan changed
/// under cordon's feet, and is refused.
fn bind_self(p: &Path, id: Option<FileId>, read_only: bool, symlink: bool) -> Result<()> {
    let fd = open_path(p)?;
    let st = stat(&fd, p)?;
    if let Some(id) = id
        && (st.st_dev, st.st_ino) != (id.dev, id.ino)
    {
        return Err(changed(p, libc::ESTALE));
    }
    if (st.st_mode & libc::S_IFMT == libc::S_IFLNK) != symlink {
        return Err(changed(p, libc::ELOOP));
    }
    let tree = if read_only {
        clone_tree_with(&fd, p, libc::MOUNT_ATTR_RDONLY)?
    } else {
        clone_tree(&fd, p)?
    };
    attach(&tree, &fd, p)
}

fn write_file(path: &str, text: &str) -> Result<()> {
    std::fs::write(path, text).map_err(|err| NsError {
        step: format!("write {path}"),
        err,
    })
}

fn unshare(user: bool, net: bool, uid: u32, gid: u32) -> Result<()> {
    // A new IPC namespace too: SysV shared memory, semaphores and message
    // queues, and POSIX message queues, are per IPC namespace, and the
    // host's hold those of every process of the user.
    let mut flags = libc::CLONE_NEWNS | libc::CLONE_NEWIPC;
    if user {
        flags |= libc::CLONE_NEWUSER;
    }
    // Made together with the user namespace, the network namespace is
    // owned by it: the capabilities there are enough to bring `lo` up.
    if net {
        flags |= libc::CLONE_NEWNET;
    }
    // SAFETY: plain syscall; cordon is single-threaded here.
    let rc = unsafe { libc::unshare(flags) };
    let what = format!(
        "unshare(CLONE_NEWNS|CLONE_NEWIPC{}{})",
        if user { "|CLONE_NEWUSER" } else { "" },
        if net { "|CLONE_NEWNET" } else { "" }
    );
    check(rc.into(), || what)?;
    if user {
        // An unprivileged gid map needs setgroups denied first.
        write_file("/proc/self/setgroups", "deny")?;
        write_file("/proc/self/uid_map", &format!("{uid} {uid} 1"))?;
        write_file("/proc/self/gid_map", &format!("{gid} {gid} 1"))?;
    }
    Ok(())
}

fn tmpfs(p: &Path, options: &str) -> Result<()> {
    tmpfs_with(p, options, nix::mount::MsFlags::empty())
}

fn tmpfs_with(p: &Path, options: &str, extra: nix::mount::MsFlags) -> Result<()> {
    use nix::mount::{MsFlags, mount};
    mount(
        Some("tmpfs"),
        p,
        Some("tmpfs"),
        MsFlags::MS_NOSUID | MsFlags::MS_NODEV | extra,
        Some(options),
    )
    .map_err(|e| NsError {
        step: format!("mount a tmpfs on {}", p.display()),
        err: std::io::Error::from_raw_os_error(e as i32),
    })
}

/// A new tmpfs (nosuid, nodev, plus `attrs`) as a detached mount, through
/// the new mount API: fsopen, fsconfig, fsmount. Raw syscalls because
/// neither nix nor libc wraps them; the mount descriptor is what lets the
/// caller work inside the mount without a path.
fn detached_tmpfs(mode: &str, attrs: u64, p: &Path) -> Result<OwnedFd> {
    let step = |what: &str| format!("{what} for the tmpfs hiding {}", p.display());
    // SAFETY: a C string and a flag.
    let rc = unsafe { libc::syscall(libc::SYS_fsopen, c"tmpfs".as_ptr(), libc::FSOPEN_CLOEXEC) };
    let fs = check(rc, || step("fsopen")).map(fd_from)?;
    let mode = CString::new(mode).map_err(|_| fail(step("mode")))?;
    for (key, value) in [(c"mode", mode.as_c_str()), (c"size", c"64k")] {
        // SAFETY: a valid fs context fd and C strings.
        let rc = unsafe {
            libc::syscall(
                libc::SYS_fsconfig,
                fs.as_raw_fd(),
                libc::FSCONFIG_SET_STRING,
                key.as_ptr(),
                value.as_ptr(),
                0,
            )
        };
        check(rc, || step("fsconfig"))?;
    }
    // SAFETY: as above; no key or value for the create command.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_fsconfig,
            fs.as_raw_fd(),
            libc::FSCONFIG_CMD_CREATE,
            std::ptr::null::<libc::c_char>(),
            std::ptr::null::<libc::c_void>(),
            0,
        )
    };
    check(rc, || step("create"))?;
    let attrs = libc::MOUNT_ATTR_NOSUID | libc::MOUNT_ATTR_NODEV | attrs;
    // SAFETY: a created fs context fd.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_fsmount,
            fs.as_raw_fd(),
            libc::FSMOUNT_CLOEXEC,
            attrs as libc::c_uint,
        )
    };
    check(rc, || step("fsmount")).map(fd_from)
}

fn io_step(step: impl Into<String>) -> impl FnOnce(std::io::Error) -> NsError {
    let step = step.into();
    move |err| NsError { step, err }
}

/// Replaces `/dev` with a tmpfs holding only the planned devices, each
/// bound from the host (after the read-only world, so the clones are
/// read-only mounts: a device node stays writable on one), the usual
/// symlinks, a private `/dev/shm` and mountpoints for writable roots in
/// `/dev`; then the tmpfs itself goes read-only.
fn private_dev(d: &Dev) -> Result<()> {
    use std::os::unix::fs::symlink;
    let dev = Path::new("/dev");
    // Clone every device before /dev is covered: afterwards its path leads
    // into the new tmpfs.
    let mut trees = Vec::with_capacity(d.nodes.len());
    for n in &d.nodes {
        let fd = open_checked(&n.path, n.id)?;
        trees.push((n, clone_tree(&fd, &n.path)?));
    }
    tmpfs(dev, "mode=0755,size=64k")?;
    // The new, empty /dev: mountpoints are made and attached to through
    // one descriptor of it, three calls a device instead of seven by path.
    let top = open_path(dev)?;
    for (n, tree) in &trees {
        let at = match n.at.strip_prefix(dev) {
            Ok(name) if name.components().count() == 1 => mountpoint(&top, name, n.is_dir),
            _ => mountpoint_by_path(&n.at, n.is_dir),
        }
        .map_err(io_step(format!("make the mountpoint {}", n.at.display())))?;
        attach(tree, &at, &n.at)?;
    }
    if d.private_ptys {
        let pts = dev.join("pts");
        std::fs::create_dir(&pts).map_err(io_step("mkdir /dev/pts"))?;
        super::terminals::mount_private_ptys()?;
        symlink("pts/ptmx", dev.join("ptmx")).map_err(io_step("symlink /dev/ptmx"))?;
    }
    for (name, target) in super::mounts::DEV_LINKS {
        symlink(target, dev.join(name)).map_err(io_step(format!("symlink /dev/{name}")))?;
    }
    let shm = dev.join("shm");
    std::fs::create_dir(&shm).map_err(io_step("mkdir /dev/shm"))?;
    if d.private_shm {
        tmpfs(&shm, "mode=1777")?;
    }
    for m in &d.mountpoints {
        std::fs::create_dir_all(m).map_err(io_step(format!("mkdir {}", m.display())))?;
    }
    let rc = setattr(
        libc::AT_FDCWD,
        c"/dev",
        0,
        &attr(libc::MOUNT_ATTR_RDONLY | libc::MOUNT_ATTR_NOEXEC, 0),
    );
    // Not recursive: the shm tmpfs and the device binds keep their flags.
    check(rc, || "make /dev read-only".into()).map(drop)
}

/// Makes the empty mountpoint `name` in the directory `dir` (a file for a
/// device, a directory for a directory) and returns it, open.
fn mountpoint(dir: &OwnedFd, name: &Path, is_dir: bool) -> std::io::Result<OwnedFd> {
    use nix::fcntl::{OFlag, openat};
    use nix::sys::stat::{Mode, mkdirat};
    let flags = OFlag::O_CLOEXEC | OFlag::O_NOFOLLOW;
    let fd = if is_dir {
        mkdirat(dir, name, Mode::from_bits_truncate(0o755))?;
        openat(
            dir,
            name,
            flags | OFlag::O_PATH | OFlag::O_DIRECTORY,
            Mode::empty(),
        )?
    } else {
        let create = OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_RDONLY;
        openat(dir, name, flags | create, Mode::from_bits_truncate(0o644))?
    };
    Ok(fd)
}

/// The same for a device deeper in `/dev`, with its parents.
fn mountpoint_by_path(at: &Path, is_dir: bool) -> std::io::Result<OwnedFd> {
    let parent = at.parent().unwrap_or(Path::new("/dev"));
    std::fs::create_dir_all(parent)?;
    let dir = OwnedFd::from(std::fs::File::open(parent)?);
    mountpoint(&dir, Path::new(at.file_name().unwrap_or_default()), is_dir)
}

/// Makes the mountpoint for a lifted path `rel` (its directories mode
/// 0111) under `root`, the hiding tmpfs of `denied`, and opens it.
fn lift_point(root: &OwnedFd, rel: &Path, is_dir: bool, denied: &Path) -> Result<OwnedFd> {
    let mut at = PathBuf::new();
    let comps: Vec<_> = rel.components().collect();
    for (i, c) in comps.iter().enumerate() {
        at.push(c);
        let last = i + 1 == comps.len();
        let name = cpath(&at)?;
        // SAFETY: a valid directory fd and C string.
        let rc = unsafe {
            if last && !is_dir {
                libc::mknodat(root.as_raw_fd(), name.as_ptr(), libc::S_IFREG, 0)
            } else {
                libc::mkdirat(root.as_raw_fd(), name.as_ptr(), 0o111)
            }
        };
        if rc != 0 {
            let e = std::io::Error::last_os_error();
            if e.raw_os_error() != Some(libc::EEXIST) {
                return Err(NsError {
                    step: format!(
                        "make the mountpoint {} in the hidden {}",
                        at.display(),
                        denied.display()
                    ),
                    err: e,
                });
            }
        }
    }
    let name = cpath(&at)?;
    // SAFETY: as above; O_PATH of an entry this process just made.
    let rc = unsafe {
        libc::openat(
            root.as_raw_fd(),
            name.as_ptr(),
            libc::O_PATH | libc::O_NOFOLLOW | libc::O_CLOEXEC,
        )
    };
    check(rc.into(), || {
        format!("open the mountpoint of {}", denied.join(rel).display())
    })
    .map(fd_from)
}

/// Hides a denied path. A file: an inert /dev/null on top (`nodev` makes
/// every open of it fail with EACCES, root's included; a read-only mount
/// alone would still let a device node be written). A directory: an empty
/// tmpfs, mode 000, read-only; the grants inside it (`lifts`) are cloned
/// first and bound back at their places, under directories mode 0111 (to
/// be passed through, not listed). The tmpfs exists only in this
/// namespace, so building it by relative path races with nothing.
fn deny(d: &DenyMount) -> Result<()> {
    let at = open_checked(&d.path, d.id)?;
    if !d.dir {
        return attach_null(&at, &d.path);
    }
    let mut lifts = Vec::with_capacity(d.lifts.len());
    for l in &d.lifts {
        let tree = clone_tree(&open_checked(&l.path, l.id)?, &l.path)?;
        let rel = l.path.strip_prefix(&d.path).map_err(|_| NsError {
            step: format!(
                "internal: {} is not inside {}",
                l.path.display(),
                d.path.display()
            ),
            err: std::io::Error::from_raw_os_error(libc::EINVAL),
        })?;
        lifts.push((l, rel, tree));
    }
    // Read-only from the start when there is nothing to bind back.
    let (mode, attrs) = if lifts.is_empty() {
        ("000", libc::MOUNT_ATTR_RDONLY | libc::MOUNT_ATTR_NOEXEC)
    } else {
        ("0111", libc::MOUNT_ATTR_NOEXEC)
    };
    // A detached tmpfs attached onto the descriptor planning checked; its
    // own descriptor then names the new mount's root, so the mountpoints
    // for lifted paths are made under it without looking the denied path
    // up by name again (a rename of a parent by an outside process at that
    // moment cannot redirect them).
    let root = detached_tmpfs(mode, attrs, &d.path)?;
    attach(&root, &at, &d.path).map_err(|e| NsError {
        step: format!("hide {}: {}", d.path.display(), e.step),
        err: e.err,
    })?;
    for (l, rel, tree) in &lifts {
        let point = lift_point(&root, rel, l.dir, &d.path)?;
        attach(tree, &point, &l.path)?;
    }
    if !lifts.is_empty() {
        // Not recursive: the grants bound back keep their own flags.
        let ro = attr(libc::MOUNT_ATTR_RDONLY, 0);
        let rc = setattr(root.as_raw_fd(), c"", libc::AT_EMPTY_PATH, &ro);
        check(rc, || {
            format!("make the hidden {} read-only", d.path.display())
        })?;
    }
    Ok(())
}

/// Binds a read-only, nodev, noexec /dev/null on top of `at`.
fn attach_null(at: &OwnedFd, p: &Path) -> Result<()> {
    let null = Path::new("/dev/null");
    let flags = libc::MOUNT_ATTR_RDONLY
        | libc::MOUNT_ATTR_NOSUID
        | libc::MOUNT_ATTR_NODEV
        | libc::MOUNT_ATTR_NOEXEC;
    let tree = clone_tree_with(&open_path(null)?, null, flags)?;
    attach(&tree, at, p)
}

/// Binds /dev/null over the socket `p`, read-only and inert, so connecting
/// to `p` fails with ECONNREFUSED. A socket that went away since the plan
/// (its daemon stopped) is left alone: there is nothing to connect to.
fn mask(p: &Path) -> Result<()> {
    let at = match open_path(p) {
        Ok(fd) => fd,
        Err(e) if e.err.raw_os_error() == Some(libc::ENOENT) => return Ok(()),
        Err(e) => return Err(e),
    };
    // SAFETY: stat is plain data, filled by fstat.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: valid fd and stat buffer.
    let rc = unsafe { libc::fstat(at.as_raw_fd(), &mut st) };
    check(rc.into(), || format!("stat {}", p.display()))?;
    if st.st_mode & libc::S_IFMT != libc::S_IFSOCK {
        return Err(NsError {
            step: format!("{} changed while the sandbox was set up", p.display()),
            err: std::io::Error::from_raw_os_error(libc::ENOTSOCK),
        });
    }
    attach_null(&at, p)
}

/// Drops every capability the user namespace gave.
fn drop_caps() -> Result<()> {
    super::caps::restrict(super::caps::Keep(0)).map_err(|err| NsError {
        step: "drop capabilities".into(),
        err,
    })
}

/// Runs every op of `plan` in order. `placeholders` are the identities of
/// the placeholders `sentinel::prepare` made. On error the process may be
/// half set up: the caller must not run the command (or must have probed
/// first).
/// `None` for a dry run of the setup (`probe`): the placeholders do not
/// exist yet, and their binds are skipped.
/// Brings `lo` up in the new network namespace and binds the proxy's
/// listener on 127.0.0.1 there (any free port). A socket stays in the
/// namespace it was made in: the proxy, outside, accepts on it what the
/// command connects to inside.
fn loopback_listener() -> Result<OwnedFd> {
    let step = |what: &'static str| move || what.to_string();
    // SAFETY: plain socket call.
    let ctl = unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
    let ctl = fd_from(check(ctl.into(), step("socket for bringing lo up"))?);
    // SAFETY: ifreq is plain data; zero is a valid start.
    let mut ifr: libc::ifreq = unsafe { std::mem::zeroed() };
    for (d, s) in ifr.ifr_name.iter_mut().zip(b"lo\0") {
        *d = *s as libc::c_char;
    }
    // SAFETY: valid socket and ifreq.
    let rc = unsafe { libc::ioctl(ctl.as_raw_fd(), libc::SIOCGIFFLAGS, &mut ifr) };
    check(rc.into(), step("read the flags of lo"))?;
    // SAFETY: the union's flags member, as SIOCGIFFLAGS filled it.
    unsafe { ifr.ifr_ifru.ifru_flags |= libc::IFF_UP as libc::c_short };
    // SAFETY: valid socket and ifreq.
    let rc = unsafe { libc::ioctl(ctl.as_raw_fd(), libc::SIOCSIFFLAGS, &ifr) };
    check(rc.into(), step("bring lo up"))?;
    drop(ctl);
    // SAFETY: plain socket call.
    let sock = unsafe { libc::socket(libc::AF_INET, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0) };
    let sock = fd_from(check(sock.into(), step("socket for the proxy's listener"))?);
    // SAFETY: sockaddr_in is plain data.
    let mut addr: libc::sockaddr_in = unsafe { std::mem::zeroed() };
    addr.sin_family = libc::AF_INET as libc::sa_family_t;
    addr.sin_addr.s_addr = u32::from(std::net::Ipv4Addr::LOCALHOST).to_be();
    let len = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
    // SAFETY: valid socket and address of the size passed.
    let rc = unsafe { libc::bind(sock.as_raw_fd(), (&raw const addr).cast(), len) };
    check(rc.into(), step("bind the proxy's listener on 127.0.0.1"))?;
    // SAFETY: plain syscall.
    let rc = unsafe { libc::listen(sock.as_raw_fd(), 1024) };
    check(rc.into(), step("listen on the proxy's listener"))?;
    Ok(sock)
}

/// Runs every op of `plan` in order; returns the proxy's listener when the
/// plan makes a network namespace (and `placeholders` is given: a probe
/// makes none).
pub fn enter(
    plan: &MountPlan,
    placeholders: Option<&HashMap<PathBuf, FileId>>,
) -> Result<Option<OwnedFd>> {
    let mut listener = None;
    let snapshots_needed = plan
        .ops
        .iter()
        .filter(|op| matches!(op, MountOp::Snapshot { .. }))
        .count();
    // Per writable root, its cloned tree and the object it was cloned from,
    // until the tree is attached back on top of that object: two fds per
    // snapshot, beside the plan's own. Where the hard limit has no room
    // for two (the soft limit is then raised to it, all there is), the
    // object is let go and looked up again when attached.
    let keep_places = crate::fdlimit::reserve(2 * snapshots_needed);
    let mut snapshots: HashMap<&PathBuf, (OwnedFd, Option<OwnedFd>)> = HashMap::new();
    // Where this plan has attached mounts so far. A root at or below one
    // of them is looked up again, to land on top of what is there now; any
    // other root's place is still the object its snapshot opened and
    // checked, so it needs no second look-up (10,000 roots: 10,000 fewer
    // path walks).
    let mut attached: HashSet<&Path> = HashSet::new();
    let recursive = libc::AT_RECURSIVE;
    for op in &plan.ops {
        match op {
            MountOp::Unshare {
                user,
                net,
                uid,
                gid,
            } => {
                unshare(*user, *net, *uid, *gid)?;
                if *net && placeholders.is_some() {
                    listener = Some(loopback_listener()?);
                }
            }
            MountOp::MakePrivate => {
                let rc = setattr(libc::AT_FDCWD, c"/", recursive, &attr(0, libc::MS_PRIVATE));
                check(rc, || "make every mount private".into())?;
            }
            MountOp::Snapshot { path, id, nodev } => {
                let at = open_checked(path, *id)?;
                let mut set = libc::MOUNT_ATTR_NOSUID;
                if *nodev {
                    set |= libc::MOUNT_ATTR_NODEV;
                }
                let tree = clone_tree_with(&at, path, set)?;
                snapshots.insert(path, (tree, keep_places.then_some(at)));
            }
            MountOp::ReadOnlyWorld => {
                let ro = attr(libc::MOUNT_ATTR_RDONLY, 0);
                let rc = setattr(libc::AT_FDCWD, c"/", recursive, &ro);
                check(rc, || "make every mount read-only".into())?;
            }
            MountOp::Dev(d) => {
                private_dev(d)?;
                attached.insert(Path::new("/dev"));
            }
            MountOp::BindRw { path, .. } => {
                let (tree, at) = snapshots.remove(path).ok_or_else(|| NsError {
                    step: format!("internal: no snapshot of {}", path.display()),
                    err: std::io::Error::from_raw_os_error(libc::EINVAL),
                })?;
                match at {
                    Some(at) if !path.ancestors().any(|a| attached.contains(a)) => {
                        attach(&tree, &at, path)?
                    }
                    // Opened again (no symlink on the way): the path now
                    // names the root in a mount attached since (a writable
                    // root above it, the private /dev), which is where the
                    // writable copy goes.
                    _ => attach(&tree, &open_path(path)?, path)?,
                }
                attached.insert(path);
            }
            MountOp::Pin(p) => {
                bind_self(p, None, false, false)?;
                attached.insert(p);
            }
            MountOp::BindRo { path, id } => {
                bind_self(path, *id, true, false)?;
                attached.insert(path);
            }
            MountOp::PinLink(p) => {
                bind_self(p, None, true, true)?;
                attached.insert(p);
            }
            MountOp::Placeholder(p) => {
                // None made: the caller may not create the name, so the
                // command may not either (`sentinel::uncreatable`).
                if let Some(id) = placeholders.and_then(|made| made.get(&p.path)) {
                    bind_self(&p.path, Some(*id), true, false)?;
                    attached.insert(&p.path);
                }
            }
            MountOp::Deny(d) => {
                deny(d)?;
                attached.insert(&d.path);
            }
            MountOp::Mask(p) => {
                mask(p)?;
                attached.insert(p);
            }
            MountOp::DropCaps => drop_caps()?,
        }
    }
    Ok(listener)
}

/// Tries `enter` in a throw-away child, so a host that lets `unshare`
/// succeed and then refuses the rest (Ubuntu's AppArmor userns restriction)
/// can be detected without leaving this process half set up. Used only with
/// `--best-effort`; costs one fork.
pub fn probe(plan: &MountPlan) -> std::result::Result<(), ProbeError> {
    let mut fds = [0; 2];
    // SAFETY: a pipe for the child's error message.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(ProbeError::Pipe(std::io::Error::last_os_error()));
    }
    // SAFETY: the two fds were just created.
    let (r, w) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    // SAFETY: cordon is single-threaded, so the child may allocate.
    match unsafe { libc::fork() } {
        -1 => Err(ProbeError::Fork(std::io::Error::last_os_error())),
        0 => {
            drop(r);
            // The namespace itself and one mount operation: a host that
            // refuses user namespaces (or, like Ubuntu's AppArmor rule,
            // allows the unshare and refuses what follows) fails here; the
            // rest of the setup costs one operation per root and would make
            // this probe as slow as the run.
            let light = MountPlan {
                ops: plan
                    .ops
                    .iter()
                    .take_while(|op| matches!(op, MountOp::Unshare { .. } | MountOp::MakePrivate))
                    .cloned()
                    .collect(),
                ..plan.clone()
            };
            let code = match enter(&light, None) {
                Ok(_) => 0,
                Err(e) => {
                    let msg = e.to_string();
                    // SAFETY: writing a buffer to our pipe end.
                    unsafe { libc::write(w.as_raw_fd(), msg.as_ptr().cast(), msg.len()) };
                    1
                }
            };
            // SAFETY: leave without running the parent's exit handlers.
            unsafe { libc::_exit(code) }
        }
        pid => {
            drop(w);
            let mut msg = String::new();
            let _ = std::io::Read::read_to_string(&mut std::fs::File::from(r), &mut msg);
            let mut status = 0;
            // SAFETY: waiting for our own child.
            unsafe { libc::waitpid(pid, &mut status, 0) };
            if libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0 {
                Ok(())
            } else if msg.is_empty() {
                Err(ProbeError::Silent)
            } else {
                Err(ProbeError::Child(msg))
            }
        }
    }
}
