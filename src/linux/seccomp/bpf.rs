//! The rules compiled to classic BPF. Written here rather than by
//! seccompiler, which dispatches on the syscall number with a linear list
//! of compares: the kernel runs the program once for every syscall number
//! when the filter is installed (to cache the numbers it always allows), and
//! again on every call the command makes, so the list's length was paid
//! about 900 times at start-up (a third of a millisecond for 233
//! instructions) and on each call. Here the numbers are found by a binary
//! search: about a dozen instructions whatever the number.
//!
//! The arch prologue is ours too: foreign-arch calls (i386 `int 0x80`) get
//! EPERM except exit, and x32 numbers get EPERM, where seccompiler would
//! kill.

use std::collections::BTreeMap;

use super::insn::{JEQ_K, JGE_K, LD_W_ABS, RET_K, SECCOMP_RET_ALLOW, SECCOMP_RET_ERRNO};
use super::{Cond, Insn, Rule};
use crate::error::{Error, Result};

const JA: u16 = 0x05;
const ALU_AND_K: u16 = 0x54;
const OFFSET_NR: u32 = 0;
const OFFSET_ARCH: u32 = 4;
/// Offset of the low 32 bits of argument `i` (little-endian): the kernel
/// reads these arguments as ints, and the rules compare 32 bits.
const fn offset_arg(i: u8) -> u32 {
    16 + 8 * i as u32
}
/// Numbers a leaf of the search compares one by one.
const LEAF: usize = 4;

#[cfg(target_arch = "x86_64")]
mod arch {
    /// i386 `exit` and `exit_group`: a 32-bit program may still end.
    pub const FOREIGN_EXITS: [u32; 2] = [1, 252];
    /// x32 syscalls are native-arch calls with this bit set.
    pub const X32_BIT: Option<u32> = Some(0x4000_0000);
}
#[cfg(target_arch = "aarch64")]
mod arch {
    /// arm32 `exit` and `exit_group`.
    pub const FOREIGN_EXITS: [u32; 2] = [1, 248];
    pub const X32_BIT: Option<u32> = None;
}

/// Every syscall a rule may name, with its number: one table for both ways.
const NUMBERS: [(&str, i64); 51] = [
    ("socket", libc::SYS_socket),
    ("socketpair", libc::SYS_socketpair),
    ("sendto", libc::SYS_sendto),
    ("sendmsg", libc::SYS_sendmsg),
    ("sendmmsg", libc::SYS_sendmmsg),
    ("prlimit64", libc::SYS_prlimit64),
    ("setpriority", libc::SYS_setpriority),
    ("sched_setaffinity", libc::SYS_sched_setaffinity),
    ("sched_setscheduler", libc::SYS_sched_setscheduler),
    ("sched_setparam", libc::SYS_sched_setparam),
    ("sched_setattr", libc::SYS_sched_setattr),
    ("ioprio_set", libc::SYS_ioprio_set),
    ("migrate_pages", libc::SYS_migrate_pages),
    ("move_pages", libc::SYS_move_pages),
    ("ioctl", libc::SYS_ioctl),
    ("io_uring_setup", libc::SYS_io_uring_setup),
    ("io_uring_enter", libc::SYS_io_uring_enter),
    ("io_uring_register", libc::SYS_io_uring_register),
    ("mount", libc::SYS_mount),
    ("umount2", libc::SYS_umount2),
    ("mount_setattr", libc::SYS_mount_setattr),
    ("move_mount", libc::SYS_move_mount),
    ("open_tree", libc::SYS_open_tree),
    // Linux 6.15; not in libc yet. One number on every architecture since
    // the tables were unified (424 on).
    ("open_tree_attr", 467),
    ("fsopen", libc::SYS_fsopen),
    ("fsconfig", libc::SYS_fsconfig),
    ("fsmount", libc::SYS_fsmount),
    ("fspick", libc::SYS_fspick),
    ("pivot_root", libc::SYS_pivot_root),
    ("open_by_handle_at", libc::SYS_open_by_handle_at),
    ("chroot", libc::SYS_chroot),
    ("setns", libc::SYS_setns),
    ("add_key", libc::SYS_add_key),
    ("keyctl", libc::SYS_keyctl),
    ("request_key", libc::SYS_request_key),
    ("unshare", libc::SYS_unshare),
    ("clone", libc::SYS_clone),
    ("clone3", libc::SYS_clone3),
    ("shmget", libc::SYS_shmget),
    ("shmat", libc::SYS_shmat),
    ("shmctl", libc::SYS_shmctl),
    ("semget", libc::SYS_semget),
    ("semop", libc::SYS_semop),
    ("semtimedop", libc::SYS_semtimedop),
    ("semctl", libc::SYS_semctl),
    ("msgget", libc::SYS_msgget),
    ("msgsnd", libc::SYS_msgsnd),
    ("msgrcv", libc::SYS_msgrcv),
    ("msgctl", libc::SYS_msgctl),
    ("mq_open", libc::SYS_mq_open),
    ("mq_unlink", libc::SYS_mq_unlink),
];

