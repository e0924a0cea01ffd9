//! `cordon trace`: the tracer. cordon stays outside the sandbox as the
//! command's tracer (ptrace); the command builds the sandbox `run` builds
//! and execs under it. Two things make denials visible without stopping
//! the command at every system call:
//!
//! - a second seccomp filter answers `SECCOMP_RET_TRACE` for the calls a
//!   sandbox can refuse (opens, creates, renames, exec, connect, signals),
//!   and only for those the tracer then waits for the result (the
//!   syscall-exit stop) and keeps the failures the sandbox gives (EACCES,
//!   EPERM, EROFS);
//! - the sandbox's own filter is the one `run` compiles with each errno
//!   answer turned into `SECCOMP_RET_TRAP` carrying the same errno: the
//!   kernel still refuses the call (it never runs), the tracer sees the
//!   SIGSYS, sets the errno as the return value and drops the signal. An
//!   errno answer would win over the trace filter and stay invisible.
//!
//! Nothing read from the command is trusted: paths are read with
//! `process_vm_readv`, bounded, and only ever printed (escaped) or compared.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::sys::ptrace::{self, Event, Options};
use nix::sys::signal::Signal;
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::Pid;

use super::seen::{MAX_DISTINCT, Seen};
use crate::plan::fix::Want;

use super::seccomp::Insn;
use super::seccomp::insn::{
    AUDIT_ARCH, JEQ_K, LD_W_ABS, RET_K, SECCOMP_RET_ACTION, SECCOMP_RET_ALLOW, SECCOMP_RET_ERRNO,
    SECCOMP_RET_TRACE, SECCOMP_RET_TRAP,
};
/// `si_code` of a SIGSYS raised by a seccomp trap.
const SYS_SECCOMP: i32 = 1;
const AT_FDCWD: i64 = -100;
/// Longest path read from the command: the kernel's PATH_MAX.
const PATH_MAX: usize = 4096;

/// The sandbox's filter as `trace` installs it: every errno answer becomes
/// a trap with the same errno in its data (see the module comment). A pure
/// rewrite of the return instructions; every condition stays the same.
pub fn trapping(bpf: &[(u16, u8, u8, u32)]) -> Vec<(u16, u8, u8, u32)> {
    bpf.iter()
        .map(|&(code, jt, jf, k)| {
            if code == RET_K && k & SECCOMP_RET_ACTION == SECCOMP_RET_ERRNO {
                (code, jt, jf, SECCOMP_RET_TRAP | (k & !SECCOMP_RET_ACTION))
            } else {
                (code, jt, jf, k)
            }
        })
        .collect()
}

/// How a traced call names what it touches.
#[derive(Clone, Copy)]
enum Shape {
    /// A path argument, relative to the cwd.
    Path(usize),
    /// `(dirfd, path)` arguments.
    At(usize, usize),
    /// open-like: `(dirfd or none, path, flags)`; `openat2` flags are read
    /// from its `struct open_how` (third argument).
    Open(Option<usize>, usize, Flags),
    /// Two paths: `(dirfd?, path)` twice (rename, link).
    Two((Option<usize>, usize), (Option<usize>, usize)),
    /// A socket address (connect, bind).
    Addr,
    /// A process (or thread) id argument (signals).
    Pid(usize),
}

#[derive(Clone, Copy)]
enum Flags {
    Arg(usize),
    OpenHow,
    Create,
}

#[derive(Clone, Copy)]
struct Call {
    nr: i64,
    name: &'static str,
    op: &'static str,
    want: Want,
    shape: Shape,
}

const fn call(nr: i64, name: &'static str, op: &'static str, want: Want, shape: Shape) -> Call {
    Call {
        nr,
        name,
        op,
        want,
        shape,
    }
}

/// The calls a sandbox can refuse on a path, an address or a process, in
/// the order the trace filter tests them. Reads of metadata (stat,
/// access, readlink) are not here: no sandbox layer refuses them with
/// anything but ENOENT.
fn calls() -> Vec<Call> {
    #[allow(unused_mut)]
    let mut v = [FILE_CALLS, PROCESS_CALLS].concat();
    #[cfg(target_arch = "x86_64")]
    v.extend_from_slice(LEGACY_FILE_CALLS);
    v
}

