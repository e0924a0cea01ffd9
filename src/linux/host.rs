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
