//! Deny entries resolved: the existing paths the sandbox hides, each with the
//! grants inside it that stay reachable. A grant lifts a deny entry only by
//! naming it or a path inside it (`--allow-read ~/.ssh/known_hosts`), never
//! by covering it from above (a writable `$HOME` does not lift `~/.ssh`).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::glob::{Glob, MAX_VISITS};
use super::{Env, Handle, absolute, fs, shown};
use crate::error::{Error, Result};
use crate::policy::{DenyEntry, DenySpec, Policy, SECRETS};

/// One hidden path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Denied {
    /// Canonical: what a symlinked entry leads to.
    pub path: PathBuf,
    /// The spelling that named it, when it differs (`~/.aws` -> its target).
    pub spelled: Option<PathBuf>,
    /// The entry as written (`:secrets`, `**/.env`, `~/keys`).
    pub entry: String,
    pub origin: String,
    pub is_dir: bool,
    /// Grants inside it: reachable again, and nothing else.
    pub lifted: Vec<Lift>,
    #[serde(skip)]
    pub handle: Handle,
}

/// A grant inside a denied path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Lift {
    pub path: PathBuf,
    pub is_dir: bool,
    /// The grant's origin (`--allow-read`, `:cwd`).
    pub by: String,
    #[serde(skip)]
    pub handle: Handle,
}

/// A deny entry a grant names exactly: not hidden, visibly.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Waived {
    pub path: PathBuf,
    pub entry: String,
    pub origin: String,
    pub by: String,
}

/// One glob and where it was matched.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GlobMatch {
    pub entry: String,
    pub origin: String,
    /// The directories it was matched below, and the pattern relative to
    /// them (Seatbelt matches the same pattern as a regex).
    pub bases: Vec<PathBuf>,
    pub pattern: String,
    pub depth: usize,
    pub matches: usize,
    /// Directories at the depth limit that were not entered: what lies in
    /// them is not matched.
    pub cut_at_depth: usize,
    /// Directories of the caller's it may not list: denied whole, since
    /// the command could open them and what they hold is unknown.
    pub closed: Vec<PathBuf>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DenyPlan {
    pub denied: Vec<Denied>,
    pub waived: Vec<Waived>,
    pub globs: Vec<GlobMatch>,
    /// Paths an entry names that do not exist: nothing to hide on Linux;
    /// Seatbelt, which matches paths, denies them too.
    pub absent: Vec<PathBuf>,
}

impl DenyPlan {
    /// The denied path `resolved` falls under, unless a lift inside it
    /// covers `resolved` (then the lift is returned too).
    pub fn hiding(&self, resolved: &Path) -> Option<(&Denied, Option<&Lift>)> {
        // The innermost denial decides: a lift of an outer one may hold an
        // inner one.
        self.denied
            .iter()
            .filter(|d| resolved.starts_with(&d.path))
            .max_by_key(|d| d.path.as_os_str().len())
            .map(|d| {
                let lift = d.lifted.iter().find(|l| resolved.starts_with(&l.path));
                (d, lift)
            })
    }

    pub fn waived_for(&self, resolved: &Path) -> Option<&Waived> {
        self.waived.iter().find(|w| resolved.starts_with(&w.path))
    }

    pub fn release_handles(&self) {
        for d in &self.denied {
            d.handle.release();
            d.lifted.iter().for_each(|l| l.handle.release());
        }
    }
}

/// A grant that may lift: its canonical path, kind and origin.
#[derive(Clone, Copy)]
pub struct Grant<'a> {
    pub path: &'a Path,
    pub is_dir: bool,
    pub handle: &'a Handle,
    pub origin: &'a str,
}

/// A candidate before lifts: the entry that named it and its resolution.
struct Candidate {
    resolved: fs::Resolved,
    spelled: PathBuf,
    entry: String,
    origin: String,
}

