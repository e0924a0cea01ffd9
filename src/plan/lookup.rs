//! A path looked up the way the kernel will when the command opens it:
//! every symlink followed (the last one too, as `open` does), `..` taken
//! after following, and a missing tail kept as spelled. `explain` checks the
//! result against the rules, since the kernel checks the target, not the
//! spelling. Reads the filesystem (`lstat`, `readlink`), changes nothing.

use std::collections::VecDeque;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::Plan;

/// The kernel's limit on symlinks followed in one lookup (ELOOP after it).
pub(super) const MAX_LINKS: usize = 40;

/// One symlink met on the way.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Link {
    /// Where the link is (its directory resolved).
    pub at: PathBuf,
    /// The link's text, as `readlink` gives it.
    pub text: PathBuf,
    /// Where it leads, resolved the same way.
    pub target: PathBuf,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Lookup {
    /// The path as given, made absolute against the plan's cwd.
    pub path: PathBuf,
    /// What the kernel will check: symlink-free up to the first missing
    /// component, then as spelled.
    pub resolved: PathBuf,
    pub exists: bool,
    pub is_dir: bool,
    pub symlinks: Vec<Link>,
    /// Why the lookup stopped early (`ELOOP`, a permission error), if it did.
    pub error: Option<String>,
    /// A missing component a later `..` steps back out of (`x` in `x/../y`):
    /// the kernel fails there (ENOENT), and what the path leads to once `x`
    /// appears depends on what `x` is, so `x` is what decides it.
    #[serde(skip)]
    pub stepped_out_of: Option<PathBuf>,
    /// Existing directories a `..` steps back out of that a symlink's text
    /// stepped into (`x` for `lnk -> x/../store`): held with the links.
    #[serde(skip)]
    pub stepped: Vec<PathBuf>,
}

/// What a `..` after a missing component does to a walk by hand.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum PastMissing {
    /// Taken lexically, as `explain` shows the path (the component is
    /// recorded as `stepped_out_of`).
    Lexical,
    /// The walk ends at the missing component (the kernel's ENOENT), and
    /// where the rest leads once a placeholder holds it is `then`: the
    /// git planner's view, which pins both.
    Stop,
}

/// The kernel's walk done by hand (`lstat` + `readlink` per component):
/// the one walk `explain`'s look-ups and the git planner share.
pub(super) struct Walk {
    pub resolved: PathBuf,
    pub exists: bool,
    /// Whether the last component existing is a directory.
    pub is_dir: bool,
    /// The links crossed, as (where, text).
    pub links: Vec<(PathBuf, PathBuf)>,
    pub error: Option<String>,
    pub stepped_out_of: Option<PathBuf>,
    /// With [`PastMissing::Stop`]: where `x/../rest` leads once `x` is held.
    pub then: Option<PathBuf>,
    /// Existing directories a `..` steps back out of that a symlink's text
    /// stepped into (`x` for `lnk -> x/../store`; `d/e` for `l1/../store`
    /// with `l1 -> d/e`, and `d` too for `l1/../../store`): replaced by a
    /// symlink, `x/..` is wherever that leads, so whoever pins the path
    /// holds them too (adversarial passes 14, 15). The directories the
    /// path's own spelling steps into are its caller's.
    pub stepped: Vec<PathBuf>,
    /// Per component of `resolved`: whether a symlink's text named it.
    from_link: Vec<bool>,
}

/// A component still to walk, and whether it comes from a symlink's text
/// (see [`Walk::stepped`]).
type Pending = VecDeque<(OsString, bool)>;

