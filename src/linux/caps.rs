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

pub const CAP_SYS_ADMIN: u32 = 21;

/// The capabilities a sandboxed command may keep, as a mask.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Keep(pub u64);

impl Keep {
    /// Docker's set: what a command that runs as uid 0 keeps.
    pub fn docker() -> Keep {
        Keep(KEPT.iter().fold(0, |m, (n, _)| m | 1 << n))
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
        if self.0 == 0 {
            return writeln!(
                f,
                "capabilities: none; every set cleared (bounding set too, where CAP_SETPCAP allows)"
            );
        }
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

/// The three capability sets capget reports, as 64-bit masks.
#[cfg_attr(not(target_os = "linux"), allow(dead_code))] // used by the Linux apply edge only
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sets {
    pub effective: u64,
    pub permitted: u64,
    pub inheritable: u64,
}

/// This process's effective, permitted and inheritable sets.
#[cfg(target_os = "linux")]
pub fn sets() -> std::io::Result<Sets> {
    let d = CapSets::get()?.data;
    let join = |f: fn(&CapData) -> u32| u64::from(f(&d[0])) | (u64::from(f(&d[1])) << 32);
    Ok(Sets {
        effective: join(|c| c.effective),
        permitted: join(|c| c.permitted),
        inheritable: join(|c| c.inheritable),
    })
}

/// Makes every permitted capability effective, so the ones cordon needs to
/// drop others (CAP_SETPCAP, CAP_SETGID) work.
#[cfg(target_os = "linux")]
pub fn raise_effective() -> std::io::Result<()> {
    let mut sets = CapSets::get()?;
    for d in &mut sets.data {
        d.effective = d.permitted;
    }
    sets.set()
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
            match e.raw_os_error() {
                Some(libc::EINVAL) => break,
                // No CAP_SETPCAP: fine if the capability is out already, and
                // for a caller that is not uid 0 (no_new_privs then keeps
                // exec from granting anything the bounding set would allow).
                Some(libc::EPERM)
                    if unsafe { libc::prctl(libc::PR_CAPBSET_READ, cap, 0, 0, 0) } == 0
                        || unsafe { libc::geteuid() } != 0 =>
                {
                    continue;
                }
                _ => return Err(e),
            }
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
    fn root_keeps_dockers_set() {
        let keep = Keep::docker();
        assert_eq!(keep.names().len(), KEPT.len());
        // Among the dropped: sys_admin (21), sys_module (16), sys_boot (22),
        // net_admin (12), sys_ptrace (19), perfmon (38).
        for cap in [21, 16, 22, 12, 19, 38] {
            assert_eq!(keep.0 & (1 << cap), 0, "cap {cap} kept");
        }
    }
}
