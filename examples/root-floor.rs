//! The least the kernel must do for N writable roots, each holding a `.git`
//! (the layout `bench/bench.sh scaling` makes), timed step by step on this
//! host: the floor under issue 19's "10,000 roots in 50 ms" goal.
//!
//!   cargo run --release --example root-floor -- DIR N
//!
//! DIR holds `r1` .. `rN`, each with a `.git` directory. The steps:
//! - plan: one `openat2(O_PATH, RESOLVE_NO_SYMLINKS)` per root (the
//!   descriptor a Landlock rule needs) and one `fstatat(fd, ".git")` (is
//!   the protected name there): two system calls, nothing else looked at;
//! - landlock: one `landlock_add_rule` per root on that descriptor;
//! - mounts: the read-only world with each root bound back writable, the
//!   least cordon's design does: a new mount namespace; per root one
//!   `openat2` in it and one `open_tree_attr` (a writable `nosuid,nodev`
//!   copy); one `mount_setattr` making everything read-only; per root one
//!   `move_mount` of the copy onto the descriptor (or, where the hard
//!   limit on open files leaves no room for two descriptors a root, onto a
//!   second `openat2`, as cordon does then).
//!
//! cordon does more per root (the git planner reads the repository's
//! config, hooks and pointers), so its times can only be above these.

use std::ffi::CString;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::time::Instant;

use landlock::{ABI, Access, AccessFs, PathBeneath, Ruleset, RulesetAttr, RulesetCreatedAttr};

fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(dir), Some(n)) = (
        args.next(),
        args.next().and_then(|n| n.parse::<usize>().ok()),
    ) else {
        eprintln!("usage: root-floor DIR N");
        std::process::exit(2);
    };
    let roots: Vec<PathBuf> = (1..=n)
        .map(|i| Path::new(&dir).join(format!("r{i}")))
        .collect();
    let paths: Vec<CString> = roots.iter().map(|r| cstr(r)).collect();

    let t = Instant::now();
    let mut fds = Vec::with_capacity(n);
    for p in &paths {
        let fd = openat2_path(p).unwrap_or_else(|e| die(p, e));
        fstatat_nofollow(fd.as_raw_fd(), c".git").unwrap_or_else(|e| die(p, e));
        fds.push(fd);
    }
    let plan = t.elapsed();

    let t = Instant::now();
    let all = AccessFs::from_all(ABI::V5);
    let mut rs = Ruleset::default()
        .handle_access(all)
        .and_then(|r| r.create())
        .unwrap_or_else(|e| panic!("landlock: {e}"));
    for fd in &fds {
        rs = rs
            .add_rule(PathBeneath::new(fd, all))
            .unwrap_or_else(|e| panic!("landlock: {e}"));
    }
    let landlock = t.elapsed();
    drop(fds);

    let t = Instant::now();
    let reopened = mounts(&paths).unwrap_or_else(|(p, e)| die(&p, e));
    let mounts = t.elapsed();
    println!(
        "{n} roots: plan {:.2} ms, landlock {:.2} ms, mounts {:.2} ms{}",
        plan.as_secs_f64() * 1e3,
        landlock.as_secs_f64() * 1e3,
        mounts.as_secs_f64() * 1e3,
        if reopened {
            " (roots looked up again: no room for two fds a root)"
        } else {
            ""
        },
    );
}

/// The read-only world with every root bound back writable, in a mount
/// namespace of this process only (it ends with the process). Says whether
/// the roots had to be looked up again to be attached.
fn mounts(paths: &[CString]) -> Result<bool, (CString, std::io::Error)> {
    let at = |what: &str, e| (CString::new(what).unwrap_or_default(), e);
    // SAFETY: plain syscalls on this single-threaded process.
    if unsafe { libc::unshare(libc::CLONE_NEWNS) } != 0
        && unsafe { libc::unshare(libc::CLONE_NEWUSER | libc::CLONE_NEWNS) } != 0
    {
        return Err(at("unshare", std::io::Error::last_os_error()));
    }
    setattr_root(0, libc::MS_PRIVATE).map_err(|e| at("/ (private)", e))?;
    let keep = raise_nofile(2 * paths.len() + 64);
    let mut copies = Vec::with_capacity(paths.len());
    for p in paths {
        let place = openat2_path(p).map_err(|e| (p.clone(), e))?;
        let attrs = libc::MOUNT_ATTR_NOSUID | libc::MOUNT_ATTR_NODEV;
        let copy = open_tree_attr(&place, attrs).map_err(|e| (p.clone(), e))?;
        copies.push((copy, keep.then_some(place)));
    }
    setattr_root(libc::MOUNT_ATTR_RDONLY, 0).map_err(|e| at("/ (read-only)", e))?;
    for ((copy, place), p) in copies.into_iter().zip(paths) {
        let place = match place {
            Some(fd) => fd,
            None => openat2_path(p).map_err(|e| (p.clone(), e))?,
        };
        let flags = libc::MOVE_MOUNT_F_EMPTY_PATH | libc::MOVE_MOUNT_T_EMPTY_PATH;
        // SAFETY: empty paths relative to valid descriptors.
        let rc = unsafe {
            libc::syscall(
                libc::SYS_move_mount,
                copy.as_raw_fd(),
                c"".as_ptr(),
                place.as_raw_fd(),
                c"".as_ptr(),
                flags,
            )
        };
        last(rc, ()).map_err(|e| (p.clone(), e))?;
    }
    Ok(!keep)
}

