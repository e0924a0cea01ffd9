//! Per-path verdicts read off the compiled Linux artifacts: which Landlock
//! rule grants an access (the kernel's rule: a right is granted when a rule on
//! the path or any parent directory grants it), then whether a protected
//! subpath takes write away again. Nothing here re-derives the policy: it
//! reads the same `Artifacts` that `cordon run` applies.

use std::path::Path;

use super::Artifacts;
use super::landlock::{FsRights, RuleIndex};
use super::mounts::Protection;
use crate::plan::{Access, Lookup, PathVerdict, Plan, Protected, describe_protected};

impl Artifacts {
    /// What keeps the protected path `p` read-only (`Ok(mechanism)`, e.g.
    /// `mount`), or why nothing does.
    ///
    /// The one place that knows how protected subpaths are enforced: the
    /// mount-namespace backend answers here with its read-only bind mount.
    /// Landlock alone cannot: it only adds rights, so nothing inside a
    /// writable root can be taken away again.
    pub fn protection(&self, p: &Protected) -> Result<String, String> {
        let found = self
            .mounts
            .protections
            .iter()
            .find(|m| m.target == p.target && m.path == p.path);
        self.protection_of(found)
    }

    /// [`Self::protection`] for the mount plan's own entry (`None`: none).
    pub fn protection_of(&self, found: Option<&Protection>) -> Result<String, String> {
        use super::mounts::Mechanism;
        match found.map(|m| &m.mechanism) {
            Some(Mechanism::BindRo) if self.mounts.needs_namespace() => Ok(format!(
                "mount (read-only bind of {} in a private mount namespace)",
                found.map_or_else(String::new, |m| m.target.display().to_string())
            )),
            Some(Mechanism::Inside(outer)) if self.mounts.needs_namespace() => Ok(format!(
                "mount (inside the read-only bind of {})",
                outer.display()
            )),
            Some(Mechanism::OutsideRoots) => {
                Ok("landlock (outside every writable root)".to_string())
            }
            Some(Mechanism::Missing) => {
                Err("it does not exist, and Linux cannot pin a missing path".into())
            }
            _ => Err(
                "Landlock cannot take write access away inside a writable root, \
                 and no read-only bind mount is planned for it"
                    .into(),
            ),
        }
    }

    /// `CORDON_SANDBOX` for a command run under these artifacts.
    pub fn sandbox_kind(&self) -> &'static str {
        if self.landlock.is_some() {
            "landlock"
        } else {
            "none"
        }
    }
}

/// The deepest rule on `path` or a parent that grants `want`, as Landlock
/// unions the rights of every rule on the way down.
pub(super) fn landlock(
    rs: &super::landlock::Ruleset,
    idx: &RuleIndex,
    path: &Path,
    want: FsRights,
    outside: &str,
) -> Access {
    if !rs.handled_fs.contains(want) {
        return Access::allow(
            "none",
            format!("{want} is not handled by Landlock ABI {}", rs.abi),
        );
    }
    idx.deepest(path, want).map_or_else(
        || Access::deny("landlock", outside),
        |r| Access::allow("landlock", r.why.clone()),
    )
}

/// Write access: Landlock first, then the protected subpath it falls under.
fn write(
    plan: &Plan,
    art: &Artifacts,
    rs: &super::landlock::Ruleset,
    idx: &RuleIndex,
    l: &Lookup,
) -> Access {
    // Writing an existing file needs write_file on it; anything else
    // (a new file, or into a directory) needs make_reg where it is created.
    let want = if l.exists && !l.is_dir {
        FsRights::named("write_file")
    } else {
        FsRights::named("make_reg")
    };
    let granted = landlock(rs, idx, &l.resolved, want, "outside every writable root");
    let Some((w, p)) = plan.protection_for(&l.resolved) else {
        return granted;
    };
    if !granted.allowed {
        return granted;
    }
    let what = describe_protected(w, p);
    if !p.exists {
        return Access::allow(
            &granted.mechanism,
            format!(
                "{}; {what} does not exist, and Linux cannot pin a missing path",
                granted.rule
            ),
        );
    }
    match art.protection(p) {
        Ok(mechanism) => Access::deny(&mechanism, what),
        Err(why) => Access::allow(
            &granted.mechanism,
            format!("{}; {what} is NOT enforced: {why}", granted.rule),
        ),
    }
}

/// The verdict for one looked-up path. `art` is `None` when the plan runs
/// unsandboxed.
pub fn verdict(plan: &Plan, art: Option<&Artifacts>, l: &Lookup) -> PathVerdict {
    let all = |a: Access| (a.clone(), a.clone(), a);
    let (read, write, execute) = match art {
        None => all(Access::allow(
            "none",
            format!("no sandbox: policy {} runs unconfined", plan.policy_name),
        )),
        Some(art) => match &art.landlock {
            None => all(Access::allow(
                "none",
                "Landlock is unavailable on this host, so nothing restricts the filesystem",
            )),
            Some(rs) => {
                let idx = RuleIndex::new(rs);
                let read_right = if l.is_dir { "read_dir" } else { "read_file" };
                (
                    landlock(
                        rs,
                        &idx,
                        &l.resolved,
                        FsRights::named(read_right),
                        "outside the read scope",
                    ),
                    write(plan, art, rs, &idx, l),
                    landlock(
                        rs,
                        &idx,
                        &l.resolved,
                        FsRights::named("execute"),
                        "outside the read scope",
                    ),
                )
            }
        },
    };
    PathVerdict {
        warnings: plan.symlink_warnings(l),
        lookup: l.clone(),
        read,
        write,
        execute,
    }
}
