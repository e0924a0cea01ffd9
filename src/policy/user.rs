//! The user's profile directory: `-p NAME` (not a built-in, not a path)
//! and `CORDON_PROFILE` find `$XDG_CONFIG_HOME/cordon/profiles/NAME.toml`
//! (default `~/.config`). Built-in names are reserved: `-p workspace-write`
//! is always the built-in and never looks here, so a file of that name
//! cannot change what a harness asked for. Nothing is ever read from the
//! workspace on its own: a repository does not choose its own sandbox
//! (`-p ./.cordon/profile.toml` is the explicit way to use one).

use std::path::PathBuf;

use crate::error::{Error, Result};

/// The variable naming the profile used when no `-p`/`--policy-json` is given.
pub const PROFILE_VAR: &str = "CORDON_PROFILE";

/// `$XDG_CONFIG_HOME/cordon/profiles`, or `~/.config/cordon/profiles`.
/// A relative `$XDG_CONFIG_HOME` is ignored, as the XDG spec says.
pub fn profile_dir() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| {
            std::env::var_os("HOME")
                .filter(|h| !h.is_empty())
                .map(|h| PathBuf::from(h).join(".config"))
        })?;
    Some(base.join("cordon/profiles"))
}

/// A profile name as the directory holds it: letters, digits, `.`, `_`,
/// `-`, not starting with `.` (a name is a file name, never a path).
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// The file of the user profile `name`, and its text.
pub fn read(name: &str, builtins: &str) -> Result<(PathBuf, String)> {
    if !valid_name(name) {
        return Err(Error::new(format!(
            "profile `{}` is neither a built-in ({builtins}) nor a profile name (letters, digits, `.`, `_`, `-`) nor a path; give a path to a profile TOML file (with a `/`, or ending in .toml)",
            name.escape_debug()
        )));
    }
    let Some(dir) = profile_dir() else {
        return Err(Error::new(format!(
            "unknown profile `{name}`: not a built-in ({builtins}), and neither $XDG_CONFIG_HOME nor $HOME is set to find the user profile directory; give a path to a profile TOML file"
        )));
    };
    let path = dir.join(format!("{name}.toml"));
    match std::fs::read_to_string(&path) {
        Ok(text) => Ok((path, text)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(Error::new(format!(
            "unknown profile `{name}`: not a built-in ({builtins}) and no {} exists; create it, or give a path to a profile TOML file",
            path.display()
        ))),
        Err(e) => Err(Error::new(format!(
            "profile `{name}`: {}: {e}; make it a readable TOML file",
            path.display()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_file_names_never_paths() {
        for ok in ["dev", "ci-strict", "a.b", "team_1"] {
            assert!(valid_name(ok), "{ok}");
        }
        for bad in ["", ".hidden", "..", "a b", "a\\b", "é", "a\0b"] {
            assert!(!valid_name(bad), "{bad:?}");
        }
    }
}
