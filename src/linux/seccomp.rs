//! seccomp: the plan compiled to a list of deny rules (pure, every OS), and on
//! Linux to BPF with `seccompiler`. Every rule returns an errno (EPERM); the
//! filter never kills, so a denied call is an ordinary error for the command.

use std::fmt;

use serde::Serialize;
use serde::ser::SerializeStruct;

use crate::plan::Plan;

pub const AF_UNIX: u64 = 1;
pub const AF_INET: u64 = 2;
pub const AF_INET6: u64 = 10;
pub const SOCK_STREAM: u64 = 1;
pub const SOCK_NONBLOCK: u64 = 0o4000;
pub const SOCK_CLOEXEC: u64 = 0o2000000;
pub const IPPROTO_TCP: u64 = 6;
pub const MSG_FASTOPEN: u64 = 0x2000_0000;
pub const AF_VSOCK: u64 = 40;
pub const IPPROTO_MPTCP: u64 = 262;
pub const PRIO_PROCESS: u64 = 0;
pub const IOPRIO_WHO_PROCESS: u64 = 1;
pub const TIOCSTI: u64 = 0x5412;
pub const TIOCLINUX: u64 = 0x541C;
pub const CLONE_NEWUSER: u64 = 0x1000_0000;
pub const EPERM: i32 = 1;
pub const ENOSYS: i32 = 38;

/// Every syscall that changes the mount tree or its flags.
pub const MOUNT_API: [&str; 10] = [
    "mount",
    "umount2",
    "mount_setattr",
    "move_mount",
    "open_tree",
    "fsopen",
    "fsconfig",
    "fsmount",
    "fspick",
    "pivot_root",
];

/// The other calls that change what the filesystem looks like.
pub const VIEW_CHANGES: [&str; 2] = ["chroot", "setns"];

/// The kernel keyring calls.
pub const KEYRING: [&str; 3] = ["add_key", "keyctl", "request_key"];
/// SysV IPC and POSIX message queues: denied only in a nested run
/// (`nested.rs`), which has no IPC namespace of its own. Every call that
/// names an object, not only the ones that look one up by key: an id can
/// be guessed.
pub const IPC: [&str; 13] = [
    "shmget",
    "shmat",
    "shmctl",
    "semget",
    "semop",
    "semtimedop",
    "semctl",
    "msgget",
    "msgsnd",
    "msgrcv",
    "msgctl",
    "mq_open",
    "mq_unlink",
];

/// The calls that can make a user namespace.
pub const USER_NS: [&str; 3] = ["unshare", "clone", "clone3"];

/// Calls whose first argument names the process (or thread) they change,
/// 0 meaning the caller itself.
pub const BY_PID: [&str; 7] = [
    "prlimit64",
    "sched_setaffinity",
    "sched_setscheduler",
    "sched_setparam",
    "sched_setattr",
    "migrate_pages",
    "move_pages",
];

/// Calls that take `(which, who)`: a process, a process group or a user.
/// Which value means "one process" for each.
pub const BY_WHICH_WHO: [(&str, u64); 2] = [
    ("setpriority", PRIO_PROCESS),
    ("ioprio_set", IOPRIO_WHO_PROCESS),
];

/// When a rule matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cond {
    Always,
    /// 32-bit argument `index` equals the value.
    ArgEq(u8, u64),
    /// 32-bit argument `index` differs from the value.
    ArgNe(u8, u64),
    /// 32-bit argument `index` has every bit of the mask set.
    ArgHasBits(u8, u64),
    /// Every one of these (none itself an `All`).
    All(&'static [Cond]),
}

