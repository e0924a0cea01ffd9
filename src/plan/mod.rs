//! Plan: a policy resolved against a cwd and an environment into absolute,
//! canonical paths. It reads the filesystem (to resolve symlinks and find
//! protected subpaths) but changes nothing, so every OS can compute it.

mod deny;
mod display;
pub mod env;
pub mod fix;
pub mod fs;
mod git;
mod gitconfig;
mod glob;
mod host;
mod lookup;
mod protect_links;
mod request_cwd;
mod roots;
pub mod stdio_files;
pub mod terminals;
mod verdict;

pub use deny::{Denied, DenyPlan, GlobMatch, Lift, Waived};
pub use display::shown;
pub use env::ChildEnv;
pub use fs::{FileId, Handle};
pub use git::{
    GitEnv, GitOptions, GitPlan, Pin as GitPin, Repo as GitRepo, Scan as GitScan, ScanStats,
    plan_git,
};
pub use host::openat2_no_symlinks;
pub use lookup::{Link, Lookup, lookup};
pub use request_cwd::check_request_cwd;
pub use roots::merge_nested;
pub use stdio_files::StdioFile;
pub use terminals::Terminal;
pub use verdict::{Access, PathVerdict, describe_protected};

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::error::{Error, Result};
use crate::policy::{MacosExtensions, Network, PathSpec, Policy};

/// The environment the plan is resolved in. Passed in (not read globally) so
/// resolution is reproducible and testable.
#[derive(Clone, Default)]
pub struct Env {
    pub tmpdir: Option<OsString>,
    pub home: Option<OsString>,
    /// The caller's home as the account database has it, which `:secrets`
    /// covers too: `$HOME` may be unset, or point elsewhere (a harness's
    /// scratch home) while the keys stay in the real one.
    pub account_home: AccountHome,
    /// The terminals on fds 0-2 (`terminals.rs`).
    pub terminals: Vec<Terminal>,
    /// The regular files on fds 0-2 (`stdio_files.rs`).
    pub stdio_files: Vec<StdioFile>,
    /// The caller's variables, which the policy's `[env]` filters for the
    /// command (`env.rs`).
    pub vars: Vec<(OsString, OsString)>,
}

impl std::fmt::Debug for Env {
    /// Variable names only: a value may be a secret.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<_> = self.vars.iter().map(|(k, _)| k).collect();
        f.debug_struct("Env")
            .field("tmpdir", &self.tmpdir)
            .field("home", &self.home)
            .field("terminals", &self.terminals)
            .field("stdio_files", &self.stdio_files)
            .field("vars", &names)
            .finish()
    }
}

impl Env {
    pub fn from_process() -> Env {
        Env {
            tmpdir: std::env::var_os("TMPDIR").filter(|v| !v.is_empty()),
            home: std::env::var_os("HOME").filter(|v| !v.is_empty()),
            account_home: AccountHome::Lookup,
            terminals: terminals::of_process(),
            stdio_files: stdio_files::of_process(),
            vars: std::env::vars_os().collect(),
        }
    }
}

/// Where [`Env::account_home`] comes from.
#[derive(Debug, Clone, Default)]
pub enum AccountHome {
    /// `/etc/passwd`, read only when a policy asks (`:secrets`): most runs
    /// of `full-access` or `deny = []` never need it.
    Lookup,
    /// Given (tests, or none known).
    #[default]
    None,
    Is(PathBuf),
}

impl Env {
    /// The caller's home in the account database, if known.
    pub fn account_home(&self) -> Option<PathBuf> {
        match &self.account_home {
            // SAFETY: geteuid has no preconditions.
            AccountHome::Lookup => passwd_home(unsafe { libc::geteuid() }),
            AccountHome::None => None,
            AccountHome::Is(p) => Some(p.clone()),
        }
    }
}

