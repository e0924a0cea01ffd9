//! What the command inherits from cordon's process besides the sandbox
//! (contract §4), decided from the launch options and fds 0-2, printed by
//! `--dry-run` and `explain`, and applied before the sandbox is set up, on
//! every run, sandboxed or not:
//!
//! - Descriptors: fds 0-2 pass through; every other inherited descriptor is
//!   closed at exec unless kept with `--keep-fd N`, because a descriptor
//!   opened before the sandbox reaches past it (a directory fd of `/etc` lets
//!   root `fchmod` under a read-only world).
//! - Session: when none of fds 0-2 is a terminal (an agent's call), the
//!   command gets no controlling terminal, as with bwrap's `--new-session`:
//!   otherwise a process it leaves behind keeps the terminal (`/dev/tty`)
//!   and reads the user's next shell line. `--new-session` and
//!   `--no-new-session` override the choice.

use std::fmt;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};

use serde::Serialize;

use crate::error::{Error, Result};

/// The highest descriptor that always passes through.
pub const STDIO_LAST: RawFd = 2;

/// `--new-session` / `--no-new-session`, or neither.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum SessionFlag {
    /// Detach exactly when none of fds 0-2 is a terminal.
    #[default]
    Auto,
    New,
    Keep,
}

impl SessionFlag {
    pub fn from_flags(new_session: bool, no_new_session: bool) -> SessionFlag {
        match (new_session, no_new_session) {
            (true, _) => SessionFlag::New,
            (_, true) => SessionFlag::Keep,
            _ => SessionFlag::Auto,
        }
    }
}

/// The launch options that shape the command's process.
#[derive(Debug, Clone, Default)]
pub struct Stdio {
    /// Inherited descriptors above 2 that stay open (`--keep-fd`), sorted.
    pub keep_fds: Vec<RawFd>,
    pub session: SessionFlag,
    /// Which of fds 0-2 are terminals: they decide the default session.
    pub terminal_fds: Vec<RawFd>,
    /// The command keeps the caller's controlling terminal (decided with
    /// the session, so the launch need not ask the kernel again).
    pub keeps_terminal: bool,
}

impl Stdio {
    /// Checks `--keep-fd` values: each must be above 2 and open now, before
    /// cordon opens anything of its own. Refuses `--new-session` where it
    /// cannot be honoured.
    pub fn new(keep_fds: &[RawFd], session: SessionFlag) -> Result<Stdio> {
        let mut keep = keep_fds.to_vec();
        keep.sort_unstable();
        keep.dedup();
        for &fd in &keep {
            if fd <= STDIO_LAST {
                return Err(Error::new(format!(
                    "--keep-fd {fd}: descriptors 0-2 always reach the command; --keep-fd names one above 2"
                )));
            }
            if !is_open(fd) {
                return Err(Error::new(format!(
                    "--keep-fd {fd}: descriptor {fd} is not open; open it in the calling shell (e.g. `{fd}<FILE`) or drop the flag"
                )));
            }
        }
        let mut stdio = Stdio {
            keep_fds: keep,
            session,
            terminal_fds: (0..=STDIO_LAST).filter(|&fd| is_terminal(fd)).collect(),
            keeps_terminal: false,
        };
        let caller = Caller::now();
        let plan = stdio.session_plan(&caller);
        stdio.keeps_terminal = plan.terminal == Terminal::Kept && caller.has_terminal;
        if session == SessionFlag::New && plan.mechanism == Mechanism::Refused {
            return Err(Error::new(
                "--new-session: cordon leads its session and has a controlling terminal, and giving it up would hang up the terminal's foreground process group; start cordon from a process that does not lead its session (a shell), or drop the flag",
            ));
        }
        Ok(stdio)
    }

    /// What `--dry-run` and `explain` print, and the JSON `process` field.
    pub fn describe(&self) -> Process {
        Process {
            descriptors: Descriptors {
                closed_above: STDIO_LAST,
                kept: self.keep_fds.clone(),
            },
            session: self.session_plan(&Caller::now()),
        }
    }

    /// Whether the command should lose its controlling terminal, and why.
    fn detach(&self) -> (bool, String) {
        let fds: Vec<String> = self.terminal_fds.iter().map(|n| n.to_string()).collect();
        match self.session {
            SessionFlag::New => (true, "--new-session".into()),
            SessionFlag::Keep => (false, "--no-new-session".into()),
            SessionFlag::Auto if fds.is_empty() => (true, "none of fds 0-2 is a terminal".into()),
            SessionFlag::Auto => (
                false,
                format!(
                    "fd {} {} a terminal; --new-session drops it",
                    fds.join(", "),
                    if fds.len() == 1 { "is" } else { "are" }
                ),
            ),
        }
    }

