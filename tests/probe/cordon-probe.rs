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
     bind-tcp HOST PORT | sendto-fastopen HOST PORT | connect-unix PATH | connect-abstract NAME | socketpair
     kill PID SIG | kill-child | io-uring-setup | unshare-user | unshare-mount
     unshare-net | mount-tmpfs PATH | mount-setattr-rw PATH | open-tree-attr PATH | chroot PATH | pivot-root NEW OLD
     ptrace-attach PID | process-vm-readv PID ADDR_HEX | open-by-handle PATH [MOUNTDIR]
     tiocsti | tioclinux [TTY] | ioctl-stdin CMD_HEX | list-fds | env NAME | getuid
     sleep SECONDS | read-at PATH OFFSET_HEX | create-at DIRFD NAME | pidfd-kill PID SIG
     fchmod FD OCTAL | fchown FD UID GID | fchmodat DIRFD NAME OCTAL | open PATH r|w|rw
     setns PATH | clone-user | clone3 | thread | io-uring-enter | reboot-bad-magic
     sethostname-same | finit-module PATH | keyctl-session | socketpair FAMILY
     query PID | prlimit PID cpu|nofile SOFT HARD | setpriority process|pgrp|user WHO NICE
     sched-setaffinity PID CPU | sched-setscheduler PID other|batch|idle | sched-setparam PID
     sched-setattr PID NICE | ioprio-set process|pgrp|user WHO idle|be:N
     pthread-setaffinity CPU | thread-setaffinity CPU by-tid|self | pthread-create-affinity CPU
     migrate-pages PID | move-pages PID ADDR_HEX | process-madvise PID ADDR_HEX
     process-mrelease PID | pidfd-open PID | pidfd-getfd PID FD | kcmp PID | perf-open PID
     get-robust-list PID | tkill TID SIG | tgkill TGID TID SIG | sigqueue PID SIG
     tgsigqueue TGID TID SIG | setpgid PID PGID | waitid PID | sigio PID
     process-vm-writev PID ADDR_HEX DATA_HEX | ioctl PATH CMD_HEX
     listen-tcp HOST PORT SECONDS | listen-unix PATH SECONDS | listen-abstract NAME SECONDS
     shm-create | shm-attach ID | shm-remove ID | mq-create NAME | mq-open NAME | mq-unlink NAME
     setresuid-root
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
        "sendto-fastopen" => op_fastopen(a),
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
        "child-mem" => op_child_mem(a),
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
        "ioctl" => {
            // ioctl(fd, CMD, &buf) on PATH opened read-only, e.g. a device's
            // read-only query (TUNGETFEATURES on /dev/net/tun).
            a.count(2, 2)?;
            let p = a.cstr(0)?;
            let hex = a.text(1)?;
            let bad = || usage(format!("ioctl: bad CMD_HEX {hex:?}"));
            let cmd = u64::from_str_radix(hex.trim_start_matches("0x"), 16).or_else(|_| bad())?;
            let flags = libc::O_RDONLY | libc::O_NOCTTY | libc::O_CLOEXEC;
            let fd = owned(step("open", unsafe { libc::open(p.as_ptr(), flags) })?);
            let mut buf = [0u8; 64];
            step("ioctl", unsafe {
                libc::syscall(libc::SYS_ioctl, fd.as_raw_fd(), cmd, buf.as_mut_ptr())
            })?;
            Ok(vec![])
        }
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
        "open-tree-attr" => {
            // open_tree_attr (Linux 6.15, number 467 everywhere; not in
            // libc yet) without OPEN_TREE_CLONE: only an O_PATH descriptor,
            // but the mount API, which the filter must deny as a whole.
            a.count(1, 1)?;
            let p = a.cstr(0)?;
            let fd = sys(unsafe {
                libc::syscall(467, libc::AT_FDCWD, p.as_ptr(), 0, null::<c_void>(), 0) as c_int
            })?;
            unsafe { libc::close(fd) };
            Ok(vec![])
        }
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
        // System V shared memory and POSIX message queues: per IPC
        // namespace, so the sandbox's own.
        "shm-create" => {
            a.count(0, 0)?;
            let flags = libc::IPC_CREAT | libc::IPC_EXCL | 0o600;
            let id = sys(unsafe { libc::shmget(libc::IPC_PRIVATE, 4096, flags) })?;
            Ok(vec![("id", json!(id))])
        }
        "shm-attach" => {
            a.count(1, 1)?;
            let id: c_int = a.num(0, "ID")?;
            let at = unsafe { libc::shmat(id, null(), libc::SHM_RDONLY) };
            if at as isize == -1 {
                return Err(Fail::Sys(last_errno(), Some("shmat")));
            }
            unsafe { libc::shmdt(at) };
            Ok(vec![])
        }
        "shm-remove" => {
            a.count(1, 1)?;
            let id: c_int = a.num(0, "ID")?;
            sys(unsafe { libc::shmctl(id, libc::IPC_RMID, null_mut()) })?;
            Ok(vec![])
        }
        "mq-create" | "mq-open" | "mq-unlink" => {
            a.count(1, 1)?;
            let name = a.cstr(0)?;
            if a.op == "mq-unlink" {
                sys(unsafe { libc::mq_unlink(name.as_ptr()) })?;
                return Ok(vec![]);
            }
            let flags = if a.op == "mq-create" {
                libc::O_RDWR | libc::O_CREAT | libc::O_EXCL
            } else {
                libc::O_RDWR
            };
            let q =
                unsafe { libc::mq_open(name.as_ptr(), flags, 0o600, null_mut::<libc::mq_attr>()) };
            if q == -1 {
                return Err(Fail::Sys(last_errno(), Some("mq_open")));
            }
            unsafe { libc::mq_close(q) };
            Ok(vec![])
        }
        // The real, effective and saved ids, and the capability sets; then
        // tries to become root again the way an escaped command would.
        "setresuid-root" => {
            a.count(0, 0)?;
            let rc = unsafe { libc::setresuid(0, 0, 0) };
            let result = if rc == 0 {
                "ok".to_string()
            } else {
                errno_name(last_errno())
            };
            let gid_rc = unsafe { libc::setresgid(0, 0, 0) };
            let gid_result = if gid_rc == 0 {
                "ok".to_string()
            } else {
                errno_name(last_errno())
            };
            let (mut r, mut e, mut sv) = (0, 0, 0);
            unsafe { libc::getresuid(&mut r, &mut e, &mut sv) };
            let (mut gr, mut ge, mut gs) = (0, 0, 0);
            unsafe { libc::getresgid(&mut gr, &mut ge, &mut gs) };
            let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
            let field = |name: &str| {
                status
                    .lines()
                    .find_map(|l| l.strip_prefix(name))
                    .map(|v| v.trim().to_string())
                    .unwrap_or_default()
            };
            Ok(vec![
                ("setresuid", json!(result)),
                ("setresgid", json!(gid_result)),
                ("uids", json!([r, e, sv])),
                ("gids", json!([gr, ge, gs])),
                ("groups", json!(field("Groups:"))),
                ("cap_eff", json!(field("CapEff:"))),
                ("cap_prm", json!(field("CapPrm:"))),
                ("cap_inh", json!(field("CapInh:"))),
                ("cap_amb", json!(field("CapAmb:"))),
            ])
        }
        "deny-syscall" => op_deny_syscall(a),
        "query" => op_query(a),
        "prlimit" => op_prlimit(a),
        "setpriority" => op_setpriority(a),
        "sched-setaffinity" => {
            a.count(2, 2)?;
            let (pid, set) = (a.num::<pid_t>(0, "PID")?, cpu_set(a, 1)?);
            let size = size_of::<libc::cpu_set_t>();
            sys(unsafe { libc::syscall(libc::SYS_sched_setaffinity, pid, size, &set) })?;
            own_state_if(pid == 0)
        }
        "sched-setscheduler" => {
            a.count(2, 2)?;
            let pid: pid_t = a.num(0, "PID")?;
            let policy = match a.text(1)? {
                "other" => libc::SCHED_OTHER,
                "batch" => libc::SCHED_BATCH,
                "idle" => libc::SCHED_IDLE,
                _ => return usage("sched-setscheduler: POLICY must be other, batch or idle"),
            };
            let param = libc::sched_param { sched_priority: 0 };
            let ret = unsafe { libc::syscall(libc::SYS_sched_setscheduler, pid, policy, &param) };
            sys(ret)?;
            own_state_if(pid == 0)
        }
        "sched-setparam" => {
            // Priority 0, the only one a non-realtime policy takes: a no-op
            // that still needs permission over the target.
            a.count(1, 1)?;
            let pid: pid_t = a.num(0, "PID")?;
            let param = libc::sched_param { sched_priority: 0 };
            sys(unsafe { libc::syscall(libc::SYS_sched_setparam, pid, &param) })?;
            own_state_if(pid == 0)
        }
        "sched-setattr" => {
            a.count(2, 2)?;
            let pid: pid_t = a.num(0, "PID")?;
            let mut attr = SchedAttr {
                size: size_of::<SchedAttr>() as u32,
                ..SchedAttr::default()
            };
            attr.nice = a.num(1, "NICE")?;
            sys(unsafe { libc::syscall(libc::SYS_sched_setattr, pid, &attr, 0) })?;
            own_state_if(pid == 0)
        }
        "ioprio-set" => op_ioprio_set(a),
        "pthread-setaffinity" => {
            // glibc passes the calling thread's TID, not 0.
            a.count(1, 1)?;
            let set = cpu_set(a, 0)?;
            let size = size_of::<libc::cpu_set_t>();
            let ret = unsafe { libc::pthread_setaffinity_np(libc::pthread_self(), size, &set) };
            pthread_ret(ret, "pthread_setaffinity_np")?;
            Ok(vec![])
        }
        "thread-setaffinity" => op_thread_setaffinity(a),
        "pthread-create-affinity" => op_pthread_create_affinity(a),
        "migrate-pages" => {
            // From node 0 to node 0: needs permission over the target, moves
            // nothing. Returns how many pages could not be moved.
            a.count(1, 1)?;
            let pid: pid_t = a.num(0, "PID")?;
            let nodes: u64 = 1;
            let ret = unsafe { libc::syscall(libc::SYS_migrate_pages, pid, 64, &nodes, &nodes) };
            Ok(vec![("not_moved", json!(sys(ret)?))])
        }
        "move-pages" => {
            // No target nodes: only asks where one page of PID lives.
            a.count(2, 2)?;
            let pid: pid_t = a.num(0, "PID")?;
            let page = hex_arg(a, 1)? as *const c_void;
            let mut status: c_int = 0;
            let none = null::<c_int>();
            let ret =
                unsafe { libc::syscall(libc::SYS_move_pages, pid, 1, &page, none, &mut status, 0) };
            sys(ret)?;
            Ok(vec![("status", json!(status))])
        }
        "process-madvise" => {
            // MADV_COLD on one page of PID: a hint, harmless in the control.
            a.count(2, 2)?;
            let pidfd = pidfd(a)?;
            let iov = iovec(hex_arg(a, 1)? as *mut u8, 4096);
            let ret = unsafe {
                libc::syscall(
                    libc::SYS_process_madvise,
                    pidfd.as_raw_fd(),
                    &iov,
                    1,
                    libc::MADV_COLD,
                    0,
                )
            };
            step("process_madvise", ret)?;
            Ok(vec![])
        }
        "process-mrelease" => {
            a.count(1, 1)?;
            let pidfd = pidfd(a)?;
            let ret = unsafe { libc::syscall(libc::SYS_process_mrelease, pidfd.as_raw_fd(), 0) };
            step("process_mrelease", ret)?;
            Ok(vec![])
        }
        "pidfd-open" => {
            a.count(1, 1)?;
            pidfd(a)?;
            Ok(vec![])
        }
        "pidfd-getfd" => {
            a.count(2, 2)?;
            let pidfd = pidfd(a)?;
            let fd: c_int = a.num(1, "FD")?;
            let ret = unsafe { libc::syscall(libc::SYS_pidfd_getfd, pidfd.as_raw_fd(), fd, 0) };
            drop(owned(step("pidfd_getfd", ret)? as RawFd));
            Ok(vec![])
        }
        "kcmp" => {
            // Do we share our address space with PID? (0 equal, else order.)
            a.count(1, 1)?;
            let pid: pid_t = a.num(0, "PID")?;
            const KCMP_VM: c_int = 1;
            let me = std::process::id() as pid_t;
            let ret = unsafe { libc::syscall(libc::SYS_kcmp, me, pid, KCMP_VM, 0, 0) };
            Ok(vec![("order", json!(sys(ret)?))])
        }
        "perf-open" => op_perf_open(a),
        "get-robust-list" => {
            a.count(1, 1)?;
            let pid: pid_t = a.num(0, "PID")?;
            let (mut head, mut len) = (0usize, 0usize);
            let ret = unsafe { libc::syscall(libc::SYS_get_robust_list, pid, &mut head, &mut len) };
            sys(ret)?;
            Ok(vec![("head", json!(format!("{head:#x}")))])
        }
        "tkill" => {
            a.count(2, 2)?;
            let (tid, sig): (pid_t, c_int) = (a.num(0, "TID")?, a.num(1, "SIG")?);
            sys(unsafe { libc::syscall(libc::SYS_tkill, tid, sig) })?;
            Ok(vec![])
        }
        "tgkill" => {
            a.count(3, 3)?;
            let (tgid, tid): (pid_t, pid_t) = (a.num(0, "TGID")?, a.num(1, "TID")?);
            let sig: c_int = a.num(2, "SIG")?;
            sys(unsafe { libc::syscall(libc::SYS_tgkill, tgid, tid, sig) })?;
            Ok(vec![])
        }
        "sigqueue" => {
            a.count(2, 2)?;
            let (pid, sig): (pid_t, c_int) = (a.num(0, "PID")?, a.num(1, "SIG")?);
            let info = queued_siginfo(sig);
            sys(unsafe { libc::syscall(libc::SYS_rt_sigqueueinfo, pid, sig, &info) })?;
            Ok(vec![])
        }
        "tgsigqueue" => {
            a.count(3, 3)?;
            let (tgid, tid): (pid_t, pid_t) = (a.num(0, "TGID")?, a.num(1, "TID")?);
            let sig: c_int = a.num(2, "SIG")?;
            let info = queued_siginfo(sig);
            let ret = unsafe { libc::syscall(libc::SYS_rt_tgsigqueueinfo, tgid, tid, sig, &info) };
            sys(ret)?;
            Ok(vec![])
        }
        "setpgid" => {
            a.count(2, 2)?;
            let (pid, pgid): (pid_t, pid_t) = (a.num(0, "PID")?, a.num(1, "PGID")?);
            sys(unsafe { libc::setpgid(pid, pgid) })?;
            Ok(vec![])
        }
        "waitid" => {
            // WNOHANG: only asks; the kernel answers for our children only.
            a.count(1, 1)?;
            let pid: pid_t = a.num(0, "PID")?;
            let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
            let flags = libc::WEXITED | libc::WNOHANG;
            let ret = unsafe { libc::waitid(libc::P_PID, pid as libc::id_t, &mut info, flags) };
            sys(ret)?;
            Ok(vec![])
        }
        "sigio" => op_sigio(a),
        "process-vm-writev" => {
            a.count(3, 3)?;
            let pid: pid_t = a.num(0, "PID")?;
            let addr = hex_arg(a, 1)?;
            let text = a.text(2)?;
            let bad = || format!("process-vm-writev: bad DATA_HEX {text:?}");
            if text.len() % 2 != 0 || !text.is_ascii() {
                return usage(bad());
            }
            let mut data = Vec::new();
            for i in (0..text.len()).step_by(2) {
                let byte = u8::from_str_radix(&text[i..i + 2], 16);
                data.push(byte.or_else(|_| usage(bad()))?);
            }
            let local = iovec(data.as_mut_ptr(), data.len());
            let remote = iovec(addr as *mut u8, data.len());
            let n = sys(unsafe { libc::process_vm_writev(pid, &local, 1, &remote, 1, 0) })?;
            Ok(vec![("written", json!(n))])
        }
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

