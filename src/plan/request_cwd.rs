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
//! workspace is not known, so no link can be told safe. A user's
//! `cordon run -C /` is not bounded: only requests are.

use std::path::{Component, Path, PathBuf};

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

/// `.` and `..` resolved by name, as the request spells the path.
fn lexical(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            c => out.push(c),
        }
    }
    out
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
    if lexical(cwd) != real {
        return Err(Error::new(format!(
            "{field} {} passes through a symlink (it is {}) and would be the {how} `:cwd` of the \
             turn's policy: a sandboxed command could have planted that link; {fix}",
            shown(cwd),
            shown(real),
        )));
    }
    Ok(())
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
    fn cwd_relative_specs() {
        assert!(uses_cwd(&PathSpec::Cwd));
        assert!(uses_cwd(&PathSpec::Path("build".into())));
        assert!(uses_cwd(&PathSpec::Optional("./x".into())));
        assert!(!uses_cwd(&PathSpec::Path("/x".into())));
        assert!(!uses_cwd(&PathSpec::Path("~/x".into())));
        assert!(!uses_cwd(&PathSpec::Tmpdir));
    }
}
