//! Paths as Seatbelt sees them. Seatbelt matches the path the kernel resolved,
//! and on macOS `/tmp`, `/var` and `/etc` are symlinks into `/private`, so a
//! rule on `/tmp/x` would never match. Plans resolved on macOS already hold
//! `/private/...` (canonicalization follows the links); this mapping makes a
//! plan resolved elsewhere (Linux: `cordon seatbelt`, the tests) and paths that
//! do not exist yet (missing protected subpaths) come out the same way.

use std::path::{Path, PathBuf};

/// The top-level symlinks of macOS that point into `/private`.
const PRIVATE_LINKS: [&str; 3] = ["tmp", "var", "etc"];

/// `/tmp/...` -> `/private/tmp/...`, `/var/...` -> `/private/var/...` (so
/// `$TMPDIR`, `/var/folders/..`, lands under `/private/var/folders`), `/etc/...`
/// -> `/private/etc/...`. Component-wise: `/tmpx` and `/private/tmp` are left
/// alone. Every plan path goes through here before it enters a profile.
pub fn macos_path(path: &Path) -> PathBuf {
    for top in PRIVATE_LINKS {
        if let Ok(rest) = path.strip_prefix(Path::new("/").join(top)) {
            let mut out = Path::new("/private").join(top);
            // `join("")` would add a trailing slash.
            if !rest.as_os_str().is_empty() {
                out.push(rest);
            }
            return out;
        }
    }
    path.to_path_buf()
}

#[cfg(test)]
mod tests {
    use super::macos_path;
    use std::path::Path;

    #[test]
    fn private_links_are_mapped_component_wise() {
        for (given, want) in [
            ("/tmp", "/private/tmp"),
            ("/tmp/", "/private/tmp"),
            ("/tmp/a b/c", "/private/tmp/a b/c"),
            ("/var", "/private/var"),
            (
                "/var/folders/zz/abc_123/T",
                "/private/var/folders/zz/abc_123/T",
            ),
            ("/etc/hosts", "/private/etc/hosts"),
            // Already canonical on macOS: unchanged (idempotent).
            ("/private/tmp/x", "/private/tmp/x"),
            ("/private/var/folders/zz/T", "/private/var/folders/zz/T"),
            // Shared prefixes and other trees are not touched.
            ("/tmpx", "/tmpx"),
            ("/variable/x", "/variable/x"),
            ("/etcetera", "/etcetera"),
            ("/usr/tmp", "/usr/tmp"),
            ("/Users/me/tmp", "/Users/me/tmp"),
            ("/", "/"),
        ] {
            assert_eq!(macos_path(Path::new(given)), Path::new(want), "{given}");
            assert_eq!(
                macos_path(&macos_path(Path::new(given))),
                macos_path(Path::new(given))
            );
        }
    }
}
