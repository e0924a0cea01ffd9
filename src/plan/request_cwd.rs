//! The bound on a rerun request's `cwd` when it is the policy's `:cwd`.
//!
//! A request without `turn.cwd` resolves the turn's `:cwd` against the
//! command's own `cwd`, and in a Codex tool call that is `workdir`, which
//! the model chooses: `"workdir": "/"` under a workspace-write turn would
//! make the whole filesystem writable, `"workdir": "$HOME"` every dotfile
//! and `~/.local/bin`. Codex itself takes the writable roots from the turn's
//! cwd, never from the call's workdir. Such a request is refused, naming
//! `turn.cwd` (the turn's workspace) as the fix. So is a `cwd` spelled
//! through a symlink: an earlier sandboxed command could have planted it in
//! the turn's workspace pointing anywhere, and without `turn.cwd` the
//! workspace is not known, so no link can be told safe (but one directly in
//! `/`, which no sandboxed command could write). A user's
//! `cordon run -C /` is not bounded: only requests are.

use std::path::{Component, Path, PathBuf};

use super::fs::lexical;
use super::{Env, fs, shown};
use crate::error::{Error, Result};
use crate::policy::{Grant, PathSpec, Policy};

/// Whether `spec` resolves against the policy's cwd.
fn uses_cwd(spec: &PathSpec) -> bool {
    match spec {
        PathSpec::Cwd => true,
        PathSpec::Path(p) | PathSpec::Optional(p) => p.is_relative() && !p.starts_with("~"),
        _ => false,
    }
}

/// Refuses `cwd` (the request's `field`, as spelled) as the `:cwd` of
/// `policy` when `real`, the directory the plan resolved it to, is `/`,
/// `$HOME` (or the account's home) or an ancestor of it, or when the
/// spelling passes through a symlink. Nothing to check when no grant of
/// `policy` resolves against the cwd. `real` is the plan's `cwd`, held open
/// until exec and checked again there: a directory swapped for a link after
/// this check does not reach the sandbox.
pub fn check_request_cwd(
    cwd: &Path,
    real: &Path,
    field: &str,
    policy: &Policy,
    env: &Env,
) -> Result<()> {
    let find = |gs: &[Grant]| gs.iter().find(|g| uses_cwd(&g.spec)).cloned();
    let grant = match find(&policy.write) {
        Some(g) => Some(("writable", g)),
        None if policy.restricts_reads() => find(&policy.read).map(|g| ("readable", g)),
        None => None,
    };
    let Some((how, grant)) = grant else {
        return Ok(());
    };
    let fix = "give turn.cwd, the directory the turn ran in (\"turn\": {\"cwd\": \"/abs/workspace\"}): \
               `:cwd` is then the turn's workspace, and the command still runs in its own directory";
    let homes: Vec<(String, PathBuf)> = [
        env.home.as_ref().map(|h| ("$HOME", PathBuf::from(h))),
        env.account_home().map(|h| ("the account's home", h)),
    ]
    .into_iter()
    .flatten()
    .map(|(name, h)| {
        let h = fs::resolve(&h).map(|r| r.path).unwrap_or(h);
        (format!("{name} {}", shown(&h)), h)
    })
    .collect();
    let covers = if real == Path::new("/") {
        Some("the whole filesystem".to_string())
    } else {
        homes
            .iter()
            .find(|(_, h)| h.starts_with(real))
            .map(|(name, _)| name.clone())
    };
    if let Some(what) = covers {
        return Err(Error::new(format!(
            "{field} {} would be the {how} `:cwd` of the turn's policy ({} from {}), which covers {what}; \
             the command's directory does not widen the turn: {fix}",
            shown(cwd),
            grant.spec.as_text(),
            grant.origin,
        )));
    }
    if !same_but_for_a_top_link(&lexical(cwd), real, |top| {
        fs::resolve(top).ok().map(|r| r.path)
    }) {
        return Err(Error::new(format!(
            "{field} {} passes through a symlink (it is {}) and would be the {how} `:cwd` of the \
             turn's policy: a sandboxed command could have planted that link; {fix}",
            shown(cwd),
            shown(real),
        )));
    }
    Ok(())
}

/// Whether `spelled` names `real`, a link directly in `/` aside (macOS's
/// `/tmp` and `/var`, a merged `/usr`'s `/lib`): only a command that may
/// write `/` could plant one, and such a command had no sandbox to widen.
/// `resolve` gives the real path of `/NAME`. Any other link makes the
/// spelling differ from `real` and is refused.
fn same_but_for_a_top_link(
    spelled: &Path,
    real: &Path,
    resolve: impl Fn(&Path) -> Option<PathBuf>,
) -> bool {
    if spelled == real {
        return true;
    }
    let mut parts = spelled.components();
    let (Some(Component::RootDir), Some(Component::Normal(top))) = (parts.next(), parts.next())
    else {
        return false;
    };
    let top = Path::new("/").join(top);
    let is_link = std::fs::symlink_metadata(&top).is_ok_and(|m| m.file_type().is_symlink());
    is_link && resolve(&top).is_some_and(|t| t.join(parts.as_path()) == real)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lexical_resolves_dots_by_name() {
        assert_eq!(lexical(Path::new("/a/./b/../c/")), Path::new("/a/c"));
        assert_eq!(lexical(Path::new("/..")), Path::new("/"));
    }

    #[test]
    fn only_a_link_directly_in_slash_may_differ() {
        let t = tempfile::tempdir().unwrap();
        let real = t.path().join("d");
        std::fs::create_dir(&real).unwrap();
        let same = |s: &str, r: &Path| same_but_for_a_top_link(Path::new(s), r, |_| None);
        assert!(same(real.to_str().unwrap(), &real));
        assert!(!same("/elsewhere/d", &real));
        // A top-level name that is a link on this host, if any: `/NAME/x`
        // is `resolve(/NAME)/x`, whatever `resolve` says.
        let top = std::fs::read_dir("/")
            .unwrap()
            .flatten()
            .find(|e| e.file_type().is_ok_and(|f| f.is_symlink()));
        if let Some(top) = top {
            let spelled = top.path().join("x");
            let fake = |_: &Path| Some(PathBuf::from("/private/real"));
            assert!(same_but_for_a_top_link(
                &spelled,
                Path::new("/private/real/x"),
                fake
            ));
            assert!(!same_but_for_a_top_link(
                &spelled,
                Path::new("/private/other/x"),
                fake
            ));
        }
        // A real top-level directory is no link: the spelling must match.
        let fake = |_: &Path| Some(PathBuf::from("/"));
        assert!(!same_but_for_a_top_link(
            Path::new("/proc/x"),
            Path::new("/x"),
            fake
        ));
    }

    #[test]
    fn cwd_relative_specs() {
        assert!(uses_cwd(&PathSpec::Cwd));
        assert!(uses_cwd(&PathSpec::Path("build".into())));
        assert!(uses_cwd(&PathSpec::Optional("./x".into())));
        assert!(!uses_cwd(&PathSpec::Path("/x".into())));
        assert!(!uses_cwd(&PathSpec::Path("~/x".into())));
        assert!(!uses_cwd(&PathSpec::Tmpdir));
    }
}