    /// What happens to the session of a caller in `caller`'s position.
    fn session_plan(&self, caller: &Caller) -> Session {
        let (detach, why) = self.detach();
        let (mechanism, terminal, what) = if !detach {
            let what = if caller.has_terminal {
                "the caller's, with its controlling terminal"
            } else {
                "the caller's (which has no controlling terminal)"
            };
            (Mechanism::None, Terminal::Kept, what)
        } else if !caller.leads_group {
            (
                Mechanism::Setsid,
                Terminal::Dropped,
                "new, without a controlling terminal (setsid)",
            )
        } else if caller.leads_session && caller.has_terminal {
            // TIOCNOTTY from a session leader hangs up the terminal's
            // foreground process group (disassociate_ctty): never done.
            (
                Mechanism::Refused,
                Terminal::Kept,
                "the caller's, with its controlling terminal: cordon leads its session, and giving the terminal up would hang up its foreground process group",
            )
        } else if caller.has_terminal {
            (
                Mechanism::Tiocnotty,
                Terminal::Dropped,
                "the caller's, without its controlling terminal (TIOCNOTTY: cordon leads its process group, so setsid is refused)",
            )
        } else {
            (
                Mechanism::None,
                Terminal::Dropped,
                "the caller's, which has no controlling terminal (cordon leads its process group, so setsid is refused; nothing to drop)",
            )
        };
        // `launch::enter` adds the rule for such a run (`keeps_terminal`).
        let fixed = if terminal == Terminal::Kept && caller.has_terminal {
            "; its foreground process group stays the command's (TIOCSPGRP denied)"
        } else {
            ""
        };
        Session {
            mechanism,
            terminal,
            why: format!("{what}; {why}{fixed}"),
        }
    }
}

/// Where cordon's process stands: what decides how a terminal is dropped.
#[derive(Debug, Clone, Copy)]
struct Caller {
    leads_group: bool,
    leads_session: bool,
    has_terminal: bool,
}

impl Caller {
    fn now() -> Caller {
        use nix::unistd::{getpgrp, getpid, getsid};
        let pid = getpid();
        Caller {
            leads_group: getpgrp() == pid,
            leads_session: getsid(None).is_ok_and(|s| s == pid),
            has_terminal: controlling_terminal().is_ok_and(|t| t.is_some()),
        }
    }
}

/// `process` in `run --dry-run --json` and `explain --json`.
#[derive(Debug, Clone, Serialize)]
pub struct Process {
    pub descriptors: Descriptors,
    pub session: Session,
}

#[derive(Debug, Clone, Serialize)]
pub struct Descriptors {
    /// Every inherited descriptor above this one is closed at exec...
    pub closed_above: RawFd,
    /// ...but these (`--keep-fd`).
    pub kept: Vec<RawFd>,
}

/// How the command's controlling terminal is given up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mechanism {
    /// Nothing to do.
    None,
    /// `setsid()`: a new session and process group.
    Setsid,
    /// `ioctl(TIOCNOTTY)`: the same session and group, no controlling
    /// terminal.
    Tiocnotty,
    /// A session leader with a terminal: it keeps it.
    Refused,
}

/// What becomes of the controlling terminal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Terminal {
    /// The command has cordon's (if any).
    Kept,
    /// The command has none.
    Dropped,
}

#[derive(Debug, Clone, Serialize)]
pub struct Session {
    pub mechanism: Mechanism,
    pub terminal: Terminal,
    /// The `--dry-run` line after `session: `.
    pub why: String,
}

impl fmt::Display for Process {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kept: Vec<String> = self
            .descriptors
            .kept
            .iter()
            .map(|n| n.to_string())
            .collect();
        let kept = if kept.is_empty() {
            "none".to_string()
        } else {
            kept.join(", ")
        };
        writeln!(
            f,
            "descriptors: closed above {} at exec (kept: {kept})",
            self.descriptors.closed_above
        )?;
        writeln!(f, "session: {}", self.session.why)
    }
}

fn is_open(fd: RawFd) -> bool {
    // SAFETY: F_GETFD only reads the descriptor's flags.
    unsafe { libc::fcntl(fd, libc::F_GETFD) != -1 }
}

