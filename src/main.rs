//! `#![no_main]`: cordon provides the C `main` itself, skipping std's runtime
//! set-up. That set-up ignores SIGPIPE, a disposition execve would hand on to
//! the command (so `yes | head` would behave differently under cordon), and
//! reads /proc/self/maps to place a stack guard, the largest single start-up
//! cost of a wrapper that runs for well under a millisecond. std still works:
//! on Linux it captures argv and the environment itself.
#![no_main]

#[unsafe(no_mangle)]
extern "C" fn main(
    _argc: std::ffi::c_int,
    _argv: *const *const std::ffi::c_char,
) -> std::ffi::c_int {
    cordon::cli::main()
}
