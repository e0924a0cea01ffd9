//! Built-in profiles, embedded from `profiles/*.toml` so the binary needs no
//! files at run time.

use super::{Policy, parse_profile_toml};
use crate::error::Result;

pub const DEFAULT_PROFILE: &str = "workspace-write";

const BUILTINS: [(&str, &str); 3] = [
    ("read-only", include_str!("../../profiles/read-only.toml")),
    (
        "workspace-write",
        include_str!("../../profiles/workspace-write.toml"),
    ),
    (
        "full-access",
        include_str!("../../profiles/full-access.toml"),
    ),
];

/// Names `cordon profiles` lists.
pub const BUILTIN_NAMES: [&str; 3] = ["read-only", "workspace-write", "full-access"];

/// The turn-policy spellings map onto the built-ins one to one.
fn canonical(name: &str) -> Option<&'static str> {
    match name {
        "read-only" => Some("read-only"),
        "workspace-write" => Some("workspace-write"),
        "full-access" | "danger-full-access" => Some("full-access"),
        _ => None,
    }
}

pub fn builtin_text(name: &str) -> Option<&'static str> {
    let name = canonical(name)?;
    BUILTINS.iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
}

pub(crate) fn try_load(name: &str) -> Result<Option<Policy>> {
    match (canonical(name), builtin_text(name)) {
        (Some(canon), Some(text)) => {
            let mut p = parse_profile_toml(text, &format!("profile {canon}"))?;
            p.name = canon.to_string();
            Ok(Some(p))
        }
        _ => Ok(None),
    }
}

pub(crate) fn load(name: &str) -> Result<Policy> {
    try_load(name)?.ok_or_else(|| crate::error::Error::new(format!("no built-in profile {name}")))
}
