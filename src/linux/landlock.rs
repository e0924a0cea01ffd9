//! Landlock: the plan compiled to a ruleset description (pure, every OS).
//! The bits equal the kernel's `LANDLOCK_ACCESS_FS_*` values, so the apply
//! step hands them to the `landlock` crate unchanged.

use std::fmt;
use std::path::PathBuf;

use serde::Serialize;

use crate::plan::{Handle, Plan, ReadScope, StdioFile};

/// A set of Landlock filesystem rights (kernel bit values). Built only from
/// the constants below, so a misspelt right is a compile error, never an
/// empty set that `contains` would call allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FsRights(pub u64);

impl std::ops::BitOr for FsRights {
    type Output = FsRights;
    fn bitor(self, other: FsRights) -> FsRights {
        FsRights(self.0 | other.0)
    }
}

impl FsRights {
    /// `a | b` in a constant.
    pub const fn with(self, other: FsRights) -> FsRights {
        FsRights(self.0 | other.0)
    }
    /// `a & !b` in a constant.
    pub const fn without(self, other: FsRights) -> FsRights {
        FsRights(self.0 & !other.0)
    }
}

// The kernel's `LANDLOCK_ACCESS_FS_*` bits (include/uapi/linux/landlock.h);
// a test checks each against the `landlock` crate's `AccessFs`.
pub const EXECUTE: FsRights = FsRights(1 << 0);
pub const WRITE_FILE: FsRights = FsRights(1 << 1);
pub const READ_FILE: FsRights = FsRights(1 << 2);
pub const READ_DIR: FsRights = FsRights(1 << 3);
pub const REMOVE_DIR: FsRights = FsRights(1 << 4);
pub const REMOVE_FILE: FsRights = FsRights(1 << 5);
pub const MAKE_CHAR: FsRights = FsRights(1 << 6);
pub const MAKE_DIR: FsRights = FsRights(1 << 7);
pub const MAKE_REG: FsRights = FsRights(1 << 8);
pub const MAKE_SOCK: FsRights = FsRights(1 << 9);
pub const MAKE_FIFO: FsRights = FsRights(1 << 10);
pub const MAKE_BLOCK: FsRights = FsRights(1 << 11);
pub const MAKE_SYM: FsRights = FsRights(1 << 12);
pub const REFER: FsRights = FsRights(1 << 13);
pub const TRUNCATE: FsRights = FsRights(1 << 14);
pub const IOCTL_DEV: FsRights = FsRights(1 << 15);

/// A Landlock ABI version cordon knows (`landlock_create_ruleset` with
/// `LANDLOCK_CREATE_RULESET_VERSION`). A newer kernel's is clamped to the
/// newest known; 0 (none) is not an ABI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Abi {
    V1 = 1,
    V2,
    V3,
    V4,
    V5,
    V6,
    V7,
}

impl Abi {
    pub const NEWEST: Abi = Abi::V7;

    /// The known ABI at or below `version`: a newer kernel's is clamped to
    /// [`Abi::NEWEST`], 0 or less is `None`.
    pub fn clamped(version: i64) -> Option<Abi> {
        const ALL: [Abi; 7] = [
            Abi::V1,
            Abi::V2,
            Abi::V3,
            Abi::V4,
            Abi::V5,
            Abi::V6,
            Abi::V7,
        ];
        match version {
            ..=0 => None,
            v => Some(ALL[(v.min(ALL.len() as i64) - 1) as usize]),
        }
    }
}

/// Every filesystem right with its name and the ABI that introduced it.
pub const FS_RIGHTS: [(&str, FsRights, Abi); 16] = [
    ("execute", EXECUTE, Abi::V1),
    ("write_file", WRITE_FILE, Abi::V1),
    ("read_file", READ_FILE, Abi::V1),
    ("read_dir", READ_DIR, Abi::V1),
    ("remove_dir", REMOVE_DIR, Abi::V1),
    ("remove_file", REMOVE_FILE, Abi::V1),
    ("make_char", MAKE_CHAR, Abi::V1),
    ("make_dir", MAKE_DIR, Abi::V1),
    ("make_reg", MAKE_REG, Abi::V1),
    ("make_sock", MAKE_SOCK, Abi::V1),
    ("make_fifo", MAKE_FIFO, Abi::V1),
    ("make_block", MAKE_BLOCK, Abi::V1),
    ("make_sym", MAKE_SYM, Abi::V1),
    ("refer", REFER, Abi::V2),
    ("truncate", TRUNCATE, Abi::V3),
    ("ioctl_dev", IOCTL_DEV, Abi::V5),
];

