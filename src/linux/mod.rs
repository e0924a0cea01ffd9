//! The Linux backend: compile (pure: plan -> Landlock ruleset, seccomp filter,
//! gaps) and apply (this process, then exec).

pub(crate) mod caps;
mod features;
pub(crate) mod host;
pub(crate) mod identity;
pub(crate) mod landlock;
pub(crate) mod mounts;
pub(crate) mod seccomp;
pub(crate) mod seen;
pub(crate) mod terminals;
mod verdict;

#[cfg(target_os = "linux")]
mod apply;
#[cfg(target_os = "linux")]
pub use apply::apply;
#[cfg(target_os = "linux")]
mod carve;
#[cfg(target_os = "linux")]
mod helper;
#[cfg(target_os = "linux")]
pub(crate) mod launch;
#[cfg(target_os = "linux")]
pub(crate) mod namespace;
#[cfg(target_os = "linux")]
pub(crate) mod nested;
#[cfg(target_os = "linux")]
pub(crate) mod proxy;
#[cfg(target_os = "linux")]
pub(crate) mod sentinel;
#[cfg(target_os = "linux")]
pub(crate) mod trace;

use std::fmt;

use serde::Serialize;

pub use features::features;
pub use verdict::verdict;

use crate::enforcement::{Gap, Kind};
use crate::error::Result;
use crate::plan::Plan;

/// A list for a one-line message: a plan with thousands of roots must not
/// print thousands of items.
pub fn summarize(items: &[String]) -> String {
    const SHOWN: usize = 5;
    let mut out = items
        .iter()
        .take(SHOWN)
        .cloned()
        .collect::<Vec<_>>()
        .join("; ");
    if items.len() > SHOWN {
        out.push_str(&format!(
            "; and {} more (`cordon run --dry-run` lists them)",
            items.len() - SHOWN
        ));
    }
    out
}

/// Everything the apply step needs, computed ahead. Its JSON shape is
/// documented in `docs/explain-doctor.md`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Artifacts {
    /// The ABI used: the kernel's, capped by `--landlock-abi`.
    pub abi: u8,
    /// `None` when Landlock is unavailable (only with `--best-effort`).
    pub landlock: Option<landlock::Ruleset>,
    pub seccomp: seccomp::Filter,
    /// Who the command runs as.
    pub identity: identity::Identity,
    /// The private mount namespace.
    pub mounts: mounts::MountPlan,
    /// The capabilities the command keeps: Docker's set when it runs as
    /// uid 0, none for a caller that had some otherwise; `None` when there
    /// is nothing to drop.
    pub caps: Option<caps::Keep>,
    /// What happens to processes the command leaves behind.
    pub leftovers: Leftovers,
    /// The process left outside the sandbox, when one is needed.
    pub sentinel: Option<Sentinel>,
    pub gaps: Vec<Gap>,
}

/// Processes the command leaves in the sandbox, when it exits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Leftovers {
    /// `--keep-leftovers`: they live on, still sandboxed.
    Keep,
    /// Killed all at once by the reaper, a process inside the sandbox that
    /// sends `kill(-1, SIGKILL)`: with Landlock's signal scope (ABI 6) that
    /// reaches exactly the processes of the sandbox, and no process can
    /// fork past it.
    Reaper,
    /// Killed by the sentinel, which finds them by the sandbox's mount
    /// namespace and signals each (no signal scope below ABI 6, so
    /// `kill(-1)` would reach every process of the user): a process that
    /// forks faster than the scan can outrun it.
    Scan,
}

impl fmt::Display for Leftovers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self {
            Leftovers::Keep => "kept (--keep-leftovers): they live on, still sandboxed",
            Leftovers::Reaper => {
                "killed when the command exits: a reaper inside the sandbox sends kill(-1, SIGKILL), which Landlock's signal scope limits to the sandbox's own processes"
            }
            Leftovers::Scan => {
                "killed when the command exits by the sentinel, found by the sandbox's mount namespace (no signal scope on this kernel: a process forking fast can outrun it)"
            }
        };
        writeln!(f, "leftovers: {what}")
    }
}

