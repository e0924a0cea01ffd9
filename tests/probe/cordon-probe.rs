//! `cordon-probe`: the integration tests' probe program.
//!
//! It performs exactly one operation and prints one JSON line on stdout:
//! `{"op":"write","ok":true}` or
//! `{"op":"write","ok":false,"errno":13,"error":"EACCES","step":"open"}`.
//! `step` names the failing syscall of operations made of several steps.
//! Exit code: 0 ok, 1 the operation failed with an errno, 2 usage error.
//!
//! Tests run it directly (control run) and under the sandbox and compare.
//! Syscalls go through `libc` so that the reported errno is exactly the
//! kernel's; every `unsafe` block is a plain FFI call on pointers to live
//! locals. `deny-syscall` is a wrapper that installs seccomp filters and execs
//! a command, to simulate hosts lacking a kernel feature.

use std::collections::BTreeMap;
use std::ffi::{CStr, CString, OsString};
use std::io::Write;
use std::net::IpAddr;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::ptr::{null, null_mut};
use std::time::{Duration, Instant};

use libc::{c_char, c_int, c_void, pid_t, sockaddr, socklen_t};
use seccompiler::{BpfProgram, SeccompAction, SeccompFilter, TargetArch};
use serde_json::{Value, json};

const USAGE: &str = "usage: cordon-probe OP ARGS...
ops: read PATH | write PATH [DATA] | create PATH | overwrite PATH | truncate PATH
     mkdir PATH | rmdir PATH | unlink PATH | rename FROM TO | link FROM TO
     symlink TARGET LINKPATH | chmod PATH OCTAL | chown PATH UID GID | utime PATH
     setxattr PATH | mknod PATH | mkfifo PATH | stat PATH | exec PATH [ARGS...]
     socket FAMILY TYPE [PROTO] | socket-nr FAMILY_HEX TYPE PROTO | connect-tcp HOST PORT | connect-udp HOST PORT
     bind-tcp HOST PORT | connect-unix PATH | connect-abstract NAME | socketpair
     kill PID SIG | kill-child | io-uring-setup | unshare-user | unshare-mount
     unshare-net | mount-tmpfs PATH | mount-setattr-rw PATH | chroot PATH | pivot-root NEW OLD
     ptrace-attach PID | process-vm-readv PID ADDR_HEX | open-by-handle PATH [MOUNTDIR]
     tiocsti | tioclinux [TTY] | ioctl-stdin CMD_HEX | list-fds | env NAME | getuid
     sleep SECONDS | read-at PATH OFFSET_HEX | create-at DIRFD NAME | pidfd-kill PID SIG
     fchmod FD OCTAL | fchown FD UID GID | fchmodat DIRFD NAME OCTAL | open PATH r|w|rw
     setns PATH | clone-user | clone3 | thread | io-uring-enter | reboot-bad-magic
     sethostname-same | finit-module PATH | keyctl-session
     listen-tcp HOST PORT SECONDS | listen-unix PATH SECONDS | listen-abstract NAME SECONDS
     deny-syscall NAME=ERRNO[,NAME=ERRNO...] -- CMD [ARGS...]";

/// Builds a `(value, "NAME")` table from libc constant names.
macro_rules! named {
    ($($name:ident),* $(,)?) => { &[$((libc::$name as _, stringify!($name))),*] };
}

/// Linux errno numbers and their names; the first name for a number is the
/// one printed, later ones (aliases) are accepted by `deny-syscall`.
const ERRNOS: &[(i32, &str)] = named! {
    EPERM, ENOENT, ESRCH, EINTR, EIO, ENXIO, E2BIG, ENOEXEC, EBADF, ECHILD, EAGAIN, ENOMEM,
    EACCES, EFAULT, EBUSY, EEXIST, EXDEV, ENODEV, ENOTDIR, EISDIR, EINVAL, ENFILE, EMFILE,
    ENOTTY, ETXTBSY, EFBIG, ENOSPC, ESPIPE, EROFS, EMLINK, EPIPE, ERANGE, ENAMETOOLONG, ENOSYS,
    ENOTEMPTY, ELOOP, ENODATA, EOVERFLOW, ENOTSOCK, EPROTOTYPE, ENOPROTOOPT, EPROTONOSUPPORT,
    ESOCKTNOSUPPORT, EOPNOTSUPP, EAFNOSUPPORT, EADDRINUSE, EADDRNOTAVAIL, ENETUNREACH,
    ECONNRESET, EISCONN, ENOTCONN, ETIMEDOUT, ECONNREFUSED, EHOSTUNREACH, EALREADY,
    EINPROGRESS, ESTALE, ECANCELED, ENOTSUP, EWOULDBLOCK,
};

/// Syscalls `deny-syscall` knows, by `SYS_` name (numbers of the build target).
const SYSCALLS: &[(i64, &str)] = named! {
    SYS_landlock_create_ruleset, SYS_landlock_add_rule, SYS_landlock_restrict_self,
    SYS_unshare, SYS_setns, SYS_clone, SYS_clone3, SYS_seccomp, SYS_prctl, SYS_mount,
    SYS_umount2, SYS_mount_setattr, SYS_open_tree, SYS_move_mount, SYS_fsopen, SYS_fsconfig,
    SYS_fsmount, SYS_pivot_root, SYS_chroot, SYS_io_uring_setup, SYS_ptrace,
    SYS_process_vm_readv, SYS_name_to_handle_at, SYS_open_by_handle_at,
};

