//! The private mount namespace, compiled (pure, every OS). Landlock cannot
//! make a subpath of a writable root read-only, and it does not stop chmod,
//! chown, utime or xattr changes. Both become mount operations, applied in a
//! private mount namespace before Landlock (`namespace.rs`).
//!
//! Every sandboxed run gets one, privileged or not: the world is read-only
//! (metadata changes outside the writable roots fail with EROFS), `/dev`
//! holds only the device list, SysV IPC and POSIX message queues are the
//! sandbox's own, and protected paths are bound read-only. A protected name
//! that does not exist yet is held by a placeholder (an empty directory or
//! file, mode 0444) bound read-only, which the sentinel removes when the
//! sandbox ends (`sentinel.rs`).
//!
//! This module is the one place that decides how a protected path is kept
//! read-only: [`MountPlan::explain`] answers for `--dry-run`, the per-path
//! verdicts and the feature list alike.

use std::collections::HashSet;
use std::fmt;
use std::path::{Path, PathBuf};

use super::identity::Identity;
use crate::enforcement::{Gap, Kind};
use crate::plan::{self, FileId, ProtectedVia};

/// One step of the namespace setup, in the order `namespace::enter` runs them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MountOp {
    /// `unshare(CLONE_NEWNS | CLONE_NEWIPC)`, plus `CLONE_NEWUSER` with the
    /// caller's uid and gid mapped to themselves when `user` (no
    /// CAP_SYS_ADMIN).
    /// With `net`, a new network namespace too (`CLONE_NEWNET`, domains
    /// through the proxy): only `lo`, brought up, and the proxy's listener.
    Unshare {
        user: bool,
        net: bool,
        uid: u32,
        gid: u32,
    },
    /// Every mount private, so nothing propagates to or from the host.
    MakePrivate,
    /// Clone a writable root's mount tree while it is still writable,
    /// `nosuid`, and `nodev` as its `BindRw` says.
    Snapshot {
        path: PathBuf,
        id: Option<FileId>,
        nodev: bool,
    },
    /// Every mount read-only, recursively.
    ReadOnlyWorld,
    /// A private `/dev`: a tmpfs holding the plan's devices, bound from the
    /// host, and the usual symlinks; then read-only.
    Dev(Dev),
    /// Attach a writable root's snapshot on top of itself, `nosuid`, and
    /// `nodev` unless the root is a file in `/dev` (a device granted).
    /// (`no_new_privs` already keeps setuid files from raising privileges;
    /// `nosuid` says so at the mount.)
    BindRw {
        path: PathBuf,
        id: Option<FileId>,
        nodev: bool,
    },
    /// Bind a directory on the way to a protected path onto itself, with its
    /// writability unchanged: it can no longer be renamed or removed (EBUSY),
    /// so the protected path cannot be swapped out from under its mount.
    Pin(PathBuf),
    /// Bind a protected path onto itself read-only (a directory or a file,
    /// never a symlink: a symlink there means it changed since the plan).
    BindRo { path: PathBuf, id: Option<FileId> },
    /// Bind a protected symlink onto itself, so it cannot be removed or
    /// pointed elsewhere.
    PinLink(PathBuf),
    /// Bind the placeholder made for a missing protected path onto itself,
    /// read-only.
    Placeholder(Placeholder),
    /// Hide a denied path: a file under an inert /dev/null (`nodev`: every
    /// open fails with EACCES), a directory under an empty read-only tmpfs
    /// (mode 000), with the grants inside it bound back.
    Deny(DenyMount),
    /// Bind /dev/null (read-only, nodev) over a host daemon's socket:
    /// connect(2) then fails with ECONNREFUSED.
    Mask(PathBuf),
    /// Drop every capability the user namespace gave.
    DropCaps,
}

/// A denied path and the grants inside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DenyMount {
    pub path: PathBuf,
    pub id: Option<FileId>,
    pub dir: bool,
    /// Bound back into the empty tmpfs, at the same place.
    pub lifts: Vec<DenyLift>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DenyLift {
    pub path: PathBuf,
    pub id: Option<FileId>,
    pub dir: bool,
}

/// A device the private `/dev` holds, bound from the host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DevNode {
    /// Its path on the host.
    pub path: PathBuf,
    /// Where the sandbox sees it: the same path, or `/dev/console` for the
    /// caller's pty (`terminals.rs`).
    pub at: PathBuf,
    pub is_dir: bool,
    pub id: Option<FileId>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dev {
    pub nodes: Vec<DevNode>,
    /// A private devpts instance at `/dev/pts`: the command's own ptys.
    pub private_ptys: bool,
    /// A private tmpfs at `/dev/shm` (POSIX shared memory of the sandbox
    /// only); `false` when a writable root is `/dev/shm` itself.
    pub private_shm: bool,
    /// Directories to create for writable roots inside `/dev`.
    pub mountpoints: Vec<PathBuf>,
}

/// Where new ptys come from.
pub const PTMX: &str = "/dev/ptmx";

/// The symlinks every `/dev` has.
#[cfg_attr(not(target_os = "linux"), allow(dead_code))] // used by the Linux apply edge only
pub const DEV_LINKS: [(&str, &str); 4] = [
    ("fd", "/proc/self/fd"),
    ("stdin", "/proc/self/fd/0"),
    ("stdout", "/proc/self/fd/1"),
    ("stderr", "/proc/self/fd/2"),
];

/// A missing protected path and what holds its name during the run.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Placeholder {
    pub path: PathBuf,
    /// An empty directory, or an empty file for names that are files
    /// (`.envrc`, `~/.bashrc`): either holds the name, and an empty one of
    /// the expected kind reads as "nothing configured" to a tool outside.
    pub dir: bool,
}

/// Protected names that are files; a missing one gets a file placeholder.
const FILE_NAMES: [&str; 3] = [".mcp.json", ".gitmodules", ".envrc"];

/// Protected names that configure a tool from a project's root (an editor,
/// an agent, direnv): a missing one is held only in the writable root of
/// the working directory, the project the command works on. The others
/// (`.git`, `.cordon`, `.agents`, `.codex`, names the profile adds) are
/// held in every writable root: git finds a `.git` in any parent directory.
pub const PROJECT_ONLY: [&str; 7] = crate::policy::PROJECT_CONFIG;

