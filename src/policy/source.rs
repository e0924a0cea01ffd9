//! Parsing every input shape into a [`Policy`]: profile TOML (built-in or a
//! user file), the agent-harness `SandboxPolicy` JSON (`{"type": ...}`), and
//! `PermissionProfile` JSON. Unknown keys are errors naming key and file.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::codex;
use super::codex::{CodexError, SandboxPolicy};
use super::deny::{self, DEFAULT_GLOB_DEPTH, DenyEntry, DenyError, DenySpec};
use super::env::{EnvDecl, RawEnv};
use super::macos::{AutomationRaw, Contacts, MacosExtensions, Preferences};
use super::net::NetError;
use super::{
    DomainPattern, Grant, Network, PathSpec, Policy, PolicyError, builtin, check_device,
    check_protected, grants,
};
use crate::error::{Error, Result};

/// The project's own tool configuration among the defaults: names an
/// editor, an agent or direnv reads in the directory it opens. The Linux
/// backend holds them only in the working directory's root
/// (`linux::mounts`), where the others are held in every writable root.
pub const PROJECT_CONFIG: [&str; 7] = [
    ".vscode",
    ".idea",
    ".claude",
    ".devcontainer",
    ".mcp.json",
    ".gitmodules",
    ".envrc",
];

/// Read-only inside every writable root: what a harness, git or an editor
/// later trusts and runs outside the sandbox. `~/` names are in `$HOME`,
/// when `$HOME` lies in a writable root. The contract's four, plus the
/// configuration of tools that run outside (sandbox-runtime's mandatory
/// deny list).
pub(crate) const DEFAULT_PROTECTED: [&str; 26] = [
    ".git",
    ".cordon",
    ".agents",
    ".codex",
    PROJECT_CONFIG[0],
    PROJECT_CONFIG[1],
    PROJECT_CONFIG[2],
    PROJECT_CONFIG[3],
    PROJECT_CONFIG[4],
    PROJECT_CONFIG[5],
    PROJECT_CONFIG[6],
    "~/.bashrc",
    "~/.zshrc",
    "~/.profile",
    "~/.bash_profile",
    "~/.zprofile",
    // Every other file a login or non-interactive shell of bash, zsh or
    // fish runs (adversarial pass 27: `~/.bash_login`, read before
    // `~/.profile` when there is no `~/.bash_profile`, and `~/.zshenv`).
    "~/.bash_login",
    "~/.bash_logout",
    "~/.zshenv",
    "~/.zlogin",
    "~/.zlogout",
    "~/.config/fish",
    // fish's vendor_conf.d and vendor_functions.d in the user's data dir,
    // and zsh's usual `$ZDOTDIR` (adversarial pass 28).
    "~/.local/share/fish",
    "~/.config/zsh",
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
    git_commits: Option<bool>,
    deny: Option<Vec<String>>,
    /// `glob_scan_max_depth` is Codex's name.
    #[serde(alias = "glob_scan_max_depth")]
    glob_depth: Option<usize>,
    /// Codex's `{"path": ..., "access": ...}` entries (JSON only).
    entries: Option<Vec<codex::Entry>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNetwork {
    enabled: Option<bool>,
    unix_sockets: Option<bool>,
    connect_tcp: Option<Vec<i64>>,
    bind_tcp: Option<Vec<i64>>,
    domains: Option<Vec<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMacos {
    // Codex's field names (`macos_preferences`, ...) are aliases of
    // cordon's; one object may use either, not both for one field.
    #[serde(alias = "macos_preferences")]
    preferences: Option<Preferences>,
    #[serde(alias = "macos_automation", alias = "automations")]
    automation: Option<AutomationRaw>,
    #[serde(alias = "macos_accessibility")]
    accessibility: Option<bool>,
    #[serde(alias = "macos_calendar")]
    calendar: Option<bool>,
    #[serde(alias = "macos_launch_services")]
    launch_services: Option<bool>,
    #[serde(alias = "macos_reminders")]
    reminders: Option<bool>,
    #[serde(alias = "macos_contacts")]
    contacts: Option<Contacts>,
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
    pub git_commits: Option<bool>,
    /// `None`: the profile says nothing, and `:secrets` is denied.
    pub deny: Option<Vec<DenyEntry>>,
    pub glob_depth: Option<usize>,
    pub network: Option<bool>,
    pub unix_sockets: Option<bool>,
    /// `[network] connect_tcp`, `bind_tcp`, `domains`: grants, unioned.
    pub connect_tcp: Vec<u16>,
    pub bind_tcp: Vec<u16>,
    pub domains: Vec<DomainPattern>,
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
            git_commits: self.git_commits.unwrap_or(false),
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
                connect_tcp: self.connect_tcp,
                bind_tcp: self.bind_tcp,
                domains: self.domains,
            },
            macos: self.macos.unwrap_or_default(),
            env: self.env.unwrap_or_default().into_policy(name),
        }
    }
}