/// The name of a syscall number the filter may have a rule for.
pub fn name_of(n: i64) -> Option<&'static str> {
    NUMBERS.iter().find(|&&(_, nr)| nr == n).map(|&(s, _)| s)
}

fn nr(name: &str) -> Result<u32> {
    NUMBERS
        .iter()
        .find(|&&(s, _)| s == name)
        .map(|&(_, n)| n as u32)
        .ok_or_else(|| Error::new(format!("internal: no syscall number for {name}")))
}

/// What the filter does with one syscall number.
enum Action {
    /// Always this errno.
    Errno(u32),
    /// EPERM when every condition of one of the lists holds.
    Deny(Vec<Cond>),
}

/// The rules grouped by number. An unconditional EPERM rule makes the
/// number's conditional ones moot; an errno other than EPERM must be
/// unconditional (it is a prologue of its own in no other way).
fn actions(rules: &[Rule]) -> Result<BTreeMap<u32, Action>> {
    let mut map: BTreeMap<u32, Action> = BTreeMap::new();
    for r in rules {
        let n = nr(r.syscall)?;
        if r.errno != super::EPERM && r.cond != Cond::Always {
            return Err(Error::new(format!(
                "internal: seccomp rule on {} with errno {} must be unconditional",
                r.syscall, r.errno
            )));
        }
        if let Cond::All(all) = r.cond
            && all.iter().any(|c| matches!(c, Cond::All(_) | Cond::Always))
        {
            return Err(Error::new("internal: nested seccomp condition"));
        }
        match (map.get_mut(&n), r.cond) {
            (Some(Action::Errno(_)), _) => {}
            (_, Cond::Always) => {
                map.insert(n, Action::Errno(r.errno as u32));
            }
            (Some(Action::Deny(any)), c) => any.push(c),
            (None, c) => {
                map.insert(n, Action::Deny(vec![c]));
            }
        }
    }
    Ok(map)
}

/// Where a test's jump leaves its rule.
#[derive(Clone, Copy)]
enum Fails {
    /// Not a jump.
    Never,
    /// When the compare is false (the condition does not hold).
    IfFalse,
    /// When the compare is true (`ArgNe`: equal fails).
    IfTrue,
}

/// The instructions that test one condition, each marked with how it
/// leaves the rule; the offsets are filled in once the rule's length is
/// known.
fn test(c: Cond, out: &mut Vec<(Insn, Fails)>) {
    let load = |i| ((LD_W_ABS, 0, 0, offset_arg(i)), Fails::Never);
    let jeq = |v: u64, fails| ((JEQ_K, 0, 0, v as u32), fails);
    match c {
        Cond::ArgEq(i, v) => out.extend([load(i), jeq(v, Fails::IfFalse)]),
        Cond::ArgNe(i, v) => out.extend([load(i), jeq(v, Fails::IfTrue)]),
        Cond::ArgHasBits(i, v) => out.extend([
            load(i),
            ((ALU_AND_K, 0, 0, v as u32), Fails::Never),
            jeq(v, Fails::IfFalse),
        ]),
        Cond::All(all) => all.iter().for_each(|&c| test(c, out)),
        Cond::Always => {}
    }
}

/// One rule: its tests, each jumping past the rule when it fails, then EPERM.
fn rule(c: Cond) -> Result<Vec<Insn>> {
    let mut marked = Vec::new();
    test(c, &mut marked);
    let end = marked.len() + 1;
    let mut out = Vec::with_capacity(end);
    for (at, ((code, _, _, k), fails)) in marked.into_iter().enumerate() {
        let skip = u8::try_from(end - at - 1)
            .map_err(|_| Error::new("internal: seccomp rule too long"))?;
        out.push(match fails {
            Fails::Never => (code, 0, 0, k),
            Fails::IfFalse => (code, 0, skip, k),
            Fails::IfTrue => (code, skip, 0, k),
        });
    }
    out.push((RET_K, 0, 0, SECCOMP_RET_ERRNO | super::EPERM as u32));
    Ok(out)
}

/// What runs once the number matched; it always returns.
fn block(action: &Action) -> Result<Vec<Insn>> {
    match action {
        Action::Errno(e) => Ok(vec![(RET_K, 0, 0, SECCOMP_RET_ERRNO | e)]),
        Action::Deny(any) => {
            let mut out = Vec::new();
            for &c in any {
                out.extend(rule(c)?);
            }
            out.push((RET_K, 0, 0, SECCOMP_RET_ALLOW));
            Ok(out)
        }
    }
}

