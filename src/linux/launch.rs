//! Puts this process into the compiled sandbox, in the one order that
//! works: settle the identity, make the placeholders and fork the sentinel
//! (both on the host's mounts), enter the namespace, change into the
//! working directory, then `no_new_privs`, capabilities, Landlock and
//! seccomp. The caller execs right after; nothing here runs the command.

use std::path::Path;

use super::{Artifacts, identity, namespace, sentinel};
use crate::enforcement::{Gap, Kind};
use crate::error::{Error, Result};
use crate::plan::{Handle, Plan};

pub use super::summarize;

/// Builds the sandbox around this process. `chdir` is the directory to
/// end in (`-C`, or the plan's cwd when the namespace is entered);
/// `proxy_log` where the domain proxy records refusals. Returns the domain
/// proxy's port when there is one. `shares_terminal`: the command keeps
/// the caller's controlling terminal (`Stdio::keeps_terminal`).
pub fn enter(
    plan: &Plan,
    art: &Artifacts,
    best_effort: bool,
    shares_terminal: bool,
    chdir: Option<&Path>,
    proxy_log: Option<&Path>,
) -> Result<Option<u16>> {
    settle_identity(art)?;
    // Domains need the network namespace: no `--best-effort` without it.
    let proxied = plan.network.proxied() && !plan.network.enabled;
    let setup = namespace_possible(plan, art, best_effort && !proxied)?;
    let in_namespace = setup == Setup::Namespace;
    if proxied && !in_namespace {
        return Err(Error::new(
            "--allow-domain needs a private network namespace, which an enclosing sandbox refuses here; run cordon outside it, or allow ports (--allow-connect-tcp) instead; nothing ran",
        ));
    }
    // Landlock's rules are added now, from the descriptors planning opened;
    // they hold the inodes themselves, so the descriptors can go before the
    // namespace opens one per writable root again.
    let landlock = prepare_landlock(plan, art, in_namespace)?;
    plan.release_handles();
    let (held, link) = start_sentinel(art, in_namespace)?;
    // Forked before the namespaces: it stays in the host's network.
    let proxy = if proxied {
        Some(start_proxy(plan, proxy_log)?)
    } else {
        None
    };
    let mut proxy_port = None;
    if in_namespace {
        let listener = namespace::enter(&art.mounts, Some(&sentinel::ids(&held)))
            .map_err(|e| namespace_error(art, &e))?;
        if let (Some(link), Some(listener)) = (&proxy, listener) {
            proxy_port = Some(hand_over(link, listener)?);
        }
        // The cwd still points into the mount below the new ones; entering
        // it again by path picks up the writable (or read-only) bind on top.
        change_dir(chdir.unwrap_or(&plan.cwd), &plan.cwd, &plan.cwd_handle)?;
    } else if let Some(dir) = chdir {
        change_dir(dir, &plan.cwd, &plan.cwd_handle)?;
    }
    if proxied && proxy_port.is_none() {
        return Err(Error::new(
            "internal: the domain proxy got no listener; nothing ran",
        ));
    }
    let stacked = stacked_filter(art, setup == Setup::Nested, shares_terminal)?;
    let art = stacked.as_ref().unwrap_or(art);
    let applied = super::apply(art, landlock, in_namespace, link.is_some(), proxy_port)?;
    if let Some(link) = &link {
        // If the sentinel missed this it would clean up at once, under a
        // running sandbox: better not to run.
        sentinel::send(link, applied.listener.as_ref()).map_err(|e| {
            Error::new(format!(
                "cannot reach the sentinel process: {e}; nothing ran"
            ))
        })?;
    }
    // The sentinel holds its own copies; these are close-on-exec, and the
    // exec that follows closes them at once instead of one call each.
    std::mem::forget(held);
    Ok(proxy_port)
}

/// Refuses a setuid cordon, then gives up the caller's other ids and
/// capabilities.
/// The artifacts with the rules only the launch can know are needed, when
/// there are any (`None`: the compiled ones as they are).
fn stacked_filter(
    art: &Artifacts,
    nested: bool,
    shares_terminal: bool,
) -> Result<Option<Artifacts>> {
    if !nested && !shares_terminal {
        return Ok(None);
    }
    let seccomp = art.seccomp.with_launch_rules(nested, shares_terminal)?;
    Ok(Some(Artifacts {
        seccomp,
        ..art.clone()
    }))
}

fn settle_identity(art: &Artifacts) -> Result<()> {
    if identity::secure_exec() {
        return Err(Error::new(
            "cordon runs setuid or setgid, which it is not made for: it would hand the file owner's ids to the command; remove the bit (chmod u-s,g-s)",
        ));
    }
    identity::settle(&art.identity).map_err(|e| {
        Error::new(format!(
            "cannot give up the caller's other ids and capabilities ({e}); nothing ran"
        ))
    })
}

