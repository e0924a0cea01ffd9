//! Codex's JSON, as Codex serializes it (`codex-rs/protocol`): the turn's
//! `SandboxPolicy` (`{"type": "read-only" | "workspace-write" |
//! "danger-full-access" | "external-sandbox"}`), the newest typed permission
//! profile (`{"type": "managed" | "disabled" | "external"}`) and the
//! `file_system.entries` form. Inside these shapes paths are absolute only
//! (Codex has no special names: `:root` there is no grant of `/`), and a
//! root that does not exist is skipped with one warning, as Codex skips it.
//! cordon's own TOML and flags keep their special names and stay strict.

use std::fmt;

use serde::Deserialize;
use serde_json::Value;

use super::deny::{DenyEntry, DenySpec};
use super::{Grant, PathSpec, PermissionProfile, Policy, PolicyError, builtin, grants};
use crate::error::{Error, Result};

/// `network_access` of `external-sandbox`, `network` of the typed profiles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum NetworkAccess {
    #[default]
    Restricted,
    Enabled,
}

impl NetworkAccess {
    fn enabled(self) -> bool {
        self == NetworkAccess::Enabled
    }
}

fn yes() -> bool {
    true
}

/// `access` of `read-only`, `read_only_access` (or `read_access`) of
/// `workspace-write`. Absent: reads everywhere.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case", deny_unknown_fields)]
pub enum ReadAccess {
    // `{}`: an empty struct variant refuses unknown fields; a unit variant
    // of an internally tagged enum would ignore them.
    FullAccess {},
    Restricted {
        #[serde(default = "yes")]
        include_platform_defaults: bool,
        #[serde(default)]
        readable_roots: Vec<String>,
    },
}

impl Default for ReadAccess {
    fn default() -> Self {
        ReadAccess::FullAccess {}
    }
}

/// Every shape Codex writes under `"type"`: the turn's `SandboxPolicy` and
/// the newest typed `PermissionProfile`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case", deny_unknown_fields)]
pub enum SandboxPolicy {
    ReadOnly {
        #[serde(default)]
        access: ReadAccess,
        #[serde(default)]
        network_access: bool,
    },
    WorkspaceWrite {
        #[serde(default)]
        writable_roots: Vec<String>,
        /// `read_access` is the later name of the same field.
        #[serde(default, alias = "read_access")]
        read_only_access: ReadAccess,
        #[serde(default)]
        network_access: bool,
        #[serde(default)]
        exclude_tmpdir_env_var: bool,
        #[serde(default)]
        exclude_slash_tmp: bool,
    },
    DangerFullAccess {},
    ExternalSandbox {
        #[serde(default)]
        network_access: NetworkAccess,
    },
    Managed {
        file_system: ManagedFileSystem,
        network: NetworkAccess,
    },
    Disabled {},
    External {
        network: NetworkAccess,
    },
}

/// `file_system` of a `managed` profile.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ManagedFileSystem {
    Restricted {
        #[serde(default)]
        entries: Vec<Entry>,
        /// How deep a denied glob is matched (cordon's `glob_depth`).
        #[serde(default)]
        glob_scan_max_depth: Option<usize>,
    },
    Unrestricted {},
}

/// One `file_system.entries` item.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    path: EntryPath,
    access: Access,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
