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
//! - landlock: one `landlock_add_rule` per root on that descriptor.
//!
//! cordon does more per root (the git planner reads the repository's
//! config, hooks and pointers), so its times can only be above these.
//! Mounts have no such floor here: their cost grows with the mount table
//! and with the order of the operations (binding each root and then its
//! `.git`, one by one onto the live tree, took 1.9 s for 10,000 roots on
//! the bench host, more than cordon's whole run), so for mounts `run`
//! minus `run --dry-run` is what the README quotes.

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
    println!(
        "{n} roots: plan {:.2} ms, landlock {:.2} ms",
        plan.as_secs_f64() * 1e3,
        landlock.as_secs_f64() * 1e3,
    );
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
