//! The POLICY options shared by every subcommand, turned into a [`Policy`]
//! and, in the working directory they name, into a [`Plan`].

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};

use clap::Args;

use super::env_args::EnvArgs;
use crate::error::{Error, Result};
use crate::plan::{self, Env, Plan};
use crate::policy::{
    self, Automation, PathSpec, Policy, Preferences, merge_permissions, parse_permission_profile,
};

#[derive(Args, Debug, Clone, Default)]
pub struct PolicyArgs {
    /// A built-in profile (read-only, workspace-write, full-access), a
    /// user profile NAME ($XDG_CONFIG_HOME/cordon/profiles/NAME.toml, by
    /// default ~/.config/...), or a profile TOML file. Default:
    /// $CORDON_PROFILE, else workspace-write.
    #[arg(short = 'p', long = "profile", value_name = "NAME|FILE")]
    pub profile: Option<String>,
    /// A policy as JSON: `{"type":"workspace-write",...}` or a permission profile.
    #[arg(long, value_name = "JSON", conflicts_with = "profile")]
    pub policy_json: Option<String>,
    /// The policy's working directory (`:cwd`); the command runs there.
    #[arg(short = 'C', long = "cwd", value_name = "DIR")]
    pub cwd: Option<PathBuf>,
    /// Add a writable root (repeatable); it must exist. The same grant as
    /// --allow-write (both spellings of the contract are kept; each names
    /// itself in errors).
    #[arg(short = 'w', long = "writable-root", value_name = "PATH")]
    pub writable_root: Vec<OsString>,
    /// Add a readable path when reads are restricted; lifts a deny entry
    /// it names or lies in (repeatable).
    #[arg(long, value_name = "PATH")]
    pub allow_read: Vec<OsString>,
    /// Neither readable nor writable, even inside a root: a path, `~/...`,
    /// `:secrets` or a glob such as `**/.env` (repeatable).
    #[arg(long, value_name = "PATH")]
    pub deny_read: Vec<OsString>,
    /// Add a writable path (repeatable); it must exist. The same grant as
    /// -w/--writable-root, named to pair with --allow-read.
    #[arg(long, value_name = "PATH")]
    pub allow_write: Vec<OsString>,
    /// Add a writable path that may not exist yet (a cache a tool makes on
    /// first use): skipped when missing, granted when present (repeatable;
    /// `"?PATH"` in a profile's list).
    #[arg(long, value_name = "PATH")]
    pub allow_write_optional: Vec<OsString>,
    /// Turn the network on.
    #[arg(long, conflicts_with = "no_network")]
    pub network: bool,
    /// Turn the network off.
    #[arg(long)]
    pub no_network: bool,
    /// With the network off: allow TCP connections to PORT on any host
    /// (repeatable; Landlock on Linux).
    #[arg(long, value_name = "PORT")]
    pub allow_connect_tcp: Vec<String>,
    /// With the network off: allow binding TCP PORT (repeatable).
    #[arg(long, value_name = "PORT")]
    pub allow_bind_tcp: Vec<String>,
    /// With the network off: reach hosts matching PATTERN (`crates.io`,
    /// `*.npmjs.org`, `host:443`) through a proxy cordon runs (repeatable).
    #[arg(long, value_name = "PATTERN")]
    pub allow_domain: Vec<String>,
    /// Do not make $TMPDIR writable.
    #[arg(long)]
    pub exclude_tmpdir_env_var: bool,
    /// Do not make /tmp writable.
    #[arg(long)]
    pub exclude_slash_tmp: bool,
    /// Additional grants: a permission profile as JSON text or a file.
    #[arg(long, value_name = "FILE|JSON")]
    pub permissions: Option<String>,
    /// macOS: none, read-only or read-write.
    #[arg(long, value_name = "MODE")]
    pub macos_preferences: Option<String>,
    /// macOS: none, all, or comma-separated bundle ids.
    #[arg(long, value_name = "none|all|IDS")]
    pub macos_automation: Option<String>,
    /// macOS: allow accessibility APIs.
    #[arg(long)]
    pub macos_accessibility: bool,
    /// macOS: allow calendar access.
    #[arg(long)]
    pub macos_calendar: bool,
    /// Keep NAME read-only inside every writable root, in addition to the
    /// profile's list (repeatable; `~/NAME` for one in $HOME).
    #[arg(long, value_name = "NAME")]
    pub protect: Vec<String>,
    /// Lift the protection of NAME (one of the profile's protected names,
    /// e.g. `.vscode`; repeatable).
    #[arg(long, value_name = "NAME")]
    pub unprotect: Vec<String>,
    /// Grant a device beyond the always-usable ones (e.g. /dev/kvm,
    /// /dev/dri, /dev/fuse; repeatable).
    #[arg(long, value_name = "PATH")]
    pub allow_device: Vec<String>,
    /// Also look for nested git repositories at any depth of every
    /// writable root, and protect their .git (a directory walk; see
    /// docs/git.md).
    #[arg(long)]
    pub scan_nested_git: bool,
    /// Git mode: git add and git commit work in the sandbox (objects,
    /// refs, index, logs writable); the gitdir's config, hooks, info,
    /// modules and pointers stay read-only (see docs/git.md).
    #[arg(long)]
    pub git_commits: bool,
    /// The command's environment (--env-inherit, --setenv, --unsetenv, --keepenv).
    #[command(flatten)]
    pub env: EnvArgs,
}