/// The `*at` forms every architecture has: opens and the calls that
/// write a path (create, remove, rename, link, metadata).
const FILE_CALLS: &[Call] = {
    use Shape::*;
    use Want::*;
    &[
        call(
            libc::SYS_openat,
            "openat",
            "open",
            Read,
            Open(Some(0), 1, Flags::Arg(2)),
        ),
        call(
            libc::SYS_openat2,
            "openat2",
            "open",
            Read,
            Open(Some(0), 1, Flags::OpenHow),
        ),
        call(libc::SYS_mkdirat, "mkdirat", "mkdir", Write, At(0, 1)),
        call(libc::SYS_mknodat, "mknodat", "mknod", Write, At(0, 1)),
        call(libc::SYS_unlinkat, "unlinkat", "unlink", Write, At(0, 1)),
        call(
            libc::SYS_renameat,
            "renameat",
            "rename",
            Write,
            Two((Some(0), 1), (Some(2), 3)),
        ),
        call(
            libc::SYS_renameat2,
            "renameat2",
            "rename",
            Write,
            Two((Some(0), 1), (Some(2), 3)),
        ),
        call(
            libc::SYS_linkat,
            "linkat",
            "link",
            Write,
            Two((Some(0), 1), (Some(2), 3)),
        ),
        call(libc::SYS_symlinkat, "symlinkat", "symlink", Write, At(1, 2)),
        call(libc::SYS_fchmodat, "fchmodat", "chmod", Write, At(0, 1)),
        call(452, "fchmodat2", "chmod", Write, At(0, 1)),
        call(libc::SYS_fchownat, "fchownat", "chown", Write, At(0, 1)),
        call(libc::SYS_truncate, "truncate", "truncate", Write, Path(0)),
        call(libc::SYS_utimensat, "utimensat", "utime", Write, At(0, 1)),
        call(libc::SYS_setxattr, "setxattr", "setxattr", Write, Path(0)),
        call(libc::SYS_lsetxattr, "lsetxattr", "setxattr", Write, Path(0)),
        call(
            libc::SYS_removexattr,
            "removexattr",
            "removexattr",
            Write,
            Path(0),
        ),
        call(
            libc::SYS_lremovexattr,
            "lremovexattr",
            "removexattr",
            Write,
            Path(0),
        ),
    ]
};

/// Exec, the network and signals.
const PROCESS_CALLS: &[Call] = {
    use Shape::*;
    use Want::*;
    &[
        call(libc::SYS_execve, "execve", "exec", Execute, Path(0)),
        call(libc::SYS_execveat, "execveat", "exec", Execute, At(0, 1)),
        call(libc::SYS_connect, "connect", "connect", Nothing, Addr),
        call(libc::SYS_bind, "bind", "bind", Nothing, Addr),
        call(libc::SYS_kill, "kill", "signal", Nothing, Pid(0)),
        call(libc::SYS_tkill, "tkill", "signal", Nothing, Pid(0)),
        call(libc::SYS_tgkill, "tgkill", "signal", Nothing, Pid(1)),
    ]
};

/// The calls only x86_64 still has (aarch64 has just the *at forms).
#[cfg(target_arch = "x86_64")]
const LEGACY_FILE_CALLS: &[Call] = {
    use Shape::*;
    use Want::*;
    &[
        call(
            libc::SYS_open,
            "open",
            "open",
            Read,
            Open(None, 0, Flags::Arg(1)),
        ),
        call(
            libc::SYS_creat,
            "creat",
            "create",
            Write,
            Open(None, 0, Flags::Create),
        ),
        call(libc::SYS_mkdir, "mkdir", "mkdir", Write, Path(0)),
        call(libc::SYS_mknod, "mknod", "mknod", Write, Path(0)),
        call(libc::SYS_unlink, "unlink", "unlink", Write, Path(0)),
        call(libc::SYS_rmdir, "rmdir", "rmdir", Write, Path(0)),
        call(
            libc::SYS_rename,
            "rename",
            "rename",
            Write,
            Two((None, 0), (None, 1)),
        ),
        call(
            libc::SYS_link,
            "link",
            "link",
            Write,
            Two((None, 0), (None, 1)),
        ),
        call(libc::SYS_symlink, "symlink", "symlink", Write, Path(1)),
        call(libc::SYS_chmod, "chmod", "chmod", Write, Path(0)),
        call(libc::SYS_chown, "chown", "chown", Write, Path(0)),
        call(libc::SYS_lchown, "lchown", "chown", Write, Path(0)),
        call(libc::SYS_utime, "utime", "utime", Write, Path(0)),
        call(libc::SYS_utimes, "utimes", "utime", Write, Path(0)),
        call(libc::SYS_futimesat, "futimesat", "utime", Write, At(0, 1)),
    ]
};