/// The home directory of `uid` in `/etc/passwd`: one small read, no NSS
/// (cordon is linked statically, where glibc's NSS modules cannot load).
/// Accounts only a directory service knows have none here.
fn passwd_home(uid: u32) -> Option<PathBuf> {
    use std::os::unix::ffi::OsStrExt;
    let text = std::fs::read("/etc/passwd").ok()?;
    text.split(|b| *b == b'\n').find_map(|line| {
        let f: Vec<&[u8]> = line.split(|b| *b == b':').collect();
        let home = Path::new(std::ffi::OsStr::from_bytes(f.get(5)?));
        (f.len() >= 7 && f[2] == uid.to_string().as_bytes() && home.is_absolute())
            .then(|| home.to_path_buf())
    })
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
    /// The object resolution found, held open: rules and mounts use it, so
    /// nothing is looked up by name twice.
    #[serde(skip)]
    pub handle: Handle,
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
    /// A file git reads as config or runs, found by `git.rs` (a nested
    /// repository's `.git`, a hooks directory, a program its config names).
    Git,
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
    /// For a missing entry, its first missing component (`path` itself for
    /// a plain name): a placeholder there is what stops it being created.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub missing_from: Option<PathBuf>,
    /// The identity of `target` as planned (existing entries).
    #[serde(skip)]
    pub id: Option<FileId>,
    /// For an entry found by `git.rs`: why git reads or runs it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub why: Option<String>,
    /// A missing entry is held by a directory (not a file) placeholder.
    #[serde(skip)]
    pub dir_hint: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WritableRoot {
    #[serde(flatten)]
    pub root: Root,
    pub protected: Vec<Protected>,
    /// Git mode: directories inside this root that stay writable but cannot
    /// be renamed or removed (a gitdir's `objects` and `refs`, without which
    /// it is no repository).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub anchors: Vec<PathBuf>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "scope", rename_all = "lowercase")]
pub enum ReadScope {
    /// Read everything (`:root`).
    All,
    /// Read only these roots, plus the platform runtime set if `minimal`.
    Restricted {
        minimal: bool,
        roots: Vec<Root>,
        /// The existing entries of the Linux runtime set ([`LINUX_MINIMAL`]).
        #[serde(skip)]
        runtime: Vec<Held>,
    },
}

/// A fixed path the sandbox grants (a device, an entry of the runtime read
/// set), resolved and held open like a root.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Held {
    pub path: PathBuf,
    pub is_dir: bool,
    #[serde(skip)]
    pub handle: Handle,
}

/// POSIX shared memory: private to the sandbox.
const SHM: &str = "/dev/shm";

/// Device files every sandboxed command may read and write (when present).
/// Not `/dev/pts`: that holds every terminal the caller can reach; the
/// command gets its own terminals (`Plan::terminals`) and ptys it makes.
pub const DEVICES: [&str; 8] = [
    "/dev/null",
    "/dev/zero",
    "/dev/full",
    "/dev/random",
    "/dev/urandom",
    // The controlling terminal, whichever it is (none in a new session).
    "/dev/tty",
    // New ptys (script, tmux); see linux::terminals for their slaves.
    "/dev/ptmx",
    // POSIX semaphores and shared memory (Python multiprocessing needs it).
    "/dev/shm",
];

/// The Linux runtime read set (`:minimal`): loader, libraries, `/usr`,
/// `/bin`, the `/etc` files ordinary programs read at start-up, `/proc`, CPU
/// topology. Missing entries are skipped (distributions differ).
pub const LINUX_MINIMAL: [&str; 29] = [
    "/bin",
    "/sbin",
    "/usr",
    "/lib",
    "/lib32",
    "/lib64",
    "/libx32",
    "/etc/ld.so.cache",
    "/etc/ld.so.conf",
    "/etc/ld.so.conf.d",
    "/etc/alternatives",
    "/etc/passwd",
    "/etc/group",
    "/etc/nsswitch.conf",
    "/etc/localtime",
    "/etc/timezone",
    "/etc/hosts",
    "/etc/resolv.conf",
    "/etc/host.conf",
    "/etc/gai.conf",
    "/etc/ssl",
    "/etc/ca-certificates",
    "/etc/terminfo",
    "/etc/locale.alias",
    "/etc/mime.types",
    "/etc/os-release",
    "/proc",
    "/sys/devices/system/cpu",
    "/sys/fs/cgroup",
];

/// The existing entries of a fixed list, each held open (one open and one
/// fstat each; no canonicalization: Landlock pins the inode the path
/// reaches, symlink or not).
fn held(paths: &[&str]) -> Vec<Held> {
    paths
        .iter()
        .filter_map(|p| {
            if *p == SHM {
                // In the namespace /dev/shm is a tmpfs cordon makes: its
                // rule is added by name after the namespace (cordon made
                // it, nothing else can have swapped it).
                let is_dir = std::fs::metadata(p).ok()?.is_dir();
                return Some(Held {
                    path: PathBuf::from(p),
                    is_dir,
                    handle: Handle::default(),
                });
            }
            let (is_dir, handle) = fs::open(Path::new(p)).ok()?;
            Some(Held {
                path: PathBuf::from(p),
                is_dir,
                handle,
            })
        })
        .collect()
}

/// The JSON shape (`explain --json`, `run --dry-run --json`) is documented in
/// `docs/explain-doctor.md`; field order is the output order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Plan {
    /// Where the policy came from.
    #[serde(rename = "policy")]
    pub policy_name: String,
    pub cwd: PathBuf,
    /// The command's environment (names only when printed).
    pub env: ChildEnv,
    /// The working directory as resolved, held open.
    #[serde(skip)]
    pub cwd_handle: Handle,
    /// `/`, held open for the read scope `:root`.
    #[serde(skip)]
    pub slash: Handle,
    /// `false` for danger-full-access: no sandbox is applied.
    pub sandboxed: bool,
    pub read: ReadScope,
    pub writable: Vec<WritableRoot>,
    /// Existing device paths from [`DEVICES`] and the granted ones.
    pub devices: Vec<Held>,
    /// The command's own terminals (on fds 0-2), usable by path too.
    pub terminals: Vec<Terminal>,
    /// Regular files on fds 0-2, reopenable by name (`stdio_files.rs`).
    pub stdio_files: Vec<StdioFile>,
    pub network: Network,
    pub protected_names: Vec<String>,
    /// Paths hidden from the command (`deny.rs`).
    pub deny: DenyPlan,
    pub macos: MacosExtensions,
    /// Kill every process left in the sandbox when the command exits (the
    /// default; `--keep-leftovers` turns it off). A launch setting, not a
    /// permission: set by the command line after resolution.
    pub kill_leftovers: bool,
    /// The skill whose declared permissions made this plan (`cordon
    /// skill`, `run --skills`, a request's `"skill"`), and how the turn
    /// bounded each of them. Set by `crate::skill` after resolution.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skill: Option<SkillNote>,
}

