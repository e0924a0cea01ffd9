//! What this kernel offers, probed with one syscall each (or, for
//! namespaces, in a throw-away child). `run` asks only the Landlock ABI;
//! `doctor` asks everything.

/// The kernel's answer to the Landlock version query: the ABI, or the errno
/// (`ENOSYS`: no Landlock in this kernel, or a filter hides it;
/// `EOPNOTSUPP`: built in but not enabled at boot).
///
/// The `landlock` crate deliberately keeps runtime ABI detection private; cordon
/// needs the number up front to refuse or report gaps before running anything,
/// so it asks the kernel directly (LANDLOCK_CREATE_RULESET_VERSION).
#[cfg(target_os = "linux")]
pub fn landlock_version() -> Result<u8, Errno> {
    const LANDLOCK_CREATE_RULESET_VERSION: libc::c_uint = 1;
    // SAFETY: a NULL attr with size 0 and the VERSION flag only queries.
    let v = unsafe {
        libc::syscall(
            libc::SYS_landlock_create_ruleset,
            std::ptr::null::<libc::c_void>(),
            0usize,
            LANDLOCK_CREATE_RULESET_VERSION,
        )
    };
    if v < 0 {
        Err(Errno(last_errno()))
    } else {
        Ok(v.min(255) as u8)
    }
}

#[cfg(not(target_os = "linux"))]
pub fn landlock_version() -> Result<u8, Errno> {
    Err(Errno(libc::ENOSYS))
}

/// The kernel's Landlock ABI version, 0 when Landlock is missing or disabled.
pub fn landlock_abi() -> u8 {
    landlock_version().unwrap_or(0)
}

#[cfg(target_os = "linux")]
fn last_errno() -> i32 {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

/// The errno a probe was refused with. Not `nix::errno::Errno`: a number
/// that table does not know (a child's exit status carries any) is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Errno(pub i32);

impl std::fmt::Display for Errno {
    /// The symbolic name (`EPERM`), from nix's table of the platform's
    /// errnos; a number it does not know stays a number.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match nix::errno::Errno::from_raw(self.0) {
            nix::errno::Errno::UnknownErrno => write!(f, "errno {}", self.0),
            e => write!(f, "{e:?}"),
        }
    }
}

/// Whether seccomp filters returning an errno can be installed here.
#[cfg(target_os = "linux")]
pub fn seccomp_filters() -> Result<(), Errno> {
    const SECCOMP_GET_ACTION_AVAIL: libc::c_uint = 2;
    const SECCOMP_RET_ERRNO: u32 = 0x0005_0000;
    let action = SECCOMP_RET_ERRNO;
    // Raw syscall: libc has no seccomp() wrapper. The op only reads `action`.
    let r = unsafe {
        libc::syscall(
            libc::SYS_seccomp,
            SECCOMP_GET_ACTION_AVAIL,
            0 as libc::c_uint,
            &action as *const u32,
        )
    };
    if r == 0 {
        return Ok(());
    }
    let errno = last_errno();
    if errno == libc::EINVAL {
        // Kernels before 4.14 lack the query; PR_GET_SECCOMP answers
        // whether seccomp exists at all.
        // SAFETY: plain prctl with constant arguments.
        if unsafe { libc::prctl(libc::PR_GET_SECCOMP, 0, 0, 0, 0) } >= 0 {
            return Ok(());
        }
        return Err(Errno(last_errno()));
    }
    Err(Errno(errno))
}

#[cfg(not(target_os = "linux"))]
pub fn seccomp_filters() -> Result<(), Errno> {
    Err(Errno(libc::ENOSYS))
}

/// This process's seccomp mode from `/proc/self/status` (0 none, 1 strict,
/// 2 filter): a filter here is inherited by everything cordon runs.
pub fn seccomp_mode() -> Option<u32> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("Seccomp:"))
        .and_then(|v| v.trim().parse().ok())
}

/// Why a namespace probe failed: the errno, and whether `unshare` itself
/// succeeded and only the mount that follows was refused (the way Ubuntu's
/// AppArmor restriction of unprivileged user namespaces shows: the
/// namespace is made, without the capabilities to use it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NsRefusal {
    pub errno: Errno,
    pub after_unshare: bool,
}