/// The highest ABI cordon knows how to use (Linux 6.15).
pub const MAX_ABI: u8 = Abi::NEWEST as u8;

/// Reading and running files.
pub const READ: FsRights = EXECUTE.with(READ_FILE).with(READ_DIR);
/// Rights that make sense on a non-directory (the kernel rejects the rest).
pub const FILE_ONLY: FsRights = EXECUTE
    .with(WRITE_FILE)
    .with(READ_FILE)
    .with(TRUNCATE)
    .with(IOCTL_DEV);
/// Creating device nodes.
pub const MAKE_DEVICE: FsRights = MAKE_CHAR.with(MAKE_BLOCK);
/// Devices: everything but executing them or creating device nodes.
pub const DEVICE: FsRights = FsRights(!0).without(EXECUTE).without(MAKE_DEVICE);
/// Writable roots: everything but creating device nodes. Only root can make
/// one, and a node made in a writable root would open the disk or memory
/// behind it wherever the root is not mounted `nodev` (no private mount
/// namespace, or later outside the sandbox). Creating files, directories,
/// fifos, sockets and symlinks stays allowed.
pub const WRITABLE_ROOT: FsRights = FsRights(!0).without(MAKE_DEVICE);

impl FsRights {
    /// All rights the given ABI knows (0: none).
    pub fn all(abi: u8) -> FsRights {
        let Some(abi) = Abi::clamped(abi.into()) else {
            return FsRights(0);
        };
        FS_RIGHTS
            .iter()
            .filter(|(_, _, since)| *since <= abi)
            .fold(FsRights(0), |acc, (_, r, _)| acc | *r)
    }
    pub fn and(self, other: FsRights) -> FsRights {
        FsRights(self.0 & other.0)
    }
    pub fn contains(self, other: FsRights) -> bool {
        self.0 & other.0 == other.0
    }
    pub fn names(self) -> Vec<&'static str> {
        FS_RIGHTS
            .iter()
            .filter(|(_, r, _)| self.0 & r.0 != 0)
            .map(|(name, _, _)| *name)
            .collect()
    }
}

/// As the list of right names, e.g. `["execute", "read_file"]`.
impl Serialize for FsRights {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.names().serialize(s)
    }
}

impl fmt::Display for FsRights {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.names().join(","))
    }
}

/// One `landlock_add_rule(LANDLOCK_RULE_PATH_BENEATH)`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rule {
    pub path: PathBuf,
    pub rights: FsRights,
    /// Which part of the plan asked for it, naming the path (e.g. `writable
    /// root /repo from :cwd`): `explain` quotes it as the deciding rule.
    pub why: String,
    /// The object planning opened at `path`: the rule is added on it, never
    /// on whatever the name leads to by then.
    #[serde(skip)]
    pub handle: Handle,
    /// The path is one cordon makes in the namespace (the private
    /// `/dev/shm`, `/dev/pts`): the rule is added by name once it exists.
    #[serde(skip)]
    pub after_namespace: bool,
    /// Dropped when the namespace cannot be had (`--best-effort`): the name
    /// would then lead to the host's object (its `/dev/pts`).
    #[serde(skip)]
    pub namespace_only: bool,
}

/// The whole ruleset, ready to apply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Ruleset {
    pub abi: u8,
    pub handled_fs: FsRights,
    /// TCP bind/connect are handled (with no rules: denied) when the network
    /// is off and the ABI has them (4+).
    pub handle_tcp: bool,
    /// Ports with a connect rule (`connect_tcp`), when TCP is handled.
    pub connect_tcp: Vec<u16>,
    /// Ports with a bind rule (`bind_tcp`), when TCP is handled.
    pub bind_tcp: Vec<u16>,
    /// A connect rule on the domain proxy's port, added at launch once the
    /// port is known (the listener is bound then, in the new network
    /// namespace).
    pub proxy_port: bool,
    /// Abstract-unix-socket and signal scopes (ABI 6+).
    pub scopes: bool,
    pub rules: Vec<Rule>,
}

