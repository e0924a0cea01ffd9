//! Deny globs, matched against the filesystem at plan time: `*` and `?`
//! within one name (dot files included: a secret is often one), `**` as a
//! whole component for any number of directories. Matching walks from the
//! glob's fixed prefix, to a depth limit, never through a symlink.

use std::path::{Path, PathBuf};

/// Directory entries one run may look at for all its globs together; past
/// it the run is refused rather than left with a partial deny list.
pub const MAX_VISITS: usize = 200_000;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Comp {
    /// `**`: zero or more directories.
    Any,
    Name(Vec<char>),
}

/// A compiled glob: its fixed prefix and the components after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Glob {
    comps: Vec<Comp>,
}

/// What a walk found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Found {
    pub matches: Vec<PathBuf>,
    /// Directories not entered because they lie at the depth limit.
    pub cut_at_depth: usize,
    /// Directories the caller owns but may not list: the command could
    /// open them again, so the caller hides them whole (`deny.rs`).
    pub closed: Vec<PathBuf>,
    pub visited: usize,
}

impl Glob {
    /// Splits `pattern` (relative to its base) into components.
    pub fn new(pattern: &str) -> Glob {
        let comps = pattern
            .split('/')
            .filter(|c| !c.is_empty() && *c != ".")
            .map(|c| {
                if c == "**" {
                    Comp::Any
                } else {
                    Comp::Name(c.chars().collect())
                }
            })
            .collect();
        Glob { comps }
    }

    /// Splits an absolute pattern into its fixed directory prefix (no glob
    /// character) and the pattern after it.
    pub fn split_base(pattern: &Path) -> (PathBuf, String) {
        let mut base = PathBuf::from("/");
        let mut rest = Vec::new();
        let mut fixed = true;
        for c in pattern.components().skip(1) {
            let s = c.as_os_str().to_string_lossy();
            if fixed && !crate::policy::is_glob(&s) {
                base.push(c);
            } else {
                fixed = false;
                rest.push(s.into_owned());
            }
        }
        (base, rest.join("/"))
    }

    /// States reachable without consuming a name (`**` matches nothing).
    fn closure(&self, states: &mut Vec<usize>) {
        let mut i = 0;
        while i < states.len() {
            let s = states[i];
            if matches!(self.comps.get(s), Some(Comp::Any)) && !states.contains(&(s + 1)) {
                states.push(s + 1);
            }
            i += 1;
        }
    }

    /// The states after matching one more name.
    fn step(&self, states: &[usize], name: &str) -> Vec<usize> {
        let chars: Vec<char> = name.chars().collect();
        let mut out = Vec::new();
        for &s in states {
            let next = match self.comps.get(s) {
                Some(Comp::Any) => Some(s),
                Some(Comp::Name(p)) if wild_match(p, &chars) => Some(s + 1),
                _ => None,
            };
            if let Some(n) = next
                && !out.contains(&n)
            {
                out.push(n);
            }
        }
        self.closure(&mut out);
        out
    }

    /// Whether a relative path matches.
    #[cfg(test)]
    pub fn matches(&self, rel: &Path) -> bool {
        let mut states = vec![0];
        self.closure(&mut states);
        for c in rel.components() {
            states = self.step(&states, &c.as_os_str().to_string_lossy());
            if states.is_empty() {
                return false;
            }
        }
        states.contains(&self.comps.len())
    }

