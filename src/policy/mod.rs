//! Policy: the vocabulary of the contract (§2), parsed and validated, with no
//! paths resolved yet. Every input shape (built-in TOML, user TOML, the agent
//! harness JSON shapes, CLI flags) ends up as one [`Policy`].

mod builtin;
mod codex;
mod deny;
mod env;
mod error;
mod macos;
mod merge;
mod net;
mod request;
mod source;
mod user;

pub use builtin::{BUILTIN_NAMES, DEFAULT_PROFILE, builtin_text};
pub use codex::{CodexError, CodexFault, SandboxPolicy};
pub use deny::{
    DEFAULT_GLOB_DEPTH, DenyEntry, DenyError, DenyFault, DenySpec, MAX_GLOB_DEPTH, SECRETS, is_glob,
};
pub use env::{
    CORDON_PREFIX, EnvDecl, EnvError, EnvPolicy, Inherit, NameFault, Pattern, SetVar, glob_match,
};
pub use error::{EntryError, EntryFault, PolicyError};
pub use macos::{
    Automation, AutomationError, Contacts, MacosExtensions, Preferences, valid_bundle_id,
};
pub use merge::merge_permissions;
pub use net::{DomainFault, DomainPattern, NetError, normalize_host, parse_port};
pub use request::{Execution, ExecutionKind, Request, parse_request, read_request, request_policy};
pub use source::{
    PROJECT_CONFIG, PermissionProfile, load_profile, macos_from_value, parse_permission_profile,
    parse_policy_json, parse_profile_toml, permission_profile_from_value,
    permission_profile_from_value_as, policy_from_value,
};
pub use user::{PROFILE_VAR, profile_dir, valid_name as valid_profile_name};

use std::borrow::Cow;
use std::ffi::OsStr;
use std::fmt;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

use crate::error::Result;

/// One entry of a `read` or `write` list: a special name (starting with `:`)
/// or a path as the user wrote it (absolute, cwd-relative or `~/...`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PathSpec {
    /// `:root`: the whole filesystem.
    Root,
    /// `:cwd`: the policy's working directory.
    Cwd,
    /// `:tmpdir`: `$TMPDIR`, when set.
    Tmpdir,
    /// `:slash_tmp`: `/tmp`.
    SlashTmp,
    /// `:minimal`: the platform's runtime set (reads only).
    Minimal,
    /// `:caches`: the package managers' caches under `$HOME` that exist
    /// ([`CACHES`]); opt-in, since a writable cache can poison builds that
    /// later run outside the sandbox.
    Caches,
    /// `"?PATH"` in a profile's list, `--allow-write-optional PATH`: a path
    /// that is skipped when it does not exist yet (a cache a tool creates
    /// on first use) instead of failing the run.
    Optional(PathBuf),
    /// A path as written: bytes, as on the command line (a `-w` path need
    /// not be UTF-8; TOML and JSON paths always are).
    Path(PathBuf),
}

/// What `:caches` names, relative to `$HOME`: the download and build
/// caches of cargo, npm, pip, yarn, pnpm, go, gradle and maven. `~/.cache`
/// (XDG) holds pip's, yarn v1's, pnpm's, go's build cache and many more.
/// Code (`~/.cargo/bin`, `~/.rustup`, `~/.local/bin`) and configuration
/// (`~/.cargo/config.toml`, `~/.npmrc`) are not caches and stay read-only.
pub const CACHES: [&str; 9] = [
    ".cache",
    ".cargo/registry",
    ".cargo/git",
    ".npm",
    ".gradle/caches",
    ".m2/repository",
    "go/pkg/mod",
    ".local/share/pnpm/store",
    ".yarn/berry/cache",
];

/// The special names a read or write list knows, for messages.
pub const SPECIAL_NAMES: &str = ":root, :cwd, :tmpdir, :slash_tmp, :minimal, :caches";

/// Why a list entry or a path flag's value is not a [`PathSpec`]; displays
/// as the message, which its caller puts after the list or flag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathError {
    Empty,
    /// A `:name` no list knows.
    UnknownSpecial(String),
    Nul,
    /// `?` in front of a special name (the entry as written, the name).
    OptionalSpecial {
        text: String,
        special: String,
    },
}