/// Resolves every deny entry of `policy` against `grants` (the plan's
/// writable roots and readable paths) and the lifting read grants.
pub fn resolve(policy: &Policy, cwd: &Path, env: &Env, roots: &[Grant]) -> Result<DenyPlan> {
    let mut plan = DenyPlan::default();
    if policy.deny.is_empty() {
        return Ok(plan);
    }
    let mut c = Collector {
        policy,
        env,
        roots,
        found: Vec::new(),
        visits: 0,
        closed: Vec::new(),
    };
    for e in &policy.deny {
        c.entry(e, &mut plan)?;
    }
    let mut found = c.found;
    let extra = lifting_reads(policy, cwd, env);
    let grants: Vec<Grant> = roots
        .iter()
        .copied()
        .chain(extra.iter().map(|(r, origin)| Grant {
            path: &r.path,
            is_dir: r.is_dir,
            handle: &r.handle,
            origin,
        }))
        .collect();

    // Each candidate once, outermost first.
    found.sort_by(|a, b| a.resolved.path.cmp(&b.resolved.path));
    found.dedup_by(|b, a| a.resolved.path == b.resolved.path);
    // Only a grant that names a path lifts: a special name (`:cwd`,
    // `:tmpdir`) is wherever the caller or a request happened to be, and a
    // rerun's `cwd` in `~/.ssh` must not open it (refused below).
    let (named, special): (Vec<Grant>, Vec<Grant>) =
        grants.into_iter().partition(|g| !g.origin.starts_with(':'));
    let (lifts, waived_by) = lifts_and_waivers(&found, &named);
    settle(&mut plan, found, lifts, waived_by);
    refuse_special(&plan, &special)?;
    Ok(plan)
}

/// The lifting read grants that are not roots already, resolved; one that
/// does not resolve lifts nothing.
fn lifting_reads<'a>(policy: &'a Policy, cwd: &Path, env: &Env) -> Vec<(fs::Resolved, &'a str)> {
    policy
        .lifts
        .iter()
        .filter_map(|g| match &g.spec {
            crate::policy::PathSpec::Path(p) => {
                let abs = absolute(p, cwd, env).ok()?;
                fs::resolve(&abs).ok().map(|r| (r, g.origin.as_str()))
            }
            _ => None,
        })
        .collect()
}

/// For each candidate (sorted, distinct), the `named` grants inside it
/// that lift part of it, and the first grant that names it exactly.
fn lifts_and_waivers<'a>(
    found: &[Candidate],
    named: &[Grant<'a>],
) -> (Vec<Vec<Lift>>, Vec<Option<&'a str>>) {
    let index: HashMap<&Path, usize> = found
        .iter()
        .enumerate()
        .map(|(i, c)| (c.resolved.path.as_path(), i))
        .collect();
    let mut lifts: Vec<Vec<Lift>> = vec![Vec::new(); found.len()];
    let mut waived_by: Vec<Option<&str>> = vec![None; found.len()];
    for g in named {
        // The nearest denied path at or above the grant: one hash look-up
        // per ancestor.
        let Some(i) = g.path.ancestors().find_map(|a| index.get(a).copied()) else {
            continue;
        };
        if found[i].resolved.path == g.path {
            waived_by[i].get_or_insert(g.origin);
        } else if !lifts[i].iter().any(|l| l.path == g.path) {
            lifts[i].push(Lift {
                path: g.path.to_path_buf(),
                is_dir: g.is_dir,
                by: g.origin.to_string(),
                handle: g.handle.clone(),
            });
        }
    }
    (lifts, waived_by)
}

/// Each candidate, outermost first, into `plan`: waived, denied with its
/// lifts, or dropped when an outer denied path hides it already.
fn settle(
    plan: &mut DenyPlan,
    found: Vec<Candidate>,
    mut lifts: Vec<Vec<Lift>>,
    waived_by: Vec<Option<&str>>,
) {
    for (i, c) in found.into_iter().enumerate() {
        let spelled = (c.spelled != c.resolved.path).then_some(c.spelled);
        if let Some(by) = waived_by[i] {
            plan.waived.push(Waived {
                path: c.resolved.path,
                entry: c.entry,
                origin: c.origin,
                by: by.to_string(),
            });
            continue;
        }
        // Inside another denied path and not inside one of its lifts: the
        // outer one hides it already.
        let covered = plan.denied.iter().any(|d| {
            c.resolved.path.starts_with(&d.path)
                && !d
                    .lifted
                    .iter()
                    .any(|l| c.resolved.path.starts_with(&l.path))
        });
        if covered {
            continue;
        }
        let mut lifted = std::mem::take(&mut lifts[i]);
        lifted.sort_by(|a, b| a.path.cmp(&b.path));
        plan.denied.push(Denied {
            path: c.resolved.path,
            spelled,
            entry: c.entry,
            origin: c.origin,
            is_dir: c.resolved.is_dir,
            lifted,
            handle: c.resolved.handle,
        });
    }
}