/// How a skill's manifest became the plan: which skill, why it applies,
/// and one decision per declared grant with the manifest key that made it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SkillNote {
    /// The skill directory (canonical).
    pub dir: PathBuf,
    /// The file whose `permissions` block applies; `None` when the skill
    /// declares none (the turn's sandbox applies).
    pub manifest: Option<PathBuf>,
    /// Why this skill applies (`run --skills` matching, a request).
    pub matched: Option<String>,
    /// The turn's policy, which bounds the declared one.
    pub turn: String,
    /// One line per declared grant: what the turn made of it and why.
    pub decisions: Vec<String>,
}

impl Plan {
    /// Closes every descriptor resolution holds (once the apply step has
    /// used them).
    pub fn release_handles(&self) {
        self.cwd_handle.release();
        self.slash.release();
        for w in &self.writable {
            w.root.handle.release();
        }
        if let ReadScope::Restricted { roots, runtime, .. } = &self.read {
            roots.iter().for_each(|r| r.handle.release());
            runtime.iter().for_each(|r| r.handle.release());
        }
        self.devices.iter().for_each(|d| d.handle.release());
        self.stdio_files.iter().for_each(|f| f.handle.release());
        self.deny.release_handles();
    }

    /// Every protected entry of every writable root.
    pub fn protected(&self) -> impl Iterator<Item = (&WritableRoot, &Protected)> {
        self.writable
            .iter()
            .flat_map(|w| w.protected.iter().map(move |p| (w, p)))
    }
}

/// Why [`absolute`] cannot make a path absolute: it uses `~` and `$HOME`
/// is not set (the path as given).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoHome(pub PathBuf);

impl std::fmt::Display for NoHome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "`{}` uses ~ but $HOME is not set",
            self.0.to_string_lossy().escape_debug()
        )
    }
}

/// Expands `~`, joins relative paths onto `cwd`. No filesystem access.
pub fn absolute(path: &Path, cwd: &Path, env: &Env) -> std::result::Result<PathBuf, NoHome> {
    // `~` and `~/...` only (a whole first component): `~user` is a name.
    let expanded = if let Ok(rest) = path.strip_prefix("~") {
        let home = env
            .home
            .as_ref()
            .ok_or_else(|| NoHome(path.to_path_buf()))?;
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
        // Planning holds each root open until the sandbox is applied: out
        // of descriptors, the path is fine and creating it helps nothing.
        if matches!(e.raw_os_error(), Some(libc::EMFILE | libc::ENFILE)) {
            return Error::new(format!(
                "{what} {} (from {origin}) cannot be resolved ({e}): cordon holds every root open while it sets the sandbox up; raise the open-file limit (ulimit -n) or name fewer roots",
                path.display()
            ));
        }
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
        PathSpec::Minimal | PathSpec::Caches => return Ok(None),
        PathSpec::Path(p) | PathSpec::Optional(p) => {
            absolute(p, cwd, env).map_err(|e| Error::new(format!("{e} (from {origin})")))?
        }
    };
    // Errors name the special and the list that held it, e.g. `:tmpdir in
    // profile workspace-write: file_system.write`; the plan keeps `:tmpdir`.
    let (origin, err_origin) = match spec {
        PathSpec::Path(_) | PathSpec::Optional(_) => (origin.to_string(), origin.to_string()),
        special => (
            special.as_text().to_string(),
            format!("{} in {origin}", special.as_text()),
        ),
    };
    let resolved = match canonical(&given, &err_origin, what) {
        Ok(r) => r,
        // An optional path that is not there yet is no grant; one that is
        // there but cannot be resolved (a dangling link, EACCES) fails as
        // any path does. Looked at only once resolving failed.
        Err(_) if matches!(spec, PathSpec::Optional(_)) && missing(&given) => return Ok(None),
        // A $TMPDIR that is gone (a session's temporary directory, cleaned
        // up) drops :tmpdir with one warning rather than failing every
        // command (contract §6); a path the policy names stays strict.
        // Looked at only once resolving failed: no extra lstat per run.
        Err(_) if *spec == PathSpec::Tmpdir && missing(&given) => {
            eprintln!(
                "cordon: warning: $TMPDIR={} does not exist; :tmpdir dropped from the {what}s",
                given.display()
            );
            return Ok(None);
        }
        Err(e) if *spec == PathSpec::Tmpdir => {
            return Err(Error::new(format!(
                "{}; or pass --exclude-tmpdir-env-var",
                e.message
            )));
        }
        Err(e) => return Err(e),
    };
    let path = resolved.path.clone();
    let spelled = (path != given).then_some(given);
    let root = Root {
        path,
        spelled,
        origin,
        nested: Vec::new(),
        is_dir: resolved.is_dir,
        handle: resolved.handle.clone(),
    };
    Ok(Some((root, resolved)))
}

