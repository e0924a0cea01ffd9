//! A helper process cordon leaves behind when it execs (the sentinel, the
//! domain proxy): forked twice, so it is no child of the command; it holds
//! a pidfd of cordon's own process, which becomes the command at exec and
//! turns readable when that process ends (`kill -9` included); and it gets
//! descriptors from cordon over one end of a socket pair.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

/// The most descriptors one message carries.
const MAX_FDS: usize = 2;

fn cvt(rc: libc::c_long) -> io::Result<libc::c_long> {
    if rc < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(rc)
    }
}

/// The middle process of the double fork, reaped when cordon's end of the
/// link goes (it exits at once).
pub struct Middle(pub libc::pid_t);

impl Drop for Middle {
    fn drop(&mut self) {
        let mut status = 0;
        // SAFETY: reaping our own short-lived child.
        unsafe { libc::waitpid(self.0, &mut status, 0) };
    }
}

/// cordon's end of the line to a helper.
pub struct Link {
    sock: OwnedFd,
    _middle: Middle,
}

/// Forks the helper; `body(pidfd, sock)` is its whole life (it does not
/// return; if it did, the helper would exit). `undumpable`
/// is set before the second fork, so the helper never is (its memory holds
/// cordon's environment).
pub fn spawn(undumpable: bool, body: impl FnOnce(&OwnedFd, &OwnedFd)) -> io::Result<Link> {
    // SAFETY: pidfd_open of our own pid; flags 0. Raw syscall: libc has no
    // wrapper for it.
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
    // SAFETY: cordon is single-threaded; the children run only the
    // helper's code and then _exit.
    match unsafe { libc::fork() } {
        -1 => Err(io::Error::last_os_error()),
        0 => {
            drop(ours);
            if undumpable {
                // SAFETY: plain prctl with constant arguments.
                unsafe { libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0) };
            }
            // SAFETY: as above.
            if unsafe { libc::fork() } == 0 {
                body(&pidfd, &theirs);
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
    /// Sends up to [`MAX_FDS`] descriptors in one message (SCM_RIGHTS).
    pub fn send(&self, fds: &[RawFd]) -> io::Result<()> {
        assert!(!fds.is_empty() && fds.len() <= MAX_FDS);
        let data = [1u8];
        let mut iov = libc::iovec {
            iov_base: data.as_ptr() as *mut libc::c_void,
            iov_len: data.len(),
        };
        let bytes = std::mem::size_of_val(fds) as u32;
        let mut cmsg = [0u64; 6];
        // SAFETY: msghdr is plain data.
        let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        msg.msg_control = cmsg.as_mut_ptr().cast();
        // SAFETY: CMSG_SPACE is a pure size computation.
        msg.msg_controllen = unsafe { libc::CMSG_SPACE(bytes) } as usize;
        // SAFETY: the control buffer is large enough for MAX_FDS fds.
        unsafe {
            let c = libc::CMSG_FIRSTHDR(&msg);
            (*c).cmsg_level = libc::SOL_SOCKET;
            (*c).cmsg_type = libc::SCM_RIGHTS;
            (*c).cmsg_len = libc::CMSG_LEN(bytes) as usize;
            std::ptr::copy_nonoverlapping(
                fds.as_ptr(),
                libc::CMSG_DATA(c).cast::<RawFd>(),
                fds.len(),
            );
        }
        // SAFETY: a valid message on our socket.
        cvt(unsafe { libc::sendmsg(self.sock.as_raw_fd(), &msg, 0) } as libc::c_long).map(drop)
    }
}

/// The helper's side of [`Link::send`]: the descriptors of one message,
/// or `None` when cordon ended first (the socket closed).
pub fn receive(sock: &OwnedFd) -> Option<Vec<OwnedFd>> {
    let mut data = [0u8; 1];
    let mut iov = libc::iovec {
        iov_base: data.as_mut_ptr().cast(),
        iov_len: data.len(),
    };
    let mut cmsg = [0u64; 6];
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
    let mut fds = Vec::new();
    // SAFETY: reading the descriptors of the control message the kernel
    // wrote; each becomes ours.
    unsafe {
        let c = libc::CMSG_FIRSTHDR(&msg);
        if !c.is_null() && (*c).cmsg_type == libc::SCM_RIGHTS {
            let header = libc::CMSG_LEN(0) as usize;
            let count = ((*c).cmsg_len as usize - header) / std::mem::size_of::<RawFd>();
            let data = libc::CMSG_DATA(c).cast::<RawFd>();
            for i in 0..count {
                fds.push(OwnedFd::from_raw_fd(std::ptr::read_unaligned(data.add(i))));
            }
        }
    }
    Some(fds)
}