/// Raises the soft limit on open files to `want` if the hard limit allows.
fn raise_nofile(want: usize) -> bool {
    // SAFETY: rlimit is plain data, filled by the kernel.
    let mut lim: libc::rlimit = unsafe { std::mem::zeroed() };
    // SAFETY: valid out pointer.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } != 0 {
        return false;
    }
    let want = want as libc::rlim_t;
    if lim.rlim_max < want {
        return false;
    }
    lim.rlim_cur = lim.rlim_cur.max(want);
    // SAFETY: valid rlimit.
    unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &lim) == 0 }
}

fn setattr_root(set: u64, propagation: u64) -> std::io::Result<()> {
    let attr = libc::mount_attr {
        attr_set: set,
        attr_clr: 0,
        propagation,
        userns_fd: 0,
    };
    // SAFETY: valid path and mount_attr of the size passed.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_mount_setattr,
            libc::AT_FDCWD,
            c"/".as_ptr(),
            libc::AT_RECURSIVE,
            &attr,
            std::mem::size_of::<libc::mount_attr>(),
        )
    };
    last(rc, ())
}

/// `open_tree_attr(2)` (Linux 6.15; libc has no number for it): a detached
/// recursive copy of the mounts at `fd` with `set` added.
fn open_tree_attr(fd: &OwnedFd, set: u64) -> std::io::Result<OwnedFd> {
    let attr = libc::mount_attr {
        attr_set: set,
        attr_clr: 0,
        propagation: 0,
        userns_fd: 0,
    };
    let flags = libc::OPEN_TREE_CLONE
        | libc::OPEN_TREE_CLOEXEC
        | (libc::AT_RECURSIVE | libc::AT_EMPTY_PATH) as u32;
    // SAFETY: empty path relative to a valid descriptor; mount_attr of the
    // size passed.
    let rc = unsafe {
        libc::syscall(
            467,
            fd.as_raw_fd(),
            c"".as_ptr(),
            flags,
            &attr,
            std::mem::size_of::<libc::mount_attr>(),
        )
    };
    // SAFETY: on success a fresh descriptor nobody else owns.
    last(rc, ()).map(|()| unsafe { OwnedFd::from_raw_fd(rc as RawFd) })
}

fn cstr(p: &Path) -> CString {
    CString::new(p.as_os_str().as_bytes()).unwrap_or_else(|_| die_msg(p, "has a NUL byte"))
}

fn die(p: &CString, e: std::io::Error) -> ! {
    eprintln!("root-floor: {}: {e}", p.to_string_lossy());
    std::process::exit(1);
}

fn die_msg(p: &Path, why: &str) -> ! {
    eprintln!("root-floor: {}: {why}", p.display());
    std::process::exit(1);
}

fn last<T>(rc: libc::c_long, ok: T) -> std::io::Result<T> {
    if rc < 0 {
        Err(std::io::Error::last_os_error())
    } else {
        Ok(ok)
    }
}

/// `openat2` with `RESOLVE_NO_SYMLINKS`, as cordon plans (no libc or nix
/// wrapper takes `RESOLVE_*`).
fn openat2_path(p: &CString) -> std::io::Result<OwnedFd> {
    // SAFETY: open_how is plain integers; all zero is its default.
    let mut how: libc::open_how = unsafe { std::mem::zeroed() };
    how.flags = (libc::O_PATH | libc::O_CLOEXEC) as u64;
    how.resolve = libc::RESOLVE_NO_SYMLINKS;
    // SAFETY: valid C string and open_how of the size passed.
    let fd = unsafe {
        libc::syscall(
            libc::SYS_openat2,
            libc::AT_FDCWD,
            p.as_ptr(),
            &how as *const libc::open_how,
            std::mem::size_of::<libc::open_how>(),
        )
    };
    // SAFETY: on success a fresh descriptor nobody else owns.
    last(fd, ()).map(|()| unsafe { OwnedFd::from_raw_fd(fd as RawFd) })
}

fn fstatat_nofollow(dir: RawFd, name: &std::ffi::CStr) -> std::io::Result<()> {
    // SAFETY: stat is plain data, written by the kernel.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: valid descriptor, C string and out pointer.
    let rc = unsafe { libc::fstatat(dir, name.as_ptr(), &mut st, libc::AT_SYMLINK_NOFOLLOW) };
    last(rc.into(), ())
}