/// An inet socket type that is not `SOCK_STREAM` (with either flag): the
/// kernel refuses any other flag bit (EINVAL), so these four values are
/// the only stream sockets.
const NOT_STREAM: [Cond; 4] = [
    Cond::ArgNe(1, SOCK_STREAM),
    Cond::ArgNe(1, SOCK_STREAM | SOCK_NONBLOCK),
    Cond::ArgNe(1, SOCK_STREAM | SOCK_CLOEXEC),
    Cond::ArgNe(1, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC),
];
const INET_NOT_STREAM: [Cond; 5] = [
    Cond::ArgEq(0, AF_INET),
    NOT_STREAM[0],
    NOT_STREAM[1],
    NOT_STREAM[2],
    NOT_STREAM[3],
];
const INET6_NOT_STREAM: [Cond; 5] = [
    Cond::ArgEq(0, AF_INET6),
    NOT_STREAM[0],
    NOT_STREAM[1],
    NOT_STREAM[2],
    NOT_STREAM[3],
];
/// Protocol 0 (the default, TCP for a stream) and IPPROTO_TCP only: MPTCP
/// (262) and SCTP (132) are stream sockets too.
const INET_NOT_TCP: [Cond; 3] = [
    Cond::ArgEq(0, AF_INET),
    Cond::ArgNe(2, 0),
    Cond::ArgNe(2, IPPROTO_TCP),
];
const INET6_NOT_TCP: [Cond; 3] = [
    Cond::ArgEq(0, AF_INET6),
    Cond::ArgNe(2, 0),
    Cond::ArgNe(2, IPPROTO_TCP),
];
const NOT_UNIX_OR_INET: [Cond; 3] = [
    Cond::ArgNe(0, AF_UNIX),
    Cond::ArgNe(0, AF_INET),
    Cond::ArgNe(0, AF_INET6),
];

/// ` if arg1 == 0x5412`, as `--dry-run` and `explain` print it; empty for
/// `Always`.
impl fmt::Display for Cond {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Cond::Always => Ok(()),
            Cond::ArgEq(i, v) => write!(f, " if arg{i} == {v:#x}"),
            Cond::ArgNe(i, v) => write!(f, " if arg{i} != {v:#x}"),
            Cond::ArgHasBits(i, v) => write!(f, " if arg{i} & {v:#x}"),
            Cond::All(all) => {
                for (n, c) in all.iter().enumerate() {
                    let one = c.to_string();
                    let one = one.trim_start_matches(" if ");
                    let sep = if n == 0 { " if " } else { " && " };
                    write!(f, "{sep}{one}")?;
                }
                Ok(())
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rule {
    pub syscall: &'static str,
    pub cond: Cond,
    pub errno: i32,
    pub why: &'static str,
    /// The `explain` feature kind this rule enforces (`network`,
    /// `process-targets`, ...): how `features` finds a feature's rules, so
    /// a rule cannot be emitted without being reported, or reported
    /// without being emitted. Not in the JSON, whose shape is documented.
    #[serde(skip)]
    pub feature: &'static str,
}

/// The filter: rules plus the fixed prologue (foreign-arch and x32 checks).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter {
    pub rules: Vec<Rule>,
    /// The BPF program as `(code, jt, jf, k)`; empty off Linux, where
    /// seccompiler does not build.
    pub bpf: Vec<(u16, u8, u8, u32)>,
}

/// `null` for always, else `{"arg": N, "op": "eq"|"ne"|"has_bits", "value": V}`,
/// or `{"all": [those]}` when every one must hold.
impl Serialize for Cond {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (arg, op, value) = match *self {
            Cond::Always => return s.serialize_none(),
            Cond::All(all) => {
                let mut st = s.serialize_struct("Cond", 1)?;
                st.serialize_field("all", all)?;
                return st.end();
            }
            Cond::ArgEq(i, v) => (i, "eq", v),
            Cond::ArgNe(i, v) => (i, "ne", v),
            Cond::ArgHasBits(i, v) => (i, "has_bits", v),
        };
        let mut st = s.serialize_struct("Cond", 3)?;
        st.serialize_field("arg", &arg)?;
        st.serialize_field("op", op)?;
        st.serialize_field("value", &value)?;
        st.end()
    }
}

/// The instruction count stands for the program, as in the text form.
impl Serialize for Filter {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("Filter", 3)?;
        st.serialize_field("default", "allow")?;
        st.serialize_field("bpf_instructions", &self.bpf.len())?;
        st.serialize_field("rules", &self.rules)?;
        st.end()
    }
}

/// The feature kinds of the rules `compile` emits, as `explain` names them.
pub mod kind {
    pub const NETWORK: &str = "network";
    pub const UNIX_SOCKETS: &str = "unix-sockets";
    pub const VSOCK: &str = "vsock";
    pub const IO_URING: &str = "io-uring";
    pub const MOUNT_CHANGES: &str = "mount-changes";
    pub const OPEN_BY_HANDLE: &str = "open-by-handle";
    pub const USER_NAMESPACES: &str = "user-namespaces";
    pub const KEYRINGS: &str = "keyrings";
    pub const TERMINAL_INJECTION: &str = "terminal-injection";
    pub const PROCESS_TARGETS: &str = "process-targets";
    pub const IPC: &str = "ipc";
}