/// Where a filter instruction jumps.
#[derive(Clone, Copy)]
enum To {
    Next,
    /// Skip this many instructions.
    Skip(u8),
    Allow,
    Trace,
}

/// The flags that make an open a write (or a create).
const OPEN_WRITES: u32 = (libc::O_ACCMODE | libc::O_CREAT | libc::O_TRUNC) as u32;

/// The trace filter: `SECCOMP_RET_TRACE` for `calls`, allow otherwise
/// (a foreign architecture is the sandbox filter's business). With
/// `reads_denied` off (the plan reads everything and no Landlock rule
/// hides a path), an `open`/`openat` without a write flag cannot be denied
/// and is allowed in the filter: the commonest call of all never stops.
/// Hand-written BPF: seccompiler kills on a foreign architecture, which the
/// sandbox answers with EPERM instead.
pub fn trace_filter(reads_denied: bool) -> Vec<Insn> {
    const ALU_AND_K: u16 = 0x54;
    let mut prog: Vec<(u16, To, To, u32)> = vec![
        (LD_W_ABS, To::Next, To::Next, 4),
        (JEQ_K, To::Next, To::Allow, AUDIT_ARCH),
        (LD_W_ABS, To::Next, To::Next, 0),
    ];
    // The flag checks come last: they load an argument over the number.
    let mut checks: Vec<(u32, usize)> = Vec::new();
    for c in calls() {
        match c.shape {
            Shape::Open(_, _, Flags::Arg(i)) if !reads_denied => checks.push((c.nr as u32, i)),
            _ => prog.push((JEQ_K, To::Trace, To::Next, c.nr as u32)),
        }
    }
    for (nr, i) in checks {
        prog.push((LD_W_ABS, To::Next, To::Next, 0));
        prog.push((JEQ_K, To::Next, To::Skip(3), nr));
        // The flags' low 32 bits (little-endian).
        prog.push((LD_W_ABS, To::Next, To::Next, 16 + 8 * i as u32));
        prog.push((ALU_AND_K, To::Next, To::Next, OPEN_WRITES));
        prog.push((JEQ_K, To::Allow, To::Trace, 0));
    }
    let allow = prog.len();
    let jump = |at: usize, to: To| -> u8 {
        match to {
            To::Next => 0,
            To::Skip(n) => n,
            To::Allow => (allow - at - 1) as u8,
            To::Trace => (allow - at) as u8,
        }
    };
    let mut out: Vec<Insn> = prog
        .iter()
        .enumerate()
        .map(|(at, &(code, jt, jf, k))| (code, jump(at, jt), jump(at, jf), k))
        .collect();
    out.push((RET_K, 0, 0, SECCOMP_RET_ALLOW));
    out.push((RET_K, 0, 0, SECCOMP_RET_TRACE));
    out
}

/// Installs [`trace_filter`] on this process (the command, once the
/// tracer holds it: without a tracer these calls would fail with ENOSYS).
pub fn install_filter(reads_denied: bool) -> std::io::Result<()> {
    super::apply::install_filter(&trace_filter(reads_denied), 0).map(drop)
}