impl Artifacts {
    /// How a deny entry is enforced, with the namespace entered or not: in
    /// it, a mount hides the path; without it, Landlock grants everything
    /// around the path and not the path (`landlock::carve`).
    pub fn deny_enforcement(&self, namespace: bool) -> mounts::Enforcement {
        let (enforced, mechanism) = match (namespace, &self.landlock) {
            (true, _) => (
                true,
                "mount (an empty read-only tmpfs, or an inert /dev/null, over it in the private mount namespace)",
            ),
            (false, Some(_)) => (
                true,
                "landlock (rules on what lies around it and none on it; the directories above it cannot be listed)",
            ),
            (false, None) => (
                false,
                "no private mount namespace and no Landlock on this host",
            ),
        };
        mounts::Enforcement {
            enforced,
            mechanism: mechanism.to_string(),
        }
    }
}

/// What the sentinel (`sentinel.rs`) does for this run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Sentinel {
    /// Kill the processes left in the sandbox itself ([`Leftovers::Scan`]).
    pub kill_leftovers: bool,
    /// Placeholders to remove once the sandbox is empty.
    pub placeholders: usize,
}

impl fmt::Display for Sentinel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "sentinel: a process outside the sandbox that")?;
        if self.kill_leftovers {
            write!(
                f,
                " kills every process left in the sandbox when the command exits"
            )?;
        } else {
            write!(f, " waits for the last process of the sandbox to exit")?;
        }
        if self.placeholders > 0 {
            write!(f, ", then removes the {} placeholder(s)", self.placeholders)?;
        }
        writeln!(f)
    }
}

/// What a Landlock ABI below 6 leaves open. Network (ABI 4) is not a gap:
/// the seccomp socket filter covers it on every ABI.
pub fn gaps_for_abi(abi: u8) -> Vec<Gap> {
    if abi == 0 {
        return vec![Gap::new(
            Kind::Landlock,
            "Landlock is unavailable, so filesystem access is not restricted \
             (needs Linux 5.13+ with `landlock` in the lsm= boot list)",
        )];
    }
    let mut gaps = Vec::new();
    if abi < 3 {
        gaps.push(Gap::new(
            Kind::Truncate,
            format!("truncate(2) outside writable roots is not restricted (Landlock ABI {abi} < 3, needs Linux 6.2)"),
        ));
    }
    if abi < 5 {
        gaps.push(Gap::new(
            Kind::IoctlDev,
            format!("device ioctls are not restricted beyond seccomp's TIOCSTI/TIOCLINUX rule (Landlock ABI {abi} < 5, needs Linux 6.10)"),
        ));
    }
    if abi < 6 {
        gaps.push(Gap::new(
            Kind::SignalScope,
            format!("signals to processes outside the sandbox are not blocked (Landlock ABI {abi} < 6, needs Linux 6.12)"),
        ));
        gaps.push(Gap::new(
            Kind::AbstractUnixScope,
            format!("abstract unix sockets outside the sandbox are reachable (Landlock ABI {abi} < 6, needs Linux 6.12)"),
        ));
    }
    gaps
}

/// Why the private mount namespace could not be set up in the throw-away
/// child that tries it (`namespace::probe`).
#[derive(Debug)]
pub enum ProbeError {
    /// The pipe for the child's message.
    Pipe(std::io::Error),
    Fork(std::io::Error),
    /// What the child reported.
    Child(String),
    /// The child failed without a word.
    Silent,
}

impl fmt::Display for ProbeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProbeError::Pipe(e) => write!(f, "pipe: {e}"),
            ProbeError::Fork(e) => write!(f, "fork: {e}"),
            ProbeError::Child(msg) => f.write_str(msg),
            ProbeError::Silent => f.write_str("the namespace setup failed in a test child"),
        }
    }
}

