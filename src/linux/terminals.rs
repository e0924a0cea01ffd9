//! Terminals under Landlock: the command reaches its own terminals and the
//! ptys it makes, and no other terminal (issue 11, item 4).
//!
//! - Its own: the terminals on fds 0-2 (`plan::terminals`), granted by
//!   inode through their descriptors, plus `/dev/tty` (the controlling
//!   terminal, whichever it is) and `/dev/ptmx`. Not `/dev/pts`.
//! - Reading: a read scope of `/` would grant `read_file` on every device
//!   node below it, so reading another pty, a console, a serial line, a
//!   virtual console's screen (`/dev/vcs*`) or, for root, a raw disk would
//!   stay allowed. A rule on `/` is applied without the device-file rights;
//!   each entry of `/` but `/dev` gets them instead (`expand`). Under `/dev`
//!   only the device rules open files.
//! - Ptys it makes: Landlock checks the slave a new pty's master opens
//!   (`TIOCGPTPEER` goes through the same file-open hook as `open`, on the
//!   slave's path in its devpts), so the slave needs a rule on a directory
//!   above it, and the host's devpts also holds every other terminal. In the
//!   mount namespace `/dev/pts` becomes a private devpts instance, which
//!   holds only the command's own ptys and gets the rule; `/dev/ptmx` finds
//!   it as its `pts` sibling. The caller's terminal is bound at
//!   `/dev/console` there, so `tty` still names a path that opens it.
//!   Without the namespace the command cannot make ptys (`EACCES`).

use std::path::{Path, PathBuf};

use super::landlock::{DEVICE, FILE_ONLY, FsRights, Rule, Ruleset};
use super::mounts::MountOp;
use super::{Artifacts, Feature};
use crate::plan::Plan;

/// The rights that open a file's content (all file rights but `execute`):
/// what a rule on `/` must not hand to the device nodes under `/dev`.
pub const DEVICE_FILE: FsRights = FsRights(FILE_ONLY.0 & !EXECUTE);
const EXECUTE: u64 = 1 << 0;

/// Where the device nodes are.
const DEV: &str = "/dev";
/// The ptys directory: the host's, or in the namespace a private instance.
pub const PTS: &str = "/dev/pts";
/// Where the namespace binds the caller's terminal once a private `/dev/pts`
/// hides its name (bwrap does the same).
pub const CONSOLE: &str = "/dev/console";

const PRIVATE_PTYS_WHY: &str = "the command's own ptys: a private devpts instance in the mount namespace (no host terminal is in it)";

/// The rights `rule` gives at `path` (at or below the rule's path): a rule
/// on `/` gives no device-file rights under `/dev`. The one place that
/// knows it, for `expand` (what is applied) and the verdicts.
pub fn rights_at(rule: &Rule, path: &Path) -> FsRights {
    if rule.path == Path::new("/") && path.starts_with(DEV) {
        FsRights(rule.rights.0 & !DEVICE_FILE.0)
    } else {
        rule.rights
    }
}

/// One `landlock_add_rule` as applied.
pub struct Applied<'a> {
    /// What is opened for the rule.
    pub open: PathBuf,
    pub rights: FsRights,
    /// The plan's rule it comes from.
    pub rule: &'a Rule,
    /// An entry of `/` found when applied: one that cannot be opened (a
    /// stale mount) is left out, unreadable, rather than failing the run.
    pub optional: bool,
}

/// The rules as applied. A rule on `/` becomes one on `/` without the
/// device-file rights plus one per entry of `/` but `/dev` with all of
/// them, listed when applied (in the namespace, if there is one).
pub fn expand(rules: &[Rule]) -> std::io::Result<Vec<Applied<'_>>> {
    let mut out = Vec::with_capacity(rules.len());
    for r in rules {
        let open = r.open_via.clone().unwrap_or_else(|| r.path.clone());
        let applied = |open, rights, optional| Applied {
            open,
            rights,
            rule: r,
            optional,
        };
        if r.path != Path::new("/") || r.rights.0 & DEVICE_FILE.0 == 0 {
            out.push(applied(open, r.rights, false));
            continue;
        }
        out.push(applied(open, rights_at(r, Path::new(DEV)), false));
        for entry in std::fs::read_dir("/")? {
            let entry = entry?;
            if entry.file_name() == "dev" {
                continue;
            }
            // A file (or a symlink to one) takes file rights only; a
            // dangling symlink cannot take a rule and reaches nothing. Only
            // symlinks (/bin on merged-/usr systems) cost a stat.
            let kind = entry.file_type()?;
            let is_dir = if kind.is_symlink() {
                match std::fs::metadata(entry.path()) {
                    Ok(meta) => meta.is_dir(),
                    Err(_) => continue,
                }
            } else {
                kind.is_dir()
            };
            let rights = if is_dir {
                r.rights
            } else {
                r.rights.and(FILE_ONLY)
            };
            out.push(applied(entry.path(), rights, true));
        }
    }
    Ok(out)
}