/// A binary search over `entries` (sorted by number), on the number in the
/// accumulator: runs the block of a number it holds, and for any other
/// falls through past its end. Long jumps are `ja`, whose offset is 32-bit.
fn search(entries: &[(u32, Vec<Insn>)]) -> Result<Vec<Insn>> {
    if entries.len() <= LEAF {
        let mut out = Vec::new();
        for (n, b) in entries {
            let skip = u8::try_from(b.len())
                .map_err(|_| Error::new("internal: seccomp block too long"))?;
            out.push((JEQ_K, 0, skip, *n));
            out.extend_from_slice(b);
        }
        return Ok(out);
    }
    let mid = entries.len() / 2;
    let (low, high) = (search(&entries[..mid])?, search(&entries[mid..])?);
    let mut out = Vec::with_capacity(low.len() + high.len() + 3);
    // n >= pivot: on to the `ja` into the upper half; else skip it.
    out.push((JGE_K, 0, 1, entries[mid].0));
    out.push((JA, 0, 0, low.len() as u32 + 1));
    out.extend(low);
    out.push((JA, 0, 0, high.len() as u32));
    out.extend(high);
    Ok(out)
}

/// The whole program: arch prologue, the search, allow.
pub fn to_bpf(rules: &[Rule]) -> Result<Vec<Insn>> {
    let eperm = SECCOMP_RET_ERRNO | super::EPERM as u32;
    let mut prog: Vec<Insn> = vec![
        (LD_W_ABS, 0, 0, OFFSET_ARCH),
        (JEQ_K, 5, 0, super::insn::AUDIT_ARCH),
        // Foreign architecture.
        (LD_W_ABS, 0, 0, OFFSET_NR),
        (JEQ_K, 2, 0, arch::FOREIGN_EXITS[0]),
        (JEQ_K, 1, 0, arch::FOREIGN_EXITS[1]),
        (RET_K, 0, 0, eperm),
        (RET_K, 0, 0, SECCOMP_RET_ALLOW),
        // Native architecture.
        (LD_W_ABS, 0, 0, OFFSET_NR),
    ];
    if let Some(bit) = arch::X32_BIT {
        prog.push((JGE_K, 0, 1, bit));
        prog.push((RET_K, 0, 0, eperm));
    }
    let mut entries = Vec::new();
    for (n, a) in actions(rules)? {
        entries.push((n, block(&a)?));
    }
    prog.extend(search(&entries)?);
    prog.push((RET_K, 0, 0, SECCOMP_RET_ALLOW));
    Ok(prog)
}

