//! Plan: a policy resolved against a cwd and an environment into absolute,
//! canonical paths. It reads the filesystem (to resolve symlinks and find
//! protected subpaths) but changes nothing, so every OS can compute it.

mod display;
mod fs;
mod git;
mod gitconfig;
mod lookup;
mod roots;
mod verdict;

pub use display::shown;
pub use git::{
    GitEnv, GitOptions, GitPlan, Pin as GitPin, Repo as GitRepo, Scan as GitScan, ScanStats,
    plan_git,
};
pub use lookup::{Link, Lookup, lookup};
pub use roots::merge_nested;
pub use verdict::{Access, PathVerdict, describe_protected};

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::error::{Error, Result};
use crate::policy::{MacosExtensions, Network, PathSpec, Policy};

/// The environment the plan is resolved in. Passed in (not read globally) so
/// resolution is reproducible and testable.
#[derive(Debug, Clone, Default)]
pub struct Env {
    pub tmpdir: Option<OsString>,
    pub home: Option<OsString>,
}

impl Env {
    pub fn from_process() -> Env {
        Env {
            tmpdir: std::env::var_os("TMPDIR").filter(|v| !v.is_empty()),
            home: std::env::var_os("HOME").filter(|v| !v.is_empty()),
        }
    }
}

/// A granted tree: its canonical path plus how the user spelled it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Root {
    /// Canonical (symlink-free) path: what the kernel will check.
    pub path: PathBuf,
    /// The spelling given, when it differs from `path` (e.g. a symlink).
    pub spelled: Option<PathBuf>,
    /// The rule or option that produced it (`:cwd`, `--writable-root`, ...).
    pub origin: String,
    /// Roots given separately that lie inside this one and were merged.
    pub nested: Vec<PathBuf>,
    /// Directory or file: Landlock grants directory rights only to directories.
    pub is_dir: bool,
}

/// How a protected subpath was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ProtectedVia {
    /// `root/name` itself.
    Direct,
    /// `root/name` is a symlink; protected at its target.
    Symlink,
    /// The directory a `.git` pointer file (`gitdir: ...`) names.
    Gitdir,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Protected {
    /// The protected name, e.g. `.git`.
    pub name: String,
    /// `root/name` as spelled inside the writable root.
    pub path: PathBuf,
    /// The path that gets pinned (canonical target; equals `path` if direct).
    pub target: PathBuf,
    pub exists: bool,
    pub via: ProtectedVia,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WritableRoot {
    #[serde(flatten)]
    pub root: Root,
    pub protected: Vec<Protected>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "scope", rename_all = "lowercase")]
pub enum ReadScope {
    /// Read everything (`:root`).
    All,
    /// Read only these roots, plus the platform runtime set if `minimal`.
    Restricted { minimal: bool, roots: Vec<Root> },
}

/// Device files every sandboxed command may read and write (when present).
pub const DEVICES: [&str; 9] = [
    "/dev/null",
    "/dev/zero",
    "/dev/full",
    "/dev/random",
    "/dev/urandom",
    "/dev/tty",
    "/dev/ptmx",
    "/dev/pts",
    // POSIX semaphores and shared memory (Python multiprocessing needs it).
    "/dev/shm",
];

/// The JSON shape (`explain --json`, `run --dry-run --json`) is documented in
/// `docs/explain-doctor.md`; field order is the output order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Plan {
    /// Where the policy came from.
    #[serde(rename = "policy")]
    pub policy_name: String,
    pub cwd: PathBuf,
    /// `false` for danger-full-access: no sandbox is applied.
    pub sandboxed: bool,
    pub read: ReadScope,
    pub writable: Vec<WritableRoot>,
    /// Existing device paths from [`DEVICES`], canonical, with `is_dir`.
    #[serde(serialize_with = "devices_json")]
    pub devices: Vec<(PathBuf, bool)>,
    pub network: Network,
    pub protected_names: Vec<String>,
    pub macos: MacosExtensions,
}

/// Devices as `[{"path": ..., "is_dir": ...}]` rather than pairs.
fn devices_json<S: serde::Serializer>(
    devices: &[(PathBuf, bool)],
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
    #[derive(Serialize)]
    struct Device<'a> {
        path: &'a Path,
        is_dir: bool,
    }
    s.collect_seq(devices.iter().map(|(path, is_dir)| Device {
        path,
        is_dir: *is_dir,
    }))
}