/// Refuses a special-name grant (`:cwd`, `:tmpdir`) that lies in a denied
/// path no lift covers: a special name lifts nothing.
fn refuse_special(plan: &DenyPlan, special: &[Grant]) -> Result<()> {
    for g in special {
        if let Some((d, None)) = plan.hiding(g.path) {
            return Err(Error::new(format!(
                "{} is {}, which lies in {}, denied by {} (from {}); a special name does not lift a deny entry: name the path (--allow-read or --allow-write {}) or work elsewhere",
                g.origin,
                shown(g.path),
                shown(&d.path),
                d.entry,
                d.origin,
                shown(g.path)
            )));
        }
    }
    Ok(())
}

/// The directory that stopped the look-up of `path` (the deepest ancestor
/// that can be looked up: its child could not), unless it is the caller's
/// own and not a placeholder, so a command could open it again.
fn closed_at(path: &Path) -> Option<PathBuf> {
    let (dir, m) = path
        .ancestors()
        .skip(1)
        .find_map(|a| std::fs::symlink_metadata(a).ok().map(|m| (a, m)))?;
    (!fs::callers_own(&m)).then(|| dir.to_path_buf())
}

/// The home directory for `~/` entries and `:secrets`: absolute, or the
/// entry is refused.
fn home<'a>(env: &'a Env, e: &DenyEntry) -> Result<&'a Path> {
    match env.home.as_deref().map(Path::new) {
        Some(h) if h.is_absolute() => Ok(h),
        _ => Err(Error::new(format!(
            "deny entry {} (from {}) needs $HOME, which is {}; set HOME to an absolute path or remove the entry",
            e.spec.as_text(),
            e.origin,
            match &env.home {
                None => "not set".to_string(),
                Some(h) => format!("`{}`, not absolute", h.to_string_lossy()),
            }
        ))),
    }
}

/// Gathers the existing paths the entries name.
struct Collector<'a> {
    policy: &'a Policy,
    env: &'a Env,
    roots: &'a [Grant<'a>],
    found: Vec<Candidate>,
    /// Directory entries all globs looked at ([`MAX_VISITS`]).
    visits: usize,
    /// Directories found closed to the caller and not reopenable
    /// ([`closed_at`]): every path below one is as absent, without a look-up
    /// (`:secrets` names 32 paths in a home another user owns).
    closed: Vec<PathBuf>,
}