/// Runs a program on (nr, args) as the kernel would, for the tests here
/// and in `trace.rs` (only the instructions cordon emits).
#[cfg(test)]
pub fn eval(prog: &[Insn], arch: u32, nr: u32, args: [u64; 6]) -> u32 {
    let mut data = [0u8; 64];
    data[0..4].copy_from_slice(&nr.to_ne_bytes());
    data[4..8].copy_from_slice(&arch.to_ne_bytes());
    for (i, a) in args.iter().enumerate() {
        data[16 + 8 * i..24 + 8 * i].copy_from_slice(&a.to_ne_bytes());
    }
    let (mut pc, mut acc) = (0usize, 0u32);
    loop {
        let (code, jt, jf, k) = prog[pc];
        pc += 1;
        match code {
            LD_W_ABS => {
                let o = k as usize;
                acc = u32::from_ne_bytes(data[o..o + 4].try_into().unwrap());
            }
            ALU_AND_K => acc &= k,
            JEQ_K => pc += if acc == k { jt } else { jf } as usize,
            JGE_K => pc += if acc >= k { jt } else { jf } as usize,
            JA => pc += k as usize,
            RET_K => return k,
            other => panic!("unexpected BPF code {other:#x}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::Network;

    /// Every rule set cordon makes: the network off, on, ports, no unix
    /// sockets, and each of those stacked (IPC denied).
    fn rule_sets() -> Vec<Vec<Rule>> {
        let mut nets = Vec::new();
        for (enabled, unix_sockets, port) in [
            (false, true, None),
            (true, true, None),
            (false, true, Some(443)),
            (false, false, None),
            (true, false, None),
        ] {
            nets.push(Network {
                enabled,
                unix_sockets,
                connect_tcp: port.into_iter().collect(),
                ..Network::default()
            });
        }
        let mut out = Vec::new();
        for net in nets {
            let f = super::super::filter(super::super::rules(&net)).unwrap();
            out.push(f.with_launch_rules(true, true).unwrap().rules);
            out.push(f.rules);
        }
        out
    }

    /// Argument vectors from the constants the rules compare with, alone,
    /// with other bits, and mixed at random (a fixed LCG).
    fn arg_vectors(rules: &[Rule]) -> Vec<[u64; 6]> {
        fn consts(c: Cond, out: &mut Vec<u64>) {
            match c {
                Cond::ArgEq(_, v) | Cond::ArgNe(_, v) | Cond::ArgHasBits(_, v) => out.push(v),
                Cond::All(all) => all.iter().for_each(|&c| consts(c, out)),
                Cond::Always => {}
            }
        }
        let mut vals = vec![0, 1, 2, 3, 0x8_0000, 0xffff_ffff, 1 << 40];
        rules.iter().for_each(|r| consts(r.cond, &mut vals));
        let more: Vec<u64> = vals
            .iter()
            .flat_map(|v| [v | 0x80_0000, v | 1 << 33])
            .collect();
        vals.extend(more);
        let mut out = vec![[0; 6]];
        for i in 0..6 {
            for &v in &vals {
                let mut a = [0; 6];
                a[i] = v;
                out.push(a);
            }
        }
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..800 {
            let mut a = [0; 6];
            for slot in &mut a {
                seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                *slot = vals[(seed >> 33) as usize % vals.len()];
            }
            out.push(a);
        }
        out
    }

    /// What the rules say for one call, read from the rules themselves.
    fn expected(rules: &[Rule], n: u32, args: &[u64; 6]) -> u32 {
        let of = |r: &Rule| nr(r.syscall).unwrap() == n;
        if let Some(r) = rules.iter().find(|r| of(r) && r.cond == Cond::Always) {
            return SECCOMP_RET_ERRNO | r.errno as u32;
        }
        if rules.iter().any(|r| of(r) && r.cond.matches(args)) {
            return SECCOMP_RET_ERRNO | super::super::EPERM as u32;
        }
        SECCOMP_RET_ALLOW
    }

    #[test]
    fn the_program_answers_every_number_as_the_rules_say() {
        for rules in rule_sets() {
            let prog = to_bpf(&rules).unwrap();
            let args = arg_vectors(&rules);
            let ruled: Vec<u32> = rules.iter().map(|r| nr(r.syscall).unwrap()).collect();
            for n in 0..1024u32 {
                let vectors: &[[u64; 6]] = if ruled.contains(&n) {
                    &args
                } else {
                    &args[..8]
                };
                for a in vectors {
                    let got = eval(&prog, super::super::insn::AUDIT_ARCH, n, *a);
                    assert_eq!(got, expected(&rules, n, a), "nr {n} args {a:x?}");
                }
            }
        }
    }

    #[test]
    fn foreign_and_x32_calls_get_eperm_but_may_exit() {
        let prog = to_bpf(&rule_sets()[0]).unwrap();
        let eperm = SECCOMP_RET_ERRNO | super::super::EPERM as u32;
        let foreign = 0x4000_0003; // i386 / arm32
        for n in arch::FOREIGN_EXITS {
            assert_eq!(eval(&prog, foreign, n, [0; 6]), SECCOMP_RET_ALLOW);
        }
        assert_eq!(eval(&prog, foreign, 2, [0; 6]), eperm);
        if let Some(bit) = arch::X32_BIT {
            let native = super::super::insn::AUDIT_ARCH;
            assert_eq!(eval(&prog, native, bit | 39, [0; 6]), eperm);
        }
    }

    #[test]
    fn every_number_is_found_within_a_few_instructions() {
        // The kernel runs the program once per number at install time.
        let rules = &rule_sets()[1];
        let prog = to_bpf(rules).unwrap();
        assert!(prog.len() < 200, "{} instructions", prog.len());
        let depth = |n: u32| {
            let (mut pc, mut steps) = (0usize, 0);
            let mut acc = 0u32;
            loop {
                let (code, jt, jf, k) = prog[pc];
                steps += 1;
                pc += 1;
                match code {
                    LD_W_ABS => {
                        acc = if k == OFFSET_ARCH {
                            super::super::insn::AUDIT_ARCH
                        } else if k == OFFSET_NR {
                            n
                        } else {
                            0
                        }
                    }
                    JEQ_K => pc += if acc == k { jt } else { jf } as usize,
                    JGE_K => pc += if acc >= k { jt } else { jf } as usize,
                    JA => pc += k as usize,
                    _ => return steps,
                }
            }
        };
        let worst = (0..500).map(depth).max().unwrap();
        assert!(worst <= 24, "a number takes {worst} instructions");
    }

    #[test]
    fn names_and_numbers_go_both_ways() {
        for (name, n) in NUMBERS {
            assert_eq!(name_of(n), Some(name));
            assert_eq!(nr(name).unwrap(), n as u32);
        }
        assert!(nr("no_such_call").is_err());
    }
}