/// Whether this host gives the private mount namespace `mounts` needs:
/// tried for real in a throw-away child (one fork). Off Linux, assumed.
pub fn namespace_available(mounts: &mounts::MountPlan) -> std::result::Result<(), ProbeError> {
    #[cfg(target_os = "linux")]
    return namespace::probe(mounts);
    #[cfg(not(target_os = "linux"))]
    {
        let _ = mounts;
        Ok(())
    }
}

/// The Landlock ABI to compile for: this kernel's, capped by
/// `--landlock-abi`. The one choice `run`, `explain` and `doctor` share.
pub fn host_abi(cap: Option<u8>) -> u8 {
    let kernel = host::landlock_abi();
    cap.map_or(kernel, |cap| cap.min(kernel))
}

/// Compiles `plan` for a kernel offering Landlock `abi` (already capped),
/// for the caller this process runs as.
pub fn compile(plan: &Plan, abi: u8) -> Result<Artifacts> {
    let id = identity::caller().identity();
    let sockets = host::daemon_sockets(id.uid);
    compile_for(plan, abi, &id, &sockets, &host::session_sockets(id.uid))
}

/// [`compile`] for a given caller, who could connect to the host daemon
/// sockets `sockets` and to the sockets of its own session `session`
/// (pure).
pub fn compile_for(
    plan: &Plan,
    abi: u8,
    id: &identity::Identity,
    sockets: &[std::path::PathBuf],
    session: &[std::path::PathBuf],
) -> Result<Artifacts> {
    let abi = abi.min(landlock::MAX_ABI);
    let mut mounts = mounts::compile(plan, id, sockets, session);
    let mut gaps = gaps_for_abi(abi);
    if plan.network.has_ports() && !plan.network.enabled && (1..4).contains(&abi) {
        // Without Landlock's TCP rights seccomp lets TCP sockets through
        // and nothing limits their ports. (abi 0 is the `landlock` gap.)
        gaps.push(Gap::new(
            Kind::TcpPorts,
            format!("TCP would reach every port, not only the listed ones (Landlock ABI {abi} < 4, needs Linux 6.7)"),
        ));
    } else if plan.network.has_ports() && !plan.network.enabled && abi == 0 {
        gaps.push(Gap::new(
            Kind::TcpPorts,
            "TCP would reach every port, not only the listed ones (no Landlock)",
        ));
    }
    gaps.extend(mounts.gaps());
    if mounts.read_only_world() {
        // truncate(2) outside the roots meets a read-only mount: closed, as
        // long as the namespace can be had.
        let (closed, open) = gaps.into_iter().partition(|g| g.feature == Kind::Truncate);
        mounts.backfills = closed;
        gaps = open;
    }
    let leftovers = match (plan.kill_leftovers, abi >= 6) {
        (false, _) => Leftovers::Keep,
        (true, true) => Leftovers::Reaper,
        (true, false) => Leftovers::Scan,
    };
    let mut ruleset = (abi > 0).then(|| landlock::compile(plan, abi));
    if let Some(rs) = &mut ruleset {
        terminals::add_rules(plan, &mounts, rs);
    }
    Ok(Artifacts {
        abi,
        landlock: ruleset,
        seccomp: seccomp::compile(plan)?,
        identity: *id,
        caps: id.keep(),
        leftovers,
        sentinel: {
            let placeholders = mounts.placeholders().count();
            let scan = leftovers == Leftovers::Scan;
            (scan || placeholders > 0).then_some(Sentinel {
                kill_leftovers: scan,
                placeholders,
            })
        },
        mounts,
        gaps,
    })
}

impl fmt::Display for Artifacts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.landlock {
            Some(rs) => write!(f, "{rs}")?,
            None => writeln!(f, "landlock: unavailable")?,
        }
        write!(f, "{}", self.seccomp)?;
        write!(f, "{}", self.identity)?;
        write!(f, "{}", self.mounts)?;
        if let Some(keep) = self.caps {
            write!(f, "{keep}")?;
        }
        write!(f, "{}", self.leftovers)?;
        if let Some(s) = &self.sentinel {
            write!(f, "{s}")?;
        }
        for g in &self.gaps {
            writeln!(f, "gap: {g}")?;
        }
        Ok(())
    }
}
