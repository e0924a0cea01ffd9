//! The private mount namespace, compiled (pure, every OS). Landlock cannot
//! make a subpath of a writable root read-only, and it does not stop chmod,
//! chown, utime or xattr changes. Both become mount operations, applied in a
//! private mount namespace before Landlock (`namespace.rs`).
//!
//! When is the namespace needed? When an existing protected path lies inside
//! a writable root (only a read-only bind mount can pin it), or when the
//! caller is privileged (root, or any capability): then metadata changes on
//! files it does not own are possible anywhere, and only a read-only world
//! stops them. An unprivileged caller with nothing to pin skips it: DAC
//! already stops metadata changes on other users' files, and the startup
//! budget matters. What that leaves open (metadata of the caller's own files
//! outside the roots, the host's /dev/shm) is printed by `--dry-run`.

use std::collections::HashSet;
use std::fmt;
use std::path::{Path, PathBuf};

use super::Gap;
use super::host::Identity;
use crate::plan::{self, ProtectedVia};

/// One step of the namespace setup, in the order `namespace::enter` runs them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MountOp {
    /// `unshare(CLONE_NEWNS)`, plus `CLONE_NEWUSER` with the caller's uid and
    /// gid mapped to themselves when `user` (no CAP_SYS_ADMIN).
    Unshare { user: bool, uid: u32, gid: u32 },
    /// Every mount private, so nothing propagates to or from the host.
    MakePrivate,
    /// Clone a writable root's mount tree while it is still writable.
    Snapshot(PathBuf),
    /// Every mount read-only, recursively.
    ReadOnlyWorld,
    /// Attach a writable root's snapshot on top of itself, `nosuid`, and
    /// `nodev` unless the root holds the device files, so a device node
    /// there cannot be opened. (`no_new_privs` already keeps setuid files
    /// from raising privileges; `nosuid` says so at the mount too.)
    BindRw { path: PathBuf, nodev: bool },
    /// Bind a directory on the way to a protected path onto itself, with its
    /// writability unchanged: it can no longer be renamed or removed (EBUSY),
    /// so the protected path cannot be swapped out from under its mount.
    Pin(PathBuf),
    /// Bind a protected path onto itself read-only (a directory or a file,
    /// never a symlink: a symlink there means it changed since the plan).
    BindRo(PathBuf),
    /// Bind a protected symlink onto itself, so it cannot be removed or
    /// pointed elsewhere.
    PinLink(PathBuf),
    /// A private tmpfs (for /dev/shm).
    Tmpfs(PathBuf),
    /// Bind /dev/null (read-only, nodev) over a host daemon's socket:
    /// connect(2) then fails with ECONNREFUSED.
    Mask(PathBuf),
    /// Bind the caller's terminal (a file in the host's devpts, still
    /// reachable by name) onto `to`, before a private devpts hides the name.
    BindTerminal { from: PathBuf, to: PathBuf },
    /// A private devpts instance over /dev/pts: the command's own ptys, and
    /// no host terminal (`terminals.rs`).
    PrivatePtys,
    /// Drop every capability the user namespace gave.
    DropCaps,
}

impl fmt::Display for MountOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MountOp::Unshare {
                user: true,
                uid,
                gid,
            } => write!(
                f,
                "unshare user+mount namespace (uid {uid} and gid {gid} mapped to themselves)"
            ),
            MountOp::Unshare { user: false, .. } => write!(f, "unshare mount namespace"),
            MountOp::MakePrivate => write!(f, "make-private / (recursive)"),
            MountOp::Snapshot(p) => {
                write!(f, "snapshot {} (while still writable)", plan::shown(&p))
            }
            MountOp::ReadOnlyWorld => write!(f, "read-only / (recursive)"),
            MountOp::BindRw { path, nodev } => {
                let nodev = if *nodev { ",nodev" } else { "" };
                write!(f, "bind-rw {} (nosuid{nodev})", plan::shown(&path))
            }
            MountOp::Pin(p) => write!(f, "pin {} (cannot be renamed or removed)", plan::shown(&p)),
            MountOp::BindRo(p) => write!(f, "bind-ro {}", plan::shown(&p)),
            MountOp::PinLink(p) => write!(f, "bind-ro {} (the symlink itself)", plan::shown(&p)),
            MountOp::Tmpfs(p) => write!(f, "tmpfs {} (private)", plan::shown(&p)),
            MountOp::Mask(p) => write!(
                f,
                "mask {} (host daemon socket: /dev/null bound over it)",
                plan::shown(&p)
            ),
            MountOp::BindTerminal { from, to } => write!(
                f,
                "bind {} at {} (the command's terminal, whose name the private /dev/pts hides)",
                plan::shown(&from),
                plan::shown(&to)
            ),
            MountOp::PrivatePtys => write!(
                f,
                "devpts /dev/pts (a private instance: ptys the command makes, no host terminal)"
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
    /// Does not exist: Linux cannot pin it.
    Missing,
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

/// A host daemon's socket the caller could connect to (`host::daemon_sockets`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DaemonSocket {
    pub path: PathBuf,
    /// The writable root that holds it: writing a socket is connecting to
    /// it, so the profile allowed it and it is not masked.
    pub allowed_by: Option<PathBuf>,
}

