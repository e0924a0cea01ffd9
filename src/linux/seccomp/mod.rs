//! seccomp: the plan compiled to a list of deny rules (pure, every OS), and on
//! Linux to BPF (`bpf.rs`). Every rule returns an errno (EPERM); the
//! filter never kills, so a denied call is an ordinary error for the command.

use std::fmt;

use serde::Serialize;
use serde::ser::SerializeStruct;

use crate::enforcement::Kind;
use crate::plan::Plan;
use crate::policy::Network;

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
/// `tcsetpgrp`: which process group of the session the terminal signals.
pub const TIOCSPGRP: u64 = 0x5410;
pub const CLONE_NEWUSER: u64 = 0x1000_0000;
pub const EPERM: i32 = 1;
pub const ENOSYS: i32 = 38;

/// Every syscall that changes the mount tree or its flags.
pub const MOUNT_API: [&str; 11] = [
    "mount",
    "umount2",
    "mount_setattr",
    "move_mount",
    "open_tree",
    "open_tree_attr",
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
    pub feature: Kind,
}

/// The filter: rules plus the fixed prologue (foreign-arch and x32 checks).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter {
    pub rules: Vec<Rule>,
    /// The BPF program (`bpf.rs`); empty off Linux, where no filter is
    /// installed.
    pub bpf: Vec<Insn>,
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

fn deny(feature: Kind, syscall: &'static str, cond: Cond, why: &'static str) -> Rule {
    Rule {
        syscall,
        cond,
        errno: EPERM,
        why,
        feature,
    }
}

pub fn compile(plan: &Plan) -> crate::error::Result<Filter> {
    filter(rules(&plan.network))
}

/// Every rule, for a plan's network settings (the only part of a plan the
/// filter depends on).
fn rules(net: &Network) -> Vec<Rule> {
    let mut rules = network_rules(net);
    rules.extend(fixed_rules());
    rules.extend(process_rules());
    rules
}

/// The rules and their program.
fn filter(rules: Vec<Rule>) -> crate::error::Result<Filter> {
    #[cfg(target_os = "linux")]
    let bpf = bpf::to_bpf(&rules)?;
    #[cfg(not(target_os = "linux"))]
    let bpf = Vec::new();
    Ok(Filter { rules, bpf })
}

/// Sockets: which families and types the network settings leave.
fn network_rules(net: &Network) -> Vec<Rule> {
    let mut rules = Vec::new();
    // Each network setting adds its own rules, whatever the other says:
    // several rules on one syscall are ORed, so with both off every
    // socket(2) is denied.
    if net.partial() {
        rules.extend(partial_network_rules());
    } else if !net.enabled {
        rules.push(deny(
            Kind::Network,
            "socket",
            Cond::ArgNe(0, AF_UNIX),
            "network off: only AF_UNIX sockets",
        ));
    }
    if !net.enabled {
        // MPTCP is IPPROTO_MPTCP on an inet socket; denied on any family.
        rules.push(deny(
            Kind::Network,
            "socket",
            Cond::ArgEq(2, IPPROTO_MPTCP),
            "network off: MPTCP on any family",
        ));
        // socketpair(2) creates its two sockets before the family says it
        // cannot pair them (EOPNOTSUPP for inet): no other family's socket
        // comes into being, nor is its module loaded, through it either.
        rules.push(deny(
            Kind::Network,
            "socketpair",
            Cond::ArgNe(0, AF_UNIX),
            "network off: only AF_UNIX socket pairs",
        ));
    }
    // socketpair(AF_UNIX) stays: a connected pair reaches nothing outside.
    if !net.unix_sockets {
        rules.push(deny(
            Kind::UnixSockets,
            "socket",
            Cond::ArgEq(0, AF_UNIX),
            "unix_sockets = false",
        ));
    }
    rules
}