/// The most placeholders one run makes: each costs a directory entry, a
/// mount and a descriptor. Past it, the missing names are a gap (refused,
/// or run unheld with `--best-effort`).
pub const MAX_PLACEHOLDERS: usize = 256;

impl Placeholder {
    fn for_name(path: PathBuf, name: &str) -> Placeholder {
        let file = name.starts_with("~/") || FILE_NAMES.contains(&name);
        Placeholder { path, dir: !file }
    }
}

/// What the network namespace holds, for `--dry-run`.
const NET_NOTE: &str =
    "; lo up, the domain proxy's listener bound on 127.0.0.1 in it, nothing else";

/// The private `/dev` op's `--dry-run` line.
impl fmt::Display for Dev {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<String> = self
            .nodes
            .iter()
            .map(|n| {
                let name = n.at.strip_prefix("/dev/").unwrap_or(&n.at);
                if n.at == n.path {
                    plan::shown(name).to_string()
                } else {
                    format!(
                        "{} (the terminal {})",
                        plan::shown(name),
                        plan::shown(&n.path)
                    )
                }
            })
            .collect();
        let pts = if self.private_ptys {
            "; pts a private devpts instance, ptmx -> pts/ptmx"
        } else {
            ""
        };
        let shm = if self.private_shm {
            "; shm a private tmpfs"
        } else {
            ""
        };
        write!(
            f,
            "private /dev (read-only tmpfs): {} bound from the host; fd, stdin, stdout, stderr -> /proc/self/fd{pts}{shm}",
            names.join(" ")
        )
    }
}

/// A deny op's `--dry-run` line.
impl fmt::Display for DenyMount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = plan::shown;
        if self.dir {
            write!(
                f,
                "deny {} (an empty read-only tmpfs, mode 000",
                s(&self.path)
            )?;
        } else {
            write!(
                f,
                "deny {} (an inert /dev/null: open fails with EACCES",
                s(&self.path)
            )?;
        }
        for l in &self.lifts {
            write!(f, "; {} bound back", s(&l.path))?;
        }
        write!(f, ")")
    }
}

impl fmt::Display for MountOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = plan::shown;
        match self {
            MountOp::Unshare {
                user: true,
                net,
                uid,
                gid,
            } => write!(
                f,
                "unshare user+mount+ipc{} namespace (uid {uid} and gid {gid} mapped to themselves){}",
                if *net { "+net" } else { "" },
                if *net { NET_NOTE } else { "" }
            ),
            MountOp::Unshare {
                user: false, net, ..
            } => write!(
                f,
                "unshare mount+ipc{} namespace{}",
                if *net { "+net" } else { "" },
                if *net { NET_NOTE } else { "" }
            ),
            MountOp::MakePrivate => write!(f, "make-private / (recursive)"),
            MountOp::Snapshot { path, .. } => {
                write!(f, "snapshot {} (while still writable)", s(path))
            }
            MountOp::ReadOnlyWorld => write!(f, "read-only / (recursive)"),
            MountOp::Dev(d) => write!(f, "{d}"),
            MountOp::BindRw { path, nodev, .. } => {
                let nodev = if *nodev { ",nodev" } else { "" };
                write!(f, "bind-rw {} (nosuid{nodev})", s(path))
            }
            MountOp::Pin(p) => write!(f, "pin {} (cannot be renamed or removed)", s(p)),
            MountOp::BindRo { path, .. } => write!(f, "bind-ro {}", s(path)),
            MountOp::Deny(d) => write!(f, "{d}"),
            MountOp::PinLink(p) => write!(f, "bind-ro {} (the symlink itself)", s(p)),
            MountOp::Placeholder(p) => write!(
                f,
                "placeholder {} (empty {}, mode 0444, made for the run, bound read-only, removed when the sandbox ends)",
                s(&p.path),
                if p.dir { "directory" } else { "file" }
            ),
            MountOp::Mask(p) => write!(
                f,
                "mask {} (host daemon socket: /dev/null bound over it)",
                s(p)
            ),
            MountOp::DropCaps => write!(f, "drop-capabilities"),
        }
    }
}

/// As data, an op is its `--dry-run` line: one stable spelling.
impl serde::Serialize for MountOp {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// What keeps one protected path read-only.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "kind", content = "path", rename_all = "kebab-case")]
pub enum Mechanism {
    /// A read-only bind mount of the target onto itself.
    BindRo,
    /// Inside this other protected path's read-only mount.
    Inside(PathBuf),
    /// Outside every writable root: Landlock already denies writes.
    OutsideRoots,
    /// Missing: a placeholder at this path (its first missing component)
    /// holds the name.
    Placeholder(PathBuf),
    /// Missing, and nothing can hold the name (a dangling symlink).
    Missing,
    /// Missing, and not held here: a project configuration name outside
    /// the working directory's root ([`PROJECT_ONLY`]).
    Unheld,
    /// Missing, and not held: more placeholders than [`MAX_PLACEHOLDERS`].
    TooMany,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Protection {
    /// The protected path as found in its writable root (`root/.git`).
    pub path: PathBuf,
    /// What is pinned: `path` itself, or a symlink's or gitdir's target.
    pub target: PathBuf,
    pub via: ProtectedVia,
    pub mechanism: Mechanism,
    /// `path` is a symlink bound onto itself, so it cannot be removed or
    /// pointed elsewhere.
    pub link_pinned: bool,
}

/// A host daemon's socket the caller could connect to (`host::daemon_sockets`),
/// or one of its own session (`host::session_sockets`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DaemonSocket {
    pub path: PathBuf,
    /// A session socket (tmux, ssh-agent...): masked even in a writable root.
    pub session: bool,
    /// The writable root that holds it: writing a socket is connecting to
    /// it, so the profile allowed it and it is not masked.
    pub allowed_by: Option<PathBuf>,
}

/// The compiled namespace.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct MountPlan {
    /// Why the namespace is needed, one line each.
    pub reasons: Vec<String>,
    pub ops: Vec<MountOp>,
    pub protections: Vec<Protection>,
    /// Host daemon sockets: masked, or allowed by a writable root.
    pub daemon_sockets: Vec<DaemonSocket>,
    /// The caller is privileged (uid 0 somewhere, or capabilities).
    pub privileged: bool,
    /// Landlock gaps the read-only world closes; they are open again when the
    /// namespace cannot be had. Filled in by `linux::compile`.
    pub backfills: Vec<Gap>,
    /// Git mode's anchors (`objects`, `refs` of a writable gitdir): mount
    /// points, so they cannot be renamed or removed.
    pub anchors: Vec<PathBuf>,
}

