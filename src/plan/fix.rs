//! The flag that would allow a denied access: what `explain` prints after a
//! denied verdict and `trace` after each denial, read off the same plan.
//! Never a flag that would not work: a protected path needs `--unprotect`
//! (a grant does not lift it), a deny entry needs `--allow-read` naming the
//! path, a missing path is granted at its nearest existing directory.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::{Access, Lookup, Plan};

/// Which access a call needed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Want {
    Read,
    Write,
    Execute,
    /// Not an access to a path (a socket, a signal).
    Nothing,
}

/// What would allow a denied access.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fix {
    /// `--allow-write PATH`; when `wanted` differs, the directory the tool
    /// uses does not exist yet, so `path` is the nearest one that does.
    AllowWrite { path: PathBuf, wanted: PathBuf },
    /// `--allow-read PATH` (a read scope that does not reach it).
    AllowRead(PathBuf),
    /// `--allow-read PATH` naming a path inside a deny entry; for a write
    /// outside every writable root, `--allow-write DIR` too.
    LiftDeny {
        path: PathBuf,
        entry: String,
        write: Option<PathBuf>,
    },
    /// `--unprotect NAME`.
    Unprotect(String),
    /// `--network`.
    Network,
    /// `--allow-connect-tcp PORT`.
    ConnectTcp(u16),
    /// `--allow-bind-tcp PORT`.
    BindTcp(u16),
    /// `--allow-domain HOST` (or `HOST:PORT`): what the proxy names.
    Domain(String),
    /// A profile line, no flag (`[network] unix_sockets = true`).
    ProfileLine(String),
    /// Nothing allows it; why.
    Never(String),
}

impl Fix {
    /// The flag (or profile line) as the user types it; `home` shortens
    /// paths to `~/...`.
    pub fn flag(&self, home: Option<&Path>) -> Option<String> {
        Some(match self {
            Fix::AllowWrite { path, .. } => format!("--allow-write {}", word(path, home)),
            Fix::AllowRead(p) => format!("--allow-read {}", word(p, home)),
            Fix::LiftDeny { path, write, .. } => match write {
                None => format!("--allow-read {}", word(path, home)),
                Some(w) => format!(
                    "--allow-read {} --allow-write {}",
                    word(path, home),
                    word(w, home)
                ),
            },
            Fix::Unprotect(n) => format!("--unprotect {}", shell_quote(n)),
            Fix::Network => "--network".into(),
            Fix::ConnectTcp(p) => format!("--allow-connect-tcp {p}"),
            Fix::BindTcp(p) => format!("--allow-bind-tcp {p}"),
            Fix::Domain(h) => format!("--allow-domain {}", shell_quote(h)),
            Fix::ProfileLine(l) => l.clone(),
            Fix::Never(_) => return None,
        })
    }

    /// What the user should know before using the flag.
    pub fn warning(&self, home: Option<&Path>) -> Option<String> {
        match self {
            Fix::Unprotect(n) => Some(format!(
                "makes {n} writable in every writable root; tools outside the sandbox (git, editors, harnesses) trust and run what it holds"
            )),
            Fix::LiftDeny { entry, .. } => Some(format!(
                "lifts deny entry {entry} for this path only"
            )),
            Fix::AllowWrite { path, wanted } if path != wanted => Some(format!(
                "{} does not exist yet: create it (mkdir -p {}) and grant it instead of its parent",
                super::shown(wanted),
                word(wanted, home)
            )),
            Fix::Network => Some(
                "turns on the whole network; --allow-connect-tcp PORT or --allow-domain HOST allow less"
                    .into(),
            ),
            Fix::Never(why) => Some(why.clone()),
            _ => None,
        }
    }
}

impl fmt::Display for Fix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.flag(None) {
            Some(flag) => write!(f, "{flag}"),
            None => write!(f, "no flag"),
        }
    }
}

/// A path as one shell word: `~/` for the home directory, quoted when it
/// holds anything a shell would split or expand.
pub fn word(path: &Path, home: Option<&Path>) -> String {
    let text = super::shown(path).to_string();
    if let Some(rest) = home.and_then(|h| path.strip_prefix(h).ok()) {
        let rest = super::shown(rest).to_string();
        if rest.is_empty() {
            return "~".into();
        }
        if is_plain(&rest) {
            return format!("~/{rest}");
        }
    }
    shell_quote(&text)
}

fn is_plain(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-+,:@=%".contains(c))
}