/// `--unprotect ~/.bashrc` arrives as `/home/me/.bashrc` once the shell
/// expanded it: that spelling names the `~/` entry.
fn protected_name(arg: &str) -> String {
    if let Some(home) = std::env::var_os("HOME").filter(|h| !h.is_empty())
        && let Some(rest) = std::path::Path::new(arg)
            .strip_prefix(&home)
            .ok()
            .and_then(|r| r.to_str())
        && !rest.is_empty()
    {
        return format!("~/{rest}");
    }
    arg.to_string()
}

/// A path flag's value. OsString, not String: a path on the command line is
/// bytes, and a directory whose name is not UTF-8 is still a directory.
fn spec(text: &OsStr, flag: &str) -> Result<PathSpec> {
    PathSpec::parse_os(text).map_err(|e| {
        Error::new(format!(
            "{flag} {}: {e}",
            text.to_string_lossy().escape_debug()
        ))
    })
}

/// No `-p` and no `--policy-json`: the profile `CORDON_PROFILE` names (a
/// built-in, a user profile or a file, as `-p` takes), else the default.
/// An empty value counts as unset, as the shell's `CORDON_PROFILE= cmd`.
fn env_profile() -> Result<Policy> {
    let Some(value) = std::env::var_os(policy::PROFILE_VAR).filter(|v| !v.is_empty()) else {
        return policy::load_profile(policy::DEFAULT_PROFILE);
    };
    let var = policy::PROFILE_VAR;
    let name = value.to_str().ok_or_else(|| {
        Error::new(format!(
            "{var}={}: not valid UTF-8; name a profile or a UTF-8 path, or unset {var}",
            value.to_string_lossy().escape_debug()
        ))
    })?;
    policy::load_profile(name).map_err(|e| {
        Error::new(format!(
            "{var}={}: {}; or unset {var}",
            name.escape_debug(),
            e.message
        ))
    })
}

/// Reads `--permissions`: inline JSON when it starts with `{`, else a file.
fn permissions(arg: &str) -> Result<policy::PermissionProfile> {
    if arg.trim_start().starts_with('{') {
        return parse_permission_profile(arg, "--permissions");
    }
    let text = std::fs::read_to_string(arg).map_err(|e| {
        Error::new(format!(
            "--permissions {}: {e}; give a JSON file or inline JSON starting with `{{`",
            arg.escape_debug()
        ))
    })?;
    parse_permission_profile(&text, arg)
}

/// Which skill's declared permissions a plan takes, bounded by the policy.
#[derive(Clone, Copy)]
pub enum SkillChoice<'a> {
    /// None: the policy alone (`explain`, `seatbelt` without `--skill`).
    Unused,
    /// The skill in this directory (`cordon skill`, `--skill DIR`).
    Named(&'a Path),
    /// The skill the command lies in, if any, under these roots and the
    /// ones always looked in (`run`, `trace`).
    Matched {
        roots: &'a [PathBuf],
        command: &'a [OsString],
    },
}

impl<'a> SkillChoice<'a> {
    /// `--skill DIR` of `explain` and `seatbelt`, or none.
    pub fn named(dir: Option<&'a Path>) -> Self {
        dir.map_or(SkillChoice::Unused, SkillChoice::Named)
    }
}

impl PolicyArgs {
    /// policy -> cwd -> plan, in this process's environment: the plan and
    /// whether it is bounded (a skill's declared block, which runs whole or
    /// not at all).
    pub fn plan(&self, skill: SkillChoice) -> Result<(Plan, bool)> {
        let policy = self.policy()?;
        let cwd = self.cwd()?;
        let env = Env::from_process();
        match skill {
            SkillChoice::Unused => Ok((plan::resolve(&policy, &cwd, &env)?, false)),
            SkillChoice::Named(dir) => {
                let skill = crate::skill::load(dir)?;
                crate::skill::bounded_plan(&policy, &skill, &cwd, &env, None)
            }
            SkillChoice::Matched { roots, command } => {
                match crate::skill::find(command, &cwd, roots, env.home.as_deref()) {
                    Some(m) => {
                        let skill = crate::skill::load(&m.dir)?;
                        crate::skill::bounded_plan(&policy, &skill, &cwd, &env, Some(m.why))
                    }
                    None => Ok((plan::resolve(&policy, &cwd, &env)?, false)),
                }
            }
        }
    }

    /// The working directory: `--cwd` (relative to ours) or ours.
    pub fn cwd(&self) -> Result<PathBuf> {
        let here = std::env::current_dir().map_err(|e| {
            Error::new(format!(
                "cannot read the current directory: {e}; pass -C DIR"
            ))
        })?;
        let Some(dir) = &self.cwd else {
            return Ok(here);
        };
        let dir = here.join(dir);
        if !dir.is_dir() {
            return Err(Error::new(format!(
                "--cwd {}: not a directory; pass an existing directory",
                dir.display()
            )));
        }
        Ok(dir)
    }

