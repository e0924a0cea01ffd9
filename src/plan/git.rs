//! The git files a sandboxed command must not be able to write, because git
//! reads them as config or runs them *after* the sandbox is gone: the
//! user's next `git commit` outside cordon runs whatever hook, fsmonitor,
//! filter or pager the repository's config names. Pure planning: reads the
//! filesystem, changes nothing, returns [`Pin`]s for the mount compile.
//!
//! Two tiers (docs/git.md has the costs):
//! 1. Always on, a handful of system calls for a normal repository: the
//!    repository at a writable root (its `.git` directory or pointer file,
//!    the gitdir and commondir it leads to), the repository around the root,
//!    its submodules (`<commondir>/modules/**` and `.gitmodules`), its
//!    linked worktrees (`<commondir>/worktrees/*/gitdir`), and for each of
//!    them every file their config (system, global, local, worktree, with
//!    includes) makes git read as config or run.
//! 2. Opt-in ([`Scan::Full`]): every `.git` anywhere under the root, for
//!    nested clones tier 1 cannot know about.
//!
//! Symlinks are followed the way the kernel follows them, and each one met
//! inside a writable root is itself a pin (`link`), since re-pointing it
//! would move the pinned name off its target.

use std::collections::{HashMap, HashSet, VecDeque};
use std::ffi::{OsStr, OsString};
use std::io;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Component, Path, PathBuf};
use std::rc::Rc;
use std::time::{Duration, Instant};

use serde::Serialize;

use super::gitconfig::{self, Context, Entry, FileRead, Head, Load, Scope, Setting, Source, World};
use super::host::{self, Fast};
use super::shown;

/// Whether to look for nested repositories everywhere under each root.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Scan {
    /// Tier 1 only: the repository at (and around) the root, its
    /// submodules and worktrees.
    #[default]
    Off,
    /// Also every `.git` at any depth (a directory walk of the whole root).
    Full,
}

#[derive(Debug, Clone, Default)]
pub struct GitOptions {
    pub scan: Scan,
    /// The directory commands run in. Git run there discovers its
    /// repository by walking up from it, which inside a wider root (a
    /// project under `/tmp` or `$HOME`) is not the root's own `.git`.
    pub cwd: Option<PathBuf>,
    /// Git mode (`--git-commits`): a repository's gitdir stays writable
    /// (objects, refs, index, logs, HEAD) and only what git reads as
    /// config, runs, or follows to another gitdir is pinned in it
    /// (`COMMIT_MODE_PINS`).
    pub commits: bool,
}

/// What git mode pins inside a writable gitdir, and why. Missing
/// directories are held by placeholders (an empty one is what git
/// expects); a missing `commondir` cannot be (git refuses an empty one),
/// so planning reports it ([`GitPlan::missing_commondir`]).
pub const COMMIT_MODE_PINS: [(&str, bool, &str); 10] = [
    (
        "HEAD",
        false,
        "garbage there makes the gitdir no repository, and git then takes the worktree itself for one",
    ),
    ("config", false, "git reads it as config"),
    ("config.worktree", false, "git reads it as config"),
    ("hooks", true, "git runs what is in it"),
    (
        "info",
        true,
        "attributes choose filter drivers; exclude, sparse-checkout and grafts steer git",
    ),
    (
        "modules",
        true,
        "submodule gitdirs, with their own config and hooks",
    ),
    (
        "commondir",
        false,
        "it moves the repository's config and hooks to another directory",
    ),
    ("gitdir", false, "a worktree pointer"),
    (
        "rebase-merge",
        true,
        "an interactive rebase's todo list holds exec lines",
    ),
    ("sequencer", true, "a cherry-pick or revert todo list"),
];

/// The environment git will run in later, which decides its global and
/// system config. Passed in so planning is reproducible.
#[derive(Debug, Clone, Default)]
pub struct GitEnv {
    pub home: Option<PathBuf>,
    /// `$XDG_CONFIG_HOME` (git reads `$XDG_CONFIG_HOME/git/config`).
    pub xdg_config_home: Option<PathBuf>,
    /// `$GIT_CONFIG_GLOBAL`: replaces both global files; empty means none.
    pub config_global: Option<PathBuf>,
    /// The system files: `$GIT_CONFIG_SYSTEM`, else every one a git the
    /// user may run reads (`system_configs`); none with
    /// `$GIT_CONFIG_NOSYSTEM`.
    pub config_system: Vec<SystemConfig>,
    /// `GIT_CONFIG_COUNT` / `GIT_CONFIG_KEY_<n>` / `GIT_CONFIG_VALUE_<n>`.
    pub config_command: Vec<(Vec<u8>, Vec<u8>)>,
}

impl GitEnv {
    /// The process's environment, `$PATH` included.
    pub fn from_process() -> GitEnv {
        GitEnv::from_process_with_path(std::env::var_os("PATH").as_deref())
    }

    /// The process's environment, but the system configs of the gits on
    /// `path` (the `$PATH` the user runs git with later).
    pub fn from_process_with_path(path: Option<&OsStr>) -> GitEnv {
        let var = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty());
        let no_system = var("GIT_CONFIG_NOSYSTEM")
            .is_some_and(|v| gitconfig::parse_bool(Some(v.as_bytes())).unwrap_or(true));
        let config_system = match var("GIT_CONFIG_SYSTEM") {
            _ if no_system => Vec::new(),
            Some(s) => vec![SystemConfig {
                path: s.into(),
                bin: None,
            }],
            None => system_configs(path),
        };
        let count = var("GIT_CONFIG_COUNT")
            .and_then(|c| c.to_str().and_then(|c| c.parse::<usize>().ok()))
            .unwrap_or(0);
        let config_command = (0..count.min(1000))
            .filter_map(|i| {
                let k = var(&format!("GIT_CONFIG_KEY_{i}"))?;
                let v = std::env::var_os(format!("GIT_CONFIG_VALUE_{i}")).unwrap_or_default();
                Some((k.into_vec(), v.into_vec()))
            })
            .collect();
        GitEnv {
            home: var("HOME").map(PathBuf::from),
            xdg_config_home: var("XDG_CONFIG_HOME").map(PathBuf::from),
            config_global: std::env::var_os("GIT_CONFIG_GLOBAL").map(PathBuf::from),
            config_system,
            config_command,
        }
    }

    /// The system and global config files, in git's order.
    fn sources(&self) -> Vec<Source> {
        let mut out = Vec::new();
        for s in &self.config_system {
            out.push(Source {
                path: s.path.clone(),
                scope: Scope::System,
            });
        }
        match &self.config_global {
            Some(g) if g.as_os_str().is_empty() => {}
            Some(g) => out.push(Source {
                path: g.clone(),
                scope: Scope::Global,
            }),
            None => {
                let xdg = match (&self.xdg_config_home, &self.home) {
                    (Some(x), _) => Some(x.join("git/config")),
                    (None, Some(h)) => Some(h.join(".config/git/config")),
                    _ => None,
                };
                for path in xdg
                    .into_iter()
                    .chain(self.home.as_ref().map(|h| h.join(".gitconfig")))
                {
                    out.push(Source {
                        path,
                        scope: Scope::Global,
                    });
                }
            }
        }
        out
    }
}

/// A system config file git may read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SystemConfig {
    pub path: PathBuf,
    /// The `$PATH` directory whose git reads it; `None` for
    /// `/etc/gitconfig` and `$GIT_CONFIG_SYSTEM`.
    pub bin: Option<PathBuf>,
}

/// The system configs of the gits on `path`: git's is compiled in as
/// `$(sysconfdir)/gitconfig`, `/etc` for prefix `/usr`, else
/// `$(prefix)/etc` (`/usr/local/etc/gitconfig`,
/// `/opt/homebrew/etc/gitconfig`). So `/etc/gitconfig`, and for each
/// absolute `D/bin` on `path` (its git's likely prefix `D`),
/// `D/etc/gitconfig`, taken lexically: no git is run or looked at (this is
/// on every command's path), and a missing file costs one failed open.
pub fn system_configs(path: Option<&OsStr>) -> Vec<SystemConfig> {
    let mut out = vec![SystemConfig {
        path: "/etc/gitconfig".into(),
        bin: None,
    }];
    let dirs = path.map(|p| p.as_bytes().split(|&c| c == b':'));
    for d in dirs
        .into_iter()
        .flatten()
        .map(|d| Path::new(OsStr::from_bytes(d)))
    {
        // A relative entry is relative to wherever git runs: no fixed prefix.
        let Some(prefix) = d.parent().filter(|_| d.is_absolute()) else {
            continue;
        };
        let usr = Path::new("/usr");
        if d.file_name() != Some(OsStr::new("bin")) || prefix == usr || prefix == Path::new("/") {
            continue;
        }
        let path = prefix.join("etc/gitconfig");
        if !out.iter().any(|s| s.path == path) {
            out.push(SystemConfig {
                path,
                bin: Some(d.to_path_buf()),
            });
        }
    }
    out
}

/// One path to keep read-only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Pin {
    /// Canonical (symlinks followed), or for `link` the symlink's own path.
    pub path: PathBuf,
    /// `false`: git would read or run it once it appears, so a placeholder
    /// must hold the name.
    pub exists: bool,
    /// For a missing path: what git expects there (a hooks directory, or a
    /// file: config, program, pointer), so a placeholder can be made.
    pub is_dir: bool,
    /// The symlink itself is pinned (it leads to another pin).
    pub link: bool,
    /// For a `link`: the pin it leads to.
    pub leads_to: Option<PathBuf>,
    /// The writable root holding `path`; `None` when no writable root does
    /// (Landlock already denies writes there; kept for `explain`).
    pub root: Option<PathBuf>,
    /// Why, precisely: the config key and line, or the repository layout.
    pub why: String,
}

/// A repository whose files were looked at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Repo {
    pub git_dir: PathBuf,
    pub common_dir: PathBuf,
    /// Top of its worktree; `None` for a bare repository.
    pub worktree: Option<PathBuf>,
    /// How it was found.
    pub found: String,
}

/// What the full scan of one root did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScanStats {
    pub root: PathBuf,
    pub dirs: u64,
    pub entries: u64,
    /// Directories holding a `.git` (not counting the root).
    pub found: u64,
    /// Directories that could not be read, or were too deep.
    pub skipped: u64,
    #[serde(skip)]
    pub elapsed: Duration,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct GitPlan {
    pub repos: Vec<Repo>,
    pub pins: Vec<Pin>,
    /// What could not be resolved (a config line git would stop at, a
    /// program named through a shell variable, an unreadable directory).
    pub notes: Vec<String>,
    pub scans: Vec<ScanStats>,
    /// Git mode: writable gitdirs with no `commondir` file, which a command
    /// could plant to move the repository's config elsewhere.
    pub missing_commondir: Vec<PathBuf>,
    /// Git mode: directories that stay writable but must not be renamed or
    /// removed (`COMMIT_MODE_ANCHORS`), to become mount points.
    pub anchors: Vec<PathBuf>,
    /// Git mode: an entry of `COMMIT_MODE_ANCHORS` that is a symlink or
    /// not a directory, which no mount point can hold (git mode refuses).
    pub unanchored: Vec<PathBuf>,
    /// Files git reads that are larger than cordon reads: what git finds
    /// past that cannot be pinned, so the run is refused.
    pub too_large: Vec<PathBuf>,
}

/// What git mode keeps in place in a writable gitdir (mount points, their
/// contents writable): git's `is_git_directory` wants `HEAD` (pinned
/// read-only), `objects` and `refs`; with one gone, the gitdir is no
/// repository and git's discovery takes the worktree directory itself for a
/// bare one, whose `config` the command wrote.
pub const COMMIT_MODE_ANCHORS: [&str; 2] = ["objects", "refs"];

impl GitPlan {
    /// The pins inside one writable root.
    pub fn pins_in<'a>(&'a self, root: &'a Path) -> impl Iterator<Item = &'a Pin> + 'a {
        self.pins
            .iter()
            .filter(move |p| p.root.as_deref() == Some(root))
    }

    /// The pins of every writable root, grouped in one pass (`pins_in` for
    /// each of many roots would be quadratic).
    /// Keyed by the root's bytes (one hash of them, not Path's hash of
    /// each component).
    pub fn pins_by_root(&self) -> HashMap<&OsStr, Vec<&Pin>> {
        let mut by: HashMap<&OsStr, Vec<&Pin>> = HashMap::with_capacity(self.repos.len());
        for p in &self.pins {
            if let Some(r) = &p.root {
                by.entry(r.as_os_str()).or_default().push(p);
            }
        }
        by
    }
}

/// Plans the git pins for writable `roots` (canonical paths).
pub fn plan_git(roots: &[PathBuf], env: &GitEnv, opts: &GitOptions) -> GitPlan {
    plan_git_held(roots, &[], env, opts)
}

/// [`plan_git`] with the handles planning holds on the roots (a root's
/// `.git` and `.gitmodules` are then looked up relative to it: one
/// component, not the whole path walked again). `held[i]` is `roots[i]`'s
/// (a directory's); roots without one are looked up by path.
pub fn plan_git_held<'a>(
    roots: &'a [PathBuf],
    held: &[Option<&'a super::fs::Handle>],
    env: &'a GitEnv,
    opts: &GitOptions,
) -> GitPlan {
    let mut p = Planner {
        above_roots: roots
            .iter()
            .flat_map(|r| ancestors(r.as_os_str()).skip(1))
            .collect(),
        env,
        global: env.sources(),
        command: command_entries(env),
        fs: Fs::default(),
        visited: HashSet::new(),
        queue: VecDeque::new(),
        plan: GitPlan::default(),
        pin_at: HashMap::new(),
        link_pin_at: HashMap::new(),
        commits: opts.commits,
    };
    // Each root's repository fills about this many entries: growing the
    // tables instead rehashes every key several times over.
    let n = roots.len();
    p.fs.probes.reserve(8 * n);
    p.fs.reads.reserve(4 * n);
    p.fs.lists.reserve(4 * n);
    p.visited.reserve(n);
    p.pin_at.reserve(2 * n);
    p.fs.held.reserve(n);
    for (i, root) in roots.iter().enumerate() {
        let fd = held.get(i).copied().flatten().map(|h| &h.fd);
        p.fs.held.insert(root.as_os_str(), fd);
    }
    for root in roots {
        p.root(root, opts);
    }
    if let Some(cwd) = &opts.cwd
        && !roots.contains(cwd)
    {
        p.discover(cwd);
    }
    p.global_config();
    p.finish()
}

fn command_entries(env: &GitEnv) -> Vec<Entry> {
    env.config_command
        .iter()
        .filter_map(|(k, v)| {
            let (section, subsection, key) = gitconfig::parse_key(k)?;
            Some(Entry {
                section,
                subsection,
                key,
                value: Some(v.clone()),
                line: 0,
            })
        })
        .collect()
}

// ---------------------------------------------------------------------------
// Filesystem: every look-up follows symlinks the way the kernel does and
// reports each one it crossed.

/// Symlinks the kernel follows in one look-up before ELOOP.
const MAX_LINKS: usize = 40;
/// Config files larger than this are not read past it (git has no limit,
/// but a planted multi-gigabyte file must not stall every `cordon run`);
/// planning reports them ([`GitPlan::too_large`]) and the run is refused.
pub const MAX_READ: u64 = 16 << 20;
/// Bounds on adversarial layouts: repositories visited, and the depth of
/// `modules/` nesting.
const MAX_REPOS: usize = 10_000;
const MAX_MODULE_DEPTH: usize = 16;
/// Directory depth of the full scan (each level holds one descriptor).
pub(super) const MAX_SCAN_DEPTH: usize = 256;

#[derive(Debug, Clone, PartialEq, Eq)]
struct Found {
    /// Symlink-free up to the first missing component, then as spelled.
    path: PathBuf,
    exists: bool,
    is_dir: bool,
    /// Symlinks crossed, each at its own (resolved-parent) path.
    links: Vec<PathBuf>,
    /// `x/../y` with `x` missing: the kernel fails at `x`, but once `x`
    /// is there as a directory (the placeholder that holds it) the path
    /// leads on: `y`, spelled from `x`'s canonical parent.
    then: Option<PathBuf>,
    /// Existing directories a symlink's text on the way steps into and
    /// back out of (`x` in `lnk -> x/../store`): held with the links.
    stepped: Vec<PathBuf>,
}

/// What lives at a name, from `d_type` (or `lstat` when it says unknown).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Dir,
    File,
    Link,
    Other,
}

#[derive(Default)]
struct Fs<'a> {
    /// Keyed by the path's bytes: hashing a `Path` walks its components,
    /// several times the cost of hashing its bytes, and planning builds its
    /// paths normalized (a differently spelled path only misses the cache).
    probes: HashMap<OsString, Rc<Found>>,
    reads: HashMap<OsString, (Rc<Found>, Load)>,
    /// Listings, since every linked worktree of a repository lists the
    /// same `hooks`, `modules` and `worktrees` of their common directory.
    lists: HashMap<OsString, Rc<Listing>>,
    /// Reused for every read and listing of one plan (allocated and
    /// zeroed once, not per file).
    buf: Vec<u8>,
    /// Files read that are over [`MAX_READ`].
    too_large: Vec<PathBuf>,
    /// The writable roots, with the descriptor of each the plan holds (no
    /// new one), and the last few directories git reads in, opened while
    /// their entries are looked up (a bounded number: 10,000 repositories
    /// must not hold 10,000 more descriptors). An entry of one of them is
    /// asked of the descriptor, one component with no symlink followed,
    /// which is the absolute look-up's last step without the walk there.
    held: HashMap<&'a OsStr, Option<&'a host::Fd>>,
    open: VecDeque<Held>,
}

/// A directory [`Fs`] opened, with its entries' names when one short
/// listing read them all: a name not among them is missing, with no
/// look-up of its own (a gitdir has a dozen entries; git reads several
/// that most repositories do not have).
struct Held {
    path: PathBuf,
    fd: host::Fd,
    /// Each name followed by a NUL (which no name holds).
    names: Option<Vec<u8>>,
    /// Whether an entry may be a symlink (unknown without the listing).
    links: bool,
}

/// Where [`Fs::at`] finds an entry of a directory it holds.
enum At<'f> {
    /// Not in the directory's listing.
    Missing,
    /// To be asked of the directory's descriptor, by name.
    In(&'f host::Fd, &'f OsStr),
}

/// How many directories [`Fs`] keeps open: a gitdir and its common
/// directory, and a couple more before they are looked at again.
const OPEN_DIRS: usize = 4;

/// Whether `path` steps back with `..` (where a missing component changes
/// what the lexical form would say).
fn has_parent_dir(path: &Path) -> bool {
    path.components().any(|c| c == Component::ParentDir)
}

