//! `cordon profiles [NAME] [--json]`: the built-ins and the user's profiles
//! (`$XDG_CONFIG_HOME/cordon/profiles/*.toml`), or one of them as TOML.

use std::path::PathBuf;

use clap::Args;
use serde::Serialize;

use super::print_json;
use crate::error::{Error, Result};
use crate::policy::{self, BUILTIN_NAMES, DEFAULT_PROFILE, PROFILE_VAR};

#[derive(Args)]
pub struct ProfilesArgs {
    /// A built-in or user profile to print as TOML.
    pub name: Option<String>,
    /// Print JSON: the list as an array of {name, kind, default,
    /// description, path?, unusable?}, one profile as {name, kind, path?,
    /// toml}.
    #[arg(long)]
    pub json: bool,
}

/// One entry of `profiles --json` (docs/explain-doctor.md).
#[derive(Serialize)]
struct Entry {
    name: String,
    /// `builtin` or `user`.
    kind: &'static str,
    /// The one used without `-p` (CORDON_PROFILE, else workspace-write).
    default: bool,
    description: String,
    /// The user profile's file.
    #[serde(skip_serializing_if = "Option::is_none")]
    path: Option<PathBuf>,
    /// Why `-p NAME` does not load this file (a reserved name, a name that
    /// is no profile name, a file that does not parse).
    #[serde(skip_serializing_if = "Option::is_none")]
    unusable: Option<String>,
}

/// `profiles NAME --json`: the profile's text as well.
#[derive(Serialize)]
struct Shown<'a> {
    name: &'a str,
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    path: Option<PathBuf>,
    toml: &'a str,
}

/// The name `-p` is taken from when absent.
fn default_name() -> String {
    std::env::var(PROFILE_VAR)
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| DEFAULT_PROFILE.to_string())
}

/// The user's profiles, by file name (none when the directory is missing).
fn user_entries(default: &str) -> Vec<Entry> {
    let Some(dir) = policy::profile_dir() else {
        return Vec::new();
    };
    let Ok(read) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut out: Vec<Entry> = read
        .flatten()
        .filter_map(|e| {
            let file = e.file_name();
            let name = file.to_str()?.strip_suffix(".toml")?.to_string();
            let path = e.path();
            let mut entry = Entry {
                default: name == default,
                name,
                kind: "user",
                description: String::new(),
                path: Some(path.clone()),
                unusable: None,
            };
            if policy::builtin_text(&entry.name).is_some() {
                entry.default = false;
                entry.unusable = Some(format!(
                    "`{}` is a built-in name, which is reserved: -p {} is always the built-in; rename the file",
                    entry.name, entry.name
                ));
            } else if !policy::valid_profile_name(&entry.name) {
                entry.unusable = Some(
                    "not a profile name (letters, digits, `.`, `_`, `-`); rename the file, or give its path to -p"
                        .into(),
                );
            } else {
                match policy::load_profile(&path.to_string_lossy()) {
                    Ok(p) => entry.description = p.description,
                    Err(e) => entry.unusable = Some(e.message),
                }
            }
            Some(entry)
        })
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

pub fn profiles(args: ProfilesArgs) -> Result<i32> {
    let Some(name) = args.name else {
        let default = default_name();
        let mut all = Vec::new();
        for name in BUILTIN_NAMES {
            all.push(Entry {
                name: name.to_string(),
                kind: "builtin",
                default: name == default,
                description: policy::load_profile(name)?.description,
                path: None,
                unusable: None,
            });
        }
        all.extend(user_entries(&default));
        if args.json {
            return print_json(&all).map(|_| 0);
        }
        for e in &all {
            let mark = if e.default { " (default)" } else { "" };
            match (&e.path, &e.unusable) {
                (None, _) => println!("{}{mark}: {}", e.name, e.description),
                (Some(p), None) => {
                    println!("{}{mark}: {} ({})", e.name, e.description, p.display())
                }
                (Some(p), Some(why)) => {
                    println!("{} ({}): unusable: {why}", e.name, p.display())
                }
            }
        }
        return Ok(0);
    };
    if let Some(text) = policy::builtin_text(&name) {
        if args.json {
            return print_json(&Shown {
                name: &name,
                kind: "builtin",
                path: None,
                toml: text,
            })
            .map(|_| 0);
        }
        print!("{text}");
        return Ok(0);
    }
    // A user profile by name: checked as `-p NAME` would load it.
    policy::load_profile(&name).map_err(|e| {
        if policy::valid_profile_name(&name) {
            e
        } else {
            Error::new(format!(
                "unknown profile `{}`: use one of {} or a user profile name",
                name.escape_debug(),
                BUILTIN_NAMES.join(", ")
            ))
        }
    })?;
    let dir = policy::profile_dir().unwrap_or_default();
    let path = dir.join(format!("{name}.toml"));
    let text = std::fs::read_to_string(&path)
        .map_err(|e| Error::new(format!("profile {}: {e}", path.display())))?;
    if args.json {
        return print_json(&Shown {
            name: &name,
            kind: "user",
            path: Some(path),
            toml: &text,
        })
        .map(|_| 0);
    }
    print!("{text}");
    Ok(0)
}