/// Whether `unshare(flags)` succeeds and, with `mount`, whether a mount
/// operation works after it (`/` made private, cordon's first one). Tried
/// in a forked child so this process keeps its namespaces; the child
/// reports the unshare's errno, or 128 + the mount's, as its exit status.
#[cfg(target_os = "linux")]
fn can_unshare(flags: libc::c_int, mount: bool) -> Result<(), NsRefusal> {
    const MOUNT_FAILED: i32 = 128;
    let refusal = |errno: i32, after_unshare| NsRefusal {
        errno: Errno(errno),
        after_unshare,
    };
    // SAFETY: the child only calls unshare, mount and _exit
    // (async-signal-safe).
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Err(refusal(last_errno(), false));
    }
    if pid == 0 {
        let code = if unsafe { libc::unshare(flags) } != 0 {
            last_errno().clamp(1, MOUNT_FAILED - 1)
        } else if mount
            && unsafe {
                libc::mount(
                    std::ptr::null(),
                    c"/".as_ptr(),
                    std::ptr::null(),
                    libc::MS_REC | libc::MS_PRIVATE,
                    std::ptr::null(),
                )
            } != 0
        {
            MOUNT_FAILED + last_errno().clamp(1, 127)
        } else {
            0
        };
        unsafe { libc::_exit(code) };
    }
    let mut status = 0;
    // SAFETY: waiting for our own child.
    if unsafe { libc::waitpid(pid, &mut status, 0) } < 0 {
        return Err(refusal(last_errno(), false));
    }
    match (libc::WIFEXITED(status), libc::WEXITSTATUS(status)) {
        (true, 0) => Ok(()),
        (true, code) if code > MOUNT_FAILED => Err(refusal(code - MOUNT_FAILED, true)),
        (true, errno) => Err(refusal(errno, false)),
        // Killed (e.g. a seccomp filter that kills): report EPERM.
        _ => Err(refusal(libc::EPERM, false)),
    }
}

/// Whether a user namespace can be created.
#[cfg(target_os = "linux")]
pub fn user_namespace() -> Result<(), Errno> {
    can_unshare(libc::CLONE_NEWUSER, false).map_err(|r| r.errno)
}

/// Whether a mount namespace can be created and mounted in, and how:
/// `cap_sys_admin` (directly) or `user_namespace` (inside a new user
/// namespace, as an unprivileged caller must). A refusal after the unshare
/// wins over one of the unshare: it names the restriction to lift.
#[cfg(target_os = "linux")]
pub fn mount_namespace() -> Result<&'static str, NsRefusal> {
    let direct = match can_unshare(libc::CLONE_NEWNS, true) {
        Ok(()) => return Ok("cap_sys_admin"),
        Err(r) => r,
    };
    match can_unshare(libc::CLONE_NEWUSER | libc::CLONE_NEWNS, true) {
        Ok(()) => Ok("user_namespace"),
        Err(r) if r.after_unshare || !direct.after_unshare => Err(r),
        Err(_) => Err(direct),
    }
}

#[cfg(not(target_os = "linux"))]
pub fn user_namespace() -> Result<(), Errno> {
    Err(Errno(libc::ENOSYS))
}

#[cfg(not(target_os = "linux"))]
pub fn mount_namespace() -> Result<&'static str, NsRefusal> {
    Err(NsRefusal {
        errno: Errno(libc::ENOSYS),
        after_unshare: false,
    })
}

/// What to tell a user whose host makes user namespaces that cannot
/// mount: what it is, and the fix.
pub fn after_unshare_restriction() -> String {
    let apparmor = sysctl_is(
        "/proc/sys/kernel/apparmor_restrict_unprivileged_userns",
        "kernel.apparmor_restrict_unprivileged_userns",
        "1",
    );
    let what = match apparmor {
        Some(s) => format!("AppArmor's restriction of unprivileged user namespaces ({s})"),
        None => "a restriction of user namespaces that behaves like AppArmor's \
                 (kernel.apparmor_restrict_unprivileged_userns=1 on Ubuntu 24.04+), or a \
                 seccomp filter of a container runtime"
            .into(),
    };
    format!(
        "unshare succeeds, then every mount gets EPERM: {what}; fix: install the AppArmor \
         profile dist/apparmor/cordon for the installed binary (README, \"Hosts\"), or, in a \
         container, run it with user namespaces and mounts allowed"
    )
}

/// A sysctl that is set to `bad`, as `name=value` text.
fn sysctl_is(path: &str, name: &str, bad: &str) -> Option<String> {
    let v = std::fs::read_to_string(path).ok()?;
    (v.trim() == bad).then(|| format!("{name}={bad}"))
}