/// `path` and every directory above it, by bytes (`/a/b`, `/a`, `/`):
/// `Path::ancestors` for the normalized absolute paths planning builds,
/// without parsing components. A trailing `/` is dropped first.
fn ancestors(path: &OsStr) -> impl Iterator<Item = &OsStr> {
    let mut b = path.as_bytes();
    while b.len() > 1 && b.ends_with(b"/") {
        b = &b[..b.len() - 1];
    }
    let mut next = Some(b);
    std::iter::from_fn(move || {
        let cur = next?;
        next = match cur.iter().rposition(|&c| c == b'/') {
            Some(0) if cur.len() > 1 => Some(&cur[..1]),
            Some(i) if i > 0 => Some(&cur[..i]),
            _ => None,
        };
        Some(OsStr::from_bytes(cur))
    })
}

/// `/a/./b/../c` -> `/a/c`: right when no symlink is on the way and every
/// component before a `..` exists.
fn lexical(path: &Path) -> PathBuf {
    let mut out = PathBuf::from("/");
    for c in path.components() {
        match c {
            Component::Normal(n) => out.push(n),
            Component::ParentDir => {
                out.pop();
            }
            _ => {}
        }
    }
    out
}

/// The names a walk steps through (`..` kept, `.` and `/` dropped): for
/// both walks by hand, the git planner's and `lookup`'s.
pub(super) fn steps(path: &Path) -> impl Iterator<Item = OsString> + '_ {
    path.components().filter_map(|c| match c {
        Component::Normal(n) => Some(n.to_os_string()),
        Component::ParentDir => Some("..".into()),
        _ => None,
    })
}

/// The kernel's walk done by hand (`lookup::walk`), for paths that cross
/// symlinks or when `openat2` is unavailable: it stops at a missing
/// directory a `..` steps back out of, and says where the path leads once
/// a placeholder holds it.
fn slow_walk(path: &Path) -> Found {
    let w = super::lookup::walk(path, super::lookup::PastMissing::Stop);
    Found {
        path: w.resolved,
        exists: w.exists,
        is_dir: w.is_dir,
        links: w.links.into_iter().map(|(at, _)| at).collect(),
        then: w.then,
        stepped: w.stepped,
    }
}

/// First read size: config files are small, so one `read` usually gets
/// all of it (a short read of a regular file is its end).
const FIRST_READ: usize = 16 * 1024;

/// Reads to the end (capped at MAX_READ) without an `fstat`, into `buf`.
fn read_capped(mut file: std::fs::File, buf: &mut Vec<u8>) -> io::Result<Rc<[u8]>> {
    use std::io::Read;
    if buf.len() < FIRST_READ {
        buf.resize(FIRST_READ, 0);
    }
    let mut n = 0;
    loop {
        match file.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
        if n < buf.len() {
            break;
        }
        if buf.len() as u64 >= MAX_READ {
            // Full at the cap: one byte more means git would read past
            // what cordon saw (a setting there would go unpinned).
            let mut more = [0u8; 1];
            loop {
                match file.read(&mut more) {
                    Ok(0) => break,
                    Ok(_) => return Err(io::Error::from_raw_os_error(libc::EFBIG)),
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(e),
                }
            }
            break;
        }
        buf.resize((buf.len() * 4).min(MAX_READ as usize), 0);
    }
    Ok(Rc::from(&buf[..n]))
}

/// What [`Load::Failed`] says of a file over [`MAX_READ`], which planning
/// refuses ([`GitPlan::too_large`]) rather than pin only what it read.
const TOO_LARGE: &str = "larger than cordon reads";

/// A read error as a [`Load`].
fn failed(e: &io::Error) -> Load {
    if e.raw_os_error() == Some(libc::EFBIG) {
        Load::Failed(TOO_LARGE.into())
    } else {
        Load::Failed(e.to_string())
    }
}

impl<'a> Fs<'a> {
    /// The directory held open that `path` is a direct entry of, and the
    /// entry's name: only for a plain name (not `.`, `..`) after the exact
    /// spelling of a held directory, so `path` is that canonical directory
    /// plus one component, normalized as written.
    fn at<'f>(&'f self, path: &'f Path) -> Option<At<'f>> {
        if self.held.is_empty() && self.open.is_empty() {
            return None;
        }
        let b = path.as_os_str().as_bytes();
        let i = b.iter().rposition(|&c| c == b'/')?;
        let (dir, name) = (&b[..i], &b[i + 1..]);
        if dir.is_empty() || name.is_empty() || name == b"." || name == b".." {
            return None;
        }
        let (dir, name) = (OsStr::from_bytes(dir), OsStr::from_bytes(name));
        let Some(h) = self.open.iter().find(|h| h.path.as_os_str() == dir) else {
            let fd = self.held.get(dir).copied().flatten()?;
            return Some(At::In(fd, name));
        };
        match &h.names {
            Some(names) if !names.split(|&c| c == 0).any(|n| n == name.as_bytes()) => {
                Some(At::Missing)
            }
            _ => Some(At::In(&h.fd, name)),
        }
    }

    /// Keeps `fd`, the directory `path`, open for [`Self::at`] (with its
    /// names, when a short listing reads them all), closing the oldest one
    /// kept when there are [`OPEN_DIRS`].
    fn keep_open(&mut self, path: &Path, fd: host::Fd) {
        if self.open.iter().any(|h| h.path == path) {
            return;
        }
        if self.open.len() == OPEN_DIRS {
            self.open.pop_front();
        }
        let (names, links) = match host::names(&fd, &mut self.buf) {
            Some((names, links)) => (Some(names), links),
            None => (None, true),
        };
        self.open.push_back(Held {
            path: path.to_path_buf(),
            fd,
            names,
            links,
        });
    }

    /// Whether the directory `dir` may hold a symlink: known from its short
    /// listing when [`Self::enter`] read one, else assumed.
    fn may_hold_links(&self, dir: &Path) -> bool {
        self.open
            .iter()
            .find(|h| h.path == dir)
            .is_none_or(|h| h.links)
    }

    /// Opens the directory `dir` (canonical, found with no symlink on the
    /// way) for the look-ups of its entries that follow.
    fn enter(&mut self, dir: &Path) {
        if self.open.iter().any(|h| h.path == dir) {
            return;
        }
        let fd = match self.at(dir) {
            Some(At::In(parent, name)) => match host::hold_dir_at(parent, name) {
                Fast::Open(fd) => Some(fd),
                _ => None,
            },
            Some(At::Missing) => None,
            None => host::hold_dir(dir),
        };
        if let Some(fd) = fd {
            self.keep_open(dir, fd);
        }
    }

    /// Where `path` leads (cached).
    fn probe(&mut self, path: &Path) -> Rc<Found> {
        if let Some(f) = self.probes.get(path.as_os_str()) {
            return f.clone();
        }
        let found = Rc::new(self.probe_uncached(path));
        self.probes.insert(path.into(), found.clone());
        found
    }

    /// Records `path` as a directory that resolves to `canonical` with no
    /// symlink on the way, learnt without asking the kernel (an entry of a
    /// listed canonical directory, `..` from a canonical one).
    fn known_dir(&mut self, path: &Path, canonical: PathBuf) {
        self.probes.entry(path.into()).or_insert_with(|| {
            Rc::new(Found {
                path: canonical,
                exists: true,
                is_dir: true,
                links: Vec::new(),
                then: None,
                stepped: Vec::new(),
            })
        });
    }

    /// Where `dir/name` leads, for a `dir` known to be canonical: one
    /// `lstat`, since only `name` itself can be a symlink.
    fn probe_child(&mut self, dir: &Path, name: &str) -> Rc<Found> {
        let path = dir.join(name);
        if let Some(f) = self.probes.get(path.as_os_str()) {
            return f.clone();
        }
        // Held open, a directory found here is opened (for the look-ups in
        // it that follow) by the same call that finds it; anything else is
        // asked with one `lstat` as below.
        let missing = || Some(Err(io::ErrorKind::NotFound.into()));
        let kind = match self.at(&path) {
            None => None,
            Some(At::Missing) => missing(),
            Some(At::In(d, n)) => match host::hold_dir_at(d, n) {
                Fast::Open(fd) => {
                    self.keep_open(&path, fd);
                    Some(Ok((false, true)))
                }
                // ENOENT, with no symlink on the way (it would be ELOOP).
                Fast::Missing => missing(),
                Fast::Slow | Fast::Walk => match self.at(&path) {
                    Some(At::In(d, n)) => host::lstat_at(d, n),
                    _ => None,
                },
            },
        };
        let kind = kind.unwrap_or_else(|| {
            std::fs::symlink_metadata(&path).map(|m| (m.file_type().is_symlink(), m.is_dir()))
        });
        let found = match kind {
            Ok((true, _)) => slow_walk(&path),
            Ok((false, is_dir)) => Found {
                is_dir,
                path: path.clone(),
                exists: true,
                links: Vec::new(),
                then: None,
                stepped: Vec::new(),
            },
            Err(e) if e.kind() == io::ErrorKind::NotFound => Found {
                path: path.clone(),
                exists: false,
                is_dir: false,
                links: Vec::new(),
                then: None,
                stepped: Vec::new(),
            },
            // ENOTDIR, EACCES...: the walk tells what the kernel will do.
            Err(_) => slow_walk(&path),
        };
        let found = Rc::new(found);
        self.probes.insert(path.into_os_string(), found.clone());
        found
    }

    fn probe_uncached(&self, path: &Path) -> Found {
        let (fast, at) = match self.at(path) {
            Some(At::In(d, n)) => (host::probe_at(d, n), true),
            Some(At::Missing) => (Fast::Missing, true),
            None => (host::probe(path), false),
        };
        match fast {
            Fast::Open(is_dir) => Found {
                // Relative to a held directory, `path` is normalized.
                path: if at {
                    path.to_path_buf()
                } else {
                    lexical(path)
                },
                exists: true,
                is_dir,
                links: Vec::new(),
                then: None,
                stepped: Vec::new(),
            },
            // ENOENT under RESOLVE_NO_SYMLINKS: no symlink before the
            // missing component (ELOOP would have come first). With `..`
            // after it, the walk finds which component that is.
            Fast::Missing if has_parent_dir(path) => slow_walk(path),
            Fast::Missing => Found {
                path: if at {
                    path.to_path_buf()
                } else {
                    lexical(path)
                },
                exists: false,
                is_dir: false,
                links: Vec::new(),
                then: None,
                stepped: Vec::new(),
            },
            Fast::Slow | Fast::Walk => slow_walk(path),
        }
    }

    /// Reads a config-like file (regular files only: a FIFO or a device
    /// planted where a config is expected must not block the plan).
    fn read(&mut self, path: &Path) -> (Rc<Found>, Load) {
        if let Some((f, l)) = self.reads.get(path.as_os_str()) {
            return (f.clone(), l.clone());
        }
        let (found, load) = self.read_uncached(path);
        if matches!(&load, Load::Failed(m) if m == TOO_LARGE) {
            self.too_large.push(found.path.clone());
        }
        let found = Rc::new(found);
        self.probes.insert(path.into(), found.clone());
        self.reads
            .insert(path.into(), (found.clone(), load.clone()));
        (found, load)
    }

    fn read_uncached(&mut self, path: &Path) -> (Found, Load) {
        let (fast, at) = match self.at(path) {
            Some(At::In(d, n)) => (host::open_read_at(d, n), true),
            Some(At::Missing) => (Fast::Missing, true),
            None => (host::open_read(path), false),
        };
        // Relative to a held directory, `path` is normalized.
        let spelled = |p: &Path| if at { p.to_path_buf() } else { lexical(p) };
        match fast {
            Fast::Open(file) => {
                // No fstat: a directory answers EISDIR, a FIFO (opened
                // non-blocking) an empty read, a device like /dev/null
                // is read like a file; the cap bounds the rest.
                let (is_dir, load) = match read_capped(file, &mut self.buf) {
                    Ok(t) => (false, Load::Text(t)),
                    Err(e) if e.raw_os_error() == Some(libc::EISDIR) => {
                        (true, Load::Failed("is a directory".into()))
                    }
                    Err(e) => (false, failed(&e)),
                };
                let found = Found {
                    path: spelled(path),
                    exists: true,
                    is_dir,
                    links: Vec::new(),
                    then: None,
                    stepped: Vec::new(),
                };
                return (found, load);
            }
            Fast::Missing if has_parent_dir(path) => {
                return (slow_walk(path), Load::Missing);
            }
            Fast::Missing => {
                let found = Found {
                    path: spelled(path),
                    exists: false,
                    is_dir: false,
                    links: Vec::new(),
                    then: None,
                    stepped: Vec::new(),
                };
                return (found, Load::Missing);
            }
            Fast::Slow | Fast::Walk => {}
        }
        let found = slow_walk(path);
        if !found.exists {
            return (found, Load::Missing);
        }
        let load = Self::load_path(&found.path, &mut self.buf);
        (found, load)
    }

    fn load_path(path: &Path, buf: &mut Vec<u8>) -> Load {
        use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
        let file = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK | libc::O_NOFOLLOW | libc::O_NOCTTY)
            .open(path);
        let file = match file {
            Ok(f) => f,
            Err(e) => return Load::Failed(e.to_string()),
        };
        match file.metadata() {
            Ok(m) if m.is_file() => match read_capped(file, buf) {
                Ok(t) => Load::Text(t),
                Err(e) => failed(&e),
            },
            Ok(m) if m.file_type().is_char_device() => Load::Text(Rc::from(Vec::new())),
            Ok(m) if m.is_dir() => Load::Failed("is a directory".into()),
            Ok(_) => Load::Failed("not a regular file".into()),
            Err(e) => Load::Failed(e.to_string()),
        }
    }

    /// Entries of `dir`, sorted by name, when no symlink is on the way to
    /// it; `Indirect` when one is (or when that cannot be told cheaply).
    fn list(&mut self, dir: &Path) -> Rc<Listing> {
        if let Some(l) = self.lists.get(dir.as_os_str()) {
            return l.clone();
        }
        let l = Rc::new(self.list_uncached(dir));
        self.lists.insert(dir.into(), l.clone());
        l
    }

    fn list_uncached(&mut self, dir: &Path) -> Listing {
        let mut buf = std::mem::take(&mut self.buf);
        let fast = match self.at(dir) {
            Some(At::In(d, n)) => host::list_at(d, n, &mut buf),
            Some(At::Missing) => Fast::Missing,
            None => host::list(dir, &mut buf),
        };
        self.buf = buf;
        match fast {
            Fast::Open(mut out) => {
                out.sort_by(|a, b| a.0.cmp(&b.0));
                Listing::Entries(out.into())
            }
            Fast::Missing => Listing::Missing,
            Fast::Slow => Listing::Indirect,
            // No one-call check: the component walk tells whether a
            // symlink is on the way.
            Fast::Walk => {
                let f = slow_walk(dir);
                if !f.exists {
                    Listing::Missing
                } else if f.links.is_empty() {
                    Listing::Entries(Self::list_resolved(dir).into())
                } else {
                    Listing::Indirect
                }
            }
        }
    }

    /// Entries of a directory already resolved (`read_dir` follows links).
    fn list_resolved(dir: &Path) -> Vec<(OsString, Kind)> {
        let mut out = Vec::new();
        if let Ok(rd) = std::fs::read_dir(dir) {
            for e in rd.flatten() {
                let kind = match e.file_type() {
                    Ok(t) if t.is_symlink() => Kind::Link,
                    Ok(t) if t.is_dir() => Kind::Dir,
                    Ok(t) if t.is_file() => Kind::File,
                    _ => Kind::Other,
                };
                out.push((e.file_name(), kind));
            }
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }
}

/// Shared, not copied, by each caller that walks a listing.
type Names = Rc<[(OsString, Kind)]>;

enum Listing {
    Entries(Names),
    Missing,
    Indirect,
}

/// The world `gitconfig::expand` reads, for one repository.
struct FsWorld<'a, 'r> {
    fs: &'a mut Fs<'r>,
    git_dir: &'a Path,
}

impl World for FsWorld<'_, '_> {
    /// A missing include that steps back out of a missing directory is
    /// read where it leads once cordon's placeholder holds that directory,
    /// as git reads it during the run.
    fn load(&mut self, path: &Path) -> Load {
        let (mut f, mut load) = self.fs.read(path);
        for _ in 0..MAX_LINKS {
            let (Load::Missing, Some(t)) = (&load, f.then.clone()) else {
                break;
            };
            (f, load) = self.fs.read(&t);
        }
        load
    }

    fn head(&mut self) -> Head {
        // No repository (the global config read for any of them).
        if self.git_dir.as_os_str().is_empty() {
            return Head::Unknown;
        }
        let (_, load) = self.fs.read(&self.git_dir.join("HEAD"));
        let Load::Text(t) = load else {
            return Head::Unknown;
        };
        let t = t.trim_ascii();
        match t.strip_prefix(b"ref: refs/heads/") {
            // A reftable repository keeps this placeholder in HEAD.
            Some(b".invalid") => Head::Unknown,
            Some(b) => Head::Branch(b.trim_ascii().to_vec()),
            None if !t.is_empty() && t.iter().all(u8::is_ascii_hexdigit) => Head::Detached,
            None => Head::Unknown,
        }
    }

    fn user_home(&mut self, user: &[u8]) -> Option<PathBuf> {
        let name = std::str::from_utf8(user).ok()?;
        nix::unistd::User::from_name(name)
            .ok()
            .flatten()
            .map(|u| u.dir)
    }

    fn realpath(&mut self, path: &Path) -> Option<PathBuf> {
        let f = self.fs.probe(path);
        f.exists.then(|| f.path.clone())
    }
}

// ---------------------------------------------------------------------------
// Config values that name files git reads or programs git runs.

/// How a config value names a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// `core.hooksPath`: a directory of programs (tilde-expanded; relative
    /// to where hooks run: the worktree top, and `$GIT_DIR` for push hooks
    /// and bare repositories).
    HooksDir,
    /// `init.templateDir`: copied into every new repository, hooks included.
    TemplateDir,
    /// `core.attributesFile` and the files git trusts for signature and
    /// TLS checks (tilde-expanded, relative to the worktree top).
    File,
    /// A command line git runs with `sh -c` from the worktree top.
    Shell,
    /// A boolean, or else a command line (`pager.<cmd>`).
    BoolOrShell,
    /// `core.fsmonitor`: a boolean, or else a tilde-expanded path that git
    /// runs through the shell.
    Fsmonitor,
    /// The whole value is the program, run without a shell and without `~`
    /// expansion (execvp: PATH unless it has a slash).
    Exec,
    /// `core.gitProxy`: `COMMAND [for DOMAIN]`, run without a shell.
    GitProxy,
    /// `credential.helper`: `!shell`, an absolute command line, or a
    /// `git credential-<name>` helper (on PATH).
    Helper,
    /// `alias.*`: `!shell`, or git arguments that may set `-c key=value`.
    Alias,
    /// `submodule.<name>.update`: only `!command` runs anything.
    BangShell,
    /// `remote.<name>.url`: `ext::<command>` runs a program.
    ExtUrl,
    /// `url.<base>.insteadOf`: the base may be an `ext::` URL.
    ExtUrlBase,
    /// `sendemail.smtpServer`: a program when it is an absolute path.
    AbsExec,
}