impl fmt::Display for PathError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PathError::Empty => f.write_str("an empty path"),
            PathError::UnknownSpecial(s) => {
                write!(f, "unknown special name `{s}` (known: {SPECIAL_NAMES})")
            }
            PathError::Nul => {
                f.write_str("a path containing a NUL byte, which no file name can hold; remove it")
            }
            PathError::OptionalSpecial { text, special } => write!(
                f,
                "`{}`: only a path can be optional (`?~/.cache/tool`), not the special name `{special}`; remove the `?`",
                text.escape_debug()
            ),
        }
    }
}

impl std::error::Error for PathError {}

impl PathSpec {
    /// A list entry or flag value that may not be UTF-8 (`-w`, `--allow-*`).
    /// Special names are ASCII, so a non-UTF-8 value can only be a path.
    pub fn parse_os(text: &OsStr) -> std::result::Result<PathSpec, PathError> {
        match text.to_str() {
            Some(s) => PathSpec::parse(s),
            None if text.as_bytes().starts_with(b":") => Err(PathError::UnknownSpecial(
                text.to_string_lossy().into_owned(),
            )),
            None if text.as_bytes().contains(&0) => Err(PathError::Nul),
            None => Ok(PathSpec::Path(PathBuf::from(text))),
        }
    }

    pub fn parse(text: &str) -> std::result::Result<PathSpec, PathError> {
        Ok(match text {
            ":root" => PathSpec::Root,
            ":cwd" => PathSpec::Cwd,
            ":tmpdir" => PathSpec::Tmpdir,
            ":slash_tmp" => PathSpec::SlashTmp,
            ":minimal" => PathSpec::Minimal,
            ":caches" => PathSpec::Caches,
            "" => return Err(PathError::Empty),
            s if s.starts_with(':') => return Err(PathError::UnknownSpecial(s.to_string())),
            s if s.contains('\0') => return Err(PathError::Nul),
            s => PathSpec::Path(PathBuf::from(s)),
        })
    }

    /// A profile list's entry: `?PATH` is an optional path, anything else
    /// as [`PathSpec::parse`]. Only profiles (TOML, cordon's JSON) spell it
    /// so; on the command line `?` is a shell glob character and a flag,
    /// `--allow-write-optional`, says it instead.
    pub fn parse_entry(text: &str) -> std::result::Result<PathSpec, PathError> {
        let Some(rest) = text.strip_prefix('?') else {
            return PathSpec::parse(text);
        };
        match PathSpec::parse(rest)? {
            PathSpec::Path(p) => Ok(PathSpec::Optional(p)),
            other => Err(PathError::OptionalSpecial {
                text: text.to_string(),
                special: other.as_text().into_owned(),
            }),
        }
    }

    /// The entry as written, for messages (a non-UTF-8 path lossily).
    pub fn as_text(&self) -> Cow<'_, str> {
        Cow::Borrowed(match self {
            PathSpec::Root => ":root",
            PathSpec::Cwd => ":cwd",
            PathSpec::Tmpdir => ":tmpdir",
            PathSpec::SlashTmp => ":slash_tmp",
            PathSpec::Minimal => ":minimal",
            PathSpec::Caches => ":caches",
            PathSpec::Optional(p) => return Cow::Owned(format!("?{}", p.to_string_lossy())),
            PathSpec::Path(p) => return p.to_string_lossy(),
        })
    }
}

/// Network section of a policy.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Network {
    pub enabled: bool,
    /// Whether `socket(AF_UNIX)` may be created.
    pub unix_sockets: bool,
    /// TCP ports the command may connect to (any host), network off.
    pub connect_tcp: Vec<u16>,
    /// TCP ports the command may bind, network off.
    pub bind_tcp: Vec<u16>,
    /// Hosts reached through cordon's proxy, network off otherwise.
    pub domains: Vec<DomainPattern>,
}

impl Network {
    /// TCP to some ports only (no full network, no proxy needed for it).
    pub fn has_ports(&self) -> bool {
        !self.connect_tcp.is_empty() || !self.bind_tcp.is_empty()
    }

    /// Whether cordon runs the domain proxy for this policy.
    pub fn proxied(&self) -> bool {
        !self.domains.is_empty()
    }