enum EntryPath {
    Path {
        path: String,
    },
    /// A glob (`**/.env`): only as a denial, as cordon grants no globs.
    GlobPattern {
        pattern: String,
    },
    Special {
        value: Special,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
enum Special {
    Root {},
    Minimal {},
    CurrentWorkingDirectory {},
    ProjectRoots {
        #[serde(default)]
        subpath: Option<String>,
    },
    Tmpdir {},
    SlashTmp {},
    /// A kind newer than cordon (Codex keeps unknown tokens so that older
    /// runtimes can ignore them): a grant is skipped with one warning, as
    /// Codex skips it; a denial is refused, since skipping it would widen.
    #[serde(other)]
    Unknown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Access {
    Read,
    Write,
    None,
}

/// What a list of entries grants and denies.
#[derive(Debug, Default)]
pub struct Entries {
    pub read: Vec<Grant>,
    pub write: Vec<Grant>,
    pub deny: Vec<DenyEntry>,
}

/// Whether a `PermissionProfile` object is Codex-shaped: it uses a field
/// only Codex writes (`file_system.entries`, a `macos_*` name, the
/// `{"bundle_ids": [...]}` automation). Then its paths are Codex's:
/// absolute only.
pub fn is_codex_profile(value: &Value) -> bool {
    let entries = value
        .get("file_system")
        .is_some_and(|f| f.get("entries").is_some());
    let macos = value
        .get("macos")
        .and_then(Value::as_object)
        .is_some_and(|m| {
            m.keys()
                .any(|k| k.starts_with("macos_") || k == "automations")
                || m.values().any(|v| v.get("bundle_ids").is_some())
        });
    entries || macos
}

/// What Codex's JSON forms refuse, `at` naming the field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodexError {
    pub at: String,
    pub fault: CodexFault,
}

/// What is wrong at a [`CodexError`]'s field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodexFault {
    /// A path that is not absolute, as written.
    NotAbsolute(String),
    /// A `glob_pattern` that grants.
    GlobGrant,
    /// `minimal` with write access.
    MinimalWrite,
    /// `"access": "none"` on a special name (as cordon writes it).
    DenySpecial(String),
    /// `"access": "none"` on a relative path.
    DenyRelative,
    /// `"access": "none"` on a special kind cordon does not know.
    DenyUnknown,
    /// A `project_roots` subpath that could leave the project.
    Subpath(String),
}

impl fmt::Display for CodexError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: ", self.at)?;
        match &self.fault {
            CodexFault::NotAbsolute(item) => write!(
                f,
                "`{}` is not an absolute path; Codex's JSON takes absolute paths only (no `:name`, `~` or relative path): give the full path",
                item.escape_debug()
            ),
            CodexFault::GlobGrant => f.write_str(
                "a glob_pattern can only deny (\"access\": \"none\"); cordon grants paths, not globs: give {\"type\":\"path\",\"path\":\"/abs\"}",
            ),
            CodexFault::MinimalWrite => f.write_str(
                "`minimal` is a read scope and cannot be written; use \"access\": \"read\"",
            ),
            CodexFault::DenySpecial(spec) => write!(
                f,
                "\"access\": \"none\" on `{spec}` would hide what every command needs; deny absolute paths only ({{\"type\":\"path\",\"path\":\"/abs\"}})"
            ),
            CodexFault::DenyRelative => f.write_str(
                "\"access\": \"none\" takes an absolute path; give {\"type\":\"path\",\"path\":\"/abs\"}",
            ),
            CodexFault::DenyUnknown => f.write_str(
                "\"access\": \"none\" on a special kind cordon does not know; a denial cannot be skipped: deny the absolute path ({\"type\":\"path\",\"path\":\"/abs\"})",
            ),
            CodexFault::Subpath(sub) => write!(
                f,
                "project_roots subpath `{}` must be relative to the project root, without `..`; give e.g. \"src\"",
                sub.escape_debug()
            ),
        }
    }
}

impl std::error::Error for CodexError {}

fn refuse(at: &str, fault: CodexFault) -> CodexError {
    CodexError {
        at: at.to_string(),
        fault,
    }
}

/// A path that did not parse, at `at`.
fn path_error(at: String) -> impl FnOnce(super::PathError) -> PolicyError {
    move |error| PolicyError::Path { at, error }
}

/// Absolute paths only; a missing one is skipped with one warning line.
pub fn roots(items: &[String], origin: &str) -> std::result::Result<Vec<String>, CodexError> {
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        absolute(item, origin)?;
        match std::fs::symlink_metadata(item) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                eprintln!(
                    "cordon: warning: {origin}: {item} does not exist; skipped, as Codex skips it"
                );
            }
            _ => out.push(item.clone()),
        }
    }
    Ok(out)
}

