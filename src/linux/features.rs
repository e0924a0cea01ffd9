//! Each feature of the plan next to the part of the compiled artifacts that
//! enforces it (a Landlock rule, right or scope, a seccomp rule), or the gap
//! that says it is not enforced. Read off `Artifacts`; decides nothing new.

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::Artifacts;
use super::landlock::{FsRights, RuleIndex, Ruleset};
use super::seccomp;
use super::verdict::landlock;
use crate::plan::{Plan, ReadScope, describe_protected};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Feature {
    /// A stable token: `filesystem`, `read-scope`, `readable-path`,
    /// `writable-root`, `protected`, `protected-missing` (cannot be pinned
    /// on Linux, by design), `reads-elsewhere`, `writes-elsewhere`,
    /// `network`, `unix-sockets`, `io-uring`, `terminal-injection`,
    /// `terminals`, `own-terminals`, `ptys`,
    /// `mount-changes`, `user-namespaces`, `keyrings`, `capabilities`, `daemon-socket`,
    /// `unix-connect`
    /// (not enforced: pathname sockets outside the masked list),
    /// `truncate`, `ioctl-dev`, `signal-scope`, `abstract-unix-scope`, `macos`.
    pub kind: &'static str,
    /// The plan element in words, e.g. `writable root /repo from :cwd`.
    pub feature: String,
    /// The path it is about, for the path-shaped kinds.
    pub path: Option<PathBuf>,
    pub enforced: bool,
    /// What enforces it, or why nothing does.
    pub mechanism: String,
}

fn yes(kind: &'static str, feature: impl Into<String>, mechanism: impl Into<String>) -> Feature {
    Feature {
        kind,
        feature: feature.into(),
        path: None,
        enforced: true,
        mechanism: mechanism.into(),
    }
}

fn no(kind: &'static str, feature: impl Into<String>, why: impl Into<String>) -> Feature {
    Feature {
        enforced: false,
        ..yes(kind, feature, why)
    }
}

impl Feature {
    fn at(mut self, path: &Path) -> Feature {
        self.path = Some(path.to_path_buf());
        self
    }
}

/// The Landlock rule on exactly `path` that grants `want`.
fn rule_on(rs: &Ruleset, idx: &RuleIndex, path: &Path, want: FsRights) -> Option<String> {
    idx.on(path, want).map(|r| {
        let missing = FsRights(rs.handled_fs.0 & !r.rights.0);
        let rights = if missing.0 == 0 {
            "all handled rights".to_string()
        } else if missing.names().len() <= 2 {
            format!("all handled rights but {missing}")
        } else {
            r.rights.to_string()
        };
        format!("landlock rule {} ({rights})", r.path.display())
    })
}

/// The seccomp rules on `syscall`, as `--dry-run` prints them.
fn seccomp_rules(art: &Artifacts, syscalls: &[&str]) -> Option<String> {
    let rules: Vec<String> = art
        .seccomp
        .rules
        .iter()
        .filter(|r| syscalls.contains(&r.syscall))
        .map(|r| format!("seccomp {}{} -> errno {}", r.syscall, r.cond, r.errno))
        .collect();
    (!rules.is_empty()).then(|| rules.join("; "))
}