fn shape(e: &Entry) -> Option<Shape> {
    use Shape::*;
    let sub = e.subsection.as_deref();
    let has_sub = sub.is_some();
    Some(match (e.section.as_str(), has_sub, e.key.as_str()) {
        ("core", false, "hookspath") => HooksDir,
        ("core", false, "fsmonitor") => Fsmonitor,
        ("core", false, "sshcommand" | "alternaterefscommand" | "editor" | "pager") => Shell,
        ("core", false, "askpass") => Exec,
        ("core", false, "gitproxy") => GitProxy,
        ("core", false, "attributesfile") => File,
        // Not config and not run, but trusted: a key added to the allowed
        // signers makes the sandbox's own commits verify as good, a CA
        // added to the bundle lets the next fetch be intercepted.
        ("gpg", true, "allowedsignersfile" | "revocationfile") if sub == Some(b"ssh") => File,
        ("http", _, "sslcainfo" | "sslcapath" | "proxysslcainfo") => File,
        ("init", false, "templatedir") => TemplateDir,
        ("sequence", false, "editor") => Shell,
        ("pager", false, _) => BoolOrShell,
        ("credential", _, "helper") => Helper,
        ("diff", false, "external") => Shell,
        ("diff", true, "command" | "textconv") => Shell,
        ("filter", true, "clean" | "smudge" | "process") => Shell,
        ("merge", true, "driver") => Shell,
        ("gpg", _, "program") => Exec,
        ("gpg", true, "defaultkeycommand") if sub == Some(b"ssh") => Shell,
        ("alias", false, _) | ("alias", true, "command") => Alias,
        ("interactive", false, "difffilter") => Shell,
        ("submodule", true, "update") => BangShell,
        ("difftool" | "mergetool" | "man" | "browser" | "guitool", true, "cmd") => Shell,
        ("difftool" | "mergetool" | "man" | "browser", true, "path") => Exec,
        ("instaweb", false, "httpd") => Shell,
        ("imap", false, "tunnel") => Shell,
        ("remote", true, "uploadpack" | "receivepack") => Shell,
        ("remote", true, "url" | "pushurl") => ExtUrl,
        ("url", true, "insteadof" | "pushinsteadof") => ExtUrlBase,
        ("uploadpack", false, "packobjectshook") => Shell,
        ("gc", false, "recentobjectshook") => Shell,
        ("sendemail", _, "sendmailcmd" | "tocmd" | "cccmd" | "headercmd") => Shell,
        ("sendemail", _, "smtpserver") => AbsExec,
        ("trailer", true, "command" | "cmd") => Shell,
        // Config-based hooks of newer git (hook.<name>.command).
        ("hook", true, "command") => Shell,
        // git-lfs, which git runs as a filter: its own programs.
        ("lfs", true, "path") if sub.is_some_and(|s| s.starts_with(b"customtransfer.")) => Exec,
        ("lfs", true, "clean" | "smudge") if sub.is_some_and(|s| s.starts_with(b"extension.")) => {
            Shell
        }
        _ => return None,
    })
}

/// `core.hookspath` -> `core.hooksPath`: keys as git's documentation spells
/// them, for the `why` of a pin.
fn display_name(e: &Entry) -> String {
    const SPELLED: [(&str, &str); 29] = [
        ("hookspath", "hooksPath"),
        ("sshcommand", "sshCommand"),
        ("alternaterefscommand", "alternateRefsCommand"),
        ("askpass", "askPass"),
        ("gitproxy", "gitProxy"),
        ("attributesfile", "attributesFile"),
        ("templatedir", "templateDir"),
        ("difffilter", "diffFilter"),
        ("packobjectshook", "packObjectsHook"),
        ("recentobjectshook", "recentObjectsHook"),
        ("allowedsignersfile", "allowedSignersFile"),
        ("revocationfile", "revocationFile"),
        ("sslcainfo", "sslCAInfo"),
        ("sslcapath", "sslCAPath"),
        ("proxysslcainfo", "proxySSLCAInfo"),
        ("defaultkeycommand", "defaultKeyCommand"),
        ("sendmailcmd", "sendmailCmd"),
        ("tocmd", "toCmd"),
        ("cccmd", "ccCmd"),
        ("headercmd", "headerCmd"),
        ("smtpserver", "smtpServer"),
        ("insteadof", "insteadOf"),
        ("pushinsteadof", "pushInsteadOf"),
        ("includeif", "includeIf"),
        ("uploadpack", "uploadpack"),
        ("fsmonitor", "fsmonitor"),
        ("worktree", "worktree"),
        ("sendemail", "sendemail"),
        ("interactive", "interactive"),
    ];
    let spell = |s: &str| {
        SPELLED
            .iter()
            .find(|(l, _)| *l == s)
            .map_or_else(|| s.to_string(), |(_, d)| d.to_string())
    };
    let mut out = spell(&e.section);
    if let Some(sub) = &e.subsection {
        out.push('.');
        out.push_str(&String::from_utf8_lossy(sub));
    }
    out.push('.');
    out.push_str(&spell(&e.key));
    out.escape_debug().to_string()
}

/// One shell word, unquoted.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
struct Word {
    text: Vec<u8>,
    quoted: bool,
    /// An unexpanded `$` or backquote is in it.
    dollar: bool,
    /// Starts with an unquoted `~` (the shell expands it).
    tilde: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Word(Word),
    /// A command separator or grouping: what follows is a command.
    Sep,
    /// `<`, `>`, `2>&1`: the next word is a file, not a command.
    Redirect,
}

/// A small POSIX-shell tokenizer: enough to find the words in command
/// position. Quotes and backslashes are removed; `$(`, `` ` ``, `(`, `;`,
/// `&`, `|` and newlines start a new command.
fn tokenize(s: &[u8]) -> Vec<Tok> {
    let mut toks = Vec::new();
    let mut cur: Option<Word> = None;
    let flush = |cur: &mut Option<Word>, toks: &mut Vec<Tok>| {
        if let Some(w) = cur.take() {
            toks.push(Tok::Word(w));
        }
    };
    let mut i = 0;
    while i < s.len() {
        let c = s[i];
        match c {
            b' ' | b'\t' | b'\r' => {
                flush(&mut cur, &mut toks);
                i += 1;
            }
            b'\n' | b';' | b'&' | b'|' | b'(' | b')' | b'`' | b'{' | b'}'
                if cur.is_none() || !matches!(c, b'{' | b'}') =>
            {
                flush(&mut cur, &mut toks);
                toks.push(Tok::Sep);
                i += 1;
            }
            b'<' | b'>' => {
                flush(&mut cur, &mut toks);
                i += 1;
                while i < s.len() && matches!(s[i], b'<' | b'>' | b'&' | b'|') {
                    i += 1;
                }
                toks.push(Tok::Redirect);
            }
            b'#' if cur.is_none() => {
                while i < s.len() && s[i] != b'\n' {
                    i += 1;
                }
            }
            b'\'' => i = single_quoted(s, i, cur.get_or_insert_with(Word::default)),
            b'"' => i = double_quoted(s, i, cur.get_or_insert_with(Word::default)),
            b'\\' => i = escaped(s, i, cur.get_or_insert_with(Word::default)),
            b'$' if s.get(i + 1) == Some(&b'(') => {
                flush(&mut cur, &mut toks);
                toks.push(Tok::Sep);
                i += 2;
            }
            _ => {
                let w = cur.get_or_insert_with(Word::default);
                if c == b'$' {
                    w.dollar = true;
                }
                if c == b'~' && w.text.is_empty() && !w.quoted {
                    w.tilde = true;
                }
                w.text.push(c);
                i += 1;
            }
        }
    }
    flush(&mut cur, &mut toks);
    toks
}

/// Appends the body of the single-quoted string opening at `s[i]` to `w`,
/// verbatim; returns the index past the closing quote.
fn single_quoted(s: &[u8], mut i: usize, w: &mut Word) -> usize {
    w.quoted = true;
    i += 1;
    while i < s.len() && s[i] != b'\'' {
        w.text.push(s[i]);
        i += 1;
    }
    i + 1
}

/// Appends the body of the double-quoted string opening at `s[i]` to `w`:
/// a backslash escapes only `` $`"\ `` and newline (a line continuation),
/// and an unescaped `$` or backquote marks the word as expanded. Returns the
/// index past the closing quote.
fn double_quoted(s: &[u8], mut i: usize, w: &mut Word) -> usize {
    w.quoted = true;
    i += 1;
    while i < s.len() && s[i] != b'"' {
        if s[i] == b'\\' && i + 1 < s.len() && b"$`\"\\\n".contains(&s[i + 1]) {
            if s[i + 1] != b'\n' {
                w.text.push(s[i + 1]);
            }
            i += 2;
            continue;
        }
        if s[i] == b'$' || s[i] == b'`' {
            w.dollar = true;
        }
        w.text.push(s[i]);
        i += 1;
    }
    i + 1
}

/// Appends the byte an unquoted backslash at `s[i]` escapes (nothing for a
/// line continuation); returns the index past it.
fn escaped(s: &[u8], i: usize, w: &mut Word) -> usize {
    w.quoted = true;
    if let Some(&n) = s.get(i + 1)
        && n != b'\n'
    {
        w.text.push(n);
    }
    i + 2
}

/// What a word in a command line is to the command that runs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Program,
    /// The script an interpreter runs (`sh x.sh`, `node ./x.js`): a file
    /// relative to the working directory even without a slash.
    Script,
}

fn basename(w: &[u8]) -> &[u8] {
    match w.iter().rposition(|&c| c == b'/') {
        Some(i) => &w[i + 1..],
        None => w,
    }
}

fn is_assignment(w: &Word) -> bool {
    match w.text.iter().position(|&c| c == b'=') {
        Some(0) | None => false,
        Some(i) => {
            let name = &w.text[..i];
            !name[0].is_ascii_digit()
                && name.iter().all(|&c| c.is_ascii_alphanumeric() || c == b'_')
        }
    }
}

/// Reserved words after which a command follows.
const RESERVED: [&[u8]; 11] = [
    b"!", b"{", b"}", b"if", b"then", b"else", b"elif", b"fi", b"do", b"done", b"while",
];
/// Programs that run the command after their options.
const WRAPPERS: [&[u8]; 11] = [
    b"exec", b"command", b"builtin", b"nohup", b"time", b"nice", b"env", b"sudo", b"eval",
    b"xargs", b"until",
];
const SHELLS: [&[u8]; 6] = [b"sh", b"bash", b"dash", b"zsh", b"ksh", b"busybox"];
const INTERPRETERS: [&[u8]; 12] = [
    b"node", b"nodejs", b"python", b"python2", b"python3", b"perl", b"ruby", b"php", b"deno",
    b"bun", b"tsx", b"ts-node",
];
/// Interpreter options after which the next word is code or a module, not a script.
const STOP: [&[u8]; 6] = [b"-c", b"-e", b"-m", b"-p", b"--eval", b"--print"];

/// What the next word of a command line is, as `shell_programs` reads it.
#[derive(Clone, Copy)]
enum Next {
    Command,
    /// After a wrapper: options are skipped, then a command.
    AfterWrapper,
    Args,
    /// After an interpreter: options, then the script.
    Script {
        shell: bool,
    },
    /// After `sh -c`: the command string.
    ShellString,
}

/// The programs (and interpreter scripts) a shell command line runs, in
/// order: every word in command position, past assignments, reserved words
/// and wrappers (`env`, `exec`, ...); `sh -c '...'` is read recursively.
fn shell_programs(s: &[u8], depth: usize) -> Vec<(Word, Role)> {
    let mut out = Vec::new();
    let mut next = Next::Command;
    let mut redirect = false;
    for tok in tokenize(s) {
        let w = match tok {
            Tok::Sep => {
                next = Next::Command;
                redirect = false;
                continue;
            }
            Tok::Redirect => {
                redirect = true;
                continue;
            }
            Tok::Word(w) => w,
        };
        if redirect {
            redirect = false;
            continue;
        }
        next = match next {
            Next::Args => Next::Args,
            Next::ShellString => {
                if depth < 4 {
                    out.extend(shell_programs(&w.text, depth + 1));
                }
                Next::Args
            }
            Next::Script { shell } => script_word(w, shell, &mut out),
            Next::Command | Next::AfterWrapper => command_word(w, next, &mut out),
        };
    }
    out
}

/// Reads a word after an interpreter (`shell`: a shell): records the script
/// it names, if any, and says what the next word is.
fn script_word(w: Word, shell: bool, out: &mut Vec<(Word, Role)>) -> Next {
    if shell && w.text == b"-c" {
        Next::ShellString
    } else if !shell && STOP.contains(&w.text.as_slice()) {
        Next::Args
    } else if !w.text.starts_with(b"-") {
        out.push((w, Role::Script));
        Next::Args
    } else {
        Next::Script { shell }
    }
}

/// Reads a word in command position (`next` is `Command` or `AfterWrapper`):
/// records the program it names, if any, and says what the next word is.
/// Assignments and a wrapper's options leave the position as it was.
fn command_word(w: Word, next: Next, out: &mut Vec<(Word, Role)>) -> Next {
    if matches!(next, Next::AfterWrapper) && w.text.starts_with(b"-") {
        return next;
    }
    if is_assignment(&w) {
        return next;
    }
    let base = basename(&w.text);
    if !w.quoted && RESERVED.contains(&w.text.as_slice()) {
        return Next::Command;
    }
    if !w.quoted
        && matches!(
            w.text.as_slice(),
            b"for" | b"case" | b"select" | b"function"
        )
    {
        return Next::Args;
    }
    let wrapper = WRAPPERS.contains(&base);
    let shell = SHELLS.contains(&base);
    let interp = INTERPRETERS.contains(&base);
    // The program word itself (its path matters when it has a
    // slash, wrapper or interpreter alike).
    out.push((w, Role::Program));
    if wrapper {
        Next::AfterWrapper
    } else if shell || interp {
        Next::Script { shell }
    } else {
        Next::Args
    }
}

/// The first word of an `ext::` command (git-remote-ext splits on spaces,
/// `% ` is a space and `%%` a percent sign).
fn ext_program(cmd: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < cmd.len() {
        match (cmd[i], cmd.get(i + 1)) {
            (b' ', _) => break,
            (b'%', Some(b' ')) => {
                out.push(b' ');
                i += 2;
            }
            (b'%', Some(b'%')) => {
                out.push(b'%');
                i += 2;
            }
            (c, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    out
}

/// How a setting is named in the reasons: its key and where it was set.
fn setting_key(s: &Setting) -> String {
    let mut key = format!("{} of {}", display_name(&s.entry), s.origin);
    if !s.active {
        key.push_str(" (in an include git reads only under a condition that does not hold now)");
    }
    key
}

/// A path a setting names, resolved as git does: a relative path is taken
/// from where git runs the command, `base` (the worktree top, or the gitdir
/// of a bare repository).
fn relative(base: &Path, p: &Path, why: String) -> Named {
    Named {
        why: if p.is_absolute() {
            why
        } else {
            format!("{why}, relative to {}", shown(base))
        },
        path: base.join(p),
        dir: false,
        hooks: false,
    }
}

/// The shell command line a shell-valued setting runs, if its value is one
/// (`Shell`, `BoolOrShell`, `Helper` and `BangShell` shapes).
fn shell_command<'v>(shape: Shape, e: &Entry, value: &'v [u8]) -> Option<&'v [u8]> {
    match shape {
        Shape::Shell => Some(value),
        Shape::BoolOrShell => gitconfig::parse_bool(e.value.as_deref())
            .is_none()
            .then_some(value),
        // Else `git credential-<name>`: found on PATH.
        Shape::Helper => value
            .strip_prefix(b"!")
            .or_else(|| value.starts_with(b"/").then_some(value)),
        Shape::BangShell => value.strip_prefix(b"!"),
        _ => None,
    }
}

/// The program an exec-valued setting runs without a shell, if its value
/// names one (`Exec`, `AbsExec`, `GitProxy`, `ExtUrl` and `ExtUrlBase`).
fn exec_command(shape: Shape, e: &Entry, value: &[u8]) -> Option<Vec<u8>> {
    match shape {
        Shape::Exec => Some(value.to_vec()),
        Shape::AbsExec => value.starts_with(b"/").then(|| value.to_vec()),
        Shape::GitProxy => {
            let cmd = match find(value, b" for ") {
                Some(i) => &value[..i],
                None => value,
            };
            (cmd != b"none").then(|| cmd.to_vec())
        }
        Shape::ExtUrl => value.strip_prefix(b"ext::").map(ext_program),
        Shape::ExtUrlBase => e
            .subsection
            .as_deref()
            .and_then(|b| b.strip_prefix(b"ext::"))
            .map(ext_program),
        _ => None,
    }
}

/// A path a config value names, with why it matters.
struct Named {
    path: PathBuf,
    why: String,
    /// Git expects a directory there.
    dir: bool,
    /// A directory whose entries git runs (hooks): its symlinks are followed.
    hooks: bool,
}

// ---------------------------------------------------------------------------
// The planner.

/// A repository to look at.
struct Visit {
    git_dir: PathBuf,
    /// Known worktree top (from the `.git` that led here).
    worktree: Option<PathBuf>,
    found: String,
}

/// Where [`Planner::hold_bare_top`] holds a directory, in its reasons'
/// words (`{prefix}refs at the top of {site}, held so that git never
/// takes {it} for a bare repository ({when})`).
struct BareTop<'s> {
    prefix: &'s str,
    site: &'s str,
    it: &'s str,
    when: &'s str,
    /// `HEAD` alone, where that is enough and no worktree is confused by it.
    head_first: bool,
    /// Hold nothing where the top already is a repository to git (its
    /// `HEAD`, `objects` and `refs` pass [`Planner::is_gitdir`]).
    leave_repository: bool,
}

struct Planner<'a> {
    /// Every directory above a writable root (the roots themselves are
    /// `fs.held`'s keys), for look-ups by walking a path's ancestors:
    /// linear in the number of pins, not pins x roots.
    above_roots: HashSet<&'a OsStr>,
    env: &'a GitEnv,
    global: Vec<Source>,
    command: Vec<Entry>,
    fs: Fs<'a>,
    visited: HashSet<OsString>,
    queue: VecDeque<Visit>,
    plan: GitPlan,
    /// The index of each pin by path, and by path of each symlink pin.
    pin_at: HashMap<OsString, usize>,
    link_pin_at: HashMap<OsString, usize>,
    commits: bool,
}

/// At most this many reasons are kept per pin; the rest are counted.
const MAX_WHYS: usize = 4;

fn os(b: &[u8]) -> &OsStr {
    OsStr::from_bytes(b)
}