fn rule(path: PathBuf, is_dir: bool, rights: FsRights, why: String, handle: &Handle) -> Rule {
    let rights = if is_dir {
        rights
    } else {
        rights.and(FILE_ONLY)
    };
    Rule {
        after_namespace: handle.id.is_none(),
        namespace_only: false,
        path,
        rights,
        why,
        handle: handle.clone(),
    }
}

/// The read rules: `/` whole, or the `:minimal` runtime paths then each
/// readable path.
fn read_rules(plan: &Plan, read: FsRights) -> Vec<Rule> {
    let mut rules = Vec::new();
    match &plan.read {
        ReadScope::All => rules.push(rule(
            "/".into(),
            true,
            read,
            "read scope :root (/)".into(),
            &plan.slash,
        )),
        ReadScope::Restricted { roots, runtime, .. } => {
            for p in runtime {
                let why = format!("read scope :minimal ({})", p.path.display());
                rules.push(rule(p.path.clone(), p.is_dir, read, why, &p.handle));
            }
            for r in roots {
                let why = format!("readable path {} from {}", r.path.display(), r.origin);
                rules.push(rule(r.path.clone(), r.is_dir, read, why, &r.handle));
            }
        }
    }
    rules
}

/// A stdio file's rule: the rights the descriptor already has, on its
/// inode only.
fn stdio_rule(s: &StdioFile, all: FsRights) -> Rule {
    let mut rights = FsRights(0);
    if s.read {
        rights = rights.with(READ_FILE);
    }
    if s.write {
        rights = rights.with(WRITE_FILE).with(TRUNCATE);
    }
    rule(
        s.path.clone(),
        false,
        rights.and(all),
        format!("stdio file {} ({})", s.path.display(), s.describe()),
        &s.handle,
    )
}

/// Compiles the plan's filesystem and network parts for Landlock `abi`.
pub fn compile(plan: &Plan, abi: u8) -> Ruleset {
    let all = FsRights::all(abi);
    let mut rules = read_rules(plan, READ.and(all));
    for w in &plan.writable {
        let why = format!(
            "writable root {} from {}",
            w.root.path.display(),
            w.root.origin
        );
        rules.push(rule(
            w.root.path.clone(),
            w.root.is_dir,
            WRITABLE_ROOT.and(all),
            why,
            &w.root.handle,
        ));
    }
    for d in &plan.devices {
        rules.push(rule(
            d.path.clone(),
            d.is_dir,
            DEVICE.and(all),
            format!("always-usable device {}", d.path.display()),
            &d.handle,
        ));
    }
    rules.extend(plan.stdio_files.iter().map(|s| stdio_rule(s, all)));
    let handle_tcp = !plan.network.enabled && abi >= 4;
    let ports = |list: &[u16]| {
        if handle_tcp {
            list.to_vec()
        } else {
            Vec::new()
        }
    };
    Ruleset {
        abi,
        handled_fs: all,
        handle_tcp,
        connect_tcp: ports(&plan.network.connect_tcp),
        bind_tcp: ports(&plan.network.bind_tcp),
        proxy_port: handle_tcp && plan.network.proxied(),
        scopes: abi >= 6,
        rules,
    }
}

impl fmt::Display for Ruleset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "landlock:")?;
        writeln!(f, "  abi: {}", self.abi)?;
        writeln!(f, "  handled_fs: {}", self.handled_fs)?;
        let some = !self.connect_tcp.is_empty() || !self.bind_tcp.is_empty() || self.proxy_port;
        let net = match (self.handle_tcp, some) {
            (true, false) => "bind_tcp,connect_tcp (no rules: denied)",
            (true, true) => "bind_tcp,connect_tcp",
            (false, _) => "none",
        };
        writeln!(f, "  handled_net: {net}")?;
        if some {
            let list = |ports: &[u16], proxy: bool| {
                let mut v: Vec<String> = ports.iter().map(u16::to_string).collect();
                if proxy {
                    v.push("the domain proxy's port".into());
                }
                if v.is_empty() {
                    "none (denied)".to_string()
                } else {
                    v.join(", ")
                }
            };
            writeln!(
                f,
                "  connect_tcp: {}",
                list(&self.connect_tcp, self.proxy_port)
            )?;
            writeln!(f, "  bind_tcp: {}", list(&self.bind_tcp, false))?;
        }
        let scopes = if self.scopes {
            "abstract_unix_socket,signal"
        } else {
            "none"
        };
        writeln!(f, "  scopes: {scopes}")?;
        for r in &self.rules {
            writeln!(
                f,
                "  rule {}: {}  # {}",
                crate::plan::shown(&r.path),
                r.rights,
                r.why
            )?;
        }
        Ok(())
    }
}