/// The compiled namespace: `ops` is empty when none is needed.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Plan {
    /// Why the namespace is needed, one line each; empty when it is not.
    pub reasons: Vec<String>,
    pub ops: Vec<MountOp>,
    pub protections: Vec<Protection>,
    /// Host daemon sockets: masked, or allowed by a writable root.
    pub daemon_sockets: Vec<DaemonSocket>,
    /// The caller is privileged (the read-only world is its only limit on
    /// metadata changes).
    pub privileged: bool,
    /// Landlock gaps the read-only world closes; they are open again when the
    /// namespace cannot be had. Filled in by `linux::compile`.
    pub backfills: Vec<Gap>,
}

impl Plan {
    pub fn needs_namespace(&self) -> bool {
        !self.ops.is_empty()
    }

    pub fn read_only_world(&self) -> bool {
        self.ops.contains(&MountOp::ReadOnlyWorld)
    }

    /// What stays open when the namespace cannot be had: one gap per
    /// protected path that needed a mount, the read-only world of a
    /// privileged caller, and the Landlock gaps it backfilled.
    pub fn gaps_without_namespace(&self) -> Vec<Gap> {
        let mut gaps = Vec::new();
        for p in &self.protections {
            if p.mechanism == Mechanism::BindRo {
                gaps.push(Gap {
                    feature: "protected",
                    detail: format!("{} stays writable", shown(p)),
                });
            } else if p.link_pinned {
                gaps.push(Gap {
                    feature: "protected",
                    detail: format!("the symlink {} can be replaced", plan::shown(&p.path)),
                });
            }
        }
        for d in self
            .daemon_sockets
            .iter()
            .filter(|d| d.allowed_by.is_none())
        {
            gaps.push(Gap {
                feature: "daemon-socket",
                detail: format!(
                    "the host daemon socket {} stays reachable",
                    d.path.display()
                ),
            });
        }
        if self.privileged && self.read_only_world() {
            gaps.push(Gap {
                feature: "read-only-world",
                detail: "chmod, chown, utime and xattr changes outside the writable roots are \
                         not restricted (running as root or with capabilities)"
                    .into(),
            });
        }
        gaps.extend(self.backfills.iter().cloned());
        gaps
    }
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

/// Compiles the plan's mount namespace for a caller `id` who could connect
/// to the host daemon sockets `sockets`.
pub fn compile(plan: &plan::Plan, id: Identity, sockets: &[PathBuf]) -> Plan {
    let roots: Vec<PathBuf> = plan.writable.iter().map(|w| w.root.path.clone()).collect();
    // Merged by the plan: no root lies inside another, so the nearest is the
    // one containing a path.
    let root_set: HashSet<&Path> = roots.iter().map(PathBuf::as_path).collect();
    let root_of = |p: &Path| nearest(&root_set, p);

    // Targets that need a read-only mount, outermost first; a target inside
    // another is covered by it.
    let mut bind_ro: Vec<PathBuf> = plan
        .protected()
        .filter(|(_, p)| p.exists && root_of(&p.target).is_some())
        .map(|(_, p)| p.target.clone())
        .collect();
    // Sorted by components, an ancestor comes before what lies inside it.
    bind_ro.sort();
    bind_ro.dedup();
    let mut kept: Vec<PathBuf> = Vec::with_capacity(bind_ro.len());
    let mut kept_set: HashSet<PathBuf> = HashSet::with_capacity(bind_ro.len());
    for t in bind_ro {
        if !t.ancestors().any(|a| kept_set.contains(a)) {
            kept_set.insert(t.clone());
            kept.push(t);
        }
    }
    let covering = |p: &Path| {
        p.ancestors()
            .find(|a| kept_set.contains(*a))
            .map(Path::to_path_buf)
    };

    let mut protections = Vec::new();
    let mut links = Vec::new();
    for (_, p) in plan.protected() {
        let mechanism = if !p.exists {
            Mechanism::Missing
        } else if root_of(&p.target).is_none() {
            Mechanism::OutsideRoots
        } else {
            match covering(&p.target) {
                Some(k) if k == p.target => Mechanism::BindRo,
                Some(k) => Mechanism::Inside(k),
                None => Mechanism::BindRo, // unreachable: every such target is kept or covered
            }
        };
        // The link itself too: replacing it would move the protected name
        // off the pinned target.
        let link_pinned = p.exists
            && p.via == ProtectedVia::Symlink
            && root_of(&p.path).is_some()
            && covering(&p.path).is_none();
        if link_pinned {
            links.push(p.path.clone());
        }
        protections.push(Protection {
            path: p.path.clone(),
            target: p.target.clone(),
            via: p.via,
            mechanism,
            link_pinned,
        });
    }

    let mut reasons = Vec::new();
    let pinned: Vec<String> = protections
        .iter()
        .filter_map(|p| match (&p.mechanism, p.link_pinned) {
            (Mechanism::BindRo, _) => Some(plan::shown(&p.target).to_string()),
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
    let daemon_sockets: Vec<DaemonSocket> = sockets
        .iter()
        .map(|p| DaemonSocket {
            path: p.clone(),
            allowed_by: root_of(p).map(Path::to_path_buf),
        })
        .collect();
    let masked: Vec<PathBuf> = daemon_sockets
        .iter()
        .filter(|d| d.allowed_by.is_none())
        .map(|d| d.path.clone())
        .collect();
    if !masked.is_empty() {
        let names: Vec<String> = masked.iter().map(|p| p.display().to_string()).collect();
        reasons.push(format!(
            "host daemon sockets {}: Landlock does not restrict connect(2), only a mount can \
             keep the command from asking them to act outside the sandbox",
            names.join(", ")
        ));
    }
    if id.privileged {
        reasons.push(
            "running as root or with capabilities: Landlock does not stop chmod, chown, \
             utime or xattr changes outside the writable roots"
                .into(),
        );
    }
    let mut out = Plan {
        reasons,
        ops: Vec::new(),
        protections,
        daemon_sockets,
        privileged: id.privileged,
        backfills: Vec::new(),
    };
    if out.reasons.is_empty() {
        return out;
    }

    let user = !id.sys_admin;
    let ops = &mut out.ops;
    ops.push(MountOp::Unshare {
        user,
        uid: id.uid,
        gid: id.gid,
    });
    ops.push(MountOp::MakePrivate);
    // With `/` itself writable there is no read-only world to carve roots from.
    if !roots.iter().any(|r| r.as_os_str() == "/") {
        ops.extend(roots.iter().cloned().map(MountOp::Snapshot));
        ops.push(MountOp::ReadOnlyWorld);
        ops.extend(roots.iter().map(|r| MountOp::BindRw {
            path: r.clone(),
            nodev: !plan.devices.iter().any(|(d, _)| d.starts_with(r)),
        }));
    }
    // Directories on the way to a pinned path, parents first.
    let mut pins: Vec<PathBuf> = kept
        .iter()
        .chain(&links)
        .filter_map(|t| root_of(t).map(|r| between(r, t)))
        .flatten()
        .filter(|d| covering(d).is_none())
        .collect();
    pins.sort();
    pins.dedup();
    ops.extend(pins.into_iter().map(MountOp::Pin));
    ops.extend(links.into_iter().map(MountOp::PinLink));
    ops.extend(kept.iter().cloned().map(MountOp::BindRo));
    ops.extend(masked.into_iter().map(MountOp::Mask));
    // The device list holds /dev/shm canonical (it may be /run/shm). A
    // writable root inside it keeps the host's, as the user asked.
    let shm = plan
        .devices
        .iter()
        .find(|(p, is_dir)| *is_dir && p.file_name().is_some_and(|n| n == "shm"));
    if let Some((shm, _)) = shm
        && !roots.iter().any(|r| r.starts_with(shm))
    {
        ops.push(MountOp::Tmpfs(shm.clone()));
    }
    ops.extend(super::terminals::mount_ops(plan));
    if user {
        ops.push(MountOp::DropCaps);
    }
    out
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.needs_namespace() {
            writeln!(f, "mounts: private mount namespace")?;
            for r in &self.reasons {
                writeln!(f, "  needed: {r}")?;
            }
            for op in &self.ops {
                writeln!(f, "  op {op}")?;
            }
        } else {
            writeln!(
                f,
                "mounts: none (nothing to pin inside a writable root, no host daemon socket to \
                 mask, and not privileged)"
            )?;
            writeln!(
                f,
                "  residual: chmod, utime and xattr changes to your own files outside the \
                 writable roots are not restricted; /dev/shm is the host's"
            )?;
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
        let world = self.read_only_world();
        for p in &self.protections {
            let how = match &p.mechanism {
                Mechanism::BindRo if p.via == ProtectedVia::Symlink => {
                    "read-only bind mount at the target; the symlink is pinned too".to_string()
                }
                Mechanism::BindRo => {
                    "read-only bind mount (writes fail with EROFS, rename and removal with EBUSY)"
                        .to_string()
                }
                Mechanism::Inside(k) => {
                    format!("inside {}, a read-only bind mount", plan::shown(&k))
                }
                Mechanism::OutsideRoots if world => {
                    "outside every writable root: Landlock and the read-only world".to_string()
                }
                Mechanism::OutsideRoots => "outside every writable root: Landlock".to_string(),
                Mechanism::Missing => "missing: cannot be pinned on Linux".to_string(),
            };
            let link = match (&p.mechanism, p.link_pinned) {
                (Mechanism::BindRo, _) | (_, false) => "",
                (_, true) => "; the symlink is pinned",
            };
            writeln!(f, "  protected {}: {how}{link}", shown(p))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{Env, resolve};
    use crate::policy::parse_profile_toml;

    const NOBODY: Identity = Identity {
        uid: 65534,
        gid: 65534,
        privileged: false,
        sys_admin: false,
    };
    const ROOT: Identity = Identity {
        uid: 0,
        gid: 0,
        privileged: true,
        sys_admin: true,
    };

    fn plan_in(dir: &Path) -> plan::Plan {
        let policy = parse_profile_toml(
            "[file_system]\nread = [\":root\"]\nwrite = [\":cwd\"]\n",
            "test",
        )
        .unwrap();
        resolve(&policy, dir, &Env::default()).unwrap()
    }

    fn ops(p: &Plan) -> Vec<String> {
        p.ops.iter().map(|o| o.to_string()).collect()
    }

    #[test]
    fn unprivileged_without_anything_to_pin_needs_no_namespace() {
        let dir = tempfile::tempdir().unwrap();
        let m = compile(&plan_in(dir.path()), NOBODY, &[]);
        assert!(!m.needs_namespace());
        assert!(m.gaps_without_namespace().is_empty());
        assert!(
            m.protections
                .iter()
                .all(|p| p.mechanism == Mechanism::Missing)
        );
    }

    #[test]
    fn root_always_gets_the_read_only_world() {
        let dir = tempfile::tempdir().unwrap();
        let w = dir.path().canonicalize().unwrap();
        let m = compile(&plan_in(&w), ROOT, &[]);
        let ops = ops(&m);
        assert_eq!(ops[0], "unshare mount namespace");
        assert_eq!(ops[1], "make-private / (recursive)");
        assert_eq!(
            ops[2],
            format!("snapshot {} (while still writable)", plan::shown(&w))
        );
        assert_eq!(ops[3], "read-only / (recursive)");
        assert_eq!(
            ops[4],
            format!("bind-rw {} (nosuid,nodev)", plan::shown(&w))
        );
        assert!(!ops.contains(&"drop-capabilities".to_string()));
        let gaps = m.gaps_without_namespace();
        assert_eq!(gaps.len(), 1);
        assert_eq!(gaps[0].feature, "read-only-world");
    }

    #[test]
    fn git_dir_symlink_and_nested_names_are_pinned() {
        let dir = tempfile::tempdir().unwrap();
        let w = dir.path().canonicalize().unwrap();
        std::fs::create_dir_all(w.join(".git/hooks")).unwrap();
        std::fs::create_dir_all(w.join("sub/decoy")).unwrap();
        std::os::unix::fs::symlink("sub/decoy", w.join(".cordon")).unwrap();
        let m = compile(&plan_in(&w), NOBODY, &[]);
        let ops = ops(&m);
        assert_eq!(
            ops[0],
            "unshare user+mount namespace (uid 65534 and gid 65534 mapped to themselves)"
        );
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
        let gaps = m.gaps_without_namespace();
        let details: Vec<_> = gaps.iter().map(|g| g.detail.clone()).collect();
        assert_eq!(gaps.len(), 2, "{details:?}");
        assert!(details[1].contains(".cordon -> "), "{details:?}");
    }

    #[test]
    fn daemon_sockets_are_masked_unless_a_writable_root_holds_them() {
        let dir = tempfile::tempdir().unwrap();
        let w = dir.path().canonicalize().unwrap();
        let inside = w.join("agent.sock");
        let host = PathBuf::from("/run/docker.sock");
        let m = compile(&plan_in(&w), NOBODY, &[host.clone(), inside.clone()]);
        assert!(m.needs_namespace());
        let ops = ops(&m);
        let mask = format!(
            "mask {} (host daemon socket: /dev/null bound over it)",
            host.display()
        );
        assert!(ops.contains(&mask), "{ops:?}");
        assert!(!ops.iter().any(|o| o.contains("agent.sock")), "{ops:?}");
        assert_eq!(m.daemon_sockets[1].allowed_by.as_deref(), Some(w.as_path()));
        let gaps = m.gaps_without_namespace();
        assert_eq!(gaps.len(), 1, "{gaps:?}");
        assert_eq!(gaps[0].feature, "daemon-socket");
        // Nothing reachable: no namespace, as before.
        assert!(!compile(&plan_in(&w), NOBODY, &[inside]).needs_namespace());
    }

    #[test]
    fn a_symlink_to_outside_the_roots_is_still_pinned() {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path().canonicalize().unwrap();
        let (w, elsewhere) = (base.join("w"), base.join("elsewhere"));
        std::fs::create_dir_all(&w).unwrap();
        std::fs::create_dir_all(&elsewhere).unwrap();
        std::os::unix::fs::symlink(&elsewhere, w.join(".agents")).unwrap();
        let m = compile(&plan_in(&w), NOBODY, &[]);
        assert!(m.needs_namespace());
        let link = w.join(".agents");
        assert!(ops(&m).contains(&format!(
            "bind-ro {} (the symlink itself)",
            plan::shown(&link)
        )));
        let gaps = m.gaps_without_namespace();
        assert_eq!(gaps.len(), 1);
        assert!(gaps[0].detail.contains("can be replaced"), "{gaps:?}");
    }

    #[test]
    fn a_gitdir_outside_the_roots_is_left_to_landlock() {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path().canonicalize().unwrap();
        let (w, gd) = (base.join("w"), base.join("elsewhere/gd"));
        std::fs::create_dir_all(&w).unwrap();
        std::fs::create_dir_all(&gd).unwrap();
        std::fs::write(w.join(".git"), format!("gitdir: {}\n", gd.display())).unwrap();
        let m = compile(&plan_in(&w), NOBODY, &[]);
        let by_target = |t: &Path| {
            m.protections
                .iter()
                .find(|p| p.target == t)
                .map(|p| p.mechanism.clone())
        };
        assert_eq!(by_target(&gd), Some(Mechanism::OutsideRoots));
        // The pointer file itself is inside the root: pinned read-only.
        assert_eq!(by_target(&w.join(".git")), Some(Mechanism::BindRo));
        assert!(m.needs_namespace());
    }
}