/// Whether the mount plan gives the command a private `/dev/pts`.
pub fn private_ptys(mounts: &super::mounts::Plan) -> bool {
    mounts.ops.contains(&MountOp::PrivatePtys)
}

/// Adds the rules for the command's own terminals and, with a private
/// `/dev/pts`, for the ptys it makes.
pub fn add_rules(plan: &Plan, mounts: &super::mounts::Plan, rs: &mut Ruleset) {
    let all = FsRights::all(rs.abi);
    for t in &plan.terminals {
        rs.rules.push(Rule {
            path: t.path.clone(),
            rights: DEVICE.and(FILE_ONLY).and(all),
            why: format!("own terminal {} ({})", t.path.display(), t.describe()),
            open_via: Some(t.handle()),
        });
    }
    if private_ptys(mounts) {
        rs.rules.push(Rule {
            path: PTS.into(),
            rights: DEVICE.and(all),
            why: PRIVATE_PTYS_WHY.into(),
            open_via: None,
        });
    }
}

/// The namespace's part, before capabilities are dropped: the caller's
/// terminal bound at `/dev/console` (while its name still reaches it), then
/// a private devpts over `/dev/pts`. Only when the namespace is used anyway.
pub fn mount_ops(plan: &Plan) -> Vec<MountOp> {
    if !Path::new(PTS).is_dir() {
        return Vec::new();
    }
    let mut ops = Vec::new();
    let own = plan
        .terminals
        .iter()
        .find(|t| t.path.starts_with(PTS) && t.path != Path::new(PTS));
    if let Some(t) = own
        && Path::new(CONSOLE).exists()
    {
        ops.push(MountOp::BindTerminal {
            from: t.path.clone(),
            to: CONSOLE.into(),
        });
    }
    ops.push(MountOp::PrivatePtys);
    ops
}

/// The artifacts as applied when the namespace was planned but could not be
/// had (`--best-effort`): the private-pty rule would then grant the host's
/// `/dev/pts`, every terminal in it.
pub fn without_namespace(art: &mut Artifacts) {
    if let Some(rs) = &mut art.landlock {
        rs.rules
            .retain(|r| !(r.path == Path::new(PTS) && r.why == PRIVATE_PTYS_WHY));
    }
}

/// `explain`'s lines: other terminals, own terminals, ptys it makes.
pub fn features(plan: &Plan, art: &Artifacts) -> Vec<Feature> {
    let Some(rs) = &art.landlock else {
        return Vec::new();
    };
    let feature = |kind, feature: &str, mechanism: String| Feature {
        kind,
        feature: feature.into(),
        path: None,
        enforced: true,
        mechanism,
    };
    let own: Vec<String> = plan
        .terminals
        .iter()
        .map(|t| t.path.display().to_string())
        .collect();
    let own = if own.is_empty() {
        "none on fds 0-2".to_string()
    } else {
        format!(
            "landlock rules on {} (through their descriptors)",
            own.join(", ")
        )
    };
    let mut out = vec![feature(
        "terminals",
        "other terminals (ptys, consoles, serial lines, /dev/vcs*) cannot be opened",
        "landlock (no rule grants them; a read scope of / stops at the device nodes of /dev)"
            .into(),
    )];
    out.push(feature(
        "own-terminals",
        "own terminals",
        format!("{own}; the controlling terminal as /dev/tty"),
    ));
    let ptys = if private_ptys(&art.mounts) {
        format!("usable: mount (a private devpts instance at {PTS}) and landlock rule {PTS}")
    } else if rs.rules.iter().any(|r| r.path == Path::new(PTS)) {
        "usable: landlock rule /dev/pts".into()
    } else {
        "unavailable (EACCES): Landlock cannot tell them from the host's terminals without a \
         private devpts instance, and this plan has no mount namespace"
            .into()
    };
    out.push(feature(
        "ptys",
        "ptys the command makes (script, tmux)",
        ptys,
    ));
    out
}

#[cfg(target_os = "linux")]
pub use apply::{bind_terminal, mount_private_ptys};

#[cfg(target_os = "linux")]
mod apply {
    use std::path::Path;

    use super::super::namespace::{NsError, attach, clone_tree, open_path};

    /// Binds the caller's terminal `from` (a file in the host's devpts,
    /// still reachable) onto `to`.
    pub fn bind_terminal(from: &Path, to: &Path) -> Result<(), NsError> {
        let tree = clone_tree(&open_path(from)?, from)?;
        attach(&tree, &open_path(to)?, to)
    }

