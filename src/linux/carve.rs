//! Deny entries without the mount namespace (`--best-effort` on a host
//! that refuses one): Landlock only grants, so a denied path is carved out
//! of every rule that covers it. The rule on a directory above it is
//! replaced by rules on each entry of each directory on the way down,
//! except the denied one; the grants inside it (its lifts) get the
//! carved rule back.
//!
//! What that costs, and why it is only the fallback: the directories on the
//! way lose their own rights. They cannot be listed when a denied directory
//! lies below them (listing is inherited down the tree), files cannot be
//! removed or renamed out of them, and entries created in them during the
//! run have no rule. It also lists those directories on the hot path of
//! such a run. With the namespace a mount hides the path instead.

use std::io;
use std::path::{Path, PathBuf};

use super::landlock::{FILE_ONLY, FsRights, Rule, Ruleset};
use crate::plan::{Denied, fs};

/// Rights a directory on the way to a denied file may keep: listing and
/// creating entries. Not removing or reparenting them (that would move the
/// denied file out from under its carve), and no file rights.
fn on_the_way(rights: FsRights, denied_dir_below: bool) -> FsRights {
    if denied_dir_below {
        // Listing or creating inside a denied directory is inherited from
        // any rule above it.
        return FsRights(0);
    }
    let keep = [
        "read_dir",
        "make_char",
        "make_dir",
        "make_reg",
        "make_sock",
        "make_fifo",
        "make_block",
        "make_sym",
    ]
    .iter()
    .fold(0, |acc, n| acc | FsRights::named(n).0);
    rights.and(FsRights(keep))
}

/// The ruleset with every denied path carved out.
pub fn carve(rs: &Ruleset, denied: &[Denied]) -> io::Result<Ruleset> {
    let mut out = Ruleset {
        rules: Vec::with_capacity(rs.rules.len()),
        ..rs.clone()
    };
    for rule in &rs.rules {
        let below: Vec<&Denied> = denied
            .iter()
            .filter(|d| d.path.starts_with(&rule.path))
            .collect();
        // A rule inside a denied path stays only inside one of its lifts
        // (a writable root there is a lift).
        let inside = denied.iter().any(|d| {
            rule.path.starts_with(&d.path)
                && rule.path != d.path
                && !d.lifted.iter().any(|l| rule.path.starts_with(&l.path))
        });
        if inside {
            continue;
        }
        if below.is_empty() {
            out.rules.push(rule.clone());
            continue;
        }
        split(&rule.path, rule, &below, &mut out.rules)?;
    }
    Ok(out)
}

/// Replaces `rule` at `dir` (at or above some of `below`) by rules around
/// the denied paths.
fn split(dir: &Path, rule: &Rule, below: &[&Denied], out: &mut Vec<Rule>) -> io::Result<()> {
    let here: Vec<&Denied> = below
        .iter()
        .copied()
        .filter(|d| d.path.starts_with(dir))
        .collect();
    if let Some(d) = here.iter().find(|d| d.path == dir) {
        // The denied path itself: no rule, but its lifts get this one back.
        for l in &d.lifted {
            let rights = if l.is_dir {
                rule.rights
            } else {
                rule.rights.and(FILE_ONLY)
            };
            out.push(Rule {
                path: l.path.clone(),
                rights,
                why: format!("{} (lifted by {})", rule.why, l.by),
                handle: l.handle.clone(),
                after_namespace: false,
                namespace_only: false,
            });
        }
        return Ok(());
    }
    let dir_below = here.iter().any(|d| d.is_dir);
    let own = on_the_way(rule.rights, dir_below);
    if own.0 != 0
        && let Ok(Some((true, handle))) = fs::open_no_follow(dir)
    {
        out.push(Rule {
            path: dir.to_path_buf(),
            rights: own,
            why: format!("{} (around a deny entry)", rule.why),
            handle,
            after_namespace: false,
            namespace_only: false,
        });
    }
    let mut names: Vec<PathBuf> = std::fs::read_dir(dir)?
        .flatten()
        .map(|e| e.path())
        .collect();
    names.sort();
    for child in names {
        if here.iter().any(|d| d.path.starts_with(&child)) {
            split(&child, rule, &here, out)?;
            continue;
        }
        // Symlinks get no rule: one would land on what they point to.
        let Ok(Some((is_dir, handle))) = fs::open_no_follow(&child) else {
            continue;
        };
        let rights = if is_dir {
            rule.rights
        } else {
            rule.rights.and(FILE_ONLY)
        };
        out.push(Rule {
            path: child,
            rights,
            why: rule.why.clone(),
            handle,
            after_namespace: false,
            namespace_only: false,
        });
    }
    Ok(())
}