impl MountPlan {
    /// What this plan cannot enforce even with the namespace: missing
    /// protected paths past [`MAX_PLACEHOLDERS`].
    pub fn gaps(&self) -> Vec<Gap> {
        let unheld: Vec<&Protection> = self
            .protections
            .iter()
            .filter(|p| p.mechanism == Mechanism::TooMany)
            .collect();
        let n = unheld.len();
        if n == 0 {
            return Vec::new();
        }
        // Paths git follows (dangling links in a `.git`, say) are no name
        // `--unprotect` lifts: the hint names what does end them
        // (adversarial pass 19).
        let from_git: Vec<&Path> = unheld
            .iter()
            .filter(|p| matches!(p.via, ProtectedVia::Git | ProtectedVia::Gitdir))
            .map(|p| p.path.as_path())
            .collect();
        let mut fixes = Vec::new();
        if from_git.len() < n {
            fixes.push(
                "create them, lift names with --unprotect NAME, or use fewer writable roots"
                    .to_string(),
            );
        }
        // The directory holding most of them (300 dangling links in one
        // `.git`) says where to look.
        let mut by_dir: std::collections::HashMap<&Path, usize> = Default::default();
        for p in &from_git {
            *by_dir.entry(p.parent().unwrap_or(p)).or_default() += 1;
        }
        if let Some((dir, most)) = by_dir.into_iter().max_by_key(|(d, k)| (*k, *d)) {
            fixes.push(format!(
                "{} of them are paths git reads or runs, {most} in {}: remove dangling symlinks in the .git, or create the paths; `cordon explain --json` lists them",
                from_git.len(),
                dir.display()
            ));
        }
        let fix = fixes.join("; ");
        vec![Gap {
            feature: Kind::Protected,
            detail: format!(
                "{n} missing protected paths could be created: holding them would take more than {MAX_PLACEHOLDERS} placeholders ({fix})"
            ),
        }]
    }
}

/// How one protected path is enforced, in words, and whether it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Enforcement {
    pub enforced: bool,
    /// `mount (read-only bind of X in a private mount namespace)`, or why
    /// nothing enforces it.
    pub mechanism: String,
}

impl MountPlan {
    pub fn needs_namespace(&self) -> bool {
        !self.ops.is_empty()
    }

    pub fn read_only_world(&self) -> bool {
        self.ops.contains(&MountOp::ReadOnlyWorld)
    }

    pub fn placeholders(&self) -> impl Iterator<Item = &Placeholder> {
        self.ops.iter().filter_map(|op| match op {
            MountOp::Placeholder(p) => Some(p),
            _ => None,
        })
    }

    /// The plan's entry for the protected path `path` with target `target`.
    pub fn protection(&self, path: &Path, target: &Path) -> Option<&Protection> {
        self.protections
            .iter()
            .find(|m| m.target == target && m.path == path)
    }

    /// How `p` is kept read-only, with the namespace entered or not: the
    /// one answer `--dry-run`, `explain PATH` and the feature list print.
    pub fn explain(&self, p: &Protection, namespace: bool) -> Enforcement {
        let yes = |m: String| Enforcement {
            enforced: true,
            mechanism: m,
        };
        let no = |why: String| Enforcement {
            enforced: false,
            mechanism: why,
        };
        let no_ns = "no private mount namespace on this host";
        match &p.mechanism {
            Mechanism::OutsideRoots => yes("landlock (outside every writable root)".into()),
            Mechanism::BindRo | Mechanism::Inside(_) | Mechanism::Placeholder(_)
                if !namespace =>
            {
                no(format!(
                    "Landlock cannot take write access away inside a writable root, and there is {no_ns}"
                ))
            }
            Mechanism::BindRo => yes(format!(
                "mount (read-only bind of {} in a private mount namespace)",
                plan::shown(&p.target)
            )),
            Mechanism::Inside(outer) => yes(format!(
                "mount (inside the read-only bind of {})",
                plan::shown(outer)
            )),
            Mechanism::Placeholder(at) => yes(format!(
                "mount (missing: a read-only placeholder at {} holds the name during the run)",
                plan::shown(at)
            )),
            Mechanism::Missing => no(
                "a dangling symlink: its target does not exist, and nothing holds that name (a symlink loop or an unreadable link on the way, or / writable)".into(),
            ),
            Mechanism::Unheld => no(
                "missing, and held only in the working directory's writable root (a tool reads it from a project's root)".into(),
            ),
            Mechanism::TooMany => no(format!(
                "missing, and more than {MAX_PLACEHOLDERS} missing protected paths would need a placeholder"
            )),
        }
    }

    /// What stays open when the namespace cannot be had.
    pub fn gaps_without_namespace(&self) -> Vec<Gap> {
        self.gaps_without_namespace_unless(|_| false)
    }