/// The options the tracer seizes the command with: every descendant
/// followed, the trace filter's stops, and the command killed if cordon
/// dies (a sandboxed command never outlives a tracer it depends on).
pub fn options() -> Options {
    Options::PTRACE_O_TRACESECCOMP
        | Options::PTRACE_O_TRACESYSGOOD
        | Options::PTRACE_O_TRACECLONE
        | Options::PTRACE_O_TRACEFORK
        | Options::PTRACE_O_TRACEVFORK
        | Options::PTRACE_O_TRACEEXEC
        | Options::PTRACE_O_EXITKILL
}

/// How the command ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    Code(i32),
    Signal(i32),
}

/// What the tracer saw.
pub struct Outcome {
    pub end: End,
    /// Distinct failed calls and how often each failed.
    pub seen: BTreeMap<Seen, u64>,
    /// Failures beyond [`MAX_DISTINCT`], not kept.
    pub dropped: u64,
    /// Some process of the command was still running after it exited, and
    /// was followed to its end.
    pub outlived: bool,
}

/// A call stopped at its seccomp stop, waiting for its result.
struct Pending {
    call: usize,
    args: [u64; 6],
}

/// Follows `child` and every descendant until the last one exits.
pub fn follow(child: Pid) -> Outcome {
    let mut f = Follower {
        child,
        table: calls(),
        out: Outcome {
            end: End::Code(0),
            seen: BTreeMap::new(),
            dropped: 0,
            outlived: false,
        },
        live: HashSet::from([child]),
        pending: HashMap::new(),
        child_done: false,
    };
    loop {
        let status = match waitpid(None, Some(WaitPidFlag::__WALL)) {
            Ok(s) => s,
            Err(Errno::EINTR) => continue,
            Err(_) => break,
        };
        // A process still stopping (not just exiting) after the command
        // exited outlived it: a daemon, or a leftover about to be reaped.
        if f.child_done
            && matches!(
                status,
                WaitStatus::PtraceEvent(..)
                    | WaitStatus::PtraceSyscall(_)
                    | WaitStatus::Stopped(..)
            )
        {
            f.out.outlived = true;
        }
        f.step(status);
        if f.child_done && f.live.is_empty() {
            break;
        }
    }
    f.out
}

/// The tracer's state while it follows the command's processes.
struct Follower {
    /// The command itself: its end is the outcome's.
    child: Pid,
    table: Vec<Call>,
    out: Outcome,
    /// The processes not yet seen to exit.
    live: HashSet<Pid>,
    /// Calls between their seccomp stop and their syscall-exit stop.
    pending: HashMap<Pid, Pending>,
    child_done: bool,
}

impl Follower {
    /// Handles one wait status and resumes the process it names.
    fn step(&mut self, status: WaitStatus) {
        match status {
            WaitStatus::Exited(pid, code) => self.ended(pid, End::Code(code)),
            WaitStatus::Signaled(pid, sig, _) => self.ended(pid, End::Signal(sig as i32)),
            WaitStatus::PtraceEvent(pid, sig, ev) => {
                self.live.insert(pid);
                self.event(pid, sig, ev);
            }
            WaitStatus::PtraceSyscall(pid) => {
                if let Some(p) = self.pending.remove(&pid) {
                    exit_stop(pid, &self.table[p.call], &p.args, &mut self.out);
                }
                let _ = ptrace::cont(pid, None);
            }
            WaitStatus::Stopped(pid, sig) => {
                self.live.insert(pid);
                let deliver = if sig == Signal::SIGSYS && trapped(pid, &self.table, &mut self.out) {
                    None
                } else {
                    Some(sig)
                };
                let _ = ptrace::cont(pid, deliver);
            }
            _ => {}
        }
    }

    /// A process exited or was killed; the command's own end is the
    /// outcome's.
    fn ended(&mut self, pid: Pid, end: End) {
        self.live.remove(&pid);
        self.pending.remove(&pid);
        if pid == self.child {
            self.out.end = end;
            self.child_done = true;
        }
    }