/// Host settings known to forbid unprivileged user namespaces.
pub fn userns_restrictions() -> Vec<String> {
    let mut out = Vec::new();
    if let Some(s) = sysctl_is(
        "/proc/sys/kernel/apparmor_restrict_unprivileged_userns",
        "kernel.apparmor_restrict_unprivileged_userns",
        "1",
    ) {
        out.push(format!(
            "{s}: AppArmor denies user namespaces to unconfined programs"
        ));
    }
    if let Some(s) = sysctl_is(
        "/proc/sys/user/max_user_namespaces",
        "user.max_user_namespaces",
        "0",
    ) {
        out.push(format!("{s}: user namespaces are disabled"));
    }
    if let Some(s) = sysctl_is(
        "/proc/sys/kernel/unprivileged_userns_clone",
        "kernel.unprivileged_userns_clone",
        "0",
    ) {
        out.push(format!("{s}: unprivileged user namespaces are disabled"));
    }
    if seccomp_mode() == Some(2) {
        out.push(
            "cordon itself runs under a seccomp filter (a container runtime's or a wrapper's), which may deny unshare"
                .into(),
        );
    }
    out
}

/// The container runtime this process seems to run in, and the evidence.
pub fn container() -> Option<String> {
    if std::path::Path::new("/.dockerenv").exists() {
        return Some("docker (/.dockerenv)".into());
    }
    if std::path::Path::new("/run/.containerenv").exists() {
        return Some("podman (/run/.containerenv)".into());
    }
    if let Ok(cg) = std::fs::read_to_string("/proc/1/cgroup") {
        for name in ["docker", "kubepods", "containerd", "lxc", "libpod"] {
            if cg.contains(name) {
                return Some(format!("{name} (/proc/1/cgroup)"));
            }
        }
    }
    std::env::var("container")
        .ok()
        .filter(|v| !v.is_empty())
        .map(|v| format!("{v} ($container)"))
}

/// The boot LSM list (`lsm=`), when securityfs shows it.
pub fn lsm_list() -> Option<String> {
    std::fs::read_to_string("/sys/kernel/security/lsm")
        .ok()
        .map(|s| s.trim().to_string())
}

/// Sockets of host daemons that act on a client's behalf outside any
/// sandbox: container engines (a container with the host's `/` mounted),
/// the system bus and systemd (start units, reconfigure the network, mount
/// disks), snapd. Landlock has no right for connect(2) on a pathname
/// socket, so only a mount over them keeps a command away.
#[cfg_attr(not(target_os = "linux"), allow(dead_code))] // used by the Linux apply edge only
pub const DAEMON_SOCKETS: [&str; 12] = [
    "/run/docker.sock",
    "/var/run/docker.sock",
    "/run/containerd/containerd.sock",
    "/run/podman/podman.sock",
    "/run/crio/crio.sock",
    "/run/dbus/system_bus_socket",
    "/var/run/dbus/system_bus_socket",
    "/run/systemd/private",
    "/run/snapd.socket",
    "/var/snap/lxd/common/lxd/unix.socket",
    "/var/lib/lxd/unix.socket",
    "/var/lib/incus/unix.socket",
];

/// The same in a user's runtime directory (`/run/user/UID`): the session
/// bus and the user's systemd (`systemd-run --user` runs anything, outside
/// the sandbox), rootless docker and podman.
#[cfg_attr(not(target_os = "linux"), allow(dead_code))] // used by the Linux apply edge only
pub const USER_DAEMON_SOCKETS: [&str; 4] = [
    "bus",
    "systemd/private",
    "docker.sock",
    "podman/podman.sock",
];

