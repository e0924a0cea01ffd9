//! The open-file limit, raised while cordon holds one descriptor per planned
//! root (planning opens each, and the apply step adds rules and mounts from
//! those descriptors), and put back right before exec: the command sees the
//! caller's limit. 10,000 roots outgrow the usual soft limit of 1,024.

use std::sync::Mutex;

use nix::sys::resource::{Resource, getrlimit, rlim_t, setrlimit};

/// The caller's (soft, hard) limit, when cordon raised it.
static SAVED: Mutex<Option<(rlim_t, rlim_t)>> = Mutex::new(None);

/// Makes room for at least `need` more descriptors: the soft limit goes up
/// (at most to the hard limit) when it is short. Cheap when it is not.
/// Says whether the room is there now (the hard limit may be lower).
pub fn reserve(need: usize) -> bool {
    let Ok((soft, hard)) = getrlimit(Resource::RLIMIT_NOFILE) else {
        return false;
    };
    let want = (need as rlim_t).saturating_add(64);
    if soft >= want {
        return true;
    }
    // Past the hard limit only with CAP_SYS_RESOURCE (a root caller); the
    // kernel refuses anyone else, who gets the hard limit.
    let raised = want > hard && setrlimit(Resource::RLIMIT_NOFILE, want, want).is_ok();
    if raised || setrlimit(Resource::RLIMIT_NOFILE, want.min(hard), hard).is_ok() {
        let mut saved = SAVED.lock().unwrap_or_else(|e| e.into_inner());
        saved.get_or_insert((soft, hard));
    }
    raised || hard >= want
}

/// Puts the caller's limit back (before exec). Lowering the soft limit
/// below the open descriptors is allowed: it only affects new ones, and
/// cordon's own are close-on-exec.
pub fn restore() {
    let saved = SAVED.lock().unwrap_or_else(|e| e.into_inner()).take();
    if let Some((soft, hard)) = saved {
        let _ = setrlimit(Resource::RLIMIT_NOFILE, soft, hard);
    }
}