impl Plan {
    /// Every protected entry of every writable root.
    pub fn protected(&self) -> impl Iterator<Item = (&WritableRoot, &Protected)> {
        self.writable
            .iter()
            .flat_map(|w| w.protected.iter().map(move |p| (w, p)))
    }
}

/// Expands `~`, joins relative paths onto `cwd`. No filesystem access.
pub fn absolute(path: &Path, cwd: &Path, env: &Env) -> std::result::Result<PathBuf, String> {
    // `~` and `~/...` only (a whole first component): `~user` is a name.
    let expanded = if let Ok(rest) = path.strip_prefix("~") {
        let home = env.home.as_ref().ok_or_else(|| {
            format!(
                "`{}` uses ~ but $HOME is not set",
                path.to_string_lossy().escape_debug()
            )
        })?;
        let mut p = PathBuf::from(home);
        if !rest.as_os_str().is_empty() {
            p.push(rest);
        }
        p
    } else {
        path.to_path_buf()
    };
    Ok(if expanded.is_absolute() {
        expanded
    } else {
        cwd.join(expanded)
    })
}

/// Resolves `path`, reporting the origin in the error.
fn canonical(path: &Path, origin: &str, what: &str) -> Result<fs::Resolved> {
    fs::resolve(path).map_err(|e| {
        let why = match e.kind() {
            std::io::ErrorKind::NotFound => "does not exist".to_string(),
            _ => format!("cannot be resolved ({e})"),
        };
        Error::new(format!(
            "{what} {} (from {origin}) {why}; create it or remove it from the policy",
            path.display()
        ))
    })
}

fn root_for(
    spec: &PathSpec,
    origin: &str,
    cwd: &Path,
    env: &Env,
    what: &str,
) -> Result<Option<(Root, fs::Resolved)>> {
    let given: PathBuf = match spec {
        PathSpec::Root => PathBuf::from("/"),
        PathSpec::Cwd => cwd.to_path_buf(),
        PathSpec::SlashTmp => {
            if !Path::new("/tmp").exists() {
                return Ok(None);
            }
            PathBuf::from("/tmp")
        }
        PathSpec::Tmpdir => match &env.tmpdir {
            None => return Ok(None),
            Some(t) => {
                let t = PathBuf::from(t);
                if !t.is_absolute() {
                    return Err(Error::new(format!(
                        "$TMPDIR={} (from :tmpdir) is not an absolute path; fix TMPDIR or pass --exclude-tmpdir-env-var",
                        t.display()
                    )));
                }
                t
            }
        },
        PathSpec::Minimal => return Ok(None),
        PathSpec::Path(p) => {
            absolute(p, cwd, env).map_err(|e| Error::new(format!("{e} (from {origin})")))?
        }
    };
    // Errors name the special and the list that held it, e.g. `:tmpdir in
    // profile workspace-write: file_system.write`; the plan keeps `:tmpdir`.
    let (origin, err_origin) = match spec {
        PathSpec::Path(_) => (origin.to_string(), origin.to_string()),
        special => (
            special.as_text().to_string(),
            format!("{} in {origin}", special.as_text()),
        ),
    };
    let resolved = canonical(&given, &err_origin, what).map_err(|e| {
        if *spec == PathSpec::Tmpdir {
            Error::new(format!("{}; or pass --exclude-tmpdir-env-var", e.message))
        } else {
            e
        }
    })?;
    let path = resolved.path.clone();
    let spelled = (path != given).then_some(given);
    let root = Root {
        path,
        spelled,
        origin,
        nested: Vec::new(),
        is_dir: resolved.is_dir,
    };
    Ok(Some((root, resolved)))
}

/// Reads `gitdir: X` from a `.git` pointer file, resolved against `dir`.
fn gitdir_target(file: &Path, dir: &Path) -> Option<PathBuf> {
    let text = std::fs::read_to_string(file).ok()?;
    let target = text.lines().next()?.strip_prefix("gitdir:")?.trim();
    if target.is_empty() {
        return None;
    }
    std::fs::canonicalize(dir.join(target)).ok()
}