    /// A ptrace event stop: a traced call (its result is waited for), a
    /// group-stop, an exec, or a new process (followed from now on).
    fn event(&mut self, pid: Pid, sig: Signal, ev: i32) {
        if ev == Event::PTRACE_EVENT_SECCOMP as i32 {
            match seccomp_stop(pid, &self.table) {
                Some(p) => {
                    self.pending.insert(pid, p);
                    let _ = ptrace::syscall(pid, None);
                }
                None => {
                    let _ = ptrace::cont(pid, None);
                }
            }
        } else if ev == Event::PTRACE_EVENT_STOP as i32 {
            group_stop(pid, sig);
        } else {
            if ev == Event::PTRACE_EVENT_EXEC as i32 {
                // A thread that execs takes the leader's id.
                if let Ok(former) = ptrace::getevent(pid) {
                    let former = Pid::from_raw(former as i32);
                    if former != pid {
                        self.live.remove(&former);
                        self.pending.remove(&former);
                    }
                }
                self.pending.remove(&pid);
            } else if let Ok(new) = ptrace::getevent(pid) {
                self.live.insert(Pid::from_raw(new as i32));
            }
            let _ = ptrace::cont(pid, None);
        }
    }
}

/// A group-stop (the command was stopped: ^Z, SIGSTOP) stays a stop until
/// SIGCONT, as without a tracer; any other event stop just resumes.
fn group_stop(pid: Pid, sig: Signal) {
    let is_stop = matches!(
        sig,
        Signal::SIGSTOP | Signal::SIGTSTP | Signal::SIGTTIN | Signal::SIGTTOU
    );
    if is_stop {
        // SAFETY: PTRACE_LISTEN on a tracee in group-stop, no pointers.
        unsafe {
            libc::ptrace(
                libc::PTRACE_LISTEN,
                pid.as_raw(),
                std::ptr::null_mut::<libc::c_void>(),
                std::ptr::null_mut::<libc::c_void>(),
            )
        };
    } else {
        let _ = ptrace::cont(pid, None);
    }
}

fn seccomp_stop(pid: Pid, table: &[Call]) -> Option<Pending> {
    let info = ptrace::syscall_info(pid).ok()?;
    if info.op != libc::PTRACE_SYSCALL_INFO_SECCOMP {
        return None;
    }
    // SAFETY: op says the union holds the seccomp member.
    let s = unsafe { info.u.seccomp };
    let call = table.iter().position(|c| c.nr as u64 == s.nr)?;
    Some(Pending { call, args: s.args })
}

/// The errnos a sandbox answers with.
fn sandbox_errno(e: i32) -> bool {
    matches!(e, libc::EACCES | libc::EPERM | libc::EROFS)
}

fn exit_stop(pid: Pid, c: &Call, args: &[u64; 6], out: &mut Outcome) {
    let Ok(info) = ptrace::syscall_info(pid) else {
        return;
    };
    if info.op != libc::PTRACE_SYSCALL_INFO_EXIT {
        return;
    }
    // SAFETY: op says the union holds the exit member.
    let x = unsafe { info.u.exit };
    if x.is_error == 0 || !sandbox_errno(-x.sval as i32) {
        return;
    }
    let errno = -x.sval as i32;
    let seen = describe(pid, c, args, errno);
    record(out, seen);
}

fn record(out: &mut Outcome, seen: Seen) {
    if let Some(n) = out.seen.get_mut(&seen) {
        *n += 1;
    } else if out.seen.len() < MAX_DISTINCT {
        out.seen.insert(seen, 1);
    } else {
        out.dropped += 1;
    }
}