impl Planner<'_> {
    /// The innermost root holding `path`.
    fn root_of(&self, path: &Path) -> Option<PathBuf> {
        ancestors(path.as_os_str())
            .find(|a| self.fs.held.contains_key(a))
            .map(PathBuf::from)
    }

    /// `dir` is inside a writable root, or holds one.
    fn overlaps_a_root(&self, dir: &Path) -> bool {
        self.above_roots.contains(dir.as_os_str()) || self.root_of(dir).is_some()
    }

    fn add_pin(&mut self, pin: Pin) {
        let at = if pin.link {
            &mut self.link_pin_at
        } else {
            &mut self.pin_at
        };
        if let Some(&i) = at.get(pin.path.as_os_str()) {
            let p = &mut self.plan.pins[i];
            let n = p.why.matches("; also ").count() + 1;
            if !p.why.contains(pin.why.as_str()) && n < MAX_WHYS {
                p.why.push_str("; also ");
                p.why.push_str(&pin.why);
            }
            return;
        }
        at.insert(pin.path.clone().into_os_string(), self.plan.pins.len());
        self.plan.pins.push(Pin {
            root: self.root_of(&pin.path),
            ..pin
        });
    }

    /// Pins where `f` leads, and every symlink crossed to get there. `dir`:
    /// a directory is expected there (for the placeholder of a missing one).
    /// A path stepping back (`..`) out of a missing directory is pinned
    /// where it leads once that directory's placeholder is there too: for
    /// the whole run git reads (or runs) that path.
    fn pin_found(&mut self, f: &Found, why: &str, dir: bool) {
        self.pin_one(f, why, dir);
        let mut next = f.then.clone();
        let mut hops = 0;
        while let Some(t) = next
            && hops < MAX_LINKS
        {
            let g = self.fs.probe(&t);
            let held = format!(
                "{why} (where it leads while a placeholder holds the directory it steps back out of)"
            );
            self.pin_one(&g, &held, dir);
            next = g.then.clone();
            hops += 1;
        }
    }

    /// Where `f` leads while cordon's placeholders hold the missing
    /// directories it steps back out of (`f` itself when it does not).
    fn settled(&mut self, f: Rc<Found>) -> Rc<Found> {
        let mut f = f;
        for _ in 0..MAX_LINKS {
            let Some(t) = f.then.clone() else { break };
            f = self.fs.probe(&t);
        }
        f
    }

    fn pin_one(&mut self, f: &Found, why: &str, dir: bool) {
        for l in &f.links {
            self.add_pin(Pin {
                path: l.clone(),
                exists: true,
                is_dir: false,
                link: true,
                leads_to: Some(f.path.clone()),
                root: None,
                why: format!("symlink on the way to {why}"),
            });
        }
        // `lnk -> x/../store`: replaced by a link, `x` would move `store`
        // (adversarial pass 14); held read-only, as `x` in a hooks path.
        for d in &f.stepped {
            self.add_pin(Pin {
                path: d.clone(),
                exists: true,
                is_dir: true,
                link: false,
                leads_to: None,
                root: None,
                why: format!("a directory a symlink on the way to {why} steps back out of with .."),
            });
        }
        self.add_pin(Pin {
            path: f.path.clone(),
            exists: f.exists,
            is_dir: if f.exists { f.is_dir } else { dir },
            link: false,
            leads_to: None,
            root: None,
            why: why.to_string(),
        });
    }

    fn pin_path(&mut self, path: &Path, why: &str, dir: bool) -> Rc<Found> {
        let f = self.fs.probe(path);
        self.pin_found(&f, why, dir);
        f
    }

    /// [`Self::pin_path`] for a path a repository's config names (a hooks
    /// path, an include, a program). `x/../y`: the kernel takes `..` after
    /// following `x`, so whoever can replace `x` (with a symlink elsewhere)
    /// decides where `y` is; each component before a `..` is held too,
    /// read-only.
    fn pin_named(&mut self, path: &Path, why: &str, dir: bool) -> Rc<Found> {
        if has_parent_dir(path) {
            let mut prefix = PathBuf::new();
            let mut comps = path.components().peekable();
            while let Some(c) = comps.next() {
                prefix.push(c);
                if comps.peek() == Some(&Component::ParentDir) && c != Component::ParentDir {
                    let f = self.fs.probe(&prefix);
                    let step = format!("{why} (a directory it steps back out of with ..)");
                    self.pin_found(&f, &step, true);
                }
            }
        }
        self.pin_path(path, why, dir)
    }

    /// The gitdir (or common directory) a file in `base` names as `rel`: a
    /// pointer's `gitdir:`, a `commondir`. As for [`Self::pin_named`], each
    /// directory the text names before a `..` is held, existing or not:
    /// with `gitdir: lnk/../store/gd`, a command that replaced `lnk` with a
    /// symlink chose the gitdir git reads next (adversarial pass 13). `base`
    /// and the parents a leading `../..` climbs to are the file's own
    /// canonical directory and its ancestors, not named by the text.
    fn pin_stepped(&mut self, base: &Path, rel: &Path, why: &str) -> Rc<Found> {
        self.hold_steps(base, rel, why);
        self.pin_path(&base.join(rel), why, true)
    }

    /// The holds of [`Self::pin_stepped`] without the pin of where `rel`
    /// leads (a submodule's `core.worktree`: its checkout stays writable).
    fn hold_steps(&mut self, base: &Path, rel: &Path, why: &str) {
        let mut prefix = base.to_path_buf();
        let mut comps = rel.components().peekable();
        while let Some(c) = comps.next() {
            prefix.push(c);
            if matches!(c, Component::Normal(_)) && comps.peek() == Some(&Component::ParentDir) {
                let f = self.fs.probe(&prefix);
                let step = format!("{why} (a directory it steps back out of with ..)");
                self.pin_found(&f, &step, true);
            }
        }
    }

    /// The entries of a directory git reads (hooks, `modules`,
    /// `worktrees`), and where it really is: reached through a symlink, the
    /// directory is pinned at its target and the links on the way too.
    fn entries(&mut self, dir: &Path, what: &str) -> (PathBuf, Names) {
        match &*self.fs.list(dir) {
            Listing::Entries(e) => (dir.to_path_buf(), e.clone()),
            Listing::Missing => (dir.to_path_buf(), Rc::new([])),
            Listing::Indirect => {
                let f = self.fs.probe(dir);
                // Through a link, pinned whether or not it leads anywhere
                // yet: `.git/hooks -> ../hkx` with `hkx` missing is held
                // there, or the command made `hkx` and git ran its hooks
                // (adversarial pass 16).
                if !f.links.is_empty() {
                    self.pin_found(&f, &format!("{what} {}", shown(dir)), true);
                }
                if !f.exists || !f.is_dir {
                    return (dir.to_path_buf(), Rc::new([]));
                }
                (f.path.clone(), Fs::list_resolved(&f.path).into())
            }
        }
    }

    /// Reads a file git uses to find other files (`commondir`, a
    /// worktree's `gitdir`): through a symlink, its target is pinned.
    fn read_meta(&mut self, path: &Path, what: &str) -> Load {
        let (f, load) = self.fs.read(path);
        if !f.links.is_empty() {
            self.pin_found(&f, &format!("{what} {}", shown(path)), false);
        }
        load
    }

    fn note(&mut self, n: String) {
        if !self.plan.notes.contains(&n) {
            self.plan.notes.push(n);
        }
    }

    fn root(&mut self, root: &Path, opts: &GitOptions) {
        let own = self.dotgit(root, &format!("writable root {}", shown(root)));
        // Without its own `.git`, git run in the root uses the repository
        // around it (its discovery walks up), whose config may name paths
        // inside the root.
        let mut around = false;
        if !own {
            for dir in root.ancestors().skip(1) {
                if self.fs.probe_child(dir, ".git").exists {
                    self.dotgit(dir, &format!("repository around {}", shown(root)));
                    around = true;
                    break;
                }
            }
        }
        self.drain();
        self.hold_root_top(root, around);
        if opts.scan == Scan::Full {
            self.scan(root);
            self.drain();
        }
    }

    /// The root itself is tried for a bare repository by git run later in
    /// any directory below it that is in no repository of its own (a
    /// planted `HEAD`, `objects`, `refs` and `config` in `/tmp` ran its
    /// fsmonitor for git in `/tmp/x`: adversarial pass 20), and by git in
    /// the root itself whenever its `.git` is no gitdir to that git. That
    /// cannot be judged at planning: it depends on who runs git (mode bits,
    /// ACLs, the directories on the way to a linked gitdir: passes 25, 26),
    /// on what the command changes during the run (it closed the directory
    /// a `.git` link leads into: pass 26), and on what happens after it, for
    /// a plant at an unheld top stays: a later git-mode run closed
    /// `.git/objects`, a `HEAD` hard-linked before the run was rewritten
    /// (pass 28), and a user who removes `.git` would meet it too. So every
    /// root's top is held, whatever its `.git`: `HEAD` with no `.git` and no
    /// repository around, where it confuses nothing; else `refs` (or
    /// `objects`) and `commondir`, since in a worktree a `HEAD` entry makes
    /// `git diff HEAD` ambiguous.
    fn hold_root_top(&mut self, root: &Path, around: bool) {
        let is_dir = match self.fs.held.get(root.as_os_str()) {
            Some(Some(_)) => true,
            _ => self.fs.probe(root).is_dir,
        };
        if !is_dir {
            return;
        }
        // Another run's placeholder is as good as missing (it goes when
        // that run ends).
        let dotgit = self.fs.probe_child(root, ".git").exists
            && !super::fs::is_placeholder_at(&root.join(".git"));
        let site = format!("the writable root {}", shown(root));
        self.hold_bare_top(
            root,
            &BareTop {
                prefix: "",
                site: &site,
                it: "the root",
                when: if dotgit {
                    "whenever its .git fails some user's git (a directory on the way closed, an ACL, its removal), git run later below it would run what a planted config names"
                } else {
                    "it has no .git of its own: git run later in a directory below it would run what a planted config names"
                },
                head_first: !around && !dotgit,
                // A top with a `.git` is a worktree, even one laid out like
                // a bare repository too (adversarial pass 27: its `.git`
                // link closed, git read the top's writable `config`).
                leave_repository: !dotgit,
            },
        );
    }

    /// Whether git takes `g` for a gitdir, as its `is_git_directory` does:
    /// a `HEAD` that reads as a ref (or a symlink into `refs/`, or an object
    /// id), and `objects` and `refs` it may search in the common directory
    /// the visit found (`g` itself unless a `commondir` names another).
    fn is_gitdir(&mut self, g: &Path) -> bool {
        let head = g.join("HEAD");
        let valid_head = match std::fs::read_link(&head) {
            Ok(target) => target.starts_with("refs/"),
            Err(_) => match self.fs.read(&head).1 {
                // As git's `validate_headref`: nothing skipped before `ref:`
                // or the id (a leading blank makes it no head: adversarial
                // pass 23), blanks skipped after `ref:`, the id's first 40
                // hex digits (a SHA-256 id has 64).
                Load::Text(t) => match t.strip_prefix(b"ref:") {
                    Some(r) => r.trim_ascii_start().starts_with(b"refs/"),
                    None => t.len() >= 40 && t[..40].iter().all(u8::is_ascii_hexdigit),
                },
                _ => false,
            },
        };
        if !valid_head {
            return false;
        }
        let common = self.common_of(g);
        // git's own check: access(X_OK), symlinks followed, as the caller.
        let searchable = |name: &str| {
            nix::unistd::access(&common.join(name), nix::unistd::AccessFlags::X_OK).is_ok()
        };
        searchable("objects") && searchable("refs")
    }

    /// The common directory the visit found for the gitdir `g` (`g` itself
    /// unless a `commondir` names another). The root's own repository was
    /// visited last: looked for from the end, not a scan of every
    /// repository per root (10,000 roots).
    fn common_of(&self, g: &Path) -> PathBuf {
        self.plan
            .repos
            .iter()
            .rev()
            .find(|r| r.git_dir == g)
            .map_or_else(|| g.to_path_buf(), |r| r.common_dir.clone())
    }

    /// The repository git finds from `cwd`: the first `.git` walking up.
    fn discover(&mut self, cwd: &Path) {
        for dir in cwd.ancestors() {
            if self.fs.probe_child(dir, ".git").exists {
                self.dotgit(dir, &format!("the working directory {}", shown(cwd)));
                break;
            }
        }
        self.drain();
    }

    /// The global and system config, read for no repository in particular:
    /// git reads them in every repository the user runs it in later, found
    /// in a writable root or not, so each include (conditions all taken)
    /// and each absolute path they name is pinned. A relative one is
    /// relative to a repository, pinned when that one is visited.
    fn global_config(&mut self) {
        let ctx = Context {
            git_dir: None,
            home: self.env.home.clone(),
            follow_mutable: true,
        };
        let sources = self.global.clone();
        let mut world = FsWorld {
            fs: &mut self.fs,
            git_dir: Path::new(""),
        };
        let x = gitconfig::expand(&sources, &self.command, &ctx, &mut world);
        let owner = "every repository";
        // What a visited repository pinned already keeps its reason (the
        // condition holding there).
        let known = |p: &Self, path: &Path| p.pin_at.contains_key(path.as_os_str());
        for f in &x.files {
            if !known(self, &f.path) {
                self.pin_named(&f.path, &file_why(f, owner, self.env), false);
            }
        }
        for s in &x.settings {
            for n in self.named(s, Path::new(""), None, owner) {
                if !n.path.is_absolute() || known(self, &n.path) {
                    continue;
                }
                let f = self.pin_named(&n.path, &n.why, n.dir);
                if n.hooks && f.exists && f.is_dir {
                    let at = f.path.clone();
                    self.symlinks_in(&at);
                }
            }
        }
    }

    /// The `.git` in `dir` (a canonical directory): a directory (the
    /// gitdir) or a `gitdir:` pointer file. Returns whether anything is there.
    fn dotgit(&mut self, dir: &Path, owner: &str) -> bool {
        let f = self.fs.probe_child(dir, ".git");
        if !f.exists && f.links.is_empty() {
            return false;
        }
        let worktree = Some(dir.to_path_buf());
        let why = format!("the .git of {owner}");
        self.pin_found(&f, &why, false);
        if !f.exists {
            return true;
        }
        if f.is_dir {
            self.queue.push_back(Visit {
                git_dir: f.path.clone(),
                worktree,
                found: owner.to_string(),
            });
        } else {
            self.pointer(&f.path, worktree, owner);
        }
        true
    }

    /// A `gitdir: <path>` file: pins the gitdir it names and visits it.
    fn pointer(&mut self, file: &Path, worktree: Option<PathBuf>, owner: &str) {
        let (_, load) = self.fs.read(file);
        let Load::Text(text) = load else { return };
        let Some(target) = gitdir_line(&text) else {
            self.note(format!(
                "{} is not a gitdir pointer; git will refuse it",
                shown(file)
            ));
            return;
        };
        let base = file.parent().unwrap_or(Path::new("/"));
        let g = self.pin_stepped(
            base,
            Path::new(os(&target)),
            &format!("gitdir named by the pointer file {}", shown(file)),
        );
        let g = self.settled(g);
        if g.exists && g.is_dir {
            self.queue.push_back(Visit {
                git_dir: g.path.clone(),
                worktree,
                found: owner.to_string(),
            });
        }
    }

    fn drain(&mut self) {
        while let Some(v) = self.queue.pop_front() {
            if self.visited.len() >= MAX_REPOS {
                self.note(format!(
                    "more than {MAX_REPOS} repositories: the rest were not looked at"
                ));
                self.queue.clear();
                return;
            }
            if self.visited.insert(v.git_dir.clone().into_os_string()) {
                self.visit(v);
            }
        }
    }

    /// The directory holding the shared config and hooks: the one a linked
    /// worktree's (or a separated) gitdir names in `commondir`, else the
    /// gitdir itself.
    fn common_dir(&mut self, g: &Path) -> PathBuf {
        match self.read_meta(&g.join("commondir"), "the gitdir file") {
            Load::Text(t) => {
                let line = pointer(&t);
                if line.is_empty() {
                    g.to_path_buf()
                } else {
                    // Usually `../..`: only parents of a canonical directory,
                    // which are canonical and exist.
                    let rel = Path::new(os(line));
                    if rel
                        .components()
                        .all(|c| matches!(c, Component::ParentDir | Component::CurDir))
                    {
                        let at = g.join(rel);
                        self.fs.known_dir(&at, lexical(&at));
                    }
                    let f = self.pin_stepped(
                        g,
                        rel,
                        &format!("common directory named by {}", shown(&g.join("commondir"))),
                    );
                    let f = self.settled(f);
                    if f.exists {
                        f.path.clone()
                    } else {
                        g.to_path_buf()
                    }
                }
            }
            _ => g.to_path_buf(),
        }
    }

    /// The config files git reads in the repository at gitdir `g`: the global
    /// ones, the local `config`, and `config.worktree` when enabled.
    fn config_sources(&mut self, g: &Path, common: &Path) -> Vec<Source> {
        let mut sources = self.global.clone();
        let local = common.join("config");
        sources.push(Source {
            path: local.clone(),
            scope: Scope::Local,
        });
        // git reads `config.worktree` only with extensions.worktreeConfig,
        // which the (pinned) repository config sets.
        if let Load::Text(t) = self.fs.read(&local).1
            && gitconfig::parse(&t).entries.iter().any(|e| {
                e.is("extensions", "worktreeconfig")
                    && gitconfig::parse_bool(e.value.as_deref()) == Some(true)
            })
        {
            sources.push(Source {
                path: g.join("config.worktree"),
                scope: Scope::Worktree,
            });
        }
        sources
    }

    fn visit(&mut self, v: Visit) {
        let g = v.git_dir.clone();
        self.fs.enter(&g);
        let common = self.common_dir(&g);
        if common != g {
            self.fs.enter(&common);
        }
        let linked = common != g;
        if !self.commits {
            self.links_in_gitdir(&g);
            if linked {
                self.links_in_gitdir(&common);
            }
        }
        let sources = self.config_sources(&g, &common);
        let ctx = Context {
            git_dir: Some(g.clone()),
            home: self.env.home.clone(),
            follow_mutable: true,
        };
        let mut world = FsWorld {
            fs: &mut self.fs,
            git_dir: &g,
        };
        let x = gitconfig::expand(&sources, &self.command, &ctx, &mut world);

        let worktree = self.worktree_of(&v, &g, &common, linked, &x.settings);
        let repo_name = match &worktree {
            Some(w) => shown(w).to_string(),
            None => shown(&g).to_string(),
        };
        self.plan.repos.push(Repo {
            git_dir: g.clone(),
            common_dir: common.clone(),
            worktree: worktree.clone(),
            found: v.found.clone(),
        });

        for e in &x.errors {
            self.note(format!("{e} (repository {repo_name})"));
        }
        for f in &x.files {
            let why = file_why(f, &repo_name, self.env);
            self.pin_named(&f.path, &why, false);
        }
        let mut hooks_dirs = vec![common.join("hooks")];
        for s in &x.settings {
            for n in self.named(s, &g, worktree.as_deref(), &repo_name) {
                let f = self.pin_named(&n.path, &n.why, n.dir);
                if n.hooks && f.exists && f.is_dir {
                    hooks_dirs.push(f.path.clone());
                }
            }
        }
        // A hook may be a symlink to a script in the worktree: the pinned
        // directory holds the link, not what it leads to. (In the gitdir
        // itself, `config` and `commondir` are read and `hooks` probed, each
        // followed if it is a symlink; the rest is data git does not run.)
        for d in hooks_dirs {
            self.symlinks_in(&d);
        }

        self.submodules(&common, worktree.as_deref());
        self.worktrees(&common);
        if linked {
            self.queue.push_back(Visit {
                git_dir: common.clone(),
                worktree: None,
                found: format!("main repository of the linked worktree {repo_name}"),
            });
        }
    }

    /// The worktree top: `core.worktree` (a non-linked repository's own
    /// setting wins over where its `.git` was found), else where `.git` was
    /// found, else the parent of a gitdir named `.git`; `None` when bare.
    fn worktree_of(
        &mut self,
        v: &Visit,
        g: &Path,
        common: &Path,
        linked: bool,
        settings: &[Setting],
    ) -> Option<PathBuf> {
        let local = |s: &&Setting| matches!(s.scope, Scope::Local | Scope::Worktree);
        if !linked
            && let Some(w) = settings
                .iter()
                .filter(local)
                .filter(|s| s.entry.is("core", "worktree"))
                .filter_map(|s| s.entry.value.as_deref())
                .next_back()
        {
            let f = self.fs.probe(&g.join(os(w)));
            return Some(f.path.clone());
        }
        if let Some(w) = &v.worktree {
            return Some(w.clone());
        }
        let bare = settings
            .iter()
            .filter(local)
            .rfind(|s| s.entry.is("core", "bare"))
            .and_then(|s| gitconfig::parse_bool(s.entry.value.as_deref()))
            .unwrap_or(false);
        if bare || linked {
            return None;
        }
        (common.file_name() == Some(OsStr::new(".git")))
            .then(|| common.parent().map(Path::to_path_buf))
            .flatten()
    }

    /// The paths one setting names, resolved against the repository.
    fn named(&mut self, s: &Setting, g: &Path, worktree: Option<&Path>, repo: &str) -> Vec<Named> {
        let e = &s.entry;
        let Some(shape) = shape(e) else {
            return Vec::new();
        };
        let key = setting_key(s);
        let base = worktree.unwrap_or(g);
        let value = e.value.as_deref().unwrap_or_default();
        let mut out = Vec::new();
        let program = |p: &mut Self, cmd: &[u8], out: &mut Vec<Named>| {
            for (w, role) in shell_programs(cmd, 0) {
                let what = match role {
                    Role::Program => "program",
                    Role::Script => "script",
                };
                if let Some(path) = p.word_path(&w, role, &key, repo) {
                    out.push(relative(base, &path, format!("{what} run by {key}")));
                }
            }
        };
        match shape {
            Shape::HooksDir | Shape::TemplateDir | Shape::File => {
                out = self.path_setting(shape, value, &key, g, worktree, repo);
            }
            Shape::Shell | Shape::BoolOrShell | Shape::Helper | Shape::BangShell => {
                if let Some(cmd) = shell_command(shape, e, value) {
                    program(self, cmd, &mut out);
                }
            }
            Shape::Fsmonitor => {
                if gitconfig::parse_bool(e.value.as_deref()).is_none() {
                    let mut w = FsWorld {
                        fs: &mut self.fs,
                        git_dir: g,
                    };
                    if let Some(p) = gitconfig::interpolate(value, self.env.home.as_deref(), &mut w)
                    {
                        program(self, p.as_os_str().as_bytes(), &mut out);
                    }
                }
            }
            Shape::Alias => {
                if let Some(cmd) = value.strip_prefix(b"!") {
                    program(self, cmd, &mut out);
                } else {
                    self.alias_config(s, value, g, worktree, repo, &mut out);
                }
            }
            Shape::Exec | Shape::AbsExec | Shape::GitProxy | Shape::ExtUrl | Shape::ExtUrlBase => {
                // execvp: a bare name is looked up on PATH.
                if let Some(cmd) = exec_command(shape, e, value)
                    && cmd.contains(&b'/')
                {
                    out.push(relative(
                        base,
                        Path::new(os(&cmd)),
                        format!("program run by {key}"),
                    ));
                }
            }
        }
        out
    }

    /// The paths a path-valued setting (hooks or template directory, a file)
    /// names: the path itself and, for a relative hooks path in a repository
    /// with a worktree, the same path under the gitdir.
    fn path_setting(
        &mut self,
        shape: Shape,
        value: &[u8],
        key: &str,
        g: &Path,
        worktree: Option<&Path>,
        repo: &str,
    ) -> Vec<Named> {
        let mut out = Vec::new();
        if value.is_empty() {
            return out;
        }
        let mut w = FsWorld {
            fs: &mut self.fs,
            git_dir: g,
        };
        let Some(path) = gitconfig::interpolate(value, self.env.home.as_deref(), &mut w) else {
            self.note(format!("{key}: cannot expand the path (repository {repo})"));
            return out;
        };
        let mut n = relative(worktree.unwrap_or(g), &path, key.to_string());
        n.hooks = shape == Shape::HooksDir;
        n.dir = shape != Shape::File;
        out.push(n);
        // Push hooks run in $GIT_DIR, so a relative hooks path is
        // read from there too.
        if shape == Shape::HooksDir && path.is_relative() && worktree.is_some() {
            out.push(Named {
                path: g.join(&path),
                why: format!("{key}, relative to {} (push hooks)", shown(g)),
                dir: true,
                hooks: true,
            });
        }
        out
    }

    /// A non-shell alias may set config for the command it runs:
    /// `alias.st = -c core.fsmonitor=./x status`.
    fn alias_config(
        &mut self,
        s: &Setting,
        value: &[u8],
        g: &Path,
        worktree: Option<&Path>,
        repo: &str,
        out: &mut Vec<Named>,
    ) {
        let words: Vec<Word> = tokenize(value)
            .into_iter()
            .filter_map(|t| match t {
                Tok::Word(w) => Some(w),
                _ => None,
            })
            .collect();
        let mut i = 0;
        while i < words.len() {
            let w = &words[i].text;
            if w == b"-c" {
                if let Some(kv) = words.get(i + 1) {
                    let (k, v) = match kv.text.iter().position(|&c| c == b'=') {
                        Some(eq) => (&kv.text[..eq], Some(kv.text[eq + 1..].to_vec())),
                        None => (kv.text.as_slice(), None),
                    };
                    if let Some((section, subsection, key)) = gitconfig::parse_key(k) {
                        let synthetic = Setting {
                            entry: Entry {
                                section,
                                subsection,
                                key,
                                value: v,
                                line: s.entry.line,
                            },
                            origin: s.origin.clone(),
                            scope: s.scope,
                            active: s.active,
                        };
                        // One level: the alias is the origin.
                        if shape(&synthetic.entry) != Some(Shape::Alias) {
                            let by = format!(" (set with -c by {}) of ", display_name(&s.entry));
                            for mut n in self.named(&synthetic, g, worktree, repo) {
                                n.why = n.why.replacen(" of ", &by, 1);
                                out.push(n);
                            }
                        }
                    }
                }
                i += 2;
                continue;
            }
            if w.starts_with(b"--config-env") {
                self.note(format!(
                    "{} of {} sets config from an environment variable (--config-env); \
                     what it names is not known at plan time",
                    display_name(&s.entry),
                    s.origin
                ));
            }
            i += 1;
        }
    }

    /// The file a program word names, or `None` when it is found on PATH
    /// (no slash) or cannot be known (a shell variable).
    fn word_path(&mut self, w: &Word, role: Role, why: &str, repo: &str) -> Option<PathBuf> {
        let mut text = w.text.clone();
        if w.dollar {
            let home = self
                .env
                .home
                .as_ref()
                .map(|h| h.as_os_str().as_bytes().to_vec());
            let expanded = [b"$HOME".as_slice(), b"${HOME}"].iter().find_map(|v| {
                let rest = text.strip_prefix(*v)?;
                (rest.is_empty() || rest.starts_with(b"/")).then(|| rest.to_vec())
            });
            match (expanded, home) {
                (Some(rest), Some(mut h)) if !rest.contains(&b'$') && !rest.contains(&b'`') => {
                    h.extend_from_slice(&rest);
                    text = h;
                }
                _ => {
                    if text.contains(&b'/') || role == Role::Script {
                        self.note(format!(
                            "{why} runs {} through a shell variable; what it names is not known at plan time (repository {repo})",
                            String::from_utf8_lossy(&text).escape_debug()
                        ));
                    }
                    return None;
                }
            }
        } else if w.tilde {
            let slash = text.iter().position(|&c| c == b'/').unwrap_or(text.len());
            let user = &text[1..slash];
            let home = if user.is_empty() {
                self.env.home.clone()
            } else {
                std::str::from_utf8(user)
                    .ok()
                    .and_then(|u| nix::unistd::User::from_name(u).ok().flatten())
                    .map(|u| u.dir)
            };
            if let Some(h) = home {
                let mut t = h.into_os_string().into_vec();
                t.extend_from_slice(&text[slash..]);
                text = t;
            }
        }
        if text.is_empty() || (role == Role::Program && !text.contains(&b'/')) {
            return None;
        }
        Some(PathBuf::from(OsString::from_vec(text)))
    }

    fn symlinks_in(&mut self, dir: &Path) {
        let (dir, entries) = self.entries(dir, "hooks directory");
        for (name, kind) in entries.iter() {
            if *kind == Kind::Link {
                let at = dir.join(name);
                self.pin_path(&at, &format!("target of the symlink {}", shown(&at)), false);
            }
        }
    }

    /// Submodules: gitdirs absorbed under `<common>/modules/**`, and the
    /// paths `.gitmodules` lists (a submodule cloned in place keeps its own
    /// `.git` directory).
    fn submodules(&mut self, common: &Path, worktree: Option<&Path>) {
        let mut stack = vec![(common.join("modules"), 0usize)];
        while let Some((dir, depth)) = stack.pop() {
            let (dir, entries) = self.entries(&dir, "submodule directory");
            for (name, kind) in entries.iter() {
                let Some(d) = self.gitdir_entry(&dir, name, *kind, "submodule gitdir") else {
                    continue;
                };
                if self.fs.probe_child(&d, "HEAD").exists {
                    self.module(common, &d);
                } else if depth < MAX_MODULE_DEPTH {
                    // Names with slashes nest (`modules/libs/a`).
                    stack.push((d, depth + 1));
                }
            }
        }
        // The checkouts `.gitmodules` lists lie inside the worktree (git
        // refuses paths that leave it): nothing to pin there unless the
        // worktree and a writable root overlap.
        let Some(w) = worktree else { return };
        if !self.overlaps_a_root(w) {
            return;
        }
        let (_, load) = self.fs.read(&w.join(".gitmodules"));
        let Load::Text(text) = load else { return };
        for e in gitconfig::parse(&text).entries {
            let (Some(name), Some(path)) = (e.sub_of("submodule", "path"), e.value.as_deref())
            else {
                continue;
            };
            let name = String::from_utf8_lossy(name).escape_debug().to_string();
            let owner = format!("submodule {name} of {}", shown(w));
            let dir = self.fs.probe(&w.join(os(path)));
            if dir.exists && dir.is_dir && !self.dotgit(&dir.path, &owner) {
                self.missing_dotgit(&dir.path, &owner);
            }
        }
    }

    /// Outside git mode the whole gitdir is read-only; an entry of it that
    /// is a symlink (`refs -> ../xrefs`, `objects`, `index`, `info`) leads
    /// out of that bind, so its target is pinned too: else the command
    /// wrote a ref and moved the branch to a commit of its own (adversarial
    /// pass 18). One short listing says whether there is any such entry.
    fn links_in_gitdir(&mut self, g: &Path) {
        if !self.fs.may_hold_links(g) {
            return;
        }
        let (dir, entries) = self.entries(g, "gitdir");
        for (name, kind) in entries.iter() {
            if *kind != Kind::Link {
                continue;
            }
            let at = dir.join(name);
            let f = self.fs.probe(&at);
            // What a missing target is held as: git's files by name, else
            // a directory (`refs`, `objects`, `logs`, `info`...).
            let b = name.as_bytes();
            let file = b.ends_with(b"HEAD")
                || matches!(
                    b,
                    b"index"
                        | b"packed-refs"
                        | b"config"
                        | b"config.worktree"
                        | b"commondir"
                        | b"description"
                        | b"shallow"
                        | b"gitdir"
                );
            self.pin_found(
                &f,
                &format!("entry {} of a read-only gitdir", shown(&at)),
                !file,
            );
        }
    }

    /// The directory an entry of `modules/` or `worktrees/` is, for a
    /// directory or a symlink (git follows one: `.git/modules/sm ->
    /// ../../mx` is the submodule's gitdir at `mx`). A link is pinned with
    /// its target, held by a placeholder while missing, or the command made
    /// a gitdir there whose hooks git ran at `submodule update` (adversarial
    /// pass 17). `None` for anything else, or a link leading nowhere yet.
    fn gitdir_entry(
        &mut self,
        dir: &Path,
        name: &OsStr,
        kind: Kind,
        what: &str,
    ) -> Option<PathBuf> {
        let d = dir.join(name);
        match kind {
            Kind::Dir => {
                // An entry of a listed canonical directory.
                self.fs.known_dir(&d, d.clone());
                Some(d)
            }
            Kind::Link => {
                let f = self.fs.probe(&d);
                self.pin_found(&f, &format!("{what} {}", shown(&d)), true);
                (f.exists && f.is_dir).then(|| f.path.clone())
            }
            Kind::File | Kind::Other => None,
        }
    }

    /// A submodule's gitdir under `modules/`: its `core.worktree` says
    /// where the checkout (and its `.git` pointer file) is.
    fn module(&mut self, common: &Path, gitdir: &Path) {
        let name = gitdir
            .strip_prefix(common.join("modules"))
            .unwrap_or(gitdir)
            .display()
            .to_string();
        let owner = format!("submodule {name} of {}", shown(common));
        let (_, load) = self.fs.read(&gitdir.join("config"));
        let worktree = match load {
            Load::Text(t) => gitconfig::parse(&t)
                .entries
                .iter()
                .filter(|e| e.is("core", "worktree"))
                .filter_map(|e| e.value.clone())
                .next_back()
                .map(|w| {
                    let why = format!("worktree named by {}", shown(&gitdir.join("config")));
                    self.hold_steps(gitdir, Path::new(os(&w)), &why);
                    self.fs.probe(&gitdir.join(os(&w))).path.clone()
                }),
            _ => None,
        };
        if let Some(w) = &worktree
            && self.fs.probe(w).is_dir
            && !self.dotgit(w, &owner)
        {
            self.missing_dotgit(w, &owner);
        }
        self.queue.push_back(Visit {
            git_dir: gitdir.to_path_buf(),
            worktree,
            found: owner,
        });
    }

    /// A checkout directory whose `.git` is missing (a submodule not
    /// initialized, a worktree whose pointer is gone): a `.git` made there
    /// during the run would be used by git afterwards.
    fn missing_dotgit(&mut self, dir: &Path, owner: &str) {
        let f = self.fs.probe(&dir.join(".git"));
        self.pin_found(&f, &format!("the .git of {owner} (not there yet)"), false);
    }

    /// Linked worktrees: `<common>/worktrees/<id>/gitdir` names each one's
    /// `.git` pointer file.
    fn worktrees(&mut self, common: &Path) {
        let (dir, entries) = self.entries(&common.join("worktrees"), "worktree directory");
        for (id, kind) in entries.iter() {
            let Some(g) = self.gitdir_entry(&dir, id, *kind, "worktree gitdir") else {
                continue;
            };
            let Load::Text(t) = self.read_meta(&g.join("gitdir"), "the worktree file") else {
                continue;
            };
            let line = rtrimmed(&t);
            if line.is_empty() {
                continue;
            }
            // Newer git may write it relative to the worktree's gitdir.
            let dotgit = g.join(os(line));
            let owner = format!(
                "linked worktree {} of {}",
                id.to_string_lossy().escape_debug(),
                shown(common)
            );
            // The worktree directory, resolved; its `.git` may be gone. (Read,
            // not probed: a pointer file is read next anyway, and the read
            // answers where it is too.)
            let f = self.fs.read(&dotgit).0;
            let worktree = match f.path.parent() {
                // Found with no symlink on the way: its parent is canonical.
                Some(w) if f.exists && f.links.is_empty() => {
                    self.fs.known_dir(w, w.to_path_buf());
                    Some(w.to_path_buf())
                }
                _ => dotgit
                    .parent()
                    .map(|w| self.fs.probe(w))
                    .filter(|w| w.exists && w.is_dir)
                    .map(|w| w.path.clone()),
            };
            if let Some(w) = &worktree
                && !self.dotgit(w, &owner)
            {
                self.missing_dotgit(w, &owner);
            }
            self.queue.push_back(Visit {
                git_dir: g,
                worktree,
                found: owner,
            });
        }
    }

    /// Tier 2: every `.git` under `root` (not inside `.git` directories).
    fn scan(&mut self, root: &Path) {
        let start = Instant::now();
        let mut stats = ScanStats {
            root: root.to_path_buf(),
            dirs: 0,
            entries: 0,
            found: 0,
            skipped: 0,
            elapsed: Duration::ZERO,
        };
        let mut found = Vec::new();
        super::host::scan_tree(root, &mut stats, &mut found);
        stats.found = found.len() as u64;
        stats.elapsed = start.elapsed();
        if stats.skipped > 0 {
            self.note(format!(
                "scan of {}: {} directories could not be read or were deeper than {MAX_SCAN_DEPTH} levels",
                shown(root),
                stats.skipped
            ));
        }
        self.plan.scans.push(stats);
        for dir in found {
            self.dotgit(
                &dir,
                &format!("repository {} found by the scan", shown(&dir)),
            );
        }
    }

    /// The directories pinned whole (existing, not through a link): what
    /// they hold needs no pin of its own.
    fn pinned_dirs(&self) -> HashSet<&OsStr> {
        // Only pins a writable root holds are bound: one outside them (a
        // common directory above the root, `../..` through a worktree
        // link) covers nothing, and counting it dropped every pin inside
        // the root below it (adversarial pass 19).
        self.plan
            .pins
            .iter()
            .filter(|p| p.exists && p.is_dir && !p.link && p.root.is_some())
            .map(|p| p.path.as_os_str())
            .collect()
    }

    /// Drops pins a pinned directory already covers, and returns the plan.
    fn finish(mut self) -> GitPlan {
        self.hold_linked_worktree_tops();
        if self.commits {
            self.open_gitdirs();
        }
        let dirs = self.pinned_dirs();
        let covered: Vec<bool> = self
            .plan
            .pins
            .iter()
            .map(|p| {
                ancestors(p.path.as_os_str())
                    .skip(1)
                    .any(|a| dirs.contains(a))
            })
            .collect();
        let mut covered = covered.into_iter();
        self.plan.pins.retain(|_| !covered.next().unwrap_or(false));
        self.plan.too_large = std::mem::take(&mut self.fs.too_large);
        self.plan
    }
}

