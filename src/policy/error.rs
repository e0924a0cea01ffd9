//! The policy's errors: [`PolicyError`], what refuses a profile, a grant or
//! a list (the error of the module that refused it, or what the lists
//! themselves forbid), and [`EntryError`], the one shape of "this entry of
//! that list is refused, because". Each displays as the one-line message
//! the user reads; [`crate::error::Error`] takes it at the boundary.

use std::fmt;

use super::PathError;
use super::codex::CodexError;
use super::deny::DenyError;
use super::env::EnvError;
use super::macos::AutomationError;
use super::net::NetError;

/// What is wrong with an entry of some kind (a deny entry, a domain
/// pattern): the kind's name and the reason, for [`EntryError`].
pub trait EntryFault: Copy {
    /// The kind of entry, as messages name it (`deny entry`).
    const ENTRY: &'static str;
    /// Why it is refused and what to write instead.
    fn why(self) -> &'static str;
}

/// Declares an [`EntryFault`] enum: each variant with the reason its
/// message gives, so a reason is written once, next to its name.
macro_rules! entry_faults {
    (
        $(#[$doc:meta])*
        $vis:vis enum $name:ident: $entry:literal {
            $($variant:ident => $why:expr,)*
        }
    ) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        $vis enum $name {
            $($variant,)*
        }

        impl $crate::policy::EntryFault for $name {
            const ENTRY: &'static str = $entry;

            fn why(self) -> &'static str {
                match self {
                    $($name::$variant => $why,)*
                }
            }
        }
    };
}
pub(crate) use entry_faults;

/// An entry refused: the list or flag it came from, the entry as written
/// and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryError<F> {
    pub origin: String,
    pub text: String,
    pub fault: F,
}

impl<F> EntryError<F> {
    pub fn new(origin: &str, text: &str, fault: F) -> Self {
        EntryError {
            origin: origin.to_string(),
            text: text.to_string(),
            fault,
        }
    }
}

impl<F: EntryFault> fmt::Display for EntryError<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {} `{}` {}",
            self.origin,
            F::ENTRY,
            self.text.escape_debug(),
            self.fault.why()
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicyError {
    /// A read or write list's entry; `at` names the list.
    Path {
        at: String,
        error: PathError,
    },
    Deny(DenyError),
    Net(NetError),
    /// An `[env]` entry; `at` names the list.
    Env {
        at: String,
        error: EnvError,
    },
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
            PolicyError::Env { at, error } => write!(f, "{at}: {error}"),
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

/// `?` turns a module's error into the policy's.
macro_rules! from_module_error {
    ($($error:ty => $variant:ident),*) => {$(
        impl From<$error> for PolicyError {
            fn from(e: $error) -> Self {
                PolicyError::$variant(e)
            }
        }
    )*};
}

from_module_error!(DenyError => Deny, NetError => Net, CodexError => Codex);

impl From<PolicyError> for crate::error::Error {
    fn from(e: PolicyError) -> Self {
        crate::error::Error::new(e)
    }
}