fn deny(feature: &'static str, syscall: &'static str, cond: Cond, why: &'static str) -> Rule {
    Rule {
        syscall,
        cond,
        errno: EPERM,
        why,
        feature,
    }
}

pub fn compile(plan: &Plan) -> crate::error::Result<Filter> {
    let mut rules = Vec::new();
    // Each network setting adds its own rules, whatever the other says:
    // several rules on one syscall are ORed, so with both off every
    // socket(2) is denied.
    if plan.network.partial() {
        // Ports or domains: TCP over IPv4/IPv6 and nothing else of the
        // inet families (no UDP, raw, ICMP, SCTP, MPTCP); Landlock (ports)
        // or the network namespace (domains) decide where TCP goes.
        rules.push(deny(
            kind::NETWORK,
            "socket",
            Cond::All(&NOT_UNIX_OR_INET),
            "network partial: only AF_UNIX, AF_INET and AF_INET6 sockets",
        ));
        for (cond, why) in [
            (
                &INET_NOT_STREAM,
                "network partial: AF_INET only SOCK_STREAM",
            ),
            (
                &INET6_NOT_STREAM,
                "network partial: AF_INET6 only SOCK_STREAM",
            ),
        ] {
            rules.push(deny(kind::NETWORK, "socket", Cond::All(cond), why));
        }
        for (cond, why) in [
            (&INET_NOT_TCP, "network partial: AF_INET only TCP"),
            (&INET6_NOT_TCP, "network partial: AF_INET6 only TCP"),
        ] {
            rules.push(deny(kind::NETWORK, "socket", Cond::All(cond), why));
        }
        // TCP Fast Open connects inside sendto/sendmsg, where Landlock's
        // connect hook is not called (tests/network.rs shows the bypass):
        // the flag is denied. TCP_FASTOPEN_CONNECT goes through connect(2)
        // and is checked there.
        for (syscall, arg) in [("sendto", 3), ("sendmsg", 2), ("sendmmsg", 3)] {
            rules.push(deny(
                kind::NETWORK,
                syscall,
                Cond::ArgHasBits(arg, MSG_FASTOPEN),
                "network partial: MSG_FASTOPEN connects past Landlock",
            ));
        }
    } else if !plan.network.enabled {
        rules.push(deny(
            kind::NETWORK,
            "socket",
            Cond::ArgNe(0, AF_UNIX),
            "network off: only AF_UNIX sockets",
        ));
    }
    if !plan.network.enabled {
        // MPTCP is IPPROTO_MPTCP on an inet socket; denied on any family.
        rules.push(deny(
            kind::NETWORK,
            "socket",
            Cond::ArgEq(2, IPPROTO_MPTCP),
            "network off: MPTCP on any family",
        ));
        // socketpair(2) creates its two sockets before the family says it
        // cannot pair them (EOPNOTSUPP for inet): no other family's socket
        // comes into being, nor is its module loaded, through it either.
        rules.push(deny(
            kind::NETWORK,
            "socketpair",
            Cond::ArgNe(0, AF_UNIX),
            "network off: only AF_UNIX socket pairs",
        ));
    }
    // socketpair(AF_UNIX) stays: a connected pair reaches nothing outside.
    if !plan.network.unix_sockets {
        rules.push(deny(
            kind::UNIX_SOCKETS,
            "socket",
            Cond::ArgEq(0, AF_UNIX),
            "unix_sockets = false",
        ));
    }
    // A vsock is a channel to the hypervisor host (or other VMs), past
    // every network namespace and firewall of the guest: no profile needs
    // it, so it is denied whatever the network says.
    rules.push(deny(
        kind::VSOCK,
        "socket",
        Cond::ArgEq(0, AF_VSOCK),
        "vsock reaches the hypervisor host",
    ));
    // io_uring performs socket and file operations without the syscalls
    // above, so it is off whatever the network says.
    for s in ["io_uring_setup", "io_uring_enter", "io_uring_register"] {
        rules.push(deny(
            kind::IO_URING,
            s,
            Cond::Always,
            "io_uring bypasses syscall filtering",
        ));
    }
    // Landlock forbids mount, umount, move_mount and pivot_root, but not
    // mount_setattr, with which a root command could turn the read-only
    // world (mounts.rs) writable again. The whole mount API is denied, which
    // also covers hosts without Landlock.
    for s in MOUNT_API {
        rules.push(deny(
            kind::MOUNT_CHANGES,
            s,
            Cond::Always,
            "mount changes could undo the read-only mounts",
        ));
    }
    // With CAP_DAC_READ_SEARCH (root) it opens any file of a filesystem
    // through a writable mount of it, past read-only binds and Landlock.
    rules.push(deny(
        kind::OPEN_BY_HANDLE,
        "open_by_handle_at",
        Cond::Always,
        "opens files past read-only binds and Landlock",
    ));
    // chroot (root only: it needs CAP_SYS_CHROOT) and setns gain nothing
    // past Landlock, which checks real paths and keeps the namespace files
    // of outside processes out of reach. They are the remaining calls that
    // change the process's view of the filesystem, and nothing a command
    // needs under a sandbox: denied with the mount API.
    for s in VIEW_CHANGES {
        rules.push(deny(
            kind::MOUNT_CHANGES,
            s,
            Cond::Always,
            "changes the root directory or namespaces, like the mount API",
        ));
    }
    // A nested user namespace gives every capability again, over namespaces
    // it then creates: Landlock and this filter still hold, but the kernel
    // code reachable with those capabilities is the usual first step of a
    // kernel exploit. Docker's and Flatpak's filters deny it too. clone3
    // passes its flags in memory a filter cannot read, so it answers ENOSYS
    // and the C libraries fall back to clone, whose flags are checked.
    for s in &USER_NS[..2] {
        rules.push(deny(
            kind::USER_NAMESPACES,
            s,
            Cond::ArgHasBits(0, CLONE_NEWUSER),
            "a nested user namespace regains capabilities",
        ));
    }
    // The kernel keyrings are not namespaced: the caller's session keyring
    // (Kerberos tickets, ecryptfs and other secrets) and the user's
    // persistent keyring are shared with everything the user runs. Docker's
    // filter denies these too.
    for s in KEYRING {
        rules.push(deny(
            kind::KEYRINGS,
            s,
            Cond::Always,
            "the kernel keyrings are shared with processes outside",
        ));
    }
    rules.push(Rule {
        syscall: "clone3",
        cond: Cond::Always,
        errno: ENOSYS,
        why: "its flags cannot be checked; libc falls back to clone",
        feature: kind::USER_NAMESPACES,
    });
    rules.push(deny(
        kind::TERMINAL_INJECTION,
        "ioctl",
        Cond::ArgEq(1, TIOCSTI),
        "TIOCSTI would push keystrokes into the caller's terminal",
    ));
    rules.push(deny(
        kind::TERMINAL_INJECTION,
        "ioctl",
        Cond::ArgEq(1, TIOCLINUX),
        "TIOCLINUX can push keystrokes into the console",
    ));
    // Processes outside the sandbox. Landlock scopes only signals and
    // abstract sockets, and these calls check only that the target has the
    // caller's uid (root: any process), not the ptrace access Landlock
    // hooks: without these rules a command could set another process's
    // RLIMIT_CPU to 0 (killing it), renice it, pin it to one CPU or starve
    // its I/O. A PID namespace would hide outsiders, but needs a supervisor
    // process instead of exec in place. So each call may only name the
    // caller itself (0); the filter cannot tell the command's own children
    // and threads from outsiders, so they are refused too (SECURITY.md,
    // Decisions). The kernel reads these arguments as ints: 32 bits.
    for s in BY_PID {
        rules.push(deny(
            kind::PROCESS_TARGETS,
            s,
            Cond::ArgNe(0, 0),
            "only the caller itself (pid 0), no other process",
        ));
    }
    // PRIO_PGRP 0 is the caller's process group, which can hold processes
    // outside the sandbox (the other side of a pipeline); PRIO_USER 0 is
    // every process of the user.
    for (s, one_process) in BY_WHICH_WHO {
        rules.push(deny(
            kind::PROCESS_TARGETS,
            s,
            Cond::ArgNe(0, one_process),
            "only one process, never a process group or a user",
        ));
    }
    for (s, _) in BY_WHICH_WHO {
        rules.push(deny(
            kind::PROCESS_TARGETS,
            s,
            Cond::ArgNe(1, 0),
            "only the caller itself (who 0), no other process",
        ));
    }
    #[cfg(target_os = "linux")]
    let bpf = bpf::to_bpf(&rules)?;
    #[cfg(not(target_os = "linux"))]
    let bpf = Vec::new();
    Ok(Filter { rules, bpf })
}