/// Ports or domains: TCP over IPv4/IPv6 and nothing else of the inet
/// families (no UDP, raw, ICMP, SCTP, MPTCP); Landlock (ports) or the
/// network namespace (domains) decide where TCP goes.
fn partial_network_rules() -> Vec<Rule> {
    let mut rules = Vec::new();
    rules.push(deny(
        Kind::Network,
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
        rules.push(deny(Kind::Network, "socket", Cond::All(cond), why));
    }
    for (cond, why) in [
        (&INET_NOT_TCP, "network partial: AF_INET only TCP"),
        (&INET6_NOT_TCP, "network partial: AF_INET6 only TCP"),
    ] {
        rules.push(deny(Kind::Network, "socket", Cond::All(cond), why));
    }
    // TCP Fast Open connects inside sendto/sendmsg, where Landlock's
    // connect hook is not called (tests/network.rs shows the bypass):
    // the flag is denied. TCP_FASTOPEN_CONNECT goes through connect(2)
    // and is checked there.
    for (syscall, arg) in [("sendto", 3), ("sendmsg", 2), ("sendmmsg", 3)] {
        rules.push(deny(
            Kind::Network,
            syscall,
            Cond::ArgHasBits(arg, MSG_FASTOPEN),
            "network partial: MSG_FASTOPEN connects past Landlock",
        ));
    }
    rules
}

/// What no sandbox allows, whatever its settings.
fn fixed_rules() -> Vec<Rule> {
    let mut rules = view_rules();
    rules.extend(shared_state_rules());
    rules
}

/// Calls that would change or go around the view the mounts, Landlock and
/// this filter build: io_uring, the mount API, handles, chroot, setns,
/// nested user namespaces.
fn view_rules() -> Vec<Rule> {
    let mut rules = Vec::new();
    // io_uring performs socket and file operations without the syscalls
    // above, so it is off whatever the network says.
    for s in ["io_uring_setup", "io_uring_enter", "io_uring_register"] {
        rules.push(deny(
            Kind::IoUring,
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
            Kind::MountChanges,
            s,
            Cond::Always,
            "mount changes could undo the read-only mounts",
        ));
    }
    // With CAP_DAC_READ_SEARCH (root) it opens any file of a filesystem
    // through a writable mount of it, past read-only binds and Landlock.
    rules.push(deny(
        Kind::OpenByHandle,
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
            Kind::MountChanges,
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
            Kind::UserNamespaces,
            s,
            Cond::ArgHasBits(0, CLONE_NEWUSER),
            "a nested user namespace regains capabilities",
        ));
    }
    rules.push(Rule {
        syscall: "clone3",
        cond: Cond::Always,
        errno: ENOSYS,
        why: "its flags cannot be checked; libc falls back to clone",
        feature: Kind::UserNamespaces,
    });
    rules
}

/// Kernel state shared with processes outside: the hypervisor host's
/// vsock, keyrings, the terminal's input queue.
fn shared_state_rules() -> Vec<Rule> {
    let mut rules = Vec::new();
    // A vsock is a channel to the hypervisor host (or other VMs), past
    // every network namespace and firewall of the guest: no profile needs
    // it, so it is denied whatever the network says.
    rules.push(deny(
        Kind::Vsock,
        "socket",
        Cond::ArgEq(0, AF_VSOCK),
        "vsock reaches the hypervisor host",
    ));
    // The kernel keyrings are not namespaced: the caller's session keyring
    // (Kerberos tickets, ecryptfs and other secrets) and the user's
    // persistent keyring are shared with everything the user runs. Docker's
    // filter denies these too.
    for s in KEYRING {
        rules.push(deny(
            Kind::Keyrings,
            s,
            Cond::Always,
            "the kernel keyrings are shared with processes outside",
        ));
    }
    rules.push(deny(
        Kind::TerminalInjection,
        "ioctl",
        Cond::ArgEq(1, TIOCSTI),
        "TIOCSTI would push keystrokes into the caller's terminal",
    ));
    rules.push(deny(
        Kind::TerminalInjection,
        "ioctl",
        Cond::ArgEq(1, TIOCLINUX),
        "TIOCLINUX can push keystrokes into the console",
    ));
    rules
}

/// Calls that name another process by pid, group or user.
fn process_rules() -> Vec<Rule> {
    let mut rules = Vec::new();
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
            Kind::ProcessTargets,
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
            Kind::ProcessTargets,
            s,
            Cond::ArgNe(0, one_process),
            "only one process, never a process group or a user",
        ));
    }
    for (s, _) in BY_WHICH_WHO {
        rules.push(deny(
            Kind::ProcessTargets,
            s,
            Cond::ArgNe(1, 0),
            "only the caller itself (who 0), no other process",
        ));
    }
    rules
}

impl Filter {
    /// This filter plus the rules only the launch knows are needed, in one
    /// compile: `ipc_denied` for a run stacked on an enclosing sandbox
    /// instead of a private IPC namespace (`nested.rs`);
    /// `foreground_fixed` for a command that keeps the caller's controlling
    /// terminal, which may not hand the terminal to another process group.
    /// The terminal signals its foreground group itself (^C, ^\\, ^Z, a
    /// hang-up, or a character the command made special with `VINTR`
    /// arriving in the terminal's own reply to a query), and no signal
    /// scope sees that: a command that made another job of the caller's
    /// session the foreground could have the terminal kill it (adversarial
    /// pass 10). Job control inside such a run is lost with it (a shell
    /// there says so and goes on); a command in a session of its own (no
    /// terminal on fds 0-2, `--new-session`) keeps it for its own ptys.
    pub fn with_launch_rules(
        &self,
        ipc_denied: bool,
        foreground_fixed: bool,
    ) -> crate::error::Result<Filter> {
        let mut rules = self.rules.clone();
        if ipc_denied {
            rules.extend(IPC.iter().map(|s| {
                deny(
                    Kind::Ipc,
                    s,
                    Cond::Always,
                    "nested run: no IPC namespace of its own, so no IPC with the enclosing sandbox",
                )
            }));
        }
        if foreground_fixed {
            rules.push(deny(
                Kind::TerminalInjection,
                "ioctl",
                Cond::ArgEq(1, TIOCSPGRP),
                "TIOCSPGRP would hand the caller's terminal to a process group outside the sandbox, which the terminal then signals",
            ));
        }
        filter(rules)
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
pub(super) mod bpf;

/// One classic-BPF instruction: (code, jt, jf, k), as `struct sock_filter`.
pub type Insn = (u16, u8, u8, u32);