/// Nothing is at `path`, not even a dangling link.
fn missing(path: &Path) -> bool {
    matches!(std::fs::symlink_metadata(path), Err(e) if e.kind() == std::io::ErrorKind::NotFound)
}

/// The roots one list entry names: none, one, or for `:caches` each cache
/// under `$HOME` that exists (optional: a package manager makes its cache
/// on first use, and a run without it needs no grant for it).
fn roots_for(
    spec: &PathSpec,
    origin: &str,
    cwd: &Path,
    env: &Env,
    what: &str,
) -> Result<Vec<(Root, fs::Resolved)>> {
    if *spec != PathSpec::Caches {
        return Ok(root_for(spec, origin, cwd, env, what)?
            .into_iter()
            .collect());
    }
    let Some(home) = env.home.as_ref().map(PathBuf::from) else {
        return Err(Error::new(format!(
            ":caches (from {origin}) names the caches under $HOME, which is not set; set HOME or remove :caches"
        )));
    };
    let mut out = Vec::new();
    for rel in crate::policy::CACHES {
        let spec = PathSpec::Optional(home.join(rel));
        let from = format!(":caches in {origin}");
        if let Some((mut root, resolved)) = root_for(&spec, &from, cwd, env, what)? {
            root.origin = ":caches".to_string();
            out.push((root, resolved));
        }
    }
    Ok(out)
}

/// The text of a small pointer file (`.git`, `commondir`): a regular file
/// only, opened without blocking, so a FIFO planted at the name cannot stall
/// the plan (adversarial pass 9) and a device is not read.
fn read_pointer(file: &Path) -> Option<Vec<u8>> {
    use std::io::Read;
    use std::os::unix::fs::OpenOptionsExt;
    let f = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(file)
        .ok()?;
    if !f.metadata().ok()?.is_file() {
        return None;
    }
    let mut text = Vec::new();
    f.take(64 * 1024).read_to_end(&mut text).ok()?;
    Some(text)
}

/// Reads `gitdir: X` from a `.git` pointer file, resolved against `dir`,
/// with the git planner's own parser (`git::gitdir_line`): both must take
/// the same file for the same gitdir.
fn gitdir_target(file: &Path, dir: &Path) -> Option<PathBuf> {
    use std::os::unix::ffi::OsStrExt;
    let target = git::gitdir_line(&read_pointer(file)?)?;
    std::fs::canonicalize(dir.join(std::ffi::OsStr::from_bytes(&target))).ok()
}

/// A linked worktree's gitdir holds a `commondir` file naming the main
/// repository's git directory, where its config and hooks live.
fn commondir_target(gitdir: &Path) -> Option<PathBuf> {
    use std::os::unix::ffi::OsStrExt;
    let text = read_pointer(&gitdir.join("commondir"))?;
    let target = git::pointer(&text);
    if target.is_empty() {
        return None;
    }
    std::fs::canonicalize(gitdir.join(std::ffi::OsStr::from_bytes(target))).ok()
}

/// The identity of what `path` leads to now (one stat).
fn id_of(path: &Path) -> Option<FileId> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).ok().map(|m| FileId {
        dev: m.dev(),
        ino: m.ino(),
    })
}

/// The first component of `name` under `dir` that does not exist, or is
/// another run's placeholder (`name` is relative and validated: no `..`).
/// A placeholder counts as missing, so this run holds that one too rather
/// than making its own inside it: an entry inside would keep the outer
/// placeholder from being removed when its run ends.
fn first_missing(dir: &Path, name: impl AsRef<Path>) -> PathBuf {
    use std::os::unix::fs::MetadataExt;
    let mut at = dir.to_path_buf();
    for c in name.as_ref().components() {
        at.push(c);
        match std::fs::symlink_metadata(&at) {
            Ok(m) if !fs::is_placeholder(m.mode(), m.size() as i64) => {}
            _ => break,
        }
    }
    at
}