/// What the failed call touched, read from the stopped command.
fn describe(pid: Pid, c: &Call, a: &[u64; 6], errno: i32) -> Seen {
    let mut seen = Seen {
        syscall: c.name.to_string(),
        op: c.op.to_string(),
        want: c.want,
        paths: Vec::new(),
        target: None,
        errno,
        seccomp: None,
    };
    let at = |dirfd: Option<usize>, path: usize| -> Option<PathBuf> {
        resolve(pid, dirfd.map_or(AT_FDCWD, |i| a[i] as i32 as i64), a[path])
    };
    match c.shape {
        Shape::Path(p) => seen.paths.extend(at(None, p)),
        Shape::At(d, p) => seen.paths.extend(at(Some(d), p)),
        Shape::Two(x, y) => {
            seen.paths.extend(at(x.0, x.1));
            seen.paths.extend(at(y.0, y.1));
        }
        Shape::Open(d, p, flags) => {
            let flags = match flags {
                Flags::Arg(i) => a[i],
                Flags::Create => (libc::O_CREAT | libc::O_WRONLY | libc::O_TRUNC) as u64,
                Flags::OpenHow => read_u64(pid, a[2]).unwrap_or(0),
            };
            let path = at(d, p);
            let writes = flags & libc::O_ACCMODE as u64 != libc::O_RDONLY as u64
                || flags & (libc::O_CREAT | libc::O_TRUNC) as u64 != 0;
            if writes {
                let creates = flags & libc::O_CREAT as u64 != 0
                    && path.as_deref().is_some_and(|p| !exists_for(pid, p));
                seen.op = if creates { "create" } else { "open-write" }.into();
                seen.want = Want::Write;
            } else {
                seen.op = "open-read".into();
            }
            seen.paths.extend(path);
        }
        Shape::Addr => seen.target = sockaddr(pid, a[1], a[2]),
        Shape::Pid(i) => seen.target = Some(format!("pid {}", a[i] as i32)),
    }
    if c.name == "unlinkat" && a[2] & libc::AT_REMOVEDIR as u64 != 0 {
        seen.op = "rmdir".into();
    }
    seen
}

/// Whether `path` exists, as far as the tracer can tell from outside
/// (through the command's root, `/proc/PID/root`, so its mounts count).
fn exists_for(pid: Pid, path: &Path) -> bool {
    let rel = path.strip_prefix("/").unwrap_or(path);
    std::fs::symlink_metadata(Path::new(&format!("/proc/{pid}/root")).join(rel)).is_ok()
}

/// A SIGSYS from the sandbox filter's trap: the call did not run. Sets
/// the errno the filter carries as its result and records the denial.
/// Returns whether the signal was one (and is to be dropped).
fn trapped(pid: Pid, table: &[Call], out: &mut Outcome) -> bool {
    let Ok(info) = ptrace::getsiginfo(pid) else {
        return false;
    };
    if info.si_code != SYS_SECCOMP {
        return false;
    }
    let errno = info.si_errno;
    // SAFETY: a SIGSYS siginfo of si_code SYS_SECCOMP has the _sigsys
    // layout: call address, then the syscall number (int).
    let nr = unsafe {
        let base = (&info as *const libc::siginfo_t).cast::<u8>();
        std::ptr::read_unaligned(base.add(16 + std::mem::size_of::<usize>()).cast::<i32>())
    };
    let Some(args) = regs::deny(pid, errno) else {
        return false;
    };
    // clone3 answers ENOSYS so that libc falls back to clone: not a
    // denial anyone needs to see.
    if errno == libc::ENOSYS {
        return true;
    }
    let name = crate::linux::seccomp::name_of(nr as i64).unwrap_or("syscall");
    let mut seen = Seen {
        syscall: name.to_string(),
        op: name.to_string(),
        want: Want::Nothing,
        paths: Vec::new(),
        target: None,
        errno,
        seccomp: Some((nr as i64, args)),
    };
    if let Some(c) = table.iter().find(|c| c.nr == nr as i64) {
        seen.op = c.op.to_string();
    }
    if name == "socket" || name == "socketpair" {
        seen.target = Some(family(args[0]));
    }
    record(out, seen);
    true
}

fn family(f: u64) -> String {
    match f as i32 {
        libc::AF_UNIX => "AF_UNIX".into(),
        libc::AF_INET => "AF_INET".into(),
        libc::AF_INET6 => "AF_INET6".into(),
        libc::AF_NETLINK => "AF_NETLINK".into(),
        libc::AF_PACKET => "AF_PACKET".into(),
        libc::AF_VSOCK => "AF_VSOCK".into(),
        other => format!("family {other}"),
    }
}

#[cfg(target_arch = "x86_64")]
mod regs {
    use nix::sys::ptrace;
    use nix::unistd::Pid;