fn macos_from_raw(m: RawMacos, origin: &str) -> std::result::Result<MacosExtensions, PolicyError> {
    if m.contacts == Some(Contacts::ReadWrite) {
        return Err(PolicyError::ContactsReadWrite {
            origin: origin.to_string(),
        });
    }
    Ok(MacosExtensions {
        preferences: m.preferences.unwrap_or_default(),
        automation: match m.automation {
            Some(a) => a.resolve().map_err(|error| PolicyError::Automation {
                origin: origin.to_string(),
                error,
            })?,
            None => Default::default(),
        },
        accessibility: m.accessibility.unwrap_or(false),
        calendar: m.calendar.unwrap_or(false),
        launch_services: m.launch_services.unwrap_or(false),
        reminders: m.reminders.unwrap_or(false),
        contacts: m.contacts.unwrap_or_default(),
    })
}

/// `codex`: the profile is Codex-shaped (see [`codex::is_codex_profile`]),
/// so its paths are absolute only and a missing root is skipped.
fn from_raw(
    raw: RawProfile,
    origin: &str,
    codex: bool,
) -> std::result::Result<PermissionProfile, PolicyError> {
    let mut fs = raw.file_system.unwrap_or_default();
    let (mut read, mut write) = read_write(&mut fs, origin, codex)?;
    let entry_deny = match fs.entries.take() {
        Some(entries) => {
            let e = codex::entries(&entries, &format!("{origin}: file_system.entries"))?;
            add_entries(&mut read, &mut write, e)
        }
        None => Vec::new(),
    };
    if let Some(list) = &fs.protected {
        for name in list {
            check_protected(name, origin)?;
        }
    }
    let devices = fs.devices.unwrap_or_default();
    for d in &devices {
        check_device(d, &format!("{origin}: file_system.devices"))?;
    }
    let deny = deny_list(fs.deny.as_deref(), entry_deny, origin)?;
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
        git_commits: fs.git_commits,
        deny,
        glob_depth,
        network: net.enabled,
        unix_sockets: net.unix_sockets,
        connect_tcp: ports(net.connect_tcp, &format!("{origin}: network.connect_tcp"))?,
        bind_tcp: ports(net.bind_tcp, &format!("{origin}: network.bind_tcp"))?,
        domains: net
            .domains
            .unwrap_or_default()
            .iter()
            .map(|d| DomainPattern::parse(d, &format!("{origin}: network.domains")))
            .collect::<std::result::Result<_, _>>()?,
        macos,
        env,
    })
}

/// A profile's read list (none: the default scope) and write list.
type ReadWrite = (Option<Vec<Grant>>, Vec<Grant>);

