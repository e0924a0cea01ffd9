//! Per-path verdicts read off the compiled Linux artifacts: which Landlock
//! rule grants an access (the kernel's rule: a right is granted when a rule on
//! the path or any parent directory grants it), then whether a protected
//! subpath takes write away again. Nothing here re-derives the policy: it
//! reads the same `Artifacts` that `cordon run` applies.

use std::path::Path;

use super::Artifacts;
use super::landlock::{FsRights, RuleIndex};
use crate::plan::{Access, Lookup, PathVerdict, Plan, describe_protected, shown};

impl Artifacts {
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

/// Write access: Landlock first, then the protected subpath it falls under,
/// as the mount plan enforces it (`namespace`: whether this host gives the
/// private mount namespace).
fn write(
    plan: &Plan,
    art: &Artifacts,
    rs: &super::landlock::Ruleset,
    idx: &RuleIndex,
    l: &Lookup,
    namespace: bool,
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
    let Some(m) = art.mounts.protection(&p.path, &p.target) else {
        return Access::allow(
            &granted.mechanism,
            format!(
                "{}; {what} is NOT enforced: internal: not in the mount plan",
                granted.rule
            ),
        );
    };
    let e = art.mounts.explain(m, namespace);
    if e.enforced {
        Access::deny(&e.mechanism, what)
    } else {
        Access::allow(
            &granted.mechanism,
            format!("{}; {what} is NOT enforced: {}", granted.rule, e.mechanism),
        )
    }
}

/// The verdict for one looked-up path. `art` is `None` when the plan runs
/// unsandboxed; `namespace` says whether this host gives the private mount
/// namespace.
pub fn verdict(plan: &Plan, art: Option<&Artifacts>, l: &Lookup, namespace: bool) -> PathVerdict {
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
                    write(plan, art, rs, &idx, l, namespace),
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
    let (read, write, execute) = match art {
        Some(art) => deny(plan, art, l, namespace, (read, write, execute)),
        None => (read, write, execute),
    };
    PathVerdict {
        warnings: plan.symlink_warnings(l),
        lookup: l.clone(),
        read,
        write,
        execute,
    }
}

/// A deny entry over the path decides all three accesses; a grant that
/// lifts it (or names it whole) says so in the rule.
fn deny(
    plan: &Plan,
    art: &Artifacts,
    l: &Lookup,
    namespace: bool,
    rwx: (Access, Access, Access),
) -> (Access, Access, Access) {
    let note = |a: Access, why: String| Access {
        rule: format!("{}; {why}", a.rule),
        ..a
    };
    if let Some(w) = plan.deny.waived_for(&l.resolved) {
        let why = format!(
            "deny entry {} (from {}) not applied: {} names {}",
            w.entry,
            w.origin,
            w.by,
            shown(&w.path)
        );
        return (
            note(rwx.0, why.clone()),
            note(rwx.1, why.clone()),
            note(rwx.2, why),
        );
    }
    let Some((d, lift)) = plan.deny.hiding(&l.resolved) else {
        return rwx;
    };
    let entry = format!("deny entry {} (from {})", d.entry, d.origin);
    if let Some(lift) = lift {
        let why = format!(
            "inside {} hidden by {entry}, lifted for {} by {}",
            shown(&d.path),
            shown(&lift.path),
            lift.by
        );
        return (
            note(rwx.0, why.clone()),
            note(rwx.1, why.clone()),
            note(rwx.2, why),
        );
    }
    let e = art.deny_enforcement(namespace);
    let hidden = format!("{} hidden by {entry}", shown(&d.path));
    let a = if e.enforced {
        Access::deny(&e.mechanism, hidden)
    } else {
        Access::allow("none", format!("{hidden} is NOT enforced: {}", e.mechanism))
    };
    (a.clone(), a.clone(), a)
}