    /// Off with nothing granted: `CORDON_SANDBOX_NETWORK_DISABLED=1`.
    pub fn fully_off(&self) -> bool {
        !self.enabled && !self.partial()
    }

    /// Off except for what the lists grant: inet sockets are needed.
    pub fn partial(&self) -> bool {
        !self.enabled && (self.has_ports() || self.proxied())
    }

    pub fn add_connect(&mut self, port: u16) {
        if !self.connect_tcp.contains(&port) {
            self.connect_tcp.push(port);
        }
    }

    pub fn add_bind(&mut self, port: u16) {
        if !self.bind_tcp.contains(&port) {
            self.bind_tcp.push(port);
        }
    }

    pub fn add_domain(&mut self, d: DomainPattern) {
        if !self.domains.contains(&d) {
            self.domains.push(d);
        }
    }

    /// Full network plus a list that restricts it is ambiguous: refused
    /// rather than guessed (docs/network.md).
    pub fn check(&self) -> std::result::Result<(), NetError> {
        if self.enabled && (self.has_ports() || self.proxied()) {
            return Err(NetError::FullAndListed {
                domains: self.proxied(),
            });
        }
        Ok(())
    }
}

/// Where a list entry came from, so errors and `explain` can name the rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub spec: PathSpec,
    pub origin: String,
}

/// A validated policy: what the user asked for, before resolution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// Human name of where the policy came from (`profile workspace-write`,
    /// `/home/me/p.toml`, `--policy-json`).
    pub name: String,
    pub description: String,
    /// Read scope; contains `:root` for "everything".
    pub read: Vec<Grant>,
    /// Writable roots; `:root` means no filesystem sandbox.
    pub write: Vec<Grant>,
    /// Subpath names kept read-only inside every writable root.
    pub protected: Vec<String>,
    /// Devices granted beyond the always-usable ones: absolute paths in
    /// `/dev` (`/dev/kvm`, `/dev/dri`).
    pub devices: Vec<String>,
    /// Look for nested git repositories at any depth of every writable
    /// root (a directory walk: opt-in, `docs/git.md` has the cost).
    pub scan_nested_git: bool,
    /// Git mode: `git add` and `git commit` work in the sandbox; only what
    /// git reads as config or runs stays pinned in a writable gitdir
    /// (`docs/git.md`).
    pub git_commits: bool,
    /// Paths neither readable nor writable, even inside a root (`deny.rs`).
    pub deny: Vec<DenyEntry>,
    /// How deep below its base a deny glob is matched.
    pub glob_depth: usize,
    /// Read grants that add nothing to an unrestricted read scope but lift
    /// a deny entry they name (`--allow-read ~/.ssh/known_hosts`).
    pub lifts: Vec<Grant>,
    pub network: Network,
    pub macos: MacosExtensions,
    /// Which of the caller's variables reach the command (`[env]`).
    pub env: EnvPolicy,
}

impl Policy {
    /// `danger-full-access`: no sandbox at all (contract §2). Only a policy
    /// that asks for nothing gets it: reads and writes everywhere, the
    /// network on with unix sockets, and no protected path. Anything else
    /// keeps a sandbox, however wide.
    pub fn is_full_access(&self) -> bool {
        self.writes(&PathSpec::Root)
            && !self.restricts_reads()
            && self.network.enabled
            && self.network.unix_sockets
            && self.protected.is_empty()
            && self.deny.is_empty()
    }

    /// Reads are restricted when `:root` is not in the read list.
    pub fn restricts_reads(&self) -> bool {
        !self.read.iter().any(|g| g.spec == PathSpec::Root)
    }

    pub fn writes(&self, spec: &PathSpec) -> bool {
        self.write.iter().any(|g| &g.spec == spec)
    }

    pub fn add_write(&mut self, spec: PathSpec, origin: &str) {
        if !self.writes(&spec) {
            self.write.push(Grant {
                spec,
                origin: origin.to_string(),
            });
        }
    }

    pub fn add_read(&mut self, spec: PathSpec, origin: &str) {
        if !self.read.iter().any(|g| g.spec == spec) {
            self.read.push(Grant {
                spec,
                origin: origin.to_string(),
            });
        }
    }