pub(super) fn walk(path: &Path, past_missing: PastMissing) -> Walk {
    let mut pending: Pending = super::git::steps(path).map(|c| (c, false)).collect();
    let mut w = Walk {
        resolved: PathBuf::from("/"),
        exists: true,
        is_dir: true,
        links: Vec::new(),
        error: None,
        stepped_out_of: None,
        then: None,
        stepped: Vec::new(),
        from_link: Vec::new(),
    };
    let mut first_missing: Option<PathBuf> = None;
    while let Some((name, from_link)) = pending.pop_front() {
        if name == ".." {
            match (&first_missing, past_missing) {
                (Some(first), PastMissing::Stop) => {
                    // The kernel cannot step back out of a missing
                    // directory (`x/../y` with no `x` is ENOENT): whether
                    // `x` appears, and as what, decides. Held (an empty
                    // directory), `x/..` is its parent, so the rest of the
                    // path is read from there.
                    if w.resolved == *first
                        && let Some(parent) = first.parent()
                    {
                        let rest = pending.iter().map(|(c, _)| c);
                        w.then = Some(rest.fold(parent.to_path_buf(), |p, c| p.join(c)));
                    }
                    w.resolved = first.clone();
                    break;
                }
                (Some(_), PastMissing::Lexical) if w.stepped_out_of.is_none() => {
                    w.stepped_out_of.clone_from(&first_missing);
                }
                _ => {}
            }
            if w.from_link.pop() == Some(true) && w.exists {
                w.stepped.push(w.resolved.clone());
            }
            w.resolved.pop();
            continue;
        }
        let next = w.resolved.join(&name);
        if w.exists {
            step(&mut w, &mut pending, &mut first_missing, next.clone());
        } else {
            w.resolved = next.clone();
        }
        // Stepped to it (a link is spliced into `pending` instead).
        if w.resolved == next {
            w.from_link.push(from_link);
        }
    }
    w.is_dir &= w.exists;
    w
}

/// One existing-so-far component: a link spliced into `pending`, a file
/// or directory stepped into, or the first missing one.
fn step(w: &mut Walk, pending: &mut Pending, first_missing: &mut Option<PathBuf>, next: PathBuf) {
    match std::fs::symlink_metadata(&next) {
        Ok(meta) if meta.file_type().is_symlink() => {
            if w.links.len() == MAX_LINKS {
                // The kernel's ELOOP, for now: kept only while this link
                // stays one. Replaced by a directory, the path resolves
                // through exactly 40 links (adversarial pass 11), so it is
                // a link on the way like the others, pinned with them.
                let text = std::fs::read_link(&next).unwrap_or_default();
                w.links.push((next.clone(), text));
                w.error = Some(format!("more than {MAX_LINKS} symlinks (ELOOP)"));
                w.exists = false;
                w.resolved = next;
                return;
            }
            let text = match std::fs::read_link(&next) {
                Ok(t) => t,
                Err(e) => {
                    w.error = Some(format!("cannot read symlink {}: {e}", next.display()));
                    w.exists = false;
                    w.resolved = next;
                    return;
                }
            };
            if text.is_absolute() {
                w.resolved = PathBuf::from("/");
                w.from_link.clear();
            }
            let comps: Vec<OsString> = super::git::steps(&text).collect();
            for c in comps.into_iter().rev() {
                pending.push_front((c, true));
            }
            w.links.push((next, text));
        }
        Ok(meta) => {
            w.is_dir = meta.is_dir();
            w.resolved = next;
        }
        Err(e) => {
            if e.kind() != std::io::ErrorKind::NotFound {
                w.error = Some(format!("cannot look up {}: {e}", next.display()));
            }
            *first_missing = Some(next.clone());
            w.exists = false;
            w.resolved = next;
        }
    }
}

/// Looks `path` up (relative paths against `cwd`).
pub fn lookup(path: &Path, cwd: &Path) -> Lookup {
    let path = cwd.join(path);
    let w = walk(&path, PastMissing::Lexical);
    let symlinks = w
        .links
        .into_iter()
        .map(|(at, text)| {
            let base = at.parent().unwrap_or(Path::new("/"));
            let target = walk(&base.join(&text), PastMissing::Lexical).resolved;
            Link { at, text, target }
        })
        .collect();
    let is_dir = w.exists && w.resolved.is_dir();
    Lookup {
        path,
        resolved: w.resolved,
        exists: w.exists,
        is_dir,
        symlinks,
        error: w.error,
        stepped_out_of: w.stepped_out_of,
        stepped: w.stepped,
    }
}

