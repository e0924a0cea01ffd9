//! Parsing every input shape into a [`Policy`]: profile TOML (built-in or a
//! user file), the agent-harness `SandboxPolicy` JSON (`{"type": ...}`), and
//! `PermissionProfile` JSON. Unknown keys are errors naming key and file.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::deny::{self, DEFAULT_GLOB_DEPTH, DenyEntry, DenySpec};
use super::env::{EnvDecl, RawEnv};
use super::macos::{AutomationRaw, MacosExtensions, Preferences};
use super::{Grant, Network, PathSpec, Policy, builtin, check_device, check_protected, grants};
use crate::error::{Error, Result};

/// Read-only inside every writable root: what a harness, git or an editor
/// later trusts and runs outside the sandbox. `~/` names are in `$HOME`,
/// when `$HOME` lies in a writable root. The contract's four, plus the
/// configuration of tools that run outside (sandbox-runtime's mandatory
/// deny list).
pub(crate) const DEFAULT_PROTECTED: [&str; 18] = [
    ".git",
    ".cordon",
    ".agents",
    ".codex",
    ".vscode",
    ".idea",
    ".claude",
    ".devcontainer",
    ".mcp.json",
    ".gitmodules",
    ".envrc",
    "~/.bashrc",
    "~/.zshrc",
    "~/.profile",
    "~/.bash_profile",
    "~/.zprofile",
    "~/.gitconfig",
    "~/.ripgreprc",
];

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProfile {
    description: Option<String>,
    /// `extends = "NAME" | "PATH"` (TOML only): the base this profile adds to.
    extends: Option<String>,
    file_system: Option<RawFileSystem>,
    network: Option<RawNetwork>,
    macos: Option<RawMacos>,
    env: Option<RawEnv>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFileSystem {
    read: Option<Vec<String>>,
    write: Option<Vec<String>>,
    protected: Option<Vec<String>>,
    devices: Option<Vec<String>>,
    scan_nested_git: Option<bool>,
    deny: Option<Vec<String>>,
    glob_depth: Option<usize>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNetwork {
    enabled: Option<bool>,
    unix_sockets: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMacos {
    preferences: Option<Preferences>,
    automation: Option<AutomationRaw>,
    accessibility: Option<bool>,
    calendar: Option<bool>,
}

/// A permission profile as declared: only what it names is set, so it can be
/// used both as a whole sandbox (`exact`) and as grants (`additional`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PermissionProfile {
    pub description: Option<String>,
    pub read: Option<Vec<Grant>>,
    pub write: Vec<Grant>,
    pub protected: Option<Vec<String>>,
    /// Devices granted beyond the always-usable ones (`/dev/kvm`).
    pub devices: Vec<String>,
    pub scan_nested_git: Option<bool>,
    /// `None`: the profile says nothing, and `:secrets` is denied.
    pub deny: Option<Vec<DenyEntry>>,
    pub glob_depth: Option<usize>,
    pub network: Option<bool>,
    pub unix_sockets: Option<bool>,
    /// `Some` only when the profile names a `macos` section.
    pub macos: Option<MacosExtensions>,
    /// `Some` only when the profile names an `env` section.
    pub env: Option<EnvDecl>,
}

impl PermissionProfile {
    /// The profile as a whole sandbox: a read-only base plus its grants.
    pub fn into_policy(self, name: &str) -> Policy {
        let origin = name.to_string();
        Policy {
            name: origin.clone(),
            description: self.description.unwrap_or_default(),
            read: self.read.unwrap_or_else(|| {
                vec![Grant {
                    spec: PathSpec::Root,
                    origin: origin.clone(),
                }]
            }),
            write: self.write,
            protected: self
                .protected
                .unwrap_or_else(|| DEFAULT_PROTECTED.iter().map(|s| s.to_string()).collect()),
            devices: self.devices,
            scan_nested_git: self.scan_nested_git.unwrap_or(false),
            // Like `protected`: a profile that says nothing keeps the
            // credential stores out of reach; `deny = []` opts out.
            deny: self.deny.unwrap_or_else(|| {
                vec![DenyEntry {
                    spec: DenySpec::Secrets,
                    origin: format!("{origin} (default)"),
                }]
            }),
            glob_depth: self.glob_depth.unwrap_or(DEFAULT_GLOB_DEPTH),
            lifts: Vec::new(),
            network: Network {
                enabled: self.network.unwrap_or(false),
                unix_sockets: self.unix_sockets.unwrap_or(true),
            },
            macos: self.macos.unwrap_or_default(),
            env: self.env.unwrap_or_default().into_policy(name),
        }
    }
}

fn macos_from_raw(m: RawMacos, origin: &str) -> std::result::Result<MacosExtensions, String> {
    Ok(MacosExtensions {
        preferences: m.preferences.unwrap_or_default(),
        automation: match m.automation {
            Some(a) => a.resolve().map_err(|e| format!("{origin}: macos.{e}"))?,
            None => Default::default(),
        },
        accessibility: m.accessibility.unwrap_or(false),
        calendar: m.calendar.unwrap_or(false),
    })
}

fn from_raw(raw: RawProfile, origin: &str) -> std::result::Result<PermissionProfile, String> {
    let fs = raw.file_system.unwrap_or_default();
    let read = match fs.read {
        Some(items) => Some(grants(
            &items,
            &format!("{origin}: file_system.read"),
            true,
        )?),
        None => None,
    };
    let write = grants(
        &fs.write.unwrap_or_default(),
        &format!("{origin}: file_system.write"),
        false,
    )?;
    if let Some(list) = &fs.protected {
        for name in list {
            check_protected(name, origin)?;
        }
    }
    let devices = fs.devices.unwrap_or_default();
    for d in &devices {
        check_device(d, &format!("{origin}: file_system.devices"))?;
    }
    let deny = match &fs.deny {
        Some(items) => Some(deny::entries(
            items,
            &format!("{origin}: file_system.deny"),
        )?),
        None => None,
    };
    let glob_depth = match fs.glob_depth {
        Some(d) => Some(deny::check_glob_depth(
            d,
            &format!("{origin}: file_system"),
        )?),
        None => None,
    };
    let net = raw.network.unwrap_or_default();
    let macos = match raw.macos {
        None => None,
        Some(m) => Some(macos_from_raw(m, origin)?),
    };
    let env = match raw.env {
        None => None,
        Some(e) => Some(EnvDecl::from_raw(e, origin)?),
    };
    Ok(PermissionProfile {
        description: raw.description,
        read,
        write,
        protected: fs.protected,
        devices,
        scan_nested_git: fs.scan_nested_git,
        deny,
        glob_depth,
        network: net.enabled,
        unix_sockets: net.unix_sockets,
        macos,
        env,
    })
}

/// 1-based line and column of a byte offset, for error messages.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    // Never slice inside a character, whatever offset the parser reports.
    let mut end = offset.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let before = &text[..end];
    let line = before.matches('\n').count() + 1;
    let col = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
    (line, col)
}

/// Parses a profile TOML document; `origin` names the file in errors. An
/// `extends` path is taken relative to the current directory (a profile
/// read from a file takes it relative to that file, [`load_profile`]).
pub fn parse_profile_toml(text: &str, origin: &str) -> Result<Policy> {
    parse_toml_in(text, origin, None, &mut Vec::new())
}

/// How deep `extends` chains may go: far more than anyone writes, small
/// enough that a generated chain cannot take cordon's start-up hostage.
const MAX_EXTENDS: usize = 16;

fn parse_toml_in(
    text: &str,
    origin: &str,
    file: Option<&Path>,
    chain: &mut Vec<PathBuf>,
) -> Result<Policy> {
    let raw: RawProfile = toml::from_str(text).map_err(|e| {
        let at = e
            .span()
            .map(|s| {
                let (l, c) = line_col(text, s.start);
                format!(" at line {l}, column {c}")
            })
            .unwrap_or_default();
        let msg = e.message().replace('\n', " ");
        Error::new(format!(
            "{origin}: invalid profile{at}: {msg}; fix the TOML (see `cordon profiles workspace-write` for the format)"
        ))
    })?;
    let extends = raw.extends.clone();
    let profile = from_raw(raw, origin).map_err(Error::new)?;
    match extends {
        None => Ok(profile.into_policy(origin)),
        Some(base) => {
            let base = load_base(&base, origin, file, chain)?;
            Ok(extend(base, profile, origin))
        }
    }
}

/// Whether a profile name is a file rather than a built-in name.
fn names_a_file(name: &str) -> bool {
    name.contains('/') || name.ends_with(".toml") || name.ends_with(".json")
}

/// The profile `extends` names: a built-in name, or a file relative to the
/// profile that names it. A chain is followed to its end; a file met twice
/// is a cycle.
fn load_base(
    name: &str,
    origin: &str,
    file: Option<&Path>,
    chain: &mut Vec<PathBuf>,
) -> Result<Policy> {
    if !names_a_file(name) {
        return builtin::try_load(name)?.ok_or_else(|| {
            Error::new(format!(
                "{origin}: extends = {name:?}: no built-in profile of that name; use one of {} or a path to a profile file (relative to this one)",
                builtin::BUILTIN_NAMES.join(", ")
            ))
        });
    }
    let dir = file.and_then(Path::parent).unwrap_or(Path::new("."));
    let path = dir.join(name);
    let canonical = std::fs::canonicalize(&path).map_err(|e| {
        Error::new(format!(
            "{origin}: extends = {name:?}: {}: {e}; name an existing profile file (relative to this one) or a built-in profile",
            path.display()
        ))
    })?;
    if chain.contains(&canonical) || file.is_some_and(|f| same_file(f, &canonical)) {
        return Err(Error::new(format!(
            "{origin}: extends = {name:?} leads back to {}: a cycle; remove one of the `extends` lines",
            canonical.display()
        )));
    }
    if chain.len() >= MAX_EXTENDS {
        return Err(Error::new(format!(
            "{origin}: extends = {name:?}: more than {MAX_EXTENDS} profiles in the chain; shorten it"
        )));
    }
    chain.push(canonical.clone());
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(&canonical).map_err(|e| {
        Error::new(format!(
            "{origin}: extends = {name:?}: {shown}: {e}; name a readable profile file"
        ))
    })?;
    if name.ends_with(".json") {
        return parse_policy_json(&text, &shown);
    }
    parse_toml_in(&text, &shown, Some(&canonical), chain)
}

fn same_file(a: &Path, b: &Path) -> bool {
    std::fs::canonicalize(a).is_ok_and(|a| a == b)
}

/// `base` with what `child` says on top: its lists (read, write, protected,
/// devices, deny) are added to the base's, and each setting it names
/// (network, unix sockets, nested-git scan, glob depth, description, the
/// `macos` and `env` sections) replaces the base's. Adding protected names
/// or deny entries only narrows; the rest is what the child grants.
fn extend(mut base: Policy, child: PermissionProfile, origin: &str) -> Policy {
    base.name = origin.to_string();
    if let Some(d) = child.description {
        base.description = d;
    }
    for g in child.read.into_iter().flatten() {
        base.add_read_or_lift(g.spec, &g.origin);
    }
    for g in child.write {
        base.add_write(g.spec, &g.origin);
    }
    for name in child.protected.into_iter().flatten() {
        if !base.protected.contains(&name) {
            base.protected.push(name);
        }
    }
    for d in &child.devices {
        base.add_device(d);
    }
    for e in child.deny.into_iter().flatten() {
        base.add_deny(e);
    }
    if let Some(v) = child.scan_nested_git {
        base.scan_nested_git = v;
    }
    if let Some(v) = child.glob_depth {
        base.glob_depth = v;
    }
    if let Some(v) = child.network {
        base.network.enabled = v;
    }
    if let Some(v) = child.unix_sockets {
        base.network.unix_sockets = v;
    }
    if let Some(m) = child.macos {
        base.macos = m;
    }
    if let Some(e) = child.env {
        base.env = e.into_policy(origin);
    }
    base
}

/// The harness `SandboxPolicy` shapes (`{"type": ...}`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case", deny_unknown_fields)]
pub enum SandboxPolicy {
    ReadOnly {},
    WorkspaceWrite {
        #[serde(default)]
        writable_roots: Vec<String>,
        #[serde(default)]
        network_access: bool,
        #[serde(default)]
        exclude_tmpdir_env_var: bool,
        #[serde(default)]
        exclude_slash_tmp: bool,
    },
    DangerFullAccess {},
}

impl SandboxPolicy {
    /// Maps the turn policy onto the built-in profiles, one to one (§2).
    pub fn to_policy(&self, origin: &str) -> Result<Policy> {
        let mut policy = match self {
            SandboxPolicy::ReadOnly {} => builtin::load("read-only")?,
            SandboxPolicy::DangerFullAccess {} => builtin::load("full-access")?,
            SandboxPolicy::WorkspaceWrite {
                writable_roots,
                network_access,
                exclude_tmpdir_env_var,
                exclude_slash_tmp,
            } => {
                let mut p = builtin::load("workspace-write")?;
                let roots = codex_roots(writable_roots, &format!("{origin}: writable_roots"))?;
                // Order as in the contract: :cwd, writable_roots, :tmpdir, :slash_tmp.
                let extra = grants(&roots, &format!("{origin}: writable_roots"), false)
                    .map_err(Error::new)?;
                let mut write = vec![p.write[0].clone()];
                write.extend(extra);
                write.extend(p.write.iter().skip(1).cloned());
                p.write = write;
                p.network.enabled = *network_access;
                if *exclude_tmpdir_env_var {
                    p.remove_write(&PathSpec::Tmpdir);
                }
                if *exclude_slash_tmp {
                    p.remove_write(&PathSpec::SlashTmp);
                }
                p
            }
        };
        policy.name = origin.to_string();
        Ok(policy)
    }
}

/// `writable_roots` as Codex reads them: absolute paths only (in its JSON
/// `:root` is no special name, and `{"writable_roots":[":root"]}` granting
/// `/` changed what the harness meant), and a root that does not exist is
/// skipped with one warning, as Codex skips it. cordon's own flags and
/// TOML keep their special names and stay strict.
fn codex_roots(items: &[String], origin: &str) -> Result<Vec<String>> {
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        if !item.starts_with('/') {
            return Err(Error::new(format!(
                "{origin}: `{}` is not an absolute path; Codex's JSON takes absolute paths only (no `:name`, `~` or relative path): give the full path",
                item.escape_debug()
            )));
        }
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

/// `extends` names a file relative to a profile file; a JSON policy has no
/// file to be relative to.
fn no_extends(raw: &RawProfile, origin: &str) -> Result<()> {
    match raw.extends {
        Some(_) => Err(Error::new(format!(
            "{origin}: `extends` is for profile TOML files; in JSON, name the grants themselves"
        ))),
        None => Ok(()),
    }
}

fn json_error(e: serde_json::Error, origin: &str) -> Error {
    Error::new(format!("{origin}: invalid policy JSON: {e}"))
}

/// Parses a `PermissionProfile` JSON document (no `type` key).
pub fn parse_permission_profile(text: &str, origin: &str) -> Result<PermissionProfile> {
    let raw: RawProfile = serde_json::from_str(text).map_err(|e| json_error(e, origin))?;
    no_extends(&raw, origin)?;
    from_raw(raw, origin).map_err(Error::new)
}

/// Parses either JSON shape: a `SandboxPolicy` when the object has `type`,
/// otherwise a `PermissionProfile` (a read-only base plus its grants).
pub fn parse_policy_json(text: &str, origin: &str) -> Result<Policy> {
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| json_error(e, origin))?;
    if value.get("type").is_some() {
        // Parse the text again (not the Value) so errors keep line and column.
        let sp: SandboxPolicy = serde_json::from_str(text).map_err(|e| json_error(e, origin))?;
        sp.to_policy(origin)
    } else {
        Ok(parse_permission_profile(text, origin)?.into_policy(origin))
    }
}

/// The JSON shapes again, from an already parsed value (a field of a larger
/// document, such as an escalation request). `origin` names the field.
pub fn permission_profile_from_value(
    value: &serde_json::Value,
    origin: &str,
) -> Result<PermissionProfile> {
    let raw = RawProfile::deserialize(value).map_err(|e| json_error(e, origin))?;
    no_extends(&raw, origin)?;
    from_raw(raw, origin).map_err(Error::new)
}

/// Either JSON shape from a parsed value; see [`parse_policy_json`].
pub fn policy_from_value(value: &serde_json::Value, origin: &str) -> Result<Policy> {
    if value.get("type").is_some() {
        let sp = SandboxPolicy::deserialize(value).map_err(|e| json_error(e, origin))?;
        sp.to_policy(origin)
    } else {
        Ok(permission_profile_from_value(value, origin)?.into_policy(origin))
    }
}

/// The `macos` extensions object (`{"preferences": ..., "automation": ...}`)
/// of the object `origin` names.
pub fn macos_from_value(value: &serde_json::Value, origin: &str) -> Result<MacosExtensions> {
    let raw =
        RawMacos::deserialize(value).map_err(|e| Error::new(format!("{origin}: macos: {e}")))?;
    macos_from_raw(raw, origin).map_err(Error::new)
}

/// `-p NAME|FILE`: a built-in name, or a TOML (or JSON) file.
pub fn load_profile(name_or_path: &str) -> Result<Policy> {
    if let Some(p) = builtin::try_load(name_or_path)? {
        return Ok(p);
    }
    if !names_a_file(name_or_path) {
        return Err(Error::new(format!(
            "unknown profile `{}`: use one of {} or a path to a profile TOML file",
            name_or_path.escape_debug(),
            builtin::BUILTIN_NAMES.join(", ")
        )));
    }
    let text = std::fs::read_to_string(name_or_path).map_err(|e| {
        Error::new(format!(
            "profile file {}: {e}; give an existing TOML file or a built-in name",
            name_or_path.escape_debug()
        ))
    })?;
    if name_or_path.ends_with(".json") {
        parse_policy_json(&text, name_or_path)
    } else {
        let path = Path::new(name_or_path);
        let mut chain: Vec<PathBuf> = std::fs::canonicalize(path).into_iter().collect();
        parse_toml_in(&text, name_or_path, Some(path), &mut chain)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_never_splits_a_character() {
        let text = "a = 1\nb = \"é\"\n";
        let e = text.find('é').unwrap();
        assert_eq!(line_col(text, e), (2, 6));
        assert_eq!(line_col(text, e + 1), (2, 6));
        assert_eq!(line_col(text, usize::MAX), (3, 1));
    }
}