    /// A read grant: into the read list when reads are restricted, else
    /// kept only for the deny entries it may lift.
    pub fn add_read_or_lift(&mut self, spec: PathSpec, origin: &str) {
        if self.restricts_reads() {
            self.add_read(spec, origin);
        } else if !self.lifts.iter().any(|g| g.spec == spec) {
            self.lifts.push(Grant {
                spec,
                origin: origin.to_string(),
            });
        }
    }

    pub fn add_deny(&mut self, entry: DenyEntry) {
        if !self.deny.iter().any(|d| d.spec == entry.spec) {
            self.deny.push(entry);
        }
    }

    pub fn add_device(&mut self, path: &str) {
        if !self.devices.iter().any(|d| d == path) {
            self.devices.push(path.to_string());
        }
    }

    pub fn remove_write(&mut self, spec: &PathSpec) {
        self.write.retain(|g| &g.spec != spec);
    }

    /// The default profile (`workspace-write`).
    pub fn default_profile() -> Result<Policy> {
        load_profile(DEFAULT_PROFILE)
    }
}

/// Turns a list of strings into grants, naming the list in errors.
pub(crate) fn grants(
    items: &[String],
    origin: &str,
    allow_minimal: bool,
) -> std::result::Result<Vec<Grant>, PolicyError> {
    let mut out: Vec<Grant> = Vec::with_capacity(items.len());
    // A set, not a scan of `out`: lists of 10,000 roots must stay linear.
    let mut seen = std::collections::HashSet::with_capacity(items.len());
    for item in items {
        let spec = PathSpec::parse_entry(item).map_err(|error| PolicyError::Path {
            at: origin.to_string(),
            error,
        })?;
        if spec == PathSpec::Minimal && !allow_minimal {
            return Err(PolicyError::MinimalWrite {
                origin: origin.to_string(),
            });
        }
        if seen.insert(spec.clone()) {
            out.push(Grant {
                spec,
                origin: origin.to_string(),
            });
        }
    }
    Ok(out)
}

/// Validates one protected subpath name: relative, no `..`, not empty.
pub fn check_protected(name: &str, origin: &str) -> std::result::Result<(), PolicyError> {
    let refuse = |nul| PolicyError::Protected {
        origin: origin.to_string(),
        name: name.to_string(),
        nul,
    };
    if name.contains('\0') {
        return Err(refuse(true));
    }
    let bad = name.is_empty()
        || name.starts_with('/')
        || name
            .split('/')
            .any(|c| c == ".." || c == "." || c.is_empty());
    if bad {
        return Err(refuse(false));
    }
    Ok(())
}

/// Validates one granted device: an absolute path in `/dev`, no `..`.
pub fn check_device(path: &str, origin: &str) -> std::result::Result<(), PolicyError> {
    let ok = path.strip_prefix("/dev/").is_some_and(|rest| {
        !rest.is_empty()
            && !rest
                .split('/')
                .any(|c| c == ".." || c == "." || c.is_empty())
    }) && !path.contains('\0');
    if !ok {
        return Err(PolicyError::Device {
            origin: origin.to_string(),
            path: path.to_string(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_profile_entry_with_a_question_mark_is_an_optional_path() {
        assert_eq!(
            PathSpec::parse_entry("?~/.cache/tool"),
            Ok(PathSpec::Optional("~/.cache/tool".into()))
        );
        assert_eq!(PathSpec::parse_entry(":caches"), Ok(PathSpec::Caches));
        assert_eq!(
            PathSpec::parse_entry("/a?b"),
            Ok(PathSpec::Path("/a?b".into()))
        );
        assert!(
            PathSpec::parse_entry("?:cwd")
                .unwrap_err()
                .to_string()
                .contains("remove the `?`")
        );
        assert!(
            PathSpec::parse_entry("?")
                .unwrap_err()
                .to_string()
                .contains("empty path")
        );
        // Flags never read `?`: it is a shell glob character there.
        assert_eq!(PathSpec::parse("?x"), Ok(PathSpec::Path("?x".into())));
        assert_eq!(PathSpec::Optional("/x".into()).as_text(), "?/x");
    }
}