impl Planner<'_> {
    /// The pinned gitdirs in a writable root that git mode opens: only
    /// repositories git would use as one (with a `HEAD`).
    fn openable_gitdirs(&mut self) -> Vec<PathBuf> {
        let gitdirs: HashSet<PathBuf> = self
            .plan
            .repos
            .iter()
            .flat_map(|r| [r.git_dir.clone(), r.common_dir.clone()])
            .collect();
        let opened: Vec<PathBuf> = self
            .plan
            .pins
            .iter()
            .filter(|p| p.exists && p.is_dir && !p.link && p.root.is_some())
            .filter(|p| gitdirs.contains(&p.path))
            .map(|p| p.path.clone())
            .collect();
        // Only a repository git would use as one (it has a HEAD): a
        // directory that is not one yet (a placeholder, an empty `.git`)
        // stays pinned whole, or a command could make it a repository of
        // its own config.
        opened
            .into_iter()
            .filter(|g| {
                let head = self.fs.probe(&g.join("HEAD"));
                head.exists && !head.is_dir && head.links.is_empty()
            })
            .collect()
    }

    /// Drops the (non-link) pins of the opened gitdirs and reindexes the rest.
    fn unpin(&mut self, set: &HashSet<&PathBuf>) {
        self.plan.pins.retain(|p| p.link || !set.contains(&p.path));
        self.pin_at.clear();
        self.link_pin_at.clear();
        for (i, p) in self.plan.pins.iter().enumerate() {
            let at = if p.link {
                &mut self.link_pin_at
            } else {
                &mut self.pin_at
            };
            at.insert(p.path.clone().into_os_string(), i);
        }
    }

    /// Pins the [`COMMIT_MODE_PINS`] entries of the opened gitdir `g` and
    /// records which of its [`COMMIT_MODE_ANCHORS`] can anchor.
    fn pin_commit_mode_entries(&mut self, g: &Path) {
        for (name, dir, why) in COMMIT_MODE_PINS {
            let path = g.join(name);
            let f = self.fs.probe(&path);
            // Held when missing: directories (an empty one is harmless)
            // and nothing else; `commondir` is reported below.
            if f.exists || (dir && !matches!(name, "rebase-merge" | "sequencer")) {
                let why = format!("git mode: {name} of the gitdir {} ({why})", shown(g));
                self.pin_found(&f, &why, dir);
            }
        }
        // A linked worktree's gitdir has neither: they are in its
        // common directory, which is opened as well.
        for name in COMMIT_MODE_ANCHORS {
            let path = g.join(name);
            let f = self.fs.probe(&path);
            if !f.exists {
                continue;
            }
            if f.is_dir && f.links.is_empty() {
                self.plan.anchors.push(path);
            } else {
                self.plan.unanchored.push(path);
            }
        }
    }

    /// A repository inside a root whose gitdir is not all in its `.git`
    /// directory (`.git` a link or a pointer file, or `objects`, `refs` or
    /// a `commondir` leading elsewhere) stops git's walk only while what it
    /// leads into stays open: the command closed a directory on the way
    /// (`chmod 000`), git below the worktree then tried its top for a bare
    /// repository, and ran what the command planted there (adversarial
    /// pass 26). Its top is held like a root's. A self-contained `.git`
    /// directory is pinned whole, so the command cannot close it.
    fn hold_linked_worktree_tops(&mut self) {
        let linked = |r: &Repo, w: &Path| {
            let dotgit = w.join(".git");
            let plain_dir = std::fs::symlink_metadata(&dotgit).is_ok_and(|m| m.is_dir());
            let inside = |n: &str| {
                std::fs::symlink_metadata(r.common_dir.join(n)).is_ok_and(|m| !m.is_symlink())
            };
            !plain_dir
                || r.git_dir != dotgit
                || r.common_dir != r.git_dir
                || !inside("objects")
                || !inside("refs")
        };
        let mut tops: Vec<PathBuf> = self
            .plan
            .repos
            .iter()
            .filter_map(|r| r.worktree.as_ref().map(|w| (r, w)))
            // A root's own top is held already (`hold_root_top`).
            .filter(|(_, w)| !self.fs.held.contains_key(w.as_os_str()))
            .filter(|(_, w)| self.root_of(w).is_some())
            .filter(|(r, w)| linked(r, w))
            .map(|(_, w)| w.clone())
            .collect();
        tops.sort();
        tops.dedup();
        for top in tops {
            let site = format!("the worktree {}", shown(&top));
            self.hold_bare_top(
                &top,
                &BareTop {
                    prefix: "",
                    site: &site,
                    it: "the worktree",
                    when: "its .git leads out of the worktree's .git directory, and git can use it only while the way there stays open",
                    head_first: false,
                    leave_repository: false,
                },
            );
        }
    }

    /// Holds the entries at the worktree `top` that keep git from taking
    /// it for a bare repository (see [`Self::open_gitdirs`]).
    fn hold_worktree_top(&mut self, top: &Path) {
        let site = format!("the worktree {}", shown(&top));
        self.hold_bare_top(
            top,
            &BareTop {
                prefix: "git mode: ",
                site: &site,
                it: "the worktree",
                when: "were its .git made unreadable",
                head_first: false,
                leave_repository: false,
            },
        );
    }

    /// Holds the entries at `top` that keep git from taking it for a bare
    /// repository: git's discovery, walking up from a directory in no
    /// repository of its own, tries each directory on the way for one
    /// (`HEAD`, `objects` and `refs`, or a `commondir` naming where the
    /// last two are) and then reads its config.
    fn hold_bare_top(&mut self, top: &Path, b: &BareTop) {
        // Missing (a placeholder holds it), or there already and no use
        // to git: a directory nobody may search (an earlier run's
        // placeholder), or a `HEAD` that is a directory. Pinned, it
        // stays so.
        let useless = |n: &str| {
            let p = top.join(n);
            match std::fs::symlink_metadata(&p) {
                Err(_) => true,
                Ok(m) => {
                    use std::os::unix::fs::PermissionsExt;
                    m.is_dir() && (n == "HEAD" || m.permissions().mode() & 0o111 == 0)
                }
            }
        };
        let why = |held: &str| {
            format!(
                "{}{held} at the top of {}, held so that git never takes {} for a bare repository ({})",
                b.prefix, b.site, b.it, b.when
            )
        };
        // `HEAD` alone is enough, since git checks it before it reads a
        // `commondir`; but in a worktree a `HEAD` entry makes `git diff
        // HEAD` ambiguous, so there it comes last.
        if b.head_first && useless("HEAD") {
            self.pin_path(&top.join("HEAD"), &why("HEAD"), true);
            return;
        }
        // In a worktree no `HEAD` entry (`git diff HEAD` failed as
        // ambiguous: adversarial pass 27): where the project has `refs`
        // and `objects` of its own, what git reads there is held instead.
        let candidates: &[&str] = if b.head_first {
            &["refs", "objects", "HEAD"]
        } else {
            &["refs", "objects"]
        };
        let held = candidates.iter().copied().find(|n| useless(n));
        // A root that already is a repository to git (a gitdir given as
        // the root, `-C G`) is one, writable by the grant: a `commondir`
        // placeholder would only make git outside fail on it. By git's own
        // test: a project's `HEAD` file beside `objects` and `refs` is no
        // repository until the command rewrites it (adversarial pass 23).
        if held.is_none() && b.leave_repository && self.is_gitdir(top) {
            return;
        }
        let held = held.or(b.head_first.then_some("HEAD"));
        if let Some(held) = held {
            self.pin_path(&top.join(held), &why(held), true);
        }
        // A worktree top whose project has `refs` and `objects` of its own
        // (or is laid out as a repository too) is completed into one by a
        // planted `HEAD`, and git takes it whenever its `.git` fails, after
        // the run as well: what git reads or runs there is held like a
        // gitdir's (a planted `config` ran its fsmonitor: adversarial
        // passes 27, 28).
        if held.is_none() {
            let why = format!(
                "{}at the top of {}, which git takes for a repository whenever its .git fails",
                b.prefix, b.site
            );
            for (name, dir) in [
                ("config", false),
                ("config.worktree", false),
                ("hooks", true),
            ] {
                self.pin_path(&top.join(name), &format!("{name} {why}"), dir);
            }
        }
        // git reads `commondir` once `HEAD` passes and then looks in the
        // directory it names: a planted top-level `commondir` made the held
        // `refs` no matter (adversarial pass 8). Held too (a placeholder
        // directory, which git fails to read and stops on); a project's own
        // `commondir` file stays as it is, read-only, and the directory it
        // names is held (the command made it a repository: pass 27), and
        // outside a worktree `HEAD` beside it.
        let why = format!(
            "{}commondir at the top of {}, held so that git never takes {} for a bare repository whose objects and refs lie elsewhere",
            b.prefix, b.site, b.it
        );
        let own = std::fs::symlink_metadata(top.join("commondir")).is_ok_and(|m| !m.is_dir());
        self.pin_path(&top.join("commondir"), &why, !own);
        if own {
            if let Load::Text(t) = self.fs.read(&top.join("commondir")).1 {
                let named = top.join(os(rtrimmed(&t)));
                let why = format!("{why} (the directory the project's own commondir names)");
                self.pin_named(&named, &why, true);
            }
            if held != Some("HEAD") && b.head_first {
                self.pin_path(&top.join("HEAD"), &why, true);
            }
        }
    }

    /// Git mode: each pinned gitdir in a writable root is unpinned and the
    /// entries of [`COMMIT_MODE_PINS`] in it pinned instead. A gitdir inside
    /// another pinned directory (a submodule's, in a pinned `modules`) stays
    /// covered by it.
    fn open_gitdirs(&mut self) {
        let opened = self.openable_gitdirs();
        if opened.is_empty() {
            return;
        }
        let set: HashSet<&PathBuf> = opened.iter().collect();
        self.unpin(&set);
        for g in &opened {
            self.pin_commit_mode_entries(g);
        }
        // The mounts cannot stop a chmod: a command that makes `.git`,
        // `objects` or `refs` unreadable to its (unprivileged) owner makes
        // the gitdir no repository all the same, and git's discovery then
        // tries the worktree top itself as a bare one, which needs `HEAD`,
        // `objects` and `refs` there. One of them held keeps it from ever
        // being one: `refs` (a placeholder directory of mode 0444, which
        // git's access(X_OK) refuses), else `objects`, else `HEAD` (not
        // first: a `HEAD` in the worktree makes `git diff HEAD` ambiguous).
        // A `.git` pointer file that leads nowhere stops discovery, so only
        // a `.git` directory needs it.
        let tops: Vec<PathBuf> = self
            .plan
            .repos
            .iter()
            .filter(|r| set.contains(&r.git_dir))
            .filter_map(|r| r.worktree.clone())
            .filter(|w| set.contains(&w.join(".git")))
            .collect();
        for top in tops {
            self.hold_worktree_top(&top);
        }
        // After the covered pins go: a gitdir inside a pinned directory
        // needs nothing of its own.
        let pinned = self.pinned_dirs();
        let uncovered: Vec<PathBuf> = opened
            .into_iter()
            .filter(|g| !ancestors(g.as_os_str()).skip(1).any(|a| pinned.contains(a)))
            .collect();
        for g in uncovered {
            if !self.fs.probe(&g.join("commondir")).exists {
                self.plan.missing_commondir.push(g);
            }
        }
    }
}

