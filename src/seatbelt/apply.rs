//! macOS only: the one question `sandbox-exec` cannot answer for cordon.
//! Never compiled on Linux, so it stays small enough to check by eye.

use std::ffi::c_char;

// libsystem_sandbox (part of libSystem, which every program links) exports
// `sandbox_check`, but neither `libc` nor any maintained crate declares it,
// hence this declaration. Signature from <sandbox.h>: the filter type is an
// enum (int) and filter arguments are variadic.
unsafe extern "C" {
    fn sandbox_check(
        pid: libc::pid_t,
        operation: *const c_char,
        filter_type: libc::c_int,
        ...
    ) -> libc::c_int;
}

/// Whether this process already runs under a Seatbelt profile. Profiles do
/// not nest: `sandbox-exec` would fail inside with a cryptic `sandbox_apply`
/// error. With a NULL operation, `sandbox_check` answers "is `pid` sandboxed
/// at all" (non-zero when it is).
pub fn already_sandboxed() -> bool {
    // SAFETY: a plain query about our own pid; NULL operation and filter type
    // 0 (SANDBOX_FILTER_NONE) take no further arguments.
    unsafe { sandbox_check(libc::getpid(), std::ptr::null(), 0) != 0 }
}