/// The protected entry `name` of the directory `dir` (held open): one
/// `lstat` relative to it, then for a symlink or a gitdir pointer what it
/// leads to.
fn protected_entry(dir: &fs::Resolved, name: &str, label: &str) -> Vec<Protected> {
    let path = dir.path.join(name);
    let entry = |target: PathBuf, exists: bool, via: ProtectedVia, id| Protected {
        why: None,
        dir_hint: true,
        name: label.to_string(),
        missing_from: (!exists).then(|| {
            if name.contains('/') {
                first_missing(&dir.path, name)
            } else {
                path.clone()
            }
        }),
        path: path.clone(),
        target,
        exists,
        via,
        id,
    };
    let (kind, id) = dir.entry(name);
    let mut out = Vec::new();
    match kind {
        fs::Entry::Missing | fs::Entry::Placeholder => {
            out.push(entry(path.clone(), false, ProtectedVia::Direct, None))
        }
        // At its target, with every link on the way pinned and a dangling
        // one's target held (`protect_links.rs`).
        fs::Entry::Symlink => out.extend(protect_links::symlink_entries(&path, label)),
        kind => {
            out.push(entry(path.clone(), true, ProtectedVia::Direct, id));
            if name == ".git"
                && kind == fs::Entry::File
                && let Some(target) = gitdir_target(&path, &dir.path)
            {
                let common = commondir_target(&target);
                out.push(entry(
                    target.clone(),
                    true,
                    ProtectedVia::Gitdir,
                    id_of(&target),
                ));
                // The main repository's config and hooks are as much an
                // escape as the worktree's own gitdir.
                if let Some(common) = common.filter(|c| *c != target) {
                    let id = id_of(&common);
                    out.push(entry(common, true, ProtectedVia::Gitdir, id));
                }
            }
        }
    }
    out
}

/// A protected name that starts with `~/` names a path in `$HOME`, pinned
/// when `$HOME` lies in a writable root (`~/.bashrc`); every other name is
/// relative to each writable root.
fn home_relative(name: &str) -> Option<&str> {
    name.strip_prefix("~/")
}

/// Finds the protected entries of one writable root (one `lstat` per name,
/// relative to the open root).
/// With `git_commits` (git mode) a `.git` directory, and the gitdir a
/// `.git` pointer file names, are left to `protect_git`, which pins what
/// in them git reads or runs; the pointer file itself stays protected.
fn protected_in(root: &fs::Resolved, names: &[String], git_commits: bool) -> Vec<Protected> {
    // A file granted as a root (a socket, one log file) holds no names.
    if !root.is_dir {
        return Vec::new();
    }
    names
        .iter()
        .filter(|n| home_relative(n).is_none())
        .flat_map(|name| protected_entry(root, name, name))
        .filter(|p| {
            // Only git mode asks (a `stat` per root otherwise wasted).
            let gitdir = || {
                p.name == ".git"
                    && p.exists
                    && (p.via == ProtectedVia::Gitdir
                        || (p.via == ProtectedVia::Direct && p.path.is_dir()))
            };
            !(git_commits && gitdir())
        })
        .collect()
}

/// Adds the `~/` entries of `names` to the writable root that holds
/// `$HOME`, if one does.
fn protect_home(writable: &mut [WritableRoot], names: &[String], env: &Env) {
    let home_names: Vec<(&String, &str)> = names
        .iter()
        .filter_map(|n| home_relative(n).map(|rest| (n, rest)))
        .collect();
    if home_names.is_empty() {
        return;
    }
    let Some(home) = env
        .home
        .as_ref()
        .and_then(|h| fs::resolve(Path::new(h)).ok())
    else {
        return;
    };
    // Roots are merged: at most one holds $HOME.
    let Some(w) = writable
        .iter_mut()
        .find(|w| home.path.starts_with(&w.root.path))
    else {
        return;
    };
    for (label, rest) in home_names {
        for p in protected_entry(&home, rest, label) {
            if !w.protected.contains(&p) {
                w.protected.push(p);
            }
        }
    }
}

/// A writable root granted inside a protected path of another (`-w .git`)
/// was merged into the outer root and silently stayed read-only. A grant
/// does not lift a protection: refused, naming the way that does.
fn refuse_grants_on_protected(writable: &[WritableRoot]) -> Result<()> {
    for w in writable {
        for n in &w.root.nested {
            let hit = w
                .protected
                .iter()
                .find(|p| n.starts_with(&p.path) || (p.exists && n.starts_with(&p.target)));
            if let Some(p) = hit {
                return Err(Error::new(format!(
                    "writable root {} lies in {}, protected ({}) inside writable root {}: a grant does not lift a protection; pass --unprotect {} to make it writable (what git or tools later run from it becomes writable too), or approve the command through `cordon rerun` (docs/rerun.md: approving a git commit)",
                    shown(n),
                    shown(&p.path),
                    p.name,
                    shown(&w.root.path),
                    p.name
                )));
            }
        }
    }
    Ok(())
}

/// A writable root spelled through a symlink that lies in a writable root
/// (its own or another): a sandboxed command could have planted that link
/// in an earlier run, pointing anywhere (`$TMPDIR=/tmp/s` with `/tmp/s ->
/// $HOME`), so following it would hand this run whatever it chose. Refused;
/// the message names the real path to give instead.
fn refuse_planted_links(writable: &[WritableRoot], cwd: &Path) -> Result<()> {
    for w in writable {
        let Some(spelled) = &w.root.spelled else {
            continue;
        };
        for link in lookup(spelled, cwd).symlinks {
            let inside = writable.iter().find(|o| link.at.starts_with(&o.root.path));
            if let Some(o) = inside {
                return Err(Error::new(format!(
                    "writable root {} (from {}) passes through the symlink {}, which lies in the writable root {}: a sandboxed command could have planted it; give the real path {} instead",
                    shown(spelled),
                    w.root.origin,
                    shown(&link.at),
                    shown(&o.root.path),
                    shown(&w.root.path)
                )));
            }
        }
    }
    Ok(())
}

