//! Deny entries (contract §6): paths that are neither readable nor writable,
//! even inside a readable or writable root. An entry is a path (absolute or
//! `~/`), the special name `:secrets`, or a glob (`*`, `?`, `**`).

use std::fmt;
use std::path::{Path, PathBuf};

use super::error::{EntryError, entry_faults};

/// The user's credential stores under `$HOME` (`:secrets`): the contract's
/// list, then other places where tools keep keys, tokens and passwords.
pub const SECRETS: [&str; 32] = [
    ".ssh",
    ".gnupg",
    ".aws",
    ".azure",
    ".config/gcloud",
    ".kube",
    ".docker/config.json",
    ".netrc",
    ".git-credentials",
    ".config/gh",
    ".npmrc",
    ".pypirc",
    ".cargo/credentials.toml",
    // Beyond the contract's list.
    ".cargo/credentials",
    ".config/git/credentials",
    ".config/hub",
    ".config/glab-cli",
    ".config/op",
    ".password-store",
    ".local/share/keyrings",
    ".vault-token",
    ".terraform.d/credentials.tfrc.json",
    ".config/doctl",
    ".oci",
    ".config/containers/auth.json",
    ".gem/credentials",
    ".config/rclone/rclone.conf",
    ".s3cfg",
    ".pgpass",
    ".my.cnf",
    ".composer/auth.json",
    ".m2/settings-security.xml",
];

/// The default depth to which a glob is matched below its base.
pub const DEFAULT_GLOB_DEPTH: usize = 12;
/// The deepest a profile may ask for.
pub const MAX_GLOB_DEPTH: usize = 64;

/// One deny entry as written.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum DenySpec {
    /// `:secrets`: [`SECRETS`] under `$HOME`.
    Secrets,
    /// A path: absolute, or `~/...` (expanded against `$HOME` at plan time).
    Path(PathBuf),
    /// A glob: absolute or `~/` (matched from its fixed prefix), or relative
    /// (matched within each writable root and readable path).
    Glob(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DenyEntry {
    pub spec: DenySpec,
    /// Where it came from (`profile workspace-write: file_system.deny`,
    /// `--deny-read`), for `explain` and errors.
    pub origin: String,
}

/// Why a deny entry or a glob depth is refused; displays as the one-line
/// message, `origin` (the list) first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DenyError {
    Entry(EntryError<DenyFault>),
    GlobDepth { origin: String, depth: usize },
}

entry_faults! {
    /// What is wrong with a deny entry.
    pub enum DenyFault: "deny entry" {
        Nul => "contains a NUL byte; remove it",
        UnknownSpecial => "is an unknown special name (deny lists know :secrets)",
        Empty => "is empty; remove it",
        DotDot => "contains `..`; write the path it leads to",
        Relative => "is not absolute after expansion; write /abs/path, ~/path, or a glob such as **/.env",
        Everything => "matches everything; name what to hide, such as **/.env or /srv/keys/*.pem",
        StarStarInName => "uses ** inside a name; ** must be a whole path component (a/**/b)",
    }
}

impl fmt::Display for DenyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DenyError::Entry(e) => e.fmt(f),
            DenyError::GlobDepth { origin, depth } => write!(
                f,
                "{origin}: glob_depth = {depth}: use a depth from 1 to {MAX_GLOB_DEPTH}"
            ),
        }
    }
}

impl std::error::Error for DenyError {}

impl DenySpec {
    /// Parses and validates one entry: `origin` names the list in errors.
    pub fn parse(text: &str, origin: &str) -> Result<DenySpec, DenyError> {
        Self::parse_text(text)
            .map_err(|fault| DenyError::Entry(EntryError::new(origin, text, fault)))
    }

    fn parse_text(text: &str) -> Result<DenySpec, DenyFault> {
        if text.contains('\0') {
            return Err(DenyFault::Nul);
        }
        if text == ":secrets" {
            return Ok(DenySpec::Secrets);
        }
        if text.starts_with(':') {
            return Err(DenyFault::UnknownSpecial);
        }
        if text.is_empty() {
            return Err(DenyFault::Empty);
        }
        let anchored = text.starts_with('/') || text == "~" || text.starts_with("~/");
        if Path::new(text).components().any(|c| c.as_os_str() == "..") {
            return Err(DenyFault::DotDot);
        }
        if !is_glob(text) {
            if !anchored {
                return Err(DenyFault::Relative);
            }
            return Ok(DenySpec::Path(PathBuf::from(text)));
        }
        // A pattern made only of wildcards matches everything below its
        // base: every file of the machine (`/**`) or of every root (`**`).
        let rest = text.strip_prefix("~/").unwrap_or(text);
        let all_wild = rest
            .split('/')
            .filter(|c| !c.is_empty())
            .all(|c| c.chars().all(|ch| ch == '*'));
        if all_wild && !text.starts_with("~/") {
            return Err(DenyFault::Everything);
        }
        if text.split('/').any(|c| c.contains("**") && c != "**") {
            return Err(DenyFault::StarStarInName);
        }
        Ok(DenySpec::Glob(text.to_string()))
    }

    pub fn as_text(&self) -> String {
        match self {
            DenySpec::Secrets => ":secrets".into(),
            DenySpec::Path(p) => p.to_string_lossy().into_owned(),
            DenySpec::Glob(g) => g.clone(),
        }
    }
}

/// Whether `text` holds a glob character.
pub fn is_glob(text: &str) -> bool {
    text.contains(['*', '?'])
}

/// Turns a list into deny entries, naming the list in errors.
pub fn entries(items: &[String], origin: &str) -> Result<Vec<DenyEntry>, DenyError> {
    let mut out: Vec<DenyEntry> = Vec::with_capacity(items.len());
    for item in items {
        let spec = DenySpec::parse(item, origin)?;
        if !out.iter().any(|e| e.spec == spec) {
            out.push(DenyEntry {
                spec,
                origin: origin.to_string(),
            });
        }
    }
    Ok(out)
}

/// Validates a profile's glob depth.
pub fn check_glob_depth(depth: usize, origin: &str) -> Result<usize, DenyError> {
    if depth == 0 || depth > MAX_GLOB_DEPTH {
        return Err(DenyError::GlobDepth {
            origin: origin.to_string(),
            depth,
        });
    }
    Ok(depth)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<DenySpec, DenyError> {
        DenySpec::parse(s, "t")
    }

    #[test]
    fn entries_and_refusals() {
        assert_eq!(parse(":secrets"), Ok(DenySpec::Secrets));
        assert_eq!(parse("~/.aws"), Ok(DenySpec::Path("~/.aws".into())));
        assert_eq!(parse("/srv/k"), Ok(DenySpec::Path("/srv/k".into())));
        assert_eq!(parse("**/.env"), Ok(DenySpec::Glob("**/.env".into())));
        assert_eq!(parse("~/**/*.pem"), Ok(DenySpec::Glob("~/**/*.pem".into())));
        for bad in [
            "relative/path",
            ".env",
            "/**",
            "**",
            "**/*",
            "*",
            "/*",
            "",
            ":nope",
            "/a/../b",
            "a**/b",
            "/x\0",
        ] {
            let e = parse(bad).unwrap_err().to_string();
            assert!(e.starts_with("t: deny entry"), "{bad}: {e}");
        }
        // A whole home is a choice, not everything.
        assert!(parse("~/**").is_ok());
    }
}