impl Collector<'_> {
    /// A path an entry names: a candidate when it exists, else absent.
    /// Any other failure is refused: a directory on the way that the
    /// caller may not search (`chmod 000 ~` by an earlier run) would hide
    /// the path from planning, not from the command, which can open the
    /// directory again.
    fn add(&mut self, e: &DenyEntry, spelled: PathBuf, absent: &mut Vec<PathBuf>) -> Result<()> {
        if self.closed.iter().any(|d| spelled.starts_with(d)) {
            absent.push(spelled);
            return Ok(());
        }
        let err = match fs::resolve(&spelled) {
            Ok(resolved) => {
                self.found.push(Candidate {
                    resolved,
                    spelled,
                    entry: e.spec.as_text(),
                    origin: e.origin.clone(),
                });
                return Ok(());
            }
            // Missing: nothing to hide here.
            Err(err) if matches!(err.raw_os_error(), Some(libc::ENOENT | libc::ENOTDIR)) => {
                absent.push(spelled);
                return Ok(());
            }
            // Closed by someone else, or a placeholder (read-only for the
            // run): the command cannot open the way either.
            Err(err) if err.raw_os_error() == Some(libc::EACCES) => match closed_at(&spelled) {
                Some(dir) => {
                    self.closed.push(dir);
                    absent.push(spelled);
                    return Ok(());
                }
                None => err,
            },
            Err(err) => err,
        };
        Err(Error::new(format!(
            "deny entry {} (from {}): cannot look up {} ({err}), so it cannot be hidden; make the directories on the way searchable (chmod u+x) or remove the entry",
            e.spec.as_text(),
            e.origin,
            shown(&spelled)
        )))
    }

    /// Adds the paths one entry names; a glob's reach goes to `plan.globs`.
    fn entry(&mut self, e: &DenyEntry, plan: &mut DenyPlan) -> Result<()> {
        match &e.spec {
            DenySpec::Secrets => {
                // Under $HOME and under the account's home: tools find
                // keys in either (ssh reads the account's, most others
                // $HOME's), and $HOME may be unset or point elsewhere.
                let mut homes: Vec<PathBuf> = Vec::new();
                if let Ok(h) = home(self.env, e) {
                    homes.push(h.to_path_buf());
                }
                if let Some(h) = self.env.account_home()
                    && !homes.contains(&h)
                {
                    homes.push(h);
                }
                for home in homes {
                    for name in SECRETS {
                        self.add(e, home.join(name), &mut plan.absent)?;
                    }
                }
            }
            DenySpec::Path(p) => {
                let p = match p.strip_prefix("~") {
                    Ok(rest) => home(self.env, e)?.join(rest),
                    Err(_) => p.clone(),
                };
                self.add(e, p, &mut plan.absent)?;
            }
            DenySpec::Glob(g) => {
                let m = self.glob(e, g)?;
                plan.globs.push(m);
            }
        }
        Ok(())
    }

    fn glob(&mut self, e: &DenyEntry, g: &str) -> Result<GlobMatch> {
        let (bases, pattern) = if let Some(rest) = g.strip_prefix("~/") {
            let (base, pattern) = Glob::split_base(&home(self.env, e)?.join(rest));
            (vec![base], pattern)
        } else if g.starts_with('/') {
            let (base, pattern) = Glob::split_base(Path::new(g));
            (vec![base], pattern)
        } else {
            let bases: Vec<PathBuf> = self
                .roots
                .iter()
                .filter(|r| r.is_dir)
                .map(|r| r.path.to_path_buf())
                .collect();
            if bases.iter().any(|b| b.as_os_str() == "/") {
                return Err(Error::new(format!(
                    "deny glob {g} (from {}) would be matched below /, a writable or readable root: write it from a fixed directory, such as /srv/**/.env",
                    e.origin
                )));
            }
            (bases, g.to_string())
        };
        let glob = Glob::new(&pattern);
        let depth = self.policy.glob_depth;
        let mut m = GlobMatch {
            entry: g.to_string(),
            origin: e.origin.clone(),
            bases: bases.clone(),
            pattern,
            depth,
            matches: 0,
            cut_at_depth: 0,
            closed: Vec::new(),
        };
        for base in &bases {
            let found = glob.walk(base, depth, &mut self.visits).map_err(|n| {
                Error::new(format!(
                    "deny glob {g} (from {}) looked at more than {MAX_VISITS} entries ({n}) below {}; start it from a narrower directory or lower glob_depth",
                    e.origin,
                    shown(base)
                ))
            })?;
            m.matches += found.matches.len();
            m.cut_at_depth += found.cut_at_depth;
            m.closed.extend(found.closed.iter().cloned());
            for p in found.matches.into_iter().chain(found.closed) {
                self.add(e, p, &mut Vec::new())?;
            }
        }
        Ok(m)
    }
}

#[cfg(test)]
mod tests {
    use crate::plan::{Env, resolve};
    use crate::policy::parse_profile_toml;

    /// `:secrets` covers the account's home as well as `$HOME`: unset,
    /// or pointing elsewhere (a harness's scratch home), the keys in the
    /// real one stay hidden.
    #[test]
    fn secrets_cover_the_account_home_whatever_home_says() {
        let d = tempfile::tempdir().unwrap();
        let real = std::fs::canonicalize(d.path()).unwrap();
        let (account, scratch, work) = (real.join("acct"), real.join("scratch"), real.join("w"));
        for p in [account.join(".ssh"), scratch.join(".aws"), work.clone()] {
            std::fs::create_dir_all(p).unwrap();
        }
        let policy = parse_profile_toml(
            "[file_system]\nread = [\":root\"]\nwrite = [\":cwd\"]\n",
            "test",
        )
        .unwrap();
        let denied = |home: Option<&std::path::Path>| {
            let env = Env {
                home: home.map(|h| h.as_os_str().to_os_string()),
                account_home: crate::plan::AccountHome::Is(account.clone()),
                ..Env::default()
            };
            let plan = resolve(&policy, &work, &env).unwrap();
            plan.deny
                .denied
                .iter()
                .map(|d| d.path.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(denied(None), [account.join(".ssh")]);
        assert_eq!(
            denied(Some(&scratch)),
            [account.join(".ssh"), scratch.join(".aws")]
        );
        assert_eq!(denied(Some(&account)), [account.join(".ssh")]);
    }

    #[test]
    fn the_account_home_comes_from_etc_passwd() {
        // uid 0 is root everywhere this runs.
        assert_eq!(
            super::super::passwd_home(0).as_deref(),
            Some(std::path::Path::new("/root"))
        );
        assert_eq!(super::super::passwd_home(4_000_000_000), None);
    }
}