/// What the git plan cannot hold, refused before anything runs.
fn refuse_git_plan(git: &GitPlan) -> Result<()> {
    if let Some(g) = git.missing_commondir.first() {
        return Err(Error::new(format!(
            "--git-commits: the gitdir {} has no commondir file, which a command could plant to move the repository's config and hooks elsewhere; create it once with `echo . > {}` (git reads `.` as the gitdir itself, as when the file is missing), and git mode pins it read-only",
            shown(g),
            shown(&g.join("commondir"))
        )));
    }
    if let Some(f) = git.too_large.first() {
        return Err(Error::new(format!(
            "{} is larger than {} MiB, the most cordon reads of a file git reads as config or follows, so it cannot tell what git would run from the rest; shrink it (or remove what it does not need)",
            shown(f),
            git::MAX_READ >> 20
        )));
    }
    if let Some(a) = git.unanchored.first() {
        return Err(Error::new(format!(
            "--git-commits: {} is a symlink or no directory, so it cannot be held in place (a command that removes it makes the gitdir no repository, and git then takes the worktree itself for one); make it a plain directory, or run without --git-commits",
            shown(a)
        )));
    }
    Ok(())
}

/// A writable root inside a directory git reads or runs from that lies
/// outside every other root (`--allow-write G/hooks` for the gitdir `G` of
/// the working directory's repository, kept in `/tmp` by `git init
/// --separate-git-dir`): inside a root the same grant is refused as a
/// grant on a protected path, so outside one it is too (adversarial pass
/// 20). A pinned directory that holds the working directory is another
/// matter: the workspace itself lies inside it (a common directory of
/// `..`), and its pins inside are held instead.
fn refuse_grants_in_git_pins(writable: &[WritableRoot], git: &GitPlan, cwd: &Path) -> Result<()> {
    let outside = git
        .pins
        .iter()
        .filter(|p| p.root.is_none() && p.exists && p.is_dir && !p.link)
        .filter(|p| !cwd.starts_with(&p.path));
    for p in outside {
        if let Some(w) = writable.iter().find(|w| w.root.path.starts_with(&p.path)) {
            return Err(Error::new(format!(
                "writable root {} lies in {}, which git reads or runs from ({}): a grant does not lift a protection; pass --unprotect .git to make it writable (what git later runs from it becomes writable too), or approve the command through `cordon rerun` (docs/rerun.md: approving a git commit)",
                shown(&w.root.path),
                shown(&p.path),
                p.why
            )));
        }
    }
    Ok(())
}

/// Adds what git reads as config or runs later (`git.rs`): nested and
/// submodule `.git`s, worktree gitdirs, hooks directories and the programs
/// the repositories' config names, each to the writable root that holds it.
/// Part of protecting `.git`: a sandbox that may write `hooks/pre-commit`
/// when `core.hooksPath = hooks` may as well write `.git/hooks`.
fn protect_git(
    writable: &mut [WritableRoot],
    env: &Env,
    cwd: &Path,
    scan: bool,
    commits: bool,
) -> Result<()> {
    let roots: Vec<PathBuf> = writable.iter().map(|w| w.root.path.clone()).collect();
    // The caller's PATH: the gits the user runs later, outside the sandbox.
    let path = env
        .vars
        .iter()
        .find(|(k, _)| k == "PATH")
        .map(|(_, v)| v.clone());
    let path = path.or_else(|| std::env::var_os("PATH"));
    let genv = GitEnv {
        home: env.home.clone().map(PathBuf::from),
        ..GitEnv::from_process_with_path(path.as_deref())
    };
    let opts = GitOptions {
        scan: if scan { GitScan::Full } else { GitScan::Off },
        cwd: Some(cwd.to_path_buf()),
        commits,
    };
    // The roots' own descriptors: their `.git` is looked up relative to
    // them rather than by walking each whole path again.
    let held: Vec<Option<&Handle>> = writable
        .iter()
        .map(|w| w.root.is_dir.then_some(&w.root.handle))
        .collect();
    let git = git::plan_git_held(&roots, &held, &genv, &opts);
    refuse_git_plan(&git)?;
    refuse_grants_in_git_pins(writable, &git, cwd)?;
    for a in &git.anchors {
        if let Some(w) = writable
            .iter_mut()
            .filter(|w| a.starts_with(&w.root.path))
            .max_by_key(|w| w.root.path.as_os_str().len())
        {
            w.anchors.push(a.clone());
        }
    }
    let by_root = git.pins_by_root();
    for w in writable.iter_mut() {
        let Some(pins) = by_root.get(w.root.path.as_os_str()) else {
            continue;
        };
        // What the protected names already hold: a handful of entries, so
        // a scan, not a set built per root (10,000 roots, 10,000 sets).
        let named = w.protected.len();
        let root = w.root.path.clone();
        for pin in pins {
            let known = w.protected[..named]
                .iter()
                .any(|p| p.path == pin.path || p.target == pin.path);
            if known {
                continue;
            }
            w.protected.push(git_pin_entry(pin, pins, &root));
        }
    }
    Ok(())
}