/// The Landlock ruleset with its rules added; without the namespace, deny
/// entries are carved out of the rules.
fn prepare_landlock(
    plan: &Plan,
    art: &Artifacts,
    in_namespace: bool,
) -> Result<super::apply::Prepared> {
    let carved = match &art.landlock {
        Some(rs) if !in_namespace && !plan.deny.denied.is_empty() => {
            Some(super::carve::carve(rs, &plan.deny.denied).map_err(|e| {
                Error::new(format!(
                    "cannot carve the deny entries out of the Landlock rules ({e}); nothing ran"
                ))
            })?)
        }
        _ => None,
    };
    super::apply::prepare(carved.as_ref().or(art.landlock.as_ref()))
}

/// Makes the placeholders and forks the sentinel that removes them (both
/// on the host's mounts, before the namespace).
fn start_sentinel(
    art: &Artifacts,
    in_namespace: bool,
) -> Result<(Vec<sentinel::Held>, Option<sentinel::Link>)> {
    if !in_namespace {
        return Ok((Vec::new(), None));
    }
    let list: Vec<_> = art.mounts.placeholders().cloned().collect();
    let held = sentinel::prepare(&list).map_err(|e| {
        Error::new(format!(
            "cannot make a placeholder for a missing protected path: {e}; nothing ran (`--unprotect NAME` lifts a protected name)"
        ))
    })?;
    let Some(s) = &art.sentinel else {
        return Ok((held, None));
    };
    let duties = sentinel::Duties {
        kill_leftovers: s.kill_leftovers,
    };
    let link = sentinel::start(&held, duties).map_err(|e| {
        sentinel::release_all(&held);
        Error::new(format!(
            "cannot start the sentinel process: {e}; nothing ran"
        ))
    })?;
    Ok((held, Some(link)))
}

/// Forks the domain proxy, with its refusal log when asked for.
fn start_proxy(plan: &Plan, proxy_log: Option<&Path>) -> Result<super::proxy::Link> {
    let log = match proxy_log {
        Some(p) => Some(crate::proxy::open_log(p)?),
        None => None,
    };
    super::proxy::start(&plan.network.domains, log)
        .map_err(|e| Error::new(format!("cannot start the domain proxy: {e}; nothing ran")))
}

/// Sends the listener to the proxy and returns its port; cordon's copy is
/// closed here, so the command holds no socket of the proxy's.
fn hand_over(link: &super::proxy::Link, listener: std::os::fd::OwnedFd) -> Result<u16> {
    let port = std::net::TcpListener::from(listener);
    let addr = port.local_addr().map_err(|e| {
        Error::new(format!(
            "cannot read the proxy listener's port: {e}; nothing ran"
        ))
    })?;
    let fd = std::os::fd::OwnedFd::from(port);
    link.send(&[std::os::fd::AsRawFd::as_raw_fd(&fd)])
        .map_err(|e| Error::new(format!("cannot reach the domain proxy: {e}; nothing ran")))?;
    Ok(addr.port())
}

/// The one line for a namespace that could not be set up: the host
/// refusing the namespace itself names what goes unenforced and the way
/// out; a later step failing is an error of its own.
fn namespace_error(art: &Artifacts, e: &namespace::NsError) -> Error {
    if !e.is_unavailable() {
        return Error::new(format!(
            "setting up the private mount namespace failed ({e}); nothing ran"
        ));
    }
    let gaps: Vec<String> = art
        .mounts
        .gaps_without_namespace()
        .iter()
        .map(|g| g.detail.clone())
        .collect();
    // The namespace was made and its first mount refused: the signature
    // of AppArmor's user-namespace restriction, which doctor names.
    let hint = if e.step == "make every mount private" {
        " (this host makes the namespace and refuses its mounts, as AppArmor's restriction of user namespaces does: `cordon doctor` names the fix)"
    } else {
        ""
    };
    Error::new(format!(
        "no private mount namespace on this host ({e}){hint}, which every sandbox needs; without it {}; pass --best-effort to run anyway with a warning per gap",
        summarize(&gaps)
    ))
}

/// How the sandbox is built around the command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Setup {
    /// In a private mount namespace: the normal case.
    Namespace,
    /// Without one (`--best-effort` on a host that gives none).
    Without,
    /// Stacked on an enclosing sandbox that refuses the namespace
    /// (`nested.rs`).
    Nested,
}