impl Filter {
    /// This filter plus the IPC rules, for a run stacked on an enclosing
    /// sandbox instead of a private IPC namespace (`nested.rs`).
    pub fn with_ipc_denied(&self) -> crate::error::Result<Filter> {
        let mut rules = self.rules.clone();
        for s in IPC {
            rules.push(deny(
                kind::IPC,
                s,
                Cond::Always,
                "nested run: no IPC namespace of its own, so no IPC with the enclosing sandbox",
            ));
        }
        #[cfg(target_os = "linux")]
        let bpf = bpf::to_bpf(&rules)?;
        #[cfg(not(target_os = "linux"))]
        let bpf = Vec::new();
        Ok(Filter { rules, bpf })
    }
}

impl fmt::Display for Filter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "seccomp:")?;
        writeln!(f, "  default: allow")?;
        writeln!(
            f,
            "  prologue: non-native arch -> EPERM (exit, exit_group allowed)"
        )?;
        writeln!(f, "  prologue: x32 syscall numbers -> EPERM")?;
        if !self.bpf.is_empty() {
            writeln!(f, "  bpf_instructions: {}", self.bpf.len())?;
        }
        for r in &self.rules {
            writeln!(
                f,
                "  rule {}{} -> errno {}  # {}",
                r.syscall, r.cond, r.errno, r.why
            )?;
        }
        Ok(())
    }
}