/// The daemon sockets of [`DAEMON_SOCKETS`] and [`USER_DAEMON_SOCKETS`]
/// that exist and that the caller `uid` may connect to (write permission on
/// the socket, search on the way), canonical and sorted. Root looks in every
/// user's runtime directory, anyone else in their own. A few stat calls, no
/// scan.
#[cfg(target_os = "linux")]
pub fn daemon_sockets(uid: u32) -> Vec<std::path::PathBuf> {
    use std::os::unix::ffi::OsStrExt;
    use std::os::unix::fs::FileTypeExt;
    use std::path::PathBuf;
    let runtime_dirs: Vec<PathBuf> = if uid == 0 {
        std::fs::read_dir("/run/user")
            .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
            .unwrap_or_default()
    } else {
        vec![PathBuf::from(format!("/run/user/{uid}"))]
    };
    let candidates = DAEMON_SOCKETS.iter().map(PathBuf::from).chain(
        runtime_dirs
            .iter()
            .flat_map(|d| USER_DAEMON_SOCKETS.iter().map(move |n| d.join(n))),
    );
    canonical_set(
        candidates
            .filter(|p| std::fs::metadata(p).is_ok_and(|m| m.file_type().is_socket()))
            .filter(|p| {
                let Ok(c) = std::ffi::CString::new(p.as_os_str().as_bytes()) else {
                    return false;
                };
                // SAFETY: faccessat on a NUL-terminated path.
                let rc = unsafe {
                    libc::faccessat(libc::AT_FDCWD, c.as_ptr(), libc::W_OK, libc::AT_EACCESS)
                };
                rc == 0
            }),
    )
}

/// The candidates that exist, each by its canonical path, once, sorted.
#[cfg(target_os = "linux")]
fn canonical_set(candidates: impl Iterator<Item = std::path::PathBuf>) -> Vec<std::path::PathBuf> {
    let mut out: Vec<std::path::PathBuf> = candidates
        .filter_map(|p| std::fs::canonicalize(p).ok())
        .collect();
    out.sort();
    out.dedup();
    out
}

#[cfg(not(target_os = "linux"))]
pub fn daemon_sockets(_uid: u32) -> Vec<std::path::PathBuf> {
    Vec::new()
}

/// Sockets of the user's own session that run commands or type into it
/// outside the sandbox: a tmux or screen server (`send-keys`, `new-window`),
/// an Emacs server, the X server (synthetic key presses), VS Code's CLI and
/// git IPC, and the agents that sign with the user's keys (ssh-agent,
/// gpg-agent). They are masked even inside a writable root such as /tmp,
/// where a daemon socket would count as granted: the profile granted the
/// directory for files, not for the user's session. Found from the
/// environment and a few fixed places (a handful of `stat`s and two small
/// listings).
#[cfg(target_os = "linux")]
pub fn session_sockets(uid: u32) -> Vec<std::path::PathBuf> {
    use std::os::unix::fs::FileTypeExt;
    use std::path::PathBuf;
    let var = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    let listing = |dir: &std::path::Path| -> Vec<PathBuf> {
        std::fs::read_dir(dir)
            .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
            .unwrap_or_default()
    };
    let tmux_base = var("TMUX_TMPDIR").unwrap_or_else(|| "/tmp".into());
    let mut candidates: Vec<PathBuf> = Vec::new();
    // The caller's own tmux directory. (Root could reach other users'
    // servers too; listing /tmp for them would cost every run a scan of a
    // directory of any size: a named residual.)
    let tmux_dirs = [tmux_base.join(format!("tmux-{uid}"))];
    for d in tmux_dirs.iter().chain(&[PathBuf::from("/tmp/.X11-unix")]) {
        candidates.extend(listing(d));
    }
    if let Some(user) = var("USER") {
        let name = format!("S-{}", user.display());
        for base in ["/run/screen", "/tmp/screens"] {
            candidates.extend(listing(&std::path::Path::new(base).join(&name)));
        }
    }
    candidates.push(format!("/tmp/emacs{uid}/server").into());
    let runtime = var("XDG_RUNTIME_DIR").unwrap_or_else(|| format!("/run/user/{uid}").into());
    candidates.push(runtime.join("emacs/server"));
    for agent in ["S.gpg-agent", "S.gpg-agent.ssh", "S.gpg-agent.extra"] {
        candidates.push(runtime.join("gnupg").join(agent));
        if let Some(home) = var("HOME") {
            candidates.push(home.join(".gnupg").join(agent));
        }
    }
    candidates.extend(
        [
            "SSH_AUTH_SOCK",
            "VSCODE_IPC_HOOK_CLI",
            "VSCODE_GIT_IPC_HANDLE",
        ]
        .iter()
        .filter_map(|k| var(k)),
    );
    canonical_set(
        candidates
            .into_iter()
            .filter(|p| std::fs::symlink_metadata(p).is_ok_and(|m| m.file_type().is_socket())),
    )
}

#[cfg(not(target_os = "linux"))]
pub fn session_sockets(_uid: u32) -> Vec<std::path::PathBuf> {
    Vec::new()
}
