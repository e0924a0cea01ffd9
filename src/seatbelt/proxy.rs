//! macOS only: starts the domain proxy (`crate::proxy`) for a run. cordon
//! binds the listener on the host's loopback (the profile allows TCP to
//! `localhost:PORT` only), then forks the proxy twice, before exec, so it
//! runs outside the Seatbelt profile and is no child of the command. It
//! watches cordon's pid with kqueue (`EVFILT_PROC`, `NOTE_EXIT`): the pid
//! stays the command's through the execs of `sandbox-exec` and the
//! command, so the proxy ends when the command does, `kill -9` included.
//! It leaves the caller's session and holds none of the caller's
//! descriptors. Never compiled on Linux.

use std::fs::File;
use std::io;
use std::net::TcpListener;
use std::os::fd::{AsRawFd, RawFd};
use std::sync::Mutex;

use crate::policy::DomainPattern;

/// The short-lived middle child, reaped before exec.
pub struct Middle(libc::pid_t);

impl Drop for Middle {
    fn drop(&mut self) {
        let mut status = 0;
        // SAFETY: reaping our own short-lived child.
        unsafe { libc::waitpid(self.0, &mut status, 0) };
    }
}

/// Binds the listener and forks the proxy; returns its port.
pub fn start(domains: &[DomainPattern], log: Option<File>) -> io::Result<(u16, Middle)> {
    let listener = TcpListener::bind(("127.0.0.1", 0))?;
    let port = listener.local_addr()?.port();
    // SAFETY: plain syscall.
    let me = unsafe { libc::getpid() };
    // The proxy says on this pipe that it watches our pid: until then
    // cordon does not go on (and cannot exit), so the pid it watches
    // cannot have ended and been reused.
    let mut ready = [0; 2];
    // SAFETY: a pipe into our array.
    if unsafe { libc::pipe(ready.as_mut_ptr()) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: cordon is single-threaded; the children run only this
    // module's code and then _exit.
    match unsafe { libc::fork() } {
        -1 => Err(io::Error::last_os_error()),
        0 => {
            // SAFETY: our copy of the read end.
            unsafe { libc::close(ready[0]) };
            // SAFETY: as above.
            if unsafe { libc::fork() } == 0 {
                run(me, ready[1], listener, domains, log);
            }
            // SAFETY: leave without running the parent's exit handlers.
            unsafe { libc::_exit(0) }
        }
        child => {
            drop(listener);
            let middle = Middle(child);
            // SAFETY: our copy of the write end; then one byte from the
            // proxy (0 bytes: it failed to watch, and is gone).
            unsafe { libc::close(ready[1]) };
            let mut byte = [0u8; 1];
            // SAFETY: reading into a live buffer.
            let n = unsafe { libc::read(ready[0], byte.as_mut_ptr().cast(), 1) };
            // SAFETY: our descriptor.
            unsafe { libc::close(ready[0]) };
            if n != 1 {
                return Err(io::Error::other(
                    "the proxy could not watch the command's process",
                ));
            }
            Ok((port, middle))
        }
    }
}

/// The proxy's whole life. Never returns.
fn run(
    watched: libc::pid_t,
    ready: RawFd,
    listener: TcpListener,
    domains: &[DomainPattern],
    log: Option<File>,
) -> ! {
    crate::stdio::detach_helper();
    let keep: Vec<RawFd> = [listener.as_raw_fd(), ready]
        .into_iter()
        .chain(log.as_ref().map(|f| f.as_raw_fd()))
        .collect();
    // No close_range on macOS: close what getdtablesize allows.
    // SAFETY: plain syscalls on our own descriptors.
    let top = unsafe { libc::getdtablesize() }.min(65536);
    for fd in 3..top {
        if !keep.contains(&fd) {
            // SAFETY: closing a descriptor of our own.
            unsafe { libc::close(fd) };
        }
    }
    // SAFETY: a new kqueue, and one event on it.
    let kq = unsafe { libc::kqueue() };
    // SAFETY: kevent is plain data.
    let mut ev: libc::kevent = unsafe { std::mem::zeroed() };
    ev.ident = watched as usize;
    ev.filter = libc::EVFILT_PROC;
    ev.flags = libc::EV_ADD | libc::EV_ONESHOT;
    ev.fflags = libc::NOTE_EXIT;
    // SAFETY: registering one event; ESRCH if the command is already gone.
    let added = unsafe { libc::kevent(kq, &ev, 1, std::ptr::null_mut(), 0, std::ptr::null()) };
    if kq < 0 || added < 0 {
        // SAFETY: leave without running exit handlers.
        unsafe { libc::_exit(0) }
    }
    // SAFETY: one byte to cordon, then our end is closed.
    unsafe {
        libc::write(ready, b"1".as_ptr().cast(), 1);
        libc::close(ready);
    }
    let config = crate::proxy::Config {
        domains: domains.to_vec(),
        log: log.map(Mutex::new),
    };
    let served = std::thread::Builder::new()
        .name("accept".into())
        .spawn(move || crate::proxy::serve(listener, config));
    if served.is_ok() {
        // SAFETY: kevent is plain data.
        let mut out: libc::kevent = unsafe { std::mem::zeroed() };
        // Blocks until the command exits (or a signal interrupts: retry).
        // SAFETY: waiting on our kqueue for one event.
        while unsafe { libc::kevent(kq, std::ptr::null(), 0, &mut out, 1, std::ptr::null()) } <= 0 {
        }
    }
    // SAFETY: leave at once: open connections end with the process.
    unsafe { libc::_exit(0) }
}