/// A linked worktree's gitdir holds a `commondir` file naming the main
/// repository's git directory, where its config and hooks live.
fn commondir_target(gitdir: &Path) -> Option<PathBuf> {
    let text = std::fs::read_to_string(gitdir.join("commondir")).ok()?;
    let target = text.lines().next()?.trim();
    if target.is_empty() {
        return None;
    }
    std::fs::canonicalize(gitdir.join(target)).ok()
}

/// Finds the protected entries of one writable root (one `lstat` per name,
/// relative to the open root).
fn protected_in(root: &fs::Resolved, names: &[String]) -> Vec<Protected> {
    let mut out = Vec::new();
    for name in names {
        let path = root.path.join(name);
        let entry = |target: PathBuf, exists: bool, via: ProtectedVia| Protected {
            name: name.clone(),
            path: path.clone(),
            target,
            exists,
            via,
        };
        match root.entry(name) {
            fs::Entry::Missing => out.push(entry(path.clone(), false, ProtectedVia::Direct)),
            fs::Entry::Symlink => match std::fs::canonicalize(&path) {
                Ok(target) => out.push(entry(target, true, ProtectedVia::Symlink)),
                // A dangling link cannot be pinned; it is reported as missing.
                Err(_) => out.push(entry(path.clone(), false, ProtectedVia::Symlink)),
            },
            kind => {
                out.push(entry(path.clone(), true, ProtectedVia::Direct));
                if name == ".git"
                    && kind == fs::Entry::File
                    && let Some(target) = gitdir_target(&path, &root.path)
                {
                    let common = commondir_target(&target);
                    out.push(entry(target.clone(), true, ProtectedVia::Gitdir));
                    // The main repository's config and hooks are as much an
                    // escape as the worktree's own gitdir.
                    if let Some(common) = common.filter(|c| *c != target) {
                        out.push(entry(common, true, ProtectedVia::Gitdir));
                    }
                }
            }
        }
    }
    out
}

/// Resolves `policy` against `cwd` (must be absolute) and `env`.
pub fn resolve(policy: &Policy, cwd: &Path, env: &Env) -> Result<Plan> {
    let cwd_dir = canonical(
        cwd,
        "-C/--cwd or the current directory",
        "working directory",
    )?;
    if !cwd_dir.is_dir {
        return Err(Error::new(format!(
            "working directory {} is not a directory; pass -C with a directory",
            cwd_dir.path.display()
        )));
    }
    let cwd = cwd_dir.path.clone();
    let sandboxed = !policy.is_full_access();

    let mut writable = Vec::with_capacity(policy.write.len());
    for g in &policy.write {
        if let Some((root, resolved)) = root_for(&g.spec, &g.origin, &cwd, env, "writable root")? {
            let protected = protected_in(&resolved, &policy.protected);
            writable.push(WritableRoot { root, protected });
        }
    }
    let writable = merge_nested(
        writable,
        |w| &mut w.root,
        |outer, inner| {
            // The same root given twice ($TMPDIR=/tmp) has the same entries.
            for p in inner.protected {
                if !outer.protected.contains(&p) {
                    outer.protected.push(p);
                }
            }
        },
    );

    let read = if policy.restricts_reads() {
        let minimal = policy.read.iter().any(|g| g.spec == PathSpec::Minimal);
        let mut roots = Vec::new();
        for g in &policy.read {
            if let Some((root, _)) = root_for(&g.spec, &g.origin, &cwd, env, "readable path")? {
                roots.push(root);
            }
        }
        ReadScope::Restricted {
            minimal,
            roots: merge_nested(roots, |r| r, |_, _| {}),
        }
    } else {
        ReadScope::All
    };

    // Fixed paths: one stat each, no canonicalization (Landlock pins the
    // inode the path reaches, symlink or not).
    let devices = DEVICES
        .iter()
        .filter_map(|p| {
            std::fs::metadata(p)
                .ok()
                .map(|m| (PathBuf::from(p), m.is_dir()))
        })
        .collect();

    Ok(Plan {
        policy_name: policy.name.clone(),
        cwd,
        sandboxed,
        read,
        writable,
        devices,
        network: policy.network,
        protected_names: policy.protected.clone(),
        macos: policy.macos.clone(),
    })
}