fn absolute(item: &str, origin: &str) -> std::result::Result<(), CodexError> {
    if item.starts_with('/') {
        return Ok(());
    }
    Err(refuse(origin, CodexFault::NotAbsolute(item.to_string())))
}

/// `file_system.entries` as cordon's lists: `read`/`write` grants (special
/// kinds become `:root`, `:minimal`, `:cwd`, `:tmpdir`, `:slash_tmp`) and
/// `access: "none"` as deny entries.
pub fn entries(list: &[Entry], origin: &str) -> std::result::Result<Entries, PolicyError> {
    let mut out = Entries::default();
    for (i, e) in list.iter().enumerate() {
        let at = format!("{origin}[{i}]");
        let spec = match &e.path {
            EntryPath::GlobPattern { pattern } => {
                if e.access != Access::None {
                    return Err(refuse(&at, CodexFault::GlobGrant).into());
                }
                let spec = DenySpec::parse(pattern, &format!("{at}.path.pattern"))?;
                out.add_deny(spec, &at);
                continue;
            }
            EntryPath::Path { path } => {
                absolute(path, &format!("{at}.path.path"))?;
                if e.access != Access::None && roots(std::slice::from_ref(path), &at)?.is_empty() {
                    continue;
                }
                PathSpec::parse(path).map_err(path_error(format!("{at}.path.path")))?
            }
            EntryPath::Special { value } => match special(value, e.access == Access::None, &at)? {
                Some(spec) => spec,
                None => continue,
            },
        };
        match e.access {
            Access::Read => push(&mut out.read, spec, &at),
            Access::Write => {
                if spec == PathSpec::Minimal {
                    return Err(refuse(&at, CodexFault::MinimalWrite).into());
                }
                push(&mut out.write, spec, &at)
            }
            Access::None => {
                let PathSpec::Path(p) = &spec else {
                    let special = spec.as_text().into_owned();
                    return Err(refuse(&at, CodexFault::DenySpecial(special)).into());
                };
                if !p.is_absolute() {
                    return Err(refuse(&at, CodexFault::DenyRelative).into());
                }
                let spec = DenySpec::parse(&p.to_string_lossy(), &at)?;
                out.add_deny(spec, &at);
            }
        }
    }
    Ok(out)
}

/// A `special` entry's path, `None` for a kind cordon does not know and
/// skips (as Codex does) where it only grants.
fn special(
    value: &Special,
    denies: bool,
    at: &str,
) -> std::result::Result<Option<PathSpec>, PolicyError> {
    Ok(Some(match value {
        Special::Root {} => PathSpec::Root,
        Special::Minimal {} => PathSpec::Minimal,
        Special::CurrentWorkingDirectory {} | Special::ProjectRoots { subpath: None } => {
            PathSpec::Cwd
        }
        Special::ProjectRoots { subpath: Some(sub) } => project_subpath(sub, at)?,
        Special::Tmpdir {} => PathSpec::Tmpdir,
        Special::SlashTmp {} => PathSpec::SlashTmp,
        Special::Unknown if denies => return Err(refuse(at, CodexFault::DenyUnknown).into()),
        Special::Unknown => {
            eprintln!(
                "cordon: warning: {at}: a special kind cordon does not know; skipped, as Codex skips it"
            );
            return Ok(None);
        }
    }))
}

impl Entries {
    fn add_deny(&mut self, spec: DenySpec, at: &str) {
        if !self.deny.iter().any(|d| d.spec == spec) {
            self.deny.push(DenyEntry {
                spec,
                origin: at.to_string(),
            });
        }
    }
}

fn push(list: &mut Vec<Grant>, spec: PathSpec, origin: &str) {
    if !list.iter().any(|g| g.spec == spec) {
        list.push(Grant {
            spec,
            origin: origin.to_string(),
        });
    }
}

/// `project_roots` with a `subpath`: a path inside the working directory,
/// relative and without `..` (it cannot climb out).
fn project_subpath(sub: &str, at: &str) -> std::result::Result<PathSpec, PolicyError> {
    let bad = sub.is_empty()
        || sub.starts_with('/')
        || sub.starts_with('~')
        || sub.starts_with(':')
        || sub.split('/').any(|c| c == "..");
    if bad {
        return Err(refuse(at, CodexFault::Subpath(sub.to_string())).into());
    }
    PathSpec::parse(sub).map_err(path_error(at.to_string()))
}