/// `gitdir: <path>` (git also accepts no space; trailing blanks go).
/// The gitdir a `.git` pointer file names, read as git's
/// `read_gitfile_gently` reads it: the whole file must start with
/// `gitdir: `, and the path is the rest ([`pointer`]). Any other byte git
/// keeps (a trailing blank or tab, a leading one after the prefix) stays:
/// a path trimmed where git does not trim is a different directory, left
/// writable while git uses the other (adversarial pass 10).
pub(super) fn gitdir_line(text: &[u8]) -> Option<Vec<u8>> {
    let rest = pointer(text.strip_prefix(b"gitdir: ")?);
    (!rest.is_empty()).then(|| rest.to_vec())
}

/// A path file's content as git takes it (`.git` pointers after their
/// prefix, `commondir`): the whole file less trailing `\n` and `\r`, up to
/// a NUL (git uses it as a C string).
pub(super) fn pointer(text: &[u8]) -> &[u8] {
    let text = text.split(|&c| c == 0).next().unwrap_or_default();
    let end = text
        .iter()
        .rposition(|&c| c != b'\n' && c != b'\r')
        .map_or(0, |i| i + 1);
    &text[..end]
}

/// A worktree's `gitdir` file as git's `get_linked_worktree` reads it:
/// `strbuf_rtrim`, every trailing blank gone, up to a NUL.
fn rtrimmed(text: &[u8]) -> &[u8] {
    let text = text.split(|&c| c == 0).next().unwrap_or_default();
    text.trim_ascii_end()
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn file_why(f: &FileRead, repo: &str, env: &GitEnv) -> String {
    let bin = || {
        let s = env.config_system.iter().find(|s| s.path == f.path)?;
        s.bin.as_deref()
    };
    let mut why = match (&f.included_by, f.scope) {
        (Some((origin, key)), _) => {
            let key = key.replacen("includeif.", "includeIf.", 1);
            format!("{key} of {origin}")
        }
        (None, Scope::System) => match bin() {
            Some(b) => format!("system git config of a git on $PATH in {}", shown(b)),
            None => "system git config".to_string(),
        },
        (None, Scope::Global) => "global git config".to_string(),
        (None, Scope::Local) => format!("repository config of {repo}"),
        (None, Scope::Worktree) => format!("worktree config of {repo}"),
        (None, Scope::Command) => "command-line config".to_string(),
    };
    if !f.active {
        why.push_str(" (an include git reads only under a condition that does not hold now)");
    }
    if !f.exists {
        why.push_str("; git reads it once it exists");
    }
    why
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;
    use std::process::Command;

    /// Runs git in `dir` with a private HOME and no system config, so the
    /// host's config cannot change what the tests see. Fails (never skips)
    /// without the git binary.
    fn git(home: &Path, dir: &Path, args: &[&str]) -> String {
        let out = Command::new("git")
            .args([
                "-c",
                "user.name=t",
                "-c",
                "user.email=t@example.invalid",
                "-c",
                "protocol.file.allow=always",
                "-c",
                "init.defaultBranch=main",
                "-c",
                "advice.detachedHead=false",
            ])
            .args(args)
            .current_dir(dir)
            .env("HOME", home)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env_remove("XDG_CONFIG_HOME")
            .env_remove("GIT_CONFIG_GLOBAL")
            .env_remove("GIT_DIR")
            .env_remove("GIT_WORK_TREE")
            .env_remove("GIT_COMMON_DIR")
            .env_remove("GIT_INDEX_FILE")
            .env_remove("GIT_CONFIG_COUNT")
            .output()
            .unwrap_or_else(|e| {
                panic!("these tests need the git binary (apt-get install git): running git: {e}")
            });
        assert!(
            out.status.success(),
            "git {args:?} in {}: {}",
            dir.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    struct Fixture {
        _tmp: tempfile::TempDir,
        base: PathBuf,
        home: PathBuf,
    }

    impl Fixture {
        fn new() -> Fixture {
            let tmp = tempfile::tempdir().unwrap();
            let base = tmp.path().canonicalize().unwrap();
            let home = base.join("home");
            std::fs::create_dir_all(&home).unwrap();
            Fixture {
                _tmp: tmp,
                base,
                home,
            }
        }

        fn git(&self, dir: &Path, args: &[&str]) -> String {
            git(&self.home, dir, args)
        }

        fn env(&self) -> GitEnv {
            GitEnv {
                home: Some(self.home.clone()),
                ..GitEnv::default()
            }
        }

        /// A repository with one commit.
        fn repo(&self, rel: &str) -> PathBuf {
            let d = self.base.join(rel);
            std::fs::create_dir_all(&d).unwrap();
            self.git(&d, &["init", "-q"]);
            std::fs::write(d.join("README"), "x\n").unwrap();
            self.git(&d, &["add", "README"]);
            self.git(&d, &["commit", "-q", "-m", "init"]);
            d
        }

        fn config(&self, repo: &Path, key: &str, value: &str) {
            self.git(repo, &["config", key, value]);
        }
    }

    fn plan(roots: &[&Path], env: &GitEnv, scan: Scan) -> GitPlan {
        let roots: Vec<PathBuf> = roots.iter().map(|r| r.to_path_buf()).collect();
        plan_git(
            &roots,
            env,
            &GitOptions {
                scan,
                cwd: None,
                commits: false,
            },
        )
    }

    #[test]
    fn git_mode_opens_the_gitdir_and_pins_what_git_reads_or_runs_in_it() {
        let f = Fixture::new();
        let r = f.repo("ws");
        let g = r.join(".git");
        let commits = GitOptions {
            commits: true,
            ..GitOptions::default()
        };
        let p = plan_git(std::slice::from_ref(&r), &f.env(), &commits);
        assert!(pin(&p, &g).is_none(), "the gitdir stays writable");
        for name in ["config", "hooks", "info"] {
            assert!(must_pin(&p, &g.join(name)).exists, "{name}");
        }
        // Missing: held (directories), or reported (commondir).
        assert!(!must_pin(&p, &g.join("modules")).exists);
        assert!(pin(&p, &g.join("rebase-merge")).is_none());
        assert_eq!(p.missing_commondir, vec![g.clone()]);
        for data in ["objects", "refs", "index", "logs"] {
            assert!(pin(&p, &g.join(data)).is_none(), "{data}");
        }
        // HEAD read-only, objects and refs held in place (writable), and
        // `refs` at the top of the worktree held, so that the worktree
        // never passes for a bare repository.
        assert!(must_pin(&p, &g.join("HEAD")).exists);
        assert_eq!(p.anchors, vec![g.join("objects"), g.join("refs")]);
        assert!(p.unanchored.is_empty());
        let top = must_pin(&p, &r.join("refs"));
        assert!(!top.exists && top.is_dir, "{top:?}");
        // A worktree that has a `refs` directory of its own: `objects`.
        std::fs::create_dir(r.join("refs")).unwrap();
        let p = plan_git(std::slice::from_ref(&r), &f.env(), &commits);
        assert!(pin(&p, &r.join("refs")).is_none());
        assert!(!must_pin(&p, &r.join("objects")).exists);
        std::fs::remove_dir(r.join("refs")).unwrap();
        std::fs::write(g.join("commondir"), ".\n").unwrap();
        let p = plan_git(std::slice::from_ref(&r), &f.env(), &commits);
        assert!(p.missing_commondir.is_empty());
        assert!(must_pin(&p, &g.join("commondir")).exists);
        // Without the mode the gitdir is pinned whole; the root's top is
        // held all the same (as every root's is).
        let p = plan_git(std::slice::from_ref(&r), &f.env(), &GitOptions::default());
        assert!(must_pin(&p, &g).is_dir);
        assert!(pin(&p, &g.join("config")).is_none());
        assert!(p.anchors.is_empty() && !must_pin(&p, &r.join("refs")).exists);
        // A symlinked `objects` cannot be held in place: git mode refuses.
        std::fs::rename(g.join("objects"), r.join("objs")).unwrap();
        symlink("../objs", g.join("objects")).unwrap();
        let p = plan_git(std::slice::from_ref(&r), &f.env(), &commits);
        assert_eq!(p.unanchored, vec![g.join("objects")]);
    }

    #[test]
    fn git_mode_keeps_a_gitdir_that_is_no_repository_pinned_whole() {
        let f = Fixture::new();
        let r = f.base.join("ws");
        std::fs::create_dir_all(r.join(".git")).unwrap();
        let commits = GitOptions {
            commits: true,
            ..GitOptions::default()
        };
        let p = plan_git(std::slice::from_ref(&r), &f.env(), &commits);
        if let Some(whole) = pin(&p, &r.join(".git")) {
            assert!(whole.is_dir);
        }
        assert!(pin(&p, &r.join(".git/config")).is_none());
        assert!(p.missing_commondir.is_empty());
    }

    fn pin<'a>(p: &'a GitPlan, path: &Path) -> Option<&'a Pin> {
        p.pins.iter().find(|x| x.path == path && !x.link)
    }

    #[track_caller]
    fn must_pin<'a>(p: &'a GitPlan, path: &Path) -> &'a Pin {
        pin(p, path).unwrap_or_else(|| {
            let all: Vec<String> = p
                .pins
                .iter()
                .map(|x| format!("{} ({})", x.path.display(), x.why))
                .collect();
            panic!(
                "no pin for {}; pins: {all:#?}; notes: {:#?}",
                path.display(),
                p.notes
            )
        })
    }

    #[test]
    fn a_plain_repository_pins_its_git_dir_and_names_the_global_config() {
        let f = Fixture::new();
        let r = f.repo("w");
        let p = plan(&[&r], &f.env(), Scan::Off);
        let g = must_pin(&p, &r.join(".git"));
        assert!(g.exists && g.is_dir && !g.link);
        assert_eq!(g.root.as_deref(), Some(r.as_path()));
        assert!(g.why.contains("writable root"), "{}", g.why);
        // Global files git would read once they exist; outside the roots.
        let gc = must_pin(&p, &f.home.join(".gitconfig"));
        assert!(!gc.exists && gc.root.is_none());
        must_pin(&p, &f.home.join(".config/git/config"));
        // Files inside the pinned .git are covered by it.
        assert!(pin(&p, &r.join(".git/config")).is_none());
        assert_eq!(p.repos.len(), 1);
        assert_eq!(p.repos[0].worktree.as_deref(), Some(r.as_path()));
        assert!(p.notes.is_empty(), "{:?}", p.notes);
    }

    #[test]
    fn system_configs_are_etc_and_the_prefix_of_each_bin_on_path() {
        let path = "/usr/local/bin:/usr/bin:rel/bin:/opt/homebrew/bin:/usr/local/bin/:\
                    ::/bin:/usr/sbin:/opt/homebrew/bin:/home/u/.local/bin:/x/bin/..:.:bin";
        let got: Vec<(String, Option<String>)> = system_configs(Some(OsStr::new(path)))
            .into_iter()
            .map(|s| {
                let bin = s.bin.map(|b| b.display().to_string());
                (s.path.display().to_string(), bin)
            })
            .collect();
        let want = [
            ("/etc/gitconfig", None),
            ("/usr/local/etc/gitconfig", Some("/usr/local/bin")),
            ("/opt/homebrew/etc/gitconfig", Some("/opt/homebrew/bin")),
            ("/home/u/.local/etc/gitconfig", Some("/home/u/.local/bin")),
        ];
        let want: Vec<(String, Option<String>)> = want
            .iter()
            .map(|(p, b)| (p.to_string(), b.map(str::to_string)))
            .collect();
        assert_eq!(got, want);
        assert_eq!(system_configs(None).len(), 1);
    }

    #[test]
    fn a_system_config_in_a_root_is_pinned_and_names_its_git() {
        let f = Fixture::new();
        let r = f.repo("w");
        let pfx = f.base.join("pfx");
        std::fs::create_dir_all(pfx.join("etc")).unwrap();
        let inc = r.join("sys/inc");
        let text = format!("[include]\n\tpath = {}\n", inc.display());
        std::fs::write(pfx.join("etc/gitconfig"), text).unwrap();
        let path = format!("{}:/usr/bin", pfx.join("bin").display());
        let env = GitEnv {
            config_system: system_configs(Some(OsStr::new(&path))),
            ..f.env()
        };
        let p = plan(&[&r, &f.base], &env, Scan::Off);
        let sys = must_pin(&p, &pfx.join("etc/gitconfig"));
        let want = format!(
            "system git config of a git on $PATH in {}",
            pfx.join("bin").display()
        );
        assert_eq!(sys.why, want);
        let i = must_pin(&p, &inc);
        assert!(!i.exists && i.root.as_deref() == Some(r.as_path()), "{i:?}");
        assert!(i.why.contains("gitconfig:2"), "{}", i.why);
    }

    #[test]
    fn submodule_pointer_files_are_pinned_and_a_rewritten_pointer_is_followed() {
        let f = Fixture::new();
        let lib = f.repo("lib");
        let r = f.repo("w");
        f.git(
            &r,
            &["submodule", "add", "-q", lib.to_str().unwrap(), "sub"],
        );
        f.git(
            &r,
            &[
                "submodule",
                "add",
                "-q",
                lib.to_str().unwrap(),
                "libs/nested",
            ],
        );
        let p = plan(&[&r], &f.env(), Scan::Off);
        for (path, name) in [("sub", "sub"), ("libs/nested", "libs/nested")] {
            let ptr = must_pin(&p, &r.join(path).join(".git"));
            assert!(ptr.exists && !ptr.is_dir, "{ptr:?}");
            assert!(
                ptr.why.contains(&format!("submodule {name}")),
                "{}",
                ptr.why
            );
        }
        assert!(
            p.repos
                .iter()
                .any(|x| x.git_dir == r.join(".git/modules/libs/nested")
                    && x.worktree.as_deref() == Some(r.join("libs/nested").as_path()))
        );

        // Attack (a) done before the run: the pointer already names a gitdir
        // elsewhere whose config sets core.fsmonitor. That gitdir is visited
        // too, and the program it names in the worktree is pinned (missing).
        let evil = f.base.join("evil");
        std::fs::create_dir_all(&evil).unwrap();
        f.git(&evil, &["init", "-q", "--bare", "."]);
        f.git(&evil, &["config", "core.fsmonitor", "./payload.sh"]);
        std::fs::write(r.join("sub/.git"), format!("gitdir: {}\n", evil.display())).unwrap();
        let p = plan(&[&r], &f.env(), Scan::Off);
        must_pin(&p, &r.join("sub/.git"));
        let g = must_pin(&p, &evil);
        assert!(g.root.is_none() && g.why.contains("pointer file"), "{g:?}");
        let payload = must_pin(&p, &r.join("sub/payload.sh"));
        assert!(!payload.exists && payload.root.as_deref() == Some(r.as_path()));
        assert!(payload.why.contains("core.fsmonitor of"), "{}", payload.why);
    }

    #[test]
    fn a_submodule_not_checked_out_gets_a_missing_dotgit_pin() {
        let f = Fixture::new();
        let lib = f.repo("lib");
        let r = f.repo("w");
        f.git(
            &r,
            &["submodule", "add", "-q", lib.to_str().unwrap(), "sub"],
        );
        f.git(&r, &["commit", "-q", "-m", "sub"]);
        let c = f.base.join("clone");
        f.git(
            &f.base,
            &["clone", "-q", r.to_str().unwrap(), c.to_str().unwrap()],
        );
        // The clone has sub/ as an empty directory until `submodule update`.
        assert!(c.join("sub").is_dir() && !c.join("sub/.git").exists());
        let p = plan(&[&c], &f.env(), Scan::Off);
        let m = must_pin(&p, &c.join("sub/.git"));
        assert!(!m.exists && m.why.contains("not there yet"), "{m:?}");
    }

    #[test]
    fn nested_clones_are_found_by_the_scan_only() {
        let f = Fixture::new();
        let lib = f.repo("lib");
        let r = f.repo("w");
        std::fs::create_dir_all(r.join("vendor/deep/er")).unwrap();
        let nested = r.join("vendor/deep/er/lib");
        f.git(
            &r,
            &[
                "clone",
                "-q",
                lib.to_str().unwrap(),
                nested.to_str().unwrap(),
            ],
        );
        f.config(&nested, "core.hooksPath", "githooks");
        // A .git inside a .git directory is not a repository to scan for.
        std::fs::create_dir_all(r.join(".git/x/.git")).unwrap();

        let off = plan(&[&r], &f.env(), Scan::Off);
        assert!(
            pin(&off, &nested.join(".git")).is_none(),
            "tier 1 does not walk the tree"
        );
        assert!(off.scans.is_empty());

        let full = plan(&[&r], &f.env(), Scan::Full);
        let g = must_pin(&full, &nested.join(".git"));
        assert!(g.is_dir && g.why.contains("found by the scan"), "{g:?}");
        let hooks = must_pin(&full, &nested.join("githooks"));
        assert!(
            !hooks.exists && hooks.why.contains("core.hooksPath"),
            "{hooks:?}"
        );
        assert_eq!(full.scans.len(), 1);
        assert_eq!(full.scans[0].found, 1, "{:?}", full.scans);
    }

    /// A project inside a wider root (`/tmp/pt/work` under `/tmp`): git
    /// run in it uses its repository, which the root's own `.git` (there
    /// is none) does not lead to.
    #[test]
    fn the_repository_of_a_working_directory_inside_a_wider_root() {
        let f = Fixture::new();
        let r = f.repo("projects/app");
        f.config(&r, "core.hooksPath", ".husky/_");
        let sub = r.join("src");
        std::fs::create_dir_all(&sub).unwrap();
        let roots = vec![f.base.clone()];
        let off = plan_git(&roots, &f.env(), &GitOptions::default());
        assert!(pin(&off, &r.join(".husky/_")).is_none());
        let opts = GitOptions {
            cwd: Some(sub),
            ..GitOptions::default()
        };
        let p = plan_git(&roots, &f.env(), &opts);
        let h = must_pin(&p, &r.join(".husky/_"));
        assert!(!h.exists, "{h:?}");
        assert_eq!(h.root.as_deref(), Some(f.base.as_path()));
        must_pin(&p, &r.join(".git"));
    }

    #[test]
    fn husky_hooks_path_is_pinned_relative_to_each_worktree() {
        let f = Fixture::new();
        let r = f.repo("w");
        std::fs::create_dir_all(r.join(".husky/_")).unwrap();
        f.config(&r, "core.hooksPath", ".husky/_");
        f.git(&r, &["worktree", "add", "-q", "../wt"]);
        let wt = f.base.join("wt");
        std::fs::create_dir_all(wt.join(".husky/_")).unwrap();
        let p = plan(&[&r, &wt], &f.env(), Scan::Off);
        for top in [&r, &wt] {
            let h = must_pin(&p, &top.join(".husky/_"));
            assert!(h.exists && h.is_dir, "{h:?}");
            assert!(h.why.contains("core.hooksPath of"), "{}", h.why);
            assert!(
                h.why.contains(&format!("relative to {}", top.display())),
                "{}",
                h.why
            );
            assert_eq!(h.root.as_deref(), Some(top.as_path()));
        }
        // A hooks path that does not exist yet is reported missing.
        f.config(&r, "core.hooksPath", "hooks");
        let p = plan(&[&r], &f.env(), Scan::Off);
        let h = must_pin(&p, &r.join("hooks"));
        // Missing, and a directory is what a placeholder must be.
        assert!(!h.exists && h.is_dir, "{h:?}");
    }

    #[test]
    fn linked_worktree_pointer_gitdir_and_commondir_are_pinned() {
        let f = Fixture::new();
        let main = f.repo("main");
        f.git(&main, &["worktree", "add", "-q", "../ws/wt"]);
        let wt = f.base.join("ws/wt");
        // Only the worktree is writable.
        let p = plan(&[&wt], &f.env(), Scan::Off);
        let ptr = must_pin(&p, &wt.join(".git"));
        assert!(ptr.exists && !ptr.is_dir && ptr.root.as_deref() == Some(wt.as_path()));
        let common = must_pin(&p, &main.join(".git"));
        assert!(common.why.contains("common directory"), "{}", common.why);
        assert!(common.root.is_none());
        // The pointer's gitdir lies inside the common dir, outside every
        // root: kept for `explain` like it, never bound.
        assert!(pin(&p, &main.join(".git/worktrees/wt")).is_none_or(|x| x.root.is_none()));
        assert!(
            p.repos
                .iter()
                .any(|x| x.worktree.as_deref() == Some(main.as_path()))
        );

        // With the main repository writable too, its list of worktrees
        // leads to the worktree's pointer file.
        let p = plan(&[&main], &f.env(), Scan::Off);
        let ptr = must_pin(&p, &wt.join(".git"));
        assert!(ptr.why.contains("linked worktree wt"), "{}", ptr.why);
    }

    #[test]
    fn drivers_helpers_aliases_and_editors_name_programs() {
        let f = Fixture::new();
        let r = f.repo("w");
        let set = [
            ("filter.x.clean", "./scripts/clean.sh --arg %f"),
            ("filter.x.process", "tools/filter-process"),
            ("diff.x.textconv", "sh tools/textconv.sh"),
            ("diff.external", "FOO=1 ./bin/difftool"),
            ("merge.x.driver", "env -i ./bin/merge %O %A %B"),
            ("credential.helper", "!./bin/cred"),
            (
                "credential.https://example.com.helper",
                "/opt/cred/helper --x",
            ),
            ("alias.y", "!f() { ./bin/alias-y \"$@\"; }; f"),
            ("alias.st", "-c core.hooksPath=alias-hooks status"),
            ("core.fsmonitor", "scripts/fsmonitor"),
            ("core.pager", "less -R"),
            ("core.editor", "\"$HOME/bin/ed\" --wait"),
            ("core.sshCommand", "ssh -i key"),
            ("core.askPass", "bin/askpass with space"),
            ("gpg.program", "bin/gpg"),
            ("gpg.ssh.program", "bin/ssh-keygen"),
            ("sequence.editor", "node ./tools/seq.js"),
            ("pager.log", "true"),
            ("pager.diff", "./bin/diff-pager"),
            ("core.gitProxy", "bin/proxy for example.com"),
            ("core.attributesFile", "~/attrs"),
            ("include.path", "../shared.inc"),
            ("gpg.ssh.allowedSignersFile", ".signers"),
            ("http.https://example.com.sslCAInfo", "certs/ca.pem"),
        ];
        for (k, v) in set {
            f.config(&r, k, v);
        }
        let p = plan(&[&r, &f.home], &f.env(), Scan::Off);
        let want = [
            ("scripts/clean.sh", "program run by filter.x.clean"),
            ("tools/filter-process", "program run by filter.x.process"),
            ("tools/textconv.sh", "script run by diff.x.textconv"),
            ("bin/difftool", "diff.external"),
            ("bin/merge", "merge.x.driver"),
            ("bin/cred", "credential.helper"),
            ("bin/alias-y", "alias.y"),
            ("alias-hooks", "core.hooksPath (set with -c by alias.st) of"),
            ("scripts/fsmonitor", "core.fsmonitor"),
            ("bin/askpass with space", "core.askPass"),
            ("bin/gpg", "gpg.program"),
            ("bin/ssh-keygen", "gpg.ssh.program"),
            ("tools/seq.js", "sequence.editor"),
            ("bin/diff-pager", "pager.diff"),
            ("bin/proxy", "core.gitProxy"),
            (".signers", "gpg.ssh.allowedSignersFile of"),
            ("certs/ca.pem", "http.https://example.com.sslCAInfo of"),
        ];
        for (rel, why) in want {
            let x = must_pin(&p, &r.join(rel));
            assert!(x.why.contains(why), "{rel}: {}", x.why);
            // Missing: a hooks directory or a file is what git expects.
            assert_eq!(x.is_dir, rel == "alias-hooks", "{x:?}");
            assert!(!x.exists && x.root.as_deref() == Some(r.as_path()), "{x:?}");
        }
        must_pin(&p, Path::new("/opt/cred/helper"));
        must_pin(&p, &f.home.join("bin/ed"));
        let attrs = must_pin(&p, &f.home.join("attrs"));
        assert_eq!(attrs.root.as_deref(), Some(f.home.as_path()));
        // include.path is relative to the including file (.git/config).
        let inc = must_pin(&p, &r.join("shared.inc"));
        assert!(inc.why.contains("include.path of"), "{}", inc.why);
        // Programs on PATH are no pins.
        for name in ["less", "ssh", "sh", "node", "env", "true"] {
            assert!(
                !p.pins
                    .iter()
                    .any(|x| x.path.file_name() == Some(OsStr::new(name))),
                "{name}"
            );
        }
    }

    #[test]
    fn a_symlinked_hook_and_hooks_dir_are_pinned_at_their_targets() {
        let f = Fixture::new();
        let r = f.repo("w");
        std::fs::create_dir_all(r.join("scripts")).unwrap();
        std::fs::write(r.join("scripts/pre-commit"), "#!/bin/sh\n").unwrap();
        symlink("../../scripts/pre-commit", r.join(".git/hooks/pre-commit")).unwrap();
        let p = plan(&[&r], &f.env(), Scan::Off);
        let t = must_pin(&p, &r.join("scripts/pre-commit"));
        assert!(t.exists && t.why.contains("symlink"), "{t:?}");

        std::fs::create_dir_all(r.join("tools/hooks")).unwrap();
        symlink("tools/hooks", r.join(".husky")).unwrap();
        symlink("../../scripts/pre-commit", r.join("tools/hooks/pre-push")).unwrap();
        f.config(&r, "core.hooksPath", ".husky");
        let p = plan(&[&r], &f.env(), Scan::Off);
        let link = p
            .pins
            .iter()
            .find(|x| x.link && x.path == r.join(".husky"))
            .expect("the symlink itself is pinned");
        assert!(link.why.contains("core.hooksPath"), "{}", link.why);
        assert_eq!(
            link.leads_to.as_deref(),
            Some(r.join("tools/hooks").as_path())
        );
        let d = must_pin(&p, &r.join("tools/hooks"));
        assert!(d.is_dir && d.exists);
        must_pin(&p, &r.join("scripts/pre-commit"));

        // The default hooks directory itself a symlink into the worktree
        // (some setups link .git/hooks to a tracked directory).
        f.git(&r, &["config", "--unset", "core.hooksPath"]);
        std::fs::remove_dir_all(r.join(".git/hooks")).unwrap();
        std::fs::create_dir_all(r.join("githooks")).unwrap();
        symlink("../githooks", r.join(".git/hooks")).unwrap();
        let p = plan(&[&r], &f.env(), Scan::Off);
        let d = must_pin(&p, &r.join("githooks"));
        assert!(d.is_dir && d.why.contains("hooks directory"), "{d:?}");
    }

    #[test]
    fn a_symlinked_dotgit_is_pinned_at_its_target() {
        let f = Fixture::new();
        let real = f.repo("real");
        let w = f.base.join("w");
        std::fs::create_dir_all(&w).unwrap();
        symlink(real.join(".git"), w.join(".git")).unwrap();
        let p = plan(&[&w, &real], &f.env(), Scan::Off);
        assert!(
            p.pins.iter().any(|x| x.link
                && x.path == w.join(".git")
                && x.root.as_deref() == Some(w.as_path()))
        );
        let t = must_pin(&p, &real.join(".git"));
        assert_eq!(t.root.as_deref(), Some(real.as_path()));
    }

    #[test]
    fn the_global_config_and_what_it_names_inside_a_writable_home() {
        let f = Fixture::new();
        let r = f.repo("w");
        std::fs::write(
            f.home.join(".gitconfig"),
            "[core]\n\thooksPath = ~/work/hooks\n[include]\n\tpath = .gitconfig.local\n",
        )
        .unwrap();
        // $HOME itself is writable: the global files are pins too.
        let p = plan(&[&r, &f.home], &f.env(), Scan::Off);
        let gc = must_pin(&p, &f.home.join(".gitconfig"));
        assert!(gc.exists && gc.why == "global git config", "{gc:?}");
        let xdg = must_pin(&p, &f.home.join(".config/git/config"));
        assert!(!xdg.exists && xdg.root.as_deref() == Some(f.home.as_path()));
        let local = must_pin(&p, &f.home.join(".gitconfig.local"));
        assert!(
            !local.exists && local.why.contains("include.path of"),
            "{local:?}"
        );
        let h = must_pin(&p, &f.home.join("work/hooks"));
        assert!(
            h.why.contains("core.hooksPath of") && h.why.contains(".gitconfig:2"),
            "{}",
            h.why
        );
    }

    #[test]
    fn every_include_condition_kind() {
        let f = Fixture::new();
        let r = f.repo("w");
        f.config(&r, "remote.origin.url", "https://example.com/org/w.git");
        let inc = |name: &str, key: &str| {
            let p = f.home.join(name);
            std::fs::write(&p, format!("[core]\n\t{key} = ./{name}-program\n")).unwrap();
        };
        inc("gitdir", "pager");
        inc("gitdiri", "editor");
        inc("onbranch", "sshCommand");
        inc("otherbranch", "askPass");
        inc("hasconfig", "alternateRefsCommand");
        inc("other-gitdir", "fsmonitor");
        let gd = r.join(".git");
        let global = format!(
            "[includeIf \"gitdir:{}\"]\n\tpath = gitdir\n\
             [includeIf \"gitdir/i:{}\"]\n\tpath = gitdiri\n\
             [includeIf \"onbranch:main\"]\n\tpath = onbranch\n\
             [includeIf \"onbranch:release/**\"]\n\tpath = otherbranch\n\
             [includeIf \"hasconfig:remote.*.url:https://example.com/**\"]\n\tpath = hasconfig\n\
             [includeIf \"gitdir:/nowhere/\"]\n\tpath = other-gitdir\n",
            gd.display(),
            gd.display().to_string().to_uppercase()
        );
        std::fs::write(f.home.join(".gitconfig"), global).unwrap();

        // What git itself makes of it, for the conditions that hold now.
        let listed = f.git(&r, &["config", "--list", "--show-origin"]);
        for (name, on) in [
            ("gitdir", true),
            ("gitdiri", true),
            ("onbranch", true),
            ("hasconfig", true),
            ("otherbranch", false),
            ("other-gitdir", false),
        ] {
            assert_eq!(
                listed.contains(&format!("./{name}-program")),
                on,
                "{name}: {listed}"
            );
        }

        let p = plan(&[&r], &f.env(), Scan::Off);
        for name in ["gitdir", "gitdiri", "onbranch", "hasconfig"] {
            let x = must_pin(&p, &r.join(format!("{name}-program")));
            assert!(!x.why.contains("does not hold now"), "{name}: {}", x.why);
        }
        // The other branch's include is pinned too (a checkout makes it
        // true), marked as such; so is the other gitdir's (git reads it in
        // a repository there), but what it names relative to that
        // repository is not.
        let x = must_pin(&p, &r.join("otherbranch-program"));
        assert!(x.why.contains("does not hold now"), "{}", x.why);
        let inc_file = must_pin(&p, &f.home.join("otherbranch"));
        assert!(
            inc_file.why.contains("includeIf.onbranch:release/**.path"),
            "{}",
            inc_file.why
        );
        assert!(pin(&p, &r.join("other-gitdir-program")).is_none());
        let other = must_pin(&p, &f.home.join("other-gitdir"));
        assert!(other.why.contains("does not hold now"), "{}", other.why);
    }

    #[test]
    fn the_repository_around_a_root_is_read_for_paths_inside_it() {
        let f = Fixture::new();
        let r = f.repo("mono");
        let app = r.join("packages/app");
        std::fs::create_dir_all(app.join(".husky")).unwrap();
        f.config(&r, "core.hooksPath", "packages/app/.husky");
        let p = plan(&[&app], &f.env(), Scan::Off);
        let h = must_pin(&p, &app.join(".husky"));
        assert_eq!(h.root.as_deref(), Some(app.as_path()));
        assert!(p.repos[0].found.contains("around"), "{:?}", p.repos);
    }

    #[test]
    fn git_reads_the_same_settings_as_the_expansion() {
        // The expansion (as git reads it now: follow_mutable off) against
        // `git config --list` on a repository with includes of each kind.
        let f = Fixture::new();
        let r = f.repo("w");
        std::fs::write(
            f.home.join("a.inc"),
            "[x]\n\ta = 1\n[include]\n\tpath = b.inc\n",
        )
        .unwrap();
        std::fs::write(f.home.join("b.inc"), "[x]\n\tb = \"two words\" ; c\n").unwrap();
        std::fs::write(f.home.join("c.inc"), "[x]\n\tc = 3\n").unwrap();
        std::fs::write(
            f.home.join(".gitconfig"),
            format!(
                "[include]\n\tpath = a.inc\n[includeIf \"gitdir:{}/\"]\n\tpath = c.inc\n\
                 [includeIf \"onbranch:nope\"]\n\tpath = a.inc\n[X \"Sub\"]\n\tK\n",
                r.display()
            ),
        )
        .unwrap();
        f.config(&r, "include.path", "../../home/c.inc");
        // `scope NUL key LF value NUL`, without the `-c` settings of git().
        let listed = f.git(&r, &["config", "--list", "-z", "--show-scope"]);
        let fields: Vec<&str> = listed.split('\0').collect();
        let git_says: Vec<String> = fields
            .chunks(2)
            .filter(|c| c.len() == 2 && c[0] != "command")
            .map(|c| c[1].replacen('\n', "=", 1))
            .collect();

        let env = f.env();
        let mut fs = Fs::default();
        let g = r.join(".git");
        let mut sources = env.sources();
        sources.push(Source {
            path: g.join("config"),
            scope: Scope::Local,
        });
        let ctx = Context {
            git_dir: Some(g.clone()),
            home: env.home.clone(),
            follow_mutable: false,
        };
        let x = gitconfig::expand(
            &sources,
            &[],
            &ctx,
            &mut FsWorld {
                fs: &mut fs,
                git_dir: &g,
            },
        );
        let ours: Vec<String> = x
            .settings
            .iter()
            .map(|s| {
                let mut name = s.entry.section.clone();
                if let Some(sub) = &s.entry.subsection {
                    name.push('.');
                    name.push_str(&String::from_utf8_lossy(sub));
                }
                name.push('.');
                name.push_str(&s.entry.key);
                match &s.entry.value {
                    Some(v) => format!("{name}={}", String::from_utf8_lossy(v)),
                    None => name,
                }
            })
            .collect();
        assert_eq!(ours, git_says);
    }

    #[test]
    fn shell_command_lines() {
        let progs = |s: &str| -> Vec<(String, Role)> {
            shell_programs(s.as_bytes(), 0)
                .into_iter()
                .map(|(w, r)| (String::from_utf8_lossy(&w.text).into_owned(), r))
                .collect()
        };
        use Role::*;
        assert_eq!(progs("./x a b"), vec![("./x".into(), Program)]);
        assert_eq!(
            progs("A=1 B=2 ./x > out 2>&1 | tee log && y; (z)"),
            vec![
                ("./x".into(), Program),
                ("tee".into(), Program),
                ("y".into(), Program),
                ("z".into(), Program)
            ]
        );
        assert_eq!(
            progs("sh -c './a \"$1\"; ./b' sh arg"),
            vec![
                ("sh".into(), Program),
                ("./a".into(), Program),
                ("./b".into(), Program)
            ]
        );
        assert_eq!(
            progs("bash -e scripts/x.sh"),
            vec![("bash".into(), Program), ("scripts/x.sh".into(), Script)]
        );
        assert_eq!(progs("python3 -m tool"), vec![("python3".into(), Program)]);
        assert_eq!(
            progs("env -i X=1 'my dir/prog' --flag"),
            vec![("env".into(), Program), ("my dir/prog".into(), Program)]
        );
        assert_eq!(
            progs("f() { ./one; }; f; if ./two; then ./three; fi # ./no"),
            vec![
                ("f".into(), Program),
                ("./one".into(), Program),
                ("f".into(), Program),
                ("./two".into(), Program),
                ("./three".into(), Program)
            ]
        );
        assert_eq!(
            progs("echo $(./sub) `./bq`"),
            vec![
                ("echo".into(), Program),
                ("./sub".into(), Program),
                ("./bq".into(), Program)
            ]
        );
        assert_eq!(ext_program(b"./ssh%20x% y %S"), b"./ssh%20x y".to_vec());
    }

    #[test]
    fn shell_garbage_never_panics() {
        let alphabet = b"\"'\\$`(){};&|<> \t\n#~=/.abc-";
        let mut seed: u64 = 0xDEAD_BEEF_CAFE_F00D;
        for round in 0..3000 {
            let len = round % 61;
            let s: Vec<u8> = (0..len)
                .map(|_| {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    alphabet[(seed % alphabet.len() as u64) as usize]
                })
                .collect();
            let _ = shell_programs(&s, 0);
            let _ = ext_program(&s);
            let _ = gitdir_line(&s);
        }
        let deep = "sh -c ".repeat(50) + "x";
        let _ = shell_programs(deep.as_bytes(), 0);
    }

    #[test]
    fn hostile_layouts_do_not_hang_or_panic() {
        let f = Fixture::new();
        let r = f.repo("w");
        // A FIFO where an include is expected (git itself would block on
        // it, so the config is written by hand), a self-include, a symlink
        // loop as hooks path, a pointer file with garbage.
        nix::unistd::mkfifo(
            &r.join("fifo"),
            nix::sys::stat::Mode::from_bits_truncate(0o600),
        )
        .unwrap();
        std::fs::write(r.join(".git/loop.inc"), "[include]\n\tpath = loop.inc\n").unwrap();
        symlink("loop", r.join("loop")).unwrap();
        let sub = r.join("sub");
        std::fs::create_dir_all(&sub).unwrap();
        std::fs::write(sub.join(".git"), b"\xff\xfe garbage\0\n").unwrap();
        let mut config = std::fs::OpenOptions::new()
            .append(true)
            .open(r.join(".git/config"))
            .unwrap();
        std::io::Write::write_all(
            &mut config,
            b"[include]\n\tpath = ../fifo\n\tpath = loop.inc\n[core]\n\thooksPath = loop\n",
        )
        .unwrap();
        let p = plan(&[&r], &f.env(), Scan::Full);
        assert!(
            p.notes.iter().any(|n| n.contains("deeper than 10")),
            "{:?}",
            p.notes
        );
        assert!(
            p.notes.iter().any(|n| n.contains("not a gitdir pointer")),
            "{:?}",
            p.notes
        );
        must_pin(&p, &r.join("fifo"));
        // The looping link cannot be resolved: reported missing, the link
        // itself pinned.
        assert!(p.pins.iter().any(|x| x.link && x.path == r.join("loop")));
    }

    /// Pointer files read byte for byte as git reads them (setup.c
    /// `read_gitfile_gently`, `get_common_dir_noenv`; worktree.c
    /// `get_linked_worktree`): a blank git keeps names another directory.
    #[test]
    fn pointer_files_keep_every_byte_git_keeps() {
        let g = |t: &[u8]| gitdir_line(t).map(|v| String::from_utf8_lossy(&v).into_owned());
        assert_eq!(g(b"gitdir: gd\n").as_deref(), Some("gd"));
        assert_eq!(g(b"gitdir: gd\r\n").as_deref(), Some("gd"));
        assert_eq!(g(b"gitdir: gd\n\n").as_deref(), Some("gd"));
        assert_eq!(g(b"gitdir: gd").as_deref(), Some("gd"));
        assert_eq!(g(b"gitdir: gd \n").as_deref(), Some("gd "));
        assert_eq!(g(b"gitdir: gd\t\n").as_deref(), Some("gd\t"));
        assert_eq!(g(b"gitdir: gd \r\n").as_deref(), Some("gd "));
        assert_eq!(g(b"gitdir:  gd\n").as_deref(), Some(" gd"));
        assert_eq!(g(b"gitdir: gd\0junk\n").as_deref(), Some("gd"));
        assert_eq!(g(b"gitdir: a\nb\n").as_deref(), Some("a\nb"));
        assert_eq!(g(b"gitdir:gd\n"), None);
        assert_eq!(g(b" gitdir: gd\n"), None);
        assert_eq!(g(b"gitdir: \n"), None);
        assert_eq!(pointer(b"../common \n"), b"../common ");
        assert_eq!(pointer(b"../..\r\n"), b"../..");
        assert_eq!(pointer(b"\n"), b"");
        assert_eq!(rtrimmed(b"/w/.git \t\n"), b"/w/.git");
        assert_eq!(rtrimmed(b" /w/.git\n"), b" /w/.git");
    }

    #[test]
    fn paths_stepping_back_out_of_a_missing_directory_pin_where_they_lead() {
        let f = Fixture::new();
        let r = f.repo("w");
        f.config(&r, "core.hooksPath", "x/../hk");
        f.config(&r, "core.fsmonitor", "y/../fsm.sh");
        f.config(&r, "include.path", "../sub/../inc5");
        std::fs::write(r.join("inc5"), "[core]\n\tpager = ./from-inc5\n").unwrap();
        // A worktree-style gitdir whose commondir steps back out of `c`.
        let wg = f.base.join("w/wg");
        std::fs::create_dir_all(&wg).unwrap();
        std::fs::write(wg.join("commondir"), "c/../cd\n").unwrap();
        std::fs::create_dir_all(f.base.join("w/p")).unwrap();
        std::fs::write(f.base.join("w/p/.git"), "gitdir: z/../gd\n").unwrap();
        let mut p = plan(&[&r], &f.env(), Scan::Off);
        for (held, led) in [("x", "hk"), ("y", "fsm.sh"), ("inc5", "inc5")] {
            assert!(pin(&p, &r.join(held)).is_some(), "{held}: {:?}", p.pins);
            let x = must_pin(&p, &r.join(led));
            assert!(x.why.contains("placeholder"), "{led}: {}", x.why);
        }
        assert!(pin(&p, &r.join("hk")).is_some_and(|x| !x.exists && x.is_dir));
        // The include is read where it leads: what it names is pinned.
        must_pin(&p, &r.join("from-inc5"));
        // The pointer and the commondir: their targets, and the gitdir
        // reached is visited (its config pinned).
        p = plan(&[&f.base.join("w/p")], &f.env(), Scan::Off);
        let gd = must_pin(&p, &f.base.join("w/p/gd"));
        assert!(!gd.exists && gd.is_dir, "{gd:?}");
        // `common_dir` directly: a gitdir with no HEAD is no repository to
        // visit from a root.
        let env = f.env();
        let mut pl = Planner {
            above_roots: HashSet::new(),
            env: &env,
            global: Vec::new(),
            command: Vec::new(),
            fs: Fs {
                held: [(wg.as_os_str(), None)].into_iter().collect(),
                ..Fs::default()
            },
            visited: HashSet::new(),
            queue: VecDeque::new(),
            plan: GitPlan::default(),
            pin_at: HashMap::new(),
            link_pin_at: HashMap::new(),
            commits: false,
        };
        std::fs::create_dir_all(wg.join("cd")).unwrap();
        assert_eq!(pl.common_dir(&wg), wg.join("cd"));
        let p = pl.finish();
        assert!(pin(&p, &wg.join("c")).is_some() && pin(&p, &wg.join("cd")).is_some());
    }

    #[test]
    fn the_global_config_is_pinned_with_no_repository_in_the_roots() {
        let f = Fixture::new();
        let hooks = f.home.join("githooks");
        std::fs::create_dir_all(&hooks).unwrap();
        std::fs::write(
            f.home.join(".gitconfig"),
            format!(
                "[core]\n\thooksPath = {}\n[includeIf \"gitdir:/elsewhere/\"]\n\tpath = inc.cfg\n",
                hooks.display()
            ),
        )
        .unwrap();
        // No repository under the root (one around it, such as another
        // run's placeholder `/tmp/.git`, changes nothing here).
        let p = plan(&[&f.home], &f.env(), Scan::Off);
        must_pin(&p, &f.home.join(".gitconfig"));
        let xdg = must_pin(&p, &f.home.join(".config/git/config"));
        assert!(!xdg.exists && xdg.root.as_deref() == Some(f.home.as_path()));
        // A condition that holds in some repository later counts.
        assert!(
            must_pin(&p, &f.home.join("inc.cfg"))
                .why
                .contains("does not hold now")
        );
        assert!(must_pin(&p, &hooks).exists);
    }

    #[test]
    fn a_config_larger_than_cordon_reads_is_reported() {
        let f = Fixture::new();
        let r = f.repo("w");
        let config = r.join(".git/config");
        let mut text = std::fs::read(&config).unwrap();
        text.resize(MAX_READ as usize + 1, b'\n');
        std::fs::write(&config, &text).unwrap();
        let p = plan(&[&r], &f.env(), Scan::Off);
        assert_eq!(p.too_large, vec![config.clone()]);
        text.truncate(MAX_READ as usize);
        std::fs::write(&config, &text).unwrap();
        assert!(plan(&[&r], &f.env(), Scan::Off).too_large.is_empty());
    }
}