fn shell_quote(s: &str) -> String {
    if is_plain(s) {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// Directories under `$HOME` that hold one directory per tool: a grant
/// goes one level deeper there (`~/.cache/pip`, not `~/.cache`).
const SHARED: [&str; 4] = [".cache", ".config", ".local/share", ".local/state"];

/// The directory a tool uses, for a path it was denied: the top-level
/// dot-directory under `$HOME` (`~/.npm` for `~/.npm/_cacache/tmp/x`), one
/// level into the shared ones, or else the path itself. With `generalize`
/// off, the path itself.
pub fn tool_dir(path: &Path, home: Option<&Path>, generalize: bool) -> PathBuf {
    if !generalize {
        return path.to_path_buf();
    }
    let Some(home) = home else {
        return path.to_path_buf();
    };
    let Ok(rel) = path.strip_prefix(home) else {
        return path.to_path_buf();
    };
    for shared in SHARED {
        if let Ok(inner) = rel.strip_prefix(shared)
            && let Some(first) = inner.components().next()
        {
            return home.join(shared).join(first);
        }
    }
    match rel.components().next() {
        Some(first) if first.as_os_str().to_string_lossy().starts_with('.') => home.join(first),
        _ => path.to_path_buf(),
    }
}

/// The nearest existing directory (or file) at or above `path`.
fn existing(path: &Path) -> PathBuf {
    let mut p = path.to_path_buf();
    while std::fs::symlink_metadata(&p).is_err() {
        if !p.pop() {
            return PathBuf::from("/");
        }
    }
    p
}

/// The fix for a denied access to a looked-up path. `generalize`: grant
/// the directory the tool uses rather than the exact file (`trace`).
pub fn for_path(
    plan: &Plan,
    l: &Lookup,
    want: Want,
    access: &Access,
    generalize: bool,
) -> Option<Fix> {
    if access.allowed {
        return None;
    }
    let home = plan_home(plan);
    if let Some((d, None)) = plan.deny.hiding(&l.resolved) {
        let in_a_root = plan
            .writable
            .iter()
            .any(|w| l.resolved.starts_with(&w.root.path));
        return Some(Fix::LiftDeny {
            path: l.resolved.clone(),
            entry: format!("{} (from {})", d.entry, d.origin),
            write: (want == Want::Write && !in_a_root).then(|| existing(&l.resolved)),
        });
    }
    Some(match want {
        Want::Write => {
            if let Some((_, p)) = plan.protection_for(&l.resolved) {
                return Some(Fix::Unprotect(p.name.clone()));
            }
            let wanted = tool_dir(&l.resolved, home.as_deref(), generalize);
            if wanted == l.resolved {
                // The path itself, or the directory it is created in.
                return Some(Fix::AllowWrite {
                    path: existing(&wanted),
                    wanted: existing(&wanted),
                });
            }
            Fix::AllowWrite {
                path: existing(&wanted),
                wanted,
            }
        }
        Want::Read | Want::Execute | Want::Nothing => Fix::AllowRead(existing(&tool_dir(
            &l.resolved,
            home.as_deref(),
            generalize,
        ))),
    })
}

/// Puts the fix on each denied access of a verdict (`explain`): the exact
/// path, not generalized; a warning goes with the flag.
pub fn annotate(plan: &Plan, v: &mut super::PathVerdict) {
    let home = plan_home(plan);
    let l = v.lookup.clone();
    for (want, a) in [
        (Want::Read, &mut v.read),
        (Want::Write, &mut v.write),
        (Want::Execute, &mut v.execute),
    ] {
        let Some(fix) = for_path(plan, &l, want, a, false) else {
            continue;
        };
        a.fix = fix
            .flag(home.as_deref())
            .map(|flag| match fix.warning(home.as_deref()) {
                Some(w) => format!("{flag} ({w})"),
                None => flag,
            });
    }
}

/// `$HOME` as the plan's environment has it.
pub fn plan_home(plan: &Plan) -> Option<PathBuf> {
    plan.env
        .vars
        .iter()
        .find(|(k, _)| k == "HOME")
        .map(|(_, v)| PathBuf::from(v))
        .filter(|p| p.is_absolute())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tool_dir_is_the_dot_directory_or_one_into_the_shared_ones() {
        let home = Some(Path::new("/home/u"));
        let t = |p: &str| tool_dir(Path::new(p), home, true);
        assert_eq!(t("/home/u/.npm/_cacache/tmp/x"), Path::new("/home/u/.npm"));
        assert_eq!(
            t("/home/u/.cache/pip/http/x"),
            Path::new("/home/u/.cache/pip")
        );
        assert_eq!(
            t("/home/u/.local/share/nvim/x"),
            Path::new("/home/u/.local/share/nvim")
        );
        assert_eq!(t("/home/u/.viminfo"), Path::new("/home/u/.viminfo"));
        assert_eq!(t("/home/u/src/a.c"), Path::new("/home/u/src/a.c"));
        assert_eq!(t("/opt/x/y"), Path::new("/opt/x/y"));
        assert_eq!(
            tool_dir(Path::new("/home/u/.npm/x"), home, false),
            Path::new("/home/u/.npm/x")
        );
    }

    #[test]
    fn words_are_short_and_quoted() {
        let home = Some(Path::new("/home/u"));
        assert_eq!(word(Path::new("/home/u/.npm"), home), "~/.npm");
        assert_eq!(word(Path::new("/home/u"), home), "~");
        assert_eq!(word(Path::new("/a b"), home), "'/a b'");
        assert_eq!(word(Path::new("/x/it's"), None), "'/x/it'\\''s'");
    }
}