/// The shape a `"type"` takes, for the one error line of a document that
/// did not parse: the fix, whatever serde's message named.
pub fn shape_hint(value: &Value) -> String {
    let shape = match value.get("type").and_then(Value::as_str) {
        Some("read-only") => {
            r#"{"type":"read-only","access":{"type":"full-access"} or {"type":"restricted","include_platform_defaults":true,"readable_roots":["/abs"]},"network_access":false}"#
        }
        Some("workspace-write") => {
            r#"{"type":"workspace-write","writable_roots":["/abs"],"read_only_access":{"type":"full-access"},"network_access":false,"exclude_tmpdir_env_var":false,"exclude_slash_tmp":false}"#
        }
        Some("external-sandbox") => {
            r#"{"type":"external-sandbox","network_access":"restricted" or "enabled"}"#
        }
        Some("managed") => {
            r#"{"type":"managed","file_system":{"type":"restricted","entries":[{"path":{"type":"path","path":"/abs"},"access":"read"}]} or {"type":"unrestricted"},"network":"restricted" or "enabled"}"#
        }
        Some("external") => r#"{"type":"external","network":"restricted" or "enabled"}"#,
        Some("danger-full-access") => r#"{"type":"danger-full-access"}"#,
        Some("disabled") => r#"{"type":"disabled"}"#,
        _ => {
            "one of read-only, workspace-write, danger-full-access, external-sandbox (SandboxPolicy) or managed, disabled, external (typed PermissionProfile)"
        }
    };
    format!("; the shape is {shape}")
}

/// `workspace-write`: the built-in, with Codex's writable roots between
/// `:cwd` and the temporary directories, and its read restriction.
fn workspace_write(
    writable_roots: &[String],
    read_only_access: &ReadAccess,
    network_access: bool,
    (exclude_tmpdir_env_var, exclude_slash_tmp): (bool, bool),
    origin: &str,
) -> Result<Policy> {
    let mut p = builtin::load("workspace-write")?;
    let field = format!("{origin}: writable_roots");
    let roots = roots(writable_roots, &field).map_err(Error::new)?;
    // Order as in the contract: :cwd, writable_roots, :tmpdir, :slash_tmp.
    let extra = grants(&roots, &field, false)?;
    let mut write = vec![p.write[0].clone()];
    write.extend(extra);
    write.extend(p.write.iter().skip(1).cloned());
    p.write = write;
    p.network.enabled = network_access;
    if exclude_tmpdir_env_var {
        p.remove_write(&PathSpec::Tmpdir);
    }
    if exclude_slash_tmp {
        p.remove_write(&PathSpec::SlashTmp);
    }
    restrict_reads(
        &mut p,
        read_only_access,
        &format!("{origin}: read_only_access"),
    )?;
    Ok(p)
}

/// A managed profile: the file system unrestricted or a list of entries,
/// the network on or restricted.
fn managed(file_system: &ManagedFileSystem, network: bool, origin: &str) -> Result<Policy> {
    Ok(match file_system {
        ManagedFileSystem::Unrestricted {} if network => builtin::load("full-access")?,
        ManagedFileSystem::Unrestricted {} => {
            // Writes everywhere, network off: still a sandbox (the
            // network rules and the protected paths hold).
            let mut p = builtin::load("full-access")?;
            p.network.enabled = false;
            // The turn extensions keep Codex's defaults, not the
            // full-access profile's (which grants them all).
            p.macos = Default::default();
            p.protected = super::source::DEFAULT_PROTECTED
                .iter()
                .map(|s| s.to_string())
                .collect();
            p.description =
                "Codex managed profile: file system unrestricted, network restricted.".into();
            p
        }
        ManagedFileSystem::Restricted {
            entries: list,
            glob_scan_max_depth,
        } => restricted(list, *glob_scan_max_depth, network, origin)?,
    })
}