    /// The call's arguments, with its result set to `-errno`.
    pub fn deny(pid: Pid, errno: i32) -> Option<[u64; 6]> {
        let mut r = ptrace::getregs(pid).ok()?;
        let args = [r.rdi, r.rsi, r.rdx, r.r10, r.r8, r.r9];
        r.rax = (-(errno as i64)) as u64;
        ptrace::setregs(pid, r).ok()?;
        Some(args)
    }
}

#[cfg(target_arch = "aarch64")]
mod regs {
    use nix::sys::ptrace;
    use nix::unistd::Pid;

    /// The call's arguments, with its result set to `-errno` (x0 holds
    /// both: the trap rolled it back to the first argument).
    pub fn deny(pid: Pid, errno: i32) -> Option<[u64; 6]> {
        let mut r = ptrace::getregs(pid).ok()?;
        let args = [
            r.regs[0], r.regs[1], r.regs[2], r.regs[3], r.regs[4], r.regs[5],
        ];
        r.regs[0] = (-(errno as i64)) as u64;
        ptrace::setregs(pid, r).ok()?;
        Some(args)
    }
}

/// Reads up to `len` bytes at `addr` of the command, stopping short at an
/// unreadable page.
fn read_mem(pid: Pid, addr: u64, len: usize) -> Vec<u8> {
    use nix::sys::uio::{RemoteIoVec, process_vm_readv};
    const PAGE: u64 = 4096;
    let mut out = Vec::new();
    let mut at = addr;
    while out.len() < len && at != 0 {
        let chunk = ((PAGE - at % PAGE) as usize).min(len - out.len());
        let mut buf = vec![0u8; chunk];
        let remote = [RemoteIoVec {
            base: at as usize,
            len: chunk,
        }];
        match process_vm_readv(pid, &mut [std::io::IoSliceMut::new(&mut buf)], &remote) {
            Ok(n) if n > 0 => {
                let nul = buf[..n].iter().position(|&b| b == 0);
                out.extend_from_slice(&buf[..nul.unwrap_or(n)]);
                if nul.is_some() || n < chunk {
                    break;
                }
                at += n as u64;
            }
            _ => break,
        }
    }
    out
}

fn read_u64(pid: Pid, addr: u64) -> Option<u64> {
    use nix::sys::uio::{RemoteIoVec, process_vm_readv};
    let mut buf = [0u8; 8];
    let remote = [RemoteIoVec {
        base: addr as usize,
        len: 8,
    }];
    match process_vm_readv(pid, &mut [std::io::IoSliceMut::new(&mut buf)], &remote) {
        Ok(8) => Some(u64::from_ne_bytes(buf)),
        _ => None,
    }
}

/// The path a call names, made absolute the way the kernel starts its
/// lookup: against the command's cwd or the directory `dirfd` is open on
/// (read from `/proc`, as the command sees it). Symlinks are left to the
/// plan's lookup.
fn resolve(pid: Pid, dirfd: i64, addr: u64) -> Option<PathBuf> {
    if addr == 0 {
        return None;
    }
    let raw = PathBuf::from(OsString::from_vec(read_mem(pid, addr, PATH_MAX)));
    if raw.is_absolute() {
        return Some(raw);
    }
    let base = if dirfd == AT_FDCWD {
        std::fs::read_link(format!("/proc/{pid}/cwd")).ok()?
    } else {
        std::fs::read_link(format!("/proc/{pid}/fd/{dirfd}")).ok()?
    };
    if raw.as_os_str().is_empty() {
        return Some(base);
    }
    Some(base.join(raw))
}