    /// The policy these options describe: the named one, with the flags
    /// layered on in a fixed order (the first refused flag is reported).
    pub fn policy(&self) -> Result<Policy> {
        let mut p = match &self.policy_json {
            Some(json) => policy::parse_policy_json(json, "--policy-json")?,
            None => match &self.profile {
                Some(name) => policy::load_profile(name)?,
                None => env_profile()?,
            },
        };
        self.add_paths(&mut p)?;
        self.set_network(&mut p)?;
        if self.exclude_tmpdir_env_var {
            p.remove_write(&PathSpec::Tmpdir);
        }
        if self.exclude_slash_tmp {
            p.remove_write(&PathSpec::SlashTmp);
        }
        if let Some(arg) = &self.permissions {
            p = merge_permissions(&p, &permissions(arg)?)?;
        }
        self.set_macos(&mut p)?;
        self.set_protected(&mut p)?;
        p.scan_nested_git |= self.scan_nested_git;
        p.git_commits |= self.git_commits;
        for d in &self.allow_device {
            policy::check_device(d, "--allow-device").map_err(Error::new)?;
            p.add_device(d);
        }
        self.env.apply(&mut p.env)?;
        Ok(p)
    }

    /// The file-system grants and denials: writable, readable, denied.
    fn add_paths(&self, p: &mut Policy) -> Result<()> {
        for w in &self.writable_root {
            p.add_write(spec(w, "--writable-root")?, "--writable-root");
        }
        for w in &self.allow_write {
            p.add_write(spec(w, "--allow-write")?, "--allow-write");
        }
        for w in &self.allow_write_optional {
            let spec = match spec(w, "--allow-write-optional")? {
                PathSpec::Path(p) => PathSpec::Optional(p),
                other => {
                    return Err(Error::new(format!(
                        "--allow-write-optional {}: only a path can be optional; give a path, or the special name to --allow-write",
                        other.as_text()
                    )));
                }
            };
            p.add_write(spec, "--allow-write-optional");
        }
        for r in &self.allow_read {
            p.add_read_or_lift(spec(r, "--allow-read")?, "--allow-read");
        }
        for d in &self.deny_read {
            let text = d.to_str().ok_or_else(|| {
                Error::new(format!(
                    "--deny-read {}: not valid UTF-8; name a UTF-8 path or a directory above it",
                    d.to_string_lossy().escape_debug()
                ))
            })?;
            let spec = policy::DenySpec::parse(text, "--deny-read").map_err(Error::new)?;
            p.add_deny(policy::DenyEntry {
                spec,
                origin: "--deny-read".into(),
            });
        }
        Ok(())
    }

    /// On or off, then the ports and domains that open it partly.
    fn set_network(&self, p: &mut Policy) -> Result<()> {
        if self.network {
            p.network.enabled = true;
        }
        if self.no_network {
            p.network.enabled = false;
        }
        for port in &self.allow_connect_tcp {
            p.network
                .add_connect(policy::parse_port(port, "--allow-connect-tcp").map_err(Error::new)?);
        }
        for port in &self.allow_bind_tcp {
            p.network
                .add_bind(policy::parse_port(port, "--allow-bind-tcp").map_err(Error::new)?);
        }
        for d in &self.allow_domain {
            p.network
                .add_domain(policy::DomainPattern::parse(d, "--allow-domain").map_err(Error::new)?);
        }
        Ok(())
    }

    /// The macOS extensions (read by Seatbelt only).
    fn set_macos(&self, p: &mut Policy) -> Result<()> {
        if let Some(m) = &self.macos_preferences {
            p.macos.preferences = Preferences::parse(m).ok_or_else(|| {
                Error::new(format!(
                    "--macos-preferences {}: use none, read-only or read-write",
                    m.escape_debug()
                ))
            })?;
        }
        if let Some(a) = &self.macos_automation {
            p.macos.automation = Automation::parse_flag(a)
                .map_err(|e| Error::new(format!("--macos-automation: {e}")))?;
        }
        p.macos.accessibility |= self.macos_accessibility;
        p.macos.calendar |= self.macos_calendar;
        Ok(())
    }

    /// `--protect` adds names kept read-only, then `--unprotect` lifts
    /// names the result holds.
    fn set_protected(&self, p: &mut Policy) -> Result<()> {
        for name in &self.protect {
            let name = protected_name(name);
            policy::check_protected(&name, "--protect").map_err(Error::new)?;
            if !p.protected.contains(&name) {
                p.protected.push(name);
            }
        }
        for name in &self.unprotect {
            let name = protected_name(name);
            if !p.protected.contains(&name) {
                return Err(Error::new(format!(
                    "--unprotect {}: not a protected name of this policy (protected: {}); name one of those",
                    name.escape_debug(),
                    p.protected.join(", ")
                )));
            }
            p.protected.retain(|n| *n != name);
        }
        Ok(())
    }
}