/// A managed profile's entries: reads, writes (which read too) and denials
/// (`:secrets` first, as Codex's default).
fn restricted(
    list: &[Entry],
    glob_scan_max_depth: Option<usize>,
    network: bool,
    origin: &str,
) -> Result<Policy> {
    let glob_depth = match glob_scan_max_depth {
        Some(d) => Some(
            super::deny::check_glob_depth(d, &format!("{origin}: file_system.glob_scan_max_depth"))
                .map_err(Error::new)?,
        ),
        None => None,
    };
    let e = entries(list, &format!("{origin}: file_system.entries"))?;
    let mut read = e.read;
    for g in &e.write {
        push(&mut read, g.spec.clone(), &g.origin);
    }
    let mut deny = vec![DenyEntry {
        spec: DenySpec::Secrets,
        origin: format!("{origin} (default)"),
    }];
    deny.extend(e.deny);
    let mut p = PermissionProfile {
        description: Some("Codex managed profile: restricted entries.".into()),
        read: Some(read),
        write: e.write,
        deny: Some(deny),
        glob_depth,
        network: Some(network),
        ..Default::default()
    }
    .into_policy(origin);
    if p.writes(&PathSpec::Root) && p.restricts_reads() {
        // Write implies read in Codex: writing the root reads it.
        p.add_read(PathSpec::Root, origin);
    }
    Ok(p)
}

impl SandboxPolicy {
    /// The cordon policy this shape means (README, "Codex JSON").
    pub fn to_policy(&self, origin: &str) -> Result<Policy> {
        let mut policy = match self {
            SandboxPolicy::ReadOnly {
                access,
                network_access,
            } => {
                let mut p = builtin::load("read-only")?;
                restrict_reads(&mut p, access, &format!("{origin}: access"))?;
                p.network.enabled = *network_access;
                p
            }
            SandboxPolicy::DangerFullAccess {} | SandboxPolicy::Disabled {} => {
                builtin::load("full-access")?
            }
            SandboxPolicy::WorkspaceWrite {
                writable_roots,
                read_only_access,
                network_access,
                exclude_tmpdir_env_var,
                exclude_slash_tmp,
            } => workspace_write(
                writable_roots,
                read_only_access,
                *network_access,
                (*exclude_tmpdir_env_var, *exclude_slash_tmp),
                origin,
            )?,
            SandboxPolicy::ExternalSandbox { network_access }
            | SandboxPolicy::External {
                network: network_access,
            } => external(network_access.enabled())?,
            SandboxPolicy::Managed {
                file_system,
                network,
            } => managed(file_system, network.enabled(), origin)?,
        };
        policy.name = origin.to_string();
        Ok(policy)
    }

    /// Whether this shape asks for no sandbox at all.
    pub fn is_unsandboxed(&self) -> bool {
        matches!(
            self,
            SandboxPolicy::DangerFullAccess {} | SandboxPolicy::Disabled {}
        )
    }
}

/// `external-sandbox` / `external`: the caller says it is sandboxed
/// already. cordon cannot see that sandbox, so it never takes the claim as
/// "run with none": it applies the read-only base (read everything, write
/// nothing, `:secrets` denied) with the network as asked. Narrower than
/// Codex (which adds no file rules), never wider.
fn external(network: bool) -> Result<Policy> {
    let mut p = builtin::load("read-only")?;
    p.network.enabled = network;
    p.description = "Codex external-sandbox: the caller's own sandbox is not seen by cordon, which applies the read-only base (no writes) with the network as asked.".into();
    Ok(p)
}

