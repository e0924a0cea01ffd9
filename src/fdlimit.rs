//! The open-file limit, raised while cordon holds one descriptor per planned
//! root (planning opens each, and the apply step adds rules and mounts from
//! those descriptors), and put back right before exec: the command sees the
//! caller's limit. 10,000 roots outgrow the usual soft limit of 1,024.

use std::sync::Mutex;

/// The caller's limit, when cordon raised it.
static SAVED: Mutex<Option<libc::rlimit>> = Mutex::new(None);

/// Makes room for at least `need` more descriptors: the soft limit goes up
/// (at most to the hard limit) when it is short. Cheap when it is not.
pub fn reserve(need: usize) {
    let mut old = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes into `old`.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut old) } != 0 {
        return;
    }
    let want = (need as libc::rlim_t).saturating_add(64);
    if old.rlim_cur >= want {
        return;
    }
    let new = libc::rlimit {
        rlim_cur: want.min(old.rlim_max),
        rlim_max: old.rlim_max,
    };
    // SAFETY: a valid rlimit; on failure nothing changed.
    if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &new) } == 0 {
        let mut saved = SAVED.lock().unwrap_or_else(|e| e.into_inner());
        saved.get_or_insert(old);
    }
}

/// Puts the caller's limit back (before exec). Lowering the soft limit
/// below the open descriptors is allowed: it only affects new ones, and
/// cordon's own are close-on-exec.
pub fn restore() {
    let saved = SAVED.lock().unwrap_or_else(|e| e.into_inner()).take();
    if let Some(old) = saved {
        // SAFETY: the limit read before.
        unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &old) };
    }
}
