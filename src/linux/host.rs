//! What this kernel offers, probed with one syscall each.

/// The kernel's Landlock ABI version, 0 when Landlock is missing or disabled.
///
/// The `landlock` crate deliberately keeps runtime ABI detection private; cordon
/// needs the number up front to refuse or report gaps before running anything,
/// so it asks the kernel directly (LANDLOCK_CREATE_RULESET_VERSION).
#[cfg(target_os = "linux")]
pub fn landlock_abi() -> u8 {
    const LANDLOCK_CREATE_RULESET_VERSION: libc::c_uint = 1;
    // SAFETY: a NULL attr with size 0 and the VERSION flag only queries.
    let v = unsafe {
        libc::syscall(
            libc::SYS_landlock_create_ruleset,
            std::ptr::null::<libc::c_void>(),
            0usize,
            LANDLOCK_CREATE_RULESET_VERSION,
        )
    };
    if v < 0 { 0 } else { v.min(255) as u8 }
}

#[cfg(not(target_os = "linux"))]
pub fn landlock_abi() -> u8 {
    0
}

/// Who cordon runs as, as far as the mount namespace cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Identity {
    pub uid: u32,
    pub gid: u32,
    /// Root, or any effective capability: such a caller can chmod, chown,
    /// utime or setxattr files it does not own, which Landlock does not stop.
    pub privileged: bool,
    /// CAP_SYS_ADMIN: a mount namespace alone suffices; otherwise cordon
    /// needs a user namespace to get one.
    pub sys_admin: bool,
}

#[cfg(target_os = "linux")]
pub fn identity() -> Identity {
    const CAP_SYS_ADMIN: u32 = 21;
    // SAFETY: the id getters have no preconditions.
    let (uid, gid) = unsafe { (libc::geteuid(), libc::getegid()) };
    let effective = effective_caps();
    Identity {
        uid,
        gid,
        privileged: uid == 0 || effective != 0,
        sys_admin: effective & (1 << CAP_SYS_ADMIN) != 0,
    }
}

#[cfg(not(target_os = "linux"))]
pub fn identity() -> Identity {
    Identity {
        uid: 0,
        gid: 0,
        privileged: false,
        sys_admin: false,
    }
}

/// The effective capability set, from capget(2). Raw syscall: neither libc
/// nor nix wraps it, and /proc/self/status would cost a file read.
#[cfg(target_os = "linux")]
fn effective_caps() -> u64 {
    #[repr(C)]
    struct Header {
        version: u32,
        pid: i32,
    }
    #[repr(C)]
    #[derive(Clone, Copy, Default)]
    struct Data {
        effective: u32,
        permitted: u32,
        inheritable: u32,
    }
    const VERSION_3: u32 = 0x2008_0522;
    let mut header = Header {
        version: VERSION_3,
        pid: 0,
    };
    let mut data = [Data::default(); 2];
    // SAFETY: header and a two-element data array, as version 3 requires.
    let rc = unsafe { libc::syscall(libc::SYS_capget, &mut header, data.as_mut_ptr()) };
    if rc != 0 {
        // Unknown: assume privileged, which only adds protection.
        return u64::MAX;
    }
    u64::from(data[0].effective) | (u64::from(data[1].effective) << 32)
}
