//! The backend-neutral vocabulary of enforcement: what a sandbox enforces
//! ([`Feature`]), what it cannot ([`Gap`]), both keyed by [`Kind`]. A backend
//! fills them in; `explain`, `doctor`, `run` and `trace` read them. The
//! tokens are part of the JSON shape (docs/explain-doctor.md) and of the
//! text output, so each kind's token is fixed here once.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Serialize;

/// Declares [`Kind`] with each variant's token: serde's name, `Display`
/// and [`Kind::as_str`] come from the same literal, so they cannot drift.
macro_rules! kinds {
    ($($(#[$doc:meta])* $name:ident = $token:literal,)*) => {
        /// A feature of a plan, as `explain` lists it and a gap names it.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
        pub enum Kind {
            $($(#[$doc])* #[serde(rename = $token)] $name,)*
        }

        impl Kind {
            /// Every kind, in declaration order.
            pub const ALL: &[Kind] = &[$(Kind::$name,)*];

            /// The stable token (`read-scope`, `io-uring`, ...).
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Kind::$name => $token,)*
                }
            }
        }
    };
}

kinds! {
    /// Landlock as a whole, when unavailable: nothing restricts files.
    Filesystem = "filesystem",
    /// The read scope: `:root` or `:minimal`.
    ReadScope = "read-scope",
    ReadablePath = "readable-path",
    ReadsElsewhere = "reads-elsewhere",
    WritableRoot = "writable-root",
    WritesElsewhere = "writes-elsewhere",
    Protected = "protected",
    /// A protected path not held, by design (`mounts::PROJECT_ONLY`).
    ProtectedUnheld = "protected-unheld",
    Deny = "deny",
    DenyWaived = "deny-waived",
    /// chmod, chown, utime and xattr changes outside the writable roots.
    Metadata = "metadata",
    Devices = "devices",
    /// SysV IPC and POSIX message queues.
    Ipc = "ipc",
    /// Processes the command leaves behind in the sandbox.
    Leftovers = "leftovers",
    /// The caller's other uids, gids and capabilities.
    Identity = "identity",
    Network = "network",
    UnixSockets = "unix-sockets",
    /// `socketpair(AF_UNIX)` and pipes.
    LocalIpc = "local-ipc",
    Vsock = "vsock",
    /// A listed TCP port.
    TcpPort = "tcp-port",
    /// TCP to and from the ports not listed.
    TcpOther = "tcp-other",
    /// With listed domains: the proxy as the only way out.
    DomainIsolation = "domain-isolation",
    /// A listed domain.
    Domain = "domain",
    /// The proxy's environment variables.
    ProxyEnv = "proxy-env",
    /// A host daemon's socket.
    DaemonSocket = "daemon-socket",
    /// connect(2) to pathname unix sockets nothing masks (not enforced).
    UnixConnect = "unix-connect",
    IoUring = "io-uring",
    /// TIOCSTI and TIOCLINUX.
    TerminalInjection = "terminal-injection",
    /// Other terminals.
    Terminals = "terminals",
    OwnTerminals = "own-terminals",
    /// ptys the command makes.
    Ptys = "ptys",
    /// The capabilities a privileged caller keeps.
    Capabilities = "capabilities",
    /// mount, chroot and setns.
    MountChanges = "mount-changes",
    OpenByHandle = "open-by-handle",
    UserNamespaces = "user-namespaces",
    Keyrings = "keyrings",
    /// Resource limits, priority, scheduling... of other processes.
    ProcessTargets = "process-targets",
    Truncate = "truncate",
    IoctlDev = "ioctl-dev",
    SignalScope = "signal-scope",
    AbstractUnixScope = "abstract-unix-scope",
    /// The macOS extensions, which nothing on Linux enforces.
    Macos = "macos",
    /// Gap only: Landlock is unavailable.
    Landlock = "landlock",
    /// Gap only: listed ports without Landlock's TCP rights.
    TcpPorts = "tcp-ports",
    /// Gap only: everything outside the writable roots read-only.
    ReadOnlyWorld = "read-only-world",
    /// Gap only, and one no `--best-effort` accepts: git mode without its
    /// mount points lets a command make the gitdir no repository, and the
    /// user's next git outside then reads config the command wrote.
    GitMode = "git-mode",
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One feature of the plan next to what enforces it, or why nothing does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Feature {
    pub kind: Kind,
    /// The plan element in words, e.g. `writable root /repo from :cwd`.
    pub feature: String,
    /// The path it is about, for the path-shaped kinds.
    pub path: Option<PathBuf>,
    pub enforced: bool,
    /// What enforces it, or why nothing does.
    pub mechanism: String,
}

impl Feature {
    /// `what`, enforced by `mechanism`.
    pub fn enforced(kind: Kind, what: impl Into<String>, mechanism: impl Into<String>) -> Self {
        Feature {
            kind,
            feature: what.into(),
            path: None,
            enforced: true,
            mechanism: mechanism.into(),
        }
    }

    /// `what`, not enforced, for the reason `why`.
    pub fn not_enforced(kind: Kind, what: impl Into<String>, why: impl Into<String>) -> Self {
        Feature {
            enforced: false,
            ..Feature::enforced(kind, what, why)
        }
    }

    /// The same feature, about `path`.
    pub fn at(mut self, path: &Path) -> Self {
        self.path = Some(path.to_path_buf());
        self
    }
}

/// A feature of the plan this host cannot enforce, and how it shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Gap {
    pub feature: Kind,
    /// What is not enforced, and what would enforce it.
    pub detail: String,
}

impl Gap {
    pub fn new(feature: Kind, detail: impl Into<String>) -> Self {
        Gap {
            feature,
            detail: detail.into(),
        }
    }
}

impl fmt::Display for Gap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.feature, self.detail)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The JSON token is the text one, and no two kinds share one.
    #[test]
    fn each_kind_serializes_as_its_token() {
        let mut seen = std::collections::HashSet::new();
        for k in Kind::ALL {
            let json = serde_json::to_string(k).unwrap();
            assert_eq!(json, format!("\"{k}\""));
            assert!(seen.insert(k.as_str()), "{k} twice");
            let kebab = k
                .as_str()
                .chars()
                .all(|c| c.is_ascii_lowercase() || c == '-');
            assert!(kebab, "{k}");
        }
    }
}
