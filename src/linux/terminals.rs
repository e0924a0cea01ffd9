//! Terminals: the command reaches its own terminals and the ptys it makes,
//! and no other terminal (issue 11, item 4).
//!
//! - Its own: the terminals on fds 0-2 (`plan::terminals`), granted by
//!   inode through their descriptors, plus `/dev/tty` (the controlling
//!   terminal, whichever it is) and `/dev/ptmx`.
//! - Every other terminal is simply absent: the private `/dev`
//!   (`mounts.rs`) holds only the device list, so other ptys, consoles,
//!   serial lines and `/dev/vcs*` do not exist there.
//! - Ptys it makes: Landlock checks the slave a new pty's master opens
//!   (`TIOCGPTPEER` goes through the same file-open hook as `open`, on the
//!   slave's path in its devpts), so the slave needs a rule on a directory
//!   above it, and the host's devpts holds every other terminal. In the
//!   namespace `/dev/pts` is a private devpts instance, holding only the
//!   command's own ptys, and that gets the rule; `/dev/ptmx` finds it as
//!   its `pts` sibling. The caller's terminal is bound at `/dev/console`
//!   there (bwrap does the same), so `tty` still names a path that opens it.
//!   Without the namespace (`--best-effort`) the command cannot make ptys.

use std::path::Path;

use super::Artifacts;
use super::landlock::{DEVICE, FILE_ONLY, FsRights, Rule, Ruleset};
use super::mounts::{MountOp, MountPlan};
use crate::enforcement::{Feature, Kind};
use crate::plan::{Handle, Plan};

/// The ptys directory: in the namespace a private instance.
pub const PTS: &str = "/dev/pts";
/// Where the namespace binds the caller's terminal once the private
/// `/dev/pts` hides its name.
pub const CONSOLE: &str = "/dev/console";

const PRIVATE_PTYS_WHY: &str = "the command's own ptys: a private devpts instance in the mount namespace (no host terminal is in it)";

/// Where the private `/dev` shows a terminal of the caller: a pty of the
/// host's devpts at `/dev/console`, any other terminal in `/dev` at its own
/// path. `None` for one outside `/dev`.
pub fn shown_at(path: &Path) -> Option<&Path> {
    if path.starts_with(PTS) && path != Path::new(PTS) {
        Some(Path::new(CONSOLE))
    } else if path.starts_with("/dev") {
        Some(path)
    } else {
        None
    }
}

/// Whether the mount plan gives the command a private `/dev/pts`.
pub fn private_ptys(mounts: &MountPlan) -> bool {
    mounts
        .ops
        .iter()
        .any(|op| matches!(op, MountOp::Dev(d) if d.private_ptys))
}

/// Adds the rules for the command's own terminals and, with a private
/// `/dev/pts`, for the ptys it makes.
pub fn add_rules(plan: &Plan, mounts: &MountPlan, rs: &mut Ruleset) {
    let all = FsRights::all(rs.abi);
    for t in &plan.terminals {
        rs.rules.push(Rule {
            path: t.path.clone(),
            rights: DEVICE.and(FILE_ONLY).and(all),
            why: format!("own terminal {} ({})", t.path.display(), t.describe()),
            handle: t.handle.clone(),
            after_namespace: false,
            namespace_only: false,
        });
    }
    if private_ptys(mounts) {
        rs.rules.push(Rule {
            path: PTS.into(),
            rights: DEVICE.and(all),
            why: PRIVATE_PTYS_WHY.into(),
            handle: Handle::default(),
            after_namespace: true,
            // Without the namespace the name is the host's devpts: every
            // terminal the caller can reach.
            namespace_only: true,
        });
    }
}

/// `explain`'s lines: other terminals, own terminals, ptys it makes.
pub fn features(plan: &Plan, art: &Artifacts, namespace: bool) -> Vec<Feature> {
    if art.landlock.is_none() {
        return Vec::new();
    }
    let feature = |kind, feature: &str, enforced, mechanism: String| Feature {
        kind,
        feature: feature.into(),
        path: None,
        enforced,
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
    let private = namespace && private_ptys(&art.mounts);
    let others = if private {
        "mount (the private /dev holds none of them)".to_string()
    } else {
        "needs the private mount namespace, which this host does not give: the host's /dev is \
         visible"
            .to_string()
    };
    let ptys = if private {
        format!("usable: mount (a private devpts instance at {PTS}) and landlock rule {PTS}")
    } else {
        "unavailable (EACCES): Landlock cannot tell them from the host's terminals without a \
         private devpts instance"
            .into()
    };
    vec![
        feature(
            Kind::Terminals,
            "other terminals (ptys, consoles, serial lines, /dev/vcs*) cannot be opened",
            private,
            others,
        ),
        feature(
            Kind::OwnTerminals,
            "own terminals",
            true,
            format!("{own}; the controlling terminal as /dev/tty"),
        ),
        feature(
            Kind::Ptys,
            "ptys the command makes (script, tmux)",
            private,
            ptys,
        ),
    ]
}

#[cfg(target_os = "linux")]
pub use apply::mount_private_ptys;

#[cfg(target_os = "linux")]
mod apply {
    use std::path::Path;

    use super::super::namespace::NsError;

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
    use crate::linux::identity::Caller;
    use crate::plan::{Env, Terminal, resolve};
    use crate::policy::parse_profile_toml;

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
                handle: Handle::default(),
            }],
            ..Env::default()
        };
        resolve(&policy, dir, &env).unwrap()
    }

    #[test]
    fn own_terminals_are_granted_and_shown_at_the_console_and_ptys_are_private() {
        let dir = tempfile::tempdir().unwrap();
        let plan = plan_with_terminal(dir.path());
        assert!(!plan.devices.iter().any(|d| d.path == Path::new(PTS)));
        for id in [Caller::plain(65534).identity(), Caller::root().identity()] {
            let art = crate::linux::compile_for(&plan, 7, &id, &[], &[]).unwrap();
            let rules = art.landlock.unwrap().rules;
            let own = rules
                .iter()
                .find(|r| r.path == Path::new("/dev/pts/7"))
                .unwrap();
            assert_eq!(
                own.rights.names(),
                ["write_file", "read_file", "truncate", "ioctl_dev"]
            );
            let pts = rules.iter().find(|r| r.path == Path::new(PTS)).unwrap();
            assert!(pts.after_namespace && pts.namespace_only);
        }
        assert_eq!(shown_at(Path::new("/dev/pts/7")), Some(Path::new(CONSOLE)));
        assert_eq!(
            shown_at(Path::new("/dev/tty1")),
            Some(Path::new("/dev/tty1"))
        );
        assert_eq!(shown_at(Path::new("/proc/self/fd/0")), None);
    }
}