    /// [`Self::gaps_without_namespace`] less those `covered` says another
    /// mechanism closes (an enclosing sandbox: `nested.rs`).
    pub fn gaps_without_namespace_unless(&self, covered: impl Fn(Need<'_>) -> bool) -> Vec<Gap> {
        let gap = |feature, detail: String| Gap { feature, detail };
        let mut gaps = Vec::new();
        if self.read_only_world() && !covered(Need::ReadOnlyWorld) {
            let what = if self.privileged {
                "chmod, chown, utime and xattr changes outside the writable roots are not \
                 restricted (running as root or with capabilities)"
            } else {
                "chmod, utime and xattr changes to your own files outside the writable roots \
                 are not restricted (Landlock does not check metadata)"
            };
            gaps.push(gap(Kind::ReadOnlyWorld, what.into()));
        }
        let dev = self.ops.iter().find_map(|op| match op {
            MountOp::Dev(d) => Some(d),
            _ => None,
        });
        if let Some(d) = dev
            && !covered(Need::Devices(d))
        {
            gaps.push(gap(
                Kind::Devices,
                "/dev is the host's: every device node the caller may open is reachable \
                 (as root: block devices, /dev/mem, /dev/kmsg), and /dev/shm is shared"
                    .into(),
            ));
        }
        if !covered(Need::Ipc) {
            gaps.push(gap(
                Kind::Ipc,
                "SysV IPC and POSIX message queues of the caller's processes outside are reachable"
                    .into(),
            ));
        }
        for p in &self.protections {
            let detail = match (&p.mechanism, p.link_pinned) {
                (Mechanism::BindRo, _) => format!("{} stays writable", shown(p)),
                (Mechanism::Placeholder(at), _) => {
                    format!("{} can be created", plan::shown(at))
                }
                (_, true) => format!("the symlink {} can be replaced", plan::shown(&p.path)),
                _ => continue,
            };
            if !covered(Need::Protected(p)) {
                gaps.push(gap(Kind::Protected, detail));
            }
        }
        for a in &self.anchors {
            if !covered(Need::Anchor(a)) {
                gaps.push(gap(
                    Kind::GitMode,
                    format!(
                        "{} can be renamed or removed, which makes the gitdir no repository",
                        a.display()
                    ),
                ));
            }
        }
        for d in self
            .daemon_sockets
            .iter()
            .filter(|d| d.allowed_by.is_none())
        {
            if !covered(Need::DaemonSocket(d)) {
                gaps.push(gap(
                    Kind::DaemonSocket,
                    format!(
                        "the host daemon socket {} stays reachable",
                        d.path.display()
                    ),
                ));
            }
        }
        if !covered(Need::ReadOnlyWorld) {
            gaps.extend(self.backfills.iter().cloned());
        }
        gaps
    }
}

/// What the namespace would have given, one item per gap without it.
#[derive(Debug, Clone, Copy)]
pub enum Need<'a> {
    /// Everything outside the writable roots read-only (metadata too).
    ReadOnlyWorld,
    /// A private `/dev` holding only the device list.
    Devices(&'a Dev),
    /// A private IPC namespace.
    Ipc,
    /// A protected path held read-only.
    Protected(&'a Protection),
    /// A host daemon's socket masked.
    DaemonSocket(&'a DaemonSocket),
    /// Git mode: a directory of a writable gitdir held in place.
    Anchor(&'a Path),
}

/// `root/.cordon -> /target` or `root/.git`.
fn shown(p: &Protection) -> String {
    if p.target == p.path {
        plan::shown(&p.path).to_string()
    } else {
        format!("{} -> {}", plan::shown(&p.path), plan::shown(&p.target))
    }
}

/// The nearest of `set` at or above `path`: one hash lookup per ancestor,
/// where a scan of every root per protected path would be quadratic.
fn nearest<'a>(set: &HashSet<&'a Path>, path: &Path) -> Option<&'a Path> {
    path.ancestors().find_map(|a| set.get(a).copied())
}

/// The directories strictly between `root` and `path`.
fn between(root: &Path, path: &Path) -> Vec<PathBuf> {
    path.ancestors()
        .skip(1)
        .take_while(|a| *a != root && a.starts_with(root))
        .map(Path::to_path_buf)
        .collect()
}

/// The protected targets that need a read-only bind, outermost first; a
/// target inside another is covered by it.
fn outermost(targets: impl Iterator<Item = PathBuf>) -> (Vec<PathBuf>, HashSet<PathBuf>) {
    let mut all: Vec<PathBuf> = targets.collect();
    // Sorted by components, an ancestor comes before what lies inside it.
    all.sort();
    all.dedup();
    let mut kept = Vec::with_capacity(all.len());
    let mut set = HashSet::with_capacity(all.len());
    for t in all {
        if !t.ancestors().any(|a| set.contains(a)) {
            set.insert(t.clone());
            kept.push(t);
        }
    }
    (kept, set)
}

/// Each protected entry of the plan with what keeps it read-only.
fn classify(
    plan: &plan::Plan,
    root_of: &dyn Fn(&Path) -> Option<PathBuf>,
    kept: &HashSet<PathBuf>,
) -> Vec<Protection> {
    let project = root_of(&plan.cwd);
    let covering = |p: &Path| {
        p.ancestors()
            .find(|a| kept.contains(*a))
            .map(Path::to_path_buf)
    };
    plan.protected()
        .map(|(w, p)| {
            let mechanism = if !p.exists {
                // With / writable there is nothing to hold a name against.
                let held_here = w.root.path.as_os_str() != "/"
                    && (!PROJECT_ONLY.contains(&p.name.as_str())
                        || project.as_deref() == Some(w.root.path.as_path()));
                match &p.missing_from {
                    Some(at) if p.via != ProtectedVia::Symlink => match covering(at) {
                        Some(k) => Mechanism::Inside(k),
                        None if held_here => Mechanism::Placeholder(at.clone()),
                        None => Mechanism::Unheld,
                    },
                    Some(at) => dangling_target(at, root_of, &covering),
                    None => Mechanism::Missing,
                }
            } else if root_of(&p.target).is_none() {
                Mechanism::OutsideRoots
            } else {
                match covering(&p.target) {
                    Some(k) if k == p.target => Mechanism::BindRo,
                    Some(k) => Mechanism::Inside(k),
                    None => Mechanism::BindRo, // every such target is kept or covered
                }
            };
            // The link itself too: replacing it would move the protected name
            // off the pinned target.
            let link_pinned = p.via == ProtectedVia::Symlink
                && root_of(&p.path).is_some()
                && covering(&p.path).is_none();
            Protection {
                path: p.path.clone(),
                target: p.target.clone(),
                via: p.via,
                mechanism,
                link_pinned,
            }
        })
        .collect()
}

/// What holds the missing target of a dangling protected symlink, `at` its
/// first missing component: a placeholder in whichever writable root holds
/// it (the link's name is in use, so even a project-only name is held);
/// outside the roots nothing can create it.
fn dangling_target(
    at: &Path,
    root_of: &dyn Fn(&Path) -> Option<PathBuf>,
    covering: &dyn Fn(&Path) -> Option<PathBuf>,
) -> Mechanism {
    match (covering(at), root_of(at)) {
        (Some(k), _) => Mechanism::Inside(k),
        (None, None) => Mechanism::OutsideRoots,
        // With / writable there is nothing to hold a name against.
        (None, Some(r)) if r.as_os_str() == "/" => Mechanism::Missing,
        (None, Some(_)) => Mechanism::Placeholder(at.to_path_buf()),
    }
}

/// The private `/dev`: the plan's devices that live in `/dev` (the
/// always-usable list, the caller's terminals, granted devices), the
/// host's devpts, and mountpoints for writable roots inside `/dev`.
fn dev(plan: &plan::Plan, roots: &[PathBuf]) -> Dev {
    let dev = Path::new("/dev");
    let shm = dev.join("shm");
    let pts = Path::new(super::terminals::PTS);
    let private_ptys = pts.is_dir();
    let mut nodes: Vec<DevNode> = plan
        .devices
        .iter()
        // /dev/ptmx becomes a link to the private instance's (the host's
        // node would make ptys in the host's devpts, found from its own
        // directory).
        .filter(|d| !(private_ptys && d.path == Path::new(PTMX)))
        .filter(|d| d.path.starts_with(dev) && d.path != dev && d.path != shm && d.path != pts)
        .map(|d| DevNode {
            path: d.path.clone(),
            at: d.path.clone(),
            is_dir: d.is_dir,
            id: d.handle.id,
        })
        .collect();
    // The caller's terminals, where `tty` will look for them; one at the
    // console at most.
    for t in &plan.terminals {
        let Some(at) = super::terminals::shown_at(&t.path) else {
            continue;
        };
        if nodes.iter().any(|n| n.at == at) {
            continue;
        }
        nodes.push(DevNode {
            path: t.path.clone(),
            at: at.to_path_buf(),
            is_dir: false,
            id: t.handle.id,
        });
    }
    let in_dev: Vec<PathBuf> = roots
        .iter()
        .filter(|r| r.starts_with(dev) && r.as_path() != dev)
        .cloned()
        .collect();
    Dev {
        nodes,
        private_ptys,
        private_shm: !in_dev.contains(&shm),
        mountpoints: in_dev,
    }
}

/// Compiles the plan's mount namespace for a caller `id` who could connect
/// to the host daemon sockets `sockets`.
pub fn compile(
    plan: &plan::Plan,
    id: &Identity,
    sockets: &[PathBuf],
    session: &[PathBuf],
) -> MountPlan {
    let roots: Vec<PathBuf> = plan.writable.iter().map(|w| w.root.path.clone()).collect();
    // Merged by the plan: no root lies inside another, so the nearest is the
    // one containing a path.
    let root_set: HashSet<&Path> = roots.iter().map(PathBuf::as_path).collect();
    let root_of = |p: &Path| nearest(&root_set, p).map(Path::to_path_buf);

    let (kept, kept_set) = outermost(
        plan.protected()
            .filter(|(_, p)| p.exists && root_of(&p.target).is_some())
            .map(|(_, p)| p.target.clone()),
    );
    let mut protections = classify(plan, &root_of, &kept_set);
    limit_placeholders(&mut protections);
    let links = pinned_links(&protections);
    let placeholders = placeholders(plan, &protections);
    let slash_writable = roots.iter().any(|r| r.as_os_str() == "/");
    let daemon_sockets = daemon_sockets(plan, sockets, session, &root_of);
    let masked: Vec<PathBuf> = daemon_sockets
        .iter()
        .filter(|d| d.allowed_by.is_none())
        .map(|d| d.path.clone())
        .collect();
    let reasons = reasons(plan, id, slash_writable, &protections, &masked);

    let user = !id.sys_admin;
    let mut ops = vec![
        MountOp::Unshare {
            user,
            net: plan.network.proxied() && !plan.network.enabled,
            uid: id.uid,
            gid: id.gid,
        },
        MountOp::MakePrivate,
    ];
    // With `/` itself writable there is no read-only world to carve roots
    // from, nor a /dev to replace.
    if !slash_writable {
        ops.extend(world_ops(plan, &roots));
    }
    let anchors: Vec<PathBuf> = plan
        .writable
        .iter()
        .flat_map(|w| w.anchors.iter().cloned())
        .collect();
    let held = kept
        .iter()
        .chain(&links)
        .chain(placeholders.iter().map(|p| &p.path));
    ops.extend(pin_ops(plan, &root_of, &kept_set, held, &anchors));
    ops.extend(links.into_iter().map(MountOp::PinLink));
    ops.extend(bind_ro_ops(plan, &kept));
    ops.extend(placeholders.into_iter().map(MountOp::Placeholder));
    // After every bind, so a denied path inside a writable root or a
    // protected path is hidden on top; outermost first, so one denied
    // inside another's lift is hidden inside the lift.
    ops.extend(plan.deny.denied.iter().map(deny_op));
    ops.extend(masked.into_iter().map(MountOp::Mask));
    if user {
        ops.push(MountOp::DropCaps);
    }
    MountPlan {
        reasons,
        ops,
        protections,
        daemon_sockets,
        privileged: id.privileged,
        backfills: Vec::new(),
        anchors,
    }
}

/// The symlinks bound onto themselves: a link on the way to several
/// protected targets is pinned once.
fn pinned_links(protections: &[Protection]) -> Vec<PathBuf> {
    let mut seen = HashSet::new();
    protections
        .iter()
        .filter(|p| p.link_pinned && seen.insert(&p.path))
        .map(|p| p.path.clone())
        .collect()
}

/// Over `MAX_PLACEHOLDERS` distinct placeholders, none is made: each of
/// them becomes `TooMany`.
fn limit_placeholders(protections: &mut [Protection]) {
    let wanted: HashSet<&PathBuf> = protections
        .iter()
        .filter_map(|p| match &p.mechanism {
            Mechanism::Placeholder(at) => Some(at),
            _ => None,
        })
        .collect();
    if wanted.len() > MAX_PLACEHOLDERS {
        for p in protections {
            if matches!(p.mechanism, Mechanism::Placeholder(_)) {
                p.mechanism = Mechanism::TooMany;
            }
        }
    }
}

/// One placeholder per distinct missing name held, shaped as what the name
/// would be.
fn placeholders(plan: &plan::Plan, protections: &[Protection]) -> Vec<Placeholder> {
    let mut seen = HashSet::new();
    plan.protected()
        .zip(protections)
        .filter_map(|((_, p), m)| match &m.mechanism {
            Mechanism::Placeholder(at) if seen.insert(at.clone()) => {
                // A multi-component name (or a dangling symlink's target)
                // is held at its first missing directory, which is a
                // directory then; the target itself is shaped by the name.
                if *at != p.target {
                    return Some(Placeholder {
                        path: at.clone(),
                        dir: true,
                    });
                }
                if p.via == ProtectedVia::Git {
                    return Some(Placeholder {
                        path: at.clone(),
                        dir: p.dir_hint,
                    });
                }
                Some(Placeholder::for_name(at.clone(), &p.name))
            }
            _ => None,
        })
        .collect()
}

/// The host daemon sockets, then the session sockets not among them, each
/// with the writable root that allows it, if any.
fn daemon_sockets(
    plan: &plan::Plan,
    sockets: &[PathBuf],
    session: &[PathBuf],
    root_of: &dyn Fn(&Path) -> Option<PathBuf>,
) -> Vec<DaemonSocket> {
    // A session socket is allowed only by a writable root that is the
    // socket itself (`--allow-write $SSH_AUTH_SOCK`, perhaps merged into
    // the root that holds it), not by /tmp.
    let granted: HashSet<&Path> = plan
        .writable
        .iter()
        .flat_map(|w| std::iter::once(&w.root.path).chain(&w.root.nested))
        .map(PathBuf::as_path)
        .collect();
    sockets
        .iter()
        .map(|p| DaemonSocket {
            path: p.clone(),
            session: false,
            allowed_by: root_of(p),
        })
        .chain(
            session
                .iter()
                .filter(|p| !sockets.contains(p))
                .map(|p| DaemonSocket {
                    path: p.clone(),
                    session: true,
                    allowed_by: granted.get(p.as_path()).map(|r| r.to_path_buf()),
                }),
        )
        .collect()
}

/// Why the namespace is wanted, one line per thing only it enforces.
fn reasons(
    plan: &plan::Plan,
    id: &Identity,
    slash_writable: bool,
    protections: &[Protection],
    masked: &[PathBuf],
) -> Vec<String> {
    let mut reasons = vec![if id.privileged {
        "running as root or with capabilities: Landlock does not stop chmod, chown, utime or \
         xattr changes outside the writable roots"
            .to_string()
    } else {
        "the read-only world: Landlock does not stop chmod, utime or xattr changes to your own \
         files outside the writable roots"
            .to_string()
    }];
    if !slash_writable {
        reasons.push(
            "a private /dev: only the device list, no block devices, /dev/mem or /dev/kmsg".into(),
        );
    }
    reasons.push(
        "a private IPC namespace: SysV IPC and POSIX message queues of processes outside are \
         out of reach"
            .into(),
    );
    let pinned: Vec<String> = protections
        .iter()
        .filter_map(|p| match (&p.mechanism, p.link_pinned) {
            (Mechanism::BindRo, _) => Some(plan::shown(&p.target).to_string()),
            (Mechanism::Placeholder(at), _) => Some(format!("{} (missing)", plan::shown(at))),
            (_, true) => Some(format!("the symlink {}", plan::shown(&p.path))),
            _ => None,
        })
        .collect();
    if !pinned.is_empty() {
        reasons.push(format!(
            "{} inside a writable root: Landlock cannot make a subpath read-only",
            pinned.join(", ")
        ));
    }
    if !plan.deny.denied.is_empty() {
        let names: Vec<String> = plan
            .deny
            .denied
            .iter()
            .map(|d| plan::shown(&d.path).to_string())
            .collect();
        reasons.push(format!(
            "deny entries {}: Landlock cannot take read access away inside a readable tree",
            names.join(", ")
        ));
    }
    if !masked.is_empty() {
        let names: Vec<String> = masked.iter().map(|p| p.display().to_string()).collect();
        reasons.push(format!(
            "host daemon and session sockets {}: Landlock does not restrict connect(2), only \
             a mount can keep the command from asking them to act outside the sandbox",
            names.join(", ")
        ));
    }
    reasons
}

/// The read-only world with the writable roots carried over: each root
/// snapshotted, `/` remounted read-only, the private `/dev`, then each root
/// bound back writable.
fn world_ops(plan: &plan::Plan, roots: &[PathBuf]) -> Vec<MountOp> {
    // Lookups by path in maps: plans hold up to 10,000 roots.
    let root_ids: std::collections::HashMap<&Path, (Option<FileId>, bool)> = plan
        .writable
        .iter()
        .map(|w| (w.root.path.as_path(), (w.root.handle.id, w.root.is_dir)))
        .collect();
    let root_id = |r: &Path| root_ids.get(r).and_then(|(id, _)| *id);
    // A directory is `nodev` wherever it is (a host `/dev/shm` granted
    // whole holds the device nodes root made there: adversarial pass 30);
    // a file root keeps its device only when it is one of /dev's.
    let nodev = |r: &Path| {
        let is_dir = root_ids.get(r).is_none_or(|(_, d)| *d);
        is_dir || !r.starts_with("/dev")
    };
    let mut ops: Vec<MountOp> = roots
        .iter()
        .map(|r| MountOp::Snapshot {
            path: r.clone(),
            id: root_id(r),
            nodev: nodev(r),
        })
        .collect();
    ops.push(MountOp::ReadOnlyWorld);
    ops.push(MountOp::Dev(dev(plan, roots)));
    ops.extend(roots.iter().map(|r| MountOp::BindRw {
        path: r.clone(),
        id: root_id(r),
        nodev: nodev(r),
    }));
    ops
}

/// A pin on each directory on the way to a `held` path (pinned,
/// placeholder) or a denied one, and on git mode's anchors, parents first;
/// none under a kept read-only bind.
fn pin_ops<'a>(
    plan: &'a plan::Plan,
    root_of: &dyn Fn(&Path) -> Option<PathBuf>,
    kept_set: &HashSet<PathBuf>,
    held: impl Iterator<Item = &'a PathBuf>,
    anchors: &[PathBuf],
) -> Vec<MountOp> {
    let mut pins: Vec<PathBuf> = held
        // A denied path's directories too: renamed away inside a writable
        // root, they would carry the secret to a name no entry denies.
        .chain(plan.deny.denied.iter().map(|d| &d.path))
        .filter_map(|t| root_of(t).map(|r| between(&r, t)))
        .flatten()
        // Git mode's anchors themselves: writable, but never renamed away.
        .chain(anchors.iter().cloned())
        .filter(|d| !d.ancestors().any(|a| kept_set.contains(a)))
        .collect();
    pins.sort();
    pins.dedup();
    pins.into_iter().map(MountOp::Pin).collect()
}

/// A read-only bind on each kept protected target, on the object planning
/// found there.
fn bind_ro_ops(plan: &plan::Plan, kept: &[PathBuf]) -> Vec<MountOp> {
    let target_ids: std::collections::HashMap<&Path, Option<FileId>> = plan
        .protected()
        .filter(|(_, p)| p.exists)
        .map(|(_, p)| (p.target.as_path(), p.id))
        .collect();
    let target_id = |t: &PathBuf| target_ids.get(t.as_path()).copied().flatten();
    kept.iter()
        .map(|t| MountOp::BindRo {
            path: t.clone(),
            id: target_id(t),
        })
        .collect()
}

/// A denied path hidden, with the lifts shown through it.
fn deny_op(d: &plan::Denied) -> MountOp {
    MountOp::Deny(DenyMount {
        path: d.path.clone(),
        id: d.handle.id,
        dir: d.is_dir,
        lifts: d
            .lifted
            .iter()
            .map(|l| DenyLift {
                path: l.path.clone(),
                id: l.handle.id,
                dir: l.is_dir,
            })
            .collect(),
    })
}

impl fmt::Display for MountPlan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "mounts: private mount namespace")?;
        for r in &self.reasons {
            writeln!(f, "  needed: {r}")?;
        }
        for op in &self.ops {
            writeln!(f, "  op {op}")?;
        }
        for d in &self.daemon_sockets {
            match &d.allowed_by {
                Some(root) => writeln!(
                    f,
                    "  daemon socket {}: allowed (inside the writable root {})",
                    d.path.display(),
                    root.display()
                )?,
                None => writeln!(
                    f,
                    "  daemon socket {}: masked (connect fails with ECONNREFUSED)",
                    d.path.display()
                )?,
            }
        }
        for p in &self.protections {
            let e = self.explain(p, true);
            let link = if p.link_pinned && p.mechanism != Mechanism::BindRo {
                "; the symlink is pinned"
            } else {
                ""
            };
            let state = if e.enforced { "" } else { "NOT ENFORCED: " };
            writeln!(f, "  protected {}: {state}{}{link}", shown(p), e.mechanism)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::linux::identity::Caller;
    use crate::plan::{Env, resolve};
    use crate::policy::parse_profile_toml;

    fn nobody() -> Identity {
        Caller::plain(65534).identity()
    }

    fn root() -> Identity {
        Caller::root().identity()
    }

    fn plan_with(dir: &Path, protected: &str) -> plan::Plan {
        let policy = parse_profile_toml(
            &format!(
                "[file_system]\nread = [\":root\"]\nwrite = [\":cwd\"]\nprotected = {protected}\n"
            ),
            "test",
        )
        .unwrap();
        resolve(&policy, dir, &Env::default()).unwrap()
    }

    fn plan_in(dir: &Path) -> plan::Plan {
        plan_with(dir, "[\".git\", \".cordon\", \".agents\"]")
    }

    fn ops(p: &MountPlan) -> Vec<String> {
        p.ops.iter().map(|o| o.to_string()).collect()
    }

    #[test]
    fn every_caller_gets_the_read_only_world_a_private_dev_and_ipc() {
        let dir = tempfile::tempdir().unwrap();
        let w = dir.path().canonicalize().unwrap();
        for (id, first) in [
            (root(), "unshare mount+ipc namespace"),
            (
                nobody(),
                "unshare user+mount+ipc namespace (uid 65534 and gid 65534 mapped to themselves)",
            ),
        ] {
            let m = compile(&plan_with(&w, "[]"), &id, &[], &[]);
            let ops = ops(&m);
            assert_eq!(ops[0], first);
            assert_eq!(ops[1], "make-private / (recursive)");
            assert_eq!(
                ops[2],
                format!("snapshot {} (while still writable)", plan::shown(&w))
            );
            assert_eq!(ops[3], "read-only / (recursive)");
            assert!(ops[4].starts_with("private /dev (read-only tmpfs): null zero"));
            assert_eq!(
                ops[5],
                format!("bind-rw {} (nosuid,nodev)", plan::shown(&w))
            );
            assert_eq!(
                ops.contains(&"drop-capabilities".to_string()),
                !id.sys_admin
            );
            let gaps: Vec<Kind> = m
                .gaps_without_namespace()
                .iter()
                .map(|g| g.feature)
                .collect();
            assert_eq!(gaps, [Kind::ReadOnlyWorld, Kind::Devices, Kind::Ipc]);
        }
    }

    #[test]
    fn missing_names_get_placeholders_of_their_kind() {
        let dir = tempfile::tempdir().unwrap();
        let w = dir.path().canonicalize().unwrap();
        let m = compile(
            &plan_with(&w, "[\".git\", \".envrc\", \"a/b\"]"),
            &nobody(),
            &[],
            &[],
        );
        let ops = ops(&m);
        for (name, kind) in [
            (".git", "directory"),
            (".envrc", "file"),
            ("a", "directory"),
        ] {
            let want = format!(
                "placeholder {} (empty {kind}, mode 0444, made for the run, bound read-only, removed when the sandbox ends)",
                plan::shown(&w.join(name))
            );
            assert!(ops.contains(&want), "missing {want}: {ops:?}");
        }
        assert!(m.protections.iter().all(|p| m.explain(p, true).enforced));
        assert!(m.protections.iter().all(|p| !m.explain(p, false).enforced));
    }

    #[test]
    fn git_dir_symlink_and_nested_names_are_pinned() {
        let dir = tempfile::tempdir().unwrap();
        let w = dir.path().canonicalize().unwrap();
        std::fs::create_dir_all(w.join(".git/hooks")).unwrap();
        std::fs::create_dir_all(w.join("sub/decoy")).unwrap();
        std::os::unix::fs::symlink("sub/decoy", w.join(".cordon")).unwrap();
        let m = compile(&plan_in(&w), &nobody(), &[], &[]);
        let ops = ops(&m);
        let want = [
            format!(
                "pin {} (cannot be renamed or removed)",
                w.join("sub").display()
            ),
            format!(
                "bind-ro {} (the symlink itself)",
                w.join(".cordon").display()
            ),
            format!("bind-ro {}", w.join(".git").display()),
            format!("bind-ro {}", w.join("sub/decoy").display()),
        ];
        for op in &want {
            assert!(ops.contains(op), "missing {op}: {ops:?}");
        }
        assert_eq!(ops.last().unwrap(), "drop-capabilities");
        let details: Vec<_> = m
            .gaps_without_namespace()
            .into_iter()
            .filter(|g| g.feature == Kind::Protected)
            .map(|g| g.detail)
            .collect();
        // Every root's top is held: with a `.git` of any kind, by `refs`
        // and `commondir` (a `HEAD` entry would confuse `git diff HEAD`).
        assert_eq!(details.len(), 5, "{details:?}");
        assert!(details[1].contains(".cordon -> "), "{details:?}");
        assert!(details[2].contains(".agents can be created"), "{details:?}");
        assert!(details[3].contains("refs can be created"), "{details:?}");
        assert!(
            details[4].contains("commondir can be created"),
            "{details:?}"
        );
    }

    #[test]
    fn daemon_sockets_are_masked_unless_a_writable_root_holds_them() {
        let dir = tempfile::tempdir().unwrap();
        let w = dir.path().canonicalize().unwrap();
        let inside = w.join("agent.sock");
        let host = PathBuf::from("/run/docker.sock");
        let m = compile(
            &plan_in(&w),
            &nobody(),
            &[host.clone(), inside.clone()],
            &[],
        );
        let ops = ops(&m);
        let mask = format!(
            "mask {} (host daemon socket: /dev/null bound over it)",
            host.display()
        );
        assert!(ops.contains(&mask), "{ops:?}");
        assert!(!ops.iter().any(|o| o.contains("agent.sock")), "{ops:?}");
        assert_eq!(m.daemon_sockets[1].allowed_by.as_deref(), Some(w.as_path()));
        let gaps: Vec<_> = m
            .gaps_without_namespace()
            .into_iter()
            .filter(|g| g.feature == Kind::DaemonSocket)
            .collect();
        assert_eq!(gaps.len(), 1, "{gaps:?}");
    }

    #[test]
    fn a_symlink_to_outside_the_roots_is_still_pinned() {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path().canonicalize().unwrap();
        let (w, elsewhere) = (base.join("w"), base.join("elsewhere"));
        std::fs::create_dir_all(&w).unwrap();
        std::fs::create_dir_all(&elsewhere).unwrap();
        std::os::unix::fs::symlink(&elsewhere, w.join(".agents")).unwrap();
        let m = compile(&plan_in(&w), &nobody(), &[], &[]);
        let link = w.join(".agents");
        assert!(ops(&m).contains(&format!(
            "bind-ro {} (the symlink itself)",
            plan::shown(&link)
        )));
        assert!(
            m.gaps_without_namespace()
                .iter()
                .any(|g| g.detail.contains("can be replaced"))
        );
    }

    #[test]
    fn a_gitdir_outside_the_roots_is_left_to_landlock() {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path().canonicalize().unwrap();
        let (w, gd) = (base.join("w"), base.join("elsewhere/gd"));
        std::fs::create_dir_all(&w).unwrap();
        std::fs::create_dir_all(&gd).unwrap();
        std::fs::write(w.join(".git"), format!("gitdir: {}\n", gd.display())).unwrap();
        let m = compile(&plan_in(&w), &nobody(), &[], &[]);
        let by_target = |t: &Path| {
            m.protections
                .iter()
                .find(|p| p.target == t)
                .map(|p| p.mechanism.clone())
        };
        assert_eq!(by_target(&gd), Some(Mechanism::OutsideRoots));
        // The pointer file itself is inside the root: pinned read-only.
        assert_eq!(by_target(&w.join(".git")), Some(Mechanism::BindRo));
    }

    /// Adversarial pass 10, F5: every link on the way to a protected
    /// target is pinned once, a dangling one's target is held (shaped by
    /// the name), a loop's links are pinned with nothing to hold, and a
    /// chain out of the roots pins only what lies inside them.
    #[test]
    fn links_on_the_way_are_pinned_and_dangling_targets_held() {
        use std::os::unix::fs::symlink;
        let dir = tempfile::tempdir().unwrap();
        let w = dir.path().canonicalize().unwrap();
        std::fs::create_dir_all(w.join("real/agents")).unwrap();
        symlink("real", w.join("link")).unwrap();
        symlink("link/agents", w.join(".agents")).unwrap();
        symlink("link/codex", w.join(".codex")).unwrap();
        symlink("envrc.real", w.join(".envrc")).unwrap();
        symlink("b", w.join(".cordon")).unwrap();
        symlink(".cordon", w.join("b")).unwrap();
        symlink("/nonexistent-cordon-test/x", w.join(".idea")).unwrap();
        let names = r#"[".agents", ".codex", ".envrc", ".cordon", ".idea"]"#;
        let m = compile(&plan_with(&w, names), &nobody(), &[], &[]);
        let pinned: Vec<&PathBuf> = m
            .ops
            .iter()
            .filter_map(|o| match o {
                MountOp::PinLink(p) => Some(p),
                _ => None,
            })
            .collect();
        for l in [
            ".agents", "link", ".codex", ".envrc", ".cordon", "b", ".idea",
        ] {
            let n = pinned.iter().filter(|p| **p == &w.join(l)).count();
            assert_eq!(n, 1, "{l}: {pinned:?}");
        }
        let held: Vec<(PathBuf, bool)> =
            m.placeholders().map(|p| (p.path.clone(), p.dir)).collect();
        assert!(held.contains(&(w.join("envrc.real"), false)), "{held:?}");
        assert!(held.contains(&(w.join("real/codex"), true)), "{held:?}");
        assert_eq!(held.len(), 2, "{held:?}");
        let mech = |path: &str| {
            m.protections
                .iter()
                .find(|p| p.path == w.join(path))
                .map(|p| p.mechanism.clone())
        };
        assert_eq!(mech(".cordon"), Some(Mechanism::Missing), "a loop");
        assert_eq!(mech(".idea"), Some(Mechanism::OutsideRoots));
        assert_eq!(mech(".agents"), Some(Mechanism::BindRo));
    }
}
