//! The Linux backend: compile (pure: plan -> Landlock ruleset, seccomp filter,
//! gaps) and apply (this process, then exec).

pub mod caps;
mod features;
pub mod host;
pub mod landlock;
pub mod mounts;
pub mod seccomp;
pub mod terminals;
mod verdict;

#[cfg(target_os = "linux")]
mod apply;
#[cfg(target_os = "linux")]
pub use apply::apply;
#[cfg(target_os = "linux")]
pub mod namespace;

use std::fmt;

use serde::Serialize;

pub use features::{Feature, features};
pub use verdict::verdict;

use crate::error::Result;
use crate::plan::Plan;

/// A feature of the plan this kernel cannot enforce, and how it shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Gap {
    /// Short name (`landlock`, `truncate`, `signal-scope`, ...).
    pub feature: &'static str,
    /// What is not enforced, and what would enforce it.
    pub detail: String,
}

impl fmt::Display for Gap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.feature, self.detail)
    }
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
    /// The private mount namespace (empty ops when none is needed).
    pub mounts: mounts::Plan,
    /// The capabilities a privileged caller keeps; `None` for an
    /// unprivileged one, who has none to drop.
    pub caps: Option<caps::Keep>,
    pub gaps: Vec<Gap>,
}

fn gap(feature: &'static str, detail: impl Into<String>) -> Gap {
    Gap {
        feature,
        detail: detail.into(),
    }
}

/// What a Landlock ABI below 6 leaves open. Network (ABI 4) is not a gap:
/// the seccomp socket filter covers it on every ABI.
pub fn gaps_for_abi(abi: u8) -> Vec<Gap> {
    if abi == 0 {
        return vec![gap(
            "landlock",
            "Landlock is unavailable, so filesystem access is not restricted \
             (needs Linux 5.13+ with `landlock` in the lsm= boot list)",
        )];
    }
    let mut gaps = Vec::new();
    if abi < 3 {
        gaps.push(gap(
            "truncate",
            format!("truncate(2) outside writable roots is not restricted (Landlock ABI {abi} < 3, needs Linux 6.2)"),
        ));
    }
    if abi < 5 {
        gaps.push(gap(
            "ioctl-dev",
            format!("device ioctls are not restricted beyond seccomp's TIOCSTI/TIOCLINUX rule (Landlock ABI {abi} < 5, needs Linux 6.10)"),
        ));
    }
    if abi < 6 {
        gaps.push(gap(
            "signal-scope",
            format!("signals to processes outside the sandbox are not blocked (Landlock ABI {abi} < 6, needs Linux 6.12)"),
        ));
        gaps.push(gap(
            "abstract-unix-scope",
            format!("abstract unix sockets outside the sandbox are reachable (Landlock ABI {abi} < 6, needs Linux 6.12)"),
        ));
    }
    gaps
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
    let id = host::identity();
    compile_for(plan, abi, id, &host::daemon_sockets(id.uid))
}

/// [`compile`] for a given caller, who could connect to the host daemon
/// sockets `sockets` (pure).
pub fn compile_for(
    plan: &Plan,
    abi: u8,
    id: host::Identity,
    sockets: &[std::path::PathBuf],
) -> Result<Artifacts> {
    let abi = abi.min(landlock::MAX_ABI);
    let mut mounts = mounts::compile(plan, id, sockets);
    let mut gaps = gaps_for_abi(abi);
    if mounts.read_only_world() {
        // truncate(2) outside the roots meets a read-only mount: closed, as
        // long as the namespace can be had.
        let (closed, open) = gaps.into_iter().partition(|g| g.feature == "truncate");
        mounts.backfills = closed;
        gaps = open;
    }
    let mut ruleset = (abi > 0).then(|| landlock::compile(plan, abi));
    if let Some(rs) = &mut ruleset {
        terminals::add_rules(plan, &mounts, rs);
    }
    Ok(Artifacts {
        abi,
        landlock: ruleset,
        seccomp: seccomp::compile(plan)?,
        mounts,
        caps: caps::Keep::for_caller(id.privileged),
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
        write!(f, "{}", self.mounts)?;
        if let Some(keep) = self.caps {
            write!(f, "{keep}")?;
        }
        for g in &self.gaps {
            writeln!(f, "gap: {g}")?;
        }
        Ok(())
    }
}
