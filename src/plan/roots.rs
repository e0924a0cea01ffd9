//! Merging nested and duplicate roots in O(n log n): sort by path components,
//! then every root nested in a kept root directly follows it.

use std::path::PathBuf;

use super::Root;

/// Drops every item whose root lies inside (or equals) another item's root.
/// `absorb(outer, inner)` lets the caller keep data of the merged item; the
/// outer root records the inner path in `nested`.
pub fn merge_nested<T>(
    mut items: Vec<T>,
    root: impl Fn(&mut T) -> &mut Root,
    mut absorb: impl FnMut(&mut T, T),
) -> Vec<T> {
    // Stable sort keeps the first-declared of two equal roots (and its origin).
    let mut keyed: Vec<(PathBuf, T)> = items
        .drain(..)
        .map(|mut item| (root(&mut item).path.clone(), item))
        .collect();
    keyed.sort_by(|a, b| a.0.cmp(&b.0));
    let mut out: Vec<T> = Vec::with_capacity(keyed.len());
    let mut last_path: Option<PathBuf> = None;
    for (path, item) in keyed {
        if let (Some(outer), Some(last)) = (&last_path, out.last_mut())
            && path.starts_with(outer)
        {
            if &path != outer {
                root(last).nested.push(path);
            }
            absorb(last, item);
            continue;
        }
        last_path = Some(path);
        out.push(item);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(p: &str) -> Root {
        Root {
            path: PathBuf::from(p),
            spelled: None,
            origin: "test".into(),
            nested: vec![],
            is_dir: true,
        }
    }

    #[test]
    fn nested_and_duplicates_merge_siblings_with_shared_prefix_do_not() {
        let roots = vec![r("/a/b/c"), r("/a/bc"), r("/a/b"), r("/x"), r("/a/b")];
        let merged = merge_nested(roots, |x| x, |_, _| {});
        let paths: Vec<_> = merged.iter().map(|x| x.path.to_str().unwrap()).collect();
        assert_eq!(paths, ["/a/b", "/a/bc", "/x"]);
        assert_eq!(merged[0].nested, [PathBuf::from("/a/b/c")]);
    }

    #[test]
    fn slash_swallows_everything() {
        let merged = merge_nested(vec![r("/tmp"), r("/"), r("/home")], |x| x, |_, _| {});
        assert_eq!(merged.len(), 1);
        assert_eq!(merged[0].path, PathBuf::from("/"));
    }
}