    /// Every entry below `base` that matches, entering directories at most
    /// `depth` levels down. `visits` counts entries across calls, so all
    /// globs of one run share [`MAX_VISITS`]; `Err` carries the count.
    pub fn walk(&self, base: &Path, depth: usize, visits: &mut usize) -> Result<Found, usize> {
        let mut found = Found::default();
        let mut start = vec![0];
        self.closure(&mut start);
        let mut stack: Vec<(PathBuf, Vec<usize>, usize)> = vec![(base.to_path_buf(), start, 0)];
        while let Some((dir, states, level)) = stack.pop() {
            let entries = match std::fs::read_dir(&dir) {
                Ok(entries) => entries,
                Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied && owned(&dir) => {
                    found.closed.push(dir);
                    continue;
                }
                // Gone, or another user's: the command cannot open it either.
                Err(_) => continue,
            };
            for e in entries.flatten() {
                *visits += 1;
                found.visited += 1;
                if *visits > MAX_VISITS {
                    return Err(*visits);
                }
                let name = e.file_name();
                let next = self.step(&states, &name.to_string_lossy());
                if next.is_empty() {
                    continue;
                }
                let path = e.path();
                if next.contains(&self.comps.len()) {
                    found.matches.push(path.clone());
                    // A matched directory is hidden whole: nothing below
                    // it needs matching.
                    continue;
                }
                // d_type: no stat per entry; a symlink is never entered.
                if e.file_type().is_ok_and(|t| t.is_dir()) {
                    if level + 1 >= depth {
                        found.cut_at_depth += 1;
                    } else {
                        stack.push((path, next, level + 1));
                    }
                }
            }
        }
        found.matches.sort();
        found.closed.sort();
        Ok(found)
    }
}

/// Whether the caller owns `dir` (and so may chmod it), a placeholder
/// (empty, read-only for the run) aside.
fn owned(dir: &Path) -> bool {
    std::fs::symlink_metadata(dir).is_ok_and(|m| super::fs::callers_own(&m))
}

/// `*` and `?` against one name.
fn wild_match(p: &[char], s: &[char]) -> bool {
    // Iterative with one backtrack point: linear in practice, no recursion.
    let (mut pi, mut si) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while si < s.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == s[si]) {
            pi += 1;
            si += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = si;
            pi += 1;
        } else if let Some(st) = star {
            pi = st + 1;
            mark += 1;
            si = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_components() {
        let g = Glob::new("**/.env");
        for yes in [".env", "a/.env", "a/b/c/.env"] {
            assert!(g.matches(Path::new(yes)), "{yes}");
        }
        for no in [".envrc", "a/.env/x", "env"] {
            assert!(!g.matches(Path::new(no)), "{no}");
        }
        let g = Glob::new("*.pem");
        assert!(g.matches(Path::new("k.pem")));
        assert!(g.matches(Path::new(".hidden.pem")));
        assert!(!g.matches(Path::new("a/k.pem")));
        let g = Glob::new("a/**/b?/*.key");
        assert!(g.matches(Path::new("a/b1/x.key")));
        assert!(g.matches(Path::new("a/x/y/b2/x.key")));
        assert!(!g.matches(Path::new("a/b12/x.key")));
        assert!(wild_match(
            &['*', 'a', '*', 'b'],
            &"xxaxxb".chars().collect::<Vec<_>>()
        ));
        assert!(!wild_match(
            &['*', 'a', '*', 'b'],
            &"xxaxxbc".chars().collect::<Vec<_>>()
        ));
    }

    #[test]
    fn split_base_stops_at_the_first_wildcard() {
        let (base, rest) = Glob::split_base(Path::new("/srv/keys/*/id_*"));
        assert_eq!(base, Path::new("/srv/keys"));
        assert_eq!(rest, "*/id_*");
        assert!(Glob::new(&rest).matches(Path::new("a/id_rsa")));
    }

    #[test]
    fn walk_finds_matches_to_the_depth_limit_only() {
        let d = tempfile::tempdir().unwrap();
        let b = d.path();
        for f in [".env", "a/.env", "a/b/.env", "a/b/c/d/.env", "a/.envrc"] {
            let p = b.join(f);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(&p, "x").unwrap();
        }
        std::os::unix::fs::symlink(b.join("a"), b.join("link")).unwrap();
        let g = Glob::new("**/.env");
        let mut visits = 0;
        let f = g.walk(b, 3, &mut visits).unwrap();
        let rel: Vec<_> = f
            .matches
            .iter()
            .map(|m| m.strip_prefix(b).unwrap().to_path_buf())
            .collect();
        assert_eq!(rel, [".env", "a/.env", "a/b/.env"].map(PathBuf::from));
        assert_eq!(f.cut_at_depth, 1, "{f:?}");
        let mut visits = MAX_VISITS;
        assert!(g.walk(b, 3, &mut visits).is_err());
    }
}