/// The protected entry for a pin of the git plan in the writable `root`
/// (`pins`: all of that root's).
fn git_pin_entry(pin: &git::Pin, pins: &[&git::Pin], root: &Path) -> Protected {
    let name = pin.path.strip_prefix(root).map_or_else(
        |_| pin.path.display().to_string(),
        |r| r.display().to_string(),
    );
    let (via, target) = match (&pin.link, &pin.leads_to) {
        (true, Some(to)) => (ProtectedVia::Symlink, to.clone()),
        _ => (ProtectedVia::Git, pin.path.clone()),
    };
    // A link is protected at its target: it exists when that does
    // (a dangling nested `.git -> gd` is no bind of a missing `gd`,
    // which failed every `--scan-nested-git` run); else the target
    // is held from its first missing component.
    let exists = if via == ProtectedVia::Symlink {
        pins.iter()
            .find(|p| p.path == target)
            .map_or_else(|| target.exists(), |p| p.exists)
    } else {
        pin.exists
    };
    // One look at it: its identity, and whether it is another run's
    // placeholder (runs within its grace second). That is no entry of the
    // user's: bound as one, the first run's sentinel removed it from under
    // this run's bind and the command made the name (adversarial pass 15,
    // `--git-commits` back to back); held as missing, it is taken over.
    let looked = exists.then(|| std::fs::metadata(&target));
    // Gone since the planner saw it: another run's placeholder its
    // sentinel removed meanwhile (back-to-back runs in a root whose `HEAD`
    // is held); bound as existing, the namespace failed with ENOENT.
    let gone = matches!(&looked, Some(Err(e)) if e.kind() == std::io::ErrorKind::NotFound);
    let meta = looked.and_then(|r| r.ok());
    let placeholder = via == ProtectedVia::Git
        && meta.as_ref().is_some_and(|m| {
            use std::os::unix::fs::MetadataExt;
            fs::is_placeholder(m.mode(), m.size() as i64)
        });
    let exists = exists && !placeholder && !gone;
    let missing_from = match (exists, via) {
        (true, _) => None,
        (false, ProtectedVia::Symlink) => {
            let rel = target.strip_prefix("/").unwrap_or(&target);
            Some(first_missing(Path::new("/"), rel))
        }
        (false, _) => Some(first_missing(root, &name)),
    };
    let id = meta.filter(|_| exists).map(|m| {
        use std::os::unix::fs::MetadataExt;
        FileId {
            dev: m.dev(),
            ino: m.ino(),
        }
    });
    Protected {
        missing_from,
        id,
        name,
        path: pin.path.clone(),
        target,
        exists,
        via,
        why: Some(pin.why.clone()),
        dir_hint: pin.is_dir,
    }
}

/// The plan's roots as grants that may lift a deny entry: writable roots
/// (and the roots merged into them) and restricted readable paths.
fn lifting_grants<'a>(writable: &'a [WritableRoot], read: &'a ReadScope) -> Vec<deny::Grant<'a>> {
    static NONE: std::sync::OnceLock<Handle> = std::sync::OnceLock::new();
    let none = NONE.get_or_init(Handle::default);
    let mut out = Vec::new();
    for w in writable {
        let r = &w.root;
        out.push(deny::Grant {
            path: &r.path,
            is_dir: r.is_dir,
            handle: &r.handle,
            origin: &r.origin,
        });
        // Merged roots keep no origin of their own: counted as named, so
        // `-w ~/.ssh` inside a writable `:cwd` still lifts.
        out.extend(r.nested.iter().map(|n| deny::Grant {
            path: n,
            is_dir: true,
            handle: none,
            origin: "a writable root merged into another",
        }));
    }
    if let ReadScope::Restricted { roots, .. } = read {
        out.extend(
            roots
                .iter()
                .filter(|r| r.path.as_os_str() != "/")
                .map(|r| deny::Grant {
                    path: &r.path,
                    is_dir: r.is_dir,
                    handle: &r.handle,
                    origin: &r.origin,
                }),
        );
    }
    out
}