/// Whether the namespace will be entered: always, unless this host cannot
/// and `--best-effort` accepts that (one warning per unprotected part), or
/// an enclosing sandbox refuses it and already holds what it would give.
fn namespace_possible(plan: &Plan, art: &Artifacts, best_effort: bool) -> Result<Setup> {
    // Two prctls: only under no_new_privs and a seccomp filter can an
    // enclosing sandbox be refusing the namespace, and only then is it
    // tried in a child first.
    let probed = super::nested::under_a_sandbox().then(|| namespace::probe(&art.mounts));
    if let Some(Err(why)) = &probed
        && super::nested::read_only_root()
    {
        return nested(plan, art, best_effort, &why.to_string());
    }
    if !best_effort {
        return Ok(Setup::Namespace);
    }
    // Probe in a child first: a failure after unshare would leave this
    // process half set up, with no way back.
    match probed.unwrap_or_else(|| namespace::probe(&art.mounts)) {
        Ok(()) => Ok(Setup::Namespace),
        Err(why) => {
            let gaps = art.mounts.gaps_without_namespace();
            refuse_git_mode(&gaps, &why.to_string())?;
            for g in gaps {
                eprintln!("cordon: warning: not enforced: {g} (no private mount namespace: {why})");
            }
            if art.leftovers == super::Leftovers::Scan {
                eprintln!(
                    "cordon: warning: not enforced: leftovers: processes the command leaves behind are not killed (they are found by the sandbox's mount namespace)"
                );
            }
            Ok(Setup::Without)
        }
    }
}

/// Git mode leaves the gitdir writable and holds only its key entries with
/// mounts; without them a command makes it no repository and git outside
/// takes the worktree for one with the command's config. No `--best-effort`
/// accepts that: it fails closed (run without `--git-commits`: the gitdir
/// is then a plain gap `--best-effort` can accept, or be refused).
fn refuse_git_mode(gaps: &[Gap], why: &str) -> Result<()> {
    match gaps.iter().find(|g| g.feature == Kind::GitMode) {
        Some(g) => Err(Error::new(format!(
            "--git-commits needs the private mount namespace, which this host refuses ({why}): {}; --best-effort does not accept that: run without --git-commits (commits then go through `cordon rerun`, docs/rerun.md)",
            g.detail
        ))),
        None => Ok(()),
    }
}

/// Under an enclosing sandbox that refuses the namespace: stack on it when
/// it already holds everything the namespace would give, else refuse, or
/// with `--best-effort` warn once per gap it leaves.
fn nested(plan: &Plan, art: &Artifacts, best_effort: bool, why: &str) -> Result<Setup> {
    const ENCLOSING: &str = "inside an enclosing sandbox (no_new_privs, a seccomp filter and a read-only root mount: kernel state, not the environment)";
    let gaps = super::nested::uncovered(plan, art);
    if gaps.is_empty() {
        eprintln!(
            "cordon: note: {ENCLOSING}, which refuses a mount namespace ({why}); its mounts already hold what this policy needs, so Landlock and seccomp are stacked on it"
        );
        return Ok(Setup::Nested);
    }
    refuse_git_mode(&gaps, why)?;
    if best_effort {
        for g in &gaps {
            eprintln!(
                "cordon: warning: not enforced: {g} ({ENCLOSING}, which refuses a mount namespace: {why})"
            );
        }
        return Ok(Setup::Nested);
    }
    let list: Vec<String> = gaps.iter().map(|g| g.detail.clone()).collect();
    Err(Error::new(format!(
        "{ENCLOSING}, which refuses the private mount namespace this run needs ({why}); stacked on it, {}; narrow the inner policy to what the enclosing sandbox already holds (its writable roots and protected paths), or pass --best-effort to run anyway with a warning per gap",
        summarize(&list)
    )))
}

/// Changes into `dir` and checks that the working directory is the one
/// planning resolved (when `dir` is that one): by path, since a descriptor
/// from before the namespace leads into the host's mounts.
fn change_dir(dir: &Path, planned: &Path, handle: &Handle) -> Result<()> {
    std::env::set_current_dir(dir)
        .map_err(|e| Error::new(format!("cannot enter --cwd {}: {e}", dir.display())))?;
    if dir != planned {
        return Ok(());
    }
    let Some(id) = handle.id else {
        return Ok(());
    };
    let here = std::fs::File::open(".")
        .and_then(|f| nix::sys::stat::fstat(&f).map_err(std::io::Error::from));
    match here {
        Ok(st) if (st.st_dev, st.st_ino) == (id.dev, id.ino) => Ok(()),
        _ => Err(Error::new(format!(
            "the working directory {} changed while the sandbox was set up; nothing ran",
            dir.display()
        ))),
    }
}
