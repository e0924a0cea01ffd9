//! The policy's one error type for what refuses a profile, a grant or a
//! list: the error of the module that refused it, or what the lists
//! themselves forbid. Each displays as the one-line message the user reads;
//! [`crate::error::Error`] takes it at the boundary.

use std::fmt;

use super::PathError;
use super::codex::CodexError;
use super::deny::DenyError;
use super::env::EnvEntryError;
use super::macos::AutomationError;
use super::net::NetError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicyError {
    /// A read or write list's entry; `at` names the list.
    Path {
        at: String,
        error: PathError,
    },
    Deny(DenyError),
    Net(NetError),
    Env(EnvEntryError),
    Codex(CodexError),
    /// `macos.automation` of the profile `origin` names.
    Automation {
        origin: String,
        error: AutomationError,
    },
    /// `:minimal` in a write list.
    MinimalWrite {
        origin: String,
    },
    /// A protected name that is not a relative subpath (`nul`: it holds a
    /// NUL byte).
    Protected {
        origin: String,
        name: String,
        nul: bool,
    },
    /// A granted device outside `/dev`.
    Device {
        origin: String,
        path: String,
    },
    /// `macos.contacts = read_write`, which cordon does not grant.
    ContactsReadWrite {
        origin: String,
    },
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PolicyError::Path { at, error } => write!(f, "{at}: {error}"),
            PolicyError::Deny(e) => e.fmt(f),
            PolicyError::Net(e) => e.fmt(f),
            PolicyError::Env(e) => e.fmt(f),
            PolicyError::Codex(e) => e.fmt(f),
            PolicyError::Automation { origin, error } => write!(f, "{origin}: macos.{error}"),
            PolicyError::MinimalWrite { origin } => write!(
                f,
                "{origin}: `:minimal` is a read scope and cannot be written; remove it from the write list"
            ),
            PolicyError::Protected {
                origin,
                name,
                nul: true,
            } => write!(
                f,
                "{origin}: protected entry `{}` contains a NUL byte, which no file name can hold; remove it",
                name.escape_debug()
            ),
            PolicyError::Protected { origin, name, .. } => write!(
                f,
                "{origin}: protected entry `{}` must be a relative subpath such as `.git`, or `~/NAME` for one in $HOME (no `/` prefix, empty component, `.` or `..`)",
                name.escape_debug()
            ),
            PolicyError::Device { origin, path } => write!(
                f,
                "{origin}: device `{}` must be a path in /dev such as /dev/kvm or /dev/dri",
                path.escape_debug()
            ),
            PolicyError::ContactsReadWrite { origin } => write!(
                f,
                "{origin}: macos.contacts = read_write is not supported: Codex's rule for it writes all of /var/folders, outside the writable roots; use \"read_only\" and grant the AddressBook directory with --allow-write"
            ),
        }
    }
}

impl std::error::Error for PolicyError {}

impl From<DenyError> for PolicyError {
    fn from(e: DenyError) -> Self {
        PolicyError::Deny(e)
    }
}

impl From<NetError> for PolicyError {
    fn from(e: NetError) -> Self {
        PolicyError::Net(e)
    }
}

impl From<EnvEntryError> for PolicyError {
    fn from(e: EnvEntryError) -> Self {
        PolicyError::Env(e)
    }
}

impl From<CodexError> for PolicyError {
    fn from(e: CodexError) -> Self {
        PolicyError::Codex(e)
    }
}

impl From<PolicyError> for crate::error::Error {
    fn from(e: PolicyError) -> Self {
        crate::error::Error::new(e)
    }
}