/// A `restricted` read access: reads only `:minimal` (when
/// `include_platform_defaults`), the readable roots and the working
/// directory (Codex adds the cwd), plus the writable roots (the plan makes
/// every writable root readable).
fn restrict_reads(
    p: &mut Policy,
    access: &ReadAccess,
    origin: &str,
) -> std::result::Result<(), PolicyError> {
    let ReadAccess::Restricted {
        include_platform_defaults,
        readable_roots,
    } = access
    else {
        return Ok(());
    };
    let field = format!("{origin}.readable_roots");
    let mut read = Vec::new();
    if *include_platform_defaults {
        push(&mut read, PathSpec::Minimal, origin);
    }
    read.extend(grants(&roots(readable_roots, &field)?, &field, false)?);
    push(&mut read, PathSpec::Cwd, origin);
    p.read = read;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(v: Value) -> std::result::Result<Entries, PolicyError> {
        let list: Vec<Entry> = serde_json::from_value(v).expect("entries");
        entries(&list, "t")
    }

    fn special(kind: &str, access: &str) -> Value {
        serde_json::json!([{"path": {"type": "special", "value": {"kind": kind}}, "access": access}])
    }

    #[test]
    fn special_kinds_map_to_cordon_names() {
        for (kind, want) in [
            ("root", PathSpec::Root),
            ("minimal", PathSpec::Minimal),
            ("current_working_directory", PathSpec::Cwd),
            ("project_roots", PathSpec::Cwd),
            ("tmpdir", PathSpec::Tmpdir),
            ("slash_tmp", PathSpec::SlashTmp),
        ] {
            let e = parse(special(kind, "read")).unwrap();
            assert_eq!(e.read[0].spec, want, "{kind}");
            assert!(e.write.is_empty() && e.deny.is_empty());
        }
        let e = parse(serde_json::json!([{"path": {"type": "special", "value": {"kind": "project_roots", "subpath": "src/gen"}}, "access": "write"}])).unwrap();
        assert_eq!(e.write[0].spec, PathSpec::Path("src/gen".into()));
        // Grants of an unknown kind are skipped; a denial is refused.
        assert!(parse(special("future", "write")).unwrap().write.is_empty());
        assert!(parse(special("future", "none")).is_err());
        for kind in ["root", "minimal", "tmpdir", "current_working_directory"] {
            assert!(parse(special(kind, "none")).is_err(), "{kind}");
        }
        assert!(parse(special("minimal", "write")).is_err());
    }

    #[test]
    fn none_on_an_absolute_path_is_a_deny_entry() {
        let e = parse(
            serde_json::json!([{"path": {"type": "path", "path": "/srv/keys"}, "access": "none"}]),
        )
        .unwrap();
        assert_eq!(e.deny[0].spec, DenySpec::Path("/srv/keys".into()));
        assert!(e.read.is_empty() && e.write.is_empty());
    }

    #[test]
    fn codex_profiles_are_told_by_codex_only_fields() {
        for v in [
            serde_json::json!({"file_system": {"entries": []}}),
            serde_json::json!({"macos": {"macos_calendar": true}}),
            serde_json::json!({"macos": {"automation": {"bundle_ids": ["a.b"]}}}),
            serde_json::json!({"macos": {"automations": "all"}}),
        ] {
            assert!(is_codex_profile(&v), "{v}");
        }
        for v in [
            serde_json::json!({"file_system": {"write": [":cwd"]}}),
            serde_json::json!({"macos": {"calendar": true, "automation": ["a.b"]}}),
            serde_json::json!({}),
        ] {
            assert!(!is_codex_profile(&v), "{v}");
        }
    }

    #[test]
    fn restricted_reads_add_minimal_and_the_cwd() {
        let mut p = builtin::load("read-only").unwrap();
        let access: ReadAccess = serde_json::from_value(
            serde_json::json!({"type": "restricted", "readable_roots": ["/"]}),
        )
        .unwrap();
        restrict_reads(&mut p, &access, "t").unwrap();
        let specs: Vec<_> = p.read.iter().map(|g| g.spec.as_text()).collect();
        assert_eq!(specs, [":minimal", "/", ":cwd"]);
        let access: ReadAccess = serde_json::from_value(
            serde_json::json!({"type": "restricted", "include_platform_defaults": false}),
        )
        .unwrap();
        restrict_reads(&mut p, &access, "t").unwrap();
        let specs: Vec<_> = p.read.iter().map(|g| g.spec.as_text()).collect();
        assert_eq!(specs, [":cwd"]);
    }
}