/// The read and write lists (a Codex-shaped profile's: absolute paths,
/// missing roots skipped).
fn read_write(
    fs: &mut RawFileSystem,
    origin: &str,
    codex: bool,
) -> std::result::Result<ReadWrite, PolicyError> {
    let list = |items: Vec<String>, field: &str| -> std::result::Result<Vec<String>, CodexError> {
        if codex {
            codex::roots(&items, &format!("{origin}: file_system.{field}"))
        } else {
            Ok(items)
        }
    };
    let read = match fs.read.take() {
        Some(items) => Some(grants(
            &list(items, "read")?,
            &format!("{origin}: file_system.read"),
            true,
        )?),
        None => None,
    };
    let write = grants(
        &list(fs.write.take().unwrap_or_default(), "write")?,
        &format!("{origin}: file_system.write"),
        false,
    )?;
    Ok((read, write))
}

/// Codex's `file_system.entries` added to a profile's lists: what they
/// grant names the read scope (write implies read, as in Codex), the
/// writes join the write list; returns their denials.
fn add_entries(
    read: &mut Option<Vec<Grant>>,
    write: &mut Vec<Grant>,
    e: codex::Entries,
) -> Vec<DenyEntry> {
    let r = read.get_or_insert_with(Vec::new);
    for g in e.read.into_iter().chain(e.write.iter().cloned()) {
        if !r.iter().any(|x| x.spec == g.spec) {
            r.push(g);
        }
    }
    for g in e.write {
        if !write.iter().any(|x| x.spec == g.spec) {
            write.push(g);
        }
    }
    e.deny
}

/// The profile's deny list, with the entries' denials added to what it
/// would deny anyway (`:secrets` when it names no deny list): an
/// `access: none` entry only narrows.
fn deny_list(
    items: Option<&[String]>,
    entry_deny: Vec<DenyEntry>,
    origin: &str,
) -> std::result::Result<Option<Vec<DenyEntry>>, DenyError> {
    let mut deny = match items {
        Some(items) => Some(deny::entries(
            items,
            &format!("{origin}: file_system.deny"),
        )?),
        None => None,
    };
    if !entry_deny.is_empty() {
        let list = deny.get_or_insert_with(|| {
            vec![DenyEntry {
                spec: DenySpec::Secrets,
                origin: format!("{origin} (default)"),
            }]
        });
        for e in entry_deny {
            if !list.iter().any(|d| d.spec == e.spec) {
                list.push(e);
            }
        }
    }
    Ok(deny)
}

/// A `connect_tcp` / `bind_tcp` list, each entry 1..=65535, deduplicated.
fn ports(list: Option<Vec<i64>>, origin: &str) -> std::result::Result<Vec<u16>, NetError> {
    let mut out: Vec<u16> = Vec::new();
    for n in list.unwrap_or_default() {
        let p = super::net::check_port(n, origin)?;
        if !out.contains(&p) {
            out.push(p);
        }
    }
    Ok(out)
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
    if raw
        .file_system
        .as_ref()
        .is_some_and(|fs| fs.entries.is_some())
    {
        return Err(Error::new(format!(
            "{origin}: file_system.entries is Codex's JSON form; in a TOML profile use read, write and deny lists"
        )));
    }
    let extends = raw.extends.clone();
    let profile = from_raw(raw, origin, false)?;
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
/// devices, deny, TCP ports, domains) are added to the base's, and each
/// setting it names (network, unix sockets, git mode, nested-git scan, glob
/// depth, description, the
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
    if let Some(v) = child.git_commits {
        base.git_commits = v;
    }
    for p in child.connect_tcp {
        base.network.add_connect(p);
    }
    for p in child.bind_tcp {
        base.network.add_bind(p);
    }
    for d in child.domains {
        base.network.add_domain(d);
    }
    if let Some(m) = child.macos {
        base.macos = m;
    }
    if let Some(e) = child.env {
        base.env = e.into_policy(origin);
    }
    base
}

fn json_error(e: serde_json::Error, origin: &str) -> Error {
    Error::new(format!("{origin}: invalid policy JSON: {e}"))
}

fn typed_not_grants(origin: &str) -> Error {
    Error::new(format!(
        "{origin}: a typed profile ({{\"type\": ...}}) is a whole sandbox, not grants; give {{\"file_system\":...,\"network\":...,\"macos\":...}} here, or the typed profile as the policy (--policy-json, -p)"
    ))
}

