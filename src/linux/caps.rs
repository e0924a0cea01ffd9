//! Capabilities of a privileged caller (pure compile on every OS; the apply
//! step is Linux only). Landlock and seccomp do not look at capabilities,
//! and most of root's act on the host as a whole, past any filesystem rule:
//! CAP_SYS_BOOT reboots it, CAP_SYS_MODULE loads kernel code, CAP_SYS_TIME
//! sets the clock, CAP_SYS_ADMIN renames the host and (with CAP_PERFMON)
//! reads any process's environment and memory map, CAP_NET_ADMIN rewires
//! the network, CAP_SYS_RAWIO reaches I/O ports. A sandboxed root keeps
//! only what file work needs: Docker's default set, the field's tested
//! answer to "root in a box". `no_new_privs` stops setuid and file
//! capabilities from bringing the rest back.

use std::fmt;

/// Docker's default capability set: `(number, name)`.
pub const KEPT: [(u8, &str); 14] = [
    (0, "chown"),
    (1, "dac_override"),
    (3, "fowner"),
    (4, "fsetid"),
    (5, "kill"),
    (6, "setgid"),
    (7, "setuid"),
    (8, "setpcap"),
    (10, "net_bind_service"),
    (13, "net_raw"),
    (18, "sys_chroot"),
    (27, "mknod"),
    (29, "audit_write"),
    (31, "setfcap"),
];

/// The capabilities a sandboxed command may keep, as a mask.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Keep(pub u64);

impl Keep {
    /// For a privileged caller (root, or any capability): Docker's set.
    /// `None` for anyone else, who has nothing to drop.
    pub fn for_caller(privileged: bool) -> Option<Keep> {
        privileged.then(|| Keep(KEPT.iter().fold(0, |m, (n, _)| m | 1 << n)))
    }

    pub fn names(self) -> Vec<&'static str> {
        KEPT.iter()
            .filter(|(n, _)| self.0 & (1 << n) != 0)
            .map(|(_, name)| *name)
            .collect()
    }
}

/// As data: the kept names.
impl serde::Serialize for Keep {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.names())
    }
}

impl fmt::Display for Keep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "capabilities: keep {} (Docker's default set); drop every other from the bounding, \
             permitted, effective, inheritable and ambient sets",
            self.names().join(",")
        )
    }
}

/// This process's capability sets, as capget(2)/capset(2) exchange them.
/// Raw syscalls: neither libc nor nix wraps them, and /proc/self/status would
/// cost a file read.
#[cfg(target_os = "linux")]
struct CapSets {
    header: CapHeader,
    data: [CapData; 2],
}

#[cfg(target_os = "linux")]
#[repr(C)]
struct CapHeader {
    version: u32,
    pid: i32,
}

/// One 32-bit half of the effective, permitted and inheritable sets.
#[cfg(target_os = "linux")]
#[repr(C)]
#[derive(Clone, Copy, Default)]
struct CapData {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}

#[cfg(target_os = "linux")]
impl CapSets {
    fn get() -> std::io::Result<CapSets> {
        let mut sets = CapSets {
            header: CapHeader {
                version: 0x2008_0522, // _LINUX_CAPABILITY_VERSION_3
                pid: 0,
            },
            data: [CapData::default(); 2],
        };
        // SAFETY: a version-3 header and the two data structs it requires.
        let rc =
            unsafe { libc::syscall(libc::SYS_capget, &mut sets.header, sets.data.as_mut_ptr()) };
        if rc != 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(sets)
    }

    fn set(&self) -> std::io::Result<()> {
        // SAFETY: as in `get`.
        let rc = unsafe { libc::syscall(libc::SYS_capset, &self.header, self.data.as_ptr()) };
        if rc != 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(())
    }
}

/// The effective capability set of this process.
#[cfg(target_os = "linux")]
pub fn effective() -> std::io::Result<u64> {
    let d = CapSets::get()?.data;
    Ok(u64::from(d[0].effective) | (u64::from(d[1].effective) << 32))
}

/// Restricts this process to the capabilities in `keep` (0: none): the
/// bounding set first (dropping needs CAP_SETPCAP, which is still there),
/// the ambient set, then effective, permitted and inheritable.
#[cfg(target_os = "linux")]
pub fn restrict(keep: Keep) -> std::io::Result<()> {
    let err = std::io::Error::last_os_error;
    for cap in 0..64u64 {
        if keep.0 & (1 << cap) != 0 {
            continue;
        }
        // SAFETY: plain prctl; EINVAL past the last capability ends the loop.
        if unsafe { libc::prctl(libc::PR_CAPBSET_DROP, cap, 0, 0, 0) } != 0 {
            let e = err();
            if e.raw_os_error() == Some(libc::EINVAL) {
                break;
            }
            return Err(e);
        }
    }
    // SAFETY: plain prctl.
    let rc = unsafe {
        libc::prctl(
            libc::PR_CAP_AMBIENT,
            libc::PR_CAP_AMBIENT_CLEAR_ALL,
            0,
            0,
            0,
        )
    };
    if rc != 0 {
        return Err(err());
    }
    let mut sets = CapSets::get()?;
    for (i, d) in sets.data.iter_mut().enumerate() {
        let half = (keep.0 >> (32 * i)) as u32;
        d.effective &= half;
        d.permitted &= half;
        d.inheritable &= half;
    }
    sets.set()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_privileged_callers_have_something_to_drop() {
        assert_eq!(Keep::for_caller(false), None);
        let keep = Keep::for_caller(true).unwrap();
        assert_eq!(keep.names().len(), KEPT.len());
        // Among the dropped: sys_admin (21), sys_module (16), sys_boot (22),
        // net_admin (12), sys_ptrace (19), perfmon (38).
        for cap in [21, 16, 22, 12, 19, 38] {
            assert_eq!(keep.0 & (1 << cap), 0, "cap {cap} kept");
        }
    }
}