impl Plan {
    /// Warnings for symlinks inside a writable root that lead out of it:
    /// writing through them writes where the link points, not in the root.
    pub fn symlink_warnings(&self, l: &Lookup) -> Vec<String> {
        let mut out = Vec::new();
        for link in &l.symlinks {
            for w in &self.writable {
                let root = &w.root.path;
                if link.at.starts_with(root) && !link.target.starts_with(root) {
                    out.push(format!(
                        "symlink {} in writable root {} points outside it, to {}: the sandbox checks {}",
                        link.at.display(),
                        root.display(),
                        link.target.display(),
                        link.target.display()
                    ));
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    #[test]
    fn follows_links_like_the_kernel_and_keeps_missing_tails() {
        let d = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(d.path()).unwrap();
        std::fs::create_dir_all(root.join("a/b")).unwrap();
        std::fs::write(root.join("a/b/f"), "x").unwrap();
        symlink("a/b", root.join("lb")).unwrap();
        symlink(root.join("a/b/f"), root.join("lf")).unwrap();
        symlink("../nowhere/x", root.join("a/dangling")).unwrap();
        symlink("loop", root.join("loop")).unwrap();

        // `lb/..` is a/b/.. = a, not the link's own directory.
        let l = lookup(Path::new("lb/../b/f"), &root);
        assert_eq!(l.resolved, root.join("a/b/f"));
        assert!(l.exists);

        let l = lookup(Path::new("lb/f"), &root);
        assert_eq!(l.resolved, root.join("a/b/f"));
        assert!(l.exists && !l.is_dir);
        assert_eq!(l.symlinks[0].target, root.join("a/b"));

        let l = lookup(&root.join("lf"), Path::new("/"));
        assert_eq!(l.resolved, root.join("a/b/f"));

        let l = lookup(&root.join("a/dangling"), Path::new("/"));
        assert_eq!(l.resolved, root.join("nowhere/x"));
        assert!(!l.exists && l.error.is_none());

        // `nowhere/../b` fails while `nowhere` is missing: it decides.
        let l = lookup(Path::new("nowhere/../a/b"), &root);
        assert_eq!(l.resolved, root.join("a/b"));
        assert_eq!(l.stepped_out_of, Some(root.join("nowhere")));
        assert_eq!(lookup(Path::new("a/../a/b"), &root).stepped_out_of, None);

        let l = lookup(&root.join("loop"), Path::new("/"));
        assert!(l.error.as_deref().unwrap_or("").contains("ELOOP"), "{l:?}");
    }

    #[test]
    fn directories_a_links_text_steps_back_out_of_are_recorded() {
        let d = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(d.path()).unwrap();
        std::fs::create_dir_all(root.join("x/y")).unwrap();
        std::fs::create_dir_all(root.join("store")).unwrap();
        symlink("x/y/../../store", root.join("lnk")).unwrap();
        symlink("../store", root.join("x/up")).unwrap();
        let l = lookup(&root.join("lnk"), Path::new("/"));
        assert_eq!(l.resolved, root.join("store"));
        assert_eq!(l.stepped, vec![root.join("x/y"), root.join("x")]);
        // The path's own `..` is its caller's, and a link's leading `..`
        // steps out of the directory the link is in, not one it names.
        assert!(
            lookup(&root.join("x/../store"), Path::new("/"))
                .stepped
                .is_empty()
        );
        assert!(
            lookup(&root.join("x/up"), Path::new("/"))
                .stepped
                .is_empty()
        );
        // A link stepped back out of: the directory it ends in is what
        // the `..` leaves (`l1 -> x/y`, `l2 -> l1/../../store`).
        symlink("x/y", root.join("l1")).unwrap();
        symlink("l1/../../store", root.join("l2")).unwrap();
        let l = lookup(&root.join("l2"), Path::new("/"));
        assert_eq!(l.resolved, root.join("store"));
        assert_eq!(l.stepped, vec![root.join("x/y"), root.join("x")]);
    }
}
