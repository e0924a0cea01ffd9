//! Landlock: the plan compiled to a ruleset description (pure, every OS).
//! The bits equal the kernel's `LANDLOCK_ACCESS_FS_*` values, so the apply
//! step hands them to the `landlock` crate unchanged.

use std::fmt;
use std::path::PathBuf;

use serde::Serialize;

use crate::plan::{Handle, Plan, ReadScope};

/// A set of Landlock filesystem rights (kernel bit values).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FsRights(pub u64);

/// Every filesystem right with its name and the ABI that introduced it.
pub const FS_RIGHTS: [(&str, u64, u8); 16] = [
    ("execute", 1 << 0, 1),
    ("write_file", 1 << 1, 1),
    ("read_file", 1 << 2, 1),
    ("read_dir", 1 << 3, 1),
    ("remove_dir", 1 << 4, 1),
    ("remove_file", 1 << 5, 1),
    ("make_char", 1 << 6, 1),
    ("make_dir", 1 << 7, 1),
    ("make_reg", 1 << 8, 1),
    ("make_sock", 1 << 9, 1),
    ("make_fifo", 1 << 10, 1),
    ("make_block", 1 << 11, 1),
    ("make_sym", 1 << 12, 1),
    ("refer", 1 << 13, 2),
    ("truncate", 1 << 14, 3),
    ("ioctl_dev", 1 << 15, 5),
];

/// The highest ABI cordon knows how to use (Linux 6.15).
pub const MAX_ABI: u8 = 7;

const fn bits(names: &[&str]) -> u64 {
    let mut out = 0;
    let mut i = 0;
    while i < names.len() {
        let mut j = 0;
        while j < FS_RIGHTS.len() {
            if const_eq(FS_RIGHTS[j].0, names[i]) {
                out |= FS_RIGHTS[j].1;
            }
            j += 1;
        }
        i += 1;
    }
    out
}

const fn const_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// Reading and running files.
pub const READ: FsRights = FsRights(bits(&["execute", "read_file", "read_dir"]));
/// Rights that make sense on a non-directory (the kernel rejects the rest).
pub const FILE_ONLY: FsRights = FsRights(bits(&[
    "execute",
    "write_file",
    "read_file",
    "truncate",
    "ioctl_dev",
]));
/// Creating device nodes.
pub const MAKE_DEVICE: FsRights = FsRights(bits(&["make_char", "make_block"]));
/// Devices: everything but executing them or creating device nodes.
pub const DEVICE: FsRights = FsRights(!bits(&["execute", "make_char", "make_block"]));
/// Writable roots: everything but creating device nodes. Only root can make
/// one, and a node made in a writable root would open the disk or memory
/// behind it wherever the root is not mounted `nodev` (no private mount
/// namespace, or later outside the sandbox). Creating files, directories,
/// fifos, sockets and symlinks stays allowed.
pub const WRITABLE_ROOT: FsRights = FsRights(!MAKE_DEVICE.0);

impl FsRights {
    /// All rights the given ABI knows.
    pub fn all(abi: u8) -> FsRights {
        FsRights(
            FS_RIGHTS
                .iter()
                .filter(|(_, _, since)| *since <= abi)
                .fold(0, |acc, (_, bit, _)| acc | bit),
        )
    }
    /// The one right called `name` (empty for an unknown name).
    pub fn named(name: &str) -> FsRights {
        FsRights(
            FS_RIGHTS
                .iter()
                .find(|(n, _, _)| *n == name)
                .map_or(0, |(_, bit, _)| *bit),
        )
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
            .filter(|(_, bit, _)| self.0 & bit != 0)
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

/// Compiles the plan's filesystem and network parts for Landlock `abi`.
pub fn compile(plan: &Plan, abi: u8) -> Ruleset {
    let all = FsRights::all(abi);
    let read = READ.and(all);
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
    Ruleset {
        abi,
        handled_fs: all,
        handle_tcp: !plan.network.enabled && abi >= 4,
        scopes: abi >= 6,
        rules,
    }
}

impl fmt::Display for Ruleset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "landlock:")?;
        writeln!(f, "  abi: {}", self.abi)?;
        writeln!(f, "  handled_fs: {}", self.handled_fs)?;
        let net = if self.handle_tcp {
            "bind_tcp,connect_tcp (no rules: denied)"
        } else {
            "none"
        };
        writeln!(f, "  handled_net: {net}")?;
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