fn filesystem(plan: &Plan, art: &Artifacts, rs: &Ruleset, out: &mut Vec<Feature>) {
    let idx = RuleIndex::new(rs);
    // The mount plan holds one entry per protected path, in plan order.
    let mut protections = art.mounts.protections.iter();
    let read = super::landlock::READ.and(rs.handled_fs);
    let missing = |what: &str| format!("internal: no Landlock rule for {what}");
    match &plan.read {
        ReadScope::All => out.push(
            match rule_on(rs, &idx, Path::new("/"), read) {
                Some(m) => yes("read-scope", "read scope :root (/)", m),
                None => no("read-scope", "read scope :root (/)", missing("/")),
            }
            .at(Path::new("/")),
        ),
        ReadScope::Restricted { minimal, roots } => {
            if *minimal {
                let n = rs
                    .rules
                    .iter()
                    .filter(|r| r.why.starts_with("read scope :minimal"))
                    .count();
                out.push(yes(
                    "read-scope",
                    "read scope :minimal",
                    format!("{n} landlock rules (see --dry-run)"),
                ));
            }
            for r in roots {
                let what = format!("readable path {} from {}", r.path.display(), r.origin);
                let f = match rule_on(rs, &idx, &r.path, read.and(super::landlock::FILE_ONLY)) {
                    Some(m) => yes("readable-path", what, m),
                    None => no("readable-path", what, missing(&r.path.to_string_lossy())),
                };
                out.push(f.at(&r.path));
            }
            out.push(yes(
                "reads-elsewhere",
                "reads elsewhere",
                "denied by landlock (no rule grants read_file or read_dir there)",
            ));
        }
    }
    let write = FsRights::named("write_file");
    for w in &plan.writable {
        let what = format!(
            "writable root {} from {}",
            w.root.path.display(),
            w.root.origin
        );
        let f = match rule_on(rs, &idx, &w.root.path, write) {
            Some(m) => yes("writable-root", what, m),
            None => no(
                "writable-root",
                what,
                missing(&w.root.path.to_string_lossy()),
            ),
        };
        out.push(f.at(&w.root.path));
        for p in &w.protected {
            let what = describe_protected(w, p);
            let found = protections.next();
            debug_assert!(found.is_some_and(|m| m.path == p.path && m.target == p.target));
            let outside = !landlock(rs, &idx, &p.target, FsRights::named("make_reg"), "").allowed;
            let f = if !p.exists {
                no(
                    "protected-missing",
                    what,
                    "does not exist, and Linux cannot pin a missing path",
                )
            } else if outside {
                // e.g. a worktree's gitdir in the main repository.
                yes("protected", what, "landlock (outside every writable root)")
            } else {
                match art.protection_of(found) {
                    Ok(m) => yes("protected", what, m),
                    Err(why) => no("protected", what, why),
                }
            };
            out.push(f.at(&p.target));
        }
    }
    out.push(yes(
        "writes-elsewhere",
        "writes elsewhere",
        "denied by landlock (no rule grants write outside the writable roots and devices)",
    ));
}

/// `seccomp a, b, c -> errno 1` when every one of `syscalls` is denied
/// unconditionally (a long list reads better this way than rule by rule).
fn seccomp_denied(art: &Artifacts, syscalls: &[&str]) -> Option<String> {
    let rule = |s: &str| {
        art.seccomp
            .rules
            .iter()
            .find(|r| r.syscall == s && r.cond == seccomp::Cond::Always)
    };
    let errnos: Option<Vec<i32>> = syscalls.iter().map(|s| rule(s).map(|r| r.errno)).collect();
    let errnos = errnos?;
    let errno = *errnos.first()?;
    errnos
        .iter()
        .all(|e| *e == errno)
        .then(|| format!("seccomp {} -> errno {errno}", syscalls.join(", ")))
}

/// A Landlock feature that is a gap below some ABI: enforced unless
/// `compile` reported the gap.
fn abi_feature(art: &Artifacts, gap: &'static str, what: &str, mechanism: &str) -> Feature {
    if art.mounts.backfills.iter().any(|g| g.feature == gap) {
        // Closed by the read-only world of the mount namespace instead.
        return yes(
            gap,
            what,
            "mount (read-only / in a private mount namespace)",
        );
    }
    match art.gaps.iter().find(|g| g.feature == gap) {
        Some(g) => no(gap, what, g.detail.clone()),
        None => yes(gap, what, mechanism),
    }
}

