//! Starts the domain proxy (`crate::proxy`) for a run: forked twice before
//! the namespaces, so it stays in the host's network namespace, outside
//! Landlock and seccomp, and is no child of the command. It gets the
//! listener cordon binds inside the command's new network namespace over a
//! socket pair, and ends when the command does: it holds a pidfd of
//! cordon's process (the command after exec), which turns readable when
//! that process exits, `kill -9` included. It leaves the caller's process
//! group (a ^C to the job does not reach it first), holds none of the caller's
//! descriptors, is not dumpable (its memory holds cordon's environment),
//! and drops every capability. The command cannot signal or ptrace it:
//! Landlock denies ptrace towards a process outside the command's domain
//! on every ABI, and signals with the signal scope (ABI 6; below, a
//! `signal-scope` gap like any other).

use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::Mutex;

use super::sentinel::{close_others, poll_one};
use crate::policy::DomainPattern;

/// cordon's end of the line to the proxy.
pub type Link = super::helper::Link;

/// Forks the proxy; it waits for the listener (`Link::send`).
pub fn start(domains: &[DomainPattern], log: Option<File>) -> io::Result<Link> {
    super::helper::spawn(true, |pidfd, sock| run(pidfd, sock, domains, log))
}

/// The proxy's whole life. Never returns.
fn run(pidfd: &OwnedFd, sock: &OwnedFd, domains: &[DomainPattern], log: Option<File>) -> ! {
    crate::stdio::detach_helper();
    let mut keep = vec![pidfd.as_raw_fd(), sock.as_raw_fd()];
    keep.extend(log.as_ref().map(|f| f.as_raw_fd()));
    close_others(&keep);
    // It only dials out: no capability is needed (a root caller's would
    // otherwise stay with it).
    let _ = super::caps::restrict(super::caps::Keep(0));
    let Some(listener) = super::helper::receive(sock).and_then(|f| f.into_iter().next()) else {
        // SAFETY: leave without running exit handlers.
        unsafe { libc::_exit(0) }
    };
    let config = crate::proxy::Config {
        domains: domains.to_vec(),
        log: log.map(Mutex::new),
    };
    let listener = std::net::TcpListener::from(listener);
    let served = std::thread::Builder::new()
        .name("accept".into())
        .spawn(move || crate::proxy::serve(listener, config));
    if served.is_ok() {
        // The command runs until its pidfd turns readable.
        while poll_one(pidfd.as_raw_fd(), libc::POLLIN, -1) & (libc::POLLIN | libc::POLLHUP) == 0 {}
    }
    // SAFETY: leave at once: open connections end with the process.
    unsafe { libc::_exit(0) }
}