/// Rules by path, so "which rule grants this right here?" costs one lookup
/// per ancestor instead of a scan of every rule (plans may hold 10,000 roots).
pub struct RuleIndex<'a> {
    by_path: std::collections::HashMap<&'a std::path::Path, Vec<&'a Rule>>,
}

impl<'a> RuleIndex<'a> {
    pub fn new(rs: &'a Ruleset) -> RuleIndex<'a> {
        let mut by_path: std::collections::HashMap<&std::path::Path, Vec<&Rule>> =
            std::collections::HashMap::with_capacity(rs.rules.len());
        for r in &rs.rules {
            by_path.entry(r.path.as_path()).or_default().push(r);
        }
        RuleIndex { by_path }
    }

    /// The rule on exactly `path` that grants `want`.
    pub fn on(&self, path: &std::path::Path, want: FsRights) -> Option<&'a Rule> {
        self.by_path
            .get(path)?
            .iter()
            .copied()
            .find(|r| r.rights.contains(want))
    }

    /// The deepest rule on `path` or a directory above it that grants
    /// `want`: Landlock unions the rights of every rule on the way down, so
    /// the right is granted exactly when such a rule exists.
    pub fn deepest(&self, path: &std::path::Path, want: FsRights) -> Option<&'a Rule> {
        path.ancestors().find_map(|a| self.on(a, want))
    }
}

#[cfg(test)]
mod rights_tests {
    use super::*;

    /// Each constant is the kernel's bit, as the `landlock` crate (which
    /// follows the uapi header) has it, and each ABI adds what it should.
    #[cfg(target_os = "linux")]
    #[test]
    fn rights_are_the_kernels_bits_and_abis_clamp() {
        use landlock::{ABI, Access, AccessFs};
        let pairs = [
            (EXECUTE, AccessFs::Execute),
            (WRITE_FILE, AccessFs::WriteFile),
            (READ_FILE, AccessFs::ReadFile),
            (READ_DIR, AccessFs::ReadDir),
            (REMOVE_DIR, AccessFs::RemoveDir),
            (REMOVE_FILE, AccessFs::RemoveFile),
            (MAKE_CHAR, AccessFs::MakeChar),
            (MAKE_DIR, AccessFs::MakeDir),
            (MAKE_REG, AccessFs::MakeReg),
            (MAKE_SOCK, AccessFs::MakeSock),
            (MAKE_FIFO, AccessFs::MakeFifo),
            (MAKE_BLOCK, AccessFs::MakeBlock),
            (MAKE_SYM, AccessFs::MakeSym),
            (REFER, AccessFs::Refer),
            (TRUNCATE, AccessFs::Truncate),
            (IOCTL_DEV, AccessFs::IoctlDev),
        ];
        for (ours, theirs) in pairs {
            assert_eq!(ours.0, theirs as u64, "{:?}", ours.names());
        }
        for (n, abi) in [
            (1, ABI::V1),
            (2, ABI::V2),
            (3, ABI::V3),
            (4, ABI::V4),
            (5, ABI::V5),
            (6, ABI::V6),
        ] {
            assert_eq!(
                FsRights::all(n).0,
                AccessFs::from_all(abi).bits(),
                "ABI {n}"
            );
        }
    }

    #[test]
    fn abi_versions_clamp_to_the_newest_known() {
        assert_eq!(Abi::clamped(0), None);
        assert_eq!(Abi::clamped(-38), None);
        assert_eq!(Abi::clamped(3), Some(Abi::V3));
        assert_eq!(Abi::clamped(99), Some(Abi::NEWEST));
        assert_eq!(FsRights::all(0), FsRights(0));
        assert_eq!(FsRights::all(99), FsRights::all(MAX_ABI));
        assert!(!DEVICE.contains(EXECUTE) && WRITABLE_ROOT.contains(MAKE_SYM));
    }
}