/// Resolves `policy` against `cwd` (must be absolute) and `env`.
pub fn resolve(policy: &Policy, cwd: &Path, env: &Env) -> Result<Plan> {
    let cwd_dir = working_dir(cwd)?;
    let cwd = cwd_dir.path.clone();
    let cwd_handle = cwd_dir.handle.clone();
    let sandboxed = !policy.is_full_access();
    refuse_contradictions(policy)?;

    // Every root is held open until exec, and a writable root's snapshot
    // takes another descriptor while the namespace is set up.
    crate::fdlimit::reserve(2 * (policy.write.len() + policy.read.len()));
    let mut writable = writable_roots(policy, &cwd, env)?;
    refuse_planted_links(&writable, &cwd)?;
    protect_home(&mut writable, &policy.protected, env);
    protect_links::rehome_links(&mut writable);
    if policy.protected.iter().any(|n| n == ".git") {
        protect_git(
            &mut writable,
            env,
            &cwd,
            policy.scan_nested_git,
            policy.git_commits,
        )?;
    }
    refuse_grants_on_protected(&writable)?;

    let read = read_scope(policy, &cwd, env)?;
    let devices = devices(policy)?;
    let deny = if sandboxed {
        deny::resolve(policy, &cwd, env, &lifting_grants(&writable, &read))?
    } else {
        DenyPlan::default()
    };
    let slash = match (&read, sandboxed) {
        (ReadScope::All, true) => fs::open(Path::new("/")).map(|(_, h)| h).unwrap_or_default(),
        _ => Handle::default(),
    };

    let stdio_files = if sandboxed {
        let roots: Vec<&Path> = writable.iter().map(|w| w.root.path.as_path()).collect();
        stdio_files::needed(&env.stdio_files, read == ReadScope::All, &roots)
    } else {
        Vec::new()
    };
    Ok(Plan {
        policy_name: policy.name.clone(),
        cwd,
        env: self::env::compute(&policy.env, &env.vars),
        cwd_handle,
        slash,
        sandboxed,
        read,
        writable,
        devices,
        terminals: env.terminals.clone(),
        stdio_files,
        network: policy.network.clone(),
        protected_names: policy.protected.clone(),
        deny,
        macos: policy.macos.clone(),
        kill_leftovers: true,
        skill: None,
    })
}

/// The working directory, resolved; refused unless it is a directory.
fn working_dir(cwd: &Path) -> Result<fs::Resolved> {
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
    Ok(cwd_dir)
}

/// Refuses a policy that contradicts itself: a bad `[network]`, or
/// `:root` writable with reads restricted.
fn refuse_contradictions(policy: &Policy) -> Result<()> {
    policy
        .network
        .check()
        .map_err(|e| Error::new(format!("{}: {e}", policy.name)))?;
    if policy.writes(&PathSpec::Root) && policy.restricts_reads() {
        return Err(Error::new(format!(
            "{} writes :root, which makes every path readable, so its read list cannot hold; drop :root from the write list or the read restriction",
            policy.name
        )));
    }
    Ok(())
}

/// The writable roots with the protected names found in each, nested ones
/// merged into the root that holds them.
fn writable_roots(policy: &Policy, cwd: &Path, env: &Env) -> Result<Vec<WritableRoot>> {
    let mut writable = Vec::with_capacity(policy.write.len());
    for g in &policy.write {
        for (root, resolved) in roots_for(&g.spec, &g.origin, cwd, env, "writable root")? {
            let protected = protected_in(&resolved, &policy.protected, policy.git_commits);
            writable.push(WritableRoot {
                root,
                protected,
                anchors: Vec::new(),
            });
        }
    }
    Ok(merge_nested(
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
    ))
}

/// `ReadScope::All`, or the readable paths merged, with the `:minimal`
/// runtime paths when asked for.
fn read_scope(policy: &Policy, cwd: &Path, env: &Env) -> Result<ReadScope> {
    if !policy.restricts_reads() {
        return Ok(ReadScope::All);
    }
    let minimal = policy.read.iter().any(|g| g.spec == PathSpec::Minimal);
    let mut roots = Vec::new();
    for g in &policy.read {
        for (root, _) in roots_for(&g.spec, &g.origin, cwd, env, "readable path")? {
            roots.push(root);
        }
    }
    Ok(ReadScope::Restricted {
        minimal,
        roots: merge_nested(roots, |r| r, |_, _| {}),
        runtime: if minimal {
            held(&LINUX_MINIMAL)
        } else {
            Vec::new()
        },
    })
}

/// The always-usable devices, then the policy's own, each opened; one that
/// cannot be opened is refused.
fn devices(policy: &Policy) -> Result<Vec<Held>> {
    let mut devices = held(&DEVICES);
    for d in &policy.devices {
        let path = PathBuf::from(d);
        if devices.iter().any(|h| h.path == path) {
            continue;
        }
        let (is_dir, handle) = fs::open(&path).map_err(|e| {
            Error::new(format!(
                "device {d} (granted by the policy) cannot be opened ({e}); remove it or check the path"
            ))
        })?;
        devices.push(Held {
            path,
            is_dir,
            handle,
        });
    }
    Ok(devices)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A pin the planner found that is gone a moment later (another run's
    /// placeholder, removed by its sentinel between the look and the
    /// check): held as missing, by a placeholder of this run's, not bound
    /// as the user's entry (the namespace failed with ENOENT: back-to-back
    /// runs of 1,000 roots, 3 in 60).
    #[test]
    fn a_git_pin_gone_since_planning_is_held_as_missing() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        let pin = git::Pin {
            path: root.join("HEAD"),
            exists: true,
            is_dir: true,
            link: false,
            leads_to: None,
            root: Some(root.clone()),
            why: "test".into(),
        };
        let p = git_pin_entry(&pin, &[&pin], &root);
        assert!(!p.exists, "{p:?}");
        assert_eq!(p.missing_from.as_deref(), Some(root.join("HEAD").as_path()));
    }
}
