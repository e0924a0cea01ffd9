//! The host's file primitives: the one place planning depends on the OS.
//! On Linux, descriptor fast paths (`O_PATH` handles the apply step uses,
//! `openat2(RESOLVE_NO_SYMLINKS)`, `getdents64`, `/proc/self/fd`);
//! elsewhere, the portable look-ups (`realpath`, `lstat`, `read_dir`) and
//! no handles. Both offer the same functions, so planning never asks which
//! OS it runs on.

#[cfg(target_os = "linux")]
#[path = "linux.rs"]
mod imp;
#[cfg(not(target_os = "linux"))]
#[path = "portable.rs"]
mod imp;

pub use imp::*;

/// What a look-up that must cross no symlink found.
// Each host gives only some of these answers (Linux never `Walk`, the
// portable one only `Walk`), so the others are never built there.
#[allow(dead_code)]
pub enum Fast<T> {
    Open(T),
    Missing,
    /// A symlink on the way, or something only the slow walk can tell.
    Slow,
    /// This host has no one-call check: the component walk decides.
    Walk,
}