/// A typed shape that did not parse: serde's message and the shape to give.
fn typed_error(e: serde_json::Error, origin: &str, value: &serde_json::Value) -> Error {
    Error::new(format!(
        "{origin}: invalid policy JSON: {e}{}",
        codex::shape_hint(value)
    ))
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

/// Parses a `PermissionProfile` JSON document (no `type` key).
pub fn parse_permission_profile(text: &str, origin: &str) -> Result<PermissionProfile> {
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| json_error(e, origin))?;
    if value.get("type").is_some() {
        return Err(typed_not_grants(origin));
    }
    let codex = codex::is_codex_profile(&value);
    let raw: RawProfile = serde_json::from_str(text).map_err(|e| json_error(e, origin))?;
    no_extends(&raw, origin)?;
    Ok(from_raw(raw, origin, codex)?)
}

/// Parses either JSON shape: a `SandboxPolicy` when the object has `type`,
/// otherwise a `PermissionProfile` (a read-only base plus its grants).
pub fn parse_policy_json(text: &str, origin: &str) -> Result<Policy> {
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| json_error(e, origin))?;
    if value.get("type").is_some() {
        // Parse the text again (not the Value) so errors keep line and column.
        let sp: SandboxPolicy =
            serde_json::from_str(text).map_err(|e| typed_error(e, origin, &value))?;
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
    permission_profile_from_value_as(value, origin, codex::is_codex_profile(value))
}

/// [`permission_profile_from_value`], Codex-shaped or not as the caller
/// knows (a rerun request's `additional_permissions` always is).
pub fn permission_profile_from_value_as(
    value: &serde_json::Value,
    origin: &str,
    codex: bool,
) -> Result<PermissionProfile> {
    if value.get("type").is_some() {
        return Err(typed_not_grants(origin));
    }
    let raw = RawProfile::deserialize(value).map_err(|e| json_error(e, origin))?;
    no_extends(&raw, origin)?;
    Ok(from_raw(raw, origin, codex)?)
}

/// Either JSON shape from a parsed value; see [`parse_policy_json`].
pub fn policy_from_value(value: &serde_json::Value, origin: &str) -> Result<Policy> {
    if value.get("type").is_some() {
        let sp = SandboxPolicy::deserialize(value).map_err(|e| typed_error(e, origin, value))?;
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
    Ok(macos_from_raw(raw, origin)?)
}

/// `-p NAME|FILE`: a built-in name, or a TOML (or JSON) file.
pub fn load_profile(name_or_path: &str) -> Result<Policy> {
    if let Some(p) = builtin::try_load(name_or_path)? {
        return Ok(p);
    }
    if !names_a_file(name_or_path) {
        // Only now, for a name that is no built-in, is the user's profile
        // directory read: `-p workspace-write` costs no system call.
        let (path, text) = super::user::read(name_or_path, &builtin::BUILTIN_NAMES.join(", "))?;
        return parse_toml_in(&text, &path.to_string_lossy(), Some(&path), &mut Vec::new());
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

    /// A profile extending a built-in keeps the ports, domains and git mode
    /// it names (an adversarial pass found them dropped, so the run had
    /// no proxy: closed, but not what the profile said).
    #[test]
    fn extends_keeps_the_child_network_lists_and_git_mode() {
        let p = parse_profile_toml(
            "extends = \"workspace-write\"\n[file_system]\ngit_commits = true\n[network]\nconnect_tcp = [8080]\nbind_tcp = [9090]\ndomains = [\"crates.io\"]\n",
            "t.toml",
        )
        .unwrap();
        assert_eq!(p.network.connect_tcp, [8080]);
        assert_eq!(p.network.bind_tcp, [9090]);
        assert_eq!(p.network.domains.len(), 1);
        assert_eq!(p.network.domains[0].host, "crates.io");
        assert!(p.git_commits);
        assert!(!p.network.enabled);
    }
}
