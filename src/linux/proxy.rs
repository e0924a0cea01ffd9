//! Starts the domain proxy (`crate::proxy`) for a run: forked twice before
//! the namespaces, so it stays in the host's network namespace, outside
//! Landlock and seccomp, and is no child of the command. It gets the
//! listener cordon binds inside the command's new network namespace over a
//! socket pair, and ends when the command does: it holds a pidfd of
//! cordon's process (the command after exec), which turns readable when
//! that process exits, `kill -9` included. It leaves the caller's session
//! (a ^C to the job does not reach it first), holds none of the caller's
//! descriptors, is not dumpable (its memory holds cordon's environment),
//! and drops every capability. The command cannot signal or ptrace it:
//! Landlock denies ptrace towards a process outside the command's domain
//! on every ABI, and signals with the signal scope (ABI 6; below, a
//! `signal-scope` gap like any other).

use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::Mutex;

use super::sentinel::{Middle, close_others, poll_one};
use crate::policy::DomainPattern;

fn cvt(rc: libc::c_long) -> io::Result<libc::c_long> {
    if rc < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(rc)
    }
}

/// cordon's end of the line to the proxy.
pub struct Link {
    sock: OwnedFd,
    _middle: Middle,
}

/// Forks the proxy; it waits for the listener ([`Link::send`]).
pub fn start(domains: &[DomainPattern], log: Option<File>) -> io::Result<Link> {
    // SAFETY: pidfd_open of our own pid; flags 0.
    let pidfd = cvt(unsafe { libc::syscall(libc::SYS_pidfd_open, libc::getpid(), 0) })?;
    // SAFETY: a fresh descriptor.
    let pidfd = unsafe { OwnedFd::from_raw_fd(pidfd as RawFd) };
    let mut pair = [0; 2];
    // SAFETY: socketpair writes two descriptors.
    cvt(unsafe {
        libc::socketpair(
            libc::AF_UNIX,
            libc::SOCK_SEQPACKET | libc::SOCK_CLOEXEC,
            0,
            pair.as_mut_ptr(),
        )
    }
    .into())?;
    // SAFETY: the two fresh descriptors.
    let (ours, theirs) = unsafe { (OwnedFd::from_raw_fd(pair[0]), OwnedFd::from_raw_fd(pair[1])) };
    // SAFETY: cordon is single-threaded; the children run only this
    // module's code and then _exit.
    match unsafe { libc::fork() } {
        -1 => Err(io::Error::last_os_error()),
        0 => {
            drop(ours);
            // Set before the second fork (inherited): never dumpable.
            // SAFETY: plain prctl with constant arguments.
            unsafe { libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0) };
            // SAFETY: as above.
            if unsafe { libc::fork() } == 0 {
                run(&pidfd, &theirs, domains, log);
            }
            // SAFETY: leave without running the parent's exit handlers.
            unsafe { libc::_exit(0) }
        }
        child => {
            drop(theirs);
            Ok(Link {
                sock: ours,
                _middle: Middle(child),
            })
        }
    }
}

impl Link {
    /// Hands the proxy its listener (made in the command's network
    /// namespace). cordon's own copy is closed by the caller right after.
    pub fn send(&self, listener: &OwnedFd) -> io::Result<()> {
        let fd = listener.as_raw_fd();
        let data = [1u8];
        let mut iov = libc::iovec {
            iov_base: data.as_ptr() as *mut libc::c_void,
            iov_len: 1,
        };
        let mut cmsg = [0u64; 4];
        // SAFETY: msghdr is plain data.
        let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        msg.msg_control = cmsg.as_mut_ptr().cast();
        let bytes = std::mem::size_of::<RawFd>() as u32;
        // SAFETY: CMSG_SPACE is a pure size computation.
        msg.msg_controllen = unsafe { libc::CMSG_SPACE(bytes) } as usize;
        // SAFETY: the control buffer holds one descriptor.
        unsafe {
            let c = libc::CMSG_FIRSTHDR(&msg);
            (*c).cmsg_level = libc::SOL_SOCKET;
            (*c).cmsg_type = libc::SCM_RIGHTS;
            (*c).cmsg_len = libc::CMSG_LEN(bytes) as usize;
            std::ptr::write_unaligned(libc::CMSG_DATA(c).cast::<RawFd>(), fd);
        }
        // SAFETY: a valid message on our socket.
        cvt(unsafe { libc::sendmsg(self.sock.as_raw_fd(), &msg, 0) } as libc::c_long).map(drop)
    }
}

/// The listener, or `None` when cordon failed before sending it.
fn receive(sock: &OwnedFd) -> Option<OwnedFd> {
    let mut data = [0u8; 1];
    let mut iov = libc::iovec {
        iov_base: data.as_mut_ptr().cast(),
        iov_len: 1,
    };
    let mut cmsg = [0u64; 4];
    // SAFETY: msghdr is plain data.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = cmsg.as_mut_ptr().cast();
    msg.msg_controllen = std::mem::size_of_val(&cmsg);
    // SAFETY: a valid message buffer on our socket.
    let n = unsafe { libc::recvmsg(sock.as_raw_fd(), &mut msg, libc::MSG_CMSG_CLOEXEC) };
    if n != 1 {
        return None;
    }
    // SAFETY: reading the one descriptor of the control message the
    // kernel wrote; it becomes ours.
    unsafe {
        let c = libc::CMSG_FIRSTHDR(&msg);
        if c.is_null() || (*c).cmsg_type != libc::SCM_RIGHTS {
            return None;
        }
        let fd = std::ptr::read_unaligned(libc::CMSG_DATA(c).cast::<RawFd>());
        Some(OwnedFd::from_raw_fd(fd))
    }
}

/// The proxy's whole life. Never returns.
fn run(pidfd: &OwnedFd, sock: &OwnedFd, domains: &[DomainPattern], log: Option<File>) -> ! {
    // SAFETY: plain syscalls on our own process and descriptors.
    unsafe {
        libc::setsid();
        let null = libc::open(c"/dev/null".as_ptr(), libc::O_RDWR | libc::O_CLOEXEC);
        if null >= 0 {
            for fd in 0..3 {
                libc::dup2(null, fd);
            }
        }
    }
    let mut keep = vec![pidfd.as_raw_fd(), sock.as_raw_fd()];
    keep.extend(log.as_ref().map(|f| f.as_raw_fd()));
    close_others(&keep);
    // It only dials out: no capability is needed (a root caller's would
    // otherwise stay with it).
    let _ = super::caps::restrict(super::caps::Keep(0));
    let Some(listener) = receive(sock) else {
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
