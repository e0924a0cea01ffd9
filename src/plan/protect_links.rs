//! Protected names that are symlinks (the protect step's part of them): a
//! symlink is protected at its target, so every symlink on the way there
//! must stay put too (re-pointing `link` in `.agents -> link/agents` moves
//! `.agents` onto whatever the command chose), and a dangling one's target
//! must not appear (`.envrc -> envrc.real`, missing: creating `envrc.real`
//! writes `.envrc`). The same as `git.rs` does for `.git` (`Found.links`),
//! for every protected name. Mounts pin each link (`PinLink`) and hold a
//! missing target with a placeholder; Seatbelt denies writes to both.

use std::path::{Path, PathBuf};

use super::{Lookup, Protected, ProtectedVia, WritableRoot, first_missing, id_of, lookup};

/// The entries for the protected name `label` at `path`, a symlink: the
/// name itself at its target (or, dangling, at the target's first missing
/// component), then every other symlink crossed on the way to it.
pub(super) fn symlink_entries(path: &Path, label: &str) -> Vec<Protected> {
    let l = lookup(path, Path::new("/"));
    let mut out = link_entries(path, label, &l);
    if let Some(x) = &l.stepped_out_of {
        out.extend(held_where_it_leads(path, label, x));
    }
    out
}

/// The name's own entry and one per link on the way, from the look-up `l`
/// of `path` (taken once by the caller).
fn link_entries(path: &Path, label: &str, l: &Lookup) -> Vec<Protected> {
    let exists = present(l);
    let target = match (&l.stepped_out_of, exists) {
        (_, true) => std::fs::canonicalize(path).unwrap_or_else(|_| l.resolved.clone()),
        // `.agents -> x/../ag` with `x` missing: held at `x`, since a
        // planted `x -> /elsewhere/sub` would lead it to `/elsewhere/ag`.
        (Some(x), false) => x.clone(),
        (None, false) => l.resolved.clone(),
    };
    let missing_from = held_from(l, exists, &target);
    let id = if exists { id_of(&target) } else { None };
    let entry = |at: &Path, why: Option<String>| Protected {
        name: label.to_string(),
        path: at.to_path_buf(),
        target: target.clone(),
        exists,
        via: ProtectedVia::Symlink,
        missing_from: missing_from.clone(),
        id,
        why,
        dir_hint: true,
    };
    let mut out = vec![entry(path, None)];
    for link in &l.symlinks {
        if link.at != path && !out.iter().any(|p| p.path == link.at) {
            out.push(entry(
                &link.at,
                Some(format!("symlink on the way to {label}")),
            ));
        }
    }
    // `NAME -> x/../cl` with `x` there: replaced by a link, `x` would lead
    // the name elsewhere (adversarial pass 14); held read-only, as the git
    // planner holds it for git's paths.
    for d in &l.stepped {
        if !out.iter().any(|p| p.path == *d) {
            let why =
                format!("a directory a symlink on the way to {label} steps back out of with ..");
            out.push(led_to(d, l, why, true));
        }
    }
    out
}

/// Whether a looked-up path is there: another run's placeholder at it is
/// no target, and is held again.
fn present(l: &Lookup) -> bool {
    l.exists && !super::fs::is_placeholder_at(&l.resolved)
}

/// Where a missing `target` is held from: its first missing component.
/// A loop or an unreadable link (ELOOP, EACCES): no name can appear on the
/// way while every link crossed is pinned; nothing to hold.
fn held_from(l: &Lookup, exists: bool, target: &Path) -> Option<PathBuf> {
    (!exists && l.error.is_none()).then(|| {
        let rel = target.strip_prefix("/").unwrap_or(target);
        first_missing(Path::new("/"), rel)
    })
}

/// `NAME -> x/../cl` with `x` missing is held at `x`; but while that
/// placeholder (an empty directory) is there, `x/..` is its parent and the
/// name leads to `cl`, which must be held too (adversarial pass 11: root,
/// whom the placeholder's mode does not stop, wrote `.claude/settings.json`
/// through it). The git planner does the same for git's paths.
fn held_where_it_leads(path: &Path, label: &str, x: &Path) -> Vec<Protected> {
    let mut out = Vec::new();
    let mut at = path.to_path_buf();
    let mut holding = x.to_path_buf();
    // Each round steps past one more missing directory (`x/../y/../cl`:
    // with `x` held, `y` decides, adversarial pass 12), up to the
    // kernel's limit on links, which bounds such a path's reach as well.
    for _ in 0..super::lookup::MAX_LINKS {
        let Some(then) = super::lookup::walk(&at, super::lookup::PastMissing::Stop).then else {
            break;
        };
        let l = lookup(&then, Path::new("/"));
        if std::fs::symlink_metadata(&then).is_ok_and(|m| m.file_type().is_symlink()) {
            // A link itself: protected as a protected link is, its own
            // entry holding any further `y/../` past it.
            out.extend(link_entries(&then, label, &l));
            break;
        }
        let why = format!(
            "where {label} leads while a placeholder holds {}",
            holding.display()
        );
        match &l.stepped_out_of {
            // Another missing directory stepped back out of: held too,
            // and the walk goes on from there with it held.
            Some(y) => {
                out.push(led_to(y, &l, why, false));
                holding = y.clone();
                at = then;
            }
            None => {
                out.push(led_to(&l.resolved, &l, why, present(&l)));
                break;
            }
        }
    }
    out
}

/// The entry that holds `at`, where a protected link leads (`l` its
/// look-up): bound read-only when it `exists`, else held from its first
/// missing component.
fn led_to(at: &Path, l: &Lookup, why: String, exists: bool) -> Protected {
    Protected {
        name: at.display().to_string(),
        path: at.to_path_buf(),
        target: at.to_path_buf(),
        exists,
        via: ProtectedVia::Git,
        missing_from: held_from(l, exists, at),
        id: if exists { id_of(at) } else { None },
        why: Some(why),
        dir_hint: true,
    }
}

/// Moves each symlink found on the way to a protected target to the
/// writable root that holds it (the mounts and Seatbelt pin it there), and
/// drops those outside every writable root (nothing there is writable).
/// A link met by several names is kept once per target.
pub(super) fn rehome_links(writable: &mut [WritableRoot]) {
    let roots: Vec<PathBuf> = writable.iter().map(|w| w.root.path.clone()).collect();
    let mut moved: Vec<(usize, Protected)> = Vec::new();
    for w in writable.iter_mut() {
        let root = &w.root.path;
        if w.protected.iter().all(|p| p.path.starts_with(root)) {
            continue;
        }
        let root = root.clone();
        let (stay, away): (Vec<Protected>, Vec<Protected>) = std::mem::take(&mut w.protected)
            .into_iter()
            .partition(|p| p.path.starts_with(&root));
        w.protected = stay;
        for p in away {
            // Roots are merged: at most one holds a path.
            if let Some(i) = roots.iter().position(|r| p.path.starts_with(r)) {
                moved.push((i, p));
            }
        }
    }
    for (i, p) in moved {
        writable[i].protected.push(p);
    }
    // Only links on the way can repeat (and most roots have none: no set
    // is built for them, with 10,000 roots).
    for w in writable
        .iter_mut()
        .filter(|w| w.protected.iter().any(on_the_way))
    {
        let mut seen = std::collections::HashSet::new();
        w.protected
            .retain(|p| !on_the_way(p) || seen.insert((p.path.clone(), p.target.clone())));
    }
}

/// An entry for a symlink crossed on the way to a protected target.
fn on_the_way(p: &Protected) -> bool {
    p.via == ProtectedVia::Symlink && p.why.is_some()
}