#[cfg(target_os = "linux")]
pub use bpf::name_of;

impl Cond {
    /// Whether the condition holds for these arguments (32-bit compares,
    /// as the filter makes them).
    pub fn matches(&self, args: &[u64; 6]) -> bool {
        let arg = |i: u8| args[i as usize] & 0xffff_ffff;
        match *self {
            Cond::Always => true,
            Cond::ArgEq(i, v) => arg(i) == v,
            Cond::ArgNe(i, v) => arg(i) != v,
            Cond::ArgHasBits(i, v) => arg(i) & v == v,
            Cond::All(all) => all.iter().all(|c| c.matches(args)),
        }
    }
}

/// Classic BPF opcodes and seccomp return values for the hand-written
/// instructions (the filter's prologue here, the trace filter in
/// `trace.rs`): one set for both.
#[cfg(target_os = "linux")]
pub mod insn {
    pub const LD_W_ABS: u16 = 0x20;
    pub const JEQ_K: u16 = 0x15;
    pub const JGE_K: u16 = 0x35;
    pub const RET_K: u16 = 0x06;
    pub const SECCOMP_RET_ACTION: u32 = 0xffff_0000;
    pub const SECCOMP_RET_ERRNO: u32 = 0x0005_0000;
    pub const SECCOMP_RET_TRAP: u32 = 0x0003_0000;
    pub const SECCOMP_RET_TRACE: u32 = 0x7ff0_0000;
    pub const SECCOMP_RET_ALLOW: u32 = 0x7fff_0000;
    #[cfg(target_arch = "x86_64")]
    pub const AUDIT_ARCH: u32 = 0xC000_003E;
    #[cfg(target_arch = "aarch64")]
    pub const AUDIT_ARCH: u32 = 0xC000_00B7;
}

#[cfg(target_os = "linux")]
mod bpf {
    use std::collections::BTreeMap;

    use seccompiler::{
        BpfProgram, SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter,
        SeccompRule, TargetArch, sock_filter,
    };

    use super::{Cond, Rule};
    use crate::error::{Error, Result};

    use super::insn::{JEQ_K, JGE_K, LD_W_ABS, RET_K, SECCOMP_RET_ALLOW, SECCOMP_RET_ERRNO};
    const OFFSET_NR: u32 = 0;
    const OFFSET_ARCH: u32 = 4;

    #[cfg(target_arch = "x86_64")]
    mod arch {
        pub const NATIVE: seccompiler::TargetArch = seccompiler::TargetArch::x86_64;
        /// i386 `exit` and `exit_group`: a 32-bit program may still end.
        pub const FOREIGN_EXITS: [u32; 2] = [1, 252];
        /// x32 syscalls are native-arch calls with this bit set.
        pub const X32_BIT: Option<u32> = Some(0x4000_0000);
    }
    #[cfg(target_arch = "aarch64")]
    mod arch {
        pub const NATIVE: seccompiler::TargetArch = seccompiler::TargetArch::aarch64;
        /// arm32 `exit` and `exit_group`.
        pub const FOREIGN_EXITS: [u32; 2] = [1, 248];
        pub const X32_BIT: Option<u32> = None;
    }