/// Operand `i` as a socket family.
fn family(a: &Args, i: usize) -> Result<c_int, Fail> {
    Ok(match a.text(i)? {
        "inet" => libc::AF_INET,
        "inet6" => libc::AF_INET6,
        "unix" => libc::AF_UNIX,
        "netlink" => libc::AF_NETLINK,
        "packet" => libc::AF_PACKET,
        "vsock" => libc::AF_VSOCK,
        _ => {
            let msg = "FAMILY must be inet, inet6, unix, netlink, packet or vsock";
            return usage(format!("{}: {msg}", a.op));
        }
    })
}

fn op_socket(a: &Args) -> Outcome {
    a.count(2, 3)?;
    let family = family(a, 0)?;
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

/// sendto-fastopen HOST PORT: a TCP Fast Open connect, made by sendto(2)
/// with MSG_FASTOPEN instead of connect(2).
fn op_fastopen(a: &Args) -> Outcome {
    a.count(2, 2)?;
    let ip: IpAddr = a.num(0, "HOST (an IP address)")?;
    let port: u16 = a.num(1, "PORT")?;
    let (ss, len) = inet_addr(ip, port);
    let fd = owned(step("socket", unsafe {
        libc::socket(
            c_int::from(ss.ss_family),
            libc::SOCK_STREAM | libc::SOCK_CLOEXEC,
            0,
        )
    })?);
    let addr = &ss as *const _ as *const sockaddr;
    step("sendto", unsafe {
        libc::sendto(
            fd.as_raw_fd(),
            b"x".as_ptr().cast(),
            1,
            libc::MSG_FASTOPEN,
            addr,
            len,
        ) as c_int
    })?;
    Ok(vec![])
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

/// socketpair [FAMILY]: a connected pair (unix by default) that passes a byte.
fn op_socketpair(a: &Args) -> Outcome {
    a.count(0, 1)?;
    let family = if a.rest.is_empty() {
        libc::AF_UNIX
    } else {
        family(a, 0)?
    };
    let mut fds = [0 as RawFd; 2];
    let ty = libc::SOCK_STREAM | libc::SOCK_CLOEXEC;
    step("socketpair", unsafe {
        libc::socketpair(family, ty, 0, fds.as_mut_ptr())
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

/// A value in this process's memory that a debugger-like write changes in
/// the forked child's copy.
static CHILD_MEM: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

/// child-mem proc-mem|poke: forks a child that waits, writes 42 into its
/// copy of `CHILD_MEM` through `/proc/CHILD/mem` (as gdb and rr do) or
/// with `ptrace(PTRACE_POKEDATA)` after `PTRACE_ATTACH` (gdb's fallback),
/// and reports the value the child then sees (`seen`).
fn op_child_mem(a: &Args) -> Outcome {
    use std::sync::atomic::Ordering::SeqCst;
    a.count(1, 1)?;
    let way = a.text(0)?.to_string();
    if way != "proc-mem" && way != "poke" {
        return usage("child-mem: WAY must be proc-mem or poke");
    }
    let mut fds = [0; 2];
    step("pipe", unsafe { libc::pipe(fds.as_mut_ptr()) })?;
    let pid = step("fork", unsafe { libc::fork() })?;
    if pid == 0 {
        // Child: wait for the go, then exit with the value it sees.
        let mut b = 0u8;
        unsafe {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            libc::read(fds[0], (&mut b as *mut u8).cast(), 1);
            libc::_exit(CHILD_MEM.load(SeqCst) as c_int);
        }
    }
    let addr = CHILD_MEM.as_ptr() as usize;
    let wrote = if way == "proc-mem" {
        let path = CString::new(format!("/proc/{pid}/mem")).unwrap();
        let fd = step("open", unsafe {
            libc::open(path.as_ptr(), libc::O_RDWR | libc::O_CLOEXEC)
        });
        fd.and_then(|fd| {
            let fd = owned(fd);
            let v: u64 = 42;
            let n = unsafe {
                libc::pwrite(
                    fd.as_raw_fd(),
                    (&v as *const u64).cast(),
                    8,
                    addr as libc::off_t,
                )
            };
            step("pwrite", n).map(drop)
        })
    } else {
        step("attach", unsafe {
            libc::ptrace(libc::PTRACE_ATTACH, pid, 0, 0)
        })
        .and_then(|_| {
            let mut st = 0;
            step("waitpid", unsafe { libc::waitpid(pid, &mut st, 0) })?;
            let r = step("poke", unsafe {
                libc::ptrace(libc::PTRACE_POKEDATA, pid, addr, 42usize)
            });
            unsafe { libc::ptrace(libc::PTRACE_DETACH, pid, 0, 0) };
            r.map(drop)
        })
    };
    unsafe { libc::write(fds[1], b"x".as_ptr().cast(), 1) };
    let mut status = 0;
    step("waitpid", unsafe { libc::waitpid(pid, &mut status, 0) })?;
    wrote?;
    Ok(vec![("seen", json!(libc::WEXITSTATUS(status)))])
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
            .find(|(_, n)| n.strip_prefix("SYS_") == Some(name))
            .map(|&(nr, _)| nr);
        // open_tree_attr (Linux 6.15) has no libc name yet; its number is
        // the same on every architecture.
        let known = known.or((name == "open_tree_attr").then_some(467));
        let Some(nr) = known else {
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

// ------------------------------------------------ calls that name a process

/// struct sched_attr (SCHED_ATTR_SIZE_VER1, 56 bytes).
#[repr(C)]
#[derive(Default)]
struct SchedAttr {
    size: u32,
    policy: u32,
    flags: u64,
    nice: i32,
    priority: u32,
    runtime: u64,
    deadline: u64,
    period: u64,
    util_min: u32,
    util_max: u32,
}

/// The pthread functions return the error instead of setting errno.
fn pthread_ret(ret: c_int, name: &'static str) -> Result<(), Fail> {
    if ret != 0 {
        return Err(Fail::Sys(ret, Some(name)));
    }
    Ok(())
}

/// Operand `i` as a set of one CPU.
fn cpu_set(a: &Args, i: usize) -> Result<libc::cpu_set_t, Fail> {
    let cpu: usize = a.num(i, "CPU")?;
    if cpu >= libc::CPU_SETSIZE as usize {
        return usage(format!("{}: CPU out of range: {cpu}", a.op));
    }
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    unsafe { libc::CPU_SET(cpu, &mut set) };
    Ok(set)
}

/// Operand `i` as a hexadecimal address.
fn hex_arg(a: &Args, i: usize) -> Result<usize, Fail> {
    let hex = a.text(i)?;
    let bad = || usage(format!("{}: bad ADDR_HEX {hex:?}", a.op));
    usize::from_str_radix(hex.trim_start_matches("0x"), 16).or_else(|_| bad())
}

/// A pidfd for operand 0 (a PID); pidfd_open checks no permission.
fn pidfd(a: &Args) -> Result<OwnedFd, Fail> {
    let pid: pid_t = a.num(0, "PID")?;
    let fd = step("pidfd_open", unsafe {
        libc::syscall(libc::SYS_pidfd_open, pid, 0)
    })?;
    Ok(owned(fd as RawFd))
}

/// A siginfo as sigqueue(3) fills it: si_code SI_QUEUE, which the kernel
/// requires for a process other than the caller.
fn queued_siginfo(sig: c_int) -> [c_int; 32] {
    let mut info = [0 as c_int; 32];
    info[0] = sig;
    info[2] = libc::SI_QUEUE;
    info[4] = std::process::id() as c_int; // si_pid
    info[5] = unsafe { libc::getuid() } as c_int; // si_uid
    info
}

/// "which" of setpriority and ioprio_set: PRIO_* is 0-based, IOPRIO_WHO_* 1-based.
fn which(a: &Args, i: usize, base: c_int) -> Result<c_int, Fail> {
    Ok(base
        + match a.text(i)? {
            "process" => 0,
            "pgrp" => 1,
            "user" => 2,
            _ => return usage(format!("{}: WHICH must be process, pgrp or user", a.op)),
        })
}

/// query PID: every read-only fact the scheduling calls give about PID
/// (0: the caller), each by its own call, as `step` names them.
fn op_query(a: &Args) -> Outcome {
    a.count(1, 1)?;
    state_of(a.num(0, "PID")?)
}

/// After an op changed the caller itself: `"own": {...}`, the caller's
/// state as `query 0` gives it plus its open-file limit, so a test sees
/// the change land.
fn own_state_if(own: bool) -> Outcome {
    if !own {
        return Ok(vec![]);
    }
    let mut state: serde_json::Map<String, Value> = state_of(0)?
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    step("getrlimit", unsafe {
        libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim)
    })?;
    state.insert("nofile".into(), json!([lim.rlim_cur, lim.rlim_max]));
    Ok(vec![("own", Value::Object(state))])
}

fn state_of(pid: pid_t) -> Outcome {
    let pgid = step("getpgid", unsafe { libc::getpgid(pid) })?;
    let sid = step("getsid", unsafe { libc::getsid(pid) })?;
    // -1 is a valid nice value: errno tells.
    unsafe { *libc::__errno_location() = 0 };
    let nice = unsafe { libc::getpriority(libc::PRIO_PROCESS, pid as libc::id_t) };
    if nice == -1 && last_errno() != 0 {
        return Err(Fail::Sys(last_errno(), Some("getpriority")));
    }
    let policy = step("sched_getscheduler", unsafe {
        libc::syscall(libc::SYS_sched_getscheduler, pid)
    })?;
    let mut param = libc::sched_param { sched_priority: 0 };
    step("sched_getparam", unsafe {
        libc::syscall(libc::SYS_sched_getparam, pid, &mut param)
    })?;
    let mut attr = SchedAttr::default();
    let size = size_of::<SchedAttr>();
    step("sched_getattr", unsafe {
        libc::syscall(libc::SYS_sched_getattr, pid, &mut attr, size, 0)
    })?;
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    let size = size_of::<libc::cpu_set_t>();
    step("sched_getaffinity", unsafe {
        libc::syscall(libc::SYS_sched_getaffinity, pid, size, &mut set)
    })?;
    let cpus: Vec<usize> = (0..libc::CPU_SETSIZE as usize)
        .filter(|c| unsafe { libc::CPU_ISSET(*c, &set) })
        .collect();
    let mut interval: libc::timespec = unsafe { std::mem::zeroed() };
    step("sched_rr_get_interval", unsafe {
        libc::syscall(libc::SYS_sched_rr_get_interval, pid, &mut interval)
    })?;
    let ioprio = step("ioprio_get", unsafe {
        libc::syscall(libc::SYS_ioprio_get, IOPRIO_WHO_PROCESS, pid)
    })?;
    // _LINUX_CAPABILITY_VERSION_3: two 32-bit words per set.
    let header = [0x2008_0522u32, pid as u32];
    let mut data = [0u32; 6];
    step("capget", unsafe {
        libc::syscall(libc::SYS_capget, &header, &mut data)
    })?;
    let effective = (u64::from(data[3]) << 32) | u64::from(data[0]);
    Ok(vec![
        ("pgid", json!(pgid)),
        ("sid", json!(sid)),
        ("nice", json!(nice)),
        ("policy", json!(policy)),
        ("attr_nice", json!(attr.nice)),
        ("cpus", json!(cpus)),
        ("ioprio_class", json!(ioprio >> 13)),
        ("ioprio_level", json!(ioprio & 0x1fff)),
        ("cap_effective", json!(format!("{effective:016x}"))),
    ])
}

/// prlimit PID cpu|nofile SOFT HARD (numbers or "inf").
fn op_prlimit(a: &Args) -> Outcome {
    a.count(4, 4)?;
    let pid: pid_t = a.num(0, "PID")?;
    let resource = match a.text(1)? {
        "cpu" => libc::RLIMIT_CPU,
        "nofile" => libc::RLIMIT_NOFILE,
        _ => return usage("prlimit: RESOURCE must be cpu or nofile"),
    };
    let limit = |i| -> Result<u64, Fail> {
        match a.text(i)? {
            "inf" => Ok(libc::RLIM_INFINITY),
            _ => a.num(i, "limit"),
        }
    };
    let new = libc::rlimit {
        rlim_cur: limit(2)?,
        rlim_max: limit(3)?,
    };
    let none = null_mut::<libc::rlimit>();
    sys(unsafe { libc::syscall(libc::SYS_prlimit64, pid, resource, &new, none) })?;
    own_state_if(pid == 0)
}

/// setpriority process|pgrp|user WHO NICE
fn op_setpriority(a: &Args) -> Outcome {
    a.count(3, 3)?;
    let which = which(a, 0, libc::PRIO_PROCESS as c_int)?;
    let who: c_int = a.num(1, "WHO")?;
    let nice: c_int = a.num(2, "NICE")?;
    sys(unsafe { libc::syscall(libc::SYS_setpriority, which, who, nice) })?;
    own_state_if(which == libc::PRIO_PROCESS as c_int && who == 0)
}

const IOPRIO_WHO_PROCESS: c_int = 1;

/// ioprio-set process|pgrp|user WHO idle|be:LEVEL
fn op_ioprio_set(a: &Args) -> Outcome {
    a.count(3, 3)?;
    let which = which(a, 0, IOPRIO_WHO_PROCESS)?;
    let who: c_int = a.num(1, "WHO")?;
    let text = a.text(2)?;
    let (class, level) = match text.split_once(':') {
        None if text == "idle" => (3, 0),
        Some(("be", n)) => match n.parse::<c_int>() {
            Ok(n @ 0..=7) => (2, n),
            _ => return usage(format!("ioprio-set: bad level {n:?}")),
        },
        _ => return usage("ioprio-set: CLASS must be idle or be:N"),
    };
    let ioprio = (class << 13) | level;
    sys(unsafe { libc::syscall(libc::SYS_ioprio_set, which, who, ioprio) })?;
    own_state_if(which == IOPRIO_WHO_PROCESS && who == 0)
}

/// thread-setaffinity CPU by-tid|self: a second thread of this process is
/// pinned to CPU by the main thread naming its TID (as a thread pool
/// does), or by itself naming 0. Reports the CPUs it then runs on.
fn op_thread_setaffinity(a: &Args) -> Outcome {
    a.count(2, 2)?;
    let set = cpu_set(a, 0)?;
    let by_tid = match a.text(1)? {
        "by-tid" => true,
        "self" => false,
        _ => return usage("thread-setaffinity: MODE must be by-tid or self"),
    };
    let size = size_of::<libc::cpu_set_t>();
    let (tid_tx, tid_rx) = std::sync::mpsc::channel();
    let (go_tx, go_rx) = std::sync::mpsc::channel::<()>();
    let worker = std::thread::spawn(move || {
        let tid = unsafe { libc::syscall(libc::SYS_gettid) } as pid_t;
        let _ = tid_tx.send(tid);
        let _ = go_rx.recv();
        let own = if by_tid {
            0
        } else {
            unsafe { libc::syscall(libc::SYS_sched_setaffinity, 0, size, &set) }
        };
        let own = if own < 0 { Err(last_errno()) } else { Ok(()) };
        let mut now: libc::cpu_set_t = unsafe { std::mem::zeroed() };
        unsafe { libc::syscall(libc::SYS_sched_getaffinity, 0, size, &mut now) };
        let cpus: Vec<usize> = (0..libc::CPU_SETSIZE as usize)
            .filter(|c| unsafe { libc::CPU_ISSET(*c, &now) })
            .collect();
        (own, cpus)
    });
    let tid = tid_rx
        .recv()
        .map_err(|_| Fail::Sys(libc::EIO, Some("thread")))?;
    let by_main = if by_tid {
        unsafe { libc::syscall(libc::SYS_sched_setaffinity, tid, size, &set) }
    } else {
        0
    };
    let by_main = if by_main < 0 {
        Err(last_errno())
    } else {
        Ok(())
    };
    let _ = go_tx.send(());
    let (own, cpus) = worker
        .join()
        .map_err(|_| Fail::Sys(libc::EIO, Some("join")))?;
    by_main.map_err(|e| Fail::Sys(e, Some("sched_setaffinity(tid)")))?;
    own.map_err(|e| Fail::Sys(e, Some("sched_setaffinity(0)")))?;
    Ok(vec![("tid", json!(tid)), ("cpus", json!(cpus))])
}

/// pthread-create-affinity CPU: a thread created with an affinity
/// attribute, which glibc applies from the creating thread by TID.
fn op_pthread_create_affinity(a: &Args) -> Outcome {
    a.count(1, 1)?;
    let set = cpu_set(a, 0)?;
    extern "C" fn body(_: *mut c_void) -> *mut c_void {
        null_mut()
    }
    let mut attr: libc::pthread_attr_t = unsafe { std::mem::zeroed() };
    pthread_ret(
        unsafe { libc::pthread_attr_init(&mut attr) },
        "pthread_attr_init",
    )?;
    let size = size_of::<libc::cpu_set_t>();
    let ret = unsafe { libc::pthread_attr_setaffinity_np(&mut attr, size, &set) };
    pthread_ret(ret, "pthread_attr_setaffinity_np")?;
    let mut thread: libc::pthread_t = 0;
    let ret = unsafe { libc::pthread_create(&mut thread, &attr, body, null_mut()) };
    unsafe { libc::pthread_attr_destroy(&mut attr) };
    pthread_ret(ret, "pthread_create")?;
    unsafe { libc::pthread_join(thread, null_mut()) };
    Ok(vec![])
}

/// perf-open PID: a user-space-only software counter on PID, what an
/// unprivileged profiler may open on its own user's processes.
fn op_perf_open(a: &Args) -> Outcome {
    a.count(1, 1)?;
    let pid: pid_t = a.num(0, "PID")?;
    // struct perf_event_attr, PERF_ATTR_SIZE_VER0 (64 bytes) and zeroes.
    let mut attr = [0u64; 16];
    const PERF_TYPE_SOFTWARE: u64 = 1;
    const PERF_COUNT_SW_TASK_CLOCK: u64 = 1;
    attr[0] = PERF_TYPE_SOFTWARE | (64 << 32); // type, size
    attr[1] = PERF_COUNT_SW_TASK_CLOCK; // config
    attr[5] = 1 | (1 << 5) | (1 << 6); // disabled, exclude_kernel, exclude_hv
    const PERF_FLAG_FD_CLOEXEC: u64 = 8;
    let ret = unsafe {
        libc::syscall(
            libc::SYS_perf_event_open,
            attr.as_ptr(),
            pid,
            -1,
            -1,
            PERF_FLAG_FD_CLOEXEC,
        )
    };
    drop(owned(sys(ret)? as RawFd));
    Ok(vec![])
}

/// sigio PID: a pipe whose owner (F_SETOWN) is PID, with O_ASYNC, then a
/// write: the kernel sends PID SIGIO (which kills a process that does not
/// handle it). F_SETOWN itself checks nothing, so this succeeds whether
/// the signal is delivered or not: the target's fate tells.
fn op_sigio(a: &Args) -> Outcome {
    a.count(1, 1)?;
    let pid: pid_t = a.num(0, "PID")?;
    let mut fds = [0 as RawFd; 2];
    step("pipe", unsafe {
        libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC)
    })?;
    let (rd, wr) = (owned(fds[0]), owned(fds[1]));
    step("F_SETOWN", unsafe {
        libc::fcntl(rd.as_raw_fd(), libc::F_SETOWN, pid)
    })?;
    step("F_SETFL", unsafe {
        libc::fcntl(rd.as_raw_fd(), libc::F_SETFL, libc::O_ASYNC)
    })?;
    step("write", unsafe {
        libc::write(wr.as_raw_fd(), b"x".as_ptr().cast(), 1)
    })?;
    Ok(vec![])
}