fn is_terminal(fd: RawFd) -> bool {
    // SAFETY: isatty only queries the descriptor.
    unsafe { libc::isatty(fd) == 1 }
}

/// The controlling terminal, opened without side effects (`O_NOCTTY`,
/// non-blocking), or `None` when there is none (`ENXIO`).
fn controlling_terminal() -> std::io::Result<Option<OwnedFd>> {
    use nix::fcntl::{OFlag, open};
    use nix::sys::stat::Mode;
    let flags = OFlag::O_RDONLY | OFlag::O_NOCTTY | OFlag::O_NONBLOCK | OFlag::O_CLOEXEC;
    match open("/dev/tty", flags, Mode::empty()) {
        Ok(fd) => Ok(Some(fd)),
        Err(nix::errno::Errno::ENXIO) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// A helper process cordon leaves behind (the sentinel, the reaper, the
/// domain proxy): its own session, so no terminal signals it, and fds 0-2
/// on `/dev/null`, so it holds none of the caller's terminal or pipes. A
/// session, not only a process group (which spared ~65 µs a helper, a
/// session's scheduler autogroup): in a session the command leads, the
/// command could take a pty as its controlling terminal, make a helper's
/// group the foreground and have the terminal send it ^C, or a hang-up on
/// exit, signals no Landlock scope sees (adversarial pass 10).
pub fn detach_helper() {
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
}

/// Applies `stdio` to this process; the caller sets up the sandbox and
/// execs next.
pub fn prepare(stdio: &Stdio) -> Result<()> {
    if stdio.detach().0 {
        drop_terminal()?;
    }
    close_at_exec(&stdio.keep_fds).map_err(|e| {
        Error::new(format!(
            "cannot mark inherited descriptors close-on-exec: {e}; nothing ran"
        ))
    })
}

/// A new session (setsid) or, where cordon leads its process group and
/// setsid is refused, no controlling terminal in the same one (TIOCNOTTY).
/// A session leader keeps its terminal (`Stdio::new` refused an explicit
/// `--new-session` there).
fn drop_terminal() -> Result<()> {
    use nix::errno::Errno;
    let failed = |what: &str, e: &dyn fmt::Display| {
        Error::new(format!(
            "cannot start the command without the terminal: {what}: {e}; pass --no-new-session to keep it; nothing ran"
        ))
    };
    match nix::unistd::setsid() {
        Ok(_) => return Ok(()),
        Err(Errno::EPERM) => {}
        Err(e) => return Err(failed("setsid", &e)),
    }
    if Caller::now().leads_session {
        return Ok(());
    }
    let Some(tty) = controlling_terminal().map_err(|e| failed("open /dev/tty", &e))? else {
        return Ok(());
    };
    // Not the session leader: the kernel's tiocnotty then only clears this
    // process's controlling terminal (disassociate_ctty returns at once for
    // a non-leader), so no SIGHUP reaches the caller's session.
    // SAFETY: TIOCNOTTY takes no argument; tty is an open descriptor.
    if unsafe { libc::ioctl(tty.as_raw_fd(), libc::TIOCNOTTY) } != 0 {
        return Err(failed("TIOCNOTTY", &std::io::Error::last_os_error()));
    }
    Ok(())
}

/// The ranges of descriptors above 2 that are not in `keep` (sorted).
#[cfg(any(target_os = "linux", test))]
fn ranges_around(keep: &[RawFd]) -> Vec<(u32, u32)> {
    let mut out = Vec::new();
    let mut next = (STDIO_LAST + 1) as u32;
    for &k in keep {
        let k = k as u32;
        if k > next {
            out.push((next, k - 1));
        }
        next = k + 1;
    }
    out.push((next, u32::MAX));
    out
}

/// Marks every descriptor above 2 but `keep` close-on-exec. Marking rather
/// than closing keeps cordon's own descriptors (already close-on-exec)
/// usable until the exec.
fn close_at_exec(keep: &[RawFd]) -> std::io::Result<()> {
    #[cfg(target_os = "linux")]
    {
        let flags = libc::CLOSE_RANGE_CLOEXEC as libc::c_int;
        let mut supported = true;
        for (first, last) in ranges_around(keep) {
            // SAFETY: close_range only changes flags of this process's fds.
            if unsafe { libc::close_range(first, last, flags) } != 0 {
                let e = std::io::Error::last_os_error();
                // Linux < 5.11 has no CLOSE_RANGE_CLOEXEC: mark one by one.
                if matches!(e.raw_os_error(), Some(libc::EINVAL | libc::ENOSYS)) {
                    supported = false;
                    break;
                }
                return Err(e);
            }
        }
        if supported {
            return Ok(());
        }
    }
    mark_each(keep)
}

/// The portable way: each open descriptor, listed from the fd directory.
fn mark_each(keep: &[RawFd]) -> std::io::Result<()> {
    let dir = if cfg!(target_os = "linux") {
        "/proc/self/fd"
    } else {
        "/dev/fd"
    };
    let fds: Vec<RawFd> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .collect();
    for fd in fds {
        if fd > STDIO_LAST && !keep.contains(&fd) {
            // SAFETY: sets FD_CLOEXEC; a descriptor that is gone (the one
            // read_dir listed with) fails with EBADF, which is fine.
            unsafe { libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) };
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_skip_exactly_the_kept_descriptors() {
        assert_eq!(ranges_around(&[]), [(3, u32::MAX)]);
        assert_eq!(ranges_around(&[5]), [(3, 4), (6, u32::MAX)]);
        assert_eq!(ranges_around(&[3, 4, 9]), [(5, 8), (10, u32::MAX)]);
    }

    #[test]
    fn keep_fd_refuses_stdio_and_closed_descriptors() {
        for fd in [0, 1, 2] {
            let e = Stdio::new(&[fd], SessionFlag::Auto).unwrap_err();
            assert!(e.message.contains("descriptors 0-2 always"), "{e:?}");
        }
        let e = Stdio::new(&[987_654], SessionFlag::Auto).unwrap_err();
        assert!(e.message.contains("is not open"), "{e:?}");
    }

    #[test]
    fn descriptors_are_described_in_one_line() {
        let s = Stdio {
            keep_fds: vec![5, 7],
            ..Stdio::default()
        };
        let text = s.describe().to_string();
        assert_eq!(
            text.lines().next(),
            Some("descriptors: closed above 2 at exec (kept: 5, 7)")
        );
        let text = Stdio::default().describe().to_string();
        assert_eq!(
            text.lines().next(),
            Some("descriptors: closed above 2 at exec (kept: none)")
        );
    }

    #[test]
    fn the_session_follows_the_terminals_on_stdio_and_the_callers_position() {
        let caller = |leads_group, leads_session, has_terminal| Caller {
            leads_group,
            leads_session,
            has_terminal,
        };
        let stdio = |session, terminal_fds: &[RawFd]| Stdio {
            keep_fds: vec![],
            session,
            terminal_fds: terminal_fds.to_vec(),
            keeps_terminal: false,
        };
        let plan = |s: &Stdio, c: Caller| {
            let p = s.session_plan(&c);
            (p.mechanism, p.terminal, p.why)
        };
        let agent = stdio(SessionFlag::Auto, &[]);
        // A child of a shell without job control: setsid.
        let (m, t, why) = plan(&agent, caller(false, false, true));
        assert_eq!((m, t), (Mechanism::Setsid, Terminal::Dropped));
        assert!(why.ends_with("; none of fds 0-2 is a terminal"), "{why}");
        // A job of an interactive shell leads its group: TIOCNOTTY.
        let (m, t, _) = plan(&agent, caller(true, false, true));
        assert_eq!((m, t), (Mechanism::Tiocnotty, Terminal::Dropped));
        let (m, t, _) = plan(&agent, caller(true, false, false));
        assert_eq!((m, t), (Mechanism::None, Terminal::Dropped));
        // A session leader keeps its terminal rather than hang it up.
        let (m, t, _) = plan(&agent, caller(true, true, true));
        assert_eq!((m, t), (Mechanism::Refused, Terminal::Kept));
        // A terminal on stdio keeps the session, unless --new-session.
        let (m, t, why) = plan(
            &stdio(SessionFlag::Auto, &[0, 2]),
            caller(false, false, true),
        );
        assert_eq!((m, t), (Mechanism::None, Terminal::Kept));
        assert!(
            why.ends_with(
                "; fd 0, 2 are a terminal; --new-session drops it; its foreground process group stays the command's (TIOCSPGRP denied)"
            ),
            "{why}"
        );
        let (m, _, _) = plan(&stdio(SessionFlag::New, &[0]), caller(false, false, true));
        assert_eq!(m, Mechanism::Setsid);
        let (m, t, why) = plan(&stdio(SessionFlag::Keep, &[]), caller(false, false, true));
        assert_eq!((m, t), (Mechanism::None, Terminal::Kept));
        assert!(why.contains("; --no-new-session; its foreground"), "{why}");
    }
}