    fn stmt(code: u16, k: u32) -> sock_filter {
        sock_filter {
            code,
            jt: 0,
            jf: 0,
            k,
        }
    }
    fn jump(code: u16, k: u32, jt: u8, jf: u8) -> sock_filter {
        sock_filter { code, jt, jf, k }
    }

    /// Every name [`nr`] knows, for the way back.
    const NAMES: [&str; 34] = [
        "socket",
        "socketpair",
        "prlimit64",
        "setpriority",
        "sched_setaffinity",
        "sched_setscheduler",
        "sched_setparam",
        "sched_setattr",
        "ioprio_set",
        "migrate_pages",
        "move_pages",
        "ioctl",
        "io_uring_setup",
        "io_uring_enter",
        "io_uring_register",
        "mount",
        "umount2",
        "mount_setattr",
        "move_mount",
        "open_tree",
        "fsopen",
        "fsconfig",
        "fsmount",
        "fspick",
        "pivot_root",
        "open_by_handle_at",
        "chroot",
        "setns",
        "add_key",
        "keyctl",
        "request_key",
        "unshare",
        "clone",
        "clone3",
    ];

    /// The name of a syscall number the filter has a rule for.
    pub fn name_of(n: i64) -> Option<&'static str> {
        NAMES.iter().copied().find(|s| nr(s).ok() == Some(n))
    }

    fn nr(name: &str) -> Result<i64> {
        Ok(match name {
            "socket" => libc::SYS_socket,
            "socketpair" => libc::SYS_socketpair,
            "sendto" => libc::SYS_sendto,
            "sendmsg" => libc::SYS_sendmsg,
            "sendmmsg" => libc::SYS_sendmmsg,
            "prlimit64" => libc::SYS_prlimit64,
            "setpriority" => libc::SYS_setpriority,
            "sched_setaffinity" => libc::SYS_sched_setaffinity,
            "sched_setscheduler" => libc::SYS_sched_setscheduler,
            "sched_setparam" => libc::SYS_sched_setparam,
            "sched_setattr" => libc::SYS_sched_setattr,
            "ioprio_set" => libc::SYS_ioprio_set,
            "migrate_pages" => libc::SYS_migrate_pages,
            "move_pages" => libc::SYS_move_pages,
            "ioctl" => libc::SYS_ioctl,
            "io_uring_setup" => libc::SYS_io_uring_setup,
            "io_uring_enter" => libc::SYS_io_uring_enter,
            "io_uring_register" => libc::SYS_io_uring_register,
            "mount" => libc::SYS_mount,
            "umount2" => libc::SYS_umount2,
            "mount_setattr" => libc::SYS_mount_setattr,
            "move_mount" => libc::SYS_move_mount,
            "open_tree" => libc::SYS_open_tree,
            "fsopen" => libc::SYS_fsopen,
            "fsconfig" => libc::SYS_fsconfig,
            "fsmount" => libc::SYS_fsmount,
            "fspick" => libc::SYS_fspick,
            "pivot_root" => libc::SYS_pivot_root,
            "open_by_handle_at" => libc::SYS_open_by_handle_at,
            "chroot" => libc::SYS_chroot,
            "setns" => libc::SYS_setns,
            "add_key" => libc::SYS_add_key,
            "keyctl" => libc::SYS_keyctl,
            "request_key" => libc::SYS_request_key,
            "unshare" => libc::SYS_unshare,
            "clone" => libc::SYS_clone,
            "clone3" => libc::SYS_clone3,
            "shmget" => libc::SYS_shmget,
            "shmat" => libc::SYS_shmat,
            "shmctl" => libc::SYS_shmctl,
            "semget" => libc::SYS_semget,
            "semop" => libc::SYS_semop,
            "semtimedop" => libc::SYS_semtimedop,
            "semctl" => libc::SYS_semctl,
            "msgget" => libc::SYS_msgget,
            "msgsnd" => libc::SYS_msgsnd,
            "msgrcv" => libc::SYS_msgrcv,
            "msgctl" => libc::SYS_msgctl,
            "mq_open" => libc::SYS_mq_open,
            "mq_unlink" => libc::SYS_mq_unlink,
            other => {
                return Err(Error::new(format!(
                    "internal: no syscall number for {other}"
                )));
            }
        })
    }

    fn cond(c: Cond) -> Result<Vec<SeccompCondition>> {
        let mk = |i: u8, op, v| {
            SeccompCondition::new(i, SeccompCmpArgLen::Dword, op, v)
                .map_err(|e| Error::new(format!("internal: seccomp condition: {e}")))
        };
        Ok(match c {
            Cond::Always => vec![],
            Cond::ArgEq(i, v) => vec![mk(i, SeccompCmpOp::Eq, v)?],
            Cond::ArgNe(i, v) => vec![mk(i, SeccompCmpOp::Ne, v)?],
            Cond::ArgHasBits(i, v) => vec![mk(i, SeccompCmpOp::MaskedEq(v), v)?],
            // seccompiler ANDs the conditions of one rule.
            Cond::All(all) => {
                let mut out = Vec::with_capacity(all.len());
                for &c in all {
                    if matches!(c, Cond::All(_) | Cond::Always) {
                        return Err(Error::new("internal: nested seccomp condition"));
                    }
                    out.extend(cond(c)?);
                }
                out
            }
        })
    }

    /// Compiles the rules to BPF. seccompiler checks the architecture but
    /// kills on a mismatch and knows nothing of x32, so its three-instruction
    /// arch prologue is replaced by ours: foreign-arch calls (i386 `int 0x80`)
    /// get EPERM except exit, and x32 numbers get EPERM. seccompiler has one
    /// errno per filter: unconditional rules with another errno (clone3's
    /// ENOSYS) become checks in the prologue.
    pub fn to_bpf(rules: &[Rule]) -> Result<Vec<(u16, u8, u8, u32)>> {
        // An empty rule list means "match unconditionally" in seccompiler.
        let mut map: BTreeMap<i64, Vec<SeccompRule>> = BTreeMap::new();
        let mut always = Vec::new();
        let mut other_errno = Vec::new();
        for r in rules {
            let n = nr(r.syscall)?;
            if r.errno != super::EPERM {
                if r.cond != Cond::Always {
                    return Err(Error::new(format!(
                        "internal: seccomp rule on {} with errno {} must be unconditional",
                        r.syscall, r.errno
                    )));
                }
                other_errno.push((n as u32, r.errno as u32));
            } else if r.cond == Cond::Always {
                always.push(n);
                map.insert(n, Vec::new());
            } else if !always.contains(&n) {
                let rule = SeccompRule::new(cond(r.cond)?)
                    .map_err(|e| Error::new(format!("internal: seccomp rule: {e}")))?;
                map.entry(n).or_default().push(rule);
            }
        }
        let errno = super::EPERM as u32;
        let compiled = SeccompFilter::new(
            map,
            SeccompAction::Allow,
            SeccompAction::Errno(errno),
            arch::NATIVE as TargetArch,
        )
        .and_then(BpfProgram::try_from)
        .map_err(|e| Error::new(format!("internal: seccomp compile: {e}")))?;
        // seccompiler's layout: [ld arch, jeq arch, ret kill, ld nr, ...].
        debug_assert_eq!(compiled[3].code, LD_W_ABS);
        let eperm = SECCOMP_RET_ERRNO | errno;
        let mut prog = vec![
            stmt(LD_W_ABS, OFFSET_ARCH),
            jump(JEQ_K, super::insn::AUDIT_ARCH, 5, 0),
            // Foreign architecture.
            stmt(LD_W_ABS, OFFSET_NR),
            jump(JEQ_K, arch::FOREIGN_EXITS[0], 2, 0),
            jump(JEQ_K, arch::FOREIGN_EXITS[1], 1, 0),
            stmt(RET_K, eperm),
            stmt(RET_K, SECCOMP_RET_ALLOW),
            // Native architecture.
            stmt(LD_W_ABS, OFFSET_NR),
        ];
        debug_assert_eq!(prog[1].jt as usize, prog.len() - 3);
        if let Some(bit) = arch::X32_BIT {
            prog.push(jump(JGE_K, bit, 0, 1));
            prog.push(stmt(RET_K, eperm));
        }
        for (n, e) in other_errno {
            prog.push(jump(JEQ_K, n, 0, 1));
            prog.push(stmt(RET_K, SECCOMP_RET_ERRNO | e));
        }
        prog.extend_from_slice(&compiled[4..]);
        Ok(prog.iter().map(|i| (i.code, i.jt, i.jf, i.k)).collect())
    }
}