    /// A new devpts instance over `/dev/pts`: `/dev/ptmx` makes ptys in it
    /// (the kernel looks up `pts` next to the ptmx node), and it holds
    /// nothing else.
    pub fn mount_private_ptys() -> Result<(), NsError> {
        use nix::mount::{MsFlags, mount};
        let pts = Path::new(super::PTS);
        // ptmxmode: its own ptmx node usable (/dev/ptmx is the host's);
        // mode=0620 as a distribution's /dev/pts.
        mount(
            Some("devpts"),
            pts,
            Some("devpts"),
            MsFlags::MS_NOSUID | MsFlags::MS_NOEXEC,
            Some("newinstance,ptmxmode=0666,mode=0620"),
        )
        .map_err(|e| NsError {
            step: format!("mount a private devpts on {}", pts.display()),
            err: std::io::Error::from_raw_os_error(e as i32),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::linux::host::Identity;
    use crate::linux::landlock::READ;
    use crate::plan::{Env, Terminal, resolve};
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

    fn plan_with_terminal(dir: &Path) -> Plan {
        let policy = parse_profile_toml(
            "[file_system]\nread = [\":root\"]\nwrite = [\":cwd\"]\n",
            "test",
        )
        .unwrap();
        let env = Env {
            terminals: vec![Terminal {
                path: "/dev/pts/7".into(),
                fds: vec![0, 1],
                controlling: true,
            }],
            ..Env::default()
        };
        resolve(&policy, dir, &env).unwrap()
    }

    #[test]
    fn a_rule_on_root_gives_no_device_file_rights_under_dev() {
        let root = Rule {
            path: "/".into(),
            rights: READ,
            why: String::new(),
            open_via: None,
        };
        let under_dev = rights_at(&root, Path::new("/dev/pts/3"));
        assert_eq!(under_dev.names(), ["execute", "read_dir"]);
        assert_eq!(rights_at(&root, Path::new("/devices/x")), READ);
        assert_eq!(rights_at(&root, Path::new("/etc/passwd")), READ);
        // Applied as / without read_file, plus every entry of / but /dev.
        let applied = expand(std::slice::from_ref(&root)).unwrap();
        assert_eq!(applied[0].open, PathBuf::from("/"));
        assert_eq!(applied[0].rights.names(), ["execute", "read_dir"]);
        assert!(!applied[0].optional && applied[1..].iter().all(|a| a.optional));
        let paths: Vec<&Path> = applied.iter().map(|a| a.open.as_path()).collect();
        assert!(paths.contains(&Path::new("/etc")), "{paths:?}");
        assert!(!paths.contains(&Path::new("/dev")), "{paths:?}");
    }

    #[test]
    fn own_terminals_are_granted_through_their_descriptor_and_ptys_only_in_the_namespace() {
        if !Path::new(PTS).is_dir() {
            // A private /dev/pts replaces an existing one (not on macOS).
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let plan = plan_with_terminal(dir.path());
        assert!(!plan.devices.iter().any(|(d, _)| d == Path::new(PTS)));
        let rules = |id| {
            let art = crate::linux::compile_for(&plan, 7, id, &[]).unwrap();
            art.landlock.unwrap().rules
        };
        for id in [NOBODY, ROOT] {
            let rules = rules(id);
            let own = rules
                .iter()
                .find(|r| r.path == Path::new("/dev/pts/7"))
                .unwrap();
            assert_eq!(own.open_via.as_deref(), Some(Path::new("/proc/self/fd/0")));
            assert_eq!(
                own.rights.names(),
                ["write_file", "read_file", "truncate", "ioctl_dev"]
            );
            // The private /dev/pts comes with the namespace (root's here).
            let pts = rules.iter().any(|r| r.path == Path::new(PTS));
            assert_eq!(pts, id.privileged, "{id:?}");
        }
        // In the namespace, the terminal is bound where `tty` finds it,
        // before the private /dev/pts hides its name.
        let ops = crate::linux::mounts::compile(&plan, ROOT, &[]).ops;
        let at = |op: &MountOp| ops.iter().position(|o| o == op);
        let private = at(&MountOp::PrivatePtys).unwrap();
        if Path::new(CONSOLE).exists() {
            let bind = MountOp::BindTerminal {
                from: "/dev/pts/7".into(),
                to: CONSOLE.into(),
            };
            assert!(at(&bind).unwrap() < private);
        }
        // Without the namespace (--best-effort) the private rule goes.
        let mut art = crate::linux::compile_for(&plan, 7, ROOT, &[]).unwrap();
        without_namespace(&mut art);
        let rules = art.landlock.unwrap().rules;
        assert!(!rules.iter().any(|r| r.path == Path::new(PTS)));
        assert!(rules.iter().any(|r| r.path == Path::new("/dev/pts/7")));
    }
}