/// Every feature of `plan` with its mechanism under `art`.
pub fn features(plan: &Plan, art: &Artifacts) -> Vec<Feature> {
    let mut out = Vec::new();
    match &art.landlock {
        Some(rs) => filesystem(plan, art, rs, &mut out),
        None => out.push(no(
            "filesystem",
            "filesystem",
            art.gaps
                .iter()
                .find(|g| g.feature == "landlock")
                .map_or("Landlock is unavailable".into(), |g| g.detail.clone()),
        )),
    }
    let tcp = art
        .landlock
        .as_ref()
        .filter(|rs| rs.handle_tcp)
        .map_or(String::new(), |_| {
            "; landlock handles bind_tcp,connect_tcp with no rule".into()
        });
    if plan.network.enabled {
        out.push(yes("network", "network on", "nothing to enforce"));
    } else {
        out.push(match seccomp_rules(art, &["socket"]) {
            Some(m) => yes("network", "network off", format!("{m}{tcp}")),
            None => no("network", "network off", "internal: no seccomp socket rule"),
        });
    }
    out.push(if plan.network.unix_sockets {
        yes("unix-sockets", "unix sockets allowed", "nothing to enforce")
    } else {
        yes(
            "unix-sockets",
            "unix sockets denied",
            "seccomp socket -> errno 1",
        )
    });
    for d in &art.mounts.daemon_sockets {
        let what = format!("host daemon socket {}", d.path.display());
        let f = match &d.allowed_by {
            Some(root) => yes(
                "daemon-socket",
                what,
                format!("allowed: inside the writable root {}", root.display()),
            ),
            None => yes(
                "daemon-socket",
                what,
                "mount (/dev/null bound over it in a private mount namespace: connect fails \
                 with ECONNREFUSED)",
            ),
        };
        out.push(f.at(&d.path));
    }
    if plan.network.unix_sockets {
        out.push(no(
            "unix-connect",
            "connect(2) to other pathname unix sockets",
            "Landlock has no right for it: the well-known host daemon sockets are masked \
             (daemon-socket), but others the command can reach, such as an ssh-agent or X11 \
             socket under a writable /tmp, stay reachable",
        ));
    }
    let uring = ["io_uring_setup", "io_uring_enter", "io_uring_register"];
    out.push(match seccomp_rules(art, &uring) {
        Some(m) => yes("io-uring", "io_uring off", m),
        None => no(
            "io-uring",
            "io_uring off",
            "internal: no seccomp io_uring rule",
        ),
    });
    out.push(match seccomp_rules(art, &["ioctl"]) {
        Some(m) => yes(
            "terminal-injection",
            format!(
                "terminal injection (TIOCSTI {:#x}, TIOCLINUX {:#x})",
                seccomp::TIOCSTI,
                seccomp::TIOCLINUX
            ),
            m,
        ),
        None => no(
            "terminal-injection",
            "terminal injection",
            "internal: no seccomp ioctl rule",
        ),
    });
    out.extend(super::terminals::features(plan, art));
    if let Some(keep) = art.caps {
        out.push(yes(
            "capabilities",
            "capabilities of a privileged caller (reboot, kernel modules, clock, host name, \
             network admin, other processes' memory maps...)",
            format!(
                "PR_CAPBSET_DROP and capset: only {} are kept",
                keep.names().join(",")
            ),
        ));
    }
    let view: Vec<&str> = seccomp::MOUNT_API
        .iter()
        .chain(&seccomp::VIEW_CHANGES)
        .copied()
        .collect();
    out.push(match seccomp_denied(art, &view) {
        Some(m) => yes(
            "mount-changes",
            "mount, chroot and setns (the filesystem view stays as set up)",
            m,
        ),
        None => no(
            "mount-changes",
            "mount, chroot and setns",
            "internal: no seccomp mount rule",
        ),
    });
    out.push(match seccomp_rules(art, &seccomp::USER_NS) {
        Some(m) => yes("user-namespaces", "nested user namespaces", m),
        None => no(
            "user-namespaces",
            "nested user namespaces",
            "internal: no seccomp user namespace rule",
        ),
    });
    out.push(match seccomp_denied(art, &seccomp::KEYRING) {
        Some(m) => yes("keyrings", "the kernel keyrings (session, user)", m),
        None => no(
            "keyrings",
            "the kernel keyrings",
            "internal: no seccomp keyring rule",
        ),
    });
    if art.landlock.is_some() {
        out.push(abi_feature(
            art,
            "truncate",
            "truncate outside writable roots",
            "landlock right truncate",
        ));
        out.push(abi_feature(
            art,
            "ioctl-dev",
            "device ioctls",
            "landlock right ioctl_dev",
        ));
        out.push(abi_feature(
            art,
            "signal-scope",
            "signals to processes outside the sandbox",
            "landlock scope signal",
        ));
        out.push(abi_feature(
            art,
            "abstract-unix-scope",
            "abstract unix sockets outside the sandbox",
            "landlock scope abstract_unix_socket",
        ));
    }
    out.push(no(
        "macos",
        "macos extensions",
        "carried for Seatbelt; nothing on Linux enforces them",
    ));
    out
}