/// Why an operation did not succeed.
enum Fail {
    /// A syscall failed: its errno and, for multi-step ops, the step name.
    Sys(i32, Option<&'static str>),
    /// Bad command line: message for stderr, exit 2.
    Usage(String),
}

/// Extra JSON fields of a successful operation, printed in this order.
type Fields = Vec<(&'static str, Value)>;
type Outcome = Result<Fields, Fail>;

fn usage<T>(msg: impl Into<String>) -> Result<T, Fail> {
    Err(Fail::Usage(msg.into()))
}

fn last_errno() -> i32 {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

fn errno_name(errno: i32) -> String {
    match ERRNOS.iter().find(|(n, _)| *n == errno) {
        Some((_, name)) => name.to_string(),
        None => format!("E{errno}"),
    }
}

fn parse_errno(name: &str) -> Option<i32> {
    let known = ERRNOS.iter().find(|(_, n)| *n == name);
    known.map(|(e, _)| *e).or_else(|| name.parse().ok())
}

/// Return values of syscalls: negative means failure (errno is set).
trait Ret: Copy {
    fn failed(self) -> bool;
}
macro_rules! impl_ret {
    ($($t:ty),*) => { $(impl Ret for $t { fn failed(self) -> bool { self < 0 } })* };
}
impl_ret!(i32, i64, isize);

/// Checks the return value of the only syscall of an operation.
fn sys<T: Ret>(ret: T) -> Result<T, Fail> {
    if ret.failed() {
        Err(Fail::Sys(last_errno(), None))
    } else {
        Ok(ret)
    }
}

/// Checks the return value of one step of a multi-step operation.
fn step<T: Ret>(name: &'static str, ret: T) -> Result<T, Fail> {
    if ret.failed() {
        Err(Fail::Sys(last_errno(), Some(name)))
    } else {
        Ok(ret)
    }
}

/// Takes ownership of a new file descriptor (closed on drop).
fn owned(fd: RawFd) -> OwnedFd {
    // SAFETY: the kernel just returned this descriptor and nothing else owns it.
    unsafe { OwnedFd::from_raw_fd(fd) }
}

fn iovec(base: *mut u8, len: usize) -> libc::iovec {
    libc::iovec {
        iov_base: base.cast(),
        iov_len: len,
    }
}

/// The operation name and its operands.
struct Args {
    op: String,
    rest: Vec<OsString>,
}

impl Args {
    /// Requires between `min` and `max` operands.
    fn count(&self, min: usize, max: usize) -> Result<(), Fail> {
        let n = self.rest.len();
        if n < min || n > max {
            return usage(format!("{}: wrong number of arguments ({n})", self.op));
        }
        Ok(())
    }

    fn bytes(&self, i: usize) -> &[u8] {
        self.rest.get(i).map(|s| s.as_bytes()).unwrap_or_default()
    }

    fn cstr(&self, i: usize) -> Result<CString, Fail> {
        let msg = || format!("{}: argument {} contains NUL", self.op, i + 1);
        CString::new(self.bytes(i)).or_else(|_| usage(msg()))
    }

    /// Operands `from..` as C strings, plus the NULL-terminated pointer array.
    fn argv(&self, from: usize) -> Result<(Vec<CString>, Vec<*const c_char>), Fail> {
        let strings = (from..self.rest.len()).map(|i| self.cstr(i));
        let strings: Vec<CString> = strings.collect::<Result<_, _>>()?;
        let mut ptrs: Vec<*const c_char> = strings.iter().map(|s| s.as_ptr()).collect();
        ptrs.push(null());
        Ok((strings, ptrs))
    }

    fn text(&self, i: usize) -> Result<&str, Fail> {
        let msg = || format!("{}: argument {} is not UTF-8", self.op, i + 1);
        std::str::from_utf8(self.bytes(i)).or_else(|_| usage(msg()))
    }

    fn num<T: std::str::FromStr>(&self, i: usize, what: &str) -> Result<T, Fail> {
        let s = self.text(i)?;
        s.parse()
            .or_else(|_| usage(format!("{}: bad {what}: {s:?}", self.op)))
    }

    fn seconds(&self, i: usize) -> Result<Duration, Fail> {
        let s: f64 = self.num(i, "SECONDS")?;
        Duration::try_from_secs_f64(s).or_else(|_| usage(format!("{}: bad SECONDS", self.op)))
    }
}

pub fn main() {
    let mut argv = std::env::args_os().skip(1);
    let Some(op) = argv.next() else {
        eprintln!("{USAGE}");
        std::process::exit(2);
    };
    let op = op.to_string_lossy().into_owned();
    let args = Args {
        op,
        rest: argv.collect(),
    };
    let outcome = run(&args);
    std::process::exit(report(&args.op, outcome));
}

/// Prints the JSON line for `outcome` and returns the exit code.
fn report(op: &str, outcome: Outcome) -> i32 {
    let mut line = format!("{{\"op\":{}", json!(op));
    let (fields, code) = match outcome {
        Ok(fields) => {
            line.push_str(",\"ok\":true");
            (fields, 0)
        }
        Err(Fail::Sys(errno, step)) => {
            line.push_str(",\"ok\":false");
            let mut fields = vec![("errno", json!(errno)), ("error", json!(errno_name(errno)))];
            fields.extend(step.map(|s| ("step", json!(s))));
            (fields, 1)
        }
        Err(Fail::Usage(msg)) => {
            eprintln!("cordon-probe: {msg}\n{USAGE}");
            return 2;
        }
    };
    for (key, value) in fields {
        line.push_str(&format!(",{}:{}", json!(key), value));
    }
    let mut out = std::io::stdout().lock();
    // Nothing sensible to do if stdout is gone; the exit code still tells.
    let _ = writeln!(out, "{line}}}");
    let _ = out.flush();
    code
}

fn run(a: &Args) -> Outcome {
    match a.op.as_str() {
        "read" => op_read(a),
        "write" => {
            a.count(1, 2)?;
            let data = a.rest.get(1).map_or(&b"x\n"[..], |d| d.as_bytes());
            open_and_write(a, libc::O_WRONLY | libc::O_CREAT | libc::O_APPEND, data)
        }
        "overwrite" => {
            a.count(1, 1)?;
            open_and_write(a, libc::O_WRONLY | libc::O_TRUNC, b"x\n")
        }
        "create" => path_op(a, |p| {
            let flags = libc::O_WRONLY | libc::O_CREAT | libc::O_EXCL | libc::O_CLOEXEC;
            let fd = unsafe { libc::open(p, flags, 0o644) };
            if fd >= 0 {
                drop(owned(fd));
            }
            fd
        }),
        "truncate" => path_op(a, |p| unsafe { libc::truncate(p, 0) }),
        "mkdir" => path_op(a, |p| unsafe { libc::mkdir(p, 0o755) }),
        "rmdir" => path_op(a, |p| unsafe { libc::rmdir(p) }),
        "unlink" => path_op(a, |p| unsafe { libc::unlink(p) }),
        "mkfifo" => path_op(a, |p| unsafe { libc::mkfifo(p, 0o644) }),
        "mknod" => path_op(a, |p| {
            let dev = libc::makedev(1, 3);
            unsafe { libc::mknod(p, libc::S_IFCHR | 0o600, dev) }
        }),
        "setxattr" => path_op(a, |p| {
            let (name, value) = (c"user.cordon", b"x");
            unsafe { libc::setxattr(p, name.as_ptr(), value.as_ptr().cast(), 1, 0) }
        }),
        "utime" => path_op(a, |p| {
            let epoch: libc::timespec = unsafe { std::mem::zeroed() }; // 0 s, 0 ns
            unsafe { libc::utimensat(libc::AT_FDCWD, p, [epoch, epoch].as_ptr(), 0) }
        }),
        "chroot" => path_op(a, |p| unsafe { libc::chroot(p) }),
        "rename" => two_path_op(a, |x, y| unsafe { libc::rename(x, y) }),
        "link" => two_path_op(a, |x, y| unsafe { libc::link(x, y) }),
        "symlink" => two_path_op(a, |x, y| unsafe { libc::symlink(x, y) }),
        "pivot-root" => two_path_op(a, |x, y| {
            // Raw syscall: glibc has no wrapper.
            (unsafe { libc::syscall(libc::SYS_pivot_root, x, y) }) as c_int
        }),
        "chmod" => {
            a.count(2, 2)?;
            let p = a.cstr(0)?;
            let mode = octal(a, 1)?;
            sys(unsafe { libc::chmod(p.as_ptr(), mode) })?;
            Ok(vec![])
        }
        "chown" => {
            a.count(3, 3)?;
            let p = a.cstr(0)?;
            let (uid, gid) = (id_arg(a, 1)?, id_arg(a, 2)?);
            sys(unsafe { libc::chown(p.as_ptr(), uid, gid) })?;
            Ok(vec![])
        }
        "stat" => op_stat(a),
        "exec" => {
            if a.rest.is_empty() {
                return usage("exec: missing PATH");
            }
            let (_strings, argv) = a.argv(0)?;
            // Only returns on failure.
            sys(unsafe { libc::execv(argv[0], argv.as_ptr()) })?;
            Ok(vec![])
        }
        "socket" => op_socket(a),
        "socket-nr" => {
            // socket(2) with all 64 bits of FAMILY as given (the kernel reads
            // an int): a filter must compare the low 32 bits only.
            a.count(3, 3)?;
            let hex = a.text(0)?;
            let bad = || usage(format!("socket-nr: bad FAMILY_HEX {hex:?}"));
            let family =
                u64::from_str_radix(hex.trim_start_matches("0x"), 16).or_else(|_| bad())?;
            let (kind, proto): (u64, u64) = (a.num(1, "TYPE")?, a.num(2, "PROTO")?);
            let fd = sys(unsafe { libc::syscall(libc::SYS_socket, family, kind, proto) })?;
            drop(owned(fd as RawFd));
            Ok(vec![])
        }
        "connect-tcp" | "connect-udp" | "bind-tcp" | "listen-tcp" => op_inet(a),
        "connect-unix" | "connect-abstract" | "listen-unix" | "listen-abstract" => op_unix(a),
        "socketpair" => op_socketpair(a),
        "kill" => {
            a.count(2, 2)?;
            let pid: pid_t = a.num(0, "PID")?;
            let sig: c_int = a.num(1, "SIG")?;
            sys(unsafe { libc::kill(pid, sig) })?;
            Ok(vec![])
        }
        "kill-child" => op_kill_child(a),
        "io-uring-setup" => no_arg_op(a, || {
            let mut params = [0u64; 15]; // struct io_uring_params: 120 bytes, zeroed
            let fd = unsafe { libc::syscall(libc::SYS_io_uring_setup, 4, params.as_mut_ptr()) };
            if fd >= 0 {
                drop(owned(fd as RawFd));
            }
            fd as c_int
        }),
        "unshare-user" => no_arg_op(a, || unsafe { libc::unshare(libc::CLONE_NEWUSER) }),
        "unshare-mount" => no_arg_op(a, || unsafe { libc::unshare(libc::CLONE_NEWNS) }),
        "unshare-net" => no_arg_op(a, || unsafe { libc::unshare(libc::CLONE_NEWNET) }),
        "tiocsti" => no_arg_op(a, || {
            let c = b'x' as c_char;
            unsafe { libc::ioctl(0, libc::TIOCSTI, &c) }
        }),
        "tioclinux" => op_tioclinux(a),
        "ioctl-stdin" => {
            // ioctl(0, CMD, &byte) with all 64 bits of CMD as given: the
            // kernel reads the command as 32 bits, so a filter comparing
            // more than those would miss 0x1_0000_5412 (TIOCSTI).
            a.count(1, 1)?;
            let hex = a.text(0)?;
            let bad = || usage(format!("ioctl-stdin: bad CMD_HEX {hex:?}"));
            let cmd = u64::from_str_radix(hex.trim_start_matches("0x"), 16).or_else(|_| bad())?;
            let c = b'x';
            sys(unsafe { libc::syscall(libc::SYS_ioctl, 0, cmd, &c) })?;
            Ok(vec![])
        }
        "read-at" => op_read_at(a),
        "keyctl-session" => {
            // keyctl(KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0):
            // the caller's session keyring, shared with the whole session.
            a.count(0, 0)?;
            let id = sys(unsafe { libc::syscall(libc::SYS_keyctl, 0, -3, 0) })?;
            Ok(vec![("id", json!(id))])
        }
        // Host-wide powers of root's capabilities, each tried so that it
        // changes nothing even when allowed.
        "reboot-bad-magic" => no_arg_op(a, || {
            // The capability is checked before the magic numbers: EPERM
            // without CAP_SYS_BOOT, EINVAL with it. Raw: glibc's reboot()
            // fills in the right magic.
            (unsafe { libc::syscall(libc::SYS_reboot, 0, 0, 0, null::<c_void>()) }) as c_int
        }),
        "sethostname-same" => no_arg_op(a, || {
            let mut name = [0u8; 256];
            if unsafe { libc::gethostname(name.as_mut_ptr().cast(), name.len()) } != 0 {
                return -1;
            }
            let len = name.iter().position(|b| *b == 0).unwrap_or(name.len());
            unsafe { libc::sethostname(name.as_ptr().cast(), len) }
        }),
        "finit-module" => {
            // With CAP_SYS_MODULE the kernel reads PATH as a module (an
            // empty or non-module file is refused: ENOEXEC/EINVAL);
            // without it, EPERM first.
            a.count(1, 1)?;
            let p = a.cstr(0)?;
            let fd = owned(step("open", unsafe {
                libc::open(p.as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC)
            })?);
            step("finit_module", unsafe {
                libc::syscall(libc::SYS_finit_module, fd.as_raw_fd(), c"".as_ptr(), 0)
            })?;
            Ok(vec![])
        }
        "fchmod" => {
            a.count(2, 2)?;
            let fd: RawFd = a.num(0, "FD")?;
            let mode = octal(a, 1)?;
            sys(unsafe { libc::fchmod(fd, mode) })?;
            Ok(vec![])
        }
        "fchown" => {
            a.count(3, 3)?;
            let fd: RawFd = a.num(0, "FD")?;
            let (uid, gid) = (id_arg(a, 1)?, id_arg(a, 2)?);
            sys(unsafe { libc::fchown(fd, uid, gid) })?;
            Ok(vec![])
        }
        "fchmodat" => {
            a.count(3, 3)?;
            let dirfd: RawFd = a.num(0, "DIRFD")?;
            let name = a.cstr(1)?;
            let mode = octal(a, 2)?;
            sys(unsafe { libc::fchmodat(dirfd, name.as_ptr(), mode, 0) })?;
            Ok(vec![])
        }
        "open" => {
            // A terminal is opened the way an attacker would: without
            // becoming its controlling terminal, without blocking.
            a.count(2, 2)?;
            let p = a.cstr(0)?;
            let mode = match a.text(1)? {
                "r" => libc::O_RDONLY,
                "w" => libc::O_WRONLY,
                "rw" => libc::O_RDWR,
                m => return usage(format!("open: MODE must be r, w or rw, not {m:?}")),
            };
            let flags = mode | libc::O_NOCTTY | libc::O_NONBLOCK | libc::O_CLOEXEC;
            drop(owned(sys(unsafe { libc::open(p.as_ptr(), flags) })?));
            Ok(vec![])
        }
        "create-at" => {
            a.count(2, 2)?;
            let dirfd: RawFd = a.num(0, "DIRFD")?;
            let name = a.cstr(1)?;
            let flags = libc::O_WRONLY | libc::O_CREAT | libc::O_EXCL | libc::O_CLOEXEC;
            let fd = sys(unsafe { libc::openat(dirfd, name.as_ptr(), flags, 0o644) })?;
            drop(owned(fd));
            Ok(vec![])
        }
        "pidfd-kill" => {
            a.count(2, 2)?;
            let pid: pid_t = a.num(0, "PID")?;
            let sig: c_int = a.num(1, "SIG")?;
            // Raw syscalls: the pidfd calls have no libc wrapper here.
            let fd = step("pidfd_open", unsafe {
                libc::syscall(libc::SYS_pidfd_open, pid, 0)
            })?;
            let fd = owned(fd as RawFd);
            step("pidfd_send_signal", unsafe {
                libc::syscall(
                    libc::SYS_pidfd_send_signal,
                    fd.as_raw_fd(),
                    sig,
                    null::<c_void>(),
                    0,
                )
            })?;
            Ok(vec![])
        }
        "setns" => {
            a.count(1, 1)?;
            let p = a.cstr(0)?;
            let fd = step("open", unsafe {
                libc::open(p.as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC)
            })?;
            let fd = owned(fd);
            step("setns", unsafe { libc::setns(fd.as_raw_fd(), 0) })?;
            Ok(vec![])
        }
        "clone-user" => no_arg_op(a, || {
            // Raw clone(2), as a program would call it to get a nested user
            // namespace without unshare; the child exits at once.
            let flags = (libc::CLONE_NEWUSER | libc::SIGCHLD) as libc::c_ulong;
            let none = null_mut::<c_void>();
            let pid = unsafe { libc::syscall(libc::SYS_clone, flags, none, none, none, 0) };
            reap(pid)
        }),
        "clone3" => no_arg_op(a, || {
            // clone3 with no flags: a plain fork through the new entry point.
            #[repr(C)]
            struct CloneArgs {
                flags: u64,
                pidfd: u64,
                child_tid: u64,
                parent_tid: u64,
                exit_signal: u64,
                stack: u64,
                stack_size: u64,
                tls: u64,
            }
            let args = CloneArgs {
                flags: 0,
                pidfd: 0,
                child_tid: 0,
                parent_tid: 0,
                exit_signal: libc::SIGCHLD as u64,
                stack: 0,
                stack_size: 0,
                tls: 0,
            };
            let size = std::mem::size_of::<CloneArgs>();
            let pid = unsafe { libc::syscall(libc::SYS_clone3, &args, size) };
            reap(pid)
        }),
        "thread" => {
            a.count(0, 0)?;
            // std::thread goes through pthread_create, which tries clone3
            // first and falls back to clone.
            match std::thread::spawn(|| 42).join() {
                Ok(42) => Ok(vec![]),
                _ => Err(Fail::Sys(libc::EIO, Some("join"))),
            }
        }
        "io-uring-enter" => no_arg_op(a, || {
            // On no ring at all (fd -1): EBADF from the kernel, or the
            // filter's errno before the kernel looks.
            let none = null::<c_void>();
            (unsafe { libc::syscall(libc::SYS_io_uring_enter, -1, 0, 0, 0, none, 0) }) as c_int
        }),
        "mount-tmpfs" => {
            a.count(1, 1)?;
            let p = a.cstr(0)?;
            let (src, fstype) = (c"none".as_ptr(), c"tmpfs".as_ptr());
            sys(unsafe { libc::mount(src, p.as_ptr(), fstype, 0, null()) })?;
            // Do not leave a mount behind on the host in control runs.
            let unmounted = unsafe { libc::umount2(p.as_ptr(), libc::MNT_DETACH) } == 0;
            Ok(vec![("unmounted", json!(unmounted))])
        }
        "mount-setattr-rw" => path_op(a, |p| {
            // Clears the read-only flag of the mounts at PATH, recursively:
            // what would undo cordon's read-only world. Raw syscall: no
            // wrapper exists. Only ever run it in a private namespace.
            let attr = libc::mount_attr {
                attr_set: 0,
                attr_clr: libc::MOUNT_ATTR_RDONLY,
                propagation: 0,
                userns_fd: 0,
            };
            let size = std::mem::size_of::<libc::mount_attr>();
            let flags = libc::AT_RECURSIVE;
            (unsafe {
                libc::syscall(
                    libc::SYS_mount_setattr,
                    libc::AT_FDCWD,
                    p,
                    flags,
                    &attr,
                    size,
                )
            }) as c_int
        }),
        "ptrace-attach" => {
            a.count(1, 1)?;
            let pid: pid_t = a.num(0, "PID")?;
            let none = null_mut::<c_void>();
            sys(unsafe { libc::ptrace(libc::PTRACE_ATTACH, pid, none, none) })?;
            // Wait for the attach stop, then let the tracee go.
            unsafe { libc::waitpid(pid, null_mut(), libc::__WALL) };
            let detached = unsafe { libc::ptrace(libc::PTRACE_DETACH, pid, none, none) } == 0;
            Ok(vec![("detached", json!(detached))])
        }
        "process-vm-readv" => op_process_vm_readv(a),
        "open-by-handle" => op_open_by_handle(a),
        "list-fds" => op_list_fds(a),
        "env" => {
            a.count(1, 1)?;
            let raw = std::env::var_os(&a.rest[0]);
            let value = raw.as_ref().map(|v| v.to_string_lossy().into_owned());
            // The exact bytes too: a non-UTF-8 value must arrive unchanged.
            let hex = raw.map(|v| {
                v.as_bytes()
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect::<String>()
            });
            Ok(vec![("value", json!(value)), ("hex", json!(hex))])
        }
        "getuid" => {
            a.count(0, 0)?;
            let (uid, gid) = unsafe { (libc::getuid(), libc::getgid()) };
            let (euid, egid) = unsafe { (libc::geteuid(), libc::getegid()) };
            let ids = [("uid", uid), ("gid", gid), ("euid", euid), ("egid", egid)];
            Ok(ids.into_iter().map(|(k, v)| (k, json!(v))).collect())
        }
        "sleep" => {
            a.count(1, 1)?;
            let duration = a.seconds(0)?;
            // Announce first (with our pid) so tests know whom to signal.
            report(&a.op, Ok(vec![("pid", json!(std::process::id()))]));
            std::thread::sleep(duration);
            std::process::exit(0);
        }
        "deny-syscall" => op_deny_syscall(a),
        _ => usage(format!("unknown operation {:?}", a.op)),
    }
}

/// In the child of a raw clone (`pid == 0`): exit at once. In the parent:
/// wait for it. Returns the clone's result for `sys`.
fn reap(pid: libc::c_long) -> c_int {
    if pid == 0 {
        unsafe { libc::_exit(0) };
    }
    if pid > 0 {
        unsafe { libc::waitpid(pid as pid_t, null_mut(), 0) };
        return 0;
    }
    -1
}

/// tioclinux [TTY]: TIOCLINUX subcode 6 (read the shift state: harmless) on
/// stdin or on TTY (a virtual console, where the kernel answers it).
fn op_tioclinux(a: &Args) -> Outcome {
    a.count(0, 1)?;
    let fd = if a.rest.is_empty() {
        None
    } else {
        let p = a.cstr(0)?;
        let flags = libc::O_RDONLY | libc::O_NOCTTY | libc::O_CLOEXEC;
        Some(owned(step("open", unsafe {
            libc::open(p.as_ptr(), flags)
        })?))
    };
    let raw = fd.as_ref().map_or(0, |f| f.as_raw_fd());
    let mut subcode: u8 = 6;
    step("ioctl", unsafe {
        libc::ioctl(raw, libc::TIOCLINUX, &mut subcode)
    })?;
    Ok(vec![])
}

/// read-at PATH OFFSET_HEX: 8 bytes at an offset (an address, for
/// /proc/PID/mem), printed in hex.
fn op_read_at(a: &Args) -> Outcome {
    a.count(2, 2)?;
    let p = a.cstr(0)?;
    let hex = a.text(1)?;
    let bad = || usage(format!("read-at: bad OFFSET_HEX {hex:?}"));
    let offset = i64::from_str_radix(hex.trim_start_matches("0x"), 16).or_else(|_| bad())?;
    let fd = owned(step("open", unsafe {
        libc::open(p.as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC)
    })?);
    let mut buf = [0u8; 8];
    let n = unsafe { libc::pread(fd.as_raw_fd(), buf.as_mut_ptr().cast(), 8, offset) };
    let n = step("pread", n)? as usize;
    let data: String = buf[..n].iter().map(|b| format!("{b:02x}")).collect();
    Ok(vec![("data", json!(data))])
}

fn no_arg_op(a: &Args, f: impl FnOnce() -> c_int) -> Outcome {
    a.count(0, 0)?;
    sys(f())?;
    Ok(vec![])
}

fn path_op(a: &Args, f: impl FnOnce(*const c_char) -> c_int) -> Outcome {
    a.count(1, 1)?;
    let p = a.cstr(0)?;
    sys(f(p.as_ptr()))?;
    Ok(vec![])
}

fn two_path_op(a: &Args, f: impl FnOnce(*const c_char, *const c_char) -> c_int) -> Outcome {
    a.count(2, 2)?;
    let (x, y) = (a.cstr(0)?, a.cstr(1)?);
    sys(f(x.as_ptr(), y.as_ptr()))?;
    Ok(vec![])
}

/// A uid/gid operand; -1 means "leave unchanged".
fn octal(a: &Args, i: usize) -> Result<libc::mode_t, Fail> {
    let text = a.text(i)?;
    let bad = || usage(format!("{}: bad octal mode {text:?}", a.op));
    libc::mode_t::from_str_radix(text, 8).or_else(|_| bad())
}

fn id_arg(a: &Args, i: usize) -> Result<u32, Fail> {
    match a.num::<i64>(i, "id")? {
        -1 => Ok(u32::MAX),
        v @ 0..=0xffff_fffe => Ok(v as u32),
        v => usage(format!("{}: id out of range: {v}", a.op)),
    }
}

fn op_read(a: &Args) -> Outcome {
    a.count(1, 1)?;
    let p = a.cstr(0)?;
    let fd = step("open", unsafe {
        libc::open(p.as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC)
    })?;
    let fd = owned(fd);
    let mut buf = vec![0u8; 4096];
    let n = unsafe { libc::read(fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
    buf.truncate(step("read", n)? as usize);
    Ok(vec![("data", json!(String::from_utf8_lossy(&buf)))])
}

fn open_and_write(a: &Args, flags: c_int, data: &[u8]) -> Outcome {
    let p = a.cstr(0)?;
    let fd = owned(step("open", unsafe {
        libc::open(p.as_ptr(), flags | libc::O_CLOEXEC, 0o644)
    })?);
    let n = unsafe { libc::write(fd.as_raw_fd(), data.as_ptr().cast(), data.len()) };
    Ok(vec![("written", json!(step("write", n)?))])
}

fn op_stat(a: &Args) -> Outcome {
    a.count(1, 1)?;
    let p = a.cstr(0)?;
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    sys(unsafe { libc::lstat(p.as_ptr(), &mut st) })?;
    let kind = match st.st_mode & libc::S_IFMT {
        libc::S_IFREG => "file",
        libc::S_IFDIR => "dir",
        libc::S_IFLNK => "symlink",
        libc::S_IFCHR => "char",
        libc::S_IFBLK => "block",
        libc::S_IFIFO => "fifo",
        libc::S_IFSOCK => "socket",
        _ => "unknown",
    };
    Ok(vec![
        ("type", json!(kind)),
        ("mode", json!(format!("{:o}", st.st_mode & 0o7777))),
        ("uid", json!(st.st_uid)),
        ("gid", json!(st.st_gid)),
        ("size", json!(st.st_size)),
        ("mtime", json!(st.st_mtime)),
    ])
}

fn op_socket(a: &Args) -> Outcome {
    a.count(2, 3)?;
    let family = match a.text(0)? {
        "inet" => libc::AF_INET,
        "inet6" => libc::AF_INET6,
        "unix" => libc::AF_UNIX,
        "netlink" => libc::AF_NETLINK,
        "packet" => libc::AF_PACKET,
        "vsock" => libc::AF_VSOCK,
        _ => return usage("socket: FAMILY must be inet, inet6, unix, netlink, packet or vsock"),
    };
    let kind = match a.text(1)? {
        "stream" => libc::SOCK_STREAM,
        "dgram" => libc::SOCK_DGRAM,
        "raw" => libc::SOCK_RAW,
        "seqpacket" => libc::SOCK_SEQPACKET,
        _ => return usage("socket: TYPE must be stream, dgram, raw or seqpacket"),
    };
    let proto_name = if a.rest.len() == 3 { a.text(2)? } else { "0" };
    let proto = match proto_name {
        "mptcp" => libc::IPPROTO_MPTCP,
        "tcp" => libc::IPPROTO_TCP,
        "udp" => libc::IPPROTO_UDP,
        "icmp" if family == libc::AF_INET6 => libc::IPPROTO_ICMPV6,
        "icmp" => libc::IPPROTO_ICMP,
        n => n
            .parse()
            .or_else(|_| usage(format!("socket: bad PROTO {n:?}")))?,
    };
    let fd = sys(unsafe { libc::socket(family, kind | libc::SOCK_CLOEXEC, proto) })?;
    drop(owned(fd));
    Ok(vec![])
}

/// Builds a sockaddr_in or sockaddr_in6 for `ip:port`.
fn inet_addr(ip: IpAddr, port: u16) -> (libc::sockaddr_storage, socklen_t) {
    let mut ss: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
    let len = match ip {
        IpAddr::V4(v4) => {
            let sin = unsafe { &mut *(&mut ss as *mut _ as *mut libc::sockaddr_in) };
            sin.sin_family = libc::AF_INET as libc::sa_family_t;
            sin.sin_port = port.to_be();
            sin.sin_addr.s_addr = u32::from(v4).to_be();
            size_of::<libc::sockaddr_in>()
        }
        IpAddr::V6(v6) => {
            let sin6 = unsafe { &mut *(&mut ss as *mut _ as *mut libc::sockaddr_in6) };
            sin6.sin6_family = libc::AF_INET6 as libc::sa_family_t;
            sin6.sin6_port = port.to_be();
            sin6.sin6_addr.s6_addr = v6.octets();
            size_of::<libc::sockaddr_in6>()
        }
    };
    (ss, len as socklen_t)
}

/// The local port a socket is bound to (0 if it cannot be read).
fn local_port(fd: &OwnedFd) -> u16 {
    let mut ss: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
    let mut len = size_of::<libc::sockaddr_storage>() as socklen_t;
    let addr = &mut ss as *mut _ as *mut sockaddr;
    if unsafe { libc::getsockname(fd.as_raw_fd(), addr, &mut len) } < 0 {
        return 0;
    }
    // sin_port and sin6_port sit at the same offset.
    u16::from_be(unsafe { (*(addr as *const libc::sockaddr_in)).sin_port })
}

/// connect-tcp, connect-udp and bind-tcp: HOST PORT; listen-tcp HOST PORT SECONDS.
fn op_inet(a: &Args) -> Outcome {
    let listen = a.op == "listen-tcp";
    a.count(2 + usize::from(listen), 2 + usize::from(listen))?;
    let ip: IpAddr = a.num(0, "HOST (an IP address)")?;
    let port: u16 = a.num(1, "PORT")?;
    let (ss, len) = inet_addr(ip, port);
    let family = c_int::from(ss.ss_family);
    let udp = a.op == "connect-udp";
    let kind = if udp {
        libc::SOCK_DGRAM
    } else {
        libc::SOCK_STREAM
    };
    let fd = owned(step("socket", unsafe {
        libc::socket(family, kind | libc::SOCK_CLOEXEC, 0)
    })?);
    let raw = fd.as_raw_fd();
    let addr = &ss as *const _ as *const sockaddr;
    if a.op.starts_with("connect") {
        step("connect", unsafe { libc::connect(raw, addr, len) })?;
        if udp {
            step("send", unsafe {
                libc::send(raw, b"x".as_ptr().cast(), 1, 0)
            })?;
        }
        return Ok(vec![]);
    }
    if listen {
        let one: c_int = 1;
        let (opt, size) = (&one as *const c_int, size_of::<c_int>() as socklen_t);
        let ret = unsafe {
            libc::setsockopt(raw, libc::SOL_SOCKET, libc::SO_REUSEADDR, opt.cast(), size)
        };
        step("setsockopt", ret)?;
    }
    step("bind", unsafe { libc::bind(raw, addr, len) })?;
    step("listen", unsafe { libc::listen(raw, 64) })?;
    let fields = vec![("port", json!(local_port(&fd)))];
    if listen {
        serve(a, &fd, fields, a.seconds(2)?);
    }
    Ok(fields)
}

/// connect-unix PATH, connect-abstract NAME; listen-unix PATH SECONDS,
/// listen-abstract NAME SECONDS. Abstract names get the leading NUL added.
fn op_unix(a: &Args) -> Outcome {
    let listen = a.op.starts_with("listen");
    a.count(1 + usize::from(listen), 1 + usize::from(listen))?;
    let name = a.bytes(0);
    let mut sun: libc::sockaddr_un = unsafe { std::mem::zeroed() };
    sun.sun_family = libc::AF_UNIX as libc::sa_family_t;
    // Abstract: NUL then the name; pathname: the name then its NUL.
    let start = usize::from(a.op.ends_with("abstract"));
    if name.contains(&0) || name.len() + 1 > sun.sun_path.len() {
        return usage(format!("{}: name contains NUL or is too long", a.op));
    }
    for (i, b) in name.iter().enumerate() {
        sun.sun_path[start + i] = *b as c_char;
    }
    let len = (std::mem::offset_of!(libc::sockaddr_un, sun_path) + name.len() + 1) as socklen_t;
    let ty = libc::SOCK_STREAM | libc::SOCK_CLOEXEC;
    let fd = owned(step("socket", unsafe {
        libc::socket(libc::AF_UNIX, ty, 0)
    })?);
    let (raw, addr) = (fd.as_raw_fd(), &sun as *const _ as *const sockaddr);
    if !listen {
        step("connect", unsafe { libc::connect(raw, addr, len) })?;
        return Ok(vec![]);
    }
    step("bind", unsafe { libc::bind(raw, addr, len) })?;
    step("listen", unsafe { libc::listen(raw, 64) })?;
    serve(a, &fd, vec![], a.seconds(1)?)
}

/// Control server: announces readiness (with the pid), accepts and closes
/// connections until `duration` has elapsed, then exits 0.
fn serve(a: &Args, fd: &OwnedFd, mut fields: Fields, duration: Duration) -> ! {
    fields.push(("pid", json!(std::process::id())));
    report(&a.op, Ok(fields));
    let deadline = Instant::now() + duration;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            std::process::exit(0);
        }
        let mut pfd = libc::pollfd {
            fd: fd.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        let ms = left.as_millis().clamp(1, i32::MAX as u128) as c_int;
        if unsafe { libc::poll(&mut pfd, 1, ms) } > 0 {
            let conn = unsafe { libc::accept4(pfd.fd, null_mut(), null_mut(), libc::SOCK_CLOEXEC) };
            if conn >= 0 {
                drop(owned(conn));
            }
        }
    }
}

fn op_socketpair(a: &Args) -> Outcome {
    a.count(0, 0)?;
    let mut fds = [0 as RawFd; 2];
    let ty = libc::SOCK_STREAM | libc::SOCK_CLOEXEC;
    step("socketpair", unsafe {
        libc::socketpair(libc::AF_UNIX, ty, 0, fds.as_mut_ptr())
    })?;
    let (left, right) = (owned(fds[0]), owned(fds[1]));
    let mut byte = *b"z";
    let mut iov = iovec(byte.as_mut_ptr(), 1);
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    step("sendmsg", unsafe {
        libc::sendmsg(left.as_raw_fd(), &msg, 0)
    })?;
    let mut got = [0u8; 1];
    let buf = got.as_mut_ptr().cast();
    let n = unsafe { libc::recvfrom(right.as_raw_fd(), buf, 1, 0, null_mut(), null_mut()) };
    if step("recvfrom", n)? != 1 || got != byte {
        // No syscall failed, but the byte did not come back: call it EIO.
        return Err(Fail::Sys(libc::EIO, Some("compare")));
    }
    Ok(vec![])
}

fn op_kill_child(a: &Args) -> Outcome {
    a.count(0, 0)?;
    let pid = step("fork", unsafe { libc::fork() })?;
    if pid == 0 {
        // Child: async-signal-safe calls only. Release stdio so nobody waits
        // on our pipes, die with the parent, and give up after 30 s anyway.
        unsafe {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            libc::close(0);
            libc::close(1);
            libc::close(2);
            libc::sleep(30);
            libc::_exit(0);
        }
    }
    step("kill", unsafe { libc::kill(pid, libc::SIGTERM) })?;
    let mut status = 0;
    step("waitpid", unsafe { libc::waitpid(pid, &mut status, 0) })?;
    let signal = libc::WIFSIGNALED(status).then(|| libc::WTERMSIG(status));
    Ok(vec![("pid", json!(pid)), ("signal", json!(signal))])
}

fn op_process_vm_readv(a: &Args) -> Outcome {
    a.count(2, 2)?;
    let pid: pid_t = a.num(0, "PID")?;
    let hex = a.text(1)?;
    let bad = || usage(format!("process-vm-readv: bad ADDR_HEX {hex:?}"));
    let addr = usize::from_str_radix(hex.trim_start_matches("0x"), 16).or_else(|_| bad())?;
    let mut buf = [0u8; 8];
    let local = iovec(buf.as_mut_ptr(), 8);
    let remote = iovec(addr as *mut u8, 8);
    let n = sys(unsafe { libc::process_vm_readv(pid, &local, 1, &remote, 1, 0) })?;
    let data: String = buf[..n as usize]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    Ok(vec![("data", json!(data))])
}

/// open-by-handle PATH [MOUNTDIR]: MOUNTDIR (default "/") must be on the same
/// filesystem as PATH for the handle to resolve.
fn op_open_by_handle(a: &Args) -> Outcome {
    /// struct file_handle with room for MAX_HANDLE_SZ bytes.
    #[repr(C)]
    struct Handle {
        bytes: u32,
        kind: c_int,
        data: [u8; 128],
    }
    a.count(1, 2)?;
    let p = a.cstr(0)?;
    let mount_dir = if a.rest.len() == 2 {
        a.cstr(1)?
    } else {
        c"/".to_owned()
    };
    let mut h: Handle = unsafe { std::mem::zeroed() };
    h.bytes = 128;
    let handle = &mut h as *mut Handle as *mut libc::file_handle;
    let mut mount_id = 0;
    let ret =
        unsafe { libc::name_to_handle_at(libc::AT_FDCWD, p.as_ptr(), handle, &mut mount_id, 0) };
    step("name_to_handle_at", ret)?;
    let flags = libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC;
    let mount_fd = owned(step("open_mount", unsafe {
        libc::open(mount_dir.as_ptr(), flags)
    })?);
    let flags = libc::O_RDONLY | libc::O_CLOEXEC;
    let fd = unsafe { libc::open_by_handle_at(mount_fd.as_raw_fd(), handle, flags) };
    drop(owned(step("open_by_handle_at", fd)?));
    Ok(vec![])
}

fn op_list_fds(a: &Args) -> Outcome {
    a.count(0, 0)?;
    let dir = unsafe { libc::opendir(c"/proc/self/fd".as_ptr()) };
    if dir.is_null() {
        return Err(Fail::Sys(last_errno(), None));
    }
    let own = unsafe { libc::dirfd(dir) };
    let mut fds = BTreeMap::new();
    loop {
        let ent = unsafe { libc::readdir(dir) };
        if ent.is_null() {
            break;
        }
        let name = unsafe { CStr::from_ptr((*ent).d_name.as_ptr()) };
        // Skips "." and "..", and the descriptor doing the listing.
        match name.to_string_lossy().parse::<RawFd>() {
            Ok(fd) if fd != own => {
                let mut buf = [0u8; 4096];
                let ptr = buf.as_mut_ptr().cast();
                let n = unsafe { libc::readlinkat(own, name.as_ptr(), ptr, buf.len()) };
                let target =
                    (n >= 0).then(|| String::from_utf8_lossy(&buf[..n as usize]).into_owned());
                fds.insert(fd, target);
            }
            _ => {}
        }
    }
    unsafe { libc::closedir(dir) };
    let list: Vec<Value> = fds
        .into_iter()
        .map(|(fd, t)| json!({"fd": fd, "target": t}))
        .collect();
    Ok(vec![("fds", json!(list))])
}

/// deny-syscall NAME=ERRNO[,...] -- CMD [ARGS...]: installs one seccomp
/// filter per errno value (unlisted syscalls allowed), then execvp CMD.
fn op_deny_syscall(a: &Args) -> Outcome {
    if a.rest.len() < 3 || a.bytes(1) != b"--" {
        return usage("deny-syscall: expected NAME=ERRNO[,NAME=ERRNO...] -- CMD [ARGS...]");
    }
    let mut by_errno: BTreeMap<i32, Vec<i64>> = BTreeMap::new();
    let mut seen = Vec::new();
    for item in a.text(0)?.split(',') {
        let Some((name, err)) = item.split_once('=') else {
            return usage(format!("deny-syscall: expected NAME=ERRNO, got {item:?}"));
        };
        let known = SYSCALLS
            .iter()
            .find(|(_, n)| n.strip_prefix("SYS_") == Some(name));
        let Some(&(nr, _)) = known else {
            return usage(format!("deny-syscall: unknown syscall {name:?}"));
        };
        let Some(errno) = parse_errno(err) else {
            return usage(format!("deny-syscall: unknown errno {err:?}"));
        };
        if seen.contains(&nr) {
            return usage(format!("deny-syscall: {name} listed twice"));
        }
        seen.push(nr);
        by_errno.entry(errno).or_default().push(nr);
    }
    let Ok(arch) = TargetArch::try_from(std::env::consts::ARCH) else {
        return usage("deny-syscall: unsupported architecture");
    };
    let mut programs = Vec::new();
    for (errno, nrs) in by_errno {
        let rules = nrs.iter().map(|nr| (*nr, vec![])).collect();
        let action = SeccompAction::Errno(errno as u32);
        let filter = SeccompFilter::new(rules, SeccompAction::Allow, action, arch);
        match filter.and_then(BpfProgram::try_from) {
            Ok(program) => programs.push((nrs.contains(&libc::SYS_seccomp), program)),
            Err(e) => return usage(format!("deny-syscall: cannot build filter: {e}")),
        }
    }
    // A filter denying seccomp(2) itself must be installed last.
    programs.sort_by_key(|(denies_seccomp, _)| *denies_seccomp);
    step("prctl", unsafe {
        libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
    })?;
    for (_, program) in &programs {
        if let Err(e) = seccompiler::apply_filter(program) {
            let errno = match e {
                seccompiler::Error::Seccomp(io) => io.raw_os_error(),
                _ => None,
            };
            return Err(Fail::Sys(errno.unwrap_or(libc::EINVAL), Some("seccomp")));
        }
    }
    let (_strings, argv) = a.argv(2)?;
    step("execvp", unsafe { libc::execvp(argv[0], argv.as_ptr()) })?;
    Ok(vec![])
}
