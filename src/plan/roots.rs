//! Merging nested and duplicate roots in O(n log n): sort so that every root
//! nested in another directly follows it, then one linear pass.

use std::os::unix::ffi::OsStrExt;

use super::Root;

/// Drops every item whose root lies inside (or equals) another item's root.
/// `absorb(outer, inner)` lets the caller keep data of the merged item; the
/// outer root records the inner path in `nested`.
pub fn merge_nested<T>(
    mut items: Vec<T>,
    root: impl Fn(&mut T) -> &mut Root,
    mut absorb: impl FnMut(&mut T, T),
) -> Vec<T> {
    // Sort key: the path's bytes with `/` mapped to 0, below every other byte
    // (canonical paths hold no NUL), so `/a/b/c` sorts right after `/a/b` and
    // before `/a/b-x`; plain byte order would put `/a/b-x` in between. A
    // memcmp key is also far cheaper than comparing path components.
    let mut keyed: Vec<(Vec<u8>, T)> = items
        .drain(..)
        .map(|mut item| {
            let key = root(&mut item)
                .path
                .as_os_str()
                .as_bytes()
                .iter()
                .map(|&b| if b == b'/' { 0 } else { b })
                .collect();
            (key, item)
        })
        .collect();
    // Stable: of two equal roots the first declared (and its origin) stays.
    keyed.sort_by(|a, b| a.0.cmp(&b.0));
    let mut out: Vec<T> = Vec::with_capacity(keyed.len());
    let mut last_key: Vec<u8> = Vec::new();
    for (key, mut item) in keyed {
        if let Some(last) = out.last_mut()
            && is_within(&key, &last_key)
        {
            if key != last_key {
                let nested = root(&mut item).path.clone();
                root(last).nested.push(nested);
            } else if root(last).origin.starts_with(':') && !root(&mut item).origin.starts_with(':')
            {
                // The same path named explicitly too: that origin is the
                // one to show, and the one that may lift a deny entry.
                let origin = std::mem::take(&mut root(&mut item).origin);
                root(last).origin = origin;
            }
            absorb(last, item);
            continue;
        }
        last_key = key;
        out.push(item);
    }
    out
}

/// `inner` equals `outer` or lies below it (both keys with `/` as 0).
fn is_within(inner: &[u8], outer: &[u8]) -> bool {
    inner.starts_with(outer)
        && (inner.len() == outer.len() || outer == [0] || inner[outer.len()] == 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn r(p: &str) -> Root {
        Root {
            path: PathBuf::from(p),
            spelled: None,
            origin: "test".into(),
            nested: vec![],
            is_dir: true,
            handle: Default::default(),
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
    fn byte_neighbours_do_not_break_nesting() {
        let roots = vec![
            r("/a/b-x"),
            r("/a/b/c"),
            r("/a/b"),
            r("/a/b.d/e"),
            r("/a/b.d"),
        ];
        let merged = merge_nested(roots, |x| x, |_, _| {});
        let paths: Vec<_> = merged.iter().map(|x| x.path.to_str().unwrap()).collect();
        assert_eq!(paths, ["/a/b", "/a/b-x", "/a/b.d"]);
    }

    #[test]
    fn slash_swallows_everything() {
        let merged = merge_nested(vec![r("/tmp"), r("/"), r("/home")], |x| x, |_, _| {});
        assert_eq!(merged.len(), 1);
        assert_eq!(merged[0].path, PathBuf::from("/"));
    }
}