/// A socket address, as text: a unix path, or an IP address and port.
fn sockaddr(pid: Pid, addr: u64, len: u64) -> Option<String> {
    let len = (len as usize).min(128);
    if addr == 0 || len < 2 {
        return None;
    }
    let mut b = read_exact(pid, addr, len)?;
    let family = u16::from_ne_bytes([b[0], b[1]]) as i32;
    match family {
        libc::AF_UNIX => {
            let path = &mut b[2..];
            if path.first() == Some(&0) {
                let name: Vec<u8> = path[1..].iter().copied().take_while(|&c| c != 0).collect();
                return Some(format!("@{}", String::from_utf8_lossy(&name)));
            }
            let end = path.iter().position(|&c| c == 0).unwrap_or(path.len());
            Some(String::from_utf8_lossy(&path[..end]).into_owned())
        }
        libc::AF_INET if b.len() >= 8 => {
            let port = u16::from_be_bytes([b[2], b[3]]);
            Some(format!("{}.{}.{}.{}:{port}", b[4], b[5], b[6], b[7]))
        }
        libc::AF_INET6 if b.len() >= 24 => {
            let port = u16::from_be_bytes([b[2], b[3]]);
            let mut ip = [0u8; 16];
            ip.copy_from_slice(&b[8..24]);
            Some(format!("[{}]:{port}", std::net::Ipv6Addr::from(ip)))
        }
        other => Some(format!("family {other}")),
    }
}

fn read_exact(pid: Pid, addr: u64, len: usize) -> Option<Vec<u8>> {
    use nix::sys::uio::{RemoteIoVec, process_vm_readv};
    let mut buf = vec![0u8; len];
    let remote = [RemoteIoVec {
        base: addr as usize,
        len,
    }];
    match process_vm_readv(pid, &mut [std::io::IoSliceMut::new(&mut buf)], &remote) {
        Ok(n) if n == len => Some(buf),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trapping_turns_only_errno_returns_into_traps() {
        let prog = vec![
            (LD_W_ABS, 0, 0, 4),
            (RET_K, 0, 0, SECCOMP_RET_ERRNO | 1),
            (RET_K, 0, 0, SECCOMP_RET_ERRNO | 38),
            (RET_K, 0, 0, SECCOMP_RET_ALLOW),
        ];
        let t = trapping(&prog);
        assert_eq!(t[0], prog[0]);
        assert_eq!(t[1], (RET_K, 0, 0, SECCOMP_RET_TRAP | 1));
        assert_eq!(t[2], (RET_K, 0, 0, SECCOMP_RET_TRAP | 38));
        assert_eq!(t[3], prog[3]);
    }

    fn eval(prog: &[Insn], nr: i64, args: [u64; 6]) -> u32 {
        super::super::seccomp::bpf::eval(prog, AUDIT_ARCH, nr as u32, args)
    }

    #[test]
    fn the_trace_filter_stops_exactly_the_calls_that_can_be_denied() {
        let w = libc::O_WRONLY as u64;
        let c = (libc::O_CREAT | libc::O_RDONLY) as u64;
        let t = libc::O_TRUNC as u64;
        for reads_denied in [false, true] {
            let prog = trace_filter(reads_denied);
            let read_open = if reads_denied {
                SECCOMP_RET_TRACE
            } else {
                SECCOMP_RET_ALLOW
            };
            let at = |nr, flags| eval(&prog, nr, [0, 0, flags, 0, 0, 0]);
            assert_eq!(at(libc::SYS_openat, 0), read_open);
            assert_eq!(at(libc::SYS_openat, libc::O_DIRECTORY as u64), read_open);
            for f in [w, c, t, libc::O_RDWR as u64] {
                assert_eq!(at(libc::SYS_openat, f), SECCOMP_RET_TRACE);
            }
            // Bits in the high half of the 64-bit argument are not flags.
            assert_eq!(at(libc::SYS_openat, 1 << 40), read_open);
            #[cfg(target_arch = "x86_64")]
            {
                let open = |flags| eval(&prog, libc::SYS_open, [0, flags, 0, 0, 0, 0]);
                assert_eq!(open(0), read_open);
                assert_eq!(open(w), SECCOMP_RET_TRACE);
            }
            for nr in [
                libc::SYS_openat2,
                libc::SYS_mkdirat,
                libc::SYS_execve,
                libc::SYS_connect,
                libc::SYS_kill,
            ] {
                assert_eq!(at(nr, 0), SECCOMP_RET_TRACE, "{nr}");
            }
            for nr in [
                libc::SYS_read,
                libc::SYS_newfstatat,
                libc::SYS_getdents64,
                libc::SYS_close,
            ] {
                assert_eq!(at(nr, w), SECCOMP_RET_ALLOW, "{nr}");
            }
        }
    }
}
